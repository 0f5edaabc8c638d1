/*
 * grader/suites/05_autograd/visible.c: the visible checks of module 05 (autograd).
 *
 * You can read this file: it is exactly what `tito` runs against your autograd.c and
 * against the course's reference, on the same random inputs. Every other module
 * (tensors, activations, layers, losses) is the reference's, so the forward pass of
 * each check is always right: what is graded is the graph your tt_autograd_record
 * builds, your tt_backward and your backward functions.
 *
 * A gradient check builds y = f(inputs) from leaves that require a gradient, then calls
 *     tt_backward_with(y, w)      (w random, y's shape: the gradient of sum(w * y))
 * or tt_backward(loss) for a one-element loss, and records each input's .grad. Then,
 * independently of any backward code, it compares your gradients with a finite
 * difference of the forward pass: along a random direction v (one per input),
 *     fd = (L(x + h v) - L(x - h v)) / 2h,    L(x) = sum(w * f(x)) accumulated in double,
 *     analytic = sum over inputs of dot(x.grad, v),
 * and records |analytic - fd| / (1 + |fd|), which is small (about 1e-4) for a right
 * gradient and of order 1 for a wrong one.
 *
 * Tolerances, stated before each record:
 *   exact        statuses, flags, shapes, values copied without arithmetic;
 *   elementwise  |got - expected| <= 1e-6 + 1e-5 |expected|;
 *   reduction    over k terms: |got - expected| <= 1e-5 sqrt(k) (1 + |expected|)
 *                (gradients are sums: a correct backward may add in another order);
 *   abs          |got - expected| <= atol (the finite-difference error: 1e-3).
 * A case must also free what it made: the framework allocations still live after the
 * case (graph nodes, gradients, intermediates) are compared with the reference's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

/* begin, mark, free_all, class_targets, readable, dot_with, and the gradient check
 * (grad_spec, run_grad), which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ helpers */

/* A tensor of 0/1 values. */
static tt_tensor *binary_targets(tito_probe *p, int ndim, const size_t *shape)
{
    tt_tensor *t = probe_uniform(p, ndim, shape, 0.0f, 1.0f);
    if (t)
        for (size_t i = 0; i < t->storage->size; i++)
            t->storage->data[i] = t->storage->data[i] < 0.5f ? 0.0f : 1.0f;
    return t;
}

/* ------------------------------------------------------------ forward functions */

static tt_status f_add(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tensor_add(o, in[0], in[1]);
}
static tt_status f_sub(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tensor_sub(o, in[0], in[1]);
}
static tt_status f_mul(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tensor_mul(o, in[0], in[1]);
}
static tt_status f_div(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tensor_div(o, in[0], in[1]);
}
static tt_status f_matmul(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tensor_matmul(o, in[0], in[1]);
}

/* (x + 0.75) * -1.5 */
static tt_status f_scalar_ops(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *t = NULL;
    tt_status st = tt_tensor_add_scalar(&t, in[0], 0.75f);
    if (st == TT_OK)
        st = tt_tensor_mul_scalar(o, t, -1.5f);
    tt_tensor_free(t);
    return st;
}

typedef struct axis_arg {
    int axis;
    bool keepdim;
} axis_arg;

static tt_status f_sum(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    const axis_arg *a = c;
    return tt_tensor_sum(o, in[0], a->axis, a->keepdim);
}
static tt_status f_mean(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    const axis_arg *a = c;
    return tt_tensor_mean(o, in[0], a->axis, a->keepdim);
}
static tt_status f_max(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    const axis_arg *a = c;
    return tt_tensor_max(o, in[0], a->axis, a->keepdim);
}
static tt_status f_softmax(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    const axis_arg *a = c;
    return tt_softmax(o, in[0], a->axis);
}

/* sum_all(x) * 0.5 + mean_all(x): two scalar reductions feeding one scalar. */
static tt_status f_sum_mean_all(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *s = NULL, *m = NULL, *hs = NULL;
    tt_status st = TT_OK;
    TT_CHECK(tt_tensor_sum_all(&s, in[0]));
    TT_CHECK(tt_tensor_mean_all(&m, in[0]));
    TT_CHECK(tt_tensor_mul_scalar(&hs, s, 0.5f));
    TT_CHECK(tt_tensor_add(o, hs, m));
cleanup:
    tt_tensor_free(hs);
    tt_tensor_free(m);
    tt_tensor_free(s);
    return st;
}

static tt_status f_copy(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tensor_copy(o, in[0]);
}

/* transpose(reshape(x [2,6] -> [3,4])) -> [4,3] (a view of a view) */
static tt_status f_reshape_transpose(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *r = NULL;
    tt_status st = tt_tensor_reshape(&r, in[0], 2, (const ptrdiff_t[]){3, -1});
    if (st == TT_OK)
        st = tt_tensor_transpose(o, r, 0, 1);
    tt_tensor_free(r);
    return st;
}

