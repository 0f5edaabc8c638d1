/*
 * grader/suites/06_optimizers/hidden.c: the hidden checks of module 06 (optimizers).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. Same contract as visible.c, other angles: long runs,
 * a parameter whose first gradient comes late (shared step count), options a kind
 * does not use, 0-D and larger parameters, strided gradients, betas of 0, AdamW with
 * no decay, a shape error once state exists, learning-rate changes mid-run, and every
 * allocation of tt_optimizer_new and tt_optimizer_step failing in turn.
 */
#include <math.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"

#include "helpers.h"

/* ------------------------------------------------------------ long runs */

static void case_adam_many_steps(tito_probe *p)
{
    params_set s;
    int steps = probe_small(p) ? 5 : 30;
    params_make(p, &s, 2, (const int[]){2, 1},
                (const size_t *const[]){TT_SHAPE(5, 3), TT_SHAPE(3)});
    tt_optimizer_options o = options(0.003f, 0.0f, 0.01f, 0.85f, 0.995f, 1e-6f);
    probe_note(p, "Adam lr 0.003, wd 0.01, betas (0.85, 0.995), eps 1e-6 over [5,3] and [3]; %d "
                  "steps", steps);
    run_steps(p, TT_OPTIM_ADAM, &o, &s, steps, true);
    params_free(&s);
}

static void case_adamw_many_steps(tito_probe *p)
{
    params_set s;
    int steps = probe_small(p) ? 4 : 20;
    params_make(p, &s, 3, (const int[]){2, 1, 3},
                (const size_t *const[]){TT_SHAPE(4, 4), TT_SHAPE(4), TT_SHAPE(2, 1, 3)});
    tt_optimizer_options o = options(0.02f, 0.0f, 0.05f, 0.9f, 0.99f, 1e-8f);
    probe_note(p, "AdamW lr 0.02, wd 0.05, betas (0.9, 0.99) over [4,4], [4], [2,1,3]; %d steps",
               steps);
    run_steps(p, TT_OPTIM_ADAMW, &o, &s, steps, true);
    params_free(&s);
}

static void case_sgd_many_steps(tito_probe *p)
{
    params_set s;
    int steps = probe_small(p) ? 4 : 25;
    params_make(p, &s, 2, (const int[]){2, 1},
                (const size_t *const[]){TT_SHAPE(6, 2), TT_SHAPE(2)});
    tt_optimizer_options o = options(0.03f, 0.95f, 0.001f, 0.0f, 0.0f, 0.0f);
    probe_note(p, "SGD lr 0.03, momentum 0.95, wd 0.001 over [6,2] and [2]; %d steps", steps);
    run_steps(p, TT_OPTIM_SGD, &o, &s, steps, true);
    params_free(&s);
}

static void case_large_parameter(tito_probe *p)
{
    params_set s;
    size_t rows = probe_small(p) ? 8 : 64;
    params_make(p, &s, 1, (const int[]){2}, (const size_t *const[]){TT_SHAPE(rows, 33)});
    tt_optimizer_options o = options(0.001f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "Adam defaults with lr 0.001 over one [%zu,33] parameter; 3 steps", rows);
    run_steps(p, TT_OPTIM_ADAM, &o, &s, 3, true);
    params_free(&s);
}

static void case_scalar_parameter(tito_probe *p)
{
    params_set s;
    params_make(p, &s, 2, (const int[]){0, 1}, (const size_t *const[]){NULL, TT_SHAPE(1)});
    tt_optimizer_options o = options(0.1f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "Adam lr 0.1 over a 0-D parameter (shape []) and a [1]; 3 steps");
    run_steps(p, TT_OPTIM_ADAM, &o, &s, 3, true);
    params_free(&s);
}

static void case_betas_zero(tito_probe *p)
{
    params_set s;
    params_make(p, &s, 1, (const int[]){1}, (const size_t *const[]){TT_SHAPE(6)});
    tt_optimizer_options o = options(0.05f, 0.0f, 0.0f, 0.0f, 0.0f, 1e-4f);
    probe_note(p, "Adam lr 0.05 with betas (0, 0) (allowed: in [0,1)), eps 1e-4 over [6]: m = g, "
                  "v = g^2, 1 - 0^t = 1; 2 steps");
    run_steps(p, TT_OPTIM_ADAM, &o, &s, 2, true);
    params_free(&s);
}

