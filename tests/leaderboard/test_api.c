/*
 * tito-leaderboard over HTTP on loopback: every answer of docs/leaderboard.md's API
 * tables, in particular every rejection (status and code), hostile strings (SQL
 * injection, markup, oversized values) in every field a client controls, the pages,
 * the log (one line per request), a clean stop on SIGTERM, and a lost answer: the
 * server is restarted with --drop-acks 1, and the client's retry learns from the
 * "duplicate" answer that its submission was kept, once.
 *
 * The server is the real program (TITO_LEADERBOARD_BIN), started on port 0 with a
 * low rate limit; setup (courses, tokens, a revoked key) goes straight to the store
 * before it starts. Requests are made with libcurl here, byte for byte as written,
 * so malformed ones reach the server as they are.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lb.h"
#include "submit.h"

#ifndef TITO_LEADERBOARD_BIN
#error "TITO_LEADERBOARD_BIN: the server program (tests/leaderboard/CMakeLists.txt)"
#endif

static char tmp_root[512], db_path[700], port_file[700], log_path[700], base_url[64];
static pid_t server_pid;
static long requests_made; /* each HTTP request this test sends: the log must have as many lines */
static long submissions_accepted;

/* ---------------------------------------------------------------- the server */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static bool start_server(const char *extra)
{
    unlink(port_file);
    pid_t pid = fork();
    if (pid == 0) {
#if defined(__linux__)
        /* Should this process die without stopping the server, the server goes too. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        char *argv[24];
        int n = 0;
        argv[n++] = TITO_LEADERBOARD_BIN;
        argv[n++] = "serve";
        argv[n++] = "--db";
        argv[n++] = db_path;
        argv[n++] = "--port";
        argv[n++] = "0";
        argv[n++] = "--port-file";
        argv[n++] = port_file;
        argv[n++] = "--log";
        argv[n++] = log_path;
        argv[n++] = "--rate";
        argv[n++] = "0.05";
        argv[n++] = "--burst";
        argv[n++] = "4";
        argv[n++] = "--max-body";
        argv[n++] = "65536";
        argv[n++] = "--max-age-days";
        argv[n++] = "30";
        if (extra) {
            argv[n++] = "--drop-acks";
            argv[n++] = (char *)extra;
        }
        argv[n] = NULL;
        execv(argv[0], argv);
        _exit(127);
    }
    server_pid = pid;
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f) {
            bool ok = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok && port > 0) {
                snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
                return true;
            }
        }
        sleep_ms(10);
    }
    return false;
}

/* SIGTERM, and the exit status (-1 when it had to be killed). */
static int stop_server(void)
{
    if (server_pid <= 0)
        return -1;
    kill(server_pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500; i++) {
        if (waitpid(server_pid, &status, WNOHANG) == server_pid) {
            server_pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        sleep_ms(10);
    }
    kill(server_pid, SIGKILL);
    waitpid(server_pid, &status, 0);
    server_pid = 0;
    return -1;
}

/* ---------------------------------------------------------------- HTTP */

typedef struct answer {
    long status;
    char *body;
    size_t len;
    char content_type[128];
    char allow[64];
    char retry_after[16];
    json_t *json; /* the body parsed, when it is JSON */
} answer;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    answer *a = userp;
    size_t n = size * nmemb;
    char *p = realloc(a->body, a->len + n + 1);
    if (!p)
        return 0;
    a->body = p;
    memcpy(a->body + a->len, data, n);
    a->len += n;
    a->body[a->len] = '\0';
    return n;
}

static void header_value(char *dst, size_t size, const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n > k && strncasecmp(line, name, k) == 0) {
        const char *v = line + k;
        size_t len = n - k;
        while (len && (*v == ' '))
            v++, len--;
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'))
            len--;
        snprintf(dst, size, "%.*s", (int)len, v);
    }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    answer *a = userp;
    size_t n = size * nmemb;
    header_value(a->content_type, sizeof a->content_type, data, n, "Content-Type:");
    header_value(a->allow, sizeof a->allow, data, n, "Allow:");
    header_value(a->retry_after, sizeof a->retry_after, data, n, "Retry-After:");
    return n;
}

static void answer_release(answer *a)
{
    free(a->body);
    json_decref(a->json);
    memset(a, 0, sizeof *a);
}

/* One request; content_type NULL sends none; chunked sends the body without a length. */
static answer request(const char *method, const char *path, const char *content_type, const char *body, size_t len,
                      bool chunked)
{
    answer a;
    memset(&a, 0, sizeof a);
    CURL *curl = curl_easy_init();
    char url[4096];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    struct curl_slist *headers = NULL;
    char ct[160];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, ct);
    } else if (body) {
        headers = curl_slist_append(headers, "Content-Type:");
    }
    headers = curl_slist_append(headers, "Expect:");
    if (chunked)
        headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    if (body) {
        /* With "Transfer-Encoding: chunked" set, libcurl sends the same bytes in chunks
         * and no Content-Length. */
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    requests_made++;
    if (a.body && strncmp(a.content_type, "application/json", 16) == 0)
        a.json = json_loadb(a.body, a.len, 0, NULL);
    return a;
}

static answer post_json(const char *path, const char *body)
{
    return request("POST", path, "application/json", body, strlen(body), false);
}

static answer get(const char *path)
{
    return request("GET", path, NULL, NULL, 0, false);
}

static const char *code_of(const answer *a)
{
    const char *c = json_string_value(json_object_get(json_object_get(a->json, "error"), "code"));
    return c ? c : "";
}

