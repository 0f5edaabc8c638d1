/*
 * tests/batch/test_batch.c: the pure parts of batch grading, without git or grading:
 * time parsing, which commit a deadline and the late policy choose, grace days and
 * penalties (grader/late.h), the course file's deadlines, late policy and extensions
 * (grader/course.h), and the roster (grader/roster.h), with every refusal's message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "course.h"
#include "harness.h"
#include "late.h"
#include "roster.h"

#define D TITO_DAY_SECONDS

/* ------------------------------------------------------------ times */

static void test_time_parse(void)
{
    long long t = -1;
    CHECK(tito_days_from_civil(1970, 1, 1) == 0);
    CHECK(tito_days_from_civil(2000, 3, 1) == 11017);
    CHECK(tito_days_from_civil(1969, 12, 31) == -1);
    CHECK_OK(tito_time_parse(&t, "1970-01-01T00:00:00Z"));
    CHECK(t == 0);
    CHECK_OK(tito_time_parse(&t, "2026-10-03T23:59:00Z"));
    CHECK(t == 1791071940LL); /* date -u -d 2026-10-03T23:59:00Z +%s */
    CHECK_OK(tito_time_parse(&t, "2026-10-04T01:59:00+02:00"));
    CHECK(t == 1791071940LL);
    CHECK_OK(tito_time_parse(&t, "2026-10-03t18:59:00-05:00"));
    CHECK(t == 1791071940LL);
    CHECK_OK(tito_time_parse(&t, "2024-02-29T12:00:00z"));
    CHECK(t == 1709208000LL);

    static const char *const bad[] = {
        "", "2026-10-03", "2026-10-03T23:59Z", "2026-10-03 23:59:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-10-03T24:00:00Z",
        "2026-10-03T23:60:00Z", "2026-10-03T23:59:00", "2026-10-03T23:59:00Zjunk",
        "2026-10-03T23:59:00+2:00", "2026-10-03T23:59:00+24:00", "tomorrow at noon!!!",
        "2026-10-03T23:59:00.5Z", NULL,
    };
    for (const char *const *b = bad; *b; b++) {
        CHECK_STATUS(tito_time_parse(&t, *b), TT_ERR_FORMAT);
        CHECK(t == 0);
    }
    CHECK_ERROR_MENTIONS("is not a time such as");
    CHECK_STATUS(tito_time_parse(&t, NULL), TT_ERR_FORMAT);
}

/* ------------------------------------------------------------ choosing a commit */

static void test_late_choose(void)
{
    const long long dl = 1000 * D;
    /* Newest first, as git's walk gives them; the middle one does not touch the module. */
    tito_late_commit c[] = {
        {dl + 3 * D, true},      /* 0: three days late */
        {dl + D / 2, false},     /* 1: half a day late, another module */
        {dl - 10, true},         /* 2: on time */
        {dl - 5 * D, true},      /* 3: the starter */
    };
    tito_late_choice ch;

    /* No deadline: the newest change, never late. */
    tito_late_choose(&ch, c, 4, false, 0, 0);
    CHECK(ch.found && ch.index == 0 && ch.late_days == 0 && ch.late_seconds == 0);

    /* Strict deadline: the last change on time. */
    tito_late_choose(&ch, c, 4, true, dl, 0);
    CHECK(ch.found && ch.index == 2 && ch.late_days == 0);

    /* Up to 5 days late: the late change, three days late. */
    tito_late_choose(&ch, c, 4, true, dl, 5);
    CHECK(ch.found && ch.index == 0 && ch.late_days == 3 && ch.late_seconds == 3 * D);

    /* Up to 2 days late: the late change is past the cutoff. */
    tito_late_choose(&ch, c, 4, true, dl, 2);
    CHECK(ch.found && ch.index == 2 && ch.late_days == 0);

    /* No limit. */
    tito_late_choose(&ch, c, 4, true, dl, -1);
    CHECK(ch.found && ch.index == 0 && ch.late_days == 3);

    /* A change on the cutoff itself counts; a second past it does not. */
    tito_late_commit edge[] = {{dl + 2 * D + 1, true}, {dl + 2 * D, true}, {dl - D, true}};
    tito_late_choose(&ch, edge, 3, true, dl, 2);
    CHECK(ch.found && ch.index == 1 && ch.late_days == 2);

    /* Days round up: one second late is a day; exactly a day is a day; a day and a second, two. */
    tito_late_commit one[] = {{dl + 1, true}};
    tito_late_choose(&ch, one, 1, true, dl, -1);
    CHECK(ch.late_days == 1 && ch.late_seconds == 1);
    one[0].time = dl + D;
    tito_late_choose(&ch, one, 1, true, dl, -1);
    CHECK(ch.late_days == 1);
    one[0].time = dl + D + 1;
    tito_late_choose(&ch, one, 1, true, dl, -1);
    CHECK(ch.late_days == 2);
    one[0].time = dl;
    tito_late_choose(&ch, one, 1, true, dl, -1);
    CHECK(ch.late_days == 0 && ch.late_seconds == 0);

    /* Order given does not matter; of equal times the first given wins. */
    tito_late_commit shuffled[] = {{dl - 3 * D, true}, {dl - D, true}, {dl - D, true}, {dl - 2 * D, true}};
    tito_late_choose(&ch, shuffled, 4, true, dl, 0);
    CHECK(ch.found && ch.index == 1);

    /* Nothing changed the module by the cutoff, or nothing at all. */
    tito_late_commit none[] = {{dl + D, true}, {dl - D, false}};
    tito_late_choose(&ch, none, 2, true, dl, 0);
    CHECK(!ch.found);
    tito_late_choose(&ch, NULL, 0, true, dl, 5);
    CHECK(!ch.found);
}

