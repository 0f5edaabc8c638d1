/*
 * tt-milestone-03: milestone 3, 1986, backpropagation: a multi-layer perceptron reads
 * handwritten digits.
 *
 * Trains a 64-32-10 MLP (Linear, ReLU, Linear) with cross-entropy and Adam on the 1000
 * training images of milestones/data (8x8 digits, tinytorch/datasets.h) and measures
 * its accuracy on the 200 held-out test images. Bars (milestones.def): test accuracy
 * >= 90%, and every weight tensor moved (min_weight_change). Modules 01-08 (the data
 * loader batches and shuffles).
 */
#include "common/milestone.h"

#include <stdio.h>

#include "tinytorch/datasets.h"

#define HIDDEN 32

static tt_status make_digits(ms_data *data, const ms_options *options)
{
    tt_status st = TT_OK;
    tt_digits digits = {0};
    const char *dir = tt_data_dir(options->data_dir);
    TT_CHECK(tt_digits_load(&digits, dir));
    TT_CHECK(tt_digits_tensors(&data->train_x, &data->train_y, &digits, true));
    TT_CHECK(tt_digits_tensors(&data->test_x, &data->test_y, &digits, false));
    snprintf(data->description, sizeof data->description,
             "%zu training and %zu test images of 8x8 pixels from %s", digits.n_train,
             digits.n_test, dir);

cleanup:
    tt_digits_release(&digits);
    if (st != TT_OK)
        ms_data_release(data);
    return st;
}

static tt_status build_mlp(tt_layer **out, tt_rng *rng)
{
    tt_status st = TT_OK;
    tt_layer *model = NULL, *layer = NULL;
    *out = NULL;
    TT_CHECK(tt_sequential_new(&model));
    TT_CHECK(tt_linear_new(&layer, TT_DIGITS_PIXELS, HIDDEN, true, rng));
    TT_CHECK(tt_sequential_append(model, layer)); /* takes the layer, also on failure */
    TT_CHECK(tt_relu_layer_new(&layer));
    TT_CHECK(tt_sequential_append(model, layer));
    TT_CHECK(tt_linear_new(&layer, HIDDEN, TT_DIGITS_CLASSES, true, rng));
    TT_CHECK(tt_sequential_append(model, layer));
    *out = model;
    return TT_OK;

cleanup:
    tt_layer_free(model);
    return st;
}

static const ms_run_spec mlp_run = {
    .key = "",
    .label = "mlp",
    .model = "64-32-10 MLP (Linear, ReLU, Linear)",
    .build = build_mlp,
    .loss = TT_LOSS_CROSS_ENTROPY,
    .optimizer = TT_OPTIM_ADAM,
    .learning_rate = 0.01f,
    .momentum = 0.0f,
    .batch_size = 32,
};

const ms_spec ms_digits_mlp = {
    .number = 3,
    .headline = "1986: backpropagation.",
    .history = "Rumelhart, Hinton and Williams show that a network with a hidden\n"
               "layer learns its own features from examples, one gradient at a time.",
    .task = "Train a 64-32-10 multi-layer perceptron (Linear, ReLU, Linear; cross-entropy;\n"
            "Adam, learning rate 0.01; batches of 32) on 1000 8x8 handwritten digits and\n"
            "measure its accuracy on 200 held-out ones.",
    .default_epochs = 20,
    .default_seed = 1986,
    .reads_data = true,
    .make_data = make_digits,
    .batcher = &ms_dataloader_batcher, /* module 08 is part of this milestone */
    .n_runs = 1,
    .runs = &mlp_run,
};

#ifndef TT_MILESTONE_NO_MAIN
int main(int argc, char **argv)
{
    return ms_main(&ms_digits_mlp, argc, argv);
}
#endif
