/*
 * Module 08: datasets, batching, seeded shuffling and image augmentation
 * (contract in tinytorch/dataloader.h).
 *
 * Invariants: a dataset's x and y are contiguous (made so once, at tt_dataset_new), so
 * a batch is a row-by-row memcpy; a loader's `order` is always a permutation of
 * 0..N-1; every random draw happens in the order the header documents, because the
 * grader compares batches exactly.
 */
#include "tinytorch/dataloader.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------------- dataset */

tt_status tt_dataset_new(tt_dataset **out, tt_tensor *x, tt_tensor *y)
{
    /* BEGIN SOLUTION */
    tt_status st = TT_OK;
    tt_dataset *ds = NULL;
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataset_new: out is NULL");
    *out = NULL;
    if (!x || !y)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataset_new: %s is NULL", x ? "y" : "x");
    if (x->ndim < 1 || y->ndim < 1)
        return tt_error_set(TT_ERR_SHAPE,
                            "tt_dataset_new: %s is a scalar; x and y need a first dimension "
                            "that counts samples",
                            x->ndim < 1 ? "x" : "y");
    if (x->shape[0] != y->shape[0])
        return tt_error_set(TT_ERR_SHAPE,
                            "tt_dataset_new: x has %zu samples but y has %zu (the first "
                            "dimensions must be equal)",
                            x->shape[0], y->shape[0]);
    ds = tt_calloc(1, sizeof *ds);
    if (!ds)
        return TT_ERR_NOMEM;
    /* Contiguous once here, so every batch is a plain row copy. */
    TT_CHECK(tt_tensor_contiguous(&ds->x, x));
    TT_CHECK(tt_tensor_contiguous(&ds->y, y));
    ds->length = x->shape[0];
    *out = ds;
    return TT_OK;

cleanup:
    tt_dataset_free(ds);
    return st;
    /* END SOLUTION */
}

void tt_dataset_free(tt_dataset *dataset)
{
    if (!dataset)
        return;
    tt_tensor_free(dataset->x);
    tt_tensor_free(dataset->y);
    tt_free(dataset);
}

