/*
 * grader/suites/07_training/visible.c: the visible checks of module 07 (training).
 *
 * You can read this file: it is exactly what `tito` runs against your training.c and
 * against the course's reference, on the same random inputs. Every other module
 * (tensors, autograd, layers, losses, optimizers) is the reference's.
 *
 * Models are small Sequentials of the reference's Linear and ReLU layers, initialised
 * from a seeded tt_rng. Checkpoints are written with your tt_checkpoint_save and read
 * with your tt_checkpoint_load, in the grading sandbox's private working directory
 * (relative file names); the format is the contract, so these checks also read your
 * files with their own parser, and write files of their own, following the table in
 * tinytorch/training.h (with their own CRC-32), for your loader to read: both are in
 * helpers.h.
 *
 * Tolerances, stated before each record:
 *   exact        statuses, counts, flags, schedule values, CRCs, checkpoint contents,
 *                parameters after loading or after an identical resumed run;
 *   ulps         values computed by the reference's pieces in the order the header gives
 *                (a step, a clipped gradient): |got - expected| <= 1e-6 + 1e-5 |expected|;
 *   reduction    sums over k terms (a norm, a mean loss): 1e-5 sqrt(k) (1 + |expected|).
 * "unchanged" records compare every bit of the model (and optimizer) before and after a
 * call that must not change it. A case must also free what it made.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"
#include "tinytorch/training.h"

/* begin, tol_ulps, make_mlp, make_optimizer, the targets, record_model, snapshots
 * (snap_take, snap_same), train_steps, files, the probe's own checkpoint reader and
 * writer (parse_checkpoint, encode_checkpoint, fix_crc) and refuse, which the hidden
 * checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ losses */

static void case_loss_compute(tito_probe *p)
{
    begin();
    tt_tensor *pred = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *target = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *prob = probe_uniform(p, 2, TT_SHAPE(3, 4), 0.05f, 0.95f);
    tt_tensor *bin = binary_targets(p, 2, TT_SHAPE(3, 4));
    tt_tensor *cls = class_targets(p, 3, 4);
    tt_tensor *bad_cls = probe_from_data(p, 1, TT_SHAPE(3), (const float[]){0, 4, 1});
    tt_tensor *out = NULL;
    probe_note(p, "tt_loss_compute(&out, kind, pred, target) is the module 04 loss that kind "
                  "names, recorded for autograd: MSE (pred, target: [3,4]), BCE (prob in "
                  "[0.05,0.95), 0/1 targets: [3,4]), CROSS_ENTROPY (logits [3,4], classes [3]); "
                  "pred requires grad, so the loss does too");
    probe_tol_exact(p);
    tt_tensor_set_requires_grad(pred, true);
    tt_tensor_set_requires_grad(prob, true);
    struct {
        const char *what;
        tt_loss_kind kind;
        tt_tensor *a, *b;
    } ok[] = {{"mse", TT_LOSS_MSE, pred, target},
              {"bce", TT_LOSS_BCE, prob, bin},
              {"cross_entropy", TT_LOSS_CROSS_ENTROPY, pred, cls}};
    for (size_t i = 0; i < 3; i++) {
        char label[48];
        probe_status(p, ok[i].what, tt_loss_compute(&out, ok[i].kind, ok[i].a, ok[i].b));
        snprintf(label, sizeof label, "%s.value", ok[i].what);
        probe_tensor(p, label, out);
        snprintf(label, sizeof label, "%s.requires_grad", ok[i].what);
        probe_int(p, label, out && out->requires_grad);
        tt_tensor_free(out);
        out = NULL;
    }
    probe_note(p, "errors: kinds 0 and 4 are TT_ERR_INVALID_ARG; NULL out, pred or target "
                  "TT_ERR_INVALID_ARG; the loss's own errors pass through: MSE of [3,4] and [3] "
                  "is TT_ERR_SHAPE, a class index 4 of 4 classes TT_ERR_RANGE; out stays NULL");
    probe_status(p, "kind_0", tt_loss_compute(&out, (tt_loss_kind)0, pred, target));
    probe_int(p, "kind_0.out_is_null", out == NULL);
    probe_status(p, "kind_4", tt_loss_compute(&out, (tt_loss_kind)4, pred, target));
    probe_status(p, "null_out", tt_loss_compute(NULL, TT_LOSS_MSE, pred, target));
    probe_status(p, "null_pred", tt_loss_compute(&out, TT_LOSS_MSE, NULL, target));
    probe_status(p, "null_target", tt_loss_compute(&out, TT_LOSS_MSE, pred, NULL));
    probe_status(p, "mse_shapes", tt_loss_compute(&out, TT_LOSS_MSE, pred, cls));
    probe_status(p, "class_out_of_range", tt_loss_compute(&out, TT_LOSS_CROSS_ENTROPY, pred,
                                                          bad_cls));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(bad_cls);
    tt_tensor_free(cls);
    tt_tensor_free(bin);
    tt_tensor_free(prob);
    tt_tensor_free(target);
    tt_tensor_free(pred);
}

/* ------------------------------------------------------------ schedule */

static void record_lr(tito_probe *p, long step, long total, long warmup, float base, float min)
{
    char label[64];
    snprintf(label, sizeof label, "lr(%ld,%ld,%ld)", step, total, warmup);
    probe_scalar(p, label, tt_cosine_lr(step, total, warmup, base, min));
}

static void case_cosine_warmup(tito_probe *p)
{
    begin();
    float base = 0.05f + 0.1f * tt_rng_uniform(probe_rng(p));
    float min = 0.001f;
    probe_note(p, "tt_cosine_lr(step, total 20, warmup 5, base %.9g, min 0.001) for steps 0..22: "
                  "base * (step + 1) / 5 while step < 5, then min + (base - min) (1 + cos(pi q)) "
                  "/ 2 with q = (step - 5) / 15, min from step 20 on; in double, rounded once",
               base);
    probe_tol_exact(p);
    for (long s = 0; s <= 22; s++)
        record_lr(p, s, 20, 5, base, min);
}

static void case_cosine_no_warmup(tito_probe *p)
{
    begin();
    float base = 0.5f + tt_rng_uniform(probe_rng(p));
    float min = 0.01f * tt_rng_uniform(probe_rng(p)) + 1e-4f;
    probe_note(p, "tt_cosine_lr(step, total 10, warmup 0, base %.9g, min %.9g): step 0 is base "
                  "exactly, step 5 is halfway (q = 0.5), step 10 is min", base, min);
    probe_tol_exact(p);
    for (long s = 0; s <= 10; s++)
        record_lr(p, s, 10, 0, base, min);
}