/* The status and the error code must be these (a 2xx has no code). */
#define EXPECT(a, want_status, want_code)                                                                   \
    do {                                                                                                    \
        const answer *a_ = &(a);                                                                            \
        if (a_->status != (want_status) || strcmp(code_of(a_), (want_code)) != 0) {                         \
            fprintf(stderr, "%s:%d: %s: got %ld %s, expected %d %s; body: %.300s\n", __FILE__, __LINE__,   \
                    harness_current, a_->status, code_of(a_), (int)(want_status), (want_code),              \
                    a_->body ? a_->body : "");                                                              \
            harness_current_failed++;                                                                       \
        }                                                                                                   \
    } while (0)

/* ---------------------------------------------------------------- signed bodies */

static tito_keypair ada, bob, revoked, stranger, course_key, limited;
static char ada_id[65], bob_id[65], revoked_id[65], limited_id[65];

static char *sign(const tito_keypair *kp, const char *type, const char *payload)
{
    char *env = NULL;
    if (tito_dsse_sign(&env, NULL, type, payload, strlen(payload), kp) != TT_OK)
        return NULL;
    return env;
}

static void now_text(char out[32], long offset)
{
    lb_time_format(out, time(NULL) + offset);
}

/* A submission payload with the given fields; `receipt` is JSON text. */
static char *payload(const char *id, const char *created_at, const char *course, const char *receipt)
{
    size_t n = strlen(id) + strlen(created_at) + strlen(course) + strlen(receipt) + 200;
    char *p = malloc(n);
    snprintf(p, n, "{\"schema\":\"tito-submission/1\",\"id\":\"%s\",\"created_at\":\"%s\",\"course\":\"%s\","
                   "\"receipt\":%s}",
             id, created_at, course, receipt);
    return p;
}

static const char *module_receipt = "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"mode\":\"grade\","
                                    "\"score\":{\"earned\":92,\"possible\":100},\"provenance\":{\"commit\":"
                                    "\"4c2a9e1f00\"}}";

static answer submit_payload(const tito_keypair *kp, const char *p)
{
    char *env = sign(kp, TITO_DSSE_SUBMISSION_TYPE, p);
    answer a = post_json("/api/v1/submissions", env ? env : "");
    if (a.status == 201)
        submissions_accepted++;
    free(env);
    return a;
}

static answer submit_fields(const tito_keypair *kp, const char *id, const char *created_at, const char *course,
                            const char *receipt)
{
    char *p = payload(id, created_at, course, receipt);
    answer a = submit_payload(kp, p);
    free(p);
    return a;
}

static void fresh_id(char out[33])
{
    if (tito_random_hex(out, 16) != TT_OK)
        snprintf(out, 33, "%032d", 0);
}

/* ---------------------------------------------------------------- tests */

static void test_health_routes_and_limits(void)
{
    answer a = get("/api/v1/health");
    EXPECT(a, 200, "");
    CHECK(json_is_true(json_object_get(a.json, "ok")));
    CHECK(json_integer_value(json_object_get(a.json, "schema_version")) == LB_SCHEMA_VERSION);
    answer_release(&a);

    a = get("/nope");
    CHECK(a.status == 404 && strncmp(a.content_type, "text/html", 9) == 0);
    answer_release(&a);
    a = get("/api/v1/nope");
    EXPECT(a, 404, "not_found");
    answer_release(&a);
    a = request("POST", "/api/v1/health", "application/json", "{}", 2, false);
    EXPECT(a, 405, "method_not_allowed");
    CHECK(strcmp(a.allow, "GET") == 0);
    answer_release(&a);
    a = get("/api/v1/submissions");
    EXPECT(a, 405, "method_not_allowed");
    CHECK(strcmp(a.allow, "POST") == 0);
    answer_release(&a);
    a = request("DELETE", "/c/demo", NULL, NULL, 0, false);
    CHECK(a.status == 405 && strcmp(a.allow, "GET") == 0);
    answer_release(&a);

    a = request("POST", "/api/v1/submissions", "text/plain", "{}", 2, false);
    EXPECT(a, 415, "unsupported_media_type");
    answer_release(&a);
    a = request("POST", "/api/v1/enroll", NULL, "{}", 2, false);
    EXPECT(a, 415, "unsupported_media_type");
    answer_release(&a);
    a = request("POST", "/api/v1/submissions", "application/json; charset=utf-8", "{", 1, false);
    EXPECT(a, 400, "bad_json");
    answer_release(&a);

    /* 70 KB: over --max-body 65536, announced by Content-Length ... */
    size_t big_len = 70 * 1024;
    char *big = malloc(big_len + 1);
    memset(big, ' ', big_len);
    big[big_len] = '\0';
    a = request("POST", "/api/v1/submissions", "application/json", big, big_len, false);
    EXPECT(a, 413, "too_large");
    answer_release(&a);
    /* ... and sent in chunks with no length announced. */
    a = request("POST", "/api/v1/enroll", "application/json", big, big_len, true);
    CHECK(a.status == 413 || a.status == 0); /* the server may close before curl reads the answer */
    if (a.status)
        EXPECT(a, 413, "too_large");
    answer_release(&a);
    free(big);
}

