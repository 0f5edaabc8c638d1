/*
 * grader/suites/02_activations/visible.c: the visible checks of module 02 (activations).
 *
 * You can read this file: it is exactly what `tito` runs against your activations.c and
 * against the course's reference, on the same random inputs. Each case calls your
 * functions and records what came back (status codes, shapes, values); tito compares
 * your records with the reference's, within the tolerance stated before each record:
 *   exact        statuses, shapes, flags, the exact limits at the tails (0, 1, -1, x);
 *   elementwise  |got - expected| <= 1e-6 + 1e-5 |expected| (one formula per value);
 *   reduction    over k terms: |got - expected| <= 1e-5 sqrt(k) (1 + |expected|), for
 *                sums of your outputs computed by the probe.
 * A case must also free what it made: your module's allocations still live after the
 * case are compared with the reference's (a difference is a leak).
 *
 * Everything except activations.c is the course's reference while module 02 is graded:
 * inputs are built by the grading harness, and the gradient checks run the reference's
 * autograd (module 05) through the recording lines at the end of your functions.
 */
#include <fenv.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

/* UNARY (the four element-wise activations), not_a_result, label2, readable_like,
 * record_unary and record_allocation_failures, which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ helpers */

/* 1 when the last error message mentions `word` (messages name the function). */
static long message_mentions(const char *word)
{
    return strstr(tt_error_last(), word) != NULL;
}

/* Softmax of x along axis: status and result. */
static void record_softmax(tito_probe *p, tt_tensor *x, int axis)
{
    tt_tensor *y = NULL;
    tt_status st = tt_softmax(&y, x, axis);
    probe_status(p, "status", st);
    probe_tensor(p, "out", y);
    tt_tensor_free(y);
}

/* ------------------------------------------------------------ elementwise values */

static void unary_values_case(tito_probe *p, size_t k)
{
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(4, 5), -6.0f, 6.0f);
    probe_note(p, "%s(&out, x);  x: [4,5] uniform in [-6, 6)  -> out: [4,5]", UNARY[k].name);
    probe_tol_elementwise(p);
    record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
}

static void case_relu_values(tito_probe *p)
{
    unary_values_case(p, 0);
}

static void case_sigmoid_values(tito_probe *p)
{
    unary_values_case(p, 1);
}

static void case_tanh_values(tito_probe *p)
{
    unary_values_case(p, 2);
}

static void case_gelu_values(tito_probe *p)
{
    unary_values_case(p, 3);
}

static void case_relu_zero_and_signs(tito_probe *p)
{
    const float v[6] = {0.0f, -0.0f, 1e-30f, -1e-30f, 2.5f, -2.5f};
    tt_tensor *x = probe_from_data(p, 1, TT_SHAPE(6), v);
    probe_note(p, "tt_relu of [0, -0, 1e-30, -1e-30, 2.5, -2.5]: max(x, 0), tiny values kept");
    probe_tol_exact(p);
    record_unary(p, "tt_relu", tt_relu, x);
    tt_tensor_free(x);
}

static void case_tails_exact(tito_probe *p)
{
    const float v[4] = {-1e4f, -1000.0f, 1000.0f, 1e4f};
    tt_tensor *x = probe_from_data(p, 1, TT_SHAPE(4), v);
    probe_note(p, "x = [-1e4, -1000, 1000, 1e4]: the exact limits. sigmoid 0 or 1, tanh -1 "
                  "or 1, gelu 0 or x, relu 0 or x; finite, no nan");
    probe_tol_exact(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
}

static void case_no_overflow_on_the_way(tito_probe *p)
{
    const float v[6] = {-1e4f, -1000.0f, -100.0f, 100.0f, 1000.0f, 1e4f};
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(2, 3), v);
    probe_note(p, "x: [2,3] = [[-1e4, -1000, -100], [100, 1000, 1e4]]; after each function "
                  "(and softmax along axis 1) the floating-point flags FE_OVERFLOW, "
                  "FE_INVALID and FE_DIVBYZERO must still be clear: no exp() of a large "
                  "positive number, no inf/inf, even when the final answer would be right");
    probe_tol_exact(p);
    for (size_t k = 0; k <= N_UNARY; k++) {
        char label[64];
        const char *name = k < N_UNARY ? UNARY[k].name : "tt_softmax";
        tt_tensor *y = NULL;
        feclearexcept(FE_ALL_EXCEPT);
        tt_status st = k < N_UNARY ? UNARY[k].fn(&y, x) : tt_softmax(&y, x, 1);
        int raised = fetestexcept(FE_OVERFLOW | FE_INVALID | FE_DIVBYZERO);
        probe_status(p, label2(label, sizeof label, name, "status"), st);
        probe_int(p, label2(label, sizeof label, name, "overflow_flag"),
                  (raised & FE_OVERFLOW) != 0);
        probe_int(p, label2(label, sizeof label, name, "invalid_flag"),
                  (raised & FE_INVALID) != 0);
        probe_int(p, label2(label, sizeof label, name, "divbyzero_flag"),
                  (raised & FE_DIVBYZERO) != 0);
        tt_tensor_free(y);
    }
    tt_tensor_free(x);
}

