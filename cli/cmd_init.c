/*
 * tito init DIR: a new student workspace (grader/workspace.h) for the course in effect.
 *
 * Exit status: 0 made; 2 DIR cannot be used (not empty, already a workspace, inside
 * one) or a usage error; 3 files; 4 a malformed --course file.
 */
#include <stdio.h>

#include "course.h"
#include "term.h"
#include "tito.h"
#include "workspace.h"

int cmd_init(int argc, char **argv, tito_context *ctx)
{
    const tito_option options[] = {TITO_OPT_END};
    int st = tito_parse_options(ctx, &argc, argv, options);
    if (st >= 0)
        return st;
    if (argc != 2) {
        if (argc < 2)
            tito_error("which directory? `tito init DIR` makes the workspace DIR");
        else
            tito_error("unexpected argument '%s'", argv[2]);
        tito_print_usage(ctx->command, true);
        return TITO_EXIT_USAGE;
    }
    const char *dir = argv[1];
    const tito_course *course = ctx->course;

    tito_material mat;
    tt_status ts = tito_material_locate(&mat);
    if (ts != TT_OK)
        return tito_fail(ts);
    tito_workspace *ws = NULL;
    ts = tito_workspace_init(&ws, dir, course, &mat);
    if (ts != TT_OK)
        return tito_fail(ts);

    char head[41] = "";
    ts = tito_workspace_head(ws, head);
    tito_workspace_free(ws);
    if (ts != TT_OK)
        return tito_fail(ts);

    printf("Created workspace %s%s%s (course: %s, %zu modules)\n", tito_sgr(stdout, TITO_STYLE_CYAN),
           dir, tito_sgr(stdout, TITO_STYLE_RESET), course->title, course->n_modules);
    printf("  a git repository: first commit %.7s \"tito: start workspace for %s\"\n", head,
           course->title);
    printf("  README.md (next steps), include/tinytorch/ (the headers), " TITO_WORKSPACE_COURSE
           "\n");
    printf("Next: %scd %s && tito module start %02d%s\n", tito_sgr(stdout, TITO_STYLE_BOLD), dir,
           tito_modules[0].number, tito_sgr(stdout, TITO_STYLE_RESET));
    return TITO_EXIT_OK;
}
