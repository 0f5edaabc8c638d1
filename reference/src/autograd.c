/*
 * autograd.c: module 05, reverse-mode automatic differentiation.
 *
 * Three parts. Recording: ops of modules 01-04 call tt_autograd_record, which hangs a
 * node (op, retained inputs, saved scalars) on their output. The engine: tt_backward
 * sorts the nodes reachable from the root (iteratively: an unrolled loop can make a
 * graph thousands of nodes deep), then walks them root first; each node's output
 * gradient is gathered in a per-pass table until every consumer has contributed, then
 * added once to the output's .grad and handed to the op's backward function. The op
 * table: one backward function per op id.
 *
 * Invariants: a node never points to its output, so the graph is acyclic in memory
 * and dies with the last tensor holding it; backward functions run with grad mode
 * off, so they never record; gradients reach only tensors with requires_grad.
 *
 * tt_autograd_needed and tt_node_release are scaffolding: modules 01-04 call them
 * and must keep working while module 05 is still a starter.
 */
#include "tinytorch/autograd.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tinytorch/losses.h"

/* ==================================================================== helpers */

/* BEGIN SOLUTION: */
/* "[2,3]" into buf, for error messages. */
static const char *shape_str(char *buf, size_t n, int ndim, const size_t *shape)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, d ? ",%zu" : "%zu", shape[d]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
    return buf;
}

/* Align a shape and strides to TT_MAX_DIMS dimensions at the last one (leading
 * dimensions of size 1), so every strided loop below is one 4-deep nest. */
static void pad4(int ndim, const size_t *shape, const ptrdiff_t *strides, size_t s4[4],
                 ptrdiff_t st4[4])
{
    int lead = TT_MAX_DIMS - ndim;
    for (int d = 0; d < TT_MAX_DIMS; d++) {
        s4[d] = d < lead ? 1 : shape[d - lead];
        st4[d] = d < lead ? 0 : strides[d - lead];
    }
}

/* dst = scale * src (or dst += scale * src) over the index space `shape`, each side
 * addressed through its own strides. A stride of 0 repeats (src) or sums into (dst)
 * one element: that is all broadcasting and its reverse, reduction, need. */
static void strided_apply(const size_t shape[4], float *dst, const ptrdiff_t dst_st[4],
                          const float *src, const ptrdiff_t src_st[4], float scale,
                          bool accumulate)
{
    for (size_t i0 = 0; i0 < shape[0]; i0++)
        for (size_t i1 = 0; i1 < shape[1]; i1++)
            for (size_t i2 = 0; i2 < shape[2]; i2++) {
                float *d = dst + (ptrdiff_t)i0 * dst_st[0] + (ptrdiff_t)i1 * dst_st[1] +
                           (ptrdiff_t)i2 * dst_st[2];
                const float *s = src + (ptrdiff_t)i0 * src_st[0] + (ptrdiff_t)i1 * src_st[1] +
                                 (ptrdiff_t)i2 * src_st[2];
                ptrdiff_t ds = dst_st[3], ss = src_st[3];
                if (accumulate)
                    for (size_t i3 = 0; i3 < shape[3]; i3++)
                        d[(ptrdiff_t)i3 * ds] += scale * s[(ptrdiff_t)i3 * ss];
                else
                    for (size_t i3 = 0; i3 < shape[3]; i3++)
                        d[(ptrdiff_t)i3 * ds] = scale * s[(ptrdiff_t)i3 * ss];
            }
}

/* dst (same shape as src, any strides) = or += src. */
static void tensor_apply(tt_tensor *dst, const tt_tensor *src, bool accumulate)
{
    size_t s4[4], unused[4];
    ptrdiff_t dst4[4], src4[4];
    pad4(dst->ndim, dst->shape, dst->strides, s4, dst4);
    pad4(src->ndim, src->shape, src->strides, unused, src4);
    strided_apply(s4, tt_tensor_data(dst), dst4, tt_tensor_data(src), src4, 1.0f, accumulate);
}

/* A new contiguous tensor with its own storage holding src's values. */
static tt_status fresh_copy(tt_tensor **out, const tt_tensor *src)
{
    tt_status st = tt_tensor_zeros(out, src->ndim, src->shape);
    if (st == TT_OK)
        tensor_apply(*out, src, false);
    return st;
}

/* t->grad += g, allocating t->grad as a copy of g the first time (never an alias:
 * the caller may reuse g). Shapes are checked by the caller. */
static tt_status add_into_grad(tt_tensor *t, tt_tensor *g)
{
    if (!t->grad)
        return fresh_copy(&t->grad, g);
    tensor_apply(t->grad, g, true);
    return TT_OK;
}
/* END SOLUTION */

/* ================================================================= grad mode */

/* BEGIN SOLUTION: */
/* Per thread, so one thread evaluating a model without gradients does not switch
 * them off for another that trains. */
static _Thread_local bool grad_enabled = true;
/* END SOLUTION */

bool tt_grad_set_enabled(bool enabled)
{
    /* BEGIN SOLUTION: return false; */
    bool was = grad_enabled;
    grad_enabled = enabled;
    return was;
    /* END SOLUTION */
}

bool tt_grad_is_enabled(void)
{
    /* BEGIN SOLUTION: return false; */
    return grad_enabled;
    /* END SOLUTION */
}

