/*
 * grader/suites/03_layers/visible.c: the visible checks of module 03 (layers).
 *
 * You can read this file: it is exactly what `tito` runs against your layers.c and
 * against the course's reference, on the same random inputs and the same generator
 * seeds. Each case calls your functions and records what came back (status codes,
 * shapes, values, yes/no answers); tito compares your records with the reference's,
 * within the tolerance stated before each record:
 *   exact        statuses, counts, flags, initial weights and dropout masks: the same
 *                draws from the same seed give the same floats, bit for bit;
 *   elementwise  |got - expected| <= 1e-6 + 1e-5 |expected| (one operation per value);
 *   reduction    over k terms: |got - expected| <= 1e-5 sqrt(k) (1 + |expected|), for
 *                forward values (a matmul over in_features) and gradients (sums over
 *                the batch);
 *   abs          |got - expected| <= atol + rtol |expected|, for statistics of a large
 *                initialisation, which only need the right distribution.
 * A case must also free what it made: your module's allocations still live after the
 * case are compared with the reference's (a difference is a leak).
 *
 * Everything except layers.c is the course's reference while module 03 is graded:
 * tensors, activations, and the autograd (module 05) that the backward checks run.
 * The generators a case gives your layers are seeded from the grading seed: the draw
 * order documented in tinytorch/layers.h is what makes your floats equal the
 * reference's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

/* not_a_tensor, label2, seed_rng, next_draw, kept_mask, and linear, dropout and
 * sequential (a constructor and its status), which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ helpers */

/* Stands for "some earlier value" in *out, as not_a_tensor does for tensors. Never
 * freed. */
static tt_layer not_a_layer;

static void free_layer(tt_layer *l)
{
    if (l != &not_a_layer)
        tt_layer_free(l);
}

static void free_tensor(tt_tensor *t)
{
    if (t != &not_a_tensor)
        tt_tensor_free(t);
}

/* 1 when the last error message mentions `word`. */
static long message_mentions(const char *word)
{
    return strstr(tt_error_last(), word) != NULL;
}

/* out = layer(x): status and result. */
static void record_forward(tito_probe *p, const char *name, tt_layer *layer, tt_tensor *x)
{
    char label[96];
    tt_tensor *y = NULL;
    tt_status st = layer ? tt_layer_forward(layer, &y, x) : TT_ERR_INVALID_ARG;
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_tensor(p, label2(label, sizeof label, name, "out"), y);
    tt_tensor_free(y);
}

/* One training forward of a Dropout: the kept mask and the output, exactly. */
static void record_dropout(tito_probe *p, const char *name, tt_layer *d, tt_tensor *x)
{
    char label[96];
    tt_tensor *y = NULL;
    tt_status st = d ? tt_layer_forward(d, &y, x) : TT_ERR_INVALID_ARG;
    tt_tensor *mask = kept_mask(p, y);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_tensor(p, label2(label, sizeof label, name, "kept"), mask);
    probe_tensor(p, label2(label, sizeof label, name, "out"), y);
    tt_tensor_free(mask);
    tt_tensor_free(y);
}

/* Makes each allocation of one constructor (or forward) fail in turn until it
 * succeeds: every failure must be TT_ERR_NOMEM with *out NULL and nothing left
 * allocated. Yes/no answers, so your code may allocate more or less often than the
 * reference's. `attempt` makes the call (with a fresh copy of any generator it uses);
 * `release` frees what a successful call made. */
typedef tt_status (*attempt_fn)(void **out, void *ctx);

static void record_allocation_failures(tito_probe *p, const char *name, attempt_fn attempt,
                                       void (*release)(void *), void *ctx)
{
    char label[96];
    void *plain = NULL;
    tt_status plain_st = attempt(&plain, ctx);
    if (plain_st == TT_OK)
        release(plain);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "status_without_failures"), plain_st);
    long all_nomem = 1, all_null = 1, nothing_leaked = 1, succeeded = 0;
    for (long n = 0; n < 200 && !succeeded; n++) {
        size_t live = tt_alloc_live();
        void *sentinel = &not_a_layer, *out = sentinel;
        tt_alloc_fail_after(n);
        tt_status st = attempt(&out, ctx);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            succeeded = 1;
            if (out != sentinel)
                release(out);
            break;
        }
        all_nomem &= st == TT_ERR_NOMEM;
        all_null &= out == NULL;
        nothing_leaked &= tt_alloc_live() == live;
    }
    probe_int(p, label2(label, sizeof label, name, "every_failure_is_TT_ERR_NOMEM"), all_nomem);
    probe_int(p, label2(label, sizeof label, name, "out_is_NULL_after_each_failure"), all_null);
    probe_int(p, label2(label, sizeof label, name, "nothing_leaked_after_each_failure"),
              nothing_leaked);
    probe_int(p, label2(label, sizeof label, name, "succeeds_when_memory_is_there"), succeeded);
}

/* ------------------------------------------------------------ parameter lists */

