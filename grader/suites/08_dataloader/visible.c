/*
 * grader/suites/08_dataloader/visible.c: the visible checks of module 08 (dataloader).
 *
 * You can read this file: it is exactly what `tito` runs against your dataloader.c and
 * against the course's reference, on the same random inputs. The tensors are the
 * reference's (module 01).
 *
 * Everything here is compared exactly: orders are permutations, batches are copies,
 * augmentations move pixels. Randomness comes from a tt_rng the check seeds from the
 * grading seed, so your draws must follow tinytorch/dataloader.h to the letter; after
 * a call that draws, the check also records the generator's next output
 * (tt_rng_next_u32), which tells whether you drew too often or too rarely.
 *
 * Datasets are made so that a failure names the sample: row i of x holds
 * i + j/100 in feature j (a [N,2] x: row 7 is [7, 7.01]) and y[i] = i; a batch that
 * differs shows which sample came instead of which.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/dataloader.h"
#include "tinytorch/tensor.h"

/* seeded, record_order, record_next_u32, the datasets of id_inputs and id_targets
 * (fixture), record_epoch and loader_case, which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ shuffle */

static void case_shuffle_10(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    size_t order[10];
    probe_note(p, "tt_shuffle_indices(order, 10, rng): order = 0..9, then for i = 9 down to 1: "
                  "j = tt_rng_below(rng, i + 1), swap order[i] and order[j] (9 draws); then the "
                  "generator's next output");
    probe_tol_exact(p);
    probe_status(p, "status", tt_shuffle_indices(order, 10, &rng));
    record_order(p, "order", order, 10);
    record_next_u32(p, "rng_next_u32_after", &rng);
}

static void case_shuffle_small(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    size_t order[2] = {77, 77};
    probe_note(p, "tt_shuffle_indices with n = 0 (order may be NULL: nothing to do, no draw), "
                  "n = 1 (order [0], no draw), n = 2 (one draw: tt_rng_below(rng, 2)); the "
                  "generator's next output after each");
    probe_tol_exact(p);
    probe_status(p, "n0", tt_shuffle_indices(NULL, 0, &rng));
    record_next_u32(p, "n0.rng_next_u32_after", &rng);
    probe_status(p, "n1", tt_shuffle_indices(order, 1, &rng));
    probe_int(p, "n1.order[0]", (long)order[0]);
    record_next_u32(p, "n1.rng_next_u32_after", &rng);
    probe_status(p, "n2", tt_shuffle_indices(order, 2, &rng));
    record_order(p, "n2.order", order, 2);
    record_next_u32(p, "n2.rng_next_u32_after", &rng);
}

static void case_shuffle_overwrites(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    size_t order[12];
    for (size_t i = 0; i < 12; i++)
        order[i] = 1000 + i;
    probe_note(p, "tt_shuffle_indices(order, 12, rng) with order holding garbage (1000..1011): "
                  "it starts from 0..11 whatever order held, then shuffles; called twice in a "
                  "row, the second call starts from the identity again (not from the first "
                  "result)");
    probe_tol_exact(p);
    probe_status(p, "first", tt_shuffle_indices(order, 12, &rng));
    record_order(p, "first.order", order, 12);
    probe_status(p, "second", tt_shuffle_indices(order, 12, &rng));
    record_order(p, "second.order", order, 12);
    record_next_u32(p, "rng_next_u32_after", &rng);
}

static void case_shuffle_errors(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    size_t order[3] = {5, 5, 5};
    probe_note(p, "tt_shuffle_indices(NULL, 3, rng) and (order, 3, NULL): TT_ERR_INVALID_ARG, "
                  "no draw, order untouched");
    probe_tol_exact(p);
    probe_status(p, "order_null", tt_shuffle_indices(NULL, 3, &rng));
    probe_status(p, "rng_null", tt_shuffle_indices(order, 3, NULL));
    probe_int(p, "order_untouched", order[0] == 5 && order[1] == 5 && order[2] == 5);
    record_next_u32(p, "rng_next_u32_after", &rng);
}

/* ------------------------------------------------------------ dataset */

