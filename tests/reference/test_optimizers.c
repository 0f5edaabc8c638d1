/*
 * Tests of module 06 (optimizers) against the reference implementation.
 *
 * Expected parameter values after each of four steps come from tests/fixtures/
 * optimizers.txt: an independent NumPy float32 implementation of the header's update
 * rules (gen_optimizers.py) for SGD (plain, momentum, weight decay, both), Adam (with
 * and without weight decay, other betas) and AdamW, and for a step where one parameter
 * has no gradient. Following the formulas operation by operation in float32 gives the
 * same bits; the comparison allows a few ulps so that an implementation that orders a
 * product differently is not failed for it.
 *
 * Besides values: state is allocated lazily (Adam holds two buffers per parameter),
 * a parameter without a gradient keeps its value and state, updates are not recorded
 * by autograd, the optimizer retains its parameters, a failing step changes nothing,
 * and every invalid option is refused with a message naming it.
 */
#include "harness.h"
#include "fixtures.h"
#include "helpers.h"

#include "tinytorch/autograd.h"
#include "tinytorch/optimizers.h"

#define ATOL 1e-7
#define RTOL 1e-6
#define STEPS 4

static tt_optimizer not_an_optimizer;

/* The two parameters of every scenario, as leaves that require gradients. */
typedef struct setup {
    tt_tensor *p[2];
    tt_params list;
} setup;

static void setup_init(setup *s)
{
    s->p[0] = fixture_tensor(FX, "init.p0");
    s->p[1] = fixture_tensor(FX, "init.p1");
    tt_params_init(&s->list);
    for (int i = 0; i < 2; i++) {
        CHECK(s->p[i] != NULL);
        if (s->p[i]) {
            CHECK_OK(tt_tensor_set_requires_grad(s->p[i], true));
            CHECK_OK(tt_params_push(&s->list, s->p[i]));
        }
    }
}

static void setup_release(setup *s)
{
    tt_params_release(&s->list);
    tt_tensor_free(s->p[0]);
    tt_tensor_free(s->p[1]);
}

/* Give the parameters the fixture gradients of step `step` (p1's left NULL when
 * skip_p1). Gradients are set as backward would leave them: a tensor in .grad. */
static void set_grads(setup *s, int step, bool skip_p1)
{
    for (int i = 0; i < 2; i++) {
        tt_tensor_zero_grad(s->p[i]);
        if (i == 1 && skip_p1)
            continue;
        char name[32];
        snprintf(name, sizeof name, "grad.s%d.p%d", step, i);
        tt_tensor *g = fixture_tensor(FX, name);
        CHECK(g != NULL);
        if (g)
            CHECK_OK(tt_accumulate_grad(s->p[i], g));
        tt_tensor_free(g);
    }
}

static void run_scenario(const char *name, tt_optimizer_kind kind, tt_optimizer_options o,
                         int skip_step)
{
    setup s;
    setup_init(&s);
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, kind, &s.list, &o));
    if (!opt) {
        setup_release(&s);
        return;
    }
    for (int step = 0; step < STEPS; step++) {
        set_grads(&s, step, step == skip_step);
        CHECK_OK(tt_optimizer_step(opt));
        CHECK(opt->step_count == step + 1);
        for (int i = 0; i < 2; i++) {
            char fx[64];
            snprintf(fx, sizeof fx, "%s.s%d.p%d", name, step, i);
            check_tensor_near(s.p[i], fx, ATOL, RTOL);
        }
    }
    tt_optimizer_free(opt);
    setup_release(&s);
}

static tt_optimizer_options options(float lr)
{
    tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
    o.lr = lr;
    return o;
}

static void test_sgd_values(void)
{
    tt_optimizer_options o = options(0.1f);
    run_scenario("sgd", TT_OPTIM_SGD, o, -1);
    o.weight_decay = 0.1f;
    run_scenario("sgd_wd", TT_OPTIM_SGD, o, -1);
}

