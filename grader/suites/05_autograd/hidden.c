/*
 * grader/suites/05_autograd/hidden.c: the hidden checks of module 05 (autograd).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. They check the same contract as visible.c from other
 * angles: views as inputs (a transposed weight, overlapping slices), 4-D broadcasting,
 * ties in max, clamped BCE, huge logits, an attention-like block, a graph far too
 * deep for a recursive sort, roots that are leaves, custom ops without a backward or
 * calling backward from inside one, recording errors, grad mode per thread, and every
 * allocation of a backward pass and of a recorded forward failing in turn.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

#include "helpers.h"

/* ------------------------------------------------------------ forward functions */

/* x @ transpose(W) */
static tt_status f_matmul_wt(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *t = NULL;
    tt_status st = tt_tensor_transpose(&t, in[1], 0, 1);
    if (st == TT_OK)
        st = tt_tensor_matmul(o, in[0], t);
    tt_tensor_free(t);
    return st;
}

static tt_status f_mul(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tensor_mul(o, in[0], in[1]);
}

/* mean(sum(x, axis 2, keepdim), axis 0) */
static tt_status f_sum_mean_4d(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *s = NULL;
    tt_status st = tt_tensor_sum(&s, in[0], 2, true);
    if (st == TT_OK)
        st = tt_tensor_mean(o, s, 0, false);
    tt_tensor_free(s);
    return st;
}

/* softmax(q @ k^T * 0.5, axis -1) @ v */
static tt_status f_attention(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *kt = NULL, *s = NULL, *ss = NULL, *a = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tt_tensor_transpose(&kt, in[1], 0, 1));
    TT_CHECK(tt_tensor_matmul(&s, in[0], kt));
    TT_CHECK(tt_tensor_mul_scalar(&ss, s, 0.5f));
    TT_CHECK(tt_softmax(&a, ss, -1));
    TT_CHECK(tt_tensor_matmul(o, a, in[2]));
cleanup:
    tt_tensor_free(a);
    tt_tensor_free(ss);
    tt_tensor_free(s);
    tt_tensor_free(kt);
    return st;
}

/* (a @ b) + c, b a constant */
static tt_status f_affine(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *m = NULL;
    tt_status st = tt_tensor_matmul(&m, in[0], in[1]);
    if (st == TT_OK)
        st = tt_tensor_add(o, m, in[2]);
    tt_tensor_free(m);
    return st;
}

/* slice(x, 1, [0,4)) * slice(x, 1, [2,6)): columns 2 and 3 are in both */
static tt_status f_overlap(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *a = NULL, *b = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tt_tensor_slice(&a, in[0], 1, 0, 4));
    TT_CHECK(tt_tensor_slice(&b, in[0], 1, 2, 6));
    TT_CHECK(tt_tensor_mul(o, a, b));
cleanup:
    tt_tensor_free(b);
    tt_tensor_free(a);
    return st;
}

static tt_status f_softmax_axis1(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_softmax(o, in[0], 1);
}

/* x - x and x / x would be constants; (x - 2x) / x mixes both slots. */
static tt_status f_same_tensor(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *d = NULL, *s = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tt_tensor_mul_scalar(&d, in[0], 2.0f));
    TT_CHECK(tt_tensor_sub(&s, in[0], d));
    TT_CHECK(tt_tensor_mul(o, s, in[0]));
cleanup:
    tt_tensor_free(s);
    tt_tensor_free(d);
    return st;
}

/* ------------------------------------------------------------ gradient checks */

static void case_matmul_transposed_weight(tito_probe *p)
{
    begin();
    probe_note(p, "y = x @ transpose(W);  x: [3,4]  W: [5,4] (y: [3,5]);  W.grad = (x^T @ w)^T "
                  "[5,4], through the transpose's backward");
    grad_spec s = {.n_in = 2, .names = {"x", "W"},
                   .in = {probe_randn(p, 2, TT_SHAPE(3, 4)), probe_randn(p, 2, TT_SHAPE(5, 4))},
                   .wants = {true, true}, .forward = f_matmul_wt, .k = 5};
    run_grad(p, &s);
}

