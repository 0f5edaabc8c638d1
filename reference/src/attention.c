/*
 * Module 12: attention (contract and THE MASK CONVENTION in tinytorch/attention.h).
 *
 * One new op, the masked softmax, with its backward here; everything else (the
 * scores Q K^T, the scaling, the weighted sum of V, splitting and merging heads, the
 * four projections) is composed of module 01's recorded ops and module 03's Linear,
 * so autograd differentiates it without code of its own.
 *
 * Why a masked softmax instead of adding -inf to blocked scores and calling
 * tt_softmax: both give exact zeros, but -inf arithmetic turns a row with nothing
 * allowed into nan silently (this op refuses it by name), and a blocked score that is
 * itself inf or nan poisons its row. Leaving blocked positions out of the maximum and
 * the sum makes a row's weights independent of its blocked scores bit for bit, which
 * is what a causal model's "a later token never changes an earlier output" rests on.
 *
 * The backward recomputes the weights from the scores and the mask (the node keeps
 * both) rather than keeping a copy of them: a node may not hold its own output (that
 * would be a reference cycle), and the copy would double the O(T^2) memory attention
 * already costs.
 */
#include "tinytorch/attention.h"

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

/* ======================================================================= masks */

tt_status tt_causal_mask(tt_tensor **out, size_t tq, size_t tk)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_causal_mask: out is NULL (expected the "
                            "address of a tt_tensor * to receive the mask)");
    *out = NULL;
    if (tq == 0 || tk == 0 || tq > tk)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_causal_mask: tq=%zu, tk=%zu (expected "
                            "1 <= tq <= tk: the queries are the last tq of tk positions)",
                            tq, tk);
    tt_tensor *m = NULL;
    tt_status st = tt_tensor_zeros(&m, 2, TT_SHAPE(tq, tk));
    if (st != TT_OK)
        return st;
    float *v = tt_tensor_data(m);
    /* Query i sits at absolute position tk - tq + i and sees every key up to there. */
    for (size_t i = 0; i < tq; i++)
        for (size_t j = 0; j <= tk - tq + i; j++)
            v[i * tk + j] = 1.0f;
    *out = m;
    return TT_OK;
    /* END SOLUTION */
}

/* ============================================================== masked softmax */

static tt_status masked_softmax_backward(tt_node *node, tt_tensor *g);

/* The module's op: inputs {scores, mask (may be NULL)}; only scores get a gradient. */
static const tt_op masked_softmax_op = {"masked_softmax", masked_softmax_backward};

/* BEGIN SOLUTION: */
/* The mask's strides seen from the scores' index space: aligned at the last dimension,
 * 0 where the mask has size 1 or lacks the dimension (it repeats there). */
static tt_status mask_strides(const char *fn, ptrdiff_t mst[TT_MAX_DIMS],
                              const tt_tensor *scores, const tt_tensor *mask)
{
    int n = scores->ndim, lead = n - mask->ndim;
    bool fits = mask->ndim <= n;
    for (int d = 0; fits && d < n; d++) {
        int md = d - lead;
        if (md < 0 || mask->shape[md] == 1)
            mst[d] = 0;
        else if (mask->shape[md] == scores->shape[d])
            mst[d] = mask->strides[md];
        else
            fits = false;
    }
    if (!fits)
        return tt_error_set(TT_ERR_SHAPE, "%s: mask of shape %s does not broadcast to the "
                            "scores' shape %s (expected e.g. [Tq,Tk] or [B,1,Tq,Tk], with 1 "
                            "where a dimension repeats)", fn,
                            shape_str(mask->ndim, mask->shape).s,
                            shape_str(scores->ndim, scores->shape).s);
    return TT_OK;
}

/* y = the masked softmax of contiguous scores s (shape, last axis Tk), reading the
 * mask (or none) through mst. Checks every mask entry it reads. */
