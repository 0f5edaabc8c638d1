/*
 * Workspaces: making one (tito init), finding one, and the git operations tito does
 * in it (libgit2), plus the two module operations that write a student's files,
 * start and reset.
 *
 * Invariants: tito writes a student's file only where none exists (start) or after
 * the whole workspace was saved on a backup branch (reset); every write is atomic
 * (fsutil); every commit tito makes contains only the paths it wrote, built on an
 * in-memory index from HEAD's tree, so whatever the student staged or left
 * uncommitted elsewhere stays exactly as it was.
 */
/* realpath is XSI; POSIX 2008 with it. */
#define _XOPEN_SOURCE 700

#include "workspace.h"

#include <dirent.h>
#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "kit.h"

#define PATH_SIZE 4096

/* ---------------------------------------------------------------- helpers */

static tt_status git_fail(const char *what)
{
    const git_error *e = git_error_last();
    return tt_error_set(TT_ERR_IO, "%s: %s", what, e && e->message ? e->message : "unknown git error");
}

static tt_status join_path(char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size)
        return tt_error_set(TT_ERR_IO, "path too long: %s/%s", a, b);
    return TT_OK;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static tt_status copy_file(const char *from, const char *to)
{
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&text, &len, from);
    if (st == TT_OK)
        st = tito_file_write_atomic(to, text, len, 0644);
    free(text);
    return st;
}

/* Remove everything inside `path` (not `path` itself). Only used on a directory that
 * tito init found empty or made, to take back a half-made workspace. */
static void empty_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[PATH_SIZE];
        if (join_path(child, sizeof child, path, e->d_name) != TT_OK)
            continue;
        struct stat sb;
        if (lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            empty_tree(child);
            rmdir(child);
        } else {
            unlink(child);
        }
    }
    closedir(d);
}

/* ------------------------------------------------------------ the material */

tt_status tito_material_locate(tito_material *out)
{
    memset(out, 0, sizeof *out);
    tito_kit *kit = NULL;
    tt_status st = tito_kit_locate(&kit);
    if (st != TT_OK)
        return st;
    int n = snprintf(out->root, sizeof out->root, "%s", kit->root);
    tito_kit_free(kit);
    if (n < 0 || (size_t)n >= sizeof out->root)
        return tt_error_set(TT_ERR_IO, "the grading kit's path is too long");
    return TT_OK;
}

static tt_status fit(int n, size_t size, const tito_material *mat)
{
    if (n < 0 || (size_t)n >= size)
        return tt_error_set(TT_ERR_IO, "path too long under %s", mat->root);
    return TT_OK;
}

tt_status tito_material_starter(char *buf, size_t size, const tito_material *mat, const tito_module *m)
{
    return fit(snprintf(buf, size, "%s/starters/%s/%s.c", mat->root, m->slug, m->name), size, mat);
}

tt_status tito_material_guide(char *buf, size_t size, const tito_material *mat, const tito_module *m)
{
    return fit(snprintf(buf, size, "%s/guides/%s.md", mat->root, m->slug), size, mat);
}

tt_status tito_material_headers(char *buf, size_t size, const tito_material *mat)
{
    return fit(snprintf(buf, size, "%s/include/tinytorch", mat->root), size, mat);
}

/* ------------------------------------------------------------------- git */

static tt_status signature(git_signature **sig, git_repository *repo)
{
    if (git_signature_default(sig, repo) == 0)
        return TT_OK;
    if (git_signature_now(sig, TITO_FALLBACK_AUTHOR_NAME, TITO_FALLBACK_AUTHOR_EMAIL) == 0)
        return TT_OK;
    return git_fail("cannot make a commit signature");
}

/* HEAD's commit, or NULL (and TT_OK) when the branch has no commit yet. */
static tt_status head_commit(git_commit **out, git_repository *repo)
{
    *out = NULL;
    git_oid oid;
    int rc = git_reference_name_to_id(&oid, repo, "HEAD");
    if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
        return TT_OK;
    if (rc != 0 || git_commit_lookup(out, repo, &oid) != 0)
        return git_fail("cannot read HEAD");
    return TT_OK;
}

/* An in-memory index holding HEAD's tree (empty without HEAD). */
static tt_status index_from_head(git_index **out, const git_commit *head)
{
    git_tree *tree = NULL;
    if (git_index_new(out) != 0)
        return git_fail("cannot make an index");
    if (head && (git_commit_tree(&tree, head) != 0 || git_index_read_tree(*out, tree) != 0)) {
        git_tree_free(tree);
        git_index_free(*out);
        *out = NULL;
        return git_fail("cannot read HEAD's tree");
    }
    git_tree_free(tree);
    return TT_OK;
}