static void test_sgd_momentum_values(void)
{
    tt_optimizer_options o = options(0.05f);
    o.momentum = 0.9f;
    run_scenario("sgd_momentum", TT_OPTIM_SGD, o, -1);
    o.weight_decay = 0.01f;
    run_scenario("sgd_momentum_wd", TT_OPTIM_SGD, o, -1);
}

static void test_adam_values(void)
{
    run_scenario("adam", TT_OPTIM_ADAM, options(0.01f), -1);
    tt_optimizer_options o = options(0.01f);
    o.weight_decay = 0.05f;
    run_scenario("adam_wd", TT_OPTIM_ADAM, o, -1);
    o = options(0.003f);
    o.beta1 = 0.8f;
    o.beta2 = 0.95f;
    o.eps = 1e-6f;
    run_scenario("adam_betas", TT_OPTIM_ADAM, o, -1);
}

static void test_adamw_values(void)
{
    tt_optimizer_options o = options(0.01f);
    o.weight_decay = 0.1f;
    run_scenario("adamw", TT_OPTIM_ADAMW, o, -1);
}

static void test_null_grad_skipped(void)
{
    tt_optimizer_options o = options(0.05f);
    o.momentum = 0.9f;
    run_scenario("sgd_momentum_skip", TT_OPTIM_SGD, o, 1);
    run_scenario("adam_skip", TT_OPTIM_ADAM, options(0.01f), 1);

    /* Before its first gradient a parameter has no state at all. */
    setup s;
    setup_init(&s);
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    set_grads(&s, 0, true);
    float before[5];
    CHECK_OK(tt_tensor_to_array(s.p[1], before, 5));
    CHECK_OK(tt_optimizer_step(opt));
    CHECK(opt->state1[0] && opt->state2[0]);
    CHECK(opt->state1[1] == NULL && opt->state2[1] == NULL);
    CHECK(memcmp(before, tt_tensor_data(s.p[1]), sizeof before) == 0);
    /* No gradient anywhere: a step that changes nothing but the count. */
    tt_optimizer_zero_grad(opt);
    CHECK(s.p[0]->grad == NULL && s.p[1]->grad == NULL);
    float p0[12];
    CHECK_OK(tt_tensor_to_array(s.p[0], p0, 12));
    CHECK_OK(tt_optimizer_step(opt));
    CHECK(opt->step_count == 2);
    CHECK(memcmp(p0, tt_tensor_data(s.p[0]), sizeof p0) == 0);
    tt_optimizer_free(opt);
    setup_release(&s);
}

static void test_state_memory(void)
{
    /* SGD without momentum keeps nothing; with momentum one buffer; Adam two. */
    const struct { tt_optimizer_kind kind; float momentum; int buffers; } cases[] = {
        {TT_OPTIM_SGD, 0.0f, 0}, {TT_OPTIM_SGD, 0.9f, 1}, {TT_OPTIM_ADAM, 0.0f, 2},
        {TT_OPTIM_ADAMW, 0.0f, 2}};
    for (size_t c = 0; c < 4; c++) {
        setup s;
        setup_init(&s);
        tt_optimizer_options o = options(0.01f);
        o.momentum = cases[c].momentum;
        tt_optimizer *opt = NULL;
        CHECK_OK(tt_optimizer_new(&opt, cases[c].kind, &s.list, &o));
        if (!opt) {
            setup_release(&s);
            continue;
        }
        CHECK(opt->n_params == 2 && opt->step_count == 0);
        CHECK(opt->state1[0] == NULL && opt->state2[0] == NULL);
        set_grads(&s, 0, false);
        CHECK_OK(tt_optimizer_step(opt));
        size_t state_numel = 0;
        for (int i = 0; i < 2; i++) {
            state_numel += opt->state1[i] ? tt_tensor_numel(opt->state1[i]) : 0;
            state_numel += opt->state2[i] ? tt_tensor_numel(opt->state2[i]) : 0;
            if (opt->state1[i])
                CHECK(tt_tensor_same_shape(opt->state1[i], s.p[i]));
        }
        CHECK(state_numel == (size_t)cases[c].buffers * tt_params_numel(&s.list));
        /* Later steps allocate nothing that stays. */
        size_t live_after = tt_alloc_live();
        set_grads(&s, 1, false);
        CHECK_OK(tt_optimizer_step(opt));
        CHECK(tt_alloc_live() == live_after);
        tt_optimizer_free(opt);
        setup_release(&s);
    }
}

