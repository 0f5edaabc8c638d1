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
 * them), the result is a new tensor owned by the caller, and on any error *out is
 * NULL, tt_error_last() says what was wrong, and nothing leaks.
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
 * a zero-size dimension), TT_ERR_NOMEM. */
tt_status tt_tensor_zeros(tt_tensor **out, int ndim, const size_t *shape);

/* Like tt_tensor_zeros, filled with `value`. */
tt_status tt_tensor_full(tt_tensor **out, int ndim, const size_t *shape, float value);

/* A new contiguous tensor holding a copy of `data` (numel floats, row-major). */
tt_status tt_tensor_from_data(tt_tensor **out, int ndim, const size_t *shape, const float *data);

/* A scalar (0-dimensional) tensor holding `value`. */
tt_status tt_tensor_scalar(tt_tensor **out, float value);

/* Random tensors from the framework generator: normal(mean, std) and uniform[low, high). */
tt_status tt_tensor_randn(tt_tensor **out, int ndim, const size_t *shape, float mean, float std,
                          tt_rng *rng);
tt_status tt_tensor_uniform(tt_tensor **out, int ndim, const size_t *shape, float low, float high,
                            tt_rng *rng);

/* Take one more reference: the tensor stays alive until every holder has freed it. */
tt_tensor *tt_tensor_retain(tt_tensor *t);

/* Drop one reference; at zero release the storage reference, the gradient and the
 * graph node. tt_tensor_free(NULL) does nothing. */
void tt_tensor_free(tt_tensor *t);

/* ---------------------------------------------------------------------- inspect */

size_t tt_tensor_numel(const tt_tensor *t);

/* True when the elements are laid out row-major without gaps from the offset on. */
bool tt_tensor_is_contiguous(const tt_tensor *t);

/* True when the two tensors have the same ndim and shape. */
bool tt_tensor_same_shape(const tt_tensor *a, const tt_tensor *b);

/* Read one element. index has t->ndim entries. Errors: TT_ERR_RANGE. */
tt_status tt_tensor_get(const tt_tensor *t, const size_t *index, float *value);

/* Write one element (through views, into the shared storage). Errors: TT_ERR_RANGE. */
tt_status tt_tensor_set(tt_tensor *t, const size_t *index, float value);

/* The value of a one-element tensor (any ndim). Errors: TT_ERR_SHAPE if numel != 1. */
tt_status tt_tensor_item(const tt_tensor *t, float *value);

/* Copy the elements, in row-major order of t's shape, into buf (capacity n floats).
 * Errors: TT_ERR_INVALID_ARG when n < numel. */
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
 *     tt_tensor_free(c); */
tt_status tt_tensor_contiguous(tt_tensor **out, tt_tensor *t);

/* ---------------------------------------------------------------- fill and copy */

/* Set every element of t (through views) to value. In place: not recorded by autograd. */
tt_status tt_tensor_fill(tt_tensor *t, float value);

/* Copy src's values into dst (same shape, any strides). In place: not recorded. */
tt_status tt_tensor_assign(tt_tensor *dst, const tt_tensor *src);

/* A new contiguous tensor with t's shape and values (its own storage). Recorded. */
tt_status tt_tensor_copy(tt_tensor **out, tt_tensor *t);

/* ------------------------------------------------------------------------ views */

/* A view with a new shape and the same elements in row-major order. At most one
 * entry of shape may be -1, inferred from the others. A non-contiguous t is copied
 * first (the result then has its own storage). Errors: TT_ERR_SHAPE when the element
 * counts differ or -1 cannot be inferred; TT_ERR_INVALID_ARG for two -1s or ndim > 4. */
tt_status tt_tensor_reshape(tt_tensor **out, tt_tensor *t, int ndim, const ptrdiff_t *shape);

/* A view with dimensions dim0 and dim1 swapped (negative dims allowed). */
tt_status tt_tensor_transpose(tt_tensor **out, tt_tensor *t, int dim0, int dim1);

/* A view of indices [start, stop) along `dim` (step 1). Errors: TT_ERR_RANGE unless
 * 0 <= start < stop <= shape[dim]. */
tt_status tt_tensor_slice(tt_tensor **out, tt_tensor *t, int dim, size_t start, size_t stop);

/* ------------------------------------------------------------------ elementwise */

/* out = a op b with broadcasting (see the top of this file). Division by zero
 * follows IEEE-754 (inf or nan), it is not an error. Errors: TT_ERR_SHAPE. */
tt_status tt_tensor_add(tt_tensor **out, tt_tensor *a, tt_tensor *b);
tt_status tt_tensor_sub(tt_tensor **out, tt_tensor *a, tt_tensor *b);
tt_status tt_tensor_mul(tt_tensor **out, tt_tensor *a, tt_tensor *b);
tt_status tt_tensor_div(tt_tensor **out, tt_tensor *a, tt_tensor *b);

/* out = a + s and out = a * s for a scalar s. */
tt_status tt_tensor_add_scalar(tt_tensor **out, tt_tensor *a, float s);
tt_status tt_tensor_mul_scalar(tt_tensor **out, tt_tensor *a, float s);

/* The shape a and b broadcast to, without computing anything (ndim and shape out). */
tt_status tt_broadcast_shape(int *ndim, size_t *shape, const tt_tensor *a, const tt_tensor *b);

/* ----------------------------------------------------------------------- matmul */

/* Matrix product over the last two dimensions.
 *   a [m,k]   x b [k,n]   -> [m,n]
 *   a [..,m,k] x b [..,k,n] -> [..,m,n]  (leading "batch" dimensions equal)
 *   a [..,m,k] x b [k,n]   -> [..,m,n]  (one b shared by every batch entry)
 * Errors: TT_ERR_SHAPE when the inner sizes differ, the batch dimensions differ, or
 * either input has fewer than 2 dimensions. Costs 2*m*k*n FLOPs per batch entry. */
tt_status tt_tensor_matmul(tt_tensor **out, tt_tensor *a, tt_tensor *b);

/* ------------------------------------------------------------------- reductions */

/* Sum, mean or maximum along `axis`. keepdim keeps the reduced dimension with
 * size 1; otherwise it is removed (a 1-D input then gives a scalar). Errors:
 * TT_ERR_INVALID_ARG for an axis outside [-ndim, ndim). The gradient of max goes to
 * the first maximal element. */
tt_status tt_tensor_sum(tt_tensor **out, tt_tensor *t, int axis, bool keepdim);
tt_status tt_tensor_mean(tt_tensor **out, tt_tensor *t, int axis, bool keepdim);
tt_status tt_tensor_max(tt_tensor **out, tt_tensor *t, int axis, bool keepdim);

/* Sum and mean of every element: a scalar (0-dimensional) tensor. */
tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t);
tt_status tt_tensor_mean_all(tt_tensor **out, tt_tensor *t);

/* Index of the first maximum along `axis`, as floats (not differentiable, never
 * recorded). Used for accuracy. */
tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_TENSOR_H */
