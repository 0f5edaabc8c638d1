/*
 * Module 07: training (contract and checkpoint format in tinytorch/training.h).
 *
 * The step, evaluation, schedule and clipping are short compositions of modules
 * 01-06. Most of this file is the checkpoint: a byte format written and read
 * explicitly (little-endian, one field at a time, never a struct dumped with fwrite),
 * so a file means the same on every machine, and a loader that trusts nothing it reads.
 *
 * The loader's order of work is the point: read the whole file, check the magic, the
 * version, the structure (truncation), the CRC, every field, and every shape against
 * the model and optimizer, allocate whatever the optimizer will need; only then write,
 * with nothing left that can fail. A corrupt file can therefore never leave a model
 * half-loaded.
 */
#define _POSIX_C_SOURCE 200809L

#include "tinytorch/training.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"

/* "[2,3,4]" for error messages; "[]" for a scalar. Truncates to fit `cap`. */
static const char *shape_str(char *buf, size_t cap, int ndim, const size_t *shape)
{
    size_t used = 0;
    int n = snprintf(buf, cap, "[");
    for (int d = 0; n >= 0 && d < ndim; d++) {
        used += (size_t)n;
        if (used >= cap)
            return buf;
        n = snprintf(buf + used, cap - used, d ? ",%zu" : "%zu", shape[d]);
    }
    if (n >= 0 && (used += (size_t)n) < cap)
        snprintf(buf + used, cap - used, "]");
    return buf;
}

/* The storage index of the element at row-major position `flat` of t, whatever its
 * strides: lets the code below read and write parameters and gradients in place
 * without allocating, which the loader's "nothing can fail while writing" needs. */
static size_t element_index(const tt_tensor *t, size_t flat)
{
    ptrdiff_t idx = (ptrdiff_t)t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx += (ptrdiff_t)(flat % t->shape[d]) * t->strides[d];
        flat /= t->shape[d];
    }
    return (size_t)idx;
}

/* ===================================================================== losses */

tt_status tt_loss_compute(tt_tensor **out, tt_loss_kind kind, tt_tensor *pred, tt_tensor *target)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_loss_compute: out is NULL (expected the "
                            "address of a tt_tensor * to receive the loss)");
    *out = NULL;
    if (!pred || !target)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_loss_compute: %s is NULL",
                            pred ? "target" : "pred");
    switch (kind) {
    case TT_LOSS_MSE: return tt_mse_loss(out, pred, target);
    case TT_LOSS_BCE: return tt_bce_loss(out, pred, target);
    case TT_LOSS_CROSS_ENTROPY: return tt_cross_entropy_loss(out, pred, target);
    }
    return tt_error_set(TT_ERR_INVALID_ARG, "tt_loss_compute: unknown loss kind %d (expected "
                        "TT_LOSS_MSE, TT_LOSS_BCE or TT_LOSS_CROSS_ENTROPY)", (int)kind);
    /* END SOLUTION */
}

/* ============================================================ clip and step */

