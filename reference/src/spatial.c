/*
 * Module 09: spatial layers (contract in tinytorch/spatial.h, guide in
 * docs/modules/09_spatial.md).
 *
 * Convolution is im2col + matmul: every k x k patch of the (padded) input becomes one
 * column of a matrix, and one call of module 01's tt_tensor_matmul does all the
 * multiply-adds, so the convolution is exactly as fast as the matmul. Its backward is
 * two more matmuls and col2im, the reverse scatter. Pooling and batch normalisation
 * are direct loops.
 *
 * Each op here is one node of the graph: the forward computes with grad mode off (the
 * matmuls and reshapes inside it must not record nodes of their own) and records a
 * node of one of this file's tt_op values at the end; that op's backward function,
 * also in this file, turns the output's gradient into the inputs' gradients. Nodes
 * keep their inputs, not their outputs, so backward functions recompute what they need
 * (the im2col matrix, the position of each window's maximum) from the inputs.
 *
 * Layout: NCHW, row-major. Kernels read inputs through tt_tensor_contiguous(), so any
 * view is accepted.
 */
#include "tinytorch/spatial.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tinytorch/autograd.h"

/* ================================================================ scaffolding */

/* "[2,3,4]" for error messages, by value so that one message can show two shapes:
 * shape_str(x).s */
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

/* The end of every op: record `result` as made by `op` (nothing happens unless an
 * input requires a gradient), hand it to the caller, and drop this function's
 * reference to `saved` (the node holds its own). If recording fails, `result` is
 * freed and *out stays NULL. */
static tt_status record_result(tt_tensor **out, tt_tensor *result, const tt_op *op, int n_inputs,
                               tt_tensor *const *inputs, const tt_node_args *args,
                               tt_tensor *saved)
{
    tt_status st = tt_autograd_record(result, op, n_inputs, inputs, args, saved);
    tt_tensor_free(saved);
    if (st != TT_OK) {
        tt_tensor_free(result);
        return st;
    }
    *out = result;
    return TT_OK;
}

static bool wants_grad(const tt_tensor *t)
{
    return t && t->requires_grad;
}

/* Element i of a 1-D tensor of any stride. */
static float *at1(const tt_tensor *t, size_t i)
{
    return tt_tensor_data(t) + (ptrdiff_t)i * t->strides[0];
}

/* The ops of this module: a name for messages, and the backward function. */
static tt_status backward_conv2d(tt_node *node, tt_tensor *g);
static tt_status backward_maxpool2d(tt_node *node, tt_tensor *g);
static tt_status backward_avgpool2d(tt_node *node, tt_tensor *g);
static tt_status backward_batchnorm2d(tt_node *node, tt_tensor *g);

/* args: conv2d i[0] = stride, i[1] = padding; pools i[0] = kernel, i[1] = stride;
 * batchnorm2d i[0] = training, saved = [2, C] (mean, 1/sqrt(var + eps)). */
static const tt_op conv2d_op = {"conv2d", backward_conv2d};
static const tt_op maxpool2d_op = {"maxpool2d", backward_maxpool2d};
static const tt_op avgpool2d_op = {"avgpool2d", backward_avgpool2d};
static const tt_op batchnorm2d_op = {"batchnorm2d", backward_batchnorm2d};

/* ================================================================ convolution */

/* The sizes of one convolution. */
typedef struct conv_geom {
    size_t n, c, h, w;  /* input [N, C, H, W] */
    size_t o, kh, kw;   /* weight [O, C, KH, KW] */
    size_t stride, pad;
    size_t oh, ow;      /* output [N, O, OH, OW] */
} conv_geom;

/* The im2col matrix of a contiguous input x (sizes in g): cols has C*KH*KW rows, one
 * per (c, u, v) in row-major order, and N*OH*OW columns, one per (n, i, j); entry
 * [(c,u,v), (n,i,j)] is xpad[n, c, i*stride + u, j*stride + v], 0 in the padding.
 * Every entry is written. */
static void im2col(const conv_geom *g, const float *x, float *cols)
{
    /* BEGIN SOLUTION: */
    size_t plane = g->oh * g->ow, ncols = g->n * plane;
    for (size_t c = 0; c < g->c; c++)
        for (size_t u = 0; u < g->kh; u++)
            for (size_t v = 0; v < g->kw; v++) {
                float *row = cols + ((c * g->kh + u) * g->kw + v) * ncols;
                for (size_t n = 0; n < g->n; n++) {
                    const float *img = x + (n * g->c + c) * g->h * g->w;
                    for (size_t i = 0; i < g->oh; i++) {
                        float *dst = row + n * plane + i * g->ow;
                        /* Signed: the padding puts the first rows and columns at -pad. */
                        ptrdiff_t r = (ptrdiff_t)(i * g->stride + u) - (ptrdiff_t)g->pad;
                        if (r < 0 || r >= (ptrdiff_t)g->h) {
                            memset(dst, 0, g->ow * sizeof *dst);
                            continue;
                        }
                        const float *src = img + (size_t)r * g->w;
                        for (size_t j = 0; j < g->ow; j++) {
                            ptrdiff_t col = (ptrdiff_t)(j * g->stride + v) - (ptrdiff_t)g->pad;
                            dst[j] = col < 0 || col >= (ptrdiff_t)g->w ? 0.0f : src[col];
                        }
                    }
                }
            }
    /* END SOLUTION */
}

