/*
 * Module 01: the tensor (contract in tinytorch/tensor.h, guide in
 * docs/modules/01_tensor.md).
 *
 * A fresh tensor is three allocations: the tensor header, the storage header and the
 * storage's float array (its own tt_malloc block, so Valgrind reports an overrun per
 * tensor). A view is one more header pointing at the same storage with its own shape,
 * strides and offset; the storage counts its views and is freed with the last one.
 *
 * Kernels walk their inputs through the strides, so any view (a transpose, a slice, a
 * broadcast with stride 0) is read in place, without a copy; results are new
 * contiguous tensors. A shape can be handled as if it had exactly TT_MAX_DIMS
 * dimensions, padded in front with dimensions of size 1 and stride 0: one loop nest
 * then serves every rank.
 *
 * Every op that makes a new tensor ends in record_result() (given: keep it), which
 * records the op for autograd (module 05) and hands the result to the caller.
 */
#include "tinytorch/tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tinytorch/autograd.h"

/* ------------------------------------------------------------------ scaffolding */

/* "[2,3,4]" (or "[]" for a scalar), returned by value so that one error message can
 * format two shapes: shape_str(a->ndim, a->shape).s */
typedef struct shape_text {
    char s[96]; /* 4 dims of up to 20 digits, 3 commas and the brackets fit */
} shape_text;

static shape_text shape_str(int ndim, const size_t *shape)
{
    shape_text text;
    size_t used = 1;
    text.s[0] = '[';
    text.s[1] = '\0';
    for (int d = 0; d < ndim && d < TT_MAX_DIMS; d++) {
        int n = snprintf(text.s + used, sizeof text.s - used, d ? ",%zu" : "%zu", shape[d]);
        if (n < 0 || (size_t)n >= sizeof text.s - used)
            return text;
        used += (size_t)n;
    }
    snprintf(text.s + used, sizeof text.s - used, "]");
    return text;
}

/* The end of every op that makes a new tensor: record it for autograd (which does
 * nothing unless an input requires a gradient) and give `result` to the caller.
 * If recording fails, `result` is freed and *out stays NULL. */
static tt_status record_result(tt_tensor **out, tt_tensor *result, tt_op_id op, int n_inputs,
                               tt_tensor *const *inputs, const tt_node_args *args)
{
    tt_status st = tt_autograd_record(result, &tt_ops[op], n_inputs, inputs, args, NULL);
    if (st != TT_OK) {
        tt_tensor_free(result);
        return st;
    }
    *out = result;
    return TT_OK;
}

/* ------------------------------------------------------------ internal helpers */

/* Your own helpers go here: static, without the tt_ prefix. Ones that pay off: make
 * a new contiguous tensor after checking the shape, make a view header sharing a
 * storage, turn a negative axis into a non-negative one, walk a tensor's elements
 * through its strides. */

/* BEGIN SOLUTION: */
#define OUT_NULL_MSG "%s: out is NULL (expected the address of a tt_tensor * for the result)"

/* Row-major strides of a contiguous tensor of this shape. */
static void contiguous_strides(int ndim, const size_t *shape, ptrdiff_t *strides)
{
    ptrdiff_t step = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = step;
        step *= (ptrdiff_t)shape[d];
    }
}

/* t's shape and strides as exactly TT_MAX_DIMS dimensions: leading ones of size 1. */
static void pad_dims(const tt_tensor *t, size_t shape[TT_MAX_DIMS], ptrdiff_t strides[TT_MAX_DIMS])
{
    int lead = TT_MAX_DIMS - t->ndim;
    for (int d = 0; d < TT_MAX_DIMS; d++) {
        shape[d] = d < lead ? 1 : t->shape[d - lead];
        strides[d] = d < lead ? 0 : t->strides[d - lead];
    }
}

/* Check a shape for a new tensor; on success *numel is its element count. */
static tt_status check_shape(const char *fn, int ndim, const size_t *shape, size_t *numel)
{
    if (ndim < 0 || ndim > TT_MAX_DIMS)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: ndim is %d, expected 0 to %d", fn, ndim,
                            TT_MAX_DIMS);
    if (ndim > 0 && !shape)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: shape is NULL for ndim %d", fn, ndim);
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0)
            return tt_error_set(TT_ERR_INVALID_ARG,
                                "%s: dimension %d of shape %s is 0, expected sizes >= 1", fn, d,
                                shape_str(ndim, shape).s);
        /* Stay well inside ptrdiff_t so strides and byte counts cannot overflow. */
        if (n > (size_t)PTRDIFF_MAX / sizeof(float) / shape[d])
            return tt_error_set(TT_ERR_NOMEM, "%s: shape %s has too many elements", fn,
                                shape_str(ndim, shape).s);
        n *= shape[d];
    }
    *numel = n;
    return TT_OK;
}

/* A new contiguous tensor with its own storage; zeroed when `zero`. Checks the shape
 * and names `fn` in errors. */
static tt_status tensor_new(const char *fn, tt_tensor **out, int ndim, const size_t *shape,
                            bool zero)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, fn);
    *out = NULL;
    size_t numel = 0;
    tt_status st = check_shape(fn, ndim, shape, &numel);
    if (st != TT_OK)
        return st;

    tt_tensor *t = tt_calloc(1, sizeof *t);
    tt_storage *s = tt_calloc(1, sizeof *s);
    float *data = zero ? tt_calloc(numel, sizeof *data) : tt_malloc(numel * sizeof *data);
    if (!t || !s || !data) {
        tt_free(t);
        tt_free(s);
        tt_free(data);
        return tt_error_set(TT_ERR_NOMEM, "%s: out of memory for a tensor of shape %s", fn,
                            shape_str(ndim, shape).s);
    }
    s->data = data;
    s->size = numel;
    s->refcount = 1;
    t->storage = s;
    t->offset = 0;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->shape[d] = shape[d];
    contiguous_strides(ndim, shape, t->strides);
    t->refcount = 1;
    *out = t;
    return TT_OK;
}

/* A new header viewing base's storage with base's shape, strides and offset; the
 * caller then edits the geometry. No autograd state is copied. */
static tt_status view_new(const char *fn, tt_tensor **out, const tt_tensor *base)
{
    tt_tensor *v = tt_calloc(1, sizeof *v);
    if (!v)
        return tt_error_set(TT_ERR_NOMEM, "%s: out of memory for a view", fn);
    v->storage = base->storage;
    v->storage->refcount++;
    v->offset = base->offset;
    v->ndim = base->ndim;
    memcpy(v->shape, base->shape, sizeof v->shape);
    memcpy(v->strides, base->strides, sizeof v->strides);
    v->refcount = 1;
    *out = v;
    return TT_OK;
}

