/*
 * The core library: status names, the thread-local last error, the counted
 * allocator and PCG32. Never stripped, never replaced by student code: the
 * grader links this file into every probe, so it must stay small and obviously right.
 */
#include "tinytorch/core.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ errors */

static _Thread_local char last_error[512];

const char *tt_status_name(tt_status status)
{
    switch (status) {
    case TT_OK: return "TT_OK";
    case TT_ERR_INVALID_ARG: return "TT_ERR_INVALID_ARG";
    case TT_ERR_SHAPE: return "TT_ERR_SHAPE";
    case TT_ERR_NOMEM: return "TT_ERR_NOMEM";
    case TT_ERR_NOT_IMPLEMENTED: return "TT_ERR_NOT_IMPLEMENTED";
    case TT_ERR_IO: return "TT_ERR_IO";
    case TT_ERR_FORMAT: return "TT_ERR_FORMAT";
    case TT_ERR_STATE: return "TT_ERR_STATE";
    case TT_ERR_RANGE: return "TT_ERR_RANGE";
    }
    return "TT_ERR_UNKNOWN";
}

const char *tt_error_last(void)
{
    return last_error;
}

void tt_error_clear(void)
{
    last_error[0] = '\0';
}

tt_status tt_error_set(tt_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *tt_source_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* --------------------------------------------------------------------- allocator */

static atomic_size_t live_blocks;
/* -1: no injection; otherwise the number of allocations still to succeed. */
static atomic_long fail_countdown = -1;

static bool injected_failure(void)
{
    long n = atomic_load(&fail_countdown);
    while (n >= 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
            return n == 0;
    }
    return false;
}

void *tt_malloc(size_t size)
{
    void *p = injected_failure() ? NULL : malloc(size ? size : 1);
    if (!p) {
        tt_error_set(TT_ERR_NOMEM, "out of memory allocating %zu bytes", size);
        return NULL;
    }
    atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *tt_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        tt_error_set(TT_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = tt_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void tt_free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub(&live_blocks, 1);
    free(ptr);
}

size_t tt_alloc_live(void)
{
    return atomic_load(&live_blocks);
}

void tt_alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n < 0 ? -1 : n);
}

/* --------------------------------------------------------------------------- rng */

/* The PCG32 multiplier and the fixed stream (any odd increment works; this one is
 * the reference implementation's default). */
#define PCG_MULT 6364136223846793005ULL
#define PCG_STREAM 1442695040888963407ULL

void tt_rng_init(tt_rng *rng, uint64_t seed)
{
    rng->state = 0;
    rng->inc = PCG_STREAM | 1u;
    rng->has_spare = false;
    rng->spare = 0.0f;
    tt_rng_next_u32(rng);
    rng->state += seed;
    tt_rng_next_u32(rng);
}

uint32_t tt_rng_next_u32(tt_rng *rng)
{
    uint64_t old = rng->state;
    rng->state = old * PCG_MULT + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

float tt_rng_uniform(tt_rng *rng)
{
    return (float)(tt_rng_next_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

uint32_t tt_rng_below(tt_rng *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* Reject the values of the incomplete last block of `bound` so every result is
     * equally likely. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = tt_rng_next_u32(rng);
        if (r >= threshold)
            return r % bound;
    }
}

float tt_rng_normal(tt_rng *rng)
{
    if (rng->has_spare) {
        rng->has_spare = false;
        return rng->spare;
    }
    /* u1 in (0, 1] so log(u1) is finite. */
    double u1 = ((double)(tt_rng_next_u32(rng) >> 8) + 1.0) / 16777216.0;
    double u2 = (double)(tt_rng_next_u32(rng) >> 8) / 16777216.0;
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586 * u2;
    rng->spare = (float)(radius * sin(angle));
    rng->has_spare = true;
    return (float)(radius * cos(angle));
}
