/*
 * The digits loader and the point-set generators (tinytorch/datasets.h): trusted core
 * code, never stripped.
 *
 * It reads the two text files of milestones/data (format version 1, described in
 * milestones/data/README.md) strictly: any deviation is refused with the file, the
 * line and what was expected, because a silently half-read data set would make a
 * milestone's accuracy meaningless. Only ISO C stdio is used, and nothing from the
 * modules, so the grader can load data whatever a student's tensor code does.
 *
 * Build-time paths (compile definitions from reference/CMakeLists.txt):
 *   TT_INSTALLED_DATA_DIR  where `make install` puts the data
 *   TT_SOURCE_DATA_DIR     milestones/data of the source tree, for uninstalled builds
 */
#include "tinytorch/datasets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TT_INSTALLED_DATA_DIR
#define TT_INSTALLED_DATA_DIR "/usr/local/share/tinytorch/data"
#endif
#ifndef TT_SOURCE_DATA_DIR
#define TT_SOURCE_DATA_DIR "milestones/data"
#endif

#define COLUMNS (1 + TT_DIGITS_PIXELS)
/* The longest valid row is 2 + 64 * 3 characters; anything near this size is garbage. */
#define LINE_MAX_BYTES 1024
#define MAGIC "# tinytorch-digits "

static const char HOW_TO_POINT[] =
    "point to the folder holding " TT_DIGITS_TRAIN_FILE " and " TT_DIGITS_TEST_FILE
    " (milestones/data in the source tree) with --data DIR or the TT_DATA_DIR environment "
    "variable";

static bool file_exists(const char *dir, const char *name)
{
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= sizeof path)
        return false;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    fclose(fp);
    return true;
}

const char *tt_data_dir(const char *dir)
{
    if (dir && dir[0])
        return dir;
    const char *env = getenv("TT_DATA_DIR");
    if (env && env[0])
        return env;
    if (file_exists(TT_INSTALLED_DATA_DIR, TT_DIGITS_TRAIN_FILE))
        return TT_INSTALLED_DATA_DIR;
    if (file_exists(TT_SOURCE_DATA_DIR, TT_DIGITS_TRAIN_FILE))
        return TT_SOURCE_DATA_DIR;
    /* Neither exists: name the installed place, where an error message should send people. */
    return TT_INSTALLED_DATA_DIR;
}

/* Reads one line into buf without its line ending. Returns 1 for a line, 0 at the end
 * of the file, -1 for a line longer than the buffer. */
static int read_line(FILE *fp, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, fp))
        return 0;
    size_t len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n') {
        buf[--len] = '\0';
    } else if (!feof(fp)) {
        return -1;
    }
    /* A checkout that converted line endings to CRLF is still the same data. */
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return 1;
}

static tt_status check_first_line(const char *path, const char *line, const char *split)
{
    size_t magic_len = strlen(MAGIC);
    if (strncmp(line, MAGIC, magic_len) != 0)
        return tt_error_set(TT_ERR_FORMAT,
                            "tt_digits_load: %s:1: not a TinyTorch digits file (the first line "
                            "should start with \"%s%d %s\")",
                            path, MAGIC, TT_DIGITS_FORMAT_VERSION, split);
    const char *p = line + magic_len;
    char *end = NULL;
    errno = 0;
    long version = strtol(p, &end, 10);
    if (end == p || errno != 0 || *end != ' ')
        return tt_error_set(TT_ERR_FORMAT,
                            "tt_digits_load: %s:1: no format version after \"%s\" (expected "
                            "\"%s%d %s\")",
                            path, MAGIC, MAGIC, TT_DIGITS_FORMAT_VERSION, split);
    if (version != TT_DIGITS_FORMAT_VERSION)
        return tt_error_set(TT_ERR_FORMAT,
                            "tt_digits_load: %s:1: format version %ld, but this build reads "
                            "version %d (regenerate the files with milestones/data/make_digits.py "
                            "from the same source tree)",
                            path, version, TT_DIGITS_FORMAT_VERSION);
    p = end + 1;
    size_t split_len = strlen(split);
    if (strncmp(p, split, split_len) != 0 || (p[split_len] != '\0' && p[split_len] != ':'))
        return tt_error_set(TT_ERR_FORMAT,
                            "tt_digits_load: %s:1: this is not the %s split (the first line "
                            "should start with \"%s%d %s\")",
                            path, split, MAGIC, TT_DIGITS_FORMAT_VERSION, split);
    return TT_OK;
}

