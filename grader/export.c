/*
 * Exporters: Gradescope results.json (Jansson), JUnit XML (by hand) and CSV (RFC 4180).
 *
 * All three read the grade through the same public view as receipts (receipt.h), so a
 * hidden check looks the same everywhere. Text goes through tito_utf8_dup first; the
 * XML writer then escapes markup and replaces what XML 1.0 forbids (C0 controls other
 * than tab, LF and CR; U+FFFE and U+FFFF), and the CSV writer quotes.
 */
#define _POSIX_C_SOURCE 200809L

#include "export.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "memcheck.h"
#include "receipt.h"

/* ------------------------------------------------------------ a growing string */

typedef struct sbuf {
    char *data;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

static tt_status sb_finish(sbuf *b, char **out, const char *fn)
{
    if (b->failed || !b->data) {
        free(b->data);
        return tt_error_set(TT_ERR_NOMEM, "%s: out of memory", fn);
    }
    *out = b->data;
    return TT_OK;
}

/* ------------------------------------------------------------ the view of a check */

static const char *check_name(const tito_grade *g, size_t i, bool reveal, char *buf, size_t size)
{
    if (reveal) {
        snprintf(buf, size, "%s", g->cases[i].name ? g->cases[i].name : "");
        return buf;
    }
    return tito_case_public_name(g, i, buf, size);
}

static const char *check_message(const tito_grade *g, size_t i, bool reveal, char *buf, size_t size)
{
    if (reveal) {
        if (!g->cases[i].message)
            return NULL;
        snprintf(buf, size, "%s", g->cases[i].message);
        return buf;
    }
    return tito_case_public_message(g, i, buf, size);
}

static const char *finding_case(const tito_grade *g, const tito_memcheck_finding *f, bool reveal,
                                char *buf, size_t size)
{
    if (reveal)
        return f->case_name;
    return tito_finding_public_case(g, f->case_name, buf, size);
}

/* The memcheck section as lines of text ("views.transpose_free: leak: 96 bytes ..."). */
static void memcheck_text(sbuf *b, const tito_grade *g, bool reveal)
{
    const tito_memcheck_result *m = &g->memcheck;
    /* Its notes name cases: hidden ones by their public names unless revealed. */
    char *note = reveal ? m->message : tito_public_text(g, m->message);
    switch (m->status) {
    case TITO_MEMCHECK_NOT_RUN:
        sb_puts(b, "Valgrind memcheck did not run.");
        break;
    case TITO_MEMCHECK_CLEAN:
        sb_puts(b, "No leaks and no invalid memory accesses (Valgrind memcheck).");
        break;
    case TITO_MEMCHECK_ERROR:
        sb_printf(b, "Valgrind could not check this submission: %s", note ? note : "");
        break;
    case TITO_MEMCHECK_FINDINGS:
        sb_printf(b, "Valgrind memcheck found %zu problem%s:", m->n_findings, m->n_findings == 1 ? "" : "s");
        for (size_t i = 0; i < m->n_findings; i++) {
            char name[256], msg[1024];
            const char *c = finding_case(g, &m->findings[i], reveal, name, sizeof name);
            sb_printf(b, "\n  %s%s%s", c ? c : "", c ? ": " : "",
                      tito_memcheck_finding_message(&m->findings[i], msg, sizeof msg));
        }
        break;
    }
    if (m->status != TITO_MEMCHECK_ERROR && note)
        sb_printf(b, "\nNote: %s", note);
    if (note != m->message)
        free(note);
}

static void perf_text(sbuf *b, const tito_perf_result *p)
{
    if (p->verdict == TITO_PASS)
        sb_printf(b, "%s: %.2f%s (median of %d, spread +-%.0f%%)", p->metric ? p->metric : "", p->ratio,
                  p->unit ? p->unit : "", p->trials, p->spread * 100.0);
    else
        sb_printf(b, "%s: %s", p->metric ? p->metric : "", tito_verdict_name(p->verdict));
    if (p->message)
        sb_printf(b, "; %s", p->message);
}

static int correctness_earned(const tito_grade *g)
{
    int e = g->earned - g->memcheck.points;
    for (size_t i = 0; i < g->n_perf; i++)
        e -= g->perf[i].points;
    return e;
}

static int correctness_possible(const tito_grade *g)
{
    int p = g->possible - g->memcheck.max_points;
    for (size_t i = 0; i < g->n_perf; i++)
        p -= g->perf[i].max_points;
    return p;
}

/* ------------------------------------------------------------ Gradescope */

static json_t *jtext(const char *s)
{
    char *clean = tito_utf8_dup(s ? s : "");
    if (!clean)
        return NULL;
    json_t *j = json_string(clean);
    free(clean);
    return j;
}

static void jput(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, key, v) != 0)
        (*bad)++;
}

