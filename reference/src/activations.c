/*
 * Module 02: activation functions (contract in tinytorch/activations.h).
 *
 * Every kernel reads its input through tt_tensor_contiguous() (so views of any
 * strides work) and writes a new contiguous tensor of the same shape. What makes this
 * module more than five loops is that each formula has a form that breaks far from
 * zero: exp(1000) is inf in float, 1 + tanh(u) loses every digit when tanh(u) is
 * almost -1, and exp of unshifted softmax inputs overflows. The kernels below use
 * the forms that stay finite and accurate for |x| up to the float range.
 *
 * The tt_autograd_record call at the end of each op (and what it saves) is given to
 * the student; the backward functions live in autograd.c (module 05).
 */
#include "tinytorch/activations.h"

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
/* The common start of every elementwise activation: check the arguments, clear *out,
 * get a contiguous view of x to read and a zeroed result y to write. On error nothing
 * is held. */
static tt_status unary_begin(const char *fn, tt_tensor **out, tt_tensor *x, tt_tensor **xc,
                             tt_tensor **y)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_tensor * to receive the result)", fn);
    *out = NULL;
    if (!x)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: input tensor is NULL", fn);
    tt_status st = tt_tensor_contiguous(xc, x);
    if (st != TT_OK)
        return st;
    st = tt_tensor_zeros(y, x->ndim, x->shape);
    if (st != TT_OK) {
        tt_tensor_free(*xc);
        *xc = NULL;
    }
    return st;
}

/* 1 / (1 + exp(-v)) without ever computing exp of a positive number: for v < 0 the
 * equivalent exp(v) / (1 + exp(v)) is used, so each tail underflows gracefully to 0
 * (or 1) instead of overflowing to inf. */
static float stable_sigmoid(float v)
{
    if (v >= 0.0f)
        return 1.0f / (1.0f + expf(-v));
    float e = expf(v);
    return e / (1.0f + e);
}
/* END SOLUTION */

tt_status tt_relu(tt_tensor **out, tt_tensor *x)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *xc = NULL;
    st = unary_begin(__func__, out, x, &xc, &y);
    if (st != TT_OK)
        return st;
    const float *src = tt_tensor_data(xc);
    float *dst = tt_tensor_data(y);
    size_t n = tt_tensor_numel(y);
    for (size_t i = 0; i < n; i++) {
        /* Written so that nan propagates (nan <= 0 is false), like max(x, 0) should. */
        dst[i] = src[i] <= 0.0f ? 0.0f : src[i];
    }
    tt_tensor_free(xc);
    /* END SOLUTION */
    tt_tensor *inputs[1] = {x};
    return record_result(out, y, TT_OP_RELU, 1, inputs, NULL);
}

tt_status tt_sigmoid(tt_tensor **out, tt_tensor *x)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *xc = NULL;
    st = unary_begin(__func__, out, x, &xc, &y);
    if (st != TT_OK)
        return st;
    const float *src = tt_tensor_data(xc);
    float *dst = tt_tensor_data(y);
    size_t n = tt_tensor_numel(y);
    for (size_t i = 0; i < n; i++)
        dst[i] = stable_sigmoid(src[i]);
    tt_tensor_free(xc);
    /* END SOLUTION */
    tt_tensor *inputs[1] = {x};
    return record_result(out, y, TT_OP_SIGMOID, 1, inputs, NULL);
}

tt_status tt_tanh(tt_tensor **out, tt_tensor *x)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *xc = NULL;
    st = unary_begin(__func__, out, x, &xc, &y);
    if (st != TT_OK)
        return st;
    const float *src = tt_tensor_data(xc);
    float *dst = tt_tensor_data(y);
    size_t n = tt_tensor_numel(y);
    /* tanhf saturates to +-1 by itself; (e^x - e^-x)/(e^x + e^-x) written out would
     * give inf/inf = nan from |x| of about 89 on. */
    for (size_t i = 0; i < n; i++)
        dst[i] = tanhf(src[i]);
    tt_tensor_free(xc);
    /* END SOLUTION */
    tt_tensor *inputs[1] = {x};
    return record_result(out, y, TT_OP_TANH, 1, inputs, NULL);
}