tt_status tt_tensor_set_requires_grad(tt_tensor *t, bool requires_grad)
{
    /* BEGIN SOLUTION */
    if (!t)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_tensor_set_requires_grad: tensor is NULL");
    if (t->grad_fn && !requires_grad)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_tensor_set_requires_grad: the tensor was computed by a recorded "
                            "op (%s); only a leaf can stop requiring a gradient (compute it "
                            "in no-grad mode instead)",
                            t->grad_fn->op && t->grad_fn->op->name ? t->grad_fn->op->name : "?");
    t->requires_grad = requires_grad;
    return TT_OK;
    /* END SOLUTION */
}

void tt_tensor_zero_grad(tt_tensor *t)
{
    /* BEGIN SOLUTION: return; */
    if (!t)
        return;
    tt_tensor_free(t->grad);
    t->grad = NULL;
    /* END SOLUTION */
}

/* ================================================================= recording */

bool tt_autograd_needed(int n_inputs, tt_tensor *const *inputs)
{
    if (!inputs || !tt_grad_is_enabled())
        return false;
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] && inputs[i]->requires_grad)
            return true;
    return false;
}

tt_status tt_autograd_record(tt_tensor *out, const tt_op *op, int n_inputs,
                             tt_tensor *const *inputs, const tt_node_args *args, tt_tensor *saved)
{
    if (!tt_autograd_needed(n_inputs, inputs))
        return TT_OK;
    /* BEGIN SOLUTION */
    if (!out || !op)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_autograd_record: %s is NULL",
                            out ? "op" : "out");
    if (n_inputs < 1 || n_inputs > TT_NODE_MAX_INPUTS)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_autograd_record: %s: %d inputs, expected 1 to %d",
                            op->name ? op->name : "?", n_inputs, TT_NODE_MAX_INPUTS);
    if (out->grad_fn)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tt_autograd_record: %s: the output was already recorded (by %s)",
                            op->name ? op->name : "?",
                            out->grad_fn->op && out->grad_fn->op->name ? out->grad_fn->op->name
                                                                       : "?");
    tt_node *node = tt_calloc(1, sizeof *node);
    if (!node)
        return TT_ERR_NOMEM; /* tt_calloc said how much */
    node->op = op;
    node->n_inputs = n_inputs;
    /* Retained: the caller may free its intermediates before calling backward. */
    for (int i = 0; i < n_inputs; i++)
        node->inputs[i] = inputs[i] ? tt_tensor_retain(inputs[i]) : NULL;
    node->saved = saved ? tt_tensor_retain(saved) : NULL;
    if (args)
        node->args = *args;
    node->refcount = 1;
    out->grad_fn = node;
    out->requires_grad = true;
    return TT_OK;
    /* END SOLUTION */
}

/* Nodes whose last reference went, waiting for their inputs to be released. Freeing a
 * node frees its inputs, which may free their nodes, and so on down a chain as deep
 * as the graph: done recursively, 10^5 chained ops would overflow the stack. The
 * outermost call drains this list instead; inner calls only add to it. */
static _Thread_local tt_node *release_list;
static _Thread_local bool releasing;

void tt_node_release(tt_node *node)
{
    if (!node || --node->refcount > 0)
        return;
    node->release_next = release_list;
    release_list = node;
    if (releasing)
        return;
    releasing = true;
    while (release_list) {
        tt_node *dead = release_list;
        release_list = dead->release_next;
        for (int i = 0; i < dead->n_inputs; i++)
            tt_tensor_free(dead->inputs[i]);
        tt_tensor_free(dead->saved);
        tt_free(dead);
    }
    releasing = false;
}

/* ================================================================== backward */

/* BEGIN SOLUTION: */
/* One node of the graph being differentiated. */
typedef struct pass_entry {
    tt_node *node;
    tt_tensor *grad; /* its output's gradient gathered so far (owned), or NULL */
    tt_tensor *out;  /* that output (borrowed: its consumer's node retains it) */
    int next_input;  /* depth-first search: the next input to look at */
} pass_entry;

/* The state of one tt_backward: entries in discovery order (node->visit is the
 * index), the search stack and the post-order, all indices into entries. */
typedef struct backward_pass {
    pass_entry *entries;
    size_t *stack;
    size_t *post;
    size_t count, depth, n_post, capacity;
} backward_pass;

#define PASS_NONE SIZE_MAX

/* The pass running on this thread: tt_accumulate_grad routes gradients of its nodes'
 * outputs into the pass instead of straight into .grad. */
static _Thread_local backward_pass *active_pass;

/* visit may be stale (left by an earlier pass): it counts only if it points back. */
static size_t pass_find(const backward_pass *p, const tt_node *node)
{
    size_t i = (size_t)node->visit;
    return i < p->count && p->entries[i].node == node ? i : PASS_NONE;
}

static void *grow_array(void *old, size_t used, size_t capacity, size_t elem)
{
    void *grown = tt_malloc(capacity * elem);
    if (grown && used)
        memcpy(grown, old, used * elem);
    return grown;
}

static tt_status pass_push_new(backward_pass *p, tt_node *node)
{
    if (p->count == p->capacity) {
        size_t cap = p->capacity ? 2 * p->capacity : 64;
        pass_entry *e = grow_array(p->entries, p->count, cap, sizeof *e);
        size_t *s = grow_array(p->stack, p->depth, cap, sizeof *s);
        size_t *o = grow_array(p->post, p->n_post, cap, sizeof *o);
        if (!e || !s || !o) {
            tt_free(e);
            tt_free(s);
            tt_free(o);
            return tt_error_set(TT_ERR_NOMEM,
                                "tt_backward: out of memory sorting a graph of %zu nodes",
                                p->count);
        }
        tt_free(p->entries);
        tt_free(p->stack);
        tt_free(p->post);
        p->entries = e;
        p->stack = s;
        p->post = o;
        p->capacity = cap;
    }
    p->entries[p->count] = (pass_entry){.node = node};
    node->visit = (unsigned long)p->count;
    p->stack[p->depth++] = p->count++;
    return TT_OK;
}

