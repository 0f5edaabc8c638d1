/*
 * grader/suites/07_training/helpers.h: what the visible and the hidden checks of module
 * 07 (training) share: small seeded models and their optimizers, targets, snapshots
 * of a model and its optimizer (to tell "unchanged" bit for bit), a few training
 * steps, files, and the probe's own reading and writing of the checkpoint format of
 * tinytorch/training.h (with its own CRC-32).
 *
 * You can read this file, as you can visible.c, which includes it; the hidden checks
 * include it too. So it holds helpers only: no check, no input, no expected value
 * (grader/suites/README.md).
 */
#ifndef TITO_SUITE_07_HELPERS_H
#define TITO_SUITE_07_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"
#include "tinytorch/training.h"

static void begin(void)
{
    tt_grad_set_enabled(true);
}

static void tol_ulps(tito_probe *p)
{
    probe_tol(p, 1e-6, 1e-5);
}

/* Sequential(Linear(in, hidden), ReLU, Linear(hidden, out)) from a generator seeded with
 * `seed`; NULL if anything fails. */
static tt_layer *make_mlp(uint64_t seed, size_t in, size_t hidden, size_t out)
{
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_layer *seq = NULL, *l1 = NULL, *act = NULL, *l2 = NULL;
    if (tt_sequential_new(&seq) != TT_OK)
        return NULL;
    if (tt_linear_new(&l1, in, hidden, true, &rng) != TT_OK ||
        tt_sequential_append(seq, l1) != TT_OK || tt_relu_layer_new(&act) != TT_OK ||
        tt_sequential_append(seq, act) != TT_OK ||
        tt_linear_new(&l2, hidden, out, true, &rng) != TT_OK ||
        tt_sequential_append(seq, l2) != TT_OK) {
        tt_layer_free(seq);
        return NULL;
    }
    return seq;
}

static tt_optimizer *make_optimizer(tt_layer *model, tt_optimizer_kind kind, float lr)
{
    tt_params ps;
    tt_params_init(&ps);
    tt_optimizer *opt = NULL;
    tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
    o.lr = lr;
    if (kind == TT_OPTIM_SGD)
        o.momentum = 0.9f;
    if (model && tt_layer_parameters(model, &ps) == TT_OK)
        tt_optimizer_new(&opt, kind, &ps, &o);
    tt_params_release(&ps);
    return opt;
}

/* A [n] tensor of class indices in [0, classes), as floats. */
static tt_tensor *class_targets(tito_probe *p, size_t n, uint32_t classes)
{
    float v[256];
    for (size_t i = 0; i < n && i < 256; i++)
        v[i] = (float)tt_rng_below(probe_rng(p), classes);
    return probe_from_data(p, 1, TT_SHAPE(n), v);
}

static tt_tensor *binary_targets(tito_probe *p, int ndim, const size_t *shape)
{
    tt_tensor *t = probe_uniform(p, ndim, shape, 0.0f, 1.0f);
    for (size_t i = 0; t && i < t->storage->size; i++)
        t->storage->data[i] = t->storage->data[i] < 0.5f ? 0.0f : 1.0f;
    return t;
}

static void record_model(tito_probe *p, const char *prefix, tt_layer *model)
{
    tt_params ps;
    tt_params_init(&ps);
    if (model)
        tt_layer_parameters(model, &ps);
    for (size_t i = 0; i < ps.count; i++) {
        char label[64];
        snprintf(label, sizeof label, "%s.param%zu", prefix, i);
        probe_tensor(p, label, ps.items[i]);
    }
    tt_params_release(&ps);
}

/* Every bit of a model's parameters and of an optimizer's options, count and state. */
typedef struct snap {
    size_t n;
    uint32_t *bits;
} snap;

static void snap_push(snap *s, size_t *cap, uint32_t v)
{
    if (s->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        uint32_t *nb = realloc(s->bits, nc * sizeof *nb);
        if (!nb)
            return;
        s->bits = nb;
        *cap = nc;
    }
    s->bits[s->n++] = v;
}

