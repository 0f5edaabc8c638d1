/*
 * grader/build.c: compile the student's module and link the probes (build.h).
 *
 * Every tool runs in the sandbox with the working directory as its only writable
 * place. When tito runs as root the sandboxed tools run as TITO_SANDBOX_UID, so the
 * directories they write into are given to that user.
 *
 * Messages for students are cut from the tools' output: the compiler's first error
 * with a little context; for the linker, one sentence per missing or doubly defined
 * function. Absolute paths of the working directory are removed from both.
 */
/* nftw is XSI; _XOPEN_SOURCE 700 includes POSIX 2008. */
#define _XOPEN_SOURCE 700

#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "sandbox.h"

/* Every student compile: these, then the reference's optimisation flags (b->cflags). */
#define COMPILE_FLAGS                                                                        \
    "-std=c17", "-g", "-fno-omit-frame-pointer", "-Wall", "-Wextra",                         \
        "-Wno-unused-parameter", "-Wno-unused-function", "-Wno-unused-variable"
#define MAX_CFLAGS 8

/* How much of a tool's output is kept, and how much of it a student is shown. */
#define TOOL_OUTPUT_CAP ((size_t)256 << 10)
#define MESSAGE_LINES 16
#define MESSAGE_CHARS 2400

/* ------------------------------------------------------------ small helpers */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *format(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

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

static tt_status nomem(void)
{
    return tt_error_set(TT_ERR_NOMEM, "out of memory preparing a build");
}

static void free_strings(char **a)
{
    if (!a)
        return;
    for (char **p = a; *p; p++)
        free(*p);
    free(a);
}

/* A writable directory for the sandboxed tools (see the top of the file). */
static tt_status give_to_sandbox(const char *dir)
{
    if (geteuid() == 0 && chown(dir, TITO_SANDBOX_UID, TITO_SANDBOX_GID) != 0)
        return tt_error_set(TT_ERR_IO, "cannot give %s to the sandbox user: %s", dir,
                            strerror(errno));
    return TT_OK;
}

static tt_status copy_file(const char *from, const char *to, unsigned mode)
{
    char *data = NULL;
    size_t len = 0;
    tt_status st = tito_file_read(&data, &len, from);
    if (st != TT_OK)
        return st;
    FILE *f = fopen(to, "wb");
    if (!f) {
        free(data);
        return tt_error_set(TT_ERR_IO, "cannot create %s: %s", to, strerror(errno));
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    free(data);
    if (!ok)
        return tt_error_set(TT_ERR_IO, "cannot write %s: %s", to, strerror(errno));
    if (chmod(to, (mode_t)mode) != 0)
        return tt_error_set(TT_ERR_IO, "cannot set the mode of %s: %s", to, strerror(errno));
    return TT_OK;
}

static tt_status make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return tt_error_set(TT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    return TT_OK;
}

/* Copy kit/<rel> to <work>/<dest>. */
static tt_status copy_from_kit(tito_build *b, const char *rel, const char *dest)
{
    char from[4096], to[4096];
    tt_status st = tito_kit_path(from, sizeof from, b->kit, rel);
    if (st != TT_OK)
        return st;
    snprintf(to, sizeof to, "%s/%s", b->workdir, dest);
    return copy_file(from, to, 0644);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The student's file name as the compiler will show it: its base name when that is a
 * plain C file name, else the module's own ("tensor.c"). */
static char *source_name_for(const char *path, const tito_module *m)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    bool plain = n > 2 && n < 100 && strcmp(base + n - 2, ".c") == 0 && base[0] != '.' &&
                 strcmp(base, "student.c") != 0;
    for (size_t i = 0; plain && i < n; i++)
        plain = (base[i] >= 'a' && base[i] <= 'z') || (base[i] >= 'A' && base[i] <= 'Z') ||
                (base[i] >= '0' && base[i] <= '9') || base[i] == '_' || base[i] == '-' ||
                base[i] == '.';
    return plain ? xstrdup(base) : format("%s.c", m->name);
}

/* ${XDG_CACHE_HOME:-$HOME/.cache}/tito, or NULL. */
static char *cache_root(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return format("%s/tito", xdg);
    const char *home = getenv("HOME");
    if (home && home[0] == '/')
        return format("%s/.cache/tito", home);
    return NULL;
}

/* Whether `flag` only chooses code generation (-O2, -march=native, -fno-tree-vectorize):
 * nothing else from the manifest reaches a compiler command line. */
static bool is_codegen_flag(const char *flag)
{
    size_t n = strlen(flag);
    if (n < 2 || n > 64 || flag[0] != '-' || !strchr("Omf", flag[1]))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = flag[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '=' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* b->cflags from the kit's manifest ("cflags -O3 -march=native"). A kit made before the
 * manifest recorded them gets -O2, what tito compiled with then. */
static tt_status load_cflags(tito_build *b)
{
    char path[4096], *manifest = NULL;
    tt_status st = tito_kit_path(path, sizeof path, b->kit, "manifest.txt");
    if (st == TT_OK)
        st = tito_file_read(&manifest, NULL, path);
    if (st != TT_OK)
        return st;
    b->cflags = calloc(MAX_CFLAGS + 1, sizeof *b->cflags);
    if (!b->cflags) {
        free(manifest);
        return nomem();
    }
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "cflags ", 7) != 0)
            continue;
        char *save_flag = NULL;
        for (char *flag = strtok_r(line + 7, " \t", &save_flag); flag;
             flag = strtok_r(NULL, " \t", &save_flag)) {
            if (!is_codegen_flag(flag)) {
                st = tt_error_set(TT_ERR_IO, "the grading kit at %s is damaged: its manifest's "
                                             "cflags has \"%.80s\", which is not an "
                                             "optimisation flag; rebuild or reinstall tito",
                                  b->kit->root, flag);
                break;
            }
            if (n == MAX_CFLAGS) {
                st = tt_error_set(TT_ERR_IO, "the grading kit at %s is damaged: its manifest "
                                             "lists more than %d cflags",
                                  b->kit->root, MAX_CFLAGS);
                break;
            }
            if (!(b->cflags[n++] = xstrdup(flag))) {
                st = nomem();
                break;
            }
        }
        break;
    }
    free(manifest);
    if (st == TT_OK && n == 0 && !(b->cflags[0] = xstrdup("-O2")))
        st = nomem();
    return st;
}

/* ------------------------------------------------------------ running tools */

/* Replace every "<work>/" in s by "" (in place). */
static void strip_workdir(char *s, const char *workdir)
{
    char prefix[4200];
    int n = snprintf(prefix, sizeof prefix, "%s/", workdir);
    if (n <= 0 || (size_t)n >= sizeof prefix)
        return;
    size_t plen = (size_t)n;
    char *w = s;
    for (const char *r = s; *r;) {
        if (strncmp(r, prefix, plen) == 0) {
            r += plen;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

/* Run a tool in the working directory. hidden: the list to hide. */
static tt_status run_tool(tito_sandbox_result **res, tito_build *b, const char *const *argv,
                          double wall, unsigned cpu)
{
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    o.argv = argv;
    o.workdir = b->workdir;
    o.hidden_paths = (const char *const *)b->hidden;
    o.limits.cpu_seconds = cpu;
    o.limits.wall_seconds = wall;
    o.limits.address_space = (uint64_t)1 << 30;
    o.limits.output_bytes = TOOL_OUTPUT_CAP;
    tt_status st = tito_sandbox_run(res, &o);
    if (st != TT_OK)
        return st;
    b->isolation = (*res)->isolation;
    if ((*res)->end == TITO_SANDBOX_SPAWN_FAILED) {
        st = tt_error_set(TT_ERR_STATE, "cannot run %s: %s (is a C compiler installed? "
                                        "Debian: apt install gcc)",
                          argv[0], (*res)->message);
        tito_sandbox_result_free(*res);
        *res = NULL;
    }
    return st;
}

/* The tool's stderr then stdout, workdir paths removed: the build log. */
static char *tool_log(const tito_sandbox_result *r, const char *workdir)
{
    char *log = format("%s%s%s", r->err.data, r->err.size && r->out.size ? "\n" : "",
                       r->out.data);
    if (!log)
        return NULL;
    strip_workdir(log, workdir);
    /* Tools may open with blank lines: cc1's out-of-memory message is "\ncc1: out of
     * memory allocating ..." (libiberty's xmalloc_failed). A log, and every message and
     * build log made from it, starts with what the tool said. */
    size_t blank = strspn(log, "\r\n");
    if (blank)
        memmove(log, log + blank, strlen(log + blank) + 1);
    return log;
}

/* Why a tool that did not simply exit ended, in words, or NULL when it exited. */
static char *abnormal_ending(const tito_sandbox_result *r, const char *tool, double wall,
                             unsigned cpu)
{
    switch (r->end) {
    case TITO_SANDBOX_EXITED: return NULL;
    case TITO_SANDBOX_TIMEOUT:
        return format("the %s did not finish within %.0f s: something in your file makes it "
                      "work far too hard (huge macros or initialisers?)",
                      tool, wall);
    case TITO_SANDBOX_CPU_LIMIT:
        return format("the %s used more than %u s of CPU time on your file", tool, cpu);
    case TITO_SANDBOX_MEMORY_LIMIT:
        return format("the %s ran out of memory (limit 1 GiB) on your file", tool);
    case TITO_SANDBOX_OUTPUT_LIMIT:
        return format("the %s printed more than %zu KiB of messages; fix the first ones "
                      "and try again",
                      tool, TOOL_OUTPUT_CAP >> 10);
    case TITO_SANDBOX_FILE_SIZE_LIMIT:
        return format("the %s's output file grew past the size limit", tool);
    case TITO_SANDBOX_SIGNALED:
        return format("the %s crashed (signal %d): %s", tool, r->signal, r->message);
    case TITO_SANDBOX_SPAWN_FAILED: return format("the %s could not be started", tool);
    }
    return format("the %s ended abnormally", tool);
}

/* The first error of a compiler log and a few lines of context. */
static char *first_messages(const char *log)
{
    const char *start = strstr(log, ": error:");
    if (!start)
        start = strstr(log, ": fatal error:");
    if (!start)
        start = log;
    /* Back to the start of the line, and one line more when that line is the
     * "In function ..." context gcc prints before the error. */
    while (start > log && start[-1] != '\n')
        start--;
    if (start > log) {
        const char *prev = start - 1;
        while (prev > log && prev[-1] != '\n')
            prev--;
        if (strstr(prev, "In function") && strstr(prev, "In function") < start)
            start = prev;
    }
    while (*start == '\n')
        start++;
    size_t len = 0, lines = 0;
    while (start[len] && lines < MESSAGE_LINES && len < MESSAGE_CHARS) {
        if (start[len] == '\n')
            lines++;
        len++;
    }
    while (len > 0 && start[len - 1] == '\n')
        len--;
    char *m = malloc(len + 1);
    if (m) {
        memcpy(m, start, len);
        m[len] = '\0';
    }
    return m;
}

/* When the compiler driver survived but one of its passes (cc1) was killed by a limit,
 * the driver calls it an "internal compiler error" and asks for a bug report: the
 * student needs to hear which limit their file ran into instead. NULL otherwise. */
static char *pass_killed_message(const char *log, unsigned cpu)
{
    static const char killed[] = " signal terminated program ";
    const char *at = strstr(log, killed);
    if (!at)
        return NULL;
    const char *line = at;
    while (line > log && line[-1] != '\n')
        line--;
    size_t len = (size_t)(at - line);
    if (len >= 23 && strncmp(at - 23, "CPU time limit exceeded", 23) == 0)
        return format("the compiler used more than %u s of CPU time on your file: something in it "
                      "makes the compiler work far too hard (deeply nested includes, macros or asm loops?)",
                      cpu);
    if (len >= 24 && strncmp(at - 24, "File size limit exceeded", 24) == 0)
        return format("the compiler's output for your file grew past the file-size limit");
    if (len >= 6 && strncmp(at - 6, "Killed", 6) == 0)
        return format("the compiler was killed while compiling your file, most likely for "
                      "using too much memory (limit 1 GiB)");
    return NULL;
}

/* ------------------------------------------------------------ public */

/* The first line of `cc --version` in the sandbox, kept in b->compiler for the receipt
 * (left NULL when the compiler does not answer). Fails only when it cannot be run. */
static tt_status read_compiler_version(tito_build *b)
{
    const char *argv[] = {"cc", "--version", NULL};
    tito_sandbox_result *r = NULL;
    tt_status st = run_tool(&r, b, argv, 30.0, 10);
    if (st != TT_OK)
        return st;
    if (r->end == TITO_SANDBOX_EXITED && r->exit_code == 0) {
        size_t n = strcspn(r->out.data, "\n");
        b->compiler = malloc(n + 1);
        if (b->compiler) {
            memcpy(b->compiler, r->out.data, n);
            b->compiler[n] = '\0';
        }
    }
    tito_sandbox_result_free(r);
    return TT_OK;
}

tt_status tito_build_new(tito_build **out, const tito_kit *kit, const tito_module *m,
                         const char *source_path, const tito_build_options *options)
{
    *out = NULL;
    tito_build_options defaults = TITO_BUILD_OPTIONS_INIT;
    if (!options)
        options = &defaults;
    tt_status st = tito_kit_check_suite(kit, m);
    if (st != TT_OK)
        return st;
    char *source = NULL;
    size_t source_len = 0;
    st = tito_file_read(&source, &source_len, source_path);
    if (st != TT_OK)
        return st;

    tito_build *b = calloc(1, sizeof *b);
    if (!b) {
        free(source);
        return nomem();
    }
    b->kit = kit;
    b->module = m;
    tito_kit_sha256(b->source_hash, source, source_len);

    const char *parent = options->temp_parent;
    if (!parent)
        parent = getenv("TMPDIR");
    if (!parent || parent[0] != '/')
        parent = "/tmp";
    char *tmpl = format("%s/tito-grade-XXXXXX", parent);
    b->source_name = source_name_for(source_path, m);
    if (!tmpl || !b->source_name) {
        free(tmpl);
        st = nomem();
        goto cleanup;
    }
    if (!mkdtemp(tmpl)) {
        st = tt_error_set(TT_ERR_IO, "cannot create a working directory in %s: %s", parent,
                          strerror(errno));
        free(tmpl);
        goto cleanup;
    }
    b->workdir = tmpl;
    /* Readable by the sandbox user (mkdtemp made it 0700). */
    if (chmod(b->workdir, 0755) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot set the mode of %s: %s", b->workdir, strerror(errno));
        goto cleanup;
    }
    TT_CHECK(give_to_sandbox(b->workdir));

    /* The student's file. */
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", b->workdir, b->source_name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(source, 1, source_len, f) != source_len) {
            if (f)
                fclose(f);
            st = tt_error_set(TT_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            goto cleanup;
        }
        if (fclose(f) != 0) {
            st = tt_error_set(TT_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            goto cleanup;
        }
    }

    /* The kit's material. */
    {
        const char *dirs[] = {"include", "include/tinytorch", "kit", "kit/lib", "kit/probe",
                              "kit/ref", "kit/suite", "reference"};
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", b->workdir, dirs[i]);
            TT_CHECK(make_dir(path));
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/reference", b->workdir);
        TT_CHECK(give_to_sandbox(path));

        TT_CHECK(tito_kit_path(path, sizeof path, kit, "include/tinytorch"));
        DIR *d = opendir(path);
        if (!d) {
            st = tt_error_set(TT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            goto cleanup;
        }
        struct dirent *e;
        while (st == TT_OK && (e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 3 || strcmp(e->d_name + n - 2, ".h") != 0)
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "include/tinytorch/%s", e->d_name);
            st = copy_from_kit(b, rel, rel);
        }
        closedir(d);
        if (st != TT_OK)
            goto cleanup;

        TT_CHECK(copy_from_kit(b, "lib/libtinytorch_core.a", "kit/lib/libtinytorch_core.a"));
        TT_CHECK(copy_from_kit(b, "probe/probe_main.o", "kit/probe/probe_main.o"));
        for (size_t i = 0; i < tito_module_count; i++) {
            char rel[256], dest[300];
            snprintf(rel, sizeof rel, "ref/%s.o", tito_modules[i].name);
            snprintf(dest, sizeof dest, "kit/%s", rel);
            TT_CHECK(copy_from_kit(b, rel, dest));
        }
        const char *parts[] = {"visible.o", "hidden.o"};
        for (size_t i = 0; i < 2; i++) {
            char rel[256], dest[256];
            snprintf(rel, sizeof rel, "suites/%s/%s", m->slug, parts[i]);
            snprintf(dest, sizeof dest, "kit/suite/%s", parts[i]);
            TT_CHECK(copy_from_kit(b, rel, dest));
        }
    }

    TT_CHECK(tito_kit_reference_hash(b->reference_hash, kit));
    TT_CHECK(tito_kit_suite_hash(b->suite_hash, kit, m));
    TT_CHECK(load_cflags(b));

    /* The cache of reference probes, keyed by everything they are made of. */
    char *root = options->no_cache ? NULL : cache_root();
    if (root) {
        char key_text[2 * TITO_KIT_HASH_SIZE + 2], key[TITO_KIT_HASH_SIZE];
        snprintf(key_text, sizeof key_text, "%s %s", b->reference_hash, b->suite_hash);
        tito_kit_sha256(key, key_text, strlen(key_text));
        b->cache_dir = format("%s/probes/%.32s", root, key + 7);
        if (!b->cache_dir) {
            free(root);
            st = nomem();
            goto cleanup;
        }
    }

    /* What sandboxed children must not see. */
    {
        size_t n_extra = 0;
        while (options->hidden_paths && options->hidden_paths[n_extra])
            n_extra++;
        b->hidden = calloc(n_extra + 3, sizeof *b->hidden);
        b->hidden_from_student = calloc(n_extra + 5, sizeof *b->hidden_from_student);
        if (!b->hidden || !b->hidden_from_student) {
            free(root);
            st = nomem();
            goto cleanup;
        }
        size_t h = 0, s = 0;
        bool ok = true;
        const char *common[] = {kit->root, root};
        for (size_t i = 0; i < 2; i++) {
            if (!common[i])
                continue;
            ok = ok && (b->hidden[h++] = xstrdup(common[i])) != NULL;
            ok = ok && (b->hidden_from_student[s++] = xstrdup(common[i])) != NULL;
        }
        for (size_t i = 0; i < n_extra; i++) {
            ok = ok && (b->hidden[h++] = xstrdup(options->hidden_paths[i])) != NULL;
            ok = ok && (b->hidden_from_student[s++] = xstrdup(options->hidden_paths[i])) != NULL;
        }
        ok = ok && (b->hidden_from_student[s++] = format("%s/kit", b->workdir)) != NULL;
        ok = ok && (b->hidden_from_student[s++] = format("%s/reference", b->workdir)) != NULL;
        free(root);
        if (!ok) {
            st = nomem();
            goto cleanup;
        }
    }

    /* The compiler's name and version, for the receipt. */
    TT_CHECK(read_compiler_version(b));

cleanup:
    free(source);
    if (st != TT_OK) {
        tito_build_free(b);
        return st;
    }
    *out = b;
    return TT_OK;
}

tt_status tito_build_compile(tito_build_outcome *outcome, tito_build *b)
{
    return tito_build_compile_file(outcome, b, b->source_name, "student.o", NULL);
}

tt_status tito_build_compile_file(tito_build_outcome *outcome, tito_build *b, const char *source,
                                  const char *object, const char *const *include_dirs)
{
    memset(outcome, 0, sizeof *outcome);
    enum { MAX_INCLUDES = 8 };
    const char *argv[48 + MAX_CFLAGS] = {"cc", COMPILE_FLAGS};
    size_t n = 0;
    while (argv[n])
        n++;
    for (size_t i = 0; b->cflags && b->cflags[i]; i++)
        argv[n++] = b->cflags[i];
    argv[n++] = "-I";
    argv[n++] = "include";
    for (size_t i = 0; include_dirs && include_dirs[i]; i++) {
        if (i == MAX_INCLUDES)
            return tt_error_set(TT_ERR_INVALID_ARG,
                                "tito_build_compile_file: more than %d include folders",
                                MAX_INCLUDES);
        argv[n++] = "-I";
        argv[n++] = include_dirs[i];
    }
    argv[n++] = "-c";
    argv[n++] = source;
    argv[n++] = "-o";
    argv[n++] = object;
    argv[n] = NULL;
    const double wall = 60.0;
    const unsigned cpu = 20;
    tito_sandbox_result *r = NULL;
    tt_status st = run_tool(&r, b, argv, wall, cpu);
    if (st != TT_OK)
        return st;
    outcome->log = tool_log(r, b->workdir);
    char *why = abnormal_ending(r, "compiler", wall, cpu);
    if (!outcome->log) {
        free(why);
        tito_sandbox_result_free(r);
        return nomem();
    }
    if (why) {
        outcome->verdict = TITO_COMPILE_ERROR;
        outcome->message = why;
    } else if (r->exit_code != 0) {
        outcome->verdict = TITO_COMPILE_ERROR;
        outcome->message = pass_killed_message(outcome->log, cpu);
        if (!outcome->message)
            outcome->message = first_messages(outcome->log);
        if (outcome->message && !outcome->message[0]) {
            /* A compiler that fails silently still gets a sentence: never an empty one,
             * which would make the build log open with the blank separator line. */
            free(outcome->message);
            outcome->message = format("the compiler stopped with exit code %d without a "
                                      "message",
                                      r->exit_code);
        }
    } else {
        outcome->verdict = TITO_PASS;
    }
    if (outcome->log[0] == '\0') {
        free(outcome->log);
        outcome->log = NULL;
    }
    tito_sandbox_result_free(r);
    if (outcome->verdict != TITO_PASS && !outcome->message)
        return nomem();
    return TT_OK;
}

/* ------------------------------------------------------------ link errors */

/* Which kit header declares `fn` ("tinytorch/tensor.h"), into buf; "" when none. */
static void declaring_header(char *buf, size_t size, const tito_build *b, const char *fn)
{
    buf[0] = '\0';
    for (size_t i = 0; i < tito_module_count; i++) {
        char path[4096], *text = NULL;
        snprintf(path, sizeof path, "%s/include/tinytorch/%s.h", b->workdir,
                 tito_modules[i].name);
        if (tito_file_read(&text, NULL, path) != TT_OK)
            continue;
        size_t n = strlen(fn);
        bool found = false;
        for (const char *p = strstr(text, fn); p && !found; p = strstr(p + 1, fn)) {
            char before = p == text ? ' ' : p[-1];
            const char *after = p + n;
            while (*after == ' ')
                after++;
            found = *after == '(' && !(before == '_' || (before >= 'a' && before <= 'z') ||
                                       (before >= 'A' && before <= 'Z') ||
                                       (before >= '0' && before <= '9'));
        }
        free(text);
        if (found) {
            snprintf(buf, size, "tinytorch/%s.h", tito_modules[i].name);
            return;
        }
    }
}

/* Collect the distinct names quoted after `marker` (GNU ld: "undefined reference to
 * `name'", "multiple definition of `name'"). Returns how many (at most max). */
static size_t quoted_names(const char *log, const char *marker, char names[][128], size_t max)
{
    size_t n = 0;
    for (const char *p = strstr(log, marker); p && n < max; p = strstr(p + 1, marker)) {
        const char *s = p + strlen(marker);
        if (*s == '`' || *s == '\'' || *s == '"')
            s++;
        size_t len = strcspn(s, "'`\"\n");
        if (len == 0 || len >= 128)
            continue;
        char name[128];
        memcpy(name, s, len);
        name[len] = '\0';
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(names[i], name) == 0;
        if (!seen)
            memcpy(names[n++], name, len + 1);
    }
    return n;
}

static char *link_message(const tito_build *b, const char *log)
{
    char undefined[12][128], twice[12][128];
    size_t n_undef = quoted_names(log, "undefined reference to ", undefined, 12);
    size_t n_twice = quoted_names(log, "multiple definition of ", twice, 12);
    if (n_undef == 0 && n_twice == 0)
        return first_messages(log);

    size_t cap = 4096, len = 0;
    char *m = malloc(cap);
    if (!m)
        return NULL;
    m[0] = '\0';
    for (size_t i = 0; i < n_undef; i++) {
        char header[128];
        declaring_header(header, sizeof header, b, undefined[i]);
        int w = snprintf(m + len, cap - len,
                         "%s%s is missing: %s must define it%s%s (the starter has it; "
                         "did you delete or rename it, or make it static?)",
                         len ? "\n" : "", undefined[i], b->source_name,
                         header[0] ? " as declared in " : "", header);
        if (w > 0)
            len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    for (size_t i = 0; i < n_twice; i++) {
        int w;
        if (strcmp(twice[i], "main") == 0)
            w = snprintf(m + len, cap - len,
                         "%smain is defined in %s: a module is a library, the grader brings "
                         "its own main; remove yours (or put your experiments in another "
                         "file)",
                         len ? "\n" : "", b->source_name);
        else
            w = snprintf(m + len, cap - len,
                         "%s%s is defined twice: %s defines it, and so does the course's "
                         "own code (another module or the core); rename yours or make it "
                         "static",
                         len ? "\n" : "", twice[i], b->source_name);
        if (w > 0)
            len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    return m;
}

/* cc -o <out> kit/suite/<part>.o kit/probe/probe_main.o <middle...> kit/lib/... -lm */
static tt_status link_probe(tito_sandbox_result **res, tito_build *b, const char *part,
                            const char *output, bool student)
{
    char suite_obj[256];
    snprintf(suite_obj, sizeof suite_obj, "kit/suite/%s.o", part);
    enum { MAX_ARGS = 64 };
    const char *argv[MAX_ARGS];
    char refs[MAX_ARGS][160];
    size_t n = 0;
    argv[n++] = "cc";
    argv[n++] = "-o";
    argv[n++] = output;
    argv[n++] = suite_obj;
    argv[n++] = "kit/probe/probe_main.o";
    if (student)
        argv[n++] = "student.o";
    for (size_t i = 0; i < tito_module_count && n < MAX_ARGS - 4; i++) {
        if (student && &tito_modules[i] == b->module)
            continue;
        snprintf(refs[i], sizeof refs[i], "kit/ref/%s.o", tito_modules[i].name);
        argv[n++] = refs[i];
    }
    argv[n++] = "kit/lib/libtinytorch_core.a";
    argv[n++] = "-lm";
    argv[n] = NULL;
    return run_tool(res, b, argv, 60.0, 20);
}

tt_status tito_build_link_student(tito_build_outcome *outcome, tito_build *b, const char *part,
                                  char *path, size_t size)
{
    memset(outcome, 0, sizeof *outcome);
    char output[64];
    snprintf(output, sizeof output, "probe-%s", part);
    tito_sandbox_result *r = NULL;
    tt_status st = link_probe(&r, b, part, output, true);
    if (st != TT_OK)
        return st;
    outcome->log = tool_log(r, b->workdir);
    char *why = abnormal_ending(r, "linker", 60.0, 20);
    if (!outcome->log) {
        free(why);
        tito_sandbox_result_free(r);
        return nomem();
    }
    if (why) {
        outcome->verdict = TITO_LINK_ERROR;
        outcome->message = why;
    } else if (r->exit_code != 0) {
        outcome->verdict = TITO_LINK_ERROR;
        outcome->message = link_message(b, outcome->log);
    } else {
        outcome->verdict = TITO_PASS;
        snprintf(path, size, "%s/%s", b->workdir, output);
    }
    if (outcome->log[0] == '\0') {
        free(outcome->log);
        outcome->log = NULL;
    }
    tito_sandbox_result_free(r);
    if (outcome->verdict != TITO_PASS && !outcome->message)
        return nomem();
    return TT_OK;
}

tt_status tito_build_reference_probe(tito_build *b, const char *part, char *path, size_t size,
                                     bool *from_cache)
{
    char rel[128], cached[4096];
    snprintf(rel, sizeof rel, "reference/probe-%s", part);
    snprintf(path, size, "%s/%s", b->workdir, rel);
    if (from_cache)
        *from_cache = false;
    if (b->cache_dir) {
        snprintf(cached, sizeof cached, "%s/%s-%s", b->cache_dir, b->module->slug, part);
        if (tito_path_exists(cached) && copy_file(cached, path, 0755) == TT_OK) {
            if (from_cache)
                *from_cache = true;
            return TT_OK;
        }
    }

    tito_sandbox_result *r = NULL;
    tt_status st = link_probe(&r, b, part, rel, false);
    if (st != TT_OK)
        return st;
    if (r->end != TITO_SANDBOX_EXITED || r->exit_code != 0) {
        char *log = tool_log(r, b->workdir);
        st = tt_error_set(TT_ERR_STATE,
                          "internal error: the reference probe %s of %s does not link (%s): "
                          "%.600s",
                          part, b->module->slug, r->message, log ? log : "");
        free(log);
        tito_sandbox_result_free(r);
        return st;
    }
    tito_sandbox_result_free(r);

    /* Cache it; a cache that cannot be written only costs a link next time. */
    if (b->cache_dir && tito_mkdirs(b->cache_dir) == TT_OK) {
        char *data = NULL;
        size_t len = 0;
        if (tito_file_read(&data, &len, path) == TT_OK)
            (void)tito_file_write_atomic(cached, data, len, 0755);
        free(data);
        tt_error_clear();
    }
    return TT_OK;
}

void tito_build_outcome_release(tito_build_outcome *outcome)
{
    if (!outcome)
        return;
    free(outcome->message);
    free(outcome->log);
    memset(outcome, 0, sizeof *outcome);
}

void tito_build_free(tito_build *b)
{
    if (!b)
        return;
    if (b->workdir)
        nftw(b->workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(b->workdir);
    free(b->source_name);
    free(b->cache_dir);
    free(b->compiler);
    free_strings(b->cflags);
    free_strings(b->hidden);
    free_strings(b->hidden_from_student);
    free(b);
}

/* ============================================================ programs of several files
 *
 * Builds that are not one module's probes (build.h): a milestone program linked with
 * several of the student's modules. The working directory is laid out as for a module's
 * build, so the same paths are hidden from the same children.
 */

tt_status tito_build_new_program(tito_build **out, const tito_kit *kit,
                                 const tito_build_options *options)
{
    *out = NULL;
    tito_build_options defaults = TITO_BUILD_OPTIONS_INIT;
    if (!options)
        options = &defaults;
    tt_status st = TT_OK;
    char *root = NULL;
    tito_build *b = calloc(1, sizeof *b);
    if (!b)
        return nomem();
    b->kit = kit;

    const char *parent = options->temp_parent;
    if (!parent)
        parent = getenv("TMPDIR");
    if (!parent || parent[0] != '/')
        parent = "/tmp";
    char *tmpl = format("%s/tito-build-XXXXXX", parent);
    if (!tmpl) {
        st = nomem();
        goto cleanup;
    }
    if (!mkdtemp(tmpl)) {
        st = tt_error_set(TT_ERR_IO, "cannot create a working directory in %s: %s", parent,
                          strerror(errno));
        free(tmpl);
        goto cleanup;
    }
    b->workdir = tmpl;
    if (chmod(b->workdir, 0755) != 0) {
        st = tt_error_set(TT_ERR_IO, "cannot set the mode of %s: %s", b->workdir, strerror(errno));
        goto cleanup;
    }
    TT_CHECK(give_to_sandbox(b->workdir));

    {
        const char *dirs[] = {"include", "include/tinytorch", "kit", "kit/lib", "kit/ref",
                              "reference"};
        char path[4096];
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", b->workdir, dirs[i]);
            TT_CHECK(make_dir(path));
        }
        snprintf(path, sizeof path, "%s/reference", b->workdir);
        TT_CHECK(give_to_sandbox(path));
        TT_CHECK(tito_kit_path(path, sizeof path, kit, "include/tinytorch"));
        DIR *d = opendir(path);
        if (!d) {
            st = tt_error_set(TT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            goto cleanup;
        }
        struct dirent *e;
        while (st == TT_OK && (e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 3 || strcmp(e->d_name + n - 2, ".h") != 0)
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "include/tinytorch/%s", e->d_name);
            st = copy_from_kit(b, rel, rel);
        }
        closedir(d);
        if (st != TT_OK)
            goto cleanup;
        TT_CHECK(copy_from_kit(b, "lib/libtinytorch_core.a", "kit/lib/libtinytorch_core.a"));
        for (size_t i = 0; i < tito_module_count; i++) {
            char rel[256], dest[300];
            snprintf(rel, sizeof rel, "ref/%s.o", tito_modules[i].name);
            snprintf(dest, sizeof dest, "kit/%s", rel);
            TT_CHECK(copy_from_kit(b, rel, dest));
        }
    }
    TT_CHECK(tito_kit_reference_hash(b->reference_hash, kit));
    TT_CHECK(load_cflags(b));

    /* The whole tito cache is hidden; programs are cached under <cache>/milestones. */
    root = options->no_cache ? NULL : cache_root();
    if (root && !(b->cache_dir = format("%s/milestones", root))) {
        st = nomem();
        goto cleanup;
    }

    {
        size_t n_extra = 0;
        while (options->hidden_paths && options->hidden_paths[n_extra])
            n_extra++;
        b->hidden = calloc(n_extra + 3, sizeof *b->hidden);
        b->hidden_from_student = calloc(n_extra + 5, sizeof *b->hidden_from_student);
        if (!b->hidden || !b->hidden_from_student) {
            st = nomem();
            goto cleanup;
        }
        size_t h = 0, s = 0;
        bool ok = true;
        const char *common[] = {kit->root, root};
        for (size_t i = 0; i < 2; i++) {
            if (!common[i])
                continue;
            ok = ok && (b->hidden[h++] = xstrdup(common[i])) != NULL;
            ok = ok && (b->hidden_from_student[s++] = xstrdup(common[i])) != NULL;
        }
        for (size_t i = 0; i < n_extra; i++) {
            ok = ok && (b->hidden[h++] = xstrdup(options->hidden_paths[i])) != NULL;
            ok = ok && (b->hidden_from_student[s++] = xstrdup(options->hidden_paths[i])) != NULL;
        }
        ok = ok && (b->hidden_from_student[s++] = format("%s/kit", b->workdir)) != NULL;
        ok = ok && (b->hidden_from_student[s++] = format("%s/reference", b->workdir)) != NULL;
        if (!ok) {
            st = nomem();
            goto cleanup;
        }
    }

    TT_CHECK(read_compiler_version(b));

cleanup:
    free(root);
    if (st != TT_OK) {
        tito_build_free(b);
        return st;
    }
    *out = b;
    return TT_OK;
}

tt_status tito_build_copy_in(tito_build *b, const char *from, const char *dest, unsigned mode)
{
    char to[4096];
    int n = snprintf(to, sizeof to, "%s/%s", b->workdir, dest);
    if (n < 0 || (size_t)n >= sizeof to)
        return tt_error_set(TT_ERR_IO, "path too long: %s/%s", b->workdir, dest);
    char *slash = strrchr(to, '/');
    *slash = '\0';
    tt_status st = tito_mkdirs(to);
    *slash = '/';
    if (st != TT_OK)
        return st;
    return copy_file(from, to, mode);
}

/* The linker's complaints about a program of several module files, one sentence each. */
static char *program_link_message(const tito_build *b, const char *log)
{
    char undefined[12][128], twice[12][128];
    size_t n_undef = quoted_names(log, "undefined reference to ", undefined, 12);
    size_t n_twice = quoted_names(log, "multiple definition of ", twice, 12);
    if (n_undef == 0 && n_twice == 0)
        return first_messages(log);

    size_t cap = 4096, len = 0;
    char *m = malloc(cap);
    if (!m)
        return NULL;
    m[0] = '\0';
    for (size_t i = 0; i < n_undef; i++) {
        char header[128];
        declaring_header(header, sizeof header, b, undefined[i]);
        int w;
        if (header[0]) {
            /* "tinytorch/autograd.h" -> "autograd.c" */
            const char *base = header + strlen("tinytorch/");
            int stem = (int)(strlen(base) - 2);
            w = snprintf(m + len, cap - len,
                         "%s%s is missing: %.*s.c must define it as declared in %s (the "
                         "starter has it; did you delete or rename it, or make it static?)",
                         len ? "\n" : "", undefined[i], stem, base, header);
        } else {
            w = snprintf(m + len, cap - len,
                         "%s%s is missing: one of your modules calls it, but no module "
                         "defines it and no course header declares it (a helper you have "
                         "not written yet?)",
                         len ? "\n" : "", undefined[i]);
        }
        if (w > 0)
            len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    for (size_t i = 0; i < n_twice; i++) {
        int w;
        if (strcmp(twice[i], "main") == 0)
            w = snprintf(m + len, cap - len,
                         "%smain is defined in one of your modules: a module is a library, "
                         "the program brings its own main; remove yours (or put your "
                         "experiments in another file)",
                         len ? "\n" : "");
        else
            w = snprintf(m + len, cap - len,
                         "%s%s is defined twice: by two of your modules, or by one of them "
                         "and the course's own code (the core); rename one or make it "
                         "static",
                         len ? "\n" : "", twice[i]);
        if (w > 0)
            len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    return m;
}

tt_status tito_build_link_program(tito_build_outcome *outcome, tito_build *b, const char *output,
                                  const char *const *inputs)
{
    memset(outcome, 0, sizeof *outcome);
    enum { MAX_ARGS = 64 };
    const char *argv[MAX_ARGS];
    size_t n = 0;
    argv[n++] = "cc";
    argv[n++] = "-o";
    argv[n++] = output;
    for (size_t i = 0; inputs && inputs[i]; i++) {
        if (n >= MAX_ARGS - 2)
            return tt_error_set(TT_ERR_INVALID_ARG, "tito_build_link_program: more than %d inputs",
                                MAX_ARGS - 5);
        argv[n++] = inputs[i];
    }
    argv[n++] = "-lm";
    argv[n] = NULL;
    const double wall = 60.0;
    const unsigned cpu = 20;
    tito_sandbox_result *r = NULL;
    tt_status st = run_tool(&r, b, argv, wall, cpu);
    if (st != TT_OK)
        return st;
    outcome->log = tool_log(r, b->workdir);
    char *why = abnormal_ending(r, "linker", wall, cpu);
    if (!outcome->log) {
        free(why);
        tito_sandbox_result_free(r);
        return nomem();
    }
    if (why) {
        outcome->verdict = TITO_LINK_ERROR;
        outcome->message = why;
    } else if (r->exit_code != 0) {
        outcome->verdict = TITO_LINK_ERROR;
        outcome->message = program_link_message(b, outcome->log);
    } else {
        outcome->verdict = TITO_PASS;
    }
    if (outcome->log[0] == '\0') {
        free(outcome->log);
        outcome->log = NULL;
    }
    tito_sandbox_result_free(r);
    if (outcome->verdict != TITO_PASS && !outcome->message)
        return nomem();
    return TT_OK;
}