/* Depth-first search from the root's node with an explicit stack; a node joins the
 * post-order once all its inputs have, so reversed it lists every node before the
 * nodes it depends on. */
static tt_status pass_collect(backward_pass *p, tt_node *root)
{
    tt_status st = pass_push_new(p, root);
    while (st == TT_OK && p->depth > 0) {
        pass_entry *e = &p->entries[p->stack[p->depth - 1]];
        if (e->next_input < e->node->n_inputs) {
            tt_tensor *in = e->node->inputs[e->next_input++];
            if (in && in->requires_grad && in->grad_fn && pass_find(p, in->grad_fn) == PASS_NONE)
                st = pass_push_new(p, in->grad_fn);
        } else {
            p->post[p->n_post++] = p->stack[--p->depth];
        }
    }
    return st;
}

static void pass_release(backward_pass *p)
{
    for (size_t i = 0; i < p->count; i++)
        tt_tensor_free(p->entries[i].grad);
    tt_free(p->entries);
    tt_free(p->stack);
    tt_free(p->post);
}

/* Add one consumer's contribution to a node's pending output gradient. The first
 * one is kept by reference (most nodes have one consumer: no copy at all); a second
 * adds in place only if nobody else can see the buffer. */
static tt_status pass_gather(pass_entry *e, tt_tensor *t, tt_tensor *g)
{
    e->out = t;
    if (!e->grad) {
        e->grad = tt_tensor_retain(g);
        return TT_OK;
    }
    tt_tensor *acc = e->grad;
    if (acc->refcount != 1 || acc->storage->refcount != 1 || !tt_tensor_is_contiguous(acc)) {
        tt_status st = fresh_copy(&acc, e->grad);
        if (st != TT_OK)
            return st;
        tt_tensor_free(e->grad);
        e->grad = acc;
    }
    tensor_apply(acc, g, true);
    return TT_OK;
}
/* END SOLUTION */

/* Backward functions send every input's gradient here, leaves and intermediates
 * alike. A leaf's goes straight into .grad. An intermediate's must not: while a pass
 * runs, the gradient of a node's output is still incomplete until all its consumers
 * have contributed, and .grad may already hold an earlier pass's sum. */
tt_status tt_accumulate_grad(tt_tensor *t, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    if (!t || !g)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_accumulate_grad: %s is NULL",
                            t ? "the gradient" : "the tensor");
    if (!tt_tensor_same_shape(t, g)) {
        char a[64], b[64];
        return tt_error_set(TT_ERR_SHAPE,
                            "tt_accumulate_grad: gradient of shape %s for a tensor of shape %s "
                            "(they must be equal; reduce a broadcast gradient first)",
                            shape_str(a, sizeof a, g->ndim, g->shape),
                            shape_str(b, sizeof b, t->ndim, t->shape));
    }
    if (active_pass && t->grad_fn) {
        size_t i = pass_find(active_pass, t->grad_fn);
        if (i != PASS_NONE)
            return pass_gather(&active_pass->entries[i], t, g);
    }
    return add_into_grad(t, g);
    /* END SOLUTION */
}

/* Sort the graph from the root without recursion, seed the root's gradient, then
 * visit nodes so that each one comes after every node that consumes its output.
 * Grad mode is off meanwhile and back on (as it was) however the pass ends. */
tt_status tt_backward_with(tt_tensor *root, tt_tensor *grad_root)
{
    /* BEGIN SOLUTION */
    if (!root || !grad_root)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_backward_with: %s is NULL",
                            root ? "grad_root" : "root");
    if (!root->requires_grad)
        return tt_error_set(TT_ERR_STATE,
                            "tt_backward_with: the root does not require a gradient (no input "
                            "requires one, or it was computed in no-grad mode)");
    if (!tt_tensor_same_shape(root, grad_root)) {
        char a[64], b[64];
        return tt_error_set(TT_ERR_SHAPE,
                            "tt_backward_with: grad_root has shape %s, expected the root's %s",
                            shape_str(a, sizeof a, grad_root->ndim, grad_root->shape),
                            shape_str(b, sizeof b, root->ndim, root->shape));
    }
    if (active_pass)
        return tt_error_set(TT_ERR_STATE,
                            "tt_backward_with: called from a backward function during "
                            "another backward pass");
    if (!root->grad_fn)
        return add_into_grad(root, grad_root);

    tt_status st = TT_OK;
    backward_pass pass = {0};
    bool was_enabled = tt_grad_set_enabled(false);
    TT_CHECK(pass_collect(&pass, root->grad_fn));
    pass.entries[0].grad = tt_tensor_retain(grad_root);
    pass.entries[0].out = root;
    active_pass = &pass;
    for (size_t k = pass.n_post; k-- > 0;) {
        pass_entry *e = &pass.entries[pass.post[k]];
        if (!e->grad)
            continue; /* nothing flowed here (a backward skipped this input) */
        if (!e->node->op || !e->node->op->backward) {
            st = tt_error_set(TT_ERR_STATE, "tt_backward: op %s has no backward function",
                              e->node->op && e->node->op->name ? e->node->op->name : "?");
            goto cleanup;
        }
        /* All consumers come earlier in this order, so the gradient is complete. */
        TT_CHECK(add_into_grad(e->out, e->grad));
        TT_CHECK(e->node->op->backward(e->node, e->grad));
        tt_tensor_free(e->grad); /* done with it: keep peak memory to the frontier */
        e->grad = NULL;
    }
