/*
 * grader/gradebook.h: a class's grades, made from a batch plan and the receipts its jobs
 * left (grader/batch.h), and written three ways:
 *
 *   gradebook.csv    for an LMS: one row per student (id, name, email), one column per
 *                    module, then total; percentages after late penalties, two decimals
 *   gradebook.json   "tito-gradebook/1": per student and module the commit graded, its
 *                    time, the deadline, late days, grace used, penalty, points, and the
 *                    whole receipt (less created_at and timings, which describe the run,
 *                    not the work)
 *   summary          text for a terminal: mean, median, a histogram of totals, per-check
 *                    pass rates, the most failed checks, the checks that ran out of time
 *                    and the speed kernels' ratios
 *
 * Receipts are rescored with the course in effect (tito_score_apply): changing a
 * module's points or bands in the course file changes the gradebook without regrading,
 * and so does the late policy.
 *
 * The CSV and the JSON hold nothing of the run itself (no dates of grading, no paths of
 * OUT, no timings): the same roster graded twice gives byte-identical files.
 *
 * A total is the weighted mean of the module percentages (the course's weights; a
 * module missing or unfetchable counts 0).
 */
#ifndef TITO_GRADEBOOK_H
#define TITO_GRADEBOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "batch.h"
#include "course.h"
#include "grade.h"
#include "tinytorch/core.h"

#define TITO_GRADEBOOK_SCHEMA "tito-gradebook/1"

typedef enum tito_gradebook_state {
    TITO_GB_GRADED,  /* a receipt */
    TITO_GB_MISSING, /* nothing committed by the cutoff */
    TITO_GB_NO_REPO, /* the repository could not be fetched */
    TITO_GB_ERROR,   /* the grader could not grade it (see message); a rerun tries again */
    TITO_GB_PENDING, /* not graded yet (an interrupted batch) */
} tito_gradebook_state;

/* "graded", "missing", "no-repository", "error", "pending". */
const char *tito_gradebook_state_name(tito_gradebook_state state);

typedef struct tito_gradebook_entry {
    const tito_batch_item *item; /* borrowed from the plan */
    tito_gradebook_state state;
    char *message;          /* NO_REPO, ERROR: why */
    tito_grade *grade;      /* GRADED: the receipt's grade, rescored */
    int earned, possible;   /* before the penalty; possible from the course when not graded */
    double score;           /* earned less the penalty */
    double percent;         /* score / possible x 100 */
} tito_gradebook_entry;

typedef struct tito_gradebook_student {
    const tito_batch_student *who; /* borrowed from the plan */
    tito_gradebook_entry *entries; /* one per graded module, in the plan's order */
    double total;
    int grace_used;                /* over every module of the course */
} tito_gradebook_student;

typedef struct tito_gradebook {
    const tito_batch_plan *plan;   /* borrowed */
    const tito_course *course;     /* borrowed */
    tito_gradebook_student *students;
    size_t n_students;
} tito_gradebook;

/* Read every receipt of the plan and make the gradebook. A receipt that cannot be read
 * is an entry in state ERROR, not an error. Errors: TT_ERR_NOMEM. */
tt_status tito_gradebook_build(tito_gradebook **out, const tito_batch_plan *plan,
                               const tito_course *course);

void tito_gradebook_free(tito_gradebook *gb);

/* The CSV (RFC 4180, CRLF): id,name,email,<slug>...,total. */
tt_status tito_gradebook_csv(char **out, const tito_gradebook *gb);

/* The JSON text (indented, ending in a newline). */
tt_status tito_gradebook_json(char **out, const tito_gradebook *gb);

/* The summary for a terminal; `width` is the histogram's longest bar. */
tt_status tito_gradebook_summary(char **out, const tito_gradebook *gb, int width);

/* Write OUT/gradebook.csv, OUT/gradebook.json and OUT/summary.txt atomically. */
tt_status tito_gradebook_write(const tito_gradebook *gb, const char *out_dir);

/* What would change against an older gradebook.json (`old_text`, `len` bytes; `origin`
 * names it in messages): a report, one line per student whose total or any module's
 * percentage differs, with the counts up and down; *changed gets how many students.
 * Errors: TT_ERR_FORMAT (not a tito-gradebook/1 file), TT_ERR_NOMEM. */
tt_status tito_gradebook_compare(char **report, size_t *changed, const char *old_text, size_t len,
                                 const char *origin, const tito_gradebook *gb);

#endif /* TITO_GRADEBOOK_H */
