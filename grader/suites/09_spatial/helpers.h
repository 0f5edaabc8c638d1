/*
 * grader/suites/09_spatial/helpers.h: what the visible and the hidden checks of module
 * 09 (spatial) share: the backward pass of a gradient check.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_09_HELPERS_H
#define TITO_SUITE_09_HELPERS_H

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

/* Backward of sum(g * y) from y, only when y is what the reference's backward can
 * take (a recorded node of g's shape); otherwise the state error is recorded. */
static void backward_from(tito_probe *p, tt_tensor *y, tt_tensor *g)
{
    probe_tol_exact(p);
    probe_status(p, "backward_status",
                 y && y->grad_fn && tt_tensor_same_shape(y, g) ? tt_backward_with(y, g)
                                                               : TT_ERR_STATE);
}

#endif /* TITO_SUITE_09_HELPERS_H */