static void case_params_push(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *b = probe_randn(p, 1, TT_SHAPE(4));
    tt_tensor *c = probe_randn(p, 0, NULL);
    tt_params ps;
    tt_params_init(&ps);
    probe_note(p, "tt_params_push of a [2,3], b [4], c [] (0-D), then a again: count 4, "
                  "items in push order (borrowed pointers), tt_params_numel 6 + 4 + 1 + 6 = 17");
    probe_tol_exact(p);
    probe_status(p, "push_a", tt_params_push(&ps, a));
    probe_status(p, "push_b", tt_params_push(&ps, b));
    probe_status(p, "push_c", tt_params_push(&ps, c));
    probe_status(p, "push_a_again", tt_params_push(&ps, a));
    probe_int(p, "count", (long)ps.count);
    tt_tensor *want[4] = {a, b, c, a};
    for (size_t i = 0; i < 4; i++) {
        char label[32];
        snprintf(label, sizeof label, "items[%zu]_is_pushed", i);
        probe_int(p, label, i < ps.count && ps.items[i] == want[i]);
    }
    probe_int(p, "numel", (long)tt_params_numel(&ps));
    tt_params_release(&ps);
    tt_tensor_free(c);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_params_errors(tito_probe *p)
{
    tt_tensor *a = probe_randn(p, 1, TT_SHAPE(3));
    tt_params ps;
    tt_params_init(&ps);
    probe_note(p, "tt_params_push(&ps, NULL) and tt_params_push(NULL, a): TT_ERR_INVALID_ARG; "
                  "a push whose allocation fails: TT_ERR_NOMEM with the list unchanged; "
                  "tt_params_numel of an empty list is 0");
    probe_tol_exact(p);
    probe_status(p, "push_NULL_tensor", tt_params_push(&ps, NULL));
    probe_status(p, "push_to_NULL_list", tt_params_push(NULL, a));
    probe_int(p, "count_after_refusals", (long)ps.count);
    probe_int(p, "numel_of_empty_list", (long)tt_params_numel(&ps));
    tt_alloc_fail_after(0);
    tt_status st = tt_params_push(&ps, a);
    tt_alloc_fail_after(-1);
    probe_status(p, "push_without_memory", st);
    probe_int(p, "count_after_failed_push", (long)ps.count);
    probe_status(p, "push_with_memory", tt_params_push(&ps, a));
    probe_int(p, "count_after_push", (long)ps.count);
    probe_int(p, "numel_after_push", (long)tt_params_numel(&ps));
    tt_params_release(&ps);
    tt_tensor_free(a);
}

/* ------------------------------------------------------------ Linear */

static void case_linear_init_exact(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    probe_note(p, "tt_linear_new(&l, 5, 3, bias, rng): W [5,3] drawn first, then b [3], each "
                  "as tt_tensor_uniform(-bound, bound) does (low + (high - low) * "
                  "tt_rng_uniform, row-major), bound = (float)(1 / sqrt(5)); then the next "
                  "draw of rng shows that exactly 18 draws were made");
    tt_layer *l = linear(p, "linear", 5, 3, true, &rng);
    probe_tensor(p, "weight", tt_linear_weight(l));
    probe_tensor(p, "bias", tt_linear_bias(l));
    probe_int(p, "next_draw_after_init", next_draw(&rng));
    probe_int(p, "starts_in_training_mode", l && l->training);
    tt_layer_free(l);
}

static void case_linear_init_no_bias(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    probe_note(p, "tt_linear_new(&l, 4, 6, false, rng): W [4,6] only; tt_linear_bias is "
                  "NULL and rng moved by exactly 24 draws");
    tt_layer *l = linear(p, "linear", 4, 6, false, &rng);
    probe_tensor(p, "weight", tt_linear_weight(l));
    probe_tensor(p, "bias", tt_linear_bias(l));
    probe_int(p, "next_draw_after_init", next_draw(&rng));
    tt_layer_free(l);
}

static void case_linear_init_statistics(tito_probe *p)
{
    size_t in = probe_small(p) ? 64 : 256, out = probe_small(p) ? 32 : 128, n = in * out;
    tt_rng rng;
    seed_rng(p, &rng);
    probe_note(p, "Linear(%zu, %zu): every W and b value inside [-a, a] with a = 1/sqrt(%zu); "
                  "the mean of W within 5 standard errors of the reference's, its variance "
                  "(a^2/3) within 10%%, its extremes within 2%% of a: a distribution check, "
                  "which passes even if your draws came in another order",
               in, out, in);
    tt_layer *l = linear(p, "linear", in, out, true, &rng);
    tt_tensor *w = tt_linear_weight(l), *b = tt_linear_bias(l);
    double a = 1.0 / sqrt((double)in), sum = 0.0, sumsq = 0.0, lo = 0.0, hi = 0.0;
    long inside = w && b && tt_tensor_numel(w) == n && tt_tensor_numel(b) == out &&
                  tt_tensor_is_contiguous(w) && tt_tensor_is_contiguous(b);
    if (inside) {
        const float *wd = tt_tensor_data(w), *bd = tt_tensor_data(b);
        lo = hi = wd[0];
        for (size_t i = 0; i < n; i++) {
            sum += wd[i];
            sumsq += (double)wd[i] * wd[i];
            lo = wd[i] < lo ? wd[i] : lo;
            hi = wd[i] > hi ? wd[i] : hi;
            inside &= fabs(wd[i]) <= (float)a;
        }
        for (size_t i = 0; i < out; i++)
            inside &= fabs(bd[i]) <= (float)a;
    }
    double mean = sum / (double)n, var = sumsq / (double)n - mean * mean;
    probe_tol_exact(p);
    probe_int(p, "all_values_within_bound", inside);
    probe_tol(p, 5.0 * a / sqrt(3.0 * (double)n), 0.0);
    probe_scalar(p, "weight_mean", mean);
    probe_tol(p, 0.0, 0.10);
    probe_scalar(p, "weight_variance", var);
    probe_tol(p, 0.02 * a, 0.0);
    probe_scalar(p, "weight_min", lo);
    probe_scalar(p, "weight_max", hi);
    tt_layer_free(l);
}

static void case_linear_parameters(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_params ps;
    tt_params_init(&ps);
    probe_note(p, "Linear(4, 6) with bias: tt_layer_parameters appends W then b (borrowed, "
                  "both requiring grad, both leaves); a second call appends them again (the "
                  "list is not reset): 4 items, 60 values");
    tt_layer *l = linear(p, "linear", 4, 6, true, &rng);
    tt_tensor *w = tt_linear_weight(l), *b = tt_linear_bias(l);
    probe_status(p, "parameters_status", l ? tt_layer_parameters(l, &ps) : TT_ERR_STATE);
    probe_int(p, "count", (long)ps.count);
    probe_int(p, "items[0]_is_weight", ps.count > 0 && w && ps.items[0] == w);
    probe_int(p, "items[1]_is_bias", ps.count > 1 && b && ps.items[1] == b);
    probe_int(p, "weight_requires_grad", w && w->requires_grad);
    probe_int(p, "bias_requires_grad", b && b->requires_grad);
    probe_int(p, "weight_is_a_leaf", w && w->grad_fn == NULL);
    probe_int(p, "numel", (long)tt_params_numel(&ps));
    probe_status(p, "parameters_again_status", l ? tt_layer_parameters(l, &ps) : TT_ERR_STATE);
    probe_int(p, "count_after_second_call", (long)ps.count);
    probe_int(p, "numel_after_second_call", (long)tt_params_numel(&ps));
    tt_params_release(&ps);
    tt_layer_free(l);

    tt_layer *nb = linear(p, "no_bias", 4, 6, false, &rng);
    probe_status(p, "no_bias.parameters_status", nb ? tt_layer_parameters(nb, &ps) : TT_ERR_STATE);
    probe_int(p, "no_bias.count", (long)ps.count);
    probe_int(p, "no_bias.numel", (long)tt_params_numel(&ps));
    tt_params_release(&ps);
    tt_layer_free(nb);
}

static void case_linear_forward_2d(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 5));
    probe_note(p, "Linear(5, 3) with bias; y = x W + b with x: [4,5]  -> y: [4,3]");
    tt_layer *l = linear(p, "linear", 5, 3, true, &rng);
    probe_tol_reduction(p, 5);
    record_forward(p, "forward", l, x);
    tt_layer_free(l);
    tt_tensor_free(x);
}