static void case_cosine_clamps(tito_probe *p)
{
    begin();
    probe_note(p, "tt_cosine_lr's clamps (base 0.1, min 0.001): a negative step counts as 0, a "
                  "negative warm-up as 0, a warm-up longer than the run as the run's length "
                  "(lr(s, 4, 10) = 0.1 (s + 1) / 4), steps past the end give min");
    probe_tol_exact(p);
    record_lr(p, -3, 10, 2, 0.1f, 0.001f);
    record_lr(p, 0, 10, -5, 0.1f, 0.001f);
    record_lr(p, 3, 10, -5, 0.1f, 0.001f);
    record_lr(p, 0, 4, 10, 0.1f, 0.001f);
    record_lr(p, 3, 4, 10, 0.1f, 0.001f);
    record_lr(p, 4, 4, 10, 0.1f, 0.001f);
    record_lr(p, 1000, 10, 2, 0.1f, 0.001f);
}

/* ------------------------------------------------------------ crc */

static void case_crc32(tito_probe *p)
{
    begin();
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)tt_rng_below(probe_rng(p), 256);
    size_t cut = 1 + tt_rng_below(probe_rng(p), 298);
    probe_note(p, "tt_crc32 (zlib's CRC-32): of \"123456789\" is 0xCBF43926; of nothing, 0; of "
                  "300 random bytes; chained at byte %zu: tt_crc32(tt_crc32(0, a, n), b, m) is "
                  "the CRC of a then b", cut);
    probe_tol_exact(p);
    probe_int(p, "check_value", (long)tt_crc32(0, "123456789", 9));
    probe_int(p, "empty", (long)tt_crc32(0, data, 0));
    probe_int(p, "random_300", (long)tt_crc32(0, data, sizeof data));
    probe_int(p, "chained", (long)tt_crc32(tt_crc32(0, data, cut), data + cut, sizeof data - cut));
    probe_int(p, "one_byte_0x00", (long)tt_crc32(0, "\0", 1));
}

/* ------------------------------------------------------------ clipping */

/* Two parameters with random grads of the given scale. */
static void two_params(tito_probe *p, tt_tensor **a, tt_tensor **b, tt_params *ps, float scale)
{
    *a = probe_randn(p, 2, TT_SHAPE(3, 4));
    *b = probe_randn(p, 1, TT_SHAPE(5));
    tt_params_init(ps);
    tt_tensor *t[2] = {*a, *b};
    for (int i = 0; i < 2; i++) {
        if (!t[i])
            continue;
        t[i]->grad = probe_randn(p, t[i]->ndim, t[i]->shape);
        for (size_t j = 0; t[i]->grad && j < t[i]->grad->storage->size; j++)
            t[i]->grad->storage->data[j] *= scale;
        tt_params_push(ps, t[i]);
    }
}

