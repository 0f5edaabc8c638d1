/*
 * The ranking: from the stored submissions and verifications to the JSON the API
 * serves (docs/leaderboard.md), which the web page and `tito leaderboard` render too.
 *
 * Per student and module the best submission counts (highest share of its points, then
 * most points, then verified over not); a submission that an instructor's verification
 * covers (same student, subject and commit) counts with the instructor's score: it is
 * "verified" when the scores agree, "disputed" when they do not. Students rank by the
 * sum of their modules' best points, then by milestones reached, then by who got there
 * first; equal points and milestones share a rank. Revoked keys are left out. "test"
 * receipts (correctness only) are stored but do not rank.
 */
#define _POSIX_C_SOURCE 200809L

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

enum { STATUS_SELF, STATUS_VERIFIED, STATUS_DISPUTED };
static const char *const status_names[] = {"self-reported", "verified", "disputed"};

typedef struct subject_best {
    char subject[LB_SUBJECT_MAX + 1];
    bool milestone;
    long earned, possible; /* modules */
    bool reached;          /* milestones */
    int status;
    char commit[LB_COMMIT_MAX + 1];
    char at[32];
    char *metrics; /* milestones: JSON text of the best submission, or NULL */
} subject_best;

typedef struct student_acc {
    lb_student st;
    subject_best *subs;
    size_t n_subs, cap_subs;
    long total_earned, total_possible;
    int reached;
    long submissions;
    char last_at[32];
    long improved_seq; /* the submission that last raised a best */
    bool ranked;       /* has a module or milestone that counts */
} student_acc;

typedef struct names {
    char (*items)[LB_SUBJECT_MAX + 1];
    size_t n, cap;
} names;

typedef struct ranking {
    student_acc *students; /* sorted by key id while reading, by rank after */
    size_t n;
    names modules, milestones;
    bool failed; /* out of memory inside a row callback */
} ranking;

/* ---------------------------------------------------------------- accumulating */

static int cmp_student_key(const void *a, const void *b)
{
    return strcmp(((const student_acc *)a)->st.key_id, ((const student_acc *)b)->st.key_id);
}

static student_acc *find_student(ranking *r, const char *key_id)
{
    student_acc probe;
    snprintf(probe.st.key_id, sizeof probe.st.key_id, "%s", key_id);
    return bsearch(&probe, r->students, r->n, sizeof *r->students, cmp_student_key);
}

static void names_add(ranking *r, names *list, const char *name)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i], name) == 0)
            return;
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 16;
        void *p = realloc(list->items, cap * sizeof *list->items);
        if (!p) {
            r->failed = true;
            return;
        }
        list->items = p;
        list->cap = cap;
    }
    snprintf(list->items[list->n++], sizeof list->items[0], "%s", name);
}

static subject_best *find_subject(ranking *r, student_acc *a, const char *subject, bool milestone)
{
    for (size_t i = 0; i < a->n_subs; i++)
        if (a->subs[i].milestone == milestone && strcmp(a->subs[i].subject, subject) == 0)
            return &a->subs[i];
    if (a->n_subs == a->cap_subs) {
        size_t cap = a->cap_subs ? 2 * a->cap_subs : 8;
        subject_best *p = realloc(a->subs, cap * sizeof *p);
        if (!p) {
            r->failed = true;
            return NULL;
        }
        a->subs = p;
        a->cap_subs = cap;
    }
    subject_best *b = &a->subs[a->n_subs];
    memset(b, 0, sizeof *b);
    snprintf(b->subject, sizeof b->subject, "%s", subject);
    b->milestone = milestone;
    b->status = -1; /* nothing counted yet */
    return b;
}

static const char *text_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

/* Columns of the submission rows, shared by the ranking and the history. */
#define SUB_COLUMNS                                                                        \
    "s.key_id, s.kind, s.subject, s.mode, s.earned, s.possible, s.reached, s.metrics,"     \
    " s.commit_id, s.received_at, s.seq, v.earned, v.possible, v.reached, s.id"
