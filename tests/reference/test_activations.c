/*
 * Tests of module 02 (activations) against the reference implementation.
 *
 * Expected values come from tests/fixtures/activations.txt (NumPy, float64 math on the
 * same float32 inputs; see gen_activations.py). Beyond the values, the tests pin down
 * what the module is about: staying finite and exact at the tails (+-1000, +-1e4),
 * softmax slices summing to 1 and ignoring a constant shift, any axis and any strides,
 * and every error path leaving *out NULL and nothing allocated.
 */
#include <fenv.h>

#include "harness.h"
#include "fixtures.h"

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"

/* Elementwise float work: see the tolerance tiers in the design. */
#define ATOL 1e-6
#define RTOL 1e-5

static fixtures *FX;

typedef tt_status (*unary_fn)(tt_tensor **out, tt_tensor *x);

static const struct {
    const char *name;
    unary_fn fn;
    tt_op_id op;
} UNARY[] = {
    {"relu", tt_relu, TT_OP_RELU},
    {"sigmoid", tt_sigmoid, TT_OP_SIGMOID},
    {"tanh", tt_tanh, TT_OP_TANH},
    {"gelu", tt_gelu, TT_OP_GELU},
};
#define N_UNARY (sizeof UNARY / sizeof UNARY[0])

/* A stand-in for "some tensor" that must never be freed: functions that fail must
 * overwrite *out with NULL, so a test starts with *out pointing here and checks. */
static tt_tensor not_a_result;

/* The tensor's values in row-major order, in a malloc'd buffer (NULL on failure). */
static float *values_of(const tt_tensor *t)
{
    size_t n = tt_tensor_numel(t);
    float *buf = malloc(n * sizeof *buf);
    if (buf && tt_tensor_to_array(t, buf, n) != TT_OK) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* got must have the fixture's shape and values within atol + rtol * |expected|. */
static void check_matches(const tt_tensor *got, const char *name, double atol, double rtol)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(f != NULL);
    CHECK(got != NULL);
    if (!f || !got)
        return;
    CHECK(got->ndim == f->ndim);
    if (got->ndim != f->ndim)
        return;
    for (int d = 0; d < f->ndim; d++)
        CHECK(got->shape[d] == f->shape[d]);
    float *v = values_of(got);
    CHECK(v != NULL);
    for (size_t i = 0; v && i < f->numel; i++) {
        if (!(fabs((double)v[i] - f->data[i]) <= atol + rtol * fabs(f->data[i]))) {
            fprintf(stderr, "%s: %s[%zu] = %.9g, expected %.9g\n", harness_current, name, i,
                    (double)v[i], (double)f->data[i]);
            harness_current_failed++;
            break;
        }
    }
    free(v);
}

/* Every element finite. */
static bool all_finite(const tt_tensor *t)
{
    float *v = values_of(t);
    bool ok = v != NULL;
    for (size_t i = 0; ok && i < tt_tensor_numel(t); i++)
        ok = isfinite(v[i]);
    free(v);
    return ok;
}

/* ------------------------------------------------------------------ values */

static void test_unary_ordinary_and_extreme_values(void)
{
    const char *sets[] = {"ordinary", "extreme"};
    for (size_t s = 0; s < 2; s++) {
        char name[128];
        snprintf(name, sizeof name, "unary.%s.x", sets[s]);
        tt_tensor *x = fixture_tensor(FX, name);
        CHECK(x != NULL);
        for (size_t k = 0; x && k < N_UNARY; k++) {
            tt_tensor *y = NULL;
            CHECK_OK(UNARY[k].fn(&y, x));
            snprintf(name, sizeof name, "unary.%s.%s", sets[s], UNARY[k].name);
            check_matches(y, name, ATOL, RTOL);
            CHECK(y && all_finite(y));
            CHECK(y && y->storage != x->storage); /* a new tensor, not x overwritten */
            tt_tensor_free(y);
        }
        tt_tensor_free(x);
    }
}

