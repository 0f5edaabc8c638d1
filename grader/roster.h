/*
 * grader/roster.h: the class list batch grading works through.
 *
 * A roster is a CSV file (RFC 4180: commas, double quotes around fields that hold
 * commas, quotes or line breaks, quotes doubled; LF or CRLF line ends; UTF-8) whose
 * first line names the columns, in any order:
 *
 *     id,name,repo
 *     ada,Ada Lovelace,/srv/class/ada/tinytorch
 *     alan,"Turing, Alan",https://git.example.edu/alan/tinytorch.git
 *
 *   id       required: the student's id in the gradebook (1-64 letters, digits, . _ - @,
 *            starting with a letter or digit; unique); course-file extensions name it
 *   repo     required: the student's workspace, a local path (relative paths are taken
 *            from the roster's folder) or a git URL (scheme://..., or user@host:path)
 *   name     optional: shown in the gradebook
 *   email    optional: copied to the gradebook (LMS imports match on it)
 *   branch   optional: the branch to grade; empty: the repository's default branch
 *   key_id   optional: the student's leaderboard key id (64 hex digits), which
 *            `tito course verify` uses to match leaderboard entries to students
 *
 * Blank lines and lines starting with '#' are skipped. A malformed roster is refused
 * with the line, the column and the reason ("roster r.csv:4: id: \"ada\" is also the id
 * on line 2"), never guessed at. Documented for instructors in docs/instructor-guide.md.
 */
#ifndef TITO_ROSTER_H
#define TITO_ROSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "tinytorch/core.h"

typedef struct tito_roster_student {
    char *id;
    char *name;     /* "" when not given */
    char *email;    /* "" when not given */
    char *repo;     /* as written in the roster */
    char *location; /* what to fetch: an absolute path or the URL */
    bool is_url;
    char *branch;   /* "" for the repository's default branch */
    char *key_id;   /* "" when not given */
    size_t line;    /* where the student is in the file (1-based) */
} tito_roster_student;

typedef struct tito_roster {
    tito_roster_student *students;
    size_t n_students;
    char *origin; /* the path it was read from, for messages */
} tito_roster;

/* Parse roster text (`len` bytes). `origin` names it in messages; relative repository
 * paths are resolved against `base_dir` (the roster's folder; NULL: the current
 * directory). Errors: TT_ERR_FORMAT (no header, a missing or unknown or repeated
 * column, a bad or repeated id, an empty repo, a bad key id, an unterminated quote, a
 * row with more fields than the header), TT_ERR_NOMEM. */
tt_status tito_roster_parse(tito_roster **out, const char *text, size_t len, const char *origin,
                            const char *base_dir);

/* Read and parse the roster at `path`. Errors: those of tito_roster_parse, TT_ERR_IO. */
tt_status tito_roster_load(tito_roster **out, const char *path);

/* The student with id `id`, or NULL. */
const tito_roster_student *tito_roster_find(const tito_roster *roster, const char *id);

/* Whether a repository location is a git URL rather than a local path. */
bool tito_roster_is_url(const char *repo);

/* NULL does nothing. */
void tito_roster_free(tito_roster *roster);

#endif /* TITO_ROSTER_H */
