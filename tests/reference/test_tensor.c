/*
 * Tests of module 01 (tensor) against the reference implementation.
 *
 * Values are compared with tests/fixtures/tensor.txt (NumPy, float64 math on the same
 * float32 inputs; see gen_tensor.py). Beyond the values, the tests pin down what the
 * module is about: views share storage (a write through a view is seen by the base and
 * the other way round), storage lives exactly as long as its last view, every op reads
 * non-contiguous and stride-0 inputs in place, 0-D scalars work everywhere, and every
 * documented error leaves *out NULL, names the function and leaks nothing, including
 * when each allocation of an op fails in turn.
 *
 * Matmul is checked against two oracles kept here: the textbook i-j-k loop in float
 * (the reference accumulates every output in ascending k in float, so the results must
 * be bit-identical) and the same loop in double (error bounded by a tolerance growing
 * with sqrt(k)), on odd sizes and on transposed views.
 */
#include "harness.h"
#include "fixtures.h"

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

/* Elementwise float work: see the tolerance tiers in the design. */
#define ATOL 1e-6
#define RTOL 1e-5

static fixtures *FX;

/* A stand-in for "some tensor" that must never be freed: a function that fails must
 * overwrite *out with NULL, so error tests start with *out pointing here. */
static tt_tensor not_a_result;

typedef tt_status (*binary_fn)(tt_tensor **out, tt_tensor *a, tt_tensor *b);

static const struct {
    const char *name;
    binary_fn fn;
    tt_op_id op;
} BINARY[] = {
    {"add", tt_tensor_add, TT_OP_ADD},
    {"sub", tt_tensor_sub, TT_OP_SUB},
    {"mul", tt_tensor_mul, TT_OP_MUL},
    {"div", tt_tensor_div, TT_OP_DIV},
};
#define N_BINARY (sizeof BINARY / sizeof BINARY[0])

typedef tt_status (*reduce_fn)(tt_tensor **out, tt_tensor *t, int axis, bool keepdim);

static const struct {
    const char *name;
    reduce_fn fn;
    tt_op_id op;
} REDUCE[] = {
    {"sum", tt_tensor_sum, TT_OP_SUM},
    {"mean", tt_tensor_mean, TT_OP_MEAN},
    {"max", tt_tensor_max, TT_OP_MAX},
};
#define N_REDUCE (sizeof REDUCE / sizeof REDUCE[0])

/* ---------------------------------------------------------------- helpers */

/* The tensor's values in row-major order, in a malloc'd buffer (NULL on failure). */
static float *values_of(const tt_tensor *t)
{
    size_t n = tt_tensor_numel(t);
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    if (buf && tt_tensor_to_array(t, buf, n) != TT_OK) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static bool shape_is(const tt_tensor *t, int ndim, const size_t *shape)
{
    if (!t || t->ndim != ndim)
        return false;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != shape[d])
            return false;
    return true;
}

/* got must have the fixture's shape and values within atol + rtol * |expected|. */
static void check_matches(const tt_tensor *got, const char *name, double atol, double rtol)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(f != NULL);
    CHECK(got != NULL);
    if (!f || !got)
        return;
    if (!shape_is(got, f->ndim, f->shape)) {
        fprintf(stderr, "%s: %s: got ndim %d, expected ndim %d\n", harness_current, name,
                got->ndim, f->ndim);
        CHECK(shape_is(got, f->ndim, f->shape));
        return;
    }
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

/* a and b have the same shape and bit-identical values (nan equals nan). */
static void check_identical(const tt_tensor *a, const tt_tensor *b)
{
    CHECK(a && b && tt_tensor_same_shape(a, b));
    if (!a || !b || !tt_tensor_same_shape(a, b))
        return;
    float *va = values_of(a), *vb = values_of(b);
    CHECK(va && vb);
    for (size_t i = 0; va && vb && i < tt_tensor_numel(a); i++) {
        if (memcmp(&va[i], &vb[i], sizeof va[i]) != 0 && !(isnan(va[i]) && isnan(vb[i]))) {
            fprintf(stderr, "%s: element %zu: %.9g vs %.9g\n", harness_current, i,
                    (double)va[i], (double)vb[i]);
            harness_current_failed++;
            break;
        }
    }
    free(va);
    free(vb);
}

/* A new contiguous tensor of the shape with values start, start+step, ... */
static tt_tensor *arange(int ndim, const size_t *shape, float start, float step)
{
    tt_tensor *t = NULL;
    if (tt_tensor_zeros(&t, ndim, shape) != TT_OK)
        return NULL;
    float *d = tt_tensor_data(t);
    for (size_t i = 0; i < tt_tensor_numel(t); i++)
        d[i] = start + step * (float)i;
    return t;
}

/* A transposed (non-contiguous) view with the values of `t`, made by transposing a
 * contiguous copy of t's transpose: the caller frees the view only. */
static tt_tensor *noncontiguous_twin(tt_tensor *t, int d0, int d1)
{
    tt_tensor *tp = NULL, *c = NULL, *v = NULL;
    if (tt_tensor_transpose(&tp, t, d0, d1) != TT_OK)
        return NULL;
    if (tt_tensor_copy(&c, tp) == TT_OK)
        tt_tensor_transpose(&v, c, d0, d1);
    tt_tensor_free(tp);
    tt_tensor_free(c); /* v keeps the storage alive */
    return v;
}

/* ------------------------------------------------------------- creation */

static void test_create_shapes_values_and_layout(void)
{
    tt_tensor *z = NULL, *f = NULL, *d = NULL, *s = NULL;
    CHECK_OK(tt_tensor_zeros(&z, 3, TT_SHAPE(2, 3, 4)));
    CHECK_OK(tt_tensor_full(&f, 2, TT_SHAPE(3, 2), -2.5f));
    const float data[6] = {1, 2, 3, 4, 5, 6};
    CHECK_OK(tt_tensor_from_data(&d, 2, TT_SHAPE(2, 3), data));
    CHECK_OK(tt_tensor_scalar(&s, 7.5f));
    if (z && f && d && s) {
        CHECK(shape_is(z, 3, TT_SHAPE(2, 3, 4)));
        CHECK(z->strides[0] == 12 && z->strides[1] == 4 && z->strides[2] == 1);
        CHECK(z->offset == 0 && z->refcount == 1 && z->storage->refcount == 1);
        CHECK(z->storage->size == 24 && tt_tensor_numel(z) == 24);
        CHECK(!z->requires_grad && z->grad == NULL && z->grad_fn == NULL);
        for (size_t i = 0; i < 24; i++)
            CHECK(tt_tensor_data(z)[i] == 0.0f);
        for (size_t i = 0; i < 6; i++) {
            CHECK(tt_tensor_data(f)[i] == -2.5f);
            CHECK(tt_tensor_data(d)[i] == data[i]);
        }
        CHECK(tt_tensor_data(d) != data); /* a copy, not the caller's array */
        CHECK(s->ndim == 0 && tt_tensor_numel(s) == 1 && tt_tensor_is_contiguous(s));
        float v = 0;
        CHECK_OK(tt_tensor_item(s, &v));
        CHECK(v == 7.5f);
        CHECK_OK(tt_tensor_get(s, NULL, &v)); /* a scalar needs no index */
        CHECK(v == 7.5f);
        /* Each tensor owns separate storage blocks. */
        CHECK(z->storage != d->storage && z->storage->data != d->storage->data);
    }
    tt_tensor_free(z);
    tt_tensor_free(f);
    tt_tensor_free(d);
    tt_tensor_free(s);

    /* A 0-D tensor through the shape route: ndim 0 with a NULL shape. */
    tt_tensor *z0 = NULL;
    CHECK_OK(tt_tensor_zeros(&z0, 0, NULL));
    CHECK(z0 && z0->ndim == 0 && tt_tensor_numel(z0) == 1);
    tt_tensor_free(z0);
}

/* randn and uniform draw one value per element, in row-major order, from the given
 * generator: the same seed replays them exactly. */
static void test_random_tensors_follow_the_generator(void)
{
    tt_rng r1, r2;
    tt_rng_init(&r1, 42);
    tt_rng_init(&r2, 42);
    tt_tensor *n = NULL, *u = NULL;
    CHECK_OK(tt_tensor_randn(&n, 2, TT_SHAPE(3, 5), 1.5f, 0.5f, &r1));
    CHECK_OK(tt_tensor_uniform(&u, 3, TT_SHAPE(2, 2, 3), -2.0f, 4.0f, &r1));
    if (n && u) {
        for (size_t i = 0; i < 15; i++) {
            float z = tt_rng_normal(&r2);
            CHECK(tt_tensor_data(n)[i] == 1.5f + 0.5f * z);
        }
        for (size_t i = 0; i < 12; i++) {
            float x = tt_tensor_data(u)[i];
            CHECK(x == -2.0f + 6.0f * tt_rng_uniform(&r2));
            CHECK(x >= -2.0f && x < 4.0f);
        }
    }
    tt_tensor_free(n);
    tt_tensor_free(u);
}

static void test_get_set_item_to_array(void)
{
    tt_tensor *t = arange(3, TT_SHAPE(2, 3, 4), 0.0f, 1.0f);
    CHECK(t != NULL);
    if (!t)
        return;
    float v = -1;
    CHECK_OK(tt_tensor_get(t, TT_SHAPE(1, 2, 3), &v));
    CHECK(v == 23.0f);
    CHECK_OK(tt_tensor_get(t, TT_SHAPE(0, 1, 2), &v));
    CHECK(v == 6.0f);
    CHECK_OK(tt_tensor_set(t, TT_SHAPE(1, 0, 1), -5.0f));
    CHECK(tt_tensor_data(t)[13] == -5.0f);
    float buf[25];
    buf[24] = 99.0f;
    CHECK_OK(tt_tensor_to_array(t, buf, 25)); /* a larger buffer is fine */
    CHECK(buf[13] == -5.0f && buf[23] == 23.0f && buf[24] == 99.0f);

    tt_tensor *one = NULL;
    CHECK_OK(tt_tensor_full(&one, 3, TT_SHAPE(1, 1, 1), 4.0f));
    CHECK_OK(tt_tensor_item(one, &v)); /* any ndim with one element */
    CHECK(v == 4.0f);
    tt_tensor_free(one);
    tt_tensor_free(t);
}

