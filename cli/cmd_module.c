/*
 * tito module ...: a student's modules, in their workspace.
 *
 *   tito module list [--json]        the course's modules and, in a workspace, their state
 *   tito module start N              the starter and guide of module N (never overwrites)
 *   tito module status [--json]      state, best score, last grade and when
 *   tito module reset N [--yes]      work saved on a backup branch, then the starter again
 *
 * N is a number (3, 03), a slug (03_layers) or a name (layers). Exit status: 0 done;
 * 1 refused because of the module's state (locked, already started, never started,
 * reset not confirmed); 2 usage (a module that does not exist, outside a workspace,
 * another course's workspace); 3+ system errors (cli/exit_codes.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "course.h"
#include "modules.h"
#include "progress.h"
#include "term.h"
#include "tito.h"
#include "workspace.h"

/* ---------------------------------------------------------------- helpers */

static int usage(const tito_context *ctx, const char *message)
{
    tito_error("%s", message);
    tito_print_usage(ctx->command, true);
    return TITO_EXIT_USAGE;
}

const tito_module *tito_module_resolve(const char *key)
{
    const tito_module *m = tito_module_find(key);
    if (m)
        return m;
    const tito_module *first = &tito_modules[0], *last = &tito_modules[tito_module_count - 1];
    /* "03_losses": a number and a name that belong to two different modules. */
    char *end = NULL;
    long number = strtol(key, &end, 10);
    if (end != key && *end == '_') {
        char digits[24];
        snprintf(digits, sizeof digits, "%ld", number);
        const tito_module *by_number = tito_module_find(digits);
        const tito_module *by_name = tito_module_find(end + 1);
        if (by_number && by_name) {
            tito_error("no module '%s': module %02d is %s (%s) and %s is module %02d (%s); see "
                       "`tito module list`",
                       key, by_number->number, by_number->name, by_number->slug, by_name->name,
                       by_name->number, by_name->slug);
            return NULL;
        }
    }
    if (end != key && *end == '\0')
        tito_error("no module %s: modules are %02d..%02d; see `tito module list`", key, first->number,
                   last->number);
    else
        tito_error("no module '%s': modules are %02d..%02d (%s .. %s); see `tito module list`", key,
                   first->number, last->number, first->name, last->name);
    return NULL;
}

/* One module argument, after the options. */
static const tito_module *module_argument(const tito_context *ctx, int argc, char **argv,
                                          int *status)
{
    *status = TITO_EXIT_USAGE;
    if (argc < 2) {
        char message[128];
        snprintf(message, sizeof message, "which module? `tito %s N` (`tito module list` shows them)",
                 ctx->command->name);
        usage(ctx, message);
        return NULL;
    }
    if (argc > 2) {
        tito_error("unexpected argument '%s'", argv[2]);
        tito_print_usage(ctx->command, true);
        return NULL;
    }
    return tito_module_resolve(argv[1]);
}

