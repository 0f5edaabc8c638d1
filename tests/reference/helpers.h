/*
 * tests/reference/helpers.h: the small helpers the module tests share, one copy for
 * all of them: comparing a tensor with a fixture, loading a parameter from one,
 * making tensors from data, from a seeded generator or as distinct values in a seeded
 * order, and reading one element of a tensor (strided or not) by its row-major
 * position.
 *
 * FX is the test's fixture set: main() loads it (fixtures_load("<module>")) before
 * running the tests and frees it after; a test that has no fixtures leaves it NULL.
 *
 * The functions are static inline because each test uses only some of them: a plain
 * static function that a test does not call would be an unused-function warning, and
 * the tests build with -Werror in CI.
 */
#ifndef TT_TESTS_REFERENCE_HELPERS_H
#define TT_TESTS_REFERENCE_HELPERS_H

#include "harness.h"
#include "fixtures.h"

static fixtures *FX;

/* t must have the fixture's shape and values within (atol, rtol); the first three
 * values off are printed, every one counts as a failure. */
static inline void check_tensor_near(const tt_tensor *t, const char *name, double atol,
                                     double rtol)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(t != NULL && f != NULL);
    if (!t || !f)
        return;
    CHECK(t->ndim == f->ndim);
    if (t->ndim != f->ndim)
        return;
    for (int d = 0; d < f->ndim; d++)
        CHECK(t->shape[d] == f->shape[d]);
    CHECK(tt_tensor_numel(t) == f->numel);
    if (tt_tensor_numel(t) != f->numel)
        return;
    float *buf = malloc(f->numel * sizeof *buf);
    CHECK_OK(tt_tensor_to_array(t, buf, f->numel));
    int reported = 0;
    for (size_t i = 0; i < f->numel; i++) {
        if (!(fabs((double)buf[i] - f->data[i]) <= atol + rtol * fabs(f->data[i]))) {
            if (reported++ < 3)
                fprintf(stderr, "%s: %s[%zu] = %.9g, expected %.9g\n", harness_current, name, i,
                        (double)buf[i], (double)f->data[i]);
            harness_current_failed++;
        }
    }
    free(buf);
}

/* A new tensor holding the fixture `name` (a failure if there is none). */
static inline tt_tensor *fx(const char *name)
{
    tt_tensor *t = fixture_tensor(FX, name);
    CHECK(t != NULL);
    return t;
}

/* Overwrite a parameter with a fixture's values (not recorded). */
static inline void load_param(tt_tensor *p, const char *name)
{
    tt_tensor *src = fixture_tensor(FX, name);
    CHECK(p && src);
    if (p && src)
        CHECK_OK(tt_tensor_assign(p, src));
    tt_tensor_free(src);
}

static inline tt_tensor *from(int ndim, const size_t *shape, const float *data)
{
    tt_tensor *t = NULL;
    CHECK_OK(tt_tensor_from_data(&t, ndim, shape, data));
    return t;
}

/* N(0, std^2) values from a generator seeded with `seed`: the same seed, the same
 * tensor. */
static inline tt_tensor *randn_std(int ndim, const size_t *shape, float std, uint64_t seed)
{
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_tensor *t = NULL;
    CHECK_OK(tt_tensor_randn(&t, ndim, shape, 0.0f, std, &rng));
    return t;
}

static inline tt_tensor *randn(int ndim, const size_t *shape, uint64_t seed)
{
    return randn_std(ndim, shape, 1.0f, seed);
}

/* Distinct values 0.1 apart in a seeded random order, centred on 0: no ties for max
 * or in any pooling window, and gaps wider than the finite-difference steps. */
static inline tt_tensor *distinct(int ndim, const size_t *shape, uint64_t seed)
{
    tt_tensor *t = NULL;
    CHECK_OK(tt_tensor_zeros(&t, ndim, shape));
    if (!t)
        return NULL;
    size_t n = tt_tensor_numel(t);
    float *v = tt_tensor_data(t);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)i;
    tt_rng rng;
    tt_rng_init(&rng, seed);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = tt_rng_below(&rng, (uint32_t)(i + 1));
        float tmp = v[i];
        v[i] = v[j];
        v[j] = tmp;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = 0.1f * (v[i] - (float)n / 2.0f);
    return t;
}

/* The multi-index of element `flat` of a tensor of this shape, in row-major order. */
static inline void unravel(size_t flat, int ndim, const size_t *shape, size_t *idx)
{
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
}

/* Element `flat` (row-major over t's shape) of t, through any strides; NAN and a
 * failure if it cannot be read. */
static inline float value_at(const tt_tensor *t, size_t flat)
{
    size_t idx[TT_MAX_DIMS] = {0};
    float v = NAN;
    unravel(flat, t->ndim, t->shape, idx);
    CHECK_OK(tt_tensor_get(t, idx, &v));
    return v;
}

static inline void free_all(tt_tensor **ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tt_tensor_free(ts[i]);
}

#endif /* TT_TESTS_REFERENCE_HELPERS_H */