static void test_enrollment(void)
{
    char *pub = NULL, *pub_bob = NULL, body[70000];
    CHECK_OK(tito_base64_encode(&pub, NULL, ada.public_key, 32));
    CHECK_OK(tito_base64_encode(&pub_bob, NULL, bob.public_key, 32));
    struct {
        const char *body;
        int status;
        const char *code;
    } refusals[] = {
        {"{", 400, "bad_json"},
        {"[1]", 400, "bad_request"},
        {"{\"public_key\":\"AAAA\"}", 400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"public_key\":\"not base64!\"}", 400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"}", 400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"public_key\":5}", 400, "bad_request"},
        {"{\"token\":\"tlb_nobody\",\"public_key\":\"PUB\"}", 403, "token_invalid"},
        {"{\"token\":\"' OR '1'='1\",\"public_key\":\"PUB\"}", 403, "token_invalid"},
        {"{\"token\":\"tlb_expired\",\"public_key\":\"PUB\"}", 403, "token_invalid"},
        {"{\"token\":\"tlb_ada\",\"public_key\":\"PUB\",\"name\":\"a\\nb\"}", 400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"public_key\":\"PUB\",\"name\":\"\\u001b[31mred\"}", 400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"public_key\":\"PUB\",\"name\":7}", 400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"public_key\":\"PUB\",\"name\":\"\"}", 400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"public_key\":\"PUB\",\"name\":"
         "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
         400, "bad_request"},
        {"{\"token\":\"tlb_ada\",\"token\":\"tlb_ada\",\"public_key\":\"PUB\"}", 400, "bad_json"},
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        /* The template's PUB stands for the key. */
        const char *mark = strstr(refusals[i].body, "PUB");
        if (mark)
            snprintf(body, sizeof body, "%.*s%s%s", (int)(mark - refusals[i].body), refusals[i].body, pub, mark + 3);
        else
            snprintf(body, sizeof body, "%s", refusals[i].body);
        answer a = post_json("/api/v1/enroll", body);
        EXPECT(a, refusals[i].status, refusals[i].code);
        answer_release(&a);
    }
    /* An oversized token (50 KB, under the body limit) is refused by its length. */
    int n = snprintf(body, sizeof body, "{\"public_key\":\"%s\",\"token\":\"", pub);
    memset(body + n, 'x', 50000);
    snprintf(body + n + 50000, sizeof body - (size_t)n - 50000, "\"}");
    answer a = post_json("/api/v1/enroll", body);
    EXPECT(a, 400, "bad_request");
    answer_release(&a);

    snprintf(body, sizeof body, "{\"token\":\"tlb_ada\",\"public_key\":\"%s\",\"name\":\"Ada <b>Lovelace</b>\"}", pub);
    a = post_json("/api/v1/enroll", body);
    EXPECT(a, 201, "");
    CHECK(strcmp(json_string_value(json_object_get(a.json, "key_id")), ada_id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(a.json, "name")), "Ada <b>Lovelace</b>") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(a.json, "course"), "id")), "demo") == 0);
    json_t *first = json_incref(a.json);
    answer_release(&a);
    /* The same request again (its answer was lost): the same answer, 200. */
    a = post_json("/api/v1/enroll", body);
    EXPECT(a, 200, "");
    CHECK(json_equal(a.json, first));
    answer_release(&a);
    json_decref(first);
    snprintf(body, sizeof body, "{\"token\":\"tlb_ada\",\"public_key\":\"%s\"}", pub_bob);
    a = post_json("/api/v1/enroll", body);
    EXPECT(a, 409, "token_used");
    answer_release(&a);
    snprintf(body, sizeof body, "{\"token\":\"tlb_spare\",\"public_key\":\"%s\"}", pub);
    a = post_json("/api/v1/enroll", body);
    EXPECT(a, 409, "key_exists");
    answer_release(&a);
    /* Hostile but valid names are kept exactly (and escaped on the page). */
    snprintf(body, sizeof body, "{\"token\":\"tlb_bob\",\"public_key\":\"%s\",\"name\":\"Robert'); DROP TABLE "
                                "students;--\"}",
             pub_bob);
    a = post_json("/api/v1/enroll", body);
    EXPECT(a, 201, "");
    CHECK(strcmp(json_string_value(json_object_get(a.json, "name")), "Robert'); DROP TABLE students;--") == 0);
    answer_release(&a);
    free(pub);
    free(pub_bob);
}