static tt_status check_column_line(const char *path, const char *line)
{
    char expected[COLUMNS * 5];
    size_t used = (size_t)snprintf(expected, sizeof expected, "label");
    for (int i = 0; i < TT_DIGITS_PIXELS; i++)
        used += (size_t)snprintf(expected + used, sizeof expected - used, ",p%d", i);
    if (strcmp(line, expected) != 0)
        return tt_error_set(TT_ERR_FORMAT,
                            "tt_digits_load: %s:2: wrong column header (expected "
                            "\"label,p0,p1,...,p63\")",
                            path);
    return TT_OK;
}

/* Parses one data row into label and pixels[64], checking every field. */
static tt_status parse_row(const char *path, size_t lineno, const char *line, long *label,
                           float *pixels)
{
    size_t columns = 1;
    for (const char *c = line; *c; c++)
        columns += *c == ',';
    if (line[0] == '\0')
        return tt_error_set(TT_ERR_FORMAT, "tt_digits_load: %s:%zu: empty line (expected %d "
                                           "comma-separated integers: label,p0,...,p63)",
                            path, lineno, COLUMNS);
    if (columns != COLUMNS)
        return tt_error_set(TT_ERR_FORMAT,
                            "tt_digits_load: %s:%zu: %zu columns, expected %d (label,p0,...,p63)",
                            path, lineno, columns, COLUMNS);
    const char *p = line;
    for (int col = 0; col < COLUMNS; col++) {
        const char *start = p;
        long value = 0;
        while (*p >= '0' && *p <= '9') {
            if (value < 100000)
                value = value * 10 + (*p - '0');
            p++;
        }
        if (p == start || (*p != ',' && *p != '\0')) {
            char name[8] = "label";
            if (col > 0)
                snprintf(name, sizeof name, "p%d", col - 1);
            size_t len = strcspn(start, ",");
            return tt_error_set(TT_ERR_FORMAT,
                                "tt_digits_load: %s:%zu: column %d (%s): \"%.*s\" is not a whole "
                                "number",
                                path, lineno, col + 1, name, (int)(len > 40 ? 40 : len), start);
        }
        if (col == 0) {
            if (value >= TT_DIGITS_CLASSES)
                return tt_error_set(TT_ERR_FORMAT,
                                    "tt_digits_load: %s:%zu: label %ld is outside 0..%d", path,
                                    lineno, value, TT_DIGITS_CLASSES - 1);
            *label = value;
        } else {
            if (value > TT_DIGITS_MAX_VALUE)
                return tt_error_set(TT_ERR_FORMAT,
                                    "tt_digits_load: %s:%zu: pixel p%d = %ld is outside 0..%d",
                                    path, lineno, col - 1, value, TT_DIGITS_MAX_VALUE);
            pixels[col - 1] = (float)value / (float)TT_DIGITS_MAX_VALUE;
        }
        if (*p == ',')
            p++;
    }
    return TT_OK;
}

