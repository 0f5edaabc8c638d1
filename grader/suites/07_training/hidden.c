/*
 * grader/suites/07_training/hidden.c: the hidden checks of module 07 (training).
 *
 * Compiled into the grading kit, never shipped as source: students see only each
 * case's category and verdict. Same contract as visible.c from other angles: every
 * single-byte flip and every truncation of a valid checkpoint, forged fields behind a
 * valid CRC, loading a checkpoint without state into an optimizer that has some,
 * resuming SGD and AdamW runs, 0-D and 4-D parameters, no temporary file left behind
 * and the file's mode, many schedule points, clipping at the boundary and on strided
 * grads, and every allocation of save, load, a training step and an evaluation
 * failing in turn.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/tensor.h"
#include "tinytorch/training.h"

#include "helpers.h"

/* ------------------------------------------------------------ more helpers */

/* A single Linear(in, out) with bias. */
static tt_layer *make_linear(uint64_t seed, size_t in, size_t out)
{
    tt_rng rng;
    tt_rng_init(&rng, seed);
    tt_layer *l = NULL;
    return tt_linear_new(&l, in, out, true, &rng) == TT_OK ? l : NULL;
}

/* Where the optimizer section of a checkpoint of `model` starts. */
static size_t optimizer_offset(tt_layer *model)
{
    tt_params ps;
    tt_params_init(&ps);
    tt_layer_parameters(model, &ps);
    size_t at = 24;
    for (size_t i = 0; i < ps.count; i++)
        at += 4 + 8 * (size_t)ps.items[i]->ndim + 4 * tt_tensor_numel(ps.items[i]);
    tt_params_release(&ps);
    return at;
}

/* Entries of the working directory whose name starts with `prefix`. */
static long count_files(const char *prefix)
{
    DIR *dir = opendir(".");
    if (!dir)
        return -1;
    long n = 0;
    size_t len = strlen(prefix);
    for (struct dirent *e = readdir(dir); e; e = readdir(dir))
        if (strncmp(e->d_name, prefix, len) == 0)
            n++;
    closedir(dir);
    return n;
}

/* A layer of its own with parameters of any shapes, for the format's corners. */
typedef struct shapes_layer {
    tt_layer base;
    int n;
    tt_tensor *p[4];
} shapes_layer;

static tt_status shapes_forward(tt_layer *layer, tt_tensor **out, tt_tensor *x)
{
    (void)layer;
    (void)out;
    (void)x;
    return TT_ERR_STATE;
}

