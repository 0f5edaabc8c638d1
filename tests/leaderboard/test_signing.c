/*
 * The client side of the leaderboard, without a server: DSSE envelopes and Ed25519
 * keys against vectors made by another implementation (gen_dsse_vectors.py, Python's
 * cryptography package), the identity file (modes, XDG folders, refusals), the
 * outbox (order, acknowledgement, rejection, its lock, damaged entries), and signed
 * submission payloads.
 *
 * Each test works in its own temporary folder, named by $TMPDIR, removed at the end.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dsse.h"
#include "fsutil.h"
#include "harness.h"
#include "identity.h"
#include "outbox.h"
#include "submit.h"

/* ---------------------------------------------------------------- helpers */

static char vectors[32][2][512];
static size_t n_vectors;

static void load_vectors(void)
{
    const char *path = getenv("LB_VECTORS");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        fprintf(stderr, "cannot read the vectors (LB_VECTORS=%s)\n", path ? path : "(unset)");
        exit(2);
    }
    char line[1100];
    while (n_vectors < 32 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *space = strchr(line, ' ');
        if (!space)
            continue;
        *space = '\0';
        snprintf(vectors[n_vectors][0], sizeof vectors[0][0], "%.511s", line);
        snprintf(vectors[n_vectors][1], sizeof vectors[0][1], "%.511s", space + 1);
        n_vectors++;
    }
    fclose(f);
}

static const char *vec(const char *name)
{
    for (size_t i = 0; i < n_vectors; i++)
        if (strcmp(vectors[i][0], name) == 0)
            return vectors[i][1];
    fprintf(stderr, "no vector %s\n", name);
    exit(2);
}

/* Hex to bytes; returns the byte count. */
static size_t unhex(unsigned char *out, size_t size, const char *hex)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n && i < size; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n < size ? n : size;
}

static char tmp_root[512];

static void make_tmp(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/tito-lb-test-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        exit(2);
    }
}

static void remove_tmp(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return;
    }
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static mode_t mode_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (sb.st_mode & 07777) : 0;
}

/* ---------------------------------------------------------------- DSSE */

static void test_pae_matches_the_specification(void)
{
    unsigned char *pae = NULL;
    size_t len = 0;
    CHECK_OK(tito_dsse_pae(&pae, &len, "http://example.com/HelloWorld", "hello world", 11));
    unsigned char want[256];
    size_t n = unhex(want, sizeof want, vec("spec_pae"));
    CHECK(len == n && memcmp(pae, want, n) == 0);
    CHECK(strcmp((const char *)pae, "DSSEv1 29 http://example.com/HelloWorld 11 hello world") == 0);
    free(pae);

    unsigned char body[256];
    size_t body_len = unhex(body, sizeof body, vec("payload"));
    CHECK_OK(tito_dsse_pae(&pae, &len, vec("payload_type"), body, body_len));
    n = unhex(want, sizeof want, vec("pae"));
    CHECK(len == n && memcmp(pae, want, n) == 0);
    free(pae);

    /* An empty body: "DSSEv1 4 type 0 " */
    CHECK_OK(tito_dsse_pae(&pae, &len, "type", NULL, 0));
    CHECK(len == 16 && memcmp(pae, "DSSEv1 4 type 0 ", 16) == 0);
    free(pae);
}

