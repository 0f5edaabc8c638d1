/*
 * tests/engine/test_engine.c: the grading engine, end to end and piece by piece.
 *
 *   judge_*       hand-written transcript pairs: tolerance tiers, shapes, statuses,
 *                 notes and tolerances taken from the reference only, leaks
 *   transcript_*  the strict parser on malformed, truncated and random input
 *   kit_*         finding and checking a kit, and what the messages say
 *   grade_*       module 01 graded for real with the build tree's kit: the reference
 *                 (every case passes), the starter (every case fails cleanly), and
 *                 copies of the reference with planted bugs, each of which must get
 *                 the verdict it deserves on the cases it touches and no other
 *
 * The argument is a filter on test names (tests/harness.h); CMake registers one test
 * per group so that ctest can run them side by side. TITO_KIT names the kit and
 * XDG_CACHE_HOME a cache of our own (tests/engine/CMakeLists.txt).
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fsutil.h"
#include "harness.h"
#include "judge.h"
#include "kit.h"
#include "modules.h"
#include "sandbox.h"
#include "transcript.h"

#ifndef TT_SOURCE_DIR
#error "TT_SOURCE_DIR comes from tests/engine/CMakeLists.txt"
#endif

#define REFERENCE TT_SOURCE_DIR "/reference/src/tensor.c"
#define STARTER TT_SOURCE_DIR "/student/01_tensor/tensor.c"

static tito_kit *kit;
static const tito_module *tensor_module;
static char scratch[256]; /* a private directory for mutated sources */

/* ------------------------------------------------------------ helpers */

static tito_transcript *parse(const char *text, unsigned flags)
{
    tito_transcript *t = NULL;
    CHECK_OK(tito_transcript_parse(&t, text, strlen(text), flags));
    return t;
}

/* Judge the first case of two transcripts; returns the verdict, *message for checks. */
static tito_verdict judge(const char *reference, const char *student, char **message)
{
    tito_transcript *r = parse(reference, TITO_TRANSCRIPT_TIMES);
    tito_transcript *s = parse(student, 0);
    tito_verdict v = TITO_SKIPPED;
    *message = NULL;
    CHECK(r && s && r->n_cases == 1 && s->n_cases == 1 && !r->error && !s->error);
    if (r && s && r->n_cases == 1 && s->n_cases == 1)
        CHECK_OK(tito_judge_case(&v, message, &r->cases[0], &s->cases[0]));
    tito_transcript_free(r);
    tito_transcript_free(s);
    return v;
}

