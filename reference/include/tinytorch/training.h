/*
 * tinytorch/training.h: module 07, training.
 *
 * The pieces every training program repeats, written once: a loss chosen by name, one
 * training step, evaluation over a dataset, a cosine learning-rate schedule, global
 * gradient-norm clipping, and checkpoints that let a run stop and resume exactly.
 *
 * A model is any tt_layer (usually a Sequential); its parameters are the tensors
 * tt_layer_parameters lists, in that order. Ownership and errors follow
 * tinytorch/core.h: inputs are borrowed, a failing call says why in tt_error_last().
 *
 * Determinism: with the same model, optimizer state, data and rng, every function here
 * gives bit-identical results on the same machine and build; a checkpoint stores
 * every float as its exact bit pattern, so training resumed from one continues exactly
 * as the uninterrupted run would have. Random state that lives outside the model and
 * the optimizer (a Dropout's rng, the data order) is the caller's to keep.
 */
#ifndef TINYTORCH_TRAINING_H
#define TINYTORCH_TRAINING_H

#include "tinytorch/layers.h"
#include "tinytorch/optimizers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ losses */

typedef enum tt_loss_kind {
    TT_LOSS_MSE = 1,           /* tt_mse_loss: prediction and target of the same shape */
    TT_LOSS_BCE = 2,           /* tt_bce_loss: probabilities (after a sigmoid) and 0/1 targets */
    TT_LOSS_CROSS_ENTROPY = 3, /* tt_cross_entropy_loss: logits [N,C], class indices [N] */
} tt_loss_kind;

/* The loss of module 04 that `kind` names, recorded for autograd like the function
 * itself. Errors: TT_ERR_INVALID_ARG (unknown kind, NULL argument), and whatever the
 * loss reports (TT_ERR_SHAPE, TT_ERR_RANGE). */
tt_status tt_loss_compute(tt_tensor **out, tt_loss_kind kind, tt_tensor *pred, tt_tensor *target);

/* ---------------------------------------------------------- one training step */

/* One step of gradient descent on the batch (x, target):
 *   1. drop every parameter's gradient (tt_optimizer_zero_grad);
 *   2. pred = model(x), loss = the `kind` loss of (pred, target);
 *   3. backward from the loss;
 *   4. when max_grad_norm > 0, clip the global gradient norm of the optimizer's
 *      parameters to max_grad_norm (tt_clip_grad_norm); 0 turns clipping off;
 *   5. tt_optimizer_step.
 * *loss receives the loss value of this batch (before the update).
 * The step records a graph whatever the grad mode (it enables gradients for its own
 * duration and restores the previous setting), and runs the model in whatever mode it
 * is in: call tt_layer_set_training(model, true) once before training. Gradients stay
 * in the parameters after the step, for inspection.
 * On error no parameter has changed (the update is the last thing done).
 * Errors: TT_ERR_INVALID_ARG (NULL argument, max_grad_norm negative or nan), TT_ERR_RANGE
 * (the gradient norm is inf or nan while clipping: the update is skipped), and whatever
 * the forward, loss, backward or optimizer report. */
tt_status tt_train_step(float *loss, tt_layer *model, tt_optimizer *opt, tt_loss_kind kind,
                        tt_tensor *x, tt_tensor *target, float max_grad_norm);

/* --------------------------------------------------------------- evaluation */

typedef struct tt_eval_result {
    double loss;      /* mean loss over the whole dataset */
    double accuracy;  /* fraction correct in [0, 1]; NAN for TT_LOSS_MSE (no classes) */
    size_t n_samples; /* N */
} tt_eval_result;

/* Evaluate `model` on inputs [N, ...] and targets [N, ...] in batches of batch_size rows
 * (the last batch may be smaller), with the model in evaluation mode and gradients
 * disabled; both settings are restored afterwards, also on error (the model's mode is
 * restored with tt_layer_set_training(model, previous model->training)).
 *   loss: mean over batches of the batch loss, each weighted by its number of rows,
 *         accumulated in double; equal to the loss of the whole dataset at once.
 *   accuracy, TT_LOSS_CROSS_ENTROPY: fraction of rows whose first maximal logit is at
 *         the target index;
 *   accuracy, TT_LOSS_BCE: fraction of elements where (pred >= 0.5) == (target >= 0.5);
 *   accuracy, TT_LOSS_MSE: NAN (regression has no notion of correct).
 * On error *out is zeroed. Errors: TT_ERR_INVALID_ARG (NULL argument, unknown kind,
 * batch_size 0, 0-dimensional inputs or targets), TT_ERR_SHAPE (inputs and targets with
 * different N), and whatever the model or loss report. */
tt_status tt_evaluate(tt_eval_result *out, tt_layer *model, tt_loss_kind kind, tt_tensor *inputs,
                      tt_tensor *targets, size_t batch_size);

/* ------------------------------------------------------------------ schedule */

/* The learning rate for step `step` (counting from 0) of a run of total_steps steps:
 * a linear warm-up over the first warmup_steps steps, then a half cosine from base_lr
 * down towards min_lr:
 *     step < warmup_steps:   base_lr * (step + 1) / warmup_steps
 *     step < total_steps:    min_lr + (base_lr - min_lr) * (1 + cos(pi * q)) / 2,
 *                            q = (step - warmup_steps) / (total_steps - warmup_steps)
 *     step >= total_steps:   min_lr
 * A pure function: computed in double and rounded once to float. A negative step or
 * warmup_steps counts as 0; warmup_steps > total_steps counts as total_steps. Without
 * warm-up, step 0 gives base_lr exactly. Keep min_lr > 0 if the value goes to
 * tt_optimizer_set_lr, which refuses 0. */