static json_t *gs_test(const char *name, const char *number, double score, double max_score,
                       bool passed, const char *output, const char *visibility, const char *tag, int *bad)
{
    json_t *t = json_object();
    if (!t) {
        (*bad)++;
        return NULL;
    }
    json_t *tags = json_array();
    if (tags && json_array_append_new(tags, jtext(tag)) != 0)
        (*bad)++;
    jput(t, "name", jtext(name), bad);
    jput(t, "number", jtext(number), bad);
    jput(t, "score", json_real(score), bad);
    jput(t, "max_score", json_real(max_score), bad);
    jput(t, "status", json_string(passed ? "passed" : "failed"), bad);
    jput(t, "output", jtext(output), bad);
    jput(t, "output_format", json_string("text"), bad);
    jput(t, "visibility", json_string(visibility), bad);
    jput(t, "tags", tags, bad);
    return t;
}

/* Each check's share of the correctness points, in hundredths. The tests of a module
 * must add up to its points (without a top-level "score", Gradescope's total is the sum
 * of the tests' scores), and rounding each share on its own could give 100.2 of 100.
 * So each check gets the floor of its exact share and the hundredths left over go one
 * each to the largest remainders (the earlier check on a tie): the shares add up to
 * exactly `points`. Integer arithmetic throughout. NULL when out of memory. */
static long long *share_hundredths(const tito_grade *g, int points)
{
    long long *h = calloc(g->n_cases ? g->n_cases : 1, sizeof *h);
    long long *rem = calloc(g->n_cases ? g->n_cases : 1, sizeof *rem);
    if (!h || !rem) {
        free(h);
        free(rem);
        return NULL;
    }
    long long total = points > 0 ? 100LL * points : 0, raw = 0;
    for (size_t i = 0; i < g->n_cases; i++)
        raw += g->cases[i].max_points > 0 ? g->cases[i].max_points : 0;
    if (raw > 0 && total > 0) {
        long long given = 0;
        for (size_t i = 0; i < g->n_cases; i++) {
            long long q = (g->cases[i].max_points > 0 ? g->cases[i].max_points : 0) * total;
            h[i] = q / raw;
            rem[i] = q % raw;
            given += h[i];
        }
        for (long long left = total - given; left > 0; left--) {
            size_t best = 0;
            for (size_t i = 1; i < g->n_cases; i++)
                if (rem[i] > rem[best])
                    best = i;
            h[best]++;
            rem[best] = -1;
        }
    }
    free(rem);
    return h;
}

