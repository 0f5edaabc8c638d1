/*
 * grader/interrupt.c: note SIGINT and SIGTERM, wake the waits (interrupt.h).
 *
 * The wake-up is a pipe the handler writes one byte into and nobody reads: it stays
 * readable, so every poll loop of every thread sees it, however many there are and
 * whichever thread ran the handler.
 */
#define _GNU_SOURCE /* pipe2 */

#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t tito_interrupt_caught;

static int wake[2] = {-1, -1};
static atomic_bool stopped;

static void on_signal(int sig)
{
    int saved = errno;
    if (!tito_interrupt_caught)
        tito_interrupt_caught = sig;
    if (wake[1] >= 0)
        (void)!write(wake[1], "", 1); /* non-blocking: a full pipe is readable anyway */
    errno = saved;
}

tt_status tito_interrupt_catch(void)
{
    if (wake[0] >= 0)
        return TT_OK;
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        int err = errno;
        wake[0] = wake[1] = -1;
        return tt_error_set(TT_ERR_IO, "tito_interrupt_catch: pipe: %s", strerror(err));
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return TT_OK;
}

void tito_interrupt_release(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (int i = 0; i < 2; i++) {
        if (wake[i] >= 0)
            close(wake[i]);
        wake[i] = -1;
    }
    tito_interrupt_caught = 0;
    atomic_store(&stopped, false);
}

int tito_interrupt_fd(void)
{
    return wake[0];
}

bool tito_interrupt_check(void)
{
    if (!tito_interrupt_caught)
        return false;
    atomic_store(&stopped, true);
    return true;
}

bool tito_interrupt_stopped(void)
{
    return atomic_load(&stopped);
}