/* -------------------------------------------------------- broadcasting ops */

static void test_elementwise_broadcasting_matches_numpy(void)
{
    const char *cases[] = {"same", "row", "col_row", "lead", "scalar",
                           "cube", "cube_mid", "four", "four_full"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[128];
        snprintf(name, sizeof name, "ew.%s.a", cases[c]);
        tt_tensor *a = fixture_tensor(FX, name);
        snprintf(name, sizeof name, "ew.%s.b", cases[c]);
        tt_tensor *b = fixture_tensor(FX, name);
        snprintf(name, sizeof name, "ew.%s.bdiv", cases[c]);
        tt_tensor *bd = fixture_tensor(FX, name);
        CHECK(a && b && bd);
        for (size_t k = 0; a && b && bd && k < N_BINARY; k++) {
            tt_tensor *o = NULL;
            CHECK_OK(BINARY[k].fn(&o, a, BINARY[k].op == TT_OP_DIV ? bd : b));
            snprintf(name, sizeof name, "ew.%s.%s", cases[c], BINARY[k].name);
            check_matches(o, name, ATOL, RTOL);
            CHECK(o && tt_tensor_is_contiguous(o) && o->storage != a->storage);
            tt_tensor_free(o);
        }
        tt_tensor_free(a);
        tt_tensor_free(b);
        tt_tensor_free(bd);
    }
}

/* Broadcasting is symmetric in shape: b op a has the same shape as a op b, and
 * add/mul give the same values. */
static void test_broadcast_shape_and_symmetry(void)
{
    tt_tensor *a = arange(2, TT_SHAPE(2, 1), 1.0f, 1.0f), *b = arange(2, TT_SHAPE(1, 4), 0.5f, 2.0f);
    CHECK(a && b);
    if (!a || !b)
        return;
    int nd = -1;
    size_t shape[TT_MAX_DIMS] = {0};
    CHECK_OK(tt_broadcast_shape(&nd, shape, a, b));
    CHECK(nd == 2 && shape[0] == 2 && shape[1] == 4);
    tt_tensor *ab = NULL, *ba = NULL;
    CHECK_OK(tt_tensor_add(&ab, a, b));
    CHECK_OK(tt_tensor_add(&ba, b, a));
    check_identical(ab, ba);
    tt_tensor_free(ab);
    tt_tensor_free(ba);

    tt_tensor *s = NULL, *big = NULL;
    CHECK_OK(tt_tensor_scalar(&s, 3.0f));
    CHECK_OK(tt_tensor_zeros(&big, 4, TT_SHAPE(2, 1, 3, 1)));
    CHECK_OK(tt_broadcast_shape(&nd, shape, s, big));
    CHECK(nd == 4 && shape[0] == 2 && shape[1] == 1 && shape[2] == 3 && shape[3] == 1);
    CHECK_OK(tt_broadcast_shape(&nd, shape, s, s)); /* scalar with scalar: a scalar */
    CHECK(nd == 0);
    tt_tensor_free(s);
    tt_tensor_free(big);
    tt_tensor_free(a);
    tt_tensor_free(b);
}

static void test_scalar_ops(void)
{
    tt_tensor *a = fixture_tensor(FX, "scalar.a"), *o = NULL;
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK_OK(tt_tensor_add_scalar(&o, a, 1.25f));
    check_matches(o, "scalar.add", ATOL, RTOL);
    tt_tensor_free(o);
    o = NULL;
    CHECK_OK(tt_tensor_mul_scalar(&o, a, -0.75f));
    check_matches(o, "scalar.mul", ATOL, RTOL);
    tt_tensor_free(o);
    o = NULL;

    /* On a 0-D tensor the result is 0-D. */
    tt_tensor *s = NULL;
    CHECK_OK(tt_tensor_scalar(&s, 2.0f));
    CHECK_OK(tt_tensor_mul_scalar(&o, s, 4.0f));
    CHECK(o && o->ndim == 0 && tt_tensor_data(o)[0] == 8.0f);
    tt_tensor_free(o);
    tt_tensor_free(s);
    tt_tensor_free(a);
}

/* IEEE-754 division: x/0 is +-inf, 0/0 is nan, and neither is an error. */
static void test_division_by_zero_follows_ieee(void)
{
    tt_tensor *a = NULL, *z = NULL, *o = NULL;
    CHECK_OK(tt_tensor_from_data(&a, 1, TT_SHAPE(3), ((const float[]){1.0f, -1.0f, 0.0f})));
    CHECK_OK(tt_tensor_scalar(&z, 0.0f));
    CHECK_OK(tt_tensor_div(&o, a, z));
    if (o) {
        CHECK(isinf(tt_tensor_data(o)[0]) && tt_tensor_data(o)[0] > 0);
        CHECK(isinf(tt_tensor_data(o)[1]) && tt_tensor_data(o)[1] < 0);
        CHECK(isnan(tt_tensor_data(o)[2]));
    }
    tt_tensor_free(o);
    tt_tensor_free(z);
    tt_tensor_free(a);
}

/* An input whose strides are 0 (one row of storage seen as three rows) is read in
 * place by every kind of op. */
static void test_stride0_inputs(void)
{
    tt_tensor *row = arange(1, TT_SHAPE(4), 1.0f, 1.0f), *rep = NULL;
    CHECK(row != NULL);
    if (!row)
        return;
    /* A [3,4] view of the 4 floats: every row is the same storage. */
    CHECK_OK(tt_tensor_reshape(&rep, row, 2, (const ptrdiff_t[]){1, 4}));
    if (!rep) {
        tt_tensor_free(row);
        return;
    }
    rep->shape[0] = 3;
    rep->strides[0] = 0;
    CHECK(!tt_tensor_is_contiguous(rep));

    tt_tensor *full = NULL;
    CHECK_OK(tt_tensor_zeros(&full, 2, TT_SHAPE(3, 4)));
    for (size_t i = 0; full && i < 12; i++)
        tt_tensor_data(full)[i] = (float)(i % 4 + 1);

    tt_tensor *o1 = NULL, *o2 = NULL;
    for (size_t k = 0; full && k < N_BINARY; k++) {
        CHECK_OK(BINARY[k].fn(&o1, rep, full));
        CHECK_OK(BINARY[k].fn(&o2, full, full));
        check_identical(o1, o2);
        tt_tensor_free(o1);
        tt_tensor_free(o2);
        o1 = o2 = NULL;
    }
    CHECK_OK(tt_tensor_sum(&o1, rep, 0, false));
    CHECK_OK(tt_tensor_sum(&o2, full, 0, false));
    check_identical(o1, o2);
    tt_tensor_free(o1);
    tt_tensor_free(o2);
    o1 = o2 = NULL;
    CHECK_OK(tt_tensor_copy(&o1, rep));
    check_identical(o1, full);
    CHECK(o1 && o1->storage->size == 12);
    tt_tensor_free(o1);
    o1 = NULL;
    tt_tensor *w = NULL;
    CHECK_OK(tt_tensor_from_data(&w, 2, TT_SHAPE(4, 2), ((const float[]){1, 0, 0, 1, 2, 2, -1, 3})));
    CHECK_OK(tt_tensor_matmul(&o1, rep, w));
    CHECK_OK(tt_tensor_matmul(&o2, full, w));
    check_identical(o1, o2);
    tt_tensor_free(o1);
    tt_tensor_free(o2);
    tt_tensor_free(w);

    /* Writing through a stride-0 view writes the one shared row. */
    CHECK_OK(tt_tensor_set(rep, TT_SHAPE(2, 1), 50.0f));
    CHECK(tt_tensor_data(row)[1] == 50.0f);

    tt_tensor_free(full);
    tt_tensor_free(rep);
    tt_tensor_free(row);
}

/* --------------------------------------------------------------- matmul */

static void test_matmul_matches_numpy(void)
{
    const char *cases[] = {"2d", "vec", "batch3", "3x2", "batch4", "4x2"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[128];
        snprintf(name, sizeof name, "mm.%s.a", cases[c]);
        tt_tensor *a = fixture_tensor(FX, name);
        snprintf(name, sizeof name, "mm.%s.b", cases[c]);
        tt_tensor *b = fixture_tensor(FX, name), *o = NULL;
        CHECK(a && b);
        if (a && b)
            CHECK_OK(tt_tensor_matmul(&o, a, b));
        snprintf(name, sizeof name, "mm.%s.out", cases[c]);
        /* k <= 6 here: the float result is within a few ulps of float64's. */
        check_matches(o, name, 1e-5, 1e-5);
        tt_tensor_free(o);
        tt_tensor_free(a);
        tt_tensor_free(b);
    }
}

/* The oracles: C = A B for contiguous row-major A [m,k], B [k,n], textbook order. */
static void naive_matmul_float(size_t m, size_t n, size_t k, const float *a, const float *b,
                               float *c)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (size_t p = 0; p < k; p++)
                acc = acc + a[i * k + p] * b[p * n + j];
            c[i * n + j] = acc;
        }
}

static void naive_matmul_double(size_t m, size_t n, size_t k, const float *a, const float *b,
                                double *c, double *abs_sum)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double acc = 0.0, mag = 0.0;
            for (size_t p = 0; p < k; p++) {
                acc += (double)a[i * k + p] * b[p * n + j];
                mag += fabs((double)a[i * k + p] * b[p * n + j]);
            }
            c[i * n + j] = acc;
            abs_sum[i * n + j] = mag;
        }
}

