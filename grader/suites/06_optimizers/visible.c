/*
 * grader/suites/06_optimizers/visible.c: the visible checks of module 06 (optimizers).
 *
 * You can read this file: it is exactly what `tito` runs against your optimizers.c and
 * against the course's reference, on the same random inputs. Every other module
 * (tensors, autograd, layers, losses) is the reference's.
 *
 * Most checks make a few parameters (built by the harness, requiring gradients), then
 * for each step give every parameter a fresh random gradient (param->grad, set
 * directly, as tt_backward would leave it) and call tt_optimizer_step. After each step
 * they record the parameters, and the optimizer's state where it has some.
 *
 * Tolerances, stated before each record:
 *   exact   statuses, step counts, flags, shapes, values no step should touch;
 *   ulps    parameters and state after steps: |got - expected| <= 1e-7 + 1e-6 |expected|,
 *           a few float32 ulps. Following the header's formulas operation by operation,
 *           in the order written, gives the reference's bits; another order of a product
 *           may differ in the last bit, which this allows. A wrong formula, a wrong bias
 *           correction step t, or momentum applied to a skipped parameter is far outside.
 * A case must also free what it made (optimizer state included): the framework
 * allocations still live after the case are compared with the reference's.
 */
#include <math.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"

/* tol_ulps, params_set (params_make, params_pair, params_free), set_grad,
 * record_params, record_state, run_steps and options, which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ helpers */

static void drop_grad(tt_tensor *t)
{
    tt_tensor_free(t->grad);
    t->grad = NULL;
}

/* The optimizer's i-th parameter, NULL when it has none. */
static const tt_tensor *param_of(const tt_optimizer *opt, size_t i)
{
    return opt && opt->params && i < opt->n_params ? opt->params[i] : NULL;
}

/* ------------------------------------------------------------ SGD */

static void case_sgd_plain(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.1f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "SGD lr 0.1 (no momentum, no weight decay) over W [3,4] and b [4]; 3 steps, "
                  "a new random grad each step: p = p - lr * g");
    run_steps(p, TT_OPTIM_SGD, &o, &s, 3, false);
    params_free(&s);
}

static void case_sgd_weight_decay(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.05f, 0.0f, 0.1f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "SGD lr 0.05, weight_decay 0.1 over W [3,4], b [4]; 3 steps: g' = g + wd * "
                  "p; p = p - lr * g'");
    run_steps(p, TT_OPTIM_SGD, &o, &s, 3, false);
    params_free(&s);
}

static void case_sgd_momentum(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.1f, 0.9f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "SGD lr 0.1, momentum 0.9 over W [3,4], b [4]; 3 steps: v = mu * v + g (v = g "
                  "at the first step), p = p - lr * v; the momentum buffer v is state1");
    run_steps(p, TT_OPTIM_SGD, &o, &s, 3, true);
    params_free(&s);
}

static void case_sgd_momentum_weight_decay(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.05f, 0.8f, 0.01f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "SGD lr 0.05, momentum 0.8, weight_decay 0.01 over W [3,4], b [4]; 3 steps: "
                  "g' = g + wd * p; v = mu * v + g'; p = p - lr * v");
    run_steps(p, TT_OPTIM_SGD, &o, &s, 3, true);
    params_free(&s);
}

/* ------------------------------------------------------------ Adam, AdamW */

static void case_adam_defaults(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.01f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "Adam lr 0.01, betas (0.9, 0.999), eps 1e-8 over W [3,4], b [4]; 3 steps: m "
                  "= b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m / (1-b1^t)) / (sqrt(v / "
                  "(1-b2^t)) + eps), with 1 - b^t computed in double and rounded once; m is "
                  "state1, v is state2");
    run_steps(p, TT_OPTIM_ADAM, &o, &s, 3, true);
    params_free(&s);
}

static void case_adam_other_betas(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.05f, 0.0f, 0.0f, 0.5f, 0.9f, 1e-3f);
    probe_note(p, "Adam lr 0.05, betas (0.5, 0.9), eps 1e-3 over W [3,4], b [4]; 3 steps");
    run_steps(p, TT_OPTIM_ADAM, &o, &s, 3, true);
    params_free(&s);
}

static void case_adam_weight_decay(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.01f, 0.0f, 0.1f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "Adam lr 0.01, weight_decay 0.1 (coupled: g' = g + wd * p feeds m and v) over "
                  "W [3,4], b [4]; 3 steps");
    run_steps(p, TT_OPTIM_ADAM, &o, &s, 3, true);
    params_free(&s);
}

