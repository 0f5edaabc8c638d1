/*
 * grader/suites/11_embeddings/visible.c: the visible checks of module 11 (embeddings).
 *
 * You can read this file: it is exactly what `tito` runs against your embeddings.c and
 * against the course's reference, on the same random inputs. A lookup copies rows, so
 * its records are exact; its gradient adds the output-gradient rows that read a row
 * (an id used twice adds two), so it gets a reduction tolerance. Backward checks run
 * the reference's tt_backward (module 05) through the node your lookup recorded.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embeddings.h"

static void backward_from(tito_probe *p, tt_tensor *y, tt_tensor *g)
{
    probe_tol_exact(p);
    probe_status(p, "backward_status",
                 y && y->grad_fn && tt_tensor_same_shape(y, g) ? tt_backward_with(y, g)
                                                               : TT_ERR_STATE);
}

/* ids [n] or [b, t] of random integers in [0, v), as floats. */
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

static void case_lookup_1d(tito_probe *p)
{
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(6, 4));
    tt_tensor *ids = random_ids(p, 1, TT_SHAPE(5), 6);
    tt_tensor *out = NULL;
    probe_note(p, "out = tt_embedding_lookup(weight [6,4], ids [5]): out [5,4], row p is "
                  "weight[ids[p]]");
    probe_tol_exact(p);
    probe_status(p, "status", tt_embedding_lookup(&out, w, ids));
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_tensor_free(ids);
    tt_tensor_free(w);
}

static void case_lookup_2d(tito_probe *p)
{
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(10, 3));
    tt_tensor *ids = random_ids(p, 2, TT_SHAPE(2, 4), 10);
    tt_tensor *out = NULL;
    probe_note(p, "out = tt_embedding_lookup(weight [10,3], ids [2,4]): out [2,4,3]");
    probe_tol_exact(p);
    probe_status(p, "status", tt_embedding_lookup(&out, w, ids));
    probe_tensor(p, "out", out);
    tt_tensor_free(out);
    tt_tensor_free(ids);
    tt_tensor_free(w);
}

static void case_lookup_backward_repeats(tito_probe *p)
{
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(5, 3));
    float idd[6] = {1, 3, 1, 1, 0, 3};
    tt_tensor *ids = probe_from_data(p, 1, TT_SHAPE(6), idd);
    tt_tensor *g = probe_randn(p, 2, TT_SHAPE(6, 3));
    tt_tensor *y = NULL;
    probe_note(p, "weight [5,3] requires grad; y = lookup(weight, ids [1,3,1,1,0,3]); backward "
                  "of sum(g * y): weight.grad row 1 = g[0] + g[2] + g[3] (an id read three "
                  "times adds three rows), row 3 = g[1] + g[5], row 0 = g[4], rows 2 and 4 "
                  "zero");
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(w, true));
    probe_status(p, "forward_status", tt_embedding_lookup(&y, w, ids));
    backward_from(p, y, g);
    probe_tol_reduction(p, 3);
    probe_tensor(p, "weight.grad", w->grad);
    tt_tensor_free(y);
    tt_tensor_free(g);
    tt_tensor_free(ids);
    tt_tensor_free(w);
}

