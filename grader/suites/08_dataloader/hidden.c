/*
 * grader/suites/08_dataloader/hidden.c: the hidden checks of module 08 (dataloader).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. Same contract as visible.c from other angles: a long
 * shuffle, datasets given as strided and offset views, batch sizes of 1 and larger
 * than the dataset, drop_last corner cases, many epochs, flips of one-pixel-wide
 * images, the largest crop padding, a flip and a crop drawing from one generator,
 * 4-D gathers, and every allocation of a dataset, a gather, a batch and an
 * augmentation failing in turn (a failed batch must come again on the next call).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/dataloader.h"
#include "tinytorch/tensor.h"

#include "helpers.h"

/* ------------------------------------------------------------ shuffle */

static void case_shuffle_long(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    size_t n = probe_small(p) ? 60 : 1500;
    size_t order[1500];
    probe_note(p, "tt_shuffle_indices(order, %zu, rng): the order and the generator's next "
                  "output (%zu draws)", n, n - 1);
    probe_tol_exact(p);
    probe_status(p, "status", tt_shuffle_indices(order, n, &rng));
    record_order(p, "order", order, n);
    record_next_u32(p, "rng_next_u32_after", &rng);
}

static void case_shuffle_two_repeatedly(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    size_t order[2];
    float firsts[16];
    probe_note(p, "16 calls of tt_shuffle_indices(order, 2, rng): each draws tt_rng_below(rng, "
                  "2) once; the 16 values of order[0]");
    probe_tol_exact(p);
    tt_status st = TT_OK;
    for (int k = 0; k < 16; k++) {
        tt_status s = tt_shuffle_indices(order, 2, &rng);
        if (st == TT_OK)
            st = s;
        firsts[k] = s == TT_OK ? (float)order[0] : -1.0f;
    }
    probe_status(p, "status", st);
    tt_tensor *t = probe_from_data(p, 1, TT_SHAPE(16), firsts);
    probe_tensor(p, "order[0]s", t);
    tt_tensor_free(t);
    record_next_u32(p, "rng_next_u32_after", &rng);
}

/* ------------------------------------------------------------ datasets from views */

static void case_loader_from_views(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *xbase = id_inputs(p, 2, TT_SHAPE(9, 5));
    tt_tensor *ybase = id_targets(p, 11);
    tt_tensor *x = NULL, *y = NULL;
    tt_dataset *ds = NULL;
    tt_dataloader *dl = NULL;
    tt_dataloader_options o = {4, true, false};
    probe_note(p, "x = columns [1,4) of a [9,5] tensor (strides [5,1]: not contiguous), y = "
                  "elements [2,11) of a [11] tensor (an offset view); shuffle, batch 4: the "
                  "batches hold the views' values");
    probe_tol_exact(p);
    probe_status(p, "slice_x", tt_tensor_slice(&x, xbase, 1, 1, 4));
    probe_status(p, "slice_y", tt_tensor_slice(&y, ybase, 0, 2, 11));
    probe_status(p, "dataset_new", x && y ? tt_dataset_new(&ds, x, y) : TT_ERR_INVALID_ARG);
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
    tt_tensor_free(ybase);
    tt_tensor_free(xbase);
}

/* ------------------------------------------------------------ batch sizes */

static void case_batch_larger_than_n(tito_probe *p)
{
    probe_note(p, "shuffle, N 5, batch 8 (larger than N, no drop_last): one batch of all 5 "
                  "samples in the shuffled order; num_batches 1; two epochs");
    tt_dataloader_options o = {8, true, false};
    loader_case(p, 5, o, true, 2);
}

static void case_batch_one(tito_probe *p)
{
    probe_note(p, "shuffle, N 6, batch 1: six batches of one sample, in the shuffled order");
    tt_dataloader_options o = {1, true, false};
    loader_case(p, 6, o, true, 1);
}

static void case_drop_last_corners(tito_probe *p)
{
    probe_note(p, "drop_last without shuffle: N 8, batch 4 (divides: 2 batches, nothing "
                  "dropped); then N 5, batch 5 (exactly one batch)");
    tt_dataloader_options o = {4, false, true};
    loader_case(p, 8, o, false, 1);
    tt_dataloader_options o2 = {5, false, true};
    loader_case(p, 5, o2, false, 1);
}

static void case_many_epochs(tito_probe *p)
{
    probe_note(p, "shuffle and drop_last, N 7, batch 3, five epochs: 2 batches each, a fresh "
                  "order each epoch (6 draws per epoch)");
    tt_dataloader_options o = {3, true, true};
    loader_case(p, 7, o, true, 5);
}