float tt_cosine_lr(long step, long total_steps, long warmup_steps, float base_lr, float min_lr);

/* ------------------------------------------------------------------ clipping */

/* Global gradient-norm clipping. norm = sqrt(sum of g^2 over every element of every
 * gradient of `params`), accumulated in double; parameters without a gradient are
 * skipped. When norm > max_norm every gradient is multiplied, in place, by
 * (float)(max_norm / norm), so the global norm becomes max_norm; otherwise nothing
 * changes. *norm (may be NULL) receives the norm before clipping, also when it is not
 * finite. Errors: TT_ERR_INVALID_ARG (params NULL, max_norm <= 0 or nan; max_norm = inf
 * never clips), TT_ERR_RANGE (the norm is inf or nan: gradients left unchanged). */
tt_status tt_clip_grad_norm(float *norm, const tt_params *params, float max_norm);

/* --------------------------------------------------------------- checkpoints */

/* CRC-32 as in zlib, PNG and Ethernet (reflected polynomial 0xEDB88320, initial and
 * final value 0xFFFFFFFF). Chainable: tt_crc32(tt_crc32(0, a, na), b, nb) equals the
 * CRC of a followed by b; tt_crc32(0, "123456789", 9) is 0xCBF43926. */
uint32_t tt_crc32(uint32_t crc, const void *data, size_t size);

/* The checkpoint file format, version 1. Every integer is little-endian; every float
 * is an IEEE-754 binary32 bit pattern, little-endian (so values round-trip exactly).
 *
 *   offset  size   field
 *   0       8      magic: 89 54 54 43 0D 0A 1A 0A ("\x89TTC\r\n\x1a\n")
 *   8       4      u32 format version (TT_CHECKPOINT_VERSION)
 *   12      4      u32 flags: bit 0 set when an optimizer section follows; other bits 0
 *   16      8      u64 P, the number of parameter tensors
 *   24             P parameter records, in tt_layer_parameters order, each:
 *                    u32 ndim (0..4), u64 shape[ndim] (each >= 1),
 *                    f32 data[numel] (row-major)
 *   ...            optimizer section, when flags bit 0 is set:
 *                    u32 kind (tt_optimizer_kind)
 *                    f32 lr, momentum, weight_decay, beta1, beta2, eps
 *                    i64 step_count (>= 0)
 *                    u64 n (= P)
 *                    n state records, each: u8 present (bit 0: state1, bit 1: state2),
 *                    then f32 state1[numel] if present, then f32 state2[numel] if
 *                    present, with numel and shape those of parameter record i
 *   size-4  4      u32 CRC-32 (tt_crc32) of every byte before it
 *
 * The magic's first byte is not ASCII and its \r\n, \x1a, \n catch a file mangled by a
 * text-mode transfer, as PNG's does. */
#define TT_CHECKPOINT_MAGIC "\x89TTC\r\n\x1a\n"
#define TT_CHECKPOINT_MAGIC_SIZE 8
#define TT_CHECKPOINT_VERSION 1u
#define TT_CHECKPOINT_HAS_OPTIMIZER 0x1u

/* Save the model's parameters and, when opt is not NULL, the optimizer's kind,
 * options, step count and state, to `path`. The write is atomic: the file is written
 * under a temporary name in the same directory (<path>.tmp.<pid>.<n>, mode 0666 minus
 * the umask, as any new file), flushed to disk (fsync), then renamed over `path`, so a
 * crash leaves either the old file or the new one, never a mixture. opt must be an optimizer over tensors of the model's parameter
 * shapes, in the same order. Errors: TT_ERR_INVALID_ARG (NULL path or model),
 * TT_ERR_SHAPE (opt does not match the model's parameters), TT_ERR_IO (the file or
 * its temporary cannot be written), TT_ERR_NOMEM. */
tt_status tt_checkpoint_save(const char *path, tt_layer *model, const tt_optimizer *opt);

/* Load a checkpoint written by tt_checkpoint_save into `model` (its parameters' values)
 * and, when opt is not NULL, into `opt` (options, step count and state are replaced by
 * the file's). The whole file is validated before anything is written: on any error
 * the model and the optimizer are exactly as they were. Loading into a fresh model and
 * optimizer of the same architecture and kind, then training, gives bit-identical
 * results to training on without the interruption.
 * Errors:
 *   TT_ERR_IO      the file cannot be opened or read;
 *   TT_ERR_FORMAT  bad magic (not a checkpoint), another format version, a truncated
 *                  file, a CRC mismatch (corrupt), unknown flags or an invalid field,
 *                  bytes after the contents, opt given but the file has no optimizer
 *                  section, or an optimizer of another kind than the file's;
 *   TT_ERR_SHAPE   the file's parameter count or a shape differs from the model's
 *                  (or from opt's parameters);
 *   TT_ERR_INVALID_ARG (NULL path or model), TT_ERR_NOMEM.
 * A file with an optimizer section can be loaded with opt = NULL (parameters only). */
tt_status tt_checkpoint_load(const char *path, tt_layer *model, tt_optimizer *opt);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_TRAINING_H */
