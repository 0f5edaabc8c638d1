/*
 * tinytorch/optimizers.h: module 06, optimizers.
 *
 * An optimizer updates a list of parameters in place from their .grad, never
 * recording the update for autograd. It keeps its own state per parameter (momentum
 * buffers; Adam's first and second moments), allocated on the first step, and a step
 * counter. A parameter whose grad is NULL is skipped on that step (its state is
 * untouched).
 *
 * Update rules (g = grad, p = parameter, lr = learning rate, t = step count from 1):
 *   SGD:   g' = g + wd p;  v = mu v + g' (v = g' at the first step);  p -= lr v
 *          (without momentum, mu = 0: p -= lr g')
 *   Adam:  g' = g + wd p;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 *          p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 *   AdamW: as Adam with wd = 0 in g', then p -= lr wd p applied before the Adam update
 *          (decoupled weight decay).
 * Each formula is evaluated in float32, one operation at a time in the order written
 * (products left to right: lr wd p is (lr * wd) * p); only Adam's bias corrections
 * 1 - b^t are computed in double and rounded once to float. t is the optimizer's
 * step count, shared by all parameters, also by one that skipped some steps.
 * A step is all or nothing: on error no parameter and no state has changed.
 */
#ifndef TINYTORCH_OPTIMIZERS_H
#define TINYTORCH_OPTIMIZERS_H

#include "tinytorch/layers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tt_optimizer_kind {
    TT_OPTIM_SGD = 1,
    TT_OPTIM_ADAM = 2,
    TT_OPTIM_ADAMW = 3,
} tt_optimizer_kind;

typedef struct tt_optimizer_options {
    float lr;
    float momentum;     /* SGD only */
    float weight_decay;
    float beta1, beta2, eps; /* Adam, AdamW */
} tt_optimizer_options;

/* Defaults: lr 0.01, momentum 0, weight decay 0, betas 0.9 / 0.999, eps 1e-8. */
#define TT_OPTIMIZER_OPTIONS_INIT {0.01f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f}

typedef struct tt_optimizer {
    tt_optimizer_kind kind;
    tt_optimizer_options options;
    size_t n_params;
    tt_tensor **params;   /* retained */
    tt_tensor **state1;   /* per parameter: SGD momentum, Adam m; NULL until first used */
    tt_tensor **state2;   /* per parameter: Adam v; NULL otherwise */
    long step_count;      /* completed steps */
} tt_optimizer;

/* An optimizer over a copy of the list `params` (each tensor retained). options NULL
 * means TT_OPTIMIZER_OPTIONS_INIT; options the kind does not use (momentum for Adam,
 * betas and eps for SGD) are not checked. Parameters are updated in place through
 * their flat data, so each must be contiguous, and appear once.
 * Errors: TT_ERR_INVALID_ARG (unknown kind, lr <= 0, momentum outside [0,1),
 * betas outside [0,1), eps <= 0, negative weight decay, lr, weight decay or eps
 * infinite or nan, no parameters, a NULL, non-contiguous or repeated parameter),
 * TT_ERR_NOMEM. */
tt_status tt_optimizer_new(tt_optimizer **out, tt_optimizer_kind kind, const tt_params *params,
                           const tt_optimizer_options *options);

/* Apply one update to every parameter that has a gradient, then count the step.
 * Errors: TT_ERR_INVALID_ARG (opt NULL), TT_ERR_SHAPE (a grad whose shape is not its
 * parameter's), TT_ERR_NOMEM (state buffers are allocated at a parameter's first
 * update). */
tt_status tt_optimizer_step(tt_optimizer *opt);

/* Drop the gradient of every parameter (tt_tensor_zero_grad). */
void tt_optimizer_zero_grad(tt_optimizer *opt);

/* Change the learning rate (for schedules). Errors: TT_ERR_INVALID_ARG for lr <= 0. */
tt_status tt_optimizer_set_lr(tt_optimizer *opt, float lr);

/* Release the state and the parameter references. NULL does nothing. */
void tt_optimizer_free(tt_optimizer *opt);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_OPTIMIZERS_H */
