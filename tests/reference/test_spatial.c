/*
 * Tests of module 09 (spatial) against the reference implementation.
 *
 * Two independent oracles. Values: tests/fixtures/spatial.txt (gen_spatial.py), where
 * NumPy computes convolution as the direct seven-deep loop over a zero-padded input
 * (never im2col), its gradients by scattering each output's gradient back into the
 * weight and the input window, pooling window by window and batch normalisation from
 * its definition with the chain rule written out, all in float64. Gradients: central
 * finite differences of L = sum(w * f(x)) for every differentiable op with
 * gradcheck.h's checker, as in the autograd tests (h = GC_H * max(1, |x|), tolerance
 * GC_ATOL + GC_RTOL * |numeric|), for convolution at strides 1 and 2, paddings 0 and 1
 * and several shapes, both pools, batch normalisation in training mode (through the batch statistics) and in
 * evaluation mode, and a conv -> tanh -> pool -> flatten -> matmul chain that would
 * fail if Flatten cut the graph.
 *
 * Besides: views as inputs, one recorded node per op, the layers (seeded Conv2d
 * initialisation predicted by an independent PCG32, parameter order, BatchNorm2d's
 * running statistics and train/eval switch), every documented error with *out NULL,
 * and allocation failures injected into each forward, backward and constructor in
 * turn (the harness checks that nothing leaks).
 */
#include "harness.h"
#include "fixtures.h"
#include "helpers.h"
#include "gradcheck.h"

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/spatial.h"

/* Sums of up to 64 products of O(1) values, rounded in float32 along the way. */
#define ATOL 2e-5
#define RTOL 1e-5

/* Functions that fail must overwrite *out with NULL: tests start it pointing here. */
static tt_tensor not_a_tensor;
static tt_layer not_a_layer;

/* ==================================================================== helpers */

static float fixture_value(const char *name, size_t i)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(f && i < f->numel);
    return f && i < f->numel ? f->data[i] : NAN;
}

/* A non-contiguous view with t's shape and values: the transpose of a copy whose last
 * two dimensions are swapped. The caller frees the view (its storage goes with it). */
static tt_tensor *as_transposed_view(const tt_tensor *t)
{
    size_t shape[TT_MAX_DIMS];
    int nd = t->ndim;
    memcpy(shape, t->shape, sizeof shape);
    shape[nd - 1] = t->shape[nd - 2];
    shape[nd - 2] = t->shape[nd - 1];
    tt_tensor *base = NULL, *view = NULL, *back = NULL;
    CHECK_OK(tt_tensor_zeros(&base, nd, shape));
    CHECK_OK(tt_tensor_transpose(&view, base, -1, -2));
    CHECK_OK(tt_tensor_assign(view, t));
    tt_tensor_free(base);
    (void)back;
    CHECK(view && !tt_tensor_is_contiguous(view));
    return view;
}

/* Bit-for-bit equality of two tensors' values. */
static bool same_values(const tt_tensor *a, const tt_tensor *b)
{
    if (!a || !b || !tt_tensor_same_shape(a, b))
        return false;
    size_t n = tt_tensor_numel(a);
    for (size_t i = 0; i < n; i++)
        if (value_at(a, i) != value_at(b, i))
            return false;
    return true;
}

/* ========================================================= finite differences */

static tt_status f_conv(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_conv2d(o, in[0], in[1], in[2], (size_t)p[0], (size_t)p[1]);
}
static tt_status f_maxpool(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_maxpool2d(o, in[0], (size_t)p[0], (size_t)p[1]);
}
static tt_status f_avgpool(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    return tt_avgpool2d(o, in[0], (size_t)p[0], (size_t)p[1]);
}
static tt_status f_bn_train(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_batchnorm2d(o, in[0], in[1], in[2], NULL, NULL, true, 0.1f, 1e-5f);
}
/* Evaluation mode: the running statistics are fixed tensors of the test. */
static tt_tensor *eval_rm, *eval_rv;
static tt_status f_bn_eval(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_batchnorm2d(o, in[0], in[1], in[2], eval_rm, eval_rv, false, 0.1f, 1e-5f);
}
static tt_status f_flatten(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    return tt_flatten(o, in[0]);
}

/* conv(x, w, b) -> tanh -> avgpool 2 -> flatten -> matmul(., m): the kind of chain a
 * CNN is; a Flatten that copied instead of reshaping would leave w without gradient. */
static tt_tensor *chain_m;
static tt_status f_chain(tt_tensor **o, tt_tensor *const *in, const long *p)
{
    (void)p;
    tt_tensor *c = NULL, *t = NULL, *pool = NULL, *flat = NULL;
    tt_status st = tt_conv2d(&c, in[0], in[1], in[2], 1, 1);
    if (st == TT_OK)
        st = tt_tanh(&t, c);
    if (st == TT_OK)
        st = tt_avgpool2d(&pool, t, 2, 2);
    if (st == TT_OK)
        st = tt_flatten(&flat, pool);
    if (st == TT_OK)
        st = tt_tensor_matmul(o, flat, chain_m);
    tt_tensor_free(c);
    tt_tensor_free(t);
    tt_tensor_free(pool);
    tt_tensor_free(flat);
    return st;
}

/* ================================================================ convolution */

static const char *const conv_cases[] = {"s1p0", "s2p1", "s1p1_rect_nobias", "s2p0_k4",
                                         "s1p2_k1", "s3p1_wide"};
#define N_CONV_CASES (sizeof conv_cases / sizeof conv_cases[0])

typedef struct conv_case {
    tt_tensor *x, *w, *b; /* b NULL for a case without bias */
    size_t stride, padding;
} conv_case;

static conv_case load_conv_case(const char *name)
{
    char key[96];
    conv_case c = {0};
    snprintf(key, sizeof key, "conv.%s.x", name);
    c.x = fixture_tensor(FX, key);
    snprintf(key, sizeof key, "conv.%s.w", name);
    c.w = fixture_tensor(FX, key);
    if (!strstr(name, "nobias")) {
        snprintf(key, sizeof key, "conv.%s.b", name);
        c.b = fixture_tensor(FX, key);
        CHECK(c.b != NULL);
    }
    snprintf(key, sizeof key, "conv.%s.args", name);
    c.stride = (size_t)fixture_value(key, 0);
    c.padding = (size_t)fixture_value(key, 1);
    CHECK(c.x && c.w);
    return c;
}

static void free_conv_case(conv_case *c)
{
    tt_tensor_free(c->x);
    tt_tensor_free(c->w);
    tt_tensor_free(c->b);
}

static void test_conv_forward_values(void)
{
    for (size_t k = 0; k < N_CONV_CASES; k++) {
        conv_case c = load_conv_case(conv_cases[k]);
        tt_tensor *y = &not_a_tensor;
        CHECK_OK(tt_conv2d(&y, c.x, c.w, c.b, c.stride, c.padding));
        char key[96];
        snprintf(key, sizeof key, "conv.%s.y", conv_cases[k]);
        check_tensor_near(y, key, ATOL, RTOL);
        /* Nothing required a gradient: nothing was recorded. */
        CHECK(y && y->grad_fn == NULL && !y->requires_grad);
        tt_tensor_free(y);
        free_conv_case(&c);
    }
}

