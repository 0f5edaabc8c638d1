/*
 * The memcheck phase: run the student-linked probe under Valgrind in the sandbox, read
 * Valgrind's log, and turn it into findings attributed to cases.
 *
 * The log is read in blocks: Valgrind separates its reports with an empty "==PID== "
 * line, and the probe's case markers arrive as client lines ("**PID** tito-case ...").
 * A block is one error (headline, the access stack, then sub-stacks such as "Address
 * ... alloc'd" or "Block was alloc'd at"), one leak record, a fatal signal, or a
 * summary. Anything else is skipped, so a Valgrind that words a rare report differently
 * costs at most that report, never the parse.
 *
 * Leaks are counted once: an added leak check during a case reports the growth (+N) of a
 * loss record; the full check at exit reports totals, from which what was already
 * attributed (same kind, same stack) is subtracted.
 */
#define _GNU_SOURCE

#include "memcheck.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fsutil.h"
#include "sandbox.h"

/* ------------------------------------------------------------ small helpers */

const char *tito_memcheck_status_name(tito_memcheck_status status)
{
    switch (status) {
    case TITO_MEMCHECK_NOT_RUN: return "not-run";
    case TITO_MEMCHECK_CLEAN: return "clean";
    case TITO_MEMCHECK_FINDINGS: return "findings";
    case TITO_MEMCHECK_ERROR: return "error";
    }
    return "error";
}

static void finding_release(tito_memcheck_finding *f)
{
    free(f->case_name);
    free(f->what);
    free(f->where);
    memset(f, 0, sizeof *f);
}

void tito_memcheck_log_release(tito_memcheck_log *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->n_findings; i++)
        finding_release(&log->findings[i]);
    free(log->findings);
    free(log->case_in_progress);
    free(log->last_case_done);
    free(log->valgrind_error);
    memset(log, 0, sizeof *log);
}

void tito_memcheck_result_release(tito_memcheck_result *result)
{
    if (!result)
        return;
    for (size_t i = 0; i < result->n_findings; i++)
        finding_release(&result->findings[i]);
    free(result->findings);
    free(result->message);
    memset(result, 0, sizeof *result);
}

static int status_rank(tito_memcheck_status s)
{
    switch (s) {
    case TITO_MEMCHECK_NOT_RUN: return 0;
    case TITO_MEMCHECK_CLEAN: return 1;
    case TITO_MEMCHECK_ERROR: return 2;
    case TITO_MEMCHECK_FINDINGS: return 3; /* real findings count even if another run failed */
    }
    return 2;
}

tt_status tito_memcheck_merge(tito_memcheck_result *into, tito_memcheck_result *from)
{
    tt_status st = TT_OK;
    char *message = NULL;
    if (from->message) {
        message = into->message ? malloc(strlen(into->message) + strlen(from->message) + 3) : strdup(from->message);
        if (!message) {
            st = tt_error_set(TT_ERR_NOMEM, "tito_memcheck_merge: out of memory");
            goto cleanup;
        }
        if (into->message) {
            size_t a = strlen(into->message);
            memcpy(message, into->message, a);
            memcpy(message + a, "; ", 2);
            memcpy(message + a + 2, from->message, strlen(from->message) + 1);
        }
    }
    if (from->n_findings) {
        tito_memcheck_finding *grown =
            realloc(into->findings, (into->n_findings + from->n_findings) * sizeof *grown);
        if (!grown) {
            free(message);
            st = tt_error_set(TT_ERR_NOMEM, "tito_memcheck_merge: out of memory");
            goto cleanup;
        }
        into->findings = grown;
        memcpy(into->findings + into->n_findings, from->findings, from->n_findings * sizeof *grown);
        into->n_findings += from->n_findings;
        free(from->findings);
        from->findings = NULL;
        from->n_findings = 0;
    }
    if (message) {
        free(into->message);
        into->message = message;
    }
    if (status_rank(from->status) > status_rank(into->status))
        into->status = from->status;
cleanup:
    tito_memcheck_result_release(from);
    return st;
}

const char *tito_memcheck_finding_message(const tito_memcheck_finding *finding, char *buf,
                                          size_t size)
{
    const char *what = finding->what ? finding->what : "a memory problem";
    if (finding->kind == TITO_LEAK) {
        bool indirect = strstr(what, "indirectly") != NULL;
        if (finding->where)
            snprintf(buf, size, "leak: %llu bytes allocated at %s never freed%s",
                     (unsigned long long)finding->bytes, finding->where,
                     indirect ? " (reachable only through another leaked block)" : "");
        else
            snprintf(buf, size, "leak: %s", what);
        return buf;
    }
    if (finding->where)
        snprintf(buf, size, "%s, in %s", what, finding->where);
    else
        snprintf(buf, size, "%s", what);
    return buf;
}

