/*
 * Batch grading (batch.h): fetching the class's repositories, choosing each module's
 * commit, the job list that both engines share, grading one job, and the two engines
 * (a local pool of processes, a Slurm array job).
 *
 * Invariants: a receipt in OUT/receipts is complete or absent (atomic writes), and its
 * path names everything its content depends on (student, module, commit, kit key), so
 * "the receipt exists" is the whole of the resume logic; each job runs in its own
 * process, whose working directories the pool removes whatever became of it.
 */
#define _XOPEN_SOURCE 700

#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "fetch.h"
#include "fsutil.h"
#include "interrupt.h"
#include "late.h"
#include "phases.h"
#include "receipt.h"
#include "workspace.h"

#define PATH_SIZE 4096

/* ---------------------------------------------------------------- helpers */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static char *format(const char *fmt, ...)
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

/* snprintf for paths: false when the result did not fit (then nothing should use it). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool pathf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}

static tt_status too_long(const char *what)
{
    return tt_error_set(TT_ERR_IO, "%s: path too long", what);
}

const char *tito_submission_state_name(tito_submission_state state)
{
    switch (state) {
    case TITO_SUBMISSION_COMMIT: return "commit";
    case TITO_SUBMISSION_MISSING: return "missing";
    case TITO_SUBMISSION_NO_REPO: return "no-repository";
    }
    return "unknown";
}

size_t tito_batch_default_modules(const tito_module **out, const tito_kit *kit,
                                  const tito_course *course)
{
    size_t n = 0;
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        const tito_course_module *cm = tito_course_module_of(course, m);
        if (cm && cm->weight > 0 && tito_kit_has_suite(kit, m))
            out[n++] = m;
    }
    return n;
}

static char *git_message(const char *what)
{
    const git_error *e = git_error_last();
    return format("%s: %s", what, e && e->message ? e->message : "unknown git error");
}

/* Make or update OUT/repos/<id>.git; *repo_out gets it open. Failures are the
 * student's: they go to s->fetch_error, and *repo_out stays NULL when there is no
 * usable copy at all. */
static tt_status fetch_student(git_repository **repo_out, tito_batch_student *s, const char *out_dir,
                               bool no_fetch, double timeout)
{
    *repo_out = NULL;
    char dest[PATH_SIZE], tmp[PATH_SIZE + 16];
    if (!pathf(dest, sizeof dest, "%s/repos/%s.git", out_dir, s->who->id) ||
        !pathf(tmp, sizeof tmp, "%s.new", dest))
        return too_long(out_dir);
    git_repository *repo = NULL;
    if (tito_path_exists(dest) && git_repository_open_bare(&repo, dest) == 0) {
        if (!no_fetch) {
            /* The fetch runs in another process: open the repository again after it. */
            git_repository_free(repo);
            repo = NULL;
            char *err = tito_fetch_origin(dest, s->who->location, timeout);
            if (git_repository_open_bare(&repo, dest) < 0) {
                free(err);
                s->fetch_error = git_message("cannot open the repository fetched before");
                return s->fetch_error ? TT_OK
                                      : tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
            }
            if (err) {
                s->fetch_error = format("could not update the repository (graded from the copy "
                                        "fetched before): %s",
                                        err);
                free(err);
            }
        }
        s->fetched = true;
        *repo_out = repo;
        return TT_OK;
    }
    if (!s->who->is_url && !tito_path_exists(s->who->location)) {
        s->fetch_error = format("no repository at %s (the roster's repo for %s)", s->who->location,
                                s->who->id);
        return s->fetch_error ? TT_OK : tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
    }
    /* A first fetch goes to a side folder, renamed into place only when complete. */
    tito_remove_tree(tmp);
    git_remote *remote = NULL;
    if (git_repository_init(&repo, tmp, 1) < 0 ||
        git_remote_create_with_fetchspec(&remote, repo, "origin", s->who->location,
                                         "+refs/heads/*:refs/remotes/origin/*") < 0) {
        char *err = git_message("cannot make a repository in OUT/repos");
        git_repository_free(repo);
        tt_status st = tt_error_set(TT_ERR_IO, "%s", err ? err : "out of memory");
        free(err);
        return st;
    }
    git_remote_free(remote);
    git_repository_free(repo);
    repo = NULL;
    char *err = tito_fetch_origin(tmp, s->who->location, timeout);
    if (err) {
        s->fetch_error = err;
        tito_remove_tree(tmp);
        return s->fetch_error ? TT_OK : tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
    }
    tito_remove_tree(dest);
    if (rename(tmp, dest) != 0)
        return tt_error_set(TT_ERR_IO, "tito_batch_prepare: cannot rename %s to %s: %s", tmp, dest,
                            strerror(errno));
    if (git_repository_open_bare(&repo, dest) < 0) {
        s->fetch_error = git_message("cannot open the fetched repository");
        return TT_OK;
    }
    s->fetched = true;
    *repo_out = repo;
    return TT_OK;
}

/* The commit graded from: the roster's branch, else the remote's default branch. */
static char *find_tip(git_oid *tip, git_repository *repo, const char *branch)
{
    char ref[512];
    if (branch && *branch)
        snprintf(ref, sizeof ref, "refs/remotes/origin/%s", branch);
    else
        snprintf(ref, sizeof ref, "refs/remotes/origin/HEAD");
    if (git_reference_name_to_id(tip, repo, ref) == 0)
        return NULL;
    if (branch && *branch)
        return format("the repository has no branch \"%s\"", branch);
    /* No default branch announced: a repository with exactly one branch has it. */
    git_reference_iterator *it = NULL;
    git_reference *r = NULL;
    int found = 0;
    if (git_reference_iterator_glob_new(&it, repo, "refs/remotes/origin/*") == 0) {
        while (git_reference_next(&r, it) == 0) {
            if (git_reference_type(r) == GIT_REFERENCE_DIRECT && found++ == 0)
                git_oid_cpy(tip, git_reference_target(r));
            git_reference_free(r);
        }
        git_reference_iterator_free(it);
    }
    if (found == 1)
        return NULL;
    return format(found == 0 ? "the repository has no commits"
                             : "the repository does not say which of its branches is the default: "
                               "name one in the roster's branch column");
}

