/*
 * tito course ...: an instructor's commands for the course as a whole.
 *
 *   tito course release OUT    what students install: tito, the kit (headers, starters,
 *                              guides, visible checks; hidden checks and the reference
 *                              compiled only), the course file; searched for solution
 *                              text before it is put in place (grader/release.h)
 *   tito course verify         regrade what students reported to the leaderboard at the
 *                              commits they name; mark the matching ones verified with
 *                              the course key, list the others (grader/verify.h)
 *
 * Exit status: 0 done (every claim verified); 1 a release refused for solution text, or
 * claims that did not verify; 2 usage; 3+ the system.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "fsutil.h"
#include "interrupt.h"
#include "kit.h"
#include "release.h"
#include "roster.h"
#include "submit.h"
#include "term.h"
#include "tito.h"
#include "verify.h"

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

/* The course source tree: `given`, else the nearest folder from the current one up
 * that holds reference/modules.def. False when there is none. */
static bool find_source_tree(char *buf, size_t size, const char *given)
{
    char probe[4300];
    if (given) {
        snprintf(buf, size, "%s", given);
        snprintf(probe, sizeof probe, "%s/reference/modules.def", buf);
        return tito_path_exists(probe);
    }
    if (!getcwd(buf, size))
        return false;
    for (;;) {
        snprintf(probe, sizeof probe, "%s/reference/modules.def", buf);
        if (tito_path_exists(probe))
            return true;
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            return false;
        *slash = '\0';
    }
}

/* ------------------------------------------------------------ release */

int cmd_course_release(int argc, char **argv, tito_context *ctx)
{
    const char *root = NULL;
    bool no_check = false;
    const tito_option options[] = {
        TITO_OPT_STRING(0, "root", &root, "DIR",
                        "the course source tree whose reference/src must not leak (default: "
                        "the nearest folder, from the current one up, that holds "
                        "reference/modules.def)"),
        TITO_OPT_BOOL(0, "no-check", &no_check,
                      "release without searching for solution text (no source tree at hand)"),
        TITO_OPT_END,
    };
    int rc = tito_parse_options(ctx, &argc, argv, options);
    if (rc >= 0)
        return rc;
    if (argc != 2)
        return usage(ctx, argc < 2 ? "where to? `tito course release OUT`" : "unexpected argument '%s'",
                     argc < 2 ? "" : argv[2]);
    char tree[4096];
    bool have_tree = !no_check && find_source_tree(tree, sizeof tree, root);
    if (!no_check && !have_tree) {
        if (root)
            return usage(ctx, "--root %s: not a TinyTorch-C source tree (no reference/modules.def in it)",
                         root);
        return usage(ctx, "no course source tree here to check the release against: run it "
                          "in the source tree, give --root DIR, or pass --no-check");
    }

    tito_kit *kit = NULL;
    tt_status st = tito_kit_locate(&kit);
    if (st != TT_OK)
        return tito_fail(st);
    tito_release_options ro = {.out_dir = argv[1], .source_root = have_tree ? tree : NULL};
    tito_release_report report;
    st = tito_release_make(&report, kit, ctx->course, &ro);
    tito_kit_free(kit);
    FILE *f = stdout;
    if (st == TT_ERR_STATE && report.n_leaks > 0) {
        tito_error("%s", tt_error_last());
        for (size_t i = 0; i < report.n_leaks && i < 20; i++)
            fprintf(stderr, "  %s:%zu: %s\n      (%s)\n", report.leaks[i].file, report.leaks[i].line,
                    report.leaks[i].text, report.leaks[i].origin);
        if (report.n_leaks > 20)
            fprintf(stderr, "  ... and %zu more\n", report.n_leaks - 20);
        fprintf(stderr, "Take the solution text out of those files (or fence it in reference/src) "
                        "and release again.\n");
        tito_release_report_release(&report);
        return TITO_EXIT_FAILED;
    }
    if (st != TT_OK) {
        tito_release_report_release(&report);
        return tito_fail(st);
    }
    fprintf(f, "Released %s%s%s to %s: %zu files", tito_sgr(f, TITO_STYLE_BOLD), ctx->course->title,
            tito_sgr(f, TITO_STYLE_RESET), argv[1], report.files);
    if (report.bytes)
        fprintf(f, ", %.1f MB", (double)report.bytes / 1e6);
    fprintf(f, "\n  bin/tito, share/tinytorch/kit/, share/tinytorch/course.json (course %s), "
               "README.md, SHA256SUMS\n",
            ctx->course->id);
    if (have_tree)
        fprintf(f, "  %sno solution text%s: %zu lines of the solution regions of %s/reference/src "
                   "searched for in %zu text files (the other %zu are compiled)\n",
                tito_sgr(f, TITO_STYLE_GREEN), tito_sgr(f, TITO_STYLE_RESET), report.solution_lines,
                tree, report.scanned, report.files - report.scanned);
    else
        fprintf(f, "  %snot searched for solution text%s (--no-check)\n",
                tito_sgr(f, TITO_STYLE_YELLOW), tito_sgr(f, TITO_STYLE_RESET));
    fprintf(f, "Students: put %s/bin on their PATH (see %s/README.md).\n", argv[1], argv[1]);
    tito_release_report_release(&report);
    return TITO_EXIT_OK;
}

