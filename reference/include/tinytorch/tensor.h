/*
 * tinytorch/tensor.h: module 01, the tensor.
 *
 * A tensor is a view: a shape, strides and an offset into a storage (a flat array of
 * float32). Several tensors may share one storage: reshape of a contiguous tensor,
 * transpose and slice make views, never copies. Storage and tensor are both
 * reference-counted; the storage is freed when its last view goes, the tensor when
 * its last holder (the caller, or a graph node from module 05) releases it.
 *
 * Shapes have 0 to TT_MAX_DIMS dimensions; a 0-dimensional tensor is a scalar with
 * one element. Strides count elements, not bytes. Negative axes count from the end
 * (axis -1 is the last dimension).
 *
 * Broadcasting (elementwise ops): shapes are aligned at their last dimension; two
 * sizes fit when they are equal or one of them is 1; a missing leading dimension
 * counts as 1. [2,3] with [3] gives [2,3]; [2,1] with [1,4] gives [2,4]; [2,3] with
 * [2] is a TT_ERR_SHAPE.
 *
 * Gradient fields (requires_grad, grad, grad_fn) exist from module 01 but nothing
 * uses them until module 05 (autograd) records operations. Every operation below
 * that produces a new tensor ends by calling tt_autograd_record(); while no input
 * requires a gradient that call does nothing.
 *
 * Unless a function says otherwise: inputs are borrowed (the function never frees
 * them), the result is a new tensor owned by the caller (release it with
 * tt_tensor_free), and on any error *out is NULL, tt_error_last() says what was wrong
 * (naming the function and the shapes involved, e.g. "tt_tensor_matmul: inner
 * dimensions differ: a is [2,3], b is [4,5]"), and nothing leaks. A NULL `out` or a
 * NULL input tensor is TT_ERR_INVALID_ARG; an allocation failure is TT_ERR_NOMEM.
 *
 * Ownership of views: a view takes its own reference on the storage, not on the
 * tensor it was made from, so the base may be freed before its views (the storage
 * stays alive until the last view of it is freed). The caller frees every tensor it
 * received, views included, exactly once (or once more per tt_tensor_retain).
 *
 * Results of creation, arithmetic, matmul and reductions, and copies, are contiguous,
 * with offset 0 and their own storage; reshape, transpose and slice make views. Every op reads its inputs through their
 * strides: any view, including one with zero strides, is a valid input.
 */
#ifndef TINYTORCH_TENSOR_H
#define TINYTORCH_TENSOR_H

#include "tinytorch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_MAX_DIMS 4

/* A compound-literal shape: tt_tensor_zeros(&t, 2, TT_SHAPE(2, 3)). */
#define TT_SHAPE(...) ((const size_t[]){__VA_ARGS__})

typedef struct tt_node tt_node; /* a graph node: see tinytorch/autograd.h */

/* A flat float32 buffer shared by views. */
typedef struct tt_storage {
    float *data;   /* its own allocation (tt_malloc), `size` floats */
    size_t size;
    int refcount;  /* number of tensors viewing this storage */
} tt_storage;

typedef struct tt_tensor {
    tt_storage *storage;
    size_t offset;                  /* index of element [0,...,0] in storage->data */
    int ndim;                       /* 0..TT_MAX_DIMS */
    size_t shape[TT_MAX_DIMS];
    ptrdiff_t strides[TT_MAX_DIMS]; /* in elements; a view may have any non-negative strides */
    int refcount;                   /* holders of this tensor; tt_tensor_free drops one */

    /* Autograd (module 05); dormant before it. */
    bool requires_grad;     /* a leaf the user wants gradients for, or a recorded result */
    struct tt_tensor *grad; /* accumulated gradient, same shape, or NULL */
    tt_node *grad_fn;       /* the node that produced this tensor, or NULL for a leaf */
} tt_tensor;

/* ------------------------------------------------------------------ create / free */