/* ------------------------------------------------------------ grace and penalties */

static void test_late_charge(void)
{
    tito_late_policy p = {.grace_days = 3, .penalty_per_day = 10, .penalty_cap = 50,
                          .max_late_days = -1};
    /* Listed out of deadline order: grace goes to the earliest deadline first. */
    tito_late_entry e[] = {
        {.deadline = 30 * D, .late_days = 2},  /* third deadline */
        {.deadline = 10 * D, .late_days = 2},  /* first: 2 grace */
        {.deadline = 20 * D, .late_days = 0},  /* on time */
        {.deadline = 25 * D, .late_days = 9},  /* second: 1 grace, 8 days at 10%, capped at 50 */
    };
    tito_late_charge(e, 4, &p);
    CHECK(e[1].grace_used == 2 && e[1].penalty_percent == 0);
    CHECK(e[2].grace_used == 0 && e[2].penalty_percent == 0);
    CHECK(e[3].grace_used == 1 && e[3].penalty_percent == 50);
    CHECK(e[0].grace_used == 0 && e[0].penalty_percent == 20);

    /* Equal deadlines: the order given. */
    tito_late_entry tie[] = {{.deadline = 5 * D, .late_days = 1}, {.deadline = 5 * D, .late_days = 1}};
    p.grace_days = 1;
    tito_late_charge(tie, 2, &p);
    CHECK(tie[0].grace_used == 1 && tie[0].penalty_percent == 0);
    CHECK(tie[1].grace_used == 0 && tie[1].penalty_percent == 10);

    /* No policy, or a policy without penalties: nothing is taken. */
    tito_late_entry free_late[] = {{.deadline = D, .late_days = 4}};
    tito_late_charge(free_late, 1, NULL);
    CHECK(free_late[0].penalty_percent == 0 && free_late[0].grace_used == 0);
    tito_late_policy none = {.penalty_cap = 100};
    tito_late_charge(free_late, 1, &none);
    CHECK(free_late[0].penalty_percent == 0);

    /* Fractional rates, and more entries than the stack holds. */
    tito_late_policy frac = {.grace_days = 0, .penalty_per_day = 2.5, .penalty_cap = 100};
    tito_late_entry many[100];
    for (int i = 0; i < 100; i++)
        many[i] = (tito_late_entry){.deadline = (100 - i) * D, .late_days = i % 3};
    tito_late_charge(many, 100, &frac);
    CHECK(many[1].penalty_percent == 2.5 && many[2].penalty_percent == 5.0 && many[3].penalty_percent == 0);
    frac.grace_days = 1;
    tito_late_charge(many, 100, &frac);
    /* The earliest deadline is the last entry (i = 99, 0 days late); the next earliest
     * late one is i = 98 (2 days): it takes the grace day. */
    CHECK(many[98].grace_used == 1 && many[98].penalty_percent == 2.5);
    CHECK(many[97].grace_used == 0 && many[97].penalty_percent == 2.5);

    CHECK(tito_late_apply(100, 10) == 90.0);
    CHECK(tito_late_apply(71, 12.5) == 62.13); /* 62.125 rounds half away from zero */
    CHECK(tito_late_apply(0, 50) == 0.0);
    CHECK(tito_late_apply(87, 0) == 87.0);
}

