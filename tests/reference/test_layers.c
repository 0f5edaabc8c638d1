/*
 * Tests of module 03 (layers) against the reference implementation.
 *
 * Expected values come from tests/fixtures/layers.txt (gen_layers.py): Linear's
 * initialisation and Dropout's masks are predicted by an independent PCG32 in Python,
 * forward values by NumPy in float64. Besides values, the tests check what the
 * contract promises about structure: parameter order and counts, that parameters
 * require gradients and receive them through the layer, that eval-mode Dropout is the
 * identity and touches no random state, that Sequential owns its children (also when
 * an append fails), and every error path, with allocation failures injected into each
 * constructor and forward in turn.
 */
#include "harness.h"
#include "fixtures.h"
#include "helpers.h"

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"

/* Elementwise work: float32 rounding only. Matmul: a few roundings per output. */
#define ATOL 1e-6
#define RTOL 1e-5

/* Functions that fail must overwrite *out with NULL: tests start it pointing here. */
static tt_tensor not_a_tensor;
static tt_layer not_a_layer;

/* Bit-exact comparison (random draws are integers scaled by powers of two). */
static void check_tensor_exact(const tt_tensor *t, const char *name)
{
    check_tensor_near(t, name, 0.0, 0.0);
}

/* =================================================================== tt_params */

static void test_params_list(void)
{
    tt_params ps;
    tt_params_init(&ps);
    CHECK(ps.count == 0 && ps.items == NULL);
    tt_tensor *t[20];
    for (int i = 0; i < 20; i++)
        CHECK_OK(tt_tensor_zeros(&t[i], 2, TT_SHAPE(2, (size_t)i + 1)));
    for (int i = 0; i < 20; i++)
        CHECK_OK(tt_params_push(&ps, t[i]));
    CHECK(ps.count == 20);
    CHECK(ps.capacity >= 20);
    for (int i = 0; i < 20; i++)
        CHECK(ps.items[i] == t[i]);
    /* 2 * (1 + 2 + ... + 20) */
    CHECK(tt_params_numel(&ps) == 420);
    tt_params_release(&ps);
    CHECK(ps.count == 0 && ps.items == NULL);
    CHECK(tt_params_numel(&ps) == 0);
    tt_params_release(&ps); /* twice is harmless */
    tt_params_release(NULL);
    CHECK(tt_params_numel(NULL) == 0);
    for (int i = 0; i < 20; i++)
        tt_tensor_free(t[i]);
}

