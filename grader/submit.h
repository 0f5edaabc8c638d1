/*
 * grader/submit.h: talking to the course leaderboard (docs/leaderboard.md) over HTTP(S)
 * with libcurl: enrollment, signed submissions, the ranking.
 *
 * Every request has a connect timeout (10 s) and a total timeout (60 s, or
 * $TITO_HTTP_TIMEOUT seconds), verifies TLS certificates and host names (never turned
 * off; $TITO_CA_BUNDLE names another CA file, e.g. a course's own CA), follows no
 * redirects, speaks only http and https, and uses the proxies the environment names
 * (http_proxy, https_proxy, no_proxy: libcurl reads them itself). Answers are capped at
 * 4 MiB.
 *
 * Nothing here prints. A request that got no HTTP answer (no network, refused, timed
 * out, TLS failure) is an answer too: submissions say "retry", the other calls return
 * TT_ERR_IO with libcurl's reason.
 */
#ifndef TITO_SUBMIT_H
#define TITO_SUBMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "identity.h"
#include "tinytorch/core.h"

/* ---------------------------------------------------------------- HTTP */

typedef struct tito_http_response {
    long status;     /* the HTTP status; 0 when there was no answer */
    char *body;      /* NUL-terminated (free() it, or tito_http_response_release) */
    size_t len;
    int retry_after; /* seconds, from Retry-After; 0 when absent */
    char error[256]; /* no answer: libcurl's reason */
} tito_http_response;

/* POST `body` (JSON) to `url`, or GET `url` when body is NULL. TT_OK whenever a request
 * was made, answered or not (out->status 0 and out->error then). Errors: TT_ERR_NOMEM,
 * TT_ERR_STATE (libcurl cannot start). */
tt_status tito_http_request(tito_http_response *out, const char *url, const char *body, size_t len);

void tito_http_response_release(tito_http_response *r);

/* ---------------------------------------------------------------- enrollment */

typedef struct tito_enroll_result {
    long status;       /* 200 or 201: enrolled; else refused or unreachable */
    char code[48];     /* the server's error code ("token_used"), or "" */
    char message[512]; /* the server's message, or why there was no answer */
} tito_enroll_result;

/* POST /api/v1/enroll with `token`, id's public key and `name` (NULL: none). On
 * success id->enrolled becomes true and the course, name and time come from the
 * answer. Errors: TT_ERR_NOMEM, TT_ERR_FORMAT (a 2xx answer that is not the documented
 * JSON). A refusal or no answer is TT_OK with res->status telling. */
tt_status tito_enroll(tito_enroll_result *res, tito_identity *id, const char *token, const char *name);

/* ---------------------------------------------------------------- submissions */

/* Sign `receipt_text` (a receipt file as read: JSON whose "schema" starts with
 * "tito-receipt/" or "tito-milestone/") for id's course as a tito-submission/1 with a
 * new random id (into sub_id) made `now`: the envelope text, a new string. *subject
 * gets the module or milestone it is about ("01_tensor"). Errors: TT_ERR_FORMAT (not
 * a receipt), TT_ERR_STATE (id not enrolled), TT_ERR_NOMEM. */
tt_status tito_submission_make(char **envelope, size_t *len, char sub_id[33], char *subject, size_t subject_size,
                               const tito_identity *id, const char *receipt_text, size_t receipt_len, time_t now);

typedef enum tito_send_outcome {
    TITO_SEND_ACCEPTED,  /* stored now */
    TITO_SEND_DUPLICATE, /* stored before (an earlier answer was lost): as good as accepted */
    TITO_SEND_REJECTED,  /* refused for good: sending it again cannot help */
    TITO_SEND_RETRY,     /* no answer, rate limited, or a server error: try again later */
} tito_send_outcome;

typedef struct tito_send_result {
    tito_send_outcome outcome;
    long status;
    char code[48];
    char message[512];
    int retry_after;
    char *ack; /* ACCEPTED, DUPLICATE: the acknowledgement as JSON text (free()) */
} tito_send_result;

/* POST an envelope to `url`/api/v1/submissions and classify the answer. Errors:
 * TT_ERR_NOMEM, TT_ERR_STATE; everything else is an outcome. */
tt_status tito_submission_send(tito_send_result *res, const char *url, const char *envelope, size_t len);

void tito_send_result_release(tito_send_result *res);

/* ---------------------------------------------------------------- reading */

/* GET the ranking of `course` from `url`: the documented JSON (a new reference).
 * Errors: TT_ERR_IO (no answer, or an error status: the message says which),
 * TT_ERR_FORMAT (not JSON), TT_ERR_NOMEM. */
tt_status tito_ranking_fetch(json_t **out, const char *url, const char *course);

/* Lowercase hex SHA-256 of `len` bytes into out (65 bytes). */
void tito_sha256_hex(char out[TITO_KEY_ID_CHARS + 1], const void *data, size_t len);

#endif /* TITO_SUBMIT_H */
