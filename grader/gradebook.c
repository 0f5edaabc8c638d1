/*
 * The gradebook (gradebook.h): receipts read back and rescored, late penalties applied,
 * and the three renderings. Everything is computed from the plan and the receipt files,
 * never from what a run remembers, so a gradebook written after a resumed or a Slurm
 * batch is the same as one written after a single run.
 */
#define _POSIX_C_SOURCE 200809L

#include "gradebook.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fsutil.h"
#include "late.h"
#include "progress.h"
#include "receipt.h"
#include "score.h"

/* ---------------------------------------------------------------- text buffers */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    bool failed;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (b->n + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

static tt_status sb_finish(char **out, sbuf *b, const char *who)
{
    if (b->failed || (!b->s && (sb_printf(b, "%s", ""), b->failed))) {
        free(b->s);
        return tt_error_set(TT_ERR_NOMEM, "%s: out of memory", who);
    }
    *out = b->s;
    return TT_OK;
}

static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

/* ---------------------------------------------------------------- building */

const char *tito_gradebook_state_name(tito_gradebook_state state)
{
    switch (state) {
    case TITO_GB_GRADED: return "graded";
    case TITO_GB_MISSING: return "missing";
    case TITO_GB_NO_REPO: return "no-repository";
    case TITO_GB_ERROR: return "error";
    case TITO_GB_PENDING: return "pending";
    }
    return "unknown";
}

void tito_gradebook_free(tito_gradebook *gb)
{
    if (!gb)
        return;
    for (size_t i = 0; i < gb->n_students; i++) {
        tito_gradebook_student *s = &gb->students[i];
        for (size_t k = 0; s->entries && k < gb->plan->n_modules; k++) {
            free(s->entries[k].message);
            tito_grade_free(s->entries[k].grade);
        }
        free(s->entries);
    }
    free(gb->students);
    free(gb);
}

static const tito_batch_item *item_of(const tito_batch_student *s, const tito_module *m)
{
    return &s->items[m - tito_modules];
}

/* Fill one entry from its item and, when graded, its receipt. */
static tt_status fill_entry(tito_gradebook_entry *e, const tito_batch_student *s,
                            const tito_batch_item *it, const tito_course *course)
{
    const tito_course_module *cm = tito_course_module_of(course, it->module);
    e->item = it;
    e->possible = tito_course_module_possible(cm);
    if (!s->fetched) {
        e->state = TITO_GB_NO_REPO;
        e->message = strdup(s->fetch_error ? s->fetch_error : "the repository could not be fetched");
        return e->message ? TT_OK : tt_error_set(TT_ERR_NOMEM, "gradebook: out of memory");
    }
    if (it->state == TITO_SUBMISSION_MISSING) {
        e->state = TITO_GB_MISSING;
        return TT_OK;
    }
    tito_receipt *r = NULL;
    tt_status st = tito_receipt_read(&r, it->receipt);
    if (st == TT_ERR_NOMEM)
        return st;
    if (st != TT_OK) {
        char error_path[4200];
        snprintf(error_path, sizeof error_path, "%s.error", it->receipt);
        char *text = NULL;
        if (tito_file_read(&text, NULL, error_path) == TT_OK) {
            text[strcspn(text, "\n")] = '\0';
            e->state = TITO_GB_ERROR;
            e->message = text;
        } else if (tito_path_exists(it->receipt)) {
            e->state = TITO_GB_ERROR;
            e->message = strdup(tt_error_last());
        } else {
            e->state = TITO_GB_PENDING;
            e->message = strdup("not graded yet: run the batch again to grade it");
        }
        return e->message ? TT_OK : tt_error_set(TT_ERR_NOMEM, "gradebook: out of memory");
    }
    e->grade = r->grade;
    r->grade = NULL;
    tito_receipt_free(r);
    tito_score_rules rules;
    tito_score_rules_from_course(&rules, cm);
    if ((st = tito_score_apply(e->grade, &rules)) != TT_OK)
        return st;
    e->state = TITO_GB_GRADED;
    e->earned = e->grade->earned;
    e->possible = e->grade->possible;
    e->score = tito_late_apply(e->earned, it->penalty_percent);
    return TT_OK;
}

tt_status tito_gradebook_build(tito_gradebook **out, const tito_batch_plan *plan,
                               const tito_course *course)
{
    *out = NULL;
    tito_gradebook *gb = calloc(1, sizeof *gb);
    if (!gb || !(gb->students = calloc(plan->n_students ? plan->n_students : 1, sizeof *gb->students))) {
        free(gb);
        return tt_error_set(TT_ERR_NOMEM, "gradebook: out of memory");
    }
    gb->plan = plan;
    gb->course = course;
    tt_status st = TT_OK;
    for (size_t i = 0; i < plan->n_students && st == TT_OK; i++) {
        const tito_batch_student *s = &plan->students[i];
        tito_gradebook_student *gs = &gb->students[i];
        gb->n_students = i + 1;
        gs->who = s;
        gs->entries = calloc(plan->n_modules ? plan->n_modules : 1, sizeof *gs->entries);
        if (!gs->entries) {
            st = tt_error_set(TT_ERR_NOMEM, "gradebook: out of memory");
            break;
        }
        double sum = 0, weights = 0;
        for (size_t k = 0; k < plan->n_modules && st == TT_OK; k++) {
            const tito_module *m = plan->modules[k];
            tito_gradebook_entry *e = &gs->entries[k];
            st = fill_entry(e, s, item_of(s, m), course);
            e->percent = e->possible > 0 ? round2(100.0 * e->score / e->possible) : 0.0;
            double w = tito_course_module_of(course, m)->weight;
            sum += w * e->percent;
            weights += w;
        }
        gs->total = weights > 0 ? round2(sum / weights) : 0.0;
        for (size_t k = 0; k < tito_module_count; k++)
            gs->grace_used += s->items ? s->items[k].grace_used : 0;
    }
    if (st != TT_OK) {
        tito_gradebook_free(gb);
        return st;
    }
    *out = gb;
    return TT_OK;
}

/* ---------------------------------------------------------------- CSV */

static void csv_field(sbuf *b, const char *s, bool first)
{
    char *f = tito_csv_field(s ? s : "");
    if (!f) {
        b->failed = true;
        return;
    }
    sb_printf(b, "%s%s", first ? "" : ",", f);
    free(f);
}

tt_status tito_gradebook_csv(char **out, const tito_gradebook *gb)
{
    *out = NULL;
    sbuf b = {0};
    csv_field(&b, "id", true);
    csv_field(&b, "name", false);
    csv_field(&b, "email", false);
    for (size_t k = 0; k < gb->plan->n_modules; k++)
        csv_field(&b, gb->plan->modules[k]->slug, false);
    csv_field(&b, "total", false);
    sb_printf(&b, "\r\n");
    for (size_t i = 0; i < gb->n_students; i++) {
        const tito_gradebook_student *s = &gb->students[i];
        csv_field(&b, s->who->who->id, true);
        csv_field(&b, s->who->who->name, false);
        csv_field(&b, s->who->who->email, false);
        for (size_t k = 0; k < gb->plan->n_modules; k++)
            sb_printf(&b, ",%.2f", s->entries[k].percent);
        sb_printf(&b, ",%.2f\r\n", s->total);
    }
    return sb_finish(out, &b, "tito_gradebook_csv");
}

/* ---------------------------------------------------------------- JSON */

static json_t *time_or_null(bool present, long long t)
{
    if (!present)
        return json_null();
    char buf[32];
    tito_time_format(buf, sizeof buf, (time_t)t);
    return json_string(buf);
}

static int set(json_t *o, const char *key, json_t *v)
{
    return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *entry_json(const tito_gradebook_entry *e)
{
    const tito_batch_item *it = e->item;
    json_t *o = json_object();
    int bad = !o;
    bool committed = e->state != TITO_GB_NO_REPO && e->state != TITO_GB_MISSING;
    bad |= set(o, "status", json_string(tito_gradebook_state_name(e->state)));
    bad |= set(o, "message", e->message ? json_string(e->message) : json_null());
    bad |= set(o, "commit", committed ? json_string(it->commit) : json_null());
    bad |= set(o, "committed_at", time_or_null(committed, it->commit_time));
    bad |= set(o, "deadline", time_or_null(it->has_deadline, it->deadline));
    bad |= set(o, "extension_days", json_integer(it->extension_days));
    bad |= set(o, "late_days", json_integer(committed ? it->late_days : 0));
    bad |= set(o, "grace_days", json_integer(it->grace_used));
    bad |= set(o, "penalty_percent", json_real(it->penalty_percent));
    bad |= set(o, "earned", json_integer(e->earned));
    bad |= set(o, "possible", json_integer(e->possible));
    bad |= set(o, "score", json_real(e->score));
    bad |= set(o, "percent", json_real(e->percent));
    json_t *receipt = NULL;
    if (e->grade) {
        if (tito_receipt_to_json(&receipt, e->grade, 1) != TT_OK)
            bad = 1;
        else {
            /* When it was made and how long it took describe the run, not the work. */
            json_object_del(receipt, "created_at");
            json_object_del(receipt, "timings");
        }
    }
    bad |= set(o, "receipt", receipt ? receipt : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

tt_status tito_gradebook_json(char **out, const tito_gradebook *gb)
{
    *out = NULL;
    const tito_course *c = gb->course;
    json_t *root = json_object(), *course = json_object(), *mods = json_array(),
           *students = json_array();
    int bad = !root || !course || !mods || !students;
    bad |= set(course, "id", json_string(c->id));
    bad |= set(course, "title", json_string(c->title));
    bad |= set(course, "term", json_string(c->term));
    for (size_t k = 0; k < gb->plan->n_modules; k++) {
        const tito_module *m = gb->plan->modules[k];
        const tito_course_module *cm = tito_course_module_of(c, m);
        json_t *mo = json_object();
        bad |= !mo;
        bad |= set(mo, "slug", json_string(m->slug));
        bad |= set(mo, "weight", json_real(cm->weight));
        bad |= set(mo, "possible", json_integer(tito_course_module_possible(cm)));
        bad |= set(mo, "deadline", time_or_null(cm->has_deadline, cm->deadline));
        bad |= json_array_append_new(mods, mo);
    }
    for (size_t i = 0; i < gb->n_students && !bad; i++) {
        const tito_gradebook_student *s = &gb->students[i];
        const tito_roster_student *who = s->who->who;
        json_t *so = json_object(), *entries = json_object();
        bad |= !so || !entries;
        bad |= set(so, "id", json_string(who->id));
        bad |= set(so, "name", json_string(who->name));
        bad |= set(so, "email", json_string(who->email));
        bad |= set(so, "repo", json_string(who->repo));
        bad |= set(so, "fetched", json_boolean(s->who->fetched));
        bad |= set(so, "fetch_message", s->who->fetch_error ? json_string(s->who->fetch_error) : json_null());
        bad |= set(so, "tip", s->who->tip[0] ? json_string(s->who->tip) : json_null());
        bad |= set(so, "total", json_real(s->total));
        bad |= set(so, "grace_days_used", json_integer(s->grace_used));
        for (size_t k = 0; k < gb->plan->n_modules && !bad; k++)
            bad |= set(entries, gb->plan->modules[k]->slug, entry_json(&s->entries[k]));
        bad |= set(so, "modules", entries);
        bad |= json_array_append_new(students, so);
    }
    bad |= set(root, "schema", json_string(TITO_GRADEBOOK_SCHEMA));
    bad |= set(root, "course", course);
    bad |= set(root, "modules", mods);
    bad |= set(root, "students", students);
    char *text = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "tito_gradebook_json: out of memory");
    size_t n = strlen(text);
    char *with_nl = realloc(text, n + 2);
    if (!with_nl) {
        free(text);
        return tt_error_set(TT_ERR_NOMEM, "tito_gradebook_json: out of memory");
    }
    with_nl[n] = '\n';
    with_nl[n + 1] = '\0';
    *out = with_nl;
    return TT_OK;
}

/* ---------------------------------------------------------------- summary */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Pass counts of one check (by module and public name) over the graded entries. */
typedef struct check_stat {
    const tito_module *module;
    char name[96];
    unsigned runs, passes, timeouts;
} check_stat;

typedef struct check_table {
    check_stat *v;
    size_t n, cap;
} check_table;

static check_stat *check_find(check_table *t, const tito_module *m, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].module == m && strcmp(t->v[i].name, name) == 0)
            return &t->v[i];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        check_stat *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    check_stat *c = &t->v[t->n++];
    memset(c, 0, sizeof *c);
    c->module = m;
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

static int cmp_worst(const void *a, const void *b)
{
    const check_stat *x = a, *y = b;
    /* Lowest pass rate first; then most runs; then by name, for a stable report. */
    double rx = x->runs ? (double)x->passes / x->runs : 1, ry = y->runs ? (double)y->passes / y->runs : 1;
    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (x->runs != y->runs)
        return x->runs > y->runs ? -1 : 1;
    int c = strcmp(x->module->slug, y->module->slug);
    return c ? c : strcmp(x->name, y->name);
}

static int cmp_timeouts(const void *a, const void *b)
{
    const check_stat *x = a, *y = b;
    if (x->timeouts != y->timeouts)
        return x->timeouts > y->timeouts ? -1 : 1;
    return cmp_worst(a, b);
}

static int cmp_name(const void *a, const void *b)
{
    const check_stat *x = a, *y = b;
    int c = strcmp(x->module->slug, y->module->slug);
    return c ? c : strcmp(x->name, y->name);
}

/* Whether the checks a speed kernel stands on gave the right values in grade g (as
 * score.c gates speed points): a fast wrong answer is no speed to report. */
static bool kernel_counts(const tito_grade *g, const char *metric)
{
    char cat[64];
    tito_score_kernel_category(metric, cat, sizeof cat);
    bool any = false, ok = true;
    for (size_t i = 0; i < g->n_cases; i++) {
        if (strcmp(g->cases[i].category, cat) != 0)
            continue;
        any = true;
        ok = ok && (g->cases[i].verdict == TITO_PASS || g->cases[i].verdict == TITO_LEAK);
    }
    for (size_t i = 0; !any && i < g->n_cases; i++)
        ok = ok && (g->cases[i].verdict == TITO_PASS || g->cases[i].verdict == TITO_LEAK);
    return ok;
}

static void bar(sbuf *b, unsigned count, unsigned max, int width)
{
    int n = max ? (int)((double)count * width / max + 0.5) : 0;
    if (count > 0 && n == 0)
        n = 1;
    for (int i = 0; i < n; i++)
        sb_printf(b, "\u2588");
}

tt_status tito_gradebook_summary(char **out, const tito_gradebook *gb, int width)
{
    *out = NULL;
    sbuf b = {0};
    const tito_batch_plan *plan = gb->plan;
    size_t n = gb->n_students;
    if (width <= 0)
        width = 30;
    sb_printf(&b, "%s: %zu student%s, module%s", gb->course->title, n, n == 1 ? "" : "s",
              plan->n_modules == 1 ? "" : "s");
    for (size_t k = 0; k < plan->n_modules; k++)
        sb_printf(&b, " %s", plan->modules[k]->slug);
    sb_printf(&b, "\n");

    /* What could not be graded, by whom. */
    size_t counts[5] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < plan->n_modules; k++)
            counts[gb->students[i].entries[k].state]++;
    sb_printf(&b, "  %zu graded, %zu missing (nothing committed by the cutoff), %zu without a "
                  "repository, %zu grading errors, %zu not graded yet\n",
              counts[TITO_GB_GRADED], counts[TITO_GB_MISSING], counts[TITO_GB_NO_REPO],
              counts[TITO_GB_ERROR], counts[TITO_GB_PENDING]);
    for (size_t i = 0; i < n; i++) {
        const tito_gradebook_student *s = &gb->students[i];
        if (!s->who->fetched)
            sb_printf(&b, "  no repository: %s: %s\n", s->who->who->id,
                      s->who->fetch_error ? s->who->fetch_error : "");
        else if (s->who->fetch_error)
            sb_printf(&b, "  warning: %s: %s\n", s->who->who->id, s->who->fetch_error);
        for (size_t k = 0; k < plan->n_modules; k++) {
            const tito_gradebook_entry *e = &s->entries[k];
            if (e->state == TITO_GB_ERROR)
                sb_printf(&b, "  grading error: %s %s: %s\n", s->who->who->id, plan->modules[k]->slug,
                          e->message ? e->message : "");
        }
    }

    /* Totals: mean, median, a histogram. */
    double *totals = malloc((n ? n : 1) * sizeof *totals);
    if (!totals) {
        free(b.s);
        return tt_error_set(TT_ERR_NOMEM, "tito_gradebook_summary: out of memory");
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        totals[i] = gb->students[i].total;
        sum += totals[i];
    }
    qsort(totals, n, sizeof *totals, cmp_double);
    double median = n == 0 ? 0 : n % 2 ? totals[n / 2] : (totals[n / 2 - 1] + totals[n / 2]) / 2;
    unsigned bins[10] = {0}, top = 0;
    for (size_t i = 0; i < n; i++) {
        int bin = (int)(totals[i] / 10.0);
        bins[bin > 9 ? 9 : bin < 0 ? 0 : bin]++;
    }
    for (int i = 0; i < 10; i++)
        top = bins[i] > top ? bins[i] : top;
    static const char *const spark[] = {" ", "\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
    sb_printf(&b, "\ntotal (%%): mean %.2f  median %.2f  min %.2f  max %.2f   ", n ? sum / n : 0, median,
              n ? totals[0] : 0, n ? totals[n - 1] : 0);
    for (int i = 0; i < 10; i++)
        sb_printf(&b, "%s", spark[top ? (bins[i] * 8 + top - 1) / top : 0]);
    sb_printf(&b, "\n");
    for (int i = 9; i >= 0; i--) {
        sb_printf(&b, "  %3d-%-3d %3u ", i * 10, i == 9 ? 100 : i * 10 + 9, bins[i]);
        bar(&b, bins[i], top, width);
        sb_printf(&b, "\n");
    }
    free(totals);

    /* Per module: the mean, lateness. */
    sb_printf(&b, "\nper module:\n");
    for (size_t k = 0; k < plan->n_modules; k++) {
        double msum = 0;
        unsigned late = 0, penalised = 0;
        for (size_t i = 0; i < n; i++) {
            const tito_gradebook_entry *e = &gb->students[i].entries[k];
            msum += e->percent;
            late += e->state == TITO_GB_GRADED && e->item->late_days > 0;
            penalised += e->state == TITO_GB_GRADED && e->item->penalty_percent > 0;
        }
        sb_printf(&b, "  %-16s mean %6.2f%%   %u late (%u with a penalty)\n", plan->modules[k]->slug,
                  n ? msum / n : 0, late, penalised);
    }

    /* Per check: pass rates over the graded entries, the most failed and those that ran
     * out of time. */
    check_table t = {0};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < plan->n_modules; k++) {
            const tito_gradebook_entry *e = &gb->students[i].entries[k];
            if (e->state != TITO_GB_GRADED)
                continue;
            for (size_t c = 0; c < e->grade->n_cases; c++) {
                const tito_case_result *r = &e->grade->cases[c];
                check_stat *cs = check_find(&t, plan->modules[k], r->name);
                if (!cs) {
                    b.failed = true;
                    break;
                }
                cs->runs++;
                cs->passes += r->verdict == TITO_PASS;
                cs->timeouts += r->verdict == TITO_TIMEOUT;
            }
        }
    }
    if (t.n > 0) {
        qsort(t.v, t.n, sizeof *t.v, cmp_worst);
        sb_printf(&b, "\nmost failed checks (pass rate over the graded submissions):\n");
        size_t shown = 0;
        for (size_t i = 0; i < t.n && shown < 10; i++) {
            const check_stat *c = &t.v[i];
            if (c->passes == c->runs)
                break;
            sb_printf(&b, "  %-16s %-36s %3u/%-3u %5.1f%%\n", c->module->slug, c->name, c->passes,
                      c->runs, 100.0 * c->passes / c->runs);
            shown++;
        }
        if (shown == 0)
            sb_printf(&b, "  none: every check passed for every graded submission\n");
        qsort(t.v, t.n, sizeof *t.v, cmp_timeouts);
        if (t.v[0].timeouts > 0) {
            sb_printf(&b, "\nslowest checks (submissions that ran out of time):\n");
            for (size_t i = 0; i < t.n && i < 10 && t.v[i].timeouts > 0; i++)
                sb_printf(&b, "  %-16s %-36s %u timeout%s\n", t.v[i].module->slug, t.v[i].name,
                          t.v[i].timeouts, t.v[i].timeouts == 1 ? "" : "s");
        }
        /* Every check's pass rate, in module and then name order. */
        qsort(t.v, t.n, sizeof *t.v, cmp_name);
        sb_printf(&b, "\nper-check pass rates:\n");
        for (size_t k = 0; k < plan->n_modules; k++) {
            for (size_t i = 0; i < t.n; i++) {
                const check_stat *c = &t.v[i];
                if (c->module != plan->modules[k])
                    continue;
                sb_printf(&b, "  %-16s %-36s %3u/%-3u %5.1f%%\n", c->module->slug, c->name,
                          c->passes, c->runs, 100.0 * c->passes / c->runs);
            }
        }
    }
    free(t.v);

    /* Speed: each kernel's ratios over the submissions measured. */
    for (size_t k = 0; k < plan->n_modules; k++) {
        const char *printed = NULL;
        for (size_t i = 0; i < n; i++) {
            const tito_gradebook_entry *e = &gb->students[i].entries[k];
            if (e->state != TITO_GB_GRADED)
                continue;
            for (size_t p = 0; p < e->grade->n_perf; p++) {
                const char *metric = e->grade->perf[p].metric;
                if (printed && strcmp(printed, metric) == 0)
                    continue;
                /* One line per kernel: gather its ratios. */
                double *r = malloc(n * sizeof *r);
                if (!r) {
                    b.failed = true;
                    break;
                }
                size_t m = 0;
                const char *slowest = NULL;
                double low = 0;
                for (size_t j = 0; j < n; j++) {
                    const tito_gradebook_entry *f = &gb->students[j].entries[k];
                    for (size_t q = 0; f->state == TITO_GB_GRADED && q < f->grade->n_perf; q++) {
                        const tito_perf_result *pr = &f->grade->perf[q];
                        if (strcmp(pr->metric, metric) != 0 || pr->verdict != TITO_PASS ||
                            !kernel_counts(f->grade, metric))
                            continue;
                        r[m++] = pr->ratio;
                        if (!slowest || pr->ratio < low) {
                            slowest = gb->students[j].who->who->id;
                            low = pr->ratio;
                        }
                    }
                }
                if (m == 0) {
                    sb_printf(&b, "\nspeed %s %s: no submission measured with correct results\n",
                              plan->modules[k]->slug, metric);
                } else {
                    qsort(r, m, sizeof *r, cmp_double);
                    double med = m % 2 ? r[m / 2] : (r[m / 2 - 1] + r[m / 2]) / 2;
                    sb_printf(&b, "\nspeed %s %s (%s, submissions with correct results): "
                                  "median %.3f over %zu, slowest %s %.3f, fastest %.3f\n",
                              plan->modules[k]->slug, metric, e->grade->perf[p].unit, med, m,
                              slowest, low, r[m - 1]);
                }
                free(r);
                printed = metric;
            }
            if (printed)
                break;
        }
    }
    return sb_finish(out, &b, "tito_gradebook_summary");
}

