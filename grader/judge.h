/*
 * grader/judge.h: the verdict of one case, from the reference's transcript of it and
 * the student's.
 *
 * The judge walks the reference's data records (tensor, scalar, int, status) and the
 * student's side by side. Kind, label, shape and status code must match exactly;
 * values must lie within the tolerance the *reference* declared before the record
 * (the student's own "tol" and "note" lines are ignored: they come from the same probe
 * code, and anything else writing them is not to be believed). The first difference
 * is the verdict's message, followed by the reference's last note before it:
 *
 *     out[1,0]: expected 3.0, got 2.0 (2 of 6 values differ)
 *       out = a + b;  a: [2,3]  b: [2,1]  (b broadcast along dim 1)
 *
 * When every record matches, the number of framework allocations the case left live
 * must match too; otherwise the verdict is TITO_LEAK.
 */
#ifndef TITO_JUDGE_H
#define TITO_JUDGE_H

#include "grade.h"
#include "transcript.h"

/* Judge one case that ran to its end in both transcripts. *message gets a new string
 * (free()) explaining a failure, or NULL on a pass. Errors: TT_ERR_NOMEM only. */
tt_status tito_judge_case(tito_verdict *verdict, char **message,
                          const tito_transcript_case *reference,
                          const tito_transcript_case *student);

/* Whether got is within `tol` of expected (NaN matches NaN, an infinity only itself).
 * Exposed for the tests. */
bool tito_judge_close(double expected, double got, const tito_tolerance *tol);

/* The shortest decimal text that reads back as `v` (as a float when v is one), with
 * ".0" on whole numbers: "3.0", "0.1", "-2.5e-08", "nan", "inf". Returns buf. */
const char *tito_judge_format_value(char *buf, size_t size, double v);

#endif /* TITO_JUDGE_H */
