/*
 * The leaderboard's web pages, rendered on the server from the same JSON the API
 * serves: the course ranking (a table sortable through links, so it works without
 * JavaScript), charts drawn as inline SVG (score distribution, submissions over time,
 * per-module pass rates), and one page per student (progress across modules and
 * milestones, and their submissions).
 *
 * Everything a client chose (names above all) is escaped on the way out by
 * lb_buf_html; ids that reach URLs were validated on the way in and are escaped anyway.
 * No script, no external resource: the page is one self-contained document.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

/* ---------------------------------------------------------------- the frame */

static const char style[] =
    "body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;"
    "background:#f6f7f9}"
    "header,main,footer{max-width:1240px;margin:0 auto;padding:0 16px}"
    "header{padding-top:18px}h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin:1.4em 0 .5em}"
    ".meta{color:#5b6570;margin:0}a{color:#0b5cad}"
    "table{border-collapse:collapse;width:100%;background:#fff;font-size:.93em}"
    "th,td{padding:5px 8px;border-bottom:1px solid #e3e6ea;text-align:left;white-space:nowrap}"
    "th a{text-decoration:none;color:inherit}th.sorted a::after{content:' \\25BE'}"
    "th.sorted.asc a::after{content:' \\25B4'}td.num,th.num{text-align:right}"
    "td.rank{font-weight:600}.self-reported{color:#8a5a00}.verified{color:#1b7d3a}.disputed{color:#b3261e}"
    ".badge{font-size:.8em;padding:1px 6px;border-radius:8px;background:#eef0f3}"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;background:#fff;padding:10px;"
    "border:1px solid #e3e6ea;flex:1 1 320px}figcaption{font-weight:600;margin-bottom:6px}"
    "svg text{font:11px system-ui,sans-serif;fill:#39424c}svg .bar{fill:#3b7dd8}svg .bar.pass{fill:#2e9b55}"
    "svg .axis{stroke:#9aa3ad;stroke-width:1}"
    ".progress{display:inline-block;width:160px;height:10px;background:#e3e6ea;vertical-align:middle}"
    ".progress span{display:block;height:10px;background:#3b7dd8}"
    "footer{color:#5b6570;font-size:.85em;padding-bottom:30px}.scroll{overflow-x:auto}";

