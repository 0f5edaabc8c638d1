/*
 * grader/milestone.c: build, run and judge a milestone (milestone.h).
 *
 * The working directory (grader/build.h, tito_build_new_program) holds, besides the
 * kit's headers, core and reference objects:
 *
 *     <work>/milestones/...        the trusted program sources and the table, from the kit
 *     <work>/data/...              the milestone data (the programs read TT_DATA_DIR)
 *     <work>/<name>.c, <name>.o    the student's module files, under their own names
 *     <work>/ms-*.o                the program's objects (trusted; compiled here once)
 *     <work>/<program>             the program linked with the student's objects
 *     <work>/reference/<program>   linked with the reference objects (or from the cache)
 *     <work>/reference-runs/N/, <work>/student-runs/N/   each run's working directory,
 *                                  where the program writes result.json for tito to read
 *                                  (the student's judged run also params.bin)
 *     <work>/evaluation/           the reference's program measuring that params.bin
 *
 * The student's program never sees <work>/kit, <work>/reference, the reference's runs,
 * the kit, the cache nor the caller's hidden paths; it may write only in its run
 * directory. Its result file is read like a probe's transcript: a regular file (no
 * link), capped, every field checked; anything off is "no result", never a guess. And
 * the figures the bars judge are not its own: the reference's program measures the
 * parameters it saved (remeasure).
 *
 * The likely causes of a miss are in milestone_causes.c, the receipts in
 * milestone_receipt.c.
 *
 * The reference runs first, in the same tito run: its wall time sets the student's
 * time limit, and the time ratio is its training time over the student's (higher is
 * faster), both measured on this machine minutes apart.
 */
#define _POSIX_C_SOURCE 200809L

#include "milestone.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "fsutil.h"
#include "milestones.h"
#include "receipt.h"
#include "workspace.h"

#define RESULT_FILE "result.json"
#define RESULT_CAP ((size_t)4 << 20)
#define PARAMS_FILE "params.bin"
#define PARAMS_CAP ((size_t)256 << 20)
#define EVALUATION_FILE "evaluation.json"
#define REFERENCE_WALL 300.0
#define TAIL_LINES 12
#define TAIL_CHARS 1600
#define MAX_MILESTONES 32
#define MAX_TRIALS 9

/* ------------------------------------------------------------ small helpers */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static tt_status nomem(void)
{
    return tt_error_set(TT_ERR_NOMEM, "out of memory while checking a milestone");
}

/* The build's compiler and flags, one line, for cache keys: the same bytes compiled
 * otherwise are another object. */
