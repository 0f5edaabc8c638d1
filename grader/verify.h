/*
 * grader/verify.h: checking what students reported (`tito course verify`).
 *
 * The leaderboard ranks self-reported grades: each says "module M at commit C earned
 * E of P", or "milestone S at commit C was reached (or not)". A module's claim is
 * checked by grading module M of the student's repository at commit C exactly as a
 * batch does (the same receipts store, so a commit a batch already graded costs
 * nothing) and comparing the points; a milestone's by running the milestone on the
 * student's modules at commit C as `tito milestone run` does (the reference measuring
 * what they trained), and comparing whether it was reached. A claim whose regrade gives
 * the same points (within `tolerance`, for courses that accept small speed
 * differences) is verified; the instructor's tito then sends the leaderboard a
 * verification signed with the course key (docs/leaderboard.md, POST
 * /api/v1/verifications), and the entry shows as verified. Every other claim is listed
 * for the instructor with the reason: a mismatch (both scores), a student not in the
 * roster, a repository that cannot be fetched, a commit the repository does not have,
 * a commit without the module's file.
 *
 * Claims come from the leaderboard's ranking (GET /api/v1/courses/{course}/ranking:
 * every module entry that is self-reported and names a commit), or from a file:
 *
 *     {"schema": "tito-claims/1", "claims": [
 *        {"student": "ada", "module": "01_tensor", "commit": "4c2a...", "earned": 92, "possible": 100},
 *        {"key_id": "7f3c...", "module": "02_activations", "commit": "...", "earned": 100, "possible": 100},
 *        {"student": "ada", "milestone": "01_perceptron", "commit": "...", "reached": true}]}
 *
 * A claim names the student by roster id or by leaderboard key id (the roster's key_id
 * column). Nothing here prints.
 */
#ifndef TITO_VERIFY_H
#define TITO_VERIFY_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "batch.h"
#include "course.h"
#include "dsse.h"
#include "kit.h"
#include "milestone.h"
#include "modules.h"
#include "roster.h"
#include "tinytorch/core.h"

#define TITO_CLAIMS_SCHEMA "tito-claims/1"
#define TITO_VERIFICATION_SCHEMA "tito-verification/1"
#define TITO_COURSE_KEY_SCHEMA "tito-course-key/1"

typedef enum tito_claim_outcome {
    TITO_CLAIM_UNCHECKED = 0,
    TITO_CLAIM_VERIFIED,        /* the regrade gives the claimed points */
    TITO_CLAIM_MISMATCH,        /* it does not */
    TITO_CLAIM_UNKNOWN_STUDENT, /* no roster entry has this id or key id */
    TITO_CLAIM_NOT_CHECKABLE,   /* no repository, no such commit, no such file: message */
    TITO_CLAIM_ERROR,           /* the grader could not grade it (message); try again */
} tito_claim_outcome;

/* "unchecked", "verified", "mismatch", "unknown-student", "not-checkable", "error". */
const char *tito_claim_outcome_name(tito_claim_outcome outcome);

typedef struct tito_claim {
    char *key_id;              /* the leaderboard key id, or "" */
    char *student;             /* the roster id, or "" until matched */
    const tito_module *module; /* a module's claim, or NULL for a milestone's: */
    const tito_milestone *milestone;
    char commit[41];
    int earned, possible;      /* what was claimed (a module) */
    bool reached;              /* what was claimed (a milestone) */
    /* The check: */
    tito_claim_outcome outcome;
    int regraded_earned, regraded_possible;
    bool regraded_reached;
    char *message;             /* why, for the outcomes that need one */
    /* Publishing (tito_verify_publish): */
    bool posted;               /* the leaderboard accepted the verification (or had it) */
    char *post_message;        /* what the leaderboard said when it refused, or why no answer */
} tito_claim;

typedef struct tito_claims {
    tito_claim *v;
    size_t n;
} tito_claims;

/* The self-reported module and milestone entries of a ranking (the JSON of GET
 * .../ranking) that name a commit. Entries already verified, and modules or milestones
 * this tito does not know, are skipped. Errors: TT_ERR_FORMAT (not a ranking), TT_ERR_NOMEM. */
tt_status tito_claims_from_ranking(tito_claims *out, const json_t *ranking);

/* A tito-claims/1 file. Errors: TT_ERR_IO, TT_ERR_FORMAT ("claims x.json: claims[2].commit:
 * ..."), TT_ERR_NOMEM. */
tt_status tito_claims_read(tito_claims *out, const char *path);

void tito_claims_release(tito_claims *claims);

typedef struct tito_verify_options {
    const char *out_dir;     /* the batch folder (repos, sources, receipts); required */
    int tolerance;           /* points the regrade may differ by and still verify */
    bool no_fetch;           /* use the clones as they are */
    unsigned workers;        /* grading processes; 0: one */
    const char *tito_version;
    tito_batch_progress_fn on_progress;
    /* Before (done false) and after (done true: c->outcome set) each milestone claim's
     * run, which takes seconds to a minute; may be NULL. */
    void (*on_milestone)(void *ctx, const tito_claim *c, bool done, double seconds);
    void *ctx;
    volatile sig_atomic_t *stop;
} tito_verify_options;

/* Check every claim (see the top of the file): match it to the roster, fetch, extract,
 * grade what has no receipt yet, compare. Each claim gets its outcome. *stats (may be
 * NULL) gets the grading pool's counts. Errors: those of the pool and of reading the
 * repositories (TT_ERR_IO, TT_ERR_NOMEM); the students' troubles are outcomes. */
tt_status tito_verify_run(tito_claims *claims, tito_batch_stats *stats, const tito_roster *roster,
                          const tito_course *course, const tito_kit *kit,
                          const tito_verify_options *options);

/* One milestone claim of student `who` (grader/verify_milestone.c): the modules of the
 * milestone's range at the claimed commit, from the batch folder's clone (fetched
 * first when `fetch`), run as `tito milestone run` runs them; c gets its outcome
 * (interrupted: TITO_CLAIM_ERROR). Errors: TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_verify_milestone(tito_claim *c, const tito_roster_student *who,
                                const tito_course *course, const tito_kit *kit,
                                const tito_verify_options *options, bool fetch);

/* A course key file as `tito-leaderboard course key --generate` writes it
 * ({"schema": "tito-course-key/1", "course", "key_id", "public_key", "seed"}): the key
 * pair and the course it is for (course, course_size bytes). Errors: TT_ERR_IO,
 * TT_ERR_FORMAT (not such a file; a seed that does not give the public key),
 * TT_ERR_NOMEM. */
tt_status tito_course_key_load(tito_keypair *out, char *course, size_t course_size, const char *path);

/* The tito-verification/1 payload of a verified claim (compact JSON, a new string):
 * student = its key id, subject = the module or milestone, the commit, the score (a
 * milestone: "kind": "milestone" and "reached"), a new random id, created_at = now. Errors: TT_ERR_INVALID_ARG (not verified, or no key
 * id), TT_ERR_NOMEM. */
tt_status tito_verification_payload(char **out, const tito_claim *claim, const char *course_id,
                                    time_t now);

/* Sign each verified claim's payload with the course key and POST it to
 * `url`/api/v1/verifications; each claim's `posted` and `post_message` say how it went
 * (a duplicate counts as posted: the leaderboard had it). Errors: TT_ERR_NOMEM,
 * TT_ERR_STATE (libcurl cannot start). */
tt_status tito_verify_publish(tito_claims *claims, const char *url, const char *course_id,
                              const tito_keypair *key, time_t now);

#endif /* TITO_VERIFY_H */
