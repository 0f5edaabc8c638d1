/*
 * Module 13: transformers (contract in tinytorch/transformers.h).
 *
 * One new op, LayerNorm, with its backward here. It is an op of its own because
 * module 01 has no square root to compose it from, and because its backward is the
 * lesson: the mean and the variance are functions of every element of the row, so
 * moving one element moves the statistics, which moves every output of the row. A
 * backward that treats them as constants gets gamma * g / sigma, which is wrong by two
 * terms (see the header and the guide); the tests catch that.
 *
 * The backward recomputes the row statistics from x in double instead of keeping them
 * from the forward: that costs one more pass over x, saves two floats per row for the
 * life of the graph, and gives the backward exactly the forward's statistics.
 *
 * Everything else is composition: the MLP of Linear and GELU, the block of LayerNorm,
 * multi-head attention (module 12) and recorded adds for the residuals, the GPT of
 * embeddings (module 11), blocks, a LayerNorm and a Linear head. All masks follow THE
 * MASK CONVENTION of tinytorch/attention.h; the GPT makes its causal mask per forward.
 */
#include "tinytorch/transformers.h"

#include <math.h>
#include <stdio.h>

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"

/* "[2,3,4]" for error messages ("[]" for a scalar), returned by value so that it can
 * be used inline: shape_str(t).s. */
typedef struct shape_text {
    char s[96]; /* 4 numbers of up to 20 digits, 3 commas and the brackets fit */
} shape_text;

static shape_text shape_str(const tt_tensor *t)
{
    shape_text text = {"["};
    size_t used = 1;
    for (int d = 0; d < t->ndim && d < TT_MAX_DIMS; d++) {
        int n = snprintf(text.s + used, sizeof text.s - used, d ? ",%zu" : "%zu", t->shape[d]);
        if (n < 0 || (size_t)n >= sizeof text.s - used)
            return text;
        used += (size_t)n;
    }
    snprintf(text.s + used, sizeof text.s - used, "]");
    return text;
}

/* The out-parameter check every constructor starts with. */
static tt_status check_out(const char *fn, tt_layer **out)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_layer * to receive the layer)", fn);
    *out = NULL;
    return TT_OK;
}

/* ================================================================== LayerNorm */

static tt_status layer_norm_backward(tt_node *node, tt_tensor *g);

/* The module's op: inputs {x, gamma, beta}, args.f[0] = eps. */
static const tt_op layer_norm_op = {"layer_norm", layer_norm_backward};

/* BEGIN SOLUTION: */
/* Mean and 1/sqrt(var + eps) of one row of n values, in double. Two passes: the
 * one-pass formula E[x^2] - E[x]^2 cancels catastrophically when the mean is large
 * next to the spread. */
static void row_stats(const float *x, size_t n, double eps, double *mean, double *rstd)
{
    double sum = 0.0;
    for (size_t j = 0; j < n; j++)
        sum += x[j];
    double mu = sum / (double)n, var = 0.0;
    for (size_t j = 0; j < n; j++) {
        double d = (double)x[j] - mu;
        var += d * d;
    }
    *mean = mu;
    *rstd = 1.0 / sqrt(var / (double)n + eps);
}

static bool is_vector_of(const tt_tensor *t, size_t n)
{
    return t->ndim == 1 && t->shape[0] == n;
}
/* END SOLUTION */

tt_status tt_layer_norm(tt_tensor **out, tt_tensor *x, tt_tensor *gamma, tt_tensor *beta,
                        float eps)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *xc = NULL, *gc = NULL, *bc = NULL;
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layer_norm: out is NULL (expected the "
                            "address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!x || !gamma || !beta)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layer_norm: %s tensor is NULL",
                            !x ? "input" : (!gamma ? "gamma" : "beta"));
    /* Written so that nan fails too. */
    if (!(eps > 0.0f) || isinf(eps))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layer_norm: eps = %g (expected a finite "
                            "eps > 0, e.g. TT_LAYERNORM_EPS)", (double)eps);
    if (x->ndim < 1)
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_norm: input is a scalar (expected "
                            "[..., D]: rows to normalise along the last axis)");
    size_t dim = x->shape[x->ndim - 1];
    if (!is_vector_of(gamma, dim) || !is_vector_of(beta, dim))
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_norm: input %s with gamma %s and beta %s "
                            "(expected gamma and beta of shape [%zu])", shape_str(x).s,
                            shape_str(gamma).s, shape_str(beta).s, dim);
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gc, gamma));
    TT_CHECK(tt_tensor_contiguous(&bc, beta));
    TT_CHECK(tt_tensor_zeros(&y, x->ndim, x->shape));
    {
        const float *xv = tt_tensor_data(xc), *gv = tt_tensor_data(gc), *bv = tt_tensor_data(bc);
        float *yv = tt_tensor_data(y);
        size_t rows = tt_tensor_numel(x) / dim;
        for (size_t r = 0; r < rows; r++) {
            double mean, rstd;
            row_stats(xv + r * dim, dim, (double)eps, &mean, &rstd);
            for (size_t j = 0; j < dim; j++) {
                double xhat = ((double)xv[r * dim + j] - mean) * rstd;
                yv[r * dim + j] = (float)(xhat * (double)gv[j] + (double)bv[j]);
            }
        }
    }