static tt_status masked_softmax_rows(const char *fn, float *y, const float *s, int ndim,
                                     const size_t *shape, const tt_tensor *mask,
                                     const ptrdiff_t *mst)
{
    size_t tk = shape[ndim - 1], rows = 1;
    for (int d = 0; d < ndim - 1; d++)
        rows *= shape[d];
    const float *mbase = mask ? tt_tensor_data(mask) : NULL;
    for (size_t r = 0; r < rows; r++) {
        const float *sr = s + r * tk;
        float *yr = y + r * tk;
        /* The row's index over the leading dimensions, and where its mask row starts. */
        size_t idx[TT_MAX_DIMS] = {0}, rest = r;
        ptrdiff_t moff = 0;
        for (int d = ndim - 2; d >= 0; d--) {
            idx[d] = rest % shape[d];
            rest /= shape[d];
            if (mask)
                moff += (ptrdiff_t)idx[d] * mst[d];
        }
        bool any = false;
        float m = 0.0f;
        for (size_t j = 0; j < tk; j++) {
            float allow = mask ? mbase[moff + (ptrdiff_t)j * mst[ndim - 1]] : 1.0f;
            if (allow != 0.0f && allow != 1.0f) {
                idx[ndim - 1] = j;
                return tt_error_set(TT_ERR_INVALID_ARG, "%s: mask entry %g at scores position "
                                    "%s (expected 0 = blocked or 1 = may attend)", fn,
                                    (double)allow, shape_str(ndim, idx).s);
            }
            /* yr doubles as the row's allowed flags until the weights are written. */
            yr[j] = allow;
            if (allow == 1.0f && (!any || sr[j] > m)) {
                m = sr[j];
                any = true;
            }
        }
        if (!any)
            return tt_error_set(TT_ERR_INVALID_ARG, "%s: the mask blocks every key of the "
                                "query row at %s (expected at least one 1 per row)", fn,
                                shape_str(ndim - 1, idx).s);
        double sum = 0.0;
        for (size_t j = 0; j < tk; j++)
            if (yr[j] != 0.0f)
                sum += exp((double)sr[j] - (double)m);
        for (size_t j = 0; j < tk; j++)
            yr[j] = yr[j] != 0.0f ? (float)(exp((double)sr[j] - (double)m) / sum) : 0.0f;
    }
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_masked_softmax(tt_tensor **out, tt_tensor *scores, tt_tensor *mask)
{
    tt_tensor *y = NULL;
    tt_status st = TT_OK;
    /* BEGIN SOLUTION */
    tt_tensor *sc = NULL;
    ptrdiff_t mst[TT_MAX_DIMS] = {0};
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_masked_softmax: out is NULL (expected the "
                            "address of a tt_tensor * to receive the weights)");
    *out = NULL;
    if (!scores)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_masked_softmax: scores tensor is NULL");
    if (scores->ndim < 2)
        return tt_error_set(TT_ERR_SHAPE, "tt_masked_softmax: scores have shape %s (expected "
                            "[..., Tq, Tk] with 2 to 4 dimensions)",
                            shape_str(scores->ndim, scores->shape).s);
    if (mask)
        TT_CHECK(mask_strides(__func__, mst, scores, mask));
    TT_CHECK(tt_tensor_contiguous(&sc, scores));
    TT_CHECK(tt_tensor_zeros(&y, scores->ndim, scores->shape));
    TT_CHECK(masked_softmax_rows(__func__, tt_tensor_data(y), tt_tensor_data(sc), scores->ndim,
                                 scores->shape, mask, mst));
cleanup:
    tt_tensor_free(sc);
    if (st != TT_OK) {
        tt_tensor_free(y);
        return st;
    }
    /* END SOLUTION */
    tt_tensor *inputs[2] = {scores, mask};
    st = tt_autograd_record(y, &masked_softmax_op, 2, inputs, NULL, NULL);
    if (st != TT_OK) {
        tt_tensor_free(y);
        return st;
    }
    *out = y;
    return TT_OK;
}

/* y = masked_softmax(x): dx = y * (g - sum_j(g_j * y_j)) per row. Blocked positions have
 * y = 0, so they get exactly 0, and the sum only sees allowed ones. */
static tt_status masked_softmax_backward(tt_node *node, tt_tensor *g)
{
    /* BEGIN SOLUTION */
    tt_tensor *x = node->inputs[0], *mask = node->inputs[1];
    if (!x->requires_grad)
        return TT_OK;
    tt_status st = TT_OK;
    tt_tensor *xc = NULL, *gc = NULL, *dx = NULL;
    ptrdiff_t mst[TT_MAX_DIMS] = {0};
    if (mask)
        TT_CHECK(mask_strides("backward of masked_softmax", mst, x, mask));
    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&gc, g));
    TT_CHECK(tt_tensor_zeros(&dx, x->ndim, x->shape));
    float *y = tt_tensor_data(dx);
    TT_CHECK(masked_softmax_rows("backward of masked_softmax", y, tt_tensor_data(xc), x->ndim,
                                 x->shape, mask, mst));
    {
        size_t tk = x->shape[x->ndim - 1], rows = tt_tensor_numel(x) / tk;
        const float *gv = tt_tensor_data(gc);
        for (size_t r = 0; r < rows; r++) {
            float *yr = y + r * tk;
            const float *gr = gv + r * tk;
            double dot = 0.0;
            for (size_t j = 0; j < tk; j++)
                dot += (double)gr[j] * (double)yr[j];
            for (size_t j = 0; j < tk; j++)
                yr[j] = (float)((double)yr[j] * ((double)gr[j] - dot));
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

/* ================================================ scaled dot-product attention */

tt_status tt_scaled_dot_product_attention(tt_tensor **out, tt_tensor **weights, tt_tensor *q,
                                          tt_tensor *k, tt_tensor *v, tt_tensor *mask)
{
    /* BEGIN SOLUTION */
    static const char fn[] = "tt_scaled_dot_product_attention";
    if (weights)
        *weights = NULL;
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: out is NULL (expected the address of a "
                            "tt_tensor * to receive the result)", fn);
    *out = NULL;
    if (!q || !k || !v)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s tensor is NULL", fn,
                            !q ? "q" : (!k ? "k" : "v"));
    int n = q->ndim;
    if (n < 2 || n > TT_MAX_DIMS || k->ndim != n || v->ndim != n)
        return tt_error_set(TT_ERR_SHAPE, "%s: q %s, k %s, v %s (expected three tensors of "
                            "the same 2 to 4 dimensions: [..., Tq, d], [..., Tk, d], "
                            "[..., Tk, dv])", fn, shape_str(q->ndim, q->shape).s,
                            shape_str(k->ndim, k->shape).s, shape_str(v->ndim, v->shape).s);
    bool fits = q->shape[n - 1] == k->shape[n - 1] && k->shape[n - 2] == v->shape[n - 2];
    for (int d = 0; d < n - 2; d++)
        fits = fits && q->shape[d] == k->shape[d] && q->shape[d] == v->shape[d];
    if (!fits)
        return tt_error_set(TT_ERR_SHAPE, "%s: q %s, k %s, v %s do not fit (expected equal "
                            "leading dimensions, q and k of the same last dimension d, k and "
                            "v of the same number of keys Tk)", fn,
                            shape_str(q->ndim, q->shape).s, shape_str(k->ndim, k->shape).s,
                            shape_str(v->ndim, v->shape).s);

    tt_status st = TT_OK;
    tt_tensor *kt = NULL, *s = NULL, *scaled = NULL, *w = NULL;
    /* 1/sqrt(d) keeps the scores' variance near 1 whatever the head size: a sum of d
     * products of unit-variance terms has variance d, which would push the softmax
     * towards one-hot and its gradient towards zero. */
    float scale = (float)(1.0 / sqrt((double)q->shape[n - 1]));
    TT_CHECK(tt_tensor_transpose(&kt, k, -1, -2));
    TT_CHECK(tt_tensor_matmul(&s, q, kt));
    TT_CHECK(tt_tensor_mul_scalar(&scaled, s, scale));
    TT_CHECK(tt_masked_softmax(&w, scaled, mask));
    TT_CHECK(tt_tensor_matmul(out, w, v));
    if (weights) {
        *weights = w;
        w = NULL;
    }
cleanup:
    tt_tensor_free(kt);
    tt_tensor_free(s);
    tt_tensor_free(scaled);
    tt_tensor_free(w);
    return st;
    /* END SOLUTION */
}

/* ============================================================ splitting heads */

tt_status tt_split_heads(tt_tensor **out, tt_tensor *x, size_t n_heads)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_split_heads: out is NULL (expected the "
                            "address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_split_heads: input tensor is NULL");
    if (x->ndim != 3)
        return tt_error_set(TT_ERR_SHAPE, "tt_split_heads: input has shape %s (expected "
                            "[B, T, n_heads * head_dim])", shape_str(x->ndim, x->shape).s);
    if (n_heads == 0 || x->shape[2] % n_heads != 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_split_heads: %zu heads do not divide the "
                            "last dimension of %s (expected a divisor of %zu)", n_heads,
                            shape_str(x->ndim, x->shape).s, x->shape[2]);
    ptrdiff_t shape[4] = {(ptrdiff_t)x->shape[0], (ptrdiff_t)x->shape[1], (ptrdiff_t)n_heads,
                          (ptrdiff_t)(x->shape[2] / n_heads)};
    tt_tensor *r = NULL;
    tt_status st = tt_tensor_reshape(&r, x, 4, shape);
    if (st == TT_OK)
        st = tt_tensor_transpose(out, r, 1, 2);
    tt_tensor_free(r);
    return st;
    /* END SOLUTION */
}

