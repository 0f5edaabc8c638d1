/*
 * grader/batch.h: grading a whole class (`tito grade --batch ROSTER`).
 *
 * A batch has three steps, each usable alone:
 *
 *   1. prepare: fetch every student's repository with libgit2 into OUT/repos/<id>.git
 *      (a bare clone, updated by a fetch on later runs; a failing fetch is recorded for
 *      that student and the batch goes on), then for every module of the course pick
 *      the commit to grade by the deadlines and the late policy (grader/late.h), charge
 *      grace days and penalties, and extract each graded module's source at its commit
 *      to OUT/sources/<id>/<slug>/<commit>/<name>.c. The jobs are the (student, module)
 *      pairs with a commit to grade, in roster then module order; they are written to
 *      OUT/plan.json, which is all a worker needs.
 *   2. grade: each job is graded in full (build, run, hidden checks, memcheck, speed in
 *      the deterministic mode so that a busy machine gives the same score), in its own
 *      process, and its receipt written atomically to
 *          OUT/receipts/<id>/<slug>/<commit>-<kit key>.json
 *      The kit key is a hash of the module's suite and the reference: the same commit
 *      graded by the same checks is never graded twice, and a fixed check regrades
 *      everything. A job whose receipt exists is done; that is what makes an
 *      interrupted batch resumable. Jobs run in a local pool of processes
 *      (tito_batch_run_local) or as a Slurm array job (tito_batch_run_slurm), whose
 *      tasks run `tito grade --batch ... --worker-slice I/N` on the same OUT.
 *   3. collect: grader/gradebook.h reads the receipts back and makes the gradebook.
 *
 * One batch at a time per OUT: prepare and the local pool hold OUT/.lock.
 *
 * Nothing here prints: progress goes to a callback, errors are tt_status values with
 * tt_error_last() messages.
 */
#ifndef TITO_BATCH_H
#define TITO_BATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "course.h"
#include "kit.h"
#include "modules.h"
#include "roster.h"
#include "tinytorch/core.h"

#define TITO_BATCH_JOBS_SCHEMA "tito-batch-plan/1"

/* Where a student's work for a module stands once the commits are chosen. */
typedef enum tito_submission_state {
    TITO_SUBMISSION_COMMIT,  /* a commit to grade */
    TITO_SUBMISSION_MISSING, /* no commit changed the module's source by the cutoff */
    TITO_SUBMISSION_NO_REPO, /* the student's repository could not be fetched */
} tito_submission_state;

/* "commit", "missing", "no-repository". */
const char *tito_submission_state_name(tito_submission_state state);

/* One student and one module of the course. */
typedef struct tito_batch_item {
    const tito_module *module;
    tito_submission_state state;
    bool graded;            /* a module of this batch (the others only count for grace) */
    bool has_deadline;
    long long deadline;     /* the student's: the module's plus any extension */
    int extension_days;
    char commit[41];        /* TITO_SUBMISSION_COMMIT: the commit graded (hex) */
    long long commit_time;  /* its committer time */
    int late_days, grace_used;
    double penalty_percent;
    char *source;           /* graded items with a commit: the extracted source */
    char *receipt;          /* ... and where its receipt goes */
} tito_batch_item;

typedef struct tito_batch_student {
    const tito_roster_student *who; /* borrowed from the roster */
    bool fetched;
    char *fetch_error;      /* why the repository could not be fetched, or NULL */
    char tip[41];           /* the commit graded from (the branch's tip) */
    tito_batch_item *items; /* one per module of the table, in table order */
} tito_batch_student;

typedef struct tito_batch_plan {
    char *out_dir;          /* absolute */
    const tito_course *course;               /* borrowed */
    const tito_module **modules;             /* the modules graded, table order */
    size_t n_modules;
    tito_batch_student *students;            /* roster order */
    size_t n_students;
} tito_batch_plan;

/* One grading job: what a worker needs, and nothing it would have to look up. */
typedef struct tito_batch_job {
    char *student;
    const tito_module *module;
    char commit[41];
    char *source;
    char *receipt;
} tito_batch_job;

typedef struct tito_batch_jobs {
    tito_batch_job *jobs;
    size_t n;
} tito_batch_jobs;

/* Called after each student's repository was fetched (or failed to be). */
typedef void (*tito_batch_fetch_fn)(void *ctx, size_t index, size_t total,
                                    const tito_batch_student *student);

typedef struct tito_batch_options {
    const char *out_dir;               /* required; created when missing */
    const tito_module *const *modules; /* the modules to grade; NULL: see tito_batch_default_modules */
    size_t n_modules;
    bool no_fetch;                     /* use existing clones as they are (clone missing ones) */
    double fetch_timeout;              /* seconds one fetch may take; 0: the default
                                          (grader/fetch.h) */
    tito_batch_fetch_fn on_fetch;
    void *ctx;
} tito_batch_options;

#define TITO_BATCH_OPTIONS_INIT { .out_dir = NULL }

/* The modules a batch grades when none are named: those with a suite in the kit and a
 * weight above 0 in the course, in table order, into out[] (room for tito_module_count);
 * returns how many. */
size_t tito_batch_default_modules(const tito_module **out, const tito_kit *kit,
                                  const tito_course *course);

/* Step 1 (see the top of the file). Fetch failures are in the plan, not errors.
 * Errors: TT_ERR_INVALID_ARG (no out_dir, a module without a suite in the kit),
 * TT_ERR_STATE (another batch holds OUT/.lock), TT_ERR_IO (OUT cannot be written, a
 * clone that can be read but not walked), TT_ERR_NOMEM. */
tt_status tito_batch_prepare(tito_batch_plan **out, const tito_course *course,
                             const tito_roster *roster, const tito_kit *kit,
                             const tito_batch_options *options);