/* slice(x [3,5], dim 1, [1,4)) * 2 */
static tt_status f_slice(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    tt_tensor *s = NULL;
    tt_status st = tt_tensor_slice(&s, in[0], 1, 1, 4);
    if (st == TT_OK)
        st = tt_tensor_mul_scalar(o, s, 2.0f);
    tt_tensor_free(s);
    return st;
}

static tt_status f_relu(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_relu(o, in[0]);
}
static tt_status f_sigmoid(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_sigmoid(o, in[0]);
}
static tt_status f_tanh(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_tanh(o, in[0]);
}
static tt_status f_gelu(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_gelu(o, in[0]);
}

/* Dropout(p = 0.4) in training mode with a generator seeded afresh on every call, so
 * the finite differences see the same mask as the checked pass. */
static tt_status f_dropout(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    const uint64_t *seed = c;
    tt_rng rng;
    tt_rng_init(&rng, *seed);
    tt_layer *d = NULL;
    tt_status st = tt_dropout_new(&d, 0.4f, &rng);
    if (st == TT_OK)
        st = tt_layer_forward(d, o, in[0]);
    tt_layer_free(d);
    return st;
}

static tt_status f_mse(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_mse_loss(o, in[0], in[1]);
}
static tt_status f_bce(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_bce_loss(o, in[0], in[1]);
}
static tt_status f_cross_entropy(tt_tensor **o, tt_tensor *const *in, const void *c)
{
    (void)c;
    return tt_cross_entropy_loss(o, in[0], in[1]);
}

/* ------------------------------------------------------------ elementwise */

static void binary_check(tito_probe *p, forward_fn f, tt_tensor *a, tt_tensor *b, size_t k)
{
    grad_spec s = {.n_in = 2, .names = {"a", "b"}, .in = {a, b}, .wants = {true, true},
                   .forward = f, .k = k};
    run_grad(p, &s);
}

static void case_add_broadcast(tito_probe *p)
{
    begin();
    probe_note(p, "y = a + b;  a: [2,3]  b: [3] (broadcast along dim 0);  backward_with(y, w): "
                  "a.grad = w, b.grad = w summed over dim 0 -> [3]");
    binary_check(p, f_add, probe_randn(p, 2, TT_SHAPE(2, 3)), probe_randn(p, 1, TT_SHAPE(3)), 2);
}

static void case_sub_broadcast(tito_probe *p)
{
    begin();
    probe_note(p, "y = a - b;  a: [2,3]  b: [2,1] (broadcast along dim 1);  a.grad = w, "
                  "b.grad = -(w summed over dim 1, kept) -> [2,1]");
    binary_check(p, f_sub, probe_randn(p, 2, TT_SHAPE(2, 3)), probe_randn(p, 2, TT_SHAPE(2, 1)),
                 3);
}

static void case_mul_broadcast(tito_probe *p)
{
    begin();
    probe_note(p, "y = a * b;  a: [3,1]  b: [1,4] -> [3,4];  a.grad = sum over dim 1 of w * b, "
                  "b.grad = sum over dim 0 of w * a");
    binary_check(p, f_mul, probe_randn(p, 2, TT_SHAPE(3, 1)), probe_randn(p, 2, TT_SHAPE(1, 4)),
                 4);
}

static void case_div(tito_probe *p)
{
    begin();
    probe_note(p, "y = a / b;  a: [2,3]  b: [3] in [0.5, 2);  a.grad = w / b, b.grad = sum over "
                  "dim 0 of -w * a / b^2");
    binary_check(p, f_div, probe_randn(p, 2, TT_SHAPE(2, 3)),
                 probe_uniform(p, 1, TT_SHAPE(3), 0.5f, 2.0f), 2);
}

static void case_scalar_ops(tito_probe *p)
{
    begin();
    probe_note(p, "y = (x + 0.75) * -1.5;  x: [2,3] (tt_tensor_add_scalar, tt_tensor_mul_scalar); "
                  "x.grad = -1.5 w");
    grad_spec s = {.n_in = 1, .names = {"x"}, .in = {probe_randn(p, 2, TT_SHAPE(2, 3))},
                   .wants = {true}, .forward = f_scalar_ops, .k = 1};
    run_grad(p, &s);
}

/* ------------------------------------------------------------ matmul */

static void case_matmul_2d(tito_probe *p)
{
    begin();
    probe_note(p, "y = a @ b;  a: [3,4]  b: [4,5];  a.grad = w @ b^T [3,4], b.grad = a^T @ w "
                  "[4,5]");
    binary_check(p, f_matmul, probe_randn(p, 2, TT_SHAPE(3, 4)), probe_randn(p, 2, TT_SHAPE(4, 5)),
                 5);
}

static void case_matmul_shared_b(tito_probe *p)
{
    begin();
    probe_note(p, "y = a @ b;  a: [2,3,4]  b: [4,2] (one b for both batch entries) -> [2,3,2]; "
                  "b.grad = sum over the batch of a[i]^T @ w[i] -> [4,2]");
    binary_check(p, f_matmul, probe_randn(p, 3, TT_SHAPE(2, 3, 4)),
                 probe_randn(p, 2, TT_SHAPE(4, 2)), 6);
}

