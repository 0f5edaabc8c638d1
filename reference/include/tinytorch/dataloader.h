/*
 * tinytorch/dataloader.h: module 08, feeding data to a model.
 *
 * A dataset pairs two tensors whose first dimension counts samples: inputs x [N, ...]
 * and targets y [N, ...] (for classification y is [N], class indices as floats). A
 * dataloader walks a dataset in batches: each epoch it fixes an order of the N samples
 * (0, 1, ..., N-1, or a seeded shuffle of it) and hands out the samples in that order,
 * batch_size at a time, as new tensors [B, ...]. The last batch of an epoch is smaller
 * when batch_size does not divide N, unless drop_last discards it.
 *
 * Everything random is drawn from a tt_rng the caller owns, in the order documented
 * below, so the same seed gives the same batches on every machine, and the grader can
 * compare a student's batches with the reference's exactly.
 *
 * Shuffling (tt_shuffle_indices): order[i] = i for every i, then the Fisher-Yates
 * shuffle from the back:
 *     for i = n-1 down to 1:  j = tt_rng_below(rng, i + 1);  swap order[i] and order[j]
 * That is exactly n-1 calls of tt_rng_below (none when n <= 1).
 *
 * Augmentation works on image batches [N, C, H, W] or [N, H, W] (one channel), and
 * leaves the input untouched: the result is a new contiguous tensor of the same shape.
 * A transformation applies to all channels of an image alike. Data preparation happens
 * before the model, so these are never recorded by autograd.
 *
 * Typical use:
 *     tt_dataset *ds;  tt_dataloader *dl;
 *     tt_dataloader_options opt = TT_DATALOADER_OPTIONS_INIT;   // 32, shuffle
 *     TT_CHECK(tt_dataset_new(&ds, x, y));
 *     TT_CHECK(tt_dataloader_new(&dl, ds, &opt, &rng));
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         TT_CHECK(tt_dataloader_start_epoch(dl));
 *         for (;;) {
 *             tt_tensor *xb, *yb;
 *             TT_CHECK(tt_dataloader_next(dl, &xb, &yb));
 *             if (!xb) break;                  // end of the epoch
 *             ... train on xb, yb ...
 *             tt_tensor_free(xb); tt_tensor_free(yb);
 *         }
 *     }
 *
 * Ownership and errors follow tinytorch/tensor.h: inputs are borrowed, results are new
 * and the caller's, on failure every out-parameter is NULL and nothing leaks.
 */
#ifndef TINYTORCH_DATALOADER_H
#define TINYTORCH_DATALOADER_H

#include "tinytorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- dataset */

typedef struct tt_dataset {
    tt_tensor *x;  /* contiguous; [N, ...] */
    tt_tensor *y;  /* contiguous; [N, ...] */
    size_t length; /* N */
} tt_dataset;

/* A dataset of the pairs (x[i], y[i]). Holds x and y as tt_tensor_contiguous gives
 * them: a new reference to a contiguous tensor, or a contiguous copy of a strided view
 * made now (later writes through that view are then not seen). The caller keeps its
 * own references. Errors: TT_ERR_INVALID_ARG (a NULL argument), TT_ERR_SHAPE (x or y
 * has no dimension, or their first dimensions differ), TT_ERR_NOMEM. */
tt_status tt_dataset_new(tt_dataset **out, tt_tensor *x, tt_tensor *y);

/* Release the dataset's references to x and y. NULL does nothing. */
void tt_dataset_free(tt_dataset *dataset);

/* Copy the samples indices[0], ..., indices[count-1] (repeats allowed) into new
 * contiguous tensors *x [count, ...] and *y [count, ...], in that order.
 * Errors: TT_ERR_INVALID_ARG (a NULL argument, count 0), TT_ERR_RANGE (an index
 * >= N; the message names it), TT_ERR_NOMEM. */
tt_status tt_dataset_gather(tt_tensor **x, tt_tensor **y, const tt_dataset *dataset,
                            const size_t *indices, size_t count);

/* ---------------------------------------------------------------------- shuffle */

/* Fill order[0..n) with 0..n-1, then shuffle it with the Fisher-Yates algorithm as
 * documented at the top of this file. Errors: TT_ERR_INVALID_ARG (order or rng NULL
 * while n > 0), TT_ERR_RANGE (n > UINT32_MAX: tt_rng_below takes 32-bit bounds). */
tt_status tt_shuffle_indices(size_t *order, size_t n, tt_rng *rng);

/* ------------------------------------------------------------------- dataloader */

typedef struct tt_dataloader_options {
    size_t batch_size; /* samples per batch, >= 1 */
    bool shuffle;      /* a new seeded order each epoch (else 0, 1, ..., N-1) */
    bool drop_last;    /* skip the last batch when it has fewer than batch_size samples */
} tt_dataloader_options;

