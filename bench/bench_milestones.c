/*
 * tt-bench-milestones: how long does the reference take to train each milestone's
 * models, on this machine, now?
 *
 * Every model of every milestone program (the same ms_spec descriptions the programs
 * run, linked without their main()), trained as the program trains it by default
 * (its epochs, seed, batch size and optimizer), through ms_train without output and
 * without the per-epoch evaluation the programs print. For each model: the median
 * training time of the trials and their spread ((max - min) / median), the throughput
 * in training samples per second (images for the digits, tokens for milestone 5's
 * language models: what `unit` says), and the test accuracy reached (the validation
 * loss for a model without accuracy). The trials must agree on these (training is
 * deterministic); the program fails when they do not. Milestones join as the table
 * milestones.def lists them (the build defines TT_BENCH_MILESTONE_<n>); the
 * transformer's forward and backward time per step is tt-bench-transformer's.
 *
 * These are the reference's times that a student's milestone run is compared with
 * (a ratio measured on the same machine), and the numbers docs/milestones.md quotes.
 *
 *   tt-bench-milestones [--trials N] [--json]
 *
 * Exit status: 0 measured, 1 the trials disagreed, 2 bad options, 3 a framework error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/milestone.h"

#define MAX_TRIALS 51

typedef struct row {
    const ms_spec *spec;
    const ms_run_spec *run;
    long epochs;
    size_t n_train;
    double median, spread;    /* seconds of training */
    double samples_per_second; /* at the median */
    double work;               /* samples (or tokens) one training processes */
    double test_accuracy;
    double test_loss;
} row;

/* What a milestone's throughput counts. */
static const char *unit_of(const ms_spec *spec)
{
    return spec->number == 5 ? "tokens" : spec->number >= 3 ? "images" : "samples";
}

/* Equal, NaN included (a model without accuracy reports NaN every time). */
static bool same(double a, double b)
{
    return a == b || (a != a && b != b);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Trains `run` `trials` times; fills *out. Returns 0, 1 (trials disagree) or 3. */
static int measure(row *out, const ms_spec *spec, size_t k, const ms_data *data, int trials)
{
    double seconds[MAX_TRIALS];
    ms_options opt = {.epochs = spec->default_epochs, .seed = spec->default_seed};
    ms_result r;
    const ms_run_spec *run = &spec->runs[k];
    out->spec = spec;
    out->run = run;
    out->epochs = opt.epochs;
    for (int t = 0; t < trials; t++) {
        tt_status st = ms_train(&r, spec, k, data, &opt, NULL, false);
        ms_result_release(&r);
        if (st != TT_OK) {
            fprintf(stderr, "tt-bench-milestones: training %s (milestone %d): %s\n", run->model,
                    spec->number, tt_error_last());
            return 3;
        }
        if (t > 0 && (!same(r.test_accuracy, out->test_accuracy) ||
                      !same(r.test_loss, out->test_loss))) {
            fprintf(stderr,
                    "tt-bench-milestones: %s (milestone %d): test accuracy %.4f in trial 1, "
                    "%.4f in trial %d: training is not deterministic\n",
                    run->model, spec->number, out->test_accuracy, r.test_accuracy, t + 1);
            return 1;
        }
        out->test_accuracy = r.test_accuracy;
        out->test_loss = r.test_loss;
        out->work = r.samples_per_second * r.train_seconds;
        out->n_train = r.n_train;
        seconds[t] = r.train_seconds;
    }
    qsort(seconds, (size_t)trials, sizeof seconds[0], by_value);
    out->median = trials % 2 ? seconds[trials / 2]
                             : 0.5 * (seconds[trials / 2 - 1] + seconds[trials / 2]);
    out->spread = out->median > 0 ? (seconds[trials - 1] - seconds[0]) / out->median : 0.0;
    out->samples_per_second = out->median > 0 ? out->work / out->median : 0.0;
    return 0;
}

/* A JSON number, or null for NaN (a model without accuracy). */
static const char *json_num(char *buf, size_t size, double v)
{
    if (v != v)
        snprintf(buf, size, "null");
    else
        snprintf(buf, size, "%.6g", v);
    return buf;
}

static void print_json(const row *rows, size_t n, int trials)
{
    printf("{\n  \"schema\": \"tt-bench-milestones/1\",\n  \"trials\": %d,\n  \"runs\": [\n",
           trials);
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        char acc[32], loss[32];
        printf("    {\"milestone\": %d, \"key\": \"%s\", \"label\": \"%s\", \"epochs\": %ld, "
               "\"train_samples\": %zu, \"batch_size\": %zu,\n     \"train_seconds\": %.6g, "
               "\"spread\": %.4f, \"samples_per_second\": %.6g, \"unit\": \"%s\",\n     "
               "\"test_accuracy\": %s, \"test_loss\": %s}%s\n",
               r->spec->number, r->run->key, r->run->label, r->epochs, r->n_train,
               r->run->batch_size, r->median, r->spread, r->samples_per_second,
               unit_of(r->spec), json_num(acc, sizeof acc, r->test_accuracy),
               json_num(loss, sizeof loss, r->test_loss), i + 1 < n ? "," : "");
    }
    printf("  ]\n}\n");
}

