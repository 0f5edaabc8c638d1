/*
 * Tests of module 11 (embeddings) against the reference implementation.
 *
 * Expected values come from tests/fixtures/embeddings.txt (gen_embeddings.py): initial
 * tables from an independent PCG32 with Box-Muller in Python, the lookup's gradient
 * from np.add.at (repeated ids add up), the sinusoidal encoding in float64. Gradients
 * are also checked against finite differences (gradcheck.h), with repeated ids. Besides
 * values: rows that were never read get exactly zero gradient, the ids never get one,
 * the learned positional table gets gradient only in the rows used, and every error
 * path, with each allocation failing in turn and nothing leaking.
 */
#include "harness.h"
#include "fixtures.h"
#include "helpers.h"
#include "gradcheck.h"

#include "tinytorch/autograd.h"
#include "tinytorch/embeddings.h"

/* Functions that fail must overwrite *out with NULL: tests start it pointing here. */
static tt_tensor not_a_tensor;
static tt_layer not_a_layer;

/* ===================================================================== lookup */

static void test_lookup_values(void)
{
    tt_tensor *table = fixture_tensor(FX, "lookup.table"), *ids = fixture_tensor(FX, "lookup.ids");
    tt_tensor *out = &not_a_tensor;
    CHECK(table && ids);
    if (!table || !ids)
        goto done;
    CHECK_OK(tt_embedding_lookup(&out, table, ids));
    CHECK(out && out->ndim == 3 && out->shape[0] == 2 && out->shape[1] == 3 &&
          out->shape[2] == 4);
    /* A copy of each row, bit for bit. */
    check_tensor_near(out, "lookup.out", 0.0, 0.0);
    CHECK(out && out->storage != table->storage);
    /* Nothing requires a gradient: nothing is recorded. */
    CHECK(out && out->grad_fn == NULL && !out->requires_grad);
    tt_tensor_free(out);

    /* 1-D ids give [N, D]; 3-D ids give 4-D. */
    tt_tensor *ids1 = from(1, TT_SHAPE(4), (const float[]){5, 5, 0, 3});
    CHECK_OK(tt_embedding_lookup(&out, table, ids1));
    CHECK(out && out->ndim == 2 && out->shape[0] == 4 && out->shape[1] == 4);
    for (size_t p = 0; out && p < 4; p++) {
        size_t row = p < 2 ? 5 : (p == 2 ? 0 : 3);
        CHECK(memcmp(tt_tensor_data(out) + p * 4, tt_tensor_data(table) + row * 4,
                     4 * sizeof(float)) == 0);
    }
    tt_tensor_free(out);
    tt_tensor_free(ids1);
    tt_tensor *ids3 = NULL;
    CHECK_OK(tt_tensor_full(&ids3, 3, TT_SHAPE(2, 2, 2), 1.0f));
    CHECK_OK(tt_embedding_lookup(&out, table, ids3));
    CHECK(out && out->ndim == 4 && out->shape[3] == 4);
    for (size_t p = 0; out && p < 8; p++)
        CHECK(memcmp(tt_tensor_data(out) + p * 4, tt_tensor_data(table) + 4, 16) == 0);
    tt_tensor_free(out);
    tt_tensor_free(ids3);
done:
    tt_tensor_free(table);
    tt_tensor_free(ids);
}

