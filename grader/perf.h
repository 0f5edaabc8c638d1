/*
 * grader/perf.h: the speed phase of a grade.
 *
 * A suite declares its speed kernels in suite.json ("kernels": name, probe, reps). For
 * each kernel tito runs `probe --perf NAME --reps R --seed HEX` of the student-linked and
 * the reference-linked probe, interleaved (S R S R ...), in the sandbox, and takes the
 * child's CPU time (user + system, read by the sandbox from the kernel, never reported by
 * the child) minus a `--reps 0` baseline measured the same way (the process start and the
 * kernel's setup). The ratio of a trial is reference time / student time: higher is
 * faster, 0.41 means the student's code takes 2.4x as long. The result is the median of
 * the per-pair ratios, with their spread (half the range, relative to the median).
 *
 * Deterministic mode counts instructions instead of seconds: each probe runs once under
 * `valgrind --tool=callgrind` and the count is callgrind's "summary:"/"totals:" total of
 * Ir events, minus the count of a `--reps 0` run; the ratio has the same definition
 * (reference instructions / student instructions), so a busy machine gives the same
 * number every time. It is slower (callgrind runs code about 50x slower): `small` runs
 * the kernel at its --small size.
 *
 * Whose fault: a student kernel that crashes, runs out of time (timeouts scale with the
 * reference's own time: `timeout_factor` x reference + `timeout_slack` seconds) or exits
 * badly gets that verdict and a message, and no points. A reference kernel that cannot be
 * measured is the grader's problem: verdict TITO_SKIPPED with a message, and score.c
 * leaves the kernel out of the possible points.
 */
#ifndef TITO_PERF_H
#define TITO_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grade.h"
#include "tinytorch/core.h"

/* A speed kernel of a suite. */
typedef struct tito_perf_kernel {
    char *name;  /* "matmul_512" */
    char *probe; /* which probe binary has it: "visible" or "hidden" */
    int reps;    /* R: how many times one run repeats the kernel */
} tito_perf_kernel;

/* The kernels of a suite.json (`text`, `len` bytes; `origin` names it in messages).
 * A suite without "kernels" has none (*n = 0, *out NULL). Errors: TT_ERR_FORMAT
 * ("suite x/suite.json: kernels[0].reps: expected a positive integer"), TT_ERR_NOMEM. */
tt_status tito_perf_kernels_parse(tito_perf_kernel **out, size_t *n, const char *text, size_t len,
                                  const char *origin);

/* The same from a file. Errors: also TT_ERR_IO. */
tt_status tito_perf_kernels_load(tito_perf_kernel **out, size_t *n, const char *path);

void tito_perf_kernels_free(tito_perf_kernel *kernels, size_t n);

typedef struct tito_perf_options {
    /* The two probe binaries that hold the kernel (absolute paths). Required. */
    const char *student_probe;
    const char *reference_probe;
    uint64_t seed;
    /* Timed pairs (S, R) per kernel; 0: 7. Deterministic mode always runs one. */
    int trials;
    /* Baseline (--reps 0) runs of each probe whose median is subtracted; 0: 3. */
    int baseline_trials;
    bool deterministic;
    /* Pass --small to the probes (the kernel's small size). */
    bool small;
    /* Valgrind for deterministic mode; NULL: /usr/bin/valgrind or /bin/valgrind. */
    const char *valgrind;
    const char *temp_parent;               /* NULL: "/tmp" */
    /* Paths the runs must not see (as the sandbox takes them), or NULL: the student's
     * runs and the reference's have their own lists, since the student's must not see
     * the reference probe's folder. */
    const char *const *hidden_paths;
    const char *const *reference_hidden_paths;
    /* The student's runs get timeout_factor x the reference's time + timeout_slack
     * seconds (of CPU time, and as much again of wall clock); 0: 20 and 1.0. */
    double timeout_factor;
    double timeout_slack;
    /* Limits of a reference run (the trusted side); 0: 60 s CPU. */
    unsigned reference_cpu_seconds;
} tito_perf_options;

#define TITO_PERF_OPTIONS_INIT { .trials = 7, .baseline_trials = 3 }

/* Measure one kernel and fill *result (metric, unit, ratio, spread, trials,
 * deterministic, verdict, message; points are score.c's). A student failure or an
 * unmeasurable reference is a verdict in the result, not an error.
 * Errors (the grader's own trouble): TT_ERR_INVALID_ARG, TT_ERR_NOMEM, TT_ERR_IO. */
tt_status tito_perf_measure(tito_perf_result *result, const tito_perf_kernel *kernel,
                            const tito_perf_options *options);

/* Release what a result holds and zero it. */
void tito_perf_result_release(tito_perf_result *result);

/* The statistics, exposed for tests: median of v[0..n) (v is sorted in place; 0 for
 * n = 0), and the relative half-range (max - min) / 2 / median (0 when median <= 0). */
double tito_perf_median(double *v, size_t n);
double tito_perf_spread(const double *v, size_t n, double median);

/* The total instruction count in a callgrind output file's text: the "totals:" line,
 * else the "summary:" line (first number: Ir). Errors: TT_ERR_FORMAT when neither is there. */
tt_status tito_callgrind_total(uint64_t *out, const char *text);

#endif /* TITO_PERF_H */
