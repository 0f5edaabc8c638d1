/*
 * Unit tests of module 08 (tinytorch/dataloader.h) against the reference.
 *
 * Expected batches, shuffles and augmentations come from tests/fixtures/dataloader.txt,
 * written by gen_dataloader.py, which reimplements PCG32 and the documented algorithms
 * in Python; every comparison is exact (these are permutations and copies, no
 * arithmetic). The fixtures also pin what the generator yields right after each
 * operation, so a loader that draws one number too many or too few fails too.
 */
#include <stdint.h>

#include "fixtures.h"
#include "harness.h"
#include "tinytorch/dataloader.h"

static fixtures *fx;

/* ------------------------------------------------------------------ helpers */

/* The i-th u32 of a fixture stored as .hi/.lo halves. */
static uint32_t fixture_u32(const char *name, size_t i)
{
    char hi_name[160], lo_name[160];
    snprintf(hi_name, sizeof hi_name, "%s.hi", name);
    snprintf(lo_name, sizeof lo_name, "%s.lo", name);
    const fixture *hi = fixture_find(fx, hi_name), *lo = fixture_find(fx, lo_name);
    if (!hi || !lo || i >= hi->numel || i >= lo->numel) {
        CHECK(!"fixture u32 missing");
        return 0;
    }
    return ((uint32_t)hi->data[i] << 16) | (uint32_t)lo->data[i];
}

/* The next draw of rng must be the fixture's: proves how many numbers were drawn. */
static void check_next_draw(tt_rng *rng, const char *name)
{
    uint32_t expected = fixture_u32(name, 0);
    uint32_t got = tt_rng_next_u32(rng);
    if (got != expected) {
        fprintf(stderr, "%s: %s: next draw %u, expected %u (wrong number of draws)\n",
                harness_current, name, got, expected);
        harness_current_failed++;
    }
}

/* t must have exactly the fixture's shape and values. */
static void check_tensor_is(const tt_tensor *t, const char *name)
{
    const fixture *f = fixture_find(fx, name);
    if (!f || !t) {
        fprintf(stderr, "%s: %s: %s\n", harness_current, name,
                t ? "fixture missing" : "tensor is NULL");
        harness_current_failed++;
        return;
    }
    bool same_shape = t->ndim == f->ndim;
    for (int d = 0; same_shape && d < f->ndim; d++)
        same_shape = t->shape[d] == f->shape[d];
    if (!same_shape) {
        fprintf(stderr, "%s: %s: shape differs (ndim %d vs %d, first dim %zu vs %zu)\n",
                harness_current, name, t->ndim, f->ndim, t->ndim ? t->shape[0] : 0,
                f->ndim ? f->shape[0] : 0);
        harness_current_failed++;
        return;
    }
    float *buf = malloc(f->numel * sizeof *buf);
    if (!buf || tt_tensor_to_array(t, buf, f->numel) != TT_OK) {
        CHECK(!"cannot read tensor");
        free(buf);
        return;
    }
    for (size_t i = 0; i < f->numel; i++) {
        if (buf[i] != f->data[i]) {
            fprintf(stderr, "%s: %s: element %zu is %g, expected %g\n", harness_current, name,
                    i, (double)buf[i], (double)f->data[i]);
            harness_current_failed++;
            break;
        }
    }
    free(buf);
}

static void check_order_is(const size_t *order, size_t n, const char *name)
{
    const fixture *f = fixture_find(fx, name);
    CHECK(f && f->numel == n);
    for (size_t i = 0; f && i < n && i < f->numel; i++) {
        if (order[i] != (size_t)f->data[i]) {
            fprintf(stderr, "%s: %s: order[%zu] = %zu, expected %zu\n", harness_current, name, i,
                    order[i], (size_t)f->data[i]);
            harness_current_failed++;
            return;
        }
    }
}

/* A dataset of n samples: x [n, 2, 2] with x[i] = i*10 + (0..3), y [n] = i. */
static tt_dataset *counting_dataset(size_t n)
{
    float *xs = malloc(n * 4 * sizeof *xs), *ys = malloc(n * sizeof *ys);
    tt_tensor *x = NULL, *y = NULL;
    tt_dataset *ds = NULL;
    for (size_t i = 0; xs && ys && i < n; i++) {
        ys[i] = (float)i;
        for (size_t k = 0; k < 4; k++)
            xs[i * 4 + k] = (float)(i * 10 + k);
    }
    if (xs && ys) {
        CHECK_OK(tt_tensor_from_data(&x, 3, TT_SHAPE(n, 2, 2), xs));
        CHECK_OK(tt_tensor_from_data(&y, 1, TT_SHAPE(n), ys));
        CHECK_OK(tt_dataset_new(&ds, x, y));
    }
    tt_tensor_free(x);
    tt_tensor_free(y);
    free(xs);
    free(ys);
    return ds;
}

