/*
 * The leaderboard client (grader/submit.h): libcurl with the settings the header
 * promises, the submission payload and its signature, and the one place that decides
 * what an answer means for a queued submission (send_outcome).
 */
#define _POSIX_C_SOURCE 200809L

#include "submit.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ANSWER (4u << 20)
#define SUBMISSION_SCHEMA "tito-submission/1"

void tito_sha256_hex(char out[TITO_KEY_ID_CHARS + 1], const void *data, size_t len)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, data, len);
    sodium_bin2hex(out, TITO_KEY_ID_CHARS + 1, hash, sizeof hash);
}

/* ---------------------------------------------------------------- HTTP */

typedef struct sink {
    tito_http_response *res;
    size_t cap;
    bool too_big;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    sink *s = userp;
    size_t n = size * nmemb;
    if (s->res->len + n > MAX_ANSWER) {
        s->too_big = true;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    if (s->res->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->res->len + n + 1)
            cap *= 2;
        char *p = realloc(s->res->body, cap);
        if (!p)
            return 0;
        s->res->body = p;
        s->cap = cap;
    }
    memcpy(s->res->body + s->res->len, data, n);
    s->res->len += n;
    s->res->body[s->res->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    tito_http_response *res = userp;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        char value[32];
        size_t len = n - 12 < sizeof value - 1 ? n - 12 : sizeof value - 1;
        memcpy(value, data + 12, len);
        value[len] = '\0';
        char *end = NULL;
        long v = strtol(value, &end, 10);
        if (end != value && v > 0 && v < 86400)
            res->retry_after = (int)v;
    }
    return n;
}

static bool curl_ready(void)
{
    static bool done, ok;
    if (!done) {
        ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        done = true;
    }
    return ok;
}