static void test_params_errors(void)
{
    tt_params ps;
    tt_params_init(&ps);
    tt_tensor *t = NULL;
    CHECK_OK(tt_tensor_zeros(&t, 1, TT_SHAPE(3)));
    CHECK_STATUS(tt_params_push(NULL, t), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_params_push");
    CHECK_STATUS(tt_params_push(&ps, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tensor");
    /* The first push allocates: when that fails the list stays empty and valid. */
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_params_push(&ps, t), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(ps.count == 0);
    CHECK_OK(tt_params_push(&ps, t));
    CHECK(ps.count == 1 && ps.items[0] == t);
    tt_params_release(&ps);
    tt_tensor_free(t);
}

/* ===================================================================== Linear */

static void test_linear_init_matches_pcg32(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 42);
    tt_layer *lin = NULL;
    CHECK_OK(tt_linear_new(&lin, 5, 3, true, &rng));
    if (!lin)
        return;
    CHECK(strcmp(tt_layer_name(lin), "Linear") == 0);
    CHECK(lin->training);
    check_tensor_exact(tt_linear_weight(lin), "linear.init.seed42.w");
    check_tensor_exact(tt_linear_bias(lin), "linear.init.seed42.b");
    tt_layer_free(lin);

    /* Without bias only W is drawn. */
    tt_rng_init(&rng, 9);
    CHECK_OK(tt_linear_new(&lin, 7, 4, false, &rng));
    if (!lin)
        return;
    check_tensor_exact(tt_linear_weight(lin), "linear.init.seed9_nobias.w");
    CHECK(tt_linear_bias(lin) == NULL);
    tt_layer_free(lin);
}

static void test_linear_init_statistics(void)
{
    /* Uniform(-a, a) with a = 1/sqrt(in): mean 0, variance a^2 / 3. */
    const size_t in = 256, out = 128, n = in * out;
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *lin = NULL;
    CHECK_OK(tt_linear_new(&lin, in, out, true, &rng));
    if (!lin)
        return;
    tt_tensor *w = tt_linear_weight(lin), *b = tt_linear_bias(lin);
    CHECK(w->ndim == 2 && w->shape[0] == in && w->shape[1] == out);
    CHECK(b->ndim == 1 && b->shape[0] == out);
    const float bound = 1.0f / 16.0f;
    const float *wd = tt_tensor_data(w);
    double sum = 0.0, sumsq = 0.0;
    float lo = 1.0f, hi = -1.0f;
    for (size_t i = 0; i < n; i++) {
        sum += wd[i];
        sumsq += (double)wd[i] * wd[i];
        lo = wd[i] < lo ? wd[i] : lo;
        hi = wd[i] > hi ? wd[i] : hi;
    }
    double mean = sum / (double)n, var = sumsq / (double)n - mean * mean;
    double want_var = (double)bound * bound / 3.0;
    CHECK(lo >= -bound && hi <= bound);
    /* The extremes of 32768 draws come close to the bounds. */
    CHECK(lo < -0.99f * bound && hi > 0.99f * bound);
    /* The sd of the mean is sqrt(var / n) ~ 2e-4: allow 5 sd. */
    CHECK_NEAR(mean, 0.0, 5.0 * sqrt(want_var / (double)n), 0.0);
    CHECK_NEAR(var, want_var, 0.0, 0.03);
    const float *bd = tt_tensor_data(b);
    for (size_t i = 0; i < out; i++)
        CHECK(bd[i] >= -bound && bd[i] <= bound);
    /* The bias is not a copy of W's first draws. */
    CHECK(bd[0] != wd[0] || bd[1] != wd[1]);
    tt_layer_free(lin);
}

static void test_linear_init_deterministic(void)
{
    tt_rng r1, r2, r3;
    tt_rng_init(&r1, 1234);
    tt_rng_init(&r2, 1234);
    tt_rng_init(&r3, 1235);
    tt_layer *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(tt_linear_new(&a, 8, 5, true, &r1));
    CHECK_OK(tt_linear_new(&b, 8, 5, true, &r2));
    CHECK_OK(tt_linear_new(&c, 8, 5, true, &r3));
    if (a && b && c) {
        CHECK(memcmp(tt_tensor_data(tt_linear_weight(a)), tt_tensor_data(tt_linear_weight(b)),
                     40 * sizeof(float)) == 0);
        CHECK(memcmp(tt_tensor_data(tt_linear_bias(a)), tt_tensor_data(tt_linear_bias(b)),
                     5 * sizeof(float)) == 0);
        CHECK(memcmp(tt_tensor_data(tt_linear_weight(a)), tt_tensor_data(tt_linear_weight(c)),
                     40 * sizeof(float)) != 0);
        /* The generator moved on by exactly 45 draws in both. */
        CHECK(r1.state == r2.state);
        tt_rng fresh;
        tt_rng_init(&fresh, 1234);
        for (int i = 0; i < 45; i++)
            tt_rng_next_u32(&fresh);
        CHECK(fresh.state == r1.state);
    }
    tt_layer_free(a);
    tt_layer_free(b);
    tt_layer_free(c);
}

static void test_linear_parameters(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 3);
    tt_layer *lin = NULL;
    CHECK_OK(tt_linear_new(&lin, 4, 6, true, &rng));
    if (!lin)
        return;
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(lin, &ps));
    CHECK(ps.count == 2);
    if (ps.count == 2) {
        CHECK(ps.items[0] == tt_linear_weight(lin));
        CHECK(ps.items[1] == tt_linear_bias(lin));
        CHECK(ps.items[0]->requires_grad && ps.items[1]->requires_grad);
        CHECK(ps.items[0]->grad_fn == NULL && ps.items[1]->grad_fn == NULL);
    }
    CHECK(tt_params_numel(&ps) == 4 * 6 + 6);
    /* Appending to a list that already holds something keeps what was there. */
    CHECK_OK(tt_layer_parameters(lin, &ps));
    CHECK(ps.count == 4 && tt_params_numel(&ps) == 60);
    tt_params_release(&ps);
    tt_layer_free(lin);

    tt_rng_init(&rng, 3);
    CHECK_OK(tt_linear_new(&lin, 4, 6, false, &rng));
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(lin, &ps));
    CHECK(ps.count == 1 && tt_params_numel(&ps) == 24);
    tt_params_release(&ps);
    tt_layer_free(lin);
}

