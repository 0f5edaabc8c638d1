/*
 * tests/cli/test_progress.c: the parts of the course file, the progress file and the
 * workspace that the CLI journeys cannot reach: the scoring helpers the grading
 * engine uses (speed bands, pass bar), recording grades (best, last, completion),
 * a progress file's round trip with fields of a newer tito, and the git helpers
 * (dirty check, path-only commits, backups) on a throwaway workspace.
 */
#define _XOPEN_SOURCE 700

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "course.h"
#include "fsutil.h"
#include "harness.h"
#include "progress.h"
#include "workspace.h"

/* A course whose modules have only their slugs, plus `extra` top-level members
 * (e.g. "\"unlock_in_order\": true, "), parsed; NULL on failure. */
static tito_course *minimal_course(const char *extra)
{
    char text[4096];
    size_t used = (size_t)snprintf(text, sizeof text,
                                   "{%s\"schema\": \"tito-course/1\", \"id\": \"t\", \"title\": "
                                   "\"T\", \"modules\": [",
                                   extra);
    for (size_t i = 0; i < tito_module_count; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s{\"slug\": \"%s\"}",
                                 i ? ", " : "", tito_modules[i].slug);
    snprintf(text + used, sizeof text - used, "]}");
    tito_course *c = NULL;
    CHECK_OK(tito_course_parse(&c, text, strlen(text), "minimal.json"));
    return c;
}

/* ------------------------------------------------------------------ course */

static void test_builtin_course(void)
{
    tito_course *c = NULL;
    CHECK_OK(tito_course_builtin(&c));
    if (!c)
        return;
    CHECK(strcmp(c->id, "tinytorch-c-2026") == 0);
    CHECK(strcmp(c->origin, "built-in") == 0);
    CHECK(c->n_modules == tito_module_count);
    for (size_t i = 0; i < c->n_modules; i++) {
        CHECK(c->modules[i].module == &tito_modules[i]);
        CHECK(tito_course_module_of(c, &tito_modules[i]) == &c->modules[i]);
    }
    const tito_course_module *cm = &c->modules[0];
    CHECK(cm->n_bands == 3);
    CHECK(cm->bands[0].min_ratio > cm->bands[1].min_ratio);
    CHECK(tito_course_module_possible(cm) == 100);
    CHECK(c->cpu_s == 10 && c->mem_mb == 512 && c->wall_s == 30);
    CHECK(strlen(c->text) == c->text_len && strstr(c->text, "\"schema\": \"tito-course/1\""));
    tito_course_free(c);
}

static void test_defaults(void)
{
    tito_course *c = minimal_course("");
    if (!c)
        return;
    CHECK(!c->unlock_in_order);
    CHECK(strcmp(c->term, "") == 0 && strcmp(c->leaderboard_url, "") == 0);
    const tito_course_module *cm = &c->modules[1];
    CHECK(cm->weight == 1.0 && cm->pass_bar == 0.8);
    CHECK(cm->points_correctness == 70 && cm->points_memcheck == 15 && cm->points_speed == 15);
    /* Default bands: everything from 0.25, half (rounded down) from 0.1. */
    CHECK(cm->n_bands == 2);
    CHECK(tito_course_speed_points(cm, 0.25) == 15);
    CHECK(tito_course_speed_points(cm, 0.2) == 7);
    CHECK(tito_course_speed_points(cm, 0.1) == 7);
    CHECK(tito_course_speed_points(cm, 0.09) == 0);
    tito_course_free(c);
}

static void test_speed_bands_sorted(void)
{
    char text[4096];
    size_t used = (size_t)snprintf(
        text, sizeof text,
        "{\"schema\": \"tito-course/1\", \"id\": \"t\", \"title\": \"T\", \"modules\": ["
        "{\"slug\": \"%s\", \"points\": {\"speed\": 20}, \"speed_bands\": [{\"min_ratio\": 0.1, "
        "\"points\": 5}, {\"min_ratio\": 1.5, \"points\": 20}, {\"min_ratio\": 0.5, \"points\": 12}]}",
        tito_modules[0].slug);
    for (size_t i = 1; i < tito_module_count; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, ", {\"slug\": \"%s\"}",
                                 tito_modules[i].slug);
    snprintf(text + used, sizeof text - used, "]}");
    tito_course *c = NULL;
    CHECK_OK(tito_course_parse(&c, text, strlen(text), "bands.json"));
    if (!c)
        return;
    const tito_course_module *cm = &c->modules[0];
    CHECK(cm->bands[0].min_ratio == 1.5 && cm->bands[2].min_ratio == 0.1);
    CHECK(tito_course_speed_points(cm, 2.0) == 20);
    CHECK(tito_course_speed_points(cm, 1.5) == 20);
    CHECK(tito_course_speed_points(cm, 1.49) == 12);
    CHECK(tito_course_speed_points(cm, 0.5) == 12);
    CHECK(tito_course_speed_points(cm, 0.3) == 5);
    CHECK(tito_course_speed_points(cm, 0.0) == 0);
    CHECK(tito_course_module_possible(cm) == 70 + 15 + 20);
    tito_course_free(c);
}

static void test_pass_bar(void)
{
    tito_course *c = minimal_course("");
    if (!c)
        return;
    tito_course_module cm = c->modules[0];
    CHECK(tito_course_passes(&cm, 80, 100));
    CHECK(!tito_course_passes(&cm, 79, 100));
    CHECK(tito_course_passes(&cm, 4, 5));
    CHECK(!tito_course_passes(&cm, 0, 0));
    cm.pass_bar = 1.0;
    CHECK(tito_course_passes(&cm, 100, 100));
    CHECK(!tito_course_passes(&cm, 99, 100));
    cm.pass_bar = 0.7;
    CHECK(tito_course_passes(&cm, 70, 100));
    CHECK(tito_course_passes(&cm, 7, 10));
    CHECK(!tito_course_passes(&cm, 69, 100));
    tito_course_free(c);
}

static void test_refusals(void)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"", "course file bad.json:1:0: not valid JSON"},
        {"{\"schema\": \"tito-course/1\", \"schema\": \"tito-course/1\"}", "not valid JSON: duplicate"},
        {"{}", "course file bad.json: schema: missing (\"tito-course/1\")"},
        {"{\"schema\": 1}", "schema: expected the string \"tito-course/1\", got 1"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"\"}", "title: must not be empty"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"modules\": {}}",
         "modules: expected an array with one entry per module, got an object"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"modules\": [3]}",
         "modules[0]: expected an object with a \"slug\", got 3"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"modules\": [{}]}",
         "modules[0].slug: missing"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"limits\": {\"mem_mb\": 1}, "
         "\"modules\": []}",
         "limits.mem_mb: expected a whole number from 16 to 1000000, got 1"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"leaderboard\": \"u\", "
         "\"modules\": []}",
         "leaderboard: expected an object, got \"u\""},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"unlock_in_order\": 1, "
         "\"modules\": []}",
         "unlock_in_order: expected true or false, got 1"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"modules\": [{\"slug\": "
         "\"01_tensor\", \"points\": {\"correctness\": 0, \"memcheck\": 0, \"speed\": 0}}]}",
         "modules[0].points: the module is worth 0 points"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"modules\": [{\"slug\": "
         "\"01_tensor\", \"speed_bands\": [{\"points\": 1}]}]}",
         "modules[0].speed_bands[0].min_ratio: missing"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"modules\": [{\"slug\": "
         "\"01_tensor\", \"speed_bands\": [{\"min_ratio\": 0.5, \"points\": 1}, {\"min_ratio\": 0.5, "
         "\"points\": 2}]}]}",
         "modules[0].speed_bands[1].min_ratio: 0.5 is also the min_ratio of modules[0].speed_bands[0]"},
        {"{\"schema\": \"tito-course/1\", \"id\": \"x\", \"title\": \"X\", \"modules\": [{\"slug\": "
         "\"01_tensor\", \"weight\": -1}]}",
         "modules[0].weight: expected a number from 0 to 1000000, got -1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tito_course *c = (tito_course *)&c; /* must come back NULL */
        CHECK_STATUS(tito_course_parse(&c, cases[i].text, strlen(cases[i].text), "bad.json"),
                     TT_ERR_FORMAT);
        CHECK(c == NULL);
        CHECK_ERROR_MENTIONS(cases[i].message);
    }
    tito_course *c = NULL;
    CHECK_STATUS(tito_course_load(&c, "/nonexistent/course.json"), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("course file /nonexistent/course.json: cannot open");
}

