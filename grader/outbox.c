/*
 * The outbox of signed submissions (grader/outbox.h). An entry is a JSON file
 * (schema tito-outbox/1) holding the envelope text exactly as it will be sent, so a
 * retry sends the same bytes, with the same submission id, as the first attempt.
 */
#define _POSIX_C_SOURCE 200809L

#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

#define OUTBOX_SCHEMA "tito-outbox/1"

static tt_status path_join(char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size)
        return tt_error_set(TT_ERR_IO, "path too long: %s/%s", a, b);
    return TT_OK;
}

static tt_status make_private_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return tt_error_set(TT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    return TT_OK;
}

static tt_status sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        return tt_error_set(TT_ERR_IO, "cannot open %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return tt_error_set(TT_ERR_IO, "cannot sync %s: %s", dir, strerror(errno));
    return TT_OK;
}

tt_status tito_outbox_open(tito_outbox *box, const char *data_dir)
{
    memset(box, 0, sizeof *box);
    box->lock_fd = -1;
    int n;
    if (data_dir) {
        n = snprintf(box->root, sizeof box->root, "%s", data_dir);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && xdg[0] == '/')
            n = snprintf(box->root, sizeof box->root, "%s/tito", xdg);
        else if (home && *home)
            n = snprintf(box->root, sizeof box->root, "%s/.local/share/tito", home);
        else
            return tt_error_set(TT_ERR_STATE, "neither XDG_DATA_HOME nor HOME is set: tito does not know where to "
                                              "keep the outbox");
    }
    if (n < 0 || (size_t)n >= sizeof box->root - 64)
        return tt_error_set(TT_ERR_IO, "the outbox's path is too long");
    char path[4200];
    tt_status st = TT_OK;
    /* The parents are ordinary folders; ours are private (envelopes name the student). */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", box->root);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        TT_CHECK(tito_mkdirs(parent));
    }
    TT_CHECK(make_private_dir(box->root));
    TT_CHECK(path_join(path, sizeof path, box->root, "outbox"));
    TT_CHECK(make_private_dir(path));
    TT_CHECK(path_join(path, sizeof path, box->root, "outbox/rejected"));
    TT_CHECK(make_private_dir(path));
    TT_CHECK(path_join(path, sizeof path, box->root, "outbox.lock"));
    box->lock_fd = open(path, O_RDWR | O_CREAT, 0600);
    if (box->lock_fd < 0)
        return tt_error_set(TT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    while (fcntl(box->lock_fd, F_SETLKW, &fl) != 0) {
        if (errno != EINTR) {
            st = tt_error_set(TT_ERR_IO, "cannot lock %s: %s", path, strerror(errno));
            close(box->lock_fd);
            box->lock_fd = -1;
            return st;
        }
    }
cleanup:
    return st;
}

void tito_outbox_close(tito_outbox *box)
{
    if (box->lock_fd >= 0)
        close(box->lock_fd); /* closing releases the lock */
    box->lock_fd = -1;
}

void tito_outbox_entries_free(tito_outbox_entry *entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++)
        free(entries[i].envelope);
    free(entries);
}

/* ---------------------------------------------------------------- adding */

tt_status tito_outbox_add(tito_outbox *box, tito_outbox_entry *entry)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    time_t t = ts.tv_sec;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    char name[128];
    /* Names sort by queueing time (nanoseconds apart within one run). */
    snprintf(name, sizeof name, "outbox/%sZ%09ld-%.32s.json", stamp, (long)ts.tv_nsec, entry->id);
    tt_status st = path_join(entry->file, sizeof entry->file, box->root, name);
    if (st != TT_OK)
        return st;
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s%}", "schema", OUTBOX_SCHEMA, "id", entry->id,
                             "url", entry->url, "key_id", entry->key_id, "subject", entry->subject,
                             "receipt_sha256", entry->receipt_sha256, "queued_at", entry->queued_at, "envelope",
                             entry->envelope, entry->envelope_len);
    char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    json_decref(root);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "tito_outbox_add: no memory");
    st = tito_file_write_atomic(entry->file, text, strlen(text), 0600);
    free(text);
    return st;
}