static void case_clip_scales(tito_probe *p)
{
    begin();
    tt_tensor *a, *b;
    tt_params ps;
    two_params(p, &a, &b, &ps, 3.0f);
    float norm = -1.0f;
    probe_note(p, "grads of a [3,4] and b [5] (normal times 3, global norm about 14); "
                  "tt_clip_grad_norm(&norm, params, 1.5): norm = sqrt(sum of g^2) before "
                  "clipping (in double), every grad multiplied by (float)(1.5 / norm)");
    probe_tol_exact(p);
    probe_status(p, "clip", tt_clip_grad_norm(&norm, &ps, 1.5f));
    probe_tol_reduction(p, 17);
    probe_scalar(p, "norm", norm);
    tol_ulps(p);
    probe_tensor(p, "a.grad", a->grad);
    probe_tensor(p, "b.grad", b->grad);
    tt_params_release(&ps);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_clip_below(tito_probe *p)
{
    begin();
    tt_tensor *a, *b;
    tt_params ps;
    two_params(p, &a, &b, &ps, 0.01f);
    float norm = -1.0f;
    probe_note(p, "grads of a [3,4] and b [5] with a global norm about 0.04 < max 10: the norm "
                  "is reported and the grads are left exactly as they were; norm may be NULL");
    probe_tol_exact(p);
    probe_status(p, "clip", tt_clip_grad_norm(&norm, &ps, 10.0f));
    probe_tol_reduction(p, 17);
    probe_scalar(p, "norm", norm);
    probe_tol_exact(p);
    probe_tensor(p, "a.grad", a->grad);
    probe_tensor(p, "b.grad", b->grad);
    probe_status(p, "clip_norm_null", tt_clip_grad_norm(NULL, &ps, 10.0f));
    tt_params_release(&ps);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_clip_null_grads(tito_probe *p)
{
    begin();
    tt_tensor *a, *b;
    tt_params ps;
    two_params(p, &a, &b, &ps, 2.0f);
    tt_tensor_free(a->grad);
    a->grad = NULL;
    float norm = -1.0f;
    probe_note(p, "a [3,4] without a grad (skipped), b [5] with one (norm about 4.5): clipped "
                  "to 1, a.grad stays NULL");
    probe_tol_exact(p);
    probe_status(p, "clip", tt_clip_grad_norm(&norm, &ps, 1.0f));
    probe_tol_reduction(p, 5);
    probe_scalar(p, "norm", norm);
    tol_ulps(p);
    probe_tensor(p, "b.grad", b->grad);
    probe_tol_exact(p);
    probe_int(p, "a.grad_is_null", a->grad == NULL);
    tt_params_release(&ps);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_clip_nonfinite(tito_probe *p)
{
    begin();
    tt_tensor *a, *b;
    tt_params ps;
    two_params(p, &a, &b, &ps, 1.0f);
    float norm = 0.0f;
    probe_note(p, "one grad element is inf: tt_clip_grad_norm(&norm, params, 1) is TT_ERR_RANGE, "
                  "norm = inf, grads unchanged; with a nan instead: TT_ERR_RANGE, norm nan");
    probe_tol_exact(p);
    if (b && b->grad)
        b->grad->storage->data[2] = INFINITY;
    probe_status(p, "clip_inf", tt_clip_grad_norm(&norm, &ps, 1.0f));
    probe_scalar(p, "norm_inf", norm);
    probe_tensor(p, "a.grad", a->grad);
    probe_tensor(p, "b.grad", b->grad);
    if (b && b->grad)
        b->grad->storage->data[2] = NAN;
    probe_status(p, "clip_nan", tt_clip_grad_norm(&norm, &ps, 1.0f));
    probe_scalar(p, "norm_nan", norm);
    probe_tensor(p, "a.grad_after_nan", a->grad);
    tt_params_release(&ps);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_clip_errors(tito_probe *p)
{
    begin();
    tt_tensor *a, *b;
    tt_params ps;
    two_params(p, &a, &b, &ps, 5.0f);
    float norm = 0.0f;
    probe_note(p, "tt_clip_grad_norm refuses params NULL and max_norm 0, -1, nan "
                  "(TT_ERR_INVALID_ARG) without touching the grads; max_norm inf never clips "
                  "(TT_OK, grads unchanged)");
    probe_tol_exact(p);
    probe_status(p, "params_null", tt_clip_grad_norm(&norm, NULL, 1.0f));
    probe_status(p, "max_0", tt_clip_grad_norm(&norm, &ps, 0.0f));
    probe_status(p, "max_negative", tt_clip_grad_norm(&norm, &ps, -1.0f));
    probe_status(p, "max_nan", tt_clip_grad_norm(&norm, &ps, NAN));
    probe_status(p, "max_inf", tt_clip_grad_norm(&norm, &ps, INFINITY));
    probe_tensor(p, "a.grad", a->grad);
    probe_tensor(p, "b.grad", b->grad);
    tt_params_release(&ps);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

/* ------------------------------------------------------------ train step */

static void case_train_step_mse(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 3, 4, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_SGD, 0.05f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(6, 3));
    tt_tensor *y = probe_randn(p, 2, TT_SHAPE(6, 2));
    float loss = NAN;
    probe_note(p, "model: Linear(3,4), ReLU, Linear(4,2); SGD lr 0.05, momentum 0.9; "
                  "tt_train_step(&loss, model, opt, MSE, x [6,3], y [6,2], 0): zero_grad, "
                  "forward, loss, backward, step; loss is the value before the update; then "
                  "every parameter, and the grads left in the parameters");
    probe_tol_exact(p);
    probe_int(p, "model_and_optimizer_made", model && opt);
    if (!model || !opt)
        goto cleanup;
    probe_status(p, "step", tt_train_step(&loss, model, opt, TT_LOSS_MSE, x, y, 0.0f));
    tol_ulps(p);
    probe_scalar(p, "loss", loss);
    record_model(p, "after", model);
    probe_tensor(p, "first_weight.grad", opt->params[0]->grad);
    probe_tol_exact(p);
    probe_int(p, "step_count", opt->step_count);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_train_step_adam_ce(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 4, 6, 3);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.01f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(8, 4));
    tt_tensor *y = class_targets(p, 8, 3);
    probe_note(p, "model: Linear(4,6), ReLU, Linear(6,3); Adam lr 0.01; 3 calls of "
                  "tt_train_step(CROSS_ENTROPY, x [8,4], y [8] classes, max_grad_norm 0): the "
                  "gradients are zeroed at each step (not accumulated), so each loss and the "
                  "final parameters match the reference");
    probe_tol_exact(p);
    probe_int(p, "model_and_optimizer_made", model && opt);
    if (!model || !opt)
        goto cleanup;
    for (int k = 1; k <= 3; k++) {
        float loss = NAN;
        char label[32];
        snprintf(label, sizeof label, "step%d", k);
        probe_tol_exact(p);
        probe_status(p, label, tt_train_step(&loss, model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 0.0f));
        snprintf(label, sizeof label, "loss%d", k);
        tol_ulps(p);
        probe_scalar(p, label, loss);
    }
    record_model(p, "after", model);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_train_step_clipping(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 3, 5, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_SGD, 0.1f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(5, 3));
    tt_tensor *y = probe_randn(p, 2, TT_SHAPE(5, 2));
    for (size_t i = 0; y && i < 10; i++)
        y->storage->data[i] *= 20.0f;
    float loss = NAN;
    probe_note(p, "model: Linear(3,5), ReLU, Linear(5,2); SGD lr 0.1, momentum 0.9; MSE with "
                  "targets [5,2] of size about 20 (large gradients); tt_train_step with "
                  "max_grad_norm 0.5: the grads are clipped to global norm 0.5 before the "
                  "update");
    probe_tol_exact(p);
    probe_int(p, "model_and_optimizer_made", model && opt);
    if (!model || !opt)
        goto cleanup;
    probe_status(p, "step", tt_train_step(&loss, model, opt, TT_LOSS_MSE, x, y, 0.5f));
    tt_params ps = {opt->params, opt->n_params, opt->n_params};
    double sumsq = 0.0;
    for (size_t i = 0; i < ps.count; i++) {
        const tt_tensor *g = ps.items[i]->grad;
        for (size_t j = 0; g && j < g->storage->size; j++)
            sumsq += (double)g->storage->data[j] * (double)g->storage->data[j];
    }
    probe_tol_reduction(p, 27);
    probe_scalar(p, "grad_norm_after_step", sqrt(sumsq));
    tol_ulps(p);
    probe_scalar(p, "loss", loss);
    record_model(p, "after", model);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_train_step_modes(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 2, 3, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_SGD, 0.1f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *y = probe_randn(p, 2, TT_SHAPE(4, 2));
    float loss = NAN;
    probe_note(p, "called while gradients are disabled (tt_grad_set_enabled(false)), "
                  "tt_train_step still builds the graph and updates the model, then leaves "
                  "gradients disabled as it found them; the model's mode (here evaluation) is "
                  "not changed");
    probe_tol_exact(p);
    probe_int(p, "model_and_optimizer_made", model && opt);
    if (!model || !opt)
        goto cleanup;
    tt_layer_set_training(model, false);
    tt_grad_set_enabled(false);
    probe_status(p, "step", tt_train_step(&loss, model, opt, TT_LOSS_MSE, x, y, 0.0f));
    probe_int(p, "grad_mode_after", tt_grad_is_enabled());
    tt_grad_set_enabled(true);
    probe_int(p, "model_training_after", model->training);
    probe_int(p, "step_count", opt->step_count);
    tol_ulps(p);
    probe_scalar(p, "loss", loss);
    record_model(p, "after", model);
cleanup:
    tt_grad_set_enabled(true);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_train_step_errors(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 3, 4, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.01f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *x_bad = probe_randn(p, 2, TT_SHAPE(4, 5));
    tt_tensor *y = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *cls_bad = probe_from_data(p, 1, TT_SHAPE(4), (const float[]){0, 1, 7, 1});
    float loss = 0.0f;
    probe_note(p, "model: Linear(3,4), ReLU, Linear(4,2), Adam. tt_train_step refuses NULL "
                  "loss, model, opt, x or target and max_grad_norm -1 or nan "
                  "(TT_ERR_INVALID_ARG); x [4,5] (the model wants 3 features) gives the "
                  "forward's TT_ERR_SHAPE, a class 7 of 2 the loss's TT_ERR_RANGE; after every "
                  "refusal the model and the optimizer are unchanged and grad mode is on");
    probe_tol_exact(p);
    probe_int(p, "model_and_optimizer_made", model && opt);
    if (!model || !opt)
        goto cleanup;
    snap before = snap_take(model, opt);
    probe_status(p, "null_loss", tt_train_step(NULL, model, opt, TT_LOSS_MSE, x, y, 0.0f));
    probe_status(p, "null_model", tt_train_step(&loss, NULL, opt, TT_LOSS_MSE, x, y, 0.0f));
    probe_status(p, "null_opt", tt_train_step(&loss, model, NULL, TT_LOSS_MSE, x, y, 0.0f));
    probe_status(p, "null_x", tt_train_step(&loss, model, opt, TT_LOSS_MSE, NULL, y, 0.0f));
    probe_status(p, "null_target", tt_train_step(&loss, model, opt, TT_LOSS_MSE, x, NULL, 0.0f));
    probe_status(p, "max_norm_negative",
                 tt_train_step(&loss, model, opt, TT_LOSS_MSE, x, y, -1.0f));
    probe_status(p, "max_norm_nan", tt_train_step(&loss, model, opt, TT_LOSS_MSE, x, y, NAN));
    probe_status(p, "x_wrong_features", tt_train_step(&loss, model, opt, TT_LOSS_MSE, x_bad, y,
                                                      0.0f));
    probe_status(p, "class_out_of_range", tt_train_step(&loss, model, opt, TT_LOSS_CROSS_ENTROPY,
                                                        x, cls_bad, 0.0f));
    probe_int(p, "grad_mode_on", tt_grad_is_enabled());
    snap after = snap_take(model, opt);
    probe_int(p, "model_and_optimizer_unchanged", snap_same(&before, &after));
    snap_free(&after);
    snap_free(&before);
    tt_grad_set_enabled(true);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(cls_bad);
    tt_tensor_free(y);
    tt_tensor_free(x_bad);
    tt_tensor_free(x);
}

static void case_train_loss_decreases(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    int steps = probe_small(p) ? 8 : 40;
    tt_layer *model = make_mlp(seed, 2, 8, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.05f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(16, 2));
    float yv[16];
    for (size_t i = 0; x && i < 16; i++)
        yv[i] = x->storage->data[2 * i] + x->storage->data[2 * i + 1] > 0.0f ? 1.0f : 0.0f;
    tt_tensor *y = probe_from_data(p, 1, TT_SHAPE(16), yv);
    probe_note(p, "a short run: %d tt_train_step calls of Adam lr 0.05 on 16 points [16,2] "
                  "labelled by the sign of x0 + x1, cross-entropy: the loss trace (tolerance "
                  "1e-4 relative) and whether the last loss is below the first", steps);
    probe_tol_exact(p);
    probe_int(p, "model_and_optimizer_made", model && opt);
    if (!model || !opt)
        goto cleanup;
    float first = NAN, last = NAN;
    tt_status st = tt_train_step(&first, model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 0.0f);
    probe_status(p, "step0", st);
    probe_tol(p, 1e-5, 1e-4);
    probe_scalar(p, "loss0", first);
    for (int k = 1; k < steps && st == TT_OK; k++) {
        float loss = NAN;
        st = tt_train_step(&loss, model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 0.0f);
        last = loss;
        if (k % 4 == 0) {
            char label[32];
            snprintf(label, sizeof label, "loss%d", k);
            probe_tol(p, 1e-5, 1e-4);
            probe_scalar(p, label, loss);
        }
    }
    probe_tol_exact(p);
    probe_status(p, "steps", st);
    probe_int(p, "last_loss_below_first", last < first);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ evaluation */

static void record_eval(tito_probe *p, const char *what, tt_status st, const tt_eval_result *r,
                        size_t n)
{
    char label[64];
    probe_tol_exact(p);
    snprintf(label, sizeof label, "%s.status", what);
    probe_status(p, label, st);
    probe_tol_reduction(p, n);
    snprintf(label, sizeof label, "%s.loss", what);
    probe_scalar(p, label, r->loss);
    probe_tol_exact(p);
    snprintf(label, sizeof label, "%s.accuracy", what);
    probe_scalar(p, label, r->accuracy);
    snprintf(label, sizeof label, "%s.n_samples", what);
    probe_int(p, label, (long)r->n_samples);
}

static void case_evaluate_cross_entropy(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 4, 5, 3);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(10, 4));
    tt_tensor *y = class_targets(p, 10, 3);
    tt_eval_result r;
    probe_note(p, "tt_evaluate(model Linear(4,5) ReLU Linear(5,3), CROSS_ENTROPY, x [10,4], y "
                  "[10]) with batch sizes 3 (the last batch has 1 row), 10 and 16: the mean "
                  "loss over all rows (each batch weighted by its rows: the same for every "
                  "batch size), the fraction of rows whose first maximal logit is the class");
    probe_tol_exact(p);
    probe_int(p, "model_made", model != NULL);
    if (!model)
        goto cleanup;
    const size_t sizes[3] = {3, 10, 16};
    for (int i = 0; i < 3; i++) {
        char what[32];
        snprintf(what, sizeof what, "batch%zu", sizes[i]);
        memset(&r, 0, sizeof r);
        tt_status st = tt_evaluate(&r, model, TT_LOSS_CROSS_ENTROPY, x, y, sizes[i]);
        record_eval(p, what, st, &r, 10);
    }
cleanup:
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* Sequential(Linear(in, out), Sigmoid) */
static tt_layer *make_logistic(uint64_t seed, size_t in, size_t out)
{
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_layer *seq = NULL, *l = NULL, *s = NULL;
    if (tt_sequential_new(&seq) != TT_OK)
        return NULL;
    if (tt_linear_new(&l, in, out, true, &rng) != TT_OK || tt_sequential_append(seq, l) != TT_OK ||
        tt_sigmoid_layer_new(&s) != TT_OK || tt_sequential_append(seq, s) != TT_OK) {
        tt_layer_free(seq);
        return NULL;
    }
    return seq;
}

static void case_evaluate_bce(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_logistic(seed, 3, 2);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(7, 3));
    tt_tensor *y = binary_targets(p, 2, TT_SHAPE(7, 2));
    tt_eval_result r;
    probe_note(p, "tt_evaluate(Linear(3,2) then Sigmoid, BCE, x [7,3], y [7,2] of 0/1) in "
                  "batches of 2: accuracy is per element, (p >= 0.5) == (t >= 0.5), over all "
                  "14 elements");
    probe_tol_exact(p);
    probe_int(p, "model_made", model != NULL);
    if (!model)
        goto cleanup;
    memset(&r, 0, sizeof r);
    tt_status st = tt_evaluate(&r, model, TT_LOSS_BCE, x, y, 2);
    record_eval(p, "bce", st, &r, 7);
cleanup:
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_evaluate_mse(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 2, 3, 1);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(9, 2));
    tt_tensor *y = probe_randn(p, 2, TT_SHAPE(9, 1));
    tt_eval_result r;
    probe_note(p, "tt_evaluate(MLP 2-3-1, MSE, x [9,2], y [9,1]) in batches of 4 (4, 4, 1): the "
                  "mean loss; accuracy is NAN (regression has no notion of correct)");
    probe_tol_exact(p);
    probe_int(p, "model_made", model != NULL);
    if (!model)
        goto cleanup;
    memset(&r, 0, sizeof r);
    tt_status st = tt_evaluate(&r, model, TT_LOSS_MSE, x, y, 4);
    record_eval(p, "mse", st, &r, 9);
cleanup:
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_evaluate_modes(tito_probe *p)
{
    begin();
    tt_rng init, drop;
    tt_rng_init(&init, tt_rng_next_u32(probe_rng(p)));
    tt_rng_init(&drop, tt_rng_next_u32(probe_rng(p)));
    tt_layer *seq = NULL, *l = NULL, *d = NULL;
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(6, 3));
    tt_tensor *y = class_targets(p, 6, 2);
    tt_eval_result r;
    probe_note(p, "model: Linear(3,2) then Dropout(0.5) (with its own generator), in training "
                  "mode, gradients on. tt_evaluate runs it in evaluation mode (Dropout is the "
                  "identity: no draws, the generator does not move) without recording, then "
                  "restores both: training mode and gradients on. Called with the model already "
                  "in evaluation mode and gradients off, it leaves both so");
    probe_tol_exact(p);
    tt_status st = tt_sequential_new(&seq);
    if (st == TT_OK && (st = tt_linear_new(&l, 3, 2, true, &init)) == TT_OK)
        st = tt_sequential_append(seq, l);
    if (st == TT_OK && (st = tt_dropout_new(&d, 0.5f, &drop)) == TT_OK)
        st = tt_sequential_append(seq, d);
    probe_status(p, "model", st);
    if (st != TT_OK)
        goto cleanup;
    tt_rng before = drop;
    memset(&r, 0, sizeof r);
    st = tt_evaluate(&r, seq, TT_LOSS_CROSS_ENTROPY, x, y, 4);
    record_eval(p, "in_training_mode", st, &r, 6);
    probe_tol_exact(p);
    probe_int(p, "model_training_after", seq->training);
    probe_int(p, "dropout_training_after", tt_sequential_at(seq, 1)->training);
    probe_int(p, "grad_mode_after", tt_grad_is_enabled());
    probe_int(p, "dropout_rng_did_not_move",
              before.state == drop.state && before.inc == drop.inc &&
                  before.has_spare == drop.has_spare && before.spare == drop.spare);
    tt_layer_set_training(seq, false);
    tt_grad_set_enabled(false);
    memset(&r, 0, sizeof r);
    st = tt_evaluate(&r, seq, TT_LOSS_CROSS_ENTROPY, x, y, 6);
    record_eval(p, "in_eval_mode", st, &r, 6);
    probe_tol_exact(p);
    probe_int(p, "model_training_after_2", seq->training);
    probe_int(p, "grad_mode_after_2", tt_grad_is_enabled());
    tt_grad_set_enabled(true);
cleanup:
    tt_layer_free(seq);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_evaluate_errors(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 3, 4, 2);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(5, 3));
    tt_tensor *x_bad = probe_randn(p, 2, TT_SHAPE(5, 4));
    tt_tensor *y = class_targets(p, 5, 2);
    tt_tensor *y4 = class_targets(p, 4, 2);
    tt_tensor *scalar = probe_randn(p, 0, NULL);
    tt_eval_result r;
    probe_note(p, "tt_evaluate refuses: NULL out, model, inputs or targets, an unknown kind, "
                  "batch_size 0 (TT_ERR_INVALID_ARG); 0-D inputs (TT_ERR_INVALID_ARG); 5 input "
                  "rows for 4 targets (TT_ERR_SHAPE); x [5,4] for a model of 3 features is the "
                  "forward's TT_ERR_SHAPE. After each, *out is all zeros, and the model "
                  "(training mode) and gradients (on) are as they were");
    probe_tol_exact(p);
    probe_int(p, "model_made", model != NULL);
    if (!model)
        goto cleanup;
    struct {
        const char *what;
        tt_layer *m;
        tt_loss_kind kind;
        tt_tensor *x, *y;
        size_t batch;
    } bad[] = {
        {"null_model", NULL, TT_LOSS_CROSS_ENTROPY, x, y, 2},
        {"null_inputs", model, TT_LOSS_CROSS_ENTROPY, NULL, y, 2},
        {"null_targets", model, TT_LOSS_CROSS_ENTROPY, x, NULL, 2},
        {"kind_9", model, (tt_loss_kind)9, x, y, 2},
        {"batch_0", model, TT_LOSS_CROSS_ENTROPY, x, y, 0},
        {"scalar_inputs", model, TT_LOSS_CROSS_ENTROPY, scalar, y, 2},
        {"rows_differ", model, TT_LOSS_CROSS_ENTROPY, x, y4, 2},
        {"wrong_features", model, TT_LOSS_CROSS_ENTROPY, x_bad, y, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char label[64];
        memset(&r, 0x5a, sizeof r);
        probe_status(p, bad[i].what, tt_evaluate(&r, bad[i].m, bad[i].kind, bad[i].x, bad[i].y,
                                                 bad[i].batch));
        snprintf(label, sizeof label, "%s.out_zeroed", bad[i].what);
        probe_int(p, label, r.loss == 0.0 && r.accuracy == 0.0 && r.n_samples == 0);
    }
    probe_status(p, "null_out", tt_evaluate(NULL, model, TT_LOSS_CROSS_ENTROPY, x, y, 2));
    probe_int(p, "model_training_after", model->training);
    probe_int(p, "grad_mode_after", tt_grad_is_enabled());
cleanup:
    tt_grad_set_enabled(true);
    tt_layer_free(model);
    tt_tensor_free(scalar);
    tt_tensor_free(y4);
    tt_tensor_free(y);
    tt_tensor_free(x_bad);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ checkpoints */

/* A trained model and Adam optimizer (2 steps), the model's data and seed chosen by the
 * case. */
static tt_status trained(tito_probe *p, tt_layer **model, tt_optimizer **opt,
                         tt_optimizer_kind kind, tt_tensor **x, tt_tensor **y)
{
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    *model = make_mlp(seed, 3, 4, 2);
    *opt = make_optimizer(*model, kind, 0.01f);
    *x = probe_randn(p, 2, TT_SHAPE(6, 3));
    *y = class_targets(p, 6, 2);
    if (!*model || !*opt)
        return TT_ERR_NOMEM;
    return train_steps(*model, *opt, TT_LOSS_CROSS_ENTROPY, *x, *y, 2);
}

static void record_parsed(tito_probe *p, const parsed *f)
{
    probe_tol_exact(p);
    probe_int(p, "file.size", (long)f->size);
    probe_int(p, "file.magic_ok", f->magic_ok);
    probe_int(p, "file.version", (long)f->version);
    probe_int(p, "file.flags", (long)f->flags);
    probe_int(p, "file.n_params", (long)f->n_params);
    for (uint64_t i = 0; i < f->n_params && i < 8; i++) {
        char label[48];
        snprintf(label, sizeof label, "file.param%d.ndim", (int)i);
        probe_int(p, label, f->ndim[i]);
        for (int k = 0; k < f->ndim[i]; k++) {
            snprintf(label, sizeof label, "file.param%d.shape[%d]", (int)i, k);
            probe_int(p, label, (long)f->shape[i][k]);
        }
    }
    if (f->flags & 1u) {
        const char *names[6] = {"lr", "momentum", "weight_decay", "beta1", "beta2", "eps"};
        probe_int(p, "file.optimizer.kind", (long)f->kind);
        for (int k = 0; k < 6; k++) {
            char label[48];
            snprintf(label, sizeof label, "file.optimizer.%s", names[k]);
            probe_scalar(p, label, f->opt_fields[k]);
        }
        probe_int(p, "file.optimizer.step_count", (long)f->step_count);
        probe_int(p, "file.optimizer.n", (long)f->n_states);
        for (uint64_t i = 0; i < f->n_states && i < 8; i++) {
            char label[48];
            snprintf(label, sizeof label, "file.state%d.present", (int)i);
            probe_int(p, label, (long)f->present[i]);
        }
    }
    probe_int(p, "file.layout_and_crc_ok", f->ok);
    probe_int(p, "file.values_are_the_model's_bits", f->data_matches);
}

static void case_checkpoint_format(tito_probe *p)
{
    begin();
    tt_layer *model = NULL;
    tt_optimizer *opt = NULL;
    tt_tensor *x = NULL, *y = NULL;
    const char *path = "format.ckpt";
    probe_note(p, "model Linear(3,4) ReLU Linear(4,2) after 2 Adam steps; tt_checkpoint_save("
                  "\"format.ckpt\", model, opt), then the probe reads the file itself: magic, "
                  "version 1, flags 1, 4 parameter records with their shapes and exact bits, "
                  "the optimizer section (kind 2, options, step_count 2, n 4, presence 3 for "
                  "each), the CRC-32 of everything before it (see tinytorch/training.h)");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_ADAM, &x, &y));
    if (!model || !opt)
        goto cleanup;
    probe_status(p, "save", tt_checkpoint_save(path, model, opt));
    size_t size = 0;
    unsigned char *d = read_file(path, &size);
    parsed f;
    parse_checkpoint(&f, d, size, model, opt);
    record_parsed(p, &f);
    free(d);
    remove(path);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_checkpoint_params_only(tito_probe *p)
{
    begin();
    tt_layer *model = NULL;
    tt_optimizer *opt = NULL;
    tt_tensor *x = NULL, *y = NULL;
    const char *path = "params.ckpt";
    probe_note(p, "tt_checkpoint_save(path, model, NULL) (parameters only: flags 0), then the "
                  "model's parameters are overwritten with zeros, then tt_checkpoint_load(path, "
                  "model, NULL) restores every bit");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_SGD, &x, &y));
    if (!model || !opt)
        goto cleanup;
    snap saved = snap_take(model, NULL);
    probe_status(p, "save", tt_checkpoint_save(path, model, NULL));
    size_t size = 0;
    unsigned char *d = read_file(path, &size);
    parsed f;
    parse_checkpoint(&f, d, size, model, NULL);
    probe_int(p, "file.flags", (long)f.flags);
    probe_int(p, "file.layout_and_crc_ok", f.ok);
    free(d);
    for (size_t i = 0; i < opt->n_params; i++)
        tt_tensor_fill(opt->params[i], 0.0f);
    probe_status(p, "load", tt_checkpoint_load(path, model, NULL));
    snap loaded = snap_take(model, NULL);
    probe_int(p, "parameters_restored_exactly", snap_same(&saved, &loaded));
    record_model(p, "loaded", model);
    snap_free(&loaded);
    snap_free(&saved);
    remove(path);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_checkpoint_resume(tito_probe *p)
{
    begin();
    tt_layer *model = NULL, *fresh = NULL;
    tt_optimizer *opt = NULL, *fresh_opt = NULL;
    tt_tensor *x = NULL, *y = NULL;
    const char *path = "resume.ckpt";
    probe_note(p, "run A: 2 Adam steps, tt_checkpoint_save, 3 more steps. Run B: a model of the "
                  "same architecture with other initial values and a fresh Adam, "
                  "tt_checkpoint_load of the file, 3 steps. B's parameters and Adam state must "
                  "be bit-identical to A's");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_ADAM, &x, &y));
    if (!model || !opt)
        goto cleanup;
    probe_status(p, "save", tt_checkpoint_save(path, model, opt));
    probe_status(p, "train_a", train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 3));
    fresh = make_mlp(tt_rng_next_u32(probe_rng(p)), 3, 4, 2);
    fresh_opt = make_optimizer(fresh, TT_OPTIM_ADAM, 0.01f);
    if (!fresh || !fresh_opt)
        goto cleanup;
    probe_status(p, "load", tt_checkpoint_load(path, fresh, fresh_opt));
    probe_int(p, "loaded_step_count", fresh_opt->step_count);
    probe_status(p, "train_b", train_steps(fresh, fresh_opt, TT_LOSS_CROSS_ENTROPY, x, y, 3));
    snap a = snap_take(model, opt), b = snap_take(fresh, fresh_opt);
    probe_int(p, "resumed_run_is_bit_identical", snap_same(&a, &b));
    snap_free(&b);
    snap_free(&a);
    record_model(p, "resumed", fresh);
    remove(path);