/* Map a possibly negative axis into [0, ndim). */
static tt_status normalize_axis(const char *fn, const char *what, const tt_tensor *t, int axis,
                                int *result)
{
    if (axis < -t->ndim || axis >= t->ndim) {
        if (t->ndim == 0)
            return tt_error_set(TT_ERR_INVALID_ARG,
                                "%s: %s %d is out of range: a scalar (shape []) has no axes", fn,
                                what, axis);
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "%s: %s %d is out of range for shape %s (expected %d to %d)", fn,
                            what, axis, shape_str(t->ndim, t->shape).s, -t->ndim, t->ndim - 1);
    }
    *result = axis < 0 ? axis + t->ndim : axis;
    return TT_OK;
}

/* dst[i] = src[i] over a 4-D index space, both walked through their own strides. */
static void strided_copy(float *dst, const ptrdiff_t ds[TT_MAX_DIMS], const float *src,
                         const ptrdiff_t ss[TT_MAX_DIMS], const size_t shape[TT_MAX_DIMS])
{
    for (size_t i0 = 0; i0 < shape[0]; i0++)
        for (size_t i1 = 0; i1 < shape[1]; i1++)
            for (size_t i2 = 0; i2 < shape[2]; i2++) {
                float *d = dst + (ptrdiff_t)i0 * ds[0] + (ptrdiff_t)i1 * ds[1] +
                           (ptrdiff_t)i2 * ds[2];
                const float *s = src + (ptrdiff_t)i0 * ss[0] + (ptrdiff_t)i1 * ss[1] +
                                 (ptrdiff_t)i2 * ss[2];
                if (ds[3] == 1 && ss[3] == 1) {
                    memcpy(d, s, shape[3] * sizeof *d);
                } else {
                    for (size_t j = 0; j < shape[3]; j++)
                        d[(ptrdiff_t)j * ds[3]] = s[(ptrdiff_t)j * ss[3]];
                }
            }
}

/* Copy t's elements in row-major order into the contiguous array dst. */
static void gather(float *dst, const tt_tensor *t)
{
    size_t shape[TT_MAX_DIMS];
    ptrdiff_t ss[TT_MAX_DIMS], ds[TT_MAX_DIMS];
    pad_dims(t, shape, ss);
    contiguous_strides(TT_MAX_DIMS, shape, ds);
    strided_copy(dst, ds, tt_tensor_data(t), ss, shape);
}

/* --------------------------------------------------------- elementwise kernels */

enum ew_op { EW_ADD, EW_SUB, EW_MUL, EW_DIV };

/* One output row: o[j] = a[j*sa] op b[j*sb]. The unit-stride and stride-0 cases get
 * their own loops so that the compiler vectorizes them. */
#define EW_ROW(NAME, EXPR)                                                                  \
    static void NAME(size_t n, const float *a, ptrdiff_t sa, const float *b, ptrdiff_t sb,  \
                     float *o)                                                              \
    {                                                                                       \
        if (sa == 1 && sb == 1) {                                                           \
            for (size_t j = 0; j < n; j++) {                                                \
                float x = a[j], y = b[j];                                                   \
                o[j] = EXPR;                                                                \
            }                                                                               \
        } else if (sa == 1 && sb == 0) {                                                    \
            float y = b[0];                                                                 \
            for (size_t j = 0; j < n; j++) {                                                \
                float x = a[j];                                                             \
                o[j] = EXPR;                                                                \
            }                                                                               \
        } else if (sa == 0 && sb == 1) {                                                    \
            float x = a[0];                                                                 \
            for (size_t j = 0; j < n; j++) {                                                \
                float y = b[j];                                                             \
                o[j] = EXPR;                                                                \
            }                                                                               \
        } else {                                                                            \
            for (size_t j = 0; j < n; j++) {                                                \
                float x = a[(ptrdiff_t)j * sa], y = b[(ptrdiff_t)j * sb];                   \
                o[j] = EXPR;                                                                \
            }                                                                               \
        }                                                                                   \
    }

EW_ROW(row_add, x + y)
EW_ROW(row_sub, x - y)
EW_ROW(row_mul, x * y)
EW_ROW(row_div, x / y)
#undef EW_ROW

typedef void (*ew_row_fn)(size_t, const float *, ptrdiff_t, const float *, ptrdiff_t, float *);

/* The broadcast shape of a and b (aligned at the last dimension). */
static tt_status broadcast_shapes(const char *fn, int *ndim, size_t *shape, const tt_tensor *a,
                                  const tt_tensor *b)
{
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int d = 0; d < nd; d++) {
        int pa = d - (nd - a->ndim), pb = d - (nd - b->ndim);
        size_t sa = pa < 0 ? 1 : a->shape[pa];
        size_t sb = pb < 0 ? 1 : b->shape[pb];
        if (sa != sb && sa != 1 && sb != 1)
            return tt_error_set(TT_ERR_SHAPE,
                                "%s: shapes %s and %s cannot be broadcast (dimension %d from "
                                "the end is %zu vs %zu; sizes must be equal or 1)",
                                fn, shape_str(a->ndim, a->shape).s,
                                shape_str(b->ndim, b->shape).s, nd - d, sa, sb);
        shape[d] = sa == 1 ? sb : sa;
    }
    *ndim = nd;
    return TT_OK;
}

/* x's strides for reading it as the 4-D padded output shape: a dimension that is
 * broadcast (missing, or 1 against a larger size) gets stride 0. */
static void broadcast_strides(const tt_tensor *x, const size_t out_shape[TT_MAX_DIMS],
                              ptrdiff_t strides[TT_MAX_DIMS])
{
    int lead = TT_MAX_DIMS - x->ndim;
    for (int d = 0; d < TT_MAX_DIMS; d++) {
        if (d < lead || (x->shape[d - lead] == 1 && out_shape[d] != 1))
            strides[d] = 0;
        else
            strides[d] = x->strides[d - lead];
    }
}

