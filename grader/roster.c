/*
 * The roster (roster.h): a CSV reader for exactly the dialect the header describes,
 * and the checks that make a typo in a class list an error with a line number instead
 * of a student silently missing from the gradebook.
 */
#define _POSIX_C_SOURCE 200809L

#include "roster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "course.h"
#include "fsutil.h"

enum column { COL_ID, COL_NAME, COL_EMAIL, COL_REPO, COL_BRANCH, COL_KEY_ID, N_COLUMNS };
static const char *const column_names[N_COLUMNS] = {"id", "name", "email", "repo", "branch", "key_id"};

/* One record's fields (pointers into a private copy of the text). */
typedef struct record {
    char **fields;
    size_t n, cap;
    size_t line;      /* where the record starts */
} record;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static tt_status refuse(const char *origin, size_t line, const char *fmt, ...)
{
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (line)
        return tt_error_set(TT_ERR_FORMAT, "roster %s:%zu: %s", origin, line, reason);
    return tt_error_set(TT_ERR_FORMAT, "roster %s: %s", origin, reason);
}

static tt_status nomem(const char *origin)
{
    return tt_error_set(TT_ERR_NOMEM, "roster %s: out of memory", origin);
}

static bool push_field(record *r, char *field)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        char **f = realloc(r->fields, cap * sizeof *f);
        if (!f)
            return false;
        r->fields = f;
        r->cap = cap;
    }
    r->fields[r->n++] = field;
    return true;
}

/* Read one record starting at *pos of `buf` (which it edits in place: quotes removed,
 * fields NUL-terminated). *line counts lines. Returns TT_OK with r->n == 0 at the end. */
