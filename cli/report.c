/*
 * The report of a grade as people read it, and the progress bar of a long grade
 * (report.h). Everything here prints from a tito_grade alone; hidden checks go through
 * the receipt's public view, so no rendering can name one.
 */
#define _POSIX_C_SOURCE 200809L

#include "report.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memcheck.h"
#include "modules.h"
#include "receipt.h"
#include "term.h"

/* The column where points are printed in the score lines. */
#define POINTS_COLUMN 84
/* Failing visible checks shown with their messages; the rest are counted. */
#define MAX_FAILING_SHOWN 10

static const char *sgr(FILE *f, tito_style s)
{
    return tito_sgr(f, s);
}

/* ------------------------------------------------------------ small helpers */

/* The distinct categories of the cases with hidden == `hidden`, in order. */
static size_t categories_of(const tito_grade *g, bool hidden, const char **cats, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        if (g->cases[i].hidden != hidden || !g->cases[i].category)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(cats[k], g->cases[i].category) == 0;
        if (!seen && n < max)
            cats[n++] = g->cases[i].category;
    }
    return n;
}

static void count_category(const tito_grade *g, bool hidden, const char *cat, size_t *total,
                           size_t *passing)
{
    *total = *passing = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        if (c->hidden != hidden || !c->category || strcmp(c->category, cat) != 0)
            continue;
        (*total)++;
        *passing += c->verdict == TITO_PASS;
    }
}

/* `text` line by line, the first line after `first` (already printed) and the others
 * indented by `indent` columns. */
static void print_lines(FILE *f, const char *text, int indent)
{
    bool first = true;
    while (text && *text) {
        size_t n = strcspn(text, "\n");
        if (!first)
            fprintf(f, "%*s", indent, "");
        fprintf(f, "%.*s\n", (int)n, text);
        first = false;
        text += n;
        if (*text == '\n')
            text++;
    }
    if (first)
        fputc('\n', f);
}

