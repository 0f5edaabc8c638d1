/*
 * milestones/common/milestone.c: the machinery every milestone program shares
 * (milestone.h says what a program provides and what it gets).
 *
 * Everything printed is measured in this run: losses and accuracies counted on the
 * data, times from a monotonic clock; the bars come from milestones.def. On a terminal
 * each epoch has a live progress bar; into a pipe or file, epochs are plain lines (at
 * most about twenty per model). Colour only on a terminal, never when NO_COLOR is set
 * or TERM is dumb. --json writes the results atomically: a temporary file in the same
 * folder, flushed to disk, renamed over the target; the file says what was measured,
 * not whether a bar was met (tito decides that from milestones.def).
 */
#define _POSIX_C_SOURCE 200809L

#include "milestone.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define EVAL_BATCH 250
#define MAX_METRICS 48
#define MAX_EPOCH_LINES 20

/* ------------------------------------------------------------------ output */

static const char *program = "tt-milestone"; /* replaced by the table's name in ms_main */
static bool live;                            /* stdout is a terminal: redraw a bar in place */
static bool color;                           /* escape sequences allowed on stdout */
static bool bar_open;                        /* a progress bar is on the current line */
static double bar_drawn_at = -1.0;

static const char *sgr(const char *code)
{
    return color ? code : "";
}
#define BOLD sgr("\033[1m")
#define GREEN sgr("\033[32m")
#define RED sgr("\033[31m")
#define RESET sgr("\033[0m")

