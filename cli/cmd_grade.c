/*
 * Grading a student's module in their workspace:
 *
 *   tito module test [N]          the visible checks only: fast, as often as you like
 *   tito grade [N|all]            visible and hidden checks, Valgrind memcheck and speed,
 *                                 points; a receipt in .tito/results/<slug>.json and the
 *                                 grade recorded in the progress (committed)
 *   tito module complete N        tito grade N, then: completed, or why not
 *
 * Every one of them grades modules/<slug>/<name>.c of the workspace with the kit
 * (grader/engine.h), with the workspace's .tito/ and the user's tito configuration
 * hidden from the student's code, and shows the report of cli/report.h.
 *
 * Exit status: 0 every check passed; 1 some check failed (or, for complete, the pass bar
 * was not met); 2 the grade could not be made because of how tito was asked (a module
 * not started, no checks for it, bad options); 3+ the system's trouble (no kit, files,
 * memory), as cli/exit_codes.h says.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "course.h"
#include "engine.h"
#include "export.h"
#include "fsutil.h"
#include "interrupt.h"
#include "kit.h"
#include "modules.h"
#include "phases.h"
#include "progress.h"
#include "receipt.h"
#include "report.h"
#include "term.h"
#include "tito.h"
#include "workspace.h"

typedef enum grade_mode { MODE_TEST, MODE_GRADE, MODE_COMPLETE } grade_mode;

/* What the command line asked for. */
typedef struct grade_flags {
    const char *seed_text, *filter, *format, *output;
    bool json, verbose, deterministic, no_memcheck, no_speed;
    bool seed_set;
    uint64_t seed;
} grade_flags;

/* One module graded. */
typedef struct module_run {
    const tito_module *m;
    tito_grade *g;            /* NULL when the module could not be graded */
    bool no_suite;            /* the kit has no checks for it (grade all skips it) */
    bool recorded;            /* receipt written, progress saved and committed */
    bool newly_completed;
    char receipt[160];        /* ".tito/results/01_tensor.json" */
} module_run;

#define RESULTS_DIR ".tito/results"

/* When this command graded: one instant for the receipts it writes and prints. */
static time_t grade_time;

/* ------------------------------------------------------------ helpers */

static int parse_flags(grade_flags *fl, grade_mode mode)
{
    if (fl->seed_text) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(fl->seed_text, &end, 16);
        const char *digits = fl->seed_text;
        if (strncmp(digits, "0x", 2) == 0 || strncmp(digits, "0X", 2) == 0)
            digits += 2;
        if (errno || !*digits || *end || fl->seed_text[0] == '-') {
            tito_error("--seed expects a hexadecimal number (as a report or receipt shows it), "
                       "not '%s'",
                       fl->seed_text);
            return TITO_EXIT_USAGE;
        }
        fl->seed_set = true;
        fl->seed = (uint64_t)v;
    }
    if (fl->format && strcmp(fl->format, "gradescope") != 0 && strcmp(fl->format, "junit") != 0 &&
        strcmp(fl->format, "csv") != 0) {
        tito_error("--format: no format '%s' (gradescope, junit or csv)", fl->format);
        return TITO_EXIT_USAGE;
    }
    if (fl->format && fl->json) {
        tito_error("--json prints the receipt and --format another rendering: choose one");
        return TITO_EXIT_USAGE;
    }
    if (fl->output && !fl->format && !fl->json) {
        tito_error("--output writes what --json or --format would print: add one of them");
        return TITO_EXIT_USAGE;
    }
    (void)mode;
    return -1;
}

/* The module a command without N works on: the started one worked on last (the latest
 * of its start, its last grade and its source file's modification), or NULL. */
static const tito_module *default_module(tito_workspace *ws)
{
    const tito_module *best = NULL;
    char best_at[32] = "";
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        const tito_module_progress *mp = tito_progress_module(ws->progress, m);
        tito_module_files f;
        tito_module_files_of(&f, m);
        char path[4200];
        if (tito_workspace_path(path, sizeof path, ws, f.source) != TT_OK)
            continue;
        struct stat sb;
        bool exists = stat(path, &sb) == 0;
        if (mp->state == TITO_STATE_NOT_STARTED && !exists)
            continue;
        char at[32] = "";
        if (strcmp(mp->started_at, at) > 0)
            snprintf(at, sizeof at, "%s", mp->started_at);
        if (mp->last.present && strcmp(mp->last.at, at) > 0)
            snprintf(at, sizeof at, "%s", mp->last.at);
        if (exists) {
            char mtime[32];
            tito_time_format(mtime, sizeof mtime, sb.st_mtime);
            if (strcmp(mtime, at) > 0)
                snprintf(at, sizeof at, "%s", mtime);
        }
        if (!best || strcmp(at, best_at) >= 0) {
            best = m;
            snprintf(best_at, sizeof best_at, "%s", at);
        }
    }
    return best;
}

