/*
 * grader/suites/04_losses/visible.c: the visible checks of module 04 (losses).
 *
 * You can read this file: it is exactly what `tito` runs against your losses.c and
 * against the course's reference, on the same random inputs. Each case calls your
 * functions and records what came back (status codes, shapes, values); tito compares
 * your records with the reference's, within the tolerance stated before each record:
 *   exact        statuses, shapes, yes/no answers, losses that must be exactly 0;
 *   elementwise  |got - expected| <= 1e-6 + 1e-5 |expected| (gradients, one formula each);
 *   reduction    over k terms: |got - expected| <= 1e-5 sqrt(k) (1 + |expected|): a loss
 *                is a mean of k terms, and a correct sum may add them in another order.
 * A loss is a 0-D tensor (shape []): the records show it as `loss` with no dimensions.
 * A case must also free what it made: your module's allocations still live after the
 * case are compared with the reference's (a difference is a leak).
 *
 * Everything except losses.c is the course's reference while module 04 is graded:
 * inputs are built by the grading harness, and the gradient checks run the reference's
 * autograd (module 05) through the recording lines at the end of your functions.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

/* loss_fn, not_a_result, label2, record_loss, random_labels and
 * record_allocation_failures, which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ helpers */

static const struct {
    const char *name;
    loss_fn fn;
    tt_op_id op;
} LOSSES[] = {
    {"tt_mse_loss", tt_mse_loss, TT_OP_MSE},
    {"tt_bce_loss", tt_bce_loss, TT_OP_BCE},
    {"tt_cross_entropy_loss", tt_cross_entropy_loss, TT_OP_CROSS_ENTROPY},
};
#define N_LOSSES (sizeof LOSSES / sizeof LOSSES[0])

/* 1 when the last error message mentions `word`. */
static long message_mentions(const char *word)
{
    return strstr(tt_error_last(), word) != NULL;
}

/* n class indices in [0, classes), as floats. */
static tt_tensor *random_targets(tito_probe *p, size_t n, size_t classes)
{
    float v[64];
    for (size_t i = 0; i < n && i < 64; i++)
        v[i] = (float)tt_rng_below(probe_rng(p), (uint32_t)classes);
    return probe_from_data(p, 1, TT_SHAPE(n), v);
}

/* A loss whose error check comes first: status, *out cleared, the function named. */
static void record_refusal(tito_probe *p, const char *name, loss_fn fn, const char *fn_name,
                           tt_tensor *a, tt_tensor *b)
{
    char label[96];
    tt_tensor *loss = &not_a_result;
    tt_status st = fn(&loss, a, b);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_int(p, label2(label, sizeof label, name, "out_is_NULL"), loss == NULL);
    probe_int(p, label2(label, sizeof label, name, "message_names_function"),
              message_mentions(fn_name));
    free_result(loss);
}

/* ------------------------------------------------------------ MSE */

static void case_mse_values(tito_probe *p)
{
    tt_tensor *pred = probe_randn(p, 2, TT_SHAPE(4, 5));
    tt_tensor *target = probe_randn(p, 2, TT_SHAPE(4, 5));
    probe_note(p, "tt_mse_loss(&loss, pred, target);  pred, target: [4,5]  -> loss: [] = "
                  "mean((pred - target)^2) over the 20 elements");
    probe_tol_reduction(p, 20);
    record_loss(p, "mse", tt_mse_loss, pred, target);
    tt_tensor_free(target);
    tt_tensor_free(pred);
}

static void case_mse_perfect(tito_probe *p)
{
    tt_tensor *pred = probe_randn(p, 2, TT_SHAPE(3, 3));
    tt_tensor *target = NULL;
    probe_note(p, "pred: [3,3] and target = a copy of pred: the loss is exactly 0");
    probe_tol_exact(p);
    probe_status(p, "copy_status", tt_tensor_copy(&target, pred));
    record_loss(p, "mse", tt_mse_loss, pred, target);
    tt_tensor_free(target);
    tt_tensor_free(pred);
}

