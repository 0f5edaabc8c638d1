/*
 * Tests of module 05 (autograd) against the reference implementation.
 *
 * The oracle for every op is a central finite difference: the loss is
 * L = sum(w * f(x)) with w fixed random weights of f's output shape, evaluated with
 * the framework's float32 forward (grad mode off) and accumulated in double. The
 * analytic gradient comes from tt_backward_with(f(x), w), which is exactly dL/dx.
 * Step: h = GC_H * max(1, |x|), and the difference is divided by the step actually
 * taken in float. Tolerance: |analytic - numeric| <= GC_ATOL + GC_RTOL * |numeric|
 * (the checker is gradcheck.h's gc_check_op, shared with the other module tests),
 * wide enough for float32 round-off over h (~1e-5) and the O(h^2) truncation of a
 * smooth function (~1e-4), tight enough that a missing factor, a wrong sign, a
 * transposed matrix or a gradient sent to the wrong element fails. Inputs keep away
 * from kinks (relu at 0, ties of max, the BCE clamp) by construction.
 *
 * Besides: an MLP's gradients against NumPy (tests/fixtures/autograd.txt, computed
 * analytically in float64 by gen_autograd.py), accumulation (x*x, reuse, pre-filled
 * and repeated backward, intermediates), graph lifetime (deep graphs, freed
 * intermediates, tt_alloc_live), no-grad mode (per thread), tt_grad_reduce_to_shape,
 * and every error path including each allocation of a backward failing in turn.
 */
#include <pthread.h>

#include "harness.h"
#include "fixtures.h"
#include "helpers.h"
#include "gradcheck.h"

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"

/* ================================================================ helpers */

static tt_tensor *uniform(int ndim, const size_t *shape, float lo, float hi, uint64_t seed)
{
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_tensor *t = NULL;
    CHECK_OK(tt_tensor_uniform(&t, ndim, shape, lo, hi, &rng));
    return t;
}

/* A leaf that is a non-contiguous view: the transpose of a random tensor whose last
 * two dimensions are swapped, so its shape is `shape`. */
static tt_tensor *randn_transposed(int ndim, const size_t *shape, uint64_t seed)
{
    size_t base_shape[TT_MAX_DIMS];
    memcpy(base_shape, shape, (size_t)ndim * sizeof *shape);
    base_shape[ndim - 1] = shape[ndim - 2];
    base_shape[ndim - 2] = shape[ndim - 1];
    tt_tensor *base = randn(ndim, base_shape, seed), *view = NULL;
    CHECK_OK(tt_tensor_transpose(&view, base, -1, -2));
    tt_tensor_free(base);
    CHECK(view && !tt_tensor_is_contiguous(view) && view->grad_fn == NULL);
    return view;
}

/* Move every element at least `gap` away from 0, keeping its sign (for relu and
 * divisors). Works through views. */
static void away_from_zero(tt_tensor *t, float gap)
{
    size_t n = tt_tensor_numel(t), idx[TT_MAX_DIMS] = {0};
    for (size_t i = 0; i < n; i++) {
        float v = 0;
        unravel(i, t->ndim, t->shape, idx);
        CHECK_OK(tt_tensor_get(t, idx, &v));
        CHECK_OK(tt_tensor_set(t, idx, v + (v >= 0.0f ? gap : -gap)));
    }
}

/* ================================================================ finite differences */

/* The forwards under test: one thin wrapper per op. */
static tt_status f_add(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_add(o, in[0], in[1]);
}
static tt_status f_sub(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_sub(o, in[0], in[1]);
}
static tt_status f_mul(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_mul(o, in[0], in[1]);
}
static tt_status f_div(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_div(o, in[0], in[1]);
}
static tt_status f_add_scalar(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_add_scalar(o, in[0], 0.75f);
}
static tt_status f_mul_scalar(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_mul_scalar(o, in[0], -1.5f);
}
static tt_status f_matmul(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_matmul(o, in[0], in[1]);
}
static tt_status f_sum(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_tensor_sum(o, in[0], (int)p[0], p[1] != 0);
}
static tt_status f_mean(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_tensor_mean(o, in[0], (int)p[0], p[1] != 0);
}
static tt_status f_max(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_tensor_max(o, in[0], (int)p[0], p[1] != 0);
}
static tt_status f_sum_all(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_sum_all(o, in[0]);
}
static tt_status f_mean_all(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_mean_all(o, in[0]);
}
static tt_status f_copy(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tensor_copy(o, in[0]);
}
/* reshape to p[0] dims of sizes p[1..3] (-1 allowed) */
static tt_status f_reshape(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    ptrdiff_t shape[3] = {(ptrdiff_t)p[1], (ptrdiff_t)p[2], (ptrdiff_t)p[3]};
    return tt_tensor_reshape(o, in[0], (int)p[0], shape);
}
static tt_status f_transpose(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_tensor_transpose(o, in[0], (int)p[0], (int)p[1]);
}
static tt_status f_slice(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_tensor_slice(o, in[0], (int)p[0], (size_t)p[1], (size_t)p[2]);
}
static tt_status f_relu(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_relu(o, in[0]);
}
static tt_status f_sigmoid(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_sigmoid(o, in[0]);
}
static tt_status f_tanh(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_tanh(o, in[0]);
}
static tt_status f_gelu(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_gelu(o, in[0]);
}
static tt_status f_softmax(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_softmax(o, in[0], (int)p[0]);
}
static tt_status f_mse(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_mse_loss(o, in[0], in[1]);
}
static tt_status f_bce(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_bce_loss(o, in[0], in[1]);
}
static tt_status f_cross_entropy(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_cross_entropy_loss(o, in[0], in[1]);
}

/* Dropout draws its mask from an rng: reseeding before every forward keeps the mask
 * the same across the finite-difference evaluations. */
static tt_rng dropout_rng;
static tt_layer *dropout_layer;
static tt_status f_dropout(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    tt_rng_init(&dropout_rng, (uint64_t)p[0]);
    return tt_layer_forward(dropout_layer, o, in[0]);
}

/* A small chain with reuse: sum over axis 1 of (a*b + a) / (b*b + 1), then tanh. */
static tt_status f_chain(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    tt_status st = TT_OK;
    tt_tensor *ab = NULL, *num = NULL, *bb = NULL, *den = NULL, *q = NULL, *s = NULL;
    TT_CHECK(tt_tensor_mul(&ab, in[0], in[1]));
    TT_CHECK(tt_tensor_add(&num, ab, in[0]));
    TT_CHECK(tt_tensor_mul(&bb, in[1], in[1]));
    TT_CHECK(tt_tensor_add_scalar(&den, bb, 1.0f));
    TT_CHECK(tt_tensor_div(&q, num, den));
    TT_CHECK(tt_tensor_sum(&s, q, 1, false));
    TT_CHECK(tt_tanh(o, s));
cleanup:
    tt_tensor_free(ab);
    tt_tensor_free(num);
    tt_tensor_free(bb);
    tt_tensor_free(den);
    tt_tensor_free(q);
    tt_tensor_free(s);
    return st;
}