/* Add the working-tree file `rel` to the in-memory index `idx` as a blob. */
static tt_status index_add_file(git_index *idx, git_repository *repo, const char *root,
                                const char *rel)
{
    char full[PATH_SIZE];
    struct stat sb;
    if (join_path(full, sizeof full, root, rel) != TT_OK || lstat(full, &sb) != 0)
        return tt_error_set(TT_ERR_IO, "cannot read %s: %s", rel, strerror(errno));
    git_index_entry e;
    memset(&e, 0, sizeof e);
    e.path = rel;
    e.mode = S_ISLNK(sb.st_mode)      ? GIT_FILEMODE_LINK
             : (sb.st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE
                                      : GIT_FILEMODE_BLOB;
    e.file_size = (uint32_t)sb.st_size;
    if (git_blob_create_from_workdir(&e.id, repo, rel) != 0 || git_index_add(idx, &e) != 0) {
        char what[PATH_SIZE + 32];
        snprintf(what, sizeof what, "cannot add %s", rel);
        return git_fail(what);
    }
    return TT_OK;
}

/* Put the current state of `rel` (file or folder; missing = deleted) into both the
 * in-memory index `idx` and the repository's index `repo_idx`. */
static tt_status stage_path(git_index *idx, git_index *repo_idx, git_repository *repo,
                            const char *root, const char *rel)
{
    char full[PATH_SIZE];
    tt_status st = join_path(full, sizeof full, root, rel);
    if (st != TT_OK)
        return st;
    struct stat sb;
    bool exists = lstat(full, &sb) == 0;
    if (!exists || !S_ISDIR(sb.st_mode)) {
        git_index_remove_directory(idx, rel, 0);
        git_index_remove_directory(repo_idx, rel, 0);
    }
    if (!exists) {
        git_index_remove(idx, rel, 0);
        git_index_remove(repo_idx, rel, 0);
        return TT_OK;
    }
    int ignored = 0;
    if (git_ignore_path_is_ignored(&ignored, repo, rel) == 0 && ignored)
        return TT_OK;
    if (!S_ISDIR(sb.st_mode)) {
        st = index_add_file(idx, repo, root, rel);
        if (st == TT_OK && git_index_add_bypath(repo_idx, rel) != 0)
            return git_fail("cannot update the index");
        return st;
    }
    /* A folder: what is in it now replaces what was. */
    git_index_remove_directory(idx, rel, 0);
    git_index_remove_directory(repo_idx, rel, 0);
    DIR *d = opendir(full);
    if (!d)
        return tt_error_set(TT_ERR_IO, "cannot read the folder %s: %s", full, strerror(errno));
    struct dirent *e;
    while (st == TT_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, ".git") == 0)
            continue;
        char child[PATH_SIZE];
        st = join_path(child, sizeof child, rel, e->d_name);
        if (st == TT_OK)
            st = stage_path(idx, repo_idx, repo, root, child);
    }
    closedir(d);
    return st;
}

static tt_status commit_tree(git_oid *out, git_repository *repo, const git_oid *tree_oid,
                             const char *update_ref, const git_commit *parent, const char *message)
{
    tt_status st = TT_OK;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    char *msg = NULL;
    if (git_tree_lookup(&tree, repo, tree_oid) != 0)
        return git_fail("cannot read the new tree");
    TT_CHECK(signature(&sig, repo));
    size_t len = strlen(message);
    msg = malloc(len + 2);
    if (!msg) {
        st = tt_error_set(TT_ERR_NOMEM, "out of memory making a commit");
        goto cleanup;
    }
    /* git's own commits end their message with a newline; so do ours. */
    snprintf(msg, len + 2, "%s%s", message, len > 0 && message[len - 1] == '\n' ? "" : "\n");
    const git_commit *parents[1] = {parent};
    if (git_commit_create(out, repo, update_ref, sig, sig, NULL, msg, tree, parent ? 1 : 0, parents) != 0)
        st = git_fail("cannot commit");
cleanup:
    free(msg);
    git_signature_free(sig);
    git_tree_free(tree);
    return st;
}

