/*
 * The leaderboard's store: one SQLite database (WAL journal, synchronous=FULL) holding
 * courses, enrollment tokens (their hashes), students' public keys, every accepted
 * envelope byte for byte, and verifications.
 *
 * Invariants:
 *  - every statement is prepared with bound parameters; no SQL is ever built from text
 *    a client sent (SQL strings are constants, here and in ranking.c);
 *  - a function returns TT_OK for a write only after SQLite's COMMIT returned, and with
 *    synchronous=FULL in WAL mode that commit has been fsync'ed: an acknowledged
 *    submission survives the server being killed (or the machine losing power);
 *  - the schema has a version (table schema_version); opening applies the migrations
 *    the file lacks, each in its own transaction, and refuses a newer schema;
 *  - one connection per process, used under one mutex: the server's request threads
 *    take turns (SQLite serialises writers anyway; WAL keeps other processes' readers,
 *    such as a backup or an admin command, from blocking us).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

struct lb_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    int version;
};

/* ---------------------------------------------------------------- the schema */

/* Migration N takes the schema from version N-1 to N. Append only: a migration that
 * shipped is never edited, or databases made with it would differ from new ones. */
static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE courses ("
    "  id TEXT PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  pass_bar REAL NOT NULL DEFAULT 0.8,"
    "  verify_key BLOB,"
    "  verify_key_id TEXT UNIQUE,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE tokens ("
    "  hash BLOB PRIMARY KEY,"
    "  course_id TEXT NOT NULL REFERENCES courses(id),"
    "  label TEXT NOT NULL DEFAULT '',"
    "  created_at TEXT NOT NULL,"
    "  expires_at INTEGER,"
    "  used_at TEXT,"
    "  used_by TEXT);"
    "CREATE TABLE students ("
    "  key_id TEXT PRIMARY KEY,"
    "  course_id TEXT NOT NULL REFERENCES courses(id),"
    "  public_key BLOB NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  label TEXT NOT NULL DEFAULT '',"
    "  enrolled_at TEXT NOT NULL,"
    "  revoked_at TEXT);"
    "CREATE INDEX students_course ON students(course_id);"
    "CREATE TABLE submissions ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  key_id TEXT NOT NULL REFERENCES students(key_id),"
    "  id TEXT NOT NULL,"
    "  course_id TEXT NOT NULL REFERENCES courses(id),"
    "  received_at TEXT NOT NULL,"
    "  received_unix INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  mode TEXT NOT NULL DEFAULT '',"
    "  earned INTEGER,"
    "  possible INTEGER,"
    "  reached INTEGER,"
    "  metrics TEXT,"
    "  commit_id TEXT NOT NULL DEFAULT '',"
    "  envelope BLOB NOT NULL,"
    "  UNIQUE (key_id, id));"
    "CREATE INDEX submissions_course ON submissions(course_id, seq);"
    "CREATE TABLE verifications ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL,"
    "  course_id TEXT NOT NULL REFERENCES courses(id),"
    "  key_id TEXT NOT NULL REFERENCES students(key_id),"
    "  kind TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  commit_id TEXT NOT NULL,"
    "  earned INTEGER,"
    "  possible INTEGER,"
    "  reached INTEGER,"
    "  received_at TEXT NOT NULL,"
    "  envelope BLOB NOT NULL,"
    "  UNIQUE (course_id, id));"
    "CREATE INDEX verifications_subject ON verifications(key_id, subject, commit_id);",
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

_Static_assert(N_MIGRATIONS == LB_SCHEMA_VERSION, "LB_SCHEMA_VERSION is the number of migrations");

/* ---------------------------------------------------------------- helpers */

static tt_status sql_error(lb_store *store, const char *what)
{
    return tt_error_set(TT_ERR_IO, "store: %s: %s", what, sqlite3_errmsg(store->db));
}

static tt_status prepare(lb_store *store, sqlite3_stmt **stmt, const char *sql)
{
    if (sqlite3_prepare_v2(store->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        *stmt = NULL;
        return sql_error(store, "prepare");
    }
    return TT_OK;
}

static tt_status exec(lb_store *store, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        tt_status st = tt_error_set(TT_ERR_IO, "store: %s", msg ? msg : sqlite3_errmsg(store->db));
        sqlite3_free(msg);
        return st;
    }
    return TT_OK;
}

static void bind_text(sqlite3_stmt *s, int i, const char *text)
{
    sqlite3_bind_text(s, i, text, -1, SQLITE_TRANSIENT);
}

static void column_copy(char *dst, size_t size, sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* Roll back after a failure inside a transaction, keeping the first error message. */
static void rollback(lb_store *store)
{
    char saved[512];
    snprintf(saved, sizeof saved, "%s", tt_error_last());
    sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    tt_error_set(TT_ERR_IO, "%s", saved);
}

/* ---------------------------------------------------------------- opening */

static tt_status read_version(lb_store *store, int *version, bool *ours)
{
    sqlite3_stmt *s = NULL;
    tt_status st = prepare(store, &s,
                           "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table'),"
                           " (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version')");
    if (st != TT_OK)
        return st;
    int tables = 0, has_version = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        tables = sqlite3_column_int(s, 0);
        has_version = sqlite3_column_int(s, 1);
    }
    sqlite3_finalize(s);
    *ours = tables == 0 || has_version;
    *version = 0;
    if (!has_version)
        return TT_OK;
    st = prepare(store, &s, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (st != TT_OK)
        return st;
    if (sqlite3_step(s) == SQLITE_ROW)
        *version = sqlite3_column_int(s, 0);
    else
        st = sql_error(store, "reading the schema version");
    sqlite3_finalize(s);
    return st;
}

static tt_status migrate(lb_store *store, const char *path)
{
    /* IMMEDIATE: two processes opening a new file at once must not both migrate. */
    tt_status st = exec(store, "BEGIN IMMEDIATE");
    if (st != TT_OK)
        return st;
    int version = 0;
    bool ours = true;
    TT_CHECK(read_version(store, &version, &ours));
    if (!ours) {
        st = tt_error_set(TT_ERR_FORMAT, "%s: an SQLite database, but not a leaderboard's (no "
                                         "schema_version table): give a new file or a leaderboard "
                                         "database", path);
        goto cleanup;
    }
    if (version > N_MIGRATIONS) {
        st = tt_error_set(TT_ERR_FORMAT, "%s: schema version %d, but this tito-leaderboard knows "
                                         "versions up to %d: run a newer tito-leaderboard", path,
                          version, N_MIGRATIONS);
        goto cleanup;
    }
    if (version == 0)
        TT_CHECK(exec(store, "CREATE TABLE IF NOT EXISTS schema_version ("
                             " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    for (int v = version; v < N_MIGRATIONS; v++) {
        TT_CHECK(exec(store, migrations[v]));
        sqlite3_stmt *s = NULL;
        TT_CHECK(prepare(store, &s, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"));
        char now[32];
        lb_time_format(now, time(NULL));
        sqlite3_bind_int(s, 1, v + 1);
        bind_text(s, 2, now);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE) {
            st = sql_error(store, "recording the schema version");
            goto cleanup;
        }
    }
    TT_CHECK(exec(store, "COMMIT"));
    store->version = N_MIGRATIONS;
    return TT_OK;
cleanup:
    rollback(store);
    return st;
}

tt_status lb_store_open(lb_store **out, const char *path)
{
    *out = NULL;
    lb_store *store = calloc(1, sizeof *store);
    if (!store)
        return tt_error_set(TT_ERR_NOMEM, "lb_store_open: no memory");
    tt_status st = TT_OK;
    pthread_mutex_init(&store->lock, NULL);
    if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        st = tt_error_set(TT_ERR_IO, "cannot open the database %s: %s", path,
                          store->db ? sqlite3_errmsg(store->db) : "out of memory");
        goto cleanup;
    }
    /* Other processes (admin commands, backups) may write while the server runs. */
    sqlite3_busy_timeout(store->db, 10000);
    sqlite3_stmt *s = NULL;
    TT_CHECK(prepare(store, &s, "PRAGMA journal_mode = WAL"));
    char mode[16] = "";
    if (sqlite3_step(s) == SQLITE_ROW)
        column_copy(mode, sizeof mode, s, 0);
    sqlite3_finalize(s);
    if (strcmp(mode, "wal") != 0) {
        st = tt_error_set(TT_ERR_IO, "%s: cannot use a WAL journal (got \"%s\"): %s", path, mode,
                          sqlite3_errmsg(store->db));
        goto cleanup;
    }
    TT_CHECK(exec(store, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"));
    TT_CHECK(migrate(store, path));
    *out = store;
    return TT_OK;
cleanup:
    if (st == TT_ERR_IO && strstr(tt_error_last(), "file is not a database"))
        st = tt_error_set(TT_ERR_FORMAT, "%s: not an SQLite database", path);
    lb_store_close(store);
    return st;
}

void lb_store_close(lb_store *store)
{
    if (!store)
        return;
    sqlite3_close(store->db);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

int lb_store_schema_version(lb_store *store)
{
    return store->version;
}

tt_status lb_store_backup(lb_store *store, const char *path)
{
    sqlite3 *dest = NULL;
    tt_status st = TT_OK;
    if (sqlite3_open_v2(path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        st = tt_error_set(TT_ERR_IO, "cannot open %s for the backup: %s", path,
                          dest ? sqlite3_errmsg(dest) : "out of memory");
        sqlite3_close(dest);
        return st;
    }
    pthread_mutex_lock(&store->lock);
    sqlite3_backup *b = sqlite3_backup_init(dest, "main", store->db, "main");
    if (!b) {
        st = tt_error_set(TT_ERR_IO, "cannot start the backup to %s: %s", path, sqlite3_errmsg(dest));
    } else {
        int rc = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE)
            st = tt_error_set(TT_ERR_IO, "backup to %s failed: %s", path, sqlite3_errstr(rc));
    }
    pthread_mutex_unlock(&store->lock);
    sqlite3_close(dest);
    return st;
}

/* ---------------------------------------------------------------- courses */

static void course_from_row(lb_course *c, sqlite3_stmt *s)
{
    memset(c, 0, sizeof *c);
    column_copy(c->id, sizeof c->id, s, 0);
    column_copy(c->title, sizeof c->title, s, 1);
    c->pass_bar = sqlite3_column_double(s, 2);
    const void *key = sqlite3_column_blob(s, 3);
    if (key && sqlite3_column_bytes(s, 3) == TITO_PUBLIC_KEY_BYTES) {
        memcpy(c->verify_key, key, TITO_PUBLIC_KEY_BYTES);
        c->has_verify_key = true;
        column_copy(c->verify_key_id, sizeof c->verify_key_id, s, 4);
    }
    column_copy(c->created_at, sizeof c->created_at, s, 5);
}

#define COURSE_COLUMNS "id, title, pass_bar, verify_key, verify_key_id, created_at"

tt_status lb_course_create(lb_store *store, const char *id, const char *title, double pass_bar)
{
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, "INSERT INTO courses (id, title, pass_bar, created_at) VALUES (?, ?, ?, ?)");
    if (st == TT_OK) {
        char now[32];
        lb_time_format(now, time(NULL));
        bind_text(s, 1, id);
        bind_text(s, 2, title);
        sqlite3_bind_double(s, 3, pass_bar);
        bind_text(s, 4, now);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT)
            st = tt_error_set(TT_ERR_STATE, "there is a course %s already", id);
        else if (rc != SQLITE_DONE)
            st = sql_error(store, "creating the course");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

static tt_status course_query(lb_store *store, const char *sql, const char *arg, lb_course *out, bool *found)
{
    sqlite3_stmt *s = NULL;
    *found = false;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, sql);
    if (st == TT_OK) {
        bind_text(s, 1, arg);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            course_from_row(out, s);
            *found = true;
        } else if (rc != SQLITE_DONE) {
            st = sql_error(store, "reading a course");
        }
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

tt_status lb_course_get(lb_store *store, const char *id, lb_course *out, bool *found)
{
    return course_query(store, "SELECT " COURSE_COLUMNS " FROM courses WHERE id = ?", id, out, found);
}

tt_status lb_course_by_key_id(lb_store *store, const char *key_id, lb_course *out, bool *found)
{
    return course_query(store, "SELECT " COURSE_COLUMNS " FROM courses WHERE verify_key_id = ?", key_id,
                        out, found);
}

tt_status lb_course_list(lb_store *store, lb_course **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    lb_course *list = NULL;
    size_t count = 0, cap = 0;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, "SELECT " COURSE_COLUMNS " FROM courses ORDER BY id");
    int rc = SQLITE_DONE;
    while (st == TT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? 2 * cap : 8;
            lb_course *p = realloc(list, cap * sizeof *p);
            if (!p) {
                st = tt_error_set(TT_ERR_NOMEM, "lb_course_list: no memory");
                break;
            }
            list = p;
        }
        course_from_row(&list[count++], s);
    }
    if (st == TT_OK && rc != SQLITE_DONE)
        st = sql_error(store, "listing courses");
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    if (st != TT_OK) {
        free(list);
        return st;
    }
    *out = list;
    *n = count;
    return TT_OK;
}

tt_status lb_course_set_key(lb_store *store, const char *id, const unsigned char public_key[TITO_PUBLIC_KEY_BYTES])
{
    char key_id[TITO_KEY_ID_CHARS + 1];
    tito_key_id(key_id, public_key);
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, "UPDATE courses SET verify_key = ?, verify_key_id = ? WHERE id = ?");
    if (st == TT_OK) {
        sqlite3_bind_blob(s, 1, public_key, TITO_PUBLIC_KEY_BYTES, SQLITE_TRANSIENT);
        bind_text(s, 2, key_id);
        bind_text(s, 3, id);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT)
            st = tt_error_set(TT_ERR_STATE, "that key is already another course's key");
        else if (rc != SQLITE_DONE)
            st = sql_error(store, "setting the course key");
        else if (sqlite3_changes(store->db) == 0)
            st = tt_error_set(TT_ERR_STATE, "no course %s", id);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

/* ---------------------------------------------------------------- tokens, students */

static void token_hash(unsigned char out[crypto_hash_sha256_BYTES], const char *token)
{
    crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

tt_status lb_token_add(lb_store *store, const char *course, const char *token, const char *label,
                       time_t expires)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    token_hash(hash, token);
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, "INSERT INTO tokens (hash, course_id, label, created_at, expires_at)"
                                      " VALUES (?, ?, ?, ?, ?)");
    if (st == TT_OK) {
        char now[32];
        lb_time_format(now, time(NULL));
        sqlite3_bind_blob(s, 1, hash, sizeof hash, SQLITE_TRANSIENT);
        bind_text(s, 2, course);
        bind_text(s, 3, label);
        bind_text(s, 4, now);
        if (expires)
            sqlite3_bind_int64(s, 5, (sqlite3_int64)expires);
        else
            sqlite3_bind_null(s, 5);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT)
            st = tt_error_set(TT_ERR_STATE, "no course %s (or the token exists)", course);
        else if (rc != SQLITE_DONE)
            st = sql_error(store, "adding a token");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

#define STUDENT_COLUMNS "key_id, course_id, public_key, name, label, enrolled_at, revoked_at"

static void student_from_row(lb_student *st, sqlite3_stmt *s)
{
    memset(st, 0, sizeof *st);
    column_copy(st->key_id, sizeof st->key_id, s, 0);
    column_copy(st->course_id, sizeof st->course_id, s, 1);
    const void *key = sqlite3_column_blob(s, 2);
    if (key && sqlite3_column_bytes(s, 2) == TITO_PUBLIC_KEY_BYTES)
        memcpy(st->public_key, key, TITO_PUBLIC_KEY_BYTES);
    column_copy(st->name, sizeof st->name, s, 3);
    column_copy(st->label, sizeof st->label, s, 4);
    column_copy(st->enrolled_at, sizeof st->enrolled_at, s, 5);
    st->revoked = sqlite3_column_type(s, 6) != SQLITE_NULL;
}

/* Under the lock. */
static tt_status student_get_locked(lb_store *store, const char *key_id, lb_student *out, bool *found)
{
    sqlite3_stmt *s = NULL;
    *found = false;
    tt_status st = prepare(store, &s, "SELECT " STUDENT_COLUMNS " FROM students WHERE key_id = ?");
    if (st == TT_OK) {
        bind_text(s, 1, key_id);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            student_from_row(out, s);
            *found = true;
        } else if (rc != SQLITE_DONE) {
            st = sql_error(store, "reading a student");
        }
    }
    sqlite3_finalize(s);
    return st;
}

tt_status lb_student_get(lb_store *store, const char *key_id, lb_student *out, bool *found)
{
    pthread_mutex_lock(&store->lock);
    tt_status st = student_get_locked(store, key_id, out, found);
    pthread_mutex_unlock(&store->lock);
    return st;
}

tt_status lb_enroll(lb_store *store, const char *token, const unsigned char public_key[32], const char *name,
                    time_t now, lb_enroll_outcome *outcome, lb_student *student, lb_course *course)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    token_hash(hash, token);
    char key_id[TITO_KEY_ID_CHARS + 1];
    tito_key_id(key_id, public_key);
    char now_text[32];
    lb_time_format(now_text, now);
    sqlite3_stmt *s = NULL;
    tt_status st = TT_OK;
    bool found = false, in_tx = false;

    pthread_mutex_lock(&store->lock);
    TT_CHECK(exec(store, "BEGIN IMMEDIATE"));
    in_tx = true;
    TT_CHECK(prepare(store, &s, "SELECT course_id, label, expires_at, used_by FROM tokens WHERE hash = ?"));
    sqlite3_bind_blob(s, 1, hash, sizeof hash, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE) {
            st = sql_error(store, "reading a token");
            goto cleanup;
        }
        *outcome = LB_TOKEN_INVALID;
        goto done;
    }
    char course_id[LB_COURSE_ID_MAX + 1], label[256], used_by[TITO_KEY_ID_CHARS + 1];
    column_copy(course_id, sizeof course_id, s, 0);
    column_copy(label, sizeof label, s, 1);
    bool expired = sqlite3_column_type(s, 2) != SQLITE_NULL && sqlite3_column_int64(s, 2) <= (sqlite3_int64)now;
    bool used = sqlite3_column_type(s, 3) != SQLITE_NULL;
    column_copy(used_by, sizeof used_by, s, 3);
    sqlite3_finalize(s);
    s = NULL;

    if (used) {
        /* The same key again is a retry whose answer was lost: the same answer. */
        if (strcmp(used_by, key_id) == 0) {
            TT_CHECK(student_get_locked(store, key_id, student, &found));
            *outcome = found ? LB_ENROLLED_AGAIN : LB_TOKEN_USED;
        } else {
            *outcome = LB_TOKEN_USED;
        }
        goto done;
    }
    if (expired) {
        *outcome = LB_TOKEN_INVALID;
        goto done;
    }
    TT_CHECK(student_get_locked(store, key_id, student, &found));
    if (found) {
        *outcome = LB_KEY_EXISTS;
        goto done;
    }
    char fallback[64];
    if (!name || !*name) {
        snprintf(fallback, sizeof fallback, "student-%.8s", key_id);
        name = *label ? label : fallback;
    }
    TT_CHECK(prepare(store, &s, "INSERT INTO students (key_id, course_id, public_key, name, label, enrolled_at)"
                                " VALUES (?, ?, ?, ?, ?, ?)"));
    bind_text(s, 1, key_id);
    bind_text(s, 2, course_id);
    sqlite3_bind_blob(s, 3, public_key, TITO_PUBLIC_KEY_BYTES, SQLITE_TRANSIENT);
    bind_text(s, 4, name);
    bind_text(s, 5, label);
    bind_text(s, 6, now_text);
    if (sqlite3_step(s) != SQLITE_DONE) {
        st = sql_error(store, "enrolling");
        goto cleanup;
    }
    sqlite3_finalize(s);
    TT_CHECK(prepare(store, &s, "UPDATE tokens SET used_at = ?, used_by = ? WHERE hash = ?"));
    bind_text(s, 1, now_text);
    bind_text(s, 2, key_id);
    sqlite3_bind_blob(s, 3, hash, sizeof hash, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) {
        st = sql_error(store, "marking the token used");
        goto cleanup;
    }
    sqlite3_finalize(s);
    s = NULL;
    TT_CHECK(student_get_locked(store, key_id, student, &found));
    *outcome = LB_ENROLLED;
done:
    sqlite3_finalize(s);
    s = NULL;
    if (*outcome == LB_ENROLLED || *outcome == LB_ENROLLED_AGAIN) {
        TT_CHECK(prepare(store, &s, "SELECT " COURSE_COLUMNS " FROM courses WHERE id = ?"));
        bind_text(s, 1, student->course_id);
        if (sqlite3_step(s) != SQLITE_ROW) {
            st = sql_error(store, "reading the student's course");
            goto cleanup;
        }
        course_from_row(course, s);
    }
    sqlite3_finalize(s);
    s = NULL;
    TT_CHECK(exec(store, "COMMIT"));
    in_tx = false;
cleanup:
    sqlite3_finalize(s);
    if (in_tx)
        rollback(store);
    pthread_mutex_unlock(&store->lock);
    return st;
}

tt_status lb_student_revoke(lb_store *store, const char *key_id, bool revoke, time_t now, bool *found)
{
    char now_text[32];
    lb_time_format(now_text, now);
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, "UPDATE students SET revoked_at = ? WHERE key_id = ?");
    if (st == TT_OK) {
        if (revoke)
            bind_text(s, 1, now_text);
        else
            sqlite3_bind_null(s, 1);
        bind_text(s, 2, key_id);
        if (sqlite3_step(s) != SQLITE_DONE)
            st = sql_error(store, "revoking a key");
        *found = sqlite3_changes(store->db) > 0;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

tt_status lb_student_list(lb_store *store, const char *course, lb_student **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    lb_student *list = NULL;
    size_t count = 0, cap = 0;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, "SELECT " STUDENT_COLUMNS " FROM students WHERE course_id = ?"
                                      " ORDER BY name, key_id");
    int rc = SQLITE_DONE;
    if (st == TT_OK)
        bind_text(s, 1, course);
    while (st == TT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            lb_student *p = realloc(list, cap * sizeof *p);
            if (!p) {
                st = tt_error_set(TT_ERR_NOMEM, "lb_student_list: no memory");
                break;
            }
            list = p;
        }
        student_from_row(&list[count++], s);
    }
    if (st == TT_OK && rc != SQLITE_DONE)
        st = sql_error(store, "listing students");
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    if (st != TT_OK) {
        free(list);
        return st;
    }
    *out = list;
    *n = count;
    return TT_OK;
}

