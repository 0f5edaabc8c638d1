/*
 * grader/outbox.h: signed submissions waiting to be sent, one file each.
 *
 * `tito submit` first signs each receipt and writes the envelope into the outbox, then
 * sends what the outbox holds, oldest first. A file leaves the outbox only after the
 * server acknowledged it (accepted now, or "duplicate": accepted before, when an
 * earlier answer was lost) and the acknowledgement is in the sent log; or when the
 * server refused it for good (moved to rejected/). So a submission made offline, or
 * whose sending failed, is sent by the next `tito submit`: none is lost, and since
 * the server knows each submission's id, none is counted twice.
 *
 *   ${XDG_DATA_HOME:-~/.local/share}/tito/outbox/<queued>-<id>.json   waiting
 *   ${XDG_DATA_HOME:-~/.local/share}/tito/outbox/rejected/...         refused by the server
 *   ${XDG_DATA_HOME:-~/.local/share}/tito/sent.jsonl                  one line per acknowledgement
 *
 * Everything is written atomically (rename) or appended and fsync'ed. The outbox is
 * per user, not per workspace: an entry names its server, so logging in elsewhere
 * never strands it. Nothing here prints.
 */
#ifndef TITO_OUTBOX_H
#define TITO_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "dsse.h"
#include "tinytorch/core.h"

typedef struct tito_outbox_entry {
    char file[4400];    /* the entry's path */
    char id[33];        /* the submission id in the signed payload */
    char url[1024];     /* the server */
    char key_id[TITO_KEY_ID_CHARS + 1];
    char subject[80];   /* "01_tensor": for messages */
    char receipt_sha256[TITO_KEY_ID_CHARS + 1]; /* hex SHA-256 of the receipt file as read */
    char queued_at[32];
    char *envelope;     /* the request body */
    size_t envelope_len;
} tito_outbox_entry;

typedef struct tito_outbox {
    char root[4096]; /* .../tito: holds outbox/, sent.jsonl */
    int lock_fd;     /* held while open: one `tito submit` at a time sends */
} tito_outbox;

/* Open the outbox under `data_dir` (NULL: ${XDG_DATA_HOME:-$HOME/.local/share}/tito),
 * creating its folders (0700), and take its lock, waiting for another tito holding it.
 * Errors: TT_ERR_STATE (no HOME), TT_ERR_IO. */
tt_status tito_outbox_open(tito_outbox *box, const char *data_dir);

/* Release the lock. */
void tito_outbox_close(tito_outbox *box);

/* Queue an entry (its `file` is filled in). Errors: TT_ERR_IO. */
tt_status tito_outbox_add(tito_outbox *box, tito_outbox_entry *entry);

/* The waiting entries, oldest first: a new array (tito_outbox_entries_free). A file
 * that is not an entry (corrupt, foreign) is moved to rejected/ with a note in
 * *skipped (may be NULL). Errors: TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_outbox_list(tito_outbox *box, tito_outbox_entry **out, size_t *n, size_t *skipped);

void tito_outbox_entries_free(tito_outbox_entry *entries, size_t n);

/* The server acknowledged `entry` with `ack` (JSON text): append it to the sent log
 * (fsync'ed), then remove the entry. Errors: TT_ERR_IO. */
tt_status tito_outbox_done(tito_outbox *box, const tito_outbox_entry *entry, const char *ack);

/* The server refused `entry` for good: move it to rejected/ and log `reason`.
 * Errors: TT_ERR_IO. */
tt_status tito_outbox_reject(tito_outbox *box, const tito_outbox_entry *entry, const char *reason);

/* Whether the sent log has an acknowledgement from `url` for key `key_id` of a
 * receipt with this hash (so an unchanged receipt is not sent again), or the outbox
 * holds one waiting. Errors: TT_ERR_IO. */
tt_status tito_outbox_has(tito_outbox *box, const char *url, const char *key_id, const char *receipt_sha256,
                          bool *sent, bool *waiting);

/* The number of entries waiting. */
tt_status tito_outbox_count(tito_outbox *box, size_t *n);

#endif /* TITO_OUTBOX_H */