static void print_table(const row *rows, size_t n, int trials)
{
    printf("Reference training time per milestone model: median of %d trial%s on this "
           "machine, now.\n\n",
           trials, trials == 1 ? "" : "s");
    printf("  %-3s %-44s %6s %6s %10s %7s %20s %11s\n", "#", "model", "epochs", "batch",
           "train s", "spread", "throughput", "test");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        char spread[16], test[32];
        snprintf(spread, sizeof spread, "%.0f%%", 100.0 * r->spread);
        if (r->test_accuracy == r->test_accuracy)
            snprintf(test, sizeof test, "%.1f%%", 100.0 * r->test_accuracy);
        else
            snprintf(test, sizeof test, "loss %.3f", r->test_loss);
        printf("  %-3d %-44.44s %6ld %6zu %10.4f %7s %11.0f %-6s/s %11s\n", r->spec->number,
               r->run->model, r->epochs, r->run->batch_size, r->median, spread,
               r->samples_per_second, unit_of(r->spec), test);
    }
}

int main(int argc, char **argv)
{
    static const ms_spec *const specs[] = {
        &ms_perceptron, &ms_xor, &ms_digits_mlp,
#ifdef TT_BENCH_MILESTONE_4
        &ms_digits_cnn,
#endif
#ifdef TT_BENCH_MILESTONE_5
        &ms_transformer,
#endif
    };
    int trials = 5;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || *end || v < 1 || v > MAX_TRIALS) {
                fprintf(stderr, "tt-bench-milestones: --trials needs 1..%d, got '%s'\n",
                        MAX_TRIALS, argv[i]);
                return 2;
            }
            trials = (int)v;
        } else {
            fprintf(stderr, "usage: tt-bench-milestones [--trials N] [--json]\n");
            return 2;
        }
    }

    row rows[16];
    size_t n = 0;
    int status = 0;
    for (size_t s = 0; s < sizeof specs / sizeof specs[0] && status == 0; s++) {
        const ms_spec *spec = specs[s];
        ms_data data = {0};
        ms_options opt = {.epochs = spec->default_epochs, .seed = spec->default_seed};
        if (spec->make_data(&data, &opt) != TT_OK) {
            fprintf(stderr, "tt-bench-milestones: milestone %d's data: %s\n", spec->number,
                    tt_error_last());
            return 3;
        }
        for (size_t k = 0; k < spec->n_runs && status == 0 && n < 16; k++)
            status = measure(&rows[n++], spec, k, &data, trials);
        ms_data_release(&data);
    }
    if (status != 0)
        return status;
    if (json)
        print_json(rows, n, trials);
    else
        print_table(rows, n, trials);
    return 0;
}