cleanup:
    active_pass = NULL;
    tt_grad_set_enabled(was_enabled);
    pass_release(&pass);
    return st;
    /* END SOLUTION */
}

tt_status tt_backward(tt_tensor *root)
{
    /* BEGIN SOLUTION */
    if (!root)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_backward: root is NULL");
    if (tt_tensor_numel(root) != 1) {
        char a[64];
        return tt_error_set(TT_ERR_SHAPE,
                            "tt_backward: the root has shape %s; it must have one element "
                            "(a loss), or use tt_backward_with and an explicit gradient",
                            shape_str(a, sizeof a, root->ndim, root->shape));
    }
    if (!root->requires_grad)
        return tt_error_set(TT_ERR_STATE,
                            "tt_backward: the root does not require a gradient (no input "
                            "requires one, or it was computed in no-grad mode)");
    tt_tensor *one = NULL;
    tt_status st = tt_tensor_full(&one, root->ndim, root->shape, 1.0f);
    if (st == TT_OK)
        st = tt_backward_with(root, one);
    tt_tensor_free(one);
    return st;
    /* END SOLUTION */
}

tt_status tt_grad_reduce_to_shape(tt_tensor **out, tt_tensor *grad, int ndim, const size_t *shape)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_grad_reduce_to_shape: out is NULL");
    *out = NULL;
    if (!grad || (ndim > 0 && !shape))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_grad_reduce_to_shape: %s is NULL",
                            grad ? "shape" : "grad");
    bool fits = ndim >= 0 && ndim <= grad->ndim;
    bool same = ndim == grad->ndim;
    int lead = grad->ndim - ndim;
    for (int d = 0; fits && d < ndim; d++) {
        fits = shape[d] == grad->shape[lead + d] || shape[d] == 1;
        same = same && shape[d] == grad->shape[lead + d];
    }
    if (!fits) {
        char a[64], b[64];
        return tt_error_set(TT_ERR_SHAPE,
                            "tt_grad_reduce_to_shape: shape %s does not broadcast to the "
                            "gradient's shape %s",
                            ndim >= 0 && ndim <= TT_MAX_DIMS ? shape_str(a, sizeof a, ndim, shape)
                                                             : "(bad ndim)",
                            shape_str(b, sizeof b, grad->ndim, grad->shape));
    }
    if (same) {
        *out = tt_tensor_retain(grad);
        return TT_OK;
    }
    tt_tensor *r = NULL;
    tt_status st = tt_tensor_zeros(&r, ndim, shape);
    if (st != TT_OK)
        return st;
    /* r seen through grad's index space: stride 0 wherever grad was broadcast. */
    ptrdiff_t rst[TT_MAX_DIMS];
    for (int d = 0; d < grad->ndim; d++)
        rst[d] = d < lead || shape[d - lead] == 1 ? 0 : r->strides[d - lead];
    size_t s4[4];
    ptrdiff_t dst4[4], src4[4];
    pad4(grad->ndim, grad->shape, rst, s4, dst4);
    pad4(grad->ndim, grad->shape, grad->strides, s4, src4);
    strided_apply(s4, tt_tensor_data(r), dst4, tt_tensor_data(grad), src4, 1.0f, true);
    *out = r;
    return TT_OK;
    /* END SOLUTION */
}

/* ========================================================== backward functions */

/* BEGIN SOLUTION: */
/* Reduce g to input's shape and accumulate it (the step every broadcasting op ends
 * with). Frees nothing of the caller's. */
static tt_status accumulate_reduced(tt_tensor *input, tt_tensor *g)
{
    tt_tensor *r = NULL;
    tt_status st = tt_grad_reduce_to_shape(&r, g, input->ndim, input->shape);
    if (st == TT_OK)
        st = tt_accumulate_grad(input, r);
    tt_tensor_free(r);
    return st;
}

/* Accumulate a gradient the caller made only for this, and free it. */
static tt_status accumulate_owned(tt_tensor *input, tt_tensor *g)
{
    tt_status st = tt_accumulate_grad(input, g);
    tt_tensor_free(g);
    return st;
}

static bool wants_grad(const tt_tensor *t)
{
    return t && t->requires_grad;
}

/* Split a contiguous shape around `axis`: outer x len x inner. */
static void split_axis(const tt_tensor *t, int axis, size_t *outer, size_t *len, size_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= t->shape[d];
    *len = t->shape[axis];
    for (int d = axis + 1; d < t->ndim; d++)
        *inner *= t->shape[d];
}

/* Elementwise ops: dx = g * f'(x), with f' evaluated from x in double. */
typedef double (*derivative_fn)(double x);

static tt_status unary_backward(tt_node *node, tt_tensor *g, derivative_fn deriv)
{
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *xc = NULL, *gc = NULL, *dx = NULL;
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dx, x->ndim, x->shape));
    const float *xv = tt_tensor_data(xc), *gv = tt_tensor_data(gc);
    float *dv = tt_tensor_data(dx);
    size_t n = tt_tensor_numel(x);
    for (size_t i = 0; i < n; i++)
        dv[i] = (float)((double)gv[i] * deriv((double)xv[i]));
    st = tt_accumulate_grad(x, dx);
