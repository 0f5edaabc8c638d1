/*
 * grader/suites/03_layers/hidden.c: the hidden checks of module 03 (layers).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. They probe the same contract as visible.c from other
 * angles (odd Linear shapes and fan-ins, 4-D and strided inputs, gradients reaching the
 * input, extreme dropout rates, dropout on views and with a generator shared by two
 * layers, deep nesting, long containers and parameter lists that must grow, accessors
 * on the wrong kind of layer, allocation failures in nested forwards) so that fitting
 * the visible checks alone does not get full marks.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

#include "helpers.h"

static tt_layer *activation(tito_probe *p, const char *name, tt_status (*make)(tt_layer **))
{
    char label[96];
    tt_layer *l = NULL;
    tt_status st = make(&l);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "new_status"), st);
    return st == TT_OK ? l : NULL;
}

/* Append (the container owns the layer from here; without a container, free it). */
static void append(tito_probe *p, const char *label, tt_layer *seq, tt_layer *layer)
{
    probe_tol_exact(p);
    probe_status(p, label, seq && layer ? tt_sequential_append(seq, layer) : TT_ERR_STATE);
    if (!seq)
        tt_layer_free(layer);
}

static void record_forward(tito_probe *p, const char *name, tt_layer *layer, tt_tensor *x)
{
    char label[96];
    tt_tensor *y = NULL;
    tt_status st = layer ? tt_layer_forward(layer, &y, x) : TT_ERR_STATE;
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_tensor(p, label2(label, sizeof label, name, "out"), y);
    tt_tensor_free(y);
}

static void record_dropout(tito_probe *p, const char *name, tt_layer *d, tt_tensor *x)
{
    char label[96];
    tt_tensor *y = NULL;
    tt_status st = d ? tt_layer_forward(d, &y, x) : TT_ERR_STATE;
    tt_tensor *mask = kept_mask(p, y);
    probe_tol_exact(p);
    probe_status(p, label2(label, sizeof label, name, "status"), st);
    probe_tensor(p, label2(label, sizeof label, name, "kept"), mask);
    probe_tensor(p, label2(label, sizeof label, name, "out"), y);
    tt_tensor_free(mask);
    tt_tensor_free(y);
}

/* ------------------------------------------------------------ Linear */

static void case_linear_init_odd_shapes(tito_probe *p)
{
    static const struct {
        const char *name;
        size_t in, out;
        bool bias;
    } shapes[3] = {{"1x1", 1, 1, true}, {"300x2", 300, 2, true}, {"3x17_no_bias", 3, 17, false}};
    probe_note(p, "Linear(1, 1) (bound 1), Linear(300, 2) (bound (float)(1/sqrt(300)) computed "
                  "in double) and Linear(3, 17) without bias: W and b exactly, and the next "
                  "draw after each");
    for (int i = 0; i < 3; i++) {
        char label[64];
        tt_rng rng;
        seed_rng(p, &rng);
        tt_layer *l = linear(p, shapes[i].name, shapes[i].in, shapes[i].out, shapes[i].bias, &rng);
        probe_tensor(p, label2(label, sizeof label, shapes[i].name, "weight"),
                     l ? tt_linear_weight(l) : NULL);
        probe_tensor(p, label2(label, sizeof label, shapes[i].name, "bias"),
                     l ? tt_linear_bias(l) : NULL);
        probe_int(p, label2(label, sizeof label, shapes[i].name, "next_draw"), next_draw(&rng));
        tt_layer_free(l);
    }
}

static void case_linear_forward_4d(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 4, TT_SHAPE(2, 2, 3, 5));
    probe_note(p, "Linear(5, 4) with bias on x: [2,2,3,5] -> [2,2,3,4]");
    tt_layer *l = linear(p, "linear", 5, 4, true, &rng);
    probe_tol_reduction(p, 5);
    record_forward(p, "forward", l, x);
    tt_layer_free(l);
    tt_tensor_free(x);
}

