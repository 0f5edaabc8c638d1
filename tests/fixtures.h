/*
 * tests/fixtures.h: reader of the fixture files in tests/fixtures/ (format described in
 * tests/fixtures/fixture_format.py). Header-only for the tests' convenience.
 *
 *   fixtures *fx = fixtures_load("tensor");          // $TT_FIXTURES_DIR/tensor.txt
 *   tt_tensor *a = fixture_tensor(fx, "add.broadcast_row.a");   // new tensor, or NULL
 *   const fixture *f = fixture_find(fx, "add.broadcast_row.out");
 *   fixtures_free(fx);
 *
 * A missing file or a malformed line prints why and makes fixtures_load return NULL,
 * which a test must treat as a failure (never as a skip).
 */
#ifndef TT_TESTS_FIXTURES_H
#define TT_TESTS_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinytorch/tensor.h"

typedef struct fixture {
    char name[128];
    int ndim;
    size_t shape[TT_MAX_DIMS];
    size_t numel;
    float *data;
} fixture;

typedef struct fixtures {
    fixture *items;
    size_t count;
} fixtures;

static void fixtures_free(fixtures *fx)
{
    if (!fx)
        return;
    for (size_t i = 0; i < fx->count; i++)
        free(fx->items[i].data);
    free(fx->items);
    free(fx);
}

static int fixture_parse_line(fixture *f, char *line)
{
    char *save = NULL, *tok = strtok_r(line, " \n", &save);
    if (!tok || strcmp(tok, "tensor") != 0)
        return -1;
    tok = strtok_r(NULL, " \n", &save);
    if (!tok || strlen(tok) >= sizeof f->name)
        return -1;
    snprintf(f->name, sizeof f->name, "%s", tok);
    tok = strtok_r(NULL, " \n", &save);
    if (!tok)
        return -1;
    f->ndim = (int)strtol(tok, NULL, 10);
    if (f->ndim < 0 || f->ndim > TT_MAX_DIMS)
        return -1;
    f->numel = 1;
    for (int d = 0; d < f->ndim; d++) {
        tok = strtok_r(NULL, " \n", &save);
        if (!tok)
            return -1;
        f->shape[d] = (size_t)strtoul(tok, NULL, 10);
        f->numel *= f->shape[d];
    }
    f->data = malloc((f->numel ? f->numel : 1) * sizeof(float));
    if (!f->data)
        return -1;
    for (size_t i = 0; i < f->numel; i++) {
        tok = strtok_r(NULL, " \n", &save);
        if (!tok)
            return -1;
        f->data[i] = strtof(tok, NULL);
    }
    return strtok_r(NULL, " \n", &save) ? -1 : 0;
}

static fixtures *fixtures_load(const char *set)
{
    const char *dir = getenv("TT_FIXTURES_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.txt", dir ? dir : "tests/fixtures", set);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "fixtures: cannot open %s (set TT_FIXTURES_DIR)\n", path);
        return NULL;
    }
    fixtures *fx = calloc(1, sizeof *fx);
    size_t cap = 0, lineno = 0;
    char *line = NULL;
    size_t linecap = 0;
    int ok = fx != NULL;
    while (ok && getline(&line, &linecap, fp) > 0) {
        lineno++;
        if (lineno == 1) {
            ok = strncmp(line, "tinytorch-fixtures 1 ", 21) == 0;
            if (!ok)
                fprintf(stderr, "fixtures: %s: not a version-1 fixture file\n", path);
            continue;
        }
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (fx->count == cap) {
            cap = cap ? 2 * cap : 64;
            fixture *grown = realloc(fx->items, cap * sizeof *grown);
            if (!grown) {
                ok = 0;
                break;
            }
            fx->items = grown;
        }
        fixture *f = &fx->items[fx->count];
        memset(f, 0, sizeof *f);
        fx->count++;
        if (fixture_parse_line(f, line) != 0) {
            fprintf(stderr, "fixtures: %s:%zu: malformed line\n", path, lineno);
            ok = 0;
        }
    }
    free(line);
    fclose(fp);
    if (!ok || (fx && fx->count == 0)) {
        fixtures_free(fx);
        return NULL;
    }
    return fx;
}

static const fixture *fixture_find(const fixtures *fx, const char *name)
{
    for (size_t i = 0; fx && i < fx->count; i++)
        if (strcmp(fx->items[i].name, name) == 0)
            return &fx->items[i];
    fprintf(stderr, "fixtures: no tensor named %s\n", name);
    return NULL;
}

/* A new framework tensor holding the fixture's values, or NULL if it is missing. */
static tt_tensor *fixture_tensor(const fixtures *fx, const char *name)
{
    const fixture *f = fixture_find(fx, name);
    tt_tensor *t = NULL;
    if (f && tt_tensor_from_data(&t, f->ndim, f->shape, f->data) != TT_OK)
        return NULL;
    return t;
}

#endif /* TT_TESTS_FIXTURES_H */