/* ------------------------------------------------------------ reductions */

static void unary_check(tito_probe *p, forward_fn f, const void *ctx, tt_tensor *x, size_t k)
{
    grad_spec s = {.n_in = 1, .names = {"x"}, .in = {x}, .wants = {true}, .forward = f,
                   .ctx = ctx, .k = k};
    run_grad(p, &s);
}

static void case_sum_axis(tito_probe *p)
{
    static const axis_arg a = {1, true};
    begin();
    probe_note(p, "y = tt_tensor_sum(x, axis 1, keepdim true);  x: [3,4] -> y: [3,1];  x.grad "
                  "= w[i,0] copied along dim 1");
    unary_check(p, f_sum, &a, probe_randn(p, 2, TT_SHAPE(3, 4)), 1);
}

static void case_sum_axis0(tito_probe *p)
{
    static const axis_arg a = {0, false};
    begin();
    probe_note(p, "y = tt_tensor_sum(x, axis 0, keepdim false);  x: [2,3,2] -> y: [3,2];  "
                  "x.grad[i,j,k] = w[j,k]");
    unary_check(p, f_sum, &a, probe_randn(p, 3, TT_SHAPE(2, 3, 2)), 1);
}

static void case_mean_axis(tito_probe *p)
{
    static const axis_arg a = {-1, false};
    begin();
    probe_note(p, "y = tt_tensor_mean(x, axis -1, keepdim false);  x: [2,3,4] -> y: [2,3];  "
                  "x.grad = w / 4 copied along the last dim");
    unary_check(p, f_mean, &a, probe_randn(p, 3, TT_SHAPE(2, 3, 4)), 1);
}

static void case_max_axis(tito_probe *p)
{
    static const axis_arg a = {0, true};
    begin();
    probe_note(p, "y = tt_tensor_max(x, axis 0, keepdim true);  x: [4,3] -> y: [1,3];  x.grad "
                  "= w at the (first) maximal element of each column, 0 elsewhere");
    unary_check(p, f_max, &a, probe_randn(p, 2, TT_SHAPE(4, 3)), 1);
}

static void case_sum_mean_all(tito_probe *p)
{
    begin();
    probe_note(p, "y = 0.5 * sum_all(x) + mean_all(x);  x: [2,3,2] -> y: [] (0-D);  x.grad = "
                  "w * (0.5 + 1/12) everywhere (two contributions add up)");
    unary_check(p, f_sum_mean_all, NULL, probe_randn(p, 3, TT_SHAPE(2, 3, 2)), 2);
}

/* ------------------------------------------------------------ views */

static void case_copy(tito_probe *p)
{
    begin();
    probe_note(p, "y = tt_tensor_copy(x);  x: [3,2];  x.grad = w");
    unary_check(p, f_copy, NULL, probe_randn(p, 2, TT_SHAPE(3, 2)), 1);
}

static void case_reshape_transpose(tito_probe *p)
{
    begin();
    probe_note(p, "y = transpose(reshape(x, [3,-1]), 0, 1);  x: [2,6] -> [3,4] -> y: [4,3] (a "
                  "view of a view);  x.grad = w transposed back and reshaped to [2,6]");
    unary_check(p, f_reshape_transpose, NULL, probe_randn(p, 2, TT_SHAPE(2, 6)), 1);
}

static void case_slice(tito_probe *p)
{
    begin();
    probe_note(p, "y = 2 * slice(x, dim 1, [1,4));  x: [3,5] -> y: [3,3];  x.grad = 2 w in "
                  "columns 1..3, 0 in columns 0 and 4");
    unary_check(p, f_slice, NULL, probe_randn(p, 2, TT_SHAPE(3, 5)), 1);
}

/* ------------------------------------------------------------ activations */

static void case_relu(tito_probe *p)
{
    begin();
    probe_note(p, "y = relu(x);  x: [3,4];  x.grad = w * (x > 0)");
    unary_check(p, f_relu, NULL, probe_randn(p, 2, TT_SHAPE(3, 4)), 1);
}

static void case_sigmoid(tito_probe *p)
{
    begin();
    probe_note(p, "y = sigmoid(x);  x: [3,4] (normal, times 3);  x.grad = w * s (1 - s), s = "
                  "sigmoid(x)");
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 4));
    for (size_t i = 0; x && i < 12; i++)
        x->storage->data[i] *= 3.0f;
    unary_check(p, f_sigmoid, NULL, x, 1);
}

static void case_tanh(tito_probe *p)
{
    begin();
    probe_note(p, "y = tanh(x);  x: [2,5];  x.grad = w * (1 - tanh(x)^2)");
    unary_check(p, f_tanh, NULL, probe_randn(p, 2, TT_SHAPE(2, 5)), 1);
}

static void case_gelu(tito_probe *p)
{
    begin();
    probe_note(p, "y = gelu(x) (tanh approximation);  x: [2,5];  x.grad = w * gelu'(x) (the "
                  "formula is in the module guide)");
    unary_check(p, f_gelu, NULL, probe_randn(p, 2, TT_SHAPE(2, 5)), 1);
}

