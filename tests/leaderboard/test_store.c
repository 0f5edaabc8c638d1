/*
 * The leaderboard server's parts without HTTP: the SQLite store (migrations, refusals
 * of foreign or newer databases, enrollment outcomes, exactly-once storage), the
 * ranking (best per module, verified and disputed scores, test receipts, milestones,
 * ties, revoked keys), validation and escaping, times, and the rate limiter.
 */
#define _POSIX_C_SOURCE 200809L

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lb.h"

static char tmp_root[512], db_path[700];

static void make_tmp(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/tito-lb-store-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(db_path, sizeof db_path, "%s/lb.db", tmp_root);
}

static void remove_tmp(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
}

/* Run SQL on the database with a connection of the test's own. */
static int sql(const char *path, const char *text)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, text, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static long long sql_int(const char *path, const char *text)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, text, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* ---------------------------------------------------------------- the schema */

static void test_schema_is_migrated_once_and_versioned(void)
{
    make_tmp();
    lb_store *store = NULL;
    CHECK_OK(lb_store_open(&store, db_path));
    CHECK(store && lb_store_schema_version(store) == LB_SCHEMA_VERSION);
    lb_store_close(store);
    CHECK(sql_int(db_path, "SELECT count(*) FROM schema_version") == LB_SCHEMA_VERSION);
    CHECK(sql_int(db_path, "SELECT max(version) FROM schema_version") == LB_SCHEMA_VERSION);
    /* Durability settings: the journal mode is stored in the file. */
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    sqlite3_open(db_path, &db);
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
    CHECK(sqlite3_step(s) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    /* Opening again applies nothing twice. */
    CHECK_OK(lb_store_open(&store, db_path));
    lb_store_close(store);
    CHECK(sql_int(db_path, "SELECT count(*) FROM schema_version") == LB_SCHEMA_VERSION);

    /* A newer schema than this program knows is refused, not damaged. */
    CHECK(sql(db_path, "INSERT INTO schema_version VALUES (99, 'later')") == SQLITE_OK);
    store = NULL;
    CHECK_STATUS(lb_store_open(&store, db_path), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("schema version 99");
    CHECK(store == NULL);
    CHECK(sql_int(db_path, "SELECT count(*) FROM schema_version") == LB_SCHEMA_VERSION + 1);

    char other[800];
    snprintf(other, sizeof other, "%s/other.db", tmp_root);
    CHECK(sql(other, "CREATE TABLE t (x)") == SQLITE_OK);
    CHECK_STATUS(lb_store_open(&store, other), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("not a leaderboard");
    snprintf(other, sizeof other, "%s/text.db", tmp_root);
    FILE *f = fopen(other, "w");
    fputs("this is not a database, it is a text file that is long enough to have a header page", f);
    fclose(f);
    CHECK_STATUS(lb_store_open(&store, other), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("not an SQLite database");
    remove_tmp();
}

/* ---------------------------------------------------------------- enrollment */

static void test_courses_tokens_and_enrollment(void)
{
    make_tmp();
    lb_store *store = NULL;
    CHECK_OK(lb_store_open(&store, db_path));
    if (!store) {
        remove_tmp();
        return;
    }
    CHECK_OK(lb_course_create(store, "demo", "Demo course", 0.8));
    CHECK_STATUS(lb_course_create(store, "demo", "Again", 0.8), TT_ERR_STATE);
    lb_course c;
    bool found = false;
    CHECK_OK(lb_course_get(store, "demo", &c, &found));
    CHECK(found && strcmp(c.title, "Demo course") == 0 && !c.has_verify_key);
    CHECK_OK(lb_course_get(store, "nope", &c, &found));
    CHECK(!found);
    CHECK_STATUS(lb_token_add(store, "nope", "tlb_x", "", 0), TT_ERR_STATE);

    tito_keypair a, b, k;
    CHECK_OK(tito_keypair_generate(&a));
    CHECK_OK(tito_keypair_generate(&b));
    CHECK_OK(tito_keypair_generate(&k));
    CHECK_OK(lb_course_set_key(store, "demo", k.public_key));
    char kid[TITO_KEY_ID_CHARS + 1];
    tito_key_id(kid, k.public_key);
    CHECK_OK(lb_course_by_key_id(store, kid, &c, &found));
    CHECK(found && strcmp(c.id, "demo") == 0 && c.has_verify_key && memcmp(c.verify_key, k.public_key, 32) == 0);

    time_t now = 1795694645;
    CHECK_OK(lb_token_add(store, "demo", "tlb_ada", "Ada L.", 0));
    CHECK_OK(lb_token_add(store, "demo", "tlb_old", "", now - 1));
    CHECK_OK(lb_token_add(store, "demo", "tlb_plain", "", 0));
    CHECK_OK(lb_token_add(store, "demo", "tlb_spare", "", 0));
    /* Only hashes are stored. */
    CHECK(sql_int(db_path, "SELECT count(*) FROM tokens WHERE CAST(hash AS TEXT) LIKE '%tlb_%'") == 0);

    lb_enroll_outcome out;
    lb_student st;
    CHECK_OK(lb_enroll(store, "tlb_ada", a.public_key, NULL, now, &out, &st, &c));
    CHECK(out == LB_ENROLLED && strcmp(st.name, "Ada L.") == 0 && strcmp(c.id, "demo") == 0);
    char aid[TITO_KEY_ID_CHARS + 1];
    tito_key_id(aid, a.public_key);
    CHECK(strcmp(st.key_id, aid) == 0);
    /* The same token and key again (an answer was lost): the same student. */
    CHECK_OK(lb_enroll(store, "tlb_ada", a.public_key, "Other", now + 5, &out, &st, &c));
    CHECK(out == LB_ENROLLED_AGAIN && strcmp(st.name, "Ada L.") == 0);
    CHECK_OK(lb_enroll(store, "tlb_ada", b.public_key, NULL, now, &out, &st, &c));
    CHECK(out == LB_TOKEN_USED);
    CHECK_OK(lb_enroll(store, "tlb_missing", b.public_key, NULL, now, &out, &st, &c));
    CHECK(out == LB_TOKEN_INVALID);
    CHECK_OK(lb_enroll(store, "tlb_old", b.public_key, NULL, now, &out, &st, &c));
    CHECK(out == LB_TOKEN_INVALID);
    CHECK_OK(lb_enroll(store, "tlb_spare", a.public_key, NULL, now, &out, &st, &c));
    CHECK(out == LB_KEY_EXISTS);
    /* A refused enrollment left the token unused. */
    CHECK_OK(lb_enroll(store, "tlb_plain", b.public_key, NULL, now, &out, &st, &c));
    CHECK(out == LB_ENROLLED && strncmp(st.name, "student-", 8) == 0 && strlen(st.name) == 16);
    CHECK(sql_int(db_path, "SELECT count(*) FROM students") == 2);

    bool revoked_found = false;
    CHECK_OK(lb_student_revoke(store, aid, true, now, &revoked_found));
    CHECK(revoked_found);
    CHECK_OK(lb_student_get(store, aid, &st, &found));
    CHECK(found && st.revoked);
    CHECK_OK(lb_student_revoke(store, aid, false, now, &revoked_found));
    CHECK_OK(lb_student_get(store, aid, &st, &found));
    CHECK(found && !st.revoked);
    CHECK_OK(lb_student_revoke(store, "00", true, now, &revoked_found));
    CHECK(!revoked_found);
    lb_store_close(store);
    remove_tmp();
}

/* ---------------------------------------------------------------- submissions */

static void module_sub(lb_submission *s, const char *key_id, const char *id, const char *subject, long earned,
                       long possible, const char *commit, const char *mode)
{
    memset(s, 0, sizeof *s);
    snprintf(s->key_id, sizeof s->key_id, "%s", key_id);
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->course_id, sizeof s->course_id, "demo");
    snprintf(s->created_at, sizeof s->created_at, "2026-11-26T12:00:00Z");
    snprintf(s->kind, sizeof s->kind, "module");
    snprintf(s->subject, sizeof s->subject, "%s", subject);
    snprintf(s->mode, sizeof s->mode, "%s", mode);
    s->has_score = true;
    s->earned = earned;
    s->possible = possible;
    s->reached = -1;
    snprintf(s->commit, sizeof s->commit, "%s", commit);
}

static void milestone_sub(lb_submission *s, const char *key_id, const char *id, const char *subject, bool reached,
                          const char *metrics)
{
    memset(s, 0, sizeof *s);
    snprintf(s->key_id, sizeof s->key_id, "%s", key_id);
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->course_id, sizeof s->course_id, "demo");
    snprintf(s->created_at, sizeof s->created_at, "2026-11-26T12:00:00Z");
    snprintf(s->kind, sizeof s->kind, "milestone");
    snprintf(s->subject, sizeof s->subject, "%s", subject);
    s->reached = reached;
    s->metrics = (char *)metrics;
    snprintf(s->commit, sizeof s->commit, "abcdef1");
}

static void store_ok(lb_store *store, const lb_submission *s, time_t at)
{
    json_t *ack = NULL;
    bool dup = true;
    CHECK_OK(lb_submission_store(store, s, "{}", 2, at, &ack, &dup));
    CHECK(ack && !dup);
    json_decref(ack);
}

typedef struct people {
    char a[65], b[65], c[65], d[65], e[65];
} people;

static lb_store *ranking_fixture(people *p)
{
    make_tmp();
    lb_store *store = NULL;
    CHECK_OK(lb_store_open(&store, db_path));
    if (!store)
        return NULL;
    CHECK_OK(lb_course_create(store, "demo", "Demo", 0.8));
    char *ids[] = {p->a, p->b, p->c, p->d, p->e};
    const char *names[] = {"Ada", "Bea", "Cy", "Dee", "Eve"};
    for (int i = 0; i < 5; i++) {
        tito_keypair kp;
        char token[16];
        snprintf(token, sizeof token, "tlb_%d", i);
        CHECK_OK(tito_keypair_generate(&kp));
        CHECK_OK(lb_token_add(store, "demo", token, "", 0));
        lb_enroll_outcome out;
        lb_student st;
        lb_course c;
        CHECK_OK(lb_enroll(store, token, kp.public_key, names[i], 1000, &out, &st, &c));
        snprintf(ids[i], 65, "%s", st.key_id);
    }
    lb_submission s;
    time_t t = 1795694645;
    module_sub(&s, p->a, "a1", "01_tensor", 80, 100, "c1c1c1c", "grade");
    store_ok(store, &s, t);
    module_sub(&s, p->b, "b1", "01_tensor", 95, 100, "c3c3c3c", "grade");
    store_ok(store, &s, t + 1);
    module_sub(&s, p->a, "a2", "01_tensor", 95, 100, "c2c2c2c", "grade");
    store_ok(store, &s, t + 2);
    module_sub(&s, p->a, "a3", "02_activations", 100, 100, "c2c2c2c", "test");
    store_ok(store, &s, t + 3);
    milestone_sub(&s, p->a, "a4", "03_mlp", true, "{\"mlp_test_accuracy\":0.5,\"test_accuracy\":0.93}");
    store_ok(store, &s, t + 4);
    module_sub(&s, p->b, "b2", "02_activations", 50, 100, "c4c4c4c", "grade");
    store_ok(store, &s, t + 5);
    module_sub(&s, p->c, "c1", "01_tensor", 100, 100, "c5c5c5c", "grade");
    store_ok(store, &s, t + 6);
    module_sub(&s, p->e, "e1", "01_tensor", 80, 100, "c6c6c6c", "grade");
    store_ok(store, &s, t + 7);
    milestone_sub(&s, p->e, "e2", "03_mlp", true, NULL);
    store_ok(store, &s, t + 8);
    milestone_sub(&s, p->e, "e3", "03_mlp", false, "{\"test_accuracy\":0.4}");
    store_ok(store, &s, t + 9);

    /* The instructor reproduces Bea's 95 and finds 70 for Ada's c2. */
    lb_verification v;
    memset(&v, 0, sizeof v);
    snprintf(v.course_id, sizeof v.course_id, "demo");
    snprintf(v.kind, sizeof v.kind, "module");
    snprintf(v.subject, sizeof v.subject, "01_tensor");
    v.reached = -1;
    json_t *ack = NULL;
    bool dup = false;
    snprintf(v.id, sizeof v.id, "v1");
    snprintf(v.student, sizeof v.student, "%s", p->b);
    snprintf(v.commit, sizeof v.commit, "c3c3c3c");
    v.earned = 95;
    v.possible = 100;
    CHECK_OK(lb_verification_store(store, &v, "{}", 2, t + 20, &ack, &dup));
    CHECK(!dup && json_integer_value(json_object_get(ack, "matched")) == 1);
    json_decref(ack);
    snprintf(v.id, sizeof v.id, "v2");
    snprintf(v.student, sizeof v.student, "%s", p->a);
    snprintf(v.commit, sizeof v.commit, "c2c2c2c");
    v.earned = 70;
    CHECK_OK(lb_verification_store(store, &v, "{}", 2, t + 21, &ack, &dup));
    json_decref(ack);
    CHECK_OK(lb_verification_store(store, &v, "{}", 2, t + 22, &ack, &dup));
    CHECK(dup && strcmp(json_string_value(json_object_get(ack, "received_at")), "2026-11-26T12:04:26Z") == 0);
    json_decref(ack);
    bool found = false;
    CHECK_OK(lb_student_revoke(store, p->c, true, t, &found));
    return store;
}

static json_t *entry_of(json_t *doc, const char *key_id)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "students"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "key_id")), key_id) == 0)
            return s;
    }
    return NULL;
}

