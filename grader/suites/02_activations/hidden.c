/*
 * grader/suites/02_activations/hidden.c: the hidden checks of module 02 (activations).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. They probe the same contract as visible.c from other
 * angles (inputs far beyond 1e4, tiny inputs where cancellation shows, -inf entries,
 * long slices, chains of views, every axis of 4-D inputs, gradients through views,
 * allocation failures while recording) so that fitting the visible checks alone does
 * not get full marks.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

#include "helpers.h"

static void record_softmax(tito_probe *p, const char *name, tt_tensor *x, int axis)
{
    char label[64];
    tt_tensor *y = NULL;
    tt_status st = tt_softmax(&y, x, axis);
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_tensor(p, label2(label, sizeof label, name, "out"), y);
    tt_tensor_free(y);
}

/* ------------------------------------------------------------ cases */

static void case_far_beyond_1e4(tito_probe *p)
{
    const float v[8] = {-1e20f, -1e13f, -1e6f, -1e5f, 1e5f, 1e6f, 1e13f, 1e20f};
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(2, 4), v);
    probe_note(p, "x = [-1e20, -1e13, -1e6, -1e5, 1e5, 1e6, 1e13, 1e20] (x^3 overflows "
                  "float from about 7e12 on): the exact limits, no nan");
    probe_tol_exact(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
}

static void case_tiny_inputs(tito_probe *p)
{
    float v[12];
    for (int i = 0; i < 12; i++) {
        float m = tt_rng_uniform(probe_rng(p)) + 0.5f;
        float e = powf(10.0f, -(float)(2 + i % 6)); /* 1e-2 .. 1e-7 */
        v[i] = (i % 2 ? -m : m) * e;
    }
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(3, 4), v);
    probe_note(p, "x: [3,4] of magnitudes 1e-2 to 1e-7, both signs: tanh(x) ~ x and "
                  "gelu(x) ~ x/2 to full relative precision (a formula that subtracts two "
                  "numbers close to 1 loses them)");
    probe_tol_elementwise(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
}

static void case_large_tensor(tito_probe *p)
{
    size_t r = probe_small(p) ? 6 : 64, c = probe_small(p) ? 9 : 129;
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(r, c), -10.0f, 10.0f);
    probe_note(p, "each function on x: [%zu,%zu] uniform in [-10, 10)", r, c);
    probe_tol_elementwise(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
}

static void case_view_chain(tito_probe *p)
{
    tt_tensor *base = probe_uniform(p, 3, TT_SHAPE(3, 4, 5), -4.0f, 4.0f);
    tt_tensor *s = NULL, *x = NULL;
    probe_note(p, "x = transpose(slice(base, dim 2, [1,4)), 0, 2) with base: [3,4,5]: a "
                  "[3,4,3] view with offset 1 and strides [1,5,20]; each function and "
                  "tt_softmax(x, 1)");
    probe_tol_exact(p);
    probe_status(p, "slice_status", tt_tensor_slice(&s, base, 2, 1, 4));
    probe_status(p, "transpose_status", tt_tensor_transpose(&x, s, 0, 2));
    probe_tol_elementwise(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    record_softmax(p, "tt_softmax", x, 1);
    tt_tensor_free(x);
    tt_tensor_free(s);
    tt_tensor_free(base);
}

static void case_softmax_4d_every_axis(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 4, TT_SHAPE(2, 3, 2, 3), -6.0f, 6.0f);
    const int axes[4] = {0, -1, 2, -4};
    probe_note(p, "tt_softmax of x: [2,3,2,3] along axes 0, -1, 2 and -4");
    probe_tol_elementwise(p);
    for (int a = 0; a < 4; a++) {
        char name[32];
        snprintf(name, sizeof name, "axis_%d", axes[a]);
        record_softmax(p, name, x, axes[a]);
    }
    tt_tensor_free(x);
}

static void case_softmax_neg_inf(tito_probe *p)
{
    const float inf = INFINITY;
    const float v[12] = {0.0f, -inf, 1.0f, -inf, -inf, 2.0f, -inf, -inf,
                         3.0f, 3.0f, -inf, 1e4f};
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(3, 4), v);
    probe_note(p, "tt_softmax(x, 1) with -inf entries (masked positions): rows "
                  "[0, -inf, 1, -inf], [-inf, 2, -inf, -inf], [3, 3, -inf, 1e4]; a -inf "
                  "gets exactly 0, the rest is the softmax of the finite entries");
    probe_tol_elementwise(p);
    record_softmax(p, "tt_softmax", x, 1);
    tt_tensor_free(x);
}

static void case_softmax_long_slices(tito_probe *p)
{
    size_t len = probe_small(p) ? 100 : 3000;
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(3, len), -3.0f, 3.0f);
    tt_tensor *y = NULL, *sums = NULL;
    probe_note(p, "tt_softmax(x, 1) with x: [3,%zu]: each of the many small terms to 1e-5 "
                  "relative, and each row of the result sums to 1",
               len);
    probe_tol_exact(p);
    probe_status(p, "status", tt_softmax(&y, x, 1));
    probe_tol_elementwise(p);
    probe_tensor(p, "out", y);
    if (readable_like(y, x))
        tt_tensor_sum(&sums, y, 1, false);
    probe_tol_reduction(p, len);
    probe_tensor(p, "row_sums", sums);
    tt_tensor_free(sums);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_softmax_sliced_axis0(tito_probe *p)
{
    tt_tensor *base = probe_uniform(p, 2, TT_SHAPE(6, 5), -5.0f, 5.0f);
    tt_tensor *x = NULL;
    probe_note(p, "x = rows [2, 6) and then columns [1, 4) of a [6,5] tensor: a [4,3] view "
                  "with offset 11; tt_softmax(x, 0) and tt_softmax(x, -1)");
    probe_tol_exact(p);
    tt_tensor *rows = NULL;
    probe_status(p, "slice_rows_status", tt_tensor_slice(&rows, base, 0, 2, 6));
    probe_status(p, "slice_cols_status", tt_tensor_slice(&x, rows, 1, 1, 4));
    probe_tol_elementwise(p);
    record_softmax(p, "axis_0", x, 0);
    record_softmax(p, "axis_-1", x, -1);
    tt_tensor_free(x);
    tt_tensor_free(rows);
    tt_tensor_free(base);
}