cleanup:
    tt_tensor_free(xc);
    tt_tensor_free(gc);
    tt_tensor_free(bc);
    if (st != TT_OK)
        return st; /* y is still NULL: its allocation is the last step that can fail */
    /* END SOLUTION */
    tt_node_args args = {.f = {eps}};
    tt_tensor *inputs[3] = {x, gamma, beta};
    st = tt_autograd_record(y, &layer_norm_op, 3, inputs, &args, NULL);
    if (st != TT_OK) {
        tt_tensor_free(y);
        return st;
    }
    *out = y;
    return TT_OK;
}

/* Per row, with xhat = (x - mean) * rstd and gy = g * gamma:
 *     dx     = rstd * (gy - mean(gy) - xhat * mean(gy * xhat))
 *     dgamma = sum over rows of g * xhat,   dbeta = sum over rows of g.
 * The two subtracted terms are the statistics' share: -mean(gy) comes through the
 * mean, -xhat * mean(gy * xhat) through the variance. */
static tt_status layer_norm_backward(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *gamma = node->inputs[1], *beta = node->inputs[2];
    bool want_x = x->requires_grad, want_g = gamma->requires_grad, want_b = beta->requires_grad;
    if (!want_x && !want_g && !want_b)
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *xc = NULL, *gac = NULL, *gc = NULL, *dx = NULL, *dgamma = NULL, *dbeta = NULL;
    double *acc = NULL;
    size_t dim = x->shape[x->ndim - 1], rows = tt_tensor_numel(x) / dim;
    double eps = (double)node->args.f[0];
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gac, gamma));
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dx, x->ndim, x->shape));
    TT_CHECK(tt_tensor_zeros(&dgamma, 1, gamma->shape));
    TT_CHECK(tt_tensor_zeros(&dbeta, 1, beta->shape));
    /* dgamma and dbeta sum over every row: accumulate in double. */
    acc = tt_calloc(2 * dim, sizeof *acc);
    if (!acc) {
        st = TT_ERR_NOMEM;
        goto cleanup;
    }
    {
        const float *xv = tt_tensor_data(xc), *gav = tt_tensor_data(gac), *gv = tt_tensor_data(gc);
        float *dxv = tt_tensor_data(dx);
        for (size_t r = 0; r < rows; r++) {
            const float *xr = xv + r * dim, *gr = gv + r * dim;
            double mean, rstd;
            row_stats(xr, dim, eps, &mean, &rstd);
            double sum_gy = 0.0, sum_gy_xhat = 0.0;
            for (size_t j = 0; j < dim; j++) {
                double xhat = ((double)xr[j] - mean) * rstd, gy = (double)gr[j] * gav[j];
                sum_gy += gy;
                sum_gy_xhat += gy * xhat;
                acc[j] += (double)gr[j] * xhat;
                acc[dim + j] += gr[j];
            }
            double mean_gy = sum_gy / (double)dim, mean_gy_xhat = sum_gy_xhat / (double)dim;
            for (size_t j = 0; j < dim; j++) {
                double xhat = ((double)xr[j] - mean) * rstd, gy = (double)gr[j] * gav[j];
                dxv[r * dim + j] = (float)(rstd * (gy - mean_gy - xhat * mean_gy_xhat));
            }
        }
        float *dgv = tt_tensor_data(dgamma), *dbv = tt_tensor_data(dbeta);
        for (size_t j = 0; j < dim; j++) {
            dgv[j] = (float)acc[j];
            dbv[j] = (float)acc[dim + j];
        }
    }
    if (want_x)
        TT_CHECK(tt_accumulate_grad(x, dx));
    if (want_g)
        TT_CHECK(tt_accumulate_grad(gamma, dgamma));
    if (want_b)
        TT_CHECK(tt_accumulate_grad(beta, dbeta));