/* ---------------------------------------------------------------- choosing commits */

typedef struct history {
    git_oid *ids;
    long long *times;
    git_oid *blobs;  /* [commit * tito_module_count + module]; zero: no such file */
    bool *changes;   /* same indexing */
    size_t n, cap;
} history;

static void history_release(history *h)
{
    free(h->ids);
    free(h->times);
    free(h->blobs);
    free(h->changes);
}

static bool blob_at(git_oid *out, git_tree *tree, const char *path)
{
    git_tree_entry *e = NULL;
    memset(out, 0, sizeof *out);
    if (!tree || git_tree_entry_bypath(&e, tree, path) < 0)
        return false;
    bool blob = git_tree_entry_type(e) == GIT_OBJECT_BLOB;
    if (blob)
        git_oid_cpy(out, git_tree_entry_id(e));
    git_tree_entry_free(e);
    return blob;
}

/* Every commit reachable from `tip`, newest first, with each module source's blob. */
static tt_status walk_history(history *h, git_repository *repo, const git_oid *tip)
{
    size_t nm = tito_module_count;
    git_revwalk *walk = NULL;
    tt_status st = TT_OK;
    tito_module_files *files = calloc(nm, sizeof *files);
    if (!files)
        return tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
    for (size_t k = 0; k < nm; k++)
        tito_module_files_of(&files[k], &tito_modules[k]);
    if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
        git_revwalk_push(walk, tip) < 0) {
        char *m = git_message("cannot walk the history");
        st = tt_error_set(TT_ERR_IO, "%s", m ? m : "cannot walk the history");
        free(m);
        goto done;
    }
    git_oid id;
    while (git_revwalk_next(&id, walk) == 0) {
        if (h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 64;
            git_oid *ids = realloc(h->ids, cap * sizeof *ids);
            if (ids)
                h->ids = ids;
            long long *times = realloc(h->times, cap * sizeof *times);
            if (times)
                h->times = times;
            git_oid *blobs = realloc(h->blobs, cap * nm * sizeof *blobs);
            if (blobs)
                h->blobs = blobs;
            bool *changes = realloc(h->changes, cap * nm * sizeof *changes);
            if (changes)
                h->changes = changes;
            if (!ids || !times || !blobs || !changes) {
                st = tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
                goto done;
            }
            h->cap = cap;
        }
        git_commit *c = NULL, *parent = NULL;
        git_tree *tree = NULL, *ptree = NULL;
        if (git_commit_lookup(&c, repo, &id) < 0 || git_commit_tree(&tree, c) < 0) {
            git_commit_free(c);
            char *m = git_message("cannot read a commit");
            st = tt_error_set(TT_ERR_IO, "%s", m ? m : "cannot read a commit");
            free(m);
            goto done;
        }
        if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0)
            git_commit_tree(&ptree, parent);
        size_t i = h->n++;
        git_oid_cpy(&h->ids[i], &id);
        h->times[i] = (long long)git_commit_time(c);
        for (size_t k = 0; k < nm; k++) {
            git_oid now, before;
            bool here = blob_at(&now, tree, files[k].source);
            bool there = blob_at(&before, ptree, files[k].source);
            h->blobs[i * nm + k] = now;
            h->changes[i * nm + k] = here != there || (here && !git_oid_equal(&now, &before));
        }
        git_tree_free(ptree);
        git_commit_free(parent);
        git_tree_free(tree);
        git_commit_free(c);
    }
done:
    free(files);
    git_revwalk_free(walk);
    return st;
}

/* Choose each module's commit for student s from its history (late.h), then charge
 * grace and penalties over all the course's modules. */
static tt_status choose_commits(tito_batch_student *s, const history *h, const tito_course *course)
{
    size_t nm = tito_module_count;
    tito_late_commit *lc = malloc((h->n ? h->n : 1) * sizeof *lc);
    tito_late_entry *entries = calloc(nm, sizeof *entries);
    if (!lc || !entries) {
        free(lc);
        free(entries);
        return tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
    }
    for (size_t k = 0; k < nm; k++) {
        tito_batch_item *it = &s->items[k];
        for (size_t i = 0; i < h->n; i++) {
            lc[i].time = h->times[i];
            lc[i].changes = h->changes[i * nm + k];
        }
        tito_late_choice ch;
        tito_late_choose(&ch, lc, h->n, it->has_deadline, it->deadline, course->late.max_late_days);
        git_oid zero;
        memset(&zero, 0, sizeof zero);
        if (!ch.found || git_oid_equal(&h->blobs[ch.index * nm + k], &zero)) {
            /* Never committed by the cutoff, or the commit chosen removed the file. */
            it->state = TITO_SUBMISSION_MISSING;
        } else {
            it->state = TITO_SUBMISSION_COMMIT;
            git_oid_tostr(it->commit, sizeof it->commit, &h->ids[ch.index]);
            it->commit_time = h->times[ch.index];
            it->late_days = ch.late_days;
        }
        entries[k].deadline = it->has_deadline ? it->deadline : (long long)1 << 62;
        entries[k].late_days = it->late_days;
    }
    tito_late_charge(entries, nm, &course->late);
    for (size_t k = 0; k < nm; k++) {
        s->items[k].grace_used = entries[k].grace_used;
        s->items[k].penalty_percent = entries[k].penalty_percent;
    }
    free(lc);
    free(entries);
    return TT_OK;
}