tt_status tt_clip_grad_norm(float *norm, const tt_params *params, float max_norm)
{
    /* BEGIN SOLUTION */
    if (norm)
        *norm = 0.0f;
    if (!params)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_clip_grad_norm: params is NULL");
    if (!(max_norm > 0.0f))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_clip_grad_norm: max_norm = %g (expected "
                            "max_norm > 0)", (double)max_norm);
    /* In double: a float sum of a million squares loses the small ones. */
    double sumsq = 0.0;
    for (size_t i = 0; i < params->count; i++) {
        tt_tensor *g = params->items[i] ? params->items[i]->grad : NULL;
        if (!g)
            continue;
        size_t n = tt_tensor_numel(g);
        bool flat = tt_tensor_is_contiguous(g);
        const float *base = g->storage->data;
        for (size_t j = 0; j < n; j++) {
            double v = base[flat ? g->offset + j : element_index(g, j)];
            sumsq += v * v;
        }
    }
    double total = sqrt(sumsq);
    if (norm)
        *norm = (float)total;
    if (!isfinite(total))
        return tt_error_set(TT_ERR_RANGE, "tt_clip_grad_norm: the gradient norm is %g (an "
                            "inf or nan gradient); gradients left unchanged", total);
    if (total <= (double)max_norm)
        return TT_OK;
    float scale = (float)((double)max_norm / total);
    for (size_t i = 0; i < params->count; i++) {
        tt_tensor *g = params->items[i] ? params->items[i]->grad : NULL;
        if (!g)
            continue;
        size_t n = tt_tensor_numel(g);
        bool flat = tt_tensor_is_contiguous(g);
        float *base = g->storage->data;
        for (size_t j = 0; j < n; j++) {
            size_t k = flat ? g->offset + j : element_index(g, j);
            base[k] = base[k] * scale;
        }
    }
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_train_step(float *loss, tt_layer *model, tt_optimizer *opt, tt_loss_kind kind,
                        tt_tensor *x, tt_tensor *target, float max_grad_norm)
{
    /* BEGIN SOLUTION */
    if (!loss || !model || !opt || !x || !target)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_train_step: %s is NULL",
                            !loss ? "loss" : !model ? "model" : !opt ? "opt" : !x ? "x"
                                                                                 : "target");
    *loss = NAN;
    if (!(max_grad_norm >= 0.0f))
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_train_step: max_grad_norm = %g (expected "
                            ">= 0; 0 turns clipping off)", (double)max_grad_norm);
    bool was_enabled = tt_grad_set_enabled(true);
    tt_status st = TT_OK;
    tt_tensor *pred = NULL, *l = NULL;
    tt_optimizer_zero_grad(opt);
    TT_CHECK(tt_layer_forward(model, &pred, x));
    TT_CHECK(tt_loss_compute(&l, kind, pred, target));
    float value;
    TT_CHECK(tt_tensor_item(l, &value));
    TT_CHECK(tt_backward(l));
    if (max_grad_norm > 0.0f) {
        /* A borrowed view of the optimizer's list: no copy, nothing to release. */
        tt_params p = {opt->params, opt->n_params, opt->n_params};
        TT_CHECK(tt_clip_grad_norm(NULL, &p, max_grad_norm));
    }
    TT_CHECK(tt_optimizer_step(opt));
    *loss = value;
cleanup:
    /* Freeing the loss frees the graph: the parameters keep only their .grad. */
    tt_tensor_free(l);
    tt_tensor_free(pred);
    tt_grad_set_enabled(was_enabled);
    return st;
    /* END SOLUTION */
}

/* ================================================================ evaluation */

/* BEGIN SOLUTION: */
/* Count the correct predictions of one batch (see tt_evaluate). */
static tt_status count_correct(size_t *correct, size_t *total, tt_loss_kind kind,
                               tt_tensor *pred, tt_tensor *target)
{
    tt_tensor *p = NULL, *t = NULL;
    tt_status st = TT_OK;
    if (kind == TT_LOSS_CROSS_ENTROPY)
        TT_CHECK(tt_tensor_argmax(&p, pred, 1, false));
    else
        TT_CHECK(tt_tensor_contiguous(&p, pred));
    TT_CHECK(tt_tensor_contiguous(&t, target));
    size_t n = tt_tensor_numel(p);
    if (n != tt_tensor_numel(t)) {
        st = tt_error_set(TT_ERR_SHAPE, "tt_evaluate: %zu predictions for %zu targets", n,
                          tt_tensor_numel(t));
        goto cleanup;
    }
    const float *pv = tt_tensor_data(p), *tv = tt_tensor_data(t);
    for (size_t i = 0; i < n; i++) {
        bool ok = kind == TT_LOSS_CROSS_ENTROPY ? pv[i] == tv[i]
                                                : (pv[i] >= 0.5f) == (tv[i] >= 0.5f);
        *correct += ok;
    }
    *total += n;
cleanup:
    tt_tensor_free(p);
    tt_tensor_free(t);
    return st;
}
/* END SOLUTION */

