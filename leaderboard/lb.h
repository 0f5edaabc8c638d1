/*
 * leaderboard/lb.h: the parts of tito-leaderboard, the course leaderboard server
 * (docs/leaderboard.md is the contract of its HTTP API; keep the two in step).
 *
 *   util.c       text buffers, HTML escaping, UTC times, validation of names and ids
 *   store.c      the SQLite store: schema migrations, every statement prepared and bound
 *   ranking.c    the ranking and a student's detail, as the API's JSON
 *   ratelimit.c  a token bucket per key, in memory
 *   api.c        the JSON API's handlers (enroll, submissions, verifications, ranking)
 *   web.c        the HTML pages and their SVG charts
 *   server.c     libmicrohttpd: the route table, bodies, one log line per request, SIGTERM
 *   main.c       the command line: serve, migrate, course ..., token ..., key ..., backup
 *
 * Nothing below main.c prints (except the request log, which is the server's output)
 * or exits; errors are tt_status values with tt_error_last() (thread-local, so each
 * request thread has its own message).
 */
#ifndef LB_H
#define LB_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dsse.h"
#include "tinytorch/core.h"

/* The project's version (CMakeLists.txt), set by the build: one number for tito and
 * the server. */
#ifndef LB_VERSION_STRING
#error "LB_VERSION_STRING is set by leaderboard/CMakeLists.txt"
#endif
#define LB_SUBMISSION_SCHEMA "tito-submission/1"
#define LB_VERIFICATION_SCHEMA "tito-verification/1"
#define LB_NAME_MAX_CHARS 64
#define LB_COURSE_ID_MAX 64
#define LB_SUBJECT_MAX 64
#define LB_COMMIT_MAX 64
#define LB_TOKEN_PREFIX "tlb_"

/* ------------------------------------------------------------------ util.c */

/* A growing text buffer. A failed append sets `failed` and leaves the text as it was;
 * the owner checks once at the end (so long rendering code needs no check per line). */
typedef struct lb_buf {
    char *data;
    size_t len, cap;
    bool failed;
} lb_buf;