/* ---------------------------------------------------------------- progress */

static void test_record_grade(void)
{
    tito_course *c = minimal_course("");
    tito_progress *p = NULL;
    CHECK_OK(tito_progress_new(&p, "t"));
    if (!c || !p) {
        tito_course_free(c);
        tito_progress_free(p);
        return;
    }
    const tito_course_module *cm = &c->modules[0];
    tito_module_progress *mp = tito_progress_module(p, cm->module);
    CHECK(mp->state == TITO_STATE_NOT_STARTED && !mp->best.present && !mp->last.present);

    bool done = true;
    tito_progress_record_grade(p, cm, 50, 100, "aaaa", 1000, &done);
    CHECK(!done && mp->state == TITO_STATE_STARTED && mp->started_at[0]);
    CHECK(mp->last.earned == 50 && mp->best.earned == 50 && strcmp(mp->best.commit, "aaaa") == 0);

    tito_progress_record_grade(p, cm, 85, 100, "bbbb", 2000, &done);
    CHECK(done && mp->state == TITO_STATE_COMPLETED);
    CHECK(strcmp(mp->completed_at, "1970-01-01T00:33:20Z") == 0);
    CHECK(mp->best.earned == 85 && strcmp(mp->best.at, "1970-01-01T00:33:20Z") == 0);

    /* A worse grade: last changes, best and completion stay. */
    tito_progress_record_grade(p, cm, 60, 100, NULL, 3000, &done);
    CHECK(!done && mp->state == TITO_STATE_COMPLETED);
    CHECK(mp->last.earned == 60 && mp->last.commit[0] == '\0');
    CHECK(mp->best.earned == 85 && strcmp(mp->best.commit, "bbbb") == 0);
    CHECK(strcmp(mp->completed_at, "1970-01-01T00:33:20Z") == 0);

    /* Best compares shares of the points: 45/50 beats 85/100. */
    tito_progress_record_grade(p, cm, 45, 50, "cccc", 4000, NULL);
    CHECK(mp->best.earned == 45 && mp->best.possible == 50);
    tito_progress_record_grade(p, cm, 89, 100, "dddd", 5000, NULL);
    CHECK(mp->best.earned == 45);

    /* A grade at exactly the bar completes; one point under does not. */
    const tito_course_module *cm2 = &c->modules[1];
    tito_progress_record_grade(p, cm2, 79, 100, NULL, 6000, &done);
    CHECK(!done && tito_progress_module(p, cm2->module)->state == TITO_STATE_STARTED);
    tito_progress_record_grade(p, cm2, 80, 100, NULL, 7000, &done);
    CHECK(done && tito_progress_module(p, cm2->module)->state == TITO_STATE_COMPLETED);

    tito_progress_free(p);
    tito_course_free(c);
}

