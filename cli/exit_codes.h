/*
 * cli/exit_codes.h: what tito's exit status means. Scripts, CI and the grader's own
 * tests read these numbers, so they never change meaning; new ones are added at the end.
 *
 *   0  everything asked for was done and every check passed
 *   1  a check or a grade failed (the work was done; the answer is "no")
 *   2  the command line was wrong (unknown command or option, missing argument)
 *   3+ the system got in the way: files, memory, corrupt input, internal errors, network
 *   130, 143  stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal, what a shell
 *      reports for a command a signal ended, so that scripts read it the same way
 */
#ifndef TITO_EXIT_CODES_H
#define TITO_EXIT_CODES_H

#include "tinytorch/core.h"

enum tito_exit {
    TITO_EXIT_OK = 0,
    TITO_EXIT_FAILED = 1,   /* a check or grade failed */
    TITO_EXIT_USAGE = 2,    /* bad command line */
    TITO_EXIT_IO = 3,       /* a file or directory could not be read or written */
    TITO_EXIT_DATA = 4,     /* an input file is malformed (e.g. a reference source's markers) */
    TITO_EXIT_NOMEM = 5,    /* out of memory */
    TITO_EXIT_INTERNAL = 6, /* a bug in tito or the grader: please report it */
    TITO_EXIT_NETWORK = 7,  /* a server could not be reached (the work is kept for a retry) */
};

/* The exit status after the signal `sig` stopped a command: 130 for SIGINT (Ctrl-C),
 * 143 for SIGTERM. */
static inline int tito_exit_for_signal(int sig)
{
    return 128 + sig;
}

/* The exit status for a library error that stopped a command. */
static inline int tito_exit_for_status(tt_status st)
{
    switch (st) {
    case TT_OK: return TITO_EXIT_OK;
    case TT_ERR_IO: return TITO_EXIT_IO;
    case TT_ERR_FORMAT: return TITO_EXIT_DATA;
    case TT_ERR_NOMEM: return TITO_EXIT_NOMEM;
    default: return TITO_EXIT_INTERNAL;
    }
}

#endif /* TITO_EXIT_CODES_H */