/* ------------------------------------------------------------ verify */

static void print_milestone_check(void *ctx, const tito_claim *c, bool done, double seconds)
{
    (void)ctx;
    if (!done)
        fprintf(stderr, "  running milestone %s on %s's modules at %.7s …\n", c->milestone->slug,
                c->student, c->commit);
    else
        fprintf(stderr, "  milestone %s for %s at %.7s: %s (%.1f s)\n", c->milestone->slug,
                c->student, c->commit,
                c->outcome == TITO_CLAIM_VERIFIED || c->outcome == TITO_CLAIM_MISMATCH
                    ? (c->regraded_reached ? "reached" : "not reached")
                    : (c->message ? c->message : tito_claim_outcome_name(c->outcome)),
                seconds);
}

static void print_progress(void *ctx, const tito_batch_progress *p)
{
    (void)ctx;
    if (p->ok)
        fprintf(stderr, "  [%zu/%zu] regraded %s %s %.7s: %d/%d\n", p->done, p->total, p->job->student,
                p->job->module->slug, p->job->commit, p->earned, p->possible);
    else
        fprintf(stderr, "  [%zu/%zu] %s %s %.7s: could not be graded: %s\n", p->done, p->total,
                p->job->student, p->job->module->slug, p->job->commit, p->message ? p->message : "");
}