#define FD2(label_, fn_, a_, b_, ga_, gb_)                                                    \
    gc_check_op((gc_op_spec){.label = (label_), .fwd = (fn_), .n_in = 2, .in = {(a_), (b_)}, \
                             .grad = {(ga_), (gb_)}})
#define FD1(label_, fn_, a_, ...)                                                             \
    gc_check_op((gc_op_spec){.label = (label_), .fwd = (fn_), .n_in = 1, .in = {(a_)},       \
                             .grad = {true}, .p = {__VA_ARGS__}})

/* ================================================================ gradient tests */

static void test_fd_elementwise_binary(void)
{
    struct {
        const char *name;
        gc_op_fn fn;
    } ops[] = {{"add", f_add}, {"sub", f_sub}, {"mul", f_mul}, {"div", f_div}};
    /* (a shape, b shape): equal, row broadcast, both broadcast, leading dims added,
     * scalar b, and b broadcast against a with more dims. */
    struct {
        int na, nb;
        size_t sa[4], sb[4];
    } cases[] = {
        {2, 2, {2, 3}, {2, 3}},    {2, 1, {2, 3}, {3}},        {2, 2, {2, 1}, {1, 4}},
        {3, 2, {4, 2, 3}, {2, 1}}, {2, 0, {2, 3}, {0}},        {1, 3, {3}, {2, 2, 3}},
        {4, 3, {2, 1, 2, 3}, {3, 1, 1}},
    };
    char label[96];
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            tt_tensor *a = randn(cases[c].na, cases[c].sa, 10 + c);
            tt_tensor *b = randn(cases[c].nb, cases[c].sb, 20 + c);
            if (ops[o].fn == f_div)
                away_from_zero(b, 0.5f); /* 1/b stays smooth over the step */
            snprintf(label, sizeof label, "%s case %zu", ops[o].name, c);
            FD2(label, ops[o].fn, a, b, true, true);
            snprintf(label, sizeof label, "%s case %zu, only a", ops[o].name, c);
            FD2(label, ops[o].fn, a, b, true, false);
            snprintf(label, sizeof label, "%s case %zu, only b", ops[o].name, c);
            FD2(label, ops[o].fn, a, b, false, true);
            tt_tensor_free(a);
            tt_tensor_free(b);
        }
    /* Non-contiguous inputs on both sides. */
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        tt_tensor *a = randn_transposed(2, TT_SHAPE(3, 4), 31);
        tt_tensor *b = randn_transposed(2, TT_SHAPE(3, 4), 32);
        if (ops[o].fn == f_div)
            away_from_zero(b, 0.5f);
        snprintf(label, sizeof label, "%s, transposed views", ops[o].name);
        FD2(label, ops[o].fn, a, b, true, true);
        tt_tensor_free(a);
        tt_tensor_free(b);
    }
}

static void test_fd_scalar_ops(void)
{
    tt_tensor *x = randn(3, TT_SHAPE(2, 3, 2), 41);
    FD1("add_scalar", f_add_scalar, x, 0);
    FD1("mul_scalar", f_mul_scalar, x, 0);
    tt_tensor_free(x);
    x = randn_transposed(2, TT_SHAPE(2, 5), 42);
    FD1("mul_scalar, view", f_mul_scalar, x, 0);
    tt_tensor_free(x);
}

static void test_fd_matmul(void)
{
    struct {
        int na, nb;
        size_t sa[4], sb[4];
    } cases[] = {
        {2, 2, {3, 4}, {4, 5}},          /* plain */
        {2, 2, {1, 4}, {4, 1}},          /* vectors as matrices */
        {3, 3, {2, 3, 4}, {2, 4, 5}},    /* batched */
        {3, 2, {2, 3, 4}, {4, 5}},       /* one b for every batch entry */
        {4, 4, {2, 2, 3, 4}, {2, 2, 4, 2}},
        {4, 2, {2, 2, 3, 4}, {4, 2}},
    };
    char label[96];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tt_tensor *a = randn(cases[c].na, cases[c].sa, 50 + c);
        tt_tensor *b = randn(cases[c].nb, cases[c].sb, 60 + c);
        snprintf(label, sizeof label, "matmul case %zu", c);
        FD2(label, f_matmul, a, b, true, true);
        snprintf(label, sizeof label, "matmul case %zu, only b", c);
        FD2(label, f_matmul, a, b, false, true);
        tt_tensor_free(a);
        tt_tensor_free(b);
    }
    /* Transposed operands (the layout backward itself produces). */
    tt_tensor *a = randn_transposed(2, TT_SHAPE(3, 4), 71);
    tt_tensor *b = randn_transposed(2, TT_SHAPE(4, 2), 72);
    FD2("matmul of transposed views", f_matmul, a, b, true, true);
    tt_tensor_free(a);
    tt_tensor_free(b);
    a = randn_transposed(3, TT_SHAPE(2, 3, 4), 73);
    b = randn(2, TT_SHAPE(4, 2), 74);
    FD2("matmul 3-D view x 2-D", f_matmul, a, b, true, true);
    tt_tensor_free(a);
    tt_tensor_free(b);
}

static void test_fd_reductions(void)
{
    char label[96];
    tt_tensor *x = randn(3, TT_SHAPE(2, 3, 4), 81);
    tt_tensor *d = distinct(3, TT_SHAPE(2, 3, 4), 82);
    for (int axis = -1; axis < 3; axis++)
        for (int keep = 0; keep < 2; keep++) {
            snprintf(label, sizeof label, "sum axis %d keepdim %d", axis, keep);
            FD1(label, f_sum, x, axis, keep);
            snprintf(label, sizeof label, "mean axis %d keepdim %d", axis, keep);
            FD1(label, f_mean, x, axis, keep);
            snprintf(label, sizeof label, "max axis %d keepdim %d", axis, keep);
            FD1(label, f_max, d, axis, keep);
        }
    FD1("sum_all", f_sum_all, x, 0);
    FD1("mean_all", f_mean_all, x, 0);
    tt_tensor_free(x);
    tt_tensor_free(d);

    /* 1-D to a scalar, and non-contiguous inputs. */
    x = randn(1, TT_SHAPE(5), 83);
    FD1("sum of 1-D", f_sum, x, 0, 0);
    FD1("mean of 1-D", f_mean, x, 0, 0);
    tt_tensor_free(x);
    x = randn_transposed(2, TT_SHAPE(3, 4), 84);
    for (int axis = 0; axis < 2; axis++) {
        snprintf(label, sizeof label, "sum of a view, axis %d", axis);
        FD1(label, f_sum, x, axis, 0);
        snprintf(label, sizeof label, "mean of a view, axis %d", axis);
        FD1(label, f_mean, x, axis, 1);
    }
    FD1("sum_all of a view", f_sum_all, x, 0);
    FD1("mean_all of a view", f_mean_all, x, 0);
    tt_tensor_free(x);
    tt_tensor *base = distinct(2, TT_SHAPE(4, 3), 85), *view = NULL;
    CHECK_OK(tt_tensor_transpose(&view, base, 0, 1));
    FD1("max of a view, axis 1", f_max, view, 1, 0);
    FD1("max of a view, axis 0", f_max, view, 0, 1);
    tt_tensor_free(view);
    tt_tensor_free(base);
}