/* ${XDG_CONFIG_HOME:-$HOME/.config}/tito, into buf ("" when neither is set). */
static void config_dir(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(buf, size, "%s/tito", xdg);
    else if (home && home[0] == '/')
        snprintf(buf, size, "%s/.config/tito", home);
    else
        buf[0] = '\0';
}

/* Expected seconds of each step, for the progress bar: the previous receipt's timings
 * when there is one, else typical times. */
static void expected_times(const tito_workspace *ws, const tito_module *m, bool deterministic,
                           double *build, double *run, double *memcheck, double *speed)
{
    *build = 4.0;
    *run = 1.5;
    *memcheck = 25.0;
    *speed = deterministic ? 40.0 : 12.0;
    char rel[200], path[4300];
    snprintf(rel, sizeof rel, "%s/%s.json", RESULTS_DIR, m->slug);
    if (tito_workspace_path(path, sizeof path, ws, rel) != TT_OK || !tito_path_exists(path))
        return;
    tito_receipt *r = NULL;
    if (tito_receipt_read(&r, path) != TT_OK) {
        tt_error_clear();
        return;
    }
    const tito_grade *g = r->grade;
    if (g->seconds_build > 0)
        *build = g->seconds_build;
    if (g->seconds_run > 0)
        *run = g->seconds_run;
    if (g->full && g->seconds_memcheck > 0)
        *memcheck = g->seconds_memcheck;
    bool was_deterministic = g->n_perf > 0 && g->perf[0].deterministic;
    if (g->full && g->seconds_perf > 0 && was_deterministic == deterministic)
        *speed = g->seconds_perf;
    tito_receipt_free(r);
}

/* The after-judge phases, telling the progress bar when memcheck and speed start. */
typedef struct hook_ctx {
    tito_after_judge aj;
    tito_progress_bar *bar;
} hook_ctx;

static tt_status grade_hook(void *ctx, tito_grade *grade, const tito_grade_probes *probes)
{
    hook_ctx *h = ctx;
    tito_after_judge one = h->aj;
    tt_status st = TT_OK;
    if (h->aj.memcheck && grade->full) {
        one.memcheck = true;
        one.perf = false;
        tito_progress_bar_step(h->bar, "memcheck", false);
        st = tito_after_judge_run(&one, grade, probes);
        tito_progress_bar_step(h->bar, "memcheck", true);
        if (st != TT_OK)
            return st;
    }
    one.memcheck = false;
    one.perf = h->aj.perf;
    if (one.perf && grade->full)
        tito_progress_bar_step(h->bar, "speed", false);
    st = tito_after_judge_run(&one, grade, probes);
    if (one.perf && grade->full)
        tito_progress_bar_step(h->bar, "speed", true);
    return st;
}

static tt_status replace_string(char **field, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return tt_error_set(TT_ERR_NOMEM, "out of memory");
    free(*field);
    *field = copy;
    return TT_OK;
}

/* ------------------------------------------------------------ grading one module */

/* Grade module m of the workspace. Returns -1 when a grade was made (run->g), else the
 * exit status after saying why not. `quiet`: no message on stdout. */
