/*
 * Verifying claims (verify.h): claims read from a ranking or a file, matched to the
 * roster, regraded through the batch machinery (same sources, same receipts, same pool),
 * compared, and the verified ones signed with the course key and sent.
 */
#define _POSIX_C_SOURCE 200809L

#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "progress.h"
#include "receipt.h"
#include "score.h"
#include "submit.h"

const char *tito_claim_outcome_name(tito_claim_outcome outcome)
{
    switch (outcome) {
    case TITO_CLAIM_UNCHECKED: return "unchecked";
    case TITO_CLAIM_VERIFIED: return "verified";
    case TITO_CLAIM_MISMATCH: return "mismatch";
    case TITO_CLAIM_UNKNOWN_STUDENT: return "unknown-student";
    case TITO_CLAIM_NOT_CHECKABLE: return "not-checkable";
    case TITO_CLAIM_ERROR: return "error";
    }
    return "unknown";
}

void tito_claims_release(tito_claims *claims)
{
    for (size_t i = 0; i < claims->n; i++) {
        free(claims->v[i].key_id);
        free(claims->v[i].student);
        free(claims->v[i].message);
        free(claims->v[i].post_message);
    }
    free(claims->v);
    claims->v = NULL;
    claims->n = 0;
}

static bool is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static tt_status push_claim(tito_claims *out, const char *key_id, const char *student,
                            const tito_module *m, const char *commit, int earned, int possible)
{
    tito_claim *v = realloc(out->v, (out->n + 1) * sizeof *v);
    if (!v)
        return tt_error_set(TT_ERR_NOMEM, "claims: out of memory");
    out->v = v;
    tito_claim *c = &out->v[out->n++];
    memset(c, 0, sizeof *c);
    c->key_id = strdup(key_id ? key_id : "");
    c->student = strdup(student ? student : "");
    c->module = m;
    snprintf(c->commit, sizeof c->commit, "%s", commit);
    c->earned = earned;
    c->possible = possible;
    if (!c->key_id || !c->student)
        return tt_error_set(TT_ERR_NOMEM, "claims: out of memory");
    return TT_OK;
}

static tt_status push_milestone_claim(tito_claims *out, const char *key_id, const char *student,
                                      const tito_milestone *m, const char *commit, bool reached)
{
    tt_status st = push_claim(out, key_id, student, NULL, commit, 0, 0);
    if (st == TT_OK) {
        out->v[out->n - 1].milestone = m;
        out->v[out->n - 1].reached = reached;
    }
    return st;
}

/* The milestone of a slug, or NULL. */
static const tito_milestone *milestone_of(const char *slug)
{
    for (size_t i = 0; slug && i < tito_milestone_count(); i++)
        if (strcmp(tito_milestone_at(i)->slug, slug) == 0)
            return tito_milestone_at(i);
    return NULL;
}

/* The module of a slug exactly as the table spells it, or NULL. */
static const tito_module *module_of(const char *slug)
{
    const tito_module *m = slug ? tito_module_find(slug) : NULL;
    return m && strcmp(m->slug, slug) == 0 ? m : NULL;
}

tt_status tito_claims_from_ranking(tito_claims *out, const json_t *ranking)
{
    memset(out, 0, sizeof *out);
    json_t *students = json_object_get(ranking, "students");
    if (!json_is_array(students))
        return tt_error_set(TT_ERR_FORMAT, "ranking: students: expected an array");
    for (size_t i = 0; i < json_array_size(students); i++) {
        json_t *s = json_array_get(students, i);
        const char *key = json_string_value(json_object_get(s, "key_id"));
        json_t *mods = json_object_get(s, "modules");
        json_t *milestones = json_object_get(s, "milestones");
        if (!key || !json_is_object(mods))
            continue;
        const char *slug;
        json_t *e;
        json_object_foreach(mods, slug, e) {
            const char *status = json_string_value(json_object_get(e, "status"));
            const char *commit = json_string_value(json_object_get(e, "commit"));
            const tito_module *m = module_of(slug);
            json_t *earned = json_object_get(e, "earned"), *possible = json_object_get(e, "possible");
            if (!m || !status || strcmp(status, "self-reported") != 0 || !commit ||
                !is_hex(commit, 40) || !json_is_integer(earned) || !json_is_integer(possible))
                continue;
            tt_status st = push_claim(out, key, NULL, m, commit, (int)json_integer_value(earned),
                                      (int)json_integer_value(possible));
            if (st != TT_OK) {
                tito_claims_release(out);
                return st;
            }
        }
        json_object_foreach(milestones, slug, e) {
            const char *status = json_string_value(json_object_get(e, "status"));
            const char *commit = json_string_value(json_object_get(e, "commit"));
            const tito_milestone *m = milestone_of(slug);
            json_t *reached = json_object_get(e, "reached");
            if (!m || !status || strcmp(status, "self-reported") != 0 || !commit ||
                !is_hex(commit, 40) || !json_is_boolean(reached))
                continue;
            tt_status st = push_milestone_claim(out, key, NULL, m, commit, json_is_true(reached));
            if (st != TT_OK) {
                tito_claims_release(out);
                return st;
            }
        }
    }
    return TT_OK;
}

