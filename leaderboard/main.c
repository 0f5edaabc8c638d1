/*
 * tito-leaderboard: the course leaderboard server and its administration, one program.
 *
 *   tito-leaderboard serve --db PATH [--port N] ...      run the server until SIGTERM
 *   tito-leaderboard migrate --db PATH                   create or upgrade the database
 *   tito-leaderboard course create --db PATH ID --title T
 *   tito-leaderboard course list --db PATH
 *   tito-leaderboard course key --db PATH ID [--generate FILE | --set KEY]
 *   tito-leaderboard token issue --db PATH --course ID [--count N] [LABEL...]
 *   tito-leaderboard key list|revoke|restore ...
 *   tito-leaderboard backup --db PATH FILE
 *   tito-leaderboard sign-verification --key FILE ...   a verification envelope, for the API
 *
 * One table of commands, each with declared options (which also make its --help), as
 * tito does. Exit status: 0 done, 1 refused (the thing exists, or does not), 2 usage,
 * 3 files or the database, 4 malformed input. docs/leaderboard.md says how to run a
 * course with it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_IO = 3, EXIT_DATA = 4 };

/* ---------------------------------------------------------------- options */

typedef enum opt_kind { OPT_END, OPT_BOOL, OPT_STRING } opt_kind;

typedef struct opt {
    opt_kind kind;
    const char *name;
    void *value; /* bool * or const char ** */
    const char *value_name;
    const char *help;
    bool hidden;
} opt;

typedef struct command {
    const char *name; /* one or two words */
    int (*run)(const struct command *cmd, int argc, char **argv);
    const char *args;
    const char *summary;
} command;

static void usage_line(FILE *f, const command *cmd)
{
    fprintf(f, "usage: tito-leaderboard %s %s\n", cmd->name, cmd->args);
}

/* Parse --name VALUE / --name=VALUE / --flag; the rest stay in argv[0..*argc) in order.
 * Returns -1 to go on, else an exit status (after --help or an error). */
static int parse(const command *cmd, int *argc, char **argv, const opt *opts)
{
    int out = 0;
    bool only_args = false;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0') {
            argv[out++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage_line(stdout, cmd);
            printf("\n%s.\n\noptions:\n", cmd->summary);
            for (const opt *o = opts; o && o->kind != OPT_END; o++) {
                if (o->hidden)
                    continue;
                char left[64];
                snprintf(left, sizeof left, "--%s%s%s", o->name, o->value_name ? " " : "",
                         o->value_name ? o->value_name : "");
                printf("  %-24s %s\n", left, o->help);
            }
            printf("  %-24s %s\n", "--help", "show this help");
            return 0;
        }
        const opt *o = NULL;
        size_t name_len = strcspn(a + 2, "=");
        for (const opt *p = opts; p && p->kind != OPT_END; p++)
            if (a[0] == '-' && a[1] == '-' && strlen(p->name) == name_len && strncmp(p->name, a + 2, name_len) == 0)
                o = p;
        if (!o) {
            fprintf(stderr, "tito-leaderboard: error: unknown option '%s'\n", a);
            usage_line(stderr, cmd);
            return EXIT_USAGE;
        }
        if (o->kind == OPT_BOOL) {
            *(bool *)o->value = true;
            continue;
        }
        const char *eq = strchr(a, '=');
        if (eq) {
            *(const char **)o->value = eq + 1;
        } else if (i + 1 < *argc) {
            *(const char **)o->value = argv[++i];
        } else {
            fprintf(stderr, "tito-leaderboard: error: --%s needs a value (%s)\n", o->name, o->value_name);
            return EXIT_USAGE;
        }
    }
    *argc = out;
    return -1;
}

static int fail(tt_status st)
{
    fprintf(stderr, "tito-leaderboard: error: %s\n", tt_error_last());
    switch (st) {
    case TT_ERR_STATE: return EXIT_REFUSED;
    case TT_ERR_FORMAT: return EXIT_DATA;
    case TT_ERR_INVALID_ARG: return EXIT_USAGE;
    default: return EXIT_IO;
    }
}

