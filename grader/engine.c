/*
 * grader/engine.c: build, run and judge one module (engine.h).
 *
 * A module's checks come in two parts, "visible" and "hidden", each its own probe
 * program. For each part: the reference probe gives the case table (--list) and,
 * run with --times, the expected transcript and each case's time; then the student's
 * probe runs on the same seed. When the student's probe dies inside case K (crash,
 * timeout, memory or output limit, exit) or its transcript goes bad there, case K gets
 * that verdict and the probe is started again at K+1: one bad case costs one case.
 * Every run makes progress (at least one case gets its verdict), so there are at most
 * as many runs as cases.
 *
 * Parts are independent and may run in two threads (options.jobs); each keeps its
 * results and its error to itself, and the grade is assembled in part order, so the
 * result does not depend on the schedule.
 */
#define _POSIX_C_SOURCE 200809L

#include "engine.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build.h"
#include "judge.h"
#include "sandbox.h"
#include "transcript.h"

#define PROBE_MEMORY ((uint64_t)1 << 30)
#define PROBE_OUTPUT ((size_t)1 << 20)
/* The reference is trusted and fast; these only stop a broken kit from hanging tito. */
#define REFERENCE_WALL 120.0
#define REFERENCE_CPU 100u

enum { PART_VISIBLE, PART_HIDDEN, N_PARTS };
static const char *const part_names[N_PARTS] = {"visible", "hidden"};

typedef struct part {
    int which;
    bool active;
    /* The selected cases, in table order, and where each sits in the probe's table. */
    char **names, **categories;
    int *points;
    size_t *table_index;
    size_t n_cases, n_table;
    bool all_selected;        /* the selection is the whole table: --from works */
    tito_case_result *results;
    char ref_probe[4096];
    char student_probe[4096];
    tito_build_outcome link;  /* the student probe's link */
    bool linked;
    tito_transcript *expected;
    double seconds_build;     /* linking (and caching) its probes */
    double seconds_run;       /* listing, running and judging */
    tt_status st;             /* the part's own failure (the grader's, not the student's) */
    char error[1024];
} part;

typedef struct run_ctx {
    tito_build *b;
    const tito_grade_options *o;
    uint64_t seed;
    tito_build_outcome compile;
    part parts[N_PARTS];
} run_ctx;