tt_status tito_export_gradescope(char **out, const tito_grade *grade, const tito_export_options *options)
{
    *out = NULL;
    if (!grade || !grade->slug)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_export_gradescope: a grade with a module slug is required");
    tito_export_options defaults = TITO_EXPORT_OPTIONS_INIT;
    const tito_export_options *o = options ? options : &defaults;
    const char *hidden_vis = o->hidden_visibility ? o->hidden_visibility : "after_published";
    if (strcmp(hidden_vis, "visible") != 0 && strcmp(hidden_vis, "hidden") != 0 &&
        strcmp(hidden_vis, "after_due_date") != 0 && strcmp(hidden_vis, "after_published") != 0)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_export_gradescope: hidden_visibility \"%s\" is not one of visible, "
                            "hidden, after_due_date, after_published",
                            hidden_vis);
    const tito_grade *g = grade;
    int bad = 0;
    json_t *root = json_object(), *tests = json_array(), *board = json_array();
    if (!root || !tests || !board) {
        json_decref(root);
        json_decref(tests);
        json_decref(board);
        return tt_error_set(TT_ERR_NOMEM, "tito_export_gradescope: out of memory");
    }

    /* Case points scaled to the correctness share: the tests' max_score add up to the
     * module's points exactly, and a check passed scores its whole max_score. */
    long long *share = share_hundredths(g, correctness_possible(g));
    if (!share) {
        json_decref(root);
        json_decref(tests);
        json_decref(board);
        return tt_error_set(TT_ERR_NOMEM, "tito_export_gradescope: out of memory");
    }

    char number[64], name[256], message[4096];
    int n = 0;
    if (g->build != TITO_PASS) {
        snprintf(number, sizeof number, "%d.%d", g->module, ++n);
        sbuf b = {0};
        sb_printf(&b, "%s", tito_verdict_name(g->build));
        if (g->build_log)
            sb_printf(&b, "\n%s", g->build_log);
        json_t *t = gs_test("build", number, 0.0, 0.0, false, b.failed ? "" : (b.data ? b.data : ""),
                            "visible", "build", &bad);
        free(b.data);
        if (!t || json_array_append_new(tests, t) != 0)
            bad++;
    }
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        snprintf(number, sizeof number, "%d.%d", g->module, ++n);
        const char *msg = check_message(g, i, o->reveal_hidden, message, sizeof message);
        char status_line[4300];
        snprintf(status_line, sizeof status_line, "%s%s%s", tito_verdict_name(c->verdict), msg ? ": " : "",
                 msg ? msg : "");
        /* A check passed scores its whole share (score.c gives all of a check's points
         * or none; anything between would get its part, rounded down). */
        long long got = 0;
        if (c->max_points > 0 && c->points > 0)
            got = c->points >= c->max_points ? share[i] : share[i] * c->points / c->max_points;
        json_t *t = gs_test(check_name(g, i, o->reveal_hidden, name, sizeof name), number,
                            (double)got / 100.0, (double)share[i] / 100.0,
                            c->verdict == TITO_PASS, status_line, c->hidden ? hidden_vis : "visible",
                            c->category ? c->category : "", &bad);
        if (!t || json_array_append_new(tests, t) != 0)
            bad++;
    }
    if (g->memcheck.status != TITO_MEMCHECK_NOT_RUN || g->memcheck.max_points > 0) {
        snprintf(number, sizeof number, "%d.%d", g->module, ++n);
        sbuf b = {0};
        memcheck_text(&b, g, o->reveal_hidden);
        json_t *t = gs_test("memory safety (Valgrind memcheck)", number, g->memcheck.points,
                            g->memcheck.max_points, g->memcheck.status == TITO_MEMCHECK_CLEAN,
                            b.failed ? "" : (b.data ? b.data : ""), "visible", "memcheck", &bad);
        free(b.data);
        if (!t || json_array_append_new(tests, t) != 0)
            bad++;
    }
    for (size_t i = 0; i < g->n_perf; i++) {
        const tito_perf_result *p = &g->perf[i];
        snprintf(number, sizeof number, "%d.%d", g->module, ++n);
        snprintf(name, sizeof name, "speed: %s", p->metric ? p->metric : "");
        sbuf b = {0};
        perf_text(&b, p);
        json_t *t = gs_test(name, number, p->points, p->max_points, p->verdict == TITO_PASS && p->points == p->max_points,
                            b.failed ? "" : (b.data ? b.data : ""), "visible", "speed", &bad);
        free(b.data);
        if (!t || json_array_append_new(tests, t) != 0)
            bad++;
        if (o->leaderboard && p->verdict == TITO_PASS) {
            json_t *entry = json_object();
            if (!entry) {
                bad++;
            } else {
                char col[300];
                snprintf(col, sizeof col, "%s (%s)", p->metric ? p->metric : "", p->unit ? p->unit : "");
                jput(entry, "name", jtext(col), &bad);
                jput(entry, "value", json_real(round(p->ratio * 1e4) / 1e4), &bad);
                jput(entry, "order", json_string("desc"), &bad);
                if (json_array_append_new(board, entry) != 0)
                    bad++;
            }
        }
    }

    sbuf summary = {0};
    sb_printf(&summary, "Module %s: %d of %d points (correctness %d/%d, memory safety %d/%d", g->slug,
              g->earned, g->possible, correctness_earned(g), correctness_possible(g), g->memcheck.points,
              g->memcheck.max_points);
    int se = 0, sp = 0;
    for (size_t i = 0; i < g->n_perf; i++) {
        se += g->perf[i].points;
        sp += g->perf[i].max_points;
    }
    sb_printf(&summary, ", speed %d/%d). Seed 0x%016llx", se, sp, (unsigned long long)g->provenance.seed);
    if (g->provenance.commit)
        sb_printf(&summary, ", commit %.12s%s", g->provenance.commit, g->provenance.dirty ? " (dirty)" : "");
    sb_puts(&summary, ".");

    json_t *extra = json_object();
    if (extra) {
        char seed[32];
        snprintf(seed, sizeof seed, "0x%016llx", (unsigned long long)g->provenance.seed);
        jput(extra, "module", jtext(g->slug), &bad);
        jput(extra, "seed", json_string(seed), &bad);
        jput(extra, "commit", g->provenance.commit ? jtext(g->provenance.commit) : json_null(), &bad);
        jput(extra, "source", g->provenance.source_hash ? jtext(g->provenance.source_hash) : json_null(), &bad);
        jput(extra, "tito", g->provenance.tito_version ? jtext(g->provenance.tito_version) : json_null(), &bad);
    }
    double seconds = g->seconds_build + g->seconds_run + g->seconds_memcheck + g->seconds_perf;
    jput(root, "score", json_real(g->earned), &bad);
    jput(root, "execution_time", json_integer((json_int_t)ceil(seconds)), &bad);
    jput(root, "output", jtext(summary.failed ? "" : (summary.data ? summary.data : "")), &bad);
    jput(root, "output_format", json_string("text"), &bad);
    jput(root, "visibility", json_string("visible"), &bad);
    jput(root, "stdout_visibility", json_string("hidden"), &bad);
    jput(root, "extra_data", extra, &bad);
    jput(root, "tests", tests, &bad);
    if (o->leaderboard)
        jput(root, "leaderboard", board, &bad);
    else
        json_decref(board);
    free(summary.data);
    free(share);
    char *text = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "tito_export_gradescope: out of memory");
    /* A trailing newline: the file is also read by people. */
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        free(text);
        return tt_error_set(TT_ERR_NOMEM, "tito_export_gradescope: out of memory");
    }
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    *out = with_nl;
    return TT_OK;
}

