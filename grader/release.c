/*
 * The course release (release.h): the kit copied under a whitelist, this tito, the
 * course, a README and checksums, then the whole folder searched for solution text
 * before it is renamed into place.
 *
 * The search compares lines (trimmed, inner runs of blanks made one space) through a
 * hash set: solution lines are a few thousand, release files a few megabytes, and a line
 * is the unit a copy-paste leaks.
 *
 * What counts as solution text. Every line of 21 characters or more of a solution
 * region, except idioms: lines that also appear outside the regions (the scaffolding
 * students get), in the public headers, in two or more different regions, or in the
 * project's own code that implements nothing of the course (tests/, bench/, grader/
 * less the visible checks and their helpers that ship, cli/, leaderboard/). Measured
 * on this course that leaves about 2,500 lines, and the release's own code (visible
 * checks, milestone programs) still shares a handful of one-line API calls with them
 * ("tt_layer_set_training(model, false);"). So a leak is a solution line of 40
 * characters or more (of 60 or more, also inside a longer line: a solution quoted in
 * prose), or two
 * solution lines of the same region with nothing but short lines between them: a pasted
 * solution is both, an API call is neither.
 */
#define _XOPEN_SOURCE 700

#include "release.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "starter.h"

#define PATH_SIZE 4096
/* Shorter lines ("return st;", "goto cleanup;") are everyone's. */
#define MIN_LINE 21
/* A single line this long is a solution's own; shorter ones count in pairs. */
#define LONG_LINE 40
/* A solution line this long is looked for inside longer lines too (a loop header of 50
 * characters is still an idiom when a line adds its body to it). */
#define QUOTED_LINE 60

