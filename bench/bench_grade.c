/*
 * tt-bench-grade: how long does `tito grade 01` take on this machine, now, and where
 * does the time go?
 *
 * One full grade of module 01 with the reference solution as the student's file, made
 * exactly as `tito grade` makes it (grader/engine.h with the after-judge phases of
 * grader/phases.h: visible and hidden parts in two threads, Valgrind memcheck, the speed
 * kernels; the course's points), timed phase by phase from the engine's progress
 * callback:
 *
 *   build      the working directory (kit copies, hashes, `cc --version`) and the compile
 *   visible    the visible part: links, reference and student runs, judging
 *   hidden     the hidden part, the same (it runs beside the visible part)
 *   memcheck   both student probes under Valgrind memcheck
 *   speed      the speed kernels (7 timed pairs, or callgrind with --deterministic)
 *   total      start to finish, wall clock
 *
 *   tt-bench-grade [--module N] [--source FILE] [--deterministic] [--no-cache]
 *                  [--limit SECONDS] [--json]
 *
 * The reference probes are linked once per kit and cached (as tito caches them); with
 * --no-cache they are linked in this run, as on a first grade. The grade itself must
 * come out perfect (the reference against itself); anything else is a broken kit.
 *
 * Exit status: 0 measured (and within --limit when given), 1 over the limit or the
 * reference did not grade 100%, 2 bad options, 3 the grade could not be made.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "course.h"
#include "engine.h"
#include "kit.h"
#include "modules.h"
#include "phases.h"

enum { STEP_BUILD, STEP_VISIBLE, STEP_HIDDEN, STEP_MEMCHECK, STEP_SPEED, N_STEPS };
static const char *const step_names[N_STEPS] = {"build", "visible", "hidden", "memcheck", "speed"};

typedef struct timing {
    pthread_mutex_t lock;
    double t0;
    double start[N_STEPS], end[N_STEPS];
} timing;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void mark(timing *t, int step, bool done)
{
    pthread_mutex_lock(&t->lock);
    double now = now_seconds() - t->t0;
    if (done)
        t->end[step] = now;
    else
        t->start[step] = now;
    pthread_mutex_unlock(&t->lock);
}

/* The engine's progress callback (build, visible, hidden). */
static void on_progress(void *ctx, const char *step, bool done)
{
    for (int i = 0; i < N_STEPS; i++)
        if (strcmp(step, step_names[i]) == 0)
            mark(ctx, i, done);
}

typedef struct hook {
    tito_after_judge aj;
    timing *t;
} hook;

/* The after-judge phases, one at a time so that each gets its own time. */
static tt_status after_judge(void *ctx, tito_grade *g, const tito_grade_probes *probes)
{
    hook *h = ctx;
    tito_after_judge one = h->aj;
    one.perf = false;
    mark(h->t, STEP_MEMCHECK, false);
    tt_status st = tito_after_judge_run(&one, g, probes);
    mark(h->t, STEP_MEMCHECK, true);
    if (st != TT_OK)
        return st;
    one.memcheck = false;
    one.perf = true;
    mark(h->t, STEP_SPEED, false);
    st = tito_after_judge_run(&one, g, probes);
    mark(h->t, STEP_SPEED, true);
    return st;
}

