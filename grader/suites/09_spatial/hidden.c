/*
 * grader/suites/09_spatial/hidden.c: the hidden checks of module 09 (spatial).
 *
 * Students see only each case's category and verdict. Every check follows from
 * tinytorch/spatial.h: views as inputs, 1x1 and whole-image kernels, gradients that
 * accumulate over two backward passes, max-pooling ties and NaNs, batch norm without
 * gamma/beta and with momentum 0 and 1, layers without bias.
 */
#include <math.h>
#include <stdlib.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/spatial.h"

#include "helpers.h"

static void case_conv_view_input(tito_probe *p)
{
    /* x is a transposed view (H and W swapped): not contiguous. */
    tt_tensor *base = probe_randn(p, 4, TT_SHAPE(2, 3, 5, 4));
    tt_tensor *x = NULL, *out = NULL;
    tt_tensor *w = probe_randn(p, 4, TT_SHAPE(2, 3, 2, 2));
    probe_note(p, "x = transpose(base [2,3,5,4], 2, 3): a [2,3,4,5] view, not contiguous; "
                  "tt_conv2d(x, weight [2,3,2,2], NULL, 1, 0)");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&x, base, 2, 3));
    probe_status(p, "status", tt_conv2d(&out, x, w, NULL, 1, 0));
    probe_tol_reduction(p, 12);
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_tensor_free(w);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static void case_conv_1x1_and_whole(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 4, 3, 3));
    tt_tensor *w1 = probe_randn(p, 4, TT_SHAPE(5, 4, 1, 1));
    tt_tensor *w3 = probe_randn(p, 4, TT_SHAPE(2, 4, 3, 3));
    tt_tensor *b = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *a = NULL, *c = NULL;
    probe_note(p, "x [2,4,3,3]: a 1x1 convolution (weight [5,4,1,1]) and a whole-image one "
                  "(weight [2,4,3,3], out [2,2,1,1]), stride 3 padding 0");
    probe_tol_exact(p);
    probe_status(p, "1x1_status", tt_conv2d(&a, x, w1, NULL, 1, 0));
    probe_status(p, "whole_status", tt_conv2d(&c, x, w3, b, 3, 0));
    probe_tol_reduction(p, 37);
    probe_tensor(p, "1x1_out", a);
    probe_tensor(p, "whole_out", c);
    tt_tensor_free(c);
    tt_tensor_free(a);
    tt_tensor_free(b);
    tt_tensor_free(w3);
    tt_tensor_free(w1);
    tt_tensor_free(x);
}

static void case_conv_grad_accumulates(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(1, 2, 4, 4));
    tt_tensor *w = probe_randn(p, 4, TT_SHAPE(2, 2, 3, 3));
    tt_tensor *g = probe_randn(p, 4, TT_SHAPE(1, 2, 4, 4));
    probe_note(p, "two forward/backward passes of tt_conv2d(x, w, NULL, 1, 1) without zeroing: "
                  "w.grad and x.grad are the sums of both passes");
    probe_tol_exact(p);
    probe_status(p, "x_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "w_requires_grad", tt_tensor_set_requires_grad(w, true));
    for (int pass = 0; pass < 2; pass++) {
        tt_tensor *y = NULL;
        probe_status(p, "forward_status", tt_conv2d(&y, x, w, NULL, 1, 1));
        backward_from(p, y, g);
        tt_tensor_free(y);
    }
    probe_tol_reduction(p, 36);
    probe_tensor(p, "w.grad", w->grad);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(g);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

static void case_maxpool_ties_nan(tito_probe *p)
{
    /* Window 1: all equal (the gradient goes to the first). Window 2: a NaN wins. */
    float xd[8] = {2, 2, 1, NAN, 2, 2, 5, 0};
    tt_tensor *x = probe_from_data(p, 4, TT_SHAPE(1, 1, 2, 4), xd);
    tt_tensor *g = probe_uniform(p, 4, TT_SHAPE(1, 1, 1, 2), 1.0f, 2.0f);
    tt_tensor *y = NULL;
    probe_note(p, "x [[2,2,1,NaN],[2,2,5,0]], maxpool 2x2 stride 2: out [2, NaN]; the gradient "
                  "of a tied window goes to its first maximal element only");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "status", tt_maxpool2d(&y, x, 2, 2));
    probe_tensor(p, "out", y);
    backward_from(p, y, g);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_avgpool_view(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 4, TT_SHAPE(2, 6, 3, 4));
    tt_tensor *x = NULL, *out = NULL;
    probe_note(p, "x = slice(base [2,6,3,4], dim 1, 1..4): a [2,3,3,4] view; avgpool 2x2 "
                  "stride 1");
    probe_tol_exact(p);
    probe_status(p, "slice_status", tt_tensor_slice(&x, base, 1, 1, 4));
    probe_status(p, "status", tt_avgpool2d(&out, x, 2, 1));
    probe_tol_reduction(p, 4);
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static void case_bn_momentum_edges(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(3, 2, 2, 2));
    float m0[2] = {0.25f, -1.0f}, v0[2] = {1.5f, 0.5f};
    static const float moms[2] = {0.0f, 1.0f};
    probe_note(p, "tt_batchnorm2d in training without gamma/beta, momentum 0 (running stats "
                  "unchanged) and 1 (they become the batch mean and the unbiased var, M = 12)");
    for (int i = 0; i < 2; i++) {
        tt_tensor *rm = probe_from_data(p, 1, TT_SHAPE(2), m0);
        tt_tensor *rv = probe_from_data(p, 1, TT_SHAPE(2), v0);
        tt_tensor *out = NULL;
        probe_tol_exact(p);
        probe_status(p, "status", tt_batchnorm2d(&out, x, NULL, NULL, rm, rv, true, moms[i],
                                                 1e-5f));
        probe_tol_reduction(p, 12);
        probe_tensor(p, "out", out);
        probe_tensor(p, "running_mean", rm);
        probe_tensor(p, "running_var", rv);
        tt_tensor_free(out);
        tt_tensor_free(rv);
        tt_tensor_free(rm);
    }
    tt_tensor_free(x);
}

