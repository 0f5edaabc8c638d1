/*
 * grader/milestone.h: `tito milestone run`: a milestone program built against the
 * student's own modules, run in the sandbox next to the same program built on the
 * reference, and judged by tito from what the student's run measured
 * (docs/milestones.md, "How a milestone is checked").
 *
 * The bars are the rows of milestones/milestones.def; tito compares each bar's metric
 * from the program's result file (schema tito-milestone/1) with the bar, exactly as
 * tt_milestone_bar_met does. The exit status of the program and anything it prints are
 * never the verdict. Time is reported as a ratio to the reference, both trained on this
 * machine in the same tito run; it is a bar only where milestones.def names the metric
 * "time_ratio" (tito's own measurement, not the file's).
 *
 * Whose fault: what the student's modules do (not compile, not link, crash, hang, leak,
 * write no or a malformed result, miss a bar) is an outcome in the result. A tt_status
 * error means the milestone could not be checked: a module not started (TT_ERR_STATE,
 * naming each one), a kit without milestones, no compiler, or the reference failing
 * (an internal error).
 *
 * Receipts: a run becomes a receipt of schema "tito-receipt/1" with "kind": "milestone"
 * (the module receipts of grader/receipt.h have no "kind"); docs/milestones.md lists
 * its fields. Nothing here prints or exits.
 */
#ifndef TITO_MILESTONE_H
#define TITO_MILESTONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "grade.h"
#include "kit.h"
#include "modules.h"
#include "sandbox.h"
#include "tinytorch/core.h"

#define TITO_MILESTONE_RECEIPT_KIND "milestone"
#define TITO_MILESTONE_MAX_BARS 8

/* ------------------------------------------------------------ the table */

/* One bar of milestones.def. */
typedef struct tito_milestone_bar {
    const char *metric;     /* a key of the result file's "metrics", or "time_ratio" */
    const char *comparison; /* ">=" or "<=" */
    double bar;             /* a fraction for accuracies (0.9 is 90%) */
} tito_milestone_bar;

/* One milestone: the rows of milestones.def that share its number. */
typedef struct tito_milestone {
    int number;
    const char *slug;       /* "03_mlp": the program's source is milestones/<slug>.c */
    int year;
    const char *title;
    int first_module, last_module; /* the student's modules it links, inclusive */
    const char *program;    /* "tt-milestone-03" */
    size_t n_bars;
    tito_milestone_bar bars[TITO_MILESTONE_MAX_BARS];
} tito_milestone;

/* The milestones in table order, and how many there are. */
const tito_milestone *tito_milestone_at(size_t i);
size_t tito_milestone_count(void);

/* Milestone `number`, or NULL when the table has none. */
const tito_milestone *tito_milestone_find(int number);

/* Whether `value` meets bar `b` (tt_milestone_bar_met: NaN never does). */
bool tito_milestone_bar_met(const tito_milestone_bar *b, double value);

/* Whether a metric is an accuracy (shown as a percentage, shortfalls in points). */
bool tito_milestone_metric_is_accuracy(const char *metric);

/* The modules of m whose source modules/<slug>/<name>.c is missing from the workspace
 * at `workspace_root`, in module order, into missing[0..max); returns how many there
 * are (possibly more than max). */
size_t tito_milestone_missing_modules(const tito_module **missing, size_t max,
                                      const tito_milestone *m, const char *workspace_root);

/* ------------------------------------------------------------ running */

typedef enum tito_milestone_outcome {
    TITO_MILESTONE_REACHED = 0, /* the program reported and every bar is met */
    TITO_MILESTONE_MISSED,      /* the program reported; some bar is not met */
    TITO_MILESTONE_NOT_BUILT,   /* the student's modules did not compile or link */
    TITO_MILESTONE_NO_RESULT,   /* the program ended without a valid result: crash, time
                                   or memory limit, an error exit, a malformed file */
} tito_milestone_outcome;

/* "reached", "missed", "build-failed", "no-result". */
const char *tito_milestone_outcome_name(tito_milestone_outcome outcome);

/* One bar, judged. */
typedef struct tito_milestone_bar_result {
    tito_milestone_bar bar; /* the table's (its strings are static) */
    double value;           /* the student's measurement; NaN when missing or not a number */
    double reference;       /* the reference's, NaN when unknown */
    bool met;
} tito_milestone_bar_result;

/* One epoch of one model, as the program reported it. */
typedef struct tito_milestone_epoch {
    long epoch;
    double loss, train_accuracy, test_accuracy; /* NaN when the file has null */
} tito_milestone_epoch;

