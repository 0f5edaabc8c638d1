/*
 * tinytorch/transformers.h: module 13, transformers.
 *
 * The parts of a small GPT and the model itself:
 *   LayerNorm        y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis
 *   MLP              Linear(d, h) -> GELU -> Linear(h, d)
 *   Block (pre-norm) h = x + attn(ln1(x), mask);  y = h + mlp(ln2(h))
 *   GPT              token embedding + positional embedding, n_layers blocks under the
 *                    causal mask, a final LayerNorm, and a Linear head to the vocabulary
 *
 * Masks follow THE MASK CONVENTION of tinytorch/attention.h (1 = may attend,
 * 0 = blocked, weight exactly 0); the GPT always uses tt_causal_mask(T, T), so the
 * logits at position t depend only on tokens 0..t, bit for bit.
 *
 * Token ids and targets are float tensors holding integers, as for
 * tt_embedding_lookup and tt_cross_entropy_loss. Ownership and errors follow
 * tinytorch/tensor.h and tinytorch/layers.h.
 */
#ifndef TINYTORCH_TRANSFORMERS_H
#define TINYTORCH_TRANSFORMERS_H

#include "tinytorch/attention.h"
#include "tinytorch/embeddings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default epsilon of LayerNorm. */
#define TT_LAYERNORM_EPS 1e-5f

/* ---------------------------------------------------------------- LayerNorm */

/* Normalise each row of x [..., D] (any 1 to 4 dimensions, any views) over its last
 * axis, then scale and shift: with mean = sum(x) / D and var = sum((x - mean)^2) / D
 * (the biased variance), both computed in double,
 *     y = (x - mean) / sqrt(var + eps) * gamma + beta
 * with gamma and beta of shape [D]. eps > 0 (finite). Recorded as one op of this
 * module ("layer_norm", inputs {x, gamma, beta}) whose backward carries the gradient
 * through the statistics: mean and var are functions of x, not constants, so
 *     dx = (gamma g - mean(gamma g) - xhat * mean(gamma g * xhat)) / sqrt(var + eps)
 * per row (xhat the normalised row), dgamma = sum over rows of g * xhat, dbeta = sum
 * over rows of g. Errors: TT_ERR_SHAPE (gamma or beta not [D], x a scalar),
 * TT_ERR_INVALID_ARG (eps not > 0 or not finite, NULL), TT_ERR_NOMEM. */
tt_status tt_layer_norm(tt_tensor **out, tt_tensor *x, tt_tensor *gamma, tt_tensor *beta,
                        float eps);

/* A LayerNorm layer over rows of `dim` values: gamma = ones [dim], beta = zeros [dim],
 * both requiring gradients (parameters in that order); no random draws. Its forward is
 * tt_layer_norm(&y, x, gamma, beta, eps), so x must end in dim (TT_ERR_SHAPE otherwise).
 * Errors: TT_ERR_INVALID_ARG (dim 0, eps not > 0 or not finite, out NULL), TT_ERR_NOMEM. */
tt_status tt_layernorm_new(tt_layer **out, size_t dim, float eps);

/* Borrowed access to gamma and beta (NULL when `layer` is not a LayerNorm). */
tt_tensor *tt_layernorm_gamma(tt_layer *layer);
tt_tensor *tt_layernorm_beta(tt_layer *layer);

/* ---------------------------------------------------------------------- MLP */

/* The position-wise feed-forward block: fc1 = tt_linear_new(d_model, d_hidden, bias),
 * then fc2 = tt_linear_new(d_hidden, d_model, bias), drawn in that order; forward
 * fc2(gelu(fc1(x))) for x [..., d_model]. Parameters: fc1.W, fc1.b, fc2.W, fc2.b.
 * Errors: TT_ERR_INVALID_ARG (a zero size, out or rng NULL), TT_ERR_NOMEM. */