static void case_broadcast_4d(tito_probe *p)
{
    begin();
    probe_note(p, "y = a * b;  a: [2,1,3,1]  b: [4,1,5] -> [2,4,3,5]; each gradient summed "
                  "over the dimensions its input was broadcast along");
    grad_spec s = {.n_in = 2, .names = {"a", "b"},
                   .in = {probe_randn(p, 4, TT_SHAPE(2, 1, 3, 1)),
                          probe_randn(p, 3, TT_SHAPE(4, 1, 5))},
                   .wants = {true, true}, .forward = f_mul, .k = 20};
    run_grad(p, &s);
}

static void case_reductions_4d(tito_probe *p)
{
    begin();
    probe_note(p, "y = mean(sum(x, axis 2, keepdim true), axis 0, keepdim false);  x: [2,3,4,2] "
                  "-> [2,3,1,2] -> [3,1,2]");
    grad_spec s = {.n_in = 1, .names = {"x"}, .in = {probe_randn(p, 4, TT_SHAPE(2, 3, 4, 2))},
                   .wants = {true}, .forward = f_sum_mean_4d, .k = 1};
    run_grad(p, &s);
}

static void case_attention(tito_probe *p)
{
    begin();
    probe_note(p, "y = softmax(q @ k^T * 0.5, axis -1) @ v;  q, k: [3,4]  v: [3,2];  gradients "
                  "of q, k and v");
    grad_spec s = {.n_in = 3, .names = {"q", "k", "v"},
                   .in = {probe_randn(p, 2, TT_SHAPE(3, 4)), probe_randn(p, 2, TT_SHAPE(3, 4)),
                          probe_randn(p, 2, TT_SHAPE(3, 2))},
                   .wants = {true, true, true}, .forward = f_attention, .k = 12};
    run_grad(p, &s);
}

static void case_only_some_inputs(tito_probe *p)
{
    begin();
    probe_note(p, "y = (a @ b) + c;  a: [2,3] and c: [4] require grad, b: [3,4] does not: "
                  "b.grad stays NULL");
    grad_spec s = {.n_in = 3, .names = {"a", "b", "c"},
                   .in = {probe_randn(p, 2, TT_SHAPE(2, 3)), probe_randn(p, 2, TT_SHAPE(3, 4)),
                          probe_randn(p, 1, TT_SHAPE(4))},
                   .wants = {true, false, true}, .forward = f_affine, .k = 4};
    run_grad(p, &s);
}

static void case_overlapping_slices(tito_probe *p)
{
    begin();
    probe_note(p, "y = slice(x, dim 1, [0,4)) * slice(x, dim 1, [2,6));  x: [4,6];  columns 2 "
                  "and 3 of x get a contribution from each slice");
    grad_spec s = {.n_in = 1, .names = {"x"}, .in = {probe_randn(p, 2, TT_SHAPE(4, 6))},
                   .wants = {true}, .forward = f_overlap, .k = 2};
    run_grad(p, &s);
}

static void case_softmax_3d(tito_probe *p)
{
    begin();
    probe_note(p, "y = softmax(x, axis 1);  x: [2,3,4] (a middle axis)");
    grad_spec s = {.n_in = 1, .names = {"x"}, .in = {probe_randn(p, 3, TT_SHAPE(2, 3, 4))},
                   .wants = {true}, .forward = f_softmax_axis1, .k = 3};
    run_grad(p, &s);
}

static void case_same_tensor_twice(tito_probe *p)
{
    begin();
    probe_note(p, "y = (x - 2x) * x = -x^2;  x: [3,3];  x appears in both slots of sub and of "
                  "mul: x.grad = -2x w");
    grad_spec s = {.n_in = 1, .names = {"x"}, .in = {probe_randn(p, 2, TT_SHAPE(3, 3))},
                   .wants = {true}, .forward = f_same_tensor, .k = 3};
    run_grad(p, &s);
}

/* ------------------------------------------------------------ exact corners */

