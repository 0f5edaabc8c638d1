/*
 * The progress file (.tito/progress.json): typed in memory, JSON on disk. Reading
 * keeps the parsed document so that a rewrite carries over whatever this tito does not
 * understand, field by field, and only the fields it owns are replaced.
 */
#define _POSIX_C_SOURCE 200809L

#include "progress.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

const char *tito_module_state_name(tito_module_state state)
{
    switch (state) {
    case TITO_STATE_NOT_STARTED: return "not-started";
    case TITO_STATE_STARTED: return "started";
    case TITO_STATE_COMPLETED: return "completed";
    }
    return "?";
}

void tito_time_format(char *buf, size_t size, time_t t)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "%s", "");
}

void tito_progress_free(tito_progress *p)
{
    if (!p)
        return;
    free(p->course_id);
    free(p->modules);
    free(p->milestones);
    json_decref(p->doc);
    free(p);
}

static tt_status alloc_progress(tito_progress **out, const char *course_id, const char *origin)
{
    tito_progress *p = calloc(1, sizeof *p);
    if (p) {
        p->course_id = strdup(course_id);
        p->modules = calloc(tito_module_count, sizeof *p->modules);
    }
    if (!p || !p->course_id || !p->modules) {
        tito_progress_free(p);
        return tt_error_set(TT_ERR_NOMEM, "%s: out of memory", origin);
    }
    p->n_modules = tito_module_count;
    for (size_t i = 0; i < tito_module_count; i++)
        p->modules[i].module = &tito_modules[i];
    *out = p;
    return TT_OK;
}

tt_status tito_progress_new(tito_progress **out, const char *course_id)
{
    *out = NULL;
    return alloc_progress(out, course_id, "progress");
}

/* ---------------------------------------------------------------- reading */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static tt_status refuse(const char *origin, const char *field, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return tt_error_set(TT_ERR_FORMAT, "%s: %s: %s", origin, field, reason);
}

/* An optional string member of at most size-1 characters, copied into buf. */
static tt_status read_text(char *buf, size_t size, const char *origin, const json_t *obj,
                           const char *field, const char *key)
{
    json_t *v = json_object_get(obj, key);
    buf[0] = '\0';
    if (!v)
        return TT_OK;
    if (!json_is_string(v) || strlen(json_string_value(v)) >= size)
        return refuse(origin, field, "%s: expected a string of at most %zu characters", key, size - 1);
    snprintf(buf, size, "%s", json_string_value(v));
    return TT_OK;
}

static tt_status read_record(tito_grade_record *r, const char *origin, const json_t *mod,
                             const char *slug, const char *key)
{
    char field[96];
    snprintf(field, sizeof field, "modules.%s.%s", slug, key);
    json_t *v = json_object_get(mod, key);
    memset(r, 0, sizeof *r);
    if (!v || json_is_null(v))
        return TT_OK;
    if (!json_is_object(v))
        return refuse(origin, field, "expected an object {earned, possible, at, commit}");
    json_t *e = json_object_get(v, "earned"), *p = json_object_get(v, "possible");
    if (!json_is_integer(e) || !json_is_integer(p) || json_integer_value(e) < 0 ||
        json_integer_value(p) < 0 || json_integer_value(e) > 1000000 || json_integer_value(p) > 1000000)
        return refuse(origin, field, "earned and possible must be whole numbers from 0 to 1000000");
    r->earned = (int)json_integer_value(e);
    r->possible = (int)json_integer_value(p);
    tt_status st = read_text(r->at, sizeof r->at, origin, v, field, "at");
    if (st == TT_OK)
        st = read_text(r->commit, sizeof r->commit, origin, v, field, "commit");
    r->present = st == TT_OK;
    return st;
}