/* o = a op b over o's shape; a and b are read through broadcast strides. */
static void ew_apply(ew_row_fn row, tt_tensor *o, const tt_tensor *a, const tt_tensor *b)
{
    size_t shape[TT_MAX_DIMS];
    ptrdiff_t os[TT_MAX_DIMS], as[TT_MAX_DIMS], bs[TT_MAX_DIMS];
    pad_dims(o, shape, os);
    broadcast_strides(a, shape, as);
    broadcast_strides(b, shape, bs);
    const float *pa = tt_tensor_data(a), *pb = tt_tensor_data(b);
    float *po = tt_tensor_data(o);
    for (size_t i0 = 0; i0 < shape[0]; i0++)
        for (size_t i1 = 0; i1 < shape[1]; i1++)
            for (size_t i2 = 0; i2 < shape[2]; i2++) {
                ptrdiff_t ia = (ptrdiff_t)i0 * as[0] + (ptrdiff_t)i1 * as[1] + (ptrdiff_t)i2 * as[2];
                ptrdiff_t ib = (ptrdiff_t)i0 * bs[0] + (ptrdiff_t)i1 * bs[1] + (ptrdiff_t)i2 * bs[2];
                ptrdiff_t io = (ptrdiff_t)i0 * os[0] + (ptrdiff_t)i1 * os[1] + (ptrdiff_t)i2 * os[2];
                row(shape[3], pa + ia, as[3], pb + ib, bs[3], po + io);
            }
}

/* The whole of add/sub/mul/div: checks, broadcast shape, new result, kernel. */
static tt_status elementwise(const char *fn, tt_tensor **result, tt_tensor *a, tt_tensor *b,
                             ew_row_fn row)
{
    if (!a || !b)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input %s is NULL", fn, !a ? "a" : "b");
    int ndim = 0;
    size_t shape[TT_MAX_DIMS];
    tt_status st = broadcast_shapes(fn, &ndim, shape, a, b);
    if (st != TT_OK)
        return st;
    st = tensor_new(fn, result, ndim, shape, false);
    if (st != TT_OK)
        return st;
    ew_apply(row, *result, a, b);
    return TT_OK;
}

/* a op s: the scalar is read as a broadcast 0-D tensor viewing s. */
static tt_status elementwise_scalar(const char *fn, tt_tensor **result, tt_tensor *a, float s,
                                    ew_row_fn row)
{
    if (!a)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input a is NULL", fn);
    tt_storage s_storage = {&s, 1, 1};
    tt_tensor s_tensor = {.storage = &s_storage, .ndim = 0, .refcount = 1};
    tt_status st = tensor_new(fn, result, a->ndim, a->shape, false);
    if (st != TT_OK)
        return st;
    ew_apply(row, *result, a, &s_tensor);
    return TT_OK;
}

/* ------------------------------------------------------------------ reductions */

enum reduce_kind { RED_SUM, RED_MEAN, RED_MAX, RED_ARGMAX };

/* Reduce n values p[0], p[s], ..., p[(n-1)*s]. Sums accumulate in double, in
 * ascending index order, so the result is deterministic and close to exact. max and
 * argmax propagate NaN: the first NaN wins, as in NumPy. */
static float reduce_line(enum reduce_kind kind, const float *p, size_t n, ptrdiff_t s)
{
    if (kind == RED_SUM || kind == RED_MEAN) {
        double acc = 0.0;
        for (size_t i = 0; i < n; i++)
            acc += p[(ptrdiff_t)i * s];
        return (float)(kind == RED_MEAN ? acc / (double)n : acc);
    }
    float best = p[0];
    size_t at = 0;
    for (size_t i = 1; i < n && !isnan(best); i++) {
        float v = p[(ptrdiff_t)i * s];
        if (v > best || isnan(v)) {
            best = v;
            at = i;
        }
    }
    return kind == RED_MAX ? best : (float)at;
}

/* Reduction along one axis (normalized into *axis_out for the autograd record). */
static tt_status reduce_axis(const char *fn, tt_tensor **out, const tt_tensor *t, int axis,
                             bool keepdim, enum reduce_kind kind, int *axis_out)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, fn);
    *out = NULL;
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", fn);
    int ax = 0;
    tt_status st = normalize_axis(fn, "axis", t, axis, &ax);
    if (st != TT_OK)
        return st;

    size_t oshape[TT_MAX_DIMS];
    int ondim = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (d != ax)
            oshape[ondim++] = t->shape[d];
        else if (keepdim)
            oshape[ondim++] = 1;
    }
    tt_tensor *o = NULL;
    st = tensor_new(fn, &o, ondim, oshape, false);
    if (st != TT_OK)
        return st;

    /* The dimensions other than `ax`, padded to 3, in row-major order: walking them
     * visits the outputs in order whether or not the reduced dimension is kept. */
    size_t rs[3] = {1, 1, 1};
    ptrdiff_t rstr[3] = {0, 0, 0};
    for (int d = 0, j = 3 - (t->ndim - 1); d < t->ndim; d++) {
        if (d == ax)
            continue;
        rs[j] = t->shape[d];
        rstr[j] = t->strides[d];
        j++;
    }
    const float *base = tt_tensor_data(t);
    float *po = tt_tensor_data(o);
    size_t n = t->shape[ax];
    ptrdiff_t s = t->strides[ax];
    for (size_t i0 = 0; i0 < rs[0]; i0++)
        for (size_t i1 = 0; i1 < rs[1]; i1++)
            for (size_t i2 = 0; i2 < rs[2]; i2++)
                *po++ = reduce_line(kind,
                                    base + (ptrdiff_t)i0 * rstr[0] + (ptrdiff_t)i1 * rstr[1] +
                                        (ptrdiff_t)i2 * rstr[2],
                                    n, s);
    *axis_out = ax;
    *out = o;
    return TT_OK;
}

/* Sum (or mean) of every element as a new scalar tensor. */
static tt_status reduce_all(const char *fn, tt_tensor **out, const tt_tensor *t, bool mean)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, fn);
    *out = NULL;
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", fn);
    size_t shape[TT_MAX_DIMS];
    ptrdiff_t ss[TT_MAX_DIMS];
    pad_dims(t, shape, ss);
    const float *base = tt_tensor_data(t);
    double acc = 0.0;
    for (size_t i0 = 0; i0 < shape[0]; i0++)
        for (size_t i1 = 0; i1 < shape[1]; i1++)
            for (size_t i2 = 0; i2 < shape[2]; i2++) {
                const float *p = base + (ptrdiff_t)i0 * ss[0] + (ptrdiff_t)i1 * ss[1] +
                                 (ptrdiff_t)i2 * ss[2];
                for (size_t j = 0; j < shape[3]; j++)
                    acc += p[(ptrdiff_t)j * ss[3]];
            }
    if (mean)
        acc /= (double)tt_tensor_numel(t);
    tt_tensor *o = NULL;
    tt_status st = tensor_new(fn, &o, 0, NULL, false);
    if (st != TT_OK)
        return st;
    tt_tensor_data(o)[0] = (float)acc;
    *out = o;
    return TT_OK;
}

/* ---------------------------------------------------------------------- matmul */