cleanup:
    tt_free(acc);
    tt_tensor_free(xc);
    tt_tensor_free(gac);
    tt_tensor_free(gc);
    tt_tensor_free(dx);
    tt_tensor_free(dgamma);
    tt_tensor_free(dbeta);
    return st;
    /* END SOLUTION */
}

/* ------------------------------------------------------------ LayerNorm layer */

typedef struct layernorm_layer {
    tt_layer base;
    size_t dim;
    float eps;
    tt_tensor *gamma; /* [dim], ones, requires grad */
    tt_tensor *beta;  /* [dim], zeros, requires grad */
} layernorm_layer;

static tt_status layernorm_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status layernorm_parameters(tt_layer *layer, tt_params *params);
static void layernorm_destroy(tt_layer *layer);

static const tt_layer_vtable layernorm_vtable = {
    "LayerNorm", layernorm_forward, layernorm_parameters, NULL, layernorm_destroy,
};

tt_status tt_layernorm_new(tt_layer **out, size_t dim, float eps)
{
    /* BEGIN SOLUTION */
    tt_status st = check_out(__func__, out);
    if (st != TT_OK)
        return st;
    if (dim == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layernorm_new: dim=0 (expected >= 1)");
    if (!(eps > 0.0f) || isinf(eps))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_layernorm_new: eps = %g (expected a finite "
                            "eps > 0, e.g. TT_LAYERNORM_EPS)", (double)eps);
    layernorm_layer *ln = tt_calloc(1, sizeof *ln);
    if (!ln)
        return TT_ERR_NOMEM;
    ln->base.vtable = &layernorm_vtable;
    ln->base.training = true;
    ln->dim = dim;
    ln->eps = eps;
    /* Starting as the identity map of the normalised row: the block learns how much
     * scale and shift each feature needs. */
    TT_CHECK(tt_tensor_full(&ln->gamma, 1, TT_SHAPE(dim), 1.0f));
    TT_CHECK(tt_tensor_set_requires_grad(ln->gamma, true));
    TT_CHECK(tt_tensor_zeros(&ln->beta, 1, TT_SHAPE(dim)));
    TT_CHECK(tt_tensor_set_requires_grad(ln->beta, true));
    *out = &ln->base;
    return TT_OK;
cleanup:
    layernorm_destroy(&ln->base);
    return st;
    /* END SOLUTION */
}

static tt_status layernorm_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    layernorm_layer *ln = (layernorm_layer *)layer;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != ln->dim)
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_forward: LayerNorm(%zu) got input %s "
                            "(expected [..., %zu])", ln->dim, shape_str(x).s, ln->dim);
    return tt_layer_norm(out, x, ln->gamma, ln->beta, ln->eps);
    /* END SOLUTION */
}

static tt_status layernorm_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    layernorm_layer *ln = (layernorm_layer *)layer;
    tt_status st = tt_params_push(params, ln->gamma);
    return st == TT_OK ? tt_params_push(params, ln->beta) : st;
    /* END SOLUTION */
}

static void layernorm_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    layernorm_layer *ln = (layernorm_layer *)layer;
    tt_tensor_free(ln->gamma);
    tt_tensor_free(ln->beta);
    tt_free(ln);
    /* END SOLUTION */
}

tt_tensor *tt_layernorm_gamma(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &layernorm_vtable)
        return NULL;
    return ((layernorm_layer *)layer)->gamma;
    /* END SOLUTION */
}

tt_tensor *tt_layernorm_beta(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &layernorm_vtable)
        return NULL;
    return ((layernorm_layer *)layer)->beta;
    /* END SOLUTION */
}

/* ======================================================================== MLP */

typedef struct mlp_layer {
    tt_layer base;
    tt_layer *fc[2]; /* Linear(d_model, d_hidden), Linear(d_hidden, d_model) */
} mlp_layer;

static tt_status mlp_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status mlp_parameters(tt_layer *layer, tt_params *params);
static void mlp_set_training(tt_layer *layer, bool training);
static void mlp_destroy(tt_layer *layer);

static const tt_layer_vtable mlp_vtable = {
    "MLP", mlp_forward, mlp_parameters, mlp_set_training, mlp_destroy,
};