static void case_adamw(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer_options o = options(0.01f, 0.0f, 0.1f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "AdamW lr 0.01, weight_decay 0.1 over W [3,4], b [4]; 3 steps: first p = p - "
                  "(lr * wd) * p (decoupled), then the Adam update with g' = g");
    run_steps(p, TT_OPTIM_ADAMW, &o, &s, 3, true);
    params_free(&s);
}

/* ------------------------------------------------------------ skipped parameters */

static void case_skipped_parameter(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    tt_optimizer_options o = options(0.02f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "Adam lr 0.02 over W [3,4] and b [4]. Step 1: both have a grad. Step 2: b.grad "
                  "is NULL: b and its m, v must not change. Step 3: both again; b's bias "
                  "correction uses t = 3, the optimizer's shared step count");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, &o));
    if (!opt)
        goto cleanup;
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    probe_status(p, "step1", tt_optimizer_step(opt));
    record_params(p, &s, 1);
    record_state(p, opt, 1);
    set_grad(p, s.t[0], 1.0f);
    drop_grad(s.t[1]);
    probe_tol_exact(p);
    probe_status(p, "step2", tt_optimizer_step(opt));
    record_params(p, &s, 2);
    record_state(p, opt, 2);
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    probe_tol_exact(p);
    probe_status(p, "step3", tt_optimizer_step(opt));
    record_params(p, &s, 3);
    record_state(p, opt, 3);
    probe_tol_exact(p);
    probe_int(p, "step_count", opt->step_count);
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

static void case_momentum_skipped(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    tt_optimizer_options o = options(0.1f, 0.9f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "SGD lr 0.1, momentum 0.9 over W [3,4] and b [4]; W has no grad at step 2: "
                  "W and its momentum buffer stay as they were (no decay of v), b moves");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, &o));
    if (!opt)
        goto cleanup;
    for (int k = 1; k <= 3; k++) {
        char label[16];
        if (k == 2)
            drop_grad(s.t[0]);
        else
            set_grad(p, s.t[0], 1.0f);
        set_grad(p, s.t[1], 1.0f);
        snprintf(label, sizeof label, "step%d", k);
        probe_tol_exact(p);
        probe_status(p, label, tt_optimizer_step(opt));
        record_params(p, &s, k);
        record_state(p, opt, k);
    }
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

static void case_step_count(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    probe_note(p, "Adam with default options over W [3,4], b [4]: step_count is 0 after new and "
                  "counts every step, also a step where no parameter has a grad (which changes "
                  "nothing else); the step after it uses t = 3");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    if (!opt)
        goto cleanup;
    probe_int(p, "step_count_after_new", opt->step_count);
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    probe_status(p, "step1", tt_optimizer_step(opt));
    probe_int(p, "step_count_1", opt->step_count);
    drop_grad(s.t[0]);
    drop_grad(s.t[1]);
    probe_status(p, "step2_no_grads", tt_optimizer_step(opt));
    probe_int(p, "step_count_2", opt->step_count);
    record_params(p, &s, 2);
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    probe_tol_exact(p);
    probe_status(p, "step3", tt_optimizer_step(opt));
    probe_int(p, "step_count_3", opt->step_count);
    record_params(p, &s, 3);
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

/* ------------------------------------------------------------ state */

static void case_lazy_state(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *sgd = NULL, *mom = NULL, *adam = NULL;
    tt_optimizer_options om = options(0.1f, 0.5f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "state is allocated at a parameter's first update: before any step every "
                  "state1/state2 is NULL; after a step where only W [3,4] has a grad: plain SGD "
                  "still has none, SGD with momentum has state1[0] ([3,4], W's shape) only, "
                  "Adam has state1[0] and state2[0] only (2 buffers per parameter)");
    probe_tol_exact(p);
    probe_status(p, "new_sgd", tt_optimizer_new(&sgd, TT_OPTIM_SGD, &s.list, NULL));
    probe_status(p, "new_momentum", tt_optimizer_new(&mom, TT_OPTIM_SGD, &s.list, &om));
    probe_status(p, "new_adam", tt_optimizer_new(&adam, TT_OPTIM_ADAM, &s.list, NULL));
    if (!sgd || !mom || !adam)
        goto cleanup;
    tt_optimizer *all[3] = {sgd, mom, adam};
    const char *names[3] = {"sgd", "momentum", "adam"};
    long before = 0;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < 2; i++)
            before += (state1_of(all[k], i) != NULL) + (state2_of(all[k], i) != NULL);
    probe_int(p, "state_buffers_before_any_step", before);
    set_grad(p, s.t[0], 1.0f);
    drop_grad(s.t[1]);
    for (int k = 0; k < 3; k++) {
        char label[48];
        snprintf(label, sizeof label, "%s.step", names[k]);
        probe_status(p, label, tt_optimizer_step(all[k]));
        for (size_t i = 0; i < 2; i++) {
            snprintf(label, sizeof label, "%s.state1[%zu]_is_set", names[k], i);
            probe_int(p, label, state1_of(all[k], i) != NULL);
            snprintf(label, sizeof label, "%s.state2[%zu]_is_set", names[k], i);
            probe_int(p, label, state2_of(all[k], i) != NULL);
        }
    }
    probe_note(p, "the state buffers have the parameter's shape (momentum v after one step is "
                  "g; Adam's m is (1 - b1) g and v is (1 - b2) g^2)");
    tol_ulps(p);
    probe_tensor(p, "momentum.state1[0]", state1_of(mom, 0));
    probe_tensor(p, "adam.state1[0]", state1_of(adam, 0));
    probe_tensor(p, "adam.state2[0]", state2_of(adam, 0));
cleanup:
    tt_optimizer_free(adam);
    tt_optimizer_free(mom);
    tt_optimizer_free(sgd);
    params_free(&s);
}