static void test_lookup_views(void)
{
    /* A transposed table and transposed ids: both are read through their strides. */
    tt_tensor *base = randn(2, TT_SHAPE(4, 6), 3), *table = NULL, *idsb = NULL, *ids = NULL;
    tt_tensor *out = NULL;
    CHECK_OK(tt_tensor_transpose(&table, base, 0, 1)); /* [6, 4] */
    idsb = from(2, TT_SHAPE(3, 2), (const float[]){0, 1, 2, 3, 4, 5});
    CHECK_OK(tt_tensor_transpose(&ids, idsb, 0, 1)); /* [[0,2,4],[1,3,5]] */
    CHECK(table && !tt_tensor_is_contiguous(table) && ids && !tt_tensor_is_contiguous(ids));
    CHECK_OK(tt_embedding_lookup(&out, table, ids));
    CHECK(out && out->ndim == 3 && out->shape[0] == 2 && out->shape[1] == 3);
    const float want_ids[6] = {0, 2, 4, 1, 3, 5};
    for (size_t p = 0; out && p < 6; p++)
        for (size_t j = 0; j < 4; j++) {
            float got = 0, want = 1;
            CHECK_OK(tt_tensor_get(out, (size_t[]){p / 3, p % 3, j}, &got));
            CHECK_OK(tt_tensor_get(table, (size_t[]){(size_t)want_ids[p], j}, &want));
            CHECK(got == want);
        }
    tt_tensor_free(out);
    tt_tensor_free(ids);
    tt_tensor_free(idsb);
    tt_tensor_free(table);
    tt_tensor_free(base);
}

static void test_lookup_gradient_repeated_ids(void)
{
    tt_tensor *table = fixture_tensor(FX, "lookup.table"), *ids = fixture_tensor(FX, "lookup.ids");
    tt_tensor *g = fixture_tensor(FX, "lookup.g"), *out = NULL;
    CHECK(table && ids && g);
    if (!table || !ids || !g)
        goto done;
    CHECK_OK(tt_tensor_set_requires_grad(table, true));
    CHECK_OK(tt_embedding_lookup(&out, table, ids));
    CHECK(out && out->requires_grad && out->grad_fn);
    CHECK(out && out->grad_fn && strcmp(out->grad_fn->op->name, "embedding") == 0);
    CHECK_OK(tt_backward_with(out, g));
    check_tensor_near(table->grad, "lookup.dtable", 1e-6, 1e-6);
    /* Rows 1 and 5 were never read: exactly zero, not merely small. */
    for (size_t j = 0; table->grad && j < 4; j++) {
        CHECK(tt_tensor_data(table->grad)[1 * 4 + j] == 0.0f);
        CHECK(tt_tensor_data(table->grad)[5 * 4 + j] == 0.0f);
    }
    /* Row 4 was read once: its gradient is g's row, bit for bit. */
    CHECK(table->grad && memcmp(tt_tensor_data(table->grad) + 16, tt_tensor_data(g) + 12,
                                16) == 0);
    /* The ids never get a gradient. */
    CHECK(ids->grad == NULL && !ids->requires_grad);
    /* A second backward accumulates. */
    CHECK_OK(tt_backward_with(out, g));
    for (size_t i = 0; table->grad && i < 24; i++) {
        const fixture *f = fixture_find(FX, "lookup.dtable");
        CHECK_NEAR(tt_tensor_data(table->grad)[i], 2.0 * f->data[i], 2e-6, 1e-6);
    }
    tt_tensor_free(out);
done:
    tt_tensor_free(table);
    tt_tensor_free(ids);
    tt_tensor_free(g);
}

typedef struct lookup_ctx {
    tt_tensor *table, *ids;
} lookup_ctx;

static tt_status f_lookup(tt_tensor **out, void *ctx)
{
    lookup_ctx *c = ctx;
    return tt_embedding_lookup(out, c->table, c->ids);
}

static void test_lookup_fd(void)
{
    /* Repeated ids in both rows of a 2-D batch, and a row never read. */
    lookup_ctx c = {randn(2, TT_SHAPE(5, 3), 8),
                    from(2, TT_SHAPE(2, 4), (const float[]){1, 1, 3, 1, 0, 3, 3, 1})};
    gc_check((gc_spec){.label = "embedding lookup", .fwd = f_lookup, .ctx = &c, .n = 1,
                       .wrt = {c.table}, .names = {"table"}});
    tt_tensor_free(c.table);
    tt_tensor_free(c.ids);
}

