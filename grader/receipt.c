/*
 * The tito-receipt/1 JSON: writing a grade as a receipt, reading one back, and the
 * public view of checks (hidden names and hints) that every rendering shares.
 *
 * Invariants: nothing written here names a hidden check or shows its message; every
 * string is valid UTF-8 before Jansson sees it (json_string refuses anything else);
 * numbers that are measurements (ratios, seconds) are rounded so that a receipt reads
 * the same after a round trip.
 */
#define _POSIX_C_SOURCE 200809L

#include "receipt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "progress.h"
#include "memcheck.h"
#include "modules.h"

/* ------------------------------------------------------------ UTF-8 */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. Overlong
 * forms, surrogates and code points past U+10FFFF are invalid, as Jansson says. */
static size_t utf8_valid_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

char *tito_utf8_dup(const char *s)
{
    if (!s)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    /* Each bad byte grows to three (U+FFFD), so 3 * len + 1 always fits. */
    char *out = malloc(3 * len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_valid_len(p + i);
        if (n == 0) {
            out[o++] = (char)0xEF;
            out[o++] = (char)0xBF;
            out[o++] = (char)0xBD;
            i++;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------ verdicts and names */

bool tito_verdict_parse(const char *name, tito_verdict *verdict)
{
    if (!name)
        return false;
    for (int v = TITO_PASS; v <= TITO_SKIPPED; v++) {
        if (strcmp(tito_verdict_name((tito_verdict)v), name) == 0) {
            *verdict = (tito_verdict)v;
            return true;
        }
    }
    return false;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case 4: return "SIGILL";
    case 6: return "SIGABRT";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    case 9: return "SIGKILL";
    case 11: return "SIGSEGV";
    case 13: return "SIGPIPE";
    case 24: return "SIGXCPU";
    case 25: return "SIGXFSZ";
    default: return NULL;
    }
}

const char *tito_case_public_name(const tito_grade *grade, size_t i, char *buf, size_t size)
{
    const tito_case_result *c = &grade->cases[i];
    if (!c->hidden) {
        snprintf(buf, size, "%s", c->name ? c->name : "");
        return buf;
    }
    const char *cat = c->category ? c->category : "";
    size_t n = 0;
    for (size_t j = 0; j <= i; j++) {
        const tito_case_result *o = &grade->cases[j];
        if (o->hidden && strcmp(o->category ? o->category : "", cat) == 0)
            n++;
    }
    snprintf(buf, size, "hidden.%s.%zu", cat, n);
    return buf;
}

/* What a verdict means, said of a check ("crashed (SIGSEGV)"). */
static void verdict_phrase(char *buf, size_t size, tito_verdict v, int sig)
{
    const char *s = "failed";
    switch (v) {
    case TITO_PASS: s = "passed"; break;
    case TITO_FAIL: s = "gave a wrong value, shape or status"; break;
    case TITO_TIMEOUT: s = "ran out of time"; break;
    case TITO_MEMORY_LIMIT: s = "ran out of memory"; break;
    case TITO_OUTPUT_LIMIT: s = "printed more than the output limit"; break;
    case TITO_CRASH: {
        const char *name = signal_name(sig);
        if (name)
            snprintf(buf, size, "crashed (%s)", name);
        else if (sig > 0)
            snprintf(buf, size, "crashed (signal %d)", sig);
        else
            snprintf(buf, size, "crashed");
        return;
    }
    case TITO_COMPILE_ERROR: s = "could not be built (compile error)"; break;
    case TITO_LINK_ERROR: s = "could not be built (link error)"; break;
    case TITO_LEAK: s = "left memory allocated (a leak)"; break;
    case TITO_MEMORY_ERROR: s = "made an invalid memory access"; break;
    case TITO_SKIPPED: s = "was not run (a prerequisite failed)"; break;
    }
    snprintf(buf, size, "%s", s);
}

const char *tito_case_public_message(const tito_grade *grade, size_t i, char *buf, size_t size)
{
    const tito_case_result *c = &grade->cases[i];
    if (!c->hidden) {
        if (!c->message)
            return NULL;
        snprintf(buf, size, "%s", c->message);
        return buf;
    }
    if (c->verdict == TITO_PASS)
        return NULL;
    char phrase[64];
    verdict_phrase(phrase, sizeof phrase, c->verdict, c->signal);
    const char *cat = c->category ? c->category : "";
    snprintf(buf, size,
             "a hidden check of category \"%s\" %s; its inputs stay hidden: the visible \"%s\" "
             "checks and the module guide cover the same contract",
             cat, phrase, cat);
    return buf;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

char *tito_public_text(const tito_grade *grade, const char *text)
{
    if (!text)
        return NULL;
    char *out = strdup(text);
    for (size_t i = 0; out && i < grade->n_cases; i++) {
        const tito_case_result *c = &grade->cases[i];
        if (!c->hidden || !c->name || !c->name[0])
            continue;
        char pub[256];
        tito_case_public_name(grade, i, pub, sizeof pub);
        size_t n = strlen(c->name), m = strlen(pub);
        for (char *at = strstr(out, c->name); at && out; at = strstr(at, c->name)) {
            /* Whole names only: "sub.scalars" is not a part of "sub.scalars_3d". A name
             * may end a sentence, so a trailing '.' is no part of it. */
            char after = at[n];
            bool whole = (at == out || !name_char(at[-1])) &&
                         (!name_char(after) || (after == '.' && !name_char(at[n + 1])));
            if (!whole) {
                at += n;
                continue;
            }
            size_t before = (size_t)(at - out), rest = strlen(at + n);
            char *next = malloc(before + m + rest + 1);
            if (!next) {
                free(out);
                out = NULL;
                break;
            }
            memcpy(next, out, before);
            memcpy(next + before, pub, m);
            memcpy(next + before + m, at + n, rest + 1);
            free(out);
            out = next;
            at = out + before + m;
        }
    }
    return out;
}

const char *tito_finding_public_case(const tito_grade *grade, const char *case_name, char *buf,
                                     size_t size)
{
    if (!case_name)
        return NULL;
    for (size_t i = 0; i < grade->n_cases; i++) {
        if (grade->cases[i].name && strcmp(grade->cases[i].name, case_name) == 0)
            return tito_case_public_name(grade, i, buf, size);
    }
    return NULL;
}

/* ------------------------------------------------------------ writing */

/* Rounded to 1/scale (scale a power of ten), as the double nearest to that decimal, so
 * that printing with 15 significant digits and reading back gives it exactly. */
static double rounded(double x, double scale)
{
    if (!isfinite(x))
        return 0.0;
    return round(x * scale) / scale;
}

/* A JSON string of valid UTF-8, or null for NULL. NULL only when memory runs out. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    char *clean = tito_utf8_dup(s);
    if (!clean)
        return NULL;
    json_t *j = json_string(clean);
    free(clean);
    return j;
}

/* Set obj[key] = value (stolen); counts a failure (NULL value or no memory) in *bad. */
static void put(json_t *obj, const char *key, json_t *value, int *bad)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        (*bad)++;
}

static void push(json_t *arr, json_t *value, int *bad)
{
    if (!value || json_array_append_new(arr, value) != 0)
        (*bad)++;
}

static json_t *points_pair(int earned, int possible)
{
    json_t *o = json_object();
    int bad = 0;
    if (!o)
        return NULL;
    put(o, "earned", json_integer(earned), &bad);
    put(o, "possible", json_integer(possible), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *score_json(const tito_grade *g)
{
    int mc_e = g->memcheck.points, mc_p = g->memcheck.max_points;
    int sp_e = 0, sp_p = 0;
    for (size_t i = 0; i < g->n_perf; i++) {
        sp_e += g->perf[i].points;
        sp_p += g->perf[i].max_points;
    }
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    put(o, "earned", json_integer(g->earned), &bad);
    put(o, "possible", json_integer(g->possible), &bad);
    put(o, "correctness", points_pair(g->earned - mc_e - sp_e, g->possible - mc_p - sp_p), &bad);
    put(o, "memcheck", points_pair(mc_e, mc_p), &bad);
    put(o, "speed", points_pair(sp_e, sp_p), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *tests_json(const tito_grade *g)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    int bad = 0;
    for (size_t i = 0; i < g->n_cases && !bad; i++) {
        const tito_case_result *c = &g->cases[i];
        char name[256], message[4096];
        json_t *t = json_object();
        if (!t) {
            bad++;
            break;
        }
        put(t, "name", jstr(tito_case_public_name(g, i, name, sizeof name)), &bad);
        put(t, "category", jstr(c->category ? c->category : ""), &bad);
        put(t, "visibility", json_string(c->hidden ? "hidden" : "visible"), &bad);
        put(t, "status", json_string(tito_verdict_name(c->verdict)), &bad);
        put(t, "points", json_integer(c->points), &bad);
        put(t, "max_points", json_integer(c->max_points), &bad);
        put(t, "message", jstr(tito_case_public_message(g, i, message, sizeof message)), &bad);
        if (c->verdict == TITO_CRASH)
            put(t, "signal", json_integer(c->signal), &bad);
        push(arr, t, &bad);
    }
    if (bad) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *finding_json(const tito_grade *g, const tito_memcheck_finding *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    char name[256], message[1024];
    put(o, "case", jstr(tito_finding_public_case(g, f->case_name, name, sizeof name)), &bad);
    put(o, "what", jstr(f->what), &bad);
    put(o, "where", jstr(f->where), &bad);
    put(o, "bytes", json_integer((json_int_t)f->bytes), &bad);
    put(o, "message", jstr(tito_memcheck_finding_message(f, message, sizeof message)), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *memcheck_json(const tito_grade *g)
{
    const tito_memcheck_result *m = &g->memcheck;
    json_t *o = json_object(), *leaks = json_array(), *errors = json_array();
    int bad = 0;
    if (!o || !leaks || !errors) {
        json_decref(o);
        json_decref(leaks);
        json_decref(errors);
        return NULL;
    }
    for (size_t i = 0; i < m->n_findings; i++) {
        const tito_memcheck_finding *f = &m->findings[i];
        push(f->kind == TITO_LEAK ? leaks : errors, finding_json(g, f), &bad);
    }
    put(o, "status", json_string(tito_memcheck_status_name(m->status)), &bad);
    put(o, "leaks", leaks, &bad);
    put(o, "errors", errors, &bad);
    /* Notes name cases; hidden ones by their public names. */
    char *note = tito_public_text(g, m->message);
    if (m->message && !note)
        bad = 1;
    put(o, "message", jstr(note), &bad);
    free(note);
    put(o, "points", json_integer(m->points), &bad);
    put(o, "max_points", json_integer(m->max_points), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *perf_json(const tito_grade *g)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    int bad = 0;
    for (size_t i = 0; i < g->n_perf && !bad; i++) {
        const tito_perf_result *p = &g->perf[i];
        json_t *o = json_object();
        if (!o) {
            bad++;
            break;
        }
        put(o, "metric", jstr(p->metric ? p->metric : ""), &bad);
        put(o, "ratio", json_real(rounded(p->ratio, 1e4)), &bad);
        put(o, "spread", json_real(rounded(p->spread, 1e4)), &bad);
        put(o, "unit", jstr(p->unit ? p->unit : ""), &bad);
        put(o, "trials", json_integer(p->trials), &bad);
        put(o, "deterministic", json_boolean(p->deterministic), &bad);
        put(o, "status", json_string(tito_verdict_name(p->verdict)), &bad);
        put(o, "message", jstr(p->message), &bad);
        put(o, "points", json_integer(p->points), &bad);
        put(o, "max_points", json_integer(p->max_points), &bad);
        push(arr, o, &bad);
    }
    if (bad) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static const char *path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static json_t *provenance_json(const tito_grade *g)
{
    const tito_provenance *p = &g->provenance;
    json_t *o = json_object(), *sources = json_object(), *limits = json_object();
    int bad = 0;
    if (!o || !sources || !limits) {
        json_decref(o);
        json_decref(sources);
        json_decref(limits);
        return NULL;
    }
    if (p->source_hash)
        put(sources, p->source_path ? path_basename(p->source_path) : "source", jstr(p->source_hash),
            &bad);
    char seed[32];
    snprintf(seed, sizeof seed, "0x%016llx", (unsigned long long)p->seed);
    put(limits, "cpu_s", json_integer(p->cpu_seconds), &bad);
    put(limits, "mem_mb", json_integer(p->mem_mb), &bad);
    put(o, "commit", jstr(p->commit), &bad);
    put(o, "dirty", json_boolean(p->dirty), &bad);
    put(o, "source_path", jstr(p->source_path), &bad);
    put(o, "sources", sources, &bad);
    put(o, "suite", jstr(p->suite_hash), &bad);
    put(o, "reference", jstr(p->reference_hash), &bad);
    put(o, "tito", jstr(p->tito_version), &bad);
    put(o, "compiler", jstr(p->compiler), &bad);
    put(o, "seed", json_string(seed), &bad);
    put(o, "limits", limits, &bad);
    put(o, "isolation", jstr(p->isolation), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *timings_json(const tito_grade *g)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    put(o, "build_s", json_real(rounded(g->seconds_build, 1e3)), &bad);
    put(o, "run_s", json_real(rounded(g->seconds_run, 1e3)), &bad);
    put(o, "memcheck_s", json_real(rounded(g->seconds_memcheck, 1e3)), &bad);
    put(o, "perf_s", json_real(rounded(g->seconds_perf, 1e3)), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

tt_status tito_receipt_to_json(json_t **out, const tito_grade *grade, time_t created_at)
{
    *out = NULL;
    if (!grade || !grade->slug)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_receipt_to_json: %s",
                            grade ? "the grade has no module slug" : "no grade given");
    if (created_at == 0)
        created_at = time(NULL);
    char when[32];
    tito_time_format(when, sizeof when, created_at);

    json_t *o = json_object();
    if (!o)
        return tt_error_set(TT_ERR_NOMEM, "tito_receipt_to_json: out of memory");
    int bad = 0;
    json_t *build = json_object();
    if (build) {
        put(build, "status", json_string(tito_verdict_name(grade->build)), &bad);
        put(build, "log", jstr(grade->build_log), &bad);
    }
    put(o, "schema", json_string(TITO_RECEIPT_SCHEMA), &bad);
    put(o, "module", jstr(grade->slug), &bad);
    put(o, "module_number", json_integer(grade->module), &bad);
    put(o, "mode", json_string(grade->full ? "grade" : "test"), &bad);
    put(o, "created_at", json_string(when), &bad);
    put(o, "score", score_json(grade), &bad);
    put(o, "build", build, &bad);
    put(o, "tests", tests_json(grade), &bad);
    put(o, "memcheck", memcheck_json(grade), &bad);
    put(o, "perf", perf_json(grade), &bad);
    put(o, "provenance", provenance_json(grade), &bad);
    put(o, "timings", timings_json(grade), &bad);
    if (bad) {
        json_decref(o);
        return tt_error_set(TT_ERR_NOMEM, "tito_receipt_to_json: out of memory building the receipt");
    }
    *out = o;
    return TT_OK;
}

tt_status tito_receipt_dumps(char **out, const tito_grade *grade, time_t created_at)
{
    *out = NULL;
    json_t *j = NULL;
    tt_status st = tito_receipt_to_json(&j, grade, created_at);
    if (st != TT_OK)
        return st;
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "tito_receipt_dumps: out of memory writing the receipt");
    size_t n = strlen(text);
    char *with_nl = realloc(text, n + 2);
    if (!with_nl) {
        free(text);
        return tt_error_set(TT_ERR_NOMEM, "tito_receipt_dumps: out of memory writing the receipt");
    }
    with_nl[n] = '\n';
    with_nl[n + 1] = '\0';
    *out = with_nl;
    return TT_OK;
}

tt_status tito_receipt_write(const char *path, const tito_grade *grade, time_t created_at)
{
    char *text = NULL;
    tt_status st = tito_receipt_dumps(&text, grade, created_at);
    if (st != TT_OK)
        return st;
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char dir[4096];
        int n = snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        if (n < 0 || (size_t)n >= sizeof dir) {
            free(text);
            return tt_error_set(TT_ERR_IO, "tito_receipt_write: path too long: %s", path);
        }
        st = tito_mkdirs(dir);
    }
    if (st == TT_OK)
        st = tito_file_write_atomic(path, text, strlen(text), 0644);
    free(text);
    return st;
}

/* ------------------------------------------------------------ reading */

/* The reader walks the JSON with a path for messages ("tests[3].status"). */
typedef struct reader {
    const char *origin;
    char path[128];
} reader;

static tt_status bad_field(const reader *r, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static tt_status bad_field(const reader *r, const char *key, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (!r->path[0] && !key[0])
        return tt_error_set(TT_ERR_FORMAT, "receipt %s: %s", r->origin, why);
    return tt_error_set(TT_ERR_FORMAT, "receipt %s: %s%s%s: %s", r->origin, r->path,
                        r->path[0] && key[0] ? "." : "", key, why);
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

static tt_status need(const reader *r, const json_t *obj, const char *key, json_t **out)
{
    *out = json_object_get(obj, key);
    if (!*out)
        return bad_field(r, key, "missing");
    return TT_OK;
}

static tt_status get_object(const reader *r, const json_t *obj, const char *key, json_t **out)
{
    tt_status st = need(r, obj, key, out);
    if (st == TT_OK && !json_is_object(*out))
        return bad_field(r, key, "expected an object, got %s", type_name(*out));
    return st;
}

static tt_status get_array(const reader *r, const json_t *obj, const char *key, json_t **out)
{
    tt_status st = need(r, obj, key, out);
    if (st == TT_OK && !json_is_array(*out))
        return bad_field(r, key, "expected an array, got %s", type_name(*out));
    return st;
}

static tt_status get_int(const reader *r, const json_t *obj, const char *key, int *out)
{
    json_t *j;
    tt_status st = need(r, obj, key, &j);
    if (st != TT_OK)
        return st;
    if (!json_is_integer(j))
        return bad_field(r, key, "expected an integer, got %s", type_name(j));
    json_int_t v = json_integer_value(j);
    if (v < -1000000000 || v > 1000000000)
        return bad_field(r, key, "%lld is out of range", (long long)v);
    *out = (int)v;
    return TT_OK;
}

static tt_status get_number(const reader *r, const json_t *obj, const char *key, double *out)
{
    json_t *j;
    tt_status st = need(r, obj, key, &j);
    if (st != TT_OK)
        return st;
    if (!json_is_number(j))
        return bad_field(r, key, "expected a number, got %s", type_name(j));
    *out = json_number_value(j);
    return TT_OK;
}

static tt_status get_bool(const reader *r, const json_t *obj, const char *key, bool *out)
{
    json_t *j;
    tt_status st = need(r, obj, key, &j);
    if (st != TT_OK)
        return st;
    if (!json_is_boolean(j))
        return bad_field(r, key, "expected true or false, got %s", type_name(j));
    *out = json_is_true(j);
    return TT_OK;
}

/* A string field copied into *out (malloc); null is allowed when `nullable`. */
static tt_status get_string(const reader *r, const json_t *obj, const char *key, bool nullable,
                            char **out)
{
    json_t *j;
    *out = NULL;
    tt_status st = need(r, obj, key, &j);
    if (st != TT_OK)
        return st;
    if (json_is_null(j) && nullable)
        return TT_OK;
    if (!json_is_string(j))
        return bad_field(r, key, "expected a string%s, got %s", nullable ? " or null" : "",
                         type_name(j));
    *out = strdup(json_string_value(j));
    if (!*out)
        return tt_error_set(TT_ERR_NOMEM, "receipt %s: out of memory", r->origin);
    return TT_OK;
}

static tt_status get_verdict(const reader *r, const json_t *obj, const char *key, tito_verdict *v)
{
    json_t *j;
    tt_status st = need(r, obj, key, &j);
    if (st != TT_OK)
        return st;
    if (!json_is_string(j))
        return bad_field(r, key, "expected a verdict name, got %s", type_name(j));
    if (!tito_verdict_parse(json_string_value(j), v))
        return bad_field(r, key, "unknown verdict \"%s\"", json_string_value(j));
    return TT_OK;
}

static void set_path(reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void set_path(reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->path, sizeof r->path, fmt, ap);
    va_end(ap);
}

static tt_status read_tests(reader *r, const json_t *root, tito_grade *g)
{
    json_t *tests;
    tt_status st = get_array(r, root, "tests", &tests);
    if (st != TT_OK)
        return st;
    size_t n = json_array_size(tests);
    if (n) {
        g->cases = calloc(n, sizeof *g->cases);
        if (!g->cases)
            return tt_error_set(TT_ERR_NOMEM, "receipt %s: out of memory", r->origin);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tests, i);
        tito_case_result *c = &g->cases[i];
        g->n_cases = i + 1;
        set_path(r, "tests[%zu]", i);
        if (!json_is_object(t))
            return bad_field(r, "", "expected an object, got %s", type_name(t));
        char *vis = NULL;
        TT_CHECK(get_string(r, t, "name", false, &c->name));
        TT_CHECK(get_string(r, t, "category", false, &c->category));
        TT_CHECK(get_string(r, t, "visibility", false, &vis));
        bool hidden = strcmp(vis, "hidden") == 0;
        bool visible = strcmp(vis, "visible") == 0;
        free(vis);
        if (!hidden && !visible)
            return bad_field(r, "visibility", "expected \"visible\" or \"hidden\"");
        c->hidden = hidden;
        TT_CHECK(get_verdict(r, t, "status", &c->verdict));
        TT_CHECK(get_int(r, t, "points", &c->points));
        TT_CHECK(get_int(r, t, "max_points", &c->max_points));
        TT_CHECK(get_string(r, t, "message", true, &c->message));
        json_t *sig = json_object_get(t, "signal");
        if (sig && json_is_integer(sig))
            c->signal = (int)json_integer_value(sig);
    }
    r->path[0] = '\0';
cleanup:
    return st;
}

static tt_status read_findings(reader *r, const json_t *mc, const char *key, tito_verdict kind,
                               tito_memcheck_result *m)
{
    json_t *arr;
    tt_status st = get_array(r, mc, key, &arr);
    if (st != TT_OK)
        return st;
    size_t n = json_array_size(arr);
    if (!n)
        return TT_OK;
    tito_memcheck_finding *grown = realloc(m->findings, (m->n_findings + n) * sizeof *grown);
    if (!grown)
        return tt_error_set(TT_ERR_NOMEM, "receipt %s: out of memory", r->origin);
    m->findings = grown;
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(arr, i);
        tito_memcheck_finding *out = &m->findings[m->n_findings];
        memset(out, 0, sizeof *out);
        m->n_findings++;
        out->kind = kind;
        set_path(r, "memcheck.%s[%zu]", key, i);
        if (!json_is_object(f))
            return bad_field(r, "", "expected an object, got %s", type_name(f));
        TT_CHECK(get_string(r, f, "case", true, &out->case_name));
        TT_CHECK(get_string(r, f, "what", false, &out->what));
        TT_CHECK(get_string(r, f, "where", true, &out->where));
        json_t *bytes = json_object_get(f, "bytes");
        if (bytes && json_is_integer(bytes) && json_integer_value(bytes) >= 0)
            out->bytes = (uint64_t)json_integer_value(bytes);
    }
cleanup:
    return st;
}

static tt_status read_memcheck(reader *r, const json_t *root, tito_grade *g)
{
    json_t *mc;
    tt_status st = get_object(r, root, "memcheck", &mc);
    if (st != TT_OK)
        return st;
    set_path(r, "memcheck");
    char *status = NULL;
    TT_CHECK(get_string(r, mc, "status", false, &status));
    tito_memcheck_status s;
    for (s = TITO_MEMCHECK_NOT_RUN; s <= TITO_MEMCHECK_ERROR; s++) {
        if (strcmp(status, tito_memcheck_status_name(s)) == 0)
            break;
    }
    if (s > TITO_MEMCHECK_ERROR) {
        st = bad_field(r, "status", "unknown memcheck status \"%s\"", status);
        goto cleanup;
    }
    g->memcheck.status = s;
    TT_CHECK(get_string(r, mc, "message", true, &g->memcheck.message));
    TT_CHECK(get_int(r, mc, "points", &g->memcheck.points));
    TT_CHECK(get_int(r, mc, "max_points", &g->memcheck.max_points));
    TT_CHECK(read_findings(r, mc, "leaks", TITO_LEAK, &g->memcheck));
    TT_CHECK(read_findings(r, mc, "errors", TITO_MEMORY_ERROR, &g->memcheck));
    r->path[0] = '\0';
cleanup:
    free(status);
    return st;
}

static tt_status read_perf(reader *r, const json_t *root, tito_grade *g)
{
    json_t *arr;
    tt_status st = get_array(r, root, "perf", &arr);
    if (st != TT_OK)
        return st;
    size_t n = json_array_size(arr);
    if (n) {
        g->perf = calloc(n, sizeof *g->perf);
        if (!g->perf)
            return tt_error_set(TT_ERR_NOMEM, "receipt %s: out of memory", r->origin);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        tito_perf_result *p = &g->perf[i];
        g->n_perf = i + 1;
        set_path(r, "perf[%zu]", i);
        if (!json_is_object(o))
            return bad_field(r, "", "expected an object, got %s", type_name(o));
        TT_CHECK(get_string(r, o, "metric", false, &p->metric));
        TT_CHECK(get_number(r, o, "ratio", &p->ratio));
        TT_CHECK(get_number(r, o, "spread", &p->spread));
        TT_CHECK(get_string(r, o, "unit", false, &p->unit));
        TT_CHECK(get_int(r, o, "trials", &p->trials));
        TT_CHECK(get_bool(r, o, "deterministic", &p->deterministic));
        TT_CHECK(get_verdict(r, o, "status", &p->verdict));
        TT_CHECK(get_string(r, o, "message", true, &p->message));
        TT_CHECK(get_int(r, o, "points", &p->points));
        TT_CHECK(get_int(r, o, "max_points", &p->max_points));
    }
    r->path[0] = '\0';
cleanup:
    return st;
}

static tt_status read_provenance(reader *r, const json_t *root, tito_grade *g)
{
    json_t *p, *sources, *limits;
    tito_provenance *pv = &g->provenance;
    tt_status st = get_object(r, root, "provenance", &p);
    if (st != TT_OK)
        return st;
    set_path(r, "provenance");
    char *seed = NULL;
    TT_CHECK(get_string(r, p, "commit", true, &pv->commit));
    TT_CHECK(get_bool(r, p, "dirty", &pv->dirty));
    TT_CHECK(get_object(r, p, "sources", &sources));
    TT_CHECK(get_string(r, p, "suite", true, &pv->suite_hash));
    TT_CHECK(get_string(r, p, "reference", true, &pv->reference_hash));
    TT_CHECK(get_string(r, p, "tito", true, &pv->tito_version));
    TT_CHECK(get_string(r, p, "compiler", true, &pv->compiler));
    TT_CHECK(get_string(r, p, "seed", false, &seed));
    TT_CHECK(get_object(r, p, "limits", &limits));
    if (json_object_get(p, "isolation"))
        TT_CHECK(get_string(r, p, "isolation", true, &pv->isolation));
    if (json_object_get(p, "source_path"))
        TT_CHECK(get_string(r, p, "source_path", true, &pv->source_path));

    /* The seed is "0x" and hex digits, nothing else. */
    char *end = NULL;
    errno = 0;
    unsigned long long v = strncmp(seed, "0x", 2) == 0 && seed[2] ? strtoull(seed + 2, &end, 16) : 0;
    if (strncmp(seed, "0x", 2) != 0 || !end || *end || errno) {
        st = bad_field(r, "seed", "expected \"0x\" and hex digits, got \"%s\"", seed);
        goto cleanup;
    }
    pv->seed = (uint64_t)v;

    const char *key;
    json_t *value;
    json_object_foreach(sources, key, value)
    {
        if (!json_is_string(value)) {
            set_path(r, "provenance.sources");
            st = bad_field(r, key, "expected a hash string, got %s", type_name(value));
            goto cleanup;
        }
        if (!pv->source_hash) {
            pv->source_hash = strdup(json_string_value(value));
            if (!pv->source_path)
                pv->source_path = strdup(key);
            if (!pv->source_hash || !pv->source_path) {
                st = tt_error_set(TT_ERR_NOMEM, "receipt %s: out of memory", r->origin);
                goto cleanup;
            }
        }
    }
    set_path(r, "provenance.limits");
    int cpu = 0, mem = 0;
    TT_CHECK(get_int(r, limits, "cpu_s", &cpu));
    TT_CHECK(get_int(r, limits, "mem_mb", &mem));
    if (cpu < 0 || mem < 0) {
        st = bad_field(r, cpu < 0 ? "cpu_s" : "mem_mb", "must not be negative");
        goto cleanup;
    }
    pv->cpu_seconds = (unsigned)cpu;
    pv->mem_mb = (unsigned)mem;
    r->path[0] = '\0';
cleanup:
    free(seed);
    return st;
}

/* "2026-11-26T12:04:05Z" to seconds since the epoch, without the TZ dance of mktime. */
static bool parse_utc(const char *s, time_t *out)
{
    int y, mo, d, h, mi, se;
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) != 7 || z != 'Z' ||
        strlen(s) != 20)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970)
        return false;
    /* Days from civil (Howard Hinnant's algorithm). */
    int yy = y - (mo <= 2);
    int era = yy / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = (long long)era * 146097 + doe - 719468;
    *out = (time_t)(days * 86400 + h * 3600 + mi * 60 + se);
    return true;
}

tt_status tito_receipt_parse(tito_receipt **out, const char *text, size_t len, const char *origin)
{
    *out = NULL;
    reader r = {.origin = origin ? origin : "(text)", .path = ""};
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return tt_error_set(TT_ERR_FORMAT, "receipt %s: not JSON (line %d: %s)", r.origin, jerr.line,
                            jerr.text);
    tt_status st = TT_OK;
    tito_receipt *rc = calloc(1, sizeof *rc);
    tito_grade *g = rc ? calloc(1, sizeof *g) : NULL;
    char *schema = NULL, *mode = NULL;
    if (!g) {
        st = tt_error_set(TT_ERR_NOMEM, "receipt %s: out of memory", r.origin);
        goto cleanup;
    }
    rc->grade = g;
    if (!json_is_object(root)) {
        st = bad_field(&r, "", "expected an object, got %s", type_name(root));
        goto cleanup;
    }
    TT_CHECK(get_string(&r, root, "schema", false, &schema));
    if (strcmp(schema, TITO_RECEIPT_SCHEMA) != 0) {
        st = bad_field(&r, "schema", "expected \"%s\", got \"%s\"", TITO_RECEIPT_SCHEMA, schema);
        goto cleanup;
    }
    /* Milestone receipts share the schema with "kind": "milestone" (grader/milestone.h
     * reads them); a module's receipt has no kind (or "module"). */
    json_t *kind = json_object_get(root, "kind");
    if (kind && !(json_is_string(kind) && strcmp(json_string_value(kind), "module") == 0)) {
        st = bad_field(&r, "kind", "\"%s\": not a module's receipt (a milestone receipt is read "
                                   "with tito_milestone_receipt_parse)",
                       json_is_string(kind) ? json_string_value(kind) : "?");
        goto cleanup;
    }
    TT_CHECK(get_string(&r, root, "module", false, &g->slug));
    const tito_module *m = tito_module_find(g->slug);
    if (!m || strcmp(m->slug, g->slug) != 0) {
        st = bad_field(&r, "module", "\"%s\" is not a module of this tito", g->slug);
        goto cleanup;
    }
    g->module = m->number;
    TT_CHECK(get_string(&r, root, "mode", false, &mode));
    if (strcmp(mode, "grade") != 0 && strcmp(mode, "test") != 0) {
        st = bad_field(&r, "mode", "expected \"grade\" or \"test\", got \"%s\"", mode);
        goto cleanup;
    }
    g->full = strcmp(mode, "grade") == 0;
    TT_CHECK(get_string(&r, root, "created_at", false, &rc->created_at));
    if (!parse_utc(rc->created_at, &rc->created)) {
        st = bad_field(&r, "created_at", "expected a UTC time like \"2026-11-26T12:04:05Z\", got \"%s\"",
                       rc->created_at);
        goto cleanup;
    }

    json_t *score, *build, *timings;
    TT_CHECK(get_object(&r, root, "score", &score));
    set_path(&r, "score");
    TT_CHECK(get_int(&r, score, "earned", &g->earned));
    TT_CHECK(get_int(&r, score, "possible", &g->possible));
    if (g->earned < 0 || g->possible < 0 || g->earned > g->possible) {
        st = bad_field(&r, "earned", "%d of %d points is not a score", g->earned, g->possible);
        goto cleanup;
    }
    r.path[0] = '\0';
    TT_CHECK(get_object(&r, root, "build", &build));
    set_path(&r, "build");
    TT_CHECK(get_verdict(&r, build, "status", &g->build));
    TT_CHECK(get_string(&r, build, "log", true, &g->build_log));
    r.path[0] = '\0';
    TT_CHECK(read_tests(&r, root, g));
    TT_CHECK(read_memcheck(&r, root, g));
    TT_CHECK(read_perf(&r, root, g));
    TT_CHECK(read_provenance(&r, root, g));
    TT_CHECK(get_object(&r, root, "timings", &timings));
    set_path(&r, "timings");
    TT_CHECK(get_number(&r, timings, "build_s", &g->seconds_build));
    TT_CHECK(get_number(&r, timings, "run_s", &g->seconds_run));
    TT_CHECK(get_number(&r, timings, "memcheck_s", &g->seconds_memcheck));
    TT_CHECK(get_number(&r, timings, "perf_s", &g->seconds_perf));
    *out = rc;
    rc = NULL;
cleanup:
    free(schema);
    free(mode);
    tito_receipt_free(rc);
    json_decref(root);
    return st;
}

tt_status tito_receipt_read(tito_receipt **out, const char *path)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&text, &len, path);
    if (st != TT_OK)
        return st;
    st = tito_receipt_parse(out, text, len, path);
    free(text);
    return st;
}

void tito_receipt_free(tito_receipt *receipt)
{
    if (!receipt)
        return;
    tito_grade_free(receipt->grade);
    free(receipt->created_at);
    free(receipt);
}