/* ---------------------------------------------------------------- submissions */

#define SUBMISSION_ACK_COLUMNS                                                              \
    "seq, id, received_at, course_id, key_id, kind, subject, earned, possible, reached"

/* The acknowledgement of a stored row (the same text whether it was just stored or is
 * being repeated to a client that retried). */
static json_t *submission_ack(sqlite3_stmt *s)
{
    json_t *score = json_null();
    if (sqlite3_column_type(s, 7) != SQLITE_NULL)
        score = json_pack("{s:I, s:I}", "earned", (json_int_t)sqlite3_column_int64(s, 7), "possible",
                          (json_int_t)sqlite3_column_int64(s, 8));
    json_t *reached = sqlite3_column_type(s, 9) == SQLITE_NULL ? json_null()
                                                                : json_boolean(sqlite3_column_int(s, 9));
    return json_pack("{s:b, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "accepted", 1, "id",
                     (const char *)sqlite3_column_text(s, 1), "seq", (json_int_t)sqlite3_column_int64(s, 0),
                     "received_at", (const char *)sqlite3_column_text(s, 2), "course",
                     (const char *)sqlite3_column_text(s, 3), "key_id",
                     (const char *)sqlite3_column_text(s, 4), "kind",
                     (const char *)sqlite3_column_text(s, 5), "subject",
                     (const char *)sqlite3_column_text(s, 6), "score", score, "reached", reached,
                     "status", "self-reported");
}