tt_status tito_claims_read(tito_claims *out, const char *path)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&text, &len, path);
    if (st != TT_OK)
        return st;
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!root)
        return tt_error_set(TT_ERR_FORMAT, "claims %s:%d: not valid JSON: %s", path, err.line, err.text);
    json_t *schema = json_object_get(root, "schema"), *list = json_object_get(root, "claims");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), TITO_CLAIMS_SCHEMA) != 0) {
        st = tt_error_set(TT_ERR_FORMAT, "claims %s: schema: expected \"%s\"", path, TITO_CLAIMS_SCHEMA);
        goto cleanup;
    }
    if (!json_is_array(list)) {
        st = tt_error_set(TT_ERR_FORMAT, "claims %s: claims: expected an array", path);
        goto cleanup;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        const char *student = NULL, *key = NULL, *slug = NULL, *commit = NULL;
        json_int_t earned = 0, possible = 0;
        json_error_t e;
        if (json_object_get(c, "milestone")) {
            int reached = 0;
            if (json_unpack_ex(c, &e, JSON_STRICT, "{s?s, s?s, s:s, s:s, s:b}", "student", &student,
                               "key_id", &key, "milestone", &slug, "commit", &commit, "reached",
                               &reached) != 0) {
                st = tt_error_set(TT_ERR_FORMAT, "claims %s: claims[%zu]: %s", path, i, e.text);
                goto cleanup;
            }
            const tito_milestone *m = milestone_of(slug);
            const char *bad = !student && !key ? "a student or a key_id is required"
                            : key && !is_hex(key, 64) ? "key_id: expected 64 lower-case hex digits"
                            : !m ? "milestone: not a milestone slug of this tito"
                            : !is_hex(commit, 40) ? "commit: expected 40 lower-case hex digits"
                                                  : NULL;
            if (bad) {
                st = tt_error_set(TT_ERR_FORMAT, "claims %s: claims[%zu]: %s", path, i, bad);
                goto cleanup;
            }
            if ((st = push_milestone_claim(out, key, student, m, commit, reached)) != TT_OK)
                goto cleanup;
            continue;
        }
        if (json_unpack_ex(c, &e, JSON_STRICT, "{s?s, s?s, s:s, s:s, s:I, s:I}", "student", &student,
                           "key_id", &key, "module", &slug, "commit", &commit, "earned", &earned,
                           "possible", &possible) != 0) {
            st = tt_error_set(TT_ERR_FORMAT, "claims %s: claims[%zu]: %s", path, i, e.text);
            goto cleanup;
        }
        const tito_module *m = module_of(slug);
        const char *bad = !student && !key ? "a student or a key_id is required"
                        : key && !is_hex(key, 64) ? "key_id: expected 64 lower-case hex digits"
                        : !m ? "module: not a module slug of this tito"
                        : !is_hex(commit, 40) ? "commit: expected 40 lower-case hex digits"
                        : earned < 0 || possible <= 0 || earned > possible
                            ? "earned and possible: expected 0 <= earned <= possible, possible > 0"
                            : NULL;
        if (bad) {
            st = tt_error_set(TT_ERR_FORMAT, "claims %s: claims[%zu]: %s", path, i, bad);
            goto cleanup;
        }
        if ((st = push_claim(out, key, student, m, commit, (int)earned, (int)possible)) != TT_OK)
            goto cleanup;
    }