static tt_status shapes_parameters(tt_layer *layer, tt_params *params)
{
    shapes_layer *s = (shapes_layer *)layer;
    for (int i = 0; i < s->n; i++) {
        tt_status st = tt_params_push(params, s->p[i]);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
}

static void shapes_destroy(tt_layer *layer)
{
    shapes_layer *s = (shapes_layer *)layer;
    for (int i = 0; i < s->n; i++)
        tt_tensor_free(s->p[i]);
    tt_free(s);
}

static const tt_layer_vtable shapes_vtable = {"ProbeShapes", shapes_forward, shapes_parameters,
                                              NULL, shapes_destroy};

/* Parameters [], [2,1,3,2] and [5], random. */
static tt_layer *make_shapes(tito_probe *p)
{
    shapes_layer *s = tt_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.vtable = &shapes_vtable;
    s->base.training = true;
    s->n = 3;
    s->p[0] = probe_randn(p, 0, NULL);
    s->p[1] = probe_randn(p, 4, TT_SHAPE(2, 1, 3, 2));
    s->p[2] = probe_randn(p, 1, TT_SHAPE(5));
    for (int i = 0; i < 3; i++)
        if (s->p[i])
            tt_tensor_set_requires_grad(s->p[i], true);
    return &s->base;
}

/* One optimizer step with random grads for every parameter (no model forward). */
static tt_status random_step(tito_probe *p, tt_optimizer *opt)
{
    for (size_t i = 0; i < opt->n_params; i++) {
        tt_tensor *t = opt->params[i];
        tt_tensor_free(t->grad);
        t->grad = probe_randn(p, t->ndim, t->shape);
    }
    return tt_optimizer_step(opt);
}

/* ------------------------------------------------------------ every flip, every cut */

static void case_every_byte_flip(tito_probe *p)
{
    begin();
    tt_layer *model = make_linear(tt_rng_next_u32(probe_rng(p)), 2, 3);
    tt_layer *victim = make_linear(tt_rng_next_u32(probe_rng(p)), 2, 3);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_SGD, 0.1f);
    tt_optimizer *vopt = make_optimizer(victim, TT_OPTIM_SGD, 0.2f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *y = class_targets(p, 4, 3);
    const char *good = "flip_good.ckpt", *bad = "flip_bad.ckpt";
    probe_note(p, "a valid checkpoint of Linear(2,3) with SGD momentum state (saved by your "
                  "code, 178 bytes), and every copy of it with one byte inverted (b ^ 0xFF), "
                  "loaded into another Linear(2,3) and SGD: every one is TT_ERR_FORMAT and "
                  "changes nothing");
    probe_tol_exact(p);
    probe_int(p, "models_made", model && victim && opt && vopt);
    if (!model || !victim || !opt || !vopt)
        goto cleanup;
    probe_status(p, "train", train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 1));
    probe_status(p, "train_victim", train_steps(victim, vopt, TT_LOSS_CROSS_ENTROPY, x, y, 2));
    probe_status(p, "save", tt_checkpoint_save(good, model, opt));
    size_t size = 0;
    unsigned char *d = read_file(good, &size);
    probe_int(p, "size", (long)size);
    long format = 0, unchanged = 0;
    for (size_t i = 0; d && i < size; i++) {
        tt_status st;
        d[i] ^= 0xFF;
        unchanged += refused_unchanged(bad, d, size, victim, vopt, &st);
        format += st == TT_ERR_FORMAT;
        d[i] ^= 0xFF;
    }
    probe_int(p, "flips_refused_with_TT_ERR_FORMAT", format);
    probe_int(p, "flips_that_changed_nothing", unchanged);
    free(d);
    remove(bad);
    remove(good);
cleanup:
    tt_optimizer_free(vopt);
    tt_optimizer_free(opt);
    tt_layer_free(victim);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_every_truncation(tito_probe *p)
{
    begin();
    tt_layer *model = make_linear(tt_rng_next_u32(probe_rng(p)), 3, 2);
    tt_layer *victim = make_linear(tt_rng_next_u32(probe_rng(p)), 3, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.1f);
    tt_optimizer *vopt = make_optimizer(victim, TT_OPTIM_ADAM, 0.2f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_tensor *y = class_targets(p, 4, 2);
    const char *good = "cut_good.ckpt", *bad = "cut_bad.ckpt";
    probe_note(p, "a valid checkpoint of Linear(3,2) with Adam state, and every prefix of it "
                  "(0 bytes up to all but the last), loaded into another Linear(3,2) and Adam: "
                  "each is TT_ERR_FORMAT and changes nothing");
    probe_tol_exact(p);
    probe_int(p, "models_made", model && victim && opt && vopt);
    if (!model || !victim || !opt || !vopt)
        goto cleanup;
    probe_status(p, "train", train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 1));
    probe_status(p, "train_victim", train_steps(victim, vopt, TT_LOSS_CROSS_ENTROPY, x, y, 1));
    probe_status(p, "save", tt_checkpoint_save(good, model, opt));
    size_t size = 0;
    unsigned char *d = read_file(good, &size);
    probe_int(p, "size", (long)size);
    long format = 0, unchanged = 0;
    for (size_t n = 0; d && n < size; n++) {
        tt_status st;
        unchanged += refused_unchanged(bad, d, n, victim, vopt, &st);
        format += st == TT_ERR_FORMAT;
    }
    probe_int(p, "truncations_refused_with_TT_ERR_FORMAT", format);
    probe_int(p, "truncations_that_changed_nothing", unchanged);
    free(d);
    remove(bad);
    remove(good);
cleanup:
    tt_optimizer_free(vopt);
    tt_optimizer_free(opt);
    tt_layer_free(victim);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ forged files */

static void case_forged_fields(tito_probe *p)
{
    begin();
    tt_layer *model = make_mlp(tt_rng_next_u32(probe_rng(p)), 2, 3, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.01f);
    tt_layer *victim = make_mlp(tt_rng_next_u32(probe_rng(p)), 2, 3, 2);
    tt_optimizer *vopt = make_optimizer(victim, TT_OPTIM_ADAM, 0.01f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(4, 2));
    tt_tensor *y = class_targets(p, 4, 2);
    const char *path = "forged.ckpt";
    unsigned char *bad = NULL;
    probe_note(p, "files with a valid CRC-32 but one invalid field each (made by the probe from "
                  "a valid file of Linear(2,3) ReLU Linear(3,2) + Adam): ndim 7, a dimension of "
                  "size 0, 8 bytes after the contents, lr -1, step_count -1, 5 states for 4 "
                  "parameters, optimizer kind 9, presence bits 1 for Adam (m without v): each "
                  "TT_ERR_FORMAT, nothing changed");
    probe_tol_exact(p);
    probe_int(p, "models_made", model && opt && victim && vopt);
    if (!model || !opt || !victim || !vopt)
        goto cleanup;
    probe_status(p, "train", train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 2));
    probe_status(p, "train_victim", train_steps(victim, vopt, TT_LOSS_CROSS_ENTROPY, x, y, 1));
    bytes good = encode_checkpoint(model, opt);
    size_t size = good.n, at = optimizer_offset(model);
    bad = malloc(size + 16);
    if (!good.d || !bad) {
        free(good.d);
        goto cleanup;
    }
    memcpy(bad, good.d, size);
    put_le32(bad + 24, 7);
    fix_crc(bad, size);
    refuse(p, "ndim_7", path, bad, size, victim, vopt);
    memcpy(bad, good.d, size);
    memset(bad + 28, 0, 8);
    fix_crc(bad, size);
    refuse(p, "dimension_0", path, bad, size, victim, vopt);
    memcpy(bad, good.d, size - 4);
    memset(bad + size - 4, 0xAB, 8);
    fix_crc(bad, size + 8);
    refuse(p, "trailing_bytes", path, bad, size + 8, victim, vopt);
    memcpy(bad, good.d, size);
    put_le32(bad + at + 4, 0xBF800000u);
    fix_crc(bad, size);
    refuse(p, "lr_negative", path, bad, size, victim, vopt);
    memcpy(bad, good.d, size);
    memset(bad + at + 28, 0xFF, 8);
    fix_crc(bad, size);
    refuse(p, "step_count_negative", path, bad, size, victim, vopt);
    memcpy(bad, good.d, size);
    put_le32(bad + at + 36, 5);
    fix_crc(bad, size);
    refuse(p, "n_states_5", path, bad, size, victim, vopt);
    memcpy(bad, good.d, size);
    put_le32(bad + at, 9);
    fix_crc(bad, size);
    refuse(p, "kind_9", path, bad, size, victim, vopt);
    memcpy(bad, good.d, size);
    bad[at + 44] = 1;
    fix_crc(bad, size);
    refuse(p, "adam_presence_1", path, bad, size, victim, vopt);
    free(good.d);
    remove(path);
cleanup:
    free(bad);
    tt_optimizer_free(vopt);
    tt_layer_free(victim);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ resuming */

static void case_state_absent_clears(tito_probe *p)
{
    begin();
    tt_layer *model = make_mlp(tt_rng_next_u32(probe_rng(p)), 3, 3, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.01f);
    tt_layer *victim = make_mlp(tt_rng_next_u32(probe_rng(p)), 3, 3, 2);
    tt_optimizer *vopt = make_optimizer(victim, TT_OPTIM_ADAM, 0.01f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(5, 3));
    tt_tensor *y = class_targets(p, 5, 2);
    const char *path = "fresh.ckpt";
    probe_note(p, "a checkpoint saved before any step (Adam with no state, step_count 0), loaded "
                  "into an Adam that has state after 2 steps: the state is dropped (NULL) and "
                  "step_count is 0, so that 2 further steps on both give the same bits");
    probe_tol_exact(p);
    probe_int(p, "models_made", model && opt && victim && vopt);
    if (!model || !opt || !victim || !vopt)
        goto cleanup;
    probe_status(p, "save", tt_checkpoint_save(path, model, opt));
    probe_status(p, "train_victim", train_steps(victim, vopt, TT_LOSS_CROSS_ENTROPY, x, y, 2));
    probe_status(p, "load", tt_checkpoint_load(path, victim, vopt));
    probe_int(p, "step_count", vopt->step_count);
    long states = 0;
    for (size_t i = 0; i < vopt->n_params; i++)
        states += (vopt->state1[i] != NULL) + (vopt->state2[i] != NULL);
    probe_int(p, "state_buffers_left", states);
    probe_status(p, "train_both", train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 2));
    probe_status(p, "train_both_victim", train_steps(victim, vopt, TT_LOSS_CROSS_ENTROPY, x, y, 2));
    snap a = snap_take(model, opt), b = snap_take(victim, vopt);
    probe_int(p, "bit_identical", snap_same(&a, &b));
    snap_free(&b);
    snap_free(&a);
    remove(path);
cleanup:
    tt_optimizer_free(vopt);
    tt_layer_free(victim);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void resume_check(tito_probe *p, tt_optimizer_kind kind, const char *tag)
{
    tt_layer *model = make_mlp(tt_rng_next_u32(probe_rng(p)), 3, 5, 3);
    tt_optimizer *opt = make_optimizer(model, kind, 0.02f);
    tt_layer *fresh = make_mlp(tt_rng_next_u32(probe_rng(p)), 3, 5, 3);
    tt_optimizer *fopt = make_optimizer(fresh, kind, 0.5f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(7, 3));
    tt_tensor *y = class_targets(p, 7, 3);
    char path[32], label[64];
    snprintf(path, sizeof path, "resume_%s.ckpt", tag);
    probe_tol_exact(p);
    if (!model || !opt || !fresh || !fopt)
        goto cleanup;
    tt_status st = train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 3);
    if (st == TT_OK)
        st = tt_checkpoint_save(path, model, opt);
    if (st == TT_OK)
        st = train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 2);
    snprintf(label, sizeof label, "%s.run_a", tag);
    probe_status(p, label, st);
    st = tt_checkpoint_load(path, fresh, fopt);
    snprintf(label, sizeof label, "%s.load", tag);
    probe_status(p, label, st);
    st = train_steps(fresh, fopt, TT_LOSS_CROSS_ENTROPY, x, y, 2);
    snap a = snap_take(model, opt), b = snap_take(fresh, fopt);
    snprintf(label, sizeof label, "%s.bit_identical", tag);
    probe_int(p, label, snap_same(&a, &b));
    snap_free(&b);
    snap_free(&a);
    remove(path);
cleanup:
    tt_optimizer_free(fopt);
    tt_layer_free(fresh);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_resume_sgd_adamw(tito_probe *p)
{
    begin();
    probe_note(p, "3 steps, save, 2 steps; versus load into a fresh model and optimizer (lr "
                  "0.5, replaced by the file's 0.02) and 2 steps: bit-identical, for SGD with "
                  "momentum 0.9 and for AdamW");
    resume_check(p, TT_OPTIM_SGD, "sgd");
    resume_check(p, TT_OPTIM_ADAMW, "adamw");
}

static void case_unusual_shapes(tito_probe *p)
{
    begin();
    tt_layer *model = make_shapes(p);
    tt_layer *victim = make_shapes(p);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.01f);
    tt_optimizer *vopt = make_optimizer(victim, TT_OPTIM_ADAM, 0.01f);
    const char *path = "shapes.ckpt", *mine = "shapes_probe.ckpt";
    probe_note(p, "a layer whose parameters have shapes [] (0-D: ndim 0, no shape entries), "
                  "[2,1,3,2] and [5], with Adam after one step: your file as the probe parses "
                  "it, then loaded into another such layer; and a file the probe wrote, loaded "
                  "by your code");
    probe_tol_exact(p);
    probe_int(p, "made", model && victim && opt && vopt);
    if (!model || !victim || !opt || !vopt)
        goto cleanup;
    probe_status(p, "step", random_step(p, opt));
    probe_status(p, "save", tt_checkpoint_save(path, model, opt));
    size_t size = 0;
    unsigned char *d = read_file(path, &size);
    parsed f;
    parse_checkpoint(&f, d, size, model, opt);
    probe_int(p, "file.size", (long)size);
    probe_int(p, "file.param0.ndim", f.ndim[0]);
    probe_int(p, "file.param1.ndim", f.ndim[1]);
    probe_int(p, "file.layout_and_crc_ok", f.ok);
    probe_int(p, "file.values_are_the_model's_bits", f.data_matches);
    free(d);
    probe_status(p, "load", tt_checkpoint_load(path, victim, vopt));
    snap a = snap_take(model, opt), b = snap_take(victim, vopt);
    probe_int(p, "loaded_equals_saved", snap_same(&a, &b));
    snap_free(&b);
    snap_free(&a);
    probe_status(p, "step_victim", random_step(p, vopt));
    bytes w = encode_checkpoint(victim, vopt);
    write_file(mine, w.d, w.n);
    free(w.d);
    probe_status(p, "load_probe_file", tt_checkpoint_load(mine, model, opt));
    a = snap_take(model, opt);
    b = snap_take(victim, vopt);
    probe_int(p, "loaded_equals_probe_file", snap_same(&a, &b));
    snap_free(&b);
    snap_free(&a);
    remove(mine);
    remove(path);
cleanup:
    tt_optimizer_free(vopt);
    tt_optimizer_free(opt);
    tt_layer_free(victim);
    tt_layer_free(model);
}