/* ---------------------------------------------------------------- helpers */

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static bool strlist_push(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    char *c = strdup(s);
    if (!c)
        return false;
    l->v[l->n++] = c;
    return true;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under root/rel, as paths relative to root, sorted. Symbolic links
 * are refused: a release is plain files. */
static tt_status list_files(strlist *out, const char *root, const char *rel)
{
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
    if (n < 0 || (size_t)n >= sizeof dir)
        return tt_error_set(TT_ERR_IO, "%s/%s: path too long", root, rel);
    DIR *d = opendir(dir);
    if (!d)
        return tt_error_set(TT_ERR_IO, "cannot read the folder %s: %s", dir, strerror(errno));
    tt_status st = TT_OK;
    struct dirent *e;
    while (st == TT_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[PATH_SIZE], full[PATH_SIZE];
        int c = snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        int f = snprintf(full, sizeof full, "%s/%s", root, child);
        if (c < 0 || (size_t)c >= sizeof child || f < 0 || (size_t)f >= sizeof full) {
            st = tt_error_set(TT_ERR_IO, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        struct stat sb;
        if (lstat(full, &sb) != 0)
            st = tt_error_set(TT_ERR_IO, "cannot read %s: %s", full, strerror(errno));
        else if (S_ISDIR(sb.st_mode))
            st = list_files(out, root, child);
        else if (S_ISREG(sb.st_mode))
            st = strlist_push(out, child) ? TT_OK : tt_error_set(TT_ERR_NOMEM, "release: out of memory");
        else
            st = tt_error_set(TT_ERR_FORMAT, "%s is not a plain file (a release holds plain files only)",
                              full);
    }
    closedir(d);
    if (st == TT_OK && !*rel)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return st;
}

static tt_status copy_file(const char *from, const char *to, unsigned mode)
{
    char *text = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&text, &len, from);
    if (st != TT_OK)
        return st;
    char dir[PATH_SIZE];
    snprintf(dir, sizeof dir, "%s", to);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        st = tito_mkdirs(dir);
    }
    if (st == TT_OK)
        st = tito_file_write_atomic(to, text, len, mode);
    free(text);
    return st;
}

/* ---------------------------------------------------------------- what a kit may hold */

static const char *const kit_allowed[] = {
    "manifest.txt",
    "include/tinytorch/*.h",
    "lib/*.a",
    "ref/*.o",
    "probe/*.o",
    "suites/*/visible.o",
    "suites/*/hidden.o",
    "suites/*/visible.c",
    "suites/*/helpers.h",
    "suites/*/suite.json",
    "starters/*/*.c",
    "guides/*.md",
    /* The milestone programs, which students build with their own modules, and the
     * data they train on. */
    "milestones/*.c",
    "milestones/*.h",
    "milestones/*.def",
    "milestones/common/*.c",
    "milestones/common/*.h",
    "data/*",
    NULL,
};

static bool allowed_in_kit(const char *rel)
{
    for (const char *const *p = kit_allowed; *p; p++)
        if (fnmatch(*p, rel, FNM_PATHNAME) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- the line set */

typedef struct line_entry {
    char *text;    /* normalized */
    char *origin;  /* "reference/src/x.c:12" for solution lines, NULL for idioms */
    size_t region; /* which region (numbered over all sources from 1); 0 for idioms */
} line_entry;

typedef struct line_set {
    line_entry *slots;
    size_t cap, n;
} line_set;

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static line_entry *set_find(const line_set *set, const char *s, size_t n)
{
    if (set->cap == 0)
        return NULL;
    size_t i = (size_t)(hash_str(s, n) & (set->cap - 1));
    while (set->slots[i].text) {
        if (strlen(set->slots[i].text) == n && memcmp(set->slots[i].text, s, n) == 0)
            return &set->slots[i];
        i = (i + 1) & (set->cap - 1);
    }
    return NULL;
}

static bool set_grow(line_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 1024;
    line_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < set->cap; i++) {
        if (!set->slots[i].text)
            continue;
        size_t j = (size_t)(hash_str(set->slots[i].text, strlen(set->slots[i].text)) & (cap - 1));
        while (slots[j].text)
            j = (j + 1) & (cap - 1);
        slots[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return true;
}

static void make_idiom(line_entry *e)
{
    free(e->origin);
    e->origin = NULL;
    e->region = 0;
}

/* Add a line: a solution line of `region` (origin set), or an idiom (origin NULL). An
 * idiom wins over a solution line, and a line of two regions is an idiom. */
static bool set_add(line_set *set, const char *s, size_t n, const char *origin, size_t region)
{
    line_entry *e = set_find(set, s, n);
    if (e) {
        if (!origin || (e->origin && e->region != region))
            make_idiom(e);
        return true;
    }
    if ((set->n + 1) * 2 > set->cap && !set_grow(set))
        return false;
    size_t i = (size_t)(hash_str(s, n) & (set->cap - 1));
    while (set->slots[i].text)
        i = (i + 1) & (set->cap - 1);
    set->slots[i].text = strndup(s, n);
    set->slots[i].origin = origin ? strdup(origin) : NULL;
    set->slots[i].region = origin ? region : 0;
    if (!set->slots[i].text || (origin && !set->slots[i].origin))
        return false;
    set->n++;
    return true;
}

static void set_free(line_set *set)
{
    for (size_t i = 0; i < set->cap; i++) {
        free(set->slots[i].text);
        free(set->slots[i].origin);
    }
    free(set->slots);
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next line of text[*pos..len), normalized into buf (size bytes): blanks trimmed at
 * both ends and each inner run made one space, so that indentation and alignment do
 * not hide a copy. A longer line is cut (it is then compared by its start). */
static bool next_line(const char *text, size_t len, size_t *pos, char *buf, size_t size,
                      size_t *n)
{
    if (*pos >= len)
        return false;
    size_t i = *pos, k = 0;
    bool gap = false;
    for (; i < len && text[i] != '\n'; i++) {
        if (blank(text[i])) {
            gap = k > 0;
            continue;
        }
        if (gap && k + 1 < size)
            buf[k++] = ' ';
        gap = false;
        if (k + 1 < size)
            buf[k++] = text[i];
    }
    buf[k] = '\0';
    *n = k;
    *pos = i < len ? i + 1 : i;
    return true;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return n >= p && memcmp(s, prefix, p) == 0;
}

/* Solution lines of one reference source into `set` (and its other lines as idioms);
 * *region counts the regions over all sources. */
static tt_status add_source(line_set *set, const char *path, const char *rel, size_t *region)
{
    char *text = NULL, *stripped = NULL;
    size_t len = 0, slen = 0;
    tt_status st = tito_file_read(&text, &len, path);
    if (st != TT_OK)
        return st;
    /* The stripper's checks first: a malformed marker is a refusal, never a guess. */
    st = tito_starter_strip(&stripped, &slen, rel, text, len);
    free(stripped);
    if (st != TT_OK) {
        free(text);
        return st;
    }
    /* Two passes: public lines first, so that a line both inside and outside regions
     * is public whatever the order. */
    size_t first_region = *region;
    for (int pass = 0; pass < 2 && st == TT_OK; pass++) {
        size_t pos = 0, n = 0, lineno = 0;
        char s[1024];
        bool in_region = false;
        *region = first_region;
        while (st == TT_OK && next_line(text, len, &pos, s, sizeof s, &n)) {
            lineno++;
            if (starts_with(s, n, "/* BEGIN SOLUTION")) {
                in_region = true;
                ++*region;
                continue;
            }
            if (starts_with(s, n, "/* END SOLUTION */")) {
                in_region = false;
                continue;
            }
            if (n < MIN_LINE || in_region != (pass == 1))
                continue;
            char origin[PATH_SIZE + 32];
            snprintf(origin, sizeof origin, "%s:%zu", rel, lineno);
            if (!set_add(set, s, n, pass == 1 ? origin : NULL, *region))
                st = tt_error_set(TT_ERR_NOMEM, "release: out of memory");
        }
    }
    free(text);
    return st;
}

/* Every line (>= MIN_LINE) of the C sources and headers under `dir` as idioms, except
 * the files whose path (relative to dir) matches a pattern of `skip` (a NULL-terminated
 * list; NULL: none). A missing folder adds nothing. */
static tt_status add_idioms(line_set *set, const char *dir, const char *const *skip)
{
    strlist files = {0};
    if (!tito_path_exists(dir))
        return TT_OK;
    tt_status st = list_files(&files, dir, "");
    for (size_t i = 0; st == TT_OK && i < files.n; i++) {
        size_t fl = strlen(files.v[i]);
        if (fl < 2 || (strcmp(files.v[i] + fl - 2, ".c") != 0 && strcmp(files.v[i] + fl - 2, ".h") != 0))
            continue;
        bool skipped = false;
        for (const char *const *k = skip; k && *k && !skipped; k++)
            skipped = fnmatch(*k, files.v[i], FNM_PATHNAME) == 0;
        if (skipped)
            continue;
        char path[PATH_SIZE * 2];
        snprintf(path, sizeof path, "%s/%s", dir, files.v[i]);
        char *text = NULL;
        size_t len = 0, pos = 0, n = 0;
        char s[1024];
        if ((st = tito_file_read(&text, &len, path)) != TT_OK)
            break;
        while (st == TT_OK && next_line(text, len, &pos, s, sizeof s, &n))
            if (n >= MIN_LINE && !set_add(set, s, n, NULL, 0))
                st = tt_error_set(TT_ERR_NOMEM, "release: out of memory");
        free(text);
    }
    strlist_free(&files);
    return st;
}

/* The long solution lines, by a hash of their first PREFIX characters, for finding
 * them inside longer lines. */
#define PREFIX 24

typedef struct prefix_ref {
    uint64_t hash;
    const line_entry *entry;
} prefix_ref;

typedef struct prefix_index {
    prefix_ref *v;
    size_t n;
} prefix_index;

static int cmp_prefix(const void *a, const void *b)
{
    uint64_t x = ((const prefix_ref *)a)->hash, y = ((const prefix_ref *)b)->hash;
    return x < y ? -1 : x > y;
}

static bool prefix_build(prefix_index *ix, const line_set *set)
{
    ix->v = calloc(set->n ? set->n : 1, sizeof *ix->v);
    if (!ix->v)
        return false;
    for (size_t i = 0; i < set->cap; i++) {
        const line_entry *e = &set->slots[i];
        if (e->text && e->origin && strlen(e->text) >= QUOTED_LINE)
            ix->v[ix->n++] = (prefix_ref){hash_str(e->text, PREFIX), e};
    }
    qsort(ix->v, ix->n, sizeof *ix->v, cmp_prefix);
    return true;
}

/* A long solution line that occurs in s[0..n) anywhere but as the whole of it, or NULL. */
static const line_entry *prefix_find(const prefix_index *ix, const char *s, size_t n)
{
    for (size_t i = 0; ix->n && i + QUOTED_LINE <= n; i++) {
        uint64_t h = hash_str(s + i, PREFIX);
        size_t lo = 0, hi = ix->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ix->v[mid].hash < h)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < ix->n && ix->v[k].hash == h; k++) {
            const line_entry *e = ix->v[k].entry;
            size_t el = strlen(e->text);
            if (el < n && i + el <= n && memcmp(s + i, e->text, el) == 0)
                return e;
        }
    }
    return NULL;
}

static bool compiled(const char *rel, const char *text, size_t len)
{
    size_t n = strlen(rel);
    if ((n > 2 && strcmp(rel + n - 2, ".o") == 0) || (n > 2 && strcmp(rel + n - 2, ".a") == 0))
        return true;
    return len >= 4 && memcmp(text, "\x7f" "ELF", 4) == 0;
}

void tito_release_report_release(tito_release_report *report)
{
    for (size_t i = 0; i < report->n_leaks; i++) {
        free(report->leaks[i].file);
        free(report->leaks[i].origin);
        free(report->leaks[i].text);
    }
    free(report->leaks);
    memset(report, 0, sizeof *report);
}

static bool add_leak(tito_release_report *r, const char *file, size_t line, const line_entry *e)
{
    tito_release_leak *v = realloc(r->leaks, (r->n_leaks + 1) * sizeof *v);
    if (!v)
        return false;
    r->leaks = v;
    tito_release_leak *l = &r->leaks[r->n_leaks++];
    l->file = strdup(file);
    l->line = line;
    l->origin = strdup(e->origin);
    l->text = strdup(e->text);
    return l->file && l->origin && l->text;
}

tt_status tito_release_check(tito_release_report *report, const char *dir, const char *source_root)
{
    memset(report, 0, sizeof *report);
    line_set set = {0};
    prefix_index prefixes = {0};
    strlist sources = {0}, files = {0};
    tt_status st = TT_OK;
    char src_dir[PATH_SIZE], inc_dir[PATH_SIZE];
    snprintf(src_dir, sizeof src_dir, "%s/reference/src", source_root);
    snprintf(inc_dir, sizeof inc_dir, "%s/reference/include", source_root);

    /* The solution regions, then the idioms: the headers students read, and the
     * project's code that implements nothing of the course. */
    size_t region = 0;
    TT_CHECK(list_files(&sources, src_dir, ""));
    for (size_t i = 0; i < sources.n; i++) {
        size_t n = strlen(sources.v[i]);
        if (n < 2 || strcmp(sources.v[i] + n - 2, ".c") != 0)
            continue;
        char path[PATH_SIZE * 2], rel[PATH_SIZE];
        snprintf(path, sizeof path, "%s/%s", src_dir, sources.v[i]);
        snprintf(rel, sizeof rel, "reference/src/%s", sources.v[i]);
        TT_CHECK(add_source(&set, path, rel, &region));
    }
    TT_CHECK(add_idioms(&set, inc_dir, NULL));
    /* The suites' sources that ship (kit_allowed) are searched, so they are no idioms. */
    static const char *const shipped_checks[] = {"suites/*/visible.c", "suites/*/helpers.h", NULL};
    static const struct {
        const char *dir;
        const char *const *skip;
    } independent[] = {
        {"tests", NULL}, {"bench", NULL}, {"grader", shipped_checks}, {"cli", NULL},
        {"leaderboard", NULL},
    };
    for (size_t i = 0; i < sizeof independent / sizeof independent[0]; i++) {
        char dir2[PATH_SIZE + 64];
        snprintf(dir2, sizeof dir2, "%s/%s", source_root, independent[i].dir);
        TT_CHECK(add_idioms(&set, dir2, independent[i].skip));
    }
    for (size_t i = 0; i < set.cap; i++)
        report->solution_lines += set.slots[i].text && set.slots[i].origin;
    if (!prefix_build(&prefixes, &set)) {
        st = tt_error_set(TT_ERR_NOMEM, "release: out of memory");
        goto cleanup;
    }

    TT_CHECK(list_files(&files, dir, ""));
    for (size_t i = 0; i < files.n; i++) {
        char path[PATH_SIZE * 2];
        snprintf(path, sizeof path, "%s/%s", dir, files.v[i]);
        char *text = NULL;
        size_t len = 0;
        TT_CHECK(tito_file_read(&text, &len, path));
        report->files++;
        report->bytes += len;
        if (compiled(files.v[i], text, len)) {
            free(text);
            continue;
        }
        report->scanned++;
        size_t pos = 0, n = 0, lineno = 0, prev_line = 0;
        char s[1024];
        const line_entry *prev = NULL; /* the last non-blank line's solution entry */
        bool prev_reported = false, ok = true;
        while (ok && next_line(text, len, &pos, s, sizeof s, &n)) {
            lineno++;
            /* Blank and short lines ("}", "return st;") neither count nor break a pair. */
            if (n < MIN_LINE)
                continue;
            const line_entry *e = set_find(&set, s, n);
            if (e && !e->origin)
                e = NULL;
            const line_entry *inside = e ? NULL : prefix_find(&prefixes, s, n);
            if (inside) {
                ok = add_leak(report, files.v[i], lineno, inside);
                prev = NULL;
                continue;
            }
            bool pair = e && prev && prev->region == e->region;
            if (pair && !prev_reported)
                ok = add_leak(report, files.v[i], prev_line, prev);
            bool leak = e && (n >= LONG_LINE || pair);
            if (ok && leak)
                ok = add_leak(report, files.v[i], lineno, e);
            prev = e;
            prev_line = lineno;
            prev_reported = leak;
        }
        free(text);
        if (!ok) {
            st = tt_error_set(TT_ERR_NOMEM, "release: out of memory");
            goto cleanup;
        }
    }
cleanup:
    free(prefixes.v);
    set_free(&set);
    strlist_free(&sources);
    strlist_free(&files);
    return st;
}

/* ---------------------------------------------------------------- making one */

static const char readme_text[] =
    "# %s: the course tools\n"
    "\n"
    "This folder is everything you need to work through the course: `tito`, the\n"
    "command-line tool, and its kit (the headers you code against, the starter of each\n"
    "module, the module guides and the checks tito runs).\n"
    "\n"
    "## Install\n"
    "\n"
    "tito needs a C compiler and Valgrind to grade, and the libraries it was built with.\n"
    "On Debian 12 or Ubuntu:\n"
    "\n"
    "    sudo apt install gcc valgrind git libgit2-1.5 libcurl4 libjansson4 libsodium23\n"
    "\n"
    "Keep the folder's layout (tito finds its kit at ../share/tinytorch/kit from its own\n"
    "place) and put its bin/ folder on your PATH, for example:\n"
    "\n"
    "    export PATH=\"$PWD/bin:$PATH\"\n"
    "    tito --version\n"
    "\n"
    "`sha256sum -c SHA256SUMS` checks that your copy is complete and unchanged.\n"
    "\n"
    "## Start\n"
    "\n"
    "    tito init ~/tinytorch && cd ~/tinytorch\n"
    "    tito module start 01\n"
    "    tito module test 01\n"
    "\n"
    "`tito --help` lists the commands; each module's GUIDE.md explains its ideas and its\n"
    "contract.\n";

tt_status tito_release_make(tito_release_report *report, const tito_kit *kit,
                            const tito_course *course, const tito_release_options *options)
{
    memset(report, 0, sizeof *report);
    if (!kit || !course || !options || !options->out_dir)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_release_make: kit, course and out_dir are required");
    const char *out = options->out_dir;
    struct stat sb;
    if (stat(out, &sb) == 0) {
        strlist existing = {0};
        bool empty = S_ISDIR(sb.st_mode) && list_files(&existing, out, "") == TT_OK && existing.n == 0;
        strlist_free(&existing);
        if (!empty)
            return tt_error_set(TT_ERR_STATE,
                                "%s already exists: a release goes to a new (or empty) folder", out);
    }
    char tito_path[PATH_SIZE];
    if (options->tito) {
        snprintf(tito_path, sizeof tito_path, "%s", options->tito);
    } else {
        ssize_t n = readlink("/proc/self/exe", tito_path, sizeof tito_path - 1);
        if (n <= 0)
            return tt_error_set(TT_ERR_IO, "tito_release_make: cannot find this program: %s",
                                strerror(errno));
        tito_path[n] = '\0';
    }

    char tmp[PATH_SIZE];
    int k = snprintf(tmp, sizeof tmp, "%s.partial-XXXXXX", out);
    if (k < 0 || (size_t)k >= sizeof tmp)
        return tt_error_set(TT_ERR_IO, "%s: path too long", out);
    if (!mkdtemp(tmp))
        return tt_error_set(TT_ERR_IO, "cannot make a folder beside %s: %s", out, strerror(errno));
    chmod(tmp, 0755);

    tt_status st = TT_OK;
    strlist kitfiles = {0}, all = {0};
    char *sums = NULL;
    size_t sums_len = 0, sums_cap = 0;
    char from[PATH_SIZE * 2], to[PATH_SIZE * 2];

    TT_CHECK(list_files(&kitfiles, kit->root, ""));
    for (size_t i = 0; i < kitfiles.n; i++) {
        if (!allowed_in_kit(kitfiles.v[i])) {
            st = tt_error_set(TT_ERR_FORMAT,
                              "the kit at %s holds %s, which a release may not carry (a kit has "
                              "headers, compiled objects, starters, guides, visible checks, "
                              "suite.json, milestone programs and their data only): rebuild the "
                              "kit from a clean build",
                              kit->root, kitfiles.v[i]);
            goto cleanup;
        }
        snprintf(from, sizeof from, "%s/%s", kit->root, kitfiles.v[i]);
        snprintf(to, sizeof to, "%s/share/tinytorch/kit/%s", tmp, kitfiles.v[i]);
        TT_CHECK(copy_file(from, to, 0644));
    }
    snprintf(to, sizeof to, "%s/bin/tito", tmp);
    TT_CHECK(copy_file(tito_path, to, 0755));
    snprintf(to, sizeof to, "%s/share/tinytorch/course.json", tmp);
    TT_CHECK(tito_file_write_atomic(to, course->text, course->text_len, 0644));
    {
        char readme[sizeof readme_text + 256];
        int n = snprintf(readme, sizeof readme, readme_text, course->title);
        snprintf(to, sizeof to, "%s/README.md", tmp);
        TT_CHECK(tito_file_write_atomic(to, readme, (size_t)n, 0644));
    }

    /* Checksums of everything so far, in path order. */
    TT_CHECK(list_files(&all, tmp, ""));
    for (size_t i = 0; i < all.n; i++) {
        char hash[TITO_KIT_HASH_SIZE];
        snprintf(from, sizeof from, "%s/%s", tmp, all.v[i]);
        TT_CHECK(tito_kit_sha256_file(hash, from));
        size_t need = strlen(hash) + strlen(all.v[i]) + 4;
        if (sums_len + need + 1 > sums_cap) {
            size_t cap = sums_cap ? sums_cap * 2 : 8192;
            while (cap < sums_len + need + 1)
                cap *= 2;
            char *grown = realloc(sums, cap);
            if (!grown) {
                st = tt_error_set(TT_ERR_NOMEM, "release: out of memory");
                goto cleanup;
            }
            sums = grown;
            sums_cap = cap;
        }
        /* sha256sum's format: the hex digest, two spaces, the path. */
        sums_len += (size_t)snprintf(sums + sums_len, sums_cap - sums_len, "%s  %s\n", hash + 7, all.v[i]);
    }
    snprintf(to, sizeof to, "%s/SHA256SUMS", tmp);
    TT_CHECK(tito_file_write_atomic(to, sums ? sums : "", sums_len, 0644));

    if (options->source_root) {
        TT_CHECK(tito_release_check(report, tmp, options->source_root));
        if (report->n_leaks > 0) {
            st = tt_error_set(TT_ERR_STATE,
                              "solution text in the release: %s line %zu is %s (%zu line%s found "
                              "in all); nothing was released",
                              report->leaks[0].file, report->leaks[0].line, report->leaks[0].origin,
                              report->n_leaks, report->n_leaks == 1 ? "" : "s");
            goto cleanup;
        }
    } else {
        strlist listed = {0};
        if (list_files(&listed, tmp, "") == TT_OK)
            report->files = listed.n;
        strlist_free(&listed);
    }
    if (stat(out, &sb) == 0 && rmdir(out) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot replace the empty folder %s: %s", out, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, out) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
        goto cleanup;
    }
cleanup:
    if (st != TT_OK)
        tito_remove_tree(tmp);
    strlist_free(&kitfiles);
    strlist_free(&all);
    free(sums);
    return st;
}
