/*
 * Tests of the digits data (tinytorch/datasets.h) and of what it is for: a 64-32-10 MLP
 * built from the reference modules, trained on the 1000 training images, must reach at
 * least 90% accuracy on the 200 test images (milestone 3's bar).
 *
 * The loader tests run on the committed files (from TT_DATA_DIR, which ctest sets, or
 * tt_data_dir's fallbacks) and on corrupted copies written to a fresh temporary
 * directory, one corruption at a time; each must be refused with a message naming the
 * file (and line) and must leave nothing allocated. Expected sums were computed from
 * the files with NumPy, not by this loader.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tinytorch/dataloader.h"
#include "tinytorch/datasets.h"
#include "tinytorch/layers.h"
#include "tinytorch/training.h"

static char tmpdir[256];
static char *good_train, *good_test; /* the committed files' text */

/* ------------------------------------------------------------------ helpers */

/* The whole text of a file, malloc'd (not framework memory), or NULL. */
static char *slurp(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long size = ftell(fp);
        if (size >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1))) {
            size_t got = fread(buf, 1, (size_t)size, fp);
            buf[got] = '\0';
        }
    }
    fclose(fp);
    return buf;
}

static void write_text(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (fp) {
        fputs(text ? text : "", fp);
        fclose(fp);
    }
}

static void remove_file(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
}

/* A copy of `text` (malloc'd) with line `lineno` (1-based) replaced by `line` plus a
 * newline; a NULL `line` deletes the line. */
static char *replace_line(const char *text, size_t lineno, const char *line)
{
    size_t len = strlen(text), extra = line ? strlen(line) + 1 : 0;
    char *out = malloc(len + extra + 1);
    if (!out)
        return NULL;
    const char *p = text;
    char *o = out;
    for (size_t n = 1; *p; n++) {
        const char *end = strchr(p, '\n');
        size_t l = end ? (size_t)(end - p) + 1 : strlen(p);
        if (n != lineno) {
            memcpy(o, p, l);
            o += l;
        } else if (line) {
            memcpy(o, line, extra - 1);
            o += extra - 1;
            *o++ = '\n';
        }
        p += l;
    }
    *o = '\0';
    return out;
}

