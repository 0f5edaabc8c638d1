/*
 * check_result: reads a milestone program's --json result file (tito-milestone/1) the
 * way tito will, and checks it, for the milestone tests (tests/milestones/CMakeLists.txt).
 *
 *   check_result FILE --milestone N [--bars-met | --bars-missed] [--expect METRIC>=VALUE]...
 *                [--expect METRIC<=VALUE]... [--same-as OTHER] [--remeasured-by EVALUATION]
 *
 * Always: the file parses; schema, milestone, slug and program agree with
 * milestones.def; seed and epochs are whole numbers; every bar's metric is a number in
 * "metrics"; the file claims nothing about bars (no key "bar", "bars", "reached" or
 * "passed": tito decides that); every run has one history record per epoch, in order;
 * training took time (train_seconds, samples_per_second > 0); nothing of the
 * framework's was live at the end (live_allocations_at_end == 0).
 *   --bars-met   every bar of milestones.def is met, judged with tt_milestone_bar_met
 *                (what tito does);
 *   --bars-missed  some bar is missed (a broken framework, tests/milestones/mutants.c);
 *   --expect     a further condition on a metric, beyond the bar (margins);
 *   --same-as    OTHER, a run with the same options, measured the same: every metric
 *                and history value equal, except times (determinism);
 *   --remeasured-by  EVALUATION, what `--evaluate` measured of the parameters this run
 *                saved (tito-milestone-evaluation/1): every bar's metric is there, and
 *                every metric equals the run's own, exactly.
 * Prints one line per failed check and "check_result: ok" at the end; exit 0 only when
 * every check passed, 2 for a bad command line.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milestones.h"

static int failures;

static void fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "check_result: FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failures++;
}

static bool is_time(const char *key)
{
    return strstr(key, "second") != NULL; /* seconds, samples_per_second */
}

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        fprintf(stderr, "check_result: FAIL: %s:%d: %s\n", path, err.line, err.text);
        failures++;
    } else if (!json_is_object(root)) {
        fail("%s: the top level is not an object", path);
        json_decref(root);
        root = NULL;
    }
    return root;
}

static double metric_value(json_t *metrics, const char *name, bool *found)
{
    json_t *v = json_object_get(metrics, name);
    *found = json_is_number(v);
    return *found ? json_number_value(v) : NAN;
}

/* "test_accuracy>=0.98" into metric, comparison and value. */
static bool parse_expect(const char *text, char *metric, size_t size, char *cmp, double *value)
{
    const char *op = strstr(text, ">=");
    if (!op)
        op = strstr(text, "<=");
    if (!op || op == text || (size_t)(op - text) >= size)
        return false;
    memcpy(metric, text, (size_t)(op - text));
    metric[op - text] = '\0';
    cmp[0] = op[0];
    cmp[1] = op[1];
    cmp[2] = '\0';
    char *end = NULL;
    *value = strtod(op + 2, &end);
    return end != op + 2 && *end == '\0';
}

static void check_no_claims(json_t *obj, const char *where)
{
    static const char *const banned[] = {"bar", "bars", "reached", "passed"};
    for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
        if (json_object_get(obj, banned[i]))
            fail("%s has a key \"%s\": the result must not judge itself", where, banned[i]);
}

static void check_runs(json_t *root, long epochs)
{
    json_t *runs = json_object_get(root, "runs");
    if (!json_is_array(runs) || json_array_size(runs) == 0) {
        fail("\"runs\" is not a non-empty array");
        return;
    }
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run) {
        check_no_claims(run, "a run");
        json_t *history = json_object_get(run, "history");
        if (!json_is_array(history) || (long)json_array_size(history) != epochs) {
            fail("a run's history does not have one record per epoch");
            continue;
        }
        size_t e;
        json_t *rec;
        json_array_foreach(history, e, rec) {
            if (json_integer_value(json_object_get(rec, "epoch")) != (json_int_t)e + 1 ||
                !json_is_number(json_object_get(rec, "loss")) ||
                !json_is_number(json_object_get(rec, "test_accuracy")))
                fail("a history record is out of order or incomplete");
        }
    }
}

/* Every number in `a` equals the one at the same place in `b`, times excepted. */
static void check_same(json_t *a, json_t *b, const char *where)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *key;
        json_t *va;
        if (json_object_size(a) != json_object_size(b))
            fail("%s: the two results have different keys", where);
        json_object_foreach(a, key, va) {
            if (is_time(key))
                continue;
            json_t *vb = json_object_get(b, key);
            if (!vb)
                fail("%s: \"%s\" is missing from the second result", where, key);
            else
                check_same(va, vb, key);
        }
    } else if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) {
            fail("%s: arrays of different lengths", where);
            return;
        }
        for (size_t i = 0; i < json_array_size(a); i++)
            check_same(json_array_get(a, i), json_array_get(b, i), where);
    } else if (!json_equal(a, b)) {
        fail("%s: differs between two runs with the same options", where);
    }
}

