/*
 * Tests of module 12 (attention) against the reference implementation.
 *
 * Expected values come from tests/fixtures/attention.txt (gen_attention.py): an
 * independent NumPy float64 forward and hand-written backward of the masked softmax,
 * scaled dot-product attention (3-D with a causal mask of 3 queries over 5 keys, 4-D
 * without) and multi-head attention with given weights. Gradients are also checked by
 * finite differences (gradcheck.h) with masks. The mask convention is checked as
 * promised in tinytorch/attention.h: rows sum to 1, blocked positions are exactly 0.0f,
 * blocked scores (even inf or nan) change nothing, bit for bit, and a later position
 * never changes an earlier output under a causal mask. Every error path, with each
 * allocation failing in turn and nothing leaking.
 */
#include "harness.h"
#include "fixtures.h"
#include "helpers.h"
#include "gradcheck.h"

#include "tinytorch/activations.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"

/* Softmax and attention: a few roundings per value, sums over a handful of keys. */
#define ATOL 2e-6
#define RTOL 2e-5

/* Functions that fail must overwrite *out with NULL: tests start it pointing here. */
static tt_tensor not_a_tensor;
static tt_layer not_a_layer;

/* ======================================================================= masks */

static void test_causal_mask(void)
{
    struct {
        size_t tq, tk;
        const char *rows; /* row-major 0/1 */
    } cases[] = {
        {3, 3, "100110111"},
        {2, 5, "1111011111"},
        {1, 4, "1111"},
        {4, 4, "1000110011101111"},
    };
    for (size_t c = 0; c < 4; c++) {
        tt_tensor *m = &not_a_tensor;
        CHECK_OK(tt_causal_mask(&m, cases[c].tq, cases[c].tk));
        CHECK(m && m->ndim == 2 && m->shape[0] == cases[c].tq && m->shape[1] == cases[c].tk);
        for (size_t i = 0; m && i < cases[c].tq * cases[c].tk; i++)
            CHECK(tt_tensor_data(m)[i] == (float)(cases[c].rows[i] - '0'));
        CHECK(m && !m->requires_grad);
        tt_tensor_free(m);
    }
    tt_tensor *m = &not_a_tensor;
    CHECK_STATUS(tt_causal_mask(&m, 0, 3), TT_ERR_INVALID_ARG);
    CHECK(m == NULL);
    m = &not_a_tensor;
    CHECK_STATUS(tt_causal_mask(&m, 4, 3), TT_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK_ERROR_MENTIONS("tq=4, tk=3");
    CHECK_STATUS(tt_causal_mask(&m, 2, 0), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_causal_mask(NULL, 2, 2), TT_ERR_INVALID_ARG);
    tt_alloc_fail_after(0);
    m = &not_a_tensor;
    CHECK_STATUS(tt_causal_mask(&m, 2, 2), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(m == NULL);
}

/* ============================================================== masked softmax */

/* Row sums 1 (in double, within float rounding) and blocked entries exactly +0.0f. */
static void check_rows(const tt_tensor *y, const tt_tensor *mask)
{
    size_t tk = y->shape[y->ndim - 1], rows = tt_tensor_numel(y) / tk;
    size_t mtk = mask ? mask->shape[mask->ndim - 1] : 0;
    size_t mrows = mask ? tt_tensor_numel(mask) / mtk : 0;
    for (size_t r = 0; r < rows; r++) {
        double sum = 0.0;
        for (size_t j = 0; j < tk; j++) {
            float v = tt_tensor_data(y)[r * tk + j];
            sum += v;
            /* Masks in these tests are contiguous with rows repeating over the leading
             * dimensions (or a single row repeating over queries). */
            if (mask) {
                float allow = tt_tensor_data(mask)[(mrows ? r % mrows : 0) * mtk + (mtk == 1 ? 0 : j)];
                if (allow == 0.0f)
                    CHECK(v == 0.0f && !signbit(v));
                else
                    CHECK(v > 0.0f);
            }
        }
        CHECK_NEAR(sum, 1.0, 1e-6, 0.0);
    }
}

static void test_masked_softmax_values(void)
{
    tt_tensor *s = fx("ms.scores"), *mask = fx("ms.mask"), *y = &not_a_tensor;
    CHECK_OK(tt_masked_softmax(&y, s, mask));
    check_tensor_near(y, "ms.out", ATOL, RTOL);
    if (y)
        check_rows(y, mask);
    /* The row that allows one key puts all its weight there, exactly 1. */
    CHECK(y && tt_tensor_data(y)[4] == 0.0f && tt_tensor_data(y)[5] == 1.0f);
    CHECK(y && y->grad_fn == NULL);
    tt_tensor_free(y);

    /* A [2,1,1,4] padding mask broadcast over [2,2,3,4]. */
    tt_tensor *s4 = fx("ms4.scores"), *pad = fx("ms4.mask");
    CHECK_OK(tt_masked_softmax(&y, s4, pad));
    check_tensor_near(y, "ms4.out", ATOL, RTOL);
    for (size_t i = 0; y && i < 48; i++) {
        size_t b = i / 24, j = i % 4;
        if (tt_tensor_data(pad)[b * 4 + j] == 0.0f)
            CHECK(tt_tensor_data(y)[i] == 0.0f);
    }
    tt_tensor_free(y);

    /* Without a mask it is the softmax of module 02. */
    tt_tensor *ref = NULL;
    CHECK_OK(tt_masked_softmax(&y, s, NULL));
    CHECK_OK(tt_softmax(&ref, s, -1));
    for (size_t i = 0; y && ref && i < 24; i++)
        CHECK_NEAR(tt_tensor_data(y)[i], tt_tensor_data(ref)[i], 1e-7, 1e-6);
    check_rows(y, NULL);
    tt_tensor_free(y);
    tt_tensor_free(ref);

    /* Shift-invariant per row, and finite for huge scores. */
    tt_tensor *big = NULL;
    CHECK_OK(tt_tensor_add_scalar(&big, s, 1000.0f));
    CHECK_OK(tt_masked_softmax(&y, big, mask));
    if (y)
        check_rows(y, mask);
    check_tensor_near(y, "ms.out", 1e-4, 1e-3); /* s + 1000 rounds s to ~6e-5 */
    tt_tensor_free(y);
    tt_tensor_free(big);
    tt_tensor *s4b[] = {s, mask, s4, pad};
    free_all(s4b, 4);
}

static void test_masked_softmax_blocked_scores_do_not_matter(void)
{
    /* Whatever sits at a blocked position, huge, inf or nan, the row's weights are the
     * same bits: blocked scores are not part of the maximum or the sum. */
    tt_tensor *s = fx("ms.scores"), *mask = fx("ms.mask"), *y0 = NULL, *y1 = NULL;
    CHECK_OK(tt_masked_softmax(&y0, s, mask));
    const float junk[] = {1e30f, INFINITY, NAN, -INFINITY, 88.0f};
    for (size_t k = 0; k < sizeof junk / sizeof junk[0]; k++) {
        tt_tensor *s2 = NULL;
        CHECK_OK(tt_tensor_copy(&s2, s));
        for (size_t i = 0; s2 && i < 24; i++)
            if (tt_tensor_data(mask)[i % 12] == 0.0f)
                tt_tensor_data(s2)[i] = junk[k];
        CHECK_OK(tt_masked_softmax(&y1, s2, mask));
        CHECK(y0 && y1 && memcmp(tt_tensor_data(y0), tt_tensor_data(y1), 24 * sizeof(float)) == 0);
        tt_tensor_free(y1);
        y1 = NULL;
        tt_tensor_free(s2);
    }
    tt_tensor_free(y0);
    tt_tensor_free(s);
    tt_tensor_free(mask);
}

static void test_masked_softmax_gradient(void)
{
    tt_tensor *s = fx("ms.scores"), *mask = fx("ms.mask"), *g = fx("ms.g"), *y = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(s, true));
    CHECK_OK(tt_masked_softmax(&y, s, mask));
    CHECK(y && y->grad_fn && strcmp(y->grad_fn->op->name, "masked_softmax") == 0);
    CHECK_OK(tt_backward_with(y, g));
    check_tensor_near(s->grad, "ms.dscores", ATOL, RTOL);
    /* Blocked positions get exactly zero gradient; the mask gets none. */
    for (size_t i = 0; s->grad && i < 24; i++)
        if (tt_tensor_data(mask)[i % 12] == 0.0f)
            CHECK(tt_tensor_data(s->grad)[i] == 0.0f);
    CHECK(mask->grad == NULL);
    tt_tensor_free(y);
    tt_tensor *all[] = {s, mask, g};
    free_all(all, 3);
}

typedef struct ms_ctx {
    tt_tensor *s, *mask;
} ms_ctx;

static tt_status f_masked_softmax(tt_tensor **out, void *ctx)
{
    ms_ctx *c = ctx;
    return tt_masked_softmax(out, c->s, c->mask);
}

static void test_masked_softmax_fd(void)
{
    /* A broadcast [3,4] mask over [2,3,4] scores, and a transposed (non-contiguous)
     * scores view under a causal mask. */
    ms_ctx c = {randn(3, TT_SHAPE(2, 3, 4), 11), fx("ms.mask")};
    gc_check((gc_spec){.label = "masked softmax", .fwd = f_masked_softmax, .ctx = &c, .n = 1,
                       .wrt = {c.s}, .names = {"scores"}});
    tt_tensor_free(c.s);
    tt_tensor_free(c.mask);
    tt_tensor *base = randn(3, TT_SHAPE(2, 4, 4), 12);
    c.s = NULL;
    CHECK_OK(tt_tensor_transpose(&c.s, base, 1, 2));
    CHECK_OK(tt_causal_mask(&c.mask, 4, 4));
    gc_check((gc_spec){.label = "masked softmax (view, causal)", .fwd = f_masked_softmax,
                       .ctx = &c, .n = 1, .wrt = {c.s}, .names = {"scores"}});
    tt_tensor_free(c.s);
    tt_tensor_free(c.mask);
    tt_tensor_free(base);
}

static void test_masked_softmax_errors(void)
{
    tt_tensor *s = randn(3, TT_SHAPE(2, 3, 4), 1), *y = &not_a_tensor;
    tt_tensor *mask = NULL;
    CHECK_OK(tt_tensor_full(&mask, 2, TT_SHAPE(3, 4), 1.0f));
    CHECK_STATUS(tt_masked_softmax(NULL, s, mask), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_masked_softmax(&y, NULL, mask), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("scores");

    /* Scores need two dimensions. */
    tt_tensor *s1 = randn(1, TT_SHAPE(4), 2);
    y = &not_a_tensor;
    CHECK_STATUS(tt_masked_softmax(&y, s1, NULL), TT_ERR_SHAPE);
    CHECK(y == NULL);
    tt_tensor_free(s1);

    /* Masks that do not broadcast to the scores' shape (including ones that would
     * broadcast the scores up). */
    size_t bad_shapes[][4] = {{2, 3, 3, 0}, {2, 4, 3, 0}, {3, 2, 3, 4}, {3, 1, 1, 5}};
    int bad_ndims[] = {2, 2, 4, 4};
    for (size_t i = 0; i < 4; i++) {
        tt_tensor *m = NULL;
        CHECK_OK(tt_tensor_full(&m, bad_ndims[i], bad_shapes[i], 1.0f));
        y = &not_a_tensor;
        CHECK_STATUS(tt_masked_softmax(&y, s, m), TT_ERR_SHAPE);
        CHECK(y == NULL);
        CHECK_ERROR_MENTIONS("does not broadcast");
        tt_tensor_free(m);
    }
    /* Masks that do: [4], [1,4], [3,1], [2,1,4], [2,3,4]. */
    size_t good_shapes[][3] = {{4, 0, 0}, {1, 4, 0}, {3, 1, 0}, {2, 1, 4}, {2, 3, 4}};
    int good_ndims[] = {1, 2, 2, 3, 3};
    for (size_t i = 0; i < 5; i++) {
        tt_tensor *m = NULL;
        CHECK_OK(tt_tensor_full(&m, good_ndims[i], good_shapes[i], 1.0f));
        CHECK_OK(tt_masked_softmax(&y, s, m));
        tt_tensor_free(y);
        tt_tensor_free(m);
    }

    /* Entries other than 0 and 1, named by position. */
    const float bad_values[] = {0.5f, -1.0f, 2.0f, NAN, INFINITY};
    for (size_t i = 0; i < 5; i++) {
        CHECK_OK(tt_tensor_set(mask, TT_SHAPE(1, 2), bad_values[i]));
        y = &not_a_tensor;
        CHECK_STATUS(tt_masked_softmax(&y, s, mask), TT_ERR_INVALID_ARG);
        CHECK(y == NULL);
        CHECK_ERROR_MENTIONS("mask entry");
        CHECK_ERROR_MENTIONS("[0,1,2]");
    }
    CHECK_OK(tt_tensor_set(mask, TT_SHAPE(1, 2), 1.0f));

    /* A row with every key blocked. */
    for (size_t j = 0; j < 4; j++)
        CHECK_OK(tt_tensor_set(mask, TT_SHAPE(2, j), 0.0f));
    y = &not_a_tensor;
    CHECK_STATUS(tt_masked_softmax(&y, s, mask), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("blocks every key");
    CHECK_ERROR_MENTIONS("[0,2]");
    CHECK_OK(tt_tensor_fill(mask, 1.0f));

    /* Each allocation failing in turn, recorded. */
    CHECK_OK(tt_tensor_set_requires_grad(s, true));
    for (long n = 0; n < 40; n++) {
        size_t live = tt_alloc_live();
        y = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_masked_softmax(&y, s, mask);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(y && y->grad_fn);
            tt_tensor_free(y);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && y == NULL && tt_alloc_live() == live);
    }
    tt_tensor_free(s);
    tt_tensor_free(mask);
}

/* ================================================ scaled dot-product attention */

static void check_sdpa_case(const char *p, bool masked)
{
    char name[64];
#define FXN(what) (snprintf(name, sizeof name, "%s.%s", p, what), name)
    tt_tensor *q = fx(FXN("q")), *k = fx(FXN("k")), *v = fx(FXN("v")), *g = fx(FXN("g"));
    tt_tensor *mask = NULL, *out = &not_a_tensor, *w = &not_a_tensor;
    if (masked)
        CHECK_OK(tt_causal_mask(&mask, q->shape[q->ndim - 2], k->shape[k->ndim - 2]));
    CHECK_OK(tt_tensor_set_requires_grad(q, true));
    CHECK_OK(tt_tensor_set_requires_grad(k, true));
    CHECK_OK(tt_tensor_set_requires_grad(v, true));
    CHECK_OK(tt_scaled_dot_product_attention(&out, &w, q, k, v, mask));
    check_tensor_near(out, FXN("out"), ATOL, RTOL);
    check_tensor_near(w, FXN("weights"), ATOL, RTOL);
    if (w)
        check_rows(w, mask);
    CHECK(out && out->requires_grad && w && w->requires_grad);
    CHECK_OK(tt_backward_with(out, g));
    check_tensor_near(q->grad, FXN("dq"), 1e-5, 1e-4);
    check_tensor_near(k->grad, FXN("dk"), 1e-5, 1e-4);
    check_tensor_near(v->grad, FXN("dv"), 1e-5, 1e-4);
#undef FXN
    tt_tensor *all[] = {q, k, v, g, mask, out, w};
    free_all(all, 7);
}

static void test_sdpa_values_and_gradients(void)
{
    check_sdpa_case("sdpa3", true);
    check_sdpa_case("sdpa4", false);
}

static void test_sdpa_weights_optional(void)
{
    tt_tensor *q = fx("sdpa3.q"), *k = fx("sdpa3.k"), *v = fx("sdpa3.v"), *mask = NULL;
    tt_tensor *a = NULL, *b = NULL, *w = NULL;
    CHECK_OK(tt_causal_mask(&mask, 3, 5));
    CHECK_OK(tt_scaled_dot_product_attention(&a, NULL, q, k, v, mask));
    CHECK_OK(tt_scaled_dot_product_attention(&b, &w, q, k, v, mask));
    CHECK(a && b && memcmp(tt_tensor_data(a), tt_tensor_data(b), 18 * sizeof(float)) == 0);
    /* Nothing requires a gradient: nothing is recorded. */
    CHECK(a && a->grad_fn == NULL && w && w->grad_fn == NULL);
    /* The weights are the masked softmax of the scaled scores: recompute them from the
     * definition with module 01's ops. */
    tt_tensor *kt = NULL, *s = NULL, *ss = NULL, *w2 = NULL;
    CHECK_OK(tt_tensor_transpose(&kt, k, -1, -2));
    CHECK_OK(tt_tensor_matmul(&s, q, kt));
    CHECK_OK(tt_tensor_mul_scalar(&ss, s, (float)(1.0 / sqrt(4.0))));
    CHECK_OK(tt_masked_softmax(&w2, ss, mask));
    CHECK(w && w2 && memcmp(tt_tensor_data(w), tt_tensor_data(w2), 30 * sizeof(float)) == 0);
    tt_tensor *all[] = {q, k, v, mask, a, b, w, kt, s, ss, w2};
    free_all(all, 11);
}

typedef struct sdpa_ctx {
    tt_tensor *q, *k, *v, *mask;
} sdpa_ctx;

static tt_status f_sdpa(tt_tensor **out, void *ctx)
{
    sdpa_ctx *c = ctx;
    return tt_scaled_dot_product_attention(out, NULL, c->q, c->k, c->v, c->mask);
}

static void test_sdpa_fd(void)
{
    /* Causal, 4 queries over 6 keys, with head size 3 (a scale that is not a power of 2),
     * and a padding mask [2,1,1,6] on 4-D inputs. */
    sdpa_ctx c = {randn(3, TT_SHAPE(2, 4, 3), 21), randn(3, TT_SHAPE(2, 6, 3), 22),
                  randn(3, TT_SHAPE(2, 6, 2), 23), NULL};
    CHECK_OK(tt_causal_mask(&c.mask, 4, 6));
    gc_check((gc_spec){.label = "attention (causal)", .fwd = f_sdpa, .ctx = &c, .n = 3,
                       .wrt = {c.q, c.k, c.v}, .names = {"q", "k", "v"}});
    tt_tensor *all[] = {c.q, c.k, c.v, c.mask};
    free_all(all, 4);
    c = (sdpa_ctx){randn(4, TT_SHAPE(2, 2, 3, 2), 24), randn(4, TT_SHAPE(2, 2, 4, 2), 25),
                   randn(4, TT_SHAPE(2, 2, 4, 3), 26),
                   from(4, TT_SHAPE(2, 1, 1, 4), (const float[]){1, 1, 0, 1, 1, 0, 0, 0})};
    gc_check((gc_spec){.label = "attention (padding)", .fwd = f_sdpa, .ctx = &c, .n = 3,
                       .wrt = {c.q, c.k, c.v}, .names = {"q", "k", "v"}});
    tt_tensor *all2[] = {c.q, c.k, c.v, c.mask};
    free_all(all2, 4);
}

static void test_sdpa_errors(void)
{
    tt_tensor *q = randn(3, TT_SHAPE(2, 3, 4), 1), *k = randn(3, TT_SHAPE(2, 5, 4), 2);
    tt_tensor *v = randn(3, TT_SHAPE(2, 5, 3), 3), *out = &not_a_tensor, *w = &not_a_tensor;
    CHECK_STATUS(tt_scaled_dot_product_attention(NULL, &w, q, k, v, NULL), TT_ERR_INVALID_ARG);
    CHECK(w == NULL);
    w = &not_a_tensor;
    CHECK_STATUS(tt_scaled_dot_product_attention(&out, &w, NULL, k, v, NULL),
                 TT_ERR_INVALID_ARG);
    CHECK(out == NULL && w == NULL);
    CHECK_ERROR_MENTIONS("q tensor");
    CHECK_STATUS(tt_scaled_dot_product_attention(&out, NULL, q, k, NULL, NULL),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("v tensor");

    /* Shapes that do not fit. */
    struct {
        int nq, nk, nv;
        size_t sq[4], sk[4], sv[4];
    } bad[] = {
        {3, 3, 3, {2, 3, 4}, {2, 5, 3}, {2, 5, 3}}, /* d differs */
        {3, 3, 3, {2, 3, 4}, {2, 5, 4}, {2, 4, 3}}, /* Tk differs */
        {3, 3, 3, {2, 3, 4}, {1, 5, 4}, {1, 5, 3}}, /* batch differs */
        {3, 2, 2, {2, 3, 4}, {5, 4}, {5, 3}},       /* ndim differs */
        {1, 1, 1, {4}, {4}, {4}},                   /* too few dims */
        {4, 4, 4, {2, 2, 3, 4}, {2, 3, 5, 4}, {2, 3, 5, 3}}, /* heads differ */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_tensor *a = randn(bad[i].nq, bad[i].sq, 4), *b = randn(bad[i].nk, bad[i].sk, 5);
        tt_tensor *c = randn(bad[i].nv, bad[i].sv, 6);
        out = w = &not_a_tensor;
        CHECK_STATUS(tt_scaled_dot_product_attention(&out, &w, a, b, c, NULL), TT_ERR_SHAPE);
        CHECK(out == NULL && w == NULL);
        CHECK_ERROR_MENTIONS("tt_scaled_dot_product_attention");
        tt_tensor *all[] = {a, b, c};
        free_all(all, 3);
    }
    /* A mask of the wrong size is the masked softmax's shape error; a bad entry its
     * argument error. */
    tt_tensor *m = NULL;
    CHECK_OK(tt_causal_mask(&m, 3, 3));
    out = w = &not_a_tensor;
    CHECK_STATUS(tt_scaled_dot_product_attention(&out, &w, q, k, v, m), TT_ERR_SHAPE);
    CHECK(out == NULL && w == NULL);
    CHECK_ERROR_MENTIONS("[2,3,5]");
    tt_tensor_free(m);
    CHECK_OK(tt_causal_mask(&m, 3, 5));
    CHECK_OK(tt_tensor_set(m, TT_SHAPE(0, 4), 3.0f));
    CHECK_STATUS(tt_scaled_dot_product_attention(&out, &w, q, k, v, m), TT_ERR_INVALID_ARG);
    CHECK_OK(tt_tensor_set(m, TT_SHAPE(0, 4), 0.0f));

    /* Every allocation failing in turn, recorded, with the weights requested. */
    CHECK_OK(tt_tensor_set_requires_grad(q, true));
    CHECK_OK(tt_tensor_set_requires_grad(v, true));
    for (long n = 0; n < 200; n++) {
        size_t live = tt_alloc_live();
        out = w = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_scaled_dot_product_attention(&out, &w, q, k, v, m);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(out && w);
            tt_tensor_free(out);
            tt_tensor_free(w);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && out == NULL && w == NULL && tt_alloc_live() == live);
    }
    tt_tensor *all[] = {q, k, v, m};
    free_all(all, 4);
}

/* ============================================================ splitting heads */

static void test_split_merge_heads(void)
{
    tt_tensor *x = randn(3, TT_SHAPE(2, 3, 6), 31), *h = &not_a_tensor, *back = NULL;
    CHECK_OK(tt_split_heads(&h, x, 3));
    CHECK(h && h->ndim == 4 && h->shape[0] == 2 && h->shape[1] == 3 && h->shape[2] == 3 &&
          h->shape[3] == 2);
    /* A view: head j of position t holds x[b, t, 2j .. 2j+1]. */
    CHECK(h && h->storage == x->storage);
    for (size_t b = 0; h && b < 2; b++)
        for (size_t j = 0; j < 3; j++)
            for (size_t t = 0; t < 3; t++)
                for (size_t e = 0; e < 2; e++) {
                    float got = 0, want = 1;
                    CHECK_OK(tt_tensor_get(h, (size_t[]){b, j, t, e}, &got));
                    CHECK_OK(tt_tensor_get(x, (size_t[]){b, t, 2 * j + e}, &want));
                    CHECK(got == want);
                }
    CHECK_OK(tt_merge_heads(&back, h));
    CHECK(back && tt_tensor_same_shape(back, x) &&
          memcmp(tt_tensor_data(back), tt_tensor_data(x), 36 * sizeof(float)) == 0);
    tt_tensor_free(h);
    tt_tensor_free(back);

    /* Gradients flow through both (recorded views and copies). */
    tt_tensor *s = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_split_heads(&h, x, 2));
    CHECK_OK(tt_merge_heads(&back, h));
    CHECK(back && back->grad_fn);
    CHECK_OK(tt_tensor_sum_all(&s, back));
    CHECK_OK(tt_backward(s));
    for (size_t i = 0; x->grad && i < 36; i++)
        CHECK(tt_tensor_data(x->grad)[i] == 1.0f);
    tt_tensor_free(s);
    tt_tensor_free(h);
    tt_tensor_free(back);

    /* Errors. */
    h = &not_a_tensor;
    CHECK_STATUS(tt_split_heads(&h, x, 4), TT_ERR_INVALID_ARG);
    CHECK(h == NULL);
    CHECK_ERROR_MENTIONS("4 heads");
    CHECK_STATUS(tt_split_heads(&h, x, 0), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_split_heads(&h, NULL, 2), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_split_heads(NULL, x, 2), TT_ERR_INVALID_ARG);
    tt_tensor *x2 = randn(2, TT_SHAPE(3, 6), 32);
    h = &not_a_tensor;
    CHECK_STATUS(tt_split_heads(&h, x2, 2), TT_ERR_SHAPE);
    CHECK(h == NULL);
    back = &not_a_tensor;
    CHECK_STATUS(tt_merge_heads(&back, x), TT_ERR_SHAPE);
    CHECK(back == NULL);
    CHECK_STATUS(tt_merge_heads(&back, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_merge_heads(NULL, x), TT_ERR_INVALID_ARG);
    tt_tensor_free(x2);
    tt_tensor_free(x);
}

/* ================================================== multi-head attention layer */

static const char *const MHA_NAMES[8] = {"wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo"};

static tt_layer *mha_from_fixture(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *m = NULL;
    CHECK_OK(tt_mha_new(&m, 8, 2, &rng));
    if (!m)
        return NULL;
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(m, &ps));
    CHECK(ps.count == 8);
    for (size_t i = 0; i < ps.count && i < 8; i++) {
        char name[32];
        snprintf(name, sizeof name, "mha.%s", MHA_NAMES[i]);
        load_param(ps.items[i], name);
    }
    tt_params_release(&ps);
    return m;
}

static void test_mha_init_and_parameters(void)
{
    /* Four Linear(d, d) layers drawn in the order Wq, Wk, Wv, Wo from one rng. */
    tt_rng rng, ref;
    tt_rng_init(&rng, 77);
    tt_rng_init(&ref, 77);
    tt_layer *m = &not_a_layer;
    CHECK_OK(tt_mha_new(&m, 6, 3, &rng));
    if (!m || m == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(m), "MultiHeadAttention") == 0);
    CHECK(tt_mha_num_heads(m) == 3);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(m, &ps));
    CHECK(ps.count == 8);
    CHECK(tt_params_numel(&ps) == 4 * (36 + 6));
    for (int i = 0; i < 4; i++) {
        tt_layer *lin = NULL;
        CHECK_OK(tt_linear_new(&lin, 6, 6, true, &ref));
        tt_layer *proj = tt_mha_projection(m, (tt_mha_proj)i);
        CHECK(proj && strcmp(tt_layer_name(proj), "Linear") == 0);
        if (lin && proj && ps.count == 8) {
            CHECK(ps.items[2 * i] == tt_linear_weight(proj));
            CHECK(ps.items[2 * i + 1] == tt_linear_bias(proj));
            CHECK(memcmp(tt_tensor_data(tt_linear_weight(lin)),
                         tt_tensor_data(tt_linear_weight(proj)), 36 * sizeof(float)) == 0);
            CHECK(memcmp(tt_tensor_data(tt_linear_bias(lin)), tt_tensor_data(tt_linear_bias(proj)),
                         6 * sizeof(float)) == 0);
        }
        tt_layer_free(lin);
    }
    CHECK(rng.state == ref.state);
    tt_params_release(&ps);
    CHECK(tt_mha_projection(m, (tt_mha_proj)4) == NULL);
    CHECK(tt_mha_projection(m, (tt_mha_proj)-1) == NULL);
    /* Not an attention layer. */
    tt_layer *lin = tt_mha_projection(m, TT_MHA_QUERY);
    CHECK(tt_mha_projection(lin, TT_MHA_QUERY) == NULL && tt_mha_num_heads(lin) == 0);
    CHECK(tt_mha_projection(NULL, TT_MHA_KEY) == NULL && tt_mha_num_heads(NULL) == 0);
    tt_layer_free(m);
}

