/* Starter probe, module 07: a loss chosen by name. */
#include "probe.h"
#include "tinytorch/training.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *pred = NULL, *target = NULL, *loss = NULL;
    if (tt_tensor_full(&pred, 1, TT_SHAPE(4), 1.0f) != TT_OK ||
        tt_tensor_full(&target, 1, TT_SHAPE(4), 0.5f) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_loss_compute(&loss, TT_LOSS_MSE, pred, target), "tt_loss_compute",
                              "training.c", loss);
    tt_tensor_free(pred);
    tt_tensor_free(target);
    return failed | probe_no_leak(live);
}