/* A new contiguous tensor of the given shape filled with zeros. ndim 0 makes a scalar
 * (shape may be NULL). Errors: TT_ERR_INVALID_ARG (out NULL, ndim outside 0..4,
 * shape NULL with ndim > 0, a zero-size dimension), TT_ERR_NOMEM (allocation failed,
 * or more elements than can be addressed). */
tt_status tt_tensor_zeros(tt_tensor **out, int ndim, const size_t *shape);

/* Like tt_tensor_zeros, filled with `value`. */
tt_status tt_tensor_full(tt_tensor **out, int ndim, const size_t *shape, float value);

/* A new contiguous tensor holding a copy of `data` (numel floats, row-major); the
 * caller keeps `data`. Errors: as tt_tensor_zeros, and TT_ERR_INVALID_ARG for NULL data. */
tt_status tt_tensor_from_data(tt_tensor **out, int ndim, const size_t *shape, const float *data);

/* A scalar (0-dimensional) tensor holding `value`. */
tt_status tt_tensor_scalar(tt_tensor **out, float value);

/* Random tensors from the framework generator: normal(mean, std) and uniform[low, high).
 * Exactly one draw per element, in row-major order, computed in float as
 *     randn:   mean + std * tt_rng_normal(rng)
 *     uniform: low + (high - low) * tt_rng_uniform(rng)
 * so the same seed gives the same tensor in every implementation. Errors: as
 * tt_tensor_zeros, and TT_ERR_INVALID_ARG for a NULL rng. */
tt_status tt_tensor_randn(tt_tensor **out, int ndim, const size_t *shape, float mean, float std,
                          tt_rng *rng);
tt_status tt_tensor_uniform(tt_tensor **out, int ndim, const size_t *shape, float low, float high,
                            tt_rng *rng);

/* Take one more reference: the tensor stays alive until every holder has freed it.
 * Returns t (NULL stays NULL). */
tt_tensor *tt_tensor_retain(tt_tensor *t);

/* Drop one reference; at zero release the storage reference (the storage and its
 * data go with the last one), the gradient (tt_tensor_free(t->grad)) and the graph
 * node (tt_node_release(t->grad_fn)). tt_tensor_free(NULL) does nothing. */
void tt_tensor_free(tt_tensor *t);

/* ---------------------------------------------------------------------- inspect */

/* The number of elements: the product of the shape, 1 for a scalar, 0 for NULL. */
size_t tt_tensor_numel(const tt_tensor *t);

/* True when the elements are laid out row-major without gaps from the offset on:
 * strides[d] is the product of shape[d+1..]. A dimension of size 1 may have any
 * stride (it is never stepped over). False for NULL. */
bool tt_tensor_is_contiguous(const tt_tensor *t);

/* True when the two tensors have the same ndim and shape. */
bool tt_tensor_same_shape(const tt_tensor *a, const tt_tensor *b);

/* Read one element. index has t->ndim entries (may be NULL for a scalar).
 * Errors: TT_ERR_RANGE (an index entry >= its dimension), TT_ERR_INVALID_ARG (t,
 * value, or the index of a non-scalar NULL). */
tt_status tt_tensor_get(const tt_tensor *t, const size_t *index, float *value);

/* Write one element (through views, into the shared storage). Errors: as tt_tensor_get.
 * Not recorded by autograd. */
tt_status tt_tensor_set(tt_tensor *t, const size_t *index, float value);

/* The value of a one-element tensor (any ndim). Errors: TT_ERR_SHAPE if numel != 1,
 * TT_ERR_INVALID_ARG for NULL. */
tt_status tt_tensor_item(const tt_tensor *t, float *value);

/* Copy the elements, in row-major order of t's shape, into buf (capacity n floats;
 * entries past numel are left alone). Works on any view.
 * Errors: TT_ERR_INVALID_ARG when n < numel or t or buf is NULL. */
tt_status tt_tensor_to_array(const tt_tensor *t, float *buf, size_t n);

