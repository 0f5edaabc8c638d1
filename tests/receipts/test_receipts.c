/*
 * tests/receipts/test_receipts.c: scoring, receipts, exporters and the Valgrind-log
 * parser, on hand-built grades and on committed logs (tests/receipts/logs/).
 *
 * The hand-built grade has hidden checks whose names and messages contain "SECRET": no
 * output meant for students may contain that word. Messages carry quotes, commas, line
 * breaks, markup characters, non-ASCII text, invalid UTF-8 and control bytes, which
 * every exporter must carry or replace without breaking its format.
 *
 *   test_receipts [FILTER]            run the tests (RECEIPTS_LOGS names the log folder)
 *   test_receipts --junit FILE        only write the JUnit XML of the grade (for xmllint)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "export.h"
#include "fsutil.h"
#include "grade.h"
#include "harness.h"
#include "memcheck.h"
#include "perf.h"
#include "receipt.h"
#include "score.h"
#include "xmlcheck.h"

static char *sdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "out of memory\n");
        exit(3);
    }
    return d;
}

#define FAIL_MESSAGE                                                                           \
    "out[1,0]: expected 3.0, got 2.0\n a: [2,3]  b: [2,1] \"quoted\", commas, <tags> & "      \
    "ampersands, 'single', tab\there, CR\r here; non-ASCII: \xC3\xA9 \xE2\x88\x91 \xF0\x9F\x99\x82"

typedef struct case_spec {
    const char *name, *category;
    bool hidden;
    tito_verdict verdict;
    int signal, max_points;
    const char *message;
} case_spec;

static const case_spec specs[] = {
    {"create.zeros", "creation", false, TITO_PASS, 0, 2, NULL},
    {"add.broadcast_col", "elementwise", false, TITO_FAIL, 0, 2, FAIL_MESSAGE},
    {"matmul.SECRET_a", "matmul", true, TITO_FAIL, 0, 3, "SECRET inputs 1 2 3"},
    {"matmul.SECRET_b", "matmul", true, TITO_PASS, 0, 3, NULL},
    {"reduce.SECRET_c", "reductions", true, TITO_CRASH, 11, 2, "SECRET crash details"},
    {"views.bytes", "views", false, TITO_FAIL, 0, 1, "bad \xFF\xFE bytes \x01 and \xEF\xBF\xBF end"},
};
#define N_SPECS (sizeof specs / sizeof specs[0])

/* A grade as the phases would leave it, before scoring. */
static tito_grade *make_grade(void)
{
    tito_grade *g = calloc(1, sizeof *g);
    if (!g)
        exit(3);
    g->module = 1;
    g->slug = sdup("01_tensor");
    g->full = true;
    g->build = TITO_PASS;
    g->cases = calloc(N_SPECS, sizeof *g->cases);
    g->n_cases = N_SPECS;
    for (size_t i = 0; i < N_SPECS; i++) {
        tito_case_result *c = &g->cases[i];
        c->name = sdup(specs[i].name);
        c->category = sdup(specs[i].category);
        c->hidden = specs[i].hidden;
        c->verdict = specs[i].verdict;
        c->signal = specs[i].signal;
        c->max_points = specs[i].max_points;
        c->points = c->verdict == TITO_PASS ? c->max_points : 0;
        c->message = sdup(specs[i].message);
    }
    g->memcheck.status = TITO_MEMCHECK_FINDINGS;
    g->memcheck.findings = calloc(2, sizeof *g->memcheck.findings);
    g->memcheck.n_findings = 2;
    g->memcheck.findings[0] = (tito_memcheck_finding){
        TITO_LEAK, sdup("add.broadcast_col"), sdup("96 bytes definitely lost"),
        sdup("tensor.c:212 (tt_tensor_transpose)"), 96};
    g->memcheck.findings[1] = (tito_memcheck_finding){
        TITO_MEMORY_ERROR, sdup("reduce.SECRET_c"),
        sdup("crash: SIGSEGV reading 8 bytes, 0 bytes past the end of a 24-byte block allocated at "
            "tensor.c:150 (tensor_new)"),
        sdup("tensor.c:1130 (tt_tensor_sum)"), 8};
    g->perf = calloc(1, sizeof *g->perf);
    g->n_perf = 1;
    g->perf[0] = (tito_perf_result){sdup("matmul_512"), sdup("x reference"), 0.41, 0.03, 7, false,
                                    TITO_PASS, NULL, 0, 0};
    tito_provenance *p = &g->provenance;
    p->commit = sdup("4c2a9e1f00112233445566778899aabbccddeeff");
    p->dirty = true;
    p->source_path = sdup("modules/01_tensor/tensor.c");
    p->source_hash = sdup("sha256:1111111111111111111111111111111111111111111111111111111111111111");
    p->suite_hash = sdup("sha256:2222222222222222222222222222222222222222222222222222222222222222");
    p->reference_hash = sdup("sha256:3333333333333333333333333333333333333333333333333333333333333333");
    p->tito_version = sdup("0.1.0");
    p->compiler = sdup("gcc 12.2.0");
    p->seed = 0x5e1f00c0ffee1234ULL;
    p->isolation = sdup("user-ns pid-ns net-ns");
    p->cpu_seconds = 10;
    p->mem_mb = 512;
    g->seconds_build = 1.234;
    g->seconds_run = 0.5;
    g->seconds_memcheck = 2.25;
    g->seconds_perf = 3.0;
    return g;
}

static tito_grade *make_scored_grade(void)
{
    tito_grade *g = make_grade();
    tito_score_rules rules;
    tito_score_rules_default(&rules);
    CHECK_OK(tito_score_apply(g, &rules));
    return g;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && (p[i] | 0x20) == (needle[i] | 0x20))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ shared view */

static void test_utf8_dup(void)
{
    char *s = tito_utf8_dup("ok \xC3\xA9 \xFF x \xE2\x88 y \xED\xA0\x80 z \xF0\x9F\x99\x82");
    CHECK(s && strcmp(s, "ok \xC3\xA9 \xEF\xBF\xBD x \xEF\xBF\xBD\xEF\xBF\xBD y "
                         "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD z \xF0\x9F\x99\x82") == 0);
    free(s);
    CHECK(tito_utf8_dup(NULL) == NULL);
}

