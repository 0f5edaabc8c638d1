/*
 * tests/reference/gradcheck.h: the finite-difference gradient checker of the reference
 * tests, one copy for all of them (autograd, spatial, embeddings, attention,
 * transformers). Include after harness.h.
 *
 * The oracle: L = sum(w * f(inputs)) with w fixed random weights of f's output shape
 * (N(0, 1), seed 977), evaluated with the framework's float32 forward (grad mode off)
 * and accumulated in double; the analytic gradient is what tt_backward_with(f(inputs), w)
 * leaves in each checked tensor's .grad, which is exactly dL/dx. Central differences
 * with step h = GC_H * max(1, |x|) (or the spec's own relative step), divided by the
 * step actually taken in float. Tolerance |analytic - numeric| <= GC_ATOL + GC_RTOL *
 * |numeric|: wide enough for float32 round-off over h (~1e-5) and the O(h^2)
 * truncation of a smooth function (~1e-4), tight enough that a missing factor or term
 * (LayerNorm's statistics), a wrong sign or scale (attention's 1/sqrt(d)), a transposed
 * matrix or a gradient sent to the wrong element fails.
 *
 * Two entry points over one check:
 *   gc_check(gc_spec)       f reads its tensors through a context; the checked tensors
 *                           may be a layer's parameters: each keeps its requires_grad
 *                           setting, and its .grad is dropped before and after.
 *   gc_check_op(gc_op_spec) f is one op over up to three inputs and a few integer
 *                           parameters; each input's requires_grad is set from .grad[]
 *                           for the check and cleared after, and an input that does
 *                           not require a gradient must not get one.
 *
 * The functions are static inline for the reason helpers.h gives: each test uses only
 * one of the entry points.
 */
#ifndef TT_TESTS_GRADCHECK_H
#define TT_TESTS_GRADCHECK_H

#include "helpers.h"
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
    double h;                           /* relative step; 0 = GC_H */
    int n_const;                        /* inputs that must not get a gradient */
    tt_tensor *consts[GC_MAX_TENSORS];  /* borrowed; requires_grad off for the check, and
                                           .grad must still be NULL after the backward */
    const char *const_names[GC_MAX_TENSORS]; /* for messages; may be NULL */
} gc_spec;

/* L = sum(w * f) in double with gradients off; false if the forward failed. */
static inline bool gc_loss(const gc_spec *s, const double *w, size_t n_out, double *loss)
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
static inline int gc_check(gc_spec s)
{
    const char *test = harness_current;
    int failures = 0;
    bool had[GC_MAX_TENSORS] = {false}, had_const[GC_MAX_TENSORS] = {false};
    tt_tensor *out = NULL, *w = NULL;
    double *wv = NULL;
    for (int k = 0; k < s.n; k++) {
        CHECK(s.wrt[k] != NULL);
        if (!s.wrt[k])
            return 1;
    }
    for (int k = 0; k < s.n_const; k++) {
        CHECK(s.consts[k] != NULL);
        if (!s.consts[k])
            return 1;
    }
    for (int k = 0; k < s.n_const; k++) {
        had_const[k] = s.consts[k]->requires_grad;
        tt_tensor_zero_grad(s.consts[k]);
        CHECK_OK(tt_tensor_set_requires_grad(s.consts[k], false));
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
    w = randn(out->ndim, out->shape, 977);
    size_t n_out = tt_tensor_numel(out);
    wv = malloc(n_out * sizeof *wv);
    for (size_t i = 0; wv && w && i < n_out; i++)
        wv[i] = value_at(w, i);
    CHECK_OK(tt_backward_with(out, w));
    tt_tensor_free(out);
    out = NULL;
    for (int k = 0; k < s.n_const && wv; k++) {
        if (s.consts[k]->grad)
            fprintf(stderr, "%s: %s: %s does not require a gradient but got one\n", test,
                    s.label, s.const_names[k] ? s.const_names[k] : "a constant input");
        CHECK(s.consts[k]->grad == NULL);
    }
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
            unravel(i, x->ndim, x->shape, idx);
            float x0 = value_at(x, i);
            double h = (s.h > 0 ? s.h : GC_H) * (fabs(x0) > 1.0 ? fabs(x0) : 1.0);
            float xp = (float)(x0 + h), xm = (float)(x0 - h);
            double lp = 0, lm = 0;
            bool ok = tt_tensor_set(x, idx, xp) == TT_OK && gc_loss(&s, wv, n_out, &lp) &&
                      tt_tensor_set(x, idx, xm) == TT_OK && gc_loss(&s, wv, n_out, &lm);
            tt_tensor_set(x, idx, x0);
            double numeric = (lp - lm) / ((double)xp - (double)xm);
            double analytic = value_at(x->grad, i);
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
    for (int k = 0; k < s.n_const; k++) {
        tt_tensor_zero_grad(s.consts[k]);
        if (had_const[k])
            tt_tensor_set_requires_grad(s.consts[k], true);
    }
    return failures;
}

/* ------------------------------------------------------------ one op over inputs */

/* *out = op(in[0..2], p): a thin wrapper around one framework op. */
typedef tt_status (*gc_op_fn)(tt_tensor **out, tt_tensor *const *in, const long *p);

typedef struct gc_op_spec {
    const char *label;
    gc_op_fn fwd;
    long p[4];          /* the op's parameters (axis, keepdim, stride, ...) */
    int n_in;
    tt_tensor *in[3];   /* borrowed; a NULL entry that needs no gradient (an absent bias)
                           is passed to the op as NULL */
    bool grad[3];       /* which inputs require a gradient: those are checked */
    double h;           /* relative step; 0 = GC_H */
} gc_op_spec;

static inline tt_status gc_op_forward(tt_tensor **out, void *ctx)
{
    const gc_op_spec *op = ctx;
    return op->fwd(out, op->in, op->p);
}

/* Every element of every input with .grad[k] set, against the central difference;
 * every other non-NULL input must come out without a gradient. Afterwards no input
 * requires a gradient or holds one. Returns gc_check's count. */
static inline int gc_check_op(gc_op_spec op)
{
    static const char *const input_names[3] = {"input0", "input1", "input2"};
    gc_spec s = {.label = op.label, .fwd = gc_op_forward, .ctx = &op, .h = op.h};
    for (int k = 0; k < op.n_in && k < 3; k++) {
        if (op.grad[k]) {
            s.names[s.n] = input_names[k];
            s.wrt[s.n++] = op.in[k];
        } else if (op.in[k]) {
            s.const_names[s.n_const] = input_names[k];
            s.consts[s.n_const++] = op.in[k];
        }
    }
    int failures = gc_check(s);
    for (int k = 0; k < op.n_in && k < 3; k++)
        if (op.in[k])
            tt_tensor_set_requires_grad(op.in[k], false);
    return failures;
}

#endif /* TT_TESTS_GRADCHECK_H */