/* The reverse of im2col: add every entry of cols (same layout) into dx [N, C, H, W]
 * (contiguous, already zeroed) at the pixel it was read from; entries that came
 * from the padding are dropped. A pixel in several patches receives several terms. */
static void col2im(const conv_geom *g, const float *cols, float *dx)
{
    /* BEGIN SOLUTION: */
    size_t plane = g->oh * g->ow, ncols = g->n * plane;
    for (size_t c = 0; c < g->c; c++)
        for (size_t u = 0; u < g->kh; u++)
            for (size_t v = 0; v < g->kw; v++) {
                const float *row = cols + ((c * g->kh + u) * g->kw + v) * ncols;
                for (size_t n = 0; n < g->n; n++) {
                    float *img = dx + (n * g->c + c) * g->h * g->w;
                    for (size_t i = 0; i < g->oh; i++) {
                        const float *src = row + n * plane + i * g->ow;
                        ptrdiff_t r = (ptrdiff_t)(i * g->stride + u) - (ptrdiff_t)g->pad;
                        if (r < 0 || r >= (ptrdiff_t)g->h)
                            continue;
                        float *dst = img + (size_t)r * g->w;
                        for (size_t j = 0; j < g->ow; j++) {
                            ptrdiff_t col = (ptrdiff_t)(j * g->stride + v) - (ptrdiff_t)g->pad;
                            if (col >= 0 && col < (ptrdiff_t)g->w)
                                dst[col] += src[j];
                        }
                    }
                }
            }
    /* END SOLUTION */
}

/* BEGIN SOLUTION: */
/* Fill g from x [N,C,H,W] and weight [O,C,KH,KW] after checking that they fit;
 * `fn` names the caller in messages. */
static tt_status conv_geometry(conv_geom *g, const char *fn, const tt_tensor *x,
                               const tt_tensor *weight, const tt_tensor *bias, size_t stride,
                               size_t padding)
{
    if (stride == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: stride is 0 (expected >= 1)", fn);
    if (x->ndim != 4 || weight->ndim != 4)
        return tt_error_set(TT_ERR_SHAPE, "%s: x is %s and weight is %s (expected x [N,C,H,W] "
                            "and weight [O,C,KH,KW])", fn, shape_str(x).s, shape_str(weight).s);
    if (weight->shape[1] != x->shape[1])
        return tt_error_set(TT_ERR_SHAPE, "%s: x is %s and weight is %s: x has %zu channels, "
                            "the weight expects %zu", fn, shape_str(x).s, shape_str(weight).s,
                            x->shape[1], weight->shape[1]);
    if (bias && (bias->ndim != 1 || bias->shape[0] != weight->shape[0]))
        return tt_error_set(TT_ERR_SHAPE, "%s: bias is %s, weight is %s (expected bias [%zu])",
                            fn, shape_str(bias).s, shape_str(weight).s, weight->shape[0]);
    g->n = x->shape[0];
    g->c = x->shape[1];
    g->h = x->shape[2];
    g->w = x->shape[3];
    g->o = weight->shape[0];
    g->kh = weight->shape[2];
    g->kw = weight->shape[3];
    g->stride = stride;
    g->pad = padding;
    if (g->h + 2 * padding < g->kh || g->w + 2 * padding < g->kw)
        return tt_error_set(TT_ERR_SHAPE, "%s: kernel %zux%zu is larger than the input %zux%zu "
                            "padded by %zu on each side (x is %s)", fn, g->kh, g->kw, g->h,
                            g->w, padding, shape_str(x).s);
    g->oh = (g->h + 2 * padding - g->kh) / stride + 1;
    g->ow = (g->w + 2 * padding - g->kw) / stride + 1;
    return TT_OK;
}

/* The weight [O,C,KH,KW] seen as the matrix [O, C*KH*KW]: a view when it is
 * contiguous. Call with grad mode off (the reshape must not be recorded). */
static tt_status weight_matrix(tt_tensor **out, tt_tensor *weight)
{
    ptrdiff_t rows = (ptrdiff_t)weight->shape[0];
    return tt_tensor_reshape(out, weight, 2, (const ptrdiff_t[]){rows, -1});
}
/* END SOLUTION */

tt_status tt_conv2d(tt_tensor **out, tt_tensor *x, tt_tensor *weight, tt_tensor *bias,
                    size_t stride, size_t padding)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_conv2d: out is NULL (expected the address "
                            "of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!x || !weight)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_conv2d: %s is NULL", x ? "weight" : "x");
    conv_geom g;
    st = conv_geometry(&g, "tt_conv2d", x, weight, bias, stride, padding);
    if (st != TT_OK)
        return st;

    /* Everything below is internal to this op: one node is recorded at the end. */
    bool was = tt_grad_set_enabled(false);
    tt_tensor *xc = NULL, *cols = NULL, *wmat = NULL, *ymat = NULL, *bc = NULL;
    size_t plane = g.oh * g.ow, ncols = g.n * plane, rows = g.c * g.kh * g.kw;
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_zeros(&cols, 2, TT_SHAPE(rows, ncols)));
    im2col(&g, tt_tensor_data(xc), tt_tensor_data(cols));
    TT_CHECK(weight_matrix(&wmat, weight));
    /* [O, C*KH*KW] x [C*KH*KW, N*OH*OW]: every output of the batch in one product. */
    TT_CHECK(tt_tensor_matmul(&ymat, wmat, cols));
    if (bias)
        TT_CHECK(tt_tensor_contiguous(&bc, bias));
    TT_CHECK(tt_tensor_zeros(&y, 4, TT_SHAPE(g.n, g.o, g.oh, g.ow)));
    /* ymat's columns are grouped by image: row o, columns n*plane.. hold channel o
     * of image n, which NCHW stores at (n*O + o)*plane. */
    const float *ym = tt_tensor_data(ymat);
    float *yv = tt_tensor_data(y);
    for (size_t n = 0; n < g.n; n++)
        for (size_t o = 0; o < g.o; o++) {
            const float *src = ym + o * ncols + n * plane;
            float *dst = yv + (n * g.o + o) * plane;
            float b = bc ? tt_tensor_data(bc)[o] : 0.0f;
            for (size_t l = 0; l < plane; l++)
                dst[l] = src[l] + b;
        }