/* The address of element [0,...,0]: for kernels that walk a tensor's strides. */
static inline float *tt_tensor_data(const tt_tensor *t)
{
    return t->storage->data + t->offset;
}

/* For kernels that want a flat row-major array: *out is t itself (retained) when t is
 * contiguous, else a new contiguous copy. Never recorded by autograd. Release *out
 * with tt_tensor_free either way:
 *     tt_tensor *c; st = tt_tensor_contiguous(&c, x); ... tt_tensor_data(c)[i] ...
 *     tt_tensor_free(c);
 * Errors: TT_ERR_INVALID_ARG (NULL), TT_ERR_NOMEM. */
tt_status tt_tensor_contiguous(tt_tensor **out, tt_tensor *t);

/* ---------------------------------------------------------------- fill and copy */

/* Set every element of t (through views) to value. In place: not recorded by autograd.
 * Errors: TT_ERR_INVALID_ARG for NULL. */
tt_status tt_tensor_fill(tt_tensor *t, float value);

/* Copy src's values into dst (same shape, any strides). In place: not recorded.
 * src and dst may view the same storage, overlapping in any pattern (assigning x's
 * transpose into x gives x transposed): src is then read in full before dst is
 * written, which needs a scratch copy. Errors: TT_ERR_SHAPE (shapes differ),
 * TT_ERR_INVALID_ARG (NULL), TT_ERR_NOMEM (the scratch copy). */
tt_status tt_tensor_assign(tt_tensor *dst, const tt_tensor *src);

/* A new contiguous tensor with t's shape and values (its own storage). Recorded
 * (TT_OP_COPY), so gradients flow through a copy. */
tt_status tt_tensor_copy(tt_tensor **out, tt_tensor *t);

/* ------------------------------------------------------------------------ views */

/* A view with a new shape and the same elements in row-major order. At most one
 * entry of shape may be -1, inferred from the others; the others must be >= 1. ndim 0
 * makes a scalar of a one-element tensor (shape may then be NULL). A contiguous t
 * gives a view of its storage (same offset, row-major strides); a non-contiguous t
 * is copied first (the result then has its own storage). Recorded (TT_OP_RESHAPE).
 * Errors: TT_ERR_SHAPE when the element counts differ or -1 cannot be inferred;
 * TT_ERR_INVALID_ARG for two -1s, an entry of 0 or below -1, ndim outside 0..4, or
 * NULL. */
tt_status tt_tensor_reshape(tt_tensor **out, tt_tensor *t, int ndim, const ptrdiff_t *shape);

/* A view with dimensions dim0 and dim1 swapped (shape and strides exchanged; negative
 * dims count from the end; dim0 == dim1 gives a plain view). Recorded
 * (TT_OP_TRANSPOSE with the dims made non-negative). Errors: TT_ERR_INVALID_ARG for a
 * dim outside [-ndim, ndim) (a scalar has none) or NULL. */
tt_status tt_tensor_transpose(tt_tensor **out, tt_tensor *t, int dim0, int dim1);

/* A view of indices [start, stop) along `dim` (step 1; negative dim counts from the
 * end): offset moves by start * strides[dim], shape[dim] becomes stop - start.
 * Recorded (TT_OP_SLICE with dim made non-negative). Errors: TT_ERR_RANGE unless
 * 0 <= start < stop <= shape[dim]; TT_ERR_INVALID_ARG for a bad dim or NULL. */
tt_status tt_tensor_slice(tt_tensor **out, tt_tensor *t, int dim, size_t start, size_t stop);

/* ------------------------------------------------------------------ elementwise */

/* out = a op b with broadcasting (see the top of this file): a new contiguous tensor
 * of the broadcast shape. a and b may be the same tensor or views of one storage.
 * Division by zero follows IEEE-754 (inf or nan), it is not an error. Recorded
 * (TT_OP_ADD, _SUB, _MUL, _DIV). Errors: TT_ERR_SHAPE (shapes that do not
 * broadcast), TT_ERR_INVALID_ARG (NULL). */