tt_status tt_merge_heads(tt_tensor **out, tt_tensor *x)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_merge_heads: out is NULL (expected the "
                            "address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_merge_heads: input tensor is NULL");
    if (x->ndim != 4)
        return tt_error_set(TT_ERR_SHAPE, "tt_merge_heads: input has shape %s (expected "
                            "[B, n_heads, T, head_dim])", shape_str(x->ndim, x->shape).s);
    ptrdiff_t shape[3] = {(ptrdiff_t)x->shape[0], (ptrdiff_t)x->shape[2],
                          (ptrdiff_t)(x->shape[1] * x->shape[3])};
    tt_tensor *t = NULL;
    tt_status st = tt_tensor_transpose(&t, x, 1, 2);
    if (st == TT_OK)
        st = tt_tensor_reshape(out, t, 3, shape);
    tt_tensor_free(t);
    return st;
    /* END SOLUTION */
}

/* ================================================== multi-head attention layer */

typedef struct mha_layer {
    tt_layer base;
    size_t d_model, n_heads;
    tt_layer *proj[4]; /* Linear(d_model, d_model): Wq, Wk, Wv, Wo (tt_mha_proj order) */
} mha_layer;

static tt_status mha_layer_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x);
static tt_status mha_parameters(tt_layer *layer, tt_params *params);
static void mha_destroy(tt_layer *layer);

