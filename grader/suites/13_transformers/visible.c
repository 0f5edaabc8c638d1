/*
 * grader/suites/13_transformers/visible.c: the visible checks of module 13
 * (transformers).
 *
 * You can read this file: it is exactly what `tito` runs against your transformers.c
 * and against the course's reference, on the same random inputs. LayerNorm's backward
 * is checked through the reference's tt_backward (module 05): the statistics are
 * functions of x, so a backward that treats them as constants fails x.grad. Models are
 * tiny (d_model 8) so that every value can be compared.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/transformers.h"

static void backward_from(tito_probe *p, tt_tensor *y, tt_tensor *g)
{
    probe_tol_exact(p);
    probe_status(p, "backward_status",
                 y && y->grad_fn && tt_tensor_same_shape(y, g) ? tt_backward_with(y, g)
                                                               : TT_ERR_STATE);
}

static tt_tensor *random_ids(tito_probe *p, int ndim, const size_t *shape, uint32_t v)
{
    float data[64];
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    for (size_t i = 0; i < n && i < 64; i++)
        data[i] = (float)(tt_rng_next_u32(probe_rng(p)) % v);
    return probe_from_data(p, ndim, shape, data);
}

static const tt_gpt_config tiny = {
    .vocab_size = 11, .context_len = 6, .d_model = 8, .n_heads = 2, .n_layers = 2,
    .d_hidden = 16,
};

static void case_layer_norm(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 5));
    tt_tensor *gamma = probe_uniform(p, 1, TT_SHAPE(5), 0.5f, 1.5f);
    tt_tensor *beta = probe_randn(p, 1, TT_SHAPE(5));
    tt_tensor *out = NULL;
    probe_note(p, "y = tt_layer_norm(x [2,3,5], gamma [5], beta [5], 1e-5): each row of 5 "
                  "normalised with its mean and biased variance (in double)");
    probe_tol_exact(p);
    probe_status(p, "status", tt_layer_norm(&out, x, gamma, beta, 1e-5f));
    probe_tol_reduction(p, 5);
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_tensor_free(beta);
    tt_tensor_free(gamma);
    tt_tensor_free(x);
}

static void case_layer_norm_backward(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 6));
    tt_tensor *gamma = probe_uniform(p, 1, TT_SHAPE(6), 0.5f, 1.5f);
    tt_tensor *beta = probe_randn(p, 1, TT_SHAPE(6));
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(4, 6));
    tt_tensor *y = NULL;
    probe_note(p, "x [4,6], gamma, beta [6] requiring grad; y = layer_norm(x); backward of "
                  "sum(g * y): dx = (gamma g - mean(gamma g) - xhat mean(gamma g xhat)) / "
                  "sqrt(var + eps) per row (mean and var depend on x); dgamma = sum of g xhat, "
                  "dbeta = sum of g");
    probe_tol_exact(p);
    probe_status(p, "x_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "gamma_requires_grad", tt_tensor_set_requires_grad(gamma, true));
    probe_status(p, "beta_requires_grad", tt_tensor_set_requires_grad(beta, true));
    probe_status(p, "forward_status", tt_layer_norm(&y, x, gamma, beta, 1e-5f));
    backward_from(p, y, g);
    probe_tol_reduction(p, 6);
    probe_tensor(p, "x.grad", x->grad);
    probe_tensor(p, "gamma.grad", gamma->grad);
    probe_tensor(p, "beta.grad", beta->grad);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(beta);
    tt_tensor_free(gamma);
    tt_tensor_free(x);
}

static void case_layer_norm_errors(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(2, 4));
    tt_tensor *g4 = probe_randn(p, 1, TT_SHAPE(4));
    tt_tensor *g3 = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *out = NULL;
    tt_layer *ln = NULL;
    probe_note(p, "gamma [3] for rows of 4 -> TT_ERR_SHAPE; eps 0 or NaN, NULL x -> "
                  "TT_ERR_INVALID_ARG; tt_layernorm_new with dim 0 -> TT_ERR_INVALID_ARG");
    probe_tol_exact(p);
    probe_status(p, "gamma_shape", tt_layer_norm(&out, x, g3, g4, 1e-5f));
    probe_status(p, "eps_0", tt_layer_norm(&out, x, g4, g4, 0.0f));
    probe_status(p, "eps_nan", tt_layer_norm(&out, x, g4, g4, NAN));
    probe_status(p, "x_null", tt_layer_norm(&out, NULL, g4, g4, 1e-5f));
    probe_status(p, "layernorm_new_dim_0", tt_layernorm_new(&ln, 0, 1e-5f));
    probe_int(p, "out_is_null", out == NULL && ln == NULL);
    tt_tensor_free(g3);
    tt_tensor_free(g4);
    tt_tensor_free(x);
}

static void case_layernorm_layer(tito_probe *p)
{
    tt_layer *ln = NULL;
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(1, 2, 4));
    tt_tensor *y = NULL;
    probe_note(p, "tt_layernorm_new(&ln, 4, 1e-5): gamma ones, beta zeros, two parameters; "
                  "forward of x [1,2,4]");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_layernorm_new(&ln, 4, 1e-5f));
    probe_tensor(p, "gamma", ln ? tt_layernorm_gamma(ln) : NULL);
    probe_tensor(p, "beta", ln ? tt_layernorm_beta(ln) : NULL);
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", ln ? tt_layer_parameters(ln, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    probe_status(p, "forward_status", ln ? tt_layer_forward(ln, &y, x) : TT_ERR_STATE);
    probe_tol_reduction(p, 4);
    probe_tensor(p, "out", y);
    tt_tensor_free(y);
    tt_layer_free(ln);
    tt_tensor_free(x);
}

static void case_mlp(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *mlp = NULL;
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *y = NULL;
    probe_note(p, "tt_mlp_new(&mlp, 4, 8, rng): fc1 then fc2 drawn; y = fc2(gelu(fc1(x))) for "
                  "x [2,3,4]; four parameters");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_mlp_new(&mlp, 4, 8, &rng));
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", mlp ? tt_layer_parameters(mlp, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    tt_layer *fc2 = mlp ? tt_mlp_linear(mlp, 1) : NULL;
    probe_tol_elementwise(p);
    probe_tensor(p, "fc2.W", fc2 ? tt_linear_weight(fc2) : NULL);
    probe_tol_exact(p);
    probe_status(p, "forward_status", mlp ? tt_layer_forward(mlp, &y, x) : TT_ERR_STATE);
    probe_tol_reduction(p, 12);
    probe_tensor(p, "out", y);
    tt_tensor_free(y);
    tt_layer_free(mlp);
    tt_tensor_free(x);
}

static void case_block(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *block = NULL;
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 4, 8));
    tt_tensor *g = probe_randn(p, 3, TT_SHAPE(2, 4, 8));
    tt_tensor *mask = NULL, *y = NULL;
    probe_note(p, "tt_block_new(&block, 8, 2 heads, 16, rng): ln1, attn, ln2, mlp drawn in "
                  "that order; y = block(x [2,4,8] requiring grad, causal [4,4]): h = x + "
                  "attn(ln1(x)), y = h + mlp(ln2(h)); backward of sum(g * y) to x");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_block_new(&block, 8, 2, 16, &rng));
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status",
                 block ? tt_layer_parameters(block, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    probe_status(p, "mask_status", tt_causal_mask(&mask, 4, 4));
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "forward_status",
                 block ? tt_block_forward(block, &y, x, mask) : TT_ERR_STATE);
    probe_tol_reduction(p, 64);
    probe_tensor(p, "out", y);
    backward_from(p, y, g);
    probe_tol_reduction(p, 128);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    tt_tensor_free(mask);
    tt_layer_free(block);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_gpt_forward(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *gpt = NULL;
    tt_tensor *ids = random_ids(p, 2, TT_SHAPE(2, 5), 11);
    tt_tensor *logits = NULL;
    probe_note(p, "tt_gpt_new(V 11, context 6, d 8, 2 heads, 2 layers, hidden 16); logits = "
                  "gpt(ids [2,5]): [2,5,11] (causal: position t sees tokens 0..t)");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_gpt_new(&gpt, &tiny, &rng));
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", gpt ? tt_layer_parameters(gpt, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    probe_int(p, "n_values", (long)tt_params_numel(&params));
    tt_params_release(&params);
    probe_status(p, "forward_status", gpt ? tt_layer_forward(gpt, &logits, ids) : TT_ERR_STATE);
    probe_tol(p, 1e-4, 1e-3);
    probe_tensor(p, "logits", logits);
    tt_tensor_free(logits);
    tt_layer_free(gpt);
    tt_tensor_free(ids);
}

static void case_gpt_loss_backward(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *gpt = NULL;
    tt_tensor *ids = random_ids(p, 2, TT_SHAPE(2, 4), 11);
    tt_tensor *targets = random_ids(p, 2, TT_SHAPE(2, 4), 11);
    tt_tensor *loss = NULL;
    probe_note(p, "loss = tt_gpt_loss(gpt, ids [2,4], targets [2,4]) (the mean cross-entropy "
                  "over 8 positions); tt_backward(loss) reaches the token table and the head");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_gpt_new(&gpt, &tiny, &rng));
    probe_status(p, "loss_status",
                 gpt ? tt_gpt_loss(gpt, &loss, NULL, ids, targets) : TT_ERR_STATE);
    probe_tol(p, 1e-4, 1e-3);
    probe_tensor(p, "loss", loss);
    probe_tol_exact(p);
    probe_status(p, "backward_status", loss && loss->grad_fn ? tt_backward(loss) : TT_ERR_STATE);
    tt_layer *head = gpt ? tt_gpt_part_of(gpt, TT_GPT_HEAD) : NULL;
    tt_layer *tok = gpt ? tt_gpt_part_of(gpt, TT_GPT_TOKEN_EMBEDDING) : NULL;
    tt_tensor *hw = head ? tt_linear_weight(head) : NULL;
    tt_tensor *tw = tok ? tt_embedding_weight(tok) : NULL;
    probe_tol(p, 1e-4, 1e-3);
    probe_tensor(p, "head.W.grad", hw ? hw->grad : NULL);
    probe_tensor(p, "tok.W.grad", tw ? tw->grad : NULL);
    tt_tensor_free(loss);
    tt_layer_free(gpt);
    tt_tensor_free(targets);
    tt_tensor_free(ids);
}

static void case_sample_token(tito_probe *p)
{
    float logits[5] = {0.5f, 2.0f, 2.0f, -1.0f, 1.0f};
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    size_t tok = 99;
    probe_note(p, "tt_sample_token of [0.5, 2, 2, -1, 1]: temperature 0 gives the first maximum "
                  "(1); temperature 1 draws 8 tokens, one uniform draw each; errors: negative "
                  "temperature, n 0, rng NULL with temperature > 0");
    probe_tol_exact(p);
    probe_status(p, "greedy_status", tt_sample_token(&tok, logits, 5, 0.0f, NULL));
    probe_int(p, "greedy", (long)tok);
    for (int i = 0; i < 8; i++) {
        probe_status(p, "sample_status", tt_sample_token(&tok, logits, 5, 1.0f, &rng));
        probe_int(p, "sample", (long)tok);
    }
    probe_status(p, "negative_temperature", tt_sample_token(&tok, logits, 5, -1.0f, &rng));
    probe_status(p, "n_0", tt_sample_token(&tok, logits, 0, 1.0f, &rng));
    probe_status(p, "rng_null", tt_sample_token(&tok, logits, 5, 1.0f, NULL));
}

static void case_generate(tito_probe *p)
{
    tt_rng init, rng;
    tt_rng_init(&init, tt_rng_next_u32(probe_rng(p)));
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *gpt = NULL;
    float pd[3] = {1, 4, 7};
    tt_tensor *prompt = probe_from_data(p, 1, TT_SHAPE(3), pd);
    tt_tensor *greedy = NULL, *sampled = NULL;
    probe_note(p, "tt_gpt_generate(gpt, prompt [1,4,7], 5 new tokens): greedy (temperature 0), "
                  "then sampled at temperature 1 (one draw per token); the window is the last "
                  "6 tokens once the sequence is longer than the context");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_gpt_new(&gpt, &tiny, &init));
    probe_status(p, "greedy_status",
                 gpt ? tt_gpt_generate(gpt, &greedy, prompt, 5, 0.0f, NULL) : TT_ERR_STATE);
    probe_tensor(p, "greedy", greedy);
    probe_status(p, "sampled_status",
                 gpt ? tt_gpt_generate(gpt, &sampled, prompt, 5, 1.0f, &rng) : TT_ERR_STATE);
    probe_tensor(p, "sampled", sampled);
    probe_int(p, "grad_mode_restored", tt_grad_is_enabled());
    tt_tensor_free(sampled);
    tt_tensor_free(greedy);
    tt_layer_free(gpt);
    tt_tensor_free(prompt);
}

static void case_gpt_errors(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *gpt = NULL;
    tt_gpt_config bad = tiny;
    bad.n_heads = 3;
    tt_tensor *long_ids = random_ids(p, 2, TT_SHAPE(1, 7), 11);
    float od[2] = {3, 11};
    tt_tensor *out_of_range = probe_from_data(p, 2, TT_SHAPE(1, 2), od);
    tt_tensor *logits = NULL;
    probe_note(p, "tt_gpt_new with 3 heads for d 8 -> TT_ERR_INVALID_ARG; forward of 7 tokens "
                  "with context 6 -> TT_ERR_SHAPE; of id 11 with V 11 -> TT_ERR_RANGE");
    probe_tol_exact(p);
    probe_status(p, "heads_not_dividing", tt_gpt_new(&gpt, &bad, &rng));
    probe_int(p, "out_is_null", gpt == NULL);
    probe_status(p, "new_status", tt_gpt_new(&gpt, &tiny, &rng));
    probe_status(p, "too_long", gpt ? tt_layer_forward(gpt, &logits, long_ids) : TT_ERR_STATE);
    probe_status(p, "id_range",
                 gpt ? tt_layer_forward(gpt, &logits, out_of_range) : TT_ERR_STATE);
    probe_int(p, "logits_is_null", logits == NULL);
    tt_layer_free(gpt);
    tt_tensor_free(out_of_range);
    tt_tensor_free(long_ids);
}

static const tito_probe_case cases[] = {
    {"layernorm.forward", "layernorm", 2, case_layer_norm},
    {"layernorm.backward", "layernorm", 3, case_layer_norm_backward},
    {"layernorm.errors", "errors", 1, case_layer_norm_errors},
    {"layernorm.layer", "layernorm", 1, case_layernorm_layer},
    {"mlp.forward", "blocks", 2, case_mlp},
    {"block.forward_backward", "blocks", 3, case_block},
    {"gpt.forward", "gpt", 3, case_gpt_forward},
    {"gpt.loss_backward", "gpt", 3, case_gpt_loss_backward},
    {"gpt.errors", "errors", 1, case_gpt_errors},
    {"generate.sample_token", "generation", 2, case_sample_token},
    {"generate.gpt", "generation", 2, case_generate},
};

TITO_PROBE_MAIN(cases)
