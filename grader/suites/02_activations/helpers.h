/*
 * grader/suites/02_activations/helpers.h: what the visible and the hidden checks of
 * module 02 (activations) share: the table of element-wise activations, the stand-in
 * for an earlier *out, labels, and the recorders of a call and of its allocation
 * failures.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_02_HELPERS_H
#define TITO_SUITE_02_HELPERS_H

#include <stdbool.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/core.h"
#include "tinytorch/tensor.h"

typedef tt_status (*unary_fn)(tt_tensor **out, tt_tensor *x);

static const struct {
    const char *name;
    unary_fn fn;
    tt_op_id op;
} UNARY[] = {
    {"tt_relu", tt_relu, TT_OP_RELU},
    {"tt_sigmoid", tt_sigmoid, TT_OP_SIGMOID},
    {"tt_tanh", tt_tanh, TT_OP_TANH},
    {"tt_gelu", tt_gelu, TT_OP_GELU},
};
#define N_UNARY (sizeof UNARY / sizeof UNARY[0])

/* Stands for "some earlier value" in *out: a function that fails must set *out to
 * NULL, so error checks start with out pointing here. Never freed. */
static tt_tensor not_a_result;

static void free_result(tt_tensor *t)
{
    if (t != &not_a_result)
        tt_tensor_free(t);
}

/* A label made of two parts ("tt_relu.status"). */
static const char *label2(char *buf, size_t size, const char *a, const char *b)
{
    snprintf(buf, size, "%s.%s", a, b);
    return buf;
}

/* True when t can be read as a result shaped like `like` (your result is made with
 * tt_tensor_zeros, so it is contiguous); the probe reads nothing it cannot trust. */
static bool readable_like(const tt_tensor *t, const tt_tensor *like)
{
    if (!t || t == &not_a_result || t->ndim != like->ndim || !t->storage || !t->storage->data)
        return false;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != like->shape[d])
            return false;
    return tt_tensor_is_contiguous(t) && t->offset + tt_tensor_numel(t) <= t->storage->size;
}

/* Run fn on x and record its status and result under `name`. */
static void record_unary(tito_probe *p, const char *name, unary_fn fn, tt_tensor *x)
{
    char label[64];
    tt_tensor *y = NULL;
    tt_status st = fn(&y, x);
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_tensor(p, label2(label, sizeof label, name, "out"), y);
    tt_tensor_free(y);
}

/* Makes each allocation of one call fail in turn (the first, then the second, ...)
 * until the call succeeds. Every failure must be TT_ERR_NOMEM with *out NULL and
 * nothing left allocated. The records are yes/no answers, so your code may allocate
 * more or less often than the reference's. */
static void record_allocation_failures(tito_probe *p, const char *name, unary_fn fn, int axis,
                                       tt_tensor *x)
{
    char label[96];
    tt_tensor *plain = NULL;
    tt_status plain_st = fn ? fn(&plain, x) : tt_softmax(&plain, x, axis);
    tt_tensor_free(plain);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "status_without_failures"), plain_st);
    long all_nomem = 1, all_null = 1, nothing_leaked = 1, succeeded = 0;
    for (long n = 0; n < 200 && !succeeded; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *y = &not_a_result;
        tt_alloc_fail_after(n);
        tt_status st = fn ? fn(&y, x) : tt_softmax(&y, x, axis);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            succeeded = 1;
            free_result(y);
            break;
        }
        all_nomem &= st == TT_ERR_NOMEM;
        all_null &= y == NULL;
        nothing_leaked &= tt_alloc_live() == live;
    }
    probe_int(p, label2(label, sizeof label, name, "every_failure_is_TT_ERR_NOMEM"), all_nomem);
    probe_int(p, label2(label, sizeof label, name, "out_is_NULL_after_each_failure"), all_null);
    probe_int(p, label2(label, sizeof label, name, "nothing_leaked_after_each_failure"),
              nothing_leaked);
    probe_int(p, label2(label, sizeof label, name, "succeeds_when_memory_is_there"), succeeded);
}

#endif /* TITO_SUITE_02_HELPERS_H */
