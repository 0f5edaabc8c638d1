/*
 * Tests of module 04 (losses) against the reference implementation.
 *
 * Expected values come from tests/fixtures/losses.txt (NumPy, float64 math on the same
 * float32 inputs; see gen_losses.py). The tests cover the numbers a student must get
 * right (ordinary batches, confident wrong answers, uniform predictions, huge logits),
 * that inputs are read through views, that each loss records itself with its two
 * inputs, and every error path: shapes, bad targets, NULL arguments and each
 * allocation failing in turn, with *out left NULL and nothing leaked.
 */
#include "harness.h"
#include "fixtures.h"

#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"

/* A loss is a reduction: allow a little more than elementwise work. */
#define ATOL 1e-6
#define RTOL 2e-6

static fixtures *FX;

typedef tt_status (*loss_fn)(tt_tensor **out, tt_tensor *a, tt_tensor *b);

/* Functions that fail must overwrite *out with NULL: tests start it pointing here. */
static tt_tensor not_a_result;

/* The value of a 0-dimensional result, after checking that it is one. */
static float scalar_of(const tt_tensor *t)
{
    float v = NAN;
    CHECK(t != NULL);
    if (!t)
        return v;
    CHECK(t->ndim == 0);
    CHECK_OK(tt_tensor_item(t, &v));
    return v;
}

static float fixture_scalar(const char *name)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(f && f->ndim == 0);
    return f ? f->data[0] : NAN;
}

/* loss(a, b) from fixtures a_name and b_name must equal fixture expected. */
static void check_loss(loss_fn fn, const char *a_name, const char *b_name, const char *expected)
{
    tt_tensor *a = fixture_tensor(FX, a_name), *b = fixture_tensor(FX, b_name), *l = NULL;
    CHECK(a && b);
    if (a && b) {
        CHECK_OK(fn(&l, a, b));
        float want = fixture_scalar(expected);
        float got = scalar_of(l);
        if (!(fabs((double)got - want) <= ATOL + RTOL * fabs(want)))
            fprintf(stderr, "%s: %s\n", harness_current, expected);
        CHECK_NEAR(got, want, ATOL, RTOL);
    }
    tt_tensor_free(l);
    tt_tensor_free(a);
    tt_tensor_free(b);
}

/* The loss of two small arrays of the same shape [n]. */
static float loss_of(loss_fn fn, size_t n, const float *a, const float *b)
{
    tt_tensor *ta = NULL, *tb = NULL, *l = NULL;
    float v = NAN;
    CHECK_OK(tt_tensor_from_data(&ta, 1, TT_SHAPE(n), a));
    CHECK_OK(tt_tensor_from_data(&tb, 1, TT_SHAPE(n), b));
    if (ta && tb) {
        CHECK_OK(fn(&l, ta, tb));
        v = scalar_of(l);
    }
    tt_tensor_free(l);
    tt_tensor_free(ta);
    tt_tensor_free(tb);
    return v;
}

/* Cross-entropy of logits [rows, classes] and targets [rows]. */
static float ce_of(size_t rows, size_t classes, const float *logits, const float *targets)
{
    tt_tensor *x = NULL, *t = NULL, *l = NULL;
    float v = NAN;
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(rows, classes), logits));
    CHECK_OK(tt_tensor_from_data(&t, 1, TT_SHAPE(rows), targets));
    if (x && t) {
        CHECK_OK(tt_cross_entropy_loss(&l, x, t));
        v = scalar_of(l);
    }
    tt_tensor_free(l);
    tt_tensor_free(x);
    tt_tensor_free(t);
    return v;
}

/* ------------------------------------------------------------------- MSE */