void tito_http_response_release(tito_http_response *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

tt_status tito_http_request(tito_http_response *out, const char *url, const char *body, size_t len)
{
    memset(out, 0, sizeof *out);
    if (!curl_ready())
        return tt_error_set(TT_ERR_STATE, "libcurl cannot start");
    CURL *curl = curl_easy_init();
    if (!curl)
        return tt_error_set(TT_ERR_NOMEM, "libcurl cannot make a request");
    struct curl_slist *headers = NULL;
    sink s = {out, 0, false};
    headers = curl_slist_append(headers, "Accept: application/json");
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        /* No "Expect: 100-continue" round trip before the body. */
        headers = curl_slist_append(headers, "Expect:");
    }
    long timeout = 60;
    const char *env_timeout = getenv("TITO_HTTP_TIMEOUT");
    if (env_timeout) {
        char *end = NULL;
        long t = strtol(env_timeout, &end, 10);
        if (end != env_timeout && *end == '\0' && t > 0 && t <= 3600)
            timeout = t;
    }
    const char *ca = getenv("TITO_CA_BUNDLE");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "tito (TinyTorch-C)");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    /* Verification is libcurl's default; set anyway, so no default can change it. */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca && *ca)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    } else {
        out->status = 0;
        snprintf(out->error, sizeof out->error, "%s",
                 s.too_big ? "the answer is larger than 4 MiB" : curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (!out->body && out->status) {
        out->body = calloc(1, 1);
        if (!out->body)
            return tt_error_set(TT_ERR_NOMEM, "no memory for an answer");
    }
    return TT_OK;
}

/* The {"error": {"code", "message"}} of an answer, when it has one. */
static void error_of(const tito_http_response *r, char *code, size_t code_size, char *message, size_t message_size)
{
    code[0] = message[0] = '\0';
    json_t *root = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    json_t *err = json_object_get(root, "error");
    const char *c = json_string_value(json_object_get(err, "code"));
    const char *m = json_string_value(json_object_get(err, "message"));
    snprintf(code, code_size, "%s", c ? c : "");
    if (m)
        snprintf(message, message_size, "%s", m);
    else
        snprintf(message, message_size, "HTTP %ld from the server, without an explanation", r->status);
    json_decref(root);
}

static tt_status endpoint(char *buf, size_t size, const char *url, const char *path)
{
    int n = snprintf(buf, size, "%s%s", url, path);
    if (n < 0 || (size_t)n >= size)
        return tt_error_set(TT_ERR_INVALID_ARG, "URL too long: %s%s", url, path);
    return TT_OK;
}

/* ---------------------------------------------------------------- enrollment */

tt_status tito_enroll(tito_enroll_result *res, tito_identity *id, const char *token, const char *name)
{
    memset(res, 0, sizeof *res);
    char url[1200], *pub = NULL, *body = NULL;
    tito_http_response r;
    memset(&r, 0, sizeof r);
    json_t *req = NULL, *answer = NULL;
    tt_status st = endpoint(url, sizeof url, id->url, "/api/v1/enroll");
    if (st != TT_OK)
        return st;
    TT_CHECK(tito_base64_encode(&pub, NULL, id->keys.public_key, TITO_PUBLIC_KEY_BYTES));
    req = json_pack("{s:s, s:s}", "token", token, "public_key", pub);
    if (req && name && *name)
        json_object_set_new(req, "name", json_string(name));
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (!body) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_enroll: no memory (or the name is not UTF-8)");
        goto cleanup;
    }
    TT_CHECK(tito_http_request(&r, url, body, strlen(body)));
    res->status = r.status;
    if (r.status == 0) {
        snprintf(res->message, sizeof res->message, "cannot reach %.200s: %.250s", id->url, r.error);
        goto cleanup;
    }
    if (r.status != 200 && r.status != 201) {
        error_of(&r, res->code, sizeof res->code, res->message, sizeof res->message);
        goto cleanup;
    }
    answer = json_loadb(r.body, r.len, 0, NULL);
    const char *course = json_string_value(json_object_get(json_object_get(answer, "course"), "id"));
    const char *title = json_string_value(json_object_get(json_object_get(answer, "course"), "title"));
    const char *key_id = json_string_value(json_object_get(answer, "key_id"));
    const char *who = json_string_value(json_object_get(answer, "name"));
    const char *when = json_string_value(json_object_get(answer, "enrolled_at"));
    if (!course || !title || !key_id || !who || !when) {
        st = tt_error_set(TT_ERR_FORMAT, "%s answered the enrollment with something else than the leaderboard's "
                                         "JSON: is it a TinyTorch-C leaderboard?", id->url);
        goto cleanup;
    }
    if (strcmp(key_id, id->key_id) != 0) {
        st = tt_error_set(TT_ERR_FORMAT, "%s enrolled key %.16s..., not ours (%.16s...)", id->url, key_id, id->key_id);
        goto cleanup;
    }
    snprintf(id->course_id, sizeof id->course_id, "%s", course);
    snprintf(id->course_title, sizeof id->course_title, "%s", title);
    snprintf(id->name, sizeof id->name, "%s", who);
    snprintf(id->enrolled_at, sizeof id->enrolled_at, "%s", when);
    id->enrolled = true;
cleanup:
    free(pub);
    free(body);
    json_decref(req);
    json_decref(answer);
    tito_http_response_release(&r);
    return st;
}

/* ---------------------------------------------------------------- submissions */

tt_status tito_submission_make(char **envelope, size_t *len, char sub_id[33], char *subject, size_t subject_size,
                               const tito_identity *id, const char *receipt_text, size_t receipt_len, time_t now)
{
    *envelope = NULL;
    if (!id->enrolled)
        return tt_error_set(TT_ERR_STATE, "not logged in to %s yet: run `tito login` with your enrollment token",
                            id->url);
    json_error_t jerr;
    json_t *receipt = json_loadb(receipt_text, receipt_len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *payload = NULL;
    char *text = NULL;
    tt_status st = TT_OK;
    const char *schema = json_string_value(json_object_get(receipt, "schema"));
    if (!json_is_object(receipt) || !schema ||
        (strncmp(schema, "tito-receipt/", 13) != 0 && strncmp(schema, "tito-milestone/", 15) != 0)) {
        st = tt_error_set(TT_ERR_FORMAT, "not a receipt (%s)",
                          !receipt ? jerr.text : !schema ? "no \"schema\"" : "schema is neither tito-receipt/* nor "
                                                                             "tito-milestone/*");
        goto cleanup;
    }
    const char *about = json_string_value(json_object_get(receipt, "module"));
    if (!about)
        about = json_string_value(json_object_get(receipt, "slug"));
    if (about)
        snprintf(subject, subject_size, "%s", about);
    else
        snprintf(subject, subject_size, "milestone %lld",
                 (long long)json_integer_value(json_object_get(receipt, "milestone")));
    TT_CHECK(tito_random_hex(sub_id, 16));
    char created[32];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    payload = json_pack("{s:s, s:s, s:s, s:s, s:O}", "schema", SUBMISSION_SCHEMA, "id", sub_id, "created_at", created,
                        "course", id->course_id, "receipt", receipt);
    text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    if (!text) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_submission_make: no memory");
        goto cleanup;
    }
    TT_CHECK(tito_dsse_sign(envelope, len, TITO_DSSE_SUBMISSION_TYPE, text, strlen(text), &id->keys));
cleanup:
    free(text);
    json_decref(payload);
    json_decref(receipt);
    return st;
}