static void decide_output(void)
{
    const char *term = getenv("TERM");
    const char *no_color = getenv("NO_COLOR");
    bool dumb = term && strcmp(term, "dumb") == 0;
    live = isatty(STDOUT_FILENO) == 1 && !dumb;
    color = live && !(no_color && no_color[0]);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "<program>: error: <message>" on stderr, after whatever stdout still holds. */
static void error_message(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void error_message(const char *fmt, ...)
{
    va_list ap;
    if (bar_open)
        fputc('\n', stdout); /* leave a half-drawn progress bar on its own line */
    bar_open = false;
    fflush(stdout);
    fprintf(stderr, "%s: error: ", program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int exit_for_status(tt_status st)
{
    switch (st) {
    case TT_ERR_IO: return MS_EXIT_IO;
    case TT_ERR_FORMAT: return MS_EXIT_DATA;
    case TT_ERR_NOMEM: return MS_EXIT_NOMEM;
    default: return MS_EXIT_INTERNAL;
    }
}

static const char *loss_name(tt_loss_kind kind, bool for_json)
{
    switch (kind) {
    case TT_LOSS_MSE: return for_json ? "mse" : "MSE";
    case TT_LOSS_BCE: return for_json ? "bce" : "binary cross-entropy";
    case TT_LOSS_CROSS_ENTROPY: return for_json ? "cross_entropy" : "cross-entropy";
    }
    return "unknown";
}

static const char *optimizer_name(tt_optimizer_kind kind, bool for_json)
{
    switch (kind) {
    case TT_OPTIM_SGD: return for_json ? "sgd" : "SGD";
    case TT_OPTIM_ADAM: return for_json ? "adam" : "Adam";
    case TT_OPTIM_ADAMW: return for_json ? "adamw" : "AdamW";
    }
    return "unknown";
}

/* "SGD lr 0.1, momentum 0.9" */
static void describe_optimizer(char *buf, size_t size, const ms_run_spec *run)
{
    int len = snprintf(buf, size, "%s lr %g", optimizer_name(run->optimizer, false),
                       (double)run->learning_rate);
    if (run->optimizer == TT_OPTIM_SGD && run->momentum > 0 && len > 0 && (size_t)len < size)
        snprintf(buf + len, size - (size_t)len, ", momentum %g", (double)run->momentum);
}

/* The text of an accuracy-like metric as a percentage, of anything else as a number. */
static void format_value(char *buf, size_t size, const char *metric, double value)
{
    if (strstr(metric, "accuracy"))
        snprintf(buf, size, "%.1f%%", 100.0 * value);
    else
        snprintf(buf, size, "%.4g", value);
}

/* --------------------------------------------------------------- the table */

static void bar_rows(int number, const tt_milestone_bar **first, size_t *count)
{
    *first = NULL;
    *count = 0;
    for (size_t i = 0; i < TT_MILESTONE_BAR_COUNT; i++) {
        if (tt_milestone_bars[i].number != number)
            continue;
        if (!*first)
            *first = &tt_milestone_bars[i];
        (*count)++;
    }
}

/* ----------------------------------------------------------------- options */

static void print_usage(const ms_spec *spec, const tt_milestone_bar *row, FILE *out)
{
    const char *data = spec->reads_data ? " [--data DIR]" : "";
    fprintf(out, "usage: %s [--epochs N] [--seed N]%s [--json FILE] [--params FILE]\n", program,
            data);
    fprintf(out, "       %s --evaluate FILE%s [--json FILE]\n\n", program, data);
    fprintf(out, "Milestone %d (%d): %s.\n%s\n\n", spec->number, row->year, row->title,
            spec->task);
    fprintf(out, "options:\n");
    fprintf(out, "  --epochs N   passes over the training data, 1..%d (default %ld)\n",
            MS_MAX_EPOCHS, spec->default_epochs);
    fprintf(out,
            "  --seed N     seed of the initial weights; the shuffling uses N+1 (default %" PRIu64
            ")\n",
            spec->default_seed);
    if (spec->reads_data)
        fprintf(out, "  --data DIR   folder holding digits_train.csv and digits_test.csv (default:\n"
                     "               $TT_DATA_DIR, else the installed data, else the source tree's\n"
                     "               milestones/data)\n");
    fprintf(out, "  --json FILE  also write the measured results to FILE, atomically\n"
                 "               (schema " TT_MILESTONE_SCHEMA ", see docs/milestones.md)\n"
                 "  --params FILE     also save the parameters before and after training\n"
                 "  --evaluate FILE   train nothing: measure the parameters saved in FILE\n"
                 "               (with --json: schema " TT_MILESTONE_EVALUATION_SCHEMA ")\n"
                 "  -h, --help   show this help\n\n");
    fprintf(out, "bars (milestones.def; tito checks them from the --json metrics):\n");
    const tt_milestone_bar *first;
    size_t count;
    bar_rows(spec->number, &first, &count);
    for (size_t i = 0; i < count; i++) {
        char value[32];
        format_value(value, sizeof value, first[i].metric, first[i].bar);
        fprintf(out, "  %s %s %s\n", first[i].metric, first[i].comparison, value);
    }
    fprintf(out, "\nexit status: 0 every bar met, 1 some bar missed, 2 bad options,\n"
                 "3 unreadable data or unwritable FILE, 4 malformed data, 5 out of memory,\n"
                 "6 another framework error. Colour on a terminal unless NO_COLOR is set.\n");
}

static bool parse_unsigned(const char *text, uint64_t max, uint64_t *value)
{
    if (!text || !*text || *text == '-' || *text == '+' || *text == ' ')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *value = (uint64_t)v;
    return true;
}

static int usage_error(void)
{
    fprintf(stderr, "Try '%s --help'.\n", program);
    return MS_EXIT_USAGE;
}

/* Returns -1 to go on, else the exit status (help or a usage error). */
static int parse_options(ms_options *opt, const ms_spec *spec, const tt_milestone_bar *row,
                         int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_usage(spec, row, stdout);
            return MS_EXIT_REACHED;
        }
        static const char *const with_value[] = {"--epochs", "--seed",   "--data",
                                                 "--json",   "--params", "--evaluate"};
        const char *name = NULL, *value = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
            size_t len = strlen(with_value[k]);
            if (strncmp(arg, with_value[k], len) == 0 && (arg[len] == '\0' || arg[len] == '=')) {
                name = with_value[k];
                value = arg[len] == '=' ? arg + len + 1 : NULL;
            }
        }
        if (!name || (strcmp(name, "--data") == 0 && !spec->reads_data)) {
            if (name)
                error_message("unknown option '%s' (this milestone generates its data)", arg);
            else
                error_message("unknown option '%s'", arg);
            return usage_error();
        }
        if (!value) {
            if (i + 1 >= argc) {
                error_message("%s needs a value", name);
                return usage_error();
            }
            value = argv[++i];
        }
        uint64_t number = 0;
        if (strcmp(name, "--epochs") == 0) {
            if (!parse_unsigned(value, MS_MAX_EPOCHS, &number) || number == 0) {
                error_message("--epochs needs a whole number from 1 to %d, got '%s'",
                              MS_MAX_EPOCHS, value);
                return usage_error();
            }
            opt->epochs = (long)number;
        } else if (strcmp(name, "--seed") == 0) {
            /* The shuffling uses seed + 1, which must not wrap around to 0. */
            if (!parse_unsigned(value, UINT64_MAX - 1, &number)) {
                error_message("--seed needs a whole number from 0 to 2^64-2, got '%s'", value);
                return usage_error();
            }
            opt->seed = number;
        } else if (!*value) {
            error_message("%s needs a non-empty value", name);
            return usage_error();
        } else if (strcmp(name, "--data") == 0) {
            opt->data_dir = value;
        } else if (strcmp(name, "--params") == 0) {
            opt->params_path = value;
        } else if (strcmp(name, "--evaluate") == 0) {
            opt->evaluate_path = value;
        } else {
            opt->json_path = value;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------ data */

void ms_data_release(ms_data *data)
{
    if (!data)
        return;
    tt_tensor_free(data->train_x);
    tt_tensor_free(data->train_y);
    tt_tensor_free(data->test_x);
    tt_tensor_free(data->test_y);
    data->train_x = data->train_y = data->test_x = data->test_y = NULL;
}

/* ------------------------------------------------------------------ training */

static int digits_of(long n)
{
    int width = 1;
    while (n >= 10) {
        n /= 10;
        width++;
    }
    return width;
}

/* Redraws at most 30 times a second (and always when the epoch starts or ends), so a
 * fast machine does not spend its time on the terminal. */
static void draw_bar(const char *label, long epoch, long epochs, size_t batch, size_t batches,
                     double loss, double elapsed)
{
    if (batch != 0 && batch != batches && elapsed - bar_drawn_at < 1.0 / 30.0)
        return;
    bar_drawn_at = elapsed;
    bar_open = true;
    size_t filled = batches ? batch * BAR_WIDTH / batches : BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    char loss_text[32] = "  -   "; /* nothing measured before the first batch */
    if (batch > 0)
        snprintf(loss_text, sizeof loss_text, "%.4f", loss);
    printf("\r\033[K  %s%sepoch %*ld/%ld %s[%s]%s %3zu/%zu  loss %s  %6.2fs", label,
           *label ? "  " : "", digits_of(epochs), epoch, epochs, GREEN, bar, RESET, batch,
           batches, loss_text, elapsed);
    fflush(stdout);
}

static void print_epoch_line(const char *label, long epoch, long epochs, const ms_epoch *r)
{
    bar_open = false;
    printf("%s  %s%sepoch %*ld/%ld  loss %.4f  train %5.1f%%  test %5.1f%%  %6.2fs\n",
           live ? "\r\033[K" : "", label, *label ? "  " : "", digits_of(epochs), epoch, epochs,
           r->loss, 100.0 * r->train_accuracy, 100.0 * r->test_accuracy, r->seconds);
    fflush(stdout);
}

static size_t rows_of(const tt_tensor *t)
{
    return t->ndim > 0 ? t->shape[0] : 0;
}

/* ---------------------------------------------------- the built-in batcher */

/* Batches for the milestones that come before module 08, made with module 01's API
 * only: the training split copied once to plain arrays, rows gathered per batch into a
 * buffer, tt_tensor_from_data. The order is what tinytorch/dataloader.h documents (so
 * with module 08 the batches would be the same). */
typedef struct own_batches {
    size_t n, batch_size, cursor;
    size_t x_row, y_row; /* floats per row */
    int x_ndim, y_ndim;
    size_t x_shape[TT_MAX_DIMS], y_shape[TT_MAX_DIMS];
    float *x, *y;       /* [n * x_row], [n * y_row] */
    float *xb, *yb;     /* one batch */
    size_t *order;
    tt_rng *rng;
} own_batches;

static void own_close(void *state)
{
    own_batches *b = state;
    if (!b)
        return;
    free(b->x);
    free(b->y);
    free(b->xb);
    free(b->yb);
    free(b->order);
    free(b);
}

static tt_status own_open(void **state, const ms_data *data, size_t batch_size, tt_rng *rng)
{
    tt_tensor *x = data->train_x, *y = data->train_y;
    *state = NULL;
    if (x->ndim < 1 || y->ndim < 1 || x->shape[0] != y->shape[0] || x->shape[0] == 0 ||
        batch_size == 0)
        return tt_error_set(TT_ERR_SHAPE, "milestone: training inputs and targets of "
                                          "different lengths, or no rows");
    own_batches *b = calloc(1, sizeof *b);
    if (!b)
        return tt_error_set(TT_ERR_NOMEM, "milestone: no memory for batching");
    b->n = x->shape[0];
    b->batch_size = batch_size < b->n ? batch_size : b->n;
    b->x_row = tt_tensor_numel(x) / b->n;
    b->y_row = tt_tensor_numel(y) / b->n;
    b->x_ndim = x->ndim;
    b->y_ndim = y->ndim;
    memcpy(b->x_shape, x->shape, sizeof b->x_shape);
    memcpy(b->y_shape, y->shape, sizeof b->y_shape);
    b->rng = rng;
    b->x = malloc(b->n * b->x_row * sizeof *b->x);
    b->y = malloc(b->n * b->y_row * sizeof *b->y);
    b->xb = malloc(b->batch_size * b->x_row * sizeof *b->xb);
    b->yb = malloc(b->batch_size * b->y_row * sizeof *b->yb);
    b->order = malloc(b->n * sizeof *b->order);
    tt_status st = TT_OK;
    if (!b->x || !b->y || !b->xb || !b->yb || !b->order)
        st = tt_error_set(TT_ERR_NOMEM, "milestone: no memory for batching");
    if (st == TT_OK)
        st = tt_tensor_to_array(x, b->x, b->n * b->x_row);
    if (st == TT_OK)
        st = tt_tensor_to_array(y, b->y, b->n * b->y_row);
    if (st != TT_OK) {
        own_close(b);
        return st;
    }
    b->cursor = b->n; /* nothing to give before the first epoch */
    *state = b;
    return TT_OK;
}

static size_t own_count(const void *state)
{
    const own_batches *b = state;
    return (b->n + b->batch_size - 1) / b->batch_size;
}

static tt_status own_start_epoch(void *state)
{
    own_batches *b = state;
    for (size_t i = 0; i < b->n; i++)
        b->order[i] = i;
    for (size_t i = b->n - 1; i > 0; i--) {
        size_t j = tt_rng_below(b->rng, (uint32_t)(i + 1));
        size_t t = b->order[i];
        b->order[i] = b->order[j];
        b->order[j] = t;
    }
    b->cursor = 0;
    return TT_OK;
}

static tt_status own_next(void *state, tt_tensor **x, tt_tensor **y)
{
    own_batches *b = state;
    *x = *y = NULL;
    if (b->cursor >= b->n)
        return TT_OK;
    size_t rows = b->n - b->cursor < b->batch_size ? b->n - b->cursor : b->batch_size;
    for (size_t r = 0; r < rows; r++) {
        size_t i = b->order[b->cursor + r];
        memcpy(b->xb + r * b->x_row, b->x + i * b->x_row, b->x_row * sizeof *b->x);
        memcpy(b->yb + r * b->y_row, b->y + i * b->y_row, b->y_row * sizeof *b->y);
    }
    b->cursor += rows;
    size_t xs[TT_MAX_DIMS], ys[TT_MAX_DIMS];
    memcpy(xs, b->x_shape, sizeof xs);
    memcpy(ys, b->y_shape, sizeof ys);
    xs[0] = ys[0] = rows;
    tt_status st = tt_tensor_from_data(x, b->x_ndim, xs, b->xb);
    if (st == TT_OK)
        st = tt_tensor_from_data(y, b->y_ndim, ys, b->yb);
    if (st != TT_OK) {
        tt_tensor_free(*x);
        *x = *y = NULL;
    }
    return st;
}

static const ms_batcher own_batcher = {
    .name = "the milestone's own batching (module 01 only)",
    .open = own_open,
    .count = own_count,
    .start_epoch = own_start_epoch,
    .next = own_next,
    .close = own_close,
};

/* ------------------------------------------------------------------ training */

/* The smallest relative change ||after - before|| / ||before|| over the parameter
 * tensors: 0 when some tensor never moved, which is what a cut graph looks like (the
 * layers before the cut get no gradient and keep their initial values, while the
 * accuracy may still look fine). */
static double min_relative_change(const tt_params *params, const float *before,
                                  const float *after)
{
    double smallest = INFINITY;
    size_t at = 0;
    for (size_t i = 0; i < params->count; i++) {
        size_t n = tt_tensor_numel(params->items[i]);
        double diff = 0, norm = 0;
        for (size_t k = at; k < at + n; k++) {
            double d = (double)after[k] - (double)before[k];
            diff += d * d;
            norm += (double)before[k] * (double)before[k];
        }
        double change = norm > 0 ? sqrt(diff / norm) : (diff > 0 ? INFINITY : 0.0);
        if (change < smallest)
            smallest = change;
        at += n;
    }
    return params->count ? smallest : 0.0;
}

static size_t correct_count(double accuracy, size_t n)
{
    return (size_t)(accuracy * (double)n + 0.5);
}

/* A model's figures on both splits, as the result reports them after training. */
static tt_status final_figures(ms_result *result, tt_layer *model, const ms_run_spec *spec,
                               const ms_data *data)
{
    tt_eval_result on_train, on_test;
    tt_status st = tt_evaluate(&on_train, model, spec->loss, data->train_x, data->train_y,
                               EVAL_BATCH);
    if (st == TT_OK)
        st = tt_evaluate(&on_test, model, spec->loss, data->test_x, data->test_y, EVAL_BATCH);
    if (st != TT_OK)
        return st;
    result->train_loss = on_train.loss;
    result->test_loss = on_test.loss;
    result->train_accuracy = on_train.accuracy;
    result->test_accuracy = on_test.accuracy;
    result->train_correct = correct_count(on_train.accuracy, result->n_train);
    result->test_correct = correct_count(on_test.accuracy, result->n_test);
    return TT_OK;
}

tt_status ms_train(ms_result *result, const ms_spec *milestone, size_t run, const ms_data *data,
                   const ms_options *options, ms_epoch *history, bool show)
{
    tt_status st = TT_OK;
    tt_tensor *xb = NULL, *yb = NULL;
    const ms_run_spec *spec = &milestone->runs[run];
    const ms_batcher *batcher = milestone->batcher ? milestone->batcher : &own_batcher;
    void *batches_state = NULL;
    tt_layer *model = NULL;
    tt_optimizer *optim = NULL;
    float *initial = NULL, *final = NULL;
    tt_params params;
    tt_params_init(&params);
    tt_rng init_rng, data_rng;
    tt_rng_init(&init_rng, options->seed);
    tt_rng_init(&data_rng, options->seed + 1);
    memset(result, 0, sizeof *result);
    result->spec = spec;
    result->best_test_accuracy = NAN;
    if (spec->train)
        return spec->train(result, milestone, run, data, options, history, show);
    /* Per-epoch evaluation only when someone looks at it: the benchmark measures
     * training alone. */
    bool per_epoch = show || history;
    const char *label = show && spec->key[0] ? spec->label : "";
    long epochs = options->epochs;
    /* Print at most about MAX_EPOCH_LINES epoch lines per model, always the first and
     * the last. */
    long stride = (epochs + MAX_EPOCH_LINES - 1) / MAX_EPOCH_LINES;

    TT_CHECK(spec->build(&model, &init_rng));
    TT_CHECK(tt_layer_parameters(model, &params));
    TT_CHECK(ms_params_snapshot(&initial, &params));
    tt_optimizer_options oo = TT_OPTIMIZER_OPTIONS_INIT;
    oo.lr = spec->learning_rate;
    oo.momentum = spec->momentum;
    TT_CHECK(tt_optimizer_new(&optim, spec->optimizer, &params, &oo));
    TT_CHECK(batcher->open(&batches_state, data, spec->batch_size, &data_rng));

    result->parameters = tt_params_numel(&params);
    result->n_train = rows_of(data->train_x);
    result->n_test = rows_of(data->test_x);
    size_t batches = batcher->count(batches_state);
    double start = now_seconds();
    for (long epoch = 1; epoch <= epochs; epoch++) {
        double total = 0, began = now_seconds();
        size_t done = 0;
        tt_layer_set_training(model, true);
        TT_CHECK(batcher->start_epoch(batches_state));
        if (show && live)
            draw_bar(label, epoch, epochs, 0, batches, 0.0, now_seconds() - start);
        for (;;) {
            TT_CHECK(batcher->next(batches_state, &xb, &yb));
            if (!xb)
                break;
            float loss = 0;
            TT_CHECK(tt_train_step(&loss, model, optim, spec->loss, xb, yb, 0.0f));
            tt_tensor_free(xb);
            tt_tensor_free(yb);
            xb = yb = NULL;
            total += loss;
            done++;
            if (show && live)
                draw_bar(label, epoch, epochs, done, batches, total / (double)done,
                         now_seconds() - start);
        }
        result->train_seconds += now_seconds() - began;
        result->epochs = epoch;
        result->final_loss = done ? total / (double)done : 0.0;
        if (!per_epoch)
            continue;
        tt_eval_result on_train, on_test;
        TT_CHECK(tt_evaluate(&on_train, model, spec->loss, data->train_x, data->train_y,
                             EVAL_BATCH));
        TT_CHECK(tt_evaluate(&on_test, model, spec->loss, data->test_x, data->test_y,
                             EVAL_BATCH));
        ms_epoch r = {result->final_loss, on_train.accuracy, on_test.accuracy,
                      now_seconds() - start};
        if (history)
            history[epoch - 1] = r;
        if (!(r.test_accuracy <= result->best_test_accuracy))
            result->best_test_accuracy = r.test_accuracy; /* also replaces the initial NaN */
        if (show && (epoch == 1 || epoch == epochs || epoch % stride == 0))
            print_epoch_line(label, epoch, epochs, &r);
        else if (show && live)
            draw_bar(label, epoch, epochs, batches, batches, result->final_loss, r.seconds);
    }
    /* The final figures, evaluated once more: cheap, and the same whether or not the
     * epochs were evaluated on the way. */
    TT_CHECK(final_figures(result, model, spec, data));
    result->seconds = now_seconds() - start;
    TT_CHECK(ms_params_snapshot(&final, &params));
    result->min_weight_change = min_relative_change(&params, initial, final);
    result->n_values = tt_params_numel(&params);
    result->initial = initial;
    result->final = final;
    initial = final = NULL;
    result->samples_per_second =
        result->train_seconds > 0
            ? (double)result->epochs * (double)result->n_train / result->train_seconds
            : 0.0;

cleanup:
    free(initial);
    free(final);
    tt_tensor_free(xb);
    tt_tensor_free(yb);
    batcher->close(batches_state);
    tt_optimizer_free(optim);
    tt_params_release(&params);
    tt_layer_free(model);
    return st;
}

void ms_result_release(ms_result *result)
{
    free(result->initial);
    free(result->final);
    result->initial = result->final = NULL;
    result->n_values = 0;
}

tt_status ms_evaluate(ms_result *result, const ms_spec *milestone, size_t run,
                      const ms_data *data, const ms_options *options, const ms_saved *saved)
{
    tt_status st = TT_OK;
    const ms_run_spec *spec = &milestone->runs[run];
    tt_layer *model = NULL;
    float *seeded = NULL;
    tt_params params;
    tt_params_init(&params);
    tt_rng init_rng;
    tt_rng_init(&init_rng, options->seed);
    memset(result, 0, sizeof *result);
    result->spec = spec;
    result->best_test_accuracy = NAN;
    if (spec->evaluate)
        return spec->evaluate(result, milestone, run, data, options, saved);

    TT_CHECK(spec->build(&model, &init_rng));
    TT_CHECK(tt_layer_parameters(model, &params));
    TT_CHECK(ms_params_snapshot(&seeded, &params));
    TT_CHECK(ms_params_load(&params, saved->final, saved->count));
    result->parameters = saved->count;
    result->n_train = rows_of(data->train_x);
    result->n_test = rows_of(data->test_x);
    TT_CHECK(final_figures(result, model, spec, data));
    result->min_weight_change = ms_least_change(
        min_relative_change(&params, saved->initial, saved->final),
        min_relative_change(&params, seeded, saved->final));

cleanup:
    free(seeded);
    tt_params_release(&params);
    tt_layer_free(model);
    return st;
}

double ms_least_change(double from_saved, double from_seed)
{
    if (isnan(from_saved) || isnan(from_seed))
        return NAN;
    return from_saved < from_seed ? from_saved : from_seed;
}

/* ----------------------------------------------------------------- metrics */

typedef struct metric {
    char name[64];
    double value;
    bool integer;
} metric;

typedef struct metrics {
    metric items[MAX_METRICS];
    size_t count;
} metrics;

static void add_metric(metrics *m, const char *prefix, const char *name, double value,
                       bool integer)
{
    if (m->count == MAX_METRICS)
        return; /* cannot happen with MAX_METRICS above 11 per run */
    metric *it = &m->items[m->count++];
    snprintf(it->name, sizeof it->name, "%s%s%s", prefix, *prefix ? "_" : "", name);
    it->value = value;
    it->integer = integer;
}

/* What a model's parameters measure, whoever trained them: the held-out and training
 * figures, the weight change and the size (also all that --evaluate reports). */
static void add_model_metrics(metrics *m, const ms_result *r)
{
    const char *p = r->spec->key;
    add_metric(m, p, "test_accuracy", r->test_accuracy, false);
    add_metric(m, p, "test_correct", (double)r->test_correct, true);
    add_metric(m, p, "train_accuracy", r->train_accuracy, false);
    add_metric(m, p, "train_correct", (double)r->train_correct, true);
    add_metric(m, p, "test_loss", r->test_loss, false);
    add_metric(m, p, "min_weight_change", r->min_weight_change, false);
    add_metric(m, p, "parameters", (double)r->parameters, true);
}

/* The flat "metrics" object of the result file; the bars of milestones.def name its
 * keys. Per model: <key>_test_accuracy and so on (no prefix when there is one model);
 * with several models, train_seconds and samples_per_second also for all together. */
static void collect_metrics(metrics *m, const ms_result *results, size_t n_runs,
                            size_t live_at_end)
{
    double seconds = 0, samples = 0;
    m->count = 0;
    for (size_t i = 0; i < n_runs; i++) {
        const ms_result *r = &results[i];
        const char *p = r->spec->key;
        add_model_metrics(m, r);
        add_metric(m, p, "best_test_accuracy", r->best_test_accuracy, false);
        add_metric(m, p, "final_loss", r->final_loss, false);
        add_metric(m, p, "train_seconds", r->train_seconds, false);
        add_metric(m, p, "samples_per_second", r->samples_per_second, false);
        seconds += r->train_seconds;
        samples += (double)r->epochs * (double)r->n_train;
    }
    if (n_runs > 1) {
        add_metric(m, "", "train_seconds", seconds, false);
        add_metric(m, "", "samples_per_second", seconds > 0 ? samples / seconds : 0.0, false);
    }
    add_metric(m, "", "live_allocations_at_end", (double)live_at_end, true);
}

static const metric *find_metric(const metrics *m, const char *name)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->items[i].name, name) == 0)
            return &m->items[i];
    return NULL;
}

/* ------------------------------------------------------------------ report */

#define COLUMN 20

static void print_table(const ms_spec *spec, const ms_result *results, const metrics *m,
                        bool *reached)
{
    size_t n = spec->n_runs;
    char cell[64];
    printf("\n  %s%-24s", BOLD, "result");
    for (size_t i = 0; i < n; i++)
        printf(" %-*s", i + 1 < n ? COLUMN : 0, n > 1 ? results[i].spec->label : "measured");
    printf("%s\n", RESET);
#define ROW(title, ...)                                                                     \
    do {                                                                                    \
        printf("  %-24s", title);                                                           \
        for (size_t i = 0; i < n; i++) {                                                    \
            const ms_result *r = &results[i];                                               \
            snprintf(cell, sizeof cell, __VA_ARGS__);                                       \
            printf(" %-*s", i + 1 < n ? COLUMN : 0, cell);                                  \
        }                                                                                   \
        printf("\n");                                                                       \
    } while (0)
    ROW("parameters", "%zu", r->parameters);
    ROW("epochs", "%ld", r->epochs);
    ROW("final training loss", "%.4f", r->final_loss);
    ROW("train accuracy", "%.1f%% (%zu/%zu)", 100.0 * r->train_accuracy, r->train_correct,
        r->n_train);
    ROW("test accuracy", "%.1f%% (%zu/%zu)", 100.0 * r->test_accuracy, r->test_correct,
        r->n_test);
    ROW("least weight change", "%.3f", r->min_weight_change);
    ROW("training time", "%.3f s", r->train_seconds);
    ROW("throughput", "%.0f samples/s", r->samples_per_second);
#undef ROW

    const tt_milestone_bar *first;
    size_t count;
    bar_rows(spec->number, &first, &count);
    *reached = count > 0;
    printf("\n  %s%-40s %s%s\n", BOLD, "bar (milestones.def)", "measured", RESET);
    for (size_t i = 0; i < count; i++) {
        const tt_milestone_bar *b = &first[i];
        const metric *it = find_metric(m, b->metric);
        char want[32], got[32], title[96];
        format_value(want, sizeof want, b->metric, b->bar);
        snprintf(title, sizeof title, "%s %s %s", b->metric, b->comparison, want);
        bool met = it && tt_milestone_bar_met(b, it->value);
        if (it)
            format_value(got, sizeof got, b->metric, it->value);
        else
            snprintf(got, sizeof got, "not measured");
        printf("  %-40s %-10s %s%s%s\n", title, got, met ? GREEN : RED, met ? "met" : "missed",
               RESET);
        *reached = *reached && met;
    }
    printf("\n  %s%s%s\n", *reached ? GREEN : RED,
           *reached ? "Every bar met on this run."
                    : "A bar was missed: see \"When a milestone fails\" in docs/milestones.md.",
           RESET);
}

/* A JSON string literal of `s` (quotes, backslashes and control characters escaped). */
static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(fp, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(fp, "\\u%04x", *c);
        else
            fputc(*c, fp);
    }
    fputc('"', fp);
}

