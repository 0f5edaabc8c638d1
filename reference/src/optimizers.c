/*
 * Module 06: optimizers (contract and update rules in tinytorch/optimizers.h).
 *
 * Updates run on the raw float data of parameters, gradients and state, never through
 * tensor ops: an update is not part of any model's computation, so autograd must not
 * see it, and a plain loop is both faster and easier to match bit for bit against an
 * independent implementation.
 *
 * Arithmetic is float32 operation by operation, in the order the formulas in the
 * header are written (the tests compare against NumPy float32 doing the same), except
 * Adam's bias corrections 1 - beta^t, which are computed in double and rounded once:
 * powf and NumPy's float32 power are not guaranteed to agree to the last bit.
 *
 * A step is all or nothing: every gradient is checked and every missing state buffer
 * allocated (on the side) before the first parameter changes, so a failing step leaves
 * the parameters and the optimizer exactly as they were.
 */
#include "tinytorch/optimizers.h"

#include <math.h>
#include <stdio.h>

#include "tinytorch/autograd.h"

/* "[2,3,4]" for error messages; "[]" for a scalar. Truncates to fit `cap`. */
static const char *shape_str(char *buf, size_t cap, const tt_tensor *t)
{
    size_t used = 0;
    int n = snprintf(buf, cap, "[");
    for (int d = 0; n >= 0 && d < t->ndim; d++) {
        used += (size_t)n;
        if (used >= cap)
            return buf;
        n = snprintf(buf + used, cap - used, d ? ",%zu" : "%zu", t->shape[d]);
    }
    if (n >= 0 && (used += (size_t)n) < cap)
        snprintf(buf + used, cap - used, "]");
    return buf;
}

static const char *kind_name(tt_optimizer_kind kind)
{
    switch (kind) {
    case TT_OPTIM_SGD: return "SGD";
    case TT_OPTIM_ADAM: return "Adam";
    case TT_OPTIM_ADAMW: return "AdamW";
    }
    return "unknown";
}

/* BEGIN SOLUTION: */
/* The checks of tt_optimizer_new, on the options the kind uses. Written as !(ok) so
 * that nan is refused too. */
static tt_status check_options(tt_optimizer_kind kind, const tt_optimizer_options *o)
{
    const char *name = kind_name(kind);
    if (!(o->lr > 0.0f) || isinf(o->lr))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: %s lr = %g (expected a "
                            "finite lr > 0)", name, (double)o->lr);
    if (!(o->weight_decay >= 0.0f) || isinf(o->weight_decay))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: %s weight_decay = %g "
                            "(expected a finite value >= 0)", name, (double)o->weight_decay);
    if (kind == TT_OPTIM_SGD) {
        if (!(o->momentum >= 0.0f && o->momentum < 1.0f))
            return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: SGD momentum = %g "
                                "(expected 0 <= momentum < 1)", (double)o->momentum);
        return TT_OK;
    }
    if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f) || !(o->beta2 >= 0.0f && o->beta2 < 1.0f))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: %s betas = (%g, %g) "
                            "(expected each in [0, 1))", name, (double)o->beta1,
                            (double)o->beta2);
    if (!(o->eps > 0.0f) || isinf(o->eps))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: %s eps = %g (expected a "
                            "finite eps > 0)", name, (double)o->eps);
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_optimizer_new(tt_optimizer **out, tt_optimizer_kind kind, const tt_params *params,
                           const tt_optimizer_options *options)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: out is NULL (expected the "
                            "address of a tt_optimizer * to receive the optimizer)");
    *out = NULL;
    if (kind != TT_OPTIM_SGD && kind != TT_OPTIM_ADAM && kind != TT_OPTIM_ADAMW)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: unknown kind %d (expected "
                            "TT_OPTIM_SGD, TT_OPTIM_ADAM or TT_OPTIM_ADAMW)", (int)kind);
    if (!params || params->count == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: no parameters (expected a "
                            "non-empty tt_params, e.g. from tt_layer_parameters)");
    static const tt_optimizer_options defaults = TT_OPTIMIZER_OPTIONS_INIT;
    const tt_optimizer_options *o = options ? options : &defaults;
    tt_status st = check_options(kind, o);
    if (st != TT_OK)
        return st;
    for (size_t i = 0; i < params->count; i++) {
        tt_tensor *p = params->items[i];
        if (!p)
            return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: parameter %zu is NULL",
                                i);
        if (!tt_tensor_is_contiguous(p))
            return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: parameter %zu is a "
                                "non-contiguous view (updates are written through its flat "
                                "data)", i);
        for (size_t j = 0; j < i; j++)
            if (params->items[j] == p)
                return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_new: parameter %zu is "
                                    "the same tensor as parameter %zu (it would be updated "
                                    "twice per step)", i, j);
    }
    size_t n = params->count;
    tt_optimizer *opt = tt_calloc(1, sizeof *opt);
    if (!opt)
        return TT_ERR_NOMEM;
    opt->kind = kind;
    opt->options = *o;
    opt->params = tt_calloc(n, sizeof *opt->params);
    opt->state1 = tt_calloc(n, sizeof *opt->state1);
    opt->state2 = tt_calloc(n, sizeof *opt->state2);
    if (!opt->params || !opt->state1 || !opt->state2) {
        tt_optimizer_free(opt);
        return TT_ERR_NOMEM;
    }
    /* n_params grows with the retains, so a free at any point releases what was taken. */
    for (size_t i = 0; i < n; i++) {
        opt->params[i] = tt_tensor_retain(params->items[i]);
        opt->n_params = i + 1;
    }
    *out = opt;
    return TT_OK;
    /* END SOLUTION */
}

/* BEGIN SOLUTION: */
/* g' = g + wd p, the coupled weight decay of SGD and Adam. */
static inline float decayed(float g, float p, float wd)
{
    return wd != 0.0f ? g + wd * p : g;
}