static void snap_tensor(snap *s, size_t *cap, const tt_tensor *t)
{
    snap_push(s, cap, t ? 0x5eedu : 0u);
    float buf[4096];
    size_t n = tt_tensor_numel(t);
    if (!t || n > 4096 || tt_tensor_to_array(t, buf, 4096) != TT_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, &buf[i], sizeof v);
        snap_push(s, cap, v);
    }
}

static snap snap_take(tt_layer *model, const tt_optimizer *opt)
{
    snap s = {0, NULL};
    size_t cap = 0;
    tt_params ps;
    tt_params_init(&ps);
    if (model)
        tt_layer_parameters(model, &ps);
    for (size_t i = 0; i < ps.count; i++)
        snap_tensor(&s, &cap, ps.items[i]);
    tt_params_release(&ps);
    if (opt) {
        const float o[6] = {opt->options.lr, opt->options.momentum, opt->options.weight_decay,
                            opt->options.beta1, opt->options.beta2, opt->options.eps};
        for (int i = 0; i < 6; i++) {
            uint32_t v;
            memcpy(&v, &o[i], sizeof v);
            snap_push(&s, &cap, v);
        }
        snap_push(&s, &cap, (uint32_t)opt->step_count);
        for (size_t i = 0; i < opt->n_params; i++) {
            snap_tensor(&s, &cap, opt->state1[i]);
            snap_tensor(&s, &cap, opt->state2[i]);
        }
    }
    return s;
}

static int snap_same(const snap *a, const snap *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->bits, b->bits, a->n * sizeof *a->bits) == 0);
}

static void snap_free(snap *s)
{
    free(s->bits);
    s->bits = NULL;
    s->n = 0;
}

/* Training steps made of the other modules' functions only (zero_grad, forward, loss,
 * backward, step), so that checkpoint checks do not depend on your tt_train_step. */
static tt_status train_steps(tt_layer *model, tt_optimizer *opt, tt_loss_kind kind, tt_tensor *x,
                             tt_tensor *y, int steps)
{
    tt_status st = TT_OK;
    for (int k = 0; k < steps && st == TT_OK; k++) {
        tt_tensor *pred = NULL, *loss = NULL;
        tt_optimizer_zero_grad(opt);
        st = tt_layer_forward(model, &pred, x);
        if (st == TT_OK)
            st = kind == TT_LOSS_MSE ? tt_mse_loss(&loss, pred, y)
                                     : tt_cross_entropy_loss(&loss, pred, y);
        if (st == TT_OK)
            st = tt_backward(loss);
        if (st == TT_OK)
            st = tt_optimizer_step(opt);
        tt_tensor_free(loss);
        tt_tensor_free(pred);
    }
    return st;
}

/* ------------------------------------------------------------ files */

