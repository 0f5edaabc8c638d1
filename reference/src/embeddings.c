/*
 * Module 11: embeddings (contract in tinytorch/embeddings.h).
 *
 * The lookup is a gather: output row p is a copy of table row ids[p]. Its backward is
 * the matching scatter: output-gradient row p is added into table-gradient row ids[p].
 * This module defines its own autograd op for that (embedding_op below, with its
 * backward in this file), because no op of modules 01-04 gathers rows by index.
 *
 * The gradient of the table is a dense [V, D] tensor that is zero outside the rows
 * that were read: the framework has no sparse tensors. For a vocabulary of 50,000 and
 * a batch that reads 512 distinct rows, that is 99% zeros, which is why large
 * frameworks offer sparse embedding gradients; the guide discusses the cost.
 *
 * The positional layers are compositions of module 01's recorded ops (slice, add), so
 * autograd needs nothing more from this file for them.
 */
#include "tinytorch/embeddings.h"

#include <math.h>
#include <stdio.h>

#include "tinytorch/autograd.h"

/* "[2,3,4]" for error messages ("[]" for a scalar), returned by value so that it can
 * be used inline: shape_str(t->ndim, t->shape).s. Also formats index positions. */
typedef struct shape_text {
    char s[96]; /* 4 numbers of up to 20 digits, 3 commas and the brackets fit */
} shape_text;

static shape_text shape_str(int ndim, const size_t *shape)
{
    shape_text text = {"["};
    size_t used = 1;
    for (int d = 0; d < ndim && d < TT_MAX_DIMS; d++) {
        int n = snprintf(text.s + used, sizeof text.s - used, d ? ",%zu" : "%zu", shape[d]);
        if (n < 0 || (size_t)n >= sizeof text.s - used)
            return text;
        used += (size_t)n;
    }
    snprintf(text.s + used, sizeof text.s - used, "]");
    return text;
}

/* The row-major index of flat position `flat` in `shape`, as text: "[1,3]". */
static shape_text position_str(size_t flat, int ndim, const size_t *shape)
{
    size_t idx[TT_MAX_DIMS] = {0};
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    return shape_str(ndim, idx);
}

/* ===================================================================== lookup */

static tt_status embedding_backward(tt_node *node, tt_tensor *g);

/* The module's op: inputs {weight [V, D], ids}; only weight gets a gradient. */
static const tt_op embedding_op = {"embedding", embedding_backward};

/* BEGIN SOLUTION: */
/* Checks every id of a contiguous ids tensor: an integer in [0, rows). The negated
 * comparison rejects nan; floorf rejects 2.5 and inf. */
static tt_status check_ids(const char *fn, const tt_tensor *ids_c, const tt_tensor *ids,
                           size_t rows)
{
    const float *v = tt_tensor_data(ids_c);
    size_t n = tt_tensor_numel(ids_c);
    for (size_t p = 0; p < n; p++) {
        if (!(v[p] >= 0.0f && v[p] < (float)rows) || floorf(v[p]) != v[p]) {
            return tt_error_set(TT_ERR_RANGE, "%s: id %g at position %s is outside [0, %zu) "
                                "(expected integer row numbers of the %zu-row table)",
                                fn, (double)v[p], position_str(p, ids->ndim, ids->shape).s,
                                rows, rows);
        }
    }
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_embedding_lookup(tt_tensor **out, tt_tensor *weight, tt_tensor *ids)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *wc = NULL, *ic = NULL;
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_embedding_lookup: out is NULL (expected "
                            "the address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!weight || !ids)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_embedding_lookup: %s tensor is NULL",
                            weight ? "ids" : "weight");
    if (weight->ndim != 2)
        return tt_error_set(TT_ERR_SHAPE, "tt_embedding_lookup: weight has shape %s (expected "
                            "a 2-D table [num_embeddings, dim])",
                            shape_str(weight->ndim, weight->shape).s);
    if (ids->ndim < 1 || ids->ndim > TT_MAX_DIMS - 1)
        return tt_error_set(TT_ERR_SHAPE, "tt_embedding_lookup: ids have shape %s (expected 1 "
                            "to %d dimensions: the result adds one)",
                            shape_str(ids->ndim, ids->shape).s, TT_MAX_DIMS - 1);
    size_t rows = weight->shape[0], dim = weight->shape[1];
    TT_CHECK(tt_tensor_contiguous(&ic, ids));
    TT_CHECK(check_ids(__func__, ic, ids, rows));
    TT_CHECK(tt_tensor_contiguous(&wc, weight));
    {
        size_t shape[TT_MAX_DIMS];
        for (int d = 0; d < ids->ndim; d++)
            shape[d] = ids->shape[d];
        shape[ids->ndim] = dim;
        TT_CHECK(tt_tensor_zeros(&y, ids->ndim + 1, shape));
    }
    {
        const float *w = tt_tensor_data(wc), *idv = tt_tensor_data(ic);
        float *dst = tt_tensor_data(y);
        size_t n = tt_tensor_numel(ic);
        for (size_t p = 0; p < n; p++) {
            const float *row = w + (size_t)idv[p] * dim;
            for (size_t j = 0; j < dim; j++)
                dst[p * dim + j] = row[j];
        }
    }
cleanup:
    tt_tensor_free(wc);
    tt_tensor_free(ic);
    if (st != TT_OK)
        return st; /* y is still NULL: its allocation is the last step that can fail */
    /* END SOLUTION */
    tt_tensor *inputs[2] = {weight, ids};
    st = tt_autograd_record(y, &embedding_op, 2, inputs, NULL, NULL);
    if (st != TT_OK) {
        tt_tensor_free(y);
        return st;
    }
    *out = y;
    return TT_OK;
}