tt_status tito_workspace_commit(tito_workspace *ws, const char *const *paths, size_t n_paths,
                                const char *message, char *id, bool *committed)
{
    tt_status st = TT_OK;
    git_commit *head = NULL;
    git_index *idx = NULL, *repo_idx = NULL;
    git_tree *head_tree = NULL;
    if (committed)
        *committed = false;

    TT_CHECK(head_commit(&head, ws->repo));
    TT_CHECK(index_from_head(&idx, head));
    if (git_repository_index(&repo_idx, ws->repo) != 0) {
        st = git_fail("cannot open the index");
        goto cleanup;
    }
    for (size_t i = 0; i < n_paths; i++)
        TT_CHECK(stage_path(idx, repo_idx, ws->repo, ws->root, paths[i]));

    git_oid tree_oid, commit_oid;
    if (git_index_write_tree_to(&tree_oid, idx, ws->repo) != 0) {
        st = git_fail("cannot write the tree");
        goto cleanup;
    }
    if (head) {
        if (git_commit_tree(&head_tree, head) != 0) {
            st = git_fail("cannot read HEAD's tree");
            goto cleanup;
        }
    }
    if (!head_tree || !git_oid_equal(&tree_oid, git_tree_id(head_tree))) {
        TT_CHECK(commit_tree(&commit_oid, ws->repo, &tree_oid, "HEAD", head, message));
        if (committed)
            *committed = true;
    }
    /* The index follows the commit for these paths (and only these), so `git status`
     * shows them clean. */
    if (git_index_write(repo_idx) != 0) {
        st = git_fail("cannot write the index");
        goto cleanup;
    }
    if (id)
        st = tito_workspace_head(ws, id);
cleanup:
    git_tree_free(head_tree);
    git_index_free(repo_idx);
    git_index_free(idx);
    git_commit_free(head);
    return st;
}

tt_status tito_workspace_head(tito_workspace *ws, char *id)
{
    git_oid oid;
    int rc = git_reference_name_to_id(&oid, ws->repo, "HEAD");
    if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
        return tt_error_set(TT_ERR_STATE, "the workspace %s has no commit yet", ws->root);
    if (rc != 0)
        return git_fail("cannot read HEAD");
    git_oid_tostr(id, GIT_OID_HEXSZ + 1, &oid);
    return TT_OK;
}

tt_status tito_workspace_dirty(tito_workspace *ws, const char *path, bool *dirty)
{
    *dirty = false;
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
               GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    char *spec = (char *)path;
    so.pathspec.strings = &spec;
    so.pathspec.count = 1;
    git_status_list *list = NULL;
    if (git_status_list_new(&list, ws->repo, &so) != 0)
        return git_fail("cannot read the workspace's status");
    *dirty = git_status_list_entrycount(list) > 0;
    git_status_list_free(list);
    return TT_OK;
}

tt_status tito_workspace_backup(tito_workspace *ws, const char *label, time_t now, char *branch,
                                size_t size, char *id)
{
    tt_status st = TT_OK;
    git_commit *head = NULL, *backup = NULL;
    git_index *idx = NULL;
    git_status_list *list = NULL;
    git_reference *ref = NULL;

    TT_CHECK(head_commit(&head, ws->repo));
    TT_CHECK(index_from_head(&idx, head));

    /* HEAD's tree plus every path that differs from it, as the files are now. */
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
               GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    if (git_status_list_new(&list, ws->repo, &so) != 0) {
        st = git_fail("cannot read the workspace's status");
        goto cleanup;
    }
    for (size_t i = 0; i < git_status_list_entrycount(list); i++) {
        const git_status_entry *e = git_status_byindex(list, i);
        const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
        if (!d)
            continue;
        const char *rel = d->new_file.path ? d->new_file.path : d->old_file.path;
        char full[PATH_SIZE];
        struct stat sb;
        TT_CHECK(join_path(full, sizeof full, ws->root, rel));
        if (lstat(full, &sb) == 0 && !S_ISDIR(sb.st_mode))
            TT_CHECK(index_add_file(idx, ws->repo, ws->root, rel));
        else
            git_index_remove(idx, rel, 0);
    }
    git_oid tree_oid, commit_oid;
    if (git_index_write_tree_to(&tree_oid, idx, ws->repo) != 0) {
        st = git_fail("cannot write the backup tree");
        goto cleanup;
    }
    char message[256];
    snprintf(message, sizeof message,
             "tito: backup before resetting %s\n\nThe whole workspace as it was, uncommitted "
             "changes included.\n",
             label);
    TT_CHECK(commit_tree(&commit_oid, ws->repo, &tree_oid, NULL, head, message));
    if (git_commit_lookup(&backup, ws->repo, &commit_oid) != 0) {
        st = git_fail("cannot read the backup commit");
        goto cleanup;
    }

    struct tm tm;
    char stamp[32] = "0";
    if (gmtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int attempt = 1;; attempt++) {
        int n = attempt == 1 ? snprintf(branch, size, "backup/%s-%s", label, stamp)
                             : snprintf(branch, size, "backup/%s-%s-%d", label, stamp, attempt);
        if (n < 0 || (size_t)n >= size) {
            st = tt_error_set(TT_ERR_IO, "backup branch name too long for %s", label);
            goto cleanup;
        }
        int rc = git_branch_create(&ref, ws->repo, branch, backup, 0);
        if (rc == 0)
            break;
        if (rc != GIT_EEXISTS || attempt >= 100) {
            st = git_fail("cannot create the backup branch");
            goto cleanup;
        }
    }
    if (id)
        git_oid_tostr(id, GIT_OID_HEXSZ + 1, &commit_oid);
cleanup:
    git_reference_free(ref);
    git_status_list_free(list);
    git_index_free(idx);
    git_commit_free(backup);
    git_commit_free(head);
    return st;
}

