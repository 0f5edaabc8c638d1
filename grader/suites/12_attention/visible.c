/*
 * grader/suites/12_attention/visible.c: the visible checks of module 12 (attention).
 *
 * You can read this file: it is exactly what `tito` runs against your attention.c and
 * against the course's reference, on the same random inputs. Masks follow the one
 * convention of tinytorch/attention.h: 1 = may attend, 0 = may not (weight exactly 0).
 * Softmax weights get a reduction tolerance over the row's length; attention outputs
 * over the keys. Backward checks run the reference's tt_backward (module 05).
 */
#include <math.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"

static void backward_from(tito_probe *p, tt_tensor *y, tt_tensor *g)
{
    probe_tol_exact(p);
    probe_status(p, "backward_status",
                 y && y->grad_fn && tt_tensor_same_shape(y, g) ? tt_backward_with(y, g)
                                                               : TT_ERR_STATE);
}

static void case_causal_mask(tito_probe *p)
{
    tt_tensor *sq = NULL, *rect = NULL, *one = NULL;
    probe_note(p, "tt_causal_mask(4, 4): the lower triangle with its diagonal; (2, 5): query i "
                  "attends to keys 0..3+i; (1, 3): the one query attends to every key");
    probe_tol_exact(p);
    probe_status(p, "square_status", tt_causal_mask(&sq, 4, 4));
    probe_tensor(p, "square", sq);
    probe_status(p, "rect_status", tt_causal_mask(&rect, 2, 5));
    probe_tensor(p, "rect", rect);
    probe_status(p, "one_status", tt_causal_mask(&one, 1, 3));
    probe_tensor(p, "one", one);
    tt_tensor_free(one);
    tt_tensor_free(rect);
    tt_tensor_free(sq);
    sq = NULL;
    probe_note(p, "tq > tk, tq 0 -> TT_ERR_INVALID_ARG");
    probe_status(p, "tq_gt_tk", tt_causal_mask(&sq, 3, 2));
    probe_status(p, "tq_0", tt_causal_mask(&sq, 0, 2));
    probe_int(p, "out_is_null", sq == NULL);
}

static void case_masked_softmax(tito_probe *p)
{
    tt_tensor *s = probe_randn(p, 3, TT_SHAPE(2, 4, 4));
    tt_tensor *mask = NULL, *out = NULL, *plain = NULL;
    probe_note(p, "scores [2,4,4]; y = tt_masked_softmax(scores, causal mask [4,4]): blocked "
                  "positions exactly 0, rows sum to 1; and with mask NULL a plain softmax");
    probe_tol_exact(p);
    probe_status(p, "mask_status", tt_causal_mask(&mask, 4, 4));
    probe_status(p, "status", tt_masked_softmax(&out, s, mask));
    probe_status(p, "plain_status", tt_masked_softmax(&plain, s, NULL));
    probe_tol_reduction(p, 4);
    probe_tensor(p, "out", out);
    probe_tensor(p, "plain", plain);
    tt_tensor_free(plain);
    tt_tensor_free(out);
    tt_tensor_free(mask);
    tt_tensor_free(s);
}

static void case_masked_softmax_blocked_exact(tito_probe *p)
{
    float sd[4] = {1000.0f, -2.0f, 3.0f, 1e30f};
    float md[4] = {0, 1, 1, 0};
    tt_tensor *s = probe_from_data(p, 2, TT_SHAPE(1, 4), sd);
    tt_tensor *m = probe_from_data(p, 2, TT_SHAPE(1, 4), md);
    tt_tensor *out = NULL;
    probe_note(p, "scores [[1000, -2, 3, 1e30]], mask [[0,1,1,0]]: the blocked huge scores take "
                  "no part in the maximum or the sum: weights [0, e^-5/(1+e^-5), 1/(1+e^-5), 0]");
    probe_tol_exact(p);
    probe_status(p, "status", tt_masked_softmax(&out, s, m));
    probe_tol_elementwise(p);
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_tensor_free(m);
    tt_tensor_free(s);
}

