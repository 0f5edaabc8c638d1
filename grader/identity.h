/*
 * grader/identity.h: a student's identity on the course leaderboard: an Ed25519 key
 * pair made by `tito login`, the server it is enrolled on, and the course and name
 * the server gave it.
 *
 * It lives in one file, ${XDG_CONFIG_HOME:-~/.config}/tito/identity.json, mode 0600 in
 * a folder of mode 0700, written atomically (a crash leaves the old file or the new
 * one). The file holds the private key: tito refuses to read it when others may
 * (like ssh does), and wipes the key from memory when done with it.
 *
 * A login is saved before the server is asked ("enrolled": false) so that a retry after
 * a lost answer presents the same key, which the server recognises; only an enrolled
 * identity signs submissions.
 *
 * Nothing here prints; errors are tt_status values with tt_error_last().
 */
#ifndef TITO_IDENTITY_H
#define TITO_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "dsse.h"
#include "tinytorch/core.h"

#define TITO_IDENTITY_SCHEMA "tito-identity/1"
#define TITO_IDENTITY_FILE "identity.json"

typedef struct tito_identity {
    char url[1024];         /* the server, e.g. "https://lb.course.example" (no trailing slash) */
    bool enrolled;          /* false: made, not yet accepted by the server */
    char course_id[80];     /* what the server answered at enrollment ("" before) */
    char course_title[256];
    char name[300];         /* the name the ranking shows */
    char key_id[TITO_KEY_ID_CHARS + 1];
    char enrolled_at[32];
    tito_keypair keys;
} tito_identity;

/* The folder: $XDG_CONFIG_HOME/tito when XDG_CONFIG_HOME is set to an absolute path,
 * else $HOME/.config/tito. Errors: TT_ERR_STATE (neither is set), TT_ERR_IO (too long). */
tt_status tito_identity_dir(char *buf, size_t size);

/* The folder + "/identity.json". */
tt_status tito_identity_path(char *buf, size_t size);

/* Read the identity. *out is NULL and *found false (TT_OK) when there is no file.
 * Errors: TT_ERR_STATE (the file may be read by others: the message says to chmod 600
 * it), TT_ERR_FORMAT (not an identity file; the message names the field), TT_ERR_IO,
 * TT_ERR_NOMEM. */
tt_status tito_identity_load(tito_identity **out, bool *found);

/* Write `id` (creating the folder, mode 0700; an existing folder is made 0700 too).
 * Errors: TT_ERR_STATE, TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_identity_save(const tito_identity *id);

/* Delete the file; *removed says whether there was one. Errors: TT_ERR_IO. */
tt_status tito_identity_remove(bool *removed);

/* A new identity for `url` with a fresh key (not enrolled). Errors: TT_ERR_INVALID_ARG
 * (the URL is not http:// or https://, or too long), TT_ERR_NOMEM, TT_ERR_STATE. */
tt_status tito_identity_new(tito_identity **out, const char *url);

/* Wipe the key and free; NULL does nothing. */
void tito_identity_free(tito_identity *id);

/* Normalise a server URL into buf: "http://" or "https://", a host, no trailing
 * slash, no query or fragment, no user:password. Errors: TT_ERR_INVALID_ARG. */
tt_status tito_url_normalize(char *buf, size_t size, const char *url);

#endif /* TITO_IDENTITY_H */