cleanup:
    tt_optimizer_free(fresh_opt);
    tt_layer_free(fresh);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_checkpoint_reads_the_format(tito_probe *p)
{
    begin();
    tt_layer *model = NULL, *target = NULL;
    tt_optimizer *opt = NULL, *target_opt = NULL;
    tt_tensor *x = NULL, *y = NULL;
    const char *path = "written_by_probe.ckpt";
    probe_note(p, "the probe writes a checkpoint itself, byte by byte as tinytorch/training.h "
                  "documents it (a model after 2 steps of SGD momentum 0.9: parameters, kind 1, "
                  "options, step_count 2, momentum buffers present = 1); your "
                  "tt_checkpoint_load reads it into another model and a fresh SGD optimizer: "
                  "every parameter, option, the step count and the buffers");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_SGD, &x, &y));
    if (!model || !opt)
        goto cleanup;
    bytes b = encode_checkpoint(model, opt);
    probe_int(p, "written", write_file(path, b.d, b.n));
    free(b.d);
    target = make_mlp(tt_rng_next_u32(probe_rng(p)), 3, 4, 2);
    target_opt = make_optimizer(target, TT_OPTIM_SGD, 0.5f);
    if (!target || !target_opt)
        goto cleanup;
    probe_status(p, "load", tt_checkpoint_load(path, target, target_opt));
    snap a = snap_take(model, opt), c = snap_take(target, target_opt);
    probe_int(p, "loaded_equals_written", snap_same(&a, &c));
    snap_free(&c);
    snap_free(&a);
    probe_scalar(p, "loaded.lr", target_opt->options.lr);
    probe_int(p, "loaded.step_count", target_opt->step_count);
    record_model(p, "loaded", target);
    probe_tensor(p, "loaded.state1[0]", target_opt->state1[0]);
    remove(path);