/* Reads one split file into new arrays *xs [n,64] and *ys [n]. */
static tt_status read_split(const char *dir, const char *file, const char *split,
                            size_t per_class, float **xs, float **ys)
{
    tt_status st = TT_OK;
    size_t expected = per_class * TT_DIGITS_CLASSES;
    size_t counts[TT_DIGITS_CLASSES] = {0};
    size_t rows = 0, lineno = 0;
    char path[4096];
    char line[LINE_MAX_BYTES];
    FILE *fp = NULL;
    float *x = NULL, *y = NULL;

    int len = snprintf(path, sizeof path, "%s/%s", dir, file);
    if (len < 0 || (size_t)len >= sizeof path)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_digits_load: data directory name is too long (%zu bytes)",
                            strlen(dir));
    fp = fopen(path, "r");
    if (!fp)
        return tt_error_set(TT_ERR_IO, "tt_digits_load: cannot open %s (%s); %s", path,
                            strerror(errno), HOW_TO_POINT);

    x = tt_malloc(expected * TT_DIGITS_PIXELS * sizeof *x);
    y = tt_malloc(expected * sizeof *y);
    if (!x || !y) {
        st = TT_ERR_NOMEM;
        goto cleanup;
    }

    for (;;) {
        int got = read_line(fp, line, sizeof line);
        if (got == 0)
            break;
        lineno++;
        if (got < 0) {
            st = tt_error_set(TT_ERR_FORMAT,
                              "tt_digits_load: %s:%zu: line longer than %d bytes (a valid row "
                              "is at most %d)",
                              path, lineno, LINE_MAX_BYTES - 2, 1 + 1 + 3 * TT_DIGITS_PIXELS);
            goto cleanup;
        }
        if (lineno == 1) {
            TT_CHECK(check_first_line(path, line, split));
            continue;
        }
        if (lineno == 2) {
            TT_CHECK(check_column_line(path, line));
            continue;
        }
        if (rows == expected) {
            st = tt_error_set(TT_ERR_FORMAT,
                              "tt_digits_load: %s:%zu: more than the %zu images of the %s split",
                              path, lineno, expected, split);
            goto cleanup;
        }
        long label = 0;
        TT_CHECK(parse_row(path, lineno, line, &label, x + rows * TT_DIGITS_PIXELS));
        y[rows] = (float)label;
        counts[label]++;
        rows++;
    }
    if (ferror(fp)) {
        st = tt_error_set(TT_ERR_IO, "tt_digits_load: error reading %s after line %zu", path,
                          lineno);
        goto cleanup;
    }
    if (lineno == 0) {
        st = tt_error_set(TT_ERR_FORMAT,
                          "tt_digits_load: %s is empty (expected a first line \"%s%d %s\")",
                          path, MAGIC, TT_DIGITS_FORMAT_VERSION, split);
        goto cleanup;
    }
    if (rows != expected) {
        st = tt_error_set(TT_ERR_FORMAT,
                          "tt_digits_load: %s: %zu images, expected %zu (%zu of each digit); "
                          "the file is truncated or not this project's split",
                          path, rows, expected, per_class);
        goto cleanup;
    }
    for (int d = 0; d < TT_DIGITS_CLASSES; d++) {
        if (counts[d] != per_class) {
            st = tt_error_set(TT_ERR_FORMAT,
                              "tt_digits_load: %s: %zu images of digit %d, expected %zu of each",
                              path, counts[d], d, per_class);
            goto cleanup;
        }
    }
    *xs = x;
    *ys = y;
    x = NULL;
    y = NULL;

cleanup:
    tt_free(x);
    tt_free(y);
    fclose(fp);
    return st;
}

tt_status tt_digits_load(tt_digits *out, const char *dir)
{
    tt_status st = TT_OK;
    tt_digits d = {0};
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_digits_load: out is NULL");
    memset(out, 0, sizeof *out);
    dir = tt_data_dir(dir);

    TT_CHECK(read_split(dir, TT_DIGITS_TRAIN_FILE, "train", TT_DIGITS_TRAIN_PER_CLASS,
                        &d.train_x, &d.train_y));
    d.n_train = TT_DIGITS_TRAIN_PER_CLASS * TT_DIGITS_CLASSES;
    TT_CHECK(read_split(dir, TT_DIGITS_TEST_FILE, "test", TT_DIGITS_TEST_PER_CLASS, &d.test_x,
                        &d.test_y));
    d.n_test = TT_DIGITS_TEST_PER_CLASS * TT_DIGITS_CLASSES;
    *out = d;
    return TT_OK;

cleanup:
    tt_digits_release(&d);
    return st;
}

