/*
 * grader/suites/01_tensor/hidden.c: the hidden checks of module 01 (tensor).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. They probe the same contract as visible.c from
 * other angles (4-D shapes, chains of views, ties, IEEE specials, scalars, aliasing)
 * so that fitting the visible checks alone does not get full marks.
 */
#include <math.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/tensor.h"

#include "helpers.h"

static void binary_case(tito_probe *p, tt_status (*fn)(tt_tensor **, tt_tensor *, tt_tensor *),
                        tt_tensor *a, tt_tensor *b, const char *what)
{
    tt_tensor *out = NULL;
    probe_note(p, "%s", what);
    probe_tol_elementwise(p);
    RECORD(p, fn(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_broadcast_4d(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 4, TT_SHAPE(2, 1, 3, 1));
    tt_tensor *b = probe_randn(p, 3, TT_SHAPE(4, 1, 5));
    binary_case(p, tt_tensor_add, a, b, "a: [2,1,3,1]  b: [4,1,5]  -> [2,4,3,5]");
}

static void case_broadcast_noncontiguous(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(1, 3));
    tt_tensor *col = NULL;
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(3, 4));
    probe_status(p, "transpose_status", tt_tensor_transpose(&col, base, 0, 1));
    tt_tensor_free(base);
    binary_case(p, tt_tensor_mul, col, b,
                "a = transpose of a [1,3] tensor: [3,1] (stride 1 on dim 0)  b: [3,4]");
}

static void case_div_ieee(tito_probe *p)
{
    const float av[6] = {1.0f, -2.0f, 0.0f, 3.5f, -0.0f, 4.0f};
    const float bv[6] = {0.0f, 0.0f, 0.0f, 2.0f, 1.0f, -8.0f};
    tt_tensor *a = probe_from_data(p, 2, TT_SHAPE(2, 3), av);
    tt_tensor *b = probe_from_data(p, 2, TT_SHAPE(2, 3), bv);
    binary_case(p, tt_tensor_div, a, b,
                "a / b with zeros in b: IEEE results (inf, -inf, nan), not an error");
}

static void case_sub_scalars(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 0, NULL);
    tt_tensor *b = probe_randn(p, 0, NULL);
    binary_case(p, tt_tensor_sub, a, b, "a: []  b: []  -> []  (0-D minus 0-D is 0-D)");
}

static void case_matmul_4d(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 4, TT_SHAPE(2, 2, 3, 4));
    tt_tensor *b = probe_randn(p, 4, TT_SHAPE(2, 2, 4, 3));
    tt_tensor *out = NULL;
    probe_note(p, "a: [2,2,3,4] @ b: [2,2,4,3] -> [2,2,3,3]");
    probe_tol_reduction(p, 4);
    RECORD(p, tt_tensor_matmul(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_matmul_sliced(tito_probe *p)
{
    size_t m = probe_small(p) ? 3 : 9, k = probe_small(p) ? 5 : 21, n = probe_small(p) ? 2 : 7;
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(m, k + 3));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(k, n));
    tt_tensor *a = NULL, *out = NULL;
    probe_note(p, "a = columns [2, %zu) of a [%zu,%zu] tensor (row stride %zu, offset 2)  "
                  "b: [%zu,%zu]", k + 2, m, k + 3, k + 3, k, n);
    probe_tol_reduction(p, k);
    probe_status(p, "slice_status", tt_tensor_slice(&a, base, 1, 2, k + 2));
    RECORD(p, tt_tensor_matmul(&out, a, b), out);
    tt_tensor_free(out);
    tt_tensor_free(a);
    tt_tensor_free(b);
    tt_tensor_free(base);
}

static void case_matmul_batch_mismatch(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *b = probe_randn(p, 3, TT_SHAPE(3, 4, 5));
    tt_tensor *out = NULL;
    probe_note(p, "a: [2,3,4] @ b: [3,4,5]: batch dimensions 2 and 3 differ: TT_ERR_SHAPE");
    probe_tol_exact(p);
    probe_status(p, "status", tt_tensor_matmul(&out, a, b));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_sum_middle_keepdim(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 3, 5, 2));
    tt_tensor *out = NULL;
    probe_note(p, "tt_tensor_sum(x, axis 2, keepdim true);  x: [2,3,5,2] -> [2,3,1,2]");
    probe_tol_reduction(p, 5);
    RECORD(p, tt_tensor_sum(&out, x, 2, true), out);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void case_mean_1d(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(7));
    tt_tensor *out = NULL;
    probe_note(p, "tt_tensor_mean(x, axis 0, keepdim false);  x: [7] -> [] (0-D)");
    probe_tol_reduction(p, 7);
    RECORD(p, tt_tensor_mean(&out, x, 0, false), out);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void case_argmax_ties(tito_probe *p)
{
    const float v[12] = {1, 3, 3, 0, 2, 2, 2, 2, -1, 5, 0, 5};
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(3, 4), v);
    tt_tensor *out = NULL, *out0 = NULL;
    probe_note(p, "x: [3,4] with tied maxima; argmax along axis 1 (keepdim) and axis 0 pick "
                  "the first maximum");
    probe_tol_exact(p);
    RECORD(p, tt_tensor_argmax(&out, x, 1, true), out);
    probe_status(p, "axis0_status", tt_tensor_argmax(&out0, x, 0, false));
    probe_tensor(p, "axis0", out0);
    tt_tensor_free(out0);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void case_reshape_noncontiguous(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *t = NULL, *out = NULL;
    probe_note(p, "t = transpose of x [3,4]: [4,3], not contiguous; reshape(t, [2,6]) copies "
                  "t's elements in row-major order into a new storage");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&t, base, 0, 1));
    RECORD(p, tt_tensor_reshape(&out, t, 2, (const ptrdiff_t[]){2, 6}), out);
    probe_int(p, "shares_storage_with_x", shares(out, base));
    tt_tensor_free(out);
    tt_tensor_free(t);
    tt_tensor_free(base);
}