static void page_start(lb_buf *b, const char *title)
{
    lb_buf_puts(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    lb_buf_html(b, title);
    lb_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
}

static void page_end(lb_buf *b)
{
    lb_buf_puts(b, "<footer><p>Scores are <span class=\"self-reported\">self-reported</span> (graded on the "
                   "student's machine, signed with their key) until the instructor's batch run reproduces "
                   "them at the same commit: then they are <span class=\"verified\">verified</span>, or "
                   "<span class=\"disputed\">disputed</span> when the instructor's score differs (the "
                   "instructor's score counts).</p></footer>\n</body>\n</html>\n");
}

static void html_response(lb_response *res, lb_request *req, unsigned status, lb_buf *b)
{
    size_t len = 0;
    char *text = lb_buf_take(b, &len);
    if (!text) {
        lb_web_error(res, req, 500, "internal", "out of memory while rendering the page");
        return;
    }
    res->status = status;
    res->body = text;
    res->len = len;
    res->content_type = "text/html; charset=utf-8";
}

void lb_web_error(lb_response *res, lb_request *req, unsigned status, const char *code, const char *message)
{
    snprintf(req->error_code, sizeof req->error_code, "%s", code);
    lb_buf b = {0};
    page_start(&b, "Leaderboard");
    lb_buf_printf(&b, "<header><h1>%u</h1></header>\n<main><p id=\"error\">", status);
    lb_buf_html(&b, message);
    lb_buf_puts(&b, "</p><p><a href=\"/\">All courses</a></p></main>\n</body>\n</html>\n");
    size_t len = 0;
    char *text = lb_buf_take(&b, &len);
    res->status = status;
    res->body = text;
    res->len = text ? len : 0;
    res->content_type = "text/html; charset=utf-8";
}

/* ---------------------------------------------------------------- index */

void lb_web_index(lb_server *srv, lb_request *req, lb_response *res)
{
    lb_course *courses = NULL;
    size_t n = 0;
    if (lb_course_list(srv->store, &courses, &n) != TT_OK) {
        lb_web_error(res, req, 500, "internal", tt_error_last());
        return;
    }
    lb_buf b = {0};
    page_start(&b, "Leaderboards");
    lb_buf_puts(&b, "<header><h1>Leaderboards</h1></header>\n<main>\n");
    if (n == 0)
        lb_buf_puts(&b, "<p>No course yet: <code>tito-leaderboard course create</code> makes one.</p>\n");
    lb_buf_puts(&b, "<ul id=\"courses\">\n");
    for (size_t i = 0; i < n; i++) {
        lb_buf_puts(&b, "<li><a href=\"/c/");
        lb_buf_url(&b, courses[i].id);
        lb_buf_puts(&b, "\">");
        lb_buf_html(&b, courses[i].title);
        lb_buf_puts(&b, "</a> <span class=\"meta\">");
        lb_buf_html(&b, courses[i].id);
        lb_buf_puts(&b, "</span></li>\n");
    }
    lb_buf_puts(&b, "</ul>\n</main>\n");
    page_end(&b);
    free(courses);
    html_response(res, req, 200, &b);
}

/* ---------------------------------------------------------------- charts */

typedef struct bar {
    char label[48];
    double value;
    char tip[96];
} bar;

/* A vertical bar chart: one bar per entry, the y axis from 0 to the largest value
 * (integers when `counts`). Each bar has a <title> (a tooltip without script). */
static void svg_columns(lb_buf *b, const char *id, const char *caption, const bar *bars, size_t n, bool counts)
{
    const double W = 480, H = 220, left = 36, bottom = 40, top = 12, right = 8;
    double max = 0;
    for (size_t i = 0; i < n; i++)
        max = fmax(max, bars[i].value);
    if (max <= 0)
        max = 1;
    if (counts)
        max = ceil(max);
    lb_buf_printf(b, "<figure id=\"%s\"><figcaption>", id);
    lb_buf_html(b, caption);
    lb_buf_printf(b, "</figcaption>\n<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" aria-label=\"", W, H);
    lb_buf_html(b, caption);
    lb_buf_puts(b, "\">\n");
    double plot_w = W - left - right, plot_h = H - top - bottom;
    /* Axis with 0, half and the maximum. */
    lb_buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, top + plot_h,
                  W - right, top + plot_h);
    for (int t = 0; t <= 2; t++) {
        double v = max * t / 2.0;
        double y = top + plot_h - plot_h * t / 2.0;
        if (counts && t == 1 && fmod(max, 2) != 0)
            continue;
        lb_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", left - 4, y + 4,
                      counts ? 0 : 2, v);
    }
    double slot = n ? plot_w / (double)n : plot_w;
    size_t label_every = n > 12 ? (n + 11) / 12 : 1;
    for (size_t i = 0; i < n; i++) {
        double h = plot_h * bars[i].value / max;
        double x = left + slot * (double)i + slot * 0.12;
        lb_buf_printf(b, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>", x,
                      top + plot_h - h, slot * 0.76, h);
        lb_buf_html(b, bars[i].tip);
        lb_buf_puts(b, "</title></rect>\n");
        if (i % label_every == 0) {
            lb_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", left + slot * ((double)i + 0.5),
                          top + plot_h + 14);
            lb_buf_html(b, bars[i].label);
            lb_buf_puts(b, "</text>\n");
        }
    }
    lb_buf_puts(b, "</svg></figure>\n");
}

