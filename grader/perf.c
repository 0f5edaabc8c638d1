/*
 * The speed phase: interleaved timed runs of the student's and the reference's speed
 * kernels in the sandbox (or instruction counts under callgrind), reduced to one ratio
 * with its spread.
 *
 * Every number comes from outside the child: CPU time from the sandbox's rusage of the
 * run, instruction counts from callgrind's output file, which Valgrind writes after the
 * client is gone. The student's runs are bounded by a multiple of the reference's own
 * time on this machine, measured first in the same call.
 */
#define _GNU_SOURCE

#include "perf.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fsutil.h"
#include "sandbox.h"

/* Below this a cost is measurement noise; dividing by it would make a ratio of noise. */
#define MIN_SECONDS 1e-4

/* ------------------------------------------------------------ kernels from suite.json */

void tito_perf_kernels_free(tito_perf_kernel *kernels, size_t n)
{
    if (!kernels)
        return;
    for (size_t i = 0; i < n; i++) {
        free(kernels[i].name);
        free(kernels[i].probe);
    }
    free(kernels);
}

tt_status tito_perf_kernels_parse(tito_perf_kernel **out, size_t *n, const char *text, size_t len,
                                  const char *origin)
{
    *out = NULL;
    *n = 0;
    const char *o = origin ? origin : "suite.json";
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return tt_error_set(TT_ERR_FORMAT, "suite %s: not JSON (line %d: %s)", o, jerr.line, jerr.text);
    tt_status st = TT_OK;
    tito_perf_kernel *ks = NULL;
    size_t count = 0;
    json_t *kernels = json_is_object(root) ? json_object_get(root, "kernels") : NULL;
    if (!json_is_object(root)) {
        st = tt_error_set(TT_ERR_FORMAT, "suite %s: expected an object at the top", o);
        goto cleanup;
    }
    if (!kernels)
        goto cleanup;
    if (!json_is_array(kernels)) {
        st = tt_error_set(TT_ERR_FORMAT, "suite %s: kernels: expected an array", o);
        goto cleanup;
    }
    count = json_array_size(kernels);
    if (count) {
        ks = calloc(count, sizeof *ks);
        if (!ks) {
            st = tt_error_set(TT_ERR_NOMEM, "suite %s: out of memory", o);
            count = 0;
            goto cleanup;
        }
    }
    for (size_t i = 0; i < count; i++) {
        json_t *k = json_array_get(kernels, i);
        json_t *name = json_object_get(k, "name");
        json_t *probe = json_object_get(k, "probe");
        json_t *reps = json_object_get(k, "reps");
        if (!json_is_object(k)) {
            st = tt_error_set(TT_ERR_FORMAT, "suite %s: kernels[%zu]: expected an object", o, i);
            goto cleanup;
        }
        if (!json_is_string(name) || !json_string_length(name)) {
            st = tt_error_set(TT_ERR_FORMAT, "suite %s: kernels[%zu].name: expected a non-empty string",
                              o, i);
            goto cleanup;
        }
        if (probe && !(json_is_string(probe) && (strcmp(json_string_value(probe), "visible") == 0 ||
                                                 strcmp(json_string_value(probe), "hidden") == 0))) {
            st = tt_error_set(TT_ERR_FORMAT,
                              "suite %s: kernels[%zu].probe: expected \"visible\" or \"hidden\"", o, i);
            goto cleanup;
        }
        if (!json_is_integer(reps) || json_integer_value(reps) < 1 || json_integer_value(reps) > 1000000) {
            st = tt_error_set(TT_ERR_FORMAT,
                              "suite %s: kernels[%zu].reps: expected a positive integer (at most 1000000)",
                              o, i);
            goto cleanup;
        }
        ks[i].name = strdup(json_string_value(name));
        ks[i].probe = strdup(probe ? json_string_value(probe) : "visible");
        ks[i].reps = (int)json_integer_value(reps);
        if (!ks[i].name || !ks[i].probe) {
            st = tt_error_set(TT_ERR_NOMEM, "suite %s: out of memory", o);
            goto cleanup;
        }
    }
cleanup:
    json_decref(root);
    if (st != TT_OK) {
        tito_perf_kernels_free(ks, count);
        return st;
    }
    *out = ks;
    *n = count;
    return TT_OK;
}