static void test_lookup_errors(void)
{
    tt_tensor *table = randn(2, TT_SHAPE(10, 3), 1), *out = &not_a_tensor;
    tt_tensor *ids = from(2, TT_SHAPE(2, 4), (const float[]){0, 1, 2, 3, 4, 5, 6, 7});
    CHECK_STATUS(tt_embedding_lookup(NULL, table, ids), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_embedding_lookup");
    CHECK_STATUS(tt_embedding_lookup(&out, NULL, ids), TT_ERR_INVALID_ARG);
    CHECK(out == NULL);
    CHECK_ERROR_MENTIONS("weight");
    out = &not_a_tensor;
    CHECK_STATUS(tt_embedding_lookup(&out, table, NULL), TT_ERR_INVALID_ARG);
    CHECK(out == NULL);
    CHECK_ERROR_MENTIONS("ids");

    /* Each bad id is refused with the position of the first offender. */
    struct {
        float v;
        const char *mention;
    } bad[] = {{-1.0f, "id -1 at position [1,2]"}, {10.0f, "id 10 at position [1,2]"},
               {2.5f, "id 2.5 at position [1,2]"}, {NAN, "at position [1,2]"},
               {INFINITY, "at position [1,2]"}, {1e20f, "outside [0, 10)"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_OK(tt_tensor_set(ids, TT_SHAPE(1, 2), bad[i].v));
        out = &not_a_tensor;
        CHECK_STATUS(tt_embedding_lookup(&out, table, ids), TT_ERR_RANGE);
        CHECK(out == NULL);
        CHECK_ERROR_MENTIONS(bad[i].mention);
    }
    /* The first offender is named when there are two. */
    CHECK_OK(tt_tensor_set(ids, TT_SHAPE(0, 3), 11.0f));
    CHECK_STATUS(tt_embedding_lookup(&out, table, ids), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("id 11 at position [0,3]");
    CHECK_OK(tt_tensor_set(ids, TT_SHAPE(0, 3), 3.0f));
    CHECK_OK(tt_tensor_set(ids, TT_SHAPE(1, 2), 9.0f)); /* the last row is fine */

    /* Shapes: a 1-D or 3-D table, scalar or 4-D ids. */
    tt_tensor *t1 = randn(1, TT_SHAPE(10), 2), *t3 = randn(3, TT_SHAPE(2, 5, 3), 2);
    tt_tensor *s = NULL, *i4 = NULL;
    CHECK_OK(tt_tensor_scalar(&s, 1.0f));
    CHECK_OK(tt_tensor_zeros(&i4, 4, TT_SHAPE(1, 1, 2, 2)));
    out = &not_a_tensor;
    CHECK_STATUS(tt_embedding_lookup(&out, t1, ids), TT_ERR_SHAPE);
    CHECK(out == NULL);
    CHECK_ERROR_MENTIONS("[10]");
    CHECK_STATUS(tt_embedding_lookup(&out, t3, ids), TT_ERR_SHAPE);
    CHECK_STATUS(tt_embedding_lookup(&out, table, s), TT_ERR_SHAPE);
    CHECK_STATUS(tt_embedding_lookup(&out, table, i4), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[1,1,2,2]");
    tt_tensor_free(t1);
    tt_tensor_free(t3);
    tt_tensor_free(s);
    tt_tensor_free(i4);

    /* Every allocation failing in turn, with and without recording. */
    for (int rec = 0; rec < 2; rec++) {
        CHECK_OK(tt_tensor_set_requires_grad(table, rec == 1));
        for (long n = 0;; n++) {
            size_t live = tt_alloc_live();
            out = &not_a_tensor;
            tt_alloc_fail_after(n);
            tt_status st = tt_embedding_lookup(&out, table, ids);
            tt_alloc_fail_after(-1);
            if (st == TT_OK) {
                CHECK(out && out->requires_grad == (rec == 1));
                tt_tensor_free(out);
                CHECK(n > 0);
                break;
            }
            CHECK(st == TT_ERR_NOMEM);
            CHECK(out == NULL);
            CHECK(tt_alloc_live() == live);
            if (n > 50) {
                CHECK(!"lookup never succeeded");
                break;
            }
        }
    }
    tt_tensor_free(table);
    tt_tensor_free(ids);
}

static void test_lookup_backward_with_changed_ids(void)
{
    /* Ids changed between forward and backward to one outside the table: the backward
     * refuses it instead of writing outside the gradient. */
    tt_tensor *table = randn(2, TT_SHAPE(4, 2), 5), *ids = from(1, TT_SHAPE(3), (const float[]){0, 1, 2});
    tt_tensor *out = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(table, true));
    CHECK_OK(tt_embedding_lookup(&out, table, ids));
    CHECK_OK(tt_tensor_set(ids, TT_SHAPE(1), 7.0f));
    tt_tensor *g = NULL;
    CHECK_OK(tt_tensor_full(&g, 2, TT_SHAPE(3, 2), 1.0f));
    CHECK_STATUS(tt_backward_with(out, g), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("embedding");
    tt_tensor_free(g);
    tt_tensor_free(out);
    tt_tensor_free(table);
    tt_tensor_free(ids);
}

/* ============================================================ Embedding layer */

static void test_embedding_layer_init(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 5);
    tt_layer *emb = &not_a_layer;
    CHECK_OK(tt_embedding_new(&emb, 7, 3, &rng));
    if (!emb || emb == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(emb), "Embedding") == 0);
    CHECK(emb->training);
    tt_tensor *w = tt_embedding_weight(emb);
    /* Normal draws from the framework rng, row-major, bit for bit. */
    check_tensor_near(w, "init.emb_seed5", 0.0, 0.0);
    CHECK(w && w->requires_grad && w->grad_fn == NULL);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(emb, &ps));
    CHECK(ps.count == 1 && ps.items[0] == w);
    CHECK(tt_params_numel(&ps) == 21);
    tt_params_release(&ps);
    tt_layer_free(emb);

    /* An odd element count leaves a Box-Muller spare in the generator, as
     * tt_tensor_randn does. */
    tt_rng_init(&rng, 11);
    CHECK_OK(tt_embedding_new(&emb, 3, 5, &rng));
    check_tensor_near(tt_embedding_weight(emb), "init.emb_seed11_odd", 0.0, 0.0);
    tt_rng ref;
    tt_rng_init(&ref, 11);
    tt_tensor *same = NULL;
    CHECK_OK(tt_tensor_randn(&same, 2, TT_SHAPE(3, 5), 0.0f, 1.0f, &ref));
    CHECK(rng.state == ref.state && rng.has_spare == ref.has_spare);
    tt_tensor_free(same);
    tt_layer_free(emb);

    /* Not an Embedding: no weight. */
    tt_layer *other = NULL;
    CHECK_OK(tt_sinusoidal_new(&other, 4, 2));
    CHECK(tt_embedding_weight(other) == NULL);
    CHECK(tt_embedding_weight(NULL) == NULL);
    tt_layer_free(other);
}

static void test_embedding_layer_forward_backward(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 21);
    tt_layer *emb = NULL;
    CHECK_OK(tt_embedding_new(&emb, 6, 4, &rng));
    if (!emb)
        return;
    tt_tensor *ids = from(2, TT_SHAPE(2, 2), (const float[]){3, 3, 0, 3}), *y = NULL, *s = NULL;
    CHECK_OK(tt_layer_forward(emb, &y, ids));
    CHECK(y && y->ndim == 3 && y->shape[2] == 4 && y->requires_grad);
    CHECK_OK(tt_tensor_sum_all(&s, y));
    CHECK_OK(tt_backward(s));
    tt_tensor *w = tt_embedding_weight(emb);
    /* d sum / d W[r] = the number of times row r was read. */
    const float counts[6] = {1, 0, 0, 3, 0, 0};
    for (size_t r = 0; w->grad && r < 6; r++)
        for (size_t j = 0; j < 4; j++)
            CHECK(tt_tensor_data(w->grad)[r * 4 + j] == counts[r]);
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_tensor_free(ids);
    tt_layer_free(emb);
}

