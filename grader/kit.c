/*
 * grader/kit.c: finding and checking the grading kit (kit.h).
 *
 * TITO_KIT_BUILD_DIR (the build tree's kit) and TITO_KIT_INSTALL_REL (the kit's path
 * relative to the directory of an installed tito) come from grader/CMakeLists.txt. The
 * order of the search is in kit.h; the installed kit comes before the build tree's.
 */
/* realpath is XSI; _XOPEN_SOURCE 700 includes POSIX 2008. */
#define _XOPEN_SOURCE 700

#include "kit.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

#ifndef TITO_KIT_BUILD_DIR
#error "TITO_KIT_BUILD_DIR comes from grader/CMakeLists.txt"
#endif
#ifndef TITO_KIT_INSTALL_REL
#error "TITO_KIT_INSTALL_REL comes from grader/CMakeLists.txt"
#endif

#define FIX_HINT                                                                             \
    "rebuild tito (cmake --build <your build directory>), reinstall it, or set TITO_KIT "    \
    "to a complete kit"

/* snprintf into a path buffer; false when it does not fit (the caller reports it). */
static bool path_fits(int n, size_t size)
{
    return n >= 0 && (size_t)n < size;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The kit-relative files every kit must have. */
static tt_status check_kit(const char *root)
{
    char path[4096];
    if (!path_fits(snprintf(path, sizeof path, "%s/manifest.txt", root), sizeof path))
        return tt_error_set(TT_ERR_IO, "path too long: %s", root);
    char *manifest = NULL;
    if (tito_file_read(&manifest, NULL, path) != TT_OK)
        return tt_error_set(TT_ERR_IO,
                            "%s is not a grading kit (manifest.txt is missing or unreadable): "
                            "%s",
                            root, FIX_HINT);
    bool ok = strncmp(manifest, "tito-kit 1\n", 11) == 0;
    free(manifest);
    if (!ok)
        return tt_error_set(TT_ERR_IO,
                            "the grading kit at %s is of another format (manifest.txt does not "
                            "start with \"tito-kit 1\"): %s",
                            root, FIX_HINT);

    const char *fixed[] = {"include/tinytorch/core.h", "lib/libtinytorch_core.a",
                           "probe/probe_main.o"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (!path_fits(snprintf(path, sizeof path, "%s/%s", root, fixed[i]), sizeof path) ||
            !is_file(path))
            return tt_error_set(TT_ERR_IO, "the grading kit at %s is incomplete: %s is missing; %s",
                                root, fixed[i], FIX_HINT);
    }
    for (size_t i = 0; i < tito_module_count; i++) {
        const char *name = tito_modules[i].name;
        for (size_t k = 0; k < 2; k++) {
            char rel[256];
            if (k == 0)
                snprintf(rel, sizeof rel, "include/tinytorch/%s.h", name);
            else
                snprintf(rel, sizeof rel, "ref/%s.o", name);
            if (!path_fits(snprintf(path, sizeof path, "%s/%s", root, rel), sizeof path) ||
                !is_file(path))
                return tt_error_set(TT_ERR_IO,
                                    "the grading kit at %s is incomplete: %s is missing; %s",
                                    root, rel, FIX_HINT);
        }
    }
    return TT_OK;
}

tt_status tito_kit_open(tito_kit **out, const char *root)
{
    *out = NULL;
    if (!root || !*root)
        return tt_error_set(TT_ERR_IO, "no grading kit given: %s", FIX_HINT);
    char abs[PATH_MAX];
    if (!realpath(root, abs) || !is_dir(abs))
        return tt_error_set(TT_ERR_IO, "the grading kit %s does not exist or is not a directory; %s",
                            root, FIX_HINT);
    tt_status st = check_kit(abs);
    if (st != TT_OK)
        return st;
    tito_kit *kit = calloc(1, sizeof *kit);
    char *copy = strdup(abs);
    if (!kit || !copy) {
        free(kit);
        free(copy);
        return tt_error_set(TT_ERR_NOMEM, "out of memory opening the grading kit");
    }
    kit->root = copy;
    kit->found_by = "the caller";
    *out = kit;
    return TT_OK;
}

/* The directory of the running executable, links resolved; false when unknown. */
static bool exe_dir(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return false;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

/* Whether the canonical path `path` is the build tree tito was made in or lies under it.
 * The build tree is the folder holding TITO_KIT_BUILD_DIR (<build>/kit); false when it
 * no longer exists. */
static bool in_build_tree(const char *path)
{
    char root[PATH_MAX], canon[PATH_MAX];
    if (!path_fits(snprintf(root, sizeof root, "%s", TITO_KIT_BUILD_DIR), sizeof root))
        return false;
    char *slash = strrchr(root, '/');
    if (!slash || slash == root)
        return false;
    *slash = '\0';
    if (!realpath(root, canon))
        return false;
    size_t n = strlen(canon);
    return strncmp(path, canon, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

tt_status tito_kit_locate(tito_kit **out)
{
    *out = NULL;
    const char *env = getenv("TITO_KIT");
    if (env && *env) {
        tt_status st = tito_kit_open(out, env);
        if (st != TT_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", tt_error_last());
            return tt_error_set(st, "TITO_KIT=%s: %s", env, msg);
        }
        (*out)->found_by = "TITO_KIT";
        return TT_OK;
    }

    /* The kit next to the executable comes first: an installed (or released) tito
     * grades with the kit installed with it, even while the build tree it was made in
     * still exists and is rebuilt. */
    char dir[PATH_MAX] = "", installed[PATH_MAX] = "", path[PATH_MAX];
    bool have_dir = exe_dir(dir, sizeof dir);
    if (have_dir &&
        path_fits(snprintf(installed, sizeof installed, "%s/%s", dir, TITO_KIT_INSTALL_REL),
                  sizeof installed) &&
        path_fits(snprintf(path, sizeof path, "%s/manifest.txt", installed), sizeof path) &&
        is_file(path)) {
        tt_status st = tito_kit_open(out, installed);
        if (st == TT_OK)
            (*out)->found_by = "the installation";
        return st;
    }

    /* The build tree's kit serves only a program run from that build tree. */
    bool from_build = have_dir && in_build_tree(dir);
    if (from_build) {
        snprintf(path, sizeof path, "%s/manifest.txt", TITO_KIT_BUILD_DIR);
        if (is_file(path)) {
            tt_status st = tito_kit_open(out, TITO_KIT_BUILD_DIR);
            if (st == TT_OK)
                (*out)->found_by = "the build tree";
            return st;
        }
    }
    return tt_error_set(TT_ERR_IO, "no grading kit found (looked in %s%s%s): %s",
                        installed[0] ? installed : "the folder of this tito",
                        from_build ? " and " : "", from_build ? TITO_KIT_BUILD_DIR : "", FIX_HINT);
}

void tito_kit_free(tito_kit *kit)
{
    if (!kit)
        return;
    free(kit->root);
    free(kit);
}

tt_status tito_kit_path(char *buf, size_t size, const tito_kit *kit, const char *rel)
{
    int n = snprintf(buf, size, "%s/%s", kit->root, rel);
    if (n < 0 || (size_t)n >= size)
        return tt_error_set(TT_ERR_IO, "path too long: %s/%s", kit->root, rel);
    return TT_OK;
}

bool tito_kit_has_suite(const tito_kit *kit, const tito_module *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/suites/%s", kit->root, m->slug);
    return is_dir(path);
}

tt_status tito_kit_check_suite(const tito_kit *kit, const tito_module *m)
{
    if (!tito_kit_has_suite(kit, m))
        return tt_error_set(TT_ERR_STATE,
                            "no checks for module %s in this kit yet (the kit at %s has no "
                            "suites/%s)",
                            m->slug, kit->root, m->slug);
    const char *parts[] = {"visible.o", "hidden.o", "suite.json"};
    for (size_t i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/suites/%s/%s", kit->root, m->slug, parts[i]);
        if (!is_file(path))
            return tt_error_set(TT_ERR_IO,
                                "the grading kit at %s is incomplete: suites/%s/%s is missing; %s",
                                kit->root, m->slug, parts[i], FIX_HINT);
    }
    return TT_OK;
}

/* ------------------------------------------------------------ hashes */

static void hex_text(char out[TITO_KIT_HASH_SIZE], const unsigned char digest[32])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < 32; i++) {
        out[7 + 2 * i] = hex[digest[i] >> 4];
        out[8 + 2 * i] = hex[digest[i] & 15];
    }
    out[71] = '\0';
}

void tito_kit_sha256(char out[TITO_KIT_HASH_SIZE], const void *data, size_t len)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, len);
    hex_text(out, digest);
}