/* ---------------------------------------------------------- open and find */

void tito_workspace_free(tito_workspace *ws)
{
    if (!ws)
        return;
    if (ws->repo) {
        git_repository_free(ws->repo);
        git_libgit2_shutdown();
    }
    tito_progress_free(ws->progress);
    free(ws->root);
    free(ws);
}

tt_status tito_workspace_path(char *buf, size_t size, const tito_workspace *ws, const char *rel)
{
    return join_path(buf, size, ws->root, rel);
}

tt_status tito_workspace_save_progress(tito_workspace *ws)
{
    char path[PATH_SIZE];
    tt_status st = tito_workspace_path(path, sizeof path, ws, TITO_WORKSPACE_PROGRESS);
    if (st == TT_OK)
        st = tito_progress_write(ws->progress, path);
    return st;
}

/* Whether `dir` is a workspace: .tito/progress.json, or a .tito folder next to a
 * tito-course.json (a workspace that lost its progress file, which open reports). */
static bool is_workspace(const char *dir)
{
    char probe[PATH_SIZE + 64];
    snprintf(probe, sizeof probe, "%s/" TITO_WORKSPACE_PROGRESS, dir);
    if (tito_path_exists(probe))
        return true;
    snprintf(probe, sizeof probe, "%s/.tito", dir);
    if (!is_dir(probe))
        return false;
    snprintf(probe, sizeof probe, "%s/" TITO_WORKSPACE_COURSE, dir);
    return tito_path_exists(probe);
}

tt_status tito_workspace_locate(char *buf, size_t size, const char *start_dir)
{
    char cur[PATH_MAX];
    if (!realpath(start_dir, cur))
        return tt_error_set(TT_ERR_IO, "cannot resolve the directory %s: %s", start_dir,
                            strerror(errno));
    for (;;) {
        if (is_workspace(cur)) {
            int n = snprintf(buf, size, "%s", cur);
            if (n < 0 || (size_t)n >= size)
                return tt_error_set(TT_ERR_IO, "path too long: %s", cur);
            return TT_OK;
        }
        char *slash = strrchr(cur, '/');
        if (!slash || strcmp(cur, "/") == 0)
            break;
        if (slash == cur)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    char shown[PATH_MAX];
    if (!realpath(start_dir, shown))
        snprintf(shown, sizeof shown, "%s", start_dir);
    return tt_error_set(TT_ERR_STATE,
                        "not inside a tito workspace (no .tito/ found from %s up to /): run "
                        "`tito init DIR` first, or cd into your workspace",
                        shown);
}

tt_status tito_workspace_open(tito_workspace **out, const char *root, const tito_course *course)
{
    *out = NULL;
    tt_status st = TT_OK;
    tito_workspace *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->root = strdup(root))) {
        free(ws);
        return tt_error_set(TT_ERR_NOMEM, "out of memory opening the workspace %s", root);
    }
    char path[PATH_SIZE];
    TT_CHECK(tito_workspace_path(path, sizeof path, ws, TITO_WORKSPACE_PROGRESS));
    if (!tito_path_exists(path)) {
        st = tt_error_set(TT_ERR_FORMAT,
                          "%s is missing: restore it from git with `git -C %s checkout HEAD -- "
                          TITO_WORKSPACE_PROGRESS "`",
                          path, root);
        goto cleanup;
    }
    st = tito_progress_read(&ws->progress, path);
    if (st == TT_ERR_FORMAT) {
        char reason[320];
        snprintf(reason, sizeof reason, "%s", tt_error_last());
        st = tt_error_set(TT_ERR_FORMAT,
                          "%s. The file is corrupt; your progress is in git: `git -C %s checkout "
                          "HEAD -- " TITO_WORKSPACE_PROGRESS "` restores the last committed copy "
                          "(`git log -- " TITO_WORKSPACE_PROGRESS "` lists older ones)",
                          reason, root);
        goto cleanup;
    }
    if (st != TT_OK)
        goto cleanup;
    if (course && strcmp(ws->progress->course_id, course->id) != 0) {
        st = tt_error_set(TT_ERR_STATE,
                          "this workspace belongs to course %s; this tito is for course %s: use "
                          "the tito that came with %s, or pass --course with that course's file "
                          "(the workspace keeps a copy in " TITO_WORKSPACE_COURSE ")",
                          ws->progress->course_id, course->id, ws->progress->course_id);
        goto cleanup;
    }
    git_libgit2_init();
    if (git_repository_open_ext(&ws->repo, root, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
        char what[PATH_SIZE + 64];
        snprintf(what, sizeof what, "the workspace %s is not a git repository", root);
        st = git_fail(what);
        ws->repo = NULL;
        git_libgit2_shutdown();
        goto cleanup;
    }
    *out = ws;
    ws = NULL;
cleanup:
    tito_workspace_free(ws);
    return st;
}