static void case_gelu_negative(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 1, TT_SHAPE(8), -7.0f, -3.0f);
    probe_note(p, "tt_gelu of x: [8] uniform in [-7, -3): tiny negative results (about -1e-3 "
                  "to -1e-11); 0.5 (1 + tanh(u)) loses its digits there, x * sigmoid(2u) "
                  "does not");
    probe_tol_elementwise(p);
    record_unary(p, "tt_gelu", tt_gelu, x);
    tt_tensor_free(x);
}

static void case_unary_transposed(tito_probe *p)
{
    tt_tensor *base = probe_uniform(p, 2, TT_SHAPE(3, 5), -4.0f, 4.0f);
    tt_tensor *x = NULL;
    probe_note(p, "x = transpose of a [3,5] tensor: a [5,3] view with strides [1,5]; each "
                  "function reads x through its strides and returns a new [5,3] tensor");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&x, base, 0, 1));
    probe_tol_elementwise(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static void case_unary_sliced(tito_probe *p)
{
    tt_tensor *base = probe_uniform(p, 2, TT_SHAPE(4, 6), -4.0f, 4.0f);
    tt_tensor *x = NULL;
    probe_note(p, "x = columns [2, 5) of a [4,6] tensor: a [4,3] view with offset 2 and row "
                  "stride 6");
    probe_tol_exact(p);
    probe_status(p, "slice_status", tt_tensor_slice(&x, base, 1, 2, 5));
    probe_tol_elementwise(p);
    for (size_t k = 0; k < N_UNARY; k++)
        record_unary(p, UNARY[k].name, UNARY[k].fn, x);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static void case_unary_shapes(tito_probe *p)
{
    tt_tensor *s = probe_uniform(p, 0, NULL, -3.0f, 3.0f);
    tt_tensor *x4 = probe_uniform(p, 4, TT_SHAPE(2, 1, 3, 2), -3.0f, 3.0f);
    probe_note(p, "each function on a 0-D tensor (shape []) and on a 4-D one [2,1,3,2]: "
                  "the result has the input's shape");
    probe_tol_elementwise(p);
    for (size_t k = 0; k < N_UNARY; k++) {
        char name[64];
        record_unary(p, label2(name, sizeof name, UNARY[k].name, "scalar"), UNARY[k].fn, s);
        record_unary(p, label2(name, sizeof name, UNARY[k].name, "4d"), UNARY[k].fn, x4);
    }
    tt_tensor_free(x4);
    tt_tensor_free(s);
}

static void case_input_untouched(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(3, 4), -5.0f, 5.0f);
    probe_note(p, "x: [3,4]; after every function and tt_softmax(x, 0), x is unchanged and "
                  "no result shares x's storage (each result is a new tensor)");
    probe_tol_exact(p);
    for (size_t k = 0; k <= N_UNARY; k++) {
        char label[64];
        const char *name = k < N_UNARY ? UNARY[k].name : "tt_softmax";
        tt_tensor *y = NULL;
        tt_status st = k < N_UNARY ? UNARY[k].fn(&y, x) : tt_softmax(&y, x, 0);
        probe_status(p, label2(label, sizeof label, name, "status"), st);
        probe_int(p, label2(label, sizeof label, name, "result_shares_storage_with_x"),
                  y && y->storage == x->storage);
        tt_tensor_free(y);
    }
    probe_tensor(p, "x_after_all_calls", x);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ softmax */

static void softmax_case(tito_probe *p, int ndim, const size_t *shape, int axis,
                         const char *what)
{
    tt_tensor *x = probe_uniform(p, ndim, shape, -5.0f, 5.0f);
    probe_note(p, "tt_softmax(&out, x, %d);  x: %s uniform in [-5, 5)", axis, what);
    probe_tol_elementwise(p);
    record_softmax(p, x, axis);
    tt_tensor_free(x);
}

static void case_softmax_2d_axis1(tito_probe *p)
{
    softmax_case(p, 2, TT_SHAPE(4, 6), 1, "[4,6]; each row sums to 1");
}

static void case_softmax_2d_axis0(tito_probe *p)
{
    softmax_case(p, 2, TT_SHAPE(4, 6), 0, "[4,6]; each column sums to 1");
}

static void case_softmax_last_axis_negative(tito_probe *p)
{
    softmax_case(p, 3, TT_SHAPE(2, 3, 5), -1, "[2,3,5]; axis -1 is axis 2 (slices of 5)");
}

static void case_softmax_3d_axis0(tito_probe *p)
{
    softmax_case(p, 3, TT_SHAPE(3, 2, 4), 0,
                 "[3,2,4]; a slice is x[:, j, k]: 3 values spaced 8 apart in memory");
}

static void case_softmax_3d_middle(tito_probe *p)
{
    softmax_case(p, 3, TT_SHAPE(2, 4, 3), -2,
                 "[2,4,3]; axis -2 is axis 1: slices x[i, :, k] of 4 values spaced 3 apart");
}

static void case_softmax_4d(tito_probe *p)
{
    softmax_case(p, 4, TT_SHAPE(2, 3, 2, 2), 1, "[2,3,2,2]; axis 1");
}

static void case_softmax_slices_sum_to_one(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 3, TT_SHAPE(3, 7, 2), -8.0f, 8.0f);
    tt_tensor *y = NULL, *sums = NULL;
    probe_note(p, "y = tt_softmax(x, 1) with x: [3,7,2] uniform in [-8, 8); the probe sums "
                  "y along axis 1: every slice sums to 1, so sums is [3,2] of ones");
    probe_tol_exact(p);
    probe_status(p, "status", tt_softmax(&y, x, 1));
    if (readable_like(y, x))
        tt_tensor_sum(&sums, y, 1, false);
    probe_tol_reduction(p, 7);
    probe_tensor(p, "sums_along_axis_1", sums);
    tt_tensor_free(sums);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_softmax_huge(tito_probe *p)
{
    const float v[16] = {1000.0f, 1000.0f, -1000.0f, 0.0f,   /* two equal winners */
                         1e4f,    0.0f,    -1e4f,    1e4f,   /* huge, two winners */
                         -1e4f,   -1e4f,   -1e4f,    -1e4f,  /* all equal: uniform */
                         -1000.0f, -999.0f, -998.0f, -997.0f};
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(4, 4), v);
    probe_note(p, "tt_softmax along axis 1 of rows [1000, 1000, -1000, 0], [1e4, 0, -1e4, 1e4], "
                  "[-1e4 x4], [-1000, -999, -998, -997]: subtract the row maximum first "
                  "(expected rows: [0.5, 0.5, 0, 0], [0.5, 0, 0, 0.5], [0.25 x4], and the "
                  "softmax of [0, 1, 2, 3])");
    probe_tol_elementwise(p);
    record_softmax(p, x, 1);
    tt_tensor_free(x);
}

static void case_softmax_shift_invariance(tito_probe *p)
{
    /* Multiples of 1/8 stay exact after adding these shifts, so any difference between
     * softmax(x + c) and softmax(x) comes from the kernel, not from the inputs. */
    float base[12], shifted[12];
    for (int i = 0; i < 12; i++)
        base[i] = ((float)tt_rng_below(probe_rng(p), 65) - 32.0f) / 8.0f;
    const float shifts[3] = {1000.0f, -1e4f, 1e5f};
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(3, 4), base);
    tt_tensor *y = NULL;
    probe_note(p, "x: [3,4] (multiples of 1/8 in [-4, 4]); softmax(x + c, 1) for c = 1000, "
                  "-1e4, 1e5 must equal softmax(x, 1): the probe records the largest "
                  "difference, which must be at most 1e-7");
    probe_tol_exact(p);
    probe_status(p, "status", tt_softmax(&y, x, 1));
    for (int s = 0; s < 3; s++) {
        char label[64];
        for (int i = 0; i < 12; i++)
            shifted[i] = base[i] + shifts[s];
        tt_tensor *xs = probe_from_data(p, 2, TT_SHAPE(3, 4), shifted);
        tt_tensor *ys = NULL;
        tt_status st = tt_softmax(&ys, xs, 1);
        double worst = -1.0; /* -1: a result that cannot be read */
        if (readable_like(y, x) && readable_like(ys, x)) {
            worst = 0.0;
            const float *a = tt_tensor_data(y), *b = tt_tensor_data(ys);
            for (int i = 0; i < 12; i++) {
                double d = (double)a[i] - (double)b[i];
                d = d < 0 ? -d : d;
                if (!(d <= worst)) /* nan counts as the worst */
                    worst = d;
            }
        }
        snprintf(label, sizeof label, "shift_%g.status", (double)shifts[s]);
        probe_tol_exact(p);
        probe_status(p, label, st);
        snprintf(label, sizeof label, "shift_%g.largest_change", (double)shifts[s]);
        probe_tol(p, 1e-7, 0.0);
        probe_scalar(p, label, worst);
        tt_tensor_free(ys);
        tt_tensor_free(xs);
    }
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_softmax_transposed(tito_probe *p)
{
    tt_tensor *base = probe_uniform(p, 2, TT_SHAPE(3, 5), -5.0f, 5.0f);
    tt_tensor *x = NULL;
    probe_note(p, "x = transpose of a [3,5] tensor ([5,3], strides [1,5]); tt_softmax(x, 1): "
                  "each row of the view sums to 1");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&x, base, 0, 1));
    probe_tol_elementwise(p);
    record_softmax(p, x, 1);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static void case_softmax_single_element_slices(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(3, 1), -100.0f, 100.0f);
    tt_tensor *v = probe_uniform(p, 1, TT_SHAPE(5), -2.0f, 2.0f);
    probe_note(p, "tt_softmax(x, 1) with x: [3,1]: every slice has one element, so every "
                  "value is exactly 1; then a 1-D x: [5] along axis 0 (one slice)");
    probe_tol_exact(p);
    record_softmax(p, x, 1);
    probe_tol_elementwise(p);
    record_softmax(p, v, 0);
    tt_tensor_free(v);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ errors */