/* Display width of UTF-8 text: one column per code point (enough for what tito prints). */
static int columns(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A score line: a label, a text, and the points at POINTS_COLUMN. */
static void score_line(FILE *f, const char *label, const char *text, const char *points)
{
    char left[512];
    snprintf(left, sizeof left, "  %-13s %s", label, text);
    int pad = POINTS_COLUMN - columns(left);
    fprintf(f, "%s%*s  %s\n", left, pad > 0 ? pad : 0, "", points);
}

static void points_text(char *buf, size_t size, int earned, int possible)
{
    if (possible <= 0)
        snprintf(buf, size, "—");
    else
        snprintf(buf, size, "%d/%d", earned, possible);
}

void tito_report_correctness(const tito_grade *g, int *earned, int *possible)
{
    int e = g->earned - g->memcheck.points, p = g->possible - g->memcheck.max_points;
    for (size_t i = 0; i < g->n_perf; i++) {
        e -= g->perf[i].points;
        p -= g->perf[i].max_points;
    }
    *earned = e;
    *possible = p;
}

/* ------------------------------------------------------------ the parts */

static void print_header(FILE *f, const tito_grade *g, const tito_report_options *o)
{
    const tito_module *m = tito_module_find(g->slug);
    char left[256];
    if (m)
        snprintf(left, sizeof left, "Module %02d · %s", m->number, m->name);
    else
        snprintf(left, sizeof left, "Module %s", g->slug);
    char sub[300] = "";
    if (o->subtitle)
        snprintf(sub, sizeof sub, " — %s", o->subtitle);
    char right[160];
    int w = snprintf(right, sizeof right, "seed 0x%016llx", (unsigned long long)g->provenance.seed);
    if (o->commit && w > 0 && (size_t)w < sizeof right) {
        if (g->provenance.commit)
            snprintf(right + w, sizeof right - (size_t)w, "  commit %.7s (%s)", g->provenance.commit,
                     g->provenance.dirty ? "uncommitted changes" : "clean");
        else
            snprintf(right + w, sizeof right - (size_t)w, "  (no commit)");
    }
    int pad = POINTS_COLUMN + 6 - columns(left) - columns(sub) - columns(right);
    fprintf(f, "%s%s%s%s%*s  %s%s%s\n", sgr(f, TITO_STYLE_BOLD), left, sgr(f, TITO_STYLE_RESET), sub,
            pad > 0 ? pad : 0, "", sgr(f, TITO_STYLE_DIM), right, sgr(f, TITO_STYLE_RESET));
}

static void print_build(FILE *f, const tito_grade *g, const tito_report_options *o)
{
    const tito_module *m = tito_module_find(g->slug);
    char what[64];
    if (m)
        snprintf(what, sizeof what, "module %02d", m->number);
    else
        snprintf(what, sizeof what, "%s", g->slug);
    if (g->build == TITO_PASS) {
        fprintf(f, "Building %s against the reference … %sok%s (%.1f s)\n", what,
                sgr(f, TITO_STYLE_GREEN), sgr(f, TITO_STYLE_RESET), g->seconds_build);
        if (g->build_log && o->full_log) {
            fprintf(f, "  %scompiler messages:%s\n    ", sgr(f, TITO_STYLE_DIM), sgr(f, TITO_STYLE_RESET));
            print_lines(f, g->build_log, 4);
        } else if (g->build_log) {
            fprintf(f, "  %s(the compiler has warnings: `-v` shows them)%s\n", sgr(f, TITO_STYLE_DIM),
                    sgr(f, TITO_STYLE_RESET));
        }
        return;
    }
    fprintf(f, "Building %s against the reference … %s%s%s\n", what, sgr(f, TITO_STYLE_RED),
            tito_verdict_name(g->build), sgr(f, TITO_STYLE_RESET));
    /* The log is the summary, a blank line, then the tool's whole output. */
    const char *log = g->build_log ? g->build_log : "";
    const char *gap = strstr(log, "\n\n");
    int len = gap && !o->full_log ? (int)(gap - log) : (int)strlen(log);
    char *summary = malloc((size_t)len + 1);
    if (summary) {
        memcpy(summary, log, (size_t)len);
        summary[len] = '\0';
        fputs("    ", f);
        print_lines(f, summary, 4);
        free(summary);
    }
    fprintf(f, "  %sEvery check needs the module to build: %zu check%s not run.%s\n",
            sgr(f, TITO_STYLE_DIM), g->n_cases, g->n_cases == 1 ? "" : "s", sgr(f, TITO_STYLE_RESET));
}

/* A failing case's message, prefixed with its verdict when "fail" is not all it says. */
static void print_failing_case(FILE *f, const tito_grade *g, size_t i, int name_width)
{
    const tito_case_result *c = &g->cases[i];
    char prefix[64] = "";
    const char *vname = tito_verdict_name(c->verdict);
    if (c->verdict != TITO_FAIL && (!c->message || strncmp(c->message, vname, strlen(vname)) != 0))
        snprintf(prefix, sizeof prefix, "%s: ", vname);
    fprintf(f, "  %s✗%s %-*s  %s%s%s", sgr(f, TITO_STYLE_RED), sgr(f, TITO_STYLE_RESET), name_width,
            c->name, sgr(f, TITO_STYLE_RED), prefix, sgr(f, TITO_STYLE_RESET));
    print_lines(f, c->message ? c->message : "(no message)", name_width + 6);
}

/* Passing categories collapsed, failing checks one by one. */
static void print_visible_collapsed(FILE *f, const tito_grade *g)
{
    const char *cats[128];
    size_t n_cats = categories_of(g, false, cats, 128);
    int line = 0;
    bool any = false;
    for (size_t k = 0; k < n_cats; k++) {
        size_t total, passing;
        count_category(g, false, cats[k], &total, &passing);
        if (passing != total)
            continue;
        char item[160];
        snprintf(item, sizeof item, "✓ %s (%zu)", cats[k], total);
        int w = columns(item) + 2;
        if (line > 0 && line + w > POINTS_COLUMN + 6) {
            fputc('\n', f);
            line = 0;
        }
        fprintf(f, "%s%s%s%s", line == 0 ? "  " : "  ", sgr(f, TITO_STYLE_GREEN), item,
                sgr(f, TITO_STYLE_RESET));
        line += w;
        any = true;
    }
    if (any)
        fputc('\n', f);

    int width = 24;
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        if (!c->hidden && c->verdict != TITO_PASS && (int)strlen(c->name) > width)
            width = (int)strlen(c->name);
    }
    if (width > 34)
        width = 34;
    size_t shown = 0, failing = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        if (c->hidden || c->verdict == TITO_PASS)
            continue;
        failing++;
        if (shown < MAX_FAILING_SHOWN) {
            print_failing_case(f, g, i, width);
            shown++;
        }
    }
    if (failing > shown)
        fprintf(f, "  %s… and %zu more failing check%s (`-v` shows every one; `-k PATTERN` "
                   "picks some)%s\n",
                sgr(f, TITO_STYLE_DIM), failing - shown, failing - shown == 1 ? "" : "s",
                sgr(f, TITO_STYLE_RESET));
}