static void test_mha_values_and_gradients(void)
{
    tt_layer *m = mha_from_fixture();
    tt_tensor *x = fx("mha.x"), *g = fx("mha.g"), *mask = NULL, *out = &not_a_tensor;
    if (!m || !x || !g)
        goto done;
    CHECK_OK(tt_causal_mask(&mask, 4, 4));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_mha_forward(m, &out, x, mask));
    check_tensor_near(out, "mha.out", 1e-5, 1e-4);
    CHECK_OK(tt_backward_with(out, g));
    check_tensor_near(x->grad, "mha.dx", 1e-5, 1e-4);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(m, &ps));
    for (size_t i = 0; i < ps.count && i < 8; i++) {
        char name[32];
        snprintf(name, sizeof name, "mha.d%s", MHA_NAMES[i]);
        check_tensor_near(ps.items[i]->grad, name, 1e-5, 1e-4);
    }
    tt_params_release(&ps);
    tt_tensor_free(out);

    /* tt_layer_forward is the unmasked attention: different from the causal one at every
     * position but the last, equal to tt_mha_forward with a NULL mask. */
    tt_tensor *a = NULL, *b = NULL;
    CHECK_OK(tt_layer_forward(m, &a, x));
    CHECK_OK(tt_mha_forward(m, &b, x, NULL));
    CHECK(a && b && memcmp(tt_tensor_data(a), tt_tensor_data(b), 64 * sizeof(float)) == 0);
    const fixture *causal = fixture_find(FX, "mha.out");
    CHECK(a && causal && fabsf(tt_tensor_data(a)[0] - causal->data[0]) > 1e-3f);
    tt_tensor_free(a);
    tt_tensor_free(b);