static void case_softmax_3d_errors(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    const int axes[4] = {3, -4, 7, -3};
    probe_note(p, "x: [2,3,4]: axes 3, -4 and 7 are TT_ERR_INVALID_ARG with out set to NULL; "
                  "axis -3 (= 0) is valid");
    for (int a = 0; a < 4; a++) {
        char label[64];
        tt_tensor *y = &not_a_result;
        tt_status st = tt_softmax(&y, x, axes[a]);
        probe_tol_exact(p);
        snprintf(label, sizeof label, "axis_%d.status", axes[a]);
        probe_status(p, label, st);
        snprintf(label, sizeof label, "axis_%d.out_is_NULL", axes[a]);
        probe_int(p, label, y == NULL);
        if (st == TT_OK && y != &not_a_result) {
            probe_tol_elementwise(p);
            snprintf(label, sizeof label, "axis_%d.out", axes[a]);
            probe_tensor(p, label, y);
        }
        free_result(y);
    }
    tt_tensor_free(x);
}

static void case_grad_through_view(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(3, 2), -3.0f, 3.0f);
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(2, 3));
    probe_note(p, "x: [3,2] requires grad; v = transpose(x) (recorded by the reference); "
                  "y = f(v) for each function and softmax(v, 0); the reference's backward of "
                  "sum(g * y) must reach x: your op records v, the tensor it was given, as "
                  "its input (not the contiguous copy it read)");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    for (size_t k = 0; k <= N_UNARY; k++) {
        char label[64];
        const char *name = k < N_UNARY ? UNARY[k].name : "tt_softmax";
        tt_tensor *v = NULL, *y = NULL;
        probe_tol_exact(p);
        probe_status(p, label2(label, sizeof label, name, "transpose_status"),
                     tt_tensor_transpose(&v, x, 0, 1));
        tt_status st = k < N_UNARY ? UNARY[k].fn(&y, v) : tt_softmax(&y, v, 0);
        probe_status(p, label2(label, sizeof label, name, "status"), st);
        tt_tensor_zero_grad(x);
        st = v && readable_like(y, v) && y->grad_fn ? tt_backward_with(y, g) : TT_ERR_STATE;
        probe_status(p, label2(label, sizeof label, name, "backward_status"), st);
        probe_tol_elementwise(p);
        probe_tensor(p, label2(label, sizeof label, name, "x.grad"), x->grad);
        tt_tensor_free(y);
        tt_tensor_free(v);
    }
    tt_tensor_zero_grad(x);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_allocation_failures_recording(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 2, 3));
    tt_tensor *xt = NULL;
    probe_note(p, "x: [2,2,3] requires grad (so the result also records a graph node) and a "
                  "transposed view of it; each allocation made to fail in turn: TT_ERR_NOMEM, "
                  "out NULL, nothing leaked");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "transpose_status", tt_tensor_transpose(&xt, x, 0, 2));
    for (size_t k = 0; k <= N_UNARY; k++) {
        char name[64];
        const char *fn = k < N_UNARY ? UNARY[k].name : "tt_softmax";
        unary_fn f = k < N_UNARY ? UNARY[k].fn : NULL;
        record_allocation_failures(p, label2(name, sizeof name, fn, "x"), f, -2, x);
        record_allocation_failures(p, label2(name, sizeof name, fn, "transposed"), f, 0, xt);
    }
    tt_tensor_free(xt);
    tt_tensor_free(x);
}

static void case_ones_and_minus_ones(tito_probe *p)
{
    const float v[6] = {1.0f, -1.0f, 0.5f, -0.5f, 3.0f, -3.0f};
    tt_tensor *x = probe_from_data(p, 1, TT_SHAPE(6), v);
    probe_note(p, "x = [1, -1, 0.5, -0.5, 3, -3]: known points of each curve (sigmoid(0.5) + "
                  "sigmoid(-0.5) = 1, tanh odd, gelu(-3) ~ -0.0036)");
    probe_tol_elementwise(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
}

static const tito_probe_case cases[] = {
    {"stability.far_beyond_1e4", "stability", 2, case_far_beyond_1e4},
    {"values.tiny_inputs", "values", 2, case_tiny_inputs},
    {"values.known_points", "values", 1, case_ones_and_minus_ones},
    {"values.large_tensor", "values", 1, case_large_tensor},
    {"views.chain", "views", 2, case_view_chain},
    {"softmax.4d_every_axis", "softmax", 2, case_softmax_4d_every_axis},
    {"softmax.neg_inf_entries", "softmax", 1, case_softmax_neg_inf},
    {"softmax.long_slices", "softmax", 2, case_softmax_long_slices},
    {"softmax.sliced_view", "views", 1, case_softmax_sliced_axis0},
    {"errors.softmax_3d_axes", "errors", 1, case_softmax_3d_errors},
    {"autograd.through_views", "autograd", 2, case_grad_through_view},
    {"memory.allocation_failures_recording", "memory", 2, case_allocation_failures_recording},
};

TITO_PROBE_MAIN(cases)