static void case_softmax_last(tito_probe *p)
{
    static const axis_arg a = {-1, false};
    begin();
    probe_note(p, "y = softmax(x, axis -1);  x: [3,4];  x.grad = y * (w - sum over the row of "
                  "w * y)");
    unary_check(p, f_softmax, &a, probe_randn(p, 2, TT_SHAPE(3, 4)), 4);
}

static void case_softmax_axis0(tito_probe *p)
{
    static const axis_arg a = {0, false};
    begin();
    probe_note(p, "y = softmax(x, axis 0);  x: [4,3] (each column sums to 1);  x.grad = y * (w "
                  "- sum over the column of w * y)");
    unary_check(p, f_softmax, &a, probe_randn(p, 2, TT_SHAPE(4, 3)), 4);
}

static void case_dropout(tito_probe *p)
{
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    begin();
    probe_note(p, "y = Dropout(p 0.4, training)(x);  x: [4,5];  x.grad = w * mask, the scaled "
                  "mask (0 or 1/0.6) that the forward saved in node->saved");
    unary_check(p, f_dropout, &seed, probe_randn(p, 2, TT_SHAPE(4, 5)), 1);
}

/* ------------------------------------------------------------ losses */

static void loss_check(tito_probe *p, forward_fn f, tt_tensor *pred, tt_tensor *target, double h)
{
    grad_spec s = {.n_in = 2, .names = {"pred", "target"}, .in = {pred, target},
                   .wants = {true, false}, .forward = f, .loss = true, .k = 1, .h = h};
    run_grad(p, &s);
}

static void case_mse(tito_probe *p)
{
    begin();
    probe_note(p, "loss = mse(pred, target);  pred, target: [3,4];  tt_backward(loss): pred.grad "
                  "= 2 (pred - target) / 12; target gets no gradient");
    loss_check(p, f_mse, probe_randn(p, 2, TT_SHAPE(3, 4)), probe_randn(p, 2, TT_SHAPE(3, 4)), 0);
}

static void case_bce(tito_probe *p)
{
    begin();
    probe_note(p, "loss = bce(prob, target);  prob: [2,4] in [0.05, 0.95)  target: 0/1;  "
                  "pred.grad = (p - t) / (p (1 - p)) / 8");
    loss_check(p, f_bce, probe_uniform(p, 2, TT_SHAPE(2, 4), 0.05f, 0.95f),
               binary_targets(p, 2, TT_SHAPE(2, 4)), 2e-3);
}

static void case_cross_entropy(tito_probe *p)
{
    begin();
    probe_note(p, "loss = cross_entropy(logits, targets);  logits: [4,5]  targets: [4] class "
                  "indices;  pred.grad = (softmax(logits) - onehot(targets)) / 4");
    loss_check(p, f_cross_entropy, probe_randn(p, 2, TT_SHAPE(4, 5)), class_targets(p, 4, 5), 0);
}

/* ------------------------------------------------------------ accumulation */

static void case_x_times_x(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *y = NULL, *loss = NULL;
    probe_note(p, "y = x * x (x in both input slots);  loss = sum_all(y);  x: [2,3];  "
                  "tt_backward(loss): x.grad = 2x (one contribution per slot)");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "mul", tt_tensor_mul(&y, x, x));
    probe_status(p, "sum_all", tt_tensor_sum_all(&loss, y));
    probe_status(p, "backward", tt_backward(loss));
    probe_tol_reduction(p, 2);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(loss);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_reused_input(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 2));
    tt_tensor *a = NULL, *b = NULL, *c = NULL, *loss = NULL;
    probe_note(p, "x used by two ops: a = 2x, b = sigmoid(x), c = a + b, loss = mean_all(c);  "
                  "x: [3,2];  x.grad = (2 + s (1 - s)) / 6 (both branches add up)");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "mul_scalar", tt_tensor_mul_scalar(&a, x, 2.0f));
    probe_status(p, "sigmoid", tt_sigmoid(&b, x));
    probe_status(p, "add", tt_tensor_add(&c, a, b));
    probe_status(p, "mean_all", tt_tensor_mean_all(&loss, c));
    probe_status(p, "backward", tt_backward(loss));
    probe_tol_reduction(p, 2);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(loss);
    tt_tensor_free(c);
    tt_tensor_free(b);
    tt_tensor_free(a);
    tt_tensor_free(x);
}