static tt_status read_module(tito_module_progress *mp, const char *origin, const json_t *mod)
{
    const char *slug = mp->module->slug;
    char field[96];
    snprintf(field, sizeof field, "modules.%s", slug);
    if (!json_is_object(mod))
        return refuse(origin, field, "expected an object");

    json_t *state = json_object_get(mod, "state");
    const char *s = json_is_string(state) ? json_string_value(state) : NULL;
    mp->state = TITO_STATE_NOT_STARTED;
    bool known = false;
    for (int k = TITO_STATE_NOT_STARTED; s && k <= TITO_STATE_COMPLETED && !known; k++)
        if (strcmp(s, tito_module_state_name((tito_module_state)k)) == 0) {
            mp->state = (tito_module_state)k;
            known = true;
        }
    if (!known) {
        snprintf(field, sizeof field, "modules.%s.state", slug);
        return refuse(origin, field, "expected \"not-started\", \"started\" or \"completed\"");
    }

    tt_status st;
    if ((st = read_text(mp->started_at, sizeof mp->started_at, origin, mod, field, "started_at")) != TT_OK ||
        (st = read_text(mp->completed_at, sizeof mp->completed_at, origin, mod, field, "completed_at")) != TT_OK ||
        (st = read_record(&mp->best, origin, mod, slug, "best")) != TT_OK ||
        (st = read_record(&mp->last, origin, mod, slug, "last")) != TT_OK)
        return st;
    json_t *resets = json_object_get(mod, "resets");
    if (resets) {
        if (!json_is_integer(resets) || json_integer_value(resets) < 0 ||
            json_integer_value(resets) > 1000000)
            return refuse(origin, field, "resets: expected a whole number");
        mp->resets = (unsigned)json_integer_value(resets);
    }
    return TT_OK;
}