static void toolchain_text(char *buf, size_t size, const tito_build *b)
{
    size_t len = (size_t)snprintf(buf, size, "%s", b->compiler ? b->compiler : "");
    for (size_t i = 0; b->cflags && b->cflags[i] && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, " %s", b->cflags[i]);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ the table */

static tito_milestone table[MAX_MILESTONES];
static size_t table_size;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* milestones.def has one row per bar; rows of one milestone are adjacent. */
static void build_table(void)
{
    for (size_t i = 0; i < TT_MILESTONE_BAR_COUNT; i++) {
        const tt_milestone_bar *row = &tt_milestone_bars[i];
        tito_milestone *m = table_size > 0 && table[table_size - 1].number == row->number
                                ? &table[table_size - 1]
                                : NULL;
        if (!m) {
            if (table_size == MAX_MILESTONES)
                return;
            m = &table[table_size++];
            *m = (tito_milestone){.number = row->number,
                                  .slug = row->slug,
                                  .year = row->year,
                                  .title = row->title,
                                  .first_module = row->first_module,
                                  .last_module = row->last_module,
                                  .program = row->program};
        }
        if (m->n_bars < TITO_MILESTONE_MAX_BARS)
            m->bars[m->n_bars++] = (tito_milestone_bar){row->metric, row->comparison, row->bar};
    }
}

size_t tito_milestone_count(void)
{
    pthread_once(&table_once, build_table);
    return table_size;
}

const tito_milestone *tito_milestone_at(size_t i)
{
    return i < tito_milestone_count() ? &table[i] : NULL;
}

const tito_milestone *tito_milestone_find(int number)
{
    for (size_t i = 0; i < tito_milestone_count(); i++)
        if (table[i].number == number)
            return &table[i];
    return NULL;
}

bool tito_milestone_bar_met(const tito_milestone_bar *b, double value)
{
    tt_milestone_bar row = {.metric = b->metric, .comparison = b->comparison, .bar = b->bar};
    return tt_milestone_bar_met(&row, value);
}

bool tito_milestone_metric_is_accuracy(const char *metric)
{
    return strstr(metric, "accuracy") != NULL;
}

const char *tito_milestone_outcome_name(tito_milestone_outcome outcome)
{
    switch (outcome) {
    case TITO_MILESTONE_REACHED: return "reached";
    case TITO_MILESTONE_MISSED: return "missed";
    case TITO_MILESTONE_NOT_BUILT: return "build-failed";
    case TITO_MILESTONE_NO_RESULT: return "no-result";
    }
    return "?";
}

size_t tito_milestone_missing_modules(const tito_module **missing, size_t max,
                                      const tito_milestone *m, const char *workspace_root)
{
    size_t n = 0;
    for (int k = m->first_module; k <= m->last_module; k++) {
        const tito_module *mod = tito_module_numbered(k);
        if (!mod)
            continue;
        tito_module_files f;
        tito_module_files_of(&f, mod);
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", workspace_root, f.source);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
            continue;
        if (n < max)
            missing[n] = mod;
        n++;
    }
    return n;
}

/* ------------------------------------------------------------ result files */

/* A run's problem, set once (the first reason is the one reported). */
static tt_status set_problem(tito_milestone_report *rep, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static tt_status set_problem(tito_milestone_report *rep, const char *fmt, ...)
{
    if (rep->problem)
        return TT_OK;
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rep->problem = tito_utf8_dup(buf);
    return rep->problem ? TT_OK : nomem();
}

bool tito_milestone_number(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (json_is_null(v)) {
        *out = NAN;
        return true;
    }
    return false;
}

static void release_models(tito_milestone_report *rep)
{
    for (size_t i = 0; i < rep->n_models; i++) {
        free(rep->models[i].key);
        free(rep->models[i].loss);
        free(rep->models[i].label);
        free(rep->models[i].model);
        free(rep->models[i].history);
    }
    free(rep->models);
    rep->models = NULL;
    rep->n_models = 0;
}

/* "runs": every model's label, description and history, checked. Returns false (with
 * rep->problem set) when malformed. */
static tt_status read_models(tito_milestone_report *rep, const json_t *runs, bool *ok)
{
    *ok = false;
    if (!json_is_array(runs) || json_array_size(runs) == 0 || json_array_size(runs) > 16)
        return set_problem(rep, RESULT_FILE ": runs: expected an array of 1 to 16 models");
    size_t n = json_array_size(runs);
    rep->models = calloc(n, sizeof *rep->models);
    if (!rep->models)
        return nomem();
    for (size_t i = 0; i < n; i++) {
        const json_t *run = json_array_get(runs, i);
        tito_milestone_model *mod = &rep->models[rep->n_models++];
        const json_t *label = json_object_get(run, "label"), *model = json_object_get(run, "model");
        const json_t *key = json_object_get(run, "key"), *loss = json_object_get(run, "loss");
        const json_t *history = json_object_get(run, "history");
        if (!json_is_object(run) || !json_is_string(label) || !json_is_string(model) ||
            !json_is_array(history) || json_array_size(history) > (size_t)rep->epochs ||
            (key && !json_is_string(key)) || (loss && !json_is_string(loss)))
            return set_problem(rep,
                               RESULT_FILE ": runs[%zu]: expected an object with a label, a "
                                           "model and a history of at most %ld epochs",
                               i, rep->epochs);
        mod->key = tito_utf8_dup(key ? json_string_value(key) : "");
        mod->loss = tito_utf8_dup(loss ? json_string_value(loss) : "");
        mod->label = tito_utf8_dup(json_string_value(label));
        mod->model = tito_utf8_dup(json_string_value(model));
        size_t nh = json_array_size(history);
        mod->history = nh ? calloc(nh, sizeof *mod->history) : NULL;
        if (!mod->key || !mod->loss || !mod->label || !mod->model || (nh && !mod->history))
            return nomem();
        for (size_t e = 0; e < nh; e++) {
            const json_t *rec = json_array_get(history, e);
            tito_milestone_epoch *ep = &mod->history[e];
            const json_t *epoch = json_object_get(rec, "epoch");
            if (!json_is_object(rec) || !json_is_integer(epoch) ||
                json_integer_value(epoch) != (json_int_t)e + 1 ||
                !tito_milestone_number(json_object_get(rec, "loss"), &ep->loss) ||
                !tito_milestone_number(json_object_get(rec, "train_accuracy"), &ep->train_accuracy) ||
                !tito_milestone_number(json_object_get(rec, "test_accuracy"), &ep->test_accuracy))
                return set_problem(rep,
                                   RESULT_FILE ": runs[%zu].history[%zu]: expected epoch %zu "
                                               "with loss, train_accuracy and test_accuracy",
                                   i, e, e + 1);
            ep->epoch = (long)(e + 1);
        }
        mod->n_history = nh;
    }
    *ok = true;
    return TT_OK;
}

bool tito_milestone_metric_value(const tito_milestone_report *rep, const char *key, double *value)
{
    *value = NAN;
    if (!rep->metrics)
        return false;
    return tito_milestone_number(json_object_get(rep->metrics, key), value);
}

/* Read <run dir>/result.json into rep, strictly. A file that is not there, not a
 * regular file, too big or not what milestones.def promises is a problem of the run,
 * not an error of tito's. */
/* A file a sandboxed run left: *text (malloc'ed, NUL-terminated) and *len. Returns 0,
 * ENOMEM, EFBIG for a link, a special file or one over cap bytes, or open's errno. */
static int read_run_file(char **text, size_t *len, const char *path, size_t cap)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ELOOP ? EFBIG : errno;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > cap) {
        close(fd);
        return EFBIG;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return ENOMEM;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return 0;
}

static tt_status read_result(tito_milestone_report *rep, const char *run_dir,
                             const tito_milestone *m)
{
    char path[4200], *text = NULL;
    size_t got = 0;
    snprintf(path, sizeof path, "%s/" RESULT_FILE, run_dir);
    int err = read_run_file(&text, &got, path, RESULT_CAP);
    if (err == ENOENT)
        return set_problem(rep, "it wrote no result file");
    if (err == ENOMEM)
        return nomem();
    if (err == EFBIG)
        return set_problem(rep, "its result file is not a regular file of at most %zu MiB",
                           RESULT_CAP >> 20);
    if (err)
        return set_problem(rep, "its result file cannot be read (%s)", strerror(err));

    json_error_t jerr;
    json_t *root = json_loadb(text, got, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root)
        return set_problem(rep, RESULT_FILE ": not valid JSON (line %d: %s)", jerr.line, jerr.text);
    rep->result = root;

    tt_status st = TT_OK;
    const json_t *schema = json_object_get(root, "schema");
    const json_t *number = json_object_get(root, "milestone");
    const json_t *slug = json_object_get(root, "slug"), *program = json_object_get(root, "program");
    const json_t *seed = json_object_get(root, "seed"), *epochs = json_object_get(root, "epochs");
    const json_t *metrics = json_object_get(root, "metrics");
    static const char *const claims[] = {"bar", "bars", "reached", "passed"};
    if (!json_is_object(root))
        return set_problem(rep, RESULT_FILE ": expected a JSON object");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), TT_MILESTONE_SCHEMA) != 0)
        return set_problem(rep, RESULT_FILE ": schema: expected \"%s\"", TT_MILESTONE_SCHEMA);
    if (!json_is_integer(number) || json_integer_value(number) != m->number)
        return set_problem(rep, RESULT_FILE ": milestone: expected %d", m->number);
    if (!json_is_string(slug) || strcmp(json_string_value(slug), m->slug) != 0)
        return set_problem(rep, RESULT_FILE ": slug: expected \"%s\"", m->slug);
    if (!json_is_string(program) || strcmp(json_string_value(program), m->program) != 0)
        return set_problem(rep, RESULT_FILE ": program: expected \"%s\"", m->program);
    if (!json_is_integer(seed) || json_integer_value(seed) < 0 || !json_is_integer(epochs) ||
        json_integer_value(epochs) < 1 || json_integer_value(epochs) > 1000)
        return set_problem(rep, RESULT_FILE ": seed and epochs: expected whole numbers (epochs 1 "
                                            "to 1000)");
    rep->seed = (uint64_t)json_integer_value(seed);
    rep->epochs = (long)json_integer_value(epochs);
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++)
        if (json_object_get(root, claims[i]))
            return set_problem(rep,
                               RESULT_FILE ": has a key \"%s\": a result states measurements, "
                                           "never whether a bar was met",
                               claims[i]);
    if (!json_is_object(metrics))
        return set_problem(rep, RESULT_FILE ": metrics: expected an object");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)metrics, key, value) {
        double v;
        if (!tito_milestone_number(value, &v))
            return set_problem(rep, RESULT_FILE ": metrics.%s: expected a number or null", key);
    }
    rep->metrics = metrics;
    for (size_t i = 0; i < m->n_bars; i++) {
        double v;
        if (strcmp(m->bars[i].metric, "time_ratio") != 0 &&
            !tito_milestone_metric_value(rep, m->bars[i].metric, &v))
            return set_problem(rep, RESULT_FILE ": metrics.%s: missing (a bar's metric)",
                               m->bars[i].metric);
    }
    static const char *const required[] = {"train_seconds", "live_allocations_at_end"};
    for (size_t i = 0; i < 2; i++) {
        double v;
        if (!tito_milestone_metric_value(rep, required[i], &v))
            return set_problem(rep, RESULT_FILE ": metrics.%s: missing", required[i]);
    }
    tito_milestone_metric_value(rep, "train_seconds", &rep->train_seconds);
    tito_milestone_metric_value(rep, "live_allocations_at_end", &rep->live_allocations);
    if (!tito_milestone_metric_value(rep, "samples_per_second", &rep->samples_per_second))
        rep->samples_per_second = NAN;
    bool ok = false;
    st = read_models(rep, json_object_get(root, "runs"), &ok);
    if (st != TT_OK || !ok)
        return st;
    rep->reported = true;
    return TT_OK;
}