static void test_max_gradient_goes_to_first_maximum(void)
{
    /* Ties: only the first maximal element along the axis gets the gradient. */
    tt_tensor *x = from(2, TT_SHAPE(2, 3), (const float[]){1, 3, 3, 2, 2, 0}), *m = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_max(&m, x, 1, false));
    tt_tensor *g = from(1, TT_SHAPE(2), (const float[]){10, 20});
    CHECK_OK(tt_backward_with(m, g));
    float got[6] = {0};
    CHECK(x->grad != NULL);
    if (x->grad)
        CHECK_OK(tt_tensor_to_array(x->grad, got, 6));
    const float want[6] = {0, 10, 0, 20, 0, 0};
    for (int i = 0; i < 6; i++)
        CHECK(got[i] == want[i]);
    tt_tensor_free(g);
    tt_tensor_free(m);
    tt_tensor_free(x);
}

static void test_fd_views(void)
{
    char label[96];
    tt_tensor *x = randn(3, TT_SHAPE(2, 3, 4), 91);
    FD1("copy", f_copy, x, 0);
    FD1("reshape to [6,4]", f_reshape, x, 2, 6, 4);
    FD1("reshape to [4,-1]", f_reshape, x, 2, 4, -1);
    FD1("reshape to [24]", f_reshape, x, 1, 24);
    FD1("transpose 0 2", f_transpose, x, 0, 2);
    FD1("transpose -1 -2", f_transpose, x, -1, -2);
    for (int dim = 0; dim < 3; dim++) {
        snprintf(label, sizeof label, "slice dim %d [1,2)", dim);
        FD1(label, f_slice, x, dim, 1, 2);
        snprintf(label, sizeof label, "slice dim %d [0,%zu)", dim, x->shape[dim]);
        FD1(label, f_slice, x, dim, 0, (long)x->shape[dim]);
    }
    FD1("slice dim -1 [1,3)", f_slice, x, -1, 1, 3);
    tt_tensor_free(x);
    /* Views of views: the reshape of a transpose copies, a slice of it does not. */
    x = randn_transposed(2, TT_SHAPE(3, 4), 92);
    FD1("copy of a view", f_copy, x, 0);
    FD1("reshape of a view", f_reshape, x, 2, 2, 6);
    FD1("slice of a view", f_slice, x, 1, 1, 3);
    FD1("transpose of a view", f_transpose, x, 0, 1);
    tt_tensor_free(x);
}

static void test_fd_activations(void)
{
    tt_tensor *x = randn(2, TT_SHAPE(3, 4), 101);
    away_from_zero(x, 0.1f); /* relu has a kink at 0 */
    FD1("relu", f_relu, x, 0);
    FD1("sigmoid", f_sigmoid, x, 0);
    FD1("tanh", f_tanh, x, 0);
    FD1("gelu", f_gelu, x, 0);
    tt_tensor_free(x);
    /* Larger magnitudes: saturated tails must give small but right gradients. */
    x = from(1, TT_SHAPE(6), (const float[]){-6, -3, -1.5f, 1.5f, 3, 6});
    FD1("sigmoid tails", f_sigmoid, x, 0);
    FD1("tanh tails", f_tanh, x, 0);
    FD1("gelu tails", f_gelu, x, 0);
    tt_tensor_free(x);
    x = randn_transposed(3, TT_SHAPE(2, 3, 2), 102);
    away_from_zero(x, 0.1f);
    FD1("relu of a view", f_relu, x, 0);
    FD1("sigmoid of a view", f_sigmoid, x, 0);
    FD1("tanh of a view", f_tanh, x, 0);
    FD1("gelu of a view", f_gelu, x, 0);
    tt_tensor_free(x);

    /* relu's gradient is exactly 0 for x <= 0 and 1 above. */
    x = from(1, TT_SHAPE(4), (const float[]){-2, 0, 0.5f, 3});
    tt_tensor *y = NULL, *g = from(1, TT_SHAPE(4), (const float[]){1, 1, 1, 1});
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_relu(&y, x));
    CHECK_OK(tt_backward_with(y, g));
    float got[4] = {-1, -1, -1, -1};
    if (x->grad)
        CHECK_OK(tt_tensor_to_array(x->grad, got, 4));
    CHECK(got[0] == 0 && got[1] == 0 && got[2] == 1 && got[3] == 1);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void test_fd_softmax(void)
{
    char label[96];
    tt_tensor *x = randn(2, TT_SHAPE(3, 4), 111);
    for (int axis = -1; axis < 2; axis++) {
        snprintf(label, sizeof label, "softmax [3,4] axis %d", axis);
        FD1(label, f_softmax, x, axis);
    }
    tt_tensor_free(x);
    x = randn(3, TT_SHAPE(2, 3, 4), 112);
    for (int axis = 0; axis < 3; axis++) {
        snprintf(label, sizeof label, "softmax [2,3,4] axis %d", axis);
        FD1(label, f_softmax, x, axis);
    }
    tt_tensor_free(x);
    x = randn_transposed(2, TT_SHAPE(4, 3), 113);
    FD1("softmax of a view", f_softmax, x, -1);
    tt_tensor_free(x);
    /* Shifted far from 0: the backward must be as stable as the forward. */
    x = from(2, TT_SHAPE(2, 3), (const float[]){100, 101, 99, -100, -101, -99.5f});
    /* h relative to |x| would be 1 here: take an absolute step of 1e-2. */
    gc_check_op((gc_op_spec){.label = "softmax of large logits", .fwd = f_softmax, .n_in = 1,
                             .in = {x}, .grad = {true}, .p = {1}, .h = 1e-4});
    tt_tensor_free(x);
}

static void test_fd_dropout(void)
{
    CHECK_OK(tt_dropout_new(&dropout_layer, 0.4f, &dropout_rng));
    tt_tensor *x = randn(2, TT_SHAPE(4, 5), 121);
    FD1("dropout p=0.4", f_dropout, x, 7);
    /* The gradient is the mask itself: 0 or 1/(1-p) = 1/0.6, both present. */
    tt_tensor *y = NULL, *g = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(f_dropout(&y, (tt_tensor *const[]){x}, (const long[]){7}));
    CHECK(y && y->grad_fn && y->grad_fn->saved);
    CHECK_OK(tt_tensor_full(&g, 2, TT_SHAPE(4, 5), 1.0f));
    CHECK_OK(tt_backward_with(y, g));
    int zeros = 0, kept = 0;
    for (size_t i = 0; x->grad && i < 20; i++) {
        float v = value_at(x->grad, i);
        zeros += v == 0.0f;
        kept += fabsf(v - 1.0f / 0.6f) < 1e-6f;
    }
    CHECK(zeros > 0 && kept > 0 && zeros + kept == 20);
    tt_tensor_free(g);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(dropout_layer);
    dropout_layer = NULL;
}