tt_status tt_tensor_add(tt_tensor **out, tt_tensor *a, tt_tensor *b);
tt_status tt_tensor_sub(tt_tensor **out, tt_tensor *a, tt_tensor *b);
tt_status tt_tensor_mul(tt_tensor **out, tt_tensor *a, tt_tensor *b);
tt_status tt_tensor_div(tt_tensor **out, tt_tensor *a, tt_tensor *b);

/* out = a + s and out = a * s for a scalar s; out has a's shape. Recorded
 * (TT_OP_ADD_SCALAR / TT_OP_MUL_SCALAR with f[0] = s). Errors: TT_ERR_INVALID_ARG. */
tt_status tt_tensor_add_scalar(tt_tensor **out, tt_tensor *a, float s);
tt_status tt_tensor_mul_scalar(tt_tensor **out, tt_tensor *a, float s);

/* The shape a and b broadcast to, without computing anything: *ndim and shape[0..*ndim)
 * (shape must have room for TT_MAX_DIMS entries). Errors: TT_ERR_SHAPE,
 * TT_ERR_INVALID_ARG (NULL). */
tt_status tt_broadcast_shape(int *ndim, size_t *shape, const tt_tensor *a, const tt_tensor *b);

/* ----------------------------------------------------------------------- matmul */

/* Matrix product over the last two dimensions.
 *   a [m,k]   x b [k,n]   -> [m,n]
 *   a [..,m,k] x b [..,k,n] -> [..,m,n]  (leading "batch" dimensions equal)
 *   a [..,m,k] x b [k,n]   -> [..,m,n]  (one b shared by every batch entry)
 * Inputs may be any views (a transposed b is common). Each output element is a sum of
 * k products; summing them in another order is correct too, so results are compared
 * with a tolerance growing with sqrt(k). Recorded (TT_OP_MATMUL).
 * Errors: TT_ERR_SHAPE when the inner sizes differ, the batch dimensions differ, or
 * either input has fewer than 2 dimensions; TT_ERR_INVALID_ARG (NULL).
 * Costs 2*m*k*n FLOPs per batch entry. */
tt_status tt_tensor_matmul(tt_tensor **out, tt_tensor *a, tt_tensor *b);

/* ------------------------------------------------------------------- reductions */

/* Sum, mean or maximum along `axis`. keepdim keeps the reduced dimension with
 * size 1 ([2,3,4] along axis 1 gives [2,1,4]); otherwise it is removed ([2,4]; a 1-D
 * input then gives a scalar). max propagates NaN (the first NaN along the axis wins).
 * Recorded (TT_OP_SUM, _MEAN, _MAX with i[0] = the axis made non-negative,
 * i[1] = keepdim). Errors: TT_ERR_INVALID_ARG for an axis outside [-ndim, ndim) (a
 * scalar has no axis) or NULL. The gradient of max goes to the first maximal element. */
tt_status tt_tensor_sum(tt_tensor **out, tt_tensor *t, int axis, bool keepdim);
tt_status tt_tensor_mean(tt_tensor **out, tt_tensor *t, int axis, bool keepdim);
tt_status tt_tensor_max(tt_tensor **out, tt_tensor *t, int axis, bool keepdim);

/* Sum and mean of every element: a scalar (0-dimensional) tensor. Recorded
 * (TT_OP_SUM_ALL / TT_OP_MEAN_ALL). Errors: TT_ERR_INVALID_ARG (NULL). */
tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t);
tt_status tt_tensor_mean_all(tt_tensor **out, tt_tensor *t);

/* Index of the first maximum along `axis`, as floats (not differentiable, never
 * recorded); shape as for tt_tensor_max. A NaN counts as the maximum (the first NaN
 * wins). Used for accuracy. Errors: as tt_tensor_max. */
tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_TENSOR_H */