void tito_batch_plan_free(tito_batch_plan *plan);

/* The plan's jobs (graded items with a commit), in roster then module order; with
 * `pending_only`, only those whose receipt does not exist yet. The strings are copies:
 * free with tito_batch_jobs_release. Errors: TT_ERR_NOMEM. */
tt_status tito_batch_plan_jobs(tito_batch_jobs *out, const tito_batch_plan *plan, bool pending_only);

/* Write every job of the plan to OUT/plan.json (atomically), and read such a file back
 * (Errors: TT_ERR_IO, TT_ERR_FORMAT naming the field, TT_ERR_NOMEM). */
tt_status tito_batch_jobs_write(const tito_batch_jobs *jobs, const char *path);
tt_status tito_batch_jobs_read(tito_batch_jobs *out, const char *path);

/* Keep only the jobs whose receipt does not exist, and of those only every count-th from
 * `index` (a worker's slice; count 1: all). */
void tito_batch_jobs_filter(tito_batch_jobs *jobs, unsigned index, unsigned count);

void tito_batch_jobs_release(tito_batch_jobs *jobs);

/* For checking a claim about one commit (grader/verify.h): the source of module m at
 * `commit` (40 hex digits) in the repository of `who`, extracted to
 * OUT/sources/<id>/<slug>/<commit>/<name>.c as a batch does, into *source. The
 * repository is fetched into OUT/repos first (updated when `fetch`; a clone that is
 * missing is always made). What is the student's (no repository, no such commit, no
 * such file at that commit) is a message in *why with TT_OK and *source NULL; the
 * caller frees both. Errors: TT_ERR_IO (OUT), TT_ERR_NOMEM. */
tt_status tito_batch_source_at(char **source, char **why, const char *out_dir,
                               const tito_roster_student *who, bool fetch, const tito_module *m,
                               const char *commit);

/* Where the receipt of grading module m of `student` at `commit` with this kit goes:
 * OUT/receipts/<student>/<slug>/<commit>-<kit key>.json (a new string). Errors:
 * TT_ERR_IO (the kit cannot be read), TT_ERR_NOMEM. */
tt_status tito_batch_receipt_path(char **out, const char *out_dir, const tito_kit *kit,
                                  const char *student, const tito_module *m, const char *commit);

/* ---------------------------------------------------------------- grading */

/* Grade one job in this process and write its receipt (or, when the grader itself
 * failed, `<receipt>.error` with the message, and return the error). `temp_parent`:
 * where working directories go (NULL: $TMPDIR or /tmp). */
tt_status tito_batch_grade_job(const tito_batch_job *job, const tito_kit *kit,
                               const tito_course *course, const char *tito_version,
                               const char *temp_parent);

/* What the pool tells its caller after each job. */
typedef struct tito_batch_progress {
    size_t done, total;      /* jobs finished (graded or failed) of this run */
    size_t failed;           /* jobs the grader could not grade */
    double elapsed, eta;     /* seconds; eta < 0 until one job is done */
    const tito_batch_job *job; /* the job that just finished */
    bool ok;                 /* its receipt was written */
    int earned, possible;    /* from its receipt, when ok */
    const char *message;     /* why it failed, when not ok */
} tito_batch_progress;

typedef void (*tito_batch_progress_fn)(void *ctx, const tito_batch_progress *progress);

typedef struct tito_batch_pool {
    const tito_kit *kit;
    const tito_course *course;
    const char *tito_version;
    unsigned workers;        /* processes at once; 0: one */
    tito_batch_progress_fn on_progress;
    void *ctx;
    /* Set (by a signal handler) to stop: running jobs are killed, none is started. */
    volatile sig_atomic_t *stop;
} tito_batch_pool;

typedef struct tito_batch_stats {
    size_t graded, failed;
    bool interrupted;
    double seconds;
} tito_batch_stats;

/* Grade `jobs` in a pool of `workers` processes, one job per process (a grader bug on
 * one submission cannot take the batch down). Errors: TT_ERR_IO (fork failed),
 * TT_ERR_NOMEM; a job the grader could not grade is counted in stats->failed. */
tt_status tito_batch_run_local(tito_batch_stats *stats, const tito_batch_jobs *jobs,
                               const tito_batch_pool *pool);

/* The Slurm engine: write OUT/slurm/job.sh, which runs
 *     <tito> grade --batch <roster> --out <OUT> [--course FILE] --worker-slice $SLURM_ARRAY_TASK_ID/<tasks>
 * and submit it with `sbatch --wait --array=0-<tasks-1>` (plus `sbatch_args`, split at
 * spaces), logs in OUT/slurm/. Returns when the array job is over; stats count the
 * receipts that exist afterwards. Errors: TT_ERR_IO (sbatch missing or refusing the
 * job: the message has sbatch's words), TT_ERR_NOMEM. */
typedef struct tito_batch_slurm {
    const char *tito;        /* absolute path of the tito to run on the nodes */
    const char *roster;      /* absolute */
    const char *course_file; /* absolute, or NULL for the built-in course */
    const char *modules;     /* the --modules argument, or NULL */
    unsigned tasks;          /* array size; 0: one per job, at most 64 */
    const char *sbatch;      /* NULL: "sbatch" from PATH */
    const char *sbatch_args; /* extra arguments, e.g. "--partition=short --time=30" */
    volatile sig_atomic_t *stop;
} tito_batch_slurm;

tt_status tito_batch_run_slurm(tito_batch_stats *stats, const tito_batch_plan *plan,
                               const tito_batch_jobs *jobs, const tito_batch_slurm *slurm);

#endif /* TITO_BATCH_H */
