/*
 * grader/suites/13_transformers/hidden.c: the hidden checks of module 13
 * (transformers).
 *
 * Students see only each case's category and verdict. Every check follows from
 * tinytorch/transformers.h: LayerNorm of 1-D and strided inputs, a constant row
 * (variance 0), the LM loss of 2-D logits, batched generation's draw order.
 */
#include <stdint.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/transformers.h"

static void case_layer_norm_shapes(tito_probe *p)
{
    tt_tensor *v = probe_randn(p, 1, TT_SHAPE(7));
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(5, 3));
    float cd[4] = {2, 2, 2, 2};
    tt_tensor *c = probe_from_data(p, 2, TT_SHAPE(1, 4), cd);
    tt_tensor *g7 = probe_uniform(p, 1, TT_SHAPE(7), 0.5f, 1.5f);
    tt_tensor *b7 = probe_randn(p, 1, TT_SHAPE(7));
    tt_tensor *g5 = probe_uniform(p, 1, TT_SHAPE(5), 0.5f, 1.5f);
    tt_tensor *b5 = probe_randn(p, 1, TT_SHAPE(5));
    tt_tensor *g4 = probe_uniform(p, 1, TT_SHAPE(4), 0.5f, 1.5f);
    tt_tensor *b4 = probe_randn(p, 1, TT_SHAPE(4));
    tt_tensor *t = NULL, *o1 = NULL, *o2 = NULL, *o3 = NULL;
    probe_note(p, "layer_norm of a 1-D x [7], of a transposed view [3,5], of a constant row "
                  "(variance 0: beta)");
    probe_tol_exact(p);
    probe_status(p, "1d_status", tt_layer_norm(&o1, v, g7, b7, 1e-5f));
    probe_status(p, "transpose_status", tt_tensor_transpose(&t, base, 0, 1));
    probe_status(p, "view_status", tt_layer_norm(&o2, t, g5, b5, 1e-5f));
    probe_status(p, "constant_status", tt_layer_norm(&o3, c, g4, b4, 1e-5f));
    probe_tol_reduction(p, 7);
    probe_tensor(p, "1d", o1);
    probe_tensor(p, "view", o2);
    probe_tensor(p, "constant", o3);
    tt_tensor_free(o3);
    tt_tensor_free(o2);
    tt_tensor_free(o1);
    tt_tensor_free(t);
    tt_tensor_free(b4);
    tt_tensor_free(g4);
    tt_tensor_free(b5);
    tt_tensor_free(g5);
    tt_tensor_free(b7);
    tt_tensor_free(g7);
    tt_tensor_free(c);
    tt_tensor_free(base);
    tt_tensor_free(v);
}

static void case_lm_loss_2d(tito_probe *p)
{
    tt_tensor *logits = probe_randn(p, 2, TT_SHAPE(5, 7));
    float td[5] = {0, 6, 3, 3, 1};
    tt_tensor *targets = probe_from_data(p, 1, TT_SHAPE(5), td);
    float bd[5] = {0, 7, 3, 3, 1};
    tt_tensor *bad = probe_from_data(p, 1, TT_SHAPE(5), bd);
    tt_tensor *loss = NULL;
    probe_note(p, "tt_lm_loss(logits [5,7], targets [5]); a target 7 -> TT_ERR_RANGE");
    probe_tol_exact(p);
    probe_status(p, "status", tt_lm_loss(&loss, logits, targets));
    probe_tol_reduction(p, 35);
    probe_tensor(p, "loss", loss);
    tt_tensor_free(loss);
    loss = NULL;
    probe_tol_exact(p);
    probe_status(p, "target_range", tt_lm_loss(&loss, logits, bad));
    probe_int(p, "out_is_null", loss == NULL);
    tt_tensor_free(bad);
    tt_tensor_free(targets);
    tt_tensor_free(logits);
}

static void case_generate_batched(tito_probe *p)
{
    static const tt_gpt_config cfg = {.vocab_size = 7, .context_len = 4, .d_model = 4,
                                      .n_heads = 1, .n_layers = 1, .d_hidden = 8};
    tt_rng init, rng;
    tt_rng_init(&init, tt_rng_next_u32(probe_rng(p)));
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    float pd[4] = {1, 2, 5, 6};
    tt_tensor *prompt = probe_from_data(p, 2, TT_SHAPE(2, 2), pd);
    tt_layer *gpt = NULL;
    tt_tensor *out = NULL;
    probe_note(p, "tt_gpt_generate with a [2,2] prompt, 4 new tokens at temperature 0.8: draws "
                  "step by step, row 0 then row 1");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_gpt_new(&gpt, &cfg, &init));
    probe_status(p, "status", gpt ? tt_gpt_generate(gpt, &out, prompt, 4, 0.8f, &rng)
                                  : TT_ERR_STATE);
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_layer_free(gpt);
    tt_tensor_free(prompt);
}

static const tito_probe_case cases[] = {
    {"layernorm.shapes", "layernorm", 2, case_layer_norm_shapes},
    {"loss.lm_2d", "gpt", 1, case_lm_loss_2d},
    {"generate.batched", "generation", 2, case_generate_batched},
};

TITO_PROBE_MAIN(cases)
