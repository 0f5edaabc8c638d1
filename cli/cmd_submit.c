/*
 * tito submit / tito leaderboard: sending signed receipts to the course leaderboard,
 * and reading the ranking (grader/submit.h, grader/outbox.h, docs/leaderboard.md).
 *
 *   tito submit [N|NAME|all] [--again]
 *       sign the workspace's receipts (the .json files of .tito/results: module N's, a milestone's
 *       such as milestone_03, or all of them, the default) into the outbox, then send
 *       everything the outbox holds, oldest first. A receipt already accepted unchanged
 *       is not signed again unless --again. What cannot be sent now stays queued for
 *       the next `tito submit`.
 *   tito leaderboard [--json] [--url URL --course ID]
 *       the course's ranking, from the server you are logged in to
 *
 * Exit status: 0 everything sent and accepted; 1 the server refused a submission for
 * good (or there is no receipt to send); 2 usage (not logged in); 3+ files and such;
 * 7 some submissions could not be sent and stay queued.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "identity.h"
#include "modules.h"
#include "outbox.h"
#include "submit.h"
#include "term.h"
#include "tito.h"
#include "workspace.h"

static int usage(const tito_context *ctx, const char *message)
{
    tito_error("%s", message);
    tito_print_usage(ctx->command, true);
    return TITO_EXIT_USAGE;
}

/* The logged-in identity, or NULL after saying how to log in. *status gets the exit
 * status to return when NULL. */
static tito_identity *logged_in(int *status)
{
    tito_identity *id = NULL;
    bool found = false;
    tt_status ts = tito_identity_load(&id, &found);
    if (ts != TT_OK) {
        *status = tito_fail(ts);
        return NULL;
    }
    if (!found || !id->enrolled) {
        if (found)
            tito_error("the login to %s did not finish: run `tito login %s TOKEN` again", id->url, id->url);
        else
            tito_error("not logged in: run `tito login URL TOKEN` with the enrollment token from your instructor");
        tito_identity_free(id);
        *status = TITO_EXIT_USAGE;
        return NULL;
    }
    return id;
}

/* Text from a server, for the terminal: control characters become '?'. */
static void print_clean(const char *s, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            putchar('?');
        } else {
            putchar(*p);
        }
        if ((*p & 0xC0) != 0x80)
            chars++;
    }
    for (; chars < width; chars++)
        putchar(' ');
}

/* ---------------------------------------------------------------- choosing receipts */

typedef struct receipt_list {
    char (*paths)[4200];
    size_t n;
} receipt_list;

