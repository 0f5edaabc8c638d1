/*
 * grader/suites/04_losses/hidden.c: the hidden checks of module 04 (losses).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. They probe the same contract as visible.c from other
 * angles (long sums, 4-D and 0-D inputs, the clamp's exact boundaries, large logits
 * close to each other where cancellation shows, -0 and almost-integer targets, many
 * classes, the first of several bad rows, gradients through views, allocation failures
 * while recording) so that fitting the visible checks alone does not get full marks.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

#include "helpers.h"

static void record_refusal(tito_probe *p, const char *name, loss_fn fn, tt_tensor *a,
                           tt_tensor *b)
{
    char label[96];
    tt_tensor *loss = &not_a_result;
    tt_status st = fn(&loss, a, b);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_int(p, label2(label, sizeof label, name, "out_is_NULL"), loss == NULL);
    free_result(loss);
}

static tt_tensor *classes_of(tito_probe *p, size_t n, size_t classes)
{
    tt_tensor *t = probe_uniform(p, 1, TT_SHAPE(n), 0.0f, 1.0f);
    if (t)
        for (size_t i = 0; i < n; i++)
            t->storage->data[i] = (float)tt_rng_below(probe_rng(p), (uint32_t)classes);
    return t;
}

/* ------------------------------------------------------------ cases */

static void case_mse_long_sum(tito_probe *p)
{
    size_t r = probe_small(p) ? 10 : 100, c = probe_small(p) ? 20 : 250;
    tt_tensor *pred = probe_uniform(p, 2, TT_SHAPE(r, c), -100.0f, 100.0f);
    tt_tensor *target = probe_uniform(p, 2, TT_SHAPE(r, c), -100.0f, 100.0f);
    probe_note(p, "tt_mse_loss over [%zu,%zu] values in [-100, 100): a long sum (sum in "
                  "double, round the mean once)", r, c);
    probe_tol_reduction(p, r * c);
    record_loss(p, "mse", tt_mse_loss, pred, target);
    tt_tensor_free(target);
    tt_tensor_free(pred);
}

