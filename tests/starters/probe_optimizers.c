/* Starter probe, module 06: an SGD optimizer over one parameter. */
#include "probe.h"
#include "tinytorch/optimizers.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *w = NULL;
    tt_params params;
    tt_params_init(&params);
    if (tt_tensor_full(&w, 1, TT_SHAPE(3), 1.0f) != TT_OK || tt_params_push(&params, w) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    tt_optimizer_options options = TT_OPTIMIZER_OPTIONS_INIT;
    tt_optimizer *opt = NULL;
    int failed = probe_expect(tt_optimizer_new(&opt, TT_OPTIM_SGD, &params, &options),
                              "tt_optimizer_new", "optimizers.c", opt);
    tt_params_release(&params);
    tt_tensor_free(w);
    return failed | probe_no_leak(live);
}