static int cmp_paths(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The receipts `which` names ("all", a module, or a file's base name) under results/. */
static tt_status choose_receipts(receipt_list *out, const tito_workspace *ws, const char *which, bool *named_missing)
{
    memset(out, 0, sizeof *out);
    *named_missing = false;
    char dir_path[4096];
    tt_status st = tito_workspace_path(dir_path, sizeof dir_path, ws, ".tito/results");
    if (st != TT_OK)
        return st;
    if (strcmp(which, "all") != 0) {
        const tito_module *m = tito_module_find(which);
        out->paths = calloc(1, sizeof *out->paths);
        if (!out->paths)
            return tt_error_set(TT_ERR_NOMEM, "no memory");
        int n = snprintf(out->paths[0], sizeof out->paths[0], "%s/%s.json", dir_path, m ? m->slug : which);
        if (n < 0 || (size_t)n >= sizeof out->paths[0] || strchr(which, '/'))
            return tt_error_set(TT_ERR_INVALID_ARG, "no receipt named %s", which);
        out->n = 1;
        *named_missing = !tito_path_exists(out->paths[0]);
        return TT_OK;
    }
    DIR *dir = opendir(dir_path);
    if (!dir) {
        if (errno == ENOENT)
            return TT_OK;
        return tt_error_set(TT_ERR_IO, "cannot read %s: %s", dir_path, strerror(errno));
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            void *p = realloc(out->paths, cap * sizeof *out->paths);
            if (!p) {
                closedir(dir);
                return tt_error_set(TT_ERR_NOMEM, "no memory");
            }
            out->paths = p;
        }
        snprintf(out->paths[out->n++], sizeof out->paths[0], "%s/%s", dir_path, de->d_name);
    }
    closedir(dir);
    qsort(out->paths, out->n, sizeof *out->paths, cmp_paths);
    return TT_OK;
}

/* Sign the chosen receipts into the outbox. Returns how many were queued; *unchanged
 * counts those skipped. */
static tt_status queue_receipts(const receipt_list *list, tito_outbox *box, const tito_identity *id, bool again,
                                size_t *queued, size_t *unchanged)
{
    *queued = *unchanged = 0;
    tt_status st = TT_OK;
    for (size_t i = 0; i < list->n && st == TT_OK; i++) {
        const char *path = list->paths[i];
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        char *text = NULL;
        size_t len = 0;
        st = tito_file_read(&text, &len, path);
        if (st != TT_OK)
            break;
        tito_outbox_entry e;
        memset(&e, 0, sizeof e);
        tito_sha256_hex(e.receipt_sha256, text, len);
        bool sent = false, waiting = false;
        st = tito_outbox_has(box, id->url, id->key_id, e.receipt_sha256, &sent, &waiting);
        if (st == TT_OK && (waiting || (sent && !again))) {
            printf("  %-22s %s\n", base, waiting ? "already queued" : "unchanged since it was accepted (--again sends it anyway)");
            (*unchanged)++;
            free(text);
            continue;
        }
        if (st == TT_OK) {
            time_t now = time(NULL);
            st = tito_submission_make(&e.envelope, &e.envelope_len, e.id, e.subject, sizeof e.subject, id, text, len,
                                      now);
            if (st == TT_ERR_FORMAT) {
                tito_warning("%s is not a receipt tito can send (%s): skipped", path, tt_error_last());
                st = TT_OK;
                free(text);
                continue;
            }
        }
        if (st == TT_OK) {
            snprintf(e.url, sizeof e.url, "%s", id->url);
            snprintf(e.key_id, sizeof e.key_id, "%s", id->key_id);
            struct tm tm;
            time_t now = time(NULL);
            gmtime_r(&now, &tm);
            strftime(e.queued_at, sizeof e.queued_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
            st = tito_outbox_add(box, &e);
            if (st == TT_OK) {
                printf("  %-22s signed (%s, id %.8s)\n", base, e.subject, e.id);
                (*queued)++;
            }
        }
        free(e.envelope);
        free(text);
    }
    return st;
}

/* ---------------------------------------------------------------- sending */

typedef struct send_totals {
    size_t accepted, rejected, waiting;
} send_totals;

static void describe_ack(const char *ack_text)
{
    json_t *ack = json_loads(ack_text ? ack_text : "null", JSON_DECODE_ANY, NULL);
    json_t *score = json_object_get(ack, "score");
    json_t *reached = json_object_get(ack, "reached");
    if (json_is_object(score))
        printf(" %lld/%lld", (long long)json_integer_value(json_object_get(score, "earned")),
               (long long)json_integer_value(json_object_get(score, "possible")));
    else if (json_is_boolean(reached))
        printf(" %s", json_is_true(reached) ? "reached" : "not reached");
    const char *status = json_string_value(json_object_get(ack, "status"));
    if (status)
        printf(", %s", status);
    json_decref(ack);
}

static tt_status send_outbox(tito_outbox *box, send_totals *t)
{
    memset(t, 0, sizeof *t);
    tito_outbox_entry *entries = NULL;
    size_t n = 0, skipped = 0;
    tt_status st = tito_outbox_list(box, &entries, &n, &skipped);
    if (st != TT_OK)
        return st;
    if (skipped)
        tito_warning("%zu file%s in %s/outbox %s not a submission: moved to outbox/rejected/", skipped,
                     skipped == 1 ? "" : "s", box->root, skipped == 1 ? "was" : "were");
    if (n > 0)
        printf("Sending %zu submission%s:\n", n, n == 1 ? "" : "s");
    /* A server that cannot be reached (or asks to slow down) once in this run is not
     * asked again for the other entries: they wait for the next run. */
    char down[8][1024];
    size_t n_down = 0;
    for (size_t i = 0; i < n && st == TT_OK; i++) {
        tito_outbox_entry *e = &entries[i];
        bool skip = false;
        for (size_t k = 0; k < n_down; k++)
            skip = skip || strcmp(down[k], e->url) == 0;
        if (skip) {
            t->waiting++;
            continue;
        }
        tito_send_result r;
        st = tito_submission_send(&r, e->url, e->envelope, e->envelope_len);
        if (st != TT_OK)
            break;
        printf("  %-22s ", e->subject);
        switch (r.outcome) {
        case TITO_SEND_ACCEPTED:
        case TITO_SEND_DUPLICATE:
            printf("%saccepted%s", tito_sgr(stdout, TITO_STYLE_GREEN), tito_sgr(stdout, TITO_STYLE_RESET));
            describe_ack(r.ack);
            printf("%s\n", r.outcome == TITO_SEND_DUPLICATE ? " (the server had it already)" : "");
            st = tito_outbox_done(box, e, r.ack);
            t->accepted++;
            break;
        case TITO_SEND_REJECTED: {
            char reason[700];
            snprintf(reason, sizeof reason, "HTTP %ld %s: %s", r.status, r.code, r.message);
            printf("%srejected%s: ", tito_sgr(stdout, TITO_STYLE_RED), tito_sgr(stdout, TITO_STYLE_RESET));
            print_clean(reason, 0);
            printf("\n%26s(kept in %s/outbox/rejected/)\n", "", box->root);
            st = tito_outbox_reject(box, e, reason);
            t->rejected++;
            break;
        }
        case TITO_SEND_RETRY:
            printf("%squeued%s: ", tito_sgr(stdout, TITO_STYLE_YELLOW), tito_sgr(stdout, TITO_STYLE_RESET));
            print_clean(r.message, 0);
            if (r.retry_after)
                printf(" (the server asks to wait %d s)", r.retry_after);
            printf("\n");
            t->waiting++;
            if (n_down < sizeof down / sizeof down[0])
                snprintf(down[n_down++], sizeof down[0], "%s", e->url);
            break;
        }
        tito_send_result_release(&r);
    }
    tito_outbox_entries_free(entries, n);
    return st;
}

/* "Rank 3 of 12 ..." and the page's address, from the server. */
static void print_rank(const tito_identity *id)
{
    json_t *doc = NULL;
    if (tito_ranking_fetch(&doc, id->url, id->course_id) != TT_OK) {
        tito_warning("the ranking is not available: %s", tt_error_last());
        return;
    }
    json_t *students = json_object_get(doc, "students"), *s;
    size_t i, ranked = 0;
    json_t *mine = NULL;
    json_array_foreach(students, i, s)
    {
        ranked += !json_is_null(json_object_get(s, "rank"));
        const char *k = json_string_value(json_object_get(s, "key_id"));
        if (k && strcmp(k, id->key_id) == 0)
            mine = s;
    }
    json_t *rank = json_object_get(mine, "rank");
    if (json_is_integer(rank))
        printf("Rank %lld of %zu (%s).\n", (long long)json_integer_value(rank), ranked,
               json_is_true(json_object_get(mine, "verified"))
                   ? "verified"
                   : "self-reported; verified after the instructor's run");
    printf("Page: %s/c/%s/s/%s\n", id->url, id->course_id, id->key_id);
    json_decref(doc);
}

int cmd_submit(int argc, char **argv, tito_context *ctx)
{
    bool again = false;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "again", &again, "sign and send receipts even when they were accepted unchanged"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if (argc > 2)
        return usage(ctx, "one receipt at a time: a module (01, tensor), a name (milestone_03), or all");
    const char *which = argc == 2 ? argv[1] : "all";
    int status = TITO_EXIT_OK;
    tito_identity *id = logged_in(&status);
    if (!id)
        return status;

    receipt_list list;
    bool named_missing = false;
    tito_outbox box;
    box.lock_fd = -1;
    tt_status ts = choose_receipts(&list, ctx->workspace, which, &named_missing);
    if (ts == TT_OK && named_missing) {
        tito_error("no receipt %s: `tito grade %s` (or `tito milestone run N`) makes one", list.paths[0], which);
        status = TITO_EXIT_FAILED;
        goto done;
    }
    if (ts == TT_OK)
        ts = tito_outbox_open(&box, NULL);
    size_t queued = 0, unchanged = 0;
    if (ts == TT_OK && list.n > 0) {
        printf("%zu receipt%s, for %s (key %.8s...) at %s:\n", list.n, list.n == 1 ? "" : "s", id->name,
               id->key_id, id->url);
        ts = queue_receipts(&list, &box, id, again, &queued, &unchanged);
    } else if (ts == TT_OK) {
        printf("No receipt in .tito/results yet: `tito grade N` makes one.\n");
    }
    send_totals t = {0, 0, 0};
    if (ts == TT_OK)
        ts = send_outbox(&box, &t);
    if (ts != TT_OK) {
        status = tito_fail(ts);
        goto done;
    }
    if (queued == 0 && t.accepted + t.rejected + t.waiting == 0)
        printf("Nothing to send.\n");
    if (t.waiting)
        printf("%zu submission%s queued in %s/outbox: the next `tito submit` sends %s.\n", t.waiting,
               t.waiting == 1 ? "" : "s", box.root, t.waiting == 1 ? "it" : "them");
    if (t.accepted || (list.n > 0 && t.waiting == 0))
        print_rank(id);
    /* No receipt and nothing else sent: the student has something to do first. */
    status = t.rejected                        ? TITO_EXIT_FAILED
             : t.waiting                       ? TITO_EXIT_NETWORK
             : list.n == 0 && t.accepted == 0 ? TITO_EXIT_FAILED
                                               : TITO_EXIT_OK;
done:
    tito_outbox_close(&box);
    free(list.paths);
    tito_identity_free(id);
    return status;
}

/* ---------------------------------------------------------------- the ranking */

int cmd_leaderboard(int argc, char **argv, tito_context *ctx)
{
    bool as_json = false;
    const char *url_opt = NULL, *course_opt = NULL;
    const tito_option options[] = {
        TITO_OPT_BOOL(0, "json", &as_json, "print the server's JSON (for scripts)"),
        TITO_OPT_STRING(0, "url", &url_opt, "URL", "another leaderboard than the one you are logged in to"),
        TITO_OPT_STRING(0, "course", &course_opt, "ID", "with --url: the course"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if (argc > 1)
        return usage(ctx, "`tito leaderboard` takes no arguments");
    if ((url_opt != NULL) != (course_opt != NULL))
        return usage(ctx, "--url and --course go together");
    tito_identity *id = NULL;
    char url[1024], course[80], me[TITO_KEY_ID_CHARS + 1] = "";
    if (url_opt) {
        tt_status ts = tito_url_normalize(url, sizeof url, url_opt);
        if (ts != TT_OK)
            return usage(ctx, tt_error_last());
        snprintf(course, sizeof course, "%s", course_opt);
        bool found = false;
        if (tito_identity_load(&id, &found) == TT_OK && found && strcmp(id->url, url) == 0)
            snprintf(me, sizeof me, "%s", id->key_id);
    } else {
        int status = TITO_EXIT_OK;
        id = logged_in(&status);
        if (!id)
            return status;
        snprintf(url, sizeof url, "%s", id->url);
        snprintf(course, sizeof course, "%s", id->course_id);
        snprintf(me, sizeof me, "%s", id->key_id);
    }
    tito_identity_free(id);
    json_t *doc = NULL;
    tt_status ts = tito_ranking_fetch(&doc, url, course);
    if (ts != TT_OK) {
        tito_error("%s", tt_error_last());
        return ts == TT_ERR_IO ? TITO_EXIT_NETWORK : tito_exit_for_status(ts);
    }
    if (as_json) {
        char *text = json_dumps(doc, JSON_INDENT(2));
        printf("%s\n", text ? text : "null");
        free(text);
        json_decref(doc);
        return text ? TITO_EXIT_OK : TITO_EXIT_NOMEM;
    }
    json_t *students = json_object_get(doc, "students"), *s;
    json_t *c = json_object_get(doc, "course");
    size_t i;
    printf("%s", tito_sgr(stdout, TITO_STYLE_BOLD));
    print_clean(json_string_value(json_object_get(c, "title")) ? json_string_value(json_object_get(c, "title")) : course,
                0);
    printf("%s: %zu enrolled, %zu module%s and %zu milestone%s submitted\n", tito_sgr(stdout, TITO_STYLE_RESET),
           json_array_size(students), json_array_size(json_object_get(doc, "modules")),
           json_array_size(json_object_get(doc, "modules")) == 1 ? "" : "s",
           json_array_size(json_object_get(doc, "milestones")),
           json_array_size(json_object_get(doc, "milestones")) == 1 ? "" : "s");
    printf("  %4s  %-28s %7s %8s %11s %9s  %s\n", "#", "student", "points", "modules", "milestones", "capstone",
           "status");
    json_array_foreach(students, i, s)
    {
        json_t *rank = json_object_get(s, "rank");
        const char *key = json_string_value(json_object_get(s, "key_id"));
        bool mine = key && strcmp(key, me) == 0;
        const char *style = mine ? tito_sgr(stdout, TITO_STYLE_BOLD) : "";
        if (json_is_integer(rank))
            printf("%s%s %4lld  ", style, mine ? ">" : " ", (long long)json_integer_value(rank));
        else
            printf("%s%s %4s  ", style, mine ? ">" : " ", "-");
        const char *name = json_string_value(json_object_get(s, "name"));
        print_clean(name ? name : "?", 28);
        json_t *cap = json_object_get(s, "capstone");
        char cap_text[16] = "";
        if (json_is_object(cap))
            snprintf(cap_text, sizeof cap_text, "%.4g", json_number_value(json_object_get(cap, "value")));
        printf(" %7lld %8zu %11lld %9s  %s%s\n",
               (long long)json_integer_value(json_object_get(json_object_get(s, "total"), "earned")),
               json_object_size(json_object_get(s, "modules")),
               (long long)json_integer_value(json_object_get(s, "milestones_reached")), cap_text,
               json_is_null(rank) ? "no submission yet"
               : json_is_true(json_object_get(s, "verified")) ? "verified"
                                                              : "self-reported",
               mine ? tito_sgr(stdout, TITO_STYLE_RESET) : "");
    }
    printf("Page: %s/c/%s\n", url, course);
    json_decref(doc);
    return TITO_EXIT_OK;
}
