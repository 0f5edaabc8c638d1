/*
 * cli/tito.h: what every tito command file shares: the command table's entry type,
 * the context main() hands to a command, and the declarative option parser.
 *
 * A command is `int cmd_<group>_<verb>(int argc, char **argv, tito_context *ctx)` in
 * cli/cmd_<group>.c, listed once in the table in cli/main.c. argv[0] is the command's
 * last word ("starters"); the return value is the exit status (cli/exit_codes.h).
 * A command declares its options as a tito_option array and calls tito_parse_options,
 * which also answers --help from the table entry and the declarations, and does the
 * setup the entry's flags ask for (so each command does not repeat it).
 */
#ifndef TITO_TITO_H
#define TITO_TITO_H

#include <stdbool.h>

#include "exit_codes.h"

typedef struct tito_context tito_context;
typedef int (*tito_command_fn)(int argc, char **argv, tito_context *ctx);

/* Flags of a command table entry. */
enum tito_command_flags {
    /* Runs in a course source tree (the folder holding reference/modules.def): the
     * parser accepts --root DIR, else looks in the current directory and its parents,
     * and puts the result in ctx->root. */
    TITO_CMD_SOURCE_TREE = 1u << 0,
    /* For instructors and course developers: listed apart in `tito --help`. */
    TITO_CMD_INSTRUCTOR = 1u << 1,
    /* Not listed in `tito --help` (still works, still has help). */
    TITO_CMD_HIDDEN = 1u << 2,
    /* Uses the course: the parser accepts --course FILE and puts the course in effect
     * (--course, else $TITO_COURSE, else the built-in one) in ctx->course. */
    TITO_CMD_NEEDS_COURSE = 1u << 3,
    /* Runs in a student's workspace (implies NEEDS_COURSE): the parser finds it from
     * the current directory up, checks that it belongs to ctx->course, reads its
     * progress and puts it in ctx->workspace; outside one the command does not run. */
    TITO_CMD_NEEDS_WORKSPACE = 1u << 4,
    /* Like NEEDS_WORKSPACE, but outside a workspace ctx->workspace is NULL and the
     * command runs anyway (e.g. `tito module list` lists the course's modules). */
    TITO_CMD_WANTS_WORKSPACE = 1u << 5,
    /* Grades in the sandbox: Ctrl-C and SIGTERM stop the grader at its next safe point
     * instead of killing tito (grader/interrupt.h), so that the command unwinds, its
     * working folders and sandboxed processes go, and main says so and exits 128 + the
     * signal. A command without it dies of the signal as usual. */
    TITO_CMD_INTERRUPTIBLE = 1u << 6,
};

typedef struct tito_command {
    const char *name;    /* one or more words: "dev starters" */
    tito_command_fn run;
    unsigned flags;      /* enum tito_command_flags */
    const char *summary; /* one line, lower case, no full stop */
    const char *args;    /* the synopsis after the name: "[--check] [--root DIR]" */
} tito_command;

struct tito_course;
struct tito_workspace;

struct tito_context {
    const tito_command *command; /* the entry being run */
    char root[4096];             /* TITO_CMD_SOURCE_TREE: the course source tree */
    struct tito_course *course;       /* TITO_CMD_NEEDS_COURSE and the workspace flags */
    struct tito_workspace *workspace; /* TITO_CMD_NEEDS_WORKSPACE, TITO_CMD_WANTS_WORKSPACE */
};

/* ------------------------------------------------------------- options */

typedef enum tito_option_kind {
    TITO_OPTION_END,  /* closes an array */
    TITO_OPTION_BOOL, /* --name: sets *(bool *)value */
    TITO_OPTION_STRING, /* --name VALUE or --name=VALUE: sets *(const char **)value */
} tito_option_kind;

typedef struct tito_option {
    tito_option_kind kind;
    char short_name;       /* 'c' for -c, or 0 */
    const char *long_name; /* "check" for --check */
    void *value;
    const char *value_name; /* "DIR" in the help text (strings only) */
    const char *help;
} tito_option;

#define TITO_OPT_BOOL(s, l, v, h) {TITO_OPTION_BOOL, (s), (l), (v), NULL, (h)}
#define TITO_OPT_STRING(s, l, v, name, h) {TITO_OPTION_STRING, (s), (l), (v), (name), (h)}
#define TITO_OPT_END {TITO_OPTION_END, 0, NULL, NULL, NULL, NULL}

/* Parse the options of the running command from argv[1..argc), leaving the other
 * arguments, in order, in argv[0..*argc) (argv[0] is kept). "--" ends the options.
 * Returns -1 when the command should go on; otherwise the exit status to return at
 * once: TITO_EXIT_OK after printing --help, TITO_EXIT_USAGE after an error message. */
int tito_parse_options(tito_context *ctx, int *argc, char **argv, const tito_option *options);

/* An option's whole number in [lo, hi] (decimal, nothing else): *out and true, or false
 * and the caller says what it expected. */
bool tito_parse_count(const char *text, long lo, long hi, long *out);

/* Print a command's usage line (on stderr when `to_stderr`). */
void tito_print_usage(const tito_command *command, bool to_stderr);

/* The course and workspace setup the flags ask for (cli/setup.c); tito_parse_options
 * calls it after the options are read. `course_path` is --course or NULL. Returns -1
 * to go on, or the exit status after an error message. */
int tito_setup_context(tito_context *ctx, const char *course_path);

/* Free what tito_setup_context put in the context (main does it after a command). */
void tito_release_context(tito_context *ctx);

/* Print a library error (tt_error_last()) and return the exit status for it. */
int tito_fail(tt_status status);

/* After an interrupt stopped a TITO_CMD_INTERRUPTIBLE command: say so on stderr, once
 * per run ("interrupted: <done>; your files are untouched", `done` NULL: "nothing was
 * graded"), and return the exit status for the signal. */
int tito_interrupted(const char *done);

/* ----------------------------------------------------------- commands */

int cmd_grade_batch(int argc, char **argv, tito_context *ctx);
int cmd_course_release(int argc, char **argv, tito_context *ctx);
int cmd_course_verify(int argc, char **argv, tito_context *ctx);
int cmd_dev_starters(int argc, char **argv, tito_context *ctx);
int cmd_dev_grade(int argc, char **argv, tito_context *ctx);
int cmd_init(int argc, char **argv, tito_context *ctx);
int cmd_leaderboard(int argc, char **argv, tito_context *ctx);
int cmd_login(int argc, char **argv, tito_context *ctx);
int cmd_logout(int argc, char **argv, tito_context *ctx);
int cmd_milestone_list(int argc, char **argv, tito_context *ctx);
int cmd_milestone_run(int argc, char **argv, tito_context *ctx);
int cmd_milestone_status(int argc, char **argv, tito_context *ctx);
int cmd_module_list(int argc, char **argv, tito_context *ctx);
int cmd_module_start(int argc, char **argv, tito_context *ctx);
int cmd_module_status(int argc, char **argv, tito_context *ctx);
int cmd_module_reset(int argc, char **argv, tito_context *ctx);
int cmd_module_test(int argc, char **argv, tito_context *ctx);
int cmd_module_complete(int argc, char **argv, tito_context *ctx);
int cmd_grade(int argc, char **argv, tito_context *ctx);
int cmd_submit(int argc, char **argv, tito_context *ctx);

struct tito_module;
/* The module a student named on the command line: a number (3, 03), a slug
 * (03_layers) or a name (layers). NULL after an error message saying which modules
 * exist (cli/cmd_module.c). */
const struct tito_module *tito_module_resolve(const char *key);

#endif /* TITO_TITO_H */
