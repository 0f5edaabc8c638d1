/* Starter probe, module 09: a convolution. */
#include "probe.h"
#include "tinytorch/spatial.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *x = NULL, *w = NULL, *y = NULL;
    if (tt_tensor_full(&x, 4, TT_SHAPE(1, 1, 4, 4), 1.0f) != TT_OK ||
        tt_tensor_full(&w, 4, TT_SHAPE(2, 1, 3, 3), 0.5f) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_conv2d(&y, x, w, NULL, 1, 1), "tt_conv2d", "spatial.c", y);
    tt_tensor_free(x);
    tt_tensor_free(w);
    return failed | probe_no_leak(live);
}