static int grade_module(tito_context *ctx, const tito_kit *kit, const tito_module *m, grade_mode mode,
                        const grade_flags *fl, module_run *run)
{
    tito_workspace *ws = ctx->workspace;
    memset(run, 0, sizeof *run);
    run->m = m;
    tito_module_files f;
    tito_module_files_of(&f, m);
    char source[4300];
    tt_status st = tito_workspace_path(source, sizeof source, ws, f.source);
    if (st != TT_OK)
        return tito_fail(st);
    if (!tito_path_exists(source)) {
        if (tito_progress_module(ws->progress, m)->state == TITO_STATE_NOT_STARTED)
            tito_error("module %02d (%s) is not started: run `tito module start %02d` first", m->number,
                       m->name, m->number);
        else
            tito_error("%s is missing: module %02d was started, but its file is gone (`git status` "
                       "shows what happened; `tito module reset %02d` brings back the starter)",
                       f.source, m->number, m->number);
        return TITO_EXIT_USAGE;
    }
    if (!tito_kit_has_suite(kit, m)) {
        run->no_suite = true;
        tito_error("this tito has no checks for module %02d (%s) yet: a newer tito (or the course's "
                   "kit) will grade it",
                   m->number, m->name);
        return TITO_EXIT_USAGE;
    }

    /* What the student's code must not see: tito's own records and the user's keys. */
    char dot_tito[4300], config[4200];
    if ((st = tito_workspace_path(dot_tito, sizeof dot_tito, ws, ".tito")) != TT_OK)
        return tito_fail(st);
    config_dir(config, sizeof config);
    const char *hidden[3] = {dot_tito, config[0] ? config : NULL, NULL};

    bool full = mode != MODE_TEST;
    hook_ctx hook;
    memset(&hook, 0, sizeof hook);
    hook.aj = (tito_after_judge)TITO_AFTER_JUDGE_INIT;
    hook.aj.kit = kit;
    hook.aj.module = m;
    hook.aj.memcheck = full && !fl->no_memcheck;
    hook.aj.perf = full && !fl->no_speed;
    hook.aj.deterministic = fl->deterministic;
    /* Callgrind runs code some 50 times slower: instruction counts come from the
     * kernel at its small size. */
    hook.aj.perf_small = fl->deterministic;
    tito_score_rules_from_course(&hook.aj.rules, tito_course_module_of(ctx->course, m));

    /* Every working directory of the grade goes where the user keeps temporary files. */
    const char *tmp = getenv("TMPDIR");
    const char *temp_parent = tmp && tmp[0] == '/' ? tmp : NULL;
    hook.aj.temp_parent = temp_parent;

    tito_grade_options go = TITO_GRADE_OPTIONS_INIT;
    go.full = full;
    go.temp_parent = temp_parent;
    go.seed_set = fl->seed_set;
    go.seed = fl->seed;
    go.filter = fl->filter;
    go.hidden_paths = hidden;
    go.jobs = 2;
    go.tito_version = TITO_VERSION;
    go.phase = grade_hook;
    go.phase_ctx = &hook;

    double t_build, t_run, t_mem, t_speed;
    expected_times(ws, m, fl->deterministic, &t_build, &t_run, &t_mem, &t_speed);
    tito_progress_step steps[5] = {
        {"build", "building", t_build},
        {"visible", "visible checks", t_run},
        {"hidden", "hidden checks", t_run},
        {"memcheck", "Valgrind memcheck", t_mem},
        {"speed", fl->deterministic ? "speed (instruction counts)" : "speed", t_speed},
    };
    size_t n_steps = !full ? 2 : hook.aj.perf ? 5 : hook.aj.memcheck ? 4 : 3;
    if (full && !hook.aj.memcheck && hook.aj.perf) {
        steps[3] = steps[4];
        n_steps = 4;
    }
    char title[64];
    snprintf(title, sizeof title, "%s %02d", full ? "grading" : "testing", m->number);
    hook.bar = tito_progress_bar_start(stderr, title, steps, n_steps);
    go.progress = tito_progress_bar_step;
    go.progress_ctx = hook.bar;

    tito_grade *g = NULL;
    st = tito_grade_run(&g, kit, m, source, &go);
    tito_progress_bar_stop(hook.bar);
    if (st != TT_OK) {
        if (tito_interrupt_stopped())
            return tito_exit_for_signal(tito_interrupt_caught); /* main says so */
        tito_error("%s", tt_error_last());
        if (st == TT_ERR_INVALID_ARG)
            return TITO_EXIT_USAGE; /* a -k that matches nothing */
        return st == TT_ERR_STATE ? TITO_EXIT_INTERNAL : tito_exit_for_status(st);
    }

    /* Where the graded file came from: the workspace's commit, and whether the file has
     * changes not in it. */
    char head[41] = "";
    bool dirty = false;
    if (tito_workspace_head(ws, head) != TT_OK) {
        head[0] = '\0';
        tt_error_clear();
    }
    if (tito_workspace_dirty(ws, f.source, &dirty) != TT_OK) {
        dirty = false;
        tt_error_clear();
    }
    g->provenance.dirty = dirty;
    st = replace_string(&g->provenance.commit, head[0] ? head : NULL);
    if (st == TT_OK)
        st = replace_string(&g->provenance.source_path, f.source);
    if (st != TT_OK) {
        tito_grade_free(g);
        return tito_fail(st);
    }
    run->g = g;
    snprintf(run->receipt, sizeof run->receipt, "%s/%s.json", RESULTS_DIR, m->slug);
    return -1;
}

/* Write the receipt, record the grade in the progress and commit both (never the
 * student's sources). Returns -1, or an exit status after an error message. */
static int record_grade(tito_context *ctx, module_run *run)
{
    tito_workspace *ws = ctx->workspace;
    const tito_grade *g = run->g;
    char path[4300];
    tt_status st = tito_workspace_path(path, sizeof path, ws, run->receipt);
    if (st == TT_OK)
        st = tito_receipt_write(path, g, grade_time);
    if (st != TT_OK)
        return tito_fail(st);
    const tito_course_module *cm = tito_course_module_of(ctx->course, run->m);
    tito_progress_record_grade(ws->progress, cm, g->earned, g->possible, g->provenance.commit,
                               grade_time, &run->newly_completed);
    st = tito_workspace_save_progress(ws);
    if (st != TT_OK)
        return tito_fail(st);
    char message[256];
    snprintf(message, sizeof message, "tito: grade %s %d/%d%s", g->slug, g->earned, g->possible,
             run->newly_completed ? " (completed)" : "");
    const char *paths[] = {TITO_WORKSPACE_PROGRESS, run->receipt};
    st = tito_workspace_commit(ws, paths, 2, message, NULL, NULL);
    if (st != TT_OK)
        return tito_fail(st);
    run->recorded = true;
    return -1;
}