/* BEGIN SOLUTION: */
/* A new tensor [count, ...] of the rows indices[] of the contiguous tensor t. */
static tt_status gather_rows(tt_tensor **out, const tt_tensor *t, const size_t *indices,
                             size_t count)
{
    size_t shape[TT_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[0] = count;
    size_t row = tt_tensor_numel(t) / t->shape[0];
    tt_tensor *batch = NULL;
    tt_status st = tt_tensor_zeros(&batch, t->ndim, shape);
    if (st != TT_OK)
        return st;
    const float *src = tt_tensor_data(t);
    float *dst = tt_tensor_data(batch);
    for (size_t i = 0; i < count; i++)
        memcpy(dst + i * row, src + indices[i] * row, row * sizeof *dst);
    *out = batch;
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_dataset_gather(tt_tensor **x, tt_tensor **y, const tt_dataset *dataset,
                            const size_t *indices, size_t count)
{
    /* BEGIN SOLUTION */
    tt_status st = TT_OK;
    tt_tensor *bx = NULL, *by = NULL;
    if (!x || !y)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataset_gather: %s is NULL", x ? "y" : "x");
    *x = NULL;
    *y = NULL;
    if (!dataset || !indices)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataset_gather: %s is NULL",
                            dataset ? "indices" : "dataset");
    if (count == 0)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_dataset_gather: count is 0 (a batch needs at least one sample)");
    for (size_t i = 0; i < count; i++) {
        if (indices[i] >= dataset->length)
            return tt_error_set(TT_ERR_RANGE,
                                "tt_dataset_gather: indices[%zu] = %zu is outside the dataset "
                                "(%zu samples: 0..%zu)",
                                i, indices[i], dataset->length, dataset->length - 1);
    }
    TT_CHECK(gather_rows(&bx, dataset->x, indices, count));
    TT_CHECK(gather_rows(&by, dataset->y, indices, count));
    *x = bx;
    *y = by;
    return TT_OK;

cleanup:
    tt_tensor_free(bx);
    tt_tensor_free(by);
    return st;
    /* END SOLUTION */
}

/* ---------------------------------------------------------------------- shuffle */

tt_status tt_shuffle_indices(size_t *order, size_t n, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (n == 0)
        return TT_OK;
    if (!order || !rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_shuffle_indices: %s is NULL",
                            order ? "rng" : "order");
    if (n > UINT32_MAX)
        return tt_error_set(TT_ERR_RANGE,
                            "tt_shuffle_indices: %zu items, at most %lu can be shuffled "
                            "(tt_rng_below takes 32-bit bounds)",
                            n, (unsigned long)UINT32_MAX);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* From the back, so position i is final once drawn: each of the n! orders has
     * probability 1/n!. */
    for (size_t i = n - 1; i >= 1; i--) {
        size_t j = tt_rng_below(rng, (uint32_t)(i + 1));
        size_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    return TT_OK;
    /* END SOLUTION */
}

/* ------------------------------------------------------------------- dataloader */

tt_status tt_dataloader_new(tt_dataloader **out, const tt_dataset *dataset,
                            const tt_dataloader_options *options, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    static const tt_dataloader_options defaults = TT_DATALOADER_OPTIONS_INIT;
    tt_dataloader *dl = NULL;
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataloader_new: out is NULL");
    *out = NULL;
    if (!dataset)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataloader_new: dataset is NULL");
    const tt_dataloader_options *opt = options ? options : &defaults;
    if (opt->batch_size == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataloader_new: batch_size is 0 (expected >= 1)");
    if (opt->shuffle && !rng)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_dataloader_new: shuffle needs an rng (rng is NULL)");
    if (opt->drop_last && opt->batch_size > dataset->length)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_dataloader_new: drop_last with batch_size %zu and only %zu "
                            "samples would give no batch at all",
                            opt->batch_size, dataset->length);
    if (dataset->length > UINT32_MAX)
        return tt_error_set(TT_ERR_RANGE,
                            "tt_dataloader_new: %zu samples, at most %lu can be shuffled",
                            dataset->length, (unsigned long)UINT32_MAX);
    dl = tt_calloc(1, sizeof *dl);
    if (!dl)
        return TT_ERR_NOMEM;
    dl->order = tt_calloc(dataset->length, sizeof *dl->order);
    if (!dl->order) {
        tt_free(dl);
        return TT_ERR_NOMEM;
    }
    dl->dataset = dataset;
    dl->options = *opt;
    dl->rng = rng;
    dl->cursor = 0;
    dl->epoch = 0;
    *out = dl;
    return TT_OK;
    /* END SOLUTION */
}

size_t tt_dataloader_num_batches(const tt_dataloader *loader)
{
    /* BEGIN SOLUTION: return 0; */
    if (!loader)
        return 0;
    size_t n = loader->dataset->length, b = loader->options.batch_size;
    return loader->options.drop_last ? n / b : (n + b - 1) / b;
    /* END SOLUTION */
}

tt_status tt_dataloader_start_epoch(tt_dataloader *loader)
{
    /* BEGIN SOLUTION */
    if (!loader)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataloader_start_epoch: loader is NULL");
    size_t n = loader->dataset->length;
    if (loader->options.shuffle) {
        tt_status st = tt_shuffle_indices(loader->order, n, loader->rng);
        if (st != TT_OK)
            return st;
    } else {
        for (size_t i = 0; i < n; i++)
            loader->order[i] = i;
    }
    loader->cursor = 0;
    loader->epoch++;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_dataloader_next(tt_dataloader *loader, tt_tensor **x, tt_tensor **y)
{
    /* BEGIN SOLUTION */
    if (!x || !y)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataloader_next: %s is NULL", x ? "y" : "x");
    *x = NULL;
    *y = NULL;
    if (!loader)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dataloader_next: loader is NULL");
    if (loader->epoch == 0)
        return tt_error_set(TT_ERR_STATE, "tt_dataloader_next: no epoch started (call "
                                          "tt_dataloader_start_epoch first)");
    size_t n = loader->dataset->length, b = loader->options.batch_size;
    size_t left = n - loader->cursor;
    if (left == 0 || (loader->options.drop_last && left < b))
        return TT_OK;
    size_t count = left < b ? left : b;
    tt_status st = tt_dataset_gather(x, y, loader->dataset, loader->order + loader->cursor, count);
    if (st != TT_OK)
        return st;
    loader->cursor += count;
    return TT_OK;
    /* END SOLUTION */
}

void tt_dataloader_free(tt_dataloader *loader)
{
    if (!loader)
        return;
    tt_free(loader->order);
    tt_free(loader);
}

/* ----------------------------------------------------------------- augmentation */

/* BEGIN SOLUTION: */
/* Reads [N,C,H,W] or [N,H,W] (C = 1) as four sizes. */
static tt_status image_dims(const char *fn, const tt_tensor *t, size_t dims[4])
{
    if (t->ndim == 4) {
        memcpy(dims, t->shape, 4 * sizeof *dims);
        return TT_OK;
    }
    if (t->ndim == 3) {
        dims[0] = t->shape[0];
        dims[1] = 1;
        dims[2] = t->shape[1];
        dims[3] = t->shape[2];
        return TT_OK;
    }
    return tt_error_set(TT_ERR_SHAPE,
                        "%s: images have %d dimension(s), expected 4 [N,C,H,W] or 3 [N,H,W]",
                        fn, t->ndim);
}
/* END SOLUTION */

tt_status tt_random_hflip(tt_tensor **out, tt_tensor *images, float p, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    tt_status st = TT_OK;
    tt_tensor *src = NULL, *dst = NULL;
    size_t dims[4] = {0};
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_random_hflip: out is NULL");
    *out = NULL;
    if (!images || !rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_random_hflip: %s is NULL",
                            images ? "rng" : "images");
    if (!(p >= 0.0f && p <= 1.0f))
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_random_hflip: p = %g, expected a probability in [0, 1]", (double)p);
    TT_CHECK(image_dims("tt_random_hflip", images, dims));
    TT_CHECK(tt_tensor_contiguous(&src, images));
    TT_CHECK(tt_tensor_zeros(&dst, images->ndim, images->shape));
    size_t plane = dims[2] * dims[3], w = dims[3];
    size_t per_image = dims[1] * plane;
    const float *in = tt_tensor_data(src);
    float *o = tt_tensor_data(dst);
    for (size_t n = 0; n < dims[0]; n++) {
        bool flip = tt_rng_uniform(rng) < p;
        const float *a = in + n * per_image;
        float *b = o + n * per_image;
        for (size_t row = 0; row < dims[1] * dims[2]; row++) {
            for (size_t col = 0; col < w; col++)
                b[row * w + col] = a[row * w + (flip ? w - 1 - col : col)];
        }
    }
    tt_tensor_free(src);
    *out = dst;
    return TT_OK;

cleanup:
    tt_tensor_free(src);
    tt_tensor_free(dst);
    return st;
    /* END SOLUTION */
}

tt_status tt_random_crop(tt_tensor **out, tt_tensor *images, size_t padding, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    tt_status st = TT_OK;
    tt_tensor *src = NULL, *dst = NULL;
    size_t dims[4] = {0};
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_random_crop: out is NULL");
    *out = NULL;
    if (!images || !rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_random_crop: %s is NULL",
                            images ? "rng" : "images");
    TT_CHECK(image_dims("tt_random_crop", images, dims));
    size_t h = dims[2], w = dims[3];
    if (padding >= h || padding >= w)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_random_crop: padding %zu must be smaller than the image "
                            "(%zu x %zu), or a crop could miss it entirely",
                            padding, h, w);
    TT_CHECK(tt_tensor_contiguous(&src, images));
    TT_CHECK(tt_tensor_zeros(&dst, images->ndim, images->shape));
    const float *in = tt_tensor_data(src);
    float *o = tt_tensor_data(dst);
    uint32_t choices = (uint32_t)(2 * padding + 1);
    for (size_t n = 0; n < dims[0]; n++) {
        /* Shifts in [-padding, padding], kept as offsets into the padded frame so the
         * arithmetic stays unsigned. */
        size_t dy = tt_rng_below(rng, choices);
        size_t dx = tt_rng_below(rng, choices);
        for (size_t c = 0; c < dims[1]; c++) {
            const float *a = in + (n * dims[1] + c) * h * w;
            float *b = o + (n * dims[1] + c) * h * w;
            for (size_t i = 0; i < h; i++) {
                size_t si = i + dy; /* row in the padded frame */
                if (si < padding || si - padding >= h)
                    continue; /* stays zero */
                for (size_t j = 0; j < w; j++) {
                    size_t sj = j + dx;
                    if (sj >= padding && sj - padding < w)
                        b[i * w + j] = a[(si - padding) * w + (sj - padding)];
                }
            }
        }
    }
    tt_tensor_free(src);
    *out = dst;
    return TT_OK;

cleanup:
    tt_tensor_free(src);
    tt_tensor_free(dst);
    return st;
    /* END SOLUTION */
}