static void test_linear_forward_values(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 5);
    tt_layer *lin = NULL, *nob = NULL;
    CHECK_OK(tt_linear_new(&lin, 5, 3, true, &rng));
    CHECK_OK(tt_linear_new(&nob, 5, 3, false, &rng));
    if (!lin || !nob)
        goto done;
    load_param(tt_linear_weight(lin), "linear.fwd.w");
    load_param(tt_linear_bias(lin), "linear.fwd.b");
    load_param(tt_linear_weight(nob), "linear.fwd.w");
    tt_tensor *x2 = fixture_tensor(FX, "linear.fwd.x2"), *x3 = fixture_tensor(FX, "linear.fwd.x3");
    tt_tensor *y = &not_a_tensor;
    CHECK_OK(tt_layer_forward(lin, &y, x2));
    check_tensor_near(y, "linear.fwd.y2", ATOL, RTOL);
    tt_tensor_free(y);
    CHECK_OK(tt_layer_forward(lin, &y, x3));
    check_tensor_near(y, "linear.fwd.y3", ATOL, RTOL);
    tt_tensor_free(y);
    CHECK_OK(tt_layer_forward(nob, &y, x2));
    check_tensor_near(y, "linear.fwd.y2_nobias", ATOL, RTOL);
    tt_tensor_free(y);
    /* A transposed view as input reads the same numbers. */
    tt_tensor *xt = NULL, *xtt = NULL, *c = NULL;
    CHECK_OK(tt_tensor_transpose(&xt, x2, 0, 1));
    CHECK_OK(tt_tensor_copy(&c, xt));
    CHECK_OK(tt_tensor_transpose(&xtt, c, 0, 1));
    CHECK(!tt_tensor_is_contiguous(xtt));
    CHECK_OK(tt_layer_forward(lin, &y, xtt));
    check_tensor_near(y, "linear.fwd.y2", ATOL, RTOL);
    tt_tensor_free(y);
    tt_tensor_free(xtt);
    tt_tensor_free(c);
    tt_tensor_free(xt);
    tt_tensor_free(x2);
    tt_tensor_free(x3);
done:
    tt_layer_free(lin);
    tt_layer_free(nob);
}

static void test_linear_backward(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 5);
    tt_layer *lin = NULL;
    CHECK_OK(tt_linear_new(&lin, 5, 3, true, &rng));
    if (!lin)
        return;
    load_param(tt_linear_weight(lin), "linear.fwd.w");
    load_param(tt_linear_bias(lin), "linear.fwd.b");
    /* Loading values is not recorded: the parameters are still leaves. */
    CHECK(tt_linear_weight(lin)->grad_fn == NULL);
    tt_tensor *x = fixture_tensor(FX, "linear.fwd.x2"), *y = NULL, *s = NULL;
    CHECK_OK(tt_layer_forward(lin, &y, x));
    CHECK(y && y->requires_grad && y->grad_fn != NULL);
    CHECK_OK(tt_tensor_sum_all(&s, y));
    CHECK_OK(tt_backward(s));
    check_tensor_near(tt_linear_weight(lin)->grad, "linear.bwd.dw", ATOL, RTOL);
    check_tensor_near(tt_linear_bias(lin)->grad, "linear.bwd.db", ATOL, RTOL);
    /* The input did not ask for a gradient and got none. */
    CHECK(x->grad == NULL);
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(lin);
}

static void test_linear_errors(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *lin = &not_a_layer;
    CHECK_STATUS(tt_linear_new(&lin, 0, 3, true, &rng), TT_ERR_INVALID_ARG);
    CHECK(lin == NULL);
    CHECK_ERROR_MENTIONS("in_features=0");
    lin = &not_a_layer;
    CHECK_STATUS(tt_linear_new(&lin, 3, 0, true, &rng), TT_ERR_INVALID_ARG);
    CHECK(lin == NULL);
    CHECK_ERROR_MENTIONS("out_features=0");
    lin = &not_a_layer;
    CHECK_STATUS(tt_linear_new(&lin, 3, 2, true, NULL), TT_ERR_INVALID_ARG);
    CHECK(lin == NULL);
    CHECK_ERROR_MENTIONS("rng");
    CHECK_STATUS(tt_linear_new(NULL, 3, 2, true, &rng), TT_ERR_INVALID_ARG);

    CHECK_OK(tt_linear_new(&lin, 4, 2, true, &rng));
    tt_tensor *x = NULL, *v = NULL, *y = &not_a_tensor;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(3, 5)));
    CHECK_STATUS(tt_layer_forward(lin, &y, x), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("Linear(4, 2)");
    CHECK_ERROR_MENTIONS("[3,5]");
    CHECK_OK(tt_tensor_zeros(&v, 1, TT_SHAPE(4)));
    y = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(lin, &y, v), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("[N,4]");
    /* Accessors answer NULL for what is not a Linear. */
    tt_layer *relu = NULL;
    CHECK_OK(tt_relu_layer_new(&relu));
    CHECK(tt_linear_weight(relu) == NULL && tt_linear_bias(relu) == NULL);
    CHECK(tt_linear_weight(NULL) == NULL && tt_linear_bias(NULL) == NULL);
    tt_layer_free(relu);
    tt_tensor_free(x);
    tt_tensor_free(v);
    tt_layer_free(lin);
}

