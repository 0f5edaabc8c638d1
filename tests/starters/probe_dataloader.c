/* Starter probe, module 08: a dataset over two tensors. */
#include "probe.h"
#include "tinytorch/dataloader.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *x = NULL, *y = NULL;
    if (tt_tensor_zeros(&x, 2, TT_SHAPE(5, 2)) != TT_OK ||
        tt_tensor_zeros(&y, 1, TT_SHAPE(5)) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    tt_dataset *ds = NULL;
    int failed = probe_expect(tt_dataset_new(&ds, x, y), "tt_dataset_new", "dataloader.c", ds);
    tt_tensor_free(x);
    tt_tensor_free(y);
    return failed | probe_no_leak(live);
}