static int no_arguments(const tito_context *ctx, int argc, char **argv)
{
    if (argc > 1) {
        tito_error("unexpected argument '%s'", argv[1]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    return -1;
}

/* The state shown for a module: "locked" is derived, the others are stored. */
static const char *state_word(const tito_workspace *ws, const tito_course *course,
                              const tito_module *m, const tito_module **blocker)
{
    *blocker = NULL;
    if (!ws)
        return NULL;
    if (!tito_progress_unlocked(ws->progress, course, m, blocker))
        return "locked";
    return tito_module_state_name(tito_progress_module(ws->progress, m)->state);
}

static tito_style state_style(const char *word)
{
    if (strcmp(word, "completed") == 0)
        return TITO_STYLE_GREEN;
    if (strcmp(word, "started") == 0)
        return TITO_STYLE_YELLOW;
    return TITO_STYLE_DIM;
}

/* "not-started" is the JSON word; people read "not started". */
static const char *human(const char *word)
{
    return strcmp(word, "not-started") == 0 ? "not started" : word;
}

/* Print `text` padded to `width` columns, in `style`. */
static void cell(const char *text, int width, tito_style style)
{
    printf("%s%-*s%s", tito_sgr(stdout, style), width, text, tito_sgr(stdout, TITO_STYLE_RESET));
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

static json_t *course_json(const tito_course *course)
{
    return json_pack("{s:s, s:s, s:s, s:b}", "id", course->id, "title", course->title, "term",
                     course->term, "unlock_in_order", course->unlock_in_order);
}

static json_t *record_json(const tito_grade_record *r)
{
    if (!r->present)
        return json_null();
    return json_pack("{s:i, s:i, s:s, s:s?}", "earned", r->earned, "possible", r->possible, "at",
                     r->at, "commit", r->commit[0] ? r->commit : NULL);
}

/* The common part of a module's JSON in list and status. */
static json_t *module_json(const tito_context *ctx, const tito_module *m)
{
    const tito_course_module *cm = tito_course_module_of(ctx->course, m);
    const tito_module *blocker = NULL;
    const char *state = state_word(ctx->workspace, ctx->course, m, &blocker);
    return json_pack("{s:i, s:s, s:s, s:s, s:s?, s:s?, s:f, s:i, s:f}", "number", m->number, "slug",
                     m->slug, "name", m->name, "title", m->title, "state", state, "locked_by",
                     blocker ? blocker->slug : NULL, "weight", cm->weight, "possible",
                     tito_course_module_possible(cm), "pass_bar", cm->pass_bar);
}

/* Run git commands from the current directory when it is the workspace's root;
 * elsewhere they need `-C root`. */
static void git_prefix(char *buf, size_t size, const tito_workspace *ws)
{
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) && strcmp(cwd, ws->root) == 0)
        snprintf(buf, size, "git");
    else
        snprintf(buf, size, "git -C %s", ws->root);
}

/* ------------------------------------------------------------------- list */

int cmd_module_list(int argc, char **argv, tito_context *ctx)
{
    bool as_json = false;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &as_json, "print JSON (for scripts) instead of a table"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0 || (st = no_arguments(ctx, argc, argv)) >= 0)
        return st;
    const tito_course *course = ctx->course;
    const tito_workspace *ws = ctx->workspace;

    if (as_json) {
        json_t *modules = json_array();
        for (size_t i = 0; modules && i < tito_module_count; i++)
            if (json_array_append_new(modules, module_json(ctx, &tito_modules[i])) != 0) {
                json_decref(modules);
                modules = NULL;
            }
        return print_json(json_pack("{s:o, s:s?, s:o}", "course", course_json(course), "workspace",
                                    ws ? ws->root : NULL, "modules", modules));
    }

    printf("%s%s%s (%s)", tito_sgr(stdout, TITO_STYLE_BOLD), course->title,
           tito_sgr(stdout, TITO_STYLE_RESET), course->id);
    if (ws)
        printf(", workspace %s", ws->root);
    printf("\n");
    printf("  %-3s %-14s %s%s\n", "#", "module", ws ? "state         " : "", "title");
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        const tito_module *blocker = NULL;
        const char *state = state_word(ws, course, m, &blocker);
        printf("  %02d  ", m->number);
        cell(m->name, 14, TITO_STYLE_CYAN);
        printf(" ");
        if (state) {
            cell(human(state), 13, state_style(state));
            printf(" ");
        }
        printf("%s\n", m->title);
    }
    if (!ws)
        printf("Not in a workspace: `tito init DIR` makes one.\n");
    else if (course->unlock_in_order)
        printf("This course unlocks modules in order: a module opens when the one before it is "
               "completed.\n");
    return TITO_EXIT_OK;
}

/* ------------------------------------------------------------------ start */

