/*
 * tinytorch/autograd.h: module 05, reverse-mode automatic differentiation.
 *
 * While gradients are enabled (the default; see tt_grad_set_enabled) and some input of
 * an operation requires a gradient, the operation records a node: which op it was,
 * its inputs (retained, so they outlive the caller's references) and the few
 * scalars its backward needs. The output points to its node through grad_fn; a node
 * never points to its output, so the graph has no reference cycles and is freed with
 * the last tensor that holds it.
 *
 * tt_backward(loss) visits the graph in reverse topological order, so each node's
 * output gradient is complete before it is propagated, and accumulates (adds) the
 * gradient of every tensor that requires one into tensor->grad. Gradients that were
 * broadcast in the forward pass are summed back to the input's shape
 * (tt_grad_reduce_to_shape). Backward computations themselves are never recorded.
 *
 * Every op of modules 01 to 04 has one row in tt_ops[], the op table: its name and
 * its backward function. Later modules define their own tt_op values the same way.
 */
#ifndef TINYTORCH_AUTOGRAD_H
#define TINYTORCH_AUTOGRAD_H

#include "tinytorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_NODE_MAX_INPUTS 3

/* Scalars an op saves for its backward, meaning documented per op in tt_op_id. */
typedef struct tt_node_args {
    long i[4];
    float f[2];
} tt_node_args;

/* Computes the gradients of node->inputs from grad_out (the gradient of the node's
 * output, same shape as the output) and accumulates them with tt_accumulate_grad
 * into every input that requires a gradient, and into no other. Runs with grad mode
 * off (nothing it computes is recorded); must not modify grad_out, which it borrows.
 * A tensor in two input slots (x * x) gets one contribution per slot. */
typedef tt_status (*tt_backward_fn)(tt_node *node, tt_tensor *grad_out);

typedef struct tt_op {
    const char *name;
    tt_backward_fn backward;
} tt_op;

struct tt_node {
    const tt_op *op;
    int n_inputs;
    tt_tensor *inputs[TT_NODE_MAX_INPUTS]; /* retained */
    tt_tensor *saved;                      /* retained, optional (e.g. a dropout mask) */
    tt_node_args args;
    int refcount;                          /* outputs holding this node (one today) */
    unsigned long visit;                   /* scratch for the topological sort */
    struct tt_node *release_next;          /* scratch for tt_node_release's work list */
};

/* The ops of modules 01-04. args used, per op, in brackets. */
typedef enum tt_op_id {
    TT_OP_ADD, TT_OP_SUB, TT_OP_MUL, TT_OP_DIV,
    TT_OP_ADD_SCALAR,   /* f[0] = s */
    TT_OP_MUL_SCALAR,   /* f[0] = s */
    TT_OP_MATMUL,
    TT_OP_SUM,          /* i[0] = axis (non-negative), i[1] = keepdim */
    TT_OP_MEAN,         /* i[0] = axis, i[1] = keepdim */
    TT_OP_MAX,          /* i[0] = axis, i[1] = keepdim */
    TT_OP_SUM_ALL, TT_OP_MEAN_ALL,
    TT_OP_COPY,
    TT_OP_RESHAPE,
    TT_OP_TRANSPOSE,    /* i[0] = dim0, i[1] = dim1 (non-negative) */
    TT_OP_SLICE,        /* i[0] = dim, i[1] = start, i[2] = stop */
    TT_OP_RELU, TT_OP_SIGMOID, TT_OP_TANH, TT_OP_GELU,
    TT_OP_SOFTMAX,      /* i[0] = axis */
    TT_OP_DROPOUT,      /* saved = the scaled mask (0 or 1/(1-p)) */
    TT_OP_MSE,          /* inputs {pred, target}: only pred gets a gradient */
    TT_OP_BCE,          /* f[0] = clamp epsilon (0: TT_BCE_EPSILON); gradient 0 where clamped */
    TT_OP_CROSS_ENTROPY, /* inputs {logits [N,C], targets [N]}: only logits */
    TT_OP_COUNT
} tt_op_id;

/* The op table. */
extern const tt_op tt_ops[TT_OP_COUNT];

/* ------------------------------------------------------------- grad mode */

/* Whether operations record nodes. Returns the previous setting, so code can
 * restore it: `bool was = tt_grad_set_enabled(false); ... tt_grad_set_enabled(was);`
 * The setting is per thread. */