tt_status tt_gelu(tt_tensor **out, tt_tensor *x)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *xc = NULL;
    st = unary_begin(__func__, out, x, &xc, &y);
    if (st != TT_OK)
        return st;
    const float *src = tt_tensor_data(xc);
    float *dst = tt_tensor_data(y);
    size_t n = tt_tensor_numel(y);
    /* sqrt(2/pi), to float precision. */
    const float k = 0.7978845608028654f;
    for (size_t i = 0; i < n; i++) {
        float v = src[i];
        float u = k * (v + 0.044715f * v * v * v);
        /* 0.5 (1 + tanh(u)) is exactly sigmoid(2u). Computed as written, 1 + tanh(u)
         * cancels catastrophically for negative u: tanhf(u) is -0.9999999 at x = -5
         * (30% off in the result) and exactly -1 from about x = -5.5 on, where the
         * result drops to 0. The sigmoid form keeps full relative precision and the
         * same limits (x for large x, -0 for very negative x, also when v^3
         * overflows to +-inf). */
        dst[i] = v * stable_sigmoid(2.0f * u);
    }
    tt_tensor_free(xc);
    /* END SOLUTION */
    tt_tensor *inputs[1] = {x};
    return record_result(out, y, TT_OP_GELU, 1, inputs, NULL);
}

tt_status tt_softmax(tt_tensor **out, tt_tensor *x, int axis)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_softmax: out is NULL (expected the address "
                            "of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_softmax: input tensor is NULL");
    if (x->ndim == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_softmax: input is a scalar (0-dim); "
                            "softmax needs at least one dimension to normalise along");
    if (axis < -x->ndim || axis >= x->ndim)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_softmax: axis %d is out of range for "
                            "shape %s (expected %d..%d)", axis, shape_str(x).s, -x->ndim,
                            x->ndim - 1);
    int ax = axis < 0 ? axis + x->ndim : axis;

    tt_tensor *xc = NULL;
    st = tt_tensor_contiguous(&xc, x);
    if (st != TT_OK)
        return st;
    st = tt_tensor_zeros(&y, x->ndim, x->shape);
    if (st != TT_OK) {
        tt_tensor_free(xc);
        return st;
    }

    /* A row-major tensor seen as [outer, len, inner]: element (o, k, i) sits at
     * (o * len + k) * inner + i, so one softmax slice is `len` values `inner` apart. */
    size_t outer = 1, inner = 1, len = x->shape[ax];
    for (int d = 0; d < ax; d++)
        outer *= x->shape[d];
    for (int d = ax + 1; d < x->ndim; d++)
        inner *= x->shape[d];

    const float *src = tt_tensor_data(xc);
    float *dst = tt_tensor_data(y);
    for (size_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < inner; i++) {
            const float *s = src + o * len * inner + i;
            float *d = dst + o * len * inner + i;
            /* Subtracting the slice maximum makes every exponent <= 0: nothing
             * overflows, the largest term is exactly 1 so the sum is >= 1, and the
             * result is unchanged because the factor exp(-max) cancels. */
            float m = s[0];
            for (size_t k = 1; k < len; k++)
                if (s[k * inner] > m)
                    m = s[k * inner];
            double sum = 0.0;
            for (size_t k = 0; k < len; k++) {
                float e = expf(s[k * inner] - m);
                d[k * inner] = e;
                sum += e;
            }
            for (size_t k = 0; k < len; k++)
                d[k * inner] = (float)(d[k * inner] / sum);
        }
    }
    tt_tensor_free(xc);
    /* END SOLUTION */
    tt_node_args args = {.i = {axis < 0 ? axis + x->ndim : axis}};
    tt_tensor *inputs[1] = {x};
    return record_result(out, y, TT_OP_SOFTMAX, 1, inputs, &args);
}