/* ------------------------------------------------------------ the course file */

/* A course with every module of the table, `extra` spliced into the top level and
 * `first` into the first module's entry. */
static char *course_text(const char *extra, const char *first)
{
    size_t cap = 8192;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    int n = snprintf(s, cap, "{\"schema\": \"tito-course/1\", \"id\": \"t\", \"title\": \"T\"%s%s, \"modules\": [",
                     extra ? ", " : "", extra ? extra : "");
    for (size_t i = 0; i < tito_module_count; i++)
        n += snprintf(s + n, cap - (size_t)n, "%s{\"slug\": \"%s\"%s%s}", i ? ", " : "",
                      tito_modules[i].slug, i == 0 && first ? ", " : "", i == 0 && first ? first : "");
    snprintf(s + n, cap - (size_t)n, "]}");
    return s;
}

/* Parse a course that must be refused with a message containing `want`. */
static void refused(const char *extra, const char *first, const char *want)
{
    char *text = course_text(extra, first);
    tito_course *c = NULL;
    CHECK_STATUS(tito_course_parse(&c, text, strlen(text), "x.json"), TT_ERR_FORMAT);
    CHECK(c == NULL);
    if (!strstr(tt_error_last(), want)) {
        fprintf(stderr, "expected \"%s\" in: %s\n", want, tt_error_last());
        CHECK(false);
    }
    free(text);
}