static void sgd_update(const tt_optimizer *opt, float *p, const float *g, float *v, size_t n)
{
    const float lr = opt->options.lr, wd = opt->options.weight_decay;
    const float mu = opt->options.momentum;
    for (size_t i = 0; i < n; i++) {
        float gi = decayed(g[i], p[i], wd);
        if (v) {
            v[i] = mu * v[i] + gi;
            gi = v[i];
        }
        p[i] = p[i] - lr * gi;
    }
}

static void adam_update(const tt_optimizer *opt, float *p, const float *g, float *m, float *v,
                        size_t n, long t)
{
    const tt_optimizer_options *o = &opt->options;
    const float lr = o->lr, b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    const bool adamw = opt->kind == TT_OPTIM_ADAMW;
    const float wd = adamw ? 0.0f : o->weight_decay;
    const float one_minus_b1 = 1.0f - b1, one_minus_b2 = 1.0f - b2;
    const float bc1 = (float)(1.0 - pow((double)b1, (double)t));
    const float bc2 = (float)(1.0 - pow((double)b2, (double)t));
    for (size_t i = 0; i < n; i++) {
        float gi = decayed(g[i], p[i], wd);
        /* Decoupled decay shrinks the weight itself, untouched by Adam's scaling. */
        if (adamw)
            p[i] = p[i] - lr * o->weight_decay * p[i];
        m[i] = b1 * m[i] + one_minus_b1 * gi;
        v[i] = b2 * v[i] + one_minus_b2 * gi * gi;
        float m_hat = m[i] / bc1;
        float v_hat = v[i] / bc2;
        p[i] = p[i] - lr * (m_hat / (sqrtf(v_hat) + eps));
    }
}
/* END SOLUTION */

tt_status tt_optimizer_step(tt_optimizer *opt)
{
    /* BEGIN SOLUTION */
    if (!opt)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_step: optimizer is NULL");
    const bool adam = opt->kind != TT_OPTIM_SGD;
    const bool momentum = opt->kind == TT_OPTIM_SGD && opt->options.momentum != 0.0f;
    const size_t n = opt->n_params;
    /* work[i]: parameter i's gradient as a contiguous tensor; work[n + i], work[2n + i]:
     * its new state buffers, handed to the optimizer only once everything is ready. */
    tt_tensor **work = tt_calloc(3 * n, sizeof *work);
    if (!work)
        return TT_ERR_NOMEM;
    tt_status st = TT_OK;
    for (size_t i = 0; i < n; i++) {
        tt_tensor *p = opt->params[i], *g = p->grad;
        if (!g)
            continue;
        if (!tt_tensor_same_shape(p, g)) {
            char ps[64], gs[64];
            st = tt_error_set(TT_ERR_SHAPE, "tt_optimizer_step: parameter %zu has shape %s but "
                              "its grad has shape %s", i, shape_str(ps, sizeof ps, p),
                              shape_str(gs, sizeof gs, g));
            goto cleanup;
        }
        TT_CHECK(tt_tensor_contiguous(&work[i], g));
        if ((adam || momentum) && !opt->state1[i])
            TT_CHECK(tt_tensor_zeros(&work[n + i], p->ndim, p->shape));
        if (adam && !opt->state2[i])
            TT_CHECK(tt_tensor_zeros(&work[2 * n + i], p->ndim, p->shape));
    }
    /* Nothing below can fail. */
    long t = opt->step_count + 1;
    for (size_t i = 0; i < n; i++) {
        if (!work[i])
            continue;
        if (work[n + i]) {
            opt->state1[i] = work[n + i];
            work[n + i] = NULL;
        }
        if (work[2 * n + i]) {
            opt->state2[i] = work[2 * n + i];
            work[2 * n + i] = NULL;
        }
        tt_tensor *p = opt->params[i];
        float *pd = tt_tensor_data(p);
        const float *gd = tt_tensor_data(work[i]);
        float *s1 = opt->state1[i] ? tt_tensor_data(opt->state1[i]) : NULL;
        size_t numel = tt_tensor_numel(p);
        if (adam)
            adam_update(opt, pd, gd, s1, tt_tensor_data(opt->state2[i]), numel, t);
        else
            sgd_update(opt, pd, gd, s1, numel);
    }
    opt->step_count = t;
cleanup:
    for (size_t i = 0; i < 3 * n; i++)
        tt_tensor_free(work[i]);
    tt_free(work);
    return st;
    /* END SOLUTION */
}

void tt_optimizer_zero_grad(tt_optimizer *opt)
{
    /* BEGIN SOLUTION: */
    for (size_t i = 0; opt && i < opt->n_params; i++)
        tt_tensor_zero_grad(opt->params[i]);
    /* END SOLUTION */
}

tt_status tt_optimizer_set_lr(tt_optimizer *opt, float lr)
{
    /* BEGIN SOLUTION */
    if (!opt)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_set_lr: optimizer is NULL");
    if (!(lr > 0.0f) || isinf(lr))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_optimizer_set_lr: lr = %g (expected a "
                            "finite lr > 0)", (double)lr);
    opt->options.lr = lr;
    return TT_OK;
    /* END SOLUTION */
}

void tt_optimizer_free(tt_optimizer *opt)
{
    /* BEGIN SOLUTION: */
    if (!opt)
        return;
    for (size_t i = 0; i < opt->n_params; i++) {
        tt_tensor_free(opt->params[i]);
        tt_tensor_free(opt->state1[i]);
        tt_tensor_free(opt->state2[i]);
    }
    tt_free(opt->params);
    tt_free(opt->state1);
    tt_free(opt->state2);
    tt_free(opt);
    /* END SOLUTION */
}
