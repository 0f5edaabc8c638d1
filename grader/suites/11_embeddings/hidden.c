/*
 * grader/suites/11_embeddings/hidden.c: the hidden checks of module 11 (embeddings).
 *
 * Students see only each case's category and verdict. Every check follows from
 * tinytorch/embeddings.h: views as weights and ids, 3-D ids, gradients that accumulate
 * over two passes, NaN ids, long sinusoidal tables.
 */
#include <math.h>
#include <stdint.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embeddings.h"

static void case_lookup_views(tito_probe *p)
{
    tt_tensor *base = probe_randn(p, 2, TT_SHAPE(3, 8));
    tt_tensor *w = NULL, *out = NULL;
    float idd[6] = {7, 0, 3, 3, 5, 1};
    tt_tensor *ids = probe_from_data(p, 3, TT_SHAPE(1, 2, 3), idd);
    probe_note(p, "weight = transpose(base [3,8]): a [8,3] view; ids [1,2,3]: out [1,2,3,3]");
    probe_tol_exact(p);
    probe_status(p, "transpose_status", tt_tensor_transpose(&w, base, 0, 1));
    probe_status(p, "status", tt_embedding_lookup(&out, w, ids));
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_tensor_free(ids);
    tt_tensor_free(w);
    tt_tensor_free(base);
}

static void case_grad_accumulates(tito_probe *p)
{
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(4, 2));
    float idd[3] = {2, 2, 0};
    tt_tensor *ids = probe_from_data(p, 1, TT_SHAPE(3), idd);
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(3, 2));
    probe_note(p, "two lookups and backward passes without zeroing: weight.grad holds the sum");
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(w, true));
    for (int pass = 0; pass < 2; pass++) {
        tt_tensor *y = NULL;
        probe_status(p, "forward_status", tt_embedding_lookup(&y, w, ids));
        probe_status(p, "backward_status",
                     y && y->grad_fn && tt_tensor_same_shape(y, g) ? tt_backward_with(y, g)
                                                                   : TT_ERR_STATE);
        tt_tensor_free(y);
    }
    probe_tol_reduction(p, 4);
    probe_tensor(p, "weight.grad", w->grad);
    tt_tensor_free(g);
    tt_tensor_free(ids);
    tt_tensor_free(w);
}

static void case_nan_id(tito_probe *p)
{
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(4, 2));
    float idd[2] = {1, NAN};
    tt_tensor *ids = probe_from_data(p, 1, TT_SHAPE(2), idd);
    tt_tensor *out = NULL;
    probe_note(p, "ids [1, NaN] -> TT_ERR_RANGE, out stays NULL");
    probe_tol_exact(p);
    probe_status(p, "status", tt_embedding_lookup(&out, w, ids));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(ids);
    tt_tensor_free(w);
}

static void case_sinusoidal_long(tito_probe *p)
{
    tt_tensor *pe = NULL;
    probe_note(p, "tt_sinusoidal_encoding(&pe, 64, 16): large angles in double");
    probe_tol_exact(p);
    probe_status(p, "status", tt_sinusoidal_encoding(&pe, 64, 16));
    probe_tol_elementwise(p);
    probe_tensor(p, "pe", pe);
    tt_tensor_free(pe);
}

static const tito_probe_case cases[] = {
    {"lookup.views", "lookup", 2, case_lookup_views},
    {"lookup.grad_accumulates", "lookup", 2, case_grad_accumulates},
    {"lookup.nan_id", "errors", 1, case_nan_id},
    {"sinusoidal.long", "positions", 1, case_sinusoidal_long},
};

TITO_PROBE_MAIN(cases)