static void test_mse_values(void)
{
    check_loss(tt_mse_loss, "mse.pred", "mse.target", "mse.out");
    /* By hand: differences 1, -2, 0, 3 -> (1 + 4 + 0 + 9) / 4. */
    CHECK_NEAR(loss_of(tt_mse_loss, 4, (const float[]){1, 0, 5, 3}, (const float[]){0, 2, 5, 0}),
               3.5, 0.0, 0.0);
    /* Identical inputs: exactly zero. */
    CHECK_NEAR(loss_of(tt_mse_loss, 3, (const float[]){-1e4f, 0, 7},
                       (const float[]){-1e4f, 0, 7}), 0.0, 0.0, 0.0);
}

/* The mean over views: transposing both inputs pairs the same elements. */
static void test_mse_reads_views(void)
{
    tt_tensor *p = fixture_tensor(FX, "mse.pred"), *t = fixture_tensor(FX, "mse.target");
    tt_tensor *pv = NULL, *tv = NULL, *l = NULL;
    CHECK(p && t);
    if (p && t) {
        CHECK_OK(tt_tensor_transpose(&pv, p, 0, 1));
        CHECK_OK(tt_tensor_transpose(&tv, t, 0, 1));
    }
    if (pv && tv) {
        CHECK(!tt_tensor_is_contiguous(pv));
        CHECK_OK(tt_mse_loss(&l, pv, tv));
        CHECK_NEAR(scalar_of(l), fixture_scalar("mse.out"), ATOL, RTOL);
    }
    tt_tensor_free(l);
    tt_tensor_free(pv);
    tt_tensor_free(tv);
    tt_tensor_free(p);
    tt_tensor_free(t);
}

/* ------------------------------------------------------------------- BCE */

static void test_bce_values(void)
{
    check_loss(tt_bce_loss, "bce.prob", "bce.target", "bce.out");
    check_loss(tt_bce_loss, "bce.prob", "bce.soft_target", "bce.soft_out");
    check_loss(tt_bce_loss, "bce.edge.prob", "bce.edge.target", "bce.edge.out");
}

/* A confident wrong answer costs -log(eps), about 16.118, in both directions; a
 * confident right one costs about eps; a coin flip costs log 2. */
static void test_bce_confident_and_uniform(void)
{
    float wrong = loss_of(tt_bce_loss, 2, (const float[]){0.0f, 1.0f}, (const float[]){1.0f, 0.0f});
    CHECK(isfinite(wrong));
    CHECK_NEAR(wrong, fixture_scalar("bce.confident_wrong.out"), 0.0, 1e-6);
    CHECK_NEAR(wrong, 16.118095, 1e-5, 0.0);
    /* Each direction on its own, so that clamping only one end cannot pass. */
    CHECK_NEAR(loss_of(tt_bce_loss, 1, (const float[]){1.0f}, (const float[]){0.0f}), 16.118095,
               1e-5, 0.0);
    CHECK_NEAR(loss_of(tt_bce_loss, 1, (const float[]){0.0f}, (const float[]){1.0f}), 16.118095,
               1e-5, 0.0);

    float right = loss_of(tt_bce_loss, 2, (const float[]){1.0f, 0.0f}, (const float[]){1.0f, 0.0f});
    CHECK_NEAR(right, 1e-7, 1e-9, 0.0);

    float half[6] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    float labels[6] = {0, 1, 1, 0, 0.25f, 1};
    CHECK_NEAR(loss_of(tt_bce_loss, 6, half, labels), 0.69314718, 1e-7, 0.0);
}

/* --------------------------------------------------------- cross-entropy */

static void test_cross_entropy_values(void)
{
    check_loss(tt_cross_entropy_loss, "ce.logits", "ce.targets", "ce.out");
    /* By hand: logits [0, log 3] for target 1: -log(3/4). */
    CHECK_NEAR(ce_of(1, 2, (const float[]){0.0f, (float)log(3.0)}, (const float[]){1}),
               -log(0.75), 1e-7, 0.0);
}

/* Equal logits: every class has probability 1/C, the loss is log C, whatever the
 * common value (including ones whose exp overflows). */