/* The tails, value by value: the exact limits, not just "close". */
static void test_tails_are_exact(void)
{
    const float xs[] = {-1e4f, -1000.0f, 1000.0f, 1e4f};
    tt_tensor *x = NULL, *sig = NULL, *th = NULL, *ge = NULL, *re = NULL;
    CHECK_OK(tt_tensor_from_data(&x, 1, TT_SHAPE(4), xs));
    CHECK_OK(tt_sigmoid(&sig, x));
    CHECK_OK(tt_tanh(&th, x));
    CHECK_OK(tt_gelu(&ge, x));
    CHECK_OK(tt_relu(&re, x));
    if (sig && th && ge && re) {
        const float *s = tt_tensor_data(sig), *t = tt_tensor_data(th);
        const float *g = tt_tensor_data(ge), *r = tt_tensor_data(re);
        for (int i = 0; i < 4; i++) {
            float lim = xs[i] < 0 ? 0.0f : 1.0f;
            CHECK_NEAR(s[i], lim, 0.0, 0.0);
            CHECK_NEAR(t[i], xs[i] < 0 ? -1.0f : 1.0f, 0.0, 0.0);
            CHECK_NEAR(g[i], xs[i] < 0 ? 0.0f : xs[i], 0.0, 0.0);
            CHECK_NEAR(r[i], xs[i] < 0 ? 0.0f : xs[i], 0.0, 0.0);
        }
    }
    tt_tensor_free(x);
    tt_tensor_free(sig);
    tt_tensor_free(th);
    tt_tensor_free(ge);
    tt_tensor_free(re);
}

/* "No exp() of a large positive number": 1 / (1 + exp(-x)) happens to give 0 at
 * x = -1000 in IEEE arithmetic (1 / inf), but only after an overflow, which breaks
 * under -ffast-math and is exactly what the contract rules out. The floating-point
 * overflow flag tells whether any step overflowed. */
static void test_no_overflow_on_the_way(void)
{
    const float xs[] = {-1e4f, -1000.0f, -100.0f, 100.0f, 1000.0f, 1e4f};
    tt_tensor *x = NULL;
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(2, 3), xs));
    for (size_t k = 0; x && k <= N_UNARY; k++) {
        tt_tensor *y = NULL;
        feclearexcept(FE_OVERFLOW);
        CHECK_OK(k < N_UNARY ? UNARY[k].fn(&y, x) : tt_softmax(&y, x, 1));
        if (fetestexcept(FE_OVERFLOW)) {
            fprintf(stderr, "%s: %s overflowed on the way\n", harness_current,
                    k < N_UNARY ? UNARY[k].name : "softmax");
            harness_current_failed++;
        }
        CHECK(y && all_finite(y));
        tt_tensor_free(y);
    }
    tt_tensor_free(x);
}

/* GELU for moderately negative x is tiny but not zero: 1 + tanh(u) computed in float
 * keeps one significant bit there (tanhf(u) = -0.9999999, about 30% off in the
 * result); the sigmoid form keeps the digits. */
static void test_gelu_negative_is_accurate(void)
{
    tt_tensor *x = NULL, *y = NULL;
    CHECK_OK(tt_tensor_scalar(&x, -5.0f));
    CHECK_OK(tt_gelu(&y, x));
    if (y) {
        /* 0.5 * -5 * (1 + tanh(sqrt(2/pi) * (-5 - 0.044715 * 125))) in float64. */
        CHECK_NEAR(tt_tensor_data(y)[0], -2.2917962e-07, 0.0, 1e-5);
        CHECK(y->ndim == 0);
    }
    tt_tensor_free(x);
    tt_tensor_free(y);
}

/* Elementwise ops read through views: a transposed input gives the transposed result. */
static void test_unary_on_transposed_view(void)
{
    tt_tensor *x = fixture_tensor(FX, "unary.ordinary.x"); /* [5,8] */
    tt_tensor *xt = NULL;
    CHECK(x != NULL);
    if (x)
        CHECK_OK(tt_tensor_transpose(&xt, x, 0, 1));
    for (size_t k = 0; xt && k < N_UNARY; k++) {
        tt_tensor *yt = NULL, *direct = NULL;
        CHECK_OK(UNARY[k].fn(&yt, xt));
        CHECK_OK(UNARY[k].fn(&direct, x));
        CHECK(yt && yt->ndim == 2 && yt->shape[0] == 8 && yt->shape[1] == 5);
        if (yt && direct) {
            for (size_t i = 0; i < 5; i++)
                for (size_t j = 0; j < 8; j++) {
                    float a = 0, b = 0;
                    CHECK_OK(tt_tensor_get(yt, TT_SHAPE(j, i), &a));
                    CHECK_OK(tt_tensor_get(direct, TT_SHAPE(i, j), &b));
                    CHECK(a == b);
                }
        }
        tt_tensor_free(yt);
        tt_tensor_free(direct);
    }
    tt_tensor_free(xt);
    tt_tensor_free(x);
}

