/*
 * grader/milestone_receipt.c: a milestone run's receipt (schema tito-receipt/1 with
 * "kind": "milestone"), written atomically and read back strictly (milestone.h;
 * docs/milestones.md, "The receipt").
 */
#define _POSIX_C_SOURCE 200809L

#include "milestone.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "progress.h"
#include "receipt.h"

static tt_status nomem(void)
{
    return tt_error_set(TT_ERR_NOMEM, "out of memory while writing a milestone receipt");
}

static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    char *clean = tito_utf8_dup(s);
    json_t *j = clean ? json_string(clean) : NULL;
    free(clean);
    return j;
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void put(json_t *obj, const char *key, json_t *value, int *bad)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        *bad = 1;
}

static double rounded(double x, double scale)
{
    return isfinite(x) ? round(x * scale) / scale : x;
}

static json_t *run_json(const tito_milestone_report *rep)
{
    json_t *o = json_object();
    int bad = !o;
    if (bad)
        return NULL;
    put(o, "ran", json_boolean(rep->ran), &bad);
    put(o, "reported", json_boolean(rep->reported), &bad);
    put(o, "end", rep->ran ? json_string(tito_sandbox_end_name(rep->end)) : json_null(), &bad);
    put(o, "exit_code", json_integer(rep->ran ? rep->exit_code : -1), &bad);
    put(o, "signal", json_integer(rep->signal), &bad);
    put(o, "wall_s", jnum(rounded(rep->wall_seconds, 1e4)), &bad);
    put(o, "cpu_s", jnum(rounded(rep->cpu_seconds, 1e4)), &bad);
    put(o, "problem", jstr(rep->problem), &bad);
    put(o, "stderr_tail", jstr(rep->stderr_tail), &bad);
    put(o, "live_allocations_at_end", jnum(rep->live_allocations), &bad);
    put(o, "metrics", rep->metrics ? json_deep_copy(rep->metrics) : json_null(), &bad);
    put(o, "remeasured", json_boolean(rep->claimed != NULL), &bad);
    put(o, "claimed", rep->claimed ? json_deep_copy(rep->claimed) : json_null(), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

tt_status tito_milestone_receipt_to_json(json_t **out, const tito_milestone_result *r,
                                         time_t created_at)
{
    *out = NULL;
    const tito_milestone *m = r->milestone;
    if (created_at == 0)
        created_at = time(NULL);
    char when[32];
    tito_time_format(when, sizeof when, created_at);
    json_t *o = json_object(), *bars = json_array(), *modules = json_array();
    json_t *time_o = json_object(), *build = json_object(), *prov = json_object();
    json_t *sources = json_object(), *limits = json_object(), *timings = json_object();
    int bad = !o || !bars || !modules || !time_o || !build || !prov || !sources || !limits ||
              !timings;
    if (bad) {
        json_decref(o);
        json_decref(bars);
        json_decref(modules);
        json_decref(time_o);
        json_decref(build);
        json_decref(prov);
        json_decref(sources);
        json_decref(limits);
        json_decref(timings);
        return nomem();
    }
    for (int k = m->first_module; k <= m->last_module; k++) {
        const tito_module *mod = tito_module_numbered(k);
        if (mod && json_array_append_new(modules, json_string(mod->slug)) != 0)
            bad = 1;
    }
    for (size_t i = 0; i < r->n_bars; i++) {
        const tito_milestone_bar_result *br = &r->bars[i];
        json_t *bj = json_pack("{s:s, s:s, s:f, s:o, s:o, s:b}", "metric", br->bar.metric,
                               "comparison", br->bar.comparison, "bar", br->bar.bar, "value",
                               jnum(br->value), "reference", jnum(br->reference), "met", br->met);
        if (!bj || json_array_append_new(bars, bj) != 0)
            bad = 1;
    }
    put(time_o, "train_s", jnum(rounded(r->student_train_median, 1e6)), &bad);
    put(time_o, "reference_train_s", jnum(rounded(r->reference_train_median, 1e6)), &bad);
    put(time_o, "trials", json_integer(r->time_trials), &bad);
    put(time_o, "ratio", jnum(rounded(r->time_ratio, 1e4)), &bad);
    put(time_o, "unit", json_string("x reference (reference time / yours: higher is faster)"),
        &bad);
    put(time_o, "samples_per_s", jnum(rounded(r->student.samples_per_second, 1)), &bad);
    put(time_o, "reference_samples_per_s", jnum(rounded(r->reference.samples_per_second, 1)), &bad);

    put(build, "status", json_string(tito_verdict_name(r->build)), &bad);
    put(build, "module", r->build_module ? json_string(r->build_module->slug) : json_null(), &bad);
    put(build, "message", jstr(r->build_message), &bad);
    put(build, "log", jstr(r->build_log), &bad);

    for (size_t i = 0; i < r->n_sources; i++)
        put(sources, r->sources[i].path, json_string(r->sources[i].hash), &bad);
    put(limits, "wall_s", jnum(rounded(r->limit_wall_seconds, 1e2)), &bad);
    put(limits, "cpu_s", json_integer(r->limit_cpu_seconds), &bad);
    put(limits, "mem_mb", json_integer(r->limit_mem_mb), &bad);
    put(prov, "commit", jstr(r->commit), &bad);
    put(prov, "dirty", json_boolean(r->dirty), &bad);
    put(prov, "sources", sources, &bad);
    put(prov, "milestone", json_string(r->milestone_hash[0] ? r->milestone_hash : ""), &bad);
    put(prov, "reference", json_string(r->reference_hash[0] ? r->reference_hash : ""), &bad);
    put(prov, "reference_cached", json_boolean(r->reference_cached), &bad);
    put(prov, "tito", jstr(r->tito_version), &bad);
    put(prov, "compiler", jstr(r->compiler), &bad);
    put(prov, "seed", r->reference.reported ? json_integer((json_int_t)r->reference.seed)
                                             : json_null(),
        &bad);
    put(prov, "epochs", r->reference.reported ? json_integer(r->reference.epochs) : json_null(),
        &bad);
    put(prov, "limits", limits, &bad);
    put(prov, "isolation", jstr(r->isolation), &bad);
    put(timings, "build_s", jnum(rounded(r->seconds_build, 1e3)), &bad);
    put(timings, "run_s", jnum(rounded(r->seconds_run, 1e3)), &bad);

    put(o, "schema", json_string(TITO_RECEIPT_SCHEMA), &bad);
    put(o, "kind", json_string(TITO_MILESTONE_RECEIPT_KIND), &bad);
    put(o, "milestone", json_integer(m->number), &bad);
    put(o, "slug", json_string(m->slug), &bad);
    put(o, "title", json_string(m->title), &bad);
    put(o, "year", json_integer(m->year), &bad);
    put(o, "modules", modules, &bad);
    put(o, "created_at", json_string(when), &bad);
    put(o, "outcome", json_string(tito_milestone_outcome_name(r->outcome)), &bad);
    put(o, "reached", json_boolean(r->outcome == TITO_MILESTONE_REACHED), &bad);
    put(o, "bars", bars, &bad);
    put(o, "time", time_o, &bad);
    put(o, "build", build, &bad);
    put(o, "run", run_json(&r->student), &bad);
    put(o, "reference_run", run_json(&r->reference), &bad);
    put(o, "provenance", prov, &bad);
    put(o, "timings", timings, &bad);
    if (bad) {
        json_decref(o);
        return nomem();
    }
    *out = o;
    return TT_OK;
}

tt_status tito_milestone_receipt_write(const char *path, const tito_milestone_result *r,
                                       time_t created_at)
{
    json_t *j = NULL;
    tt_status st = tito_milestone_receipt_to_json(&j, r, created_at);
    if (st != TT_OK)
        return st;
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (!text)
        return nomem();
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char dir[4096];
        int n = snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        if (n < 0 || (size_t)n >= sizeof dir)
            st = tt_error_set(TT_ERR_IO, "path too long: %s", path);
        else
            st = tito_mkdirs(dir);
    }
    size_t n = strlen(text);
    char *with_nl = st == TT_OK ? realloc(text, n + 2) : NULL;
    if (st == TT_OK && !with_nl)
        st = nomem();
    if (with_nl) {
        text = with_nl;
        text[n] = '\n';
        text[n + 1] = '\0';
        st = tito_file_write_atomic(path, text, n + 1, 0644);
    }
    free(text);
    return st;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static tt_status bad_receipt(const char *origin, const char *field, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return tt_error_set(TT_ERR_FORMAT, "receipt %s: %s: %s", origin, field, reason);
}

static bool utc_text(const char *s)
{
    int y, mo, d, h, mi, se;
    char z = 0;
    return strlen(s) == 20 &&
           sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) == 7 &&
           z == 'Z' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 &&
           se <= 60 && y >= 1970;
}

tt_status tito_milestone_receipt_parse(tito_milestone_receipt *out, const char *text, size_t len,
                                       const char *origin)
{
    memset(out, 0, sizeof *out);
    out->time_ratio = NAN;
    if (!origin)
        origin = "(text)";
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return tt_error_set(TT_ERR_FORMAT, "receipt %s: not JSON (line %d: %s)", origin, jerr.line,
                            jerr.text);
    tt_status st = TT_OK;
    const json_t *schema = json_object_get(root, "schema"), *kind = json_object_get(root, "kind");
    const json_t *number = json_object_get(root, "milestone");
    const json_t *slug = json_object_get(root, "slug");
    const json_t *outcome = json_object_get(root, "outcome");
    const json_t *reached = json_object_get(root, "reached");
    const json_t *created = json_object_get(root, "created_at");
    const json_t *bars = json_object_get(root, "bars"), *time_o = json_object_get(root, "time");
    const tito_milestone *m = NULL;
    if (!json_is_object(root)) {
        st = bad_receipt(origin, "(top)", "expected an object");
        goto cleanup;
    }
    if (!json_is_string(schema) || strcmp(json_string_value(schema), TITO_RECEIPT_SCHEMA) != 0) {
        st = bad_receipt(origin, "schema", "expected \"%s\"", TITO_RECEIPT_SCHEMA);
        goto cleanup;
    }
    if (!json_is_string(kind) ||
        strcmp(json_string_value(kind), TITO_MILESTONE_RECEIPT_KIND) != 0) {
        st = bad_receipt(origin, "kind", "expected \"%s\"", TITO_MILESTONE_RECEIPT_KIND);
        goto cleanup;
    }
    if (!json_is_integer(number) || !(m = tito_milestone_find((int)json_integer_value(number)))) {
        st = bad_receipt(origin, "milestone", "expected the number of a milestone of this tito");
        goto cleanup;
    }
    if (!json_is_string(slug) || strcmp(json_string_value(slug), m->slug) != 0) {
        st = bad_receipt(origin, "slug", "expected \"%s\" for milestone %d", m->slug, m->number);
        goto cleanup;
    }
    out->number = m->number;
    snprintf(out->slug, sizeof out->slug, "%s", m->slug);
    bool known = false;
    for (int k = TITO_MILESTONE_REACHED; k <= TITO_MILESTONE_NO_RESULT && !known; k++)
        if (json_is_string(outcome) &&
            strcmp(json_string_value(outcome),
                   tito_milestone_outcome_name((tito_milestone_outcome)k)) == 0) {
            out->outcome = (tito_milestone_outcome)k;
            known = true;
        }
    if (!known) {
        st = bad_receipt(origin, "outcome",
                         "expected \"reached\", \"missed\", \"build-failed\" or \"no-result\"");
        goto cleanup;
    }
    out->reached = out->outcome == TITO_MILESTONE_REACHED;
    if (!json_is_boolean(reached) || json_is_true(reached) != out->reached) {
        st = bad_receipt(origin, "reached", "expected %s (the outcome is \"%s\")",
                         out->reached ? "true" : "false",
                         tito_milestone_outcome_name(out->outcome));
        goto cleanup;
    }
    if (!json_is_string(created) || !utc_text(json_string_value(created))) {
        st = bad_receipt(origin, "created_at", "expected a UTC time like \"2026-11-26T12:04:05Z\"");
        goto cleanup;
    }
    snprintf(out->created_at, sizeof out->created_at, "%s", json_string_value(created));
    if (!json_is_array(bars) || json_array_size(bars) != m->n_bars) {
        st = bad_receipt(origin, "bars", "expected %zu entries, one per bar of milestones.def",
                         m->n_bars);
        goto cleanup;
    }
    bool all_met = true;
    for (size_t i = 0; i < m->n_bars; i++) {
        const json_t *bj = json_array_get(bars, i);
        tito_milestone_bar_result *br = &out->bars[i];
        br->bar = m->bars[i];
        const json_t *metric = json_object_get(bj, "metric");
        const json_t *cmp = json_object_get(bj, "comparison");
        const json_t *bar = json_object_get(bj, "bar"), *met = json_object_get(bj, "met");
        char field[32];
        snprintf(field, sizeof field, "bars[%zu]", i);
        if (!json_is_object(bj) || !json_is_string(metric) || !json_is_string(cmp) ||
            !json_is_number(bar) || strcmp(json_string_value(metric), m->bars[i].metric) != 0 ||
            strcmp(json_string_value(cmp), m->bars[i].comparison) != 0 ||
            json_number_value(bar) != m->bars[i].bar) {
            st = bad_receipt(origin, field, "expected the bar %s %s %g of milestones.def",
                             m->bars[i].metric, m->bars[i].comparison, m->bars[i].bar);
            goto cleanup;
        }
        if (!tito_milestone_number(json_object_get(bj, "value"), &br->value) ||
            !tito_milestone_number(json_object_get(bj, "reference"), &br->reference) ||
            !json_is_boolean(met)) {
            st = bad_receipt(origin, field, "value and reference: numbers or null; met: a boolean");
            goto cleanup;
        }
        br->met = json_is_true(met);
        if (br->met && !tito_milestone_bar_met(&br->bar, br->value)) {
            st = bad_receipt(origin, field, "says met, but %g is not %s %g", br->value,
                             br->bar.comparison, br->bar.bar);
            goto cleanup;
        }
        all_met = all_met && br->met;
    }
    out->n_bars = m->n_bars;
    if (out->reached && !all_met) {
        st = bad_receipt(origin, "reached", "true, but a bar is not met");
        goto cleanup;
    }
    if (!json_is_object(time_o) ||
        !tito_milestone_number(json_object_get(time_o, "ratio"), &out->time_ratio)) {
        st = bad_receipt(origin, "time.ratio", "expected a number or null");
        goto cleanup;
    }
cleanup:
    json_decref(root);
    if (st != TT_OK) {
        memset(out, 0, sizeof *out);
        out->time_ratio = NAN;
    }
    return st;
}
