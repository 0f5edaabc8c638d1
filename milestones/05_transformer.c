/*
 * tt-milestone-05: milestone 5, 2017, attention is all you need: a small GPT.
 *
 * Two models, each a tt_gpt of module 13 trained with Adam on the mean cross-entropy
 * over every position (tt_gpt_loss):
 *
 *   reverse  sequences of 6 digits 1..8, a separator 9, then the same digits reversed
 *            (13 tokens, trained on the 12 next-token predictions). Measured on 200
 *            held-out sequences (none of them in the training set): the model is given
 *            the 6 digits and the separator and generates 6 tokens greedily; a sequence
 *            counts only when all 6 are right (test_accuracy: exact sequences).
 *   text     a character-level model of the Book of Ecclesiastes (King James Version,
 *            milestones/data/ecclesiastes.txt, public domain): the first 90% of the
 *            text trains, the last 10% validates (test_loss: the mean cross-entropy per
 *            character over the validation windows, in nats). A sample generated from
 *            the prompt "Vanity" is printed at the end. Its accuracies are those of the
 *            next character (on the validation text, and on the first eighth of the
 *            training text).
 *
 * Bars (milestones.def): reverse_test_accuracy >= 0.95 (the reference reaches 100%),
 * text_test_loss <= 2.3 nats (the reference ends near 1.85; a model that learned only
 * the character frequencies stays near 3.0). The weight-change metrics are reported
 * but are no bar here: LayerNorm's gamma starts at 1 and moves little, relative to
 * itself, in a healthy run. An "epoch" is REV_STEPS_PER_EPOCH (reversal) or
 * TEXT_STEPS_PER_EPOCH (text) optimizer steps on batches drawn at random. Modules
 * 01-13.
 */
#include "common/milestone.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tinytorch/autograd.h"
#include "tinytorch/datasets.h"
#include "tinytorch/tokenization.h"
#include "tinytorch/transformers.h"

/* Optimizer steps per epoch: the reversal is learned in about 80 steps, the text
 * needs several hundred. */
#define REV_STEPS_PER_EPOCH 8
#define TEXT_STEPS_PER_EPOCH 25

/* ---------------------------------------------------------------- reversal */

#define REV_DIGITS 6
#define REV_SEP 9
#define REV_VOCAB 10
#define REV_LEN (2 * REV_DIGITS + 1)
#define REV_TRAIN 2000
#define REV_TEST 200
#define REV_BATCH 32

/* ------------------------------------------------------------------- text */

#define TEXT_FILE "ecclesiastes.txt"
#define TEXT_CONTEXT 32
#define TEXT_BATCH 16
#define TEXT_SAMPLE 240