/*
 * C = A B, where every C[i][j] is accumulated in float, in ascending k, starting from
 * 0: exactly the rounding of the textbook triple loop, on every machine (the build is
 * ISO C, so a*b+c is never contracted into an FMA). The speed comes only from the
 * order in which the (i, j) pairs are visited, never from reordering a sum:
 *
 *  - cache blocking: B is cut into blocks of KC rows by NC columns and A into blocks
 *    of MC rows by KC columns; a block of A (128 KB) stays in L2 while it meets every
 *    column of the B block, and one sliver of B (8 KB) stays in L1;
 *  - packing: each block is copied into the order the micro-kernel reads it (A in
 *    slivers of MR rows, one column after another; B in slivers of NR columns, one row
 *    after another), through the inputs' strides, so transposed views cost nothing
 *    extra, and short edge slivers are padded with zeros;
 *  - the micro-kernel keeps an MR x NR tile of C in 64 scalar accumulators for the
 *    whole KC loop, which the compiler turns into 8 vector registers, one multiply
 *    and one add per row and step.
 *
 * KC blocks are visited in ascending order, each continuing the partial sums the
 * previous one left in C, so the k order of every sum is the textbook one.
 */
#define MM_MR 8      /* rows of the register tile */
#define MM_NR 8      /* columns of the register tile: one 256-bit vector of floats */
#define MM_KC 256    /* depth of a packed block */
#define MM_MC 128    /* rows of a packed block of A */
#define MM_NC 2048   /* columns of a packed block of B */
#define MM_SMALL 32768.0 /* below this many multiply-adds, packing costs more than it saves */

/* The register tile, written out as named scalars: arrays would live in memory, and
 * GCC's vectorizer packs these 8 per row into one register without lane shuffles when
 * each row's columns are listed from last to first. */
#define MK_COLS(X, i) X(i, 7) X(i, 6) X(i, 5) X(i, 4) X(i, 3) X(i, 2) X(i, 1) X(i, 0)
#define MK_ROWS(X)                                                                          \
    MK_COLS(X, 0) MK_COLS(X, 1) MK_COLS(X, 2) MK_COLS(X, 3)                                 \
    MK_COLS(X, 4) MK_COLS(X, 5) MK_COLS(X, 6) MK_COLS(X, 7)
#define MK_INIT(i, j) float c##i##_##j = first ? 0.0f : c[i * ldc + j];
#define MK_STEP(i, j) c##i##_##j = c##i##_##j + ap[i] * bp[j];
#define MK_SAVE(i, j) c[i * ldc + j] = c##i##_##j;

/* c[0..MR)[0..NR) (row stride ldc) = (first ? 0 : c) + the kc steps of a sliver pair:
 * a[p*MR + i] and b[p*NR + j]. */
static void micro_kernel(size_t kc, const float *restrict a, const float *restrict b,
                         float *restrict c, size_t ldc, bool first)
{
    MK_ROWS(MK_INIT)
    for (size_t p = 0; p < kc; p++) {
        const float *ap = a + p * MM_MR, *bp = b + p * MM_NR;
        MK_ROWS(MK_STEP)
    }
    MK_ROWS(MK_SAVE)
}
#undef MK_COLS
#undef MK_ROWS
#undef MK_INIT
#undef MK_STEP
#undef MK_SAVE

/* Pack the mc x kc block of A at `a` into slivers of MR rows: pa[s][p][i]. */
static void pack_a(size_t mc, size_t kc, const float *a, ptrdiff_t rs, ptrdiff_t cs, float *pa)
{
    for (size_t i0 = 0; i0 < mc; i0 += MM_MR) {
        size_t mr = mc - i0 < MM_MR ? mc - i0 : MM_MR;
        for (size_t p = 0; p < kc; p++) {
            const float *col = a + (ptrdiff_t)i0 * rs + (ptrdiff_t)p * cs;
            for (size_t i = 0; i < mr; i++)
                pa[i] = col[(ptrdiff_t)i * rs];
            for (size_t i = mr; i < MM_MR; i++)
                pa[i] = 0.0f;
            pa += MM_MR;
        }
    }
}

/* Pack the kc x nc block of B at `b` into slivers of NR columns: pb[s][p][j]. */
static void pack_b(size_t kc, size_t nc, const float *b, ptrdiff_t rs, ptrdiff_t cs, float *pb)
{
    for (size_t j0 = 0; j0 < nc; j0 += MM_NR) {
        size_t nr = nc - j0 < MM_NR ? nc - j0 : MM_NR;
        for (size_t p = 0; p < kc; p++) {
            const float *row = b + (ptrdiff_t)p * rs + (ptrdiff_t)j0 * cs;
            for (size_t j = 0; j < nr; j++)
                pb[j] = row[(ptrdiff_t)j * cs];
            for (size_t j = nr; j < MM_NR; j++)
                pb[j] = 0.0f;
            pb += MM_NR;
        }
    }
}

/* Floats of packing space gemm_packed needs for these sizes. */
static size_t gemm_work_size(size_t m, size_t n, size_t k)
{
    size_t mc = (m < MM_MC ? m : MM_MC) + MM_MR - 1, nc = (n < MM_NC ? n : MM_NC) + MM_NR - 1;
    size_t kc = k < MM_KC ? k : MM_KC;
    return (mc - mc % MM_MR) * kc + (nc - nc % MM_NR) * kc;
}

/* C[m,n] (contiguous, row stride n) = A[m,k] B[k,n], A and B read through their row
 * and column strides; `work` holds gemm_work_size(m, n, k) floats. */