static void case_lookup_errors(tito_probe *p)
{
    tt_tensor *w = probe_randn(p, 2, TT_SHAPE(4, 2));
    float bad[3][2] = {{0, 4}, {-1, 0}, {1.5f, 0}};
    static const char *labels[3] = {"id_4_of_4", "id_negative", "id_not_integer"};
    tt_tensor *out = NULL;
    probe_tol_exact(p);
    probe_note(p, "weight [4,2]: ids [0,4], [-1,0], [1.5,0] -> TT_ERR_RANGE; weight 1-D, ids of "
                  "4 dimensions -> TT_ERR_SHAPE; NULL -> TT_ERR_INVALID_ARG; out stays NULL");
    for (int i = 0; i < 3; i++) {
        tt_tensor *ids = probe_from_data(p, 1, TT_SHAPE(2), bad[i]);
        probe_status(p, labels[i], tt_embedding_lookup(&out, w, ids));
        tt_tensor_free(ids);
    }
    tt_tensor *w1 = probe_randn(p, 1, TT_SHAPE(4));
    const float zeros[2] = {0, 0};
    tt_tensor *ids4 = probe_from_data(p, 4, TT_SHAPE(1, 1, 1, 2), zeros);
    tt_tensor *ids = probe_from_data(p, 1, TT_SHAPE(2), zeros);
    probe_status(p, "weight_1d", tt_embedding_lookup(&out, w1, ids));
    probe_status(p, "ids_4d", tt_embedding_lookup(&out, w, ids4));
    probe_status(p, "ids_null", tt_embedding_lookup(&out, w, NULL));
    probe_status(p, "out_null", tt_embedding_lookup(NULL, w, ids));
    probe_int(p, "out_is_null", out == NULL);
    tt_tensor_free(out);
    tt_tensor_free(ids);
    tt_tensor_free(ids4);
    tt_tensor_free(w1);
    tt_tensor_free(w);
}

static void case_embedding_layer(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *emb = NULL;
    tt_tensor *ids = random_ids(p, 2, TT_SHAPE(2, 3), 7);
    tt_tensor *y = NULL;
    probe_note(p, "tt_embedding_new(&emb, 7, 4, rng): W [7,4] drawn as tt_tensor_randn(0, 1) "
                  "does, requiring grad; forward of ids [2,3]; parameters {W}; size 0 or rng "
                  "NULL -> TT_ERR_INVALID_ARG");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_embedding_new(&emb, 7, 4, &rng));
    tt_tensor *w = emb ? tt_embedding_weight(emb) : NULL;
    probe_tol_elementwise(p);
    probe_tensor(p, "weight", w);
    probe_tol_exact(p);
    probe_int(p, "weight_requires_grad", w && w->requires_grad);
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", emb ? tt_layer_parameters(emb, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    probe_status(p, "forward_status", emb ? tt_layer_forward(emb, &y, ids) : TT_ERR_STATE);
    probe_tol_elementwise(p);
    probe_tensor(p, "out", y);
    tt_tensor_free(y);
    tt_layer_free(emb);
    emb = NULL;
    probe_tol_exact(p);
    probe_status(p, "size_0", tt_embedding_new(&emb, 0, 4, &rng));
    probe_status(p, "rng_null", tt_embedding_new(&emb, 7, 4, NULL));
    probe_int(p, "out_is_null", emb == NULL);
    tt_tensor_free(ids);
}

