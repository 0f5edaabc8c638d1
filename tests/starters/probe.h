/*
 * tests/starters/probe.h: what every starter probe checks.
 *
 * A probe is linked with one module's committed starter (student/<slug>/<name>.c),
 * the core, and the reference objects of every other module. It calls one function
 * the student has to write and expects the clean failure a starter promises:
 * TT_ERR_NOT_IMPLEMENTED, a message "<function>: not implemented (<name>.c:LINE)",
 * no result, and no framework allocation left behind.
 */
#ifndef TT_TESTS_STARTERS_PROBE_H
#define TT_TESTS_STARTERS_PROBE_H

#include <stdio.h>
#include <string.h>

#include "tinytorch/core.h"

/* Returns the process exit status: 0 when the call failed the way a starter must. */
static int probe_expect(tt_status st, const char *function, const char *file, const void *result)
{
    const char *msg = tt_error_last();
    char want[160];
    snprintf(want, sizeof want, "%s: not implemented (%s:", function, file);
    int failed = 0;
    if (st != TT_ERR_NOT_IMPLEMENTED) {
        fprintf(stderr, "probe: %s returned %s, expected TT_ERR_NOT_IMPLEMENTED (message: %s)\n",
                function, tt_status_name(st), msg);
        failed = 1;
    }
    if (strncmp(msg, want, strlen(want)) != 0) {
        fprintf(stderr, "probe: the message \"%s\" does not start with \"%s\"\n", msg, want);
        failed = 1;
    }
    if (result) {
        fprintf(stderr, "probe: %s failed but produced a result\n", function);
        failed = 1;
    }
    if (!failed)
        printf("probe: %s -> %s: %s\n", function, tt_status_name(st), msg);
    return failed;
}

/* Returns 0 when the live allocation count is back to `before`. */
static int probe_no_leak(size_t before)
{
    if (tt_alloc_live() != before) {
        fprintf(stderr, "probe: %zu framework allocations live, %zu before the probe\n",
                tt_alloc_live(), before);
        return 1;
    }
    return 0;
}

#endif /* TT_TESTS_STARTERS_PROBE_H */
