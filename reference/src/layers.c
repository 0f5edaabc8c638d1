/*
 * Module 03: layers (contract in tinytorch/layers.h).
 *
 * A layer is a struct whose first member is a tt_layer (so a pointer to the one is a
 * pointer to the other) and whose vtable says how to run it. The generic tt_layer_*
 * functions only check their arguments and dispatch; everything a layer knows lives
 * in its own struct below.
 *
 * Linear and Dropout compute with the ops of module 01, so autograd (module 05) sees
 * them without any code here: Linear is matmul + broadcast add; Dropout records its
 * own op, TT_OP_DROPOUT, whose backward multiplies by the saved scaled mask (one
 * node, instead of building a mask tensor and recording a MUL, which would work too).
 *
 * Ownership: a layer owns its parameters (it created them; other holders such as an
 * optimizer retain them), a Sequential owns its children, a Dropout only borrows its rng.
 */
#include "tinytorch/layers.h"

#include <math.h>
#include <stdio.h>

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"

/* "[2,3,4]" for error messages; "[]" for a scalar. Truncates to fit `cap`. */
static const char *shape_str(char *buf, size_t cap, const tt_tensor *t)
{
    size_t used = 0;
    int n = snprintf(buf, cap, "[");
    for (int d = 0; n >= 0 && d < t->ndim; d++) {
        used += (size_t)n;
        if (used >= cap)
            return buf;
        n = snprintf(buf + used, cap - used, d ? ",%zu" : "%zu", t->shape[d]);
    }
    if (n >= 0 && (used += (size_t)n) < cap)
        snprintf(buf + used, cap - used, "]");
    return buf;
}

/* ============================================================== parameter lists */

void tt_params_init(tt_params *params)
{
    if (!params)
        return;
    params->items = NULL;
    params->count = 0;
    params->capacity = 0;
}

tt_status tt_params_push(tt_params *params, tt_tensor *t)
{
    /* BEGIN SOLUTION */
    if (!params || !t)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_params_push: %s is NULL",
                            params ? "tensor" : "params");
    if (params->count == params->capacity) {
        /* Doubling keeps a long chain of pushes linear in total copying. There is no
         * tt_realloc: allocate the bigger array, copy, free the old one. */
        size_t cap = params->capacity ? 2 * params->capacity : 8;
        tt_tensor **items = tt_malloc(cap * sizeof *items);
        if (!items)
            return TT_ERR_NOMEM;
        for (size_t i = 0; i < params->count; i++)
            items[i] = params->items[i];
        tt_free(params->items);
        params->items = items;
        params->capacity = cap;
    }
    params->items[params->count++] = t;
    return TT_OK;
    /* END SOLUTION */
}

/* Frees what tt_params_push allocated: push must take its array from tt_malloc. */
void tt_params_release(tt_params *params)
{
    if (!params)
        return;
    tt_free(params->items);
    tt_params_init(params);
}

size_t tt_params_numel(const tt_params *params)
{
    /* BEGIN SOLUTION: return 0; */
    size_t total = 0;
    for (size_t i = 0; params && i < params->count; i++)
        total += tt_tensor_numel(params->items[i]);
    return total;
    /* END SOLUTION */
}

/* =========================================================== generic dispatch */

tt_status tt_layer_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layer_forward: out is NULL (expected the "
                            "address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!layer || !x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layer_forward: %s is NULL",
                            layer ? "input tensor" : "layer");
    return layer->vtable->forward(layer, out, x);
}

tt_status tt_layer_parameters(tt_layer *layer, tt_params *params)
{
    if (!layer || !params)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layer_parameters: %s is NULL",
                            layer ? "params" : "layer");
    if (!layer->vtable->parameters)
        return TT_OK;
    return layer->vtable->parameters(layer, params);
}

void tt_layer_set_training(tt_layer *layer, bool training)
{
    if (!layer)
        return;
    layer->training = training;
    if (layer->vtable->set_training)
        layer->vtable->set_training(layer, training);
}

const char *tt_layer_name(const tt_layer *layer)
{
    return layer ? layer->vtable->name : "(null)";
}

void tt_layer_free(tt_layer *layer)
{
    if (layer)
        layer->vtable->destroy(layer);
}

/* ===================================================================== Linear */

typedef struct linear_layer {
    tt_layer base;
    size_t in_features, out_features;
    tt_tensor *weight; /* [in, out], requires grad */
    tt_tensor *bias;   /* [out], requires grad; NULL without bias */
} linear_layer;

static tt_status linear_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status linear_parameters(tt_layer *layer, tt_params *params);
static void linear_destroy(tt_layer *layer);

static const tt_layer_vtable linear_vtable = {
    "Linear", linear_forward, linear_parameters, NULL, linear_destroy,
};