static void test_fd_losses(void)
{
    tt_tensor *p = randn(2, TT_SHAPE(3, 4), 131), *t = randn(2, TT_SHAPE(3, 4), 132);
    FD2("mse", f_mse, p, t, true, false);
    tt_tensor_free(p);
    tt_tensor_free(t);
    p = randn_transposed(2, TT_SHAPE(2, 3), 133);
    t = randn(2, TT_SHAPE(2, 3), 134);
    FD2("mse of a view", f_mse, p, t, true, false);
    tt_tensor_free(p);
    tt_tensor_free(t);

    /* BCE inside the clamp, hard and soft labels; h small: log is curved. */
    p = uniform(2, TT_SHAPE(2, 4), 0.2f, 0.8f, 135);
    t = from(2, TT_SHAPE(2, 4), (const float[]){0, 1, 1, 0, 0.3f, 0.9f, 0, 1});
    gc_check_op((gc_op_spec){.label = "bce", .fwd = f_bce, .n_in = 2, .in = {p, t},
                             .grad = {true, false}, .h = 1e-3});
    tt_tensor_free(p);
    tt_tensor_free(t);

    tt_tensor *z = randn(2, TT_SHAPE(3, 5), 136);
    t = from(1, TT_SHAPE(3), (const float[]){0, 4, 2});
    FD2("cross_entropy", f_cross_entropy, z, t, true, false);
    tt_tensor_free(z);
    z = randn_transposed(2, TT_SHAPE(4, 3), 137);
    tt_tensor *t4 = from(1, TT_SHAPE(4), (const float[]){2, 2, 0, 1});
    FD2("cross_entropy of a view", f_cross_entropy, z, t4, true, false);
    tt_tensor_free(z);
    tt_tensor_free(t4);
    tt_tensor_free(t);
}

static void test_bce_gradient_is_zero_where_clamped(void)
{
    /* p = 0 and p = 1 are clamped to eps and 1-eps: the loss is flat there. In
     * between, d/dp = (p - t) / (p (1 - p)) / N. */
    tt_tensor *p = from(1, TT_SHAPE(4), (const float[]){0.0f, 1.0f, 0.25f, 1e-9f});
    tt_tensor *t = from(1, TT_SHAPE(4), (const float[]){1, 0, 1, 1}), *l = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(p, true));
    CHECK_OK(tt_bce_loss(&l, p, t));
    CHECK_OK(tt_backward(l));
    float g[4] = {NAN, NAN, NAN, NAN};
    if (p->grad)
        CHECK_OK(tt_tensor_to_array(p->grad, g, 4));
    CHECK(g[0] == 0.0f && g[1] == 0.0f && g[3] == 0.0f);
    CHECK_NEAR(g[2], (0.25 - 1.0) / (0.25 * 0.75) / 4.0, 1e-6, 1e-6);
    CHECK(t->grad == NULL); /* targets never receive gradients */
    tt_tensor_free(l);
    tt_tensor_free(p);
    tt_tensor_free(t);
}

static void test_fd_composite(void)
{
    tt_tensor *a = randn(2, TT_SHAPE(3, 4), 141), *b = randn(2, TT_SHAPE(1, 4), 142);
    FD2("chain with reuse and broadcast", f_chain, a, b, true, true);
    tt_tensor_free(a);
    tt_tensor_free(b);
}

/* ================================================================ NumPy fixture */

static void check_grad_fixture(const fixtures *fx, const tt_tensor *t, const char *name)
{
    const fixture *f = fixture_find(fx, name);
    CHECK(f != NULL && t->grad != NULL);
    if (!f || !t->grad)
        return;
    CHECK(f->numel == tt_tensor_numel(t->grad) && f->ndim == t->ndim);
    for (size_t i = 0; i < f->numel && i < tt_tensor_numel(t->grad); i++) {
        float got = value_at(t->grad, i);
        if (!(fabs((double)got - f->data[i]) <= 1e-5 + 1e-4 * fabs(f->data[i])))
            fprintf(stderr, "%s: %s[%zu]\n", harness_current, name, i);
        CHECK_NEAR(got, f->data[i], 1e-5, 1e-4);
    }
}

static void test_mlp_gradients_match_numpy(void)
{
    fixtures *fx = fixtures_load("autograd");
    CHECK(fx != NULL);
    if (!fx)
        return;
    tt_tensor *x = fixture_tensor(fx, "mlp.x"), *w1 = fixture_tensor(fx, "mlp.w1");
    tt_tensor *b1 = fixture_tensor(fx, "mlp.b1"), *w2 = fixture_tensor(fx, "mlp.w2");
    tt_tensor *b2 = fixture_tensor(fx, "mlp.b2"), *y = fixture_tensor(fx, "mlp.y");
    tt_tensor *h = NULL, *hb = NULL, *a = NULL, *z = NULL, *zb = NULL, *loss = NULL;
    CHECK(x && w1 && b1 && w2 && b2 && y);
    if (!(x && w1 && b1 && w2 && b2 && y))
        goto done;
    tt_tensor *params[] = {w1, b1, w2, b2};
    for (int i = 0; i < 4; i++)
        CHECK_OK(tt_tensor_set_requires_grad(params[i], true));
    /* loss = cross_entropy(relu(x w1 + b1) w2 + b2, y) */
    CHECK_OK(tt_tensor_matmul(&h, x, w1));
    CHECK_OK(tt_tensor_add(&hb, h, b1));
    CHECK_OK(tt_relu(&a, hb));
    CHECK_OK(tt_tensor_matmul(&z, a, w2));
    CHECK_OK(tt_tensor_add(&zb, z, b2));
    CHECK_OK(tt_cross_entropy_loss(&loss, zb, y));
    float l = NAN;
    CHECK_OK(tt_tensor_item(loss, &l));
    const fixture *fl = fixture_find(fx, "mlp.loss");
    CHECK(fl != NULL);
    if (fl)
        CHECK_NEAR(l, fl->data[0], 1e-5, 1e-5);
    CHECK_OK(tt_backward(loss));
    check_grad_fixture(fx, w1, "mlp.grad_w1");
    check_grad_fixture(fx, b1, "mlp.grad_b1");
    check_grad_fixture(fx, w2, "mlp.grad_w2");
    check_grad_fixture(fx, b2, "mlp.grad_b2");
    CHECK(x->grad == NULL && y->grad == NULL);
done:
    tt_tensor_free(h);
    tt_tensor_free(hb);
    tt_tensor_free(a);
    tt_tensor_free(z);
    tt_tensor_free(zb);
    tt_tensor_free(loss);
    tt_tensor_free(x);
    tt_tensor_free(w1);
    tt_tensor_free(b1);
    tt_tensor_free(w2);
    tt_tensor_free(b2);
    tt_tensor_free(y);
    fixtures_free(fx);
}

