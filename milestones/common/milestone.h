/*
 * milestones/common/milestone.h: what every milestone program shares.
 *
 * A milestone program is a description (an ms_spec: its history note, how to make its
 * data, the models it trains and how) and a three-line main() that hands it to
 * ms_main. ms_main does the rest the same way for every milestone: options, the
 * history note, a live progress bar on a terminal (plain lines otherwise, colour unless
 * NO_COLOR), the final table with the bars of milestones.def, and the atomic --json
 * result file (schema tito-milestone/1, described in docs/milestones.md).
 *
 * Only the framework's public headers are used, so the same sources link with a
 * student's own modules or with the reference: a program is <slug>.c, common/milestone.c
 * (modules 01-07 only), common/loader.c when the milestone includes module 08, and the
 * modules first..last of milestones.def. Each program's source ends with
 *
 *     #ifndef TT_MILESTONE_NO_MAIN
 *     int main(int argc, char **argv) { return ms_main(&ms_xxx, argc, argv); }
 *     #endif
 *
 * so that the benchmark (bench/bench_milestones.c) can link every spec at once, built
 * with TT_MILESTONE_NO_MAIN, and train them through ms_train without any output.
 *
 * Memory: the framework's objects (tensors, layers, optimizers) come from the framework
 * and are freed before the program ends, so the framework's live-allocation count at
 * the end measures leaks in the modules; the program's own bookkeeping (histories)
 * uses malloc.
 */
#ifndef TT_MILESTONE_COMMON_H
#define TT_MILESTONE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tinytorch/layers.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/training.h"

#include "milestones.h"

#define MS_MAX_EPOCHS 1000

/* Exit statuses of every milestone program. Informative only: tito judges a milestone
 * by the metrics in the result file, never by the exit status. */
enum ms_exit {
    MS_EXIT_REACHED = 0,  /* trained, and every bar of milestones.def is met */
    MS_EXIT_MISSED = 1,   /* trained, but some bar is not met */
    MS_EXIT_USAGE = 2,    /* bad command line */
    MS_EXIT_IO = 3,       /* data unreadable, or the --json file unwritable */
    MS_EXIT_DATA = 4,     /* malformed data */
    MS_EXIT_NOMEM = 5,    /* out of memory */
    MS_EXIT_INTERNAL = 6, /* any other framework error (e.g. a function not written yet) */
};

typedef struct ms_options {
    long epochs;
    uint64_t seed;        /* initial weights use seed, the shuffling seed + 1 */
    const char *data_dir; /* --data; NULL: tt_data_dir's search */
    const char *json_path;
    const char *params_path;   /* --params: save the parameters there (common/params.c) */
    const char *evaluate_path; /* --evaluate: measure that file's parameters, train nothing */
} ms_options;

/* A milestone's data: one training and one test split, as tensors. */
typedef struct ms_data {
    tt_tensor *train_x, *train_y;
    tt_tensor *test_x, *test_y;
    char description[256]; /* one line for the program's header and the JSON */
} ms_data;

void ms_data_release(ms_data *data);

/* Where the training batches come from. Each epoch: the training rows in a new order
 * (Fisher-Yates with tt_rng_below, as tinytorch/dataloader.h documents), cut into
 * batches of batch_size rows, the last one smaller when N is not a multiple. */
typedef struct ms_batcher {
    const char *name;
    tt_status (*open)(void **state, const ms_data *data, size_t batch_size, tt_rng *rng);
    size_t (*count)(const void *state); /* batches per epoch */
    tt_status (*start_epoch)(void *state);
    /* The next batch as new tensors, or *x = *y = NULL after the last one. */
    tt_status (*next)(void *state, tt_tensor **x, tt_tensor **y);
    void (*close)(void *state); /* NULL is harmless */
} ms_batcher;

/* The framework's data loader (module 08), in common/loader.c: link that file only into
 * milestones whose modules include 08. */
extern const ms_batcher ms_dataloader_batcher;

typedef struct ms_result ms_result_fwd;
typedef struct ms_spec ms_spec_fwd;
struct ms_epoch;
struct ms_saved;

/* One model the milestone trains (milestone 2 trains two on the same data). */
typedef struct ms_run_spec {
    const char *key;   /* prefix of its metrics ("mlp" -> "mlp_test_accuracy"); "" when
                          the milestone trains only this model */
    const char *label; /* shown in progress lines and the table, e.g. "single layer" */
    const char *model; /* e.g. "Linear(2,1) + Sigmoid" */
    tt_status (*build)(tt_layer **model, tt_rng *rng);
    tt_loss_kind loss;
    tt_optimizer_kind optimizer;
    float learning_rate;
    float momentum; /* SGD only */
    size_t batch_size;
    /* NULL: ms_train's loop (batches of data's rows, tt_train_step, tt_evaluate). A
     * model that does not fit that loop (a language model whose loss is over every
     * position of a sequence) trains itself here, with ms_train's arguments, and fills
     * *result (spec already set, best_test_accuracy NaN, the rest zero) and `history`
     * as ms_train would. */
    tt_status (*train)(ms_result_fwd *result, const ms_spec_fwd *milestone, size_t run,
                       const ms_data *data, const struct ms_options *options,
                       struct ms_epoch *history, bool show);
    /* NULL: ms_evaluate's (build, load `saved`, tt_evaluate on both splits). A model
     * with its own train measures saved final values here the way train does, filling
     * the held-out and training figures and min_weight_change of *result. */
    tt_status (*evaluate)(ms_result_fwd *result, const ms_spec_fwd *milestone, size_t run,
                          const ms_data *data, const struct ms_options *options,
                          const struct ms_saved *saved);
} ms_run_spec;

