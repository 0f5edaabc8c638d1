/*
 * tests/harness.h: the tiny unit-test harness of the project's own C tests.
 *
 * A test file defines `static void test_something(void)` functions using the CHECK
 * macros and lists them in main() with RUN(test_something); main ends with
 * `return harness_summary();`. RUN also fails a test that leaves framework
 * allocations live (tt_alloc_live() differs before and after), so every test is a
 * leak test too. Output is one line per failed check and a closing
 * "N passed, N failed" line; the exit status is 0 only when nothing failed.
 *
 * Usage of a filter: `test_tensor NAME` runs only tests whose name contains NAME.
 */
#ifndef TT_TESTS_HARNESS_H
#define TT_TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinytorch/core.h"

static int harness_passed, harness_failed, harness_current_failed;
static const char *harness_filter;
static const char *harness_current;

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__,             \
                    harness_current, #cond);                                                  \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

/* A call returning tt_status must give `expected`; prints the error message if not. */
#define CHECK_STATUS(call, expected)                                                          \
    do {                                                                                      \
        tt_status check_st_ = (call);                                                         \
        if (check_st_ != (expected)) {                                                        \
            fprintf(stderr, "%s:%d: %s: %s returned %s, expected %s (last error: %s)\n",     \
                    __FILE__, __LINE__, harness_current, #call, tt_status_name(check_st_),     \
                    tt_status_name(expected), tt_error_last());                                \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, TT_OK)

/* |got - expected| <= atol + rtol * |expected|, and nan never passes. */
#define CHECK_NEAR(got, expected, atol, rtol)                                                 \
    do {                                                                                      \
        double g_ = (double)(got), e_ = (double)(expected);                                   \
        if (!(fabs(g_ - e_) <= (atol) + (rtol) * fabs(e_))) {                                 \
            fprintf(stderr, "%s:%d: %s: %s = %.9g, expected %.9g\n", __FILE__, __LINE__,      \
                    harness_current, #got, g_, e_);                                           \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

/* The last error message must contain `needle`. */
#define CHECK_ERROR_MENTIONS(needle)                                                          \
    do {                                                                                      \
        if (!strstr(tt_error_last(), (needle))) {                                             \
            fprintf(stderr, "%s:%d: %s: last error \"%s\" does not mention \"%s\"\n",         \
                    __FILE__, __LINE__, harness_current, tt_error_last(), (needle));          \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

#define RUN(fn) harness_run(#fn, fn)

static void harness_run(const char *name, void (*fn)(void))
{
    if (harness_filter && !strstr(name, harness_filter))
        return;
    harness_current = name;
    harness_current_failed = 0;
    size_t live_before = tt_alloc_live();
    tt_alloc_fail_after(-1);
    fn();
    tt_alloc_fail_after(-1);
    size_t live_after = tt_alloc_live();
    if (live_after != live_before) {
        fprintf(stderr, "%s: leaked %zu framework allocation(s)\n", name,
                live_after - live_before);
        harness_current_failed++;
    }
    if (harness_current_failed) {
        harness_failed++;
        fprintf(stderr, "FAIL %s\n", name);
    } else {
        harness_passed++;
    }
}

static void harness_init(int argc, char **argv)
{
    harness_filter = argc > 1 ? argv[1] : NULL;
}

static int harness_summary(void)
{
    printf("%d passed, %d failed\n", harness_passed, harness_failed);
    return harness_failed ? 1 : (harness_passed ? 0 : 1);
}

#endif /* TT_TESTS_HARNESS_H */