static void test_cross_entropy_uniform(void)
{
    const float level[] = {0.0f, 5.0f, 1000.0f, -1e4f};
    for (size_t s = 0; s < 4; s++) {
        float logits[3 * 10];
        for (int i = 0; i < 30; i++)
            logits[i] = level[s];
        CHECK_NEAR(ce_of(3, 10, logits, (const float[]){0, 9, 4}), log(10.0), 1e-6, 0.0);
    }
}

static void test_cross_entropy_huge_logits(void)
{
    check_loss(tt_cross_entropy_loss, "ce.huge.logits", "ce.huge.targets", "ce.huge.out");
    /* A confident right answer costs ~0, a confident wrong one costs the logit gap. */
    const float row[] = {1e4f, 0.0f, -1e4f};
    CHECK_NEAR(ce_of(1, 3, row, (const float[]){0}), 0.0, 1e-7, 0.0);
    CHECK_NEAR(ce_of(1, 3, row, (const float[]){1}), 1e4, 0.0, 1e-7);
    CHECK_NEAR(ce_of(1, 3, row, (const float[]){2}), 2e4, 0.0, 1e-7);
}

/* Logits given as a transposed view (strides [1,6]), targets as a slice at an offset. */
static void test_cross_entropy_reads_views(void)
{
    tt_tensor *x = fixture_tensor(FX, "ce.logits"), *t = fixture_tensor(FX, "ce.targets");
    tt_tensor *xt = NULL, *back = NULL, *xv = NULL, *longer = NULL, *tv = NULL, *l = NULL;
    CHECK(x && t);
    if (x && t) {
        /* [6,5] -> transposed copy [5,6] -> transposed view [6,5] of the original values. */
        CHECK_OK(tt_tensor_transpose(&xt, x, 0, 1));
        if (xt)
            CHECK_OK(tt_tensor_copy(&back, xt));
        if (back)
            CHECK_OK(tt_tensor_transpose(&xv, back, 0, 1));
        /* [9,9,t0..t5] sliced to [2,8): the targets at offset 2. */
        CHECK_OK(tt_tensor_full(&longer, 1, TT_SHAPE(8), 9.0f));
        for (size_t i = 0; longer && i < 6; i++)
            CHECK_OK(tt_tensor_set(longer, TT_SHAPE(i + 2), tt_tensor_data(t)[i]));
        if (longer)
            CHECK_OK(tt_tensor_slice(&tv, longer, 0, 2, 8));
    }
    if (xv && tv) {
        CHECK(!tt_tensor_is_contiguous(xv) && tv->offset == 2);
        CHECK_OK(tt_cross_entropy_loss(&l, xv, tv));
        CHECK_NEAR(scalar_of(l), fixture_scalar("ce.out"), ATOL, RTOL);
    }
    tt_tensor_free(l);
    tt_tensor_free(tv);
    tt_tensor_free(longer);
    tt_tensor_free(xv);
    tt_tensor_free(back);
    tt_tensor_free(xt);
    tt_tensor_free(x);
    tt_tensor_free(t);
}

/* ------------------------------------------------------------- recording */

