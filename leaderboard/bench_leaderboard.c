/*
 * tt-bench-leaderboard: load on a tito-leaderboard server on loopback, and proof that
 * every acknowledged submission is stored exactly once.
 *
 *   tt-bench-leaderboard [--clients N] [--per-client M] [--threads T] [--crash]
 *                        [--kill-after K] [--json] [--keep DIR]
 *
 * It makes a database with one course and N enrolled students, starts the server
 * (the tito-leaderboard built next to it, or $TITO_LEADERBOARD), and runs N client
 * threads, each sending its M signed submissions one after another over a kept-alive
 * connection, retrying the same envelope on no answer or a server error, as tito's
 * outbox does. It prints accepted submissions per second and the latency of accepted
 * requests (p50, p99, max).
 *
 * --crash kills the server with SIGKILL once K acknowledgements (default: half of
 * all) have arrived, restarts it on the same database, and lets the clients go on.
 *
 * Then, with the server stopped, it opens the database and checks: every id a client
 * saw acknowledged (201, or 409 "duplicate" for a retry whose first answer died with
 * the server) is stored exactly once with the very bytes sent; every id acknowledged
 * before the kill survived it; nothing else is stored. Exit status 0 when all of that
 * holds, 1 when not, 2 usage, 3 when the run itself failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "lb.h"

#ifndef TITO_LEADERBOARD_BIN
#define TITO_LEADERBOARD_BIN "tito-leaderboard"
#endif

typedef struct submission {
    char id[33];
    char *envelope;
    size_t len;
    int acked;      /* 0 not yet, 1 acknowledged (201), 2 acknowledged as duplicate (409) */
    bool acked_before_kill;
    double latency_ms; /* of the request that was acknowledged with 201; < 0 otherwise */
} submission;

typedef struct client {
    int index;
    tito_keypair keys;
    char key_id[TITO_KEY_ID_CHARS + 1];
    submission *subs;
    size_t n;
    size_t retries, failures;
    pthread_t thread;
} client;

static atomic_int server_port;
static atomic_long acked_total;
static atomic_bool server_down;
static long give_up_after_ms = 30000;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------- the server */

typedef struct server {
    pid_t pid;
    char dir[512], db[600], port_file[600], log[600];
    unsigned threads;
} server;

static bool server_start(server *s)
{
    unlink(s->port_file);
    const char *bin = getenv("TITO_LEADERBOARD");
    if (!bin || !*bin)
        bin = TITO_LEADERBOARD_BIN;
    char threads[16];
    snprintf(threads, sizeof threads, "%u", s->threads);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
#if defined(__linux__)
        /* Should this process die without stopping the server, the server goes too. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        char *argv[] = {(char *)bin, "serve", "--db", s->db, "--port", "0", "--port-file", s->port_file, "--log",
                        s->log, "--rate", "0", "--threads", threads, NULL};
        execv(bin, argv);
        _exit(127);
    }
    s->pid = pid;
    /* Bounded: 20 s for the port file to appear. */
    for (int i = 0; i < 2000; i++) {
        FILE *f = fopen(s->port_file, "r");
        if (f) {
            int port = 0;
            bool ok = fscanf(f, "%d", &port) == 1 && port > 0;
            fclose(f);
            if (ok) {
                atomic_store(&server_port, port);
                return true;
            }
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            return false;
        }
        sleep_ms(10);
    }
    return false;
}

static int server_stop(server *s, int sig)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, sig);
    int status = 0;
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
    return status;
}

/* ---------------------------------------------------------------- clients */

static size_t discard(char *data, size_t size, size_t nmemb, void *userp)
{
    (void)data;
    (void)userp;
    return size * nmemb;
}

