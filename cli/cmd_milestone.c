/*
 * tito milestone ...: the historical milestones, rebuilt with the student's own modules.
 *
 *   tito milestone list [--json]      every milestone: year, title, the modules it needs,
 *                                     its bars and (in a workspace) its state
 *   tito milestone run N [--json]     build milestone N from your modules and from the
 *                                     reference, run both, judge the bars (grader/milestone.h)
 *   tito milestone status [--json]    the milestones reached, with their figures and dates
 *
 * `run` records every run in .tito/progress.json and writes a receipt to
 * .tito/results/milestone_NN.json, then commits both (never the student's sources).
 * Exit status: 0 milestone reached (list, status: done); 1 a bar missed, the modules did
 * not build or the program did not report, or a module of the milestone not started;
 * 2 usage (no such milestone, outside a workspace); 3+ system errors (cli/exit_codes.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "course.h"
#include "kit.h"
#include "milestone.h"
#include "modules.h"
#include "progress.h"
#include "term.h"
#include "tito.h"
#include "workspace.h"

/* ---------------------------------------------------------------- helpers */

static int no_arguments(const tito_context *ctx, int argc, char **argv)
{
    if (argc > 1) {
        tito_error("unexpected argument '%s'", argv[1]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    return -1;
}

/* Milestone N from "3", "03", its slug "03_mlp" or the slug's name "mlp"; NULL after
 * saying which milestones exist. */
static const tito_milestone *resolve(const char *key)
{
    size_t count = tito_milestone_count();
    char *end = NULL;
    long number = strtol(key, &end, 10);
    if (end != key && *end == '\0') {
        const tito_milestone *m = tito_milestone_find((int)number);
        if (m && number == m->number)
            return m;
    }
    for (size_t i = 0; i < count; i++) {
        const tito_milestone *m = tito_milestone_at(i);
        const char *name = strchr(m->slug, '_');
        if (strcmp(key, m->slug) == 0 || (name && strcmp(key, name + 1) == 0))
            return m;
    }
    const tito_milestone *first = tito_milestone_at(0), *last = tito_milestone_at(count - 1);
    tito_error("no milestone '%s': milestones are %d..%d (%s .. %s); see `tito milestone list`",
               key, first->number, last->number, first->slug, last->slug);
    return NULL;
}

/* "test_accuracy" -> "test accuracy" */
static void metric_words(char *buf, size_t size, const char *metric)
{
    snprintf(buf, size, "%s", metric);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
}

/* A measured value: accuracies as percentages, anything else in 4 digits. */
static void value_text(char *buf, size_t size, const char *metric, double v)
{
    if (!isfinite(v))
        snprintf(buf, size, "%s", isnan(v) ? "not a number" : "infinite");
    else if (tito_milestone_metric_is_accuracy(metric))
        snprintf(buf, size, "%.1f%%", 100.0 * v);
    else if (strcmp(metric, "time_ratio") == 0)
        snprintf(buf, size, "%.2fx", v);
    else
        snprintf(buf, size, "%.4g", v);
}

/* "test accuracy ≥ 90%" */
static void bar_text(char *buf, size_t size, const tito_milestone_bar *b)
{
    char words[64], value[32];
    metric_words(words, sizeof words, b->metric);
    if (tito_milestone_metric_is_accuracy(b->metric))
        snprintf(value, sizeof value, "%g%%", 100.0 * b->bar);
    else
        snprintf(value, sizeof value, "%g", b->bar);
    snprintf(buf, size, "%s %s %s", words, strcmp(b->comparison, "<=") == 0 ? "\u2264" : "\u2265",
             value);
}

/* "01-07" */
static void range_text(char *buf, size_t size, const tito_milestone *m)
{
    snprintf(buf, size, "%02d\u2013%02d", m->first_module, m->last_module);
}

/* "2026-11-26T19:42:10Z" as "2026-11-26 19:42 UTC". */
static void when_text(char *buf, size_t size, const char *at)
{
    if (strlen(at) >= 16 && at[10] == 'T')
        snprintf(buf, size, "%.10s %.5s UTC", at, at + 11);
    else
        snprintf(buf, size, "%s", at);
}

static int print_json(json_t *root)
{
    if (!root) {
        tito_error("out of memory");
        return TITO_EXIT_NOMEM;
    }
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    fputc('\n', stdout);
    if (rc != 0 || fflush(stdout) != 0) {
        tito_error("cannot write the JSON output");
        return TITO_EXIT_IO;
    }
    return TITO_EXIT_OK;
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *bars_json(const tito_milestone *m)
{
    json_t *bars = json_array();
    for (size_t i = 0; bars && i < m->n_bars; i++) {
        json_t *b = json_pack("{s:s, s:s, s:f}", "metric", m->bars[i].metric, "comparison",
                              m->bars[i].comparison, "bar", m->bars[i].bar);
        if (json_array_append_new(bars, b) != 0) {
            json_decref(bars);
            return NULL;
        }
    }
    return bars;
}

static json_t *modules_json(const tito_milestone *m)
{
    json_t *mods = json_array();
    for (int k = m->first_module; mods && k <= m->last_module; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", k);
        const tito_module *mod = tito_module_find(key);
        if (mod && json_array_append_new(mods, json_string(mod->slug)) != 0) {
            json_decref(mods);
            return NULL;
        }
    }
    return mods;
}

/* The state of milestone m in workspace ws: "reached", "not-yet" or "locked" (a module
 * it needs is not started; missing gets those modules). */
static const char *state_of(tito_workspace *ws, const tito_milestone *m, const tito_module **missing,
                            size_t max, size_t *n_missing)
{
    *n_missing = tito_milestone_missing_modules(missing, max, m, ws->root);
    const tito_milestone_progress *mp = tito_progress_milestone(ws->progress, m->slug);
    if (mp && mp->reached_at[0])
        return "reached";
    return *n_missing ? "locked" : "not-yet";
}

static const char *state_human(const char *state)
{
    return strcmp(state, "not-yet") == 0 ? "not yet" : state;
}

static tito_style state_style(const char *state)
{
    if (strcmp(state, "reached") == 0)
        return TITO_STYLE_GREEN;
    if (strcmp(state, "not-yet") == 0)
        return TITO_STYLE_YELLOW;
    return TITO_STYLE_DIM;
}

static json_t *record_json(const tito_milestone_record *r)
{
    if (!r->present)
        return json_null();
    json_t *metrics = json_object();
    for (size_t i = 0; metrics && i < r->n_metrics; i++)
        json_object_set_new(metrics, r->metrics[i].name, jnum(r->metrics[i].value));
    return json_pack("{s:s, s:s?, s:b, s:o, s:o, s:o, s:o}", "at", r->at, "commit",
                     r->commit[0] ? r->commit : NULL, "reached", r->reached, "metrics", metrics,
                     "train_seconds", jnum(r->train_seconds), "reference_train_seconds",
                     jnum(r->reference_train_seconds), "time_ratio", jnum(r->time_ratio));
}

/* ------------------------------------------------------------------- list */

int cmd_milestone_list(int argc, char **argv, tito_context *ctx)
{
    bool as_json = false;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &as_json, "print JSON (for scripts) instead of a table"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0 || (st = no_arguments(ctx, argc, argv)) >= 0)
        return st;
    tito_workspace *ws = ctx->workspace;
    size_t count = tito_milestone_count();

    if (as_json) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < count; i++) {
            const tito_milestone *m = tito_milestone_at(i);
            json_t *e = json_pack("{s:i, s:s, s:i, s:s, s:s, s:o, s:o}", "number", m->number,
                                  "slug", m->slug, "year", m->year, "title", m->title, "program",
                                  m->program, "modules", modules_json(m), "bars", bars_json(m));
            if (e && ws) {
                const tito_module *missing[32];
                size_t n_missing = 0;
                const char *state = state_of(ws, m, missing, 32, &n_missing);
                json_t *miss = json_array();
                for (size_t k = 0; miss && k < n_missing && k < 32; k++)
                    json_array_append_new(miss, json_string(missing[k]->slug));
                const tito_milestone_progress *mp = tito_progress_milestone(ws->progress, m->slug);
                json_object_set_new(e, "state", json_string(state));
                json_object_set_new(e, "missing_modules", miss ? miss : json_null());
                json_object_set_new(e, "reached_at", mp && mp->reached_at[0]
                                                         ? json_string(mp->reached_at)
                                                         : json_null());
                json_object_set_new(e, "runs", json_integer(mp ? mp->runs : 0));
            }
            if (json_array_append_new(list, e) != 0) {
                json_decref(list);
                list = NULL;
            }
        }
        return print_json(json_pack("{s:s, s:s?, s:o}", "course", ctx->course->id, "workspace",
                                    ws ? ws->root : NULL, "milestones", list));
    }

    const char *bold = tito_sgr(stdout, TITO_STYLE_BOLD), *reset = tito_sgr(stdout, TITO_STYLE_RESET);
    const char *dim = tito_sgr(stdout, TITO_STYLE_DIM);
    printf("%sMilestones of %s%s", bold, ctx->course->title, reset);
    if (ws)
        printf(", workspace %s", ws->root);
    printf("\n  %-2s %-5s %-8s %s%s\n", "#", "year", "modules", ws ? "state     " : "", "title");
    for (size_t i = 0; i < count; i++) {
        const tito_milestone *m = tito_milestone_at(i);
        char range[32];
        snprintf(range, sizeof range, "%02d-%02d", m->first_module, m->last_module);
        printf("  %-2d %-5d %-8s ", m->number, m->year, range);
        const tito_module *missing[32];
        size_t n_missing = 0;
        if (ws) {
            const char *state = state_of(ws, m, missing, 32, &n_missing);
            printf("%s%-10s%s", tito_sgr(stdout, state_style(state)), state_human(state), reset);
        }
        printf("%s\n", m->title);
        int indent = ws ? 30 : 20; /* under the title */
        printf("%s%*s bars:", dim, indent - 1, "");
        for (size_t b = 0; b < m->n_bars; b++) {
            char text[160];
            bar_text(text, sizeof text, &m->bars[b]);
            printf("%s %s", b ? "," : "", text);
        }
        printf("%s\n", reset);
        if (ws && n_missing > 0 && !tito_progress_milestone(ws->progress, m->slug)) {
            printf("%*s needs module%s", indent - 1, "", n_missing == 1 ? "" : "s");
            for (size_t k = 0; k < n_missing && k < 32; k++)
                printf("%s %02d", k ? "," : "", missing[k]->number);
            printf(": `tito module start %02d`\n", missing[0]->number);
        }
    }
    if (!ws)
        printf("Not in a workspace: `tito init DIR` makes one.\n");
    else
        printf("Run one with `tito milestone run N`: it builds the program with your modules.\n");
    return TITO_EXIT_OK;
}

