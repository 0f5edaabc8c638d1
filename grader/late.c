/*
 * Deadlines and the late policy (late.h): time parsing, which commit counts, how late
 * it is and what that costs. Pure functions over plain values; batch.c feeds them what
 * git says.
 */
#include "late.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

long long tito_days_from_civil(int year, int month, int day)
{
    /* Howard Hinnant's days_from_civil: exact for every Gregorian date. */
    long long y = (long long)year - (month <= 2);
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long mp = (month + 9) % 12;
    long long doy = (153 * mp + 2) / 5 + day - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* `n` decimal digits at s into *out. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

tt_status tito_time_parse(long long *out, const char *text)
{
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
    const char *p = text;
    *out = 0;
    if (!p || strlen(p) < 20 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) ||
        p[7] != '-' || !digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') ||
        !digits(p + 11, 2, &h) || p[13] != ':' || !digits(p + 14, 2, &mi) || p[16] != ':' ||
        !digits(p + 17, 2, &s))
        goto bad;
    p += 19;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        sign = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) && p[3] == ':' &&
               digits(p + 4, 2, &om)) {
        sign = *p == '+' ? 1 : -1;
        if (oh > 23 || om > 59)
            goto bad;
    } else {
        goto bad;
    }
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
        goto bad;
    int dim = month_days[mo - 1] + (mo == 2 && leap(y));
    if (d > dim)
        goto bad;
    *out = tito_days_from_civil(y, mo, d) * TITO_DAY_SECONDS + h * 3600LL + mi * 60LL + s -
           sign * (oh * 3600LL + om * 60LL);
    return TT_OK;
bad:
    return tt_error_set(TT_ERR_FORMAT,
                        "tito_time_parse: \"%.40s\" is not a time such as \"2026-10-03T23:59:00Z\" "
                        "or \"2026-10-03T23:59:00+02:00\"",
                        text ? text : "(null)");
}

void tito_late_choose(tito_late_choice *out, const tito_late_commit *commits, size_t n,
                      bool has_deadline, long long deadline, int max_late_days)
{
    memset(out, 0, sizeof *out);
    bool limited = has_deadline && max_late_days >= 0;
    long long cutoff = limited ? deadline + (long long)max_late_days * TITO_DAY_SECONDS : 0;
    for (size_t i = 0; i < n; i++) {
        const tito_late_commit *c = &commits[i];
        if (!c->changes || (limited && c->time > cutoff))
            continue;
        if (!out->found || c->time > commits[out->index].time) {
            out->found = true;
            out->index = i;
        }
    }
    if (!out->found || !has_deadline)
        return;
    long long late = commits[out->index].time - deadline;
    if (late > 0) {
        out->late_seconds = late;
        out->late_days = (int)((late + TITO_DAY_SECONDS - 1) / TITO_DAY_SECONDS);
    }
}

void tito_late_charge(tito_late_entry *entries, size_t n, const tito_late_policy *policy)
{
    if (n == 0)
        return;
    /* The order grace is spent in: by deadline, ties in the order given (a stable
     * insertion sort of indices: a course has a few dozen modules). Without memory for
     * the indices of a huge list, the order given. */
    size_t stack_idx[64];
    size_t *idx = n <= 64 ? stack_idx : malloc(n * sizeof *idx);
    for (size_t i = 0; idx && i < n; i++) {
        size_t j = i;
        while (j > 0 && entries[idx[j - 1]].deadline > entries[i].deadline) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    int grace = policy ? policy->grace_days : 0;
    for (size_t k = 0; k < n; k++) {
        tito_late_entry *e = &entries[idx ? idx[k] : k];
        int late = e->late_days > 0 ? e->late_days : 0;
        int used = late < grace ? late : grace;
        grace -= used;
        e->grace_used = used;
        double pct = policy ? (double)(late - used) * policy->penalty_per_day : 0.0;
        if (policy && pct > policy->penalty_cap)
            pct = policy->penalty_cap;
        e->penalty_percent = pct > 0 ? pct : 0.0;
    }
    if (idx != stack_idx)
        free(idx);
}

double tito_late_apply(double earned, double penalty_percent)
{
    double v = earned * (100.0 - penalty_percent) / 100.0;
    return round(v * 100.0) / 100.0;
}