/* Multiply seeded random [m,k] x [k,n] (optionally read through transposed views) and
 * compare with both oracles. */
static void check_matmul_size(size_t m, size_t k, size_t n, bool transpose_a, bool transpose_b,
                              uint64_t seed)
{
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_tensor *a = NULL, *b = NULL, *av = NULL, *bv = NULL, *o = NULL;
    CHECK_OK(tt_tensor_randn(&a, 2, TT_SHAPE(m, k), 0.0f, 1.0f, &rng));
    CHECK_OK(tt_tensor_randn(&b, 2, TT_SHAPE(k, n), 0.0f, 1.0f, &rng));
    float *ca = malloc(m * n * sizeof *ca);
    double *cd = malloc(m * n * sizeof *cd), *mag = malloc(m * n * sizeof *mag);
    if (!a || !b || !ca || !cd || !mag) {
        CHECK(!"setup failed");
        goto cleanup;
    }
    av = transpose_a ? noncontiguous_twin(a, 0, 1) : tt_tensor_retain(a);
    bv = transpose_b ? noncontiguous_twin(b, 0, 1) : tt_tensor_retain(b);
    CHECK(av && bv);
    if (!av || !bv)
        goto cleanup;
    CHECK(transpose_a == !tt_tensor_is_contiguous(av) || m == 1 || k == 1);
    CHECK_OK(tt_tensor_matmul(&o, av, bv));
    CHECK(shape_is(o, 2, TT_SHAPE(m, n)));
    if (!shape_is(o, 2, TT_SHAPE(m, n)))
        goto cleanup;
    naive_matmul_float(m, n, k, tt_tensor_data(a), tt_tensor_data(b), ca);
    naive_matmul_double(m, n, k, tt_tensor_data(a), tt_tensor_data(b), cd, mag);
    const float *got = tt_tensor_data(o);
    size_t bad = 0;
    for (size_t i = 0; i < m * n; i++) {
        /* Bit-identical to the float oracle: same products, same order, no FMA. */
        bool same = memcmp(&got[i], &ca[i], sizeof got[i]) == 0;
        /* And close to the exact value: float rounding of k terms. */
        double tol = 2.0 * sqrt((double)k) * 6e-8 * mag[i] + 1e-30;
        bool close = fabs((double)got[i] - cd[i]) <= tol;
        if ((!same || !close) && bad++ == 0)
            fprintf(stderr, "%s: matmul %zux%zux%zu (T %d %d) [%zu] = %.9g, float oracle %.9g, "
                            "exact %.9g\n",
                    harness_current, m, k, n, transpose_a, transpose_b, i, (double)got[i],
                    (double)ca[i], cd[i]);
    }
    CHECK(bad == 0);
cleanup:
    free(ca);
    free(cd);
    free(mag);
    tt_tensor_free(o);
    tt_tensor_free(av);
    tt_tensor_free(bv);
    tt_tensor_free(a);
    tt_tensor_free(b);
}

static void test_matmul_odd_sizes_against_oracles(void)
{
    static const size_t sizes[][3] = {
        {1, 1, 1},   {1, 7, 1},    {7, 1, 7},    {7, 7, 7},    {33, 33, 33},
        {65, 65, 65}, {3, 65, 1},  {1, 33, 129}, {129, 257, 31}, {17, 300, 257},
        {200, 19, 70}, {129, 260, 257},
        {9, 5, 2100},  /* more columns than one packed block of B */
        {10, 600, 9},  /* three blocks along k: each continues the previous sums */
    };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        check_matmul_size(sizes[s][0], sizes[s][1], sizes[s][2], false, false, 100 + s);
}

static void test_matmul_transposed_inputs_against_oracles(void)
{
    static const size_t sizes[][3] = {{7, 5, 3}, {33, 65, 17}, {65, 129, 70}, {129, 257, 33}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        check_matmul_size(sizes[s][0], sizes[s][1], sizes[s][2], true, false, 200 + s);
        check_matmul_size(sizes[s][0], sizes[s][1], sizes[s][2], false, true, 300 + s);
        check_matmul_size(sizes[s][0], sizes[s][1], sizes[s][2], true, true, 400 + s);
    }
}

/* Batched forms are the 2-D product per batch entry; a non-contiguous batch (a
 * transposed 3-D view) too. */
static void test_matmul_batched_equals_per_entry(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 7);
    tt_tensor *a = NULL, *b = NULL, *b2 = NULL, *o = NULL, *o2 = NULL, *at = NULL;
    CHECK_OK(tt_tensor_randn(&a, 3, TT_SHAPE(3, 9, 13), 0.0f, 1.0f, &rng));
    CHECK_OK(tt_tensor_randn(&b, 3, TT_SHAPE(3, 13, 11), 0.0f, 1.0f, &rng));
    CHECK_OK(tt_tensor_randn(&b2, 2, TT_SHAPE(13, 11), 0.0f, 1.0f, &rng));
    if (!a || !b || !b2)
        goto cleanup;
    CHECK_OK(tt_tensor_matmul(&o, a, b));
    CHECK_OK(tt_tensor_matmul(&o2, a, b2));
    /* a seen as [9,3,13] then transposed back: same values, non-contiguous batch. */
    at = noncontiguous_twin(a, 0, 1);
    CHECK(at && !tt_tensor_is_contiguous(at));
    for (size_t e = 0; o && o2 && e < 3; e++) {
        tt_tensor *ae = NULL, *be = NULL, *a2 = NULL, *b2d = NULL, *pe = NULL, *pe2 = NULL;
        tt_tensor *oe = NULL, *oe2 = NULL;
        CHECK_OK(tt_tensor_slice(&ae, a, 0, e, e + 1));
        CHECK_OK(tt_tensor_slice(&be, b, 0, e, e + 1));
        CHECK_OK(tt_tensor_reshape(&a2, ae, 2, (const ptrdiff_t[]){9, 13}));
        CHECK_OK(tt_tensor_reshape(&b2d, be, 2, (const ptrdiff_t[]){13, 11}));
        CHECK_OK(tt_tensor_matmul(&pe, a2, b2d));
        CHECK_OK(tt_tensor_matmul(&pe2, a2, b2));
        CHECK_OK(tt_tensor_slice(&oe, o, 0, e, e + 1));
        CHECK_OK(tt_tensor_slice(&oe2, o2, 0, e, e + 1));
        if (pe && pe2 && oe && oe2) {
            float *x = values_of(oe), *y = values_of(oe2);
            for (size_t i = 0; x && y && i < 99; i++) {
                CHECK(x[i] == tt_tensor_data(pe)[i]);
                CHECK(y[i] == tt_tensor_data(pe2)[i]);
            }
            free(x);
            free(y);
        }
        tt_tensor_free(ae);
        tt_tensor_free(be);
        tt_tensor_free(a2);
        tt_tensor_free(b2d);
        tt_tensor_free(pe);
        tt_tensor_free(pe2);
        tt_tensor_free(oe);
        tt_tensor_free(oe2);
    }
    if (at && o) {
        tt_tensor *ot = NULL;
        CHECK_OK(tt_tensor_matmul(&ot, at, b));
        check_identical(ot, o);
        tt_tensor_free(ot);
    }
cleanup:
    tt_tensor_free(at);
    tt_tensor_free(a);
    tt_tensor_free(b);
    tt_tensor_free(b2);
    tt_tensor_free(o);
    tt_tensor_free(o2);
}

/* A contiguous batch times a shared b is computed as one tall product; a size-1
 * dimension may carry any stride, which must not leak into that product. Large enough
 * for the packed path; compared with the per-entry products bit for bit. */
static void test_matmul_folded_batch(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 9);
    tt_tensor *base = NULL, *a = NULL, *b = NULL, *o = NULL;
    CHECK_OK(tt_tensor_randn(&base, 3, TT_SHAPE(1, 3, 40), 0.0f, 1.0f, &rng));
    CHECK_OK(tt_tensor_randn(&b, 2, TT_SHAPE(40, 300), 0.0f, 1.0f, &rng));
    if (base)
        CHECK_OK(tt_tensor_transpose(&a, base, 0, 1)); /* [3,1,40], strides [40,120,1] */
    CHECK(a && tt_tensor_is_contiguous(a) && a->strides[1] == 120);
    if (a && b)
        CHECK_OK(tt_tensor_matmul(&o, a, b));
    CHECK(shape_is(o, 3, TT_SHAPE(3, 1, 300)));
    for (size_t e = 0; o && e < 3; e++) {
        tt_tensor *row = NULL, *pe = NULL;
        CHECK_OK(tt_tensor_slice(&row, base, 1, e, e + 1)); /* [1,1,40] */
        tt_tensor *row2 = NULL;
        if (row)
            CHECK_OK(tt_tensor_reshape(&row2, row, 2, (const ptrdiff_t[]){1, 40}));
        if (row2)
            CHECK_OK(tt_tensor_matmul(&pe, row2, b));
        for (size_t j = 0; pe && j < 300; j++)
            CHECK(tt_tensor_data(o)[e * 300 + j] == tt_tensor_data(pe)[j]);
        tt_tensor_free(row);
        tt_tensor_free(row2);
        tt_tensor_free(pe);
    }
    tt_tensor_free(o);
    o = NULL;
    /* A non-contiguous batch on the packed path: [2,70,60] seen through a transpose. */
    tt_tensor *big = NULL, *bt = NULL, *bc = NULL, *w = NULL, *o2 = NULL;
    CHECK_OK(tt_tensor_randn(&big, 3, TT_SHAPE(70, 2, 60), 0.0f, 1.0f, &rng));
    CHECK_OK(tt_tensor_randn(&w, 2, TT_SHAPE(60, 50), 0.0f, 1.0f, &rng));
    if (big)
        CHECK_OK(tt_tensor_transpose(&bt, big, 0, 1));
    if (bt)
        CHECK_OK(tt_tensor_copy(&bc, bt));
    if (bt && bc && w) {
        CHECK(!tt_tensor_is_contiguous(bt));
        CHECK_OK(tt_tensor_matmul(&o, bt, w));
        CHECK_OK(tt_tensor_matmul(&o2, bc, w));
        check_identical(o, o2);
    }
    tt_tensor_free(o);
    tt_tensor_free(o2);
    tt_tensor_free(w);
    tt_tensor_free(bc);
    tt_tensor_free(bt);
    tt_tensor_free(big);
    tt_tensor_free(a);
    tt_tensor_free(b);
    tt_tensor_free(base);
}