tt_status tt_evaluate(tt_eval_result *out, tt_layer *model, tt_loss_kind kind, tt_tensor *inputs,
                      tt_tensor *targets, size_t batch_size)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_evaluate: out is NULL");
    memset(out, 0, sizeof *out);
    if (!model || !inputs || !targets)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_evaluate: %s is NULL",
                            !model ? "model" : !inputs ? "inputs" : "targets");
    if (kind != TT_LOSS_MSE && kind != TT_LOSS_BCE && kind != TT_LOSS_CROSS_ENTROPY)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_evaluate: unknown loss kind %d", (int)kind);
    if (batch_size == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_evaluate: batch_size is 0 (expected >= 1)");
    if (inputs->ndim < 1 || targets->ndim < 1)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_evaluate: %s is 0-dimensional (expected "
                            "[N, ...], one row per sample)", inputs->ndim < 1 ? "inputs"
                                                                               : "targets");
    size_t n = inputs->shape[0];
    if (targets->shape[0] != n)
        return tt_error_set(TT_ERR_SHAPE, "tt_evaluate: %zu input rows but %zu target rows", n,
                            targets->shape[0]);
    bool was_training = model->training;
    bool was_enabled = tt_grad_set_enabled(false);
    tt_layer_set_training(model, false);
    tt_status st = TT_OK;
    tt_tensor *xb = NULL, *yb = NULL, *pred = NULL, *l = NULL;
    double loss_sum = 0.0;
    size_t correct = 0, total = 0;
    for (size_t start = 0; start < n; start += batch_size) {
        size_t stop = n - start < batch_size ? n : start + batch_size;
        TT_CHECK(tt_tensor_slice(&xb, inputs, 0, start, stop));
        TT_CHECK(tt_tensor_slice(&yb, targets, 0, start, stop));
        TT_CHECK(tt_layer_forward(model, &pred, xb));
        TT_CHECK(tt_loss_compute(&l, kind, pred, yb));
        float value;
        TT_CHECK(tt_tensor_item(l, &value));
        /* Each batch loss is a mean over its rows: weight it by them. */
        loss_sum += (double)value * (double)(stop - start);
        if (kind != TT_LOSS_MSE)
            TT_CHECK(count_correct(&correct, &total, kind, pred, yb));
        tt_tensor_free(l);
        tt_tensor_free(pred);
        tt_tensor_free(yb);
        tt_tensor_free(xb);
        l = pred = yb = xb = NULL;
    }
    out->loss = loss_sum / (double)n;
    out->accuracy = kind == TT_LOSS_MSE ? NAN : (double)correct / (double)total;
    out->n_samples = n;
cleanup:
    tt_tensor_free(l);
    tt_tensor_free(pred);
    tt_tensor_free(yb);
    tt_tensor_free(xb);
    tt_layer_set_training(model, was_training);
    tt_grad_set_enabled(was_enabled);
    if (st != TT_OK)
        memset(out, 0, sizeof *out);
    return st;
    /* END SOLUTION */
}

/* ================================================================== schedule */

float tt_cosine_lr(long step, long total_steps, long warmup_steps, float base_lr, float min_lr)
{
    /* BEGIN SOLUTION: return 0.0f; */
    if (step < 0)
        step = 0;
    if (warmup_steps < 0)
        warmup_steps = 0;
    if (warmup_steps > total_steps)
        warmup_steps = total_steps;
    if (step >= total_steps)
        return min_lr;
    if (step < warmup_steps)
        return (float)((double)base_lr * (double)(step + 1) / (double)warmup_steps);
    double q = (double)(step - warmup_steps) / (double)(total_steps - warmup_steps);
    double pi = 3.14159265358979323846;
    return (float)((double)min_lr +
                   ((double)base_lr - (double)min_lr) * (1.0 + cos(pi * q)) / 2.0);
    /* END SOLUTION */
}

/* ================================================================ checkpoints */

/* The CRC of each 4-bit value: two lookups per byte keep the table tiny. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t tt_crc32(uint32_t crc, const void *data, size_t size)
{
    /* BEGIN SOLUTION: return 0; */
    const unsigned char *p = data;
    uint32_t c = ~crc;
    for (size_t i = 0; i < size; i++) {
        c ^= p[i];
        c = crc_nibble[c & 0xfu] ^ (c >> 4);
        c = crc_nibble[c & 0xfu] ^ (c >> 4);
    }
    return ~c;
    /* END SOLUTION */
}

/* Fixed sizes of the format (see training.h). */
#define HEADER_SIZE 24u   /* magic, version, flags, P */
#define CRC_SIZE 4u
#define OPT_HEADER_SIZE 44u /* kind, 6 options, step_count, n */

/* ------------------------------------------------- little-endian encoding */

/* BEGIN SOLUTION: */
static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}