/* Horizontal bars of fractions in [0, 1], labelled with their percentage. */
static void svg_rows(lb_buf *b, const char *id, const char *caption, const bar *bars, size_t n)
{
    const double W = 480, row = 22, left = 120, right = 48;
    double H = row * (double)(n ? n : 1) + 10;
    lb_buf_printf(b, "<figure id=\"%s\"><figcaption>", id);
    lb_buf_html(b, caption);
    lb_buf_printf(b, "</figcaption>\n<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" aria-label=\"", W, H);
    lb_buf_html(b, caption);
    lb_buf_puts(b, "\">\n");
    if (n == 0)
        lb_buf_puts(b, "<text x=\"8\" y=\"18\">no graded module yet</text>\n");
    double plot_w = W - left - right;
    for (size_t i = 0; i < n; i++) {
        double y = 5 + row * (double)i;
        double w = plot_w * fmin(1, fmax(0, bars[i].value));
        lb_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 6, y + 14);
        lb_buf_html(b, bars[i].label);
        lb_buf_printf(b, "</text>\n<rect class=\"track\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
                         "fill=\"#eef0f3\"/>\n",
                      left, y + 3, plot_w);
        lb_buf_printf(b, "<rect class=\"bar pass\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\"><title>", left,
                      y + 3, w);
        lb_buf_html(b, bars[i].tip);
        lb_buf_printf(b, "</title></rect>\n<text x=\"%.1f\" y=\"%.1f\">%.0f%%</text>\n", left + plot_w + 6, y + 14,
                      100 * bars[i].value);
    }
    lb_buf_puts(b, "</svg></figure>\n");
}

/* The share of the course's points a student holds: their total over the sum, across
 * every module anyone submitted, of the largest `possible` seen for it. */
static double course_max_points(json_t *students, json_t *modules)
{
    double sum = 0;
    size_t i, j;
    json_t *m, *s;
    json_array_foreach(modules, i, m)
    {
        double best = 0;
        json_array_foreach(students, j, s)
        {
            json_t *entry = json_object_get(json_object_get(s, "modules"), json_string_value(m));
            best = fmax(best, (double)json_integer_value(json_object_get(entry, "possible")));
        }
        sum += best;
    }
    return sum;
}

static void chart_distribution(lb_buf *b, json_t *doc)
{
    json_t *students = json_object_get(doc, "students");
    double max = course_max_points(students, json_object_get(doc, "modules"));
    bar bars[10];
    for (int k = 0; k < 10; k++) {
        snprintf(bars[k].label, sizeof bars[k].label, "%d", k * 10);
        bars[k].value = 0;
    }
    size_t i, ranked = 0;
    json_t *s;
    json_array_foreach(students, i, s)
    {
        if (json_is_null(json_object_get(s, "rank")))
            continue;
        ranked++;
        double earned = (double)json_integer_value(json_object_get(json_object_get(s, "total"), "earned"));
        int k = max > 0 ? (int)floor(10 * earned / max) : 0;
        bars[k < 0 ? 0 : k > 9 ? 9 : k].value++;
    }
    for (int k = 0; k < 10; k++)
        snprintf(bars[k].tip, sizeof bars[k].tip, "%.0f of %zu students hold %d%% to %s%d%% of the points",
                 bars[k].value, ranked, k * 10, k == 9 ? "" : "under ", k == 9 ? 100 : (k + 1) * 10);
    svg_columns(b, "chart-distribution", "Score distribution (% of the course's points)", bars, 10, true);
}

static void chart_submissions(lb_buf *b, lb_server *srv, const char *course)
{
    int64_t *times = NULL;
    size_t n = 0;
    if (lb_submission_times(srv->store, course, &times, &n) != TT_OK)
        n = 0;
    enum { MAX_BINS = 60 };
    bar bars[MAX_BINS];
    size_t n_bins = 0;
    if (n > 0) {
        int64_t first = times[0], last = times[n - 1];
        /* Hours when everything happened within two days, else days. */
        int64_t width = last - first <= 2 * 86400 ? 3600 : 86400;
        int64_t start = first - first % width;
        size_t span = (size_t)((last - start) / width) + 1;
        if (span > MAX_BINS) {
            /* Widen the bins until the whole history fits. */
            int64_t factor = (int64_t)((span + MAX_BINS - 1) / MAX_BINS);
            width *= factor;
            start = first - first % width;
            span = (size_t)((last - start) / width) + 1;
        }
        n_bins = span > MAX_BINS ? MAX_BINS : span;
        for (size_t k = 0; k < n_bins; k++) {
            time_t t = (time_t)(start + (int64_t)k * width);
            char when[32];
            lb_time_format(when, t);
            /* "11-26" for days, "14h" for hours */
            if (width % 86400 == 0)
                snprintf(bars[k].label, sizeof bars[k].label, "%.5s", when + 5);
            else
                snprintf(bars[k].label, sizeof bars[k].label, "%.2sh", when + 11);
            bars[k].value = 0;
            snprintf(bars[k].tip, sizeof bars[k].tip, "from %s", when);
        }
        for (size_t i = 0; i < n; i++) {
            size_t k = (size_t)((times[i] - start) / width);
            if (k < n_bins)
                bars[k].value++;
        }
        for (size_t k = 0; k < n_bins; k++) {
            char from[64];
            snprintf(from, sizeof from, "%s", bars[k].tip);
            snprintf(bars[k].tip, sizeof bars[k].tip, "%.0f submissions %s", bars[k].value, from);
        }
    }
    free(times);
    svg_columns(b, "chart-submissions", "Submissions over time (UTC)", bars, n_bins, true);
}