static void gemm_packed(size_t m, size_t n, size_t k, const float *a, ptrdiff_t a_rs,
                        ptrdiff_t a_cs, const float *b, ptrdiff_t b_rs, ptrdiff_t b_cs,
                        float *c, float *work)
{
    size_t mc_max = (m < MM_MC ? m : MM_MC) + MM_MR - 1;
    float *pa = work, *pb = work + (mc_max - mc_max % MM_MR) * (k < MM_KC ? k : MM_KC);
    float tile[MM_MR * MM_NR];
    for (size_t jc = 0; jc < n; jc += MM_NC) {
        size_t nc = n - jc < MM_NC ? n - jc : MM_NC;
        for (size_t pc = 0; pc < k; pc += MM_KC) {
            size_t kc = k - pc < MM_KC ? k - pc : MM_KC;
            bool first = pc == 0;
            pack_b(kc, nc, b + (ptrdiff_t)pc * b_rs + (ptrdiff_t)jc * b_cs, b_rs, b_cs, pb);
            for (size_t ic = 0; ic < m; ic += MM_MC) {
                size_t mc = m - ic < MM_MC ? m - ic : MM_MC;
                pack_a(mc, kc, a + (ptrdiff_t)ic * a_rs + (ptrdiff_t)pc * a_cs, a_rs, a_cs, pa);
                for (size_t jr = 0; jr < nc; jr += MM_NR) {
                    size_t nr = nc - jr < MM_NR ? nc - jr : MM_NR;
                    const float *bs = pb + jr * kc;
                    for (size_t ir = 0; ir < mc; ir += MM_MR) {
                        size_t mr = mc - ir < MM_MR ? mc - ir : MM_MR;
                        const float *as = pa + ir * kc;
                        float *cc = c + (ic + ir) * n + jc + jr;
                        if (mr == MM_MR && nr == MM_NR) {
                            micro_kernel(kc, as, bs, cc, n, first);
                            continue;
                        }
                        /* An edge tile: run the full tile on a copy, keep the valid part. */
                        for (size_t i = 0; !first && i < mr; i++)
                            memcpy(tile + i * MM_NR, cc + i * n, nr * sizeof *cc);
                        micro_kernel(kc, as, bs, tile, MM_NR, first);
                        for (size_t i = 0; i < mr; i++)
                            memcpy(cc + i * n, tile + i * MM_NR, nr * sizeof *cc);
                    }
                }
            }
        }
    }
}

/* The same product for small sizes, where packing is not worth it: i-k-j order, the
 * j loop vectorized, each C[i][j] still summed in ascending k from 0. */
static void gemm_small(size_t m, size_t n, size_t k, const float *a, ptrdiff_t a_rs,
                       ptrdiff_t a_cs, const float *b, ptrdiff_t b_rs, ptrdiff_t b_cs, float *c)
{
    for (size_t i = 0; i < m; i++) {
        float *crow = c + i * n;
        for (size_t j = 0; j < n; j++)
            crow[j] = 0.0f;
        for (size_t p = 0; p < k; p++) {
            float aip = a[(ptrdiff_t)i * a_rs + (ptrdiff_t)p * a_cs];
            const float *brow = b + (ptrdiff_t)p * b_rs;
            if (b_cs == 1) {
                for (size_t j = 0; j < n; j++)
                    crow[j] = crow[j] + aip * brow[j];
            } else {
                for (size_t j = 0; j < n; j++)
                    crow[j] = crow[j] + aip * brow[(ptrdiff_t)j * b_cs];
            }
        }
    }
}
/* END SOLUTION */

/* ---------------------------------------------------------------- create / free */

tt_status tt_tensor_zeros(tt_tensor **out, int ndim, const size_t *shape)
{
    /* BEGIN SOLUTION */
    return tensor_new(__func__, out, ndim, shape, true);
    /* END SOLUTION */
}

tt_status tt_tensor_full(tt_tensor **out, int ndim, const size_t *shape, float value)
{
    /* BEGIN SOLUTION */
    tt_status st = tensor_new(__func__, out, ndim, shape, false);
    if (st != TT_OK)
        return st;
    float *d = tt_tensor_data(*out);
    size_t n = tt_tensor_numel(*out);
    for (size_t i = 0; i < n; i++)
        d[i] = value;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_tensor_from_data(tt_tensor **out, int ndim, const size_t *shape, const float *data)
{
    /* BEGIN SOLUTION */
    if (out)
        *out = NULL;
    if (!data)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: data is NULL", __func__);
    tt_status st = tensor_new(__func__, out, ndim, shape, false);
    if (st != TT_OK)
        return st;
    memcpy(tt_tensor_data(*out), data, tt_tensor_numel(*out) * sizeof *data);
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_tensor_scalar(tt_tensor **out, float value)
{
    /* BEGIN SOLUTION */
    tt_status st = tensor_new(__func__, out, 0, NULL, false);
    if (st != TT_OK)
        return st;
    tt_tensor_data(*out)[0] = value;
    return TT_OK;
    /* END SOLUTION */
}

/* Element i (row-major) is mean + std * tt_rng_normal(rng), drawn in order, so the
 * same seed gives the same tensor in every implementation. */
tt_status tt_tensor_randn(tt_tensor **out, int ndim, const size_t *shape, float mean, float std,
                          tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (out)
        *out = NULL;
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: rng is NULL", __func__);
    tt_status st = tensor_new(__func__, out, ndim, shape, false);
    if (st != TT_OK)
        return st;
    float *d = tt_tensor_data(*out);
    size_t n = tt_tensor_numel(*out);
    for (size_t i = 0; i < n; i++)
        d[i] = mean + std * tt_rng_normal(rng);
    return TT_OK;
    /* END SOLUTION */
}

/* Element i (row-major) is low + (high - low) * tt_rng_uniform(rng), drawn in order. */
tt_status tt_tensor_uniform(tt_tensor **out, int ndim, const size_t *shape, float low, float high,
                            tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (out)
        *out = NULL;
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: rng is NULL", __func__);
    tt_status st = tensor_new(__func__, out, ndim, shape, false);
    if (st != TT_OK)
        return st;
    float *d = tt_tensor_data(*out);
    size_t n = tt_tensor_numel(*out);
    for (size_t i = 0; i < n; i++)
        d[i] = low + (high - low) * tt_rng_uniform(rng);
    return TT_OK;
    /* END SOLUTION */
}

tt_tensor *tt_tensor_retain(tt_tensor *t)
{
    /* BEGIN SOLUTION: return t; */
    if (t)
        t->refcount++;
    return t;
    /* END SOLUTION */
}

/* Drops one reference. At zero: the storage loses one view (and is freed with its
 * data when that was the last), then the gradient and the graph node go. */
void tt_tensor_free(tt_tensor *t)
{
    /* BEGIN SOLUTION: */
    if (!t || --t->refcount > 0)
        return;
    tt_storage *s = t->storage;
    if (s && --s->refcount == 0) {
        tt_free(s->data);
        tt_free(s);
    }
    tt_tensor_free(t->grad);
    tt_node_release(t->grad_fn);
    tt_free(t);
    /* END SOLUTION */
}

/* ---------------------------------------------------------------------- inspect */

size_t tt_tensor_numel(const tt_tensor *t)
{
    /* BEGIN SOLUTION: return 0; */
    if (!t)
        return 0;
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
    /* END SOLUTION */
}

/* A dimension of size 1 may have any stride: it is never stepped over. */
bool tt_tensor_is_contiguous(const tt_tensor *t)
{
    /* BEGIN SOLUTION: return false; */
    if (!t)
        return false;
    ptrdiff_t expected = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->strides[d] != expected)
            return false;
        expected *= (ptrdiff_t)t->shape[d];
    }
    return true;
    /* END SOLUTION */
}

