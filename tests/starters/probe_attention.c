/* Starter probe, module 12: a masked softmax of scores made by the reference's module 01. */
#include "probe.h"
#include "tinytorch/attention.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *scores = NULL, *mask = NULL, *out = NULL;
    if (tt_tensor_full(&scores, 2, TT_SHAPE(3, 3), 0.25f) != TT_OK ||
        tt_tensor_full(&mask, 2, TT_SHAPE(3, 3), 1.0f) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_masked_softmax(&out, scores, mask), "tt_masked_softmax",
                              "attention.c", out);
    tt_tensor_free(scores);
    tt_tensor_free(mask);
    return failed | probe_no_leak(live);
}