static void test_submission_rejections(void)
{
    char id[33], now[32], old[32], future[32];
    fresh_id(id);
    now_text(now, 0);
    now_text(old, -31L * 86400);
    now_text(future, 3600);
    char *p = payload(id, now, "demo", module_receipt);
    char *env = sign(&ada, TITO_DSSE_SUBMISSION_TYPE, p);
    answer a;

    /* Not envelopes. */
    a = post_json("/api/v1/submissions", "null");
    EXPECT(a, 400, "bad_json");
    answer_release(&a);
    a = post_json("/api/v1/submissions", "{\"payloadType\":\"x\",\"signatures\":[{\"sig\":\"\"}]}");
    EXPECT(a, 400, "bad_envelope");
    answer_release(&a);
    a = post_json("/api/v1/submissions", "{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"AAAA\"}]}");
    EXPECT(a, 400, "bad_envelope");
    answer_release(&a);

    /* Keys: unknown, a hostile key id, a revoked key. */
    a = submit_payload(&stranger, p);
    EXPECT(a, 401, "unknown_key");
    answer_release(&a);
    {
        json_t *e = json_loads(env, 0, NULL);
        json_object_set_new(json_array_get(json_object_get(e, "signatures"), 0), "keyid",
                            json_string("' OR 1=1; DROP TABLE students; --"));
        char *text = json_dumps(e, JSON_COMPACT);
        a = post_json("/api/v1/submissions", text);
        EXPECT(a, 401, "unknown_key");
        answer_release(&a);
        free(text);
        json_decref(e);
    }
    a = submit_payload(&revoked, p);
    EXPECT(a, 403, "revoked_key");
    answer_release(&a);

    /* Tampering: the payload, then the type, after signing. */
    {
        json_t *e = json_loads(env, 0, NULL);
        char *changed = payload(id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":"
                                                 "{\"earned\":100,\"possible\":100}}");
        char *b64 = NULL;
        CHECK_OK(tito_base64_encode(&b64, NULL, changed, strlen(changed)));
        json_object_set_new(e, "payload", json_string(b64));
        char *text = json_dumps(e, JSON_COMPACT);
        a = post_json("/api/v1/submissions", text);
        EXPECT(a, 401, "bad_signature");
        answer_release(&a);
        /* What tito does with that answer: give up on it, never retry. */
        tito_send_result r;
        CHECK_OK(tito_submission_send(&r, base_url, text, strlen(text)));
        requests_made++;
        CHECK(r.outcome == TITO_SEND_REJECTED && r.status == 401 && strcmp(r.code, "bad_signature") == 0);
        tito_send_result_release(&r);
        free(text);
        free(b64);
        free(changed);
        json_object_set_new(e, "payloadType", json_string(TITO_DSSE_VERIFICATION_TYPE));
        json_t *orig = json_loads(env, 0, NULL);
        json_object_set(e, "payload", json_object_get(orig, "payload"));
        json_decref(orig);
        text = json_dumps(e, JSON_COMPACT);
        a = post_json("/api/v1/submissions", text);
        EXPECT(a, 401, "bad_signature");
        answer_release(&a);
        free(text);
        json_decref(e);
    }

    /* Signed correctly, but not a submission. */
    char *other = sign(&ada, "application/json", p);
    a = post_json("/api/v1/submissions", other);
    EXPECT(a, 422, "unsupported_payload_type");
    answer_release(&a);
    free(other);

    struct {
        const char *id, *created_at, *course, *receipt;
        int status;
        const char *code;
    } cases[] = {
        {"XYZ", now, "demo", module_receipt, 400, "bad_payload"},
        {id, "yesterday", "demo", module_receipt, 400, "bad_payload"},
        {id, now, "Demo Course", module_receipt, 400, "bad_payload"},
        {id, now, "other", module_receipt, 403, "wrong_course"},
        {id, future, "demo", module_receipt, 422, "stale"},
        {id, old, "demo", module_receipt, 422, "stale"},
        {id, now, "demo", "5", 400, "bad_payload"},
        {id, now, "demo", "{\"module\":\"01_tensor\"}", 400, "bad_payload"},
        {id, now, "demo", "{\"schema\":\"tito-course/1\"}", 422, "unsupported_schema"},
        {id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"module\":\"tensor\",\"score\":{\"earned\":1,\"possible\":2}}",
         400, "bad_payload"},
        {id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":3,\"possible\":2}}",
         400, "bad_payload"},
        {id, now, "demo",
         "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":1,\"possible\":100001}}", 400,
         "bad_payload"},
        {id, now, "demo",
         "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":-1,\"possible\":2}}", 400,
         "bad_payload"},
        {id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":1.5,\"possible\":2}}",
         400, "bad_payload"},
        {id, now, "demo",
         "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"mode\":\"exam\",\"score\":{\"earned\":1,\"possible\":2}}",
         400, "bad_payload"},
        {id, now, "demo",
         "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":1,\"possible\":2},"
         "\"provenance\":{\"commit\":\"abc'; --\"}}",
         400, "bad_payload"},
        {id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"slug\":\"03 mlp\"}", 400, "bad_payload"},
        {id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"milestone\":300}", 400, "bad_payload"},
        {id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"slug\":\"03_mlp\",\"reached\":\"yes\"}",
         400, "bad_payload"},
        {id, now, "demo",
         "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"slug\":\"03_mlp\",\"metrics\":{\"a b\":1}}", 400,
         "bad_payload"},
        {id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"kind\":5}", 400, "bad_payload"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        a = submit_fields(&ada, cases[i].id, cases[i].created_at, cases[i].course, cases[i].receipt);
        EXPECT(a, cases[i].status, cases[i].code);
        if (a.status != cases[i].status)
            fprintf(stderr, "    (case %zu)\n", i);
        answer_release(&a);
    }
    char *not_json = sign(&ada, TITO_DSSE_SUBMISSION_TYPE, "not json");
    a = post_json("/api/v1/submissions", not_json);
    EXPECT(a, 400, "bad_payload");
    answer_release(&a);
    free(not_json);
    char *schema2 = sign(&ada, TITO_DSSE_SUBMISSION_TYPE, "{\"schema\":\"tito-submission/2\"}");
    a = post_json("/api/v1/submissions", schema2);
    EXPECT(a, 422, "unsupported_schema");
    answer_release(&a);
    free(schema2);
    free(env);
    free(p);
}

static void test_accept_duplicate_and_rate_limit(void)
{
    char id[33], now[32];
    fresh_id(id);
    now_text(now, 0);
    char *p = payload(id, now, "demo", module_receipt);
    char *env = sign(&ada, TITO_DSSE_SUBMISSION_TYPE, p);
    answer a = post_json("/api/v1/submissions", env);
    EXPECT(a, 201, "");
    submissions_accepted += a.status == 201;
    json_t *ack = json_incref(a.json);
    CHECK(json_is_true(json_object_get(ack, "accepted")));
    CHECK(strcmp(json_string_value(json_object_get(ack, "id")), id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(ack, "key_id")), ada_id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(ack, "subject")), "01_tensor") == 0);
    CHECK(strcmp(json_string_value(json_object_get(ack, "kind")), "module") == 0);
    CHECK(strcmp(json_string_value(json_object_get(ack, "status")), "self-reported") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(ack, "score"), "earned")) == 92);
    answer_release(&a);
    /* A replay: nothing stored, the first acknowledgement returned. */
    a = post_json("/api/v1/submissions", env);
    EXPECT(a, 409, "duplicate");
    CHECK(json_equal(json_object_get(a.json, "first"), ack));
    answer_release(&a);
    /* The same id signed again with other contents is the same submission. */
    char *p2 = payload(id, now, "demo", "{\"schema\":\"tito-receipt/1\",\"module\":\"02_activations\",\"score\":"
                                        "{\"earned\":1,\"possible\":2}}");
    a = submit_payload(&ada, p2);
    EXPECT(a, 409, "duplicate");
    CHECK(json_equal(json_object_get(a.json, "first"), ack));
    answer_release(&a);
    /* tito's view of a duplicate: as good as accepted, with the first acknowledgement. */
    tito_send_result r;
    CHECK_OK(tito_submission_send(&r, base_url, env, strlen(env)));
    requests_made++;
    CHECK(r.outcome == TITO_SEND_DUPLICATE && r.ack != NULL);
    json_t *r_ack = json_loads(r.ack ? r.ack : "null", JSON_DECODE_ANY, NULL);
    CHECK(json_equal(r_ack, ack));
    json_decref(r_ack);
    tito_send_result_release(&r);
    free(p2);
    free(env);
    free(p);
    json_decref(ack);

    /* A milestone receipt as tito writes it (kind milestone, the figures in run.metrics). */
    fresh_id(id);
    a = submit_fields(&ada, id, now, "demo",
                      "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"milestone\":3,\"slug\":\"03_mlp\","
                      "\"reached\":true,\"run\":{\"metrics\":{\"test_accuracy\":0.935,\"note\":\"text\"}},"
                      "\"provenance\":{\"commit\":\"4c2a9e1f00\"}}");
    EXPECT(a, 201, "");
    CHECK(strcmp(json_string_value(json_object_get(a.json, "kind")), "milestone") == 0);
    CHECK(json_is_true(json_object_get(a.json, "reached")) && json_is_null(json_object_get(a.json, "score")));
    answer_release(&a);

    /* Rate: a burst of 4, then 429 with Retry-After; tito keeps such a one queued. */
    for (int i = 0; i < 4; i++) {
        fresh_id(id);
        a = submit_fields(&limited, id, now, "demo", module_receipt);
        EXPECT(a, 201, "");
        answer_release(&a);
    }
    fresh_id(id);
    a = submit_fields(&limited, id, now, "demo", module_receipt);
    EXPECT(a, 429, "rate_limited");
    CHECK(atoi(a.retry_after) >= 1);
    answer_release(&a);
    p = payload(id, now, "demo", module_receipt);
    env = sign(&limited, TITO_DSSE_SUBMISSION_TYPE, p);
    CHECK_OK(tito_submission_send(&r, base_url, env, strlen(env)));
    requests_made++;
    CHECK(r.outcome == TITO_SEND_RETRY && r.status == 429 && r.retry_after >= 1);
    tito_send_result_release(&r);
    free(env);
    free(p);
    /* Another key is not slowed down by that one. */
    fresh_id(id);
    a = submit_fields(&bob, id, now, "demo",
                      "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":50,"
                      "\"possible\":100},\"provenance\":{\"commit\":\"b0b0b0b0\"}}");
    EXPECT(a, 201, "");
    answer_release(&a);
}