/* One model the program trained ("runs" of the result file). */
typedef struct tito_milestone_model {
    char *key;              /* prefix of its metrics ("mlp": "mlp_test_accuracy"), or "" */
    char *loss;             /* "bce", "cross_entropy", "mse" (the result file's), or "" */
    char *label;            /* "mlp" */
    char *model;            /* "64-32-10 MLP (Linear, ReLU, Linear)" */
    tito_milestone_epoch *history;
    size_t n_history;
} tito_milestone_model;

/* One sandboxed run of a milestone program (the student's build or the reference's). */
typedef struct tito_milestone_report {
    bool ran;               /* the program was started */
    bool reported;          /* and its result file was read and is valid */
    tito_sandbox_end end;
    int exit_code, signal;  /* informative only */
    double wall_seconds, cpu_seconds; /* measured by the sandbox */
    char *problem;          /* why there is no valid result, in words; NULL when reported */
    char *stderr_tail;      /* the last lines the program wrote on stderr, or NULL */
    json_t *result;         /* the result file as read (reported only) */
    const json_t *metrics;  /* its "metrics" object (borrowed from result); for the
                               student's run, with the reference's measurements of the
                               parameters it saved in place of its own */
    json_t *claimed;        /* once the reference has measured the run's parameters:
                               the run's own figures that differed (an object, maybe
                               empty); NULL before, and for a run never measured */
    double train_seconds, samples_per_second; /* NaN when unknown */
    double live_allocations; /* framework allocations live at the end; NaN unknown */
    long epochs;
    uint64_t seed;
    tito_milestone_model *models;
    size_t n_models;
} tito_milestone_report;

/* One of the student's module files, for the receipt. */
typedef struct tito_milestone_source {
    const tito_module *module;
    char path[160];         /* "modules/05_autograd/autograd.c" */
    char hash[TITO_KIT_HASH_SIZE];
} tito_milestone_source;

typedef struct tito_milestone_result {
    const tito_milestone *milestone;
    tito_milestone_outcome outcome;
    /* The student's build: TITO_PASS, TITO_COMPILE_ERROR (build_module is the file's
     * module) or TITO_LINK_ERROR. */
    tito_verdict build;
    const tito_module *build_module;
    char *build_message;    /* for the student; NULL on a pass */
    char *build_log;        /* the tools' output (capped), or NULL */
    tito_milestone_bar_result bars[TITO_MILESTONE_MAX_BARS];
    size_t n_bars;
    tito_milestone_report student, reference;
    /* Reference training time / the student's, each the median over time_trials runs
     * alternating between the two programs: 1.0 is as fast, 0.5 twice as slow; NaN when
     * either is unknown. */
    double time_ratio;
    double reference_train_median, student_train_median;
    unsigned time_trials;
    /* Provenance. */
    tito_milestone_source sources[32];
    size_t n_sources;
    char milestone_hash[TITO_KIT_HASH_SIZE]; /* the trusted program sources and table */
    char reference_hash[TITO_KIT_HASH_SIZE];
    bool reference_cached;  /* the reference program came from the cache */
    char *compiler;
    char *isolation;        /* the sandbox mechanisms in force for the student's run */
    char *tito_version;
    char *commit;           /* the workspace's HEAD, set by the caller (NULL: unknown) */
    bool dirty;             /* uncommitted changes in the modules' files (the caller's) */
    unsigned limit_cpu_seconds, limit_mem_mb;
    double limit_wall_seconds;
    double seconds_build, seconds_run;
} tito_milestone_result;

/* What tito_milestone_run is doing, for a progress display. */
typedef enum tito_milestone_phase {
    TITO_MILESTONE_PHASE_BUILD_REFERENCE, /* the program on the reference (or the cache) */
    TITO_MILESTONE_PHASE_BUILD_STUDENT,   /* the student's modules and the program */
    TITO_MILESTONE_PHASE_RUN_REFERENCE,
    TITO_MILESTONE_PHASE_RUN_STUDENT,
    TITO_MILESTONE_PHASE_TIME,            /* more runs of both, for the time ratio */
} tito_milestone_phase;

typedef struct tito_milestone_event {
    tito_milestone_phase phase;
    bool done;              /* false when the phase starts, true when it ends */
    double seconds;         /* done: how long it took */
    double expected_seconds; /* RUN_STUDENT start: the reference's run time (a hint) */
    bool from_cache;        /* BUILD_REFERENCE done: the program came from the cache */
    bool ok;                /* done: it succeeded (a build that failed, a run that did not report) */
} tito_milestone_event;

typedef void (*tito_milestone_progress_fn)(void *ctx, const tito_milestone_event *event);