tt_status tt_mlp_new(tt_layer **out, size_t d_model, size_t d_hidden, tt_rng *rng);

/* Borrowed access to fc1 (index 0) and fc2 (index 1); NULL otherwise. */
tt_layer *tt_mlp_linear(tt_layer *mlp, size_t index);

/* -------------------------------------------------------- transformer block */

/* A pre-norm transformer block: ln1 = LayerNorm(d_model), attn = tt_mha_new(d_model,
 * n_heads), ln2 = LayerNorm(d_model), mlp = tt_mlp_new(d_model, d_hidden), made (and
 * drawn from rng) in that order, LayerNorms with TT_LAYERNORM_EPS. Parameters: ln1's,
 * attn's, ln2's, mlp's, each in its own order.
 * Errors: TT_ERR_INVALID_ARG (a zero size, n_heads not dividing d_model, out or rng
 * NULL), TT_ERR_NOMEM. */
tt_status tt_block_new(tt_layer **out, size_t d_model, size_t n_heads, size_t d_hidden,
                       tt_rng *rng);

/* out = block(x) for x [B, T, d_model] under `mask` (tinytorch/attention.h; NULL: no
 * mask):  h = x + attn(ln1(x), mask),  out = h + mlp(ln2(h)).
 * tt_layer_forward(block, &out, x) is this with mask NULL. Errors: those of the parts
 * (TT_ERR_SHAPE for x or mask), TT_ERR_INVALID_ARG (NULL, `block` not a block). */
tt_status tt_block_forward(tt_layer *block, tt_tensor **out, tt_tensor *x, tt_tensor *mask);

/* The parts of a block, borrowed (NULL when `block` is not a block). */
typedef enum tt_block_part {
    TT_BLOCK_LN1 = 0,
    TT_BLOCK_ATTN = 1,
    TT_BLOCK_LN2 = 2,
    TT_BLOCK_MLP = 3,
} tt_block_part;

tt_layer *tt_block_part_of(tt_layer *block, tt_block_part part);

/* ---------------------------------------------------------------------- GPT */

typedef struct tt_gpt_config {
    size_t vocab_size;  /* V: token ids are 0 .. V-1 */
    size_t context_len; /* the most positions one forward sees (the positional table) */
    size_t d_model;     /* D */
    size_t n_heads;     /* must divide d_model */
    size_t n_layers;    /* number of blocks */
    size_t d_hidden;    /* the MLP's hidden width (usually 4 * d_model) */
} tt_gpt_config;

/* A GPT. Made, and drawn from rng, in this order: the token embedding
 * tt_embedding_new(V, D), the positional embedding tt_pos_embedding_new(context_len,
 * D), n_layers blocks tt_block_new(D, n_heads, d_hidden), the final
 * tt_layernorm_new(D, TT_LAYERNORM_EPS), and the head tt_linear_new(D, V, bias true).
 * Parameters, in that order (tt_layer_parameters), e.g. for one block:
 *     tok.W  pos.P  ln1.gamma ln1.beta  Wq.W Wq.b Wk.W Wk.b Wv.W Wv.b Wo.W Wo.b
 *     ln2.gamma ln2.beta  fc1.W fc1.b fc2.W fc2.b  lnf.gamma lnf.beta  head.W head.b
 * The config is copied. Errors: TT_ERR_INVALID_ARG (config, out or rng NULL, a zero
 * size, n_heads not dividing d_model), TT_ERR_NOMEM. */
tt_status tt_gpt_new(tt_layer **out, const tt_gpt_config *config, tt_rng *rng);

/* tt_layer_forward(gpt, &logits, ids): ids [B, T] (or [T], treated as [1, T]) with
 * 1 <= T <= context_len gives logits [B, T, V] (or [T, V]):
 *     x = pos(tok(ids));  x = block_i(x, causal mask [T, T]) for each block;
 *     logits = head(lnf(x))
 * Forward errors: TT_ERR_SHAPE (ids not 1-D or 2-D, T > context_len naming both),
 * TT_ERR_RANGE (an id outside [0, V), from the lookup). */

