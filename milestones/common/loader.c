/*
 * milestones/common/loader.c: batches from the framework's own data loader (module 08),
 * for the milestones that include module 08 (milestones.def: last_module >= 8).
 *
 * Kept apart from milestone.c so that milestones 1 and 2, which need modules 01-07
 * only, link without any module 08 symbol: a student who has not written the data
 * loader yet can still run them (milestone.c batches by itself for them).
 */
#include "milestone.h"

#include <stdlib.h>

#include "tinytorch/dataloader.h"

typedef struct loader_state {
    tt_dataset *dataset;
    tt_dataloader *loader;
} loader_state;

static void loader_close(void *state)
{
    loader_state *s = state;
    if (!s)
        return;
    tt_dataloader_free(s->loader);
    tt_dataset_free(s->dataset);
    free(s);
}

static tt_status loader_open(void **state, const ms_data *data, size_t batch_size, tt_rng *rng)
{
    tt_status st = TT_OK;
    loader_state *s = calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return tt_error_set(TT_ERR_NOMEM, "milestone: no memory for a data loader");
    tt_dataloader_options options = {batch_size, true, false}; /* shuffle, keep the last */
    TT_CHECK(tt_dataset_new(&s->dataset, data->train_x, data->train_y));
    TT_CHECK(tt_dataloader_new(&s->loader, s->dataset, &options, rng));
    *state = s;
    return TT_OK;

cleanup:
    loader_close(s);
    return st;
}

static size_t loader_count(const void *state)
{
    const loader_state *s = state;
    return tt_dataloader_num_batches(s->loader);
}

static tt_status loader_start_epoch(void *state)
{
    loader_state *s = state;
    return tt_dataloader_start_epoch(s->loader);
}

static tt_status loader_next(void *state, tt_tensor **x, tt_tensor **y)
{
    loader_state *s = state;
    return tt_dataloader_next(s->loader, x, y);
}

const ms_batcher ms_dataloader_batcher = {
    .name = "the framework's data loader (module 08)",
    .open = loader_open,
    .count = loader_count,
    .start_epoch = loader_start_epoch,
    .next = loader_next,
    .close = loader_close,
};