/* ----------------------------------------------------------- reductions */

static void test_reductions_every_axis_and_keepdim(void)
{
    static const struct {
        const char *x;
        int ndim;
    } inputs[] = {{"x3", 3}, {"x4", 4}, {"x1", 1}};
    for (size_t x = 0; x < 3; x++) {
        char name[128];
        snprintf(name, sizeof name, "red.%s", inputs[x].x);
        tt_tensor *t = fixture_tensor(FX, name);
        CHECK(t != NULL);
        for (int axis = -inputs[x].ndim; t && axis < inputs[x].ndim; axis++) {
            int ax = axis < 0 ? axis + inputs[x].ndim : axis;
            for (int keep = 0; keep < 2; keep++)
                for (size_t r = 0; r < N_REDUCE; r++) {
                    tt_tensor *o = NULL;
                    CHECK_OK(REDUCE[r].fn(&o, t, axis, keep));
                    snprintf(name, sizeof name, "red.%s.%s.%d.%s", inputs[x].x, REDUCE[r].name,
                             ax, keep ? "keep" : "drop");
                    /* At most 3 terms per output: float error is a few ulps. */
                    check_matches(o, name, 1e-6, 1e-6);
                    tt_tensor_free(o);
                }
        }
        snprintf(name, sizeof name, "red.%s.sum_all", inputs[x].x);
        tt_tensor *o = NULL;
        if (t)
            CHECK_OK(tt_tensor_sum_all(&o, t));
        check_matches(o, name, 1e-5, 1e-5);
        CHECK(o && o->ndim == 0);
        tt_tensor_free(o);
        o = NULL;
        snprintf(name, sizeof name, "red.%s.mean_all", inputs[x].x);
        if (t)
            CHECK_OK(tt_tensor_mean_all(&o, t));
        check_matches(o, name, 1e-6, 1e-5);
        tt_tensor_free(o);
        tt_tensor_free(t);
    }
}

/* Reducing a 1-D tensor without keepdim gives a 0-D scalar; reductions of a scalar
 * (sum_all) give the scalar itself. */
static void test_reductions_of_small_ranks(void)
{
    tt_tensor *v = arange(1, TT_SHAPE(4), 1.0f, 1.0f), *o = NULL;
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_OK(tt_tensor_sum(&o, v, 0, false));
    CHECK(o && o->ndim == 0 && tt_tensor_data(o)[0] == 10.0f);
    tt_tensor_free(o);
    o = NULL;
    CHECK_OK(tt_tensor_max(&o, v, -1, true));
    CHECK(o && shape_is(o, 1, TT_SHAPE(1)) && tt_tensor_data(o)[0] == 4.0f);
    tt_tensor_free(o);
    o = NULL;
    tt_tensor *s = NULL;
    CHECK_OK(tt_tensor_scalar(&s, -3.0f));
    CHECK_OK(tt_tensor_mean_all(&o, s));
    CHECK(o && o->ndim == 0 && tt_tensor_data(o)[0] == -3.0f);
    tt_tensor_free(o);
    tt_tensor_free(s);
    tt_tensor_free(v);
}

/* max and argmax with nan: the first nan wins, as in NumPy. */
static void test_max_propagates_nan(void)
{
    tt_tensor *t = NULL, *m = NULL, *i = NULL;
    CHECK_OK(tt_tensor_from_data(&t, 1, TT_SHAPE(4), ((const float[]){1.0f, NAN, 5.0f, NAN})));
    CHECK_OK(tt_tensor_max(&m, t, 0, false));
    CHECK_OK(tt_tensor_argmax(&i, t, 0, false));
    CHECK(m && isnan(tt_tensor_data(m)[0]));
    CHECK(i && tt_tensor_data(i)[0] == 1.0f);
    tt_tensor_free(t);
    tt_tensor_free(m);
    tt_tensor_free(i);
}

static void test_argmax_first_of_ties(void)
{
    tt_tensor *t = fixture_tensor(FX, "argmax.x");
    CHECK(t != NULL);
    for (int axis = -3; t && axis < 3; axis++)
        for (int keep = 0; keep < 2; keep++) {
            tt_tensor *o = NULL;
            CHECK_OK(tt_tensor_argmax(&o, t, axis, keep));
            char name[64];
            snprintf(name, sizeof name, "argmax.%d.%s", axis < 0 ? axis + 3 : axis,
                     keep ? "keep" : "drop");
            check_matches(o, name, 0.0, 0.0); /* indices are exact */
            tt_tensor_free(o);
        }
    tt_tensor_free(t);
}

/* ---------------------------------------------------------------- views */

static void test_views_match_numpy(void)
{
    tt_tensor *x = fixture_tensor(FX, "view.x"), *t02 = NULL, *t12 = NULL, *s = NULL;
    tt_tensor *sl = NULL, *r = NULL;
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK_OK(tt_tensor_transpose(&t02, x, 0, 2));
    check_matches(t02, "view.t02", 0.0, 0.0);
    CHECK_OK(tt_tensor_transpose(&t12, x, -1, 1));
    if (t12)
        CHECK_OK(tt_tensor_slice(&s, t12, 1, 1, 3));
    check_matches(s, "view.t12_slice", 0.0, 0.0);
    CHECK_OK(tt_tensor_slice(&sl, x, -1, 1, 3));
    if (sl)
        CHECK_OK(tt_tensor_reshape(&r, sl, 2, (const ptrdiff_t[]){-1, 3}));
    check_matches(r, "view.slice_reshape", 0.0, 0.0);
    /* The slice was not contiguous, so reshape copied it: r has its own storage. */
    CHECK(r && r->storage != x->storage && tt_tensor_is_contiguous(r));
    tt_tensor_free(t02);
    tt_tensor_free(t12);
    tt_tensor_free(s);
    tt_tensor_free(sl);
    tt_tensor_free(r);
    tt_tensor_free(x);
}

/* Writes through a view reach the base and the other views, and the other way round. */
static void test_views_share_storage(void)
{
    tt_tensor *x = arange(2, TT_SHAPE(3, 4), 0.0f, 1.0f);
    tt_tensor *t = NULL, *s = NULL, *r = NULL;
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK_OK(tt_tensor_transpose(&t, x, 0, 1));
    CHECK_OK(tt_tensor_slice(&s, x, 1, 1, 3));
    CHECK_OK(tt_tensor_reshape(&r, x, 3, (const ptrdiff_t[]){2, -1, 2}));
    if (!t || !s || !r)
        goto cleanup;
    CHECK(t->storage == x->storage && s->storage == x->storage && r->storage == x->storage);
    CHECK(x->storage->refcount == 4);
    CHECK(shape_is(t, 2, TT_SHAPE(4, 3)) && shape_is(s, 2, TT_SHAPE(3, 2)));
    CHECK(shape_is(r, 3, TT_SHAPE(2, 3, 2)));

    float v = 0;
    /* transpose [j,i] is x[i,j] */
    CHECK_OK(tt_tensor_set(t, TT_SHAPE(3, 1), 100.0f));
    CHECK_OK(tt_tensor_get(x, TT_SHAPE(1, 3), &v));
    CHECK(v == 100.0f);
    /* slice [i, j] is x[i, j+1] */
    CHECK_OK(tt_tensor_set(s, TT_SHAPE(2, 0), 200.0f));
    CHECK_OK(tt_tensor_get(x, TT_SHAPE(2, 1), &v));
    CHECK(v == 200.0f);
    /* reshape [a,b,c] is flat element a*6 + b*2 + c */
    CHECK_OK(tt_tensor_set(r, TT_SHAPE(0, 2, 1), 300.0f));
    CHECK_OK(tt_tensor_get(x, TT_SHAPE(1, 1), &v));
    CHECK(v == 300.0f);
    /* base -> views */
    CHECK_OK(tt_tensor_set(x, TT_SHAPE(0, 2), -1.0f));
    CHECK_OK(tt_tensor_get(t, TT_SHAPE(2, 0), &v));
    CHECK(v == -1.0f);
    CHECK_OK(tt_tensor_get(s, TT_SHAPE(0, 1), &v));
    CHECK(v == -1.0f);
    CHECK_OK(tt_tensor_get(r, TT_SHAPE(0, 1, 0), &v));
    CHECK(v == -1.0f);
    /* fill through a slice touches only the slice */
    CHECK_OK(tt_tensor_fill(s, 9.0f));
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 4; j++) {
            CHECK_OK(tt_tensor_get(x, TT_SHAPE(i, j), &v));
            CHECK((j == 1 || j == 2) ? v == 9.0f : v != 9.0f);
        }
    /* copy is not a view */
    tt_tensor *c = NULL;
    CHECK_OK(tt_tensor_copy(&c, t));
    if (c) {
        CHECK(c->storage != x->storage && tt_tensor_is_contiguous(c));
        CHECK_OK(tt_tensor_set(c, TT_SHAPE(0, 0), 55.0f));
        CHECK_OK(tt_tensor_get(x, TT_SHAPE(0, 0), &v));
        CHECK(v == 0.0f);
    }
    tt_tensor_free(c);
