/*
 * tinytorch/spatial.h: module 09, spatial layers for images.
 *
 * Images are 4-D tensors in NCHW order: x [N, C, H, W] is a batch of N images of C
 * channels, H rows and W columns, row-major (the column index moves fastest).
 *
 * Convolution, pooling and batch normalisation are each ONE recorded op of this
 * module (a `tt_op` defined in spatial.c, with its backward function next to it):
 * the forward computes its result with grad mode off and records a single node whose
 * inputs are the op's tensor arguments. Flatten records nothing of its own: it is a
 * reshape (TT_OP_RESHAPE), a view that stays in the graph, so the layers before it
 * keep receiving gradients.
 *
 * Output sizes of a window of k rows sliding with stride s over H rows padded with p
 * zero rows on each side: OH = (H + 2p - k) / s + 1 (integer division), and the same
 * for columns. Windows that do not fit entirely are dropped (no partial windows).
 *
 * Ownership and errors follow tinytorch/tensor.h: inputs are borrowed, results are new
 * tensors of the caller, on error *out is NULL, tt_error_last() names the function and
 * the shapes involved, and nothing leaks. Every input may be any view (any strides).
 * A NULL out, a NULL required tensor, a zero kernel or stride is TT_ERR_INVALID_ARG;
 * shapes that do not fit are TT_ERR_SHAPE; allocation failures TT_ERR_NOMEM.
 */
#ifndef TINYTORCH_SPATIAL_H
#define TINYTORCH_SPATIAL_H

#include "tinytorch/layers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ convolution */

/* 2-D convolution (cross-correlation, as every framework computes it):
 *
 *   out[n, o, i, j] = b[o] + sum over c, u, v of
 *                     w[o, c, u, v] * xpad[n, c, i*stride + u, j*stride + v]
 *
 * with x [N, C, H, W], weight [O, C, KH, KW], bias [O] or NULL (no bias), xpad = x
 * with `padding` zeros on every side, out [N, O, OH, OW] (sizes at the top of this
 * file; one stride and one padding for both directions).
 *
 * Computed as im2col + matmul: the patches of x are laid out as the columns of a
 * matrix of C*KH*KW rows and N*OH*OW columns, which tt_tensor_matmul multiplies by
 * the weight seen as [O, C*KH*KW]; the bias is added last. Each output is a sum of
 * C*KH*KW products, so results are compared with a tolerance growing with its sqrt.
 * The im2col matrix costs C*KH*KW*N*OH*OW floats while the call runs.
 *
 * Recorded as one node (op name "conv2d") with inputs {x, weight, bias}: its backward
 * gives dweight = dY cols^T, dbias = dY summed over n, i, j, and dx = col2im(W^T dY)
 * (col2im adds every patch entry back to the pixel it came from; padding is dropped).
 *
 * Errors: TT_ERR_INVALID_ARG (out, x or weight NULL; stride 0); TT_ERR_SHAPE (x or
 * weight not 4-D; weight's C differs from x's; bias not [O]; a kernel larger than the
 * padded input). */
tt_status tt_conv2d(tt_tensor **out, tt_tensor *x, tt_tensor *weight, tt_tensor *bias,
                    size_t stride, size_t padding);

/* ---------------------------------------------------------------- pooling */

/* Max and average pooling over k x k windows moved by `stride`, channel by channel,
 * without padding: x [N, C, H, W] -> [N, C, OH, OW], OH = (H - k) / stride + 1.
 *
 * Max: the largest element of each window; a NaN in a window wins (the first one in
 * row-major order within the window). Its gradient goes to the first maximal element
 * of each window in row-major order (to one element per window, even when several
 * tie); windows that overlap (stride < k) add their gradients.
 * Average: the sum of the window's k*k elements divided by k*k; its gradient is
 * g / (k*k) to every element of the window (added up where windows overlap).
 *
 * Recorded as one node (op names "maxpool2d", "avgpool2d") with input {x}.
 * Errors: TT_ERR_INVALID_ARG (NULL, k or stride 0), TT_ERR_SHAPE (x not 4-D, k larger
 * than H or W). */
tt_status tt_maxpool2d(tt_tensor **out, tt_tensor *x, size_t kernel, size_t stride);
tt_status tt_avgpool2d(tt_tensor **out, tt_tensor *x, size_t kernel, size_t stride);

/* ------------------------------------------------------ batch normalisation */

#define TT_BATCHNORM_EPS 1e-5f
#define TT_BATCHNORM_MOMENTUM 0.1f