static double now_seconds(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The smallest ||after - before|| / ||before|| over the parameter tensors. */
static double min_change(const tt_params *params, const float *before, const float *after)
{
    double least = INFINITY;
    size_t at = 0;
    for (size_t i = 0; i < params->count; i++) {
        size_t k = tt_tensor_numel(params->items[i]);
        double d = 0, b = 0;
        for (size_t j = at; j < at + k; j++) {
            double diff = (double)after[j] - (double)before[j];
            d += diff * diff;
            b += (double)before[j] * (double)before[j];
        }
        /* A tensor that starts at zero (a bias, LayerNorm's beta) moves from nothing:
         * its change is measured against 1. */
        double rel = sqrt(d) / (b > 0 ? sqrt(b) : 1.0);
        if (rel < least)
            least = rel;
        at += k;
    }
    return params->count ? least : 0.0;
}

/* One model's training state. */
typedef struct lm_run {
    tt_layer *gpt;
    tt_optimizer *opt;
    tt_params params;
    float *before;
} lm_run;

static tt_status lm_open(lm_run *lm, const tt_gpt_config *cfg, float lr, uint64_t seed)
{
    tt_status st = TT_OK;
    tt_rng rng;
    tt_rng_init(&rng, seed);
    memset(lm, 0, sizeof *lm);
    tt_params_init(&lm->params);
    TT_CHECK(tt_gpt_new(&lm->gpt, cfg, &rng));
    TT_CHECK(tt_layer_parameters(lm->gpt, &lm->params));
    TT_CHECK(ms_params_snapshot(&lm->before, &lm->params));
    if (lr > 0) { /* else a model to evaluate (lm_load), never trained */
        tt_optimizer_options oo = TT_OPTIMIZER_OPTIONS_INIT;
        oo.lr = lr;
        TT_CHECK(tt_optimizer_new(&lm->opt, TT_OPTIM_ADAM, &lm->params, &oo));
    }
cleanup:
    return st;
}

static void lm_close(lm_run *lm)
{
    tt_optimizer_free(lm->opt);
    tt_params_release(&lm->params);
    tt_layer_free(lm->gpt);
    free(lm->before);
    memset(lm, 0, sizeof *lm);
}

/* One step on (x, y) [B, T]: zero, loss, backward, Adam. *loss gets the batch loss. */
static tt_status lm_step(lm_run *lm, tt_tensor *x, tt_tensor *y, double *loss)
{
    tt_status st = TT_OK;
    tt_tensor *l = NULL;
    float v = 0;
    tt_optimizer_zero_grad(lm->opt);
    TT_CHECK(tt_gpt_loss(lm->gpt, &l, NULL, x, y));
    TT_CHECK(tt_backward(l));
    TT_CHECK(tt_tensor_item(l, &v));
    TT_CHECK(tt_optimizer_step(lm->opt));
    *loss = v;
cleanup:
    tt_tensor_free(l);
    return st;
}

/* The weight change, and the values before and after training kept in r for --params. */
static tt_status lm_finish(lm_run *lm, ms_result *r)
{
    float *after = NULL;
    tt_status st = ms_params_snapshot(&after, &lm->params);
    if (st != TT_OK)
        return st;
    r->min_weight_change = min_change(&lm->params, lm->before, after);
    r->parameters = r->n_values = tt_params_numel(&lm->params);
    r->initial = lm->before;
    r->final = after;
    lm->before = NULL;
    return TT_OK;
}

/* A model of cfg holding saved's final values (--evaluate), its weight change measured
 * as lm_finish measures a trained one, from saved's initial values and from the seed's
 * (ms_least_change). */
static tt_status lm_load(lm_run *lm, const tt_gpt_config *cfg, uint64_t seed,
                         const ms_saved *saved, ms_result *r)
{
    tt_status st = lm_open(lm, cfg, 0.0f, seed);
    if (st == TT_OK)
        st = ms_params_load(&lm->params, saved->final, saved->count);
    if (st != TT_OK)
        return st;
    r->min_weight_change =
        ms_least_change(min_change(&lm->params, saved->initial, saved->final),
                        min_change(&lm->params, lm->before, saved->final));
    r->parameters = saved->count;
    return TT_OK;
}

/* An epoch line (about ten per model); val_loss is NaN for a model without one. */
static void progress(const char *label, long epoch, long epochs, const ms_epoch *e,
                     double val_loss, bool show)
{
    if (!show)
        return;
    long stride = (epochs + 9) / 10;
    if (epoch != 1 && epoch != epochs && epoch % stride != 0)
        return;
    /* As milestone.c prints its epoch lines: the number as wide as the last one. */
    int width = snprintf(NULL, 0, "%ld", epochs);
    printf("  %-8s epoch %*ld/%ld  loss %.4f  train %5.1f%%  test %5.1f%%", label, width, epoch,
           epochs, e->loss, 100 * e->train_accuracy, 100 * e->test_accuracy);
    if (val_loss == val_loss)
        printf("  validation loss %.4f", val_loss);
    printf("  %7.2fs\n", e->seconds);
    fflush(stdout);
}

/* ------------------------------------------------------------- reversal data */

static void make_sequence(float *seq, tt_rng *rng)
{
    for (int i = 0; i < REV_DIGITS; i++) {
        seq[i] = (float)(1 + tt_rng_below(rng, 8));
        seq[REV_LEN - 1 - i] = seq[i];
    }
    seq[REV_DIGITS] = REV_SEP;
}

/* data->train_x: REV_TRAIN sequences [N, 13]; test_x: REV_TEST other ones; the y
 * tensors hold the same (the targets are the sequences shifted by one). */
static tt_status make_reversal(ms_data *data, const ms_options *options)
{
    tt_status st = TT_OK;
    tt_rng rng;
    tt_rng_init(&rng, 2017); /* the data do not move with --seed */
    float *train = malloc(REV_TRAIN * REV_LEN * sizeof *train);
    float *test = malloc(REV_TEST * REV_LEN * sizeof *test);
    if (!train || !test) {
        st = tt_error_set(TT_ERR_NOMEM, "milestone 5: no memory for the sequences");
        goto cleanup;
    }
    for (size_t i = 0; i < REV_TRAIN; i++)
        make_sequence(train + i * REV_LEN, &rng);
    for (size_t i = 0; i < REV_TEST;) {
        float *s = test + i * REV_LEN;
        make_sequence(s, &rng);
        bool seen = false;
        for (size_t j = 0; j < REV_TRAIN && !seen; j++)
            seen = memcmp(train + j * REV_LEN, s, REV_LEN * sizeof *s) == 0;
        i += !seen;
    }
    TT_CHECK(tt_tensor_from_data(&data->train_x, 2, TT_SHAPE(REV_TRAIN, REV_LEN), train));
    TT_CHECK(tt_tensor_from_data(&data->train_y, 2, TT_SHAPE(REV_TRAIN, REV_LEN), train));
    TT_CHECK(tt_tensor_from_data(&data->test_x, 2, TT_SHAPE(REV_TEST, REV_LEN), test));
    TT_CHECK(tt_tensor_from_data(&data->test_y, 2, TT_SHAPE(REV_TEST, REV_LEN), test));
    snprintf(data->description, sizeof data->description,
             "%d training and %d held-out sequences of 6 digits to reverse; the text "
             "milestones/data/" TEXT_FILE " from %s",
             REV_TRAIN, REV_TEST, tt_data_dir(options->data_dir));

cleanup:
    free(train);
    free(test);
    if (st != TT_OK)
        ms_data_release(data);
    return st;
}

/* x = rows[:, 0:12], y = rows[:, 1:13] of `batch` random training sequences. */
static tt_status reversal_batch(tt_tensor **x, tt_tensor **y, const float *train, tt_rng *rng)
{
    float xs[REV_BATCH * (REV_LEN - 1)], ys[REV_BATCH * (REV_LEN - 1)];
    for (size_t b = 0; b < REV_BATCH; b++) {
        const float *s = train + (size_t)tt_rng_below(rng, REV_TRAIN) * REV_LEN;
        memcpy(xs + b * (REV_LEN - 1), s, (REV_LEN - 1) * sizeof *s);
        memcpy(ys + b * (REV_LEN - 1), s + 1, (REV_LEN - 1) * sizeof *s);
    }
    tt_status st = tt_tensor_from_data(x, 2, TT_SHAPE(REV_BATCH, REV_LEN - 1), xs);
    if (st == TT_OK)
        st = tt_tensor_from_data(y, 2, TT_SHAPE(REV_BATCH, REV_LEN - 1), ys);
    if (st != TT_OK) {
        tt_tensor_free(*x);
        *x = NULL;
    }
    return st;
}

static const tt_gpt_config rev_config = {.vocab_size = REV_VOCAB, .context_len = REV_LEN - 1,
                                         .d_model = 32, .n_heads = 2, .n_layers = 2,
                                         .d_hidden = 64};

/* The fraction of the n sequences of `seqs` whose reversed half the model generates
 * exactly (greedy) from the first half and the separator. */
static tt_status exact_sequences(double *accuracy, tt_layer *gpt, const float *seqs, size_t n)
{
    tt_status st = TT_OK;
    tt_tensor *prompt = NULL, *out = NULL;
    float *buf = malloc(n * (REV_DIGITS + 1) * sizeof *buf);
    float *got = malloc(n * REV_LEN * sizeof *got);
    size_t right = 0;
    if (!buf || !got) {
        st = tt_error_set(TT_ERR_NOMEM, "milestone 5: no memory for the evaluation");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * (REV_DIGITS + 1), seqs + i * REV_LEN, (REV_DIGITS + 1) * sizeof *buf);
    TT_CHECK(tt_tensor_from_data(&prompt, 2, TT_SHAPE(n, REV_DIGITS + 1), buf));
    TT_CHECK(tt_gpt_generate(gpt, &out, prompt, REV_DIGITS, 0.0f, NULL));
    TT_CHECK(tt_tensor_to_array(out, got, n * REV_LEN));
    for (size_t i = 0; i < n; i++)
        right += memcmp(got + i * REV_LEN, seqs + i * REV_LEN, REV_LEN * sizeof *got) == 0;
    *accuracy = (double)right / (double)n;
cleanup:
    tt_tensor_free(out);
    tt_tensor_free(prompt);
    free(got);
    free(buf);
    return st;
}

/* The final figures: exact sequences on every held-out and training sequence. */
static tt_status reversal_final(ms_result *r, tt_layer *gpt, const float *train,
                                const float *test)
{
    tt_status st = TT_OK;
    r->n_train = REV_TRAIN;
    r->n_test = REV_TEST;
    TT_CHECK(exact_sequences(&r->test_accuracy, gpt, test, REV_TEST));
    TT_CHECK(exact_sequences(&r->train_accuracy, gpt, train, REV_TRAIN));
    r->test_correct = (size_t)(r->test_accuracy * REV_TEST + 0.5);
    r->train_correct = (size_t)(r->train_accuracy * REV_TRAIN + 0.5);
    r->test_loss = NAN;
    r->train_loss = NAN;
cleanup:
    return st;
}

static tt_status train_reversal(ms_result *r, const ms_spec *milestone, size_t run,
                                const ms_data *data, const ms_options *options,
                                ms_epoch *history, bool show)
{
    (void)milestone;
    (void)run;
    tt_status st = TT_OK;
    lm_run lm;
    tt_tensor *x = NULL, *y = NULL;
    float *train = malloc(REV_TRAIN * REV_LEN * sizeof *train);
    float *test = malloc(REV_TEST * REV_LEN * sizeof *test);
    tt_rng rng;
    tt_rng_init(&rng, options->seed + 1);
    memset(&lm, 0, sizeof lm);
    if (!train || !test) {
        st = tt_error_set(TT_ERR_NOMEM, "milestone 5: no memory for the sequences");
        goto cleanup;
    }
    TT_CHECK(tt_tensor_to_array(data->train_x, train, REV_TRAIN * REV_LEN));
    TT_CHECK(tt_tensor_to_array(data->test_x, test, REV_TEST * REV_LEN));
    TT_CHECK(lm_open(&lm, &rev_config, 0.005f, options->seed));
    double start = now_seconds();
    for (long epoch = 1; epoch <= options->epochs; epoch++) {
        double total = 0, began = now_seconds();
        for (int s = 0; s < REV_STEPS_PER_EPOCH; s++) {
            double loss = 0;
            TT_CHECK(reversal_batch(&x, &y, train, &rng));
            TT_CHECK(lm_step(&lm, x, y, &loss));
            tt_tensor_free(x);
            tt_tensor_free(y);
            x = y = NULL;
            total += loss;
        }
        r->train_seconds += now_seconds() - began;
        r->epochs = epoch;
        r->final_loss = total / REV_STEPS_PER_EPOCH;
        if (!(show || history))
            continue;
        ms_epoch e = {r->final_loss, NAN, NAN, 0};
        TT_CHECK(exact_sequences(&e.test_accuracy, lm.gpt, test, REV_TEST));
        TT_CHECK(exact_sequences(&e.train_accuracy, lm.gpt, train, REV_TEST));
        e.seconds = now_seconds() - start;
        if (history)
            history[epoch - 1] = e;
        if (!(e.test_accuracy <= r->best_test_accuracy))
            r->best_test_accuracy = e.test_accuracy;
        progress("reverse", epoch, options->epochs, &e, NAN, show);
    }
    TT_CHECK(reversal_final(r, lm.gpt, train, test));
    r->seconds = now_seconds() - start;
    double tokens = (double)r->epochs * REV_STEPS_PER_EPOCH * REV_BATCH * (REV_LEN - 1);
    r->samples_per_second = r->train_seconds > 0 ? tokens / r->train_seconds : 0.0;
    TT_CHECK(lm_finish(&lm, r));
cleanup:
    tt_tensor_free(x);
    tt_tensor_free(y);
    lm_close(&lm);
    free(train);
    free(test);
    return st;
}

static tt_status evaluate_reversal(ms_result *r, const ms_spec *milestone, size_t run,
                                   const ms_data *data, const ms_options *options,
                                   const ms_saved *saved)
{
    (void)milestone;
    (void)run;
    tt_status st = TT_OK;
    lm_run lm;
    memset(&lm, 0, sizeof lm);
    float *train = malloc(REV_TRAIN * REV_LEN * sizeof *train);
    float *test = malloc(REV_TEST * REV_LEN * sizeof *test);
    if (!train || !test) {
        st = tt_error_set(TT_ERR_NOMEM, "milestone 5: no memory for the sequences");
        goto cleanup;
    }
    TT_CHECK(tt_tensor_to_array(data->train_x, train, REV_TRAIN * REV_LEN));
    TT_CHECK(tt_tensor_to_array(data->test_x, test, REV_TEST * REV_LEN));
    TT_CHECK(lm_load(&lm, &rev_config, options->seed, saved, r));
    TT_CHECK(reversal_final(r, lm.gpt, train, test));
cleanup:
    lm_close(&lm);
    free(train);
    free(test);
    return st;
}

/* ------------------------------------------------------------------- text */

/* The text of milestones/data, malloc'ed. */
static tt_status read_text(char **text, size_t *len, const ms_options *options)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", tt_data_dir(options->data_dir), TEXT_FILE);
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_error_set(TT_ERR_IO, "cannot open %s (set TT_DATA_DIR or pass --data)", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf)
        return tt_error_set(TT_ERR_NOMEM, "milestone 5: no memory for %s", path);
    if (bad || n < 4 * TEXT_CONTEXT) {
        free(buf);
        return tt_error_set(TT_ERR_FORMAT, "%s: unreadable or too short", path);
    }
    *text = buf;
    *len = n;
    return TT_OK;
}