/* A float's bit pattern, not its value: memcpy is the defined way to get it. */
static unsigned char *put_f32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    return put_u32(p, v);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static float get_f32(const unsigned char *p)
{
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

/* A cursor over the file's bytes. Reads past the end return zeros and set `short_read`
 * instead of failing one by one, so a walk can check once at the end of a record. */
typedef struct reader {
    const unsigned char *buf;
    size_t size, pos;
    bool short_read;
} reader;

static const unsigned char *take(reader *r, size_t n)
{
    static const unsigned char zeros[8];
    if (r->short_read || n > r->size - r->pos) {
        r->short_read = true;
        return zeros;
    }
    const unsigned char *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

static uint32_t read_u32(reader *r) { return get_u32(take(r, 4)); }
static uint64_t read_u64(reader *r) { return get_u64(take(r, 8)); }
static float read_f32(reader *r) { return get_f32(take(r, 4)); }

/* Skip `count` floats, refusing counts whose byte size would overflow. */
static void skip_f32(reader *r, size_t count)
{
    if (count > (r->size - r->pos) / 4) {
        r->short_read = true;
        return;
    }
    r->pos += 4 * count;
}

/* ------------------------------------------------------ options checking */

static bool options_valid(tt_optimizer_kind kind, const tt_optimizer_options *o)
{
    if (!(o->lr > 0.0f) || isinf(o->lr) || !(o->weight_decay >= 0.0f) || isinf(o->weight_decay))
        return false;
    if (kind == TT_OPTIM_SGD)
        return o->momentum >= 0.0f && o->momentum < 1.0f;
    return o->beta1 >= 0.0f && o->beta1 < 1.0f && o->beta2 >= 0.0f && o->beta2 < 1.0f &&
           o->eps > 0.0f && !isinf(o->eps);
}

static bool kind_known(uint32_t kind)
{
    return kind == TT_OPTIM_SGD || kind == TT_OPTIM_ADAM || kind == TT_OPTIM_ADAMW;
}

static const char *kind_name(uint32_t kind)
{
    return kind == TT_OPTIM_SGD ? "SGD" : kind == TT_OPTIM_ADAM ? "Adam"
                                        : kind == TT_OPTIM_ADAMW ? "AdamW" : "unknown";
}
/* END SOLUTION */

/* ------------------------------------------------------------------ save */

/* BEGIN SOLUTION: */
/* Write buf to path atomically: temporary file next to it, fsync, rename. */
static tt_status write_atomic(const char *path, const unsigned char *buf, size_t size)
{
    tt_status st = TT_OK;
    int fd = -1;
    bool tmp_exists = false; /* to unlink on failure */
    size_t len = strlen(path);
    /* ".tmp.<pid>.<n>": room for two 20-digit numbers. */
    size_t tmp_cap = len + 48;
    char *tmp = tt_malloc(tmp_cap);
    char *dir = tt_malloc(len + 2);
    if (!tmp || !dir) {
        st = TT_ERR_NOMEM;
        goto cleanup;
    }
    /* Same directory, so rename() stays within one file system and is atomic. Not
     * mkstemp: its files are 0600, while open() with 0666 gives a checkpoint the mode
     * any new file gets under the user's umask, without touching the umask. O_EXCL
     * makes a name taken by another writer (thread or process) fail, and we try the
     * next one. */
    static atomic_uint counter;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        snprintf(tmp, tmp_cap, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&counter, 1u));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        st = tt_error_set(TT_ERR_IO, "tt_checkpoint_save: cannot create a temporary file "
                          "next to '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    tmp_exists = true;
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, buf + done, size - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            st = tt_error_set(TT_ERR_IO, "tt_checkpoint_save: writing '%s': %s", tmp,
                              w < 0 ? strerror(errno) : "no progress");
            goto cleanup;
        }
        done += (size_t)w;
    }
    /* The data must be on disk before the rename makes it the checkpoint; otherwise a
     * crash could leave a complete-looking name over incomplete contents. */
    if (fsync(fd) != 0) {
        st = tt_error_set(TT_ERR_IO, "tt_checkpoint_save: fsync of '%s': %s", tmp,
                          strerror(errno));
        goto cleanup;
    }
    int rc = close(fd);
    fd = -1;
    if (rc != 0) {
        st = tt_error_set(TT_ERR_IO, "tt_checkpoint_save: closing '%s': %s", tmp,
                          strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        st = tt_error_set(TT_ERR_IO, "tt_checkpoint_save: renaming '%s' to '%s': %s", tmp,
                          path, strerror(errno));
        goto cleanup;
    }
    tmp_exists = false;
    /* Make the rename itself durable. Some file systems cannot fsync a directory; the
     * checkpoint is complete either way, so that failure is not reported. */
    snprintf(dir, len + 2, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, len + 2, ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp_exists)
        unlink(tmp);
    tt_free(tmp);
    tt_free(dir);
    return st;
}
/* END SOLUTION */

tt_status tt_checkpoint_save(const char *path, tt_layer *model, const tt_optimizer *opt)
{
    /* BEGIN SOLUTION */
    if (!path || !model)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_checkpoint_save: %s is NULL",
                            path ? "model" : "path");
    tt_status st = TT_OK;
    unsigned char *buf = NULL;
    tt_params params;
    tt_params_init(&params);
    TT_CHECK(tt_layer_parameters(model, &params));
    if (opt && opt->n_params != params.count) {
        st = tt_error_set(TT_ERR_SHAPE, "tt_checkpoint_save: the optimizer has %zu parameters, "
                          "the model %zu (expected the optimizer of this model)",
                          opt->n_params, params.count);
        goto cleanup;
    }
    size_t size = HEADER_SIZE + CRC_SIZE;
    for (size_t i = 0; i < params.count; i++) {
        tt_tensor *p = params.items[i];
        if (opt && !tt_tensor_same_shape(p, opt->params[i])) {
            char a[64], b[64];
            st = tt_error_set(TT_ERR_SHAPE, "tt_checkpoint_save: parameter %zu has shape %s in "
                              "the model but %s in the optimizer", i,
                              shape_str(a, sizeof a, p->ndim, p->shape),
                              shape_str(b, sizeof b, opt->params[i]->ndim,
                                        opt->params[i]->shape));
            goto cleanup;
        }
        size += 4 + 8 * (size_t)p->ndim + 4 * tt_tensor_numel(p);
    }
    if (opt) {
        size += OPT_HEADER_SIZE;
        for (size_t i = 0; i < params.count; i++) {
            size_t numel = tt_tensor_numel(params.items[i]);
            size += 1 + (opt->state1[i] ? 4 * numel : 0) + (opt->state2[i] ? 4 * numel : 0);
            /* The state is saved with its parameter's numel: it must have it. */
            if ((opt->state1[i] && tt_tensor_numel(opt->state1[i]) != numel) ||
                (opt->state2[i] && tt_tensor_numel(opt->state2[i]) != numel)) {
                st = tt_error_set(TT_ERR_SHAPE, "tt_checkpoint_save: optimizer state %zu does "
                                  "not have its parameter's %zu elements", i, numel);
                goto cleanup;
            }
        }
    }
    buf = tt_malloc(size);
    if (!buf) {
        st = TT_ERR_NOMEM;
        goto cleanup;
    }
    unsigned char *w = buf;
    memcpy(w, TT_CHECKPOINT_MAGIC, TT_CHECKPOINT_MAGIC_SIZE);
    w += TT_CHECKPOINT_MAGIC_SIZE;
    w = put_u32(w, TT_CHECKPOINT_VERSION);
    w = put_u32(w, opt ? TT_CHECKPOINT_HAS_OPTIMIZER : 0u);
    w = put_u64(w, params.count);
    for (size_t i = 0; i < params.count; i++) {
        const tt_tensor *p = params.items[i];
        w = put_u32(w, (uint32_t)p->ndim);
        for (int d = 0; d < p->ndim; d++)
            w = put_u64(w, p->shape[d]);
        size_t numel = tt_tensor_numel(p);
        for (size_t j = 0; j < numel; j++)
            w = put_f32(w, p->storage->data[element_index(p, j)]);
    }
    if (opt) {
        const tt_optimizer_options *o = &opt->options;
        w = put_u32(w, (uint32_t)opt->kind);
        w = put_f32(w, o->lr);
        w = put_f32(w, o->momentum);
        w = put_f32(w, o->weight_decay);
        w = put_f32(w, o->beta1);
        w = put_f32(w, o->beta2);
        w = put_f32(w, o->eps);
        w = put_u64(w, (uint64_t)opt->step_count);
        w = put_u64(w, opt->n_params);
        for (size_t i = 0; i < opt->n_params; i++) {
            const tt_tensor *states[2] = {opt->state1[i], opt->state2[i]};
            *w++ = (unsigned char)((states[0] ? 1u : 0u) | (states[1] ? 2u : 0u));
            for (int k = 0; k < 2; k++) {
                size_t numel = states[k] ? tt_tensor_numel(states[k]) : 0;
                for (size_t j = 0; j < numel; j++)
                    w = put_f32(w, states[k]->storage->data[element_index(states[k], j)]);
            }
        }
    }
    put_u32(w, tt_crc32(0, buf, size - CRC_SIZE));
    TT_CHECK(write_atomic(path, buf, size));
cleanup:
    tt_free(buf);
    tt_params_release(&params);
    return st;
    /* END SOLUTION */
}