static void case_linear_forward_no_bias(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 6));
    probe_note(p, "Linear(6, 2) without bias; y = x W with x: [3,6]  -> y: [3,2]");
    tt_layer *l = linear(p, "linear", 6, 2, false, &rng);
    probe_tol_reduction(p, 6);
    record_forward(p, "forward", l, x);
    tt_layer_free(l);
    tt_tensor_free(x);
}

static void case_linear_forward_3d(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    probe_note(p, "Linear(4, 5) with bias on x: [2,3,4] ([..., in]): y: [2,3,5]");
    tt_layer *l = linear(p, "linear", 4, 5, true, &rng);
    probe_tol_reduction(p, 4);
    record_forward(p, "forward", l, x);
    tt_layer_free(l);
    tt_tensor_free(x);
}

static void case_linear_backward(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 3));
    probe_note(p, "Linear(3, 2) with bias, x: [4,3]; loss = sum(y) (reference); the "
                  "reference's tt_backward(loss) must reach W and b: W.grad [3,2] (column "
                  "sums of x), b.grad [2] (4 each); x, not requiring grad, gets none");
    tt_layer *l = linear(p, "linear", 3, 2, true, &rng);
    tt_tensor *w = l ? tt_linear_weight(l) : NULL, *b = l ? tt_linear_bias(l) : NULL;
    tt_tensor *y = NULL, *s = NULL;
    tt_status st = l ? tt_layer_forward(l, &y, x) : TT_ERR_STATE;
    probe_status(p, "forward_status", st);
    probe_int(p, "out_requires_grad", y && y->requires_grad);
    if (st == TT_OK && y && y->requires_grad)
        tt_tensor_sum_all(&s, y);
    probe_status(p, "backward_status", s ? tt_backward(s) : TT_ERR_STATE);
    probe_tol_reduction(p, 4);
    probe_tensor(p, "weight.grad", w ? w->grad : NULL);
    probe_tensor(p, "bias.grad", b ? b->grad : NULL);
    probe_tol_exact(p);
    probe_int(p, "x_has_no_grad", x->grad == NULL);
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_layer_free(l);
    tt_tensor_free(x);
}

static void case_linear_shape_errors(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *wide = probe_randn(p, 2, TT_SHAPE(4, 6));
    tt_tensor *vec = probe_randn(p, 1, TT_SHAPE(5));
    tt_tensor *y = &not_a_tensor;
    tt_layer *l = linear(p, "linear", 5, 3, true, &rng);
    probe_note(p, "Linear(5, 3) given x: [4,6]: the last dimension is not in_features: "
                  "TT_ERR_SHAPE, out set to NULL, a message naming the input shape [4,6]");
    probe_status(p, "x_4x6.status", l ? tt_layer_forward(l, &y, wide) : TT_ERR_STATE);
    probe_int(p, "x_4x6.out_is_NULL", y == NULL);
    probe_int(p, "x_4x6.message_names_[4,6]", message_mentions("[4,6]"));
    free_tensor(y);
    y = &not_a_tensor;
    probe_note(p, "Linear(5, 3) given x: [5] (1-D): an input needs at least 2 dimensions: "
                  "TT_ERR_SHAPE, out set to NULL");
    probe_status(p, "x_5.status", l ? tt_layer_forward(l, &y, vec) : TT_ERR_STATE);
    probe_int(p, "x_5.out_is_NULL", y == NULL);
    free_tensor(y);
    tt_layer_free(l);
    tt_tensor_free(vec);
    tt_tensor_free(wide);
}