static void case_atomic_files(tito_probe *p)
{
    begin();
    tt_layer *model = make_linear(tt_rng_next_u32(probe_rng(p)), 4, 3);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_SGD, 0.1f);
    const char *path = "atomic.ckpt";
    probe_note(p, "with umask 022: after tt_checkpoint_save(\"atomic.ckpt\", ...) twice, the "
                  "directory holds atomic.ckpt and no temporary (no atomic.ckpt.tmp.*), with "
                  "mode 0644 (0666 minus the umask, as any new file); the file holds the second "
                  "save");
    probe_tol_exact(p);
    probe_int(p, "made", model && opt);
    if (!model || !opt)
        goto cleanup;
    mode_t old = umask(022);
    probe_status(p, "save_1", tt_checkpoint_save(path, model, opt));
    probe_status(p, "step", random_step(p, opt));
    probe_status(p, "save_2", tt_checkpoint_save(path, model, opt));
    umask(old);
    probe_int(p, "files_named_atomic.ckpt*", count_files(path));
    struct stat sb;
    probe_int(p, "mode", stat(path, &sb) == 0 ? (long)(sb.st_mode & 0777) : -1);
    size_t size = 0;
    unsigned char *d = read_file(path, &size);
    parsed f;
    parse_checkpoint(&f, d, size, model, opt);
    probe_int(p, "holds_the_second_save", f.ok && f.data_matches);
    free(d);
    remove(path);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(model);
}