cleanup:
    json_decref(root);
    if (st != TT_OK)
        tito_claims_release(out);
    return st;
}

/* ---------------------------------------------------------------- checking */

static const tito_roster_student *match_student(const tito_roster *roster, const tito_claim *c)
{
    for (size_t i = 0; i < roster->n_students; i++) {
        const tito_roster_student *s = &roster->students[i];
        if (*c->key_id && *s->key_id && strcmp(c->key_id, s->key_id) == 0)
            return s;
        if (*c->student && strcmp(c->student, s->id) == 0)
            return s;
    }
    return NULL;
}

static tt_status set_message(tito_claim *c, tito_claim_outcome outcome, const char *text)
{
    c->outcome = outcome;
    free(c->message);
    c->message = strdup(text ? text : "");
    return c->message ? TT_OK : tt_error_set(TT_ERR_NOMEM, "claims: out of memory");
}

tt_status tito_verify_run(tito_claims *claims, tito_batch_stats *stats, const tito_roster *roster,
                          const tito_course *course, const tito_kit *kit,
                          const tito_verify_options *options)
{
    tito_batch_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!options || !options->out_dir)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_verify_run: out_dir is required");
    tt_status st = tito_mkdirs(options->out_dir);
    if (st != TT_OK)
        return st;
    tito_batch_jobs jobs = {0};
    char **receipts = calloc(claims->n ? claims->n : 1, sizeof *receipts);
    /* Which roster students were fetched in this run: each once. */
    bool *fetched = calloc(roster->n_students ? roster->n_students : 1, sizeof *fetched);
    if (!receipts || !fetched) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_verify_run: out of memory");
        goto cleanup;
    }
    size_t cap = 0;
    for (size_t i = 0; i < claims->n; i++) {
        tito_claim *c = &claims->v[i];
        const tito_roster_student *who = match_student(roster, c);
        if (!who) {
            TT_CHECK(set_message(c, TITO_CLAIM_UNKNOWN_STUDENT,
                                 *c->key_id ? "no student of the roster has this key id (the "
                                              "roster's key_id column)"
                                            : "no student of the roster has this id"));
            continue;
        }
        free(c->student);
        if (!(c->student = strdup(who->id))) {
            st = tt_error_set(TT_ERR_NOMEM, "tito_verify_run: out of memory");
            goto cleanup;
        }
        size_t wi = (size_t)(who - roster->students);
        if (c->milestone) {
            TT_CHECK(tito_verify_milestone(c, who, course, kit, options,
                                           !options->no_fetch && !fetched[wi]));
            fetched[wi] = true;
            continue;
        }
        if (!tito_kit_has_suite(kit, c->module)) {
            TT_CHECK(set_message(c, TITO_CLAIM_NOT_CHECKABLE, "this kit has no checks for the module"));
            continue;
        }
        char *source = NULL, *why = NULL;
        st = tito_batch_source_at(&source, &why, options->out_dir, who,
                                  !options->no_fetch && !fetched[wi], c->module, c->commit);
        fetched[wi] = true;
        if (st != TT_OK)
            goto cleanup;
        if (why) {
            st = set_message(c, TITO_CLAIM_NOT_CHECKABLE, why);
            free(why);
            if (st != TT_OK)
                goto cleanup;
            continue;
        }
        st = tito_batch_receipt_path(&receipts[i], options->out_dir, kit, who->id, c->module,
                                     c->commit);
        if (st == TT_OK && !tito_path_exists(receipts[i])) {
            /* One job per (student, module, commit), however many claims share it. */
            bool queued = false;
            for (size_t j = 0; j < jobs.n && !queued; j++)
                queued = strcmp(jobs.jobs[j].receipt, receipts[i]) == 0;
            if (!queued) {
                tito_batch_job *grown = cap == jobs.n ? realloc(jobs.jobs, (cap = cap ? cap * 2 : 8) *
                                                                                sizeof *grown)
                                                      : jobs.jobs;
                if (!grown) {
                    free(source);
                    st = tt_error_set(TT_ERR_NOMEM, "tito_verify_run: out of memory");
                    goto cleanup;
                }
                jobs.jobs = grown;
                tito_batch_job *j = &jobs.jobs[jobs.n++];
                memset(j, 0, sizeof *j);
                j->module = c->module;
                snprintf(j->commit, sizeof j->commit, "%s", c->commit);
                j->student = strdup(who->id);
                j->source = source;
                j->receipt = strdup(receipts[i]);
                source = NULL;
                if (!j->student || !j->receipt) {
                    st = tt_error_set(TT_ERR_NOMEM, "tito_verify_run: out of memory");
                    goto cleanup;
                }
            }
        }
        free(source);
        if (st != TT_OK)
            goto cleanup;
    }

    if (jobs.n > 0) {
        tito_batch_pool pool = {.kit = kit, .course = course, .tito_version = options->tito_version,
                                .workers = options->workers, .on_progress = options->on_progress,
                                .ctx = options->ctx, .stop = options->stop};
        TT_CHECK(tito_batch_run_local(stats, &jobs, &pool));
    }

    /* Compare, from the receipts (rescored with the course, as the gradebook does). */
    for (size_t i = 0; i < claims->n; i++) {
        tito_claim *c = &claims->v[i];
        if (c->outcome != TITO_CLAIM_UNCHECKED || !receipts[i])
            continue;
        tito_receipt *r = NULL;
        tt_status rs = tito_receipt_read(&r, receipts[i]);
        if (rs == TT_ERR_NOMEM) {
            st = rs;
            goto cleanup;
        }
        if (rs != TT_OK) {
            char msg[600];
            char *error_text = NULL;
            char error_path[4200];
            snprintf(error_path, sizeof error_path, "%s.error", receipts[i]);
            if (tito_file_read(&error_text, NULL, error_path) == TT_OK) {
                error_text[strcspn(error_text, "\n")] = '\0';
                snprintf(msg, sizeof msg, "could not be graded: %s", error_text);
            } else {
                snprintf(msg, sizeof msg, "could not be graded%s", stats->interrupted ? " (interrupted)" : "");
            }
            free(error_text);
            TT_CHECK(set_message(c, TITO_CLAIM_ERROR, msg));
            continue;
        }
        tito_score_rules rules;
        tito_score_rules_from_course(&rules, tito_course_module_of(course, c->module));
        rs = tito_score_apply(r->grade, &rules);
        if (rs != TT_OK) {
            tito_receipt_free(r);
            st = rs;
            goto cleanup;
        }
        c->regraded_earned = r->grade->earned;
        c->regraded_possible = r->grade->possible;
        tito_receipt_free(r);
        int diff = c->regraded_earned - c->earned;
        if (c->regraded_possible == c->possible && diff <= options->tolerance && -diff <= options->tolerance) {
            c->outcome = TITO_CLAIM_VERIFIED;
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "claimed %d/%d, regraded %d/%d", c->earned, c->possible,
                     c->regraded_earned, c->regraded_possible);
            TT_CHECK(set_message(c, TITO_CLAIM_MISMATCH, msg));
        }
    }
