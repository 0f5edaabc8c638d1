/*
 * grader/export.h: a grade rendered for other tools.
 *
 *   Gradescope   results.json of a code autograder: top-level score, execution_time,
 *                output, visibility, tests [{score, max_score, status, name, number,
 *                output, visibility, tags}], leaderboard (the speed ratios, optional);
 *   JUnit XML    <testsuites><testsuite><testcase> with <failure>, <error>, <skipped>,
 *                for CI dashboards (written by hand, escaped for XML 1.0);
 *   CSV          RFC 4180 rows (CRLF line ends, fields with a comma, quote, CR or LF
 *                quoted, quotes doubled): one summary row per grade for a gradebook, or
 *                one row per check.
 *
 * Every exporter shows hidden checks as receipts do ("hidden.<category>.<n>" and a
 * category-level hint) unless `reveal_hidden` is set, which is for an instructor's own
 * files only: never for anything a student can read, such as Gradescope output.
 * Text is valid UTF-8 in every output (bad bytes become U+FFFD); XML output also
 * replaces the control characters XML 1.0 cannot carry.
 *
 * Each function returns a new NUL-terminated text in *out (the caller frees it with
 * free()); *out stays NULL on error. Errors: TT_ERR_INVALID_ARG, TT_ERR_NOMEM.
 */
#ifndef TITO_EXPORT_H
#define TITO_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"
#include "tinytorch/core.h"

typedef struct tito_export_options {
    bool reveal_hidden;            /* real names and messages of hidden checks */
    const char *hidden_visibility; /* Gradescope visibility of hidden checks; NULL: "after_published" */
    bool leaderboard;              /* Gradescope: one leaderboard column per speed kernel */
    const char *student;           /* CSV: the student column (login, id); NULL: "" */
} tito_export_options;

#define TITO_EXPORT_OPTIONS_INIT { .reveal_hidden = false }

/* Gradescope's results.json for one graded module. */
tt_status tito_export_gradescope(char **out, const tito_grade *grade, const tito_export_options *options);

/* A JUnit XML document: one <testsuite> named after the module, one <testcase> per
 * check (classname "<slug>.<category>"), plus "memcheck" and one "speed" case per kernel
 * when they ran. Verdicts map to <failure> (fail, leak, memory-error), <error> (crash,
 * timeout, limits, compile and link errors) and <skipped>. */
tt_status tito_export_junit(char **out, const tito_grade *const *grades, size_t n_grades,
                            const tito_export_options *options);

/* The header line of the summary rows, CRLF-terminated:
 * student,module,mode,earned,possible,percent,build,checks_passed,checks_total,
 * hidden_passed,hidden_total,memcheck,memcheck_points,speed_ratio,speed_points,seed,commit,dirty */
tt_status tito_export_csv_header(char **out);

/* One summary row for `grade` (speed_ratio: the first kernel's, empty when none). */
tt_status tito_export_csv_row(char **out, const tito_grade *grade, const tito_export_options *options);

/* One row per check: student,module,check,category,visibility,status,points,max_points,message;
 * with the header line first when `header` is true. */
tt_status tito_export_csv_checks(char **out, const tito_grade *grade, const tito_export_options *options,
                                 bool header);

/* `s` escaped for XML character data (attribute: also quotes, and tabs and line breaks
 * as character references so that they survive attribute normalisation). */
char *tito_xml_escape(const char *s, bool attribute);

/* `s` as one CSV field (quoted when it must be). */
char *tito_csv_field(const char *s);

#endif /* TITO_EXPORT_H */