cleanup:
    tt_tensor_free(t);
    tt_tensor_free(s);
    tt_tensor_free(r);
    tt_tensor_free(x);
}

/* The storage outlives the base while a view holds it, and goes with the last view;
 * retain/free count holders of a tensor. */
static void test_refcounts(void)
{
    size_t live0 = tt_alloc_live();
    tt_tensor *x = arange(2, TT_SHAPE(2, 3), 0.0f, 1.0f), *v = NULL;
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK(tt_alloc_live() == live0 + 3); /* header, storage, data */
    CHECK_OK(tt_tensor_slice(&v, x, 0, 1, 2));
    CHECK(tt_alloc_live() == live0 + 4); /* a view is one header */
    tt_storage *st = x->storage;
    tt_tensor_free(x);
    CHECK(tt_alloc_live() == live0 + 3);
    if (v) {
        CHECK(st->refcount == 1 && v->storage == st);
        float val = 0;
        CHECK_OK(tt_tensor_get(v, TT_SHAPE(0, 2), &val));
        CHECK(val == 5.0f);
    }
    CHECK(tt_tensor_retain(v) == v);
    CHECK(v && v->refcount == 2);
    tt_tensor_free(v);
    CHECK(tt_alloc_live() == live0 + 3);
    tt_tensor_free(v);
    CHECK(tt_alloc_live() == live0);
    tt_tensor_free(NULL);
    CHECK(tt_tensor_retain(NULL) == NULL);
}

static void test_contiguity(void)
{
    tt_tensor *x = arange(3, TT_SHAPE(2, 3, 4), 0.0f, 1.0f), *v = NULL;
    CHECK(x && tt_tensor_is_contiguous(x));
    if (!x)
        return;
    CHECK_OK(tt_tensor_transpose(&v, x, 1, 2));
    CHECK(v && !tt_tensor_is_contiguous(v));
    tt_tensor_free(v);
    v = NULL;
    CHECK_OK(tt_tensor_transpose(&v, x, 1, 1)); /* swapping a dim with itself */
    CHECK(v && tt_tensor_is_contiguous(v) && tt_tensor_same_shape(v, x));
    tt_tensor_free(v);
    v = NULL;
    CHECK_OK(tt_tensor_slice(&v, x, 0, 1, 2)); /* a block of whole rows */
    CHECK(v && tt_tensor_is_contiguous(v) && v->offset == 12);
    tt_tensor_free(v);
    v = NULL;
    CHECK_OK(tt_tensor_slice(&v, x, 2, 0, 3)); /* gaps at the end of each row */
    CHECK(v && !tt_tensor_is_contiguous(v));
    tt_tensor_free(v);
    v = NULL;
    /* Size-1 dimensions may have any stride. */
    tt_tensor *y = NULL;
    CHECK_OK(tt_tensor_zeros(&y, 3, TT_SHAPE(3, 1, 4)));
    CHECK_OK(tt_tensor_transpose(&v, y, 0, 1)); /* [1,3,4], strides [4,4,1] */
    CHECK(v && tt_tensor_is_contiguous(v));
    tt_tensor_free(v);
    tt_tensor_free(y);

    /* tt_tensor_contiguous: t itself (retained) or a new copy. */
    tt_tensor *c = NULL, *t = NULL;
    CHECK_OK(tt_tensor_contiguous(&c, x));
    CHECK(c == x && x->refcount == 2);
    tt_tensor_free(c);
    c = NULL;
    CHECK_OK(tt_tensor_transpose(&t, x, 0, 2));
    CHECK_OK(tt_tensor_contiguous(&c, t));
    CHECK(c && c != t && c->storage != x->storage && tt_tensor_is_contiguous(c));
    check_identical(c, t);
    tt_tensor_free(c);
    tt_tensor_free(t);
    tt_tensor_free(x);
}

static void test_reshape_inference_and_scalars(void)
{
    tt_tensor *x = arange(2, TT_SHAPE(4, 6), 0.0f, 1.0f), *r = NULL;
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK_OK(tt_tensor_reshape(&r, x, 3, (const ptrdiff_t[]){2, -1, 4}));
    CHECK(shape_is(r, 3, TT_SHAPE(2, 3, 4)) && r && r->storage == x->storage);
    tt_tensor_free(r);
    r = NULL;
    CHECK_OK(tt_tensor_reshape(&r, x, 1, (const ptrdiff_t[]){-1}));
    CHECK(shape_is(r, 1, TT_SHAPE(24)));
    tt_tensor_free(r);
    r = NULL;
    CHECK_OK(tt_tensor_reshape(&r, x, 4, (const ptrdiff_t[]){1, 24, 1, 1}));
    CHECK(shape_is(r, 4, TT_SHAPE(1, 24, 1, 1)));
    tt_tensor_free(r);
    r = NULL;
    /* A one-element tensor reshapes to 0-D and back. */
    tt_tensor *one = NULL, *s = NULL, *back = NULL;
    CHECK_OK(tt_tensor_full(&one, 2, TT_SHAPE(1, 1), 3.0f));
    CHECK_OK(tt_tensor_reshape(&s, one, 0, NULL));
    CHECK(s && s->ndim == 0 && tt_tensor_data(s)[0] == 3.0f);
    if (s)
        CHECK_OK(tt_tensor_reshape(&back, s, 1, (const ptrdiff_t[]){-1}));
    CHECK(shape_is(back, 1, TT_SHAPE(1)));
    tt_tensor_free(back);
    tt_tensor_free(s);
    tt_tensor_free(one);
    /* A slice taken from the start of dimension 0 is contiguous: still a view, offset kept. */
    tt_tensor *sl = NULL;
    CHECK_OK(tt_tensor_slice(&sl, x, 0, 2, 4));
    if (sl)
        CHECK_OK(tt_tensor_reshape(&r, sl, 1, (const ptrdiff_t[]){12}));
    CHECK(r && r->storage == x->storage && r->offset == 12 && tt_tensor_data(r)[0] == 12.0f);
    tt_tensor_free(r);
    tt_tensor_free(sl);
    tt_tensor_free(x);
}

/* assign copies values into any view, also when source and destination overlap. */
static void test_fill_and_assign(void)
{
    tt_tensor *x = arange(2, TT_SHAPE(3, 3), 0.0f, 1.0f), *t = NULL, *src = NULL, *col = NULL;
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK_OK(tt_tensor_transpose(&t, x, 0, 1));
    CHECK_OK(tt_tensor_assign(x, t)); /* x = x^T in place */
    for (size_t i = 0; i < 9; i++)
        CHECK(tt_tensor_data(x)[i] == (float)((i % 3) * 3 + i / 3));
    /* Into a column (a strided view) from a contiguous source. */
    CHECK_OK(tt_tensor_from_data(&src, 2, TT_SHAPE(3, 1), ((const float[]){-1, -2, -3})));
    CHECK_OK(tt_tensor_slice(&col, x, 1, 2, 3));
    CHECK_OK(tt_tensor_assign(col, src));
    CHECK(tt_tensor_data(x)[2] == -1.0f && tt_tensor_data(x)[5] == -2.0f &&
          tt_tensor_data(x)[8] == -3.0f && tt_tensor_data(x)[4] == 4.0f);
    /* Fill a 0-D tensor and a full tensor. */
    tt_tensor *s = NULL;
    CHECK_OK(tt_tensor_scalar(&s, 1.0f));
    CHECK_OK(tt_tensor_fill(s, 6.0f));
    CHECK(s && tt_tensor_data(s)[0] == 6.0f);
    CHECK_OK(tt_tensor_fill(t, 0.5f));
    for (size_t i = 0; i < 9; i++)
        CHECK(tt_tensor_data(x)[i] == 0.5f);
    tt_tensor_free(s);
    tt_tensor_free(col);
    tt_tensor_free(src);
    tt_tensor_free(t);
    tt_tensor_free(x);
}

/* Every op on a non-contiguous view equals the op on a contiguous copy, bit for bit. */
static void test_noncontiguous_inputs_to_every_op(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 11);
    tt_tensor *base = NULL, *v = NULL, *c = NULL, *o1 = NULL, *o2 = NULL, *other = NULL;
    CHECK_OK(tt_tensor_randn(&base, 3, TT_SHAPE(4, 3, 5), 0.0f, 1.0f, &rng));
    if (!base)
        return;
    /* v: [5,3,4] transposed, then sliced to [5,2,4]: neither dense nor row-major. */
    tt_tensor *t = NULL;
    CHECK_OK(tt_tensor_transpose(&t, base, 0, 2));
    if (t)
        CHECK_OK(tt_tensor_slice(&v, t, 1, 1, 3));
    tt_tensor_free(t);
    if (!v)
        goto cleanup;
    CHECK(!tt_tensor_is_contiguous(v));
    CHECK_OK(tt_tensor_copy(&c, v));
    CHECK_OK(tt_tensor_randn(&other, 2, TT_SHAPE(2, 4), 1.0f, 1.0f, &rng));
    if (!c || !other)
        goto cleanup;
