/*
 * tito: the TinyTorch-C command-line tool. This file is the front door: the one
 * command table, dispatch, `tito --help`, `tito help COMMAND` and `tito --version`.
 * Each command lives in cli/cmd_<group>.c; commands are thin over grader/, which
 * never prints or exits. Only cli/ decides what is shown and with which exit status.
 *
 * A command's name may have several words ("dev starters"); the longest name that
 * matches the start of the command line wins, so a group word alone ("tito dev")
 * lists the commands of that group.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "interrupt.h"
#include "term.h"
#include "tito.h"

#ifndef TITO_VERSION
#error "TITO_VERSION comes from the CMake project version (cli/CMakeLists.txt)"
#endif

static int cmd_help(int argc, char **argv, tito_context *ctx);

/* The commands, in the order `tito --help` lists them within each section. */
static const tito_command commands[] = {
    {"init", cmd_init, TITO_CMD_NEEDS_COURSE, "make a new workspace (a git repository) for the course",
     "DIR [--course FILE]"},
    {"module list", cmd_module_list, TITO_CMD_WANTS_WORKSPACE,
     "list the course's modules (in a workspace: with their state)", "[--json]"},
    {"module start", cmd_module_start, TITO_CMD_NEEDS_WORKSPACE,
     "get the starter and guide of module N (never overwrites your work)", "N"},
    {"module status", cmd_module_status, TITO_CMD_NEEDS_WORKSPACE,
     "show each module's state, best score and last grade", "[--json]"},
    {"module reset", cmd_module_reset, TITO_CMD_NEEDS_WORKSPACE,
     "save your work of module N on a backup branch, then restore its starter", "N [--yes]"},
    {"module test", cmd_module_test, TITO_CMD_NEEDS_WORKSPACE | TITO_CMD_INTERRUPTIBLE,
     "run the visible checks of module N (default: the one you worked on last); fast",
     "[N] [-k PATTERN] [--seed HEX] [--json | --format FORMAT] [--output FILE] [-v]"},
    {"grade", cmd_grade, TITO_CMD_NEEDS_WORKSPACE | TITO_CMD_INTERRUPTIBLE,
     "grade module N (or all): hidden checks, memory, speed; writes a receipt",
     "[N|all] [--json | --format gradescope|junit|csv] [--output FILE] [--seed HEX] "
     "[--deterministic] [--no-memcheck] [--no-speed] [-v]"},
    {"module complete", cmd_module_complete, TITO_CMD_NEEDS_WORKSPACE | TITO_CMD_INTERRUPTIBLE,
     "grade module N and mark it completed when it meets the course's pass bar",
     "N [--json] [--seed HEX] [--deterministic] [-v]"},
    {"milestone list", cmd_milestone_list, TITO_CMD_WANTS_WORKSPACE,
     "list the milestones: year, title, modules needed, bars (in a workspace: state)",
     "[--json]"},
    {"milestone run", cmd_milestone_run, TITO_CMD_NEEDS_WORKSPACE | TITO_CMD_INTERRUPTIBLE,
     "train milestone N with your own modules and check its bars", "N [--json] [--no-cache]"},
    {"milestone status", cmd_milestone_status, TITO_CMD_NEEDS_WORKSPACE,
     "show the milestones reached, with their figures and dates", "[--json]"},
    {"login", cmd_login, TITO_CMD_NEEDS_COURSE,
     "enroll on the course leaderboard with your instructor's token (makes your signing key)",
     "[URL] TOKEN [--name NAME] [--force]"},
    {"logout", cmd_logout, 0, "forget your leaderboard key", ""},
    {"submit", cmd_submit, TITO_CMD_NEEDS_WORKSPACE,
     "sign your receipts and send them to the leaderboard (queued when offline)",
     "[N|NAME|all] [--again]"},
    {"leaderboard", cmd_leaderboard, 0, "show the course's ranking",
     "[--json] [--url URL --course ID]"},
    {"course release", cmd_course_release, TITO_CMD_NEEDS_COURSE | TITO_CMD_INSTRUCTOR,
     "make what students install: tito and its kit (hidden checks and reference compiled only)",
     "OUT [--root DIR] [--no-check]"},
    {"course verify", cmd_course_verify,
     TITO_CMD_NEEDS_COURSE | TITO_CMD_INSTRUCTOR | TITO_CMD_INTERRUPTIBLE,
     "regrade the leaderboard's self-reported results at their commits; verify the matching ones",
     "--roster ROSTER [--key FILE] [--server URL] [--claims FILE] [--dry-run]"},
    {"dev starters", cmd_dev_starters, TITO_CMD_SOURCE_TREE | TITO_CMD_INSTRUCTOR,
     "regenerate student/ from reference/ (with --check: report any difference)",
     "[--check] [--root DIR]"},
    {"dev grade", cmd_dev_grade,
     TITO_CMD_INSTRUCTOR | TITO_CMD_NEEDS_COURSE | TITO_CMD_INTERRUPTIBLE,
     "grade FILE as module MODULE with the kit (no workspace needed)",
     "MODULE FILE [--seed HEX] [--hidden | --full [--deterministic]] [-k PATTERN] [--json] "
     "[--verbose]"},
    {"help", cmd_help, 0, "show the help of tito or of one command", "[COMMAND]"},
};
static const size_t n_commands = sizeof commands / sizeof commands[0];

