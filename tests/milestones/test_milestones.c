/*
 * Tests of the milestones' trusted parts: the point-set generators of
 * tinytorch/datasets.h (milestones 1 and 2) and the bar table milestones/milestones.def.
 *
 * The generated points are compared with an independent NumPy rewrite of the documented
 * procedure (tests/fixtures/gen_points.py -> points.txt), exactly: the generator is
 * integer PCG32 plus Box-Muller in double, so a correct implementation gives the same
 * float32 values. The data's promises (a line separates the blobs, the signs of the
 * coordinates give XOR's label) are checked on the data itself, so that a change of the
 * constants that broke a milestone's premise fails here first.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "tinytorch/datasets.h"

#include "milestones.h"

/* The number of modules in reference/modules.def. */
#define TT_MODULE(number, slug, tier, title) +1
static const int module_count = 0
#include "modules.def"
    ;
#undef TT_MODULE

static fixtures *fx;

/* The split of `points` equals the fixture's <name>.{train,test}_{x,y}, exactly. */
static void check_split(const tt_points *points, const char *name, bool train)
{
    char key[128];
    size_t n = train ? points->n_train : points->n_test;
    const float *xs = train ? points->train_x : points->test_x;
    const float *ys = train ? points->train_y : points->test_y;
    const char *split = train ? "train" : "test";
    snprintf(key, sizeof key, "%s.%s_x", name, split);
    const fixture *fx_x = fixture_find(fx, key);
    snprintf(key, sizeof key, "%s.%s_y", name, split);
    const fixture *fx_y = fixture_find(fx, key);
    CHECK(fx_x && fx_y);
    if (!fx_x || !fx_y)
        return;
    CHECK(fx_x->numel == 2 * n && fx_y->numel == n);
    if (fx_x->numel != 2 * n || fx_y->numel != n)
        return;
    size_t differ = 0;
    for (size_t i = 0; i < 2 * n; i++)
        differ += xs[i] != fx_x->data[i];
    for (size_t i = 0; i < n; i++)
        differ += ys[i] != fx_y->data[i];
    if (differ)
        fprintf(stderr, "%s %s: %zu values differ from NumPy's\n", name, split, differ);
    CHECK(differ == 0);
}

static void check_points(tt_points_kind kind, size_t n_train, size_t n_test, uint64_t seed,
                         const char *name)
{
    tt_points p;
    CHECK_OK(tt_points_make(&p, kind, n_train, n_test, seed));
    CHECK(p.kind == kind && p.n_train == n_train && p.n_test == n_test);
    check_split(&p, name, true);
    check_split(&p, name, false);
    tt_points_release(&p);
}

static void test_points_match_numpy(void)
{
    CHECK(fx != NULL);
    if (!fx)
        return;
    check_points(TT_POINTS_BLOBS, TT_POINTS_TRAIN, TT_POINTS_TEST, TT_BLOBS_SEED,
                 "blobs.milestone");
    check_points(TT_POINTS_XOR, TT_POINTS_TRAIN, TT_POINTS_TEST, TT_XOR_SEED, "xor.milestone");
    check_points(TT_POINTS_BLOBS, 5, 3, 7, "blobs.odd");
    check_points(TT_POINTS_XOR, 7, 1, 0, "xor.odd");
    /* The fixture's own shape, as a tensor: [n, 2]. */
    tt_tensor *t = fixture_tensor(fx, "blobs.odd.train_x");
    CHECK(t && t->ndim == 2 && t->shape[0] == 5 && t->shape[1] == 2);
    tt_tensor_free(t);
}

/* Same seed, same points; another seed, other points. */
static void test_points_seeded(void)
{
    tt_points a, b, c;
    CHECK_OK(tt_points_make(&a, TT_POINTS_XOR, 40, 20, 5));
    CHECK_OK(tt_points_make(&b, TT_POINTS_XOR, 40, 20, 5));
    CHECK_OK(tt_points_make(&c, TT_POINTS_XOR, 40, 20, 6));
    CHECK(memcmp(a.train_x, b.train_x, 80 * sizeof(float)) == 0);
    CHECK(memcmp(a.test_x, b.test_x, 40 * sizeof(float)) == 0);
    CHECK(memcmp(a.train_x, c.train_x, 80 * sizeof(float)) != 0);
    /* The labels follow the index, not the seed. */
    CHECK(memcmp(a.train_y, c.train_y, 40 * sizeof(float)) == 0);
    tt_points_release(&a);
    tt_points_release(&b);
    tt_points_release(&c);
}

/* Milestone 1's premise: the line x0 + x1 = 0 separates the blobs almost perfectly, and
 * the classes are balanced; their means sit near the documented centres. */