tt_status tito_perf_kernels_load(tito_perf_kernel **out, size_t *n, const char *path)
{
    *out = NULL;
    *n = 0;
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&text, &len, path);
    if (st != TT_OK)
        return st;
    st = tito_perf_kernels_parse(out, n, text, len, path);
    free(text);
    return st;
}

/* ------------------------------------------------------------ statistics */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tito_perf_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double tito_perf_spread(const double *v, size_t n, double median)
{
    if (n == 0 || !(median > 0.0))
        return 0.0;
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    return (hi - lo) / 2.0 / median;
}

tt_status tito_callgrind_total(uint64_t *out, const char *text)
{
    *out = 0;
    const char *found = NULL;
    /* "totals:" is the last word of a finished profile; "summary:" the header's. */
    for (const char *key = "totals:"; key; key = strcmp(key, "totals:") == 0 ? "summary:" : NULL) {
        for (const char *s = text; s && *s;) {
            if (strncmp(s, key, strlen(key)) == 0) {
                found = s + strlen(key);
                break;
            }
            s = strchr(s, '\n');
            if (s)
                s++;
        }
        if (found)
            break;
    }
    if (!found)
        return tt_error_set(TT_ERR_FORMAT, "callgrind output has no \"totals:\" or \"summary:\" line");
    while (*found == ' ' || *found == '\t')
        found++;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(found, &end, 10);
    if (end == found || errno)
        return tt_error_set(TT_ERR_FORMAT, "callgrind output: the total is not a number");
    *out = (uint64_t)v;
    return TT_OK;
}

/* ------------------------------------------------------------ runs */

void tito_perf_result_release(tito_perf_result *result)
{
    if (!result)
        return;
    free(result->metric);
    free(result->unit);
    free(result->message);
    memset(result, 0, sizeof *result);
}

static const char *signal_text(int sig)
{
    switch (sig) {
    case 4: return "SIGILL";
    case 6: return "SIGABRT";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    case 9: return "SIGKILL";
    case 11: return "SIGSEGV";
    default: return NULL;
    }
}