static void test_attention_like_gradients_match_numpy(void)
{
    /* loss = mse(softmax(q k^T / 2, -1) v, t), batched over 2, with k shared by
     * reference through a transpose view: exercises 3-D matmul, transpose, softmax,
     * mul_scalar and mse together against NumPy (float64 analytic gradients). */
    fixtures *fx = fixtures_load("autograd");
    CHECK(fx != NULL);
    if (!fx)
        return;
    tt_tensor *q = fixture_tensor(fx, "attn.q"), *k = fixture_tensor(fx, "attn.k");
    tt_tensor *v = fixture_tensor(fx, "attn.v"), *t = fixture_tensor(fx, "attn.t");
    tt_tensor *kt = NULL, *s = NULL, *ss = NULL, *p = NULL, *o = NULL, *loss = NULL;
    CHECK(q && k && v && t);
    if (!(q && k && v && t))
        goto done;
    CHECK_OK(tt_tensor_set_requires_grad(q, true));
    CHECK_OK(tt_tensor_set_requires_grad(k, true));
    CHECK_OK(tt_tensor_set_requires_grad(v, true));
    CHECK_OK(tt_tensor_transpose(&kt, k, -1, -2));
    CHECK_OK(tt_tensor_matmul(&s, q, kt));
    CHECK_OK(tt_tensor_mul_scalar(&ss, s, 0.5f));
    CHECK_OK(tt_softmax(&p, ss, -1));
    CHECK_OK(tt_tensor_matmul(&o, p, v));
    CHECK_OK(tt_mse_loss(&loss, o, t));
    CHECK_OK(tt_backward(loss));
    check_grad_fixture(fx, q, "attn.grad_q");
    check_grad_fixture(fx, k, "attn.grad_k");
    check_grad_fixture(fx, v, "attn.grad_v");
done:
    tt_tensor_free(kt);
    tt_tensor_free(s);
    tt_tensor_free(ss);
    tt_tensor_free(p);
    tt_tensor_free(o);
    tt_tensor_free(loss);
    tt_tensor_free(q);
    tt_tensor_free(k);
    tt_tensor_free(v);
    tt_tensor_free(t);
    fixtures_free(fx);
}

/* ================================================================ accumulation */

static void check_grad_values(const tt_tensor *t, const float *want, size_t n)
{
    CHECK(t->grad != NULL);
    if (!t->grad)
        return;
    CHECK(tt_tensor_numel(t->grad) == n);
    for (size_t i = 0; i < n && i < tt_tensor_numel(t->grad); i++)
        CHECK_NEAR(value_at(t->grad, i), want[i], 1e-6, 1e-6);
}

static void test_x_times_x(void)
{
    /* Both inputs of one node are the same tensor: two contributions, 2x. */
    tt_tensor *x = from(1, TT_SHAPE(3), (const float[]){1, -2, 3}), *y = NULL, *l = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_mul(&y, x, x));
    CHECK_OK(tt_tensor_sum_all(&l, y));
    CHECK_OK(tt_backward(l));
    check_grad_values(x, (const float[]){2, -4, 6}, 3);
    tt_tensor_free(l);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void test_input_reused_in_two_branches(void)
{
    /* l = sum(3x) + sum(x*x) + sum(relu(x)): three paths into x, one of them through
     * an intermediate consumed twice (y feeds both u and v). */
    tt_tensor *x = from(1, TT_SHAPE(3), (const float[]){1, -2, 3});
    tt_tensor *y = NULL, *u = NULL, *v = NULL, *w = NULL, *uv = NULL, *s = NULL, *l = NULL;
    tt_tensor *r = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_mul_scalar(&y, x, 3.0f)); /* y = 3x */
    CHECK_OK(tt_tensor_mul(&w, x, x));            /* w = x^2 */
    CHECK_OK(tt_relu(&r, x));
    CHECK_OK(tt_tensor_add(&u, y, w));            /* u = 3x + x^2 */
    CHECK_OK(tt_tensor_mul_scalar(&v, y, 2.0f));  /* v = 6x (y used twice) */
    CHECK_OK(tt_tensor_add(&uv, u, v));
    CHECK_OK(tt_tensor_add(&s, uv, r));
    CHECK_OK(tt_tensor_sum_all(&l, s));
    CHECK_OK(tt_backward(l));
    /* d/dx = 3 + 2x + 6 + (x > 0) */
    check_grad_values(x, (const float[]){3 + 2 + 6 + 1, 3 - 4 + 6, 3 + 6 + 6 + 1}, 3);
    /* Intermediates get their gradient too (d l / d y = 1 + 2 = 3 each). */
    check_grad_values(y, (const float[]){3, 3, 3}, 3);
    check_grad_values(w, (const float[]){1, 1, 1}, 3);
    tt_tensor *all[] = {y, u, v, w, uv, s, l, r, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tt_tensor_free(all[i]);
}

static void test_prefilled_grad_and_backward_twice(void)
{
    tt_tensor *x = from(1, TT_SHAPE(2), (const float[]){2, 5}), *y = NULL, *l = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_full(&x->grad, 1, TT_SHAPE(2), 10.0f)); /* pre-filled */
    CHECK_OK(tt_tensor_mul(&y, x, x));
    CHECK_OK(tt_tensor_sum_all(&l, y));
    CHECK_OK(tt_backward(l));
    check_grad_values(x, (const float[]){14, 20}, 2); /* 10 + 2x: added, not overwritten */
    CHECK_OK(tt_backward(l));                        /* the graph is still there */
    check_grad_values(x, (const float[]){18, 30}, 2);
    /* Pre-filled gradient of an intermediate: it collects too, but must not leak into
     * what flows further down (x gets exactly 2x more, not 2x + 100 * dy/dx). */
    tt_tensor_zero_grad(y);
    CHECK_OK(tt_tensor_full(&y->grad, 1, TT_SHAPE(2), 100.0f));
    tt_tensor_zero_grad(x);
    CHECK(x->grad == NULL);
    CHECK_OK(tt_backward(l));
    check_grad_values(x, (const float[]){4, 10}, 2);
    check_grad_values(y, (const float[]){101, 101}, 2);
    tt_tensor_free(l);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void test_gradient_of_a_leaf_root_and_backward_with(void)
{
    /* The root itself a leaf: backward just seeds its gradient. */
    tt_tensor *x = from(0, NULL, (const float[]){4});
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_backward(x));
    check_grad_values(x, (const float[]){1}, 1);
    tt_tensor_free(x);
    /* backward_with on a non-scalar: a vector-Jacobian product. */
    tt_tensor *a = from(2, TT_SHAPE(2, 2), (const float[]){1, 2, 3, 4}), *y = NULL;
    tt_tensor *g = from(2, TT_SHAPE(2, 2), (const float[]){1, 0, 0, 2});
    CHECK_OK(tt_tensor_set_requires_grad(a, true));
    CHECK_OK(tt_tensor_mul_scalar(&y, a, 5.0f));
    CHECK_OK(tt_backward_with(y, g));
    check_grad_values(a, (const float[]){5, 0, 0, 10}, 4);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(a);
}