static void case_bias_correction_precision(tito_probe *p)
{
    params_set s;
    params_make(p, &s, 1, (const int[]){1}, (const size_t *const[]){TT_SHAPE(8)});
    tt_optimizer_options o = options(1.0f, 0.0f, 0.0f, 0.9f, 0.9999f, 1e-8f);
    probe_note(p, "Adam lr 1 (steps of about 1, so the parameters show the step's precision), "
                  "betas (0.9, 0.9999) over [8]; 4 steps: 1 - b2^t must be computed in double "
                  "and rounded once (a float power is off by up to 1e-4 relative here)");
    run_steps(p, TT_OPTIM_ADAM, &o, &s, 4, false);
    params_free(&s);
}

static void case_adamw_no_decay(tito_probe *p)
{
    params_set a, b;
    params_make(p, &a, 1, (const int[]){2}, (const size_t *const[]){TT_SHAPE(2, 3)});
    tt_tensor *copy = NULL;
    tt_optimizer *oa = NULL, *ob = NULL;
    tt_optimizer_options o = options(0.01f, 0.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "AdamW and Adam with weight_decay 0 on two copies of a [2,3] parameter with the "
                  "same grads: the same parameters after 2 steps");
    copy = a.t[0] ? probe_from_data(p, 2, TT_SHAPE(2, 3), a.t[0]->storage->data) : NULL;
    b.n = 1;
    b.t[0] = copy;
    tt_params_init(&b.list);
    tt_tensor_set_requires_grad(copy, true);
    tt_params_push(&b.list, copy);
    probe_tol_exact(p);
    probe_status(p, "new_adamw", tt_optimizer_new(&oa, TT_OPTIM_ADAMW, &a.list, &o));
    probe_status(p, "new_adam", tt_optimizer_new(&ob, TT_OPTIM_ADAM, &b.list, &o));
    for (int k = 1; k <= 2 && oa && ob; k++) {
        set_grad(p, a.t[0], 1.0f);
        tt_tensor_free(b.t[0]->grad);
        b.t[0]->grad = probe_from_data(p, 2, TT_SHAPE(2, 3), a.t[0]->grad->storage->data);
        probe_status(p, "step_adamw", tt_optimizer_step(oa));
        probe_status(p, "step_adam", tt_optimizer_step(ob));
    }
    tol_ulps(p);
    probe_tensor(p, "adamw_param", a.t[0]);
    probe_tensor(p, "adam_param", b.t[0]);
    tt_optimizer_free(ob);
    tt_optimizer_free(oa);
    params_free(&b);
    params_free(&a);
}

/* ------------------------------------------------------------ late and skipped grads */

static void case_late_first_grad(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    tt_optimizer_options o = options(0.01f, 0.0f, 0.0f, 0.8f, 0.99f, 1e-8f);
    probe_note(p, "Adam over W [3,4], b [4]; b gets its first grad at step 3: its m, v stay NULL "
                  "until then, and its first update uses t = 3 (the shared count), not 1");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, &o));
    if (!opt)
        goto cleanup;
    for (int k = 1; k <= 4; k++) {
        char label[32];
        set_grad(p, s.t[0], 1.0f);
        if (k >= 3)
            set_grad(p, s.t[1], 1.0f);
        snprintf(label, sizeof label, "step%d", k);
        probe_tol_exact(p);
        probe_status(p, label, tt_optimizer_step(opt));
        snprintf(label, sizeof label, "step%d.state1[1]_is_set", k);
        probe_int(p, label, state1_of(opt, 1) != NULL);
        record_params(p, &s, k);
        record_state(p, opt, k);
    }
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

static void case_strided_gradient(tito_probe *p)
{
    params_set s;
    params_make(p, &s, 1, (const int[]){2}, (const size_t *const[]){TT_SHAPE(3, 4)});
    tt_optimizer *opt = NULL;
    tt_tensor *gbase = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *g = NULL;
    tt_optimizer_options o = options(0.1f, 0.5f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "SGD lr 0.1, momentum 0.5 over W [3,4] whose grad is a transposed view of a "
                  "[4,3] tensor (strides [1,3]): the grad is read through its strides");
    probe_tol_exact(p);
    probe_status(p, "transpose", tt_tensor_transpose(&g, gbase, 0, 1));
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, &o));
    if (!opt || !g)
        goto cleanup;
    s.t[0]->grad = g;
    g = NULL;
    probe_status(p, "step", tt_optimizer_step(opt));
    record_params(p, &s, 1);
    record_state(p, opt, 1);
cleanup:
    tt_optimizer_free(opt);
    tt_tensor_free(g);
    tt_tensor_free(gbase);
    params_free(&s);
}