/* ---------------------------------------------------------------- listing */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static tt_status read_entry(tito_outbox_entry *e, const char *path)
{
    memset(e, 0, sizeof *e);
    snprintf(e->file, sizeof e->file, "%s", path);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    tt_status st = TT_OK;
    struct {
        const char *name;
        char *dst;
        size_t size;
    } fields[] = {
        {"id", e->id, sizeof e->id},
        {"url", e->url, sizeof e->url},
        {"key_id", e->key_id, sizeof e->key_id},
        {"subject", e->subject, sizeof e->subject},
        {"receipt_sha256", e->receipt_sha256, sizeof e->receipt_sha256},
        {"queued_at", e->queued_at, sizeof e->queued_at},
    };
    json_t *schema = json_object_get(root, "schema");
    json_t *env = json_object_get(root, "envelope");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), OUTBOX_SCHEMA) != 0 || !json_is_string(env)) {
        st = tt_error_set(TT_ERR_FORMAT, "%s: not an outbox entry", path);
        goto cleanup;
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *v = json_object_get(root, fields[i].name);
        if (!json_is_string(v) || json_string_length(v) >= fields[i].size) {
            st = tt_error_set(TT_ERR_FORMAT, "%s: %s: missing or too long", path, fields[i].name);
            goto cleanup;
        }
        memcpy(fields[i].dst, json_string_value(v), json_string_length(v) + 1);
    }
    e->envelope_len = json_string_length(env);
    e->envelope = malloc(e->envelope_len + 1);
    if (!e->envelope) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_outbox_list: no memory");
        goto cleanup;
    }
    memcpy(e->envelope, json_string_value(env), e->envelope_len + 1);
cleanup:
    json_decref(root);
    return st;
}

/* The names of the entry files, sorted: a new array of new strings. */
static tt_status entry_names(tito_outbox *box, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char dir_path[4200];
    tt_status st = path_join(dir_path, sizeof dir_path, box->root, "outbox");
    if (st != TT_OK)
        return st;
    DIR *dir = opendir(dir_path);
    if (!dir)
        return tt_error_set(TT_ERR_IO, "cannot read %s: %s", dir_path, strerror(errno));
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        /* Temporaries of atomic writes end in .tmp-XXXXXX, not .json. */
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                st = tt_error_set(TT_ERR_NOMEM, "tito_outbox_list: no memory");
                break;
            }
            names = p;
        }
        names[count] = malloc(len + 1);
        if (!names[count]) {
            st = tt_error_set(TT_ERR_NOMEM, "tito_outbox_list: no memory");
            break;
        }
        memcpy(names[count++], de->d_name, len + 1);
    }
    closedir(dir);
    if (st != TT_OK) {
        for (size_t i = 0; i < count; i++)
            free(names[i]);
        free(names);
        return st;
    }
    qsort(names, count, sizeof *names, cmp_names);
    *out = names;
    *n = count;
    return TT_OK;
}

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static tt_status append_line(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
        return tt_error_set(TT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t len = strlen(line);
    tt_status st = TT_OK;
    const char *p = line;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            st = tt_error_set(TT_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (st == TT_OK && fsync(fd) != 0)
        st = tt_error_set(TT_ERR_IO, "cannot sync %s: %s", path, strerror(errno));
    close(fd);
    return st;
}

static tt_status move_to_rejected(tito_outbox *box, const char *file, const char *reason, const char *id)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char dest[4800], log_path[4200];
    tt_status st = TT_OK;
    snprintf(dest, sizeof dest, "%s/outbox/rejected/%s", box->root, base);
    TT_CHECK(path_join(log_path, sizeof log_path, box->root, "outbox/rejected/reasons.jsonl"));
    json_t *line = json_pack("{s:s, s:s, s:s}", "file", base, "id", id, "reason", reason);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_outbox_reject: no memory");
        goto cleanup;
    }
    size_t n = strlen(text);
    char *with_nl = realloc(text, n + 2);
    if (!with_nl) {
        free(text);
        st = tt_error_set(TT_ERR_NOMEM, "tito_outbox_reject: no memory");
        goto cleanup;
    }
    with_nl[n] = '\n';
    with_nl[n + 1] = '\0';
    st = append_line(log_path, with_nl);
    free(with_nl);
    if (st != TT_OK)
        goto cleanup;
    if (rename(file, dest) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot move %s to %s: %s", file, dest, strerror(errno));
        goto cleanup;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/outbox", box->root);
    st = sync_dir(dir);
cleanup:
    return st;
}

tt_status tito_outbox_list(tito_outbox *box, tito_outbox_entry **out, size_t *n, size_t *skipped)
{
    *out = NULL;
    *n = 0;
    if (skipped)
        *skipped = 0;
    char **names = NULL;
    size_t count = 0, kept = 0;
    tt_status st = entry_names(box, &names, &count);
    if (st != TT_OK)
        return st;
    tito_outbox_entry *entries = calloc(count ? count : 1, sizeof *entries);
    if (!entries) {
        names_free(names, count);
        return tt_error_set(TT_ERR_NOMEM, "tito_outbox_list: no memory");
    }
    for (size_t i = 0; i < count; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/outbox/%s", box->root, names[i]);
        st = read_entry(&entries[kept], path);
        if (st == TT_OK) {
            kept++;
            continue;
        }
        free(entries[kept].envelope);
        entries[kept].envelope = NULL;
        if (st != TT_ERR_FORMAT)
            break;
        /* Not ours, or damaged: out of the way, never silently deleted. */
        char reason[600];
        snprintf(reason, sizeof reason, "%s", tt_error_last());
        st = move_to_rejected(box, path, reason, "");
        if (st != TT_OK)
            break;
        if (skipped)
            (*skipped)++;
    }
    names_free(names, count);
    if (st != TT_OK) {
        tito_outbox_entries_free(entries, kept);
        return st;
    }
    *out = entries;
    *n = kept;
    return TT_OK;
}

tt_status tito_outbox_count(tito_outbox *box, size_t *n)
{
    char **names = NULL;
    tt_status st = entry_names(box, &names, n);
    names_free(names, *n);
    return st;
}

/* ---------------------------------------------------------------- done, rejected */

tt_status tito_outbox_done(tito_outbox *box, const tito_outbox_entry *entry, const char *ack)
{
    char log_path[4200], now[32];
    tt_status st = path_join(log_path, sizeof log_path, box->root, "sent.jsonl");
    if (st != TT_OK)
        return st;
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *ack_json = json_loads(ack ? ack : "null", JSON_DECODE_ANY, NULL);
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "url", entry->url, "key_id", entry->key_id, "id",
                             entry->id, "subject", entry->subject, "receipt_sha256", entry->receipt_sha256, "sent_at",
                             now, "ack", ack_json ? ack_json : json_null());
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "tito_outbox_done: no memory");
    size_t n = strlen(text);
    char *with_nl = realloc(text, n + 2);
    if (!with_nl) {
        free(text);
        return tt_error_set(TT_ERR_NOMEM, "tito_outbox_done: no memory");
    }
    with_nl[n] = '\n';
    with_nl[n + 1] = '\0';
    /* The log first: a crash between the two leaves the entry, which the next submit
     * sends again and the server answers "duplicate" with the same acknowledgement. */
    st = append_line(log_path, with_nl);
    free(with_nl);
    if (st != TT_OK)
        return st;
    if (unlink(entry->file) != 0 && errno != ENOENT)
        return tt_error_set(TT_ERR_IO, "cannot remove %s: %s", entry->file, strerror(errno));
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/outbox", box->root);
    return sync_dir(dir);
}