static void case_sequential_epochs(tito_probe *p)
{
    probe_note(p, "no shuffle, with an rng given anyway: N 5, batch 2, two epochs, each 0..4; "
                  "the rng is never used");
    tt_dataloader_options o = {2, false, false};
    loader_case(p, 5, o, true, 2);
}

/* ------------------------------------------------------------ gather */

static void case_gather_4d(tito_probe *p)
{
    tt_tensor *x = id_inputs(p, 4, TT_SHAPE(5, 2, 2, 3));
    tt_tensor *y = id_inputs(p, 3, TT_SHAPE(5, 1, 2));
    tt_dataset *ds = NULL;
    tt_tensor *bx = NULL, *by = NULL;
    const size_t idx[6] = {4, 3, 2, 1, 0, 4};
    probe_note(p, "x [5,2,2,3], y [5,1,2]; tt_dataset_gather with indices [4,3,2,1,0,4] (6 rows, "
                  "one repeated): bx [6,2,2,3], by [6,1,2]");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", tt_dataset_new(&ds, x, y));
    if (!ds)
        goto cleanup;
    probe_status(p, "gather", tt_dataset_gather(&bx, &by, ds, idx, 6));
    probe_tensor(p, "bx", bx);
    probe_tensor(p, "by", by);
cleanup:
    tt_tensor_free(by);
    tt_tensor_free(bx);
    tt_dataset_free(ds);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ augmentation */

static void case_hflip_width_one_and_odd(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *one = probe_randn(p, 4, TT_SHAPE(3, 2, 3, 1));
    tt_tensor *odd = probe_randn(p, 3, TT_SHAPE(4, 2, 7));
    tt_tensor *o1 = NULL, *o2 = NULL;
    probe_note(p, "tt_random_hflip(p 0.7) of images [3,2,3,1] (width 1: a flip changes nothing, "
                  "but each image still draws) and of [4,2,7] (odd width: the middle column "
                  "stays)");
    probe_tol_exact(p);
    probe_status(p, "width_one", tt_random_hflip(&o1, one, 0.7f, &rng));
    probe_tensor(p, "width_one.out", o1);
    probe_status(p, "odd_width", tt_random_hflip(&o2, odd, 0.7f, &rng));
    probe_tensor(p, "odd_width.out", o2);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(o2);
    tt_tensor_free(o1);
    tt_tensor_free(odd);
    tt_tensor_free(one);
}

static void case_crop_largest_padding(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 4, TT_SHAPE(6, 3, 4, 5));
    tt_tensor *out = NULL;
    probe_note(p, "tt_random_crop(images [6,3,4,5], padding 3 (the largest below H = 4), rng): "
                  "dy, dx = tt_rng_below(rng, 7) each; many pixels come from the zero border; "
                  "all 3 channels shift alike");
    probe_tol_exact(p);
    probe_status(p, "status", tt_random_crop(&out, img, 3, &rng));
    probe_tensor(p, "out", out);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(out);
    tt_tensor_free(img);
}

static void case_flip_then_crop(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 3, TT_SHAPE(5, 6, 6));
    tt_tensor *f = NULL, *c = NULL;
    probe_note(p, "a training pipeline: tt_random_hflip(images [5,6,6], 0.5, rng) then "
                  "tt_random_crop(of the flipped, padding 2, rng) from the same generator (5 "
                  "draws, then 10)");
    probe_tol_exact(p);
    probe_status(p, "hflip", tt_random_hflip(&f, img, 0.5f, &rng));
    probe_status(p, "crop", f ? tt_random_crop(&c, f, 2, &rng) : TT_ERR_INVALID_ARG);
    probe_tensor(p, "out", c);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(c);
    tt_tensor_free(f);
    tt_tensor_free(img);
}

static void case_crop_transposed_view(tito_probe *p)
{
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *base = probe_randn(p, 3, TT_SHAPE(2, 5, 4));
    tt_tensor *view = NULL, *out = NULL;
    probe_note(p, "images = transpose(dims 1, 2) of a [2,5,4] tensor: [2,4,5] with strides "
                  "[20,1,4]; tt_random_crop(padding 1) reads it through its strides");
    probe_tol_exact(p);
    probe_status(p, "transpose", tt_tensor_transpose(&view, base, 1, 2));
    probe_status(p, "crop", view ? tt_random_crop(&out, view, 1, &rng) : TT_ERR_INVALID_ARG);
    probe_tensor(p, "out", out);
    record_next_u32(p, "rng_next_u32_after", &rng);
    tt_tensor_free(out);
    tt_tensor_free(view);
    tt_tensor_free(base);
}