static void test_public_names_and_hints(void)
{
    tito_grade *g = make_grade();
    char buf[512];
    CHECK(strcmp(tito_case_public_name(g, 1, buf, sizeof buf), "add.broadcast_col") == 0);
    CHECK(strcmp(tito_case_public_name(g, 2, buf, sizeof buf), "hidden.matmul.1") == 0);
    CHECK(strcmp(tito_case_public_name(g, 3, buf, sizeof buf), "hidden.matmul.2") == 0);
    CHECK(strcmp(tito_case_public_name(g, 4, buf, sizeof buf), "hidden.reductions.1") == 0);
    CHECK(tito_case_public_message(g, 0, buf, sizeof buf) == NULL);
    CHECK(tito_case_public_message(g, 3, buf, sizeof buf) == NULL);
    const char *m = tito_case_public_message(g, 2, buf, sizeof buf);
    CHECK(m && strstr(m, "\"matmul\"") && !contains_ci(m, "secret"));
    m = tito_case_public_message(g, 4, buf, sizeof buf);
    CHECK(m && strstr(m, "crashed (SIGSEGV)") && !contains_ci(m, "secret"));
    CHECK(strcmp(tito_case_public_message(g, 1, buf, sizeof buf), FAIL_MESSAGE) == 0);
    CHECK(strcmp(tito_finding_public_case(g, "reduce.SECRET_c", buf, sizeof buf), "hidden.reductions.1") == 0);
    CHECK(tito_finding_public_case(g, "no.such.case", buf, sizeof buf) == NULL);
    CHECK(tito_finding_public_case(g, NULL, buf, sizeof buf) == NULL);
    tito_verdict v = TITO_PASS;
    CHECK(tito_verdict_parse("memory-error", &v) && v == TITO_MEMORY_ERROR);
    CHECK(!tito_verdict_parse("passed", &v));
    tito_grade_free(g);
}

/* ------------------------------------------------------------ score */

static void test_score_mixed_grade(void)
{
    tito_grade *g = make_grade();
    tito_score_rules rules;
    tito_score_rules_default(&rules);
    CHECK_OK(tito_score_apply(g, &rules));
    /* Cases: 2 + 3 of 13 raw points -> floor(70 * 5 / 13) = 26. */
    CHECK(g->cases[0].points == 2 && g->cases[1].points == 0 && g->cases[3].points == 3);
    CHECK(g->memcheck.points == 0 && g->memcheck.max_points == 15);
    /* A hidden matmul check fails: the matmul kernel's speed does not count. */
    CHECK(g->perf[0].points == 0 && g->perf[0].max_points == 15);
    CHECK(g->perf[0].message && strstr(g->perf[0].message, "\"matmul\" check"));
    CHECK(g->earned == 26 && g->possible == 100);
    /* Scoring again changes nothing, not even the message. */
    char *before = sdup(g->perf[0].message);
    CHECK_OK(tito_score_apply(g, &rules));
    CHECK(g->earned == 26 && g->possible == 100 && strcmp(before, g->perf[0].message) == 0);
    free(before);
    tito_grade_free(g);
}

static void all_pass(tito_grade *g)
{
    for (size_t i = 0; i < g->n_cases; i++)
        g->cases[i].verdict = TITO_PASS;
    g->memcheck.status = TITO_MEMCHECK_CLEAN;
}

static void test_score_bands_and_exclusions(void)
{
    tito_score_rules rules;
    tito_score_rules_default(&rules);
    struct {
        double ratio;
        int speed;
    } bands[] = {{0.41, 15}, {0.25, 15}, {0.2499, 10}, {0.12, 10}, {0.05, 5}, {0.02, 0}};
    for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++) {
        tito_grade *g = make_grade();
        all_pass(g);
        g->perf[0].ratio = bands[i].ratio;
        CHECK_OK(tito_score_apply(g, &rules));
        CHECK(g->perf[0].points == bands[i].speed);
        CHECK(g->earned == 70 + 15 + bands[i].speed && g->possible == 100);
        tito_grade_free(g);
    }

    /* Valgrind missing and an unmeasurable reference: out of the possible points. */
    tito_grade *g = make_grade();
    all_pass(g);
    g->memcheck.status = TITO_MEMCHECK_ERROR;
    g->perf[0].verdict = TITO_SKIPPED;
    CHECK_OK(tito_score_apply(g, &rules));
    CHECK(g->memcheck.max_points == 0 && g->perf[0].max_points == 0);
    CHECK(g->earned == 70 && g->possible == 70);
    tito_grade_free(g);

    /* A matmul check that only leaked still had the right values: speed counts. */
    g = make_grade();
    all_pass(g);
    g->cases[2].verdict = TITO_LEAK;
    CHECK_OK(tito_score_apply(g, &rules));
    CHECK(g->perf[0].points == 15 && g->perf[0].message == NULL);
    tito_grade_free(g);

    /* A kernel that crashed earns nothing but still counts. */
    g = make_grade();
    all_pass(g);
    g->perf[0].verdict = TITO_CRASH;
    CHECK_OK(tito_score_apply(g, &rules));
    CHECK(g->perf[0].points == 0 && g->perf[0].max_points == 15 && g->earned == 85 && g->possible == 100);
    tito_grade_free(g);

    /* tito module test: correctness only, on the visible cases it ran. */
    g = make_grade();
    g->full = false;
    CHECK_OK(tito_score_apply(g, &rules));
    CHECK(g->memcheck.max_points == 0 && g->perf[0].max_points == 0);
    CHECK(g->possible == 70 && g->earned == 26);
    tito_grade_free(g);

    /* A build that failed: nothing earned, memcheck lost too. */
    g = make_grade();
    g->build = TITO_COMPILE_ERROR;
    g->memcheck.status = TITO_MEMCHECK_NOT_RUN;
    g->perf[0].verdict = TITO_COMPILE_ERROR;
    CHECK_OK(tito_score_apply(g, &rules));
    CHECK(g->earned == 0 && g->possible == 100);
    tito_grade_free(g);

    /* Negative shares are refused. */
    tito_score_rules bad = rules;
    bad.memcheck = -1;
    g = make_grade();
    CHECK_STATUS(tito_score_apply(g, &bad), TT_ERR_INVALID_ARG);
    tito_grade_free(g);
}

static void test_score_split_over_kernels(void)
{
    tito_score_rules rules;
    tito_score_rules_default(&rules);
    tito_grade *g = make_grade();
    all_pass(g);
    tito_perf_result *grown = realloc(g->perf, 2 * sizeof *grown);
    if (!grown)
        exit(3);
    g->perf = grown;
    g->perf[1] = (tito_perf_result){sdup("conv_small"), sdup("x reference"), 0.12, 0.0, 7, false,
                                    TITO_PASS, NULL, 0, 0};
    g->n_perf = 2;
    CHECK_OK(tito_score_apply(g, &rules));
    /* 15 split as 8 + 7; "conv" has no checks of its own, so every check must pass
     * (they do); 0.41 -> all 8, 0.12 -> 10/15 of 7 = 4. */
    CHECK(g->perf[0].max_points == 8 && g->perf[1].max_points == 7);
    CHECK(g->perf[0].points == 8 && g->perf[1].points == 4);
    CHECK(g->earned == 70 + 15 + 12 && g->possible == 100);
    char cat[32];
    CHECK(strcmp(tito_score_kernel_category("matmul_512", cat, sizeof cat), "matmul") == 0);
    CHECK(strcmp(tito_score_kernel_category("softmax", cat, sizeof cat), "softmax") == 0);
    tito_grade_free(g);

    /* Rules from a course module entry. */
    tito_speed_band course_bands[] = {{0.5, 20}, {0.2, 10}};
    tito_course_module cm = {0};
    cm.points_correctness = 60;
    cm.points_memcheck = 20;
    cm.points_speed = 20;
    cm.bands = course_bands;
    cm.n_bands = 2;
    tito_score_rules from_course;
    tito_score_rules_from_course(&from_course, &cm);
    g = make_grade();
    all_pass(g);
    g->perf[0].ratio = 0.3;
    CHECK_OK(tito_score_apply(g, &from_course));
    CHECK(g->earned == 60 + 20 + 10 && g->possible == 100);
    tito_grade_free(g);
}