cleanup:
    tt_grad_set_enabled(was);
    tt_tensor_free(xc);
    tt_tensor_free(cols);
    tt_tensor_free(wmat);
    tt_tensor_free(ymat);
    tt_tensor_free(bc);
    if (st != TT_OK) {
        tt_tensor_free(y);
        return st;
    }
    /* END SOLUTION */
    tt_tensor *inputs[3] = {x, weight, bias};
    tt_node_args args = {.i = {(long)stride, (long)padding}};
    return record_result(out, y, &conv2d_op, 3, inputs, &args, NULL);
}

/* inputs {x, weight, bias (may be NULL)}, args i[0] = stride, i[1] = padding. With dY
 * the gradient as a matrix [O, N*OH*OW] (the layout of the forward's product):
 * dbias = row sums of dY, dweight = dY cols^T, dx = col2im(W^T dY). */
static tt_status backward_conv2d(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *w = node->inputs[1], *b = node->inputs[2];
    conv_geom geo;
    tt_status st = conv_geometry(&geo, "backward of conv2d", x, w, b,
                                 (size_t)node->args.i[0], (size_t)node->args.i[1]);
    if (st != TT_OK)
        return st;
    size_t plane = geo.oh * geo.ow, ncols = geo.n * plane, rows = geo.c * geo.kh * geo.kw;
    tt_tensor *gc = NULL, *dy = NULL, *db = NULL, *xc = NULL, *cols = NULL, *colst = NULL;
    tt_tensor *dwm = NULL, *dw = NULL, *wmat = NULL, *wt = NULL, *dcols = NULL, *dx = NULL;
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dy, 2, TT_SHAPE(geo.o, ncols)));
    const float *gv = tt_tensor_data(gc);
    float *dyv = tt_tensor_data(dy);
    for (size_t n = 0; n < geo.n; n++)
        for (size_t o = 0; o < geo.o; o++)
            memcpy(dyv + o * ncols + n * plane, gv + (n * geo.o + o) * plane,
                   plane * sizeof *dyv);
    if (wants_grad(b)) {
        TT_CHECK(tt_tensor_zeros(&db, 1, TT_SHAPE(geo.o)));
        for (size_t o = 0; o < geo.o; o++) {
            double sum = 0.0;
            for (size_t j = 0; j < ncols; j++)
                sum += dyv[o * ncols + j];
            tt_tensor_data(db)[o] = (float)sum;
        }
        TT_CHECK(tt_accumulate_grad(b, db));
    }
    if (wants_grad(w)) {
        TT_CHECK(tt_tensor_contiguous(&xc, x));
        TT_CHECK(tt_tensor_zeros(&cols, 2, TT_SHAPE(rows, ncols)));
        im2col(&geo, tt_tensor_data(xc), tt_tensor_data(cols));
        TT_CHECK(tt_tensor_transpose(&colst, cols, 0, 1));
        TT_CHECK(tt_tensor_matmul(&dwm, dy, colst));
        TT_CHECK(tt_tensor_reshape(&dw, dwm, 4,
                                   (const ptrdiff_t[]){(ptrdiff_t)geo.o, (ptrdiff_t)geo.c,
                                                       (ptrdiff_t)geo.kh, (ptrdiff_t)geo.kw}));
        TT_CHECK(tt_accumulate_grad(w, dw));
    }
    if (wants_grad(x)) {
        TT_CHECK(weight_matrix(&wmat, w));
        TT_CHECK(tt_tensor_transpose(&wt, wmat, 0, 1));
        TT_CHECK(tt_tensor_matmul(&dcols, wt, dy));
        TT_CHECK(tt_tensor_zeros(&dx, 4, x->shape));
        col2im(&geo, tt_tensor_data(dcols), tt_tensor_data(dx));
        TT_CHECK(tt_accumulate_grad(x, dx));
    }
