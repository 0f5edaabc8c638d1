/*
 * grader/suites/09_spatial/visible.c: the visible checks of module 09 (spatial).
 *
 * You can read this file: it is exactly what `tito` runs against your spatial.c and
 * against the course's reference, on the same random inputs. Each case calls your
 * functions and records what came back; tito compares your records with the
 * reference's within the tolerance stated before each record (a convolution output is
 * a sum of C*KH*KW products, so it gets a reduction tolerance over that many terms).
 *
 * Backward checks run the reference's tt_backward (module 05) over the node your op
 * recorded: they test your op's backward function through the graph, exactly as a
 * training loop would.
 *
 * The speed kernel conv2d_32x16x32x32 times one convolution of a [32,16,32,32] batch
 * by [32,16,3,3] weights with padding 1 (im2col + one matmul in the reference).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/spatial.h"

/* backward_from, which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ helpers */

static void record_result(tito_probe *p, tt_status st, const tt_tensor *out)
{
    probe_status(p, "status", st);
    probe_tensor(p, "out", out);
}

/* The call runs first, then its result is read (an argument list has no order). */
#define RECORD(p, call, out)                                                                \
    do {                                                                                    \
        tt_status record_st_ = (call);                                                      \
        record_result((p), record_st_, (out));                                              \
    } while (0)

static void require_grad(tito_probe *p, tt_tensor *t)
{
    if (t)
        probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(t, true));
}

/* The output shape a correct op gives, for the grad seed of backward checks. */
static tt_tensor *seed_like(tito_probe *p, size_t n, size_t c, size_t h, size_t w)
{
    return probe_randn(p, 4, TT_SHAPE(n, c, h, w));
}

/* ------------------------------------------------------------ convolution */

static void conv_forward(tito_probe *p, size_t n, size_t c, size_t h, size_t w, size_t o,
                         size_t k, size_t stride, size_t pad, bool bias)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(n, c, h, w));
    tt_tensor *wt = probe_randn(p, 4, TT_SHAPE(o, c, k, k));
    tt_tensor *b = bias ? probe_randn(p, 1, TT_SHAPE(o)) : NULL;
    tt_tensor *out = NULL;
    probe_note(p, "out = tt_conv2d(x, weight, %s, stride %zu, padding %zu);  x: [%zu,%zu,%zu,%zu]"
                  "  weight: [%zu,%zu,%zu,%zu]%s", bias ? "bias" : "NULL", stride, pad, n, c, h,
               w, o, c, k, k, bias ? "  bias: [O]" : "");
    probe_tol_reduction(p, c * k * k + 1);
    RECORD(p, tt_conv2d(&out, x, wt, b, stride, pad), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(wt);
    tt_tensor_free(x);
}

static void case_conv_basic(tito_probe *p)
{
    conv_forward(p, 2, 3, 6, 6, 4, 3, 1, 0, true);
}

static void case_conv_stride_padding(tito_probe *p)
{
    conv_forward(p, 1, 2, 7, 7, 3, 3, 2, 1, false);
}

