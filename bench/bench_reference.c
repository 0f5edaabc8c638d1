/*
 * tt-bench: how fast is the reference, next to a well-known BLAS, on this machine now?
 *
 * For each size n: the reference's tt_tensor_matmul and OpenBLAS's cblas_sgemm (one
 * thread, like the reference) on the same seeded n x n matrices, trials interleaved
 * (reference, BLAS, reference, ...; the order alternates) so that a busy moment of
 * the machine hits both alike. Then one training step of the digits MLP (64-32-10,
 * ReLU, cross-entropy, SGD, batch 32) through tt_train_step.
 *
 * Every number printed is measured in this run: the median of the trials and their
 * spread ((max - min) / median). The two products are also compared, so a fast wrong
 * kernel cannot hide here: the program fails when they disagree.
 *
 *   tt-bench [--json] [--trials N] [--sizes 256,512,1024] [--steps N]
 */
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tinytorch/activations.h"
#include "tinytorch/layers.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"
#include "tinytorch/training.h"

#define MAX_SIZES 8
#define MAX_TRIALS 101

typedef struct stats {
    double median, spread; /* spread = (max - min) / median */
} stats;

typedef struct matmul_row {
    long n;
    stats ref_s, blas_s;   /* seconds per product */
    double max_rel_diff;   /* max |ref - blas| / (|blas| + 1) over the elements */
} matmul_row;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static stats summarize(double *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], by_value);
    double median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    stats s = {median, median > 0 ? (t[n - 1] - t[0]) / median : 0.0};
    return s;
}

static void die(const char *what)
{
    fprintf(stderr, "tt-bench: %s: %s\n", what, tt_error_last());
    exit(3);
}

static matmul_row bench_matmul(long n, int trials, uint64_t seed)
{
    matmul_row row = {.n = n};
    tt_rng rng;
    tt_rng_init(&rng, seed);
    size_t sn = (size_t)n;
    tt_tensor *a = NULL, *b = NULL, *c = NULL;
    if (tt_tensor_randn(&a, 2, TT_SHAPE(sn, sn), 0.0f, 1.0f, &rng) ||
        tt_tensor_randn(&b, 2, TT_SHAPE(sn, sn), 0.0f, 1.0f, &rng))
        die("making the inputs");
    float *cb = malloc(sn * sn * sizeof *cb);
    if (!cb) {
        fprintf(stderr, "tt-bench: out of memory\n");
        exit(3);
    }
    const float *ad = tt_tensor_data(a), *bd = tt_tensor_data(b);
    int N = (int)n;

    /* Warm-up: page in the buffers, let OpenBLAS set itself up; and compare results. */
    if (tt_tensor_matmul(&c, a, b))
        die("tt_tensor_matmul");
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, ad, N, bd, N, 0.0f, cb, N);
    const float *cd = tt_tensor_data(c);
    for (size_t i = 0; i < sn * sn; i++) {
        double d = fabs((double)cd[i] - (double)cb[i]) / (fabs((double)cb[i]) + 1.0);
        if (!(d <= row.max_rel_diff)) /* catches nan too */
            row.max_rel_diff = isnan(d) ? INFINITY : d;
    }
    tt_tensor_free(c);

    double tr[MAX_TRIALS], tb[MAX_TRIALS];
    for (int t = 0; t < trials; t++) {
        for (int k = 0; k < 2; k++) {
            bool ref_turn = (k == 0) == (t % 2 == 0);
            double t0 = now();
            if (ref_turn) {
                if (tt_tensor_matmul(&c, a, b))
                    die("tt_tensor_matmul");
                tr[t] = now() - t0;
                tt_tensor_free(c);
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, ad, N, bd, N,
                            0.0f, cb, N);
                tb[t] = now() - t0;
            }
        }
    }
    row.ref_s = summarize(tr, trials);
    row.blas_s = summarize(tb, trials);
    free(cb);
    tt_tensor_free(a);
    tt_tensor_free(b);
    return row;
}

/* Seconds per training step of the digits MLP, median over `trials` runs of `steps`. */
static stats bench_train_step(int trials, int steps, uint64_t seed)
{
    enum { BATCH = 32, IN = 64, HIDDEN = 32, OUT = 10 };
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_layer *model = NULL, *l1 = NULL, *act = NULL, *l2 = NULL;
    if (tt_sequential_new(&model) || tt_linear_new(&l1, IN, HIDDEN, true, &rng) ||
        tt_sequential_append(model, l1) || tt_relu_layer_new(&act) ||
        tt_sequential_append(model, act) || tt_linear_new(&l2, HIDDEN, OUT, true, &rng) ||
        tt_sequential_append(model, l2))
        die("building the MLP");
    tt_params params;
    tt_params_init(&params);
    if (tt_layer_parameters(model, &params))
        die("listing the parameters");
    tt_optimizer_options options = TT_OPTIMIZER_OPTIONS_INIT;
    options.lr = 0.05f;
    tt_optimizer *opt = NULL;
    if (tt_optimizer_new(&opt, TT_OPTIM_SGD, &params, &options))
        die("tt_optimizer_new");

    /* A batch shaped like the digits (pixels in [0, 1], ten classes): the time of a
     * step does not depend on the values. */
    tt_tensor *x = NULL, *y = NULL;
    if (tt_tensor_uniform(&x, 2, TT_SHAPE(BATCH, IN), 0.0f, 1.0f, &rng) ||
        tt_tensor_zeros(&y, 1, TT_SHAPE(BATCH)))
        die("making the batch");
    for (size_t i = 0; i < BATCH; i++)
        tt_tensor_set(y, TT_SHAPE(i), (float)tt_rng_below(&rng, OUT));
    tt_layer_set_training(model, true);

    float loss = 0.0f;
    for (int i = 0; i < 5; i++)
        if (tt_train_step(&loss, model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 0.0f))
            die("tt_train_step");
    double t[MAX_TRIALS];
    for (int k = 0; k < trials; k++) {
        double t0 = now();
        for (int i = 0; i < steps; i++)
            if (tt_train_step(&loss, model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 0.0f))
                die("tt_train_step");
        t[k] = (now() - t0) / steps;
    }
    if (!isfinite(loss)) {
        fprintf(stderr, "tt-bench: the training loss is %g\n", (double)loss);
        exit(1);
    }
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_optimizer_free(opt);
    tt_params_release(&params);
    tt_layer_free(model);
    return summarize(t, trials);
}