static void test_blobs_are_separable(void)
{
    tt_points p;
    CHECK_OK(tt_points_make(&p, TT_POINTS_BLOBS, TT_POINTS_TRAIN, TT_POINTS_TEST,
                            TT_BLOBS_SEED));
    size_t right = 0, ones = 0;
    double mean[2][2] = {{0}};
    for (size_t i = 0; i < p.n_test; i++) {
        int label = (int)p.test_y[i];
        bool predicted = p.test_x[2 * i] + p.test_x[2 * i + 1] > 0;
        right += predicted == (label == 1);
        ones += label == 1;
    }
    for (size_t i = 0; i < p.n_train; i++) {
        int label = (int)p.train_y[i];
        mean[label][0] += p.train_x[2 * i] / (TT_POINTS_TRAIN / 2.0);
        mean[label][1] += p.train_x[2 * i + 1] / (TT_POINTS_TRAIN / 2.0);
    }
    CHECK(ones == p.n_test / 2);
    /* Expected error 0.4%: at most a few of 200, far from the 95% bar. */
    CHECK(right >= p.n_test - 4);
    for (int d = 0; d < 2; d++) {
        CHECK_NEAR(mean[0][d], -TT_BLOBS_CENTRE, 0.15, 0);
        CHECK_NEAR(mean[1][d], TT_BLOBS_CENTRE, 0.15, 0);
    }
    tt_points_release(&p);
}

/* Milestone 2's premise: the label is the XOR of the coordinates' signs for (almost)
 * every point, and each corner holds a quarter of each split. */
static void test_xor_labels(void)
{
    tt_points p;
    CHECK_OK(tt_points_make(&p, TT_POINTS_XOR, TT_POINTS_TRAIN, TT_POINTS_TEST, TT_XOR_SEED));
    size_t agree = 0, corner[4] = {0};
    for (size_t i = 0; i < p.n_train; i++) {
        bool a = p.train_x[2 * i] > 0, b = p.train_x[2 * i + 1] > 0;
        agree += (float)(a != b) == p.train_y[i];
        corner[(i % 4)]++;
        CHECK(p.train_y[i] == (float)(((i % 4) / 2) ^ (i % 2)));
    }
    CHECK(agree >= p.n_train - 2);
    for (int k = 0; k < 4; k++)
        CHECK(corner[k] == TT_POINTS_TRAIN / 4);
    tt_points_release(&p);
}

