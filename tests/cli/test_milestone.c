/*
 * tests/cli/test_milestone.c: what `tito milestone` decides without running anything,
 * checked one piece at a time (the journey tests/cli/t0030-milestones.sh runs the
 * whole): the table as grader/milestone.h groups milestones.def, the bar rule and the
 * shortfall words, the likely causes chosen from measurements (the measurements of
 * tests/milestones/mutants.c's broken frameworks), milestone receipts written and read
 * back and their refusals, the milestones section of the progress file, and which
 * modules a workspace is missing.
 */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "harness.h"
#include "milestone.h"
#include "milestones.h"
#include "progress.h"
#include "receipt.h"
#include "workspace.h"

/* ------------------------------------------------------------------ table */

static void test_table_groups_the_rows(void)
{
    /* Every row of milestones.def is one bar of exactly one milestone, in order. */
    size_t rows = 0, count = tito_milestone_count();
    CHECK(count >= 3);
    for (size_t i = 0; i < count; i++) {
        const tito_milestone *m = tito_milestone_at(i);
        CHECK(tito_milestone_find(m->number) == m);
        CHECK(m->n_bars >= 1 && m->first_module >= 1 && m->first_module <= m->last_module);
        for (size_t b = 0; b < m->n_bars; b++, rows++) {
            const tt_milestone_bar *row = &tt_milestone_bars[rows];
            CHECK(row->number == m->number && strcmp(row->slug, m->slug) == 0);
            CHECK(strcmp(row->metric, m->bars[b].metric) == 0);
            CHECK(strcmp(row->comparison, m->bars[b].comparison) == 0 && row->bar == m->bars[b].bar);
        }
    }
    CHECK(rows == TT_MILESTONE_BAR_COUNT);
    CHECK(tito_milestone_at(count) == NULL);
    CHECK(tito_milestone_find(0) == NULL && tito_milestone_find(99) == NULL);

    const tito_milestone *m3 = tito_milestone_find(3);
    CHECK(m3 && strcmp(m3->slug, "03_mlp") == 0 && m3->year == 1986);
    CHECK(m3 && m3->first_module == 1 && m3->last_module == 8 && m3->n_bars == 2);
    CHECK(m3 && strcmp(m3->program, "tt-milestone-03") == 0);
}

static void test_bars_and_shortfalls(void)
{
    tito_milestone_bar acc = {"test_accuracy", ">=", 0.9};
    tito_milestone_bar single = {"single_layer_test_accuracy", "<=", 0.75};
    tito_milestone_bar change = {"min_weight_change", ">=", 0.01};
    CHECK(tito_milestone_bar_met(&acc, 0.9) && tito_milestone_bar_met(&acc, 1.0));
    CHECK(!tito_milestone_bar_met(&acc, 0.895) && !tito_milestone_bar_met(&acc, NAN));
    CHECK(tito_milestone_bar_met(&single, 0.75) && !tito_milestone_bar_met(&single, 0.755));
    tito_milestone_bar odd = {"x", "==", 1.0};
    CHECK(!tito_milestone_bar_met(&odd, 1.0));

    char buf[64];
    CHECK(strcmp(tito_milestone_shortfall(buf, sizeof buf, &acc, 0.425), "47.5 points short") == 0);
    CHECK(strcmp(tito_milestone_shortfall(buf, sizeof buf, &single, 0.8), "5.0 points over") == 0);
    CHECK(strcmp(tito_milestone_shortfall(buf, sizeof buf, &change, 0.0013), "0.0087 short") == 0);
    CHECK(strcmp(tito_milestone_shortfall(buf, sizeof buf, &change, NAN), "not a number") == 0);
    CHECK(tito_milestone_metric_is_accuracy("mlp_test_accuracy"));
    CHECK(!tito_milestone_metric_is_accuracy("min_weight_change"));
}

/* ------------------------------------------------------------------ causes */