/* Windows of the ids starting at `starts` as x [n, T] and y [n, T] (shifted by one). */
static tt_status text_windows(tt_tensor **x, tt_tensor **y, const int32_t *ids,
                              const size_t *starts, size_t n)
{
    float xs[TEXT_BATCH * TEXT_CONTEXT], ys[TEXT_BATCH * TEXT_CONTEXT];
    for (size_t b = 0; b < n; b++)
        for (size_t t = 0; t < TEXT_CONTEXT; t++) {
            xs[b * TEXT_CONTEXT + t] = (float)ids[starts[b] + t];
            ys[b * TEXT_CONTEXT + t] = (float)ids[starts[b] + t + 1];
        }
    tt_status st = tt_tensor_from_data(x, 2, TT_SHAPE(n, TEXT_CONTEXT), xs);
    if (st == TT_OK)
        st = tt_tensor_from_data(y, 2, TT_SHAPE(n, TEXT_CONTEXT), ys);
    if (st != TT_OK) {
        tt_tensor_free(*x);
        *x = NULL;
    }
    return st;
}

/* The mean loss per character over consecutive windows of ids[from, to), and the
 * fraction of characters whose first maximal logit is the right next character. */
static tt_status text_eval(double *out_loss, double *out_acc, tt_layer *gpt, const int32_t *ids,
                           size_t from, size_t to)
{
    tt_status st = TT_OK;
    tt_tensor *x = NULL, *y = NULL, *loss = NULL, *logits = NULL, *best = NULL;
    bool was = tt_grad_set_enabled(false);
    double total = 0;
    size_t windows = 0, right = 0;
    size_t starts[TEXT_BATCH];
    float got[TEXT_BATCH * TEXT_CONTEXT], want[TEXT_BATCH * TEXT_CONTEXT];
    size_t n = 0;
    for (size_t s = from; s + TEXT_CONTEXT + 1 <= to; s += TEXT_CONTEXT) {
        starts[n++] = s;
        if (n < TEXT_BATCH && s + 2 * TEXT_CONTEXT + 1 <= to)
            continue;
        float v = 0;
        TT_CHECK(text_windows(&x, &y, ids, starts, n));
        TT_CHECK(tt_gpt_loss(gpt, &loss, &logits, x, y));
        TT_CHECK(tt_tensor_item(loss, &v));
        TT_CHECK(tt_tensor_argmax(&best, logits, 2, false));
        TT_CHECK(tt_tensor_to_array(best, got, n * TEXT_CONTEXT));
        TT_CHECK(tt_tensor_to_array(y, want, n * TEXT_CONTEXT));
        for (size_t i = 0; i < n * TEXT_CONTEXT; i++)
            right += got[i] == want[i];
        total += (double)v * (double)n;
        windows += n;
        n = 0;
        tt_tensor_free(best);
        tt_tensor_free(logits);
        tt_tensor_free(loss);
        tt_tensor_free(x);
        tt_tensor_free(y);
        best = logits = loss = x = y = NULL;
    }
    *out_loss = windows ? total / (double)windows : NAN;
    *out_acc = windows ? (double)right / (double)(windows * TEXT_CONTEXT) : NAN;
cleanup:
    tt_grad_set_enabled(was);
    tt_tensor_free(best);
    tt_tensor_free(logits);
    tt_tensor_free(loss);
    tt_tensor_free(x);
    tt_tensor_free(y);
    return st;
}

