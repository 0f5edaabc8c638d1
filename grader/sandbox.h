/*
 * grader/sandbox.h: run one untrusted child process safely and say how it ended.
 *
 * Everything the grader runs on a student's behalf (compiled probes, milestone
 * programs, the compiler itself) goes through tito_sandbox_run(). The child gets
 * resource limits, a scrubbed environment, a private working directory, no network,
 * no view of the paths the caller hides, and never runs as root; the caller gets a
 * structured account of the run: how it ended, its exit code or signal, what it
 * wrote on stdout, stderr and the optional transcript pipe (fd 3), and what it cost.
 *
 * Nothing in the result comes from something the child chose to report about itself:
 * the ending is read from the kernel (wait status, resource usage), the captured
 * streams are data, never verdicts.
 *
 * How each mechanism is built, and what happens where the kernel refuses one, is
 * described in docs/sandbox.md. Isolation is best effort by default and always
 * reported (result->isolation); options.require turns any part of it into a must.
 *
 * Conventions: functions that can fail return tt_status (negative on error) with a
 * message from tt_error_last(); results come back through out-parameters that stay
 * NULL on failure; nothing here prints, exits or aborts.
 *
 * Callers must let the sandbox reap its own children: SIGCHLD must not be ignored
 * (SIG_IGN makes the kernel reap them first) and no other thread may wait for "any
 * child" (waitpid(-1, ...)) while a run is in progress. Runs in several threads at
 * once are fine.
 */
#ifndef TITO_GRADER_SANDBOX_H
#define TITO_GRADER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tinytorch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* When the grader runs as root, the child runs as this user and group (nobody and
 * nogroup on Debian), and the private working directory is given to them. */
#define TITO_SANDBOX_UID 65534
#define TITO_SANDBOX_GID 65534

/* ---------------------------------------------------------------------------
 * Limits
 * ------------------------------------------------------------------------- */

/* Every limit applies to the child and everything it starts. Zero means "no limit
 * from the sandbox" (the child inherits the grader's), except for the output caps,
 * which must be positive: the grader's memory is what they protect. */
typedef struct tito_sandbox_limits {
    unsigned cpu_seconds;     /* RLIMIT_CPU of each process: SIGXCPU, then SIGKILL a second later */
    double wall_seconds;      /* wall clock for the whole run, enforced by the grader */
    uint64_t address_space;   /* bytes, RLIMIT_AS of each process: allocations fail beyond it */
    uint64_t file_size;       /* bytes, RLIMIT_FSIZE: a larger write gets SIGXFSZ */
    uint64_t stack;           /* bytes, RLIMIT_STACK */
    uint64_t open_files;      /* RLIMIT_NOFILE */
    uint64_t processes;       /* RLIMIT_NPROC: processes and threads the child may have at once */
    uint64_t workdir_bytes;   /* bytes the private working directory may hold (a tmpfs of this
                               * size, given a mount namespace; 0: a plain directory on disk) */
    size_t output_bytes;      /* bytes kept of stdout and of stderr, each */
    size_t transcript_bytes;  /* bytes kept of the transcript (fd 3) */
} tito_sandbox_limits;

/* Defaults sized for a probe or a small compile on a course machine. */
#define TITO_SANDBOX_LIMITS_INIT                                                             \
    {                                                                                        \
        .cpu_seconds = 10, .wall_seconds = 30.0, .address_space = (uint64_t)1 << 30,         \
        .file_size = (uint64_t)64 << 20, .stack = (uint64_t)8 << 20, .open_files = 64,       \
        .processes = 64, .workdir_bytes = (uint64_t)256 << 20, .output_bytes = (size_t)1 << 20, \
        .transcript_bytes = (size_t)16 << 20                                                 \
    }

/* ---------------------------------------------------------------------------
 * Isolation
 * ------------------------------------------------------------------------- */

/* The mechanisms that can be in force for a run (bits of result->isolation, of
 * options.require and of tito_sandbox_available()). */