/* ------------------------------------------------------------ allocation failures */

static void case_alloc_save_load(tito_probe *p)
{
    begin();
    tt_layer *model = make_mlp(tt_rng_next_u32(probe_rng(p)), 2, 3, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.01f);
    tt_layer *victim = make_mlp(tt_rng_next_u32(probe_rng(p)), 2, 3, 2);
    tt_optimizer *vopt = make_optimizer(victim, TT_OPTIM_ADAM, 0.01f);
    const char *path = "alloc.ckpt";
    probe_note(p, "tt_checkpoint_save and then tt_checkpoint_load (into a model and an Adam "
                  "without state, so the load allocates state) with allocation n failing, n = 0, "
                  "1, ...: every failure is TT_ERR_NOMEM, leaves no file (save) or nothing "
                  "changed (load), leaks nothing; then each succeeds");
    probe_tol_exact(p);
    probe_int(p, "made", model && opt && victim && vopt);
    if (!model || !opt || !victim || !vopt)
        goto cleanup;
    probe_status(p, "step", random_step(p, opt));
    int save_nomem = 1, save_no_file = 1, save_no_leak = 1, save_done = 0;
    long save_failures = 0;
    for (long n = 0; n < 200 && !save_done; n++) {
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_checkpoint_save(path, model, opt);
        tt_alloc_fail_after(-1);
        save_no_leak &= tt_alloc_live() == live;
        if (st == TT_OK) {
            save_done = 1;
            break;
        }
        save_failures++;
        save_nomem &= st == TT_ERR_NOMEM;
        save_no_file &= count_files(path) == 0;
    }
    probe_int(p, "save.finally_succeeded", save_done);
    probe_int(p, "save.some_allocation_failed", save_failures > 0);
    probe_int(p, "save.every_failure_is_TT_ERR_NOMEM", save_nomem);
    probe_int(p, "save.no_file_after_a_failure", save_no_file);
    probe_int(p, "save.nothing_leaked", save_no_leak);
    int load_nomem = 1, load_unchanged = 1, load_no_leak = 1, load_done = 0;
    long load_failures = 0;
    for (long n = 0; n < 200 && !load_done; n++) {
        snap before = snap_take(victim, vopt);
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_checkpoint_load(path, victim, vopt);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            load_done = 1;
        } else {
            load_failures++;
            load_nomem &= st == TT_ERR_NOMEM;
            load_no_leak &= tt_alloc_live() == live;
            snap after = snap_take(victim, vopt);
            load_unchanged &= snap_same(&before, &after);
            snap_free(&after);
        }
        snap_free(&before);
    }
    probe_int(p, "load.finally_succeeded", load_done);
    probe_int(p, "load.some_allocation_failed", load_failures > 0);
    probe_int(p, "load.every_failure_is_TT_ERR_NOMEM", load_nomem);
    probe_int(p, "load.nothing_changed_by_a_failure", load_unchanged);
    probe_int(p, "load.nothing_leaked", load_no_leak);
    snap a = snap_take(model, opt), b = snap_take(victim, vopt);
    probe_int(p, "loaded_equals_saved", snap_same(&a, &b));
    snap_free(&b);
    snap_free(&a);
    remove(path);
