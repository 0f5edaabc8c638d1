/*
 * grader/judge.c: compare one case's records, student against reference (judge.h).
 *
 * Statuses are named from their codes here, in tito's process (tt_status_name), never
 * from the name text the student's transcript carries.
 */
#include "judge.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ values */

bool tito_judge_close(double expected, double got, const tito_tolerance *tol)
{
    if (isnan(expected) || isnan(got))
        return isnan(expected) && isnan(got);
    if (isinf(expected) || isinf(got))
        return expected == got;
    double diff = fabs(got - expected), mag = fabs(expected);
    switch (tol->kind) {
    case TITO_TOL_EXACT: return got == expected;
    case TITO_TOL_ELEM: return diff <= 1e-6 + 1e-5 * mag;
    case TITO_TOL_REDUCE: return diff <= 1e-5 * sqrt(tol->k) * (1.0 + mag);
    case TITO_TOL_ABS: return diff <= tol->atol + tol->rtol * mag;
    }
    return false;
}

const char *tito_judge_format_value(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(buf, size, "nan");
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, size, v < 0 ? "-inf" : "inf");
        return buf;
    }
    bool is_float = (double)(float)v == v;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (is_float ? (float)back == (float)v : back == v)
            break;
    }
    size_t len = strlen(buf);
    if (!strpbrk(buf, ".eni") && len + 3 <= size)
        memcpy(buf + len, ".0", 3);
    return buf;
}

/* ------------------------------------------------------------ messages */

typedef struct text {
    char buf[2048];
    size_t len;
} text;