static tt_dataset *fixture_dataset(void)
{
    tt_tensor *x = fixture_tensor(fx, "loader.x"), *y = fixture_tensor(fx, "loader.y");
    tt_dataset *ds = NULL;
    CHECK(x && y);
    if (x && y)
        CHECK_OK(tt_dataset_new(&ds, x, y));
    tt_tensor_free(x);
    tt_tensor_free(y);
    return ds;
}

/* ----------------------------------------------------------- the generator */

/* The Python reimplementation of PCG32 must agree with core.c, or no other fixture
 * here means anything. */
static void test_rng_matches_python_pcg32(void)
{
    const uint64_t seeds[] = {0, 42, 2024};
    for (size_t s = 0; s < 3; s++) {
        char name[64];
        snprintf(name, sizeof name, "rng.seed%lu.u32", (unsigned long)seeds[s]);
        tt_rng rng;
        tt_rng_init(&rng, seeds[s]);
        for (size_t i = 0; i < 8; i++)
            CHECK(tt_rng_next_u32(&rng) == fixture_u32(name, i));
    }
    const uint32_t bounds[] = {1, 2, 3, 7, 10, 100, 1000, 65536, 4000000000u};
    tt_rng rng;
    tt_rng_init(&rng, 5);
    for (size_t i = 0; i < 9; i++)
        CHECK(tt_rng_below(&rng, bounds[i]) == fixture_u32("rng.seed5.below", i));
    const fixture *u = fixture_find(fx, "rng.seed9.uniform");
    tt_rng_init(&rng, 9);
    for (size_t i = 0; u && i < u->numel; i++)
        CHECK(tt_rng_uniform(&rng) == u->data[i]);
}

/* ------------------------------------------------------------------ shuffle */

static void test_shuffle_matches_fixture(void)
{
    static const struct { size_t n; uint64_t seed; } cases[] = {{1000, 7}, {2, 8}, {1, 9}};
    for (size_t c = 0; c < 3; c++) {
        size_t order[1000];
        char name[64], after[80];
        snprintf(name, sizeof name, "shuffle.n%zu.seed%lu", cases[c].n,
                 (unsigned long)cases[c].seed);
        snprintf(after, sizeof after, "%s.after", name);
        tt_rng rng;
        tt_rng_init(&rng, cases[c].seed);
        CHECK_OK(tt_shuffle_indices(order, cases[c].n, &rng));
        check_order_is(order, cases[c].n, name);
        check_next_draw(&rng, after);
    }
}

static void test_shuffle_is_a_permutation_and_overwrites(void)
{
    size_t order[257];
    bool seen[257] = {false};
    for (size_t i = 0; i < 257; i++)
        order[i] = 9999; /* garbage the shuffle must not depend on */
    tt_rng rng;
    tt_rng_init(&rng, 3);
    CHECK_OK(tt_shuffle_indices(order, 257, &rng));
    size_t fixed_points = 0;
    for (size_t i = 0; i < 257; i++) {
        CHECK(order[i] < 257);
        if (order[i] < 257) {
            CHECK(!seen[order[i]]);
            seen[order[i]] = true;
        }
        fixed_points += order[i] == i;
    }
    CHECK(fixed_points < 20); /* a shuffle, not the identity (expected about 1) */
}