cleanup:
    tt_optimizer_free(vopt);
    tt_layer_free(victim);
    tt_optimizer_free(opt);
    tt_layer_free(model);
}

static void case_alloc_step_evaluate(tito_probe *p)
{
    begin();
    tt_layer *model = make_mlp(tt_rng_next_u32(probe_rng(p)), 3, 4, 2);
    tt_optimizer *opt = make_optimizer(model, TT_OPTIM_ADAM, 0.01f);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(5, 3));
    tt_tensor *y = class_targets(p, 5, 2);
    probe_note(p, "tt_train_step (Adam, cross-entropy, clipping at 1) and tt_evaluate (batch 2) "
                  "with allocation n failing, n = 0, 1, ...: every failure is TT_ERR_NOMEM; a "
                  "failed step changes no parameter and no optimizer state and leaves grad mode "
                  "on; a failed evaluation zeroes *out and restores training mode and grad "
                  "mode; then each succeeds with the reference's values");
    probe_tol_exact(p);
    probe_int(p, "made", model && opt);
    if (!model || !opt)
        goto cleanup;
    probe_status(p, "first_step", train_steps(model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 1));
    int nomem = 1, unchanged = 1, mode = 1, done = 0;
    long failures = 0;
    float loss = NAN;
    for (long n = 0; n < 2000 && !done; n++) {
        snap before = snap_take(model, opt);
        tt_alloc_fail_after(n);
        tt_status st = tt_train_step(&loss, model, opt, TT_LOSS_CROSS_ENTROPY, x, y, 1.0f);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            done = 1;
        } else {
            failures++;
            nomem &= st == TT_ERR_NOMEM;
            mode &= tt_grad_is_enabled();
            snap after = snap_take(model, opt);
            unchanged &= snap_same(&before, &after);
            snap_free(&after);
            tt_grad_set_enabled(true);
        }
        snap_free(&before);
    }
    probe_int(p, "step.finally_succeeded", done);
    probe_int(p, "step.some_allocation_failed", failures > 0);
    probe_int(p, "step.every_failure_is_TT_ERR_NOMEM", nomem);
    probe_int(p, "step.nothing_changed_by_a_failure", unchanged);
    probe_int(p, "step.grad_mode_on_after_every_failure", mode);
    tol_ulps(p);
    probe_scalar(p, "step.loss", loss);
    record_model(p, "after_step", model);
    int enomem = 1, zeroed = 1, modes = 1, edone = 0;
    long efailures = 0;
    tt_eval_result r;
    for (long n = 0; n < 2000 && !edone; n++) {
        memset(&r, 0x5a, sizeof r);
        tt_alloc_fail_after(n);
        tt_status st = tt_evaluate(&r, model, TT_LOSS_CROSS_ENTROPY, x, y, 2);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            edone = 1;
        } else {
            efailures++;
            enomem &= st == TT_ERR_NOMEM;
            zeroed &= r.loss == 0.0 && r.accuracy == 0.0 && r.n_samples == 0;
            modes &= model->training && tt_grad_is_enabled();
            tt_grad_set_enabled(true);
            tt_layer_set_training(model, true);
        }
    }
    probe_tol_exact(p);
    probe_int(p, "evaluate.finally_succeeded", edone);
    probe_int(p, "evaluate.some_allocation_failed", efailures > 0);
    probe_int(p, "evaluate.every_failure_is_TT_ERR_NOMEM", enomem);
    probe_int(p, "evaluate.out_zeroed_after_every_failure", zeroed);
    probe_int(p, "evaluate.modes_restored_after_every_failure", modes);
    probe_tol_reduction(p, 5);
    probe_scalar(p, "evaluate.loss", r.loss);
    probe_tol_exact(p);
    probe_scalar(p, "evaluate.accuracy", r.accuracy);