#define SAME(CALL_V, CALL_C)                                                                  \
    do {                                                                                      \
        CHECK_OK(CALL_V);                                                                     \
        CHECK_OK(CALL_C);                                                                     \
        check_identical(o1, o2);                                                              \
        tt_tensor_free(o1);                                                                   \
        tt_tensor_free(o2);                                                                   \
        o1 = o2 = NULL;                                                                       \
    } while (0)
    for (size_t k = 0; k < N_BINARY; k++) {
        SAME(BINARY[k].fn(&o1, v, other), BINARY[k].fn(&o2, c, other));
        SAME(BINARY[k].fn(&o1, other, v), BINARY[k].fn(&o2, other, c));
        SAME(BINARY[k].fn(&o1, v, v), BINARY[k].fn(&o2, c, c));
    }
    SAME(tt_tensor_add_scalar(&o1, v, 2.0f), tt_tensor_add_scalar(&o2, c, 2.0f));
    SAME(tt_tensor_mul_scalar(&o1, v, 2.0f), tt_tensor_mul_scalar(&o2, c, 2.0f));
    for (int axis = 0; axis < 3; axis++)
        for (size_t r = 0; r < N_REDUCE; r++)
            SAME(REDUCE[r].fn(&o1, v, axis, axis == 1), REDUCE[r].fn(&o2, c, axis, axis == 1));
    SAME(tt_tensor_argmax(&o1, v, 2, false), tt_tensor_argmax(&o2, c, 2, false));
    SAME(tt_tensor_sum_all(&o1, v), tt_tensor_sum_all(&o2, c));
    SAME(tt_tensor_mean_all(&o1, v), tt_tensor_mean_all(&o2, c));
    SAME(tt_tensor_copy(&o1, v), tt_tensor_copy(&o2, c));
    SAME(tt_tensor_contiguous(&o1, v), tt_tensor_contiguous(&o2, c));
    SAME(tt_tensor_reshape(&o1, v, 2, (const ptrdiff_t[]){-1, 8}),
         tt_tensor_reshape(&o2, c, 2, (const ptrdiff_t[]){-1, 8}));
    /* matmul: [5,2,4] x [4,2] and batched [5,2,4] x [5,4,2] (a transposed view of b) */
    tt_tensor *w = NULL, *bb = NULL, *bt = NULL;
    CHECK_OK(tt_tensor_transpose(&w, other, 0, 1));
    SAME(tt_tensor_matmul(&o1, v, w), tt_tensor_matmul(&o2, c, w));
    CHECK_OK(tt_tensor_randn(&bb, 3, TT_SHAPE(5, 2, 4), 0.0f, 1.0f, &rng));
    if (bb)
        CHECK_OK(tt_tensor_transpose(&bt, bb, 1, 2));
    if (bt)
        SAME(tt_tensor_matmul(&o1, v, bt), tt_tensor_matmul(&o2, c, bt));
#undef SAME
    /* to_array and assign read through the view too. */
    float *vv = values_of(v), *cv = values_of(c);
    CHECK(vv && cv && memcmp(vv, cv, 40 * sizeof *vv) == 0);
    free(vv);
    free(cv);
    tt_tensor_free(w);
    tt_tensor_free(bb);
    tt_tensor_free(bt);
cleanup:
    tt_tensor_free(other);
    tt_tensor_free(c);
    tt_tensor_free(v);
    tt_tensor_free(base);
}

static void test_ops_on_noncontiguous_match_numpy(void)
{
    tt_tensor *m = fixture_tensor(FX, "view.m"), *b = fixture_tensor(FX, "view.b");
    tt_tensor *row = fixture_tensor(FX, "view.row"), *mt = NULL, *s = NULL, *o = NULL;
    CHECK(m && b && row);
    if (m && b && row)
        CHECK_OK(tt_tensor_transpose(&mt, m, 0, 1));
    if (mt)
        CHECK_OK(tt_tensor_slice(&s, mt, 0, 1, 4));
    if (s)
        CHECK_OK(tt_tensor_matmul(&o, s, b));
    check_matches(o, "view.mT_slice_mm", 1e-5, 1e-5);
    tt_tensor_free(o);
    o = NULL;
    if (mt)
        CHECK_OK(tt_tensor_add(&o, mt, row));
    check_matches(o, "view.mT_add_row", ATOL, RTOL);
    tt_tensor_free(o);
    o = NULL;
    if (mt)
        CHECK_OK(tt_tensor_sum(&o, mt, 1, false));
    check_matches(o, "view.mT_sum1", 1e-5, 1e-5);
    tt_tensor_free(o);
    tt_tensor_free(s);
    tt_tensor_free(mt);
    tt_tensor_free(m);
    tt_tensor_free(b);
    tt_tensor_free(row);
}

/* ------------------------------------------------------------- recording */

/* With an input that requires a gradient, each op records its node with the op and
 * the documented args; argmax and contiguous never record; nothing records without. */
static void test_ops_record_themselves(void)
{
    tt_tensor *x = arange(2, TT_SHAPE(2, 3), 1.0f, 1.0f), *y = arange(1, TT_SHAPE(3), 1.0f, 1.0f);
    tt_tensor *o = NULL;
    CHECK(x && y);
    if (!x || !y)
        goto cleanup;
    CHECK_OK(tt_tensor_add(&o, x, y));
    CHECK(o && o->grad_fn == NULL && !o->requires_grad);
    tt_tensor_free(o);
    o = NULL;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));

#define RECORDED(CALL, OP, NIN)                                                               \
    do {                                                                                      \
        CHECK_OK(CALL);                                                                       \
        CHECK(o && o->requires_grad && o->grad_fn);                                           \
        if (o && o->grad_fn) {                                                                \
            CHECK(o->grad_fn->op == &tt_ops[OP]);                                             \
            CHECK(o->grad_fn->n_inputs == (NIN) && o->grad_fn->inputs[0] == x);               \
        }                                                                                     \
    } while (0)
    for (size_t k = 0; k < N_BINARY; k++) {
        RECORDED(BINARY[k].fn(&o, x, y), BINARY[k].op, 2);
        CHECK(o && o->grad_fn && o->grad_fn->inputs[1] == y);
        tt_tensor_free(o);
        o = NULL;
    }
    RECORDED(tt_tensor_add_scalar(&o, x, 1.5f), TT_OP_ADD_SCALAR, 1);
    CHECK(o && o->grad_fn && o->grad_fn->args.f[0] == 1.5f);
    tt_tensor_free(o);
    o = NULL;
    RECORDED(tt_tensor_mul_scalar(&o, x, -2.0f), TT_OP_MUL_SCALAR, 1);
    CHECK(o && o->grad_fn && o->grad_fn->args.f[0] == -2.0f);
    tt_tensor_free(o);
    o = NULL;
    for (size_t r = 0; r < N_REDUCE; r++)
        for (int keep = 0; keep < 2; keep++) {
            RECORDED(REDUCE[r].fn(&o, x, -1, keep), REDUCE[r].op, 1);
            CHECK(o && o->grad_fn && o->grad_fn->args.i[0] == 1 && o->grad_fn->args.i[1] == keep);
            tt_tensor_free(o);
            o = NULL;
        }
    RECORDED(tt_tensor_sum_all(&o, x), TT_OP_SUM_ALL, 1);
    tt_tensor_free(o);
    o = NULL;
    RECORDED(tt_tensor_mean_all(&o, x), TT_OP_MEAN_ALL, 1);
    tt_tensor_free(o);
    o = NULL;
    RECORDED(tt_tensor_copy(&o, x), TT_OP_COPY, 1);
    tt_tensor_free(o);
    o = NULL;
    RECORDED(tt_tensor_reshape(&o, x, 1, (const ptrdiff_t[]){-1}), TT_OP_RESHAPE, 1);
    tt_tensor_free(o);
    o = NULL;
    RECORDED(tt_tensor_transpose(&o, x, -1, 0), TT_OP_TRANSPOSE, 1);
    CHECK(o && o->grad_fn && o->grad_fn->args.i[0] == 1 && o->grad_fn->args.i[1] == 0);
    tt_tensor_free(o);
    o = NULL;
    RECORDED(tt_tensor_slice(&o, x, -1, 1, 3), TT_OP_SLICE, 1);
    CHECK(o && o->grad_fn && o->grad_fn->args.i[0] == 1 && o->grad_fn->args.i[1] == 1 &&
          o->grad_fn->args.i[2] == 3);
    tt_tensor_free(o);
    o = NULL;
    tt_tensor *w = NULL;
    CHECK_OK(tt_tensor_zeros(&w, 2, TT_SHAPE(3, 2)));
    RECORDED(tt_tensor_matmul(&o, x, w), TT_OP_MATMUL, 2);
    tt_tensor_free(o);
    o = NULL;
    tt_tensor_free(w);
#undef RECORDED
    CHECK_OK(tt_tensor_argmax(&o, x, 1, false));
    CHECK(o && o->grad_fn == NULL && !o->requires_grad);
    tt_tensor_free(o);
    o = NULL;
    CHECK_OK(tt_tensor_contiguous(&o, x));
    CHECK(o == x && x->grad_fn == NULL); /* retained, not recorded */
    tt_tensor_free(o);
cleanup:
    tt_tensor_free(x);
    tt_tensor_free(y);
}

/* --------------------------------------------------------------- errors */

