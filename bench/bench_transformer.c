/*
 * tt-bench-transformer: how long does one training step of a small GPT take with the
 * reference framework, on this machine, now?
 *
 * The model of modules 11-13 (tt_gpt_new) trained with Adam on a synthetic, learnable
 * task (each sequence counts up modulo the vocabulary from a random start, and the
 * target is the next token). Each trial builds the model from the same seed, runs one
 * untimed warm-up step, then times `steps` steps, each split into
 *   forward   tt_gpt_loss with gradients recorded (embeddings, blocks, head, loss)
 *   backward  tt_backward of the loss
 *   update    tt_optimizer_step (Adam) and zero_grad
 * A trial's figure is the mean over its steps; the report gives the median over trials
 * and the spread (max - min) / median, the step's CPU time next to its wall-clock time
 * (on a busy machine the two part: the wall clock also counts waiting for a core),
 * tokens per second (B * T / the median step),
 * the backward / forward ratio, the parameter count, and the loss before and after the
 * trial's steps. The trials must agree on the losses bit for bit (training is
 * deterministic); the program fails when they do not.
 *
 *   tt-bench-transformer [--trials N] [--steps N] [--small] [--json]
 *
 * Default model: 2 layers, 4 heads, d_model 64, MLP 256, context 32, vocabulary 60,
 * batch 16 x 32 tokens. --small is a tiny model for smoke tests.
 *
 * Exit status: 0 measured, 1 the trials disagreed, 2 bad options, 3 a framework error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tinytorch/autograd.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/transformers.h"

#define MAX_TRIALS 51
#define MAX_STEPS 1000

typedef struct setup {
    tt_gpt_config config;
    size_t batch, seq;
    uint64_t seed;
} setup;

/* One trial's means per step, in seconds, and its losses. */
typedef struct trial {
    double forward, backward, update, cpu;
    float first_loss, last_loss;
} trial;

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_seconds(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ids[b, t] = (start_b + t) mod V and targets = the next token: a task a causal model
 * can learn exactly, so the losses show that the step trains. */
static tt_status make_batch(tt_tensor **ids, tt_tensor **targets, const setup *s)
{
    tt_rng rng;
    tt_rng_init(&rng, s->seed + 1);
    tt_status st = tt_tensor_zeros(ids, 2, TT_SHAPE(s->batch, s->seq));
    if (st == TT_OK)
        st = tt_tensor_zeros(targets, 2, TT_SHAPE(s->batch, s->seq));
    if (st != TT_OK)
        return st;
    size_t v = s->config.vocab_size;
    for (size_t b = 0; b < s->batch; b++) {
        size_t start = tt_rng_below(&rng, (uint32_t)v);
        for (size_t t = 0; t < s->seq; t++) {
            tt_tensor_data(*ids)[b * s->seq + t] = (float)((start + t) % v);
            tt_tensor_data(*targets)[b * s->seq + t] = (float)((start + t + 1) % v);
        }
    }
    return TT_OK;
}

/* One training step; adds its phase times to *tr when `timed`. */
static tt_status train_step(tt_layer *gpt, tt_optimizer *opt, tt_tensor *ids, tt_tensor *targets,
                            trial *tr, bool timed, float *loss_value)
{
    tt_tensor *loss = NULL;
    double c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    double t0 = now_seconds();
    tt_status st = tt_gpt_loss(gpt, &loss, NULL, ids, targets);
    double t1 = now_seconds();
    if (st == TT_OK)
        st = tt_backward(loss);
    double t2 = now_seconds();
    if (st == TT_OK)
        st = tt_optimizer_step(opt);
    tt_optimizer_zero_grad(opt);
    double t3 = now_seconds();
    double c1 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (st == TT_OK)
        *loss_value = tt_tensor_data(loss)[0];
    tt_tensor_free(loss);
    if (timed) {
        tr->forward += t1 - t0;
        tr->backward += t2 - t1;
        tr->update += t3 - t2;
        tr->cpu += c1 - c0;
    }
    return st;
}

static tt_status run_trial(trial *tr, size_t *n_params, const setup *s, int steps)
{
    tt_status st = TT_OK;
    tt_layer *gpt = NULL;
    tt_optimizer *opt = NULL;
    tt_tensor *ids = NULL, *targets = NULL;
    tt_params ps;
    tt_params_init(&ps);
    tt_rng rng;
    tt_rng_init(&rng, s->seed);
    memset(tr, 0, sizeof *tr);
    TT_CHECK(tt_gpt_new(&gpt, &s->config, &rng));
    TT_CHECK(tt_layer_parameters(gpt, &ps));
    *n_params = tt_params_numel(&ps);
    tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
    o.lr = 3e-3f;
    TT_CHECK(tt_optimizer_new(&opt, TT_OPTIM_ADAM, &ps, &o));
    TT_CHECK(make_batch(&ids, &targets, s));
    float loss = 0.0f;
    TT_CHECK(train_step(gpt, opt, ids, targets, tr, false, &loss)); /* warm-up */
    for (int i = 0; i < steps; i++) {
        TT_CHECK(train_step(gpt, opt, ids, targets, tr, true, &loss));
        if (i == 0)
            tr->first_loss = loss;
        tr->last_loss = loss;
    }
    tr->forward /= steps;
    tr->backward /= steps;
    tr->update /= steps;
    tr->cpu /= steps;
cleanup:
    tt_tensor_free(ids);
    tt_tensor_free(targets);
    tt_optimizer_free(opt);
    tt_params_release(&ps);
    tt_layer_free(gpt);
    return st;
}

static int parse_count(const char *flag, const char *text, int max, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < 1 || v > max) {
        fprintf(stderr, "tt-bench-transformer: %s needs 1..%d, got '%s'\n", flag, max, text);
        return 2;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    int trials = 5, steps = 5;
    bool json = false;
    setup s = {{60, 32, 64, 4, 2, 256}, 16, 32, 1234};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--small") == 0) {
            s.config = (tt_gpt_config){13, 8, 16, 2, 1, 32};
            s.batch = 2;
            s.seq = 8;
        } else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) {
            if (parse_count("--trials", argv[++i], MAX_TRIALS, &trials))
                return 2;
        } else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            if (parse_count("--steps", argv[++i], MAX_STEPS, &steps))
                return 2;
        } else {
            fprintf(stderr, "usage: tt-bench-transformer [--trials N] [--steps N] [--small] "
                            "[--json]\n");
            return 2;
        }
    }

    double fwd[MAX_TRIALS], bwd[MAX_TRIALS], upd[MAX_TRIALS], total[MAX_TRIALS], cpu[MAX_TRIALS];
    trial first = {0};
    size_t n_params = 0;
    for (int t = 0; t < trials; t++) {
        trial tr;
        if (run_trial(&tr, &n_params, &s, steps) != TT_OK) {
            fprintf(stderr, "tt-bench-transformer: %s\n", tt_error_last());
            return 3;
        }
        if (t == 0) {
            first = tr;
        } else if (tr.first_loss != first.first_loss || tr.last_loss != first.last_loss) {
            fprintf(stderr, "tt-bench-transformer: losses %.9g -> %.9g in trial 1, %.9g -> "
                            "%.9g in trial %d: training is not deterministic\n",
                    (double)first.first_loss, (double)first.last_loss, (double)tr.first_loss,
                    (double)tr.last_loss, t + 1);
            return 1;
        }
        fwd[t] = tr.forward;
        bwd[t] = tr.backward;
        upd[t] = tr.update;
        total[t] = tr.forward + tr.backward + tr.update;
        cpu[t] = tr.cpu;
    }
    double lo = total[0], hi = total[0];
    for (int t = 1; t < trials; t++) {
        lo = total[t] < lo ? total[t] : lo;
        hi = total[t] > hi ? total[t] : hi;
    }
    double m_fwd = median_of(fwd, trials), m_bwd = median_of(bwd, trials);
    double m_upd = median_of(upd, trials), m_total = median_of(total, trials);
    double m_cpu = median_of(cpu, trials);
    double spread = m_total > 0 ? (hi - lo) / m_total : 0.0;
    double tokens = (double)(s.batch * s.seq);
    double tokens_per_second = m_total > 0 ? tokens / m_total : 0.0;
    double ratio = m_fwd > 0 ? m_bwd / m_fwd : 0.0;
    const tt_gpt_config *c = &s.config;

    if (json) {
        printf("{\n  \"schema\": \"tt-bench-transformer/1\",\n  \"trials\": %d,\n  \"steps\": %d,\n"
               "  \"model\": {\"vocab_size\": %zu, \"context_len\": %zu, \"d_model\": %zu, "
               "\"n_heads\": %zu, \"n_layers\": %zu, \"d_hidden\": %zu, \"parameters\": %zu},\n"
               "  \"batch\": %zu, \"seq_len\": %zu,\n"
               "  \"forward_seconds\": %.6g, \"backward_seconds\": %.6g, "
               "\"update_seconds\": %.6g, \"step_seconds\": %.6g, \"spread\": %.4f,\n"
               "  \"step_cpu_seconds\": %.6g,\n"
               "  \"tokens_per_second\": %.6g, \"backward_over_forward\": %.4f,\n"
               "  \"loss_first\": %.6g, \"loss_last\": %.6g\n}\n",
               trials, steps, c->vocab_size, c->context_len, c->d_model, c->n_heads,
               c->n_layers, c->d_hidden, n_params, s.batch, s.seq, m_fwd, m_bwd, m_upd, m_total,
               spread, m_cpu, tokens_per_second, ratio, (double)first.first_loss,
               (double)first.last_loss);
        return 0;
    }
    printf("Reference GPT training step: median of %d trial%s of %d step%s each, on this "
           "machine, now.\n\n",
           trials, trials == 1 ? "" : "s", steps, steps == 1 ? "" : "s");
    printf("  model     %zu layers, %zu heads, d_model %zu, MLP %zu, context %zu, vocabulary "
           "%zu: %zu parameters\n",
           c->n_layers, c->n_heads, c->d_model, c->d_hidden, c->context_len, c->vocab_size,
           n_params);
    printf("  batch     %zu sequences x %zu tokens\n\n", s.batch, s.seq);
    printf("  forward   %9.3f ms\n", 1e3 * m_fwd);
    printf("  backward  %9.3f ms  (%.2f x forward)\n", 1e3 * m_bwd, ratio);
    printf("  update    %9.3f ms  (Adam)\n", 1e3 * m_upd);
    printf("  step      %9.3f ms  spread %.0f%%, CPU time %.3f ms\n", 1e3 * m_total,
           100.0 * spread, 1e3 * m_cpu);
    printf("  tokens/s  %9.0f\n", tokens_per_second);
    printf("  loss      %.4f -> %.4f over the timed steps\n", (double)first.first_loss,
           (double)first.last_loss);
    return 0;
}
