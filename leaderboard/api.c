/*
 * The JSON API's handlers (docs/leaderboard.md, "The HTTP API"). Each reads a request
 * the server has already bounded (size, content type), checks it in the documented
 * order, and fills in one response; none of them touches the connection.
 *
 * The order of checks is a security property: the envelope is parsed, the key found
 * and the signature verified before anything in the payload is believed or any state
 * consulted, so a forged request learns nothing (not whether an id exists) and costs
 * no one's rate.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb.h"

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void internal_error(lb_response *res, lb_request *req)
{
    lb_error_response(res, req, 500, "internal", "the server could not complete this request (%s); "
                                                 "nothing was stored: try again later",
                      tt_error_last());
}

/* ---------------------------------------------------------------- health */

void lb_api_health(lb_server *srv, lb_request *req, lb_response *res)
{
    lb_json_response(res, req, 200,
                     json_pack("{s:b, s:i, s:s}", "ok", 1, "schema_version", lb_store_schema_version(srv->store),
                               "version", LB_VERSION_STRING));
}

/* ---------------------------------------------------------------- enroll */

void lb_api_enroll(lb_server *srv, lb_request *req, lb_response *res)
{
    json_error_t jerr;
    json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    unsigned char *key = NULL;
    size_t key_len = 0;
    if (!root) {
        lb_error_response(res, req, 400, "bad_json", "the body is not JSON: %s (line %d, column %d)", jerr.text,
                          jerr.line, jerr.column);
        return;
    }
    json_t *token = json_object_get(root, "token");
    json_t *public_key = json_object_get(root, "public_key");
    json_t *name = json_object_get(root, "name");
    const char *why = NULL;
    if (!json_is_object(root)) {
        lb_error_response(res, req, 400, "bad_request", "expected a JSON object {\"token\", \"public_key\", \"name\"}");
    } else if (!json_is_string(token) || json_string_length(token) == 0 || json_string_length(token) > 128 ||
               !lb_valid_text(json_string_value(token), 128)) {
        lb_error_response(res, req, 400, "bad_request", "token: expected the enrollment token (a string of at most "
                                                        "128 characters) from your instructor");
    } else if (!json_is_string(public_key) ||
               tito_base64_decode(&key, &key_len, json_string_value(public_key), json_string_length(public_key)) !=
                   TT_OK ||
               key_len != TITO_PUBLIC_KEY_BYTES) {
        lb_error_response(res, req, 400, "bad_request", "public_key: expected the base64 of a 32-byte Ed25519 "
                                                        "public key");
    } else if (name && !json_is_null(name) &&
               (!json_is_string(name) || json_string_length(name) > 4 * LB_NAME_MAX_CHARS ||
                !lb_valid_name(json_string_value(name), &why))) {
        lb_error_response(res, req, 400, "bad_request", "name: %s (expected 1 to 64 characters, no control "
                                                        "characters)",
                          json_is_string(name) ? (why ? why : "too long") : "expected a string");
    } else {
        lb_enroll_outcome outcome = LB_TOKEN_INVALID;
        lb_student student;
        lb_course course;
        tt_status st = lb_enroll(srv->store, json_string_value(token), key,
                                 json_is_string(name) ? json_string_value(name) : NULL, time(NULL), &outcome,
                                 &student, &course);
        if (st != TT_OK) {
            internal_error(res, req);
        } else if (outcome == LB_ENROLLED || outcome == LB_ENROLLED_AGAIN) {
            snprintf(req->key_id, sizeof req->key_id, "%s", student.key_id);
            lb_json_response(res, req, outcome == LB_ENROLLED ? 201 : 200,
                             json_pack("{s:{s:s, s:s}, s:s, s:s, s:s}", "course", "id", course.id, "title",
                                       course.title, "key_id", student.key_id, "name", student.name,
                                       "enrolled_at", student.enrolled_at));
        } else if (outcome == LB_TOKEN_USED) {
            lb_error_response(res, req, 409, "token_used", "this enrollment token was already used by another "
                                                           "key: ask your instructor for a new one");
        } else if (outcome == LB_KEY_EXISTS) {
            lb_error_response(res, req, 409, "key_exists", "this public key is already enrolled; `tito login` "
                                                           "makes a new key");
        } else {
            lb_error_response(res, req, 403, "token_invalid", "unknown or expired enrollment token: check it, or "
                                                              "ask your instructor for a new one");
        }
    }
    free(key);
    json_decref(root);
}