static void case_linear_new_errors(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    struct {
        const char *name;
        size_t in, out;
        bool with_rng;
    } bad[3] = {{"in_0", 0, 3, true}, {"out_0", 3, 0, true}, {"rng_NULL", 3, 2, false}};
    probe_tol_exact(p);
    for (int i = 0; i < 3; i++) {
        char label[64];
        tt_layer *l = &not_a_layer;
        probe_note(p, "tt_linear_new(&l, %zu, %zu, true, %s): TT_ERR_INVALID_ARG, l set to "
                      "NULL, a message naming tt_linear_new",
                   bad[i].in, bad[i].out, bad[i].with_rng ? "rng" : "NULL");
        tt_status st = tt_linear_new(&l, bad[i].in, bad[i].out, true,
                                     bad[i].with_rng ? &rng : NULL);
        probe_status(p, label2(label, sizeof label, bad[i].name, "status"), st);
        probe_int(p, label2(label, sizeof label, bad[i].name, "out_is_NULL"), l == NULL);
        probe_int(p, label2(label, sizeof label, bad[i].name, "message_names_tt_linear_new"),
                  message_mentions("tt_linear_new"));
        free_layer(l);
    }
    probe_note(p, "tt_linear_new(NULL, 3, 2, true, rng): TT_ERR_INVALID_ARG; no draw was made "
                  "by any refused call");
    probe_status(p, "out_NULL.status", tt_linear_new(NULL, 3, 2, true, &rng));
    probe_int(p, "next_draw_after_refusals", next_draw(&rng));
}

/* ------------------------------------------------------------ Dropout */

static void case_dropout_mask(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    float prob = 0.2f + 0.5f * tt_rng_uniform(probe_rng(p));
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(6, 7));
    probe_note(p, "Dropout(p = %.9g) in training on x: [6,7]: one tt_rng_uniform per "
                  "element in row-major order, dropped when the draw is < p, survivors "
                  "times 1.0f / (1.0f - p); `kept` is 1 where out is not 0; then the next "
                  "draw of rng (exactly 42 draws made)",
               (double)prob);
    tt_layer *d = dropout(p, "dropout", prob, &rng);
    record_dropout(p, "forward", d, x);
    probe_int(p, "next_draw", next_draw(&rng));
    tt_layer_free(d);
    tt_tensor_free(x);
}

static void case_dropout_consecutive(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 5));
    probe_note(p, "Dropout(0.5): three forwards of the same x: [4,5] in a row; each call "
                  "continues the generator's stream (masks differ, and follow one another)");
    tt_layer *d = dropout(p, "dropout", 0.5f, &rng);
    record_dropout(p, "first", d, x);
    record_dropout(p, "second", d, x);
    record_dropout(p, "third", d, x);
    tt_layer_free(d);
    tt_tensor_free(x);
}

static void case_dropout_eval(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *y = NULL;
    probe_note(p, "Dropout(0.4) after tt_layer_set_training(d, false): the output is a copy "
                  "of x (a new tensor, not x itself) and no draw is made (the generator's "
                  "next draw is unchanged); back in training the masks start where the "
                  "stream was");
    tt_layer *d = dropout(p, "dropout", 0.4f, &rng);
    tt_layer_set_training(d, false);
    probe_int(p, "training_flag", d && d->training);
    tt_status st = d ? tt_layer_forward(d, &y, x) : TT_ERR_STATE;
    probe_status(p, "eval.status", st);
    probe_tensor(p, "eval.out", y);
    probe_int(p, "eval.out_is_not_x", y != x);
    probe_int(p, "eval.out_shares_no_storage_with_x", !(y && y->storage == x->storage));
    tt_tensor_free(y);
    tt_rng copy = rng;
    probe_int(p, "next_draw_after_eval", next_draw(&copy));
    tt_layer_set_training(d, true);
    record_dropout(p, "train_again", d, x);
    tt_layer_free(d);
    tt_tensor_free(x);
}

static void case_dropout_p_zero(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(9));
    probe_note(p, "Dropout(0) in training: no draw is < 0, so nothing is dropped and the scale "
                  "is 1: out equals x; the 9 draws are still made (one per element)");
    tt_layer *d = dropout(p, "dropout", 0.0f, &rng);
    record_dropout(p, "forward", d, x);
    probe_int(p, "next_draw", next_draw(&rng));
    tt_layer_free(d);
    tt_tensor_free(x);
}

static void case_dropout_new_errors(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    const float bad[4] = {1.0f, -0.1f, 1.5f, NAN};
    const char *names[4] = {"p_1", "p_-0.1", "p_1.5", "p_nan"};
    probe_tol_exact(p);
    for (int i = 0; i < 4; i++) {
        char label[64];
        tt_layer *d = &not_a_layer;
        probe_note(p, "tt_dropout_new(&d, %g, rng): p outside [0, 1): TT_ERR_INVALID_ARG, d "
                      "set to NULL, a message naming tt_dropout_new",
                   (double)bad[i]);
        probe_status(p, label2(label, sizeof label, names[i], "status"),
                     tt_dropout_new(&d, bad[i], &rng));
        probe_int(p, label2(label, sizeof label, names[i], "out_is_NULL"), d == NULL);
        probe_int(p, label2(label, sizeof label, names[i], "message_names_tt_dropout_new"),
                  message_mentions("tt_dropout_new"));
        free_layer(d);
    }
    tt_layer *d = &not_a_layer;
    probe_note(p, "tt_dropout_new(&d, 0.5, NULL): TT_ERR_INVALID_ARG, d set to NULL; "
                  "tt_dropout_new(NULL, 0.5, rng): TT_ERR_INVALID_ARG");
    probe_status(p, "rng_NULL.status", tt_dropout_new(&d, 0.5f, NULL));
    probe_int(p, "rng_NULL.out_is_NULL", d == NULL);
    free_layer(d);
    probe_status(p, "out_NULL.status", tt_dropout_new(NULL, 0.5f, &rng));
    d = NULL;
    probe_note(p, "tt_dropout_new(&d, 0.999, rng): valid");
    probe_status(p, "p_0.999.status", tt_dropout_new(&d, 0.999f, &rng));
    tt_layer_free(d);
}

