/*
 * grader/memcheck.h: the memory-safety phase of a grade (Valgrind memcheck).
 *
 * The student-linked probe runs once more, with `--small`, under
 *     valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect
 *              --show-leak-kinds=definite,indirect --track-origins=no --num-callers=12
 *              --log-file=<sandbox working directory>/<unguessable name>.log
 * inside the sandbox (a raised address-space limit: Valgrind reserves a lot; a generous
 * but bounded wall clock). The probe harness prints a case marker with VALGRIND_PRINTF
 * before and after each case and runs an added leak check at the end of each, so the log
 * says which case every invalid access and every new leak belongs to. The log is parsed
 * here, in tito's process; each finding names its case and the innermost stack frame in
 * the student's own file, with the student's function the probe called when that is
 * another one ("tensor.c:212 (tt_tensor_transpose)", "tensor.c:130 (tensor_new, called
 * by tt_tensor_transpose at line 905)"); without one, the first frame with a source
 * line outside the allocator.
 *
 * When the probe dies inside a case under Valgrind (a crash is also a finding), the run
 * goes on from the next case, as the run phase does, a bounded number of times.
 *
 * Whose fault: Valgrind missing, failing to start, or its log unreadable is
 * TITO_MEMCHECK_ERROR with a message saying what to install or check, never findings.
 *
 * Trust: Valgrind runs inside the student's process, so a program written to fool it can
 * (client requests, writing to the log by name). The log's name is unguessable and
 * Valgrind's own descriptor is out of the client's reach; a log that lost its closing
 * summary is an error, not a clean result. Reviewing a suspicious source stays the
 * instructor's call.
 */
#ifndef TITO_MEMCHECK_H
#define TITO_MEMCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grade.h"
#include "tinytorch/core.h"

/* The lines the probe harness prints with VALGRIND_PRINTF around each case (Valgrind
 * shows them as "**<pid>** tito-case begin <index> <name>"). */
#define TITO_MEMCHECK_MARK_BEGIN "tito-case begin"
#define TITO_MEMCHECK_MARK_END "tito-case end"

typedef struct tito_memcheck_options {
    /* The student-linked probe (absolute path). Required. */
    const char *probe;
    /* Basename of the student's source ("tensor.c"): frames in it become `where`. Required. */
    const char *student_file;
    uint64_t seed;
    /* The probe's case names in table order (as `probe --list` gives them), or NULL:
     * used to restart after a case that killed the probe (--from index + 1). */
    const char *const *case_names;
    size_t n_cases;
    /* Cases not to run under Valgrind (those that ran out of time in the run phase:
     * Valgrind makes them 30 times slower), by name; used only with case_names. */
    const char *const *skip_cases;
    size_t n_skip;
    /* Valgrind to run: NULL finds "valgrind" in /usr/bin:/bin (the sandbox's PATH). */
    const char *valgrind;
    /* Where the working directory is made; NULL: "/tmp". */
    const char *temp_parent;
    /* Paths the child must not see (as the sandbox takes them), or NULL. */
    const char *const *hidden_paths;
    /* Limits of one Valgrind run; 0 takes the default shown. */
    double wall_seconds;     /* 300 */
    unsigned cpu_seconds;    /* 240 */
    uint64_t address_space;  /* 16 GiB: Valgrind maps its shadow memory up front */
    /* How often the run may restart after the probe died inside a case; 0: 8. */
    unsigned max_restarts;
} tito_memcheck_options;

#define TITO_MEMCHECK_OPTIONS_INIT { .probe = NULL }

/* Run the probe under Valgrind and fill *result (which the caller zeroed or released
 * before): status CLEAN or FINDINGS with the findings, or ERROR with a message when
 * Valgrind could not do its work. Points are left for score.c.
 * Errors (the grader's own trouble, not the student's): TT_ERR_INVALID_ARG (missing
 * options), TT_ERR_NOMEM, TT_ERR_IO (the working directory). */
tt_status tito_memcheck_run(tito_memcheck_result *result, const tito_memcheck_options *options);

/* What one Valgrind log says, as the run uses it. */
typedef struct tito_memcheck_log {
    tito_memcheck_finding *findings;
    size_t n_findings;
    bool complete;          /* Valgrind wrote its closing "ERROR SUMMARY" */
    bool started;           /* the log is Valgrind's (its banner is there) */
    char *case_in_progress; /* the case begun and not ended when the log stops, or NULL */
    char *last_case_done;   /* the last case that ended, or NULL */
    int fatal_signal;       /* "Process terminating with default action of signal N", else 0 */
    char *valgrind_error;   /* Valgrind's own complaint ("valgrind: ..."), or NULL */
} tito_memcheck_log;

/* Parse Valgrind's text log `text` (memcheck, the options above). Findings of an added
 * leak check count the new bytes (+N) and go to the case in progress; the final leak
 * check at exit adds only what was not already found. Frames in `student_file` are
 * preferred for `where`. Robust to any text: unknown lines are skipped.
 * Errors: TT_ERR_NOMEM. */
tt_status tito_memcheck_parse(tito_memcheck_log *log, const char *text, const char *student_file);

/* Release what a log holds (not the struct). */
void tito_memcheck_log_release(tito_memcheck_log *log);

/* Add the findings and notes of `from` (a run of another probe of the same module, e.g.
 * the hidden one) to `into`, and release `from`. The status becomes the stronger of the
 * two: FINDINGS over ERROR over CLEAN over NOT_RUN (findings are real whatever the
 * other run did). Errors: TT_ERR_NOMEM (then `into`
 * is unchanged and `from` still released). */
tt_status tito_memcheck_merge(tito_memcheck_result *into, tito_memcheck_result *from);

/* Release what a result holds and zero it (not the struct itself). */
void tito_memcheck_result_release(tito_memcheck_result *result);

/* One sentence for a finding, as JOURNEY.md shows them:
 *   "leak: 96 bytes allocated at tensor.c:212 (tt_tensor_transpose) never freed"
 *   "invalid read of 8 bytes, 0 bytes past the end of a 24-byte block allocated at
 *    tensor.c:150 (tensor_new), in tensor.c:1130 (tt_tensor_sum)"
 * Written into buf (truncated if short); returns buf. */
const char *tito_memcheck_finding_message(const tito_memcheck_finding *finding, char *buf,
                                          size_t size);

/* "not-run", "clean", "findings", "error". */
const char *tito_memcheck_status_name(tito_memcheck_status status);

#endif /* TITO_MEMCHECK_H */