/* The source of module k at the chosen commit, written to OUT/sources/... once. */
static tt_status extract_source(tito_batch_item *it, git_repository *repo, const history *h,
                                size_t k, const char *student, const char *out_dir)
{
    const tito_module *m = it->module;
    it->source = format("%s/sources/%s/%s/%s/%s.c", out_dir, student, m->slug, it->commit, m->name);
    if (!it->source)
        return tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
    if (tito_path_exists(it->source))
        return TT_OK;
    const git_oid *blob_id = NULL;
    for (size_t i = 0; i < h->n && !blob_id; i++) {
        char hex[41];
        git_oid_tostr(hex, sizeof hex, &h->ids[i]);
        if (strcmp(hex, it->commit) == 0)
            blob_id = &h->blobs[i * tito_module_count + k];
    }
    git_blob *blob = NULL;
    if (!blob_id || git_blob_lookup(&blob, repo, blob_id) < 0) {
        char *msg = git_message("cannot read the module's source");
        tt_status st = tt_error_set(TT_ERR_IO, "%s", msg ? msg : "cannot read a blob");
        free(msg);
        return st;
    }
    char dir[PATH_SIZE];
    snprintf(dir, sizeof dir, "%s", it->source);
    *strrchr(dir, '/') = '\0';
    tt_status st = tito_mkdirs(dir);
    if (st == TT_OK)
        st = tito_file_write_atomic(it->source, git_blob_rawcontent(blob),
                                    (size_t)git_blob_rawsize(blob), 0644);
    git_blob_free(blob);
    return st;
}

/* A short hash of what a grade of module m depends on besides the student's source:
 * the suite, the reference and the way a batch grades. */
static tt_status kit_key(char out[17], const tito_kit *kit, const tito_module *m)
{
    char suite[TITO_KIT_HASH_SIZE], ref[TITO_KIT_HASH_SIZE], all[TITO_KIT_HASH_SIZE];
    tt_status st = tito_kit_suite_hash(suite, kit, m);
    if (st == TT_OK)
        st = tito_kit_reference_hash(ref, kit);
    if (st != TT_OK)
        return st;
    char text[3 * TITO_KIT_HASH_SIZE];
    /* "deterministic small speed, memcheck": change the words when the batch's way of
     * grading changes, so that old receipts are not taken for new ones. */
    int n = snprintf(text, sizeof text, "batch/1 deterministic-small-memcheck %s %s", suite, ref);
    tito_kit_sha256(all, text, (size_t)n);
    memcpy(out, all + 7, 16);
    out[16] = '\0';
    return TT_OK;
}

/* OUT/receipts/<student>/<slug>/<commit>-<kit key>.json, the one place a receipt's
 * name is made (a new string, NULL when memory runs out). */
static char *receipt_path(const char *out_dir, const char *student, const tito_module *m,
                          const char *commit, const char *key)
{
    return format("%s/receipts/%s/%s/%s-%s.json", out_dir, student, m->slug, commit, key);
}

/* ---------------------------------------------------------------- the lock */

static int lock_fd = -1;

static tt_status take_lock(const char *out_dir)
{
    if (lock_fd >= 0)
        return TT_OK; /* this process already holds it */
    char path[PATH_SIZE];
    if (!pathf(path, sizeof path, "%s/.lock", out_dir))
        return too_long(out_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return tt_error_set(TT_ERR_IO, "tito_batch_prepare: cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0)
            pid[n] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return tt_error_set(TT_ERR_STATE,
                            "another tito grade --batch is working on %s (process %s): wait for it "
                            "or stop it, then run this again",
                            out_dir, *pid ? pid : "unknown");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) != n) {
        /* The pid is only for the message above. */
    }
    lock_fd = fd; /* held until the process ends: the batch is this process's work */
    return TT_OK;
}

/* ---------------------------------------------------------------- prepare */

void tito_batch_plan_free(tito_batch_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_students; i++) {
        tito_batch_student *s = &plan->students[i];
        for (size_t k = 0; s->items && k < tito_module_count; k++) {
            free(s->items[k].source);
            free(s->items[k].receipt);
        }
        free(s->items);
        free(s->fetch_error);
    }
    free(plan->students);
    free(plan->modules);
    free(plan->out_dir);
    free(plan);
}

static bool is_graded(const tito_batch_plan *plan, const tito_module *m)
{
    for (size_t i = 0; i < plan->n_modules; i++)
        if (plan->modules[i] == m)
            return true;
    return false;
}

