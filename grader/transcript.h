/*
 * grader/transcript.h: a probe's transcript (the format is in grader/probe/probe.h),
 * parsed strictly.
 *
 * A transcript is untrusted text when it comes from a student's probe: the parser
 * reads any bytes without crashing, keeps the cases that were complete and well
 * formed, and describes the first problem (line number and what was wrong) instead of
 * guessing past it. Nothing is dropped silently: a case cut short by the end of the
 * text is kept as `ended = false`, which is how the engine learns in which case a
 * probe died.
 */
#ifndef TITO_TRANSCRIPT_H
#define TITO_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "tinytorch/core.h"
#include "tinytorch/tensor.h"

typedef enum tito_record_kind {
    TITO_RECORD_NOTE,
    TITO_RECORD_TOL,
    TITO_RECORD_TENSOR,
    TITO_RECORD_SCALAR,
    TITO_RECORD_INT,
    TITO_RECORD_STATUS,
} tito_record_kind;

typedef enum tito_tol_kind {
    TITO_TOL_EXACT,  /* equal values (NaN equals NaN) */
    TITO_TOL_ELEM,   /* |got - exp| <= 1e-6 + 1e-5 |exp| */
    TITO_TOL_REDUCE, /* |got - exp| <= 1e-5 sqrt(k) (1 + |exp|) */
    TITO_TOL_ABS,    /* |got - exp| <= atol + rtol |exp| */
} tito_tol_kind;

typedef struct tito_tolerance {
    tito_tol_kind kind;
    double k;          /* TITO_TOL_REDUCE: the number of terms */
    double atol, rtol; /* TITO_TOL_ABS */
} tito_tolerance;

typedef enum tito_tensor_state {
    TITO_TENSOR_VALUES, /* ndim, shape and values */
    TITO_TENSOR_NULL,   /* the result pointer was NULL */
    TITO_TENSOR_BAD,    /* the harness refused to read it; `text` says why */
} tito_tensor_state;

typedef struct tito_record {
    tito_record_kind kind;
    size_t line;       /* 1-based line in the transcript */
    char *label;       /* tensor, scalar, int, status; NULL for note and tol */
    char *text;        /* note: its text; tensor BAD: the reason; else NULL */
    tito_tolerance tol;          /* TITO_RECORD_TOL */
    tito_tensor_state state;     /* TITO_RECORD_TENSOR */
    int ndim;
    size_t shape[TT_MAX_DIMS];
    double *values;    /* tensor: numel values; scalar: one value (in `value`) */
    size_t n_values;
    double value;      /* scalar */
    long ivalue;       /* int; status: the code */
} tito_record;

typedef struct tito_transcript_case {
    char *name;
    tito_record *records;
    size_t n_records;
    bool ended;       /* its "end" line was read */
    long live;        /* from "end ... live=N" */
    double seconds;   /* from a "time" line after the end (reference runs), else -1 */
} tito_transcript_case;

typedef struct tito_transcript {
    tito_transcript_case *cases;
    size_t n_cases;
    bool has_header;  /* the first line was "tito-transcript 1" */
    /* The first problem, or NULL when the text is well formed. Parsing stops there:
     * a problem inside a case leaves that case as the last one, not ended; a problem
     * between cases leaves the cases before it. */
    char *error;      /* "line 12: tensor out: 5 values for shape [2,3]" */
    size_t error_line;
    bool error_in_case; /* the problem is inside the last case of `cases` */
} tito_transcript;

/* Flags of tito_transcript_parse. */
enum {
    /* Accept "time" lines (only the reference is asked for them). */
    TITO_TRANSCRIPT_TIMES = 1u << 0,
};

/* Parse `len` bytes of transcript text (need not be NUL-terminated). A malformed text
 * is not an error: *out describes it (see `error`). Errors: TT_ERR_NOMEM only. */
tt_status tito_transcript_parse(tito_transcript **out, const char *text, size_t len,
                                unsigned flags);

/* Free a transcript. NULL does nothing. */
void tito_transcript_free(tito_transcript *transcript);

#endif /* TITO_TRANSCRIPT_H */