#define VERIFICATION_FMT                                                                                   \
    "{\"schema\":\"tito-verification/1\",\"id\":\"%s\",\"created_at\":\"%s\",\"course\":\"%s\","                  \
    "\"student\":\"%s\",\"kind\":\"module\",\"subject\":\"01_tensor\",\"commit\":\"%s\","                          \
    "\"score\":{\"earned\":%d,\"possible\":100}}"

static void test_verifications(void)
{
    char id[33], now[32], body[2048];
    now_text(now, 0);

    fresh_id(id);
    snprintf(body, sizeof body, VERIFICATION_FMT, id, now, "demo", ada_id, "4c2a9e1f00", 92);
    char *env = sign(&stranger, TITO_DSSE_VERIFICATION_TYPE, body);
    answer a = post_json("/api/v1/verifications", env);
    EXPECT(a, 401, "unknown_key");
    answer_release(&a);
    free(env);
    /* A student's key cannot verify anything. */
    env = sign(&ada, TITO_DSSE_VERIFICATION_TYPE, body);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 401, "unknown_key");
    answer_release(&a);
    free(env);
    /* The course key signing a submission type: refused by type. */
    env = sign(&course_key, TITO_DSSE_SUBMISSION_TYPE, body);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 422, "unsupported_payload_type");
    answer_release(&a);
    free(env);
    snprintf(body, sizeof body, VERIFICATION_FMT, id, now, "other", ada_id, "4c2a9e1f00", 92);
    env = sign(&course_key, TITO_DSSE_VERIFICATION_TYPE, body);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 403, "wrong_course");
    answer_release(&a);
    free(env);
    char nobody[65];
    memset(nobody, 'f', 64);
    nobody[64] = '\0';
    snprintf(body, sizeof body, VERIFICATION_FMT, id, now, "demo", nobody, "4c2a9e1f00", 92);
    env = sign(&course_key, TITO_DSSE_VERIFICATION_TYPE, body);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 404, "not_found");
    answer_release(&a);
    free(env);
    snprintf(body, sizeof body, VERIFICATION_FMT, id, now, "demo", ada_id, "not a commit", 92);
    env = sign(&course_key, TITO_DSSE_VERIFICATION_TYPE, body);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 400, "bad_payload");
    answer_release(&a);
    free(env);

    snprintf(body, sizeof body, VERIFICATION_FMT, id, now, "demo", ada_id, "4c2a9e1f00", 92);
    env = sign(&course_key, TITO_DSSE_VERIFICATION_TYPE, body);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 201, "");
    CHECK(json_integer_value(json_object_get(a.json, "matched")) == 1);
    answer_release(&a);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 409, "duplicate");
    answer_release(&a);
    free(env);
    /* Bob's 50 is not reproduced: the instructor found 40. */
    fresh_id(id);
    snprintf(body, sizeof body, VERIFICATION_FMT, id, now, "demo", bob_id, "b0b0b0b0", 40);
    env = sign(&course_key, TITO_DSSE_VERIFICATION_TYPE, body);
    a = post_json("/api/v1/verifications", env);
    EXPECT(a, 201, "");
    answer_release(&a);
    free(env);

    a = get("/api/v1/courses/demo/ranking");
    EXPECT(a, 200, "");
    json_t *students = json_object_get(a.json, "students"), *s;
    size_t i;
    json_array_foreach(students, i, s)
    {
        const char *k = json_string_value(json_object_get(s, "key_id"));
        json_t *m = json_object_get(json_object_get(s, "modules"), "01_tensor");
        if (strcmp(k, ada_id) == 0) {
            CHECK(strcmp(json_string_value(json_object_get(m, "status")), "verified") == 0);
            CHECK(json_is_true(json_object_get(s, "verified")) && json_integer_value(json_object_get(s, "rank")) == 1);
            CHECK(json_integer_value(json_object_get(s, "milestones_reached")) == 1);
        } else if (strcmp(k, bob_id) == 0) {
            CHECK(strcmp(json_string_value(json_object_get(m, "status")), "disputed") == 0);
            CHECK(json_integer_value(json_object_get(m, "earned")) == 40);
        } else if (strcmp(k, revoked_id) == 0) {
            CHECK(!"a revoked key is not in the ranking");
        }
    }
    answer_release(&a);
    a = get("/api/v1/courses/nope/ranking");
    EXPECT(a, 404, "not_found");
    answer_release(&a);
    char path[300];
    snprintf(path, sizeof path, "/api/v1/courses/demo/students/%s", ada_id);
    a = get(path);
    EXPECT(a, 200, "");
    CHECK(json_array_size(json_object_get(json_object_get(a.json, "student"), "history")) == 2);
    answer_release(&a);
    snprintf(path, sizeof path, "/api/v1/courses/demo/students/%s", nobody);
    a = get(path);
    EXPECT(a, 404, "not_found");
    answer_release(&a);
}