/* The milestones section (progress.h): every entry is read, none is kept as unknown. */
static tt_status read_milestone_number(double *out, const char *origin, const json_t *obj,
                                       const char *field, const char *key)
{
    json_t *v = json_object_get(obj, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return TT_OK;
    if (!json_is_number(v))
        return refuse(origin, field, "%s: expected a number or null", key);
    *out = json_number_value(v);
    return TT_OK;
}

static tt_status read_milestone_record(tito_milestone_record *r, const char *origin,
                                       const json_t *entry, const char *slug, const char *key)
{
    char field[96];
    snprintf(field, sizeof field, "milestones.%s.%s", slug, key);
    memset(r, 0, sizeof *r);
    r->train_seconds = r->reference_train_seconds = r->time_ratio = NAN;
    json_t *v = json_object_get(entry, key);
    if (!v || json_is_null(v))
        return TT_OK;
    if (!json_is_object(v))
        return refuse(origin, field, "expected an object {at, commit, reached, metrics, ...}");
    json_t *reached = json_object_get(v, "reached");
    if (!json_is_boolean(reached))
        return refuse(origin, field, "reached: expected true or false");
    r->reached = json_is_true(reached);
    tt_status st;
    if ((st = read_text(r->at, sizeof r->at, origin, v, field, "at")) != TT_OK ||
        (st = read_text(r->commit, sizeof r->commit, origin, v, field, "commit")) != TT_OK ||
        (st = read_milestone_number(&r->train_seconds, origin, v, field, "train_seconds")) != TT_OK ||
        (st = read_milestone_number(&r->reference_train_seconds, origin, v, field,
                                    "reference_train_seconds")) != TT_OK ||
        (st = read_milestone_number(&r->time_ratio, origin, v, field, "time_ratio")) != TT_OK)
        return st;
    json_t *metrics = json_object_get(v, "metrics");
    if (metrics && !json_is_object(metrics))
        return refuse(origin, field, "metrics: expected an object of numbers");
    const char *name;
    json_t *value;
    json_object_foreach(metrics, name, value) {
        if (r->n_metrics == TITO_MILESTONE_MAX_METRICS || strlen(name) >= sizeof r->metrics[0].name)
            return refuse(origin, field, "metrics: at most %d, with names of at most %zu characters",
                          TITO_MILESTONE_MAX_METRICS, sizeof r->metrics[0].name - 1);
        if (!json_is_number(value) && !json_is_null(value))
            return refuse(origin, field, "metrics.%s: expected a number or null", name);
        tito_milestone_metric *m = &r->metrics[r->n_metrics++];
        snprintf(m->name, sizeof m->name, "%s", name);
        m->value = json_is_number(value) ? json_number_value(value) : NAN;
    }
    r->present = true;
    return TT_OK;
}

static tt_status read_milestones(tito_progress *p, const char *origin, const json_t *section)
{
    if (!section)
        return TT_OK;
    if (!json_is_object(section))
        return refuse(origin, "milestones", "expected an object keyed by milestone slug");
    size_t n = json_object_size(section);
    if (n == 0)
        return TT_OK;
    p->milestones = calloc(n, sizeof *p->milestones);
    if (!p->milestones)
        return tt_error_set(TT_ERR_NOMEM, "%s: out of memory", origin);
    const char *slug;
    json_t *entry;
    json_object_foreach((json_t *)section, slug, entry) {
        char field[96];
        snprintf(field, sizeof field, "milestones.%s", slug);
        tito_milestone_progress *mp = &p->milestones[p->n_milestones];
        if (strlen(slug) >= sizeof mp->slug || !*slug)
            return refuse(origin, field, "expected a milestone slug of 1 to %zu characters",
                          sizeof mp->slug - 1);
        if (!json_is_object(entry))
            return refuse(origin, field, "expected an object");
        snprintf(mp->slug, sizeof mp->slug, "%s", slug);
        json_t *number = json_object_get(entry, "number"), *runs = json_object_get(entry, "runs");
        if (!json_is_integer(number) || json_integer_value(number) < 1 ||
            json_integer_value(number) > 99)
            return refuse(origin, field, "number: expected the milestone's number (1 to 99)");
        mp->number = (int)json_integer_value(number);
        if (runs && (!json_is_integer(runs) || json_integer_value(runs) < 0 ||
                     json_integer_value(runs) > 1000000))
            return refuse(origin, field, "runs: expected a whole number");
        mp->runs = runs ? (unsigned)json_integer_value(runs) : 0;
        tt_status st;
        if ((st = read_text(mp->reached_at, sizeof mp->reached_at, origin, entry, field,
                            "reached_at")) != TT_OK ||
            (st = read_milestone_record(&mp->reached, origin, entry, slug, "reached")) != TT_OK ||
            (st = read_milestone_record(&mp->last, origin, entry, slug, "last")) != TT_OK)
            return st;
        p->n_milestones++;
    }
    return TT_OK;
}

tt_status tito_progress_parse(tito_progress **out, const char *text, size_t len, const char *origin)
{
    *out = NULL;
    tt_status st = TT_OK;
    tito_progress *p = NULL;
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return tt_error_set(TT_ERR_FORMAT, "%s: not valid JSON (line %d, column %d: %s)", origin,
                            err.line, err.column, err.text);
    if (!json_is_object(root)) {
        st = tt_error_set(TT_ERR_FORMAT, "%s: expected a JSON object at the top level", origin);
        goto cleanup;
    }
    json_t *schema = json_object_get(root, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), TITO_PROGRESS_SCHEMA) != 0) {
        st = refuse(origin, "schema", "expected \"%s\"%s", TITO_PROGRESS_SCHEMA,
                    json_is_string(schema) ? " (was it written by a newer tito?)" : "");
        goto cleanup;
    }
    json_t *course = json_object_get(root, "course");
    if (!json_is_string(course) || !*json_string_value(course)) {
        st = refuse(origin, "course", "expected the course id (a string)");
        goto cleanup;
    }
    TT_CHECK(alloc_progress(&p, json_string_value(course), origin));

    json_t *modules = json_object_get(root, "modules");
    if (modules && !json_is_object(modules)) {
        st = refuse(origin, "modules", "expected an object keyed by module slug");
        goto cleanup;
    }
    for (size_t i = 0; modules && i < p->n_modules; i++) {
        json_t *mod = json_object_get(modules, p->modules[i].module->slug);
        if (mod)
            TT_CHECK(read_module(&p->modules[i], origin, mod));
    }
    TT_CHECK(read_milestones(p, origin, json_object_get(root, "milestones")));
    p->doc = root;
    root = NULL;
    *out = p;
    p = NULL;