static tt_status print_sample(tt_layer *gpt, const tt_char_tokenizer *tok, uint64_t seed)
{
    tt_status st = TT_OK;
    tt_tensor *prompt = NULL, *out = NULL;
    int32_t *ids = NULL;
    float *vals = NULL;
    char *text = NULL;
    size_t count = 0, len = 0;
    tt_rng rng;
    tt_rng_init(&rng, seed + 2);
    const char *start = "Vanity";
    float p[6];
    for (size_t i = 0; i < 6; i++)
        p[i] = (float)tt_char_tokenizer_id(tok, (unsigned char)start[i]);
    TT_CHECK(tt_tensor_from_data(&prompt, 1, TT_SHAPE(6), p));
    TT_CHECK(tt_gpt_generate(gpt, &out, prompt, TEXT_SAMPLE, 0.8f, &rng));
    count = tt_tensor_numel(out);
    vals = malloc(count * sizeof *vals);
    ids = tt_malloc(count * sizeof *ids);
    if (!vals || !ids) {
        st = tt_error_set(TT_ERR_NOMEM, "milestone 5: no memory for the sample");
        goto cleanup;
    }
    TT_CHECK(tt_tensor_to_array(out, vals, count));
    for (size_t i = 0; i < count; i++)
        ids[i] = (int32_t)vals[i];
    TT_CHECK(tt_char_tokenizer_decode(&text, &len, tok, ids, count));
    printf("\n  sample (temperature 0.8, from \"Vanity\"):\n\n    ");
    for (size_t i = 0; i < len; i++) {
        putchar(text[i]);
        if (text[i] == '\n')
            fputs("    ", stdout);
    }
    putchar('\n');
cleanup:
    tt_free(text);
    tt_free(ids);
    free(vals);
    tt_tensor_free(out);
    tt_tensor_free(prompt);
    return st;
}