tt_status tito_batch_prepare(tito_batch_plan **out, const tito_course *course,
                             const tito_roster *roster, const tito_kit *kit,
                             const tito_batch_options *options)
{
    *out = NULL;
    if (!course || !roster || !kit || !options || !options->out_dir)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_batch_prepare: course, roster, kit and "
                                                "out_dir are required");
    tt_status st = tito_mkdirs(options->out_dir);
    if (st != TT_OK)
        return st;
    char abs[PATH_SIZE];
    if (!realpath(options->out_dir, abs))
        return tt_error_set(TT_ERR_IO, "tito_batch_prepare: %s: %s", options->out_dir, strerror(errno));
    if ((st = take_lock(abs)) != TT_OK)
        return st;

    tito_batch_plan *plan = calloc(1, sizeof *plan);
    char (*keys)[17] = calloc(tito_module_count, sizeof *keys);
    if (!plan || !keys || !(plan->out_dir = strdup(abs)) ||
        !(plan->modules = calloc(tito_module_count, sizeof *plan->modules)) ||
        !(plan->students = calloc(roster->n_students, sizeof *plan->students))) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
        goto cleanup;
    }
    plan->course = course;
    if (options->modules) {
        for (size_t i = 0; i < options->n_modules; i++)
            if (!is_graded(plan, options->modules[i]))
                plan->modules[plan->n_modules++] = options->modules[i];
    } else {
        plan->n_modules = tito_batch_default_modules(plan->modules, kit, course);
    }
    for (size_t i = 0; i < plan->n_modules; i++) {
        const tito_module *m = plan->modules[i];
        if (!tito_kit_has_suite(kit, m)) {
            st = tt_error_set(TT_ERR_INVALID_ARG,
                              "tito_batch_prepare: module %s has no checks in this kit, so it "
                              "cannot be graded",
                              m->slug);
            goto cleanup;
        }
        TT_CHECK(kit_key(keys[m - tito_modules], kit, m));
    }
    char repos[PATH_SIZE];
    if (!pathf(repos, sizeof repos, "%s/repos", abs)) {
        st = too_long(abs);
        goto cleanup;
    }
    TT_CHECK(tito_mkdirs(repos));

    git_libgit2_init();
    for (size_t si = 0; si < roster->n_students; si++) {
        if (tito_interrupt_check()) {
            st = tt_error_set(TT_ERR_STATE, "interrupted while fetching");
            break;
        }
        tito_batch_student *s = &plan->students[si];
        plan->n_students = si + 1;
        s->who = &roster->students[si];
        s->items = calloc(tito_module_count, sizeof *s->items);
        if (!s->items) {
            st = tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
            break;
        }
        for (size_t k = 0; k < tito_module_count; k++) {
            tito_batch_item *it = &s->items[k];
            const tito_module *m = &tito_modules[k];
            const tito_course_module *cm = tito_course_module_of(course, m);
            it->module = m;
            it->graded = is_graded(plan, m);
            it->state = TITO_SUBMISSION_NO_REPO;
            it->extension_days = tito_course_extension_days(course, s->who->id, m);
            it->has_deadline = cm && cm->has_deadline;
            if (it->has_deadline)
                it->deadline = cm->deadline + (long long)it->extension_days * TITO_DAY_SECONDS;
        }

        git_repository *repo = NULL;
        history h = {0};
        st = fetch_student(&repo, s, abs, options->no_fetch,
                           options->fetch_timeout > 0 ? options->fetch_timeout
                                                      : TITO_FETCH_TIMEOUT_DEFAULT);
        if (st == TT_OK && repo) {
            git_oid tip;
            char *why = find_tip(&tip, repo, s->who->branch);
            if (why) {
                free(s->fetch_error);
                s->fetch_error = why;
                s->fetched = false;
            } else {
                git_oid_tostr(s->tip, sizeof s->tip, &tip);
                st = walk_history(&h, repo, &tip);
                if (st == TT_OK)
                    st = choose_commits(s, &h, course);
                for (size_t k = 0; st == TT_OK && k < tito_module_count; k++) {
                    tito_batch_item *it = &s->items[k];
                    if (!it->graded || it->state != TITO_SUBMISSION_COMMIT)
                        continue;
                    st = extract_source(it, repo, &h, k, s->who->id, abs);
                    if (st == TT_OK &&
                        !(it->receipt = receipt_path(abs, s->who->id, it->module, it->commit,
                                                     keys[it->module - tito_modules])))
                        st = tt_error_set(TT_ERR_NOMEM, "tito_batch_prepare: out of memory");
                }
            }
        }
        history_release(&h);
        git_repository_free(repo);
        if (st != TT_OK)
            break;
        if (options->on_fetch)
            options->on_fetch(options->ctx, si, roster->n_students, s);
    }
    git_libgit2_shutdown();
    if (st != TT_OK)
        goto cleanup;
    *out = plan;
    plan = NULL;
cleanup:
    free(keys);
    tito_batch_plan_free(plan);
    return st;
}

/* ---------------------------------------------------------------- one commit */

tt_status tito_batch_receipt_path(char **out, const char *out_dir, const tito_kit *kit,
                                  const char *student, const tito_module *m, const char *commit)
{
    char key[17];
    *out = NULL;
    tt_status st = kit_key(key, kit, m);
    if (st != TT_OK)
        return st;
    *out = receipt_path(out_dir, student, m, commit, key);
    return *out ? TT_OK : tt_error_set(TT_ERR_NOMEM, "tito_batch_receipt_path: out of memory");
}