static void case_conv_known_values(tito_probe *p)
{
    /* A 1-channel 3x3 image of 1..9 and a 2x2 kernel [[1,0],[0,-1]]: each output is
     * x[i][j] - x[i+1][j+1] = -4, plus the bias 0.5. */
    float xd[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wd[4] = {1, 0, 0, -1}, bd[1] = {0.5f};
    tt_tensor *x = probe_from_data(p, 4, TT_SHAPE(1, 1, 3, 3), xd);
    tt_tensor *w = probe_from_data(p, 4, TT_SHAPE(1, 1, 2, 2), wd);
    tt_tensor *b = probe_from_data(p, 1, TT_SHAPE(1), bd);
    tt_tensor *out = NULL;
    probe_note(p, "x = 1..9 as [1,1,3,3], weight [[1,0],[0,-1]], bias 0.5: out [1,1,2,2] all "
                  "-3.5 (cross-correlation: the kernel is not flipped)");
    probe_tol_elementwise(p);
    RECORD(p, tt_conv2d(&out, x, w, b, 1, 0), out);
    tt_tensor_free(out);
    tt_tensor_free(b);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

static void conv_backward(tito_probe *p, size_t n, size_t c, size_t h, size_t w, size_t o,
                          size_t k, size_t stride, size_t pad)
{
    size_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(n, c, h, w));
    tt_tensor *wt = probe_randn(p, 4, TT_SHAPE(o, c, k, k));
    tt_tensor *b = probe_randn(p, 1, TT_SHAPE(o));
    tt_tensor *g = seed_like(p, n, o, oh, ow);
    tt_tensor *y = NULL;
    probe_note(p, "x: [%zu,%zu,%zu,%zu], weight: [%zu,%zu,%zu,%zu], bias [%zu], all requiring "
                  "grad; y = tt_conv2d(x, weight, bias, stride %zu, padding %zu); backward of "
                  "sum(g * y): dweight = g cols^T, dbias = g summed over n,i,j, dx = col2im("
                  "W^T g) (padding dropped)", n, c, h, w, o, c, k, k, o, stride, pad);
    require_grad(p, x);
    require_grad(p, wt);
    require_grad(p, b);
    probe_status(p, "forward_status", tt_conv2d(&y, x, wt, b, stride, pad));
    probe_int(p, "out_requires_grad", y && y->requires_grad);
    backward_from(p, y, g);
    probe_tol_reduction(p, n * oh * ow);
    probe_tensor(p, "weight.grad", wt->grad);
    probe_tensor(p, "bias.grad", b->grad);
    probe_tol_reduction(p, o * k * k);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(b);
    tt_tensor_free(wt);
    tt_tensor_free(x);
}

static void case_conv_backward(tito_probe *p)
{
    conv_backward(p, 2, 2, 5, 5, 3, 3, 1, 0);
}

static void case_conv_backward_padded(tito_probe *p)
{
    conv_backward(p, 2, 3, 6, 6, 2, 3, 2, 1);
}

static void case_conv_errors(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(1, 2, 4, 4));
    tt_tensor *w = probe_randn(p, 4, TT_SHAPE(3, 2, 3, 3));
    tt_tensor *w_bad_c = probe_randn(p, 4, TT_SHAPE(3, 1, 3, 3));
    tt_tensor *w_big = probe_randn(p, 4, TT_SHAPE(3, 2, 5, 5));
    tt_tensor *b_bad = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *x3 = probe_randn(p, 3, TT_SHAPE(2, 4, 4));
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "x: [1,2,4,4], weight [3,2,3,3]: out NULL -> TT_ERR_INVALID_ARG");
    probe_status(p, "out_null", tt_conv2d(NULL, x, w, NULL, 1, 0));
    probe_note(p, "x NULL / weight NULL -> TT_ERR_INVALID_ARG, out stays NULL");
    probe_status(p, "x_null", tt_conv2d(&out, NULL, w, NULL, 1, 0));
    probe_int(p, "x_null.out_is_null", out == NULL);
    probe_status(p, "weight_null", tt_conv2d(&out, x, NULL, NULL, 1, 0));
    probe_note(p, "stride 0 -> TT_ERR_INVALID_ARG");
    probe_status(p, "stride_0", tt_conv2d(&out, x, w, NULL, 0, 0));
    probe_int(p, "stride_0.out_is_null", out == NULL);
    probe_note(p, "weight [3,1,3,3] for a 2-channel x -> TT_ERR_SHAPE");
    probe_status(p, "channels", tt_conv2d(&out, x, w_bad_c, NULL, 1, 0));
    probe_int(p, "channels.out_is_null", out == NULL);
    probe_note(p, "bias [2] for 3 output channels -> TT_ERR_SHAPE");
    probe_status(p, "bias_shape", tt_conv2d(&out, x, w, b_bad, 1, 0));
    probe_note(p, "5x5 kernel on a 4x4 input without padding -> TT_ERR_SHAPE; with padding 1 "
                  "it fits (out [1,3,2,2])");
    probe_status(p, "kernel_too_big", tt_conv2d(&out, x, w_big, NULL, 1, 0));
    probe_int(p, "kernel_too_big.out_is_null", out == NULL);
    probe_status(p, "kernel_fits_padded", tt_conv2d(&out, x, w_big, NULL, 1, 1));
    probe_int(p, "kernel_fits_padded.out_is_4d", out && out->ndim == 4);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "x of 3 dimensions -> TT_ERR_SHAPE");
    probe_status(p, "x_3d", tt_conv2d(&out, x3, w, NULL, 1, 0));
    probe_int(p, "x_3d.out_is_null", out == NULL);
    tt_tensor_free(x3);
    tt_tensor_free(b_bad);
    tt_tensor_free(w_big);
    tt_tensor_free(w_bad_c);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ pooling */