static void case_dataset_new(tito_probe *p)
{
    fixture f;
    probe_note(p, "tt_dataset_new(&ds, x [5,3], y [5]): length 5; x and y are contiguous, so the "
                  "dataset holds new references to them (same tensors: refcount 2), no copies");
    probe_tol_exact(p);
    probe_status(p, "status", fixture_make(p, &f, 5, 3));
    if (!f.ds)
        goto cleanup;
    probe_int(p, "length", (long)f.ds->length);
    probe_int(p, "ds.x_is_x", f.ds->x == f.x);
    probe_int(p, "ds.y_is_y", f.ds->y == f.y);
    probe_int(p, "x.refcount", f.x->refcount);
    probe_int(p, "y.refcount", f.y->refcount);
    tt_dataset_free(f.ds);
    f.ds = NULL;
    probe_int(p, "x.refcount_after_free", f.x->refcount);
cleanup:
    fixture_free(&f);
}

static void case_dataset_from_view(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(3, 5));
    tt_tensor *y = id_targets(p, 5);
    tt_tensor *x = NULL;
    tt_dataset *ds = NULL;
    probe_note(p, "x = transpose of a [3,5] tensor: a [5,3] view with strides [1,5]; "
                  "tt_dataset_new holds a contiguous copy of it, made now: ds->x is "
                  "contiguous with x's values, and filling the base with 0 afterwards does not "
                  "change it");
    probe_tol_exact(p);
    probe_status(p, "transpose", tt_tensor_transpose(&x, base, 0, 1));
    probe_status(p, "status", x ? tt_dataset_new(&ds, x, y) : TT_ERR_INVALID_ARG);
    if (!ds)
        goto cleanup;
    probe_int(p, "ds.x_is_contiguous", tt_tensor_is_contiguous(ds->x));
    tt_tensor_fill(base, 0.0f);
    probe_tensor(p, "ds.x_after_filling_the_base", ds->x);
    probe_int(p, "length", (long)ds->length);
cleanup:
    tt_dataset_free(ds);
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_tensor_free(base);
}

static void case_dataset_errors(tito_probe *p)
{
    tt_tensor *x = id_inputs(p, 2, TT_SHAPE(4, 2));
    tt_tensor *y3 = id_targets(p, 3);
    tt_tensor *s = probe_randn(p, 0, NULL);
    tt_dataset *ds = NULL;
    probe_note(p, "tt_dataset_new refuses NULL out, x or y (TT_ERR_INVALID_ARG), a 0-D x or y "
                  "(no sample dimension) and x [4,2] with y [3] (TT_ERR_SHAPE); ds stays NULL");
    probe_tol_exact(p);
    probe_status(p, "null_out", tt_dataset_new(NULL, x, y3));
    probe_status(p, "null_x", tt_dataset_new(&ds, NULL, y3));
    probe_status(p, "null_y", tt_dataset_new(&ds, x, NULL));
    probe_status(p, "scalar_x", tt_dataset_new(&ds, s, y3));
    probe_status(p, "scalar_y", tt_dataset_new(&ds, x, s));
    probe_status(p, "lengths_differ", tt_dataset_new(&ds, x, y3));
    probe_int(p, "ds_is_null", ds == NULL);
    probe_int(p, "x.refcount", x->refcount);
    tt_dataset_free(ds);
    tt_tensor_free(s);
    tt_tensor_free(y3);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ gather */

static void case_gather(tito_probe *p)
{
    fixture f;
    tt_tensor *bx = NULL, *by = NULL;
    const size_t idx[5] = {3, 0, 3, 5, 1};
    probe_note(p, "dataset x [6,3], y [6]; tt_dataset_gather(&bx, &by, ds, [3,0,3,5,1], 5): new "
                  "contiguous tensors bx [5,3] and by [5] holding those rows in that order "
                  "(repeats allowed)");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, 6, 3));
    if (!f.ds)
        goto cleanup;
    probe_status(p, "gather", tt_dataset_gather(&bx, &by, f.ds, idx, 5));
    probe_tensor(p, "bx", bx);
    probe_tensor(p, "by", by);
    probe_int(p, "bx_is_contiguous", tt_tensor_is_contiguous(bx));
    probe_int(p, "bx_has_its_own_storage", bx && bx->storage != f.x->storage);
cleanup:
    tt_tensor_free(by);
    tt_tensor_free(bx);
    fixture_free(&f);
}