tt_status tt_mlp_new(tt_layer **out, size_t d_model, size_t d_hidden, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    tt_status st = check_out(__func__, out);
    if (st != TT_OK)
        return st;
    if (d_model == 0 || d_hidden == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mlp_new: d_model=%zu, d_hidden=%zu "
                            "(expected both >= 1)", d_model, d_hidden);
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mlp_new: rng is NULL (expected a seeded "
                            "tt_rng for the initialisation)");
    mlp_layer *m = tt_calloc(1, sizeof *m);
    if (!m)
        return TT_ERR_NOMEM;
    m->base.vtable = &mlp_vtable;
    m->base.training = true;
    TT_CHECK(tt_linear_new(&m->fc[0], d_model, d_hidden, true, rng));
    TT_CHECK(tt_linear_new(&m->fc[1], d_hidden, d_model, true, rng));
    *out = &m->base;
    return TT_OK;
cleanup:
    mlp_destroy(&m->base);
    return st;
    /* END SOLUTION */
}

static tt_status mlp_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    mlp_layer *m = (mlp_layer *)layer;
    tt_status st = TT_OK;
    tt_tensor *h = NULL, *a = NULL;
    TT_CHECK(tt_layer_forward(m->fc[0], &h, x));
    TT_CHECK(tt_gelu(&a, h));
    TT_CHECK(tt_layer_forward(m->fc[1], out, a));
cleanup:
    tt_tensor_free(h);
    tt_tensor_free(a);
    return st;
    /* END SOLUTION */
}

static tt_status mlp_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    mlp_layer *m = (mlp_layer *)layer;
    tt_status st = tt_layer_parameters(m->fc[0], params);
    return st == TT_OK ? tt_layer_parameters(m->fc[1], params) : st;
    /* END SOLUTION */
}

static void mlp_set_training(tt_layer *layer, bool training)
{
    mlp_layer *m = (mlp_layer *)layer;
    tt_layer_set_training(m->fc[0], training);
    tt_layer_set_training(m->fc[1], training);
}

static void mlp_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    mlp_layer *m = (mlp_layer *)layer;
    tt_layer_free(m->fc[0]);
    tt_layer_free(m->fc[1]);
    tt_free(m);
    /* END SOLUTION */
}

tt_layer *tt_mlp_linear(tt_layer *mlp, size_t index)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!mlp || mlp->vtable != &mlp_vtable || index > 1)
        return NULL;
    return ((mlp_layer *)mlp)->fc[index];
    /* END SOLUTION */
}

/* ========================================================== transformer block */

typedef struct block_layer {
    tt_layer base;
    tt_layer *part[4]; /* ln1, attn, ln2, mlp (tt_block_part order) */
} block_layer;

static tt_status block_layer_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status block_parameters(tt_layer *layer, tt_params *params);
static void block_set_training(tt_layer *layer, bool training);
static void block_destroy(tt_layer *layer);

static const tt_layer_vtable block_vtable = {
    "TransformerBlock", block_layer_forward, block_parameters, block_set_training,
    block_destroy,
};

tt_status tt_block_new(tt_layer **out, size_t d_model, size_t n_heads, size_t d_hidden,
                       tt_rng *rng)
{
    /* BEGIN SOLUTION */
    tt_status st = check_out(__func__, out);
    if (st != TT_OK)
        return st;
    if (d_model == 0 || n_heads == 0 || d_hidden == 0 || d_model % n_heads != 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_block_new: d_model=%zu, n_heads=%zu, "
                            "d_hidden=%zu (expected all >= 1, with n_heads dividing d_model)",
                            d_model, n_heads, d_hidden);
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_block_new: rng is NULL (expected a seeded "
                            "tt_rng for the initialisation)");
    block_layer *b = tt_calloc(1, sizeof *b);
    if (!b)
        return TT_ERR_NOMEM;
    b->base.vtable = &block_vtable;
    b->base.training = true;
    TT_CHECK(tt_layernorm_new(&b->part[TT_BLOCK_LN1], d_model, TT_LAYERNORM_EPS));
    TT_CHECK(tt_mha_new(&b->part[TT_BLOCK_ATTN], d_model, n_heads, rng));
    TT_CHECK(tt_layernorm_new(&b->part[TT_BLOCK_LN2], d_model, TT_LAYERNORM_EPS));
    TT_CHECK(tt_mlp_new(&b->part[TT_BLOCK_MLP], d_model, d_hidden, rng));
    *out = &b->base;
    return TT_OK;
cleanup:
    block_destroy(&b->base);
    return st;
    /* END SOLUTION */
}