tt_status tito_batch_source_at(char **source, char **why, const char *out_dir,
                               const tito_roster_student *who, bool fetch, const tito_module *m,
                               const char *commit)
{
    *source = NULL;
    *why = NULL;
    tito_batch_student s = {.who = who};
    git_repository *repo = NULL;
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_blob *blob = NULL;
    git_oid id, blob_id;
    tito_module_files files;
    tito_module_files_of(&files, m);
    char *path = NULL;
    tt_status st = TT_OK;
    git_libgit2_init();
    char repos[PATH_SIZE];
    if (!pathf(repos, sizeof repos, "%s/repos", out_dir)) {
        st = too_long(out_dir);
        goto cleanup;
    }
    TT_CHECK(tito_mkdirs(repos));
    TT_CHECK(fetch_student(&repo, &s, out_dir, !fetch, TITO_FETCH_TIMEOUT_DEFAULT));
    if (!repo) {
        *why = s.fetch_error;
        s.fetch_error = NULL;
        goto cleanup;
    }
    if (strlen(commit) != 40 || git_oid_fromstr(&id, commit) < 0) {
        *why = format("\"%.60s\" is not a commit id (40 hex digits)", commit);
        goto cleanup;
    }
    if (git_commit_lookup(&c, repo, &id) < 0) {
        *why = format("commit %.12s is not in the student's repository (no branch has it)", commit);
        goto cleanup;
    }
    if (git_commit_tree(&tree, c) < 0 || !blob_at(&blob_id, tree, files.source)) {
        *why = format("commit %.12s has no %s", commit, files.source);
        goto cleanup;
    }
    path = format("%s/sources/%s/%s/%s/%s.c", out_dir, who->id, m->slug, commit, m->name);
    if (!path) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_batch_source_at: out of memory");
        goto cleanup;
    }
    if (!tito_path_exists(path)) {
        if (git_blob_lookup(&blob, repo, &blob_id) < 0) {
            char *msg = git_message("cannot read the module's source");
            st = tt_error_set(TT_ERR_IO, "%s", msg ? msg : "cannot read a blob");
            free(msg);
            goto cleanup;
        }
        char dir[PATH_SIZE];
        snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = '\0';
        TT_CHECK(tito_mkdirs(dir));
        TT_CHECK(tito_file_write_atomic(path, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob),
                                        0644));
    }
    *source = path;
    path = NULL;
cleanup:
    if (st == TT_OK && !*source && !*why)
        st = tt_error_set(TT_ERR_NOMEM, "tito_batch_source_at: out of memory");
    free(path);
    free(s.fetch_error);
    git_blob_free(blob);
    git_tree_free(tree);
    git_commit_free(c);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return st;
}

/* ---------------------------------------------------------------- jobs */

void tito_batch_jobs_release(tito_batch_jobs *jobs)
{
    for (size_t i = 0; i < jobs->n; i++) {
        free(jobs->jobs[i].student);
        free(jobs->jobs[i].source);
        free(jobs->jobs[i].receipt);
    }
    free(jobs->jobs);
    jobs->jobs = NULL;
    jobs->n = 0;
}

static tt_status push_job(tito_batch_jobs *jobs, size_t *cap, const char *student,
                          const tito_module *m, const char *commit, const char *source,
                          const char *receipt)
{
    if (jobs->n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        tito_batch_job *j = realloc(jobs->jobs, c * sizeof *j);
        if (!j)
            return tt_error_set(TT_ERR_NOMEM, "batch jobs: out of memory");
        jobs->jobs = j;
        *cap = c;
    }
    tito_batch_job *j = &jobs->jobs[jobs->n];
    memset(j, 0, sizeof *j);
    j->module = m;
    snprintf(j->commit, sizeof j->commit, "%s", commit);
    j->student = strdup(student);
    j->source = strdup(source);
    j->receipt = strdup(receipt);
    jobs->n++;
    if (!j->student || !j->source || !j->receipt)
        return tt_error_set(TT_ERR_NOMEM, "batch jobs: out of memory");
    return TT_OK;
}

tt_status tito_batch_plan_jobs(tito_batch_jobs *out, const tito_batch_plan *plan, bool pending_only)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    for (size_t si = 0; si < plan->n_students; si++) {
        const tito_batch_student *s = &plan->students[si];
        for (size_t k = 0; k < tito_module_count; k++) {
            const tito_batch_item *it = &s->items[k];
            if (!it->graded || it->state != TITO_SUBMISSION_COMMIT || !it->receipt)
                continue;
            if (pending_only && tito_path_exists(it->receipt))
                continue;
            tt_status st = push_job(out, &cap, s->who->id, it->module, it->commit, it->source,
                                    it->receipt);
            if (st != TT_OK) {
                tito_batch_jobs_release(out);
                return st;
            }
        }
    }
    return TT_OK;
}

tt_status tito_batch_jobs_write(const tito_batch_jobs *jobs, const char *path)
{
    json_t *root = json_object(), *list = json_array();
    tt_status st = TT_OK;
    if (!root || !list || json_object_set_new(root, "schema", json_string(TITO_BATCH_JOBS_SCHEMA)) ||
        json_object_set(root, "jobs", list)) {
        st = tt_error_set(TT_ERR_NOMEM, "batch jobs: out of memory");
        goto done;
    }
    for (size_t i = 0; i < jobs->n; i++) {
        const tito_batch_job *j = &jobs->jobs[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "student", j->student, "module",
                              j->module->slug, "commit", j->commit, "source", j->source, "receipt",
                              j->receipt);
        if (!o || json_array_append_new(list, o)) {
            st = tt_error_set(TT_ERR_NOMEM, "batch jobs: out of memory");
            goto done;
        }
    }
    char *text = json_dumps(root, JSON_INDENT(1));
    if (!text) {
        st = tt_error_set(TT_ERR_NOMEM, "batch jobs: out of memory");
        goto done;
    }
    st = tito_file_write_atomic(path, text, strlen(text), 0644);
    free(text);
done:
    json_decref(list);
    json_decref(root);
    return st;
}