/* ------------------------------------------------------------ renderings */

/* The text --json or --format asks for, for these grades. */
static tt_status render(char **out, const grade_flags *fl, const tito_grade *const *grades, size_t n)
{
    *out = NULL;
    tito_export_options eo = TITO_EXPORT_OPTIONS_INIT;
    if (fl->json) {
        if (n == 1)
            return tito_receipt_dumps(out, grades[0], grade_time);
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            json_t *r = NULL;
            tt_status st = tito_receipt_to_json(&r, grades[i], grade_time);
            if (st != TT_OK) {
                json_decref(arr);
                return st;
            }
            json_array_append_new(arr, r);
        }
        char *text = arr ? json_dumps(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(arr);
        if (!text)
            return tt_error_set(TT_ERR_NOMEM, "out of memory writing JSON");
        size_t len = strlen(text);
        char *with_nl = malloc(len + 2);
        if (!with_nl) {
            free(text);
            return tt_error_set(TT_ERR_NOMEM, "out of memory writing JSON");
        }
        memcpy(with_nl, text, len);
        memcpy(with_nl + len, "\n", 2);
        free(text);
        *out = with_nl;
        return TT_OK;
    }
    if (strcmp(fl->format, "gradescope") == 0)
        return tito_export_gradescope(out, grades[0], &eo);
    if (strcmp(fl->format, "junit") == 0)
        return tito_export_junit(out, grades, n, &eo);
    /* csv: the gradebook row of each grade under one header. */
    char *text = NULL;
    tt_status st = tito_export_csv_header(&text);
    for (size_t i = 0; st == TT_OK && i < n; i++) {
        char *row = NULL;
        st = tito_export_csv_row(&row, grades[i], &eo);
        if (st != TT_OK)
            break;
        size_t a = strlen(text), b = strlen(row);
        char *both = realloc(text, a + b + 1);
        if (!both) {
            free(row);
            st = tt_error_set(TT_ERR_NOMEM, "out of memory writing CSV");
            break;
        }
        memcpy(both + a, row, b + 1);
        text = both;
        free(row);
    }
    if (st != TT_OK) {
        free(text);
        return st;
    }
    *out = text;
    return TT_OK;
}

/* Print or write (--output) the rendering. Returns -1 or an exit status. */
static int emit(const grade_flags *fl, const tito_grade *const *grades, size_t n)
{
    char *text = NULL;
    tt_status st = render(&text, fl, grades, n);
    if (st != TT_OK)
        return tito_fail(st);
    if (fl->output) {
        st = tito_file_write_atomic(fl->output, text, strlen(text), 0644);
        free(text);
        if (st != TT_OK)
            return tito_fail(st);
        printf("Wrote the %s to %s.\n", fl->json ? "receipt" : fl->format, fl->output);
        return -1;
    }
    fputs(text, stdout);
    free(text);
    if (fflush(stdout) != 0) {
        tito_error("cannot write the output");
        return TITO_EXIT_IO;
    }
    return -1;
}

/* Whether the report goes to stdout (not when stdout carries --json or --format). */
static bool shows_report(const grade_flags *fl)
{
    return (!fl->json && !fl->format) || fl->output;
}

static void print_report(const tito_context *ctx, const module_run *run, const grade_flags *fl,
                         const char *subtitle)
{
    tito_report_options ro = {0};
    ro.subtitle = subtitle;
    ro.commit = true;
    ro.every_check = fl->verbose;
    ro.full_log = fl->verbose;
    ro.course_module = tito_course_module_of(ctx->course, run->m);
    tito_report_print(stdout, run->g, &ro);
}

/* The line after a module test: counts, and where to start. */
static void test_summary(const module_run *run, const char *filter)
{
    const tito_grade *g = run->g;
    const tito_module *m = run->m;
    char pattern[128];
    const char *cat = tito_report_first_failing(g, pattern, sizeof pattern);
    if (g->build != TITO_PASS) {
        printf("Next: fix the first compiler message above, then `tito module test %02d` again.\n",
               m->number);
        return;
    }
    tito_report_counts(stdout, g, filter);
    printf(".\n");
    if (!cat)
        printf("Next: `tito grade %02d` adds the hidden checks, Valgrind's memory check and the "
               "speed measurement.\n",
               m->number);
    else
        printf("Start with `%s`: later checks build on it. `tito module test %02d -k %s` runs just "
               "those.\n",
               cat, m->number, pattern);
}

