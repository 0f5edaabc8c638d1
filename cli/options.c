/*
 * The option parser shared by every tito command. Options are declared (name, kind,
 * where the value goes, help text), so the same declaration parses the command line
 * and writes the command's --help; a command cannot grow an option its help forgets.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "term.h"
#include "tito.h"

/* The flags under which a command takes --course. */
#define TITO_CMD_COURSE_FLAGS                                                            \
    (TITO_CMD_NEEDS_COURSE | TITO_CMD_NEEDS_WORKSPACE | TITO_CMD_WANTS_WORKSPACE)

void tito_print_usage(const tito_command *command, bool to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    fprintf(f, "usage: tito %s%s%s\n", command->name, command->args && *command->args ? " " : "",
            command->args ? command->args : "");
}

static void print_option(FILE *f, char short_name, const char *long_name, const char *value_name,
                         const char *help)
{
    char left[64];
    const char *sep = value_name ? " " : "";
    if (short_name)
        snprintf(left, sizeof left, "-%c, --%s%s%s", short_name, long_name, sep,
                 value_name ? value_name : "");
    else
        snprintf(left, sizeof left, "    --%s%s%s", long_name, sep, value_name ? value_name : "");
    fprintf(f, "  %-20s %s\n", left, help);
}

static void print_help(const tito_context *ctx, const tito_option *options)
{
    const tito_command *c = ctx->command;
    tito_print_usage(c, false);
    printf("\n%s.\n\noptions:\n", c->summary);
    for (const tito_option *o = options; o && o->kind != TITO_OPTION_END; o++)
        print_option(stdout, o->short_name, o->long_name, o->value_name, o->help);
    if (c->flags & TITO_CMD_SOURCE_TREE)
        print_option(stdout, 0, "root", "DIR",
                     "the course source tree (default: the nearest folder, from the current "
                     "one up, that holds reference/modules.def)");
    if (c->flags & TITO_CMD_COURSE_FLAGS)
        print_option(stdout, 0, "course", "FILE",
                     "the course file to use (default: $TITO_COURSE, else the course built "
                     "into tito)");
    print_option(stdout, 'h', "help", NULL, "show this help");
}

static bool is_source_tree(const char *dir)
{
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/reference/modules.def", dir);
    return access(probe, R_OK) == 0;
}

/* Fill ctx->root from --root or by walking up from the current directory. */
static int find_root(tito_context *ctx, const char *explicit_root)
{
    if (explicit_root) {
        int n = snprintf(ctx->root, sizeof ctx->root, "%s", explicit_root);
        if (n < 0 || (size_t)n >= sizeof ctx->root) {
            tito_error("--root: path too long");
            return TITO_EXIT_USAGE;
        }
        if (!is_source_tree(ctx->root)) {
            tito_error("--root %s: not a TinyTorch-C source tree (no reference/modules.def in it)",
                       explicit_root);
            return TITO_EXIT_USAGE;
        }
        return -1;
    }
    if (!getcwd(ctx->root, sizeof ctx->root)) {
        tito_error("cannot read the current directory");
        return TITO_EXIT_IO;
    }
    for (;;) {
        if (is_source_tree(ctx->root))
            return -1;
        char *slash = strrchr(ctx->root, '/');
        if (!slash || slash == ctx->root)
            break;
        *slash = '\0';
    }
    tito_error("not inside a TinyTorch-C source tree (no reference/modules.def here or in a "
               "parent folder); use --root DIR");
    return TITO_EXIT_USAGE;
}

static int usage_error(const tito_context *ctx, const char *what, const char *arg)
{
    tito_error("%s: %s", arg, what);
    tito_print_usage(ctx->command, true);
    fprintf(stderr, "Run `tito help %s` for the options.\n", ctx->command->name);
    return TITO_EXIT_USAGE;
}

int tito_parse_options(tito_context *ctx, int *argc, char **argv, const tito_option *options)
{
    const char *root = NULL, *course = NULL;
    bool wants_root = (ctx->command->flags & TITO_CMD_SOURCE_TREE) != 0;
    bool wants_course = (ctx->command->flags & TITO_CMD_COURSE_FLAGS) != 0;
    int kept = 1;
    bool options_done = false;

    for (int i = 1; i < *argc; i++) {
        char *arg = argv[i];
        /* "-1" is no option (none is a digit) but a wrong number the command should
         * name as such: `tito module start -1` says there is no module -1. */
        bool negative_number = arg[0] == '-' && isdigit((unsigned char)arg[1]);
        if (options_done || arg[0] != '-' || arg[1] == '\0' || negative_number) {
            argv[kept++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_help(ctx, options);
            return TITO_EXIT_OK;
        }

        /* Split "--name=value"; a short option is "-c" (no clustering: few options). */
        const char *name = NULL, *inline_value = NULL;
        size_t name_len = 0;
        char short_name = 0;
        if (arg[1] == '-') {
            name = arg + 2;
            const char *eq = strchr(name, '=');
            name_len = eq ? (size_t)(eq - name) : strlen(name);
            inline_value = eq ? eq + 1 : NULL;
        } else if (arg[2] == '\0') {
            short_name = arg[1];
        } else {
            return usage_error(ctx, "unknown option", arg);
        }

        if (wants_root && name && name_len == 4 && strncmp(name, "root", 4) == 0) {
            if (inline_value)
                root = inline_value;
            else if (i + 1 < *argc)
                root = argv[++i];
            else
                return usage_error(ctx, "needs a value (DIR)", arg);
            continue;
        }

        if (wants_course && name && name_len == 6 && strncmp(name, "course", 6) == 0) {
            if (inline_value)
                course = inline_value;
            else if (i + 1 < *argc)
                course = argv[++i];
            else
                return usage_error(ctx, "needs a value (FILE)", arg);
            continue;
        }

        const tito_option *o = options;
        for (; o && o->kind != TITO_OPTION_END; o++) {
            if (short_name && o->short_name == short_name)
                break;
            if (name && strlen(o->long_name) == name_len && strncmp(o->long_name, name, name_len) == 0)
                break;
        }
        if (!o || o->kind == TITO_OPTION_END)
            return usage_error(ctx, "unknown option", arg);

        if (o->kind == TITO_OPTION_BOOL) {
            if (inline_value)
                return usage_error(ctx, "takes no value", arg);
            *(bool *)o->value = true;
        } else {
            if (inline_value)
                *(const char **)o->value = inline_value;
            else if (i + 1 < *argc)
                *(const char **)o->value = argv[++i];
            else
                return usage_error(ctx, "needs a value", arg);
        }
    }
    argv[kept] = NULL;
    *argc = kept;

    if (wants_root) {
        int st = find_root(ctx, root);
        if (st >= 0)
            return st;
    }
    if (wants_course)
        return tito_setup_context(ctx, course);
    return -1;
}

bool tito_parse_count(const char *text, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}
