/*
 * grader/suites/03_layers/helpers.h: what the visible and the hidden checks of module 03
 * (layers) share: labels, the generators handed to your layers, the constructors that
 * record their status, and the mask of what a Dropout kept.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_03_HELPERS_H
#define TITO_SUITE_03_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/core.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

/* Stands for "some earlier value" in *out: a function that fails must set *out to
 * NULL, so error checks start with out pointing here. Never freed. */
static tt_tensor not_a_tensor;

/* A label made of two parts ("linear.new_status"). */
static const char *label2(char *buf, size_t size, const char *a, const char *b)
{
    snprintf(buf, size, "%s.%s", a, b);
    return buf;
}

/* A generator for the layer under test, seeded from the case's own generator (so
 * from the grading seed). */
static void seed_rng(tito_probe *p, tt_rng *rng)
{
    uint64_t hi = tt_rng_next_u32(probe_rng(p));
    uint64_t lo = tt_rng_next_u32(probe_rng(p));
    tt_rng_init(rng, hi << 32 | lo);
}

/* The next 32 bits of rng, to show how far a layer moved it (exactly one draw per
 * parameter element, or per dropout element). */
static long next_draw(tt_rng *rng)
{
    return (long)tt_rng_next_u32(rng);
}

/* Make a Linear and record the status. */
static tt_layer *linear(tito_probe *p, const char *name, size_t in, size_t out, bool bias,
                        tt_rng *rng)
{
    char label[96];
    tt_layer *l = NULL;
    tt_status st = tt_linear_new(&l, in, out, bias, rng);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "new_status"), st);
    return st == TT_OK ? l : NULL;
}

/* A tensor of 1 where y is not 0 and 0 where it is: the elements Dropout kept. */
static tt_tensor *kept_mask(tito_probe *p, const tt_tensor *y)
{
    if (!y || y == &not_a_tensor || !y->storage || !y->storage->data ||
        !tt_tensor_is_contiguous(y) || y->offset + tt_tensor_numel(y) > y->storage->size)
        return NULL;
    tt_tensor *m = probe_from_data(p, y->ndim, y->shape, tt_tensor_data(y));
    if (m)
        for (size_t i = 0; i < m->storage->size; i++)
            m->storage->data[i] = m->storage->data[i] != 0.0f;
    return m;
}

/* Make a Dropout and record the status. */
static tt_layer *dropout(tito_probe *p, const char *name, float prob, tt_rng *rng)
{
    char label[96];
    tt_layer *d = NULL;
    tt_status st = tt_dropout_new(&d, prob, rng);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "new_status"), st);
    return st == TT_OK ? d : NULL;
}

/* Make an empty Sequential and record the status. */
static tt_layer *sequential(tito_probe *p, const char *name)
{
    char label[96];
    tt_layer *s = NULL;
    tt_status st = tt_sequential_new(&s);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "new_status"), st);
    return st == TT_OK ? s : NULL;
}

#endif /* TITO_SUITE_03_HELPERS_H */