#define SUB_JOIN                                                                           \
    " FROM submissions s LEFT JOIN verifications v ON v.seq = (SELECT max(v2.seq) FROM"    \
    " verifications v2 WHERE v2.course_id = s.course_id AND v2.key_id = s.key_id AND"      \
    " v2.subject = s.subject AND v2.commit_id = s.commit_id AND s.commit_id != '')"

/* One submission row as it counts: score (or reached) after verification, and status. */
typedef struct effective {
    bool milestone, counts;
    long earned, possible;
    bool reached;
    int status;
} effective;

static effective effective_of(sqlite3_stmt *s)
{
    effective e = {0};
    e.milestone = strcmp(text_col(s, 1), "milestone") == 0;
    e.status = STATUS_SELF;
    if (e.milestone) {
        e.counts = true;
        e.reached = sqlite3_column_int(s, 6) != 0;
        if (sqlite3_column_type(s, 13) != SQLITE_NULL) {
            bool v = sqlite3_column_int(s, 13) != 0;
            e.status = v == e.reached ? STATUS_VERIFIED : STATUS_DISPUTED;
            e.reached = v;
        }
        return e;
    }
    e.counts = strcmp(text_col(s, 3), "test") != 0 && sqlite3_column_type(s, 4) != SQLITE_NULL;
    e.earned = (long)sqlite3_column_int64(s, 4);
    e.possible = (long)sqlite3_column_int64(s, 5);
    if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
        long ve = (long)sqlite3_column_int64(s, 11), vp = (long)sqlite3_column_int64(s, 12);
        e.status = ve == e.earned && vp == e.possible ? STATUS_VERIFIED : STATUS_DISPUTED;
        e.earned = ve;
        e.possible = vp;
    }
    return e;
}

/* Whether module result (e, p, status) beats the current best b. */
static bool module_better(long e, long p, int status, const subject_best *b)
{
    if (b->status < 0)
        return true;
    /* Compare shares without division: e/p against b->earned/b->possible. */
    long double lhs = (long double)e * (long double)(b->possible > 0 ? b->possible : 1);
    long double rhs = (long double)b->earned * (long double)(p > 0 ? p : 1);
    if (p <= 0)
        lhs = 0;
    if (b->possible <= 0)
        rhs = 0;
    if (lhs != rhs)
        return lhs > rhs;
    if (e != b->earned)
        return e > b->earned;
    return status == STATUS_VERIFIED && b->status != STATUS_VERIFIED;
}

static void ranking_row(void *ctx, sqlite3_stmt *s)
{
    ranking *r = ctx;
    student_acc *a = find_student(r, text_col(s, 0));
    if (!a || r->failed)
        return;
    const char *subject = text_col(s, 2);
    long seq = (long)sqlite3_column_int64(s, 10);
    a->submissions++;
    snprintf(a->last_at, sizeof a->last_at, "%s", text_col(s, 9));
    effective e = effective_of(s);
    if (!e.counts)
        return;
    names_add(r, e.milestone ? &r->milestones : &r->modules, subject);
    subject_best *b = find_subject(r, a, subject, e.milestone);
    if (!b)
        return;
    bool replace;
    bool improved;
    if (e.milestone) {
        /* Reached beats not reached; otherwise the newest, for its newest metrics. */
        replace = b->status < 0 || e.reached || !b->reached;
        improved = b->status < 0 ? e.reached : (e.reached && !b->reached);
    } else {
        replace = module_better(e.earned, e.possible, e.status, b);
        improved = replace && (b->status < 0 || e.earned != b->earned);
    }
    if (b->status < 0)
        a->n_subs++;
    if (!replace)
        return;
    if (improved)
        a->improved_seq = seq;
    b->earned = e.earned;
    b->possible = e.possible;
    b->reached = e.reached;
    b->status = e.status;
    snprintf(b->commit, sizeof b->commit, "%s", text_col(s, 8));
    snprintf(b->at, sizeof b->at, "%s", text_col(s, 9));
    if (e.milestone) {
        free(b->metrics);
        b->metrics = NULL;
        if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
            size_t n = (size_t)sqlite3_column_bytes(s, 7);
            b->metrics = malloc(n + 1);
            if (!b->metrics) {
                r->failed = true;
                return;
            }
            memcpy(b->metrics, text_col(s, 7), n);
            b->metrics[n] = '\0';
        }
    }
}