/* ------------------------------------------------------------ XML */

char *tito_xml_escape(const char *s, bool attribute)
{
    char *clean = tito_utf8_dup(s ? s : "");
    if (!clean)
        return NULL;
    sbuf b = {0};
    sb_add(&b, "", 0);
    for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '&': sb_puts(&b, "&amp;"); continue;
        case '<': sb_puts(&b, "&lt;"); continue;
        case '>': sb_puts(&b, "&gt;"); continue;
        case '"':
            sb_puts(&b, attribute ? "&quot;" : "\"");
            continue;
        case '\'':
            sb_puts(&b, attribute ? "&apos;" : "'");
            continue;
        case '\t':
            sb_puts(&b, attribute ? "&#9;" : "\t");
            continue;
        case '\n':
            sb_puts(&b, attribute ? "&#10;" : "\n");
            continue;
        case '\r':
            sb_puts(&b, "&#13;");
            continue;
        default: break;
        }
        if (c < 0x20) {
            sb_puts(&b, "\xEF\xBF\xBD"); /* not allowed in XML 1.0, even as a reference */
            continue;
        }
        /* U+FFFE and U+FFFF (EF BF BE / EF BF BF) are not XML characters either. */
        if (c == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
            sb_puts(&b, "\xEF\xBF\xBD");
            p += 2;
            continue;
        }
        sb_add(&b, (const char *)p, 1);
    }
    free(clean);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

static void xml_attr(sbuf *b, const char *name, const char *value)
{
    char *v = tito_xml_escape(value, true);
    if (!v) {
        b->failed = true;
        return;
    }
    sb_printf(b, " %s=\"%s\"", name, v);
    free(v);
}

static void xml_text(sbuf *b, const char *value)
{
    char *v = tito_xml_escape(value, false);
    if (!v) {
        b->failed = true;
        return;
    }
    sb_puts(b, v);
    free(v);
}

typedef enum junit_kind { JUNIT_PASS, JUNIT_FAILURE, JUNIT_ERROR, JUNIT_SKIPPED } junit_kind;

static junit_kind junit_kind_of(tito_verdict v)
{
    switch (v) {
    case TITO_PASS: return JUNIT_PASS;
    case TITO_FAIL:
    case TITO_LEAK:
    case TITO_MEMORY_ERROR: return JUNIT_FAILURE;
    case TITO_SKIPPED: return JUNIT_SKIPPED;
    default: return JUNIT_ERROR;
    }
}