/* ------------------------------------------------------------------ load */

/* BEGIN SOLUTION: */
/* What the structural walk of a checkpoint learned. */
typedef struct ckpt_layout {
    uint32_t flags;
    uint64_t n_params;
    size_t params_pos; /* first parameter record */
    size_t opt_pos;    /* optimizer section, when flags say so */
    size_t end;        /* where the CRC should start */
    char invalid[200]; /* first invalid field, "" when none */
} ckpt_layout;

/* Read a parameter record's shape. False (with `why`) for an impossible shape. */
static bool read_shape(reader *r, int *ndim, size_t *shape, size_t *numel, char *why,
                       size_t cap, uint64_t index)
{
    uint32_t nd = read_u32(r);
    if (r->short_read)
        return true;
    if (nd > TT_MAX_DIMS) {
        snprintf(why, cap, "parameter %llu has ndim %u (expected 0..%d)",
                 (unsigned long long)index, nd, TT_MAX_DIMS);
        return false;
    }
    *ndim = (int)nd;
    *numel = 1;
    for (uint32_t d = 0; d < nd; d++) {
        uint64_t s = read_u64(r);
        if (r->short_read)
            return true;
        if (s == 0 || s > SIZE_MAX || *numel > SIZE_MAX / 4 / s) {
            snprintf(why, cap, "parameter %llu has dimension %u of size %llu",
                     (unsigned long long)index, d, (unsigned long long)s);
            return false;
        }
        shape[d] = (size_t)s;
        *numel *= (size_t)s;
    }
    return true;
}

