/*
 * tinytorch/attention.h: module 12, attention.
 *
 * Scaled dot-product attention lets every query position read a weighted mix of the
 * value rows, weighted by how well its query matches each key:
 *
 *     attention(Q, K, V) = softmax(Q K^T / sqrt(d) + mask) V
 *
 * with Q [..., Tq, d], K [..., Tk, d], V [..., Tk, dv]. Multi-head attention runs
 * several of these side by side on learned projections of the same input.
 *
 * ===================================================================================
 * THE MASK CONVENTION (defined here, once; every later header refers to this text)
 * ===================================================================================
 *   A mask is a float tensor of 0s and 1s that broadcasts (tinytorch/tensor.h rules)
 *   to the attention scores' shape [..., Tq, Tk]: [Tq, Tk] for one mask shared by
 *   every batch entry and head, [B, 1, Tq, Tk] per sequence, [B, 1, 1, Tk] for a
 *   padding mask, and so on.
 *
 *     mask[.., i, j] = 1   query i MAY attend to key j
 *     mask[.., i, j] = 0   query i may NOT attend to key j: its weight is exactly 0.0f
 *
 *   A NULL mask means "every query may attend to every key". Entries other than 0
 *   and 1 are refused, and so is a query row whose keys are all blocked (its
 *   softmax would have nothing to normalise). The mask never receives a gradient.
 *
 *   "Exactly 0" is a promise about the bits: blocked scores take no part in the
 *   softmax at all (neither in its maximum nor in its sum), so the weights of a row
 *   depend only on the scores it may see. This is what makes a causal model's output
 *   at position t independent, bit for bit, of the tokens after t.
 *
 *   Causal attention uses tt_causal_mask(tq, tk): the tq queries are the LAST tq of
 *   the tk positions, and query i (absolute position tk - tq + i) may attend to keys
 *   0 .. tk - tq + i. With tq == tk this is the lower triangle, diagonal included;
 *   with tq == 1 (generating one token after tk - 1 cached ones) it lets the new
 *   token see every key.
 * ===================================================================================
 *
 * Gradients: attention is composed of recorded ops (transpose, matmul, a scalar
 * multiply) and one op of this module, the masked softmax, whose backward is written
 * here. Heads are split and merged with reshape and transpose views, also recorded.
 * Ownership and errors follow tinytorch/tensor.h and tinytorch/layers.h.
 */
#ifndef TINYTORCH_ATTENTION_H
#define TINYTORCH_ATTENTION_H

#include "tinytorch/layers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------- masks */

/* The causal mask [tq, tk] of the convention above: mask[i, j] = 1 when
 * j <= tk - tq + i, else 0. Not recorded. Errors: TT_ERR_INVALID_ARG (tq or tk 0,
 * tq > tk, out NULL), TT_ERR_NOMEM. */
tt_status tt_causal_mask(tt_tensor **out, size_t tq, size_t tk);

/* --------------------------------------------------------- masked softmax */

/* Softmax of `scores` [..., Tq, Tk] (2 to 4 dimensions) along the last axis, over the
 * positions `mask` allows (the convention above; NULL allows all). For each row:
 * m = the maximum of the allowed scores, e_j = exp(s_j - m) for allowed j, and the
 * weight is e_j / sum(e), with e_j and the sum in double and the weight rounded once
 * to float; blocked positions get exactly 0.0f and take no part in m or the sum.
 * Every row sums to 1 (within rounding). Recorded (the module's op
 * "masked_softmax", inputs {scores, mask}); its backward is the softmax's,
 * dx = y * (g - sum(g * y)), which is 0 at blocked positions.
 * Errors: TT_ERR_SHAPE (scores with fewer than 2 dimensions; a mask that does not
 * broadcast to the scores' shape), TT_ERR_INVALID_ARG (a mask entry other than 0 or
 * 1, or a row with every key blocked, naming the position; NULL scores or out),
 * TT_ERR_NOMEM. */
tt_status tt_masked_softmax(tt_tensor **out, tt_tensor *scores, tt_tensor *mask);

/* ----------------------------------------------- scaled dot-product attention */