/* The whole file at path, malloc'd, its size in *size; NULL if it cannot be opened. */
static unsigned char *read_file(const char *path, size_t *size)
{
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *d = malloc(cap);
    while (d) {
        size_t got = fread(d + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        unsigned char *nd = realloc(d, 2 * cap);
        if (!nd) {
            free(d);
            d = NULL;
            break;
        }
        d = nd;
        cap *= 2;
    }
    fclose(f);
    *size = n;
    return d;
}

/* Write n bytes to path (created or truncated); 1 when all went to the file. */
static int write_file(const char *path, const unsigned char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(d, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* CRC-32 of zlib and PNG, bit by bit: the probe's own, independent of tt_crc32. */
static uint32_t probe_crc32(const unsigned char *d, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= d[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t le32(const unsigned char *d)
{
    return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static uint64_t le64(const unsigned char *d)
{
    return (uint64_t)le32(d) | (uint64_t)le32(d + 4) << 32;
}

static void put_le32(unsigned char *d, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        d[i] = (unsigned char)(v >> (8 * i));
}

/* Recompute the CRC at the end of a file image of `size` bytes. */
static void fix_crc(unsigned char *d, size_t size)
{
    put_le32(d + size - 4, probe_crc32(d, size - 4));
}

/* A growing byte buffer for files the probe writes itself. */
typedef struct bytes {
    unsigned char *d;
    size_t n, cap;
} bytes;

static void bytes_put(bytes *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n)
            nc *= 2;
        unsigned char *nd = realloc(b->d, nc);
        if (!nd)
            return;
        b->d = nd;
        b->cap = nc;
    }
    memcpy(b->d + b->n, src, n);
    b->n += n;
}

static void bytes_u32(bytes *b, uint32_t v)
{
    unsigned char x[4];
    put_le32(x, v);
    bytes_put(b, x, 4);
}

static void bytes_u64(bytes *b, uint64_t v)
{
    bytes_u32(b, (uint32_t)v);
    bytes_u32(b, (uint32_t)(v >> 32));
}

static void bytes_f32(bytes *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    bytes_u32(b, v);
}

/* ------------------------------------------------------------ the format, read by the probe */

/* What the probe's own parser found in a checkpoint file. */
typedef struct parsed {
    int ok;              /* the whole layout walked and the CRC matched */
    int magic_ok;
    uint32_t version, flags, kind;
    uint64_t n_params, n_states;
    int ndim[8];
    size_t shape[8][4];
    float opt_fields[6];
    int64_t step_count;
    unsigned present[8];
    size_t size;
    int data_matches;    /* parameter and state values equal the model's and optimizer's */
} parsed;

static void parse_checkpoint(parsed *out, const unsigned char *d, size_t size, tt_layer *model,
                             const tt_optimizer *opt)
{
    memset(out, 0, sizeof *out);
    out->size = size;
    if (!d || size < 28)
        return;
    out->magic_ok = memcmp(d, TT_CHECKPOINT_MAGIC, TT_CHECKPOINT_MAGIC_SIZE) == 0;
    out->version = le32(d + 8);
    out->flags = le32(d + 12);
    out->n_params = le64(d + 16);
    if (out->n_params > 8)
        return;
    tt_params ps;
    tt_params_init(&ps);
    if (model)
        tt_layer_parameters(model, &ps);
    int matches = ps.count == out->n_params;
    size_t at = 24, body = size - 4;
    size_t numel[8];
    for (uint64_t i = 0; i < out->n_params; i++) {
        if (at + 4 > body)
            goto done;
        uint32_t nd = le32(d + at);
        at += 4;
        if (nd > 4 || at + 8 * nd > body)
            goto done;
        out->ndim[i] = (int)nd;
        numel[i] = 1;
        for (uint32_t k = 0; k < nd; k++) {
            out->shape[i][k] = (size_t)le64(d + at);
            numel[i] *= out->shape[i][k];
            at += 8;
        }
        if (numel[i] > 4096 || at + 4 * numel[i] > body)
            goto done;
        float mine[4096];
        if (matches && (tt_tensor_numel(ps.items[i]) != numel[i] ||
                        tt_tensor_to_array(ps.items[i], mine, 4096) != TT_OK ||
                        memcmp(mine, d + at, 4 * numel[i]) != 0))
            matches = 0;
        at += 4 * numel[i];
    }
    if (out->flags & 1u) {
        if (at + 44 > body)
            goto done;
        out->kind = le32(d + at);
        for (int k = 0; k < 6; k++) {
            uint32_t v = le32(d + at + 4 + 4 * (size_t)k);
            memcpy(&out->opt_fields[k], &v, sizeof v);
        }
        out->step_count = (int64_t)le64(d + at + 28);
        out->n_states = le64(d + at + 36);
        at += 44;
        if (out->n_states != out->n_params)
            goto done;
        if (opt && (opt->n_params != out->n_states || opt->step_count != out->step_count))
            matches = 0;
        for (uint64_t i = 0; i < out->n_states; i++) {
            if (at + 1 > body)
                goto done;
            out->present[i] = d[at++];
            const tt_tensor *st[2] = {opt && i < opt->n_params ? opt->state1[i] : NULL,
                                      opt && i < opt->n_params ? opt->state2[i] : NULL};
            for (int k = 0; k < 2; k++) {
                if (!(out->present[i] & (1u << k))) {
                    if (st[k])
                        matches = 0;
                    continue;
                }
                if (at + 4 * numel[i] > body)
                    goto done;
                float mine[4096];
                if (!st[k] || tt_tensor_numel(st[k]) != numel[i] ||
                    tt_tensor_to_array(st[k], mine, 4096) != TT_OK ||
                    memcmp(mine, d + at, 4 * numel[i]) != 0)
                    matches = 0;
                at += 4 * numel[i];
            }
        }
    }
    out->ok = at == body && le32(d + body) == probe_crc32(d, body);
    out->data_matches = matches;
done:
    tt_params_release(&ps);
}

/* Write a checkpoint of the model's parameters (and of opt when given) with the probe's
 * own encoder, as the header documents it. */
static bytes encode_checkpoint(tt_layer *model, const tt_optimizer *opt)
{
    bytes b = {NULL, 0, 0};
    tt_params ps;
    tt_params_init(&ps);
    tt_layer_parameters(model, &ps);
    bytes_put(&b, TT_CHECKPOINT_MAGIC, TT_CHECKPOINT_MAGIC_SIZE);
    bytes_u32(&b, TT_CHECKPOINT_VERSION);
    bytes_u32(&b, opt ? TT_CHECKPOINT_HAS_OPTIMIZER : 0u);
    bytes_u64(&b, ps.count);
    float buf[4096];
    for (size_t i = 0; i < ps.count; i++) {
        const tt_tensor *t = ps.items[i];
        bytes_u32(&b, (uint32_t)t->ndim);
        for (int k = 0; k < t->ndim; k++)
            bytes_u64(&b, t->shape[k]);
        size_t n = tt_tensor_numel(t);
        tt_tensor_to_array(t, buf, 4096);
        for (size_t j = 0; j < n && j < 4096; j++)
            bytes_f32(&b, buf[j]);
    }
    if (opt) {
        bytes_u32(&b, (uint32_t)opt->kind);
        bytes_f32(&b, opt->options.lr);
        bytes_f32(&b, opt->options.momentum);
        bytes_f32(&b, opt->options.weight_decay);
        bytes_f32(&b, opt->options.beta1);
        bytes_f32(&b, opt->options.beta2);
        bytes_f32(&b, opt->options.eps);
        bytes_u64(&b, (uint64_t)opt->step_count);
        bytes_u64(&b, opt->n_params);
        for (size_t i = 0; i < opt->n_params; i++) {
            const tt_tensor *st[2] = {opt->state1[i], opt->state2[i]};
            unsigned char present = (unsigned char)((st[0] ? 1u : 0u) | (st[1] ? 2u : 0u));
            bytes_put(&b, &present, 1);
            for (int k = 0; k < 2; k++) {
                if (!st[k])
                    continue;
                size_t n = tt_tensor_numel(st[k]);
                tt_tensor_to_array(st[k], buf, 4096);
                for (size_t j = 0; j < n && j < 4096; j++)
                    bytes_f32(&b, buf[j]);
            }
        }
    }
    bytes_u32(&b, probe_crc32(b.d, b.n));
    tt_params_release(&ps);
    return b;
}

/* ------------------------------------------------------------ refusals */

/* Load `d` (size bytes, written to path) into model and opt; whether both stayed
 * unchanged, and the status in *st. */
static int refused_unchanged(const char *path, const unsigned char *d, size_t size,
                             tt_layer *model, tt_optimizer *opt, tt_status *st)
{
    snap before = snap_take(model, opt);
    write_file(path, d, size);
    *st = tt_checkpoint_load(path, model, opt);
    snap after = snap_take(model, opt);
    int same = snap_same(&before, &after);
    snap_free(&after);
    snap_free(&before);
    return same;
}

/* Load `d` (size bytes, written to path) into model and opt; record the status and
 * whether both are unchanged. */
static void refuse(tito_probe *p, const char *what, const char *path, const unsigned char *d,
                   size_t size, tt_layer *model, tt_optimizer *opt)
{
    char label[80];
    tt_status st;
    int same = refused_unchanged(path, d, size, model, opt, &st);
    probe_status(p, what, st);
    snprintf(label, sizeof label, "%s.model_and_optimizer_unchanged", what);
    probe_int(p, label, same);
}

#endif /* TITO_SUITE_07_HELPERS_H */
