/*
 * tt-milestone-01: milestone 1, the 1957 perceptron.
 *
 * One neuron, Linear(2, 1) followed by a Sigmoid, learns to separate two Gaussian
 * blobs in the plane (tt_points_make, TT_POINTS_BLOBS: 400 training and 200 test
 * points, data seed 1957), with binary cross-entropy and plain SGD. Its bars
 * (milestones.def): test accuracy >= 95% (the classes overlap so little that a line
 * gets about 99.5% of them right), and the weights moved (min_weight_change: a lucky
 * random line must not pass without training). Modules 01-07.
 */
#include "common/milestone.h"

#include <stdio.h>

#include "tinytorch/datasets.h"

static tt_status make_blobs(ms_data *data, const ms_options *options)
{
    (void)options; /* the data are fixed: the seed only moves the weights and the order */
    tt_status st = TT_OK;
    tt_points points = {0};
    TT_CHECK(tt_points_make(&points, TT_POINTS_BLOBS, TT_POINTS_TRAIN, TT_POINTS_TEST,
                            TT_BLOBS_SEED));
    TT_CHECK(tt_points_tensors(&data->train_x, &data->train_y, &points, true));
    TT_CHECK(tt_points_tensors(&data->test_x, &data->test_y, &points, false));
    snprintf(data->description, sizeof data->description,
             "%zu training and %zu test points, two Gaussian blobs around (-%g, -%g) and "
             "(%g, %g), sd %g (data seed %u)",
             points.n_train, points.n_test, (double)TT_BLOBS_CENTRE, (double)TT_BLOBS_CENTRE,
             (double)TT_BLOBS_CENTRE, (double)TT_BLOBS_CENTRE, (double)TT_BLOBS_SD,
             TT_BLOBS_SEED);

cleanup:
    tt_points_release(&points);
    if (st != TT_OK)
        ms_data_release(data);
    return st;
}

static tt_status build_perceptron(tt_layer **out, tt_rng *rng)
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

static const ms_run_spec perceptron_run = {
    .key = "",
    .label = "perceptron",
    .model = "Linear(2,1) + Sigmoid",
    .build = build_perceptron,
    .loss = TT_LOSS_BCE,
    .optimizer = TT_OPTIM_SGD,
    .learning_rate = 0.1f,
    .momentum = 0.0f,
    .batch_size = 16,
};

const ms_spec ms_perceptron = {
    .number = 1,
    .headline = "1957: the perceptron.",
    .history = "Frank Rosenblatt's perceptron, a single artificial neuron, learns from\n"
               "examples where to draw a line between two classes. Here the same neuron,\n"
               "with a smooth sigmoid, is trained by gradient descent on YOUR framework.",
    .task = "Train Linear(2,1) + Sigmoid with binary cross-entropy and SGD (lr 0.1, batches\n"
            "of 16) on two Gaussian blobs (400 training points) and measure its accuracy on\n"
            "200 held-out points.",
    .default_epochs = 20,
    .default_seed = 1957,
    .reads_data = false,
    .make_data = make_blobs,
    .n_runs = 1,
    .runs = &perceptron_run,
};

#ifndef TT_MILESTONE_NO_MAIN
int main(int argc, char **argv)
{
    return ms_main(&ms_perceptron, argc, argv);
}
#endif