cleanup:
    tt_tensor_free(gc);
    tt_tensor_free(dy);
    tt_tensor_free(db);
    tt_tensor_free(xc);
    tt_tensor_free(cols);
    tt_tensor_free(colst);
    tt_tensor_free(dwm);
    tt_tensor_free(dw);
    tt_tensor_free(wmat);
    tt_tensor_free(wt);
    tt_tensor_free(dcols);
    tt_tensor_free(dx);
    return st;
    /* END SOLUTION */
}

/* ==================================================================== pooling */

/* BEGIN SOLUTION: */
/* Check a pooling call and make its zeroed output; *xc is a contiguous x. */
static tt_status pool_begin(const char *fn, tt_tensor **out, tt_tensor *x, size_t kernel,
                            size_t stride, tt_tensor **xc, tt_tensor **y)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_tensor * to receive the result)", fn);
    *out = NULL;
    if (!x)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: x is NULL", fn);
    if (kernel == 0 || stride == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: kernel %zu, stride %zu (expected both "
                            ">= 1)", fn, kernel, stride);
    if (x->ndim != 4)
        return tt_error_set(TT_ERR_SHAPE, "%s: x is %s (expected [N,C,H,W])", fn,
                            shape_str(x).s);
    if (kernel > x->shape[2] || kernel > x->shape[3])
        return tt_error_set(TT_ERR_SHAPE, "%s: kernel %zu is larger than the %zux%zu image "
                            "(x is %s)", fn, kernel, x->shape[2], x->shape[3], shape_str(x).s);
    size_t oh = (x->shape[2] - kernel) / stride + 1, ow = (x->shape[3] - kernel) / stride + 1;
    tt_status st = tt_tensor_contiguous(xc, x);
    if (st != TT_OK)
        return st;
    st = tt_tensor_zeros(y, 4, TT_SHAPE(x->shape[0], x->shape[1], oh, ow));
    if (st != TT_OK) {
        tt_tensor_free(*xc);
        *xc = NULL;
    }
    return st;
}

/* Offset, within an image plane of width `w`, of the window's first maximal element
 * (row-major within the window; the first NaN wins). */
static size_t window_argmax(const float *plane, size_t w, size_t top, size_t left, size_t k)
{
    size_t best = top * w + left;
    for (size_t u = 0; u < k; u++)
        for (size_t v = 0; v < k; v++) {
            size_t at = (top + u) * w + left + v;
            if (isnan(plane[best]))
                return best;
            if (plane[at] > plane[best] || isnan(plane[at]))
                best = at;
        }
    return best;
}
/* END SOLUTION */

tt_status tt_maxpool2d(tt_tensor **out, tt_tensor *x, size_t kernel, size_t stride)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *xc = NULL;
    st = pool_begin(__func__, out, x, kernel, stride, &xc, &y);
    if (st != TT_OK)
        return st;
    size_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
    size_t oh = y->shape[2], ow = y->shape[3];
    const float *xv = tt_tensor_data(xc);
    float *yv = tt_tensor_data(y);
    for (size_t p = 0; p < planes; p++) {
        const float *plane = xv + p * h * w;
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++)
                yv[(p * oh + i) * ow + j] =
                    plane[window_argmax(plane, w, i * stride, j * stride, kernel)];
    }
    tt_tensor_free(xc);
    /* END SOLUTION */
    tt_tensor *inputs[1] = {x};
    tt_node_args args = {.i = {(long)kernel, (long)stride}};
    return record_result(out, y, &maxpool2d_op, 1, inputs, &args, NULL);
}

tt_status tt_avgpool2d(tt_tensor **out, tt_tensor *x, size_t kernel, size_t stride)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *xc = NULL;
    st = pool_begin(__func__, out, x, kernel, stride, &xc, &y);
    if (st != TT_OK)
        return st;
    size_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
    size_t oh = y->shape[2], ow = y->shape[3];
    double area = (double)kernel * (double)kernel;
    const float *xv = tt_tensor_data(xc);
    float *yv = tt_tensor_data(y);
    for (size_t p = 0; p < planes; p++) {
        const float *plane = xv + p * h * w;
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++) {
                double sum = 0.0;
                for (size_t u = 0; u < kernel; u++)
                    for (size_t v = 0; v < kernel; v++)
                        sum += plane[(i * stride + u) * w + j * stride + v];
                yv[(p * oh + i) * ow + j] = (float)(sum / area);
            }
    }
    tt_tensor_free(xc);
    /* END SOLUTION */
    tt_tensor *inputs[1] = {x};
    tt_node_args args = {.i = {(long)kernel, (long)stride}};
    return record_result(out, y, &avgpool2d_op, 1, inputs, &args, NULL);
}

/* input {x}, args i[0] = kernel, i[1] = stride. Max: each window's gradient goes to
 * its first maximal element (found again from x). Average: g / (k*k) to every element
 * of the window. Overlapping windows add up. */
static tt_status backward_maxpool2d(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    size_t stride = (size_t)node->args.i[1], kernel = (size_t)node->args.i[0];
    size_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
    size_t oh = g->shape[2], ow = g->shape[3];
    tt_tensor *xc = NULL, *gc = NULL, *dx = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dx, 4, x->shape));
    const float *xv = tt_tensor_data(xc), *gv = tt_tensor_data(gc);
    float *dv = tt_tensor_data(dx);
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++) {
                size_t at = window_argmax(xv + p * h * w, w, i * stride, j * stride, kernel);
                dv[p * h * w + at] += gv[(p * oh + i) * ow + j];
            }
    st = tt_accumulate_grad(x, dx);
