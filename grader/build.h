/*
 * grader/build.h: phase 1 of a grade (docs/grading.md): compile the student's source
 * against the kit and link the probes, everything in the sandbox.
 *
 * A tito_build owns a private working directory for one grading run. It starts with
 * copies of what the tools need from the kit and of the student's file:
 *
 *     <work>/include/tinytorch/       the kit's headers (never the workspace's)
 *     <work>/<file>.c                  the student's source, under its own base name
 *     <work>/kit/...                   core archive, harness, reference objects, probes
 *     <work>/student.o                 after compiling
 *     <work>/probe-<part>              student probes ("visible", "hidden")
 *     <work>/reference/probe-<part>    reference probes (from the cache when there)
 *
 * so the sandboxed compiler and linker see only that directory, whoever owns the kit,
 * and compiler messages name "tensor.c:12:5", not a path the student never wrote.
 * Reference probes do not depend on the student: they are cached per kit and suite in
 * ${XDG_CACHE_HOME:-~/.cache}/tito/probes/<hash>/ (written atomically).
 *
 * What the student's code did wrong is a verdict in a tito_build_outcome (compile
 * error, link error); a tt_status error is the grader's own trouble (no compiler, a
 * full disk).
 */
#ifndef TITO_BUILD_H
#define TITO_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"
#include "kit.h"
#include "modules.h"
#include "tinytorch/core.h"

typedef struct tito_build_options {
    /* Where the working directory is made; NULL: $TMPDIR, else /tmp. */
    const char *temp_parent;
    /* Extra absolute paths no sandboxed child may see (NULL-terminated), or NULL. */
    const char *const *hidden_paths;
    /* Do not read or write the reference-probe cache. */
    bool no_cache;
} tito_build_options;

#define TITO_BUILD_OPTIONS_INIT { .temp_parent = NULL }

typedef struct tito_build {
    const tito_kit *kit;      /* borrowed */
    const tito_module *module;
    char *workdir;            /* removed, with everything in it, by tito_build_free */
    char *source_name;        /* "tensor.c" */
    char *cache_dir;          /* <cache>/tito/probes/<key>, or NULL without a cache */
    char *compiler;           /* first line of `cc --version`, or NULL */
    char reference_hash[TITO_KIT_HASH_SIZE];
    char suite_hash[TITO_KIT_HASH_SIZE];
    char source_hash[TITO_KIT_HASH_SIZE];
    /* Hidden from every sandboxed child: the kit, the cache and the caller's paths;
     * from student probes also <work>/kit and <work>/reference. NULL-terminated. */
    char **hidden;
    char **hidden_from_student;
    unsigned isolation;       /* sandbox mechanisms in force in the last run */
    /* The optimisation flags the kit's reference objects were compiled with (the
     * manifest's "cflags" line, e.g. "-O3" "-march=native"), which a student's files
     * are compiled with too, so that speed ratios compare code and not compiler
     * settings. NULL-terminated; {"-O2"} for a kit that does not say. */
    char **cflags;
} tito_build;

typedef struct tito_build_outcome {
    tito_verdict verdict;     /* TITO_PASS, TITO_COMPILE_ERROR or TITO_LINK_ERROR */
    char *message;            /* for the student: the first compiler messages, or the
                               * missing functions; NULL on a pass */
    char *log;                /* everything the tool printed (capped), or NULL */
} tito_build_outcome;

/* Make the working directory for grading `source_path` as module m. The suite of m
 * must be in the kit (tito_kit_check_suite).
 * Errors: TT_ERR_IO (the source or the kit cannot be read, the directory cannot be
 * made), TT_ERR_STATE (no suite), TT_ERR_NOMEM. */
tt_status tito_build_new(tito_build **out, const tito_kit *kit, const tito_module *m,
                         const char *source_path, const tito_build_options *options);

/* Compile the student's source to <work>/student.o (CPU 20 s, wall 60 s, 1 GiB).
 * *outcome is filled in every case the compiler could be run (its fields are the
 * caller's: tito_build_outcome_release). Errors: the sandbox's (no compiler...). */
tt_status tito_build_compile(tito_build_outcome *outcome, tito_build *b);

/* Link the student probe of `part` ("visible" or "hidden") after a successful compile:
 * suite object, harness, student.o, the other modules' reference objects, the core.
 * On a pass, `path` (size bytes) gets the probe's absolute path. */
tt_status tito_build_link_student(tito_build_outcome *outcome, tito_build *b, const char *part,
                                  char *path, size_t size);

/* The reference probe of `part`, from the cache or linked now (and cached). `path`
 * gets its absolute path inside the working directory; *from_cache (may be NULL) says
 * where it came from. A failing link here is the kit's fault: TT_ERR_STATE. */
tt_status tito_build_reference_probe(tito_build *b, const char *part, char *path, size_t size,
                                     bool *from_cache);

void tito_build_outcome_release(tito_build_outcome *outcome);

/* Remove the working directory and free the build. NULL does nothing. */
void tito_build_free(tito_build *b);

/* ============================================================ programs of several files
 *
 * For builds that are not one module's probes: a milestone program (grader/milestone.c)
 * links several of the student's modules. tito_build_new_program makes a working
 * directory like tito_build_new's, with the kit's headers (<work>/include/tinytorch/),
 * the core archive (<work>/kit/lib/) and the reference objects (<work>/kit/ref/), but no
 * suite and no student file (b->module and b->source_name are NULL): the caller copies in
 * what it builds. The same directories are hidden from every sandboxed child, and
 * <work>/kit and <work>/reference from the student's programs (b->hidden_from_student).
 * Errors: TT_ERR_IO, TT_ERR_NOMEM, the sandbox's (no compiler). */
tt_status tito_build_new_program(tito_build **out, const tito_kit *kit,
                                 const tito_build_options *options);

/* Copy the file at `from` (any path) to <work>/<dest>, creating dest's folders, with
 * permissions `mode`. Errors: TT_ERR_IO, TT_ERR_NOMEM. */
tt_status tito_build_copy_in(tito_build *b, const char *from, const char *dest, unsigned mode);

/* Compile <work>/<source> to <work>/<object> in the sandbox with the flags of module
 * grading (tito_build_compile uses the same), "-I include" and "-I <dir>" for each of
 * `include_dirs` (relative to <work>, NULL-terminated, or NULL). *outcome as for
 * tito_build_compile: TITO_COMPILE_ERROR with the first messages, naming files as
 * they are named in <work>. */
tt_status tito_build_compile_file(tito_build_outcome *outcome, tito_build *b, const char *source,
                                  const char *object, const char *const *include_dirs);

/* Link `inputs` (paths relative to <work>, NULL-terminated) and the maths library into
 * <work>/<output>. A link error's message has one sentence per missing function, naming
 * the module file that must define it (from the kit header that declares it), and per
 * function defined twice. */
tt_status tito_build_link_program(tito_build_outcome *outcome, tito_build *b, const char *output,
                                  const char *const *inputs);

#endif /* TITO_BUILD_H */