tt_status tito_batch_jobs_read(tito_batch_jobs *out, const char *path)
{
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return tt_error_set(tito_path_exists(path) ? TT_ERR_FORMAT : TT_ERR_IO,
                            "batch plan %s: %s (line %d)", path, err.text, err.line);
    tt_status st = TT_OK;
    size_t cap = 0;
    json_t *schema = json_object_get(root, "schema"), *list = json_object_get(root, "jobs");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), TITO_BATCH_JOBS_SCHEMA) != 0) {
        st = tt_error_set(TT_ERR_FORMAT, "batch plan %s: schema: expected \"%s\"", path,
                          TITO_BATCH_JOBS_SCHEMA);
        goto done;
    }
    if (!json_is_array(list)) {
        st = tt_error_set(TT_ERR_FORMAT, "batch plan %s: jobs: expected an array", path);
        goto done;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *student, *module, *commit, *source, *receipt;
        json_error_t e;
        if (json_unpack_ex(json_array_get(list, i), &e, JSON_STRICT, "{s:s, s:s, s:s, s:s, s:s}",
                           "student", &student, "module", &module, "commit", &commit, "source",
                           &source, "receipt", &receipt) != 0) {
            st = tt_error_set(TT_ERR_FORMAT, "batch plan %s: jobs[%zu]: %s", path, i, e.text);
            goto done;
        }
        const tito_module *m = tito_module_find(module);
        if (!m || strcmp(m->slug, module) != 0 || strlen(commit) != 40) {
            st = tt_error_set(TT_ERR_FORMAT, "batch plan %s: jobs[%zu]: unknown module \"%s\" or a "
                                             "commit that is not 40 hex digits",
                              path, i, module);
            goto done;
        }
        if ((st = push_job(out, &cap, student, m, commit, source, receipt)) != TT_OK)
            goto done;
    }
done:
    json_decref(root);
    if (st != TT_OK)
        tito_batch_jobs_release(out);
    return st;
}

void tito_batch_jobs_filter(tito_batch_jobs *jobs, unsigned index, unsigned count)
{
    size_t kept = 0;
    if (count == 0)
        count = 1;
    for (size_t i = 0; i < jobs->n; i++) {
        tito_batch_job *j = &jobs->jobs[i];
        bool keep = i % count == index && !tito_path_exists(j->receipt);
        if (keep) {
            jobs->jobs[kept++] = *j;
        } else {
            free(j->student);
            free(j->source);
            free(j->receipt);
        }
    }
    jobs->n = kept;
}

/* ---------------------------------------------------------------- one job */

tt_status tito_batch_grade_job(const tito_batch_job *job, const tito_kit *kit,
                               const tito_course *course, const char *tito_version,
                               const char *temp_parent)
{
    const tito_module *m = job->module;
    tito_after_judge aj = TITO_AFTER_JUDGE_INIT;
    aj.kit = kit;
    aj.module = m;
    /* Speed by instruction counts at the kernels' small sizes: the same submission gets
     * the same points however busy the machine (or the cluster node) is. */
    aj.deterministic = true;
    aj.perf_small = true;
    aj.temp_parent = temp_parent;
    tito_score_rules_from_course(&aj.rules, tito_course_module_of(course, m));
    tito_grade_options go = TITO_GRADE_OPTIONS_INIT;
    go.full = true;
    go.jobs = 1; /* the pool is the parallelism */
    go.tito_version = tito_version;
    go.temp_parent = temp_parent;
    go.phase = tito_after_judge_run;
    go.phase_ctx = &aj;
    char error_path[PATH_SIZE];
    snprintf(error_path, sizeof error_path, "%s.error", job->receipt);

    tito_grade *g = NULL;
    tt_status st = tito_grade_run(&g, kit, m, job->source, &go);
    if (st == TT_OK) {
        tito_module_files files;
        tito_module_files_of(&files, m);
        char *commit = strdup(job->commit), *path = strdup(files.source);
        if (!commit || !path) {
            free(commit);
            free(path);
            st = tt_error_set(TT_ERR_NOMEM, "tito_batch_grade_job: out of memory");
        } else {
            free(g->provenance.commit);
            free(g->provenance.source_path);
            g->provenance.commit = commit;
            g->provenance.source_path = path;
            g->provenance.dirty = false;
            char dir[PATH_SIZE];
            snprintf(dir, sizeof dir, "%s", job->receipt);
            char *slash = strrchr(dir, '/');
            if (slash)
                *slash = '\0';
            st = tito_mkdirs(dir);
            if (st == TT_OK)
                st = tito_receipt_write(job->receipt, g, 0);
        }
    }
    tito_grade_free(g);
    if (st == TT_OK) {
        remove(error_path);
        return TT_OK;
    }
    /* The grader's own trouble: kept beside where the receipt would be, for the
     * gradebook and for the instructor; a rerun tries again. */
    char message[1024];
    snprintf(message, sizeof message, "%s\n", tt_error_last());
    char dir[PATH_SIZE];
    snprintf(dir, sizeof dir, "%s", job->receipt);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (tito_mkdirs(dir) == TT_OK)
        tito_file_write_atomic(error_path, message, strlen(message), 0644);
    return tt_error_set(st, "%.1000s", message);
}

/* ---------------------------------------------------------------- local pool */

typedef struct slot {
    pid_t pid;
    size_t job;
    char temp[PATH_SIZE];
} slot;