/* Walk the whole structure without trusting it. Returns false when the bytes run out
 * (truncated); an impossible field stops the walk and is noted in layout->invalid. */
static bool walk_layout(const unsigned char *buf, size_t size, ckpt_layout *lay)
{
    reader r = {buf, size, TT_CHECKPOINT_MAGIC_SIZE + 4, false};
    lay->invalid[0] = '\0';
    lay->flags = read_u32(&r);
    lay->n_params = read_u64(&r);
    lay->params_pos = r.pos;
    for (uint64_t i = 0; i < lay->n_params && !r.short_read; i++) {
        int ndim;
        size_t shape[TT_MAX_DIMS], numel = 0;
        if (!read_shape(&r, &ndim, shape, &numel, lay->invalid, sizeof lay->invalid, i))
            return true;
        skip_f32(&r, numel);
    }
    lay->opt_pos = r.pos;
    if (lay->flags & ~TT_CHECKPOINT_HAS_OPTIMIZER) {
        snprintf(lay->invalid, sizeof lay->invalid, "unknown flags 0x%x", lay->flags);
        return !r.short_read;
    }
    if (!r.short_read && (lay->flags & TT_CHECKPOINT_HAS_OPTIMIZER)) {
        uint32_t kind = read_u32(&r);
        tt_optimizer_options o;
        o.lr = read_f32(&r);
        o.momentum = read_f32(&r);
        o.weight_decay = read_f32(&r);
        o.beta1 = read_f32(&r);
        o.beta2 = read_f32(&r);
        o.eps = read_f32(&r);
        uint64_t step = read_u64(&r);
        uint64_t n = read_u64(&r);
        if (r.short_read)
            return false;
        if (!kind_known(kind) || !options_valid((tt_optimizer_kind)kind, &o) ||
            step > (uint64_t)LONG_MAX || n != lay->n_params) {
            snprintf(lay->invalid, sizeof lay->invalid, "invalid optimizer header (kind %u, "
                     "lr %g, step %llu, %llu states for %llu parameters)", kind, (double)o.lr,
                     (unsigned long long)step, (unsigned long long)n,
                     (unsigned long long)lay->n_params);
            return true;
        }
        /* The states' sizes come from the parameter records: walk those again. */
        reader pr = {buf, size, lay->params_pos, false};
        for (uint64_t i = 0; i < n && !r.short_read; i++) {
            int ndim;
            size_t shape[TT_MAX_DIMS], numel = 0;
            read_shape(&pr, &ndim, shape, &numel, lay->invalid, sizeof lay->invalid, i);
            skip_f32(&pr, numel);
            unsigned present = *take(&r, 1);
            bool needs_pair = kind != TT_OPTIM_SGD;
            if (present > 3 || (!needs_pair && (present & 2)) ||
                (needs_pair && present != 0 && present != 3)) {
                snprintf(lay->invalid, sizeof lay->invalid, "optimizer state %llu: presence "
                         "bits 0x%x are impossible for %s", (unsigned long long)i, present,
                         kind_name(kind));
                return !r.short_read;
            }
            skip_f32(&r, (present & 1) ? numel : 0);
            skip_f32(&r, (present & 2) ? numel : 0);
        }
    }
    lay->end = r.pos;
    return !r.short_read;
}