/* --------------------------------------------------------------- softmax */

/* Every slice of y along `axis` sums to 1 (within float rounding of `len` terms). */
static void check_slices_sum_to_one(const tt_tensor *y, int axis)
{
    int ax = axis < 0 ? axis + y->ndim : axis;
    size_t outer = 1, inner = 1, len = y->shape[ax];
    for (int d = 0; d < ax; d++)
        outer *= y->shape[d];
    for (int d = ax + 1; d < y->ndim; d++)
        inner *= y->shape[d];
    float *v = values_of(y);
    CHECK(v != NULL);
    for (size_t o = 0; v && o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            double s = 0;
            for (size_t k = 0; k < len; k++) {
                float e = v[(o * len + k) * inner + i];
                CHECK(e >= 0.0f && e <= 1.0f);
                s += e;
            }
            CHECK_NEAR(s, 1.0, 1e-6 * (double)len, 0.0);
        }
    free(v);
}

static void test_softmax_every_axis(void)
{
    static const struct {
        const char *x, *expected;
        int axis;
    } cases[] = {
        {"softmax.2d.x", "softmax.2d.axis0", 0},  {"softmax.2d.x", "softmax.2d.axis1", 1},
        {"softmax.2d.x", "softmax.2d.axis1", -1}, {"softmax.2d.x", "softmax.2d.axis0", -2},
        {"softmax.3d.x", "softmax.3d.axis0", 0},  {"softmax.3d.x", "softmax.3d.axis1", 1},
        {"softmax.3d.x", "softmax.3d.axis2", 2},  {"softmax.3d.x", "softmax.3d.axis2", -1},
        {"softmax.3d.x", "softmax.3d.axis0", -3}, {"softmax.4d.x", "softmax.4d.axis2", 2},
        {"softmax.4d.x", "softmax.4d.axis2", -2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tt_tensor *x = fixture_tensor(FX, cases[c].x), *y = NULL;
        CHECK(x != NULL);
        if (!x)
            continue;
        CHECK_OK(tt_softmax(&y, x, cases[c].axis));
        check_matches(y, cases[c].expected, ATOL, RTOL);
        if (y)
            check_slices_sum_to_one(y, cases[c].axis);
        tt_tensor_free(y);
        tt_tensor_free(x);
    }
}

static void test_softmax_on_transposed_views(void)
{
    tt_tensor *x2 = fixture_tensor(FX, "softmax.2d.x"), *x3 = fixture_tensor(FX, "softmax.3d.x");
    tt_tensor *v2 = NULL, *v3 = NULL, *y = NULL;
    CHECK(x2 && x3);
    if (x2 && x3) {
        CHECK_OK(tt_tensor_transpose(&v2, x2, 0, 1));
        CHECK_OK(tt_tensor_transpose(&v3, x3, 0, 2));
    }
    if (v2 && v3) {
        CHECK(!tt_tensor_is_contiguous(v2) && !tt_tensor_is_contiguous(v3));
        CHECK_OK(tt_softmax(&y, v2, 1));
        check_matches(y, "softmax.2d.transposed_axis1", ATOL, RTOL);
        tt_tensor_free(y);
        y = NULL;
        CHECK_OK(tt_softmax(&y, v3, -1));
        check_matches(y, "softmax.3d.transposed02_axis2", ATOL, RTOL);
        tt_tensor_free(y);
    }
    tt_tensor_free(v2);
    tt_tensor_free(v3);
    tt_tensor_free(x2);
    tt_tensor_free(x3);
}

static void test_softmax_huge_inputs(void)
{
    tt_tensor *x = fixture_tensor(FX, "softmax.extreme.x"), *y = NULL;
    CHECK(x != NULL);
    if (x)
        CHECK_OK(tt_softmax(&y, x, 1));
    check_matches(y, "softmax.extreme.axis1", ATOL, RTOL);
    if (y) {
        CHECK(all_finite(y));
        check_slices_sum_to_one(y, 1);
        /* Row [1000, 1000, -1000, 0]: two equal winners share exactly half each. */
        CHECK_NEAR(tt_tensor_data(y)[0], 0.5, 0.0, 0.0);
        CHECK_NEAR(tt_tensor_data(y)[1], 0.5, 0.0, 0.0);
        /* Row of four equal -1e4: uniform. */
        for (int k = 8; k < 12; k++)
            CHECK_NEAR(tt_tensor_data(y)[k], 0.25, 0.0, 0.0);
    }
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* softmax(x + c) == softmax(x). The inputs are multiples of 1/8, so x + c is exact in
 * float for every c below (the float spacing at 1e6 is 1/16): any difference in the
 * result would come from the kernel, not from rounding the inputs. */
static void test_softmax_shift_invariance(void)
{
    float base[12];
    for (int i = 0; i < 12; i++)
        base[i] = (float)((i * 7) % 12 - 5) / 8.0f; /* -5/8 .. 6/8, shuffled */
    const float shifts[] = {1000.0f, -1000.0f, 1e4f, -1e4f, 1e6f};
    tt_tensor *x = NULL, *ref = NULL;
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(3, 4), base));
    if (x)
        CHECK_OK(tt_softmax(&ref, x, 1));
    for (size_t s = 0; ref && s < sizeof shifts / sizeof shifts[0]; s++) {
        float shifted[12];
        for (int i = 0; i < 12; i++)
            shifted[i] = base[i] + shifts[s];
        tt_tensor *xs = NULL, *ys = NULL;
        CHECK_OK(tt_tensor_from_data(&xs, 2, TT_SHAPE(3, 4), shifted));
        if (xs)
            CHECK_OK(tt_softmax(&ys, xs, 1));
        for (int i = 0; ys && i < 12; i++)
            CHECK_NEAR(tt_tensor_data(ys)[i], tt_tensor_data(ref)[i], 1e-7, 0.0);
        tt_tensor_free(xs);
        tt_tensor_free(ys);
    }
    tt_tensor_free(ref);
    tt_tensor_free(x);
}

