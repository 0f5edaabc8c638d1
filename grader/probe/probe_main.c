/*
 * grader/probe/probe_main.c: the harness every probe is linked with (API in probe.h).
 *
 * It parses the probe's command line, runs the selected cases one after the other and
 * writes what they record to the transcript, exactly (floats as C99 hex). It decides
 * nothing: pass and fail are the judge's, in tito's process.
 *
 * The harness lives in the same process as the student's code, so it keeps its own
 * state out of reach of the usual accidents:
 *   - inputs are built here, field by field, with the core's allocator, never with the
 *     module's own constructors (in module 01 those are the student's);
 *   - the transcript descriptor is moved off fd 3 before any case runs, so a stray
 *     write to fd 3 (or to stdout) cannot land in it; a deliberate write to the new
 *     descriptor makes the transcript malformed, which the judge fails;
 *   - a result tensor is checked (rank, sizes, storage bounds) before it is read;
 *   - "begin" and "end" lines are flushed at once, so when the process dies inside
 *     a case, tito knows which one.
 * Each case draws from its own generator, seeded from the run's seed and the case's
 * name, so a case sees the same inputs whether the run starts at it (--from) or not.
 *
 * Under Valgrind, each case is framed by VALGRIND_PRINTF markers and followed by an
 * added-leak check, so that memcheck findings can be attributed to the case that
 * caused them: "tito-case begin INDEX NAME", the case's errors, the leak report,
 * "tito-case end INDEX NAME" (INDEX in the case table; see grader/memcheck.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef TITO_HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define ON_VALGRIND() 0
#endif

/* The size limit of a tensor the harness agrees to write: far beyond any case, small
 * enough that a garbage shape is reported instead of read. */
#define MAX_RECORD_ELEMENTS ((size_t)1 << 26)

struct tito_probe {
    tt_rng rng;
    bool small;
    FILE *out;
};

/* ------------------------------------------------------------ seeds */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void seed_case(tito_probe *p, uint64_t seed, const char *name)
{
    tt_rng_init(&p->rng, splitmix64(seed ^ fnv1a64(name)));
}

/* ------------------------------------------------------------ inputs */

tt_rng *probe_rng(tito_probe *p)
{
    return &p->rng;
}

bool probe_small(const tito_probe *p)
{
    return p->small;
}

/* A contiguous tensor in the framework's own layout (header, storage, data: three
 * counted blocks), so that the module's tt_tensor_free releases it like its own. */
static tt_tensor *new_tensor(int ndim, const size_t *shape)
{
    if (ndim < 0 || ndim > TT_MAX_DIMS || (ndim > 0 && !shape))
        return NULL;
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0 || shape[d] > MAX_RECORD_ELEMENTS / n)
            return NULL;
        n *= shape[d];
    }
    tt_tensor *t = tt_calloc(1, sizeof *t);
    tt_storage *s = tt_calloc(1, sizeof *s);
    float *data = tt_calloc(n, sizeof *data);
    if (!t || !s || !data) {
        tt_free(t);
        tt_free(s);
        tt_free(data);
        return NULL;
    }
    s->data = data;
    s->size = n;
    s->refcount = 1;
    t->storage = s;
    t->ndim = ndim;
    ptrdiff_t step = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        t->shape[d] = shape[d];
        t->strides[d] = step;
        step *= (ptrdiff_t)shape[d];
    }
    t->refcount = 1;
    return t;
}

tt_tensor *probe_randn(tito_probe *p, int ndim, const size_t *shape)
{
    tt_tensor *t = new_tensor(ndim, shape);
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->storage->size; i++)
        t->storage->data[i] = tt_rng_normal(&p->rng);
    return t;
}

tt_tensor *probe_uniform(tito_probe *p, int ndim, const size_t *shape, float low, float high)
{
    tt_tensor *t = new_tensor(ndim, shape);
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->storage->size; i++)
        t->storage->data[i] = low + (high - low) * tt_rng_uniform(&p->rng);
    return t;
}

tt_tensor *probe_from_data(tito_probe *p, int ndim, const size_t *shape, const float *data)
{
    (void)p;
    tt_tensor *t = new_tensor(ndim, shape);
    if (!t)
        return NULL;
    memcpy(t->storage->data, data, t->storage->size * sizeof *data);
    return t;
}

/* ------------------------------------------------------------ records */

/* Labels and case names are single tokens in the transcript. */
static void put_token(FILE *f, const char *s)
{
    if (!s || !*s) {
        fputc('-', f);
        return;
    }
    for (; *s; s++)
        fputc((unsigned char)*s <= ' ' ? '_' : *s, f);
}

void probe_note(tito_probe *p, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *c = text; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fprintf(p->out, "note %s\n", text);
}

void probe_tol_exact(tito_probe *p)
{
    fputs("tol exact\n", p->out);
}

void probe_tol_elementwise(tito_probe *p)
{
    fputs("tol elem\n", p->out);
}

void probe_tol_reduction(tito_probe *p, size_t k)
{
    fprintf(p->out, "tol reduce %zu\n", k ? k : 1);
}