/* Copy `numel` floats from the reader into t's elements (any strides). */
static void read_into(reader *r, tt_tensor *t, size_t numel)
{
    float *base = t->storage->data;
    for (size_t j = 0; j < numel; j++)
        base[element_index(t, j)] = read_f32(r);
}
/* END SOLUTION */

tt_status tt_checkpoint_load(const char *path, tt_layer *model, tt_optimizer *opt)
{
    /* BEGIN SOLUTION */
    if (!path || !model)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_checkpoint_load: %s is NULL",
                            path ? "model" : "path");
    tt_status st = TT_OK;
    unsigned char *buf = NULL;
    tt_tensor **fresh = NULL; /* state tensors to hand to opt: [2 * n] */
    int fd = -1;
    size_t size = 0;
    tt_params params;
    tt_params_init(&params);
    ckpt_layout lay;

    /* Read the whole file: checkpoints are at most a few times the model's size, and
     * checking before writing needs all of it anyway. */
    fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = tt_error_set(TT_ERR_IO, "tt_checkpoint_load: cannot open '%s': %s", path,
                          strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = tt_error_set(TT_ERR_IO, "tt_checkpoint_load: '%s' is not a regular file", path);
        goto cleanup;
    }
    size = (size_t)sb.st_size;
    buf = tt_malloc(size);
    if (!buf) {
        st = TT_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t done = 0; done < size;) {
        ssize_t got = read(fd, buf + done, size - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            st = tt_error_set(TT_ERR_IO, "tt_checkpoint_load: reading '%s': %s", path,
                              got < 0 ? strerror(errno) : "the file shrank while being read");
            goto cleanup;
        }
        done += (size_t)got;
    }

    /* The file's own consistency: magic, version, structure, CRC, fields. */
    size_t magic_seen = size < TT_CHECKPOINT_MAGIC_SIZE ? size : TT_CHECKPOINT_MAGIC_SIZE;
    if (memcmp(buf, TT_CHECKPOINT_MAGIC, magic_seen) != 0) {
        st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' is not a TinyTorch-C "
                          "checkpoint (bad magic bytes)", path);
        goto cleanup;
    }
    if (size < HEADER_SIZE + CRC_SIZE) {
        st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' is truncated: %zu bytes "
                          "(a checkpoint has at least %u)", path, size,
                          HEADER_SIZE + CRC_SIZE);
        goto cleanup;
    }
    uint32_t version = get_u32(buf + TT_CHECKPOINT_MAGIC_SIZE);
    if (version != TT_CHECKPOINT_VERSION) {
        st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' has format version %u "
                          "(this library reads version %u)", path, version,
                          TT_CHECKPOINT_VERSION);
        goto cleanup;
    }
    size_t body = size - CRC_SIZE;
    if (!walk_layout(buf, body, &lay)) {
        st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' is truncated: its "
                          "contents end before the records its header announces (%zu bytes)",
                          path, size);
        goto cleanup;
    }
    uint32_t stored = get_u32(buf + body), computed = tt_crc32(0, buf, body);
    if (stored != computed) {
        st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' is corrupt: CRC-32 "
                          "mismatch (stored 0x%08x, computed 0x%08x)", path, stored, computed);
        goto cleanup;
    }
    if (lay.invalid[0]) {
        st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s': %s", path, lay.invalid);
        goto cleanup;
    }
    if (lay.end != body) {
        st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' has %zu unexpected bytes "
                          "after its contents", path, body - lay.end);
        goto cleanup;
    }

    /* The file against the model and the optimizer. */
    TT_CHECK(tt_layer_parameters(model, &params));
    if (lay.n_params != params.count) {
        st = tt_error_set(TT_ERR_SHAPE, "tt_checkpoint_load: '%s' holds %llu parameter "
                          "tensors, the model has %zu", path,
                          (unsigned long long)lay.n_params, params.count);
        goto cleanup;
    }
    reader r = {buf, body, lay.params_pos, false};
    for (size_t i = 0; i < params.count; i++) {
        int ndim = 0;
        size_t shape[TT_MAX_DIMS], numel = 0;
        char why[8];
        read_shape(&r, &ndim, shape, &numel, why, sizeof why, i);
        skip_f32(&r, numel);
        tt_tensor *p = params.items[i];
        bool same = p->ndim == ndim;
        for (int d = 0; same && d < ndim; d++)
            same = p->shape[d] == shape[d];
        if (!same) {
            char a[64], b[64];
            st = tt_error_set(TT_ERR_SHAPE, "tt_checkpoint_load: parameter %zu (in "
                              "tt_layer_parameters order) has shape %s in '%s' but %s in the "
                              "model", i, shape_str(a, sizeof a, ndim, shape), path,
                              shape_str(b, sizeof b, p->ndim, p->shape));
            goto cleanup;
        }
    }
    if (opt) {
        if (!(lay.flags & TT_CHECKPOINT_HAS_OPTIMIZER)) {
            st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' has no optimizer state "
                              "(it was saved without an optimizer); pass opt = NULL to load "
                              "only the parameters", path);
            goto cleanup;
        }
        uint32_t kind = get_u32(buf + lay.opt_pos);
        if (kind != (uint32_t)opt->kind) {
            st = tt_error_set(TT_ERR_FORMAT, "tt_checkpoint_load: '%s' holds %s state but the "
                              "optimizer is %s", path, kind_name(kind),
                              kind_name((uint32_t)opt->kind));
            goto cleanup;
        }
        if (opt->n_params != params.count) {
            st = tt_error_set(TT_ERR_SHAPE, "tt_checkpoint_load: the optimizer has %zu "
                              "parameters, the model and '%s' %zu", opt->n_params, path,
                              params.count);
            goto cleanup;
        }
        for (size_t i = 0; i < params.count; i++) {
            tt_tensor *p = params.items[i];
            if (!tt_tensor_same_shape(opt->params[i], p) ||
                (opt->state1[i] && !tt_tensor_same_shape(opt->state1[i], p)) ||
                (opt->state2[i] && !tt_tensor_same_shape(opt->state2[i], p))) {
                st = tt_error_set(TT_ERR_SHAPE, "tt_checkpoint_load: optimizer parameter %zu "
                                  "(or its state) does not have the shape of model parameter "
                                  "%zu", i, i);
                goto cleanup;
            }
        }
        /* Every state buffer the file fills and the optimizer lacks, made now. */
        fresh = tt_calloc(2 * params.count, sizeof *fresh);
        if (!fresh) {
            st = TT_ERR_NOMEM;
            goto cleanup;
        }
        reader sr = {buf, body, lay.opt_pos + OPT_HEADER_SIZE, false};
        for (size_t i = 0; i < params.count; i++) {
            unsigned present = *take(&sr, 1);
            tt_tensor *p = params.items[i];
            skip_f32(&sr, ((present & 1) + (present >> 1)) * tt_tensor_numel(p));
            if ((present & 1) && !opt->state1[i])
                TT_CHECK(tt_tensor_zeros(&fresh[2 * i], p->ndim, p->shape));
            if ((present & 2) && !opt->state2[i])
                TT_CHECK(tt_tensor_zeros(&fresh[2 * i + 1], p->ndim, p->shape));
        }
    }

    /* Nothing below can fail. */
    r = (reader){buf, body, lay.params_pos, false};
    for (size_t i = 0; i < params.count; i++) {
        int ndim;
        size_t shape[TT_MAX_DIMS], numel = 0;
        char why[8];
        read_shape(&r, &ndim, shape, &numel, why, sizeof why, i);
        read_into(&r, params.items[i], numel);
    }
    if (opt) {
        r = (reader){buf, body, lay.opt_pos + 4, false};
        opt->options.lr = read_f32(&r);
        opt->options.momentum = read_f32(&r);
        opt->options.weight_decay = read_f32(&r);
        opt->options.beta1 = read_f32(&r);
        opt->options.beta2 = read_f32(&r);
        opt->options.eps = read_f32(&r);
        opt->step_count = (long)read_u64(&r);
        (void)read_u64(&r);
        for (size_t i = 0; i < params.count; i++) {
            unsigned present = *take(&r, 1);
            size_t numel = tt_tensor_numel(params.items[i]);
            tt_tensor **slots[2] = {&opt->state1[i], &opt->state2[i]};
            for (int k = 0; k < 2; k++) {
                if (present & (1u << k)) {
                    if (!*slots[k]) {
                        *slots[k] = fresh[2 * i + (size_t)k];
                        fresh[2 * i + (size_t)k] = NULL;
                    }
                    read_into(&r, *slots[k], numel);
                } else {
                    /* Absent in the file means "not yet used": so it must be here too. */
                    tt_tensor_free(*slots[k]);
                    *slots[k] = NULL;
                }
            }
        }
    }
cleanup:
    if (fd >= 0)
        close(fd);
    if (fresh) {
        for (size_t i = 0; i < 2 * params.count; i++)
            tt_tensor_free(fresh[i]);
        tt_free(fresh);
    }
    tt_free(buf);
    tt_params_release(&params);
    return st;
    /* END SOLUTION */
}