static void test_shuffle_errors(void)
{
    size_t order[4];
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_rng copy = rng;
    CHECK_OK(tt_shuffle_indices(NULL, 0, NULL)); /* nothing to do */
    CHECK(tt_rng_next_u32(&rng) == tt_rng_next_u32(&copy));
    CHECK_STATUS(tt_shuffle_indices(NULL, 4, &rng), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_shuffle_indices");
    CHECK_STATUS(tt_shuffle_indices(order, 4, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("rng");
#if SIZE_MAX > UINT32_MAX
    CHECK_STATUS(tt_shuffle_indices(order, (size_t)UINT32_MAX + 1, &rng), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("32-bit");
#endif
}

/* ------------------------------------------------------------------ dataset */

static void test_dataset_new_and_gather(void)
{
    tt_dataset *ds = counting_dataset(6);
    CHECK(ds && ds->length == 6);
    if (!ds)
        return;
    tt_tensor *x = NULL, *y = NULL;
    const size_t idx[] = {5, 0, 5, 2};
    CHECK_OK(tt_dataset_gather(&x, &y, ds, idx, 4));
    CHECK(x && x->ndim == 3 && x->shape[0] == 4 && x->shape[1] == 2 && x->shape[2] == 2);
    CHECK(y && y->ndim == 1 && y->shape[0] == 4);
    CHECK(x && tt_tensor_is_contiguous(x) && !x->requires_grad);
    if (x && y) {
        float xb[16], yb[4];
        CHECK_OK(tt_tensor_to_array(x, xb, 16));
        CHECK_OK(tt_tensor_to_array(y, yb, 4));
        for (size_t i = 0; i < 4; i++) {
            CHECK(yb[i] == (float)idx[i]);
            for (size_t k = 0; k < 4; k++)
                CHECK(xb[i * 4 + k] == (float)(idx[i] * 10 + k));
        }
        /* A batch is a copy: writing it leaves the dataset alone. */
        CHECK_OK(tt_tensor_fill(x, -1.0f));
        float first;
        CHECK_OK(tt_tensor_get(ds->x, TT_SHAPE(5, 0, 0), &first));
        CHECK(first == 50.0f);
    }
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_dataset_free(ds);
    tt_dataset_free(NULL);
}

/* A non-contiguous view as x: the dataset must follow the view, not the storage. */
static void test_dataset_from_a_view(void)
{
    tt_tensor *base = NULL, *xt = NULL, *y = NULL, *bx = NULL, *by = NULL;
    tt_dataset *ds = NULL;
    float data[12];
    for (int i = 0; i < 12; i++)
        data[i] = (float)i;
    CHECK_OK(tt_tensor_from_data(&base, 2, TT_SHAPE(3, 4), data)); /* [3,4] */
    CHECK_OK(tt_tensor_transpose(&xt, base, 0, 1));                /* [4,3]: xt[i][k] = 4k+i */
    CHECK_OK(tt_tensor_full(&y, 1, TT_SHAPE(4), 7.0f));
    CHECK_OK(tt_dataset_new(&ds, xt, y));
    const size_t idx[] = {3, 1};
    if (ds)
        CHECK_OK(tt_dataset_gather(&bx, &by, ds, idx, 2));
    if (bx) {
        float got[6];
        CHECK_OK(tt_tensor_to_array(bx, got, 6));
        const float want[6] = {3, 7, 11, 1, 5, 9};
        for (int i = 0; i < 6; i++)
            CHECK(got[i] == want[i]);
    }
    tt_tensor_free(bx);
    tt_tensor_free(by);
    tt_dataset_free(ds);
    tt_tensor_free(xt);
    tt_tensor_free(base);
    tt_tensor_free(y);
}

static void test_dataset_errors(void)
{
    tt_tensor *x = NULL, *y = NULL, *s = NULL;
    tt_dataset *ds = (tt_dataset *)&ds; /* not NULL: errors must reset it */
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(5, 3)));
    CHECK_OK(tt_tensor_zeros(&y, 1, TT_SHAPE(4)));
    CHECK_OK(tt_tensor_scalar(&s, 1.0f));

    CHECK_STATUS(tt_dataset_new(NULL, x, y), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_dataset_new(&ds, NULL, y), TT_ERR_INVALID_ARG);
    CHECK(ds == NULL);
    CHECK_ERROR_MENTIONS("x is NULL");
    CHECK_STATUS(tt_dataset_new(&ds, x, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_dataset_new(&ds, x, y), TT_ERR_SHAPE);
    CHECK(ds == NULL);
    CHECK_ERROR_MENTIONS("x has 5 samples but y has 4");
    CHECK_STATUS(tt_dataset_new(&ds, s, s), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("scalar");

    tt_tensor_free(y);
    y = NULL;
    CHECK_OK(tt_tensor_zeros(&y, 1, TT_SHAPE(5)));
    ds = NULL;
    CHECK_OK(tt_dataset_new(&ds, x, y));
    tt_tensor *bx = (tt_tensor *)&bx, *by = (tt_tensor *)&by;
    const size_t bad[] = {0, 5};
    CHECK_STATUS(tt_dataset_gather(&bx, &by, ds, bad, 2), TT_ERR_RANGE);
    CHECK(bx == NULL && by == NULL);
    CHECK_ERROR_MENTIONS("indices[1] = 5");
    CHECK_STATUS(tt_dataset_gather(&bx, &by, ds, bad, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("count is 0");
    CHECK_STATUS(tt_dataset_gather(&bx, &by, NULL, bad, 1), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_dataset_gather(&bx, &by, ds, NULL, 1), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_dataset_gather(NULL, &by, ds, bad, 1), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_dataset_gather(&bx, NULL, ds, bad, 1), TT_ERR_INVALID_ARG);

    tt_dataset_free(ds);
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_tensor_free(s);
}

/* ---------------------------------------------------------------- dataloader */

/* Three epochs of the fixture loader (batch 4 over 10 samples, seed 2024). */
static void run_fixture_loader(const char *tag, bool drop_last)
{
    tt_dataset *ds = fixture_dataset();
    tt_dataloader *dl = NULL;
    tt_rng rng;
    tt_rng_init(&rng, 2024);
    tt_dataloader_options opt = TT_DATALOADER_OPTIONS_INIT;
    opt.batch_size = 4;
    opt.drop_last = drop_last;
    if (ds)
        CHECK_OK(tt_dataloader_new(&dl, ds, &opt, &rng));
    if (!dl) {
        tt_dataset_free(ds);
        return;
    }
    CHECK(tt_dataloader_num_batches(dl) == (drop_last ? 2u : 3u));
    for (int e = 0; e < 3; e++) {
        char name[96];
        CHECK_OK(tt_dataloader_start_epoch(dl));
        CHECK(dl->epoch == e + 1);
        snprintf(name, sizeof name, "loader.%s.e%d.order", tag, e);
        check_order_is(dl->order, 10, name);
        snprintf(name, sizeof name, "loader.%s.e%d.nbatches", tag, e);
        const fixture *nb = fixture_find(fx, name);
        size_t expected_batches = nb ? (size_t)nb->data[0] : 0;
        size_t b = 0;
        for (;;) {
            tt_tensor *xb = NULL, *yb = NULL;
            CHECK_OK(tt_dataloader_next(dl, &xb, &yb));
            CHECK((xb == NULL) == (yb == NULL));
            if (!xb) {
                tt_tensor_free(yb);
                break;
            }
            snprintf(name, sizeof name, "loader.%s.e%d.b%zu.x", tag, e, b);
            check_tensor_is(xb, name);
            snprintf(name, sizeof name, "loader.%s.e%d.b%zu.y", tag, e, b);
            check_tensor_is(yb, name);
            tt_tensor_free(xb);
            tt_tensor_free(yb);
            if (++b > 10)
                break;
        }
        CHECK(b == expected_batches);
        /* The end of an epoch stays the end. */
        tt_tensor *xb = (tt_tensor *)&xb, *yb = (tt_tensor *)&yb;
        CHECK_OK(tt_dataloader_next(dl, &xb, &yb));
        CHECK(xb == NULL && yb == NULL);
    }
    char after[64];
    snprintf(after, sizeof after, "loader.%s.after", tag);
    check_next_draw(&rng, after);
    tt_dataloader_free(dl);
    tt_dataset_free(ds);
}

static void test_loader_batches_match_fixture(void)
{
    run_fixture_loader("keep", false);
}

static void test_loader_drop_last_matches_fixture(void)
{
    run_fixture_loader("drop", true);
}

/* 103 samples in batches of 10: 11 batches (the last of 3), every sample exactly once
 * per epoch, and each epoch in a new order. */
static void test_loader_every_sample_once_per_epoch(void)
{
    enum { N = 103, EPOCHS = 4 };
    tt_dataset *ds = counting_dataset(N);
    tt_dataloader *dl = NULL;
    tt_rng rng;
    tt_rng_init(&rng, 77);
    tt_dataloader_options opt = {10, true, false};
    if (ds)
        CHECK_OK(tt_dataloader_new(&dl, ds, &opt, &rng));
    if (!dl) {
        tt_dataset_free(ds);
        return;
    }
    CHECK(tt_dataloader_num_batches(dl) == 11);
    float first_order[EPOCHS][N];
    for (int e = 0; e < EPOCHS; e++) {
        int seen[N] = {0};
        size_t position = 0, batches = 0;
        CHECK_OK(tt_dataloader_start_epoch(dl));
        for (;;) {
            tt_tensor *xb = NULL, *yb = NULL;
            CHECK_OK(tt_dataloader_next(dl, &xb, &yb));
            if (!xb)
                break;
            batches++;
            size_t bs = yb->shape[0];
            CHECK(bs == (batches == 11 ? 3u : 10u));
            CHECK(xb->shape[0] == bs && xb->ndim == 3 && xb->shape[1] == 2 && xb->shape[2] == 2);
            float ys[10], xs[40];
            CHECK_OK(tt_tensor_to_array(yb, ys, 10));
            CHECK_OK(tt_tensor_to_array(xb, xs, 40));
            for (size_t i = 0; i < bs && position < N; i++, position++) {
                size_t id = (size_t)ys[i];
                CHECK(id < N);
                if (id < N)
                    seen[id]++;
                first_order[e][position] = ys[i];
                /* x and y stay paired. */
                CHECK(xs[i * 4 + 3] == (float)(id * 10 + 3));
            }
            tt_tensor_free(xb);
            tt_tensor_free(yb);
            if (batches > 20)
                break;
        }
        CHECK(batches == 11);
        CHECK(position == N);
        for (size_t i = 0; i < N; i++)
            CHECK(seen[i] == 1);
    }
    for (int e = 1; e < EPOCHS; e++)
        CHECK(memcmp(first_order[e], first_order[e - 1], sizeof first_order[e]) != 0);
    tt_dataloader_free(dl);
    tt_dataset_free(ds);
}

static void test_loader_without_shuffle(void)
{
    tt_dataset *ds = counting_dataset(7);
    tt_dataloader *dl = NULL;
    tt_dataloader_options opt = {3, false, false};
    if (ds)
        CHECK_OK(tt_dataloader_new(&dl, ds, &opt, NULL)); /* no rng needed */
    if (!dl) {
        tt_dataset_free(ds);
        return;
    }
    CHECK(tt_dataloader_num_batches(dl) == 3);
    for (int e = 0; e < 2; e++) {
        CHECK_OK(tt_dataloader_start_epoch(dl));
        float expected = 0.0f;
        size_t sizes[3] = {0}, b = 0;
        for (;;) {
            tt_tensor *xb = NULL, *yb = NULL;
            CHECK_OK(tt_dataloader_next(dl, &xb, &yb));
            if (!xb)
                break;
            float ys[3];
            CHECK_OK(tt_tensor_to_array(yb, ys, 3));
            if (b < 3)
                sizes[b] = yb->shape[0];
            for (size_t i = 0; i < yb->shape[0]; i++, expected += 1.0f)
                CHECK(ys[i] == expected);
            tt_tensor_free(xb);
            tt_tensor_free(yb);
            b++;
        }
        CHECK(b == 3 && sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 1);
        CHECK(expected == 7.0f);
    }
    tt_dataloader_free(dl);

    /* drop_last without shuffle: 7 samples in batches of 3 give two batches. */
    opt.drop_last = true;
    CHECK_OK(tt_dataloader_new(&dl, ds, &opt, NULL));
    CHECK(tt_dataloader_num_batches(dl) == 2);
    if (dl) {
        CHECK_OK(tt_dataloader_start_epoch(dl));
        size_t b = 0;
        for (;;) {
            tt_tensor *xb = NULL, *yb = NULL;
            CHECK_OK(tt_dataloader_next(dl, &xb, &yb));
            if (!xb)
                break;
            CHECK(yb->shape[0] == 3);
            tt_tensor_free(xb);
            tt_tensor_free(yb);
            b++;
        }
        CHECK(b == 2);
    }
    tt_dataloader_free(dl);

    /* A batch larger than the dataset, kept: one batch of everything. */
    opt.drop_last = false;
    opt.batch_size = 50;
    CHECK_OK(tt_dataloader_new(&dl, ds, &opt, NULL));
    CHECK(tt_dataloader_num_batches(dl) == 1);
    tt_dataloader_free(dl);
    tt_dataset_free(ds);
}

/* Starting an epoch in the middle of one rewinds and reshuffles. */
static void test_loader_restart_mid_epoch(void)
{
    tt_dataset *ds = counting_dataset(9);
    tt_dataloader *dl = NULL;
    tt_rng rng, mirror;
    tt_rng_init(&rng, 5);
    tt_rng_init(&mirror, 5);
    tt_dataloader_options opt = {4, true, false};
    if (ds)
        CHECK_OK(tt_dataloader_new(&dl, ds, &opt, &rng));
    if (!dl) {
        tt_dataset_free(ds);
        return;
    }
    size_t expected[9];
    CHECK_OK(tt_dataloader_start_epoch(dl));
    CHECK_OK(tt_shuffle_indices(expected, 9, &mirror));
    CHECK(memcmp(dl->order, expected, sizeof expected) == 0);
    tt_tensor *xb = NULL, *yb = NULL;
    CHECK_OK(tt_dataloader_next(dl, &xb, &yb));
    tt_tensor_free(xb);
    tt_tensor_free(yb);
    CHECK(dl->cursor == 4);
    CHECK_OK(tt_dataloader_start_epoch(dl));
    CHECK(dl->cursor == 0 && dl->epoch == 2);
    CHECK_OK(tt_shuffle_indices(expected, 9, &mirror));
    CHECK(memcmp(dl->order, expected, sizeof expected) == 0);
    CHECK_OK(tt_dataloader_next(dl, &xb, &yb));
    if (yb) {
        float ys[4];
        CHECK_OK(tt_tensor_to_array(yb, ys, 4));
        for (int i = 0; i < 4; i++)
            CHECK(ys[i] == (float)expected[i]);
    }
    tt_tensor_free(xb);
    tt_tensor_free(yb);
    tt_dataloader_free(dl);
    tt_dataset_free(ds);
}

static void test_loader_errors(void)
{
    tt_dataset *ds = counting_dataset(5);
    tt_dataloader *dl = (tt_dataloader *)&dl;
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_dataloader_options opt = {0, true, false};
    CHECK_STATUS(tt_dataloader_new(&dl, ds, &opt, &rng), TT_ERR_INVALID_ARG);
    CHECK(dl == NULL);
    CHECK_ERROR_MENTIONS("batch_size is 0");
    opt.batch_size = 2;
    CHECK_STATUS(tt_dataloader_new(&dl, ds, &opt, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("rng");
    opt.batch_size = 6;
    opt.drop_last = true;
    CHECK_STATUS(tt_dataloader_new(&dl, ds, &opt, &rng), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("no batch");
    CHECK_STATUS(tt_dataloader_new(&dl, NULL, &opt, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_dataloader_new(NULL, ds, &opt, &rng), TT_ERR_INVALID_ARG);
    CHECK(tt_dataloader_num_batches(NULL) == 0);
    CHECK_STATUS(tt_dataloader_start_epoch(NULL), TT_ERR_INVALID_ARG);

    /* NULL options mean the defaults: batch 32, shuffle, keep the last batch. */
    dl = NULL; /* the sentinel stays when a starter returns early */
    CHECK_OK(tt_dataloader_new(&dl, ds, NULL, &rng));
    if (dl) {
        CHECK(dl->options.batch_size == 32 && dl->options.shuffle && !dl->options.drop_last);
        CHECK(tt_dataloader_num_batches(dl) == 1);
        tt_tensor *xb = (tt_tensor *)&xb, *yb = (tt_tensor *)&yb;
        CHECK_STATUS(tt_dataloader_next(dl, &xb, &yb), TT_ERR_STATE);
        CHECK(xb == NULL && yb == NULL);
        CHECK_ERROR_MENTIONS("tt_dataloader_start_epoch");
        CHECK_STATUS(tt_dataloader_next(dl, NULL, &yb), TT_ERR_INVALID_ARG);
        CHECK_STATUS(tt_dataloader_next(NULL, &xb, &yb), TT_ERR_INVALID_ARG);
    }
    tt_dataloader_free(dl);
    tt_dataloader_free(NULL);
    tt_dataset_free(ds);
}

/* -------------------------------------------------------------- augmentation */

static void test_hflip_matches_fixture(void)
{
    static const struct { const char *images; float p; uint64_t seed; } cases[] = {
        {"nchw", 0.5f, 11}, {"nhw", 0.3f, 12}, {"nchw", 1.0f, 13}, {"nchw", 0.0f, 14}};
    for (size_t c = 0; c < 4; c++) {
        char name[96], tag[80];
        snprintf(name, sizeof name, "aug.%s", cases[c].images);
        snprintf(tag, sizeof tag, "hflip.%s.p%.1f.seed%lu", cases[c].images, (double)cases[c].p,
                 (unsigned long)cases[c].seed);
        tt_tensor *images = fixture_tensor(fx, name), *out = NULL;
        tt_rng rng;
        tt_rng_init(&rng, cases[c].seed);
        CHECK(images != NULL);
        if (images)
            CHECK_OK(tt_random_hflip(&out, images, cases[c].p, &rng));
        check_tensor_is(out, tag);
        snprintf(name, sizeof name, "%s.after", tag);
        check_next_draw(&rng, name);
        /* The input is untouched. */
        snprintf(name, sizeof name, "aug.%s", cases[c].images);
        check_tensor_is(images, name);
        CHECK(!out || out->storage != images->storage);
        tt_tensor_free(out);
        tt_tensor_free(images);
    }
}

/* The rule is "flip when u < p": a draw equal to p does not flip. */
static void test_hflip_boundary(void)
{
    tt_tensor *img = NULL, *out = NULL;
    CHECK_OK(tt_tensor_from_data(&img, 3, TT_SHAPE(1, 1, 2), (const float[]){1.0f, 2.0f}));
    tt_rng rng, peek;
    tt_rng_init(&rng, 40);
    peek = rng;
    float u = tt_rng_uniform(&peek);
    float v[2] = {0};
    if (img)
        CHECK_OK(tt_random_hflip(&out, img, u, &rng));
    if (out)
        CHECK_OK(tt_tensor_to_array(out, v, 2));
    CHECK(v[0] == 1.0f && v[1] == 2.0f);
    tt_tensor_free(out);
    out = NULL;
    tt_rng_init(&rng, 40);
    if (img)
        CHECK_OK(tt_random_hflip(&out, img, nextafterf(u, 1.0f), &rng));
    if (out)
        CHECK_OK(tt_tensor_to_array(out, v, 2));
    CHECK(v[0] == 2.0f && v[1] == 1.0f);
    tt_tensor_free(out);
    tt_tensor_free(img);
}

static void test_crop_matches_fixture(void)
{
    static const struct { const char *images; size_t padding; uint64_t seed; } cases[] = {
        {"nchw", 2, 21}, {"nhw", 1, 22}, {"nhw", 3, 23}, {"nchw", 0, 24}};
    for (size_t c = 0; c < 4; c++) {
        char name[96], tag[80];
        snprintf(name, sizeof name, "aug.%s", cases[c].images);
        snprintf(tag, sizeof tag, "crop.%s.pad%zu.seed%lu", cases[c].images, cases[c].padding,
                 (unsigned long)cases[c].seed);
        tt_tensor *images = fixture_tensor(fx, name), *out = NULL;
        tt_rng rng;
        tt_rng_init(&rng, cases[c].seed);
        CHECK(images != NULL);
        if (images)
            CHECK_OK(tt_random_crop(&out, images, cases[c].padding, &rng));
        check_tensor_is(out, tag);
        snprintf(name, sizeof name, "%s.after", tag);
        check_next_draw(&rng, name);
        snprintf(name, sizeof name, "aug.%s", cases[c].images);
        check_tensor_is(images, name);
        tt_tensor_free(out);
        tt_tensor_free(images);
    }
    /* Padding 0 is the identity (but still draws). */
    tt_tensor *images = fixture_tensor(fx, "aug.nchw"), *out = NULL;
    tt_rng rng;
    tt_rng_init(&rng, 1);
    if (images)
        CHECK_OK(tt_random_crop(&out, images, 0, &rng));
    check_tensor_is(out, "aug.nchw");
    tt_tensor_free(out);
    tt_tensor_free(images);
}

static void test_flip_then_crop_from_one_rng(void)
{
    tt_tensor *images = fixture_tensor(fx, "aug.nchw"), *flipped = NULL, *out = NULL;
    tt_rng rng;
    tt_rng_init(&rng, 31);
    if (images)
        CHECK_OK(tt_random_hflip(&flipped, images, 0.5f, &rng));
    if (flipped)
        CHECK_OK(tt_random_crop(&out, flipped, 1, &rng));
    check_tensor_is(out, "flipcrop.seed31");
    tt_tensor_free(out);
    tt_tensor_free(flipped);
    tt_tensor_free(images);
}

/* Augmenting a non-contiguous view reads through its strides. */
static void test_augment_a_view(void)
{
    tt_tensor *images = fixture_tensor(fx, "aug.nhw"), *view = NULL, *out = NULL;
    tt_rng rng;
    tt_rng_init(&rng, 1);
    /* aug.nhw is [6,5,4]; the slice [2:4] along dim 0 is [2,5,4], offset into storage. */
    if (images)
        CHECK_OK(tt_tensor_slice(&view, images, 0, 2, 4));
    if (view)
        CHECK_OK(tt_random_hflip(&out, view, 1.0f, &rng));
    if (out) {
        float v;
        CHECK_OK(tt_tensor_get(out, TT_SHAPE(0, 0, 0), &v));
        CHECK(v == 2 * 20 + 3 + 1); /* images[2, 0, 3] */
        CHECK_OK(tt_tensor_get(out, TT_SHAPE(1, 4, 3), &v));
        CHECK(v == 3 * 20 + 4 * 4 + 0 + 1); /* images[3, 4, 0] */
    }
    tt_tensor_free(out);
    tt_tensor_free(view);
    tt_tensor_free(images);
}

static void test_augment_errors(void)
{
    tt_tensor *flat = NULL, *img = NULL;
    tt_tensor *out = (tt_tensor *)&out;
    tt_rng rng;
    tt_rng_init(&rng, 1);
    CHECK_OK(tt_tensor_zeros(&flat, 2, TT_SHAPE(4, 64)));
    CHECK_OK(tt_tensor_zeros(&img, 4, TT_SHAPE(2, 1, 8, 6)));

    CHECK_STATUS(tt_random_hflip(&out, flat, 0.5f, &rng), TT_ERR_SHAPE);
    CHECK(out == NULL);
    CHECK_ERROR_MENTIONS("[N,C,H,W]");
    CHECK_STATUS(tt_random_hflip(&out, img, -0.1f, &rng), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("[0, 1]");
    CHECK_STATUS(tt_random_hflip(&out, img, 1.5f, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_random_hflip(&out, img, NAN, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_random_hflip(&out, NULL, 0.5f, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_random_hflip(&out, img, 0.5f, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_random_hflip(NULL, img, 0.5f, &rng), TT_ERR_INVALID_ARG);

    CHECK_STATUS(tt_random_crop(&out, flat, 1, &rng), TT_ERR_SHAPE);
    CHECK_STATUS(tt_random_crop(&out, img, 6, &rng), TT_ERR_INVALID_ARG); /* W = 6 */
    CHECK(out == NULL);
    CHECK_ERROR_MENTIONS("padding 6");
    CHECK_STATUS(tt_random_crop(&out, NULL, 1, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_random_crop(&out, img, 1, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_random_crop(NULL, img, 1, &rng), TT_ERR_INVALID_ARG);
    out = NULL;
    CHECK_OK(tt_random_crop(&out, img, 5, &rng)); /* the largest allowed */
    tt_tensor_free(out);

    tt_tensor_free(flat);
    tt_tensor_free(img);
}

/* ------------------------------------------------- allocation failure injection */

/* Fail the k-th allocation for k = 0, 1, ... until the call succeeds: every failure
 * must be TT_ERR_NOMEM with NULL outputs and nothing leaked. */
static void test_allocation_failures(void)
{
    tt_tensor *x = NULL, *y = NULL, *img = NULL;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(6, 3)));
    CHECK_OK(tt_tensor_zeros(&y, 1, TT_SHAPE(6)));
    CHECK_OK(tt_tensor_zeros(&img, 4, TT_SHAPE(2, 2, 4, 4)));
    long k;
    if (!x || !y || !img)
        goto done;

    for (k = 0; k < 50; k++) {
        size_t live = tt_alloc_live();
        tt_dataset *ds = (tt_dataset *)&ds;
        tt_alloc_fail_after(k);
        tt_status st = tt_dataset_new(&ds, x, y);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_dataset_free(ds);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && ds == NULL && tt_alloc_live() == live);
    }
    CHECK(k > 0 && k < 50); /* failures were injected, then it succeeded */

    tt_dataset *ds = NULL;
    CHECK_OK(tt_dataset_new(&ds, x, y));
    if (!ds)
        goto done;
    tt_rng rng;
    tt_rng_init(&rng, 3);
    for (k = 0; k < 50; k++) {
        size_t live = tt_alloc_live();
        tt_dataloader *dl = (tt_dataloader *)&dl;
        tt_alloc_fail_after(k);
        tt_status st = tt_dataloader_new(&dl, ds, NULL, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_dataloader_free(dl);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && dl == NULL && tt_alloc_live() == live);
    }
    CHECK(k > 0 && k < 50); /* failures were injected, then it succeeded */

    tt_dataloader *dl = NULL;
    tt_dataloader_options opt = {4, true, false};
    CHECK_OK(tt_dataloader_new(&dl, ds, &opt, &rng));
    if (dl) {
        CHECK_OK(tt_dataloader_start_epoch(dl));
        for (k = 0; k < 50; k++) {
            size_t live = tt_alloc_live();
            tt_tensor *xb = (tt_tensor *)&xb, *yb = (tt_tensor *)&yb;
            tt_alloc_fail_after(k);
            tt_status st = tt_dataloader_next(dl, &xb, &yb);
            tt_alloc_fail_after(-1);
            if (st == TT_OK) {
                CHECK(xb && yb && yb->shape[0] == 4);
                tt_tensor_free(xb);
                tt_tensor_free(yb);
                break;
            }
            CHECK(st == TT_ERR_NOMEM && xb == NULL && yb == NULL && tt_alloc_live() == live);
            CHECK(dl->cursor == 0); /* a failed batch is not skipped */
        }
        CHECK(k > 0 && k < 50); /* failures were injected, then it succeeded */
    }
    tt_dataloader_free(dl);
    tt_dataset_free(ds);

    for (int which = 0; which < 2; which++) {
        for (k = 0; k < 50; k++) {
            size_t live = tt_alloc_live();
            tt_tensor *out = (tt_tensor *)&out;
            tt_rng_init(&rng, 3);
            tt_alloc_fail_after(k);
            tt_status st = which == 0 ? tt_random_hflip(&out, img, 0.5f, &rng)
                                      : tt_random_crop(&out, img, 1, &rng);
            tt_alloc_fail_after(-1);
            if (st == TT_OK) {
                tt_tensor_free(out);
                break;
            }
            CHECK(st == TT_ERR_NOMEM && out == NULL && tt_alloc_live() == live);
        }
        CHECK(k > 0 && k < 50); /* failures were injected, then it succeeded */
    }
done:
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_tensor_free(img);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    fx = fixtures_load("dataloader");
    if (!fx) {
        fprintf(stderr, "cannot run without tests/fixtures/dataloader.txt\n");
        return 1;
    }
    RUN(test_rng_matches_python_pcg32);
    RUN(test_shuffle_matches_fixture);
    RUN(test_shuffle_is_a_permutation_and_overwrites);
    RUN(test_shuffle_errors);
    RUN(test_dataset_new_and_gather);
    RUN(test_dataset_from_a_view);
    RUN(test_dataset_errors);
    RUN(test_loader_batches_match_fixture);
    RUN(test_loader_drop_last_matches_fixture);
    RUN(test_loader_every_sample_once_per_epoch);
    RUN(test_loader_without_shuffle);
    RUN(test_loader_restart_mid_epoch);
    RUN(test_loader_errors);
    RUN(test_hflip_matches_fixture);
    RUN(test_hflip_boundary);
    RUN(test_crop_matches_fixture);
    RUN(test_flip_then_crop_from_one_rng);
    RUN(test_augment_a_view);
    RUN(test_augment_errors);
    RUN(test_allocation_failures);
    fixtures_free(fx);
    return harness_summary();
}