cleanup:
    tt_tensor_free(xc);
    tt_tensor_free(gc);
    tt_tensor_free(dx);
    return st;
}

static double relu_deriv(double x)
{
    return x > 0.0 ? 1.0 : 0.0;
}

static double sigmoid_of(double x)
{
    /* Never exp of a large positive number. */
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

static double sigmoid_deriv(double x)
{
    double s = sigmoid_of(x);
    return s * (1.0 - s);
}

static double tanh_deriv(double x)
{
    double t = tanh(x);
    return 1.0 - t * t;
}

#define GELU_C 0.7978845608028654 /* sqrt(2/pi) */
#define GELU_A 0.044715

static double gelu_deriv(double x)
{
    double t = tanh(GELU_C * (x + GELU_A * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * x * x);
}

/* SUM and MEAN along an axis: every input element along the axis gets g (times scale),
 * read through a stride of 0 along the reduced axis. */
static tt_status axis_spread_backward(tt_node *node, tt_tensor *g, bool mean)
{
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    int axis = (int)node->args.i[0];
    bool keepdim = node->args.i[1] != 0;
    ptrdiff_t gst[TT_MAX_DIMS];
    for (int d = 0, gd = 0; d < x->ndim; d++) {
        if (d == axis) {
            gst[d] = 0;
            if (keepdim)
                gd++;
        } else {
            gst[d] = g->strides[gd++];
        }
    }
    tt_tensor *dx = NULL;
    tt_status st = tt_tensor_zeros(&dx, x->ndim, x->shape);
    if (st != TT_OK)
        return st;
    size_t s4[4];
    ptrdiff_t dst4[4], src4[4];
    pad4(x->ndim, x->shape, dx->strides, s4, dst4);
    pad4(x->ndim, x->shape, gst, s4, src4);
    float scale = mean ? 1.0f / (float)x->shape[axis] : 1.0f;
    strided_apply(s4, tt_tensor_data(dx), dst4, tt_tensor_data(g), src4, scale, false);
    return accumulate_owned(x, dx);
}

/* SUM_ALL and MEAN_ALL: every element gets the one value of g (times scale). */
static tt_status all_spread_backward(tt_node *node, tt_tensor *g, bool mean)
{
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    float v = tt_tensor_data(g)[0];
    if (mean)
        v /= (float)tt_tensor_numel(x);
    tt_tensor *dx = NULL;
    tt_status st = tt_tensor_full(&dx, x->ndim, x->shape, v);
    if (st != TT_OK)
        return st;
    return accumulate_owned(x, dx);
}

/* Softmax along an axis over contiguous x (outer x len x inner), into y. */
static void softmax_rows(float *y, const float *x, size_t outer, size_t len, size_t inner)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t in = 0; in < inner; in++) {
            const float *xr = x + o * len * inner + in;
            float *yr = y + o * len * inner + in;
            float m = xr[0];
            for (size_t j = 1; j < len; j++)
                if (xr[j * inner] > m)
                    m = xr[j * inner];
            double sum = 0.0;
            for (size_t j = 0; j < len; j++)
                sum += exp((double)xr[j * inner] - (double)m);
            for (size_t j = 0; j < len; j++)
                yr[j * inner] = (float)(exp((double)xr[j * inner] - (double)m) / sum);
        }
}
/* END SOLUTION */

/* In every backward function: g is the gradient of the node's output (the output's
 * shape); inputs that do not require a gradient get nothing. Formulas in the guide. */

/* out = a + b (broadcast): da = g, db = g, each summed back to its input's shape. */
static tt_status backward_add(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_status st = TT_OK;
    for (int k = 0; k < 2 && st == TT_OK; k++)
        if (wants_grad(node->inputs[k]))
            st = accumulate_reduced(node->inputs[k], g);
    return st;
    /* END SOLUTION */
}

/* out = a - b: da = g, db = -g (reduced as for add). */
static tt_status backward_sub(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *a = node->inputs[0], *b = node->inputs[1];
    tt_status st = TT_OK;
    tt_tensor *neg = NULL;
    if (wants_grad(a))
        TT_CHECK(accumulate_reduced(a, g));
    if (wants_grad(b)) {
        TT_CHECK(tt_tensor_mul_scalar(&neg, g, -1.0f));
        TT_CHECK(accumulate_reduced(b, neg));
    }
cleanup:
    tt_tensor_free(neg);
    return st;
    /* END SOLUTION */
}

/* out = a * b: da = g * b, db = g * a (reduced). a and b may be the same tensor. */
static tt_status backward_mul(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *a = node->inputs[0], *b = node->inputs[1];
    tt_status st = TT_OK;
    tt_tensor *ga = NULL, *gb = NULL;
    if (wants_grad(a)) {
        TT_CHECK(tt_tensor_mul(&ga, g, b));
        TT_CHECK(accumulate_reduced(a, ga));
    }
    if (wants_grad(b)) {
        TT_CHECK(tt_tensor_mul(&gb, g, a));
        TT_CHECK(accumulate_reduced(b, gb));
    }
cleanup:
    tt_tensor_free(ga);
    tt_tensor_free(gb);
    return st;
    /* END SOLUTION */
}

