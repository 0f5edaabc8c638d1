/*
 * grader/release.h: what students install (`tito course release OUT`).
 *
 * A release is a folder an instructor hands out (as a tarball, a package, a shared
 * folder):
 *
 *     bin/tito                         this tito
 *     share/tinytorch/kit/...          the grading kit (docs/grading.md): the headers,
 *                                      the starters, the guides, the visible checks as
 *                                      source (with the helpers.h they share with the
 *                                      hidden checks) and compiled, the hidden checks
 *                                      and the reference compiled only
 *     share/tinytorch/course.json      the course in effect (tito reads it first,
 *                                      grader/course.h)
 *     README.md                        how to install it and start
 *     SHA256SUMS                       every file's hash, for checking a copy
 *
 * Nothing else goes in: every file of the kit must be of a kind the list above allows
 * (a reference or hidden-check source dropped into the kit by mistake stops the
 * release), and with the source tree at hand the finished folder is searched for
 * solution text before it is put in place: every line longer than 20 characters of
 * every solution region of reference/src (besides lines that also appear outside the
 * regions or in the public headers, which students get anyway) must appear in no file
 * of the release except compiled objects and programs.
 *
 * The release is made in a side folder and renamed to OUT only when complete and
 * checked; OUT must not exist (or be an empty folder).
 */
#ifndef TITO_RELEASE_H
#define TITO_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

#include "course.h"
#include "kit.h"
#include "tinytorch/core.h"

typedef struct tito_release_options {
    const char *out_dir;     /* required */
    const char *tito;        /* the tito to ship; NULL: this program */
    const char *source_root; /* the course source tree (reference/src) for the solution
                              * check; NULL: no check */
} tito_release_options;

/* A line of solution text found in a file of a release. */
typedef struct tito_release_leak {
    char *file;   /* relative to the release */
    size_t line;  /* in that file */
    char *origin; /* "reference/src/tensor.c:1215" */
    char *text;   /* the line, trimmed */
} tito_release_leak;

typedef struct tito_release_report {
    size_t files;            /* files in the release */
    size_t bytes;
    size_t solution_lines;   /* distinct solution lines looked for */
    size_t scanned;          /* files searched (the others are compiled) */
    tito_release_leak *leaks;
    size_t n_leaks;
} tito_release_report;

void tito_release_report_release(tito_release_report *report);

/* Make the release. Errors: TT_ERR_STATE (OUT exists and is not empty; solution text
 * found: report->leaks lists it and nothing is left at OUT), TT_ERR_FORMAT (a file in
 * the kit that a release may not carry, named; a malformed solution marker), TT_ERR_IO,
 * TT_ERR_NOMEM. */
tt_status tito_release_make(tito_release_report *report, const tito_kit *kit,
                            const tito_course *course, const tito_release_options *options);

/* Search the folder `dir` for solution text of `source_root`/reference/src (see the top
 * of the file): report->leaks gets what was found, scanned and solution_lines the
 * counts. Errors: TT_ERR_FORMAT (a malformed marker), TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_release_check(tito_release_report *report, const char *dir, const char *source_root);

#endif /* TITO_RELEASE_H */