static void case_max_ties(tito_probe *p)
{
    begin();
    const float v[12] = {1, 3, 3, 0, 2, 2, 2, 2, -1, 5, 0, 5};
    tt_tensor *x = probe_from_data(p, 2, TT_SHAPE(3, 4), v);
    tt_tensor *y = NULL, *g = NULL;
    probe_note(p, "x: [3,4] = [[1,3,3,0],[2,2,2,2],[-1,5,0,5]];  y = max(x, axis 1) -> [3]; "
                  "backward_with(y, [1,2,3]): the gradient goes to the first maximum of each "
                  "row only: x.grad = [[0,1,0,0],[2,0,0,0],[0,3,0,0]]");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "max", tt_tensor_max(&y, x, 1, false));
    g = probe_from_data(p, 1, TT_SHAPE(3), (const float[]){1, 2, 3});
    probe_status(p, "backward_with", y ? tt_backward_with(y, g) : TT_ERR_INVALID_ARG);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(g);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_bce_clamped(tito_probe *p)
{
    begin();
    const float pv[6] = {0.0f, 1.0f, 1e-9f, 0.5f, 1.0f - 1e-9f, 0.3f};
    const float tv[6] = {1.0f, 0.0f, 1.0f, 1.0f, 0.0f, 0.0f};
    tt_tensor *prob = probe_from_data(p, 1, TT_SHAPE(6), pv);
    tt_tensor *target = probe_from_data(p, 1, TT_SHAPE(6), tv);
    tt_tensor *loss = NULL;
    probe_note(p, "prob = [0, 1, 1e-9, 0.5, 1-1e-9, 0.3], target = [1, 0, 1, 1, 0, 0];  loss = "
                  "bce(prob, target);  the gradient is 0 where prob was clamped (< eps or > 1 - "
                  "eps, eps = 1e-7) and (p - t) / (p (1 - p)) / 6 elsewhere");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&prob, 1));
    probe_status(p, "bce", tt_bce_loss(&loss, prob, target));
    probe_status(p, "backward", loss ? tt_backward(loss) : TT_ERR_INVALID_ARG);
    probe_tol_elementwise(p);
    probe_tensor(p, "prob.grad", prob->grad);
    tt_tensor_free(loss);
    tt_tensor_free(target);
    tt_tensor_free(prob);
}

static void case_cross_entropy_huge_logits(tito_probe *p)
{
    begin();
    tt_tensor *z = probe_randn(p, 2, TT_SHAPE(3, 4));
    for (size_t i = 0; z && i < 12; i++)
        z->storage->data[i] *= 1000.0f;
    tt_tensor *y = class_targets(p, 3, 4);
    tt_tensor *loss = NULL;
    probe_note(p, "logits: [3,4] of size about 1000 (normal times 1000), targets: [3];  "
                  "cross_entropy then backward: finite gradients (softmax - onehot) / 3, "
                  "computed max-shifted");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&z, 1));
    probe_status(p, "cross_entropy", tt_cross_entropy_loss(&loss, z, y));
    probe_status(p, "backward", loss ? tt_backward(loss) : TT_ERR_INVALID_ARG);
    probe_tol_reduction(p, 4);
    probe_tensor(p, "logits.grad", z->grad);
    tt_tensor_free(loss);
    tt_tensor_free(y);
    tt_tensor_free(z);
}

static void case_leaf_roots(tito_probe *p)
{
    begin();
    tt_tensor *s = probe_randn(p, 0, NULL);
    tt_tensor *v = probe_randn(p, 2, TT_SHAPE(4, 1));
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(4, 1));
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *g2 = NULL;
    probe_note(p, "roots that are leaves: s: [] requires grad, tt_backward(s) gives s.grad = 1; "
                  "v: [4,1], tt_backward_with(v, g) gives v.grad = g; then tt_backward_with(v, "
                  "g2) with g2 = column 1 of a [4,3] tensor (a view with strides [3,1]): "
                  "v.grad = g + g2; g is not modified");
    probe_tol_exact(p);
    tt_tensor *leaves[2] = {s, v};
    probe_status(p, "set_requires_grad", mark(leaves, 2));
    probe_status(p, "backward_scalar_leaf", tt_backward(s));
    probe_tensor(p, "s.grad", s->grad);
    probe_status(p, "backward_with_leaf", tt_backward_with(v, g));
    probe_tensor(p, "v.grad_after_1", v->grad);
    probe_status(p, "slice", tt_tensor_slice(&g2, base, 1, 1, 2));
    probe_status(p, "backward_with_leaf_again", g2 ? tt_backward_with(v, g2) : TT_ERR_INVALID_ARG);
    probe_tol_elementwise(p);
    probe_tensor(p, "v.grad_after_2", v->grad);
    probe_tensor(p, "g_unchanged", g);
    tt_tensor_free(g2);
    tt_tensor_free(base);
    tt_tensor_free(g);
    tt_tensor_free(v);
    tt_tensor_free(s);
}