/* ------------------------------------------------------------ receipts */

static const time_t fixed_time = 1795694645; /* 2026-11-26T12:04:05Z */

static void test_receipt_contents(void)
{
    tito_grade *g = make_scored_grade();
    json_t *j = NULL;
    CHECK_OK(tito_receipt_to_json(&j, g, fixed_time));
    CHECK(j != NULL);
    if (!j) {
        tito_grade_free(g);
        return;
    }
    CHECK(strcmp(json_string_value(json_object_get(j, "schema")), "tito-receipt/1") == 0);
    CHECK(strcmp(json_string_value(json_object_get(j, "module")), "01_tensor") == 0);
    CHECK(strcmp(json_string_value(json_object_get(j, "created_at")), "2026-11-26T12:04:05Z") == 0);
    json_t *score = json_object_get(j, "score");
    CHECK(json_integer_value(json_object_get(score, "earned")) == 26);
    CHECK(json_integer_value(json_object_get(score, "possible")) == 100);
    CHECK(json_integer_value(json_object_get(json_object_get(score, "correctness"), "possible")) == 70);
    json_t *tests = json_object_get(j, "tests");
    CHECK(json_array_size(tests) == N_SPECS);
    json_t *t2 = json_array_get(tests, 2);
    CHECK(strcmp(json_string_value(json_object_get(t2, "name")), "hidden.matmul.1") == 0);
    CHECK(strcmp(json_string_value(json_object_get(t2, "visibility")), "hidden") == 0);
    CHECK(strcmp(json_string_value(json_object_get(t2, "status")), "fail") == 0);
    json_t *t4 = json_array_get(tests, 4);
    CHECK(json_integer_value(json_object_get(t4, "signal")) == 11);
    json_t *t5 = json_array_get(tests, 5);
    CHECK(strstr(json_string_value(json_object_get(t5, "message")), "\xEF\xBF\xBD") != NULL);
    json_t *mc = json_object_get(j, "memcheck");
    CHECK(strcmp(json_string_value(json_object_get(mc, "status")), "findings") == 0);
    json_t *leak = json_array_get(json_object_get(mc, "leaks"), 0);
    CHECK(strcmp(json_string_value(json_object_get(leak, "message")),
                 "leak: 96 bytes allocated at tensor.c:212 (tt_tensor_transpose) never freed") == 0);
    json_t *err = json_array_get(json_object_get(mc, "errors"), 0);
    CHECK(strcmp(json_string_value(json_object_get(err, "case")), "hidden.reductions.1") == 0);
    json_t *perf = json_array_get(json_object_get(j, "perf"), 0);
    CHECK(json_real_value(json_object_get(perf, "ratio")) == 0.41);
    CHECK(json_integer_value(json_object_get(perf, "trials")) == 7);
    json_t *prov = json_object_get(j, "provenance");
    CHECK(strcmp(json_string_value(json_object_get(prov, "seed")), "0x5e1f00c0ffee1234") == 0);
    CHECK(strncmp(json_string_value(json_object_get(json_object_get(prov, "sources"), "tensor.c")),
                  "sha256:", 7) == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(prov, "limits"), "mem_mb")) == 512);
    CHECK(json_real_value(json_object_get(json_object_get(j, "timings"), "build_s")) == 1.234);
    json_decref(j);

    char *text = NULL;
    CHECK_OK(tito_receipt_dumps(&text, g, fixed_time));
    CHECK(text && !contains_ci(text, "secret"));
    CHECK(text && text[strlen(text) - 1] == '\n');
    free(text);
    tito_grade_free(g);
}

static void test_receipt_round_trip(void)
{
    tito_grade *g = make_scored_grade();
    char *first = NULL, *second = NULL;
    tito_receipt *r = NULL;
    CHECK_OK(tito_receipt_dumps(&first, g, fixed_time));
    CHECK_OK(tito_receipt_parse(&r, first, strlen(first), "first"));
    if (r) {
        tito_grade *b = r->grade;
        CHECK(r->created == fixed_time);
        CHECK(strcmp(r->created_at, "2026-11-26T12:04:05Z") == 0);
        CHECK(b->module == 1 && b->full && b->earned == g->earned && b->possible == g->possible);
        CHECK(b->n_cases == N_SPECS && b->cases[2].hidden && strcmp(b->cases[2].name, "hidden.matmul.1") == 0);
        CHECK(b->cases[4].verdict == TITO_CRASH && b->cases[4].signal == 11);
        CHECK(strcmp(b->cases[1].message, FAIL_MESSAGE) == 0);
        CHECK(b->memcheck.status == TITO_MEMCHECK_FINDINGS && b->memcheck.n_findings == 2);
        CHECK(b->memcheck.findings[0].bytes == 96 && b->memcheck.findings[1].kind == TITO_MEMORY_ERROR);
        CHECK(b->n_perf == 1 && b->perf[0].ratio == 0.41 && b->perf[0].spread == 0.03);
        CHECK(b->provenance.seed == g->provenance.seed && b->provenance.dirty);
        CHECK(strcmp(b->provenance.source_hash, g->provenance.source_hash) == 0);
        CHECK(strcmp(b->provenance.source_path, "modules/01_tensor/tensor.c") == 0);
        CHECK(b->seconds_memcheck == 2.25);
        /* Written again, the grade read back gives the same text. */
        CHECK_OK(tito_receipt_dumps(&second, b, r->created));
        CHECK(first && second && strcmp(first, second) == 0);
    }
    tito_receipt_free(r);
    free(first);
    free(second);
    tito_grade_free(g);
}

static void test_receipt_file(void)
{
    char dir[] = "/tmp/tito-receipt-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/.tito/results/01_tensor.json", dir);
    tito_grade *g = make_scored_grade();
    CHECK_OK(tito_receipt_write(path, g, fixed_time));
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644);
    tito_receipt *r = NULL;
    CHECK_OK(tito_receipt_read(&r, path));
    CHECK(r && r->grade->earned == g->earned);
    tito_receipt_free(r);
    r = NULL;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nothing.json", dir);
    CHECK_STATUS(tito_receipt_read(&r, missing), TT_ERR_IO);
    CHECK(r == NULL);
    tito_grade_free(g);
    remove(path);
    snprintf(path, sizeof path, "%s/.tito/results", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/.tito", dir);
    rmdir(path);
    CHECK(rmdir(dir) == 0);
}

