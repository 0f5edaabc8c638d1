/*
 * grader/progress.h: a student's progress through the course, kept in the workspace
 * as .tito/progress.json (schema "tito-progress/1") and committed with the work, so
 * the history of every grade is in git.
 *
 *     {"schema": "tito-progress/1", "course": "tinytorch-c-2026",
 *      "modules": {"01_tensor": {"state": "completed", "started_at": "2026-11-26T12:00:01Z",
 *                                "completed_at": "2026-11-26T19:42:10Z",
 *                                "best": {"earned": 92, "possible": 100,
 *                                         "at": "2026-11-26T19:42:10Z", "commit": "4c2a9e1..."},
 *                                "last": {...}, "resets": 1}, ...}}
 *
 * The stored states are not-started, started and completed; "locked" is not stored,
 * since it follows from the course (unlock_in_order) and the previous module's state.
 * Fields this tito does not know (written by a newer one) survive a read and a write.
 *
 * Reading is strict about what it understands: a file that is not JSON, or a known
 * field of the wrong type, is refused with the path and the field, never guessed at.
 * Nothing here prints; a tito_progress goes with tito_progress_free.
 */
#ifndef TITO_PROGRESS_H
#define TITO_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "course.h"
#include "modules.h"
#include "tinytorch/core.h"

#define TITO_PROGRESS_SCHEMA "tito-progress/1"

typedef enum tito_module_state {
    TITO_STATE_NOT_STARTED = 0,
    TITO_STATE_STARTED,   /* the starter was handed out (tito module start) */
    TITO_STATE_COMPLETED, /* a grade met the course's pass bar; stays completed */
} tito_module_state;

/* "not-started", "started", "completed" (the words of the JSON file). */
const char *tito_module_state_name(tito_module_state state);

/* One grade of a module, as kept in the progress file. */
typedef struct tito_grade_record {
    bool present;     /* false: never graded */
    int earned, possible;
    char at[32];      /* when, UTC: "2026-11-26T19:42:10Z" */
    char commit[41];  /* the workspace's HEAD when graded (hex), "" when unknown */
} tito_grade_record;

typedef struct tito_module_progress {
    const tito_module *module;
    tito_module_state state;
    char started_at[32];   /* "" when not started */
    char completed_at[32]; /* "" when not completed */
    tito_grade_record best; /* the best share of points so far */
    tito_grade_record last; /* the latest grade */
    unsigned resets;        /* times `tito module reset` restored the starter */
} tito_module_progress;

/* ------------------------------------------------------------ milestones
 *
 * `tito milestone run` (grader/milestone.h) records each run of a milestone under
 * "milestones", keyed by the milestone's slug:
 *
 *     "milestones": {"03_mlp": {"number": 3, "runs": 2, "reached_at": "2026-...Z",
 *                               "reached": <record>, "last": <record>}}
 *     <record>: {"at": "...", "commit": "4c2a...", "reached": true,
 *                "metrics": {"test_accuracy": 0.975, "min_weight_change": 0.33},
 *                "train_seconds": 0.05, "reference_train_seconds": 0.04, "time_ratio": 0.8}
 *
 * "metrics" holds the measured value of each bar's metric (null: not a number); the
 * times are null when unknown. A milestone stays reached once reached. */

#define TITO_MILESTONE_MAX_METRICS 8

typedef struct tito_milestone_metric {
    char name[48];
    double value; /* NaN when the measurement was not a number */
} tito_milestone_metric;

/* One run of a milestone, as kept in the progress file. */
typedef struct tito_milestone_record {
    bool present;         /* false: no such run */
    bool reached;         /* every bar was met */
    char at[32];          /* when, UTC */
    char commit[41];      /* the workspace's HEAD when run (hex), "" when unknown */
    size_t n_metrics;
    tito_milestone_metric metrics[TITO_MILESTONE_MAX_METRICS];
    double train_seconds, reference_train_seconds; /* NaN when unknown */
    double time_ratio;    /* reference / student training time (higher is faster); NaN */
} tito_milestone_record;

