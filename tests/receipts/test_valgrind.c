/*
 * tests/receipts/test_valgrind.c: the memcheck and speed phases on real probes.
 *
 * The probes are module 01's visible suite linked with a "student" tensor.c: a copy of
 * reference/src/tensor.c with a planted bug (a leak, an invalid read, a crash, a slow or
 * endless matmul), compiled the way a student's build compiles it. Each finding must
 * name the case that triggered it and the planted line. Speed is checked only where it
 * does not depend on this machine's mood: instruction counts (callgrind), where the
 * reference against itself is exactly 1, and verdicts (crash, timeout).
 *
 *   test_receipts_valgrind PROBE_PARTS     (a file CMake writes: compiler, objects)
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <errno.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "grade.h"
#include "harness.h"
#include "engine.h"
#include "kit.h"
#include "memcheck.h"
#include "modules.h"
#include "perf.h"
#include "phases.h"
#include "receipt.h"

extern char **environ;

static char parts_cc[1024], parts_include[1024], parts_tensor[1024], parts_visible[1024],
    parts_harness[1024], parts_reftensor[1024], parts_others[8192], parts_core[1024], parts_kit[1024],
    parts_starter[1024];
static char workdir[256];
static char *tensor_text;
static char *case_names[128];
static size_t n_case_names;

/* ------------------------------------------------------------ setup */

static void read_parts(const char *path)
{
    char *text = NULL;
    if (tito_file_read(&text, NULL, path) != TT_OK) {
        fprintf(stderr, "cannot read %s: %s\n", path, tt_error_last());
        exit(2);
    }
    struct {
        const char *key;
        char *dst;
        size_t size;
    } keys[] = {
        {"cc ", parts_cc, sizeof parts_cc},
        {"include ", parts_include, sizeof parts_include},
        {"tensor_source ", parts_tensor, sizeof parts_tensor},
        {"visible ", parts_visible, sizeof parts_visible},
        {"harness ", parts_harness, sizeof parts_harness},
        {"reference_tensor ", parts_reftensor, sizeof parts_reftensor},
        {"others ", parts_others, sizeof parts_others},
        {"core ", parts_core, sizeof parts_core},
        {"kit ", parts_kit, sizeof parts_kit},
        {"starter ", parts_starter, sizeof parts_starter},
    };
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t n = strlen(keys[i].key);
            if (strncmp(line, keys[i].key, n) == 0)
                snprintf(keys[i].dst, keys[i].size, "%s", line + n);
        }
    }
    free(text);
    if (!parts_cc[0] || !parts_visible[0] || !parts_harness[0] || !parts_core[0] || !parts_tensor[0]) {
        fprintf(stderr, "%s is incomplete\n", path);
        exit(2);
    }
}

