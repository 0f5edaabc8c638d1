/*
 * grader/fetch.c: fetching a student's repository for a batch, with the credentials an
 * instructor already has and a deadline.
 *
 * libgit2 1.5 (Debian 12) has no connect or read timeout: a host that never answers,
 * or a server that accepts and then says nothing, would hold a batch of 400 students
 * for as long as TCP keeps trying, per student. So each fetch runs in a child process
 * that the parent kills at the deadline, and a host that did not answer in time is not
 * tried again in the same run (the next run fetches what it missed). Ctrl-C stops the
 * fetch at once, too: the parent waits on the interrupt's descriptor as well.
 */
#define _POSIX_C_SOURCE 200809L

#include "fetch.h"

#include <errno.h>
#include <git2.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "interrupt.h"

#define PATH_SIZE 4096
#define MESSAGE_SIZE 2048
#define MAX_GAVE_UP 64

/* ---------------------------------------------------------------- credentials */

/* libgit2 asks again after each refused credential: each source is offered once. */
typedef struct cred_state {
    bool tried_agent, tried_userpass;
    int key_index;
} cred_state;

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void percent_decode(char *s)
{
    char *out = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *out++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
}

/* "scheme://host[:port]" of a URL into buf (the part a credential store line matches on). */
static void url_origin(char *buf, size_t size, const char *url, char *user, size_t user_size)
{
    buf[0] = '\0';
    if (user)
        user[0] = '\0';
    const char *sep = strstr(url, "://");
    if (!sep)
        return;
    const char *host = sep + 3;
    const char *end = host + strcspn(host, "/");
    const char *at = memchr(host, '@', (size_t)(end - host));
    if (at) {
        if (user) {
            size_t n = strcspn(host, ":@");
            snprintf(user, user_size, "%.*s", (int)n, host);
            percent_decode(user);
        }
        host = at + 1;
    }
    snprintf(buf, size, "%.*s://%.*s", (int)(sep - url), url, (int)(end - host), host);
}

/* A user name and password for `url` from git's credential store files
 * (~/.git-credentials, $XDG_CONFIG_HOME/git/credentials), as `git credential-store`
 * keeps them: one URL per line, "https://user:password@host". */
static bool stored_credentials(const char *url, const char *want_user, char *user, size_t user_size,
                               char *pass, size_t pass_size)
{
    char origin[512];
    url_origin(origin, sizeof origin, url, NULL, 0);
    if (!origin[0])
        return false;
    const char *home = getenv("HOME");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    char files[2][PATH_SIZE];
    snprintf(files[0], sizeof files[0], "%s/.git-credentials", home ? home : "");
    if (xdg && *xdg)
        snprintf(files[1], sizeof files[1], "%s/git/credentials", xdg);
    else
        snprintf(files[1], sizeof files[1], "%s/.config/git/credentials", home ? home : "");
    for (int f = 0; f < 2; f++) {
        FILE *in = fopen(files[f], "r");
        if (!in)
            continue;
        char line[1024];
        while (fgets(line, sizeof line, in)) {
            line[strcspn(line, "\r\n")] = '\0';
            char o[512], u[256];
            url_origin(o, sizeof o, line, u, sizeof u);
            if (strcmp(o, origin) != 0 || (want_user && *want_user && strcmp(u, want_user) != 0))
                continue;
            const char *host = strstr(line, "://") + 3;
            const char *at = strchr(host, '@');
            const char *colon = strchr(host, ':');
            if (!at || !colon || colon > at)
                continue;
            snprintf(user, user_size, "%s", u);
            snprintf(pass, pass_size, "%.*s", (int)(at - colon - 1), colon + 1);
            percent_decode(pass);
            fclose(in);
            return true;
        }
        fclose(in);
    }
    return false;
}