done:
    tt_tensor_free(mask);
    tt_tensor_free(x);
    tt_tensor_free(g);
    tt_layer_free(m);
}

static void test_mha_causal_never_sees_later_positions(void)
{
    /* Under the causal mask, changing x at position t changes no output before t, bit
     * for bit, and does change the output at t. */
    tt_layer *m = mha_from_fixture();
    tt_tensor *x = fx("mha.x"), *mask = NULL, *y0 = NULL;
    CHECK_OK(tt_causal_mask(&mask, 4, 4));
    CHECK_OK(tt_mha_forward(m, &y0, x, mask));
    for (size_t t = 1; y0 && t < 4; t++) {
        tt_tensor *x2 = NULL, *y1 = NULL;
        CHECK_OK(tt_tensor_copy(&x2, x));
        for (size_t b = 0; x2 && b < 2; b++)
            for (size_t j = 0; j < 8; j++)
                tt_tensor_data(x2)[(b * 4 + t) * 8 + j] += 3.0f;
        CHECK_OK(tt_mha_forward(m, &y1, x2, mask));
        for (size_t b = 0; y1 && b < 2; b++) {
            const float *r0 = tt_tensor_data(y0) + b * 32, *r1 = tt_tensor_data(y1) + b * 32;
            CHECK(memcmp(r0, r1, t * 8 * sizeof(float)) == 0);
            CHECK(memcmp(r0 + t * 8, r1 + t * 8, 8 * sizeof(float)) != 0);
        }
        tt_tensor_free(x2);
        tt_tensor_free(y1);
    }
    tt_tensor_free(y0);
    tt_tensor_free(mask);
    tt_tensor_free(x);
    tt_layer_free(m);
}