void tito_send_result_release(tito_send_result *res)
{
    free(res->ack);
    res->ack = NULL;
}

tt_status tito_submission_send(tito_send_result *res, const char *url, const char *envelope, size_t len)
{
    memset(res, 0, sizeof *res);
    char endpoint_url[1200];
    tito_http_response r;
    tt_status st = endpoint(endpoint_url, sizeof endpoint_url, url, "/api/v1/submissions");
    if (st != TT_OK)
        return st;
    st = tito_http_request(&r, endpoint_url, envelope, len);
    if (st != TT_OK)
        return st;
    res->status = r.status;
    res->retry_after = r.retry_after;
    json_t *answer = r.status ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    if (r.status)
        error_of(&r, res->code, sizeof res->code, res->message, sizeof res->message);
    bool duplicate = r.status == 409 && strcmp(res->code, "duplicate") == 0;
    json_t *ack = r.status == 201 ? answer : duplicate ? json_object_get(answer, "first") : NULL;
    if (r.status == 0) {
        res->outcome = TITO_SEND_RETRY;
        snprintf(res->message, sizeof res->message, "cannot reach %.200s: %.250s", url, r.error);
    } else if ((r.status == 201 || duplicate) && json_is_true(json_object_get(ack, "accepted"))) {
        res->outcome = duplicate ? TITO_SEND_DUPLICATE : TITO_SEND_ACCEPTED;
        res->ack = json_dumps(ack, JSON_COMPACT);
        if (!res->ack)
            st = tt_error_set(TT_ERR_NOMEM, "no memory for an acknowledgement");
        if (!duplicate)
            res->message[0] = '\0';
    } else if (r.status == 201 || duplicate) {
        /* "Accepted" without an acknowledgement is not our server: try again later. */
        res->outcome = TITO_SEND_RETRY;
        snprintf(res->message, sizeof res->message, "%.200s answered HTTP %ld without an acknowledgement", url, r.status);
    } else {
        /* Rate limits, server errors, and answers from something in between (a proxy's
         * 502 page) may pass; a refusal of the envelope itself never will. */
        bool transient = r.status == 429 || r.status == 408 || r.status >= 500 || !answer;
        res->outcome = transient ? TITO_SEND_RETRY : TITO_SEND_REJECTED;
    }
    json_decref(answer);
    tito_http_response_release(&r);
    return st;
}

/* ---------------------------------------------------------------- ranking */

tt_status tito_ranking_fetch(json_t **out, const char *url, const char *course)
{
    *out = NULL;
    char path[256], full[1400];
    snprintf(path, sizeof path, "/api/v1/courses/%s/ranking", course);
    tt_status st = endpoint(full, sizeof full, url, path);
    if (st != TT_OK)
        return st;
    tito_http_response r;
    st = tito_http_request(&r, full, NULL, 0);
    if (st != TT_OK)
        return st;
    if (r.status == 0) {
        st = tt_error_set(TT_ERR_IO, "cannot reach %s: %s", url, r.error);
    } else if (r.status != 200) {
        char code[48], message[512];
        error_of(&r, code, sizeof code, message, sizeof message);
        st = tt_error_set(TT_ERR_IO, "%s: HTTP %ld: %s", full, r.status, message);
    } else {
        json_error_t jerr;
        *out = json_loadb(r.body, r.len, 0, &jerr);
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            st = tt_error_set(TT_ERR_FORMAT, "%s: the ranking is not JSON (%s)", full, jerr.text);
        }
    }
    tito_http_response_release(&r);
    return st;
}
