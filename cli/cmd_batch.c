/*
 * tito grade --batch ROSTER: grade a whole class (grader/batch.h, grader/gradebook.h).
 *
 * `tito grade` hands its command line here when it holds --batch. This file owns the
 * batch's options, the progress bar and ETA, interruption (Ctrl-C stops the pool; what
 * was graded stays, and a rerun grades only the rest), the regrade preview (--compare)
 * and the exit status:
 *
 *   0  the gradebook was written (or --compare printed) and every job was graded;
 *   1  some jobs could not be graded by the grader (listed; a rerun retries them);
 *   2  usage; 3+ the system got in the way; 130 (SIGINT) or 143 (SIGTERM) interrupted.
 *
 * A student whose repository cannot be fetched, or who committed nothing, is a row of
 * the gradebook, not a failure of the batch.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "course.h"
#include "fsutil.h"
#include "gradebook.h"
#include "interrupt.h"
#include "kit.h"
#include "roster.h"
#include "term.h"
#include "tito.h"

static void format_duration(char *buf, size_t size, double s)
{
    if (s < 0)
        snprintf(buf, size, "?");
    else if (s < 60)
        snprintf(buf, size, "%.0f s", s);
    else if (s < 3600)
        snprintf(buf, size, "%d min %02d s", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, size, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
}

/* ------------------------------------------------------------ progress */

typedef struct progress_ui {
    bool tty;        /* a bar redrawn in place; otherwise one line per job */
    bool drawn;
} progress_ui;

static void on_fetch(void *ctx, size_t index, size_t total, const tito_batch_student *s)
{
    progress_ui *ui = ctx;
    FILE *f = stderr;
    bool trouble = !s->fetched || s->fetch_error;
    if (ui->tty && !trouble) {
        fprintf(f, "\r\033[Kfetching %zu/%zu  %s", index + 1, total, s->who->id);
        fflush(f);
        ui->drawn = true;
        return;
    }
    if (ui->drawn) {
        fprintf(f, "\r\033[K");
        ui->drawn = false;
    }
    if (!s->fetched)
        fprintf(f, "  %s%s%s: no repository: %s\n", tito_sgr(f, TITO_STYLE_RED), s->who->id,
                tito_sgr(f, TITO_STYLE_RESET), s->fetch_error ? s->fetch_error : "");
    else if (s->fetch_error)
        fprintf(f, "  %s%s%s: %s\n", tito_sgr(f, TITO_STYLE_YELLOW), s->who->id,
                tito_sgr(f, TITO_STYLE_RESET), s->fetch_error);
    else
        fprintf(f, "  fetched %s (%zu/%zu)\n", s->who->id, index + 1, total);
}

static void on_progress(void *ctx, const tito_batch_progress *p)
{
    progress_ui *ui = ctx;
    FILE *f = stderr;
    char eta[32];
    format_duration(eta, sizeof eta, p->done < p->total ? p->eta : 0);
    if (!p->ok) {
        if (ui->drawn)
            fprintf(f, "\r\033[K");
        fprintf(f, "  %sgrading error%s: %s %s: %s\n", tito_sgr(f, TITO_STYLE_RED),
                tito_sgr(f, TITO_STYLE_RESET), p->job->student, p->job->module->slug,
                p->message ? p->message : "");
    }
    if (!ui->tty) {
        if (p->ok)
            fprintf(f, "  [%zu/%zu] %s %s %.7s: %d/%d   ETA %s\n", p->done, p->total,
                    p->job->student, p->job->module->slug, p->job->commit, p->earned, p->possible,
                    eta);
        fflush(f);
        return;
    }
    int width = 24, full = p->total ? (int)((double)p->done * width / (double)p->total) : width;
    fprintf(f, "\r\033[K  %s", tito_sgr(f, TITO_STYLE_GREEN));
    for (int i = 0; i < width; i++)
        fprintf(f, "%s", i < full ? "\u2588" : "\u2591");
    fprintf(f, "%s  %zu/%zu   ETA %s", tito_sgr(f, TITO_STYLE_RESET), p->done, p->total, eta);
    if (p->failed)
        fprintf(f, "   %s%zu grading error%s%s", tito_sgr(f, TITO_STYLE_RED), p->failed,
                p->failed == 1 ? "" : "s", tito_sgr(f, TITO_STYLE_RESET));
    if (p->ok)
        fprintf(f, "   %s %s %d/%d", p->job->student, p->job->module->slug, p->earned, p->possible);
    ui->drawn = true;
    if (p->done == p->total) {
        fputc('\n', f);
        ui->drawn = false;
    }
    fflush(f);
}