static char *dup_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------ frames */

typedef struct frame {
    char fn[160];
    char file[160]; /* "" when the frame has no source location */
    long line;
} frame;

#define MAX_FRAMES 24
#define MAX_STACKS 4

/* A stack and the line that introduced it ("" for the error's own stack). */
typedef struct stack {
    char header[240];
    frame frames[MAX_FRAMES];
    int n;
} stack;

typedef struct block {
    char head[400];
    char second[400]; /* the first indented non-frame line, e.g. " Access not within ..." */
    stack stacks[MAX_STACKS];
    int n_stacks;
    int n_lines;
} block;

/* "at 0x10938F: bad (vgt.c:6)" / "by 0x48417B4: malloc (in /usr/lib/...so)" */
static bool parse_frame(const char *s, frame *f)
{
    while (*s == ' ')
        s++;
    if (!starts_with(s, "at 0x") && !starts_with(s, "by 0x"))
        return false;
    const char *colon = strstr(s, ": ");
    if (!colon)
        return false;
    const char *rest = colon + 2;
    size_t len = strlen(rest);
    memset(f, 0, sizeof *f);
    const char *open = NULL;
    if (len && rest[len - 1] == ')') {
        for (const char *p = rest + len - 1; p > rest; p--) {
            if (p[0] == '(' && p[-1] == ' ') {
                open = p;
                break;
            }
        }
    }
    size_t fn_len = open ? (size_t)(open - 1 - rest) : len;
    snprintf(f->fn, sizeof f->fn, "%.*s", (int)fn_len, rest);
    if (open && !starts_with(open + 1, "in ")) {
        /* "(file.c:123)": the last ':' separates the line number. */
        const char *inner = open + 1;
        size_t inner_len = (size_t)(rest + len - 1 - inner);
        const char *last_colon = NULL;
        for (size_t i = 0; i < inner_len; i++) {
            if (inner[i] == ':')
                last_colon = inner + i;
        }
        if (last_colon) {
            char *end = NULL;
            long line = strtol(last_colon + 1, &end, 10);
            if (end == inner + inner_len && line > 0) {
                snprintf(f->file, sizeof f->file, "%.*s", (int)(last_colon - inner), inner);
                f->line = line;
            }
        }
    }
    return true;
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The allocator's own layers are never the place to blame. */
static bool is_allocator(const frame *f)
{
    static const char *const names[] = {"malloc", "calloc", "realloc", "free", "tt_malloc",
                                        "tt_calloc", "tt_free", "operator new", "operator delete"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (starts_with(f->fn, names[i]))
            return true;
    }
    return false;
}

/* "tensor.c:212 (tt_tensor_transpose)": the first frame in the student's file, else the
 * first frame with a source location that is not the allocator, else "". */
static void pick_where(const stack *s, const char *student_file, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < s->n; i++) {
        const frame *f = &s->frames[i];
        if (f->file[0] && strcmp(base_of(f->file), student_file) == 0) {
            /* A helper of the student's (tensor_new) is named with the function of the
             * student's that the probe called, the one the student will look for. */
            int outer = i;
            while (outer + 1 < s->n && s->frames[outer + 1].file[0] &&
                   strcmp(base_of(s->frames[outer + 1].file), student_file) == 0)
                outer++;
            const frame *o = &s->frames[outer];
            if (outer != i && strcmp(o->fn, f->fn) != 0)
                snprintf(buf, size, "%s:%ld (%s, called by %s at line %ld)", base_of(f->file), f->line,
                         f->fn, o->fn, o->line);
            else
                snprintf(buf, size, "%s:%ld (%s)", base_of(f->file), f->line, f->fn);
            return;
        }
    }
    for (int i = 0; i < s->n; i++) {
        const frame *f = &s->frames[i];
        if (f->file[0] && !is_allocator(f)) {
            snprintf(buf, size, "%s:%ld (%s)", base_of(f->file), f->line, f->fn);
            return;
        }
    }
}

/* The identity of a leak record across checks: its kind and its stack. */
static void stack_key(const stack *s, bool indirect, char *buf, size_t size)
{
    size_t o = (size_t)snprintf(buf, size, "%c", indirect ? 'i' : 'd');
    for (int i = 0; i < s->n && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "|%s@%s:%ld", s->frames[i].fn, s->frames[i].file,
                              s->frames[i].line);
}

/* ------------------------------------------------------------ the parser */

typedef struct leak_seen {
    char key[1024];
    uint64_t bytes;
} leak_seen;

typedef struct parser {
    tito_memcheck_log *log;
    const char *student_file;
    block blk;
    bool in_block;
    bool final_check; /* after "HEAP SUMMARY:": leak records are totals */
    leak_seen *seen;
    size_t n_seen, cap_seen;
    tt_status st;
} parser;