static void case_not_recorded(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    probe_note(p, "Adam step over W [3,4], b [4] with grad mode on: the update is written to the "
                  "parameters' data, never recorded: they stay leaves (grad_fn NULL, "
                  "requires_grad true), still the same tensors; the grads are left as they were "
                  "(the step does not zero them)");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    if (!opt)
        goto cleanup;
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    tt_tensor *g0 = tt_tensor_retain(s.t[0]->grad);
    float first = s.t[0]->grad->storage->data[0];
    probe_status(p, "step", tt_optimizer_step(opt));
    for (int i = 0; i < 2; i++) {
        char label[48];
        snprintf(label, sizeof label, "param%d.grad_fn_is_null", i);
        probe_int(p, label, s.t[i]->grad_fn == NULL);
        snprintf(label, sizeof label, "param%d.requires_grad", i);
        probe_int(p, label, s.t[i]->requires_grad);
        snprintf(label, sizeof label, "opt.params[%d]_is_the_parameter", i);
        probe_int(p, label, param_of(opt, (size_t)i) == s.t[i]);
    }
    probe_int(p, "grad_is_the_same_tensor", s.t[0]->grad == g0);
    probe_scalar(p, "grad[0]_unchanged", s.t[0]->grad ? s.t[0]->grad->storage->data[0] : 0.0f);
    probe_scalar(p, "grad[0]_before", first);
    tt_tensor_free(g0);
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

/* ------------------------------------------------------------ lr, zero_grad */

static void case_set_lr(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    tt_optimizer_options o = options(0.1f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "SGD lr 0.1 over W [3,4], b [4]; one step; tt_optimizer_set_lr(opt, 0.01) "
                  "then a step uses 0.01; set_lr to 0, -1, nan and inf is TT_ERR_INVALID_ARG "
                  "and lr stays 0.01; a NULL optimizer is TT_ERR_INVALID_ARG");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, &o));
    if (!opt)
        goto cleanup;
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    probe_status(p, "step1", tt_optimizer_step(opt));
    record_params(p, &s, 1);
    probe_tol_exact(p);
    probe_status(p, "set_lr_0.01", tt_optimizer_set_lr(opt, 0.01f));
    probe_scalar(p, "lr", opt->options.lr);
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    probe_status(p, "step2", tt_optimizer_step(opt));
    record_params(p, &s, 2);
    probe_tol_exact(p);
    probe_status(p, "set_lr_0", tt_optimizer_set_lr(opt, 0.0f));
    probe_status(p, "set_lr_-1", tt_optimizer_set_lr(opt, -1.0f));
    probe_status(p, "set_lr_nan", tt_optimizer_set_lr(opt, NAN));
    probe_status(p, "set_lr_inf", tt_optimizer_set_lr(opt, INFINITY));
    probe_scalar(p, "lr_after_refusals", opt->options.lr);
    probe_status(p, "set_lr_null", tt_optimizer_set_lr(NULL, 0.1f));
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