/* ==================================================================== Dropout */

static void test_dropout_exact_mask(void)
{
    tt_tensor *x = fixture_tensor(FX, "dropout.x");
    const struct { uint64_t seed; float p; const char *tag; } cases[] = {
        {7, 0.3f, "seed7_p3"}, {2026, 0.5f, "seed2026_p5"}};
    for (size_t c = 0; c < 2 && x; c++) {
        tt_rng rng;
        tt_rng_init(&rng, cases[c].seed);
        tt_layer *d = NULL;
        CHECK_OK(tt_dropout_new(&d, cases[c].p, &rng));
        if (!d)
            continue;
        CHECK(strcmp(tt_layer_name(d), "Dropout") == 0);
        tt_tensor *y = NULL;
        CHECK_OK(tt_layer_forward(d, &y, x));
        char name[64];
        snprintf(name, sizeof name, "dropout.%s.y", cases[c].tag);
        check_tensor_exact(y, name);
        /* x does not require a gradient: nothing is recorded. */
        CHECK(y && y->grad_fn == NULL);
        tt_tensor_free(y);
        tt_layer_free(d);
    }
    tt_tensor_free(x);
}

static void test_dropout_backward_is_mask(void)
{
    tt_tensor *x = fixture_tensor(FX, "dropout.x"), *y = NULL, *s = NULL;
    if (!x)
        return;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    tt_rng rng;
    tt_rng_init(&rng, 7);
    tt_layer *d = NULL;
    CHECK_OK(tt_dropout_new(&d, 0.3f, &rng));
    CHECK_OK(tt_layer_forward(d, &y, x));
    CHECK(y && y->requires_grad && y->grad_fn);
    CHECK_OK(tt_tensor_sum_all(&s, y));
    CHECK_OK(tt_backward(s));
    check_tensor_exact(x->grad, "dropout.seed7_p3.mask");
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(d);
}

static void test_dropout_stream_continues(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 11);
    tt_layer *d = NULL;
    CHECK_OK(tt_dropout_new(&d, 0.25f, &rng));
    tt_tensor *ones = NULL, *y1 = NULL, *y2 = NULL;
    CHECK_OK(tt_tensor_full(&ones, 2, TT_SHAPE(2, 3), 1.0f));
    CHECK_OK(tt_layer_forward(d, &y1, ones));
    CHECK_OK(tt_layer_forward(d, &y2, ones));
    check_tensor_exact(y1, "dropout.seed11_p25.first");
    check_tensor_exact(y2, "dropout.seed11_p25.second");
    tt_tensor_free(y1);
    tt_tensor_free(y2);
    tt_tensor_free(ones);
    tt_layer_free(d);
}

static void test_dropout_statistics(void)
{
    /* 100000 ones through p = 0.25: survivors are exactly 4/3, the dropped fraction
     * is 0.25 within 5 sd (sd = sqrt(p(1-p)/n) ~ 1.4e-3), the mean stays ~1. */
    const size_t n = 100000;
    const float p = 0.25f;
    tt_rng rng;
    tt_rng_init(&rng, 99);
    tt_layer *d = NULL;
    tt_tensor *x = NULL, *y = NULL;
    CHECK_OK(tt_dropout_new(&d, p, &rng));
    CHECK_OK(tt_tensor_full(&x, 2, TT_SHAPE(100, 1000), 1.0f));
    CHECK_OK(tt_layer_forward(d, &y, x));
    if (y) {
        const float *v = tt_tensor_data(y);
        size_t dropped = 0, odd = 0;
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            dropped += v[i] == 0.0f;
            odd += v[i] != 0.0f && v[i] != 1.0f / 0.75f;
            sum += v[i];
        }
        CHECK(odd == 0);
        double frac = (double)dropped / (double)n, sd = sqrt(0.25 * 0.75 / (double)n);
        CHECK_NEAR(frac, 0.25, 5.0 * sd, 0.0);
        /* Inverted scaling keeps the expectation: mean = (1 - frac) * 4/3. */
        CHECK_NEAR(sum / (double)n, 1.0, 5.0 * sd * 4.0 / 3.0, 0.0);
    }
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(d);
}

