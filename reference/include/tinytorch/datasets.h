/*
 * tinytorch/datasets.h: the course's data sets, loaded by trusted code.
 *
 * Part of the core library (libtinytorch_core), like errors and the RNG: students
 * never write or replace it, and it depends on no module. That is why the loader hands
 * out plain float arrays (allocated with tt_malloc) rather than tensors: making tensors
 * is module 01's job, and the grader must be able to load data with any student's
 * module 01 or none. tt_digits_tensors() below turns a split into tensors with the
 * tensor API.
 *
 * The digits: 8x8 grey images of handwritten digits, pixels 0..16, from the UCI optical
 * recognition of handwritten digits data (CC BY 4.0). A fixed split of 1000 training
 * images (100 per digit) and 200 test images (20 per digit) lives in milestones/data/
 * as digits_train.csv and digits_test.csv; milestones/data/README.md describes the
 * format (version 1), the provenance and the checksums.
 *
 * The point sets of milestones 1 and 2 are not files but generated here, from a seed,
 * by a procedure documented below exactly enough to be reimplemented (the tests compare
 * it with a NumPy rewrite): two Gaussian blobs (the 1957 perceptron) and noisy XOR (the
 * 1969 limit of a single layer).
 */
#ifndef TINYTORCH_DATASETS_H
#define TINYTORCH_DATASETS_H

#include "tinytorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_DIGITS_FORMAT_VERSION 1
#define TT_DIGITS_PIXELS 64          /* 8 x 8, row-major, row 0 at the top */
#define TT_DIGITS_SIDE 8
#define TT_DIGITS_CLASSES 10
#define TT_DIGITS_MAX_VALUE 16       /* pixels in the files are integers 0..16 */
#define TT_DIGITS_TRAIN_PER_CLASS 100
#define TT_DIGITS_TEST_PER_CLASS 20
#define TT_DIGITS_TRAIN_FILE "digits_train.csv"
#define TT_DIGITS_TEST_FILE "digits_test.csv"

/* The split. Arrays are owned by the struct (tt_malloc) and freed by
 * tt_digits_release. Images keep the order of the files. */
typedef struct tt_digits {
    size_t n_train;  /* 1000 */
    size_t n_test;   /* 200 */
    float *train_x;  /* [n_train, 64] pixels / 16, in [0, 1] */
    float *train_y;  /* [n_train] labels 0..9 as floats */
    float *test_x;   /* [n_test, 64] */
    float *test_y;   /* [n_test] */
} tt_digits;

/* Where the data lives: `dir` when it is neither NULL nor empty; else the environment
 * variable TT_DATA_DIR when set and not empty; else the installed data folder
 * (<prefix>/share/tinytorch/data, fixed at build time) when it holds
 * digits_train.csv; else the milestones/data folder of the source tree the library
 * was built from. Never NULL; the string is `dir`, the environment's, or static. */
const char *tt_data_dir(const char *dir);

/* Load both files of the digits split from `dir` (NULL: tt_data_dir(NULL)) into *out.
 * On success every field is set; on failure *out is all zeros and nothing leaks.
 *
 * Errors, each naming the file (and line where there is one):
 *   TT_ERR_INVALID_ARG  out is NULL
 *   TT_ERR_IO           a file is missing or unreadable (the message says how to point
 *                       to the data: --data DIR or TT_DATA_DIR)
 *   TT_ERR_FORMAT       wrong first line (not a digits file, another version, or the other
 *                       split's file), wrong column header, a line that is too long, a row
 *                       with the wrong number of columns, a field that is not an integer,
 *                       a pixel outside 0..16, a label outside 0..9, the wrong number of
 *                       images, or the wrong number of images of some digit
 *   TT_ERR_NOMEM */
tt_status tt_digits_load(tt_digits *out, const char *dir);

/* Free the arrays and zero the struct. NULL, or a zeroed struct, is harmless. */
void tt_digits_release(tt_digits *digits);

/* New tensors x [n, 64] and y [n] holding one split (train when `train`, else test),
 * copied from *digits. A convenience over tt_tensor_from_data (module 01), inline so
 * that the core library itself never calls into a module. On failure both are NULL. */
static inline tt_status tt_digits_tensors(tt_tensor **x, tt_tensor **y, const tt_digits *digits,
                                          bool train)
{
    if (!x || !y || !digits)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_digits_tensors: NULL argument");
    *x = NULL;
    *y = NULL;
    size_t n = train ? digits->n_train : digits->n_test;
    const float *xs = train ? digits->train_x : digits->test_x;
    const float *ys = train ? digits->train_y : digits->test_y;
    if (!xs || !ys || n == 0)
        return tt_error_set(TT_ERR_STATE, "tt_digits_tensors: the digits are not loaded "
                                          "(call tt_digits_load first)");
    /* Plain arrays, not TT_SHAPE: compound literals are not C++, and this is a header. */
    const size_t x_shape[2] = {n, TT_DIGITS_PIXELS};
    const size_t y_shape[1] = {n};
    tt_status st = tt_tensor_from_data(x, 2, x_shape, xs);
    if (st == TT_OK)
        st = tt_tensor_from_data(y, 1, y_shape, ys);
    if (st != TT_OK) {
        tt_tensor_free(*x);
        *x = NULL;
        *y = NULL;
    }
    return st;
}

