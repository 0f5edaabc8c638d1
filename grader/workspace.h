/*
 * grader/workspace.h: a student's workspace, the git repository `tito init` makes.
 *
 *     tito-course.json            the course file the workspace was made for
 *     README.md                   next steps, for the student
 *     .gitignore                  build products
 *     .tito/progress.json         progress (grader/progress.h)
 *     include/tinytorch/<name>.h  the headers (the contract), copied from the kit
 *     modules/<slug>/<name>.c     the student's code, from `tito module start`
 *     modules/<slug>/GUIDE.md     the module's guide
 *
 * A workspace is found by walking up from a directory to the first one holding a .tito/
 * folder. Every change tito makes to it is committed (only the paths tito wrote, so a
 * student's other uncommitted edits stay uncommitted), and nothing tito does loses
 * work: `tito module start` refuses to overwrite, and a reset first saves the whole
 * workspace, uncommitted changes included, on a backup branch.
 *
 * Commits are authored by the user.name and user.email of git's configuration, or
 * by "TinyTorch-C student <student@localhost>" when there are none.
 *
 * Nothing here prints; errors are tt_status values with tt_error_last() saying what
 * happened and what to do. A tito_workspace goes with tito_workspace_free.
 */
#ifndef TITO_WORKSPACE_H
#define TITO_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "course.h"
#include "modules.h"
#include "progress.h"
#include "tinytorch/core.h"

#define TITO_WORKSPACE_PROGRESS ".tito/progress.json"
#define TITO_WORKSPACE_COURSE "tito-course.json"
#define TITO_FALLBACK_AUTHOR_NAME "TinyTorch-C student"
#define TITO_FALLBACK_AUTHOR_EMAIL "student@localhost"

struct git_repository;

typedef struct tito_workspace {
    char *root;              /* absolute path, no trailing slash */
    tito_progress *progress; /* .tito/progress.json as read; save with tito_workspace_save_progress */
    struct git_repository *repo;
} tito_workspace;

/* ------------------------------------------------------------ the material */

/* Where the student material comes from: the grading kit's starters/, guides/ and
 * include/tinytorch/ (docs/grading.md; found by grader/kit.h: $TITO_KIT, the build
 * tree, the installation). */
typedef struct tito_material {
    char root[4096]; /* the kit's root */
} tito_material;

/* Errors: those of tito_kit_locate (TT_ERR_IO: no kit, or an incomplete one). */
tt_status tito_material_locate(tito_material *out);

/* The path of module m's starter, guide, and of the folder holding the tinytorch
 * headers (".../include/tinytorch"), into buf. Errors: TT_ERR_IO (path too long). */
tt_status tito_material_starter(char *buf, size_t size, const tito_material *mat, const tito_module *m);
tt_status tito_material_guide(char *buf, size_t size, const tito_material *mat, const tito_module *m);
tt_status tito_material_headers(char *buf, size_t size, const tito_material *mat);

/* ------------------------------------------------------- making and finding */

/* Make a workspace in `dir` (created if missing) for `course`: the git repository,
 * tito-course.json (course->text), .tito/progress.json, README.md, .gitignore, the
 * headers from `mat`, and a first commit "tito: start workspace for <title>".
 * Refuses (TT_ERR_STATE, nothing written) a directory that is already a workspace,
 * one inside a workspace, and any other non-empty directory. If a later step fails,
 * what init wrote is removed again. *out (may be NULL) gets the open workspace.
 * Errors: TT_ERR_STATE, TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_workspace_init(tito_workspace **out, const char *dir, const tito_course *course,
                              const tito_material *mat);

/* The workspace root for `start_dir`: the nearest directory from it up to / that holds
 * a .tito folder, into buf (absolute). Errors: TT_ERR_STATE with "not inside a tito
 * workspace (no .tito/ found from <dir> up to /): ..." when there is none; TT_ERR_IO. */
tt_status tito_workspace_locate(char *buf, size_t size, const char *start_dir);

/* Open the workspace at `root`, read its progress and check that it belongs to
 * `course` (skipped when course is NULL). Errors: TT_ERR_STATE ("this workspace
 * belongs to course X; this tito is for course Y: ..."), TT_ERR_FORMAT (a corrupt
 * progress file: the message says how to get it back from git), TT_ERR_IO. */
tt_status tito_workspace_open(tito_workspace **out, const char *root, const tito_course *course);

/* tito_workspace_locate from start_dir, then tito_workspace_open. */
tt_status tito_workspace_find(tito_workspace **out, const char *start_dir, const tito_course *course);