tt_status tito_gradebook_write(const tito_gradebook *gb, const char *out_dir)
{
    char *csv = NULL, *json = NULL, *summary = NULL;
    tt_status st = TT_OK;
    char path[4200];
    TT_CHECK(tito_gradebook_csv(&csv, gb));
    TT_CHECK(tito_gradebook_json(&json, gb));
    TT_CHECK(tito_gradebook_summary(&summary, gb, 30));
    snprintf(path, sizeof path, "%s/gradebook.csv", out_dir);
    TT_CHECK(tito_file_write_atomic(path, csv, strlen(csv), 0644));
    snprintf(path, sizeof path, "%s/gradebook.json", out_dir);
    TT_CHECK(tito_file_write_atomic(path, json, strlen(json), 0644));
    snprintf(path, sizeof path, "%s/summary.txt", out_dir);
    TT_CHECK(tito_file_write_atomic(path, summary, strlen(summary), 0644));
cleanup:
    free(csv);
    free(json);
    free(summary);
    return st;
}

/* ---------------------------------------------------------------- compare */

tt_status tito_gradebook_compare(char **report, size_t *changed, const char *old_text, size_t len,
                                 const char *origin, const tito_gradebook *gb)
{
    *report = NULL;
    *changed = 0;
    json_error_t err;
    json_t *old = json_loadb(old_text, len, 0, &err);
    if (!old)
        return tt_error_set(TT_ERR_FORMAT, "gradebook %s:%d: not valid JSON: %s", origin, err.line,
                            err.text);
    json_t *schema = json_object_get(old, "schema"), *students = json_object_get(old, "students");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), TITO_GRADEBOOK_SCHEMA) != 0 ||
        !json_is_array(students)) {
        json_decref(old);
        return tt_error_set(TT_ERR_FORMAT, "gradebook %s: not a %s file (schema and students)",
                            origin, TITO_GRADEBOOK_SCHEMA);
    }
    sbuf b = {0}, lines = {0};
    size_t up = 0, down = 0, same_total = 0;
    double up_lo = 0, up_hi = 0, down_lo = 0, down_hi = 0;
    const tito_batch_plan *plan = gb->plan;
    for (size_t i = 0; i < gb->n_students; i++) {
        const tito_gradebook_student *s = &gb->students[i];
        const char *id = s->who->who->id;
        json_t *o = NULL;
        for (size_t j = 0; j < json_array_size(students) && !o; j++) {
            json_t *c = json_array_get(students, j);
            json_t *cid = json_object_get(c, "id");
            if (json_is_string(cid) && strcmp(json_string_value(cid), id) == 0)
                o = c;
        }
        if (!o) {
            sb_printf(&lines, "  %-12s new in the roster: %.2f\n", id, s->total);
            (*changed)++;
            continue;
        }
        double before = json_number_value(json_object_get(o, "total"));
        double delta = round2(s->total - before);
        sbuf detail = {0};
        for (size_t k = 0; k < plan->n_modules; k++) {
            const char *slug = plan->modules[k]->slug;
            json_t *om = json_object_get(json_object_get(o, "modules"), slug);
            double p_old = json_number_value(json_object_get(om, "percent"));
            double p_new = s->entries[k].percent;
            if (!om)
                sb_printf(&detail, "   %s new %.2f", slug, p_new);
            else if (fabs(p_new - p_old) >= 0.005)
                sb_printf(&detail, "   %s %.2f -> %.2f", slug, p_old, p_new);
        }
        if (detail.failed)
            lines.failed = true;
        if (fabs(delta) < 0.005 && detail.n == 0) {
            free(detail.s);
            continue;
        }
        (*changed)++;
        if (delta >= 0.005) {
            up_lo = up ? fmin(up_lo, delta) : delta;
            up_hi = up ? fmax(up_hi, delta) : delta;
            up++;
        } else if (delta <= -0.005) {
            down_lo = down ? fmin(down_lo, delta) : delta;
            down_hi = down ? fmax(down_hi, delta) : delta;
            down++;
        } else {
            same_total++;
        }
        sb_printf(&lines, "  %-12s %7.2f -> %7.2f  (%+.2f)%s\n", id, before, s->total, delta,
                  detail.s ? detail.s : "");
        free(detail.s);
    }
    for (size_t j = 0; j < json_array_size(students); j++) {
        const char *oid = json_string_value(json_object_get(json_array_get(students, j), "id"));
        bool present = false;
        for (size_t i = 0; oid && i < gb->n_students && !present; i++)
            present = strcmp(gb->students[i].who->who->id, oid) == 0;
        if (oid && !present) {
            sb_printf(&lines, "  %-12s no longer in the roster\n", oid);
            (*changed)++;
        }
    }
    json_decref(old);
    if (*changed == 0) {
        sb_printf(&b, "No student's grade would change (compared with %s).\n", origin);
    } else {
        sb_printf(&b, "%zu student%s would change (compared with %s): %zu up", *changed,
                  *changed == 1 ? "" : "s", origin, up);
        if (up)
            sb_printf(&b, " (%+.2f to %+.2f)", up_lo, up_hi);
        sb_printf(&b, ", %zu down", down);
        if (down)
            sb_printf(&b, " (%+.2f to %+.2f)", down_hi, down_lo);
        if (same_total)
            sb_printf(&b, ", %zu with the same total", same_total);
        sb_printf(&b, ".\n%s", lines.s ? lines.s : "");
    }
    if (lines.failed)
        b.failed = true;
    free(lines.s);
    return sb_finish(report, &b, "tito_gradebook_compare");
}