static void chart_pass_rates(lb_buf *b, json_t *doc)
{
    json_t *modules = json_object_get(doc, "modules");
    json_t *students = json_object_get(doc, "students");
    double pass_bar = json_number_value(json_object_get(json_object_get(doc, "course"), "pass_bar"));
    size_t n = json_array_size(modules), n_students = json_array_size(students);
    bar *bars = calloc(n ? n : 1, sizeof *bars);
    if (!bars) {
        b->failed = true;
        return;
    }
    size_t i, j;
    json_t *m, *s;
    json_array_foreach(modules, i, m)
    {
        size_t passed = 0;
        json_array_foreach(students, j, s)
        {
            json_t *e = json_object_get(json_object_get(s, "modules"), json_string_value(m));
            double earned = (double)json_integer_value(json_object_get(e, "earned"));
            double possible = (double)json_integer_value(json_object_get(e, "possible"));
            if (e && possible > 0 && earned >= pass_bar * possible)
                passed++;
        }
        snprintf(bars[i].label, sizeof bars[i].label, "%s", json_string_value(m));
        bars[i].value = n_students ? (double)passed / (double)n_students : 0;
        snprintf(bars[i].tip, sizeof bars[i].tip, "%zu of %zu students reached %.0f%% of %s's points", passed,
                 n_students, 100 * pass_bar, json_string_value(m));
    }
    char caption[96];
    snprintf(caption, sizeof caption, "Pass rate per module (best score at least %.0f%%)", 100 * pass_bar);
    svg_rows(b, "chart-pass-rates", caption, bars, n);
    free(bars);
}

/* ---------------------------------------------------------------- the ranking page */

typedef struct sort_row {
    json_t *entry;
    double num;
    const char *str;
    size_t order; /* position in the ranking: ties keep it */
} sort_row;

static _Thread_local int sort_desc; /* qsort has no context argument */

static int cmp_rows(const void *pa, const void *pb)
{
    const sort_row *a = pa, *b = pb;
    int c = 0;
    if (a->str || b->str)
        c = strcmp(a->str ? a->str : "", b->str ? b->str : "");
    else if (a->num != b->num)
        c = a->num < b->num ? -1 : 1;
    if (c == 0)
        return a->order < b->order ? -1 : a->order > b->order;
    return sort_desc ? -c : c;
}

/* A module's share for sorting, -1 when there is none. */
static double module_share(json_t *entry, const char *slug)
{
    json_t *e = json_object_get(json_object_get(entry, "modules"), slug);
    double p = (double)json_integer_value(json_object_get(e, "possible"));
    return e && p > 0 ? (double)json_integer_value(json_object_get(e, "earned")) / p : -1;
}

static bool is_module_column(json_t *modules, const char *key)
{
    size_t i;
    json_t *m;
    json_array_foreach(modules, i, m)
    {
        if (strcmp(json_string_value(m), key) == 0)
            return true;
    }
    return false;
}

static void header_cell(lb_buf *b, const char *label, const char *key, const char *sort, bool desc,
                        bool default_desc, bool num)
{
    bool sorted = strcmp(sort, key) == 0;
    /* A click on the sorted column flips it; on another, its natural direction. */
    bool next_desc = sorted ? !desc : default_desc;
    lb_buf_printf(b, "<th class=\"%s%s%s\"><a href=\"?sort=", num ? "num" : "", sorted ? " sorted" : "",
                  sorted && !desc ? " asc" : "");
    lb_buf_url(b, key);
    lb_buf_printf(b, "&amp;dir=%s\" title=\"", next_desc ? "desc" : "asc");
    lb_buf_html(b, key);
    lb_buf_puts(b, "\">");
    lb_buf_html(b, label);
    lb_buf_puts(b, "</a></th>");
}