static void test_points_errors(void)
{
    tt_points p;
    memset(&p, 0xAB, sizeof p);
    CHECK_STATUS(tt_points_make(NULL, TT_POINTS_XOR, 4, 4, 1), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_points_make(&p, (tt_points_kind)7, 4, 4, 1), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("unknown kind 7");
    CHECK(p.train_x == NULL && p.n_train == 0);
    memset(&p, 0xAB, sizeof p);
    CHECK_STATUS(tt_points_make(&p, TT_POINTS_BLOBS, 0, 4, 1), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("0 training and 4 test points");
    CHECK(p.train_x == NULL && p.test_y == NULL);
    CHECK_STATUS(tt_points_make(&p, TT_POINTS_BLOBS, 4, 0, 1), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_points_make(&p, TT_POINTS_BLOBS, SIZE_MAX / 4, 4, 1), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("overflows");
    /* Each of the four allocations failing in turn: nothing leaks, *out stays zeroed. */
    for (long k = 0; k < 4; k++) {
        memset(&p, 0xAB, sizeof p);
        tt_alloc_fail_after(k);
        CHECK_STATUS(tt_points_make(&p, TT_POINTS_XOR, 8, 4, 1), TT_ERR_NOMEM);
        tt_alloc_fail_after(-1);
        CHECK(p.train_x == NULL && p.train_y == NULL && p.test_x == NULL && p.test_y == NULL);
        CHECK(p.n_train == 0 && p.n_test == 0);
    }
    tt_points_release(NULL);
    tt_points_release(&p); /* zeroed: harmless */
    CHECK(strcmp(tt_points_kind_name(TT_POINTS_BLOBS), "blobs") == 0);
    CHECK(strcmp(tt_points_kind_name(TT_POINTS_XOR), "xor") == 0);
    CHECK(strcmp(tt_points_kind_name((tt_points_kind)0), "unknown") == 0);
}

static void test_points_tensors(void)
{
    tt_points p = {0};
    tt_tensor *x = NULL, *y = NULL;
    CHECK_STATUS(tt_points_tensors(&x, &y, &p, true), TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("tt_points_make first");
    CHECK_STATUS(tt_points_tensors(NULL, &y, &p, true), TT_ERR_INVALID_ARG);
    CHECK_OK(tt_points_make(&p, TT_POINTS_BLOBS, 6, 3, 2));
    CHECK_OK(tt_points_tensors(&x, &y, &p, false));
    CHECK(x && x->ndim == 2 && x->shape[0] == 3 && x->shape[1] == 2);
    CHECK(y && y->ndim == 2 && y->shape[0] == 3 && y->shape[1] == 1);
    float xs[6], ys[3];
    CHECK_OK(tt_tensor_to_array(x, xs, 6));
    CHECK_OK(tt_tensor_to_array(y, ys, 3));
    CHECK(memcmp(xs, p.test_x, sizeof xs) == 0 && memcmp(ys, p.test_y, sizeof ys) == 0);
    tt_tensor_free(x);
    tt_tensor_free(y);
    /* The second tensor's allocations failing: neither tensor survives. */
    for (long k = 0; k < 6; k++) {
        x = y = (tt_tensor *)&p;
        tt_alloc_fail_after(k);
        tt_status st = tt_points_tensors(&x, &y, &p, true);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_tensor_free(x);
            tt_tensor_free(y);
            break;
        }
        CHECK(st == TT_ERR_NOMEM);
        CHECK(x == NULL && y == NULL);
    }
    tt_points_release(&p);
}

/* milestones.def: rows of one milestone adjacent and agreeing, valid comparisons,
 * modules that exist, names that follow the pattern the build and tito rely on. */
static void test_table(void)
{
    CHECK(TT_MILESTONE_BAR_COUNT >= 4);
    int previous = 0;
    for (size_t i = 0; i < TT_MILESTONE_BAR_COUNT; i++) {
        const tt_milestone_bar *b = &tt_milestone_bars[i];
        char want[32];
        CHECK(b->number >= previous && b->number >= 1 && b->number <= 6);
        CHECK(strcmp(b->comparison, ">=") == 0 || strcmp(b->comparison, "<=") == 0);
        CHECK(b->first_module >= 1 && b->first_module <= b->last_module);
        CHECK(b->last_module <= module_count);
        /* Fractions, except a loss bar (milestone 5's validation loss, in nats). */
        CHECK(b->bar > 0 && (b->bar <= 1.0 || strstr(b->metric, "loss") != NULL));
        snprintf(want, sizeof want, "tt-milestone-%02d", b->number);
        CHECK(strcmp(b->program, want) == 0);
        snprintf(want, sizeof want, "%02d_", b->number);
        CHECK(strncmp(b->slug, want, 3) == 0);
        if (b->number == previous) {
            const tt_milestone_bar *a = &tt_milestone_bars[i - 1];
            CHECK(strcmp(a->slug, b->slug) == 0 && a->year == b->year);
            CHECK(strcmp(a->title, b->title) == 0 && strcmp(a->program, b->program) == 0);
            CHECK(a->first_module == b->first_module && a->last_module == b->last_module);
            /* A metric may have a floor and a ceiling (milestone 5's text loss). */
            CHECK(strcmp(a->metric, b->metric) != 0 || strcmp(a->comparison, b->comparison) != 0);
        }
        CHECK(tt_milestone_find(b->number) != NULL);
        previous = b->number;
    }
    CHECK(tt_milestone_find(99) == NULL);
    /* The curriculum's bars. */
    const tt_milestone_bar *m1 = tt_milestone_find(1), *m3 = tt_milestone_find(3);
    CHECK(m1 && m1->bar == 0.95 && m1->last_module == 7);
    CHECK(m3 && m3->bar == 0.90 && m3->last_module == 8);
}

static void test_bar_met(void)
{
    tt_milestone_bar at_least = {.metric = "m", .comparison = ">=", .bar = 0.95};
    tt_milestone_bar at_most = {.metric = "m", .comparison = "<=", .bar = 0.75};
    tt_milestone_bar odd = {.metric = "m", .comparison = ">", .bar = 0.5};
    CHECK(tt_milestone_bar_met(&at_least, 190.0 / 200.0)); /* exactly the bar */
    CHECK(!tt_milestone_bar_met(&at_least, 189.0 / 200.0));
    CHECK(tt_milestone_bar_met(&at_most, 150.0 / 200.0));
    CHECK(!tt_milestone_bar_met(&at_most, 151.0 / 200.0));
    CHECK(!tt_milestone_bar_met(&at_least, NAN));
    CHECK(!tt_milestone_bar_met(&at_most, NAN));
    CHECK(!tt_milestone_bar_met(&odd, 1.0));
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    fx = fixtures_load("points");
    RUN(test_points_match_numpy);
    RUN(test_points_seeded);
    RUN(test_blobs_are_separable);
    RUN(test_xor_labels);
    RUN(test_points_errors);
    RUN(test_points_tensors);
    RUN(test_table);
    RUN(test_bar_met);
    fixtures_free(fx);
    return harness_summary();
}