tt_status tt_linear_new(tt_layer **out, size_t in_features, size_t out_features, bool bias,
                        tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_linear_new: out is NULL (expected the "
                            "address of a tt_layer * to receive the layer)");
    *out = NULL;
    if (in_features == 0 || out_features == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_linear_new: in_features=%zu, "
                            "out_features=%zu (expected both >= 1)", in_features, out_features);
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_linear_new: rng is NULL (expected a "
                            "seeded tt_rng for the initialisation)");
    tt_status st = TT_OK;
    linear_layer *lin = tt_calloc(1, sizeof *lin);
    if (!lin)
        return TT_ERR_NOMEM;
    lin->base.vtable = &linear_vtable;
    lin->base.training = true;
    lin->in_features = in_features;
    lin->out_features = out_features;
    /* Uniform(-1/sqrt(in), 1/sqrt(in)) keeps the variance of each output near the
     * variance of one input at the start, whatever the fan-in. */
    float bound = (float)(1.0 / sqrt((double)in_features));
    TT_CHECK(tt_tensor_uniform(&lin->weight, 2, TT_SHAPE(in_features, out_features), -bound,
                               bound, rng));
    TT_CHECK(tt_tensor_set_requires_grad(lin->weight, true));
    if (bias) {
        TT_CHECK(tt_tensor_uniform(&lin->bias, 1, TT_SHAPE(out_features), -bound, bound, rng));
        TT_CHECK(tt_tensor_set_requires_grad(lin->bias, true));
    }
    *out = &lin->base;
    return TT_OK;
cleanup:
    linear_destroy(&lin->base);
    return st;
    /* END SOLUTION */
}

static tt_status linear_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    linear_layer *lin = (linear_layer *)layer;
    if (x->ndim < 2 || x->shape[x->ndim - 1] != lin->in_features) {
        char s[64];
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_forward: Linear(%zu, %zu) got input %s "
                            "(expected [N,%zu] or [...,%zu])", lin->in_features,
                            lin->out_features, shape_str(s, sizeof s, x), lin->in_features,
                            lin->in_features);
    }
    tt_tensor *xw = NULL;
    tt_status st = tt_tensor_matmul(&xw, x, lin->weight);
    if (st != TT_OK || !lin->bias) {
        *out = xw;
        return st;
    }
    /* [..., out] + [out] broadcasts; the graph keeps xw alive for backward. */
    st = tt_tensor_add(out, xw, lin->bias);
    tt_tensor_free(xw);
    return st;
    /* END SOLUTION */
}

static tt_status linear_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    linear_layer *lin = (linear_layer *)layer;
    tt_status st = tt_params_push(params, lin->weight);
    if (st == TT_OK && lin->bias)
        st = tt_params_push(params, lin->bias);
    return st;
    /* END SOLUTION */
}

static void linear_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    linear_layer *lin = (linear_layer *)layer;
    tt_tensor_free(lin->weight);
    tt_tensor_free(lin->bias);
    tt_free(lin);
    /* END SOLUTION */
}

tt_tensor *tt_linear_weight(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &linear_vtable)
        return NULL;
    return ((linear_layer *)layer)->weight;
    /* END SOLUTION */
}

tt_tensor *tt_linear_bias(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &linear_vtable)
        return NULL;
    return ((linear_layer *)layer)->bias;
    /* END SOLUTION */
}

/* ==================================================================== Dropout */

typedef struct dropout_layer {
    tt_layer base;
    float p;     /* probability of dropping an element, in [0, 1) */
    tt_rng *rng; /* borrowed */
} dropout_layer;

static tt_status dropout_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static void dropout_destroy(tt_layer *layer);

static const tt_layer_vtable dropout_vtable = {
    "Dropout", dropout_forward, NULL, NULL, dropout_destroy,
};

tt_status tt_dropout_new(tt_layer **out, float p, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dropout_new: out is NULL (expected the "
                            "address of a tt_layer * to receive the layer)");
    *out = NULL;
    /* Written so that nan fails too. p = 1 would scale by 1/0. */
    if (!(p >= 0.0f && p < 1.0f))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dropout_new: p = %g (expected 0 <= p < 1)",
                            (double)p);
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_dropout_new: rng is NULL (expected a "
                            "seeded tt_rng that outlives the layer)");
    dropout_layer *d = tt_calloc(1, sizeof *d);
    if (!d)
        return TT_ERR_NOMEM;
    d->base.vtable = &dropout_vtable;
    d->base.training = true;
    d->p = p;
    d->rng = rng;
    *out = &d->base;
    return TT_OK;
    /* END SOLUTION */
}