static void case_zero_grad(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    probe_note(p, "tt_optimizer_zero_grad drops the grad of every parameter (W [3,4] and b [4] "
                  "both had one): both NULL afterwards; zero_grad(NULL) does nothing");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, NULL));
    if (!opt)
        goto cleanup;
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    tt_optimizer_zero_grad(opt);
    probe_int(p, "param0.grad_is_null", s.t[0]->grad == NULL);
    probe_int(p, "param1.grad_is_null", s.t[1]->grad == NULL);
    tt_optimizer_zero_grad(NULL);
    probe_status(p, "step_without_grads", tt_optimizer_step(opt));
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

/* ------------------------------------------------------------ tt_optimizer_new */

static void case_new_defaults(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    probe_note(p, "tt_optimizer_new(&opt, TT_OPTIM_ADAMW, params [W [3,4], b [4]], NULL): the "
                  "defaults lr 0.01, momentum 0, weight_decay 0, betas 0.9 / 0.999, eps 1e-8; "
                  "kind, n_params 2, step_count 0, params in list order");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAMW, &s.list, NULL));
    if (!opt)
        goto cleanup;
    probe_int(p, "kind", opt->kind);
    probe_int(p, "n_params", (long)opt->n_params);
    probe_int(p, "step_count", opt->step_count);
    probe_int(p, "params_in_order", param_of(opt, 0) == s.t[0] && param_of(opt, 1) == s.t[1]);
    probe_scalar(p, "lr", opt->options.lr);
    probe_scalar(p, "momentum", opt->options.momentum);
    probe_scalar(p, "weight_decay", opt->options.weight_decay);
    probe_scalar(p, "beta1", opt->options.beta1);
    probe_scalar(p, "beta2", opt->options.beta2);
    probe_scalar(p, "eps", opt->options.eps);
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

typedef struct bad_option {
    const char *what;
    tt_optimizer_kind kind;
    tt_optimizer_options o;
} bad_option;

static void case_bad_options(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    const bad_option bad[] = {
        {"sgd_lr_0", TT_OPTIM_SGD, {0.0f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f}},
        {"sgd_lr_negative", TT_OPTIM_SGD, {-0.1f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f}},
        {"sgd_lr_nan", TT_OPTIM_SGD, {NAN, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f}},
        {"adam_lr_inf", TT_OPTIM_ADAM, {INFINITY, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f}},
        {"sgd_momentum_1", TT_OPTIM_SGD, {0.1f, 1.0f, 0.0f, 0.9f, 0.999f, 1e-8f}},
        {"sgd_momentum_negative", TT_OPTIM_SGD, {0.1f, -0.1f, 0.0f, 0.9f, 0.999f, 1e-8f}},
        {"sgd_weight_decay_negative", TT_OPTIM_SGD, {0.1f, 0.0f, -0.01f, 0.9f, 0.999f, 1e-8f}},
        {"adamw_weight_decay_inf", TT_OPTIM_ADAMW, {0.1f, 0.0f, INFINITY, 0.9f, 0.999f, 1e-8f}},
        {"adam_beta1_1", TT_OPTIM_ADAM, {0.1f, 0.0f, 0.0f, 1.0f, 0.999f, 1e-8f}},
        {"adam_beta2_negative", TT_OPTIM_ADAM, {0.1f, 0.0f, 0.0f, 0.9f, -0.5f, 1e-8f}},
        {"adamw_beta2_nan", TT_OPTIM_ADAMW, {0.1f, 0.0f, 0.0f, 0.9f, NAN, 1e-8f}},
        {"adam_eps_0", TT_OPTIM_ADAM, {0.1f, 0.0f, 0.0f, 0.9f, 0.999f, 0.0f}},
        {"adamw_eps_negative", TT_OPTIM_ADAMW, {0.1f, 0.0f, 0.0f, 0.9f, 0.999f, -1e-8f}},
        {"unknown_kind_0", (tt_optimizer_kind)0, {0.1f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f}},
        {"unknown_kind_4", (tt_optimizer_kind)4, {0.1f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f}},
    };
    probe_note(p, "tt_optimizer_new over W [3,4], b [4] with one invalid option each (the label "
                  "says which): TT_ERR_INVALID_ARG and out stays NULL");
    probe_tol_exact(p);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_optimizer *opt = NULL;
        char label[64];
        probe_status(p, bad[i].what, tt_optimizer_new(&opt, bad[i].kind, &s.list, &bad[i].o));
        snprintf(label, sizeof label, "%s.out_is_null", bad[i].what);
        probe_int(p, label, opt == NULL);
        tt_optimizer_free(opt);
    }
    params_free(&s);
}