static void test_only_inputs_requiring_grad_receive_one(void)
{
    tt_tensor *a = randn(2, TT_SHAPE(2, 3), 151), *b = randn(2, TT_SHAPE(3, 2), 152);
    tt_tensor *c = NULL, *l = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(b, true));
    CHECK_OK(tt_tensor_matmul(&c, a, b));
    CHECK_OK(tt_tensor_sum_all(&l, c));
    CHECK_OK(tt_backward(l));
    CHECK(a->grad == NULL && b->grad != NULL);
    tt_tensor_free(l);
    tt_tensor_free(c);
    tt_tensor_free(a);
    tt_tensor_free(b);
}

/* ================================================================ graph lifetime */

/* y = x; repeat n times: y = y * 1.0001 + 0.001, freeing every intermediate at once.
 * Only the last y holds the chain of 2n nodes. */
static tt_tensor *deep_chain(tt_tensor *x, int n)
{
    tt_tensor *y = tt_tensor_retain(x);
    for (int i = 0; i < n && y; i++) {
        tt_tensor *m = NULL, *a = NULL;
        CHECK_OK(tt_tensor_mul_scalar(&m, y, 1.0001f));
        tt_tensor_free(y);
        CHECK_OK(tt_tensor_add_scalar(&a, m, 0.001f));
        tt_tensor_free(m);
        y = a;
    }
    return y;
}

static void test_deep_graph_backward_and_free(void)
{
    int n = getenv("TT_UNDER_VALGRIND") ? 10000 : 100000;
    size_t live_before = tt_alloc_live();
    tt_tensor *x = from(0, NULL, (const float[]){1});
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    tt_tensor *y = deep_chain(x, n);
    CHECK(y != NULL && y->grad_fn != NULL);
    CHECK_OK(tt_backward(y));
    /* dy/dx = 1.0001f^n, within float rounding over n multiplications. */
    CHECK(x->grad != NULL);
    if (x->grad)
        CHECK_NEAR(value_at(x->grad, 0), pow((double)1.0001f, n), 0, 1e-3);
    tt_tensor_free(y); /* releases 2n nodes without recursing 2n deep */
    tt_tensor_free(x);
    CHECK(tt_alloc_live() == live_before);

    /* And a deep graph freed without ever running backward. */
    x = from(0, NULL, (const float[]){1});
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    y = deep_chain(x, 10000);
    tt_tensor_free(x); /* the graph keeps x alive */
    tt_tensor_free(y);
    CHECK(tt_alloc_live() == live_before);
}

static void test_intermediates_freed_before_backward(void)
{
    tt_tensor *w = from(2, TT_SHAPE(2, 2), (const float[]){1, 2, 3, 4});
    tt_tensor *x = from(2, TT_SHAPE(1, 2), (const float[]){1, -1});
    tt_tensor *h = NULL, *r = NULL, *l = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(w, true));
    CHECK_OK(tt_tensor_matmul(&h, x, w)); /* [1-3, 2-4] = [-2, -2] */
    CHECK_OK(tt_tensor_mul(&r, h, h));
    tt_tensor_free(h);
    CHECK_OK(tt_tensor_sum_all(&l, r));
    tt_tensor_free(r);
    /* Only l (and the caller's leaves) remain: the graph holds the rest. */
    CHECK_OK(tt_backward(l));
    /* dl/dw[i][j] = x[i] * 2 h[j] */
    check_grad_values(w, (const float[]){-4, -4, 4, 4}, 4);
    tt_tensor_free(l);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

static void test_graph_keeps_leaves_alive(void)
{
    tt_tensor *x = from(1, TT_SHAPE(2), (const float[]){1, 2}), *y = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_mul_scalar(&y, x, 2.0f));
    CHECK(x->refcount == 2 && y->grad_fn && y->grad_fn->inputs[0] == x);
    CHECK(y->grad_fn->op == &tt_ops[TT_OP_MUL_SCALAR] && y->grad_fn->args.f[0] == 2.0f);
    tt_tensor_free(x);
    CHECK(y->grad_fn->inputs[0]->refcount == 1);
    tt_tensor_free(y);
}

/* ================================================================ grad mode */

static void test_no_grad_records_nothing(void)
{
    tt_tensor *x = from(1, TT_SHAPE(2), (const float[]){1, 2}), *y = NULL, *z = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK(tt_grad_is_enabled());
    CHECK(tt_grad_set_enabled(false) == true);
    CHECK(!tt_grad_is_enabled());
    size_t live = tt_alloc_live();
    CHECK_OK(tt_tensor_mul(&y, x, x));
    size_t allocated_off = tt_alloc_live() - live;
    CHECK(y->grad_fn == NULL && !y->requires_grad);
    CHECK(!tt_autograd_needed(1, (tt_tensor *const[]){x}));
    CHECK(tt_grad_set_enabled(true) == false);
    CHECK(tt_autograd_needed(2, (tt_tensor *const[]){NULL, x}));
    CHECK(!tt_autograd_needed(1, (tt_tensor *const[]){y}));
    CHECK_OK(tt_tensor_sum_all(&z, y)); /* y is a constant now */
    CHECK(z->grad_fn == NULL && !z->requires_grad);
    CHECK_STATUS(tt_backward(z), TT_ERR_STATE);
    tt_tensor_free(z);
    /* With grad mode on, the same op makes exactly one more block: the node. */
    live = tt_alloc_live();
    CHECK_OK(tt_tensor_mul(&z, x, x));
    CHECK(tt_alloc_live() - live == allocated_off + 1);
    CHECK(z->grad_fn != NULL && z->requires_grad);
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_tensor_free(z);
}

static void *other_thread(void *arg)
{
    bool *seen = arg;
    seen[0] = tt_grad_is_enabled();
    tt_grad_set_enabled(false);
    seen[1] = tt_grad_is_enabled();
    return NULL;
}

static void test_grad_mode_is_per_thread(void)
{
    bool was = tt_grad_set_enabled(false);
    bool seen[2] = {false, true};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, other_thread, seen) == 0);
    pthread_join(th, NULL);
    CHECK(seen[0] == true && seen[1] == false); /* a new thread starts enabled */
    CHECK(!tt_grad_is_enabled());               /* and did not touch ours */
    tt_grad_set_enabled(true);
    CHECK(tt_grad_is_enabled());
    tt_grad_set_enabled(was);
}

/* ================================================================ reduce_to_shape */