static int credentials_cb(git_credential **out, const char *url, const char *user_from_url,
                          unsigned int allowed, void *payload)
{
    cred_state *cs = payload;
    const char *user = user_from_url && *user_from_url ? user_from_url : "git";
    if (allowed & GIT_CREDENTIAL_USERNAME)
        return git_credential_username_new(out, user);
    if (allowed & GIT_CREDENTIAL_SSH_KEY) {
        if (!cs->tried_agent && getenv("SSH_AUTH_SOCK")) {
            cs->tried_agent = true;
            return git_credential_ssh_key_from_agent(out, user);
        }
        static const char *const keys[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
        const char *home = getenv("HOME");
        while (home && cs->key_index < 3) {
            char key[PATH_SIZE], pub[PATH_SIZE + 4];
            snprintf(key, sizeof key, "%s/.ssh/%s", home, keys[cs->key_index++]);
            snprintf(pub, sizeof pub, "%s.pub", key);
            if (tito_path_exists(key))
                return git_credential_ssh_key_new(out, user, tito_path_exists(pub) ? pub : NULL, key,
                                                  NULL);
        }
    }
    if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !cs->tried_userpass) {
        cs->tried_userpass = true;
        char u[256], p[512];
        if (stored_credentials(url, user_from_url, u, sizeof u, p, sizeof p)) {
            int rc = git_credential_userpass_plaintext_new(out, u, p);
            memset(p, 0, sizeof p);
            return rc;
        }
    }
    git_error_set_str(GIT_ERROR_NET,
                      "no credentials left to try (tito offers ssh-agent, ~/.ssh/id_ed25519, "
                      "id_ecdsa, id_rsa, and ~/.git-credentials)");
    return -1;
}

/* ---------------------------------------------------------------- fetching */


static char *git_message(const char *what)
{
    const git_error *e = git_error_last();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s: %s", what, e && e->message ? e->message : "unknown git error");
    return strdup(buf);
}

/* Fetch origin into `repo` and point refs/remotes/origin/HEAD at the remote's default
 * branch. Returns NULL, or why it failed (the caller frees). */
static char *fetch_origin(git_repository *repo)
{
    git_remote *remote = NULL;
    git_buf head = {0};
    char *err = NULL;
    cred_state cs = {0};
    git_remote_callbacks cb;
    git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
    cb.credentials = credentials_cb;
    cb.payload = &cs;
    /* Proxies as git finds them (http.proxy, http_proxy and friends). */
    git_proxy_options po;
    git_proxy_options_init(&po, GIT_PROXY_OPTIONS_VERSION);
    po.type = GIT_PROXY_AUTO;
    git_fetch_options fo;
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    fo.callbacks = cb;
    fo.proxy_opts = po;
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    if (git_remote_lookup(&remote, repo, "origin") < 0) {
        err = git_message("no remote origin");
        goto done;
    }
    if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, &po, NULL) < 0) {
        err = git_message("cannot connect");
        goto done;
    }
    bool has_default = git_remote_default_branch(&head, remote) == 0;
    if (git_remote_download(remote, NULL, &fo) < 0 ||
        git_remote_update_tips(remote, &cb, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, NULL) < 0) {
        err = git_message("cannot fetch");
        goto done;
    }
    if (has_default && strncmp(head.ptr, "refs/heads/", 11) == 0) {
        char target[512];
        snprintf(target, sizeof target, "refs/remotes/origin/%s", head.ptr + 11);
        git_reference *ref = NULL;
        if (git_reference_symbolic_create(&ref, repo, "refs/remotes/origin/HEAD", target, 1,
                                          "tito: the remote's default branch") < 0) {
            err = git_message("cannot record the default branch");
            goto done;
        }
        git_reference_free(ref);
    }
done:
    if (remote) {
        git_remote_disconnect(remote);
        git_remote_free(remote);
    }
    git_buf_dispose(&head);
    return err;
}

/* ---------------------------------------------------------------- the deadline */

/* Where a repository lives, for remembering hosts that did not answer: "scheme://host
 * [:port]" of a URL, the host of an scp-like "user@host:path", "" for a local path. */