static void case_softmax_errors(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *s = probe_randn(p, 0, NULL);
    const int bad[4] = {2, -3, 100, -100};
    probe_tol_exact(p);
    for (int i = 0; i < 4; i++) {
        char label[64];
        tt_tensor *y = &not_a_result;
        probe_note(p, "x: [2,3]; tt_softmax(&out, x, %d): the axis is outside [-2, 2), "
                      "TT_ERR_INVALID_ARG with out set to NULL and a message naming "
                      "tt_softmax",
                   bad[i]);
        snprintf(label, sizeof label, "axis_%d.status", bad[i]);
        probe_status(p, label, tt_softmax(&y, x, bad[i]));
        snprintf(label, sizeof label, "axis_%d.out_is_NULL", bad[i]);
        probe_int(p, label, y == NULL);
        snprintf(label, sizeof label, "axis_%d.message_names_tt_softmax", bad[i]);
        probe_int(p, label, message_mentions("tt_softmax"));
        free_result(y);
    }
    tt_tensor *y = &not_a_result;
    probe_note(p, "s: [] (0-D); tt_softmax(&out, s, 0): a scalar has no axis to normalise "
                  "along, TT_ERR_INVALID_ARG, out set to NULL");
    probe_status(p, "scalar.status", tt_softmax(&y, s, 0));
    probe_int(p, "scalar.out_is_NULL", y == NULL);
    free_result(y);
    tt_tensor_free(s);
    tt_tensor_free(x);
}