bool tt_tensor_same_shape(const tt_tensor *a, const tt_tensor *b)
{
    /* BEGIN SOLUTION: return false; */
    if (!a || !b || a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return true;
    /* END SOLUTION */
}

/* BEGIN SOLUTION: */
/* The storage position of t[index], after checking the index. */
static tt_status element_at(const char *fn, const tt_tensor *t, const size_t *index, size_t *pos)
{
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: tensor is NULL", fn);
    if (t->ndim > 0 && !index)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: index is NULL for a tensor of shape %s",
                            fn, shape_str(t->ndim, t->shape).s);
    ptrdiff_t at = (ptrdiff_t)t->offset;
    for (int d = 0; d < t->ndim; d++) {
        if (index[d] >= t->shape[d])
            return tt_error_set(TT_ERR_RANGE,
                                "%s: index %s is out of range for shape %s (dimension %d: %zu "
                                ">= %zu)",
                                fn, shape_str(t->ndim, index).s,
                                shape_str(t->ndim, t->shape).s, d, index[d], t->shape[d]);
        at += (ptrdiff_t)index[d] * t->strides[d];
    }
    *pos = (size_t)at;
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_tensor_get(const tt_tensor *t, const size_t *index, float *value)
{
    /* BEGIN SOLUTION */
    if (!value)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: value is NULL", __func__);
    size_t pos = 0;
    tt_status st = element_at(__func__, t, index, &pos);
    if (st != TT_OK)
        return st;
    *value = t->storage->data[pos];
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_tensor_set(tt_tensor *t, const size_t *index, float value)
{
    /* BEGIN SOLUTION */
    size_t pos = 0;
    tt_status st = element_at(__func__, t, index, &pos);
    if (st != TT_OK)
        return st;
    t->storage->data[pos] = value;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_tensor_item(const tt_tensor *t, float *value)
{
    /* BEGIN SOLUTION */
    if (!t || !value)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s is NULL", __func__,
                            !t ? "tensor" : "value");
    if (tt_tensor_numel(t) != 1)
        return tt_error_set(TT_ERR_SHAPE,
                            "%s: tensor of shape %s has %zu elements, expected exactly 1",
                            __func__, shape_str(t->ndim, t->shape).s, tt_tensor_numel(t));
    *value = tt_tensor_data(t)[0];
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_tensor_to_array(const tt_tensor *t, float *buf, size_t n)
{
    /* BEGIN SOLUTION */
    if (!t || !buf)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s is NULL", __func__,
                            !t ? "tensor" : "buf");
    if (n < tt_tensor_numel(t))
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "%s: buffer holds %zu floats, tensor of shape %s has %zu", __func__,
                            n, shape_str(t->ndim, t->shape).s, tt_tensor_numel(t));
    gather(buf, t);
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_tensor_contiguous(tt_tensor **out, tt_tensor *t)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", __func__);
    if (tt_tensor_is_contiguous(t)) {
        *out = tt_tensor_retain(t);
        return TT_OK;
    }
    tt_status st = tensor_new(__func__, out, t->ndim, t->shape, false);
    if (st != TT_OK)
        return st;
    gather(tt_tensor_data(*out), t);
    return TT_OK;
    /* END SOLUTION */
}

/* ---------------------------------------------------------------- fill and copy */

tt_status tt_tensor_fill(tt_tensor *t, float value)
{
    /* BEGIN SOLUTION */
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: tensor is NULL", __func__);
    size_t shape[TT_MAX_DIMS];
    ptrdiff_t ss[TT_MAX_DIMS];
    pad_dims(t, shape, ss);
    float *base = tt_tensor_data(t);
    for (size_t i0 = 0; i0 < shape[0]; i0++)
        for (size_t i1 = 0; i1 < shape[1]; i1++)
            for (size_t i2 = 0; i2 < shape[2]; i2++) {
                float *p = base + (ptrdiff_t)i0 * ss[0] + (ptrdiff_t)i1 * ss[1] +
                           (ptrdiff_t)i2 * ss[2];
                for (size_t j = 0; j < shape[3]; j++)
                    p[(ptrdiff_t)j * ss[3]] = value;
            }
    return TT_OK;
    /* END SOLUTION */
}

/* When dst and src share a storage, src may overlap dst in any pattern (think of
 * assigning a transpose of x into x), so src is first copied aside. */
tt_status tt_tensor_assign(tt_tensor *dst, const tt_tensor *src)
{
    /* BEGIN SOLUTION */
    if (!dst || !src)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s is NULL", __func__, !dst ? "dst" : "src");
    if (!tt_tensor_same_shape(dst, src))
        return tt_error_set(TT_ERR_SHAPE, "%s: dst has shape %s, src has shape %s (expected equal)",
                            __func__, shape_str(dst->ndim, dst->shape).s,
                            shape_str(src->ndim, src->shape).s);
    size_t shape[TT_MAX_DIMS];
    ptrdiff_t ds[TT_MAX_DIMS], ss[TT_MAX_DIMS];
    pad_dims(dst, shape, ds);
    pad_dims(src, shape, ss);
    if (dst->storage != src->storage) {
        strided_copy(tt_tensor_data(dst), ds, tt_tensor_data(src), ss, shape);
        return TT_OK;
    }
    float *tmp = tt_malloc(tt_tensor_numel(src) * sizeof *tmp);
    if (!tmp)
        return tt_error_set(TT_ERR_NOMEM, "%s: out of memory for a copy of the overlapping source",
                            __func__);
    gather(tmp, src);
    contiguous_strides(TT_MAX_DIMS, shape, ss);
    strided_copy(tt_tensor_data(dst), ds, tmp, ss, shape);
    tt_free(tmp);
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_tensor_copy(tt_tensor **out, tt_tensor *t)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", __func__);
    tt_status st = tensor_new(__func__, &result, t->ndim, t->shape, false);
    if (st != TT_OK)
        return st;
    gather(tt_tensor_data(result), t);
    /* END SOLUTION */
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_COPY, 1, inputs, NULL);
}

/* ------------------------------------------------------------------------ views */

/* Check the new shape (one -1 at most), then: a view of t's storage when t is
 * contiguous, else a view of a contiguous copy (tt_tensor_contiguous). */