cleanup:
    tt_grad_set_enabled(true);
    tt_optimizer_free(opt);
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ schedule, clipping, crc */

static void case_cosine_many(tito_probe *p)
{
    begin();
    long total = 40 + (long)tt_rng_below(probe_rng(p), 100);
    long warmup = (long)tt_rng_below(probe_rng(p), 20);
    float base = 1e-3f + tt_rng_uniform(probe_rng(p));
    float min = 1e-5f * (1.0f + tt_rng_uniform(probe_rng(p)));
    probe_note(p, "tt_cosine_lr(step, total %ld, warmup %ld, base %.9g, min %.9g) for every step "
                  "from -2 to total + 2 (exact floats); and runs of 1 step (lr(0, 1, 0) = base, "
                  "lr(0, 1, 1) = base) and 0 steps (min)", total, warmup, base, min);
    probe_tol_exact(p);
    for (long s = -2; s <= total + 2; s++) {
        char label[32];
        snprintf(label, sizeof label, "lr(%ld)", s);
        probe_scalar(p, label, tt_cosine_lr(s, total, warmup, base, min));
    }
    probe_scalar(p, "lr(0,1,0)", tt_cosine_lr(0, 1, 0, base, min));
    probe_scalar(p, "lr(0,1,1)", tt_cosine_lr(0, 1, 1, base, min));
    probe_scalar(p, "lr(0,0,0)", tt_cosine_lr(0, 0, 0, base, min));
}