/* The text as ids, split 90/10, and the model's configuration for its alphabet. */
typedef struct text_corpus {
    char *text;
    int32_t *ids;
    size_t count, split;
    tt_char_tokenizer *tok;
    tt_gpt_config cfg;
} text_corpus;

static void text_corpus_release(text_corpus *c)
{
    tt_free(c->ids);
    tt_char_tokenizer_free(c->tok);
    free(c->text);
    memset(c, 0, sizeof *c);
}

static tt_status text_corpus_open(text_corpus *c, ms_result *r, const ms_options *options)
{
    tt_status st = TT_OK;
    size_t len = 0;
    memset(c, 0, sizeof *c);
    TT_CHECK(read_text(&c->text, &len, options));
    TT_CHECK(tt_char_tokenizer_new(&c->tok, c->text, len));
    TT_CHECK(tt_char_tokenizer_encode(&c->ids, &c->count, c->tok, c->text, len));
    c->cfg = (tt_gpt_config){.vocab_size = tt_char_tokenizer_vocab_size(c->tok),
                             .context_len = TEXT_CONTEXT, .d_model = 48, .n_heads = 4,
                             .n_layers = 2, .d_hidden = 192};
    c->split = c->count * 9 / 10;
    r->n_train = c->split;
    r->n_test = c->count - c->split;
cleanup:
    if (st != TT_OK)
        text_corpus_release(c);
    return st;
}

