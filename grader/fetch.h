/*
 * grader/fetch.h: fetching a student's repository for a batch (grader/fetch.c).
 */
#ifndef TITO_FETCH_H
#define TITO_FETCH_H

/* The default of `tito grade --batch --fetch-timeout`: long enough for a large first
 * clone over a slow link, short enough that a dead host costs minutes, not hours. */
#define TITO_FETCH_TIMEOUT_DEFAULT 120.0

/* Fetch the remote "origin" of the bare repository at repo_path (location: the
 * roster's URL or path, for messages and for remembering hosts), with the credentials
 * of the instructor's ssh-agent, ~/.ssh keys and git credential store, and point
 * refs/remotes/origin/HEAD at the remote's default branch. At most `seconds`: a fetch
 * that takes longer is stopped, and its host is not tried again in this process.
 * Returns NULL, or why it failed (malloc'ed; "interrupted" after Ctrl-C or SIGTERM). */
char *tito_fetch_origin(const char *repo_path, const char *location, double seconds);

#endif /* TITO_FETCH_H */