static void case_clip_boundary_and_views(tito_probe *p)
{
    begin();
    tt_tensor *a = probe_from_data(p, 1, TT_SHAPE(2), (const float[]){3.0f, 4.0f});
    tt_tensor *b = probe_randn(p, 2, TT_SHAPE(3, 4));
    tt_tensor *gbase = probe_randn(p, 2, TT_SHAPE(4, 3));
    tt_params one, two;
    tt_params_init(&one);
    tt_params_init(&two);
    float norm = 0.0f;
    probe_note(p, "a grad [3, 4] has norm 5: clipping to 5 changes nothing (only norm > max "
                  "clips); then b [3,4] whose grad is a transposed view of a [4,3] tensor "
                  "(strides [1,3]) together with a: clipped to 2 through the view's strides");
    probe_tol_exact(p);
    if (!a || !b || !gbase)
        goto cleanup;
    a->grad = probe_from_data(p, 1, TT_SHAPE(2), (const float[]){3.0f, 4.0f});
    tt_params_push(&one, a);
    probe_status(p, "clip_at_5", tt_clip_grad_norm(&norm, &one, 5.0f));
    probe_scalar(p, "norm", norm);
    probe_tensor(p, "a.grad", a->grad);
    probe_status(p, "transpose", tt_tensor_transpose(&b->grad, gbase, 0, 1));
    tt_params_push(&two, a);
    tt_params_push(&two, b);
    probe_status(p, "clip_view", tt_clip_grad_norm(&norm, &two, 2.0f));
    probe_tol_reduction(p, 14);
    probe_scalar(p, "norm_2", norm);
    tol_ulps(p);
    probe_tensor(p, "a.grad_2", a->grad);
    probe_tensor(p, "b.grad_2", b->grad);
    probe_tensor(p, "storage_under_the_view", gbase);
cleanup:
    tt_params_release(&two);
    tt_params_release(&one);
    tt_tensor_free(gbase);
    tt_tensor_free(b);
    tt_tensor_free(a);
}

static void case_crc32_chunks(tito_probe *p)
{
    begin();
    size_t n = probe_small(p) ? 500 : 5000;
    unsigned char *d = malloc(n);
    probe_note(p, "tt_crc32 of %zu random bytes at once, and chained over random chunks (0 to 40 "
                  "bytes each): the same value", n);
    probe_tol_exact(p);
    if (!d)
        return;
    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)tt_rng_below(probe_rng(p), 256);
    uint32_t whole = tt_crc32(0, d, n), chained = 0;
    for (size_t at = 0; at < n;) {
        size_t len = tt_rng_below(probe_rng(p), 41);
        if (len > n - at)
            len = n - at;
        chained = tt_crc32(chained, d + at, len);
        at += len;
    }
    probe_int(p, "whole", (long)whole);
    probe_int(p, "chained", (long)chained);
    probe_int(p, "all_0xFF_bytes", (long)tt_crc32(0, "\xff\xff\xff\xff", 4));
    free(d);
}

/* ------------------------------------------------------------ evaluation, step */

