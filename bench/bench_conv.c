/*
 * tt-bench-conv: what im2col + matmul buys over the direct loop, on this machine now.
 *
 * For a few convolution shapes (the digits CNN's first layer, a 32x32 layer of 16 to
 * 32 channels, a strided one), the reference's tt_conv2d (module 09: im2col, then
 * one tt_tensor_matmul) and the textbook seven-deep loop over (n, o, i, j, c, u, v)
 * below compute the same output from the same seeded tensors. Trials are interleaved
 * (conv2d, direct, conv2d, ...; the order alternates), so a busy moment of the machine
 * hits both alike.
 *
 * Every number printed is measured in this run: per shape the median time of each
 * method and its spread ((max - min) / median), GFLOP/s (2 * N*O*OH*OW * C*K*K
 * floating-point operations), the speed-up (direct time / im2col time) and the
 * memory the im2col matrix costs. The two outputs are compared; the program fails
 * when they disagree, so a fast wrong kernel cannot hide here.
 *
 *   tt-bench-conv [--json] [--trials N] [--quick]
 *
 * --quick uses small shapes (a smoke test, not a measurement).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tinytorch/autograd.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

#define MAX_TRIALS 101

typedef struct conv_shape {
    const char *name;
    size_t n, c, h, w, o, k, stride, pad;
} conv_shape;

/* The digits CNN's first layer; a mid-size layer of an image model; a strided one. */
static const conv_shape full_shapes[] = {
    {"digits conv1 (32x1x8x8 -> 8, 3x3, pad 1)", 32, 1, 8, 8, 8, 3, 1, 1},
    {"32x32x16 -> 32, 3x3, pad 1 (batch 8)", 8, 16, 32, 32, 32, 3, 1, 1},
    {"16x16x32 -> 64, 3x3, stride 2, pad 1 (batch 8)", 8, 32, 16, 16, 64, 3, 2, 1},
};
static const conv_shape quick_shapes[] = {
    {"quick 4x2x8x8 -> 4, 3x3, pad 1", 4, 2, 8, 8, 4, 3, 1, 1},
    {"quick 2x3x9x9 -> 5, 3x3, stride 2", 2, 3, 9, 9, 5, 3, 2, 0},
};

typedef struct stats {
    double median, spread; /* spread = (max - min) / median */
} stats;

typedef struct conv_row {
    const conv_shape *shape;
    size_t oh, ow;
    stats im2col, direct; /* seconds per forward */
    double max_rel_diff;  /* max |im2col - direct| / (|direct| + 1) */
} conv_row;

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
    fprintf(stderr, "tt-bench-conv: %s: %s\n", what, tt_error_last());
    exit(3);
}

/* The direct convolution: y[n,o,i,j] = b[o] + sum over c, u, v of
 * w[o,c,u,v] * x[n, c, i*s + u - p, j*s + v - p], skipping the padding. All arrays
 * contiguous NCHW. Written the obvious way on purpose: it is the baseline. */
static void conv_direct(const conv_shape *s, size_t oh, size_t ow, const float *x,
                        const float *w, const float *b, float *y)
{
    for (size_t n = 0; n < s->n; n++)
        for (size_t o = 0; o < s->o; o++)
            for (size_t i = 0; i < oh; i++)
                for (size_t j = 0; j < ow; j++) {
                    float acc = b[o];
                    for (size_t c = 0; c < s->c; c++)
                        for (size_t u = 0; u < s->k; u++) {
                            long r = (long)(i * s->stride + u) - (long)s->pad;
                            if (r < 0 || r >= (long)s->h)
                                continue;
                            for (size_t v = 0; v < s->k; v++) {
                                long q = (long)(j * s->stride + v) - (long)s->pad;
                                if (q < 0 || q >= (long)s->w)
                                    continue;
                                acc += w[((o * s->c + c) * s->k + u) * s->k + v] *
                                       x[((n * s->c + c) * s->h + (size_t)r) * s->w + (size_t)q];
                            }
                        }
                    y[((n * s->o + o) * oh + i) * ow + j] = acc;
                }
}