static void case_mse_shapes(tito_probe *p)
{
    tt_tensor *a1 = probe_randn(p, 1, TT_SHAPE(7)), *b1 = probe_randn(p, 1, TT_SHAPE(7));
    tt_tensor *a3 = probe_randn(p, 3, TT_SHAPE(2, 3, 4)), *b3 = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *a0 = probe_randn(p, 0, NULL), *b0 = probe_randn(p, 0, NULL);
    probe_note(p, "tt_mse_loss on pairs of shape [7], [2,3,4] and [] (0-D): the mean over "
                  "all elements, whatever the rank");
    probe_tol_reduction(p, 7);
    record_loss(p, "mse_1d", tt_mse_loss, a1, b1);
    probe_tol_reduction(p, 24);
    record_loss(p, "mse_3d", tt_mse_loss, a3, b3);
    probe_tol_reduction(p, 1);
    record_loss(p, "mse_0d", tt_mse_loss, a0, b0);
    tt_tensor_free(a0);
    tt_tensor_free(b0);
    tt_tensor_free(a3);
    tt_tensor_free(b3);
    tt_tensor_free(a1);
    tt_tensor_free(b1);
}

static void case_mse_views(tito_probe *p)
{
    tt_tensor *pb = probe_randn(p, 2, TT_SHAPE(5, 3));
    tt_tensor *tb = probe_randn(p, 2, TT_SHAPE(4, 6));
    tt_tensor *pred = NULL, *target = NULL;
    probe_note(p, "pred = transpose of a [5,3] tensor ([3,5], strides [1,3]); target = "
                  "rows [1, 4) and columns [0, 5) of a [4,6] tensor ([3,5], offset 6, row "
                  "stride 6): read both through their strides");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&pred, pb, 0, 1));
    tt_tensor *rows = NULL;
    probe_status(p, "slice_rows_status", tt_tensor_slice(&rows, tb, 0, 1, 4));
    probe_status(p, "slice_cols_status", tt_tensor_slice(&target, rows, 1, 0, 5));
    probe_tol_reduction(p, 15);
    record_loss(p, "mse", tt_mse_loss, pred, target);
    tt_tensor_free(target);
    tt_tensor_free(rows);
    tt_tensor_free(pred);
    tt_tensor_free(tb);
    tt_tensor_free(pb);
}

/* ------------------------------------------------------------ BCE */

static void case_bce_hard_labels(tito_probe *p)
{
    tt_tensor *prob = probe_uniform(p, 2, TT_SHAPE(4, 5), 0.02f, 0.98f);
    tt_tensor *target = random_labels(p, 2, TT_SHAPE(4, 5));
    probe_note(p, "tt_bce_loss(&loss, prob, target);  prob: [4,5] in [0.02, 0.98), target: "
                  "[4,5] of 0/1 labels  -> mean(-(t log p + (1 - t) log(1 - p)))");
    probe_tol_reduction(p, 20);
    record_loss(p, "bce", tt_bce_loss, prob, target);
    tt_tensor_free(target);
    tt_tensor_free(prob);
}

static void case_bce_soft_labels(tito_probe *p)
{
    tt_tensor *prob = probe_uniform(p, 2, TT_SHAPE(3, 4), 0.01f, 0.99f);
    tt_tensor *target = probe_uniform(p, 2, TT_SHAPE(3, 4), 0.0f, 1.0f);
    probe_note(p, "tt_bce_loss with soft labels: prob: [3,4] in [0.01, 0.99), target: [3,4] "
                  "in [0, 1)");
    probe_tol_reduction(p, 12);
    record_loss(p, "bce", tt_bce_loss, prob, target);
    tt_tensor_free(target);
    tt_tensor_free(prob);
}

