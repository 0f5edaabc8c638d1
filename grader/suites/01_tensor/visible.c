/*
 * grader/suites/01_tensor/visible.c: the visible checks of module 01 (tensor).
 *
 * You can read this file: it is exactly what `tito` runs against your tensor.c and
 * against the course's reference, on the same random inputs. Each case calls your
 * functions and records what came back (status codes, shapes, values); tito compares
 * your records with the reference's, within the tolerance stated before each record:
 *   exact        statuses, shapes, indices, copies of values (no arithmetic);
 *   elementwise  |got - expected| <= 1e-6 + 1e-5 |expected| (one operation per value);
 *   reduction    over k terms: |got - expected| <= 1e-5 sqrt(k) (1 + |expected|), since
 *                a correct sum may add its terms in another order.
 * A case must also free what it made: your module's allocations still live after the
 * case are compared with the reference's (a difference is a leak).
 *
 * Inputs (a, b, x...) are built by the grading harness, not by your code, so a bug in
 * tt_tensor_zeros does not fail the matmul checks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "probe.h"
#include "tinytorch/tensor.h"

/* RECORD (an op's status, then its result) and shares (a view or a copy), which the
 * hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ creation */

static void case_zeros(tito_probe *p)
{
    tt_tensor *out = NULL;
    probe_note(p, "tt_tensor_zeros(&out, 2, [2,3])");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_zeros(&out, 2, TT_SHAPE(2, 3)), out);
    probe_int(p, "numel", (long)tt_tensor_numel(out));
    probe_int(p, "is_contiguous", tt_tensor_is_contiguous(out));
    tt_tensor_free(out);
}

static void case_full(tito_probe *p)
{
    tt_tensor *out = NULL;
    float v = tt_rng_normal(probe_rng(p));
    probe_note(p, "tt_tensor_full(&out, 3, [3,1,2], %g)", v);
    probe_tol_exact(p);
    RECORD(p, tt_tensor_full(&out, 3, TT_SHAPE(3, 1, 2), v), out);
    tt_tensor_free(out);
}

static void case_from_data(tito_probe *p)
{
    float data[12];
    for (int i = 0; i < 12; i++)
        data[i] = tt_rng_normal(probe_rng(p));
    tt_tensor *out = NULL;
    probe_note(p, "tt_tensor_from_data(&out, 3, [2,2,3], data) with 12 random values");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_from_data(&out, 3, TT_SHAPE(2, 2, 3), data), out);
    /* The tensor must hold a copy: changing the caller's array afterwards changes nothing. */
    data[0] = 1234.5f;
    probe_tensor(p, "out_after_changing_data", out);
    tt_tensor_free(out);
}

static void case_scalar(tito_probe *p)
{
    tt_tensor *out = NULL;
    float v = tt_rng_normal(probe_rng(p));
    float got = 0.0f;
    probe_note(p, "tt_tensor_scalar(&out, %g): a 0-D tensor (shape []), then tt_tensor_item", v);
    probe_tol_exact(p);
    RECORD(p, tt_tensor_scalar(&out, v), out);
    probe_int(p, "numel", (long)tt_tensor_numel(out));
    probe_status(p, "item_status", tt_tensor_item(out, &got));
    probe_scalar(p, "item", got);
    tt_tensor_free(out);
}

static void case_randn(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_tensor *out = NULL;
    probe_note(p, "tt_tensor_randn(&out, 2, [4,5], mean 2, std 0.5, rng): element i is "
                  "2 + 0.5 * tt_rng_normal(rng), drawn in row-major order");
    probe_tol_elementwise(p);
    RECORD(p, tt_tensor_randn(&out, 2, TT_SHAPE(4, 5), 2.0f, 0.5f, &rng), out);
    tt_tensor_free(out);
}