cleanup:
    tt_tensor_free(xc);
    tt_tensor_free(gc);
    tt_tensor_free(dx);
    return st;
    /* END SOLUTION */
}

static tt_status backward_avgpool2d(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    size_t stride = (size_t)node->args.i[1], kernel = (size_t)node->args.i[0];
    size_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
    size_t oh = g->shape[2], ow = g->shape[3];
    tt_tensor *gc = NULL, *dx = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dx, 4, x->shape));
    const float *gv = tt_tensor_data(gc);
    float *dv = tt_tensor_data(dx);
    float area = (float)kernel * (float)kernel;
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++) {
                float share = gv[(p * oh + i) * ow + j] / area;
                for (size_t u = 0; u < kernel; u++)
                    for (size_t v = 0; v < kernel; v++)
                        dv[p * h * w + (i * stride + u) * w + j * stride + v] += share;
            }
    st = tt_accumulate_grad(x, dx);
cleanup:
    tt_tensor_free(gc);
    tt_tensor_free(dx);
    return st;
    /* END SOLUTION */
}

/* ===================================================== batch normalisation */

/* BEGIN SOLUTION: */
/* A NULL tensor, or a 1-D tensor of c elements. */
static bool per_channel(const tt_tensor *t, size_t c)
{
    return !t || (t->ndim == 1 && t->shape[0] == c);
}
/* END SOLUTION */

tt_status tt_batchnorm2d(tt_tensor **out, tt_tensor *x, tt_tensor *gamma, tt_tensor *beta,
                         tt_tensor *running_mean, tt_tensor *running_var, bool training,
                         float momentum, float eps)
{
    tt_tensor *y = NULL, *stats = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d: out is NULL (expected the "
                            "address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d: x is NULL");
    if (!(eps > 0.0f) || isinf(eps))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d: eps = %g (expected a finite "
                            "eps > 0)", (double)eps);
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d: momentum = %g (expected 0 <= "
                            "momentum <= 1)", (double)momentum);
    if (!running_mean != !running_var)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d: running_%s is NULL but "
                            "running_%s is not (expected both or neither)",
                            running_mean ? "var" : "mean", running_mean ? "mean" : "var");
    if (!training && !running_mean)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d: evaluation mode needs "
                            "running_mean and running_var (they are NULL)");
    if (x->ndim != 4)
        return tt_error_set(TT_ERR_SHAPE, "tt_batchnorm2d: x is %s (expected [N,C,H,W])",
                            shape_str(x).s);
    size_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3], m = n * hw;
    const tt_tensor *per[4] = {gamma, beta, running_mean, running_var};
    static const char *const per_name[4] = {"gamma", "beta", "running_mean", "running_var"};
    for (int k = 0; k < 4; k++)
        if (!per_channel(per[k], c))
            return tt_error_set(TT_ERR_SHAPE, "tt_batchnorm2d: %s is %s, x is %s (expected "
                                "%s [%zu], one value per channel)", per_name[k],
                                shape_str(per[k]).s, shape_str(x).s, per_name[k], c);
    if (training && m < 2)
        return tt_error_set(TT_ERR_SHAPE, "tt_batchnorm2d: x is %s: a channel has %zu "
                            "value(s) in the batch; training mode needs at least 2 to "
                            "estimate a variance", shape_str(x).s, m);
    tt_tensor *xc = NULL;
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_zeros(&y, 4, x->shape));
    TT_CHECK(tt_tensor_zeros(&stats, 2, TT_SHAPE(2, c)));
    const float *xv = tt_tensor_data(xc);
    float *yv = tt_tensor_data(y), *sv = tt_tensor_data(stats);
    for (size_t ch = 0; ch < c; ch++) {
        double mean, var;
        if (training) {
            /* Two passes: the mean first, then squares of deviations, which never
             * cancel the way E[x^2] - E[x]^2 does for data far from 0. */
            double sum = 0.0, sq = 0.0;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < hw; j++)
                    sum += xv[(i * c + ch) * hw + j];
            mean = sum / (double)m;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < hw; j++) {
                    double d = xv[(i * c + ch) * hw + j] - mean;
                    sq += d * d;
                }
            var = sq / (double)m;
            if (running_mean) {
                double mom = momentum;
                float *rm = at1(running_mean, ch), *rv = at1(running_var, ch);
                *rm = (float)((1.0 - mom) * *rm + mom * mean);
                *rv = (float)((1.0 - mom) * *rv + mom * var * (double)m / (double)(m - 1));
            }
        } else {
            mean = *at1(running_mean, ch);
            var = *at1(running_var, ch);
        }
        double invstd = 1.0 / sqrt(var + (double)eps);
        double scale = gamma ? *at1(gamma, ch) : 1.0, shift = beta ? *at1(beta, ch) : 0.0;
        sv[ch] = (float)mean;
        sv[c + ch] = (float)invstd;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < hw; j++) {
                size_t at = (i * c + ch) * hw + j;
                yv[at] = (float)(scale * ((xv[at] - mean) * invstd) + shift);
            }
    }