/* ------------------------------------------------------------ allocation failures */

static void case_alloc_dataset_gather(tito_probe *p)
{
    tt_tensor *base = id_inputs(p, 2, TT_SHAPE(3, 6));
    tt_tensor *y = id_targets(p, 6);
    tt_tensor *x = NULL;
    const size_t idx[4] = {5, 0, 2, 2};
    probe_note(p, "tt_dataset_new(x = a transposed [6,3] view, y [6]) and then "
                  "tt_dataset_gather(4 rows) with allocation n failing, n = 0, 1, ...: every "
                  "failure is TT_ERR_NOMEM with NULL outputs and nothing leaked; then each "
                  "succeeds");
    probe_tol_exact(p);
    probe_status(p, "transpose", tt_tensor_transpose(&x, base, 0, 1));
    if (!x)
        goto cleanup;
    tt_dataset *ds = NULL;
    int nomem = 1, null_out = 1, no_leak = 1, done = 0;
    long failures = 0;
    for (long n = 0; n < 100 && !done; n++) {
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_dataset_new(&ds, x, y);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            done = 1;
            break;
        }
        failures++;
        nomem &= st == TT_ERR_NOMEM;
        null_out &= ds == NULL;
        no_leak &= tt_alloc_live() == live;
    }
    probe_int(p, "dataset.finally_succeeded", done);
    probe_int(p, "dataset.some_allocation_failed", failures > 0);
    probe_int(p, "dataset.every_failure_is_TT_ERR_NOMEM", nomem);
    probe_int(p, "dataset.out_null_after_every_failure", null_out);
    probe_int(p, "dataset.nothing_leaked", no_leak);
    if (!ds)
        goto cleanup;
    nomem = 1, null_out = 1, no_leak = 1, done = 0;
    failures = 0;
    tt_tensor *bx = NULL, *by = NULL;
    for (long n = 0; n < 100 && !done; n++) {
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_dataset_gather(&bx, &by, ds, idx, 4);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            done = 1;
            break;
        }
        failures++;
        nomem &= st == TT_ERR_NOMEM;
        null_out &= bx == NULL && by == NULL;
        no_leak &= tt_alloc_live() == live;
    }
    probe_int(p, "gather.finally_succeeded", done);
    probe_int(p, "gather.some_allocation_failed", failures > 0);
    probe_int(p, "gather.every_failure_is_TT_ERR_NOMEM", nomem);
    probe_int(p, "gather.out_null_after_every_failure", null_out);
    probe_int(p, "gather.nothing_leaked", no_leak);
    probe_tensor(p, "bx", bx);
    probe_tensor(p, "by", by);
    tt_tensor_free(bx);
    tt_tensor_free(by);
    tt_dataset_free(ds);
cleanup:
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_tensor_free(base);
}

static void case_alloc_next(tito_probe *p)
{
    fixture f;
    tt_rng rng;
    seeded(p, &rng);
    tt_dataloader *dl = NULL;
    tt_dataloader_options o = {3, true, false};
    probe_note(p, "shuffle, N 7, batch 3: for every batch, tt_dataloader_next with allocation n "
                  "failing (n = 0, 1, ...) until it succeeds: each failure is TT_ERR_NOMEM with "
                  "NULL outputs and does not move the cursor, so the batch that finally comes "
                  "is the one that was due; the epoch ends as usual");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, 7, 2));
    if (!f.ds)
        goto cleanup;
    probe_status(p, "dataloader_new", tt_dataloader_new(&dl, f.ds, &o, &rng));
    if (!dl)
        goto cleanup;
    probe_status(p, "start", tt_dataloader_start_epoch(dl));
    int nomem = 1, null_out = 1, cursor_kept = 1;
    long failures = 0;
    for (int k = 0; k < 3; k++) {
        tt_tensor *x = NULL, *y = NULL;
        size_t cursor = dl->cursor;
        tt_status st = TT_ERR_NOMEM;
        for (long n = 0; n < 100 && st != TT_OK; n++) {
            tt_alloc_fail_after(n);
            st = tt_dataloader_next(dl, &x, &y);
            tt_alloc_fail_after(-1);
            if (st != TT_OK) {
                failures++;
                nomem &= st == TT_ERR_NOMEM;
                null_out &= x == NULL && y == NULL;
                cursor_kept &= dl->cursor == cursor;
            }
        }
        char label[32];
        snprintf(label, sizeof label, "batch%d.status", k);
        probe_status(p, label, st);
        snprintf(label, sizeof label, "batch%d.y", k);
        probe_tensor(p, label, y);
        tt_tensor_free(x);
        tt_tensor_free(y);
    }
    probe_int(p, "some_allocation_failed", failures > 0);
    probe_int(p, "every_failure_is_TT_ERR_NOMEM", nomem);
    probe_int(p, "outputs_null_after_every_failure", null_out);
    probe_int(p, "cursor_unchanged_by_a_failure", cursor_kept);
    record_epoch(p, dl, "rest");