static void test_dropout_eval_identity(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 5);
    tt_layer *d = NULL;
    CHECK_OK(tt_dropout_new(&d, 0.9f, &rng));
    tt_tensor *x = fixture_tensor(FX, "dropout.x"), *y = NULL;
    tt_layer_set_training(d, false);
    CHECK(!d->training);
    tt_rng before = rng;
    CHECK_OK(tt_layer_forward(d, &y, x));
    CHECK(y != NULL && y != x);
    check_tensor_exact(y, "dropout.x");
    /* A copy: writing the result does not change the input. */
    if (y) {
        tt_tensor_data(y)[0] += 1.0f;
        check_tensor_exact(x, "dropout.x");
    }
    /* Evaluation draws nothing. */
    CHECK(rng.state == before.state);
    tt_tensor_free(y);

    /* Back in training, p = 0 keeps every value but still draws one number each. */
    tt_layer *d0 = NULL;
    CHECK_OK(tt_dropout_new(&d0, 0.0f, &rng));
    CHECK_OK(tt_layer_forward(d0, &y, x));
    check_tensor_exact(y, "dropout.x");
    tt_rng expect = before;
    for (int i = 0; i < 24; i++)
        tt_rng_uniform(&expect);
    CHECK(rng.state == expect.state);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(d);
    tt_layer_free(d0);
}

static void test_dropout_errors(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    const float bad[] = {-0.1f, 1.0f, 1.5f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_layer *d = &not_a_layer;
        CHECK_STATUS(tt_dropout_new(&d, bad[i], &rng), TT_ERR_INVALID_ARG);
        CHECK(d == NULL);
        CHECK_ERROR_MENTIONS("0 <= p < 1");
    }
    tt_layer *d = &not_a_layer;
    CHECK_STATUS(tt_dropout_new(&d, 0.5f, NULL), TT_ERR_INVALID_ARG);
    CHECK(d == NULL);
    CHECK_ERROR_MENTIONS("rng");
    CHECK_STATUS(tt_dropout_new(NULL, 0.5f, &rng), TT_ERR_INVALID_ARG);
    /* No parameters. */
    CHECK_OK(tt_dropout_new(&d, 0.5f, &rng));
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(d, &ps));
    CHECK(ps.count == 0);
    tt_params_release(&ps);
    tt_layer_free(d);
}

/* ========================================================== activation layers */

static void test_activation_layers(void)
{
    typedef tt_status (*ctor)(tt_layer **);
    typedef tt_status (*fn1)(tt_tensor **, tt_tensor *);
    const struct { ctor make; const char *name; fn1 f; } cases[] = {
        {tt_relu_layer_new, "ReLU", tt_relu},
        {tt_sigmoid_layer_new, "Sigmoid", tt_sigmoid},
        {tt_tanh_layer_new, "Tanh", tt_tanh},
        {tt_gelu_layer_new, "GELU", tt_gelu},
        {tt_softmax_layer_new, "Softmax", NULL},
    };
    tt_tensor *x = fixture_tensor(FX, "linear.fwd.x3");
    for (size_t c = 0; c < 5 && x; c++) {
        tt_layer *l = &not_a_layer;
        CHECK_OK(cases[c].make(&l));
        if (!l)
            continue;
        CHECK(strcmp(tt_layer_name(l), cases[c].name) == 0);
        tt_tensor *y = NULL, *want = NULL;
        CHECK_OK(tt_layer_forward(l, &y, x));
        if (cases[c].f)
            CHECK_OK(cases[c].f(&want, x));
        else
            CHECK_OK(tt_softmax(&want, x, -1));
        if (y && want) {
            CHECK(tt_tensor_same_shape(y, want));
            CHECK(memcmp(tt_tensor_data(y), tt_tensor_data(want),
                         tt_tensor_numel(y) * sizeof(float)) == 0);
        }
        tt_params ps;
        tt_params_init(&ps);
        CHECK_OK(tt_layer_parameters(l, &ps));
        CHECK(ps.count == 0);
        tt_params_release(&ps);
        tt_tensor_free(y);
        tt_tensor_free(want);
        tt_layer_free(l);
        CHECK_STATUS(cases[c].make(NULL), TT_ERR_INVALID_ARG);
    }
    tt_tensor_free(x);
}