static void test_submissions_are_stored_once(void)
{
    make_tmp();
    lb_store *store = NULL;
    CHECK_OK(lb_store_open(&store, db_path));
    if (!store) {
        remove_tmp();
        return;
    }
    CHECK_OK(lb_course_create(store, "demo", "Demo", 0.8));
    tito_keypair kp, kq;
    CHECK_OK(tito_keypair_generate(&kp));
    CHECK_OK(tito_keypair_generate(&kq));
    lb_enroll_outcome out;
    lb_student sa, sb;
    lb_course c;
    CHECK_OK(lb_token_add(store, "demo", "t1", "", 0));
    CHECK_OK(lb_token_add(store, "demo", "t2", "", 0));
    CHECK_OK(lb_enroll(store, "t1", kp.public_key, "A", 1, &out, &sa, &c));
    CHECK_OK(lb_enroll(store, "t2", kq.public_key, "B", 1, &out, &sb, &c));
    lb_submission s;
    module_sub(&s, sa.key_id, "0123456789abcdef0123456789abcdef", "01_tensor", 92, 100, "", "grade");
    const char envelope[] = "{\"payloadType\":\"x\",\"payload\":\"\\u00e9\",\"signatures\":[]}";
    json_t *first = NULL, *again = NULL;
    bool dup = true;
    CHECK_OK(lb_submission_store(store, &s, envelope, sizeof envelope - 1, 1795694645, &first, &dup));
    CHECK(!dup && json_is_true(json_object_get(first, "accepted")));
    CHECK(json_integer_value(json_object_get(json_object_get(first, "score"), "earned")) == 92);
    CHECK(strcmp(json_string_value(json_object_get(first, "status")), "self-reported") == 0);
    CHECK_OK(lb_submission_store(store, &s, "other bytes", 11, 1795694999, &again, &dup));
    CHECK(dup && json_equal(first, again));
    json_decref(again);
    /* The same id from another key is another submission. */
    module_sub(&s, sb.key_id, "0123456789abcdef0123456789abcdef", "01_tensor", 10, 100, "", "grade");
    CHECK_OK(lb_submission_store(store, &s, envelope, sizeof envelope - 1, 1795694645, &again, &dup));
    /* seq only grows (a refused duplicate may use up a number: seq is an order, not a count). */
    CHECK(!dup && json_integer_value(json_object_get(again, "seq")) > json_integer_value(json_object_get(first, "seq")));
    json_decref(again);
    json_decref(first);
    long n = 0;
    CHECK_OK(lb_store_count_submissions(store, &n));
    CHECK(n == 2);
    lb_store_close(store);
    /* The envelope as received, byte for byte. */
    CHECK(sql_int(db_path, "SELECT count(*) FROM submissions WHERE envelope = "
                           "CAST('{\"payloadType\":\"x\",\"payload\":\"\\u00e9\",\"signatures\":[]}' AS BLOB)") == 2);
    remove_tmp();
}