static tt_status dropout_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    tt_tensor *y = NULL, *mask = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    dropout_layer *d = (dropout_layer *)layer;
    if (!layer->training)
        return tt_tensor_copy(out, x);
    tt_tensor *xc = NULL;
    st = tt_tensor_contiguous(&xc, x);
    if (st == TT_OK)
        st = tt_tensor_zeros(&mask, x->ndim, x->shape);
    if (st == TT_OK)
        st = tt_tensor_zeros(&y, x->ndim, x->shape);
    if (st != TT_OK) {
        tt_tensor_free(xc);
        tt_tensor_free(mask);
        return st;
    }
    /* Inverted dropout: survivors are scaled up now, so evaluation needs no rescaling
     * and the expected value of every element is unchanged. */
    float scale = 1.0f / (1.0f - d->p);
    const float *src = tt_tensor_data(xc);
    float *m = tt_tensor_data(mask);
    float *dst = tt_tensor_data(y);
    size_t n = tt_tensor_numel(x);
    for (size_t i = 0; i < n; i++) {
        m[i] = tt_rng_uniform(d->rng) < d->p ? 0.0f : scale;
        dst[i] = src[i] * m[i];
    }
    tt_tensor_free(xc);
    /* END SOLUTION */
    /* The mask is all the backward needs: grad_x = grad_y * mask. */
    tt_tensor *inputs[1] = {x};
    st = tt_autograd_record(y, &tt_ops[TT_OP_DROPOUT], 1, inputs, NULL, mask);
    tt_tensor_free(mask);
    if (st != TT_OK) {
        tt_tensor_free(y);
        return st;
    }
    *out = y;
    return TT_OK;
}

static void dropout_destroy(tt_layer *layer)
{
    tt_free(layer);
}

/* ========================================================== activation layers */

static tt_status relu_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status sigmoid_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status tanh_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status gelu_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status softmax_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
/* An activation layer is a bare tt_layer: it has no state of its own. */
static void activation_destroy(tt_layer *layer)
{
    tt_free(layer);
}

static const tt_layer_vtable relu_vtable = {"ReLU", relu_forward, NULL, NULL, activation_destroy};
static const tt_layer_vtable sigmoid_vtable = {"Sigmoid", sigmoid_forward, NULL, NULL,
                                               activation_destroy};
static const tt_layer_vtable tanh_vtable = {"Tanh", tanh_forward, NULL, NULL, activation_destroy};
static const tt_layer_vtable gelu_vtable = {"GELU", gelu_forward, NULL, NULL, activation_destroy};
static const tt_layer_vtable softmax_vtable = {"Softmax", softmax_forward, NULL, NULL,
                                               activation_destroy};

static tt_status relu_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    (void)layer;
    return tt_relu(out, x);
    /* END SOLUTION */
}

static tt_status sigmoid_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    (void)layer;
    return tt_sigmoid(out, x);
    /* END SOLUTION */
}

static tt_status tanh_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    (void)layer;
    return tt_tanh(out, x);
    /* END SOLUTION */
}

static tt_status gelu_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    (void)layer;
    return tt_gelu(out, x);
    /* END SOLUTION */
}

static tt_status softmax_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    (void)layer;
    return tt_softmax(out, x, -1);
    /* END SOLUTION */
}

/* BEGIN SOLUTION: */
static tt_status activation_new(tt_layer **out, const tt_layer_vtable *vtable, const char *fn)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_layer * to receive the layer)", fn);
    *out = NULL;
    tt_layer *layer = tt_calloc(1, sizeof *layer);
    if (!layer)
        return TT_ERR_NOMEM;
    layer->vtable = vtable;
    layer->training = true;
    *out = layer;
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_relu_layer_new(tt_layer **out)
{
    /* BEGIN SOLUTION */
    return activation_new(out, &relu_vtable, __func__);
    /* END SOLUTION */
}

tt_status tt_sigmoid_layer_new(tt_layer **out)
{
    /* BEGIN SOLUTION */
    return activation_new(out, &sigmoid_vtable, __func__);
    /* END SOLUTION */
}

tt_status tt_tanh_layer_new(tt_layer **out)
{
    /* BEGIN SOLUTION */
    return activation_new(out, &tanh_vtable, __func__);
    /* END SOLUTION */
}

tt_status tt_gelu_layer_new(tt_layer **out)
{
    /* BEGIN SOLUTION */
    return activation_new(out, &gelu_vtable, __func__);
    /* END SOLUTION */
}

tt_status tt_softmax_layer_new(tt_layer **out)
{
    /* BEGIN SOLUTION */
    return activation_new(out, &softmax_vtable, __func__);
    /* END SOLUTION */
}

/* ================================================================= Sequential */

typedef struct sequential_layer {
    tt_layer base;
    tt_layer **layers; /* owned, run in this order */
    size_t count, capacity;
} sequential_layer;