/* g has the lookup's output shape, ids' shape followed by D. dW starts at zero and row
 * ids[p] receives g's row p, so a repeated id gets the sum of its rows and a row that
 * was never read stays zero. */
static tt_status embedding_backward(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *w = node->inputs[0], *ids = node->inputs[1];
    if (!w || !w->requires_grad)
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *ic = NULL, *gc = NULL, *dw = NULL;
    size_t rows = w->shape[0], dim = w->shape[1];
    TT_CHECK(tt_tensor_contiguous(&ic, ids));
    /* The ids are read again now: one changed since the forward would write outside
     * the table, so it is refused rather than trusted. */
    TT_CHECK(check_ids("backward of embedding", ic, ids, rows));
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dw, 2, w->shape));
    {
        const float *idv = tt_tensor_data(ic), *gv = tt_tensor_data(gc);
        float *dv = tt_tensor_data(dw);
        size_t n = tt_tensor_numel(ic);
        for (size_t p = 0; p < n; p++) {
            float *row = dv + (size_t)idv[p] * dim;
            for (size_t j = 0; j < dim; j++)
                row[j] += gv[p * dim + j];
        }
    }
    st = tt_accumulate_grad(w, dw);
cleanup:
    tt_tensor_free(ic);
    tt_tensor_free(gc);
    tt_tensor_free(dw);
    return st;
    /* END SOLUTION */
}

/* ============================================================ Embedding layer */

typedef struct embedding_layer {
    tt_layer base;
    tt_tensor *weight; /* [num_embeddings, dim], requires grad */
} embedding_layer;

static tt_status embedding_forward(tt_layer *layer, tt_tensor **out, tt_tensor *ids);
static tt_status embedding_parameters(tt_layer *layer, tt_params *params);
static void embedding_destroy(tt_layer *layer);

static const tt_layer_vtable embedding_vtable = {
    "Embedding", embedding_forward, embedding_parameters, NULL, embedding_destroy,
};

/* BEGIN SOLUTION: */
/* A [rows, dim] table from normal(0, 1) that requires a gradient. */
static tt_status normal_table(tt_tensor **out, size_t rows, size_t dim, tt_rng *rng)
{
    tt_status st = tt_tensor_randn(out, 2, TT_SHAPE(rows, dim), 0.0f, 1.0f, rng);
    if (st == TT_OK && (st = tt_tensor_set_requires_grad(*out, true)) != TT_OK) {
        tt_tensor_free(*out);
        *out = NULL;
    }
    return st;
}

/* The argument checks shared by the constructors. */
static tt_status check_new(const char *fn, tt_layer **out, const char *len_name, size_t len,
                           size_t dim, bool needs_rng, const tt_rng *rng)
{
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_layer * to receive the layer)", fn);
    *out = NULL;
    if (len == 0 || dim == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s=%zu, dim=%zu (expected both >= 1)", fn,
                            len_name, len, dim);
    if (needs_rng && !rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: rng is NULL (expected a seeded tt_rng "
                            "for the initialisation)", fn);
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_embedding_new(tt_layer **out, size_t num_embeddings, size_t dim, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    tt_status st = check_new(__func__, out, "num_embeddings", num_embeddings, dim, true, rng);
    if (st != TT_OK)
        return st;
    embedding_layer *e = tt_calloc(1, sizeof *e);
    if (!e)
        return TT_ERR_NOMEM;
    e->base.vtable = &embedding_vtable;
    e->base.training = true;
    st = normal_table(&e->weight, num_embeddings, dim, rng);
    if (st != TT_OK) {
        tt_free(e);
        return st;
    }
    *out = &e->base;
    return TT_OK;
    /* END SOLUTION */
}

static tt_status embedding_forward(tt_layer *layer, tt_tensor **out, tt_tensor *ids)
{
    /* BEGIN SOLUTION */
    return tt_embedding_lookup(out, ((embedding_layer *)layer)->weight, ids);
    /* END SOLUTION */
}

static tt_status embedding_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    return tt_params_push(params, ((embedding_layer *)layer)->weight);
    /* END SOLUTION */
}

static void embedding_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    tt_tensor_free(((embedding_layer *)layer)->weight);
    tt_free(layer);
    /* END SOLUTION */
}

tt_tensor *tt_embedding_weight(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &embedding_vtable)
        return NULL;
    return ((embedding_layer *)layer)->weight;
    /* END SOLUTION */
}

/* ============================================================ positional layers */