/* ---------------------------------------------------------------- shared checks */

/* Parse the body as an envelope; false after answering 400. */
static bool parse_envelope(lb_request *req, lb_response *res, tito_dsse_envelope **env)
{
    tt_status st = tito_dsse_parse(env, req->body, req->body_len);
    if (st == TT_OK)
        return true;
    if (st == TT_ERR_NOMEM)
        internal_error(res, req);
    else if (strncmp(tt_error_last(), "not JSON", 8) == 0)
        lb_error_response(res, req, 400, "bad_json", "the body is %s", tt_error_last());
    else
        lb_error_response(res, req, 400, "bad_envelope", "not a DSSE envelope: %s", tt_error_last());
    return false;
}

/* The signed payload as a JSON object with schema `schema`; NULL after answering. */
static json_t *parse_payload(lb_request *req, lb_response *res, const tito_dsse_envelope *env,
                             const char *payload_type, const char *schema)
{
    if (strcmp(env->payload_type, payload_type) != 0) {
        lb_error_response(res, req, 422, "unsupported_payload_type", "payloadType \"%.100s\": this endpoint takes %s",
                          env->payload_type, payload_type);
        return NULL;
    }
    json_error_t jerr;
    json_t *p = json_loadb((const char *)env->payload, env->payload_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(p)) {
        lb_error_response(res, req, 400, "bad_payload", "the payload is not a JSON object%s%s",
                          p ? "" : ": ", p ? "" : jerr.text);
        json_decref(p);
        return NULL;
    }
    json_t *s = json_object_get(p, "schema");
    if (!json_is_string(s)) {
        lb_error_response(res, req, 400, "bad_payload", "schema: %s", s ? "expected a string" : "missing");
    } else if (strcmp(json_string_value(s), schema) != 0) {
        lb_error_response(res, req, 422, "unsupported_schema", "schema \"%.100s\": this server reads %s",
                          json_string_value(s), schema);
    } else {
        return p;
    }
    json_decref(p);
    return NULL;
}

/* The id, created_at and course fields every payload has; false after answering. */
static bool common_fields(lb_server *srv, lb_request *req, lb_response *res, json_t *p, const char *course_id,
                          time_t now, char id[33], char created_at[32])
{
    json_t *jid = json_object_get(p, "id");
    json_t *jat = json_object_get(p, "created_at");
    json_t *jcourse = json_object_get(p, "course");
    time_t at = 0;
    if (!json_is_string(jid) || !lb_valid_hex(json_string_value(jid), 32, 32)) {
        lb_error_response(res, req, 400, "bad_payload", "id: expected 32 lowercase hex digits");
    } else if (!json_is_string(jat) || !lb_time_parse(json_string_value(jat), &at)) {
        lb_error_response(res, req, 400, "bad_payload", "created_at: expected a UTC time such as "
                                                        "2026-11-26T12:04:05Z");
    } else if (!json_is_string(jcourse) || !lb_valid_course_id(json_string_value(jcourse))) {
        lb_error_response(res, req, 400, "bad_payload", "course: expected a course id");
    } else if (strcmp(json_string_value(jcourse), course_id) != 0) {
        lb_error_response(res, req, 403, "wrong_course", "this key is enrolled in course %s, not %s", course_id,
                          json_string_value(jcourse));
    } else if (at > now + 300) {
        lb_error_response(res, req, 422, "stale", "created_at %s is ahead of the server's clock: check your "
                                                  "computer's clock", json_string_value(jat));
    } else if (now - at > srv->config.max_age_s) {
        lb_error_response(res, req, 422, "stale", "created_at %s is older than this server accepts (%ld days)",
                          json_string_value(jat), srv->config.max_age_s / 86400);
    } else {
        snprintf(id, 33, "%s", json_string_value(jid));
        snprintf(created_at, 32, "%s", json_string_value(jat));
        return true;
    }
    return false;
}

/* An optional provenance.commit (hex, 7..64) into commit; false after answering. */
static bool read_commit(lb_request *req, lb_response *res, json_t *obj, const char *where, char *commit)
{
    commit[0] = '\0';
    json_t *prov = json_object_get(obj, "provenance");
    json_t *c = json_is_object(prov) ? json_object_get(prov, "commit") : NULL;
    if (!c || json_is_null(c))
        return true;
    if (!json_is_string(c) || !lb_valid_hex(json_string_value(c), 7, LB_COMMIT_MAX)) {
        lb_error_response(res, req, 400, "bad_payload", "%s.provenance.commit: expected a commit id (7 to 64 "
                                                        "lowercase hex digits) or null", where);
        return false;
    }
    snprintf(commit, LB_COMMIT_MAX + 1, "%s", json_string_value(c));
    return true;
}