tt_status tito_outbox_reject(tito_outbox *box, const tito_outbox_entry *entry, const char *reason)
{
    return move_to_rejected(box, entry->file, reason, entry->id);
}

/* ---------------------------------------------------------------- lookups */

tt_status tito_outbox_has(tito_outbox *box, const char *url, const char *key_id, const char *receipt_sha256, bool *sent,
                          bool *waiting)
{
    *sent = false;
    *waiting = false;
    char log_path[4200];
    tt_status st = path_join(log_path, sizeof log_path, box->root, "sent.jsonl");
    if (st != TT_OK)
        return st;
    FILE *f = fopen(log_path, "r");
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (!*sent && (len = getline(&line, &cap, f)) > 0) {
            json_t *j = json_loadb(line, (size_t)len, 0, NULL);
            const char *u = json_string_value(json_object_get(j, "url"));
            const char *k = json_string_value(json_object_get(j, "key_id"));
            const char *h = json_string_value(json_object_get(j, "receipt_sha256"));
            *sent = u && k && h && strcmp(u, url) == 0 && strcmp(k, key_id) == 0 && strcmp(h, receipt_sha256) == 0;
            json_decref(j);
        }
        free(line);
        fclose(f);
    } else if (errno != ENOENT) {
        return tt_error_set(TT_ERR_IO, "cannot read %s: %s", log_path, strerror(errno));
    }
    tito_outbox_entry *entries = NULL;
    size_t n = 0;
    st = tito_outbox_list(box, &entries, &n, NULL);
    for (size_t i = 0; st == TT_OK && i < n; i++)
        if (strcmp(entries[i].url, url) == 0 && strcmp(entries[i].key_id, key_id) == 0 &&
            strcmp(entries[i].receipt_sha256, receipt_sha256) == 0)
            *waiting = true;
    tito_outbox_entries_free(entries, n);
    return st;
}
