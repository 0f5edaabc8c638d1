/*
 * grader/receipt.h: the receipt of a grading run (tito-receipt/1, JSON), and the
 * helpers every rendering of a grade shares.
 *
 * A receipt is what a student keeps and what a submission carries: the score, one entry
 * per check, the memcheck findings, the speed ratios, and where it all came from (the
 * workspace commit, hashes of the sources, the suite and the reference, the tito
 * version, the compiler, the seed, the limits, the isolation in force), plus the time
 * each phase took and when the receipt was made. The format is documented in
 * docs/grading.md ("The receipt").
 *
 * Hidden checks never leak: in a receipt (and in every exporter's output) a hidden
 * check is named "hidden.<category>.<n>" and its message is a hint about its category
 * only. A receipt read back therefore holds those public names, never the real ones.
 *
 * Text from outside tito (compiler messages, what a check saw) may be any bytes; every
 * string is made valid UTF-8 (bad bytes become U+FFFD) before it goes into JSON.
 *
 * Conventions: tt_status results with messages from tt_error_last(); out-parameters
 * stay NULL on failure; strings handed out are the caller's, freed with free().
 */
#ifndef TITO_RECEIPT_H
#define TITO_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "grade.h"
#include "tinytorch/core.h"

#define TITO_RECEIPT_SCHEMA "tito-receipt/1"
/* A milestone's receipt has the same schema and "kind": "milestone"; it is written and
 * read by grader/milestone.h. A module's receipt has no "kind" (or "module"); the reader
 * below refuses any other kind. */

/* ------------------------------------------------------------ writing */

/* The receipt of `grade` as a JSON object (a new reference, the caller's). `created_at`
 * is the moment it records (seconds since the epoch; 0: now), written in UTC as
 * "2026-11-26T12:04:05Z". Errors: TT_ERR_INVALID_ARG (no grade or slug), TT_ERR_NOMEM. */
tt_status tito_receipt_to_json(json_t **out, const tito_grade *grade, time_t created_at);

/* The same, as indented JSON text ending in a newline (the caller frees it). */
tt_status tito_receipt_dumps(char **out, const tito_grade *grade, time_t created_at);

/* Write the receipt of `grade` to `path` atomically (mode 0644), creating missing
 * parent directories. Errors: those of tito_receipt_dumps, TT_ERR_IO. */
tt_status tito_receipt_write(const char *path, const tito_grade *grade, time_t created_at);

/* ------------------------------------------------------------ reading */

/* A receipt read back: the grade it records (hidden checks under their public names)
 * and when it was made. */
typedef struct tito_receipt {
    tito_grade *grade;
    char *created_at; /* as written: "2026-11-26T12:04:05Z" */
    time_t created;   /* the same instant */
} tito_receipt;

/* Parse and validate receipt text (`len` bytes); `origin` names it in messages, which
 * read "receipt <origin>: <field>: <reason>", e.g.
 *     receipt .tito/results/01_tensor.json: schema: expected "tito-receipt/1", got "x"
 * Errors: TT_ERR_FORMAT (not JSON, another schema, a missing or mistyped field, an
 * unknown module or verdict), TT_ERR_NOMEM. */
tt_status tito_receipt_parse(tito_receipt **out, const char *text, size_t len, const char *origin);

/* Read and validate the receipt at `path`. Errors: those of tito_receipt_parse, and
 * TT_ERR_IO when the file cannot be read. */
tt_status tito_receipt_read(tito_receipt **out, const char *path);

/* Free a receipt and its grade. NULL does nothing. */
void tito_receipt_free(tito_receipt *receipt);

/* ------------------------------------------------------------ shared by the renderings */

/* The name of case `i` as anyone outside the grader may see it: its own name when it is
 * visible, "hidden.<category>.<n>" (n counting the hidden cases of that category from 1,
 * in case order) when it is hidden. Written into buf (truncated if short); returns buf. */
const char *tito_case_public_name(const tito_grade *grade, size_t i, char *buf, size_t size);

/* The message of case `i` as anyone outside the grader may see it: its own message when
 * visible (NULL on a pass), a hint naming only the category and the verdict when hidden
 * ("a hidden check of category \"matmul\" failed: its inputs stay hidden; the visible
 * \"matmul\" checks and the module guide cover the same contract"). Returns buf, or NULL
 * when there is no message. */
const char *tito_case_public_message(const tito_grade *grade, size_t i, char *buf, size_t size);

/* The name of a case as a memcheck finding names it (`case_name` from the finding):
 * the public name of the case of that name, or NULL when case_name is NULL or names
 * no case of the grade. Returns buf or NULL. */
const char *tito_finding_public_case(const tito_grade *grade, const char *case_name, char *buf,
                                     size_t size);

/* A copy of `text` (a note of the grader's, e.g. memcheck's "case X was not checked ...")
 * in which every hidden case's real name is replaced by its public name; NULL for NULL or
 * when memory runs out. The caller frees. */
char *tito_public_text(const tito_grade *grade, const char *text);

/* A copy of `s` that is valid UTF-8 (each byte of an invalid sequence replaced by U+FFFD,
 * NUL-free by construction); NULL for NULL or when memory runs out. The caller frees. */
char *tito_utf8_dup(const char *s);

/* The verdict of a name ("pass", "memory-error", ...); false when the name is unknown. */
bool tito_verdict_parse(const char *name, tito_verdict *verdict);

#endif /* TITO_RECEIPT_H */