static void add(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void add(text *t, const char *fmt, ...)
{
    if (t->len >= sizeof t->buf - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < sizeof t->buf - t->len ? (size_t)n : sizeof t->buf - 1 - t->len;
}

static void add_shape(text *t, int ndim, const size_t *shape)
{
    add(t, "[");
    for (int d = 0; d < ndim; d++)
        add(t, d ? ",%zu" : "%zu", shape[d]);
    add(t, "]");
}

static const char *kind_word(tito_record_kind kind)
{
    switch (kind) {
    case TITO_RECORD_NOTE: return "note";
    case TITO_RECORD_TOL: return "tol";
    case TITO_RECORD_TENSOR: return "tensor";
    case TITO_RECORD_SCALAR: return "scalar";
    case TITO_RECORD_INT: return "int";
    case TITO_RECORD_STATUS: return "status";
    }
    return "?";
}

/* What a status means, for students reading a mismatch. */
static const char *status_gloss(long code)
{
    switch (code) {
    case TT_OK: return "success";
    case TT_ERR_INVALID_ARG: return "an invalid argument";
    case TT_ERR_SHAPE: return "shapes that do not fit";
    case TT_ERR_NOMEM: return "out of memory";
    case TT_ERR_NOT_IMPLEMENTED: return "not implemented yet";
    case TT_ERR_IO: return "a file error";
    case TT_ERR_FORMAT: return "a corrupt file";
    case TT_ERR_STATE: return "not valid now";
    case TT_ERR_RANGE: return "out of range";
    default: return "not a tt_status code";
    }
}

static const char *status_name(long code)
{
    if (code < -1000 || code > 1000)
        return "TT_ERR_UNKNOWN";
    return tt_status_name((tt_status)code);
}

/* The index of element i of a row-major tensor, as "[1,0]" ("" for a 0-D tensor). */
static void add_index(text *t, int ndim, const size_t *shape, size_t i)
{
    if (ndim == 0)
        return;
    size_t idx[TT_MAX_DIMS];
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    add_shape(t, ndim, idx);
}

static bool is_data(const tito_record *r)
{
    return r->kind != TITO_RECORD_NOTE && r->kind != TITO_RECORD_TOL;
}

/* ------------------------------------------------------------ comparison */

/* Compare one pair of data records; on a difference write the message's first line
 * into t and return false. */
static bool compare(text *t, const tito_record *exp, const tito_record *got,
                    const tito_tolerance *tol)
{
    char e[48], g[48];
    if (exp->kind != got->kind || strcmp(exp->label, got->label) != 0) {
        add(t, "the record after the last matching one should be %s %s, but the probe "
               "recorded %s %s (did something else write to the transcript?)",
            kind_word(exp->kind), exp->label, kind_word(got->kind), got->label);
        return false;
    }
    switch (exp->kind) {
    case TITO_RECORD_STATUS:
        if (exp->ivalue == got->ivalue)
            return true;
        add(t, "%s: expected %s (%s), got %s (%s)", exp->label, status_name(exp->ivalue),
            status_gloss(exp->ivalue), status_name(got->ivalue), status_gloss(got->ivalue));
        return false;
    case TITO_RECORD_INT:
        if (exp->ivalue == got->ivalue)
            return true;
        add(t, "%s: expected %ld, got %ld", exp->label, exp->ivalue, got->ivalue);
        return false;
    case TITO_RECORD_SCALAR:
        if (tito_judge_close(exp->value, got->value, tol))
            return true;
        add(t, "%s: expected %s, got %s", exp->label,
            tito_judge_format_value(e, sizeof e, exp->value),
            tito_judge_format_value(g, sizeof g, got->value));
        return false;
    case TITO_RECORD_TENSOR:
        break;
    case TITO_RECORD_NOTE:
    case TITO_RECORD_TOL:
        return true;
    }

    /* Tensors: presence, readability, shape, then values. */
    if (got->state == TITO_TENSOR_BAD) {
        add(t, "%s: the result cannot be read: %s", exp->label, got->text ? got->text : "");
        return false;
    }
    if (exp->state == TITO_TENSOR_NULL || got->state == TITO_TENSOR_NULL) {
        if (exp->state == got->state)
            return true;
        if (exp->state == TITO_TENSOR_NULL) {
            add(t, "%s: expected NULL (no result), got a tensor of shape ", exp->label);
            add_shape(t, got->ndim, got->shape);
        } else {
            add(t, "%s: expected a tensor of shape ", exp->label);
            add_shape(t, exp->ndim, exp->shape);
            add(t, ", got NULL");
        }
        return false;
    }
    if (exp->state == TITO_TENSOR_BAD) {
        add(t, "%s: the reference's result is unreadable (%s)", exp->label,
            exp->text ? exp->text : "");
        return false;
    }
    if (exp->ndim != got->ndim ||
        memcmp(exp->shape, got->shape, (size_t)exp->ndim * sizeof exp->shape[0]) != 0) {
        add(t, "%s: expected shape ", exp->label);
        add_shape(t, exp->ndim, exp->shape);
        add(t, ", got ");
        add_shape(t, got->ndim, got->shape);
        return false;
    }
    size_t first = exp->n_values, differ = 0;
    for (size_t i = 0; i < exp->n_values; i++) {
        if (!tito_judge_close(exp->values[i], got->values[i], tol)) {
            if (first == exp->n_values)
                first = i;
            differ++;
        }
    }
    if (differ == 0)
        return true;
    add(t, "%s", exp->label);
    add_index(t, exp->ndim, exp->shape, first);
    add(t, ": expected %s, got %s", tito_judge_format_value(e, sizeof e, exp->values[first]),
        tito_judge_format_value(g, sizeof g, got->values[first]));
    if (exp->n_values > 1)
        add(t, " (%zu of %zu values differ)", differ, exp->n_values);
    return false;
}

static tt_status finish(char **message, const text *t, const char *note)
{
    size_t len = t->len + (note ? strlen(note) + 4 : 0) + 1;
    char *m = malloc(len);
    if (!m)
        return tt_error_set(TT_ERR_NOMEM, "out of memory judging a case");
    if (note)
        snprintf(m, len, "%s\n  %s", t->buf, note);
    else
        snprintf(m, len, "%s", t->buf);
    *message = m;
    return TT_OK;
}

tt_status tito_judge_case(tito_verdict *verdict, char **message,
                          const tito_transcript_case *reference,
                          const tito_transcript_case *student)
{
    *verdict = TITO_FAIL;
    *message = NULL;
    text t = {.len = 0};
    t.buf[0] = '\0';
    tito_tolerance tol = {.kind = TITO_TOL_EXACT};
    const char *note = NULL;
    size_t j = 0;

    for (size_t i = 0; i < reference->n_records; i++) {
        const tito_record *exp = &reference->records[i];
        if (exp->kind == TITO_RECORD_NOTE) {
            note = exp->text;
            continue;
        }
        if (exp->kind == TITO_RECORD_TOL) {
            tol = exp->tol;
            continue;
        }
        while (j < student->n_records && !is_data(&student->records[j]))
            j++;
        if (j == student->n_records) {
            add(&t, "%s: the case ended before recording it (expected a %s)", exp->label,
                kind_word(exp->kind));
            return finish(message, &t, note);
        }
        if (!compare(&t, exp, &student->records[j], &tol))
            return finish(message, &t, note);
        j++;
    }
    while (j < student->n_records && !is_data(&student->records[j]))
        j++;
    if (j < student->n_records) {
        add(&t, "the probe recorded more than the reference (%s %s after the last record)",
            kind_word(student->records[j].kind), student->records[j].label);
        return finish(message, &t, NULL);
    }

    if (student->live != reference->live) {
        long extra = student->live - reference->live;
        if (extra > 0) {
            *verdict = TITO_LEAK;
            add(&t, "%ld framework allocation%s still live after the case (tensors, storages "
                    "or buffers made with tt_malloc and never freed)",
                extra, extra == 1 ? "" : "s");
        } else {
            add(&t, "%ld framework allocation%s fewer than the reference at the end of the "
                    "case: something was freed that its owner still holds",
                -extra, extra == -1 ? "" : "s");
        }
        return finish(message, &t, note);
    }
    *verdict = TITO_PASS;
    return TT_OK;
}