/* The characters the accuracies count as right. */
static void text_counts(ms_result *r, const text_corpus *c)
{
    r->test_correct = (size_t)(r->test_accuracy * (double)r->n_test + 0.5);
    r->train_correct = (size_t)(r->train_accuracy * (double)(c->split / 8) + 0.5);
}

/* The final figures: the loss and next-character accuracy on the validation text and
 * on the first eighth of the training text. */
static tt_status text_final(ms_result *r, tt_layer *gpt, const text_corpus *c)
{
    tt_status st = TT_OK;
    TT_CHECK(text_eval(&r->test_loss, &r->test_accuracy, gpt, c->ids, c->split, c->count));
    TT_CHECK(text_eval(&r->train_loss, &r->train_accuracy, gpt, c->ids, 0, c->split / 8));
    text_counts(r, c);
cleanup:
    return st;
}

static tt_status train_text(ms_result *r, const ms_spec *milestone, size_t run,
                            const ms_data *data, const ms_options *options, ms_epoch *history,
                            bool show)
{
    (void)milestone;
    (void)run;
    (void)data;
    tt_status st = TT_OK;
    text_corpus corpus = {0};
    tt_tensor *x = NULL, *y = NULL;
    lm_run lm;
    memset(&lm, 0, sizeof lm);
    tt_rng rng;
    tt_rng_init(&rng, options->seed + 1);
    TT_CHECK(text_corpus_open(&corpus, r, options));
    TT_CHECK(lm_open(&lm, &corpus.cfg, 0.003f, options->seed));
    const int32_t *ids = corpus.ids;
    size_t split = corpus.split, count = corpus.count;
    long evaluated = 0; /* the epoch after which the model was last evaluated */
    double start = now_seconds();
    for (long epoch = 1; epoch <= options->epochs; epoch++) {
        double total = 0, began = now_seconds();
        for (int s = 0; s < TEXT_STEPS_PER_EPOCH; s++) {
            size_t starts[TEXT_BATCH];
            for (size_t b = 0; b < TEXT_BATCH; b++)
                starts[b] = tt_rng_below(&rng, (uint32_t)(split - TEXT_CONTEXT - 1));
            double loss = 0;
            TT_CHECK(text_windows(&x, &y, ids, starts, TEXT_BATCH));
            TT_CHECK(lm_step(&lm, x, y, &loss));
            tt_tensor_free(x);
            tt_tensor_free(y);
            x = y = NULL;
            total += loss;
        }
        r->train_seconds += now_seconds() - began;
        r->epochs = epoch;
        r->final_loss = total / TEXT_STEPS_PER_EPOCH;
        if (!(show || history))
            continue;
        /* Accuracy: of the next character, on the first eighth of the training text
         * and on the validation text. */
        ms_epoch e = {r->final_loss, NAN, NAN, 0};
        double val_loss = 0, train_loss = 0;
        TT_CHECK(text_eval(&val_loss, &e.test_accuracy, lm.gpt, ids, split, count));
        TT_CHECK(text_eval(&train_loss, &e.train_accuracy, lm.gpt, ids, 0, split / 8));
        r->test_loss = val_loss;
        r->test_accuracy = e.test_accuracy;
        r->train_loss = train_loss;
        r->train_accuracy = e.train_accuracy;
        evaluated = epoch;
        e.seconds = now_seconds() - start;
        if (history)
            history[epoch - 1] = e;
        if (!(e.test_accuracy <= r->best_test_accuracy))
            r->best_test_accuracy = e.test_accuracy;
        progress("text", epoch, options->epochs, &e, val_loss, show);
    }
    /* The last epoch's evaluation is the final one when there was one (the model has
     * not changed since). */
    if (evaluated != r->epochs)
        TT_CHECK(text_final(r, lm.gpt, &corpus));
    else
        text_counts(r, &corpus);
    r->seconds = now_seconds() - start;
    double tokens = (double)r->epochs * TEXT_STEPS_PER_EPOCH * TEXT_BATCH * TEXT_CONTEXT;
    r->samples_per_second = r->train_seconds > 0 ? tokens / r->train_seconds : 0.0;
    TT_CHECK(lm_finish(&lm, r));
    if (show)
        TT_CHECK(print_sample(lm.gpt, corpus.tok, options->seed));
cleanup:
    tt_tensor_free(x);
    tt_tensor_free(y);
    lm_close(&lm);
    text_corpus_release(&corpus);
    return st;
}