int cmd_module_start(int argc, char **argv, tito_context *ctx)
{
    const tito_option options[] = {TITO_OPT_END};
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    const tito_module *m = module_argument(ctx, argc, argv, &st);
    if (!m)
        return st;
    tito_workspace *ws = ctx->workspace;
    const tito_course *course = ctx->course;

    tito_material mat;
    tt_status ts = tito_material_locate(&mat);
    if (ts != TT_OK)
        return tito_fail(ts);
    tito_start_result res;
    ts = tito_module_start(&res, ws, course, &mat, m, time(NULL));
    if (ts != TT_OK)
        return tito_fail(ts);

    tito_module_files f;
    tito_module_files_of(&f, m);
    if (res.outcome == TITO_START_EXISTS) {
        tito_error("module %02d (%s) is already started: %s exists, and tito never overwrites your "
                   "work",
                   m->number, m->name, res.source_exists ? f.source : f.guide);
        fprintf(stderr,
                "To start over from the starter, run `tito module reset %02d` (it saves your current "
                "work on a backup branch first).\n",
                m->number);
        return TITO_EXIT_FAILED;
    }
    if (res.outcome == TITO_START_LOCKED) {
        const tito_module *b = res.blocker;
        const tito_course_module *bcm = tito_course_module_of(course, b);
        tito_error("module %02d (%s) is locked: this course unlocks modules in order, and module "
                   "%02d (%s) is not completed yet (it is %s)",
                   m->number, m->name, b->number, b->name,
                   human(tito_module_state_name(tito_progress_module(ws->progress, b)->state)));
        fprintf(stderr, "Complete module %02d first: a `tito grade %02d` with at least %.0f%% of its "
                        "points completes it.\n",
                b->number, b->number, bcm->pass_bar * 100.0);
        return TITO_EXIT_FAILED;
    }

    printf("%sModule %02d · %s%s — %s\n", tito_sgr(stdout, TITO_STYLE_BOLD), m->number, m->name,
           tito_sgr(stdout, TITO_STYLE_RESET), m->title);
    const char *green = tito_sgr(stdout, TITO_STYLE_GREEN), *reset = tito_sgr(stdout, TITO_STYLE_RESET);
    printf("  %swrote%s   %-36s your implementation (%d place%s marked TODO)\n", green, reset,
           f.source, res.todos, res.todos == 1 ? "" : "s");
    if (res.guide_written)
        printf("  %swrote%s   %-36s the idea, the contract, the traps\n", green, reset, f.guide);
    else
        tito_warning("the course material has no guide for module %02d yet; the header is its "
                     "contract",
                     m->number);
    if (res.header_present)
        printf("  header  %-36s the contract you implement\n", f.header);
    printf("  commit  %.7s \"tito: start module %02d (%s)\"\n", res.commit, m->number, m->name);
    printf("Next: open %s, then run `tito module test %02d` as often as you like.\n",
           res.guide_written ? f.guide : f.header, m->number);
    return TITO_EXIT_OK;
}

/* ----------------------------------------------------------------- status */

static void grade_text(char *buf, size_t size, const tito_grade_record *r)
{
    if (!r->present)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%d/%d", r->earned, r->possible);
}

/* "2026-11-26T19:42:10Z" as "2026-11-26 19:42 UTC". */
static void when_text(char *buf, size_t size, const char *at)
{
    if (strlen(at) >= 16 && at[10] == 'T')
        snprintf(buf, size, "%.10s %.5s UTC", at, at + 11);
    else
        snprintf(buf, size, "%s", at);
}

int cmd_module_status(int argc, char **argv, tito_context *ctx)
{
    bool as_json = false;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &as_json, "print JSON (for scripts) instead of a table"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0 || (st = no_arguments(ctx, argc, argv)) >= 0)
        return st;
    const tito_course *course = ctx->course;
    tito_workspace *ws = ctx->workspace;

    size_t completed = 0;
    const tito_module *next = NULL;
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module_progress *mp = tito_progress_module(ws->progress, &tito_modules[i]);
        if (mp->state == TITO_STATE_COMPLETED)
            completed++;
        else if (!next)
            next = mp->module;
    }

    if (as_json) {
        json_t *modules = json_array();
        for (size_t i = 0; modules && i < tito_module_count; i++) {
            const tito_module *m = &tito_modules[i];
            const tito_module_progress *mp = tito_progress_module(ws->progress, m);
            json_t *mj = module_json(ctx, m);
            if (mj) {
                json_object_set_new(mj, "started_at", mp->started_at[0] ? json_string(mp->started_at)
                                                                        : json_null());
                json_object_set_new(mj, "completed_at",
                                    mp->completed_at[0] ? json_string(mp->completed_at) : json_null());
                json_object_set_new(mj, "best", record_json(&mp->best));
                json_object_set_new(mj, "last", record_json(&mp->last));
                json_object_set_new(mj, "resets", json_integer(mp->resets));
            }
            if (json_array_append_new(modules, mj) != 0) {
                json_decref(modules);
                modules = NULL;
            }
        }
        return print_json(json_pack("{s:o, s:s, s:o, s:i, s:i}", "course", course_json(course),
                                    "workspace", ws->root, "modules", modules, "completed",
                                    (int)completed, "total", (int)tito_module_count));
    }

    printf("%s%s%s, workspace %s\n", tito_sgr(stdout, TITO_STYLE_BOLD), course->title,
           tito_sgr(stdout, TITO_STYLE_RESET), ws->root);
    printf("  %-3s %-14s %-13s %-9s %s\n", "#", "module", "state", "best", "last grade");
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        const tito_module_progress *mp = tito_progress_module(ws->progress, m);
        const tito_module *blocker = NULL;
        const char *state = state_word(ws, course, m, &blocker);
        char best[32], last[32], when[40];
        grade_text(best, sizeof best, &mp->best);
        grade_text(last, sizeof last, &mp->last);
        printf("  %02d  ", m->number);
        cell(m->name, 14, TITO_STYLE_CYAN);
        printf(" ");
        cell(human(state), 13, state_style(state));
        printf(" %-9s %s", best, last);
        if (mp->last.present) {
            when_text(when, sizeof when, mp->last.at);
            printf("  %s", when);
            if (mp->last.commit[0])
                printf("  %.7s", mp->last.commit);
        }
        printf("\n");
    }
    printf("%zu of %zu modules completed.", completed, tito_module_count);
    if (next) {
        const tito_module_progress *mp = tito_progress_module(ws->progress, next);
        if (mp->state == TITO_STATE_NOT_STARTED)
            printf("  Next: tito module start %02d\n", next->number);
        else
            printf("  Next: tito module test %02d, then tito grade %02d\n", next->number,
                   next->number);
    } else {
        printf("  Every module is completed.\n");
    }
    return TITO_EXIT_OK;
}