/* A finite double as the shortest of 15 or 17 significant digits that reads back as
 * exactly the same value (0.995, not 0.99499999999999999), or null. */
static void json_number(FILE *fp, double value, bool integer)
{
    char text[40];
    if (!isfinite(value)) {
        fputs("null", fp);
        return;
    }
    if (integer) {
        fprintf(fp, "%.0f", value);
        return;
    }
    snprintf(text, sizeof text, "%.15g", value);
    if (strtod(text, NULL) != value)
        snprintf(text, sizeof text, "%.17g", value);
    fputs(text, fp);
}

/* A float option (0.1f) with the fewest digits that read back as the same float. */
static void json_float(FILE *fp, float value)
{
    char text[32];
    snprintf(text, sizeof text, "%.6g", (double)value);
    if ((float)strtod(text, NULL) != value)
        snprintf(text, sizeof text, "%.9g", (double)value);
    fputs(text, fp);
}

static void write_run(FILE *fp, const ms_result *r, const ms_epoch *history)
{
    const ms_run_spec *s = r->spec;
    fprintf(fp, "    {\"key\": ");
    json_string(fp, s->key);
    fprintf(fp, ", \"label\": ");
    json_string(fp, s->label);
    fprintf(fp, ", \"model\": ");
    json_string(fp, s->model);
    fprintf(fp, ",\n     \"loss\": \"%s\", \"optimizer\": \"%s\", \"learning_rate\": ",
            loss_name(s->loss, true), optimizer_name(s->optimizer, true));
    json_float(fp, s->learning_rate);
    fprintf(fp, ", \"momentum\": ");
    json_float(fp, s->momentum);
    fprintf(fp, ", \"batch_size\": %zu,\n", s->batch_size);
    fprintf(fp, "     \"epochs\": %ld, \"parameters\": %zu, \"train_samples\": %zu, "
                "\"test_samples\": %zu,\n",
            r->epochs, r->parameters, r->n_train, r->n_test);
    fprintf(fp, "     \"seconds\": ");
    json_number(fp, r->seconds, false);
    fprintf(fp, ",\n     \"history\": [");
    for (long e = 0; history && e < r->epochs; e++) {
        const ms_epoch *h = &history[e];
        fprintf(fp, "%s\n       {\"epoch\": %ld, \"loss\": ", e ? "," : "", e + 1);
        json_number(fp, h->loss, false);
        fprintf(fp, ", \"train_accuracy\": ");
        json_number(fp, h->train_accuracy, false);
        fprintf(fp, ", \"test_accuracy\": ");
        json_number(fp, h->test_accuracy, false);
        fprintf(fp, ", \"seconds\": ");
        json_number(fp, h->seconds, false);
        fputc('}', fp);
    }
    fprintf(fp, "]}");
}

