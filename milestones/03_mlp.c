/*
 * tt-digits-mlp: milestone 3, the 1986 multi-layer perceptron, on handwritten digits.
 *
 * Trains a 64-32-10 MLP (Linear, ReLU, Linear) with cross-entropy and Adam on the 1000
 * training images of milestones/data (8x8 digits) and reports its accuracy on the 200
 * held-out test images. It uses only the framework's public API (modules 01-08), so
 * linked with a student's own modules it shows that their framework learns.
 *
 * Everything printed is measured in this run: losses, accuracies (counted on the data),
 * times (a monotonic clock). On a terminal each epoch has a live progress bar; into a
 * pipe or file each epoch is one plain line. Colour only on a terminal, never when
 * NO_COLOR is set or TERM is dumb. --json writes the results atomically (a temporary
 * file in the same folder, fsync, rename).
 *
 * Exit status: 0 trained and reached the bar (test accuracy >= 90%), 1 trained but
 * missed the bar, 2 bad command line, 3 data or output file unreadable/unwritable,
 * 4 malformed data, 5 out of memory, 6 any other framework error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tinytorch/dataloader.h"
#include "tinytorch/datasets.h"
#include "tinytorch/layers.h"
#include "tinytorch/optimizers.h"
#include "tinytorch/training.h"

#define PROGRAM "tt-digits-mlp"
#define HIDDEN 32
#define BATCH_SIZE 32
#define LEARNING_RATE 0.01f
#define BAR_TEST_ACCURACY 0.90
#define MAX_EPOCHS 1000
#define BAR_WIDTH 24

enum exit_status {
    EXIT_BAR_REACHED = 0,
    EXIT_BAR_MISSED = 1,
    EXIT_USAGE = 2,
    EXIT_IO = 3,
    EXIT_DATA = 4,
    EXIT_NOMEM = 5,
    EXIT_INTERNAL = 6,
};

typedef struct options {
    long epochs;
    uint64_t seed;
    const char *data_dir; /* NULL: tt_data_dir's search */
    const char *json_path;
} options;

typedef struct epoch_record {
    double loss; /* mean training loss over the epoch's batches */
    double train_accuracy;
    double test_accuracy;
    double seconds; /* since training began, at the end of this epoch */
} epoch_record;

typedef struct results {
    long epochs;
    size_t parameters;
    size_t n_train, n_test;
    double train_accuracy, test_accuracy;
    double final_loss;
    double seconds;
    epoch_record *history; /* [epochs] */
} results;

/* ------------------------------------------------------------------ output */

static bool live;  /* stdout is a terminal: redraw a progress bar in place */
static bool color; /* escape sequences allowed on stdout */
static bool bar_open; /* a progress bar is on the current line */
static double bar_drawn_at = -1.0;

static const char *sgr(const char *code)
{
    return color ? code : "";
}
#define BOLD sgr("\033[1m")
#define DIM sgr("\033[2m")
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