void probe_tol(tito_probe *p, double atol, double rtol)
{
    fprintf(p->out, "tol abs %a %a\n", atol, rtol);
}

/* Why `t` cannot be read safely, or NULL when it can. */
static const char *tensor_problem(const tt_tensor *t)
{
    if (t->ndim < 0 || t->ndim > TT_MAX_DIMS)
        return "its ndim is outside 0..4";
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 0)
            return "a dimension has size 0";
        if (t->shape[d] > MAX_RECORD_ELEMENTS / n)
            return "its shape has too many elements";
        n *= t->shape[d];
    }
    if (!t->storage)
        return "its storage is NULL";
    if (!t->storage->data)
        return "its storage's data is NULL";
    /* The lowest and highest storage positions the view reaches. */
    ptrdiff_t lo = 0, hi = 0;
    for (int d = 0; d < t->ndim; d++) {
        ptrdiff_t s = t->strides[d];
        if (s > PTRDIFF_MAX / (ptrdiff_t)MAX_RECORD_ELEMENTS ||
            s < -(PTRDIFF_MAX / (ptrdiff_t)MAX_RECORD_ELEMENTS))
            return "a stride is out of range";
        ptrdiff_t reach = s * (ptrdiff_t)(t->shape[d] - 1);
        if (reach < 0)
            lo += reach;
        else
            hi += reach;
    }
    if (t->offset > t->storage->size)
        return "its offset is beyond its storage";
    ptrdiff_t off = (ptrdiff_t)t->offset;
    if (off + lo < 0 || (size_t)(off + hi) >= t->storage->size)
        return "its shape and strides reach outside its storage";
    return NULL;
}

void probe_tensor(tito_probe *p, const char *label, const tt_tensor *t)
{
    FILE *f = p->out;
    fputs("tensor ", f);
    put_token(f, label);
    if (!t) {
        fputs(" null\n", f);
        return;
    }
    const char *problem = tensor_problem(t);
    if (problem) {
        fprintf(f, " bad %s\n", problem);
        return;
    }
    fprintf(f, " %d", t->ndim);
    for (int d = 0; d < t->ndim; d++)
        fprintf(f, " %zu", t->shape[d]);
    /* Row-major walk of the view through its strides (an odometer over the index). */
    size_t index[TT_MAX_DIMS] = {0};
    const float *base = t->storage->data + t->offset;
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    for (size_t i = 0; i < n; i++) {
        ptrdiff_t at = 0;
        for (int d = 0; d < t->ndim; d++)
            at += (ptrdiff_t)index[d] * t->strides[d];
        fprintf(f, " %a", (double)base[at]);
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++index[d] < t->shape[d])
                break;
            index[d] = 0;
        }
    }
    fputc('\n', f);
}

void probe_scalar(tito_probe *p, const char *label, double value)
{
    fputs("scalar ", p->out);
    put_token(p->out, label);
    fprintf(p->out, " %a\n", value);
}

void probe_int(tito_probe *p, const char *label, long value)
{
    fputs("int ", p->out);
    put_token(p->out, label);
    fprintf(p->out, " %ld\n", value);
}

void probe_status(tito_probe *p, const char *label, tt_status status)
{
    fputs("status ", p->out);
    put_token(p->out, label);
    fprintf(p->out, " %d %s\n", (int)status, tt_status_name(status));
}

/* ------------------------------------------------------------ main */

static int usage(const char *why)
{
    fprintf(stderr,
            "probe: %s\n"
            "usage: probe --list | --list-perf\n"
            "       probe --seed HEX [--small] [--times] [--from N] [CASE...]\n"
            "       probe --perf NAME --reps R --seed HEX [--small]\n"
            "This program is run by tito; its transcript goes to file descriptor 3.\n",
            why);
    return 2;
}

static bool parse_u64(const char *s, int base, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end)
        return false;
    *out = (uint64_t)v;
    return true;
}

/* Move the transcript off fd 3 (see the top of the file). Without fd 3 (someone
 * running the probe by hand) the transcript goes to stdout. */
static FILE *open_transcript(void)
{
    if (fcntl(3, F_GETFD) == -1)
        return stdout;
    struct rlimit rl;
    int low = 10;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 20)
        low = (int)(rl.rlim_cur / 2);
    int fd = fcntl(3, F_DUPFD_CLOEXEC, low);
    if (fd < 0)
        fd = fcntl(3, F_DUPFD_CLOEXEC, 4);
    if (fd < 0)
        return NULL;
    close(3);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return NULL;
    }
    return f;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_case(tito_probe *p, const tito_probe_case *c, size_t index, uint64_t seed,
                     bool times)
{
    seed_case(p, seed, c->name);
    tt_error_clear();
    fputs("begin ", p->out);
    put_token(p->out, c->name);
    fputc('\n', p->out);
    fflush(p->out);
#ifdef TITO_HAVE_VALGRIND_H
    if (ON_VALGRIND())
        VALGRIND_PRINTF("tito-case begin %zu %s\n", index, c->name);
#endif
    size_t live_before = tt_alloc_live();
    double t0 = times ? now_seconds() : 0.0;

    c->run(p);

    double t1 = times ? now_seconds() : 0.0;
    long live = (long)tt_alloc_live() - (long)live_before;
#ifdef TITO_HAVE_VALGRIND_H
    if (ON_VALGRIND()) {
        VALGRIND_DO_ADDED_LEAK_CHECK;
        VALGRIND_PRINTF("tito-case end %zu %s\n", index, c->name);
    }
#endif
    fputs("end ", p->out);
    put_token(p->out, c->name);
    fprintf(p->out, " live=%ld\n", live);
    if (times)
        fprintf(p->out, "time %a\n", t1 - t0);
    fflush(p->out);
}

