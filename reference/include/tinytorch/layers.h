/*
 * tinytorch/layers.h: module 03, layers.
 *
 * A layer is a tt_layer: a small vtable plus its own fields. Every layer can run
 * forward, list its parameters, switch between training and evaluation, and free
 * itself. Concrete layers (Linear, Dropout, activations, Sequential) are made by
 * their _new functions and used only through tt_layer_* calls.
 *
 * Parameters are tensors that require gradients (module 05), owned by the layer.
 * tt_layer_parameters appends borrowed pointers to them in a fixed order (for
 * Sequential: layer by layer; for Linear: weight, then bias), the order optimizers
 * and checkpoints rely on.
 */
#ifndef TINYTORCH_LAYERS_H
#define TINYTORCH_LAYERS_H

#include "tinytorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tt_layer tt_layer;

/* A growable list of borrowed parameter tensors. */
typedef struct tt_params {
    tt_tensor **items;
    size_t count;
    size_t capacity;
} tt_params;

/* Start empty (no allocation yet). */
void tt_params_init(tt_params *params);

/* Append a borrowed tensor. Errors: TT_ERR_NOMEM. */
tt_status tt_params_push(tt_params *params, tt_tensor *t);

/* Free the list itself (not the tensors). */
void tt_params_release(tt_params *params);

/* Total number of scalar parameters. */
size_t tt_params_numel(const tt_params *params);

typedef struct tt_layer_vtable {
    const char *name;                                           /* "Linear", "ReLU", ... */
    tt_status (*forward)(tt_layer *layer, tt_tensor **out, tt_tensor *x);
    tt_status (*parameters)(tt_layer *layer, tt_params *params); /* may be NULL: none */
    void (*set_training)(tt_layer *layer, bool training);       /* may be NULL */
    void (*destroy)(tt_layer *layer);                           /* frees everything it owns */
} tt_layer_vtable;

struct tt_layer {
    const tt_layer_vtable *vtable;
    bool training; /* true after _new; tt_layer_set_training changes it */
};

/* ------------------------------------------------------------ every layer */

/* out = layer(x). Errors: whatever the layer's computation reports (e.g. TT_ERR_SHAPE). */
tt_status tt_layer_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);

/* Append the layer's parameters (borrowed) to params. On error (TT_ERR_NOMEM) params
 * may already hold some of them; release it as usual. */
tt_status tt_layer_parameters(tt_layer *layer, tt_params *params);

/* Training (dropout active) or evaluation mode, recursively for containers. */
void tt_layer_set_training(tt_layer *layer, bool training);

/* The layer's name, for summaries. */
const char *tt_layer_name(const tt_layer *layer);

/* Free the layer and everything it owns. NULL does nothing. */
void tt_layer_free(tt_layer *layer);

/* ----------------------------------------------------------------- Linear */

/* y = x W + b with W [in, out] and b [out]; x is [N, in] (or [..., in]).
 * W is initialised uniform in [-1/sqrt(in), 1/sqrt(in)] (Kaiming-uniform with
 * a = sqrt(5), as common frameworks do), b likewise when `bias` is true (else no bias).
 * Draws W first, then b, from rng, exactly as tt_tensor_uniform(-bound, bound) does,
 * with bound = (float)(1 / sqrt(in)) computed in double. W and b require gradients.
 * The forward is tt_tensor_matmul then a broadcast tt_tensor_add, so autograd records
 * it with no code of its own; an x with fewer than 2 dimensions or a last dimension
 * other than in_features is a TT_ERR_SHAPE naming both.
 * Errors: TT_ERR_INVALID_ARG (a zero size, rng NULL), TT_ERR_NOMEM. */
tt_status tt_linear_new(tt_layer **out, size_t in_features, size_t out_features, bool bias,
                        tt_rng *rng);

/* Borrowed access to a Linear's weight and bias (NULL when it has none, or when
 * `layer` is not a Linear). */
tt_tensor *tt_linear_weight(tt_layer *layer);
tt_tensor *tt_linear_bias(tt_layer *layer);

/* ---------------------------------------------------------------- Dropout */

/* In training: zero each element with probability p and scale the rest by 1/(1-p)
 * (inverted dropout), drawing one tt_rng_uniform per element in row-major order and
 * dropping the element when that draw is < p. In evaluation: the identity (a copy).
 * The layer keeps a pointer to rng (borrowed: it must outlive the layer).
 * Errors: TT_ERR_INVALID_ARG unless 0 <= p < 1. */
tt_status tt_dropout_new(tt_layer **out, float p, tt_rng *rng);

/* ------------------------------------------------------- activation layers */

/* Layers wrapping the functions of tinytorch/activations.h (Softmax along axis -1). */
tt_status tt_relu_layer_new(tt_layer **out);
tt_status tt_sigmoid_layer_new(tt_layer **out);
tt_status tt_tanh_layer_new(tt_layer **out);
tt_status tt_gelu_layer_new(tt_layer **out);
tt_status tt_softmax_layer_new(tt_layer **out);

/* ------------------------------------------------------------- Sequential */

/* An empty container; layers run in the order appended. An empty Sequential is the
 * identity (its forward returns a copy). */
tt_status tt_sequential_new(tt_layer **out);

/* Append a layer; the container takes ownership of it (also on failure, when it frees
 * it), so a chain of appends needs no cleanup of its own. Two refusals do not free
 * the layer, because it is still in use: appending a Sequential to itself, and
 * appending a layer this container already holds (both TT_ERR_INVALID_ARG).
 * Errors: TT_ERR_INVALID_ARG (layer NULL, seq NULL or not a Sequential), TT_ERR_NOMEM. */
tt_status tt_sequential_append(tt_layer *seq, tt_layer *layer);

/* Number of layers, and borrowed access to one. */
size_t tt_sequential_length(const tt_layer *seq);
tt_layer *tt_sequential_at(tt_layer *seq, size_t index);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_LAYERS_H */