/* Every visible check with its points, grouped by category (the course author's view). */
static void print_visible_every(FILE *f, const tito_grade *g)
{
    const char *cats[128];
    size_t n_cats = categories_of(g, false, cats, 128);
    for (size_t k = 0; k < n_cats; k++) {
        fprintf(f, "\n%s%s%s\n", sgr(f, TITO_STYLE_BOLD), cats[k], sgr(f, TITO_STYLE_RESET));
        for (size_t i = 0; i < g->n_cases; i++) {
            const tito_case_result *r = &g->cases[i];
            if (r->hidden || strcmp(r->category, cats[k]) != 0)
                continue;
            bool pass = r->verdict == TITO_PASS;
            fprintf(f, "  %s%s%s %-34s %d/%d", sgr(f, pass ? TITO_STYLE_GREEN : TITO_STYLE_RED),
                    pass ? "✓" : "✗", sgr(f, TITO_STYLE_RESET), r->name, r->points, r->max_points);
            if (!pass)
                fprintf(f, "  %s%s%s", sgr(f, TITO_STYLE_RED), tito_verdict_name(r->verdict),
                        sgr(f, TITO_STYLE_RESET));
            fputc('\n', f);
            if (!pass && g->build == TITO_PASS && r->message) {
                fputs("      ", f);
                print_lines(f, r->message, 6);
            }
        }
    }
}

/* Hidden checks by category: "hidden: ✓ matmul (3)  ✗ reductions (1 of 3 failing: timeout)". */
static void print_hidden(FILE *f, const tito_grade *g, bool every)
{
    const char *cats[128];
    size_t n_cats = categories_of(g, true, cats, 128);
    if (n_cats == 0)
        return;
    if (every) {
        fprintf(f, "\n%shidden checks%s %s(category and verdict only)%s\n", sgr(f, TITO_STYLE_BOLD),
                sgr(f, TITO_STYLE_RESET), sgr(f, TITO_STYLE_DIM), sgr(f, TITO_STYLE_RESET));
        for (size_t i = 0; i < g->n_cases; i++) {
            const tito_case_result *r = &g->cases[i];
            if (!r->hidden)
                continue;
            bool pass = r->verdict == TITO_PASS;
            fprintf(f, "  %s%s%s %-34s %s\n", sgr(f, pass ? TITO_STYLE_GREEN : TITO_STYLE_RED),
                    pass ? "✓" : "✗", sgr(f, TITO_STYLE_RESET), r->category, tito_verdict_name(r->verdict));
        }
        return;
    }
    int line = 0;
    fputs("  hidden:", f);
    line = 9;
    bool first = true;
    for (size_t k = 0; k < n_cats; k++) {
        size_t total, passing;
        count_category(g, true, cats[k], &total, &passing);
        char item[256];
        if (passing == total) {
            snprintf(item, sizeof item, "✓ %s (%zu)", cats[k], total);
        } else {
            /* The verdicts of the failing ones, each named once. */
            char verdicts[128] = "";
            size_t vl = 0;
            for (size_t i = 0; i < g->n_cases; i++) {
                const tito_case_result *c = &g->cases[i];
                if (!c->hidden || c->verdict == TITO_PASS || strcmp(c->category, cats[k]) != 0)
                    continue;
                const char *v = tito_verdict_name(c->verdict);
                if (strstr(verdicts, v))
                    continue;
                int w = snprintf(verdicts + vl, sizeof verdicts - vl, "%s%s", vl ? ", " : "", v);
                if (w > 0 && (size_t)w < sizeof verdicts - vl)
                    vl += (size_t)w;
            }
            snprintf(item, sizeof item, "✗ %s (%zu of %zu failing: %s)", cats[k], total - passing,
                     total, verdicts);
        }
        int w = columns(item) + 2;
        if (line + w > POINTS_COLUMN + 6) {
            fputs("\n         ", f);
            line = 9;
            first = true;
        }
        fprintf(f, "%s%s%s%s", first ? " " : "  ",
                sgr(f, passing == total ? TITO_STYLE_GREEN : TITO_STYLE_RED), item,
                sgr(f, TITO_STYLE_RESET));
        line += w;
        first = false;
    }
    fputc('\n', f);
}