/* Line `lineno` of text (without its newline) into buf. */
static void get_line(char *buf, size_t size, const char *text, size_t lineno)
{
    const char *p = text;
    for (size_t n = 1; n < lineno && p; n++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    size_t l = p ? strcspn(p, "\n") : 0;
    if (l >= size)
        l = size - 1;
    memcpy(buf, p ? p : "", l);
    buf[l] = '\0';
}

/* row with its field `col` (0 = label) replaced by value, into out. */
static void set_field(char *out, size_t size, const char *row, int col, const char *value)
{
    const char *start = row;
    for (int c = 0; c < col && start; c++) {
        start = strchr(start, ',');
        if (start)
            start++;
    }
    if (!start) {
        snprintf(out, size, "%s", row);
        return;
    }
    const char *end = start + strcspn(start, ",");
    snprintf(out, size, "%.*s%s%s", (int)(start - row), row, value, end);
}

/* Both good files in the temporary directory. */
static void write_good_files(void)
{
    write_text(TT_DIGITS_TRAIN_FILE, good_train);
    write_text(TT_DIGITS_TEST_FILE, good_test);
}

/* Loading from tmpdir must fail with `status`, a message containing each of the
 * needles, a zeroed result, and no allocation left behind. */
static void expect_load_error(tt_status status, const char *needle1, const char *needle2)
{
    tt_digits d;
    memset(&d, 0xAB, sizeof d); /* garbage the loader must overwrite */
    size_t live = tt_alloc_live();
    CHECK_STATUS(tt_digits_load(&d, tmpdir), status);
    CHECK(d.train_x == NULL && d.train_y == NULL && d.test_x == NULL && d.test_y == NULL);
    CHECK(d.n_train == 0 && d.n_test == 0);
    CHECK(tt_alloc_live() == live);
    CHECK_ERROR_MENTIONS("tt_digits_load");
    if (needle1)
        CHECK_ERROR_MENTIONS(needle1);
    if (needle2)
        CHECK_ERROR_MENTIONS(needle2);
}

/* Write the train file with line `lineno` replaced, expect an error, restore. */
static void corrupt_train_line(size_t lineno, const char *line, const char *needle1,
                               const char *needle2)
{
    char *bad = replace_line(good_train, lineno, line);
    CHECK(bad != NULL);
    write_good_files();
    write_text(TT_DIGITS_TRAIN_FILE, bad);
    expect_load_error(TT_ERR_FORMAT, needle1, needle2);
    free(bad);
}

/* -------------------------------------------------------------- good data */

static void test_load_committed_files(void)
{
    tt_digits d;
    CHECK_OK(tt_digits_load(&d, NULL));
    CHECK(d.n_train == 1000 && d.n_test == 200);
    if (!d.train_x || !d.test_x)
        return;
    /* Pixel sums and label sums, from NumPy over the files: 313061 and 4500 (train),
     * 62695 and 900 (test). Pixels are stored divided by 16, exactly. */
    double sum_train = 0, sum_test = 0, labels_train = 0, labels_test = 0;
    bool in_range = true, multiples = true;
    for (size_t i = 0; i < 1000 * 64; i++) {
        float v = d.train_x[i];
        in_range &= v >= 0.0f && v <= 1.0f;
        multiples &= v * 16.0f == (float)(int)(v * 16.0f);
        sum_train += (double)v * 16.0;
    }
    for (size_t i = 0; i < 200 * 64; i++)
        sum_test += (double)d.test_x[i] * 16.0;
    size_t counts_train[10] = {0}, counts_test[10] = {0};
    for (size_t i = 0; i < 1000; i++) {
        labels_train += d.train_y[i];
        if (d.train_y[i] >= 0 && d.train_y[i] < 10)
            counts_train[(int)d.train_y[i]]++;
    }
    for (size_t i = 0; i < 200; i++) {
        labels_test += d.test_y[i];
        if (d.test_y[i] >= 0 && d.test_y[i] < 10)
            counts_test[(int)d.test_y[i]]++;
    }
    CHECK(in_range && multiples);
    CHECK(sum_train == 313061.0 && sum_test == 62695.0);
    CHECK(labels_train == 4500.0 && labels_test == 900.0);
    for (int c = 0; c < 10; c++)
        CHECK(counts_train[c] == 100 && counts_test[c] == 20);
    /* The first training image: label 2, pixels 0,0,0,4,15,12,0,0,0,0,3 ... */
    CHECK(d.train_y[0] == 2.0f);
    CHECK(d.train_x[3] == 4.0f / 16.0f && d.train_x[4] == 15.0f / 16.0f);
    CHECK(d.train_x[10] == 3.0f / 16.0f);
    /* The last test image is a 5 starting 0,0,12,16. */
    CHECK(d.test_y[199] == 5.0f && d.test_x[199 * 64 + 2] == 12.0f / 16.0f);
    tt_digits_release(&d);
    CHECK(d.train_x == NULL && d.n_train == 0);
    tt_digits_release(&d); /* twice is harmless */
    tt_digits_release(NULL);
}

static void test_digits_tensors(void)
{
    tt_digits d;
    tt_tensor *x = NULL, *y = NULL;
    CHECK_OK(tt_digits_load(&d, NULL));
    CHECK_OK(tt_digits_tensors(&x, &y, &d, false));
    CHECK(x && x->ndim == 2 && x->shape[0] == 200 && x->shape[1] == 64);
    CHECK(y && y->ndim == 1 && y->shape[0] == 200);
    float v;
    if (x && y) {
        CHECK_OK(tt_tensor_get(x, TT_SHAPE(199, 2), &v));
        CHECK(v == 0.75f);
        CHECK_OK(tt_tensor_get(y, TT_SHAPE(199), &v));
        CHECK(v == 5.0f);
    }
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_digits_release(&d);
    /* Not loaded: a clear error, not a crash. */
    x = (tt_tensor *)&x;
    CHECK_STATUS(tt_digits_tensors(&x, &y, &d, true), TT_ERR_STATE);
    CHECK(x == NULL && y == NULL);
    CHECK_ERROR_MENTIONS("tt_digits_load first");
}

static void test_data_dir_order(void)
{
    CHECK(strcmp(tt_data_dir("/some/where"), "/some/where") == 0);
    const char *env = getenv("TT_DATA_DIR");
    if (env && env[0]) {
        CHECK(strcmp(tt_data_dir(NULL), env) == 0);
        CHECK(strcmp(tt_data_dir(""), env) == 0);
    }
    char *saved = env ? strdup(env) : NULL;
    setenv("TT_DATA_DIR", "/from/the/environment", 1);
    CHECK(strcmp(tt_data_dir(NULL), "/from/the/environment") == 0);
    CHECK(strcmp(tt_data_dir("/arg"), "/arg") == 0);
    unsetenv("TT_DATA_DIR");
    /* Without the variable: the installed folder or this source tree, never NULL. */
    const char *fallback = tt_data_dir(NULL);
    CHECK(fallback != NULL && fallback[0] == '/');
    if (saved) {
        setenv("TT_DATA_DIR", saved, 1);
        free(saved);
    }
}

/* A file converted to CRLF line endings is the same data. */
static void test_crlf_files_load(void)
{
    size_t len = strlen(good_test), lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += good_test[i] == '\n';
    char *crlf = malloc(len + lines + 1), *o = crlf;
    CHECK(crlf != NULL);
    if (!crlf)
        return;
    for (size_t i = 0; i < len; i++) {
        if (good_test[i] == '\n')
            *o++ = '\r';
        *o++ = good_test[i];
    }
    *o = '\0';
    write_good_files();
    write_text(TT_DIGITS_TEST_FILE, crlf);
    free(crlf);
    tt_digits d;
    CHECK_OK(tt_digits_load(&d, tmpdir));
    CHECK(d.n_test == 200);
    tt_digits_release(&d);
}

/* ------------------------------------------------------------ bad data */

static void test_missing_files(void)
{
    remove_file(TT_DIGITS_TRAIN_FILE);
    remove_file(TT_DIGITS_TEST_FILE);
    expect_load_error(TT_ERR_IO, "digits_train.csv", "TT_DATA_DIR");
    CHECK(strstr(tt_error_last(), tmpdir) != NULL); /* names the full path */
    /* The train file alone: the test file is named, the train arrays are released. */
    write_text(TT_DIGITS_TRAIN_FILE, good_train);
    expect_load_error(TT_ERR_IO, "digits_test.csv", "--data DIR");
    remove_file(TT_DIGITS_TRAIN_FILE);
}

static void test_bad_first_line(void)
{
    corrupt_train_line(1, "label,p0", "digits_train.csv:1:", "not a TinyTorch digits file");
    corrupt_train_line(1, "# tinytorch-digits 2 train: from the future", "digits_train.csv:1:",
                       "format version 2");
    corrupt_train_line(1, "# tinytorch-digits x train", "digits_train.csv:1:", "no format version");
    corrupt_train_line(1, "# tinytorch-digits 1 test: 200 images", "digits_train.csv:1:",
                       "not the train split");
    corrupt_train_line(1, "# tinytorch-digits 1 trainee", "digits_train.csv:1:",
                       "not the train split");
    /* The test file swapped in for the train file. */
    write_text(TT_DIGITS_TRAIN_FILE, good_test);
    write_text(TT_DIGITS_TEST_FILE, good_test);
    expect_load_error(TT_ERR_FORMAT, "not the train split", NULL);
    write_text(TT_DIGITS_TRAIN_FILE, "");
    expect_load_error(TT_ERR_FORMAT, "digits_train.csv is empty", NULL);
}

static void test_bad_column_header(void)
{
    corrupt_train_line(2, "label,p1,p0", "digits_train.csv:2:", "column header");
    corrupt_train_line(2, NULL, "digits_train.csv:2:", "column header"); /* header missing */
}

static void test_bad_rows(void)
{
    char row[512], bad[600];
    get_line(row, sizeof row, good_train, 3); /* "2,0,0,0,4,15,12,0,0,0,0,3,..." */
    CHECK(strncmp(row, "2,0,0,0,4,15,12,", 16) == 0);

    /* A pixel of 17 in p10 (the 12th field) on line 7, and of 999999 in p63. */
    get_line(row, sizeof row, good_train, 7);
    set_field(bad, sizeof bad, row, 11, "17");
    corrupt_train_line(7, bad, "digits_train.csv:7:", "pixel p10 = 17 is outside 0..16");
    set_field(bad, sizeof bad, row, 64, "999999");
    corrupt_train_line(7, bad, "digits_train.csv:7:", "pixel p63");
    get_line(row, sizeof row, good_train, 3);
    /* Label 10. */
    snprintf(bad, sizeof bad, "10%s", row + 1);
    corrupt_train_line(3, bad, "digits_train.csv:3:", "label 10 is outside 0..9");
    /* Not integers. */
    snprintf(bad, sizeof bad, "2,1.5%s", row + 3);
    corrupt_train_line(3, bad, "digits_train.csv:3:", "\"1.5\" is not a whole number");
    snprintf(bad, sizeof bad, "2,-1%s", row + 3);
    corrupt_train_line(3, bad, "column 2 (p0)", "\"-1\" is not a whole number");
    snprintf(bad, sizeof bad, "2,%s", row + 3); /* an empty field p0 */
    corrupt_train_line(3, bad, "digits_train.csv:3:", "not a whole number");
    snprintf(bad, sizeof bad, "x%s", row + 1);
    corrupt_train_line(3, bad, "column 1 (label)", "not a whole number");
    /* A column too few, a column too many. */
    char *last_comma = strrchr(row, ',');
    size_t cut = last_comma ? (size_t)(last_comma - row) : 0;
    snprintf(bad, sizeof bad, "%.*s", (int)cut, row);
    corrupt_train_line(3, bad, "digits_train.csv:3:", "64 columns, expected 65");
    snprintf(bad, sizeof bad, "%s,0", row);
    corrupt_train_line(3, bad, "digits_train.csv:3:", "66 columns, expected 65");
    corrupt_train_line(3, "", "digits_train.csv:3:", "empty line");
    /* A line far too long. */
    char longline[3000];
    memset(longline, '1', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    corrupt_train_line(3, longline, "digits_train.csv:3:", "longer than");
}

static void test_wrong_counts(void)
{
    /* Short file: the last image removed. */
    corrupt_train_line(1002, NULL, "digits_train.csv: 999 images, expected 1000", NULL);
    /* An extra image at the end. */
    char row[512], *longer;
    get_line(row, sizeof row, good_train, 3);
    size_t len = strlen(good_train);
    longer = malloc(len + strlen(row) + 2);
    CHECK(longer != NULL);
    if (longer) {
        memcpy(longer, good_train, len);
        memcpy(longer + len, row, strlen(row));
        longer[len + strlen(row)] = '\n';
        longer[len + strlen(row) + 1] = '\0';
        write_good_files();
        write_text(TT_DIGITS_TRAIN_FILE, longer);
        expect_load_error(TT_ERR_FORMAT, "digits_train.csv:1003:", "more than the 1000 images");
        free(longer);
    }
    /* 1000 images, but the first 3 (line 35, from NumPy) relabelled as a 4. */
    get_line(row, sizeof row, good_train, 35);
    CHECK(row[0] == '3');
    row[0] = '4';
    corrupt_train_line(35, row, "99 images of digit 3", "expected 100");
    /* The test file truncated in the middle of a row. */
    write_good_files();
    char *cut = malloc(strlen(good_test) + 1);
    if (cut) {
        memcpy(cut, good_test, strlen(good_test) + 1);
        cut[strlen(cut) - 10] = '\0';
        write_text(TT_DIGITS_TEST_FILE, cut);
        expect_load_error(TT_ERR_FORMAT, "digits_test.csv:202:", "columns, expected 65");
        free(cut);
    }
}

static void test_load_argument_errors_and_allocation_failures(void)
{
    CHECK_STATUS(tt_digits_load(NULL, tmpdir), TT_ERR_INVALID_ARG);
    char huge[5000];
    memset(huge, 'd', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    tt_digits d;
    CHECK_STATUS(tt_digits_load(&d, huge), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("too long");

    write_good_files();
    long k;
    for (k = 0; k < 20; k++) {
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(k);
        tt_status st = tt_digits_load(&d, tmpdir);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            tt_digits_release(&d);
            break;
        }
        CHECK(st == TT_ERR_NOMEM);
        CHECK(d.train_x == NULL && d.test_y == NULL && tt_alloc_live() == live);
    }
    CHECK(k == 4); /* four arrays, each failure exercised once */
}

/* ---------------------------------------------------------- the digits MLP */

static tt_status build_mlp(tt_layer **out, tt_rng *rng)
{
    tt_status st = TT_OK;
    tt_layer *model = NULL, *layer = NULL;
    *out = NULL;
    TT_CHECK(tt_sequential_new(&model));
    TT_CHECK(tt_linear_new(&layer, 64, 32, true, rng));
    TT_CHECK(tt_sequential_append(model, layer)); /* takes the layer, also on failure */
    TT_CHECK(tt_relu_layer_new(&layer));
    TT_CHECK(tt_sequential_append(model, layer));
    TT_CHECK(tt_linear_new(&layer, 32, 10, true, rng));
    TT_CHECK(tt_sequential_append(model, layer));
    *out = model;
    return TT_OK;

cleanup:
    tt_layer_free(model);
    return st;
}

/* 64-32-10 MLP, Adam (lr 0.01), batch 32, 20 epochs, fixed seeds: the test accuracy
 * must reach 90% (milestone 3's bar); the training loss must fall. */
static void test_mlp_learns_digits(void)
{
    tt_digits d;
    tt_tensor *train_x = NULL, *train_y = NULL, *test_x = NULL, *test_y = NULL;
    tt_dataset *ds = NULL;
    tt_dataloader *dl = NULL;
    tt_layer *model = NULL;
    tt_optimizer *opt = NULL;
    tt_params params;
    tt_params_init(&params);
    tt_rng init_rng, data_rng;
    tt_rng_init(&init_rng, 1986);
    tt_rng_init(&data_rng, 2024);

    CHECK_OK(tt_digits_load(&d, NULL));
    CHECK_OK(tt_digits_tensors(&train_x, &train_y, &d, true));
    CHECK_OK(tt_digits_tensors(&test_x, &test_y, &d, false));
    tt_digits_release(&d);
    if (!train_x || !test_x)
        goto done;
    CHECK_OK(build_mlp(&model, &init_rng));
    if (!model)
        goto done;
    CHECK_OK(tt_layer_parameters(model, &params));
    CHECK(tt_params_numel(&params) == 64 * 32 + 32 + 32 * 10 + 10);
    tt_optimizer_options oo = TT_OPTIMIZER_OPTIONS_INIT;
    oo.lr = 0.01f;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_ADAM, &params, &oo));
    tt_dataloader_options lo = {32, true, false};
    CHECK_OK(tt_dataset_new(&ds, train_x, train_y));
    if (ds)
        CHECK_OK(tt_dataloader_new(&dl, ds, &lo, &data_rng));
    if (!opt || !dl)
        goto done;

    tt_layer_set_training(model, true);
    double first_epoch_loss = 0, last_epoch_loss = 0;
    for (int epoch = 0; epoch < 20; epoch++) {
        double total = 0;
        size_t batches = 0;
        CHECK_OK(tt_dataloader_start_epoch(dl));
        for (;;) {
            tt_tensor *xb = NULL, *yb = NULL;
            float loss = 0;
            tt_status st = tt_dataloader_next(dl, &xb, &yb);
            CHECK_OK(st);
            if (st != TT_OK || !xb)
                break;
            CHECK_OK(tt_train_step(&loss, model, opt, TT_LOSS_CROSS_ENTROPY, xb, yb, 0.0f));
            total += loss;
            batches++;
            tt_tensor_free(xb);
            tt_tensor_free(yb);
        }
        CHECK(batches == 32); /* 31 full batches and one of 8 */
        if (epoch == 0)
            first_epoch_loss = total / (double)batches;
        last_epoch_loss = total / (double)batches;
    }
    tt_eval_result train_res = {0}, test_res = {0};
    CHECK_OK(tt_evaluate(&train_res, model, TT_LOSS_CROSS_ENTROPY, train_x, train_y, 250));
    CHECK_OK(tt_evaluate(&test_res, model, TT_LOSS_CROSS_ENTROPY, test_x, test_y, 200));
    printf("digits MLP: loss %.4f -> %.4f, train accuracy %.1f%%, test accuracy %.1f%%\n",
           first_epoch_loss, last_epoch_loss, 100.0 * train_res.accuracy,
           100.0 * test_res.accuracy);
    CHECK(test_res.n_samples == 200);
    CHECK(test_res.accuracy >= 0.90);
    CHECK(train_res.accuracy >= 0.90);
    CHECK(last_epoch_loss < 0.5 * first_epoch_loss);

done:
    tt_dataloader_free(dl);
    tt_dataset_free(ds);
    tt_optimizer_free(opt);
    tt_params_release(&params);
    tt_layer_free(model);
    tt_tensor_free(train_x);
    tt_tensor_free(train_y);
    tt_tensor_free(test_x);
    tt_tensor_free(test_y);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    const char *dir = tt_data_dir(NULL);
    good_train = slurp(dir, TT_DIGITS_TRAIN_FILE);
    good_test = slurp(dir, TT_DIGITS_TEST_FILE);
    if (!good_train || !good_test) {
        fprintf(stderr, "cannot read the digits files in %s (set TT_DATA_DIR)\n", dir);
        return 1;
    }
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/tt-digits-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot make a temporary directory %s\n", tmpdir);
        return 1;
    }

    RUN(test_load_committed_files);
    RUN(test_digits_tensors);
    RUN(test_data_dir_order);
    RUN(test_crlf_files_load);
    RUN(test_missing_files);
    RUN(test_bad_first_line);
    RUN(test_bad_column_header);
    RUN(test_bad_rows);
    RUN(test_wrong_counts);
    RUN(test_load_argument_errors_and_allocation_failures);
    RUN(test_mlp_learns_digits);

    remove_file(TT_DIGITS_TRAIN_FILE);
    remove_file(TT_DIGITS_TEST_FILE);
    rmdir(tmpdir);
    free(good_train);
    free(good_test);
    return harness_summary();
}