bool tt_grad_set_enabled(bool enabled);
bool tt_grad_is_enabled(void);

/* Mark a leaf tensor as wanting (or not) a gradient. Any tensor can be a leaf,
 * views included: a view made while nothing required a gradient has no grad_fn.
 * Errors: TT_ERR_INVALID_ARG for t NULL, or for a non-leaf (a tensor with grad_fn)
 * asked to stop requiring a gradient (compute it in no-grad mode instead). */
tt_status tt_tensor_set_requires_grad(tt_tensor *t, bool requires_grad);

/* ------------------------------------------------------------- recording */

/* True when an op over these inputs must be recorded: grad mode is on and at least
 * one input requires a gradient. NULL entries are ignored. */
bool tt_autograd_needed(int n_inputs, tt_tensor *const *inputs);

/* Record that `out` was produced by `op` from `inputs`. Does nothing (TT_OK) unless
 * tt_autograd_needed(). Otherwise makes a node that retains the inputs (NULL entries
 * stay NULL) and `saved` (may be NULL), copies *args (may be NULL: all zero), and sets
 * out->grad_fn and out->requires_grad. Errors: TT_ERR_INVALID_ARG (out or op NULL,
 * n_inputs outside 1..3, out already recorded), TT_ERR_NOMEM; on error `out` is
 * unchanged and the caller frees it. */
tt_status tt_autograd_record(tt_tensor *out, const tt_op *op, int n_inputs,
                             tt_tensor *const *inputs, const tt_node_args *args, tt_tensor *saved);

/* Release one reference to a node (tensor.c calls this when freeing a tensor);
 * at zero release its inputs and saved tensor. NULL does nothing. Freeing a chain
 * of any depth takes constant stack: nodes freed on the way are queued, not
 * released recursively. */
void tt_node_release(tt_node *node);

/* -------------------------------------------------------------- backward */

/* Backpropagate from `root`, which must have exactly one element (a loss):
 * seeds d(root)/d(root) = 1 and accumulates into the .grad of every tensor in the
 * graph that requires a gradient (leaves and intermediates alike, the root too).
 * The graph is left as it was: calling it twice accumulates twice. An intermediate's
 * .grad is only an output: what it held before does not flow further down.
 * Runs with grad mode off and restores it. Needs no stack proportional to the depth
 * of the graph. Errors: TT_ERR_INVALID_ARG (root NULL), TT_ERR_SHAPE (root not a
 * single element), TT_ERR_STATE (root does not require a gradient; called from a
 * backward function; an op without a backward function), TT_ERR_NOMEM, or whatever
 * a backward function reports. After an error some .grad may hold part of this
 * pass's gradients: zero them before trying again. */
tt_status tt_backward(tt_tensor *root);

/* Like tt_backward with an explicit output gradient of root's shape (borrowed, not
 * modified): the gradients of sum(grad_root * root), for a root of any shape.
 * Errors: as tt_backward, with TT_ERR_SHAPE when grad_root's shape is not root's. */
tt_status tt_backward_with(tt_tensor *root, tt_tensor *grad_root);

/* Add g into t->grad (allocating t->grad as a copy of g the first time: never g
 * itself). g (borrowed, any strides) must have t's shape. During tt_backward this is
 * how backward functions hand over gradients: for a tensor produced by a node of
 * the running pass, g is added to that node's pending output gradient instead, and
 * reaches t->grad once all of it is in. Errors: TT_ERR_INVALID_ARG (NULL),
 * TT_ERR_SHAPE; t->grad is unchanged on error. */
tt_status tt_accumulate_grad(tt_tensor *t, tt_tensor *g);

/* Sum a broadcast gradient back to `shape`: leading dimensions that broadcasting
 * added are summed away, dimensions that were 1 are summed with keepdim.
 * grad [4,2,3] to [2,1] gives [2,1]; to ndim 0 (shape may be NULL) the total.
 * *out is the caller's; when no summing is needed it is grad itself, retained.
 * Never recorded. Errors: TT_ERR_INVALID_ARG (out or grad NULL), TT_ERR_SHAPE when
 * `shape` does not broadcast to grad's shape. */
tt_status tt_grad_reduce_to_shape(tt_tensor **out, tt_tensor *grad, int ndim, const size_t *shape);

/* Drop t->grad (the next backward starts from zero). NULL does nothing. */
void tt_tensor_zero_grad(tt_tensor *t);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_AUTOGRAD_H */