static void case_strided_grad_root(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 2));
    tt_tensor *gbase = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *g = NULL, *y = NULL;
    probe_note(p, "y = tanh(x);  x: [3,2];  tt_backward_with(y, g) with g the transpose of a "
                  "[2,3] tensor (a [3,2] view with strides [1,3]): x.grad = g * (1 - y^2) read "
                  "through g's strides; g is not modified");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "transpose", tt_tensor_transpose(&g, gbase, 0, 1));
    probe_status(p, "tanh", tt_tanh(&y, x));
    probe_status(p, "backward_with", y && g ? tt_backward_with(y, g) : TT_ERR_INVALID_ARG);
    probe_tol_reduction(p, 1);
    probe_tensor(p, "x.grad", x->grad);
    probe_tol_exact(p);
    probe_tensor(p, "g_unchanged", gbase);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(gbase);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ graph memory */

static void case_very_deep(tito_probe *p)
{
    begin();
    size_t n = probe_small(p) ? 1000 : 200000;
    tt_tensor *x = probe_randn(p, 0, NULL);
    size_t live = tt_alloc_live();
    probe_note(p, "a chain of %zu ops y = y * 1.00001 on a scalar x, intermediates freed by "
                  "the caller; tt_backward(y) must not recurse once per node (a recursive "
                  "sort overflows the stack); x.grad = 1.00001^%zu; freeing y frees it all",
               n, n);
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    tt_tensor *y = tt_tensor_retain(x);
    tt_status st = TT_OK;
    for (size_t i = 0; i < n && st == TT_OK; i++) {
        tt_tensor *next = NULL;
        st = tt_tensor_mul_scalar(&next, y, 1.00001f);
        tt_tensor_free(y);
        y = next;
    }
    probe_status(p, "chain", st);
    probe_status(p, "backward", y ? tt_backward(y) : TT_ERR_INVALID_ARG);
    probe_tol_reduction(p, n);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    tt_tensor_zero_grad(x);
    probe_tol_exact(p);
    probe_int(p, "blocks_left_after_freeing_the_graph", (long)tt_alloc_live() - (long)live);
    tt_tensor_free(x);
}

static void case_graph_without_backward(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(3, 2));
    size_t live = tt_alloc_live();
    tt_tensor *h = NULL, *r = NULL, *loss = NULL;
    probe_note(p, "a graph (matmul, sigmoid, mean_all) built and freed without any backward: "
                  "nothing stays allocated; x and w keep refcount 1");
    probe_tol_exact(p);
    tt_tensor *leaves[2] = {x, w};
    probe_status(p, "set_requires_grad", mark(leaves, 2));
    probe_status(p, "matmul", tt_tensor_matmul(&h, x, w));
    probe_status(p, "sigmoid", tt_sigmoid(&r, h));
    probe_status(p, "mean_all", tt_tensor_mean_all(&loss, r));
    probe_int(p, "x.refcount_in_graph", x->refcount);
    tt_tensor_free(h);
    tt_tensor_free(r);
    tt_tensor_free(loss);
    probe_int(p, "x.refcount", x->refcount);
    probe_int(p, "w.refcount", w->refcount);
    probe_int(p, "blocks_left", (long)tt_alloc_live() - (long)live);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ custom ops */

static const tt_op no_backward_op = {"probe_no_backward", NULL};

static tt_status nested_backward(tt_node *node, tt_tensor *g)
{
    (void)g;
    return tt_backward(node->inputs[0]);
}
static const tt_op nested_op = {"probe_nested", nested_backward};