static conv_row bench_shape(const conv_shape *s, int trials, uint64_t seed)
{
    conv_row row = {.shape = s};
    row.oh = (s->h + 2 * s->pad - s->k) / s->stride + 1;
    row.ow = (s->w + 2 * s->pad - s->k) / s->stride + 1;
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_tensor *x = NULL, *w = NULL, *b = NULL, *y = NULL;
    if (tt_tensor_randn(&x, 4, TT_SHAPE(s->n, s->c, s->h, s->w), 0.0f, 1.0f, &rng) ||
        tt_tensor_randn(&w, 4, TT_SHAPE(s->o, s->c, s->k, s->k), 0.0f, 0.3f, &rng) ||
        tt_tensor_randn(&b, 1, TT_SHAPE(s->o), 0.0f, 0.3f, &rng))
        die("making the inputs");
    size_t ny = s->n * s->o * row.oh * row.ow;
    float *yd = malloc(ny * sizeof *yd);
    if (!yd) {
        fprintf(stderr, "tt-bench-conv: out of memory\n");
        exit(3);
    }
    const float *xd = tt_tensor_data(x), *wd = tt_tensor_data(w), *bd = tt_tensor_data(b);

    /* Warm-up (page in, first allocations), and the comparison of the two results. */
    if (tt_conv2d(&y, x, w, b, s->stride, s->pad))
        die("tt_conv2d");
    conv_direct(s, row.oh, row.ow, xd, wd, bd, yd);
    const float *yc = tt_tensor_data(y);
    for (size_t i = 0; i < ny; i++) {
        double d = fabs((double)yc[i] - (double)yd[i]) / (fabs((double)yd[i]) + 1.0);
        if (!(d <= row.max_rel_diff)) /* catches nan too */
            row.max_rel_diff = isnan(d) ? INFINITY : d;
    }
    tt_tensor_free(y);

    double ti[MAX_TRIALS], td[MAX_TRIALS];
    for (int t = 0; t < trials; t++) {
        for (int k = 0; k < 2; k++) {
            bool im2col_turn = (k == 0) == (t % 2 == 0);
            double t0 = now();
            if (im2col_turn) {
                if (tt_conv2d(&y, x, w, b, s->stride, s->pad))
                    die("tt_conv2d");
                ti[t] = now() - t0;
                tt_tensor_free(y);
            } else {
                conv_direct(s, row.oh, row.ow, xd, wd, bd, yd);
                td[t] = now() - t0;
            }
        }
    }
    row.im2col = summarize(ti, trials);
    row.direct = summarize(td, trials);
    free(yd);
    tt_tensor_free(x);
    tt_tensor_free(w);
    tt_tensor_free(b);
    return row;
}

static void usage(void)
{
    fprintf(stderr, "usage: tt-bench-conv [--json] [--trials N (3..%d)] [--quick]\n", MAX_TRIALS);
    exit(2);
}

int main(int argc, char **argv)
{
    bool json = false, quick = false;
    int trials = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || v < 3 || v > MAX_TRIALS)
                usage();
            trials = (int)v;
        } else {
            usage();
        }
    }
    const conv_shape *shapes = quick ? quick_shapes : full_shapes;
    size_t n_shapes = quick ? sizeof quick_shapes / sizeof quick_shapes[0]
                            : sizeof full_shapes / sizeof full_shapes[0];

    /* Inference: no graph is recorded (nothing requires a gradient anyway). */
    tt_grad_set_enabled(false);
    conv_row rows[8];
    bool wrong = false;
    for (size_t i = 0; i < n_shapes; i++) {
        rows[i] = bench_shape(&shapes[i], trials, 100 + i);
        /* Sums of C*K*K products in another order: error grows like its sqrt. */
        double len = (double)(shapes[i].c * shapes[i].k * shapes[i].k);
        double tol = 4e-6 * sqrt(len) * 4.0;
        if (!(rows[i].max_rel_diff <= tol)) {
            fprintf(stderr, "tt-bench-conv: %s: im2col and the direct loop differ by %g "
                            "(tolerance %g)\n", shapes[i].name, rows[i].max_rel_diff, tol);
            wrong = true;
        }
    }

    if (json)
        printf("{\n  \"schema\": \"tt-bench-conv/1\",\n  \"trials\": %d,\n  \"shapes\": [\n",
               trials);
    else
        printf("Convolution forward: im2col + matmul (tt_conv2d) vs the direct 7-loop;\n"
               "median of %d interleaved trials, spread = (max - min) / median.\n\n", trials);
    if (!json)
        printf("%-48s %10s %6s %8s %10s %6s %8s %8s %10s\n", "shape", "im2col ms", "spread",
               "GFLOP/s", "direct ms", "spread", "GFLOP/s", "speed-up", "cols MiB");
    for (size_t i = 0; i < n_shapes; i++) {
        const conv_row *r = &rows[i];
        const conv_shape *s = r->shape;
        double flop = 2.0 * (double)(s->n * s->o * r->oh * r->ow) * (double)(s->c * s->k * s->k);
        double cols_bytes = 4.0 * (double)(s->c * s->k * s->k) * (double)(s->n * r->oh * r->ow);
        double speedup = r->direct.median / r->im2col.median;
        if (json)
            printf("    {\"name\": \"%s\", \"n\": %zu, \"c\": %zu, \"h\": %zu, \"w\": %zu, "
                   "\"o\": %zu, \"k\": %zu, \"stride\": %zu, \"padding\": %zu, "
                   "\"flop\": %.0f, \"im2col_ms\": %.4f, \"im2col_spread\": %.4f, "
                   "\"direct_ms\": %.4f, \"direct_spread\": %.4f, \"speedup\": %.3f, "
                   "\"cols_bytes\": %.0f, \"max_rel_diff\": %.3g}%s\n",
                   s->name, s->n, s->c, s->h, s->w, s->o, s->k, s->stride, s->pad, flop,
                   r->im2col.median * 1e3, r->im2col.spread, r->direct.median * 1e3,
                   r->direct.spread, speedup, cols_bytes, r->max_rel_diff,
                   i + 1 < n_shapes ? "," : "");
        else
            printf("%-48s %10.3f %5.1f%% %8.2f %10.3f %5.1f%% %8.2f %7.2fx %10.2f\n", s->name,
                   r->im2col.median * 1e3, 100.0 * r->im2col.spread,
                   flop / r->im2col.median * 1e-9, r->direct.median * 1e3,
                   100.0 * r->direct.spread, flop / r->direct.median * 1e-9, speedup,
                   cols_bytes / 1048576.0);
    }
    if (json)
        printf("  ]\n}\n");
    return wrong ? 1 : 0;
}