tt_status tt_block_forward(tt_layer *block, tt_tensor **out, tt_tensor *x, tt_tensor *mask)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_block_forward: out is NULL (expected the "
                            "address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!block || !x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_block_forward: %s is NULL",
                            block ? "input tensor" : "block");
    if (block->vtable != &block_vtable)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_block_forward: layer is a %s (expected one "
                            "made by tt_block_new)", tt_layer_name(block));
    block_layer *b = (block_layer *)block;
    tt_status st = TT_OK;
    tt_tensor *n1 = NULL, *a = NULL, *h = NULL, *n2 = NULL, *m = NULL;
    /* Pre-norm: each sub-layer sees a normalised copy, while the residual path x -> h
     * -> out carries x unchanged, so gradients reach early blocks undiminished. */
    TT_CHECK(tt_layer_forward(b->part[TT_BLOCK_LN1], &n1, x));
    TT_CHECK(tt_mha_forward(b->part[TT_BLOCK_ATTN], &a, n1, mask));
    TT_CHECK(tt_tensor_add(&h, x, a));
    TT_CHECK(tt_layer_forward(b->part[TT_BLOCK_LN2], &n2, h));
    TT_CHECK(tt_layer_forward(b->part[TT_BLOCK_MLP], &m, n2));
    TT_CHECK(tt_tensor_add(out, h, m));
cleanup:
    tt_tensor_free(n1);
    tt_tensor_free(a);
    tt_tensor_free(h);
    tt_tensor_free(n2);
    tt_tensor_free(m);
    return st;
    /* END SOLUTION */
}

static tt_status block_layer_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    return tt_block_forward(layer, out, x, NULL);
}

static tt_status block_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    block_layer *b = (block_layer *)layer;
    for (int i = 0; i < 4; i++) {
        tt_status st = tt_layer_parameters(b->part[i], params);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
    /* END SOLUTION */
}

static void block_set_training(tt_layer *layer, bool training)
{
    block_layer *b = (block_layer *)layer;
    for (int i = 0; i < 4; i++)
        tt_layer_set_training(b->part[i], training);
}

static void block_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    block_layer *b = (block_layer *)layer;
    for (int i = 0; i < 4; i++)
        tt_layer_free(b->part[i]);
    tt_free(b);
    /* END SOLUTION */
}

tt_layer *tt_block_part_of(tt_layer *block, tt_block_part part)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!block || block->vtable != &block_vtable || (int)part < 0 || (int)part > 3)
        return NULL;
    return ((block_layer *)block)->part[part];
    /* END SOLUTION */
}

/* ======================================================================== GPT */

typedef struct gpt_layer {
    tt_layer base;
    tt_gpt_config config;
    tt_layer *tok, *pos; /* Embedding(V, D), PositionalEmbedding(context_len, D) */
    tt_layer **blocks;   /* n_layers TransformerBlocks, owned */
    tt_layer *lnf;       /* LayerNorm(D) */
    tt_layer *head;      /* Linear(D, V) */
} gpt_layer;

static tt_status gpt_forward(tt_layer *layer, tt_tensor **out, tt_tensor *ids);
static tt_status gpt_parameters(tt_layer *layer, tt_params *params);
static void gpt_set_training(tt_layer *layer, bool training);
static void gpt_destroy(tt_layer *layer);

static const tt_layer_vtable gpt_vtable = {
    "GPT", gpt_forward, gpt_parameters, gpt_set_training, gpt_destroy,
};

tt_status tt_gpt_new(tt_layer **out, const tt_gpt_config *config, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    tt_status st = check_out(__func__, out);
    if (st != TT_OK)
        return st;
    if (!config || !rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_gpt_new: %s is NULL", config ? "rng"
                                                                              : "config");
    const tt_gpt_config *c = config;
    if (c->vocab_size == 0 || c->context_len == 0 || c->d_model == 0 || c->n_heads == 0 ||
        c->n_layers == 0 || c->d_hidden == 0 || c->d_model % c->n_heads != 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_gpt_new: vocab_size=%zu, context_len=%zu, "
                            "d_model=%zu, n_heads=%zu, n_layers=%zu, d_hidden=%zu (expected "
                            "all >= 1, with n_heads dividing d_model)", c->vocab_size,
                            c->context_len, c->d_model, c->n_heads, c->n_layers, c->d_hidden);
    gpt_layer *g = tt_calloc(1, sizeof *g);
    if (!g)
        return TT_ERR_NOMEM;
    g->base.vtable = &gpt_vtable;
    g->base.training = true;
    g->config = *c;
    g->blocks = tt_calloc(c->n_layers, sizeof *g->blocks);
    if (!g->blocks) {
        st = TT_ERR_NOMEM;
        goto cleanup;
    }
    TT_CHECK(tt_embedding_new(&g->tok, c->vocab_size, c->d_model, rng));
    TT_CHECK(tt_pos_embedding_new(&g->pos, c->context_len, c->d_model, rng));
    for (size_t i = 0; i < c->n_layers; i++)
        TT_CHECK(tt_block_new(&g->blocks[i], c->d_model, c->n_heads, c->d_hidden, rng));
    TT_CHECK(tt_layernorm_new(&g->lnf, c->d_model, TT_LAYERNORM_EPS));
    TT_CHECK(tt_linear_new(&g->head, c->d_model, c->vocab_size, true, rng));
    *out = &g->base;
    return TT_OK;
cleanup:
    gpt_destroy(&g->base);
    return st;
    /* END SOLUTION */
}