static void student_link(lb_buf *b, const char *course, json_t *entry)
{
    lb_buf_puts(b, "<a href=\"/c/");
    lb_buf_url(b, course);
    lb_buf_puts(b, "/s/");
    lb_buf_url(b, json_string_value(json_object_get(entry, "key_id")));
    lb_buf_puts(b, "\">");
    lb_buf_html(b, json_string_value(json_object_get(entry, "name")));
    lb_buf_puts(b, "</a>");
}

static void ranking_table(lb_buf *b, json_t *doc, const char *course, const char *sort_in, const char *dir_in)
{
    json_t *students = json_object_get(doc, "students");
    json_t *modules = json_object_get(doc, "modules");
    size_t n = json_array_size(students);
    static const char *const fixed[] = {"rank", "name", "total", "milestones", "capstone", "last"};
    const char *sort = "rank";
    for (size_t k = 0; sort_in && k < sizeof fixed / sizeof fixed[0]; k++)
        if (strcmp(sort_in, fixed[k]) == 0)
            sort = fixed[k];
    if (sort_in && is_module_column(modules, sort_in))
        sort = sort_in;
    bool default_desc = !(strcmp(sort, "rank") == 0 || strcmp(sort, "name") == 0);
    bool desc = dir_in ? strcmp(dir_in, "desc") == 0 : default_desc;

    sort_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(students, i);
        sort_row *r = &rows[i];
        r->entry = e;
        r->order = i;
        json_t *rank = json_object_get(e, "rank");
        if (strcmp(sort, "rank") == 0)
            r->num = json_is_null(rank) ? 1e9 : (double)json_integer_value(rank);
        else if (strcmp(sort, "name") == 0)
            r->str = json_string_value(json_object_get(e, "name"));
        else if (strcmp(sort, "total") == 0)
            r->num = (double)json_integer_value(json_object_get(json_object_get(e, "total"), "earned"));
        else if (strcmp(sort, "milestones") == 0)
            r->num = (double)json_integer_value(json_object_get(e, "milestones_reached"));
        else if (strcmp(sort, "capstone") == 0)
            r->num = json_is_null(json_object_get(e, "capstone"))
                         ? -1
                         : json_number_value(json_object_get(json_object_get(e, "capstone"), "value"));
        else if (strcmp(sort, "last") == 0)
            r->str = json_string_value(json_object_get(e, "last_submission_at"));
        else
            r->num = module_share(e, sort);
    }
    sort_desc = desc;
    qsort(rows, n, sizeof *rows, cmp_rows);

    lb_buf_puts(b, "<div class=\"scroll\"><table id=\"ranking-table\">\n<thead><tr>");
    header_cell(b, "#", "rank", sort, desc, false, true);
    header_cell(b, "Student", "name", sort, desc, false, false);
    header_cell(b, "Total", "total", sort, desc, true, true);
    size_t i;
    json_t *m;
    json_array_foreach(modules, i, m)
    {
        /* "01": the column stays narrow; the slug is its title. */
        char number[3];
        snprintf(number, sizeof number, "%.2s", json_string_value(m));
        header_cell(b, number, json_string_value(m), sort, desc, true, true);
    }
    header_cell(b, "Milestones", "milestones", sort, desc, true, true);
    header_cell(b, "Capstone", "capstone", sort, desc, true, true);
    lb_buf_puts(b, "<th>Status</th>");
    header_cell(b, "Last submission", "last", sort, desc, true, false);
    lb_buf_puts(b, "</tr></thead>\n<tbody>\n");
    for (size_t r = 0; r < n; r++) {
        json_t *e = rows[r].entry;
        json_t *rank = json_object_get(e, "rank");
        lb_buf_puts(b, "<tr data-key=\"");
        lb_buf_html(b, json_string_value(json_object_get(e, "key_id")));
        if (json_is_null(rank))
            lb_buf_puts(b, "\"><td class=\"rank num\">-</td><td class=\"name\">");
        else
            lb_buf_printf(b, "\"><td class=\"rank num\">%lld</td><td class=\"name\">",
                          (long long)json_integer_value(rank));
        student_link(b, course, e);
        json_t *total = json_object_get(e, "total");
        lb_buf_printf(b, "</td><td class=\"total num\">%lld</td>",
                      (long long)json_integer_value(json_object_get(total, "earned")));
        json_array_foreach(modules, i, m)
        {
            json_t *cell = json_object_get(json_object_get(e, "modules"), json_string_value(m));
            if (!cell) {
                lb_buf_puts(b, "<td class=\"num\"></td>");
                continue;
            }
            const char *status = json_string_value(json_object_get(cell, "status"));
            lb_buf_printf(b, "<td class=\"num %s\" title=\"%lld/%lld, %s\">%lld%s</td>", status,
                          (long long)json_integer_value(json_object_get(cell, "earned")),
                          (long long)json_integer_value(json_object_get(cell, "possible")), status,
                          (long long)json_integer_value(json_object_get(cell, "earned")),
                          strcmp(status, "verified") == 0 ? " &#10003;" : "");
        }
        lb_buf_printf(b, "<td class=\"milestones num\">%lld</td>",
                      (long long)json_integer_value(json_object_get(e, "milestones_reached")));
        json_t *cap = json_object_get(e, "capstone");
        if (json_is_object(cap)) {
            lb_buf_puts(b, "<td class=\"num\" title=\"");
            lb_buf_html(b, json_string_value(json_object_get(cap, "milestone")));
            lb_buf_puts(b, ": ");
            lb_buf_html(b, json_string_value(json_object_get(cap, "metric")));
            lb_buf_printf(b, "\">%.4g</td>", json_number_value(json_object_get(cap, "value")));
        } else {
            lb_buf_puts(b, "<td class=\"num\"></td>");
        }
        bool verified = json_is_true(json_object_get(e, "verified"));
        const char *status = json_is_null(rank) ? "" : verified ? "verified" : "self-reported";
        lb_buf_printf(b, "<td class=\"status %s\">%s</td>", status, status);
        /* "2026-11-29 00:12" in the cell, the exact time in its title. */
        const char *last = json_string_value(json_object_get(e, "last_submission_at"));
        if (last && strlen(last) >= 16) {
            lb_buf_puts(b, "<td class=\"last\" title=\"");
            lb_buf_html(b, last);
            lb_buf_printf(b, "\">%.10s %.5s</td></tr>\n", last, last + 11);
        } else {
            lb_buf_puts(b, "<td class=\"last\"></td></tr>\n");
        }
    }
    lb_buf_puts(b, "</tbody>\n</table></div>\n");
    lb_buf_puts(b, "<p class=\"meta\">Module columns: the best score (of 100 for most modules); &#10003; verified. "
                   "Capstone: the headline figure of the highest milestone submitted.</p>\n");
    free(rows);
}