/* What became of a finished job: read back from the files it left. */
static void job_outcome(tito_batch_progress *p, const tito_batch_job *job, int wstatus, char *msg,
                        size_t msg_size)
{
    p->ok = false;
    p->earned = p->possible = 0;
    p->message = msg;
    msg[0] = '\0';
    tito_receipt *r = NULL;
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 &&
        tito_receipt_read(&r, job->receipt) == TT_OK) {
        p->ok = true;
        p->earned = r->grade->earned;
        p->possible = r->grade->possible;
        p->message = NULL;
        tito_receipt_free(r);
        return;
    }
    char error_path[PATH_SIZE];
    snprintf(error_path, sizeof error_path, "%s.error", job->receipt);
    char *text = NULL;
    if (WIFEXITED(wstatus) && tito_file_read(&text, NULL, error_path) == TT_OK) {
        snprintf(msg, msg_size, "%s", text);
        msg[strcspn(msg, "\n")] = '\0';
        free(text);
        return;
    }
    if (WIFSIGNALED(wstatus))
        snprintf(msg, msg_size, "the grading process died of signal %d (a bug in tito: please "
                                "report it with this submission)",
                 WTERMSIG(wstatus));
    else
        snprintf(msg, msg_size, "the grading process ended with status %d and no receipt",
                 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    char line[1100];
    int n = snprintf(line, sizeof line, "%s\n", msg);
    tito_file_write_atomic(error_path, line, (size_t)n, 0644);
}

