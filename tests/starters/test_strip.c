/*
 * tests/starters/test_strip.c: runs every case file of a folder through the stripper.
 *
 * A case file (cases/<what>.case) holds comment lines starting with '#', then sections,
 * each opened by a line "%% <section> [flags]":
 *
 *   %% input      the reference text, stripped as "reference/src/demo.c"
 *   %% expected   the exact starter text expected
 *   %% error      the exact error message expected instead (one line; the status
 *                 must be TT_ERR_FORMAT and no text may come back)
 *
 * Flags on a section line change its text: "noeol" drops the last newline, "crlf"
 * turns every "\n" into "\r\n", "nul" turns each "<NUL>" into a zero byte.
 * Usage: test_strip CASES_DIR [NAME-FILTER]
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "starter.h"

#define MAX_CASES 256

typedef struct text {
    char *data;
    size_t len;
    bool present;
} text;

static int passed, failed;

static void text_add(text *t, const char *s, size_t n)
{
    char *bigger = realloc(t->data, t->len + n + 1);
    if (!bigger) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    t->data = bigger;
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

/* Apply a section's flags to its text. */
static void apply_flags(text *t, const char *flags)
{
    if (!t->data)
        text_add(t, "", 0);
    if (strstr(flags, "noeol") && t->len > 0 && t->data[t->len - 1] == '\n')
        t->data[--t->len] = '\0';
    if (strstr(flags, "crlf")) {
        text out = {0};
        text_add(&out, "", 0);
        for (size_t i = 0; i < t->len; i++)
            text_add(&out, t->data[i] == '\n' ? "\r\n" : &t->data[i], t->data[i] == '\n' ? 2 : 1);
        free(t->data);
        *t = out;
    }
    if (strstr(flags, "nul")) {
        size_t w = 0;
        for (size_t r = 0; r < t->len; w++) {
            if (t->len - r >= 5 && memcmp(t->data + r, "<NUL>", 5) == 0) {
                t->data[w] = '\0';
                r += 5;
            } else {
                t->data[w] = t->data[r++];
            }
        }
        t->len = w;
    }
    t->present = true;
}

/* Split a case file into its sections. Returns false (after a message) when malformed. */
static bool parse_case(const char *file, const char *src, text *input, text *expected, text *error)
{
    text *current = NULL;
    char flags[64] = "";
    const char *p = src;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (strncmp(p, "%% ", 3) == 0) {
            if (current)
                apply_flags(current, flags);
            char name[32] = "";
            flags[0] = '\0';
            if (sscanf(p + 3, "%31s %63[^\n]", name, flags) < 1) {
                fprintf(stderr, "%s: bad section line\n", file);
                return false;
            }
            current = strcmp(name, "input") == 0      ? input
                      : strcmp(name, "expected") == 0 ? expected
                      : strcmp(name, "error") == 0    ? error
                                                      : NULL;
            if (!current) {
                fprintf(stderr, "%s: unknown section '%s'\n", file, name);
                return false;
            }
        } else if (current) {
            text_add(current, p, n);
        } else if (p[0] != '#' && p[0] != '\n') {
            fprintf(stderr, "%s: text before the first section\n", file);
            return false;
        }
        p += n;
    }
    if (current)
        apply_flags(current, flags);
    if (!input->present || expected->present == error->present) {
        fprintf(stderr, "%s: needs an input and exactly one of expected / error\n", file);
        return false;
    }
    if (error->present && error->len > 0 && error->data[error->len - 1] == '\n')
        error->data[--error->len] = '\0';
    return true;
}

/* Show where two texts first differ, line by line. */
static void show_difference(const char *expected, size_t elen, const char *got, size_t glen)
{
    size_t line = 1, i = 0;
    while (i < elen && i < glen && expected[i] == got[i]) {
        line += expected[i] == '\n';
        i++;
    }
    size_t start = i;
    while (start > 0 && expected[start - 1] != '\n')
        start--;
    fprintf(stderr, "    first difference at line %zu, byte %zu\n", line, i);
    fprintf(stderr, "    expected: \"%.*s\"\n", (int)(elen - start > 60 ? 60 : elen - start),
            expected + start);
    fprintf(stderr, "    got:      \"%.*s\"\n", (int)(glen - start > 60 ? 60 : glen - start),
            got + start);
}

static void run_case(const char *dir, const char *entry)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, entry);
    char *src = NULL;
    if (tito_file_read(&src, NULL, path) != TT_OK) {
        fprintf(stderr, "FAIL %s: %s\n", entry, tt_error_last());
        failed++;
        return;
    }
    text input = {0}, expected = {0}, error = {0};
    bool ok = parse_case(entry, src, &input, &expected, &error);
    char *out = NULL;
    size_t out_len = 0;
    if (ok) {
        tt_error_clear();
        tt_status st = tito_starter_strip(&out, &out_len, "reference/src/demo.c", input.data, input.len);
        if (expected.present) {
            if (st != TT_OK) {
                fprintf(stderr, "FAIL %s: %s: %s\n", entry, tt_status_name(st), tt_error_last());
                ok = false;
            } else if (out_len != expected.len || memcmp(out, expected.data, out_len) != 0) {
                fprintf(stderr, "FAIL %s: wrong starter text\n", entry);
                show_difference(expected.data, expected.len, out, out_len);
                ok = false;
            }
        } else {
            if (st != TT_ERR_FORMAT || out != NULL) {
                fprintf(stderr, "FAIL %s: returned %s%s, expected TT_ERR_FORMAT and no text\n", entry,
                        tt_status_name(st), out ? " with text" : "");
                ok = false;
            } else if (strcmp(tt_error_last(), error.data) != 0) {
                fprintf(stderr, "FAIL %s: wrong message\n    expected: %s\n    got:      %s\n", entry,
                        error.data, tt_error_last());
                ok = false;
            }
        }
    }
    if (ok) {
        passed++;
        printf("ok   %s\n", entry);
    } else {
        failed++;
    }
    free(out);
    free(src);
    free(input.data);
    free(expected.data);
    free(error.data);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_strip CASES_DIR [FILTER]\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 2;
    }
    char *names[MAX_CASES];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".case") != 0)
            continue;
        if (argc > 2 && !strstr(e->d_name, argv[2]))
            continue;
        if (n == MAX_CASES) {
            fprintf(stderr, "more than %d cases\n", MAX_CASES);
            closedir(d);
            return 2;
        }
        names[n] = malloc(len + 1);
        if (!names[n])
            return 2;
        memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    for (size_t i = 0; i < n; i++) {
        run_case(argv[1], names[i]);
        free(names[i]);
    }
    if (n == 0) {
        fprintf(stderr, "no .case files in %s\n", argv[1]);
        failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