static const tt_layer_vtable mha_vtable = {
    "MultiHeadAttention", mha_layer_forward, mha_parameters, NULL, mha_destroy,
};

tt_status tt_mha_new(tt_layer **out, size_t d_model, size_t n_heads, tt_rng *rng)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mha_new: out is NULL (expected the address "
                            "of a tt_layer * to receive the layer)");
    *out = NULL;
    if (d_model == 0 || n_heads == 0 || d_model % n_heads != 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mha_new: d_model=%zu, n_heads=%zu "
                            "(expected both >= 1, with n_heads dividing d_model)", d_model,
                            n_heads);
    if (!rng)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mha_new: rng is NULL (expected a seeded "
                            "tt_rng for the initialisation)");
    mha_layer *m = tt_calloc(1, sizeof *m);
    if (!m)
        return TT_ERR_NOMEM;
    m->base.vtable = &mha_vtable;
    m->base.training = true;
    m->d_model = d_model;
    m->n_heads = n_heads;
    for (int i = 0; i < 4; i++) {
        tt_status st = tt_linear_new(&m->proj[i], d_model, d_model, true, rng);
        if (st != TT_OK) {
            mha_destroy(&m->base);
            return st;
        }
    }
    *out = &m->base;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_mha_forward(tt_layer *mha, tt_tensor **out, tt_tensor *x, tt_tensor *mask)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mha_forward: out is NULL (expected the "
                            "address of a tt_tensor * to receive the result)");
    *out = NULL;
    if (!mha || !x)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mha_forward: %s is NULL",
                            mha ? "input tensor" : "layer");
    if (mha->vtable != &mha_vtable)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_mha_forward: layer is a %s (expected one "
                            "made by tt_mha_new)", tt_layer_name(mha));
    mha_layer *m = (mha_layer *)mha;
    if (x->ndim != 3 || x->shape[2] != m->d_model)
        return tt_error_set(TT_ERR_SHAPE, "tt_mha_forward: MultiHeadAttention(d_model %zu, %zu "
                            "heads) got input %s (expected [B, T, %zu])", m->d_model,
                            m->n_heads, shape_str(x->ndim, x->shape).s, m->d_model);
    tt_status st = TT_OK;
    tt_tensor *proj[3] = {NULL, NULL, NULL}, *heads[3] = {NULL, NULL, NULL};
    tt_tensor *att = NULL, *merged = NULL;
    for (int i = 0; i < 3; i++) {
        TT_CHECK(tt_layer_forward(m->proj[i], &proj[i], x));
        TT_CHECK(tt_split_heads(&heads[i], proj[i], m->n_heads));
    }
    TT_CHECK(tt_scaled_dot_product_attention(&att, NULL, heads[0], heads[1], heads[2], mask));
    TT_CHECK(tt_merge_heads(&merged, att));
    TT_CHECK(tt_layer_forward(m->proj[TT_MHA_OUTPUT], out, merged));