static void test_ranking(void)
{
    people p;
    lb_store *store = ranking_fixture(&p);
    if (!store) {
        remove_tmp();
        return;
    }
    json_t *doc = NULL;
    bool found = false;
    CHECK_OK(lb_ranking_json(store, "demo", 1795694645, &doc, &found));
    CHECK(found && doc);
    json_t *students = json_object_get(doc, "students");
    /* Cy's key is revoked: left out. */
    CHECK(json_array_size(students) == 4 && entry_of(doc, p.c) == NULL);
    json_t *a = entry_of(doc, p.a), *b = entry_of(doc, p.b), *d = entry_of(doc, p.d), *e = entry_of(doc, p.e);
    CHECK(a && b && d && e);
    if (!(a && b && d && e)) {
        json_decref(doc);
        lb_store_close(store);
        remove_tmp();
        return;
    }
    /* Bea: 95 (verified) + 50 = 145, first. */
    CHECK(json_integer_value(json_object_get(b, "rank")) == 1);
    CHECK(json_integer_value(json_object_get(json_object_get(b, "total"), "earned")) == 145);
    json_t *b01 = json_object_get(json_object_get(b, "modules"), "01_tensor");
    CHECK(strcmp(json_string_value(json_object_get(b01, "status")), "verified") == 0);
    CHECK(!json_is_true(json_object_get(b, "verified"))); /* 02 is not */
    /* Ada: the instructor found 70 at c2 (disputed), so her best is the 80 of c1; her
     * test-mode 100 does not count; one milestone. Eve ties with her (80, one
     * milestone) and shares rank 2, after her: Ada got there first. */
    json_t *a01 = json_object_get(json_object_get(a, "modules"), "01_tensor");
    CHECK(json_integer_value(json_object_get(a01, "earned")) == 80);
    CHECK(strcmp(json_string_value(json_object_get(a01, "commit")), "c1c1c1c") == 0);
    CHECK(strcmp(json_string_value(json_object_get(a01, "status")), "self-reported") == 0);
    CHECK(json_object_get(json_object_get(a, "modules"), "02_activations") == NULL);
    CHECK(json_integer_value(json_object_get(a, "milestones_reached")) == 1);
    CHECK(json_integer_value(json_object_get(a, "rank")) == 2);
    CHECK(json_integer_value(json_object_get(e, "rank")) == 2);
    CHECK(json_array_get(students, 1) == a && json_array_get(students, 2) == e);
    json_t *cap = json_object_get(a, "capstone");
    CHECK(strcmp(json_string_value(json_object_get(cap, "metric")), "test_accuracy") == 0);
    CHECK_NEAR(json_number_value(json_object_get(cap, "value")), 0.93, 1e-12, 0);
    /* Eve reached 03 once, then not: reached stays, with the metrics of the reaching run (none). */
    json_t *e03 = json_object_get(json_object_get(e, "milestones"), "03_mlp");
    CHECK(json_is_true(json_object_get(e03, "reached")));
    CHECK(json_is_null(json_object_get(e, "capstone")));
    /* Dee has submitted nothing: listed, unranked, last. */
    CHECK(json_is_null(json_object_get(d, "rank")) && json_array_get(students, 3) == d);
    CHECK(json_array_size(json_object_get(doc, "modules")) == 2);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(doc, "modules"), 0)), "01_tensor") == 0);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(doc, "milestones"), 0)), "03_mlp") == 0);
    json_decref(doc);

    CHECK_OK(lb_student_json(store, "demo", p.a, 1795694645, &doc, &found));
    CHECK(found && json_integer_value(json_object_get(doc, "of")) == 4);
    json_t *history = json_object_get(json_object_get(doc, "student"), "history");
    CHECK(json_array_size(history) == 4);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(history, 0), "id")), "a4") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(history, 1), "mode")), "test") == 0);
    /* History shows the disputed submission with the instructor's score. */
    json_t *a2 = json_array_get(history, 2);
    CHECK(strcmp(json_string_value(json_object_get(a2, "status")), "disputed") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(a2, "score"), "earned")) == 70);
    json_decref(doc);
    doc = NULL;
    CHECK_OK(lb_student_json(store, "demo", p.c, 1795694645, &doc, &found));
    CHECK(!found && doc == NULL);
    CHECK_OK(lb_ranking_json(store, "missing", 1795694645, &doc, &found));
    CHECK(!found && doc == NULL);

    int64_t *times = NULL;
    size_t n = 0;
    CHECK_OK(lb_submission_times(store, "demo", &times, &n));
    CHECK(n == 10 && times && times[0] == 1795694645 && times[9] == 1795694645 + 9);
    free(times);
    lb_store_close(store);
    remove_tmp();
}