static void case_custom_ops(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 0, NULL);
    tt_tensor *y = NULL, *z = NULL, *u = NULL;
    probe_note(p, "x: [] requires grad.  y recorded by an op whose backward is NULL: "
                  "tt_backward(y) is TT_ERR_STATE; z recorded by an op whose backward calls "
                  "tt_backward (a pass inside a pass): TT_ERR_STATE, x.grad stays NULL; grad "
                  "mode is on after each; then u = 3x, tt_backward(u) works: x.grad = 3");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "zeros_y", tt_tensor_zeros(&y, 0, NULL));
    probe_status(p, "record_y", y ? tt_autograd_record(y, &no_backward_op, 1,
                                                      (tt_tensor *const[]){x}, NULL, NULL)
                                  : TT_ERR_INVALID_ARG);
    probe_status(p, "backward_without_backward_fn", y ? tt_backward(y) : TT_ERR_INVALID_ARG);
    probe_int(p, "grad_mode_on_1", tt_grad_is_enabled());
    probe_status(p, "zeros_z", tt_tensor_zeros(&z, 0, NULL));
    probe_status(p, "record_z", z ? tt_autograd_record(z, &nested_op, 1, (tt_tensor *const[]){x},
                                                      NULL, NULL)
                                  : TT_ERR_INVALID_ARG);
    probe_status(p, "backward_nested", z ? tt_backward(z) : TT_ERR_INVALID_ARG);
    probe_int(p, "grad_mode_on_2", tt_grad_is_enabled());
    probe_int(p, "x.grad_is_null", x->grad == NULL);
    probe_status(p, "mul_scalar", tt_tensor_mul_scalar(&u, x, 3.0f));
    probe_status(p, "backward_after", u ? tt_backward(u) : TT_ERR_INVALID_ARG);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(u);
    tt_tensor_free(z);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_record_errors(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *y = NULL;
    tt_tensor *in[4];
    tt_node_args args = {{7, 8, 9, 10}, {0.25f, -2.0f}};
    probe_note(p, "tt_autograd_record(y, op, n, inputs, args, saved): a no-op (TT_OK, no "
                  "node) while no input requires grad; with x requiring grad: 4 inputs, a NULL "
                  "op, or a NULL out are TT_ERR_INVALID_ARG (y unchanged); a good call copies "
                  "args and retains the inputs and `saved`; a second record of y is "
                  "TT_ERR_INVALID_ARG");
    probe_tol_exact(p);
    probe_status(p, "zeros", tt_tensor_zeros(&y, 1, TT_SHAPE(2)));
    if (!y)
        goto cleanup;
    for (int i = 0; i < 4; i++)
        in[i] = x;
    probe_status(p, "record_nothing_needed", tt_autograd_record(y, &tt_ops[TT_OP_COPY], 1, in,
                                                                NULL, NULL));
    probe_int(p, "y.grad_fn_is_null", y->grad_fn == NULL);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "record_4_inputs", tt_autograd_record(y, &tt_ops[TT_OP_COPY], 4, in, NULL,
                                                          NULL));
    probe_status(p, "record_null_op", tt_autograd_record(y, NULL, 1, in, NULL, NULL));
    probe_status(p, "record_null_out", tt_autograd_record(NULL, &tt_ops[TT_OP_COPY], 1, in,
                                                          NULL, NULL));
    probe_int(p, "y.grad_fn_is_null_after_errors", y->grad_fn == NULL);
    probe_int(p, "y.requires_grad_after_errors", y->requires_grad);
    probe_int(p, "x.refcount_after_errors", x->refcount);
    tt_tensor *saved = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *two[2] = {x, NULL};
    probe_status(p, "record", tt_autograd_record(y, &tt_ops[TT_OP_MUL_SCALAR], 2, two, &args,
                                                 saved));
    probe_int(p, "y.grad_fn_op_is_mul_scalar",
              y->grad_fn && y->grad_fn->op == &tt_ops[TT_OP_MUL_SCALAR]);
    probe_int(p, "node.n_inputs", y->grad_fn ? y->grad_fn->n_inputs : -1);
    probe_int(p, "node.inputs[1]_is_null", y->grad_fn && y->grad_fn->inputs[1] == NULL);
    probe_int(p, "node.saved_is_saved", y->grad_fn && y->grad_fn->saved == saved);
    probe_int(p, "node.args.i[3]", y->grad_fn ? y->grad_fn->args.i[3] : -1);
    probe_scalar(p, "node.args.f[1]", y->grad_fn ? y->grad_fn->args.f[1] : 0.0f);
    probe_int(p, "y.requires_grad", y->requires_grad);
    probe_int(p, "x.refcount", x->refcount);
    probe_int(p, "saved.refcount", saved ? saved->refcount : -1);
    probe_status(p, "record_twice", tt_autograd_record(y, &tt_ops[TT_OP_COPY], 1, in, NULL, NULL));
    tt_tensor_free(saved);