static void test_losses_record_themselves(void)
{
    tt_tensor *p = NULL, *t = NULL, *x = NULL, *c = NULL;
    CHECK_OK(tt_tensor_from_data(&p, 2, TT_SHAPE(2, 2), ((const float[]){0.2f, 0.7f, 0.9f, 0.4f})));
    CHECK_OK(tt_tensor_from_data(&t, 2, TT_SHAPE(2, 2), ((const float[]){0, 1, 1, 0})));
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(2, 2), ((const float[]){1, 2, 3, 4})));
    CHECK_OK(tt_tensor_from_data(&c, 1, TT_SHAPE(2), ((const float[]){1, 0})));
    if (!p || !t || !x || !c)
        goto done;
    static const struct {
        loss_fn fn;
        tt_op_id op;
    } cases[] = {
        {tt_mse_loss, TT_OP_MSE},
        {tt_bce_loss, TT_OP_BCE},
        {tt_cross_entropy_loss, TT_OP_CROSS_ENTROPY},
    };
    for (int grad = 0; grad < 2; grad++) {
        if (grad) {
            CHECK_OK(tt_tensor_set_requires_grad(p, true));
            CHECK_OK(tt_tensor_set_requires_grad(x, true));
        }
        for (size_t k = 0; k < 3; k++) {
            tt_tensor *a = cases[k].op == TT_OP_CROSS_ENTROPY ? x : p;
            tt_tensor *b = cases[k].op == TT_OP_CROSS_ENTROPY ? c : t;
            tt_tensor *l = NULL;
            CHECK_OK(cases[k].fn(&l, a, b));
            if (!grad) {
                CHECK(l && l->grad_fn == NULL && !l->requires_grad);
            } else {
                CHECK(l && l->requires_grad && l->grad_fn);
                if (l && l->grad_fn) {
                    const tt_node *n = l->grad_fn;
                    CHECK(n->op == &tt_ops[cases[k].op]);
                    CHECK(n->n_inputs == 2 && n->inputs[0] == a && n->inputs[1] == b);
                    if (cases[k].op == TT_OP_BCE)
                        CHECK(n->args.f[0] == TT_BCE_EPSILON);
                }
            }
            tt_tensor_free(l);
        }
    }
done:
    tt_tensor_free(p);
    tt_tensor_free(t);
    tt_tensor_free(x);
    tt_tensor_free(c);
}

/* ------------------------------------------------------------------ errors */