/* ---------------------------------------------------------------- util */

static void test_times(void)
{
    char buf[32];
    lb_time_format(buf, 1795694645);
    CHECK(strcmp(buf, "2026-11-26T12:04:05Z") == 0);
    time_t t = 0;
    CHECK(lb_time_parse("2026-11-26T12:04:05Z", &t) && t == 1795694645);
    CHECK(lb_time_parse("1970-01-01T00:00:00Z", &t) && t == 0);
    CHECK(lb_time_parse("2024-02-29T23:59:59Z", &t) && t == 1709251199);
    static const char *const bad[] = {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26 12:04:05Z",
                                      "2026-11-26T12:04:05", "2026-11-26T24:00:00Z", "1969-12-31T23:59:59Z",
                                      "2026-11-26T12:04:05+01:00", "", "2026-04-31T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!lb_time_parse(bad[i], &t));
}

static void test_validation(void)
{
    CHECK(lb_valid_hex("0123abcd", 8, 8) && !lb_valid_hex("0123ABCD", 8, 8) && !lb_valid_hex("0123", 8, 8));
    CHECK(!lb_valid_hex("012345678", 8, 8) && !lb_valid_hex("' OR 1=1", 1, 64));
    CHECK(lb_valid_course_id("tinytorch-c-2026") && lb_valid_course_id("a.b_c"));
    CHECK(!lb_valid_course_id("") && !lb_valid_course_id("-x") && !lb_valid_course_id("Demo"));
    CHECK(!lb_valid_course_id("x'; DROP TABLE courses; --") && !lb_valid_course_id("a/b"));
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    CHECK(!lb_valid_course_id(long_id));
    long_id[64] = '\0';
    CHECK(lb_valid_course_id(long_id));
    CHECK(lb_valid_subject("01_tensor") && lb_valid_subject("03_mlp2"));
    CHECK(!lb_valid_subject("1_tensor") && !lb_valid_subject("01_") && !lb_valid_subject("01-tensor"));
    CHECK(!lb_valid_subject("01_Tensor") && !lb_valid_subject("01_x' OR '1'='1"));

    const char *why = NULL;
    CHECK(lb_valid_name("Ada Lovelace", &why) && lb_valid_name("Zoë \xe6\x9d\x8e \xf0\x9f\x98\x80", &why));
    CHECK(!lb_valid_name("", &why) && strcmp(why, "empty") == 0);
    CHECK(!lb_valid_name("   ", &why));
    CHECK(!lb_valid_name("a\nb", &why) && !lb_valid_name("a\x1b[31mred", &why) && !lb_valid_name("\xc2\x85", &why));
    CHECK(!lb_valid_name("bad \xff utf8", &why) && !lb_valid_name("\xed\xa0\x80", &why)); /* a surrogate */
    CHECK(!lb_valid_name("\xc0\xaf", &why));                                             /* overlong */
    char name[300];
    memset(name, 'x', 65);
    name[65] = '\0';
    CHECK(!lb_valid_name(name, &why) && strstr(why, "64"));
    /* 64 characters of two bytes each are fine: the limit is characters. */
    for (int i = 0; i < 64; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[128] = '\0';
    CHECK(lb_valid_name(name, &why));
    CHECK(lb_valid_text("Demo course", 200) && !lb_valid_text("tab\there", 200));
}

static void test_escaping(void)
{
    lb_buf b = {0};
    lb_buf_html(&b, "<script>alert('x')</script> & \"q\"");
    lb_buf_puts(&b, "|");
    lb_buf_url(&b, "a b/c?d=é");
    size_t len = 0;
    char *text = lb_buf_take(&b, &len);
    CHECK(text && strcmp(text, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;|a%20b%2Fc%3Fd%3D%C3%A9") == 0);
    CHECK(text && len == strlen(text));
    free(text);
    lb_buf_printf(&b, "%0300d", 7); /* longer than the small buffer */
    text = lb_buf_take(&b, &len);
    CHECK(text && len == 300 && text[299] == '7');
    free(text);
    char *clean = lb_utf8_clean("ok \xff \xc3\xa9");
    CHECK(clean && strcmp(clean, "ok \xef\xbf\xbd \xc3\xa9") == 0);
    free(clean);
}

static void test_rate_limit(void)
{
    lb_ratelimit *rl = NULL;
    CHECK_OK(lb_ratelimit_new(&rl, 1.0, 3.0));
    int retry = 0;
    CHECK(lb_ratelimit_take(rl, "k1", 100.0, &retry));
    CHECK(lb_ratelimit_take(rl, "k1", 100.0, &retry));
    CHECK(lb_ratelimit_take(rl, "k1", 100.0, &retry));
    CHECK(!lb_ratelimit_take(rl, "k1", 100.0, &retry) && retry == 1);
    CHECK(!lb_ratelimit_take(rl, "k1", 100.5, &retry) && retry == 1);
    CHECK(lb_ratelimit_take(rl, "k1", 101.0, &retry));
    /* Another key has its own bucket; a long pause refills only up to the burst. */
    CHECK(lb_ratelimit_take(rl, "k2", 101.0, &retry));
    int granted = 0;
    for (int i = 0; i < 10; i++)
        granted += lb_ratelimit_take(rl, "k1", 1000.0, &retry);
    CHECK(granted == 3);
    /* Many keys: the table grows and forgets none. */
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        CHECK(lb_ratelimit_take(rl, key, 2000.0, &retry));
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        lb_ratelimit_take(rl, key, 2000.0, &retry);
        lb_ratelimit_take(rl, key, 2000.0, &retry);
    }
    CHECK(!lb_ratelimit_take(rl, "key-500", 2000.0, &retry) && retry == 1);
    lb_ratelimit_free(rl);

    CHECK_OK(lb_ratelimit_new(&rl, 0, 1));
    for (int i = 0; i < 100; i++)
        CHECK(lb_ratelimit_take(rl, "k", 0.0, &retry));
    lb_ratelimit_free(rl);
    CHECK_OK(lb_ratelimit_new(&rl, 0.1, 1));
    CHECK(lb_ratelimit_take(rl, "k", 0.0, &retry));
    CHECK(!lb_ratelimit_take(rl, "k", 0.0, &retry) && retry == 10);
    lb_ratelimit_free(rl);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    RUN(test_schema_is_migrated_once_and_versioned);
    RUN(test_courses_tokens_and_enrollment);
    RUN(test_submissions_are_stored_once);
    RUN(test_ranking);
    RUN(test_times);
    RUN(test_validation);
    RUN(test_escaping);
    RUN(test_rate_limit);
    return harness_summary();
}