/* Defaults: batch_size 32, shuffle, keep the partial last batch. */
#define TT_DATALOADER_OPTIONS_INIT {32, true, false}

typedef struct tt_dataloader {
    const tt_dataset *dataset;     /* borrowed: must outlive the loader */
    tt_dataloader_options options;
    tt_rng *rng;                   /* borrowed; may be NULL when not shuffling */
    size_t *order;                 /* [dataset->length]: this epoch's order of samples */
    size_t cursor;                 /* position in `order` of the next batch's first sample */
    long epoch;                    /* epochs started; 0 until the first start_epoch */
} tt_dataloader;

/* A loader over `dataset` (borrowed) with `options` (NULL: TT_DATALOADER_OPTIONS_INIT)
 * drawing shuffles from `rng` (borrowed; may be NULL when options->shuffle is false).
 * No epoch is started and nothing is drawn yet. Errors: TT_ERR_INVALID_ARG (out or
 * dataset NULL; batch_size 0; shuffle without rng; drop_last with batch_size larger
 * than the dataset, which would give no batch at all), TT_ERR_RANGE (more than
 * UINT32_MAX samples), TT_ERR_NOMEM. */
tt_status tt_dataloader_new(tt_dataloader **out, const tt_dataset *dataset,
                            const tt_dataloader_options *options, tt_rng *rng);

/* Batches per epoch: ceil(N / batch_size), or floor(N / batch_size) with drop_last.
 * 0 for a NULL loader. */
size_t tt_dataloader_num_batches(const tt_dataloader *loader);

/* Begin an epoch (the first, or the next one, also in the middle of an epoch):
 * reset `order` to 0..N-1 and, when shuffling, shuffle it with tt_shuffle_indices on
 * the loader's rng (N-1 draws), so each epoch gets a new order; rewind the cursor and
 * count the epoch. Errors: TT_ERR_INVALID_ARG (NULL). */
tt_status tt_dataloader_start_epoch(tt_dataloader *loader);

/* The next batch of the current epoch: the samples order[cursor], ...,
 * order[cursor+B-1] gathered by tt_dataset_gather into new tensors *x [B, ...] and
 * *y [B, ...], B = batch_size (fewer for the last batch), and the cursor moves on.
 * When the epoch has no batch left (or only a partial one while drop_last), *x and
 * *y are NULL and the status is TT_OK; calling again keeps giving NULL until the next
 * tt_dataloader_start_epoch. Draws nothing from the rng.
 * Errors: TT_ERR_INVALID_ARG (a NULL argument), TT_ERR_STATE (no epoch started yet),
 * TT_ERR_NOMEM. */
tt_status tt_dataloader_next(tt_dataloader *loader, tt_tensor **x, tt_tensor **y);

/* Free the loader and its order (not the dataset, not the rng). NULL does nothing. */
void tt_dataloader_free(tt_dataloader *loader);

/* ----------------------------------------------------------------- augmentation */

/* Mirror images left to right, each with probability p. For each image n = 0, 1, ...,
 * N-1 in turn, draw u = tt_rng_uniform(rng) (exactly one draw per image, whatever p);
 * image n is flipped when u < p: out[n, c, h, w] = images[n, c, h, W-1-w].
 * Errors: TT_ERR_INVALID_ARG (a NULL argument, p outside [0, 1] or nan),
 * TT_ERR_SHAPE (images not 3-D [N,H,W] or 4-D [N,C,H,W]), TT_ERR_NOMEM. */
tt_status tt_random_hflip(tt_tensor **out, tt_tensor *images, float p, tt_rng *rng);

/* Shift each image by a random offset, filling with zeros: as if the image were padded
 * with `padding` zeros on every side and an H x W window cut out of it at a random
 * place. For each image n = 0, 1, ..., N-1 in turn, draw
 *     dy = tt_rng_below(rng, 2*padding + 1), then dx = tt_rng_below(rng, 2*padding + 1)
 * (two draws per image, also when padding is 0); then
 *     out[n, c, i, j] = images[n, c, i + dy - padding, j + dx - padding]
 * where that index lies inside the image, else 0. dy = dx = padding leaves the image
 * as it was. Errors: TT_ERR_INVALID_ARG (a NULL argument; padding >= H or >= W, which
 * could leave no pixel of the image), TT_ERR_SHAPE (not 3-D or 4-D), TT_ERR_NOMEM. */
tt_status tt_random_crop(tt_tensor **out, tt_tensor *images, size_t padding, tt_rng *rng);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_DATALOADER_H */