static void test_null_arguments(void)
{
    static const struct {
        loss_fn fn;
        const char *name;
    } fns[] = {
        {tt_mse_loss, "tt_mse_loss"},
        {tt_bce_loss, "tt_bce_loss"},
        {tt_cross_entropy_loss, "tt_cross_entropy_loss"},
    };
    tt_tensor *x = NULL, *t = NULL;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(2, 2)));
    CHECK_OK(tt_tensor_zeros(&t, 1, TT_SHAPE(2)));
    for (size_t k = 0; x && t && k < 3; k++) {
        tt_tensor *b = k == 2 ? t : x;
        tt_tensor *l = &not_a_result;
        CHECK_STATUS(fns[k].fn(NULL, x, b), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS(fns[k].name);
        CHECK_STATUS(fns[k].fn(&l, NULL, b), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS(fns[k].name);
        CHECK(l == NULL);
        l = &not_a_result;
        CHECK_STATUS(fns[k].fn(&l, x, NULL), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("target");
        CHECK(l == NULL);
    }
    tt_tensor_free(x);
    tt_tensor_free(t);
}

static void test_shape_mismatches(void)
{
    tt_tensor *a23 = NULL, *a32 = NULL, *a6 = NULL, *a3 = NULL, *a2 = NULL, *a234 = NULL;
    tt_tensor *a21 = NULL;
    CHECK_OK(tt_tensor_zeros(&a23, 2, TT_SHAPE(2, 3)));
    CHECK_OK(tt_tensor_zeros(&a32, 2, TT_SHAPE(3, 2)));
    CHECK_OK(tt_tensor_zeros(&a6, 1, TT_SHAPE(6)));
    CHECK_OK(tt_tensor_zeros(&a3, 1, TT_SHAPE(3)));
    CHECK_OK(tt_tensor_zeros(&a2, 1, TT_SHAPE(2)));
    CHECK_OK(tt_tensor_zeros(&a234, 3, TT_SHAPE(2, 3, 4)));
    CHECK_OK(tt_tensor_zeros(&a21, 2, TT_SHAPE(2, 1)));
    if (!a23 || !a32 || !a6 || !a3 || !a2 || !a234 || !a21)
        goto done;

    /* MSE and BCE: equal shapes only, no broadcasting (not even [2,3] with [3]). */
    tt_tensor *pairs[][2] = {{a23, a32}, {a23, a6}, {a23, a3}, {a6, a23}};
    for (size_t i = 0; i < 4; i++) {
        tt_tensor *l = &not_a_result;
        CHECK_STATUS(tt_mse_loss(&l, pairs[i][0], pairs[i][1]), TT_ERR_SHAPE);
        CHECK(l == NULL);
        CHECK_ERROR_MENTIONS("tt_mse_loss");
        l = &not_a_result;
        CHECK_STATUS(tt_bce_loss(&l, pairs[i][0], pairs[i][1]), TT_ERR_SHAPE);
        CHECK(l == NULL);
        CHECK_ERROR_MENTIONS("tt_bce_loss");
    }
    CHECK_STATUS(tt_mse_loss(&(tt_tensor *){NULL}, a23, a32), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[2,3]");
    CHECK_ERROR_MENTIONS("[3,2]");

    /* Cross-entropy: logits 2-D, targets [N]. */
    struct {
        tt_tensor *logits, *targets;
        const char *mentions;
    } ce[] = {
        {a6, a6, "[6]"},        /* 1-D logits */
        {a234, a2, "[2,3,4]"},  /* 3-D logits */
        {a23, a3, "[3]"},       /* targets of the wrong length */
        {a23, a21, "[2,1]"},    /* 2-D targets */
        {a23, a23, "[2,3]"},    /* targets shaped like the logits */
    };
    for (size_t i = 0; i < sizeof ce / sizeof ce[0]; i++) {
        tt_tensor *l = &not_a_result;
        CHECK_STATUS(tt_cross_entropy_loss(&l, ce[i].logits, ce[i].targets), TT_ERR_SHAPE);
        CHECK(l == NULL);
        CHECK_ERROR_MENTIONS("tt_cross_entropy_loss");
        CHECK_ERROR_MENTIONS(ce[i].mentions);
    }
done:
    tt_tensor_free(a23);
    tt_tensor_free(a32);
    tt_tensor_free(a6);
    tt_tensor_free(a3);
    tt_tensor_free(a2);
    tt_tensor_free(a234);
    tt_tensor_free(a21);
}

/* A target must be an integer in [0, C): the error names the row and the value. */
static void test_cross_entropy_bad_targets(void)
{
    tt_tensor *x = NULL;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(3, 4)));
    static const struct {
        float bad;
        const char *mentions;
    } cases[] = {
        {4.0f, "is 4"}, {-1.0f, "is -1"}, {1.5f, "is 1.5"}, {100.0f, "is 100"},
        {NAN, "is nan"}, {INFINITY, "is inf"}, {-0.5f, "is -0.5"}, {3.999f, "is 3.999"},
    };
    for (size_t i = 0; x && i < sizeof cases / sizeof cases[0]; i++) {
        tt_tensor *t = NULL, *l = &not_a_result;
        CHECK_OK(tt_tensor_from_data(&t, 1, TT_SHAPE(3), ((const float[]){0, 3, cases[i].bad})));
        if (!t)
            continue;
        CHECK_STATUS(tt_cross_entropy_loss(&l, x, t), TT_ERR_RANGE);
        CHECK(l == NULL);
        CHECK_ERROR_MENTIONS("tt_cross_entropy_loss");
        CHECK_ERROR_MENTIONS("row 2");
        CHECK_ERROR_MENTIONS(cases[i].mentions);
        CHECK_ERROR_MENTIONS("[0, 4)");
        tt_tensor_free(t);
    }
    /* The first bad row is the one named. */
    tt_tensor *t = NULL, *l = &not_a_result;
    CHECK_OK(tt_tensor_from_data(&t, 1, TT_SHAPE(3), ((const float[]){0, 7, -2})));
    if (x && t) {
        CHECK_STATUS(tt_cross_entropy_loss(&l, x, t), TT_ERR_RANGE);
        CHECK_ERROR_MENTIONS("row 1");
        CHECK(l == NULL);
    }
    tt_tensor_free(t);
    tt_tensor_free(x);
}

/* Each allocation of one call fails in turn: TT_ERR_NOMEM, *out NULL, nothing left
 * allocated, and finally a call that succeeds. */
static void check_every_allocation_failure(loss_fn fn, tt_tensor *a, tt_tensor *b)
{
    long failures = 0;
    for (long n = 0; n < 100; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *l = &not_a_result;
        tt_alloc_fail_after(n);
        tt_status st = fn(&l, a, b);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(l != NULL && l != &not_a_result);
            if (l != &not_a_result)
                tt_tensor_free(l);
            CHECK(failures > 0);
            return;
        }
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(l == NULL);
        CHECK(tt_alloc_live() == live);
    }
    fprintf(stderr, "%s: the call never succeeded after 100 injected failures\n",
            harness_current);
    harness_current_failed++;
}