#define CHECK_CONTAINS(text, needle)                                                          \
    do {                                                                                      \
        const char *t_ = (text);                                                              \
        if (!t_ || !strstr(t_, (needle))) {                                                   \
            fprintf(stderr, "%s:%d: %s: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                    harness_current, t_ ? t_ : "(null)", (needle));                           \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

/* A case of reference and one of student, each given as the records between begin/end. */
static char *one_case(const char *records, long live)
{
    size_t n = strlen(records) + 128;
    char *t = malloc(n);
    snprintf(t, n, "tito-transcript 1\nbegin c.x\n%send c.x live=%ld\n", records, live);
    return t;
}

static tito_verdict judge_records(const char *ref, const char *stu, long ref_live, long stu_live,
                                  char **message)
{
    char *r = one_case(ref, ref_live), *s = one_case(stu, stu_live);
    tito_verdict v = judge(r, s, message);
    free(r);
    free(s);
    return v;
}

/* The reference source with `old` replaced by `new` (which must be there), written to
 * <scratch>/<dir>/tensor.c; returns that path (static buffer). */
static const char *mutant(const char *dir, const char *const *pairs)
{
    static char path[512];
    char *text = NULL;
    CHECK_OK(tito_file_read(&text, NULL, REFERENCE));
    if (!text)
        return REFERENCE;
    for (const char *const *p = pairs; p[0]; p += 2) {
        char *at = strstr(text, p[0]);
        CHECK(at != NULL);
        if (!at) {
            fprintf(stderr, "mutation target not found: %s\n", p[0]);
            continue;
        }
        size_t before = (size_t)(at - text), old_len = strlen(p[0]), new_len = strlen(p[1]);
        size_t after = strlen(at + old_len);
        char *next = malloc(before + new_len + after + 1);
        memcpy(next, text, before);
        memcpy(next + before, p[1], new_len);
        memcpy(next + before + new_len, at + old_len, after + 1);
        free(text);
        text = next;
    }
    char d[400];
    snprintf(d, sizeof d, "%s/%s", scratch, dir);
    CHECK_OK(tito_mkdirs(d));
    snprintf(path, sizeof path, "%s/tensor.c", d);
    CHECK_OK(tito_file_write_atomic(path, text, strlen(text), 0644));
    free(text);
    return path;
}

static tito_grade *grade(const char *source, bool full, uint64_t seed, const char *filter)
{
    tito_grade_options o = TITO_GRADE_OPTIONS_INIT;
    o.full = full;
    o.seed_set = true;
    o.seed = seed;
    o.filter = filter;
    o.jobs = 2;
    o.tito_version = "test";
    tito_grade *g = NULL;
    tt_status st = tito_grade_run(&g, kit, tensor_module, source, &o);
    if (st != TT_OK)
        fprintf(stderr, "%s: tito_grade_run: %s\n", harness_current, tt_error_last());
    CHECK(st == TT_OK && g != NULL);
    return g;
}

static const tito_case_result *find_case(const tito_grade *g, const char *name)
{
    for (size_t i = 0; g && i < g->n_cases; i++)
        if (strcmp(g->cases[i].name, name) == 0)
            return &g->cases[i];
    fprintf(stderr, "%s: no case %s in the grade\n", harness_current, name);
    harness_current_failed++;
    return NULL;
}

#define CHECK_VERDICT(g, name, want)                                                          \
    do {                                                                                      \
        const tito_case_result *c_ = find_case((g), (name));                                  \
        if (c_ && c_->verdict != (want)) {                                                    \
            fprintf(stderr, "%s:%d: %s: case %s is %s (%s), expected %s\n", __FILE__, __LINE__, \
                    harness_current, (name), tito_verdict_name(c_->verdict),                  \
                    c_->message ? c_->message : "no message", tito_verdict_name(want));       \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

static const char *message_of(const tito_grade *g, const char *name)
{
    const tito_case_result *c = find_case(g, name);
    return c ? c->message : NULL;
}

static size_t count_verdict(const tito_grade *g, tito_verdict v)
{
    size_t n = 0;
    for (size_t i = 0; g && i < g->n_cases; i++)
        n += g->cases[i].verdict == v;
    return n;
}

/* ------------------------------------------------------------ judge */

static void judge_tolerance_tiers(void)
{
    char *m = NULL;
    /* exact: equal passes, one ulp off fails */
    CHECK(judge_records("tol exact\nscalar v 0x1p+0\n", "scalar v 0x1p+0\n", 0, 0, &m) ==
          TITO_PASS);
    CHECK(judge_records("tol exact\nscalar v 0x1p+0\n", "scalar v 0x1.000002p+0\n", 0, 0, &m) ==
          TITO_FAIL);
    free(m);
    /* elementwise: 1e-6 + 1e-5 |expected| */
    CHECK(judge_records("tol elem\nscalar v 1\n", "scalar v 1.0000105\n", 0, 0, &m) == TITO_PASS);
    CHECK(judge_records("tol elem\nscalar v 1\n", "scalar v 1.000012\n", 0, 0, &m) == TITO_FAIL);
    free(m);
    /* reduction over 100 terms: 1e-5 * 10 * (1 + |expected|) = 2e-4 at 1 */
    CHECK(judge_records("tol reduce 100\nscalar v 1\n", "scalar v 1.00019\n", 0, 0, &m) ==
          TITO_PASS);
    CHECK(judge_records("tol reduce 100\nscalar v 1\n", "scalar v 1.00021\n", 0, 0, &m) ==
          TITO_FAIL);
    free(m);
    /* abs: atol + rtol |expected| */
    CHECK(judge_records("tol abs 0x1.47ae147ae147bp-7 0\nscalar v 2\n", "scalar v 2.0099\n", 0,
                        0, &m) == TITO_PASS);
    CHECK(judge_records("tol abs 0x1.47ae147ae147bp-7 0\nscalar v 2\n", "scalar v 2.0101\n", 0,
                        0, &m) == TITO_FAIL);
    free(m);
    /* NaN matches NaN only; infinity only itself; tolerances apply to tensors too */
    CHECK(judge_records("tol elem\nscalar v nan\n", "scalar v -nan\n", 0, 0, &m) == TITO_PASS);
    CHECK(judge_records("tol elem\nscalar v 1\n", "scalar v nan\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "got nan");
    free(m);
    CHECK(judge_records("tol abs 1 1\nscalar v inf\n", "scalar v 1e300\n", 0, 0, &m) == TITO_FAIL);
    free(m);
    CHECK(judge_records("tol elem\ntensor out 1 2 1 2\n", "tensor out 1 2 1.000001 2\n", 0, 0,
                        &m) == TITO_PASS);
    CHECK(tito_judge_close(0.0, -0.0, &(tito_tolerance){.kind = TITO_TOL_EXACT}));
}

static void judge_messages(void)
{
    char *m = NULL;
    /* The first differing value, its index, the count, and the reference's last note. */
    CHECK(judge_records("note first note\nnote a: [2,3]  b: [2,1]  (b broadcast along dim 1)\n"
                        "tol elem\nstatus status 0 TT_OK\ntensor out 2 2 3 1 2 3 4 3 6\n",
                        "note something the student wrote\nstatus status 0 TT_OK\n"
                        "tensor out 2 2 3 1 2 3 4 2 5\n",
                        0, 0, &m) == TITO_FAIL);
    CHECK(m && strcmp(m, "out[1,1]: expected 3.0, got 2.0 (2 of 6 values differ)\n"
                         "  a: [2,3]  b: [2,1]  (b broadcast along dim 1)") == 0);
    if (m)
        CHECK(!strstr(m, "something the student wrote"));
    free(m);

    /* Shapes. */
    CHECK(judge_records("tensor out 2 2 3 1 2 3 4 5 6\n", "tensor out 2 3 2 1 2 3 4 5 6\n", 0, 0,
                        &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "out: expected shape [2,3], got [3,2]");
    free(m);
    CHECK(judge_records("tensor out 0 5\n", "tensor out 1 1 5\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "expected shape [], got [1]");
    free(m);
    CHECK(judge_records("tensor out 1 2 1 2\n", "tensor out null\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "out: expected a tensor of shape [2], got NULL");
    free(m);
    CHECK(judge_records("tensor out null\n", "tensor out 1 1 0\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "expected NULL");
    free(m);
    CHECK(judge_records("tensor out 1 1 0\n", "tensor out bad its storage is NULL\n", 0, 0, &m) ==
          TITO_FAIL);
    CHECK_CONTAINS(m, "its storage is NULL");
    free(m);

    /* Statuses are named from their codes, not from the student's text. */
    CHECK(judge_records("status status 0 TT_OK\n", "status status -2 TT_OK\n", 0, 0, &m) ==
          TITO_FAIL);
    CHECK_CONTAINS(m, "status: expected TT_OK (success), got TT_ERR_SHAPE (shapes that do not fit)");
    free(m);
    CHECK(judge_records("status s -4 TT_ERR_NOT_IMPLEMENTED\n", "status s 99 X\n", 0, 0, &m) ==
          TITO_FAIL);
    CHECK_CONTAINS(m, "got TT_ERR_UNKNOWN (not a tt_status code)");
    free(m);
    CHECK(judge_records("int numel 6\n", "int numel 0\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "numel: expected 6, got 0");
    free(m);

    /* Missing, extra and different records. */
    CHECK(judge_records("int a 1\nint b 2\n", "int a 1\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "b: the case ended before recording it");
    free(m);
    CHECK(judge_records("int a 1\n", "int a 1\nint b 2\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "recorded more than the reference");
    free(m);
    CHECK(judge_records("int a 1\n", "scalar a 1\n", 0, 0, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "should be int a");
    free(m);
}

static void judge_reference_decides(void)
{
    char *m = NULL;
    /* A student's own tolerance line changes nothing. */
    CHECK(judge_records("tol exact\nscalar v 1\n", "tol abs 1e9 1e9\nscalar v 5\n", 0, 0, &m) ==
          TITO_FAIL);
    free(m);
    /* Leaks: the live counts after the case must match. */
    CHECK(judge_records("int a 1\n", "int a 1\n", 3, 5, &m) == TITO_LEAK);
    CHECK_CONTAINS(m, "2 framework allocations still live after the case");
    free(m);
    CHECK(judge_records("int a 1\n", "int a 1\n", 0, 1, &m) == TITO_LEAK);
    CHECK_CONTAINS(m, "1 framework allocation still live after the case");
    free(m);
    CHECK(judge_records("int a 1\n", "int a 1\n", 0, -1, &m) == TITO_FAIL);
    CHECK_CONTAINS(m, "fewer than the reference");
    free(m);
    /* A value difference is reported before a leak. */
    CHECK(judge_records("int a 1\n", "int a 2\n", 0, 4, &m) == TITO_FAIL);
    free(m);
    CHECK(judge_records("int a 1\n", "int a 1\n", 2, 2, &m) == TITO_PASS);
    CHECK(m == NULL);
}

static void judge_format_values(void)
{
    char buf[48];
    CHECK(strcmp(tito_judge_format_value(buf, sizeof buf, 3.0), "3.0") == 0);
    CHECK(strcmp(tito_judge_format_value(buf, sizeof buf, (double)0.1f), "0.1") == 0);
    CHECK(strcmp(tito_judge_format_value(buf, sizeof buf, 0.1), "0.1") == 0);
    CHECK(strcmp(tito_judge_format_value(buf, sizeof buf, -2.5e-8), "-2.5e-08") == 0);
    CHECK(strcmp(tito_judge_format_value(buf, sizeof buf, 1.0 / 0.0), "inf") == 0);
    CHECK(strcmp(tito_judge_format_value(buf, sizeof buf, (double)NAN), "nan") == 0);
    CHECK(strcmp(tito_judge_format_value(buf, sizeof buf, (double)16777217.0f), "16777216.0") == 0);
}

/* ------------------------------------------------------------ transcript */

static void transcript_good(void)
{
    tito_transcript *t = parse("tito-transcript 1\nbegin a.b\nnote x  y\ntol reduce 7\n"
                               "tensor out 2 1 2 0x1p+0 -inf\nscalar s 0x1.8p+1\nint i -3\n"
                               "status st -2 TT_ERR_SHAPE\nend a.b live=2\ntime 0x1p-10\n"
                               "begin c.d\nend c.d live=0\n",
                               TITO_TRANSCRIPT_TIMES);
    CHECK(t && !t->error && t->has_header && t->n_cases == 2);
    if (t && t->n_cases == 2) {
        const tito_transcript_case *c = &t->cases[0];
        CHECK(c->ended && c->live == 2 && c->seconds == 0x1p-10 && c->n_records == 6);
        CHECK(strcmp(c->records[0].text, "x  y") == 0);
        CHECK(c->records[1].tol.kind == TITO_TOL_REDUCE && c->records[1].tol.k == 7);
        CHECK(c->records[2].ndim == 2 && c->records[2].shape[1] == 2 &&
              c->records[2].values[1] < 0 && c->records[2].values[0] == 1.0);
        CHECK(c->records[3].value == 3.0 && c->records[4].ivalue == -3);
        CHECK(c->records[5].ivalue == -2);
        CHECK(t->cases[1].seconds < 0);
    }
    tito_transcript_free(t);
}

static void transcript_malformed(void)
{
    static const struct {
        const char *text;
        bool in_case;
        const char *mentions;
    } bad[] = {
        {"PASS\n", false, "not a transcript"},
        {"tito-transcript 1\nbegin a\nPASS\nend a live=0\n", true, "unknown record \"PASS\""},
        {"tito-transcript 1\nbegin a\ntensor out 2 2 3 1 2 3\nend a live=0\n", true, "3 values"},
        {"tito-transcript 1\nbegin a\ntensor out 1 2 1 2 3\nend a live=0\n", true, "more values"},
        {"tito-transcript 1\nbegin a\ntensor out 7 1\n", true, "rank"},
        {"tito-transcript 1\nbegin a\nscalar s 1.0x\n", true, "expected one number"},
        {"tito-transcript 1\nbegin a\nint i 99999999999999999999999\n", true, "integer"},
        {"tito-transcript 1\nbegin a\nend b live=0\n", true, "open case a"},
        {"tito-transcript 1\nbegin a\nbegin b\n", true, "begin inside case a"},
        {"tito-transcript 1\nend a live=0\n", false, "end outside"},
        {"tito-transcript 1\nbegin a\nend a live=zero\n", true, "live=N"},
        {"tito-transcript 1\nbegin a\nend a live=0\ntime 1\n", false, "unexpected time"},
        {"tito-transcript 1\nbegin a\ntol fuzzy\n", true, "unknown tolerance"},
        {"tito-transcript 1\nint i 3\n", false, "outside a case"},
        {"tito-transcript 1\nbegin a\n\n", true, "empty line"},
        {"", false, "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tito_transcript *t = parse(bad[i].text, 0);
        CHECK(t && t->error);
        if (!t || !t->error) {
            fprintf(stderr, "  accepted: %s\n", bad[i].text);
        } else {
            CHECK(t->error_in_case == bad[i].in_case);
            CHECK_CONTAINS(t->error, bad[i].mentions);
            if (t->n_cases > 0)
                CHECK(!t->cases[t->n_cases - 1].ended || !bad[i].in_case);
        }
        tito_transcript_free(t);
    }

    /* A NUL byte inside a line. */
    static const char nul[] = "tito-transcript 1\nbegin a\nint i 1\0\nend a live=0\n";
    tito_transcript *t = NULL;
    CHECK_OK(tito_transcript_parse(&t, nul, sizeof nul - 1, 0));
    CHECK(t && t->error && strstr(t->error, "NUL"));
    tito_transcript_free(t);
}

static void transcript_missing_end(void)
{
    /* A process that died in case b: a complete, then b open, its last line cut. */
    tito_transcript *t = parse("tito-transcript 1\nbegin a\nint i 1\nend a live=0\nbegin b\n"
                               "int i 2\ntensor out 1 3 0x1p+0 0x1",
                               0);
    CHECK(t && !t->error && t->n_cases == 2);
    if (t && t->n_cases == 2) {
        CHECK(t->cases[0].ended && !t->cases[1].ended);
        CHECK(t->cases[1].n_records == 1);
    }
    tito_transcript_free(t);
}

static void transcript_random_bytes(void)
{
    /* Whatever the bytes, the parser neither crashes nor accepts nonsense silently. */
    static const char good[] = "tito-transcript 1\nbegin a.b\nnote n\ntol elem\n"
                               "tensor out 2 2 2 0x1p+0 0x1p+1 nan -0x1.8p-3\n"
                               "status s 0 TT_OK\nend a.b live=0\n";
    char buf[sizeof good];
    tt_rng rng;
    tt_rng_init(&rng, 42);
    size_t parsed = 0, rejected = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, good, sizeof good);
        int edits = 1 + (int)tt_rng_below(&rng, 4);
        for (int e = 0; e < edits; e++)
            buf[tt_rng_below(&rng, sizeof good - 1)] = (char)tt_rng_below(&rng, 256);
        size_t len = tt_rng_below(&rng, sizeof good);
        tito_transcript *t = NULL;
        CHECK_OK(tito_transcript_parse(&t, buf, len, 0));
        if (t && t->error)
            rejected++;
        else
            parsed++;
        tito_transcript_free(t);
    }
    CHECK(rejected > 100 && parsed > 10);
}

/* ------------------------------------------------------------ kit */

static void write_text(const char *dir, const char *rel, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    CHECK_OK(tito_mkdirs(path));
    *slash = '/';
    CHECK_OK(tito_file_write_atomic(path, text, strlen(text), 0644));
}

static void kit_errors(void)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/fake-kit", scratch);
    CHECK_OK(tito_mkdirs(dir));
    tito_kit *k = NULL;

    CHECK_STATUS(tito_kit_open(&k, dir), TT_ERR_IO);
    CHECK(k == NULL);
    CHECK_ERROR_MENTIONS("manifest.txt");
    CHECK_ERROR_MENTIONS("rebuild tito");

    write_text(dir, "manifest.txt", "something else\n");
    CHECK_STATUS(tito_kit_open(&k, dir), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("another format");

    write_text(dir, "manifest.txt", "tito-kit 1\n");
    CHECK_STATUS(tito_kit_open(&k, dir), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("include/tinytorch/core.h is missing");

    write_text(dir, "include/tinytorch/core.h", "");
    write_text(dir, "lib/libtinytorch_core.a", "");
    write_text(dir, "probe/probe_main.o", "");
    for (size_t i = 0; i < tito_module_count; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "include/tinytorch/%s.h", tito_modules[i].name);
        write_text(dir, rel, "");
        if (i + 1 < tito_module_count) {
            snprintf(rel, sizeof rel, "ref/%s.o", tito_modules[i].name);
            write_text(dir, rel, "");
        }
    }
    CHECK_STATUS(tito_kit_open(&k, dir), TT_ERR_IO);
    char missing[128];
    snprintf(missing, sizeof missing, "ref/%s.o is missing",
             tito_modules[tito_module_count - 1].name);
    CHECK_ERROR_MENTIONS(missing);

    snprintf(missing, sizeof missing, "ref/%s.o", tito_modules[tito_module_count - 1].name);
    write_text(dir, missing, "");
    CHECK_OK(tito_kit_open(&k, dir));
    CHECK(k && k->root[0] == '/');
    if (k) {
        CHECK(!tito_kit_has_suite(k, tensor_module));
        CHECK_STATUS(tito_kit_check_suite(k, tensor_module), TT_ERR_STATE);
        CHECK_ERROR_MENTIONS("no checks for module 01_tensor");
        /* Grading with it stops before anything runs. */
        tito_grade *g = NULL;
        CHECK_STATUS(tito_grade_run(&g, k, tensor_module, REFERENCE, NULL), TT_ERR_STATE);
        CHECK(g == NULL);
    }
    tito_kit_free(k);

    /* TITO_KIT must name a complete kit: no silent fallback. */
    char *saved = getenv("TITO_KIT") ? strdup(getenv("TITO_KIT")) : NULL;
    setenv("TITO_KIT", "/nonexistent/kit", 1);
    k = NULL;
    CHECK_STATUS(tito_kit_locate(&k), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("TITO_KIT=/nonexistent/kit");
    if (saved)
        setenv("TITO_KIT", saved, 1);
    else
        unsetenv("TITO_KIT");
    free(saved);
}

static void kit_build_tree(void)
{
    CHECK(kit != NULL && tito_kit_has_suite(kit, tensor_module));
    CHECK_OK(tito_kit_check_suite(kit, tensor_module));
    char a[TITO_KIT_HASH_SIZE], b[TITO_KIT_HASH_SIZE];
    CHECK_OK(tito_kit_reference_hash(a, kit));
    CHECK_OK(tito_kit_reference_hash(b, kit));
    CHECK(strncmp(a, "sha256:", 7) == 0 && strlen(a) == 71 && strcmp(a, b) == 0);
    CHECK_OK(tito_kit_suite_hash(b, kit, tensor_module));
    CHECK(strcmp(a, b) != 0);
}

/* ------------------------------------------------------------ grading module 01 */

/* Run a probe by hand (the phase hook's view of the run) and return its transcript. */
static char *probe_transcript(const char *probe, const char *const *args)
{
    const char *argv[16] = {probe};
    size_t n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    o.argv = argv;
    o.transcript = true;
    tito_sandbox_result *r = NULL;
    CHECK_OK(tito_sandbox_run(&r, &o));
    char *text = NULL;
    if (r) {
        CHECK(r->end == TITO_SANDBOX_EXITED && r->exit_code == 0);
        text = strdup(r->transcript.size ? r->transcript.data : r->out.data);
    }
    tito_sandbox_result_free(r);
    return text;
}

/* The text of case `name` in a transcript, from "begin" to "end" (a new string). */
static char *case_text(const char *transcript, const char *name)
{
    char begin[128];
    snprintf(begin, sizeof begin, "begin %s\n", name);
    const char *s = transcript ? strstr(transcript, begin) : NULL;
    const char *e = s ? strstr(s, "\nend ") : NULL;
    if (!s || !e)
        return NULL;
    e = strchr(e + 1, '\n');
    return e ? strndup(s, (size_t)(e - s)) : NULL;
}

static int hook_calls;

static tt_status check_probes(void *ctx, tito_grade *g, const tito_grade_probes *probes)
{
    (void)ctx;
    hook_calls++;
    CHECK(probes->student[0] && probes->student[1] && probes->reference[0] && probes->reference[1]);
    CHECK(strcmp(probes->source_name, "tensor.c") == 0);
    CHECK(probes->seed == g->provenance.seed);
    CHECK(probes->n_cases[0] + probes->n_cases[1] == g->n_cases);
    CHECK(probes->n_cases[0] > 0 && strcmp(probes->case_names[0][0], g->cases[0].name) == 0);
    if (!probes->reference[0])
        return TT_OK;

    /* --list: one line per case, "name category points". */
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    const char *argv[] = {probes->reference[0], "--list", NULL};
    o.argv = argv;
    tito_sandbox_result *r = NULL;
    CHECK_OK(tito_sandbox_run(&r, &o));
    size_t lines = 0, visible = 0;
    for (const char *p = r ? r->out.data : ""; *p; p++)
        lines += *p == '\n';
    for (size_t i = 0; i < g->n_cases; i++)
        visible += !g->cases[i].hidden;
    CHECK(lines == visible);
    CHECK(r && strncmp(r->out.data, "create.zeros creation 2\n", 24) == 0);
    tito_sandbox_result_free(r);

    /* A case sees the same inputs whether the run starts at it or before it, and the
     * seed changes them. */
    const char *all[] = {"--seed", "5eed", NULL};
    const char *from[] = {"--seed", "5eed", "--from", "15", NULL};
    const char *named[] = {"--seed", "5eed", "add.broadcast_col", NULL};
    const char *other[] = {"--seed", "5eee", "add.broadcast_col", NULL};
    char *t_all = probe_transcript(probes->reference[0], all);
    char *t_from = probe_transcript(probes->reference[0], from);
    char *t_named = probe_transcript(probes->reference[0], named);
    char *t_other = probe_transcript(probes->reference[0], other);
    char *c_all = case_text(t_all, "add.broadcast_col");
    char *c_from = case_text(t_from, "add.broadcast_col");
    char *c_named = case_text(t_named, "add.broadcast_col");
    char *c_other = case_text(t_other, "add.broadcast_col");
    CHECK(c_all && c_from && c_named && c_other);
    CHECK(c_all && c_from && strcmp(c_all, c_from) == 0);
    CHECK(c_all && c_named && strcmp(c_all, c_named) == 0);
    CHECK(c_all && c_other && strcmp(c_all, c_other) != 0);
    CHECK(t_from && !strstr(t_from, "begin create.zeros") && strstr(t_from, "begin add.broadcast_col"));
    CHECK(t_named && strstr(t_named, "begin ") == strstr(t_named, "begin add.broadcast_col"));
    CHECK(t_all && strncmp(t_all, "tito-transcript 1\n", 18) == 0);
    free(c_all);
    free(c_from);
    free(c_named);
    free(c_other);
    free(t_all);
    free(t_from);
    free(t_named);
    free(t_other);

    /* --small runs every case, and the speed kernel runs at both sizes. */
    const char *small[] = {"--seed", "1", "--small", NULL};
    char *t_small = probe_transcript(probes->reference[0], small);
    CHECK(t_small && strstr(t_small, "end reduce.errors live=0"));
    CHECK(t_small && strstr(t_small, "tensor out 2 5 3 "));
    free(t_small);
    const char *perf_argv[] = {probes->reference[0], "--perf", "matmul_512", "--reps", "1",
                               "--seed", "1", "--small", NULL};
    o.argv = perf_argv;
    r = NULL;
    CHECK_OK(tito_sandbox_run(&r, &o));
    CHECK(r && r->end == TITO_SANDBOX_EXITED && r->exit_code == 0);
    tito_sandbox_result_free(r);
    return TT_OK;
}

static void grade_reference(void)
{
    tito_grade_options o = TITO_GRADE_OPTIONS_INIT;
    o.full = true;
    o.seed_set = true;
    o.seed = 0x5eed;
    o.jobs = 2;
    o.phase = check_probes;
    hook_calls = 0;
    tito_grade *g = NULL;
    CHECK_OK(tito_grade_run(&g, kit, tensor_module, REFERENCE, &o));
    CHECK(hook_calls == 1);
    if (!g)
        return;
    size_t visible = 0, hidden = 0;
    bool seen_hidden = false;
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        if (c->verdict != TITO_PASS)
            fprintf(stderr, "  %s: %s: %s\n", c->name, tito_verdict_name(c->verdict), c->message);
        CHECK(c->verdict == TITO_PASS && c->message == NULL && c->points == c->max_points &&
              c->max_points > 0);
        if (c->hidden)
            hidden++;
        else
            visible++;
        /* Visible cases first, then hidden ones. */
        CHECK(c->hidden || !seen_hidden);
        seen_hidden = seen_hidden || c->hidden;
    }
    CHECK(visible >= 30 && hidden >= 14);
    CHECK(g->build == TITO_PASS);
    CHECK(g->earned == g->possible && g->possible > 0);
    CHECK(g->full && g->module == 1 && strcmp(g->slug, "01_tensor") == 0);
    CHECK(g->provenance.seed == 0x5eed);
    CHECK(strncmp(g->provenance.source_hash, "sha256:", 7) == 0);
    CHECK(strncmp(g->provenance.suite_hash, "sha256:", 7) == 0);
    CHECK(strncmp(g->provenance.reference_hash, "sha256:", 7) == 0);
    CHECK(strcmp(g->provenance.tito_version, "unknown") == 0);
    CHECK(strcmp(g->provenance.source_path, REFERENCE) == 0);
    CHECK(g->provenance.compiler && strlen(g->provenance.compiler) > 0);
    CHECK(g->provenance.isolation && g->provenance.mem_mb == 1024);
    CHECK(g->seconds_build > 0 && g->seconds_run > 0);
    CHECK(g->memcheck.status == TITO_MEMCHECK_NOT_RUN && g->n_perf == 0);
    tito_grade_free(g);
}

static void grade_starter(void)
{
    tito_grade *g = grade(STARTER, true, 7, NULL);
    if (!g)
        return;
    CHECK(g->build == TITO_PASS);
    CHECK(g->earned == 0 && g->possible > 0);
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        if (c->verdict != TITO_FAIL || !c->message || !strstr(c->message, "not implemented"))
            fprintf(stderr, "  %s: %s: %s\n", c->name, tito_verdict_name(c->verdict),
                    c->message ? c->message : "");
        CHECK(c->verdict == TITO_FAIL);
        CHECK_CONTAINS(c->message, "got TT_ERR_NOT_IMPLEMENTED (not implemented yet)");
    }
    tito_grade_free(g);

    /* -k: only the visible checks whose name contains the text. */
    g = grade(STARTER, false, 7, "matmul");
    if (g) {
        CHECK(g->n_cases >= 5);
        for (size_t i = 0; i < g->n_cases; i++)
            CHECK(strstr(g->cases[i].name, "matmul") && !g->cases[i].hidden);
    }
    tito_grade_free(g);
    tito_grade_options o = TITO_GRADE_OPTIONS_INIT;
    o.filter = "no-such-check";
    g = NULL;
    CHECK_STATUS(tito_grade_run(&g, kit, tensor_module, STARTER, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("no-such-check");
    CHECK(g == NULL);

    /* The default seed comes from the source and the suite: same file, same seed. */
    o.filter = "create.zeros";
    tito_grade *a = NULL, *b = NULL;
    CHECK_OK(tito_grade_run(&a, kit, tensor_module, STARTER, &o));
    CHECK_OK(tito_grade_run(&b, kit, tensor_module, STARTER, &o));
    if (a && b) {
        CHECK(a->provenance.seed == b->provenance.seed);
        CHECK(a->provenance.seed == tito_grade_default_seed(a->provenance.source_hash,
                                                            a->provenance.suite_hash));
        CHECK(a->provenance.seed != tito_grade_default_seed(a->provenance.reference_hash,
                                                            a->provenance.suite_hash));
    }
    tito_grade_free(a);
    tito_grade_free(b);

    /* A source that does not exist is the caller's problem, not a verdict. */
    g = NULL;
    CHECK_STATUS(tito_grade_run(&g, kit, tensor_module, "/nonexistent/tensor.c", NULL), TT_ERR_IO);
    CHECK(g == NULL);
}

/* Bugs in values and in memory management: each touches its own cases. */
static const char *const value_bugs[] = {
    /* Broadcasting forgets the stride-0 trick on the last dimension. */
    "(x->shape[d - lead] == 1 && out_shape[d] != 1)",
    "(x->shape[d - lead] == 1 && out_shape[d] != 1 && d != TT_MAX_DIMS - 1)",
    /* Sums and means stop one element short. */
    "for (size_t i = 0; i < n; i++)\n            acc += p[(ptrdiff_t)i * s];",
    "for (size_t i = 0; i + 1 < n; i++)\n            acc += p[(ptrdiff_t)i * s];",
    /* matmul leaks a block. */
    "    oshape[nd - 1] = n;\n",
    "    oshape[nd - 1] = n;\n    (void)tt_malloc(16);\n",
    NULL,
};

static void grade_values(void)
{
    const char *path = mutant("values", value_bugs);
    tito_grade *g = grade(path, false, 0xabc, NULL);
    if (!g)
        return;
    CHECK(g->build == TITO_PASS);
    /* The broadcast bug: a column broadcast fails with the index, values and shapes. */
    CHECK_VERDICT(g, "add.broadcast_col", TITO_FAIL);
    const char *m = message_of(g, "add.broadcast_col");
    CHECK(m && strncmp(m, "out[0,1]: expected ", 19) == 0);
    CHECK_CONTAINS(m, "values differ)\n  out = a + b;  a: [2,3]  b: [2,1]");
    CHECK_VERDICT(g, "mul.broadcast_both", TITO_FAIL);
    CHECK_VERDICT(g, "add.broadcast_row", TITO_PASS);
    CHECK_VERDICT(g, "add.same_shape", TITO_PASS);
    CHECK_VERDICT(g, "sub.scalar_tensor", TITO_PASS);
    /* The reduction bug. */
    CHECK_VERDICT(g, "sum.axis0", TITO_FAIL);
    CHECK_CONTAINS(message_of(g, "sum.axis0"), "out[0]: expected ");
    CHECK_CONTAINS(message_of(g, "sum.axis0"), "x: [4,5] -> [5]");
    CHECK_VERDICT(g, "mean.last_axis", TITO_FAIL);
    CHECK_VERDICT(g, "max.axis1", TITO_PASS);
    CHECK_VERDICT(g, "argmax.axis1", TITO_PASS);
    /* The leak: every matmul that succeeds, nothing else. */
    CHECK_VERDICT(g, "matmul.2d", TITO_LEAK);
    CHECK_CONTAINS(message_of(g, "matmul.2d"), "1 framework allocation still live after the case");
    CHECK_VERDICT(g, "matmul.batched", TITO_LEAK);
    CHECK_VERDICT(g, "matmul.errors", TITO_PASS);
    /* Everything the bugs do not touch passes. */
    CHECK_VERDICT(g, "create.zeros", TITO_PASS);
    CHECK_VERDICT(g, "view.reshape_write_through", TITO_PASS);
    CHECK_VERDICT(g, "reduce.errors", TITO_PASS);
    CHECK(count_verdict(g, TITO_CRASH) == 0 && count_verdict(g, TITO_TIMEOUT) == 0);
    CHECK(g->earned > 0 && g->earned < g->possible);

    /* Determinism: the same source and seed give the same grade, to the letter; another
     * seed draws other inputs. */
    tito_grade *again = grade(path, false, 0xabc, NULL);
    tito_grade *other = grade(path, false, 0xabd, NULL);
    CHECK(again && other && again->n_cases == g->n_cases && other->n_cases == g->n_cases);
    for (size_t i = 0; again && i < g->n_cases && i < again->n_cases; i++) {
        const tito_case_result *x = &g->cases[i], *y = &again->cases[i];
        CHECK(strcmp(x->name, y->name) == 0 && x->verdict == y->verdict &&
              x->points == y->points && x->signal == y->signal);
        CHECK((x->message == NULL) == (y->message == NULL));
        if (x->message && y->message)
            CHECK(strcmp(x->message, y->message) == 0);
    }
    CHECK(again && again->earned == g->earned);
    if (other) {
        const char *a = message_of(g, "add.broadcast_col"), *b = message_of(other, "add.broadcast_col");
        CHECK(a && b && strcmp(a, b) != 0);
        CHECK(other->provenance.seed == 0xabd);
    }
    tito_grade_free(again);
    tito_grade_free(other);
    tito_grade_free(g);
}

/* Bugs that kill, hang, flood or exhaust the probe: each costs its own case only. */
static const char *const runtime_bugs[] = {
    /* argmax never returns. */
    "tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim)\n{",
    "tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim)\n{\n"
    "    volatile int spin = 1;\n    while (spin) {\n    }",
    /* sum_all dereferences NULL. */
    "tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)\n{",
    "tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)\n{\n"
    "    volatile float *nowhere = NULL;\n    *nowhere = 1.0f;",
    /* broadcast_shape prints far too much. */
    "tt_status tt_broadcast_shape(int *ndim, size_t *shape, const tt_tensor *a, const tt_tensor *b)\n{",
    "tt_status tt_broadcast_shape(int *ndim, size_t *shape, const tt_tensor *a, const tt_tensor *b)\n{\n"
    "    for (int i = 0; i < 200000; i++)\n"
    "        printf(\"tt_broadcast_shape: debugging line %d\\n\", i);",
    /* item allocates until memory runs out, and uses what it got. */
    "tt_status tt_tensor_item(const tt_tensor *t, float *value)\n{",
    "tt_status tt_tensor_item(const tt_tensor *t, float *value)\n{\n"
    "    for (;;) {\n"
    "        volatile char *block = tt_malloc((size_t)16 << 20);\n"
    "        block[0] = 1;\n"
    "    }",
    NULL,
};

static void grade_runtime(void)
{
    const char *path = mutant("runtime", runtime_bugs);
    tito_grade *g = grade(path, false, 0xdef, NULL);
    if (!g)
        return;
    CHECK(g->build == TITO_PASS);
    CHECK_VERDICT(g, "argmax.axis1", TITO_TIMEOUT);
    CHECK_CONTAINS(message_of(g, "argmax.axis1"), "no result after 2.0 s (the reference takes");
    CHECK_VERDICT(g, "sum_mean_all", TITO_CRASH);
    const tito_case_result *c = find_case(g, "sum_mean_all");
    CHECK(c && c->signal == SIGSEGV);
    CHECK_CONTAINS(message_of(g, "sum_mean_all"), "crashed with SIGSEGV during this case");
    CHECK_VERDICT(g, "broadcast_shape", TITO_OUTPUT_LIMIT);
    CHECK_CONTAINS(message_of(g, "broadcast_shape"), "printed more than 1024 KiB during this case");
    CHECK_VERDICT(g, "create.scalar", TITO_MEMORY_LIMIT);
    CHECK_CONTAINS(message_of(g, "create.scalar"), "ran out of memory during this case");
    CHECK(count_verdict(g, TITO_TIMEOUT) == 1 && count_verdict(g, TITO_CRASH) == 1);
    /* One bad case costs one case: the rest, before and after, pass. */
    CHECK(count_verdict(g, TITO_PASS) == g->n_cases - 4);
    CHECK_VERDICT(g, "max.axis1", TITO_PASS);
    CHECK_VERDICT(g, "sum.noncontiguous", TITO_PASS);
    CHECK_VERDICT(g, "reduce.errors", TITO_PASS);
    tito_grade_free(g);
}

/* A fault before any case (here: a constructor that never returns) would strike at
 * every restart: all cases get it at once, after one run. */
static void grade_runtime_startup(void)
{
    static const char *const stall[] = {
        "/* ------------------------------------------------------------------ scaffolding */",
        "__attribute__((constructor)) static void stall(void)\n{\n    volatile int spin = 1;\n"
        "    while (spin) {\n    }\n}\n",
        NULL,
    };
    tito_grade *g = grade(mutant("startup", stall), false, 4, NULL);
    if (!g)
        return;
    CHECK(g->build == TITO_PASS);
    CHECK(count_verdict(g, TITO_TIMEOUT) == g->n_cases);
    CHECK_CONTAINS(g->cases[0].message, "no result after 2.0 s");
    CHECK(g->seconds_run < 10.0);
    tito_grade_free(g);
}

static void grade_build_errors(void)
{
    /* A syntax error: every case is a compile error, the log names the line. */
    static const char *const syntax[] = {
        "    return tensor_new(__func__, out, ndim, shape, true);",
        "    return tensor_new(__func__, out, ndim, shape, true)",
        NULL,
    };
    tito_grade *g = grade(mutant("syntax", syntax), false, 1, NULL);
    if (g) {
        CHECK(g->build == TITO_COMPILE_ERROR);
        const char *start = "tensor.c: In function 'tt_tensor_zeros':\ntensor.c:";
        CHECK(g->build_log && strncmp(g->build_log, start, strlen(start)) == 0);
        CHECK_CONTAINS(g->build_log, ": error: expected ';'");
        CHECK(g->build_log && !strstr(g->build_log, "/tmp/"));
        CHECK(count_verdict(g, TITO_COMPILE_ERROR) == g->n_cases && g->earned == 0);
        CHECK_CONTAINS(g->cases[0].message, "tensor.c does not compile");
    }
    tito_grade_free(g);

    /* A compile that explodes ends as a verdict too (the compiler's memory limit). */
    char path[400];
    snprintf(path, sizeof path, "%s/explode", scratch);
    CHECK_OK(tito_mkdirs(path));
    snprintf(path, sizeof path, "%s/explode/tensor.c", scratch);
    CHECK_OK(tito_file_write_atomic(path, "#include \"/dev/zero\"\n", 21, 0644));
    g = grade(path, false, 1, "create.zeros");
    if (g) {
        CHECK(g->build == TITO_COMPILE_ERROR);
        CHECK_CONTAINS(g->build_log, "out of memory");
        CHECK(g->build_log && g->build_log[0] != '\n');
    }
    tito_grade_free(g);

    /* A missing function: a link error that names it and its header. */
    static const char *const missing[] = {
        "tt_status tt_tensor_add(tt_tensor **out",
        "tt_status tt_tensor_add_renamed(tt_tensor **out",
        NULL,
    };
    g = grade(mutant("missing", missing), true, 1, NULL);
    if (g) {
        CHECK(g->build == TITO_LINK_ERROR);
        const char *start = "tt_tensor_add is missing: tensor.c must define it as declared in "
                            "tinytorch/tensor.h";
        CHECK(g->build_log && strncmp(g->build_log, start, strlen(start)) == 0);
        CHECK(count_verdict(g, TITO_LINK_ERROR) == g->n_cases && g->n_cases > 40);
        CHECK_CONTAINS(g->cases[0].message, "tt_tensor_add is missing");
    }
    tito_grade_free(g);

    /* A definition the course already has. */
    static const char *const twice[] = {
        "tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)\n{",
        "float tt_rng_uniform(tt_rng *rng)\n{\n    (void)rng;\n    return 0.5f;\n}\n\n"
        "tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)\n{",
        NULL,
    };
    g = grade(mutant("twice", twice), false, 1, "create.zeros");
    if (g) {
        CHECK(g->build == TITO_LINK_ERROR);
        CHECK_CONTAINS(g->build_log, "tt_rng_uniform is defined twice: tensor.c defines it");
    }
    tito_grade_free(g);
}

/* Code that prints "PASS" and writes transcript lines of its own still fails. */
static const char *const cheating_bugs[] = {
    "#include <math.h>\n",
    "#include <math.h>\n#include <unistd.h>\n",
    /* add prints, writes to fd 3, and returns zeros. */
    "tt_status tt_tensor_add(tt_tensor **out, tt_tensor *a, tt_tensor *b)\n{",
    "tt_status tt_tensor_add(tt_tensor **out, tt_tensor *a, tt_tensor *b)\n{\n"
    "    static const char fake[] = \"PASS\\nend add.same_shape live=0\\n\";\n"
    "    printf(\"PASS\\n\");\n"
    "    (void)!write(3, fake, sizeof fake - 1);\n"
    "    return tt_tensor_zeros(out, a->ndim, a->shape);",
    /* mul writes a fake ending to every descriptor it can. */
    "tt_status tt_tensor_mul(tt_tensor **out, tt_tensor *a, tt_tensor *b)\n{",
    "tt_status tt_tensor_mul(tt_tensor **out, tt_tensor *a, tt_tensor *b)\n{\n"
    "    static const char fake[] = \"\\nend mul.broadcast_both live=0\\n\";\n"
    "    for (int fd = 1; fd < 1024; fd++)\n"
    "        (void)!write(fd, fake, sizeof fake - 1);",
    NULL,
};

static void grade_cheating(void)
{
    tito_grade *g = grade(mutant("cheating", cheating_bugs), false, 3, NULL);
    if (!g)
        return;
    CHECK_VERDICT(g, "add.same_shape", TITO_FAIL);
    CHECK_CONTAINS(message_of(g, "add.same_shape"), "out[0,0]: expected");
    CHECK_VERDICT(g, "add.broadcast_row", TITO_FAIL);
    CHECK_VERDICT(g, "mul.broadcast_both", TITO_FAIL);
    CHECK_CONTAINS(message_of(g, "mul.broadcast_both"), "transcript is malformed");
    for (size_t i = 0; i < g->n_cases; i++) {
        const char *n = g->cases[i].name;
        if (strncmp(n, "add.", 4) == 0 || strncmp(n, "mul.", 4) == 0)
            CHECK(g->cases[i].verdict != TITO_PASS);
    }
    CHECK_VERDICT(g, "create.zeros", TITO_PASS);
    CHECK_VERDICT(g, "matmul.2d", TITO_PASS);
    CHECK(count_verdict(g, TITO_CRASH) == 0);
    tito_grade_free(g);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    snprintf(scratch, sizeof scratch, "/tmp/tito-engine-test-XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    /* Sources are read by the sandbox user when we are root. */
    chmod(scratch, 0755);
    tensor_module = tito_module_find("01_tensor");
    if (tito_kit_locate(&kit) != TT_OK) {
        fprintf(stderr, "no kit: %s\n", tt_error_last());
        return 1;
    }

    RUN(judge_tolerance_tiers);
    RUN(judge_messages);
    RUN(judge_reference_decides);
    RUN(judge_format_values);
    RUN(transcript_good);
    RUN(transcript_malformed);
    RUN(transcript_missing_end);
    RUN(transcript_random_bytes);
    RUN(kit_errors);
    RUN(kit_build_tree);
    RUN(grade_reference);
    RUN(grade_starter);
    RUN(grade_values);
    RUN(grade_runtime);
    RUN(grade_runtime_startup);
    RUN(grade_build_errors);
    RUN(grade_cheating);

    tito_kit_free(kit);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
    return harness_summary();
}