/* A result of milestone `number` whose student run reported `metrics` (JSON text) and,
 * for its model with key `key`, the losses of `epochs` epochs; judged as tito would. */
static tito_milestone_result *fake_result(int number, const char *metrics, const char *key,
                                          const double *losses, size_t epochs)
{
    tito_milestone_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->milestone = tito_milestone_find(number);
    json_error_t err;
    r->student.result = json_pack("{s:o}", "metrics", json_loads(metrics, 0, &err));
    r->student.metrics = json_object_get(r->student.result, "metrics");
    CHECK(r->student.metrics != NULL);
    r->student.reported = true;
    r->student.ran = true;
    r->student.epochs = (long)epochs;
    r->student.models = calloc(1, sizeof *r->student.models);
    r->student.n_models = 1;
    tito_milestone_model *mod = &r->student.models[0];
    mod->key = strdup(key);
    mod->loss = strdup(number >= 3 ? "cross_entropy" : "bce");
    mod->label = strdup(key[0] ? key : "model");
    mod->model = strdup("a model");
    mod->history = calloc(epochs, sizeof *mod->history);
    mod->n_history = epochs;
    for (size_t e = 0; e < epochs; e++) {
        mod->history[e].epoch = (long)e + 1;
        mod->history[e].loss = losses[e];
        mod->history[e].train_accuracy = mod->history[e].test_accuracy = 0.5;
    }
    bool all = true;
    r->n_bars = r->milestone->n_bars;
    for (size_t i = 0; i < r->n_bars; i++) {
        r->bars[i].bar = r->milestone->bars[i];
        json_t *v = json_object_get(r->student.metrics, r->bars[i].bar.metric);
        r->bars[i].value = json_is_number(v) ? json_number_value(v) : NAN;
        r->bars[i].reference = NAN;
        r->bars[i].met = tito_milestone_bar_met(&r->bars[i].bar, r->bars[i].value);
        all = all && r->bars[i].met;
    }
    r->outcome = all ? TITO_MILESTONE_REACHED : TITO_MILESTONE_MISSED;
    r->time_ratio = NAN;
    return r;
}

/* The reference's run of r reported `metrics` (JSON text); r may be NULL. */
static void give_reference(tito_milestone_result *r, const char *metrics)
{
    if (!r)
        return;
    json_error_t err;
    r->reference.result = json_pack("{s:o}", "metrics", json_loads(metrics, 0, &err));
    r->reference.metrics = json_object_get(r->reference.result, "metrics");
    CHECK(r->reference.metrics != NULL);
}

/* The student's run's own figures (JSON text) that the reference's measurement of its
 * parameters replaced; r may be NULL. */
static void give_claims(tito_milestone_result *r, const char *claims)
{
    if (!r)
        return;
    json_error_t err;
    r->student.claimed = json_loads(claims, 0, &err);
    CHECK(r->student.claimed != NULL);
}

/* Whether the causes chosen for r are exactly one, containing `words`. */
static bool one_cause(const tito_milestone_result *r, const char *words)
{
    const char *causes[8];
    size_t n = tito_milestone_causes(causes, 8, r);
    if (n != 1 || !strstr(causes[0], words)) {
        fprintf(stderr, "  causes (%zu):", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " [%s]", causes[i]);
        fprintf(stderr, "\n");
        return false;
    }
    return true;
}