static void ranking_release(ranking *r)
{
    for (size_t i = 0; i < r->n; i++) {
        for (size_t j = 0; j < r->students[i].n_subs; j++)
            free(r->students[i].subs[j].metrics);
        free(r->students[i].subs);
    }
    free(r->students);
    free(r->modules.items);
    free(r->milestones.items);
    memset(r, 0, sizeof *r);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int cmp_rank(const void *pa, const void *pb)
{
    const student_acc *a = pa, *b = pb;
    if (a->ranked != b->ranked)
        return a->ranked ? -1 : 1;
    if (a->total_earned != b->total_earned)
        return a->total_earned > b->total_earned ? -1 : 1;
    if (a->reached != b->reached)
        return a->reached > b->reached ? -1 : 1;
    if (a->improved_seq != b->improved_seq)
        return a->improved_seq < b->improved_seq ? -1 : 1;
    int c = strcmp(a->st.name, b->st.name);
    return c ? c : strcmp(a->st.key_id, b->st.key_id);
}

/* Read everything of `course` (one student when key_id is not NULL) and sort. */
static tt_status ranking_load(lb_store *store, const char *course, ranking *r)
{
    memset(r, 0, sizeof *r);
    lb_student *list = NULL;
    size_t n = 0;
    tt_status st = lb_student_list(store, course, &list, &n);
    if (st != TT_OK)
        return st;
    r->students = calloc(n ? n : 1, sizeof *r->students);
    if (!r->students) {
        free(list);
        return tt_error_set(TT_ERR_NOMEM, "ranking: no memory for %zu students", n);
    }
    for (size_t i = 0; i < n; i++)
        if (!list[i].revoked)
            r->students[r->n++].st = list[i];
    free(list);
    qsort(r->students, r->n, sizeof *r->students, cmp_student_key);
    const char *args[] = {course};
    st = lb_store_each_row(store, "SELECT " SUB_COLUMNS SUB_JOIN " WHERE s.course_id = ? ORDER BY s.seq",
                           args, 1, ranking_row, r);
    if (st == TT_OK && r->failed)
        st = tt_error_set(TT_ERR_NOMEM, "ranking: no memory");
    if (st != TT_OK) {
        ranking_release(r);
        return st;
    }
    for (size_t i = 0; i < r->n; i++) {
        student_acc *a = &r->students[i];
        for (size_t j = 0; j < a->n_subs; j++) {
            subject_best *b = &a->subs[j];
            if (b->milestone) {
                a->reached += b->reached;
            } else {
                a->total_earned += b->earned;
                a->total_possible += b->possible;
            }
        }
        a->ranked = a->n_subs > 0;
    }
    qsort(r->students, r->n, sizeof *r->students, cmp_rank);
    qsort(r->modules.items, r->modules.n, sizeof r->modules.items[0], cmp_name);
    qsort(r->milestones.items, r->milestones.n, sizeof r->milestones.items[0], cmp_name);
    return TT_OK;
}

/* ---------------------------------------------------------------- JSON */

/* The capstone: the highest milestone submitted with metrics, and its headline metric
 * (test_accuracy, else a metric ending in test_accuracy, else the first number). */
static json_t *capstone_json(const student_acc *a)
{
    const subject_best *top = NULL;
    for (size_t j = 0; j < a->n_subs; j++) {
        const subject_best *b = &a->subs[j];
        if (b->milestone && b->metrics && (!top || strcmp(b->subject, top->subject) > 0))
            top = b;
    }
    if (!top)
        return json_null();
    json_t *metrics = json_loads(top->metrics, 0, NULL);
    if (!json_is_object(metrics)) {
        json_decref(metrics);
        return json_null();
    }
    const char *key = NULL, *chosen = NULL;
    json_t *value = NULL, *chosen_value = NULL;
    int quality = 0;
    json_object_foreach(metrics, key, value)
    {
        if (!json_is_number(value))
            continue;
        size_t kl = strlen(key);
        int q = strcmp(key, "test_accuracy") == 0                                   ? 3
                : (kl > 13 && strcmp(key + kl - 13, "test_accuracy") == 0) ? 2
                                                                               : 1;
        if (q > quality) {
            quality = q;
            chosen = key;
            chosen_value = value;
        }
    }
    json_t *out = chosen ? json_pack("{s:s, s:s, s:f}", "milestone", top->subject, "metric", chosen, "value",
                                     json_number_value(chosen_value))
                         : json_null();
    json_decref(metrics);
    return out ? out : json_null();
}

static json_t *student_entry(const student_acc *a, int rank)
{
    json_t *modules = json_object(), *milestones = json_object();
    bool all_verified = false;
    size_t n_modules = 0, n_verified = 0;
    for (size_t j = 0; modules && milestones && j < a->n_subs; j++) {
        const subject_best *b = &a->subs[j];
        if (b->status < 0)
            continue;
        json_t *v;
        if (b->milestone) {
            json_t *metrics = b->metrics ? json_loads(b->metrics, 0, NULL) : NULL;
            v = json_pack("{s:b, s:s, s:s, s:s, s:o}", "reached", b->reached, "status",
                          status_names[b->status], "commit", b->commit, "submitted_at", b->at, "metrics",
                          metrics ? metrics : json_object());
            json_object_set_new(milestones, b->subject, v);
        } else {
            n_modules++;
            n_verified += b->status == STATUS_VERIFIED;
            v = json_pack("{s:I, s:I, s:s, s:s, s:s}", "earned", (json_int_t)b->earned, "possible",
                          (json_int_t)b->possible, "status", status_names[b->status], "commit", b->commit,
                          "submitted_at", b->at);
            json_object_set_new(modules, b->subject, v);
        }
    }
    all_verified = n_modules > 0 && n_verified == n_modules;
    json_t *rank_value = a->ranked ? json_integer(rank) : json_null();
    return json_pack("{s:o, s:s, s:s, s:{s:I, s:I}, s:b, s:o, s:o, s:i, s:o, s:I, s:o}", "rank", rank_value,
                     "key_id", a->st.key_id, "name", a->st.name, "total", "earned",
                     (json_int_t)a->total_earned, "possible", (json_int_t)a->total_possible, "verified",
                     all_verified, "modules", modules, "milestones", milestones, "milestones_reached",
                     a->reached, "capstone", capstone_json(a), "submissions", (json_int_t)a->submissions,
                     "last_submission_at", a->last_at[0] ? json_string(a->last_at) : json_null());
}

static json_t *names_json(const names *list)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < list->n; i++)
        json_array_append_new(arr, json_string(list->items[i]));
    return arr;
}