/* Run argv (not sandboxed: these are the test's own tools); 0 when it exited 0. */
static int run(char *const argv[])
{
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A planted change: `insert` goes right after the first occurrence of `anchor`. */
typedef struct mutation {
    const char *anchor;
    const char *insert;
} mutation;

/* Build a probe from tensor.c with the mutations; *line gets the line of the first
 * inserted text (its first line). Returns the probe's path in buf, or NULL. */
static const char *build_probe(const char *name, const mutation *muts, size_t n_muts, long *line,
                               char *buf, size_t size)
{
    char dir[512], src[600], obj[600];
    snprintf(dir, sizeof dir, "%s/%s", workdir, name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return NULL;
    snprintf(src, sizeof src, "%s/tensor.c", dir);
    snprintf(obj, sizeof obj, "%s/tensor.o", dir);
    snprintf(buf, size, "%s/probe", dir);

    size_t len = strlen(tensor_text);
    size_t extra = 0;
    for (size_t i = 0; i < n_muts; i++)
        extra += strlen(muts[i].insert);
    char *text = malloc(len + extra + 1);
    if (!text)
        exit(3);
    snprintf(text, len + 1, "%s", tensor_text);
    for (size_t i = 0; i < n_muts; i++) {
        char *at = strstr(text, muts[i].anchor);
        if (!at) {
            fprintf(stderr, "anchor not found in tensor.c: %s\n", muts[i].anchor);
            free(text);
            return NULL;
        }
        at += strlen(muts[i].anchor);
        size_t ins = strlen(muts[i].insert);
        memmove(at + ins, at, strlen(at) + 1);
        memcpy(at, muts[i].insert, ins);
    }
    /* The line of the first planted text, once everything is in place. */
    const char *first = n_muts ? strstr(text, muts[0].insert) : NULL;
    if (first && line) {
        long l = 1;
        for (const char *p = text; p < first; p++)
            l += *p == '\n';
        *line = l;
    }
    tt_status st = tito_file_write_atomic(src, text, strlen(text), 0644);
    free(text);
    if (st != TT_OK)
        return NULL;

    char inc[1100];
    snprintf(inc, sizeof inc, "-I%s", parts_include);
    char *compile[] = {parts_cc, "-std=c17", "-O2", "-g", "-fno-omit-frame-pointer", inc, "-c", src, "-o",
                       obj, NULL};
    if (run(compile) != 0)
        return NULL;
    /* The link: visible.o, the harness, the student's object, the other modules, core. */
    char *argv[64];
    int a = 0;
    argv[a++] = parts_cc;
    argv[a++] = "-o";
    argv[a++] = buf;
    argv[a++] = parts_visible;
    argv[a++] = parts_harness;
    argv[a++] = obj;
    static char others_copy[8192];
    snprintf(others_copy, sizeof others_copy, "%s", parts_others);
    char *save = NULL;
    for (char *o = strtok_r(others_copy, " ", &save); o && a < 56; o = strtok_r(NULL, " ", &save))
        argv[a++] = o;
    argv[a++] = parts_core;
    argv[a++] = "-lm";
    argv[a] = NULL;
    if (run(argv) != 0)
        return NULL;
    return buf;
}

/* The reference-linked probe (the kit's reference tensor object). */
static const char *build_reference_probe(char *buf, size_t size)
{
    snprintf(buf, size, "%s/reference-probe", workdir);
    char *argv[64];
    int a = 0;
    argv[a++] = parts_cc;
    argv[a++] = "-o";
    argv[a++] = buf;
    argv[a++] = parts_visible;
    argv[a++] = parts_harness;
    argv[a++] = parts_reftensor;
    static char others_copy[8192];
    snprintf(others_copy, sizeof others_copy, "%s", parts_others);
    char *save = NULL;
    for (char *o = strtok_r(others_copy, " ", &save); o && a < 56; o = strtok_r(NULL, " ", &save))
        argv[a++] = o;
    argv[a++] = parts_core;
    argv[a++] = "-lm";
    argv[a] = NULL;
    return run(argv) == 0 ? buf : NULL;
}

/* The case table, from `probe --list` (first word of each line). */
static void read_case_names(const char *probe)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' --list", probe);
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    char line[512];
    while (n_case_names < 128 && fgets(line, sizeof line, f)) {
        line[strcspn(line, " \n")] = '\0';
        case_names[n_case_names++] = strdup(line);
    }
    pclose(f);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* ------------------------------------------------------------ memcheck */

static const uint64_t seed = 0x7e57c0de;

static tt_status memcheck(tito_memcheck_result *r, const char *probe)
{
    tito_memcheck_options o = TITO_MEMCHECK_OPTIONS_INIT;
    o.probe = probe;
    o.student_file = "tensor.c";
    o.seed = seed;
    o.case_names = (const char *const *)case_names;
    o.n_cases = n_case_names;
    o.wall_seconds = 240;
    return tito_memcheck_run(r, &o);
}

static void print_findings(const tito_memcheck_result *r)
{
    fprintf(stderr, "memcheck: status %s, %zu findings%s%s\n", tito_memcheck_status_name(r->status),
            r->n_findings, r->message ? ", message: " : "", r->message ? r->message : "");
    for (size_t i = 0; i < r->n_findings; i++) {
        char msg[1024];
        fprintf(stderr, "  [%s] %s\n", r->findings[i].case_name ? r->findings[i].case_name : "-",
                tito_memcheck_finding_message(&r->findings[i], msg, sizeof msg));
    }
}

/* The findings of case `name` of kind `kind` whose `where` is `where`. */
static size_t count_findings(const tito_memcheck_result *r, const char *name, tito_verdict kind,
                             const char *where)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        const tito_memcheck_finding *f = &r->findings[i];
        if (f->kind == kind && f->case_name && strcmp(f->case_name, name) == 0 && f->where &&
            strcmp(f->where, where) == 0)
            n++;
    }
    return n;
}