/* ---------------------------------------------------------------------------
 * Generated 2-D point sets (milestones 1 and 2)
 *
 * Each point has two coordinates and a label 0 or 1. Both splits come from one
 * generator, tt_rng_init(seed): first the n_train training points, then the n_test
 * test points, point i of a split drawing exactly two tt_rng_normal values, z0 then z1,
 * and computing in float:
 *
 *   TT_POINTS_BLOBS  label = i % 2; c = label ? +TT_BLOBS_CENTRE : -TT_BLOBS_CENTRE;
 *                    x = (c + TT_BLOBS_SD * z0, c + TT_BLOBS_SD * z1)
 *       Two round clouds around (-1.5, -1.5) and (1.5, 1.5). Projected on the diagonal
 *       they are normals with means -/+2.12 and sd 0.8, so even the best line errs on
 *       about 0.4% of points (Phi(-2.65)): a linear classifier reaches ~99.5%.
 *
 *   TT_POINTS_XOR    k = i % 4; a = k / 2; b = k % 2; label = a XOR b;
 *                    x = ((2a - 1) + TT_XOR_SD * z0, (2b - 1) + TT_XOR_SD * z1)
 *       The corners (-1,-1) and (1,1) are class 0, (-1,1) and (1,-1) class 1, each with
 *       Gaussian jitter. No line separates the classes: the best line gets three corners
 *       of four right (75%); a point crosses an axis, where it would need a curved
 *       boundary to be right, with probability about 2 Phi(-1/0.3) = 0.09%.
 *
 * Labels cycle with i, so the classes (and XOR's corners) are balanced exactly when
 * the split's size is a multiple of 2 (of 4); a data loader shuffles the order away.
 * Changing any of this changes the milestones' data: keep it, or bump the seeds.
 * ------------------------------------------------------------------------- */

typedef enum tt_points_kind {
    TT_POINTS_BLOBS = 1, /* two Gaussian blobs: linearly separable (milestone 1) */
    TT_POINTS_XOR = 2,   /* XOR of the signs, with noise: not linearly separable (milestone 2) */
} tt_points_kind;

#define TT_POINTS_DIMS 2
#define TT_BLOBS_CENTRE 1.5f
#define TT_BLOBS_SD 0.8f
#define TT_XOR_SD 0.3f
/* The milestones' split sizes and data seeds: the data stay fixed whatever seed a
 * milestone trains with, like the digits files. */
#define TT_POINTS_TRAIN 400
#define TT_POINTS_TEST 200
#define TT_BLOBS_SEED 1957u
#define TT_XOR_SEED 1969u

/* A generated split. Arrays are owned by the struct (tt_malloc) and freed by
 * tt_points_release. */
typedef struct tt_points {
    tt_points_kind kind;
    size_t n_train;
    size_t n_test;
    float *train_x; /* [n_train, 2] */
    float *train_y; /* [n_train] labels 0 or 1 as floats */
    float *test_x;  /* [n_test, 2] */
    float *test_y;  /* [n_test] */
} tt_points;

/* Generate the `kind` point set with n_train + n_test points from `seed` (procedure
 * above) into *out. On failure *out is all zeros and nothing leaks.
 * Errors: TT_ERR_INVALID_ARG (out NULL, unknown kind, n_train or n_test 0, or so large
 * that the arrays' size overflows), TT_ERR_NOMEM. */
tt_status tt_points_make(tt_points *out, tt_points_kind kind, size_t n_train, size_t n_test,
                         uint64_t seed);

/* Free the arrays and zero the struct. NULL, or a zeroed struct, is harmless. */
void tt_points_release(tt_points *points);

/* The name of a kind ("blobs", "xor"), or "unknown". */
const char *tt_points_kind_name(tt_points_kind kind);

/* New tensors x [n, 2] and y [n, 1] holding one split (train when `train`, else test),
 * copied from *points. y has a column so that it matches the [n, 1] output of a
 * Linear(2, 1) + Sigmoid model, as tt_bce_loss requires. Inline for the same reason as
 * tt_digits_tensors. On failure both are NULL. */
static inline tt_status tt_points_tensors(tt_tensor **x, tt_tensor **y, const tt_points *points,
                                          bool train)
{
    if (!x || !y || !points)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_points_tensors: NULL argument");
    *x = NULL;
    *y = NULL;
    size_t n = train ? points->n_train : points->n_test;
    const float *xs = train ? points->train_x : points->test_x;
    const float *ys = train ? points->train_y : points->test_y;
    if (!xs || !ys || n == 0)
        return tt_error_set(TT_ERR_STATE, "tt_points_tensors: the points are not made "
                                          "(call tt_points_make first)");
    const size_t x_shape[2] = {n, TT_POINTS_DIMS};
    const size_t y_shape[2] = {n, 1};
    tt_status st = tt_tensor_from_data(x, 2, x_shape, xs);
    if (st == TT_OK)
        st = tt_tensor_from_data(y, 2, y_shape, ys);
    if (st != TT_OK) {
        tt_tensor_free(*x);
        *x = NULL;
        *y = NULL;
    }
    return st;
}

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_DATASETS_H */
