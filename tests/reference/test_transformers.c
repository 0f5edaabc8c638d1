/*
 * Tests of module 13 (transformers) against the reference implementation.
 *
 * Expected values come from tests/fixtures/transformers.txt (gen_transformers.py): an
 * independent NumPy float64 forward and hand-written backward of LayerNorm, a pre-norm
 * block and a small GPT with given weights (loaded here into the parameters in
 * tt_layer_parameters order): logits, loss, every parameter's gradient, the loss over
 * five SGD steps, and generated tokens (greedy, and sampled with an independent PCG32).
 * Gradients are also checked by finite differences (gradcheck.h).
 *
 * LayerNorm's statistics carry gradient: besides the fixture and the finite
 * differences, two identities fail when mean and variance are treated as constants
 * (the gradient of sum(LN(x)) and of sum(LN(x)^2) is zero). The GPT's causal mask is
 * checked the strong way: changing a later token never changes an earlier output, bit
 * for bit. Every error path, with each allocation failing in turn and nothing leaking.
 */
#include "harness.h"
#include "fixtures.h"
#include "helpers.h"
#include "gradcheck.h"

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/transformers.h"

/* Functions that fail must overwrite *out with NULL: tests start it pointing here. */
static tt_tensor not_a_tensor;
static tt_layer not_a_layer;

/* The names gen_transformers.py gives a block's parameters, in tt_layer_parameters
 * order. */
static const char *const BLOCK_NAMES[16] = {
    "ln1.g", "ln1.b", "attn.wq", "attn.bq", "attn.wk", "attn.bk", "attn.wv", "attn.bv",
    "attn.wo", "attn.bo", "ln2.g", "ln2.b", "fc1.w", "fc1.b", "fc2.w", "fc2.b",
};

/* Name of parameter i of the fixture GPT (2 blocks). */
static void gpt_param_name(char *buf, size_t cap, size_t i)
{
    static const char *const tail[4] = {"lnf.g", "lnf.b", "head.w", "head.b"};
    if (i < 2)
        snprintf(buf, cap, "%s", i == 0 ? "tok" : "pos");
    else if (i < 2 + 32)
        snprintf(buf, cap, "b%zu.%s", (i - 2) / 16, BLOCK_NAMES[(i - 2) % 16]);
    else
        snprintf(buf, cap, "%s", tail[(i - 34) % 4]);
}

/* ================================================================== LayerNorm */

static void test_layer_norm_values(void)
{
    tt_tensor *x = fx("ln.x"), *gamma = fx("ln.gamma"), *beta = fx("ln.beta"), *g = fx("ln.g");
    tt_tensor *y = &not_a_tensor;
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_set_requires_grad(gamma, true));
    CHECK_OK(tt_tensor_set_requires_grad(beta, true));
    CHECK_OK(tt_layer_norm(&y, x, gamma, beta, TT_LAYERNORM_EPS));
    check_tensor_near(y, "ln.y", 2e-6, 2e-6);
    CHECK(y && y->grad_fn && strcmp(y->grad_fn->op->name, "layer_norm") == 0);
    CHECK_OK(tt_backward_with(y, g));
    check_tensor_near(x->grad, "ln.dx", 1e-5, 1e-5);
    check_tensor_near(gamma->grad, "ln.dgamma", 1e-5, 1e-5);
    check_tensor_near(beta->grad, "ln.dbeta", 1e-6, 1e-6);
    tt_tensor_free(y);

    /* A mean of 1000 next to a spread of 0.05: the statistics in double, two passes. */
    tt_tensor *xb = fx("ln_big.x"), *ones = NULL, *zeros = NULL;
    CHECK_OK(tt_tensor_full(&ones, 1, TT_SHAPE(6), 1.0f));
    CHECK_OK(tt_tensor_zeros(&zeros, 1, TT_SHAPE(6)));
    CHECK_OK(tt_layer_norm(&y, xb, ones, zeros, TT_LAYERNORM_EPS));
    check_tensor_near(y, "ln_big.y", 1e-5, 1e-5);
    /* Each row of the result has mean 0 and variance var / (var + eps). */
    for (size_t r = 0; y && r < 4; r++) {
        const float *xr = tt_tensor_data(xb) + r * 6;
        double s = 0, s2 = 0, mean = 0, var = 0;
        for (size_t j = 0; j < 6; j++)
            mean += xr[j] / 6.0;
        for (size_t j = 0; j < 6; j++) {
            double v = tt_tensor_data(y)[r * 6 + j];
            s += v;
            s2 += v * v;
            var += (xr[j] - mean) * (xr[j] - mean) / 6.0;
        }
        CHECK_NEAR(s / 6.0, 0.0, 1e-6, 0.0);
        CHECK_NEAR(s2 / 6.0, var / (var + (double)TT_LAYERNORM_EPS), 1e-5, 0.0);
    }
    tt_tensor_free(y);
    tt_tensor *all[] = {x, gamma, beta, g, xb, ones, zeros};
    free_all(all, 7);
}

static void test_layer_norm_statistics_carry_gradient(void)
{
    /* sum_j LN(x)_j = sum_j xhat_j = 0 for every x (gamma 1, beta 0): its gradient is
     * zero. Statistics treated as constants would give rstd instead, about 1/sigma. */
    tt_tensor *x = randn(2, TT_SHAPE(3, 7), 5), *ones = NULL, *zeros = NULL, *y = NULL, *s = NULL;
    CHECK_OK(tt_tensor_mul_scalar(&s, x, 0.5f)); /* sigma ~ 0.5: rstd ~ 2 */
    tt_tensor_free(x);
    x = s;
    s = NULL;
    CHECK_OK(tt_tensor_full(&ones, 1, TT_SHAPE(7), 1.0f));
    CHECK_OK(tt_tensor_zeros(&zeros, 1, TT_SHAPE(7)));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_layer_norm(&y, x, ones, zeros, TT_LAYERNORM_EPS));
    CHECK_OK(tt_tensor_sum_all(&s, y));
    CHECK_OK(tt_backward(s));
    for (size_t i = 0; x->grad && i < 21; i++)
        CHECK_NEAR(tt_tensor_data(x->grad)[i], 0.0, 1e-5, 0.0);
    tt_tensor_free(s);
    tt_tensor_free(y);
    tt_tensor_zero_grad(x);

    /* sum_j LN(x)_j^2 = D var / (var + eps), nearly constant: its gradient is about
     * 2 D eps / (var+eps)^2 * (x - mean) / D, tiny; as constants it would be 2 xhat rstd. */
    tt_tensor *sq = NULL;
    CHECK_OK(tt_layer_norm(&y, x, ones, zeros, TT_LAYERNORM_EPS));
    CHECK_OK(tt_tensor_mul(&sq, y, y));
    CHECK_OK(tt_tensor_sum_all(&s, sq));
    CHECK_OK(tt_backward(s));
    for (size_t i = 0; x->grad && i < 21; i++)
        CHECK_NEAR(tt_tensor_data(x->grad)[i], 0.0, 1e-3, 0.0);
    tt_tensor *all[] = {x, ones, zeros, y, s, sq};
    free_all(all, 6);

    /* The fixture's gradient is far from the constants' answer gamma * g * rstd: a
     * backward that forgot the statistics cannot pass test_layer_norm_values. */
    const fixture *fxx = fixture_find(FX, "ln.x"), *fg = fixture_find(FX, "ln.g");
    const fixture *fgam = fixture_find(FX, "ln.gamma"), *fdx = fixture_find(FX, "ln.dx");
    CHECK(fxx && fg && fgam && fdx);
    double worst = 0.0;
    for (size_t r = 0; fxx && fg && fgam && fdx && r < 3; r++) {
        double mean = 0, var = 0;
        for (size_t j = 0; j < 5; j++)
            mean += fxx->data[r * 5 + j] / 5.0;
        for (size_t j = 0; j < 5; j++)
            var += (fxx->data[r * 5 + j] - mean) * (fxx->data[r * 5 + j] - mean) / 5.0;
        double rstd = 1.0 / sqrt(var + 1e-5);
        for (size_t j = 0; j < 5; j++) {
            double naive = fg->data[r * 5 + j] * fgam->data[j] * rstd;
            double diff = fabs(naive - fdx->data[r * 5 + j]) / (fabs(fdx->data[r * 5 + j]) + rstd);
            worst = diff > worst ? diff : worst;
        }
    }
    CHECK(worst > 0.1);
}

