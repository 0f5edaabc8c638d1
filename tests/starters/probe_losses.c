/* Starter probe, module 04: the MSE of two tensors made by the reference's module 01. */
#include "probe.h"
#include "tinytorch/losses.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *pred = NULL, *target = NULL, *loss = NULL;
    if (tt_tensor_full(&pred, 1, TT_SHAPE(4), 1.0f) != TT_OK ||
        tt_tensor_full(&target, 1, TT_SHAPE(4), 0.5f) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_mse_loss(&loss, pred, target), "tt_mse_loss", "losses.c", loss);
    tt_tensor_free(pred);
    tt_tensor_free(target);
    return failed | probe_no_leak(live);
}