tt_status tt_tensor_reshape(tt_tensor **out, tt_tensor *t, int ndim, const ptrdiff_t *shape)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", __func__);
    if (ndim < 0 || ndim > TT_MAX_DIMS)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: ndim is %d, expected 0 to %d", __func__,
                            ndim, TT_MAX_DIMS);
    if (ndim > 0 && !shape)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: shape is NULL for ndim %d", __func__, ndim);

    size_t numel = tt_tensor_numel(t), known = 1, new_shape[TT_MAX_DIMS];
    int infer = -1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == -1) {
            if (infer >= 0)
                return tt_error_set(TT_ERR_INVALID_ARG,
                                    "%s: dimensions %d and %d are both -1, at most one can be "
                                    "inferred",
                                    __func__, infer, d);
            infer = d;
        } else if (shape[d] <= 0) {
            return tt_error_set(TT_ERR_INVALID_ARG,
                                "%s: dimension %d is %td, expected a size >= 1 or -1", __func__,
                                d, shape[d]);
        } else if ((size_t)shape[d] > numel / known) {
            /* More elements than t has already (tested by division, so that the
             * product cannot overflow). */
            return tt_error_set(TT_ERR_SHAPE,
                                "%s: cannot view shape %s (%zu elements) with dimension %d of "
                                "size %td",
                                __func__, shape_str(t->ndim, t->shape).s, numel, d, shape[d]);
        } else {
            known *= (size_t)shape[d];
        }
        new_shape[d] = shape[d] == -1 ? 0 : (size_t)shape[d];
    }
    if (infer >= 0) {
        if (numel % known != 0)
            return tt_error_set(TT_ERR_SHAPE,
                                "%s: cannot infer dimension %d: %zu elements of shape %s do not "
                                "divide into blocks of %zu",
                                __func__, infer, numel, shape_str(t->ndim, t->shape).s, known);
        new_shape[infer] = numel / known;
        known = numel;
    }
    if (known != numel)
        return tt_error_set(TT_ERR_SHAPE,
                            "%s: shape %s has %zu elements, the new shape %s has %zu", __func__,
                            shape_str(t->ndim, t->shape).s, numel,
                            shape_str(ndim, new_shape).s, known);

    tt_tensor *base = NULL;
    tt_status st = tt_tensor_contiguous(&base, t);
    if (st != TT_OK)
        return st;
    st = view_new(__func__, &result, base);
    tt_tensor_free(base);
    if (st != TT_OK)
        return st;
    result->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        result->shape[d] = new_shape[d];
    contiguous_strides(ndim, new_shape, result->strides);
    /* END SOLUTION */
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_RESHAPE, 1, inputs, NULL);
}

/* Views never copy: transpose swaps two shape entries and two strides, slice moves the
 * offset and shortens one dimension. The storage gains one reference per view. */
tt_status tt_tensor_transpose(tt_tensor **out, tt_tensor *t, int dim0, int dim1)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", __func__);
    int d0 = 0, d1 = 0;
    tt_status st = normalize_axis(__func__, "dim0", t, dim0, &d0);
    if (st != TT_OK)
        return st;
    st = normalize_axis(__func__, "dim1", t, dim1, &d1);
    if (st != TT_OK)
        return st;
    st = view_new(__func__, &result, t);
    if (st != TT_OK)
        return st;
    result->shape[d0] = t->shape[d1];
    result->shape[d1] = t->shape[d0];
    result->strides[d0] = t->strides[d1];
    result->strides[d1] = t->strides[d0];
    /* END SOLUTION */
    tt_node_args args = {{dim0 < 0 ? dim0 + t->ndim : dim0, dim1 < 0 ? dim1 + t->ndim : dim1},
                         {0}};
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_TRANSPOSE, 1, inputs, &args);
}

tt_status tt_tensor_slice(tt_tensor **out, tt_tensor *t, int dim, size_t start, size_t stop)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", __func__);
    int d = 0;
    tt_status st = normalize_axis(__func__, "dim", t, dim, &d);
    if (st != TT_OK)
        return st;
    if (start >= stop || stop > t->shape[d])
        return tt_error_set(TT_ERR_RANGE,
                            "%s: range [%zu, %zu) of dimension %d of shape %s is invalid "
                            "(expected 0 <= start < stop <= %zu)",
                            __func__, start, stop, d, shape_str(t->ndim, t->shape).s,
                            t->shape[d]);
    st = view_new(__func__, &result, t);
    if (st != TT_OK)
        return st;
    result->offset = t->offset + start * (size_t)t->strides[d];
    result->shape[d] = stop - start;
    /* END SOLUTION */
    tt_node_args args = {{dim < 0 ? dim + t->ndim : dim, (long)start, (long)stop}, {0}};
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_SLICE, 1, inputs, &args);
}

/* ------------------------------------------------------------------ elementwise */

/* The four ops share everything but the arithmetic: compute the broadcast shape, make
 * the result, and read a and b with stride 0 along their broadcast dimensions. */
tt_status tt_tensor_add(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = elementwise(__func__, &result, a, b, row_add);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {a, b};
    return record_result(out, result, TT_OP_ADD, 2, inputs, NULL);
}

tt_status tt_tensor_sub(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = elementwise(__func__, &result, a, b, row_sub);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {a, b};
    return record_result(out, result, TT_OP_SUB, 2, inputs, NULL);
}

tt_status tt_tensor_mul(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = elementwise(__func__, &result, a, b, row_mul);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {a, b};
    return record_result(out, result, TT_OP_MUL, 2, inputs, NULL);
}

tt_status tt_tensor_div(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = elementwise(__func__, &result, a, b, row_div);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {a, b};
    return record_result(out, result, TT_OP_DIV, 2, inputs, NULL);
}

tt_status tt_tensor_add_scalar(tt_tensor **out, tt_tensor *a, float s)
{
    tt_tensor *result = NULL;
    tt_node_args args = {{0}, {s, 0.0f}};
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = elementwise_scalar(__func__, &result, a, s, row_add);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {a};
    return record_result(out, result, TT_OP_ADD_SCALAR, 1, inputs, &args);
}

tt_status tt_tensor_mul_scalar(tt_tensor **out, tt_tensor *a, float s)
{
    tt_tensor *result = NULL;
    tt_node_args args = {{0}, {s, 0.0f}};
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = elementwise_scalar(__func__, &result, a, s, row_mul);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {a};
    return record_result(out, result, TT_OP_MUL_SCALAR, 1, inputs, &args);
}

tt_status tt_broadcast_shape(int *ndim, size_t *shape, const tt_tensor *a, const tt_tensor *b)
{
    /* BEGIN SOLUTION */
    if (!ndim || !shape || !a || !b)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s is NULL", __func__,
                            !ndim ? "ndim" : !shape ? "shape" : !a ? "a" : "b");
    return broadcast_shapes(__func__, ndim, shape, a, b);
    /* END SOLUTION */
}