/* Hostile strings in the fields that reach the store, the URL and the page. */
static void test_injection_and_oversized_fields(void)
{
    char now[32], id[33];
    now_text(now, 0);
    static const char *const hostile[] = {
        "'; DROP TABLE submissions; --", "\" OR 1=1 --", "01_tensor' OR '1'='1", "%27%3B--", "<script>x</script>",
    };
    size_t huge_len = 40000;
    char *huge = malloc(huge_len + 1);
    memset(huge, 'a', huge_len);
    huge[huge_len] = '\0';
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0] + 1; i++) {
        const char *v = i < sizeof hostile / sizeof hostile[0] ? hostile[i] : huge;
        json_t *jv = json_string(v);
        char *q = json_dumps(jv, JSON_ENCODE_ANY); /* the value as a JSON string */
        json_decref(jv);
        size_t n = 2 * strlen(q) + 600;
        char *receipt = malloc(n);
        answer a;
        fresh_id(id);
        a = submit_fields(&ada, v, now, "demo", module_receipt); /* the id */
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        a = submit_fields(&ada, id, v, "demo", module_receipt); /* the time */
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        a = submit_fields(&ada, id, now, v, module_receipt); /* the course */
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        snprintf(receipt, n, "{\"schema\":\"tito-receipt/1\",\"module\":%s,\"score\":{\"earned\":1,\"possible\":2}}", q);
        a = submit_fields(&ada, id, now, "demo", receipt);
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        snprintf(receipt, n, "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"mode\":%s,\"score\":{\"earned\":1,"
                             "\"possible\":2}}", q);
        a = submit_fields(&ada, id, now, "demo", receipt);
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        snprintf(receipt, n, "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":1,"
                             "\"possible\":2},\"provenance\":{\"commit\":%s}}", q);
        a = submit_fields(&ada, id, now, "demo", receipt);
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        snprintf(receipt, n, "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"slug\":%s}", q);
        a = submit_fields(&ada, id, now, "demo", receipt);
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        snprintf(receipt, n, "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"slug\":\"03_mlp\",\"metrics\":{%s:1}}",
                 q);
        a = submit_fields(&ada, id, now, "demo", receipt);
        EXPECT(a, 400, "bad_payload");
        answer_release(&a);
        snprintf(receipt, n, "{\"schema\":%s}", q);
        a = submit_fields(&ada, id, now, "demo", receipt);
        EXPECT(a, 422, "unsupported_schema");
        answer_release(&a);
        /* The name, at enrollment. */
        char *pub = NULL;
        tito_keypair kp;
        CHECK_OK(tito_keypair_generate(&kp));
        CHECK_OK(tito_base64_encode(&pub, NULL, kp.public_key, 32));
        size_t bn = strlen(q) + 200;
        char *body = malloc(bn);
        snprintf(body, bn, "{\"token\":\"tlb_inj%zu\",\"public_key\":\"%s\",\"name\":%s}", i, pub, q);
        a = post_json("/api/v1/enroll", body);
        if (v == huge)
            EXPECT(a, 400, "bad_request");
        else
            EXPECT(a, 201, "");
        answer_release(&a);
        /* Free text the server does not read is stored as it came: still harmless.
         * (Signed by the new key: each key has its own rate.) */
        snprintf(receipt, n, "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":1,"
                             "\"possible\":2},\"tests\":[{\"name\":%s,\"message\":%s}]}", q, q);
        a = submit_fields(&kp, id, now, "demo", receipt);
        if (v == huge)
            EXPECT(a, 413, "too_large"); /* twice 40 KB, signed: over --max-body */
        else
            EXPECT(a, 201, "");
        answer_release(&a);
        /* Each field of a verification (signed by the course key). */
        static const char *const vfields[] = {"id", "course", "student", "kind", "subject", "commit"};
        for (size_t f = 0; f < sizeof vfields / sizeof vfields[0]; f++) {
            char vid[33];
            fresh_id(vid);
            json_t *vp = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i}}", "schema",
                                   "tito-verification/1", "id", vid, "created_at", now, "course", "demo", "student",
                                   ada_id, "kind", "module", "subject", "01_tensor", "commit", "4c2a9e1f00", "score",
                                   "earned", 1, "possible", 2);
            json_object_set_new(vp, vfields[f], json_string(v));
            char *vtext = json_dumps(vp, JSON_COMPACT);
            char *venv = sign(&course_key, TITO_DSSE_VERIFICATION_TYPE, vtext);
            a = post_json("/api/v1/verifications", venv ? venv : "");
            EXPECT(a, 400, "bad_payload");
            answer_release(&a);
            free(venv);
            free(vtext);
            json_decref(vp);
        }
        snprintf(body, bn, "{\"token\":%s,\"public_key\":\"%s\"}", q, pub);
        a = post_json("/api/v1/enroll", body);
        EXPECT(a, v == huge ? 400 : 403, v == huge ? "bad_request" : "token_invalid");
        answer_release(&a);
        free(body);
        free(pub);
        free(receipt);
        free(q);
    }
    /* In the URL. */
    static const char *const paths[] = {
        "/c/demo'%20OR%201=1", "/api/v1/courses/%27%3B%20DROP%20TABLE%20courses%3B--/ranking",
        "/c/demo/s/%27%20OR%20%271%27=%271", "/api/v1/courses/demo/students/1%20OR%201=1",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        answer a = get(paths[i]);
        CHECK(a.status == 404);
        answer_release(&a);
    }
    char path[42000];
    snprintf(path, sizeof path, "/c/%s", huge);
    answer a = get(path);
    CHECK(a.status == 404 || a.status == 414 || a.status == 431);
    answer_release(&a);
    a = get("/c/demo?sort=name%27%3B%20DROP%20TABLE%20students%3B--&dir=%22%3E%3Cscript%3E");
    CHECK(a.status == 200 && a.body && !strstr(a.body, "\"><script>"));
    answer_release(&a);
    free(huge);

    /* The database is whole and holds exactly what was accepted. */
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0);
    sqlite3_finalize(s);
    CHECK(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                 "('courses','tokens','students','submissions','verifications','schema_version')),"
                                 " (SELECT count(*) FROM submissions), (SELECT count(*) FROM students WHERE name = ?)",
                             -1, &s, NULL) == SQLITE_OK);
    sqlite3_bind_text(s, 1, "'; DROP TABLE submissions; --", -1, SQLITE_STATIC);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK(sqlite3_column_int(s, 0) == 6);
    CHECK(sqlite3_column_int64(s, 1) == submissions_accepted);
    CHECK(sqlite3_column_int(s, 2) == 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_pages(void)
{
    answer a = get("/");
    CHECK(a.status == 200 && a.body && strstr(a.body, "href=\"/c/demo\""));
    answer_release(&a);
    a = get("/c/demo");
    CHECK(a.status == 200 && strncmp(a.content_type, "text/html", 9) == 0 && a.body);
    if (a.body) {
        /* Names are text, never markup. */
        CHECK(strstr(a.body, "Ada &lt;b&gt;Lovelace&lt;/b&gt;") && !strstr(a.body, "<b>Lovelace"));
        CHECK(strstr(a.body, "&lt;script&gt;x&lt;/script&gt;") && !strstr(a.body, "<script>x"));
        CHECK(strstr(a.body, "Robert&#39;); DROP TABLE students;--"));
        CHECK(strstr(a.body, "id=\"ranking-table\"") && strstr(a.body, "?sort=name&amp;dir=asc"));
        CHECK(strstr(a.body, "id=\"chart-distribution\"") && strstr(a.body, "id=\"chart-submissions\"") &&
              strstr(a.body, "id=\"chart-pass-rates\""));
        CHECK(!strstr(a.body, "<script"));
    }
    answer_release(&a);
    /* Sorted by name without script: Ada's row before Robert's, and the other way round. */
    a = get("/c/demo?sort=name&dir=asc");
    const char *ada_row = a.body ? strstr(a.body, "Ada &lt;b&gt;") : NULL;
    const char *bob_row = a.body ? strstr(a.body, "Robert&#39;") : NULL;
    CHECK(ada_row && bob_row && ada_row < bob_row);
    answer_release(&a);
    a = get("/c/demo?sort=name&dir=desc");
    ada_row = a.body ? strstr(a.body, "Ada &lt;b&gt;") : NULL;
    bob_row = a.body ? strstr(a.body, "Robert&#39;") : NULL;
    CHECK(ada_row && bob_row && ada_row > bob_row);
    answer_release(&a);
    char path[200];
    snprintf(path, sizeof path, "/c/demo/s/%s", ada_id);
    a = get(path);
    CHECK(a.status == 200 && a.body && strstr(a.body, "id=\"module-table\"") && strstr(a.body, "verified"));
    answer_release(&a);
    a = get("/c/nope");
    CHECK(a.status == 404);
    answer_release(&a);
}

static long count_request_lines(void)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return -1;
    char line[2048];
    long n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, " key=") != NULL;
    fclose(f);
    return n;
}