cleanup:
    tt_tensor_free(xc);
    if (st != TT_OK) {
        tt_tensor_free(y);
        tt_tensor_free(stats);
        return st;
    }
    /* END SOLUTION */
    tt_tensor *inputs[3] = {x, gamma, beta};
    tt_node_args args = {.i = {training ? 1 : 0}};
    return record_result(out, y, &batchnorm2d_op, 3, inputs, &args, stats);
}

/* inputs {x, gamma, beta} (gamma, beta may be NULL), saved [2, C] = mean and
 * 1/sqrt(var + eps) of the forward, args i[0] = training. Formulas in the header. */
static tt_status backward_batchnorm2d(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *gamma = node->inputs[1], *beta = node->inputs[2];
    if (!node->saved)
        return tt_error_set(TT_ERR_STATE, "backward of batchnorm2d: the node has no saved "
                            "statistics");
    bool training = node->args.i[0] != 0;
    size_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3], m = n * hw;
    tt_tensor *xc = NULL, *gc = NULL, *sc = NULL, *dx = NULL, *dgamma = NULL, *dbeta = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_contiguous(&sc, node->saved));
    if (wants_grad(x))
        TT_CHECK(tt_tensor_zeros(&dx, 4, x->shape));
    if (wants_grad(gamma))
        TT_CHECK(tt_tensor_zeros(&dgamma, 1, TT_SHAPE(c)));
    if (wants_grad(beta))
        TT_CHECK(tt_tensor_zeros(&dbeta, 1, TT_SHAPE(c)));
    const float *xv = tt_tensor_data(xc), *gv = tt_tensor_data(gc), *sv = tt_tensor_data(sc);
    for (size_t ch = 0; ch < c; ch++) {
        double mean = sv[ch], invstd = sv[c + ch];
        double scale = gamma ? *at1(gamma, ch) : 1.0;
        double sum_g = 0.0, sum_gx = 0.0; /* sums of g and of g * xhat */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < hw; j++) {
                size_t at = (i * c + ch) * hw + j;
                sum_g += gv[at];
                sum_gx += gv[at] * ((xv[at] - mean) * invstd);
            }
        if (dgamma)
            tt_tensor_data(dgamma)[ch] = (float)sum_gx;
        if (dbeta)
            tt_tensor_data(dbeta)[ch] = (float)sum_g;
        if (!dx)
            continue;
        float *dv = tt_tensor_data(dx);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < hw; j++) {
                size_t at = (i * c + ch) * hw + j;
                if (training) {
                    /* dxhat = g * gamma; its sums are gamma times those of g. */
                    double xhat = (xv[at] - mean) * invstd;
                    dv[at] = (float)(scale * invstd / (double)m *
                                     ((double)m * gv[at] - sum_g - xhat * sum_gx));
                } else {
                    dv[at] = (float)(scale * invstd * gv[at]);
                }
            }
    }
    if (dx)
        TT_CHECK(tt_accumulate_grad(x, dx));
    if (dgamma)
        TT_CHECK(tt_accumulate_grad(gamma, dgamma));
    if (dbeta)
        TT_CHECK(tt_accumulate_grad(beta, dbeta));
cleanup:
    tt_tensor_free(xc);
    tt_tensor_free(gc);
    tt_tensor_free(sc);
    tt_tensor_free(dx);
    tt_tensor_free(dgamma);
    tt_tensor_free(dbeta);
    return st;
    /* END SOLUTION */
}

/* ==================================================================== flatten */

tt_status tt_flatten(tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_flatten: out is NULL (expected the address "
                            "of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_flatten: x is NULL");
    if (x->ndim < 2)
        return tt_error_set(TT_ERR_SHAPE, "tt_flatten: x is %s (expected [N, ...] with at least "
                            "2 dimensions)", shape_str(x).s);
    /* A reshape, recorded as one: copying the values into a new tensor here would
     * cut the graph, and every layer before the Flatten would stop learning. */
    return tt_tensor_reshape(out, x, 2, (const ptrdiff_t[]){(ptrdiff_t)x->shape[0], -1});
    /* END SOLUTION */
}

/* ===================================================================== layers */

static tt_status layer_out_null(const char *fn)
{
    return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                        "tt_layer * to receive the layer)", fn);
}

/* ------------------------------------------------------------------- Conv2d */

typedef struct conv2d_layer {
    tt_layer base;
    size_t in_channels, out_channels, kernel, stride, padding;
    tt_tensor *weight; /* [out, in, k, k], requires grad */
    tt_tensor *bias;   /* [out], requires grad; NULL without bias */
} conv2d_layer;

static tt_status conv2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status conv2d_parameters(tt_layer *layer, tt_params *params);
static void conv2d_destroy(tt_layer *layer);

static const tt_layer_vtable conv2d_vtable = {
    "Conv2d", conv2d_forward, conv2d_parameters, NULL, conv2d_destroy,
};