static void case_gather_errors(tito_probe *p)
{
    fixture f;
    tt_tensor *bx = NULL, *by = NULL;
    const size_t idx[3] = {1, 5, 0};
    probe_note(p, "dataset of 5 samples; tt_dataset_gather with index 5 (TT_ERR_RANGE), count 0 "
                  "and NULL x, y, dataset or indices (TT_ERR_INVALID_ARG): bx and by stay NULL");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, 5, 2));
    if (!f.ds)
        goto cleanup;
    probe_status(p, "index_5_of_5", tt_dataset_gather(&bx, &by, f.ds, idx, 3));
    probe_int(p, "outputs_null", bx == NULL && by == NULL);
    probe_status(p, "count_0", tt_dataset_gather(&bx, &by, f.ds, idx, 0));
    probe_status(p, "null_x", tt_dataset_gather(NULL, &by, f.ds, idx, 1));
    probe_status(p, "null_y", tt_dataset_gather(&bx, NULL, f.ds, idx, 1));
    probe_status(p, "null_dataset", tt_dataset_gather(&bx, &by, NULL, idx, 1));
    probe_status(p, "null_indices", tt_dataset_gather(&bx, &by, f.ds, NULL, 1));
    probe_int(p, "outputs_still_null", bx == NULL && by == NULL);
cleanup:
    tt_tensor_free(by);
    tt_tensor_free(bx);
    fixture_free(&f);
}

/* ------------------------------------------------------------ loader */

static void case_loader_sequential(tito_probe *p)
{
    probe_note(p, "no shuffle (rng NULL), N 7, batch 3: num_batches 3; after start_epoch the "
                  "batches are samples [0,1,2], [3,4,5], [6] (a partial last batch), then "
                  "TT_OK with NULL x and y, also on the call after that");
    tt_dataloader_options o = {3, false, false};
    loader_case(p, 7, o, false, 1);
}

static void case_loader_shuffled(tito_probe *p)
{
    probe_note(p, "shuffle, N 10, batch 4: start_epoch shuffles 0..9 with tt_shuffle_indices "
                  "(9 draws); the batches are the samples order[0..3], order[4..7], "
                  "order[8..9]; tt_dataloader_next draws nothing (see the generator's next "
                  "output)");
    tt_dataloader_options o = {4, true, false};
    loader_case(p, 10, o, true, 1);
}

static void case_loader_drop_last(tito_probe *p)
{
    probe_note(p, "shuffle and drop_last, N 10, batch 4: num_batches 2; two full batches, then "
                  "NULL (the 2 remaining samples are skipped)");
    tt_dataloader_options o = {4, true, true};
    loader_case(p, 10, o, true, 1);
}

static void case_loader_exact_multiple(tito_probe *p)
{
    probe_note(p, "shuffle, N 8, batch 4 (divides N): num_batches 2; two batches, then NULL");
    tt_dataloader_options o = {4, true, false};
    loader_case(p, 8, o, true, 1);
}

static void case_loader_epochs(tito_probe *p)
{
    probe_note(p, "shuffle, N 6, batch 4, three epochs: each start_epoch starts again from "
                  "0..5 and shuffles (5 draws each), so every epoch has a new order; epoch "
                  "counts 3");
    tt_dataloader_options o = {4, true, false};
    loader_case(p, 6, o, true, 3);
}

static void case_loader_restart(tito_probe *p)
{
    fixture f;
    tt_rng rng;
    seeded(p, &rng);
    tt_dataloader *dl = NULL;
    tt_dataloader_options o = {2, true, false};
    probe_note(p, "shuffle, N 5, batch 2: start_epoch, one batch, then start_epoch again in the "
                  "middle of the epoch: a new order, the cursor back to 0, epoch 2; the whole "
                  "second epoch follows");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, 5, 2));
    if (!f.ds)
        goto cleanup;
    probe_status(p, "dataloader_new", tt_dataloader_new(&dl, f.ds, &o, &rng));
    if (!dl)
        goto cleanup;
    probe_int(p, "epoch_before_start", dl->epoch);
    probe_status(p, "start1", tt_dataloader_start_epoch(dl));
    tt_tensor *x = NULL, *y = NULL;
    probe_status(p, "first_batch", tt_dataloader_next(dl, &x, &y));
    probe_tensor(p, "first_batch.y", y);
    probe_int(p, "cursor_after_one_batch", (long)dl->cursor);
    tt_tensor_free(x);
    tt_tensor_free(y);
    probe_status(p, "start2", tt_dataloader_start_epoch(dl));
    probe_int(p, "cursor", (long)dl->cursor);
    probe_int(p, "epoch", dl->epoch);
    record_order(p, "order", dl->order, 5);
    record_epoch(p, dl, "epoch2");
    record_next_u32(p, "rng_next_u32_after", &rng);