/* "tt-digits-mlp: error: <message>" on stderr, after whatever stdout still holds. */
static void error_message(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void error_message(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    if (bar_open)
        fputc('\n', stdout); /* leave a half-drawn progress bar on its own line */
    bar_open = false;
    fprintf(stderr, PROGRAM ": error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int exit_for_status(tt_status st)
{
    switch (st) {
    case TT_ERR_IO: return EXIT_IO;
    case TT_ERR_FORMAT: return EXIT_DATA;
    case TT_ERR_NOMEM: return EXIT_NOMEM;
    default: return EXIT_INTERNAL;
    }
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: " PROGRAM " [--epochs N] [--seed N] [--data DIR] [--json FILE]\n"
            "\n"
            "Milestone 3 (1986): train a 64-%d-10 multi-layer perceptron (Linear, ReLU,\n"
            "Linear; cross-entropy; Adam, learning rate %g; batches of %d) on 1000 8x8\n"
            "handwritten digits and measure its accuracy on 200 held-out ones.\n"
            "\n"
            "options:\n"
            "  --epochs N   passes over the training images, 1..%d (default 20)\n"
            "  --seed N     seed of the initial weights; the shuffling uses N+1 (default 1986)\n"
            "  --data DIR   folder holding digits_train.csv and digits_test.csv (default:\n"
            "               $TT_DATA_DIR, else the installed data, else the source tree's\n"
            "               milestones/data)\n"
            "  --json FILE  also write the measured results to FILE, atomically\n"
            "  -h, --help   show this help\n"
            "\n"
            "exit status: 0 test accuracy reached %.0f%%, 1 it did not, 2 bad options,\n"
            "3 unreadable data or unwritable FILE, 4 malformed data, 5 out of memory.\n"
            "Output is coloured on a terminal unless NO_COLOR is set.\n",
            HIDDEN, (double)LEARNING_RATE, BATCH_SIZE, MAX_EPOCHS, 100.0 * BAR_TEST_ACCURACY);
}

/* ----------------------------------------------------------------- options */

static bool parse_unsigned(const char *text, uint64_t max, uint64_t *value)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *value = (uint64_t)v;
    return true;
}

/* Returns -1 to go on, else the exit status (help or a usage error). */
static int parse_options(options *opt, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_usage(stdout);
            return EXIT_BAR_REACHED;
        }
        static const char *const with_value[] = {"--epochs", "--seed", "--data", "--json"};
        const char *name = NULL, *value = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
            size_t len = strlen(with_value[k]);
            if (strncmp(arg, with_value[k], len) == 0 && (arg[len] == '\0' || arg[len] == '=')) {
                name = with_value[k];
                value = arg[len] == '=' ? arg + len + 1 : NULL;
            }
        }
        if (!name) {
            error_message("unknown option '%s'", arg);
            fprintf(stderr, "Try '" PROGRAM " --help'.\n");
            return EXIT_USAGE;
        }
        if (!value) {
            if (i + 1 >= argc) {
                error_message("%s needs a value", name);
                fprintf(stderr, "Try '" PROGRAM " --help'.\n");
                return EXIT_USAGE;
            }
            value = argv[++i];
        }
        uint64_t number = 0;
        if (strcmp(name, "--epochs") == 0) {
            if (!parse_unsigned(value, MAX_EPOCHS, &number) || number == 0) {
                error_message("--epochs needs a whole number from 1 to %d, got '%s'", MAX_EPOCHS,
                              value);
                return EXIT_USAGE;
            }
            opt->epochs = (long)number;
        } else if (strcmp(name, "--seed") == 0) {
            if (!parse_unsigned(value, UINT64_MAX - 1, &number)) {
                error_message("--seed needs a whole number from 0 to 2^64-2, got '%s'", value);
                return EXIT_USAGE;
            }
            opt->seed = number;
        } else if (!*value) {
            error_message("%s needs a non-empty value", name);
            return EXIT_USAGE;
        } else if (strcmp(name, "--data") == 0) {
            opt->data_dir = value;
        } else {
            opt->json_path = value;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------ training */

static tt_status build_mlp(tt_layer **out, tt_rng *rng)
{
    tt_status st = TT_OK;
    tt_layer *model = NULL, *layer = NULL;
    *out = NULL;
    TT_CHECK(tt_sequential_new(&model));
    TT_CHECK(tt_linear_new(&layer, TT_DIGITS_PIXELS, HIDDEN, true, rng));
    TT_CHECK(tt_sequential_append(model, layer)); /* takes the layer, also on failure */
    TT_CHECK(tt_relu_layer_new(&layer));
    TT_CHECK(tt_sequential_append(model, layer));
    TT_CHECK(tt_linear_new(&layer, HIDDEN, TT_DIGITS_CLASSES, true, rng));
    TT_CHECK(tt_sequential_append(model, layer));
    *out = model;
    return TT_OK;

cleanup:
    tt_layer_free(model);
    return st;
}

static int epoch_width(long epochs)
{
    return epochs >= 1000 ? 4 : epochs >= 100 ? 3 : epochs >= 10 ? 2 : 1;
}

/* Redraws at most 30 times a second (and always when the epoch starts or ends), so a
 * fast machine does not spend its time on the terminal. */
static void draw_bar(long epoch, long epochs, size_t batch, size_t batches, double loss,
                     double elapsed)
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
    printf("\r\033[K  epoch %*ld/%ld %s[%s]%s %3zu/%zu  loss %s  %6.2fs", epoch_width(epochs),
           epoch, epochs, GREEN, bar, RESET, batch, batches, loss_text, elapsed);
    fflush(stdout);
}

static void print_epoch_line(long epoch, long epochs, const epoch_record *r)
{
    bar_open = false;
    printf("%s  epoch %*ld/%ld  loss %.4f  train %5.1f%%  test %5.1f%%  %6.2fs\n",
           live ? "\r\033[K" : "", epoch_width(epochs), epoch, epochs, r->loss, 100.0 * r->train_accuracy,
           100.0 * r->test_accuracy, r->seconds);
    fflush(stdout);
}