tt_status tt_conv2d_new(tt_layer **out, size_t in_channels, size_t out_channels,
                        size_t kernel_size, size_t stride, size_t padding, bool bias,
                        tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (!out)
        return layer_out_null(__func__);
    *out = NULL;
    if (in_channels == 0 || out_channels == 0 || kernel_size == 0 || stride == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_conv2d_new: in_channels=%zu, "
                            "out_channels=%zu, kernel_size=%zu, stride=%zu (expected all >= 1)",
                            in_channels, out_channels, kernel_size, stride);
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_conv2d_new: rng is NULL (expected a seeded "
                            "tt_rng for the initialisation)");
    tt_status st = TT_OK;
    conv2d_layer *conv = tt_calloc(1, sizeof *conv);
    if (!conv)
        return TT_ERR_NOMEM;
    conv->base.vtable = &conv2d_vtable;
    conv->base.training = true;
    conv->in_channels = in_channels;
    conv->out_channels = out_channels;
    conv->kernel = kernel_size;
    conv->stride = stride;
    conv->padding = padding;
    /* Each output sums in*k*k products: the same argument as Linear's fan-in. */
    double fan_in = (double)in_channels * (double)kernel_size * (double)kernel_size;
    float bound = (float)(1.0 / sqrt(fan_in));
    TT_CHECK(tt_tensor_uniform(&conv->weight, 4,
                               TT_SHAPE(out_channels, in_channels, kernel_size, kernel_size),
                               -bound, bound, rng));
    TT_CHECK(tt_tensor_set_requires_grad(conv->weight, true));
    if (bias) {
        TT_CHECK(tt_tensor_uniform(&conv->bias, 1, TT_SHAPE(out_channels), -bound, bound, rng));
        TT_CHECK(tt_tensor_set_requires_grad(conv->bias, true));
    }
    *out = &conv->base;
    return TT_OK;
cleanup:
    conv2d_destroy(&conv->base);
    return st;
    /* END SOLUTION */
}

static tt_status conv2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    conv2d_layer *conv = (conv2d_layer *)layer;
    return tt_conv2d(out, x, conv->weight, conv->bias, conv->stride, conv->padding);
    /* END SOLUTION */
}

static tt_status conv2d_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    conv2d_layer *conv = (conv2d_layer *)layer;
    tt_status st = tt_params_push(params, conv->weight);
    if (st == TT_OK && conv->bias)
        st = tt_params_push(params, conv->bias);
    return st;
    /* END SOLUTION */
}

static void conv2d_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    conv2d_layer *conv = (conv2d_layer *)layer;
    tt_tensor_free(conv->weight);
    tt_tensor_free(conv->bias);
    tt_free(conv);
    /* END SOLUTION */
}

tt_tensor *tt_conv2d_weight(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &conv2d_vtable)
        return NULL;
    return ((conv2d_layer *)layer)->weight;
    /* END SOLUTION */
}

tt_tensor *tt_conv2d_bias(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &conv2d_vtable)
        return NULL;
    return ((conv2d_layer *)layer)->bias;
    /* END SOLUTION */
}

/* ------------------------------------------------------------------ pooling */

typedef struct pool_layer {
    tt_layer base;
    size_t kernel, stride;
} pool_layer;

static tt_status maxpool2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status avgpool2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static void plain_destroy(tt_layer *layer)
{
    tt_free(layer);
}

static const tt_layer_vtable maxpool2d_vtable = {
    "MaxPool2d", maxpool2d_forward, NULL, NULL, plain_destroy,
};
static const tt_layer_vtable avgpool2d_vtable = {
    "AvgPool2d", avgpool2d_forward, NULL, NULL, plain_destroy,
};

/* BEGIN SOLUTION: */
static tt_status pool_new(tt_layer **out, const tt_layer_vtable *vtable, const char *fn,
                          size_t kernel, size_t stride)
{
    if (!out)
        return layer_out_null(fn);
    *out = NULL;
    if (kernel == 0 || stride == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: kernel %zu, stride %zu (expected both "
                            ">= 1)", fn, kernel, stride);
    pool_layer *pool = tt_calloc(1, sizeof *pool);
    if (!pool)
        return TT_ERR_NOMEM;
    pool->base.vtable = vtable;
    pool->base.training = true;
    pool->kernel = kernel;
    pool->stride = stride;
    *out = &pool->base;
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_maxpool2d_new(tt_layer **out, size_t kernel, size_t stride)
{
    /* BEGIN SOLUTION */
    return pool_new(out, &maxpool2d_vtable, __func__, kernel, stride);
    /* END SOLUTION */
}

tt_status tt_avgpool2d_new(tt_layer **out, size_t kernel, size_t stride)
{
    /* BEGIN SOLUTION */
    return pool_new(out, &avgpool2d_vtable, __func__, kernel, stride);
    /* END SOLUTION */
}

static tt_status maxpool2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    pool_layer *pool = (pool_layer *)layer;
    return tt_maxpool2d(out, x, pool->kernel, pool->stride);
    /* END SOLUTION */
}

static tt_status avgpool2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    pool_layer *pool = (pool_layer *)layer;
    return tt_avgpool2d(out, x, pool->kernel, pool->stride);
    /* END SOLUTION */
}

/* -------------------------------------------------------------- BatchNorm2d */