cleanup:
    tt_dataloader_free(dl);
    fixture_free(&f);
}

static void case_loader_defaults(tito_probe *p)
{
    fixture f;
    tt_rng rng;
    seeded(p, &rng);
    tt_dataloader *dl = NULL;
    probe_note(p, "tt_dataloader_new(&dl, ds, NULL, rng): the defaults (batch 32, shuffle, keep "
                  "the last batch); N 40: num_batches 2, batches of 32 and 8 samples; nothing "
                  "is drawn before start_epoch");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, 40, 1));
    if (!f.ds)
        goto cleanup;
    tt_rng copy = rng;
    probe_status(p, "dataloader_new", tt_dataloader_new(&dl, f.ds, NULL, &rng));
    if (!dl)
        goto cleanup;
    probe_int(p, "new_draws_nothing", copy.state == rng.state);
    probe_int(p, "options.batch_size", (long)dl->options.batch_size);
    probe_int(p, "options.shuffle", dl->options.shuffle);
    probe_int(p, "options.drop_last", dl->options.drop_last);
    probe_int(p, "num_batches", (long)tt_dataloader_num_batches(dl));
    probe_status(p, "start", tt_dataloader_start_epoch(dl));
    record_epoch(p, dl, "epoch1");
    record_next_u32(p, "rng_next_u32_after", &rng);
cleanup:
    tt_dataloader_free(dl);
    fixture_free(&f);
}

static void case_loader_multi_feature(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *x = id_inputs(p, 3, TT_SHAPE(7, 2, 3));
    tt_tensor *y = id_inputs(p, 2, TT_SHAPE(7, 2));
    tt_dataset *ds = NULL;
    tt_dataloader *dl = NULL;
    tt_dataloader_options o = {3, true, false};
    probe_note(p, "samples with more than one feature dimension: x [7,2,3], y [7,2]; shuffle, "
                  "batch 3: batches x [3,2,3] y [3,2], then [3,...], then [1,...]");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", tt_dataset_new(&ds, x, y));
    if (!ds)
        goto cleanup;
    probe_status(p, "dataloader_new", tt_dataloader_new(&dl, ds, &o, &rng));
    if (!dl)
        goto cleanup;
    probe_status(p, "start", tt_dataloader_start_epoch(dl));
    record_epoch(p, dl, "epoch1");
cleanup:
    tt_dataloader_free(dl);
    tt_dataset_free(ds);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_loader_errors(tito_probe *p)
{
    fixture f;
    tt_rng rng;
    seeded(p, &rng);
    tt_dataloader *dl = NULL;
    probe_note(p, "tt_dataloader_new refuses (TT_ERR_INVALID_ARG, out NULL): NULL out or "
                  "dataset, batch_size 0, shuffle without rng, drop_last with batch 6 > N 5. "
                  "tt_dataloader_next before any start_epoch: TT_ERR_STATE with x, y NULL; NULL "
                  "arguments: TT_ERR_INVALID_ARG; tt_dataloader_start_epoch(NULL): "
                  "TT_ERR_INVALID_ARG; tt_dataloader_num_batches(NULL) is 0");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, 5, 2));
    if (!f.ds)
        goto cleanup;
    tt_dataloader_options batch0 = {0, false, false}, shuffle = {2, true, false},
                          big = {6, false, true}, ok = {2, false, false};
    probe_status(p, "null_out", tt_dataloader_new(NULL, f.ds, &ok, NULL));
    probe_status(p, "null_dataset", tt_dataloader_new(&dl, NULL, &ok, NULL));
    probe_status(p, "batch_0", tt_dataloader_new(&dl, f.ds, &batch0, &rng));
    probe_status(p, "shuffle_without_rng", tt_dataloader_new(&dl, f.ds, &shuffle, NULL));
    probe_status(p, "drop_last_no_batch", tt_dataloader_new(&dl, f.ds, &big, &rng));
    probe_int(p, "dl_is_null", dl == NULL);
    probe_status(p, "new", tt_dataloader_new(&dl, f.ds, &ok, NULL));
    if (!dl)
        goto cleanup;
    tt_tensor *x = NULL, *y = NULL;
    probe_status(p, "next_before_start", tt_dataloader_next(dl, &x, &y));
    probe_int(p, "next_before_start.null", x == NULL && y == NULL);
    probe_status(p, "next_null_loader", tt_dataloader_next(NULL, &x, &y));
    probe_status(p, "next_null_x", tt_dataloader_next(dl, NULL, &y));
    probe_status(p, "next_null_y", tt_dataloader_next(dl, &x, NULL));
    probe_status(p, "start_null", tt_dataloader_start_epoch(NULL));
    probe_int(p, "num_batches_null", (long)tt_dataloader_num_batches(NULL));
    tt_tensor_free(x);
    tt_tensor_free(y);