static void case_bn_no_affine_backward(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 3, 2, 2));
    tt_tensor *g = probe_randn(p, 4, TT_SHAPE(2, 3, 2, 2));
    tt_tensor *y = NULL;
    probe_note(p, "x [2,3,2,2] requires grad; y = tt_batchnorm2d(x, NULL, NULL, NULL, NULL, "
                  "training): the normalised x; backward through the batch statistics");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "status", tt_batchnorm2d(&y, x, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    backward_from(p, y, g);
    probe_tol_reduction(p, 8);
    probe_tensor(p, "out", y);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_conv_layer_no_bias(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *layer = NULL;
    probe_note(p, "tt_conv2d_new(&layer, 2, 3, kernel 2, stride 2, padding 0, no bias, rng): "
                  "weight [3,2,2,2] uniform(-1/sqrt(8), 1/sqrt(8)); bias NULL; one parameter");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_conv2d_new(&layer, 2, 3, 2, 2, 0, false, &rng));
    probe_tol_elementwise(p);
    probe_tensor(p, "weight", layer ? tt_conv2d_weight(layer) : NULL);
    probe_tol_exact(p);
    probe_int(p, "bias_is_null", layer && tt_conv2d_bias(layer) == NULL);
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", layer ? tt_layer_parameters(layer, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    tt_layer_free(layer);
}

static void case_flatten_noncontiguous(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 3, TT_SHAPE(4, 3, 2));
    tt_tensor *x = NULL, *y = NULL;
    probe_note(p, "x = transpose(base [4,3,2], 0, 1): [3,4,2], not contiguous; tt_flatten "
                  "gives [3,8] holding x's values in x's row-major order");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&x, base, 0, 1));
    probe_status(p, "status", tt_flatten(&y, x));
    probe_tensor(p, "out", y);
    tt_tensor_free(y);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static const tito_probe_case cases[] = {
    {"conv.view_input", "convolution", 2, case_conv_view_input},
    {"conv.1x1_and_whole_image", "convolution", 2, case_conv_1x1_and_whole},
    {"conv.grad_accumulates", "convolution", 2, case_conv_grad_accumulates},
    {"pool.max_ties_nan", "pooling", 2, case_maxpool_ties_nan},
    {"pool.avg_view", "pooling", 1, case_avgpool_view},
    {"batchnorm.momentum_edges", "batchnorm", 2, case_bn_momentum_edges},
    {"batchnorm.no_affine_backward", "batchnorm", 2, case_bn_no_affine_backward},
    {"layer.conv2d_no_bias", "layers", 1, case_conv_layer_no_bias},
    {"flatten.noncontiguous", "flatten", 1, case_flatten_noncontiguous},
};

TITO_PROBE_MAIN(cases)
