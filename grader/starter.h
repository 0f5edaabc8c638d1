/*
 * grader/starter.h: student starters made from the reference sources.
 *
 * The reference (reference/src/<name>.c) is the only copy of each module's code. A
 * student's starter is the same file with every solution region replaced by a stub:
 *
 *     /\* BEGIN SOLUTION *\/              a region; becomes, at the marker's indentation,
 *     ...                                  /\* TODO: your code here. *\/
 *     /\* END SOLUTION *\/                 return TT_NOT_IMPLEMENTED();
 *
 *     /\* BEGIN SOLUTION: return 0; *\/   the text after the colon replaces the region
 *                                         (after the same TODO line)
 *     /\* BEGIN SOLUTION: *\/             the region disappears (e.g. a static helper)
 *
 * (the backslashes above only keep this comment a comment). A marker must be alone on
 * its line; regions do not nest. Anything that looks like a marker but is not one is
 * an error rather than text, because a misspelt marker would hand a solution to every
 * student. Nothing here prints; errors are tt_status values with tt_error_last()
 * naming the file and line.
 */
#ifndef TITO_STARTER_H
#define TITO_STARTER_H

#include <stddef.h>

#include "modules.h"
#include "tinytorch/core.h"

/* Strip the solution regions of `src` (`len` bytes; the text of the file `name`,
 * which is only used in messages). On success *out is a new NUL-terminated buffer
 * (release with free()) and *out_len its length; on error *out is NULL.
 * Errors: TT_ERR_FORMAT with "name:line: ..." for an unterminated region, a nested
 * BEGIN, an END without BEGIN, a malformed marker or a NUL byte; TT_ERR_NOMEM. */
tt_status tito_starter_strip(char **out, size_t *out_len, const char *name, const char *src,
                             size_t len);

/* The whole starter of module `m` from its reference source text: a banner comment
 * telling the student what the file is, then the stripped source. Same ownership and
 * errors as tito_starter_strip. */
tt_status tito_starter_render(char **out, size_t *out_len, const tito_module *m, const char *src,
                              size_t len);

/* The text of student/README.md, which lists the modules. Ownership as above. */
tt_status tito_starter_readme(char **out, size_t *out_len);

/* ------------------------------------------------------------ the student tree */

typedef enum tito_starters_mode {
    TITO_STARTERS_WRITE, /* bring student/ up to date */
    TITO_STARTERS_CHECK, /* only compare; never write */
} tito_starters_mode;

typedef enum tito_starter_change {
    TITO_STARTER_UNCHANGED, /* the file already holds what the generator makes */
    TITO_STARTER_CREATED,   /* the file was missing (CHECK: is missing) */
    TITO_STARTER_UPDATED,   /* the file differed (CHECK: differs) */
} tito_starter_change;

typedef struct tito_starter_file {
    char path[256]; /* relative to the root, e.g. "student/01_tensor/tensor.c" */
    tito_starter_change change;
} tito_starter_file;

/* One file per module plus student/README.md. */
#define TITO_STARTERS_MAX_FILES 64

typedef struct tito_starters_result {
    size_t count;
    tito_starter_file files[TITO_STARTERS_MAX_FILES];
} tito_starters_result;

/* Generate student/<slug>/<name>.c for every module of the table, and
 * student/README.md, from the reference sources under `root` (a course source tree:
 * root/reference/src/<name>.c). WRITE replaces each file that differs, atomically;
 * CHECK writes nothing. Either way `result` lists every file with what happened (or
 * would happen) to it, in module order. Every reference file is stripped before
 * anything is written, so a malformed one leaves student/ untouched.
 * Errors: TT_ERR_FORMAT (a reference file's markers, "reference/src/x.c:12: ..."),
 * TT_ERR_IO (a file that cannot be read or written), TT_ERR_NOMEM. */
tt_status tito_starters_generate(tito_starters_result *result, const char *root,
                                 tito_starters_mode mode);

#endif /* TITO_STARTER_H */