static void case_masked_softmax_backward(tito_probe *p)
{
    tt_tensor *s = probe_randn(p, 2, TT_SHAPE(3, 3));
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(3, 3));
    tt_tensor *mask = NULL, *y = NULL;
    probe_note(p, "scores [3,3] requires grad; y = masked_softmax(scores, causal [3,3]); "
                  "backward of sum(g * y): dx = y * (g - sum(g * y)), 0 where blocked");
    probe_tol_exact(p);
    probe_status(p, "mask_status", tt_causal_mask(&mask, 3, 3));
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(s, true));
    probe_status(p, "forward_status", tt_masked_softmax(&y, s, mask));
    backward_from(p, y, g);
    probe_tol_reduction(p, 3);
    probe_tensor(p, "scores.grad", s->grad);
    tt_tensor_free(y);
    tt_tensor_free(mask);
    tt_tensor_free(g);
    tt_tensor_free(s);
}

static void case_masked_softmax_errors(tito_probe *p)
{
    tt_tensor *s = probe_randn(p, 2, TT_SHAPE(2, 3));
    float half[6] = {1, 0.5f, 1, 1, 1, 1}, none[6] = {1, 1, 1, 0, 0, 0};
    tt_tensor *m_half = probe_from_data(p, 2, TT_SHAPE(2, 3), half);
    tt_tensor *m_none = probe_from_data(p, 2, TT_SHAPE(2, 3), none);
    tt_tensor *m_shape = probe_from_data(p, 2, TT_SHAPE(3, 2), half);
    tt_tensor *v = probe_randn(p, 1, TT_SHAPE(3));
    tt_tensor *out = NULL;
    probe_note(p, "scores [2,3]: a mask entry 0.5, a row with every key blocked -> "
                  "TT_ERR_INVALID_ARG; a mask [3,2], scores 1-D -> TT_ERR_SHAPE");
    probe_tol_exact(p);
    probe_status(p, "entry_0.5", tt_masked_softmax(&out, s, m_half));
    probe_status(p, "row_all_blocked", tt_masked_softmax(&out, s, m_none));
    probe_status(p, "mask_shape", tt_masked_softmax(&out, s, m_shape));
    probe_status(p, "scores_1d", tt_masked_softmax(&out, v, NULL));
    probe_status(p, "scores_null", tt_masked_softmax(&out, NULL, NULL));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(v);
    tt_tensor_free(m_shape);
    tt_tensor_free(m_none);
    tt_tensor_free(m_half);
    tt_tensor_free(s);
}

static void case_sdpa(tito_probe *p)
{
    tt_tensor *q = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *k = probe_randn(p, 3, TT_SHAPE(2, 5, 4));
    tt_tensor *v = probe_randn(p, 3, TT_SHAPE(2, 5, 2));
    tt_tensor *mask = NULL, *out = NULL, *w = NULL;
    probe_note(p, "out = attention(q [2,3,4], k [2,5,4], v [2,5,2], causal mask (3, 5)): "
                  "softmax((q k^T) * (1/sqrt(4))) v; weights [2,3,5] too");
    probe_tol_exact(p);
    probe_status(p, "mask_status", tt_causal_mask(&mask, 3, 5));
    probe_status(p, "status", tt_scaled_dot_product_attention(&out, &w, q, k, v, mask));
    probe_tol_reduction(p, 5);
    probe_tensor(p, "weights", w);
    probe_tensor(p, "out", out);
    tt_tensor_free(w);
    tt_tensor_free(out);
    tt_tensor_free(mask);
    tt_tensor_free(v);
    tt_tensor_free(k);
    tt_tensor_free(q);
}

static void case_sdpa_backward(tito_probe *p)
{
    tt_tensor *q = probe_randn(p, 3, TT_SHAPE(1, 4, 3));
    tt_tensor *k = probe_randn(p, 3, TT_SHAPE(1, 4, 3));
    tt_tensor *v = probe_randn(p, 3, TT_SHAPE(1, 4, 3));
    tt_tensor *g = probe_randn(p, 3, TT_SHAPE(1, 4, 3));
    tt_tensor *mask = NULL, *y = NULL;
    probe_note(p, "q, k, v [1,4,3] requiring grad; y = attention(q, k, v, causal [4,4]); "
                  "backward of sum(g * y) reaches q, k and v");
    probe_tol_exact(p);
    probe_status(p, "mask_status", tt_causal_mask(&mask, 4, 4));
    probe_status(p, "q_requires_grad", tt_tensor_set_requires_grad(q, true));
    probe_status(p, "k_requires_grad", tt_tensor_set_requires_grad(k, true));
    probe_status(p, "v_requires_grad", tt_tensor_set_requires_grad(v, true));
    probe_status(p, "forward_status", tt_scaled_dot_product_attention(&y, NULL, q, k, v, mask));
    backward_from(p, y, g);
    probe_tol_reduction(p, 12);
    probe_tensor(p, "q.grad", q->grad);
    probe_tensor(p, "k.grad", k->grad);
    probe_tensor(p, "v.grad", v->grad);
    tt_tensor_free(y);
    tt_tensor_free(mask);
    tt_tensor_free(g);
    tt_tensor_free(v);
    tt_tensor_free(k);
    tt_tensor_free(q);
}