cleanup:
    tt_optimizer_free(target_opt);
    tt_layer_free(target);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_checkpoint_corrupt(tito_probe *p)
{
    begin();
    tt_layer *model = NULL, *victim = NULL;
    tt_optimizer *opt = NULL, *victim_opt = NULL;
    tt_tensor *x = NULL, *y = NULL;
    const char *good_path = "good.ckpt", *bad_path = "bad.ckpt";
    probe_note(p, "a valid checkpoint (model + Adam, saved by your code) damaged in transit, "
                  "loaded into another trained model and Adam: one byte of a parameter flipped "
                  "(CRC mismatch), the file cut in half, cut to 10 bytes, empty, and the last "
                  "byte of the CRC flipped: each is TT_ERR_FORMAT and changes nothing");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_ADAM, &x, &y));
    if (!model || !opt)
        goto cleanup;
    probe_status(p, "save", tt_checkpoint_save(good_path, model, opt));
    size_t size = 0;
    unsigned char *d = read_file(good_path, &size);
    if (!d || size < 64)
        goto cleanup_file;
    tt_tensor *vx = NULL, *vy = NULL;
    probe_status(p, "train_victim", trained(p, &victim, &victim_opt, TT_OPTIM_ADAM, &vx, &vy));
    tt_tensor_free(vx);
    tt_tensor_free(vy);
    if (!victim || !victim_opt)
        goto cleanup_file;
    size_t at = 40 + tt_rng_below(probe_rng(p), 20);
    d[at] ^= 0x10;
    refuse(p, "byte_flipped", bad_path, d, size, victim, victim_opt);
    d[at] ^= 0x10;
    refuse(p, "cut_in_half", bad_path, d, size / 2, victim, victim_opt);
    refuse(p, "cut_to_10_bytes", bad_path, d, 10, victim, victim_opt);
    refuse(p, "empty", bad_path, d, 0, victim, victim_opt);
    d[size - 1] ^= 0x80;
    refuse(p, "crc_flipped", bad_path, d, size, victim, victim_opt);
    remove(bad_path);