static tt_status train(results *res, const options *opt, const tt_digits *digits)
{
    tt_status st = TT_OK;
    tt_tensor *train_x = NULL, *train_y = NULL, *test_x = NULL, *test_y = NULL;
    tt_tensor *xb = NULL, *yb = NULL;
    tt_dataset *ds = NULL;
    tt_dataloader *loader = NULL;
    tt_layer *model = NULL;
    tt_optimizer *optim = NULL;
    tt_params params;
    tt_params_init(&params);
    tt_rng init_rng, data_rng;
    tt_rng_init(&init_rng, opt->seed);
    tt_rng_init(&data_rng, opt->seed + 1);

    TT_CHECK(tt_digits_tensors(&train_x, &train_y, digits, true));
    TT_CHECK(tt_digits_tensors(&test_x, &test_y, digits, false));
    TT_CHECK(build_mlp(&model, &init_rng));
    TT_CHECK(tt_layer_parameters(model, &params));
    tt_optimizer_options oo = TT_OPTIMIZER_OPTIONS_INIT;
    oo.lr = LEARNING_RATE;
    TT_CHECK(tt_optimizer_new(&optim, TT_OPTIM_ADAM, &params, &oo));
    tt_dataloader_options lo = {BATCH_SIZE, true, false};
    TT_CHECK(tt_dataset_new(&ds, train_x, train_y));
    TT_CHECK(tt_dataloader_new(&loader, ds, &lo, &data_rng));

    res->parameters = tt_params_numel(&params);
    res->n_train = digits->n_train;
    res->n_test = digits->n_test;
    size_t batches = tt_dataloader_num_batches(loader);
    double start = now_seconds();
    for (long epoch = 1; epoch <= opt->epochs; epoch++) {
        double total = 0;
        size_t done = 0;
        tt_layer_set_training(model, true);
        TT_CHECK(tt_dataloader_start_epoch(loader));
        if (live)
            draw_bar(epoch, opt->epochs, 0, batches, 0.0, now_seconds() - start);
        for (;;) {
            TT_CHECK(tt_dataloader_next(loader, &xb, &yb));
            if (!xb)
                break;
            float loss = 0;
            TT_CHECK(tt_train_step(&loss, model, optim, TT_LOSS_CROSS_ENTROPY, xb, yb, 0.0f));
            tt_tensor_free(xb);
            tt_tensor_free(yb);
            xb = yb = NULL;
            total += loss;
            done++;
            if (live)
                draw_bar(epoch, opt->epochs, done, batches, total / (double)done,
                         now_seconds() - start);
        }
        tt_eval_result on_train, on_test;
        TT_CHECK(tt_evaluate(&on_train, model, TT_LOSS_CROSS_ENTROPY, train_x, train_y, 250));
        TT_CHECK(tt_evaluate(&on_test, model, TT_LOSS_CROSS_ENTROPY, test_x, test_y, 200));
        epoch_record *r = &res->history[epoch - 1];
        r->loss = done ? total / (double)done : 0.0;
        r->train_accuracy = on_train.accuracy;
        r->test_accuracy = on_test.accuracy;
        r->seconds = now_seconds() - start;
        res->epochs = epoch;
        print_epoch_line(epoch, opt->epochs, r);
    }
    epoch_record *last = &res->history[res->epochs - 1];
    res->train_accuracy = last->train_accuracy;
    res->test_accuracy = last->test_accuracy;
    res->final_loss = last->loss;
    res->seconds = last->seconds;

cleanup:
    tt_tensor_free(xb);
    tt_tensor_free(yb);
    tt_dataloader_free(loader);
    tt_dataset_free(ds);
    tt_optimizer_free(optim);
    tt_params_release(&params);
    tt_layer_free(model);
    tt_tensor_free(train_x);
    tt_tensor_free(train_y);
    tt_tensor_free(test_x);
    tt_tensor_free(test_y);
    return st;
}

/* ------------------------------------------------------------------ report */

static size_t correct_count(double accuracy, size_t n)
{
    return (size_t)(accuracy * (double)n + 0.5);
}

static void print_table(const results *res)
{
    bool reached = res->test_accuracy >= BAR_TEST_ACCURACY;
    printf("\n  %s%-22s %s%s\n", BOLD, "result", "measured", RESET);
    printf("  %-22s %ld\n", "epochs", res->epochs);
    printf("  %-22s %zu\n", "parameters", res->parameters);
    printf("  %-22s %.4f\n", "final training loss", res->final_loss);
    printf("  %-22s %.1f%% (%zu/%zu)\n", "train accuracy", 100.0 * res->train_accuracy,
           correct_count(res->train_accuracy, res->n_train), res->n_train);
    printf("  %-22s %.1f%% (%zu/%zu)\n", "test accuracy", 100.0 * res->test_accuracy,
           correct_count(res->test_accuracy, res->n_test), res->n_test);
    printf("  %-22s %.2f s\n", "time (train + eval)", res->seconds);
    printf("  %-22s %s%s%s (test accuracy >= %.0f%%)\n", "milestone bar",
           reached ? GREEN : RED, reached ? "reached" : "missed", RESET,
           100.0 * BAR_TEST_ACCURACY);
}

/* Writes the results to path atomically: a temporary file beside it, flushed to disk,
 * then renamed over it. Returns 0 or an errno value. */