static tt_status sequential_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status sequential_parameters(tt_layer *layer, tt_params *params);
static void sequential_set_training(tt_layer *layer, bool training);
static void sequential_destroy(tt_layer *layer);

static const tt_layer_vtable sequential_vtable = {
    "Sequential", sequential_forward, sequential_parameters, sequential_set_training,
    sequential_destroy,
};

tt_status tt_sequential_new(tt_layer **out)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sequential_new: out is NULL (expected the "
                            "address of a tt_layer * to receive the layer)");
    *out = NULL;
    sequential_layer *seq = tt_calloc(1, sizeof *seq);
    if (!seq)
        return TT_ERR_NOMEM;
    seq->base.vtable = &sequential_vtable;
    seq->base.training = true;
    *out = &seq->base;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_sequential_append(tt_layer *seq_layer, tt_layer *layer)
{
    /* BEGIN SOLUTION */
    if (!layer)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sequential_append: layer is NULL");
    /* Freeing the layer here would free the container (or one of its children) under
     * the caller's feet: these two are refused without taking ownership. */
    if (layer == seq_layer)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sequential_append: cannot append a "
                            "Sequential to itself");
    if (!seq_layer || seq_layer->vtable != &sequential_vtable) {
        tt_status st = tt_error_set(TT_ERR_INVALID_ARG, "tt_sequential_append: container is "
                                    "%s (expected a layer made by tt_sequential_new); the %s "
                                    "layer was freed", seq_layer ? tt_layer_name(seq_layer)
                                                                 : "NULL", tt_layer_name(layer));
        tt_layer_free(layer);
        return st;
    }
    sequential_layer *seq = (sequential_layer *)seq_layer;
    for (size_t i = 0; i < seq->count; i++)
        if (seq->layers[i] == layer)
            return tt_error_set(TT_ERR_INVALID_ARG, "tt_sequential_append: this %s layer is "
                                "already at index %zu (a layer can be owned only once)",
                                tt_layer_name(layer), i);
    if (seq->count == seq->capacity) {
        size_t cap = seq->capacity ? 2 * seq->capacity : 4;
        tt_layer **grown = tt_malloc(cap * sizeof *grown);
        if (!grown) {
            tt_layer_free(layer);
            return TT_ERR_NOMEM;
        }
        for (size_t i = 0; i < seq->count; i++)
            grown[i] = seq->layers[i];
        tt_free(seq->layers);
        seq->layers = grown;
        seq->capacity = cap;
    }
    seq->layers[seq->count++] = layer;
    return TT_OK;
    /* END SOLUTION */
}

size_t tt_sequential_length(const tt_layer *seq)
{
    /* BEGIN SOLUTION: return 0; */
    if (!seq || seq->vtable != &sequential_vtable)
        return 0;
    return ((const sequential_layer *)seq)->count;
    /* END SOLUTION */
}

tt_layer *tt_sequential_at(tt_layer *seq, size_t index)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!seq || seq->vtable != &sequential_vtable)
        return NULL;
    sequential_layer *s = (sequential_layer *)seq;
    return index < s->count ? s->layers[index] : NULL;
    /* END SOLUTION */
}

static tt_status sequential_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    sequential_layer *seq = (sequential_layer *)layer;
    /* An empty container is the identity; a copy keeps "the result is a new tensor". */
    if (seq->count == 0)
        return tt_tensor_copy(out, x);
    tt_tensor *cur = x;
    for (size_t i = 0; i < seq->count; i++) {
        tt_tensor *next = NULL;
        tt_status st = tt_layer_forward(seq->layers[i], &next, cur);
        /* Intermediate results the graph needs are retained by their nodes, so our
         * reference can go as soon as the next layer has run. */
        if (cur != x)
            tt_tensor_free(cur);
        if (st != TT_OK)
            return st;
        cur = next;
    }
    *out = cur;
    return TT_OK;
    /* END SOLUTION */
}

static tt_status sequential_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    sequential_layer *seq = (sequential_layer *)layer;
    for (size_t i = 0; i < seq->count; i++) {
        tt_status st = tt_layer_parameters(seq->layers[i], params);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
    /* END SOLUTION */
}

static void sequential_set_training(tt_layer *layer, bool training)
{
    /* BEGIN SOLUTION: */
    sequential_layer *seq = (sequential_layer *)layer;
    for (size_t i = 0; i < seq->count; i++)
        tt_layer_set_training(seq->layers[i], training);
    /* END SOLUTION */
}

static void sequential_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    sequential_layer *seq = (sequential_layer *)layer;
    for (size_t i = 0; i < seq->count; i++)
        tt_layer_free(seq->layers[i]);
    tt_free(seq->layers);
    tt_free(seq);
    /* END SOLUTION */
}
