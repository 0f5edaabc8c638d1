/*
 * grader/course.h: the course file, which says what a course grades and how.
 *
 * A course file (JSON, schema "tito-course/1", documented in docs/course-file.md)
 * names the course, gives each module of the module table its weight, its points
 * (correctness, memcheck, speed), its speed bands and the share of its points that
 * completes it, and sets the limits of a grading run and the leaderboard's address.
 * tito carries one course file built in (grader/course/default.json, or the file CMake's
 * TITO_COURSE_FILE names); `--course FILE` replaces it for one command.
 *
 * Loading validates the whole file and refuses a malformed one with the exact field and
 * the reason, e.g.
 *     course file x.json: modules[2].weight: expected a number, got "ten"
 * so an instructor's typo never becomes a silent default. Fields marked optional in the
 * documentation get their defaults here, and nowhere else.
 *
 * A course may also give each module a deadline and the course a late policy (grace
 * days each student may spend over the term, a penalty per late day with a cap, how
 * late work may still come in, and extensions for named students): batch grading
 * (grader/batch.h) takes each module's commit by them, and grader/late.h does the
 * arithmetic.
 *
 * Memory: a tito_course and everything in it belong to the caller of the loader and
 * go with one tito_course_free. Nothing here prints.
 */
#ifndef TITO_COURSE_H
#define TITO_COURSE_H

#include <stdbool.h>
#include <stddef.h>

#include "modules.h"
#include "tinytorch/core.h"

#define TITO_COURSE_SCHEMA "tito-course/1"

/* A speed band: a speed ratio (reference time / student time) of at least min_ratio
 * earns `points`. A module's bands are sorted by min_ratio, highest first. */
typedef struct tito_speed_band {
    double min_ratio;
    int points;
} tito_speed_band;

typedef struct tito_course_module {
    const tito_module *module; /* the entry of the module table */
    bool has_deadline;         /* false: no deadline (batch grading takes the latest work) */
    long long deadline;        /* seconds since the epoch, UTC */
    double weight;             /* share of the course grade, relative to the others */
    double pass_bar;           /* fraction of the possible points that completes it, (0, 1] */
    int points_correctness;
    int points_memcheck;
    int points_speed;
    tito_speed_band *bands;
    size_t n_bands;
} tito_course_module;

/* An extension: `days` more for one student, on one module or (module NULL) on all. */
typedef struct tito_extension {
    char *student;             /* a roster id */
    const tito_module *module; /* NULL: every module */
    int days;
} tito_extension;

/* What happens to work that comes in after a deadline (docs/course-file.md). */
typedef struct tito_late_policy {
    int grace_days;         /* days each student may be late over the whole term, free */
    double penalty_per_day; /* percent of a module's points per late day beyond grace */
    double penalty_cap;     /* the most percent a module can lose */
    int max_late_days;      /* commits later than this many days after a deadline do not
                             * count; -1: no limit (the cap decides) */
    tito_extension *extensions;
    size_t n_extensions;
} tito_late_policy;

typedef struct tito_course {
    char *id;              /* "tinytorch-c-2026": what a workspace records and checks */
    char *title;           /* "TinyTorch-C 2026" */
    char *term;            /* "" when not given */
    char *leaderboard_url; /* "" when the course has no leaderboard */
    bool unlock_in_order;  /* module N needs module N-1 completed */
    unsigned cpu_s, mem_mb, wall_s; /* limits of one probe run */
    /* Without a "late_policy" in the file: no grace, no penalty, max_late_days 0 (a
     * deadline is strict), no extensions. */
    tito_late_policy late;
    /* One entry per module of the table, in table order (whatever the file's order). */
    tito_course_module *modules;
    size_t n_modules;
    char *origin; /* "built-in" or the path it was read from: used in messages */
    char *text;   /* the file's bytes as read, NUL-terminated (written into workspaces) */
    size_t text_len;
} tito_course;

/* Parse and validate the course file text `text` (`len` bytes); `origin` names it in
 * messages ("x.json", or "built-in"). On success *out is a new course; on error *out
 * is NULL and tt_error_last() reads "course file <origin>: <field>: <reason>".
 * Errors: TT_ERR_FORMAT (not JSON, wrong schema, a missing, mistyped, out-of-range or
 * unknown field, a module slug not in the module table, a module listed twice or not
 * at all), TT_ERR_NOMEM. */
tt_status tito_course_parse(tito_course **out, const char *text, size_t len, const char *origin);

/* Read and validate the course file at `path`. Errors: those of tito_course_parse,
 * and TT_ERR_IO when the file cannot be read ("course file x.json: cannot open ..."). */
tt_status tito_course_load(tito_course **out, const char *path);

/* The course built into tito. Errors: TT_ERR_FORMAT only if the build embedded a bad
 * file (the build's tests catch that), TT_ERR_NOMEM. */
tt_status tito_course_builtin(tito_course **out);

/* The course in effect for a command: the file `path` when it is not NULL, else the
 * file named by the environment variable TITO_COURSE when it is set and not empty,
 * else the course file a release installed next to tito
 * (<directory of tito>/../share/tinytorch/course.json, when there is one: `tito course
 * release` puts the instructor's course there), else the built-in course.
 * Errors: those of tito_course_load. */
tt_status tito_course_resolve(tito_course **out, const char *path);

/* Free a course; NULL does nothing. */
void tito_course_free(tito_course *course);

/* The course's settings for module `m` (never NULL for a module of the table, since
 * every course lists every module). */
const tito_course_module *tito_course_module_of(const tito_course *course, const tito_module *m);

/* The points a module is worth: correctness + memcheck + speed. */
int tito_course_module_possible(const tito_course_module *cm);

/* The speed points a ratio earns: those of the first band (highest min_ratio first)
 * whose min_ratio the ratio reaches, else 0. */
int tito_course_speed_points(const tito_course_module *cm, double ratio);

/* The extension of `student` on module m in days: the entry naming that module, else
 * the student's entry for every module, else 0. */
int tito_course_extension_days(const tito_course *course, const char *student, const tito_module *m);

/* Whether `id` is a well-formed student id (roster ids and extensions): 1 to 64 of
 * letters, digits and . _ - @, starting with a letter or digit. */
bool tito_student_id_valid(const char *id);

/* Whether `earned` of `possible` points meet the module's pass bar (so the grade
 * completes the module). False when possible <= 0. */
bool tito_course_passes(const tito_course_module *cm, int earned, int possible);

#endif /* TITO_COURSE_H */