static tt_status start_job(slot *sl, size_t index, const tito_batch_jobs *jobs,
                           const tito_batch_pool *pool)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(sl->temp, sizeof sl->temp, "%s/tito-batch-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(sl->temp))
        return tt_error_set(TT_ERR_IO, "tito_batch_run_local: cannot make a folder in %s: %s",
                            tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
    /* The sandbox's user must reach the working directories made inside. */
    chmod(sl->temp, 0755);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        tito_remove_tree(sl->temp);
        return tt_error_set(TT_ERR_IO, "tito_batch_run_local: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* Stopped by its parent (or by Ctrl-C with it), it must simply die. */
        tito_interrupt_release();
        tt_status st = tito_batch_grade_job(&jobs->jobs[index], pool->kit, pool->course,
                                            pool->tito_version, sl->temp);
        _exit(st == TT_OK ? 0 : 1);
    }
    sl->pid = pid;
    sl->job = index;
    return TT_OK;
}

tt_status tito_batch_run_local(tito_batch_stats *stats, const tito_batch_jobs *jobs,
                               const tito_batch_pool *pool)
{
    memset(stats, 0, sizeof *stats);
    unsigned workers = pool->workers ? pool->workers : 1;
    if (workers > 256)
        workers = 256;
    slot *slots = calloc(workers, sizeof *slots);
    if (!slots)
        return tt_error_set(TT_ERR_NOMEM, "tito_batch_run_local: out of memory");
    double t0 = now_seconds();
    size_t next = 0, running = 0, done = 0;
    tt_status st = TT_OK;
    while (done < jobs->n) {
        if (pool->stop && *pool->stop) {
            stats->interrupted = true;
            break;
        }
        for (unsigned w = 0; w < workers && next < jobs->n && st == TT_OK; w++) {
            if (slots[w].pid == 0) {
                st = start_job(&slots[w], next, jobs, pool);
                if (st == TT_OK) {
                    next++;
                    running++;
                }
            }
        }
        if (st != TT_OK && running == 0)
            break;
        bool reaped = false;
        for (unsigned w = 0; w < workers; w++) {
            int ws = 0;
            if (slots[w].pid == 0 || waitpid(slots[w].pid, &ws, WNOHANG) != slots[w].pid)
                continue;
            tito_remove_tree(slots[w].temp);
            slots[w].pid = 0;
            running--;
            done++;
            reaped = true;
            char msg[1024];
            tito_batch_progress p = {0};
            job_outcome(&p, &jobs->jobs[slots[w].job], ws, msg, sizeof msg);
            if (p.ok)
                stats->graded++;
            else
                stats->failed++;
            p.done = done;
            p.total = jobs->n;
            p.failed = stats->failed;
            p.elapsed = now_seconds() - t0;
            p.eta = p.elapsed / (double)done * (double)(jobs->n - done);
            p.job = &jobs->jobs[slots[w].job];
            if (pool->on_progress)
                pool->on_progress(pool->ctx, &p);
        }
        if (st != TT_OK && running == 0)
            break;
        if (!reaped) {
            struct timespec nap = {0, 50 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
    }
    /* Interrupted (or a fork failed): the jobs still running die with their sandboxed
     * children (those have PR_SET_PDEATHSIG); nothing half-written remains, since
     * receipts are written atomically. */
    for (unsigned w = 0; w < workers; w++) {
        if (slots[w].pid == 0)
            continue;
        kill(slots[w].pid, SIGKILL);
        waitpid(slots[w].pid, NULL, 0);
        tito_remove_tree(slots[w].temp);
    }
    free(slots);
    stats->seconds = now_seconds() - t0;
    return st;
}

/* ---------------------------------------------------------------- Slurm */

/* `s` quoted for a POSIX shell. */
static char *shell_quote(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *q = malloc(n), *o = q;
    if (!q)
        return NULL;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

/* The job id `sbatch --parsable` wrote at the start of `log`, into id ("" if none yet). */
static void job_id_from(char *id, size_t size, const char *log)
{
    char *text = NULL;
    id[0] = '\0';
    if (tito_file_read(&text, NULL, log) != TT_OK)
        return;
    size_t n = strspn(text, "0123456789");
    if (n > 0 && n < size)
        snprintf(id, size, "%.*s", (int)n, text);
    free(text);
}

/* Run argv (argv[0] from PATH) with stdout and stderr to `log`; *status gets the wait
 * status. A stop request while it runs cancels the Slurm job whose id the log starts
 * with (when `cancel_job`) and ends the program. */
static tt_status run_logged(int *status, char *const *argv, const char *log,
                            volatile sig_atomic_t *stop, bool cancel_job, bool *stopped)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return tt_error_set(TT_ERR_IO, "cannot start %s: %s", argv[0], strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return TT_OK;
        if (r < 0 && errno != EINTR)
            return tt_error_set(TT_ERR_IO, "waiting for %s: %s", argv[0], strerror(errno));
        if (stop && *stop && !*stopped) {
            *stopped = true;
            char id[64];
            job_id_from(id, sizeof id, log);
            if (cancel_job && id[0]) {
                char *cancel[] = {"scancel", id, NULL};
                int ignored;
                bool unused = false;
                run_logged(&ignored, cancel, "/dev/null", NULL, false, &unused);
            }
            kill(pid, SIGTERM);
        }
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

tt_status tito_batch_run_slurm(tito_batch_stats *stats, const tito_batch_plan *plan,
                               const tito_batch_jobs *jobs, const tito_batch_slurm *slurm)
{
    memset(stats, 0, sizeof *stats);
    double t0 = now_seconds();
    tt_status st = TT_OK;
    char dir[PATH_SIZE], script[PATH_SIZE], plan_path[PATH_SIZE], log[PATH_SIZE], out_pattern[PATH_SIZE];
    if (!pathf(dir, sizeof dir, "%s/slurm", plan->out_dir) ||
        !pathf(script, sizeof script, "%s/job.sh", dir) ||
        !pathf(plan_path, sizeof plan_path, "%s/plan.json", plan->out_dir) ||
        !pathf(log, sizeof log, "%s/sbatch.log", dir) ||
        !pathf(out_pattern, sizeof out_pattern, "%s/task-%%a.log", dir))
        return too_long(plan->out_dir);
    if (jobs->n == 0)
        return TT_OK;
    unsigned tasks = slurm->tasks ? slurm->tasks : (unsigned)(jobs->n < 64 ? jobs->n : 64);
    if (tasks > jobs->n)
        tasks = (unsigned)jobs->n;

    char *q_tito = shell_quote(slurm->tito), *q_roster = shell_quote(slurm->roster);
    char *q_out = shell_quote(plan->out_dir);
    char *q_course = slurm->course_file ? shell_quote(slurm->course_file) : NULL;
    char *q_modules = slurm->modules ? shell_quote(slurm->modules) : NULL;
    char *text = NULL, *array = NULL, *extra = NULL;
    char **argv = NULL;
    if (!q_tito || !q_roster || !q_out || (slurm->course_file && !q_course) ||
        (slurm->modules && !q_modules)) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_batch_run_slurm: out of memory");
        goto cleanup;
    }
    TT_CHECK(tito_mkdirs(dir));
    /* The workers read the jobs from the plan; they re-check which receipts exist, so a
     * task that starts late skips what another run finished. */
    TT_CHECK(tito_batch_jobs_write(jobs, plan_path));
    text = format("#!/bin/sh\n"
                  "# One task of a Slurm array job of `tito grade --batch` (written by tito at each\n"
                  "# run; the plan it grades is %s/plan.json).\n"
                  "exec %s grade --batch %s --out %s%s%s%s%s --worker-slice \"$SLURM_ARRAY_TASK_ID/%u\"\n",
                  plan->out_dir, q_tito, q_roster, q_out, q_course ? " --course " : "",
                  q_course ? q_course : "", q_modules ? " --modules " : "", q_modules ? q_modules : "",
                  tasks);
    if (!text) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_batch_run_slurm: out of memory");
        goto cleanup;
    }
    TT_CHECK(tito_file_write_atomic(script, text, strlen(text), 0755));

    array = format("--array=0-%u", tasks - 1);
    extra = strdup(slurm->sbatch_args ? slurm->sbatch_args : "");
    size_t n_extra = 0;
    for (char *p = extra; p && *p; p++)
        n_extra += *p == ' ';
    argv = calloc(16 + n_extra + 1, sizeof *argv);
    if (!array || !extra || !argv) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_batch_run_slurm: out of memory");
        goto cleanup;
    }
    size_t a = 0;
    char output_opt[PATH_SIZE + 16];
    snprintf(output_opt, sizeof output_opt, "--output=%s", out_pattern);
    argv[a++] = (char *)(slurm->sbatch ? slurm->sbatch : "sbatch");
    argv[a++] = "--parsable";
    argv[a++] = "--wait";
    argv[a++] = "--job-name=tito-batch";
    argv[a++] = array;
    argv[a++] = output_opt;
    char *save = NULL;
    for (char *tok = strtok_r(extra, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
        argv[a++] = tok;
    argv[a++] = script;
    argv[a] = NULL;

    /* sbatch --parsable prints the job id at once and then waits; the id lets an
     * interrupted tito cancel the array. */
    int status = 0;
    bool stopped = false;
    st = run_logged(&status, argv, log, slurm->stop, true, &stopped);
    stats->interrupted = stopped;
    char jobid[64];
    job_id_from(jobid, sizeof jobid, log);
    if (st == TT_OK && !jobid[0]) {
        char *sb = NULL;
        tito_file_read(&sb, NULL, log);
        st = tt_error_set(TT_ERR_IO, "sbatch did not accept the job: %.600s",
                          sb && *sb ? sb : "(no output; is Slurm installed and running?)");
        free(sb);
    }
    if (st != TT_OK)
        goto cleanup;
    /* sbatch --wait returns the highest exit status of the tasks: a task whose job the
     * grader could not grade exits 1. What counts is which receipts exist now. */
    for (size_t i = 0; i < jobs->n; i++) {
        if (tito_path_exists(jobs->jobs[i].receipt))
            stats->graded++;
        else
            stats->failed++;
    }
cleanup:
    stats->seconds = now_seconds() - t0;
    free(q_tito);
    free(q_roster);
    free(q_out);
    free(q_course);
    free(q_modules);
    free(text);
    free(array);
    free(extra);
    free(argv);
    return st;
}
