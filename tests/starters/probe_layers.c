/* Starter probe, module 03: making a Linear layer. */
#include "probe.h"
#include "tinytorch/layers.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_rng rng;
    tt_rng_init(&rng, 7);
    tt_layer *layer = NULL;
    int failed = probe_expect(tt_linear_new(&layer, 4, 3, true, &rng), "tt_linear_new",
                              "layers.c", layer);
    return failed | probe_no_leak(live);
}