static void case_pos_embedding(tito_probe *p)
{
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *pos = NULL;
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *g = probe_randn(p, 3, TT_SHAPE(2, 3, 4));
    tt_tensor *y = NULL;
    probe_note(p, "tt_pos_embedding_new(&pos, max_len 5, dim 4, rng); x [2,3,4] requires grad; "
                  "y = x + P[0:3]; backward of sum(g * y): x.grad = g, P.grad rows 0..2 = g "
                  "summed over the batch, rows 3..4 zero");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_pos_embedding_new(&pos, 5, 4, &rng));
    tt_tensor *pw = pos ? tt_pos_embedding_weight(pos) : NULL;
    probe_tol_elementwise(p);
    probe_tensor(p, "P", pw);
    probe_tol_exact(p);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "forward_status", pos ? tt_layer_forward(pos, &y, x) : TT_ERR_STATE);
    probe_tol_elementwise(p);
    probe_tensor(p, "out", y);
    backward_from(p, y, g);
    probe_tol_reduction(p, 2);
    probe_tensor(p, "x.grad", x->grad);
    probe_tensor(p, "P.grad", pw ? pw->grad : NULL);
    tt_tensor_free(y);
    y = NULL;
    tt_tensor *long_x = probe_randn(p, 2, TT_SHAPE(6, 4));
    tt_tensor *wrong_d = probe_randn(p, 2, TT_SHAPE(3, 5));
    probe_tol_exact(p);
    probe_note(p, "T 6 > max_len 5, last dimension 5 instead of 4 -> TT_ERR_SHAPE");
    probe_status(p, "too_long", pos ? tt_layer_forward(pos, &y, long_x) : TT_ERR_STATE);
    probe_status(p, "wrong_dim", pos ? tt_layer_forward(pos, &y, wrong_d) : TT_ERR_STATE);
    probe_int(p, "out_is_null", y == NULL);
    tt_tensor_free(wrong_d);
    tt_tensor_free(long_x);
    tt_layer_free(pos);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static void case_sinusoidal(tito_probe *p)
{
    tt_tensor *pe = NULL, *odd = NULL;
    probe_note(p, "tt_sinusoidal_encoding(&pe, 6, 8): PE[t,2i] = sin(t w_i), PE[t,2i+1] = "
                  "cos(t w_i), w_i = 10000^(-2i/8), in double rounded once; and an odd dim "
                  "(5) ending with a sine column");
    probe_tol_exact(p);
    probe_status(p, "status", tt_sinusoidal_encoding(&pe, 6, 8));
    probe_status(p, "odd_status", tt_sinusoidal_encoding(&odd, 3, 5));
    probe_tol_elementwise(p);
    probe_tensor(p, "pe", pe);
    probe_tensor(p, "pe_odd", odd);
    tt_tensor_free(odd);
    tt_tensor_free(pe);
    pe = NULL;
    probe_tol_exact(p);
    probe_status(p, "seq_len_0", tt_sinusoidal_encoding(&pe, 0, 4));
    probe_status(p, "dim_0", tt_sinusoidal_encoding(&pe, 4, 0));
    probe_int(p, "out_is_null", pe == NULL);
}

static void case_sinusoidal_layer(tito_probe *p)
{
    tt_layer *s = NULL;
    tt_tensor *x = probe_randn(p, 3, TT_SHAPE(2, 4, 6));
    tt_tensor *g = probe_randn(p, 3, TT_SHAPE(2, 4, 6));
    tt_tensor *y = NULL;
    probe_note(p, "tt_sinusoidal_new(&s, 10, 6); x [2,4,6] requires grad; y = x + PE[0:4]; "
                  "x.grad = g; no parameters");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_sinusoidal_new(&s, 10, 6));
    tt_params params;
    tt_params_init(&params);
    probe_status(p, "parameters_status", s ? tt_layer_parameters(s, &params) : TT_ERR_STATE);
    probe_int(p, "n_parameters", (long)params.count);
    tt_params_release(&params);
    probe_status(p, "set_requires_grad", tt_tensor_set_requires_grad(x, true));
    probe_status(p, "forward_status", s ? tt_layer_forward(s, &y, x) : TT_ERR_STATE);
    probe_tol_elementwise(p);
    probe_tensor(p, "out", y);
    backward_from(p, y, g);
    probe_tol_elementwise(p);
    probe_tensor(p, "x.grad", x->grad);
    tt_tensor_free(y);
    tt_layer_free(s);
    tt_tensor_free(g);
    tt_tensor_free(x);
}

static const tito_probe_case cases[] = {
    {"lookup.1d", "lookup", 2, case_lookup_1d},
    {"lookup.2d", "lookup", 2, case_lookup_2d},
    {"lookup.backward_repeats", "lookup", 3, case_lookup_backward_repeats},
    {"lookup.errors", "errors", 2, case_lookup_errors},
    {"layer.embedding", "layers", 2, case_embedding_layer},
    {"layer.positional", "positions", 3, case_pos_embedding},
    {"sinusoidal.encoding", "positions", 2, case_sinusoidal},
    {"sinusoidal.layer", "positions", 2, case_sinusoidal_layer},
};

TITO_PROBE_MAIN(cases)
