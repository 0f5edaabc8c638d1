/*
 * grader/grade.h: the result of grading one module, as the phases fill it in.
 *
 * Build and judge (grader/build.c, grader/judge.c) fill `cases`; memcheck
 * (grader/memcheck.c) fills `memcheck`; speed (grader/perf.c) fills `perf`;
 * score.c adds the points; receipt.c turns the whole into the tito-receipt/1 JSON and
 * the exporters render that. Every string here is owned by the tito_grade and freed by
 * tito_grade_free. Nothing in a tito_grade comes from what student code printed: the
 * verdicts are the judge's, the numbers are measured by the grader.
 */
#ifndef TITO_GRADE_H
#define TITO_GRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tinytorch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tito_verdict {
    TITO_PASS = 0,
    TITO_FAIL,          /* ran, and a value, shape or status differs from the reference */
    TITO_TIMEOUT,       /* wall clock or CPU time ran out */
    TITO_MEMORY_LIMIT,  /* the address-space limit was hit */
    TITO_OUTPUT_LIMIT,  /* printed more than the cap */
    TITO_CRASH,         /* killed by a signal (see signal) */
    TITO_COMPILE_ERROR, /* the student's file did not compile */
    TITO_LINK_ERROR,    /* a function is missing or defined twice */
    TITO_LEAK,          /* framework allocations or Valgrind-found blocks not freed */
    TITO_MEMORY_ERROR,  /* Valgrind: invalid read/write, use after free, uninitialised use */
    TITO_SKIPPED,       /* not run: a prerequisite failed */
} tito_verdict;

/* "pass", "fail", "timeout", "memory-limit", "output-limit", "crash", "compile-error",
 * "link-error", "leak", "memory-error", "skipped". */
const char *tito_verdict_name(tito_verdict verdict);

typedef struct tito_case_result {
    char *name;         /* "add.broadcast_row" */
    char *category;     /* "elementwise" */
    bool hidden;        /* hidden checks show category and verdict only */
    tito_verdict verdict;
    int signal;         /* for TITO_CRASH */
    int points, max_points;
    char *message;      /* what differed, expected and got, and the reference's notes; NULL on pass */
} tito_case_result;

typedef enum tito_memcheck_status {
    TITO_MEMCHECK_NOT_RUN = 0, /* not asked for (tito module test) */
    TITO_MEMCHECK_CLEAN,
    TITO_MEMCHECK_FINDINGS,
    TITO_MEMCHECK_ERROR,       /* Valgrind itself could not run: message says why */
} tito_memcheck_status;

typedef struct tito_memcheck_finding {
    tito_verdict kind;  /* TITO_LEAK or TITO_MEMORY_ERROR */
    char *case_name;    /* the case during which it happened, or NULL when unknown */
    char *what;         /* "96 bytes definitely lost", "Invalid read of size 4" */
    char *where;        /* first frame in the student's file: "tensor.c:212 (tt_tensor_transpose)" */
    uint64_t bytes;
} tito_memcheck_finding;

typedef struct tito_memcheck_result {
    tito_memcheck_status status;
    tito_memcheck_finding *findings;
    size_t n_findings;
    char *message;      /* for TITO_MEMCHECK_ERROR */
    int points, max_points;
} tito_memcheck_result;

typedef struct tito_perf_result {
    char *metric;       /* "matmul_512" */
    char *unit;         /* "x reference" (higher is faster) or "x reference instructions" */
    double ratio;       /* median of reference cost / student cost */
    double spread;      /* relative half-range of the trials' ratios, e.g. 0.03 for +-3% */
    int trials;
    bool deterministic; /* instruction counts (callgrind) instead of CPU time */
    tito_verdict verdict; /* TITO_PASS when measured; a failure when the kernel failed to run */
    char *message;
    int points, max_points;
} tito_perf_result;

typedef struct tito_provenance {
    char *commit;       /* HEAD of the workspace, hex, or NULL outside git */
    bool dirty;         /* uncommitted changes in the module's files */
    char *source_path;  /* modules/01_tensor/tensor.c */
    char *source_hash;  /* "sha256:..." of the student's source */
    char *suite_hash;   /* "sha256:..." of the compiled probes */
    char *reference_hash; /* "sha256:..." of the reference objects */
    char *tito_version;
    char *compiler;     /* "gcc 12.2.0" */
    uint64_t seed;
    char *isolation;    /* the sandbox mechanisms in force */
    unsigned cpu_seconds, mem_mb; /* the limits of a probe run */
} tito_provenance;

typedef struct tito_grade {
    int module;         /* number in the module table */
    char *slug;         /* "01_tensor" */
    bool full;          /* tito grade (hidden, memcheck, speed) vs tito module test (visible only) */
    tito_verdict build; /* TITO_PASS, TITO_COMPILE_ERROR or TITO_LINK_ERROR */
    char *build_log;    /* the compiler's messages (capped), NULL when silent */
    tito_case_result *cases;
    size_t n_cases;
    tito_memcheck_result memcheck;
    tito_perf_result *perf;
    size_t n_perf;
    tito_provenance provenance;
    int earned, possible;
    double seconds_build, seconds_run, seconds_memcheck, seconds_perf; /* phase timings */
} tito_grade;

/* Free everything a tito_grade owns, and the struct itself. NULL does nothing. */
void tito_grade_free(tito_grade *grade);

#ifdef __cplusplus
}
#endif

#endif /* TITO_GRADE_H */