static void host_of(char *buf, size_t size, const char *location)
{
    url_origin(buf, size, location, NULL, 0);
    if (buf[0])
        return;
    const char *colon = strchr(location, ':');
    const char *slash = strchr(location, '/');
    if (colon && (!slash || colon < slash)) {
        const char *at = memchr(location, '@', (size_t)(colon - location));
        const char *host = at ? at + 1 : location;
        snprintf(buf, size, "%.*s", (int)(colon - host), host);
    }
}

/* Hosts that did not answer within the deadline in this process (a batch is one run). */
static char gave_up[MAX_GAVE_UP][256];
static size_t n_gave_up;

static bool given_up(const char *host)
{
    for (size_t i = 0; host[0] && i < n_gave_up; i++)
        if (strcmp(gave_up[i], host) == 0)
            return true;
    return false;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: fetch, write why it failed (if it did) to fd, exit 0 or 1. */
static void fetch_child(const char *repo_path, int fd)
{
    tito_interrupt_release();
    git_repository *repo = NULL;
    char *err = git_repository_open_bare(&repo, repo_path) < 0
                    ? git_message("cannot open the repository")
                    : fetch_origin(repo);
    git_repository_free(repo);
    const char *msg = err ? err : "";
    size_t len = strlen(msg), done = 0;
    while (done < len) {
        ssize_t w = write(fd, msg + done, len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    _exit(err ? 1 : 0);
}

char *tito_fetch_origin(const char *repo_path, const char *location, double seconds)
{
    char host[256], msg[MESSAGE_SIZE];
    host_of(host, sizeof host, location);
    if (given_up(host)) {
        snprintf(msg, sizeof msg,
                 "%s did not answer within %.0f s earlier in this run: not tried again (the "
                 "next run fetches it)",
                 host, seconds);
        return strdup(msg);
    }
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(msg, sizeof msg, "cannot fetch: no pipe (%s)", strerror(errno));
        return strdup(msg);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, sizeof msg, "cannot fetch: no process (%s)", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return strdup(msg);
    }
    if (pid == 0) {
        close(fds[0]);
        fetch_child(repo_path, fds[1]);
    }
    close(fds[1]);

    size_t len = 0;
    bool late = false, stopped = false;
    double end = now_seconds() + seconds;
    for (;;) {
        double left = end - now_seconds();
        if (left <= 0) {
            late = true;
            break;
        }
        struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN},
                              {.fd = tito_interrupt_fd(), .events = POLLIN}};
        int n = poll(p, p[1].fd >= 0 ? 2 : 1, (int)(left * 1000.0) + 1);
        if (n < 0 && errno != EINTR)
            break;
        if (tito_interrupt_caught || (p[1].fd >= 0 && p[1].revents)) {
            stopped = true;
            break;
        }
        if (n <= 0 || !p[0].revents)
            continue;
        char chunk[512];
        ssize_t r = read(fds[0], chunk, sizeof chunk);
        if (r <= 0)
            break; /* the child is done */
        size_t k = (size_t)r < sizeof msg - 1 - len ? (size_t)r : sizeof msg - 1 - len;
        memcpy(msg + len, chunk, k);
        len += k;
    }
    close(fds[0]);
    if (late || stopped)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    msg[len] = '\0';
    if (stopped)
        return strdup("interrupted");
    if (late) {
        if (host[0] && n_gave_up < MAX_GAVE_UP)
            snprintf(gave_up[n_gave_up++], sizeof gave_up[0], "%s", host);
        snprintf(msg, sizeof msg,
                 "%s did not answer within %.0f s (--fetch-timeout sets how long a fetch may "
                 "take)",
                 host[0] ? host : location, seconds);
        return strdup(msg);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return NULL;
    if (len == 0)
        snprintf(msg, sizeof msg, "cannot fetch: the fetching process ended abnormally");
    return strdup(msg);
}