/* How many words of argv (from argv[0]) the name `name` matches entirely; 0 if none. */
static int match_words(const char *name, int argc, char **argv)
{
    int words = 0;
    const char *p = name;
    while (*p) {
        if (words >= argc)
            return 0;
        size_t len = strcspn(p, " ");
        if (strlen(argv[words]) != len || strncmp(argv[words], p, len) != 0)
            return 0;
        words++;
        p += len;
        if (*p == ' ')
            p++;
    }
    return words;
}

static const tito_command *find_command(int argc, char **argv, int *words)
{
    const tito_command *best = NULL;
    *words = 0;
    for (size_t i = 0; i < n_commands; i++) {
        int w = match_words(commands[i].name, argc, argv);
        if (w > *words) {
            *words = w;
            best = &commands[i];
        }
    }
    return best;
}

/* The commands whose name starts with the words argv[0..argc) (a group). */
static bool in_group(const tito_command *c, int argc, char **argv)
{
    const char *p = c->name;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        if (strncmp(p, argv[i], len) != 0 || p[len] != ' ')
            return false;
        p += len + 1;
    }
    return true;
}

static void list_commands(FILE *f, unsigned want, int argc, char **argv)
{
    for (size_t i = 0; i < n_commands; i++) {
        const tito_command *c = &commands[i];
        if ((c->flags & TITO_CMD_HIDDEN) || (c->flags & TITO_CMD_INSTRUCTOR) != want)
            continue;
        if (argc > 0 && !in_group(c, argc, argv))
            continue;
        fprintf(f, "  %s%-16s%s %s\n", tito_sgr(f, TITO_STYLE_CYAN), c->name,
                tito_sgr(f, TITO_STYLE_RESET), c->summary);
    }
}

static void print_main_help(FILE *f)
{
    fprintf(f,
            "usage: tito [--version] [--help] <command> [<args>]\n"
            "\n"
            "tito builds, checks and grades the modules of TinyTorch-C, a machine-learning\n"
            "framework written in C one module at a time.\n"
            "\n");
    fprintf(f, "%sCommands:%s\n", tito_sgr(f, TITO_STYLE_BOLD), tito_sgr(f, TITO_STYLE_RESET));
    list_commands(f, 0, 0, NULL);
    fprintf(f, "\n%sCourse development (instructors):%s\n", tito_sgr(f, TITO_STYLE_BOLD),
            tito_sgr(f, TITO_STYLE_RESET));
    list_commands(f, TITO_CMD_INSTRUCTOR, 0, NULL);
    fprintf(f,
            "\n"
            "Run `tito help <command>` for the options of one command.\n"
            "Exit status: 0 done, 1 a check or grade failed, 2 usage error, 3 and above a\n"
            "system error (3 files, 4 malformed input, 5 memory, 6 internal, 7 network);\n"
            "130 stopped by Ctrl-C, 143 by SIGTERM.\n");
}