/* ------------------------------------------------------------------ reset */

/* Ask on the terminal; false unless the answer starts with y. */
static bool confirm(const tito_module *m, const tito_module_files *f)
{
    printf("Reset module %02d (%s)? %s goes back to the starter; your current work is saved on a "
           "backup branch first. [y/N] ",
           m->number, m->name, f->source);
    fflush(stdout);
    char answer[32];
    if (!fgets(answer, sizeof answer, stdin))
        return false;
    return answer[0] == 'y' || answer[0] == 'Y';
}

int cmd_module_reset(int argc, char **argv, tito_context *ctx)
{
    bool yes = false;
    const tito_option options[] = {
        TITO_OPT_BOOL('y', "yes", &yes, "do not ask for confirmation"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    const tito_module *m = module_argument(ctx, argc, argv, &st);
    if (!m)
        return st;
    tito_workspace *ws = ctx->workspace;
    tito_module_files f;
    tito_module_files_of(&f, m);

    char source[4096];
    tt_status ts = tito_workspace_path(source, sizeof source, ws, f.source);
    if (ts != TT_OK)
        return tito_fail(ts);
    if (tito_progress_module(ws->progress, m)->state == TITO_STATE_NOT_STARTED &&
        access(source, F_OK) != 0) {
        tito_error("module %02d (%s) was never started: there is nothing to reset; `tito module "
                   "start %02d` gives you its starter",
                   m->number, m->name, m->number);
        return TITO_EXIT_FAILED;
    }
    if (!yes) {
        if (!isatty(STDIN_FILENO)) {
            tito_error("`tito module reset` replaces %s with the starter: add --yes to confirm "
                       "(your current work is saved on a backup branch first)",
                       f.source);
            return TITO_EXIT_USAGE;
        }
        if (!confirm(m, &f)) {
            printf("Nothing changed.\n");
            return TITO_EXIT_FAILED;
        }
    }

    tito_material mat;
    ts = tito_material_locate(&mat);
    if (ts != TT_OK)
        return tito_fail(ts);
    tito_reset_result res;
    ts = tito_module_reset(&res, ws, &mat, m, time(NULL));
    if (ts != TT_OK) {
        int status = tito_fail(ts);
        if (res.branch[0])
            fprintf(stderr, "Your work as it was is saved on the branch %s.\n", res.branch);
        return status;
    }

    char git[4200];
    git_prefix(git, sizeof git, ws);
    const char *green = tito_sgr(stdout, TITO_STYLE_GREEN), *reset = tito_sgr(stdout, TITO_STYLE_RESET);
    printf("Saved your work on the branch %s%s%s (commit %.7s).\n",
           tito_sgr(stdout, TITO_STYLE_CYAN), res.branch, reset, res.backup_commit);
    printf("  %srestored%s %-36s the starter\n", green, reset, f.source);
    if (res.guide_written)
        printf("  %srestored%s %-36s the guide\n", green, reset, f.guide);
    printf("  commit   %.7s \"tito: reset module %02d (%s) to its starter\"\n", res.commit, m->number,
           m->name);
    printf("To get your work back:\n  %s checkout %s -- %s\n", git, res.branch, f.source);
    printf("(or look at it first: %s show %s:%s)\n", git, res.branch, f.source);
    return TITO_EXIT_OK;
}