static void print_scores(FILE *f, const tito_grade *g, const tito_report_options *o)
{
    size_t visible = 0, visible_pass = 0, hidden = 0, hidden_pass = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        if (g->cases[i].hidden) {
            hidden++;
            hidden_pass += g->cases[i].verdict == TITO_PASS;
        } else {
            visible++;
            visible_pass += g->cases[i].verdict == TITO_PASS;
        }
    }
    char text[512], pts[32];
    int ce, cp;
    tito_report_correctness(g, &ce, &cp);
    int n = snprintf(text, sizeof text, "visible %zu/%zu", visible_pass, visible);
    if (hidden > 0 && n > 0) {
        n += snprintf(text + n, sizeof text - (size_t)n, "   hidden %zu/%zu", hidden_pass, hidden);
        if (hidden_pass < hidden) {
            /* "(2 failing: reductions ×1, matmul ×1)" */
            const char *cats[128];
            size_t n_cats = categories_of(g, true, cats, 128);
            n += snprintf(text + n, sizeof text - (size_t)n, " (%zu failing:", hidden - hidden_pass);
            bool first = true;
            for (size_t k = 0; k < n_cats && n > 0 && (size_t)n < sizeof text; k++) {
                size_t total, passing;
                count_category(g, true, cats[k], &total, &passing);
                if (passing == total)
                    continue;
                n += snprintf(text + n, sizeof text - (size_t)n, "%s %s ×%zu", first ? "" : ",", cats[k],
                              total - passing);
                first = false;
            }
            if (n > 0 && (size_t)n < sizeof text)
                snprintf(text + n, sizeof text - (size_t)n, ")");
        }
    }
    points_text(pts, sizeof pts, ce, cp);
    score_line(f, "correctness", text, pts);

    /* Memory. */
    const tito_memcheck_result *mc = &g->memcheck;
    points_text(pts, sizeof pts, mc->points, mc->max_points);
    switch (mc->status) {
    case TITO_MEMCHECK_NOT_RUN:
        score_line(f, "memory", g->build != TITO_PASS ? "not checked: the module did not build"
                                                      : "not checked (--no-memcheck)",
                   pts);
        break;
    case TITO_MEMCHECK_CLEAN:
        score_line(f, "memory", "no leaks, no invalid accesses (Valgrind)", pts);
        break;
    case TITO_MEMCHECK_ERROR: {
        char *note = tito_public_text(g, mc->message);
        snprintf(text, sizeof text, "not checked: %s", note ? note : "Valgrind failed");
        free(note);
        score_line(f, "memory", text, pts);
        break;
    }
    case TITO_MEMCHECK_FINDINGS: {
        size_t leaks = 0, errors = 0;
        for (size_t i = 0; i < mc->n_findings; i++) {
            if (mc->findings[i].kind == TITO_LEAK)
                leaks++;
            else
                errors++;
        }
        char leak_text[64] = "", error_text[96] = "";
        if (leaks)
            snprintf(leak_text, sizeof leak_text, "%zu leak%s", leaks, leaks == 1 ? "" : "s");
        if (errors)
            snprintf(error_text, sizeof error_text, "%zu memory error%s (invalid access, crash, "
                                                    "bad free...)",
                     errors, errors == 1 ? "" : "s");
        snprintf(text, sizeof text, "%s%s%s (Valgrind)", leak_text, leaks && errors ? ", " : "",
                 error_text);
        score_line(f, "memory", text, pts);
        for (size_t i = 0; i < mc->n_findings && i < 8; i++) {
            char msg[1024], cname[256];
            tito_memcheck_finding_message(&mc->findings[i], msg, sizeof msg);
            const char *cn = tito_finding_public_case(g, mc->findings[i].case_name, cname, sizeof cname);
            fprintf(f, "                  %s✗%s %s", sgr(f, TITO_STYLE_RED), sgr(f, TITO_STYLE_RESET), msg);
            if (cn)
                fprintf(f, "  %s(in %s)%s", sgr(f, TITO_STYLE_DIM), cn, sgr(f, TITO_STYLE_RESET));
            fputc('\n', f);
        }
        if (mc->n_findings > 8)
            fprintf(f, "                  … and %zu more (the receipt lists them all)\n", mc->n_findings - 8);
        break;
    }
    }

    /* Speed. */
    if (g->n_perf == 0) {
        score_line(f, "speed", "not measured (no speed kernel, or --no-speed)", "—");
    }
    for (size_t k = 0; k < g->n_perf; k++) {
        const tito_perf_result *p = &g->perf[k];
        points_text(pts, sizeof pts, p->points, p->max_points);
        if (p->verdict == TITO_PASS) {
            int w;
            if (p->deterministic)
                w = snprintf(text, sizeof text, "%s: %.2f× reference (instruction counts)", p->metric, p->ratio);
            else
                w = snprintf(text, sizeof text, "%s: %.2f× reference (median of %d, ±%.0f%%)", p->metric,
                             p->ratio, p->trials, p->spread * 100.0);
            /* The band reached, from the course. */
            const tito_course_module *cm = o->course_module;
            double band = -1.0;
            for (size_t b = 0; cm && b < cm->n_bands; b++)
                if (p->ratio >= cm->bands[b].min_ratio && cm->bands[b].min_ratio > band)
                    band = cm->bands[b].min_ratio;
            if (w > 0 && (size_t)w < sizeof text && cm && cm->n_bands > 0) {
                if (band >= 0)
                    snprintf(text + w, sizeof text - (size_t)w, ", band ≥%g×", band);
                else
                    snprintf(text + w, sizeof text - (size_t)w, ", below every band (lowest ≥%g×)",
                             cm->bands[cm->n_bands - 1].min_ratio);
            }
        } else {
            snprintf(text, sizeof text, "%s: %s", p->metric, tito_verdict_name(p->verdict));
        }
        score_line(f, k == 0 ? "speed" : "", text, pts);
        /* Why points were withheld, or why it failed (the message says). */
        if (p->message && (p->verdict != TITO_PASS || p->points < p->max_points)) {
            fprintf(f, "                %s", sgr(f, TITO_STYLE_DIM));
            print_lines(f, p->message, 16);
            fputs(sgr(f, TITO_STYLE_RESET), f);
        }
    }
    points_text(pts, sizeof pts, g->earned, g->possible);
    char total[64];
    snprintf(total, sizeof total, "%s%s%s", sgr(f, TITO_STYLE_BOLD), pts, sgr(f, TITO_STYLE_RESET));
    score_line(f, "total", "", total);
}

