/*
 * grader/suites/01_tensor/helpers.h: what the visible and the hidden checks of module 01
 * (tensor) share: recording an op's status and result, and telling a view from a copy.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_01_HELPERS_H
#define TITO_SUITE_01_HELPERS_H

#include "probe.h"
#include "tinytorch/tensor.h"

/* The status of an op and, when it succeeded, its result. */
static void record_result(tito_probe *p, tt_status st, const tt_tensor *out)
{
    probe_status(p, "status", st);
    probe_tensor(p, "out", out);
}

/* The call runs first, then its result is read (an argument list has no order). */
#define RECORD(p, call, out)                                                                \
    do {                                                                                    \
        tt_status record_st_ = (call);                                                      \
        record_result((p), record_st_, (out));                                              \
    } while (0)

/* 1 when two tensors view one storage (a view, not a copy). */
static long shares(const tt_tensor *a, const tt_tensor *b)
{
    return a && b && a->storage && a->storage == b->storage;
}

#endif /* TITO_SUITE_01_HELPERS_H */