/* What a --json file is made of. */
typedef struct result_file {
    const ms_spec *spec;
    const tt_milestone_bar *row;
    const ms_options *opt;
    const char *data_description;
    const ms_result *results;
    ms_epoch *const *histories; /* NULL for an evaluation */
    const metrics *m;
} result_file;

static void write_head(FILE *fp, const result_file *f, const char *schema)
{
    fprintf(fp, "{\n  \"schema\": ");
    json_string(fp, schema);
    fprintf(fp, ",\n  \"milestone\": %d,\n  \"slug\": ", f->spec->number);
    json_string(fp, f->row->slug);
    fprintf(fp, ",\n  \"program\": ");
    json_string(fp, f->row->program);
    fprintf(fp, ",\n  \"seed\": %" PRIu64 ",\n", f->opt->seed);
}

static void write_metrics(FILE *fp, const metrics *m)
{
    fprintf(fp, "  \"metrics\": {");
    for (size_t i = 0; i < m->count; i++) {
        fprintf(fp, "%s\n    ", i ? "," : "");
        json_string(fp, m->items[i].name);
        fprintf(fp, ": ");
        json_number(fp, m->items[i].value, m->items[i].integer);
    }
    fprintf(fp, "\n  }");
}

static void write_result(FILE *fp, const void *ctx)
{
    const result_file *f = ctx;
    write_head(fp, f, TT_MILESTONE_SCHEMA);
    fprintf(fp, "  \"epochs\": %ld,\n  \"data\": ", f->opt->epochs);
    json_string(fp, f->data_description);
    fprintf(fp, ",\n");
    write_metrics(fp, f->m);
    fprintf(fp, ",\n  \"runs\": [\n");
    for (size_t i = 0; i < f->spec->n_runs; i++) {
        write_run(fp, &f->results[i], f->histories[i]);
        fprintf(fp, "%s\n", i + 1 < f->spec->n_runs ? "," : "");
    }
    fprintf(fp, "  ]\n}\n");
}