static void case_create_errors(tito_probe *p)
{
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "tt_tensor_zeros with ndim 5: TT_ERR_INVALID_ARG, out stays NULL");
    probe_status(p, "ndim_5", tt_tensor_zeros(&out, 5, TT_SHAPE(1, 1, 1, 1, 1)));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "tt_tensor_zeros with shape [2,0]: TT_ERR_INVALID_ARG, out stays NULL");
    probe_status(p, "zero_dim", tt_tensor_zeros(&out, 2, TT_SHAPE(2, 0)));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
}

/* ------------------------------------------------------------ views */

static void case_reshape(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 6));
    tt_tensor *out = NULL;
    probe_note(p, "a: [2,6]; tt_tensor_reshape(&out, a, 2, [3,-1]) gives [3,4], a view of a");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_reshape(&out, a, 2, (const ptrdiff_t[]){3, -1}), out);
    probe_int(p, "shares_storage_with_a", shares(out, a));
    tt_tensor_free(out);
    tt_tensor_free(a);
}

static void case_reshape_write_through(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *out = NULL;
    probe_note(p, "a: [4,3]; v = reshape(a, [2,6]); tt_tensor_set(v, [1,2], 42); then a[2,2] "
                  "is 42: a view writes into the storage it shares");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_reshape(&out, a, 2, (const ptrdiff_t[]){2, 6}), out);
    probe_status(p, "set_status", tt_tensor_set(out, TT_SHAPE(1, 2), 42.0f));
    probe_tensor(p, "a_after_set", a);
    tt_tensor_free(out);
    tt_tensor_free(a);
}

static void case_transpose(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(3, 5));
    tt_tensor *out = NULL;
    probe_note(p, "a: [3,5]; tt_tensor_transpose(&out, a, 0, 1) gives [5,3], a view of a "
                  "(not contiguous)");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_transpose(&out, a, 0, 1), out);
    probe_int(p, "shares_storage_with_a", shares(out, a));
    probe_int(p, "is_contiguous", tt_tensor_is_contiguous(out));
    tt_tensor_free(out);
    tt_tensor_free(a);
}

static void case_slice_fill(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(6, 4));
    tt_tensor *out = NULL;
    probe_note(p, "a: [6,4]; s = tt_tensor_slice(a, dim 0, [1, 4)) is [3,4]; "
                  "tt_tensor_fill(s, -1) sets rows 1..3 of a");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_slice(&out, a, 0, 1, 4), out);
    probe_int(p, "shares_storage_with_a", shares(out, a));
    probe_status(p, "fill_status", tt_tensor_fill(out, -1.0f));
    probe_tensor(p, "a_after_fill", a);
    tt_tensor_free(out);
    tt_tensor_free(a);
}

static void case_slice_columns(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 3, TT_SHAPE(2, 3, 5));
    tt_tensor *out = NULL;
    probe_note(p, "a: [2,3,5]; tt_tensor_slice(&out, a, -1, 1, 4) gives [2,3,3] (dim -1 is "
                  "the last)");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_slice(&out, a, -1, 1, 4), out);
    tt_tensor_free(out);
    tt_tensor_free(a);
}

static void case_get_set(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *t = NULL;
    float v = 0.0f;
    probe_note(p, "a: [2,3]; t = transpose(a) is [3,2]; get t[2,1] (= a[1,2]); set t[0,1] = 7 "
                  "(= a[1,0]); get t[3,0] is out of range (TT_ERR_RANGE)");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&t, a, 0, 1));
    probe_status(p, "get_status", tt_tensor_get(t, TT_SHAPE(2, 1), &v));
    probe_scalar(p, "t[2,1]", v);
    probe_status(p, "set_status", tt_tensor_set(t, TT_SHAPE(0, 1), 7.0f));
    probe_tensor(p, "a_after_set", a);
    probe_status(p, "get_out_of_range", tt_tensor_get(t, TT_SHAPE(3, 0), &v));
    tt_tensor_free(t);
    tt_tensor_free(a);
}