cleanup:
    tt_tensor_free(y);
    probe_int(p, "x.refcount_after_freeing_y", x->refcount);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ grad mode per thread */

static int thread_body(void *arg)
{
    int *r = arg;
    r[0] = tt_grad_is_enabled();
    r[1] = tt_grad_set_enabled(false);
    r[2] = tt_grad_is_enabled();
    return 0;
}

static void case_grad_mode_per_thread(tito_probe *p)
{
    begin();
    int r[3] = {-1, -1, -1};
    probe_note(p, "grad mode is per thread: with the main thread in no-grad mode, a new thread "
                  "starts with gradients enabled, and switching them off there leaves the main "
                  "thread's setting alone");
    probe_tol_exact(p);
    probe_int(p, "main_set_false_returns", tt_grad_set_enabled(false));
    thrd_t t;
    int made = thrd_create(&t, thread_body, r) == thrd_success;
    if (made)
        thrd_join(t, NULL);
    probe_int(p, "thread_created", made);
    probe_int(p, "thread_starts_enabled", r[0]);
    probe_int(p, "thread_set_false_returns", r[1]);
    probe_int(p, "thread_is_enabled_after", r[2]);
    probe_int(p, "main_still_disabled", !tt_grad_is_enabled());
    probe_int(p, "main_set_true_returns", tt_grad_set_enabled(true));
}

/* ------------------------------------------------------------ allocation failures */

/* loss = mean(relu(x @ w + b) * x[:, :2]) */
static tt_status small_graph(tt_tensor **loss, tt_tensor *x, tt_tensor *w, tt_tensor *b)
{
    tt_status st = TT_OK;
    tt_tensor *h = NULL, *hb = NULL, *r = NULL, *xs = NULL, *m = NULL;
    TT_CHECK(tt_tensor_matmul(&h, x, w));
    TT_CHECK(tt_tensor_add(&hb, h, b));
    TT_CHECK(tt_relu(&r, hb));
    TT_CHECK(tt_tensor_slice(&xs, x, 1, 0, 2));
    TT_CHECK(tt_tensor_mul(&m, r, xs));
    TT_CHECK(tt_tensor_mean_all(loss, m));
cleanup:
    tt_tensor_free(h);
    tt_tensor_free(hb);
    tt_tensor_free(r);
    tt_tensor_free(xs);
    tt_tensor_free(m);
    return st;
}

static void case_alloc_backward(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *b = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *loss = NULL;
    tt_tensor *params[3] = {x, w, b};
    probe_note(p, "loss = mean(relu(x @ w + b) * x[:, :2]);  x: [3,4] w: [4,2] b: [2];  "
                  "tt_backward(loss) with allocation n failing, for n = 0, 1, ... until a pass "
                  "succeeds: each failure is TT_ERR_NOMEM with grad mode restored and nothing "
                  "leaked; a clean pass afterwards gives the right gradients");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(params, 3));
    probe_status(p, "forward", small_graph(&loss, x, w, b));
    if (!loss)
        goto cleanup;
    long failures = 0;
    int all_nomem = 1, mode_restored = 1, finished = 0;
    for (long n = 0; n < 5000 && !finished; n++) {
        for (int i = 0; i < 3; i++)
            tt_tensor_zero_grad(params[i]);
        tt_alloc_fail_after(n);
        tt_status st = tt_backward(loss);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            finished = 1;
            break;
        }
        failures++;
        all_nomem &= st == TT_ERR_NOMEM;
        mode_restored &= tt_grad_is_enabled();
        tt_grad_set_enabled(true);
    }
    probe_int(p, "a_pass_finally_succeeded", finished);
    probe_int(p, "some_allocation_failed", failures > 0);
    probe_int(p, "every_failure_is_TT_ERR_NOMEM", all_nomem);
    probe_int(p, "grad_mode_restored_after_every_failure", mode_restored);
    for (int i = 0; i < 3; i++)
        tt_tensor_zero_grad(params[i]);
    probe_status(p, "clean_backward", tt_backward(loss));
    probe_tol_reduction(p, 4);
    probe_tensor(p, "x.grad", x->grad);
    probe_tensor(p, "w.grad", w->grad);
    probe_tensor(p, "b.grad", b->grad);