static void case_bad_params(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *view = NULL;
    tt_params empty, with_null, with_view, repeated;
    tt_params_init(&empty);
    tt_params_init(&with_null);
    tt_params_init(&with_view);
    tt_params_init(&repeated);
    tt_params_push(&with_null, s.t[0]);
    tt_params_push(&with_null, NULL);
    tt_status tst = tt_tensor_transpose(&view, base, 0, 1);
    tt_params_push(&with_view, s.t[1]);
    tt_params_push(&with_view, view);
    tt_params_push(&repeated, s.t[0]);
    tt_params_push(&repeated, s.t[1]);
    tt_params_push(&repeated, s.t[0]);
    probe_note(p, "tt_optimizer_new refuses (TT_ERR_INVALID_ARG, out NULL): params NULL; an empty "
                  "list; a NULL entry; a non-contiguous parameter (a transposed [4,3] view); the "
                  "same tensor twice; and out NULL");
    probe_tol_exact(p);
    probe_status(p, "transpose", tst);
    struct {
        const char *what;
        const tt_params *list;
    } bad[] = {{"params_null", NULL},
               {"empty", &empty},
               {"null_entry", &with_null},
               {"non_contiguous", &with_view},
               {"repeated", &repeated}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_optimizer *opt = NULL;
        char label[64];
        probe_status(p, bad[i].what, tt_optimizer_new(&opt, TT_OPTIM_SGD, bad[i].list, NULL));
        snprintf(label, sizeof label, "%s.out_is_null", bad[i].what);
        probe_int(p, label, opt == NULL);
        tt_optimizer_free(opt);
    }
    probe_status(p, "out_null", tt_optimizer_new(NULL, TT_OPTIM_SGD, &s.list, NULL));
    probe_int(p, "param0.refcount", s.t[0]->refcount);
    probe_int(p, "param1.refcount", s.t[1]->refcount);
    tt_params_release(&repeated);
    tt_params_release(&with_view);
    tt_params_release(&with_null);
    tt_params_release(&empty);
    tt_tensor_free(view);
    tt_tensor_free(base);
    params_free(&s);
}

static void case_retains(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    tt_tensor *w = tt_tensor_retain(s.t[0]);
    probe_note(p, "the optimizer copies the list and retains each parameter (refcount 1 -> 2); "
                  "the caller then releases its list and its own references to b [4]: the "
                  "optimizer still steps b; tt_optimizer_free gives W [3,4] back refcount 2 "
                  "(the caller's two references)");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, NULL));
    if (!opt)
        goto cleanup;
    probe_int(p, "W.refcount", w->refcount);
    probe_int(p, "b.refcount", s.t[1]->refcount);
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    tt_params_release(&s.list);
    tt_tensor_free(s.t[1]);
    s.t[1] = NULL;
    probe_int(p, "opt.n_params", (long)opt->n_params);
    probe_status(p, "step", tt_optimizer_step(opt));
    tol_ulps(p);
    probe_tensor(p, "b_through_the_optimizer", param_of(opt, 1));
    tt_optimizer_free(opt);
    probe_tol_exact(p);
    probe_int(p, "W.refcount_after_free", w->refcount);
cleanup:
    tt_tensor_free(w);
    params_free(&s);
}