static void case_linear_forward_view(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(6, 4));
    tt_tensor *x = NULL;
    probe_note(p, "Linear(6, 3) on x = transpose of a [6,4] tensor ([4,6], strides [1,4])");
    tt_layer *l = linear(p, "linear", 6, 3, true, &rng);
    probe_status(p, "transpose_status", tt_tensor_transpose(&x, base, 0, 1));
    probe_tol_reduction(p, 6);
    record_forward(p, "forward", l, x);
    tt_layer_free(l);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static void case_linear_backward_input(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *g = probe_randn(p, 3, TT_SHAPE(2, 3, 3));
    tt_tensor *y = NULL;
    probe_note(p, "Linear(4, 3) on x: [2,3,4] requiring grad; the reference's backward of "
                  "sum(g * y) reaches x, W and b");
    tt_layer *l = linear(p, "linear", 4, 3, true, &rng);
    tt_tensor *w = l ? tt_linear_weight(l) : NULL, *b = l ? tt_linear_bias(l) : NULL;
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    tt_status st = l ? tt_layer_forward(l, &y, x) : TT_ERR_STATE;
    probe_status(p, "forward_status", st);
    probe_status(p, "backward_status", st == TT_OK && y && y->grad_fn && tt_tensor_same_shape(y, g)
                                           ? tt_backward_with(y, g)
                                           : TT_ERR_STATE);
    probe_tol_reduction(p, 3);
    probe_tensor(p, "x.grad", x->grad);
    probe_tol_reduction(p, 6);
    probe_tensor(p, "weight.grad", w ? w->grad : NULL);
    probe_tensor(p, "bias.grad", b ? b->grad : NULL);
    tt_tensor_zero_grad(x);
    tt_tensor_free(y);
    tt_layer_free(l);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_accessors_on_other_layers(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    probe_note(p, "tt_linear_weight / tt_linear_bias of a Dropout, a Sequential and NULL are "
                  "NULL; tt_sequential_length / tt_sequential_at of a Linear and NULL are 0 "
                  "and NULL");
    tt_layer *d = dropout(p, "dropout", 0.5f, &rng);
    tt_layer *s = sequential(p, "seq");
    tt_layer *l = linear(p, "linear", 2, 3, true, &rng);
    probe_int(p, "weight_of_dropout_is_NULL", d && tt_linear_weight(d) == NULL);
    probe_int(p, "bias_of_dropout_is_NULL", d && tt_linear_bias(d) == NULL);
    probe_int(p, "weight_of_sequential_is_NULL", s && tt_linear_weight(s) == NULL);
    probe_int(p, "weight_of_NULL_is_NULL", tt_linear_weight(NULL) == NULL);
    probe_int(p, "bias_of_NULL_is_NULL", tt_linear_bias(NULL) == NULL);
    probe_int(p, "length_of_linear", l ? (long)tt_sequential_length(l) : -1);
    probe_int(p, "at_0_of_linear_is_NULL", l && tt_sequential_at(l, 0) == NULL);
    probe_int(p, "length_of_NULL", (long)tt_sequential_length(NULL));
    probe_int(p, "at_0_of_NULL_is_NULL", tt_sequential_at(NULL, 0) == NULL);
    probe_int(p, "at_0_of_empty_is_NULL", s && tt_sequential_at(s, 0) == NULL);
    probe_status(p, "sequential_new_NULL", tt_sequential_new(NULL));
    tt_layer_free(l);
    tt_layer_free(s);
    tt_layer_free(d);
}

/* ------------------------------------------------------------ Dropout */

static void case_dropout_extreme_p(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *a = probe_randn(p, 2, TT_SHAPE(8, 16));
    tt_tensor *b = probe_randn(p, 3, TT_SHAPE(2, 5, 7));
    probe_note(p, "Dropout(0.001) on [8,16] (almost nothing dropped, scale 1/0.999) and "
                  "Dropout(0.9) on [2,5,7] (almost everything dropped, scale 10), one "
                  "generator for both, in that order");
    tt_layer *lo = dropout(p, "p_0.001", 0.001f, &rng), *hi = dropout(p, "p_0.9", 0.9f, &rng);
    record_dropout(p, "p_0.001", lo, a);
    record_dropout(p, "p_0.9", hi, b);
    probe_int(p, "next_draw", next_draw(&rng));
    tt_layer_free(hi);
    tt_layer_free(lo);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_dropout_view(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(4, 6));
    tt_tensor *x = NULL;
    probe_note(p, "Dropout(0.5) on x = transpose of a [4,6] tensor ([6,4]): the draws follow "
                  "the row-major order of x (the view), not of its storage");
    tt_layer *d = dropout(p, "dropout", 0.5f, &rng);
    probe_status(p, "transpose_status", tt_tensor_transpose(&x, base, 0, 1));
    record_dropout(p, "forward", d, x);
    tt_layer_free(d);
    tt_tensor_free(x);
    tt_tensor_free(base);
}

static void case_dropout_shared_rng(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(3, 4));
    probe_note(p, "Sequential(Dropout(0.3), Tanh, Dropout(0.6)) with one generator shared by "
                  "both Dropouts: 12 draws for the first, then 12 for the second; two "
                  "forwards in a row");
    tt_layer *seq = sequential(p, "seq");
    append(p, "append_d1", seq, dropout(p, "d1", 0.3f, &rng));
    append(p, "append_tanh", seq, activation(p, "tanh", tt_tanh_layer_new));
    append(p, "append_d2", seq, dropout(p, "d2", 0.6f, &rng));
    probe_tol_elementwise(p);
    record_forward(p, "first", seq, x);
    record_forward(p, "second", seq, x);
    probe_tol_exact(p);
    probe_int(p, "next_draw", next_draw(&rng));
    tt_layer_free(seq);
    tt_tensor_free(x);
}