static void test_reduce_to_shape(void)
{
    float data[24];
    for (int i = 0; i < 24; i++)
        data[i] = (float)i;
    tt_tensor *g = from(3, TT_SHAPE(4, 2, 3), data), *r = NULL;

    /* [4,2,3] -> [2,1]: sum over the added dim 0 and the size-1 dim 2. */
    CHECK_OK(tt_grad_reduce_to_shape(&r, g, 2, TT_SHAPE(2, 1)));
    CHECK(r && r->ndim == 2 && r->shape[0] == 2 && r->shape[1] == 1);
    for (int j = 0; j < 2 && r; j++) {
        float want = 0;
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 3; k++)
                want += data[i * 6 + j * 3 + k];
        CHECK(value_at(r, (size_t)j) == want);
    }
    tt_tensor_free(r);

    /* -> [3] (leading dims), -> [4,1,3] (keepdim), -> [] (everything). */
    CHECK_OK(tt_grad_reduce_to_shape(&r, g, 1, TT_SHAPE(3)));
    CHECK(r && r->ndim == 1 && value_at(r, 0) == 0 + 3 + 6 + 9 + 12 + 15 + 18 + 21);
    tt_tensor_free(r);
    CHECK_OK(tt_grad_reduce_to_shape(&r, g, 3, TT_SHAPE(4, 1, 3)));
    CHECK(r && r->shape[1] == 1 && value_at(r, 4) == 7 + 10); /* [1,0,1] = g[1,0,1] + g[1,1,1] */
    tt_tensor_free(r);
    CHECK_OK(tt_grad_reduce_to_shape(&r, g, 0, NULL));
    CHECK(r && r->ndim == 0 && value_at(r, 0) == 276);
    tt_tensor_free(r);

    /* The same shape: the same values (here the tensor itself, retained). */
    CHECK_OK(tt_grad_reduce_to_shape(&r, g, 3, g->shape));
    CHECK(r && tt_tensor_same_shape(r, g) && value_at(r, 23) == 23);
    tt_tensor_free(r);

    /* A non-contiguous gradient. */
    tt_tensor *gt = NULL;
    CHECK_OK(tt_tensor_transpose(&gt, g, 0, 2)); /* [3,2,4] */
    CHECK_OK(tt_grad_reduce_to_shape(&r, gt, 1, TT_SHAPE(4)));
    CHECK(r && value_at(r, 1) == 6 + 7 + 8 + 9 + 10 + 11);
    tt_tensor_free(r);
    tt_tensor_free(gt);

    /* Shapes that do not broadcast to the gradient's. */
    r = g; /* must become NULL */
    CHECK_STATUS(tt_grad_reduce_to_shape(&r, g, 1, TT_SHAPE(4)), TT_ERR_SHAPE);
    CHECK(r == NULL);
    CHECK_ERROR_MENTIONS("[4]");
    CHECK_ERROR_MENTIONS("[4,2,3]");
    CHECK_STATUS(tt_grad_reduce_to_shape(&r, g, 4, TT_SHAPE(1, 4, 2, 3)), TT_ERR_SHAPE);
    CHECK_STATUS(tt_grad_reduce_to_shape(&r, g, 2, TT_SHAPE(3, 3)), TT_ERR_SHAPE);
    CHECK_STATUS(tt_grad_reduce_to_shape(&r, NULL, 0, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_grad_reduce_to_shape(NULL, g, 0, NULL), TT_ERR_INVALID_ARG);
    tt_tensor_free(g);
}

/* ================================================================ errors */