void lb_web_course(lb_server *srv, lb_request *req, lb_response *res)
{
    const char *course = req->params[0];
    json_t *doc = NULL;
    bool found = false;
    if (!lb_valid_course_id(course)) {
        lb_web_error(res, req, 404, "not_found", "No such course.");
        return;
    }
    if (lb_ranking_json(srv->store, course, time(NULL), &doc, &found) != TT_OK) {
        lb_web_error(res, req, 500, "internal", tt_error_last());
        return;
    }
    if (!found) {
        lb_web_error(res, req, 404, "not_found", "No such course on this server.");
        return;
    }
    json_t *c = json_object_get(doc, "course");
    json_t *students = json_object_get(doc, "students");
    const char *title = json_string_value(json_object_get(c, "title"));
    size_t ranked = 0, submissions = 0, i;
    json_t *s;
    json_array_foreach(students, i, s)
    {
        ranked += !json_is_null(json_object_get(s, "rank"));
        submissions += (size_t)json_integer_value(json_object_get(s, "submissions"));
    }
    lb_buf b = {0};
    char page_title[320];
    snprintf(page_title, sizeof page_title, "%s: leaderboard", title);
    page_start(&b, page_title);
    lb_buf_puts(&b, "<header><h1 id=\"course-title\">");
    lb_buf_html(&b, title);
    lb_buf_printf(&b, "</h1><p class=\"meta\" id=\"summary\">%zu students enrolled, %zu ranked, %zu submissions. "
                      "Updated ",
                  json_array_size(students), ranked, submissions);
    lb_buf_html(&b, json_string_value(json_object_get(doc, "generated_at")));
    lb_buf_puts(&b, " (<a href=\"/api/v1/courses/");
    lb_buf_url(&b, course);
    lb_buf_puts(&b, "/ranking\">JSON</a>)</p></header>\n<main>\n<section id=\"ranking\"><h2>Ranking</h2>\n");
    if (json_array_size(students) == 0)
        lb_buf_puts(&b, "<p>No student has enrolled yet.</p>\n");
    else
        ranking_table(&b, doc, course, lb_query(req, "sort"), lb_query(req, "dir"));
    lb_buf_puts(&b, "</section>\n<section id=\"charts\"><h2>Charts</h2>\n<div class=\"charts\">\n");
    chart_distribution(&b, doc);
    chart_submissions(&b, srv, course);
    chart_pass_rates(&b, doc);
    lb_buf_puts(&b, "</div>\n</section>\n</main>\n");
    page_end(&b);
    json_decref(doc);
    html_response(res, req, 200, &b);
}

