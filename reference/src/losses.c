/*
 * Module 04: loss functions (contract in tinytorch/losses.h).
 *
 * Each loss reduces a whole batch to one number, a 0-dimensional tensor. The sums run
 * in double: a float accumulator over many terms drifts by about n * 6e-8 relative,
 * enough to make two correct implementations disagree in the fifth digit. The
 * numerical traps are log(0) (binary cross-entropy clamps its probabilities) and
 * exp of large logits (cross-entropy uses the max-shifted log-sum-exp).
 *
 * The tt_autograd_record call at the end of each loss is given to the student; the
 * backward functions live in autograd.c (module 05). Targets are recorded as the
 * second input but never receive a gradient.
 */
#include "tinytorch/losses.h"

#include <math.h>
#include <stdio.h>

#include "tinytorch/autograd.h"

/* "[2,3,4]" for error messages ("[]" for a scalar), returned by value so that it can
 * be used inline: shape_str(x).s. */
typedef struct shape_text {
    char s[96]; /* 4 dims of up to 20 digits, 3 commas and the brackets fit */
} shape_text;

static shape_text shape_str(const tt_tensor *t)
{
    shape_text text = {"["};
    size_t used = 1;
    for (int d = 0; d < t->ndim && d < TT_MAX_DIMS; d++) {
        int n = snprintf(text.s + used, sizeof text.s - used, d ? ",%zu" : "%zu", t->shape[d]);
        if (n < 0 || (size_t)n >= sizeof text.s - used)
            return text;
        used += (size_t)n;
    }
    snprintf(text.s + used, sizeof text.s - used, "]");
    return text;
}

/* The end of every op: record it for autograd (which does nothing unless an input
 * requires a gradient) and hand `result` to the caller. If recording fails, `result`
 * is freed and *out stays NULL. */
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

/* BEGIN SOLUTION: */
/* Checks shared by the elementwise losses (MSE, BCE): non-NULL arguments and equal
 * shapes. Clears *out first so that every error leaves it NULL. */
static tt_status check_pair(const char *fn, tt_tensor **out, const tt_tensor *a,
                            const char *a_name, const tt_tensor *b)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_tensor * to receive the result)", fn);
    *out = NULL;
    if (!a || !b)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s tensor is NULL", fn,
                            a ? "target" : a_name);
    if (!tt_tensor_same_shape(a, b)) {
        return tt_error_set(TT_ERR_SHAPE, "%s: %s shape %s and target shape %s differ "
                            "(expected equal shapes)", fn, a_name, shape_str(a).s,
                            shape_str(b).s);
    }
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_mse_loss(tt_tensor **out, tt_tensor *pred, tt_tensor *target)
{
    tt_tensor *loss = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *pc = NULL, *tc = NULL;
    TT_CHECK(check_pair(__func__, out, pred, "pred", target));
    TT_CHECK(tt_tensor_contiguous(&pc, pred));
    TT_CHECK(tt_tensor_contiguous(&tc, target));
    TT_CHECK(tt_tensor_zeros(&loss, 0, NULL));
    {
        const float *p = tt_tensor_data(pc), *t = tt_tensor_data(tc);
        size_t n = tt_tensor_numel(pc);
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            double diff = (double)p[i] - (double)t[i];
            sum += diff * diff;
        }
        tt_tensor_data(loss)[0] = (float)(sum / (double)n);
    }
cleanup:
    tt_tensor_free(pc);
    tt_tensor_free(tc);
    if (st != TT_OK)
        return st; /* loss is still NULL: its allocation is the last step that can fail */
    /* END SOLUTION */
    tt_tensor *inputs[2] = {pred, target};
    return record_result(out, loss, TT_OP_MSE, 2, inputs, NULL);
}