cleanup:
    tt_dataloader_free(dl);
    fixture_free(&f);
}

/* ------------------------------------------------------------ augmentation */

static void case_hflip(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 4, TT_SHAPE(5, 2, 3, 4));
    tt_tensor *copy = img ? probe_from_data(p, 4, TT_SHAPE(5, 2, 3, 4), img->storage->data) : NULL;
    tt_tensor *out = NULL;
    probe_note(p, "tt_random_hflip(&out, images [5,2,3,4] (N,C,H,W), 0.5, rng): for each image, "
                  "one u = tt_rng_uniform(rng); flipped left-right (w -> 3 - w, every channel) "
                  "when u < 0.5; out is a new tensor, images is untouched");
    probe_tol_exact(p);
    probe_status(p, "status", tt_random_hflip(&out, img, 0.5f, &rng));
    probe_tensor(p, "out", out);
    probe_tensor(p, "images_untouched", img);
    probe_tensor(p, "images_before", copy);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(out);
    tt_tensor_free(copy);
    tt_tensor_free(img);
}

static void case_hflip_p0_p1(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 3, TT_SHAPE(3, 2, 5));
    tt_tensor *out0 = NULL, *out1 = NULL;
    probe_note(p, "images [3,2,5] (N,H,W: one channel); p = 0 flips nothing and p = 1 flips "
                  "every image, but each still draws one number per image (3 draws each)");
    probe_tol_exact(p);
    probe_status(p, "p0", tt_random_hflip(&out0, img, 0.0f, &rng));
    probe_tensor(p, "p0.out", out0);
    record_next_u32(p, "p0.rng_next_u32_after", &rng);
    probe_status(p, "p1", tt_random_hflip(&out1, img, 1.0f, &rng));
    probe_tensor(p, "p1.out", out1);
    record_next_u32(p, "p1.rng_next_u32_after", &rng);
    tt_tensor_free(out1);
    tt_tensor_free(out0);
    tt_tensor_free(img);
}

static void case_crop(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 4, TT_SHAPE(4, 2, 5, 5));
    tt_tensor *out = NULL;
    probe_note(p, "tt_random_crop(&out, images [4,2,5,5], padding 2, rng): for each image dy = "
                  "tt_rng_below(rng, 5) then dx = tt_rng_below(rng, 5); out[n,c,i,j] = "
                  "images[n,c,i+dy-2,j+dx-2] inside the image, else 0");
    probe_tol_exact(p);
    probe_status(p, "status", tt_random_crop(&out, img, 2, &rng));
    probe_tensor(p, "out", out);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(out);
    tt_tensor_free(img);
}

static void case_crop_padding0(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 3, TT_SHAPE(3, 4, 4));
    tt_tensor *out = NULL;
    probe_note(p, "tt_random_crop(&out, images [3,4,4] (N,H,W), padding 0, rng): the identity "
                  "(a copy), still two draws per image (tt_rng_below(rng, 1), which is 0)");
    probe_tol_exact(p);
    probe_status(p, "status", tt_random_crop(&out, img, 0, &rng));
    probe_tensor(p, "out", out);
    probe_int(p, "out_is_a_new_tensor", out && out != img && out->storage != img->storage);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(out);
    tt_tensor_free(img);
}