static void bce_of(tito_probe *p, const char *name, size_t n, const float *prob,
                   const float *target)
{
    tt_tensor *a = probe_from_data(p, 1, TT_SHAPE(n), prob);
    tt_tensor *b = probe_from_data(p, 1, TT_SHAPE(n), target);
    probe_tol_reduction(p, n);
    record_loss(p, name, tt_bce_loss, a, b);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_bce_confident_wrong(tito_probe *p)
{
    probe_note(p, "confident wrong answers cost -log(1e-7) = 16.118 in both directions: "
                  "prob [0] with target [1]; prob [1] with target [0] (clamp and log in "
                  "double: 1 - 1e-7 in float is 1 - 1.19e-7, which would cost 15.94); both "
                  "together");
    bce_of(p, "prob_0_target_1", 1, (const float[]){0.0f}, (const float[]){1.0f});
    bce_of(p, "prob_1_target_0", 1, (const float[]){1.0f}, (const float[]){0.0f});
    bce_of(p, "both", 2, (const float[]){0.0f, 1.0f}, (const float[]){1.0f, 0.0f});
}

static void case_bce_confident_right_and_uniform(tito_probe *p)
{
    float labels[6];
    for (int i = 0; i < 6; i++)
        labels[i] = (float)tt_rng_below(probe_rng(p), 2);
    probe_note(p, "confident right answers: prob [1, 0] with target [1, 0] cost about 1e-7 "
                  "(not 0: the clamp); a coin flip, prob 0.5 everywhere with 0/1 targets, "
                  "costs log 2 = 0.6931");
    bce_of(p, "confident_right", 2, (const float[]){1.0f, 0.0f}, (const float[]){1.0f, 0.0f});
    bce_of(p, "coin_flip", 6, (const float[]){0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, labels);
}

static void case_bce_views(tito_probe *p)
{
    tt_tensor *pb = probe_uniform(p, 2, TT_SHAPE(4, 2), 0.05f, 0.95f);
    tt_tensor *tb = random_labels(p, 2, TT_SHAPE(2, 6));
    tt_tensor *prob = NULL, *target = NULL;
    probe_note(p, "prob = transpose of a [4,2] tensor ([2,4]); target = columns [2, 6) of a "
                  "[2,6] tensor ([2,4], offset 2)");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&prob, pb, 0, 1));
    probe_status(p, "slice_status", tt_tensor_slice(&target, tb, 1, 2, 6));
    probe_tol_reduction(p, 8);
    record_loss(p, "bce", tt_bce_loss, prob, target);
    tt_tensor_free(target);
    tt_tensor_free(prob);
    tt_tensor_free(tb);
    tt_tensor_free(pb);
}

/* ------------------------------------------------------------ cross-entropy */

static void case_ce_values(tito_probe *p)
{
    tt_tensor *logits = probe_uniform(p, 2, TT_SHAPE(5, 4), -4.0f, 4.0f);
    tt_tensor *targets = random_targets(p, 5, 4);
    probe_note(p, "tt_cross_entropy_loss(&loss, logits, targets);  logits: [5,4], targets: "
                  "[5] class indices in 0..3  -> mean over rows of logsumexp(row) - "
                  "row[target]");
    probe_tol_reduction(p, 20);
    record_loss(p, "ce", tt_cross_entropy_loss, logits, targets);
    tt_tensor_free(targets);
    tt_tensor_free(logits);
}

static void case_ce_uniform(tito_probe *p)
{
    float level = 2000.0f * tt_rng_uniform(probe_rng(p)) - 1000.0f, v[60];
    for (size_t i = 0; i < 60; i++)
        v[i] = level;
    tt_tensor *logits = probe_from_data(p, 2, TT_SHAPE(6, 10), v);
    tt_tensor *targets = random_targets(p, 6, 10);
    probe_note(p, "logits: [6,10] all equal to %g (every class equally likely): the loss is "
                  "log 10 = 2.302585, whatever the common value",
               (double)level);
    probe_tol_reduction(p, 60);
    record_loss(p, "ce", tt_cross_entropy_loss, logits, targets);
    tt_tensor_free(targets);
    tt_tensor_free(logits);
}

