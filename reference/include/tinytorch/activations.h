/*
 * tinytorch/activations.h: module 02, activation functions.
 *
 * Each function makes a new tensor of the input's shape (elementwise) and records
 * itself for autograd. They must stay finite and accurate for inputs far from zero
 * (|x| up to 1e4 at least): no exp() of a large positive number, no 1 - (almost 1).
 * Ownership and errors follow tinytorch/tensor.h.
 */
#ifndef TINYTORCH_ACTIVATIONS_H
#define TINYTORCH_ACTIVATIONS_H

#include "tinytorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* max(x, 0). The gradient at exactly 0 is taken as 0. */
tt_status tt_relu(tt_tensor **out, tt_tensor *x);

/* 1 / (1 + exp(-x)), computed so that neither tail overflows: sigmoid(-1000) = 0,
 * sigmoid(1000) = 1, with no inf or nan on the way. */
tt_status tt_sigmoid(tt_tensor **out, tt_tensor *x);

/* The hyperbolic tangent. */
tt_status tt_tanh(tt_tensor **out, tt_tensor *x);

/* GELU with the tanh approximation:
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
tt_status tt_gelu(tt_tensor **out, tt_tensor *x);

/* exp(x - max) / sum(exp(x - max)) along `axis` (negative allowed): every slice along
 * axis sums to 1, and adding a constant to a slice does not change the result.
 * Errors: TT_ERR_INVALID_ARG for an axis outside [-ndim, ndim) or a 0-dim input. */
tt_status tt_softmax(tt_tensor **out, tt_tensor *x, int axis);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_ACTIVATIONS_H */