/* ------------------------------------------------------------ options */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int usage(const tito_context *ctx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tito_error("%s", msg);
    tito_print_usage(ctx->command, true);
    return TITO_EXIT_USAGE;
}

/* "01,03_layers,tensor" into modules (table order, no repeats). */
static bool parse_modules(const char *list, const tito_module **out, size_t *n, char *bad,
                          size_t bad_size)
{
    *n = 0;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", list);
    char *save = NULL;
    bool chosen[256] = {false};
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        const tito_module *m = tito_module_find(tok);
        if (!m) {
            snprintf(bad, bad_size, "%s", tok);
            return false;
        }
        chosen[m - tito_modules] = true;
    }
    for (size_t i = 0; i < tito_module_count && i < 256; i++)
        if (chosen[i])
            out[(*n)++] = &tito_modules[i];
    return *n > 0;
}

static bool parse_slice(const char *text, unsigned *index, unsigned *count)
{
    char *end = NULL;
    errno = 0;
    unsigned long i = strtoul(text, &end, 10);
    if (errno || end == text || *end != '/')
        return false;
    const char *c = end + 1;
    unsigned long n = strtoul(c, &end, 10);
    if (errno || end == c || *end || n == 0 || n > 100000 || i >= n)
        return false;
    *index = (unsigned)i;
    *count = (unsigned)n;
    return true;
}

/* ------------------------------------------------------------ the command */

typedef struct batch_args {
    const char *roster, *out, *jobs, *modules, *compare, *engine, *slice, *tasks, *sbatch_args,
        *fetch_timeout;
    bool write, no_fetch, quiet;
} batch_args;

