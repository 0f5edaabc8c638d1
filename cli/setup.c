/*
 * The setup a command's flags ask for, done once here rather than in each command:
 * the course in effect (TITO_CMD_NEEDS_COURSE) and the student's workspace
 * (TITO_CMD_NEEDS_WORKSPACE, TITO_CMD_WANTS_WORKSPACE). tito_parse_options calls it
 * once the command line is read, so --help never needs a workspace.
 */
#include <stdbool.h>
#include <stdio.h>

#include "course.h"
#include "interrupt.h"
#include "term.h"
#include "tito.h"
#include "workspace.h"

int tito_fail(tt_status status)
{
    /* The error is the interrupt's doing, and main says so (tito_interrupted). */
    if (tito_interrupt_stopped())
        return tito_exit_for_signal(tito_interrupt_caught);
    tito_error("%s", tt_error_last());
    /* A refusal because of where tito was run or what DIR names: the command line
     * (or the current directory) is what to change. */
    if (status == TT_ERR_STATE)
        return TITO_EXIT_USAGE;
    return tito_exit_for_status(status);
}

int tito_interrupted(const char *done)
{
    static bool said;
    if (!said)
        fprintf(stderr, "interrupted: %s; your files are untouched\n",
                done ? done : "nothing was graded");
    said = true;
    return tito_exit_for_signal(tito_interrupt_caught);
}

int tito_setup_context(tito_context *ctx, const char *course_path)
{
    unsigned flags = ctx->command->flags;
    tt_status st = tito_course_resolve(&ctx->course, course_path);
    if (st != TT_OK)
        return tito_fail(st);
    if (!(flags & (TITO_CMD_NEEDS_WORKSPACE | TITO_CMD_WANTS_WORKSPACE)))
        return -1;

    char root[4096];
    st = tito_workspace_locate(root, sizeof root, ".");
    if (st == TT_ERR_STATE && !(flags & TITO_CMD_NEEDS_WORKSPACE))
        return -1; /* outside any workspace, and the command can do without one */
    if (st == TT_OK)
        st = tito_workspace_open(&ctx->workspace, root, ctx->course);
    if (st != TT_OK)
        return tito_fail(st);
    return -1;
}

void tito_release_context(tito_context *ctx)
{
    tito_workspace_free(ctx->workspace);
    ctx->workspace = NULL;
    tito_course_free(ctx->course);
    ctx->course = NULL;
}