static void case_view_errors(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "a: [2,3]; reshape to [4,2] (8 elements, a has 6): TT_ERR_SHAPE");
    probe_status(p, "reshape_count", tt_tensor_reshape(&out, a, 2, (const ptrdiff_t[]){4, 2}));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "a: [2,3]; reshape to [-1,-1]: TT_ERR_INVALID_ARG");
    probe_status(p, "reshape_two_inferred",
                 tt_tensor_reshape(&out, a, 2, (const ptrdiff_t[]){-1, -1}));
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "a: [2,3]; transpose dims 0 and 2: TT_ERR_INVALID_ARG");
    probe_status(p, "transpose_bad_dim", tt_tensor_transpose(&out, a, 0, 2));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "a: [2,3]; slice dim 1 [2, 5): TT_ERR_RANGE");
    probe_status(p, "slice_past_end", tt_tensor_slice(&out, a, 1, 2, 5));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(a);
}

/* ------------------------------------------------------------ elementwise */

static void case_add_same_shape(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *out = NULL;
    probe_note(p, "out = a + b;  a: [3,4]  b: [3,4]");
    probe_tol_elementwise(p);
    RECORD(p, tt_tensor_add(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_add_broadcast_row(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *b = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *out = NULL;
    probe_note(p, "out = a + b;  a: [2,3]  b: [3]  (b broadcast along dim 0: the same row is "
                  "added to every row of a)");
    probe_tol_elementwise(p);
    RECORD(p, tt_tensor_add(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_add_broadcast_col(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(2, 1));
    tt_tensor *out = NULL;
    probe_note(p, "out = a + b;  a: [2,3]  b: [2,1]  (b broadcast along dim 1: b[i,0] is "
                  "added to every element of row i)");
    probe_tol_elementwise(p);
    RECORD(p, tt_tensor_add(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_mul_broadcast_both(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(3, 1));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(1, 4));
    tt_tensor *out = NULL;
    probe_note(p, "out = a * b;  a: [3,1]  b: [1,4]  -> [3,4]  (both broadcast: "
                  "out[i,j] = a[i,0] * b[0,j])");
    probe_tol_elementwise(p);
    RECORD(p, tt_tensor_mul(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_sub_scalar_tensor(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *b = probe_randn(p, 0, NULL);
    tt_tensor *out = NULL;
    probe_note(p, "out = a - b;  a: [2,3]  b: []  (a 0-D tensor broadcast everywhere)");
    probe_tol_elementwise(p);
    RECORD(p, tt_tensor_sub(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_div_3d(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *b = probe_uniform(p, 2, TT_SHAPE(3, 1), 0.5f, 2.0f);
    tt_tensor *out = NULL;
    probe_note(p, "out = a / b;  a: [2,3,4]  b: [3,1]  (b aligned at the last dimension: "
                  "broadcast along dims 0 and 2)");
    probe_tol_elementwise(p);
    RECORD(p, tt_tensor_div(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_scalar_ops(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(3, 2));
    float s = tt_rng_normal(probe_rng(p));
    tt_tensor *sum = NULL, *prod = NULL;
    probe_note(p, "a: [3,2]; tt_tensor_add_scalar(a, %g) and tt_tensor_mul_scalar(a, %g)", s, s);
    probe_tol_elementwise(p);
    probe_status(p, "add_scalar_status", tt_tensor_add_scalar(&sum, a, s));
    probe_tensor(p, "a_plus_s", sum);
    probe_status(p, "mul_scalar_status", tt_tensor_mul_scalar(&prod, a, s));
    probe_tensor(p, "a_times_s", prod);
    tt_tensor_free(prod);
    tt_tensor_free(sum);
    tt_tensor_free(a);
}

static void case_add_noncontiguous(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *a = NULL, *out = NULL;
    probe_note(p, "out = a + b;  a = transpose of a [4,3] tensor (a view with strides [1,3]), "
                  "b: [3,4]; read a through its strides");
    probe_tol_elementwise(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&a, base, 0, 1));
    RECORD(p, tt_tensor_add(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(a);
    tt_tensor_free(b);
    tt_tensor_free(base);
}

static void case_elementwise_shape_error(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *b = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *out = NULL;
    probe_note(p, "a + b with a: [2,3]  b: [2]: the last dimensions 3 and 2 cannot be "
                  "broadcast, so TT_ERR_SHAPE and out stays NULL");
    probe_tol_exact(p);
    probe_status(p, "status", tt_tensor_add(&out, a, b));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "the same with tt_tensor_mul");
    probe_status(p, "mul_status", tt_tensor_mul(&out, a, b));
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_broadcast_shape(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 3, TT_SHAPE(2, 1, 4));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(3, 1));
    int ndim = -1;
    size_t shape[TT_MAX_DIMS] = {0};
    probe_note(p, "tt_broadcast_shape of a: [2,1,4] and b: [3,1] is [2,3,4]");
    probe_tol_exact(p);
    probe_status(p, "status", tt_broadcast_shape(&ndim, shape, a, b));
    probe_int(p, "ndim", ndim);
    for (int d = 0; d < 3; d++) {
        char label[32];
        snprintf(label, sizeof label, "shape[%d]", d);
        probe_int(p, label, (long)shape[d]);
    }
    tt_tensor_free(b);
    tt_tensor_free(a);
}

/* ------------------------------------------------------------ matmul */

static void matmul_case(tito_probe *p, int nda, const size_t *sa, int ndb, const size_t *sb,
                        const char *what)
{
    tt_tensor *a = probe_randn(p, nda, sa);
    tt_tensor *b = probe_randn(p, ndb, sb);
    tt_tensor *out = NULL;
    probe_note(p, "out = a @ b;  %s", what);
    probe_tol_reduction(p, sa[nda - 1]);
    RECORD(p, tt_tensor_matmul(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_matmul_2d(tito_probe *p)
{
    matmul_case(p, 2, TT_SHAPE(3, 4), 2, TT_SHAPE(4, 5), "a: [3,4]  b: [4,5]  -> [3,5]");
}

static void case_matmul_odd(tito_probe *p)
{
    if (probe_small(p))
        matmul_case(p, 2, TT_SHAPE(5, 7), 2, TT_SHAPE(7, 3), "a: [5,7]  b: [7,3]  -> [5,3]");
    else
        matmul_case(p, 2, TT_SHAPE(17, 33), 2, TT_SHAPE(33, 9),
                    "a: [17,33]  b: [33,9]  -> [17,9]");
}

static void case_matmul_batched(tito_probe *p)
{
    matmul_case(p, 3, TT_SHAPE(2, 3, 4), 3, TT_SHAPE(2, 4, 5),
                "a: [2,3,4]  b: [2,4,5]  -> [2,3,5]  (out[i] = a[i] @ b[i])");
}

static void case_matmul_3d_2d(tito_probe *p)
{
    matmul_case(p, 3, TT_SHAPE(2, 3, 4), 2, TT_SHAPE(4, 2),
                "a: [2,3,4]  b: [4,2]  -> [2,3,2]  (one b shared by every a[i])");
}

static void case_matmul_transposed(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *a = NULL, *out = NULL;
    probe_note(p, "out = a @ b;  a = transpose of a [4,3] tensor (strides [1,3]): [3,4]  "
                  "b: [4,2]  -> [3,2]");
    probe_tol_reduction(p, 4);
    probe_status(p, "transpose_status", tt_tensor_transpose(&a, base, 0, 1));
    RECORD(p, tt_tensor_matmul(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(a);
    tt_tensor_free(b);
    tt_tensor_free(base);
}

static void case_matmul_errors(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *v = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "a: [2,3] @ b: [4,2]: inner sizes 3 and 4 differ: TT_ERR_SHAPE");
    probe_status(p, "inner_mismatch", tt_tensor_matmul(&out, a, b));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "a: [2,3] @ v: [3]: matmul needs 2 dimensions on both sides: TT_ERR_SHAPE");
    probe_status(p, "one_dimensional", tt_tensor_matmul(&out, a, v));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(v);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

/* ------------------------------------------------------------ reductions */

static void reduce_case(tito_probe *p, const char *fn_name,
                        tt_status (*fn)(tt_tensor **, tt_tensor *, int, bool), int ndim,
                        const size_t *shape, int axis, bool keepdim, const char *shape_text)
{
    tt_tensor *x = probe_randn(p, ndim, shape);
    tt_tensor *out = NULL;
    int ax = axis < 0 ? axis + ndim : axis;
    probe_note(p, "%s(&out, x, axis %d, keepdim %s);  x: %s", fn_name, axis,
               keepdim ? "true" : "false", shape_text);
    probe_tol_reduction(p, shape[ax]);
    RECORD(p, fn(&out, x, axis, keepdim), out);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void case_sum_axis0(tito_probe *p)
{
    reduce_case(p, "tt_tensor_sum", tt_tensor_sum, 2, TT_SHAPE(4, 5), 0, false,
                "[4,5] -> [5] (column sums)");
}

static void case_sum_axis1_keepdim(tito_probe *p)
{
    reduce_case(p, "tt_tensor_sum", tt_tensor_sum, 2, TT_SHAPE(4, 5), 1, true,
                "[4,5] -> [4,1] (row sums, the reduced dimension kept with size 1)");
}

static void case_mean_last_axis(tito_probe *p)
{
    reduce_case(p, "tt_tensor_mean", tt_tensor_mean, 3, TT_SHAPE(2, 3, 4), -1, false,
                "[2,3,4] -> [2,3] (axis -1 is the last)");
}

static void case_max_axis(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(3, 4, 2));
    tt_tensor *out = NULL;
    probe_note(p, "tt_tensor_max(&out, x, axis 1, keepdim false);  x: [3,4,2] -> [3,2]");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_max(&out, x, 1, false), out);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void case_sum_mean_all(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *s = NULL, *m = NULL;
    probe_note(p, "tt_tensor_sum_all and tt_tensor_mean_all of x: [2,3,4]: 0-D results "
                  "(shape [])");
    probe_tol_reduction(p, 24);
    probe_status(p, "sum_all_status", tt_tensor_sum_all(&s, x));
    probe_tensor(p, "sum_all", s);
    probe_status(p, "mean_all_status", tt_tensor_mean_all(&m, x));
    probe_tensor(p, "mean_all", m);
    tt_tensor_free(m);
    tt_tensor_free(s);
    tt_tensor_free(x);
}

static void case_argmax(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 6));
    tt_tensor *out = NULL;
    probe_note(p, "tt_tensor_argmax(&out, x, axis 1, keepdim false);  x: [4,6] -> [4]: the "
                  "column of each row's maximum, as a float");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_argmax(&out, x, 1, false), out);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void case_reduce_noncontiguous(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(5, 3));
    tt_tensor *t = NULL, *out = NULL;
    probe_note(p, "t = transpose of x [5,3] (a [3,5] view with strides [1,3]); "
                  "tt_tensor_sum(&out, t, axis 1, keepdim false) -> [3]");
    probe_tol_reduction(p, 5);
    probe_status(p, "transpose_status", tt_tensor_transpose(&t, base, 0, 1));
    RECORD(p, tt_tensor_sum(&out, t, 1, false), out);
    tt_tensor_free(out);
    tt_tensor_free(t);
    tt_tensor_free(base);
}

static void case_reduce_errors(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *s = probe_randn(p, 0, NULL);
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "x: [2,3]; tt_tensor_sum over axis 2: out of range, TT_ERR_INVALID_ARG");
    probe_status(p, "axis_2", tt_tensor_sum(&out, x, 2, false));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "x: [2,3]; tt_tensor_mean over axis -3: out of range, TT_ERR_INVALID_ARG");
    probe_status(p, "axis_minus_3", tt_tensor_mean(&out, x, -3, false));
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "s: [] (0-D); tt_tensor_max over axis 0: a scalar has no axes, "
                  "TT_ERR_INVALID_ARG");
    probe_status(p, "scalar_axis_0", tt_tensor_max(&out, s, 0, false));
    tt_tensor_free(out);
    tt_tensor_free(s);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ speed */

typedef struct matmul_state {
    tt_tensor *a, *b;
} matmul_state;

static void *matmul_setup(tito_probe *p)
{
    /* 512 x 512 (64 x 64 with --small, for runs under Valgrind). */
    size_t n = probe_small(p) ? 64 : 512;
    matmul_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->a = probe_randn(p, 2, TT_SHAPE(n, n));
    s->b = probe_randn(p, 2, TT_SHAPE(n, n));
    if (!s->a || !s->b) {
        tt_tensor_free(s->a);
        tt_tensor_free(s->b);
        free(s);
        return NULL;
    }
    return s;
}

static void matmul_run(void *state)
{
    matmul_state *s = state;
    tt_tensor *c = NULL;
    if (tt_tensor_matmul(&c, s->a, s->b) == TT_OK)
        tt_tensor_free(c);
}

static void matmul_teardown(void *state)
{
    matmul_state *s = state;
    tt_tensor_free(s->a);
    tt_tensor_free(s->b);
    free(s);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"create.zeros", "creation", 2, case_zeros},
    {"create.full", "creation", 1, case_full},
    {"create.from_data", "creation", 2, case_from_data},
    {"create.scalar", "creation", 2, case_scalar},
    {"create.randn", "creation", 1, case_randn},
    {"create.errors", "creation", 2, case_create_errors},
    {"view.reshape", "views", 2, case_reshape},
    {"view.reshape_write_through", "views", 2, case_reshape_write_through},
    {"view.transpose", "views", 2, case_transpose},
    {"view.slice_fill", "views", 2, case_slice_fill},
    {"view.slice_last_dim", "views", 1, case_slice_columns},
    {"view.get_set", "views", 2, case_get_set},
    {"view.errors", "views", 2, case_view_errors},
    {"add.same_shape", "elementwise", 1, case_add_same_shape},
    {"add.broadcast_row", "elementwise", 2, case_add_broadcast_row},
    {"add.broadcast_col", "elementwise", 2, case_add_broadcast_col},
    {"mul.broadcast_both", "elementwise", 2, case_mul_broadcast_both},
    {"sub.scalar_tensor", "elementwise", 2, case_sub_scalar_tensor},
    {"div.broadcast_3d", "elementwise", 2, case_div_3d},
    {"scalar_ops", "elementwise", 1, case_scalar_ops},
    {"add.noncontiguous", "elementwise", 2, case_add_noncontiguous},
    {"elementwise.shape_error", "elementwise", 2, case_elementwise_shape_error},
    {"broadcast_shape", "elementwise", 1, case_broadcast_shape},
    {"matmul.2d", "matmul", 2, case_matmul_2d},
    {"matmul.odd_sizes", "matmul", 2, case_matmul_odd},
    {"matmul.batched", "matmul", 2, case_matmul_batched},
    {"matmul.3d_by_2d", "matmul", 2, case_matmul_3d_2d},
    {"matmul.transposed_input", "matmul", 2, case_matmul_transposed},
    {"matmul.errors", "matmul", 2, case_matmul_errors},
    {"sum.axis0", "reductions", 2, case_sum_axis0},
    {"sum.axis1_keepdim", "reductions", 2, case_sum_axis1_keepdim},
    {"mean.last_axis", "reductions", 2, case_mean_last_axis},
    {"max.axis1", "reductions", 2, case_max_axis},
    {"sum_mean_all", "reductions", 1, case_sum_mean_all},
    {"argmax.axis1", "reductions", 2, case_argmax},
    {"sum.noncontiguous", "reductions", 1, case_reduce_noncontiguous},
    {"reduce.errors", "reductions", 2, case_reduce_errors},
};

static const tito_probe_perf perfs[] = {
    {"matmul_512", matmul_setup, matmul_run, matmul_teardown},
};

TITO_PROBE_MAIN_WITH_PERF(cases, perfs)
