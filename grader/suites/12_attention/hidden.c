/*
 * grader/suites/12_attention/hidden.c: the hidden checks of module 12 (attention).
 *
 * Students see only each case's category and verdict. Every check follows from
 * tinytorch/attention.h: broadcast padding masks [B,1,1,Tk], 4-D attention, weights
 * with a NULL mask, the MHA layer's forward without a mask.
 */
#include <math.h>

#include "probe.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"

static void case_padding_mask_4d(tito_probe *p)
{
    tt_tensor *q = probe_randn(p, 4, TT_SHAPE(2, 2, 3, 4));
    tt_tensor *k = probe_randn(p, 4, TT_SHAPE(2, 2, 3, 4));
    tt_tensor *v = probe_randn(p, 4, TT_SHAPE(2, 2, 3, 2));
    float md[6] = {1, 1, 0, 1, 0, 1};
    tt_tensor *mask = probe_from_data(p, 4, TT_SHAPE(2, 1, 1, 3), md);
    tt_tensor *out = NULL, *w = NULL;
    probe_note(p, "4-D attention (q, k, v [2,2,3,*]) under a padding mask [2,1,1,3]");
    probe_tol_exact(p);
    probe_status(p, "status", tt_scaled_dot_product_attention(&out, &w, q, k, v, mask));
    probe_tol_reduction(p, 4);
    probe_tensor(p, "weights", w);
    probe_tensor(p, "out", out);
    tt_tensor_free(w);
    tt_tensor_free(out);
    tt_tensor_free(mask);
    tt_tensor_free(v);
    tt_tensor_free(k);
    tt_tensor_free(q);
}

static void case_sdpa_errors(tito_probe *p)
{
    tt_tensor *q = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *k5 = probe_randn(p, 2, TT_SHAPE(3, 5));
    tt_tensor *v4 = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *k = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *out = NULL, *w = NULL;
    probe_note(p, "q and k of different d, k and v of different Tk -> TT_ERR_SHAPE; out and "
                  "weights stay NULL");
    probe_tol_exact(p);
    probe_status(p, "d_differs", tt_scaled_dot_product_attention(&out, &w, q, k5, v4, NULL));
    probe_status(p, "tk_differs", tt_scaled_dot_product_attention(&out, &w, q, k, v4, NULL));
    probe_int(p, "out_is_null", out == NULL && w == NULL);
    tt_tensor_free(k);
    tt_tensor_free(v4);
    tt_tensor_free(k5);
    tt_tensor_free(q);
}

static void case_mha_layer_forward(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *mha = NULL;
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(1, 3, 4));
    tt_tensor *y = NULL;
    probe_note(p, "tt_layer_forward of an MHA layer (4, 4 heads of size 1): no mask");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_mha_new(&mha, 4, 4, &rng));
    probe_status(p, "forward_status", mha ? tt_layer_forward(mha, &y, x) : TT_ERR_STATE);
    probe_tol_reduction(p, 16);
    probe_tensor(p, "out", y);
    tt_tensor_free(y);
    tt_layer_free(mha);
    tt_tensor_free(x);
}

static const tito_probe_case cases[] = {
    {"attention.padding_mask_4d", "attention", 2, case_padding_mask_4d},
    {"attention.errors", "errors", 1, case_sdpa_errors},
    {"mha.layer_forward", "multihead", 2, case_mha_layer_forward},
};

TITO_PROBE_MAIN(cases)
