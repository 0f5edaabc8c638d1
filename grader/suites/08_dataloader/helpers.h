/*
 * grader/suites/08_dataloader/helpers.h: what the visible and the hidden checks of module
 * 08 (dataloader) share: seeded generators, records of orders and of whole epochs, the
 * datasets whose values name their samples, and a loader check.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_08_HELPERS_H
#define TITO_SUITE_08_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/core.h"
#include "tinytorch/dataloader.h"
#include "tinytorch/tensor.h"

/* A generator seeded from the case's seed. */
static void seeded(tito_probe *p, tt_rng *rng)
{
    tt_rng_init(rng, ((uint64_t)tt_rng_next_u32(probe_rng(p)) << 32) |
                         tt_rng_next_u32(probe_rng(p)));
}

/* Record an order (a permutation) as a [n] tensor of indices. */
static void record_order(tito_probe *p, const char *label, const size_t *order, size_t n)
{
    float v[2048];
    if (!order) {
        probe_tensor(p, label, NULL);
        return;
    }
    if (n == 0 || n > 2048) {
        probe_int(p, label, (long)n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (float)order[i];
    tt_tensor *t = probe_from_data(p, 1, TT_SHAPE(n), v);
    probe_tensor(p, label, t);
    tt_tensor_free(t);
}

/* The generator's next output: whether a call drew as often as it should. */
static void record_next_u32(tito_probe *p, const char *label, tt_rng *rng)
{
    probe_int(p, label, (long)tt_rng_next_u32(rng));
}

/* x [n, features...] with x[i, j] = i + j / 100 (j the flat index within a sample),
 * y [n] with y[i] = i. */
static tt_tensor *id_inputs(tito_probe *p, int ndim, const size_t *shape)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    size_t row = n / shape[0];
    float v[4096];
    if (n > 4096)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(i / row) + (float)(i % row) / 100.0f;
    return probe_from_data(p, ndim, shape, v);
}

/* y [n] with y[i] = i. */
static tt_tensor *id_targets(tito_probe *p, size_t n)
{
    float v[4096];
    for (size_t i = 0; i < n && i < 4096; i++)
        v[i] = (float)i;
    return probe_from_data(p, 1, TT_SHAPE(n), v);
}

/* Walk the rest of an epoch: each batch's status, x and y, then one more call that
 * must give NULLs again. */
static void record_epoch(tito_probe *p, tt_dataloader *dl, const char *tag)
{
    char label[64];
    long batches = 0;
    for (int k = 0; k < 64; k++) {
        tt_tensor *x = NULL, *y = NULL;
        tt_status st = tt_dataloader_next(dl, &x, &y);
        snprintf(label, sizeof label, "%s.batch%d.status", tag, k);
        probe_status(p, label, st);
        snprintf(label, sizeof label, "%s.batch%d.x", tag, k);
        probe_tensor(p, label, x);
        snprintf(label, sizeof label, "%s.batch%d.y", tag, k);
        probe_tensor(p, label, y);
        bool end = !x || st != TT_OK;
        tt_tensor_free(x);
        tt_tensor_free(y);
        if (end)
            break;
        batches++;
    }
    snprintf(label, sizeof label, "%s.batches", tag);
    probe_int(p, label, batches);
    tt_tensor *x = NULL, *y = NULL;
    snprintf(label, sizeof label, "%s.after_the_end.status", tag);
    probe_status(p, label, tt_dataloader_next(dl, &x, &y));
    snprintf(label, sizeof label, "%s.after_the_end.null", tag);
    probe_int(p, label, x == NULL && y == NULL);
    tt_tensor_free(x);
    tt_tensor_free(y);
}

/* A dataset of id_inputs [n, f] and id_targets [n]; the caller frees all three. */
typedef struct fixture {
    tt_tensor *x, *y;
    tt_dataset *ds;
} fixture;

/* Make the dataset of a fixture; the dataset's status. */
static tt_status fixture_make(tito_probe *p, fixture *f, size_t n, size_t features)
{
    f->x = id_inputs(p, 2, TT_SHAPE(n, features));
    f->y = id_targets(p, n);
    f->ds = NULL;
    return tt_dataset_new(&f->ds, f->x, f->y);
}

static void fixture_free(fixture *f)
{
    tt_dataset_free(f->ds);
    tt_tensor_free(f->y);
    tt_tensor_free(f->x);
}

/* One loader over a fresh [n, 2] dataset, the options given; records every batch of
 * `epochs` epochs and the generator's next output. */
static void loader_case(tito_probe *p, size_t n, tt_dataloader_options o, bool with_rng,
                        int epochs)
{
    fixture f;
    tt_rng rng;
    seeded(p, &rng);
    tt_dataloader *dl = NULL;
    probe_tol_exact(p);
    probe_status(p, "dataset_new", fixture_make(p, &f, n, 2));
    if (!f.ds)
        goto cleanup;
    probe_status(p, "dataloader_new", tt_dataloader_new(&dl, f.ds, &o, with_rng ? &rng : NULL));
    if (!dl)
        goto cleanup;
    probe_int(p, "num_batches", (long)tt_dataloader_num_batches(dl));
    for (int e = 1; e <= epochs; e++) {
        char tag[16];
        snprintf(tag, sizeof tag, "epoch%d", e);
        probe_status(p, tag, tt_dataloader_start_epoch(dl));
        record_epoch(p, dl, tag);
    }
    probe_int(p, "epoch", dl->epoch);
    if (with_rng)
        record_next_u32(p, "rng_next_u32_after", &rng);
cleanup:
    tt_dataloader_free(dl);
    fixture_free(&f);
}

#endif /* TITO_SUITE_08_HELPERS_H */