cleanup:
    for (size_t i = 0; receipts && i < claims->n; i++)
        free(receipts[i]);
    free(receipts);
    free(fetched);
    tito_batch_jobs_release(&jobs);
    return st;
}

/* ---------------------------------------------------------------- the course key */

tt_status tito_course_key_load(tito_keypair *out, char *course, size_t course_size, const char *path)
{
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return tt_error_set(tito_path_exists(path) ? TT_ERR_FORMAT : TT_ERR_IO,
                            "course key %s: %s", path, err.text);
    const char *schema = NULL, *c = NULL, *key_id = NULL, *pub = NULL, *seed = NULL;
    unsigned char *raw_seed = NULL, *raw_pub = NULL;
    size_t seed_len = 0, pub_len = 0;
    tt_status st = TT_OK;
    if (json_unpack(root, "{s:s, s:s, s:s, s:s, s:s}", "schema", &schema, "course", &c, "key_id",
                    &key_id, "public_key", &pub, "seed", &seed) != 0 ||
        strcmp(schema, TITO_COURSE_KEY_SCHEMA) != 0) {
        st = tt_error_set(TT_ERR_FORMAT,
                          "course key %s: not a %s file (the file `tito-leaderboard course key "
                          "--generate FILE` writes)",
                          path, TITO_COURSE_KEY_SCHEMA);
        goto cleanup;
    }
    if (tito_base64_decode(&raw_seed, &seed_len, seed, strlen(seed)) != TT_OK || seed_len != 32 ||
        tito_base64_decode(&raw_pub, &pub_len, pub, strlen(pub)) != TT_OK ||
        pub_len != TITO_PUBLIC_KEY_BYTES) {
        st = tt_error_set(TT_ERR_FORMAT, "course key %s: seed and public_key must be base64 of 32 bytes",
                          path);
        goto cleanup;
    }
    TT_CHECK(tito_keypair_from_seed(out, raw_seed));
    if (memcmp(out->public_key, raw_pub, TITO_PUBLIC_KEY_BYTES) != 0) {
        tito_keypair_wipe(out);
        st = tt_error_set(TT_ERR_FORMAT, "course key %s: the seed does not give the public key", path);
        goto cleanup;
    }
    snprintf(course, course_size, "%s", c);
cleanup:
    if (raw_seed) {
        memset(raw_seed, 0, seed_len);
        free(raw_seed);
    }
    free(raw_pub);
    json_decref(root);
    return st;
}

