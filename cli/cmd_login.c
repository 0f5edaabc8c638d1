/*
 * tito login / tito logout: a student's identity on the course leaderboard
 * (grader/identity.h, docs/leaderboard.md).
 *
 *   tito login [URL] TOKEN [--name NAME] [--force]
 *       make an Ed25519 key pair, keep it in ${XDG_CONFIG_HOME:-~/.config}/tito (0600),
 *       and enroll its public key on the leaderboard at URL (default: the course file's
 *       leaderboard URL) with the one-time enrollment token from the instructor
 *   tito logout
 *       forget the key (the server keeps what was submitted with it)
 *
 * Exit status: 0 done; 1 refused (already logged in, the server refused the token);
 * 2 usage; 3+ files and such; 7 the server could not be reached (the new key is kept, so
 * running the same command again finishes the login).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "course.h"
#include "identity.h"
#include "outbox.h"
#include "submit.h"
#include "term.h"
#include "tito.h"

static int usage(const tito_context *ctx, const char *message)
{
    tito_error("%s", message);
    tito_print_usage(ctx->command, true);
    return TITO_EXIT_USAGE;
}

/* Plain http is fine on this machine (a local server, tests); elsewhere it sends the
 * enrollment token in the clear. */
static bool is_loopback(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost", 9) == 0 || strncmp(host, "[::1]", 5) == 0;
}

int cmd_login(int argc, char **argv, tito_context *ctx)
{
    const char *name = NULL;
    bool force = false;
    const tito_option options[] = {
        TITO_OPT_STRING(0, "name", &name, "NAME", "the name the ranking shows (default: the one your instructor "
                                                  "gave the token)"),
        TITO_OPT_BOOL(0, "force", &force, "replace the key you are logged in with"),
        TITO_OPT_END,
    };
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    const char *url_arg = NULL, *token = NULL;
    if (argc == 3) {
        url_arg = argv[1];
        token = argv[2];
    } else if (argc == 2) {
        token = argv[1];
        url_arg = ctx->course && ctx->course->leaderboard_url ? ctx->course->leaderboard_url : "";
        if (!*url_arg)
            return usage(ctx, "which leaderboard? the course file names none: `tito login URL TOKEN`");
    } else {
        return usage(ctx, argc < 2 ? "`tito login URL TOKEN`: the token comes from your instructor"
                                   : "too many arguments");
    }
    char url[1024];
    tt_status ts = tito_url_normalize(url, sizeof url, url_arg);
    if (ts != TT_OK)
        return usage(ctx, tt_error_last());

    tito_identity *id = NULL;
    bool found = false;
    ts = tito_identity_load(&id, &found);
    if (ts != TT_OK)
        return tito_fail(ts);
    if (found && id->enrolled && !force) {
        tito_error("already logged in to %s as %s (key %.8s...): `tito logout` first, or --force to replace that "
                   "key",
                   id->url, id->name, id->key_id);
        tito_identity_free(id);
        return TITO_EXIT_FAILED;
    }
    /* A login that got no answer left its key: present the same key again, so a server
     * that did enroll it recognises the retry. */
    bool resumed = found && !id->enrolled && strcmp(id->url, url) == 0;
    if (!resumed) {
        tito_identity_free(id);
        id = NULL;
        ts = tito_identity_new(&id, url);
        if (ts == TT_OK)
            ts = tito_identity_save(id);
        if (ts != TT_OK) {
            tito_identity_free(id);
            return tito_fail(ts);
        }
    }
    if (!is_loopback(url) && strncmp(url, "http://", 7) == 0)
        tito_warning("%s is plain http: the token and your submissions travel unencrypted", url);

    tito_enroll_result res;
    ts = tito_enroll(&res, id, token, name);
    int status = TITO_EXIT_OK;
    char path[4200] = "";
    tito_identity_path(path, sizeof path);
    if (ts != TT_OK) {
        status = tito_fail(ts);
    } else if (res.status == 200 || res.status == 201) {
        ts = tito_identity_save(id);
        if (ts != TT_OK) {
            status = tito_fail(ts);
        } else {
            printf("Logged in to %s as %s%s%s, course %s (%s).\n", id->url, tito_sgr(stdout, TITO_STYLE_BOLD),
                   id->name, tito_sgr(stdout, TITO_STYLE_RESET), id->course_title, id->course_id);
            printf("  key %.16s... (Ed25519); the private key is in %s (mode 0600)\n", id->key_id, path);
            printf("Next: `tito grade N`, then `tito submit`.\n");
        }
    } else if (res.status == 0 || res.status == 429 || res.status >= 500) {
        tito_error("%s", res.message);
        fprintf(stderr, "The new key is kept: run the same command again to finish logging in.\n");
        status = TITO_EXIT_NETWORK;
    } else {
        bool removed = false;
        tito_identity_remove(&removed);
        tito_error("%s refused the enrollment (%s): %s", id->url, res.code[0] ? res.code : "no code", res.message);
        status = TITO_EXIT_FAILED;
    }
    tito_identity_free(id);
    return status;
}

int cmd_logout(int argc, char **argv, tito_context *ctx)
{
    const tito_option options[] = {TITO_OPT_END};
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if (argc > 1)
        return usage(ctx, "`tito logout` takes no arguments");
    tito_identity *id = NULL;
    bool found = false;
    tt_status ts = tito_identity_load(&id, &found);
    /* A key file others may read is still ours to delete. */
    if (ts != TT_OK && ts != TT_ERR_STATE && ts != TT_ERR_FORMAT)
        return tito_fail(ts);
    bool removed = false;
    ts = tito_identity_remove(&removed);
    if (ts != TT_OK) {
        tito_identity_free(id);
        return tito_fail(ts);
    }
    if (!removed) {
        printf("Not logged in: there was no key to forget.\n");
        return TITO_EXIT_OK;
    }
    if (id)
        printf("Logged out: forgot key %.16s... for %s (%s).\n", id->key_id, id->url, id->name);
    else
        printf("Logged out: removed the identity file.\n");
    tito_identity_free(id);
    tito_outbox box;
    size_t waiting = 0;
    if (tito_outbox_open(&box, NULL) == TT_OK) {
        if (tito_outbox_count(&box, &waiting) == TT_OK && waiting > 0)
            printf("%zu signed submission%s still wait%s in %s/outbox: `tito submit` sends %s after you log in "
                   "again.\n",
                   waiting, waiting == 1 ? "" : "s", waiting == 1 ? "s" : "", box.root,
                   waiting == 1 ? "it" : "them");
        tito_outbox_close(&box);
    }
    return TITO_EXIT_OK;
}