static void case_maxpool_forward(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 3, 6, 6));
    tt_tensor *out = NULL;
    probe_note(p, "out = tt_maxpool2d(x, kernel 2, stride 2);  x: [2,3,6,6] -> [2,3,3,3]");
    probe_tol_exact(p);
    RECORD(p, tt_maxpool2d(&out, x, 2, 2), out);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void case_avgpool_forward(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 2, 7, 7));
    tt_tensor *out = NULL;
    probe_note(p, "out = tt_avgpool2d(x, kernel 3, stride 2);  x: [2,2,7,7] -> [2,2,3,3]");
    probe_tol_reduction(p, 9);
    RECORD(p, tt_avgpool2d(&out, x, 3, 2), out);
    tt_tensor_free(out);
    tt_tensor_free(x);
}

static void pool_backward(tito_probe *p, bool max, size_t k, size_t stride)
{
    size_t h = 6, oh = (h - k) / stride + 1;
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 2, h, h));
    tt_tensor *g = seed_like(p, 2, 2, oh, oh);
    tt_tensor *y = NULL;
    probe_note(p, "x: [2,2,6,6] requires grad; y = %s(x, kernel %zu, stride %zu); backward of "
                  "sum(g * y): %s%s", max ? "tt_maxpool2d" : "tt_avgpool2d", k, stride,
               max ? "each window's g goes to its first maximal element"
                   : "each window's g / (k*k) goes to every element of the window",
               stride < k ? " (windows overlap: their gradients add)" : "");
    require_grad(p, x);
    probe_status(p, "forward_status",
                 max ? tt_maxpool2d(&y, x, k, stride) : tt_avgpool2d(&y, x, k, stride));
    backward_from(p, y, g);
    probe_tol_reduction(p, k * k);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_maxpool_backward(tito_probe *p)
{
    pool_backward(p, true, 2, 2);
}

static void case_maxpool_backward_overlap(tito_probe *p)
{
    pool_backward(p, true, 3, 1);
}

static void case_avgpool_backward(tito_probe *p)
{
    pool_backward(p, false, 2, 1);
}

static void case_pool_errors(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(1, 1, 4, 4));
    tt_tensor *x2 = probe_randn(p, 2, TT_SHAPE(4, 4));
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "x: [1,1,4,4]: kernel 0, stride 0, NULL -> TT_ERR_INVALID_ARG; kernel 5 -> "
                  "TT_ERR_SHAPE; x [4,4] -> TT_ERR_SHAPE; out stays NULL");
    probe_status(p, "max.kernel_0", tt_maxpool2d(&out, x, 0, 1));
    probe_status(p, "max.stride_0", tt_maxpool2d(&out, x, 2, 0));
    probe_status(p, "max.x_null", tt_maxpool2d(&out, NULL, 2, 2));
    probe_status(p, "max.out_null", tt_maxpool2d(NULL, x, 2, 2));
    probe_status(p, "max.kernel_5", tt_maxpool2d(&out, x, 5, 1));
    probe_status(p, "max.x_2d", tt_maxpool2d(&out, x2, 2, 2));
    probe_status(p, "avg.kernel_0", tt_avgpool2d(&out, x, 0, 1));
    probe_status(p, "avg.stride_0", tt_avgpool2d(&out, x, 2, 0));
    probe_status(p, "avg.kernel_5", tt_avgpool2d(&out, x, 5, 1));
    probe_status(p, "avg.x_2d", tt_avgpool2d(&out, x2, 2, 2));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(x2);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ batch normalisation */