/* out = a / b: da = g / b, db = -g a / b^2 (reduced). */
static tt_status backward_div(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    /* db as -(g / b) * a / b: reuses g / b and never squares a small b. */
    tt_tensor *a = node->inputs[0], *b = node->inputs[1];
    tt_status st = TT_OK;
    tt_tensor *q = NULL, *nq = NULL, *nqa = NULL, *gb = NULL;
    TT_CHECK(tt_tensor_div(&q, g, b));
    if (wants_grad(a))
        TT_CHECK(accumulate_reduced(a, q));
    if (wants_grad(b)) {
        TT_CHECK(tt_tensor_mul_scalar(&nq, q, -1.0f));
        TT_CHECK(tt_tensor_mul(&nqa, nq, a));
        TT_CHECK(tt_tensor_div(&gb, nqa, b));
        TT_CHECK(accumulate_reduced(b, gb));
    }
cleanup:
    tt_tensor_free(q);
    tt_tensor_free(nq);
    tt_tensor_free(nqa);
    tt_tensor_free(gb);
    return st;
    /* END SOLUTION */
}

/* out = a + s: da = g.  out = a * s (s in args.f[0]): da = g * s. */
static tt_status backward_add_scalar(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return wants_grad(node->inputs[0]) ? tt_accumulate_grad(node->inputs[0], g) : TT_OK;
    /* END SOLUTION */
}

static tt_status backward_mul_scalar(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *dx = NULL;
    if (!wants_grad(x))
        return TT_OK;
    tt_status st = tt_tensor_mul_scalar(&dx, g, node->args.f[0]);
    return st == TT_OK ? accumulate_owned(x, dx) : st;
    /* END SOLUTION */
}

/* out = a b over the last two dims: da = g b^T, db = a^T g. When one 2-D b served
 * every batch entry of a, db is the sum over the batch of a_i^T g_i. */
static tt_status backward_matmul(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    /* That batch sum is one matmul: flatten a to [B*m, k] and g to [B*m, n]. */
    tt_tensor *a = node->inputs[0], *b = node->inputs[1];
    tt_status st = TT_OK;
    tt_tensor *bt = NULL, *ga = NULL, *a2 = NULL, *g2 = NULL, *at = NULL, *gb = NULL;
    if (wants_grad(a)) {
        TT_CHECK(tt_tensor_transpose(&bt, b, -1, -2));
        TT_CHECK(tt_tensor_matmul(&ga, g, bt));
        TT_CHECK(tt_accumulate_grad(a, ga));
    }
    if (wants_grad(b)) {
        if (b->ndim == a->ndim) {
            TT_CHECK(tt_tensor_transpose(&at, a, -1, -2));
            TT_CHECK(tt_tensor_matmul(&gb, at, g));
        } else {
            size_t k = a->shape[a->ndim - 1], n = g->shape[g->ndim - 1];
            TT_CHECK(tt_tensor_reshape(&a2, a, 2, (const ptrdiff_t[]){-1, (ptrdiff_t)k}));
            TT_CHECK(tt_tensor_reshape(&g2, g, 2, (const ptrdiff_t[]){-1, (ptrdiff_t)n}));
            TT_CHECK(tt_tensor_transpose(&at, a2, 0, 1));
            TT_CHECK(tt_tensor_matmul(&gb, at, g2));
        }
        TT_CHECK(tt_accumulate_grad(b, gb));
    }
cleanup:
    tt_tensor_free(bt);
    tt_tensor_free(ga);
    tt_tensor_free(a2);
    tt_tensor_free(g2);
    tt_tensor_free(at);
    tt_tensor_free(gb);
    return st;
    /* END SOLUTION */
}

/* sum along args.i[0] (keepdim args.i[1]): every element along the axis gets g;
 * mean: g / (size of the axis). */
static tt_status backward_sum(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return axis_spread_backward(node, g, false);
    /* END SOLUTION */
}

static tt_status backward_mean(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return axis_spread_backward(node, g, true);
    /* END SOLUTION */
}

/* max along an axis: g goes to the first maximal element of each line, 0 elsewhere. */
static tt_status backward_max(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    int axis = (int)node->args.i[0];
    tt_status st = TT_OK;
    tt_tensor *xc = NULL, *gc = NULL, *dx = NULL;
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gc, g)); /* keepdim or not: the same row-major order */
    TT_CHECK(tt_tensor_zeros(&dx, x->ndim, x->shape));
    size_t outer, len, inner;
    split_axis(x, axis, &outer, &len, &inner);
    const float *xv = tt_tensor_data(xc), *gv = tt_tensor_data(gc);
    float *dv = tt_tensor_data(dx);
    for (size_t o = 0; o < outer; o++)
        for (size_t in = 0; in < inner; in++) {
            const float *row = xv + o * len * inner + in;
            /* The forward lets the first NaN win (as NumPy does): so does this. */
            size_t best = 0;
            for (size_t j = 1; j < len && !isnan(row[best * inner]); j++)
                if (row[j * inner] > row[best * inner] || isnan(row[j * inner]))
                    best = j;
            dv[(o * len + best) * inner + in] = gv[o * inner + in];
        }
    st = tt_accumulate_grad(x, dx);
cleanup:
    tt_tensor_free(xc);
    tt_tensor_free(gc);
    tt_tensor_free(dx);
    return st;
    /* END SOLUTION */
}

/* sum_all / mean_all: g is a scalar; every element gets g (or g / numel). */
static tt_status backward_sum_all(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return all_spread_backward(node, g, false);
    /* END SOLUTION */
}