typedef struct tito_milestone_options {
    const char *temp_parent; /* where the working directory goes; NULL: $TMPDIR or /tmp */
    /* Extra absolute paths no sandboxed child may see (NULL-terminated), or NULL:
     * e.g. the workspace's .tito/ and the user's tito configuration. */
    const char *const *hidden_paths;
    bool no_cache;           /* link the reference program again */
    /* The student's run gets min_timeout + timeout_factor x the reference's wall time
     * (0: 30 s and 20), and memory_mb of address space (0: 1024). */
    double min_timeout;
    double timeout_factor;
    unsigned memory_mb;
    /* Runs of each program the time ratio is the median of (1: the judged runs only;
     * 0: TITO_MILESTONE_AUTO_TRIALS when the reference's judged run took under
     * TITO_MILESTONE_AUTO_TRIALS_SECONDS, else 1: a long training is not repeated
     * unasked). */
    unsigned timing_trials;
    const char *tito_version; /* recorded in the receipt; NULL: unknown */
    tito_milestone_progress_fn progress;
    void *progress_ctx;
} tito_milestone_options;

#define TITO_MILESTONE_AUTO_TRIALS 3
#define TITO_MILESTONE_AUTO_TRIALS_SECONDS 10.0

#define TITO_MILESTONE_OPTIONS_INIT { .temp_parent = NULL }

/* Build milestone m from the workspace at `workspace_root` (its modules/<slug>/<name>.c
 * for every module first..last of m) and from the reference, run both, and judge.
 * *out gets the result (tito_milestone_result_free) whenever the milestone could be
 * checked, whatever the student's code did. Errors (*out NULL): TT_ERR_STATE (a module
 * of m not started: the message names each; the reference program failing: an internal
 * error), TT_ERR_IO (no milestones in the kit, files), TT_ERR_NOMEM, the sandbox's. */
tt_status tito_milestone_run(tito_milestone_result **out, const tito_kit *kit,
                             const tito_milestone *m, const char *workspace_root,
                             const tito_milestone_options *options);

/* Free a result and everything it owns. NULL does nothing. */
void tito_milestone_result_free(tito_milestone_result *r);

/* A JSON number into *out, null as NaN: true; false (and *out untouched) otherwise. */
bool tito_milestone_number(const json_t *v, double *out);

/* The metric `key` of a reported run: its value, NaN for null; false when missing. */
bool tito_milestone_metric_value(const tito_milestone_report *rep, const char *key, double *value);

/* How far a measured value is from a missed bar, in words, into buf: "47.5 points short"
 * for accuracies, "0.0087 short" or "0.12 over" otherwise, "not a number" for NaN.
 * Returns buf. */
const char *tito_milestone_shortfall(char *buf, size_t size, const tito_milestone_bar *b,
                                     double value);

/* The likely causes of a missed bar (docs/milestones.md, "When a milestone fails"),
 * chosen from the student's measurements: up to `max` sentences (static strings) into
 * causes; returns how many. None for a reached milestone. */
size_t tito_milestone_causes(const char **causes, size_t max, const tito_milestone_result *r);

/* ------------------------------------------------------------ receipts */

/* The receipt of a run as JSON (a new reference, the caller's); created_at 0: now.
 * Errors: TT_ERR_NOMEM. */
tt_status tito_milestone_receipt_to_json(json_t **out, const tito_milestone_result *r,
                                         time_t created_at);

/* Write it to `path` atomically (0644), creating missing folders. Errors: TT_ERR_IO,
 * TT_ERR_NOMEM. */
tt_status tito_milestone_receipt_write(const char *path, const tito_milestone_result *r,
                                       time_t created_at);

/* What a milestone receipt says, read back and checked. */
typedef struct tito_milestone_receipt {
    int number;
    char slug[32];
    tito_milestone_outcome outcome;
    bool reached;
    char created_at[32];
    tito_milestone_bar_result bars[TITO_MILESTONE_MAX_BARS]; /* bar strings point into
                                                                the table */
    size_t n_bars;
    double time_ratio;      /* NaN when null */
} tito_milestone_receipt;

/* Parse and check a milestone receipt (`len` bytes; `origin` names it in messages):
 * schema "tito-receipt/1", kind "milestone", a milestone of the table with its slug,
 * an outcome, a UTC created_at, and one entry per bar of the table whose "met" agrees
 * with the value. Errors: TT_ERR_FORMAT ("receipt <origin>: <field>: <reason>"). */
tt_status tito_milestone_receipt_parse(tito_milestone_receipt *out, const char *text, size_t len,
                                       const char *origin);

#endif /* TITO_MILESTONE_H */
