/*
 * grader/suites/10_tokenization/helpers.h: what the visible and the hidden checks of
 * module 10 (tokenization) share: the record of a list of token ids.
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_10_HELPERS_H
#define TITO_SUITE_10_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "probe.h"
#include "tinytorch/tensor.h"

/* ids (count of them) as a 1-D tensor, or a NULL record when there are none to read. */
static void record_ids(tito_probe *p, const char *label, const int32_t *ids, size_t count)
{
    char name[64];
    snprintf(name, sizeof name, "%s.count", label);
    probe_int(p, name, (long)count);
    if (!ids || count == 0 || count > 1000000) {
        probe_tensor(p, label, NULL);
        return;
    }
    float *v = malloc(count * sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < count; i++)
        v[i] = (float)ids[i];
    tt_tensor *t = probe_from_data(p, 1, TT_SHAPE(count), v);
    probe_tensor(p, label, t);
    tt_tensor_free(t);
    free(v);
}

#endif /* TITO_SUITE_10_HELPERS_H */