/* The config the model was made with (NULL when `gpt` is not a GPT). */
const tt_gpt_config *tt_gpt_config_of(const tt_layer *gpt);

/* The parts of a GPT, borrowed (NULL when `gpt` is not a GPT, or index >= n_layers). */
typedef enum tt_gpt_part {
    TT_GPT_TOKEN_EMBEDDING = 0,
    TT_GPT_POSITION_EMBEDDING = 1,
    TT_GPT_FINAL_NORM = 2,
    TT_GPT_HEAD = 3,
} tt_gpt_part;

tt_layer *tt_gpt_part_of(tt_layer *gpt, tt_gpt_part part);
tt_layer *tt_gpt_block(tt_layer *gpt, size_t index);

/* ---------------------------------------------------------------- the loss */

/* The language-model loss: logits [B, T, V] and targets [B, T] (or [T, V] and [T]),
 * the mean cross-entropy over all B*T positions, i.e. tt_cross_entropy_loss on the
 * logits reshaped to [B*T, V] and the targets to [B*T]. Recorded.
 * Errors: TT_ERR_SHAPE (shapes that do not pair up), TT_ERR_RANGE (a target outside
 * [0, V)), TT_ERR_INVALID_ARG (NULL), TT_ERR_NOMEM. */
tt_status tt_lm_loss(tt_tensor **out, tt_tensor *logits, tt_tensor *targets);

/* loss = tt_lm_loss(gpt(ids), targets) for ids and targets of the same shape; when
 * `logits` is not NULL it also receives the logits (the caller frees them).
 * Errors: those of the forward and of tt_lm_loss (a targets shape other than ids'
 * is TT_ERR_SHAPE); on error *loss (and *logits) are NULL. */
tt_status tt_gpt_loss(tt_layer *gpt, tt_tensor **loss, tt_tensor **logits, tt_tensor *ids,
                      tt_tensor *targets);

/* ------------------------------------------------------------- generation */

/* Choose the next token from one row of logits (n = V values):
 *   temperature 0: the index of the first maximum (no draw; rng may be NULL);
 *   temperature > 0: p_j = exp((z_j - max) / temperature) / sum, in double; ONE draw
 *     u = tt_rng_uniform(rng); the token is the first j whose running sum
 *     p_0 + ... + p_j exceeds u (when rounding leaves none, the last j with p_j > 0).
 * Errors: TT_ERR_INVALID_ARG (temperature negative, nan or inf; n 0; NULL token or
 * logits; rng NULL with temperature > 0). Nothing is drawn on error. */
tt_status tt_sample_token(size_t *token, const float *logits, size_t n, float temperature,
                          tt_rng *rng);

/* Autoregressive generation without a cache: out = prompt followed by n_new tokens.
 * prompt is [T0] (out [T0 + n_new]) or [B, T0] (out [B, T0 + n_new]), T0 >= 1. Each
 * step runs the model (gradients off, the previous setting restored) on the last
 * min(length, context_len) tokens of every row and picks each row's next token from
 * its last position's logits with tt_sample_token. Draw order: step by step, and
 * within a step row 0, 1, ..., B-1; one draw per token (none at temperature 0). The
 * same seed gives the same tokens. n_new 0 returns a copy of the prompt.
 * Errors: those of tt_sample_token and of the forward (TT_ERR_RANGE for a prompt id),
 * TT_ERR_SHAPE (prompt not 1-D or 2-D), TT_ERR_INVALID_ARG (NULL, `gpt` not a GPT),
 * TT_ERR_NOMEM. */
tt_status tt_gpt_generate(tt_layer *gpt, tt_tensor **out, tt_tensor *prompt, size_t n_new,
                          float temperature, tt_rng *rng);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_TRANSFORMERS_H */