static void test_create_errors(void)
{
    tt_tensor *t = &not_a_result;
    tt_rng rng;
    tt_rng_init(&rng, 1);
    CHECK_STATUS(tt_tensor_zeros(NULL, 1, TT_SHAPE(3)), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_tensor_zeros");
    CHECK_STATUS(tt_tensor_zeros(&t, 5, TT_SHAPE(1, 1, 1, 1, 1)), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("ndim");
    CHECK(t == NULL);
    t = &not_a_result;
    CHECK_STATUS(tt_tensor_zeros(&t, -1, NULL), TT_ERR_INVALID_ARG);
    CHECK(t == NULL);
    t = &not_a_result;
    CHECK_STATUS(tt_tensor_full(&t, 3, TT_SHAPE(2, 0, 3), 1.0f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_tensor_full");
    CHECK_ERROR_MENTIONS("[2,0,3]");
    CHECK(t == NULL);
    t = &not_a_result;
    CHECK_STATUS(tt_tensor_zeros(&t, 2, NULL), TT_ERR_INVALID_ARG);
    CHECK(t == NULL);
    t = &not_a_result;
    CHECK_STATUS(tt_tensor_from_data(&t, 1, TT_SHAPE(2), NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_tensor_from_data");
    CHECK(t == NULL);
    t = &not_a_result;
    CHECK_STATUS(tt_tensor_randn(&t, 1, TT_SHAPE(2), 0.0f, 1.0f, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("rng");
    CHECK(t == NULL);
    t = &not_a_result;
    CHECK_STATUS(tt_tensor_uniform(&t, 1, TT_SHAPE(0), 0.0f, 1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK(t == NULL);
    t = &not_a_result;
    CHECK_STATUS(tt_tensor_scalar(NULL, 1.0f), TT_ERR_INVALID_ARG);
    /* Too many elements to address: refused before any allocation. */
    size_t huge = (size_t)1 << 40;
    CHECK_STATUS(tt_tensor_zeros(&t, 2, TT_SHAPE(huge, huge)), TT_ERR_NOMEM);
    CHECK(t == NULL);
}

static void test_access_errors(void)
{
    tt_tensor *x = arange(2, TT_SHAPE(2, 3), 0.0f, 1.0f);
    CHECK(x != NULL);
    if (!x)
        return;
    float v = 0, buf[5];
    CHECK_STATUS(tt_tensor_get(x, TT_SHAPE(2, 0), &v), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("tt_tensor_get");
    CHECK_ERROR_MENTIONS("[2,3]");
    CHECK_STATUS(tt_tensor_set(x, TT_SHAPE(0, 3), 1.0f), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("tt_tensor_set");
    CHECK_STATUS(tt_tensor_get(x, NULL, &v), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_tensor_get(NULL, TT_SHAPE(0, 0), &v), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_tensor_get(x, TT_SHAPE(0, 0), NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_tensor_item(x, &v), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("tt_tensor_item");
    CHECK_STATUS(tt_tensor_to_array(x, buf, 5), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_tensor_to_array");
    CHECK_STATUS(tt_tensor_to_array(x, NULL, 6), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_tensor_fill(NULL, 1.0f), TT_ERR_INVALID_ARG);
    tt_tensor *c = &not_a_result;
    CHECK_STATUS(tt_tensor_contiguous(&c, NULL), TT_ERR_INVALID_ARG);
    CHECK(c == NULL);
    CHECK_STATUS(tt_tensor_contiguous(NULL, x), TT_ERR_INVALID_ARG);
    c = &not_a_result;
    CHECK_STATUS(tt_tensor_copy(&c, NULL), TT_ERR_INVALID_ARG);
    CHECK(c == NULL);
    CHECK_STATUS(tt_tensor_copy(NULL, x), TT_ERR_INVALID_ARG);
    CHECK(tt_tensor_numel(NULL) == 0 && !tt_tensor_is_contiguous(NULL));
    CHECK(!tt_tensor_same_shape(x, NULL));
    tt_tensor_free(x);
}

static void test_shape_mismatch_errors(void)
{
    tt_tensor *a = NULL, *b2 = NULL, *b45 = NULL, *v = NULL, *o = &not_a_result;
    CHECK_OK(tt_tensor_zeros(&a, 2, TT_SHAPE(2, 3)));
    CHECK_OK(tt_tensor_zeros(&b2, 1, TT_SHAPE(2)));
    CHECK_OK(tt_tensor_zeros(&b45, 2, TT_SHAPE(4, 5)));
    CHECK_OK(tt_tensor_zeros(&v, 1, TT_SHAPE(3)));
    if (!a || !b2 || !b45 || !v)
        goto cleanup;
    for (size_t k = 0; k < N_BINARY; k++) {
        o = &not_a_result;
        CHECK_STATUS(BINARY[k].fn(&o, a, b2), TT_ERR_SHAPE);
        CHECK(o == NULL);
        char want[96];
        snprintf(want, sizeof want, "tt_tensor_%s: shapes [2,3] and [2] cannot be broadcast",
                 BINARY[k].name);
        CHECK_ERROR_MENTIONS(want);
        CHECK_STATUS(BINARY[k].fn(NULL, a, a), TT_ERR_INVALID_ARG);
        o = &not_a_result;
        CHECK_STATUS(BINARY[k].fn(&o, a, NULL), TT_ERR_INVALID_ARG);
        CHECK(o == NULL);
    }
    int nd = 0;
    size_t shape[TT_MAX_DIMS];
    CHECK_STATUS(tt_broadcast_shape(&nd, shape, b45, a), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("[4,5] and [2,3]");
    CHECK_STATUS(tt_broadcast_shape(NULL, shape, a, a), TT_ERR_INVALID_ARG);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_add_scalar(&o, NULL, 1.0f), TT_ERR_INVALID_ARG);
    CHECK(o == NULL);
    CHECK_STATUS(tt_tensor_mul_scalar(NULL, a, 1.0f), TT_ERR_INVALID_ARG);

    tt_tensor *a3 = NULL, *b3 = NULL;
    CHECK_OK(tt_tensor_zeros(&a3, 3, TT_SHAPE(2, 2, 3)));
    CHECK_OK(tt_tensor_zeros(&b3, 3, TT_SHAPE(3, 3, 4)));
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_matmul(&o, a, b45), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("tt_tensor_matmul: inner dimensions differ: a is [2,3], b is [4,5]");
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_matmul(&o, a3, b3), TT_ERR_SHAPE); /* batch 2 vs 3 */
    CHECK_ERROR_MENTIONS("batch");
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_matmul(&o, a, b3), TT_ERR_SHAPE); /* 2-D a, 3-D b */
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_matmul(&o, v, a), TT_ERR_SHAPE); /* 1-D */
    CHECK_ERROR_MENTIONS("[3]");
    CHECK(o == NULL);
    CHECK_STATUS(tt_tensor_matmul(NULL, a, a), TT_ERR_INVALID_ARG);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_matmul(&o, NULL, a), TT_ERR_INVALID_ARG);
    CHECK(o == NULL);
    CHECK_STATUS(tt_tensor_assign(a, b45), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("tt_tensor_assign");
    CHECK_STATUS(tt_tensor_assign(NULL, a), TT_ERR_INVALID_ARG);
    tt_tensor_free(a3);
    tt_tensor_free(b3);
cleanup:
    tt_tensor_free(a);
    tt_tensor_free(b2);
    tt_tensor_free(b45);
    tt_tensor_free(v);
}

static void test_axis_errors(void)
{
    tt_tensor *x = NULL, *s = NULL, *o = &not_a_result;
    CHECK_OK(tt_tensor_zeros(&x, 3, TT_SHAPE(2, 3, 4)));
    CHECK_OK(tt_tensor_scalar(&s, 1.0f));
    if (!x || !s)
        goto cleanup;
    const int bad[] = {3, -4, 100};
    for (size_t b = 0; b < 3; b++) {
        for (size_t r = 0; r < N_REDUCE; r++) {
            o = &not_a_result;
            CHECK_STATUS(REDUCE[r].fn(&o, x, bad[b], false), TT_ERR_INVALID_ARG);
            CHECK_ERROR_MENTIONS(REDUCE[r].name);
            CHECK_ERROR_MENTIONS("[2,3,4]");
            CHECK(o == NULL);
        }
        o = &not_a_result;
        CHECK_STATUS(tt_tensor_argmax(&o, x, bad[b], true), TT_ERR_INVALID_ARG);
        CHECK(o == NULL);
        o = &not_a_result;
        CHECK_STATUS(tt_tensor_transpose(&o, x, 0, bad[b]), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("tt_tensor_transpose");
        CHECK(o == NULL);
        o = &not_a_result;
        CHECK_STATUS(tt_tensor_slice(&o, x, bad[b], 0, 1), TT_ERR_INVALID_ARG);
        CHECK(o == NULL);
    }
    /* A scalar has no axis at all. */
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_sum(&o, s, 0, false), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("[]");
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_transpose(&o, s, 0, 0), TT_ERR_INVALID_ARG);
    CHECK(o == NULL);
    for (size_t r = 0; r < N_REDUCE; r++) {
        CHECK_STATUS(REDUCE[r].fn(NULL, x, 0, false), TT_ERR_INVALID_ARG);
        o = &not_a_result;
        CHECK_STATUS(REDUCE[r].fn(&o, NULL, 0, false), TT_ERR_INVALID_ARG);
        CHECK(o == NULL);
    }
    CHECK_STATUS(tt_tensor_sum_all(NULL, x), TT_ERR_INVALID_ARG);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_mean_all(&o, NULL), TT_ERR_INVALID_ARG);
    CHECK(o == NULL);
cleanup:
    tt_tensor_free(x);
    tt_tensor_free(s);
}

static void test_slice_range_errors(void)
{
    tt_tensor *x = NULL, *o = &not_a_result;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(3, 4)));
    if (!x)
        return;
    static const size_t ranges[][2] = {{2, 2}, {3, 1}, {0, 5}, {4, 4}, {5, 6}};
    for (size_t r = 0; r < 5; r++) {
        o = &not_a_result;
        CHECK_STATUS(tt_tensor_slice(&o, x, 1, ranges[r][0], ranges[r][1]), TT_ERR_RANGE);
        CHECK_ERROR_MENTIONS("tt_tensor_slice");
        CHECK(o == NULL);
    }
    o = NULL;
    CHECK_OK(tt_tensor_slice(&o, x, 1, 0, 4)); /* the whole dimension is fine */
    tt_tensor_free(o);
    CHECK_STATUS(tt_tensor_slice(NULL, x, 0, 0, 1), TT_ERR_INVALID_ARG);
    tt_tensor_free(x);
}

static void test_reshape_errors(void)
{
    tt_tensor *x = NULL, *o = &not_a_result;
    CHECK_OK(tt_tensor_zeros(&x, 2, TT_SHAPE(4, 6)));
    if (!x)
        return;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 2, (const ptrdiff_t[]){-1, -1}), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("-1");
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 2, (const ptrdiff_t[]){5, 5}), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("tt_tensor_reshape");
    CHECK_ERROR_MENTIONS("[4,6]");
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 2, (const ptrdiff_t[]){5, -1}), TT_ERR_SHAPE);
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 2, (const ptrdiff_t[]){48, -1}), TT_ERR_SHAPE);
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 2, (const ptrdiff_t[]){0, 24}), TT_ERR_INVALID_ARG);
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 2, (const ptrdiff_t[]){-2, -12}), TT_ERR_INVALID_ARG);
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 5, (const ptrdiff_t[]){1, 1, 1, 4, 6}),
                 TT_ERR_INVALID_ARG);
    CHECK(o == NULL);
    o = &not_a_result;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 0, NULL), TT_ERR_SHAPE); /* 24 elements into [] */
    CHECK(o == NULL);
    o = &not_a_result;
    /* Huge sizes whose product overflows size_t must not slip through. */
    ptrdiff_t big = (ptrdiff_t)1 << 40;
    CHECK_STATUS(tt_tensor_reshape(&o, x, 3, (const ptrdiff_t[]){big, big, 24}), TT_ERR_SHAPE);
    CHECK(o == NULL);
    CHECK_STATUS(tt_tensor_reshape(NULL, x, 1, (const ptrdiff_t[]){-1}), TT_ERR_INVALID_ARG);
    tt_tensor_free(x);
}