tt_status tito_workspace_find(tito_workspace **out, const char *start_dir, const tito_course *course)
{
    *out = NULL;
    char root[PATH_SIZE];
    tt_status st = tito_workspace_locate(root, sizeof root, start_dir);
    if (st != TT_OK)
        return st;
    return tito_workspace_open(out, root, course);
}

/* ------------------------------------------------------------------- init */

/* The first entry of `dir` and how many there are (0: empty). */
static tt_status dir_entries(const char *dir, size_t *count, char *first, size_t first_size)
{
    *count = 0;
    first[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return tt_error_set(TT_ERR_IO, "cannot read the directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((*count)++ == 0)
            snprintf(first, first_size, "%s", e->d_name);
    }
    closedir(d);
    return TT_OK;
}

/* The refusals of tito init, before anything is written. */
static tt_status check_target(const char *dir, bool *exists)
{
    struct stat sb;
    *exists = stat(dir, &sb) == 0;
    if (*exists && !S_ISDIR(sb.st_mode))
        return tt_error_set(TT_ERR_STATE, "%s exists and is not a directory: choose another DIR", dir);
    if (*exists && is_workspace(dir)) {
        char course_id[128] = "";
        char path[PATH_SIZE + 32];
        tito_progress *p = NULL;
        snprintf(path, sizeof path, "%s/" TITO_WORKSPACE_PROGRESS, dir);
        if (tito_progress_read(&p, path) == TT_OK)
            snprintf(course_id, sizeof course_id, " (course %s)", p->course_id);
        tito_progress_free(p);
        return tt_error_set(TT_ERR_STATE,
                            "%s is already a tito workspace%s: nothing to do; `cd %s` and run "
                            "`tito module list`",
                            dir, course_id, dir);
    }
    if (*exists) {
        size_t count = 0;
        char first[256];
        tt_status st = dir_entries(dir, &count, first, sizeof first);
        if (st != TT_OK)
            return st;
        if (count > 0)
            return tt_error_set(TT_ERR_STATE,
                                "%s is not empty (it holds %s%s): tito init makes a workspace in a "
                                "new or empty directory, so that your work never mixes with other "
                                "files; choose another DIR",
                                dir, first, count > 1 ? " and more" : "");
    }
    /* Not inside another workspace: the nearest existing ancestor decides. */
    char anc[PATH_MAX];
    snprintf(anc, sizeof anc, "%s", dir);
    while (!is_dir(anc)) {
        char *slash = strrchr(anc, '/');
        if (!slash) {
            snprintf(anc, sizeof anc, ".");
            break;
        }
        if (slash == anc) {
            anc[1] = '\0';
            break;
        }
        *slash = '\0';
    }
    char root[PATH_SIZE];
    if (tito_workspace_locate(root, sizeof root, anc) == TT_OK)
        return tt_error_set(TT_ERR_STATE,
                            "%s is inside the tito workspace %s: make the new workspace somewhere "
                            "else",
                            dir, root);
    tt_error_clear();
    return TT_OK;
}

static tt_status write_text(const char *root, const char *rel, const char *text)
{
    char path[PATH_SIZE];
    tt_status st = join_path(path, sizeof path, root, rel);
    if (st == TT_OK)
        st = tito_file_write_atomic(path, text, strlen(text), 0644);
    return st;
}

static const char gitignore_text[] =
    "# Build products: tito builds outside the workspace, but your own experiments may not.\n"
    "*.o\n"
    "*.a\n"
    "*.so\n"
    "a.out\n"
    "build/\n"
    "# tito's scratch space.\n"
    ".tito/tmp/\n"
    ".tito/build/\n";

static tt_status readme_text(char **out, const tito_course *course)
{
    size_t cap = 8192, used = 0;
    char *buf = malloc(cap);
    if (!buf)
        return tt_error_set(TT_ERR_NOMEM, "out of memory writing README.md");
    const tito_module *first = &tito_modules[0];
    int n = snprintf(
        buf, cap,
        "# %s%s%s%s\n"
        "\n"
        "This is your workspace for %s, made by `tito init`. It is a git repository: tito\n"
        "commits each file it writes for you, so your work and your progress have a history.\n"
        "\n"
        "## Next steps\n"
        "\n"
        "1. `tito module list` shows the modules and where you are.\n"
        "2. `tito module start %02d` gives you module %02d's starter and guide in\n"
        "   `modules/%s/`.\n"
        "3. Read `modules/%s/GUIDE.md`, write your code in `modules/%s/%s.c`,\n"
        "   and run `tito module test %02d` as often as you like.\n"
        "4. `tito grade %02d` grades it; `tito module status` shows your grades.\n"
        "\n"
        "Commit your work with git as you go. If a module goes badly wrong,\n"
        "`tito module reset NN` puts its starter back, after saving your work on a\n"
        "backup branch (tito tells you its name and how to get the work back).\n"
        "\n"
        "## What is here\n"
        "\n"
        "| path | what |\n"
        "|---|---|\n"
        "| `modules/NN_name/` | your code for each module, after `tito module start NN` |\n"
        "| `include/tinytorch/` | the headers: the contract your code implements (read, do not edit) |\n"
        "| `tito-course.json` | the course: its modules, points and limits |\n"
        "| `.tito/progress.json` | your progress, kept by tito (do not edit by hand) |\n"
        "\n"
        "## The modules\n"
        "\n"
        "| # | module | what |\n"
        "|---|---|---|\n",
        course->title, *course->term ? " (" : "", course->term, *course->term ? ")" : "",
        course->title, first->number, first->number, first->slug, first->slug, first->slug,
        first->name, first->number, first->number);
    if (n < 0 || (size_t)n >= cap) {
        free(buf);
        return tt_error_set(TT_ERR_NOMEM, "README.md does not fit its buffer");
    }
    used = (size_t)n;
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        n = snprintf(buf + used, cap - used, "| %02d | %s | %s |\n", m->number, m->name, m->title);
        if (n < 0 || (size_t)n >= cap - used) {
            free(buf);
            return tt_error_set(TT_ERR_NOMEM, "README.md does not fit its buffer");
        }
        used += (size_t)n;
    }
    *out = buf;
    return TT_OK;
}