static tt_status backward_mean_all(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return all_spread_backward(node, g, true);
    /* END SOLUTION */
}

/* copy: dx = g.  reshape: dx = g reshaped to x's shape.  transpose(d0, d1): dx = g
 * transposed back.  slice(dim, start, stop): dx is zero except the slice, which is g. */
static tt_status backward_copy(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return wants_grad(node->inputs[0]) ? tt_accumulate_grad(node->inputs[0], g) : TT_OK;
    /* END SOLUTION */
}

static tt_status backward_reshape(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *dx = NULL;
    if (!wants_grad(x))
        return TT_OK;
    ptrdiff_t shape[TT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        shape[d] = (ptrdiff_t)x->shape[d];
    tt_status st = tt_tensor_reshape(&dx, g, x->ndim, shape);
    return st == TT_OK ? accumulate_owned(x, dx) : st;
    /* END SOLUTION */
}

static tt_status backward_transpose(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *dx = NULL;
    if (!wants_grad(x))
        return TT_OK;
    tt_status st = tt_tensor_transpose(&dx, g, (int)node->args.i[0], (int)node->args.i[1]);
    return st == TT_OK ? accumulate_owned(x, dx) : st;
    /* END SOLUTION */
}

static tt_status backward_slice(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *dx = NULL, *window = NULL;
    TT_CHECK(tt_tensor_zeros(&dx, x->ndim, x->shape));
    TT_CHECK(tt_tensor_slice(&window, dx, (int)node->args.i[0], (size_t)node->args.i[1],
                             (size_t)node->args.i[2]));
    TT_CHECK(tt_tensor_assign(window, g));
    st = tt_accumulate_grad(x, dx);
cleanup:
    tt_tensor_free(window);
    tt_tensor_free(dx);
    return st;
    /* END SOLUTION */
}

/* Elementwise: dx = g * f'(x), f' computed from x (the node keeps x, not the output):
 * relu' = (x > 0); sigmoid' = s (1 - s); tanh' = 1 - tanh^2; gelu' in the guide. */
static tt_status backward_relu(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return unary_backward(node, g, relu_deriv);
    /* END SOLUTION */
}

static tt_status backward_sigmoid(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return unary_backward(node, g, sigmoid_deriv);
    /* END SOLUTION */
}

static tt_status backward_tanh(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return unary_backward(node, g, tanh_deriv);
    /* END SOLUTION */
}

static tt_status backward_gelu(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    return unary_backward(node, g, gelu_deriv);
    /* END SOLUTION */
}

/* y = softmax(x) along args.i[0]: dx = y * (g - sum(g * y)), the sum along the axis. */
static tt_status backward_softmax(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    /* y is recomputed: the node keeps only x. */
    tt_tensor *x = node->inputs[0];
    if (!wants_grad(x))
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *xc = NULL, *gc = NULL, *dx = NULL;
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dx, x->ndim, x->shape));
    size_t outer, len, inner;
    split_axis(x, (int)node->args.i[0], &outer, &len, &inner);
    float *y = tt_tensor_data(dx);
    softmax_rows(y, tt_tensor_data(xc), outer, len, inner);
    const float *gv = tt_tensor_data(gc);
    for (size_t o = 0; o < outer; o++)
        for (size_t in = 0; in < inner; in++) {
            size_t base = o * len * inner + in;
            double dot = 0.0;
            for (size_t j = 0; j < len; j++)
                dot += (double)gv[base + j * inner] * (double)y[base + j * inner];
            for (size_t j = 0; j < len; j++) {
                size_t i = base + j * inner;
                y[i] = (float)((double)y[i] * ((double)gv[i] - dot));
            }
        }
    st = tt_accumulate_grad(x, dx);
cleanup:
    tt_tensor_free(xc);
    tt_tensor_free(gc);
    tt_tensor_free(dx);
    return st;
    /* END SOLUTION */
}

/* dropout: dx = g * mask, the scaled mask the forward saved in node->saved. */
static tt_status backward_dropout(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *dx = NULL;
    if (!wants_grad(x))
        return TT_OK;
    if (!node->saved)
        return tt_error_set(TT_ERR_STATE, "backward of dropout: the node has no saved mask");
    tt_status st = tt_tensor_mul(&dx, g, node->saved);
    return st == TT_OK ? accumulate_owned(x, dx) : st;
    /* END SOLUTION */
}

/* Losses (g is the scalar gradient of the loss; targets never get a gradient):
 *   mse: dp = g * 2 (p - t) / N
 *   bce: dp = g * (p - t) / (p (1 - p)) / N where eps <= p <= 1 - eps (eps = args.f[0]),
 *        0 where the clamp is active
 *   cross_entropy: dz = g * (softmax(z) - onehot(target)) / N, N rows */
static tt_status backward_mse(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *p = node->inputs[0], *t = node->inputs[1];
    if (!wants_grad(p))
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *pc = NULL, *tc = NULL, *dp = NULL;
    TT_CHECK(tt_tensor_contiguous(&pc, p));
    TT_CHECK(tt_tensor_contiguous(&tc, t));
    TT_CHECK(tt_tensor_zeros(&dp, p->ndim, p->shape));
    size_t n = tt_tensor_numel(p);
    double scale = 2.0 * (double)tt_tensor_data(g)[0] / (double)n;
    const float *pv = tt_tensor_data(pc), *tv = tt_tensor_data(tc);
    float *dv = tt_tensor_data(dp);
    for (size_t i = 0; i < n; i++)
        dv[i] = (float)(scale * ((double)pv[i] - (double)tv[i]));
    st = tt_accumulate_grad(p, dp);
cleanup:
    tt_tensor_free(pc);
    tt_tensor_free(tc);
    tt_tensor_free(dp);
    return st;
    /* END SOLUTION */
}