static void case_augment_view(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *base = probe_randn(p, 4, TT_SHAPE(3, 1, 4, 7));
    tt_tensor *view = NULL, *flipped = NULL, *cropped = NULL;
    probe_note(p, "images = columns [1,6) of a [3,1,4,7] tensor: a [3,1,4,5] view (row stride "
                  "7, offset 1); tt_random_hflip(p 0.5) then tt_random_crop(padding 1) of the "
                  "same view from the same rng read it through its strides");
    probe_tol_exact(p);
    probe_status(p, "slice", tt_tensor_slice(&view, base, 3, 1, 6));
    probe_status(p, "hflip", tt_random_hflip(&flipped, view, 0.5f, &rng));
    probe_tensor(p, "flipped", flipped);
    probe_status(p, "crop", tt_random_crop(&cropped, view, 1, &rng));
    probe_tensor(p, "cropped", cropped);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(cropped);
    tt_tensor_free(flipped);
    tt_tensor_free(view);
    tt_tensor_free(base);
}

static void case_augment_errors(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 3, TT_SHAPE(2, 4, 4));
    tt_tensor *flat = probe_randn(p, 2, TT_SHAPE(4, 4));
    tt_tensor *out = NULL;
    probe_note(p, "tt_random_hflip refuses p -0.1, 1.5 and nan and NULL out, images or rng "
                  "(TT_ERR_INVALID_ARG), a 2-D [4,4] image (TT_ERR_SHAPE); tt_random_crop "
                  "refuses padding 4 on 4x4 images (TT_ERR_INVALID_ARG), NULLs, a 2-D image "
                  "(TT_ERR_SHAPE); out stays NULL");
    probe_tol_exact(p);
    probe_status(p, "hflip_p_negative", tt_random_hflip(&out, img, -0.1f, &rng));
    probe_status(p, "hflip_p_1.5", tt_random_hflip(&out, img, 1.5f, &rng));
    probe_status(p, "hflip_p_nan", tt_random_hflip(&out, img, NAN, &rng));
    probe_status(p, "hflip_null_out", tt_random_hflip(NULL, img, 0.5f, &rng));
    probe_status(p, "hflip_null_images", tt_random_hflip(&out, NULL, 0.5f, &rng));
    probe_status(p, "hflip_null_rng", tt_random_hflip(&out, img, 0.5f, NULL));
    probe_status(p, "hflip_2d", tt_random_hflip(&out, flat, 0.5f, &rng));
    probe_status(p, "crop_padding_4", tt_random_crop(&out, img, 4, &rng));
    probe_status(p, "crop_null_out", tt_random_crop(NULL, img, 1, &rng));
    probe_status(p, "crop_null_images", tt_random_crop(&out, NULL, 1, &rng));
    probe_status(p, "crop_null_rng", tt_random_crop(&out, img, 1, NULL));
    probe_status(p, "crop_2d", tt_random_crop(&out, flat, 1, &rng));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(flat);
    tt_tensor_free(img);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"shuffle.n10", "shuffle", 3, case_shuffle_10},
    {"shuffle.n0_n1_n2", "shuffle", 2, case_shuffle_small},
    {"shuffle.starts_from_identity", "shuffle", 2, case_shuffle_overwrites},
    {"shuffle.errors", "shuffle", 1, case_shuffle_errors},
    {"dataset.new", "dataset", 1, case_dataset_new},
    {"dataset.from_view", "dataset", 2, case_dataset_from_view},
    {"dataset.errors", "dataset", 1, case_dataset_errors},
    {"gather.rows", "dataset", 2, case_gather},
    {"gather.errors", "dataset", 1, case_gather_errors},
    {"loader.sequential_partial_last", "loader", 2, case_loader_sequential},
    {"loader.shuffled", "loader", 3, case_loader_shuffled},
    {"loader.drop_last", "loader", 2, case_loader_drop_last},
    {"loader.batch_divides_n", "loader", 1, case_loader_exact_multiple},
    {"loader.three_epochs", "loader", 2, case_loader_epochs},
    {"loader.restart_mid_epoch", "loader", 2, case_loader_restart},
    {"loader.defaults", "loader", 1, case_loader_defaults},
    {"loader.multi_feature", "loader", 1, case_loader_multi_feature},
    {"loader.errors", "loader", 2, case_loader_errors},
    {"hflip.nchw", "augmentation", 2, case_hflip},
    {"hflip.p0_p1", "augmentation", 2, case_hflip_p0_p1},
    {"crop.nchw", "augmentation", 2, case_crop},
    {"crop.padding0", "augmentation", 1, case_crop_padding0},
    {"augment.strided_view", "augmentation", 1, case_augment_view},
    {"augment.errors", "augmentation", 1, case_augment_errors},
};

TITO_PROBE_MAIN(cases)