static void oom(parser *p)
{
    if (p->st == TT_OK)
        p->st = tt_error_set(TT_ERR_NOMEM, "tito_memcheck_parse: out of memory");
}

static void set_str(parser *p, char **slot, const char *value)
{
    free(*slot);
    *slot = NULL;
    if (value && !(*slot = strdup(value)))
        oom(p);
}

static tito_memcheck_finding *add_finding(parser *p, tito_verdict kind, const char *case_name,
                                          char *what, const char *where, uint64_t bytes)
{
    if (!what) {
        oom(p);
        return NULL;
    }
    tito_memcheck_log *log = p->log;
    tito_memcheck_finding *grown =
        realloc(log->findings, (log->n_findings + 1) * sizeof *log->findings);
    if (!grown) {
        free(what);
        oom(p);
        return NULL;
    }
    log->findings = grown;
    tito_memcheck_finding *f = &log->findings[log->n_findings++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->what = what;
    f->bytes = bytes;
    if (case_name && !(f->case_name = strdup(case_name)))
        oom(p);
    if (where && where[0] && !(f->where = strdup(where)))
        oom(p);
    return f;
}

/* Bytes a record of this key has already been blamed for; adds `more`. */
static uint64_t seen_bytes(parser *p, const char *key, uint64_t more)
{
    for (size_t i = 0; i < p->n_seen; i++) {
        if (strcmp(p->seen[i].key, key) == 0) {
            uint64_t before = p->seen[i].bytes;
            p->seen[i].bytes += more;
            return before;
        }
    }
    if (p->n_seen == p->cap_seen) {
        size_t cap = p->cap_seen ? 2 * p->cap_seen : 16;
        leak_seen *grown = realloc(p->seen, cap * sizeof *grown);
        if (!grown) {
            oom(p);
            return 0;
        }
        p->seen = grown;
        p->cap_seen = cap;
    }
    snprintf(p->seen[p->n_seen].key, sizeof p->seen[p->n_seen].key, "%s", key);
    p->seen[p->n_seen].bytes = more;
    p->n_seen++;
    return 0;
}

/* "56 (+56) (16 (+16) direct, 40 (+40) indirect) bytes in 1 (+1) blocks are definitely
 * lost in loss record 2 of 3": total 56, growth 56 (no "(+N)": growth = total). */
static bool parse_leak_head(const char *s, uint64_t *total, uint64_t *growth, bool *has_growth,
                            bool *indirect)
{
    bool definite = strstr(s, " are definitely lost in loss record ") != NULL;
    *indirect = strstr(s, " are indirectly lost in loss record ") != NULL;
    if (!definite && !*indirect)
        return false;
    char *end = NULL;
    /* Valgrind groups digits with commas in big numbers ("1,048,576"). */
    char digits[32];
    size_t nd = 0;
    const char *q = s;
    while ((*q >= '0' && *q <= '9') || (*q == ',' && q != s)) {
        if (*q != ',' && nd + 1 < sizeof digits)
            digits[nd++] = *q;
        q++;
    }
    digits[nd] = '\0';
    if (nd == 0)
        return false;
    *total = strtoull(digits, &end, 10);
    *growth = *total;
    *has_growth = false;
    if (starts_with(q, " (+")) {
        q += 3;
        nd = 0;
        while ((*q >= '0' && *q <= '9') || *q == ',') {
            if (*q != ',' && nd + 1 < sizeof digits)
                digits[nd++] = *q;
            q++;
        }
        digits[nd] = '\0';
        if (nd == 0 || *q != ')')
            return false;
        *growth = strtoull(digits, &end, 10);
        *has_growth = true;
    }
    return true;
}

static void finish_leak(parser *p, const char *case_name)
{
    const block *b = &p->blk;
    uint64_t total, growth;
    bool has_growth, indirect;
    if (!parse_leak_head(b->head, &total, &growth, &has_growth, &indirect) || b->n_stacks == 0)
        return;
    const stack *s = &b->stacks[0];
    char key[1024];
    stack_key(s, indirect, key, sizeof key);
    uint64_t blamed;
    if (has_growth) {
        blamed = seen_bytes(p, key, growth);
        (void)blamed;
    } else {
        /* A total: only what no earlier check blamed on a case is new. */
        blamed = seen_bytes(p, key, 0);
        if (total <= blamed)
            return;
        growth = total - blamed;
        seen_bytes(p, key, growth);
    }
    if (growth == 0)
        return;
    char where[400];
    pick_where(s, p->student_file, where, sizeof where);
    add_finding(p, TITO_LEAK, case_name,
                dup_printf("%llu bytes %s lost", (unsigned long long)growth,
                           indirect ? "indirectly" : "definitely"),
                where, growth);
}

/* "Address 0x4a42058 is 0 bytes after a block of size 24 alloc'd" -> how the address
 * relates to its block, in words for a student. */
static void describe_address(const block *b, const char *student_file, char *buf, size_t size)
{
    buf[0] = '\0';
    const stack *addr = NULL, *alloc = NULL, *freed = NULL;
    for (int i = 1; i < b->n_stacks; i++) {
        const char *h = b->stacks[i].header;
        while (*h == ' ')
            h++;
        if (starts_with(h, "Address "))
            addr = &b->stacks[i];
        else if (starts_with(h, "Block was alloc'd at"))
            alloc = &b->stacks[i];
    }
    if (!addr)
        return;
    const char *h = addr->header;
    while (*h == ' ')
        h++;
    const char *is = strstr(h, " is ");
    if (!is)
        return;
    is += 4;
    unsigned long long off = 0, block_size = 0;
    char rel[16] = "", state[16] = "";
    if (sscanf(is, "%llu bytes %15s a block of size %llu %15s", &off, rel, &block_size, state) == 4) {
        bool was_freed = starts_with(state, "free");
        if (was_freed)
            freed = addr;
        else
            alloc = addr;
        char site[400] = "";
        const stack *site_stack = was_freed ? freed : alloc;
        if (site_stack)
            pick_where(site_stack, student_file, site, sizeof site);
        const char *relation = strcmp(rel, "after") == 0    ? "past the end of"
                               : strcmp(rel, "before") == 0 ? "before the start of"
                                                            : "inside";
        if (strcmp(relation, "inside") == 0)
            snprintf(buf, size, "%llu bytes inside a %llu-byte block %s%s%s", off, block_size,
                     was_freed ? "already freed" : "allocated", site[0] ? " at " : "", site);
        else
            snprintf(buf, size, "%llu bytes %s a %llu-byte block %s%s%s", off, relation, block_size,
                     was_freed ? "already freed" : "allocated", site[0] ? " at " : "", site);
        if (was_freed && alloc) {
            char a[400] = "";
            pick_where(alloc, student_file, a, sizeof a);
            size_t n = strlen(buf);
            if (a[0] && n < size)
                snprintf(buf + n, size - n, " (allocated at %s)", a);
        }
        return;
    }
    if (strstr(is, "not stack'd, malloc'd or (recently) free'd")) {
        unsigned long long address = 0;
        if (sscanf(h, "Address %llx", &address) == 1 && address < 4096)
            snprintf(buf, size, "through a NULL pointer (address 0x%llx)", address);
        else
            snprintf(buf, size, "outside any allocated block");
        return;
    }
    if (strstr(is, "stack"))
        snprintf(buf, size, "outside the live part of the stack");
}

static void finish_error(parser *p, const char *case_name)
{
    const block *b = &p->blk;
    const char *h = b->head;
    char where[400] = "";
    if (b->n_stacks > 0)
        pick_where(&b->stacks[0], p->student_file, where, sizeof where);
    char addr[600];
    describe_address(b, p->student_file, addr, sizeof addr);
    unsigned long long size = 0;
    char *what = NULL;
    uint64_t bytes = 0;
    if (sscanf(h, "Invalid read of size %llu", &size) == 1 ||
        sscanf(h, "Invalid write of size %llu", &size) == 1) {
        bytes = size;
        what = dup_printf("invalid %s of %llu bytes%s%s", starts_with(h, "Invalid read") ? "read" : "write",
                          size, addr[0] ? ", " : "", addr);
    } else if (starts_with(h, "Invalid free()") || starts_with(h, "Invalid delete")) {
        what = dup_printf("invalid free (a block freed twice, or never allocated)%s%s",
                          addr[0] ? ": " : "", addr);
    } else if (starts_with(h, "Mismatched free()")) {
        what = dup_printf("a block freed with the wrong function%s%s", addr[0] ? ": " : "", addr);
    } else if (starts_with(h, "Conditional jump or move depends on uninitialised value")) {
        what = dup_printf("a decision depends on uninitialised memory");
    } else if (starts_with(h, "Use of uninitialised value")) {
        what = dup_printf("use of an uninitialised value");
    } else if (starts_with(h, "Syscall param")) {
        what = dup_printf("%s", h);
    } else if (starts_with(h, "Source and destination overlap")) {
        what = dup_printf("%s", h);
    } else if (starts_with(h, "Argument 'size' of function") || starts_with(h, "Invalid alignment")) {
        what = dup_printf("%s", h);
    } else {
        return;
    }
    add_finding(p, TITO_MEMORY_ERROR, case_name, what, where, bytes);
}

static const char *signal_text(int sig)
{
    switch (sig) {
    case 4: return "SIGILL";
    case 6: return "SIGABRT";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    case 11: return "SIGSEGV";
    default: return NULL;
    }
}

static void finish_crash(parser *p, const char *case_name)
{
    const block *b = &p->blk;
    int sig = 0;
    if (sscanf(b->head, "Process terminating with default action of signal %d", &sig) != 1)
        return;
    p->log->fatal_signal = sig;
    /* The stack follows a line such as " Access not within mapped region ...". */
    char where[400] = "";
    for (int i = 0; i < b->n_stacks && !where[0]; i++) {
        if (b->stacks[i].n > 0)
            pick_where(&b->stacks[i], p->student_file, where, sizeof where);
    }
    const char *name = signal_text(sig);
    char signame[32];
    if (name)
        snprintf(signame, sizeof signame, "%s", name);
    else
        snprintf(signame, sizeof signame, "signal %d", sig);

    /* The invalid access that caused a SIGSEGV is usually the finding just before, at
     * the same place: say it once, as a crash ("crash: SIGSEGV reading 8 bytes, ..."). */
    tito_memcheck_log *log = p->log;
    if (log->n_findings > 0) {
        tito_memcheck_finding *prev = &log->findings[log->n_findings - 1];
        bool same_case = (!prev->case_name && !case_name) ||
                         (prev->case_name && case_name && strcmp(prev->case_name, case_name) == 0);
        bool same_place = (!prev->where && !where[0]) || (prev->where && strcmp(prev->where, where) == 0);
        if (prev->kind == TITO_MEMORY_ERROR && same_case && same_place &&
            (starts_with(prev->what, "invalid read of ") || starts_with(prev->what, "invalid write of "))) {
            bool reading = starts_with(prev->what, "invalid read of ");
            const char *rest = prev->what + strlen(reading ? "invalid read of " : "invalid write of ");
            char *what = dup_printf("crash: %s %s %s", signame, reading ? "reading" : "writing", rest);
            if (!what) {
                oom(p);
                return;
            }
            free(prev->what);
            prev->what = what;
            return;
        }
    }
    const char *detail = b->second;
    while (*detail == ' ')
        detail++;
    add_finding(p, TITO_MEMORY_ERROR, case_name,
                detail[0] ? dup_printf("crash: %s (%s)", signame, detail) : dup_printf("crash: %s", signame),
                where, 0);
}

static void finish_block(parser *p)
{
    if (!p->in_block)
        return;
    p->in_block = false;
    const char *h = p->blk.head;
    tito_memcheck_log *log = p->log;
    /* Errors belong to the case in progress; leak records of an added check may come
     * just after the case's end marker, so they fall back to the case just done. The
     * full check at exit blames the case in progress (a crash) or nobody. */
    const char *current = log->case_in_progress;
    if (starts_with(h, "Memcheck, a memory error detector")) {
        log->started = true;
    } else if (starts_with(h, "HEAP SUMMARY:")) {
        p->final_check = true;
    } else if (starts_with(h, "ERROR SUMMARY:") || starts_with(h, "For lists of detected")) {
        /* nothing to report: `complete` is set as the line is read */
    } else if (strstr(h, " lost in loss record ")) {
        /* After a fatal signal the final check sees what the dying case held: a
         * consequence of the crash, already a finding, not a leak of its own. */
        if (p->final_check && log->fatal_signal)
            return;
        const char *blame = current;
        if (!blame && !p->final_check)
            blame = log->last_case_done;
        finish_leak(p, blame);
    } else if (starts_with(h, "Process terminating with default action of signal")) {
        finish_crash(p, current);
    } else {
        finish_error(p, current);
    }
}

static void block_line(parser *p, const char *content)
{
    block *b = &p->blk;
    if (!p->in_block) {
        memset(b, 0, sizeof *b);
        p->in_block = true;
        snprintf(b->head, sizeof b->head, "%s", content);
        b->n_stacks = 0;
        return;
    }
    b->n_lines++;
    frame f;
    if (parse_frame(content, &f)) {
        if (b->n_stacks == 0) {
            b->n_stacks = 1;
            b->stacks[0].header[0] = '\0';
        }
        stack *s = &b->stacks[b->n_stacks - 1];
        if (s->n < MAX_FRAMES)
            s->frames[s->n++] = f;
        return;
    }
    if (!b->second[0])
        snprintf(b->second, sizeof b->second, "%s", content);
    /* A header for a sub-stack: the frames that follow belong to it. */
    if (b->n_stacks == 0) {
        b->n_stacks = 1; /* an empty own stack keeps index 0 for the error's own frames */
    }
    if (b->n_stacks < MAX_STACKS) {
        stack *s = &b->stacks[b->n_stacks++];
        snprintf(s->header, sizeof s->header, "%s", content);
        s->n = 0;
    }
}

/* A client line of the probe harness: the case markers. */
static void client_line(parser *p, const char *content)
{
    tito_memcheck_log *log = p->log;
    bool begin = starts_with(content, TITO_MEMCHECK_MARK_BEGIN " ");
    bool end = starts_with(content, TITO_MEMCHECK_MARK_END " ");
    if (!begin && !end)
        return;
    const char *rest = content + strlen(begin ? TITO_MEMCHECK_MARK_BEGIN " " : TITO_MEMCHECK_MARK_END " ");
    /* An optional index before the name. */
    const char *q = rest;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q != rest && *q == ' ')
        rest = q + 1;
    char name[256];
    snprintf(name, sizeof name, "%s", rest);
    size_t n = strlen(name);
    while (n && (name[n - 1] == '\n' || name[n - 1] == '\r' || name[n - 1] == ' '))
        name[--n] = '\0';
    if (begin) {
        set_str(p, &log->case_in_progress, name);
    } else {
        set_str(p, &log->last_case_done, name);
        set_str(p, &log->case_in_progress, NULL);
    }
}