/* ================================================================= Sequential */

/* Linear(4,6) -> ReLU -> Linear(6,2) with the fixture's weights. */
static tt_layer *make_mlp(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 17);
    tt_layer *seq = NULL, *l1 = NULL, *act = NULL, *l2 = NULL;
    CHECK_OK(tt_sequential_new(&seq));
    CHECK_OK(tt_linear_new(&l1, 4, 6, true, &rng));
    CHECK_OK(tt_relu_layer_new(&act));
    CHECK_OK(tt_linear_new(&l2, 6, 2, true, &rng));
    /* The chain needs no cleanup of its own: append takes each layer in any case. */
    CHECK_OK(tt_sequential_append(seq, l1));
    CHECK_OK(tt_sequential_append(seq, act));
    CHECK_OK(tt_sequential_append(seq, l2));
    load_param(tt_linear_weight(l1), "seq.w1");
    load_param(tt_linear_bias(l1), "seq.b1");
    load_param(tt_linear_weight(l2), "seq.w2");
    load_param(tt_linear_bias(l2), "seq.b2");
    return seq;
}

static void test_sequential_forward(void)
{
    tt_layer *seq = make_mlp();
    tt_tensor *x = fixture_tensor(FX, "seq.x"), *y = NULL;
    CHECK(strcmp(tt_layer_name(seq), "Sequential") == 0);
    CHECK(tt_sequential_length(seq) == 3);
    CHECK(strcmp(tt_layer_name(tt_sequential_at(seq, 1)), "ReLU") == 0);
    CHECK(tt_sequential_at(seq, 3) == NULL);
    CHECK_OK(tt_layer_forward(seq, &y, x));
    check_tensor_near(y, "seq.y", ATOL, RTOL);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(seq);
}

static void test_sequential_parameters_order(void)
{
    tt_layer *seq = make_mlp();
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(seq, &ps));
    CHECK(ps.count == 4);
    if (ps.count == 4) {
        tt_layer *l1 = tt_sequential_at(seq, 0), *l2 = tt_sequential_at(seq, 2);
        CHECK(ps.items[0] == tt_linear_weight(l1));
        CHECK(ps.items[1] == tt_linear_bias(l1));
        CHECK(ps.items[2] == tt_linear_weight(l2));
        CHECK(ps.items[3] == tt_linear_bias(l2));
    }
    CHECK(tt_params_numel(&ps) == 4 * 6 + 6 + 6 * 2 + 2);
    tt_params_release(&ps);
    tt_layer_free(seq);
}

static void test_sequential_training_mode(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *outer = NULL, *inner = NULL, *d1 = NULL, *d2 = NULL;
    CHECK_OK(tt_sequential_new(&outer));
    CHECK_OK(tt_sequential_new(&inner));
    CHECK_OK(tt_dropout_new(&d1, 0.5f, &rng));
    CHECK_OK(tt_dropout_new(&d2, 0.5f, &rng));
    CHECK_OK(tt_sequential_append(inner, d2));
    CHECK_OK(tt_sequential_append(outer, d1));
    CHECK_OK(tt_sequential_append(outer, inner));
    CHECK(outer->training && d1->training && d2->training);
    tt_layer_set_training(outer, false);
    CHECK(!outer->training && !inner->training && !d1->training && !d2->training);
    /* Evaluation mode all the way down: the whole model is the identity. */
    tt_tensor *x = NULL, *y = NULL;
    CHECK_OK(tt_tensor_full(&x, 1, TT_SHAPE(50), 3.0f));
    CHECK_OK(tt_layer_forward(outer, &y, x));
    for (size_t i = 0; y && i < 50; i++)
        CHECK(tt_tensor_data(y)[i] == 3.0f);
    tt_tensor_free(y);
    tt_layer_set_training(outer, true);
    CHECK(outer->training && inner->training && d1->training && d2->training);
    tt_layer_set_training(NULL, true); /* harmless */
    tt_tensor_free(x);
    tt_layer_free(outer);
}