typedef struct ln_ctx {
    tt_tensor *x, *gamma, *beta;
    float eps;
} ln_ctx;

static tt_status f_layer_norm(tt_tensor **out, void *ctx)
{
    ln_ctx *c = ctx;
    return tt_layer_norm(out, c->x, c->gamma, c->beta, c->eps);
}

static void test_layer_norm_fd(void)
{
    ln_ctx c = {randn(2, TT_SHAPE(3, 6), 31), randn(1, TT_SHAPE(6), 32), randn(1, TT_SHAPE(6), 33),
                TT_LAYERNORM_EPS};
    gc_check((gc_spec){.label = "layer norm", .fwd = f_layer_norm, .ctx = &c, .n = 3,
                       .wrt = {c.x, c.gamma, c.beta}, .names = {"x", "gamma", "beta"}});
    tt_tensor_free(c.x);
    /* A transposed 3-D view, and a large eps (the variance term matters). */
    tt_tensor *base = randn(3, TT_SHAPE(2, 6, 3), 34);
    c.x = NULL;
    CHECK_OK(tt_tensor_transpose(&c.x, base, 1, 2));
    c.eps = 0.5f;
    gc_check((gc_spec){.label = "layer norm (view, eps 0.5)", .fwd = f_layer_norm, .ctx = &c,
                       .n = 2, .wrt = {c.x, c.gamma}, .names = {"x", "gamma"}});
    tt_tensor *all[] = {base, c.x, c.gamma, c.beta};
    free_all(all, 4);
}