static void case_dropout_backward(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 5));
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(3, 5));
    tt_tensor *y = NULL;
    probe_note(p, "x: [3,5] requires grad; y = Dropout(0.3)(x) in training; the reference's "
                  "backward of sum(g * y) gives x.grad = g * mask (mask: 0 or 1/(1-p)), "
                  "through the TT_OP_DROPOUT record of the starter with your mask saved");
    tt_layer *d = dropout(p, "dropout", 0.3f, &rng);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    tt_status st = d ? tt_layer_forward(d, &y, x) : TT_ERR_STATE;
    probe_status(p, "forward_status", st);
    probe_int(p, "out_requires_grad", y && y->requires_grad);
    probe_status(p, "backward_status",
                 y && y->grad_fn && tt_tensor_same_shape(y, x) ? tt_backward_with(y, g)
                                                               : TT_ERR_STATE);
    probe_tol_elementwise(p);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_zero_grad(x);
    tt_tensor_free(y);
    tt_layer_free(d);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ activation layers */

static const struct {
    const char *name;
    tt_status (*make)(tt_layer **out);
} ACTIVATIONS[] = {
    {"ReLU", tt_relu_layer_new},       {"Sigmoid", tt_sigmoid_layer_new},
    {"Tanh", tt_tanh_layer_new},       {"GELU", tt_gelu_layer_new},
    {"Softmax", tt_softmax_layer_new},
};
#define N_ACTIVATIONS (sizeof ACTIVATIONS / sizeof ACTIVATIONS[0])

static void case_activation_layers(tito_probe *p)
{
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(3, 4), -4.0f, 4.0f);
    probe_note(p, "each activation layer (ReLU, Sigmoid, Tanh, GELU, Softmax along axis -1) "
                  "on x: [3,4]: the same values as the function of tinytorch/activations.h");
    for (size_t k = 0; k < N_ACTIVATIONS; k++) {
        char label[64];
        tt_layer *l = NULL;
        probe_tol_exact(p);
        tt_status st = ACTIVATIONS[k].make(&l);
        probe_status(p, label2(label, sizeof label, ACTIVATIONS[k].name, "new_status"), st);
        probe_tol_elementwise(p);
        record_forward(p, ACTIVATIONS[k].name, st == TT_OK ? l : NULL, x);
        tt_layer_free(st == TT_OK ? l : NULL);
    }
    tt_tensor_free(x);
}

static void case_activation_layers_describe(tito_probe *p)
{
    probe_note(p, "each activation layer: tt_layer_name is its name (\"ReLU\", ...), it "
                  "starts in training mode and has no parameters; tt_linear_weight and "
                  "tt_sequential_length of it are NULL and 0; a constructor given NULL "
                  "is TT_ERR_INVALID_ARG");
    probe_tol_exact(p);
    for (size_t k = 0; k < N_ACTIVATIONS; k++) {
        char label[64];
        const char *name = ACTIVATIONS[k].name;
        tt_layer *l = NULL;
        tt_params ps;
        tt_params_init(&ps);
        tt_status st = ACTIVATIONS[k].make(&l);
        if (st != TT_OK)
            l = NULL;
        probe_status(p, label2(label, sizeof label, name, "new_status"), st);
        probe_int(p, label2(label, sizeof label, name, "name_matches"),
                  l && strcmp(tt_layer_name(l), name) == 0);
        probe_int(p, label2(label, sizeof label, name, "training"), l && l->training);
        probe_status(p, label2(label, sizeof label, name, "parameters_status"),
                     l ? tt_layer_parameters(l, &ps) : TT_ERR_STATE);
        probe_int(p, label2(label, sizeof label, name, "parameter_count"), (long)ps.count);
        probe_int(p, label2(label, sizeof label, name, "linear_weight_is_NULL"),
                  tt_linear_weight(l) == NULL);
        probe_int(p, label2(label, sizeof label, name, "sequential_length"),
                  (long)tt_sequential_length(l));
        probe_status(p, label2(label, sizeof label, name, "new_NULL_status"),
                     ACTIVATIONS[k].make(NULL));
        tt_params_release(&ps);
        tt_layer_free(l);
    }
}

/* ------------------------------------------------------------ Sequential */

/* Append and record the status (the container owns the layer from here on). */
static void append(tito_probe *p, const char *label, tt_layer *seq, tt_layer *layer)
{
    probe_tol_exact(p);
    probe_status(p, label, seq && layer ? tt_sequential_append(seq, layer) : TT_ERR_STATE);
}

/* Linear(in, hidden) -> ReLU -> Linear(hidden, out), recorded as it is built. */
static tt_layer *mlp(tito_probe *p, const char *name, size_t in, size_t hidden, size_t out,
                     tt_rng *rng)
{
    char label[96];
    tt_layer *seq = sequential(p, name);
    tt_layer *l1 = linear(p, label2(label, sizeof label, name, "l1"), in, hidden, true, rng);
    tt_layer *act = NULL;
    tt_status st = tt_relu_layer_new(&act);
    probe_status(p, label2(label, sizeof label, name, "relu_new_status"), st);
    tt_layer *l2 = linear(p, label2(label, sizeof label, name, "l2"), hidden, out, true, rng);
    if (!seq) {
        tt_layer_free(l1);
        tt_layer_free(st == TT_OK ? act : NULL);
        tt_layer_free(l2);
        return NULL;
    }
    append(p, label2(label, sizeof label, name, "append_l1"), seq, l1);
    append(p, label2(label, sizeof label, name, "append_relu"), seq, st == TT_OK ? act : NULL);
    append(p, label2(label, sizeof label, name, "append_l2"), seq, l2);
    return seq;
}

static void case_sequential_forward(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 5));
    probe_note(p, "Sequential: Linear(5, 4) -> ReLU -> Linear(4, 2) (initialised in that "
                  "order from one rng); forward of x: [3,5] -> y: [3,2]; length 3");
    tt_layer *seq = mlp(p, "mlp", 5, 4, 2, &rng);
    probe_int(p, "length", (long)tt_sequential_length(seq));
    probe_tol_reduction(p, 5);
    record_forward(p, "forward", seq, x);
    tt_layer_free(seq);
    tt_tensor_free(x);
}

