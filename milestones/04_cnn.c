/*
 * tt-milestone-04: milestone 4, 1998, a convolutional network reads handwritten digits.
 *
 * Trains a small CNN (Conv2d 1->8 3x3, ReLU, MaxPool 2, Conv2d 8->16 3x3, ReLU,
 * MaxPool 2, Flatten, Linear 64->10) with cross-entropy and Adam on the 1000 training
 * images of milestones/data (8x8 digits seen as [1,8,8] images) and measures its
 * accuracy on the 200 held-out test images. Bars (milestones.def): test accuracy >= 93%,
 * and every parameter tensor moved (min_weight_change), which is what says the
 * convolution weights trained: with a graph cut at Flatten, the Linear layer alone still
 * learns the digits from random convolution features, but the convolutions keep their
 * initial weights (tests/milestones/mutants.c). Modules 01-09.
 */
#include "common/milestone.h"

#include <stdio.h>

#include "tinytorch/datasets.h"
#include "tinytorch/spatial.h"

/* One split's images as [n, 1, 8, 8] (a view of the [n, 64] rows: NCHW, one channel). */
static tt_status as_images(tt_tensor **x)
{
    tt_tensor *img = NULL;
    const ptrdiff_t shape[4] = {-1, 1, TT_DIGITS_SIDE, TT_DIGITS_SIDE};
    tt_status st = tt_tensor_reshape(&img, *x, 4, shape);
    if (st != TT_OK)
        return st;
    tt_tensor_free(*x);
    *x = img;
    return TT_OK;
}

static tt_status make_digit_images(ms_data *data, const ms_options *options)
{
    tt_status st = TT_OK;
    tt_digits digits = {0};
    const char *dir = tt_data_dir(options->data_dir);
    TT_CHECK(tt_digits_load(&digits, dir));
    TT_CHECK(tt_digits_tensors(&data->train_x, &data->train_y, &digits, true));
    TT_CHECK(tt_digits_tensors(&data->test_x, &data->test_y, &digits, false));
    TT_CHECK(as_images(&data->train_x));
    TT_CHECK(as_images(&data->test_x));
    snprintf(data->description, sizeof data->description,
             "%zu training and %zu test images of 1x8x8 pixels from %s", digits.n_train,
             digits.n_test, dir);

cleanup:
    tt_digits_release(&digits);
    if (st != TT_OK)
        ms_data_release(data);
    return st;
}

/* Appends what *make made to model (append takes the layer, also on failure). */
#define APPEND(model, layer, make)                                                          \
    do {                                                                                    \
        TT_CHECK(make);                                                                     \
        TT_CHECK(tt_sequential_append((model), (layer)));                                   \
    } while (0)

static tt_status build_cnn(tt_layer **out, tt_rng *rng)
{
    tt_status st = TT_OK;
    tt_layer *model = NULL, *layer = NULL;
    *out = NULL;
    TT_CHECK(tt_sequential_new(&model));
    APPEND(model, layer, tt_conv2d_new(&layer, 1, 8, 3, 1, 1, true, rng));  /* 8x8x8 */
    APPEND(model, layer, tt_relu_layer_new(&layer));
    APPEND(model, layer, tt_maxpool2d_new(&layer, 2, 2));                  /* 8x4x4 */
    APPEND(model, layer, tt_conv2d_new(&layer, 8, 16, 3, 1, 1, true, rng)); /* 16x4x4 */
    APPEND(model, layer, tt_relu_layer_new(&layer));
    APPEND(model, layer, tt_maxpool2d_new(&layer, 2, 2));                  /* 16x2x2 */
    APPEND(model, layer, tt_flatten_new(&layer));                          /* 64 */
    APPEND(model, layer, tt_linear_new(&layer, 64, TT_DIGITS_CLASSES, true, rng));
    *out = model;
    return TT_OK;

cleanup:
    tt_layer_free(model);
    return st;
}

static const ms_run_spec cnn_run = {
    .key = "",
    .label = "cnn",
    .model = "CNN: Conv(1,8,3) ReLU MaxPool(2) Conv(8,16,3) ReLU MaxPool(2) Flatten Linear(64,10)",
    .build = build_cnn,
    .loss = TT_LOSS_CROSS_ENTROPY,
    .optimizer = TT_OPTIM_ADAM,
    .learning_rate = 0.01f,
    .momentum = 0.0f,
    .batch_size = 32,
};

const ms_spec ms_digits_cnn = {
    .number = 4,
    .headline = "1998: convolutional networks.",
    .history = "LeCun, Bottou, Bengio and Haffner read handwritten digits with a network\n"
               "whose small filters slide over the image and share their weights:\n"
               "the features are learned, and they do not care where a stroke is.",
    .task = "Train a small convolutional network (two 3x3 convolutions with ReLU and 2x2\n"
            "max pooling, then Flatten and Linear; cross-entropy; Adam, learning rate\n"
            "0.01; batches of 32) on 1000 8x8 handwritten digits and measure its accuracy\n"
            "on 200 held-out ones.",
    .default_epochs = 12,
    .default_seed = 1998,
    .reads_data = true,
    .make_data = make_digit_images,
    .batcher = &ms_dataloader_batcher,
    .n_runs = 1,
    .runs = &cnn_run,
};

#ifndef TT_MILESTONE_NO_MAIN
int main(int argc, char **argv)
{
    return ms_main(&ms_digits_cnn, argc, argv);
}
#endif