cleanup_file:
    free(d);
    remove(good_path);
cleanup:
    tt_optimizer_free(victim_opt);
    tt_layer_free(victim);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_checkpoint_header(tito_probe *p)
{
    begin();
    tt_layer *model = NULL;
    tt_optimizer *opt = NULL;
    tt_tensor *x = NULL, *y = NULL;
    const char *path = "header.ckpt";
    probe_note(p, "files with a valid CRC but a bad header (written by the probe from a valid "
                  "one): another magic, format version 2, flags 0x4: TT_ERR_FORMAT; a missing "
                  "file: TT_ERR_IO; NULL path or model: TT_ERR_INVALID_ARG; the model and "
                  "optimizer unchanged by each");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_SGD, &x, &y));
    if (!model || !opt)
        goto cleanup;
    bytes b = encode_checkpoint(model, opt);
    if (!b.d)
        goto cleanup;
    for (size_t i = 0; i < opt->n_params; i++)
        tt_tensor_fill(opt->params[i], 0.5f);
    memcpy(b.d, "TTCKPT01", 8);
    fix_crc(b.d, b.n);
    refuse(p, "bad_magic", path, b.d, b.n, model, opt);
    memcpy(b.d, TT_CHECKPOINT_MAGIC, 8);
    put_le32(b.d + 8, 2);
    fix_crc(b.d, b.n);
    refuse(p, "version_2", path, b.d, b.n, model, opt);
    put_le32(b.d + 8, 1);
    put_le32(b.d + 12, 0x5);
    fix_crc(b.d, b.n);
    refuse(p, "unknown_flags", path, b.d, b.n, model, opt);
    free(b.d);
    remove(path);
    probe_status(p, "missing_file", tt_checkpoint_load("no_such_file.ckpt", model, opt));
    probe_status(p, "null_path", tt_checkpoint_load(NULL, model, opt));
    probe_status(p, "null_model", tt_checkpoint_load(path, NULL, opt));
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_checkpoint_wrong_model(tito_probe *p)
{
    begin();
    tt_layer *model = NULL, *wide = NULL, *one = NULL, *same = NULL;
    tt_optimizer *opt = NULL, *wide_opt = NULL, *sgd = NULL;
    tt_tensor *x = NULL, *y = NULL;
    const char *path = "model.ckpt", *params_only = "params_only.ckpt";
    probe_note(p, "a checkpoint of Linear(3,4) ReLU Linear(4,2) with Adam state, loaded into: a "
                  "model of hidden width 5 (TT_ERR_SHAPE, with and without its optimizer); a "
                  "single Linear(3,4) (2 parameters, not 4: TT_ERR_SHAPE); the right model with "
                  "an SGD optimizer (TT_ERR_FORMAT: another kind); the right model with opt "
                  "NULL (TT_OK: parameters only). A file saved without optimizer, loaded with "
                  "one: TT_ERR_FORMAT. Refusals change nothing");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_ADAM, &x, &y));
    if (!model || !opt)
        goto cleanup;
    probe_status(p, "save", tt_checkpoint_save(path, model, opt));
    probe_status(p, "save_params_only", tt_checkpoint_save(params_only, model, NULL));
    wide = make_mlp(11, 3, 5, 2);
    wide_opt = make_optimizer(wide, TT_OPTIM_ADAM, 0.01f);
    same = make_mlp(12, 3, 4, 2);
    sgd = make_optimizer(same, TT_OPTIM_SGD, 0.01f);
    tt_rng r;
    tt_rng_init(&r, 13);
    tt_linear_new(&one, 3, 4, true, &r);
    if (!wide || !wide_opt || !same || !sgd || !one)
        goto cleanup;
    struct {
        const char *what, *file;
        tt_layer *m;
        tt_optimizer *o;
    } loads[] = {{"wider_model", path, wide, wide_opt},
                 {"wider_model_no_opt", path, wide, NULL},
                 {"fewer_parameters", path, one, NULL},
                 {"other_optimizer_kind", path, same, sgd},
                 {"file_without_optimizer", params_only, same, sgd}};
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++) {
        char label[80];
        snap before = snap_take(loads[i].m, loads[i].o);
        probe_status(p, loads[i].what, tt_checkpoint_load(loads[i].file, loads[i].m, loads[i].o));
        snap after = snap_take(loads[i].m, loads[i].o);
        snprintf(label, sizeof label, "%s.unchanged", loads[i].what);
        probe_int(p, label, snap_same(&before, &after));
        snap_free(&after);
        snap_free(&before);
    }
    probe_status(p, "parameters_only_from_full_file", tt_checkpoint_load(path, same, NULL));
    snap a = snap_take(model, NULL), c = snap_take(same, NULL);
    probe_int(p, "parameters_loaded", snap_same(&a, &c));
    snap_free(&c);
    snap_free(&a);