static void ce_of(tito_probe *p, const char *name, size_t n, size_t c, const float *logits,
                  const float *targets)
{
    tt_tensor *a = probe_from_data(p, 2, TT_SHAPE(n, c), logits);
    tt_tensor *b = probe_from_data(p, 1, TT_SHAPE(n), targets);
    probe_tol_reduction(p, n * c);
    record_loss(p, name, tt_cross_entropy_loss, a, b);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_ce_huge_logits(tito_probe *p)
{
    const float row[3] = {1e4f, 0.0f, -1e4f};
    probe_note(p, "logits [[1e4, 0, -1e4]] (exp(1e4) overflows even in double: use the "
                  "max-shifted log-sum-exp): target 0 (right) costs 0, target 1 costs "
                  "exactly 1e4 and target 2 exactly 2e4 (the logit gaps), all finite");
    ce_of(p, "target_0", 1, 3, row, (const float[]){0.0f});
    ce_of(p, "target_1", 1, 3, row, (const float[]){1.0f});
    ce_of(p, "target_2", 1, 3, row, (const float[]){2.0f});
    probe_note(p, "a batch of rows [1e4, 1e4, 0] (target 0: log 2) and [-1e4, -1e4, -1e4] "
                  "(target 2: log 3)");
    ce_of(p, "batch", 2, 3, (const float[]){1e4f, 1e4f, 0.0f, -1e4f, -1e4f, -1e4f},
          (const float[]){0.0f, 2.0f});
}

static void case_ce_single_class(tito_probe *p)
{
    tt_tensor *logits = probe_uniform(p, 2, TT_SHAPE(4, 1), -50.0f, 50.0f);
    tt_tensor *targets = probe_from_data(p, 1, TT_SHAPE(4), (const float[]){0, 0, 0, 0});
    probe_note(p, "logits: [4,1] (one class): every row's only class has probability 1, the "
                  "loss is exactly 0");
    probe_tol_exact(p);
    record_loss(p, "ce", tt_cross_entropy_loss, logits, targets);
    tt_tensor_free(targets);
    tt_tensor_free(logits);
}

static void case_ce_views(tito_probe *p)
{
    tt_tensor *lb = probe_uniform(p, 2, TT_SHAPE(4, 3), -3.0f, 3.0f);
    float tv[6];
    for (int i = 0; i < 6; i++)
        tv[i] = (float)tt_rng_below(probe_rng(p), 4);
    tt_tensor *tb = probe_from_data(p, 1, TT_SHAPE(6), tv);
    tt_tensor *logits = NULL, *targets = NULL;
    probe_note(p, "logits = transpose of a [4,3] tensor ([3,4], strides [1,3]); targets = "
                  "elements [2, 5) of a [6] tensor (offset 2)");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&logits, lb, 0, 1));
    probe_status(p, "slice_status", tt_tensor_slice(&targets, tb, 0, 2, 5));
    probe_tol_reduction(p, 12);
    record_loss(p, "ce", tt_cross_entropy_loss, logits, targets);
    tt_tensor_free(targets);
    tt_tensor_free(logits);
    tt_tensor_free(tb);
    tt_tensor_free(lb);
}

/* ------------------------------------------------------------ errors */