static void test_unlocked(void)
{
    tito_course *ordered = minimal_course("\"unlock_in_order\": true, ");
    tito_course *free_order = minimal_course("");
    tito_progress *p = NULL;
    CHECK_OK(tito_progress_new(&p, "t"));
    if (!ordered || !free_order || !p)
        goto cleanup;
    const tito_module *m1 = &tito_modules[0], *m2 = &tito_modules[1], *m3 = &tito_modules[2];
    const tito_module *blocker = NULL;
    CHECK(tito_progress_unlocked(p, ordered, m1, &blocker) && !blocker);
    CHECK(!tito_progress_unlocked(p, ordered, m2, &blocker) && blocker == m1);
    CHECK(tito_progress_unlocked(p, free_order, m3, &blocker) && !blocker);
    tito_progress_mark_started(p, m1, 100);
    CHECK(!tito_progress_unlocked(p, ordered, m2, &blocker) && blocker == m1);
    tito_progress_record_grade(p, &ordered->modules[0], 100, 100, NULL, 200, NULL);
    CHECK(tito_progress_unlocked(p, ordered, m2, &blocker) && !blocker);
    CHECK(!tito_progress_unlocked(p, ordered, m3, &blocker) && blocker == m2);
    /* A module already started stays open even if the course changed to ordered. */
    tito_progress_mark_started(p, m3, 300);
    CHECK(tito_progress_unlocked(p, ordered, m3, NULL));
cleanup:
    tito_progress_free(p);
    tito_course_free(ordered);
    tito_course_free(free_order);
}