static void test_course_late(void)
{
    /* Without a late policy: strict deadlines, no grace. */
    char *text = course_text(NULL, "\"deadline\": \"2026-10-03T23:59:00Z\"");
    tito_course *c = NULL;
    CHECK_OK(tito_course_parse(&c, text, strlen(text), "x.json"));
    free(text);
    if (c) {
        CHECK(c->modules[0].has_deadline && c->modules[0].deadline == 1791071940LL);
        CHECK(!c->modules[1].has_deadline);
        CHECK(c->late.max_late_days == 0 && c->late.grace_days == 0 && c->late.penalty_per_day == 0);
        CHECK(c->late.penalty_cap == 100 && c->late.n_extensions == 0);
        CHECK(tito_course_extension_days(c, "ada", &tito_modules[0]) == 0);
    }
    tito_course_free(c);

    /* A full policy. */
    text = course_text("\"late_policy\": {\"grace_days\": 3, \"penalty_per_day\": 12.5, "
                       "\"penalty_cap\": 60, \"extensions\": [{\"student\": \"ada\", \"days\": 2}, "
                       "{\"student\": \"ada\", \"module\": \"01_tensor\", \"days\": 5}, "
                       "{\"student\": \"al.an-t_1@x\", \"days\": 1}]}",
                       "\"deadline\": \"2026-10-04T01:59:00+02:00\"");
    CHECK_OK(tito_course_parse(&c, text, strlen(text), "x.json"));
    free(text);
    if (c) {
        CHECK(c->modules[0].deadline == 1791071940LL);
        CHECK(c->late.grace_days == 3 && c->late.penalty_per_day == 12.5 && c->late.penalty_cap == 60);
        CHECK(c->late.max_late_days == -1); /* a policy without a limit: the cap decides */
        CHECK(c->late.n_extensions == 3);
        /* The module's own entry wins over the all-modules one. */
        CHECK(tito_course_extension_days(c, "ada", &tito_modules[0]) == 5);
        CHECK(tito_course_extension_days(c, "ada", &tito_modules[1]) == 2);
        CHECK(tito_course_extension_days(c, "al.an-t_1@x", &tito_modules[0]) == 1);
        CHECK(tito_course_extension_days(c, "bob", &tito_modules[0]) == 0);
    }
    tito_course_free(c);

    /* The built-in course parses, with its deadlines and its late policy. */
    CHECK_OK(tito_course_builtin(&c));
    if (c) {
        CHECK(c->late.max_late_days == 7 && c->late.grace_days == 3 && c->late.n_extensions == 0);
        long long first = 0;
        CHECK_OK(tito_time_parse(&first, "2026-09-20T23:59:00Z"));
        CHECK(c->modules[0].has_deadline && c->modules[0].deadline == first);
    }
    tito_course_free(c);

    refused(NULL, "\"deadline\": \"tomorrow\"",
            "course file x.json: modules[0].deadline: expected a time such as "
            "\"2026-10-03T23:59:00Z\" (UTC) or \"2026-10-03T23:59:00+02:00\", got \"tomorrow\"");
    refused(NULL, "\"deadline\": 20261003", "modules[0].deadline: expected a time such as");
    refused(NULL, "\"deadline\": \"2026-02-30T00:00:00Z\"", "modules[0].deadline: expected a time");
    refused("\"late_policy\": 3", NULL, "late_policy: expected an object, got 3");
    refused("\"late_policy\": {\"grace\": 2}", NULL,
            "late_policy.grace: unknown field (the fields here are: grace_days, penalty_per_day, "
            "penalty_cap, max_late_days, extensions)");
    refused("\"late_policy\": {\"grace_days\": -1}", NULL,
            "late_policy.grace_days: expected a whole number from 0 to 366, got -1");
    refused("\"late_policy\": {\"grace_days\": 1.5}", NULL,
            "late_policy.grace_days: expected a whole number, got 1.5");
    refused("\"late_policy\": {\"penalty_per_day\": 120}", NULL,
            "late_policy.penalty_per_day: expected a number from 0 to 100, got 120");
    refused("\"late_policy\": {\"penalty_cap\": \"half\"}", NULL,
            "late_policy.penalty_cap: expected a number, got \"half\"");
    refused("\"late_policy\": {\"max_late_days\": 400}", NULL,
            "late_policy.max_late_days: expected a whole number from 0 to 366, got 400");
    refused("\"late_policy\": {\"extensions\": {}}", NULL,
            "late_policy.extensions: expected an array of");
    refused("\"late_policy\": {\"extensions\": [\"ada\"]}", NULL,
            "late_policy.extensions[0]: expected an object");
    refused("\"late_policy\": {\"extensions\": [{\"days\": 2}]}", NULL,
            "late_policy.extensions[0].student: missing (a string is required)");
    refused("\"late_policy\": {\"extensions\": [{\"student\": \"a b\", \"days\": 2}]}", NULL,
            "late_policy.extensions[0].student: \"a b\" is not a student id");
    refused("\"late_policy\": {\"extensions\": [{\"student\": \"ada\"}]}", NULL,
            "late_policy.extensions[0].days: missing (a whole number of days, 1 or more)");
    refused("\"late_policy\": {\"extensions\": [{\"student\": \"ada\", \"days\": 0}]}", NULL,
            "late_policy.extensions[0].days: expected a whole number from 1 to 366, got 0");
    refused("\"late_policy\": {\"extensions\": [{\"student\": \"ada\", \"days\": 1, \"module\": \"99_x\"}]}",
            NULL, "late_policy.extensions[0].module: no module \"99_x\" in the module table");
    refused("\"late_policy\": {\"extensions\": [{\"student\": \"ada\", \"days\": 1, \"why\": \"ill\"}]}",
            NULL, "late_policy.extensions[0].why: unknown field");
    refused("\"late_policy\": {\"extensions\": [{\"student\": \"ada\", \"days\": 1}, "
            "{\"student\": \"ada\", \"days\": 2}]}",
            NULL,
            "late_policy.extensions[1].student: \"ada\" already has an extension for every module "
            "(late_policy.extensions[0])");
    refused("\"late_polcy\": {}", NULL,
            "late_polcy: unknown field (the fields here are: schema, id, title, term, "
            "unlock_in_order, limits, leaderboard, late_policy, modules)");

    /* Allocation failures never leak: the course uses malloc, the harness counts the
     * framework's; this parses and frees under Valgrind in the memcheck twin. */
    CHECK(tito_student_id_valid("s01") && tito_student_id_valid("a@b.c") &&
          !tito_student_id_valid("-x") && !tito_student_id_valid("") && !tito_student_id_valid(NULL) &&
          !tito_student_id_valid("a/b"));
}

/* ------------------------------------------------------------ the roster */

static tito_roster *roster_ok(const char *text)
{
    tito_roster *r = NULL;
    CHECK_OK(tito_roster_parse(&r, text, strlen(text), "r.csv", "/class"));
    return r;
}

static void roster_refused(const char *text, const char *want)
{
    tito_roster *r = NULL;
    CHECK_STATUS(tito_roster_parse(&r, text, strlen(text), "r.csv", "/class"), TT_ERR_FORMAT);
    CHECK(r == NULL);
    if (!strstr(tt_error_last(), want)) {
        fprintf(stderr, "expected \"%s\" in: %s\n", want, tt_error_last());
        CHECK(false);
    }
}

