/*
 * tito dev ...: commands for the people who write the course, run in its source tree.
 *
 *   tito dev starters [--check]   student/ from reference/ (see grader/starter.h)
 */
#include <stdio.h>

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