/* ------------------------------------------------------------ helpers */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *format(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static tt_status nomem(void)
{
    return tt_error_set(TT_ERR_NOMEM, "out of memory while grading");
}

uint64_t tito_grade_default_seed(const char *source_hash, const char *suite_hash)
{
    char text[2 * TITO_KIT_HASH_SIZE + 2], h[TITO_KIT_HASH_SIZE];
    snprintf(text, sizeof text, "%s %s", source_hash ? source_hash : "",
             suite_hash ? suite_hash : "");
    tito_kit_sha256(h, text, strlen(text));
    uint64_t seed = 0;
    for (int i = 0; i < 16; i++) {
        char c = h[7 + i];
        seed = seed << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return seed;
}

/* The name and meaning of the signals a crashing probe usually dies of. */
static const char *signal_words(int sig, const char **meaning)
{
    *meaning = NULL;
    switch (sig) {
    case SIGSEGV:
        *meaning = "a read or write through a bad pointer: NULL, freed, or out of bounds";
        return "SIGSEGV";
    case SIGBUS: *meaning = "a misaligned or impossible memory access"; return "SIGBUS";
    case SIGFPE: *meaning = "an integer division by zero"; return "SIGFPE";
    case SIGILL: *meaning = "an illegal instruction (often a corrupted stack)"; return "SIGILL";
    case SIGABRT:
        *meaning = "abort(): a failed assert, or the C library found the heap corrupted "
                   "(double free?)";
        return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGPIPE: return "SIGPIPE";
    default: return NULL;
    }
}

/* ------------------------------------------------------------ sandbox runs */

static tt_status run_probe(tito_sandbox_result **res, const run_ctx *ctx, const char *const *argv,
                           const char *const *hidden, double wall, unsigned cpu, bool transcript)
{
    tito_sandbox_options so = TITO_SANDBOX_OPTIONS_INIT;
    so.argv = argv;
    so.workdir = NULL;
    so.temp_parent = ctx->o->temp_parent;
    so.hidden_paths = hidden;
    so.transcript = transcript;
    so.limits.wall_seconds = wall;
    so.limits.cpu_seconds = cpu;
    so.limits.address_space = PROBE_MEMORY;
    so.limits.output_bytes = PROBE_OUTPUT;
    return tito_sandbox_run(res, &so);
}

/* The case table of a part from `reference --list`: lines "name category points". */
static tt_status list_cases(part *pt, const run_ctx *ctx)
{
    const char *argv[] = {pt->ref_probe, "--list", NULL};
    tito_sandbox_result *r = NULL;
    tt_status st = run_probe(&r, ctx, argv, (const char *const *)ctx->b->hidden, REFERENCE_WALL,
                             REFERENCE_CPU, false);
    if (st != TT_OK)
        return st;
    if (r->end != TITO_SANDBOX_EXITED || r->exit_code != 0) {
        st = tt_error_set(TT_ERR_STATE, "internal error: the %s reference probe cannot list its "
                                        "cases (%s)",
                          part_names[pt->which], r->message);
        tito_sandbox_result_free(r);
        return st;
    }
    const char *filter = pt->which == PART_VISIBLE ? ctx->o->filter : NULL;
    char *save = NULL;
    for (char *line = strtok_r(r->out.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[256], category[256];
        int points = 0, used = 0;
        if (sscanf(line, "%255s %255s %d%n", name, category, &points, &used) != 3 ||
            line[used] != '\0' || points < 0) {
            st = tt_error_set(TT_ERR_STATE, "internal error: the %s reference probe lists "
                                            "\"%.80s\"",
                              part_names[pt->which], line);
            break;
        }
        size_t index = pt->n_table++;
        if (filter && !strstr(name, filter))
            continue;
        size_t n = pt->n_cases + 1;
        char **names = realloc(pt->names, n * sizeof *names);
        if (names)
            pt->names = names;
        char **cats = realloc(pt->categories, n * sizeof *cats);
        if (cats)
            pt->categories = cats;
        int *pts = realloc(pt->points, n * sizeof *pts);
        if (pts)
            pt->points = pts;
        size_t *idx = realloc(pt->table_index, n * sizeof *idx);
        if (idx)
            pt->table_index = idx;
        if (!names || !cats || !pts || !idx) {
            st = nomem();
            break;
        }
        pt->names[pt->n_cases] = strdup(name);
        pt->categories[pt->n_cases] = strdup(category);
        pt->points[pt->n_cases] = points;
        pt->table_index[pt->n_cases] = index;
        pt->n_cases++;
        if (!pt->names[pt->n_cases - 1] || !pt->categories[pt->n_cases - 1]) {
            st = nomem();
            break;
        }
    }
    tito_sandbox_result_free(r);
    pt->all_selected = pt->n_cases == pt->n_table;
    if (st == TT_OK) {
        pt->results = calloc(pt->n_cases ? pt->n_cases : 1, sizeof *pt->results);
        if (!pt->results)
            st = nomem();
    }
    for (size_t i = 0; st == TT_OK && i < pt->n_cases; i++) {
        tito_case_result *cr = &pt->results[i];
        cr->name = strdup(pt->names[i]);
        cr->category = strdup(pt->categories[i]);
        cr->hidden = pt->which == PART_HIDDEN;
        cr->max_points = pt->points[i];
        cr->verdict = TITO_SKIPPED;
        if (!cr->name || !cr->category)
            st = nomem();
    }
    return st;
}

/* argv of a probe run over cases [from, n) of the part: --from when every case is
 * selected, else the names. The array and seed text live in `store`. */
typedef struct argv_store {
    const char **argv;
    char seed[32], from[32];
} argv_store;

static tt_status make_argv(argv_store *s, const part *pt, const run_ctx *ctx, const char *probe,
                           size_t from, bool times)
{
    s->argv = calloc(pt->n_cases - from + 10, sizeof *s->argv);
    if (!s->argv)
        return nomem();
    size_t n = 0;
    snprintf(s->seed, sizeof s->seed, "%llx", (unsigned long long)ctx->seed);
    s->argv[n++] = probe;
    s->argv[n++] = "--seed";
    s->argv[n++] = s->seed;
    if (ctx->o->small)
        s->argv[n++] = "--small";
    if (times)
        s->argv[n++] = "--times";
    if (pt->all_selected) {
        snprintf(s->from, sizeof s->from, "%zu", pt->table_index[from]);
        s->argv[n++] = "--from";
        s->argv[n++] = s->from;
    } else {
        for (size_t i = from; i < pt->n_cases; i++)
            s->argv[n++] = pt->names[i];
    }
    s->argv[n] = NULL;
    return TT_OK;
}

/* ------------------------------------------------------------ the reference run */

static tt_status run_reference(part *pt, const run_ctx *ctx)
{
    argv_store s = {0};
    tt_status st = make_argv(&s, pt, ctx, pt->ref_probe, 0, true);
    if (st != TT_OK)
        return st;
    tito_sandbox_result *r = NULL;
    st = run_probe(&r, ctx, s.argv, (const char *const *)ctx->b->hidden, REFERENCE_WALL,
                   REFERENCE_CPU, true);
    free(s.argv);
    if (st != TT_OK)
        return st;
    if (r->end != TITO_SANDBOX_EXITED || r->exit_code != 0) {
        st = tt_error_set(TT_ERR_STATE,
                          "internal error: the %s reference probe failed (%s); stderr: %.300s",
                          part_names[pt->which], r->message, r->err.data);
        tito_sandbox_result_free(r);
        return st;
    }
    st = tito_transcript_parse(&pt->expected, r->transcript.data, r->transcript.size,
                               TITO_TRANSCRIPT_TIMES);
    bool truncated = r->transcript.truncated;
    tito_sandbox_result_free(r);
    if (st != TT_OK)
        return st;
    const tito_transcript *t = pt->expected;
    if (truncated || t->error || t->n_cases != pt->n_cases)
        return tt_error_set(TT_ERR_STATE,
                            "internal error: the %s reference transcript is unusable (%s)",
                            part_names[pt->which],
                            truncated ? "too long" : t->error ? t->error : "cases missing");
    for (size_t i = 0; i < t->n_cases; i++)
        if (!t->cases[i].ended || strcmp(t->cases[i].name, pt->names[i]) != 0)
            return tt_error_set(TT_ERR_STATE,
                                "internal error: the %s reference transcript has case %s where "
                                "%s was expected",
                                part_names[pt->which], t->cases[i].name, pt->names[i]);
    return TT_OK;
}

/* ------------------------------------------------------------ the student's runs */

static tt_status set_result(tito_case_result *cr, tito_verdict v, int sig, char *message)
{
    if (v != TITO_PASS && !message)
        return nomem();
    cr->verdict = v;
    cr->signal = sig;
    free(cr->message);
    cr->message = message;
    cr->points = v == TITO_PASS ? cr->max_points : 0;
    return TT_OK;
}

/* The verdict of case `i`, during which (inside) or before which the run `r` ended. */
static tt_status ending_result(part *pt, size_t i, const tito_sandbox_result *r,
                               const tito_transcript *t, bool inside, double wall)
{
    tito_case_result *cr = &pt->results[i];
    double ref_seconds = pt->expected->cases[i].seconds;
    const char *when = inside ? "during this case" : "before this case started";
    const char *meaning = NULL, *name = NULL;
    switch (r->end) {
    case TITO_SANDBOX_EXITED:
        if (t->error && (!inside || t->error_in_case))
            return set_result(cr, TITO_FAIL, 0,
                              format("the probe's transcript is malformed (%s): something "
                                     "other than the probe wrote to it",
                                     t->error));
        if (inside)
            return set_result(cr, TITO_FAIL, 0,
                              format("the probe stopped with exit code %d during this case: "
                                     "library code must return a status, never call exit()",
                                     r->exit_code));
        return set_result(cr, TITO_FAIL, 0,
                          format("did not run: the probe stopped (exit code %d) before this "
                                 "case",
                                 r->exit_code));
    case TITO_SANDBOX_SIGNALED:
        name = signal_words(r->signal, &meaning);
        if (name)
            return set_result(cr, TITO_CRASH, r->signal,
                              format("crashed with %s %s%s%s%s", name, when,
                                     meaning ? " (" : "", meaning ? meaning : "",
                                     meaning ? ")" : ""));
        return set_result(cr, TITO_CRASH, r->signal,
                          format("crashed with signal %d %s", r->signal, when));
    case TITO_SANDBOX_TIMEOUT:
    case TITO_SANDBOX_CPU_LIMIT: {
        char ref_text[64];
        if (ref_seconds < 0.001)
            snprintf(ref_text, sizeof ref_text, "less than a millisecond");
        else
            snprintf(ref_text, sizeof ref_text, "%.3f s", ref_seconds);
        return set_result(cr, TITO_TIMEOUT, 0,
                          format("no result after %.1f s%s (the reference takes %s for this "
                                 "case): an endless loop, or a loop bound that never shrinks?",
                                 r->end == TITO_SANDBOX_TIMEOUT ? wall : r->cpu_seconds,
                                 r->end == TITO_SANDBOX_TIMEOUT ? "" : " of CPU time", ref_text));
    }
    case TITO_SANDBOX_MEMORY_LIMIT:
        return set_result(cr, TITO_MEMORY_LIMIT, 0,
                          format("ran out of memory %s: a probe may use %llu MiB (an "
                                 "allocation in a loop that never ends, or a size computed "
                                 "from a wrong shape?)",
                                 when, (unsigned long long)(PROBE_MEMORY >> 20)));
    case TITO_SANDBOX_OUTPUT_LIMIT:
    case TITO_SANDBOX_FILE_SIZE_LIMIT:
        return set_result(cr, TITO_OUTPUT_LIMIT, 0,
                          format("printed more than %zu KiB %s: the library must not print; "
                                 "remove debugging output",
                                 PROBE_OUTPUT >> 10, when));
    case TITO_SANDBOX_SPAWN_FAILED: break;
    }
    return tt_error_set(TT_ERR_STATE, "cannot run the student's probe: %s", r->message);
}

static tt_status run_student(part *pt, const run_ctx *ctx)
{
    size_t next = 0;
    tt_status st = TT_OK;
    while (st == TT_OK && next < pt->n_cases) {
        double remaining = 0.0;
        for (size_t i = next; i < pt->n_cases; i++)
            remaining += pt->expected->cases[i].seconds > 0 ? pt->expected->cases[i].seconds : 0;
        double min_t = ctx->o->min_timeout > 0 ? ctx->o->min_timeout : 2.0;
        double factor = ctx->o->timeout_factor > 0 ? ctx->o->timeout_factor : 20.0;
        double wall = min_t + factor * remaining;
        unsigned cpu = (unsigned)ceil(wall) + 1;

        argv_store s = {0};
        st = make_argv(&s, pt, ctx, pt->student_probe, next, false);
        if (st != TT_OK)
            break;
        tito_sandbox_result *r = NULL;
        st = run_probe(&r, ctx, s.argv, (const char *const *)ctx->b->hidden_from_student, wall,
                       cpu, true);
        free(s.argv);
        if (st != TT_OK)
            break;
        if (r->end == TITO_SANDBOX_SPAWN_FAILED) {
            st = tt_error_set(TT_ERR_STATE, "cannot run the student's probe: %s", r->message);
            tito_sandbox_result_free(r);
            break;
        }
        tito_transcript *t = NULL;
        st = tito_transcript_parse(&t, r->transcript.data, r->transcript.size, 0);
        if (st != TT_OK) {
            tito_sandbox_result_free(r);
            break;
        }
        bool abnormal = r->end != TITO_SANDBOX_EXITED;
        bool restart = false;
        for (size_t k = 0; st == TT_OK && k < t->n_cases && next < pt->n_cases; k++) {
            const tito_transcript_case *c = &t->cases[k];
            tito_case_result *cr = &pt->results[next];
            if (strcmp(c->name, pt->names[next]) != 0) {
                st = set_result(cr, TITO_FAIL, 0,
                                format("the probe's transcript names case %.80s where %s was "
                                       "expected: something other than the probe wrote to it",
                                       c->name, pt->names[next]));
                next++;
                restart = true;
                break;
            }
            if (!c->ended) {
                st = ending_result(pt, next, r, t, true, wall);
                next++;
                restart = true;
                break;
            }
            tito_verdict v = TITO_FAIL;
            char *message = NULL;
            st = tito_judge_case(&v, &message, &pt->expected->cases[next], c);
            if (st == TT_OK)
                st = set_result(cr, v, 0, message);
            next++;
        }
        if (st == TT_OK && !restart && next < pt->n_cases) {
            if ((abnormal || t->error) && t->n_cases == 0) {
                /* Nothing began: the fault is in code that runs before any case (a
                 * constructor, say) and would strike again at every restart. */
                for (; st == TT_OK && next < pt->n_cases; next++)
                    st = ending_result(pt, next, r, t, false, wall);
            } else if (abnormal || t->error) {
                st = ending_result(pt, next, r, t, false, wall);
                next++;
            } else {
                for (; st == TT_OK && next < pt->n_cases; next++)
                    st = ending_result(pt, next, r, t, false, wall);
            }
        }
        tito_transcript_free(t);
        tito_sandbox_result_free(r);
    }
    return st;
}

/* ------------------------------------------------------------ one part */

static void progress(const tito_grade_options *o, const char *step, bool done)
{
    if (o->progress)
        o->progress(o->progress_ctx, step, done);
}

static tt_status part_run_steps(part *pt, run_ctx *ctx);

static tt_status part_run(part *pt, run_ctx *ctx)
{
    progress(ctx->o, part_names[pt->which], false);
    tt_status st = part_run_steps(pt, ctx);
    progress(ctx->o, part_names[pt->which], true);
    return st;
}

static tt_status part_run_steps(part *pt, run_ctx *ctx)
{
    tito_build *b = ctx->b;
    const char *name = part_names[pt->which];
    double t0 = now_seconds();
    tt_status st = tito_build_reference_probe(b, name, pt->ref_probe, sizeof pt->ref_probe, NULL);
    double t1 = now_seconds();
    pt->seconds_build += t1 - t0;
    if (st == TT_OK)
        st = list_cases(pt, ctx);
    pt->seconds_run += now_seconds() - t1;
    if (st != TT_OK || pt->n_cases == 0)
        return st;

    if (ctx->compile.verdict != TITO_PASS) {
        for (size_t i = 0; st == TT_OK && i < pt->n_cases; i++)
            st = set_result(&pt->results[i], TITO_COMPILE_ERROR, 0,
                            format("not run: %s does not compile:\n%s", b->source_name,
                                   ctx->compile.message));
        return st;
    }
    t0 = now_seconds();
    st = tito_build_link_student(&pt->link, b, name, pt->student_probe, sizeof pt->student_probe);
    pt->seconds_build += now_seconds() - t0;
    if (st != TT_OK)
        return st;
    if (pt->link.verdict != TITO_PASS) {
        for (size_t i = 0; st == TT_OK && i < pt->n_cases; i++)
            st = set_result(&pt->results[i], TITO_LINK_ERROR, 0,
                            format("not run: the probe does not link: %s", pt->link.message));
        return st;
    }
    pt->linked = true;
    t0 = now_seconds();
    st = run_reference(pt, ctx);
    if (st == TT_OK)
        st = run_student(pt, ctx);
    pt->seconds_run += now_seconds() - t0;
    return st;
}

static void *part_thread(void *arg)
{
    void **args = arg;
    part *pt = args[0];
    pt->st = part_run(pt, args[1]);
    if (pt->st != TT_OK)
        snprintf(pt->error, sizeof pt->error, "%s", tt_error_last());
    return NULL;
}

static void part_release(part *pt)
{
    for (size_t i = 0; i < pt->n_cases; i++) {
        free(pt->names[i]);
        free(pt->categories[i]);
    }
    free(pt->names);
    free(pt->categories);
    free(pt->points);
    free(pt->table_index);
    if (pt->results) {
        for (size_t i = 0; i < pt->n_cases; i++) {
            free(pt->results[i].name);
            free(pt->results[i].category);
            free(pt->results[i].message);
        }
        free(pt->results);
    }
    tito_build_outcome_release(&pt->link);
    tito_transcript_free(pt->expected);
}

/* ------------------------------------------------------------ the grade */

static tt_status fill_provenance(tito_grade *g, const tito_build *b, const char *source_path,
                                 const tito_grade_options *o, uint64_t seed)
{
    tito_provenance *p = &g->provenance;
    char iso[512];
    tito_sandbox_isolation_describe(iso, sizeof iso, b->isolation);
    p->source_path = dup_or_null(source_path);
    p->source_hash = dup_or_null(b->source_hash);
    p->suite_hash = dup_or_null(b->suite_hash);
    p->reference_hash = dup_or_null(b->reference_hash);
    p->tito_version = dup_or_null(o->tito_version ? o->tito_version : "unknown");
    p->compiler = dup_or_null(b->compiler ? b->compiler : "unknown");
    p->isolation = dup_or_null(iso);
    p->seed = seed;
    p->mem_mb = (unsigned)(PROBE_MEMORY >> 20);
    p->cpu_seconds = 0; /* set from the runs: the limit depends on the reference's time */
    if (!p->source_path || !p->source_hash || !p->suite_hash || !p->reference_hash ||
        !p->tito_version || !p->compiler || !p->isolation)
        return nomem();
    return TT_OK;
}

tt_status tito_grade_run(tito_grade **out, const tito_kit *kit, const tito_module *m,
                         const char *source_path, const tito_grade_options *options)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_grade_run: out is NULL");
    *out = NULL;
    if (!kit || !m || !source_path)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_grade_run: %s is NULL",
                            !kit ? "kit" : !m ? "module" : "source_path");
    tito_grade_options defaults = TITO_GRADE_OPTIONS_INIT;
    const tito_grade_options *o = options ? options : &defaults;

    double t0 = now_seconds();
    run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.o = o;
    tito_grade *g = calloc(1, sizeof *g);
    if (!g)
        return nomem();
    g->module = m->number;
    g->full = o->full;
    g->slug = strdup(m->slug);
    tt_status st = g->slug ? TT_OK : nomem();

    progress(o, "build", false);
    tito_build_options bo = TITO_BUILD_OPTIONS_INIT;
    bo.temp_parent = o->temp_parent;
    bo.hidden_paths = o->hidden_paths;
    bo.no_cache = o->no_cache;
    if (st == TT_OK)
        st = tito_build_new(&ctx.b, kit, m, source_path, &bo);
    if (st != TT_OK)
        goto cleanup;
    ctx.seed = o->seed_set ? o->seed : tito_grade_default_seed(ctx.b->source_hash, ctx.b->suite_hash);
    TT_CHECK(tito_build_compile(&ctx.compile, ctx.b));
    progress(o, "build", true);
    double t_compiled = now_seconds();

    /* Build, run and judge each part (two threads when asked). */
    size_t n_parts = o->full ? 2 : 1;
    for (size_t i = 0; i < n_parts; i++) {
        ctx.parts[i].which = (int)i;
        ctx.parts[i].active = true;
    }
    if (o->jobs >= 2 && n_parts == 2) {
        pthread_t thread;
        void *args[2] = {&ctx.parts[PART_HIDDEN], &ctx};
        if (pthread_create(&thread, NULL, part_thread, args) != 0) {
            part_thread(args);
        } else {
            void *self_args[2] = {&ctx.parts[PART_VISIBLE], &ctx};
            part_thread(self_args);
            pthread_join(thread, NULL);
        }
    } else {
        for (size_t i = 0; i < n_parts; i++) {
            void *args[2] = {&ctx.parts[i], &ctx};
            part_thread(args);
        }
    }
    for (size_t i = 0; i < n_parts; i++) {
        if (ctx.parts[i].st != TT_OK) {
            st = tt_error_set(ctx.parts[i].st, "%s", ctx.parts[i].error);
            goto cleanup;
        }
    }

    size_t total = 0;
    for (size_t i = 0; i < n_parts; i++)
        total += ctx.parts[i].n_cases;
    if (total == 0) {
        st = o->filter ? tt_error_set(TT_ERR_INVALID_ARG, "no visible check of %s has \"%s\" in "
                                                          "its name",
                                      m->slug, o->filter)
                       : tt_error_set(TT_ERR_STATE, "the suite of %s has no checks", m->slug);
        goto cleanup;
    }

    /* The build verdict: the compiler's, else the first failing link. The log starts
     * with what the student should read first (the first error, the missing
     * functions), then a blank line and the tool's whole output. */
    g->build = ctx.compile.verdict;
    const tito_build_outcome *failed = g->build != TITO_PASS ? &ctx.compile : NULL;
    for (size_t i = 0; !failed && i < n_parts; i++)
        if (ctx.parts[i].n_cases > 0 && ctx.parts[i].link.verdict != TITO_PASS)
            failed = &ctx.parts[i].link;
    if (failed) {
        g->build = failed->verdict;
        g->build_log = failed->log ? format("%s\n\n%s", failed->message, failed->log)
                                   : strdup(failed->message);
    } else if (ctx.compile.log) {
        g->build_log = strdup(ctx.compile.log);
    }
    if ((failed || ctx.compile.log) && !g->build_log) {
        st = nomem();
        goto cleanup;
    }

    /* The cases, visible then hidden; the parts hand their strings over. */
    g->cases = calloc(total, sizeof *g->cases);
    if (!g->cases) {
        st = nomem();
        goto cleanup;
    }
    for (size_t i = 0; i < n_parts; i++) {
        part *pt = &ctx.parts[i];
        for (size_t k = 0; k < pt->n_cases; k++) {
            g->cases[g->n_cases++] = pt->results[k];
            memset(&pt->results[k], 0, sizeof pt->results[k]);
            g->earned += g->cases[g->n_cases - 1].points;
            g->possible += g->cases[g->n_cases - 1].max_points;
        }
    }
    TT_CHECK(fill_provenance(g, ctx.b, source_path, o, ctx.seed));
    {
        double min_t = o->min_timeout > 0 ? o->min_timeout : 2.0;
        g->provenance.cpu_seconds = (unsigned)ceil(min_t) + 1;
    }
    /* Phase times: with two threads the parts' times overlap, so they are scaled to
     * the wall time the parts took together. */
    {
        double parts_wall = now_seconds() - t_compiled, link = 0.0, run = 0.0;
        for (size_t i = 0; i < n_parts; i++) {
            link += ctx.parts[i].seconds_build;
            run += ctx.parts[i].seconds_run;
        }
        double scale = link + run > parts_wall && link + run > 0 ? parts_wall / (link + run) : 1.0;
        g->seconds_build = (t_compiled - t0) + link * scale;
        g->seconds_run = run * scale;
    }

    if (o->phase) {
        tito_grade_probes probes = {
            .workdir = ctx.b->workdir,
            .source_name = ctx.b->source_name,
            .hidden_from_student = (const char *const *)ctx.b->hidden_from_student,
            .seed = ctx.seed,
        };
        for (size_t i = 0; i < n_parts; i++) {
            probes.student[i] = ctx.parts[i].linked ? ctx.parts[i].student_probe : NULL;
            probes.reference[i] = ctx.parts[i].ref_probe[0] ? ctx.parts[i].ref_probe : NULL;
            probes.case_names[i] = (const char *const *)ctx.parts[i].names;
            probes.n_cases[i] = ctx.parts[i].n_cases;
        }
        TT_CHECK(o->phase(o->phase_ctx, g, &probes));
    }

cleanup:
    for (size_t i = 0; i < N_PARTS; i++)
        part_release(&ctx.parts[i]);
    tito_build_outcome_release(&ctx.compile);
    tito_build_free(ctx.b);
    if (st != TT_OK) {
        tito_grade_free(g);
        return st;
    }
    *out = g;
    return TT_OK;
}