/* Both positional layers add rows 0..T-1 of a [max_len, dim] table to x [..., T, dim]:
 * the learned one's table is a parameter, the sinusoidal one's a constant. */
typedef struct position_layer {
    tt_layer base;
    size_t max_len, dim;
    tt_tensor *table; /* [max_len, dim]; requires grad only in the learned layer */
} position_layer;

static tt_status position_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status pos_embedding_parameters(tt_layer *layer, tt_params *params);
static void position_destroy(tt_layer *layer);

static const tt_layer_vtable pos_embedding_vtable = {
    "PositionalEmbedding", position_forward, pos_embedding_parameters, NULL, position_destroy,
};
static const tt_layer_vtable sinusoidal_vtable = {
    "SinusoidalEncoding", position_forward, NULL, NULL, position_destroy,
};

tt_status tt_pos_embedding_new(tt_layer **out, size_t max_len, size_t dim, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    tt_status st = check_new(__func__, out, "max_len", max_len, dim, true, rng);
    if (st != TT_OK)
        return st;
    position_layer *p = tt_calloc(1, sizeof *p);
    if (!p)
        return TT_ERR_NOMEM;
    p->base.vtable = &pos_embedding_vtable;
    p->base.training = true;
    p->max_len = max_len;
    p->dim = dim;
    st = normal_table(&p->table, max_len, dim, rng);
    if (st != TT_OK) {
        tt_free(p);
        return st;
    }
    *out = &p->base;
    return TT_OK;
    /* END SOLUTION */
}

tt_tensor *tt_pos_embedding_weight(tt_layer *layer)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!layer || layer->vtable != &pos_embedding_vtable)
        return NULL;
    return ((position_layer *)layer)->table;
    /* END SOLUTION */
}

tt_status tt_sinusoidal_encoding(tt_tensor **out, size_t seq_len, size_t dim)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sinusoidal_encoding: out is NULL (expected "
                            "the address of a tt_tensor * to receive the table)");
    *out = NULL;
    if (seq_len == 0 || dim == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_sinusoidal_encoding: seq_len=%zu, dim=%zu "
                            "(expected both >= 1)", seq_len, dim);
    tt_tensor *pe = NULL;
    tt_status st = tt_tensor_zeros(&pe, 2, TT_SHAPE(seq_len, dim));
    if (st != TT_OK)
        return st;
    float *v = tt_tensor_data(pe);
    /* Column pair (2i, 2i+1) turns at frequency w_i: from one turn per 2 pi positions
     * (i = 0) down to one per 10000 * 2 pi, so nearby positions differ in the fast
     * columns and distant ones in the slow columns. */
    for (size_t c = 0; c < dim; c++) {
        double w = pow(10000.0, -(double)(c - c % 2) / (double)dim);
        for (size_t t = 0; t < seq_len; t++) {
            double angle = (double)t * w;
            v[t * dim + c] = (float)(c % 2 ? cos(angle) : sin(angle));
        }
    }
    *out = pe;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_sinusoidal_new(tt_layer **out, size_t max_len, size_t dim)
{
    /* BEGIN SOLUTION */
    tt_status st = check_new(__func__, out, "max_len", max_len, dim, false, NULL);
    if (st != TT_OK)
        return st;
    position_layer *p = tt_calloc(1, sizeof *p);
    if (!p)
        return TT_ERR_NOMEM;
    p->base.vtable = &sinusoidal_vtable;
    p->base.training = true;
    p->max_len = max_len;
    p->dim = dim;
    st = tt_sinusoidal_encoding(&p->table, max_len, dim);
    if (st != TT_OK) {
        tt_free(p);
        return st;
    }
    *out = &p->base;
    return TT_OK;
    /* END SOLUTION */
}

static tt_status position_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    position_layer *p = (position_layer *)layer;
    if (x->ndim < 2 || x->shape[x->ndim - 1] != p->dim)
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_forward: %s(max_len %zu, dim %zu) got "
                            "input %s (expected [..., T, %zu])", layer->vtable->name,
                            p->max_len, p->dim, shape_str(x->ndim, x->shape).s, p->dim);
    size_t t = x->shape[x->ndim - 2];
    if (t > p->max_len)
        return tt_error_set(TT_ERR_SHAPE, "tt_layer_forward: %s got a sequence of T=%zu "
                            "positions in input %s (expected T <= max_len %zu)",
                            layer->vtable->name, t, shape_str(x->ndim, x->shape).s, p->max_len);
    /* The slice is a recorded view: the gradient of rows 0..T-1 flows back into the
     * table through it, and rows past T get none. */
    tt_tensor *rows = NULL;
    tt_status st = tt_tensor_slice(&rows, p->table, 0, 0, t);
    if (st == TT_OK)
        st = tt_tensor_add(out, x, rows);
    tt_tensor_free(rows);
    return st;
    /* END SOLUTION */
}

static tt_status pos_embedding_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    return tt_params_push(params, ((position_layer *)layer)->table);
    /* END SOLUTION */
}

static void position_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    tt_tensor_free(((position_layer *)layer)->table);
    tt_free(layer);
    /* END SOLUTION */
}
