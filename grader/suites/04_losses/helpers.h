/*
 * grader/suites/04_losses/helpers.h: what the visible and the hidden checks of module 04
 * (losses) share: the stand-in for an earlier *out, labels, 0/1 targets, and the
 * recorders of a loss and of its allocation failures.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_04_HELPERS_H
#define TITO_SUITE_04_HELPERS_H

#include <stdio.h>

#include "probe.h"
#include "tinytorch/core.h"
#include "tinytorch/tensor.h"

typedef tt_status (*loss_fn)(tt_tensor **out, tt_tensor *a, tt_tensor *b);

/* Stands for "some earlier value" in *out: a function that fails must set *out to
 * NULL, so error checks start with out pointing here. Never freed. */
static tt_tensor not_a_result;

static void free_result(tt_tensor *t)
{
    if (t != &not_a_result)
        tt_tensor_free(t);
}

/* A label made of two parts ("tt_mse_loss.status"). */
static const char *label2(char *buf, size_t size, const char *a, const char *b)
{
    snprintf(buf, size, "%s.%s", a, b);
    return buf;
}

/* Run a loss and record its status and result (a 0-D tensor) under `name`. The
 * tolerance is the caller's. */
static void record_loss(tito_probe *p, const char *name, loss_fn fn, tt_tensor *a, tt_tensor *b)
{
    char label[96];
    tt_tensor *loss = NULL;
    tt_status st = fn(&loss, a, b);
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_tensor(p, label2(label, sizeof label, name, "loss"), loss);
    tt_tensor_free(loss);
}

/* 0/1 labels of the given shape. */
static tt_tensor *random_labels(tito_probe *p, int ndim, const size_t *shape)
{
    tt_tensor *t = probe_uniform(p, ndim, shape, 0.0f, 1.0f);
    if (t)
        for (size_t i = 0; i < t->storage->size; i++)
            t->storage->data[i] = t->storage->data[i] < 0.5f ? 0.0f : 1.0f;
    return t;
}

/* Makes each allocation of one call fail in turn until the call succeeds: every
 * failure must be TT_ERR_NOMEM with *out NULL and nothing left allocated. The records
 * are yes/no answers, so your code may allocate more or less often than the
 * reference's. */
static void record_allocation_failures(tito_probe *p, const char *name, loss_fn fn, tt_tensor *a,
                                       tt_tensor *b)
{
    char label[96];
    tt_tensor *plain = NULL;
    tt_status plain_st = fn(&plain, a, b);
    tt_tensor_free(plain);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "status_without_failures"), plain_st);
    long all_nomem = 1, all_null = 1, nothing_leaked = 1, succeeded = 0;
    for (long n = 0; n < 200 && !succeeded; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *loss = &not_a_result;
        tt_alloc_fail_after(n);
        tt_status st = fn(&loss, a, b);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            succeeded = 1;
            free_result(loss);
            break;
        }
        all_nomem &= st == TT_ERR_NOMEM;
        all_null &= loss == NULL;
        nothing_leaked &= tt_alloc_live() == live;
    }
    probe_int(p, label2(label, sizeof label, name, "every_failure_is_TT_ERR_NOMEM"), all_nomem);
    probe_int(p, label2(label, sizeof label, name, "out_is_NULL_after_each_failure"), all_null);
    probe_int(p, label2(label, sizeof label, name, "nothing_leaked_after_each_failure"),
              nothing_leaked);
    probe_int(p, label2(label, sizeof label, name, "succeeds_when_memory_is_there"), succeeded);
}

#endif /* TITO_SUITE_04_HELPERS_H */