static void test_layer_norm_errors(void)
{
    tt_tensor *x = randn(2, TT_SHAPE(2, 4), 1), *g = NULL, *b = NULL, *y = &not_a_tensor;
    CHECK_OK(tt_tensor_full(&g, 1, TT_SHAPE(4), 1.0f));
    CHECK_OK(tt_tensor_zeros(&b, 1, TT_SHAPE(4)));
    CHECK_STATUS(tt_layer_norm(NULL, x, g, b, 1e-5f), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_layer_norm(&y, NULL, g, b, 1e-5f), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_STATUS(tt_layer_norm(&y, x, NULL, b, 1e-5f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("gamma");
    CHECK_STATUS(tt_layer_norm(&y, x, g, NULL, 1e-5f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("beta");
    const float bad_eps[] = {0.0f, -1e-5f, NAN, INFINITY};
    for (size_t i = 0; i < 4; i++) {
        y = &not_a_tensor;
        CHECK_STATUS(tt_layer_norm(&y, x, g, b, bad_eps[i]), TT_ERR_INVALID_ARG);
        CHECK(y == NULL);
        CHECK_ERROR_MENTIONS("eps");
    }
    tt_tensor *g5 = NULL, *g2d = NULL, *s = NULL;
    CHECK_OK(tt_tensor_full(&g5, 1, TT_SHAPE(5), 1.0f));
    CHECK_OK(tt_tensor_full(&g2d, 2, TT_SHAPE(1, 4), 1.0f));
    CHECK_OK(tt_tensor_scalar(&s, 1.0f));
    y = &not_a_tensor;
    CHECK_STATUS(tt_layer_norm(&y, x, g5, b, 1e-5f), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("[5]");
    CHECK_STATUS(tt_layer_norm(&y, x, g, g2d, 1e-5f), TT_ERR_SHAPE);
    CHECK_STATUS(tt_layer_norm(&y, s, g, b, 1e-5f), TT_ERR_SHAPE);
    tt_tensor *extra[] = {g5, g2d, s};
    free_all(extra, 3);

    /* Allocation failures, forward (recorded) and backward. */
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_tensor_set_requires_grad(g, true));
    for (long n = 0; n < 50; n++) {
        size_t live = tt_alloc_live();
        y = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_layer_norm(&y, x, g, b, 1e-5f);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_tensor_free(y);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && y == NULL && tt_alloc_live() == live);
    }
    for (long n = 0; n < 80; n++) {
        tt_tensor *sum = NULL;
        CHECK_OK(tt_layer_norm(&y, x, g, b, 1e-5f));
        CHECK_OK(tt_tensor_sum_all(&sum, y));
        tt_alloc_fail_after(n);
        tt_status st = tt_backward(sum);
        tt_alloc_fail_after(-1);
        tt_tensor_free(sum);
        tt_tensor_free(y);
        tt_tensor_zero_grad(x);
        tt_tensor_zero_grad(g);
        if (st == TT_OK)
            break;
        CHECK(st == TT_ERR_NOMEM);
    }
    tt_tensor *all[] = {x, g, b};
    free_all(all, 3);
}

static void test_layernorm_layer(void)
{
    tt_layer *ln = &not_a_layer;
    CHECK_OK(tt_layernorm_new(&ln, 5, TT_LAYERNORM_EPS));
    if (!ln || ln == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(ln), "LayerNorm") == 0);
    tt_tensor *gamma = tt_layernorm_gamma(ln), *beta = tt_layernorm_beta(ln);
    CHECK(gamma && beta && gamma->ndim == 1 && gamma->shape[0] == 5 && beta->shape[0] == 5);
    for (size_t j = 0; gamma && beta && j < 5; j++)
        CHECK(tt_tensor_data(gamma)[j] == 1.0f && tt_tensor_data(beta)[j] == 0.0f);
    CHECK(gamma->requires_grad && beta->requires_grad);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(ln, &ps));
    CHECK(ps.count == 2 && ps.items[0] == gamma && ps.items[1] == beta);
    tt_params_release(&ps);
    /* Its forward is tt_layer_norm with its own parameters, bit for bit. */
    load_param(gamma, "ln.gamma");
    load_param(beta, "ln.beta");
    tt_tensor *x = fx("ln.x"), *y = NULL, *y2 = NULL;
    CHECK_OK(tt_layer_forward(ln, &y, x));
    CHECK_OK(tt_layer_norm(&y2, x, gamma, beta, TT_LAYERNORM_EPS));
    CHECK(y && y2 && memcmp(tt_tensor_data(y), tt_tensor_data(y2), 15 * sizeof(float)) == 0);
    check_tensor_near(y, "ln.y", 2e-6, 2e-6);
    tt_tensor_free(y);
    tt_tensor_free(y2);
    tt_tensor *x4 = randn(2, TT_SHAPE(3, 4), 3);
    y = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(ln, &y, x4), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("LayerNorm(5)");
    tt_tensor_free(x4);
    tt_tensor_free(x);
    CHECK(tt_layernorm_gamma(NULL) == NULL && tt_layernorm_beta(NULL) == NULL);
    tt_layer_free(ln);

    ln = &not_a_layer;
    CHECK_STATUS(tt_layernorm_new(&ln, 0, 1e-5f), TT_ERR_INVALID_ARG);
    CHECK(ln == NULL);
    ln = &not_a_layer;
    CHECK_STATUS(tt_layernorm_new(&ln, 4, 0.0f), TT_ERR_INVALID_ARG);
    CHECK(ln == NULL);
    CHECK_STATUS(tt_layernorm_new(&ln, 4, NAN), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_layernorm_new(NULL, 4, 1e-5f), TT_ERR_INVALID_ARG);
    for (long n = 0; n < 20; n++) {
        size_t live = tt_alloc_live();
        ln = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_layernorm_new(&ln, 4, 1e-5f);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_layer_free(ln);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && ln == NULL && tt_alloc_live() == live);
    }
}

/* ======================================================================== MLP */

static void test_mlp(void)
{
    tt_rng rng, ref;
    tt_rng_init(&rng, 8);
    tt_rng_init(&ref, 8);
    tt_layer *m = &not_a_layer, *fc1 = NULL, *fc2 = NULL;
    CHECK_OK(tt_mlp_new(&m, 4, 6, &rng));
    if (!m || m == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(m), "MLP") == 0);
    /* fc1 then fc2, each W then b. */
    CHECK_OK(tt_linear_new(&fc1, 4, 6, true, &ref));
    CHECK_OK(tt_linear_new(&fc2, 6, 4, true, &ref));
    CHECK(rng.state == ref.state);
    tt_layer *a = tt_mlp_linear(m, 0), *b = tt_mlp_linear(m, 1);
    CHECK(a && b && tt_mlp_linear(m, 2) == NULL && tt_mlp_linear(fc1, 0) == NULL);
    CHECK(a && memcmp(tt_tensor_data(tt_linear_weight(a)), tt_tensor_data(tt_linear_weight(fc1)),
                      24 * sizeof(float)) == 0);
    CHECK(b && memcmp(tt_tensor_data(tt_linear_bias(b)), tt_tensor_data(tt_linear_bias(fc2)),
                      4 * sizeof(float)) == 0);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(m, &ps));
    CHECK(ps.count == 4 && tt_params_numel(&ps) == 24 + 6 + 24 + 4);
    CHECK(ps.count == 4 && ps.items[0] == tt_linear_weight(a) && ps.items[3] == tt_linear_bias(b));
    tt_params_release(&ps);
    /* Forward: fc2(gelu(fc1(x))), bit for bit against the composition. */
    tt_tensor *x = randn(3, TT_SHAPE(2, 3, 4), 9), *y = NULL, *h = NULL, *g = NULL, *y2 = NULL;
    CHECK_OK(tt_layer_forward(m, &y, x));
    CHECK_OK(tt_layer_forward(fc1, &h, x));
    CHECK_OK(tt_gelu(&g, h));
    CHECK_OK(tt_layer_forward(fc2, &y2, g));
    CHECK(y && y2 && tt_tensor_same_shape(y, x) &&
          memcmp(tt_tensor_data(y), tt_tensor_data(y2), 24 * sizeof(float)) == 0);
    CHECK(y && y->requires_grad);
    tt_tensor *all[] = {x, y, h, g, y2};
    free_all(all, 5);
    tt_layer_free(fc1);
    tt_layer_free(fc2);
    tt_layer_set_training(m, false);
    CHECK(!m->training && !a->training && !b->training);
    tt_layer_free(m);

    m = &not_a_layer;
    CHECK_STATUS(tt_mlp_new(&m, 0, 4, &rng), TT_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK_STATUS(tt_mlp_new(&m, 4, 0, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_mlp_new(&m, 4, 4, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_mlp_new(NULL, 4, 4, &rng), TT_ERR_INVALID_ARG);
    for (long n = 0; n < 40; n++) {
        size_t live = tt_alloc_live();
        m = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_mlp_new(&m, 4, 4, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_layer_free(m);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && m == NULL && tt_alloc_live() == live);
    }
}

/* ====================================================================== block */

static tt_layer *block_from_fixture(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *b = NULL;
    CHECK_OK(tt_block_new(&b, 8, 2, 12, &rng));
    if (!b)
        return NULL;
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(b, &ps));
    CHECK(ps.count == 16);
    for (size_t i = 0; i < ps.count && i < 16; i++) {
        char name[48];
        snprintf(name, sizeof name, "block.p.%s", BLOCK_NAMES[i]);
        load_param(ps.items[i], name);
    }
    tt_params_release(&ps);
    return b;
}

static void test_block_values_and_gradients(void)
{
    tt_layer *b = block_from_fixture();
    tt_tensor *x = fx("block.x"), *g = fx("block.g"), *mask = NULL, *y = &not_a_tensor;
    CHECK_OK(tt_causal_mask(&mask, 3, 3));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    CHECK_OK(tt_block_forward(b, &y, x, mask));
    check_tensor_near(y, "block.y", 1e-5, 1e-4);
    CHECK_OK(tt_backward_with(y, g));
    check_tensor_near(x->grad, "block.dx", 1e-5, 1e-4);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(b, &ps));
    for (size_t i = 0; i < ps.count && i < 16; i++) {
        char name[48];
        snprintf(name, sizeof name, "block.d.%s", BLOCK_NAMES[i]);
        check_tensor_near(ps.items[i]->grad, name, 1e-5, 1e-4);
    }
    tt_params_release(&ps);
    tt_tensor_free(y);
    tt_tensor_free(mask);
    tt_tensor_free(x);
    tt_tensor_free(g);
    tt_layer_free(b);
}

typedef struct block_ctx {
    tt_layer *b;
    tt_tensor *x, *mask;
} block_ctx;

static tt_status f_block(tt_tensor **out, void *ctx)
{
    block_ctx *c = ctx;
    return tt_block_forward(c->b, out, c->x, c->mask);
}

static void test_block_fd(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 101);
    block_ctx c = {NULL, randn(3, TT_SHAPE(2, 3, 4), 102), NULL};
    CHECK_OK(tt_block_new(&c.b, 4, 2, 8, &rng));
    CHECK_OK(tt_causal_mask(&c.mask, 3, 3));
    if (c.b) {
        tt_layer *ln1 = tt_block_part_of(c.b, TT_BLOCK_LN1), *ln2 = tt_block_part_of(c.b, TT_BLOCK_LN2);
        tt_layer *fc1 = tt_mlp_linear(tt_block_part_of(c.b, TT_BLOCK_MLP), 0);
        tt_layer *wv = tt_mha_projection(tt_block_part_of(c.b, TT_BLOCK_ATTN), TT_MHA_VALUE);
        /* A gamma away from 1, so that its gradient is not a special case. */
        tt_tensor *g1 = randn(1, TT_SHAPE(4), 103);
        CHECK_OK(tt_tensor_assign(tt_layernorm_gamma(ln1), g1));
        tt_tensor_free(g1);
        gc_check((gc_spec){.label = "transformer block (causal)", .fwd = f_block, .ctx = &c,
                           .n = 4,
                           .wrt = {c.x, tt_layernorm_gamma(ln1), tt_layernorm_beta(ln2),
                                   tt_linear_weight(fc1)},
                           .names = {"x", "ln1.gamma", "ln2.beta", "fc1.W"}});
        gc_check((gc_spec){.label = "transformer block (values)", .fwd = f_block, .ctx = &c,
                           .n = 1, .wrt = {tt_linear_weight(wv)}, .names = {"Wv.W"}});
    }
    tt_tensor_free(c.x);
    tt_tensor_free(c.mask);
    tt_layer_free(c.b);
}