/* ---------------------------------------------------------------- a student's page */

void lb_web_student(lb_server *srv, lb_request *req, lb_response *res)
{
    const char *course = req->params[0], *key_id = req->params[1];
    json_t *doc = NULL;
    bool found = false;
    if (!lb_valid_course_id(course) || !lb_valid_hex(key_id, TITO_KEY_ID_CHARS, TITO_KEY_ID_CHARS)) {
        lb_web_error(res, req, 404, "not_found", "No such course or student.");
        return;
    }
    if (lb_student_json(srv->store, course, key_id, time(NULL), &doc, &found) != TT_OK) {
        lb_web_error(res, req, 500, "internal", tt_error_last());
        return;
    }
    if (!found) {
        lb_web_error(res, req, 404, "not_found", "No such student in this course.");
        return;
    }
    json_t *st = json_object_get(doc, "student");
    json_t *c = json_object_get(doc, "course");
    const char *name = json_string_value(json_object_get(st, "name"));
    lb_buf b = {0};
    char page_title[400];
    snprintf(page_title, sizeof page_title, "%s: %s", name, json_string_value(json_object_get(c, "title")));
    page_start(&b, page_title);
    lb_buf_puts(&b, "<header><p class=\"meta\"><a href=\"/c/");
    lb_buf_url(&b, course);
    lb_buf_puts(&b, "\">");
    lb_buf_html(&b, json_string_value(json_object_get(c, "title")));
    lb_buf_puts(&b, "</a></p><h1 id=\"student-name\">");
    lb_buf_html(&b, name);
    lb_buf_puts(&b, "</h1><p class=\"meta\" id=\"student-summary\">");
    json_t *rank = json_object_get(st, "rank");
    json_t *total = json_object_get(st, "total");
    if (json_is_null(rank))
        lb_buf_puts(&b, "No graded submission yet");
    else
        lb_buf_printf(&b, "Rank %lld of %lld, %lld points", (long long)json_integer_value(rank),
                      (long long)json_integer_value(json_object_get(doc, "of")),
                      (long long)json_integer_value(json_object_get(total, "earned")));
    lb_buf_printf(&b, ", %lld milestones reached. Key <code>%.16s</code></p></header>\n<main>\n",
                  (long long)json_integer_value(json_object_get(st, "milestones_reached")), key_id);

    lb_buf_puts(&b, "<section id=\"modules\"><h2>Modules</h2>\n<table id=\"module-table\"><thead><tr><th>Module"
                    "</th><th>Progress</th><th class=\"num\">Best</th><th>Status</th><th>Commit</th><th>Submitted"
                    "</th></tr></thead>\n<tbody>\n");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "modules"), i, m)
    {
        json_t *e = json_object_get(json_object_get(st, "modules"), json_string_value(m));
        lb_buf_puts(&b, "<tr><td>");
        lb_buf_html(&b, json_string_value(m));
        if (!e) {
            lb_buf_puts(&b, "</td><td><span class=\"progress\"></span></td><td class=\"num\"></td><td>not "
                            "submitted</td><td></td><td></td></tr>\n");
            continue;
        }
        double earned = (double)json_integer_value(json_object_get(e, "earned"));
        double possible = (double)json_integer_value(json_object_get(e, "possible"));
        double share = possible > 0 ? earned / possible : 0;
        const char *status = json_string_value(json_object_get(e, "status"));
        lb_buf_printf(&b, "</td><td><span class=\"progress\" title=\"%.0f%%\"><span style=\"width:%.0f%%\"></span>"
                          "</span></td><td class=\"num\">%.0f/%.0f</td><td class=\"%s\">%s</td><td><code>%.10s"
                          "</code></td><td>",
                      100 * share, 100 * share, earned, possible, status, status,
                      json_string_value(json_object_get(e, "commit")));
        lb_buf_html(&b, json_string_value(json_object_get(e, "submitted_at")));
        lb_buf_puts(&b, "</td></tr>\n");
    }
    lb_buf_puts(&b, "</tbody></table></section>\n");

    lb_buf_puts(&b, "<section id=\"milestones\"><h2>Milestones</h2>\n<table id=\"milestone-table\"><thead><tr>"
                    "<th>Milestone</th><th>Reached</th><th>Status</th><th>Metrics</th></tr></thead>\n<tbody>\n");
    json_array_foreach(json_object_get(doc, "milestones"), i, m)
    {
        json_t *e = json_object_get(json_object_get(st, "milestones"), json_string_value(m));
        lb_buf_puts(&b, "<tr><td>");
        lb_buf_html(&b, json_string_value(m));
        if (!e) {
            lb_buf_puts(&b, "</td><td>not submitted</td><td></td><td></td></tr>\n");
            continue;
        }
        bool reached = json_is_true(json_object_get(e, "reached"));
        const char *status = json_string_value(json_object_get(e, "status"));
        lb_buf_printf(&b, "</td><td>%s</td><td class=\"%s\">%s</td><td>", reached ? "&#10003; reached" : "not yet",
                      status, status);
        const char *k;
        json_t *v;
        bool first = true;
        json_object_foreach(json_object_get(e, "metrics"), k, v)
        {
            lb_buf_puts(&b, first ? "" : ", ");
            lb_buf_html(&b, k);
            lb_buf_printf(&b, " %.4g", json_number_value(v));
            first = false;
        }
        lb_buf_puts(&b, "</td></tr>\n");
    }
    lb_buf_puts(&b, "</tbody></table></section>\n");

    lb_buf_puts(&b, "<section id=\"history\"><h2>Submissions</h2>\n<table id=\"history-table\"><thead><tr><th>"
                    "Received</th><th>Subject</th><th class=\"num\">Score</th><th>Status</th><th>Id</th></tr>"
                    "</thead>\n<tbody>\n");
    json_t *h;
    json_array_foreach(json_object_get(st, "history"), i, h)
    {
        lb_buf_puts(&b, "<tr><td>");
        lb_buf_html(&b, json_string_value(json_object_get(h, "received_at")));
        lb_buf_puts(&b, "</td><td>");
        lb_buf_html(&b, json_string_value(json_object_get(h, "subject")));
        json_t *score = json_object_get(h, "score");
        if (json_is_object(score))
            lb_buf_printf(&b, "</td><td class=\"num\">%lld/%lld%s</td>",
                          (long long)json_integer_value(json_object_get(score, "earned")),
                          (long long)json_integer_value(json_object_get(score, "possible")),
                          strcmp(json_string_value(json_object_get(h, "mode")), "test") == 0 ? " (test)" : "");
        else
            lb_buf_printf(&b, "</td><td class=\"num\">%s</td>",
                          json_is_true(json_object_get(h, "reached")) ? "reached" : "not reached");
        const char *status = json_string_value(json_object_get(h, "status"));
        lb_buf_printf(&b, "<td class=\"%s\">%s</td><td><code>%.12s</code></td></tr>\n", status, status,
                      json_string_value(json_object_get(h, "id")));
    }
    lb_buf_puts(&b, "</tbody></table></section>\n</main>\n");
    page_end(&b);
    json_decref(doc);
    html_response(res, req, 200, &b);
}