static tt_status copy_headers(const char *root, const tito_material *mat)
{
    char from_dir[PATH_SIZE], to_dir[PATH_SIZE];
    tt_status st = tito_material_headers(from_dir, sizeof from_dir, mat);
    if (st == TT_OK)
        st = join_path(to_dir, sizeof to_dir, root, "include/tinytorch");
    if (st == TT_OK)
        st = tito_mkdirs(to_dir);
    if (st != TT_OK)
        return st;
    DIR *d = opendir(from_dir);
    if (!d)
        return tt_error_set(TT_ERR_IO, "cannot read the course headers in %s: %s", from_dir,
                            strerror(errno));
    size_t copied = 0;
    struct dirent *e;
    while (st == TT_OK && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".h") != 0)
            continue;
        char from[PATH_SIZE], to[PATH_SIZE];
        st = join_path(from, sizeof from, from_dir, e->d_name);
        if (st == TT_OK)
            st = join_path(to, sizeof to, to_dir, e->d_name);
        if (st == TT_OK)
            st = copy_file(from, to);
        copied++;
    }
    closedir(d);
    if (st == TT_OK && copied == 0)
        st = tt_error_set(TT_ERR_IO, "the course material has no headers in %s", from_dir);
    return st;
}

tt_status tito_workspace_init(tito_workspace **out, const char *dir, const tito_course *course,
                              const tito_material *mat)
{
    if (out)
        *out = NULL;
    bool existed = false;
    tt_status st = check_target(dir, &existed);
    if (st != TT_OK)
        return st;
    st = tito_mkdirs(dir);
    if (st != TT_OK)
        return st;

    char root[PATH_MAX];
    char *readme = NULL;
    tito_progress *progress = NULL;
    tito_workspace *ws = NULL;
    git_repository *repo = NULL;
    bool lib = false;
    if (!realpath(dir, root)) {
        st = tt_error_set(TT_ERR_IO, "cannot resolve the directory %s: %s", dir, strerror(errno));
        goto cleanup;
    }

    git_libgit2_init();
    lib = true;
    git_repository_init_options opts;
    git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
    opts.initial_head = "main";
    if (git_repository_init_ext(&repo, root, &opts) != 0) {
        st = git_fail("cannot make the git repository");
        goto cleanup;
    }
    git_repository_free(repo);
    repo = NULL;

    char path[PATH_SIZE];
    TT_CHECK(join_path(path, sizeof path, root, ".tito"));
    TT_CHECK(tito_mkdirs(path));
    TT_CHECK(join_path(path, sizeof path, root, TITO_WORKSPACE_COURSE));
    TT_CHECK(tito_file_write_atomic(path, course->text, course->text_len, 0644));
    TT_CHECK(tito_progress_new(&progress, course->id));
    TT_CHECK(join_path(path, sizeof path, root, TITO_WORKSPACE_PROGRESS));
    TT_CHECK(tito_progress_write(progress, path));
    TT_CHECK(readme_text(&readme, course));
    TT_CHECK(write_text(root, "README.md", readme));
    TT_CHECK(write_text(root, ".gitignore", gitignore_text));
    TT_CHECK(copy_headers(root, mat));

    TT_CHECK(tito_workspace_open(&ws, root, course));
    static const char *const paths[] = {".gitignore", "README.md", TITO_WORKSPACE_COURSE,
                                        TITO_WORKSPACE_PROGRESS, "include"};
    char message[512];
    snprintf(message, sizeof message, "tito: start workspace for %s", course->title);
    TT_CHECK(tito_workspace_commit(ws, paths, sizeof paths / sizeof paths[0], message, NULL, NULL));
    if (out) {
        *out = ws;
        ws = NULL;
    }
cleanup:
    tito_workspace_free(ws);
    tito_progress_free(progress);
    free(readme);
    git_repository_free(repo);
    if (lib)
        git_libgit2_shutdown();
    if (st != TT_OK) {
        /* Take back what init wrote: the directory was empty or new. */
        empty_tree(dir);
        if (!existed)
            rmdir(dir);
    }
    return st;
}

