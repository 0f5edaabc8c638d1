/*
 * tito dev ...: commands for the people who write the course.
 *
 *   tito dev starters [--check]         student/ from reference/ (see grader/starter.h)
 *   tito dev grade MODULE FILE [...]    grade a file as a module with the kit (the
 *                                       engine of grader/engine.h, without a workspace)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "course.h"
#include "engine.h"
#include "interrupt.h"
#include "kit.h"
#include "modules.h"
#include "phases.h"
#include "receipt.h"
#include "report.h"
#include "starter.h"
#include "term.h"
#include "tito.h"

static const char *change_word(tito_starter_change change, bool check)
{
    switch (change) {
    case TITO_STARTER_UNCHANGED: return "same";
    case TITO_STARTER_CREATED: return check ? "missing" : "created";
    case TITO_STARTER_UPDATED: return check ? "differs" : "updated";
    }
    return "?";
}

int cmd_dev_starters(int argc, char **argv, tito_context *ctx)
{
    bool check = false;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "check", &check,
                      "write nothing; exit 1 naming each file of student/ that differs"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if (argc > 1) {
        tito_error("unexpected argument '%s'", argv[1]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }

    tito_starters_result result;
    tt_status ts = tito_starters_generate(&result, ctx->root,
                                          check ? TITO_STARTERS_CHECK : TITO_STARTERS_WRITE);
    if (ts != TT_OK) {
        tito_error("%s", tt_error_last());
        if (ts == TT_ERR_FORMAT)
            fprintf(stderr, "Fix the marker in the reference source; student/ was not changed.\n");
        return tito_exit_for_status(ts);
    }

    size_t changed = 0;
    FILE *f = check ? stderr : stdout;
    for (size_t i = 0; i < result.count; i++) {
        const tito_starter_file *file = &result.files[i];
        if (file->change == TITO_STARTER_UNCHANGED)
            continue;
        if (changed++ == 0 && check)
            tito_error("student/ is out of date with reference/:");
        fprintf(f, "  %s%-8s%s %s\n", tito_sgr(f, TITO_STYLE_YELLOW),
                change_word(file->change, check), tito_sgr(f, TITO_STYLE_RESET), file->path);
    }

    if (check && changed > 0) {
        fprintf(stderr,
                "Run `tito dev starters` to regenerate them from reference/src, then commit "
                "student/.\n");
        return TITO_EXIT_FAILED;
    }
    if (check)
        printf("%sstudent/ is up to date%s with reference/ (%zu files).\n",
               tito_sgr(stdout, TITO_STYLE_GREEN), tito_sgr(stdout, TITO_STYLE_RESET), result.count);
    else
        printf("student/: %zu file%s written, %zu already up to date.\n", changed,
               changed == 1 ? "" : "s", result.count - changed);
    return TITO_EXIT_OK;
}

/* ------------------------------------------------------------ tito dev grade */

static void print_report(const tito_grade *g, const tito_kit *kit, const char *source, bool verbose,
                         const tito_course_module *cm, const char *filter)
{
    FILE *f = stdout;
    tito_report_options ro = {0};
    ro.subtitle = source;
    ro.every_check = true;
    ro.full_log = verbose;
    ro.course_module = cm;
    tito_report_print(f, g, &ro);
    fputc('\n', f);
    tito_report_counts(f, g, filter);
    fputc('\n', f);

    if (verbose) {
        const char *dim = tito_sgr(f, TITO_STYLE_DIM), *reset = tito_sgr(f, TITO_STYLE_RESET);
        fprintf(f, "\n%skit:%s %s (from %s)\n", dim, reset, kit->root, kit->found_by);
        fprintf(f, "%scompiler:%s %s\n", dim, reset, g->provenance.compiler);
        fprintf(f, "%sisolation:%s %s\n", dim, reset, g->provenance.isolation);
        fprintf(f, "%sphases:%s build %.2f s, run and judge %.2f s", dim, reset, g->seconds_build,
                g->seconds_run);
        if (g->full)
            fprintf(f, ", memcheck %.2f s, speed %.2f s", g->seconds_memcheck, g->seconds_perf);
        fputc('\n', f);
    }
}