static void test_sequential_empty_and_nested(void)
{
    tt_layer *seq = NULL;
    CHECK_OK(tt_sequential_new(&seq));
    CHECK(tt_sequential_length(seq) == 0);
    tt_tensor *x = NULL, *y = NULL;
    CHECK_OK(tt_tensor_full(&x, 2, TT_SHAPE(2, 2), 7.0f));
    CHECK_OK(tt_layer_forward(seq, &y, x));
    CHECK(y && y != x && tt_tensor_same_shape(x, y));
    for (size_t i = 0; y && i < 4; i++)
        CHECK(tt_tensor_data(y)[i] == 7.0f);
    tt_tensor_free(y);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(seq, &ps));
    CHECK(ps.count == 0);
    /* A Sequential inside a Sequential contributes its parameters in place. */
    tt_layer *mlp = make_mlp();
    CHECK_OK(tt_sequential_append(seq, mlp));
    CHECK_OK(tt_layer_parameters(seq, &ps));
    CHECK(ps.count == 4 && ps.items[0] == tt_linear_weight(tt_sequential_at(mlp, 0)));
    tt_params_release(&ps);
    tt_tensor_free(x);
    tt_layer_free(seq);
}

static void test_sequential_ownership_on_failure(void)
{
    /* Each failing append takes the layer and frees it: the harness's leak check
     * proves it. */
    tt_layer *relu = NULL, *seq = NULL, *lin = NULL;
    CHECK_OK(tt_relu_layer_new(&relu));
    CHECK_STATUS(tt_sequential_append(NULL, relu), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("freed");
    CHECK_OK(tt_relu_layer_new(&relu));
    tt_rng rng;
    tt_rng_init(&rng, 2);
    CHECK_OK(tt_linear_new(&lin, 2, 2, true, &rng));
    CHECK_STATUS(tt_sequential_append(lin, relu), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("Linear");
    CHECK_STATUS(tt_sequential_append(lin, NULL), TT_ERR_INVALID_ARG);
    tt_layer_free(lin);

    /* Out of memory while growing: the new layer is freed, the old ones stay. The
     * first append and the fifth need a bigger array (capacity 0 -> 4 -> 8). */
    CHECK_OK(tt_sequential_new(&seq));
    size_t appended = 0;
    for (int round = 0; round < 7; round++) {
        bool inject = round == 0 || round == 5;
        CHECK_OK(tt_relu_layer_new(&relu));
        if (inject)
            tt_alloc_fail_after(0);
        tt_status st = tt_sequential_append(seq, relu);
        tt_alloc_fail_after(-1);
        CHECK_STATUS(st, inject ? TT_ERR_NOMEM : TT_OK);
        appended += st == TT_OK;
        CHECK(tt_sequential_length(seq) == appended);
    }
    CHECK(appended == 5);

    /* Refused without taking ownership: the container itself, and a second append of
     * a layer it already owns (freeing either would free what the caller still uses). */
    CHECK_STATUS(tt_sequential_append(seq, seq), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("itself");
    tt_layer *first = tt_sequential_at(seq, 0);
    CHECK_STATUS(tt_sequential_append(seq, first), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("already at index 0");
    CHECK(tt_sequential_at(seq, 0) == first && tt_sequential_length(seq) == appended);
    tt_layer_free(seq);
}

static void test_sequential_forward_error(void)
{
    /* Linear(4,6) -> Linear(5,2): the second layer refuses [N,6]; the intermediate
     * result is released. */
    tt_rng rng;
    tt_rng_init(&rng, 4);
    tt_layer *seq = NULL, *a = NULL, *b = NULL;
    CHECK_OK(tt_sequential_new(&seq));
    CHECK_OK(tt_linear_new(&a, 4, 6, true, &rng));
    CHECK_OK(tt_linear_new(&b, 5, 2, true, &rng));
    CHECK_OK(tt_sequential_append(seq, a));
    CHECK_OK(tt_sequential_append(seq, b));
    tt_tensor *x = NULL, *y = &not_a_tensor;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(3, 4)));
    CHECK_STATUS(tt_layer_forward(seq, &y, x), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("Linear(5, 2)");
    tt_tensor_free(x);
    tt_layer_free(seq);
}

static void test_sequential_queries_on_other_layers(void)
{
    tt_layer *relu = NULL;
    CHECK_OK(tt_relu_layer_new(&relu));
    CHECK(tt_sequential_length(relu) == 0 && tt_sequential_at(relu, 0) == NULL);
    CHECK(tt_sequential_length(NULL) == 0 && tt_sequential_at(NULL, 0) == NULL);
    tt_layer_free(relu);
    CHECK_STATUS(tt_sequential_new(NULL), TT_ERR_INVALID_ARG);
}

/* ============================================================ generic dispatch */

static void test_layer_null_arguments(void)
{
    tt_layer *relu = NULL;
    tt_tensor *x = NULL, *y = &not_a_tensor;
    CHECK_OK(tt_relu_layer_new(&relu));
    CHECK_OK(tt_tensor_zeros(&x, 1, TT_SHAPE(2)));
    CHECK_STATUS(tt_layer_forward(NULL, &y, x), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("layer");
    y = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(relu, &y, NULL), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_STATUS(tt_layer_forward(relu, NULL, x), TT_ERR_INVALID_ARG);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_STATUS(tt_layer_parameters(NULL, &ps), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_layer_parameters(relu, NULL), TT_ERR_INVALID_ARG);
    CHECK(strcmp(tt_layer_name(NULL), "(null)") == 0);
    tt_layer_free(NULL);
    tt_tensor_free(x);
    tt_layer_free(relu);
}

/* ===================================================== allocation failures */

/* Run `body` with the n-th allocation failing, n = 0, 1, ... until it succeeds:
 * every failure must be TT_ERR_NOMEM with nothing leaked and *out NULL. */
static void test_constructors_out_of_memory(void)
{
    tt_rng rng;
    for (long n = 0;; n++) {
        tt_rng_init(&rng, 8);
        size_t live = tt_alloc_live();
        tt_layer *l = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_linear_new(&l, 3, 4, true, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(n >= 3); /* the layer, W, b at least */
            tt_layer_free(l);
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(l == NULL);
        CHECK(tt_alloc_live() == live);
        if (n > 50)
            break;
    }
    typedef tt_status (*ctor)(tt_layer **);
    const ctor simple[] = {tt_relu_layer_new, tt_sigmoid_layer_new, tt_tanh_layer_new,
                           tt_gelu_layer_new, tt_softmax_layer_new, tt_sequential_new};
    for (size_t c = 0; c < sizeof simple / sizeof simple[0]; c++) {
        tt_layer *l = &not_a_layer;
        tt_alloc_fail_after(0);
        CHECK_STATUS(simple[c](&l), TT_ERR_NOMEM);
        tt_alloc_fail_after(-1);
        CHECK(l == NULL);
        CHECK_OK(simple[c](&l));
        tt_layer_free(l);
    }
    tt_layer *d = &not_a_layer;
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_dropout_new(&d, 0.5f, &rng), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(d == NULL);
}

static void test_forward_out_of_memory(void)
{
    tt_layer *mlp = make_mlp(), *drop = NULL;
    tt_rng rng;
    tt_rng_init(&rng, 3);
    CHECK_OK(tt_dropout_new(&drop, 0.5f, &rng));
    CHECK_OK(tt_sequential_append(mlp, drop));
    tt_tensor *x = fixture_tensor(FX, "seq.x");
    /* With gradients on, so the graph's allocations fail too. */
    tt_tensor *w0 = tt_linear_weight(tt_sequential_at(mlp, 0));
    long successes = 0;
    for (long n = 0; n < 200 && x; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *y = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_layer_forward(mlp, &y, x);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(y && y->grad_fn != NULL && w0->requires_grad);
            tt_tensor_free(y);
            successes++;
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(y == NULL);
        CHECK(tt_alloc_live() == live);
    }
    CHECK(successes == 1);
    tt_tensor_free(x);
    tt_layer_free(mlp);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("layers");
    if (!FX) {
        fprintf(stderr, "cannot load the layers fixtures\n");
        return 1;
    }
    RUN(test_params_list);
    RUN(test_params_errors);
    RUN(test_linear_init_matches_pcg32);
    RUN(test_linear_init_statistics);
    RUN(test_linear_init_deterministic);
    RUN(test_linear_parameters);
    RUN(test_linear_forward_values);
    RUN(test_linear_backward);
    RUN(test_linear_errors);
    RUN(test_dropout_exact_mask);
    RUN(test_dropout_backward_is_mask);
    RUN(test_dropout_stream_continues);
    RUN(test_dropout_statistics);
    RUN(test_dropout_eval_identity);
    RUN(test_dropout_errors);
    RUN(test_activation_layers);
    RUN(test_sequential_forward);
    RUN(test_sequential_parameters_order);
    RUN(test_sequential_training_mode);
    RUN(test_sequential_empty_and_nested);
    RUN(test_sequential_ownership_on_failure);
    RUN(test_sequential_forward_error);
    RUN(test_sequential_queries_on_other_layers);
    RUN(test_layer_null_arguments);
    RUN(test_constructors_out_of_memory);
    RUN(test_forward_out_of_memory);
    fixtures_free(FX);
    return harness_summary();
}
