/*
 * grader/kit.h: the grading kit, the trusted material tito grades with
 * (docs/grading.md, "The grading kit"): headers, the core archive, one reference
 * object per module, the probe harness and the compiled suites.
 *
 * tito finds the kit in this order:
 *   1. $TITO_KIT, when set (and then it must be a complete kit: no fallback hides a
 *      mistyped path);
 *   2. <directory of the tito executable>/../share/tinytorch/kit (an installed or
 *      released tito), when it holds a kit;
 *   3. the build tree tito was built in (<build>/kit, compiled in), for a program that
 *      lives in that build tree only: a rebuilt build tree never changes how an
 *      installed tito grades.
 * A kit is checked before use; what is missing is named, with how to fix it.
 */
#ifndef TITO_KIT_H
#define TITO_KIT_H

#include <stdbool.h>
#include <stddef.h>

#include "modules.h"
#include "tinytorch/core.h"

/* "sha256:" and 64 hex digits, and the NUL. */
#define TITO_KIT_HASH_SIZE 72

typedef struct tito_kit {
    char *root;           /* absolute path, no trailing slash */
    const char *found_by; /* "TITO_KIT", "the build tree" or "the installation" (static) */
} tito_kit;

/* Find and check the kit (see the top of the file).
 * Errors: TT_ERR_IO (no kit found, or the one found is incomplete: the message names
 * the places looked at or the missing file), TT_ERR_NOMEM. */
tt_status tito_kit_locate(tito_kit **out);

/* Open and check the kit at `root`. Errors: as tito_kit_locate. */
tt_status tito_kit_open(tito_kit **out, const char *root);

/* Free a kit. NULL does nothing. */
void tito_kit_free(tito_kit *kit);

/* "<root>/<rel>" into buf. Errors: TT_ERR_IO (too long for buf). */
tt_status tito_kit_path(char *buf, size_t size, const tito_kit *kit, const char *rel);

/* Whether the kit has checks (a suite) for module m. */
bool tito_kit_has_suite(const tito_kit *kit, const tito_module *m);

/* Check that the suite of m is complete. Errors: TT_ERR_STATE when the kit has no
 * suite for m ("no checks for module 02_activations in this kit yet"), TT_ERR_IO when
 * part of it is missing. */
tt_status tito_kit_check_suite(const tito_kit *kit, const tito_module *m);

/* Hashes for provenance and for caching (SHA-256, libsodium):
 *   reference: the core archive, the harness and every reference object;
 *   suite:     the module's visible.o, hidden.o and suite.json.
 * Each is the SHA-256 of lines "<sha256 of the file> <kit-relative path>\n".
 * Errors: TT_ERR_IO (a file cannot be read), TT_ERR_NOMEM. */
tt_status tito_kit_reference_hash(char out[TITO_KIT_HASH_SIZE], const tito_kit *kit);
tt_status tito_kit_suite_hash(char out[TITO_KIT_HASH_SIZE], const tito_kit *kit,
                              const tito_module *m);

/* "sha256:<hex>" of `len` bytes, and of a file's contents (Errors: TT_ERR_IO,
 * TT_ERR_NOMEM). */
void tito_kit_sha256(char out[TITO_KIT_HASH_SIZE], const void *data, size_t len);
tt_status tito_kit_sha256_file(char out[TITO_KIT_HASH_SIZE], const char *path);

#endif /* TITO_KIT_H */
