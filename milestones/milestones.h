/*
 * milestones/milestones.h: the milestone table (milestones.def) as a C array, and the
 * one rule that says whether a measured value meets a bar.
 *
 * Header-only and free of the framework, so that tito (which judges a milestone from
 * the metrics in the program's result file) and the milestone programs (which show the
 * same bars in their final table) read the bars from the same place and compare in the
 * same way. Include it from one place per program: the array is static.
 */
#ifndef TT_MILESTONES_H
#define TT_MILESTONES_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The schema string of a milestone program's --json result file. */
#define TT_MILESTONE_SCHEMA "tito-milestone/1"
/* The schema of the --json file of `--evaluate`: the metrics of saved parameters. */
#define TT_MILESTONE_EVALUATION_SCHEMA "tito-milestone-evaluation/1"

/* One bar: one line of milestones.def. */
typedef struct tt_milestone_bar {
    int number;
    const char *slug;
    int year;
    const char *title;
    int first_module, last_module;
    const char *metric;
    const char *comparison; /* ">=" or "<=" */
    double bar;
    const char *program;
} tt_milestone_bar;

static const tt_milestone_bar tt_milestone_bars[] = {
#define TT_MILESTONE(number, slug, year, title, first, last, metric, comparison, bar, program) \
    {number, slug, year, title, first, last, metric, comparison, bar, program},
#include "milestones.def"
#undef TT_MILESTONE
};

#define TT_MILESTONE_BAR_COUNT (sizeof tt_milestone_bars / sizeof tt_milestone_bars[0])

/* The first bar of milestone `number` (the row that names its slug, title and program),
 * or NULL when the table has no such milestone. */
static inline const tt_milestone_bar *tt_milestone_find(int number)
{
    for (size_t i = 0; i < TT_MILESTONE_BAR_COUNT; i++)
        if (tt_milestone_bars[i].number == number)
            return &tt_milestone_bars[i];
    return NULL;
}

/* Whether `value` meets the bar. Exact comparison in double: accuracies are counts over
 * a split size (190/200), and the JSON writers print 17 significant digits, so a value
 * that reaches a bar on screen reaches it in the file too. NaN (a missing or broken
 * measurement) never meets a bar, nor does an unknown comparison. */
static inline bool tt_milestone_bar_met(const tt_milestone_bar *bar, double value)
{
    if (value != value)
        return false;
    if (strcmp(bar->comparison, ">=") == 0)
        return value >= bar->bar;
    if (strcmp(bar->comparison, "<=") == 0)
        return value <= bar->bar;
    return false;
}

#endif /* TT_MILESTONES_H */
