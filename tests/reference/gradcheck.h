/*
 * tests/reference/gradcheck.h: finite-difference gradient checks for the tests of the
 * tier-2 modules (embeddings, attention, transformers). Include after harness.h.
 *
 * The oracle is the one of test_autograd.c: L = sum(w * f(inputs)) with w fixed random
 * weights of f's output shape, evaluated with the framework's float32 forward (grad
 * mode off) and accumulated in double; the analytic gradient is what
 * tt_backward_with(f(inputs), w) leaves in each checked tensor's .grad. Central
 * differences with step h = GC_H * max(1, |x|), divided by the step actually taken in
 * float. Tolerance |analytic - numeric| <= GC_ATOL + GC_RTOL * |numeric|: wide enough
 * for float32 round-off over h and the O(h^2) truncation, tight enough that a missing
 * term (LayerNorm's statistics), a wrong scale (attention's 1/sqrt(d)) or a gradient
 * sent to the wrong row fails.
 *
 * Unlike test_autograd.c's checker, the tensors checked may be a layer's parameters:
 * each keeps its requires_grad setting, and its .grad is dropped before and after.
 */
#ifndef TT_TESTS_GRADCHECK_H
#define TT_TESTS_GRADCHECK_H

#include "tinytorch/autograd.h"

#define GC_H 1e-2
#define GC_ATOL 2e-3
#define GC_RTOL 1e-2
#define GC_MAX_TENSORS 4

/* The function under test: *out = f(ctx). It reads the checked tensors through ctx. */
typedef tt_status (*gc_forward_fn)(tt_tensor **out, void *ctx);

typedef struct gc_spec {
    const char *label;
    gc_forward_fn fwd;
    void *ctx;
    int n;                              /* tensors to check */
    tt_tensor *wrt[GC_MAX_TENSORS];     /* borrowed; each gets requires_grad for the check */
    const char *names[GC_MAX_TENSORS];  /* for messages; may be NULL */
    size_t max_elems;                   /* check at most this many elements per tensor
                                           (spread evenly); 0 = all */
} gc_spec;

static void gc_unravel(size_t flat, int ndim, const size_t *shape, size_t *idx)
{
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
}

static float gc_value_at(const tt_tensor *t, size_t flat)
{
    size_t idx[TT_MAX_DIMS] = {0};
    float v = NAN;
    gc_unravel(flat, t->ndim, t->shape, idx);
    tt_tensor_get(t, idx, &v);
    return v;
}

/* L = sum(w * f) in double with gradients off; false if the forward failed. */
static bool gc_loss(const gc_spec *s, const double *w, size_t n_out, double *loss)
{
    bool was = tt_grad_set_enabled(false);
    tt_tensor *out = NULL;
    tt_status st = s->fwd(&out, s->ctx);
    tt_grad_set_enabled(was);
    if (st != TT_OK || tt_tensor_numel(out) != n_out) {
        tt_tensor_free(out);
        return false;
    }
    tt_tensor *oc = NULL;
    if (tt_tensor_contiguous(&oc, out) != TT_OK) {
        tt_tensor_free(out);
        return false;
    }
    double sum = 0.0;
    const float *ov = tt_tensor_data(oc);
    for (size_t i = 0; i < n_out; i++)
        sum += w[i] * (double)ov[i];
    tt_tensor_free(oc);
    tt_tensor_free(out);
    *loss = sum;
    return true;
}

/* Runs the check; returns the number of elements whose gradient was off (also counted
 * as a harness failure). */
static int gc_check(gc_spec s)
{
    const char *test = harness_current;
    int failures = 0;
    bool had[GC_MAX_TENSORS] = {false};
    tt_tensor *out = NULL, *w = NULL;
    double *wv = NULL;
    for (int k = 0; k < s.n; k++) {
        CHECK(s.wrt[k] != NULL);
        if (!s.wrt[k])
            return 1;
    }
    for (int k = 0; k < s.n; k++) {
        had[k] = s.wrt[k]->requires_grad;
        tt_tensor_zero_grad(s.wrt[k]);
        if (!had[k])
            CHECK_OK(tt_tensor_set_requires_grad(s.wrt[k], true));
    }
    CHECK_OK(s.fwd(&out, s.ctx));
    if (!out) {
        failures++;
        goto done;
    }
    CHECK(out->requires_grad && out->grad_fn != NULL);
    {
        tt_rng rng;
        tt_rng_init(&rng, 977);
        CHECK_OK(tt_tensor_randn(&w, out->ndim, out->shape, 0.0f, 1.0f, &rng));
    }
    size_t n_out = tt_tensor_numel(out);
    wv = malloc(n_out * sizeof *wv);
    for (size_t i = 0; wv && w && i < n_out; i++)
        wv[i] = tt_tensor_data(w)[i];
    CHECK_OK(tt_backward_with(out, w));
    tt_tensor_free(out);
    out = NULL;
    for (int k = 0; k < s.n && wv; k++) {
        tt_tensor *x = s.wrt[k];
        const char *name = s.names[k] ? s.names[k] : "input";
        CHECK(x->grad && tt_tensor_same_shape(x->grad, x));
        if (!x->grad || !tt_tensor_same_shape(x->grad, x)) {
            failures++;
            continue;
        }
        size_t n = tt_tensor_numel(x);
        size_t step = s.max_elems && n > s.max_elems ? n / s.max_elems : 1;
        for (size_t i = 0; i < n; i += step) {
            size_t idx[TT_MAX_DIMS] = {0};
            gc_unravel(i, x->ndim, x->shape, idx);
            float x0 = gc_value_at(x, i);
            double h = GC_H * (fabs(x0) > 1.0 ? fabs(x0) : 1.0);
            float xp = (float)(x0 + h), xm = (float)(x0 - h);
            double lp = 0, lm = 0;
            bool ok = tt_tensor_set(x, idx, xp) == TT_OK && gc_loss(&s, wv, n_out, &lp) &&
                      tt_tensor_set(x, idx, xm) == TT_OK && gc_loss(&s, wv, n_out, &lm);
            tt_tensor_set(x, idx, x0);
            double numeric = (lp - lm) / ((double)xp - (double)xm);
            double analytic = gc_value_at(x->grad, i);
            if (!ok || !(fabs(analytic - numeric) <= GC_ATOL + GC_RTOL * fabs(numeric))) {
                if (failures++ < 4)
                    fprintf(stderr, "%s: %s: d/d %s[%zu] analytic %.7g, finite difference "
                            "%.7g%s\n", test, s.label, name, i, analytic, numeric,
                            ok ? "" : " (forward failed)");
            }
        }
    }
    if (failures)
        fprintf(stderr, "%s: %s: %d gradient element(s) off\n", test, s.label, failures);
done:
    CHECK(failures == 0);
    free(wv);
    tt_tensor_free(w);
    tt_tensor_free(out);
    for (int k = 0; k < s.n; k++) {
        tt_tensor_zero_grad(s.wrt[k]);
        if (!had[k])
            tt_tensor_set_requires_grad(s.wrt[k], false);
    }
    return failures;
}

#endif /* TT_TESTS_GRADCHECK_H */