static void case_sequential_parameters(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_params ps;
    tt_params_init(&ps);
    probe_note(p, "Linear(3, 4) -> ReLU -> Linear(4, 2) in a Sequential: tt_layer_parameters "
                  "lists W1, b1, W2, b2 in that order (layer by layer), 16 + 10 = 26 values");
    tt_layer *seq = mlp(p, "mlp", 3, 4, 2, &rng);
    tt_layer *l1 = tt_sequential_at(seq, 0), *l2 = tt_sequential_at(seq, 2);
    probe_int(p, "at_1_is_ReLU", tt_sequential_at(seq, 1) != NULL &&
                                     strcmp(tt_layer_name(tt_sequential_at(seq, 1)), "ReLU") == 0);
    probe_status(p, "parameters_status", seq ? tt_layer_parameters(seq, &ps) : TT_ERR_STATE);
    probe_int(p, "count", (long)ps.count);
    tt_tensor *want[4] = {tt_linear_weight(l1), tt_linear_bias(l1), tt_linear_weight(l2),
                          tt_linear_bias(l2)};
    const char *names[4] = {"items[0]_is_W1", "items[1]_is_b1", "items[2]_is_W2",
                            "items[3]_is_b2"};
    for (size_t i = 0; i < 4; i++)
        probe_int(p, names[i], i < ps.count && want[i] && ps.items[i] == want[i]);
    probe_int(p, "numel", (long)tt_params_numel(&ps));
    tt_params_release(&ps);
    tt_layer_free(seq);
}

static void case_sequential_training(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(12));
    probe_note(p, "outer = Sequential(Dropout(0.5), inner) with inner = Sequential(Dropout"
                  "(0.5)); tt_layer_set_training(outer, false) reaches every layer "
                  "recursively, so the model is the identity and draws nothing; back to "
                  "training, every flag is true again and the two masks follow the stream");
    tt_layer *outer = sequential(p, "outer"), *inner = sequential(p, "inner");
    tt_layer *d1 = dropout(p, "d1", 0.5f, &rng), *d2 = dropout(p, "d2", 0.5f, &rng);
    append(p, "inner_append_d2", inner, d2);
    append(p, "outer_append_d1", outer, d1);
    append(p, "outer_append_inner", outer, inner);
    if (!outer || !inner) {
        if (!outer)
            tt_layer_free(inner);
        tt_layer_free(outer);
        outer = inner = d1 = d2 = NULL;
    }
    tt_layer_set_training(outer, false);
    probe_int(p, "eval.outer", outer && outer->training);
    probe_int(p, "eval.inner", inner && inner->training);
    probe_int(p, "eval.d1", d1 && d1->training);
    probe_int(p, "eval.d2", d2 && d2->training);
    record_forward(p, "eval_forward", outer, x);
    tt_rng copy = rng;
    probe_int(p, "next_draw_after_eval", next_draw(&copy));
    tt_layer_set_training(outer, true);
    probe_int(p, "train.outer", outer && outer->training);
    probe_int(p, "train.inner", inner && inner->training);
    probe_int(p, "train.d1", d1 && d1->training);
    probe_int(p, "train.d2", d2 && d2->training);
    record_forward(p, "train_forward", outer, x);
    probe_int(p, "next_draw_after_train", next_draw(&rng));
    tt_layer_free(outer);
    tt_tensor_free(x);
}

static void case_sequential_empty_and_nested(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *y = NULL;
    tt_params ps;
    tt_params_init(&ps);
    probe_note(p, "an empty Sequential: length 0, no parameters, its forward is a copy of x "
                  "(a new tensor); then MLP(3 -> 4 -> 2) appended inside it: length 1, at(0) "
                  "is the MLP, at(1) is NULL, the parameters are the MLP's, the forward is "
                  "the MLP's");
    tt_layer *seq = sequential(p, "outer");
    probe_int(p, "empty.length", (long)tt_sequential_length(seq));
    probe_status(p, "empty.parameters_status", seq ? tt_layer_parameters(seq, &ps) : TT_ERR_STATE);
    probe_int(p, "empty.parameter_count", (long)ps.count);
    tt_status st = seq ? tt_layer_forward(seq, &y, x) : TT_ERR_STATE;
    probe_status(p, "empty.forward_status", st);
    probe_tensor(p, "empty.forward_out", y);
    probe_int(p, "empty.forward_out_is_not_x", y != x);
    tt_tensor_free(y);
    tt_layer *inner = mlp(p, "mlp", 3, 4, 2, &rng);
    append(p, "append_mlp", seq, inner);
    if (!seq)
        tt_layer_free(inner);
    probe_int(p, "nested.length", (long)tt_sequential_length(seq));
    probe_int(p, "nested.at_0_is_mlp", seq && inner && tt_sequential_at(seq, 0) == inner);
    probe_int(p, "nested.at_1_is_NULL", tt_sequential_at(seq, 1) == NULL);
    probe_status(p, "nested.parameters_status", seq ? tt_layer_parameters(seq, &ps) : TT_ERR_STATE);
    probe_int(p, "nested.parameter_count", (long)ps.count);
    probe_int(p, "nested.numel", (long)tt_params_numel(&ps));
    probe_tol_reduction(p, 3);
    record_forward(p, "nested_forward", seq, x);
    tt_params_release(&ps);
    tt_layer_free(seq);
    tt_tensor_free(x);
}