cleanup:
    json_decref(root);
    tito_progress_free(p);
    return st;
}

tt_status tito_progress_read(tito_progress **out, const char *path)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&text, &len, path);
    if (st != TT_OK)
        return st;
    st = tito_progress_parse(out, text, len, path);
    free(text);
    return st;
}

/* ---------------------------------------------------------------- writing */

/* Set obj[key] to the string s, or remove the key when s is empty. */
static int set_text(json_t *obj, const char *key, const char *s)
{
    if (!*s)
        return json_object_del(obj, key), 0;
    return json_object_set_new(obj, key, json_string(s));
}

static int set_record(json_t *obj, const char *key, const tito_grade_record *r)
{
    if (!r->present)
        return json_object_del(obj, key), 0;
    json_t *rec = json_pack("{s:i, s:i, s:s, s:s}", "earned", r->earned, "possible", r->possible, "at",
                            r->at, "commit", r->commit);
    return rec ? json_object_set_new(obj, key, rec) : -1;
}

/* The module's object: the one read (with any unknown fields), updated. */
static json_t *module_json(const tito_module_progress *mp, const json_t *old)
{
    json_t *mod = old && json_is_object(old) ? json_deep_copy(old) : json_object();
    if (!mod)
        return NULL;
    int rc = json_object_set_new(mod, "state", json_string(tito_module_state_name(mp->state)));
    rc |= set_text(mod, "started_at", mp->started_at);
    rc |= set_text(mod, "completed_at", mp->completed_at);
    rc |= set_record(mod, "best", &mp->best);
    rc |= set_record(mod, "last", &mp->last);
    if (mp->resets > 0)
        rc |= json_object_set_new(mod, "resets", json_integer(mp->resets));
    else
        json_object_del(mod, "resets");
    if (rc != 0) {
        json_decref(mod);
        return NULL;
    }
    return mod;
}

/* A number, or null for NaN (JSON has no NaN). */
static json_t *number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *milestone_record_json(const tito_milestone_record *r)
{
    json_t *metrics = json_object();
    json_t *rec = json_pack("{s:s, s:s, s:b}", "at", r->at, "commit", r->commit, "reached",
                            r->reached);
    if (!metrics || !rec)
        goto fail;
    for (size_t i = 0; i < r->n_metrics; i++)
        if (json_object_set_new(metrics, r->metrics[i].name, number_or_null(r->metrics[i].value)) != 0)
            goto fail;
    if (json_object_set_new(rec, "metrics", metrics) != 0) {
        metrics = NULL;
        goto fail;
    }
    metrics = NULL;
    if (json_object_set_new(rec, "train_seconds", number_or_null(r->train_seconds)) != 0 ||
        json_object_set_new(rec, "reference_train_seconds",
                            number_or_null(r->reference_train_seconds)) != 0 ||
        json_object_set_new(rec, "time_ratio", number_or_null(r->time_ratio)) != 0)
        goto fail;
    return rec;
fail:
    json_decref(metrics);
    json_decref(rec);
    return NULL;
}

/* The milestones section, each entry over the one read (keeping fields this tito does
 * not know). */
static json_t *milestones_json(const tito_progress *p)
{
    json_t *section = json_object();
    json_t *old_section = p->doc ? json_object_get(p->doc, "milestones") : NULL;
    for (size_t i = 0; section && i < p->n_milestones; i++) {
        const tito_milestone_progress *mp = &p->milestones[i];
        json_t *old = json_object_get(old_section, mp->slug);
        json_t *e = old && json_is_object(old) ? json_deep_copy(old) : json_object();
        int rc = e ? 0 : -1;
        if (e) {
            rc |= json_object_set_new(e, "number", json_integer(mp->number));
            rc |= json_object_set_new(e, "runs", json_integer(mp->runs));
            rc |= set_text(e, "reached_at", mp->reached_at);
            const tito_milestone_record *recs[] = {&mp->reached, &mp->last};
            const char *keys[] = {"reached", "last"};
            for (size_t k = 0; k < 2; k++) {
                if (!recs[k]->present) {
                    json_object_del(e, keys[k]);
                    continue;
                }
                json_t *rec = milestone_record_json(recs[k]);
                rc |= rec ? json_object_set_new(e, keys[k], rec) : -1;
            }
        }
        if (rc != 0 || json_object_set_new(section, mp->slug, e) != 0) {
            json_decref(section);
            return NULL;
        }
    }
    return section;
}

