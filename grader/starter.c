/*
 * Starter generation: strip solution regions from reference sources, and keep the
 * student/ tree equal to what the reference gives.
 *
 * The stripper works line by line and keeps every byte outside regions, including
 * line endings, so a starter differs from its reference only where a region was.
 * It is deliberately strict (see starter.h): an error here stops a release, while a
 * marker it let through would publish a solution.
 */
#include "starter.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

/* ---------------------------------------------------------------- text buffer */

/* A growable string; after an allocation failure it stays failed and ignores adds,
 * so callers check once at the end. */
typedef struct sbuf {
    char *data;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_add(sbuf *sb, const char *s, size_t n)
{
    if (sb->failed)
        return;
    if (sb->cap - sb->len <= n) {
        size_t cap = sb->cap ? sb->cap : 1024;
        while (cap - sb->len <= n)
            cap *= 2;
        char *bigger = realloc(sb->data, cap);
        if (!bigger) {
            sb->failed = true;
            return;
        }
        sb->data = bigger;
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

static void sb_puts(sbuf *sb, const char *s)
{
    sb_add(sb, s, strlen(s));
}

static void sb_printf(sbuf *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void sb_printf(sbuf *sb, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        sb->failed = true;
        return;
    }
    sb_add(sb, line, (size_t)n);
}

/* Hand the buffer over to *out, or report what went wrong. */
static tt_status sb_finish(sbuf *sb, char **out, size_t *out_len, const char *what)
{
    if (sb->failed || !sb->data) {
        bool empty = !sb->failed;
        free(sb->data);
        if (empty) {
            /* An empty result is still a string the caller can free. */
            *out = calloc(1, 1);
            if (*out) {
                *out_len = 0;
                return TT_OK;
            }
        }
        return tt_error_set(TT_ERR_NOMEM, "out of memory building %s", what);
    }
    *out = sb->data;
    *out_len = sb->len;
    return TT_OK;
}

/* ------------------------------------------------------------------- markers */

typedef enum marker {
    MARK_NONE,
    MARK_BEGIN,      /* the default stub */
    MARK_BEGIN_WITH, /* a replacement given after the colon (maybe empty) */
    MARK_END,
    MARK_MALFORMED,
} marker;

#define BEGIN_MARK "/* BEGIN SOLUTION */"
#define BEGIN_WITH_MARK "/* BEGIN SOLUTION:"
#define END_MARK "/* END SOLUTION */"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Position of `needle` in s[0..n), or NULL. (memmem is not ISO C.) */
static const char *find(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp(s + i, needle, k) == 0)
            return s + i;
    return NULL;
}

static bool equals(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* What kind of line this is. For the BEGIN kinds, *indent_len is the length of the
 * leading blanks and [*repl, *repl + *repl_len) the replacement text. */
static marker classify(const char *line, size_t n, size_t *indent_len, const char **repl,
                       size_t *repl_len)
{
    size_t a = 0, b = n;
    while (a < b && (line[a] == ' ' || line[a] == '\t'))
        a++;
    while (b > a && is_space(line[b - 1]))
        b--;
    const char *t = line + a;
    size_t tn = b - a;
    *indent_len = a;

    if (equals(t, tn, BEGIN_MARK))
        return MARK_BEGIN;
    if (equals(t, tn, END_MARK))
        return MARK_END;

    size_t head = strlen(BEGIN_WITH_MARK);
    if (tn >= head + 2 && memcmp(t, BEGIN_WITH_MARK, head) == 0 && memcmp(t + tn - 2, "*/", 2) == 0) {
        const char *r = t + head;
        size_t rn = tn - head - 2;
        if (find(r, rn, "*/"))
            return MARK_MALFORMED; /* text after the marker's comment */
        while (rn > 0 && is_space(r[0]))
            r++, rn--;
        while (rn > 0 && is_space(r[rn - 1]))
            rn--;
        *repl = r;
        *repl_len = rn;
        return MARK_BEGIN_WITH;
    }

    /* Not a marker. But a comment that names one (a typo, a marker sharing its line
     * with code, a // marker) must not pass as plain text. Prose that merely
     * mentions the words, without a comment opener before them, is fine. */
    const char *word = find(line, n, "BEGIN SOLUTION");
    if (!word)
        word = find(line, n, "END SOLUTION");
    if (word) {
        size_t before = (size_t)(word - line);
        if (find(line, before, "/*") || find(line, before, "//"))
            return MARK_MALFORMED;
    }
    return MARK_NONE;
}

static bool is_blank(const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(line[i]))
            return false;
    return true;
}

/* ------------------------------------------------------------------ stripping */

tt_status tito_starter_strip(char **out, size_t *out_len, const char *name, const char *src,
                             size_t len)
{
    *out = NULL;
    *out_len = 0;
    if (!name)
        name = "(source)";
    if (!src && len > 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_starter_strip: %s: no text", name);
    if (len > 0 && memchr(src, '\0', len)) {
        size_t line = 1;
        for (const char *p = src; *p; p++)
            line += *p == '\n';
        return tt_error_set(TT_ERR_FORMAT, "%s:%zu: a NUL byte; a source file is text", name, line);
    }

    sbuf sb = {0};
    bool in_region = false;
    size_t region_line = 0;
    /* The open region: its marker's indentation, replacement and line ending. */
    const char *indent = NULL, *repl = NULL, *eol = "\n";
    size_t indent_len = 0, repl_len = 0;
    marker kind = MARK_NONE;
    /* The last line written was blank (the start of the file counts as one), and the
     * next line is to be dropped if blank: removing a region then leaves one blank
     * line between its neighbours, not two. */
    bool last_blank = true, drop_blank = false;

    size_t line_no = 0;
    for (size_t pos = 0; pos < len;) {
        line_no++;
        const char *line = src + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;   /* without the '\n' */
        size_t full = nl ? n + 1 : n;                        /* with it */
        pos += full;

        size_t ind = 0, rn = 0;
        const char *r = NULL;
        marker m = classify(line, n, &ind, &r, &rn);

        if (m == MARK_MALFORMED) {
            free(sb.data);
            return tt_error_set(TT_ERR_FORMAT,
                                "%s:%zu: malformed solution marker: %.*s (a marker is a line "
                                "holding only " BEGIN_MARK ", " BEGIN_WITH_MARK " replacement */ "
                                "or " END_MARK ")",
                                name, line_no, (int)(n - ind > 120 ? 120 : n - ind), line + ind);
        }
        if (m == MARK_BEGIN || m == MARK_BEGIN_WITH) {
            if (in_region) {
                free(sb.data);
                return tt_error_set(TT_ERR_FORMAT,
                                    "%s:%zu: BEGIN SOLUTION inside the region opened at line %zu; "
                                    "regions do not nest (close that one with END SOLUTION first)",
                                    name, line_no, region_line);
            }
            in_region = true;
            region_line = line_no;
            kind = m;
            indent = line;
            indent_len = ind;
            repl = r;
            repl_len = rn;
            eol = (n > 0 && line[n - 1] == '\r') ? "\r\n" : "\n";
            continue;
        }
        if (m == MARK_END) {
            if (!in_region) {
                free(sb.data);
                return tt_error_set(TT_ERR_FORMAT,
                                    "%s:%zu: END SOLUTION without a BEGIN SOLUTION before it", name,
                                    line_no);
            }
            in_region = false;
            if (kind == MARK_BEGIN_WITH && repl_len == 0) {
                drop_blank = last_blank;
                continue;
            }
            sb_add(&sb, indent, indent_len);
            sb_puts(&sb, "/* TODO: your code here. */");
            sb_puts(&sb, eol);
            sb_add(&sb, indent, indent_len);
            if (kind == MARK_BEGIN)
                sb_puts(&sb, "return TT_NOT_IMPLEMENTED();");
            else
                sb_add(&sb, repl, repl_len);
            sb_puts(&sb, eol);
            last_blank = false;
            drop_blank = false;
            continue;
        }
        if (in_region)
            continue;

        bool blank = is_blank(line, n);
        if (blank && drop_blank) {
            drop_blank = false;
            continue;
        }
        drop_blank = false;
        sb_add(&sb, line, full);
        last_blank = blank;
    }

    if (in_region) {
        free(sb.data);
        return tt_error_set(TT_ERR_FORMAT,
                            "%s:%zu: BEGIN SOLUTION is never closed: END SOLUTION expected before "
                            "the end of the file",
                            name, region_line);
    }
    return sb_finish(&sb, out, out_len, name);
}

/* ------------------------------------------------------------------- rendering */

tt_status tito_starter_render(char **out, size_t *out_len, const tito_module *m, const char *src,
                              size_t len)
{
    *out = NULL;
    *out_len = 0;
    char ref_name[256];
    snprintf(ref_name, sizeof ref_name, "reference/src/%s.c", m->name);

    char *body = NULL;
    size_t body_len = 0;
    tt_status st = tito_starter_strip(&body, &body_len, ref_name, src, len);
    if (st != TT_OK)
        return st;

    sbuf sb = {0};
    sb_puts(&sb, "/*\n");
    sb_printf(&sb, " * student/%s/%s.c: your code for module %02d (%s).\n", m->slug, m->name,
              m->number, m->name);
    sb_printf(&sb, " * %s.\n", m->title);
    sb_puts(&sb,
            " *\n"
            " * This file is yours to edit: write the module here. It was generated by\n");
    sb_printf(&sb,
              " * `tito dev starters` from the course's %s, with each solution\n"
              " * replaced by a stub.\n",
              ref_name);
    sb_puts(&sb,
            " *\n"
            " * - A function whose body says \"TODO: your code here\" returns\n"
            " *   TT_ERR_NOT_IMPLEMENTED, with a message naming it, until you replace the TODO\n"
            " *   and the line after it with your code. So the file compiles as it is, and\n"
            " *   every check of a function you have not written yet fails cleanly.\n"
            " * - Everything else (includes, type definitions, given helpers, the calls that\n"
            " *   record an operation for autograd) is part of the course's scaffolding:\n"
            " *   keep it, and use it.\n");
    sb_printf(&sb,
              " * - The contract of every function (arguments, result, ownership, errors) is\n"
              " *   in tinytorch/%s.h; the module's guide is docs/modules/%s.md.\n",
              m->name, m->slug);
    sb_puts(&sb, " */\n\n");
    sb_add(&sb, body, body_len);
    free(body);
    return sb_finish(&sb, out, out_len, "a starter");
}

tt_status tito_starter_readme(char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    sbuf sb = {0};
    sb_puts(&sb,
            "# student/: the starters (generated)\n"
            "\n"
            "Everything in this folder is generated by `tito dev starters` from the reference\n"
            "sources in `reference/src/`, with each solution region replaced by a stub.\n"
            "**Never edit it by hand**: change the reference, run `tito dev starters`, and\n"
            "commit both. CI runs `tito dev starters --check`, which fails when this folder\n"
            "differs from what the reference gives.\n"
            "\n"
            "Each starter compiles as it is. Every function still to be written returns\n"
            "`TT_ERR_NOT_IMPLEMENTED` with a message naming it, so a student's checks fail\n"
            "cleanly, never with a crash. The test suite proves it: `starters.link.<module>`\n"
            "compiles each starter and links it with the reference's other modules.\n"
            "\n"
            "| # | module | starter | contract | guide |\n"
            "|---|---|---|---|---|\n");
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        sb_printf(&sb,
                  "| %02d | %s | [%s/%s.c](%s/%s.c) | "
                  "[tinytorch/%s.h](../reference/include/tinytorch/%s.h) | "
                  "[%s.md](../docs/modules/%s.md) |\n",
                  m->number, m->title, m->slug, m->name, m->slug, m->name, m->name, m->name,
                  m->slug, m->slug);
    }
    return sb_finish(&sb, out, out_len, "student/README.md");
}

/* --------------------------------------------------------------- the tree */

typedef struct planned {
    char rel[256];  /* path relative to the root */
    char *text;     /* what the file must hold */
    size_t len;
} planned;

static tt_status join(char *buf, size_t cap, const char *root, const char *rel)
{
    int n = snprintf(buf, cap, "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= cap)
        return tt_error_set(TT_ERR_IO, "path too long: %s/%s", root, rel);
    return TT_OK;
}

tt_status tito_starters_generate(tito_starters_result *result, const char *root,
                                 tito_starters_mode mode)
{
    tt_status st = TT_OK;
    planned plan[TITO_STARTERS_MAX_FILES];
    size_t n_plan = 0;
    char path[4096];
    char *src = NULL, *current = NULL;

    memset(result, 0, sizeof *result);
    if (tito_module_count + 1 > TITO_STARTERS_MAX_FILES)
        return tt_error_set(TT_ERR_STATE, "tito_starters_generate: %zu modules, at most %d",
                            tito_module_count, TITO_STARTERS_MAX_FILES - 1);

    /* First make every file in memory, so a bad reference stops us before any write. */
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        char rel[256];
        size_t len = 0;
        snprintf(rel, sizeof rel, "reference/src/%s.c", m->name);
        TT_CHECK(join(path, sizeof path, root, rel));
        TT_CHECK(tito_file_read(&src, &len, path));
        planned *p = &plan[n_plan];
        snprintf(p->rel, sizeof p->rel, "student/%s/%s.c", m->slug, m->name);
        TT_CHECK(tito_starter_render(&p->text, &p->len, m, src, len));
        n_plan++;
        free(src);
        src = NULL;
    }
    snprintf(plan[n_plan].rel, sizeof plan[n_plan].rel, "student/README.md");
    TT_CHECK(tito_starter_readme(&plan[n_plan].text, &plan[n_plan].len));
    n_plan++;

    for (size_t i = 0; i < n_plan; i++) {
        planned *p = &plan[i];
        tito_starter_file *f = &result->files[result->count++];
        _Static_assert(sizeof f->path == sizeof p->rel, "the two path buffers match");
        memcpy(f->path, p->rel, sizeof f->path);
        TT_CHECK(join(path, sizeof path, root, p->rel));

        size_t cur_len = 0;
        if (!tito_path_exists(path)) {
            f->change = TITO_STARTER_CREATED;
        } else {
            TT_CHECK(tito_file_read(&current, &cur_len, path));
            bool same = cur_len == p->len && memcmp(current, p->text, p->len) == 0;
            f->change = same ? TITO_STARTER_UNCHANGED : TITO_STARTER_UPDATED;
            free(current);
            current = NULL;
        }
        if (mode == TITO_STARTERS_CHECK || f->change == TITO_STARTER_UNCHANGED)
            continue;

        char *slash = strrchr(path, '/');
        *slash = '\0';
        TT_CHECK(tito_mkdirs(path));
        *slash = '/';
        TT_CHECK(tito_file_write_atomic(path, p->text, p->len, 0644));
    }

cleanup:
    for (size_t i = 0; i < n_plan; i++)
        free(plan[i].text);
    free(src);
    free(current);
    return st;
}