static void test_update_not_recorded(void)
{
    setup s;
    setup_init(&s);
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    set_grads(&s, 0, false);
    CHECK_OK(tt_optimizer_step(opt));
    for (int i = 0; i < 2; i++) {
        CHECK(s.p[i]->grad_fn == NULL);
        CHECK(s.p[i]->requires_grad);
        /* The step leaves the gradient in place; zero_grad is the caller's call. */
        CHECK(s.p[i]->grad != NULL);
    }
    tt_optimizer_zero_grad(opt);
    CHECK(s.p[0]->grad == NULL && s.p[1]->grad == NULL);
    tt_optimizer_zero_grad(NULL);
    tt_optimizer_free(opt);
    setup_release(&s);
}

static void test_optimizer_retains_parameters(void)
{
    setup s;
    setup_init(&s);
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, NULL));
    CHECK(opt && opt->params[0] == s.p[0] && opt->params[1] == s.p[1]);
    CHECK(opt->params != s.list.items); /* a copy of the list, not the caller's array */
    int rc0 = s.p[0]->refcount;
    /* The caller lets go of its list and its tensors: the optimizer still holds them. */
    set_grads(&s, 0, false);
    tt_tensor *p0 = s.p[0];
    setup_release(&s);
    CHECK(p0->refcount == rc0 - 1);
    CHECK_OK(tt_optimizer_step(opt));
    tt_optimizer_free(opt);
    tt_optimizer_free(NULL);
}

static void test_set_lr(void)
{
    setup s;
    setup_init(&s);
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, NULL));
    CHECK(opt->options.lr == 0.01f);
    CHECK_OK(tt_optimizer_set_lr(opt, 0.5f));
    CHECK(opt->options.lr == 0.5f);
    const float bad[] = {0.0f, -1.0f, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        CHECK_STATUS(tt_optimizer_set_lr(opt, bad[i]), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("lr");
        CHECK(opt->options.lr == 0.5f);
    }
    CHECK_STATUS(tt_optimizer_set_lr(NULL, 0.1f), TT_ERR_INVALID_ARG);
    /* The new rate is the one used: p -= 0.5 * g. */
    set_grads(&s, 0, false);
    float p_before[5], g[5];
    CHECK_OK(tt_tensor_to_array(s.p[1], p_before, 5));
    CHECK_OK(tt_tensor_to_array(s.p[1]->grad, g, 5));
    CHECK_OK(tt_optimizer_step(opt));
    for (int i = 0; i < 5; i++)
        CHECK(tt_tensor_data(s.p[1])[i] == p_before[i] - 0.5f * g[i]);
    tt_optimizer_free(opt);
    setup_release(&s);
}