static void test_block_structure_and_errors(void)
{
    tt_rng rng, ref;
    tt_rng_init(&rng, 13);
    tt_rng_init(&ref, 13);
    tt_layer *b = &not_a_layer;
    CHECK_OK(tt_block_new(&b, 8, 4, 32, &rng));
    if (!b || b == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(b), "TransformerBlock") == 0);
    const char *names[4] = {"LayerNorm", "MultiHeadAttention", "LayerNorm", "MLP"};
    for (int i = 0; i < 4; i++) {
        tt_layer *part = tt_block_part_of(b, (tt_block_part)i);
        CHECK(part && strcmp(tt_layer_name(part), names[i]) == 0);
    }
    CHECK(tt_block_part_of(b, (tt_block_part)4) == NULL && tt_block_part_of(NULL, TT_BLOCK_LN1) == NULL);
    CHECK(tt_mha_num_heads(tt_block_part_of(b, TT_BLOCK_ATTN)) == 4);
    /* Draws: attention, then the MLP (LayerNorms draw nothing). */
    tt_layer *mha = NULL, *mlp = NULL;
    CHECK_OK(tt_mha_new(&mha, 8, 4, &ref));
    CHECK_OK(tt_mlp_new(&mlp, 8, 32, &ref));
    CHECK(rng.state == ref.state);
    CHECK(memcmp(tt_tensor_data(tt_linear_weight(tt_mlp_linear(mlp, 1))),
                 tt_tensor_data(tt_linear_weight(tt_mlp_linear(tt_block_part_of(b, TT_BLOCK_MLP), 1))),
                 256 * sizeof(float)) == 0);
    tt_layer_free(mha);
    tt_layer_free(mlp);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(b, &ps));
    CHECK(ps.count == 16);
    CHECK(tt_params_numel(&ps) == 16 + 4 * (64 + 8) + 16 + (256 + 32 + 256 + 8));
    CHECK(ps.count == 16 && ps.items[0] == tt_layernorm_gamma(tt_block_part_of(b, TT_BLOCK_LN1)));
    tt_params_release(&ps);
    tt_layer_set_training(b, false);
    CHECK(!tt_block_part_of(b, TT_BLOCK_MLP)->training);

    /* tt_layer_forward is the unmasked block. */
    tt_tensor *x = randn(3, TT_SHAPE(1, 3, 8), 14), *y1 = NULL, *y2 = NULL;
    CHECK_OK(tt_layer_forward(b, &y1, x));
    CHECK_OK(tt_block_forward(b, &y2, x, NULL));
    CHECK(y1 && y2 && memcmp(tt_tensor_data(y1), tt_tensor_data(y2), 24 * sizeof(float)) == 0);
    tt_tensor_free(y1);
    tt_tensor_free(y2);

    tt_tensor *y = &not_a_tensor;
    CHECK_STATUS(tt_block_forward(b, NULL, x, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_block_forward(NULL, &y, x, NULL), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    y = &not_a_tensor;
    CHECK_STATUS(tt_block_forward(b, &y, NULL, NULL), TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    y = &not_a_tensor;
    CHECK_STATUS(tt_block_forward(tt_block_part_of(b, TT_BLOCK_MLP), &y, x, NULL),
                 TT_ERR_INVALID_ARG);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("MLP");
    tt_tensor *x7 = randn(3, TT_SHAPE(1, 3, 7), 15), *mask = NULL;
    y = &not_a_tensor;
    CHECK_STATUS(tt_block_forward(b, &y, x7, NULL), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_OK(tt_causal_mask(&mask, 2, 2));
    y = &not_a_tensor;
    CHECK_STATUS(tt_block_forward(b, &y, x, mask), TT_ERR_SHAPE);
    CHECK(y == NULL);
    tt_tensor_free(mask);
    tt_tensor_free(x7);

    /* Every allocation of a recorded forward failing in turn. */
    CHECK_OK(tt_causal_mask(&mask, 3, 3));
    CHECK_OK(tt_tensor_set_requires_grad(x, true));
    long n;
    for (n = 0; n < 1000; n++) {
        size_t live = tt_alloc_live();
        y = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_block_forward(b, &y, x, mask);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_tensor_free(y);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && y == NULL && tt_alloc_live() == live);
    }
    CHECK(n > 20 && n < 1000);
    tt_tensor_free(mask);
    tt_tensor_free(x);
    tt_layer_free(b);

    b = &not_a_layer;
    CHECK_STATUS(tt_block_new(&b, 8, 3, 16, &rng), TT_ERR_INVALID_ARG);
    CHECK(b == NULL);
    CHECK_ERROR_MENTIONS("n_heads=3");
    CHECK_STATUS(tt_block_new(&b, 8, 2, 0, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_block_new(&b, 8, 2, 16, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_block_new(NULL, 8, 2, 16, &rng), TT_ERR_INVALID_ARG);
    for (n = 0; n < 200; n++) {
        size_t live = tt_alloc_live();
        b = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_block_new(&b, 4, 2, 8, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_layer_free(b);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && b == NULL && tt_alloc_live() == live);
    }
}

/* ======================================================================== GPT */

static const tt_gpt_config FIXTURE_CONFIG = {11, 6, 8, 2, 2, 16};

static tt_layer *gpt_from_fixture(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *gpt = NULL;
    CHECK_OK(tt_gpt_new(&gpt, &FIXTURE_CONFIG, &rng));
    if (!gpt)
        return NULL;
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(gpt, &ps));
    CHECK(ps.count == 38);
    for (size_t i = 0; i < ps.count && i < 38; i++) {
        char name[48] = "gpt.p.";
        gpt_param_name(name + 6, sizeof name - 6, i);
        load_param(ps.items[i], name);
    }
    tt_params_release(&ps);
    return gpt;
}

static void test_gpt_structure(void)
{
    tt_rng rng, ref;
    tt_rng_init(&rng, 2024);
    tt_rng_init(&ref, 2024);
    tt_gpt_config cfg = {13, 7, 8, 2, 3, 20};
    tt_layer *gpt = &not_a_layer;
    CHECK_OK(tt_gpt_new(&gpt, &cfg, &rng));
    if (!gpt || gpt == &not_a_layer)
        return;
    CHECK(strcmp(tt_layer_name(gpt), "GPT") == 0);
    const tt_gpt_config *c = tt_gpt_config_of(gpt);
    CHECK(c && c->vocab_size == 13 && c->context_len == 7 && c->d_model == 8 && c->n_heads == 2 &&
          c->n_layers == 3 && c->d_hidden == 20);
    /* Parameters: V D + C D + L (2D + 4(D^2 + D) + 2D + D H + H + H D + D) + 2D + D V + V. */
    size_t V = 13, C = 7, D = 8, L = 3, H = 20;
    size_t want = V * D + C * D + L * (2 * D + 4 * (D * D + D) + 2 * D + D * H + H + H * D + D) +
                  2 * D + D * V + V;
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(gpt, &ps));
    CHECK(tt_params_numel(&ps) == want);
    CHECK(ps.count == 2 + 16 * 3 + 4);
    /* Order: tok, pos, blocks, lnf, head. */
    tt_layer *tok = tt_gpt_part_of(gpt, TT_GPT_TOKEN_EMBEDDING), *pos = tt_gpt_part_of(gpt, TT_GPT_POSITION_EMBEDDING);
    tt_layer *lnf = tt_gpt_part_of(gpt, TT_GPT_FINAL_NORM), *head = tt_gpt_part_of(gpt, TT_GPT_HEAD);
    CHECK(tok && pos && lnf && head);
    if (tok && pos && lnf && head && ps.count == 54) {
        CHECK(ps.items[0] == tt_embedding_weight(tok));
        CHECK(ps.items[1] == tt_pos_embedding_weight(pos));
        CHECK(ps.items[2] == tt_layernorm_gamma(tt_block_part_of(tt_gpt_block(gpt, 0), TT_BLOCK_LN1)));
        CHECK(ps.items[2 + 16 * 2] ==
              tt_layernorm_gamma(tt_block_part_of(tt_gpt_block(gpt, 2), TT_BLOCK_LN1)));
        CHECK(ps.items[50] == tt_layernorm_gamma(lnf) && ps.items[51] == tt_layernorm_beta(lnf));
        CHECK(ps.items[52] == tt_linear_weight(head) && ps.items[53] == tt_linear_bias(head));
    }
    tt_params_release(&ps);
    CHECK(tt_gpt_block(gpt, 3) == NULL && tt_gpt_block(tok, 0) == NULL);
    CHECK(tt_gpt_part_of(gpt, (tt_gpt_part)4) == NULL && tt_gpt_part_of(NULL, TT_GPT_HEAD) == NULL);
    CHECK(tt_gpt_config_of(tok) == NULL && tt_gpt_config_of(NULL) == NULL);

    /* Draws: token table, position table, the blocks, the head. */
    tt_layer *e = NULL, *p = NULL, *blk[3] = {NULL, NULL, NULL}, *h = NULL;
    CHECK_OK(tt_embedding_new(&e, V, D, &ref));
    CHECK_OK(tt_pos_embedding_new(&p, C, D, &ref));
    for (int i = 0; i < 3; i++)
        CHECK_OK(tt_block_new(&blk[i], D, 2, H, &ref));
    CHECK_OK(tt_linear_new(&h, D, V, true, &ref));
    CHECK(rng.state == ref.state);
    CHECK(e && memcmp(tt_tensor_data(tt_embedding_weight(e)), tt_tensor_data(tt_embedding_weight(tok)),
                      V * D * sizeof(float)) == 0);
    CHECK(p && memcmp(tt_tensor_data(tt_pos_embedding_weight(p)),
                      tt_tensor_data(tt_pos_embedding_weight(pos)), C * D * sizeof(float)) == 0);
    CHECK(h && memcmp(tt_tensor_data(tt_linear_weight(h)), tt_tensor_data(tt_linear_weight(head)),
                      D * V * sizeof(float)) == 0);
    tt_layer_free(e);
    tt_layer_free(p);
    for (int i = 0; i < 3; i++)
        tt_layer_free(blk[i]);
    tt_layer_free(h);
    tt_layer_set_training(gpt, false);
    CHECK(!head->training && !tt_gpt_block(gpt, 1)->training);
    tt_layer_free(gpt);

    /* Refusals and allocation failures. */
    tt_gpt_config bad[] = {{0, 7, 8, 2, 3, 20}, {13, 0, 8, 2, 3, 20}, {13, 7, 0, 2, 3, 20},
                           {13, 7, 8, 3, 3, 20}, {13, 7, 8, 2, 0, 20}, {13, 7, 8, 2, 3, 0}};
    for (size_t i = 0; i < 6; i++) {
        gpt = &not_a_layer;
        CHECK_STATUS(tt_gpt_new(&gpt, &bad[i], &rng), TT_ERR_INVALID_ARG);
        CHECK(gpt == NULL);
        CHECK_ERROR_MENTIONS("tt_gpt_new");
    }
    CHECK_STATUS(tt_gpt_new(&gpt, NULL, &rng), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("config");
    CHECK_STATUS(tt_gpt_new(&gpt, &cfg, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("rng");
    CHECK_STATUS(tt_gpt_new(NULL, &cfg, &rng), TT_ERR_INVALID_ARG);
    tt_gpt_config small = {5, 3, 4, 2, 2, 8};
    long n;
    for (n = 0; n < 500; n++) {
        size_t live = tt_alloc_live();
        gpt = &not_a_layer;
        tt_alloc_fail_after(n);
        tt_status st = tt_gpt_new(&gpt, &small, &rng);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_layer_free(gpt);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && gpt == NULL && tt_alloc_live() == live);
    }
    CHECK(n > 30 && n < 500);
}

static void test_gpt_matches_numpy(void)
{
    tt_layer *gpt = gpt_from_fixture();
    tt_tensor *ids = fx("gpt.ids"), *targets = fx("gpt.targets"), *loss = &not_a_tensor;
    tt_tensor *logits = &not_a_tensor;
    if (!gpt || !ids || !targets)
        goto done;
    CHECK_OK(tt_gpt_loss(gpt, &loss, &logits, ids, targets));
    check_tensor_near(logits, "gpt.logits", 2e-5, 1e-4);
    check_tensor_near(loss, "gpt.loss", 1e-6, 2e-6);
    CHECK(loss && loss->ndim == 0 && loss->requires_grad);
    CHECK_OK(tt_backward(loss));
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(gpt, &ps));
    for (size_t i = 0; i < ps.count && i < 38; i++) {
        char name[48] = "gpt.d.";
        gpt_param_name(name + 6, sizeof name - 6, i);
        check_tensor_near(ps.items[i]->grad, name, 1e-6, 2e-4);
    }
    /* Rows of the token table that no id reads get exactly zero gradient; the position
     * rows past T = 5 too. */
    tt_tensor *tok_grad = ps.count ? ps.items[0]->grad : NULL;
    for (size_t v = 0; tok_grad && v < 11; v++) {
        bool used = false;
        for (size_t i = 0; i < 15; i++)
            used = used || tt_tensor_data(ids)[i] == (float)v;
        if (!used)
            for (size_t j = 0; j < 8; j++)
                CHECK(tt_tensor_data(tok_grad)[v * 8 + j] == 0.0f);
    }
    for (size_t j = 0; ps.count > 1 && ps.items[1]->grad && j < 8; j++)
        CHECK(tt_tensor_data(ps.items[1]->grad)[5 * 8 + j] == 0.0f);
    tt_params_release(&ps);

    /* The loss alone, without logits, is the same value; tt_lm_loss on the logits too. */
    tt_tensor *l2 = NULL, *l3 = NULL;
    CHECK_OK(tt_gpt_loss(gpt, &l2, NULL, ids, targets));
    CHECK_OK(tt_lm_loss(&l3, logits, targets));
    CHECK(l2 && l3 && tt_tensor_data(l2)[0] == tt_tensor_data(loss)[0] &&
          tt_tensor_data(l3)[0] == tt_tensor_data(loss)[0]);
    tt_tensor_free(l2);
    tt_tensor_free(l3);
done:
    tt_tensor_free(loss);
    tt_tensor_free(logits);
    tt_tensor_free(ids);
    tt_tensor_free(targets);
    tt_layer_free(gpt);
}

static void test_gpt_loss_trace(void)
{
    /* Five plain SGD steps (module 06) against NumPy's five p -= lr * grad in float64. */
    tt_layer *gpt = gpt_from_fixture();
    tt_tensor *ids = fx("gpt.ids"), *targets = fx("gpt.targets");
    const fixture *trace = fixture_find(FX, "gpt.trace");
    tt_params ps;
    tt_params_init(&ps);
    tt_optimizer *opt = NULL;
    if (!gpt || !trace)
        goto done;
    CHECK_OK(tt_layer_parameters(gpt, &ps));
    tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
    o.lr = 0.5f;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_SGD, &ps, &o));
    for (size_t step = 0; opt && step <= 5; step++) {
        tt_tensor *loss = NULL;
        CHECK_OK(tt_gpt_loss(gpt, &loss, NULL, ids, targets));
        if (!loss)
            break;
        CHECK_NEAR(tt_tensor_data(loss)[0], trace->data[step], 1e-5, 1e-5);
        if (step < 5) {
            tt_optimizer_zero_grad(opt);
            CHECK_OK(tt_backward(loss));
            CHECK_OK(tt_optimizer_step(opt));
        }
        tt_tensor_free(loss);
    }
done:
    tt_optimizer_free(opt);
    tt_params_release(&ps);
    tt_tensor_free(ids);
    tt_tensor_free(targets);
    tt_layer_free(gpt);
}

static void test_gpt_causal_bitwise(void)
{
    /* Changing the token at position t changes no logit before t, bit for bit (in that
     * sequence or any other), and does change the logits at t. */
    tt_layer *gpt = gpt_from_fixture();
    tt_tensor *ids = fx("gpt.ids"), *z0 = NULL;
    if (!gpt || !ids)
        goto done;
    CHECK_OK(tt_layer_forward(gpt, &z0, ids));
    const size_t B = 3, T = 5, V = 11;
    for (size_t t = 0; z0 && t < T; t++) {
        for (float delta = 1.0f; delta < 11.0f; delta += 4.0f) {
            tt_tensor *ids2 = NULL, *z1 = NULL;
            CHECK_OK(tt_tensor_copy(&ids2, ids));
            float *iv = tt_tensor_data(ids2);
            iv[1 * T + t] = fmodf(iv[1 * T + t] + delta, (float)V); /* sequence 1 only */
            CHECK_OK(tt_layer_forward(gpt, &z1, ids2));
            for (size_t b = 0; z1 && b < B; b++) {
                const float *r0 = tt_tensor_data(z0) + b * T * V, *r1 = tt_tensor_data(z1) + b * T * V;
                size_t same = b == 1 ? t : T; /* positions that must not move */
                CHECK(memcmp(r0, r1, same * V * sizeof(float)) == 0);
                if (b == 1)
                    CHECK(memcmp(r0 + t * V, r1 + t * V, V * sizeof(float)) != 0);
            }
            tt_tensor_free(z1);
            tt_tensor_free(ids2);
        }
    }
    /* A prefix gives the same logits as the full sequence at its positions. */
    tt_tensor *prefix = NULL, *zp = NULL;
    CHECK_OK(tt_tensor_slice(&prefix, ids, 1, 0, 3));
    CHECK_OK(tt_layer_forward(gpt, &zp, prefix));
    for (size_t b = 0; zp && z0 && b < B; b++)
        CHECK(memcmp(tt_tensor_data(zp) + b * 3 * V, tt_tensor_data(z0) + b * T * V,
                     3 * V * sizeof(float)) == 0);
    tt_tensor_free(prefix);
    tt_tensor_free(zp);
done:
    tt_tensor_free(z0);
    tt_tensor_free(ids);
    tt_layer_free(gpt);
}

static void test_gpt_forward_shapes_and_errors(void)
{
    tt_layer *gpt = gpt_from_fixture();
    tt_tensor *ids = fx("gpt.ids"), *z = NULL, *row = NULL, *zr = NULL;
    if (!gpt || !ids)
        goto done;
    /* [T] ids give [T, V]: the same values as that row of a batch. */
    CHECK_OK(tt_layer_forward(gpt, &z, ids));
    CHECK(z && z->ndim == 3 && z->shape[0] == 3 && z->shape[1] == 5 && z->shape[2] == 11);
    tt_tensor *r2 = NULL;
    CHECK_OK(tt_tensor_slice(&r2, ids, 0, 2, 3));
    CHECK_OK(tt_tensor_reshape(&row, r2, 1, (const ptrdiff_t[]){5}));
    tt_tensor_free(r2);
    CHECK_OK(tt_layer_forward(gpt, &zr, row));
    CHECK(zr && zr->ndim == 2 && zr->shape[0] == 5 && zr->shape[1] == 11);
    CHECK(z && zr && memcmp(tt_tensor_data(zr), tt_tensor_data(z) + 2 * 55, 55 * sizeof(float)) == 0);

    /* T past the context, ids of 3 dimensions, an id outside the vocabulary. */
    tt_tensor *long_ids = NULL, *ids3 = NULL, *y = &not_a_tensor;
    CHECK_OK(tt_tensor_zeros(&long_ids, 2, TT_SHAPE(1, 7)));
    CHECK_STATUS(tt_layer_forward(gpt, &y, long_ids), TT_ERR_SHAPE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("T=7");
    CHECK_ERROR_MENTIONS("context_len 6");
    CHECK_OK(tt_tensor_zeros(&ids3, 3, TT_SHAPE(1, 2, 3)));
    CHECK_STATUS(tt_layer_forward(gpt, &y, ids3), TT_ERR_SHAPE);
    tt_tensor *bad = NULL;
    CHECK_OK(tt_tensor_copy(&bad, ids));
    tt_tensor_data(bad)[7] = 11.0f;
    y = &not_a_tensor;
    CHECK_STATUS(tt_layer_forward(gpt, &y, bad), TT_ERR_RANGE);
    CHECK(y == NULL);
    CHECK_ERROR_MENTIONS("id 11 at position [1,2]");

    /* Losses: shapes that do not pair up, a target outside the vocabulary. */
    tt_tensor *loss = &not_a_tensor, *lg = &not_a_tensor, *t4 = NULL;
    CHECK_OK(tt_tensor_zeros(&t4, 2, TT_SHAPE(3, 4)));
    CHECK_STATUS(tt_gpt_loss(gpt, &loss, &lg, ids, t4), TT_ERR_SHAPE);
    CHECK(loss == NULL && lg == NULL);
    CHECK_ERROR_MENTIONS("[3,4]");
    CHECK_STATUS(tt_gpt_loss(gpt, NULL, NULL, ids, ids), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_gpt_loss(NULL, &loss, NULL, ids, ids), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_gpt_loss(gpt, &loss, NULL, NULL, ids), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_gpt_loss(gpt, &loss, NULL, ids, NULL), TT_ERR_INVALID_ARG);
    lg = &not_a_tensor;
    CHECK_STATUS(tt_gpt_loss(gpt, &loss, &lg, ids, bad), TT_ERR_RANGE);
    CHECK(loss == NULL && lg == NULL);
    CHECK_STATUS(tt_lm_loss(&loss, z, t4), TT_ERR_SHAPE);
    CHECK_STATUS(tt_lm_loss(&loss, z, ids3), TT_ERR_SHAPE);
    CHECK_STATUS(tt_lm_loss(&loss, zr, ids), TT_ERR_SHAPE);
    CHECK_STATUS(tt_lm_loss(&loss, NULL, ids), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_lm_loss(NULL, z, ids), TT_ERR_INVALID_ARG);
    /* [T, V] logits with [T] targets are fine. */
    CHECK_OK(tt_lm_loss(&loss, zr, row));
    tt_tensor_free(loss);
    tt_tensor *all[] = {long_ids, ids3, bad, t4};
    free_all(all, 4);
done:
    tt_tensor_free(z);
    tt_tensor_free(zr);
    tt_tensor_free(row);
    tt_tensor_free(ids);
    tt_layer_free(gpt);
}

static void test_gpt_allocation_failures(void)
{
    /* A training step of a tiny model with each allocation failing in turn: first in the
     * recorded forward and loss, then in the backward. Nothing may leak either way. */
    tt_rng rng;
    tt_rng_init(&rng, 3);
    tt_gpt_config cfg = {5, 4, 4, 2, 1, 8};
    tt_layer *gpt = NULL;
    CHECK_OK(tt_gpt_new(&gpt, &cfg, &rng));
    tt_tensor *ids = from(2, TT_SHAPE(2, 3), (const float[]){0, 1, 2, 3, 4, 0});
    tt_tensor *tg = from(2, TT_SHAPE(2, 3), (const float[]){1, 2, 3, 4, 0, 1});
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(gpt, &ps));
    long n;
    for (n = 0; n < 3000; n++) {
        size_t live = tt_alloc_live();
        tt_tensor *loss = &not_a_tensor, *lg = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_gpt_loss(gpt, &loss, &lg, ids, tg);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_tensor_free(loss);
            tt_tensor_free(lg);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && loss == NULL && lg == NULL && tt_alloc_live() == live);
    }
    CHECK(n > 50 && n < 3000);
    for (n = 0; n < 3000; n++) {
        tt_tensor *loss = NULL;
        CHECK_OK(tt_gpt_loss(gpt, &loss, NULL, ids, tg));
        tt_alloc_fail_after(n);
        tt_status st = tt_backward(loss);
        tt_alloc_fail_after(-1);
        tt_tensor_free(loss);
        for (size_t i = 0; i < ps.count; i++)
            tt_tensor_zero_grad(ps.items[i]);
        if (st == TT_OK)
            break;
        CHECK(st == TT_ERR_NOMEM);
    }
    CHECK(n > 50 && n < 3000);
    tt_params_release(&ps);
    tt_tensor_free(ids);
    tt_tensor_free(tg);
    tt_layer_free(gpt);
}

