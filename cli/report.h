/*
 * cli/report.h: how tito shows a grade to a person: the report of `tito module test`,
 * `tito grade` and `tito dev grade`, the hints about what to do next, and the progress
 * bar shown while a long grade runs.
 *
 * A report is built from a tito_grade (grader/grade.h) and nothing else, so every
 * command that grades shows the same things the same way:
 *
 *   Module 01 · tensor                       seed 0x94cf72d633add41a  commit 4c2a9e1 (clean)
 *   Building module 01 against the reference … ok (2.1 s)
 *     ✓ creation (6)  ✓ views (7)  ✓ elementwise (10)  ✓ matmul (6)
 *     ✗ sum.axis0                  out[1]: expected 5.0, got 4.0 (1 of 3 values differ)
 *                                  out = sum(t, axis=0);  t: [2,3]
 *     hidden: ✓ elementwise (4)  ✓ matmul (3)  ✗ reductions (1 of 3 failing: fail)
 *     correctness   visible 36/37   hidden 14/15 (1 failing: reductions ×1)     67/70
 *     memory        no leaks, no invalid accesses (Valgrind)                      15/15
 *     speed         matmul_512: 0.93× reference (median of 7, spread ±2%)  band ≥0.25×  15/15
 *     total                                                                       97/100
 *
 * Hidden checks are only ever shown by category and verdict (the receipt's public view,
 * grader/receipt.h). Colour follows cli/term.h.
 */
#ifndef TITO_REPORT_H
#define TITO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "course.h"
#include "grade.h"

typedef struct tito_report_options {
    /* Printed after "Module 01 · tensor" in the header: "— visible checks", a file name. */
    const char *subtitle;
    /* Show the workspace commit and whether the module's file has uncommitted changes
     * (from the grade's provenance). */
    bool commit;
    /* Every visible check on a line of its own with its points (the course author's
     * view), instead of passing categories collapsed to "✓ creation (6)". */
    bool every_check;
    /* The compiler's whole output when the build failed, not only its first error. */
    bool full_log;
    /* The course's entry for the module: speed bands named in the speed line. May be NULL. */
    const tito_course_module *course_module;
} tito_report_options;

/* The whole report of a grade: header, build line, visible checks, hidden checks by
 * category, and for a full grade the correctness, memory, speed and total lines. The
 * last line (counts and the next step) is the caller's: see tito_report_summary. */
void tito_report_print(FILE *f, const tito_grade *g, const tito_report_options *o);

/* "29 of 37 visible checks pass" (and the hidden counts when there are hidden checks)
 * and the points, on one line without a newline. With a -k filter (else NULL): the
 * counts of the matching checks, and no points. */
void tito_report_counts(FILE *f, const tito_grade *g, const char *filter);

/* Whether every check of the grade passed: every case, the build, no memcheck finding,
 * every speed kernel measured. This is exit status 0 for the grading commands. */
bool tito_report_all_pass(const tito_grade *g);

/* The category to work on first: the first category (in the suite's order) with a
 * failing visible check, else with a failing hidden check; NULL when all pass. A `-k`
 * pattern that selects its visible checks goes into pattern (size bytes): the common
 * prefix of their names up to a '.', else the name of its first failing check. */
const char *tito_report_first_failing(const tito_grade *g, char *pattern, size_t size);

/* The correctness share of a scored grade: points earned and possible (total minus the
 * memory and speed shares). */
void tito_report_correctness(const tito_grade *g, int *earned, int *possible);

/* ------------------------------------------------------------ progress bar */

/* A bar on a terminal while a grade runs, with the step in progress and an estimate of
 * the time left:
 *     ██████████░░░░░░░░░░  memcheck  14 s, about 9 s left
 * Steps are weighted by their expected seconds (from the previous receipt of the module
 * when there is one). Nothing is drawn unless `f` is a terminal, and nothing before the
 * grade has run for a moment, so quick runs and pipes stay plain. Steps may be started
 * and ended from several threads. */
typedef struct tito_progress_bar tito_progress_bar;

typedef struct tito_progress_step {
    const char *name;      /* "build", "visible", "hidden", "memcheck", "speed" */
    const char *label;     /* what the bar says while it runs: "building" */
    double expected;       /* seconds */
} tito_progress_step;

/* Start a bar over `n` steps (copied). Returns NULL when there is nothing to draw on
 * (not a terminal, or no memory): every function below accepts NULL. */
tito_progress_bar *tito_progress_bar_start(FILE *f, const char *title, const tito_progress_step *steps,
                                           size_t n);

/* Step `name` started (done false) or ended (done true); unknown names are ignored.
 * The signature fits tito_grade_options.progress. */
void tito_progress_bar_step(void *bar, const char *name, bool done);

/* Stop drawing, erase the bar and free it. */
void tito_progress_bar_stop(tito_progress_bar *bar);

#endif /* TITO_REPORT_H */