static int run_perf(tito_probe *p, const tito_probe_perf *perf, uint64_t seed, uint64_t reps)
{
    seed_case(p, seed, perf->name);
    void *state = perf->setup(p);
    if (!state) {
        fprintf(stderr, "probe: the setup of speed kernel %s failed\n", perf->name);
        return 1;
    }
    for (uint64_t r = 0; r < reps; r++)
        perf->run(state);
    perf->teardown(state);
    return 0;
}

int tito_probe_main(int argc, char **argv, const tito_probe_case *cases, size_t n_cases,
                    const tito_probe_perf *perfs, size_t n_perfs)
{
    bool list = false, list_perf = false, small = false, times = false, have_seed = false;
    uint64_t seed = 0, from = 0, reps = 0;
    bool have_reps = false;
    const char *perf_name = NULL;
    int first_name = argc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) {
            list = true;
        } else if (strcmp(a, "--list-perf") == 0) {
            list_perf = true;
        } else if (strcmp(a, "--small") == 0) {
            small = true;
        } else if (strcmp(a, "--times") == 0) {
            times = true;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_u64(v, 16, &seed))
                return usage("--seed needs a hexadecimal number");
            have_seed = true;
            i++;
        } else if (strcmp(a, "--from") == 0) {
            if (!parse_u64(v, 10, &from))
                return usage("--from needs a case index");
            i++;
        } else if (strcmp(a, "--perf") == 0) {
            if (!v)
                return usage("--perf needs a kernel name");
            perf_name = v;
            i++;
        } else if (strcmp(a, "--reps") == 0) {
            if (!parse_u64(v, 10, &reps))
                return usage("--reps needs a count");
            have_reps = true;
            i++;
        } else if (a[0] == '-') {
            return usage("unknown option");
        } else {
            first_name = i;
            break;
        }
    }

    if (list) {
        for (size_t i = 0; i < n_cases; i++)
            printf("%s %s %d\n", cases[i].name, cases[i].category, cases[i].points);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (list_perf) {
        for (size_t i = 0; i < n_perfs; i++)
            printf("%s\n", perfs[i].name);
        return fflush(stdout) == 0 ? 0 : 1;
    }

    tito_probe p = {.small = small, .out = NULL};

    if (perf_name) {
        if (!have_seed || !have_reps)
            return usage("--perf needs --seed and --reps");
        for (size_t i = 0; i < n_perfs; i++)
            if (strcmp(perfs[i].name, perf_name) == 0)
                return run_perf(&p, &perfs[i], seed, reps);
        fprintf(stderr, "probe: no speed kernel named %s\n", perf_name);
        return 2;
    }

    if (!have_seed)
        return usage("--seed is required to run cases");

    /* The cases to run: the names given (in table order), else all from `from` on. */
    bool *selected = calloc(n_cases ? n_cases : 1, sizeof *selected);
    if (!selected) {
        fprintf(stderr, "probe: out of memory\n");
        return 3;
    }
    for (size_t i = 0; i < n_cases; i++)
        selected[i] = first_name == argc && i >= from;
    for (int i = first_name; i < argc; i++) {
        size_t k = 0;
        while (k < n_cases && strcmp(cases[k].name, argv[i]) != 0)
            k++;
        if (k == n_cases) {
            fprintf(stderr, "probe: no case named %s\n", argv[i]);
            free(selected);
            return 2;
        }
        selected[k] = k >= from;
    }

    p.out = open_transcript();
    if (!p.out) {
        fprintf(stderr, "probe: cannot open the transcript: %s\n", strerror(errno));
        free(selected);
        return 3;
    }
    fputs("tito-transcript 1\n", p.out);
    fflush(p.out);
#ifdef TITO_HAVE_VALGRIND_H
    /* Leaks from before the first case (there should be none) are not a case's. */
    if (ON_VALGRIND())
        VALGRIND_DO_QUICK_LEAK_CHECK;
#endif
    for (size_t i = 0; i < n_cases; i++)
        if (selected[i])
            run_case(&p, &cases[i], i, seed, times);
    free(selected);
    int rc = ferror(p.out) ? 3 : 0;
    if (p.out != stdout && fclose(p.out) != 0)
        rc = 3;
    return rc;
}