/* "==123== text" or "**123** text": the text, or NULL when the line is neither. */
static const char *strip_prefix(const char *line, char mark)
{
    if (line[0] != mark || line[1] != mark)
        return NULL;
    const char *q = line + 2;
    if (*q < '0' || *q > '9')
        return NULL;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q[0] != mark || q[1] != mark)
        return NULL;
    q += 2;
    if (*q == ' ')
        q++;
    return q;
}

tt_status tito_memcheck_parse(tito_memcheck_log *log, const char *text, const char *student_file)
{
    memset(log, 0, sizeof *log);
    parser *p = calloc(1, sizeof *p);
    if (!p)
        return tt_error_set(TT_ERR_NOMEM, "tito_memcheck_parse: out of memory");
    p->log = log;
    p->student_file = student_file ? base_of(student_file) : "";
    char line[1024];
    const char *s = text ? text : "";
    while (*s && p->st == TT_OK) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        /* Longer lines are cut: no line that matters is near this long. */
        size_t keep = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, s, keep);
        line[keep] = '\0';
        if (keep && line[keep - 1] == '\r')
            line[keep - 1] = '\0';
        s = nl ? nl + 1 : s + len;

        const char *content;
        if ((content = strip_prefix(line, '=')) != NULL) {
            /* The closing summary may share a block with the line before it. */
            if (starts_with(content, "ERROR SUMMARY:"))
                log->complete = true;
            if (content[0] == '\0')
                finish_block(p);
            else
                block_line(p, content);
        } else if ((content = strip_prefix(line, '*')) != NULL) {
            finish_block(p);
            client_line(p, content);
        } else if (starts_with(line, "valgrind:") && !log->valgrind_error) {
            set_str(p, &log->valgrind_error, line);
        }
    }
    if (p->st == TT_OK)
        finish_block(p);
    tt_status st = p->st;
    free(p->seen);
    free(p);
    if (st != TT_OK)
        tito_memcheck_log_release(log);
    return st;
}