static void case_sequential_refusals(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_layer *relu = NULL, *seq = NULL, *lin = NULL;
    probe_tol_exact(p);

    probe_note(p, "tt_sequential_append(NULL, relu): TT_ERR_INVALID_ARG, and the ReLU layer "
                  "is freed (the container takes ownership even on failure)");
    size_t before = tt_alloc_live();
    tt_status st = tt_relu_layer_new(&relu);
    probe_status(p, "relu_new_status", st);
    probe_status(p, "append_to_NULL.status",
                 st == TT_OK ? tt_sequential_append(NULL, relu) : TT_ERR_STATE);
    probe_int(p, "append_to_NULL.layer_was_freed", tt_alloc_live() == before);

    probe_note(p, "tt_sequential_append(linear, relu): a Linear is not a container: "
                  "TT_ERR_INVALID_ARG and the ReLU layer is freed; append(linear, NULL): "
                  "TT_ERR_INVALID_ARG");
    lin = linear(p, "linear", 2, 2, true, &rng);
    before = tt_alloc_live();
    relu = NULL;
    st = tt_relu_layer_new(&relu);
    probe_status(p, "relu_new_status_2", st);
    probe_status(p, "append_to_linear.status",
                 st == TT_OK && lin ? tt_sequential_append(lin, relu) : TT_ERR_STATE);
    probe_int(p, "append_to_linear.layer_was_freed", tt_alloc_live() == before);
    probe_status(p, "append_NULL_to_linear.status",
                 lin ? tt_sequential_append(lin, NULL) : TT_ERR_STATE);
    tt_layer_free(lin);

    probe_note(p, "seq = Sequential(ReLU); append(seq, NULL): TT_ERR_INVALID_ARG; append(seq, "
                  "seq) and append(seq, its own ReLU): TT_ERR_INVALID_ARG *without* freeing "
                  "(both are still in use): seq keeps length 1 and works");
    seq = sequential(p, "seq");
    relu = NULL;
    st = tt_relu_layer_new(&relu);
    probe_status(p, "relu_new_status_3", st);
    append(p, "append_relu", seq, st == TT_OK ? relu : NULL);
    if (!seq && st == TT_OK)
        tt_layer_free(relu);
    probe_status(p, "append_NULL.status", seq ? tt_sequential_append(seq, NULL) : TT_ERR_STATE);
    before = tt_alloc_live();
    probe_status(p, "append_itself.status", seq ? tt_sequential_append(seq, seq) : TT_ERR_STATE);
    probe_int(p, "append_itself.nothing_freed", tt_alloc_live() == before);
    tt_layer *first = tt_sequential_at(seq, 0);
    probe_status(p, "append_twice.status",
                 seq && first ? tt_sequential_append(seq, first) : TT_ERR_STATE);
    probe_int(p, "append_twice.nothing_freed", tt_alloc_live() == before);
    probe_int(p, "length_after_refusals", (long)tt_sequential_length(seq));
    probe_int(p, "at_0_unchanged", first != NULL && tt_sequential_at(seq, 0) == first);
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(4));
    probe_tol_elementwise(p);
    record_forward(p, "forward_after_refusals", seq, x);
    tt_tensor_free(x);
    tt_layer_free(seq);
}