static void write_evaluation(FILE *fp, const void *ctx)
{
    write_head(fp, ctx, TT_MILESTONE_EVALUATION_SCHEMA);
    write_metrics(fp, ((const result_file *)ctx)->m);
    fprintf(fp, "\n}\n");
}

/* -------------------------------------------------------------------- main */

static void print_header(const ms_spec *spec, const ms_options *opt, const ms_data *data)
{
    printf("  data: %s\n", data->description);
    printf("  batches: %s\n", spec->batcher ? spec->batcher->name : "the milestone's own batching "
                                                                   "(module 01 only)");
    for (size_t i = 0; i < spec->n_runs; i++) {
        const ms_run_spec *r = &spec->runs[i];
        char optim[64];
        describe_optimizer(optim, sizeof optim, r);
        printf("  %s: %s; %s, %s, batch %zu, seed %" PRIu64 "\n",
               r->key[0] ? r->label : "model", r->model, loss_name(r->loss, false), optim,
               r->batch_size, opt->seed);
    }
    printf("\n");
    fflush(stdout);
}

/* --evaluate FILE: measure the saved parameters with this build's modules (tito runs
 * the reference's build on a student's file) and write only those metrics. Prints one
 * line per metric; the exit status says whether the file could be measured. */
static int evaluate_main(const ms_spec *spec, const tt_milestone_bar *row, ms_options *opt)
{
    int status = MS_EXIT_REACHED;
    ms_data data = {0};
    ms_saved *saved = NULL;
    ms_result *results = calloc(spec->n_runs, sizeof *results);
    if (!results) {
        error_message("out of memory");
        return MS_EXIT_NOMEM;
    }
    tt_status st =
        ms_params_read(&saved, &opt->seed, opt->evaluate_path, spec->number, spec->n_runs);
    if (st == TT_OK)
        st = spec->make_data(&data, opt);
    if (st != TT_OK) {
        error_message("%s", tt_error_last());
        status = exit_for_status(st);
        goto done;
    }
    for (size_t i = 0; i < spec->n_runs; i++) {
        st = ms_evaluate(&results[i], spec, i, &data, opt, &saved[i]);
        if (st != TT_OK) {
            error_message("evaluating %s failed: %s", spec->runs[i].model, tt_error_last());
            status = exit_for_status(st);
            goto done;
        }
    }
    metrics m;
    m.count = 0;
    for (size_t i = 0; i < spec->n_runs; i++)
        add_model_metrics(&m, &results[i]);
    for (size_t i = 0; i < m.count; i++) {
        char value[32];
        if (m.items[i].integer)
            snprintf(value, sizeof value, "%.0f", m.items[i].value);
        else
            format_value(value, sizeof value, m.items[i].name, m.items[i].value);
        printf("  %-32s %s\n", m.items[i].name, isfinite(m.items[i].value) ? value : "-");
    }
    if (opt->json_path) {
        result_file f = {spec, row, opt, data.description, results, NULL, &m};
        int err = ms_write_atomic(opt->json_path, write_evaluation, &f);
        if (err) {
            error_message("cannot write %s: %s", opt->json_path, strerror(err));
            status = MS_EXIT_IO;
        }
    }
done:
    ms_data_release(&data);
    ms_saved_release(saved, spec->n_runs);
    free(results);
    return status;
}