cleanup:
    tt_tensor_free(loss);
    tt_tensor_free(b);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

static void case_alloc_recording(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(3, 2));
    tt_tensor *b = probe_randn(p, 1, TT_SHAPE(2));
    probe_note(p, "the forward of loss = mean(relu(x @ w + b) * x[:, :2]) with w requiring "
                  "grad, with allocation n failing (n = 0, 1, ...; some of them are your "
                  "nodes): every failure is TT_ERR_NOMEM, loss stays NULL, nothing leaks, the "
                  "inputs keep refcount 1; the first full success records a graph");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&w, 1));
    int all_nomem = 1, loss_null = 1, no_leak = 1, refcounts = 1, finished = 0, recorded = 0;
    long failures = 0;
    for (long n = 0; n < 2000 && !finished; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *loss = NULL;
        tt_alloc_fail_after(n);
        tt_status st = small_graph(&loss, x, w, b);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            finished = 1;
            recorded = loss && loss->grad_fn != NULL;
            tt_tensor_free(loss);
        } else {
            failures++;
            all_nomem &= st == TT_ERR_NOMEM;
            loss_null &= loss == NULL;
            if (loss)
                tt_tensor_free(loss);
        }
        no_leak &= tt_alloc_live() == live;
        refcounts &= x->refcount == 1 && w->refcount == 1 && b->refcount == 1;
    }
    probe_int(p, "a_forward_finally_succeeded", finished);
    probe_int(p, "success_recorded_a_graph", recorded);
    probe_int(p, "some_allocation_failed", failures > 0);
    probe_int(p, "every_failure_is_TT_ERR_NOMEM", all_nomem);
    probe_int(p, "loss_null_after_every_failure", loss_null);
    probe_int(p, "nothing_leaked", no_leak);
    probe_int(p, "inputs_keep_refcount_1", refcounts);
    tt_tensor_free(b);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"grad.matmul_transposed_weight", "matmul", 2, case_matmul_transposed_weight},
    {"grad.broadcast_4d", "elementwise", 2, case_broadcast_4d},
    {"grad.reductions_4d", "reductions", 1, case_reductions_4d},
    {"grad.attention_like", "model", 2, case_attention},
    {"grad.only_some_inputs", "graph", 1, case_only_some_inputs},
    {"grad.overlapping_slices", "views", 2, case_overlapping_slices},
    {"grad.softmax_middle_axis", "activations", 1, case_softmax_3d},
    {"grad.same_tensor_twice", "accumulation", 1, case_same_tensor_twice},
    {"grad.max_ties", "reductions", 1, case_max_ties},
    {"grad.bce_clamped", "losses", 1, case_bce_clamped},
    {"grad.cross_entropy_huge_logits", "losses", 1, case_cross_entropy_huge_logits},
    {"backward.leaf_roots", "graph", 1, case_leaf_roots},
    {"backward.strided_grad_root", "views", 1, case_strided_grad_root},
    {"graph.very_deep", "graph", 2, case_very_deep},
    {"graph.freed_without_backward", "graph", 1, case_graph_without_backward},
    {"errors.custom_ops", "errors", 1, case_custom_ops},
    {"errors.record", "errors", 1, case_record_errors},
    {"grad_mode.per_thread", "grad_mode", 1, case_grad_mode_per_thread},
    {"alloc.backward", "errors", 2, case_alloc_backward},
    {"alloc.recording", "errors", 1, case_alloc_recording},
};

TITO_PROBE_MAIN(cases)