/* ----------------------------------------------------------------------- matmul */

/* Check the shapes, make the [.., m, n] result, then for each batch entry compute
 * C = A B reading A and B through their strides. Start with the i-k-j loop order (the
 * innermost loop then runs along rows of B and C); the guide's "Matmul and its FLOPs"
 * says where the rest of the time goes. */
tt_status tt_tensor_matmul(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    if (!a || !b)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input %s is NULL", __func__,
                            !a ? "a" : "b");
    if (a->ndim < 2 || b->ndim < 2)
        return tt_error_set(TT_ERR_SHAPE,
                            "%s: a is %s, b is %s; both need at least 2 dimensions", __func__,
                            shape_str(a->ndim, a->shape).s, shape_str(b->ndim, b->shape).s);
    int nd = a->ndim;
    size_t m = a->shape[nd - 2], k = a->shape[nd - 1];
    size_t n = b->shape[b->ndim - 1];
    if (b->shape[b->ndim - 2] != k)
        return tt_error_set(TT_ERR_SHAPE, "%s: inner dimensions differ: a is %s, b is %s",
                            __func__, shape_str(a->ndim, a->shape).s,
                            shape_str(b->ndim, b->shape).s);
    bool shared_b = b->ndim == 2;
    if (!shared_b &&
        (b->ndim != nd || memcmp(a->shape, b->shape, (size_t)(nd - 2) * sizeof(size_t)) != 0))
        return tt_error_set(TT_ERR_SHAPE,
                            "%s: batch dimensions differ: a is %s, b is %s (b must be 2-D or "
                            "have a's leading dimensions)",
                            __func__, shape_str(a->ndim, a->shape).s,
                            shape_str(b->ndim, b->shape).s);

    size_t oshape[TT_MAX_DIMS];
    memcpy(oshape, a->shape, sizeof oshape);
    oshape[nd - 1] = n;
    tt_status st = tensor_new(__func__, &result, nd, oshape, false);
    if (st != TT_OK)
        return st;

    ptrdiff_t a_rs = a->strides[nd - 2], a_cs = a->strides[nd - 1];
    ptrdiff_t b_rs = b->strides[b->ndim - 2], b_cs = b->strides[b->ndim - 1];
    /* One b shared by a contiguous batch of a: a single product with m * batch rows
     * (row-major strides set explicitly: a size-1 dimension may carry any stride). */
    size_t batches = tt_tensor_numel(result) / (m * n);
    if (shared_b && batches > 1 && tt_tensor_is_contiguous(a)) {
        m *= batches;
        batches = 1;
        a_rs = (ptrdiff_t)k;
        a_cs = 1;
    }
    float *work = NULL;
    if ((double)m * (double)n * (double)k >= MM_SMALL) {
        work = tt_malloc(gemm_work_size(m, n, k) * sizeof *work);
        if (!work) {
            tt_tensor_free(result);
            return tt_error_set(TT_ERR_NOMEM, "%s: out of memory for the packing buffers",
                                __func__);
        }
    }
    /* Batch dimensions padded to two: (nb0, nb1) with the inputs' batch strides. */
    size_t nb[2] = {1, 1};
    ptrdiff_t as[2] = {0, 0}, bs[2] = {0, 0};
    for (int d = 0; batches > 1 && d < nd - 2; d++) {
        int j = d + (4 - nd);
        nb[j] = a->shape[d];
        as[j] = a->strides[d];
        bs[j] = shared_b ? 0 : b->strides[d];
    }
    float *pc = tt_tensor_data(result);
    for (size_t i0 = 0; i0 < nb[0]; i0++)
        for (size_t i1 = 0; i1 < nb[1]; i1++) {
            const float *pa = tt_tensor_data(a) + (ptrdiff_t)i0 * as[0] + (ptrdiff_t)i1 * as[1];
            const float *pb = tt_tensor_data(b) + (ptrdiff_t)i0 * bs[0] + (ptrdiff_t)i1 * bs[1];
            if (work)
                gemm_packed(m, n, k, pa, a_rs, a_cs, pb, b_rs, b_cs, pc, work);
            else
                gemm_small(m, n, k, pa, a_rs, a_cs, pb, b_rs, b_cs, pc);
            pc += m * n;
        }
    tt_free(work);
    /* END SOLUTION */
    tt_tensor *inputs[] = {a, b};
    return record_result(out, result, TT_OP_MATMUL, 2, inputs, NULL);
}

/* ------------------------------------------------------------------- reductions */

/* The reduced dimension has shape[axis] values spaced strides[axis] apart; the other
 * dimensions, in order, index the outputs (keepdim only changes the result's shape). */
tt_status tt_tensor_sum(tt_tensor **out, tt_tensor *t, int axis, bool keepdim)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    int ax = 0;
    tt_status st = reduce_axis(__func__, &result, t, axis, keepdim, RED_SUM, &ax);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_node_args args = {{axis < 0 ? axis + t->ndim : axis, keepdim}, {0}};
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_SUM, 1, inputs, &args);
}

tt_status tt_tensor_mean(tt_tensor **out, tt_tensor *t, int axis, bool keepdim)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    int ax = 0;
    tt_status st = reduce_axis(__func__, &result, t, axis, keepdim, RED_MEAN, &ax);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_node_args args = {{axis < 0 ? axis + t->ndim : axis, keepdim}, {0}};
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_MEAN, 1, inputs, &args);
}

tt_status tt_tensor_max(tt_tensor **out, tt_tensor *t, int axis, bool keepdim)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    int ax = 0;
    tt_status st = reduce_axis(__func__, &result, t, axis, keepdim, RED_MAX, &ax);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_node_args args = {{axis < 0 ? axis + t->ndim : axis, keepdim}, {0}};
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_MAX, 1, inputs, &args);
}

tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = reduce_all(__func__, &result, t, false);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_SUM_ALL, 1, inputs, NULL);
}

tt_status tt_tensor_mean_all(tt_tensor **out, tt_tensor *t)
{
    tt_tensor *result = NULL;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, OUT_NULL_MSG, __func__);
    *out = NULL;
    tt_status st = reduce_all(__func__, &result, t, true);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[] = {t};
    return record_result(out, result, TT_OP_MEAN_ALL, 1, inputs, NULL);
}

tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim)
{
    /* BEGIN SOLUTION */
    int ax = 0;
    return reduce_axis(__func__, out, t, axis, keepdim, RED_ARGMAX, &ax);
    /* END SOLUTION */
}