/* ------------------------------------------------------- a module's files */

void tito_module_files_of(tito_module_files *out, const tito_module *m)
{
    snprintf(out->dir, sizeof out->dir, "modules/%s", m->slug);
    snprintf(out->source, sizeof out->source, "modules/%s/%s.c", m->slug, m->name);
    snprintf(out->guide, sizeof out->guide, "modules/%s/GUIDE.md", m->slug);
    snprintf(out->header, sizeof out->header, "include/tinytorch/%s.h", m->name);
}

static int count_todos(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, "TODO: your code here")) != NULL; p++)
        n++;
    return n;
}

/* The starter (required) and guide (NULL when the material has none) of m. */
static tt_status read_material(char **starter, size_t *starter_len, char **guide, size_t *guide_len,
                               const tito_material *mat, const tito_module *m)
{
    *starter = *guide = NULL;
    char path[PATH_SIZE];
    tt_status st = tito_material_starter(path, sizeof path, mat, m);
    if (st != TT_OK)
        return st;
    if (!tito_path_exists(path))
        return tt_error_set(TT_ERR_IO, "the course material has no starter for module %02d (%s): %s",
                            m->number, m->name, path);
    if ((st = tito_file_read(starter, starter_len, path)) != TT_OK)
        return st;
    if ((st = tito_material_guide(path, sizeof path, mat, m)) != TT_OK || !tito_path_exists(path))
        return st;
    st = tito_file_read(guide, guide_len, path);
    if (st != TT_OK) {
        free(*starter);
        *starter = NULL;
    }
    return st;
}