static tt_status next_record(record *r, char *buf, size_t len, size_t *pos, size_t *line,
                             const char *origin)
{
    r->n = 0;
    size_t i = *pos;
    /* Skip blank lines and comments. */
    for (;;) {
        if (i >= len)
            return *pos = i, TT_OK;
        if (buf[i] == '\n' || buf[i] == '\r') {
            if (buf[i] == '\n')
                (*line)++;
            i++;
            continue;
        }
        if (buf[i] == '#') {
            while (i < len && buf[i] != '\n')
                i++;
            continue;
        }
        break;
    }
    r->line = *line;
    for (;;) {
        char *out = buf + i, *start = out;
        if (i < len && buf[i] == '"') {
            size_t open_line = *line;
            i++;
            for (;;) {
                if (i >= len)
                    return refuse(origin, open_line, "a quoted field is never closed");
                if (buf[i] == '"') {
                    if (i + 1 < len && buf[i + 1] == '"') {
                        *out++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (buf[i] == '\n')
                    (*line)++;
                *out++ = buf[i++];
            }
            if (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r')
                return refuse(origin, *line, "text after a closing quote (a quote inside a "
                                             "quoted field is written twice: \"\")");
        } else {
            while (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r') {
                if (buf[i] == '"')
                    return refuse(origin, *line, "a quote inside an unquoted field (quote the "
                                                 "whole field and double the quote)");
                *out++ = buf[i++];
            }
        }
        char sep = i < len ? buf[i] : '\n';
        *out = '\0';
        if (!push_field(r, start))
            return nomem(origin);
        if (sep == ',') {
            i++;
            continue;
        }
        /* End of the record: CRLF or LF (or the end of the text). The terminator itself
         * may just have been overwritten by the field's NUL: `sep` kept it. */
        if (i < len && sep == '\r') {
            i++;
            sep = i < len ? buf[i] : '\0';
        }
        if (i < len && sep == '\n') {
            i++;
            (*line)++;
        }
        *pos = i;
        return TT_OK;
    }
}

/* Spaces around an unquoted field are the roster writer's, not data. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

bool tito_roster_is_url(const char *repo)
{
    if (strstr(repo, "://"))
        return true;
    /* scp-like "user@host:path": a colon before any slash. */
    const char *colon = strchr(repo, ':'), *slash = strchr(repo, '/');
    return colon && colon != repo && (!slash || colon < slash) && strchr(repo, '@') &&
           strchr(repo, '@') < colon;
}

static bool hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

void tito_roster_free(tito_roster *roster)
{
    if (!roster)
        return;
    for (size_t i = 0; i < roster->n_students; i++) {
        tito_roster_student *s = &roster->students[i];
        free(s->id);
        free(s->name);
        free(s->email);
        free(s->repo);
        free(s->location);
        free(s->branch);
        free(s->key_id);
    }
    free(roster->students);
    free(roster->origin);
    free(roster);
}

static char *location_of(const char *repo, const char *base_dir)
{
    if (tito_roster_is_url(repo) || repo[0] == '/')
        return strdup(repo);
    char cwd[4096];
    if (!base_dir) {
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        base_dir = cwd;
    }
    size_t n = strlen(base_dir) + strlen(repo) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", base_dir, repo);
    return p;
}

/* Fill student `s` from the fields of record `r` by the column map `col` (-1: absent). */
static tt_status take_student(tito_roster *ro, tito_roster_student *s, const record *r,
                              const int *col, const char *base_dir)
{
    const char *origin = ro->origin;
    const char *v[N_COLUMNS];
    for (int c = 0; c < N_COLUMNS; c++)
        v[c] = col[c] >= 0 && (size_t)col[c] < r->n ? trim(r->fields[col[c]]) : "";
    s->line = r->line;
    if (!*v[COL_ID])
        return refuse(origin, r->line, "id: empty (every student needs an id)");
    if (!tito_student_id_valid(v[COL_ID]))
        return refuse(origin, r->line,
                      "id: \"%.64s\" is not a student id (1 to 64 letters, digits and . _ - @, "
                      "starting with a letter or digit)",
                      v[COL_ID]);
    for (size_t k = 0; k < ro->n_students; k++)
        if (strcmp(ro->students[k].id, v[COL_ID]) == 0)
            return refuse(origin, r->line, "id: \"%s\" is also the id on line %zu", v[COL_ID],
                          ro->students[k].line);
    if (!*v[COL_REPO])
        return refuse(origin, r->line, "repo: empty (the student's workspace: a path or a git URL)");
    if (*v[COL_KEY_ID] && !hex64(v[COL_KEY_ID]))
        return refuse(origin, r->line, "key_id: expected 64 lower-case hex digits (the key id "
                                       "the leaderboard shows), got \"%.80s\"",
                      v[COL_KEY_ID]);
    s->id = strdup(v[COL_ID]);
    s->name = strdup(v[COL_NAME]);
    s->email = strdup(v[COL_EMAIL]);
    s->repo = strdup(v[COL_REPO]);
    s->branch = strdup(v[COL_BRANCH]);
    s->key_id = strdup(v[COL_KEY_ID]);
    s->is_url = tito_roster_is_url(v[COL_REPO]);
    s->location = location_of(v[COL_REPO], base_dir);
    if (!s->id || !s->name || !s->email || !s->repo || !s->branch || !s->key_id || !s->location)
        return nomem(origin);
    return TT_OK;
}

tt_status tito_roster_parse(tito_roster **out, const char *text, size_t len, const char *origin,
                            const char *base_dir)
{
    *out = NULL;
    tt_status st = TT_OK;
    record r = {0};
    char *buf = malloc(len + 1);
    tito_roster *ro = calloc(1, sizeof *ro);
    if (!buf || !ro || !(ro->origin = strdup(origin))) {
        st = nomem(origin);
        goto cleanup;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    size_t pos = 0, line = 1;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a byte-order mark, as spreadsheets write it */
    for (size_t i = pos; i < len; i++)
        if (buf[i] == '\0') {
            st = refuse(origin, 0, "a NUL byte in the file: a roster is text");
            goto cleanup;
        }

    /* The header. */
    TT_CHECK(next_record(&r, buf, len, &pos, &line, origin));
    if (r.n == 0) {
        st = refuse(origin, 0, "empty: the first line names the columns (id,name,repo at least "
                               "id and repo)");
        goto cleanup;
    }
    int col[N_COLUMNS];
    for (int c = 0; c < N_COLUMNS; c++)
        col[c] = -1;
    size_t n_header = r.n, header_line = r.line;
    for (size_t f = 0; f < r.n; f++) {
        const char *name = trim(r.fields[f]);
        int c = 0;
        while (c < N_COLUMNS && strcmp(column_names[c], name) != 0)
            c++;
        if (c == N_COLUMNS) {
            st = refuse(origin, header_line,
                        "column %zu: unknown column \"%.40s\" (the columns are id, name, email, "
                        "repo, branch, key_id)",
                        f + 1, name);
            goto cleanup;
        }
        if (col[c] >= 0) {
            st = refuse(origin, header_line, "column %zu: \"%s\" is also column %d", f + 1, name,
                        col[c] + 1);
            goto cleanup;
        }
        col[c] = (int)f;
    }
    if (col[COL_ID] < 0 || col[COL_REPO] < 0) {
        st = refuse(origin, header_line, "the header has no \"%s\" column (it needs id and repo)",
                    col[COL_ID] < 0 ? "id" : "repo");
        goto cleanup;
    }

    for (;;) {
        TT_CHECK(next_record(&r, buf, len, &pos, &line, origin));
        if (r.n == 0)
            break;
        if (r.n > n_header) {
            st = refuse(origin, r.line, "%zu fields, but the header names %zu columns", r.n,
                        n_header);
            goto cleanup;
        }
        tito_roster_student *grown =
            realloc(ro->students, (ro->n_students + 1) * sizeof *ro->students);
        if (!grown) {
            st = nomem(origin);
            goto cleanup;
        }
        ro->students = grown;
        tito_roster_student *s = &ro->students[ro->n_students];
        memset(s, 0, sizeof *s);
        st = take_student(ro, s, &r, col, base_dir);
        ro->n_students++; /* so that a half-filled student is freed with the rest */
        if (st != TT_OK)
            goto cleanup;
    }
    if (ro->n_students == 0) {
        st = refuse(origin, 0, "no students: the header is followed by no rows");
        goto cleanup;
    }
    *out = ro;
    ro = NULL;
cleanup:
    free(r.fields);
    free(buf);
    tito_roster_free(ro);
    return st;
}

tt_status tito_roster_load(tito_roster **out, const char *path)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&text, &len, path);
    if (st != TT_OK) {
        char reason[400];
        snprintf(reason, sizeof reason, "%s", tt_error_last());
        return tt_error_set(st, "roster %s: %s", path, reason);
    }
    /* Relative repository paths are taken from the roster's own folder. */
    char dir[2048], resolved[4200];
    if (strlen(path) >= sizeof dir) {
        free(text);
        return tt_error_set(TT_ERR_IO, "roster %.200s...: path too long", path);
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        dir[0] = '\0';
    const char *base = dir;
    if (dir[0] != '/') {
        char cwd[2048];
        if (getcwd(cwd, sizeof cwd)) {
            snprintf(resolved, sizeof resolved, "%s%s%s", cwd, dir[0] ? "/" : "", dir);
            base = resolved;
        }
    }
    st = tito_roster_parse(out, text, len, path, base);
    free(text);
    return st;
}

const tito_roster_student *tito_roster_find(const tito_roster *roster, const char *id)
{
    for (size_t i = 0; roster && id && i < roster->n_students; i++)
        if (strcmp(roster->students[i].id, id) == 0)
            return &roster->students[i];
    return NULL;
}