/* The lines after a grade: the receipt and the next step. */
static void grade_summary(const tito_context *ctx, const module_run *run, const grade_flags *fl)
{
    const tito_grade *g = run->g;
    const tito_module *m = run->m;
    if (run->recorded)
        printf("Receipt: %s", run->receipt);
    else
        printf("Not recorded: a grade %s is partial (no receipt, no progress); `tito grade %02d` "
               "makes the full one.\n",
               fl->no_memcheck ? "without memcheck" : "without speed", m->number);
    if (!run->recorded)
        return;
    char pattern[128];
    const char *cat = tito_report_first_failing(g, pattern, sizeof pattern);
    const tito_module_progress *mp = tito_progress_module(ctx->workspace->progress, m);
    bool visible_fails = false;
    for (size_t i = 0; i < g->n_cases; i++)
        visible_fails = visible_fails || (!g->cases[i].hidden && g->cases[i].verdict != TITO_PASS);
    printf("   ");
    if (g->build != TITO_PASS) {
        printf("Next: fix the first compiler message above (`tito module test %02d` is quicker).\n",
               m->number);
    } else if (cat && visible_fails) {
        printf("Next: start with `%s` (`tito module test %02d -k %s`).\n", cat, m->number, pattern);
    } else if (cat) {
        printf("Next: the hidden `%s` checks fail; the visible ones and GUIDE.md cover the same "
               "contract.\n",
               cat);
    } else if (g->memcheck.status == TITO_MEMCHECK_FINDINGS) {
        printf("Next: fix the memory findings above (each names the line that allocated or "
               "accessed).\n");
    } else if (g->earned < g->possible) {
        printf("Next: the speed share is not full; GUIDE.md has the ideas that make it fast.\n");
    } else if (mp->state == TITO_STATE_COMPLETED) {
        const tito_module *next = NULL;
        for (size_t i = 0; i < tito_module_count && !next; i++) {
            const tito_module *o = &tito_modules[i];
            if (o->number > m->number &&
                tito_progress_module(ctx->workspace->progress, o)->state == TITO_STATE_NOT_STARTED)
                next = o;
        }
        if (next)
            printf("Next: tito module start %02d\n", next->number);
        else
            printf("Every check passes.\n");
    } else {
        printf("Every check passes.\n");
    }
}

/* ------------------------------------------------------------ tito module test */