/* Ranks with ties: equal points and milestones share the better rank (1, 2, 2, 4). */
static int rank_at(const ranking *r, size_t i, int previous_rank)
{
    if (i > 0) {
        const student_acc *a = &r->students[i], *p = &r->students[i - 1];
        if (a->total_earned == p->total_earned && a->reached == p->reached)
            return previous_rank;
    }
    return (int)i + 1;
}

static json_t *course_json(const lb_course *c)
{
    return json_pack("{s:s, s:s, s:f}", "id", c->id, "title", c->title, "pass_bar", c->pass_bar);
}

tt_status lb_ranking_json(lb_store *store, const char *course, time_t now, json_t **out, bool *found)
{
    *out = NULL;
    lb_course c;
    tt_status st = lb_course_get(store, course, &c, found);
    if (st != TT_OK || !*found)
        return st;
    ranking r;
    st = ranking_load(store, course, &r);
    if (st != TT_OK)
        return st;
    json_t *students = json_array();
    int rank = 0;
    for (size_t i = 0; students && i < r.n; i++) {
        rank = rank_at(&r, i, rank);
        if (json_array_append_new(students, student_entry(&r.students[i], rank)) != 0) {
            json_decref(students);
            students = NULL;
        }
    }
    char when[32];
    lb_time_format(when, now);
    json_t *root = students ? json_pack("{s:o, s:s, s:o, s:o, s:o}", "course", course_json(&c), "generated_at",
                                        when, "modules", names_json(&r.modules), "milestones",
                                        names_json(&r.milestones), "students", students)
                            : NULL;
    ranking_release(&r);
    if (!root)
        return tt_error_set(TT_ERR_NOMEM, "ranking: no memory for the JSON");
    *out = root;
    return TT_OK;
}