typedef struct mha_ctx {
    tt_layer *m;
    tt_tensor *x, *mask;
} mha_ctx;

static tt_status f_mha(tt_tensor **out, void *ctx)
{
    mha_ctx *c = ctx;
    return tt_mha_forward(c->m, out, c->x, c->mask);
}

static void test_mha_fd(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 90);
    mha_ctx c = {NULL, randn(3, TT_SHAPE(2, 3, 4), 91), NULL};
    CHECK_OK(tt_mha_new(&c.m, 4, 2, &rng));
    CHECK_OK(tt_causal_mask(&c.mask, 3, 3));
    if (c.m) {
        tt_layer *wq = tt_mha_projection(c.m, TT_MHA_QUERY), *wk = tt_mha_projection(c.m, TT_MHA_KEY);
        tt_layer *wo = tt_mha_projection(c.m, TT_MHA_OUTPUT);
        gc_check((gc_spec){.label = "multi-head attention (causal)", .fwd = f_mha, .ctx = &c,
                           .n = 4,
                           .wrt = {c.x, tt_linear_weight(wq), tt_linear_weight(wk),
                                   tt_linear_bias(wo)},
                           .names = {"x", "Wq.W", "Wk.W", "Wo.b"}});
        tt_layer *wv = tt_mha_projection(c.m, TT_MHA_VALUE);
        gc_check((gc_spec){.label = "multi-head attention (values, bias of q)", .fwd = f_mha,
                           .ctx = &c, .n = 3,
                           .wrt = {tt_linear_weight(wv), tt_linear_bias(wq), tt_linear_weight(wo)},
                           .names = {"Wv.W", "Wq.b", "Wo.W"}});
    }
    tt_tensor_free(c.x);
    tt_tensor_free(c.mask);
    tt_layer_free(c.m);
}