static tt_status evaluate_text(ms_result *r, const ms_spec *milestone, size_t run,
                               const ms_data *data, const ms_options *options,
                               const ms_saved *saved)
{
    (void)milestone;
    (void)run;
    (void)data;
    tt_status st = TT_OK;
    text_corpus corpus = {0};
    lm_run lm;
    memset(&lm, 0, sizeof lm);
    TT_CHECK(text_corpus_open(&corpus, r, options));
    TT_CHECK(lm_load(&lm, &corpus.cfg, options->seed, saved, r));
    TT_CHECK(text_final(r, lm.gpt, &corpus));
cleanup:
    lm_close(&lm);
    text_corpus_release(&corpus);
    return st;
}

static const ms_run_spec runs[] = {
    {
        .key = "reverse",
        .label = "reverse",
        .model = "GPT (2 blocks, d 32, 2 heads) reversing 6 digits",
        .build = NULL,
        .loss = TT_LOSS_CROSS_ENTROPY,
        .optimizer = TT_OPTIM_ADAM,
        .learning_rate = 0.005f,
        .batch_size = REV_BATCH,
        .train = train_reversal,
        .evaluate = evaluate_reversal,
    },
    {
        .key = "text",
        .label = "text",
        .model = "character GPT (2 blocks, d 48, 4 heads, context 32) of Ecclesiastes",
        .build = NULL,
        .loss = TT_LOSS_CROSS_ENTROPY,
        .optimizer = TT_OPTIM_ADAM,
        .learning_rate = 0.003f,
        .batch_size = TEXT_BATCH,
        .train = train_text,
        .evaluate = evaluate_text,
    },
};

const ms_spec ms_transformer = {
    .number = 5,
    .headline = "2017: attention is all you need.",
    .history = "Vaswani and colleagues drop recurrence: every position looks at every\n"
               "earlier one through learned attention, and stacks of such blocks\n"
               "become the language models that followed.",
    .task = "Train two small GPTs (token and position embeddings, pre-norm blocks of\n"
            "causal multi-head attention and an MLP; Adam) for the given number of\n"
            "epochs (8 steps of 32 sequences for the reversal, 25 steps of 16 windows\n"
            "for the text): one reverses sequences of 6 digits, one models the\n"
            "characters of Ecclesiastes (milestones/data) and prints a sample.",
    .default_epochs = 24,
    .default_seed = 2017,
    .reads_data = true,
    .make_data = make_reversal,
    .batcher = NULL,
    .n_runs = 2,
    .runs = runs,
};

#ifndef TT_MILESTONE_NO_MAIN
int main(int argc, char **argv)
{
    return ms_main(&ms_transformer, argc, argv);
}
#endif