int cmd_dev_grade(int argc, char **argv, tito_context *ctx)
{
    const char *seed_text = NULL, *filter = NULL, *jobs_text = NULL;
    bool hidden = false, json = false, verbose = false, small = false, no_cache = false;
    bool full = false, deterministic = false;
    const tito_option options[] = {
        TITO_OPT_STRING(0, "seed", &seed_text, "HEX", "replay a run with this seed (hexadecimal)"),
        TITO_OPT_BOOL(0, "hidden", &hidden, "run the hidden checks too"),
        TITO_OPT_BOOL(0, "full", &full, "grade as `tito grade` does: hidden checks, Valgrind "
                                        "memcheck and speed, with the course's points"),
        TITO_OPT_BOOL(0, "deterministic", &deterministic,
                      "with --full: speed by instruction counts (callgrind), not seconds"),
        TITO_OPT_STRING('k', "keyword", &filter, "PATTERN",
                        "only the visible checks whose name contains PATTERN"),
        TITO_OPT_BOOL(0, "json", &json, "print the tito-receipt/1 JSON instead of a report"),
        TITO_OPT_BOOL('v', "verbose", &verbose, "also show the kit, compiler, isolation and "
                                                "phase timings"),
        TITO_OPT_BOOL(0, "small", &small, "run the probes at their small (Valgrind) sizes"),
        TITO_OPT_STRING('j', "jobs", &jobs_text, "N", "run visible and hidden checks in N "
                                                      "threads (default 2)"),
        TITO_OPT_BOOL(0, "no-cache", &no_cache, "link the reference probes again"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if (argc != 3) {
        tito_error(argc < 3 ? "expected a module and a file" : "unexpected argument '%s'",
                   argv[argc < 3 ? 0 : 3]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    const tito_module *m = tito_module_find(argv[1]);
    if (!m) {
        tito_error("no module '%s' (`tito module list` shows them)", argv[1]);
        return TITO_EXIT_USAGE;
    }

    if (deterministic && !full) {
        tito_error("--deterministic measures speed, which only --full does");
        return TITO_EXIT_USAGE;
    }
    if (full && filter) {
        tito_error("--full grades every check; -k selects some (use one or the other)");
        return TITO_EXIT_USAGE;
    }
    const tito_course_module *cm = tito_course_module_of(ctx->course, m);

    tito_grade_options go = TITO_GRADE_OPTIONS_INIT;
    go.full = hidden || full;
    go.filter = filter;
    go.small = small;
    go.no_cache = no_cache;
    go.tito_version = TITO_VERSION;
    go.jobs = 2;
    if (seed_text) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(seed_text, &end, 16);
        if (errno || !*seed_text || *end || seed_text[0] == '-') {
            tito_error("--seed expects a hexadecimal number, not '%s'", seed_text);
            return TITO_EXIT_USAGE;
        }
        go.seed_set = true;
        go.seed = (uint64_t)v;
    }
    if (jobs_text) {
        long v = 0;
        if (!tito_parse_count(jobs_text, 1, 64, &v)) {
            tito_error("--jobs expects a number from 1 to 64, not '%s'", jobs_text);
            return TITO_EXIT_USAGE;
        }
        go.jobs = (unsigned)v;
    }

    tito_kit *kit = NULL;
    tt_status ts = tito_kit_locate(&kit);
    if (ts != TT_OK) {
        tito_error("%s", tt_error_last());
        return tito_exit_for_status(ts);
    }
    /* Points as the course gives them; memcheck and speed only with --full. */
    tito_after_judge aj = TITO_AFTER_JUDGE_INIT;
    aj.kit = kit;
    aj.module = m;
    aj.memcheck = full;
    aj.perf = full;
    aj.deterministic = deterministic;
    aj.perf_small = deterministic; /* callgrind is slow: the kernel at its small size */
    tito_score_rules_from_course(&aj.rules, cm);
    go.phase = tito_after_judge_run;
    go.phase_ctx = &aj;
    tito_grade *g = NULL;
    ts = tito_grade_run(&g, kit, m, argv[2], &go);
    if (ts != TT_OK) {
        if (!tito_interrupt_stopped()) /* else main says so */
            tito_error("%s", tt_error_last());
        tito_kit_free(kit);
        return ts == TT_ERR_INVALID_ARG ? TITO_EXIT_USAGE : tito_exit_for_status(ts);
    }

    int rc = tito_report_all_pass(g) ? TITO_EXIT_OK : TITO_EXIT_FAILED;

    if (json) {
        char *text = NULL;
        ts = tito_receipt_dumps(&text, g, 0);
        if (ts != TT_OK) {
            tito_error("%s", tt_error_last());
            rc = tito_exit_for_status(ts);
        } else {
            fputs(text, stdout);
            free(text);
        }
    } else {
        print_report(g, kit, argv[2], verbose, cm, filter);
    }
    tito_grade_free(g);
    tito_kit_free(kit);
    return rc;
}