static json_t *progress_json(const tito_progress *p)
{
    json_t *root = json_pack("{s:s, s:s}", "schema", TITO_PROGRESS_SCHEMA, "course", p->course_id);
    json_t *modules = json_object();
    if (!root || !modules)
        goto fail;
    /* Schema and course first, then what this tito does not know (kept as it was),
     * then the modules in table order and any module it does not know. */
    const char *key;
    json_t *value;
    if (p->doc) {
        json_object_foreach(p->doc, key, value) {
            if (strcmp(key, "schema") != 0 && strcmp(key, "course") != 0 &&
                strcmp(key, "modules") != 0 && strcmp(key, "milestones") != 0 &&
                json_object_set(root, key, value) != 0)
                goto fail;
        }
    }
    json_t *old_modules = p->doc ? json_object_get(p->doc, "modules") : NULL;
    for (size_t i = 0; i < p->n_modules; i++) {
        const char *slug = p->modules[i].module->slug;
        json_t *mod = module_json(&p->modules[i], json_object_get(old_modules, slug));
        if (!mod || json_object_set_new(modules, slug, mod) != 0)
            goto fail;
    }
    if (json_is_object(old_modules)) {
        json_object_foreach(old_modules, key, value) {
            if (!json_object_get(modules, key) && json_object_set(modules, key, value) != 0)
                goto fail;
        }
    }
    if (json_object_set_new(root, "modules", modules) != 0) {
        modules = NULL;
        goto fail;
    }
    modules = NULL;
    if (p->n_milestones > 0) {
        json_t *milestones = milestones_json(p);
        if (!milestones || json_object_set_new(root, "milestones", milestones) != 0)
            goto fail;
    }
    return root;
fail:
    json_decref(modules);
    json_decref(root);
    return NULL;
}

tt_status tito_progress_render(char **out, size_t *len, const tito_progress *p)
{
    *out = NULL;
    json_t *root = progress_json(p);
    /* 15 digits: measured values (milestones) read as written, 0.975 not 0.97499999999999998. */
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(root);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "out of memory rendering the progress file");
    size_t n = strlen(text);
    char *with_newline = realloc(text, n + 2);
    if (!with_newline) {
        free(text);
        return tt_error_set(TT_ERR_NOMEM, "out of memory rendering the progress file");
    }
    with_newline[n] = '\n';
    with_newline[n + 1] = '\0';
    *out = with_newline;
    if (len)
        *len = n + 1;
    return TT_OK;
}

tt_status tito_progress_write(const tito_progress *p, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_progress_render(&text, &len, p);
    if (st == TT_OK)
        st = tito_file_write_atomic(path, text, len, 0644);
    free(text);
    return st;
}

/* ---------------------------------------------------------------- changes */

tito_module_progress *tito_progress_module(tito_progress *p, const tito_module *m)
{
    for (size_t i = 0; p && m && i < p->n_modules; i++)
        if (p->modules[i].module == m)
            return &p->modules[i];
    return NULL;
}

void tito_progress_mark_started(tito_progress *p, const tito_module *m, time_t now)
{
    tito_module_progress *mp = tito_progress_module(p, m);
    if (!mp)
        return;
    if (mp->state == TITO_STATE_NOT_STARTED)
        mp->state = TITO_STATE_STARTED;
    if (!mp->started_at[0])
        tito_time_format(mp->started_at, sizeof mp->started_at, now);
}

void tito_progress_mark_reset(tito_progress *p, const tito_module *m, time_t now)
{
    tito_module_progress *mp = tito_progress_module(p, m);
    if (!mp)
        return;
    tito_progress_mark_started(p, m, now);
    mp->resets++;
}