/* ----------------------------------------------------------------- status */

int cmd_milestone_status(int argc, char **argv, tito_context *ctx)
{
    bool as_json = false;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &as_json, "print JSON (for scripts) instead of a table"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0 || (st = no_arguments(ctx, argc, argv)) >= 0)
        return st;
    tito_workspace *ws = ctx->workspace;
    size_t count = tito_milestone_count(), reached = 0;

    if (as_json) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < count; i++) {
            const tito_milestone *m = tito_milestone_at(i);
            const tito_module *missing[32];
            size_t n_missing = 0;
            const char *state = state_of(ws, m, missing, 32, &n_missing);
            const tito_milestone_progress *mp = tito_progress_milestone(ws->progress, m->slug);
            reached += strcmp(state, "reached") == 0;
            json_t *e = json_pack("{s:i, s:s, s:i, s:s, s:s, s:s?, s:i, s:o, s:o}", "number",
                                  m->number, "slug", m->slug, "year", m->year, "title", m->title,
                                  "state", state, "reached_at",
                                  mp && mp->reached_at[0] ? mp->reached_at : NULL, "runs",
                                  mp ? (int)mp->runs : 0, "reached",
                                  mp ? record_json(&mp->reached) : json_null(), "last",
                                  mp ? record_json(&mp->last) : json_null());
            if (json_array_append_new(list, e) != 0) {
                json_decref(list);
                list = NULL;
            }
        }
        return print_json(json_pack("{s:s, s:s, s:o, s:i, s:i}", "course", ctx->course->id,
                                    "workspace", ws->root, "milestones", list, "reached",
                                    (int)reached, "total", (int)count));
    }

    const char *bold = tito_sgr(stdout, TITO_STYLE_BOLD), *reset = tito_sgr(stdout, TITO_STYLE_RESET);
    const char *dim = tito_sgr(stdout, TITO_STYLE_DIM);
    printf("%sMilestones%s, workspace %s\n", bold, reset, ws->root);
    const tito_milestone *next = NULL;
    for (size_t i = 0; i < count; i++) {
        const tito_milestone *m = tito_milestone_at(i);
        const tito_module *missing[32];
        size_t n_missing = 0;
        const char *state = state_of(ws, m, missing, 32, &n_missing);
        const tito_milestone_progress *mp = tito_progress_milestone(ws->progress, m->slug);
        printf("  %-2d %s%-8s%s %s (%d)\n", m->number, tito_sgr(stdout, state_style(state)),
               state_human(state), reset, m->title, m->year);
        if (strcmp(state, "reached") == 0) {
            reached++;
            const tito_milestone_record *r = &mp->reached;
            char first[40], when[40];
            when_text(first, sizeof first, mp->reached_at);
            when_text(when, sizeof when, r->at);
            printf("     reached %s", first);
            if (strcmp(mp->reached_at, r->at) != 0)
                printf(", again %s", when);
            if (r->commit[0])
                printf(" (commit %.7s)", r->commit);
            printf("\n     ");
            for (size_t k = 0; k < r->n_metrics; k++) {
                char words[96], value[32];
                metric_words(words, sizeof words, r->metrics[k].name);
                value_text(value, sizeof value, r->metrics[k].name, r->metrics[k].value);
                printf("%s%s %s", k ? ", " : "", words, value);
            }
            if (isfinite(r->time_ratio))
                printf("; speed %.2fx the reference's", r->time_ratio);
            printf("\n");
        } else {
            if (!next)
                next = m;
            if (mp && mp->last.present) {
                char when[40];
                when_text(when, sizeof when, mp->last.at);
                printf("     %slast run %s: not reached (%u run%s)%s\n", dim, when, mp->runs,
                       mp->runs == 1 ? "" : "s", reset);
            }
            if (n_missing > 0)
                printf("     %sneeds module %02d (`tito module start %02d`)%s\n", dim,
                       missing[0]->number, missing[0]->number, reset);
        }
    }
    printf("%zu of %zu milestones reached.", reached, count);
    if (next)
        printf("  Next: tito milestone run %d\n", next->number);
    else
        printf("  Every milestone is reached.\n");
    return TITO_EXIT_OK;
}

