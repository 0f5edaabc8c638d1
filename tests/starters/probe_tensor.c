/* Starter probe, module 01: creating a tensor is the student's first function. */
#include "probe.h"
#include "tinytorch/tensor.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *t = NULL;
    tt_status st = tt_tensor_zeros(&t, 2, TT_SHAPE(2, 3));
    int failed = probe_expect(st, "tt_tensor_zeros", "tensor.c", t);
    return failed | probe_no_leak(live);
}
