/*
 * Points of a grade (the rules are in score.h). Integer points throughout: a share is
 * split with the remainder going to the first parts, and scaled points are rounded down,
 * so a grade never shows more than was earned and full marks stay exactly full.
 */
#define _POSIX_C_SOURCE 200809L

#include "score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tito_speed_band default_bands[] = {
    {0.25, 15},
    {0.1, 10},
    {0.03, 5},
};

void tito_score_rules_default(tito_score_rules *rules)
{
    rules->correctness = 70;
    rules->memcheck = 15;
    rules->speed = 15;
    rules->bands = default_bands;
    rules->n_bands = sizeof default_bands / sizeof default_bands[0];
}

void tito_score_rules_from_course(tito_score_rules *rules, const tito_course_module *cm)
{
    rules->correctness = cm->points_correctness;
    rules->memcheck = cm->points_memcheck;
    rules->speed = cm->points_speed;
    rules->bands = cm->bands;
    rules->n_bands = cm->n_bands;
}

const char *tito_score_kernel_category(const char *metric, char *buf, size_t size)
{
    const char *m = metric ? metric : "";
    size_t n = strcspn(m, "_");
    snprintf(buf, size, "%.*s", (int)n, m);
    return buf;
}

/* floor(total * num / den), exact for the sizes points have; 0 when den is 0. */
static int scaled(int total, double num, double den)
{
    if (den <= 0.0 || num <= 0.0)
        return 0;
    double v = floor((double)total * num / den + 1e-9);
    if (v > total)
        v = total;
    return (int)v;
}

static int band_points(const tito_score_rules *r, double ratio)
{
    /* Highest min_ratio first (course.h guarantees it; do not rely on it here). */
    int best = 0;
    double best_min = -1.0;
    for (size_t i = 0; i < r->n_bands; i++) {
        if (ratio >= r->bands[i].min_ratio && r->bands[i].min_ratio > best_min) {
            best = r->bands[i].points;
            best_min = r->bands[i].min_ratio;
        }
    }
    return best;
}

static int max_band_points(const tito_score_rules *r)
{
    int m = 0;
    for (size_t i = 0; i < r->n_bands; i++) {
        if (r->bands[i].points > m)
            m = r->bands[i].points;
    }
    return m;
}

/* Whether the checks a kernel stands on all pass (see score.h). */
static bool gate_open(const tito_grade *g, const char *metric, char *category, size_t size)
{
    tito_score_kernel_category(metric, category, size);
    bool any_of_category = false;
    for (size_t i = 0; i < g->n_cases; i++) {
        if (g->cases[i].category && strcmp(g->cases[i].category, category) == 0)
            any_of_category = true;
    }
    if (!any_of_category)
        category[0] = '\0';
    if (g->build != TITO_PASS)
        return false;
    for (size_t i = 0; i < g->n_cases; i++) {
        const tito_case_result *c = &g->cases[i];
        bool relevant = !any_of_category || (c->category && strcmp(c->category, category) == 0);
        /* A leak costs its own points; the values were right, which is what speed needs. */
        if (relevant && c->verdict != TITO_PASS && c->verdict != TITO_LEAK)
            return false;
    }
    return true;
}

static tt_status append_message(tito_perf_result *p, const char *text)
{
    if (p->message && strstr(p->message, text))
        return TT_OK; /* scored before (a receipt read back and scored again) */
    size_t old = p->message ? strlen(p->message) : 0;
    size_t add = strlen(text);
    char *m = realloc(p->message, old + add + 3);
    if (!m)
        return tt_error_set(TT_ERR_NOMEM, "tito_score_apply: out of memory");
    if (old) {
        memcpy(m + old, "; ", 2);
        memcpy(m + old + 2, text, add + 1);
    } else {
        memcpy(m, text, add + 1);
    }
    p->message = m;
    return TT_OK;
}

tt_status tito_score_apply(tito_grade *grade, const tito_score_rules *rules)
{
    if (!grade || !rules || rules->correctness < 0 || rules->memcheck < 0 || rules->speed < 0)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_score_apply: a grade and rules with non-negative shares are required");
    tito_grade *g = grade;

    /* Correctness. */
    double raw_earned = 0.0, raw_possible = 0.0;
    for (size_t i = 0; i < g->n_cases; i++) {
        tito_case_result *c = &g->cases[i];
        if (c->max_points < 0)
            c->max_points = 0;
        c->points = c->verdict == TITO_PASS ? c->max_points : 0;
        raw_earned += c->points;
        raw_possible += c->max_points;
    }
    int corr_possible = rules->correctness;
    int corr_earned = g->build == TITO_PASS ? scaled(rules->correctness, raw_earned, raw_possible) : 0;

    /* Memory safety. */
    tito_memcheck_result *m = &g->memcheck;
    m->points = 0;
    m->max_points = 0;
    if (g->full) {
        if (g->build != TITO_PASS) {
            m->max_points = rules->memcheck;
        } else if (m->status == TITO_MEMCHECK_CLEAN) {
            m->max_points = rules->memcheck;
            m->points = rules->memcheck;
        } else if (m->status == TITO_MEMCHECK_FINDINGS) {
            m->max_points = rules->memcheck;
        }
        /* ERROR: Valgrind could not run; NOT_RUN: not asked for. Neither counts. */
    }

    /* Speed. */
    int speed_possible = 0, speed_earned = 0;
    for (size_t i = 0; i < g->n_perf; i++) {
        g->perf[i].points = 0;
        g->perf[i].max_points = 0;
    }
    if (g->full && rules->speed > 0) {
        /* Speed is scored per kernel listed in the grade (a suite without kernels has
         * no speed to score), so the receipt's breakdown adds up from the entries. */
        if (g->n_perf > 0) {
            int n = (int)g->n_perf;
            int top = max_band_points(rules);
            for (int k = 0; k < n; k++) {
                tito_perf_result *p = &g->perf[k];
                int share = rules->speed / n + (k < rules->speed % n ? 1 : 0);
                if (p->verdict == TITO_SKIPPED)
                    continue;
                p->max_points = share;
                if (p->verdict != TITO_PASS)
                    continue;
                char category[128];
                if (!gate_open(g, p->metric, category, sizeof category)) {
                    char why[256];
                    if (category[0])
                        snprintf(why, sizeof why,
                                 "speed points need every \"%s\" check to give the right values first",
                                 category);
                    else
                        snprintf(why, sizeof why, "speed points need every check to give the right values first");
                    tt_status st = append_message(p, why);
                    if (st != TT_OK)
                        return st;
                    continue;
                }
                p->points = top > 0 ? scaled(share, band_points(rules, p->ratio), top) : share;
            }
            for (int k = 0; k < n; k++) {
                speed_possible += g->perf[k].max_points;
                speed_earned += g->perf[k].points;
            }
        }
    }

    g->possible = corr_possible + m->max_points + speed_possible;
    g->earned = corr_earned + m->points + speed_earned;
    return TT_OK;
}