static void *client_run(void *arg)
{
    client *c = arg;
    CURL *curl = curl_easy_init();
    if (!curl) {
        c->failures = c->n;
        return NULL;
    }
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 2L);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* loopback only: never a proxy */
    for (size_t i = 0; i < c->n; i++) {
        submission *s = &c->subs[i];
        double started = now_ms();
        while (!s->acked) {
            char url[128];
            snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/submissions", atomic_load(&server_port));
            curl_easy_setopt(curl, CURLOPT_URL, url);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, s->envelope);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
            double t0 = now_ms();
            CURLcode rc = curl_easy_perform(curl);
            double t1 = now_ms();
            long status = 0;
            if (rc == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
            if (status == 201 || status == 409) {
                /* 409 only ever comes back for an id this key sent before: a retry of a
                 * request whose answer was lost. */
                s->acked = status == 201 ? 1 : 2;
                s->latency_ms = status == 201 ? t1 - t0 : -1;
                s->acked_before_kill = !atomic_load(&server_down);
                atomic_fetch_add(&acked_total, 1);
                break;
            }
            c->retries++;
            if (rc == CURLE_OK && status != 0 && status < 500) {
                fprintf(stderr, "tt-bench-leaderboard: client %d: HTTP %ld for submission %s\n", c->index, status,
                        s->id);
                c->failures++;
                break;
            }
            if (t1 - started > (double)give_up_after_ms) {
                c->failures++;
                break;
            }
            sleep_ms(20);
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

static bool make_submissions(client *c, const char *course, size_t n)
{
    c->subs = calloc(n, sizeof *c->subs);
    if (!c->subs)
        return false;
    c->n = n;
    char created[32];
    lb_time_format(created, time(NULL));
    for (size_t i = 0; i < n; i++) {
        submission *s = &c->subs[i];
        if (tito_random_hex(s->id, 16) != TT_OK)
            return false;
        char commit[41];
        snprintf(commit, sizeof commit, "%08x%032zx", (unsigned)c->index, i);
        char payload[700];
        snprintf(payload, sizeof payload,
                 "{\"schema\":\"tito-submission/1\",\"id\":\"%s\",\"created_at\":\"%s\",\"course\":\"%s\","
                 "\"receipt\":{\"schema\":\"tito-receipt/1\",\"module\":\"%02zu_bench\",\"mode\":\"grade\","
                 "\"score\":{\"earned\":%zu,\"possible\":100},\"provenance\":{\"commit\":\"%s\"}}}",
                 s->id, created, course, 1 + i % 8, (i * 37 + (size_t)c->index * 11) % 101, commit);
        if (tito_dsse_sign(&s->envelope, &s->len, TITO_DSSE_SUBMISSION_TYPE, payload, strlen(payload), &c->keys) !=
            TT_OK)
            return false;
        s->latency_ms = -1;
    }
    return true;
}

/* ---------------------------------------------------------------- checking */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)((p / 100.0) * (double)(n - 1) + 0.5);
    return sorted[k < n ? k : n - 1];
}

typedef struct verdict {
    long stored, acked, missing, extra, duplicated, mismatched, lost_after_kill;
} verdict;