static bool log_has(const char *text)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void test_log_and_clean_stop(void)
{
    CHECK(stop_server() == 0);
    CHECK(log_has("stopping on SIGTERM") && log_has(" stopped"));
    /* One line per request (the chunked one the server cut short included). */
    long lines = count_request_lines();
    if (lines != requests_made)
        fprintf(stderr, "log: %ld request lines, %ld requests made\n", lines, requests_made);
    CHECK(lines == requests_made);
    CHECK(log_has("POST /api/v1/submissions 401 ") && log_has("bad_signature"));
}

/* The server keeps a submission but its answer never arrives; the retry learns it. */
static void test_lost_answer_is_not_a_lost_submission(void)
{
    CHECK(start_server("1"));
    char id[33], now[32];
    fresh_id(id);
    now_text(now, 0);
    char *p = payload(id, now, "demo", module_receipt);
    char *env = sign(&bob, TITO_DSSE_SUBMISSION_TYPE, p);
    tito_send_result r;
    CHECK_OK(tito_submission_send(&r, base_url, env, strlen(env)));
    CHECK(r.outcome == TITO_SEND_RETRY && r.status == 0);
    tito_send_result_release(&r);
    CHECK_OK(tito_submission_send(&r, base_url, env, strlen(env)));
    CHECK(r.outcome == TITO_SEND_DUPLICATE && r.ack && strstr(r.ack, id));
    tito_send_result_release(&r);
    CHECK(stop_server() == 0);
    char q[200];
    snprintf(q, sizeof q, "SELECT count(*) FROM submissions WHERE id = '%s'", id); /* id: 32 hex digits we made */
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
    CHECK(sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
          sqlite3_column_int(s, 0) == 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
    CHECK(log_has("dropped(test)"));
    free(env);
    free(p);
}

/* ---------------------------------------------------------------- setup */

static bool setup(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/tito-lb-api-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp_root))
        return false;
    snprintf(db_path, sizeof db_path, "%s/lb.db", tmp_root);
    snprintf(port_file, sizeof port_file, "%s/port", tmp_root);
    snprintf(log_path, sizeof log_path, "%s/server.log", tmp_root);
    lb_store *store = NULL;
    if (lb_store_open(&store, db_path) != TT_OK)
        return false;
    bool ok = lb_course_create(store, "demo", "Demo <course>", 0.8) == TT_OK &&
              lb_course_create(store, "other", "Other", 0.8) == TT_OK;
    tito_keypair *keys[] = {&ada, &bob, &revoked, &stranger, &course_key, &limited};
    for (size_t i = 0; i < 6; i++)
        ok = ok && tito_keypair_generate(keys[i]) == TT_OK;
    tito_key_id(ada_id, ada.public_key);
    tito_key_id(bob_id, bob.public_key);
    tito_key_id(revoked_id, revoked.public_key);
    tito_key_id(limited_id, limited.public_key);
    ok = ok && lb_course_set_key(store, "demo", course_key.public_key) == TT_OK;
    static const char *const tokens[] = {"tlb_ada", "tlb_bob", "tlb_spare", "tlb_inj0", "tlb_inj1", "tlb_inj2",
                                         "tlb_inj3", "tlb_inj4", "tlb_inj5"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        ok = ok && lb_token_add(store, "demo", tokens[i], "", 0) == TT_OK;
    ok = ok && lb_token_add(store, "demo", "tlb_expired", "", time(NULL) - 10) == TT_OK;
    /* Keys enrolled before the server starts: one to revoke, one to rate-limit. */
    lb_enroll_outcome out;
    lb_student st;
    lb_course c;
    ok = ok && lb_token_add(store, "demo", "tlb_rev", "", 0) == TT_OK &&
         lb_enroll(store, "tlb_rev", revoked.public_key, "Rev", time(NULL), &out, &st, &c) == TT_OK;
    bool found = false;
    ok = ok && lb_student_revoke(store, revoked_id, true, time(NULL), &found) == TT_OK && found;
    ok = ok && lb_token_add(store, "demo", "tlb_lim", "", 0) == TT_OK &&
         lb_enroll(store, "tlb_lim", limited.public_key, "Lim", time(NULL), &out, &st, &c) == TT_OK;
    lb_store_close(store);
    return ok && start_server(NULL);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || tito_crypto_init() != TT_OK || !setup()) {
        fprintf(stderr, "setup failed: %s (files in %s)\n", tt_error_last(), tmp_root);
        stop_server();
        return 1;
    }
    RUN(test_health_routes_and_limits);
    RUN(test_enrollment);
    RUN(test_submission_rejections);
    RUN(test_accept_duplicate_and_rate_limit);
    RUN(test_verifications);
    RUN(test_injection_and_oversized_fields);
    RUN(test_pages);
    RUN(test_log_and_clean_stop);
    RUN(test_lost_answer_is_not_a_lost_submission);
    stop_server();
    int rc = harness_summary();
    if (rc == 0) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp_root);
    } else {
        fprintf(stderr, "files kept in %s\n", tmp_root);
    }
    curl_global_cleanup();
    return rc;
}