int ms_main(const ms_spec *spec, int argc, char **argv)
{
    const tt_milestone_bar *row = tt_milestone_find(spec->number);
    if (!row || spec->n_runs == 0) {
        fprintf(stderr, "milestone %d: not in milestones.def, or no model to train\n",
                spec->number);
        return MS_EXIT_INTERNAL;
    }
    program = row->program;
    ms_options opt = {.epochs = spec->default_epochs, .seed = spec->default_seed};
    int status = parse_options(&opt, spec, row, argc, argv);
    if (status >= 0)
        return status;
    decide_output();
    if (opt.evaluate_path)
        return evaluate_main(spec, row, &opt);

    printf("%s%s%s %s\n\n", BOLD, spec->headline, RESET, spec->history);
    fflush(stdout);

    ms_data data = {0};
    ms_result *results = calloc(spec->n_runs, sizeof *results);
    ms_epoch **histories = calloc(spec->n_runs, sizeof *histories);
    tt_status st = TT_OK;
    if (!results || !histories) {
        error_message("out of memory");
        status = MS_EXIT_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < spec->n_runs; i++) {
        histories[i] = calloc((size_t)opt.epochs, sizeof **histories);
        if (!histories[i]) {
            error_message("out of memory");
            status = MS_EXIT_NOMEM;
            goto done;
        }
    }

    st = spec->make_data(&data, &opt);
    if (st != TT_OK) {
        error_message("%s", tt_error_last());
        status = exit_for_status(st);
        goto done;
    }
    print_header(spec, &opt, &data);
    for (size_t i = 0; i < spec->n_runs; i++) {
        if (i > 0)
            printf("\n");
        st = ms_train(&results[i], spec, i, &data, &opt, histories[i], true);
        if (st != TT_OK) {
            error_message("training %s failed: %s", spec->runs[i].model, tt_error_last());
            status = exit_for_status(st);
            goto done;
        }
    }
    char description[sizeof data.description];
    memcpy(description, data.description, sizeof description);
    ms_data_release(&data);

    /* Everything of the framework's is freed by now: what is still live leaked. */
    size_t live_at_end = tt_alloc_live();
    metrics m;
    collect_metrics(&m, results, spec->n_runs, live_at_end);
    bool reached = false;
    print_table(spec, results, &m, &reached);
    if (live_at_end)
        printf("  %swarning:%s %zu framework allocation(s) still live after everything was "
               "freed: a leak in the modules\n",
               RED, RESET, live_at_end);
    status = reached ? MS_EXIT_REACHED : MS_EXIT_MISSED;
    if (opt.json_path) {
        result_file f = {spec, row, &opt, description, results, histories, &m};
        int err = ms_write_atomic(opt.json_path, write_result, &f);
        if (err) {
            error_message("cannot write %s: %s", opt.json_path, strerror(err));
            status = MS_EXIT_IO;
        } else {
            printf("  results written to %s\n", opt.json_path);
        }
    }
    if (opt.params_path) {
        int err = ms_params_save(opt.params_path, spec->number, opt.seed, results, spec->n_runs);
        if (err) {
            error_message("cannot write %s: %s", opt.params_path, strerror(err));
            status = MS_EXIT_IO;
        }
    }

done:
    ms_data_release(&data);
    for (size_t i = 0; histories && i < spec->n_runs; i++)
        free(histories[i]);
    free(histories);
    for (size_t i = 0; results && i < spec->n_runs; i++)
        ms_result_release(&results[i]);
    free(results);
    return status;
}