typedef struct tito_milestone_progress {
    char slug[32];                 /* "03_mlp" */
    int number;
    char reached_at[32];           /* the first run that met every bar; "" when none did */
    tito_milestone_record reached; /* the latest run that met every bar */
    tito_milestone_record last;    /* the latest run */
    unsigned runs;
} tito_milestone_progress;

struct json_t;

typedef struct tito_progress {
    char *course_id;
    tito_module_progress *modules; /* one per module of the table, in table order */
    size_t n_modules;
    struct json_t *doc; /* the file as read (NULL for a new one): keeps unknown fields */
    tito_milestone_progress *milestones; /* in the order first run (or read) */
    size_t n_milestones;
} tito_progress;

/* A fresh progress for course `course_id`: every module not started. */
tt_status tito_progress_new(tito_progress **out, const char *course_id);

/* Parse the text of a progress file; `origin` (its path) starts every message.
 * Errors: TT_ERR_FORMAT ("<origin>: not valid JSON (line 3, column 1: ...)",
 * "<origin>: modules.01_tensor.state: expected ..."), TT_ERR_NOMEM. */
tt_status tito_progress_parse(tito_progress **out, const char *text, size_t len, const char *origin);

/* Read the progress file at `path`. Errors: those of tito_progress_parse; TT_ERR_IO. */
tt_status tito_progress_read(tito_progress **out, const char *path);

/* The JSON text of `p` (indented, ending in a newline), for writing or printing.
 * *out is freed with free(). Errors: TT_ERR_NOMEM. */
tt_status tito_progress_render(char **out, size_t *len, const tito_progress *p);

/* Write `p` to `path` atomically (grader/fsutil.h). Errors: TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_progress_write(const tito_progress *p, const char *path);

/* Free; NULL does nothing. */
void tito_progress_free(tito_progress *p);

/* The entry of module `m` (borrowed from `p`). */
tito_module_progress *tito_progress_module(tito_progress *p, const tito_module *m);

/* Mark `m` started at `now` unless it is already started or completed. */
void tito_progress_mark_started(tito_progress *p, const tito_module *m, time_t now);

/* Count a reset of `m` (a not-started module becomes started). */
void tito_progress_mark_reset(tito_progress *p, const tito_module *m, time_t now);

/* Record a grade of module cm->module: `earned` of `possible` points at time `when`
 * on commit `commit` (hex, or NULL). It becomes the last grade, and the best when its
 * share of the points is higher than the best's (or there is none). When it meets the
 * course's pass bar the module becomes completed (and stays so). *newly_completed (may
 * be NULL) says whether this grade completed it. For `tito grade`. */
void tito_progress_record_grade(tito_progress *p, const tito_course_module *cm, int earned,
                                int possible, const char *commit, time_t when,
                                bool *newly_completed);

/* Whether `m` may be started under `course`: always, unless the course unlocks
 * modules in order and the previous module is not completed; then *blocker (may be
 * NULL) gets that previous module. A module already started or completed is never
 * locked (the course may have changed since). */
bool tito_progress_unlocked(const tito_progress *p, const tito_course *course, const tito_module *m,
                            const tito_module **blocker);

/* The entry of the milestone `slug` (borrowed from `p`), or NULL when it never ran. */
tito_milestone_progress *tito_progress_milestone(tito_progress *p, const char *slug);

/* Record a run of milestone `number` (`slug`): it becomes the last run, and when it met
 * every bar the reached one (the first such run also sets reached_at). *newly_reached
 * (may be NULL) says whether this run reached the milestone for the first time.
 * Errors: TT_ERR_INVALID_ARG (a slug of 32 characters or more, or more metrics than
 * TITO_MILESTONE_MAX_METRICS), TT_ERR_NOMEM. */
tt_status tito_progress_record_milestone(tito_progress *p, int number, const char *slug,
                                         const tito_milestone_record *run, bool *newly_reached);

/* Format `t` as "2026-11-26T19:42:10Z" into buf (at least 21 bytes). */
void tito_time_format(char *buf, size_t size, time_t t);

#endif /* TITO_PROGRESS_H */