static tt_status gpt_forward(tt_layer *layer, tt_tensor **out, tt_tensor *ids)
{
    /* BEGIN SOLUTION */
    gpt_layer *g = (gpt_layer *)layer;
    if (ids->ndim < 1 || ids->ndim > 2)
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_forward: GPT got ids of shape %s "
                            "(expected [B, T] or [T] token ids)", shape_str(ids).s);
    size_t t = ids->shape[ids->ndim - 1];
    if (t > g->config.context_len)
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_forward: GPT got T=%zu positions in ids %s "
                            "(expected T <= context_len %zu)", t, shape_str(ids).s,
                            g->config.context_len);
    tt_status st = TT_OK;
    tt_tensor *ids2 = NULL, *mask = NULL, *x = NULL, *next = NULL, *logits = NULL;
    /* A [T] sequence runs as a batch of one; the result drops that dimension again. */
    TT_CHECK(tt_tensor_reshape(&ids2, ids, 2, (const ptrdiff_t[]){-1, (ptrdiff_t)t}));
    TT_CHECK(tt_causal_mask(&mask, t, t));
    TT_CHECK(tt_layer_forward(g->tok, &x, ids2));
    TT_CHECK(tt_layer_forward(g->pos, &next, x));
    tt_tensor_free(x);
    x = next;
    next = NULL;
    for (size_t i = 0; i < g->config.n_layers; i++) {
        TT_CHECK(tt_block_forward(g->blocks[i], &next, x, mask));
        tt_tensor_free(x);
        x = next;
        next = NULL;
    }
    TT_CHECK(tt_layer_forward(g->lnf, &next, x));
    tt_tensor_free(x);
    x = next;
    next = NULL;
    if (ids->ndim == 2) {
        TT_CHECK(tt_layer_forward(g->head, out, x));
    } else {
        TT_CHECK(tt_layer_forward(g->head, &logits, x));
        TT_CHECK(tt_tensor_reshape(out, logits, 2,
                                   (const ptrdiff_t[]){(ptrdiff_t)t, (ptrdiff_t)g->config.vocab_size}));
    }
cleanup:
    tt_tensor_free(ids2);
    tt_tensor_free(mask);
    tt_tensor_free(x);
    tt_tensor_free(next);
    tt_tensor_free(logits);
    return st;
    /* END SOLUTION */
}

static tt_status gpt_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    gpt_layer *g = (gpt_layer *)layer;
    tt_status st = TT_OK;
    TT_CHECK(tt_layer_parameters(g->tok, params));
    TT_CHECK(tt_layer_parameters(g->pos, params));
    for (size_t i = 0; i < g->config.n_layers; i++)
        TT_CHECK(tt_layer_parameters(g->blocks[i], params));
    TT_CHECK(tt_layer_parameters(g->lnf, params));
    TT_CHECK(tt_layer_parameters(g->head, params));
cleanup:
    return st;
    /* END SOLUTION */
}

static void gpt_set_training(tt_layer *layer, bool training)
{
    gpt_layer *g = (gpt_layer *)layer;
    tt_layer_set_training(g->tok, training);
    tt_layer_set_training(g->pos, training);
    for (size_t i = 0; i < g->config.n_layers; i++)
        tt_layer_set_training(g->blocks[i], training);
    tt_layer_set_training(g->lnf, training);
    tt_layer_set_training(g->head, training);
}

static void gpt_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    gpt_layer *g = (gpt_layer *)layer;
    tt_layer_free(g->tok);
    tt_layer_free(g->pos);
    for (size_t i = 0; g->blocks && i < g->config.n_layers; i++)
        tt_layer_free(g->blocks[i]);
    tt_free(g->blocks);
    tt_layer_free(g->lnf);
    tt_layer_free(g->head);
    tt_free(g);
    /* END SOLUTION */
}

const tt_gpt_config *tt_gpt_config_of(const tt_layer *gpt)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!gpt || gpt->vtable != &gpt_vtable)
        return NULL;
    return &((const gpt_layer *)gpt)->config;
    /* END SOLUTION */
}