static void usage(void)
{
    fprintf(stderr, "usage: tt-bench [--json] [--trials N (5..%d)] [--sizes N,N,...] [--steps N]\n",
            MAX_TRIALS);
    exit(2);
}

static long parse_long(const char *s, long lo, long hi)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || (*end && *end != ',') || v < lo || v > hi)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    bool json = false;
    int trials = 7, steps = 20, n_sizes = 3;
    long sizes[MAX_SIZES] = {256, 512, 1024};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) {
            trials = (int)parse_long(argv[++i], 5, MAX_TRIALS);
        } else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            steps = (int)parse_long(argv[++i], 1, 100000);
        } else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
            n_sizes = 0;
            for (const char *p = argv[++i]; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
                if (n_sizes == MAX_SIZES)
                    usage();
                sizes[n_sizes++] = parse_long(p, 1, 8192);
            }
        } else {
            usage();
        }
    }

    openblas_set_num_threads(1);
    matmul_row rows[MAX_SIZES];
    bool wrong = false;
    for (int i = 0; i < n_sizes; i++) {
        rows[i] = bench_matmul(sizes[i], trials, 1000 + (uint64_t)i);
        /* float sums of n products in another order: error grows like sqrt(n). */
        double tol = 1e-5 * sqrt((double)sizes[i]) * 4.0;
        if (!(rows[i].max_rel_diff <= tol)) {
            fprintf(stderr, "tt-bench: n=%ld: the reference and OpenBLAS differ by %g (tolerance %g)\n",
                    sizes[i], rows[i].max_rel_diff, tol);
            wrong = true;
        }
    }
    stats step = bench_train_step(trials, steps, 7);

    if (json) {
        printf("{\n  \"trials\": %d,\n  \"blas_threads\": 1,\n  \"matmul\": [\n", trials);
        for (int i = 0; i < n_sizes; i++) {
            const matmul_row *r = &rows[i];
            double flop = 2.0 * (double)r->n * (double)r->n * (double)r->n;
            printf("    {\"n\": %ld, \"reference_gflops\": %.4f, \"reference_spread\": %.4f, "
                   "\"openblas_gflops\": %.4f, \"openblas_spread\": %.4f, \"ratio\": %.5f, "
                   "\"max_rel_diff\": %.3g}%s\n",
                   r->n, flop / r->ref_s.median * 1e-9, r->ref_s.spread,
                   flop / r->blas_s.median * 1e-9, r->blas_s.spread,
                   r->blas_s.median / r->ref_s.median, r->max_rel_diff, i + 1 < n_sizes ? "," : "");
        }
        printf("  ],\n  \"train_step\": {\"model\": \"64-32-10 MLP\", \"batch\": 32, "
               "\"steps_per_trial\": %d, \"median_us\": %.3f, \"spread\": %.4f}\n}\n",
               steps, step.median * 1e6, step.spread);
    } else {
        printf("Reference tt_tensor_matmul vs OpenBLAS cblas_sgemm (1 thread), n x n float32;\n"
               "median of %d interleaved trials, spread = (max - min) / median.\n\n",
               trials);
        printf("%6s  %12s %8s  %12s %8s  %9s  %10s\n", "n", "ref GFLOP/s", "spread",
               "BLAS GFLOP/s", "spread", "ref/BLAS", "max diff");
        for (int i = 0; i < n_sizes; i++) {
            const matmul_row *r = &rows[i];
            double flop = 2.0 * (double)r->n * (double)r->n * (double)r->n;
            printf("%6ld  %12.2f %7.1f%%  %12.2f %7.1f%%  %8.3fx  %10.2g\n", r->n,
                   flop / r->ref_s.median * 1e-9, 100.0 * r->ref_s.spread,
                   flop / r->blas_s.median * 1e-9, 100.0 * r->blas_s.spread,
                   r->blas_s.median / r->ref_s.median, r->max_rel_diff);
        }
        printf("\nOne training step, digits MLP 64-32-10 (ReLU, cross-entropy, SGD), batch 32:\n"
               "  %.1f us median (spread %.1f%%, %d trials of %d steps)\n",
               step.median * 1e6, 100.0 * step.spread, trials, steps);
    }
    return wrong ? 1 : 0;
}
