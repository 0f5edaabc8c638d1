/* Starter probe, module 13: LayerNorm of tensors made by the reference's module 01. */
#include "probe.h"
#include "tinytorch/transformers.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *x = NULL, *gamma = NULL, *beta = NULL, *out = NULL;
    if (tt_tensor_full(&x, 2, TT_SHAPE(2, 4), 1.5f) != TT_OK ||
        tt_tensor_full(&gamma, 1, TT_SHAPE(4), 1.0f) != TT_OK ||
        tt_tensor_zeros(&beta, 1, TT_SHAPE(4)) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_layer_norm(&out, x, gamma, beta, TT_LAYERNORM_EPS),
                              "tt_layer_norm", "transformers.c", out);
    tt_tensor_free(x);
    tt_tensor_free(gamma);
    tt_tensor_free(beta);
    return failed | probe_no_leak(live);
}
