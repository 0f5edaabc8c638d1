/*
 * grader/interrupt.h: Ctrl-C (SIGINT) and SIGTERM while tito works.
 *
 * Dying where it stands, tito would leave its working folders in $TMPDIR and could
 * leave a grade half-recorded (a receipt written, the progress not). So the handler
 * tito_interrupt_catch() installs only notes the signal and wakes whoever waits; the
 * grader acts on it at safe points only, that is at sandbox runs: the sandbox refuses
 * to start a run and stops the one in progress, and tito_sandbox_run() fails. Every
 * grading function then unwinds through its ordinary cleanup, which removes what it
 * made, and nothing is recorded. Writing a receipt or the progress is never a safe
 * point: a signal that comes while they are written lets them finish (the grade is
 * then recorded whole and tito_interrupt_stopped() stays false).
 *
 * A registry of folders removed from the handler would need async-signal-safe tree
 * removal and could not know whether a receipt was half-written; unwinding needs
 * neither. Only cli/ catches the signals and decides what to print and the exit status.
 */
#ifndef TITO_INTERRUPT_H
#define TITO_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

#include "tinytorch/core.h"

/* The signal that asked tito to stop (SIGINT or SIGTERM; the first one), 0 until one
 * does. The handler is its only writer; read it anywhere. */
extern volatile sig_atomic_t tito_interrupt_caught;

/* From now on, SIGINT and SIGTERM set tito_interrupt_caught instead of ending the
 * process. Call it before starting threads; calling it again does nothing. Interrupted
 * system calls are restarted (SA_RESTART), except those that never are, such as poll:
 * waits return at once. Errors: TT_ERR_IO (no pipe for the wake-up). */
tt_status tito_interrupt_catch(void);

/* In a child made by fork() that must end by these signals as usual (a batch worker,
 * which its parent stops): the default dispositions back, and nothing of the parent's
 * state (no signal caught, no wake-up descriptor). */
void tito_interrupt_release(void);

/* A descriptor that becomes readable, and stays readable, once a signal is caught: a
 * poll loop in any thread watches it to wake at once (the handler runs in only one
 * thread). -1 when nothing catches the signals. Never read it. */
int tito_interrupt_fd(void);

/* At a safe point: whether the work must stop now (a signal was caught). Each "yes" is
 * remembered for tito_interrupt_stopped(). Any thread. */
bool tito_interrupt_check(void);

/* Whether a safe point stopped work because of a signal: what was being made (a grade,
 * a milestone run) was not made, and nothing of it was recorded. */
bool tito_interrupt_stopped(void);

#endif /* TITO_INTERRUPT_H */