typedef enum tito_sandbox_isolation {
    TITO_SANDBOX_ISO_USER_NS = 1u << 0,    /* own user namespace: per-run process count, no host capabilities */
    TITO_SANDBOX_ISO_PID_NS = 1u << 1,     /* own PID namespace: sees and signals only its own processes */
    TITO_SANDBOX_ISO_NET_NS = 1u << 2,     /* own network namespace: no interfaces up, no network */
    TITO_SANDBOX_ISO_MOUNT_NS = 1u << 3,   /* own mount namespace (needed by the next three) */
    TITO_SANDBOX_ISO_IPC_NS = 1u << 4,     /* own System V IPC and POSIX message queues */
    TITO_SANDBOX_ISO_UTS_NS = 1u << 5,     /* own host name */
    TITO_SANDBOX_ISO_PROC = 1u << 6,       /* a fresh /proc that shows only the run's processes */
    TITO_SANDBOX_ISO_READONLY = 1u << 7,   /* every mount read-only except the working directory */
    TITO_SANDBOX_ISO_HIDDEN = 1u << 8,     /* every hidden path covered by an empty read-only mount */
    TITO_SANDBOX_ISO_NO_NESTED_NS = 1u << 9, /* the child may not create user namespaces of its own */
    TITO_SANDBOX_ISO_MEMORY_WATCH = 1u << 10, /* peak address space of the main process read at its exit */
    TITO_SANDBOX_ISO_UNPRIVILEGED = 1u << 11, /* not root, no capabilities, no_new_privs: always, or no run */
    TITO_SANDBOX_ISO_TMPFS_WORKDIR = 1u << 12, /* the private working directory is a tmpfs of limits.workdir_bytes */
} tito_sandbox_isolation;

/* The namespaces (TITO_SANDBOX_ISO_*_NS bits) that this kernel lets this process
 * create, probed once per process by starting a short-lived child with them.
 * Mount-level mechanisms (PROC, READONLY, HIDDEN...) are only known per run. */
unsigned tito_sandbox_available(void);

/* Write the names of the bits in `isolation` ("user-ns pid-ns net-ns ...", or "none")
 * into buf (always NUL-terminated when size > 0, truncated if short). Returns buf. */
char *tito_sandbox_isolation_describe(char *buf, size_t size, unsigned isolation);

/* ---------------------------------------------------------------------------
 * Running
 * ------------------------------------------------------------------------- */

typedef struct tito_sandbox_options {
    /* The program and its arguments, NULL-terminated; argv[0] is the program. A name
     * without '/' is looked up in the child's PATH (/usr/bin:/bin); a relative path
     * with '/' is relative to the working directory. Required. */
    const char *const *argv;
    /* Working directory of the child, which may write there and only there. NULL: a
     * fresh private directory made under temp_parent and removed, with everything
     * in it, when the run ends. A directory given here is neither created, chowned
     * nor removed: when the grader is root the child runs as TITO_SANDBOX_UID and
     * can write there only if that user may. */
    const char *workdir;
    /* Where the private directory is made; NULL: "/tmp". */
    const char *temp_parent;
    /* Extra "NAME=value" entries for the environment, NULL-terminated, or NULL. The
     * child's environment is only PATH=/usr/bin:/bin, HOME=<workdir>, LANG=C,
     * TMPDIR=<workdir> and these (an extra with one of those names replaces it). */
    const char *const *env;
    /* Bytes fed to the child's stdin, which is then closed; none: stdin is empty. */
    const void *stdin_data;
    size_t stdin_size;
    tito_sandbox_limits limits;
    /* Leave the network reachable (no network namespace). Default: no network. */
    bool allow_network;
    /* Absolute paths the child must not see, NULL-terminated, or NULL: directories
     * appear empty, files appear empty; paths that do not exist are ignored. */
    const char *const *hidden_paths;
    /* Give the child a transcript pipe: its fd 3 is the write end, the grader reads
     * the other (capped by limits.transcript_bytes). Otherwise fd 3 is closed. */
    bool transcript;
    /* TITO_SANDBOX_ISO_* bits that must be in force; when the kernel cannot provide
     * one, the run does not start and tito_sandbox_run() fails with TT_ERR_STATE. */
    unsigned require;
    /* TITO_SANDBOX_ISO_*_NS bits not to use even where the kernel allows them: for a
     * kernel where one misbehaves, and to exercise the fallbacks in tests. */
    unsigned disable;
} tito_sandbox_options;