static tt_status find_ack(lb_store *store, const char *sql, const char *a, const char *b, json_t **ack,
                          bool *found)
{
    sqlite3_stmt *s = NULL;
    *found = false;
    tt_status st = prepare(store, &s, sql);
    if (st != TT_OK)
        return st;
    bind_text(s, 1, a);
    bind_text(s, 2, b);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = true;
        *ack = submission_ack(s);
        if (!*ack)
            st = tt_error_set(TT_ERR_NOMEM, "store: no memory for an acknowledgement");
    } else if (rc != SQLITE_DONE) {
        st = sql_error(store, "reading an acknowledgement");
    }
    sqlite3_finalize(s);
    return st;
}

tt_status lb_submission_find(lb_store *store, const char *key_id, const char *id, json_t **ack, bool *found)
{
    *ack = NULL;
    pthread_mutex_lock(&store->lock);
    tt_status st = find_ack(store, "SELECT " SUBMISSION_ACK_COLUMNS " FROM submissions WHERE key_id = ? AND id = ?",
                            key_id, id, ack, found);
    pthread_mutex_unlock(&store->lock);
    return st;
}

tt_status lb_submission_store(lb_store *store, const lb_submission *sub, const void *envelope,
                              size_t envelope_len, time_t now, json_t **ack, bool *duplicate)
{
    static const char find_sql[] = "SELECT " SUBMISSION_ACK_COLUMNS " FROM submissions WHERE key_id = ? AND id = ?";
    *ack = NULL;
    *duplicate = false;
    char now_text[32];
    lb_time_format(now_text, now);
    sqlite3_stmt *s = NULL;
    bool found = false;
    pthread_mutex_lock(&store->lock);
    /* One statement, so one implicit transaction and one durable commit: either the row
     * and its envelope are stored, or (the id exists) nothing is. */
    tt_status st = prepare(store, &s,
                           "INSERT INTO submissions (key_id, id, course_id, received_at, received_unix, created_at,"
                           " kind, subject, mode, earned, possible, reached, metrics, commit_id, envelope)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                           " ON CONFLICT (key_id, id) DO NOTHING");
    if (st != TT_OK)
        goto cleanup;
    bind_text(s, 1, sub->key_id);
    bind_text(s, 2, sub->id);
    bind_text(s, 3, sub->course_id);
    bind_text(s, 4, now_text);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
    bind_text(s, 6, sub->created_at);
    bind_text(s, 7, sub->kind);
    bind_text(s, 8, sub->subject);
    bind_text(s, 9, sub->mode);
    if (sub->has_score) {
        sqlite3_bind_int64(s, 10, sub->earned);
        sqlite3_bind_int64(s, 11, sub->possible);
    } else {
        sqlite3_bind_null(s, 10);
        sqlite3_bind_null(s, 11);
    }
    if (sub->reached >= 0)
        sqlite3_bind_int(s, 12, sub->reached);
    else
        sqlite3_bind_null(s, 12);
    if (sub->metrics)
        bind_text(s, 13, sub->metrics);
    else
        sqlite3_bind_null(s, 13);
    bind_text(s, 14, sub->commit);
    sqlite3_bind_blob64(s, 15, envelope, (sqlite3_uint64)envelope_len, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) {
        st = sql_error(store, "storing a submission");
        goto cleanup;
    }
    *duplicate = sqlite3_changes(store->db) == 0;
    st = find_ack(store, find_sql, sub->key_id, sub->id, ack, &found);
    if (st == TT_OK && !found)
        st = tt_error_set(TT_ERR_IO, "store: submission %s vanished after it was stored", sub->id);
cleanup:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

static json_t *verification_ack(sqlite3_stmt *s)
{
    return json_pack("{s:b, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "accepted", 1, "id",
                     (const char *)sqlite3_column_text(s, 1), "seq", (json_int_t)sqlite3_column_int64(s, 0),
                     "received_at", (const char *)sqlite3_column_text(s, 2), "student",
                     (const char *)sqlite3_column_text(s, 3), "subject",
                     (const char *)sqlite3_column_text(s, 4), "commit",
                     (const char *)sqlite3_column_text(s, 5), "kind",
                     (const char *)sqlite3_column_text(s, 6), "matched",
                     (json_int_t)sqlite3_column_int64(s, 7));
}

tt_status lb_verification_store(lb_store *store, const lb_verification *v, const void *envelope,
                                size_t envelope_len, time_t now, json_t **ack, bool *duplicate)
{
    *ack = NULL;
    *duplicate = false;
    char now_text[32];
    lb_time_format(now_text, now);
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s,
                           "INSERT INTO verifications (id, course_id, key_id, kind, subject, commit_id, earned,"
                           " possible, reached, received_at, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                           " ON CONFLICT (course_id, id) DO NOTHING");
    if (st != TT_OK)
        goto cleanup;
    bind_text(s, 1, v->id);
    bind_text(s, 2, v->course_id);
    bind_text(s, 3, v->student);
    bind_text(s, 4, v->kind);
    bind_text(s, 5, v->subject);
    bind_text(s, 6, v->commit);
    if (v->reached < 0) {
        sqlite3_bind_int64(s, 7, v->earned);
        sqlite3_bind_int64(s, 8, v->possible);
        sqlite3_bind_null(s, 9);
    } else {
        sqlite3_bind_null(s, 7);
        sqlite3_bind_null(s, 8);
        sqlite3_bind_int(s, 9, v->reached);
    }
    bind_text(s, 10, now_text);
    sqlite3_bind_blob64(s, 11, envelope, (sqlite3_uint64)envelope_len, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) {
        st = sql_error(store, "storing a verification");
        goto cleanup;
    }
    *duplicate = sqlite3_changes(store->db) == 0;
    sqlite3_finalize(s);
    s = NULL;
    TT_CHECK(prepare(store, &s,
                     "SELECT v.seq, v.id, v.received_at, v.key_id, v.subject, v.commit_id, v.kind,"
                     " (SELECT count(*) FROM submissions s WHERE s.key_id = v.key_id AND s.subject = v.subject"
                     "   AND s.commit_id = v.commit_id AND s.course_id = v.course_id)"
                     " FROM verifications v WHERE v.course_id = ? AND v.id = ?"));
    bind_text(s, 1, v->course_id);
    bind_text(s, 2, v->id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        st = sql_error(store, "reading a verification back");
        goto cleanup;
    }
    *ack = verification_ack(s);
    if (!*ack)
        st = tt_error_set(TT_ERR_NOMEM, "store: no memory for an acknowledgement");
cleanup:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

tt_status lb_store_count_submissions(lb_store *store, long *n)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, "SELECT count(*) FROM submissions");
    if (st == TT_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            *n = (long)sqlite3_column_int64(s, 0);
        else
            st = sql_error(store, "counting submissions");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}

/* ---------------------------------------------------------------- for ranking.c */

tt_status lb_store_each_row(lb_store *store, const char *sql, const char *const *args, size_t n_args,
                            lb_row_fn fn, void *ctx)
{
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&store->lock);
    tt_status st = prepare(store, &s, sql);
    int rc = SQLITE_DONE;
    for (size_t i = 0; st == TT_OK && i < n_args; i++)
        bind_text(s, (int)i + 1, args[i]);
    while (st == TT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, s);
    if (st == TT_OK && rc != SQLITE_DONE)
        st = sql_error(store, "reading");
    sqlite3_finalize(s);
    pthread_mutex_unlock(&store->lock);
    return st;
}