tt_status tito_kit_sha256_file(char out[TITO_KIT_HASH_SIZE], const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_error_set(TT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&state, buf, n);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed)
        return tt_error_set(TT_ERR_IO, "cannot read %s", path);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state, digest);
    hex_text(out, digest);
    return TT_OK;
}

/* SHA-256 of the lines "<hash of file> <rel>\n" for the kit-relative files rels. */
static tt_status hash_kit_files(char out[TITO_KIT_HASH_SIZE], const tito_kit *kit,
                                const char *const *rels, size_t n)
{
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    for (size_t i = 0; i < n; i++) {
        char path[4096], h[TITO_KIT_HASH_SIZE], line[4200];
        tt_status st = tito_kit_path(path, sizeof path, kit, rels[i]);
        if (st == TT_OK)
            st = tito_kit_sha256_file(h, path);
        if (st != TT_OK)
            return st;
        int len = snprintf(line, sizeof line, "%s %s\n", h, rels[i]);
        crypto_hash_sha256_update(&state, (const unsigned char *)line, (size_t)len);
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state, digest);
    hex_text(out, digest);
    return TT_OK;
}

tt_status tito_kit_reference_hash(char out[TITO_KIT_HASH_SIZE], const tito_kit *kit)
{
    enum { MAX_FILES = 64 };
    char names[MAX_FILES][128];
    const char *rels[MAX_FILES];
    size_t n = 0;
    rels[n++] = "lib/libtinytorch_core.a";
    rels[n++] = "probe/probe_main.o";
    for (size_t i = 0; i < tito_module_count && n < MAX_FILES; i++, n++) {
        snprintf(names[n], sizeof names[n], "ref/%s.o", tito_modules[i].name);
        rels[n] = names[n];
    }
    return hash_kit_files(out, kit, rels, n);
}

tt_status tito_kit_suite_hash(char out[TITO_KIT_HASH_SIZE], const tito_kit *kit,
                              const tito_module *m)
{
    char names[3][128];
    const char *rels[3];
    const char *parts[] = {"visible.o", "hidden.o", "suite.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(names[i], sizeof names[i], "suites/%s/%s", m->slug, parts[i]);
        rels[i] = names[i];
    }
    return hash_kit_files(out, kit, rels, 3);
}