static void test_causes_from_the_mutants_measurements(void)
{
    /* The figures are those of tests/milestones/mutants.c's programs (default seeds). */
    const double flat[] = {2.31, 2.32, 2.32, 2.32, 2.31};
    const double climbing[] = {22.1, 2050, 8550, 19400, 85400};
    const double wandering[] = {1.79, 4.07, 2.2, 2.41, 2.39};
    const double exploding_first[] = {1650, 2.82, 3.16, 3.81, 2.92};
    const double learning[] = {2.18, 1.55, 1.2, 0.985, 0.659};
    const double planted[] = {2.95, 2.88, 5.98, 16.1, 23.8}; /* cross-entropy's sign */
    struct {
        const char *metrics;
        const double *losses;
        const char *cause;
    } cases[] = {
        {"{\"test_accuracy\": 0.1, \"min_weight_change\": 51.2, \"final_loss\": 85400}", climbing,
         "wrong sign"},
        {"{\"test_accuracy\": 0.1, \"min_weight_change\": 48.0, \"final_loss\": 23.8}", planted,
         "wrong sign"},
        {"{\"test_accuracy\": 0.25, \"min_weight_change\": 11.8, \"final_loss\": 2.39}", wandering,
         "pile up"},
        {"{\"test_accuracy\": 0.1, \"min_weight_change\": 248.7, \"final_loss\": 2.92}",
         exploding_first, "pile up"},
        {"{\"test_accuracy\": 0.09, \"min_weight_change\": 0, \"final_loss\": 2.31}", flat,
         "no gradient reaches any weight"},
        {"{\"test_accuracy\": 0.86, \"min_weight_change\": 0, \"final_loss\": 0.659}", learning,
         "graph is cut"},
        {"{\"test_accuracy\": 0.095, \"min_weight_change\": 0.0015, \"final_loss\": 2.31}", flat,
         "barely moves"},
        {"{\"test_accuracy\": 0.5, \"min_weight_change\": null, \"final_loss\": null}", flat,
         "numerical overflow"},
        {"{\"test_accuracy\": 0.85, \"min_weight_change\": 0.4, \"final_loss\": 0.5}", learning,
         "not as well as the reference"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tito_milestone_result *r = fake_result(3, cases[i].metrics, "", cases[i].losses, 5);
        if (!r)
            continue;
        CHECK(r->outcome == TITO_MILESTONE_MISSED);
        if (!one_cause(r, cases[i].cause))
            fprintf(stderr, "  case %zu should say \"%s\"\n", i, cases[i].cause);
        CHECK(one_cause(r, cases[i].cause));
        tito_milestone_result_free(r);
    }

    /* Milestone 2: the model's metrics carry its key as a prefix, and a single layer
     * above 75% is its own symptom. */
    const double xor_flipped[] = {0.761, 8.06, 8.06, 8.06, 8.06};
    tito_milestone_result *r = fake_result(
        2,
        "{\"single_layer_test_accuracy\": 0.5, \"mlp_test_accuracy\": 0.5, "
        "\"mlp_min_weight_change\": 0.4027, \"mlp_final_loss\": 8.06}",
        "mlp", xor_flipped, 5);
    CHECK(r && one_cause(r, "wrong sign"));
    tito_milestone_result_free(r);
    const double fine[] = {0.7, 0.5, 0.2, 0.1, 0.05};
    r = fake_result(2,
                    "{\"single_layer_test_accuracy\": 0.9, \"mlp_test_accuracy\": 1, "
                    "\"mlp_min_weight_change\": 1.9, \"mlp_final_loss\": 0.05}",
                    "mlp", fine, 5);
    CHECK(r && r->outcome == TITO_MILESTONE_MISSED && one_cause(r, "cannot beat 75%"));
    tito_milestone_result_free(r);

    /* Milestone 5 without a causal mask (mutants.c's figures): the reversal fails, the
     * text's loss falls under its floor. Its weight change is as small as the
     * reference's (LayerNorm gains), which is no symptom. */
    const double peeking[] = {2.19, 0.065, 0.0044, 0.0025, 0.0016};
    const char *ref_metrics = "{\"reverse_min_weight_change\": 0.00088}";
    r = fake_result(5,
                    "{\"reverse_test_accuracy\": 0.52, \"reverse_min_weight_change\": 0.0012, "
                    "\"reverse_final_loss\": 0.0016, \"text_test_loss\": 0.0806}",
                    "reverse", peeking, 5);
    give_reference(r, ref_metrics);
    CHECK(r && r->outcome == TITO_MILESTONE_MISSED && one_cause(r, "sees what it is asked"));
    tito_milestone_result_free(r);
    const double slower[] = {2.2, 1.9, 1.5, 1.2, 1.0};
    r = fake_result(5,
                    "{\"reverse_test_accuracy\": 0.9, \"reverse_min_weight_change\": 0.0009, "
                    "\"reverse_final_loss\": 1.0, \"text_test_loss\": 2.0}",
                    "reverse", slower, 5);
    give_reference(r, ref_metrics);
    CHECK(r && one_cause(r, "not as well as the reference"));
    tito_milestone_result_free(r);

    /* The reference's program measured the saved parameters (the figures above) and
     * the run's own figures differ. A loss it saw far under the measured one: the
     * model reads its answers, whatever else the figures say. */
    r = fake_result(5,
                    "{\"reverse_test_accuracy\": 0.53, \"reverse_min_weight_change\": 0.0012, "
                    "\"reverse_final_loss\": 0.0016, \"text_test_loss\": 6.57}",
                    "reverse", peeking, 5);
    give_reference(r, ref_metrics);
    give_claims(r, "{\"text_test_loss\": 0.0806}");
    CHECK(r && r->outcome == TITO_MILESTONE_MISSED && one_cause(r, "sees what it is asked"));
    tito_milestone_result_free(r);
    /* Any other difference is a forward pass unlike the specified one, named first; the
     * symptoms of the measured figures follow (t0030's forged result). */
    r = fake_result(3, "{\"test_accuracy\": 0.1, \"min_weight_change\": 48.0, \"final_loss\": 23.8}",
                    "", planted, 5);
    give_claims(r, "{\"test_accuracy\": 0.99}");
    const char *two[8];
    CHECK(r && tito_milestone_causes(two, 8, r) == 2);
    CHECK(r && strstr(two[0], "own measurement disagrees") && strstr(two[1], "wrong sign"));
    tito_milestone_result_free(r);
    /* A claim about a metric that is no bar's changes no cause. */
    r = fake_result(3, "{\"test_accuracy\": 0.1, \"min_weight_change\": 48.0, \"final_loss\": 23.8}",
                    "", planted, 5);
    give_claims(r, "{\"train_accuracy\": 0.99}");
    CHECK(r && one_cause(r, "wrong sign"));
    tito_milestone_result_free(r);

    /* Reached: no cause. No result: from how the program ended. */
    r = fake_result(3, "{\"test_accuracy\": 0.98, \"min_weight_change\": 0.7, \"final_loss\": 0.03}",
                    "", learning, 5);
    const char *causes[4];
    CHECK(r && r->outcome == TITO_MILESTONE_REACHED && tito_milestone_causes(causes, 4, r) == 0);
    if (r) {
        r->outcome = TITO_MILESTONE_NO_RESULT;
        r->student.reported = false;
        r->student.end = TITO_SANDBOX_EXITED;
        r->student.exit_code = 6;
        CHECK(one_cause(r, "not written yet"));
        r->student.end = TITO_SANDBOX_SIGNALED;
        CHECK(one_cause(r, "memory error"));
        r->student.end = TITO_SANDBOX_TIMEOUT;
        CHECK(one_cause(r, "endless loop"));
        r->student.end = TITO_SANDBOX_MEMORY_LIMIT;
        CHECK(one_cause(r, "grows every step"));
        r->outcome = TITO_MILESTONE_NOT_BUILT;
        CHECK(tito_milestone_causes(causes, 4, r) == 0);
    }
    tito_milestone_result_free(r);
}

/* ----------------------------------------------------------------- receipts */

static char *receipt_text(const tito_milestone_result *r)
{
    json_t *j = NULL;
    CHECK_OK(tito_milestone_receipt_to_json(&j, r, 1795000000));
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(j);
    return text;
}

/* Parse `text` after replacing the first `from` by `to`; returns the status. */
static tt_status parse_edited(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    CHECK(at != NULL);
    if (!at)
        return TT_OK;
    size_t n = strlen(text) + strlen(to) + 1;
    char *edited = malloc(n);
    snprintf(edited, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    tito_milestone_receipt rc;
    tt_status st = tito_milestone_receipt_parse(&rc, edited, strlen(edited), "edited.json");
    free(edited);
    return st;
}

static void test_receipt_round_trip_and_refusals(void)
{
    const double learning[] = {2.18, 1.2, 0.6};
    tito_milestone_result *r = fake_result(
        3, "{\"test_accuracy\": 0.425, \"min_weight_change\": 0.5, \"final_loss\": 0.6}", "",
        learning, 3);
    if (!r)
        return;
    r->commit = strdup("4c2a9e1000000000000000000000000000000000");
    r->student_train_median = 0.05;
    r->reference_train_median = 0.04;
    r->time_ratio = 0.8;
    r->time_trials = 3;
    char *text = receipt_text(r);
    CHECK(text && strstr(text, "\"kind\": \"milestone\"") && strstr(text, "\"outcome\": \"missed\""));
    CHECK(text && strstr(text, "\"created_at\": \"2026-11-18T"));

    tito_milestone_receipt rc;
    CHECK_OK(tito_milestone_receipt_parse(&rc, text, strlen(text), "milestone_03.json"));
    CHECK(rc.number == 3 && strcmp(rc.slug, "03_mlp") == 0 && !rc.reached);
    CHECK(rc.outcome == TITO_MILESTONE_MISSED && rc.n_bars == 2);
    CHECK(rc.bars[0].value == 0.425 && !rc.bars[0].met && rc.bars[1].met);
    CHECK(strcmp(rc.bars[0].bar.metric, "test_accuracy") == 0 && rc.time_ratio == 0.8);

    /* A module's receipt reader refuses it, naming the kind. */
    tito_receipt *mod = NULL;
    CHECK_STATUS(tito_receipt_parse(&mod, text, strlen(text), "milestone_03.json"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("kind: \"milestone\": not a module's receipt");
    CHECK(mod == NULL);

    CHECK_STATUS(parse_edited(text, "\"kind\": \"milestone\"", "\"kind\": \"module\""),
                 TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("receipt edited.json: kind: expected \"milestone\"");
    CHECK_STATUS(parse_edited(text, "\"met\": false", "\"met\": true"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("bars[0]: says met, but 0.425 is not >= 0.9");
    CHECK_STATUS(parse_edited(text, "\"reached\": false", "\"reached\": true"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("reached: expected false");
    CHECK_STATUS(parse_edited(text, "\"milestone\": 3", "\"milestone\": 9"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("milestone: expected the number of a milestone");
    CHECK_STATUS(parse_edited(text, "\"slug\": \"03_mlp\"", "\"slug\": \"01_perceptron\""),
                 TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("slug: expected \"03_mlp\"");
    CHECK_STATUS(parse_edited(text, "\"bar\": 0.9", "\"bar\": 0.5"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("bars[0]: expected the bar test_accuracy >= 0.9");
    CHECK_STATUS(parse_edited(text, "\"outcome\": \"missed\"", "\"outcome\": \"passed\""),
                 TT_ERR_FORMAT);
    CHECK_STATUS(parse_edited(text, "\"created_at\": \"2026", "\"created_at\": \"yesterday"),
                 TT_ERR_FORMAT);
    CHECK_STATUS(tito_milestone_receipt_parse(&rc, "[1]", 3, "x"), TT_ERR_FORMAT);
    CHECK_STATUS(tito_milestone_receipt_parse(&rc, "{", 1, "x"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("receipt x: not JSON");
    free(text);

    /* Written atomically, with the folders it needs. */
    char dir[] = "/tmp/tito-test-milestone-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/.tito/results/milestone_03.json", dir);
    CHECK_OK(tito_milestone_receipt_write(path, r, 1795000000));
    char *back = NULL;
    size_t len = 0;
    CHECK_OK(tito_file_read(&back, &len, path));
    CHECK(back && len > 0 && back[len - 1] == '\n');
    CHECK_OK(tito_milestone_receipt_parse(&rc, back, len, path));
    free(back);
    remove(path);
    snprintf(path, sizeof path, "%s/.tito/results", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/.tito", dir);
    rmdir(path);
    rmdir(dir);
    tito_milestone_result_free(r);
}

/* ----------------------------------------------------------------- progress */

static tito_milestone_record record(bool reached, const char *at, double acc)
{
    tito_milestone_record rec;
    memset(&rec, 0, sizeof rec);
    rec.reached = reached;
    snprintf(rec.at, sizeof rec.at, "%s", at);
    snprintf(rec.commit, sizeof rec.commit, "4c2a9e1");
    rec.n_metrics = 2;
    snprintf(rec.metrics[0].name, sizeof rec.metrics[0].name, "test_accuracy");
    rec.metrics[0].value = acc;
    snprintf(rec.metrics[1].name, sizeof rec.metrics[1].name, "min_weight_change");
    rec.metrics[1].value = NAN;
    rec.train_seconds = 0.05;
    rec.reference_train_seconds = NAN;
    rec.time_ratio = NAN;
    return rec;
}

static void test_progress_milestones(void)
{
    tito_progress *p = NULL;
    CHECK_OK(tito_progress_new(&p, "t"));
    if (!p)
        return;
    bool newly = true;
    tito_milestone_record miss = record(false, "2026-11-26T10:00:00Z", 0.425);
    CHECK_OK(tito_progress_record_milestone(p, 3, "03_mlp", &miss, &newly));
    CHECK(!newly);
    tito_milestone_record hit = record(true, "2026-11-26T11:00:00Z", 0.975);
    CHECK_OK(tito_progress_record_milestone(p, 3, "03_mlp", &hit, &newly));
    CHECK(newly);
    hit.metrics[0].value = 0.98;
    snprintf(hit.at, sizeof hit.at, "2026-11-26T12:00:00Z");
    CHECK_OK(tito_progress_record_milestone(p, 3, "03_mlp", &hit, &newly));
    CHECK(!newly);
    CHECK_OK(tito_progress_record_milestone(p, 3, "03_mlp", &miss, &newly));
    tito_milestone_progress *mp = tito_progress_milestone(p, "03_mlp");
    CHECK(mp && mp->runs == 4 && strcmp(mp->reached_at, "2026-11-26T11:00:00Z") == 0);
    CHECK(mp && mp->reached.present && mp->reached.metrics[0].value == 0.98);
    CHECK(mp && mp->last.present && !mp->last.reached);
    CHECK(tito_progress_milestone(p, "01_perceptron") == NULL);
    CHECK_STATUS(tito_progress_record_milestone(p, 1, "", &miss, NULL), TT_ERR_INVALID_ARG);

    /* Round trip: the text, the values (NaN as null), and a field of a newer tito. */
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(tito_progress_render(&text, &len, p));
    CHECK(text && strstr(text, "\"test_accuracy\": 0.98,") && strstr(text, "\"min_weight_change\": null"));
    tito_progress *q = NULL;
    char *with_extra = NULL;
    if (text) {
        const char *at = strstr(text, "\"runs\": 4");
        size_t n = len + 64;
        with_extra = malloc(n);
        snprintf(with_extra, n, "%.*s\"from_the_future\": [1, 2], %s", (int)(at - text), text, at);
    }
    CHECK_OK(tito_progress_parse(&q, with_extra, strlen(with_extra), "p.json"));
    tito_milestone_progress *mq = q ? tito_progress_milestone(q, "03_mlp") : NULL;
    CHECK(mq && mq->number == 3 && mq->runs == 4 && isnan(mq->reached.metrics[1].value));
    CHECK(mq && mq->reached.train_seconds == 0.05 && isnan(mq->reached.time_ratio));
    char *again = NULL;
    CHECK_OK(tito_progress_render(&again, &len, q));
    CHECK(again && strstr(again, "\"from_the_future\": [") && strstr(again, "\"runs\": 4"));
    free(text);
    free(with_extra);
    free(again);
    tito_progress_free(q);
    tito_progress_free(p);

    /* Strict about what it knows. */
    static const char *const bad[] = {
        "{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"milestones\": []}",
        "{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"milestones\": {\"03_mlp\": "
        "{\"number\": \"3\"}}}",
        "{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"milestones\": {\"03_mlp\": "
        "{\"number\": 3, \"last\": {\"reached\": 1}}}}",
        "{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"milestones\": {\"03_mlp\": "
        "{\"number\": 3, \"last\": {\"reached\": true, \"metrics\": {\"a\": \"x\"}}}}}",
    };
    static const char *const field[] = {"milestones: expected an object",
                                        "milestones.03_mlp: number:",
                                        "milestones.03_mlp.last: reached:",
                                        "milestones.03_mlp.last: metrics.a:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tito_progress *x = NULL;
        CHECK_STATUS(tito_progress_parse(&x, bad[i], strlen(bad[i]), "p.json"), TT_ERR_FORMAT);
        CHECK_ERROR_MENTIONS(field[i]);
        CHECK(x == NULL);
    }
}

/* ----------------------------------------------------------------- modules */

static void test_missing_modules(void)
{
    char root[] = "/tmp/tito-test-ws-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    const tito_milestone *m3 = tito_milestone_find(3);
    const tito_module *missing[32];
    CHECK(m3 && tito_milestone_missing_modules(missing, 32, m3, root) == 8);
    CHECK(missing[0] == &tito_modules[0] && missing[7] == &tito_modules[7]);
    /* Modules 01-07 there: only 08 is missing, and milestone 1 misses nothing. */
    char path[512];
    for (size_t i = 0; i < 7; i++) {
        tito_module_files f;
        tito_module_files_of(&f, &tito_modules[i]);
        snprintf(path, sizeof path, "%s/%s", root, f.dir);
        CHECK_OK(tito_mkdirs(path));
        snprintf(path, sizeof path, "%s/%s", root, f.source);
        CHECK_OK(tito_file_write_atomic(path, "x", 1, 0644));
    }
    CHECK(tito_milestone_missing_modules(missing, 32, m3, root) == 1);
    CHECK(missing[0] == &tito_modules[7]);
    CHECK(tito_milestone_missing_modules(missing, 32, tito_milestone_find(1), root) == 0);
    /* A folder where the file should be does not count. */
    tito_module_files f;
    tito_module_files_of(&f, &tito_modules[7]);
    snprintf(path, sizeof path, "%s/%s", root, f.source);
    CHECK_OK(tito_mkdirs(path));
    CHECK(tito_milestone_missing_modules(missing, 0, m3, root) == 1);
    rmdir(path);
    snprintf(path, sizeof path, "%s/%s", root, f.dir);
    rmdir(path);
    for (size_t i = 0; i < 7; i++) {
        tito_module_files_of(&f, &tito_modules[i]);
        snprintf(path, sizeof path, "%s/%s", root, f.source);
        remove(path);
        snprintf(path, sizeof path, "%s/%s", root, f.dir);
        rmdir(path);
    }
    snprintf(path, sizeof path, "%s/modules", root);
    rmdir(path);
    CHECK(rmdir(root) == 0);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    RUN(test_table_groups_the_rows);
    RUN(test_bars_and_shortfalls);
    RUN(test_causes_from_the_mutants_measurements);
    RUN(test_receipt_round_trip_and_refusals);
    RUN(test_progress_milestones);
    RUN(test_missing_modules);
    return harness_summary();
}
