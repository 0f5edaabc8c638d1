/*
 * grader/transcript.c: the strict transcript parser (see transcript.h; the format is
 * in grader/probe/probe.h).
 *
 * Lines are split on single spaces; numbers must be whole tokens (strtod/strtol
 * consuming everything), so "0x1p+0abc" or "1 2" where one value is expected is a
 * problem, not a value. Floats are read with strtod, which is exact for the C99 hex
 * form the harness writes; tito never calls setlocale, so the radix character is '.'.
 * A last line without its newline is the mark of a process that died while writing:
 * it is dropped, and its case stays open.
 */
#include "transcript.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Far beyond any case; keeps a garbage shape from asking for gigabytes. */
#define MAX_TENSOR_VALUES ((size_t)1 << 26)

typedef struct parser {
    tito_transcript *t;
    unsigned flags;
    size_t line_no;
    tito_transcript_case *open; /* the case between its begin and end, or NULL */
    bool after_end;             /* the previous line was an "end" (a "time" may follow) */
    bool nomem;
} parser;

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Record the first problem; always returns false so callers can `return problem(...)`. */
static bool problem(parser *ps, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static bool problem(parser *ps, const char *fmt, ...)
{
    if (ps->t->error)
        return false;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char full[480];
    snprintf(full, sizeof full, "line %zu: %s", ps->line_no, msg);
    ps->t->error = dup_range(full, strlen(full));
    if (!ps->t->error)
        ps->nomem = true;
    ps->t->error_line = ps->line_no;
    ps->t->error_in_case = ps->open != NULL;
    return false;
}

/* ------------------------------------------------------------ tokens */

typedef struct tokens {
    const char *p, *end;
} tokens;

/* The next space-separated token; false at the end of the line. */
static bool next_token(tokens *tk, const char **start, size_t *len)
{
    if (tk->p >= tk->end)
        return false;
    const char *s = tk->p;
    const char *e = memchr(s, ' ', (size_t)(tk->end - s));
    if (!e)
        e = tk->end;
    *start = s;
    *len = (size_t)(e - s);
    tk->p = e < tk->end ? e + 1 : e;
    return true;
}

static bool token_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool parse_double_token(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod(buf, &end);
    /* ERANGE on underflow is fine (denormals are exact); on overflow strtod gives inf,
     * which the harness writes as "inf", never as a huge literal. */
    if (end != buf + n || (errno == ERANGE && (v > 1.0 || v < -1.0)))
        return false;
    *out = v;
    return true;
}

static bool parse_long_token(const char *s, size_t n, long *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (end != buf + n || errno)
        return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------ records */

static tito_record *new_record(parser *ps, tito_record_kind kind)
{
    tito_transcript_case *c = ps->open;
    tito_record *grown = realloc(c->records, (c->n_records + 1) * sizeof *grown);
    if (!grown) {
        ps->nomem = true;
        return NULL;
    }
    c->records = grown;
    tito_record *r = &c->records[c->n_records++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->line = ps->line_no;
    return r;
}

/* Drop the last record again (it turned out malformed). */
static void drop_record(parser *ps)
{
    tito_transcript_case *c = ps->open;
    tito_record *r = &c->records[--c->n_records];
    free(r->label);
    free(r->text);
    free(r->values);
}

static bool take_label(parser *ps, tokens *tk, tito_record *r, const char *kind)
{
    const char *s;
    size_t n;
    if (!next_token(tk, &s, &n) || n == 0)
        return problem(ps, "%s record without a label", kind);
    r->label = dup_range(s, n);
    if (!r->label) {
        ps->nomem = true;
        return false;
    }
    return true;
}

static bool parse_tol(parser *ps, tokens *tk, tito_record *r)
{
    const char *s;
    size_t n;
    if (!next_token(tk, &s, &n))
        return problem(ps, "tol without a kind");
    if (token_is(s, n, "exact")) {
        r->tol.kind = TITO_TOL_EXACT;
    } else if (token_is(s, n, "elem")) {
        r->tol.kind = TITO_TOL_ELEM;
    } else if (token_is(s, n, "reduce")) {
        long k = 0;
        r->tol.kind = TITO_TOL_REDUCE;
        if (!next_token(tk, &s, &n) || !parse_long_token(s, n, &k) || k < 1)
            return problem(ps, "tol reduce needs a term count >= 1");
        r->tol.k = (double)k;
    } else if (token_is(s, n, "abs")) {
        r->tol.kind = TITO_TOL_ABS;
        if (!next_token(tk, &s, &n) || !parse_double_token(s, n, &r->tol.atol) ||
            !next_token(tk, &s, &n) || !parse_double_token(s, n, &r->tol.rtol) ||
            !(r->tol.atol >= 0) || !(r->tol.rtol >= 0))
            return problem(ps, "tol abs needs two non-negative numbers");
    } else {
        return problem(ps, "unknown tolerance '%.*s'", (int)(n > 40 ? 40 : n), s);
    }
    if (tk->p < tk->end)
        return problem(ps, "extra text after the tolerance");
    return true;
}

static bool parse_tensor(parser *ps, tokens *tk, tito_record *r)
{
    if (!take_label(ps, tk, r, "tensor"))
        return false;
    const char *s;
    size_t n;
    if (!next_token(tk, &s, &n))
        return problem(ps, "tensor %s: no rank", r->label);
    if (token_is(s, n, "null")) {
        r->state = TITO_TENSOR_NULL;
        if (tk->p < tk->end)
            return problem(ps, "tensor %s: extra text after null", r->label);
        return true;
    }
    if (token_is(s, n, "bad")) {
        r->state = TITO_TENSOR_BAD;
        r->text = dup_range(tk->p, (size_t)(tk->end - tk->p));
        if (!r->text)
            ps->nomem = true;
        return r->text != NULL;
    }
    long ndim = 0;
    if (!parse_long_token(s, n, &ndim) || ndim < 0 || ndim > TT_MAX_DIMS)
        return problem(ps, "tensor %s: rank must be 0 to %d", r->label, TT_MAX_DIMS);
    r->state = TITO_TENSOR_VALUES;
    r->ndim = (int)ndim;
    size_t numel = 1;
    for (int d = 0; d < r->ndim; d++) {
        long dim = 0;
        if (!next_token(tk, &s, &n) || !parse_long_token(s, n, &dim) || dim < 1)
            return problem(ps, "tensor %s: dimension %d is not a size >= 1", r->label, d);
        if ((size_t)dim > MAX_TENSOR_VALUES / numel)
            return problem(ps, "tensor %s: too many elements", r->label);
        r->shape[d] = (size_t)dim;
        numel *= (size_t)dim;
    }
    r->values = malloc(numel * sizeof *r->values);
    if (!r->values) {
        ps->nomem = true;
        return false;
    }
    r->n_values = numel;
    for (size_t i = 0; i < numel; i++) {
        if (!next_token(tk, &s, &n))
            return problem(ps, "tensor %s: %zu values for %zu elements", r->label, i, numel);
        if (!parse_double_token(s, n, &r->values[i]))
            return problem(ps, "tensor %s: value %zu is not a number", r->label, i);
    }
    if (tk->p < tk->end)
        return problem(ps, "tensor %s: more values than its %zu elements", r->label, numel);
    return true;
}

static bool parse_record(parser *ps, tito_record_kind kind, tokens *tk)
{
    tito_record *r = new_record(ps, kind);
    if (!r)
        return false;
    const char *s;
    size_t n;
    bool ok = false;
    switch (kind) {
    case TITO_RECORD_NOTE:
        r->text = dup_range(tk->p, (size_t)(tk->end - tk->p));
        ok = r->text != NULL;
        if (!ok)
            ps->nomem = true;
        break;
    case TITO_RECORD_TOL:
        ok = parse_tol(ps, tk, r);
        break;
    case TITO_RECORD_TENSOR:
        ok = parse_tensor(ps, tk, r);
        break;
    case TITO_RECORD_SCALAR:
        ok = take_label(ps, tk, r, "scalar");
        if (ok && (!next_token(tk, &s, &n) || !parse_double_token(s, n, &r->value) ||
                   tk->p < tk->end))
            ok = problem(ps, "scalar %s: expected one number", r->label);
        break;
    case TITO_RECORD_INT:
        ok = take_label(ps, tk, r, "int");
        if (ok && (!next_token(tk, &s, &n) || !parse_long_token(s, n, &r->ivalue) ||
                   tk->p < tk->end))
            ok = problem(ps, "int %s: expected one integer", r->label);
        break;
    case TITO_RECORD_STATUS:
        ok = take_label(ps, tk, r, "status");
        if (ok && (!next_token(tk, &s, &n) || !parse_long_token(s, n, &r->ivalue) ||
                   !next_token(tk, &s, &n) || n == 0 || tk->p < tk->end))
            ok = problem(ps, "status %s: expected a code and a name", r->label);
        break;
    }
    if (!ok)
        drop_record(ps);
    return ok;
}

/* ------------------------------------------------------------ lines */

static bool parse_begin(parser *ps, tokens *tk)
{
    const char *s;
    size_t n;
    if (ps->open)
        return problem(ps, "begin inside case %s (no end)", ps->open->name);
    if (!next_token(tk, &s, &n) || n == 0 || tk->p < tk->end)
        return problem(ps, "begin needs exactly one case name");
    tito_transcript *t = ps->t;
    tito_transcript_case *grown = realloc(t->cases, (t->n_cases + 1) * sizeof *grown);
    if (!grown) {
        ps->nomem = true;
        return false;
    }
    t->cases = grown;
    tito_transcript_case *c = &t->cases[t->n_cases];
    memset(c, 0, sizeof *c);
    c->seconds = -1.0;
    c->name = dup_range(s, n);
    if (!c->name) {
        ps->nomem = true;
        return false;
    }
    t->n_cases++;
    ps->open = c;
    return true;
}

static bool parse_end(parser *ps, tokens *tk)
{
    const char *s;
    size_t n;
    if (!ps->open)
        return problem(ps, "end outside a case");
    if (!next_token(tk, &s, &n) || strlen(ps->open->name) != n ||
        memcmp(s, ps->open->name, n) != 0)
        return problem(ps, "end does not name the open case %s", ps->open->name);
    long live = 0;
    if (!next_token(tk, &s, &n) || n < 6 || memcmp(s, "live=", 5) != 0 ||
        !parse_long_token(s + 5, n - 5, &live) || tk->p < tk->end)
        return problem(ps, "end %s: expected live=N", ps->open->name);
    ps->open->live = live;
    ps->open->ended = true;
    ps->open = NULL;
    return true;
}

static bool parse_time(parser *ps, tokens *tk)
{
    const char *s;
    size_t n;
    if (!(ps->flags & TITO_TRANSCRIPT_TIMES))
        return problem(ps, "unexpected time record");
    if (!ps->after_end)
        return problem(ps, "time record not right after an end");
    double v = 0;
    if (!next_token(tk, &s, &n) || !parse_double_token(s, n, &v) || !(v >= 0) || tk->p < tk->end)
        return problem(ps, "time needs one non-negative number");
    ps->t->cases[ps->t->n_cases - 1].seconds = v;
    return true;
}

static bool parse_line(parser *ps, const char *line, size_t len)
{
    tokens tk = {line, line + len};
    const char *s;
    size_t n;
    if (ps->line_no == 1) {
        if (!token_is(line, len, "tito-transcript 1"))
            return problem(ps, "not a transcript (expected \"tito-transcript 1\")");
        ps->t->has_header = true;
        return true;
    }
    bool after_end = ps->after_end;
    ps->after_end = false;
    if (!next_token(&tk, &s, &n))
        return problem(ps, "empty line");
    if (token_is(s, n, "begin"))
        return parse_begin(ps, &tk);
    if (token_is(s, n, "end")) {
        bool ok = parse_end(ps, &tk);
        ps->after_end = ok;
        return ok;
    }
    if (token_is(s, n, "time")) {
        ps->after_end = after_end;
        bool ok = parse_time(ps, &tk);
        ps->after_end = false;
        return ok;
    }
    static const struct {
        const char *word;
        tito_record_kind kind;
    } kinds[] = {
        {"note", TITO_RECORD_NOTE},     {"tol", TITO_RECORD_TOL},
        {"tensor", TITO_RECORD_TENSOR}, {"scalar", TITO_RECORD_SCALAR},
        {"int", TITO_RECORD_INT},       {"status", TITO_RECORD_STATUS},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!token_is(s, n, kinds[i].word))
            continue;
        if (!ps->open)
            return problem(ps, "%s record outside a case", kinds[i].word);
        return parse_record(ps, kinds[i].kind, &tk);
    }
    /* Show a little of the line, with anything unprintable replaced. */
    char shown[41];
    size_t k = 0;
    for (; k < len && k < sizeof shown - 1; k++)
        shown[k] = line[k] >= ' ' && line[k] < 127 ? line[k] : '?';
    shown[k] = '\0';
    return problem(ps, "unknown record \"%s%s\"", shown, len > k ? "..." : "");
}

tt_status tito_transcript_parse(tito_transcript **out, const char *text, size_t len,
                                unsigned flags)
{
    *out = NULL;
    tito_transcript *t = calloc(1, sizeof *t);
    if (!t)
        return tt_error_set(TT_ERR_NOMEM, "out of memory parsing a transcript");
    parser ps = {.t = t, .flags = flags};
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (!nl)
            break; /* a line cut short: see the top of the file */
        size_t n = (size_t)(nl - line);
        pos += n + 1;
        ps.line_no++;
        if (memchr(line, '\0', n)) {
            problem(&ps, "a NUL byte in the line");
            break;
        }
        if (!parse_line(&ps, line, n) || ps.nomem)
            break;
    }
    if (ps.nomem) {
        tito_transcript_free(t);
        return tt_error_set(TT_ERR_NOMEM, "out of memory parsing a transcript");
    }
    if (ps.line_no == 0 && !t->error) {
        t->error = dup_range("the transcript is empty", 23);
        if (!t->error) {
            tito_transcript_free(t);
            return tt_error_set(TT_ERR_NOMEM, "out of memory parsing a transcript");
        }
    }
    *out = t;
    return TT_OK;
}

void tito_transcript_free(tito_transcript *transcript)
{
    if (!transcript)
        return;
    for (size_t i = 0; i < transcript->n_cases; i++) {
        tito_transcript_case *c = &transcript->cases[i];
        for (size_t j = 0; j < c->n_records; j++) {
            free(c->records[j].label);
            free(c->records[j].text);
            free(c->records[j].values);
        }
        free(c->records);
        free(c->name);
    }
    free(transcript->cases);
    free(transcript->error);
    free(transcript);
}