static void case_bn_train(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(4, 3, 3, 3));
    tt_tensor *gamma = probe_uniform(p, 1, TT_SHAPE(3), 0.5f, 1.5f);
    tt_tensor *beta = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *rm = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *rv = probe_uniform(p, 1, TT_SHAPE(3), 0.5f, 2.0f);
    tt_tensor *out = NULL;
    probe_note(p, "out = tt_batchnorm2d(x, gamma, beta, running_mean, running_var, training, "
                  "momentum 0.1, eps 1e-5);  x: [4,3,3,3] (M = 36 per channel): batch mean "
                  "and biased var; running_var moves toward the unbiased var (var * M/(M-1))");
    probe_status(p, "status", tt_batchnorm2d(&out, x, gamma, beta, rm, rv, true, 0.1f, 1e-5f));
    probe_tol_reduction(p, 36);
    probe_tensor(p, "out", out);
    probe_tensor(p, "running_mean", rm);
    probe_tensor(p, "running_var", rv);
    tt_tensor_free(out);
    tt_tensor_free(rv);
    tt_tensor_free(rm);
    tt_tensor_free(beta);
    tt_tensor_free(gamma);
    tt_tensor_free(x);
}

static void case_bn_eval(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 2, 3, 3));
    tt_tensor *gamma = probe_uniform(p, 1, TT_SHAPE(2), 0.5f, 1.5f);
    tt_tensor *rm = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *rv = probe_uniform(p, 1, TT_SHAPE(2), 0.5f, 2.0f);
    tt_tensor *out = NULL;
    probe_note(p, "out = tt_batchnorm2d(x, gamma, beta NULL, running_mean, running_var, "
                  "evaluation, 0.1, 1e-5): (x - running_mean) / sqrt(running_var + eps) * gamma; "
                  "the running statistics are not changed");
    probe_status(p, "status", tt_batchnorm2d(&out, x, gamma, NULL, rm, rv, false, 0.1f, 1e-5f));
    probe_tol_reduction(p, 4);
    probe_tensor(p, "out", out);
    probe_tol_exact(p);
    probe_tensor(p, "running_mean", rm);
    probe_tensor(p, "running_var", rv);
    tt_tensor_free(out);
    tt_tensor_free(rv);
    tt_tensor_free(rm);
    tt_tensor_free(gamma);
    tt_tensor_free(x);
}

static void bn_backward(tito_probe *p, bool training)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(3, 2, 2, 3));
    tt_tensor *gamma = probe_uniform(p, 1, TT_SHAPE(2), 0.5f, 1.5f);
    tt_tensor *beta = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *rm = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *rv = probe_uniform(p, 1, TT_SHAPE(2), 0.5f, 2.0f);
    tt_tensor *g = seed_like(p, 3, 2, 2, 3);
    tt_tensor *y = NULL;
    probe_note(p, "x: [3,2,2,3], gamma, beta [2] requiring grad; y = tt_batchnorm2d(..., %s); "
                  "backward of sum(g * y)%s", training ? "training" : "evaluation",
               training ? ": the batch statistics depend on x, so dx = (M dxhat - sum(dxhat) - "
                          "xhat sum(dxhat xhat)) / (M sqrt(var + eps)), not dxhat / sqrt(var + "
                          "eps)"
                        : ": dx = g gamma / sqrt(running_var + eps)");
    require_grad(p, x);
    require_grad(p, gamma);
    require_grad(p, beta);
    probe_status(p, "forward_status",
                 tt_batchnorm2d(&y, x, gamma, beta, rm, rv, training, 0.1f, 1e-5f));
    backward_from(p, y, g);
    probe_tol_reduction(p, 18);
    probe_tensor(p, "x.grad", x->grad);
    probe_tensor(p, "gamma.grad", gamma->grad);
    probe_tensor(p, "beta.grad", beta->grad);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(rv);
    tt_tensor_free(rm);
    tt_tensor_free(beta);
    tt_tensor_free(gamma);
    tt_tensor_free(x);
}

