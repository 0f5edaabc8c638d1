/* Starter probe, module 11: an embedding lookup of tensors made by the reference's module 01. */
#include "probe.h"
#include "tinytorch/embeddings.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_tensor *table = NULL, *ids = NULL, *out = NULL;
    if (tt_tensor_full(&table, 2, TT_SHAPE(5, 3), 0.5f) != TT_OK ||
        tt_tensor_full(&ids, 2, TT_SHAPE(2, 2), 1.0f) != TT_OK) {
        fprintf(stderr, "probe: setup failed: %s\n", tt_error_last());
        return 1;
    }
    int failed = probe_expect(tt_embedding_lookup(&out, table, ids), "tt_embedding_lookup",
                              "embeddings.c", out);
    tt_tensor_free(table);
    tt_tensor_free(ids);
    return failed | probe_no_leak(live);
}