static void test_embedding_layer_errors(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *emb = &not_a_layer;
    CHECK_STATUS(tt_embedding_new(NULL, 4, 2, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_embedding_new(&emb, 0, 2, &rng), TT_ERR_INVALID_ARG);
    CHECK(emb == NULL);
    CHECK_ERROR_MENTIONS("num_embeddings=0");
    emb = &not_a_layer;
    CHECK_STATUS(tt_embedding_new(&emb, 4, 0, &rng), TT_ERR_INVALID_ARG);
    CHECK(emb == NULL);
    CHECK_ERROR_MENTIONS("dim=0");
    emb = &not_a_layer;
    CHECK_STATUS(tt_embedding_new(&emb, 4, 2, NULL), TT_ERR_INVALID_ARG);
    CHECK(emb == NULL);
    CHECK_ERROR_MENTIONS("rng");
    for (long n = 0;; n++) {
        size_t live = tt_alloc_live();
        emb = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_embedding_new(&emb, 4, 2, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_layer_free(emb);
            CHECK(n > 0);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && emb == NULL && tt_alloc_live() == live);
        if (n > 20)
            break;
    }
    /* Forward errors are the lookup's. */
    CHECK_OK(tt_embedding_new(&emb, 4, 2, &rng));
    tt_tensor *ids = from(1, TT_SHAPE(2), (const float[]){1, 4}), *y = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(emb, &y, ids), TT_ERR_RANGE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("id 4 at position [1]");
    tt_tensor_free(ids);
    tt_layer_free(emb);
}

/* ============================================================== positional */

static void test_pos_embedding(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 6);
    tt_layer *pos = &not_a_layer;
    CHECK_OK(tt_pos_embedding_new(&pos, 5, 4, &rng));
    if (!pos || pos == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(pos), "PositionalEmbedding") == 0);
    tt_tensor *p = tt_pos_embedding_weight(pos);
    check_tensor_near(p, "init.pos_seed6", 0.0, 0.0);
    CHECK(p && p->requires_grad);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(pos, &ps));
    CHECK(ps.count == 1 && ps.items[0] == p);
    tt_params_release(&ps);

    /* x [2,3,4] + P[0:3]: position t of both sequences gets row t, exactly. */
    tt_tensor *x = randn(3, TT_SHAPE(2, 3, 4), 40), *y = NULL, *s = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_layer_forward(pos, &y, x));
    CHECK(y && tt_tensor_same_shape(y, x));
    for (size_t b = 0; y && b < 2; b++)
        for (size_t t = 0; t < 3; t++)
            for (size_t j = 0; j < 4; j++) {
                size_t i = (b * 3 + t) * 4 + j;
                CHECK(tt_tensor_data(y)[i] == tt_tensor_data(x)[i] + tt_tensor_data(p)[t * 4 + j]);
            }
    /* Gradients: rows 0..2 of P get the sum over the batch (2 for sum()), rows 3 and 4
     * nothing; x gets 1 everywhere. */
    CHECK_OK(tt_tensor_sum_all(&s, y));
    CHECK_OK(tt_backward(s));
    for (size_t r = 0; p->grad && r < 5; r++)
        for (size_t j = 0; j < 4; j++)
            CHECK(tt_tensor_data(p->grad)[r * 4 + j] == (r < 3 ? 2.0f : 0.0f));
    for (size_t i = 0; x->grad && i < 24; i++)
        CHECK(tt_tensor_data(x->grad)[i] == 1.0f);
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_tensor_free(x);

    /* T == max_len is fine; T > max_len, a wrong width or a 1-D input is refused. */
    x = randn(2, TT_SHAPE(5, 4), 41);
    CHECK_OK(tt_layer_forward(pos, &y, x));
    tt_tensor_free(y);
    tt_tensor_free(x);
    struct {
        int ndim;
        size_t shape[3];
        const char *mention;
    } bad[] = {{3, {1, 6, 4}, "T=6"}, {2, {3, 5}, "[3,5]"}, {1, {4}, "[4]"}};
    for (size_t i = 0; i < 3; i++) {
        x = randn(bad[i].ndim, bad[i].shape, 42);
        y = &not_a_tensor;
        CHECK_STATUS(tt_layer_forward(pos, &y, x), TT_ERR_SHAPE);
        CHECK(y == NULL);
        CHECK_ERROR_MENTIONS(bad[i].mention);
        tt_tensor_free(x);
    }
    CHECK_ERROR_MENTIONS("PositionalEmbedding");
    tt_layer_free(pos);

    /* Constructor errors and allocation failures. */
    tt_layer *l = &not_a_layer;
    CHECK_STATUS(tt_pos_embedding_new(&l, 0, 4, &rng), TT_ERR_INVALID_ARG);
    CHECK(l == NULL);
    CHECK_ERROR_MENTIONS("max_len=0");
    CHECK_STATUS(tt_pos_embedding_new(&l, 3, 4, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_pos_embedding_new(NULL, 3, 4, &rng), TT_ERR_INVALID_ARG);
    for (long n = 0; n < 20; n++) {
        size_t live = tt_alloc_live();
        l = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_pos_embedding_new(&l, 3, 4, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_layer_free(l);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && l == NULL && tt_alloc_live() == live);
    }
    CHECK(tt_pos_embedding_weight(NULL) == NULL);
}