/* ---------------------------------------------------------------- publishing */

tt_status tito_verification_payload(char **out, const tito_claim *claim, const char *course_id,
                                    time_t now)
{
    *out = NULL;
    if (claim->outcome != TITO_CLAIM_VERIFIED || !*claim->key_id)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_verification_payload: only a verified claim with a key id");
    char id[33], when[32];
    tt_status st = tito_random_hex(id, 16);
    if (st != TT_OK)
        return st;
    tito_time_format(when, sizeof when, now);
    /* Within the tolerance the claimed score stands: the leaderboard marks a
     * verification whose score differs from the submission's as disputed. */
    json_t *p = claim->milestone
                    ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "schema",
                                TITO_VERIFICATION_SCHEMA, "id", id, "created_at", when, "course",
                                course_id, "student", claim->key_id, "kind", "milestone",
                                "subject", claim->milestone->slug, "commit", claim->commit,
                                "reached", claim->reached)
                    : json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i}}", "schema",
                                TITO_VERIFICATION_SCHEMA, "id", id, "created_at", when, "course",
                                course_id, "student", claim->key_id, "subject", claim->module->slug,
                                "commit", claim->commit, "score", "earned", claim->earned,
                                "possible", claim->possible);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "tito_verification_payload: out of memory");
    *out = text;
    return TT_OK;
}

tt_status tito_verify_publish(tito_claims *claims, const char *url, const char *course_id,
                              const tito_keypair *key, time_t now)
{
    char endpoint[2048];
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        ul--;
    snprintf(endpoint, sizeof endpoint, "%.*s/api/v1/verifications", (int)ul, url);
    for (size_t i = 0; i < claims->n; i++) {
        tito_claim *c = &claims->v[i];
        if (c->outcome != TITO_CLAIM_VERIFIED || !*c->key_id)
            continue;
        char *payload = NULL, *envelope = NULL;
        size_t len = 0;
        tt_status st = tito_verification_payload(&payload, c, course_id, now);
        if (st == TT_OK)
            st = tito_dsse_sign(&envelope, &len, TITO_DSSE_VERIFICATION_TYPE, payload,
                                strlen(payload), key);
        free(payload);
        if (st != TT_OK)
            return st;
        tito_http_response r;
        st = tito_http_request(&r, endpoint, envelope, len);
        free(envelope);
        if (st != TT_OK)
            return st;
        char msg[600] = "";
        if (r.status == 201 || r.status == 409) {
            c->posted = true;
        } else if (r.status == 0) {
            snprintf(msg, sizeof msg, "no answer from %s: %s", url, r.error);
        } else {
            json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
            const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
            snprintf(msg, sizeof msg, "the leaderboard refused it (HTTP %ld): %s", r.status,
                     m ? m : (r.body ? r.body : ""));
            json_decref(j);
        }
        tito_http_response_release(&r);
        if (!c->posted) {
            free(c->post_message);
            if (!(c->post_message = strdup(msg)))
                return tt_error_set(TT_ERR_NOMEM, "tito_verify_publish: out of memory");
        }
    }
    return TT_OK;
}