/* ------------------------------------------------------------ public */

void tito_report_print(FILE *f, const tito_grade *g, const tito_report_options *o)
{
    tito_report_options defaults = {0};
    if (!o)
        o = &defaults;
    print_header(f, g, o);
    print_build(f, g, o);
    if (g->build == TITO_PASS) {
        if (o->every_check)
            print_visible_every(f, g);
        else
            print_visible_collapsed(f, g);
        print_hidden(f, g, o->every_check);
    }
    if (g->full) {
        if (o->every_check)
            fputc('\n', f);
        print_scores(f, g, o);
    }
}

void tito_report_counts(FILE *f, const tito_grade *g, const char *filter)
{
    size_t visible = 0, visible_pass = 0, hidden = 0, hidden_pass = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        if (g->cases[i].hidden) {
            hidden++;
            hidden_pass += g->cases[i].verdict == TITO_PASS;
        } else {
            visible++;
            visible_pass += g->cases[i].verdict == TITO_PASS;
        }
    }
    fprintf(f, "%s%zu of %zu visible checks %s%s%spass%s",
            sgr(f, visible_pass == visible ? TITO_STYLE_GREEN : TITO_STYLE_RED), visible_pass,
            visible, filter ? "matching '" : "", filter ? filter : "", filter ? "' " : "",
            sgr(f, TITO_STYLE_RESET));
    if (hidden > 0)
        fprintf(f, "; %s%zu of %zu hidden checks pass%s", sgr(f, hidden_pass == hidden ? TITO_STYLE_GREEN : TITO_STYLE_RED),
                hidden_pass, hidden, sgr(f, TITO_STYLE_RESET));
    /* Points scaled to a few checks would read as a grade: none are shown. */
    if (filter)
        fprintf(f, " (points come from a run of every check)");
    else
        fprintf(f, " (%d of %d points)", g->earned, g->possible);
}

