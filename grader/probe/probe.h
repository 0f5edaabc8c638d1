/*
 * grader/probe/probe.h: the API of probes, the trusted programs that exercise a module.
 *
 * A probe is a table of cases. tito links the same probe twice, once with the
 * student's module and once with the reference, runs both in the sandbox on the same
 * seed, and compares the two transcripts. A case never decides pass or fail itself: it
 * records what it observed (tensors, scalars, status codes) and the judge, in tito's
 * own process, compares the student's records with the reference's, using the
 * tolerances the reference run declared. Nothing the student's code prints, returns
 * or writes can change that comparison except by producing the right values.
 *
 * A case draws its inputs from probe_rng(p), seeded from the seed tito picks at grading
 * time, so expected values cannot be precomputed. It frees everything it made: the
 * harness records the number of framework allocations still live after each case, and
 * a difference from the reference's count is a leak verdict.
 *
 *   static void case_add_broadcast_row(tito_probe *p)
 *   {
 *       tt_tensor *a = probe_randn(p, 2, TT_SHAPE(2, 3));
 *       tt_tensor *b = probe_randn(p, 1, TT_SHAPE(3));
 *       tt_tensor *out = NULL;
 *       probe_note(p, "a: [2,3]  b: [3]  (b broadcast along dim 0)");
 *       probe_status(p, "status", tt_tensor_add(&out, a, b));
 *       probe_tol_elementwise(p);
 *       probe_tensor(p, "out", out);
 *       tt_tensor_free(out); tt_tensor_free(b); tt_tensor_free(a);
 *   }
 *   static const tito_probe_case cases[] = {
 *       {"add.broadcast_row", "elementwise", 2, case_add_broadcast_row}, ...
 *   };
 *   TITO_PROBE_MAIN(cases)
 *
 * Transcript (written to fd 3; text, one record per line; floats in C99 hex, exact):
 *   tito-transcript 1
 *   begin <case>
 *   note <free text>
 *   tol <kind> <params...>        exact | elem | reduce <k> | abs <atol> <rtol>
 *   tensor <label> <ndim> <d0..> <values...>      or: tensor <label> null
 *                                                  or: tensor <label> bad <why>
 *   scalar <label> <value>
 *   int <label> <value>
 *   status <label> <code> <name>
 *   end <case> live=<framework allocations the case left live: after minus before>
 *   time <seconds>                 after an end, only with --times (the reference run)
 * "bad" is a result the harness refused to read (ndim outside 0..4, NULL storage,
 * strides reaching outside the storage); it never matches a reference record.
 * Each case gets its own generator, seeded from the run's seed and the case's name,
 * so it sees the same inputs whether the run starts at it or earlier.
 *
 * Command line of a probe binary (used by tito only):
 *   probe --list                        the case table as lines: name category points
 *   probe --list-perf                   the speed kernels, one name per line
 *   probe --seed HEX [--small] [--times] [--from N] [CASE...]
 *                                       run cases (all, those named, from index N on)
 *   probe --perf NAME --reps R --seed HEX [--small]   run a speed kernel R times
 */
#ifndef TITO_PROBE_H
#define TITO_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "tinytorch/core.h"
#include "tinytorch/tensor.h"

typedef struct tito_probe tito_probe;

typedef struct tito_probe_case {
    const char *name;     /* "category.what", unique within the probe */
    const char *category; /* groups cases in reports; hidden cases show only this */
    int points;
    void (*run)(tito_probe *p);
} tito_probe_case;

/* A speed kernel: setup once (inputs from the rng), then `run` R times. tito measures the
 * child's CPU time (or instruction count) from outside, for the student and the
 * reference, and reports the ratio. */
typedef struct tito_probe_perf {
    const char *name;      /* "matmul_512" */
    void *(*setup)(tito_probe *p);
    void (*run)(void *state);
    void (*teardown)(void *state);
} tito_probe_perf;

/* ------------------------------------------------------------ inputs */

tt_rng *probe_rng(tito_probe *p);

/* True when running at small sizes (under Valgrind). Cases scale their inputs down. */
bool probe_small(const tito_probe *p);

/* New tensors from the case's generator (built with the reference core, so never NULL
 * unless memory runs out; a NULL is recorded and the case goes on). The caller frees. */
tt_tensor *probe_randn(tito_probe *p, int ndim, const size_t *shape);
tt_tensor *probe_uniform(tito_probe *p, int ndim, const size_t *shape, float low, float high);

/* A new contiguous tensor holding a copy of `data` (numel floats, row-major), built by
 * the harness like the two above (never by the module under test). The caller frees. */
tt_tensor *probe_from_data(tito_probe *p, int ndim, const size_t *shape, const float *data);

/* ------------------------------------------------------------ records */

/* Context shown next to a failure of the following records (only the reference run's
 * notes are shown: a student's code cannot change what the student is told). */
void probe_note(tito_probe *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The tolerance of the records that follow (the reference run's declaration counts):
 *   exact:       bit-identical (integers, indices, shapes, masks, batches);
 *   elementwise: |got - exp| <= 1e-6 + 1e-5 |exp|;
 *   reduction:   over k terms, |got - exp| <= 1e-5 sqrt(k) (1 + |exp|);
 *   abs:         |got - exp| <= atol + rtol |exp| (loss traces: 1e-2). */
void probe_tol_exact(tito_probe *p);
void probe_tol_elementwise(tito_probe *p);
void probe_tol_reduction(tito_probe *p, size_t k);
void probe_tol(tito_probe *p, double atol, double rtol);

void probe_tensor(tito_probe *p, const char *label, const tt_tensor *t);
void probe_scalar(tito_probe *p, const char *label, double value);
void probe_int(tito_probe *p, const char *label, long value);
void probe_status(tito_probe *p, const char *label, tt_status status);

/* ------------------------------------------------------------ main */

int tito_probe_main(int argc, char **argv, const tito_probe_case *cases, size_t n_cases,
                    const tito_probe_perf *perfs, size_t n_perfs);

#define TITO_PROBE_MAIN(cases)                                                              \
    int main(int argc, char **argv)                                                         \
    {                                                                                       \
        return tito_probe_main(argc, argv, cases, sizeof cases / sizeof cases[0], NULL, 0); \
    }

#define TITO_PROBE_MAIN_WITH_PERF(cases, perfs)                                             \
    int main(int argc, char **argv)                                                         \
    {                                                                                       \
        return tito_probe_main(argc, argv, cases, sizeof cases / sizeof cases[0], perfs,    \
                               sizeof perfs / sizeof perfs[0]);                             \
    }

#endif /* TITO_PROBE_H */