cleanup:
    tt_dataloader_free(dl);
    fixture_free(&f);
}

static void case_alloc_loader_and_augment(tito_probe *p)
{
    fixture f;
    tt_rng rng;
    seeded(p, &rng);
    tt_tensor *img = probe_randn(p, 4, TT_SHAPE(2, 1, 3, 3));
    probe_note(p, "tt_dataloader_new, tt_random_hflip and tt_random_crop with allocation n "
                  "failing, n = 0, 1, ...: each failure is TT_ERR_NOMEM with out NULL and "
                  "nothing leaked; then each succeeds");
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, 4, 2));
    if (!f.ds || !img)
        goto cleanup;
    tt_dataloader_options o = {2, true, false};
    for (int which = 0; which < 3; which++) {
        static const char *names[3] = {"dataloader_new", "hflip", "crop"};
        int nomem = 1, null_out = 1, no_leak = 1, done = 0;
        long failures = 0;
        for (long n = 0; n < 100 && !done; n++) {
            tt_dataloader *dl = NULL;
            tt_tensor *out = NULL;
            tt_rng r = rng;
            size_t live = tt_alloc_live();
            tt_alloc_fail_after(n);
            tt_status st = which == 0   ? tt_dataloader_new(&dl, f.ds, &o, &r)
                           : which == 1 ? tt_random_hflip(&out, img, 0.5f, &r)
                                        : tt_random_crop(&out, img, 1, &r);
            tt_alloc_fail_after(-1);
            if (st == TT_OK) {
                done = 1;
            } else {
                failures++;
                nomem &= st == TT_ERR_NOMEM;
                null_out &= dl == NULL && out == NULL;
                no_leak &= tt_alloc_live() == live;
            }
            tt_dataloader_free(dl);
            tt_tensor_free(out);
        }
        char label[64];
        snprintf(label, sizeof label, "%s.finally_succeeded", names[which]);
        probe_int(p, label, done);
        snprintf(label, sizeof label, "%s.some_allocation_failed", names[which]);
        probe_int(p, label, failures > 0);
        snprintf(label, sizeof label, "%s.every_failure_is_TT_ERR_NOMEM", names[which]);
        probe_int(p, label, nomem);
        snprintf(label, sizeof label, "%s.out_null_after_every_failure", names[which]);
        probe_int(p, label, null_out);
        snprintf(label, sizeof label, "%s.nothing_leaked", names[which]);
        probe_int(p, label, no_leak);
    }
cleanup:
    tt_tensor_free(img);
    fixture_free(&f);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"shuffle.long", "shuffle", 2, case_shuffle_long},
    {"shuffle.two_repeatedly", "shuffle", 1, case_shuffle_two_repeatedly},
    {"loader.dataset_from_views", "loader", 2, case_loader_from_views},
    {"loader.batch_larger_than_n", "loader", 1, case_batch_larger_than_n},
    {"loader.batch_one", "loader", 1, case_batch_one},
    {"loader.drop_last_corners", "loader", 1, case_drop_last_corners},
    {"loader.many_epochs", "loader", 2, case_many_epochs},
    {"loader.sequential_epochs", "loader", 1, case_sequential_epochs},
    {"gather.4d", "dataset", 1, case_gather_4d},
    {"hflip.width_one_and_odd", "augmentation", 1, case_hflip_width_one_and_odd},
    {"crop.largest_padding", "augmentation", 1, case_crop_largest_padding},
    {"augment.flip_then_crop", "augmentation", 2, case_flip_then_crop},
    {"crop.transposed_view", "augmentation", 1, case_crop_transposed_view},
    {"alloc.dataset_gather", "errors", 1, case_alloc_dataset_gather},
    {"alloc.next_keeps_cursor", "errors", 2, case_alloc_next},
    {"alloc.loader_and_augment", "errors", 1, case_alloc_loader_and_augment},
};

TITO_PROBE_MAIN(cases)