bool tito_report_all_pass(const tito_grade *g)
{
    if (g->build != TITO_PASS)
        return false;
    for (size_t i = 0; i < g->n_cases; i++)
        if (g->cases[i].verdict != TITO_PASS)
            return false;
    if (g->memcheck.status == TITO_MEMCHECK_FINDINGS)
        return false;
    for (size_t i = 0; i < g->n_perf; i++)
        if (g->perf[i].verdict != TITO_PASS && g->perf[i].verdict != TITO_SKIPPED)
            return false;
    return true;
}

const char *tito_report_first_failing(const tito_grade *g, char *pattern, size_t size)
{
    if (size)
        pattern[0] = '\0';
    const char *cat = NULL;
    for (int pass = 0; pass < 2 && !cat; pass++) {
        for (size_t i = 0; i < g->n_cases && !cat; i++) {
            const tito_case_result *c = &g->cases[i];
            if (c->hidden == (pass == 0) || c->verdict == TITO_PASS)
                continue;
            cat = c->category;
        }
    }
    if (!cat || size == 0)
        return cat;
    /* The common prefix, up to a '.', of the category's visible failing checks. */
    const char *first = NULL;
    size_t common = 0;
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        if (c->hidden || c->verdict == TITO_PASS || strcmp(c->category, cat) != 0)
            continue;
        if (!first) {
            first = c->name;
            common = strlen(first);
            continue;
        }
        size_t k = 0;
        while (k < common && c->name[k] == first[k])
            k++;
        common = k;
    }
    if (!first)
        return cat;
    size_t dot = common;
    while (dot > 0 && first[dot - 1] != '.')
        dot--;
    if (dot > 0)
        snprintf(pattern, size, "%.*s", (int)dot, first);
    else
        snprintf(pattern, size, "%s", first);
    return cat;
}

/* ------------------------------------------------------------ progress bar */

#define BAR_WIDTH 20
#define BAR_DELAY 1.5   /* seconds before anything is drawn */
#define BAR_TICK_NS 200000000L