static void case_null_arguments(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(3));
    probe_tol_exact(p);
    for (size_t k = 0; k <= N_UNARY; k++) {
        char label[64];
        const char *name = k < N_UNARY ? UNARY[k].name : "tt_softmax";
        tt_tensor *y = &not_a_result;
        probe_note(p, "%s(NULL, x): TT_ERR_INVALID_ARG and a message naming %s; then "
                      "%s(&out, NULL): TT_ERR_INVALID_ARG with out set to NULL",
                   name, name, name);
        tt_status st = k < N_UNARY ? UNARY[k].fn(NULL, x) : tt_softmax(NULL, x, 0);
        probe_status(p, label2(label, sizeof label, name, "out_NULL.status"), st);
        probe_int(p, label2(label, sizeof label, name, "out_NULL.message_names_function"),
                  message_mentions(name));
        st = k < N_UNARY ? UNARY[k].fn(&y, NULL) : tt_softmax(&y, NULL, 0);
        probe_status(p, label2(label, sizeof label, name, "x_NULL.status"), st);
        probe_int(p, label2(label, sizeof label, name, "x_NULL.out_is_NULL"), y == NULL);
        free_result(y);
    }
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ autograd */

static void case_records_for_autograd(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(2, 3), -3.0f, 3.0f);
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(2, 3));
    probe_note(p, "x: [2,3] without requires_grad: results record nothing (grad_fn NULL); "
                  "then with requires_grad: each result has requires_grad, a grad_fn of its "
                  "op with x (not a copy of x) as input, and the reference's backward of "
                  "sum(g * f(x)) gives x->grad. Keep the recording lines of the starter");
    probe_tol_exact(p);
    for (size_t k = 0; k < N_UNARY; k++) {
        char label[64];
        tt_tensor *y = NULL;
        probe_status(p, label2(label, sizeof label, UNARY[k].name, "plain.status"),
                     UNARY[k].fn(&y, x));
        probe_int(p, label2(label, sizeof label, UNARY[k].name, "plain.has_grad_fn"),
                  y && y->grad_fn != NULL);
        tt_tensor_free(y);
    }
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    for (size_t k = 0; k < N_UNARY; k++) {
        char label[64];
        tt_tensor *y = NULL;
        probe_tol_exact(p);
        tt_status st = UNARY[k].fn(&y, x);
        probe_status(p, label2(label, sizeof label, UNARY[k].name, "status"), st);
        probe_int(p, label2(label, sizeof label, UNARY[k].name, "requires_grad"),
                  y && y->requires_grad);
        probe_int(p, label2(label, sizeof label, UNARY[k].name, "grad_fn_is_its_op_on_x"),
                  y && y->grad_fn && y->grad_fn->op == &tt_ops[UNARY[k].op] &&
                      y->grad_fn->n_inputs == 1 && y->grad_fn->inputs[0] == x);
        tt_tensor_zero_grad(x);
        st = readable_like(y, x) && y->grad_fn ? tt_backward_with(y, g) : TT_ERR_STATE;
        probe_status(p, label2(label, sizeof label, UNARY[k].name, "backward_status"), st);
        probe_tol_elementwise(p);
        probe_tensor(p, label2(label, sizeof label, UNARY[k].name, "x.grad"), x->grad);
        tt_tensor_free(y);
    }
    tt_tensor_zero_grad(x);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_softmax_records_axis(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(3, 4), -3.0f, 3.0f);
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(3, 4));
    probe_note(p, "x: [3,4] requires grad; y = tt_softmax(x, axis) for axis -1, 0, -2: the "
                  "node saves the axis made non-negative (args.i[0]: 1, 0, 0), and the "
                  "reference's backward of sum(g * y) gives x->grad");
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    const int axes[3] = {-1, 0, -2};
    for (int a = 0; a < 3; a++) {
        char label[64];
        tt_tensor *y = NULL;
        probe_tol_exact(p);
        tt_status st = tt_softmax(&y, x, axes[a]);
        snprintf(label, sizeof label, "axis_%d.status", axes[a]);
        probe_status(p, label, st);
        snprintf(label, sizeof label, "axis_%d.saved_axis", axes[a]);
        probe_int(p, label, y && y->grad_fn ? y->grad_fn->args.i[0] : -99);
        tt_tensor_zero_grad(x);
        st = readable_like(y, x) && y->grad_fn ? tt_backward_with(y, g) : TT_ERR_STATE;
        snprintf(label, sizeof label, "axis_%d.backward_status", axes[a]);
        probe_status(p, label, st);
        probe_tol_elementwise(p);
        snprintf(label, sizeof label, "axis_%d.x.grad", axes[a]);
        probe_tensor(p, label, x->grad);
        tt_tensor_free(y);
    }
    tt_tensor_zero_grad(x);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ memory */