static void case_heads(tito_probe *p)
{
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 6));
    tt_tensor *h = NULL, *back = NULL;
    probe_note(p, "x [2,3,6]: split_heads(x, 2) is [2,2,3,3] (head h holds columns 3h..3h+2), "
                  "merge_heads of it gives x back; 4 heads do not divide 6; a 2-D x -> "
                  "TT_ERR_SHAPE");
    probe_tol_exact(p);
    probe_status(p, "split_status", tt_split_heads(&h, x, 2));
    probe_tensor(p, "heads", h);
    probe_status(p, "merge_status", h ? tt_merge_heads(&back, h) : TT_ERR_STATE);
    probe_tensor(p, "merged", back);
    tt_tensor_free(back);
    tt_tensor_free(h);
    h = NULL;
    tt_tensor *x2 = probe_randn(p, 2, TT_SHAPE(3, 6));
    probe_status(p, "split_4_heads", tt_split_heads(&h, x, 4));
    probe_status(p, "split_2d", tt_split_heads(&h, x2, 2));
    probe_status(p, "merge_3d", tt_merge_heads(&h, x));
    probe_int(p, "out_is_null", h == NULL);
    tt_tensor_free(x2);
    tt_tensor_free(x);
}

static void case_mha(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *mha = NULL;
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 4, 8));
    tt_tensor *g = probe_randn(p, 3, TT_SHAPE(2, 4, 8));
    tt_tensor *mask = NULL, *y = NULL;
    probe_note(p, "tt_mha_new(&mha, 8, 2 heads, rng): Wq, Wk, Wv, Wo drawn in that order; "
                  "y = tt_mha_forward(mha, x [2,4,8] requiring grad, causal [4,4]); backward of "
                  "sum(g * y) to x and Wq.W");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_mha_new(&mha, 8, 2, &rng));
    probe_int(p, "num_heads", (long)tt_mha_num_heads(mha));
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", mha ? tt_layer_parameters(mha, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    tt_layer *wq = mha ? tt_mha_projection(mha, TT_MHA_QUERY) : NULL;
    tt_layer *wo = mha ? tt_mha_projection(mha, TT_MHA_OUTPUT) : NULL;
    probe_tol_elementwise(p);
    probe_tensor(p, "Wq.W", wq ? tt_linear_weight(wq) : NULL);
    probe_tensor(p, "Wo.b", wo ? tt_linear_bias(wo) : NULL);
    probe_tol_exact(p);
    probe_status(p, "mask_status", tt_causal_mask(&mask, 4, 4));
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "forward_status", mha ? tt_mha_forward(mha, &y, x, mask) : TT_ERR_STATE);
    probe_tol_reduction(p, 32);
    probe_tensor(p, "out", y);
    backward_from(p, y, g);
    probe_tol_reduction(p, 64);
    probe_tensor(p, "x.grad", x->grad);
    probe_tensor(p, "Wq.W.grad", wq && tt_linear_weight(wq) ? tt_linear_weight(wq)->grad : NULL);
    tt_tensor_free(y);
    tt_tensor_free(mask);
    tt_layer_free(mha);
    mha = NULL;
    probe_tol_exact(p);
    probe_status(p, "heads_not_dividing", tt_mha_new(&mha, 8, 3, &rng));
    probe_status(p, "rng_null", tt_mha_new(&mha, 8, 2, NULL));
    probe_int(p, "out_is_null", mha == NULL);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static const tito_probe_case cases[] = {
    {"mask.causal", "masks", 2, case_causal_mask},
    {"softmax.masked", "softmax", 2, case_masked_softmax},
    {"softmax.blocked_exact", "softmax", 2, case_masked_softmax_blocked_exact},
    {"softmax.backward", "softmax", 2, case_masked_softmax_backward},
    {"softmax.errors", "errors", 1, case_masked_softmax_errors},
    {"attention.forward", "attention", 3, case_sdpa},
    {"attention.backward", "attention", 3, case_sdpa_backward},
    {"heads.split_merge", "heads", 2, case_heads},
    {"mha.forward_backward", "multihead", 3, case_mha},
};

TITO_PROBE_MAIN(cases)