typedef struct gpt_ctx {
    tt_layer *gpt;
    tt_tensor *ids, *targets;
} gpt_ctx;

static tt_status f_gpt_loss(tt_tensor **out, void *ctx)
{
    gpt_ctx *c = ctx;
    return tt_gpt_loss(c->gpt, out, NULL, c->ids, c->targets);
}

static void test_gpt_fd(void)
{
    /* The whole model's loss by finite differences, on a sample of every kind of
     * parameter (the fixture checks every element against NumPy). */
    gpt_ctx c = {gpt_from_fixture(), fx("gpt.ids"), fx("gpt.targets")};
    if (c.gpt) {
        tt_params ps;
        tt_params_init(&ps);
        CHECK_OK(tt_layer_parameters(c.gpt, &ps));
        if (ps.count == 38) {
            gc_check((gc_spec){.label = "GPT loss (embeddings, first block)", .fwd = f_gpt_loss,
                               .ctx = &c, .n = 4,
                               .wrt = {ps.items[0], ps.items[1], ps.items[2], ps.items[4]},
                               .names = {"tok", "pos", "b0.ln1.gamma", "b0.Wq.W"},
                               .max_elems = 24});
            gc_check((gc_spec){.label = "GPT loss (second block, head)", .fwd = f_gpt_loss,
                               .ctx = &c, .n = 4,
                               .wrt = {ps.items[18 + 6], ps.items[18 + 12], ps.items[35],
                                       ps.items[36]},
                               .names = {"b1.Wv.W", "b1.fc1.W", "lnf.beta", "head.W"},
                               .max_elems = 24});
        }
        tt_params_release(&ps);
    }
    tt_tensor_free(c.ids);
    tt_tensor_free(c.targets);
    tt_layer_free(c.gpt);
}

