/*
 * The phases after judging, run as the engine's hook: memcheck, speed, score.
 *
 * The case tables that memcheck needs to resume after a crash come from the reference
 * probes (`--list`), never from the student's, whose output is not to be trusted.
 */
#define _POSIX_C_SOURCE 200809L

#include "phases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memcheck.h"
#include "perf.h"
#include "sandbox.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The case names of a probe, in table order, from `probe --list`. */
static tt_status list_cases(char ***out, size_t *n, const char *probe, const char *temp_parent)
{
    *out = NULL;
    *n = 0;
    const char *argv[] = {probe, "--list", NULL};
    tito_sandbox_options so = TITO_SANDBOX_OPTIONS_INIT;
    so.argv = argv;
    so.temp_parent = temp_parent;
    tito_sandbox_result *r = NULL;
    tt_status st = tito_sandbox_run(&r, &so);
    if (st != TT_OK)
        return st;
    if (r->end != TITO_SANDBOX_EXITED || r->exit_code != 0) {
        st = tt_error_set(TT_ERR_STATE, "the reference probe %s could not list its cases: %s", probe,
                          r->message);
        tito_sandbox_result_free(r);
        return st;
    }
    char **names = NULL;
    size_t count = 0;
    char *save = NULL;
    for (char *line = strtok_r(r->out.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strcspn(line, " ");
        char **grown = realloc(names, (count + 1) * sizeof *names);
        if (!grown) {
            st = tt_error_set(TT_ERR_NOMEM, "out of memory listing the cases");
            break;
        }
        names = grown;
        names[count] = malloc(len + 1);
        if (!names[count]) {
            st = tt_error_set(TT_ERR_NOMEM, "out of memory listing the cases");
            break;
        }
        memcpy(names[count], line, len);
        names[count][len] = '\0';
        count++;
    }
    tito_sandbox_result_free(r);
    if (st != TT_OK) {
        free_names(names, count);
        return st;
    }
    *out = names;
    *n = count;
    return TT_OK;
}

static tt_status run_memcheck(const tito_after_judge *aj, tito_grade *g, const tito_grade_probes *probes)
{
    tt_status st = TT_OK;
    tito_memcheck_result total;
    memset(&total, 0, sizeof total);
    for (int part = 0; part < 2; part++) {
        if (!probes->student[part] || !probes->reference[part])
            continue;
        char **names = NULL;
        size_t n = 0;
        TT_CHECK(list_cases(&names, &n, probes->reference[part], aj->temp_parent));
        /* Cases that already ran out of time would only do so again, 30 times slower. */
        const char **skip = calloc(g->n_cases + 1, sizeof *skip);
        if (!skip) {
            free_names(names, n);
            st = tt_error_set(TT_ERR_NOMEM, "out of memory running memcheck");
            goto cleanup;
        }
        size_t n_skip = 0;
        for (size_t i = 0; i < g->n_cases; i++) {
            if (g->cases[i].hidden == (part == 1) && g->cases[i].verdict == TITO_TIMEOUT)
                skip[n_skip++] = g->cases[i].name;
        }
        tito_memcheck_options o = TITO_MEMCHECK_OPTIONS_INIT;
        o.skip_cases = skip;
        o.n_skip = n_skip;
        o.probe = probes->student[part];
        o.student_file = probes->source_name;
        o.seed = probes->seed;
        o.case_names = (const char *const *)names;
        o.n_cases = n;
        o.temp_parent = aj->temp_parent;
        o.hidden_paths = probes->hidden_from_student;
        tito_memcheck_result one;
        st = tito_memcheck_run(&one, &o);
        free_names(names, n);
        free(skip);
        if (st != TT_OK)
            goto cleanup;
        TT_CHECK(tito_memcheck_merge(&total, &one));
    }
    tito_memcheck_result_release(&g->memcheck);
    g->memcheck = total;
    memset(&total, 0, sizeof total);
cleanup:
    tito_memcheck_result_release(&total);
    return st;
}

static tt_status run_perf(const tito_after_judge *aj, tito_grade *g, const tito_grade_probes *probes)
{
    char path[4096];
    char rel[256];
    snprintf(rel, sizeof rel, "suites/%s/suite.json", aj->module->slug);
    tt_status st = tito_kit_path(path, sizeof path, aj->kit, rel);
    if (st != TT_OK)
        return st;
    tito_perf_kernel *kernels = NULL;
    size_t n = 0;
    st = tito_perf_kernels_load(&kernels, &n, path);
    if (st != TT_OK)
        return st;
    if (n == 0)
        return TT_OK;
    tito_perf_result *results = calloc(n, sizeof *results);
    if (!results) {
        tito_perf_kernels_free(kernels, n);
        return tt_error_set(TT_ERR_NOMEM, "out of memory measuring speed");
    }
    size_t done = 0;
    for (size_t k = 0; k < n; k++) {
        int part = strcmp(kernels[k].probe, "hidden") == 0 ? 1 : 0;
        tito_perf_result *r = &results[k];
        if (g->build != TITO_PASS || !probes->student[part] || !probes->reference[part]) {
            /* Not measurable because of the student's build: the kernel's share is lost. */
            r->metric = strdup(kernels[k].name);
            r->unit = strdup(aj->deterministic ? "x reference instructions" : "x reference");
            r->message = strdup("not measured: the module did not build");
            r->verdict = g->build != TITO_PASS ? g->build : TITO_LINK_ERROR;
            r->deterministic = aj->deterministic;
            done++;
            if (!r->metric || !r->unit || !r->message) {
                st = tt_error_set(TT_ERR_NOMEM, "out of memory measuring speed");
                break;
            }
            continue;
        }
        tito_perf_options o = TITO_PERF_OPTIONS_INIT;
        o.student_probe = probes->student[part];
        o.reference_probe = probes->reference[part];
        o.seed = probes->seed;
        o.trials = aj->trials > 0 ? aj->trials : 7;
        o.deterministic = aj->deterministic;
        o.small = aj->perf_small;
        o.temp_parent = aj->temp_parent;
        o.hidden_paths = probes->hidden_from_student;
        st = tito_perf_measure(r, &kernels[k], &o);
        if (st != TT_OK)
            break;
        done++;
    }
    if (st != TT_OK) {
        for (size_t k = 0; k < done; k++)
            tito_perf_result_release(&results[k]);
        free(results);
        tito_perf_kernels_free(kernels, n);
        return st;
    }
    for (size_t k = 0; k < g->n_perf; k++)
        tito_perf_result_release(&g->perf[k]);
    free(g->perf);
    g->perf = results;
    g->n_perf = n;
    tito_perf_kernels_free(kernels, n);
    return TT_OK;
}

tt_status tito_after_judge_run(void *ctx, tito_grade *grade, const tito_grade_probes *probes)
{
    const tito_after_judge *aj = ctx;
    if (!aj || !aj->kit || !aj->module || !grade || !probes)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_after_judge_run: a kit, a module, a grade and "
                                                "the probes are required");
    tt_status st = TT_OK;
    if (grade->full && aj->memcheck && grade->build == TITO_PASS) {
        double t0 = now_seconds();
        st = run_memcheck(aj, grade, probes);
        grade->seconds_memcheck = now_seconds() - t0;
        if (st != TT_OK)
            return st;
    }
    if (grade->full && aj->perf) {
        double t0 = now_seconds();
        st = run_perf(aj, grade, probes);
        grade->seconds_perf = now_seconds() - t0;
        if (st != TT_OK)
            return st;
    }
    tito_score_rules rules = aj->rules;
    if (rules.correctness == 0 && rules.memcheck == 0 && rules.speed == 0)
        tito_score_rules_default(&rules);
    return tito_score_apply(grade, &rules);
}