/* The evaluation of the saved parameters measured what the run measured. */
static void check_remeasured(json_t *metrics, const char *path, long number)
{
    json_t *eval = load(path);
    if (!eval)
        return;
    const char *schema = json_string_value(json_object_get(eval, "schema"));
    if (!schema || strcmp(schema, TT_MILESTONE_EVALUATION_SCHEMA) != 0)
        fail("%s: schema is \"%s\", expected \"%s\"", path, schema ? schema : "(none)",
             TT_MILESTONE_EVALUATION_SCHEMA);
    if (json_integer_value(json_object_get(eval, "milestone")) != number)
        fail("%s: \"milestone\" is not %ld", path, number);
    json_t *measured = json_object_get(eval, "metrics");
    for (size_t i = 0; i < TT_MILESTONE_BAR_COUNT; i++)
        if (tt_milestone_bars[i].number == number &&
            !json_object_get(measured, tt_milestone_bars[i].metric))
            fail("%s: the bar's metric %s was not measured", path, tt_milestone_bars[i].metric);
    const char *key;
    json_t *value;
    json_object_foreach(measured, key, value) {
        json_t *own = json_object_get(metrics, key);
        if (!own || !json_equal(own, value))
            fail("%s: %s differs from the run's own figure", path, key);
    }
    if (json_object_size(measured) == 0)
        fail("%s: no metric measured", path);
    json_decref(eval);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *other = NULL, *evaluation = NULL;
    long number = 0;
    bool bars_met = false, bars_missed = false;
    int missed = 0;
    if (argc < 2)
        goto usage;
    path = argv[1];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--bars-met") == 0) {
            bars_met = true;
        } else if (strcmp(argv[i], "--bars-missed") == 0) {
            bars_missed = true;
        } else if (i + 1 < argc && strcmp(argv[i], "--milestone") == 0) {
            number = strtol(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--same-as") == 0) {
            other = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--remeasured-by") == 0) {
            evaluation = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--expect") == 0) {
            i++; /* checked below, once the file is read */
        } else {
            goto usage;
        }
    }
    const tt_milestone_bar *row = tt_milestone_find((int)number);
    if (!row) {
        fprintf(stderr, "check_result: milestone %ld is not in milestones.def\n", number);
        return 2;
    }

    json_t *root = load(path);
    if (!root)
        return 1;
    check_no_claims(root, "the result");
    const char *schema = json_string_value(json_object_get(root, "schema"));
    if (!schema || strcmp(schema, TT_MILESTONE_SCHEMA) != 0)
        fail("schema is \"%s\", expected \"%s\"", schema ? schema : "(none)", TT_MILESTONE_SCHEMA);
    if (json_integer_value(json_object_get(root, "milestone")) != number)
        fail("\"milestone\" is not the milestone's number (%s)", row->slug);
    const char *slug = json_string_value(json_object_get(root, "slug"));
    if (!slug || strcmp(slug, row->slug) != 0)
        fail("slug is \"%s\", expected \"%s\"", slug ? slug : "(none)", row->slug);
    const char *program = json_string_value(json_object_get(root, "program"));
    if (!program || strcmp(program, row->program) != 0)
        fail("program is \"%s\", expected \"%s\"", program ? program : "(none)", row->program);
    json_t *seed = json_object_get(root, "seed");
    json_t *epochs = json_object_get(root, "epochs");
    if (!json_is_integer(seed) || !json_is_integer(epochs) || json_integer_value(epochs) < 1)
        fail("seed and epochs must be whole numbers");
    json_t *metrics = json_object_get(root, "metrics");
    if (!json_is_object(metrics)) {
        fail("\"metrics\" is not an object");
        json_decref(root);
        return 1;
    }
    check_runs(root, (long)json_integer_value(epochs));

    bool found;
    static const char *const positive[] = {"train_seconds", "samples_per_second"};
    for (size_t i = 0; i < 2; i++) {
        double v = metric_value(metrics, positive[i], &found);
        if (!found || !(v > 0))
            fail("metric %s is missing or not positive", positive[i]);
    }
    double live = metric_value(metrics, "live_allocations_at_end", &found);
    if (!found || live != 0)
        fail("framework allocations still live at the end (live_allocations_at_end)");

    for (size_t i = 0; i < TT_MILESTONE_BAR_COUNT; i++) {
        const tt_milestone_bar *b = &tt_milestone_bars[i];
        if (b->number != number)
            continue;
        double v = metric_value(metrics, b->metric, &found);
        missed += found && !tt_milestone_bar_met(b, v);
        if (!found) {
            fail("the bar's metric %s is not in \"metrics\"", b->metric);
        } else if (bars_met && !tt_milestone_bar_met(b, v)) {
            char text[64];
            snprintf(text, sizeof text, "%s %g", b->comparison, b->bar);
            fail("bar missed: %s is not %s", b->metric, text);
        } else {
            printf("check_result: %s = %g (bar %s %g)\n", b->metric, v, b->comparison, b->bar);
        }
    }

    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--expect") != 0)
            continue;
        char metric[64], cmp[3];
        double want;
        const char *text = argv[++i];
        if (!parse_expect(text, metric, sizeof metric, cmp, &want)) {
            fprintf(stderr, "check_result: bad --expect '%s' (METRIC>=VALUE or METRIC<=VALUE)\n",
                    text);
            json_decref(root);
            return 2;
        }
        double v = metric_value(metrics, metric, &found);
        tt_milestone_bar expect = {.metric = metric, .comparison = cmp, .bar = want};
        if (!found || !tt_milestone_bar_met(&expect, v))
            fail("expected %s, the file says otherwise", text);
        else
            printf("check_result: %s = %g (expected %s)\n", metric, v, text);
    }

    if (bars_missed && missed == 0)
        fail("every bar is met, but this run should miss one");

    if (other) {
        json_t *second = load(other);
        if (second) {
            check_same(root, second, "the result");
            json_decref(second);
        }
    }
    if (evaluation)
        check_remeasured(metrics, evaluation, number);
    json_decref(root);
    if (failures)
        return 1;
    printf("check_result: ok\n");
    return 0;

usage:
    fprintf(stderr, "usage: check_result FILE --milestone N [--bars-met | --bars-missed] "
                    "[--expect M>=V]... "
                    "[--same-as OTHER] [--remeasured-by EVALUATION]\n");
    return 2;
}