static void case_view_chain_write(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 3, TT_SHAPE(2, 4, 3));
    tt_tensor *s = NULL, *t = NULL;
    probe_note(p, "x: [2,4,3]; s = slice(x, dim 1, [1,3)) is [2,2,3]; t = transpose(s, 0, 2) "
                  "is [3,2,2]; tt_tensor_set(t, [2,1,0], 9) writes x[0,2,2]");
    probe_tol_exact(p);
    probe_status(p, "slice_status", tt_tensor_slice(&s, base, 1, 1, 3));
    RECORD(p, tt_tensor_transpose(&t, s, 0, 2), t);
    probe_status(p, "set_status", tt_tensor_set(t, TT_SHAPE(2, 1, 0), 9.0f));
    probe_tensor(p, "x_after_set", base);
    tt_tensor_free(t);
    tt_tensor_free(s);
    tt_tensor_free(base);
}

static void case_copy_independent(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *t = NULL, *c = NULL;
    probe_note(p, "c = tt_tensor_copy(transpose(x)); then tt_tensor_fill(x, 0): c keeps the "
                  "values (its own storage)");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&t, x, 0, 1));
    RECORD(p, tt_tensor_copy(&c, t), c);
    probe_status(p, "fill_status", tt_tensor_fill(x, 0.0f));
    probe_tensor(p, "copy_after_fill", c);
    probe_int(p, "is_contiguous", tt_tensor_is_contiguous(c));
    tt_tensor_free(c);
    tt_tensor_free(t);
    tt_tensor_free(x);
}

static void case_assign_overlap(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 3));
    tt_tensor *t = NULL;
    probe_note(p, "x: [3,3]; tt_tensor_assign(x, transpose(x)): the source overlaps the "
                  "destination, x must end up as the transpose of the old x");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&t, x, 0, 1));
    probe_status(p, "assign_status", tt_tensor_assign(x, t));
    probe_tensor(p, "x", x);
    tt_tensor_free(t);
    tt_tensor_free(x);
}

static void case_to_array_view(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 5));
    tt_tensor *s = NULL, *c = NULL;
    float buf[8] = {0};
    probe_note(p, "s = slice(x, dim 1, [1,3)) of x: [4,5]; tt_tensor_to_array(s, buf, 8) and "
                  "tt_tensor_contiguous(s) (a new tensor, since s is not contiguous)");
    probe_tol_exact(p);
    probe_status(p, "slice_status", tt_tensor_slice(&s, x, 1, 1, 3));
    probe_status(p, "to_array_status", tt_tensor_to_array(s, buf, 8));
    for (int i = 0; i < 8; i++) {
        char label[16];
        snprintf(label, sizeof label, "buf[%d]", i);
        probe_scalar(p, label, buf[i]);
    }
    probe_status(p, "contiguous_status", tt_tensor_contiguous(&c, s));
    probe_tensor(p, "contiguous", c);
    probe_int(p, "contiguous_shares_storage", shares(c, x));
    probe_status(p, "to_array_too_small", tt_tensor_to_array(s, buf, 7));
    tt_tensor_free(c);
    tt_tensor_free(s);
    tt_tensor_free(x);
}

static const tito_probe_case cases[] = {
    {"add.broadcast_4d", "elementwise", 2, case_broadcast_4d},
    {"mul.broadcast_noncontiguous", "elementwise", 2, case_broadcast_noncontiguous},
    {"div.ieee_specials", "elementwise", 1, case_div_ieee},
    {"sub.scalars", "elementwise", 1, case_sub_scalars},
    {"matmul.4d", "matmul", 2, case_matmul_4d},
    {"matmul.sliced_input", "matmul", 2, case_matmul_sliced},
    {"matmul.batch_mismatch", "matmul", 1, case_matmul_batch_mismatch},
    {"sum.middle_axis_keepdim", "reductions", 2, case_sum_middle_keepdim},
    {"mean.1d_to_scalar", "reductions", 1, case_mean_1d},
    {"argmax.ties", "reductions", 2, case_argmax_ties},
    {"reshape.noncontiguous", "views", 2, case_reshape_noncontiguous},
    {"view.chain_write", "views", 2, case_view_chain_write},
    {"copy.independent", "views", 1, case_copy_independent},
    {"assign.overlap", "views", 2, case_assign_overlap},
    {"to_array.view", "views", 1, case_to_array_view},
};

TITO_PROBE_MAIN(cases)