static void case_elementwise_shape_errors(tito_probe *p)
{
    tt_tensor *a = probe_uniform(p, 2, TT_SHAPE(2, 3), 0.1f, 0.9f);
    tt_tensor *b = random_labels(p, 2, TT_SHAPE(3, 2));
    tt_tensor *c = random_labels(p, 2, TT_SHAPE(3, 1));
    tt_tensor *d = probe_uniform(p, 1, TT_SHAPE(3), 0.1f, 0.9f);
    for (size_t k = 0; k < 2; k++) {
        char name[64];
        const char *fn = LOSSES[k].name;
        probe_note(p, "%s with shapes [2,3] and [3,2]: no broadcasting, TT_ERR_SHAPE, out set "
                      "to NULL, and a message naming %s and both shapes", fn, fn);
        record_refusal(p, label2(name, sizeof name, fn, "2x3_vs_3x2"), LOSSES[k].fn, fn, a, b);
        probe_int(p, label2(name, sizeof name, fn, "2x3_vs_3x2.message_names_[2,3]"),
                  message_mentions("[2,3]"));
        probe_int(p, label2(name, sizeof name, fn, "2x3_vs_3x2.message_names_[3,2]"),
                  message_mentions("[3,2]"));
        probe_note(p, "%s with shapes [3] and [3,1]: same elements, other shape: TT_ERR_SHAPE",
                   fn);
        record_refusal(p, label2(name, sizeof name, fn, "3_vs_3x1"), LOSSES[k].fn, fn, d, c);
    }
    tt_tensor_free(d);
    tt_tensor_free(c);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_ce_shape_errors(tito_probe *p)
{
    tt_tensor *l1 = probe_randn(p, 1, TT_SHAPE(4));
    tt_tensor *l3 = probe_randn(p, 3, TT_SHAPE(2, 2, 3));
    tt_tensor *l2 = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *t3 = random_targets(p, 3, 4);
    tt_tensor *t4 = random_targets(p, 4, 4);
    tt_tensor *t2 = random_targets(p, 2, 3);
    tt_tensor *t31 = probe_from_data(p, 2, TT_SHAPE(3, 1), (const float[]){0, 1, 2});
    const char *fn = "tt_cross_entropy_loss";
    probe_note(p, "logits [4] (1-D) with targets [4]: logits must be 2-D [N, C]: TT_ERR_SHAPE");
    record_refusal(p, "logits_1d", tt_cross_entropy_loss, fn, l1, t4);
    probe_note(p, "logits [2,2,3] (3-D) with targets [2]: TT_ERR_SHAPE");
    record_refusal(p, "logits_3d", tt_cross_entropy_loss, fn, l3, t2);
    probe_note(p, "logits [3,4] with targets [4]: one target per row is needed: TT_ERR_SHAPE");
    record_refusal(p, "targets_too_long", tt_cross_entropy_loss, fn, l2, t4);
    probe_note(p, "logits [3,4] with targets [3,1] (2-D): targets must be 1-D [N]: "
                  "TT_ERR_SHAPE");
    record_refusal(p, "targets_2d", tt_cross_entropy_loss, fn, l2, t31);
    probe_note(p, "logits [3,4] with targets [3]: valid");
    probe_tol_reduction(p, 12);
    record_loss(p, "valid", tt_cross_entropy_loss, l2, t3);
    tt_tensor_free(t31);
    tt_tensor_free(t2);
    tt_tensor_free(t4);
    tt_tensor_free(t3);
    tt_tensor_free(l2);
    tt_tensor_free(l3);
    tt_tensor_free(l1);
}

static void case_ce_bad_targets(tito_probe *p)
{
    tt_tensor *logits = probe_randn(p, 2, TT_SHAPE(4, 4));
    const float bad[5] = {1.5f, -1.0f, 4.0f, NAN, INFINITY};
    const char *what[5] = {"1.5", "-1", "4", "nan", "inf"};
    for (int i = 0; i < 5; i++) {
        float tv[4] = {0.0f, 3.0f, bad[i], 1.0f};
        tt_tensor *targets = probe_from_data(p, 1, TT_SHAPE(4), tv);
        char name[32];
        snprintf(name, sizeof name, "target_%s", what[i]);
        probe_note(p, "logits [4,4] with targets [0, 3, %s, 1]: row 2's target is not an "
                      "integer class index in [0, 4): TT_ERR_RANGE, out set to NULL, nothing "
                      "leaked",
                   what[i]);
        record_refusal(p, name, tt_cross_entropy_loss, "tt_cross_entropy_loss", logits, targets);
        tt_tensor_free(targets);
    }
    tt_tensor_free(logits);
}

static void case_null_arguments(tito_probe *p)
{
    tt_tensor *a = probe_uniform(p, 2, TT_SHAPE(2, 3), 0.1f, 0.9f);
    tt_tensor *b = probe_from_data(p, 1, TT_SHAPE(2), (const float[]){0, 2});
    tt_tensor *ab = random_labels(p, 2, TT_SHAPE(2, 3));
    probe_tol_exact(p);
    for (size_t k = 0; k < N_LOSSES; k++) {
        char label[96];
        const char *fn = LOSSES[k].name;
        tt_tensor *second = LOSSES[k].op == TT_OP_CROSS_ENTROPY ? b : ab;
        probe_note(p, "%s(NULL, a, b), then with each input NULL: TT_ERR_INVALID_ARG, out set "
                      "to NULL, and a message naming %s", fn, fn);
        probe_status(p, label2(label, sizeof label, fn, "out_NULL.status"),
                     LOSSES[k].fn(NULL, a, second));
        probe_int(p, label2(label, sizeof label, fn, "out_NULL.message_names_function"),
                  message_mentions(fn));
        record_refusal(p, label2(label, sizeof label, fn, "first_NULL"), LOSSES[k].fn, fn, NULL,
                       second);
        record_refusal(p, label2(label, sizeof label, fn, "second_NULL"), LOSSES[k].fn, fn, a,
                       NULL);
    }
    tt_tensor_free(ab);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

/* ------------------------------------------------------------ autograd */

static void case_records_for_autograd(tito_probe *p)
{
    tt_tensor *pred = probe_uniform(p, 2, TT_SHAPE(2, 3), 0.05f, 0.95f);
    tt_tensor *target = random_labels(p, 2, TT_SHAPE(2, 3));
    tt_tensor *logits = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *classes = random_targets(p, 2, 3);
    probe_note(p, "without requires_grad a loss records nothing (grad_fn NULL); with pred "
                  "(or logits) and the targets requiring grad, the loss requires grad, its "
                  "grad_fn is its op with inputs {pred, target} (the tensors given, not "
                  "copies), and the reference's tt_backward(loss) fills pred->grad while "
                  "the targets get no gradient. Keep the recording lines of the starter");
    probe_tol_exact(p);
    for (size_t k = 0; k < N_LOSSES; k++) {
        char label[96];
        bool ce = LOSSES[k].op == TT_OP_CROSS_ENTROPY;
        tt_tensor *a = ce ? logits : pred, *b = ce ? classes : target, *loss = NULL;
        probe_status(p, label2(label, sizeof label, LOSSES[k].name, "plain.status"),
                     LOSSES[k].fn(&loss, a, b));
        probe_int(p, label2(label, sizeof label, LOSSES[k].name, "plain.has_grad_fn"),
                  loss && loss->grad_fn != NULL);
        tt_tensor_free(loss);
    }
    probe_status(p, "set_requires_grad_pred", tt_tensor_set_requires_grad(pred, true));
    probe_status(p, "set_requires_grad_target", tt_tensor_set_requires_grad(target, true));
    probe_status(p, "set_requires_grad_logits", tt_tensor_set_requires_grad(logits, true));
    probe_status(p, "set_requires_grad_classes", tt_tensor_set_requires_grad(classes, true));
    for (size_t k = 0; k < N_LOSSES; k++) {
        char label[96];
        const char *fn = LOSSES[k].name;
        bool ce = LOSSES[k].op == TT_OP_CROSS_ENTROPY;
        tt_tensor *a = ce ? logits : pred, *b = ce ? classes : target, *loss = NULL;
        probe_tol_exact(p);
        tt_status st = LOSSES[k].fn(&loss, a, b);
        probe_status(p, label2(label, sizeof label, fn, "status"), st);
        probe_int(p, label2(label, sizeof label, fn, "requires_grad"), loss && loss->requires_grad);
        probe_int(p, label2(label, sizeof label, fn, "grad_fn_is_its_op_on_the_inputs"),
                  loss && loss->grad_fn && loss->grad_fn->op == &tt_ops[LOSSES[k].op] &&
                      loss->grad_fn->n_inputs == 2 && loss->grad_fn->inputs[0] == a &&
                      loss->grad_fn->inputs[1] == b);
        tt_tensor_zero_grad(a);
        tt_tensor_zero_grad(b);
        st = loss && loss->grad_fn && loss->ndim == 0 ? tt_backward(loss) : TT_ERR_STATE;
        probe_status(p, label2(label, sizeof label, fn, "backward_status"), st);
        probe_tol_elementwise(p);
        probe_tensor(p, label2(label, sizeof label, fn, "input.grad"), a->grad);
        probe_tol_exact(p);
        probe_int(p, label2(label, sizeof label, fn, "target_has_no_grad"), b->grad == NULL);
        tt_tensor_free(loss);
    }
    tt_tensor *all[4] = {pred, target, logits, classes};
    for (int i = 0; i < 4; i++) {
        tt_tensor_zero_grad(all[i]);
        tt_tensor_free(all[i]);
    }
}

/* ------------------------------------------------------------ memory */

static void case_allocation_failures(tito_probe *p)
{
    tt_tensor *pb = probe_uniform(p, 2, TT_SHAPE(3, 2), 0.1f, 0.9f);
    tt_tensor *target = random_labels(p, 2, TT_SHAPE(2, 3));
    tt_tensor *logits = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *classes = random_targets(p, 2, 3);
    tt_tensor *pred = NULL;
    probe_note(p, "each loss with allocation number 0, 1, 2, ... made to fail in turn (pred "
                  "given as a transposed view, so a contiguous copy is made too): every "
                  "failure returns TT_ERR_NOMEM, sets out to NULL and frees what was taken; "
                  "with no failure injected the call succeeds");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&pred, pb, 0, 1));
    record_allocation_failures(p, "tt_mse_loss", tt_mse_loss, pred, target);
    record_allocation_failures(p, "tt_bce_loss", tt_bce_loss, pred, target);
    record_allocation_failures(p, "tt_cross_entropy_loss", tt_cross_entropy_loss, logits,
                               classes);
    tt_tensor_free(pred);
    tt_tensor_free(classes);
    tt_tensor_free(logits);
    tt_tensor_free(target);
    tt_tensor_free(pb);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"mse.values", "mse", 2, case_mse_values},
    {"mse.perfect_prediction", "mse", 1, case_mse_perfect},
    {"mse.any_rank", "mse", 1, case_mse_shapes},
    {"mse.views", "views", 2, case_mse_views},
    {"bce.hard_labels", "bce", 2, case_bce_hard_labels},
    {"bce.soft_labels", "bce", 2, case_bce_soft_labels},
    {"bce.confident_wrong", "stability", 2, case_bce_confident_wrong},
    {"bce.confident_right_and_coin_flip", "bce", 2, case_bce_confident_right_and_uniform},
    {"bce.views", "views", 1, case_bce_views},
    {"ce.values", "cross_entropy", 2, case_ce_values},
    {"ce.uniform_logits", "cross_entropy", 2, case_ce_uniform},
    {"ce.huge_logits", "stability", 2, case_ce_huge_logits},
    {"ce.single_class", "cross_entropy", 1, case_ce_single_class},
    {"ce.views", "views", 2, case_ce_views},
    {"errors.mse_bce_shapes", "errors", 2, case_elementwise_shape_errors},
    {"errors.ce_shapes", "errors", 2, case_ce_shape_errors},
    {"errors.ce_bad_targets", "errors", 2, case_ce_bad_targets},
    {"errors.null_arguments", "errors", 2, case_null_arguments},
    {"autograd.records_and_backward", "autograd", 2, case_records_for_autograd},
    {"memory.allocation_failures", "memory", 2, case_allocation_failures},
};

TITO_PROBE_MAIN(cases)