static void case_shape_error_with_state(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    probe_note(p, "Adam over W [3,4], b [4]: 2 good steps, then b's grad has shape [2,2]: "
                  "TT_ERR_SHAPE, and W, b, every m and v and step_count are exactly as after "
                  "step 2; then a good step 3 continues from there (t = 3)");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    if (!opt)
        goto cleanup;
    for (int k = 1; k <= 2; k++) {
        set_grad(p, s.t[0], 1.0f);
        set_grad(p, s.t[1], 1.0f);
        probe_status(p, k == 1 ? "step1" : "step2", tt_optimizer_step(opt));
    }
    record_params(p, &s, 2);
    record_state(p, opt, 2);
    set_grad(p, s.t[0], 1.0f);
    tt_tensor_free(s.t[1]->grad);
    s.t[1]->grad = probe_randn(p, 2, TT_SHAPE(2, 2));
    probe_tol_exact(p);
    probe_status(p, "bad_step", tt_optimizer_step(opt));
    probe_int(p, "step_count_after_bad_step", opt->step_count);
    record_params(p, &s, 2);
    record_state(p, opt, 2);
    set_grad(p, s.t[1], 1.0f);
    probe_tol_exact(p);
    probe_status(p, "step3", tt_optimizer_step(opt));
    record_params(p, &s, 3);
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

static void case_lr_changes(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *opt = NULL;
    const float lrs[4] = {0.01f, 0.005f, 0.02f, 0.001f};
    probe_note(p, "AdamW wd 0.1 over W [3,4], b [4]; before each of 4 steps set_lr to 0.01, "
                  "0.005, 0.02, 0.001 (a schedule): the decay and the Adam step use the lr of "
                  "that step");
    tt_optimizer_options o = options(0.01f, 0.0f, 0.1f, 0.9f, 0.999f, 1e-8f);
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAMW, &s.list, &o));
    if (!opt)
        goto cleanup;
    for (int k = 1; k <= 4; k++) {
        char label[32];
        set_grad(p, s.t[0], 1.0f);
        set_grad(p, s.t[1], 1.0f);
        snprintf(label, sizeof label, "set_lr%d", k);
        probe_tol_exact(p);
        probe_status(p, label, tt_optimizer_set_lr(opt, lrs[k - 1]));
        snprintf(label, sizeof label, "step%d", k);
        probe_status(p, label, tt_optimizer_step(opt));
        record_params(p, &s, k);
    }
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

static void case_unused_options(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    tt_optimizer *sgd = NULL, *adam = NULL;
    tt_optimizer_options os = options(0.1f, 0.0f, 0.0f, 2.0f, -1.0f, 0.0f);
    tt_optimizer_options oa = options(0.01f, 5.0f, 0.0f, 0.9f, 0.999f, 1e-8f);
    probe_note(p, "options a kind does not use are not checked: SGD with betas (2, -1) and eps 0 "
                  "is accepted, Adam with momentum 5 too; each steps as usual");
    probe_tol_exact(p);
    probe_status(p, "new_sgd", tt_optimizer_new(&sgd, TT_OPTIM_SGD, &s.list, &os));
    probe_status(p, "new_adam", tt_optimizer_new(&adam, TT_OPTIM_ADAM, &s.list, &oa));
    if (!sgd || !adam)
        goto cleanup;
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    probe_status(p, "step_sgd", tt_optimizer_step(sgd));
    probe_status(p, "step_adam", tt_optimizer_step(adam));
    record_params(p, &s, 1);
cleanup:
    tt_optimizer_free(adam);
    tt_optimizer_free(sgd);
    params_free(&s);
}

static void case_tiny_and_huge_grads(tito_probe *p)
{
    params_set s;
    params_make(p, &s, 2, (const int[]){1, 1}, (const size_t *const[]){TT_SHAPE(5), TT_SHAPE(5)});
    tt_optimizer *opt = NULL;
    probe_note(p, "Adam (defaults) over two [5] parameters, one with grads of size about 1e-6, "
                  "the other about 1e4: both move by about lr per step (Adam's scale "
                  "invariance); 3 steps");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    if (!opt)
        goto cleanup;
    for (int k = 1; k <= 3; k++) {
        set_grad(p, s.t[0], 1e-6f);
        set_grad(p, s.t[1], 1e4f);
        probe_tol_exact(p);
        probe_status(p, "step", tt_optimizer_step(opt));
        record_params(p, &s, k);
    }
    record_state(p, opt, 3);
    tt_optimizer_free(opt);
cleanup:
    params_free(&s);
}

/* ------------------------------------------------------------ allocation failures */