static bool read_score(lb_request *req, lb_response *res, json_t *score, const char *where, long *earned,
                       long *possible)
{
    json_t *e = json_object_get(score, "earned"), *p = json_object_get(score, "possible");
    if (!json_is_object(score) || !json_is_integer(e) || !json_is_integer(p) || json_integer_value(p) < 0 ||
        json_integer_value(p) > 100000 || json_integer_value(e) < 0 ||
        json_integer_value(e) > json_integer_value(p)) {
        lb_error_response(res, req, 400, "bad_payload", "%s: expected {\"earned\", \"possible\"}, integers with 0 "
                                                        "<= earned <= possible <= 100000", where);
        return false;
    }
    *earned = (long)json_integer_value(e);
    *possible = (long)json_integer_value(p);
    return true;
}

/* A milestone's numeric metrics as compact JSON text (at most 64, names of at most 64
 * characters from [A-Za-z0-9_.-]); NULL when there are none. Non-numbers are left out:
 * they stay in the stored envelope. */
static char *metrics_text(json_t *metrics, bool *bad)
{
    *bad = false;
    if (!metrics || json_is_null(metrics))
        return NULL;
    if (!json_is_object(metrics) || json_object_size(metrics) > 64) {
        *bad = true;
        return NULL;
    }
    json_t *kept = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(metrics, k, v)
    {
        size_t n = strlen(k);
        bool ok = n > 0 && n <= 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
                 k[i] == '_' || k[i] == '.' || k[i] == '-';
        if (!ok) {
            *bad = true;
            break;
        }
        if (json_is_number(v))
            json_object_set(kept, k, v);
    }
    char *text = NULL;
    if (!*bad && kept && json_object_size(kept) > 0)
        text = json_dumps(kept, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(kept);
    return text;
}

/* What the server reads from the receipt; false after answering. */
static bool read_receipt(lb_request *req, lb_response *res, json_t *receipt, lb_submission *sub)
{
    json_t *schema = json_object_get(receipt, "schema");
    if (!json_is_object(receipt)) {
        lb_error_response(res, req, 400, "bad_payload", "receipt: %s", receipt ? "expected an object" : "missing");
        return false;
    }
    if (!json_is_string(schema)) {
        lb_error_response(res, req, 400, "bad_payload", "receipt.schema: %s", schema ? "expected a string" : "missing");
        return false;
    }
    const char *sv = json_string_value(schema);
    json_t *kind = json_object_get(receipt, "kind");
    bool milestone_kind = json_is_string(kind) && strcmp(json_string_value(kind), "milestone") == 0;
    sub->reached = -1;
    if (kind && !json_is_string(kind)) {
        lb_error_response(res, req, 400, "bad_payload", "receipt.kind: expected a string");
        return false;
    }
    if (strncmp(sv, "tito-receipt/", 13) == 0 && !milestone_kind) {
        json_t *module = json_object_get(receipt, "module");
        json_t *mode = json_object_get(receipt, "mode");
        if (!json_is_string(module) || !lb_valid_subject(json_string_value(module))) {
            lb_error_response(res, req, 400, "bad_payload", "receipt.module: expected a module slug such as 01_tensor");
            return false;
        }
        if (mode && !(json_is_string(mode) && (strcmp(json_string_value(mode), "grade") == 0 ||
                                               strcmp(json_string_value(mode), "test") == 0))) {
            lb_error_response(res, req, 400, "bad_payload", "receipt.mode: expected \"grade\" or \"test\"");
            return false;
        }
        if (!read_score(req, res, json_object_get(receipt, "score"), "receipt.score", &sub->earned, &sub->possible))
            return false;
        snprintf(sub->kind, sizeof sub->kind, "module");
        snprintf(sub->subject, sizeof sub->subject, "%s", json_string_value(module));
        snprintf(sub->mode, sizeof sub->mode, "%s", mode ? json_string_value(mode) : "grade");
        sub->has_score = true;
        return read_commit(req, res, receipt, "receipt", sub->commit);
    }
    if (strncmp(sv, "tito-milestone/", 15) == 0 || (strncmp(sv, "tito-receipt/", 13) == 0 && milestone_kind)) {
        json_t *slug = json_object_get(receipt, "slug");
        json_t *number = json_object_get(receipt, "milestone");
        json_t *reached = json_object_get(receipt, "reached");
        if (slug && !(json_is_string(slug) && lb_valid_subject(json_string_value(slug)))) {
            lb_error_response(res, req, 400, "bad_payload", "receipt.slug: expected a milestone slug such as 03_digits");
            return false;
        }
        if (!slug && !(json_is_integer(number) && json_integer_value(number) >= 1 && json_integer_value(number) <= 99)) {
            lb_error_response(res, req, 400, "bad_payload", "receipt: expected \"slug\" (such as 03_digits) or "
                                                            "\"milestone\" (a number from 1 to 99)");
            return false;
        }
        if (reached && !json_is_boolean(reached)) {
            lb_error_response(res, req, 400, "bad_payload", "receipt.reached: expected true or false");
            return false;
        }
        bool bad = false;
        /* tito's milestone receipts keep the student's run's figures under run.metrics. */
        json_t *metrics = json_object_get(receipt, "metrics");
        if (!metrics)
            metrics = json_object_get(json_object_get(receipt, "run"), "metrics");
        sub->metrics = metrics_text(metrics, &bad);
        if (bad) {
            lb_error_response(res, req, 400, "bad_payload", "receipt.metrics: expected an object of at most 64 "
                                                            "metrics named with [A-Za-z0-9_.-] (at most 64 "
                                                            "characters)");
            return false;
        }
        snprintf(sub->kind, sizeof sub->kind, "milestone");
        if (slug)
            snprintf(sub->subject, sizeof sub->subject, "%s", json_string_value(slug));
        else
            snprintf(sub->subject, sizeof sub->subject, "%02d_milestone", (int)json_integer_value(number));
        sub->reached = json_is_true(reached);
        return read_commit(req, res, receipt, "receipt", sub->commit);
    }
    lb_error_response(res, req, 422, "unsupported_schema", "receipt.schema \"%.100s\": this server reads "
                                                           "tito-receipt/* and tito-milestone/*", sv);
    return false;
}

static void duplicate_response(lb_response *res, lb_request *req, json_t *ack, const char *what)
{
    const char *at = json_string_value(json_object_get(ack, "received_at"));
    json_t *body = json_pack("{s:{s:s, s:s}, s:o}", "error", "code", "duplicate", "message", "", "first", ack);
    char message[200];
    snprintf(message, sizeof message, "%s %s was already accepted at %s; nothing was stored again", what,
             json_string_value(json_object_get(ack, "id")), at ? at : "?");
    json_object_set_new(json_object_get(body, "error"), "message", json_string(message));
    snprintf(req->error_code, sizeof req->error_code, "duplicate");
    lb_json_response(res, req, 409, body);
}

/* ---------------------------------------------------------------- submissions */

void lb_api_submit(lb_server *srv, lb_request *req, lb_response *res)
{
    tito_dsse_envelope *env = NULL;
    json_t *payload = NULL, *ack = NULL;
    lb_submission sub;
    memset(&sub, 0, sizeof sub);
    if (!parse_envelope(req, res, &env))
        return;

    /* The first signature whose key id is an enrolled key decides. */
    lb_student student;
    bool found = false;
    size_t sig = 0;
    for (; sig < env->n_signatures && !found; sig++) {
        if (!lb_valid_hex(env->signatures[sig].keyid, TITO_KEY_ID_CHARS, TITO_KEY_ID_CHARS))
            continue;
        if (lb_student_get(srv->store, env->signatures[sig].keyid, &student, &found) != TT_OK) {
            internal_error(res, req);
            goto cleanup;
        }
    }
    if (!found) {
        lb_error_response(res, req, 401, "unknown_key", "no signature is by an enrolled key: run `tito login` "
                                                        "with your enrollment token");
        goto cleanup;
    }
    sig--;
    snprintf(req->key_id, sizeof req->key_id, "%s", student.key_id);
    if (!tito_dsse_verify(env, sig, student.public_key)) {
        lb_error_response(res, req, 401, "bad_signature", "the signature of key %.16s... does not verify: the "
                                                          "payload or its type was changed after signing",
                          student.key_id);
        goto cleanup;
    }
    if (student.revoked) {
        lb_error_response(res, req, 403, "revoked_key", "key %.16s... was revoked by the course's instructor",
                          student.key_id);
        goto cleanup;
    }
    payload = parse_payload(req, res, env, TITO_DSSE_SUBMISSION_TYPE, LB_SUBMISSION_SCHEMA);
    if (!payload)
        goto cleanup;
    time_t now = time(NULL);
    if (!common_fields(srv, req, res, payload, student.course_id, now, sub.id, sub.created_at))
        goto cleanup;
    if (!read_receipt(req, res, json_object_get(payload, "receipt"), &sub))
        goto cleanup;
    /* A duplicate is answered before the rate limit: a retry, or someone replaying a
     * captured envelope, costs the key nothing. */
    bool known = false;
    if (lb_submission_find(srv->store, student.key_id, sub.id, &ack, &known) != TT_OK) {
        internal_error(res, req);
        goto cleanup;
    }
    if (known) {
        duplicate_response(res, req, ack, "submission");
        ack = NULL;
        goto cleanup;
    }
    int retry_after = 0;
    if (!lb_ratelimit_take(srv->ratelimit, student.key_id, monotonic_seconds(), &retry_after)) {
        snprintf(res->retry_after, sizeof res->retry_after, "%d", retry_after);
        lb_error_response(res, req, 429, "rate_limited", "too many submissions from this key: try again in %d s",
                          retry_after);
        goto cleanup;
    }
    snprintf(sub.key_id, sizeof sub.key_id, "%s", student.key_id);
    snprintf(sub.course_id, sizeof sub.course_id, "%s", student.course_id);
    bool duplicate = false;
    if (lb_submission_store(srv->store, &sub, req->body, req->body_len, now, &ack, &duplicate) != TT_OK) {
        internal_error(res, req);
        goto cleanup;
    }
    if (duplicate) {
        duplicate_response(res, req, ack, "submission");
        ack = NULL;
        goto cleanup;
    }
    lb_json_response(res, req, 201, ack);
    ack = NULL;
    /* Tests of lost answers: the submission is stored; the client hears nothing. */
    if (srv->config.drop_acks > 0 && atomic_fetch_add(&srv->acks_dropped, 1) < srv->config.drop_acks)
        res->drop = true;
cleanup:
    free(sub.metrics);
    json_decref(ack);
    json_decref(payload);
    tito_dsse_free(env);
}

/* ---------------------------------------------------------------- verifications */

void lb_api_verify(lb_server *srv, lb_request *req, lb_response *res)
{
    tito_dsse_envelope *env = NULL;
    json_t *payload = NULL, *ack = NULL;
    if (!parse_envelope(req, res, &env))
        return;
    lb_course course;
    bool found = false;
    size_t sig = 0;
    for (; sig < env->n_signatures && !found; sig++) {
        if (!lb_valid_hex(env->signatures[sig].keyid, TITO_KEY_ID_CHARS, TITO_KEY_ID_CHARS))
            continue;
        if (lb_course_by_key_id(srv->store, env->signatures[sig].keyid, &course, &found) != TT_OK) {
            internal_error(res, req);
            goto cleanup;
        }
    }
    if (!found) {
        lb_error_response(res, req, 401, "unknown_key", "no signature is by a course key (`tito-leaderboard course "
                                                        "key` sets one)");
        goto cleanup;
    }
    sig--;
    snprintf(req->key_id, sizeof req->key_id, "%s", course.verify_key_id);
    if (!tito_dsse_verify(env, sig, course.verify_key)) {
        lb_error_response(res, req, 401, "bad_signature", "the signature of the course key of %s does not "
                                                          "verify: the payload or its type was changed", course.id);
        goto cleanup;
    }
    payload = parse_payload(req, res, env, TITO_DSSE_VERIFICATION_TYPE, LB_VERIFICATION_SCHEMA);
    if (!payload)
        goto cleanup;
    lb_verification v;
    memset(&v, 0, sizeof v);
    char created_at[32];
    time_t now = time(NULL);
    if (!common_fields(srv, req, res, payload, course.id, now, v.id, created_at))
        goto cleanup;
    json_t *student = json_object_get(payload, "student");
    json_t *kind = json_object_get(payload, "kind");
    json_t *subject = json_object_get(payload, "subject");
    json_t *commit = json_object_get(payload, "commit");
    bool milestone = json_is_string(kind) && strcmp(json_string_value(kind), "milestone") == 0;
    if (!json_is_string(student) || !lb_valid_hex(json_string_value(student), TITO_KEY_ID_CHARS, TITO_KEY_ID_CHARS)) {
        lb_error_response(res, req, 400, "bad_payload", "student: expected a key id (64 lowercase hex digits)");
        goto cleanup;
    }
    if (kind && !milestone && !(json_is_string(kind) && strcmp(json_string_value(kind), "module") == 0)) {
        lb_error_response(res, req, 400, "bad_payload", "kind: expected \"module\" or \"milestone\"");
        goto cleanup;
    }
    if (!json_is_string(subject) || !lb_valid_subject(json_string_value(subject))) {
        lb_error_response(res, req, 400, "bad_payload", "subject: expected a slug such as 01_tensor");
        goto cleanup;
    }
    if (!json_is_string(commit) || !lb_valid_hex(json_string_value(commit), 7, LB_COMMIT_MAX)) {
        lb_error_response(res, req, 400, "bad_payload", "commit: expected a commit id (7 to 64 lowercase hex digits)");
        goto cleanup;
    }
    v.reached = -1;
    if (milestone) {
        json_t *reached = json_object_get(payload, "reached");
        if (!json_is_boolean(reached)) {
            lb_error_response(res, req, 400, "bad_payload", "reached: expected true or false for a milestone");
            goto cleanup;
        }
        v.reached = json_is_true(reached);
    } else if (!read_score(req, res, json_object_get(payload, "score"), "score", &v.earned, &v.possible)) {
        goto cleanup;
    }
    lb_student st;
    if (lb_student_get(srv->store, json_string_value(student), &st, &found) != TT_OK) {
        internal_error(res, req);
        goto cleanup;
    }
    if (!found || strcmp(st.course_id, course.id) != 0) {
        lb_error_response(res, req, 404, "not_found", "no student with key %.16s... in course %s",
                          json_string_value(student), course.id);
        goto cleanup;
    }
    snprintf(v.course_id, sizeof v.course_id, "%s", course.id);
    snprintf(v.student, sizeof v.student, "%s", json_string_value(student));
    snprintf(v.kind, sizeof v.kind, "%s", milestone ? "milestone" : "module");
    snprintf(v.subject, sizeof v.subject, "%s", json_string_value(subject));
    snprintf(v.commit, sizeof v.commit, "%s", json_string_value(commit));
    bool duplicate = false;
    if (lb_verification_store(srv->store, &v, req->body, req->body_len, now, &ack, &duplicate) != TT_OK) {
        internal_error(res, req);
        goto cleanup;
    }
    if (duplicate) {
        duplicate_response(res, req, ack, "verification");
        ack = NULL;
        goto cleanup;
    }
    lb_json_response(res, req, 201, ack);
    ack = NULL;
cleanup:
    json_decref(ack);
    json_decref(payload);
    tito_dsse_free(env);
}

/* ---------------------------------------------------------------- reading */

void lb_api_ranking(lb_server *srv, lb_request *req, lb_response *res)
{
    json_t *doc = NULL;
    bool found = false;
    const char *course = req->params[0];
    if (!lb_valid_course_id(course)) {
        lb_error_response(res, req, 404, "not_found", "no such course");
        return;
    }
    if (lb_ranking_json(srv->store, course, time(NULL), &doc, &found) != TT_OK)
        internal_error(res, req);
    else if (!found)
        lb_error_response(res, req, 404, "not_found", "no course %s on this server", course);
    else
        lb_json_response(res, req, 200, doc);
}

void lb_api_student(lb_server *srv, lb_request *req, lb_response *res)
{
    json_t *doc = NULL;
    bool found = false;
    const char *course = req->params[0], *key_id = req->params[1];
    if (!lb_valid_course_id(course) || !lb_valid_hex(key_id, TITO_KEY_ID_CHARS, TITO_KEY_ID_CHARS)) {
        lb_error_response(res, req, 404, "not_found", "no such course or student");
        return;
    }
    if (lb_student_json(srv->store, course, key_id, time(NULL), &doc, &found) != TT_OK)
        internal_error(res, req);
    else if (!found)
        lb_error_response(res, req, 404, "not_found", "no student %.16s... in course %s", key_id, course);
    else
        lb_json_response(res, req, 200, doc);
}