static void case_dropout_eval_train_switch(tito_probe *p)
{
    tt_rng rng, fresh;
    seed_rng(p, &rng);
    fresh = rng;
    tt_tensor *x = probe_randn(p, 1, TT_SHAPE(10));
    probe_note(p, "Dropout(0.5): train, eval, eval, train on x: [10]; the evaluation calls "
                  "draw nothing, so the second training mask uses draws 11..20 of the stream");
    tt_layer *d = dropout(p, "dropout", 0.5f, &rng);
    record_dropout(p, "train_1", d, x);
    tt_layer_set_training(d, false);
    probe_tol_exact(p);
    record_forward(p, "eval_1", d, x);
    record_forward(p, "eval_2", d, x);
    tt_layer_set_training(d, true);
    record_dropout(p, "train_2", d, x);
    for (int i = 0; i < 20; i++)
        tt_rng_next_u32(&fresh);
    probe_int(p, "rng_moved_by_exactly_20", next_draw(&fresh) == next_draw(&rng));
    tt_layer_free(d);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ Sequential */

static void case_sequential_deep(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    tt_params ps;
    tt_params_init(&ps);
    probe_note(p, "Sequential(Linear(3,4), Sequential(Tanh, Sequential(Linear(4,4), "
                  "Dropout(0.5), ReLU)), Linear(4,2)): parameters W1 b1 W2 b2 W3 b3 in "
                  "order (depth first); in evaluation mode (set on the outer container) the "
                  "dropout three levels down is the identity; the forward is recorded");
    tt_layer *outer = sequential(p, "outer"), *mid = sequential(p, "mid"),
             *deep = sequential(p, "deep");
    tt_layer *l1 = linear(p, "l1", 3, 4, true, &rng);
    tt_layer *l2 = linear(p, "l2", 4, 4, true, &rng);
    tt_layer *l3 = linear(p, "l3", 4, 2, true, &rng);
    append(p, "deep_append_l2", deep, l2);
    append(p, "deep_append_dropout", deep, dropout(p, "dropout", 0.5f, &rng));
    append(p, "deep_append_relu", deep, activation(p, "relu", tt_relu_layer_new));
    append(p, "mid_append_tanh", mid, activation(p, "tanh", tt_tanh_layer_new));
    append(p, "mid_append_deep", mid, deep);
    append(p, "outer_append_l1", outer, l1);
    append(p, "outer_append_mid", outer, mid);
    append(p, "outer_append_l3", outer, l3);
    if (!outer)
        l1 = l2 = l3 = NULL; /* freed by the refused appends */
    if (!deep || !mid)
        l2 = NULL;
    probe_status(p, "parameters_status", outer ? tt_layer_parameters(outer, &ps) : TT_ERR_STATE);
    probe_int(p, "count", (long)ps.count);
    tt_layer *owners[3] = {l1, l2, l3};
    for (size_t i = 0; i < 6; i++) {
        char label[32];
        tt_layer *o = owners[i / 2];
        tt_tensor *want = o ? (i % 2 ? tt_linear_bias(o) : tt_linear_weight(o)) : NULL;
        snprintf(label, sizeof label, "items[%zu]_in_order", i);
        probe_int(p, label, i < ps.count && want && ps.items[i] == want);
    }
    probe_int(p, "numel", (long)tt_params_numel(&ps));
    tt_layer_set_training(outer, false);
    probe_tol_reduction(p, 4);
    record_forward(p, "eval_forward", outer, x);
    probe_tol_exact(p);
    probe_int(p, "next_draw_after_eval", next_draw(&rng));
    tt_params_release(&ps);
    tt_layer_free(outer);
    tt_tensor_free(x);
}

static void case_sequential_many_layers(tito_probe *p)
{
    tt_status (*makers[3])(tt_layer **) = {tt_tanh_layer_new, tt_relu_layer_new,
                                           tt_sigmoid_layer_new};
    const char *names[3] = {"Tanh", "ReLU", "Sigmoid"};
    tt_tensor *x = probe_uniform(p, 2, TT_SHAPE(2, 3), -3.0f, 3.0f);
    probe_note(p, "a Sequential of 11 activation layers (Tanh, ReLU, Sigmoid, Tanh, ...): "
                  "length 11, at(10) is a ReLU, at(11) is NULL; the forward composes them "
                  "all on x: [2,3]");
    tt_layer *seq = sequential(p, "seq");
    for (int i = 0; i < 11; i++) {
        char label[32];
        snprintf(label, sizeof label, "append_%d", i);
        append(p, label, seq, activation(p, names[i % 3], makers[i % 3]));
    }
    probe_int(p, "length", (long)tt_sequential_length(seq));
    tt_layer *last = tt_sequential_at(seq, 10);
    probe_int(p, "at_10_is_ReLU", last && strcmp(tt_layer_name(last), "ReLU") == 0);
    probe_int(p, "at_11_is_NULL", tt_sequential_at(seq, 11) == NULL);
    probe_tol_elementwise(p);
    record_forward(p, "forward", seq, x);
    tt_layer_free(seq);
    tt_tensor_free(x);
}

static void case_params_many(tito_probe *p)
{
    tt_tensor *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = probe_randn(p, 1, TT_SHAPE((size_t)i + 1));
    tt_params ps;
    tt_params_init(&ps);
    probe_note(p, "20 pushes of tensors of 1..5 elements (t[i %% 5]): the list grows past any "
                  "first capacity and keeps every item in push order; numel 4 * 15 = 60");
    probe_tol_exact(p);
    probe_status(p, "first_push_status", tt_params_push(&ps, t[0]));
    long all_ok = 1;
    for (int i = 1; i < 20; i++)
        all_ok &= tt_params_push(&ps, t[i % 5]) == TT_OK;
    probe_int(p, "other_pushes_ok", all_ok);
    probe_int(p, "count", (long)ps.count);
    long in_order = ps.count == 20;
    for (size_t i = 0; in_order && i < 20; i++)
        in_order &= ps.items[i] == t[i % 5];
    probe_int(p, "items_in_push_order", in_order);
    probe_int(p, "numel", (long)tt_params_numel(&ps));
    tt_params_release(&ps);
    for (int i = 0; i < 5; i++)
        tt_tensor_free(t[i]);
}

static void case_sequential_backward(tito_probe *p)
{
    tt_rng rng;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 3));
    probe_note(p, "Sequential(Linear(3,5), Tanh, Linear(5,2)) on x: [4,3] requiring grad; "
                  "loss = sum(y) (reference); tt_backward reaches x and every parameter "
                  "(intermediate results freed by your forward stay alive in the graph)");
    tt_layer *seq = sequential(p, "seq");
    tt_layer *l1 = linear(p, "l1", 3, 5, true, &rng), *l2 = linear(p, "l2", 5, 2, true, &rng);
    append(p, "append_l1", seq, l1);
    append(p, "append_tanh", seq, activation(p, "tanh", tt_tanh_layer_new));
    append(p, "append_l2", seq, l2);
    if (!seq)
        l1 = l2 = NULL;
    tt_tensor *y = NULL, *s = NULL;
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    tt_status st = seq ? tt_layer_forward(seq, &y, x) : TT_ERR_STATE;
    probe_status(p, "forward_status", st);
    if (st == TT_OK && y && y->requires_grad)
        tt_tensor_sum_all(&s, y);
    probe_status(p, "backward_status", s ? tt_backward(s) : TT_ERR_STATE);
    probe_tol_reduction(p, 5);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor *params[4] = {l1 ? tt_linear_weight(l1) : NULL, l1 ? tt_linear_bias(l1) : NULL,
                            l2 ? tt_linear_weight(l2) : NULL, l2 ? tt_linear_bias(l2) : NULL};
    const char *names[4] = {"W1.grad", "b1.grad", "W2.grad", "b2.grad"};
    probe_tol_reduction(p, 4);
    for (int i = 0; i < 4; i++)
        probe_tensor(p, names[i], params[i] ? params[i]->grad : NULL);
    tt_tensor_zero_grad(x);
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_layer_free(seq);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ memory */