/* ------------------------------------------------------------ runs */

static const char *signal_words(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV: a read or write through a bad pointer (NULL, freed, out of bounds)";
    case SIGBUS: return "SIGBUS: a misaligned or impossible memory access";
    case SIGFPE: return "SIGFPE: an integer division by zero";
    case SIGILL: return "SIGILL: an illegal instruction (often a corrupted stack)";
    case SIGABRT: return "SIGABRT: abort(), a failed assert or a corrupted heap (double free?)";
    default: return NULL;
    }
}

/* The last lines of a stream, valid UTF-8, or NULL when it is empty. */
static char *tail_of(const tito_sandbox_stream *s)
{
    if (s->size == 0)
        return NULL;
    const char *end = s->data + s->size;
    while (end > s->data && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    const char *start = end;
    int lines = 0;
    while (start > s->data && (size_t)(end - start) < TAIL_CHARS) {
        if (start[-1] == '\n' && ++lines == TAIL_LINES)
            break;
        start--;
    }
    size_t n = (size_t)(end - start);
    char *raw = malloc(n + 1);
    if (!raw)
        return NULL;
    memcpy(raw, start, n);
    raw[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (raw[i] == '\0')
            raw[i] = ' ';
    char *clean = tito_utf8_dup(raw);
    free(raw);
    return clean;
}

/* Why a run that was started did not report, from how it ended. */
static tt_status explain_ending(tito_milestone_report *rep, const tito_sandbox_result *r,
                                double wall, unsigned cpu, unsigned mem_mb)
{
    switch (r->end) {
    case TITO_SANDBOX_EXITED:
        if (r->exit_code == 6)
            return set_problem(rep, "it stopped on a framework error (exit status 6: a function "
                                    "not written yet, or one that failed; its message is below)");
        if (r->exit_code == 5)
            return set_problem(rep, "it ran out of memory (exit status 5)");
        return set_problem(rep, "it exited with status %d without writing its result",
                           r->exit_code);
    case TITO_SANDBOX_SIGNALED: {
        const char *words = signal_words(r->signal);
        if (words)
            return set_problem(rep, "it crashed (%s)", words);
        return set_problem(rep, "it was killed by signal %d", r->signal);
    }
    case TITO_SANDBOX_TIMEOUT:
        return set_problem(rep, "it did not finish within %.0f s: an endless loop, or something "
                                "far slower than it should be",
                           wall);
    case TITO_SANDBOX_CPU_LIMIT:
        return set_problem(rep, "it used more than %u s of CPU time", cpu);
    case TITO_SANDBOX_MEMORY_LIMIT:
        return set_problem(rep, "it ran out of memory (limit %u MiB): a leak in a loop, or an "
                                "allocation far too large",
                           mem_mb);
    case TITO_SANDBOX_OUTPUT_LIMIT:
        return set_problem(rep, "it printed more than the output limit (do your modules print in a "
                                "loop?)");
    case TITO_SANDBOX_FILE_SIZE_LIMIT:
        return set_problem(rep, "it wrote a file past the size limit");
    case TITO_SANDBOX_SPAWN_FAILED:
        return set_problem(rep, "it could not be started: %s", r->message);
    }
    return set_problem(rep, "it ended abnormally: %s", r->message);
}

static tt_status make_run_dir(char *path, size_t size, const tito_build *b, const char *name)
{
    snprintf(path, size, "%s/%s", b->workdir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return tt_error_set(TT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    *slash = '/';
    if (mkdir(path, 0755) != 0)
        return tt_error_set(TT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    if (geteuid() == 0 && chown(path, TITO_SANDBOX_UID, TITO_SANDBOX_GID) != 0)
        return tt_error_set(TT_ERR_IO, "cannot give %s to the sandbox user: %s", path,
                            strerror(errno));
    return TT_OK;
}

typedef struct run_spec {
    const char *program;  /* absolute path */
    const char *run_dir;  /* absolute path, writable by the sandbox user */
    const char *const *hidden;
    double wall;
    unsigned cpu, mem_mb;
    bool save_params; /* --params PARAMS_FILE too: the run the verdict comes from */
} run_spec;

/* Run argv (a milestone program) in the sandbox with s's limits and hidden paths, in
 * dir, with the data of data_dir. */
static tt_status sandbox_program(tito_sandbox_result **r, const run_spec *s, const char *dir,
                                 const char *const *argv, const char *data_dir)
{
    char env_data[4300];
    snprintf(env_data, sizeof env_data, "TT_DATA_DIR=%s", data_dir);
    const char *env[] = {env_data, "NO_COLOR=1", NULL};
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    o.argv = argv;
    o.workdir = dir;
    o.env = env;
    o.hidden_paths = s->hidden;
    o.limits.wall_seconds = s->wall;
    o.limits.cpu_seconds = s->cpu;
    o.limits.address_space = (uint64_t)s->mem_mb << 20;
    o.limits.output_bytes = (size_t)1 << 20;
    return tito_sandbox_run(r, &o);
}

/* Run a milestone program in the sandbox and read what it reported into rep. The
 * sandbox's isolation in force goes to *isolation (may be NULL). */
static tt_status run_program(tito_milestone_report *rep, const run_spec *s, const char *data_dir,
                             const tito_milestone *m, unsigned *isolation)
{
    const char *argv[] = {s->program, "--json", RESULT_FILE,
                          s->save_params ? "--params" : NULL, PARAMS_FILE, NULL};
    tito_sandbox_result *r = NULL;
    tt_status st = sandbox_program(&r, s, s->run_dir, argv, data_dir);
    if (st != TT_OK)
        return st;
    rep->ran = true;
    rep->end = r->end;
    rep->exit_code = r->exit_code;
    rep->signal = r->signal;
    rep->wall_seconds = r->wall_seconds;
    rep->cpu_seconds = r->cpu_seconds;
    if (isolation)
        *isolation = r->isolation;
    rep->stderr_tail = tail_of(&r->err);
    if (r->err.size && !rep->stderr_tail)
        st = nomem();
    /* A run that did not end by itself does not report, whatever it left behind. */
    if (st == TT_OK && r->end != TITO_SANDBOX_EXITED)
        st = explain_ending(rep, r, s->wall, s->cpu, s->mem_mb);
    else if (st == TT_OK) {
        st = read_result(rep, s->run_dir, m);
        if (!rep->reported)
            rep->metrics = NULL; /* what a rejected file says is not a measurement */
        if (st == TT_OK && !rep->reported && r->exit_code != 0 && !rep->result) {
            /* No file at all: the exit status says why better than "no file". */
            free(rep->problem);
            rep->problem = NULL;
            st = explain_ending(rep, r, s->wall, s->cpu, s->mem_mb);
        }
    }
    tito_sandbox_result_free(r);
    return st;
}

static void report_release(tito_milestone_report *rep)
{
    free(rep->problem);
    free(rep->stderr_tail);
    json_decref(rep->result);
    json_decref(rep->claimed);
    release_models(rep);
    memset(rep, 0, sizeof *rep);
}

/* ------------------------------------------------------------ building */

/* The trusted files of milestone m, kit-relative. */
static size_t program_files(const char **rels, char slug_rel[128], const tito_milestone *m)
{
    snprintf(slug_rel, 128, "milestones/%s.c", m->slug);
    size_t n = 0;
    rels[n++] = slug_rel;
    rels[n++] = "milestones/common/milestone.c";
    rels[n++] = "milestones/common/params.c";
    rels[n++] = "milestones/common/milestone.h";
    rels[n++] = "milestones/common/loader.c";
    rels[n++] = "milestones/milestones.h";
    rels[n++] = "milestones/milestones.def";
    return n;
}

/* Whether m links the data loader (common/loader.c): its range includes module 08's
 * "dataloader", as in milestones/Milestones.cmake. */
static bool uses_loader(const tito_milestone *m)
{
    const tito_module *loader = tito_module_find("dataloader");
    return loader && loader->number >= m->first_module && loader->number <= m->last_module;
}

/* The hash lines "<sha256> <rel>\n" of the program's material, appended to a buffer. */
typedef struct hash_lines {
    char *text;
    size_t len, cap;
} hash_lines;

static tt_status add_hash_line(hash_lines *hl, const char *file, const char *rel)
{
    char h[TITO_KIT_HASH_SIZE];
    tt_status st = tito_kit_sha256_file(h, file);
    if (st != TT_OK)
        return st;
    size_t need = strlen(h) + strlen(rel) + 3;
    if (hl->len + need > hl->cap) {
        size_t cap = 2 * (hl->cap + need);
        char *grown = realloc(hl->text, cap);
        if (!grown)
            return nomem();
        hl->text = grown;
        hl->cap = cap;
    }
    hl->len += (size_t)snprintf(hl->text + hl->len, hl->cap - hl->len, "%s %s\n", h, rel);
    return TT_OK;
}

static int only_files(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Every regular file of the kit's folder `dir` whose name ends in `suffix` ("" for any),
 * in name order: hashed, and copied to <work>/<dir>/ when `copy`. */
static tt_status add_kit_folder(tito_build *b, hash_lines *hl, const char *dir, const char *suffix,
                                bool copy)
{
    char from[4200];
    tt_status st = tito_kit_path(from, sizeof from, b->kit, dir);
    if (st != TT_OK)
        return st;
    struct dirent **names = NULL;
    int n = scandir(from, &names, only_files, alphasort);
    if (n < 0)
        return tt_error_set(TT_ERR_IO,
                            "the grading kit at %s has no %s/ (%s): rebuild tito (cmake --build "
                            "<your build directory>) or reinstall it",
                            b->kit->root, dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t nl = strlen(name), sl = strlen(suffix);
        char file[4800], rel[800];
        snprintf(file, sizeof file, "%s/%s", from, name);
        snprintf(rel, sizeof rel, "%s/%s", dir, name);
        struct stat sb;
        if (st != TT_OK || nl < sl || strcmp(name + nl - sl, suffix) != 0 || stat(file, &sb) != 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        st = add_hash_line(hl, file, rel);
        if (st == TT_OK && copy)
            st = tito_build_copy_in(b, file, rel, 0644);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

/* Copy the trusted sources and the data into the working directory, and hash them with
 * the headers they are compiled against (res->milestone_hash). */
static tt_status copy_program(tito_build *b, tito_milestone_result *res, char data_dir[4200])
{
    const char *rels[8];
    char slug_rel[128], from[4200];
    size_t n = program_files(rels, slug_rel, res->milestone);
    hash_lines hl = {NULL, 0, 0};
    tt_status st = TT_OK;
    for (size_t i = 0; i < n && st == TT_OK; i++) {
        st = tito_kit_path(from, sizeof from, b->kit, rels[i]);
        if (st == TT_OK && !tito_path_exists(from))
            st = tt_error_set(TT_ERR_IO,
                              "the grading kit at %s has no milestone programs (%s is missing): "
                              "rebuild tito (cmake --build <your build directory>) or reinstall it",
                              b->kit->root, rels[i]);
        if (st == TT_OK)
            st = tito_build_copy_in(b, from, rels[i], 0644);
        if (st == TT_OK)
            st = add_hash_line(&hl, from, rels[i]);
    }
    if (st == TT_OK)
        st = add_kit_folder(b, &hl, "include/tinytorch", ".h", false);
    if (st == TT_OK)
        st = add_kit_folder(b, &hl, "data", "", true);
    snprintf(data_dir, 4200, "%s/data", b->workdir);
    if (st == TT_OK)
        tito_kit_sha256(res->milestone_hash, hl.text ? hl.text : "", hl.len);
    free(hl.text);
    return st;
}

/* The trusted objects of milestone m, in link order: the program, the shared helpers
 * and, when m includes the data loader, its batches. Returns how many (at most
 * PROGRAM_OBJECTS). */
#define PROGRAM_OBJECTS 4
static size_t program_objects(const tito_milestone *m, const char **objs, const char **sources,
                              char slug_src[160])
{
    snprintf(slug_src, 160, "milestones/%s.c", m->slug);
    size_t n = 0;
    sources[n] = slug_src;
    objs[n++] = "ms-program.o";
    sources[n] = "milestones/common/milestone.c";
    objs[n++] = "ms-milestone.o";
    sources[n] = "milestones/common/params.c";
    objs[n++] = "ms-params.o";
    if (uses_loader(m)) {
        sources[n] = "milestones/common/loader.c";
        objs[n++] = "ms-loader.o";
    }
    return n;
}

/* ${XDG_CACHE_HOME:-~/.cache}/tito/milestones/<key>, from b->cache_dir: the reference
 * program and the trusted objects, keyed by everything they are made of. */
static bool cache_dir_of(char *buf, size_t size, const tito_build *b,
                         const tito_milestone_result *res)
{
    if (!b->cache_dir)
        return false;
    char text[3 * TITO_KIT_HASH_SIZE + 1200], key[TITO_KIT_HASH_SIZE], tools[1024];
    toolchain_text(tools, sizeof tools, b);
    snprintf(text, sizeof text, "%s %s %s %s", b->reference_hash, res->milestone_hash, tools,
             res->milestone->slug);
    tito_kit_sha256(key, text, strlen(text));
    int n = snprintf(buf, size, "%s/%.32s", b->cache_dir, key + 7);
    return n > 0 && (size_t)n < size;
}

static tt_status copy_plain(const char *from, const char *to, unsigned mode)
{
    char *data = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&data, &len, from);
    if (st == TT_OK)
        st = tito_file_write_atomic(to, data, len, mode);
    free(data);
    return st;
}

/* files[i] between <work>/<rel i> and <cache>/<base name i>; false when one fails. */
static bool cache_copy(const tito_build *b, const char *cache, const char *const *rels, size_t n,
                       bool into_cache)
{
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const char *base = strrchr(rels[i], '/');
        base = base ? base + 1 : rels[i];
        char work[4400], cached[4400];
        snprintf(work, sizeof work, "%s/%s", b->workdir, rels[i]);
        snprintf(cached, sizeof cached, "%s/%s", cache, base);
        ok = into_cache ? copy_plain(work, cached, 0755) == TT_OK
                        : tito_path_exists(cached) && copy_plain(cached, work, 0755) == TT_OK;
    }
    tt_error_clear();
    return ok;
}

/* The trusted objects (<work>/ms-*.o, names into objs) and the reference program
 * (<work>/reference/<program>): from the cache, or compiled and linked now from the
 * trusted sources and the reference objects of the range, and cached. */
static tt_status build_reference(tito_build *b, tito_milestone_result *res, const char **objs,
                                 size_t *n_objs, char *program, size_t size)
{
    const tito_milestone *m = res->milestone;
    const char *sources[PROGRAM_OBJECTS], *rels[PROGRAM_OBJECTS + 1];
    char slug_src[160], rel[256], cache[4400];
    size_t n = program_objects(m, objs, sources, slug_src);
    *n_objs = n;
    snprintf(rel, sizeof rel, "reference/%s", m->program);
    snprintf(program, size, "%s/%s", b->workdir, rel);
    for (size_t i = 0; i < n; i++)
        rels[i] = objs[i];
    rels[n] = rel;
    bool have_cache = cache_dir_of(cache, sizeof cache, b, res);
    if (have_cache && cache_copy(b, cache, rels, n + 1, false)) {
        res->reference_cached = true;
        return TT_OK;
    }

    const char *const includes[] = {"milestones", NULL};
    for (size_t i = 0; i < n; i++) {
        tito_build_outcome out;
        tt_status st = tito_build_compile_file(&out, b, sources[i], objs[i], includes);
        if (st != TT_OK)
            return st;
        if (out.verdict != TITO_PASS) {
            st = tt_error_set(TT_ERR_STATE,
                              "internal error: the milestone program's own source %s does not "
                              "compile: %.600s",
                              sources[i], out.message ? out.message : "");
            tito_build_outcome_release(&out);
            return st;
        }
        tito_build_outcome_release(&out);
    }

    const char *inputs[48];
    char refs[32][160];
    size_t k_in = 0, r = 0;
    for (size_t i = 0; i < n; i++)
        inputs[k_in++] = objs[i];
    for (int k = m->first_module; k <= m->last_module && r < 32; k++) {
        const tito_module *mod = tito_module_numbered(k);
        if (!mod)
            continue;
        snprintf(refs[r], sizeof refs[r], "kit/ref/%s.o", mod->name);
        inputs[k_in++] = refs[r++];
    }
    inputs[k_in++] = "kit/lib/libtinytorch_core.a";
    inputs[k_in] = NULL;
    tito_build_outcome out;
    tt_status st = tito_build_link_program(&out, b, rel, inputs);
    if (st != TT_OK)
        return st;
    if (out.verdict != TITO_PASS) {
        st = tt_error_set(TT_ERR_STATE,
                          "internal error: milestone %d does not link with the reference: %.600s",
                          m->number, out.message ? out.message : "");
        tito_build_outcome_release(&out);
        return st;
    }
    tito_build_outcome_release(&out);
    /* A cache that cannot be written costs only a build next time. */
    if (have_cache && tito_mkdirs(cache) == TT_OK)
        (void)cache_copy(b, cache, rels, n + 1, true);
    tt_error_clear();
    return TT_OK;
}

/* <cache>/objects/<key>.o for a student's file: its bytes, the compiler, its flags and
 * the headers (in milestone_hash) make the object; "" and false without a cache. */
static bool object_cache_path(char *buf, size_t size, const tito_build *b,
                              const tito_milestone_result *res, const tito_milestone_source *src)
{
    buf[0] = '\0';
    if (!b->cache_dir)
        return false;
    char text[3 * TITO_KIT_HASH_SIZE + 1200], key[TITO_KIT_HASH_SIZE], tools[1024];
    toolchain_text(tools, sizeof tools, b);
    snprintf(text, sizeof text, "%s %s %s %s", src->hash, res->milestone_hash, tools,
             src->module->name);
    tito_kit_sha256(key, text, strlen(text));
    int n = snprintf(buf, size, "%s/objects/%.32s.o", b->cache_dir, key + 7);
    return n > 0 && (size_t)n < size;
}

static bool cache_get(const tito_build *b, const char *cached, const char *rel)
{
    char work[4400];
    int n = snprintf(work, sizeof work, "%s/%s", b->workdir, rel);
    return n > 0 && (size_t)n < sizeof work && copy_plain(cached, work, 0644) == TT_OK;
}

static void cache_put(const tito_build *b, const char *rel, const char *cached)
{
    char work[4400], dir[4400];
    int n = snprintf(work, sizeof work, "%s/%s", b->workdir, rel);
    int m = snprintf(dir, sizeof dir, "%s", cached);
    char *slash = strrchr(dir, '/');
    if (n <= 0 || (size_t)n >= sizeof work || m <= 0 || (size_t)m >= sizeof dir || !slash)
        return;
    *slash = '\0';
    if (tito_mkdirs(dir) == TT_OK)
        (void)copy_plain(work, cached, 0644);
}

/* One compile of a student's file, on a thread of its own. Each job has its own copy
 * of the build (the tools record the isolation in it); the rest is only read. */
typedef struct compile_job {
    tito_build b;
    const char *source, *object;
    tito_build_outcome out;
    tt_status st;
    char error[512];
} compile_job;

static void *compile_thread(void *arg)
{
    compile_job *job = arg;
    job->st = tito_build_compile_file(&job->out, &job->b, job->source, job->object, NULL);
    if (job->st != TT_OK)
        snprintf(job->error, sizeof job->error, "%s", tt_error_last());
    return NULL;
}

#define COMPILE_THREADS 2

/* The student's files in, compiled (two at a time: most of a milestone's build is
 * compiling them), and linked with the program. On a compile or link error res->build,
 * build_module, build_message and build_log say so (TT_OK); the first file in module
 * order that fails is the one reported. */
static tt_status build_student(tito_build *b, tito_milestone_result *res, const char *root,
                               const char **objs, size_t n_objs, char *program, size_t size)
{
    const tito_milestone *m = res->milestone;
    char names[32][160], own[32][160];
    res->build = TITO_PASS;
    for (int k = m->first_module; k <= m->last_module && res->n_sources < 32; k++) {
        const tito_module *mod = tito_module_numbered(k);
        if (!mod)
            continue;
        size_t i = res->n_sources++;
        tito_milestone_source *src = &res->sources[i];
        tito_module_files f;
        tito_module_files_of(&f, mod);
        src->module = mod;
        snprintf(src->path, sizeof src->path, "%s", f.source);
        char from[4400];
        snprintf(from, sizeof from, "%s/%s", root, f.source);
        snprintf(names[i], sizeof names[i], "%s.c", mod->name);
        snprintf(own[i], sizeof own[i], "%s.o", mod->name);
        tt_status st = tito_kit_sha256_file(src->hash, from);
        if (st == TT_OK)
            st = tito_build_copy_in(b, from, names[i], 0644);
        if (st != TT_OK)
            return st;
    }

    /* Objects compiled before from the same bytes with the same compiler and headers
     * come from the cache: running milestones 1, 2, 3 in a row compiles each file once. */
    char cached[32][4400];
    bool from_cache[32] = {false};
    for (size_t i = 0; i < res->n_sources; i++)
        from_cache[i] = object_cache_path(cached[i], sizeof cached[i], b, res, &res->sources[i]) &&
                        tito_path_exists(cached[i]) && cache_get(b, cached[i], own[i]);
    tt_error_clear();

    compile_job *jobs = calloc(res->n_sources, sizeof *jobs);
    if (!jobs)
        return nomem();
    size_t todo[32], n_todo = 0;
    for (size_t i = 0; i < res->n_sources; i++)
        if (!from_cache[i])
            todo[n_todo++] = i;
    tt_status st = TT_OK;
    for (size_t start = 0; start < n_todo && st == TT_OK; start += COMPILE_THREADS) {
        pthread_t threads[COMPILE_THREADS];
        bool started[COMPILE_THREADS] = {false};
        for (size_t t = 0; t < COMPILE_THREADS && start + t < n_todo; t++) {
            compile_job *job = &jobs[todo[start + t]];
            job->b = *b;
            job->source = names[todo[start + t]];
            job->object = own[todo[start + t]];
            /* The last of a batch runs here; the others on threads (or here when no
             * thread can be made). */
            if (t + 1 < COMPILE_THREADS && start + t + 1 < n_todo)
                started[t] = pthread_create(&threads[t], NULL, compile_thread, job) == 0;
            if (!started[t])
                compile_thread(job);
        }
        for (size_t t = 0; t < COMPILE_THREADS; t++)
            if (started[t])
                pthread_join(threads[t], NULL);
        for (size_t t = 0; t < COMPILE_THREADS && start + t < n_todo; t++) {
            const compile_job *job = &jobs[todo[start + t]];
            if (job->st != TT_OK && st == TT_OK)
                st = tt_error_set(job->st, "%s", job->error);
        }
    }
    for (size_t i = 0; i < res->n_sources && st == TT_OK; i++) {
        if (from_cache[i])
            continue;
        b->isolation = jobs[i].b.isolation;
        if (jobs[i].out.verdict == TITO_PASS && cached[i][0]) {
            cache_put(b, own[i], cached[i]);
            tt_error_clear();
        }
        if (jobs[i].out.verdict != TITO_PASS && res->build == TITO_PASS) {
            res->build = jobs[i].out.verdict;
            res->build_module = res->sources[i].module;
            res->build_message = tito_utf8_dup(jobs[i].out.message);
            res->build_log = tito_utf8_dup(jobs[i].out.log);
            if (!res->build_message)
                st = nomem();
        }
    }
    for (size_t i = 0; i < res->n_sources; i++)
        tito_build_outcome_release(&jobs[i].out);
    free(jobs);
    if (st != TT_OK || res->build != TITO_PASS)
        return st;

    const char *inputs[48];
    size_t n = 0;
    for (size_t i = 0; i < n_objs; i++)
        inputs[n++] = objs[i];
    for (size_t i = 0; i < res->n_sources; i++)
        inputs[n++] = own[i];
    inputs[n++] = "kit/lib/libtinytorch_core.a";
    inputs[n] = NULL;
    tito_build_outcome out;
    st = tito_build_link_program(&out, b, m->program, inputs);
    if (st != TT_OK)
        return st;
    if (out.verdict != TITO_PASS) {
        res->build = out.verdict;
        res->build_message = tito_utf8_dup(out.message);
        res->build_log = tito_utf8_dup(out.log);
        tito_build_outcome_release(&out);
        return res->build_message ? TT_OK : nomem();
    }
    tito_build_outcome_release(&out);
    snprintf(program, size, "%s/%s", b->workdir, m->program);
    return TT_OK;
}

/* ------------------------------------------------------------ judging */

static void judge(tito_milestone_result *res)
{
    const tito_milestone *m = res->milestone;
    res->time_ratio = NAN;
    if (res->student.reported && res->reference.reported && res->student_train_median > 0 &&
        res->reference_train_median > 0 && isfinite(res->student_train_median) &&
        isfinite(res->reference_train_median))
        res->time_ratio = res->reference_train_median / res->student_train_median;
    bool all = true;
    res->n_bars = m->n_bars;
    for (size_t i = 0; i < m->n_bars; i++) {
        tito_milestone_bar_result *br = &res->bars[i];
        br->bar = m->bars[i];
        br->value = br->reference = NAN;
        if (strcmp(br->bar.metric, "time_ratio") == 0) {
            br->value = res->time_ratio;
            br->reference = res->reference.reported ? 1.0 : NAN;
        } else {
            if (res->student.reported)
                tito_milestone_metric_value(&res->student, br->bar.metric, &br->value);
            if (res->reference.reported)
                tito_milestone_metric_value(&res->reference, br->bar.metric, &br->reference);
        }
        br->met = res->student.reported && tito_milestone_bar_met(&br->bar, br->value);
        all = all && br->met;
    }
    if (res->build != TITO_PASS)
        res->outcome = TITO_MILESTONE_NOT_BUILT;
    else if (!res->student.reported)
        res->outcome = TITO_MILESTONE_NO_RESULT;
    else
        res->outcome = all ? TITO_MILESTONE_REACHED : TITO_MILESTONE_MISSED;
}

static double median(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* More runs of both programs, alternating, for the time ratio: the medians of their
 * training times (the judged metrics stay those of the first runs). A trial that does
 * not report only leaves its times out. */
static tt_status time_trials(tito_milestone_result *res, const run_spec *ref, const run_spec *stu,
                             tito_build *b, const char *data_dir, unsigned trials)
{
    double ref_t[MAX_TRIALS], stu_t[MAX_TRIALS];
    size_t n = 0;
    ref_t[n] = res->reference.train_seconds;
    stu_t[n++] = res->student.train_seconds;
    tt_status st = TT_OK;
    for (unsigned k = 1; k < trials && k < MAX_TRIALS && st == TT_OK; k++) {
        tito_milestone_report rr, sr;
        memset(&rr, 0, sizeof rr);
        memset(&sr, 0, sizeof sr);
        char rdir[4200], sdir[4200], name[64];
        run_spec r = *ref, s = *stu;
        s.save_params = false; /* these runs are timed, not judged */
        snprintf(name, sizeof name, "reference-runs/%u", k);
        st = make_run_dir(rdir, sizeof rdir, b, name);
        snprintf(name, sizeof name, "student-runs/%u", k);
        if (st == TT_OK)
            st = make_run_dir(sdir, sizeof sdir, b, name);
        r.run_dir = rdir;
        s.run_dir = sdir;
        if (st == TT_OK)
            st = run_program(&rr, &r, data_dir, res->milestone, NULL);
        if (st == TT_OK)
            st = run_program(&sr, &s, data_dir, res->milestone, NULL);
        if (st == TT_OK && rr.reported && sr.reported && rr.train_seconds > 0 &&
            sr.train_seconds > 0) {
            ref_t[n] = rr.train_seconds;
            stu_t[n++] = sr.train_seconds;
        }
        report_release(&rr);
        report_release(&sr);
    }
    if (st != TT_OK)
        return st;
    res->time_trials = (unsigned)n;
    res->reference_train_median = median(ref_t, n);
    res->student_train_median = median(stu_t, n);
    return TT_OK;
}

/* Whether the run's own figure and the reference's measurement of its parameters
 * differ by more than the rounding of two float computations of the same model. */
static bool disagree(double own, double measured)
{
    if (isnan(own) || isnan(measured))
        return isnan(own) != isnan(measured);
    return fabs(own - measured) > 1e-6 + 1e-4 * fabs(measured);
}

/* The run's result no longer counts: what it reported is not a measurement. */
static tt_status unreport(tito_milestone_report *rep, const char *problem)
{
    rep->reported = false;
    rep->metrics = NULL;
    return set_problem(rep, "%s", problem);
}

/* The student's judged run reported: the reference's program measures the parameters
 * it saved (--evaluate), and those figures replace the run's own; the run's figures
 * that differ are kept in rep->claimed. A run whose parameters cannot be measured has
 * no result. Student code never touches this measurement, so no verdict rests on what
 * the student's process wrote. */
static tt_status remeasure(tito_milestone_result *res, tito_build *b, const run_spec *ref,
                           const char *data_dir, const char *student_dir)
{
    tito_milestone_report *rep = &res->student;
    char dir[4200], path[4300], problem[1200];
    char *data = NULL;
    size_t len = 0;
    tt_status st = make_run_dir(dir, sizeof dir, b, "evaluation");
    if (st != TT_OK)
        return st;
    snprintf(path, sizeof path, "%s/" PARAMS_FILE, student_dir);
    int err = read_run_file(&data, &len, path, PARAMS_CAP);
    if (err == ENOMEM)
        return nomem();
    if (err)
        return unreport(rep, err == EFBIG ? "its parameters file is not a regular file of a "
                                            "sane size: something in your modules wrote there"
                                          : "it saved no parameters file, so its figures cannot "
                                            "be checked: something in your modules ended the "
                                            "program early or removed the file");
    snprintf(path, sizeof path, "%s/" PARAMS_FILE, dir);
    st = tito_file_write_atomic(path, data, len, 0644);
    free(data);
    if (st != TT_OK)
        return st;

    const char *argv[] = {ref->program, "--evaluate", PARAMS_FILE, "--json", EVALUATION_FILE,
                          NULL};
    tito_sandbox_result *r = NULL;
    st = sandbox_program(&r, ref, dir, argv, data_dir);
    if (st != TT_OK)
        return st;
    if (r->end != TITO_SANDBOX_EXITED || r->exit_code != 0) {
        char *tail = tail_of(&r->err);
        snprintf(problem, sizeof problem,
                 "the reference cannot measure the parameters your run saved: %s",
                 tail && *tail ? tail : tito_sandbox_end_name(r->end));
        free(tail);
        tito_sandbox_result_free(r);
        return unreport(rep, problem);
    }
    tito_sandbox_result_free(r);

    snprintf(path, sizeof path, "%s/" EVALUATION_FILE, dir);
    json_error_t jerr;
    json_t *eval = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *metrics = json_object_get(eval, "metrics");
    const json_t *schema = json_object_get(eval, "schema");
    if (!json_is_object(metrics) || !json_is_string(schema) ||
        strcmp(json_string_value(schema), TT_MILESTONE_EVALUATION_SCHEMA) != 0) {
        json_decref(eval);
        return tt_error_set(TT_ERR_STATE,
                            "internal error: the reference's evaluation of milestone %d wrote "
                            "no valid " EVALUATION_FILE,
                            res->milestone->number);
    }
    json_t *own = (json_t *)rep->metrics; /* owned by rep->result */
    rep->claimed = json_object();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)metrics, key, value) {
        double measured = NAN, claimed = NAN;
        if (!tito_milestone_number(value, &measured) || !rep->claimed) {
            st = rep->claimed ? tt_error_set(TT_ERR_STATE, "internal error: the reference's "
                                                           "evaluation has a bad metrics.%s",
                                             key)
                              : nomem();
            break;
        }
        if (tito_milestone_number(json_object_get(own, key), &claimed) && disagree(claimed, measured) &&
            json_object_set(rep->claimed, key, json_object_get(own, key)) != 0) {
            st = nomem();
            break;
        }
        if (json_object_set(own, key, value) != 0) {
            st = nomem();
            break;
        }
    }
    json_decref(eval);
    return st;
}

static void event(const tito_milestone_options *o, tito_milestone_phase phase, bool done,
                  double seconds, double expected, bool from_cache, bool ok)
{
    if (!o->progress)
        return;
    tito_milestone_event e = {phase, done, seconds, expected, from_cache, ok};
    o->progress(o->progress_ctx, &e);
}

tt_status tito_milestone_run(tito_milestone_result **out, const tito_kit *kit,
                             const tito_milestone *m, const char *workspace_root,
                             const tito_milestone_options *options)
{
    *out = NULL;
    tito_milestone_options defaults = TITO_MILESTONE_OPTIONS_INIT;
    if (!options)
        options = &defaults;
    if (!m || !kit || !workspace_root)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_milestone_run: no %s given",
                            !m ? "milestone" : !kit ? "kit" : "workspace");

    /* Every module of the range must be there: the point is that you built it all. */
    const tito_module *missing[32];
    size_t n_missing = tito_milestone_missing_modules(missing, 32, m, workspace_root);
    if (n_missing > 0) {
        char list[1024];
        size_t len = 0;
        for (size_t i = 0; i < n_missing && i < 32; i++) {
            int w = snprintf(list + len, sizeof list - len, "%s%02d (%s)",
                             i == 0 ? "" : i + 1 == n_missing ? " and " : ", ", missing[i]->number,
                             missing[i]->name);
            if (w > 0 && (size_t)w < sizeof list - len)
                len += (size_t)w;
        }
        return tt_error_set(TT_ERR_STATE,
                            "milestone %d links your modules %02d-%02d, and module%s %s %s not "
                            "started: `tito module start %02d` gives you %s starter",
                            m->number, m->first_module, m->last_module, n_missing == 1 ? "" : "s",
                            list, n_missing == 1 ? "is" : "are", missing[0]->number,
                            n_missing == 1 ? "its" : "the first one's");
    }

    tito_milestone_result *res = calloc(1, sizeof *res);
    if (!res)
        return nomem();
    res->milestone = m;
    res->time_ratio = NAN;
    res->student.train_seconds = res->reference.train_seconds = NAN;
    res->student_train_median = res->reference_train_median = NAN;
    res->tito_version = xstrdup(options->tito_version);
    if (options->tito_version && !res->tito_version) {
        free(res);
        return nomem();
    }
    unsigned mem_mb = options->memory_mb ? options->memory_mb : 1024;
    double min_timeout = options->min_timeout > 0 ? options->min_timeout : 30.0;
    double factor = options->timeout_factor > 0 ? options->timeout_factor : 20.0;

    tt_status st = TT_OK;
    tito_build *b = NULL;
    char **student_hidden = NULL;
    double t0 = now_seconds();
    tito_build_options bo = TITO_BUILD_OPTIONS_INIT;
    bo.temp_parent = options->temp_parent;
    bo.hidden_paths = options->hidden_paths;
    bo.no_cache = options->no_cache;

    /* The reference program first: it does not depend on the student. */
    event(options, TITO_MILESTONE_PHASE_BUILD_REFERENCE, false, 0, 0, false, false);
    double t = now_seconds();
    TT_CHECK(tito_build_new_program(&b, kit, &bo));
    memcpy(res->reference_hash, b->reference_hash, sizeof res->reference_hash);
    res->compiler = xstrdup(b->compiler);
    char data_dir[4200], ref_program[4400], student_program[4400];
    TT_CHECK(copy_program(b, res, data_dir));
    const char *objs[PROGRAM_OBJECTS];
    size_t n_objs = 0;
    TT_CHECK(build_reference(b, res, objs, &n_objs, ref_program, sizeof ref_program));
    event(options, TITO_MILESTONE_PHASE_BUILD_REFERENCE, true, now_seconds() - t, 0,
          res->reference_cached, true);

    event(options, TITO_MILESTONE_PHASE_BUILD_STUDENT, false, 0, 0, false, false);
    t = now_seconds();
    TT_CHECK(build_student(b, res, workspace_root, objs, n_objs, student_program,
                           sizeof student_program));
    event(options, TITO_MILESTONE_PHASE_BUILD_STUDENT, true, now_seconds() - t, 0, false,
          res->build == TITO_PASS);
    res->seconds_build = now_seconds() - t0;

    /* The reference's run: trusted, so a failure is tito's (an internal error). */
    double t_run = now_seconds();
    event(options, TITO_MILESTONE_PHASE_RUN_REFERENCE, false, 0, 0, false, false);
    char ref_dir[4200], student_dir[4200], ref_runs[4200];
    TT_CHECK(make_run_dir(ref_dir, sizeof ref_dir, b, "reference-runs/0"));
    snprintf(ref_runs, sizeof ref_runs, "%s/reference-runs", b->workdir);
    run_spec rs = {ref_program, ref_dir, (const char *const *)b->hidden, REFERENCE_WALL,
                   (unsigned)REFERENCE_WALL, mem_mb, false};
    TT_CHECK(run_program(&res->reference, &rs, data_dir, m, NULL));
    event(options, TITO_MILESTONE_PHASE_RUN_REFERENCE, true, res->reference.wall_seconds, 0,
          false, res->reference.reported);
    if (!res->reference.reported) {
        st = tt_error_set(TT_ERR_STATE,
                          "internal error: milestone %d built on the reference did not report: "
                          "%s%s%.800s",
                          m->number, res->reference.problem ? res->reference.problem : "?",
                          res->reference.stderr_tail ? "; it said: " : "",
                          res->reference.stderr_tail ? res->reference.stderr_tail : "");
        goto cleanup;
    }

    res->limit_wall_seconds = min_timeout + factor * res->reference.wall_seconds;
    res->limit_cpu_seconds = (unsigned)ceil(res->limit_wall_seconds);
    res->limit_mem_mb = mem_mb;
    if (res->build == TITO_PASS) {
        size_t n_hidden = 0;
        while (b->hidden_from_student[n_hidden])
            n_hidden++;
        student_hidden = calloc(n_hidden + 2, sizeof *student_hidden);
        if (!student_hidden) {
            st = nomem();
            goto cleanup;
        }
        memcpy(student_hidden, b->hidden_from_student, n_hidden * sizeof *student_hidden);
        student_hidden[n_hidden] = ref_runs; /* borrowed: only the array is freed */
        TT_CHECK(make_run_dir(student_dir, sizeof student_dir, b, "student-runs/0"));
        event(options, TITO_MILESTONE_PHASE_RUN_STUDENT, false, 0, res->reference.wall_seconds,
              false, false);
        run_spec ss = {student_program, student_dir, (const char *const *)student_hidden,
                       res->limit_wall_seconds, res->limit_cpu_seconds, mem_mb, true};
        unsigned iso = 0;
        TT_CHECK(run_program(&res->student, &ss, data_dir, m, &iso));
        if (res->student.reported)
            TT_CHECK(remeasure(res, b, &rs, data_dir, student_dir));
        char text[256];
        tito_sandbox_isolation_describe(text, sizeof text, iso);
        if (!(res->isolation = xstrdup(text))) {
            st = nomem();
            goto cleanup;
        }
        event(options, TITO_MILESTONE_PHASE_RUN_STUDENT, true, res->student.wall_seconds, 0,
              false, res->student.reported);
        res->reference_train_median = res->reference.train_seconds;
        res->student_train_median = res->student.train_seconds;
        res->time_trials = 1;
        unsigned trials = options->timing_trials;
        if (trials == 0)
            trials = res->reference.wall_seconds < TITO_MILESTONE_AUTO_TRIALS_SECONDS
                         ? TITO_MILESTONE_AUTO_TRIALS
                         : 1;
        if (res->student.reported && trials > 1) {
            event(options, TITO_MILESTONE_PHASE_TIME, false, 0, 0, false, false);
            t = now_seconds();
            TT_CHECK(time_trials(res, &rs, &ss, b, data_dir, trials));
            event(options, TITO_MILESTONE_PHASE_TIME, true, now_seconds() - t, 0, false, true);
        }
    }
    res->seconds_run = now_seconds() - t_run;
    judge(res);

cleanup:
    free(student_hidden);
    tito_build_free(b);
    if (st != TT_OK) {
        tito_milestone_result_free(res);
        return st;
    }
    *out = res;
    return TT_OK;
}

void tito_milestone_result_free(tito_milestone_result *r)
{
    if (!r)
        return;
    free(r->build_message);
    free(r->build_log);
    report_release(&r->student);
    report_release(&r->reference);
    free(r->compiler);
    free(r->isolation);
    free(r->tito_version);
    free(r->commit);
    free(r);
}
