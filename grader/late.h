/*
 * grader/late.h: deadlines and the late policy, as pure functions (no git, no files).
 *
 * Batch grading (grader/batch.h) asks three questions of each student and module, and
 * answers each here so that the rules can be tested on their own:
 *
 *   1. Which commit is graded? The newest commit (by committer time) that changed the
 *      module's source and is no later than the cutoff: the student's deadline (the
 *      module's, plus any extension) plus the policy's max_late_days. Commits that did
 *      not touch the module do not count, so a student working on module 02 after
 *      module 01's deadline is not late on module 01.
 *   2. How late is it? Whole days, rounded up: one second late is one day late.
 *   3. What does it cost? Each student has grace_days for the whole term, spent on the
 *      late modules in deadline order (then module order) until they run out; each
 *      late day beyond grace costs penalty_per_day percent of the module's points, at
 *      most penalty_cap percent.
 *
 * Times are seconds since the epoch (UTC) in a long long, so nothing depends on the
 * width of time_t. Commit times are what git records, which a student can set: the
 * instructor guide says so, and what to use when that matters.
 */
#ifndef TITO_LATE_H
#define TITO_LATE_H

#include <stdbool.h>
#include <stddef.h>

#include "course.h"
#include "tinytorch/core.h"

#define TITO_DAY_SECONDS 86400LL

/* Parse an RFC 3339 time, "2026-10-03T23:59:00Z" or "2026-10-03T23:59:00+02:00"
 * ("t" and "z" in lower case too; no fractions), into seconds since the epoch, UTC.
 * Errors: TT_ERR_FORMAT (not such a time, or not a real date such as 02-30); the
 * message quotes the text. */
tt_status tito_time_parse(long long *out, const char *text);

/* Days from 1970-01-01 of a civil date (proleptic Gregorian), for tests and parsing. */
long long tito_days_from_civil(int year, int month, int day);

/* One commit of a student's history, as the choice needs it. */
typedef struct tito_late_commit {
    long long time; /* committer time */
    bool changes;   /* adds, modifies or removes the module's source, against its first parent */
} tito_late_commit;

typedef struct tito_late_choice {
    bool found;             /* some commit changed the module no later than the cutoff */
    size_t index;           /* the commit to grade (into the array given) */
    long long late_seconds; /* its time after the deadline; 0 when on time */
    int late_days;          /* late_seconds in days, rounded up */
} tito_late_choice;

/* The commit to grade among `commits` (any order; of two eligible commits with the same
 * time the one given first wins): the newest that changes the module and is no later
 * than deadline + max_late_days days (max_late_days -1: no limit). Without a deadline,
 * the newest that changes the module, never late. */
void tito_late_choose(tito_late_choice *out, const tito_late_commit *commits, size_t n,
                      bool has_deadline, long long deadline, int max_late_days);

/* One module of one student, for charging lateness. */
typedef struct tito_late_entry {
    long long deadline;     /* in: the student's deadline (for the order grace is spent in) */
    int late_days;          /* in: from tito_late_choose; 0 when on time or not submitted */
    int grace_used;         /* out: grace days spent on this module */
    double penalty_percent; /* out: percent of the module's points taken */
} tito_late_entry;

/* Spend the student's grace days over `entries` (deadline order, then the order given)
 * and set each entry's penalty. */
void tito_late_charge(tito_late_entry *entries, size_t n, const tito_late_policy *policy);

/* `earned` less `penalty_percent` percent, rounded to hundredths (half away from zero). */
double tito_late_apply(double earned, double penalty_percent);

#endif /* TITO_LATE_H */