/* ---------------------------------------------------------------- one student */

typedef struct history {
    json_t *items;
    bool failed;
} history;

static void history_row(void *ctx, sqlite3_stmt *s)
{
    history *h = ctx;
    effective e = effective_of(s);
    json_t *score = json_null(), *reached = json_null();
    if (e.milestone)
        reached = json_boolean(e.reached);
    else if (sqlite3_column_type(s, 4) != SQLITE_NULL)
        score = json_pack("{s:I, s:I}", "earned", (json_int_t)e.earned, "possible", (json_int_t)e.possible);
    json_t *item = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "id", text_col(s, 14), "seq",
                             (json_int_t)sqlite3_column_int64(s, 10), "received_at", text_col(s, 9), "kind",
                             text_col(s, 1), "subject", text_col(s, 2), "mode", text_col(s, 3), "score", score,
                             "reached", reached, "status", status_names[e.status], "commit", text_col(s, 8));
    if (!item || json_array_append_new(h->items, item) != 0)
        h->failed = true;
}

tt_status lb_student_json(lb_store *store, const char *course, const char *key_id, time_t now, json_t **out,
                          bool *found)
{
    *out = NULL;
    json_t *ranking_doc = NULL;
    tt_status st = lb_ranking_json(store, course, now, &ranking_doc, found);
    if (st != TT_OK || !*found)
        return st;
    *found = false;
    json_t *students = json_object_get(ranking_doc, "students"), *entry = NULL, *item = NULL;
    size_t i;
    json_array_foreach(students, i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "key_id")), key_id) == 0) {
            entry = item;
            break;
        }
    }
    if (!entry) {
        json_decref(ranking_doc);
        return TT_OK;
    }
    history h = {json_array(), false};
    const char *args[] = {course, key_id};
    st = h.items ? lb_store_each_row(store,
                                     "SELECT " SUB_COLUMNS SUB_JOIN
                                     " WHERE s.course_id = ? AND s.key_id = ? ORDER BY s.seq DESC LIMIT 200",
                                     args, 2, history_row, &h)
                 : tt_error_set(TT_ERR_NOMEM, "student: no memory");
    if (st == TT_OK && h.failed)
        st = tt_error_set(TT_ERR_NOMEM, "student: no memory for the history");
    if (st != TT_OK) {
        json_decref(h.items);
        json_decref(ranking_doc);
        return st;
    }
    json_object_set_new(entry, "history", h.items);
    json_t *root = json_pack("{s:O, s:O, s:O, s:O}", "course", json_object_get(ranking_doc, "course"), "student",
                             entry, "modules", json_object_get(ranking_doc, "modules"), "milestones",
                             json_object_get(ranking_doc, "milestones"));
    json_t *n_students = json_integer((json_int_t)json_array_size(students));
    if (root)
        json_object_set_new(root, "of", n_students);
    else
        json_decref(n_students);
    json_decref(ranking_doc);
    if (!root)
        return tt_error_set(TT_ERR_NOMEM, "student: no memory for the JSON");
    *out = root;
    *found = true;
    return TT_OK;
}

typedef struct times {
    int64_t *items;
    size_t n, cap;
    bool failed;
} times;

static void time_row(void *ctx, sqlite3_stmt *s)
{
    times *t = ctx;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        int64_t *p = realloc(t->items, cap * sizeof *p);
        if (!p) {
            t->failed = true;
            return;
        }
        t->items = p;
        t->cap = cap;
    }
    t->items[t->n++] = (int64_t)sqlite3_column_int64(s, 0);
}

tt_status lb_submission_times(lb_store *store, const char *course, int64_t **out, size_t *n)
{
    times t = {NULL, 0, 0, false};
    const char *args[] = {course};
    tt_status st = lb_store_each_row(store, "SELECT received_unix FROM submissions WHERE course_id = ? ORDER BY received_unix",
                                     args, 1, time_row, &t);
    if (st == TT_OK && t.failed)
        st = tt_error_set(TT_ERR_NOMEM, "times: no memory");
    if (st != TT_OK) {
        free(t.items);
        return st;
    }
    *out = t.items;
    *n = t.n;
    return TT_OK;
}