static void case_allocation_failures(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *xt = NULL;
    probe_note(p, "each function on x: [2,3] and on its transpose (a view: your code makes a "
                  "contiguous copy too), with allocation number 0, 1, 2, ... made to fail in "
                  "turn: every failure returns TT_ERR_NOMEM, sets out to NULL and frees what "
                  "was taken; with no failure injected the call succeeds");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&xt, x, 0, 1));
    for (size_t k = 0; k <= N_UNARY; k++) {
        char name[64];
        const char *fn = k < N_UNARY ? UNARY[k].name : "tt_softmax";
        unary_fn f = k < N_UNARY ? UNARY[k].fn : NULL;
        record_allocation_failures(p, label2(name, sizeof name, fn, "x"), f, 1, x);
        record_allocation_failures(p, label2(name, sizeof name, fn, "transposed"), f, 0, xt);
    }
    tt_tensor_free(xt);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"relu.values", "values", 1, case_relu_values},
    {"sigmoid.values", "values", 1, case_sigmoid_values},
    {"tanh.values", "values", 1, case_tanh_values},
    {"gelu.values", "values", 1, case_gelu_values},
    {"relu.zero_and_signs", "values", 1, case_relu_zero_and_signs},
    {"stability.tails_exact", "stability", 2, case_tails_exact},
    {"stability.no_overflow_flags", "stability", 2, case_no_overflow_on_the_way},
    {"stability.gelu_negative", "stability", 1, case_gelu_negative},
    {"views.transposed_input", "views", 2, case_unary_transposed},
    {"views.sliced_input", "views", 2, case_unary_sliced},
    {"shapes.scalar_and_4d", "values", 1, case_unary_shapes},
    {"values.input_untouched", "values", 1, case_input_untouched},
    {"softmax.2d_axis1", "softmax", 2, case_softmax_2d_axis1},
    {"softmax.2d_axis0", "softmax", 2, case_softmax_2d_axis0},
    {"softmax.3d_axis_minus1", "softmax", 1, case_softmax_last_axis_negative},
    {"softmax.3d_axis0", "softmax", 2, case_softmax_3d_axis0},
    {"softmax.3d_axis_minus2", "softmax", 2, case_softmax_3d_middle},
    {"softmax.4d_axis1", "softmax", 1, case_softmax_4d},
    {"softmax.slices_sum_to_one", "softmax", 2, case_softmax_slices_sum_to_one},
    {"softmax.huge_inputs", "stability", 2, case_softmax_huge},
    {"softmax.shift_invariance", "stability", 2, case_softmax_shift_invariance},
    {"softmax.transposed_input", "views", 1, case_softmax_transposed},
    {"softmax.single_element_slices", "softmax", 1, case_softmax_single_element_slices},
    {"errors.softmax_axis_and_scalar", "errors", 2, case_softmax_errors},
    {"errors.null_arguments", "errors", 2, case_null_arguments},
    {"autograd.records_unary", "autograd", 2, case_records_for_autograd},
    {"autograd.softmax_saves_axis", "autograd", 1, case_softmax_records_axis},
    {"memory.allocation_failures", "memory", 2, case_allocation_failures},
};

TITO_PROBE_MAIN(cases)