static bool check_store(const char *db, client *clients, size_t n_clients, verdict *v)
{
    memset(v, 0, sizeof *v);
    sqlite3 *conn = NULL;
    if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "tt-bench-leaderboard: cannot open %s: %s\n", db, sqlite3_errmsg(conn));
        sqlite3_close(conn);
        return false;
    }
    sqlite3_stmt *s = NULL;
    bool ok = true;
    if (sqlite3_prepare_v2(conn, "SELECT count(*) FROM submissions", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v->stored = sqlite3_column_int64(s, 0);
    else
        ok = false;
    sqlite3_finalize(s);
    if (ok && sqlite3_prepare_v2(conn, "SELECT count(*) FROM (SELECT key_id, id FROM submissions GROUP BY key_id, id"
                                       " HAVING count(*) > 1)", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v->duplicated = sqlite3_column_int64(s, 0);
    else
        ok = false;
    sqlite3_finalize(s);
    if (ok && sqlite3_prepare_v2(conn, "SELECT count(*), envelope FROM submissions WHERE key_id = ? AND id = ?", -1,
                                 &s, NULL) != SQLITE_OK)
        ok = false;
    for (size_t c = 0; ok && c < n_clients; c++) {
        for (size_t i = 0; i < clients[c].n; i++) {
            submission *sub = &clients[c].subs[i];
            sqlite3_reset(s);
            sqlite3_bind_text(s, 1, clients[c].key_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, sub->id, -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_ROW) {
                ok = false;
                break;
            }
            long count = sqlite3_column_int64(s, 0);
            if (sub->acked) {
                v->acked++;
                if (count != 1) {
                    v->missing++;
                    if (sub->acked_before_kill)
                        v->lost_after_kill++;
                } else if ((size_t)sqlite3_column_bytes(s, 1) != sub->len ||
                           memcmp(sqlite3_column_blob(s, 1), sub->envelope, sub->len) != 0) {
                    v->mismatched++;
                }
            } else if (count != 0) {
                /* Stored but never acknowledged: only possible when a client gave up. */
                v->extra++;
            }
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(conn);
    return ok;
}

/* ---------------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr, "usage: tt-bench-leaderboard [--clients N] [--per-client M] [--threads T] [--crash] "
                    "[--kill-after K] [--json] [--keep DIR]\n");
    return 2;
}

static bool arg_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    long n_clients = 6, per_client = 500, threads = 4, kill_after = -1;
    bool crash = false, as_json = false;
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--crash") == 0)
            crash = true;
        else if (strcmp(a, "--json") == 0)
            as_json = true;
        else if (strcmp(a, "--clients") == 0 && v && arg_long(v, 1, 64, &n_clients))
            i++;
        else if (strcmp(a, "--per-client") == 0 && v && arg_long(v, 1, 100000, &per_client))
            i++;
        else if (strcmp(a, "--threads") == 0 && v && arg_long(v, 1, 64, &threads))
            i++;
        else if (strcmp(a, "--kill-after") == 0 && v && arg_long(v, 1, 10000000, &kill_after))
            i++, crash = true;
        else if (strcmp(a, "--keep") == 0 && v)
            keep = v, i++;
        else
            return usage();
    }
    long total = n_clients * per_client;
    if (kill_after < 0)
        kill_after = total / 2;
    if (kill_after >= total)
        kill_after = total - 1;
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || tito_crypto_init() != TT_OK) {
        fprintf(stderr, "tt-bench-leaderboard: libcurl or libsodium cannot start\n");
        return 3;
    }

    server srv;
    memset(&srv, 0, sizeof srv);
    srv.threads = (unsigned)threads;
    if (keep) {
        snprintf(srv.dir, sizeof srv.dir, "%s", keep);
        if (mkdir(keep, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "tt-bench-leaderboard: cannot create %s: %s\n", keep, strerror(errno));
            return 3;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(srv.dir, sizeof srv.dir, "%s/tt-bench-leaderboard-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(srv.dir)) {
            fprintf(stderr, "tt-bench-leaderboard: cannot make a temporary folder: %s\n", strerror(errno));
            return 3;
        }
    }
    snprintf(srv.db, sizeof srv.db, "%s/leaderboard.db", srv.dir);
    snprintf(srv.port_file, sizeof srv.port_file, "%s/port", srv.dir);
    snprintf(srv.log, sizeof srv.log, "%s/server.log", srv.dir);
    unlink(srv.db);

    /* Setup straight through the store: a course and one enrolled key per client. */
    client *clients = calloc((size_t)n_clients, sizeof *clients);
    lb_store *store = NULL;
    int rc = 3;
    if (!clients || lb_store_open(&store, srv.db) != TT_OK || lb_course_create(store, "bench", "Benchmark", 0.8) != TT_OK) {
        fprintf(stderr, "tt-bench-leaderboard: setup: %s\n", tt_error_last());
        goto cleanup;
    }
    for (long c = 0; c < n_clients; c++) {
        client *cl = &clients[c];
        cl->index = (int)c;
        char token[48], name[32];
        snprintf(token, sizeof token, "bench-token-%ld", c);
        snprintf(name, sizeof name, "client %ld", c);
        lb_enroll_outcome outcome;
        lb_student st;
        lb_course course;
        if (tito_keypair_generate(&cl->keys) != TT_OK || lb_token_add(store, "bench", token, "", 0) != TT_OK ||
            lb_enroll(store, token, cl->keys.public_key, name, time(NULL), &outcome, &st, &course) != TT_OK ||
            outcome != LB_ENROLLED || !make_submissions(cl, "bench", (size_t)per_client)) {
            fprintf(stderr, "tt-bench-leaderboard: setup of client %ld: %s\n", c, tt_error_last());
            goto cleanup;
        }
        tito_key_id(cl->key_id, cl->keys.public_key);
    }
    lb_store_close(store);
    store = NULL;

    if (!server_start(&srv)) {
        fprintf(stderr, "tt-bench-leaderboard: the server did not start (log: %s)\n", srv.log);
        goto cleanup;
    }
    double t0 = now_ms(), kill_ms = 0, restart_ms = 0;
    for (long c = 0; c < n_clients; c++)
        pthread_create(&clients[c].thread, NULL, client_run, &clients[c]);
    bool killed = false;
    long acked_at_kill = 0;
    if (crash) {
        /* Bounded: the kill comes once enough acknowledgements arrived, or never after
         * 120 s (then the run reports it). */
        for (int i = 0; i < 12000 && atomic_load(&acked_total) < kill_after; i++)
            sleep_ms(10);
        if (atomic_load(&acked_total) >= kill_after) {
            atomic_store(&server_down, true);
            acked_at_kill = atomic_load(&acked_total);
            server_stop(&srv, SIGKILL);
            kill_ms = now_ms() - t0;
            killed = true;
            double r0 = now_ms();
            if (!server_start(&srv)) {
                fprintf(stderr, "tt-bench-leaderboard: the server did not restart after SIGKILL (log: %s)\n", srv.log);
                atomic_store(&server_port, 1);
            }
            restart_ms = now_ms() - r0;
            atomic_store(&server_down, false);
        }
    }
    for (long c = 0; c < n_clients; c++)
        pthread_join(clients[c].thread, NULL);
    double elapsed = now_ms() - t0;
    int stop_status = server_stop(&srv, SIGTERM);

    size_t n_lat = 0, retries = 0, failures = 0, dup_acks = 0;
    double *lat = calloc((size_t)total, sizeof *lat);
    if (!lat)
        goto cleanup;
    for (long c = 0; c < n_clients; c++) {
        retries += clients[c].retries;
        failures += clients[c].failures;
        for (size_t i = 0; i < clients[c].n; i++) {
            if (clients[c].subs[i].latency_ms >= 0)
                lat[n_lat++] = clients[c].subs[i].latency_ms;
            dup_acks += clients[c].subs[i].acked == 2;
        }
    }
    qsort(lat, n_lat, sizeof *lat, cmp_double);
    verdict v;
    bool checked = check_store(srv.db, clients, (size_t)n_clients, &v);
    double rate = elapsed > 0 ? (double)atomic_load(&acked_total) / (elapsed / 1e3) : 0;
    bool pass = checked && failures == 0 && v.missing == 0 && v.extra == 0 && v.duplicated == 0 && v.mismatched == 0 &&
                v.acked == total && v.stored == total && (!crash || killed) && WIFEXITED(stop_status) &&
                WEXITSTATUS(stop_status) == 0;
    if (as_json) {
        printf("{\"schema\": \"tt-bench-leaderboard/1\", \"clients\": %ld, \"per_client\": %ld, \"server_threads\": "
               "%ld, \"submissions\": %ld, \"accepted\": %ld, \"seconds\": %.3f, \"accepted_per_second\": %.1f, "
               "\"latency_ms\": {\"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f, \"n\": %zu}, \"retries\": %zu, "
               "\"crash\": %s, \"killed_after_acks\": %ld, \"acknowledged_as_duplicate\": %zu, \"stored\": %ld, "
               "\"missing\": %ld, \"lost_after_kill\": %ld, \"duplicated\": %ld, \"extra\": %ld, \"mismatched\": %ld, "
               "\"pass\": %s}\n",
               n_clients, per_client, threads, total, atomic_load(&acked_total), elapsed / 1e3, rate,
               percentile(lat, n_lat, 50), percentile(lat, n_lat, 99), n_lat ? lat[n_lat - 1] : 0.0, n_lat, retries,
               crash ? "true" : "false", killed ? acked_at_kill : -1L, dup_acks, v.stored, v.missing,
               v.lost_after_kill, v.duplicated, v.extra, v.mismatched, pass ? "true" : "false");
    } else {
        printf("tt-bench-leaderboard: %ld clients x %ld signed submissions to tito-leaderboard on loopback (%ld "
               "server threads, SQLite WAL, synchronous=FULL)\n",
               n_clients, per_client, threads);
        printf("  accepted      %ld of %ld in %.2f s: %.0f submissions/s\n", atomic_load(&acked_total), total,
               elapsed / 1e3, rate);
        printf("  latency       p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu requests answered 201)\n",
               percentile(lat, n_lat, 50), percentile(lat, n_lat, 99), n_lat ? lat[n_lat - 1] : 0.0, n_lat);
        if (crash && killed)
            printf("  crash         SIGKILL after %ld acknowledgements (%.2f s in), restarted in %.0f ms; %zu retries, "
                   "%zu acknowledged as duplicates (stored before the kill, answer lost)\n",
                   acked_at_kill, kill_ms / 1e3, restart_ms, retries, dup_acks);
        else if (crash)
            printf("  crash         the kill never happened: fewer than %ld acknowledgements arrived\n", kill_after);
        printf("  store         %ld rows; acknowledged %ld, missing %ld (of which acknowledged before the kill %ld), "
               "duplicated %ld, unacknowledged but stored %ld, bytes differing %ld\n",
               v.stored, v.acked, v.missing, v.lost_after_kill, v.duplicated, v.extra, v.mismatched);
        printf("  %s\n", pass ? "PASS: every acknowledged submission is stored exactly once, as sent"
                              : "FAIL: see the figures above");
        if (!checked)
            printf("  (the database could not be checked: %s)\n", srv.db);
    }
    free(lat);
    rc = pass ? 0 : 1;
cleanup:
    if (srv.pid > 0)
        server_stop(&srv, SIGKILL);
    lb_store_close(store);
    for (long c = 0; clients && c < n_clients; c++) {
        for (size_t i = 0; i < clients[c].n; i++)
            free(clients[c].subs[i].envelope);
        free(clients[c].subs);
        tito_keypair_wipe(&clients[c].keys);
    }
    free(clients);
    if (!keep && rc == 0) {
        char path[700];
        const char *files[] = {"leaderboard.db", "leaderboard.db-wal", "leaderboard.db-shm", "port", "server.log"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", srv.dir, files[i]);
            unlink(path);
        }
        rmdir(srv.dir);
    } else if (rc != 0) {
        fprintf(stderr, "tt-bench-leaderboard: files kept in %s\n", srv.dir);
    }
    curl_global_cleanup();
    return rc;
}
