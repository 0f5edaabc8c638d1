/*
 * Deliberately broken frameworks ("mutants") for the milestone tests: a milestone must
 * notice the mistakes students really make, not only pass with the reference.
 *
 * Each mutant replaces one framework function through the linker's --wrap option: the
 * program's and the framework's calls to X between object files go to __wrap_X, which
 * may call the real one as __real_X. The milestone program and the reference library
 * are otherwise untouched. tests/milestones/CMakeLists.txt builds one program per
 * (milestone, mutant) with -DMUTANT_<NAME> and -Wl,--wrap=<symbol>, and checks that it
 * misses a bar, by how much, and that it says so without crashing.
 *
 *   MUTANT_NO_ZERO_GRAD    tt_optimizer_zero_grad does nothing: gradients pile up
 *   MUTANT_NO_BACKWARD     tt_backward does nothing: no gradient ever reaches a weight
 *   MUTANT_CUT_HIDDEN      ReLU and Tanh do not record themselves: the graph is cut
 *                          after the first layer, as a Flatten that copies would cut it
 *   MUTANT_CUT_FLATTEN     a reshape of a 4-D tensor to 2-D (Flatten's) does not record
 *                          itself: the convolutions before it get no gradient
 *   MUTANT_FLIPPED_GRAD    every gradient has the wrong sign (a backward function's sign
 *                          error taken to the extreme): gradient ascent
 *   MUTANT_LR_TOO_HIGH     the learning rate is 1000 times the program's
 *   MUTANT_LR_TOO_LOW      the learning rate is 10000 times smaller
 *   MUTANT_NO_CAUSAL_MASK  tt_causal_mask gives no mask: every position of the GPT sees
 *                          the tokens it is trained to predict
 */
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"

#if defined(MUTANT_NO_ZERO_GRAD)

void __wrap_tt_optimizer_zero_grad(tt_optimizer *opt);
void __wrap_tt_optimizer_zero_grad(tt_optimizer *opt)
{
    (void)opt;
}

#elif defined(MUTANT_NO_BACKWARD)

tt_status __wrap_tt_backward(tt_tensor *root);
tt_status __wrap_tt_backward(tt_tensor *root)
{
    (void)root;
    return TT_OK;
}

#elif defined(MUTANT_CUT_HIDDEN)

tt_status __real_tt_autograd_record(tt_tensor *out, const tt_op *op, int n_inputs,
                                    tt_tensor *const *inputs, const tt_node_args *args,
                                    tt_tensor *saved);
tt_status __wrap_tt_autograd_record(tt_tensor *out, const tt_op *op, int n_inputs,
                                    tt_tensor *const *inputs, const tt_node_args *args,
                                    tt_tensor *saved);
tt_status __wrap_tt_autograd_record(tt_tensor *out, const tt_op *op, int n_inputs,
                                    tt_tensor *const *inputs, const tt_node_args *args,
                                    tt_tensor *saved)
{
    if (op == &tt_ops[TT_OP_RELU] || op == &tt_ops[TT_OP_TANH])
        return TT_OK; /* the output looks like a fresh leaf: nothing flows back */
    return __real_tt_autograd_record(out, op, n_inputs, inputs, args, saved);
}

#elif defined(MUTANT_CUT_FLATTEN)
/* tt_flatten's call of tt_tensor_reshape crosses object files (spatial.o -> tensor.o),
 * so the wrap sees it; the layer's own call of tt_flatten would not. */
tt_status __real_tt_tensor_reshape(tt_tensor **out, tt_tensor *t, int ndim,
                                   const ptrdiff_t *shape);
tt_status __wrap_tt_tensor_reshape(tt_tensor **out, tt_tensor *t, int ndim,
                                   const ptrdiff_t *shape);
tt_status __wrap_tt_tensor_reshape(tt_tensor **out, tt_tensor *t, int ndim,
                                   const ptrdiff_t *shape)
{
    if (!t || t->ndim != 4 || ndim != 2)
        return __real_tt_tensor_reshape(out, t, ndim, shape);
    bool was = tt_grad_set_enabled(false);
    tt_status st = __real_tt_tensor_reshape(out, t, ndim, shape);
    tt_grad_set_enabled(was);
    return st;
}
#elif defined(MUTANT_FLIPPED_GRAD)

tt_status __real_tt_optimizer_step(tt_optimizer *opt);
tt_status __wrap_tt_optimizer_step(tt_optimizer *opt);
tt_status __wrap_tt_optimizer_step(tt_optimizer *opt)
{
    for (size_t i = 0; i < opt->n_params; i++) {
        tt_tensor *g = opt->params[i]->grad, *flipped = NULL;
        if (!g)
            continue;
        tt_status st = tt_tensor_mul_scalar(&flipped, g, -1.0f);
        if (st == TT_OK)
            st = tt_tensor_assign(g, flipped);
        tt_tensor_free(flipped);
        if (st != TT_OK)
            return st;
    }
    return __real_tt_optimizer_step(opt);
}

#elif defined(MUTANT_LR_TOO_HIGH) || defined(MUTANT_LR_TOO_LOW)

tt_status __real_tt_optimizer_new(tt_optimizer **out, tt_optimizer_kind kind,
                                  const tt_params *params, const tt_optimizer_options *options);
tt_status __wrap_tt_optimizer_new(tt_optimizer **out, tt_optimizer_kind kind,
                                  const tt_params *params, const tt_optimizer_options *options);
tt_status __wrap_tt_optimizer_new(tt_optimizer **out, tt_optimizer_kind kind,
                                  const tt_params *params, const tt_optimizer_options *options)
{
    tt_optimizer_options changed = *options;
#if defined(MUTANT_LR_TOO_HIGH)
    changed.lr *= 1000.0f;
#else
    changed.lr /= 10000.0f;
#endif
    return __real_tt_optimizer_new(out, kind, params, &changed);
}

#elif defined(MUTANT_NO_CAUSAL_MASK)
/* The GPT (transformers.o) asks attention.o for its mask; NULL means "attend to every
 * key" (the mask convention of tinytorch/attention.h). */
tt_status __wrap_tt_causal_mask(tt_tensor **out, size_t tq, size_t tk);
tt_status __wrap_tt_causal_mask(tt_tensor **out, size_t tq, size_t tk)
{
    (void)tq;
    (void)tk;
    *out = NULL;
    return TT_OK;
}

#else
#error "define one MUTANT_* (see the top of this file)"
#endif