static void test_keys_match_rfc8032_and_python(void)
{
    /* RFC 8032, section 7.1, TEST 1: the seed and its public key. */
    unsigned char seed[32], want[32];
    unhex(seed, sizeof seed, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    unhex(want, sizeof want, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    tito_keypair kp;
    CHECK_OK(tito_keypair_from_seed(&kp, seed));
    CHECK(memcmp(kp.public_key, want, 32) == 0);

    unhex(seed, sizeof seed, vec("seed"));
    unhex(want, sizeof want, vec("public_key"));
    CHECK_OK(tito_keypair_from_seed(&kp, seed));
    CHECK(memcmp(kp.public_key, want, 32) == 0);
    char key_id[TITO_KEY_ID_CHARS + 1];
    tito_key_id(key_id, kp.public_key);
    CHECK(strcmp(key_id, vec("key_id")) == 0);
    tito_keypair_wipe(&kp);
    unsigned char zero[64] = {0};
    CHECK(memcmp(kp.secret_key, zero, 64) == 0);

    tito_keypair a, b;
    CHECK_OK(tito_keypair_generate(&a));
    CHECK_OK(tito_keypair_generate(&b));
    CHECK(memcmp(a.public_key, b.public_key, 32) != 0);
}

static void test_signature_matches_python(void)
{
    unsigned char seed[32], body[256], sig[64];
    unhex(seed, sizeof seed, vec("seed"));
    size_t body_len = unhex(body, sizeof body, vec("payload"));
    unhex(sig, sizeof sig, vec("signature"));
    tito_keypair kp;
    CHECK_OK(tito_keypair_from_seed(&kp, seed));
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(tito_dsse_sign(&text, &len, vec("payload_type"), body, body_len, &kp));
    CHECK(text && strlen(text) == len);
    /* The envelope holds the fields DSSE names, with standard base64. */
    json_t *root = json_loads(text, 0, NULL);
    CHECK(json_is_object(root));
    CHECK(strcmp(json_string_value(json_object_get(root, "payloadType")), vec("payload_type")) == 0);
    CHECK(strcmp(json_string_value(json_object_get(root, "payload")), vec("payload_b64_std")) == 0);
    json_t *s0 = json_array_get(json_object_get(root, "signatures"), 0);
    CHECK(strcmp(json_string_value(json_object_get(s0, "keyid")), vec("key_id")) == 0);
    /* Ed25519 is deterministic: the same bytes as the other implementation. */
    CHECK(strcmp(json_string_value(json_object_get(s0, "sig")), vec("sig_b64_std")) == 0);
    json_decref(root);

    tito_dsse_envelope *env = NULL;
    CHECK_OK(tito_dsse_parse(&env, text, len));
    CHECK(env && env->payload_len == body_len && memcmp(env->payload, body, body_len) == 0);
    CHECK(env && memcmp(env->signatures[0].sig, sig, 64) == 0);
    CHECK(tito_dsse_verify(env, 0, kp.public_key));
    tito_dsse_free(env);
    free(text);
}

/* An envelope written by hand, in each base64 flavour DSSE allows. */
static void test_verify_every_base64_flavour(void)
{
    unsigned char pub[32];
    unhex(pub, sizeof pub, vec("public_key"));
    const char *flavours[] = {"payload_b64_std", "payload_b64_url", "payload_b64_url_nopad", "payload_b64_std_nopad"};
    for (size_t i = 0; i < 4; i++) {
        char text[1024];
        snprintf(text, sizeof text, "{\"payloadType\":\"%s\",\"payload\":\"%s\",\"signatures\":[{\"sig\":\"%s\"}],"
                                    "\"extra\":\"ignored\"}",
                 vec("payload_type"), vec(flavours[i]), vec("sig_b64_std"));
        tito_dsse_envelope *env = NULL;
        CHECK_OK(tito_dsse_parse(&env, text, strlen(text)));
        CHECK(env && strcmp(env->signatures[0].keyid, "") == 0);
        CHECK(env && tito_dsse_verify(env, 0, pub));
        CHECK(!tito_dsse_verify(env, 1, pub));
        tito_dsse_free(env);
    }
}

static void test_tampering_breaks_the_signature(void)
{
    tito_keypair kp, other;
    CHECK_OK(tito_keypair_generate(&kp));
    CHECK_OK(tito_keypair_generate(&other));
    const char *payload = "{\"score\":50}";
    char *text = NULL;
    CHECK_OK(tito_dsse_sign(&text, NULL, TITO_DSSE_SUBMISSION_TYPE, payload, strlen(payload), &kp));
    tito_dsse_envelope *env = NULL;
    CHECK_OK(tito_dsse_parse(&env, text, strlen(text)));
    if (!env) {
        free(text);
        return;
    }
    CHECK(tito_dsse_verify(env, 0, kp.public_key));
    CHECK(!tito_dsse_verify(env, 0, other.public_key));
    env->payload[10] ^= 1; /* "50" becomes "40"... one bit */
    CHECK(!tito_dsse_verify(env, 0, kp.public_key));
    env->payload[10] ^= 1;
    CHECK(tito_dsse_verify(env, 0, kp.public_key));
    /* The same payload under the other type: a submission is never a verification. */
    free(env->payload_type);
    env->payload_type = malloc(64);
    snprintf(env->payload_type, 64, "%s", TITO_DSSE_VERIFICATION_TYPE);
    CHECK(!tito_dsse_verify(env, 0, kp.public_key));
    tito_dsse_free(env);
    free(text);

    CHECK_STATUS(tito_dsse_sign(&text, NULL, "", "x", 1, &kp), TT_ERR_INVALID_ARG);
    CHECK(text == NULL);
}

static void test_parse_refuses_what_is_not_an_envelope(void)
{
    static const struct {
        const char *text;
        const char *mentions;
    } cases[] = {
        {"", "not JSON"},
        {"{\"payloadType\":\"t\",\"payloadType\":\"u\",\"payload\":\"\",\"signatures\":[{\"sig\":\"\"}]}", "not JSON"},
        {"[]", "expected a JSON object"},
        {"{\"payload\":\"\",\"signatures\":[]}", "payloadType: missing"},
        {"{\"payloadType\":3,\"payload\":\"\",\"signatures\":[]}", "payloadType: expected a string"},
        {"{\"payloadType\":\"t\",\"signatures\":[]}", "payload: missing"},
        {"{\"payloadType\":\"t\",\"payload\":\"\"}", "signatures: missing"},
        {"{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[]}", "signatures: empty"},
        {"{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":{}}", "signatures: expected an array"},
        {"{\"payloadType\":\"t\",\"payload\":\"a$b\",\"signatures\":[{\"sig\":\"\"}]}", "payload: not base64"},
        {"{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[3]}", "signatures[0]: expected an object"},
        {"{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{}]}", "signatures[0].sig: missing"},
        {"{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"sig\":\"%%%\"}]}", "signatures[0].sig: not base64"},
        {"{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"sig\":\"AAAA\"}]}", "3 bytes, an Ed25519 signature"},
        {"{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"keyid\":5,\"sig\":\"AAAA\"}]}",
         "signatures[0].keyid: expected a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tito_dsse_envelope *env = NULL;
        CHECK_STATUS(tito_dsse_parse(&env, cases[i].text, strlen(cases[i].text)), TT_ERR_FORMAT);
        CHECK(env == NULL);
        CHECK_ERROR_MENTIONS(cases[i].mentions);
    }
    /* 17 signatures: more than are read. */
    char text[4096];
    int n = snprintf(text, sizeof text, "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[");
    for (int i = 0; i < 17; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s{\"sig\":\"\"}", i ? "," : "");
    snprintf(text + n, sizeof text - (size_t)n, "]}");
    tito_dsse_envelope *env = NULL;
    CHECK_STATUS(tito_dsse_parse(&env, text, strlen(text)), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("at most 16");
}

static void test_base64_round_trips(void)
{
    unsigned char data[70];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof data; n++) {
        char *text = NULL;
        size_t len = 0;
        CHECK_OK(tito_base64_encode(&text, &len, data, n));
        CHECK(len == (n + 2) / 3 * 4);
        unsigned char *back = NULL;
        size_t back_len = 0;
        CHECK_OK(tito_base64_decode(&back, &back_len, text, len));
        CHECK(back_len == n && (n == 0 || memcmp(back, data, n) == 0));
        free(back);
        free(text);
    }
    unsigned char *out = NULL;
    size_t out_len = 0;
    CHECK_STATUS(tito_base64_decode(&out, &out_len, "ab c", 4), TT_ERR_FORMAT);
    CHECK(out == NULL);
    CHECK_STATUS(tito_base64_decode(&out, &out_len, "a", 1), TT_ERR_FORMAT);

    char a[33], b[33];
    CHECK_OK(tito_random_hex(a, 16));
    CHECK_OK(tito_random_hex(b, 16));
    CHECK(strlen(a) == 32 && strspn(a, "0123456789abcdef") == 32 && strcmp(a, b) != 0);
    char big[200];
    CHECK_STATUS(tito_random_hex(big, 65), TT_ERR_INVALID_ARG);
}

/* ---------------------------------------------------------------- identity */

static void test_identity_folder_follows_xdg(void)
{
    char buf[4096];
    setenv("HOME", "/home/ada", 1);
    setenv("XDG_CONFIG_HOME", "/cfg", 1);
    CHECK_OK(tito_identity_dir(buf, sizeof buf));
    CHECK(strcmp(buf, "/cfg/tito") == 0);
    /* The XDG specification: a relative value is ignored. */
    setenv("XDG_CONFIG_HOME", "relative/cfg", 1);
    CHECK_OK(tito_identity_dir(buf, sizeof buf));
    CHECK(strcmp(buf, "/home/ada/.config/tito") == 0);
    unsetenv("XDG_CONFIG_HOME");
    CHECK_OK(tito_identity_path(buf, sizeof buf));
    CHECK(strcmp(buf, "/home/ada/.config/tito/identity.json") == 0);
    unsetenv("HOME");
    CHECK_STATUS(tito_identity_dir(buf, sizeof buf), TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("HOME");
}

static void test_url_normalize(void)
{
    char buf[256];
    CHECK_OK(tito_url_normalize(buf, sizeof buf, "https://lb.example.edu/"));
    CHECK(strcmp(buf, "https://lb.example.edu") == 0);
    CHECK_OK(tito_url_normalize(buf, sizeof buf, "http://127.0.0.1:8080//?x=1#y"));
    CHECK(strcmp(buf, "http://127.0.0.1:8080") == 0);
    CHECK_OK(tito_url_normalize(buf, sizeof buf, "https://host/course/lb"));
    CHECK(strcmp(buf, "https://host/course/lb") == 0);
    CHECK_STATUS(tito_url_normalize(buf, sizeof buf, "ftp://host"), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tito_url_normalize(buf, sizeof buf, "https://"), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tito_url_normalize(buf, sizeof buf, "https://user:pw@host"), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("no user or password");
    CHECK_STATUS(tito_url_normalize(buf, sizeof buf, "https://ho st"), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tito_url_normalize(buf, 10, "https://a-long-host"), TT_ERR_INVALID_ARG);
}

static void test_identity_saved_private_and_read_back(void)
{
    make_tmp();
    char cfg[700], dir[800], path[900];
    snprintf(cfg, sizeof cfg, "%s/cfg", tmp_root);
    snprintf(dir, sizeof dir, "%s/tito", cfg);
    snprintf(path, sizeof path, "%s/identity.json", dir);
    setenv("XDG_CONFIG_HOME", cfg, 1);
    tito_identity *id = NULL, *back = NULL;
    bool found = true;
    CHECK_OK(tito_identity_load(&back, &found));
    CHECK(!found && back == NULL);
    CHECK_OK(tito_identity_new(&id, "http://127.0.0.1:9/"));
    if (!id) {
        remove_tmp();
        return;
    }
    CHECK(strcmp(id->url, "http://127.0.0.1:9") == 0 && !id->enrolled);
    snprintf(id->name, sizeof id->name, "Ada \"Countess\" Lovelace");
    snprintf(id->course_id, sizeof id->course_id, "demo");
    id->enrolled = true;
    CHECK_OK(tito_identity_save(id));
    CHECK(mode_of(path) == 0600);
    CHECK(mode_of(dir) == 0700);
    CHECK_OK(tito_identity_load(&back, &found));
    CHECK(found && back);
    if (back) {
        CHECK(strcmp(back->url, id->url) == 0 && strcmp(back->name, id->name) == 0);
        CHECK(strcmp(back->key_id, id->key_id) == 0 && back->enrolled);
        CHECK(memcmp(back->keys.secret_key, id->keys.secret_key, 64) == 0);
    }
    tito_identity_free(back);
    back = NULL;

    /* A folder others may read is made private; a key file they may read is refused. */
    chmod(dir, 0755);
    CHECK_OK(tito_identity_save(id));
    CHECK(mode_of(dir) == 0700);
    chmod(path, 0644);
    CHECK_STATUS(tito_identity_load(&back, &found), TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("chmod 600");
    CHECK(back == NULL);

    /* Damaged files: named, with the field. */
    write_file(path, "not json", 0600);
    CHECK_STATUS(tito_identity_load(&back, &found), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("not JSON");
    write_file(path, "{\"schema\":\"tito-identity/9\"}", 0600);
    CHECK_STATUS(tito_identity_load(&back, &found), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("schema");
    write_file(path, "{\"schema\":\"tito-identity/1\",\"url\":\"http://x\",\"enrolled\":true,\"secret_seed\":\"AAAA\"}",
               0600);
    CHECK_STATUS(tito_identity_load(&back, &found), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("secret_seed");
    write_file(path, "{\"schema\":\"tito-identity/1\",\"enrolled\":true}", 0600);
    CHECK_STATUS(tito_identity_load(&back, &found), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("url: missing");

    bool removed = false;
    CHECK_OK(tito_identity_remove(&removed));
    CHECK(removed && !tito_path_exists(path));
    CHECK_OK(tito_identity_remove(&removed));
    CHECK(!removed);
    CHECK_STATUS(tito_identity_new(&back, "gopher://x"), TT_ERR_INVALID_ARG);
    tito_identity_free(id);
    unsetenv("XDG_CONFIG_HOME");
    remove_tmp();
}

/* ---------------------------------------------------------------- outbox */

static void fill_entry(tito_outbox_entry *e, const char *id, const char *sha, const char *envelope)
{
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:9");
    snprintf(e->key_id, sizeof e->key_id, "%064d", 7);
    snprintf(e->subject, sizeof e->subject, "01_tensor");
    snprintf(e->receipt_sha256, sizeof e->receipt_sha256, "%s", sha);
    snprintf(e->queued_at, sizeof e->queued_at, "2026-11-26T12:00:00Z");
    e->envelope = (char *)envelope;
    e->envelope_len = strlen(envelope);
}

static void test_outbox_keeps_order_until_acknowledged(void)
{
    make_tmp();
    char data[700], path[900];
    snprintf(data, sizeof data, "%s/data/tito", tmp_root);
    tito_outbox box;
    CHECK_OK(tito_outbox_open(&box, data));
    snprintf(path, sizeof path, "%s/outbox", data);
    CHECK(mode_of(data) == 0700 && mode_of(path) == 0700);
    const char *ids[] = {"11111111111111111111111111111111", "22222222222222222222222222222222",
                         "33333333333333333333333333333333"};
    const char *shas[] = {"aa", "bb", "cc"};
    const char *bodies[] = {"{\"n\":1,\"s\":\"\\u00e9\"}", "{\"n\":2}", "{\"n\":3}"};
    for (int i = 0; i < 3; i++) {
        tito_outbox_entry e;
        fill_entry(&e, ids[i], shas[i], bodies[i]);
        CHECK_OK(tito_outbox_add(&box, &e));
        CHECK(mode_of(e.file) == 0600);
    }
    tito_outbox_entry *list = NULL;
    size_t n = 0, skipped = 9, count = 0;
    CHECK_OK(tito_outbox_list(&box, &list, &n, &skipped));
    CHECK(n == 3 && skipped == 0);
    for (size_t i = 0; i < n && i < 3; i++) {
        CHECK(strcmp(list[i].id, ids[i]) == 0);
        CHECK(list[i].envelope_len == strlen(bodies[i]) && strcmp(list[i].envelope, bodies[i]) == 0);
    }
    bool sent = true, waiting = false;
    CHECK_OK(tito_outbox_has(&box, "http://127.0.0.1:9", list[0].key_id, "aa", &sent, &waiting));
    CHECK(!sent && waiting);
    /* Acknowledged: out of the outbox, into the sent log. */
    CHECK_OK(tito_outbox_done(&box, &list[0], "{\"accepted\":true,\"seq\":1}"));
    CHECK(!tito_path_exists(list[0].file));
    CHECK_OK(tito_outbox_has(&box, "http://127.0.0.1:9", list[0].key_id, "aa", &sent, &waiting));
    CHECK(sent && !waiting);
    CHECK_OK(tito_outbox_has(&box, "http://elsewhere", list[0].key_id, "aa", &sent, &waiting));
    CHECK(!sent && !waiting);
    /* Refused for good: kept aside, with the reason. */
    CHECK_OK(tito_outbox_reject(&box, &list[1], "HTTP 422 stale: too old"));
    CHECK(!tito_path_exists(list[1].file));
    snprintf(path, sizeof path, "%s/outbox/rejected/reasons.jsonl", data);
    char *text = NULL;
    CHECK_OK(tito_file_read(&text, NULL, path));
    CHECK(text && strstr(text, "too old") && strstr(text, ids[1]));
    free(text);
    tito_outbox_entries_free(list, n);

    CHECK_OK(tito_outbox_count(&box, &count));
    CHECK(count == 1);
    /* Something that is not an entry is moved aside, never lost, never sent. */
    snprintf(path, sizeof path, "%s/outbox/0000-garbage.json", data);
    write_file(path, "{\"schema\":\"something else\"}", 0600);
    CHECK_OK(tito_outbox_list(&box, &list, &n, &skipped));
    CHECK(n == 1 && skipped == 1 && strcmp(list[0].id, ids[2]) == 0);
    CHECK(!tito_path_exists(path));
    snprintf(path, sizeof path, "%s/outbox/rejected/0000-garbage.json", data);
    CHECK(tito_path_exists(path));
    tito_outbox_entries_free(list, n);
    tito_outbox_close(&box);
    remove_tmp();
}

static void test_outbox_lock_is_exclusive(void)
{
    make_tmp();
    char data[700], lock[900];
    snprintf(data, sizeof data, "%s/tito", tmp_root);
    snprintf(lock, sizeof lock, "%s/outbox.lock", data);
    tito_outbox box;
    CHECK_OK(tito_outbox_open(&box, data));
    pid_t pid = fork();
    if (pid == 0) {
        /* Another process: the lock is taken. */
        int fd = open(lock, O_RDWR);
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        int rc = fcntl(fd, F_SETLK, &fl);
        _exit(rc == -1 && (errno == EAGAIN || errno == EACCES) ? 0 : 1);
    }
    int status = 1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    tito_outbox_close(&box);
    pid = fork();
    if (pid == 0) {
        int fd = open(lock, O_RDWR);
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        _exit(fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    remove_tmp();
}

/* ---------------------------------------------------------------- payloads */

static void test_submission_payload_is_signed_and_complete(void)
{
    tito_identity id;
    memset(&id, 0, sizeof id);
    snprintf(id.url, sizeof id.url, "http://127.0.0.1:9");
    snprintf(id.course_id, sizeof id.course_id, "demo");
    CHECK_OK(tito_keypair_generate(&id.keys));
    tito_key_id(id.key_id, id.keys.public_key);
    const char *receipt = "{\"schema\":\"tito-receipt/1\",\"module\":\"01_tensor\",\"score\":{\"earned\":92,"
                          "\"possible\":100},\"tests\":[{\"name\":\"a\"}]}";
    char *env_text = NULL, sub_id[33], subject[80];
    size_t len = 0;
    CHECK_STATUS(tito_submission_make(&env_text, &len, sub_id, subject, sizeof subject, &id, receipt,
                                      strlen(receipt), 1795694645),
                 TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("tito login");
    id.enrolled = true;
    CHECK_OK(tito_submission_make(&env_text, &len, sub_id, subject, sizeof subject, &id, receipt, strlen(receipt),
                                  1795694645));
    CHECK(strcmp(subject, "01_tensor") == 0 && strlen(sub_id) == 32);
    tito_dsse_envelope *env = NULL;
    CHECK_OK(tito_dsse_parse(&env, env_text, len));
    if (env) {
        CHECK(strcmp(env->payload_type, TITO_DSSE_SUBMISSION_TYPE) == 0);
        CHECK(strcmp(env->signatures[0].keyid, id.key_id) == 0);
        CHECK(tito_dsse_verify(env, 0, id.keys.public_key));
        json_t *p = json_loadb((const char *)env->payload, env->payload_len, 0, NULL);
        json_t *r = json_loads(receipt, 0, NULL);
        CHECK(strcmp(json_string_value(json_object_get(p, "schema")), "tito-submission/1") == 0);
        CHECK(strcmp(json_string_value(json_object_get(p, "id")), sub_id) == 0);
        CHECK(strcmp(json_string_value(json_object_get(p, "course")), "demo") == 0);
        CHECK(strcmp(json_string_value(json_object_get(p, "created_at")), "2026-11-26T12:04:05Z") == 0);
        CHECK(json_equal(json_object_get(p, "receipt"), r));
        json_decref(p);
        json_decref(r);
    }
    tito_dsse_free(env);
    free(env_text);

    /* tito's milestone receipts: the subject is the slug. */
    const char *milestone = "{\"schema\":\"tito-receipt/1\",\"kind\":\"milestone\",\"milestone\":3,\"slug\":\"03_mlp\","
                            "\"reached\":true}";
    CHECK_OK(tito_submission_make(&env_text, &len, sub_id, subject, sizeof subject, &id, milestone,
                                  strlen(milestone), 1795694645));
    CHECK(strcmp(subject, "03_mlp") == 0);
    free(env_text);
    static const char *const not_receipts[] = {"[1]", "{\"schema\":\"tito-course/1\"}", "{\"module\":\"01_tensor\"}",
                                               "{oops"};
    for (size_t i = 0; i < 4; i++) {
        env_text = NULL;
        CHECK_STATUS(tito_submission_make(&env_text, &len, sub_id, subject, sizeof subject, &id, not_receipts[i],
                                          strlen(not_receipts[i]), 1795694645),
                     TT_ERR_FORMAT);
        CHECK(env_text == NULL);
    }
    tito_keypair_wipe(&id.keys);
}

static void test_unreachable_server_means_retry(void)
{
    tito_send_result r;
    /* Port 1 on loopback: nothing listens, the connection is refused at once. */
    CHECK_OK(tito_submission_send(&r, "http://127.0.0.1:1", "{}", 2));
    CHECK(r.outcome == TITO_SEND_RETRY && r.status == 0 && r.ack == NULL);
    CHECK(strstr(r.message, "cannot reach http://127.0.0.1:1") != NULL);
    tito_send_result_release(&r);
    json_t *doc = NULL;
    CHECK_STATUS(tito_ranking_fetch(&doc, "http://127.0.0.1:1", "demo"), TT_ERR_IO);
    CHECK(doc == NULL);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    load_vectors();
    /* Loopback never goes through a proxy the environment may name. */
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    const char *home = getenv("HOME");
    char saved_home[1024];
    snprintf(saved_home, sizeof saved_home, "%s", home ? home : "/");
    RUN(test_pae_matches_the_specification);
    RUN(test_keys_match_rfc8032_and_python);
    RUN(test_signature_matches_python);
    RUN(test_verify_every_base64_flavour);
    RUN(test_tampering_breaks_the_signature);
    RUN(test_parse_refuses_what_is_not_an_envelope);
    RUN(test_base64_round_trips);
    RUN(test_identity_folder_follows_xdg);
    setenv("HOME", saved_home, 1);
    RUN(test_url_normalize);
    RUN(test_identity_saved_private_and_read_back);
    RUN(test_outbox_keeps_order_until_acknowledged);
    RUN(test_outbox_lock_is_exclusive);
    RUN(test_submission_payload_is_signed_and_complete);
    RUN(test_unreachable_server_means_retry);
    return harness_summary();
}