static void test_round_trip(void)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"later\": [1, 2],"
             " \"modules\": {\"%s\": {\"state\": \"completed\", \"started_at\": \"2026-01-01T00:00:00Z\","
             " \"completed_at\": \"2026-01-02T00:00:00Z\", \"resets\": 2, \"note\": \"kept\","
             " \"best\": {\"earned\": 9, \"possible\": 10, \"at\": \"x\", \"commit\": \"c\"}},"
             " \"77_future\": {\"state\": \"started\"}}}",
             tito_modules[0].slug);
    tito_progress *p = NULL, *q = NULL;
    char *out = NULL;
    CHECK_OK(tito_progress_parse(&p, text, strlen(text), "p.json"));
    if (!p)
        return;
    tito_module_progress *mp = &p->modules[0];
    CHECK(mp->state == TITO_STATE_COMPLETED && mp->resets == 2 && mp->best.present);
    CHECK(!mp->last.present && p->modules[1].state == TITO_STATE_NOT_STARTED);
    tito_progress_mark_reset(p, &tito_modules[1], 0);
    CHECK(p->modules[1].state == TITO_STATE_STARTED && p->modules[1].resets == 1);

    size_t len = 0;
    CHECK_OK(tito_progress_render(&out, &len, p));
    CHECK(out && len == strlen(out) && out[len - 1] == '\n');
    CHECK(out && strstr(out, "\"later\": [") && strstr(out, "\"note\": \"kept\"") &&
          strstr(out, "\"77_future\""));
    CHECK_OK(tito_progress_parse(&q, out, len, "again.json"));
    if (q) {
        CHECK(q->modules[0].best.earned == 9 && q->modules[0].resets == 2);
        CHECK(strcmp(q->modules[0].completed_at, "2026-01-02T00:00:00Z") == 0);
        CHECK(q->modules[1].resets == 1 && q->modules[1].started_at[0] == '1');
    }
    free(out);
    tito_progress_free(q);
    tito_progress_free(p);

    static const char *const bad[][2] = {
        {"{\"schema\": \"tito-progress/1\"}", "p.json: course: expected the course id"},
        {"{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"modules\": []}",
         "p.json: modules: expected an object keyed by module slug"},
        {"{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"modules\": {\"01_tensor\": "
         "{\"state\": \"started\", \"best\": {\"earned\": -1, \"possible\": 10}}}}",
         "p.json: modules.01_tensor.best: earned and possible must be whole numbers"},
        {"{\"schema\": \"tito-progress/1\", \"course\": \"t\", \"modules\": {\"01_tensor\": "
         "{\"state\": \"started\", \"resets\": \"x\"}}}",
         "p.json: modules.01_tensor: resets: expected a whole number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tito_progress *r = NULL;
        CHECK_STATUS(tito_progress_parse(&r, bad[i][0], strlen(bad[i][0]), "p.json"), TT_ERR_FORMAT);
        CHECK(r == NULL);
        CHECK_ERROR_MENTIONS(bad[i][1]);
    }
}

/* --------------------------------------------------------------- workspace */

static char tmp[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/ws/%s", tmp, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    CHECK_OK(tito_mkdirs(path));
    *slash = '/';
    CHECK_OK(tito_file_write_atomic(path, text, strlen(text), 0644));
}

