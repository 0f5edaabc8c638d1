/*
 * grader/engine.h: grade one module: build, run, judge (docs/grading.md, phases 1-3).
 *
 * tito_grade_run() compiles the student's source against the kit, links the probes,
 * runs the reference and the student probe on the same seed, judges every case and
 * fills a tito_grade: the build verdict and log, one tito_case_result per case with its
 * points, provenance (hashes, seed, compiler, isolation) and phase timings. Memcheck,
 * speed and receipts are later phases (grader/memcheck.c, perf.c, receipt.c); their
 * fields stay NOT_RUN/empty unless a phase hook fills them while the probes exist.
 *
 * Same source, same kit, same seed: same grade. The default seed is derived from the
 * hashes of the source and of the suite, so an unchanged workspace gets the same
 * inputs and any edit draws new ones.
 *
 * Whose fault: everything the student's code can do (not compile, miss a function,
 * crash, hang, leak, print, write garbage to the transcript) is a verdict in the
 * grade. A tt_status error means the grade could not be made: no kit or suite, no
 * compiler, a broken reference (an internal error), a filter that matches nothing.
 */
#ifndef TITO_ENGINE_H
#define TITO_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grade.h"
#include "kit.h"
#include "modules.h"

/* What a phase hook gets: the probes of this run, alive until the hook returns. */
typedef struct tito_grade_probes {
    const char *workdir;
    const char *source_name;           /* "tensor.c", as frames and messages name it */
    const char *student[2];            /* [0] visible, [1] hidden: path, or NULL if not built */
    const char *reference[2];          /* the same for the reference probes */
    const char *const *hidden_from_student; /* paths the student's probe must not see */
    /* The cases graded from each probe, in table order (a filter may leave some out). */
    const char *const *case_names[2];
    size_t n_cases[2];
    uint64_t seed;
} tito_grade_probes;

/* A later phase (memcheck, speed) run while the probes exist; it fills its own
 * fields of `grade`. An error stops the grade (tito_grade_run returns it). */
typedef tt_status (*tito_grade_phase_fn)(void *ctx, tito_grade *grade,
                                         const tito_grade_probes *probes);

typedef struct tito_grade_options {
    bool full;             /* also the hidden checks (tito grade); visible only otherwise */
    bool seed_set;         /* use `seed`; otherwise derive it (see the top of the file) */
    uint64_t seed;
    /* Only the visible checks whose name contains this text (hidden checks are run
     * all or none: a filter must not reveal their names). NULL: every check. */
    const char *filter;
    bool small;            /* run the probes with --small */
    /* Extra absolute paths no sandboxed child may see (NULL-terminated), or NULL. */
    const char *const *hidden_paths;
    /* How many parts (visible, hidden) run at the same time: 0 or 1, one by one. */
    unsigned jobs;
    const char *temp_parent; /* where the working directory goes; NULL: $TMPDIR or /tmp */
    bool no_cache;           /* do not use the reference-probe cache */
    /* A student probe run gets min_timeout + timeout_factor x the reference's time
     * for the cases it still has to run; 0 takes the defaults, 2 s and 20. */
    double min_timeout;
    double timeout_factor;
    const char *tito_version; /* recorded in the provenance; NULL: unknown */
    tito_grade_phase_fn phase; /* called after judging, before the probes go; or NULL */
    void *phase_ctx;
    /* Told when a step starts (done false) and ends (done true), for progress displays
     * and phase timings: "build" (the working directory and the compile), then
     * "visible" and "hidden" (each part: links, reference and student runs, judging).
     * The parts may run in two threads at once, so it must be thread-safe. Or NULL. */
    void (*progress)(void *ctx, const char *step, bool done);
    void *progress_ctx;
} tito_grade_options;

#define TITO_GRADE_OPTIONS_INIT { .full = false }

/* Grade `source_path` as module m with the kit. *out gets the grade (tito_grade_free)
 * whenever the grading could be done, also when the source does not compile.
 * Errors (and *out NULL): TT_ERR_INVALID_ARG (bad arguments, a filter matching no
 * check), TT_ERR_STATE (no suite for m in the kit, the reference misbehaving: an
 * internal error), TT_ERR_IO, TT_ERR_NOMEM, and the sandbox's errors. */
tt_status tito_grade_run(tito_grade **out, const tito_kit *kit, const tito_module *m,
                         const char *source_path, const tito_grade_options *options);

/* The default seed for a source and a suite, from their "sha256:..." hashes. */
uint64_t tito_grade_default_seed(const char *source_hash, const char *suite_hash);

#endif /* TITO_ENGINE_H */