static void case_shape_error(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    probe_note(p, "Adam over W [3,4], b [4]: W gets a right grad, b a grad of shape [5]: "
                  "tt_optimizer_step is TT_ERR_SHAPE and changes nothing: W unchanged, no "
                  "state allocated, step_count 0 (all or nothing); NULL optimizer: "
                  "TT_ERR_INVALID_ARG");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    if (!opt)
        goto cleanup;
    tt_tensor *w_before = NULL;
    w_before = probe_from_data(p, 2, TT_SHAPE(3, 4), s.t[0]->storage->data);
    set_grad(p, s.t[0], 1.0f);
    tt_tensor_free(s.t[1]->grad);
    s.t[1]->grad = probe_randn(p, 1, TT_SHAPE(5));
    probe_status(p, "step", tt_optimizer_step(opt));
    probe_tensor(p, "W_after", s.t[0]);
    probe_tensor(p, "W_before", w_before);
    probe_int(p, "state1[0]_is_null", state1_of(opt, 0) == NULL);
    probe_int(p, "state2[0]_is_null", state2_of(opt, 0) == NULL);
    probe_int(p, "step_count", opt->step_count);
    probe_status(p, "step_null", tt_optimizer_step(NULL));
    tt_tensor_free(w_before);
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

/* ------------------------------------------------------------ with real gradients */

static void case_linear_model(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *lin = NULL;
    tt_optimizer *opt = NULL;
    tt_params params;
    tt_params_init(&params);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(5, 3));
    tt_tensor *y = probe_randn(p, 2, TT_SHAPE(5, 2));
    tt_optimizer_options o = options(0.1f, 0.9f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "a Linear(3 -> 2) layer (the reference's) trained on x [5,3], y [5,2] with MSE "
                  "and SGD lr 0.1, momentum 0.9, for 4 iterations of zero_grad, forward, loss, "
                  "backward (the reference's), step; the loss before each step, then W and b");
    probe_tol_exact(p);
    probe_status(p, "linear", tt_linear_new(&lin, 3, 2, true, &rng));
    if (!lin)
        goto cleanup;
    probe_status(p, "parameters", tt_layer_parameters(lin, &params));
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_SGD, &params, &o));
    if (!opt)
        goto cleanup;
    for (int k = 1; k <= 4; k++) {
        tt_tensor *pred = NULL, *loss = NULL;
        char label[32];
        float value = NAN;
        tt_optimizer_zero_grad(opt);
        tt_status st = tt_layer_forward(lin, &pred, x);
        if (st == TT_OK)
            st = tt_mse_loss(&loss, pred, y);
        if (st == TT_OK)
            st = tt_tensor_item(loss, &value);
        if (st == TT_OK)
            st = tt_backward(loss);
        if (st == TT_OK)
            st = tt_optimizer_step(opt);
        snprintf(label, sizeof label, "iteration%d", k);
        probe_tol_exact(p);
        probe_status(p, label, st);
        snprintf(label, sizeof label, "loss%d", k);
        probe_tol_reduction(p, 10);
        probe_scalar(p, label, value);
        tt_tensor_free(loss);
        tt_tensor_free(pred);
    }
    probe_tol(p, 1e-6, 1e-5);
    probe_tensor(p, "W", tt_linear_weight(lin));
    probe_tensor(p, "b", tt_linear_bias(lin));
cleanup:
    tt_optimizer_free(opt);
    tt_params_release(&params);
    tt_layer_free(lin);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"sgd.plain", "sgd", 2, case_sgd_plain},
    {"sgd.weight_decay", "sgd", 2, case_sgd_weight_decay},
    {"sgd.momentum", "sgd", 2, case_sgd_momentum},
    {"sgd.momentum_weight_decay", "sgd", 2, case_sgd_momentum_weight_decay},
    {"adam.defaults", "adam", 3, case_adam_defaults},
    {"adam.other_betas", "adam", 2, case_adam_other_betas},
    {"adam.weight_decay", "adam", 2, case_adam_weight_decay},
    {"adamw.decoupled", "adam", 3, case_adamw},
    {"skip.adam_parameter_without_grad", "skipping", 2, case_skipped_parameter},
    {"skip.momentum_parameter_without_grad", "skipping", 2, case_momentum_skipped},
    {"step.count", "step", 1, case_step_count},
    {"state.lazy", "state", 2, case_lazy_state},
    {"step.not_recorded", "step", 1, case_not_recorded},
    {"step.shape_error_changes_nothing", "step", 2, case_shape_error},
    {"set_lr", "api", 2, case_set_lr},
    {"zero_grad", "api", 1, case_zero_grad},
    {"new.defaults", "api", 1, case_new_defaults},
    {"new.retains_parameters", "api", 2, case_retains},
    {"new.bad_options", "errors", 2, case_bad_options},
    {"new.bad_parameter_lists", "errors", 2, case_bad_params},
    {"train.linear_model", "training", 2, case_linear_model},
};

TITO_PROBE_MAIN(cases)
