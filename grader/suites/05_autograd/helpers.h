/*
 * grader/suites/05_autograd/helpers.h: what the visible and the hidden checks of module
 * 05 (autograd) share: marking leaves, class targets, reading a gradient safely, and
 * the gradient check itself (run_grad: your gradients, then a finite difference of
 * the forward pass; the top of visible.c says what it records).
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_05_HELPERS_H
#define TITO_SUITE_05_HELPERS_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/core.h"
#include "tinytorch/tensor.h"

/* Every case starts with gradients enabled, whatever an earlier case left behind. */
static void begin(void)
{
    tt_grad_set_enabled(true);
}

/* Mark leaves as requiring a gradient; the first failure's status (or TT_OK). */
static tt_status mark(tt_tensor *const *ts, int n)
{
    for (int i = 0; i < n; i++) {
        tt_status st = tt_tensor_set_requires_grad(ts[i], true);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
}

static void free_all(tt_tensor **ts, int n)
{
    for (int i = 0; i < n; i++) {
        tt_tensor_free(ts[i]);
        ts[i] = NULL;
    }
}

/* A [n] tensor of class indices in [0, classes), as floats. */
static tt_tensor *class_targets(tito_probe *p, size_t n, uint32_t classes)
{
    float v[64];
    for (size_t i = 0; i < n && i < 64; i++)
        v[i] = (float)tt_rng_below(probe_rng(p), classes);
    return probe_from_data(p, 1, TT_SHAPE(n), v);
}

/* Whether every element of t lies inside its storage (a gradient made by the code
 * under test is checked before the probe reads it). */
static bool readable(const tt_tensor *t)
{
    if (!t || t->ndim < 0 || t->ndim > TT_MAX_DIMS || !t->storage || !t->storage->data)
        return false;
    ptrdiff_t lo = (ptrdiff_t)t->offset, hi = (ptrdiff_t)t->offset;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 0 || t->shape[d] > 4096 || t->strides[d] > 4096 ||
            t->strides[d] < -4096)
            return false;
        ptrdiff_t reach = t->strides[d] * (ptrdiff_t)(t->shape[d] - 1);
        if (reach < 0)
            lo += reach;
        else
            hi += reach;
    }
    return lo >= 0 && hi < (ptrdiff_t)t->storage->size;
}

/* Sum of a[i] * b[i] over a tensor's elements (row-major), in double. NAN when the
 * tensor cannot be read or has another number of elements. */
static double dot_with(const tt_tensor *t, const float *v, size_t n)
{
    if (!readable(t) || tt_tensor_numel(t) != n)
        return NAN;
    float buf[512];
    if (n > 512 || tt_tensor_to_array(t, buf, 512) != TT_OK)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)buf[i] * (double)v[i];
    return s;
}

/* ------------------------------------------------------------ gradient checks */

typedef tt_status (*forward_fn)(tt_tensor **out, tt_tensor *const *in, const void *ctx);

#define MAX_IN 3

/* One gradient check: inputs (the case's, freed by run_grad), which of them require a
 * gradient, and the forward function. */
typedef struct grad_spec {
    int n_in;
    const char *names[MAX_IN];
    tt_tensor *in[MAX_IN];
    bool wants[MAX_IN];
    forward_fn forward;
    const void *ctx;
    bool loss;   /* a one-element output: tt_backward(y); else tt_backward_with(y, w) */
    size_t k;    /* terms per gradient element for the tolerance; 0: numel(y) */
    double h;    /* finite-difference step; 0: 1e-2 */
} grad_spec;

/* L(x + step * v) = sum(w * f(x + step * v)), on fresh copies that require nothing
 * (so nothing is recorded), in double. NAN if the forward fails. */
