/*
 * grader/fsutil.h: the few file operations the grader needs, done carefully.
 *
 * Every file tito writes goes through tito_file_write_atomic: a reader (or a crash)
 * sees either the old contents or the new ones, never half a file. Errors follow the
 * framework's convention: a tt_status with a message from tt_error_last() that names
 * the path and the system's reason.
 */
#ifndef TITO_FSUTIL_H
#define TITO_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "tinytorch/core.h"

/* Read the whole file into *out, a NUL-terminated buffer the caller frees with free();
 * *len (may be NULL) gets its length without the NUL. On error *out is NULL.
 * Errors: TT_ERR_IO (cannot open or read), TT_ERR_NOMEM. */
tt_status tito_file_read(char **out, size_t *len, const char *path);

/* Whether `path` exists (any kind of file). */
bool tito_path_exists(const char *path);

/* Replace (or create) the file at `path` with `len` bytes of `data`: write a temporary
 * file in the same directory, fsync it, rename it over `path`, fsync the directory.
 * The new file gets permissions `mode` (e.g. 0644). On error the temporary is removed
 * and `path` is untouched. Errors: TT_ERR_IO. */
tt_status tito_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Create the directory `path` and any missing parents (mode 0755); an existing
 * directory is fine. Errors: TT_ERR_IO (also when a component is not a directory). */
tt_status tito_mkdirs(const char *path);

/* Remove `path` and, when it is a directory, everything in it, as far as it can (no
 * error: for working directories and half-made outputs, whose removal is a courtesy).
 * Symbolic links are removed, never followed. */
void tito_remove_tree(const char *path);

#endif /* TITO_FSUTIL_H */