/* a/b > c/d for non-negative counts, without floating point. */
static bool better(const tito_grade_record *a, const tito_grade_record *b)
{
    if (!b->present)
        return true;
    long long lhs = (long long)a->earned * (b->possible > 0 ? b->possible : 1);
    long long rhs = (long long)b->earned * (a->possible > 0 ? a->possible : 1);
    return lhs > rhs;
}

void tito_progress_record_grade(tito_progress *p, const tito_course_module *cm, int earned,
                                int possible, const char *commit, time_t when,
                                bool *newly_completed)
{
    if (newly_completed)
        *newly_completed = false;
    tito_module_progress *mp = tito_progress_module(p, cm->module);
    if (!mp)
        return;
    tito_grade_record r;
    memset(&r, 0, sizeof r);
    r.present = true;
    r.earned = earned;
    r.possible = possible;
    tito_time_format(r.at, sizeof r.at, when);
    snprintf(r.commit, sizeof r.commit, "%s", commit ? commit : "");
    mp->last = r;
    if (better(&r, &mp->best))
        mp->best = r;
    tito_progress_mark_started(p, cm->module, when);
    if (mp->state != TITO_STATE_COMPLETED && tito_course_passes(cm, earned, possible)) {
        mp->state = TITO_STATE_COMPLETED;
        snprintf(mp->completed_at, sizeof mp->completed_at, "%s", r.at);
        if (newly_completed)
            *newly_completed = true;
    }
}

bool tito_progress_unlocked(const tito_progress *p, const tito_course *course, const tito_module *m,
                            const tito_module **blocker)
{
    if (blocker)
        *blocker = NULL;
    if (!course->unlock_in_order || m == &tito_modules[0])
        return true;
    const tito_module_progress *self = NULL, *prev = NULL;
    for (size_t i = 0; i < p->n_modules; i++) {
        if (p->modules[i].module == m) {
            self = &p->modules[i];
            prev = i > 0 ? &p->modules[i - 1] : NULL;
        }
    }
    if (!self || self->state != TITO_STATE_NOT_STARTED || !prev ||
        prev->state == TITO_STATE_COMPLETED)
        return true;
    if (blocker)
        *blocker = prev->module;
    return false;
}

/* ---------------------------------------------------------------- milestones */

tito_milestone_progress *tito_progress_milestone(tito_progress *p, const char *slug)
{
    for (size_t i = 0; p && slug && i < p->n_milestones; i++)
        if (strcmp(p->milestones[i].slug, slug) == 0)
            return &p->milestones[i];
    return NULL;
}

tt_status tito_progress_record_milestone(tito_progress *p, int number, const char *slug,
                                         const tito_milestone_record *run, bool *newly_reached)
{
    if (newly_reached)
        *newly_reached = false;
    if (!slug || !*slug || strlen(slug) >= sizeof p->milestones[0].slug ||
        run->n_metrics > TITO_MILESTONE_MAX_METRICS)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_progress_record_milestone: a slug of 1 to %zu characters and "
                            "at most %d metrics expected",
                            sizeof p->milestones[0].slug - 1, TITO_MILESTONE_MAX_METRICS);
    tito_milestone_progress *mp = tito_progress_milestone(p, slug);
    if (!mp) {
        tito_milestone_progress *grown =
            realloc(p->milestones, (p->n_milestones + 1) * sizeof *p->milestones);
        if (!grown)
            return tt_error_set(TT_ERR_NOMEM, "out of memory recording milestone %s", slug);
        p->milestones = grown;
        mp = &p->milestones[p->n_milestones++];
        memset(mp, 0, sizeof *mp);
        snprintf(mp->slug, sizeof mp->slug, "%s", slug);
    }
    mp->number = number;
    mp->runs++;
    mp->last = *run;
    mp->last.present = true;
    if (run->reached) {
        mp->reached = mp->last;
        if (!mp->reached_at[0]) {
            snprintf(mp->reached_at, sizeof mp->reached_at, "%s", run->at);
            if (newly_reached)
                *newly_reached = true;
        }
    }
    return TT_OK;
}