static double perturbed_loss(tito_probe *p, const grad_spec *s, float *const *dirs, double step,
                             const float *w, size_t wn)
{
    tt_tensor *copies[MAX_IN] = {NULL};
    tt_tensor *y = NULL;
    double total = NAN;
    float buf[512], ybuf[512];
    for (int i = 0; i < s->n_in; i++) {
        size_t n = tt_tensor_numel(s->in[i]);
        if (n > 512 || tt_tensor_to_array(s->in[i], buf, 512) != TT_OK)
            goto done;
        if (dirs[i])
            for (size_t j = 0; j < n; j++)
                buf[j] = (float)((double)buf[j] + step * (double)dirs[i][j]);
        copies[i] = probe_from_data(p, s->in[i]->ndim, s->in[i]->shape, buf);
        if (!copies[i])
            goto done;
    }
    if (s->forward(&y, copies, s->ctx) != TT_OK || tt_tensor_numel(y) != wn || wn > 512 ||
        tt_tensor_to_array(y, ybuf, 512) != TT_OK)
        goto done;
    total = 0.0;
    for (size_t j = 0; j < wn; j++)
        total += (double)w[j] * (double)ybuf[j];
done:
    tt_tensor_free(y);
    free_all(copies, s->n_in);
    return total;
}

/* Run one gradient check (see the top of visible.c) and free the spec's inputs. */
static void run_grad(tito_probe *p, grad_spec *s)
{
    tt_tensor *y = NULL, *w = NULL;
    float *dirs[MAX_IN] = {NULL};
    float dir_store[MAX_IN][512];
    float wbuf[512];
    tt_tensor *leaves[MAX_IN];
    int n_leaves = 0;
    for (int i = 0; i < s->n_in; i++)
        if (s->wants[i])
            leaves[n_leaves++] = s->in[i];

    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(leaves, n_leaves));
    probe_status(p, "forward", s->forward(&y, s->in, s->ctx));
    probe_int(p, "output_requires_grad", y && y->requires_grad);
    probe_int(p, "output_has_grad_fn", y && y->grad_fn != NULL);
    if (!y)
        goto cleanup;

    size_t yn = tt_tensor_numel(y);
    tt_status st;
    if (s->loss) {
        wbuf[0] = 1.0f;
        st = tt_backward(y);
    } else {
        w = probe_randn(p, y->ndim, y->shape);
        if (!w || tt_tensor_to_array(w, wbuf, 512) != TT_OK)
            goto cleanup;
        st = tt_backward_with(y, w);
    }
    probe_status(p, "backward", st);
    probe_int(p, "grad_mode_on_after_backward", tt_grad_is_enabled());

    probe_tol_reduction(p, s->k ? s->k : yn);
    for (int i = 0; i < s->n_in; i++) {
        char label[48];
        if (s->wants[i]) {
            snprintf(label, sizeof label, "%s.grad", s->names[i]);
            probe_tensor(p, label, s->in[i]->grad);
        }
    }
    probe_tol_exact(p);
    for (int i = 0; i < s->n_in; i++) {
        char label[48];
        if (!s->wants[i]) {
            snprintf(label, sizeof label, "%s.grad_is_null", s->names[i]);
            probe_int(p, label, s->in[i]->grad == NULL);
        }
    }

    /* Finite differences along one random direction per input. */
    double analytic = 0.0;
    for (int i = 0; i < s->n_in; i++) {
        if (!s->wants[i])
            continue;
        size_t n = tt_tensor_numel(s->in[i]);
        dirs[i] = dir_store[i];
        for (size_t j = 0; j < n && j < 512; j++)
            dirs[i][j] = tt_rng_normal(probe_rng(p));
        analytic += s->in[i]->grad ? dot_with(s->in[i]->grad, dirs[i], n) : 0.0;
    }
    double h = s->h > 0.0 ? s->h : 1e-2;
    double lp = perturbed_loss(p, s, dirs, h, wbuf, yn);
    double lm = perturbed_loss(p, s, dirs, -h, wbuf, yn);
    double fd = (lp - lm) / (2.0 * h);
    /* No note here: a leak or a crash is reported with the case's own note. The label
     * says what the number is (see the top of visible.c). */
    probe_tol(p, 1e-3, 0.0);
    probe_scalar(p, "finite_difference_error_|analytic-fd|/(1+|fd|)",
                 fabs(analytic - fd) / (1.0 + fabs(fd)));

cleanup:
    tt_tensor_free(w);
    tt_tensor_free(y);
    free_all(s->in, s->n_in);
}

#endif /* TITO_SUITE_05_HELPERS_H */
