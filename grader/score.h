/*
 * grader/score.h: points of a grade, from the verdicts and measurements the phases left.
 *
 * A module is worth correctness + memcheck + speed points (the course file says how
 * many; 70/15/15 when no course is given):
 *   - correctness: the cases' own points (probe tables), scaled to the correctness
 *     share: earned = floor(share x case points earned / case points possible);
 *   - memcheck: the whole share when Valgrind found nothing, none with findings (or
 *     when the build failed, so nothing could be checked); left out of the possible
 *     points when Valgrind could not run (TITO_MEMCHECK_ERROR: never the student's loss);
 *   - speed: the share split evenly over the suite's kernels; a kernel earns by the
 *     bands (the first band, highest min_ratio first, that its ratio reaches), scaled
 *     to its part of the share. A kernel only earns when the checks it stands on give
 *     the right values (pass, or a leak verdict only: every case of the category named
 *     by the kernel's name up to the first '_': "matmul_512" -> "matmul"; every case
 *     when no case has that category), so a fast wrong answer (or a starter that
 *     returns at once) earns no speed. A kernel that
 *     failed to run earns nothing; one the grader could not measure (TITO_SKIPPED) is
 *     left out of the possible points. Only kernels listed in grade->perf count: a
 *     grade whose build failed lists them with the build's verdict to lose their share.
 * `tito module test` (grade->full false) scores correctness only, on the cases it ran.
 */
#ifndef TITO_SCORE_H
#define TITO_SCORE_H

#include <stddef.h>

#include "course.h"
#include "grade.h"
#include "tinytorch/core.h"

/* How a module's points are made (a view of the course file's entry). The bands use the
 * course file's type, sorted highest min_ratio first, with points out of `speed`. */
typedef struct tito_score_rules {
    int correctness;
    int memcheck;
    int speed;
    const tito_speed_band *bands;
    size_t n_bands;
} tito_score_rules;

/* 70/15/15 with bands >= 0.25x: 15, >= 0.1x: 10, >= 0.03x: 5. */
void tito_score_rules_default(tito_score_rules *rules);

/* The rules of a course's module entry (borrowing its bands). */
void tito_score_rules_from_course(tito_score_rules *rules, const tito_course_module *cm);

/* Fill every points / max_points of `grade` (memcheck, perf) and its earned / possible
 * totals, and each case's points (max_points on a pass, else 0). Case max_points are the
 * probe's and stay as they are. Perf messages gain the reason when the gate withholds
 * speed points. Errors: TT_ERR_INVALID_ARG (negative shares), TT_ERR_NOMEM. */
tt_status tito_score_apply(tito_grade *grade, const tito_score_rules *rules);

/* The category whose checks a speed kernel stands on: its name up to the first '_'
 * ("matmul_512" -> "matmul"), written into buf; returns buf. */
const char *tito_score_kernel_category(const char *metric, char *buf, size_t size);

#endif /* TITO_SCORE_H */