/* out = masked_softmax(matmul(q, k^T) * scale, mask) @ v with scale =
 * (float)(1 / sqrt(d)) computed in double: q [..., Tq, d], k [..., Tk, d],
 * v [..., Tk, dv] with 2 to 4 dimensions and equal leading dimensions; out is
 * [..., Tq, dv]. The product is scaled after the matmul (each score is
 * (q_i . k_j) * scale). When `weights` is not NULL it receives the attention weights
 * [..., Tq, Tk] (a new reference the caller frees; part of the graph when recorded).
 * Composed of recorded ops, so q, k and v all receive gradients.
 * Errors: TT_ERR_SHAPE (dimensions outside 2..4 or unequal, leading dimensions that
 * differ, q and k of different d, k and v of different Tk, a mask that does not
 * broadcast to [..., Tq, Tk]), the errors of tt_masked_softmax, TT_ERR_INVALID_ARG
 * (NULL q, k, v or out), TT_ERR_NOMEM. On error *weights is NULL too. */
tt_status tt_scaled_dot_product_attention(tt_tensor **out, tt_tensor **weights, tt_tensor *q,
                                          tt_tensor *k, tt_tensor *v, tt_tensor *mask);

/* ---------------------------------------------------------- splitting heads */

/* x [B, T, H * dh] seen as H heads: out [B, H, T, dh], a recorded view (reshape to
 * [B, T, H, dh] then transpose of dimensions 1 and 2; no copy when x is contiguous).
 * Errors: TT_ERR_SHAPE (x not 3-D), TT_ERR_INVALID_ARG (n_heads 0 or not dividing
 * x's last dimension; NULL), TT_ERR_NOMEM. */
tt_status tt_split_heads(tt_tensor **out, tt_tensor *x, size_t n_heads);

/* The inverse: x [B, H, T, dh] to out [B, T, H * dh] (transpose of dimensions 1 and 2,
 * then reshape, which copies the non-contiguous transpose). Recorded.
 * Errors: TT_ERR_SHAPE (x not 4-D), TT_ERR_INVALID_ARG (NULL), TT_ERR_NOMEM. */
tt_status tt_merge_heads(tt_tensor **out, tt_tensor *x);

/* -------------------------------------------------- multi-head attention layer */

/* Multi-head self-attention over x [B, T, d_model] with n_heads heads of size
 * dh = d_model / n_heads. Four projections, each a tt_linear_new(d_model, d_model,
 * bias true), made and drawn from rng in the order Wq, Wk, Wv, Wo (each W then b):
 *     q = split_heads(Wq(x)), k = split_heads(Wk(x)), v = split_heads(Wv(x))
 *     out = Wo(merge_heads(attention(q, k, v, mask)))
 * Parameters, in order: Wq.W, Wq.b, Wk.W, Wk.b, Wv.W, Wv.b, Wo.W, Wo.b.
 * Errors: TT_ERR_INVALID_ARG (a zero size, n_heads not dividing d_model, out or rng
 * NULL), TT_ERR_NOMEM. */
tt_status tt_mha_new(tt_layer **out, size_t d_model, size_t n_heads, tt_rng *rng);

/* out = mha(x) under `mask` (the convention above; it must broadcast to the scores
 * [B, n_heads, T, T]: a [T, T] mask such as tt_causal_mask(T, T) is usual; NULL
 * means no mask). tt_layer_forward(mha, &out, x) is this with mask NULL: a causal
 * model must pass its mask here. Errors: TT_ERR_SHAPE (x not [B, T, d_model], a mask
 * that does not fit), the errors of tt_masked_softmax, TT_ERR_INVALID_ARG (NULL, or
 * `mha` not made by tt_mha_new), TT_ERR_NOMEM. */
tt_status tt_mha_forward(tt_layer *mha, tt_tensor **out, tt_tensor *x, tt_tensor *mask);

/* Which projection of a multi-head attention layer. */
typedef enum tt_mha_proj {
    TT_MHA_QUERY = 0,
    TT_MHA_KEY = 1,
    TT_MHA_VALUE = 2,
    TT_MHA_OUTPUT = 3,
} tt_mha_proj;

/* Borrowed access to one projection (a Linear layer; tt_linear_weight and
 * tt_linear_bias read it), for code that runs attention step by step, such as a
 * KV-cache. NULL when `mha` is not a multi-head attention layer or `which` is unknown. */
tt_layer *tt_mha_projection(tt_layer *mha, tt_mha_proj which);

/* The number of heads (0 when `mha` is not a multi-head attention layer). */
size_t tt_mha_num_heads(const tt_layer *mha);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_ATTENTION_H */