cleanup:
    for (int i = 0; i < 3; i++) {
        tt_tensor_free(proj[i]);
        tt_tensor_free(heads[i]);
    }
    tt_tensor_free(att);
    tt_tensor_free(merged);
    return st;
    /* END SOLUTION */
}

static tt_status mha_layer_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    return tt_mha_forward(layer, out, x, NULL);
}

static tt_status mha_parameters(tt_layer *layer, tt_params *params)
{
    /* BEGIN SOLUTION */
    mha_layer *m = (mha_layer *)layer;
    for (int i = 0; i < 4; i++) {
        tt_status st = tt_layer_parameters(m->proj[i], params);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
    /* END SOLUTION */
}

static void mha_destroy(tt_layer *layer)
{
    /* BEGIN SOLUTION: */
    mha_layer *m = (mha_layer *)layer;
    for (int i = 0; i < 4; i++)
        tt_layer_free(m->proj[i]);
    tt_free(m);
    /* END SOLUTION */
}

tt_layer *tt_mha_projection(tt_layer *mha, tt_mha_proj which)
{
    /* BEGIN SOLUTION: return NULL; */
    if (!mha || mha->vtable != &mha_vtable || (int)which < 0 || (int)which > 3)
        return NULL;
    return ((mha_layer *)mha)->proj[which];
    /* END SOLUTION */
}

size_t tt_mha_num_heads(const tt_layer *mha)
{
    /* BEGIN SOLUTION: return 0; */
    if (!mha || mha->vtable != &mha_vtable)
        return 0;
    return ((const mha_layer *)mha)->n_heads;
    /* END SOLUTION */
}
