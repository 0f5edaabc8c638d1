/* Starter probe, module 02: an activation on a tensor made by the reference's module 01. */
#include "probe.h"
#include "tinytorch/activations.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *x = NULL, *y = NULL;
    if (tt_tensor_full(&x, 2, TT_SHAPE(2, 3), -1.5f) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_relu(&y, x), "tt_relu", "activations.c", y);
    tt_tensor_free(x);
    return failed | probe_no_leak(live);
}