static bool any_finding_in(const tito_memcheck_result *r, const char *prefix)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (r->findings[i].case_name && strncmp(r->findings[i].case_name, prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static void test_memcheck_reference_is_clean(void)
{
    char probe[700];
    CHECK(build_probe("clean", NULL, 0, NULL, probe, sizeof probe) != NULL);
    tito_memcheck_result r = {0};
    CHECK_OK(memcheck(&r, probe));
    if (r.status != TITO_MEMCHECK_CLEAN)
        print_findings(&r);
    CHECK(r.status == TITO_MEMCHECK_CLEAN && r.n_findings == 0 && r.message == NULL);
    tito_memcheck_result_release(&r);
}

static const mutation leak_in_transpose = {"    result->strides[d1] = t->strides[d0];\n",
                                           "    (void)tt_malloc(96); /* planted leak */\n"};

static void test_memcheck_planted_leak(void)
{
    char probe[700];
    long line = 0;
    CHECK(build_probe("leak", &leak_in_transpose, 1, &line, probe, sizeof probe) != NULL);
    tito_memcheck_result r = {0};
    CHECK_OK(memcheck(&r, probe));
    print_findings(&r);
    CHECK(r.status == TITO_MEMCHECK_FINDINGS);
    char where[128];
    snprintf(where, sizeof where, "tensor.c:%ld (tt_tensor_transpose)", line);
    /* Every case that transposes successfully leaks, and only those. */
    CHECK(count_findings(&r, "view.transpose", TITO_LEAK, where) == 1);
    CHECK(count_findings(&r, "add.noncontiguous", TITO_LEAK, where) == 1);
    CHECK(count_findings(&r, "sum.noncontiguous", TITO_LEAK, where) == 1);
    CHECK(!any_finding_in(&r, "create.") && !any_finding_in(&r, "view.reshape"));
    for (size_t i = 0; i < r.n_findings; i++) {
        CHECK(r.findings[i].kind == TITO_LEAK && r.findings[i].bytes == 96);
        CHECK(r.findings[i].where && strcmp(r.findings[i].where, where) == 0);
    }
    char msg[512], want[256];
    snprintf(want, sizeof want, "leak: 96 bytes allocated at tensor.c:%ld (tt_tensor_transpose) never freed", line);
    CHECK(r.n_findings > 0 && strcmp(tito_memcheck_finding_message(&r.findings[0], msg, sizeof msg), want) == 0);
    tito_memcheck_result_release(&r);

    /* A case left out (as one that timed out in the run phase would be) is not run. */
    const char *skip[] = {"view.transpose", "add.noncontiguous"};
    tito_memcheck_options o = TITO_MEMCHECK_OPTIONS_INIT;
    o.probe = probe;
    o.student_file = "tensor.c";
    o.seed = seed;
    o.case_names = (const char *const *)case_names;
    o.n_cases = n_case_names;
    o.skip_cases = skip;
    o.n_skip = 2;
    CHECK_OK(tito_memcheck_run(&r, &o));
    CHECK(r.status == TITO_MEMCHECK_FINDINGS);
    CHECK(count_findings(&r, "view.transpose", TITO_LEAK, where) == 0);
    CHECK(count_findings(&r, "add.noncontiguous", TITO_LEAK, where) == 0);
    CHECK(count_findings(&r, "sum.noncontiguous", TITO_LEAK, where) == 1);
    CHECK(r.message && strstr(r.message, "case view.transpose was not checked under Valgrind"));
    tito_memcheck_result_release(&r);
}

static void test_memcheck_planted_invalid_read(void)
{
    static const mutation read_past = {
        "tt_status tt_tensor_sum(tt_tensor **out, tt_tensor *t, int axis, bool keepdim)\n{\n",
        "    if (t && t->storage) { volatile float past = t->storage->data[t->storage->size]; (void)past; }\n"};
    char probe[700];
    long line = 0;
    CHECK(build_probe("read", &read_past, 1, &line, probe, sizeof probe) != NULL);
    tito_memcheck_result r = {0};
    CHECK_OK(memcheck(&r, probe));
    print_findings(&r);
    CHECK(r.status == TITO_MEMCHECK_FINDINGS);
    char where[128];
    snprintf(where, sizeof where, "tensor.c:%ld (tt_tensor_sum)", line);
    CHECK(count_findings(&r, "sum.axis0", TITO_MEMORY_ERROR, where) == 1);
    for (size_t i = 0; i < r.n_findings; i++) {
        const tito_memcheck_finding *f = &r.findings[i];
        CHECK(f->kind == TITO_MEMORY_ERROR && f->bytes == 4);
        CHECK(f->what && strncmp(f->what, "invalid read of 4 bytes, 0 bytes past the end of a ", 51) == 0);
        CHECK(f->what && strstr(f->what, "-byte block allocated at "));
    }
    tito_memcheck_result_release(&r);
}

static void test_memcheck_planted_crash_resumes(void)
{
    /* A crash in argmax, and the transpose leak: the leak of a case after the crash
     * proves the run went on from the next case. */
    static const mutation crash = {
        "tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim)\n{\n",
        "    { volatile unsigned long bad = 16; *(volatile int *)bad = 1; } /* planted crash */\n"};
    const mutation muts[] = {crash, leak_in_transpose};
    char probe[700];
    long line = 0;
    CHECK(build_probe("crash", muts, 2, &line, probe, sizeof probe) != NULL);
    tito_memcheck_result r = {0};
    CHECK_OK(memcheck(&r, probe));
    print_findings(&r);
    CHECK(r.status == TITO_MEMCHECK_FINDINGS);
    char where[128];
    snprintf(where, sizeof where, "tensor.c:%ld (tt_tensor_argmax)", line);
    CHECK(count_findings(&r, "argmax.axis1", TITO_MEMORY_ERROR, where) == 1);
    bool crash_said = false, after = false;
    for (size_t i = 0; i < r.n_findings; i++) {
        const tito_memcheck_finding *f = &r.findings[i];
        if (f->case_name && strcmp(f->case_name, "argmax.axis1") == 0)
            crash_said = f->what && strcmp(f->what, "crash: SIGSEGV writing 4 bytes, through a NULL pointer "
                                                    "(address 0x10)") == 0;
        if (f->case_name && strcmp(f->case_name, "sum.noncontiguous") == 0 && f->kind == TITO_LEAK)
            after = true;
    }
    CHECK(crash_said);
    CHECK(after);
    tito_memcheck_result_release(&r);
}

static void test_memcheck_without_valgrind(void)
{
    char probe[700];
    snprintf(probe, sizeof probe, "%s/clean/probe", workdir);
    tito_memcheck_options o = TITO_MEMCHECK_OPTIONS_INIT;
    o.probe = probe;
    o.student_file = "tensor.c";
    o.valgrind = "/nonexistent/valgrind";
    tito_memcheck_result r = {0};
    CHECK_OK(tito_memcheck_run(&r, &o));
    CHECK(r.status == TITO_MEMCHECK_ERROR && r.n_findings == 0);
    CHECK(r.message && strstr(r.message, "Valgrind is not installed") && strstr(r.message, "apt-get install valgrind"));
    tito_memcheck_result_release(&r);

    /* A "Valgrind" that runs and writes nothing is an error too, never a clean result. */
    o.valgrind = "/bin/true";
    CHECK_OK(tito_memcheck_run(&r, &o));
    CHECK(r.status == TITO_MEMCHECK_ERROR);
    CHECK(r.message && strstr(r.message, "Valgrind wrote no log"));
    tito_memcheck_result_release(&r);

    o.probe = NULL;
    CHECK_STATUS(tito_memcheck_run(&r, &o), TT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------ speed */

static const tito_perf_kernel matmul = {"matmul_512", "visible", 2};

static void test_perf_deterministic(void)
{
    char ref[700], slow[700];
    CHECK(build_reference_probe(ref, sizeof ref) != NULL);
    static const mutation spin = {
        "tt_status tt_tensor_matmul(tt_tensor **out, tt_tensor *a, tt_tensor *b)\n{\n",
        "    for (volatile long spin = 0; spin < 2000000; spin++) {} /* planted slowness */\n"};
    CHECK(build_probe("slow", &spin, 1, NULL, slow, sizeof slow) != NULL);

    tito_perf_options o = TITO_PERF_OPTIONS_INIT;
    o.deterministic = true;
    o.small = true;
    o.seed = seed;
    o.student_probe = ref;
    o.reference_probe = ref;
    tito_perf_result r = {0};
    CHECK_OK(tito_perf_measure(&r, &matmul, &o));
    fprintf(stderr, "reference vs itself: %s ratio %.6f %s\n", tito_verdict_name(r.verdict), r.ratio,
            r.message ? r.message : "");
    CHECK(r.verdict == TITO_PASS && r.ratio == 1.0 && r.spread == 0.0 && r.trials == 1);
    CHECK(r.deterministic && strcmp(r.unit, "x reference instructions") == 0 && strcmp(r.metric, "matmul_512") == 0);
    tito_perf_result_release(&r);

    o.student_probe = slow;
    CHECK_OK(tito_perf_measure(&r, &matmul, &o));
    fprintf(stderr, "slowed kernel: %s ratio %.6f %s\n", tito_verdict_name(r.verdict), r.ratio,
            r.message ? r.message : "");
    CHECK(r.verdict == TITO_PASS && r.ratio > 0.0 && r.ratio < 0.5);
    tito_perf_result_release(&r);
}

static void test_perf_failures(void)
{
    char ref[700], crash[700], endless[700];
    snprintf(ref, sizeof ref, "%s/reference-probe", workdir);
    static const mutation crash_mm = {
        "tt_status tt_tensor_matmul(tt_tensor **out, tt_tensor *a, tt_tensor *b)\n{\n",
        "    { volatile unsigned long bad = 16; *(volatile int *)bad = 1; }\n"};
    static const mutation loop_mm = {
        "tt_status tt_tensor_matmul(tt_tensor **out, tt_tensor *a, tt_tensor *b)\n{\n",
        "    for (volatile int forever = 1; forever;) {}\n"};
    CHECK(build_probe("crash_mm", &crash_mm, 1, NULL, crash, sizeof crash) != NULL);
    CHECK(build_probe("loop_mm", &loop_mm, 1, NULL, endless, sizeof endless) != NULL);

    tito_perf_options o = TITO_PERF_OPTIONS_INIT;
    o.small = true;
    o.seed = seed;
    o.trials = 2;
    o.baseline_trials = 1;
    o.reference_probe = ref;
    o.student_probe = crash;
    tito_perf_result r = {0};
    CHECK_OK(tito_perf_measure(&r, &matmul, &o));
    CHECK(r.verdict == TITO_CRASH);
    /* Run 1 is the --reps 0 baseline, which never calls matmul. */
    CHECK(r.message && strcmp(r.message, "your kernel crashed (SIGSEGV) on its 2nd run") == 0);
    tito_perf_result_release(&r);

    o.student_probe = endless;
    o.timeout_factor = 2.0;
    o.timeout_slack = 0.5;
    CHECK_OK(tito_perf_measure(&r, &matmul, &o));
    CHECK(r.verdict == TITO_TIMEOUT);
    CHECK(r.message && strstr(r.message, "ran out of time") && strstr(r.message, "(the reference takes "));
    tito_perf_result_release(&r);

    /* A reference that cannot run is the grader's problem, not a verdict on the student. */
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no-such-probe", workdir);
    o.reference_probe = missing;
    o.student_probe = ref;
    CHECK_OK(tito_perf_measure(&r, &matmul, &o));
    CHECK(r.verdict == TITO_SKIPPED && r.message && strstr(r.message, "costs no points"));
    tito_perf_result_release(&r);

    tito_perf_kernel no_reps = {"matmul_512", "visible", 0};
    CHECK_STATUS(tito_perf_measure(&r, &no_reps, &o), TT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------ whole grades */

/* Grade `source` fully through the engine with the after-judge hook. */
static tito_grade *grade_fully(const char *source)
{
    tito_kit *kit = NULL;
    CHECK_OK(tito_kit_open(&kit, parts_kit));
    if (!kit)
        return NULL;
    const tito_module *m = tito_module_find("01_tensor");
    tito_after_judge aj = TITO_AFTER_JUDGE_INIT;
    aj.kit = kit;
    aj.module = m;
    aj.deterministic = true; /* the points must not depend on this machine's load */
    aj.perf_small = true;
    tito_grade_options o = TITO_GRADE_OPTIONS_INIT;
    o.full = true;
    o.seed_set = true;
    o.seed = seed;
    o.no_cache = true;
    o.tito_version = "test";
    o.phase = tito_after_judge_run;
    o.phase_ctx = &aj;
    tito_grade *g = NULL;
    CHECK_OK(tito_grade_run(&g, kit, m, source, &o));
    tito_kit_free(kit);
    return g;
}

static void test_grade_reference_fully(void)
{
    char probe[700], source[700];
    CHECK(build_probe("clean", NULL, 0, NULL, probe, sizeof probe) != NULL);
    snprintf(source, sizeof source, "%s/clean/tensor.c", workdir);
    tito_grade *g = grade_fully(source);
    CHECK(g != NULL);
    if (!g)
        return;
    size_t hidden = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        CHECK(g->cases[i].verdict == TITO_PASS);
        hidden += g->cases[i].hidden;
    }
    CHECK(hidden > 0);
    if (g->memcheck.status != TITO_MEMCHECK_CLEAN)
        print_findings(&g->memcheck);
    CHECK(g->memcheck.status == TITO_MEMCHECK_CLEAN);
    CHECK(g->memcheck.points == 15 && g->memcheck.max_points == 15);
    CHECK(g->n_perf == 1 && g->perf[0].verdict == TITO_PASS && g->perf[0].deterministic);
    CHECK(g->n_perf == 1 && g->perf[0].ratio > 0.0 && g->perf[0].max_points == 15);
    /* All correctness and memory points; speed by its band (the student's object is
     * built -O2, the reference's for this machine). */
    CHECK(g->possible == 100 && g->earned >= 85);
    CHECK(g->seconds_memcheck > 0.0 && g->seconds_perf > 0.0);
    fprintf(stderr, "reference graded: %d/%d, speed ratio %.3f\n", g->earned, g->possible,
            g->n_perf ? g->perf[0].ratio : 0.0);

    /* Its receipt names no hidden check: compare with the hidden probe's own table. */
    char *text = NULL;
    CHECK_OK(tito_receipt_dumps(&text, g, 0));
    for (size_t i = 0; text && i < g->n_cases; i++) {
        if (g->cases[i].hidden && strstr(text, g->cases[i].name)) {
            fprintf(stderr, "the receipt names hidden check %s\n", g->cases[i].name);
            CHECK(false);
        }
    }
    tito_receipt *r = NULL;
    CHECK_OK(tito_receipt_parse(&r, text, text ? strlen(text) : 0, "grade"));
    CHECK(r && r->grade->earned == g->earned && r->grade->n_cases == g->n_cases);
    tito_receipt_free(r);
    free(text);
    tito_grade_free(g);
}

static void test_grade_starter_fully(void)
{
    tito_grade *g = grade_fully(parts_starter);
    CHECK(g != NULL);
    if (!g)
        return;
    CHECK(g->build == TITO_PASS);
    for (size_t i = 0; i < g->n_cases; i++)
        CHECK(g->cases[i].verdict != TITO_PASS);
    CHECK(g->memcheck.status == TITO_MEMCHECK_CLEAN || g->memcheck.status == TITO_MEMCHECK_FINDINGS);
    /* A matmul that returns at once is fast, and earns nothing: its checks fail. */
    CHECK(g->n_perf == 1 && g->perf[0].points == 0);
    CHECK(g->n_perf == 1 && g->perf[0].message && strstr(g->perf[0].message, "\"matmul\" check"));
    CHECK(g->earned <= 15 && g->possible == 100);
    fprintf(stderr, "starter graded: %d/%d (memcheck %s)\n", g->earned, g->possible,
            tito_memcheck_status_name(g->memcheck.status));
    tito_grade_free(g);
}

static void test_grade_compile_error(void)
{
    static const mutation syntax = {"tt_status tt_tensor_argmax(", "this is not C "};
    char probe[700], source[700];
    /* The probe cannot link; only the source matters here. */
    (void)build_probe("syntax", &syntax, 1, NULL, probe, sizeof probe);
    snprintf(source, sizeof source, "%s/syntax/tensor.c", workdir);
    tito_grade *g = grade_fully(source);
    CHECK(g != NULL);
    if (!g)
        return;
    CHECK(g->build == TITO_COMPILE_ERROR);
    CHECK(g->memcheck.status == TITO_MEMCHECK_NOT_RUN && g->memcheck.max_points == 15);
    CHECK(g->n_perf == 1 && g->perf[0].verdict == TITO_COMPILE_ERROR && g->perf[0].max_points == 15);
    CHECK(g->earned == 0 && g->possible == 100);
    tito_grade_free(g);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_receipts_valgrind PROBE_PARTS [FILTER]\n");
        return 2;
    }
    read_parts(argv[1]);
    if (tito_file_read(&tensor_text, NULL, parts_tensor) != TT_OK) {
        fprintf(stderr, "cannot read %s: %s\n", parts_tensor, tt_error_last());
        return 2;
    }
    snprintf(workdir, sizeof workdir, "/tmp/tito-receipts-XXXXXX");
    if (!mkdtemp(workdir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 2;
    }
    /* The sandbox runs probes as an unprivileged user when the test runs as root. */
    chmod(workdir, 0755);
    char ref[700];
    if (!build_reference_probe(ref, sizeof ref)) {
        fprintf(stderr, "cannot build the reference probe\n");
        return 2;
    }
    read_case_names(ref);
    if (n_case_names < 10) {
        fprintf(stderr, "the probe lists %zu cases: expected the module 01 suite\n", n_case_names);
        return 2;
    }
    harness_init(argc - 1, argv + 1);
    RUN(test_memcheck_reference_is_clean);
    RUN(test_memcheck_planted_leak);
    RUN(test_memcheck_planted_invalid_read);
    RUN(test_memcheck_planted_crash_resumes);
    RUN(test_memcheck_without_valgrind);
    RUN(test_perf_deterministic);
    RUN(test_perf_failures);
    RUN(test_grade_reference_fully);
    RUN(test_grade_starter_fully);
    RUN(test_grade_compile_error);
    nftw(workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < n_case_names; i++)
        free(case_names[i]);
    free(tensor_text);
    return harness_summary();
}
