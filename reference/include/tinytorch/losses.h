/*
 * tinytorch/losses.h: module 04, loss functions.
 *
 * Each returns a scalar (0-dimensional) tensor: the mean over all elements (MSE, BCE)
 * or over the batch (cross-entropy), recorded for autograd. Ownership and errors
 * follow tinytorch/tensor.h; targets never receive gradients.
 */
#ifndef TINYTORCH_LOSSES_H
#define TINYTORCH_LOSSES_H

#include "tinytorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The clamp applied to probabilities in binary cross-entropy. */
#define TT_BCE_EPSILON 1e-7f

/* mean((pred - target)^2). Shapes must be equal. Errors: TT_ERR_SHAPE. */
tt_status tt_mse_loss(tt_tensor **out, tt_tensor *pred, tt_tensor *target);

/* mean(-(t log p + (1 - t) log(1 - p))) with p clamped to [eps, 1 - eps],
 * eps = TT_BCE_EPSILON, so a confident wrong answer costs about 16.1, not inf.
 * prob holds probabilities (after a sigmoid), target 0/1 (or soft labels in [0,1]).
 * Shapes must be equal. Errors: TT_ERR_SHAPE. */
tt_status tt_bce_loss(tt_tensor **out, tt_tensor *prob, tt_tensor *target);

/* Cross-entropy of raw scores: logits [N, C], targets [N] holding class indices as
 * floats (0 .. C-1). Loss = mean over rows of logsumexp(row) - row[target], with
 * logsumexp computed max-shifted so huge logits stay finite.
 * Errors: TT_ERR_SHAPE (logits not 2-D, targets not [N]), TT_ERR_RANGE (a target that is
 * not an integer in [0, C)). */
tt_status tt_cross_entropy_loss(tt_tensor **out, tt_tensor *logits, tt_tensor *targets);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_LOSSES_H */