/* ------------------------------------------------------------------- run */

/* Progress of a run, on stdout: one line per phase; on a terminal each phase's line
 * counts the seconds while it lasts (tito cannot see inside the sandboxed tools and
 * program, so it shows time, and for your run the reference's time to compare). */
typedef struct progress_state {
    bool quiet;
    bool live;
    pthread_t ticker;
    bool ticking;
    atomic_bool stop;
    tito_milestone_phase phase;
    double started, expected;
} progress_state;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *phase_words(tito_milestone_phase phase)
{
    switch (phase) {
    case TITO_MILESTONE_PHASE_BUILD_REFERENCE: return "build  the program on the reference";
    case TITO_MILESTONE_PHASE_BUILD_STUDENT: return "build  the program with your modules";
    case TITO_MILESTONE_PHASE_RUN_REFERENCE: return "train  on the reference";
    case TITO_MILESTONE_PHASE_RUN_STUDENT: return "train  on your modules";
    case TITO_MILESTONE_PHASE_TIME: return "time   both again, taking turns";
    }
    return "?";
}

static void *tick(void *arg)
{
    progress_state *ps = arg;
    while (!atomic_load(&ps->stop)) {
        double t = now_seconds() - ps->started;
        printf("\r\033[K  %-40s %.1f s", phase_words(ps->phase), t);
        if (ps->expected > 0)
            printf(" (the reference: %.2f s)", ps->expected);
        fflush(stdout);
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static void on_progress(void *ctx, const tito_milestone_event *e)
{
    progress_state *ps = ctx;
    if (ps->quiet)
        return;
    const char *reset = tito_sgr(stdout, TITO_STYLE_RESET);
    if (!e->done) {
        if (ps->live) {
            ps->phase = e->phase;
            ps->started = now_seconds();
            ps->expected = e->expected_seconds;
            atomic_store(&ps->stop, false);
            ps->ticking = pthread_create(&ps->ticker, NULL, tick, ps) == 0;
            if (ps->ticking)
                return;
        }
        printf("  %-40s ", phase_words(e->phase));
        fflush(stdout);
        return;
    }
    if (ps->ticking) {
        atomic_store(&ps->stop, true);
        pthread_join(ps->ticker, NULL);
        ps->ticking = false;
        printf("\r\033[K  %-40s ", phase_words(e->phase));
    }
    if (e->from_cache)
        printf("%scached%s\n", tito_sgr(stdout, TITO_STYLE_DIM), reset);
    else if (!e->ok)
        printf("%sfailed%s (%.2f s)\n", tito_sgr(stdout, TITO_STYLE_RED), reset, e->seconds);
    else
        printf("%.2f s\n", e->seconds);
    fflush(stdout);
}

/* At most five epochs of each model: the first, three between, the last. */
static void print_epochs(const tito_milestone_report *s)
{
    for (size_t i = 0; i < s->n_models; i++) {
        const tito_milestone_model *mod = &s->models[i];
        size_t n = mod->n_history;
        size_t shown[5], k = 0;
        for (size_t j = 0; j < 5 && n > 0; j++) {
            size_t e = n == 1 ? 0 : j * (n - 1) / 4;
            if (k == 0 || shown[k - 1] != e)
                shown[k++] = e;
        }
        for (size_t j = 0; j < k; j++) {
            const tito_milestone_epoch *ep = &mod->history[shown[j]];
            printf("  %-12s epoch %3ld/%-3ld loss %-8.4g train %5.1f%%  test %5.1f%%\n",
                   j == 0 ? mod->label : "", ep->epoch, s->epochs, ep->loss,
                   100.0 * ep->train_accuracy, 100.0 * ep->test_accuracy);
        }
    }
}

static void print_indented(const char *text, const char *indent)
{
    while (text && *text) {
        size_t n = strcspn(text, "\n");
        printf("%s%.*s\n", indent, (int)n, text);
        text += n;
        if (*text == '\n')
            text++;
    }
}

static void print_result(const tito_milestone_result *r)
{
    const tito_milestone *m = r->milestone;
    const char *reset = tito_sgr(stdout, TITO_STYLE_RESET), *red = tito_sgr(stdout, TITO_STYLE_RED);
    const char *green = tito_sgr(stdout, TITO_STYLE_GREEN), *dim = tito_sgr(stdout, TITO_STYLE_DIM);
    const char *bold = tito_sgr(stdout, TITO_STYLE_BOLD);
    char range[32];
    range_text(range, sizeof range, m);

    if (r->outcome == TITO_MILESTONE_NOT_BUILT) {
        if (r->build_module)
            printf("\n%s%s%s in modules/%s/%s.c: your modules %s must compile into the "
                   "program:\n",
                   red, tito_verdict_name(r->build), reset, r->build_module->slug,
                   r->build_module->name, range);
        else
            printf("\n%s%s%s: your modules %s compile, but do not link into the program:\n",
                   red, tito_verdict_name(r->build), reset, range);
        print_indented(r->build_message, "    ");
    } else if (r->outcome == TITO_MILESTONE_NO_RESULT) {
        printf("\n%sno result%s: the program built with your modules ran, but %s.\n", red, reset,
               r->student.problem ? r->student.problem : "did not report");
        if (r->student.stderr_tail) {
            printf("  It said (the last lines of its messages):\n");
            print_indented(r->student.stderr_tail, "    ");
        }
    } else {
        printf("\n");
        if (r->student.claimed && json_object_size(r->student.claimed) > 0)
            printf("%sYour run's epochs, as it measured them itself:%s\n", dim, reset);
        print_epochs(&r->student);
    }

    if (r->outcome == TITO_MILESTONE_REACHED || r->outcome == TITO_MILESTONE_MISSED) {
        printf("\n");
        if (r->student.claimed)
            printf("%sYour figures: the reference's program measured the parameters your run "
                   "trained.%s\n",
                   dim, reset);
        for (size_t i = 0; i < r->n_bars; i++) {
            const tito_milestone_bar_result *b = &r->bars[i];
            char bar[160], value[32], ref[32], gap[64];
            bar_text(bar, sizeof bar, &b->bar);
            value_text(value, sizeof value, b->bar.metric, b->value);
            value_text(ref, sizeof ref, b->bar.metric, b->reference);
            printf("Bar: %s \u2192 %s %s%s%s", bar, value, b->met ? green : red,
                   b->met ? "\u2713" : "\u2717", reset);
            if (!b->met)
                printf(" (%s)", tito_milestone_shortfall(gap, sizeof gap, &b->bar, b->value));
            printf("   %sreference: %s%s\n", dim, ref, reset);
            double own = NAN;
            const json_t *claim = json_object_get(r->student.claimed, b->bar.metric);
            if (claim) {
                own = json_is_number(claim) ? json_number_value(claim) : NAN;
                value_text(value, sizeof value, b->bar.metric, own);
                printf("     %syour program measured %s; the figure above is the reference's "
                       "measurement of the parameters it trained, and it counts%s\n",
                       red, value, reset);
            }
        }
        if (isfinite(r->time_ratio) && r->time_trials > 1)
            printf("Time: your training took %.3f s, the reference's %.3f s on this machine "
                   "(medians of %u runs): %.2fx the reference's speed\n",
                   r->student_train_median, r->reference_train_median, r->time_trials,
                   r->time_ratio);
        else if (isfinite(r->time_ratio))
            printf("Time: your training took %.3f s, the reference's %.3f s on this machine "
                   "(one run each; --trials 3 for medians): %.2fx the reference's speed\n",
                   r->student_train_median, r->reference_train_median, r->time_ratio);
        if (r->student.live_allocations > 0)
            tito_warning("%.0f framework allocation%s still live when the program ended: a leak "
                         "in your modules (`tito grade` on each module shows the leaking case)",
                         r->student.live_allocations, r->student.live_allocations == 1 ? " was" : "s were");
    }

    if (r->outcome == TITO_MILESTONE_REACHED) {
        printf("%sMilestone %d reached.%s\n", bold, m->number, reset);
        return;
    }
    size_t missed = 0;
    for (size_t i = 0; i < r->n_bars; i++)
        missed += !r->bars[i].met;
    if (r->outcome == TITO_MILESTONE_MISSED)
        printf("%sMilestone %d not reached%s: %zu of %zu bar%s missed.\n", bold, m->number, reset,
               missed, r->n_bars, r->n_bars == 1 ? "" : "s");
    else
        printf("%sMilestone %d not reached%s.\n", bold, m->number, reset);
    const char *causes[8];
    size_t n = tito_milestone_causes(causes, 8, r);
    if (n > 0) {
        printf("Likely cause%s (docs/milestones.md, \"When a milestone fails\"):\n",
               n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
            printf("  - %s\n", causes[i]);
    } else if (r->outcome == TITO_MILESTONE_NOT_BUILT) {
        printf("`tito module test` on the module named above shows the same messages.\n");
    }
}

/* ${XDG_CONFIG_HOME:-~/.config}/tito into buf, or "" when neither is set. */
static void config_dir(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(buf, size, "%s/tito", xdg);
    else if (home && home[0] == '/')
        snprintf(buf, size, "%s/.config/tito", home);
    else
        buf[0] = '\0';
}

/* The run as a progress record: each bar's metric as measured. */
static void record_of(tito_milestone_record *rec, const tito_milestone_result *r, time_t when)
{
    memset(rec, 0, sizeof *rec);
    rec->present = true;
    rec->reached = r->outcome == TITO_MILESTONE_REACHED;
    tito_time_format(rec->at, sizeof rec->at, when);
    snprintf(rec->commit, sizeof rec->commit, "%s", r->commit ? r->commit : "");
    for (size_t i = 0; i < r->n_bars && rec->n_metrics < TITO_MILESTONE_MAX_METRICS; i++) {
        tito_milestone_metric *mm = &rec->metrics[rec->n_metrics++];
        snprintf(mm->name, sizeof mm->name, "%s", r->bars[i].bar.metric);
        mm->value = r->bars[i].value;
    }
    rec->train_seconds = r->student_train_median;
    rec->reference_train_seconds = r->reference_train_median;
    rec->time_ratio = r->time_ratio;
}

int cmd_milestone_run(int argc, char **argv, tito_context *ctx)
{
    bool as_json = false, no_cache = false;
    const char *trials_text = NULL;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &as_json, "print the receipt (JSON) instead of a report"),
        TITO_OPT_BOOL(0, "no-cache", &no_cache,
                      "build everything again (no cached program or objects)"),
        TITO_OPT_STRING(0, "trials", &trials_text, "N",
                        "train both programs N times (1 to 9) for the time ratio (default: 3 "
                        "when one training of the reference takes under 10 s, else 1)"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    unsigned trials = 0;
    if (trials_text) {
        long v = 0;
        if (!tito_parse_count(trials_text, 1, 9, &v)) {
            tito_error("--trials expects a number from 1 to 9, not '%s'", trials_text);
            return TITO_EXIT_USAGE;
        }
        trials = (unsigned)v;
    }
    if (argc != 2) {
        if (argc < 2)
            tito_error("which milestone? `tito milestone run N` (`tito milestone list` shows them)");
        else
            tito_error("unexpected argument '%s'", argv[2]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    const tito_milestone *m = resolve(argv[1]);
    if (!m)
        return TITO_EXIT_USAGE;
    tito_workspace *ws = ctx->workspace;
    char range[32];
    range_text(range, sizeof range, m);

    /* Every module it links must be started: name each one that is not. */
    const tito_module *missing[32];
    size_t n_missing = tito_milestone_missing_modules(missing, 32, m, ws->root);
    if (n_missing > 0) {
        tito_error("milestone %d (%s) links your modules %s, and %zu of them %s not there:",
                   m->number, m->title, range, n_missing, n_missing == 1 ? "is" : "are");
        for (size_t i = 0; i < n_missing && i < 32; i++) {
            const tito_module *mod = missing[i];
            tito_module_files f;
            tito_module_files_of(&f, mod);
            if (tito_progress_module(ws->progress, mod)->state == TITO_STATE_NOT_STARTED)
                fprintf(stderr, "  module %02d (%s) is not started: `tito module start %02d`\n",
                        mod->number, mod->name, mod->number);
            else
                fprintf(stderr,
                        "  module %02d (%s): %s is missing; get it back from git (`git checkout "
                        "-- %s`) or `tito module reset %02d`\n",
                        mod->number, mod->name, f.source, f.source, mod->number);
        }
        return TITO_EXIT_FAILED;
    }

    tito_kit *kit = NULL;
    tt_status ts = tito_kit_locate(&kit);
    if (ts != TT_OK)
        return tito_fail(ts);

    const char *bold = tito_sgr(stdout, TITO_STYLE_BOLD), *reset = tito_sgr(stdout, TITO_STYLE_RESET);
    if (!as_json) {
        printf("%sMilestone %d \u00b7 %d \u00b7 %s%s\n", bold, m->number, m->year, m->title, reset);
        printf("Trains with YOUR modules %s; the same program on the reference, on this machine "
               "and in this run, gives the time to compare with.\n",
               range);
    }

    char dot_tito[4200], config[4200];
    snprintf(dot_tito, sizeof dot_tito, "%s/.tito", ws->root);
    config_dir(config, sizeof config);
    const char *hidden[] = {dot_tito, config[0] ? config : NULL, NULL};
    /* Redrawing a line needs a terminal that understands \r and erase-line. */
    const char *term = getenv("TERM");
    bool live = !as_json && isatty(STDOUT_FILENO) && !(term && strcmp(term, "dumb") == 0);
    progress_state ps = {.quiet = as_json, .live = live};
    atomic_init(&ps.stop, false);
    tito_milestone_options mo = TITO_MILESTONE_OPTIONS_INIT;
    mo.hidden_paths = hidden;
    mo.no_cache = no_cache;
    mo.timing_trials = trials;
    mo.tito_version = TITO_VERSION;
    mo.progress = on_progress;
    mo.progress_ctx = &ps;
    /* A probe's memory limit is the course's; a whole training run may need more. */
    if (ctx->course->mem_mb > 1024)
        mo.memory_mb = ctx->course->mem_mb;

    /* Where the work stands, for the receipt: HEAD and whether the modules differ. */
    char head[41] = "";
    if (tito_workspace_head(ws, head) != TT_OK) {
        head[0] = '\0';
        tt_error_clear();
    }
    bool dirty = false;
    for (int k = m->first_module; k <= m->last_module; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", k);
        const tito_module *mod = tito_module_find(key);
        tito_module_files f;
        bool d = false;
        if (!mod)
            continue;
        tito_module_files_of(&f, mod);
        if (tito_workspace_dirty(ws, f.source, &d) == TT_OK)
            dirty = dirty || d;
        tt_error_clear();
    }

    tito_milestone_result *r = NULL;
    ts = tito_milestone_run(&r, kit, m, ws->root, &mo);
    tito_kit_free(kit);
    if (ts != TT_OK) {
        if (!as_json)
            printf("\n");
        int code = tito_fail(ts);
        return ts == TT_ERR_STATE ? TITO_EXIT_INTERNAL : code;
    }
    r->commit = head[0] ? strdup(head) : NULL;
    r->dirty = dirty;

    /* Record, write the receipt, commit both. */
    time_t now = time(NULL);
    tito_milestone_record rec;
    record_of(&rec, r, now);
    bool newly = false;
    char receipt_rel[64], receipt[4300];
    snprintf(receipt_rel, sizeof receipt_rel, ".tito/results/milestone_%02d.json", m->number);
    int rc = r->outcome == TITO_MILESTONE_REACHED ? TITO_EXIT_OK : TITO_EXIT_FAILED;
    ts = tito_progress_record_milestone(ws->progress, m->number, m->slug, &rec, &newly);
    if (ts == TT_OK)
        ts = tito_workspace_save_progress(ws);
    if (ts == TT_OK)
        ts = tito_workspace_path(receipt, sizeof receipt, ws, receipt_rel);
    if (ts == TT_OK)
        ts = tito_milestone_receipt_write(receipt, r, now);
    char commit[41] = "", message[160];
    bool committed = false;
    if (ts == TT_OK) {
        if (r->outcome == TITO_MILESTONE_REACHED)
            snprintf(message, sizeof message, "tito: milestone %d reached (%s)", m->number, m->slug);
        else
            snprintf(message, sizeof message, "tito: milestone %d run, %s (%s)", m->number,
                     tito_milestone_outcome_name(r->outcome), m->slug);
        const char *paths[] = {TITO_WORKSPACE_PROGRESS, receipt_rel};
        ts = tito_workspace_commit(ws, paths, 2, message, commit, &committed);
    }

    if (as_json) {
        json_t *j = NULL;
        tt_status js = tito_milestone_receipt_to_json(&j, r, now);
        int prc = js == TT_OK ? print_json(j) : tito_fail(js);
        if (prc != TITO_EXIT_OK)
            rc = prc;
    } else {
        print_result(r);
        if (ts == TT_OK) {
            printf("Receipt: %s", receipt_rel);
            if (committed)
                printf("   commit %.7s \"%s\"", commit, message);
            printf("\n");
            if (newly)
                printf("%sFirst time: recorded in .tito/progress.json.%s `tito milestone status` "
                       "lists what you have reached.\n",
                       tito_sgr(stdout, TITO_STYLE_GREEN), reset);
        }
    }
    tito_milestone_result_free(r);
    if (ts != TT_OK)
        return tito_fail(ts);
    return rc;
}