/* "tito dev" alone, or "tito help dev": the commands of a group. Returns false when
 * the words name no group. */
static bool print_group(FILE *f, int argc, char **argv)
{
    bool any = false;
    for (size_t i = 0; i < n_commands; i++)
        any = any || in_group(&commands[i], argc, argv);
    if (!any)
        return false;
    fprintf(f, "usage: tito");
    for (int i = 0; i < argc; i++)
        fprintf(f, " %s", argv[i]);
    fprintf(f, " <command> [<args>]\n\n");
    list_commands(f, 0, argc, argv);
    list_commands(f, TITO_CMD_INSTRUCTOR, argc, argv);
    return true;
}

static int run(const tito_command *c, int argc, char **argv)
{
    tito_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.command = c;
    if (c->flags & TITO_CMD_INTERRUPTIBLE) {
        tt_status st = tito_interrupt_catch();
        if (st != TT_OK)
            return tito_fail(st);
    }
    int status = c->run(argc, argv, &ctx);
    tito_release_context(&ctx);
    /* Whatever the command made of the stopped run (an error message, maybe), the
     * status is the signal's, and the line saying so is printed once. */
    if (tito_interrupt_stopped())
        status = tito_interrupted(NULL);
    return status;
}

/* `tito help [COMMAND...]`: the command's own --help, so the text comes from the
 * same option declarations that parse its command line. */
static int cmd_help(int argc, char **argv, tito_context *ctx)
{
    int n = argc;
    int st = tito_parse_options(ctx, &n, argv, NULL);
    if (st >= 0)
        return st;
    if (n <= 1) {
        print_main_help(stdout);
        return TITO_EXIT_OK;
    }
    int words = 0;
    const tito_command *c = find_command(n - 1, argv + 1, &words);
    if (c && words == n - 1) {
        char *help_argv[] = {argv[words], "--help", NULL};
        return run(c, 2, help_argv);
    }
    if (print_group(stdout, n - 1, argv + 1))
        return TITO_EXIT_OK;
    tito_error("no command '%s'; `tito --help` lists them", argv[1]);
    return TITO_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    tito_term_init();
    if (argc < 2) {
        print_main_help(stderr);
        return TITO_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
        print_main_help(stdout);
        return TITO_EXIT_OK;
    }
    if (strcmp(first, "--version") == 0) {
        printf("tito %s\n", TITO_VERSION);
        return TITO_EXIT_OK;
    }
    if (first[0] == '-') {
        tito_error("unknown option '%s'", first);
        fprintf(stderr, "usage: tito [--version] [--help] <command> [<args>]\n");
        return TITO_EXIT_USAGE;
    }

    int words = 0;
    const tito_command *c = find_command(argc - 1, argv + 1, &words);
    if (c)
        return run(c, argc - words, argv + words);

    /* Not a whole command: maybe the words of a group. */
    int group_words = 0;
    while (1 + group_words < argc && argv[1 + group_words][0] != '-')
        group_words++;
    for (int w = group_words; w > 0; w--) {
        bool help = w == group_words && 1 + w < argc &&
                    (strcmp(argv[1 + w], "--help") == 0 || strcmp(argv[1 + w], "-h") == 0);
        if (!help && w < group_words)
            tito_error("no command '%s %s'", argv[w], argv[w + 1]);
        if (print_group(help ? stdout : stderr, w, argv + 1))
            return help ? TITO_EXIT_OK : TITO_EXIT_USAGE;
    }
    tito_error("no command '%s'; `tito --help` lists them", first);
    return TITO_EXIT_USAGE;
}