static int write_json(const char *path, const options *opt, const results *res)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    if (!tmp)
        return ENOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", 8);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return err;
    }
    /* mkstemp makes the file 0600; results are not secret, so give them the mode any
     * new file would get. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        int err = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return err;
    }
    fprintf(fp, "{\n");
    fprintf(fp, "  \"format\": \"tinytorch-milestone-result\",\n  \"version\": 1,\n");
    fprintf(fp, "  \"milestone\": \"1986-mlp\",\n  \"program\": \"" PROGRAM "\",\n");
    fprintf(fp, "  \"model\": \"64-%d-10 mlp (linear, relu, linear)\",\n", HIDDEN);
    fprintf(fp, "  \"optimizer\": \"adam\",\n  \"learning_rate\": %g,\n", (double)LEARNING_RATE);
    fprintf(fp, "  \"batch_size\": %d,\n  \"seed\": %" PRIu64 ",\n", BATCH_SIZE, opt->seed);
    fprintf(fp, "  \"epochs\": %ld,\n  \"parameters\": %zu,\n", res->epochs, res->parameters);
    fprintf(fp, "  \"train_images\": %zu,\n  \"test_images\": %zu,\n", res->n_train, res->n_test);
    fprintf(fp, "  \"final_loss\": %.9g,\n", res->final_loss);
    fprintf(fp, "  \"train_accuracy\": %.9g,\n  \"train_correct\": %zu,\n", res->train_accuracy,
            correct_count(res->train_accuracy, res->n_train));
    fprintf(fp, "  \"test_accuracy\": %.9g,\n  \"test_correct\": %zu,\n", res->test_accuracy,
            correct_count(res->test_accuracy, res->n_test));
    fprintf(fp, "  \"seconds\": %.6f,\n", res->seconds);
    fprintf(fp, "  \"bar\": {\"test_accuracy_at_least\": %.2f, \"reached\": %s},\n",
            BAR_TEST_ACCURACY, res->test_accuracy >= BAR_TEST_ACCURACY ? "true" : "false");
    fprintf(fp, "  \"history\": [\n");
    for (long e = 0; e < res->epochs; e++) {
        const epoch_record *r = &res->history[e];
        fprintf(fp,
                "    {\"epoch\": %ld, \"loss\": %.9g, \"train_accuracy\": %.9g, "
                "\"test_accuracy\": %.9g, \"seconds\": %.6f}%s\n",
                e + 1, r->loss, r->train_accuracy, r->test_accuracy, r->seconds,
                e + 1 < res->epochs ? "," : "");
    }
    fprintf(fp, "  ]\n}\n");
    int err = 0;
    if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0)
        err = errno ? errno : EIO;
    if (fclose(fp) != 0 && !err)
        err = errno ? errno : EIO;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    free(tmp);
    return err;
}

/* -------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    options opt = {20, 1986, NULL, NULL};
    int status = parse_options(&opt, argc, argv);
    if (status >= 0)
        return status;
    decide_output();

    printf("%s1986: backpropagation.%s Rumelhart, Hinton and Williams show that a network\n"
           "with a hidden layer learns its own features from examples, one gradient at a time.\n\n",
           BOLD, RESET);

    tt_digits digits;
    const char *dir = tt_data_dir(opt.data_dir);
    tt_status st = tt_digits_load(&digits, dir);
    if (st != TT_OK) {
        error_message("%s", tt_error_last());
        return exit_for_status(st);
    }
    printf("  data: %zu training and %zu test images of 8x8 pixels from %s\n", digits.n_train,
           digits.n_test, dir);
    printf("  model: 64-%d-10 MLP (Linear, ReLU, Linear), Adam lr %g, batch %d, seed %" PRIu64
           "\n\n",
           HIDDEN, (double)LEARNING_RATE, BATCH_SIZE, opt.seed);
    fflush(stdout);

    results res = {0};
    res.history = calloc((size_t)opt.epochs, sizeof *res.history);
    if (!res.history) {
        tt_digits_release(&digits);
        error_message("%s", "out of memory");
        return EXIT_NOMEM;
    }
    st = train(&res, &opt, &digits);
    tt_digits_release(&digits);
    if (st != TT_OK) {
        error_message("training failed: %s", tt_error_last());
        free(res.history);
        return exit_for_status(st);
    }
    print_table(&res);

    status = res.test_accuracy >= BAR_TEST_ACCURACY ? EXIT_BAR_REACHED : EXIT_BAR_MISSED;
    if (opt.json_path) {
        int err = write_json(opt.json_path, &opt, &res);
        if (err) {
            error_message("cannot write %s: %s", opt.json_path, strerror(err));
            status = EXIT_IO;
        } else {
            printf("\n  results written to %s\n", opt.json_path);
        }
    }
    free(res.history);
    return status;
}