/* ------------------------------------------------------------ the run */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *find_valgrind(const char *given)
{
    if (given)
        return access(given, X_OK) == 0 ? given : NULL;
    /* The sandbox's PATH is /usr/bin:/bin: look where the child will. */
    static const char *const places[] = {"/usr/bin/valgrind", "/bin/valgrind"};
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        if (access(places[i], X_OK) == 0)
            return places[i];
    }
    return NULL;
}

static tt_status set_error(tito_memcheck_result *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static tt_status set_error(tito_memcheck_result *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->status = TITO_MEMCHECK_ERROR;
    free(r->message);
    r->message = strdup(buf);
    if (!r->message)
        return tt_error_set(TT_ERR_NOMEM, "tito_memcheck_run: out of memory");
    return TT_OK;
}

/* Move the log's findings into the result (the log keeps nothing). */
static tt_status take_findings(tito_memcheck_result *r, tito_memcheck_log *log)
{
    if (!log->n_findings)
        return TT_OK;
    tito_memcheck_finding *grown = realloc(r->findings, (r->n_findings + log->n_findings) * sizeof *grown);
    if (!grown)
        return tt_error_set(TT_ERR_NOMEM, "tito_memcheck_run: out of memory");
    r->findings = grown;
    memcpy(r->findings + r->n_findings, log->findings, log->n_findings * sizeof *grown);
    r->n_findings += log->n_findings;
    free(log->findings);
    log->findings = NULL;
    log->n_findings = 0;
    return TT_OK;
}

static tt_status add_note(char **notes, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static tt_status add_note(char **notes, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *joined = *notes ? dup_printf("%s; %s", *notes, buf) : strdup(buf);
    if (!joined)
        return tt_error_set(TT_ERR_NOMEM, "tito_memcheck_run: out of memory");
    free(*notes);
    *notes = joined;
    return TT_OK;
}

/* The first line of a stream, for messages. */
static void first_line(const char *text, char *buf, size_t size)
{
    const char *s = text ? text : "";
    while (*s == '\n')
        s++;
    size_t n = strcspn(s, "\n");
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

static bool is_skipped(const tito_memcheck_options *o, const char *name)
{
    for (size_t i = 0; i < o->n_skip; i++) {
        if (o->skip_cases[i] && name && strcmp(o->skip_cases[i], name) == 0)
            return true;
    }
    return false;
}

static long case_index(const tito_memcheck_options *o, const char *name)
{
    for (size_t i = 0; i < o->n_cases; i++) {
        if (o->case_names[i] && strcmp(o->case_names[i], name) == 0)
            return (long)i;
    }
    return -1;
}

#define INSTALL_HINT                                                                               \
    "install Valgrind (Debian/Ubuntu: `sudo apt-get install valgrind`; Fedora: `sudo dnf install " \
    "valgrind`), then grade again; memory-safety points are not counted against you meanwhile"

tt_status tito_memcheck_run(tito_memcheck_result *result, const tito_memcheck_options *options)
{
    if (!result || !options || !options->probe || !options->student_file)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_memcheck_run: a result, a probe and the student's file name are required");
    memset(result, 0, sizeof *result);
    const char *valgrind = find_valgrind(options->valgrind);
    if (!valgrind)
        return set_error(result, "Valgrind is not installed (no %s): " INSTALL_HINT,
                         options->valgrind ? options->valgrind : "/usr/bin/valgrind");
    if (sodium_init() < 0)
        return tt_error_set(TT_ERR_STATE, "tito_memcheck_run: libsodium could not start");

    tt_status st = TT_OK;
    char workdir[4096] = "";
    char *notes = NULL;
    tito_memcheck_log log;
    memset(&log, 0, sizeof log);
    tito_sandbox_result *run = NULL;
    int n = snprintf(workdir, sizeof workdir, "%s/tito-memcheck-XXXXXX",
                     options->temp_parent ? options->temp_parent : "/tmp");
    if (n < 0 || (size_t)n >= sizeof workdir)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_memcheck_run: temp_parent is too long");
    if (!mkdtemp(workdir)) {
        int e = errno;
        workdir[0] = '\0';
        return tt_error_set(TT_ERR_IO, "tito_memcheck_run: cannot make a working directory under %s: %s",
                            options->temp_parent ? options->temp_parent : "/tmp", strerror(e));
    }
    /* The child runs as nobody when tito is root: it must be able to write its log. */
    if (geteuid() == 0 && chown(workdir, TITO_SANDBOX_UID, TITO_SANDBOX_GID) != 0) {
        st = tt_error_set(TT_ERR_IO, "tito_memcheck_run: cannot give %s to the sandbox user: %s", workdir,
                          strerror(errno));
        goto cleanup;
    }

    if (options->n_skip && options->case_names) {
        for (size_t i = 0; i < options->n_skip; i++) {
            if (case_index(options, options->skip_cases[i]) >= 0)
                TT_CHECK(add_note(&notes, "case %s was not checked under Valgrind (it ran out of time "
                                          "in the run phase)",
                                  options->skip_cases[i]));
        }
    }
    long from = 0;
    unsigned max_restarts = options->max_restarts ? options->max_restarts : 8;
    bool failed = false;
    for (unsigned attempt = 0; attempt <= max_restarts; attempt++) {
        /* A fresh, unguessable log name for each run (see the header on trust). */
        unsigned char rnd[8];
        randombytes_buf(rnd, sizeof rnd);
        char logname[64], logpath[4200], logopt[4300], seed[32], from_text[32];
        snprintf(logname, sizeof logname, "vg-%02x%02x%02x%02x%02x%02x%02x%02x.log", rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        snprintf(logpath, sizeof logpath, "%s/%s", workdir, logname);
        snprintf(logopt, sizeof logopt, "--log-file=%s", logpath);
        snprintf(seed, sizeof seed, "%llx", (unsigned long long)options->seed);
        snprintf(from_text, sizeof from_text, "%ld", from);
        size_t cap = 20 + options->n_cases;
        const char **argv = malloc(cap * sizeof *argv);
        if (!argv) {
            st = tt_error_set(TT_ERR_NOMEM, "tito_memcheck_run: out of memory");
            goto cleanup;
        }
        size_t a = 0;
        argv[a++] = valgrind;
        argv[a++] = "--tool=memcheck";
        argv[a++] = "--leak-check=full";
        argv[a++] = "--errors-for-leak-kinds=definite,indirect";
        argv[a++] = "--show-leak-kinds=definite,indirect";
        argv[a++] = "--track-origins=no";
        argv[a++] = "--num-callers=12";
        argv[a++] = logopt;
        argv[a++] = options->probe;
        argv[a++] = "--seed";
        argv[a++] = seed;
        argv[a++] = "--small";
        if (from > 0) {
            argv[a++] = "--from";
            argv[a++] = from_text;
        }
        /* Cases to leave out: the others by name (the probe keeps table order). */
        if (options->n_skip && options->case_names) {
            for (size_t i = 0; i < options->n_cases; i++) {
                if (!is_skipped(options, options->case_names[i]))
                    argv[a++] = options->case_names[i];
            }
        }
        argv[a] = NULL;
        tito_sandbox_options so = TITO_SANDBOX_OPTIONS_INIT;
        so.argv = argv;
        so.workdir = workdir;
        so.hidden_paths = options->hidden_paths;
        so.transcript = true; /* the probe writes its transcript; here it is not needed */
        so.limits.wall_seconds = options->wall_seconds > 0 ? options->wall_seconds : 300.0;
        so.limits.cpu_seconds = options->cpu_seconds ? options->cpu_seconds : 240;
        so.limits.address_space = options->address_space ? options->address_space : (uint64_t)16 << 30;
        /* Valgrind stops reporting after 1000 different errors: a log this large is
         * already far past anything a student can read. */
        so.limits.file_size = (uint64_t)64 << 20;
        tito_sandbox_result_free(run);
        run = NULL;
        st = tito_sandbox_run(&run, &so);
        free(argv);
        if (st != TT_OK)
            goto cleanup;

        if (run->end == TITO_SANDBOX_SPAWN_FAILED) {
            TT_CHECK(set_error(result, "Valgrind could not be started: %s; " INSTALL_HINT, run->message));
            failed = true;
            break;
        }
        char *text = NULL;
        tt_status rd = tito_file_read(&text, NULL, logpath);
        if (rd != TT_OK) {
            char err[300];
            first_line(run->err.data, err, sizeof err);
            TT_CHECK(set_error(result, "Valgrind wrote no log (%s%s%s); check that `valgrind --version` "
                                       "works on this machine",
                               run->message, err[0] ? ": " : "", err));
            failed = true;
            break;
        }
        tito_memcheck_log_release(&log);
        st = tito_memcheck_parse(&log, text, options->student_file);
        free(text);
        remove(logpath);
        if (st != TT_OK)
            goto cleanup;
        if (!log.started) {
            char err[300];
            first_line(log.valgrind_error ? log.valgrind_error : run->err.data, err, sizeof err);
            TT_CHECK(set_error(result, "Valgrind did not start (%s%s%s); check that `valgrind --version` "
                                       "works on this machine",
                               run->message, err[0] ? ": " : "", err));
            failed = true;
            break;
        }
        TT_CHECK(take_findings(result, &log));

        bool ended_badly = run->end != TITO_SANDBOX_EXITED || !log.complete;
        if (!ended_badly)
            break;
        if (!log.case_in_progress) {
            /* Died outside any case: nothing to blame and nothing to resume. */
            TT_CHECK(set_error(result, "Valgrind's run ended early outside any case (%s); the log is "
                                       "incomplete, so memory safety could not be judged",
                               run->message));
            failed = true;
            break;
        }
        /* Died inside a case: a crash is already a finding; a limit is a note. Go on
         * with the next case, as the run phase does. */
        if (log.fatal_signal == 0)
            TT_CHECK(add_note(&notes, "case %s was not checked to the end (%s under Valgrind)",
                              log.case_in_progress, run->message));
        long k = case_index(options, log.case_in_progress);
        if (k < 0 || (size_t)(k + 1) >= options->n_cases || attempt == max_restarts) {
            if (k < 0 || attempt == max_restarts)
                TT_CHECK(add_note(&notes, "cases after %s were not checked under Valgrind",
                                  log.case_in_progress));
            break;
        }
        from = k + 1;
    }
    if (!failed) {
        result->status = result->n_findings ? TITO_MEMCHECK_FINDINGS : TITO_MEMCHECK_CLEAN;
        result->message = notes;
        notes = NULL;
    } else if (result->n_findings) {
        /* An earlier run found real problems before Valgrind gave up: they stand. */
        result->status = TITO_MEMCHECK_FINDINGS;
    }
cleanup:
    free(notes);
    tito_memcheck_log_release(&log);
    tito_sandbox_result_free(run);
    if (workdir[0])
        remove_tree(workdir);
    if (st != TT_OK)
        tito_memcheck_result_release(result);
    return st;
}