/* Close; NULL does nothing. */
void tito_workspace_free(tito_workspace *ws);

/* root + "/" + rel into buf. Errors: TT_ERR_IO (too long). */
tt_status tito_workspace_path(char *buf, size_t size, const tito_workspace *ws, const char *rel);

/* Write ws->progress to .tito/progress.json atomically (not committed). */
tt_status tito_workspace_save_progress(tito_workspace *ws);

/* ------------------------------------------------------------------ git */

/* Commit the current contents of `paths` (relative to the root: files, or folders
 * taken whole minus what .gitignore ignores; a missing path is a deletion) on top of
 * HEAD with `message`. Only these paths change: the rest of the commit is HEAD's, and
 * the index is updated for these paths alone. When nothing differs from HEAD there is
 * no commit: *committed (may be NULL) says which. id (may be NULL, 41 bytes) gets
 * HEAD afterwards. Errors: TT_ERR_IO (a git failure, with git's message). */
tt_status tito_workspace_commit(tito_workspace *ws, const char *const *paths, size_t n_paths,
                                const char *message, char *id, bool *committed);

/* Save the whole workspace as it is now (uncommitted and untracked changes included,
 * ignored files not) as a commit on a new branch "backup/<label>-<YYYYmmdd-HHMMSS>"
 * (UTC; "-2", "-3" ... when taken), leaving HEAD, the index and the files as they are.
 * branch (size bytes) gets the branch name, id (may be NULL, 41 bytes) the commit.
 * Errors: TT_ERR_IO. */
tt_status tito_workspace_backup(tito_workspace *ws, const char *label, time_t now, char *branch,
                                size_t size, char *id);

/* HEAD's commit id (41 bytes: 40 hex and a NUL). Errors: TT_ERR_STATE (no commit
 * yet), TT_ERR_IO. */
tt_status tito_workspace_head(tito_workspace *ws, char *id);

/* Whether `path` (a file or folder, relative to the root) has changes not in HEAD:
 * modified, staged, deleted or untracked (ignored files do not count). */
tt_status tito_workspace_dirty(tito_workspace *ws, const char *path, bool *dirty);

/* ------------------------------------------------------- a module's files */

typedef struct tito_module_files {
    char dir[128];    /* "modules/03_layers" (relative to the workspace root) */
    char source[160]; /* "modules/03_layers/layers.c" */
    char guide[160];  /* "modules/03_layers/GUIDE.md" */
    char header[160]; /* "include/tinytorch/layers.h" */
} tito_module_files;

void tito_module_files_of(tito_module_files *out, const tito_module *m);

typedef enum tito_start_outcome {
    TITO_START_WRITTEN, /* starter and guide written, progress updated, committed */
    TITO_START_LOCKED,  /* the course unlocks in order and `blocker` is not completed */
    TITO_START_EXISTS,  /* the module's files are there: nothing was written */
} tito_start_outcome;

typedef struct tito_start_result {
    tito_start_outcome outcome;
    const tito_module *blocker;  /* TITO_START_LOCKED */
    bool source_exists, guide_exists; /* TITO_START_EXISTS: which of them */
    bool guide_written;          /* false when the material has no guide for the module */
    bool header_present;         /* include/tinytorch/<name>.h is in the workspace */
    int todos;                   /* places marked TODO in the starter */
    char commit[41];
} tito_start_result;

/* `tito module start`: copy module m's starter and guide into modules/<slug>/,
 * mark it started and commit "tito: start module NN (name)". Never overwrites: when
 * either file exists the outcome is TITO_START_EXISTS and nothing changes. A locked
 * module (tito_progress_unlocked) changes nothing either. Those two outcomes return
 * TT_OK: they are answers, not failures. Errors: TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_module_start(tito_start_result *res, tito_workspace *ws, const tito_course *course,
                            const tito_material *mat, const tito_module *m, time_t now);

typedef struct tito_reset_result {
    char branch[160];        /* the backup branch holding the work as it was */
    char backup_commit[41];
    bool guide_written;
    char commit[41];         /* the commit that restored the starter (HEAD after) */
} tito_reset_result;

/* `tito module reset`: save the workspace on a backup branch
 * (tito_workspace_backup, label = the slug), then put module m's starter and guide
 * back, count the reset in the progress and commit "tito: reset module NN (name) to its
 * starter". Errors: TT_ERR_STATE (the module was never started), TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_module_reset(tito_reset_result *res, tito_workspace *ws, const tito_material *mat,
                            const tito_module *m, time_t now);

#endif /* TITO_WORKSPACE_H */