static void test_workspace_git(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/tito-test-progress-XXXXXX");
    if (!mkdtemp(tmp)) {
        CHECK(!"mkdtemp");
        return;
    }
    char dir[512], cmd[1024];
    snprintf(dir, sizeof dir, "%s/ws", tmp);
    tito_course *c = NULL;
    tito_workspace *ws = NULL;
    tito_material mat;
    CHECK_OK(tito_course_builtin(&c));
    CHECK_OK(tito_material_locate(&mat));
    if (c)
        CHECK_OK(tito_workspace_init(&ws, dir, c, &mat));
    if (!ws)
        goto cleanup;

    char head0[41], head1[41], id[41];
    bool dirty = true, committed = false;
    CHECK_OK(tito_workspace_head(ws, head0));
    CHECK_OK(tito_workspace_dirty(ws, "modules", &dirty));
    CHECK(!dirty);
    CHECK_OK(tito_workspace_dirty(ws, "README.md", &dirty));
    CHECK(!dirty);

    /* Untracked, modified and ignored files. */
    write_file("modules/a/x.c", "int x;\n");
    write_file("modules/a/x.o", "object");
    write_file("other.txt", "other\n");
    CHECK_OK(tito_workspace_dirty(ws, "modules/a", &dirty));
    CHECK(dirty);
    CHECK_OK(tito_workspace_dirty(ws, "modules/a/x.o", &dirty));
    CHECK(!dirty);

    /* A folder commit takes what is in it minus the ignored files; other.txt stays out. */
    const char *paths[] = {"modules/a"};
    CHECK_OK(tito_workspace_commit(ws, paths, 1, "add a", head1, &committed));
    CHECK(committed && strcmp(head0, head1) != 0);
    CHECK_OK(tito_workspace_dirty(ws, "modules/a", &dirty));
    CHECK(!dirty);
    CHECK_OK(tito_workspace_dirty(ws, "other.txt", &dirty));
    CHECK(dirty);
    snprintf(cmd, sizeof cmd, "git -C %s ls-files | grep -qx 'modules/a/x.o'", dir);
    CHECK(system(cmd) != 0);

    /* Nothing changed: no commit. */
    CHECK_OK(tito_workspace_commit(ws, paths, 1, "again", id, &committed));
    CHECK(!committed && strcmp(id, head1) == 0);

    /* A deleted file is committed as a deletion. */
    snprintf(cmd, sizeof cmd, "%s/modules/a/x.c", dir);
    CHECK(unlink(cmd) == 0);
    CHECK_OK(tito_workspace_dirty(ws, "modules/a", &dirty));
    CHECK(dirty);
    const char *gone[] = {"modules/a/x.c"};
    CHECK_OK(tito_workspace_commit(ws, gone, 1, "remove x", NULL, &committed));
    CHECK(committed);
    snprintf(cmd, sizeof cmd, "git -C %s ls-files --error-unmatch modules/a/x.c 2>/dev/null", dir);
    CHECK(system(cmd) != 0);
    snprintf(cmd, sizeof cmd, "test -z \"$(git -C %s status --porcelain -- modules)\"", dir);
    CHECK(system(cmd) == 0);

    /* A backup leaves HEAD where it was and holds the untracked file. */
    char branch[160], backup[41], head2[41];
    CHECK_OK(tito_workspace_head(ws, head1));
    CHECK_OK(tito_workspace_backup(ws, "label", 0, branch, sizeof branch, backup));
    CHECK(strcmp(branch, "backup/label-19700101-000000") == 0);
    CHECK_OK(tito_workspace_head(ws, head2));
    CHECK(strcmp(head1, head2) == 0);
    snprintf(cmd, sizeof cmd, "test \"$(git -C %s show %s:other.txt)\" = other", dir, branch);
    CHECK(system(cmd) == 0);
    CHECK_OK(tito_workspace_backup(ws, "label", 0, branch, sizeof branch, NULL));
    CHECK(strcmp(branch, "backup/label-19700101-000000-2") == 0);

    /* Finding it again, and refusing it for another course. */
    tito_workspace *again = NULL;
    snprintf(cmd, sizeof cmd, "%s/modules/a", dir);
    CHECK_OK(tito_workspace_find(&again, cmd, c));
    CHECK(again && strcmp(again->root, ws->root) == 0);
    tito_workspace_free(again);
    free(c->id);
    c->id = strdup("another");
    CHECK_STATUS(tito_workspace_find(&again, dir, c), TT_ERR_STATE);
    CHECK(again == NULL);
    CHECK_ERROR_MENTIONS("this workspace belongs to course tinytorch-c-2026; this tito is for course another");
    CHECK_OK(tito_workspace_find(&again, dir, NULL));
    tito_workspace_free(again);

cleanup:
    tito_workspace_free(ws);
    tito_course_free(c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    RUN(test_builtin_course);
    RUN(test_defaults);
    RUN(test_speed_bands_sorted);
    RUN(test_pass_bar);
    RUN(test_refusals);
    RUN(test_record_grade);
    RUN(test_unlocked);
    RUN(test_round_trip);
    RUN(test_workspace_git);
    return harness_summary();
}