static int usage(void)
{
    fprintf(stderr, "usage: tt-bench-grade [--module N] [--source FILE] [--deterministic] "
                    "[--no-cache] [--limit SECONDS] [--json]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *module_name = "01", *source = NULL;
    bool deterministic = false, no_cache = false, json = false;
    double limit = 0.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--module") == 0 && i + 1 < argc) {
            module_name = argv[++i];
        } else if (strcmp(a, "--source") == 0 && i + 1 < argc) {
            source = argv[++i];
        } else if (strcmp(a, "--deterministic") == 0) {
            deterministic = true;
        } else if (strcmp(a, "--no-cache") == 0) {
            no_cache = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--limit") == 0 && i + 1 < argc) {
            char *end = NULL;
            limit = strtod(argv[++i], &end);
            if (!*argv[i] || *end || limit <= 0)
                return usage();
        } else {
            return usage();
        }
    }
    const tito_module *m = tito_module_find(module_name);
    if (!m) {
        fprintf(stderr, "tt-bench-grade: no module '%s'\n", module_name);
        return 2;
    }
    char default_source[512];
    if (!source) {
        snprintf(default_source, sizeof default_source, "%s/reference/src/%s.c", TT_SOURCE_DIR, m->name);
        source = default_source;
    }

    tito_kit *kit = NULL;
    tito_course *course = NULL;
    if (tito_kit_locate(&kit) != TT_OK || tito_course_builtin(&course) != TT_OK) {
        fprintf(stderr, "tt-bench-grade: %s\n", tt_error_last());
        tito_kit_free(kit);
        return 3;
    }

    timing t;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.lock, NULL);
    hook h = {.aj = TITO_AFTER_JUDGE_INIT, .t = &t};
    h.aj.kit = kit;
    h.aj.module = m;
    h.aj.deterministic = deterministic;
    h.aj.perf_small = deterministic; /* as tito grade --deterministic */
    tito_score_rules_from_course(&h.aj.rules, tito_course_module_of(course, m));

    tito_grade_options o = TITO_GRADE_OPTIONS_INIT;
    o.full = true;
    o.jobs = 2;
    o.no_cache = no_cache;
    o.tito_version = "bench";
    o.phase = after_judge;
    o.phase_ctx = &h;
    o.progress = on_progress;
    o.progress_ctx = &t;

    tito_grade *g = NULL;
    t.t0 = now_seconds();
    tt_status st = tito_grade_run(&g, kit, m, source, &o);
    double total = now_seconds() - t.t0;
    if (st != TT_OK) {
        fprintf(stderr, "tt-bench-grade: the grade could not be made: %s\n", tt_error_last());
        tito_course_free(course);
        tito_kit_free(kit);
        pthread_mutex_destroy(&t.lock);
        return 3;
    }

    double seconds[N_STEPS];
    for (int i = 0; i < N_STEPS; i++)
        seconds[i] = t.end[i] > t.start[i] ? t.end[i] - t.start[i] : 0.0;
    bool perfect = g->earned == g->possible && g->possible > 0;
    bool over = limit > 0 && total > limit;

    if (json) {
        printf("{\n  \"schema\": \"tt-bench-grade/1\",\n  \"module\": \"%s\",\n  \"deterministic\": %s,\n"
               "  \"cached_probes\": %s,\n  \"seconds\": {",
               m->slug, deterministic ? "true" : "false", no_cache ? "false" : "true");
        for (int i = 0; i < N_STEPS; i++)
            printf("\"%s\": %.3f, ", step_names[i], seconds[i]);
        printf("\"total\": %.3f},\n  \"score\": {\"earned\": %d, \"possible\": %d},\n"
               "  \"speed_ratio\": %.4f\n}\n",
               total, g->earned, g->possible, g->n_perf ? g->perf[0].ratio : 0.0);
    } else {
        printf("tt-bench-grade: module %s graded with %s as the student\n", m->slug, source);
        printf("(kit %s; visible and hidden in two threads; speed %s; reference probes %s)\n\n",
               kit->root, deterministic ? "by instruction counts" : "by CPU time",
               no_cache ? "linked in this run" : "from the cache when there");
        printf("  %-10s %8s  %s\n", "phase", "seconds", "from .. to (s after the start)");
        for (int i = 0; i < N_STEPS; i++)
            printf("  %-10s %8.2f  %6.2f .. %6.2f\n", step_names[i], seconds[i], t.start[i], t.end[i]);
        printf("  %-10s %8.2f%s\n", "total", total,
               limit > 0 ? (over ? "  OVER the limit" : "  within the limit") : "");
        printf("\nscore %d/%d", g->earned, g->possible);
        if (g->n_perf)
            printf(", speed %.2fx reference", g->perf[0].ratio);
        printf("\n");
    }
    if (!perfect)
        fprintf(stderr, "tt-bench-grade: the reference graded %d/%d, not full marks: the kit is broken\n",
                g->earned, g->possible);
    tito_grade_free(g);
    tito_course_free(course);
    tito_kit_free(kit);
    pthread_mutex_destroy(&t.lock);
    return perfect && !over ? 0 : 1;
}