void lb_buf_append(lb_buf *b, const char *s, size_t n);
void lb_buf_puts(lb_buf *b, const char *s);
void lb_buf_printf(lb_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Append `s` escaped for HTML text and attribute values (& < > " '). */
void lb_buf_html(lb_buf *b, const char *s);
/* Append `s` percent-encoded for a URL query value or path segment. */
void lb_buf_url(lb_buf *b, const char *s);
/* Hand the text over (NUL-terminated, *len its length); NULL when an append failed.
 * The buffer is empty afterwards. */
char *lb_buf_take(lb_buf *b, size_t *len);
void lb_buf_release(lb_buf *b);

/* UTC time as "2026-11-26T12:04:05Z" (21 bytes with the NUL). */
void lb_time_format(char out[32], time_t t);
/* Parse exactly that form; false when it is not a valid time. */
bool lb_time_parse(const char *s, time_t *out);

/* Validation of what the API receives. Each returns true when `s` fits. */
bool lb_valid_hex(const char *s, size_t min_len, size_t max_len); /* lowercase hex */
bool lb_valid_course_id(const char *s); /* [a-z0-9][a-z0-9._-]{0,63} */
bool lb_valid_subject(const char *s);   /* NN_name: 2 digits, '_', [a-z0-9_]{1,60} */
/* A display name: valid UTF-8, 1..64 characters, no control characters, not blank.
 * On false, *why says what is wrong. */
bool lb_valid_name(const char *s, const char **why);
/* A free-text field that is stored and shown (a course title, a token label). */
bool lb_valid_text(const char *s, size_t max_chars);
/* A copy of `s` that is valid UTF-8 (each byte of a bad sequence becomes U+FFFD), for
 * messages that quote what a client sent; NULL when memory runs out. free() it. */
char *lb_utf8_clean(const char *s);

/* ------------------------------------------------------------------ store.c */

typedef struct lb_store lb_store;

#define LB_SCHEMA_VERSION 1

/* Open (creating it if needed) the SQLite database at `path`: WAL journal,
 * synchronous=FULL, foreign keys on, and every pending migration applied. Refuses a
 * database made by a newer tito-leaderboard. Errors: TT_ERR_IO, TT_ERR_FORMAT (not a
 * database of ours, or too new), TT_ERR_NOMEM. */
tt_status lb_store_open(lb_store **out, const char *path);
/* Close (checkpointing the WAL); NULL does nothing. */
void lb_store_close(lb_store *store);
int lb_store_schema_version(lb_store *store);
/* An online copy of the database to `path` (sqlite3 backup API, safe while serving). */
tt_status lb_store_backup(lb_store *store, const char *path);

typedef struct lb_course {
    char id[LB_COURSE_ID_MAX + 1];
    char title[256];
    double pass_bar;
    bool has_verify_key;
    unsigned char verify_key[TITO_PUBLIC_KEY_BYTES];
    char verify_key_id[TITO_KEY_ID_CHARS + 1];
    char created_at[32];
} lb_course;

/* Errors: TT_ERR_STATE (the id exists), TT_ERR_IO. */
tt_status lb_course_create(lb_store *store, const char *id, const char *title, double pass_bar);
/* *found false (and TT_OK) when there is no such course. */
tt_status lb_course_get(lb_store *store, const char *id, lb_course *out, bool *found);
/* Every course, by id: a new array (free()). */
tt_status lb_course_list(lb_store *store, lb_course **out, size_t *n);
tt_status lb_course_set_key(lb_store *store, const char *id,
                            const unsigned char public_key[TITO_PUBLIC_KEY_BYTES]);
/* The course whose verification key has this key id. */
tt_status lb_course_by_key_id(lb_store *store, const char *key_id, lb_course *out, bool *found);

/* Record a new enrollment token (its SHA-256 only) for `course` with a label (may be
 * "") and an expiry (0: never). The token text is made by the caller. */
tt_status lb_token_add(lb_store *store, const char *course, const char *token, const char *label,
                       time_t expires);

typedef struct lb_student {
    char key_id[TITO_KEY_ID_CHARS + 1];
    char course_id[LB_COURSE_ID_MAX + 1];
    unsigned char public_key[TITO_PUBLIC_KEY_BYTES];
    char name[4 * LB_NAME_MAX_CHARS + 1];
    char label[256];
    char enrolled_at[32];
    bool revoked;
} lb_student;

typedef enum lb_enroll_outcome {
    LB_ENROLLED,       /* a new student */
    LB_ENROLLED_AGAIN, /* this token was already used by this key: the same student */
    LB_TOKEN_INVALID,  /* no such token, or expired */
    LB_TOKEN_USED,     /* used by another key */
    LB_KEY_EXISTS,     /* the key is enrolled already (with another token) */
} lb_enroll_outcome;

/* Use `token` to enroll `public_key` under `name` (NULL or "": the token's label, else
 * "student-<key id prefix>"). *student gets the student (for the two ENROLLED outcomes). */
tt_status lb_enroll(lb_store *store, const char *token, const unsigned char public_key[32],
                    const char *name, time_t now, lb_enroll_outcome *outcome, lb_student *student,
                    lb_course *course);

tt_status lb_student_get(lb_store *store, const char *key_id, lb_student *out, bool *found);
/* Revoke (or with `revoke` false, restore) a key. *found false when there is none. */
tt_status lb_student_revoke(lb_store *store, const char *key_id, bool revoke, time_t now, bool *found);
/* The students of a course (revoked ones included), by name: a new array (free()). */
tt_status lb_student_list(lb_store *store, const char *course, lb_student **out, size_t *n);

/* What the server read from a submission, for its columns (the envelope is kept whole). */
typedef struct lb_submission {
    char key_id[TITO_KEY_ID_CHARS + 1];
    char id[33];
    char course_id[LB_COURSE_ID_MAX + 1];
    char created_at[32];
    char kind[16];  /* "module" or "milestone" */
    char subject[LB_SUBJECT_MAX + 1];
    char mode[16];  /* modules: "grade" or "test"; "" for milestones */
    bool has_score;
    long earned, possible;
    int reached;    /* milestones: 0 or 1; -1 for modules */
    char *metrics;  /* milestones: a JSON object text, or NULL */
    char commit[LB_COMMIT_MAX + 1]; /* "" when none */
} lb_submission;

/* Store a submission with its envelope as received, unless this key already sent this
 * id. Either way *ack gets the acknowledgement (a new JSON object): the new one, or the
 * one given the first time (*duplicate true). Durable when it returns TT_OK. */
tt_status lb_submission_store(lb_store *store, const lb_submission *sub, const void *envelope,
                              size_t envelope_len, time_t now, json_t **ack, bool *duplicate);

/* The acknowledgement of submission `id` of key `key_id` when it is stored (*found). */
tt_status lb_submission_find(lb_store *store, const char *key_id, const char *id, json_t **ack, bool *found);

typedef struct lb_verification {
    char id[33];
    char course_id[LB_COURSE_ID_MAX + 1];
    char student[TITO_KEY_ID_CHARS + 1];
    char kind[16];
    char subject[LB_SUBJECT_MAX + 1];
    char commit[LB_COMMIT_MAX + 1];
    long earned, possible; /* modules */
    int reached;           /* milestones: 0 or 1; -1 for modules */
} lb_verification;

tt_status lb_verification_store(lb_store *store, const lb_verification *v, const void *envelope,
                                size_t envelope_len, time_t now, json_t **ack, bool *duplicate);

/* The number of stored submissions (all courses). */
tt_status lb_store_count_submissions(lb_store *store, long *n);

/* Run the constant query `sql` with text parameters args[0..n_args) bound in order,
 * calling fn for each row, under the store's lock (fn must not call the store). */
struct sqlite3_stmt;
typedef void (*lb_row_fn)(void *ctx, struct sqlite3_stmt *row);
tt_status lb_store_each_row(lb_store *store, const char *sql, const char *const *args, size_t n_args,
                            lb_row_fn fn, void *ctx);

/* ------------------------------------------------------------------ ranking.c */

/* The ranking of `course` as the API's JSON (docs/leaderboard.md). *found false when
 * there is no such course. */
tt_status lb_ranking_json(lb_store *store, const char *course, time_t now, json_t **out, bool *found);
/* One student's entry of the ranking plus "history". *found false when the course or
 * the student (in that course) does not exist. */
tt_status lb_student_json(lb_store *store, const char *course, const char *key_id, time_t now,
                          json_t **out, bool *found);
/* The receive times (unix seconds) of every submission of the course, oldest first. */
tt_status lb_submission_times(lb_store *store, const char *course, int64_t **out, size_t *n);

/* ------------------------------------------------------------------ ratelimit.c */

typedef struct lb_ratelimit lb_ratelimit;

/* `rate` tokens per second, at most `burst` saved up; rate <= 0 turns limiting off. */
tt_status lb_ratelimit_new(lb_ratelimit **out, double rate, double burst);
void lb_ratelimit_free(lb_ratelimit *rl);
/* Take one token for `key` at time `now` (seconds, monotonic). False when there is
 * none; *retry_after gets the whole seconds until there will be. */
bool lb_ratelimit_take(lb_ratelimit *rl, const char *key, double now, int *retry_after);

/* ------------------------------------------------------------------ server.c / api.c / web.c */

typedef struct lb_config {
    const char *db_path;
    const char *listen;    /* address to bind, "127.0.0.1" by default */
    int port;              /* 0: any free port */
    const char *port_file; /* where to write the bound port, or NULL */
    const char *log_path;  /* NULL: stderr */
    size_t max_body;
    double rate, burst;
    long max_age_s;        /* oldest created_at accepted */
    unsigned threads;
    bool trust_proxy;      /* log X-Forwarded-For instead of the peer address */
    long drop_acks;        /* tests: answer the first N accepted submissions by closing */
} lb_config;

#define LB_CONFIG_INIT                                                                     \
    {NULL, "127.0.0.1", 8080, NULL, NULL, 1024 * 1024, 1.0, 30.0, 90L * 86400, 4, false, 0}

typedef struct lb_server lb_server;

/* What a handler answers. */
typedef struct lb_response {
    unsigned status;
    char *body; /* malloc'd; may be NULL for an empty body */
    size_t len;
    const char *content_type;
    char retry_after[16]; /* "" or the Retry-After value */
    const char *allow;    /* the Allow header (405), or NULL */
    bool drop;            /* close the connection without answering (tests) */
} lb_response;

typedef struct lb_request {
    const char *method;
    const char *path;
    const char *params[2];  /* the path's '*' segments */
    const char *body;       /* POST: the whole body */
    size_t body_len;
    struct MHD_Connection *connection;
    char key_id[TITO_KEY_ID_CHARS + 1]; /* set by handlers that find a key: for the log */
    char error_code[40];                /* set by lb_error_response: for the log */
} lb_request;

/* What handlers share with the server. */
struct lb_server {
    lb_config config;
    lb_store *store;
    lb_ratelimit *ratelimit;
    atomic_long acks_dropped;
};

/* A JSON error answer {"error": {"code", "message"}}; message printf-style. */
void lb_error_response(lb_response *res, lb_request *req, unsigned status, const char *code,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* A JSON answer of `value` (the reference is stolen). */
void lb_json_response(lb_response *res, lb_request *req, unsigned status, json_t *value);
/* The value of query argument `name`, or NULL. */
const char *lb_query(const lb_request *req, const char *name);

void lb_api_health(lb_server *srv, lb_request *req, lb_response *res);
void lb_api_enroll(lb_server *srv, lb_request *req, lb_response *res);
void lb_api_submit(lb_server *srv, lb_request *req, lb_response *res);
void lb_api_verify(lb_server *srv, lb_request *req, lb_response *res);
void lb_api_ranking(lb_server *srv, lb_request *req, lb_response *res);
void lb_api_student(lb_server *srv, lb_request *req, lb_response *res);

void lb_web_index(lb_server *srv, lb_request *req, lb_response *res);
void lb_web_course(lb_server *srv, lb_request *req, lb_response *res);
void lb_web_student(lb_server *srv, lb_request *req, lb_response *res);
/* An HTML error page. */
void lb_web_error(lb_response *res, lb_request *req, unsigned status, const char *code,
                  const char *message);

/* Run the server until SIGTERM or SIGINT. Errors: TT_ERR_IO (cannot bind, open the
 * store or the log). */
tt_status lb_serve(const lb_config *config);

#endif /* LB_H */
