/*
 * grader/phases.h: the phases after judging (docs/grading.md, phases 4 to 6: memcheck,
 * speed, score) as one hook of the engine (engine.h, tito_grade_options.phase), run while
 * the probes of the grade still exist.
 *
 *   tito_after_judge aj = TITO_AFTER_JUDGE_INIT;
 *   aj.kit = kit; aj.module = m;
 *   tito_score_rules_from_course(&aj.rules, tito_course_module_of(course, m));
 *   opts.phase = tito_after_judge_run; opts.phase_ctx = &aj;
 *   tito_grade_run(&g, kit, m, path, &opts);   // g is scored, memcheck and perf filled
 *
 * For a full grade (grade->full) whose build passed: Valgrind memcheck on the visible
 * and the hidden student probes (merged), then every speed kernel of the suite
 * (suites/<slug>/suite.json in the kit) against the reference probe that holds it. A
 * build that failed lists the kernels with the build's verdict (their share is lost).
 * Then score.c's points, always (also for `tito module test`, which scores correctness
 * only). Phase times go to grade->seconds_memcheck and seconds_perf.
 */
#ifndef TITO_PHASES_H
#define TITO_PHASES_H

#include <stdbool.h>

#include "engine.h"
#include "grade.h"
#include "kit.h"
#include "modules.h"
#include "score.h"
#include "tinytorch/core.h"

typedef struct tito_after_judge {
    const tito_kit *kit;         /* required: where suite.json is */
    const tito_module *module;   /* required */
    tito_score_rules rules;      /* the course's (tito_score_rules_from_course); all zero: the defaults */
    bool memcheck;               /* run Valgrind memcheck (full grades) */
    bool perf;                   /* measure the speed kernels (full grades) */
    bool deterministic;          /* speed by callgrind instruction counts */
    bool perf_small;             /* speed kernels at their --small size */
    int trials;                  /* timed pairs per kernel; 0: 7 */
    const char *temp_parent;     /* NULL: /tmp */
} tito_after_judge;

#define TITO_AFTER_JUDGE_INIT { .memcheck = true, .perf = true }

/* The hook (a tito_grade_phase_fn; ctx is a tito_after_judge). Errors: those of the
 * phases (the grader's own trouble: TT_ERR_NOMEM, TT_ERR_IO, a malformed suite.json as
 * TT_ERR_FORMAT); everything the student's code does is a result in the grade. */
tt_status tito_after_judge_run(void *ctx, tito_grade *grade, const tito_grade_probes *probes);

#endif /* TITO_PHASES_H */