void tt_digits_release(tt_digits *digits)
{
    if (!digits)
        return;
    tt_free(digits->train_x);
    tt_free(digits->train_y);
    tt_free(digits->test_x);
    tt_free(digits->test_y);
    memset(digits, 0, sizeof *digits);
}

/* ------------------------------------------------------------ point sets */

const char *tt_points_kind_name(tt_points_kind kind)
{
    switch (kind) {
    case TT_POINTS_BLOBS: return "blobs";
    case TT_POINTS_XOR: return "xor";
    }
    return "unknown";
}

/* Fills one split: n points into x [n, 2] and y [n], drawing from rng in the order
 * datasets.h documents. */
static void generate_points(tt_points_kind kind, size_t n, float *x, float *y, tt_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        float c0, c1, sd, label;
        if (kind == TT_POINTS_BLOBS) {
            label = (float)(i % 2);
            c0 = c1 = i % 2 ? TT_BLOBS_CENTRE : -TT_BLOBS_CENTRE;
            sd = TT_BLOBS_SD;
        } else {
            size_t a = (i % 4) / 2, b = i % 2;
            label = (float)(a ^ b);
            c0 = a ? 1.0f : -1.0f;
            c1 = b ? 1.0f : -1.0f;
            sd = TT_XOR_SD;
        }
        /* Two statements, not one expression: the draws happen in this order. */
        float z0 = tt_rng_normal(rng);
        float z1 = tt_rng_normal(rng);
        x[2 * i] = c0 + sd * z0;
        x[2 * i + 1] = c1 + sd * z1;
        y[i] = label;
    }
}

tt_status tt_points_make(tt_points *out, tt_points_kind kind, size_t n_train, size_t n_test,
                         uint64_t seed)
{
    tt_status st = TT_OK;
    tt_points p = {0};
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_points_make: out is NULL");
    memset(out, 0, sizeof *out);
    if (kind != TT_POINTS_BLOBS && kind != TT_POINTS_XOR)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_points_make: unknown kind %d (expected TT_POINTS_BLOBS or "
                            "TT_POINTS_XOR)",
                            (int)kind);
    if (n_train == 0 || n_test == 0)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_points_make: %zu training and %zu test points (each split "
                            "needs at least one)",
                            n_train, n_test);
    size_t most = SIZE_MAX / (TT_POINTS_DIMS * sizeof(float));
    if (n_train > most || n_test > most)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_points_make: %zu training and %zu test points are too many "
                            "(the arrays' size overflows)",
                            n_train, n_test);

    p.kind = kind;
    p.train_x = tt_malloc(n_train * TT_POINTS_DIMS * sizeof(float));
    p.train_y = tt_malloc(n_train * sizeof(float));
    p.test_x = tt_malloc(n_test * TT_POINTS_DIMS * sizeof(float));
    p.test_y = tt_malloc(n_test * sizeof(float));
    if (!p.train_x || !p.train_y || !p.test_x || !p.test_y) {
        st = TT_ERR_NOMEM; /* tt_malloc has set the message */
        goto cleanup;
    }
    tt_rng rng;
    tt_rng_init(&rng, seed);
    generate_points(kind, n_train, p.train_x, p.train_y, &rng);
    generate_points(kind, n_test, p.test_x, p.test_y, &rng);
    p.n_train = n_train;
    p.n_test = n_test;
    *out = p;
    return TT_OK;

cleanup:
    tt_points_release(&p);
    return st;
}

void tt_points_release(tt_points *points)
{
    if (!points)
        return;
    tt_free(points->train_x);
    tt_free(points->train_y);
    tt_free(points->test_x);
    tt_free(points->test_y);
    memset(points, 0, sizeof *points);
}