/* The first line of a message, for the `message` attribute. */
static void first_line(const char *s, char *buf, size_t size)
{
    size_t n = strcspn(s, "\r\n");
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

static void junit_case(sbuf *b, const char *classname, const char *name, junit_kind kind,
                       const char *type, const char *message, const char *out_text)
{
    sb_puts(b, "    <testcase");
    xml_attr(b, "classname", classname);
    xml_attr(b, "name", name);
    sb_puts(b, " time=\"0\"");
    if (kind == JUNIT_PASS && !out_text) {
        sb_puts(b, "/>\n");
        return;
    }
    sb_puts(b, ">\n");
    if (kind != JUNIT_PASS) {
        const char *tag = kind == JUNIT_FAILURE ? "failure" : kind == JUNIT_ERROR ? "error" : "skipped";
        char line[512];
        first_line(message ? message : type, line, sizeof line);
        sb_printf(b, "      <%s", tag);
        xml_attr(b, "message", line);
        if (kind != JUNIT_SKIPPED)
            xml_attr(b, "type", type);
        if (message && kind != JUNIT_SKIPPED) {
            sb_puts(b, ">");
            xml_text(b, message);
            sb_printf(b, "</%s>\n", tag);
        } else {
            sb_puts(b, "/>\n");
        }
    }
    if (out_text) {
        sb_puts(b, "      <system-out>");
        xml_text(b, out_text);
        sb_puts(b, "</system-out>\n");
    }
    sb_puts(b, "    </testcase>\n");
}

static void junit_counts(const tito_grade *g, int *tests, int *failures, int *errors, int *skipped)
{
    *tests = *failures = *errors = *skipped = 0;
    if (g->build != TITO_PASS) {
        (*tests)++;
        (*errors)++;
    }
    for (size_t i = 0; i < g->n_cases; i++) {
        (*tests)++;
        switch (junit_kind_of(g->cases[i].verdict)) {
        case JUNIT_FAILURE: (*failures)++; break;
        case JUNIT_ERROR: (*errors)++; break;
        case JUNIT_SKIPPED: (*skipped)++; break;
        case JUNIT_PASS: break;
        }
    }
    if (g->memcheck.status != TITO_MEMCHECK_NOT_RUN) {
        (*tests)++;
        if (g->memcheck.status == TITO_MEMCHECK_FINDINGS)
            (*failures)++;
        else if (g->memcheck.status == TITO_MEMCHECK_ERROR)
            (*skipped)++;
    }
    for (size_t i = 0; i < g->n_perf; i++) {
        (*tests)++;
        switch (junit_kind_of(g->perf[i].verdict)) {
        case JUNIT_FAILURE: (*failures)++; break;
        case JUNIT_ERROR: (*errors)++; break;
        case JUNIT_SKIPPED: (*skipped)++; break;
        case JUNIT_PASS: break;
        }
    }
}

tt_status tito_export_junit(char **out, const tito_grade *const *grades, size_t n_grades,
                            const tito_export_options *options)
{
    *out = NULL;
    if (!grades && n_grades)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_export_junit: no grades given");
    for (size_t k = 0; k < n_grades; k++) {
        if (!grades[k] || !grades[k]->slug)
            return tt_error_set(TT_ERR_INVALID_ARG, "tito_export_junit: grade %zu has no module slug", k);
    }
    tito_export_options defaults = TITO_EXPORT_OPTIONS_INIT;
    const tito_export_options *o = options ? options : &defaults;
    sbuf b = {0};
    int all_tests = 0, all_failures = 0, all_errors = 0, all_skipped = 0;
    double all_time = 0.0;
    for (size_t k = 0; k < n_grades; k++) {
        int t, f, e, s;
        junit_counts(grades[k], &t, &f, &e, &s);
        all_tests += t;
        all_failures += f;
        all_errors += e;
        all_skipped += s;
        const tito_grade *g = grades[k];
        all_time += g->seconds_build + g->seconds_run + g->seconds_memcheck + g->seconds_perf;
    }
    sb_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb_printf(&b, "<testsuites name=\"tito\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
              all_tests, all_failures, all_errors, all_skipped, all_time);
    for (size_t k = 0; k < n_grades; k++) {
        const tito_grade *g = grades[k];
        int t, f, e, s;
        junit_counts(g, &t, &f, &e, &s);
        double seconds = g->seconds_build + g->seconds_run + g->seconds_memcheck + g->seconds_perf;
        sb_puts(&b, "  <testsuite");
        xml_attr(&b, "name", g->slug);
        sb_printf(&b, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n", t, f, e, s,
                  seconds);
        char value[128];
        sb_puts(&b, "    <properties>\n");
        snprintf(value, sizeof value, "%d/%d", g->earned, g->possible);
        sb_puts(&b, "      <property name=\"score\"");
        xml_attr(&b, "value", value);
        sb_puts(&b, "/>\n");
        snprintf(value, sizeof value, "0x%016llx", (unsigned long long)g->provenance.seed);
        sb_puts(&b, "      <property name=\"seed\"");
        xml_attr(&b, "value", value);
        sb_puts(&b, "/>\n");
        if (g->provenance.commit) {
            sb_puts(&b, "      <property name=\"commit\"");
            xml_attr(&b, "value", g->provenance.commit);
            sb_puts(&b, "/>\n");
        }
        sb_puts(&b, "    </properties>\n");

        char classname[300], name[256], message[4096];
        if (g->build != TITO_PASS) {
            snprintf(classname, sizeof classname, "%s.build", g->slug);
            junit_case(&b, classname, "build", JUNIT_ERROR, tito_verdict_name(g->build),
                       g->build_log ? g->build_log : tito_verdict_name(g->build), NULL);
        }
        for (size_t i = 0; i < g->n_cases; i++) {
            const tito_case_result *c = &g->cases[i];
            snprintf(classname, sizeof classname, "%s.%s", g->slug, c->category ? c->category : "");
            const char *msg = check_message(g, i, o->reveal_hidden, message, sizeof message);
            junit_case(&b, classname, check_name(g, i, o->reveal_hidden, name, sizeof name),
                       junit_kind_of(c->verdict), tito_verdict_name(c->verdict),
                       msg ? msg : tito_verdict_name(c->verdict), NULL);
        }
        if (g->memcheck.status != TITO_MEMCHECK_NOT_RUN) {
            snprintf(classname, sizeof classname, "%s.memcheck", g->slug);
            sbuf m = {0};
            memcheck_text(&m, g, o->reveal_hidden);
            junit_kind kind = g->memcheck.status == TITO_MEMCHECK_FINDINGS ? JUNIT_FAILURE
                              : g->memcheck.status == TITO_MEMCHECK_ERROR  ? JUNIT_SKIPPED
                                                                           : JUNIT_PASS;
            const char *text = m.failed ? "" : (m.data ? m.data : "");
            junit_case(&b, classname, "valgrind", kind,
                       kind == JUNIT_FAILURE ? "memcheck" : tito_memcheck_status_name(g->memcheck.status),
                       kind == JUNIT_PASS ? NULL : text, kind == JUNIT_PASS ? text : NULL);
            if (m.failed)
                b.failed = true;
            free(m.data);
        }
        for (size_t i = 0; i < g->n_perf; i++) {
            const tito_perf_result *p = &g->perf[i];
            snprintf(classname, sizeof classname, "%s.speed", g->slug);
            sbuf m = {0};
            perf_text(&m, p);
            junit_kind kind = junit_kind_of(p->verdict);
            const char *text = m.failed ? "" : (m.data ? m.data : "");
            junit_case(&b, classname, p->metric ? p->metric : "", kind, tito_verdict_name(p->verdict),
                       kind == JUNIT_PASS ? NULL : text, kind == JUNIT_PASS ? text : NULL);
            if (m.failed)
                b.failed = true;
            free(m.data);
        }
        sb_puts(&b, "  </testsuite>\n");
    }
    sb_puts(&b, "</testsuites>\n");
    return sb_finish(&b, out, "tito_export_junit");
}

/* ------------------------------------------------------------ CSV */

char *tito_csv_field(const char *s)
{
    char *clean = tito_utf8_dup(s ? s : "");
    if (!clean)
        return NULL;
    if (!strpbrk(clean, ",\"\r\n"))
        return clean;
    sbuf b = {0};
    sb_puts(&b, "\"");
    for (const char *p = clean; *p; p++) {
        if (*p == '"')
            sb_puts(&b, "\"\"");
        else
            sb_add(&b, p, 1);
    }
    sb_puts(&b, "\"");
    free(clean);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

static void csv_put(sbuf *b, const char *field, bool first)
{
    char *f = tito_csv_field(field);
    if (!f) {
        b->failed = true;
        return;
    }
    if (!first)
        sb_puts(b, ",");
    sb_puts(b, f);
    free(f);
}

static void csv_int(sbuf *b, long v)
{
    sb_printf(b, ",%ld", v);
}

tt_status tito_export_csv_header(char **out)
{
    *out = NULL;
    sbuf b = {0};
    sb_puts(&b, "student,module,mode,earned,possible,percent,build,checks_passed,checks_total,"
                "hidden_passed,hidden_total,memcheck,memcheck_points,speed_ratio,speed_points,seed,"
                "commit,dirty\r\n");
    return sb_finish(&b, out, "tito_export_csv_header");
}

tt_status tito_export_csv_row(char **out, const tito_grade *grade, const tito_export_options *options)
{
    *out = NULL;
    if (!grade || !grade->slug)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_export_csv_row: a grade with a module slug is required");
    const tito_grade *g = grade;
    sbuf b = {0};
    int passed = 0, hidden_passed = 0, hidden_total = 0, speed_points = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        bool ok = g->cases[i].verdict == TITO_PASS;
        passed += ok;
        if (g->cases[i].hidden) {
            hidden_total++;
            hidden_passed += ok;
        }
    }
    for (size_t i = 0; i < g->n_perf; i++)
        speed_points += g->perf[i].points;
    csv_put(&b, options && options->student ? options->student : "", true);
    csv_put(&b, g->slug, false);
    csv_put(&b, g->full ? "grade" : "test", false);
    csv_int(&b, g->earned);
    csv_int(&b, g->possible);
    sb_printf(&b, ",%.1f", g->possible > 0 ? 100.0 * g->earned / g->possible : 0.0);
    csv_put(&b, tito_verdict_name(g->build), false);
    csv_int(&b, passed);
    csv_int(&b, (long)g->n_cases);
    csv_int(&b, hidden_passed);
    csv_int(&b, hidden_total);
    csv_put(&b, tito_memcheck_status_name(g->memcheck.status), false);
    csv_int(&b, g->memcheck.points);
    if (g->n_perf > 0 && g->perf[0].verdict == TITO_PASS)
        sb_printf(&b, ",%.4f", g->perf[0].ratio);
    else
        sb_puts(&b, ",");
    csv_int(&b, speed_points);
    sb_printf(&b, ",0x%016llx", (unsigned long long)g->provenance.seed);
    csv_put(&b, g->provenance.commit ? g->provenance.commit : "", false);
    sb_puts(&b, g->provenance.dirty ? ",true\r\n" : ",false\r\n");
    return sb_finish(&b, out, "tito_export_csv_row");
}

tt_status tito_export_csv_checks(char **out, const tito_grade *grade, const tito_export_options *options,
                                 bool header)
{
    *out = NULL;
    if (!grade || !grade->slug)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_export_csv_checks: a grade with a module slug is required");
    tito_export_options defaults = TITO_EXPORT_OPTIONS_INIT;
    const tito_export_options *o = options ? options : &defaults;
    const tito_grade *g = grade;
    sbuf b = {0};
    sb_add(&b, "", 0);
    if (header)
        sb_puts(&b, "student,module,check,category,visibility,status,points,max_points,message\r\n");
    char name[256], message[4096];
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        const char *msg = check_message(g, i, o->reveal_hidden, message, sizeof message);
        csv_put(&b, o->student ? o->student : "", true);
        csv_put(&b, g->slug, false);
        csv_put(&b, check_name(g, i, o->reveal_hidden, name, sizeof name), false);
        csv_put(&b, c->category ? c->category : "", false);
        csv_put(&b, c->hidden ? "hidden" : "visible", false);
        csv_put(&b, tito_verdict_name(c->verdict), false);
        csv_int(&b, c->points);
        csv_int(&b, c->max_points);
        csv_put(&b, msg ? msg : "", false);
        sb_puts(&b, "\r\n");
    }
    return sb_finish(&b, out, "tito_export_csv_checks");
}