/* A single-element slice is exactly 1, and a 1-D input is one slice. */
static void test_softmax_degenerate_shapes(void)
{
    tt_tensor *x = NULL, *y = NULL;
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(3, 1), ((const float[]){-1e4f, 0.0f, 7.0f})));
    if (x)
        CHECK_OK(tt_softmax(&y, x, 1));
    for (int i = 0; y && i < 3; i++)
        CHECK_NEAR(tt_tensor_data(y)[i], 1.0, 0.0, 0.0);
    tt_tensor_free(y);
    y = NULL;
    tt_tensor_free(x);
    x = NULL;

    CHECK_OK(tt_tensor_from_data(&x, 1, TT_SHAPE(4), ((const float[]){0.0f, 0.0f, 0.0f, 0.0f})));
    if (x)
        CHECK_OK(tt_softmax(&y, x, 0));
    for (int i = 0; y && i < 4; i++)
        CHECK_NEAR(tt_tensor_data(y)[i], 0.25, 0.0, 0.0);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------- recording */

static void test_ops_record_themselves(void)
{
    tt_tensor *x = NULL;
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(2, 2), ((const float[]){1, -2, 3, -4})));
    if (!x)
        return;
    /* Not requiring a gradient: nothing recorded. */
    for (size_t k = 0; k < N_UNARY; k++) {
        tt_tensor *y = NULL;
        CHECK_OK(UNARY[k].fn(&y, x));
        CHECK(y && y->grad_fn == NULL && !y->requires_grad);
        tt_tensor_free(y);
    }
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    for (size_t k = 0; k < N_UNARY; k++) {
        tt_tensor *y = NULL;
        CHECK_OK(UNARY[k].fn(&y, x));
        CHECK(y && y->requires_grad && y->grad_fn);
        if (y && y->grad_fn) {
            CHECK(y->grad_fn->op == &tt_ops[UNARY[k].op]);
            CHECK(y->grad_fn->n_inputs == 1 && y->grad_fn->inputs[0] == x);
        }
        tt_tensor_free(y);
    }
    /* Softmax saves its axis, normalised to be non-negative. */
    const int axes[] = {-1, 0, 1, -2};
    for (size_t a = 0; a < 4; a++) {
        tt_tensor *y = NULL;
        CHECK_OK(tt_softmax(&y, x, axes[a]));
        CHECK(y && y->grad_fn);
        if (y && y->grad_fn) {
            CHECK(y->grad_fn->op == &tt_ops[TT_OP_SOFTMAX]);
            CHECK(y->grad_fn->n_inputs == 1 && y->grad_fn->inputs[0] == x);
            CHECK(y->grad_fn->args.i[0] == (axes[a] < 0 ? axes[a] + 2 : axes[a]));
        }
        tt_tensor_free(y);
    }
    tt_tensor_free(x);
}

/* ------------------------------------------------------------------ errors */