static void case_sequential_forward_error(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *y = &not_a_tensor;
    probe_note(p, "Sequential(Linear(4, 6), Linear(5, 2)): the second layer refuses the "
                  "first's [3,6]: the forward returns that TT_ERR_SHAPE, out set to NULL, and "
                  "the intermediate [3,6] result is freed (no leak)");
    tt_layer *seq = sequential(p, "seq");
    tt_layer *a = linear(p, "a", 4, 6, true, &rng), *b = linear(p, "b", 5, 2, true, &rng);
    append(p, "append_a", seq, a);
    append(p, "append_b", seq, b);
    if (!seq) {
        tt_layer_free(a);
        tt_layer_free(b);
    }
    probe_status(p, "forward_status", seq ? tt_layer_forward(seq, &y, x) : TT_ERR_STATE);
    probe_int(p, "out_is_NULL", y == NULL);
    free_tensor(y);
    tt_layer_free(seq);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ memory */

typedef struct linear_args {
    tt_rng rng;
    bool bias;
} linear_args;

static tt_status attempt_linear(void **out, void *ctx)
{
    linear_args *a = ctx;
    tt_rng rng = a->rng; /* the same draws on every attempt */
    tt_layer *l = *out;
    tt_status st = tt_linear_new(&l, 4, 3, a->bias, &rng);
    *out = l;
    return st;
}

static tt_status attempt_dropout(void **out, void *ctx)
{
    tt_layer *l = *out;
    tt_status st = tt_dropout_new(&l, 0.25f, ctx);
    *out = l;
    return st;
}

static tt_status attempt_sequential(void **out, void *ctx)
{
    (void)ctx;
    tt_layer *l = *out;
    tt_status st = tt_sequential_new(&l);
    *out = l;
    return st;
}

static tt_status attempt_relu(void **out, void *ctx)
{
    (void)ctx;
    tt_layer *l = *out;
    tt_status st = tt_relu_layer_new(&l);
    *out = l;
    return st;
}

static void release_layer(void *l)
{
    tt_layer_free(l);
}

static void release_tensor(void *t)
{
    tt_tensor_free(t);
}

typedef struct forward_args {
    tt_layer *layer;
    tt_tensor *x;
    tt_rng *rng; /* reset before each attempt when set (a Dropout's stream) */
    tt_rng start;
} forward_args;

static tt_status attempt_forward(void **out, void *ctx)
{
    forward_args *a = ctx;
    if (a->rng)
        *a->rng = a->start;
    if (!a->layer)
        return TT_ERR_STATE;
    tt_tensor *y = *out;
    tt_status st = tt_layer_forward(a->layer, &y, a->x);
    *out = y;
    return st;
}

static void case_constructor_failures(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    linear_args with = {rng, true}, without = {rng, false};
    probe_note(p, "each constructor with allocation number 0, 1, 2, ... made to fail in turn: "
                  "TT_ERR_NOMEM, *out set to NULL, nothing leaked (a half-built Linear frees "
                  "its weight); with no failure injected it succeeds");
    record_allocation_failures(p, "tt_linear_new.bias", attempt_linear, release_layer, &with);
    record_allocation_failures(p, "tt_linear_new.no_bias", attempt_linear, release_layer,
                               &without);
    record_allocation_failures(p, "tt_dropout_new", attempt_dropout, release_layer, &rng);
    record_allocation_failures(p, "tt_sequential_new", attempt_sequential, release_layer, NULL);
    record_allocation_failures(p, "tt_relu_layer_new", attempt_relu, release_layer, NULL);
}

static void case_forward_failures(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    probe_note(p, "forward of Linear(3, 2), of Dropout(0.5) in training, and of "
                  "Sequential(Linear(3, 4), ReLU, Linear(4, 2)) on x: [2,3] requiring grad, "
                  "with each allocation made to fail in turn: TT_ERR_NOMEM, out NULL, "
                  "nothing leaked (Sequential frees its intermediate results)");
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    tt_layer *lin = linear(p, "linear", 3, 2, true, &rng);
    tt_layer *d = dropout(p, "dropout", 0.5f, &rng);
    tt_layer *seq = mlp(p, "mlp", 3, 4, 2, &rng);
    forward_args fl = {lin, x, NULL, rng}, fd = {d, x, &rng, rng}, fs = {seq, x, NULL, rng};
    record_allocation_failures(p, "linear_forward", attempt_forward, release_tensor, &fl);
    record_allocation_failures(p, "dropout_forward", attempt_forward, release_tensor, &fd);
    record_allocation_failures(p, "sequential_forward", attempt_forward, release_tensor, &fs);
    tt_layer_free(seq);
    tt_layer_free(d);
    tt_layer_free(lin);
    tt_tensor_free(x);
}

static void case_append_out_of_memory(tito_probe *p)
{
    probe_note(p, "appending 6 ReLU layers to a Sequential with the first allocation of the "
                  "1st and the 6th append made to fail (where the reference's array must "
                  "grow: capacity 0 -> 4 -> 8): an append whose allocation fails returns "
                  "TT_ERR_NOMEM and frees the new layer, the others succeed and keep theirs; "
                  "at least 4 of the 6 end up in the container");
    tt_layer *seq = sequential(p, "seq");
    for (int round = 0; round < 6; round++) {
        char label[64];
        tt_layer *relu = NULL;
        tt_status made = tt_relu_layer_new(&relu);
        size_t before = tt_alloc_live();
        bool inject = round == 0 || round == 5;
        if (inject)
            tt_alloc_fail_after(0);
        tt_status st = seq && made == TT_OK ? tt_sequential_append(seq, relu) : TT_ERR_STATE;
        tt_alloc_fail_after(-1);
        if (!seq && made == TT_OK)
            tt_layer_free(relu);
        snprintf(label, sizeof label, "append_%d.status_is_OK_or_NOMEM", round + 1);
        probe_int(p, label, st == TT_OK || st == TT_ERR_NOMEM);
        snprintf(label, sizeof label, "append_%d.clean", round + 1);
        /* A success keeps the layer (live count unchanged or grown by the array);
         * a failure frees it: live drops by the layer's one block at least. */
        probe_int(p, label, st == TT_OK ? tt_alloc_live() >= before : tt_alloc_live() < before);
    }
    probe_int(p, "length_at_least_4", tt_sequential_length(seq) >= 4);
    tt_layer_free(seq);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"params.push_and_numel", "parameters", 2, case_params_push},
    {"params.errors", "parameters", 1, case_params_errors},
    {"linear.init_exact", "init", 2, case_linear_init_exact},
    {"linear.init_no_bias", "init", 1, case_linear_init_no_bias},
    {"linear.init_statistics", "init", 2, case_linear_init_statistics},
    {"linear.parameters", "parameters", 2, case_linear_parameters},
    {"linear.forward_2d", "linear", 2, case_linear_forward_2d},
    {"linear.forward_no_bias", "linear", 1, case_linear_forward_no_bias},
    {"linear.forward_3d", "linear", 1, case_linear_forward_3d},
    {"linear.backward", "linear", 2, case_linear_backward},
    {"linear.shape_errors", "errors", 2, case_linear_shape_errors},
    {"linear.new_errors", "errors", 1, case_linear_new_errors},
    {"dropout.mask_exact", "dropout", 2, case_dropout_mask},
    {"dropout.consecutive_calls", "dropout", 2, case_dropout_consecutive},
    {"dropout.eval_identity", "dropout", 2, case_dropout_eval},
    {"dropout.p_zero", "dropout", 1, case_dropout_p_zero},
    {"dropout.new_errors", "errors", 1, case_dropout_new_errors},
    {"dropout.backward", "dropout", 1, case_dropout_backward},
    {"activation_layers.forward", "activation_layers", 2, case_activation_layers},
    {"activation_layers.describe", "activation_layers", 1, case_activation_layers_describe},
    {"sequential.forward", "sequential", 2, case_sequential_forward},
    {"sequential.parameters_order", "parameters", 2, case_sequential_parameters},
    {"sequential.training_propagates", "sequential", 2, case_sequential_training},
    {"sequential.empty_and_nested", "sequential", 2, case_sequential_empty_and_nested},
    {"sequential.append_refusals", "ownership", 2, case_sequential_refusals},
    {"sequential.forward_error", "errors", 1, case_sequential_forward_error},
    {"memory.constructor_failures", "memory", 2, case_constructor_failures},
    {"memory.forward_failures", "memory", 2, case_forward_failures},
    {"memory.append_out_of_memory", "ownership", 1, case_append_out_of_memory},
};

TITO_PROBE_MAIN(cases)