tt_layer *tt_gpt_part_of(tt_layer *gpt, tt_gpt_part part)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!gpt || gpt->vtable != &gpt_vtable)
        return NULL;
    gpt_layer *g = (gpt_layer *)gpt;
    switch (part) {
    case TT_GPT_TOKEN_EMBEDDING:
        return g->tok;
    case TT_GPT_POSITION_EMBEDDING:
        return g->pos;
    case TT_GPT_FINAL_NORM:
        return g->lnf;
    case TT_GPT_HEAD:
        return g->head;
    }
    return NULL;
    /* END SOLUTION */
}

tt_layer *tt_gpt_block(tt_layer *gpt, size_t index)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!gpt || gpt->vtable != &gpt_vtable)
        return NULL;
    gpt_layer *g = (gpt_layer *)gpt;
    return index < g->config.n_layers ? g->blocks[index] : NULL;
    /* END SOLUTION */
}

/* =================================================================== the loss */

tt_status tt_lm_loss(tt_tensor **out, tt_tensor *logits, tt_tensor *targets)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_lm_loss: out is NULL (expected the address "
                            "of a tt_tensor * to receive the loss)");
    *out = NULL;
    if (!logits || !targets)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_lm_loss: %s tensor is NULL",
                            logits ? "targets" : "logits");
    bool fits = (logits->ndim == 3 || logits->ndim == 2) && targets->ndim == logits->ndim - 1;
    for (int d = 0; fits && d < targets->ndim; d++)
        fits = targets->shape[d] == logits->shape[d];
    if (!fits)
        return tt_error_set(TT_ERR_SHAPE, "tt_lm_loss: logits %s and targets %s (expected "
                            "logits [B, T, V] with targets [B, T], or [T, V] with [T])",
                            shape_str(logits).s, shape_str(targets).s);
    size_t rows = tt_tensor_numel(targets), vocab = logits->shape[logits->ndim - 1];
    tt_status st = TT_OK;
    tt_tensor *flat = NULL, *tflat = NULL;
    /* A reshape of the contiguous logits is a recorded view: no copy, and the
     * gradient flows back through it. */
    TT_CHECK(tt_tensor_reshape(&flat, logits, 2,
                               (const ptrdiff_t[]){(ptrdiff_t)rows, (ptrdiff_t)vocab}));
    TT_CHECK(tt_tensor_reshape(&tflat, targets, 1, (const ptrdiff_t[]){(ptrdiff_t)rows}));
    TT_CHECK(tt_cross_entropy_loss(out, flat, tflat));
cleanup:
    tt_tensor_free(flat);
    tt_tensor_free(tflat);
    return st;
    /* END SOLUTION */
}

tt_status tt_gpt_loss(tt_layer *gpt, tt_tensor **loss, tt_tensor **logits, tt_tensor *ids,
                      tt_tensor *targets)
{
    /* BEGIN SOLUTION */
    if (logits)
        *logits = NULL;
    if (!loss)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_gpt_loss: loss is NULL (expected the "
                            "address of a tt_tensor * to receive the loss)");
    *loss = NULL;
    if (!gpt || !ids || !targets)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_gpt_loss: %s is NULL",
                            !gpt ? "model" : (!ids ? "ids tensor" : "targets tensor"));
    if (!tt_tensor_same_shape(ids, targets))
        return tt_error_set(TT_ERR_SHAPE, "tt_gpt_loss: ids %s and targets %s differ (expected "
                            "one target per position, the same shape)", shape_str(ids).s,
                            shape_str(targets).s);
    tt_tensor *z = NULL;
    tt_status st = tt_layer_forward(gpt, &z, ids);
    if (st == TT_OK)
        st = tt_lm_loss(loss, z, targets);
    if (st == TT_OK && logits)
        *logits = z;
    else
        tt_tensor_free(z);
    return st;
    /* END SOLUTION */
}

/* ================================================================= generation */