typedef struct bar_step {
    char name[32];
    char label[64];
    double expected;
    double started, ended; /* 0 when not yet */
    int active;            /* starts minus ends (a step may run in two threads) */
} bar_step;

struct tito_progress_bar {
    FILE *f;
    char title[128];
    bar_step steps[8];
    size_t n;
    double t0;
    bool drawn, stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Draw the bar (lock held). */
static void bar_draw(tito_progress_bar *b)
{
    double now = now_seconds(), total = 0.0, done = 0.0;
    const char *label = NULL;
    for (size_t i = 0; i < b->n; i++) {
        bar_step *s = &b->steps[i];
        total += s->expected;
        if (s->ended > 0 && s->active == 0) {
            done += s->expected;
        } else if (s->started > 0) {
            double run = now - s->started;
            done += run < 0.95 * s->expected ? run : 0.95 * s->expected;
            if (!label)
                label = s->label;
        }
    }
    if (total <= 0)
        total = 1;
    int filled = (int)(BAR_WIDTH * done / total + 0.5);
    if (filled > BAR_WIDTH)
        filled = BAR_WIDTH;
    char bar[BAR_WIDTH * 3 + 1] = "";
    size_t len = 0;
    for (int i = 0; i < BAR_WIDTH; i++) {
        const char *cell = i < filled ? "█" : "░";
        memcpy(bar + len, cell, 3);
        len += 3;
    }
    bar[len] = '\0';
    double left = total - done;
    char eta[64];
    if (left < 1.0)
        snprintf(eta, sizeof eta, "almost done");
    else
        snprintf(eta, sizeof eta, "about %.0f s left", left);
    fprintf(b->f, "\r\033[K  %s %s  %s  %.0f s, %s", b->title, bar, label ? label : "", now - b->t0, eta);
    fflush(b->f);
    b->drawn = true;
}

static void *bar_thread(void *arg)
{
    tito_progress_bar *b = arg;
    pthread_mutex_lock(&b->lock);
    while (!b->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += BAR_TICK_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&b->wake, &b->lock, &until);
        if (!b->stop && now_seconds() - b->t0 >= BAR_DELAY)
            bar_draw(b);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

tito_progress_bar *tito_progress_bar_start(FILE *f, const char *title, const tito_progress_step *steps,
                                           size_t n)
{
    const char *term = getenv("TERM");
    if (!f || !isatty(fileno(f)) || (term && strcmp(term, "dumb") == 0))
        return NULL;
    tito_progress_bar *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->f = f;
    snprintf(b->title, sizeof b->title, "%s", title ? title : "");
    b->n = n < 8 ? n : 8;
    for (size_t i = 0; i < b->n; i++) {
        snprintf(b->steps[i].name, sizeof b->steps[i].name, "%s", steps[i].name);
        snprintf(b->steps[i].label, sizeof b->steps[i].label, "%s", steps[i].label);
        b->steps[i].expected = steps[i].expected > 0 ? steps[i].expected : 1.0;
    }
    b->t0 = now_seconds();
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->wake, NULL);
    if (pthread_create(&b->thread, NULL, bar_thread, b) != 0) {
        pthread_cond_destroy(&b->wake);
        pthread_mutex_destroy(&b->lock);
        free(b);
        return NULL;
    }
    return b;
}

void tito_progress_bar_step(void *bar, const char *name, bool done)
{
    tito_progress_bar *b = bar;
    if (!b || !name)
        return;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->n; i++) {
        bar_step *s = &b->steps[i];
        if (strcmp(s->name, name) != 0)
            continue;
        if (done) {
            s->active = s->active > 0 ? s->active - 1 : 0;
            s->ended = now_seconds();
        } else {
            s->active++;
            if (s->started <= 0)
                s->started = now_seconds();
        }
    }
    pthread_mutex_unlock(&b->lock);
}

void tito_progress_bar_stop(tito_progress_bar *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = true;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->thread, NULL);
    if (b->drawn) {
        fputs("\r\033[K", b->f);
        fflush(b->f);
    }
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->lock);
    free(b);
}