static void test_allocation_failures(void)
{
    tt_tensor *p = NULL, *t = NULL, *pv = NULL, *tv = NULL, *x = NULL, *xv = NULL, *c = NULL;
    CHECK_OK(tt_tensor_from_data(&p, 2, TT_SHAPE(2, 3), ((const float[]){.1f, .2f, .3f, .4f, .5f, .6f})));
    CHECK_OK(tt_tensor_from_data(&t, 2, TT_SHAPE(2, 3), ((const float[]){0, 1, 0, 1, 1, 0})));
    CHECK_OK(tt_tensor_from_data(&x, 2, TT_SHAPE(3, 2), ((const float[]){1, 2, 3, 4, 5, 6})));
    CHECK_OK(tt_tensor_from_data(&c, 1, TT_SHAPE(2), ((const float[]){2, 0})));
    if (p && t && x) {
        /* Views make each kernel copy its inputs first: more allocations to fail. */
        CHECK_OK(tt_tensor_transpose(&pv, p, 0, 1));
        CHECK_OK(tt_tensor_transpose(&tv, t, 0, 1));
        CHECK_OK(tt_tensor_transpose(&xv, x, 0, 1));
    }
    if (pv && tv && xv && c) {
        for (int pass = 0; pass < 2; pass++) {
            /* Second pass: inputs require gradients, so recording allocates a node. */
            if (pass == 1) {
                CHECK_OK(tt_tensor_set_requires_grad(p, true));
                CHECK_OK(tt_tensor_set_requires_grad(x, true));
            }
            check_every_allocation_failure(tt_mse_loss, p, t);
            check_every_allocation_failure(tt_mse_loss, pv, tv);
            check_every_allocation_failure(tt_bce_loss, p, t);
            check_every_allocation_failure(tt_bce_loss, pv, tv);
            check_every_allocation_failure(tt_cross_entropy_loss, p, c);  /* [2,3] */
            check_every_allocation_failure(tt_cross_entropy_loss, xv, c); /* [2,3] view */
        }
    }
    tt_tensor_free(pv);
    tt_tensor_free(tv);
    tt_tensor_free(xv);
    tt_tensor_free(p);
    tt_tensor_free(t);
    tt_tensor_free(x);
    tt_tensor_free(c);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("losses");
    if (!FX) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_mse_values);
    RUN(test_mse_reads_views);
    RUN(test_bce_values);
    RUN(test_bce_confident_and_uniform);
    RUN(test_cross_entropy_values);
    RUN(test_cross_entropy_uniform);
    RUN(test_cross_entropy_huge_logits);
    RUN(test_cross_entropy_reads_views);
    RUN(test_losses_record_themselves);
    RUN(test_null_arguments);
    RUN(test_shape_mismatches);
    RUN(test_cross_entropy_bad_targets);
    RUN(test_allocation_failures);
    fixtures_free(FX);
    return harness_summary();
}