typedef struct pos_ctx {
    tt_layer *layer;
    tt_tensor *x;
} pos_ctx;

static tt_status f_pos(tt_tensor **out, void *ctx)
{
    pos_ctx *c = ctx;
    return tt_layer_forward(c->layer, out, c->x);
}

static void test_pos_embedding_fd(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 60);
    pos_ctx c = {NULL, randn(3, TT_SHAPE(2, 3, 2), 61)};
    CHECK_OK(tt_pos_embedding_new(&c.layer, 4, 2, &rng));
    if (c.layer)
        gc_check((gc_spec){.label = "learned positions", .fwd = f_pos, .ctx = &c, .n = 2,
                           .wrt = {c.x, tt_pos_embedding_weight(c.layer)},
                           .names = {"x", "P"}});
    tt_layer_free(c.layer);
    tt_tensor_free(c.x);
}

static void test_sinusoidal_values(void)
{
    struct {
        size_t t, d;
        const char *name;
    } cases[] = {{10, 6, "sin.10x6"}, {7, 5, "sin.7x5"}, {64, 16, "sin.64x16"}};
    for (size_t i = 0; i < 3; i++) {
        tt_tensor *pe = &not_a_tensor;
        CHECK_OK(tt_sinusoidal_encoding(&pe, cases[i].t, cases[i].d));
        /* Computed in double and rounded once: equal within one float ulp. */
        check_tensor_near(pe, cases[i].name, 1e-7, 1.2e-7);
        CHECK(pe && !pe->requires_grad && pe->grad_fn == NULL);
        /* Row 0 is sin(0), cos(0), ...: exactly 0, 1, 0, 1, ... */
        for (size_t c = 0; pe && c < cases[i].d; c++)
            CHECK(tt_tensor_data(pe)[c] == (c % 2 ? 1.0f : 0.0f));
        size_t n = tt_tensor_numel(pe);
        for (size_t k = 0; k < n; k++)
            CHECK(fabsf(tt_tensor_data(pe)[k]) <= 1.0f);
        tt_tensor_free(pe);
    }
    /* The first pair turns at one radian per position: PE[t, 0] = sin(t). */
    tt_tensor *pe = NULL;
    CHECK_OK(tt_sinusoidal_encoding(&pe, 4, 8));
    for (size_t t = 0; pe && t < 4; t++) {
        CHECK(tt_tensor_data(pe)[t * 8] == (float)sin((double)t));
        CHECK(tt_tensor_data(pe)[t * 8 + 1] == (float)cos((double)t));
    }
    tt_tensor_free(pe);

    pe = &not_a_tensor;
    CHECK_STATUS(tt_sinusoidal_encoding(&pe, 0, 4), TT_ERR_INVALID_ARG);
    CHECK(pe == NULL);
    CHECK_ERROR_MENTIONS("seq_len=0");
    pe = &not_a_tensor;
    CHECK_STATUS(tt_sinusoidal_encoding(&pe, 3, 0), TT_ERR_INVALID_ARG);
    CHECK(pe == NULL);
    CHECK_STATUS(tt_sinusoidal_encoding(NULL, 3, 4), TT_ERR_INVALID_ARG);
    tt_alloc_fail_after(0);
    pe = &not_a_tensor;
    CHECK_STATUS(tt_sinusoidal_encoding(&pe, 3, 4), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(pe == NULL);
}

static void test_sinusoidal_layer(void)
{
    tt_layer *sl = &not_a_layer;
    CHECK_OK(tt_sinusoidal_new(&sl, 10, 6));
    if (!sl || sl == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(sl), "SinusoidalEncoding") == 0);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(sl, &ps));
    CHECK(ps.count == 0);
    tt_params_release(&ps);
    const fixture *f = fixture_find(FX, "sin.10x6");
    tt_tensor *x = randn(3, TT_SHAPE(2, 4, 6), 70), *y = NULL, *s = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_layer_forward(sl, &y, x));
    for (size_t b = 0; y && f && b < 2; b++)
        for (size_t i = 0; i < 24; i++)
            CHECK_NEAR(tt_tensor_data(y)[b * 24 + i], tt_tensor_data(x)[b * 24 + i] + f->data[i],
                       2e-7, 2e-7);
    CHECK_OK(tt_tensor_sum_all(&s, y));
    CHECK_OK(tt_backward(s));
    for (size_t i = 0; x->grad && i < 48; i++)
        CHECK(tt_tensor_data(x->grad)[i] == 1.0f);
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_tensor_free(x);
    x = randn(2, TT_SHAPE(11, 6), 71);
    y = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(sl, &y, x), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("T=11");
    tt_tensor_free(x);
    tt_layer_free(sl);

    sl = &not_a_layer;
    CHECK_STATUS(tt_sinusoidal_new(&sl, 0, 6), TT_ERR_INVALID_ARG);
    CHECK(sl == NULL);
    CHECK_STATUS(tt_sinusoidal_new(NULL, 3, 6), TT_ERR_INVALID_ARG);
    for (long n = 0; n < 20; n++) {
        size_t live = tt_alloc_live();
        sl = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_sinusoidal_new(&sl, 3, 4);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_layer_free(sl);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && sl == NULL && tt_alloc_live() == live);
    }
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("embeddings");
    if (!FX) {
        fprintf(stderr, "cannot load the embeddings fixtures\n");
        return 1;
    }
    RUN(test_lookup_values);
    RUN(test_lookup_views);
    RUN(test_lookup_gradient_repeated_ids);
    RUN(test_lookup_fd);
    RUN(test_lookup_errors);
    RUN(test_lookup_backward_with_changed_ids);
    RUN(test_embedding_layer_init);
    RUN(test_embedding_layer_forward_backward);
    RUN(test_embedding_layer_errors);
    RUN(test_pos_embedding);
    RUN(test_pos_embedding_fd);
    RUN(test_sinusoidal_values);
    RUN(test_sinusoidal_layer);
    fixtures_free(FX);
    return harness_summary();
}