/* ================================================================ generation */

static void test_sample_token(void)
{
    const fixture *lg = fixture_find(FX, "sample.logits");
    const char *names[2] = {"sample.t1", "sample.t05"};
    const float temps[2] = {1.0f, 0.5f};
    const uint64_t seeds[2] = {7, 8};
    for (int k = 0; lg && k < 2; k++) {
        const fixture *want = fixture_find(FX, names[k]);
        tt_rng rng, count;
        tt_rng_init(&rng, seeds[k]);
        tt_rng_init(&count, seeds[k]);
        for (size_t i = 0; want && i < 40; i++) {
            size_t tok = 99;
            CHECK_OK(tt_sample_token(&tok, lg->data, 7, temps[k], &rng));
            CHECK(tok == (size_t)want->data[i]);
            /* Exactly one draw per token. */
            tt_rng_next_u32(&count);
            CHECK(rng.state == count.state);
        }
    }
    /* Temperature 0: the first maximum, no draw, rng may be NULL. */
    const float tie[5] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
    size_t tok = 99;
    CHECK_OK(tt_sample_token(&tok, tie, 5, 0.0f, NULL));
    CHECK(tok == 1);
    tt_rng rng;
    tt_rng_init(&rng, 5);
    uint64_t before = rng.state;
    CHECK_OK(tt_sample_token(&tok, tie, 5, 0.0f, &rng));
    CHECK(tok == 1 && rng.state == before);
    /* Frequencies follow softmax(z / T): 20000 draws within 4 standard deviations. */
    const float z[4] = {1.0f, 0.0f, -1.0f, 0.5f};
    double p[4], sum = 0;
    for (int j = 0; j < 4; j++)
        sum += p[j] = exp(z[j] / 0.7);
    size_t hits[4] = {0, 0, 0, 0};
    const size_t N = 20000;
    for (size_t i = 0; i < N; i++) {
        CHECK_OK(tt_sample_token(&tok, z, 4, 0.7f, &rng));
        if (tok < 4)
            hits[tok]++;
    }
    for (int j = 0; j < 4; j++) {
        double pj = p[j] / sum, sd = sqrt(pj * (1 - pj) / (double)N);
        CHECK_NEAR((double)hits[j] / (double)N, pj, 4 * sd, 0.0);
    }
    /* A -inf logit is never drawn; a huge one always. */
    const float sure[3] = {-INFINITY, 1e30f, 0.0f};
    for (int i = 0; i < 100; i++) {
        CHECK_OK(tt_sample_token(&tok, sure, 3, 1.0f, &rng));
        CHECK(tok == 1);
    }
    /* Errors: nothing drawn. */
    before = rng.state;
    const float bad_t[] = {-0.5f, NAN, INFINITY};
    for (size_t i = 0; i < 3; i++) {
        CHECK_STATUS(tt_sample_token(&tok, z, 4, bad_t[i], &rng), TT_ERR_INVALID_ARG);
        CHECK_ERROR_MENTIONS("temperature");
    }
    CHECK_STATUS(tt_sample_token(&tok, z, 4, 1.0f, NULL), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("rng");
    CHECK_STATUS(tt_sample_token(&tok, z, 0, 1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_sample_token(NULL, z, 4, 1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_sample_token(&tok, NULL, 4, 1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK(rng.state == before);
}

static void test_gpt_generate_matches_numpy(void)
{
    tt_layer *gpt = gpt_from_fixture();
    if (!gpt)
        return;
    tt_tensor *p1 = from(1, TT_SHAPE(2), (const float[]){3, 7});
    tt_tensor *p2 = from(2, TT_SHAPE(2, 3), (const float[]){1, 2, 3, 9, 0, 4});
    struct {
        const char *name;
        tt_tensor *prompt;
        size_t n_new;
        float temp;
        uint64_t seed;
    } cases[] = {{"gen.greedy1", p1, 7, 0.0f, 0}, {"gen.sample1", p1, 7, 0.8f, 1234},
                 {"gen.greedy2", p2, 4, 0.0f, 0}, {"gen.sample2", p2, 4, 0.8f, 99}};
    for (size_t i = 0; i < 4; i++) {
        tt_rng rng;
        tt_rng_init(&rng, cases[i].seed);
        tt_tensor *out = &not_a_tensor;
        CHECK_OK(tt_gpt_generate(gpt, &out, cases[i].prompt, cases[i].n_new, cases[i].temp,
                                 cases[i].temp > 0 ? &rng : NULL));
        check_tensor_near(out, cases[i].name, 0.0, 0.0);
        CHECK(out && !out->requires_grad && out->grad_fn == NULL);
        /* The same seed gives the same tokens. */
        tt_rng_init(&rng, cases[i].seed);
        tt_tensor *again = NULL;
        CHECK_OK(tt_gpt_generate(gpt, &again, cases[i].prompt, cases[i].n_new, cases[i].temp, &rng));
        CHECK(out && again && memcmp(tt_tensor_data(out), tt_tensor_data(again),
                                     tt_tensor_numel(out) * sizeof(float)) == 0);
        tt_tensor_free(out);
        tt_tensor_free(again);
    }
    /* Another seed gives other tokens (13 sampled tokens alike by chance: ~impossible). */
    tt_rng a, b;
    tt_rng_init(&a, 1);
    tt_rng_init(&b, 2);
    tt_tensor *ga = NULL, *gb = NULL;
    CHECK_OK(tt_gpt_generate(gpt, &ga, p1, 13, 1.5f, &a));
    CHECK_OK(tt_gpt_generate(gpt, &gb, p1, 13, 1.5f, &b));
    CHECK(ga && gb && ga->shape[0] == 15 &&
          memcmp(tt_tensor_data(ga), tt_tensor_data(gb), 15 * sizeof(float)) != 0);
    /* Every generated id is in the vocabulary. */
    for (size_t i = 0; ga && i < 15; i++)
        CHECK(tt_tensor_data(ga)[i] >= 0.0f && tt_tensor_data(ga)[i] < 11.0f);
    tt_tensor_free(ga);
    tt_tensor_free(gb);
    tt_tensor_free(p1);
    tt_tensor_free(p2);
    tt_layer_free(gpt);
}

static void test_gpt_generate_contract(void)
{
    tt_layer *gpt = gpt_from_fixture();
    if (!gpt)
        return;
    tt_tensor *p1 = from(1, TT_SHAPE(2), (const float[]){3, 7}), *out = &not_a_tensor;
    /* n_new 0 is a copy of the prompt. */
    CHECK_OK(tt_gpt_generate(gpt, &out, p1, 0, 0.0f, NULL));
    CHECK(out && out != p1 && out->ndim == 1 && out->shape[0] == 2 &&
          tt_tensor_data(out)[0] == 3.0f && tt_tensor_data(out)[1] == 7.0f);
    tt_tensor_free(out);
    /* Grad mode is restored, whichever it was; nothing is recorded. */
    CHECK(tt_grad_is_enabled());
    CHECK_OK(tt_gpt_generate(gpt, &out, p1, 2, 0.0f, NULL));
    CHECK(tt_grad_is_enabled());
    tt_tensor_free(out);
    bool was = tt_grad_set_enabled(false);
    CHECK_OK(tt_gpt_generate(gpt, &out, p1, 2, 0.0f, NULL));
    CHECK(!tt_grad_is_enabled());
    tt_grad_set_enabled(was);
    tt_tensor_free(out);
    /* A bad id in the prompt fails (grad mode restored, nothing left). */
    tt_tensor *badp = from(1, TT_SHAPE(2), (const float[]){3, 70});
    out = &not_a_tensor;
    CHECK_STATUS(tt_gpt_generate(gpt, &out, badp, 2, 0.0f, NULL), TT_ERR_RANGE);
    CHECK(out == NULL && tt_grad_is_enabled());
    tt_tensor_free(badp);
    /* Refusals before any work: nothing drawn. */
    tt_rng rng;
    tt_rng_init(&rng, 4);
    uint64_t before = rng.state;
    out = &not_a_tensor;
    CHECK_STATUS(tt_gpt_generate(gpt, &out, p1, 2, -1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK(out == NULL);
    CHECK_STATUS(tt_gpt_generate(gpt, &out, p1, 2, 1.0f, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_gpt_generate(gpt, &out, NULL, 2, 1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_gpt_generate(NULL, &out, p1, 2, 1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_gpt_generate(gpt, NULL, p1, 2, 1.0f, &rng), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_gpt_generate(tt_gpt_part_of(gpt, TT_GPT_HEAD), &out, p1, 2, 1.0f, &rng),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("Linear");
    tt_tensor *p3 = NULL;
    CHECK_OK(tt_tensor_zeros(&p3, 3, TT_SHAPE(1, 1, 2)));
    CHECK_STATUS(tt_gpt_generate(gpt, &out, p3, 2, 1.0f, &rng), TT_ERR_SHAPE);
    CHECK(out == NULL && rng.state == before);
    tt_tensor_free(p3);
    /* Allocation failures: grad mode restored, nothing left. */
    long n;
    for (n = 0; n < 5000; n++) {
        size_t live = tt_alloc_live();
        out = &not_a_tensor;
        tt_alloc_fail_after(n);
        tt_status st = tt_gpt_generate(gpt, &out, p1, 2, 0.0f, NULL);
        tt_alloc_fail_after(-1);
        CHECK(tt_grad_is_enabled());
        if (st == TT_OK) {
            tt_tensor_free(out);
            break;
        }
        CHECK(st == TT_ERR_NOMEM && out == NULL && tt_alloc_live() == live);
    }
    CHECK(n > 20 && n < 5000);
    tt_tensor_free(p1);
    tt_layer_free(gpt);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("transformers");
    if (!FX) {
        fprintf(stderr, "cannot load the transformers fixtures\n");
        return 1;
    }
    RUN(test_layer_norm_values);
    RUN(test_layer_norm_statistics_carry_gradient);
    RUN(test_layer_norm_fd);
    RUN(test_layer_norm_errors);
    RUN(test_layernorm_layer);
    RUN(test_mlp);
    RUN(test_block_values_and_gradients);
    RUN(test_block_fd);
    RUN(test_block_structure_and_errors);
    RUN(test_gpt_structure);
    RUN(test_gpt_matches_numpy);
    RUN(test_gpt_loss_trace);
    RUN(test_gpt_causal_bitwise);
    RUN(test_gpt_forward_shapes_and_errors);
    RUN(test_gpt_allocation_failures);
    RUN(test_gpt_fd);
    RUN(test_sample_token);
    RUN(test_gpt_generate_matches_numpy);
    RUN(test_gpt_generate_contract);
    fixtures_free(FX);
    return harness_summary();
}