static void test_conv_output_shapes(void)
{
    /* OH = (H + 2p - k) / s + 1, rounding down: the last partial window is dropped. */
    static const struct {
        size_t h, w, k, s, p, oh, ow;
    } cases[] = {
        {8, 8, 3, 1, 1, 8, 8}, {8, 8, 3, 1, 0, 6, 6}, {8, 8, 3, 2, 1, 4, 4},
        {7, 9, 3, 2, 0, 3, 4}, {5, 5, 5, 1, 0, 1, 1}, {2, 3, 4, 1, 1, 1, 2},
        {32, 32, 3, 1, 1, 32, 32}, {1, 1, 1, 3, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tt_tensor *x = NULL, *w = NULL, *y = NULL;
        CHECK_OK(tt_tensor_full(&x, 4, TT_SHAPE(2, 3, cases[i].h, cases[i].w), 1.0f));
        CHECK_OK(tt_tensor_full(&w, 4, TT_SHAPE(5, 3, cases[i].k, cases[i].k), 1.0f));
        CHECK_OK(tt_conv2d(&y, x, w, NULL, cases[i].s, cases[i].p));
        CHECK(y && y->ndim == 4 && y->shape[0] == 2 && y->shape[1] == 5 &&
              y->shape[2] == cases[i].oh && y->shape[3] == cases[i].ow);
        if (y && cases[i].p == 0) {
            /* All-ones input and weight without padding: every output is C*k*k. */
            CHECK(value_at(y, 0) == (float)(3 * cases[i].k * cases[i].k));
        }
        tt_tensor_free(x);
        tt_tensor_free(w);
        tt_tensor_free(y);
    }
}

static void test_conv_backward_values(void)
{
    for (size_t k = 0; k < N_CONV_CASES; k++) {
        conv_case c = load_conv_case(conv_cases[k]);
        char key[96];
        snprintf(key, sizeof key, "conv.%s.g", conv_cases[k]);
        tt_tensor *g = fixture_tensor(FX, key), *y = NULL;
        CHECK_OK(tt_tensor_set_requires_grad(c.x, true));
        CHECK_OK(tt_tensor_set_requires_grad(c.w, true));
        if (c.b)
            CHECK_OK(tt_tensor_set_requires_grad(c.b, true));
        CHECK_OK(tt_conv2d(&y, c.x, c.w, c.b, c.stride, c.padding));
        CHECK(y && y->grad_fn && strcmp(y->grad_fn->op->name, "conv2d") == 0);
        CHECK_OK(tt_backward_with(y, g));
        snprintf(key, sizeof key, "conv.%s.dx", conv_cases[k]);
        check_tensor_near(c.x->grad, key, ATOL, RTOL);
        snprintf(key, sizeof key, "conv.%s.dw", conv_cases[k]);
        check_tensor_near(c.w->grad, key, 1e-4, RTOL); /* sums over N*OH*OW terms */
        if (c.b) {
            snprintf(key, sizeof key, "conv.%s.db", conv_cases[k]);
            check_tensor_near(c.b->grad, key, 1e-4, RTOL);
        }
        tt_tensor_free(y);
        tt_tensor_free(g);
        free_conv_case(&c);
    }
}

static void test_conv_one_node(void)
{
    conv_case c = load_conv_case("s2p1");
    CHECK_OK(tt_tensor_set_requires_grad(c.w, true));
    tt_tensor *y = NULL;
    CHECK_OK(tt_conv2d(&y, c.x, c.w, c.b, c.stride, c.padding));
    /* One node with the op's arguments as its inputs; the matmul and reshapes inside
     * the op left no node of their own. */
    CHECK(y && y->grad_fn && y->grad_fn->n_inputs == 3);
    if (y && y->grad_fn) {
        tt_node *nd = y->grad_fn;
        CHECK(nd->inputs[0] == c.x && nd->inputs[1] == c.w && nd->inputs[2] == c.b);
        CHECK(nd->args.i[0] == 2 && nd->args.i[1] == 1);
        CHECK(c.x->grad_fn == NULL && c.w->grad_fn == NULL);
    }
    /* Only the input that asked for it gets a gradient. */
    tt_tensor *g = NULL;
    CHECK_OK(tt_tensor_full(&g, 4, y->shape, 1.0f));
    CHECK_OK(tt_backward_with(y, g));
    CHECK(c.w->grad != NULL && c.x->grad == NULL && c.b->grad == NULL);
    tt_tensor_free(g);
    tt_tensor_free(y);
    /* In no-grad mode nothing is recorded even though w requires a gradient. */
    bool was = tt_grad_set_enabled(false);
    CHECK_OK(tt_conv2d(&y, c.x, c.w, c.b, c.stride, c.padding));
    tt_grad_set_enabled(was);
    CHECK(y && y->grad_fn == NULL);
    tt_tensor_free(y);
    free_conv_case(&c);
}

static void test_conv_views(void)
{
    /* Transposed views of x and of the weight give the same values as contiguous ones,
     * and their gradients have the views' shapes. */
    conv_case c = load_conv_case("s1p0");
    tt_tensor *xv = as_transposed_view(c.x), *wv = as_transposed_view(c.w);
    tt_tensor *y1 = NULL, *y2 = NULL;
    CHECK_OK(tt_conv2d(&y1, c.x, c.w, c.b, 1, 0));
    CHECK_OK(tt_tensor_set_requires_grad(xv, true));
    CHECK_OK(tt_tensor_set_requires_grad(wv, true));
    CHECK_OK(tt_conv2d(&y2, xv, wv, c.b, 1, 0));
    CHECK(same_values(y1, y2));
    tt_tensor *g = fixture_tensor(FX, "conv.s1p0.g");
    CHECK_OK(tt_backward_with(y2, g));
    check_tensor_near(xv->grad, "conv.s1p0.dx", ATOL, RTOL);
    check_tensor_near(wv->grad, "conv.s1p0.dw", 1e-4, RTOL);
    tt_tensor_free(g);
    tt_tensor_free(y1);
    tt_tensor_free(y2);
    tt_tensor_free(xv);
    tt_tensor_free(wv);
    free_conv_case(&c);
}

static void test_conv_finite_differences(void)
{
    /* (N, C, H, W, O, k, stride, padding) */
    static const size_t shapes[][8] = {
        {2, 2, 5, 5, 3, 3, 1, 0}, {1, 3, 6, 5, 2, 3, 2, 1}, {2, 1, 4, 4, 2, 2, 1, 1},
        {1, 2, 7, 7, 2, 3, 2, 0}, {1, 2, 3, 4, 3, 1, 1, 0},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const size_t *s = shapes[k];
        tt_tensor *x = randn(4, TT_SHAPE(s[0], s[1], s[2], s[3]), 10 + k);
        tt_tensor *w = randn_std(4, TT_SHAPE(s[4], s[1], s[5], s[5]), 0.5f, 20 + k);
        tt_tensor *b = randn_std(1, TT_SHAPE(s[4]), 0.5f, 30 + k);
        char label[64];
        snprintf(label, sizeof label, "conv shape %zu (stride %zu, padding %zu)", k, s[6], s[7]);
        gc_check_op((gc_op_spec){.label = label, .fwd = f_conv, .p = {(long)s[6], (long)s[7]},
                                 .n_in = 3, .in = {x, w, b}, .grad = {true, true, true}});
        /* Without a bias, and with only the weight wanting a gradient. */
        gc_check_op((gc_op_spec){.label = label, .fwd = f_conv, .p = {(long)s[6], (long)s[7]},
                                 .n_in = 3, .in = {x, w, NULL}, .grad = {false, true, false}});
        tt_tensor_free(x);
        tt_tensor_free(w);
        tt_tensor_free(b);
    }
}

static void test_conv_accumulates(void)
{
    /* Using the same weight twice adds both contributions; a pre-filled gradient is
     * added to, never overwritten. */
    tt_tensor *x = randn(4, TT_SHAPE(1, 2, 4, 4), 3);
    tt_tensor *w = randn_std(4, TT_SHAPE(2, 2, 3, 3), 0.5f, 4);
    CHECK_OK(tt_tensor_set_requires_grad(w, true));
    tt_tensor *y1 = NULL, *y2 = NULL, *s = NULL, *loss = NULL;
    CHECK_OK(tt_conv2d(&y1, x, w, NULL, 1, 1));
    CHECK_OK(tt_tensor_sum_all(&loss, y1));
    CHECK_OK(tt_backward(loss));
    tt_tensor *once = NULL;
    CHECK_OK(tt_tensor_copy(&once, w->grad));
    tt_tensor_free(loss);
    CHECK_OK(tt_conv2d(&y2, x, w, NULL, 1, 1));
    CHECK_OK(tt_tensor_add(&s, y1, y2));
    CHECK_OK(tt_tensor_sum_all(&loss, s));
    CHECK_OK(tt_backward(loss));
    /* once + 2 * once */
    for (size_t i = 0; i < tt_tensor_numel(w); i++)
        CHECK_NEAR(value_at(w->grad, i), 3.0 * value_at(once, i), 1e-4, 1e-5);
    tt_tensor_free(once);
    tt_tensor_free(loss);
    tt_tensor_free(s);
    tt_tensor_free(y1);
    tt_tensor_free(y2);
    tt_tensor_free(x);
    tt_tensor_free(w);
}

static void test_conv_errors(void)
{
    tt_tensor *x = NULL, *w = NULL, *b = NULL, *y = &not_a_tensor;
    tt_tensor *x3 = NULL, *wbadc = NULL, *bbad = NULL, *b2 = NULL, *small = NULL;
    CHECK_OK(tt_tensor_zeros(&x, 4, TT_SHAPE(2, 3, 5, 5)));
    CHECK_OK(tt_tensor_zeros(&w, 4, TT_SHAPE(4, 3, 3, 3)));
    CHECK_OK(tt_tensor_zeros(&b, 1, TT_SHAPE(4)));
    CHECK_OK(tt_tensor_zeros(&x3, 3, TT_SHAPE(3, 5, 5)));
    CHECK_OK(tt_tensor_zeros(&wbadc, 4, TT_SHAPE(4, 2, 3, 3)));
    CHECK_OK(tt_tensor_zeros(&bbad, 1, TT_SHAPE(5)));
    CHECK_OK(tt_tensor_zeros(&b2, 2, TT_SHAPE(1, 4)));
    CHECK_OK(tt_tensor_zeros(&small, 4, TT_SHAPE(1, 3, 2, 2)));

    CHECK_STATUS(tt_conv2d(NULL, x, w, b, 1, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_conv2d");
    CHECK_STATUS(tt_conv2d(&y, NULL, w, b, 1, 0), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    y = &not_a_tensor;
    CHECK_STATUS(tt_conv2d(&y, x, NULL, b, 1, 0), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("weight");
    y = &not_a_tensor;
    CHECK_STATUS(tt_conv2d(&y, x, w, b, 0, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("stride");
    CHECK(y == NULL);
    y = &not_a_tensor;
    CHECK_STATUS(tt_conv2d(&y, x3, w, b, 1, 0), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[3,5,5]");
    CHECK(y == NULL);
    CHECK_STATUS(tt_conv2d(&y, x, x3, b, 1, 0), TT_ERR_SHAPE);
    CHECK_STATUS(tt_conv2d(&y, x, wbadc, b, 1, 0), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("channels");
    CHECK_STATUS(tt_conv2d(&y, x, w, bbad, 1, 0), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("bias");
    CHECK_STATUS(tt_conv2d(&y, x, w, b2, 1, 0), TT_ERR_SHAPE);
    /* 2x2 against a 3x3 kernel: too small unpadded, fine with a padding of 1. */
    y = &not_a_tensor;
    CHECK_STATUS(tt_conv2d(&y, small, w, b, 1, 0), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("larger");
    CHECK(y == NULL);
    CHECK_OK(tt_conv2d(&y, small, w, b, 1, 1));
    CHECK(y && y->shape[2] == 2 && y->shape[3] == 2);
    tt_tensor_free(y);

    tt_tensor_free(x);
    tt_tensor_free(w);
    tt_tensor_free(b);
    tt_tensor_free(x3);
    tt_tensor_free(wbadc);
    tt_tensor_free(bbad);
    tt_tensor_free(b2);
    tt_tensor_free(small);
}

static void test_conv_out_of_memory(void)
{
    conv_case c = load_conv_case("s2p1");
    CHECK_OK(tt_tensor_set_requires_grad(c.x, true));
    CHECK_OK(tt_tensor_set_requires_grad(c.w, true));
    CHECK_OK(tt_tensor_set_requires_grad(c.b, true));
    size_t live = tt_alloc_live();
    int forward_ok = 0, backward_ok = 0;
    /* Forward: each allocation fails in turn, recording included. */
    for (long n = 0; n < 200 && !forward_ok; n++) {
        tt_tensor *y = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_conv2d(&y, c.x, c.w, c.b, c.stride, c.padding);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(y && y->grad_fn);
            tt_tensor_free(y);
            forward_ok = 1;
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(y == NULL);
        CHECK(tt_alloc_live() == live);
        CHECK(tt_grad_is_enabled()); /* restored on the error path too */
    }
    CHECK(forward_ok);
    /* Backward: the same; afterwards the gradients are zeroed and it all works. */
    tt_tensor *g = fixture_tensor(FX, "conv.s2p1.g");
    live = tt_alloc_live();
    for (long n = 0; n < 200 && !backward_ok; n++) {
        tt_tensor *y = NULL;
        CHECK_OK(tt_conv2d(&y, c.x, c.w, c.b, c.stride, c.padding));
        tt_alloc_fail_after(n);
        tt_status st = tt_backward_with(y, g);
        tt_alloc_fail_after(-1);
        tt_tensor_free(y);
        if (st == TT_OK) {
            check_tensor_near(c.x->grad, "conv.s2p1.dx", ATOL, RTOL);
            check_tensor_near(c.w->grad, "conv.s2p1.dw", 1e-4, RTOL);
            check_tensor_near(c.b->grad, "conv.s2p1.db", 1e-4, RTOL);
            backward_ok = 1;
        } else {
            CHECK_STATUS(st, TT_ERR_NOMEM);
        }
        tt_tensor_zero_grad(c.x);
        tt_tensor_zero_grad(c.w);
        tt_tensor_zero_grad(c.b);
        CHECK(tt_alloc_live() == live);
    }
    CHECK(backward_ok);
    tt_tensor_free(g);
    free_conv_case(&c);
}

/* ==================================================================== pooling */

static const char *const pool_cases[] = {"k2s2", "k3s1", "k3s2_odd", "k2s3_gaps"};

static void test_pool_values(void)
{
    for (size_t k = 0; k < sizeof pool_cases / sizeof pool_cases[0]; k++) {
        char key[96];
        snprintf(key, sizeof key, "pool.%s.x", pool_cases[k]);
        tt_tensor *x = fixture_tensor(FX, key);
        snprintf(key, sizeof key, "pool.%s.g", pool_cases[k]);
        tt_tensor *g = fixture_tensor(FX, key);
        snprintf(key, sizeof key, "pool.%s.args", pool_cases[k]);
        size_t kern = (size_t)fixture_value(key, 0), stride = (size_t)fixture_value(key, 1);
        static const char *const kinds[2] = {"max", "avg"};
        for (int m = 0; m < 2; m++) {
            tt_tensor *y = &not_a_tensor;
            CHECK_OK(tt_tensor_set_requires_grad(x, true));
            CHECK_OK(m == 0 ? tt_maxpool2d(&y, x, kern, stride)
                            : tt_avgpool2d(&y, x, kern, stride));
            CHECK(y && y->grad_fn &&
                  strcmp(y->grad_fn->op->name, m == 0 ? "maxpool2d" : "avgpool2d") == 0);
            snprintf(key, sizeof key, "pool.%s.%s", pool_cases[k], kinds[m]);
            /* Max picks an element: exact. Average: one rounding of a short sum. */
            check_tensor_near(y, key, m == 0 ? 0.0 : 1e-6, m == 0 ? 0.0 : 1e-6);
            CHECK_OK(tt_backward_with(y, g));
            snprintf(key, sizeof key, "pool.%s.%s_dx", pool_cases[k], kinds[m]);
            check_tensor_near(x->grad, key, 1e-6, 1e-6);
            tt_tensor_zero_grad(x);
            CHECK_OK(tt_tensor_set_requires_grad(x, false));
            tt_tensor_free(y);
        }
        tt_tensor_free(x);
        tt_tensor_free(g);
    }
}

static void test_maxpool_ties_and_nan(void)
{
    /* Ties: the gradient goes to the first maximal element of each window, once. */
    tt_tensor *x = fixture_tensor(FX, "pool.ties.x"), *g = fixture_tensor(FX, "pool.ties.g");
    tt_tensor *y = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_maxpool2d(&y, x, 2, 1));
    check_tensor_near(y, "pool.ties.max", 0.0, 0.0);
    CHECK_OK(tt_backward_with(y, g));
    check_tensor_near(x->grad, "pool.ties.max_dx", 1e-6, 1e-6);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_tensor_free(g);

    /* A NaN wins its window, as in tt_tensor_max, and takes the gradient. */
    float v[16] = {1, 2, 3, 4, 5, NAN, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CHECK_OK(tt_tensor_from_data(&x, 4, TT_SHAPE(1, 1, 4, 4), v));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_maxpool2d(&y, x, 2, 2));
    CHECK(isnan(value_at(y, 0)) && value_at(y, 1) == 8.0f && value_at(y, 2) == 14.0f &&
          value_at(y, 3) == 16.0f);
    CHECK_OK(tt_tensor_full(&g, 4, y->shape, 1.0f));
    CHECK_OK(tt_backward_with(y, g));
    CHECK(value_at(x->grad, 5) == 1.0f && value_at(x->grad, 4) == 0.0f &&
          value_at(x->grad, 7) == 1.0f && value_at(x->grad, 15) == 1.0f);
    tt_tensor_free(g);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void test_pool_finite_differences(void)
{
    static const size_t shapes[][6] = {
        /* N, C, H, W, kernel, stride */
        {1, 2, 4, 4, 2, 2}, {1, 1, 5, 6, 3, 1}, {2, 1, 5, 5, 3, 2}, {1, 2, 3, 5, 2, 3},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const size_t *s = shapes[k];
        tt_tensor *x = distinct(4, TT_SHAPE(s[0], s[1], s[2], s[3]), 40 + k);
        char label[64];
        snprintf(label, sizeof label, "maxpool shape %zu", k);
        gc_check_op((gc_op_spec){.label = label, .fwd = f_maxpool,
                                 .p = {(long)s[4], (long)s[5]}, .n_in = 1, .in = {x},
                                 .grad = {true}});
        snprintf(label, sizeof label, "avgpool shape %zu", k);
        gc_check_op((gc_op_spec){.label = label, .fwd = f_avgpool,
                                 .p = {(long)s[4], (long)s[5]}, .n_in = 1, .in = {x},
                                 .grad = {true}});
        tt_tensor_free(x);
    }
}

static void test_pool_views_and_errors(void)
{
    tt_tensor *x = fixture_tensor(FX, "pool.k3s1.x");
    tt_tensor *xv = as_transposed_view(x), *y1 = NULL, *y2 = NULL;
    CHECK_OK(tt_maxpool2d(&y1, x, 3, 1));
    CHECK_OK(tt_maxpool2d(&y2, xv, 3, 1));
    CHECK(same_values(y1, y2));
    tt_tensor_free(y1);
    tt_tensor_free(y2);
    CHECK_OK(tt_avgpool2d(&y1, x, 3, 1));
    CHECK_OK(tt_avgpool2d(&y2, xv, 3, 1));
    CHECK(same_values(y1, y2));
    tt_tensor_free(y1);
    tt_tensor_free(y2);
    tt_tensor_free(xv);

    typedef tt_status (*pool_fn)(tt_tensor **, tt_tensor *, size_t, size_t);
    static const pool_fn fns[2] = {tt_maxpool2d, tt_avgpool2d};
    static const char *const names[2] = {"tt_maxpool2d", "tt_avgpool2d"};
    tt_tensor *x3 = NULL;
    CHECK_OK(tt_tensor_zeros(&x3, 3, TT_SHAPE(2, 5, 6)));
    for (int m = 0; m < 2; m++) {
        tt_tensor *y = &not_a_tensor;
        CHECK_STATUS(fns[m](NULL, x, 2, 2), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS(names[m]);
        CHECK_STATUS(fns[m](&y, NULL, 2, 2), TT_ERR_INVALID_ARG);
        CHECK(y == NULL);
        y = &not_a_tensor;
        CHECK_STATUS(fns[m](&y, x, 0, 2), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("kernel");
        CHECK(y == NULL);
        CHECK_STATUS(fns[m](&y, x, 2, 0), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("stride");
        y = &not_a_tensor;
        CHECK_STATUS(fns[m](&y, x3, 2, 2), TT_ERR_SHAPE);
        CHECK_ERROR_MENTIONS("[2,5,6]");
        CHECK(y == NULL);
        /* x is [1,2,5,6]: a kernel of 6 fits the width but not the height. */
        CHECK_STATUS(fns[m](&y, x, 6, 1), TT_ERR_SHAPE);
        CHECK_ERROR_MENTIONS("larger");
        CHECK_OK(fns[m](&y, x, 5, 1));
        CHECK(y && y->shape[2] == 1 && y->shape[3] == 2);
        tt_tensor_free(y);

        /* Allocation failures, with recording, in turn. */
        CHECK_OK(tt_tensor_set_requires_grad(x, true));
        size_t live = tt_alloc_live();
        for (long n = 0; n < 50; n++) {
            y = &not_a_tensor;
            tt_alloc_fail_after(n);
            tt_status st = fns[m](&y, x, 2, 2);
            tt_alloc_fail_after(-1);
            if (st == TT_OK) {
                tt_tensor *g = NULL;
                CHECK_OK(tt_tensor_full(&g, 4, y->shape, 1.0f));
                for (long b = 0; b < 50; b++) {
                    tt_alloc_fail_after(b);
                    st = tt_backward_with(y, g);
                    tt_alloc_fail_after(-1);
                    tt_tensor_zero_grad(x);
                    if (st == TT_OK)
                        break;
                    CHECK_STATUS(st, TT_ERR_NOMEM);
                }
                CHECK_OK(st);
                tt_tensor_free(g);
                tt_tensor_free(y);
                break;
            }
            CHECK_STATUS(st, TT_ERR_NOMEM);
            CHECK(y == NULL);
            CHECK(tt_alloc_live() == live);
        }
        CHECK_OK(tt_tensor_set_requires_grad(x, false));
    }
    tt_tensor_free(x3);
    tt_tensor_free(x);
}

/* ========================================================= batch normalisation */

static void test_batchnorm_training_values(void)
{
    tt_tensor *x = fixture_tensor(FX, "bn.x"), *gamma = fixture_tensor(FX, "bn.gamma");
    tt_tensor *beta = fixture_tensor(FX, "bn.beta"), *rm = fixture_tensor(FX, "bn.rm");
    tt_tensor *rv = fixture_tensor(FX, "bn.rv"), *g = fixture_tensor(FX, "bn.g");
    tt_tensor *y = &not_a_tensor;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_set_requires_grad(gamma, true));
    CHECK_OK(tt_tensor_set_requires_grad(beta, true));
    CHECK_OK(tt_batchnorm2d(&y, x, gamma, beta, rm, rv, true, 0.1f, 1e-5f));
    check_tensor_near(y, "bn.train.y", 1e-5, 1e-5);
    check_tensor_near(rm, "bn.train.rm", 1e-6, 1e-6);
    check_tensor_near(rv, "bn.train.rv", 1e-6, 1e-6);
    /* The statistics are state, not part of the graph. */
    CHECK(!rm->requires_grad && rm->grad_fn == NULL && !rv->requires_grad);
    CHECK(y && y->grad_fn && strcmp(y->grad_fn->op->name, "batchnorm2d") == 0);
    CHECK_OK(tt_backward_with(y, g));
    check_tensor_near(x->grad, "bn.train.dx", 1e-5, 1e-4);
    check_tensor_near(gamma->grad, "bn.train.dgamma", 1e-5, 1e-5);
    check_tensor_near(beta->grad, "bn.train.dbeta", 1e-5, 1e-5);
    tt_tensor_free(y);

    /* Evaluation with the updated statistics: nothing changes them. */
    tt_tensor *x2 = fixture_tensor(FX, "bn.x_eval");
    float rm0 = value_at(rm, 0), rv0 = value_at(rv, 0);
    CHECK_OK(tt_batchnorm2d(&y, x2, gamma, beta, rm, rv, false, 0.1f, 1e-5f));
    check_tensor_near(y, "bn.eval.y", 1e-5, 1e-5);
    CHECK(value_at(rm, 0) == rm0 && value_at(rv, 0) == rv0);
    tt_tensor_free(y);
    tt_tensor_free(x2);

    tt_tensor_free(x);
    tt_tensor_free(gamma);
    tt_tensor_free(beta);
    tt_tensor_free(rm);
    tt_tensor_free(rv);
    tt_tensor_free(g);
}

static void test_batchnorm_statistics_carry_gradient(void)
{
    /* In training, sum(y) over a channel is M * beta whatever x is, so its gradient
     * with respect to x is zero. Statistics treated as constants would give
     * gamma / sqrt(var + eps) instead: this is the check that they are not. */
    tt_tensor *x = randn_std(4, TT_SHAPE(3, 2, 2, 3), 2.0f, 5), *y = NULL, *loss = NULL;
    tt_tensor *gamma = NULL;
    CHECK_OK(tt_tensor_full(&gamma, 1, TT_SHAPE(2), 1.7f));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_batchnorm2d(&y, x, gamma, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    CHECK_OK(tt_tensor_sum_all(&loss, y));
    CHECK_OK(tt_backward(loss));
    for (size_t i = 0; x->grad && i < tt_tensor_numel(x); i++)
        CHECK_NEAR(value_at(x->grad, i), 0.0, 1e-5, 0.0);
    /* Each normalised channel has mean 0 and (biased) variance 1 (up to eps). */
    for (size_t c = 0; c < 2; c++) {
        double s = 0.0, sq = 0.0;
        for (size_t n = 0; n < 3; n++)
            for (size_t j = 0; j < 6; j++) {
                double v = value_at(y, (n * 2 + c) * 6 + j) / 1.7;
                s += v;
                sq += v * v;
            }
        CHECK_NEAR(s / 18.0, 0.0, 1e-6, 0.0);
        CHECK_NEAR(sq / 18.0, 1.0, 1e-4, 0.0);
    }
    tt_tensor_free(loss);
    tt_tensor_free(y);
    tt_tensor_free(gamma);
    tt_tensor_free(x);
}

static void test_batchnorm_finite_differences(void)
{
    tt_tensor *x = randn_std(4, TT_SHAPE(3, 2, 2, 2), 1.5f, 7);
    tt_tensor *gamma = randn_std(1, TT_SHAPE(2), 0.5f, 8);
    tt_tensor *beta = randn_std(1, TT_SHAPE(2), 0.5f, 9);
    gc_check_op((gc_op_spec){.label = "batchnorm training", .fwd = f_bn_train, .n_in = 3,
                             .in = {x, gamma, beta}, .grad = {true, true, true}});
    gc_check_op((gc_op_spec){.label = "batchnorm training, no affine", .fwd = f_bn_train,
                             .n_in = 3, .in = {x, NULL, NULL}, .grad = {true, false, false}});
    /* A batch of one image: the statistics come from H*W alone. */
    tt_tensor *x1 = randn(4, TT_SHAPE(1, 2, 2, 3), 11);
    gc_check_op((gc_op_spec){.label = "batchnorm training, N = 1", .fwd = f_bn_train,
                             .n_in = 3, .in = {x1, gamma, beta}, .grad = {true, true, false}});
    eval_rm = randn_std(1, TT_SHAPE(2), 0.3f, 12);
    CHECK_OK(tt_tensor_full(&eval_rv, 1, TT_SHAPE(2), 0.7f));
    gc_check_op((gc_op_spec){.label = "batchnorm evaluation", .fwd = f_bn_eval, .n_in = 3,
                             .in = {x, gamma, beta}, .grad = {true, true, true}});
    tt_tensor_free(eval_rm);
    tt_tensor_free(eval_rv);
    eval_rm = eval_rv = NULL;
    tt_tensor_free(x);
    tt_tensor_free(x1);
    tt_tensor_free(gamma);
    tt_tensor_free(beta);
}

static void test_batchnorm_saved_statistics(void)
{
    /* The backward uses the statistics of its forward even if the running ones change
     * in between (evaluation mode reads them, a later training step moves them). */
    tt_tensor *x = randn(4, TT_SHAPE(2, 2, 2, 2), 13), *rm = NULL, *rv = NULL;
    CHECK_OK(tt_tensor_full(&rm, 1, TT_SHAPE(2), 0.5f));
    CHECK_OK(tt_tensor_full(&rv, 1, TT_SHAPE(2), 4.0f));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    tt_tensor *y = NULL, *g = NULL;
    CHECK_OK(tt_batchnorm2d(&y, x, NULL, NULL, rm, rv, false, 0.1f, 1e-5f));
    CHECK_OK(tt_tensor_fill(rv, 100.0f));
    CHECK_OK(tt_tensor_full(&g, 4, y->shape, 1.0f));
    CHECK_OK(tt_backward_with(y, g));
    /* dx = 1 / sqrt(4 + eps) */
    CHECK_NEAR(value_at(x->grad, 0), 1.0 / sqrt(4.0 + 1e-5), 1e-7, 1e-6);
    tt_tensor_free(g);
    tt_tensor_free(y);
    tt_tensor_free(rm);
    tt_tensor_free(rv);
    tt_tensor_free(x);
}

static void test_batchnorm_errors(void)
{
    tt_tensor *x = NULL, *c2 = NULL, *c3 = NULL, *m2 = NULL, *x3 = NULL, *one = NULL;
    tt_tensor *y = &not_a_tensor;
    CHECK_OK(tt_tensor_zeros(&x, 4, TT_SHAPE(2, 3, 2, 2)));
    CHECK_OK(tt_tensor_full(&c3, 1, TT_SHAPE(3), 1.0f));
    CHECK_OK(tt_tensor_zeros(&c2, 1, TT_SHAPE(2)));
    CHECK_OK(tt_tensor_zeros(&m2, 2, TT_SHAPE(1, 3)));
    CHECK_OK(tt_tensor_zeros(&x3, 3, TT_SHAPE(2, 3, 4)));
    CHECK_OK(tt_tensor_zeros(&one, 4, TT_SHAPE(1, 3, 1, 1)));

    CHECK_STATUS(tt_batchnorm2d(NULL, x, c3, c3, NULL, NULL, true, 0.1f, 1e-5f),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_batchnorm2d");
    CHECK_STATUS(tt_batchnorm2d(&y, NULL, c3, c3, NULL, NULL, true, 0.1f, 1e-5f),
                 TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    const float bad_eps[] = {0.0f, -1e-5f, NAN, INFINITY};
    for (size_t i = 0; i < 4; i++) {
        y = &not_a_tensor;
        CHECK_STATUS(tt_batchnorm2d(&y, x, c3, c3, NULL, NULL, true, 0.1f, bad_eps[i]),
                     TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("eps");
        CHECK(y == NULL);
    }
    const float bad_momentum[] = {-0.1f, 1.5f, NAN};
    for (size_t i = 0; i < 3; i++) {
        CHECK_STATUS(tt_batchnorm2d(&y, x, c3, c3, c3, c3, true, bad_momentum[i], 1e-5f),
                     TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("momentum");
    }
    CHECK_STATUS(tt_batchnorm2d(&y, x, c3, c3, c3, NULL, true, 0.1f, 1e-5f),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("running_var");
    CHECK_STATUS(tt_batchnorm2d(&y, x, c3, c3, NULL, c3, true, 0.1f, 1e-5f),
                 TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_batchnorm2d(&y, x, c3, c3, NULL, NULL, false, 0.1f, 1e-5f),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("evaluation");
    CHECK_STATUS(tt_batchnorm2d(&y, x3, c3, c3, NULL, NULL, true, 0.1f, 1e-5f), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[2,3,4]");
    CHECK_STATUS(tt_batchnorm2d(&y, x, c2, c3, NULL, NULL, true, 0.1f, 1e-5f), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("gamma");
    CHECK_STATUS(tt_batchnorm2d(&y, x, c3, m2, NULL, NULL, true, 0.1f, 1e-5f), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("beta");
    CHECK_STATUS(tt_batchnorm2d(&y, x, c3, c3, c2, c3, true, 0.1f, 1e-5f), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("running_mean");
    CHECK_STATUS(tt_batchnorm2d(&y, x, c3, c3, c3, c2, false, 0.1f, 1e-5f), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("running_var");
    /* One value per channel: no variance to estimate in training; fine in evaluation. */
    y = &not_a_tensor;
    CHECK_STATUS(tt_batchnorm2d(&y, one, c3, c3, NULL, NULL, true, 0.1f, 1e-5f), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("at least 2");
    CHECK(y == NULL);
    CHECK_OK(tt_batchnorm2d(&y, one, c3, c3, c3, c3, false, 0.1f, 1e-5f));
    tt_tensor_free(y);
    /* Momentum 0 leaves the running statistics; 1 replaces them with the batch's. */
    tt_tensor *rm = NULL, *rv = NULL, *xr = randn(4, TT_SHAPE(2, 3, 2, 2), 14);
    CHECK_OK(tt_tensor_full(&rm, 1, TT_SHAPE(3), 0.25f));
    CHECK_OK(tt_tensor_full(&rv, 1, TT_SHAPE(3), 2.0f));
    CHECK_OK(tt_batchnorm2d(&y, xr, NULL, NULL, rm, rv, true, 0.0f, 1e-5f));
    CHECK(value_at(rm, 1) == 0.25f && value_at(rv, 1) == 2.0f);
    tt_tensor_free(y);
    CHECK_OK(tt_batchnorm2d(&y, xr, NULL, NULL, rm, rv, true, 1.0f, 1e-5f));
    double s = 0.0, sq = 0.0;
    for (size_t n = 0; n < 2; n++)
        for (size_t j = 0; j < 4; j++)
            s += value_at(xr, (n * 3 + 1) * 4 + j);
    for (size_t n = 0; n < 2; n++)
        for (size_t j = 0; j < 4; j++) {
            double d = value_at(xr, (n * 3 + 1) * 4 + j) - s / 8.0;
            sq += d * d;
        }
    CHECK_NEAR(value_at(rm, 1), s / 8.0, 1e-6, 1e-6);
    CHECK_NEAR(value_at(rv, 1), sq / 7.0, 1e-6, 1e-6);
    tt_tensor_free(y);

    /* Allocation failures in turn, in training with recording. */
    CHECK_OK(tt_tensor_set_requires_grad(xr, true));
    size_t live = tt_alloc_live();
    int ok = 0;
    for (long n = 0; n < 50 && !ok; n++) {
        y = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_batchnorm2d(&y, xr, c3, c3, rm, rv, true, 0.1f, 1e-5f);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_tensor *g = NULL;
            CHECK_OK(tt_tensor_full(&g, 4, y->shape, 0.5f));
            for (long b = 0; b < 50; b++) {
                tt_alloc_fail_after(b);
                st = tt_backward_with(y, g);
                tt_alloc_fail_after(-1);
                tt_tensor_zero_grad(xr);
                if (st == TT_OK)
                    break;
                CHECK_STATUS(st, TT_ERR_NOMEM);
            }
            CHECK_OK(st);
            tt_tensor_free(g);
            tt_tensor_free(y);
            ok = 1;
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(y == NULL);
        CHECK(tt_alloc_live() == live);
    }
    CHECK(ok);

    tt_tensor_free(rm);
    tt_tensor_free(rv);
    tt_tensor_free(xr);
    tt_tensor_free(x);
    tt_tensor_free(c2);
    tt_tensor_free(c3);
    tt_tensor_free(m2);
    tt_tensor_free(x3);
    tt_tensor_free(one);
}

/* ==================================================================== flatten */

static void test_flatten_keeps_the_graph(void)
{
    tt_tensor *x = randn(4, TT_SHAPE(2, 3, 2, 2), 15), *f = &not_a_tensor;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_flatten(&f, x));
    CHECK(f && f->ndim == 2 && f->shape[0] == 2 && f->shape[1] == 12);
    /* A view of x's storage, recorded as a reshape. */
    CHECK(f && f->storage == x->storage);
    CHECK(f && f->grad_fn && strcmp(f->grad_fn->op->name, "reshape") == 0 &&
          f->grad_fn->inputs[0] == x);
    tt_tensor_free(f);
    /* 3-D and 2-D inputs; a non-contiguous one is copied but still recorded. */
    tt_tensor *x3 = randn(3, TT_SHAPE(4, 2, 5), 16), *x2 = randn(2, TT_SHAPE(3, 7), 17);
    CHECK_OK(tt_flatten(&f, x3));
    CHECK(f && f->shape[0] == 4 && f->shape[1] == 10);
    tt_tensor_free(f);
    CHECK_OK(tt_flatten(&f, x2));
    CHECK(f && f->shape[0] == 3 && f->shape[1] == 7);
    tt_tensor_free(f);
    tt_tensor *xt = NULL;
    CHECK_OK(tt_tensor_transpose(&xt, x, 1, 3)); /* records: x requires a gradient */
    CHECK_OK(tt_flatten(&f, xt));
    CHECK(f && f->grad_fn != NULL && f->shape[1] == 12);
    gc_check_op((gc_op_spec){.label = "flatten", .fwd = f_flatten, .n_in = 1, .in = {x},
                             .grad = {true}});
    tt_tensor_free(f);
    tt_tensor_free(xt);

    /* The trap: conv -> tanh -> pool -> flatten -> matmul must reach the conv weight. */
    tt_tensor *cx = randn(4, TT_SHAPE(2, 1, 4, 4), 18);
    tt_tensor *cw = randn_std(4, TT_SHAPE(2, 1, 3, 3), 0.5f, 19);
    tt_tensor *cb = randn_std(1, TT_SHAPE(2), 0.5f, 20);
    chain_m = randn_std(2, TT_SHAPE(8, 3), 0.5f, 21);
    gc_check_op((gc_op_spec){.label = "conv-tanh-pool-flatten-matmul", .fwd = f_chain,
                             .n_in = 3, .in = {cx, cw, cb}, .grad = {true, true, true}});
    tt_tensor_free(chain_m);
    chain_m = NULL;
    tt_tensor_free(cx);
    tt_tensor_free(cw);
    tt_tensor_free(cb);

    tt_tensor *v1 = NULL, *s0 = NULL;
    f = &not_a_tensor;
    CHECK_STATUS(tt_flatten(NULL, x), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_flatten");
    CHECK_STATUS(tt_flatten(&f, NULL), TT_ERR_INVALID_ARG);
    CHECK(f == NULL);
    CHECK_OK(tt_tensor_zeros(&v1, 1, TT_SHAPE(5)));
    CHECK_OK(tt_tensor_scalar(&s0, 1.0f));
    f = &not_a_tensor;
    CHECK_STATUS(tt_flatten(&f, v1), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[5]");
    CHECK(f == NULL);
    CHECK_STATUS(tt_flatten(&f, s0), TT_ERR_SHAPE);
    tt_tensor_free(v1);
    tt_tensor_free(s0);
    tt_tensor_free(x3);
    tt_tensor_free(x2);
    tt_tensor_free(x);
}

/* ===================================================================== layers */

static void test_conv2d_layer(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 5);
    tt_layer *conv = &not_a_layer;
    CHECK_OK(tt_conv2d_new(&conv, 3, 4, 3, 1, 1, true, &rng));
    if (!conv || conv == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(conv), "Conv2d") == 0 && conv->training);
    check_tensor_near(tt_conv2d_weight(conv), "conv2d.init.seed5.w", 0.0, 0.0);
    check_tensor_near(tt_conv2d_bias(conv), "conv2d.init.seed5.b", 0.0, 0.0);
    tt_tensor *w = tt_conv2d_weight(conv), *b = tt_conv2d_bias(conv);
    CHECK(w->requires_grad && b->requires_grad);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(conv, &ps));
    CHECK(ps.count == 2 && ps.items[0] == w && ps.items[1] == b);
    CHECK(tt_params_numel(&ps) == 4 * 3 * 3 * 3 + 4);
    tt_params_release(&ps);

    /* Forward is tt_conv2d with the layer's stride and padding. */
    tt_tensor *x = randn(4, TT_SHAPE(2, 3, 5, 5), 22), *y1 = NULL, *y2 = NULL;
    CHECK_OK(tt_layer_forward(conv, &y1, x));
    CHECK_OK(tt_conv2d(&y2, x, w, b, 1, 1));
    CHECK(y1 && y1->shape[2] == 5 && y1->shape[3] == 5 && same_values(y1, y2));
    CHECK(y1 && y1->grad_fn != NULL);
    tt_tensor_free(y1);
    tt_tensor_free(y2);
    /* Wrong channel count: tt_conv2d's error. */
    tt_tensor *x2 = randn(4, TT_SHAPE(1, 2, 5, 5), 23);
    y1 = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(conv, &y1, x2), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("channels");
    CHECK(y1 == NULL);
    tt_tensor_free(x2);
    tt_layer_free(conv);

    /* Stride 2, no padding, no bias: only the weight is drawn and listed. */
    tt_rng_init(&rng, 8);
    CHECK_OK(tt_conv2d_new(&conv, 2, 3, 2, 2, 0, false, &rng));
    check_tensor_near(tt_conv2d_weight(conv), "conv2d.init.seed8_nobias.w", 0.0, 0.0);
    CHECK(tt_conv2d_bias(conv) == NULL);
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(conv, &ps));
    CHECK(ps.count == 1);
    tt_params_release(&ps);
    tt_tensor *x4 = randn(4, TT_SHAPE(1, 2, 6, 7), 24);
    CHECK_OK(tt_layer_forward(conv, &y1, x4));
    CHECK(y1 && y1->shape[1] == 3 && y1->shape[2] == 3 && y1->shape[3] == 3);
    tt_tensor_free(y1);
    tt_tensor_free(x4);
    tt_layer_free(conv);
    tt_tensor_free(x);

    /* Accessors of another kind of layer. */
    tt_layer *relu = NULL;
    CHECK_OK(tt_relu_layer_new(&relu));
    CHECK(tt_conv2d_weight(relu) == NULL && tt_conv2d_bias(relu) == NULL);
    CHECK(tt_conv2d_weight(NULL) == NULL);
    tt_layer_free(relu);
}

static void test_conv2d_layer_errors(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *l = &not_a_layer;
    CHECK_STATUS(tt_conv2d_new(NULL, 1, 1, 3, 1, 0, true, &rng), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_conv2d_new");
    static const size_t bad[4][4] = {{0, 2, 3, 1}, {1, 0, 3, 1}, {1, 2, 0, 1}, {1, 2, 3, 0}};
    for (int i = 0; i < 4; i++) {
        l = &not_a_layer;
        CHECK_STATUS(tt_conv2d_new(&l, bad[i][0], bad[i][1], bad[i][2], bad[i][3], 0, true, &rng),
                     TT_ERR_INVALID_ARG);
        CHECK(l == NULL);
    }
    l = &not_a_layer;
    CHECK_STATUS(tt_conv2d_new(&l, 1, 2, 3, 1, 0, true, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("rng");
    CHECK(l == NULL);
    size_t live = tt_alloc_live();
    for (long n = 0; n < 50; n++) {
        l = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_conv2d_new(&l, 2, 3, 3, 1, 1, true, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(n >= 3);
            tt_layer_free(l);
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(l == NULL);
        CHECK(tt_alloc_live() == live);
    }
}

static void test_pool_and_flatten_layers(void)
{
    tt_layer *mp = &not_a_layer, *ap = &not_a_layer, *fl = &not_a_layer;
    CHECK_OK(tt_maxpool2d_new(&mp, 3, 2));
    CHECK_OK(tt_avgpool2d_new(&ap, 2, 1));
    CHECK_OK(tt_flatten_new(&fl));
    CHECK(strcmp(tt_layer_name(mp), "MaxPool2d") == 0 && strcmp(tt_layer_name(ap), "AvgPool2d") == 0 &&
          strcmp(tt_layer_name(fl), "Flatten") == 0);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(mp, &ps));
    CHECK_OK(tt_layer_parameters(ap, &ps));
    CHECK_OK(tt_layer_parameters(fl, &ps));
    CHECK(ps.count == 0);
    tt_params_release(&ps);
    tt_tensor *x = fixture_tensor(FX, "pool.k3s2_odd.x"), *y = NULL;
    CHECK_OK(tt_layer_forward(mp, &y, x));
    check_tensor_near(y, "pool.k3s2_odd.max", 0.0, 0.0);
    tt_tensor_free(y);
    tt_tensor *y1 = NULL, *y2 = NULL;
    CHECK_OK(tt_layer_forward(ap, &y1, x));
    CHECK_OK(tt_avgpool2d(&y2, x, 2, 1));
    CHECK(same_values(y1, y2));
    tt_tensor_free(y1);
    tt_tensor_free(y2);
    CHECK_OK(tt_layer_forward(fl, &y, x));
    CHECK(y && y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 2 * 7 * 8);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(mp);
    tt_layer_free(ap);
    tt_layer_free(fl);

    mp = &not_a_layer;
    CHECK_STATUS(tt_maxpool2d_new(&mp, 0, 2), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_maxpool2d_new");
    CHECK(mp == NULL);
    CHECK_STATUS(tt_avgpool2d_new(&ap, 2, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("stride");
    CHECK(ap == NULL);
    CHECK_STATUS(tt_maxpool2d_new(NULL, 2, 2), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_flatten_new(NULL), TT_ERR_INVALID_ARG);
    typedef tt_status (*pool_ctor)(tt_layer **, size_t, size_t);
    static const pool_ctor ctors[2] = {tt_maxpool2d_new, tt_avgpool2d_new};
    for (int i = 0; i < 2; i++) {
        tt_layer *l = &not_a_layer;
        tt_alloc_fail_after(0);
        CHECK_STATUS(ctors[i](&l, 2, 2), TT_ERR_NOMEM);
        tt_alloc_fail_after(-1);
        CHECK(l == NULL);
    }
    fl = &not_a_layer;
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_flatten_new(&fl), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(fl == NULL);
}

static void test_batchnorm2d_layer(void)
{
    tt_layer *bn = &not_a_layer;
    CHECK_OK(tt_batchnorm2d_new(&bn, 3, TT_BATCHNORM_EPS, TT_BATCHNORM_MOMENTUM));
    if (!bn || bn == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(bn), "BatchNorm2d") == 0 && bn->training);
    tt_tensor *gamma = tt_batchnorm2d_gamma(bn), *beta = tt_batchnorm2d_beta(bn);
    tt_tensor *rm = tt_batchnorm2d_running_mean(bn), *rv = tt_batchnorm2d_running_var(bn);
    CHECK(gamma && beta && rm && rv);
    for (size_t c = 0; c < 3; c++)
        CHECK(value_at(gamma, c) == 1.0f && value_at(beta, c) == 0.0f && value_at(rm, c) == 0.0f &&
              value_at(rv, c) == 1.0f);
    CHECK(gamma->requires_grad && beta->requires_grad && !rm->requires_grad &&
          !rv->requires_grad);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(bn, &ps));
    CHECK(ps.count == 2 && ps.items[0] == gamma && ps.items[1] == beta);
    tt_params_release(&ps);

    /* Load the fixture's parameters and statistics, then one training step: the same
     * values as the functional form, and the running statistics move. */
    tt_tensor *src = NULL;
    static const char *const names[4] = {"bn.gamma", "bn.beta", "bn.rm", "bn.rv"};
    tt_tensor *dst[4] = {gamma, beta, rm, rv};
    for (int i = 0; i < 4; i++) {
        src = fixture_tensor(FX, names[i]);
        CHECK_OK(tt_tensor_assign(dst[i], src));
        tt_tensor_free(src);
    }
    tt_tensor *x = fixture_tensor(FX, "bn.x"), *g = fixture_tensor(FX, "bn.g"), *y = NULL;
    CHECK_OK(tt_layer_forward(bn, &y, x));
    check_tensor_near(y, "bn.train.y", 1e-5, 1e-5);
    check_tensor_near(rm, "bn.train.rm", 1e-6, 1e-6);
    check_tensor_near(rv, "bn.train.rv", 1e-6, 1e-6);
    CHECK_OK(tt_backward_with(y, g));
    check_tensor_near(gamma->grad, "bn.train.dgamma", 1e-5, 1e-5);
    check_tensor_near(beta->grad, "bn.train.dbeta", 1e-5, 1e-5);
    tt_tensor_free(y);

    /* Evaluation through a container: running statistics used, not changed. */
    tt_layer *seq = NULL;
    CHECK_OK(tt_sequential_new(&seq));
    CHECK_OK(tt_sequential_append(seq, bn));
    tt_layer_set_training(seq, false);
    CHECK(!bn->training);
    tt_tensor *x2 = fixture_tensor(FX, "bn.x_eval");
    CHECK_OK(tt_layer_forward(seq, &y, x2));
    check_tensor_near(y, "bn.eval.y", 1e-5, 1e-5);
    check_tensor_near(rm, "bn.train.rm", 1e-6, 1e-6);
    tt_tensor_free(y);
    /* Channels that do not match: the shape error names gamma. */
    tt_tensor *xbad = randn(4, TT_SHAPE(2, 4, 2, 2), 25);
    y = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(seq, &y, xbad), TT_ERR_SHAPE);
    CHECK(y == NULL);
    tt_tensor_free(xbad);
    tt_tensor_free(x2);
    tt_tensor_free(x);
    tt_tensor_free(g);
    tt_layer_free(seq);

    /* Accessors of another layer; constructor errors. */
    tt_layer *fl = NULL;
    CHECK_OK(tt_flatten_new(&fl));
    CHECK(tt_batchnorm2d_gamma(fl) == NULL && tt_batchnorm2d_beta(fl) == NULL &&
          tt_batchnorm2d_running_mean(fl) == NULL && tt_batchnorm2d_running_var(NULL) == NULL);
    tt_layer_free(fl);
    bn = &not_a_layer;
    CHECK_STATUS(tt_batchnorm2d_new(&bn, 0, 1e-5f, 0.1f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("num_features");
    CHECK(bn == NULL);
    CHECK_STATUS(tt_batchnorm2d_new(&bn, 3, 0.0f, 0.1f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("eps");
    CHECK_STATUS(tt_batchnorm2d_new(&bn, 3, 1e-5f, 2.0f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("momentum");
    CHECK_STATUS(tt_batchnorm2d_new(NULL, 3, 1e-5f, 0.1f), TT_ERR_INVALID_ARG);
    size_t live = tt_alloc_live();
    for (long n = 0; n < 50; n++) {
        bn = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_batchnorm2d_new(&bn, 3, 1e-5f, 0.1f);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(n >= 5);
            tt_layer_free(bn);
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(bn == NULL);
        CHECK(tt_alloc_live() == live);
    }
}

static void test_small_cnn_trains_its_conv(void)
{
    /* Conv -> ReLU -> MaxPool -> Flatten -> Linear on a batch of 8x8 images: after a
     * backward through cross-entropy every parameter, the conv weight first of all,
     * has a gradient with non-zero entries, and a few plain gradient steps lower the
     * loss. */
    tt_rng rng;
    tt_rng_init(&rng, 31);
    tt_layer *net = NULL, *l = NULL;
    CHECK_OK(tt_sequential_new(&net));
    CHECK_OK(tt_conv2d_new(&l, 1, 4, 3, 1, 1, true, &rng));
    CHECK_OK(tt_sequential_append(net, l));
    CHECK_OK(tt_batchnorm2d_new(&l, 4, TT_BATCHNORM_EPS, TT_BATCHNORM_MOMENTUM));
    CHECK_OK(tt_sequential_append(net, l));
    CHECK_OK(tt_relu_layer_new(&l));
    CHECK_OK(tt_sequential_append(net, l));
    CHECK_OK(tt_maxpool2d_new(&l, 2, 2));
    CHECK_OK(tt_sequential_append(net, l));
    CHECK_OK(tt_flatten_new(&l));
    CHECK_OK(tt_sequential_append(net, l));
    CHECK_OK(tt_linear_new(&l, 4 * 4 * 4, 3, true, &rng));
    CHECK_OK(tt_sequential_append(net, l));
    tt_tensor *x = randn(4, TT_SHAPE(6, 1, 8, 8), 32), *t = NULL;
    CHECK_OK(tt_tensor_from_data(&t, 1, TT_SHAPE(6), (const float[]){0, 1, 2, 0, 1, 2}));
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(net, &ps));
    CHECK(ps.count == 6);
    float first = 0, last = 0;
    for (int step = 0; step < 5; step++) {
        tt_tensor *logits = NULL, *loss = NULL;
        CHECK_OK(tt_layer_forward(net, &logits, x));
        CHECK_OK(tt_cross_entropy_loss(&loss, logits, t));
        for (size_t i = 0; i < ps.count; i++)
            tt_tensor_zero_grad(ps.items[i]);
        CHECK_OK(tt_backward(loss));
        float v = 0;
        CHECK_OK(tt_tensor_item(loss, &v));
        if (step == 0) {
            first = v;
            for (size_t i = 0; i < ps.count; i++) {
                tt_tensor *gr = ps.items[i]->grad;
                CHECK(gr != NULL);
                double sq = 0.0;
                for (size_t j = 0; gr && j < tt_tensor_numel(gr); j++)
                    sq += (double)value_at(gr, j) * value_at(gr, j);
                CHECK(sq > 0.0 && isfinite(sq));
            }
        }
        last = v;
        bool was = tt_grad_set_enabled(false);
        for (size_t i = 0; i < ps.count; i++) {
            tt_tensor *p = ps.items[i], *step_t = NULL, *np = NULL;
            if (!p->grad)
                continue;
            CHECK_OK(tt_tensor_mul_scalar(&step_t, p->grad, -0.1f));
            CHECK_OK(tt_tensor_add(&np, p, step_t));
            CHECK_OK(tt_tensor_assign(p, np));
            tt_tensor_free(step_t);
            tt_tensor_free(np);
        }
        tt_grad_set_enabled(was);
        tt_tensor_free(logits);
        tt_tensor_free(loss);
    }
    CHECK(last < first);
    for (size_t i = 0; i < ps.count; i++)
        tt_tensor_zero_grad(ps.items[i]);
    tt_params_release(&ps);
    tt_tensor_free(x);
    tt_tensor_free(t);
    tt_layer_free(net);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("spatial");
    if (!FX) {
        fprintf(stderr, "cannot run without tests/fixtures/spatial.txt\n");
        return 1;
    }
    RUN(test_conv_forward_values);
    RUN(test_conv_output_shapes);
    RUN(test_conv_backward_values);
    RUN(test_conv_one_node);
    RUN(test_conv_views);
    RUN(test_conv_finite_differences);
    RUN(test_conv_accumulates);
    RUN(test_conv_errors);
    RUN(test_conv_out_of_memory);
    RUN(test_pool_values);
    RUN(test_maxpool_ties_and_nan);
    RUN(test_pool_finite_differences);
    RUN(test_pool_views_and_errors);
    RUN(test_batchnorm_training_values);
    RUN(test_batchnorm_statistics_carry_gradient);
    RUN(test_batchnorm_finite_differences);
    RUN(test_batchnorm_saved_statistics);
    RUN(test_batchnorm_errors);
    RUN(test_flatten_keeps_the_graph);
    RUN(test_conv2d_layer);
    RUN(test_conv2d_layer_errors);
    RUN(test_pool_and_flatten_layers);
    RUN(test_batchnorm2d_layer);
    RUN(test_small_cnn_trains_its_conv);
    fixtures_free(FX);
    return harness_summary();
}