static void case_prefilled_and_twice(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *y = NULL, *loss = NULL;
    probe_note(p, "x: [2,3] whose .grad already holds g0 (random); loss = sum_all(x * w); "
                  "backward once: x.grad = g0 + w; again (the graph stays): g0 + 2w; after "
                  "tt_tensor_zero_grad(x): NULL; backward once more: w");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    x->grad = probe_randn(p, 2, TT_SHAPE(2, 3));
    probe_status(p, "mul", tt_tensor_mul(&y, x, w));
    probe_status(p, "sum_all", tt_tensor_sum_all(&loss, y));
    probe_status(p, "backward_1", tt_backward(loss));
    probe_tol_reduction(p, 2);
    probe_tensor(p, "x.grad_after_1", x->grad);
    probe_tol_exact(p);
    probe_status(p, "backward_2", tt_backward(loss));
    probe_tol_reduction(p, 3);
    probe_tensor(p, "x.grad_after_2", x->grad);
    tt_tensor_zero_grad(x);
    probe_tol_exact(p);
    probe_int(p, "x.grad_is_null_after_zero_grad", x->grad == NULL);
    probe_status(p, "backward_3", tt_backward(loss));
    probe_tol_reduction(p, 1);
    probe_tensor(p, "x.grad_after_3", x->grad);
    tt_tensor_free(loss);
    tt_tensor_free(y);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

static void case_intermediates(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *c = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *h = NULL, *r = NULL, *loss = NULL;
    probe_note(p, "h = x * c, r = tanh(h), loss = sum_all(r);  x: [2,3] (requires grad), c: "
                  "[2,3] (does not);  after backward, the intermediates h and r hold their "
                  "gradients too (r.grad = 1, h.grad = 1 - r^2); a second backward doubles "
                  "every .grad: the old h.grad must not flow down again");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "mul", tt_tensor_mul(&h, x, c));
    probe_status(p, "tanh", tt_tanh(&r, h));
    probe_status(p, "sum_all", tt_tensor_sum_all(&loss, r));
    probe_int(p, "h.requires_grad", h && h->requires_grad);
    probe_status(p, "backward_1", tt_backward(loss));
    probe_tol_reduction(p, 1);
    probe_tensor(p, "r.grad_after_1", r ? r->grad : NULL);
    probe_tensor(p, "h.grad_after_1", h ? h->grad : NULL);
    probe_tensor(p, "x.grad_after_1", x->grad);
    probe_tensor(p, "loss.grad_after_1", loss ? loss->grad : NULL);
    probe_tol_exact(p);
    probe_int(p, "c.grad_is_null", c->grad == NULL);
    probe_status(p, "backward_2", tt_backward(loss));
    probe_tol_reduction(p, 2);
    probe_tensor(p, "h.grad_after_2", h ? h->grad : NULL);
    probe_tensor(p, "x.grad_after_2", x->grad);
    tt_tensor_free(loss);
    tt_tensor_free(r);
    tt_tensor_free(h);
    tt_tensor_free(c);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ graph memory */

static void case_deep_chain(tito_probe *p)
{
    begin();
    size_t n = probe_small(p) ? 200 : 10000;
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(2));
    size_t live = tt_alloc_live();
    probe_note(p, "a chain of %zu ops on x: [2], alternating y = y * 1.0001 and y = y + 0.5, "
                  "each intermediate freed by the caller as soon as the next op holds it; then "
                  "loss = sum_all(y), tt_backward(loss) (needs no recursion: the graph is %zu "
                  "nodes deep): x.grad = 1.0001^%zu; freeing the loss frees the whole graph",
               2 * n, 2 * n, n);
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    tt_tensor *y = tt_tensor_retain(x);
    tt_status st = TT_OK;
    for (size_t i = 0; i < 2 * n && st == TT_OK; i++) {
        tt_tensor *next = NULL;
        st = i % 2 ? tt_tensor_add_scalar(&next, y, 0.5f) : tt_tensor_mul_scalar(&next, y, 1.0001f);
        tt_tensor_free(y);
        y = next;
    }
    probe_status(p, "chain", st);
    tt_tensor *loss = NULL;
    probe_status(p, "sum_all", tt_tensor_sum_all(&loss, y));
    tt_tensor_free(y);
    probe_status(p, "backward", tt_backward(loss));
    probe_tol_reduction(p, n);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(loss);
    tt_tensor_zero_grad(x);
    probe_tol_exact(p);
    probe_int(p, "blocks_left_after_freeing_the_graph", (long)tt_alloc_live() - (long)live);
    tt_tensor_free(x);
}