int cmd_course_verify(int argc, char **argv, tito_context *ctx)
{
    const char *roster_path = NULL, *claims_path = NULL, *server = NULL, *key_path = NULL;
    const char *out = NULL, *jobs_text = NULL, *tolerance_text = NULL;
    bool no_fetch = false, dry_run = false;
    const tito_option options[] = {
        TITO_OPT_STRING(0, "roster", &roster_path, "ROSTER",
                        "the class roster (its key_id column matches leaderboard keys to students)"),
        TITO_OPT_STRING(0, "claims", &claims_path, "FILE",
                        "check the claims of a tito-claims/1 file instead of the leaderboard's"),
        TITO_OPT_STRING(0, "server", &server, "URL",
                        "the leaderboard (default: the course file's leaderboard.url)"),
        TITO_OPT_STRING(0, "key", &key_path, "FILE",
                        "the course key (tito-leaderboard course key --generate FILE): sign and "
                        "send the verifications"),
        TITO_OPT_STRING('o', "out", &out, "DIR",
                        "where clones and receipts go (default: grades, shared with tito grade "
                        "--batch)"),
        TITO_OPT_STRING('j', "jobs", &jobs_text, "N", "regrade N submissions at once (default: "
                                                      "the number of cores)"),
        TITO_OPT_STRING(0, "tolerance", &tolerance_text, "POINTS",
                        "a regrade within this many points verifies the claim (default 0)"),
        TITO_OPT_BOOL(0, "no-fetch", &no_fetch, "use the repositories fetched before, as they are"),
        TITO_OPT_BOOL(0, "dry-run", &dry_run, "compare only; send nothing"),
        TITO_OPT_END,
    };
    int rc = tito_parse_options(ctx, &argc, argv, options);
    if (rc >= 0)
        return rc;
    if (argc > 1)
        return usage(ctx, "unexpected argument '%s'", argv[1]);
    if (!roster_path)
        return usage(ctx, "which students? --roster ROSTER");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = (unsigned)(cores > 0 ? cores : 1);
    if (jobs_text) {
        long v = 0;
        if (!tito_parse_count(jobs_text, 1, 256, &v))
            return usage(ctx, "--jobs expects a number from 1 to 256, not '%s'", jobs_text);
        workers = (unsigned)v;
    }
    int tolerance = 0;
    if (tolerance_text) {
        long v = 0;
        if (!tito_parse_count(tolerance_text, 0, 100000, &v))
            return usage(ctx, "--tolerance expects a whole number of points, not '%s'", tolerance_text);
        tolerance = (int)v;
    }
    const char *url = server ? server : ctx->course->leaderboard_url;
    bool publish = key_path && !dry_run;
    if ((!claims_path || publish) && (!url || !*url))
        return usage(ctx, "which leaderboard? the course file names none: --server URL");

    tito_keypair key;
    memset(&key, 0, sizeof key);
    char course_id[128];
    snprintf(course_id, sizeof course_id, "%s", ctx->course->id);
    tito_roster *roster = NULL;
    tito_kit *kit = NULL;
    tito_claims claims = {0};
    tt_status st = TT_OK;
    if (key_path) {
        if ((st = tito_course_key_load(&key, course_id, sizeof course_id, key_path)) != TT_OK)
            return tito_fail(st);
        if (strcmp(course_id, ctx->course->id) != 0)
            tito_warning("the course key is for course %s; this course file is %s: verifying %s",
                         course_id, ctx->course->id, course_id);
    }
    if ((st = tito_roster_load(&roster, roster_path)) != TT_OK ||
        (st = tito_kit_locate(&kit)) != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }
    if (claims_path) {
        st = tito_claims_read(&claims, claims_path);
    } else {
        json_t *ranking = NULL;
        st = tito_ranking_fetch(&ranking, url, course_id);
        if (st == TT_OK)
            st = tito_claims_from_ranking(&claims, ranking);
        json_decref(ranking);
    }
    if (st != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }
    fprintf(stderr, "%zu self-reported result%s to check (%s)\n", claims.n, claims.n == 1 ? "" : "s",
            claims_path ? claims_path : url);

    tito_verify_options vo = {.out_dir = out ? out : "grades", .tolerance = tolerance,
                              .no_fetch = no_fetch, .workers = workers,
                              .tito_version = TITO_VERSION, .on_progress = print_progress,
                              .on_milestone = print_milestone_check,
                              .stop = &tito_interrupt_caught};
    tito_batch_stats stats;
    if ((st = tito_verify_run(&claims, &stats, roster, ctx->course, kit, &vo)) != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }
    /* Stopped half-way: nothing is published; the receipts made so far stay in the
     * batch folder, so the same command goes on where this one stopped. */
    if (stats.interrupted || tito_interrupt_caught) {
        tito_error("interrupted: %zu regrade%s done, nothing published; run the same command "
                   "again to go on",
                   stats.graded, stats.graded == 1 ? "" : "s");
        rc = tito_exit_for_signal(tito_interrupt_caught);
        goto done;
    }
    if (publish && (st = tito_verify_publish(&claims, url, course_id, &key, time(NULL))) != TT_OK) {
        rc = tito_fail(st);
        goto done;
    }

    FILE *f = stdout;
    size_t counts[TITO_CLAIM_ERROR + 1] = {0}, posted = 0, unposted = 0;
    for (size_t i = 0; i < claims.n; i++) {
        const tito_claim *c = &claims.v[i];
        counts[c->outcome]++;
        bool ok = c->outcome == TITO_CLAIM_VERIFIED;
        posted += c->posted;
        unposted += ok && publish && !c->posted;
        fprintf(f, "  %s%-15s%s %-12s %-16s %.7s  ", tito_sgr(f, ok ? TITO_STYLE_GREEN : TITO_STYLE_RED),
                tito_claim_outcome_name(c->outcome), tito_sgr(f, TITO_STYLE_RESET),
                *c->student ? c->student : "?", c->module ? c->module->slug : c->milestone->slug,
                c->commit);
        bool compared = ok || c->outcome == TITO_CLAIM_MISMATCH;
        if (c->milestone) {
            fprintf(f, "claimed %s", c->reached ? "reached" : "not reached");
            if (compared)
                fprintf(f, "  regraded %s", c->regraded_reached ? "reached" : "not reached");
        } else {
            fprintf(f, "claimed %3d/%-3d", c->earned, c->possible);
            if (compared)
                fprintf(f, "  regraded %3d/%-3d", c->regraded_earned, c->regraded_possible);
        }
        if ((!compared || c->milestone) && c->outcome != TITO_CLAIM_VERIFIED && c->message)
            fprintf(f, "  %s", c->message);
        if (ok && publish)
            fprintf(f, "  %s", c->posted ? "sent" : c->post_message ? c->post_message : "not sent");
        if (!*c->student && *c->key_id)
            fprintf(f, "  (key %.12s)", c->key_id);
        fputc('\n', f);
    }
    fprintf(f, "%zu verified%s, %zu mismatch%s, %zu unknown student%s, %zu not checkable, %zu not "
               "graded\n",
            counts[TITO_CLAIM_VERIFIED], publish ? "" : " (nothing sent: --key FILE sends them)",
            counts[TITO_CLAIM_MISMATCH], counts[TITO_CLAIM_MISMATCH] == 1 ? "" : "es",
            counts[TITO_CLAIM_UNKNOWN_STUDENT], counts[TITO_CLAIM_UNKNOWN_STUDENT] == 1 ? "" : "s",
            counts[TITO_CLAIM_NOT_CHECKABLE], counts[TITO_CLAIM_ERROR]);
    if (publish)
        fprintf(f, "%zu verification%s sent to %s%s\n", posted, posted == 1 ? "" : "s", url,
                unposted ? "; some were not (see above): run again to retry" : "");
    rc = counts[TITO_CLAIM_VERIFIED] == claims.n && unposted == 0 ? TITO_EXIT_OK : TITO_EXIT_FAILED;
done:
    tito_keypair_wipe(&key);
    tito_claims_release(&claims);
    tito_kit_free(kit);
    tito_roster_free(roster);
    return rc;
}