static void test_null_arguments(void)
{
    tt_tensor *x = NULL;
    CHECK_OK(tt_tensor_zeros(&x, 1, TT_SHAPE(3)));
    for (size_t k = 0; k < N_UNARY; k++) {
        tt_tensor *y = &not_a_result;
        CHECK_STATUS(UNARY[k].fn(NULL, x), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("tt_");
        CHECK_ERROR_MENTIONS(UNARY[k].name);
        CHECK_STATUS(UNARY[k].fn(&y, NULL), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS(UNARY[k].name);
        CHECK(y == NULL);
    }
    tt_tensor *y = &not_a_result;
    CHECK_STATUS(tt_softmax(NULL, x, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_softmax");
    CHECK_STATUS(tt_softmax(&y, NULL, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_softmax");
    CHECK(y == NULL);
    tt_tensor_free(x);
}

static void test_softmax_bad_axis(void)
{
    tt_tensor *x = NULL, *s = NULL;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(2, 3)));
    CHECK_OK(tt_tensor_scalar(&s, 1.0f));
    const int bad[] = {2, -3, 100, -100};
    for (size_t i = 0; x && i < 4; i++) {
        tt_tensor *y = &not_a_result;
        CHECK_STATUS(tt_softmax(&y, x, bad[i]), TT_ERR_INVALID_ARG);
        CHECK(y == NULL);
        char needle[32];
        snprintf(needle, sizeof needle, "axis %d", bad[i]);
        CHECK_ERROR_MENTIONS("tt_softmax");
        CHECK_ERROR_MENTIONS(needle);
        CHECK_ERROR_MENTIONS("[2,3]");
    }
    tt_tensor *y = &not_a_result;
    if (s)
        CHECK_STATUS(tt_softmax(&y, s, 0), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("scalar");
    tt_tensor_free(x);
    tt_tensor_free(s);
}

/* Make each allocation of one call fail in turn (as curl's torture tests do): every
 * failure must come back as TT_ERR_NOMEM with *out NULL and nothing left allocated,
 * and the loop must end with a call that succeeds. */
static void check_every_allocation_failure(unary_fn fn, int axis, tt_tensor *x)
{
    long failures = 0;
    for (long n = 0; n < 100; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *y = &not_a_result;
        tt_alloc_fail_after(n);
        tt_status st = fn ? fn(&y, x) : tt_softmax(&y, x, axis);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(y != NULL && y != &not_a_result);
            if (y != &not_a_result)
                tt_tensor_free(y);
            CHECK(failures > 0); /* the call allocates, so some failure was injected */
            return;
        }
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(y == NULL);
        CHECK(tt_alloc_live() == live);
    }
    fprintf(stderr, "%s: the call never succeeded after 100 injected failures\n",
            harness_current);
    harness_current_failed++;
}

static void test_allocation_failures(void)
{
    tt_tensor *x = NULL, *xt = NULL;
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(2, 3), ((const float[]){1, 2, 3, 4, 5, 6})));
    if (x)
        CHECK_OK(tt_tensor_transpose(&xt, x, 0, 1)); /* non-contiguous: a copy is made too */
    if (!xt) {
        tt_tensor_free(x);
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        /* Second pass: the input requires a gradient, so recording allocates a node. */
        if (pass == 1)
            CHECK_OK(tt_tensor_set_requires_grad(x, true));
        for (size_t k = 0; k < N_UNARY; k++) {
            check_every_allocation_failure(UNARY[k].fn, 0, x);
            check_every_allocation_failure(UNARY[k].fn, 0, xt);
        }
        check_every_allocation_failure(NULL, -1, x);
        check_every_allocation_failure(NULL, 0, xt);
    }
    tt_tensor_free(xt);
    tt_tensor_free(x);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("activations");
    if (!FX) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_unary_ordinary_and_extreme_values);
    RUN(test_tails_are_exact);
    RUN(test_no_overflow_on_the_way);
    RUN(test_gelu_negative_is_accurate);
    RUN(test_unary_on_transposed_view);
    RUN(test_softmax_every_axis);
    RUN(test_softmax_on_transposed_views);
    RUN(test_softmax_huge_inputs);
    RUN(test_softmax_shift_invariance);
    RUN(test_softmax_degenerate_shapes);
    RUN(test_ops_record_themselves);
    RUN(test_null_arguments);
    RUN(test_softmax_bad_axis);
    RUN(test_allocation_failures);
    fixtures_free(FX);
    return harness_summary();
}