static void case_bn_backward_train(tito_probe *p)
{
    bn_backward(p, true);
}

static void case_bn_backward_eval(tito_probe *p)
{
    bn_backward(p, false);
}

static void case_bn_errors(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 2, 2, 2));
    tt_tensor *one = probe_randn(p, 4, TT_SHAPE(1, 2, 1, 1));
    tt_tensor *rm = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *rv = probe_uniform(p, 1, TT_SHAPE(2), 0.5f, 2.0f);
    tt_tensor *bad = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "x: [2,2,2,2]: eps 0, momentum 1.5, evaluation without running stats, "
                  "training with only one of them -> TT_ERR_INVALID_ARG");
    probe_status(p, "eps_0", tt_batchnorm2d(&out, x, NULL, NULL, NULL, NULL, true, 0.1f, 0.0f));
    probe_status(p, "momentum_1.5",
                 tt_batchnorm2d(&out, x, NULL, NULL, NULL, NULL, true, 1.5f, 1e-5f));
    probe_status(p, "eval_no_stats",
                 tt_batchnorm2d(&out, x, NULL, NULL, NULL, NULL, false, 0.1f, 1e-5f));
    probe_status(p, "train_one_stat",
                 tt_batchnorm2d(&out, x, NULL, NULL, rm, NULL, true, 0.1f, 1e-5f));
    probe_note(p, "gamma [3] for 2 channels, x [1,2,1,1] in training (M = 1) -> TT_ERR_SHAPE");
    probe_status(p, "gamma_shape",
                 tt_batchnorm2d(&out, x, bad, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    probe_status(p, "m_1", tt_batchnorm2d(&out, one, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    probe_int(p, "out_is_null", out == NULL);
    probe_note(p, "the failed training calls left running_mean unchanged");
    probe_tensor(p, "running_mean", rm);
    tt_tensor_free(out);
    tt_tensor_free(bad);
    tt_tensor_free(rv);
    tt_tensor_free(rm);
    tt_tensor_free(one);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ flatten */

static void case_flatten(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 3, 2, 2));
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(2, 12));
    tt_tensor *y = NULL;
    probe_note(p, "x: [2,3,2,2] requires grad; y = tt_flatten(x): [2,12], a view of x; backward "
                  "of sum(g * y) gives x.grad = g reshaped to [2,3,2,2]");
    require_grad(p, x);
    probe_tol_exact(p);
    RECORD(p, tt_flatten(&y, x), y);
    probe_int(p, "shares_storage_with_x", y && y->storage == x->storage);
    backward_from(p, y, g);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    y = NULL;
    tt_tensor *v = probe_randn(p, 1, TT_SHAPE(5));
    probe_note(p, "tt_flatten of a 1-D tensor -> TT_ERR_SHAPE; NULL -> TT_ERR_INVALID_ARG");
    probe_status(p, "x_1d", tt_flatten(&y, v));
    probe_status(p, "x_null", tt_flatten(&y, NULL));
    probe_int(p, "out_is_null", y == NULL);
    tt_tensor_free(v);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ layers */

static void case_conv_layer(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *layer = NULL;
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 3, 5, 5));
    tt_tensor *y = NULL;
    probe_note(p, "tt_conv2d_new(&layer, 3, 4, kernel 3, stride 1, padding 1, bias, rng): weight "
                  "[4,3,3,3] then bias [4], uniform(-b, b) with b = 1/sqrt(27), drawn in that "
                  "order; then forward of x [2,3,5,5]");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_conv2d_new(&layer, 3, 4, 3, 1, 1, true, &rng));
    probe_tol_elementwise(p);
    probe_tensor(p, "weight", layer ? tt_conv2d_weight(layer) : NULL);
    probe_tensor(p, "bias", layer ? tt_conv2d_bias(layer) : NULL);
    tt_tensor *w = layer ? tt_conv2d_weight(layer) : NULL;
    probe_tol_exact(p);
    probe_int(p, "weight_requires_grad", w && w->requires_grad);
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", layer ? tt_layer_parameters(layer, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    probe_status(p, "forward_status", layer ? tt_layer_forward(layer, &y, x) : TT_ERR_STATE);
    probe_tol_reduction(p, 28);
    probe_tensor(p, "out", y);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(layer);
    layer = NULL;
    probe_tol_exact(p);
    probe_note(p, "tt_conv2d_new with 0 input channels, kernel 0, stride 0, rng NULL -> "
                  "TT_ERR_INVALID_ARG");
    probe_status(p, "in_0", tt_conv2d_new(&layer, 0, 4, 3, 1, 0, true, &rng));
    probe_status(p, "kernel_0", tt_conv2d_new(&layer, 3, 4, 0, 1, 0, true, &rng));
    probe_status(p, "stride_0", tt_conv2d_new(&layer, 3, 4, 3, 0, 0, true, &rng));
    probe_status(p, "rng_null", tt_conv2d_new(&layer, 3, 4, 3, 1, 0, true, NULL));
    probe_int(p, "out_is_null", layer == NULL);
    tt_layer_free(layer);
}