static void test_bad_options(void)
{
    setup s;
    setup_init(&s);
    const struct { tt_optimizer_kind kind; int field; float value; const char *mention; } cases[] = {
        {TT_OPTIM_SGD, 0, 0.0f, "lr"},          {TT_OPTIM_SGD, 0, -0.1f, "lr"},
        {TT_OPTIM_ADAM, 0, NAN, "lr"},          {TT_OPTIM_SGD, 0, INFINITY, "lr"},
        {TT_OPTIM_SGD, 1, 1.0f, "momentum"},    {TT_OPTIM_SGD, 1, -0.5f, "momentum"},
        {TT_OPTIM_SGD, 1, NAN, "momentum"},     {TT_OPTIM_SGD, 2, -1e-3f, "weight_decay"},
        {TT_OPTIM_ADAMW, 2, NAN, "weight_decay"}, {TT_OPTIM_ADAM, 3, 1.0f, "betas"},
        {TT_OPTIM_ADAM, 4, 1.0f, "betas"},      {TT_OPTIM_ADAMW, 3, -0.1f, "betas"},
        {TT_OPTIM_ADAM, 5, 0.0f, "eps"},        {TT_OPTIM_ADAMW, 5, -1e-8f, "eps"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
        float *fields[] = {&o.lr, &o.momentum, &o.weight_decay, &o.beta1, &o.beta2, &o.eps};
        *fields[cases[c].field] = cases[c].value;
        tt_optimizer *opt = &not_an_optimizer;
        CHECK_STATUS(tt_optimizer_new(&opt, cases[c].kind, &s.list, &o), TT_ERR_INVALID_ARG);
        CHECK(opt == NULL);
        CHECK_ERROR_MENTIONS(cases[c].mention);
    }
    /* Options a kind does not use are not checked: Adam ignores momentum. */
    tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
    o.momentum = 5.0f;
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, &o));
    tt_optimizer_free(opt);
    opt = &not_an_optimizer;
    CHECK_STATUS(tt_optimizer_new(&opt, (tt_optimizer_kind)7, &s.list, NULL), TT_ERR_INVALID_ARG);
    CHECK(opt == NULL);
    CHECK_ERROR_MENTIONS("unknown kind 7");
    CHECK_STATUS(tt_optimizer_new(NULL, TT_OPTIM_SGD, &s.list, NULL), TT_ERR_INVALID_ARG);
    setup_release(&s);
}

