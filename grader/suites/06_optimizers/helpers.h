/*
 * grader/suites/06_optimizers/helpers.h: what the visible and the hidden checks of module
 * 06 (optimizers) share: the "ulps" tolerance, sets of parameters with fresh random
 * gradients, the records of parameters and of an optimizer's state, and a run of steps.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_06_HELPERS_H
#define TITO_SUITE_06_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"

/* The most parameters a check makes. */
#define MAXP 3

/* The "ulps" tolerance of the top of visible.c: a few float32 ulps. */
static void tol_ulps(tito_probe *p)
{
    probe_tol(p, 1e-7, 1e-6);
}

/* Parameters for a check: harness tensors that require gradients, and the list. */
typedef struct params_set {
    int n;
    tt_tensor *t[MAXP];
    tt_params list;
} params_set;

static void params_make(tito_probe *p, params_set *s, int n, const int *ndims,
                        const size_t *const *shapes)
{
    s->n = n;
    tt_params_init(&s->list);
    for (int i = 0; i < n; i++) {
        s->t[i] = probe_randn(p, ndims[i], shapes[i]);
        if (s->t[i]) {
            tt_tensor_set_requires_grad(s->t[i], true);
            tt_params_push(&s->list, s->t[i]);
        }
    }
}

/* The usual pair: W [3,4] and b [4]. */
static void params_pair(tito_probe *p, params_set *s)
{
    params_make(p, s, 2, (const int[]){2, 1},
                (const size_t *const[]){TT_SHAPE(3, 4), TT_SHAPE(4)});
}

/* Release the list and free the parameters. */
static void params_free(params_set *s)
{
    tt_params_release(&s->list);
    for (int i = 0; i < s->n; i++)
        tt_tensor_free(s->t[i]);
}

/* Give parameter i a fresh random gradient (scaled), replacing what it had. */
static void set_grad(tito_probe *p, tt_tensor *t, float scale)
{
    tt_tensor_free(t->grad);
    t->grad = probe_randn(p, t->ndim, t->shape);
    for (size_t j = 0; t->grad && j < t->grad->storage->size; j++)
        t->grad->storage->data[j] *= scale;
}

/* Every parameter after step `step`, to the ulps tolerance. */
static void record_params(tito_probe *p, const params_set *s, int step)
{
    char label[48];
    tol_ulps(p);
    for (int i = 0; i < s->n; i++) {
        snprintf(label, sizeof label, "step%d.param%d", step, i);
        probe_tensor(p, label, s->t[i]);
    }
}

/* Parameter i's state buffers (NULL also when an optimizer has no state array at all,
 * so a wrong optimizer fails a check instead of crashing it). */
static const tt_tensor *state1_of(const tt_optimizer *opt, size_t i)
{
    return opt && opt->state1 && i < opt->n_params ? opt->state1[i] : NULL;
}

static const tt_tensor *state2_of(const tt_optimizer *opt, size_t i)
{
    return opt && opt->state2 && i < opt->n_params ? opt->state2[i] : NULL;
}

/* Every parameter's state buffers after step `step` (state2: Adam and AdamW only). */
static void record_state(tito_probe *p, const tt_optimizer *opt, int step)
{
    char label[48];
    tol_ulps(p);
    for (size_t i = 0; opt && i < opt->n_params; i++) {
        snprintf(label, sizeof label, "step%d.state1[%zu]", step, i);
        probe_tensor(p, label, state1_of(opt, i));
        if (opt->kind != TT_OPTIM_SGD) {
            snprintf(label, sizeof label, "step%d.state2[%zu]", step, i);
            probe_tensor(p, label, state2_of(opt, i));
        }
    }
}

/* Make an optimizer over s, then `steps` steps with fresh gradients (scale 1), recording
 * parameters (and state when `state`) after each. */
static void run_steps(tito_probe *p, tt_optimizer_kind kind, const tt_optimizer_options *o,
                      params_set *s, int steps, bool state)
{
    tt_optimizer *opt = NULL;
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, kind, &s->list, o));
    if (!opt)
        return;
    for (int k = 1; k <= steps; k++) {
        char label[32];
        for (int i = 0; i < s->n; i++)
            set_grad(p, s->t[i], 1.0f);
        snprintf(label, sizeof label, "step%d", k);
        probe_tol_exact(p);
        probe_status(p, label, tt_optimizer_step(opt));
        record_params(p, s, k);
        if (state)
            record_state(p, opt, k);
    }
    probe_tol_exact(p);
    probe_int(p, "step_count", opt->step_count);
    tt_optimizer_free(opt);
}

/* Options in the order of tt_optimizer_options. */
static tt_optimizer_options options(float lr, float momentum, float wd, float b1, float b2,
                                    float eps)
{
    tt_optimizer_options o = {lr, momentum, wd, b1, b2, eps};
    return o;
}

#endif /* TITO_SUITE_06_HELPERS_H */