static void test_mha_errors(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 5);
    tt_layer *m = &not_a_layer;
    CHECK_STATUS(tt_mha_new(NULL, 4, 2, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_mha_new(&m, 6, 4, &rng), TT_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK_ERROR_MENTIONS("n_heads=4");
    m = &not_a_layer;
    CHECK_STATUS(tt_mha_new(&m, 0, 1, &rng), TT_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK_STATUS(tt_mha_new(&m, 4, 0, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_mha_new(&m, 4, 2, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("rng");
    for (long n = 0; n < 100; n++) {
        size_t live = tt_alloc_live();
        m = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_mha_new(&m, 4, 2, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(n > 4);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && m == NULL && tt_alloc_live() == live);
    }
    if (m == &not_a_layer || !m)
        return;

    tt_tensor *x = randn(3, TT_SHAPE(2, 3, 4), 6), *y = &not_a_tensor;
    CHECK_STATUS(tt_mha_forward(m, NULL, x, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_mha_forward(NULL, &y, x, NULL), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    y = &not_a_tensor;
    CHECK_STATUS(tt_mha_forward(m, &y, NULL, NULL), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    /* A layer that is not attention. */
    y = &not_a_tensor;
    CHECK_STATUS(tt_mha_forward(tt_mha_projection(m, TT_MHA_KEY), &y, x, NULL),
                 TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("Linear");
    /* Input shapes. */
    tt_tensor *x2 = randn(2, TT_SHAPE(3, 4), 7), *x5 = randn(3, TT_SHAPE(2, 3, 5), 7);
    y = &not_a_tensor;
    CHECK_STATUS(tt_mha_forward(m, &y, x2, NULL), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("[3,4]");
    CHECK_STATUS(tt_layer_forward(m, &y, x5), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[2,3,5]");
    tt_tensor_free(x2);
    tt_tensor_free(x5);
    /* A mask for another length. */
    tt_tensor *mask = NULL;
    CHECK_OK(tt_causal_mask(&mask, 4, 4));
    y = &not_a_tensor;
    CHECK_STATUS(tt_mha_forward(m, &y, x, mask), TT_ERR_SHAPE);
    CHECK(y == NULL);
    tt_tensor_free(mask);

    /* Every allocation of a recorded forward failing in turn. */
    CHECK_OK(tt_causal_mask(&mask, 3, 3));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    long n;
    for (n = 0; n < 500; n++) {
        size_t live = tt_alloc_live();
        y = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_mha_forward(m, &y, x, mask);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(y && y->grad_fn);
            tt_tensor_free(y);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && y == NULL && tt_alloc_live() == live);
    }
    CHECK(n > 10 && n < 500);
    tt_tensor_free(mask);
    tt_tensor_free(x);
    tt_layer_free(m);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("attention");
    if (!FX) {
        fprintf(stderr, "cannot load the attention fixtures\n");
        return 1;
    }
    RUN(test_causal_mask);
    RUN(test_masked_softmax_values);
    RUN(test_masked_softmax_blocked_scores_do_not_matter);
    RUN(test_masked_softmax_gradient);
    RUN(test_masked_softmax_fd);
    RUN(test_masked_softmax_errors);
    RUN(test_sdpa_values_and_gradients);
    RUN(test_sdpa_weights_optional);
    RUN(test_sdpa_fd);
    RUN(test_sdpa_errors);
    RUN(test_split_merge_heads);
    RUN(test_mha_init_and_parameters);
    RUN(test_mha_values_and_gradients);
    RUN(test_mha_causal_never_sees_later_positions);
    RUN(test_mha_fd);
    RUN(test_mha_errors);
    fixtures_free(FX);
    return harness_summary();
}