tt_status tt_bce_loss(tt_tensor **out, tt_tensor *prob, tt_tensor *target)
{
    tt_tensor *loss = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *pc = NULL, *tc = NULL;
    TT_CHECK(check_pair(__func__, out, prob, "prob", target));
    TT_CHECK(tt_tensor_contiguous(&pc, prob));
    TT_CHECK(tt_tensor_contiguous(&tc, target));
    TT_CHECK(tt_tensor_zeros(&loss, 0, NULL));
    {
        const float *p = tt_tensor_data(pc), *t = tt_tensor_data(tc);
        size_t n = tt_tensor_numel(pc);
        /* Clamping in double matters at the top end: 1 - 1e-7 rounds to 1 - 1.19e-7
         * in float, which would make a confident wrong "1" cost 15.9 instead of the
         * -log(eps) = 16.118 it costs at the bottom end. */
        const double eps = (double)TT_BCE_EPSILON;
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            double q = p[i];
            q = q < eps ? eps : (q > 1.0 - eps ? 1.0 - eps : q);
            /* log1p(-q) is log(1 - q) without rounding 1 - q first. */
            sum -= (double)t[i] * log(q) + (1.0 - (double)t[i]) * log1p(-q);
        }
        tt_tensor_data(loss)[0] = (float)(sum / (double)n);
    }
cleanup:
    tt_tensor_free(pc);
    tt_tensor_free(tc);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_node_args args = {.f = {TT_BCE_EPSILON}};
    tt_tensor *inputs[2] = {prob, target};
    return record_result(out, loss, TT_OP_BCE, 2, inputs, &args);
}

tt_status tt_cross_entropy_loss(tt_tensor **out, tt_tensor *logits, tt_tensor *targets)
{
    tt_tensor *loss = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *lc = NULL, *tc = NULL;
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_cross_entropy_loss: out is NULL (expected "
                            "the address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!logits || !targets)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_cross_entropy_loss: %s tensor is NULL",
                            logits ? "targets" : "logits");
    if (logits->ndim != 2) {
        return tt_error_set(TT_ERR_SHAPE, "tt_cross_entropy_loss: logits have shape %s "
                            "(expected 2-D [N, C]: one row of class scores per example)",
                            shape_str(logits).s);
    }
    if (targets->ndim != 1 || targets->shape[0] != logits->shape[0]) {
        return tt_error_set(TT_ERR_SHAPE, "tt_cross_entropy_loss: targets have shape %s "
                            "(expected [%zu], one class index per row of the logits)",
                            shape_str(targets).s, logits->shape[0]);
    }
    size_t rows = logits->shape[0], classes = logits->shape[1];

    TT_CHECK(tt_tensor_contiguous(&tc, targets));
    const float *t = tt_tensor_data(tc);
    for (size_t r = 0; r < rows; r++) {
        /* The negated comparison also rejects nan; floorf rejects 1.5 and inf. */
        if (!(t[r] >= 0.0f && t[r] < (float)classes && floorf(t[r]) == t[r])) {
            st = tt_error_set(TT_ERR_RANGE, "tt_cross_entropy_loss: target of row %zu is %g "
                              "(expected an integer class index in [0, %zu))", r,
                              (double)t[r], classes);
            goto cleanup;
        }
    }
    TT_CHECK(tt_tensor_contiguous(&lc, logits));
    TT_CHECK(tt_tensor_zeros(&loss, 0, NULL));
    {
        const float *x = tt_tensor_data(lc);
        double sum = 0.0;
        for (size_t r = 0; r < rows; r++) {
            const float *row = x + r * classes;
            /* log sum exp(x) = m + log sum exp(x - m) with m the row maximum: every
             * exponent is <= 0, and the largest term is 1, so the log never sees 0. */
            float m = row[0];
            for (size_t c = 1; c < classes; c++)
                if (row[c] > m)
                    m = row[c];
            double s = 0.0;
            for (size_t c = 0; c < classes; c++)
                s += exp((double)row[c] - (double)m);
            /* m - x[t] first: both are floats, so in double it is exact. */
            sum += ((double)m - (double)row[(size_t)t[r]]) + log(s);
        }
        tt_tensor_data(loss)[0] = (float)(sum / (double)rows);
    }
cleanup:
    tt_tensor_free(lc);
    tt_tensor_free(tc);
    if (st != TT_OK)
        return st;
    /* END SOLUTION */
    tt_tensor *inputs[2] = {logits, targets};
    return record_result(out, loss, TT_OP_CROSS_ENTROPY, 2, inputs, NULL);
}