typedef struct ms_spec {
    int number;            /* its rows in milestones.def */
    const char *headline;  /* first words of the history note, in bold: "1957: the perceptron." */
    const char *history;   /* the rest of the note (may hold newlines) */
    const char *task;      /* what the program does, for --help (may hold newlines) */
    long default_epochs;
    uint64_t default_seed;
    bool reads_data;       /* accepts --data DIR (the digits); the others generate theirs */
    /* Make the data (tensors and description). On error: data all NULL, message set. */
    tt_status (*make_data)(ms_data *data, const ms_options *options);
    /* NULL: milestone.c batches by itself with modules 01's API only (milestones that
     * come before module 08); else e.g. &ms_dataloader_batcher. */
    const ms_batcher *batcher;
    size_t n_runs;
    const ms_run_spec *runs;
} ms_spec;

/* What one epoch measured. */
typedef struct ms_epoch {
    double loss;           /* mean training loss over the epoch's batches */
    double train_accuracy; /* after the epoch, in evaluation mode */
    double test_accuracy;
    double seconds;        /* since the run began, at the end of this epoch */
} ms_epoch;

/* What training one model measured. */
typedef struct ms_result {
    const ms_run_spec *spec;
    long epochs;                 /* completed */
    size_t parameters;
    size_t n_train, n_test;
    double final_loss;           /* the last epoch's mean training loss */
    double train_loss, test_loss; /* evaluated after the last epoch */
    double train_accuracy, test_accuracy;
    double best_test_accuracy;   /* the highest after any epoch; NaN when epochs were not
                                    evaluated (ms_train without show or history) */
    size_t train_correct, test_correct;
    double min_weight_change;    /* over the parameter tensors, the smallest
                                    ||after - before|| / ||before||: 0 when a layer never
                                    trained (a cut graph) */
    double train_seconds;        /* time in batching and tt_train_step only */
    double seconds;              /* the whole run, per-epoch evaluation included */
    double samples_per_second;   /* epochs * n_train / train_seconds */
    ms_epoch *history;           /* [epochs], malloc'ed; NULL when not kept */
    float *initial, *final;      /* the n_values parameter values before and after
                                    training (malloc'ed; ms_result_release frees them) */
    size_t n_values;
} ms_result;

void ms_result_release(ms_result *result);

/* One model's parameter values as a parameters file holds them (common/params.c). */
typedef struct ms_saved {
    float *initial, *final;
    size_t count;
} ms_saved;

/* The milestones' descriptions, one per program (milestones/<slug>.c). */
extern const ms_spec ms_perceptron; /* 1, 01_perceptron.c */
extern const ms_spec ms_xor;        /* 2, 02_xor.c */
extern const ms_spec ms_digits_mlp; /* 3, 03_mlp.c */
extern const ms_spec ms_digits_cnn; /* 4, 04_cnn.c */
extern const ms_spec ms_transformer; /* 5, 05_transformer.c */

/* Run the milestone: parse argv, train, report. Returns the exit status (enum ms_exit). */
int ms_main(const ms_spec *spec, int argc, char **argv);

/* Train model `run` of `milestone` on `data` for options->epochs epochs, with its
 * initial weights from options->seed and its shuffling from options->seed + 1. With
 * `show`, draws progress on stdout as ms_main does; without it, prints nothing (the
 * benchmark). `history` (may be NULL) receives one record per epoch. Fills *result. */
tt_status ms_train(ms_result *result, const ms_spec *milestone, size_t run, const ms_data *data,
                   const ms_options *options, ms_epoch *history, bool show);

/* Measure the saved parameters of model `run` as ms_train measures a model it trained
 * (the run's evaluate hook, else build, ms_params_load, tt_evaluate on both splits).
 * min_weight_change: ms_least_change of the change from saved->initial and the change
 * from the initial values this build draws from the seed. Fills *result. */
tt_status ms_evaluate(ms_result *result, const ms_spec *milestone, size_t run,
                      const ms_data *data, const ms_options *options, const ms_saved *saved);

/* The weight change an evaluation reports: the smaller of the change from the saved
 * initial values and the change from the seed's (NaN if either is). Either alone could
 * be fooled: saved initial values are written by the run's process, and a framework
 * whose initialisation differs from the specified one starts elsewhere than the seed
 * says; a tensor that never moved has one of the two near 0 either way. */
double ms_least_change(double from_saved, double from_seed);

/* ------------------------------------------------------- common/params.c */

/* Write a file atomically: write(fp, ctx) into a temporary file beside path, flushed
 * to disk, renamed over path. Returns 0 or an errno value. */
int ms_write_atomic(const char *path, void (*write)(FILE *fp, const void *ctx), const void *ctx);

/* The parameters file of --params (its format: common/params.c), atomically. Returns 0
 * or an errno value. */
int ms_params_save(const char *path, int milestone, uint64_t seed, const ms_result *results,
                   size_t n_runs);

/* Read a parameters file written for `milestone` with n_runs models: *out gets n_runs
 * entries (ms_saved_release), *seed the run's seed. TT_ERR_FORMAT for anything else. */
tt_status ms_params_read(ms_saved **out, uint64_t *seed, const char *path, int milestone,
                         size_t n_runs);
void ms_saved_release(ms_saved *runs, size_t n_runs);

/* The parameters' values, in order, into one malloc'ed array (*out). */
tt_status ms_params_snapshot(float **out, const tt_params *params);

/* Put count saved values into the parameters, in order: TT_ERR_SHAPE when the counts
 * differ. */
tt_status ms_params_load(const tt_params *params, const float *values, size_t count);

#endif /* TT_MILESTONE_COMMON_H */