static void case_intermediates_freed_first(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *h = NULL, *r = NULL, *loss = NULL;
    probe_note(p, "h = x @ w; r = relu(h); the caller frees h; loss = mean_all(r); the caller "
                  "frees r; tt_backward(loss) must still work (the nodes retained h and r);  "
                  "x: [3,4]  w: [4,2]");
    probe_tol_exact(p);
    tt_tensor *leaves[2] = {x, w};
    probe_status(p, "set_requires_grad", mark(leaves, 2));
    probe_status(p, "matmul", tt_tensor_matmul(&h, x, w));
    probe_status(p, "relu", tt_relu(&r, h));
    tt_tensor_free(h);
    probe_status(p, "mean_all", tt_tensor_mean_all(&loss, r));
    tt_tensor_free(r);
    probe_status(p, "backward", tt_backward(loss));
    probe_tol_reduction(p, 4);
    probe_tensor(p, "x.grad", x->grad);
    probe_tensor(p, "w.grad", w->grad);
    tt_tensor_free(loss);
    tt_tensor_free(w);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ grad mode */

static void case_no_grad(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 2));
    tt_tensor *y = NULL, *z = NULL;
    probe_note(p, "x: [2,2] requires grad.  tt_grad_set_enabled(false) returns the previous "
                  "setting (true); y = x * 2 then records nothing (y.grad_fn NULL, "
                  "y.requires_grad false) and tt_backward(sum) is TT_ERR_STATE; "
                  "tt_grad_set_enabled(true) returns false; z = x * 2 is recorded again");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_int(p, "set_enabled_false_returns", tt_grad_set_enabled(false));
    probe_int(p, "is_enabled", tt_grad_is_enabled());
    probe_int(p, "autograd_needed", tt_autograd_needed(1, &x));
    probe_status(p, "mul_scalar_no_grad", tt_tensor_mul_scalar(&y, x, 2.0f));
    probe_int(p, "y.grad_fn_is_null", y && y->grad_fn == NULL);
    probe_int(p, "y.requires_grad", y && y->requires_grad);
    probe_int(p, "set_enabled_true_returns", tt_grad_set_enabled(true));
    probe_int(p, "is_enabled_again", tt_grad_is_enabled());
    tt_tensor *s = NULL;
    probe_status(p, "sum_all", tt_tensor_sum_all(&s, y));
    probe_status(p, "backward_of_unrecorded", tt_backward(s));
    probe_status(p, "mul_scalar_grad", tt_tensor_mul_scalar(&z, x, 2.0f));
    probe_int(p, "z.grad_fn_is_set", z && z->grad_fn != NULL);
    probe_int(p, "z.requires_grad", z && z->requires_grad);
    probe_int(p, "x.grad_is_null", x->grad == NULL);
    tt_tensor_free(s);
    tt_tensor_free(z);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_recording(tito_probe *p)
{
    begin();
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_tensor *y = NULL, *z = NULL;
    probe_note(p, "a: [2,3] requires grad, b: [2,3] does not.  y = a + b records a node: "
                  "y.grad_fn->op is &tt_ops[TT_OP_ADD], 2 inputs (a, b, retained: refcount 2); "
                  "z = b * 3 records nothing; freeing y gives a and b back their refcount 1");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&a, 1));
    probe_int(p, "a.requires_grad", a->requires_grad);
    probe_int(p, "autograd_needed(a, b)", tt_autograd_needed(2, (tt_tensor *const[]){a, b}));
    probe_int(p, "autograd_needed(b, NULL)", tt_autograd_needed(2, (tt_tensor *const[]){b, NULL}));
    probe_status(p, "add", tt_tensor_add(&y, a, b));
    probe_int(p, "y.grad_fn_is_add", y && y->grad_fn && y->grad_fn->op == &tt_ops[TT_OP_ADD]);
    probe_int(p, "y.grad_fn.n_inputs", y && y->grad_fn ? y->grad_fn->n_inputs : -1);
    probe_int(p, "y.grad_fn.inputs_are_a_b",
              y && y->grad_fn && y->grad_fn->inputs[0] == a && y->grad_fn->inputs[1] == b);
    probe_int(p, "y.requires_grad", y && y->requires_grad);
    probe_int(p, "a.refcount", a->refcount);
    probe_int(p, "b.refcount", b->refcount);
    probe_status(p, "mul_scalar", tt_tensor_mul_scalar(&z, b, 3.0f));
    probe_int(p, "z.grad_fn_is_null", z && z->grad_fn == NULL);
    tt_tensor_free(y);
    probe_int(p, "a.refcount_after_free", a->refcount);
    probe_int(p, "b.refcount_after_free", b->refcount);
    tt_tensor_free(z);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

/* ------------------------------------------------------------ reduce_to_shape */

static void case_reduce_to_shape(tito_probe *p)
{
    begin();
    tt_tensor *g = probe_randn(p, 3, TT_SHAPE(4, 2, 3));
    tt_tensor *out = NULL;
    probe_note(p, "g: [4,2,3].  tt_grad_reduce_to_shape(&out, g, ...) to [2,1] (sum dim 0, then "
                  "dim 2 kept) -> [2,1]");
    probe_tol_exact(p);
    probe_status(p, "to_[2,1]", tt_grad_reduce_to_shape(&out, g, 2, TT_SHAPE(2, 1)));
    probe_tol_reduction(p, 12);
    probe_tensor(p, "out_[2,1]", out);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "to [3] (sum dims 0 and 1) -> [3]");
    probe_tol_exact(p);
    probe_status(p, "to_[3]", tt_grad_reduce_to_shape(&out, g, 1, TT_SHAPE(3)));
    probe_tol_reduction(p, 8);
    probe_tensor(p, "out_[3]", out);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "to [1,2,1] (sum dims 0 and 2, keeping both) -> [1,2,1]");
    probe_tol_exact(p);
    probe_status(p, "to_[1,2,1]", tt_grad_reduce_to_shape(&out, g, 3, TT_SHAPE(1, 2, 1)));
    probe_tol_reduction(p, 12);
    probe_tensor(p, "out_[1,2,1]", out);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "to ndim 0 (shape NULL): the total, a 0-D tensor");
    probe_tol_exact(p);
    probe_status(p, "to_scalar", tt_grad_reduce_to_shape(&out, g, 0, NULL));
    probe_tol_reduction(p, 24);
    probe_tensor(p, "out_scalar", out);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "to g's own shape [4,2,3]: no summing; out is g itself, retained");
    probe_tol_exact(p);
    probe_status(p, "to_same", tt_grad_reduce_to_shape(&out, g, 3, TT_SHAPE(4, 2, 3)));
    probe_int(p, "out_is_g", out == g);
    probe_int(p, "g.refcount", g->refcount);
    tt_tensor_free(out);
    out = NULL;
    probe_note(p, "to [5] (does not broadcast to [4,2,3]): TT_ERR_SHAPE, out NULL; NULL out or "
                  "grad: TT_ERR_INVALID_ARG");
    probe_status(p, "to_[5]", tt_grad_reduce_to_shape(&out, g, 1, TT_SHAPE(5)));
    probe_int(p, "out_is_null", out == NULL);
    probe_status(p, "null_out", tt_grad_reduce_to_shape(NULL, g, 1, TT_SHAPE(3)));
    probe_status(p, "null_grad", tt_grad_reduce_to_shape(&out, NULL, 1, TT_SHAPE(3)));
    tt_tensor_free(out);
    tt_tensor_free(g);
}