/* A worker of the Slurm engine: grade this slice of OUT/plan.json. */
static int run_worker_slice(const batch_args *a, const tito_kit *kit, const tito_course *course,
                            unsigned workers)
{
    unsigned index = 0, count = 1;
    if (!parse_slice(a->slice, &index, &count)) {
        tito_error("--worker-slice expects I/N with 0 <= I < N, not '%s'", a->slice);
        return TITO_EXIT_USAGE;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/plan.json", a->out);
    tito_batch_jobs jobs;
    tt_status st = tito_batch_jobs_read(&jobs, path);
    if (st != TT_OK)
        return tito_fail(st);
    tito_batch_jobs_filter(&jobs, index, count);
    printf("tito worker %u/%u: %zu job%s to grade\n", index, count, jobs.n, jobs.n == 1 ? "" : "s");
    progress_ui ui = {.tty = false};
    tito_batch_pool pool = {.kit = kit, .course = course, .tito_version = TITO_VERSION,
                            .workers = workers, .on_progress = on_progress, .ctx = &ui,
                            .stop = &tito_interrupt_caught};
    tito_batch_stats stats;
    st = tito_batch_run_local(&stats, &jobs, &pool);
    tito_batch_jobs_release(&jobs);
    if (st != TT_OK)
        return tito_fail(st);
    printf("tito worker %u/%u: %zu graded, %zu not graded, %.1f s\n", index, count, stats.graded,
           stats.failed, stats.seconds);
    if (stats.interrupted)
        return tito_exit_for_signal(tito_interrupt_caught);
    return stats.failed ? TITO_EXIT_FAILED : TITO_EXIT_OK;
}

int cmd_grade_batch(int argc, char **argv, tito_context *ctx)
{
    /* The batch has options of its own and needs the course, not a workspace: parse
     * with an entry of its own (tito grade's name, so messages and help read right). */
    tito_command entry = *ctx->command;
    entry.flags = TITO_CMD_NEEDS_COURSE | TITO_CMD_INSTRUCTOR;
    entry.summary = "grade a whole class from a roster: fetch, choose commits by the deadlines, "
                    "grade, write the gradebook";
    entry.args = "--batch ROSTER [--out DIR] [--jobs N] [--modules LIST] [--compare OLD.json "
                 "[--write]] [--engine local|slurm] [--no-fetch]";
    const tito_command *saved = ctx->command;
    ctx->command = &entry;

    batch_args a = {0};
    const tito_option options[] = {
        TITO_OPT_STRING(0, "batch", &a.roster, "ROSTER",
                        "the roster: a CSV file with id, repo (a path or a git URL) and name"),
        TITO_OPT_STRING('o', "out", &a.out, "DIR",
                        "where clones, receipts and the gradebook go (default: grades)"),
        TITO_OPT_STRING('j', "jobs", &a.jobs, "N",
                        "grade N submissions at once (default: the number of cores)"),
        TITO_OPT_STRING('m', "modules", &a.modules, "LIST",
                        "the modules to grade, e.g. 01,02 (default: every module with checks "
                        "and a weight)"),
        TITO_OPT_STRING(0, "compare", &a.compare, "OLD.json",
                        "show whose grades would change against an older gradebook.json; "
                        "writes no gradebook unless --write"),
        TITO_OPT_BOOL(0, "write", &a.write, "with --compare: write the gradebook too"),
        TITO_OPT_STRING(0, "engine", &a.engine, "NAME",
                        "local (a pool of processes here, the default) or slurm (an array "
                        "job through sbatch)"),
        TITO_OPT_STRING(0, "slurm-tasks", &a.tasks, "N",
                        "slurm: the array's size (default: one task per job, at most 64)"),
        TITO_OPT_STRING(0, "sbatch-args", &a.sbatch_args, "TEXT",
                        "slurm: more sbatch options, e.g. \"--partition=short --time=60\""),
        TITO_OPT_BOOL(0, "no-fetch", &a.no_fetch,
                      "grade the repositories fetched before, as they are"),
        TITO_OPT_STRING(0, "fetch-timeout", &a.fetch_timeout, "SECONDS",
                        "how long one repository's fetch may take (default 120); a host "
                        "that does not answer in time is not tried again in this run"),
        TITO_OPT_BOOL('q', "quiet", &a.quiet, "print the gradebook's paths only, no summary"),
        TITO_OPT_STRING(0, "worker-slice", &a.slice, "I/N",
                        "(for the Slurm engine's tasks) grade the I-th of N slices of "
                        "OUT/plan.json"),
        TITO_OPT_END,
    };
    int rc = tito_parse_options(ctx, &argc, argv, options);
    ctx->command = saved;
    if (rc >= 0)
        return rc;
    ctx->command = &entry;
    rc = TITO_EXIT_OK;
    if (argc > 1) {
        rc = usage(ctx, "unexpected argument '%s'", argv[1]);
        goto out;
    }
    if (!a.roster || !*a.roster) {
        rc = usage(ctx, "--batch needs a roster file");
        goto out;
    }
    if (!a.out)
        a.out = "grades";
    bool slurm = false;
    if (a.engine && strcmp(a.engine, "slurm") == 0)
        slurm = true;
    else if (a.engine && strcmp(a.engine, "local") != 0) {
        rc = usage(ctx, "--engine expects local or slurm, not '%s'", a.engine);
        goto out;
    }
    if (a.write && !a.compare) {
        rc = usage(ctx, "--write goes with --compare (without it the gradebook is written "
                        "anyway)");
        goto out;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = a.slice ? 1 : (unsigned)(cores > 0 ? cores : 1);
    if (a.jobs) {
        long v = 0;
        if (!tito_parse_count(a.jobs, 1, 256, &v)) {
            rc = usage(ctx, "--jobs expects a number from 1 to 256, not '%s'", a.jobs);
            goto out;
        }
        workers = (unsigned)v;
    }
    unsigned tasks = 0;
    if (a.tasks) {
        long v = 0;
        if (!tito_parse_count(a.tasks, 1, 10000, &v)) {
            rc = usage(ctx, "--slurm-tasks expects a number from 1 to 10000, not '%s'", a.tasks);
            goto out;
        }
        tasks = (unsigned)v;
    }
    long fetch_timeout = 0;
    if (a.fetch_timeout && !tito_parse_count(a.fetch_timeout, 1, 86400, &fetch_timeout)) {
        rc = usage(ctx, "--fetch-timeout expects a number of seconds from 1 to 86400, not '%s'",
                   a.fetch_timeout);
        goto out;
    }
    const tito_module *chosen[256];
    size_t n_chosen = 0;
    if (a.modules) {
        char bad[128] = "";
        if (!parse_modules(a.modules, chosen, &n_chosen, bad, sizeof bad)) {
            rc = usage(ctx, "--modules: no module '%s' (`tito module list` shows them)", bad);
            goto out;
        }
    }

    tito_kit *kit = NULL;
    tito_roster *roster = NULL;
    tito_batch_plan *plan = NULL;
    tito_gradebook *gb = NULL;
    tito_batch_jobs pending = {0};
    tt_status st = tito_kit_locate(&kit);
    if (st != TT_OK) {
        rc = tito_fail(st);
        goto out;
    }
    /* `tito grade` is TITO_CMD_INTERRUPTIBLE: main already catches SIGINT and SIGTERM
     * into tito_interrupt_caught, the pool's stop request. */
    if (a.slice) {
        rc = run_worker_slice(&a, kit, ctx->course, workers);
        goto done;
    }
    if ((st = tito_roster_load(&roster, a.roster)) != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }

    progress_ui ui = {.tty = isatty(STDERR_FILENO) == 1};
    tito_batch_options bo = TITO_BATCH_OPTIONS_INIT;
    bo.out_dir = a.out;
    bo.modules = a.modules ? chosen : NULL;
    bo.n_modules = n_chosen;
    bo.no_fetch = a.no_fetch;
    bo.fetch_timeout = (double)fetch_timeout;
    bo.on_fetch = on_fetch;
    bo.ctx = &ui;
    fprintf(stderr, "Fetching %zu repositor%s into %s/repos\n", roster->n_students,
            roster->n_students == 1 ? "y" : "ies", a.out);
    st = tito_batch_prepare(&plan, ctx->course, roster, kit, &bo);
    if (ui.drawn)
        fprintf(stderr, "\r\033[K");
    if (st != TT_OK && !tito_interrupt_caught) {
        rc = tito_fail(st);
        goto done;
    }
    if (tito_interrupt_caught) {
        tito_error("interrupted while fetching; nothing was graded");
        rc = tito_exit_for_signal(tito_interrupt_caught);
        goto done;
    }
    tito_batch_jobs all = {0};
    if ((st = tito_batch_plan_jobs(&all, plan, false)) != TT_OK ||
        (st = tito_batch_plan_jobs(&pending, plan, true)) != TT_OK) {
        tito_batch_jobs_release(&all);
        rc = tito_fail(st);
        goto done;
    }
    fprintf(stderr, "Grading %zu student%s x %zu module%s (", plan->n_students,
            plan->n_students == 1 ? "" : "s", plan->n_modules, plan->n_modules == 1 ? "" : "s");
    for (size_t k = 0; k < plan->n_modules; k++)
        fprintf(stderr, "%s%s", k ? " " : "", plan->modules[k]->slug);
    fprintf(stderr, "): %zu submission%s, %zu already graded, %zu to grade", all.n,
            all.n == 1 ? "" : "s", all.n - pending.n, pending.n);
    tito_batch_jobs_release(&all);
    if (pending.n > 0 && !slurm)
        fprintf(stderr, " with %u worker%s", workers, workers == 1 ? "" : "s");
    if (pending.n > 0 && slurm)
        fprintf(stderr, " on Slurm");
    fprintf(stderr, "\n");

    tito_batch_stats stats = {0};
    if (pending.n > 0 && !slurm) {
        tito_batch_pool pool = {.kit = kit, .course = ctx->course, .tito_version = TITO_VERSION,
                                .workers = workers, .on_progress = on_progress, .ctx = &ui,
                                .stop = &tito_interrupt_caught};
        st = tito_batch_run_local(&stats, &pending, &pool);
    } else if (pending.n > 0) {
        char tito_path[PATH_MAX], roster_abs[PATH_MAX], course_abs[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", tito_path, sizeof tito_path - 1);
        bool builtin = strcmp(ctx->course->origin, "built-in") == 0;
        if (n <= 0 || !realpath(a.roster, roster_abs) ||
            (!builtin && !realpath(ctx->course->origin, course_abs))) {
            tito_error("cannot find the absolute paths of tito, the roster and the course file");
            rc = TITO_EXIT_IO;
            goto done;
        }
        tito_path[n] = '\0';
        tito_batch_slurm sl = {.tito = tito_path, .roster = roster_abs,
                               .course_file = builtin ? NULL : course_abs, .modules = a.modules,
                               .tasks = tasks, .sbatch_args = a.sbatch_args,
                               .stop = &tito_interrupt_caught};
        fprintf(stderr, "Submitting an array job with sbatch --wait (logs in %s/slurm/)\n", plan->out_dir);
        st = tito_batch_run_slurm(&stats, plan, &pending, &sl);
        if (st == TT_OK)
            fprintf(stderr, "Slurm: %zu graded, %zu not graded, %.1f s\n", stats.graded,
                    stats.failed, stats.seconds);
    }
    if (st != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }
    if (stats.interrupted) {
        tito_error("interrupted: %zu of %zu submissions graded in this run; run the same "
                   "command again to grade the rest",
                   stats.graded, pending.n);
        rc = tito_exit_for_signal(tito_interrupt_caught);
        goto done;
    }
    if (pending.n > 0 && !slurm)
        fprintf(stderr, "Graded %zu submission%s in %.1f s (%.1f per minute)\n", stats.graded,
                stats.graded == 1 ? "" : "s", stats.seconds,
                stats.seconds > 0 ? 60.0 * (double)stats.graded / stats.seconds : 0.0);

    if ((st = tito_gradebook_build(&gb, plan, ctx->course)) != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }
    if (a.compare) {
        char *old = NULL, *report = NULL;
        size_t len = 0, changed = 0;
        st = tito_file_read(&old, &len, a.compare);
        if (st == TT_OK)
            st = tito_gradebook_compare(&report, &changed, old, len, a.compare, gb);
        free(old);
        if (st != TT_OK) {
            rc = tito_fail(st);
            goto done;
        }
        fputs(report, stdout);
        free(report);
        if (!a.write) {
            printf("Nothing written; add --write to write the gradebook.\n");
            goto done;
        }
    }
    if ((st = tito_gradebook_write(gb, plan->out_dir)) != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }
    if (!a.quiet && !a.compare) {
        char *summary = NULL;
        if (tito_gradebook_summary(&summary, gb, 30) == TT_OK) {
            fputs(summary, stdout);
            free(summary);
        }
    }
    printf("Gradebook: %s/gradebook.csv (for the LMS), %s/gradebook.json (every receipt), "
           "%s/summary.txt\n",
           plan->out_dir, plan->out_dir, plan->out_dir);
    if (stats.failed > 0) {
        tito_error("%zu submission%s could not be graded (listed above); run the same command "
                   "again to retry them",
                   stats.failed, stats.failed == 1 ? "" : "s");
        rc = TITO_EXIT_FAILED;
    }
done:
    tito_batch_jobs_release(&pending);
    tito_gradebook_free(gb);
    tito_batch_plan_free(plan);
    tito_roster_free(roster);
    tito_kit_free(kit);
out:
    ctx->command = saved;
    return rc;
}