#define TITO_SANDBOX_OPTIONS_INIT { .limits = TITO_SANDBOX_LIMITS_INIT }

/* How a run ended, from the point of view of its main process. */
typedef enum tito_sandbox_end {
    TITO_SANDBOX_EXITED = 0,       /* exited by itself: see exit_code */
    TITO_SANDBOX_SIGNALED,         /* killed by a signal nobody in the sandbox sent for a limit (a crash) */
    TITO_SANDBOX_TIMEOUT,          /* the wall clock ran out; everything was killed */
    TITO_SANDBOX_CPU_LIMIT,        /* RLIMIT_CPU: SIGXCPU, or SIGKILL at the hard limit */
    TITO_SANDBOX_MEMORY_LIMIT,     /* ended badly at the address-space limit (see docs/sandbox.md) */
    TITO_SANDBOX_OUTPUT_LIMIT,     /* wrote more than a cap on stdout, stderr or the transcript; killed */
    TITO_SANDBOX_FILE_SIZE_LIMIT,  /* RLIMIT_FSIZE: SIGXFSZ */
    TITO_SANDBOX_SPAWN_FAILED,     /* the program could not be started (message says why) */
} tito_sandbox_end;

/* "exited", "signaled", "timeout", "cpu-limit", "memory-limit", "output-limit",
 * "file-size-limit", "spawn-failed"; never NULL. */
const char *tito_sandbox_end_name(tito_sandbox_end end);

/* One captured stream. data holds the first `size` bytes (at most the stream's cap)
 * followed by a NUL, so text can be used as a string; it is never NULL. */
typedef struct tito_sandbox_stream {
    char *data;
    size_t size;
    uint64_t total;  /* bytes the child wrote, kept or not */
    bool truncated;  /* total > size: the rest was read and discarded */
} tito_sandbox_stream;

typedef struct tito_sandbox_result {
    tito_sandbox_end end;
    /* The main process's own ending, whatever the verdict: its exit code when it
     * exited (else -1), the signal that killed it (else 0). */
    int exit_code;
    int signal;
    tito_sandbox_stream out;         /* stdout */
    tito_sandbox_stream err;         /* stderr */
    tito_sandbox_stream transcript;  /* fd 3; empty unless options.transcript */
    double cpu_seconds;   /* user + system time of every process of the run */
    double wall_seconds;  /* from start to the last process reaped */
    uint64_t peak_rss;    /* bytes, the largest resident set of any process of the run */
    uint64_t peak_vm;     /* bytes, the main process's peak address space; 0 if unknown */
    unsigned isolation;   /* TITO_SANDBOX_ISO_* bits that were in force */
    /* One sentence on how the run ended ("killed after 2.0 s of wall clock",
     * "execve ./probe: No such file or directory"). */
    char message[512];
    /* Set when the private working directory could not be removed completely;
     * message then names it. */
    bool workdir_left;
} tito_sandbox_result;

/* Run options->argv in the sandbox and wait until it and everything it started
 * are gone (and the private working directory removed).
 *
 * *out receives the result, to be released with tito_sandbox_result_free(); every
 * way the child can end, including failing to start, is a result, not an error.
 * Errors are for the grader's side: TT_ERR_INVALID_ARG for bad options (no argv, a
 * relative hidden path, a zero output cap...), TT_ERR_STATE when options.require
 * asks for isolation this kernel cannot give, TT_ERR_NOMEM, TT_ERR_IO when the
 * sandbox itself cannot be set up (pipes, the private directory, fork). TT_ERR_STATE
 * too when tito was interrupted (grader/interrupt.h): the run is not started, or is
 * killed, and what it did so far is no result. On error *out is NULL and no process,
 * descriptor or directory is left behind. */
tt_status tito_sandbox_run(tito_sandbox_result **out, const tito_sandbox_options *options);

/* Release a result. NULL is harmless. */
void tito_sandbox_result_free(tito_sandbox_result *result);

#ifdef __cplusplus
}
#endif

#endif /* TITO_GRADER_SANDBOX_H */