static void test_roster(void)
{
    tito_roster *r = roster_ok("\xEF\xBB\xBF"
                               "repo, id ,name,email,branch,key_id\r\n"
                               "# a comment line\r\n"
                               "\r\n"
                               "ada/tt,ada,Ada Lovelace,ada@x.edu,,\r\n"
                               "https://git.x.edu/alan/tt.git,alan,\"Turing, Alan\",,main,"
                               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"
                               "git@git.x.edu:grace/tt.git,grace,\"Grace \"\"Amazing\"\" Hopper\"\r\n"
                               "/srv/k/tt,kat,\"Katherine\nJohnson\"");
    CHECK(r && r->n_students == 4);
    if (r && r->n_students == 4) {
        const tito_roster_student *s = &r->students[0];
        CHECK(strcmp(s->id, "ada") == 0 && strcmp(s->name, "Ada Lovelace") == 0);
        CHECK(strcmp(s->location, "/class/ada/tt") == 0 && !s->is_url && s->line == 4);
        CHECK(strcmp(s->branch, "") == 0 && strcmp(s->key_id, "") == 0);
        s = &r->students[1];
        CHECK(strcmp(s->name, "Turing, Alan") == 0 && s->is_url && strcmp(s->branch, "main") == 0);
        CHECK(strcmp(s->location, "https://git.x.edu/alan/tt.git") == 0 && strlen(s->key_id) == 64);
        s = &r->students[2];
        CHECK(strcmp(s->name, "Grace \"Amazing\" Hopper") == 0 && s->is_url && s->line == 6);
        CHECK(strcmp(s->email, "") == 0);
        s = &r->students[3];
        CHECK(strcmp(s->name, "Katherine\nJohnson") == 0 && strcmp(s->location, "/srv/k/tt") == 0);
        CHECK(s->line == 7);
        CHECK(tito_roster_find(r, "grace") == &r->students[2] && !tito_roster_find(r, "bob"));
    }
    tito_roster_free(r);
    tito_roster_free(NULL);

    /* LF only, no trailing newline, the minimum columns. */
    r = roster_ok("id,repo\nx,y");
    CHECK(r && r->n_students == 1 && strcmp(r->students[0].location, "/class/y") == 0);
    tito_roster_free(r);

    CHECK(tito_roster_is_url("ssh://h/x") && tito_roster_is_url("file:///x") &&
          tito_roster_is_url("u@h:p/x") && !tito_roster_is_url("a/b:c") &&
          !tito_roster_is_url("/abs/path") && !tito_roster_is_url("rel") &&
          !tito_roster_is_url("c:x"));

    roster_refused("", "roster r.csv: empty: the first line names the columns");
    roster_refused("# only a comment\n\n", "empty");
    roster_refused("id,repo\n", "roster r.csv: no students");
    roster_refused("id,name\nx,y\n", "roster r.csv:1: the header has no \"repo\" column");
    roster_refused("repo,name\nx,y\n", "the header has no \"id\" column");
    roster_refused("id,repo,grade\n", "roster r.csv:1: column 3: unknown column \"grade\"");
    roster_refused("id,repo,id\n", "column 3: \"id\" is also column 1");
    roster_refused("id,repo\na,x\nb,y\na,z\n", "roster r.csv:4: id: \"a\" is also the id on line 2");
    roster_refused("id,repo\n,x\n", "roster r.csv:2: id: empty");
    roster_refused("id,repo\na b,x\n", "id: \"a b\" is not a student id");
    roster_refused("id,repo\n-a,x\n", "is not a student id");
    roster_refused("id,repo\na,\n", "roster r.csv:2: repo: empty");
    roster_refused("id,repo\na,x,extra\n", "roster r.csv:2: 3 fields, but the header names 2 columns");
    roster_refused("id,repo\na,\"x\n", "roster r.csv:2: a quoted field is never closed");
    roster_refused("id,repo\na,\"x\"y\n", "text after a closing quote");
    roster_refused("id,repo\na,x\"y\n", "a quote inside an unquoted field");
    roster_refused("id,repo,key_id\na,x,ABC\n", "key_id: expected 64 lower-case hex digits");
    char nul[] = "id,repo\na,x\0\n";
    tito_roster *rn = NULL;
    CHECK_STATUS(tito_roster_parse(&rn, nul, sizeof nul - 1, "r.csv", "/"), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("a NUL byte");

    tito_roster *missing = NULL;
    CHECK_STATUS(tito_roster_load(&missing, "/no/such/roster.csv"), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("roster /no/such/roster.csv: ");
    CHECK(missing == NULL);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    RUN(test_time_parse);
    RUN(test_late_choose);
    RUN(test_late_charge);
    RUN(test_course_late);
    RUN(test_roster);
    return harness_summary();
}