static void case_alloc_new(tito_probe *p)
{
    params_set s;
    params_pair(p, &s);
    probe_note(p, "tt_optimizer_new(Adam, [W [3,4], b [4]]) with allocation n failing, n = 0, "
                  "1, ...: each failure is TT_ERR_NOMEM, out NULL, nothing leaked, refcounts "
                  "unchanged; then it succeeds");
    int all_nomem = 1, out_null = 1, no_leak = 1, refcounts = 1, finished = 0;
    long failures = 0;
    for (long n = 0; n < 200 && !finished; n++) {
        tt_optimizer *opt = NULL;
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            finished = 1;
            tt_optimizer_free(opt);
        } else {
            failures++;
            all_nomem &= st == TT_ERR_NOMEM;
            out_null &= opt == NULL;
            tt_optimizer_free(opt);
        }
        no_leak &= tt_alloc_live() == live;
        refcounts &= s.t[0]->refcount == 1 && s.t[1]->refcount == 1;
    }
    probe_tol_exact(p);
    probe_int(p, "finally_succeeded", finished);
    probe_int(p, "some_allocation_failed", failures > 0);
    probe_int(p, "every_failure_is_TT_ERR_NOMEM", all_nomem);
    probe_int(p, "out_null_after_every_failure", out_null);
    probe_int(p, "nothing_leaked", no_leak);
    probe_int(p, "refcounts_unchanged", refcounts);
    params_free(&s);
}

static void case_alloc_step(tito_probe *p)
{
    params_set s;
    params_make(p, &s, 3, (const int[]){2, 1, 2},
                (const size_t *const[]){TT_SHAPE(3, 4), TT_SHAPE(4), TT_SHAPE(2, 2)});
    tt_optimizer *opt = NULL;
    tt_tensor *gview = NULL, *gbase = probe_randn(p, 2, TT_SHAPE(2, 2));
    probe_note(p, "Adam over [3,4], [4], [2,2] (the last one's grad a transposed view): the first "
                  "step with allocation n failing, n = 0, 1, ...: each failure is TT_ERR_NOMEM "
                  "and changes nothing (parameters, state pointers still NULL, step_count 0); "
                  "then the step succeeds with the right values");
    probe_tol_exact(p);
    probe_status(p, "new", tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    probe_status(p, "transpose", tt_tensor_transpose(&gview, gbase, 0, 1));
    if (!opt || !gview)
        goto cleanup;
    set_grad(p, s.t[0], 1.0f);
    set_grad(p, s.t[1], 1.0f);
    s.t[2]->grad = gview;
    gview = NULL;
    float before[3];
    for (int i = 0; i < 3; i++)
        before[i] = s.t[i]->storage->data[0];
    int all_nomem = 1, unchanged = 1, finished = 0;
    long failures = 0;
    for (long n = 0; n < 200 && !finished; n++) {
        tt_alloc_fail_after(n);
        tt_status st = tt_optimizer_step(opt);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            finished = 1;
            break;
        }
        failures++;
        all_nomem &= st == TT_ERR_NOMEM;
        for (int i = 0; i < 3; i++)
            unchanged &= s.t[i]->storage->data[0] == before[i] && state1_of(opt, i) == NULL &&
                         state2_of(opt, i) == NULL;
        unchanged &= opt->step_count == 0;
    }
    probe_int(p, "finally_succeeded", finished);
    probe_int(p, "some_allocation_failed", failures > 0);
    probe_int(p, "every_failure_is_TT_ERR_NOMEM", all_nomem);
    probe_int(p, "nothing_changed_by_a_failure", unchanged);
    probe_int(p, "step_count", opt->step_count);
    record_params(p, &s, 1);
    record_state(p, opt, 1);
cleanup:
    tt_optimizer_free(opt);
    tt_tensor_free(gview);
    tt_tensor_free(gbase);
    params_free(&s);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"adam.many_steps", "adam", 2, case_adam_many_steps},
    {"adamw.many_steps", "adam", 2, case_adamw_many_steps},
    {"sgd.many_steps", "sgd", 2, case_sgd_many_steps},
    {"adam.large_parameter", "adam", 1, case_large_parameter},
    {"adam.scalar_parameter", "adam", 1, case_scalar_parameter},
    {"adam.betas_zero", "adam", 1, case_betas_zero},
    {"adamw.no_decay_is_adam", "adam", 1, case_adamw_no_decay},
    {"adam.bias_correction_precision", "adam", 1, case_bias_correction_precision},
    {"adam.tiny_and_huge_grads", "adam", 1, case_tiny_and_huge_grads},
    {"skip.late_first_grad", "skipping", 2, case_late_first_grad},
    {"step.strided_gradient", "step", 1, case_strided_gradient},
    {"step.shape_error_with_state", "step", 2, case_shape_error_with_state},
    {"set_lr.schedule", "api", 1, case_lr_changes},
    {"new.unused_options_not_checked", "api", 1, case_unused_options},
    {"alloc.new", "errors", 1, case_alloc_new},
    {"alloc.step", "errors", 2, case_alloc_step},
};

TITO_PROBE_MAIN(cases)
