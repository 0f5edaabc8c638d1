/* Starter probe, module 05: backward from a one-element tensor. The reference's
 * module 01 still calls tt_autograd_record (the student's) for every op, so the
 * probe makes its root without any op: only creation, which is never recorded. */
#include "probe.h"
#include "tinytorch/autograd.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *root = NULL;
    if (tt_tensor_scalar(&root, 2.0f) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_backward(root), "tt_backward", "autograd.c", NULL);
    tt_tensor_free(root);
    return failed | probe_no_leak(live);
}