int cmd_module_test(int argc, char **argv, tito_context *ctx)
{
    grade_time = time(NULL);
    grade_flags fl;
    memset(&fl, 0, sizeof fl);
    const tito_option options[] = {
        TITO_OPT_STRING('k', "keyword", &fl.filter, "PATTERN",
                        "only the checks whose name contains PATTERN"),
        TITO_OPT_STRING(0, "seed", &fl.seed_text, "HEX", "replay a run with this seed"),
        TITO_OPT_BOOL(0, "json", &fl.json, "print the result as a tito-receipt/1 JSON instead of a report"),
        TITO_OPT_STRING(0, "format", &fl.format, "FORMAT",
                        "print the result for another tool: gradescope, junit or csv"),
        TITO_OPT_STRING('o', "output", &fl.output, "FILE",
                        "write what --json or --format prints to FILE instead"),
        TITO_OPT_BOOL('v', "verbose", &fl.verbose,
                      "every check on its own line, and the compiler's whole output"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if ((st = parse_flags(&fl, MODE_TEST)) >= 0)
        return st;
    if (argc > 2) {
        tito_error("unexpected argument '%s'", argv[2]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    const tito_module *m = NULL;
    FILE *note = shows_report(&fl) ? stdout : stderr;
    if (argc == 2) {
        if (!(m = tito_module_resolve(argv[1])))
            return TITO_EXIT_USAGE;
    } else {
        m = default_module(ctx->workspace);
        if (!m) {
            tito_error("no module is started yet: run `tito module start 01` first");
            return TITO_EXIT_USAGE;
        }
        fprintf(note, "Testing module %02d (%s), the one you worked on last; `tito module test N` "
                      "tests another.\n",
                m->number, m->name);
    }

    tito_kit *kit = NULL;
    tt_status ts = tito_kit_locate(&kit);
    if (ts != TT_OK)
        return tito_fail(ts);
    module_run run;
    st = grade_module(ctx, kit, m, MODE_TEST, &fl, &run);
    tito_kit_free(kit);
    if (st >= 0)
        return st;
    int rc = tito_report_all_pass(run.g) ? TITO_EXIT_OK : TITO_EXIT_FAILED;
    if (shows_report(&fl)) {
        print_report(ctx, &run, &fl, fl.filter ? "visible checks matching -k" : "visible checks");
        test_summary(&run, fl.filter);
    }
    if (fl.json || fl.format) {
        const tito_grade *one[] = {run.g};
        if ((st = emit(&fl, one, 1)) >= 0)
            rc = st;
    }
    tito_grade_free(run.g);
    return rc;
}

/* ------------------------------------------------------------ tito grade */

/* The table of `tito grade all`. */
static void print_table(const tito_context *ctx, const module_run *runs, size_t n)
{
    printf("\n  %-3s %-14s %-12s %-8s %-8s %-9s %s\n", "#", "module", "correctness", "memory", "speed",
           "total", "state");
    for (size_t i = 0; i < n; i++) {
        const module_run *r = &runs[i];
        const tito_module_progress *mp = tito_progress_module(ctx->workspace->progress, r->m);
        printf("  %02d  %s%-14s%s ", r->m->number, tito_sgr(stdout, TITO_STYLE_CYAN), r->m->name,
               tito_sgr(stdout, TITO_STYLE_RESET));
        if (!r->g) {
            printf("%s%s%s\n", tito_sgr(stdout, TITO_STYLE_DIM),
                   r->no_suite ? "no checks in this tito yet" : "not graded (see above)",
                   tito_sgr(stdout, TITO_STYLE_RESET));
            continue;
        }
        const tito_grade *g = r->g;
        int ce, cp, se = 0, sp = 0;
        tito_report_correctness(g, &ce, &cp);
        for (size_t k = 0; k < g->n_perf; k++) {
            se += g->perf[k].points;
            sp += g->perf[k].max_points;
        }
        char c[32], mem[32], sp_text[32], tot[32];
        snprintf(c, sizeof c, "%d/%d", ce, cp);
        if (g->memcheck.max_points > 0)
            snprintf(mem, sizeof mem, "%d/%d", g->memcheck.points, g->memcheck.max_points);
        else
            snprintf(mem, sizeof mem, "—");
        if (sp > 0)
            snprintf(sp_text, sizeof sp_text, "%d/%d", se, sp);
        else
            snprintf(sp_text, sizeof sp_text, "—");
        snprintf(tot, sizeof tot, "%d/%d", g->earned, g->possible);
        const char *state = tito_module_state_name(mp->state);
        printf("%-12s %-*s %-*s %-9s %s%s%s\n", c, mem[0] == '\xe2' ? 10 : 8, mem,
               sp_text[0] == '\xe2' ? 10 : 8, sp_text, tot,
               tito_sgr(stdout, mp->state == TITO_STATE_COMPLETED ? TITO_STYLE_GREEN : TITO_STYLE_YELLOW),
               state, tito_sgr(stdout, TITO_STYLE_RESET));
    }
}

static int grade_all(tito_context *ctx, const tito_kit *kit, const grade_flags *fl)
{
    tito_workspace *ws = ctx->workspace;
    module_run *runs = calloc(tito_module_count, sizeof *runs);
    const tito_grade **grades = calloc(tito_module_count, sizeof *grades);
    if (!runs || !grades) {
        free(runs);
        free(grades);
        tito_error("out of memory");
        return TITO_EXIT_NOMEM;
    }
    size_t n = 0, n_grades = 0;
    int rc = TITO_EXIT_OK;
    bool report = shows_report(fl);
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        tito_module_files f;
        tito_module_files_of(&f, m);
        char path[4300];
        if (tito_workspace_path(path, sizeof path, ws, f.source) != TT_OK)
            continue;
        if (tito_progress_module(ws->progress, m)->state == TITO_STATE_NOT_STARTED &&
            !tito_path_exists(path))
            continue;
        module_run *run = &runs[n++];
        if (!tito_kit_has_suite(kit, m)) {
            run->m = m;
            run->no_suite = true;
            continue;
        }
        int st = grade_module(ctx, kit, m, MODE_GRADE, fl, run);
        if (st >= 0 && tito_interrupt_stopped())
            break; /* the modules graded before stay, each recorded whole */
        if (st >= 0) {
            rc = rc > st ? rc : st;
            continue;
        }
        if (!fl->no_memcheck && !fl->no_speed && (st = record_grade(ctx, run)) >= 0) {
            rc = rc > st ? rc : st;
        }
        grades[n_grades++] = run->g;
        if (!tito_report_all_pass(run->g) && rc == TITO_EXIT_OK)
            rc = TITO_EXIT_FAILED;
        if (report) {
            if (fl->verbose) {
                print_report(ctx, run, fl, NULL);
            } else {
                printf("Module %02d · %-14s %d/%d  ", m->number, m->name, run->g->earned, run->g->possible);
                tito_report_counts(stdout, run->g, NULL);
                printf("\n");
            }
        }
    }
    if (tito_interrupt_stopped()) {
        rc = tito_interrupted(n_grades ? "nothing more was graded" : NULL);
    } else if (n == 0) {
        tito_error("no module is started yet: run `tito module start 01` first");
        rc = TITO_EXIT_USAGE;
    } else {
        if (report) {
            print_table(ctx, runs, n);
            if (!fl->no_memcheck && !fl->no_speed)
                printf("Receipts: %s/<module>.json.  `tito grade N` shows one module's checks.\n",
                       RESULTS_DIR);
        }
        if ((fl->json || fl->format) && n_grades > 0) {
            int st = emit(fl, grades, n_grades);
            if (st >= 0)
                rc = st;
        }
    }
    for (size_t i = 0; i < n; i++)
        tito_grade_free(runs[i].g);
    free(runs);
    free(grades);
    return rc;
}

/* grade and complete: one module, fully. */
static int grade_one(tito_context *ctx, const tito_kit *kit, const tito_module *m, grade_mode mode,
                     const grade_flags *fl)
{
    module_run run;
    int st = grade_module(ctx, kit, m, mode, fl, &run);
    if (st >= 0)
        return st;
    int rc = tito_report_all_pass(run.g) ? TITO_EXIT_OK : TITO_EXIT_FAILED;
    bool partial = fl->no_memcheck || fl->no_speed;
    if (!partial && (st = record_grade(ctx, &run)) >= 0) {
        tito_grade_free(run.g);
        return st;
    }
    const tito_course_module *cm = tito_course_module_of(ctx->course, m);
    const tito_module_progress *mp = tito_progress_module(ctx->workspace->progress, m);
    if (shows_report(fl)) {
        print_report(ctx, &run, fl, NULL);
        if (mode == MODE_GRADE)
            grade_summary(ctx, &run, fl);
        else
            printf("Receipt: %s\n", run.receipt);
    }
    if (mode == MODE_COMPLETE) {
        const tito_grade *g = run.g;
        FILE *f = shows_report(fl) ? stdout : stderr;
        bool passes = tito_course_passes(cm, g->earned, g->possible);
        int needed = (int)ceil(cm->pass_bar * (double)g->possible - 1e-9);
        if (passes) {
            fprintf(f, "%sModule %02d (%s) %s%s: %d of %d points meet the pass bar (%d, %.0f%%).\n",
                    tito_sgr(f, TITO_STYLE_GREEN), m->number, m->name,
                    run.newly_completed ? "is completed" : "was already completed",
                    tito_sgr(f, TITO_STYLE_RESET), g->earned, g->possible, needed, cm->pass_bar * 100.0);
            rc = TITO_EXIT_OK;
        } else {
            fprintf(f, "%sModule %02d (%s) is not completed%s: %d of %d points, and the pass bar is %d "
                       "(%.0f%%): %d more needed.\n",
                    tito_sgr(f, TITO_STYLE_RED), m->number, m->name, tito_sgr(f, TITO_STYLE_RESET),
                    g->earned, g->possible, needed, cm->pass_bar * 100.0, needed - g->earned);
            /* Where the points went. */
            if (g->build != TITO_PASS) {
                fprintf(f, "  The module does not build (%s): every check and every share is lost.\n",
                        tito_verdict_name(g->build));
            } else {
                const char *seen[128];
                size_t n_seen = 0;
                for (size_t i = 0; i < g->n_cases; i++) {
                    const tito_case_result *c = &g->cases[i];
                    if (c->verdict == TITO_PASS)
                        continue;
                    bool dup = false;
                    for (size_t k = 0; k < n_seen && !dup; k++)
                        dup = strcmp(seen[k], c->category) == 0;
                    if (dup || n_seen == 128)
                        continue;
                    seen[n_seen++] = c->category;
                    size_t fails = 0, vis = 0;
                    for (size_t k = 0; k < g->n_cases; k++)
                        if (g->cases[k].verdict != TITO_PASS && strcmp(g->cases[k].category, c->category) == 0) {
                            fails++;
                            vis += !g->cases[k].hidden;
                        }
                    fprintf(f, "  failing: %s (%zu check%s, %zu visible)\n", c->category, fails,
                            fails == 1 ? "" : "s", vis);
                }
                if (g->memcheck.status == TITO_MEMCHECK_FINDINGS)
                    fprintf(f, "  memory: %zu Valgrind finding%s (0 of %d points)\n", g->memcheck.n_findings,
                            g->memcheck.n_findings == 1 ? "" : "s", g->memcheck.max_points);
                for (size_t k = 0; k < g->n_perf; k++)
                    if (g->perf[k].points < g->perf[k].max_points)
                        fprintf(f, "  speed: %s earns %d of %d points\n", g->perf[k].metric,
                                g->perf[k].points, g->perf[k].max_points);
            }
            if (mp->state == TITO_STATE_COMPLETED) {
                fprintf(f, "It stays completed: an earlier grade met the bar (%s).\n", mp->completed_at);
                rc = TITO_EXIT_OK;
            } else {
                rc = TITO_EXIT_FAILED;
            }
        }
    }
    if (fl->json || fl->format) {
        const tito_grade *one[] = {run.g};
        if ((st = emit(fl, one, 1)) >= 0)
            rc = st;
    }
    tito_grade_free(run.g);
    return rc;
}

int cmd_grade(int argc, char **argv, tito_context *ctx)
{
    grade_time = time(NULL);
    /* `tito grade --batch ROSTER`: the instructor's batch, with options of its own and
     * no workspace (cli/cmd_batch.c). */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--batch") == 0 || strncmp(argv[i], "--batch=", 8) == 0)
            return cmd_grade_batch(argc, argv, ctx);
    const char *batch = NULL; /* only for --help: --batch never reaches the parser below */
    grade_flags fl;
    memset(&fl, 0, sizeof fl);
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &fl.json, "print the receipt (tito-receipt/1 JSON) instead of a report"),
        TITO_OPT_STRING(0, "format", &fl.format, "FORMAT",
                        "print the grade for another tool: gradescope, junit or csv"),
        TITO_OPT_STRING('o', "output", &fl.output, "FILE",
                        "write what --json or --format prints to FILE instead"),
        TITO_OPT_STRING(0, "seed", &fl.seed_text, "HEX", "replay a grade with this seed"),
        TITO_OPT_BOOL(0, "deterministic", &fl.deterministic,
                      "measure speed in instructions (callgrind): the same on a busy machine"),
        TITO_OPT_BOOL(0, "no-memcheck", &fl.no_memcheck,
                      "skip Valgrind (a partial grade: not recorded)"),
        TITO_OPT_BOOL(0, "no-speed", &fl.no_speed,
                      "skip the speed measurement (a partial grade: not recorded)"),
        TITO_OPT_BOOL('v', "verbose", &fl.verbose,
                      "every check on its own line, and the compiler's whole output"),
        TITO_OPT_STRING(0, "batch", &batch, "ROSTER",
                        "instructors: grade a whole class (`tito grade --batch ROSTER --help`)"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if ((st = parse_flags(&fl, MODE_GRADE)) >= 0)
        return st;
    if (argc > 2) {
        tito_error("unexpected argument '%s'", argv[2]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    bool all = argc == 2 && strcmp(argv[1], "all") == 0;
    if (all && fl.format && strcmp(fl.format, "gradescope") == 0) {
        tito_error("--format gradescope renders one module: `tito grade N --format gradescope`");
        return TITO_EXIT_USAGE;
    }
    const tito_module *m = NULL;
    if (!all) {
        if (argc == 2) {
            if (!(m = tito_module_resolve(argv[1])))
                return TITO_EXIT_USAGE;
        } else {
            m = default_module(ctx->workspace);
            if (!m) {
                tito_error("no module is started yet: run `tito module start 01` first");
                return TITO_EXIT_USAGE;
            }
            fprintf(shows_report(&fl) ? stdout : stderr,
                    "Grading module %02d (%s), the one you worked on last; `tito grade N` grades "
                    "another, `tito grade all` every started one.\n",
                    m->number, m->name);
        }
    }
    tito_kit *kit = NULL;
    tt_status ts = tito_kit_locate(&kit);
    if (ts != TT_OK)
        return tito_fail(ts);
    st = all ? grade_all(ctx, kit, &fl) : grade_one(ctx, kit, m, MODE_GRADE, &fl);
    tito_kit_free(kit);
    return st;
}

/* ------------------------------------------------------------ tito module complete */

int cmd_module_complete(int argc, char **argv, tito_context *ctx)
{
    grade_time = time(NULL);
    grade_flags fl;
    memset(&fl, 0, sizeof fl);
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &fl.json, "print the receipt (tito-receipt/1 JSON) instead of a report"),
        TITO_OPT_STRING(0, "seed", &fl.seed_text, "HEX", "grade with this seed"),
        TITO_OPT_BOOL(0, "deterministic", &fl.deterministic,
                      "measure speed in instructions (callgrind): the same on a busy machine"),
        TITO_OPT_BOOL('v', "verbose", &fl.verbose,
                      "every check on its own line, and the compiler's whole output"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if ((st = parse_flags(&fl, MODE_COMPLETE)) >= 0)
        return st;
    if (argc != 2) {
        if (argc < 2)
            tito_error("which module? `tito module complete N` (`tito module status` shows them)");
        else
            tito_error("unexpected argument '%s'", argv[2]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    const tito_module *m = tito_module_resolve(argv[1]);
    if (!m)
        return TITO_EXIT_USAGE;
    tito_kit *kit = NULL;
    tt_status ts = tito_kit_locate(&kit);
    if (ts != TT_OK)
        return tito_fail(ts);
    st = grade_one(ctx, kit, m, MODE_COMPLETE, &fl);
    tito_kit_free(kit);
    return st;
}
