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

#include "engine.h"
#include "kit.h"
#include "modules.h"
#include "receipt.h"
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

/* The categories of the cases with hidden == `hidden`, in order of first appearance. */
static size_t categories_of(const tito_grade *g, bool hidden, const char **cats, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        if (g->cases[i].hidden != hidden)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(cats[k], g->cases[i].category) == 0;
        if (!seen && n < max)
            cats[n++] = g->cases[i].category;
    }
    return n;
}

/* A message indented under its case, one line at a time. */
static void print_indented(FILE *f, const char *text, const char *indent)
{
    while (text && *text) {
        size_t n = strcspn(text, "\n");
        fprintf(f, "%s%.*s\n", indent, (int)n, text);
        text += n;
        if (*text == '\n')
            text++;
    }
}

static void print_report(const tito_grade *g, const tito_kit *kit, const char *source, bool verbose)
{
    FILE *f = stdout;
    const char *bold = tito_sgr(f, TITO_STYLE_BOLD), *reset = tito_sgr(f, TITO_STYLE_RESET);
    const char *green = tito_sgr(f, TITO_STYLE_GREEN), *red = tito_sgr(f, TITO_STYLE_RED);
    const char *dim = tito_sgr(f, TITO_STYLE_DIM);
    fprintf(f, "%sModule %s%s: %s (seed %llx)\n", bold, g->slug, reset, source,
            (unsigned long long)g->provenance.seed);

    if (g->build != TITO_PASS) {
        fprintf(f, "\n%s%s%s: your file could not be built into a probe:\n", red,
                tito_verdict_name(g->build), reset);
        /* The summary comes first, then a blank line and the tool's whole output. */
        const char *log = g->build_log ? g->build_log : "";
        const char *gap = strstr(log, "\n\n");
        if (gap && !verbose) {
            char *summary = strndup(log, (size_t)(gap - log));
            print_indented(f, summary ? summary : log, "  ");
            free(summary);
        } else {
            print_indented(f, log, "  ");
        }
    } else if (g->build_log && verbose) {
        fprintf(f, "\n%scompiler messages:%s\n", dim, reset);
        print_indented(f, g->build_log, "  ");
    }

    const char *cats[64];
    size_t n_cats = categories_of(g, false, cats, 64);
    size_t visible = 0, visible_pass = 0, hidden = 0, hidden_pass = 0;
    for (size_t c = 0; c < n_cats; c++) {
        fprintf(f, "\n%s%s%s\n", bold, cats[c], reset);
        for (size_t i = 0; i < g->n_cases; i++) {
            const tito_case_result *r = &g->cases[i];
            if (r->hidden || strcmp(r->category, cats[c]) != 0)
                continue;
            bool pass = r->verdict == TITO_PASS;
            fprintf(f, "  %s%s%s %-34s %d/%d", pass ? green : red, pass ? "\u2713" : "\u2717",
                    reset, r->name, r->points, r->max_points);
            if (!pass)
                fprintf(f, "  %s%s%s", red, tito_verdict_name(r->verdict), reset);
            fputc('\n', f);
            if (!pass && g->build == TITO_PASS)
                print_indented(f, r->message, "      ");
        }
    }
    for (size_t i = 0; i < g->n_cases; i++) {
        if (g->cases[i].hidden) {
            hidden++;
            hidden_pass += g->cases[i].verdict == TITO_PASS;
        } else {
            visible++;
            visible_pass += g->cases[i].verdict == TITO_PASS;
        }
    }

    if (hidden > 0) {
        fprintf(f, "\n%shidden checks%s %s(category and verdict only)%s\n", bold, reset, dim,
                reset);
        for (size_t i = 0; i < g->n_cases; i++) {
            const tito_case_result *r = &g->cases[i];
            if (!r->hidden)
                continue;
            bool pass = r->verdict == TITO_PASS;
            fprintf(f, "  %s%s%s %-34s %s\n", pass ? green : red, pass ? "\u2713" : "\u2717",
                    reset, r->category, tito_verdict_name(r->verdict));
        }
    }

    fprintf(f, "\n%s%zu of %zu visible checks pass%s", visible_pass == visible ? green : red,
            visible_pass, visible, reset);
    if (hidden > 0)
        fprintf(f, "; %s%zu of %zu hidden checks pass%s", hidden_pass == hidden ? green : red,
                hidden_pass, hidden, reset);
    fprintf(f, " (%d of %d points)\n", g->earned, g->possible);

    if (verbose) {
        fprintf(f, "\n%skit:%s %s\n", dim, reset, kit->root);
        fprintf(f, "%scompiler:%s %s\n", dim, reset, g->provenance.compiler);
        fprintf(f, "%sisolation:%s %s\n", dim, reset, g->provenance.isolation);
        fprintf(f, "%sphases:%s build %.2f s, run and judge %.2f s\n", dim, reset,
                g->seconds_build, g->seconds_run);
    }
}

int cmd_dev_grade(int argc, char **argv, tito_context *ctx)
{
    const char *seed_text = NULL, *filter = NULL, *jobs_text = NULL;
    bool hidden = false, json = false, verbose = false, small = false, no_cache = false;
    const tito_option options[] = {
        TITO_OPT_STRING(0, "seed", &seed_text, "HEX", "replay a run with this seed (hexadecimal)"),
        TITO_OPT_BOOL(0, "hidden", &hidden, "run the hidden checks too"),
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

    tito_grade_options go = TITO_GRADE_OPTIONS_INIT;
    go.full = hidden;
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
        char *end = NULL;
        long v = strtol(jobs_text, &end, 10);
        if (!*jobs_text || *end || v < 1 || v > 64) {
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
    tito_grade *g = NULL;
    ts = tito_grade_run(&g, kit, m, argv[2], &go);
    if (ts != TT_OK) {
        tito_error("%s", tt_error_last());
        tito_kit_free(kit);
        return ts == TT_ERR_INVALID_ARG ? TITO_EXIT_USAGE : tito_exit_for_status(ts);
    }

    int rc = TITO_EXIT_OK;
    for (size_t i = 0; i < g->n_cases; i++)
        if (g->cases[i].verdict != TITO_PASS)
            rc = TITO_EXIT_FAILED;
    if (g->build != TITO_PASS)
        rc = TITO_EXIT_FAILED;

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
        print_report(g, kit, argv[2], verbose);
    }
    tito_grade_free(g);
    tito_kit_free(kit);
    return rc;
}