static void test_backward_errors(void)
{
    tt_tensor *x = from(1, TT_SHAPE(2), (const float[]){1, 2}), *y = NULL, *g = NULL;
    /* Nothing requires a gradient. */
    CHECK_OK(tt_tensor_sum_all(&y, x));
    CHECK_STATUS(tt_backward(y), TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("tt_backward");
    CHECK_ERROR_MENTIONS("require");
    tt_tensor_free(y);
    /* Not a single element. */
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_mul_scalar(&y, x, 2.0f));
    CHECK_STATUS(tt_backward(y), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[2]");
    CHECK(x->grad == NULL);
    /* backward_with with a gradient of the wrong shape. */
    CHECK_OK(tt_tensor_zeros(&g, 1, TT_SHAPE(3)));
    CHECK_STATUS(tt_backward_with(y, g), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[3]");
    CHECK_STATUS(tt_backward_with(y, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_backward_with(NULL, g), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_backward(NULL), TT_ERR_INVALID_ARG);
    CHECK(x->grad == NULL);
    /* accumulate_grad with the wrong shape, then right. */
    CHECK_STATUS(tt_accumulate_grad(x, g), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("tt_accumulate_grad");
    CHECK(x->grad == NULL);
    CHECK_STATUS(tt_accumulate_grad(NULL, g), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_accumulate_grad(x, NULL), TT_ERR_INVALID_ARG);
    tt_tensor_free(g);
    CHECK_OK(tt_tensor_full(&g, 1, TT_SHAPE(2), 0.5f));
    CHECK_OK(tt_accumulate_grad(x, g));
    CHECK_OK(tt_accumulate_grad(x, g));
    check_grad_values(x, (const float[]){1, 1}, 2);
    CHECK(x->grad != g); /* a copy, never the caller's tensor */
    /* A non-leaf cannot stop requiring a gradient; a leaf can. */
    CHECK_STATUS(tt_tensor_set_requires_grad(y, false), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("leaf");
    CHECK(y->requires_grad);
    CHECK_OK(tt_tensor_set_requires_grad(y, true));
    CHECK_STATUS(tt_tensor_set_requires_grad(NULL, true), TT_ERR_INVALID_ARG);
    CHECK_OK(tt_tensor_set_requires_grad(x, false));
    tt_tensor_zero_grad(NULL);
    tt_tensor_free(g);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void test_record_errors(void)
{
    tt_tensor *x = from(1, TT_SHAPE(2), (const float[]){1, 2}), *y = NULL;
    CHECK_OK(tt_tensor_zeros(&y, 1, TT_SHAPE(2)));
    tt_tensor *in[4] = {x, x, x, x};
    /* Nothing requires a gradient: recording is a no-op. */
    CHECK_OK(tt_autograd_record(y, &tt_ops[TT_OP_COPY], 1, in, NULL, NULL));
    CHECK(y->grad_fn == NULL);
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_STATUS(tt_autograd_record(y, &tt_ops[TT_OP_COPY], 4, in, NULL, NULL),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("4 inputs");
    CHECK_STATUS(tt_autograd_record(y, NULL, 1, in, NULL, NULL), TT_ERR_INVALID_ARG);
    CHECK(y->grad_fn == NULL && !y->requires_grad);
    CHECK_OK(tt_autograd_record(y, &tt_ops[TT_OP_COPY], 1, in, NULL, NULL));
    CHECK(y->grad_fn && y->requires_grad && x->refcount == 2);
    CHECK_STATUS(tt_autograd_record(y, &tt_ops[TT_OP_COPY], 1, in, NULL, NULL),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("already recorded");
    tt_node_release(NULL);
    tt_tensor_free(y);
    CHECK(x->refcount == 1);
    tt_tensor_free(x);
}

/* An op without a backward function (as a later module could define by mistake). */
static const tt_op no_backward_op = {"no_backward", NULL};

static void test_op_without_backward(void)
{
    tt_tensor *x = from(0, NULL, (const float[]){1}), *y = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_zeros(&y, 0, NULL));
    CHECK_OK(tt_autograd_record(y, &no_backward_op, 1, (tt_tensor *const[]){x}, NULL, NULL));
    CHECK_STATUS(tt_backward(y), TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("no_backward");
    CHECK(tt_grad_is_enabled()); /* restored after the failure */
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* A backward function that starts another pass: refused, and the outer pass fails
 * with that error and leaves grad mode as it found it. */
static tt_status nested_backward(tt_node *node, tt_tensor *g)
{
    (void)g;
    return tt_backward(node->inputs[0]);
}
static const tt_op nested_op = {"nested", nested_backward};

static void test_backward_inside_backward(void)
{
    tt_tensor *x = from(0, NULL, (const float[]){1}), *y = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_zeros(&y, 0, NULL));
    CHECK_OK(tt_autograd_record(y, &nested_op, 1, (tt_tensor *const[]){x}, NULL, NULL));
    CHECK_STATUS(tt_backward(y), TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("another backward");
    CHECK(tt_grad_is_enabled());
    CHECK(x->grad == NULL);
    /* The failed pass left nothing behind that blocks the next one. */
    tt_tensor *z = NULL;
    CHECK_OK(tt_tensor_mul_scalar(&z, x, 3.0f));
    CHECK_OK(tt_backward(z));
    check_grad_values(x, (const float[]){3}, 1);
    tt_tensor_free(z);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* The small graph of the next test: loss = mean(relu(x w + b) * x') with x' = x[:, :2]. */
static tt_status small_graph(tt_tensor **loss, tt_tensor *x, tt_tensor *w, tt_tensor *b)
{
    tt_status st = TT_OK;
    tt_tensor *h = NULL, *hb = NULL, *r = NULL, *xs = NULL, *m = NULL;
    TT_CHECK(tt_tensor_matmul(&h, x, w));
    TT_CHECK(tt_tensor_add(&hb, h, b));
    TT_CHECK(tt_relu(&r, hb));
    TT_CHECK(tt_tensor_slice(&xs, x, 1, 0, 2));
    TT_CHECK(tt_tensor_mul(&m, r, xs));
    TT_CHECK(tt_tensor_mean_all(loss, m));
cleanup:
    tt_tensor_free(h);
    tt_tensor_free(hb);
    tt_tensor_free(r);
    tt_tensor_free(xs);
    tt_tensor_free(m);
    return st;
}

static void test_allocation_failures_in_backward(void)
{
    tt_tensor *x = randn(2, TT_SHAPE(3, 4), 161), *w = randn(2, TT_SHAPE(4, 2), 162);
    tt_tensor *b = randn(1, TT_SHAPE(2), 163), *loss = NULL;
    tt_tensor *params[] = {x, w, b};
    for (int i = 0; i < 3; i++)
        CHECK_OK(tt_tensor_set_requires_grad(params[i], true));
    CHECK_OK(small_graph(&loss, x, w, b));
    CHECK_OK(tt_backward(loss));
    float want[3][12];
    for (int i = 0; i < 3; i++)
        CHECK_OK(tt_tensor_to_array(params[i]->grad, want[i], 12));

    int failures = 0;
    bool finished = false;
    for (long n = 0; n < 1000 && !finished; n++) {
        for (int i = 0; i < 3; i++)
            tt_tensor_zero_grad(params[i]);
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_backward(loss);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            finished = true;
            break;
        }
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK_ERROR_MENTIONS("out of memory");
        CHECK(tt_grad_is_enabled());
        /* Whatever was released; only gradients already accumulated remain. */
        size_t grads = 0;
        for (int i = 0; i < 3; i++)
            grads += params[i]->grad ? 3 : 0;
        CHECK(tt_alloc_live() <= live + grads + 3 * 8 /* intermediates' .grad */);
    }
    CHECK(finished);
    CHECK(failures > 5); /* the backward really allocates: the loop tested something */
    /* After all that, a clean backward still gives the same gradients. */
    for (int i = 0; i < 3; i++)
        tt_tensor_zero_grad(params[i]);
    CHECK_OK(tt_backward(loss));
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < tt_tensor_numel(params[i]); j++)
            CHECK(value_at(params[i]->grad, j) == want[i][j]);
    tt_tensor_free(loss);
    for (int i = 0; i < 3; i++)
        tt_tensor_free(params[i]);
}

static void test_allocation_failures_in_recording(void)
{
    /* Each allocation of a recorded forward fails in turn: *out stays NULL, the
     * inputs keep their reference counts, nothing leaks. */
    tt_tensor *x = randn(2, TT_SHAPE(2, 3), 171), *w = randn(2, TT_SHAPE(3, 2), 172);
    tt_tensor *b = randn(1, TT_SHAPE(2), 173);
    CHECK_OK(tt_tensor_set_requires_grad(w, true));
    bool finished = false;
    for (long n = 0; n < 200 && !finished; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *loss = NULL;
        tt_alloc_fail_after(n);
        tt_status st = small_graph(&loss, x, w, b);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            finished = true;
            CHECK(loss && loss->grad_fn);
            tt_tensor_free(loss);
        } else {
            CHECK_STATUS(st, TT_ERR_NOMEM);
            CHECK(loss == NULL);
        }
        CHECK(tt_alloc_live() == live);
        CHECK(x->refcount == 1 && w->refcount == 1 && b->refcount == 1);
    }
    CHECK(finished);
    tt_tensor_free(x);
    tt_tensor_free(w);
    tt_tensor_free(b);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    RUN(test_fd_elementwise_binary);
    RUN(test_fd_scalar_ops);
    RUN(test_fd_matmul);
    RUN(test_fd_reductions);
    RUN(test_max_gradient_goes_to_first_maximum);
    RUN(test_fd_views);
    RUN(test_fd_activations);
    RUN(test_fd_softmax);
    RUN(test_fd_dropout);
    RUN(test_fd_losses);
    RUN(test_bce_gradient_is_zero_where_clamped);
    RUN(test_fd_composite);
    RUN(test_mlp_gradients_match_numpy);
    RUN(test_attention_like_gradients_match_numpy);
    RUN(test_x_times_x);
    RUN(test_input_reused_in_two_branches);
    RUN(test_prefilled_grad_and_backward_twice);
    RUN(test_gradient_of_a_leaf_root_and_backward_with);
    RUN(test_only_inputs_requiring_grad_receive_one);
    RUN(test_deep_graph_backward_and_free);
    RUN(test_intermediates_freed_before_backward);
    RUN(test_graph_keeps_leaves_alive);
    RUN(test_no_grad_records_nothing);
    RUN(test_grad_mode_is_per_thread);
    RUN(test_reduce_to_shape);
    RUN(test_backward_errors);
    RUN(test_record_errors);
    RUN(test_op_without_backward);
    RUN(test_backward_inside_backward);
    RUN(test_allocation_failures_in_backward);
    RUN(test_allocation_failures_in_recording);
    return harness_summary();
}