static tt_status backward_bce(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    /* Where the clamp is active the loss does not move with p: the gradient is 0. */
    tt_tensor *p = node->inputs[0], *t = node->inputs[1];
    if (!wants_grad(p))
        return TT_OK;
    /* The bounds in double, as the forward clamps: in float, 1 - 1e-7 would round. */
    double eps = node->args.f[0] > 0.0f ? (double)node->args.f[0] : (double)TT_BCE_EPSILON;
    double lo = eps, hi = 1.0 - eps;
    tt_status st = TT_OK;
    tt_tensor *pc = NULL, *tc = NULL, *dp = NULL;
    TT_CHECK(tt_tensor_contiguous(&pc, p));
    TT_CHECK(tt_tensor_contiguous(&tc, t));
    TT_CHECK(tt_tensor_zeros(&dp, p->ndim, p->shape));
    size_t n = tt_tensor_numel(p);
    double scale = (double)tt_tensor_data(g)[0] / (double)n;
    const float *pv = tt_tensor_data(pc), *tv = tt_tensor_data(tc);
    float *dv = tt_tensor_data(dp);
    for (size_t i = 0; i < n; i++) {
        double q = pv[i];
        if (!(q >= lo && q <= hi))
            continue; /* clamped (or NaN): the loss does not move with p here */
        dv[i] = (float)(scale * (q - (double)tv[i]) / (q * (1.0 - q)));
    }
    st = tt_accumulate_grad(p, dp);
cleanup:
    tt_tensor_free(pc);
    tt_tensor_free(tc);
    tt_tensor_free(dp);
    return st;
    /* END SOLUTION */
}

static tt_status backward_cross_entropy(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *z = node->inputs[0], *t = node->inputs[1];
    if (!wants_grad(z))
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *zc = NULL, *tc = NULL, *dz = NULL;
    TT_CHECK(tt_tensor_contiguous(&zc, z));
    TT_CHECK(tt_tensor_contiguous(&tc, t));
    TT_CHECK(tt_tensor_zeros(&dz, z->ndim, z->shape));
    size_t rows = z->shape[0], classes = z->shape[1];
    float *dv = tt_tensor_data(dz);
    const float *tv = tt_tensor_data(tc);
    softmax_rows(dv, tt_tensor_data(zc), rows, classes, 1);
    float scale = tt_tensor_data(g)[0] / (float)rows;
    for (size_t r = 0; r < rows; r++) {
        float target = tv[r];
        if (!(target >= 0.0f && target < (float)classes) || target != floorf(target)) {
            st = tt_error_set(TT_ERR_RANGE,
                              "backward of cross_entropy: target %g of row %zu is not a class "
                              "index in [0, %zu)",
                              (double)target, r, classes);
            goto cleanup;
        }
        dv[r * classes + (size_t)target] -= 1.0f;
        for (size_t c = 0; c < classes; c++)
            dv[r * classes + c] *= scale;
    }
    st = tt_accumulate_grad(z, dz);
cleanup:
    tt_tensor_free(zc);
    tt_tensor_free(tc);
    tt_tensor_free(dz);
    return st;
    /* END SOLUTION */
}

/* ================================================================= op table */

const tt_op tt_ops[TT_OP_COUNT] = {
    [TT_OP_ADD] = {"add", backward_add},
    [TT_OP_SUB] = {"sub", backward_sub},
    [TT_OP_MUL] = {"mul", backward_mul},
    [TT_OP_DIV] = {"div", backward_div},
    [TT_OP_ADD_SCALAR] = {"add_scalar", backward_add_scalar},
    [TT_OP_MUL_SCALAR] = {"mul_scalar", backward_mul_scalar},
    [TT_OP_MATMUL] = {"matmul", backward_matmul},
    [TT_OP_SUM] = {"sum", backward_sum},
    [TT_OP_MEAN] = {"mean", backward_mean},
    [TT_OP_MAX] = {"max", backward_max},
    [TT_OP_SUM_ALL] = {"sum_all", backward_sum_all},
    [TT_OP_MEAN_ALL] = {"mean_all", backward_mean_all},
    [TT_OP_COPY] = {"copy", backward_copy},
    [TT_OP_RESHAPE] = {"reshape", backward_reshape},
    [TT_OP_TRANSPOSE] = {"transpose", backward_transpose},
    [TT_OP_SLICE] = {"slice", backward_slice},
    [TT_OP_RELU] = {"relu", backward_relu},
    [TT_OP_SIGMOID] = {"sigmoid", backward_sigmoid},
    [TT_OP_TANH] = {"tanh", backward_tanh},
    [TT_OP_GELU] = {"gelu", backward_gelu},
    [TT_OP_SOFTMAX] = {"softmax", backward_softmax},
    [TT_OP_DROPOUT] = {"dropout", backward_dropout},
    [TT_OP_MSE] = {"mse", backward_mse},
    [TT_OP_BCE] = {"bce", backward_bce},
    [TT_OP_CROSS_ENTROPY] = {"cross_entropy", backward_cross_entropy},
};