/* Make every allocation of `op` fail in turn: each failure must be TT_ERR_NOMEM with a
 * message, *out NULL, nothing leaked and the inputs untouched; then the op succeeds. */
typedef tt_status (*op_thunk)(tt_tensor **out, tt_tensor *x, tt_tensor *y);

static tt_status op_zeros(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)x, (void)y;
    return tt_tensor_zeros(out, 3, TT_SHAPE(2, 3, 4));
}
static tt_status op_from_data(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_from_data(out, x->ndim, x->shape, tt_tensor_data(x));
}
static tt_status op_add(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    return tt_tensor_add(out, x, y);
}
static tt_status op_mul_scalar(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_mul_scalar(out, x, 3.0f);
}
static tt_status op_matmul(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    *out = NULL; /* a composite: failing early must still clear *out */
    (void)y;
    tt_tensor *xt = NULL;
    tt_status st = tt_tensor_transpose(&xt, x, 0, 1);
    if (st == TT_OK)
        st = tt_tensor_matmul(out, x, xt);
    tt_tensor_free(xt);
    return st;
}
static tt_status op_big_matmul(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    *out = NULL; /* a composite: failing early must still clear *out */
    (void)x, (void)y;
    tt_tensor *a = NULL, *b = NULL;
    tt_status st = tt_tensor_full(&a, 2, TT_SHAPE(70, 300), 0.5f);
    if (st == TT_OK)
        st = tt_tensor_full(&b, 2, TT_SHAPE(300, 90), 0.25f);
    if (st == TT_OK)
        st = tt_tensor_matmul(out, a, b);
    tt_tensor_free(a);
    tt_tensor_free(b);
    return st;
}
static tt_status op_sum(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_sum(out, x, 0, true);
}
static tt_status op_max(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_max(out, x, -1, false);
}
static tt_status op_mean_all(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_mean_all(out, x);
}
static tt_status op_argmax(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_argmax(out, x, 1, false);
}
static tt_status op_copy(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_copy(out, x);
}
static tt_status op_transpose(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_transpose(out, x, 0, 1);
}
static tt_status op_slice(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    (void)y;
    return tt_tensor_slice(out, x, 1, 1, 2);
}
/* reshape of a non-contiguous view: a copy, then a view of it */
static tt_status op_reshape_copy(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    *out = NULL; /* a composite: failing early must still clear *out */
    (void)y;
    tt_tensor *xt = NULL;
    tt_status st = tt_tensor_transpose(&xt, x, 0, 1);
    if (st == TT_OK)
        st = tt_tensor_reshape(out, xt, 1, (const ptrdiff_t[]){-1});
    tt_tensor_free(xt);
    return st;
}
static tt_status op_contiguous(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    *out = NULL; /* a composite: failing early must still clear *out */
    (void)y;
    tt_tensor *xt = NULL;
    tt_status st = tt_tensor_transpose(&xt, x, 0, 1);
    if (st == TT_OK)
        st = tt_tensor_contiguous(out, xt);
    tt_tensor_free(xt);
    return st;
}
/* assign with overlapping source and destination needs a scratch copy; x is square */
static tt_status op_assign_overlap(tt_tensor **out, tt_tensor *x, tt_tensor *y)
{
    *out = NULL; /* a composite: failing early must still clear *out */
    (void)y;
    tt_tensor *c = NULL, *ct = NULL;
    tt_status st = tt_tensor_copy(&c, x);
    if (st == TT_OK)
        st = tt_tensor_transpose(&ct, c, 0, 1);
    if (st == TT_OK)
        st = tt_tensor_assign(c, ct);
    tt_tensor_free(ct);
    if (st == TT_OK)
        *out = c;
    else
        tt_tensor_free(c);
    return st;
}

static void check_allocation_failures(const char *name, op_thunk op, tt_tensor *x, tt_tensor *y)
{
    float before[9];
    CHECK_OK(tt_tensor_to_array(x, before, 9));
    size_t live = tt_alloc_live();
    int failures = 0;
    for (long n = 0; n < 64; n++) {
        tt_tensor *out = &not_a_result;
        tt_error_clear();
        tt_alloc_fail_after(n);
        tt_status st = op(&out, x, y);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(out != NULL && out != &not_a_result);
            tt_tensor_free(out);
            break;
        }
        failures++;
        if (st != TT_ERR_NOMEM || out != NULL || tt_alloc_live() != live ||
            strstr(tt_error_last(), "memory") == NULL) {
            fprintf(stderr, "%s: %s with allocation %ld failing: %s, out %s, %zu leaked, \"%s\"\n",
                    harness_current, name, n, tt_status_name(st), out ? "not NULL" : "NULL",
                    tt_alloc_live() - live, tt_error_last());
            harness_current_failed++;
            if (out && out != &not_a_result)
                tt_tensor_free(out);
        }
    }
    CHECK(failures > 0); /* every op here allocates */
    CHECK(tt_alloc_live() == live);
    float after[9];
    CHECK_OK(tt_tensor_to_array(x, after, 9));
    CHECK(memcmp(before, after, sizeof before) == 0);
}

static void test_allocation_failures(void)
{
    static const struct {
        const char *name;
        op_thunk op;
    } ops[] = {
        {"zeros", op_zeros},         {"from_data", op_from_data},
        {"add", op_add},             {"mul_scalar", op_mul_scalar},
        {"matmul", op_matmul},       {"big matmul", op_big_matmul},
        {"sum", op_sum},             {"max", op_max},
        {"mean_all", op_mean_all},   {"argmax", op_argmax},
        {"copy", op_copy},           {"transpose", op_transpose},
        {"slice", op_slice},         {"reshape of a view", op_reshape_copy},
        {"contiguous", op_contiguous}, {"assign overlapping", op_assign_overlap},
    };
    tt_tensor *x = arange(2, TT_SHAPE(3, 3), 1.0f, 0.5f), *y = arange(1, TT_SHAPE(3), 2.0f, 1.0f);
    CHECK(x && y);
    for (size_t k = 0; x && y && k < sizeof ops / sizeof ops[0]; k++)
        check_allocation_failures(ops[k].name, ops[k].op, x, y);
    /* Again with an input that requires a gradient: recording allocates too, and a
     * failed record must free the result it was given. */
    if (x && y && tt_tensor_set_requires_grad(x, true) == TT_OK) {
        for (size_t k = 2; k < sizeof ops / sizeof ops[0]; k++)
            if (ops[k].op != op_argmax && ops[k].op != op_big_matmul)
                check_allocation_failures(ops[k].name, ops[k].op, x, y);
    }
    tt_tensor_free(x);
    tt_tensor_free(y);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("tensor");
    if (!FX) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_create_shapes_values_and_layout);
    RUN(test_random_tensors_follow_the_generator);
    RUN(test_get_set_item_to_array);
    RUN(test_elementwise_broadcasting_matches_numpy);
    RUN(test_broadcast_shape_and_symmetry);
    RUN(test_scalar_ops);
    RUN(test_division_by_zero_follows_ieee);
    RUN(test_stride0_inputs);
    RUN(test_matmul_matches_numpy);
    RUN(test_matmul_odd_sizes_against_oracles);
    RUN(test_matmul_transposed_inputs_against_oracles);
    RUN(test_matmul_batched_equals_per_entry);
    RUN(test_matmul_folded_batch);
    RUN(test_reductions_every_axis_and_keepdim);
    RUN(test_reductions_of_small_ranks);
    RUN(test_max_propagates_nan);
    RUN(test_argmax_first_of_ties);
    RUN(test_views_match_numpy);
    RUN(test_views_share_storage);
    RUN(test_refcounts);
    RUN(test_contiguity);
    RUN(test_reshape_inference_and_scalars);
    RUN(test_fill_and_assign);
    RUN(test_noncontiguous_inputs_to_every_op);
    RUN(test_ops_on_noncontiguous_match_numpy);
    RUN(test_ops_record_themselves);
    RUN(test_create_errors);
    RUN(test_access_errors);
    RUN(test_shape_mismatch_errors);
    RUN(test_axis_errors);
    RUN(test_slice_range_errors);
    RUN(test_reshape_errors);
    RUN(test_allocation_failures);
    fixtures_free(FX);
    return harness_summary();
}