cleanup:
    remove(path);
    remove(params_only);
    tt_layer_free(one);
    tt_optimizer_free(sgd);
    tt_layer_free(same);
    tt_optimizer_free(wide_opt);
    tt_layer_free(wide);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_checkpoint_save_errors(tito_probe *p)
{
    begin();
    tt_layer *model = NULL, *other = NULL;
    tt_optimizer *opt = NULL, *other_opt = NULL;
    tt_tensor *x = NULL, *y = NULL;
    probe_note(p, "tt_checkpoint_save refuses NULL path or model (TT_ERR_INVALID_ARG), an "
                  "optimizer over another model's parameters (TT_ERR_SHAPE), a path in a "
                  "directory that does not exist (TT_ERR_IO); saving twice to one path "
                  "replaces the file");
    probe_tol_exact(p);
    probe_status(p, "train", trained(p, &model, &opt, TT_OPTIM_ADAM, &x, &y));
    other = make_mlp(21, 3, 5, 2);
    other_opt = make_optimizer(other, TT_OPTIM_ADAM, 0.01f);
    if (!model || !opt || !other || !other_opt)
        goto cleanup;
    probe_status(p, "null_path", tt_checkpoint_save(NULL, model, opt));
    probe_status(p, "null_model", tt_checkpoint_save("x.ckpt", NULL, opt));
    probe_status(p, "optimizer_of_another_model", tt_checkpoint_save("x.ckpt", model, other_opt));
    probe_status(p, "missing_directory", tt_checkpoint_save("no_such_dir/x.ckpt", model, opt));
    probe_status(p, "save_1", tt_checkpoint_save("twice.ckpt", model, opt));
    probe_status(p, "train_more", train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 1));
    probe_status(p, "save_2", tt_checkpoint_save("twice.ckpt", model, opt));
    size_t size = 0;
    unsigned char *d = read_file("twice.ckpt", &size);
    parsed f;
    parse_checkpoint(&f, d, size, model, opt);
    probe_int(p, "file_holds_the_second_save", f.ok && f.data_matches);
    free(d);