/* Batch normalisation of each channel of x [N, C, H, W]:
 *
 *   y[n, c, h, w] = gamma[c] * (x[n, c, h, w] - mean[c]) / sqrt(var[c] + eps) + beta[c]
 *
 * gamma and beta are [C] (either may be NULL: scale 1, shift 0).
 *
 * Training (`training` true): mean and var are the statistics of the batch, over the
 * M = N*H*W elements of each channel, var the biased one (divided by M); they are
 * computed in double. The gradient flows through them too: every output of a channel
 * depends on every input of it. M must be at least 2. When running_mean and
 * running_var (both [C]) are given they are then updated in place, not recorded, in
 * double and rounded to float:
 *     running_mean = (1 - momentum) * running_mean + momentum * mean
 *     running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)
 * (the unbiased variance: the running statistics estimate the population's). Both
 * may be NULL (no update), not only one.
 * Evaluation (`training` false): mean and var are running_mean and running_var, which
 * must be given; the result is an affine map of x and nothing is updated.
 *
 * Recorded as one node (op name "batchnorm2d") with inputs {x, gamma, beta}; the node
 * saves the mean and 1/sqrt(var + eps) it used, as a [2, C] tensor, so a later update
 * of the running statistics does not change the backward. In training, with
 * xhat = (x - mean) / sqrt(var + eps), dxhat = g * gamma and sums over a channel's M
 * elements:  dx = (M dxhat - sum(dxhat) - xhat sum(dxhat xhat)) / (M sqrt(var + eps));
 * in evaluation dx = dxhat / sqrt(var + eps). Always dgamma = sum(g xhat),
 * dbeta = sum(g).
 *
 * Errors: TT_ERR_INVALID_ARG (out or x NULL; eps <= 0 or not finite; momentum
 * outside [0, 1]; in evaluation, a running statistic NULL; in training, exactly one
 * of them NULL); TT_ERR_SHAPE (x not 4-D; gamma, beta or a running statistic not
 * [C]; in training, N*H*W < 2). */
tt_status tt_batchnorm2d(tt_tensor **out, tt_tensor *x, tt_tensor *gamma, tt_tensor *beta,
                         tt_tensor *running_mean, tt_tensor *running_var, bool training,
                         float momentum, float eps);

/* ---------------------------------------------------------------- flatten */

/* x [N, d1, ..., dk] -> [N, d1*...*dk]: tt_tensor_reshape(out, x, 2, {N, -1}), so a
 * contiguous x gives a view of its storage and the reshape is recorded like any other
 * (gradients flow through it to whatever made x). Errors: TT_ERR_INVALID_ARG (NULL),
 * TT_ERR_SHAPE (x with fewer than 2 dimensions). */
tt_status tt_flatten(tt_tensor **out, tt_tensor *x);

/* ----------------------------------------------------------------- layers */

/* Conv2d(in_channels, out_channels, kernel_size, stride, padding): a square
 * kernel_size x kernel_size kernel; forward is tt_conv2d. Parameters, in this order:
 * weight [out, in, k, k], then bias [out] when `bias` is true. Initialised like
 * Linear with fan_in = in_channels * k * k: bound = (float)(1 / sqrt(fan_in))
 * computed in double, the weight drawn first, then the bias, each exactly as
 * tt_tensor_uniform(-bound, bound) draws (row-major, one draw per element).
 * Both require gradients. Forward errors are those of tt_conv2d.
 * Errors: TT_ERR_INVALID_ARG (a zero channel count, kernel_size or stride; rng
 * NULL), TT_ERR_NOMEM. */
tt_status tt_conv2d_new(tt_layer **out, size_t in_channels, size_t out_channels,
                        size_t kernel_size, size_t stride, size_t padding, bool bias,
                        tt_rng *rng);

/* Borrowed access to a Conv2d's weight and bias (NULL when it has none, or when
 * `layer` is not a Conv2d). */
tt_tensor *tt_conv2d_weight(tt_layer *layer);
tt_tensor *tt_conv2d_bias(tt_layer *layer);

/* MaxPool2d / AvgPool2d(kernel, stride): forward is tt_maxpool2d / tt_avgpool2d.
 * No parameters. Errors: TT_ERR_INVALID_ARG (kernel or stride 0), TT_ERR_NOMEM. */
tt_status tt_maxpool2d_new(tt_layer **out, size_t kernel, size_t stride);
tt_status tt_avgpool2d_new(tt_layer **out, size_t kernel, size_t stride);

/* BatchNorm2d(num_features, eps, momentum): gamma [C] = 1 and beta [C] = 0, the
 * parameters in this order, both requiring gradients; running_mean [C] = 0 and
 * running_var [C] = 1, which are not parameters (no gradient, never listed).
 * Forward is tt_batchnorm2d with the layer's tensors and its training flag
 * (tt_layer_set_training): training mode uses and updates batch statistics,
 * evaluation mode uses the running ones. Pass TT_BATCHNORM_EPS and
 * TT_BATCHNORM_MOMENTUM for the usual values.
 * Errors: TT_ERR_INVALID_ARG (num_features 0, eps or momentum as for
 * tt_batchnorm2d), TT_ERR_NOMEM. */
tt_status tt_batchnorm2d_new(tt_layer **out, size_t num_features, float eps, float momentum);

/* Borrowed access to a BatchNorm2d's tensors (NULL when `layer` is not one). The
 * running statistics may be written (e.g. to load them). */
tt_tensor *tt_batchnorm2d_gamma(tt_layer *layer);
tt_tensor *tt_batchnorm2d_beta(tt_layer *layer);
tt_tensor *tt_batchnorm2d_running_mean(tt_layer *layer);
tt_tensor *tt_batchnorm2d_running_var(tt_layer *layer);

/* Flatten: forward is tt_flatten. No parameters. Errors: TT_ERR_NOMEM. */
tt_status tt_flatten_new(tt_layer **out);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_SPATIAL_H */
