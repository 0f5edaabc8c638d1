/*
 * File helpers for the grader: whole-file reads, atomic replacement, mkdir -p.
 * POSIX only (open/fsync/rename); the grader does not run elsewhere.
 */
#define _POSIX_C_SOURCE 200809L

#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tt_status tito_file_read(char **out, size_t *len, const char *path)
{
    *out = NULL;
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_error_set(TT_ERR_IO, "cannot open %s: %s", path, strerror(errno));

    tt_status st = TT_OK;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        st = tt_error_set(TT_ERR_NOMEM, "out of memory reading %s", path);
        goto cleanup;
    }
    for (;;) {
        if (cap - n < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                st = tt_error_set(TT_ERR_NOMEM, "out of memory reading %s", path);
                goto cleanup;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        st = tt_error_set(TT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        goto cleanup;
    }
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    if (len)
        *len = n;
cleanup:
    free(buf);
    fclose(f);
    return st;
}

bool tito_path_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* fsync the directory holding `path`, so the rename itself survives a crash. */
static tt_status sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == path) {
        snprintf(dir, sizeof dir, "/");
    } else {
        int n = snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        if (n < 0 || (size_t)n >= sizeof dir)
            return tt_error_set(TT_ERR_IO, "path too long: %s", path);
    }
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        return tt_error_set(TT_ERR_IO, "cannot open directory %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    /* Some file systems cannot fsync a directory (EINVAL); the data itself was synced. */
    if (rc != 0 && saved != EINVAL)
        return tt_error_set(TT_ERR_IO, "cannot sync directory %s: %s", dir, strerror(saved));
    return TT_OK;
}

tt_status tito_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return tt_error_set(TT_ERR_IO, "path too long: %s", path);

    int fd = mkstemp(tmp);
    if (fd < 0)
        return tt_error_set(TT_ERR_IO, "cannot create a temporary file next to %s: %s", path,
                            strerror(errno));

    tt_status st = TT_OK;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            st = tt_error_set(TT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
            goto cleanup;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot set the mode of %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (fsync(fd) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot sync %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = tt_error_set(TT_ERR_IO, "cannot close %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto cleanup;
    }
    return sync_parent(path);

cleanup:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return st;
}

tt_status tito_mkdirs(const char *path)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s", path);
    if (n < 0 || (size_t)n >= sizeof buf)
        return tt_error_set(TT_ERR_IO, "path too long: %s", path);

    /* Create each prefix ending at a '/', then the whole path. */
    for (char *p = buf + 1;; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return tt_error_set(TT_ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
        struct stat sb;
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return tt_error_set(TT_ERR_IO, "cannot create directory %s: a file of that name is in the way",
                                buf);
        if (last)
            return TT_OK;
        *p = '/';
    }
}

void tito_remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[4096];
            int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            if (n > 0 && (size_t)n < sizeof child)
                tito_remove_tree(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
        return;
    }
    unlink(path);
}