/* ------------------------------------------------------------ errors */

static void case_backward_errors(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *y = NULL, *s = NULL, *g = probe_randn(p, 1, TT_SHAPE(3));
    probe_note(p, "x: [2] (no grad yet): s = sum_all(x); tt_backward(s) is TT_ERR_STATE (the "
                  "root does not require a gradient)");
    probe_tol_exact(p);
    probe_status(p, "sum_all", tt_tensor_sum_all(&s, x));
    probe_status(p, "backward_no_grad", tt_backward(s));
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_note(p, "y = x * 2: [2]; tt_backward(y) is TT_ERR_SHAPE (not one element); "
                  "tt_backward_with(y, g [3]) is TT_ERR_SHAPE; NULL root or grad_root: "
                  "TT_ERR_INVALID_ARG; x.grad stays NULL; grad mode is on afterwards");
    probe_status(p, "mul_scalar", tt_tensor_mul_scalar(&y, x, 2.0f));
    probe_status(p, "backward_two_elements", tt_backward(y));
    probe_status(p, "backward_with_wrong_shape", tt_backward_with(y, g));
    probe_status(p, "backward_with_null_grad", tt_backward_with(y, NULL));
    probe_status(p, "backward_with_null_root", tt_backward_with(NULL, g));
    probe_status(p, "backward_null", tt_backward(NULL));
    probe_int(p, "x.grad_is_null", x->grad == NULL);
    probe_int(p, "grad_mode_on", tt_grad_is_enabled());
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_accumulate_and_leaves(tito_probe *p)
{
    begin();
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *g = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *bad = probe_randn(p, 1, TT_SHAPE(2));
    tt_tensor *y = NULL;
    probe_note(p, "x: [3] leaf.  tt_accumulate_grad(x, bad [2]): TT_ERR_SHAPE, x.grad stays "
                  "NULL; NULL arguments: TT_ERR_INVALID_ARG; tt_accumulate_grad(x, g) twice: "
                  "x.grad = 2g, a tensor of its own (not g)");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", mark(&x, 1));
    probe_status(p, "accumulate_wrong_shape", tt_accumulate_grad(x, bad));
    probe_int(p, "x.grad_is_null", x->grad == NULL);
    probe_status(p, "accumulate_null_tensor", tt_accumulate_grad(NULL, g));
    probe_status(p, "accumulate_null_grad", tt_accumulate_grad(x, NULL));
    probe_status(p, "accumulate_1", tt_accumulate_grad(x, g));
    probe_int(p, "x.grad_is_not_g", x->grad != g);
    probe_tensor(p, "x.grad_after_1", x->grad);
    probe_status(p, "accumulate_2", tt_accumulate_grad(x, g));
    probe_tol_elementwise(p);
    probe_tensor(p, "x.grad_after_2", x->grad);
    probe_tensor(p, "g_unchanged", g);
    probe_note(p, "y = x * 3 is not a leaf: tt_tensor_set_requires_grad(y, false) is "
                  "TT_ERR_INVALID_ARG and y still requires grad; (y, true) is fine; NULL is "
                  "TT_ERR_INVALID_ARG; a leaf may stop requiring a gradient");
    probe_tol_exact(p);
    probe_status(p, "mul_scalar", tt_tensor_mul_scalar(&y, x, 3.0f));
    probe_status(p, "nonleaf_false", tt_tensor_set_requires_grad(y, false));
    probe_int(p, "y.requires_grad", y && y->requires_grad);
    probe_status(p, "nonleaf_true", tt_tensor_set_requires_grad(y, true));
    probe_status(p, "null", tt_tensor_set_requires_grad(NULL, true));
    probe_status(p, "leaf_false", tt_tensor_set_requires_grad(x, false));
    probe_int(p, "x.requires_grad", x->requires_grad);
    tt_tensor_zero_grad(NULL);
    tt_tensor_zero_grad(x);
    probe_int(p, "x.grad_is_null_after_zero_grad", x->grad == NULL);
    tt_tensor_free(y);
    tt_tensor_free(bad);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ a whole model */

static void case_mlp(tito_probe *p)
{
    begin();
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *l1 = NULL, *l2 = NULL;
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(6, 4));
    tt_tensor *y = class_targets(p, 6, 3);
    tt_tensor *h = NULL, *r = NULL, *z = NULL, *loss = NULL;
    probe_note(p, "an MLP: z = Linear(5->3)(relu(Linear(4->5)(x))) (the reference's layers); "
                  "loss = cross_entropy(z, y);  x: [6,4] (no grad)  y: [6]; "
                  "tt_backward(loss): the gradients of W1 [4,5], b1 [5], W2 [5,3], b2 [3]");
    probe_tol_exact(p);
    probe_status(p, "linear1", tt_linear_new(&l1, 4, 5, true, &rng));
    probe_status(p, "linear2", tt_linear_new(&l2, 5, 3, true, &rng));
    if (!l1 || !l2)
        goto cleanup;
    probe_status(p, "forward1", tt_layer_forward(l1, &h, x));
    probe_status(p, "relu", tt_relu(&r, h));
    probe_status(p, "forward2", tt_layer_forward(l2, &z, r));
    probe_status(p, "loss", tt_cross_entropy_loss(&loss, z, y));
    probe_status(p, "backward", tt_backward(loss));
    probe_tol_reduction(p, 6);
    probe_tensor(p, "W1.grad", tt_linear_weight(l1)->grad);
    probe_tensor(p, "b1.grad", tt_linear_bias(l1)->grad);
    probe_tensor(p, "W2.grad", tt_linear_weight(l2)->grad);
    probe_tensor(p, "b2.grad", tt_linear_bias(l2)->grad);
    probe_tol_exact(p);
    probe_int(p, "x.grad_is_null", x->grad == NULL);
cleanup:
    tt_tensor_free(loss);
    tt_tensor_free(z);
    tt_tensor_free(r);
    tt_tensor_free(h);
    tt_layer_free(l2);
    tt_layer_free(l1);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"grad.add_broadcast", "elementwise", 2, case_add_broadcast},
    {"grad.sub_broadcast", "elementwise", 2, case_sub_broadcast},
    {"grad.mul_broadcast_both", "elementwise", 2, case_mul_broadcast},
    {"grad.div", "elementwise", 2, case_div},
    {"grad.scalar_ops", "elementwise", 1, case_scalar_ops},
    {"grad.matmul_2d", "matmul", 2, case_matmul_2d},
    {"grad.matmul_shared_b", "matmul", 2, case_matmul_shared_b},
    {"grad.sum_axis_keepdim", "reductions", 1, case_sum_axis},
    {"grad.sum_axis0", "reductions", 1, case_sum_axis0},
    {"grad.mean_last_axis", "reductions", 1, case_mean_axis},
    {"grad.max_axis", "reductions", 2, case_max_axis},
    {"grad.sum_mean_all", "reductions", 1, case_sum_mean_all},
    {"grad.copy", "views", 1, case_copy},
    {"grad.reshape_transpose", "views", 2, case_reshape_transpose},
    {"grad.slice", "views", 2, case_slice},
    {"grad.relu", "activations", 1, case_relu},
    {"grad.sigmoid", "activations", 1, case_sigmoid},
    {"grad.tanh", "activations", 1, case_tanh},
    {"grad.gelu", "activations", 1, case_gelu},
    {"grad.softmax_last_axis", "activations", 2, case_softmax_last},
    {"grad.softmax_axis0", "activations", 1, case_softmax_axis0},
    {"grad.dropout", "activations", 1, case_dropout},
    {"grad.mse", "losses", 1, case_mse},
    {"grad.bce", "losses", 1, case_bce},
    {"grad.cross_entropy", "losses", 2, case_cross_entropy},
    {"accumulate.x_times_x", "accumulation", 2, case_x_times_x},
    {"accumulate.reused_input", "accumulation", 2, case_reused_input},
    {"accumulate.prefilled_and_twice", "accumulation", 2, case_prefilled_and_twice},
    {"accumulate.intermediates", "accumulation", 2, case_intermediates},
    {"graph.deep_chain", "graph", 2, case_deep_chain},
    {"graph.intermediates_freed_first", "graph", 2, case_intermediates_freed_first},
    {"graph.recording", "graph", 2, case_recording},
    {"grad_mode.no_grad", "grad_mode", 2, case_no_grad},
    {"reduce_to_shape", "broadcasting", 2, case_reduce_to_shape},
    {"errors.backward", "errors", 2, case_backward_errors},
    {"errors.accumulate_and_leaves", "errors", 2, case_accumulate_and_leaves},
    {"model.mlp", "model", 2, case_mlp},
};

TITO_PROBE_MAIN(cases)