static void case_evaluate_many_batches(tito_probe *p)
{
    begin();
    uint64_t seed = tt_rng_next_u32(probe_rng(p));
    tt_layer *model = make_mlp(seed, 3, 4, 4);
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(13, 3));
    tt_tensor *y = class_targets(p, 13, 4);
    probe_note(p, "tt_evaluate(MLP 3-4-4, CROSS_ENTROPY, x [13,3], y [13]) with batch sizes 1, "
                  "5, 13 and 100: the same loss and accuracy for each; and with x given as a "
                  "strided view (columns of a [13,6] tensor)");
    probe_tol_exact(p);
    if (!model)
        goto cleanup;
    const size_t sizes[4] = {1, 5, 13, 100};
    for (int i = 0; i < 4; i++) {
        tt_eval_result r;
        char label[32];
        memset(&r, 0, sizeof r);
        tt_status st = tt_evaluate(&r, model, TT_LOSS_CROSS_ENTROPY, x, y, sizes[i]);
        snprintf(label, sizeof label, "batch%zu.status", sizes[i]);
        probe_tol_exact(p);
        probe_status(p, label, st);
        snprintf(label, sizeof label, "batch%zu.loss", sizes[i]);
        probe_tol_reduction(p, 13);
        probe_scalar(p, label, r.loss);
        snprintf(label, sizeof label, "batch%zu.accuracy", sizes[i]);
        probe_tol_exact(p);
        probe_scalar(p, label, r.accuracy);
    }
    tt_tensor *wide = probe_randn(p, 2, TT_SHAPE(13, 6)), *view = NULL;
    tt_eval_result r;
    memset(&r, 0, sizeof r);
    probe_status(p, "slice", tt_tensor_slice(&view, wide, 1, 2, 5));
    probe_status(p, "strided.status", view ? tt_evaluate(&r, model, TT_LOSS_CROSS_ENTROPY, view,
                                                         y, 4)
                                           : TT_ERR_INVALID_ARG);
    probe_tol_reduction(p, 13);
    probe_scalar(p, "strided.loss", r.loss);
    probe_tol_exact(p);
    probe_scalar(p, "strided.accuracy", r.accuracy);
    tt_tensor_free(view);
    tt_tensor_free(wide);
cleanup:
    tt_layer_free(model);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

static void case_train_step_bce(tito_probe *p)
{
    begin();
    tt_rng rng;
    tt_rng_init(&rng, tt_rng_next_u32(probe_rng(p)));
    tt_layer *seq = NULL, *l = NULL, *s = NULL;
    tt_optimizer *opt = NULL;
    tt_tensor *x = probe_randn(p, 2, TT_SHAPE(6, 2));
    tt_tensor *y = binary_targets(p, 2, TT_SHAPE(6, 1));
    probe_note(p, "a perceptron Linear(2,1) then Sigmoid, BCE, AdamW lr 0.1; 3 calls of "
                  "tt_train_step with max_grad_norm 0.25: losses and parameters");
    probe_tol_exact(p);
    tt_status st = tt_sequential_new(&seq);
    if (st == TT_OK && (st = tt_linear_new(&l, 2, 1, true, &rng)) == TT_OK)
        st = tt_sequential_append(seq, l);
    if (st == TT_OK && (st = tt_sigmoid_layer_new(&s)) == TT_OK)
        st = tt_sequential_append(seq, s);
    probe_status(p, "model", st);
    if (st != TT_OK)
        goto cleanup;
    opt = make_optimizer(seq, TT_OPTIM_ADAMW, 0.1f);
    if (!opt)
        goto cleanup;
    for (int k = 1; k <= 3; k++) {
        float loss = NAN;
        char label[32];
        snprintf(label, sizeof label, "step%d", k);
        probe_tol_exact(p);
        probe_status(p, label, tt_train_step(&loss, seq, opt, TT_LOSS_BCE, x, y, 0.25f));
        snprintf(label, sizeof label, "loss%d", k);
        tol_ulps(p);
        probe_scalar(p, label, loss);
    }
    record_model(p, "after", seq);
cleanup:
    tt_optimizer_free(opt);
    tt_layer_free(seq);
    tt_tensor_free(y);
    tt_tensor_free(x);
}

/* ------------------------------------------------------------ table */

static const tito_probe_case cases[] = {
    {"checkpoint.every_byte_flip", "checkpoints", 3, case_every_byte_flip},
    {"checkpoint.every_truncation", "checkpoints", 2, case_every_truncation},
    {"checkpoint.forged_fields", "checkpoints", 3, case_forged_fields},
    {"checkpoint.state_absent_clears", "checkpoints", 2, case_state_absent_clears},
    {"checkpoint.resume_sgd_adamw", "checkpoints", 2, case_resume_sgd_adamw},
    {"checkpoint.unusual_shapes", "checkpoints", 2, case_unusual_shapes},
    {"checkpoint.atomic_files", "checkpoints", 1, case_atomic_files},
    {"alloc.save_load", "errors", 2, case_alloc_save_load},
    {"alloc.step_evaluate", "errors", 2, case_alloc_step_evaluate},
    {"cosine.many_steps", "schedule", 1, case_cosine_many},
    {"clip.boundary_and_views", "clipping", 1, case_clip_boundary_and_views},
    {"crc32.chunks", "checkpoints", 1, case_crc32_chunks},
    {"evaluate.many_batch_sizes", "evaluate", 1, case_evaluate_many_batches},
    {"train_step.bce_clipped", "train_step", 1, case_train_step_bce},
};

TITO_PROBE_MAIN(cases)