/* Replace the first `from` in text by `to` and try to parse it: must fail naming `field`. */
static void expect_refused(const char *text, const char *from, const char *to, const char *field)
{
    const char *at = strstr(text, from);
    CHECK(at != NULL);
    if (!at)
        return;
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *edited = malloc(n);
    if (!edited)
        exit(3);
    snprintf(edited, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    tito_receipt *r = NULL;
    CHECK_STATUS(tito_receipt_parse(&r, edited, strlen(edited), "x.json"), TT_ERR_FORMAT);
    CHECK(r == NULL);
    CHECK_ERROR_MENTIONS("receipt x.json: ");
    CHECK_ERROR_MENTIONS(field);
    free(edited);
}

static void test_receipt_validation(void)
{
    tito_grade *g = make_scored_grade();
    char *text = NULL;
    CHECK_OK(tito_receipt_dumps(&text, g, fixed_time));
    if (text) {
        expect_refused(text, "\"tito-receipt/1\"", "\"tito-receipt/2\"", "schema: expected \"tito-receipt/1\"");
        expect_refused(text, "\"01_tensor\"", "\"42_nothing\"", "module: \"42_nothing\"");
        expect_refused(text, "\"status\": \"fail\"", "\"status\": \"failed\"", "tests[1].status: unknown verdict");
        expect_refused(text, "\"points\": 2", "\"points\": \"2\"", "tests[0].points: expected an integer");
        expect_refused(text, "\"seed\": \"0x", "\"seed\": \"1x", "provenance.seed");
        expect_refused(text, "\"created_at\": \"2026-11-26T12:04:05Z\"", "\"created_at\": \"yesterday\"",
                       "created_at");
        expect_refused(text, "\"earned\": 26", "\"earned\": 260", "score.earned");
        expect_refused(text, "\"tests\":", "\"checks\":", "tests: missing");
        expect_refused(text, "\"status\": \"findings\"", "\"status\": \"dirty\"", "memcheck.status");
        expect_refused(text, "\"ratio\": 0.41", "\"ratio\": null", "perf[0].ratio: expected a number");
        expect_refused(text, "{", "[", "not JSON");
        expect_refused(text, "\"schema\"", "\"module\": 1, \"schema\"", "not JSON"); /* duplicate key */
    }
    tito_receipt *r = NULL;
    CHECK_STATUS(tito_receipt_parse(&r, "[1, 2]", 6, "y.json"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("receipt y.json: expected an object");
    free(text);
    tito_grade_free(g);
}

/* ------------------------------------------------------------ Gradescope */

static void test_gradescope(void)
{
    tito_grade *g = make_scored_grade();
    char *text = NULL;
    tito_export_options o = TITO_EXPORT_OPTIONS_INIT;
    o.leaderboard = true;
    CHECK_OK(tito_export_gradescope(&text, g, &o));
    json_error_t jerr;
    json_t *j = text ? json_loads(text, 0, &jerr) : NULL;
    CHECK(j != NULL);
    if (j) {
        CHECK(json_number_value(json_object_get(j, "score")) == 26.0);
        CHECK(json_integer_value(json_object_get(j, "execution_time")) == 7); /* ceil(6.984) */
        CHECK(strstr(json_string_value(json_object_get(j, "output")), "26 of 100 points"));
        json_t *tests = json_object_get(j, "tests");
        CHECK(json_array_size(tests) == N_SPECS + 2);
        double sum = 0.0;
        size_t i;
        json_t *t;
        json_array_foreach(tests, i, t)
        {
            CHECK(json_is_string(json_object_get(t, "name")));
            CHECK(json_is_number(json_object_get(t, "score")) && json_is_number(json_object_get(t, "max_score")));
            const char *vis = json_string_value(json_object_get(t, "visibility"));
            CHECK(vis && (strcmp(vis, "visible") == 0 || strcmp(vis, "after_published") == 0));
            const char *status = json_string_value(json_object_get(t, "status"));
            CHECK(status && (strcmp(status, "passed") == 0 || strcmp(status, "failed") == 0));
            sum += json_number_value(json_object_get(t, "score"));
        }
        /* Scaled case points add up to the score within the rounding of two decimals. */
        CHECK(sum > 25.9 && sum < 27.0);
        json_t *hidden = json_array_get(tests, 2);
        CHECK(strcmp(json_string_value(json_object_get(hidden, "name")), "hidden.matmul.1") == 0);
        CHECK(strcmp(json_string_value(json_object_get(hidden, "visibility")), "after_published") == 0);
        json_t *first = json_array_get(tests, 0);
        CHECK(strcmp(json_string_value(json_object_get(first, "number")), "1.1") == 0);
        CHECK(json_real_value(json_object_get(first, "max_score")) == 10.77); /* 2 x 70/13 */
        json_t *mem = json_array_get(tests, N_SPECS);
        CHECK(strstr(json_string_value(json_object_get(mem, "output")), "hidden.reductions.1: crash: SIGSEGV"));
        json_t *board = json_object_get(j, "leaderboard");
        CHECK(json_array_size(board) == 1);
        CHECK(json_real_value(json_object_get(json_array_get(board, 0), "value")) == 0.41);
        CHECK(strcmp(json_string_value(json_object_get(json_array_get(board, 0), "order")), "desc") == 0);
        json_decref(j);
    }
    CHECK(text && !contains_ci(text, "secret"));
    free(text);

    /* Hidden visibility is one of Gradescope's words, or refused. */
    text = NULL;
    o.hidden_visibility = "never";
    CHECK_STATUS(tito_export_gradescope(&text, g, &o), TT_ERR_INVALID_ARG);
    CHECK(text == NULL);
    o.hidden_visibility = "hidden";
    o.leaderboard = false;
    CHECK_OK(tito_export_gradescope(&text, g, &o));
    CHECK(text && strstr(text, "\"visibility\": \"hidden\"") && !strstr(text, "leaderboard"));
    free(text);
    tito_grade_free(g);
}

/* A number of results.json in hundredths; -1 when it is not a whole number of them. */
static long long hundredths(json_t *v)
{
    double x = json_number_value(v) * 100.0, r = round(x);
    return json_is_number(v) && fabs(x - r) < 1e-6 ? (long long)r : -1;
}

/* The tests' max_score add up to the module's points exactly, though 70 correctness
 * points over checks worth 13 do not divide evenly (each rounded alone: 69.99); their
 * scores add up to the score, and to all the points when every check passes. */
static void test_gradescope_sums(void)
{
    for (int all_pass = 0; all_pass < 2; all_pass++) {
        tito_grade *g = make_grade();
        if (all_pass) {
            for (size_t i = 0; i < g->n_cases; i++)
                g->cases[i].verdict = TITO_PASS;
            g->memcheck.status = TITO_MEMCHECK_CLEAN;
            g->perf[0].ratio = 0.5;
        }
        tito_score_rules rules;
        tito_score_rules_default(&rules);
        CHECK_OK(tito_score_apply(g, &rules));
        CHECK(g->possible == 100 && (!all_pass || g->earned == 100));
        char *text = NULL;
        CHECK_OK(tito_export_gradescope(&text, g, NULL));
        json_error_t jerr;
        json_t *j = text ? json_loads(text, 0, &jerr) : NULL;
        CHECK(j != NULL);
        if (j) {
            long long max_sum = 0, score_sum = 0, correctness_max = 0;
            size_t i;
            json_t *t;
            json_array_foreach(json_object_get(j, "tests"), i, t)
            {
                long long m = hundredths(json_object_get(t, "max_score"));
                long long sc = hundredths(json_object_get(t, "score"));
                CHECK(m >= 0 && sc >= 0 && sc <= m);
                if (strcmp(json_string_value(json_object_get(t, "status")), "passed") == 0)
                    CHECK(sc == m);
                max_sum += m;
                score_sum += sc;
                if (i < g->n_cases)
                    correctness_max += m;
            }
            CHECK(correctness_max == 7000);
            CHECK(max_sum == 100LL * g->possible);
            if (all_pass) {
                CHECK(score_sum == 10000);
                CHECK(json_number_value(json_object_get(j, "score")) == 100.0);
            } else {
                /* score.c rounds the correctness points down (26.92 -> 26). */
                CHECK(score_sum >= 100LL * g->earned && score_sum < 100LL * (g->earned + 1));
            }
            /* The largest remainders get the hundredths left over: 1076.92 -> 10.77 for
             * the checks worth 2, 1615.38 -> 16.15 for 3, 538.46 -> 5.39 for 1. */
            json_t *tests = json_object_get(j, "tests");
            CHECK(hundredths(json_object_get(json_array_get(tests, 0), "max_score")) == 1077);
            CHECK(hundredths(json_object_get(json_array_get(tests, 2), "max_score")) == 1615);
            CHECK(hundredths(json_object_get(json_array_get(tests, 5), "max_score")) == 539);
            json_decref(j);
        }
        free(text);
        tito_grade_free(g);
    }
}

/* ------------------------------------------------------------ JUnit */

static void test_xmlcheck_itself(void)
{
    xmlcheck x;
    CHECK(xmlcheck_document(&x, "<?xml version=\"1.0\"?>\n<a b=\"1&amp;&#10;\"><c/>t&lt;x</a>\n"));
    CHECK(!xmlcheck_document(&x, "<a><b></a></b>"));
    CHECK(!xmlcheck_document(&x, "<a b=\"<\"/>"));
    CHECK(!xmlcheck_document(&x, "<a>&nope;</a>"));
    CHECK(!xmlcheck_document(&x, "<a>\x01</a>"));
    CHECK(!xmlcheck_document(&x, "<a>\xFF</a>"));
    CHECK(!xmlcheck_document(&x, "<a/><b/>"));
    CHECK(!xmlcheck_document(&x, "<a x=\"1\" x=\"2\"/>"));
    CHECK(!xmlcheck_document(&x, "<a>&#0;</a>"));
    CHECK(!xmlcheck_document(&x, "<a>"));
}

static void test_junit(void)
{
    tito_grade *g = make_scored_grade();
    const tito_grade *grades[] = {g, g};
    char *text = NULL;
    CHECK_OK(tito_export_junit(&text, grades, 1, NULL));
    xmlcheck x;
    bool ok = text && xmlcheck_document(&x, text);
    if (!ok)
        fprintf(stderr, "JUnit XML not well formed: %s\n", text ? x.why : "(none)");
    CHECK(ok);
    if (text) {
        CHECK(!contains_ci(text, "secret"));
        CHECK(strstr(text, "<testsuite name=\"01_tensor\" tests=\"8\" failures=\"4\" errors=\"1\" skipped=\"0\""));
        CHECK(strstr(text, "classname=\"01_tensor.matmul\" name=\"hidden.matmul.1\""));
        /* The failure message attribute is the first line; the body has it all, escaped. */
        CHECK(strstr(text, "<failure message=\"out[1,0]: expected 3.0, got 2.0\" type=\"fail\">"));
        CHECK(strstr(text, "\"quoted\", commas, &lt;tags&gt; &amp; ampersands, 'single', tab\there, CR&#13; here"));
        CHECK(strstr(text, "\xC3\xA9 \xE2\x88\x91 \xF0\x9F\x99\x82"));
        CHECK(strstr(text, "<error message=\"a hidden check of category &quot;reductions&quot; crashed"));
        CHECK(strstr(text, "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD and \xEF\xBF\xBD end"));
        CHECK(strstr(text, "name=\"valgrind\""));
        CHECK(strstr(text, "<property name=\"seed\" value=\"0x5e1f00c0ffee1234\"/>"));
    }
    free(text);

    /* Two suites, an attribute with a line break, and the instructor's view. */
    tito_export_options o = TITO_EXPORT_OPTIONS_INIT;
    o.reveal_hidden = true;
    free(g->provenance.commit);
    g->provenance.commit = sdup("line\none \"<&>\"");
    CHECK_OK(tito_export_junit(&text, grades, 2, &o));
    ok = text && xmlcheck_document(&x, text);
    if (!ok)
        fprintf(stderr, "JUnit XML not well formed: %s\n", text ? x.why : "(none)");
    CHECK(ok);
    CHECK(text && strstr(text, "value=\"line&#10;one &quot;&lt;&amp;&gt;&quot;\""));
    CHECK(text && strstr(text, "matmul.SECRET_a") && strstr(text, "SECRET inputs 1 2 3"));
    CHECK(text && strstr(text, "<testsuites name=\"tito\" tests=\"16\" failures=\"8\" errors=\"2\""));
    free(text);

    /* A failed build is one error case with the compiler's log. */
    tito_grade *b = make_grade();
    b->build = TITO_COMPILE_ERROR;
    b->build_log = sdup("tensor.c:3:1: error: expected ';' before '}' token");
    const tito_grade *one[] = {b};
    CHECK_OK(tito_export_junit(&text, one, 1, NULL));
    CHECK(text && xmlcheck_document(&x, text));
    CHECK(text && strstr(text, "<error message=\"tensor.c:3:1: error: expected &apos;;&apos; before"));
    free(text);
    tito_grade_free(b);

    text = NULL;
    const tito_grade *none[] = {NULL};
    CHECK_STATUS(tito_export_junit(&text, none, 1, NULL), TT_ERR_INVALID_ARG);
    CHECK(text == NULL);
    tito_grade_free(g);
}

/* ------------------------------------------------------------ CSV */

/* RFC 4180 reader: splits `text` into rows of fields (at most 16 x 24 here). */
typedef struct csv_table {
    char *field[16][24];
    int n_fields[16];
    int n_rows;
    bool bad;
} csv_table;

static void csv_read(csv_table *t, const char *text)
{
    memset(t, 0, sizeof *t);
    const char *p = text;
    while (*p && t->n_rows < 16) {
        int r = t->n_rows++;
        for (;;) {
            char buf[8192];
            size_t n = 0;
            if (*p == '"') {
                p++;
                for (;;) {
                    if (!*p) {
                        t->bad = true;
                        return;
                    }
                    if (*p == '"' && p[1] == '"') {
                        buf[n++] = '"';
                        p += 2;
                    } else if (*p == '"') {
                        p++;
                        break;
                    } else {
                        buf[n++] = *p++;
                    }
                }
            } else {
                while (*p && *p != ',' && *p != '\r' && *p != '\n') {
                    if (*p == '"')
                        t->bad = true;
                    buf[n++] = *p++;
                }
            }
            buf[n] = '\0';
            if (t->n_fields[r] < 24)
                t->field[r][t->n_fields[r]++] = sdup(buf);
            if (*p == ',') {
                p++;
                continue;
            }
            if (p[0] == '\r' && p[1] == '\n') {
                p += 2;
                break;
            }
            t->bad = true; /* a row must end in CRLF */
            return;
        }
    }
}

static void csv_release(csv_table *t)
{
    for (int r = 0; r < 16; r++)
        for (int f = 0; f < t->n_fields[r]; f++)
            free(t->field[r][f]);
}

static void test_csv(void)
{
    char *f = tito_csv_field("plain");
    CHECK(f && strcmp(f, "plain") == 0);
    free(f);
    f = tito_csv_field("a \"b\", c\r\nd");
    CHECK(f && strcmp(f, "\"a \"\"b\"\", c\r\nd\"") == 0);
    free(f);

    tito_grade *g = make_scored_grade();
    tito_export_options o = TITO_EXPORT_OPTIONS_INIT;
    o.student = "ada, \"the\" first";
    char *header = NULL, *row = NULL, *checks = NULL;
    CHECK_OK(tito_export_csv_header(&header));
    CHECK_OK(tito_export_csv_row(&row, g, &o));
    CHECK_OK(tito_export_csv_checks(&checks, g, &o, true));
    if (header && row) {
        size_t n = strlen(header) + strlen(row) + 1;
        char *both = malloc(n);
        if (!both)
            exit(3);
        snprintf(both, n, "%s%s", header, row);
        csv_table t;
        csv_read(&t, both);
        CHECK(!t.bad && t.n_rows == 2 && t.n_fields[0] == 18 && t.n_fields[1] == 18);
        if (!t.bad && t.n_rows == 2 && t.n_fields[1] == 18) {
            CHECK(strcmp(t.field[1][0], "ada, \"the\" first") == 0);
            CHECK(strcmp(t.field[1][1], "01_tensor") == 0);
            CHECK(strcmp(t.field[1][3], "26") == 0 && strcmp(t.field[1][4], "100") == 0);
            CHECK(strcmp(t.field[1][5], "26.0") == 0);
            CHECK(strcmp(t.field[1][7], "2") == 0 && strcmp(t.field[1][8], "6") == 0);
            CHECK(strcmp(t.field[1][9], "1") == 0 && strcmp(t.field[1][10], "3") == 0);
            CHECK(strcmp(t.field[1][11], "findings") == 0 && strcmp(t.field[1][13], "0.4100") == 0);
            CHECK(strcmp(t.field[1][15], "0x5e1f00c0ffee1234") == 0 && strcmp(t.field[1][17], "true") == 0);
        }
        csv_release(&t);
        free(both);
    }
    if (checks) {
        csv_table t;
        csv_read(&t, checks);
        CHECK(!t.bad && t.n_rows == 1 + (int)N_SPECS);
        if (!t.bad && t.n_rows == 1 + (int)N_SPECS) {
            CHECK(strcmp(t.field[2][2], "add.broadcast_col") == 0);
            CHECK(strcmp(t.field[2][8], FAIL_MESSAGE) == 0); /* quotes, commas, CR, LF survive */
            CHECK(strcmp(t.field[3][2], "hidden.matmul.1") == 0);
            CHECK(strcmp(t.field[6][8], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \x01 and \xEF\xBF\xBF end") == 0);
        }
        CHECK(!contains_ci(checks, "secret"));
        csv_release(&t);
    }
    free(header);
    free(row);
    free(checks);
    tito_grade_free(g);
}

/* ------------------------------------------------------------ Valgrind logs */

static char *read_log(const char *name)
{
    const char *dir = getenv("RECEIPTS_LOGS");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "logs", name);
    char *text = NULL;
    if (tito_file_read(&text, NULL, path) != TT_OK)
        fprintf(stderr, "cannot read %s: %s\n", path, tt_error_last());
    return text;
}

static const tito_memcheck_finding *finding(const tito_memcheck_log *log, size_t i)
{
    return i < log->n_findings ? &log->findings[i] : NULL;
}

static bool finding_is(const tito_memcheck_finding *f, tito_verdict kind, const char *case_name,
                       const char *what, const char *where, uint64_t bytes)
{
    if (!f)
        return false;
    bool ok = f->kind == kind && f->bytes == bytes &&
              ((!case_name && !f->case_name) || (case_name && f->case_name && strcmp(case_name, f->case_name) == 0)) &&
              f->what && strcmp(f->what, what) == 0 &&
              ((!where && !f->where) || (where && f->where && strcmp(where, f->where) == 0));
    if (!ok)
        fprintf(stderr, "finding: kind %d case %s what \"%s\" where \"%s\" bytes %llu\n", (int)f->kind,
                f->case_name ? f->case_name : "(none)", f->what ? f->what : "", f->where ? f->where : "(none)",
                (unsigned long long)f->bytes);
    return ok;
}

static void test_memcheck_parse_crash_log(void)
{
    char *text = read_log("crash.log");
    CHECK(text != NULL);
    tito_memcheck_log log;
    CHECK_OK(tito_memcheck_parse(&log, text, "tensor.c"));
    CHECK(log.started && log.complete && log.fatal_signal == 11);
    CHECK(log.case_in_progress && strcmp(log.case_in_progress, "argmax.axis1") == 0);
    CHECK(log.last_case_done && strcmp(log.last_case_done, "chain.nested") == 0);
    CHECK(log.n_findings == 6);
    CHECK(finding_is(finding(&log, 0), TITO_LEAK, "view.transpose", "96 bytes definitely lost",
                     "tensor.c:7 (tensor_new, called by tt_tensor_transpose at line 8)", 96));
    CHECK(finding_is(finding(&log, 1), TITO_MEMORY_ERROR, "sum.axis0",
                     "invalid read of 4 bytes, 0 bytes past the end of a 24-byte block allocated at "
                     "tensor.c:7 (tensor_new)",
                     "tensor.c:9 (tt_tensor_sum)", 4));
    /* The same leak in a later case: only its growth, blamed on that case. */
    CHECK(finding_is(finding(&log, 2), TITO_LEAK, "view.transpose_again", "96 bytes definitely lost",
                     "tensor.c:7 (tensor_new, called by tt_tensor_transpose at line 8)", 96));
    CHECK(finding_is(finding(&log, 3), TITO_LEAK, "chain.nested", "40 bytes indirectly lost",
                     "tensor.c:7 (tensor_new)", 40));
    CHECK(finding_is(finding(&log, 4), TITO_LEAK, "chain.nested", "56 bytes definitely lost",
                     "tensor.c:7 (tensor_new)", 56));
    /* The invalid read and the SIGSEGV it caused are one finding. */
    CHECK(finding_is(finding(&log, 5), TITO_MEMORY_ERROR, "argmax.axis1",
                     "crash: SIGSEGV reading 4 bytes, through a NULL pointer (address 0x10)",
                     "tensor.c:10 (tt_tensor_argmax)", 4));
    char msg[512];
    CHECK(strcmp(tito_memcheck_finding_message(finding(&log, 0), msg, sizeof msg),
                 "leak: 96 bytes allocated at tensor.c:7 (tensor_new, called by tt_tensor_transpose at "
                 "line 8) never freed") == 0);
    CHECK(strcmp(tito_memcheck_finding_message(finding(&log, 3), msg, sizeof msg),
                 "leak: 40 bytes allocated at tensor.c:7 (tensor_new) never freed (reachable only "
                 "through another leaked block)") == 0);
    CHECK(strcmp(tito_memcheck_finding_message(finding(&log, 5), msg, sizeof msg),
                 "crash: SIGSEGV reading 4 bytes, through a NULL pointer (address 0x10), in tensor.c:10 "
                 "(tt_tensor_argmax)") == 0);
    tito_memcheck_log_release(&log);

    /* Another student file: the first frame with a source line outside the allocator. */
    CHECK_OK(tito_memcheck_parse(&log, text, "layers.c"));
    CHECK(finding_is(finding(&log, 0), TITO_LEAK, "view.transpose", "96 bytes definitely lost",
                     "tensor.c:7 (tensor_new)", 96));
    tito_memcheck_log_release(&log);
    free(text);
}

static void test_memcheck_parse_resume_log(void)
{
    char *text = read_log("resume.log");
    CHECK(text != NULL);
    tito_memcheck_log log;
    CHECK_OK(tito_memcheck_parse(&log, text, "tensor.c"));
    CHECK(log.started && log.complete && log.fatal_signal == 0 && log.n_findings == 0);
    CHECK(!log.case_in_progress && log.last_case_done && strcmp(log.last_case_done, "after.crash") == 0);
    tito_memcheck_log_release(&log);
    free(text);
}

static void test_memcheck_parse_hand_written(void)
{
    char *text = read_log("after_end.log");
    CHECK(text != NULL);
    tito_memcheck_log log;
    CHECK_OK(tito_memcheck_parse(&log, text, "tensor.c"));
    CHECK(log.started && !log.complete && log.fatal_signal == 0);
    CHECK(log.case_in_progress && strcmp(log.case_in_progress, "view.transpose") == 0);
    CHECK(log.n_findings == 4);
    /* Reported after the end marker: the case just done. Thousands separators read. */
    CHECK(finding_is(finding(&log, 0), TITO_LEAK, "create.zeros", "1048576 bytes definitely lost",
                     "tensor.c:491 (tt_tensor_zeros)", 1048576));
    CHECK(finding_is(finding(&log, 1), TITO_MEMORY_ERROR, "view.transpose",
                     "a decision depends on uninitialised memory", "tensor.c:900 (tt_tensor_transpose)", 0));
    CHECK(finding_is(finding(&log, 2), TITO_MEMORY_ERROR, "view.transpose",
                     "invalid free (a block freed twice, or never allocated): 0 bytes inside a 96-byte "
                     "block already freed at tensor.c:600 (tt_tensor_free) (allocated at tensor.c:130 "
                     "(tensor_new, called by tt_tensor_transpose at line 905))",
                     "tensor.c:600 (tt_tensor_free)", 0));
    /* The log is cut inside this error: what is there still counts. */
    CHECK(finding_is(finding(&log, 3), TITO_MEMORY_ERROR, "view.transpose", "invalid write of 8 bytes",
                     "tensor.c:910 (tt_tensor_transpose)", 8));
    tito_memcheck_log_release(&log);
    free(text);

    text = read_log("no_start.log");
    CHECK(text != NULL);
    CHECK_OK(tito_memcheck_parse(&log, text, "tensor.c"));
    CHECK(!log.started && !log.complete && log.n_findings == 0);
    CHECK(log.valgrind_error && strstr(log.valgrind_error, "failed to start tool"));
    tito_memcheck_log_release(&log);
    free(text);
}

static void test_memcheck_parse_any_bytes(void)
{
    /* Random bytes and near-misses of every pattern: no crash, nothing invented. */
    static const char *const near_misses[] = {
        "==1== Invalid read of size\n==1==    at 0x: \n==1== \n",
        "==1== 12 (+ bytes in 1 blocks are definitely lost in loss record 1 of 1\n==1== \n",
        "==1== Process terminating with default action of signal x\n==1== \n",
        "**1** tito-case begin\n**1** tito-case end \n==1== \n",
        "=1= Memcheck, a memory error detector\n**x** tito-case begin 0 a\n",
        "==1== bytes in 1 blocks are definitely lost in loss record 1 of 1\n==1==    by 0x1: f (a.c:x)\n",
    };
    for (size_t i = 0; i < sizeof near_misses / sizeof near_misses[0]; i++) {
        tito_memcheck_log log;
        CHECK_OK(tito_memcheck_parse(&log, near_misses[i], "tensor.c"));
        CHECK(log.n_findings == 0 && !log.started);
        tito_memcheck_log_release(&log);
    }
    tt_rng rng;
    tt_rng_init(&rng, 7);
    char *junk = malloc(65537);
    if (!junk)
        exit(3);
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < 65536; i++) {
            uint32_t r = tt_rng_next_u32(&rng);
            /* Mostly the characters logs are made of, so lines and prefixes occur. */
            static const char alphabet[] = "==**12 \n()+:abcxyz.";
            junk[i] = (r & 0x100) ? alphabet[r % (sizeof alphabet - 1)] : (char)(r & 0xFF);
            if (junk[i] == '\0')
                junk[i] = 'x';
        }
        junk[65536] = '\0';
        tito_memcheck_log log;
        CHECK_OK(tito_memcheck_parse(&log, junk, "tensor.c"));
        tito_memcheck_log_release(&log);
    }
    free(junk);
    tito_memcheck_log log;
    CHECK_OK(tito_memcheck_parse(&log, NULL, NULL));
    CHECK(log.n_findings == 0);
    tito_memcheck_log_release(&log);
}

static void test_memcheck_merge_and_names(void)
{
    CHECK(strcmp(tito_memcheck_status_name(TITO_MEMCHECK_NOT_RUN), "not-run") == 0);
    CHECK(strcmp(tito_memcheck_status_name(TITO_MEMCHECK_FINDINGS), "findings") == 0);
    tito_memcheck_result a = {0}, b = {0};
    a.status = TITO_MEMCHECK_CLEAN;
    a.message = sdup("case x was not checked to the end");
    b.status = TITO_MEMCHECK_FINDINGS;
    b.findings = calloc(1, sizeof *b.findings);
    b.n_findings = 1;
    b.findings[0] = (tito_memcheck_finding){TITO_LEAK, sdup("h.1"), sdup("8 bytes definitely lost"), NULL, 8};
    b.message = sdup("note two");
    CHECK_OK(tito_memcheck_merge(&a, &b));
    CHECK(a.status == TITO_MEMCHECK_FINDINGS && a.n_findings == 1 && b.n_findings == 0 && !b.findings);
    CHECK(a.message && strcmp(a.message, "case x was not checked to the end; note two") == 0);
    char msg[256];
    CHECK(strcmp(tito_memcheck_finding_message(&a.findings[0], msg, sizeof msg), "leak: 8 bytes definitely lost") == 0);
    /* Findings outrank an error of another run. */
    tito_memcheck_result c = {0};
    c.status = TITO_MEMCHECK_ERROR;
    c.message = sdup("Valgrind could not run");
    CHECK_OK(tito_memcheck_merge(&a, &c));
    CHECK(a.status == TITO_MEMCHECK_FINDINGS);
    tito_memcheck_result d = {0};
    d.status = TITO_MEMCHECK_ERROR;
    tito_memcheck_result e = {0};
    e.status = TITO_MEMCHECK_CLEAN;
    CHECK_OK(tito_memcheck_merge(&e, &d));
    CHECK(e.status == TITO_MEMCHECK_ERROR);
    tito_memcheck_result_release(&a);
    tito_memcheck_result_release(&e);
}

/* ------------------------------------------------------------ speed helpers */

static void test_perf_statistics(void)
{
    double v[] = {1.2, 0.8, 1.0, 1.1, 0.9};
    double m = tito_perf_median(v, 5);
    CHECK(m == 1.0);
    CHECK_NEAR(tito_perf_spread(v, 5, m), 0.2, 1e-12, 0);
    double w[] = {4.0, 2.0};
    CHECK(tito_perf_median(w, 2) == 3.0);
    CHECK(tito_perf_median(NULL, 0) == 0.0);
    CHECK(tito_perf_spread(w, 2, 0.0) == 0.0);

    uint64_t total = 0;
    CHECK_OK(tito_callgrind_total(&total, "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 1342482\n"
                                          "fl=(1) a.c\nfn=(1) main\n3 12\ntotals: 1342483\n"));
    CHECK(total == 1342483);
    CHECK_OK(tito_callgrind_total(&total, "events: Ir\nsummary: 77\n"));
    CHECK(total == 77);
    CHECK_STATUS(tito_callgrind_total(&total, "events: Ir\nfn=main\n"), TT_ERR_FORMAT);
    CHECK_STATUS(tito_callgrind_total(&total, "totals: many\n"), TT_ERR_FORMAT);
}

static void test_perf_kernels_parse(void)
{
    const char *suite = "{\"format\": \"tito-suite/1\", \"module\": \"01_tensor\", \"kernels\": ["
                        "{\"name\": \"matmul_512\", \"probe\": \"visible\", \"reps\": 2, \"flops\": 1},"
                        "{\"name\": \"sum_big\", \"reps\": 30}]}";
    tito_perf_kernel *k = NULL;
    size_t n = 0;
    CHECK_OK(tito_perf_kernels_parse(&k, &n, suite, strlen(suite), "s.json"));
    CHECK(n == 2 && k && strcmp(k[0].name, "matmul_512") == 0 && k[0].reps == 2);
    CHECK(n == 2 && k && strcmp(k[1].probe, "visible") == 0 && k[1].reps == 30);
    tito_perf_kernels_free(k, n);

    const char *none = "{\"format\": \"tito-suite/1\"}";
    CHECK_OK(tito_perf_kernels_parse(&k, &n, none, strlen(none), "s.json"));
    CHECK(n == 0 && k == NULL);

    static const char *const bad[] = {
        "{\"kernels\": {}}",
        "{\"kernels\": [{\"name\": \"\", \"reps\": 1}]}",
        "{\"kernels\": [{\"name\": \"a\", \"reps\": 0}]}",
        "{\"kernels\": [{\"name\": \"a\", \"reps\": 1, \"probe\": \"elsewhere\"}]}",
        "[1]",
        "{",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(tito_perf_kernels_parse(&k, &n, bad[i], strlen(bad[i]), "s.json"), TT_ERR_FORMAT);
        CHECK(k == NULL && n == 0);
        CHECK_ERROR_MENTIONS("suite s.json");
    }
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--junit") == 0) {
        tito_grade *g = make_scored_grade();
        const tito_grade *grades[] = {g};
        char *text = NULL;
        tt_status st = tito_export_junit(&text, grades, 1, NULL);
        if (st == TT_OK)
            st = tito_file_write_atomic(argv[2], text, strlen(text), 0644);
        free(text);
        tito_grade_free(g);
        if (st != TT_OK)
            fprintf(stderr, "test_receipts: %s\n", tt_error_last());
        return st == TT_OK ? 0 : 1;
    }
    harness_init(argc, argv);
    RUN(test_utf8_dup);
    RUN(test_public_names_and_hints);
    RUN(test_score_mixed_grade);
    RUN(test_score_bands_and_exclusions);
    RUN(test_score_split_over_kernels);
    RUN(test_receipt_contents);
    RUN(test_receipt_round_trip);
    RUN(test_receipt_file);
    RUN(test_receipt_validation);
    RUN(test_gradescope);
    RUN(test_gradescope_sums);
    RUN(test_xmlcheck_itself);
    RUN(test_junit);
    RUN(test_csv);
    RUN(test_memcheck_parse_crash_log);
    RUN(test_memcheck_parse_resume_log);
    RUN(test_memcheck_parse_hand_written);
    RUN(test_memcheck_parse_any_bytes);
    RUN(test_memcheck_merge_and_names);
    RUN(test_perf_statistics);
    RUN(test_perf_kernels_parse);
    return harness_summary();
}