static void test_bad_parameter_lists(void)
{
    tt_params empty;
    tt_params_init(&empty);
    tt_optimizer *opt = &not_an_optimizer;
    CHECK_STATUS(tt_optimizer_new(&opt, TT_OPTIM_SGD, &empty, NULL), TT_ERR_INVALID_ARG);
    CHECK(opt == NULL);
    CHECK_ERROR_MENTIONS("no parameters");
    CHECK_STATUS(tt_optimizer_new(&opt, TT_OPTIM_SGD, NULL, NULL), TT_ERR_INVALID_ARG);

    tt_tensor *a = NULL, *t = NULL;
    CHECK_OK(tt_tensor_zeros(&a, 2, TT_SHAPE(2, 3)));
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_params_push(&ps, a));
    CHECK_OK(tt_params_push(&ps, a));
    CHECK_STATUS(tt_optimizer_new(&opt, TT_OPTIM_SGD, &ps, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("parameter 1 is the same tensor as parameter 0");
    tt_params_release(&ps);

    CHECK_OK(tt_tensor_transpose(&t, a, 0, 1));
    CHECK_OK(tt_params_push(&ps, t));
    CHECK_STATUS(tt_optimizer_new(&opt, TT_OPTIM_ADAM, &ps, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("non-contiguous");
    tt_params_release(&ps);

    tt_params holes = {NULL, 0, 0};
    tt_tensor *items[2] = {a, NULL};
    holes.items = items;
    holes.count = holes.capacity = 2;
    CHECK_STATUS(tt_optimizer_new(&opt, TT_OPTIM_SGD, &holes, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("parameter 1 is NULL");
    CHECK(opt == NULL);
    tt_tensor_free(t);
    tt_tensor_free(a);
}

static void test_step_grad_shape_mismatch_changes_nothing(void)
{
    setup s;
    setup_init(&s);
    tt_optimizer *opt = NULL;
    tt_optimizer_options o = options(0.1f);
    o.momentum = 0.5f;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_SGD, &s.list, &o));
    set_grads(&s, 0, false);
    /* Replace p1's gradient by one of the wrong shape (as a buggy backward might). */
    tt_tensor *bad = NULL;
    CHECK_OK(tt_tensor_zeros(&bad, 2, TT_SHAPE(5, 1)));
    tt_tensor_free(s.p[1]->grad);
    s.p[1]->grad = bad;
    float p0[12];
    CHECK_OK(tt_tensor_to_array(s.p[0], p0, 12));
    CHECK_STATUS(tt_optimizer_step(opt), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("parameter 1 has shape [5] but its grad has shape [5,1]");
    CHECK(memcmp(p0, tt_tensor_data(s.p[0]), sizeof p0) == 0);
    CHECK(opt->step_count == 0);
    CHECK_STATUS(tt_optimizer_step(NULL), TT_ERR_INVALID_ARG);
    tt_optimizer_free(opt);
    setup_release(&s);
}

static void test_strided_gradient(void)
{
    /* A gradient that is a transposed view is read in the parameter's order. */
    tt_tensor *p = NULL, *gt = NULL, *g = NULL;
    const float pv[6] = {1, 2, 3, 4, 5, 6}, gv[6] = {1, 4, 2, 5, 3, 6}; /* [3,2] */
    CHECK_OK(tt_tensor_from_data(&p, 2, TT_SHAPE(2, 3), pv));
    CHECK_OK(tt_tensor_from_data(&gt, 2, TT_SHAPE(3, 2), gv));
    CHECK_OK(tt_tensor_transpose(&g, gt, 0, 1)); /* [2,3]: 1 2 3 / 4 5 6 */
    CHECK_OK(tt_tensor_set_requires_grad(p, true));
    p->grad = tt_tensor_retain(g);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_params_push(&ps, p));
    tt_optimizer *opt = NULL;
    tt_optimizer_options o = options(1.0f);
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_SGD, &ps, &o));
    CHECK_OK(tt_optimizer_step(opt));
    for (int i = 0; i < 6; i++)
        CHECK(tt_tensor_data(p)[i] == 0.0f);
    tt_optimizer_free(opt);
    tt_params_release(&ps);
    tt_tensor_free(g);
    tt_tensor_free(gt);
    tt_tensor_free(p);
}

static void test_out_of_memory(void)
{
    setup s;
    setup_init(&s);
    /* The constructor: each allocation failing in turn. */
    for (long n = 0; n < 50; n++) {
        size_t live = tt_alloc_live();
        tt_optimizer *opt = &not_an_optimizer;
        tt_alloc_fail_after(n);
        tt_status st = tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            CHECK(n == 4); /* the optimizer and its three arrays */
            tt_optimizer_free(opt);
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(opt == NULL);
        CHECK(tt_alloc_live() == live);
    }
    /* The first step allocates the state: a failure there changes no parameter, and
     * the step then succeeds with the expected values. */
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_ADAM, &s.list, NULL));
    set_grads(&s, 0, false);
    float p0[12], p1[5];
    CHECK_OK(tt_tensor_to_array(s.p[0], p0, 12));
    CHECK_OK(tt_tensor_to_array(s.p[1], p1, 5));
    int failures = 0;
    for (long n = 0; n < 50; n++) {
        tt_alloc_fail_after(n);
        tt_status st = tt_optimizer_step(opt);
        tt_alloc_fail_after(-1);
        if (st == TT_OK)
            break;
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(opt->step_count == 0);
        CHECK(memcmp(p0, tt_tensor_data(s.p[0]), sizeof p0) == 0);
        CHECK(memcmp(p1, tt_tensor_data(s.p[1]), sizeof p1) == 0);
    }
    CHECK(failures >= 4); /* two buffers per parameter */
    CHECK(opt->step_count == 1);
    check_tensor_near(s.p[0], "adam.s0.p0", ATOL, RTOL);
    check_tensor_near(s.p[1], "adam.s0.p1", ATOL, RTOL);
    tt_optimizer_free(opt);
    setup_release(&s);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("optimizers");
    if (!FX) {
        fprintf(stderr, "cannot load the optimizers fixtures\n");
        return 1;
    }
    RUN(test_sgd_values);
    RUN(test_sgd_momentum_values);
    RUN(test_adam_values);
    RUN(test_adamw_values);
    RUN(test_null_grad_skipped);
    RUN(test_state_memory);
    RUN(test_update_not_recorded);
    RUN(test_optimizer_retains_parameters);
    RUN(test_set_lr);
    RUN(test_bad_options);
    RUN(test_bad_parameter_lists);
    RUN(test_step_grad_shape_mismatch_changes_nothing);
    RUN(test_strided_gradient);
    RUN(test_out_of_memory);
    fixtures_free(FX);
    return harness_summary();
}