tt_status tt_sample_token(size_t *token, const float *logits, size_t n, float temperature,
                          tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (!token || !logits)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sample_token: %s is NULL",
                            token ? "logits" : "token");
    if (n == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sample_token: n = 0 (expected at least "
                            "one logit)");
    if (!(temperature >= 0.0f) || isinf(temperature))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sample_token: temperature %g (expected a "
                            "finite temperature >= 0; 0 picks the most likely token)",
                            (double)temperature);
    if (temperature > 0.0f && !rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sample_token: rng is NULL (expected a "
                            "seeded tt_rng for sampling at temperature %g)", (double)temperature);
    size_t best = 0;
    for (size_t j = 1; j < n; j++)
        if (logits[j] > logits[best])
            best = j;
    if (temperature == 0.0f) {
        *token = best;
        return TT_OK;
    }
    /* Inverse-CDF sampling: one uniform draw, walk the running sum until it passes. The
     * shift by the maximum keeps every exponent <= 0, as in softmax. */
    double m = (double)logits[best], t = (double)temperature, sum = 0.0;
    for (size_t j = 0; j < n; j++)
        sum += exp(((double)logits[j] - m) / t);
    double u = (double)tt_rng_uniform(rng), run = 0.0;
    size_t last_positive = best;
    for (size_t j = 0; j < n; j++) {
        double p = exp(((double)logits[j] - m) / t) / sum;
        if (p > 0.0)
            last_positive = j;
        run += p;
        if (run > u) {
            *token = j;
            return TT_OK;
        }
    }
    *token = last_positive;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_gpt_generate(tt_layer *gpt, tt_tensor **out, tt_tensor *prompt, size_t n_new,
                          float temperature, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    static const char fn[] = "tt_gpt_generate";
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_tensor * to receive the tokens)", fn);
    *out = NULL;
    if (!gpt || !prompt)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            gpt ? "prompt tensor" : "model");
    if (gpt->vtable != &gpt_vtable)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: layer is a %s (expected one made by "
                            "tt_gpt_new)", fn, tt_layer_name(gpt));
    if (prompt->ndim < 1 || prompt->ndim > 2)
        return tt_error_set(TT_ERR_SHAPE, "%s: prompt of shape %s (expected [T0] or [B, T0] "
                            "token ids)", fn, shape_str(prompt).s);
    if (!(temperature >= 0.0f) || isinf(temperature))
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: temperature %g (expected a finite "
                            "temperature >= 0; 0 picks the most likely token)", fn,
                            (double)temperature);
    if (temperature > 0.0f && !rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: rng is NULL (expected a seeded tt_rng "
                            "for sampling at temperature %g)", fn, (double)temperature);
    const gpt_layer *g = (const gpt_layer *)gpt;
    size_t rows = prompt->ndim == 2 ? prompt->shape[0] : 1;
    size_t t0 = prompt->shape[prompt->ndim - 1], total = t0 + n_new;
    size_t vocab = g->config.vocab_size;
    tt_status st = TT_OK;
    tt_tensor *seq = NULL, *pc = NULL, *ctx = NULL, *logits = NULL, *lc = NULL;
    bool was = tt_grad_set_enabled(false);
    /* The whole output lives in `seq`; each step copies the last context_len tokens of
     * every row into `ctx` and writes one new column. */
    TT_CHECK(tt_tensor_contiguous(&pc, prompt));
    TT_CHECK(tt_tensor_zeros(&seq, 2, TT_SHAPE(rows, total)));
    {
        float *sv = tt_tensor_data(seq);
        const float *pv = tt_tensor_data(pc);
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < t0; j++)
                sv[r * total + j] = pv[r * t0 + j];
    }
    for (size_t len = t0; len < total; len++) {
        size_t c = len < g->config.context_len ? len : g->config.context_len;
        TT_CHECK(tt_tensor_zeros(&ctx, 2, TT_SHAPE(rows, c)));
        float *cv = tt_tensor_data(ctx), *sv = tt_tensor_data(seq);
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < c; j++)
                cv[r * c + j] = sv[r * total + (len - c) + j];
        TT_CHECK(tt_layer_forward(gpt, &logits, ctx));
        TT_CHECK(tt_tensor_contiguous(&lc, logits));
        for (size_t r = 0; r < rows; r++) {
            size_t next = 0;
            TT_CHECK(tt_sample_token(&next, tt_tensor_data(lc) + (r * c + c - 1) * vocab, vocab,
                                     temperature, rng));
            sv[r * total + len] = (float)next;
        }
        tt_tensor_free(ctx);
        tt_tensor_free(logits);
        tt_tensor_free(lc);
        ctx = logits = lc = NULL;
    }
    if (prompt->ndim == 1)
        TT_CHECK(tt_tensor_reshape(out, seq, 1, (const ptrdiff_t[]){(ptrdiff_t)total}));
    else
        *out = tt_tensor_retain(seq);
cleanup:
    tt_grad_set_enabled(was);
    tt_tensor_free(seq);
    tt_tensor_free(pc);
    tt_tensor_free(ctx);
    tt_tensor_free(logits);
    tt_tensor_free(lc);
    return st;
    /* END SOLUTION */
}