static void case_mse_4d_and_shape_mismatch(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 4, TT_SHAPE(2, 1, 3, 2));
    tt_tensor *b = probe_randn(p, 4, TT_SHAPE(2, 1, 3, 2));
    tt_tensor *flat = probe_randn(p, 1, TT_SHAPE(12));
    probe_note(p, "tt_mse_loss of [2,1,3,2] pairs; then [2,1,3,2] against [12] (same "
                  "elements, other shape: TT_ERR_SHAPE); then tt_bce_loss of [12] against "
                  "[2,1,3,2]: TT_ERR_SHAPE");
    probe_tol_reduction(p, 12);
    record_loss(p, "mse_4d", tt_mse_loss, a, b);
    record_refusal(p, "mse_4d_vs_flat", tt_mse_loss, a, flat);
    record_refusal(p, "bce_flat_vs_4d", tt_bce_loss, flat, b);
    tt_tensor_free(flat);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_bce_clamp_boundaries(tito_probe *p)
{
    /* Probabilities below, at and just inside both ends of [eps, 1 - eps], each with a
     * soft target so that both logs count. */
    const float prob[8] = {0.0f, 1e-9f, 1e-7f, 2e-7f, 0.99999988f, 0.9999999f, 1.0f, 0.5f};
    float target[8];
    for (int i = 0; i < 8; i++)
        target[i] = tt_rng_uniform(probe_rng(p));
    tt_tensor *a = probe_from_data(p, 1, TT_SHAPE(8), prob);
    probe_note(p, "tt_bce_loss of prob [0, 1e-9, 1e-7, 2e-7, 0.99999988, 0.9999999, 1, 0.5] "
                  "with soft targets in [0, 1), one element at a time and all together: "
                  "clamp to [1e-7, 1 - 1e-7] in double");
    for (int i = 0; i < 8; i++) {
        char name[32];
        tt_tensor *pi = probe_from_data(p, 0, NULL, &prob[i]);
        tt_tensor *ti = probe_from_data(p, 0, NULL, &target[i]);
        snprintf(name, sizeof name, "element_%d", i);
        probe_tol_reduction(p, 1);
        record_loss(p, name, tt_bce_loss, pi, ti);
        tt_tensor_free(ti);
        tt_tensor_free(pi);
    }
    tt_tensor *b = probe_from_data(p, 1, TT_SHAPE(8), target);
    probe_tol_reduction(p, 8);
    record_loss(p, "all", tt_bce_loss, a, b);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_bce_soft_confident(tito_probe *p)
{
    const float prob[4] = {0.0f, 1.0f, 0.0f, 1.0f};
    const float target[4] = {0.5f, 0.5f, 0.25f, 0.9f};
    tt_tensor *a = probe_from_data(p, 2, TT_SHAPE(2, 2), prob);
    tt_tensor *b = probe_from_data(p, 2, TT_SHAPE(2, 2), target);
    probe_note(p, "tt_bce_loss of prob [[0, 1], [0, 1]] with soft targets [[0.5, 0.5], "
                  "[0.25, 0.9]]: both clamped ends weigh in");
    probe_tol_reduction(p, 4);
    record_loss(p, "bce", tt_bce_loss, a, b);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_ce_large_close_logits(tito_probe *p)
{
    /* Around 1e4 the float spacing is 2^-10, so multiples of 1/8 are exact: the gaps
     * below are exactly what the rows hold. */
    float logits[12], targets[4];
    for (int r = 0; r < 4; r++) {
        float base = r % 2 ? -1e4f : 1e4f;
        for (int c = 0; c < 3; c++)
            logits[r * 3 + c] = base + (float)tt_rng_below(probe_rng(p), 17) / 8.0f;
        targets[r] = (float)tt_rng_below(probe_rng(p), 3);
    }
    probe_note(p, "logits [4,3]: each row is +-1e4 plus gaps of at most 2 (multiples of "
                  "1/8): the loss is of order 1, so (m + log s) - x_t computed in float near "
                  "1e4 loses it (the float spacing there is 0.001); compute (m - x_t) + log s. "
                  "Each row alone ([1,3]), then the batch");
    for (int r = 0; r < 4; r++) {
        char name[32];
        tt_tensor *row = probe_from_data(p, 2, TT_SHAPE(1, 3), logits + 3 * r);
        tt_tensor *target = probe_from_data(p, 1, TT_SHAPE(1), targets + r);
        snprintf(name, sizeof name, "row_%d", r);
        probe_tol_reduction(p, 3);
        record_loss(p, name, tt_cross_entropy_loss, row, target);
        tt_tensor_free(target);
        tt_tensor_free(row);
    }
    tt_tensor *a = probe_from_data(p, 2, TT_SHAPE(4, 3), logits);
    tt_tensor *b = probe_from_data(p, 1, TT_SHAPE(4), targets);
    probe_tol_reduction(p, 12);
    record_loss(p, "batch", tt_cross_entropy_loss, a, b);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_ce_special_targets(tito_probe *p)
{
    tt_tensor *logits = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *neg0 = probe_from_data(p, 1, TT_SHAPE(3), (const float[]){-0.0f, 3.0f, 1.0f});
    tt_tensor *near = probe_from_data(p, 1, TT_SHAPE(3),
                                      (const float[]){0.0f, nextafterf(2.0f, 3.0f), 1.0f});
    tt_tensor *below = probe_from_data(p, 1, TT_SHAPE(3),
                                       (const float[]){0.0f, 1.0f, nextafterf(3.0f, 2.0f)});
    tt_tensor *big = probe_from_data(p, 1, TT_SHAPE(3), (const float[]){1e9f, 1.0f, 0.0f});
    tt_tensor *two_bad = probe_from_data(p, 1, TT_SHAPE(3), (const float[]){0.0f, -2.0f, 0.5f});
    probe_note(p, "logits [3,4]: targets [-0, 3, 1] are valid (-0 is class 0); "
                  "[0, 2.0000002, 1], [0, 1, 2.9999998], [1e9, 1, 0] and [0, -2, 0.5] are "
                  "TT_ERR_RANGE with out NULL");
    probe_tol_reduction(p, 12);
    record_loss(p, "minus_zero", tt_cross_entropy_loss, logits, neg0);
    record_refusal(p, "just_above_2", tt_cross_entropy_loss, logits, near);
    record_refusal(p, "just_below_3", tt_cross_entropy_loss, logits, below);
    record_refusal(p, "1e9", tt_cross_entropy_loss, logits, big);
    record_refusal(p, "two_bad_rows", tt_cross_entropy_loss, logits, two_bad);
    tt_tensor_free(two_bad);
    tt_tensor_free(big);
    tt_tensor_free(below);
    tt_tensor_free(near);
    tt_tensor_free(neg0);
    tt_tensor_free(logits);
}

static void case_ce_many_classes(tito_probe *p)
{
    size_t c = probe_small(p) ? 50 : 1000;
    tt_tensor *logits = probe_uniform(p, 2, TT_SHAPE(3, c), -20.0f, 20.0f);
    tt_tensor *targets = classes_of(p, 3, c);
    probe_note(p, "tt_cross_entropy_loss with logits [3,%zu] in [-20, 20)", c);
    probe_tol_reduction(p, 3 * c);
    record_loss(p, "ce", tt_cross_entropy_loss, logits, targets);
    tt_tensor_free(targets);
    tt_tensor_free(logits);
}

/* A 1-D view of `n` elements of base's storage, `stride` apart from `offset`: a
 * strided vector, which module 01's views cannot make from a 1-D tensor. Built field
 * by field like the harness's own tensors, so tt_tensor_free releases it. */
static tt_tensor *strided_view(tt_tensor *base, size_t offset, size_t n, ptrdiff_t stride)
{
    tt_tensor *v = tt_calloc(1, sizeof *v);
    if (!v || !base)
        return v;
    v->storage = base->storage;
    v->storage->refcount++;
    v->offset = offset;
    v->ndim = 1;
    v->shape[0] = n;
    v->strides[0] = stride;
    v->refcount = 1;
    return v;
}

static void case_ce_noncontiguous_targets(tito_probe *p)
{
    float tv[10];
    for (int i = 0; i < 10; i++)
        tv[i] = (float)tt_rng_below(probe_rng(p), 5);
    tt_tensor *pairs = probe_from_data(p, 1, TT_SHAPE(10), tv);
    tt_tensor *logits = probe_uniform(p, 2, TT_SHAPE(5, 5), -3.0f, 3.0f);
    tt_tensor *targets = strided_view(pairs, 1, 5, 2);
    probe_note(p, "targets = elements 1, 3, 5, 7, 9 of a [10] tensor (a [5] view with stride "
                  "2 and offset 1); logits [5,5]");
    probe_tol_exact(p);
    probe_tensor(p, "targets", targets);
    probe_tol_reduction(p, 25);
    record_loss(p, "ce", tt_cross_entropy_loss, logits, targets);
    tt_tensor_free(targets);
    tt_tensor_free(logits);
    tt_tensor_free(pairs);
}

static void case_grad_through_views(tito_probe *p)
{
    tt_tensor *pb = probe_uniform(p, 2, TT_SHAPE(3, 2), 0.1f, 0.9f);
    tt_tensor *target = random_labels(p, 2, TT_SHAPE(2, 3));
    tt_tensor *lb = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *classes = classes_of(p, 2, 4);
    probe_note(p, "base [3,2] requires grad; pred = transpose(base) (recorded by the "
                  "reference); tt_backward of each loss must reach base: your loss records "
                  "the view it was given, not its contiguous copy. Same for logits = "
                  "transpose of a [4,2] leaf");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(pb, true));
    probe_status(p, "set_requires_grad_logits", tt_tensor_set_requires_grad(lb, true));
    const struct {
        const char *name;
        loss_fn fn;
    } L[3] = {{"tt_mse_loss", tt_mse_loss},
              {"tt_bce_loss", tt_bce_loss},
              {"tt_cross_entropy_loss", tt_cross_entropy_loss}};
    for (int k = 0; k < 3; k++) {
        char label[96];
        tt_tensor *base = k == 2 ? lb : pb, *v = NULL, *loss = NULL;
        probe_tol_exact(p);
        probe_status(p, label2(label, sizeof label, L[k].name, "transpose_status"),
                     tt_tensor_transpose(&v, base, 0, 1));
        tt_status st = L[k].fn(&loss, v, k == 2 ? classes : target);
        probe_status(p, label2(label, sizeof label, L[k].name, "status"), st);
        tt_tensor_zero_grad(base);
        st = loss && loss->grad_fn && loss->ndim == 0 ? tt_backward(loss) : TT_ERR_STATE;
        probe_status(p, label2(label, sizeof label, L[k].name, "backward_status"), st);
        probe_tol_elementwise(p);
        probe_tensor(p, label2(label, sizeof label, L[k].name, "base.grad"), base->grad);
        tt_tensor_free(loss);
        tt_tensor_free(v);
    }
    tt_tensor_zero_grad(pb);
    tt_tensor_zero_grad(lb);
    tt_tensor_free(classes);
    tt_tensor_free(lb);
    tt_tensor_free(target);
    tt_tensor_free(pb);
}

static void case_allocation_failures_recording(tito_probe *p)
{
    tt_tensor *pred = probe_uniform(p, 3, TT_SHAPE(2, 2, 2), 0.1f, 0.9f);
    tt_tensor *target = random_labels(p, 3, TT_SHAPE(2, 2, 2));
    tt_tensor *lb = probe_randn(p, 2, TT_SHAPE(3, 2));
    tt_tensor *classes = classes_of(p, 2, 3);
    tt_tensor *logits = NULL, *bad = NULL;
    probe_note(p, "inputs requiring grad (so the loss also records a graph node), logits as a "
                  "transposed view; each allocation made to fail in turn: TT_ERR_NOMEM, out "
                  "NULL, nothing leaked. Then a bad target (class 7 of 3) with failures "
                  "injected: TT_ERR_RANGE or TT_ERR_NOMEM, never a leak");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(pred, true));
    probe_status(p, "set_requires_grad_logits", tt_tensor_set_requires_grad(lb, true));
    probe_status(p, "transpose_status", tt_tensor_transpose(&logits, lb, 0, 1));
    record_allocation_failures(p, "tt_mse_loss", tt_mse_loss, pred, target);
    record_allocation_failures(p, "tt_bce_loss", tt_bce_loss, pred, target);
    record_allocation_failures(p, "tt_cross_entropy_loss", tt_cross_entropy_loss, logits,
                               classes);
    bad = probe_from_data(p, 1, TT_SHAPE(2), (const float[]){0.0f, 7.0f});
    long clean = 1;
    for (long n = 0; n < 20; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *loss = &not_a_result;
        tt_alloc_fail_after(n);
        tt_status st = tt_cross_entropy_loss(&loss, logits, bad);
        tt_alloc_fail_after(-1);
        clean &= (st == TT_ERR_RANGE || st == TT_ERR_NOMEM) && loss == NULL &&
                 tt_alloc_live() == live;
        if (st == TT_OK)
            free_result(loss);
    }
    probe_int(p, "bad_target.refused_cleanly_under_failures", clean);
    tt_tensor_zero_grad(pred);
    tt_tensor_zero_grad(lb);
    tt_tensor_free(bad);
    tt_tensor_free(logits);
    tt_tensor_free(classes);
    tt_tensor_free(lb);
    tt_tensor_free(target);
    tt_tensor_free(pred);
}

static void case_scalar_inputs(tito_probe *p)
{
    tt_tensor *a = probe_uniform(p, 0, NULL, 0.05f, 0.95f);
    tt_tensor *b = probe_uniform(p, 0, NULL, 0.0f, 1.0f);
    tt_tensor *l1 = probe_randn(p, 2, TT_SHAPE(1, 6));
    tt_tensor *t1 = classes_of(p, 1, 6);
    probe_note(p, "tt_mse_loss and tt_bce_loss of two 0-D tensors (shape []), and "
                  "tt_cross_entropy_loss of one row: logits [1,6], targets [1]");
    probe_tol_reduction(p, 1);
    record_loss(p, "mse", tt_mse_loss, a, b);
    record_loss(p, "bce", tt_bce_loss, a, b);
    probe_tol_reduction(p, 6);
    record_loss(p, "ce", tt_cross_entropy_loss, l1, t1);
    tt_tensor_free(t1);
    tt_tensor_free(l1);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static const tito_probe_case cases[] = {
    {"mse.long_sum", "mse", 2, case_mse_long_sum},
    {"mse.4d_and_mismatch", "mse", 1, case_mse_4d_and_shape_mismatch},
    {"bce.clamp_boundaries", "stability", 2, case_bce_clamp_boundaries},
    {"bce.soft_confident", "stability", 1, case_bce_soft_confident},
    {"ce.large_close_logits", "stability", 2, case_ce_large_close_logits},
    {"ce.special_targets", "errors", 2, case_ce_special_targets},
    {"ce.many_classes", "cross_entropy", 1, case_ce_many_classes},
    {"ce.strided_targets", "views", 1, case_ce_noncontiguous_targets},
    {"shapes.scalar_inputs", "mse", 1, case_scalar_inputs},
    {"autograd.through_views", "autograd", 2, case_grad_through_views},
    {"memory.allocation_failures_recording", "memory", 2, case_allocation_failures_recording},
};

TITO_PROBE_MAIN(cases)