typedef struct batchnorm2d_layer {
    tt_layer base;
    size_t features;
    float eps, momentum;
    tt_tensor *gamma, *beta;                /* [C], require grad: the parameters */
    tt_tensor *running_mean, *running_var;  /* [C], no grad: state, not parameters */
} batchnorm2d_layer;

static tt_status batchnorm2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status batchnorm2d_parameters(tt_layer *layer, tt_params *params);
static void batchnorm2d_destroy(tt_layer *layer);

static const tt_layer_vtable batchnorm2d_vtable = {
    "BatchNorm2d", batchnorm2d_forward, batchnorm2d_parameters, NULL, batchnorm2d_destroy,
};

tt_status tt_batchnorm2d_new(tt_layer **out, size_t num_features, float eps, float momentum)
{
    /* BEGIN SOLUTION */
    if (!out)
        return layer_out_null(__func__);
    *out = NULL;
    if (num_features == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d_new: num_features is 0 "
                            "(expected >= 1)");
    if (!(eps > 0.0f) || isinf(eps))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d_new: eps = %g (expected a "
                            "finite eps > 0)", (double)eps);
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_batchnorm2d_new: momentum = %g (expected "
                            "0 <= momentum <= 1)", (double)momentum);
    tt_status st = TT_OK;
    batchnorm2d_layer *bn = tt_calloc(1, sizeof *bn);
    if (!bn)
        return TT_ERR_NOMEM;
    bn->base.vtable = &batchnorm2d_vtable;
    bn->base.training = true;
    bn->features = num_features;
    bn->eps = eps;
    bn->momentum = momentum;
    TT_CHECK(tt_tensor_full(&bn->gamma, 1, TT_SHAPE(num_features), 1.0f));
    TT_CHECK(tt_tensor_set_requires_grad(bn->gamma, true));
    TT_CHECK(tt_tensor_zeros(&bn->beta, 1, TT_SHAPE(num_features)));
    TT_CHECK(tt_tensor_set_requires_grad(bn->beta, true));
    TT_CHECK(tt_tensor_zeros(&bn->running_mean, 1, TT_SHAPE(num_features)));
    TT_CHECK(tt_tensor_full(&bn->running_var, 1, TT_SHAPE(num_features), 1.0f));
    *out = &bn->base;
    return TT_OK;
cleanup:
    batchnorm2d_destroy(&bn->base);
    return st;
    /* END SOLUTION */
}

static tt_status batchnorm2d_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    batchnorm2d_layer *bn = (batchnorm2d_layer *)layer;
    return tt_batchnorm2d(out, x, bn->gamma, bn->beta, bn->running_mean, bn->running_var,
                          layer->training, bn->momentum, bn->eps);
    /* END SOLUTION */
}

static tt_status batchnorm2d_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    batchnorm2d_layer *bn = (batchnorm2d_layer *)layer;
    tt_status st = tt_params_push(params, bn->gamma);
    return st == TT_OK ? tt_params_push(params, bn->beta) : st;
    /* END SOLUTION */
}

static void batchnorm2d_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    batchnorm2d_layer *bn = (batchnorm2d_layer *)layer;
    tt_tensor_free(bn->gamma);
    tt_tensor_free(bn->beta);
    tt_tensor_free(bn->running_mean);
    tt_tensor_free(bn->running_var);
    tt_free(bn);
    /* END SOLUTION */
}

/* The four accessors share one check: NULL unless `layer` is a BatchNorm2d. */
static batchnorm2d_layer *as_batchnorm(tt_layer *layer)
{
    return layer && layer->vtable == &batchnorm2d_vtable ? (batchnorm2d_layer *)layer : NULL;
}

tt_tensor *tt_batchnorm2d_gamma(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    batchnorm2d_layer *bn = as_batchnorm(layer);
    return bn ? bn->gamma : NULL;
    /* END SOLUTION */
}

tt_tensor *tt_batchnorm2d_beta(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    batchnorm2d_layer *bn = as_batchnorm(layer);
    return bn ? bn->beta : NULL;
    /* END SOLUTION */
}

tt_tensor *tt_batchnorm2d_running_mean(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    batchnorm2d_layer *bn = as_batchnorm(layer);
    return bn ? bn->running_mean : NULL;
    /* END SOLUTION */
}

tt_tensor *tt_batchnorm2d_running_var(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    batchnorm2d_layer *bn = as_batchnorm(layer);
    return bn ? bn->running_var : NULL;
    /* END SOLUTION */
}

/* ------------------------------------------------------------------ Flatten */

static tt_status flatten_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);

static const tt_layer_vtable flatten_vtable = {
    "Flatten", flatten_forward, NULL, NULL, plain_destroy,
};

tt_status tt_flatten_new(tt_layer **out)
{
    /* BEGIN SOLUTION */
    if (!out)
        return layer_out_null(__func__);
    *out = NULL;
    tt_layer *layer = tt_calloc(1, sizeof *layer);
    if (!layer)
        return TT_ERR_NOMEM;
    layer->vtable = &flatten_vtable;
    layer->training = true;
    *out = layer;
    return TT_OK;
    /* END SOLUTION */
}

static tt_status flatten_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    (void)layer;
    return tt_flatten(out, x);
    /* END SOLUTION */
}