static void case_bn_layer(tito_probe *p)
{
    tt_layer *bn = NULL;
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(3, 2, 2, 2));
    tt_tensor *y = NULL;
    probe_note(p, "tt_batchnorm2d_new(&bn, 2, 1e-5, 0.1): gamma 1, beta 0, running_mean 0, "
                  "running_var 1; forward in training (updates the running stats), then in "
                  "evaluation (uses them)");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_batchnorm2d_new(&bn, 2, 1e-5f, 0.1f));
    probe_tensor(p, "gamma", bn ? tt_batchnorm2d_gamma(bn) : NULL);
    probe_tensor(p, "beta", bn ? tt_batchnorm2d_beta(bn) : NULL);
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", bn ? tt_layer_parameters(bn, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    probe_status(p, "train_status", bn ? tt_layer_forward(bn, &y, x) : TT_ERR_STATE);
    probe_tol_reduction(p, 12);
    probe_tensor(p, "train_out", y);
    probe_tensor(p, "running_mean", bn ? tt_batchnorm2d_running_mean(bn) : NULL);
    probe_tensor(p, "running_var", bn ? tt_batchnorm2d_running_var(bn) : NULL);
    tt_tensor_free(y);
    y = NULL;
    if (bn)
        tt_layer_set_training(bn, false);
    probe_tol_exact(p);
    probe_status(p, "eval_status", bn ? tt_layer_forward(bn, &y, x) : TT_ERR_STATE);
    probe_tol_reduction(p, 4);
    probe_tensor(p, "eval_out", y);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_layer_free(bn);
}

