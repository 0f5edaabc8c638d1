/*
 * tt-milestone-02: milestone 2, 1969, XOR and the limit of a single layer.
 *
 * Two models learn noisy XOR (tt_points_make, TT_POINTS_XOR: the four corners of a
 * square with Gaussian jitter, 400 training and 200 test points, data seed 1969):
 *   single layer  Linear(2,1) + Sigmoid, trained as well as it can be (same data,
 *                 optimizer and epochs as the MLP): no line separates the classes, so it
 *                 cannot pass 75% (the best line gets three corners of four);
 *   mlp           Linear(2,8) + Tanh + Linear(8,1) + Sigmoid: the hidden layer bends the
 *                 boundary and gets nearly every point right.
 * Every bar must hold (milestones.def): single layer <= 75%, MLP >= 98%, and every MLP
 * weight tensor moved (min_weight_change). The first alone would be met by a framework
 * that learns nothing; the second shows that it learns; the third that every layer
 * does (random features under an untrained first layer still give ~98%).
 * Modules 01-07.
 */
#include "common/milestone.h"

#include <stdio.h>

#include "tinytorch/datasets.h"

#define HIDDEN 8

static tt_status make_xor(ms_data *data, const ms_options *options)
{
    (void)options; /* the data are fixed: the seed only moves the weights and the order */
    tt_status st = TT_OK;
    tt_points points = {0};
    TT_CHECK(tt_points_make(&points, TT_POINTS_XOR, TT_POINTS_TRAIN, TT_POINTS_TEST,
                            TT_XOR_SEED));
    TT_CHECK(tt_points_tensors(&data->train_x, &data->train_y, &points, true));
    TT_CHECK(tt_points_tensors(&data->test_x, &data->test_y, &points, false));
    snprintf(data->description, sizeof data->description,
             "%zu training and %zu test points, XOR of the corners of [-1,1]^2 with "
             "jitter sd %g (data seed %u)",
             points.n_train, points.n_test, (double)TT_XOR_SD, TT_XOR_SEED);

cleanup:
    tt_points_release(&points);
    if (st != TT_OK)
        ms_data_release(data);
    return st;
}

static tt_status build_single_layer(tt_layer **out, tt_rng *rng)
{
    tt_status st = TT_OK;
    tt_layer *model = NULL, *layer = NULL;
    *out = NULL;
    TT_CHECK(tt_sequential_new(&model));
    TT_CHECK(tt_linear_new(&layer, 2, 1, true, rng));
    TT_CHECK(tt_sequential_append(model, layer)); /* takes the layer, also on failure */
    TT_CHECK(tt_sigmoid_layer_new(&layer));
    TT_CHECK(tt_sequential_append(model, layer));
    *out = model;
    return TT_OK;

cleanup:
    tt_layer_free(model);
    return st;
}

static tt_status build_mlp(tt_layer **out, tt_rng *rng)
{
    tt_status st = TT_OK;
    tt_layer *model = NULL, *layer = NULL;
    *out = NULL;
    TT_CHECK(tt_sequential_new(&model));
    TT_CHECK(tt_linear_new(&layer, 2, HIDDEN, true, rng));
    TT_CHECK(tt_sequential_append(model, layer));
    TT_CHECK(tt_tanh_layer_new(&layer));
    TT_CHECK(tt_sequential_append(model, layer));
    TT_CHECK(tt_linear_new(&layer, HIDDEN, 1, true, rng));
    TT_CHECK(tt_sequential_append(model, layer));
    TT_CHECK(tt_sigmoid_layer_new(&layer));
    TT_CHECK(tt_sequential_append(model, layer));
    *out = model;
    return TT_OK;

cleanup:
    tt_layer_free(model);
    return st;
}

/* The same training for both, so that the difference is the hidden layer alone. */
static const ms_run_spec xor_runs[] = {
    {
        .key = "single_layer",
        .label = "single layer",
        .model = "Linear(2,1) + Sigmoid",
        .build = build_single_layer,
        .loss = TT_LOSS_BCE,
        .optimizer = TT_OPTIM_SGD,
        .learning_rate = 0.1f,
        .momentum = 0.0f,
        .batch_size = 16,
    },
    {
        .key = "mlp",
        .label = "mlp",
        .model = "Linear(2,8) + Tanh + Linear(8,1) + Sigmoid",
        .build = build_mlp,
        .loss = TT_LOSS_BCE,
        .optimizer = TT_OPTIM_SGD,
        .learning_rate = 0.1f,
        .momentum = 0.0f,
        .batch_size = 16,
    },
};

const ms_spec ms_xor = {
    .number = 2,
    .headline = "1969: the limit of a single layer.",
    .history = "Minsky and Papert prove that a single-layer perceptron\n"
               "cannot compute XOR: no straight line separates its classes. A hidden layer\n"
               "can, and training one is what backpropagation (milestone 3) made routine.",
    .task = "Train a single layer, Linear(2,1) + Sigmoid, and an MLP 2-8-1 with Tanh, both with\n"
            "binary cross-entropy and SGD (lr 0.1, batches of 16), on noisy XOR (400 training\n"
            "points) and measure both on 200 held-out points: the single layer stays at or\n"
            "under 75%, the MLP reaches 98%, and every weight of the MLP has trained.",
    .default_epochs = 50,
    .default_seed = 1969,
    .reads_data = false,
    .make_data = make_xor,
    .n_runs = sizeof xor_runs / sizeof xor_runs[0],
    .runs = xor_runs,
};

#ifndef TT_MILESTONE_NO_MAIN
int main(int argc, char **argv)
{
    return ms_main(&ms_xor, argc, argv);
}
#endif
