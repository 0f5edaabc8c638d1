/*
 * tinytorch/embeddings.h: module 11, embeddings.
 *
 * A token id is a row number: an embedding table W [num_embeddings, dim] turns a
 * tensor of ids into the rows it names. Ids are stored in float tensors, like the
 * class targets of tt_cross_entropy_loss: each must be an integer in
 * [0, num_embeddings). The lookup is differentiable in W (never in the ids): its
 * backward adds each row of the output gradient into the row of W it was read from,
 * so a row read twice gets both contributions and a row never read gets nothing.
 *
 * Transformers also need to know where a token sits. Two ways are given here: a
 * learned positional embedding (a second table, one row per position, added to the
 * token embeddings) and the fixed sinusoidal encoding (a formula, no parameters).
 *
 * Ownership and errors follow tinytorch/tensor.h and tinytorch/layers.h: results are
 * new tensors or layers owned by the caller; on error *out is NULL, tt_error_last()
 * says what was wrong, and nothing leaks.
 */
#ifndef TINYTORCH_EMBEDDINGS_H
#define TINYTORCH_EMBEDDINGS_H

#include "tinytorch/layers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------- lookup */

/* out[p, :] = weight[ids[p], :] for every position p of ids: weight is [V, D] (2-D),
 * ids has 1 to 3 dimensions, out has ids' shape followed by D ([B,T] ids give
 * [B,T,D]). Any views are accepted. Recorded (the module's own op "embedding", with
 * inputs {weight, ids}); its backward accumulates into weight's gradient only the
 * rows that were read, each as the sum of the output-gradient rows that read it.
 * Errors: TT_ERR_RANGE for an id that is not an integer in [0, V) (nan, 2.5, -1, V),
 * naming the first such position, e.g. "tt_embedding_lookup: id 12 at position [1,3]
 * is outside [0, 10)"; TT_ERR_SHAPE (weight not 2-D, ids of 0 or 4 dimensions);
 * TT_ERR_INVALID_ARG (NULL), TT_ERR_NOMEM. */
tt_status tt_embedding_lookup(tt_tensor **out, tt_tensor *weight, tt_tensor *ids);

/* ------------------------------------------------------------ Embedding layer */

/* A layer holding W [num_embeddings, dim], drawn from normal(0, 1) exactly as
 * tt_tensor_randn(&w, 2, {num_embeddings, dim}, 0, 1, rng) does (one draw per element,
 * row-major). W requires a gradient. Its forward, tt_layer_forward(emb, &y, ids), is
 * tt_embedding_lookup(&y, W, ids); its parameter list is {W}.
 * Errors: TT_ERR_INVALID_ARG (a zero size, out or rng NULL), TT_ERR_NOMEM. */
tt_status tt_embedding_new(tt_layer **out, size_t num_embeddings, size_t dim, tt_rng *rng);

/* Borrowed access to an Embedding's table (NULL when `layer` is not one). */
tt_tensor *tt_embedding_weight(tt_layer *layer);

/* ------------------------------------------------- learned positional embedding */

/* A layer holding P [max_len, dim] (one learned row per position), drawn from
 * normal(0, 1) as tt_embedding_new draws its table. Its forward takes x [..., T, dim]
 * (2 to 4 dimensions) and returns x + P[0:T] (P's first T rows, broadcast over the
 * leading dimensions): token t of every sequence gets row t. Composed of recorded ops
 * (a slice of P and a broadcasting add), so P and x both receive gradients; rows of
 * P at positions >= T get none. Parameter list {P}.
 * Forward errors: TT_ERR_SHAPE when x has fewer than 2 dimensions, a last dimension
 * other than dim, or T > max_len (naming T and max_len).
 * Errors: TT_ERR_INVALID_ARG (a zero size, out or rng NULL), TT_ERR_NOMEM. */
tt_status tt_pos_embedding_new(tt_layer **out, size_t max_len, size_t dim, tt_rng *rng);

/* Borrowed access to a positional embedding's table P (NULL when `layer` is not one). */
tt_tensor *tt_pos_embedding_weight(tt_layer *layer);

/* -------------------------------------------------- sinusoidal positional encoding */

/* The fixed encoding PE [seq_len, dim] of the original transformer: for position t and
 * i = 0, 1, ..., with the frequency w_i = 10000^(-2i / dim),
 *     PE[t, 2i]     = sin(t * w_i)
 *     PE[t, 2i + 1] = cos(t * w_i)
 * (an odd dim ends with a sine column). Computed in double (w_i as
 * pow(10000, -(double)(2i) / dim), then the angle t * w_i, then sin or cos) and
 * rounded once to float. Row 0 is [0, 1, 0, 1, ...]. Not recorded, no gradient.
 * Errors: TT_ERR_INVALID_ARG (seq_len or dim 0, out NULL), TT_ERR_NOMEM. */
tt_status tt_sinusoidal_encoding(tt_tensor **out, size_t seq_len, size_t dim);

/* A layer with no parameters that adds the sinusoidal encoding: its forward takes
 * x [..., T, dim] and returns x + PE[0:T], with PE = tt_sinusoidal_encoding(max_len,
 * dim) computed once at construction. Gradients flow to x. Forward errors as for
 * tt_pos_embedding_new. Errors: TT_ERR_INVALID_ARG (a zero size, out NULL), TT_ERR_NOMEM. */
tt_status tt_sinusoidal_new(tt_layer **out, size_t max_len, size_t dim);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_EMBEDDINGS_H */