static void case_nested_forward_failures(tito_probe *p)
{
    tt_rng rng, start;
    seed_rng(p, &rng);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 3));
    probe_note(p, "Sequential(Linear(3,4), Sequential(Dropout(0.5), GELU), Linear(4,2)) in "
                  "training, x requiring grad, each allocation of the forward made to fail "
                  "in turn: TT_ERR_NOMEM, out NULL, no intermediate result left behind");
    tt_layer *outer = sequential(p, "outer"), *inner = sequential(p, "inner");
    append(p, "inner_append_dropout", inner, dropout(p, "dropout", 0.5f, &rng));
    append(p, "inner_append_gelu", inner, activation(p, "gelu", tt_gelu_layer_new));
    append(p, "outer_append_l1", outer, linear(p, "l1", 3, 4, true, &rng));
    append(p, "outer_append_inner", outer, inner);
    append(p, "outer_append_l2", outer, linear(p, "l2", 4, 2, true, &rng));
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    start = rng;
    tt_tensor *plain = NULL;
    tt_status plain_st = outer ? tt_layer_forward(outer, &plain, x) : TT_ERR_STATE;
    tt_tensor_free(plain);
    probe_status(p, "status_without_failures", plain_st);
    long all_nomem = 1, all_null = 1, nothing_leaked = 1, succeeded = 0;
    for (long n = 0; outer && n < 200 && !succeeded; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *y = &not_a_tensor;
        rng = start;
        tt_alloc_fail_after(n);
        tt_status st = tt_layer_forward(outer, &y, x);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            succeeded = 1;
            tt_tensor_free(y);
            break;
        }
        all_nomem &= st == TT_ERR_NOMEM;
        all_null &= y == NULL;
        nothing_leaked &= tt_alloc_live() == live;
    }
    probe_int(p, "every_failure_is_TT_ERR_NOMEM", all_nomem);
    probe_int(p, "out_is_NULL_after_each_failure", all_null);
    probe_int(p, "nothing_leaked_after_each_failure", nothing_leaked);
    probe_int(p, "succeeds_when_memory_is_there", succeeded);
    tt_layer_free(outer);
    if (!outer)
        tt_layer_free(inner);
    tt_tensor_free(x);
}

static const tito_probe_case cases[] = {
    {"linear.init_odd_shapes", "init", 2, case_linear_init_odd_shapes},
    {"linear.forward_4d", "linear", 1, case_linear_forward_4d},
    {"linear.forward_view", "linear", 1, case_linear_forward_view},
    {"linear.backward_to_input", "linear", 2, case_linear_backward_input},
    {"accessors.other_layers", "parameters", 1, case_accessors_on_other_layers},
    {"dropout.extreme_p", "dropout", 2, case_dropout_extreme_p},
    {"dropout.view_input", "dropout", 1, case_dropout_view},
    {"dropout.shared_generator", "dropout", 2, case_dropout_shared_rng},
    {"dropout.eval_train_switch", "dropout", 1, case_dropout_eval_train_switch},
    {"sequential.deep_nesting", "sequential", 2, case_sequential_deep},
    {"sequential.many_layers", "sequential", 1, case_sequential_many_layers},
    {"params.many_pushes", "parameters", 1, case_params_many},
    {"sequential.backward", "sequential", 2, case_sequential_backward},
    {"memory.nested_forward_failures", "memory", 2, case_nested_forward_failures},
};

TITO_PROBE_MAIN(cases)