static int usage_error(const command *cmd, const char *message)
{
    fprintf(stderr, "tito-leaderboard: error: %s\n", message);
    usage_line(stderr, cmd);
    return EXIT_USAGE;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

static int open_store(const command *cmd, const char *db, lb_store **store)
{
    if (!db)
        return usage_error(cmd, "which database? --db PATH");
    tt_status st = lb_store_open(store, db);
    return st == TT_OK ? -1 : fail(st);
}

/* ---------------------------------------------------------------- serve */

static int cmd_serve(const command *cmd, int argc, char **argv)
{
    lb_config config = LB_CONFIG_INIT;
    const char *db = NULL, *port = NULL, *listen = NULL, *port_file = NULL, *log = NULL, *max_body = NULL,
               *rate = NULL, *burst = NULL, *max_age = NULL, *threads = NULL, *drop_acks = NULL;
    bool trust_proxy = false;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the SQLite database (created if missing)", false},
        {OPT_STRING, "port", &port, "N", "the TCP port (default 8080; 0: any free port)", false},
        {OPT_STRING, "listen", &listen, "ADDR", "the address to listen on (default 127.0.0.1: put a TLS "
                                                "reverse proxy in front)", false},
        {OPT_STRING, "port-file", &port_file, "FILE", "write the port listened on to FILE once listening", false},
        {OPT_STRING, "log", &log, "FILE", "append the request log to FILE (default: standard error)", false},
        {OPT_STRING, "max-body", &max_body, "BYTES", "the largest request body accepted (default 1048576)", false},
        {OPT_STRING, "rate", &rate, "R", "submissions per second each key earns (default 1; 0: no limit)", false},
        {OPT_STRING, "burst", &burst, "B", "submissions a key may save up (default 30)", false},
        {OPT_STRING, "max-age-days", &max_age, "D", "refuse submissions made more than D days ago (default 90)",
         false},
        {OPT_STRING, "threads", &threads, "N", "request threads (default 4)", false},
        {OPT_BOOL, "trust-proxy", &trust_proxy, NULL, "log the client from X-Forwarded-For (behind a reverse proxy)",
         false},
        {OPT_STRING, "drop-acks", &drop_acks, "N", "tests only: close the connection instead of answering the first N "
                                                   "accepted submissions", true},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (argc > 0)
        return usage_error(cmd, "serve takes no arguments");
    if (!db)
        return usage_error(cmd, "which database? --db PATH");
    long n = 0;
    double d = 0;
    config.db_path = db;
    if (listen)
        config.listen = listen;
    config.port_file = port_file;
    config.log_path = log;
    config.trust_proxy = trust_proxy;
    if (port) {
        if (!parse_long(port, 0, 65535, &n))
            return usage_error(cmd, "--port: expected a number from 0 to 65535");
        config.port = (int)n;
    }
    if (max_body) {
        if (!parse_long(max_body, 1024, 64L * 1024 * 1024, &n))
            return usage_error(cmd, "--max-body: expected a number of bytes from 1024 to 67108864");
        config.max_body = (size_t)n;
    }
    if (rate) {
        if (!parse_double(rate, 0, 1e9, &d))
            return usage_error(cmd, "--rate: expected a number of submissions per second (0: no limit)");
        config.rate = d;
    }
    if (burst) {
        if (!parse_double(burst, 1, 1e9, &d))
            return usage_error(cmd, "--burst: expected a number of at least 1");
        config.burst = d;
    }
    if (max_age) {
        if (!parse_long(max_age, 1, 36500, &n))
            return usage_error(cmd, "--max-age-days: expected a number of days from 1 to 36500");
        config.max_age_s = n * 86400;
    }
    if (threads) {
        if (!parse_long(threads, 1, 256, &n))
            return usage_error(cmd, "--threads: expected a number from 1 to 256");
        config.threads = (unsigned)n;
    }
    if (drop_acks) {
        if (!parse_long(drop_acks, 0, 1000000, &n))
            return usage_error(cmd, "--drop-acks: expected a number");
        config.drop_acks = n;
    }
    tt_status s = lb_serve(&config);
    return s == TT_OK ? 0 : fail(s);
}

static int cmd_migrate(const command *cmd, int argc, char **argv)
{
    const char *db = NULL;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the SQLite database (created if missing)", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    printf("%s: schema version %d\n", db, lb_store_schema_version(store));
    lb_store_close(store);
    return 0;
}

/* ---------------------------------------------------------------- courses */

static int cmd_course_create(const command *cmd, int argc, char **argv)
{
    const char *db = NULL, *title = NULL, *pass_bar = NULL;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the database", false},
        {OPT_STRING, "title", &title, "TITLE", "the course's title as the page shows it (default: the id)", false},
        {OPT_STRING, "pass-bar", &pass_bar, "F", "the share of a module's points that passes it, for the pass-rate "
                                                 "chart (default 0.8)", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (argc != 1)
        return usage_error(cmd, "which course? give its id, e.g. tinytorch-c-2026");
    const char *id = argv[0];
    if (!lb_valid_course_id(id))
        return usage_error(cmd, "a course id is 1 to 64 characters: lowercase letters, digits, and . _ - after "
                                "the first");
    if (title && (!*title || !lb_valid_text(title, 200)))
        return usage_error(cmd, "--title: 1 to 200 characters, no control characters");
    double bar = 0.8;
    if (pass_bar && !parse_double(pass_bar, 0.01, 1, &bar))
        return usage_error(cmd, "--pass-bar: expected a number in (0, 1]");
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    tt_status s = lb_course_create(store, id, title ? title : id, bar);
    lb_store_close(store);
    if (s != TT_OK)
        return fail(s);
    printf("created course %s\n", id);
    return 0;
}

static int cmd_course_list(const command *cmd, int argc, char **argv)
{
    const char *db = NULL;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the database", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    lb_course *courses = NULL;
    size_t n = 0;
    tt_status s = lb_course_list(store, &courses, &n);
    for (size_t i = 0; s == TT_OK && i < n; i++)
        printf("%s\t%s\tpass bar %.2f\tcourse key %s\n", courses[i].id, courses[i].title, courses[i].pass_bar,
               courses[i].has_verify_key ? courses[i].verify_key_id : "(none)");
    free(courses);
    lb_store_close(store);
    return s == TT_OK ? 0 : fail(s);
}

/* The course key's secret goes to a new file (never over an existing one), mode 0600. */
static tt_status write_course_key(const char *path, const char *course, const tito_keypair *kp)
{
    char key_id[TITO_KEY_ID_CHARS + 1];
    tito_key_id(key_id, kp->public_key);
    char *pub = NULL, *seed = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tito_base64_encode(&pub, NULL, kp->public_key, TITO_PUBLIC_KEY_BYTES));
    TT_CHECK(tito_base64_encode(&seed, NULL, kp->secret_key, 32));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        st = tt_error_set(errno == EEXIST ? TT_ERR_STATE : TT_ERR_IO, "cannot create %s: %s%s", path, strerror(errno),
                          errno == EEXIST ? " (a course key is never written over another)" : "");
        goto cleanup;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        st = tt_error_set(TT_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        goto cleanup;
    }
    fprintf(f, "{\"schema\": \"tito-course-key/1\", \"course\": \"%s\", \"key_id\": \"%s\", \"public_key\": \"%s\", "
               "\"seed\": \"%s\"}\n",
            course, key_id, pub, seed);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        st = tt_error_set(TT_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (fclose(f) != 0)
        st = tt_error_set(TT_ERR_IO, "cannot write %s: %s", path, strerror(errno));
cleanup:
    free(pub);
    if (seed)
        memset(seed, 0, strlen(seed));
    free(seed);
    return st;
}

static int cmd_course_key(const command *cmd, int argc, char **argv)
{
    const char *db = NULL, *generate = NULL, *set = NULL;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the database", false},
        {OPT_STRING, "generate", &generate, "FILE", "make a new course key: its secret goes to FILE (mode 0600, "
                                                    "for the grading machine), its public half to the database",
         false},
        {OPT_STRING, "set", &set, "KEY", "use this public key (base64, 32 bytes) as the course key", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (argc != 1)
        return usage_error(cmd, "which course? give its id");
    if (generate && set)
        return usage_error(cmd, "--generate and --set: one or the other");
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    lb_course course;
    bool found = false;
    tito_keypair kp;
    memset(&kp, 0, sizeof kp);
    tt_status s = lb_course_get(store, argv[0], &course, &found);
    if (s == TT_OK && !found)
        s = tt_error_set(TT_ERR_STATE, "no course %s (tito-leaderboard course list)", argv[0]);
    if (s == TT_OK && generate) {
        s = tito_keypair_generate(&kp);
        if (s == TT_OK)
            s = write_course_key(generate, course.id, &kp);
        if (s == TT_OK)
            s = lb_course_set_key(store, course.id, kp.public_key);
        if (s != TT_OK && s != TT_ERR_STATE)
            unlink(generate);
    } else if (s == TT_OK && set) {
        unsigned char *raw = NULL;
        size_t raw_len = 0;
        s = tito_base64_decode(&raw, &raw_len, set, strlen(set));
        if (s == TT_OK && raw_len != TITO_PUBLIC_KEY_BYTES)
            s = tt_error_set(TT_ERR_FORMAT, "--set: %zu bytes, an Ed25519 public key has 32", raw_len);
        if (s == TT_OK)
            s = lb_course_set_key(store, course.id, raw);
        free(raw);
    }
    if (s == TT_OK)
        s = lb_course_get(store, argv[0], &course, &found);
    tito_keypair_wipe(&kp);
    lb_store_close(store);
    if (s != TT_OK)
        return fail(s);
    if (!course.has_verify_key) {
        printf("course %s has no course key: --generate FILE makes one\n", course.id);
        return EXIT_REFUSED;
    }
    char *pub = NULL;
    if (tito_base64_encode(&pub, NULL, course.verify_key, TITO_PUBLIC_KEY_BYTES) != TT_OK)
        return fail(TT_ERR_NOMEM);
    printf("course %s\nkey id %s\npublic key %s\n", course.id, course.verify_key_id, pub);
    if (generate)
        printf("secret in %s (mode 0600): keep it on the grading machine only\n", generate);
    free(pub);
    return 0;
}

/* ---------------------------------------------------------------- tokens */

static int cmd_token_issue(const command *cmd, int argc, char **argv)
{
    const char *db = NULL, *course = NULL, *count = NULL, *expires = NULL;
    bool as_json = false;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the database", false},
        {OPT_STRING, "course", &course, "ID", "the course the tokens enroll in", false},
        {OPT_STRING, "count", &count, "N", "issue N unlabelled tokens (default 1 when no LABEL is given)", false},
        {OPT_STRING, "expires-days", &expires, "D", "the tokens stop working after D days (default: never)", false},
        {OPT_BOOL, "json", &as_json, NULL, "print JSON lines {\"token\", \"label\"} instead of text", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (!course)
        return usage_error(cmd, "which course? --course ID");
    long n_unlabelled = argc == 0 ? 1 : 0, days = 0;
    if (count && !parse_long(count, 1, 10000, &n_unlabelled))
        return usage_error(cmd, "--count: expected a number from 1 to 10000");
    if (expires && !parse_long(expires, 1, 3650, &days))
        return usage_error(cmd, "--expires-days: expected a number from 1 to 3650");
    for (int i = 0; i < argc; i++)
        if (!lb_valid_text(argv[i], 200) || !*argv[i])
            return usage_error(cmd, "a LABEL is 1 to 200 characters, no control characters");
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    lb_course c;
    bool found = false;
    tt_status s = lb_course_get(store, course, &c, &found);
    if (s == TT_OK && !found)
        s = tt_error_set(TT_ERR_STATE, "no course %s (tito-leaderboard course list)", course);
    time_t expiry = days ? time(NULL) + days * 86400 : 0;
    long total = argc + n_unlabelled;
    for (long i = 0; s == TT_OK && i < total; i++) {
        const char *label = i < argc ? argv[i] : "";
        char hex[33], token[40];
        s = tito_random_hex(hex, 16);
        if (s != TT_OK)
            break;
        snprintf(token, sizeof token, LB_TOKEN_PREFIX "%s", hex);
        s = lb_token_add(store, course, token, label, expiry);
        if (s != TT_OK)
            break;
        if (as_json) {
            json_t *line = json_pack("{s:s, s:s, s:s}", "token", token, "label", label, "course", course);
            char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
            printf("%s\n", text ? text : "{}");
            free(text);
            json_decref(line);
        } else {
            printf("%s%s%s\n", token, *label ? "\t" : "", label);
        }
    }
    lb_store_close(store);
    return s == TT_OK ? 0 : fail(s);
}

/* ---------------------------------------------------------------- keys */

static int cmd_key_list(const command *cmd, int argc, char **argv)
{
    const char *db = NULL, *course = NULL;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the database", false},
        {OPT_STRING, "course", &course, "ID", "the course", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (!course)
        return usage_error(cmd, "which course? --course ID");
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    lb_student *list = NULL;
    size_t n = 0;
    tt_status s = lb_student_list(store, course, &list, &n);
    for (size_t i = 0; s == TT_OK && i < n; i++)
        printf("%s\t%s\t%s\tenrolled %s%s\n", list[i].key_id, list[i].name, list[i].label, list[i].enrolled_at,
               list[i].revoked ? "\tREVOKED" : "");
    free(list);
    lb_store_close(store);
    return s == TT_OK ? 0 : fail(s);
}

static int key_revoke(const command *cmd, int argc, char **argv, bool revoke)
{
    const char *db = NULL;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the database", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (argc != 1 || !lb_valid_hex(argv[0], TITO_KEY_ID_CHARS, TITO_KEY_ID_CHARS))
        return usage_error(cmd, "which key? its key id (64 hex digits; `key list` shows them)");
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    bool found = false;
    tt_status s = lb_student_revoke(store, argv[0], revoke, time(NULL), &found);
    lb_store_close(store);
    if (s != TT_OK)
        return fail(s);
    if (!found) {
        fprintf(stderr, "tito-leaderboard: error: no key %s\n", argv[0]);
        return EXIT_REFUSED;
    }
    printf("%s key %.16s...\n", revoke ? "revoked" : "restored", argv[0]);
    return 0;
}

static int cmd_key_revoke(const command *cmd, int argc, char **argv)
{
    return key_revoke(cmd, argc, argv, true);
}

static int cmd_key_restore(const command *cmd, int argc, char **argv)
{
    return key_revoke(cmd, argc, argv, false);
}

static int cmd_backup(const command *cmd, int argc, char **argv)
{
    const char *db = NULL;
    const opt opts[] = {
        {OPT_STRING, "db", &db, "PATH", "the database (may be in use by a running server)", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (argc != 1)
        return usage_error(cmd, "where to? give the backup's file name");
    if (access(argv[0], F_OK) == 0)
        return usage_error(cmd, "the backup file exists already: give a new name");
    lb_store *store = NULL;
    if ((st = open_store(cmd, db, &store)) >= 0)
        return st;
    tt_status s = lb_store_backup(store, argv[0]);
    lb_store_close(store);
    if (s != TT_OK)
        return fail(s);
    printf("backed up %s to %s\n", db, argv[0]);
    return 0;
}

/* ---------------------------------------------------------------- verifications */

static tt_status read_course_key(const char *path, tito_keypair *kp, char *course, size_t size)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return tt_error_set(TT_ERR_FORMAT, "%s: %s", path, jerr.text);
    json_t *seed = json_object_get(root, "seed"), *c = json_object_get(root, "course");
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    tt_status st = TT_OK;
    if (!json_is_string(seed) || !json_is_string(c) ||
        tito_base64_decode(&raw, &raw_len, json_string_value(seed), json_string_length(seed)) != TT_OK ||
        raw_len != 32) {
        st = tt_error_set(TT_ERR_FORMAT, "%s: not a course key file (tito-course-key/1)", path);
    } else {
        snprintf(course, size, "%s", json_string_value(c));
        st = tito_keypair_from_seed(kp, raw);
    }
    if (raw)
        memset(raw, 0, raw_len);
    free(raw);
    json_decref(root);
    return st;
}

static int cmd_sign_verification(const command *cmd, int argc, char **argv)
{
    const char *key = NULL, *student = NULL, *subject = NULL, *commit = NULL, *earned = NULL, *possible = NULL,
               *reached = NULL;
    const opt opts[] = {
        {OPT_STRING, "key", &key, "FILE", "the course key file (course key --generate)", false},
        {OPT_STRING, "student", &student, "KEY_ID", "the student's key id", false},
        {OPT_STRING, "subject", &subject, "SLUG", "the module or milestone, e.g. 01_tensor", false},
        {OPT_STRING, "commit", &commit, "SHA", "the commit the instructor graded", false},
        {OPT_STRING, "earned", &earned, "N", "a module: the points the instructor's run gave", false},
        {OPT_STRING, "possible", &possible, "N", "a module: out of", false},
        {OPT_STRING, "reached", &reached, "yes|no", "a milestone: whether the instructor's run reached it", false},
        {OPT_END, NULL, NULL, NULL, NULL, false},
    };
    int st = parse(cmd, &argc, argv, opts);
    if (st >= 0)
        return st;
    if (!key || !student || !subject || !commit)
        return usage_error(cmd, "--key, --student, --subject and --commit are needed");
    long e = 0, p = 0;
    bool milestone = reached != NULL;
    if (milestone ? (strcmp(reached, "yes") != 0 && strcmp(reached, "no") != 0)
                  : (!earned || !possible || !parse_long(earned, 0, 100000, &e) || !parse_long(possible, 0, 100000, &p)))
        return usage_error(cmd, "a module needs --earned N --possible N; a milestone --reached yes|no");
    tito_keypair kp;
    char course[LB_COURSE_ID_MAX + 1];
    tt_status s = read_course_key(key, &kp, course, sizeof course);
    if (s != TT_OK)
        return fail(s);
    char id[33], now[32];
    s = tito_random_hex(id, 16);
    lb_time_format(now, time(NULL));
    json_t *payload = milestone ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "schema",
                                            LB_VERIFICATION_SCHEMA, "id", id, "created_at", now, "course", course,
                                            "student", student, "kind", "milestone", "subject", subject, "commit",
                                            commit, "reached", strcmp(reached, "yes") == 0)
                                : json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i}}", "schema",
                                            LB_VERIFICATION_SCHEMA, "id", id, "created_at", now, "course", course,
                                            "student", student, "kind", "module", "subject", subject, "commit",
                                            commit, "score", "earned", (int)e, "possible", (int)p);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL, *env = NULL;
    if (s == TT_OK && !text)
        s = tt_error_set(TT_ERR_NOMEM, "no memory");
    if (s == TT_OK)
        s = tito_dsse_sign(&env, NULL, TITO_DSSE_VERIFICATION_TYPE, text, strlen(text), &kp);
    if (s == TT_OK)
        printf("%s\n", env);
    tito_keypair_wipe(&kp);
    free(env);
    free(text);
    json_decref(payload);
    return s == TT_OK ? 0 : fail(s);
}

/* ---------------------------------------------------------------- dispatch */

static const command commands[] = {
    {"serve", cmd_serve, "--db PATH [--port N] [--listen ADDR] [--port-file FILE] [--log FILE] [...]",
     "run the leaderboard server until SIGTERM or SIGINT"},
    {"migrate", cmd_migrate, "--db PATH", "create the database, or bring its schema up to date"},
    {"course create", cmd_course_create, "--db PATH ID [--title TITLE] [--pass-bar F]", "add a course"},
    {"course list", cmd_course_list, "--db PATH", "list the courses"},
    {"course key", cmd_course_key, "--db PATH ID [--generate FILE | --set KEY]",
     "show, make or set the course key that signs verifications"},
    {"token issue", cmd_token_issue, "--db PATH --course ID [--count N] [--expires-days D] [--json] [LABEL...]",
     "issue one-time enrollment tokens (one per LABEL, e.g. a student's name or email)"},
    {"key list", cmd_key_list, "--db PATH --course ID", "list the enrolled keys of a course"},
    {"key revoke", cmd_key_revoke, "--db PATH KEY_ID", "refuse this key's submissions and leave it out of the ranking"},
    {"key restore", cmd_key_restore, "--db PATH KEY_ID", "undo a revocation"},
    {"backup", cmd_backup, "--db PATH FILE", "copy the database to FILE, safely while the server runs"},
    {"sign-verification", cmd_sign_verification,
     "--key FILE --student KEY_ID --subject SLUG --commit SHA (--earned N --possible N | --reached yes|no)",
     "print a verification envelope signed with the course key (POST it to /api/v1/verifications)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_help(FILE *f)
{
    fprintf(f, "usage: tito-leaderboard <command> [<args>]\n\nThe TinyTorch-C course leaderboard: a server and its "
               "administration.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`tito-leaderboard <command> --help` shows a command's options. docs/leaderboard.md says how to run a "
               "course.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tito-leaderboard %s\n", LB_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const command *c = &commands[i];
        const char *space = strchr(c->name, ' ');
        int words = space ? 2 : 1;
        if (words == 1 ? strcmp(argv[1], c->name) != 0
                       : (argc < 3 || strncmp(argv[1], c->name, (size_t)(space - c->name)) != 0 ||
                          argv[1][space - c->name] != '\0' || strcmp(argv[2], space + 1) != 0))
            continue;
        if (tito_crypto_init() != TT_OK)
            return fail(TT_ERR_STATE);
        return c->run(c, argc - 1 - words, argv + 1 + words);
    }
    fprintf(stderr, "tito-leaderboard: error: no command '%s%s%s'\n", argv[1], argc > 2 && argv[2][0] != '-' ? " " : "",
            argc > 2 && argv[2][0] != '-' ? argv[2] : "");
    print_help(stderr);
    return EXIT_USAGE;
}