/* Write the starter and (when there is one) the guide of m into the workspace. */
static tt_status write_module_files(tito_workspace *ws, const tito_module_files *f, const char *starter,
                                    size_t starter_len, const char *guide, size_t guide_len)
{
    char path[PATH_SIZE];
    tt_status st = tito_workspace_path(path, sizeof path, ws, f->dir);
    if (st == TT_OK)
        st = tito_mkdirs(path);
    if (st == TT_OK)
        st = tito_workspace_path(path, sizeof path, ws, f->source);
    if (st == TT_OK)
        st = tito_file_write_atomic(path, starter, starter_len, 0644);
    if (st == TT_OK && guide) {
        st = tito_workspace_path(path, sizeof path, ws, f->guide);
        if (st == TT_OK)
            st = tito_file_write_atomic(path, guide, guide_len, 0644);
    }
    return st;
}

tt_status tito_module_start(tito_start_result *res, tito_workspace *ws, const tito_course *course,
                            const tito_material *mat, const tito_module *m, time_t now)
{
    memset(res, 0, sizeof *res);
    tito_module_files f;
    tito_module_files_of(&f, m);
    char path[PATH_SIZE];
    tt_status st = tito_workspace_path(path, sizeof path, ws, f.source);
    if (st != TT_OK)
        return st;
    res->source_exists = tito_path_exists(path);
    if ((st = tito_workspace_path(path, sizeof path, ws, f.guide)) != TT_OK)
        return st;
    res->guide_exists = tito_path_exists(path);
    if (res->source_exists || res->guide_exists) {
        res->outcome = TITO_START_EXISTS;
        return TT_OK;
    }
    if (!tito_progress_unlocked(ws->progress, course, m, &res->blocker)) {
        res->outcome = TITO_START_LOCKED;
        return TT_OK;
    }

    char *starter = NULL, *guide = NULL;
    size_t starter_len = 0, guide_len = 0;
    TT_CHECK(read_material(&starter, &starter_len, &guide, &guide_len, mat, m));
    TT_CHECK(write_module_files(ws, &f, starter, starter_len, guide, guide_len));
    res->todos = count_todos(starter);
    res->guide_written = guide != NULL;
    tito_progress_mark_started(ws->progress, m, now);
    TT_CHECK(tito_workspace_save_progress(ws));
    const char *paths[] = {f.source, f.guide, TITO_WORKSPACE_PROGRESS};
    char message[256];
    snprintf(message, sizeof message, "tito: start module %02d (%s)", m->number, m->name);
    TT_CHECK(tito_workspace_commit(ws, paths, 3, message, res->commit, NULL));
    TT_CHECK(tito_workspace_path(path, sizeof path, ws, f.header));
    res->header_present = tito_path_exists(path);
    res->outcome = TITO_START_WRITTEN;
cleanup:
    free(starter);
    free(guide);
    return st;
}

tt_status tito_module_reset(tito_reset_result *res, tito_workspace *ws, const tito_material *mat,
                            const tito_module *m, time_t now)
{
    memset(res, 0, sizeof *res);
    tito_module_files f;
    tito_module_files_of(&f, m);
    tito_module_progress *mp = tito_progress_module(ws->progress, m);
    char path[PATH_SIZE];
    tt_status st = tito_workspace_path(path, sizeof path, ws, f.source);
    if (st != TT_OK)
        return st;
    if (mp && mp->state == TITO_STATE_NOT_STARTED && !tito_path_exists(path))
        return tt_error_set(TT_ERR_STATE,
                            "module %02d (%s) was never started: there is nothing to reset; "
                            "`tito module start %02d` gives you its starter",
                            m->number, m->name, m->number);

    char *starter = NULL, *guide = NULL;
    size_t starter_len = 0, guide_len = 0;
    /* Read the material first: a missing starter must stop the reset before it saves
     * or changes anything. */
    TT_CHECK(read_material(&starter, &starter_len, &guide, &guide_len, mat, m));
    TT_CHECK(tito_workspace_backup(ws, m->slug, now, res->branch, sizeof res->branch,
                                   res->backup_commit));
    TT_CHECK(write_module_files(ws, &f, starter, starter_len, guide, guide_len));
    res->guide_written = guide != NULL;
    tito_progress_mark_reset(ws->progress, m, now);
    TT_CHECK(tito_workspace_save_progress(ws));
    const char *paths[] = {f.source, f.guide, TITO_WORKSPACE_PROGRESS};
    char message[512];
    snprintf(message, sizeof message,
             "tito: reset module %02d (%s) to its starter\n\nThe work before the reset is on the "
             "branch %s.",
             m->number, m->name, res->branch);
    TT_CHECK(tito_workspace_commit(ws, paths, 3, message, res->commit, NULL));
cleanup:
    free(starter);
    free(guide);
    return st;
}