static void case_pool_flatten_layers(tito_probe *p)
{
    tt_layer *mp = NULL, *ap = NULL, *fl = NULL;
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 2, 4, 4));
    tt_tensor *a = NULL, *b = NULL, *c = NULL;
    probe_note(p, "MaxPool2d(2,2), AvgPool2d(2,2), Flatten layers on x [2,2,4,4]; kernel 0 -> "
                  "TT_ERR_INVALID_ARG");
    probe_tol_exact(p);
    probe_status(p, "maxpool_new", tt_maxpool2d_new(&mp, 2, 2));
    probe_status(p, "avgpool_new", tt_avgpool2d_new(&ap, 2, 2));
    probe_status(p, "flatten_new", tt_flatten_new(&fl));
    probe_status(p, "maxpool_forward", mp ? tt_layer_forward(mp, &a, x) : TT_ERR_STATE);
    probe_tensor(p, "maxpool_out", a);
    probe_status(p, "flatten_forward", fl ? tt_layer_forward(fl, &c, x) : TT_ERR_STATE);
    probe_tensor(p, "flatten_out", c);
    probe_status(p, "avgpool_forward", ap ? tt_layer_forward(ap, &b, x) : TT_ERR_STATE);
    probe_tol_reduction(p, 4);
    probe_tensor(p, "avgpool_out", b);
    tt_tensor_free(c);
    tt_tensor_free(b);
    tt_tensor_free(a);
    tt_layer_free(fl);
    tt_layer_free(ap);
    tt_layer_free(mp);
    mp = NULL;
    probe_tol_exact(p);
    probe_status(p, "maxpool_kernel_0", tt_maxpool2d_new(&mp, 0, 2));
    probe_status(p, "avgpool_stride_0", tt_avgpool2d_new(&mp, 2, 0));
    probe_int(p, "out_is_null", mp == NULL);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ speed */

typedef struct conv_perf {
    tt_tensor *x, *w, *b;
} conv_perf;

static void *conv_setup(tito_probe *p)
{
    conv_perf *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    size_t n = probe_small(p) ? 2 : 32, c = probe_small(p) ? 4 : 16;
    size_t hw = probe_small(p) ? 8 : 32, o = probe_small(p) ? 4 : 32;
    s->x = probe_randn(p, 4, TT_SHAPE(n, c, hw, hw));
    s->w = probe_randn(p, 4, TT_SHAPE(o, c, 3, 3));
    s->b = probe_randn(p, 1, TT_SHAPE(o));
    return s;
}

static void conv_run(void *state)
{
    conv_perf *s = state;
    tt_tensor *out = NULL;
    if (s && tt_conv2d(&out, s->x, s->w, s->b, 1, 1) == TT_OK)
        tt_tensor_free(out);
}

static void conv_teardown(void *state)
{
    conv_perf *s = state;
    if (!s)
        return;
    tt_tensor_free(s->x);
    tt_tensor_free(s->w);
    tt_tensor_free(s->b);
    free(s);
}

static const tito_probe_case cases[] = {
    {"conv.basic", "convolution", 2, case_conv_basic},
    {"conv.stride_padding", "convolution", 2, case_conv_stride_padding},
    {"conv.known_values", "convolution", 1, case_conv_known_values},
    {"conv.backward", "convolution", 3, case_conv_backward},
    {"conv.backward_stride_padding", "convolution", 3, case_conv_backward_padded},
    {"conv.errors", "errors", 2, case_conv_errors},
    {"pool.max_forward", "pooling", 1, case_maxpool_forward},
    {"pool.avg_forward", "pooling", 1, case_avgpool_forward},
    {"pool.max_backward", "pooling", 2, case_maxpool_backward},
    {"pool.max_backward_overlap", "pooling", 2, case_maxpool_backward_overlap},
    {"pool.avg_backward", "pooling", 2, case_avgpool_backward},
    {"pool.errors", "errors", 1, case_pool_errors},
    {"batchnorm.train", "batchnorm", 2, case_bn_train},
    {"batchnorm.eval", "batchnorm", 1, case_bn_eval},
    {"batchnorm.backward_train", "batchnorm", 3, case_bn_backward_train},
    {"batchnorm.backward_eval", "batchnorm", 1, case_bn_backward_eval},
    {"batchnorm.errors", "errors", 1, case_bn_errors},
    {"flatten.view_and_backward", "flatten", 1, case_flatten},
    {"layer.conv2d", "layers", 2, case_conv_layer},
    {"layer.batchnorm2d", "layers", 2, case_bn_layer},
    {"layer.pool_flatten", "layers", 1, case_pool_flatten_layers},
};

static const tito_probe_perf perfs[] = {
    {"conv2d_32x16x32x32", conv_setup, conv_run, conv_teardown},
};

TITO_PROBE_MAIN_WITH_PERF(cases, perfs)