cleanup:
    remove("twice.ckpt");
    remove("x.ckpt");
    tt_optimizer_free(other_opt);
    tt_layer_free(other);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"loss.compute", "losses", 2, case_loss_compute},
    {"cosine.warmup_then_decay", "schedule", 2, case_cosine_warmup},
    {"cosine.no_warmup", "schedule", 1, case_cosine_no_warmup},
    {"cosine.clamped_arguments", "schedule", 1, case_cosine_clamps},
    {"crc32", "checkpoints", 1, case_crc32},
    {"clip.scales_above_max", "clipping", 2, case_clip_scales},
    {"clip.below_max_unchanged", "clipping", 1, case_clip_below},
    {"clip.skips_missing_grads", "clipping", 1, case_clip_null_grads},
    {"clip.non_finite_refused", "clipping", 1, case_clip_nonfinite},
    {"clip.errors", "clipping", 1, case_clip_errors},
    {"train_step.sgd_mse", "train_step", 2, case_train_step_mse},
    {"train_step.adam_cross_entropy", "train_step", 2, case_train_step_adam_ce},
    {"train_step.clipping", "train_step", 2, case_train_step_clipping},
    {"train_step.modes", "train_step", 1, case_train_step_modes},
    {"train_step.errors_change_nothing", "train_step", 2, case_train_step_errors},
    {"train_step.loss_decreases", "train_step", 1, case_train_loss_decreases},
    {"evaluate.cross_entropy", "evaluate", 2, case_evaluate_cross_entropy},
    {"evaluate.bce", "evaluate", 1, case_evaluate_bce},
    {"evaluate.mse", "evaluate", 1, case_evaluate_mse},
    {"evaluate.modes_restored", "evaluate", 2, case_evaluate_modes},
    {"evaluate.errors", "evaluate", 1, case_evaluate_errors},
    {"checkpoint.format", "checkpoints", 3, case_checkpoint_format},
    {"checkpoint.params_only", "checkpoints", 1, case_checkpoint_params_only},
    {"checkpoint.resume_bit_identical", "checkpoints", 3, case_checkpoint_resume},
    {"checkpoint.reads_the_documented_format", "checkpoints", 2, case_checkpoint_reads_the_format},
    {"checkpoint.corrupt_refused", "checkpoints", 2, case_checkpoint_corrupt},
    {"checkpoint.bad_header_refused", "checkpoints", 2, case_checkpoint_header},
    {"checkpoint.wrong_model_refused", "checkpoints", 2, case_checkpoint_wrong_model},
    {"checkpoint.save_errors", "checkpoints", 1, case_checkpoint_save_errors},
};

TITO_PROBE_MAIN(cases)