static tt_status set_message(tito_perf_result *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static tt_status set_message(tito_perf_result *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(r->message);
    r->message = strdup(buf);
    if (!r->message)
        return tt_error_set(TT_ERR_NOMEM, "tito_perf_measure: out of memory");
    return TT_OK;
}

/* One measured run: its cost (seconds or instructions) or how it failed. */
typedef struct run_outcome {
    bool ok;
    double cost;         /* CPU seconds, or instructions in deterministic mode */
    double wall, cpu;    /* of the run, for timeouts */
    tito_verdict verdict; /* when not ok */
    char why[640];       /* when not ok: "crashed (SIGSEGV)", "ran out of time ..." */
} run_outcome;

typedef struct ctx {
    const tito_perf_kernel *kernel;
    const tito_perf_options *o;
    const char *valgrind;
    char workdir[4096]; /* deterministic mode: where callgrind writes */
} ctx;

static void describe_end(const tito_sandbox_result *run, run_outcome *out)
{
    out->ok = false;
    switch (run->end) {
    case TITO_SANDBOX_EXITED:
        out->verdict = TITO_FAIL;
        snprintf(out->why, sizeof out->why, "exited with status %d", run->exit_code);
        break;
    case TITO_SANDBOX_SIGNALED: {
        const char *name = signal_text(run->signal);
        out->verdict = TITO_CRASH;
        if (name)
            snprintf(out->why, sizeof out->why, "crashed (%s)", name);
        else
            snprintf(out->why, sizeof out->why, "crashed (signal %d)", run->signal);
        break;
    }
    case TITO_SANDBOX_TIMEOUT:
    case TITO_SANDBOX_CPU_LIMIT:
        out->verdict = TITO_TIMEOUT;
        snprintf(out->why, sizeof out->why, "ran out of time (%s)", run->message);
        break;
    case TITO_SANDBOX_MEMORY_LIMIT:
        out->verdict = TITO_MEMORY_LIMIT;
        snprintf(out->why, sizeof out->why, "ran out of memory (%s)", run->message);
        break;
    case TITO_SANDBOX_OUTPUT_LIMIT:
    case TITO_SANDBOX_FILE_SIZE_LIMIT:
        out->verdict = TITO_OUTPUT_LIMIT;
        snprintf(out->why, sizeof out->why, "wrote too much (%s)", run->message);
        break;
    case TITO_SANDBOX_SPAWN_FAILED:
        out->verdict = TITO_SKIPPED;
        snprintf(out->why, sizeof out->why, "could not be started (%s)", run->message);
        break;
    }
}

/* Run `probe --perf NAME --reps R` once, timed (wall, cpu are the limits). */
static tt_status run_once(ctx *c, bool reference, int reps, double wall, unsigned cpu,
                          run_outcome *out)
{
    memset(out, 0, sizeof *out);
    const tito_perf_options *o = c->o;
    const char *probe = reference ? o->reference_probe : o->student_probe;
    char reps_text[32], seed[32], outopt[4300], outpath[4200];
    snprintf(reps_text, sizeof reps_text, "%d", reps);
    snprintf(seed, sizeof seed, "%llx", (unsigned long long)o->seed);
    const char *argv[20];
    int a = 0;
    if (o->deterministic) {
        snprintf(outpath, sizeof outpath, "%s/callgrind.out", c->workdir);
        snprintf(outopt, sizeof outopt, "--callgrind-out-file=%s", outpath);
        remove(outpath);
        argv[a++] = c->valgrind;
        argv[a++] = "--tool=callgrind";
        argv[a++] = outopt;
        argv[a++] = "--log-file=/dev/null";
    }
    argv[a++] = probe;
    argv[a++] = "--perf";
    argv[a++] = c->kernel->name;
    argv[a++] = "--reps";
    argv[a++] = reps_text;
    argv[a++] = "--seed";
    argv[a++] = seed;
    if (o->small)
        argv[a++] = "--small";
    argv[a] = NULL;

    tito_sandbox_options so = TITO_SANDBOX_OPTIONS_INIT;
    so.argv = argv;
    so.workdir = o->deterministic ? c->workdir : NULL;
    so.temp_parent = o->temp_parent;
    so.hidden_paths = reference ? o->reference_hidden_paths : o->hidden_paths;
    so.transcript = false;
    so.limits.cpu_seconds = cpu;
    so.limits.wall_seconds = wall;
    if (o->deterministic)
        so.limits.address_space = (uint64_t)16 << 30; /* Valgrind reserves a lot up front */
    tito_sandbox_result *run = NULL;
    tt_status st = tito_sandbox_run(&run, &so);
    if (st != TT_OK)
        return st;
    out->wall = run->wall_seconds;
    out->cpu = run->cpu_seconds;
    if (run->end != TITO_SANDBOX_EXITED || run->exit_code != 0) {
        describe_end(run, out);
        tito_sandbox_result_free(run);
        return TT_OK;
    }
    tito_sandbox_result_free(run);
    if (!o->deterministic) {
        out->ok = true;
        out->cost = out->cpu;
        return TT_OK;
    }
    char *text = NULL;
    if (tito_file_read(&text, NULL, outpath) != TT_OK) {
        out->verdict = TITO_SKIPPED;
        snprintf(out->why, sizeof out->why, "left no callgrind output (%s)", tt_error_last());
        return TT_OK;
    }
    uint64_t total = 0;
    tt_status parsed = tito_callgrind_total(&total, text);
    free(text);
    remove(outpath);
    if (parsed != TT_OK) {
        out->verdict = TITO_SKIPPED;
        snprintf(out->why, sizeof out->why, "%s", tt_error_last());
        return TT_OK;
    }
    out->ok = true;
    out->cost = (double)total;
    return TT_OK;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static const char *find_valgrind(const char *given)
{
    if (given)
        return access(given, X_OK) == 0 ? given : NULL;
    static const char *const places[] = {"/usr/bin/valgrind", "/bin/valgrind"};
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        if (access(places[i], X_OK) == 0)
            return places[i];
    }
    return NULL;
}

static const char *ordinal_suffix(int n)
{
    if (n % 100 >= 11 && n % 100 <= 13)
        return "th";
    switch (n % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
    }
}

/* The reference could not be measured: not the student's doing. */
static tt_status reference_failed(tito_perf_result *r, const run_outcome *ro)
{
    r->verdict = TITO_SKIPPED;
    return set_message(r, "could not be measured: the reference kernel %s; this is a grader problem "
                          "and costs no points",
                       ro->why);
}

static tt_status student_failed(tito_perf_result *r, const run_outcome *so, int run_no,
                                double ref_seconds, bool deterministic)
{
    r->verdict = so->verdict == TITO_SKIPPED ? TITO_SKIPPED : so->verdict;
    if (so->verdict == TITO_TIMEOUT)
        return set_message(r, "your kernel %s on its %d%s run (the reference takes %.3f s%s)", so->why,
                           run_no, ordinal_suffix(run_no), ref_seconds,
                           deterministic ? " under callgrind" : "");
    return set_message(r, "your kernel %s on its %d%s run", so->why, run_no, ordinal_suffix(run_no));
}

tt_status tito_perf_measure(tito_perf_result *result, const tito_perf_kernel *kernel,
                            const tito_perf_options *options)
{
    if (!result || !kernel || !kernel->name || kernel->reps < 1 || !options ||
        !options->student_probe || !options->reference_probe)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_perf_measure: a result, a kernel with reps >= 1 and both probes are required");
    memset(result, 0, sizeof *result);
    const tito_perf_options *o = options;
    ctx c = {.kernel = kernel, .o = o, .valgrind = NULL, .workdir = ""};
    tt_status st = TT_OK;
    double *ratios = NULL, *base_s = NULL, *base_r = NULL;
    int trials = o->deterministic ? 1 : (o->trials > 0 ? o->trials : 7);
    int baselines = o->deterministic ? 1 : (o->baseline_trials > 0 ? o->baseline_trials : 3);
    double factor = o->timeout_factor > 0 ? o->timeout_factor : 20.0;
    double slack = o->timeout_slack > 0 ? o->timeout_slack : 1.0;
    unsigned ref_cpu = o->reference_cpu_seconds ? o->reference_cpu_seconds : 60;

    result->metric = strdup(kernel->name);
    result->unit = strdup(o->deterministic ? "x reference instructions" : "x reference");
    if (!result->metric || !result->unit) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_perf_measure: out of memory");
        goto cleanup;
    }
    result->deterministic = o->deterministic;
    result->verdict = TITO_PASS;

    if (o->deterministic) {
        c.valgrind = find_valgrind(o->valgrind);
        if (!c.valgrind) {
            result->verdict = TITO_SKIPPED;
            st = set_message(result, "could not be measured: deterministic mode needs Valgrind "
                                     "(callgrind); install it (Debian/Ubuntu: `sudo apt-get install "
                                     "valgrind`); this costs no points");
            goto cleanup;
        }
        int n = snprintf(c.workdir, sizeof c.workdir, "%s/tito-perf-XXXXXX",
                         o->temp_parent ? o->temp_parent : "/tmp");
        if (n < 0 || (size_t)n >= sizeof c.workdir || !mkdtemp(c.workdir)) {
            c.workdir[0] = '\0';
            st = tt_error_set(TT_ERR_IO, "tito_perf_measure: cannot make a working directory: %s",
                              strerror(errno));
            goto cleanup;
        }
        if (geteuid() == 0 && chown(c.workdir, TITO_SANDBOX_UID, TITO_SANDBOX_GID) != 0) {
            st = tt_error_set(TT_ERR_IO, "tito_perf_measure: cannot give %s to the sandbox user: %s",
                              c.workdir, strerror(errno));
            goto cleanup;
        }
    }

    ratios = calloc((size_t)trials, sizeof *ratios);
    base_s = calloc((size_t)baselines, sizeof *base_s);
    base_r = calloc((size_t)baselines + 1, sizeof *base_r);
    if (!ratios || !base_s || !base_r) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_perf_measure: out of memory");
        goto cleanup;
    }

    /* The reference first: its time on this machine, now, bounds the student's runs. */
    double ref_wall_limit = 4.0 * ref_cpu;
    run_outcome ro, so;
    TT_CHECK(run_once(&c, true, 0, ref_wall_limit, ref_cpu, &ro));
    if (!ro.ok) {
        st = reference_failed(result, &ro);
        goto cleanup;
    }
    base_r[0] = ro.cost;
    TT_CHECK(run_once(&c, true, kernel->reps, ref_wall_limit, ref_cpu, &ro));
    if (!ro.ok) {
        st = reference_failed(result, &ro);
        goto cleanup;
    }
    double ref_cost_first = ro.cost;
    double ref_seconds = ro.cpu > ro.wall ? ro.cpu : ro.wall;
    double limit = factor * ref_seconds + slack;
    unsigned student_cpu = (unsigned)ceil(limit);
    double student_wall = 2.0 * limit + 1.0;
    int student_runs = 0;

    /* Baselines: process start and the kernel's setup, measured the same way and
     * interleaved too. Instruction counts do not vary: one of each is enough. */
    size_t n_base_r = 1;
    for (int b = 0; b < baselines; b++) {
        TT_CHECK(run_once(&c, false, 0, student_wall, student_cpu, &so));
        student_runs++;
        if (!so.ok) {
            st = student_failed(result, &so, student_runs, ref_seconds, o->deterministic);
            goto cleanup;
        }
        base_s[b] = so.cost;
        if (!o->deterministic) {
            TT_CHECK(run_once(&c, true, 0, ref_wall_limit, ref_cpu, &ro));
            if (!ro.ok) {
                st = reference_failed(result, &ro);
                goto cleanup;
            }
            base_r[n_base_r++] = ro.cost;
        }
    }
    double bs = tito_perf_median(base_s, (size_t)baselines);
    double br = tito_perf_median(base_r, n_base_r);
    double floor_cost = o->deterministic ? 1.0 : MIN_SECONDS;

    /* The pairs: student, then reference, so that a slow minute of the machine hits both. */
    for (int t = 0; t < trials; t++) {
        TT_CHECK(run_once(&c, false, kernel->reps, student_wall, student_cpu, &so));
        student_runs++;
        if (!so.ok) {
            st = student_failed(result, &so, student_runs, ref_seconds, o->deterministic);
            goto cleanup;
        }
        double rc = ref_cost_first;
        if (!o->deterministic) {
            TT_CHECK(run_once(&c, true, kernel->reps, ref_wall_limit, ref_cpu, &ro));
            if (!ro.ok) {
                st = reference_failed(result, &ro);
                goto cleanup;
            }
            rc = ro.cost;
        }
        double s_cost = so.cost - bs, r_cost = rc - br;
        if (s_cost < floor_cost)
            s_cost = floor_cost;
        if (r_cost < floor_cost)
            r_cost = floor_cost;
        ratios[t] = r_cost / s_cost;
    }
    result->trials = trials;
    result->ratio = tito_perf_median(ratios, (size_t)trials);
    result->spread = tito_perf_spread(ratios, (size_t)trials, result->ratio);
cleanup:
    if (c.workdir[0])
        nftw(c.workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(ratios);
    free(base_s);
    free(base_r);
    if (st != TT_OK)
        tito_perf_result_release(result);
    return st;
}
