/*
 * tests/grader/test_sandbox.c: the sandbox against programs that misbehave on purpose.
 *
 * Each test runs tests/grader/sandbox_child.c in one of its modes and checks the
 * verdict, the captured streams and the world afterwards (no process left, no file
 * written outside, the grader's memory and descriptors intact). Every isolation test
 * has a control: the same attempt with the mechanism off must succeed, so a test can
 * tell "blocked" from "never tried".
 *
 * Isolation is required, not hoped for: where this kernel cannot give a namespace,
 * the tests that need it fail with "UNSUPPORTED: ..." naming what is missing. CI runs
 * them as root on a kernel that allows all of it.
 *
 * Timing: limits are set with wide margins (a 1 s CPU limit, 0.5 s wall clocks) so
 * that outcomes do not depend on the machine's load; the whole file takes ~15 s.
 */
#define _GNU_SOURCE

#include "harness.h"
#include "interrupt.h"
#include "sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SANDBOX_CHILD_PATH
#error "SANDBOX_CHILD_PATH must name the built sandbox_child helper"
#endif

#define FULL_ISOLATION                                                                        \
    (TITO_SANDBOX_ISO_USER_NS | TITO_SANDBOX_ISO_PID_NS | TITO_SANDBOX_ISO_NET_NS |            \
     TITO_SANDBOX_ISO_MOUNT_NS | TITO_SANDBOX_ISO_IPC_NS | TITO_SANDBOX_ISO_UTS_NS |           \
     TITO_SANDBOX_ISO_PROC | TITO_SANDBOX_ISO_READONLY | TITO_SANDBOX_ISO_HIDDEN |              \
     TITO_SANDBOX_ISO_NO_NESTED_NS | TITO_SANDBOX_ISO_MEMORY_WATCH | TITO_SANDBOX_ISO_UNPRIVILEGED | \
     TITO_SANDBOX_ISO_TMPFS_WORKDIR)

#define ALL_NAMESPACES                                                                        \
    (TITO_SANDBOX_ISO_USER_NS | TITO_SANDBOX_ISO_PID_NS | TITO_SANDBOX_ISO_NET_NS |            \
     TITO_SANDBOX_ISO_MOUNT_NS | TITO_SANDBOX_ISO_IPC_NS | TITO_SANDBOX_ISO_UTS_NS)

/* A world-readable scratch directory for the whole file: the helper binary is copied
 * here (the build tree may not be reachable by the sandbox user) and the tests put
 * their "outside" files here. */
static char scratch[256];
static char child_path[300];
static int token_counter;
static char token[64];

/* --------------------------------------------------------------------- helpers */

static const char *new_token(void)
{
    snprintf(token, sizeof token, "tito-sbtest-%ld-%d", (long)getpid(), ++token_counter);
    return token;
}

static void options_for(tito_sandbox_options *o, const char **argv, const char *mode, const char *arg)
{
    tito_sandbox_options init = TITO_SANDBOX_OPTIONS_INIT;
    *o = init;
    o->limits.wall_seconds = 20.0;
    argv[0] = child_path;
    argv[1] = mode;
    argv[2] = arg ? arg : "-";
    argv[3] = new_token();
    argv[4] = NULL;
    o->argv = argv;
    o->transcript = true;
}

static tito_sandbox_result *run(const tito_sandbox_options *o)
{
    tito_sandbox_result *res = NULL;
    tt_status st = tito_sandbox_run(&res, o);
    if (st != TT_OK) {
        fprintf(stderr, "%s: tito_sandbox_run failed: %s: %s\n", harness_current, tt_status_name(st),
                tt_error_last());
        harness_current_failed++;
        return NULL;
    }
    return res;
}

/* The value of a "key=value" pair printed by the helper, or "" (static buffer). */
static const char *kv(const char *text, const char *key)
{
    static char value[512];
    size_t klen = strlen(key);
    value[0] = '\0';
    for (const char *s = text; s && *s;) {
        const char *line_end = strchr(s, '\n');
        const char *k = s;
        /* keys may follow other pairs on the same line, after a space */
        while (k && (!line_end || k < line_end)) {
            if (!strncmp(k, key, klen) && k[klen] == '=') {
                const char *v = k + klen + 1;
                size_t n = strcspn(v, " \n");
                if (n >= sizeof value)
                    n = sizeof value - 1;
                memcpy(value, v, n);
                value[n] = '\0';
                return value;
            }
            k = strchr(k, ' ');
            if (k)
                k++;
        }
        s = line_end ? line_end + 1 : NULL;
    }
    return value;
}

#define CHECK_END(res, expected)                                                              \
    do {                                                                                      \
        if ((res)->end != (expected)) {                                                       \
            fprintf(stderr, "%s:%d: %s: ended %s (%s), expected %s\n", __FILE__, __LINE__,    \
                    harness_current, tito_sandbox_end_name((res)->end), (res)->message,       \
                    tito_sandbox_end_name(expected));                                         \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

#define CHECK_KV(res, key, expected)                                                          \
    do {                                                                                      \
        const char *got_ = kv((res)->out.data, (key));                                        \
        if (strcmp(got_, (expected))) {                                                       \
            fprintf(stderr, "%s:%d: %s: child saw %s=\"%s\", expected \"%s\" (stdout: %.300s)\n", \
                    __FILE__, __LINE__, harness_current, (key), got_, (expected),             \
                    (res)->out.data);                                                         \
            harness_current_failed++;                                                         \
        }                                                                                     \
    } while (0)

/* Fail loudly when a mechanism this test relies on was not in force. */
static bool require_isolation(const tito_sandbox_result *res, unsigned bits)
{
    unsigned missing = bits & ~res->isolation;
    if (!missing)
        return true;
    char need[256], have[256];
    fprintf(stderr,
            "%s: UNSUPPORTED: this test needs isolation [%s] which was not in force (in force: [%s]); "
            "counted as a failure\n",
            harness_current, tito_sandbox_isolation_describe(need, sizeof need, missing),
            tito_sandbox_isolation_describe(have, sizeof have, res->isolation));
    harness_current_failed++;
    return false;
}

/* Processes anywhere on the machine whose command line contains `needle`. */
static int processes_with(const char *needle)
{
    DIR *d = opendir("/proc");
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n > 0 && memmem(buf, (size_t)n, needle, strlen(needle)))
            found++;
    }
    if (d)
        closedir(d);
    return found;
}

static int open_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static bool path_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* Private temp dirs left under `dir`. */
static int sandbox_dirs_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, "tito-sandbox-", 13) == 0;
    if (d)
        closedir(d);
    return n;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", harness_current, path, strerror(errno));
        harness_current_failed++;
    }
    if (fd >= 0)
        close(fd);
    chmod(path, mode);
}

static void make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot mkdir %s: %s\n", harness_current, path, strerror(errno));
        harness_current_failed++;
    }
    chmod(path, mode);
}

/* --------------------------------------------------------------------- tests */

static void test_available(void)
{
    unsigned avail = tito_sandbox_available();
    unsigned ns = TITO_SANDBOX_ISO_USER_NS | TITO_SANDBOX_ISO_PID_NS | TITO_SANDBOX_ISO_NET_NS |
                  TITO_SANDBOX_ISO_MOUNT_NS | TITO_SANDBOX_ISO_IPC_NS | TITO_SANDBOX_ISO_UTS_NS;
    char have[256], missing[256];
    printf("sandbox: namespaces available here: %s (uid %d)\n",
           tito_sandbox_isolation_describe(have, sizeof have, avail), (int)geteuid());
    if ((avail & ns) != ns) {
        fprintf(stderr, "test_available: UNSUPPORTED: this kernel does not let uid %d create [%s]; "
                        "every isolation test below will fail\n",
                (int)geteuid(), tito_sandbox_isolation_describe(missing, sizeof missing, ns & ~avail));
        harness_current_failed++;
    }
    CHECK(tito_sandbox_available() == avail); /* cached, stable */
    CHECK(!strcmp(tito_sandbox_isolation_describe(have, sizeof have, 0), "none"));
    CHECK(!strcmp(tito_sandbox_isolation_describe(have, sizeof have,
                                                  TITO_SANDBOX_ISO_PID_NS | TITO_SANDBOX_ISO_READONLY),
                  "pid-ns read-only"));
    char tiny[6];
    tito_sandbox_isolation_describe(tiny, sizeof tiny, TITO_SANDBOX_ISO_USER_NS | TITO_SANDBOX_ISO_PID_NS);
    CHECK(strlen(tiny) < sizeof tiny);
}

static void test_end_names(void)
{
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_EXITED), "exited"));
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_SIGNALED), "signaled"));
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_TIMEOUT), "timeout"));
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_CPU_LIMIT), "cpu-limit"));
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_MEMORY_LIMIT), "memory-limit"));
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_OUTPUT_LIMIT), "output-limit"));
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_FILE_SIZE_LIMIT), "file-size-limit"));
    CHECK(!strcmp(tito_sandbox_end_name(TITO_SANDBOX_SPAWN_FAILED), "spawn-failed"));
    CHECK(!strcmp(tito_sandbox_end_name((tito_sandbox_end)99), "unknown"));
}

static void test_normal_child(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "hello", NULL);
    o.stdin_data = "abc";
    o.stdin_size = 3;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(res->exit_code == 7);
    CHECK(res->signal == 0);
    CHECK(!strcmp(res->out.data, "hello stdout\nstdin=abc\n"));
    CHECK(res->out.size == strlen("hello stdout\nstdin=abc\n") && res->out.total == res->out.size);
    CHECK(!strcmp(res->err.data, "hello stderr\n"));
    CHECK(!strcmp(res->transcript.data, "transcript line 1\ntranscript line 2\n"));
    CHECK(!res->out.truncated && !res->err.truncated && !res->transcript.truncated);
    CHECK(res->wall_seconds > 0 && res->wall_seconds < 10);
    CHECK(res->cpu_seconds >= 0 && res->cpu_seconds < 5);
    CHECK(res->peak_rss > 0);
    CHECK(res->peak_vm > 0); /* the memory watch read it */
    CHECK(!res->workdir_left);
    CHECK(strstr(res->message, "exited with code 7") != NULL);
    require_isolation(res, FULL_ISOLATION);
    tito_sandbox_result_free(res);
}

/* Without options.transcript, fd 3 is closed: writing there fails, nothing is captured. */
static void test_no_transcript(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "fds", NULL);
    o.transcript = false;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(!strcmp(res->out.data, "open_fd=0\nopen_fd=1\nopen_fd=2\n"));
    CHECK(res->transcript.size == 0 && res->transcript.data && res->transcript.data[0] == '\0');
    tito_sandbox_result_free(res);
}

/* The grader's descriptors, even inheritable ones, never reach the child; its own
 * descriptor count is unchanged by a run. */
static void test_fds_closed(void)
{
    int leaky = dup2(2, 57); /* not close-on-exec, on purpose */
    CHECK(leaky == 57);
    int before = open_fd_count();
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "fds", NULL);
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK(!strcmp(res->out.data, "open_fd=0\nopen_fd=1\nopen_fd=2\nopen_fd=3\n"));
        tito_sandbox_result_free(res);
    }
    CHECK(open_fd_count() == before);
    close(57);
}

static void test_fake_success(void)
{
    const char *lie = "ALL TESTS PASSED\n{\"verdict\": \"pass\", \"score\": 100, \"points\": 100}\n";
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "fake", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    /* Captured as data, byte for byte; the ending comes from the wait status alone. */
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(res->exit_code == 1);
    CHECK(!strcmp(res->out.data, lie));
    CHECK(!strcmp(res->err.data, lie));
    CHECK(!strcmp(res->transcript.data, lie));
    CHECK(strstr(res->message, "pass") == NULL);
    tito_sandbox_result_free(res);
}

static void test_exit0_early(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "exit0", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(res->exit_code == 0);
    CHECK(res->out.size == 0 && res->err.size == 0 && res->transcript.size == 0);
    tito_sandbox_result_free(res);
}

static void test_cpu_limit(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "cpu", NULL);
    o.limits.cpu_seconds = 1;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_CPU_LIMIT);
    CHECK(res->signal == SIGXCPU);
    CHECK(res->cpu_seconds >= 0.75 && res->cpu_seconds < 3.0);
    CHECK(res->wall_seconds < 15.0);
    tito_sandbox_result_free(res);
}

/* Ignoring SIGXCPU only buys the second between the soft and the hard limit. */
static void test_cpu_limit_ignored(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "cpu-ignore-xcpu", NULL);
    o.limits.cpu_seconds = 1;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_CPU_LIMIT);
    CHECK(res->signal == SIGKILL);
    /* Past the soft limit, stopped by the hard one; the kernel's rusage lags its limit
     * check by a few ticks on a loaded machine. */
    if (!(res->cpu_seconds >= 1.5 && res->cpu_seconds < 4.0)) {
        fprintf(stderr, "%s: used %.3f s of CPU, expected 2 s (soft limit 1 s + 1 s of grace); %s\n",
                harness_current, res->cpu_seconds, res->message);
        harness_current_failed++;
    }
    tito_sandbox_result_free(res);
}

static void test_wall_timeout(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "sleep", NULL);
    o.limits.wall_seconds = 0.5;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_TIMEOUT);
    CHECK(res->signal == SIGKILL);
    CHECK(res->wall_seconds >= 0.5 && res->wall_seconds < 5.0);
    CHECK(res->cpu_seconds < 0.5);
    CHECK(strstr(res->message, "wall clock") != NULL);
    tito_sandbox_result_free(res);
    CHECK(processes_with(token) == 0);
}

static void test_fork_bomb(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "forkbomb", NULL);
    o.limits.processes = 16;
    o.limits.cpu_seconds = 2;
    o.limits.wall_seconds = 2.0;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK(res->end == TITO_SANDBOX_TIMEOUT || res->end == TITO_SANDBOX_CPU_LIMIT);
    /* The first process could make at most 15 more before the kernel said no. */
    long forks = strtol(kv(res->transcript.data, "forks"), NULL, 10);
    CHECK(forks >= 1 && forks <= 15);
    CHECK(!strcmp(kv(res->transcript.data, "fork_error"), "EAGAIN"));
    require_isolation(res, TITO_SANDBOX_ISO_PID_NS | TITO_SANDBOX_ISO_USER_NS);
    tito_sandbox_result_free(res);
    CHECK(processes_with(token) == 0);
}

static void check_memory_limit(const char *then, tito_sandbox_end expected_end, int expected_signal,
                               int expected_code)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "malloc", then);
    o.limits.address_space = (uint64_t)256 << 20;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, expected_end);
    CHECK(res->signal == expected_signal);
    CHECK(res->exit_code == expected_code);
    CHECK(res->peak_vm > ((uint64_t)200 << 20) && res->peak_vm <= ((uint64_t)256 << 20));
    CHECK(res->peak_rss > ((uint64_t)128 << 20));
    CHECK(strstr(res->err.data, "before malloc failed") != NULL);
    require_isolation(res, TITO_SANDBOX_ISO_MEMORY_WATCH);
    tito_sandbox_result_free(res);
}

static void test_memory_limit_crash(void)
{
    check_memory_limit("segv", TITO_SANDBOX_MEMORY_LIMIT, SIGSEGV, -1);
}

static void test_memory_limit_exit(void)
{
    check_memory_limit("exit", TITO_SANDBOX_MEMORY_LIMIT, 0, 1);
}

static void test_memory_limit_abort(void)
{
    check_memory_limit("abort", TITO_SANDBOX_MEMORY_LIMIT, SIGABRT, -1);
}

/* A crash far from the address-space limit is a crash, not a memory-limit ending. */
static void test_stack_overflow(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "stack", NULL);
    o.limits.address_space = (uint64_t)256 << 20;
    o.limits.stack = (uint64_t)8 << 20;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_SIGNALED);
    CHECK(res->signal == SIGSEGV);
    CHECK(res->exit_code == -1);
    CHECK(strstr(res->message, "SIGSEGV") != NULL);
    tito_sandbox_result_free(res);
}

static void check_flood(const char *mode, int which)
{
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, mode, NULL);
    o.limits.output_bytes = 100000;
    o.limits.transcript_bytes = 100000;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    getrusage(RUSAGE_SELF, &after);
    CHECK_END(res, TITO_SANDBOX_OUTPUT_LIMIT);
    tito_sandbox_stream *s = which == 1 ? &res->out : which == 2 ? &res->err : &res->transcript;
    CHECK(s->truncated);
    CHECK(s->size == 100000);
    CHECK(s->total > s->size);
    CHECK(strlen(s->data) == s->size);
    CHECK(s->data[0] == 'x' && s->data[s->size - 1] == 'x');
    /* The grader kept its cap, not the flood. */
    CHECK(after.ru_maxrss - before.ru_maxrss < 32 * 1024);
    tito_sandbox_result_free(res);
}

static void test_output_flood_stdout(void)
{
    check_flood("flood", 1);
}

static void test_output_flood_stderr(void)
{
    check_flood("flood-stderr", 2);
}

static void test_output_flood_transcript(void)
{
    check_flood("flood-transcript", 3);
}

static void test_write_outside(void)
{
    char open_dir[300], target[400], tmp_target[300];
    snprintf(open_dir, sizeof open_dir, "%s/world-writable", scratch);
    make_dir(open_dir, 0777);
    snprintf(target, sizeof target, "%s/escaped.txt", open_dir);
    snprintf(tmp_target, sizeof tmp_target, "/tmp/%s-escaped", new_token());
    const char *targets[] = {target, tmp_target, "/etc/tito-sandbox-escaped"};
    for (size_t i = 0; i < 3; i++) {
        tito_sandbox_options o;
        const char *argv[5];
        options_for(&o, argv, "write", targets[i]);
        tito_sandbox_result *res = run(&o);
        if (!res)
            continue;
        CHECK_END(res, TITO_SANDBOX_EXITED);
        const char *w = kv(res->out.data, "write");
        if (strcmp(w, "EROFS") && strcmp(w, "EACCES")) {
            fprintf(stderr, "%s: writing %s gave %s, expected EROFS or EACCES\n", harness_current,
                    targets[i], w);
            harness_current_failed++;
        }
        CHECK(!path_exists(targets[i]));
        require_isolation(res, TITO_SANDBOX_ISO_READONLY);
        tito_sandbox_result_free(res);
        unlink(targets[i]);
    }
    /* Control: inside its own directory the child may write, and the directory goes. */
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "mkfile", "made.txt");
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK_KV(res, "mkfile", "OK");
    const char *cwd = kv(res->out.data, "cwd");
    CHECK(strstr(cwd, "/tito-sandbox-") != NULL);
    CHECK(!path_exists(cwd));
    tito_sandbox_result_free(res);
}

static void test_network(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    CHECK(ls >= 0);
    CHECK(bind(ls, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(ls, 4) == 0);
    CHECK(getsockname(ls, (struct sockaddr *)&a, &alen) == 0);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));

    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "connect", port);
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK_KV(res, "connect", "ENETUNREACH");
        require_isolation(res, TITO_SANDBOX_ISO_NET_NS);
        tito_sandbox_result_free(res);
    }
    CHECK(accept(ls, NULL, NULL) < 0 && errno == EAGAIN); /* nobody knocked */

    /* Control: with the network allowed, the same connection goes through. */
    options_for(&o, argv, "connect", port);
    o.allow_network = true;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK_KV(res, "connect", "OK");
        CHECK(!(res->isolation & TITO_SANDBOX_ISO_NET_NS));
        tito_sandbox_result_free(res);
    }
    int c = accept(ls, NULL, NULL);
    CHECK(c >= 0);
    if (c >= 0)
        close(c);
    close(ls);
}

static void test_kill_parent(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "kill-parent", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    /* Its parent is the keeper, pid 1 of the namespace: the signal does nothing. */
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(res->exit_code == 0);
    CHECK_KV(res, "alive", "yes");
    tito_sandbox_result_free(res);
}

static void test_kill_group(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "kill-group", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_SIGNALED);
    CHECK(res->signal == SIGKILL);
    CHECK(strstr(res->out.data, "alive") == NULL);
    tito_sandbox_result_free(res);
}

/* kill(-1, SIGKILL) reaches only the run's own processes: a process of the same user
 * outside the sandbox (the canary) survives. */
static void test_kill_all(void)
{
    int ready[2];
    CHECK(pipe2(ready, O_CLOEXEC) == 0);
    pid_t canary = fork();
    if (canary == 0) {
        if (geteuid() == 0 && (setresgid(TITO_SANDBOX_GID, TITO_SANDBOX_GID, TITO_SANDBOX_GID) < 0 ||
                               setresuid(TITO_SANDBOX_UID, TITO_SANDBOX_UID, TITO_SANDBOX_UID) < 0))
            _exit(3);
        close(ready[1]);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    CHECK(read(ready[0], &c, 1) == 0); /* the canary has dropped its privileges */
    close(ready[0]);

    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "kill-all", NULL);
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        /* Nobody else to signal: the keeper (pid 1) is exempt, the canary is invisible. */
        CHECK_KV(res, "kill_all", "ESRCH");
        require_isolation(res, TITO_SANDBOX_ISO_PID_NS);
        tito_sandbox_result_free(res);
    }
    int st;
    CHECK(waitpid(canary, &st, WNOHANG) == 0); /* still running */
    kill(canary, SIGKILL);
    waitpid(canary, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void test_rlimits_cannot_be_raised(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "rlimits", NULL);
    o.limits.cpu_seconds = 5;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK_KV(res, "raise_cpu", "EPERM");
    CHECK_KV(res, "raise_as", "EPERM");
    CHECK_KV(res, "raise_nofile", "EPERM");
    CHECK_KV(res, "raise_nproc", "EPERM");
    CHECK_KV(res, "raise_fsize", "EPERM");
    CHECK_KV(res, "raise_stack", "EPERM");
    /* The limits it saw are the ones asked for (CPU: one second of grace). */
    CHECK(strstr(res->out.data, "raise_cpu=EPERM hard=6\n") != NULL);
    CHECK(strstr(res->out.data, "raise_nofile=EPERM hard=64\n") != NULL);
    const char *su = kv(res->out.data, "setuid0");
    CHECK(!strcmp(su, "EPERM") || !strcmp(su, "EINVAL"));
    tito_sandbox_result_free(res);
}

static void test_hidden_paths(void)
{
    char dir[300], secret[400], key[300];
    snprintf(dir, sizeof dir, "%s/config-tito", scratch);
    make_dir(dir, 0755);
    snprintf(secret, sizeof secret, "%s/signing.key", dir);
    write_text(secret, "TOPSECRET", 0644);
    snprintf(key, sizeof key, "%s/receipts.db", scratch);
    write_text(key, "RESULTS", 0644);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/does-not-exist", scratch);
    const char *hidden[] = {dir, key, missing, NULL};

    /* Control: without hiding, the sandbox user can read both. */
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "read", dir);
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_KV(res, "dir_entries", "1");
        tito_sandbox_result_free(res);
    }
    options_for(&o, argv, "read", key);
    res = run(&o);
    if (res) {
        CHECK_KV(res, "content", "RESULTS");
        tito_sandbox_result_free(res);
    }

    options_for(&o, argv, "read", dir);
    o.hidden_paths = hidden;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK_KV(res, "dir_entries", "0");
        require_isolation(res, TITO_SANDBOX_ISO_HIDDEN | TITO_SANDBOX_ISO_MOUNT_NS);
        tito_sandbox_result_free(res);
    }
    options_for(&o, argv, "read", secret);
    o.hidden_paths = hidden;
    res = run(&o);
    if (res) {
        CHECK_KV(res, "open", "ENOENT");
        CHECK(strstr(res->out.data, "TOPSECRET") == NULL);
        tito_sandbox_result_free(res);
    }
    options_for(&o, argv, "read", key);
    o.hidden_paths = hidden;
    res = run(&o);
    if (res) {
        CHECK_KV(res, "read_bytes", "0");
        CHECK(strstr(res->out.data, "RESULTS") == NULL);
        tito_sandbox_result_free(res);
    }
    /* Hiding changed nothing outside the run. */
    CHECK(path_exists(secret));
}

static void test_grandchild_killed(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "grandchild", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(res->exit_code == 0);
    CHECK(!strcmp(res->transcript.data, "grandchild running\n"));
    CHECK(!strcmp(res->out.data, "parent exiting\n"));
    CHECK(res->wall_seconds < 10.0);
    tito_sandbox_result_free(res);
    CHECK(processes_with(token) == 0);
}

static void test_file_size_limit(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "fsize", NULL);
    o.limits.file_size = 1 << 20;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_FILE_SIZE_LIMIT);
    CHECK(res->signal == SIGXFSZ);
    tito_sandbox_result_free(res);
}

/* The private directory holds at most limits.workdir_bytes, however the run spreads
 * its writes over files; a larger cap lets it write more (the control). */
static void test_workdir_capacity(void)
{
    uint64_t caps[] = {(uint64_t)2 << 20, (uint64_t)6 << 20};
    for (size_t i = 0; i < 2; i++) {
        tito_sandbox_options o;
        const char *argv[5];
        options_for(&o, argv, "fill", NULL);
        o.limits.workdir_bytes = caps[i];
        o.limits.file_size = 1 << 20;
        tito_sandbox_result *res = run(&o);
        if (!res)
            continue;
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK_KV(res, "fill_error", "ENOSPC");
        unsigned long long bytes = strtoull(kv(res->out.data, "fill_bytes"), NULL, 10);
        if (!(bytes <= caps[i] && bytes + ((uint64_t)256 << 10) >= caps[i])) {
            fprintf(stderr, "%s: wrote %llu bytes into a directory of %llu\n", harness_current, bytes,
                    (unsigned long long)caps[i]);
            harness_current_failed++;
        }
        require_isolation(res, TITO_SANDBOX_ISO_TMPFS_WORKDIR);
        tito_sandbox_result_free(res);
    }
}

static void test_env_scrubbed(void)
{
    setenv("TITO_TEST_SECRET", "hunter2", 1);
    const char *extra[] = {"TITO_SEED=42", "LANG=C.UTF-8", NULL};
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "env", NULL);
    o.env = extra;
    tito_sandbox_result *res = run(&o);
    unsetenv("TITO_TEST_SECRET");
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(strstr(res->out.data, "hunter2") == NULL);
    const char *home = kv(res->out.data, "HOME");
    CHECK(strstr(home, "/tito-sandbox-") != NULL);
    char expected[1024];
    snprintf(expected, sizeof expected, "PATH=/usr/bin:/bin\nLANG=C.UTF-8\nHOME=%s\nTMPDIR=%s\nTITO_SEED=42\n",
             home, home);
    if (strcmp(res->out.data, expected)) {
        fprintf(stderr, "%s: environment was:\n%s---\nexpected:\n%s", harness_current, res->out.data, expected);
        harness_current_failed++;
    }
    tito_sandbox_result_free(res);
}

static void test_unprivileged(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "ids", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    if (geteuid() == 0) {
        CHECK_KV(res, "uid", "65534");
        CHECK_KV(res, "euid", "65534");
        CHECK_KV(res, "gid", "65534");
        CHECK_KV(res, "groups", "0");
    } else {
        CHECK(strcmp(kv(res->out.data, "uid"), "0") != 0);
    }
    CHECK(strstr(res->out.data, "CapEff:\t0000000000000000\n") != NULL);
    CHECK(strstr(res->out.data, "CapPrm:\t0000000000000000\n") != NULL);
    CHECK(strstr(res->out.data, "CapAmb:\t0000000000000000\n") != NULL);
    CHECK(strstr(res->out.data, "CapBnd:\t0000000000000000\n") != NULL); /* dropped inside the user namespace */
    CHECK(strstr(res->out.data, "NoNewPrivs:\t1\n") != NULL);
    CHECK(res->isolation & TITO_SANDBOX_ISO_UNPRIVILEGED);
    tito_sandbox_result_free(res);
}

static void test_pid_namespace(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "procs", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    /* The fresh /proc shows the keeper and the child, nothing of the host. */
    CHECK_KV(res, "processes", "2");
    CHECK_KV(res, "ppid", "1");
    require_isolation(res, TITO_SANDBOX_ISO_PID_NS | TITO_SANDBOX_ISO_PROC);
    tito_sandbox_result_free(res);
}

static void test_nested_userns_refused(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "nested-userns", NULL);
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK(strcmp(kv(res->out.data, "unshare_user"), "OK") != 0);
    CHECK(kv(res->out.data, "unshare_user")[0] != '\0');
    require_isolation(res, TITO_SANDBOX_ISO_NO_NESTED_NS);
    tito_sandbox_result_free(res);
}

static void test_spawn_failed(void)
{
    const char *argv[] = {"/nonexistent/probe", NULL};
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    o.argv = argv;
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_SPAWN_FAILED);
        CHECK(strstr(res->message, "execve /nonexistent/probe: No such file or directory") != NULL);
        CHECK(!res->workdir_left);
        tito_sandbox_result_free(res);
    }
    const char *argv2[] = {"no-such-program-tito", NULL};
    o.argv = argv2;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_SPAWN_FAILED);
        CHECK(strstr(res->message, "/usr/bin/no-such-program-tito") != NULL);
        tito_sandbox_result_free(res);
    }
    /* A file that is not executable. */
    char text[300];
    snprintf(text, sizeof text, "%s/not-a-program", scratch);
    write_text(text, "hello\n", 0644);
    const char *argv3[] = {text, NULL};
    o.argv = argv3;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_SPAWN_FAILED);
        CHECK(strstr(res->message, "Permission denied") != NULL);
        tito_sandbox_result_free(res);
    }
    /* Control: a program found through the child's PATH runs. */
    const char *argv4[] = {"true", NULL};
    o.argv = argv4;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK(res->exit_code == 0);
        tito_sandbox_result_free(res);
    }
}

static void test_large_stdin(void)
{
    size_t n = (size_t)1 << 20;
    char *data = malloc(n);
    if (!data)
        return;
    memset(data, 'z', n);
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "stdin-count", NULL);
    o.stdin_data = data;
    o.stdin_size = n;
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK_KV(res, "stdin_bytes", "1048576");
        tito_sandbox_result_free(res);
    }
    /* A child that never reads: no deadlock, and no SIGPIPE for the grader. */
    options_for(&o, argv, "exit0", NULL);
    o.stdin_data = data;
    o.stdin_size = n;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK(res->exit_code == 0);
        tito_sandbox_result_free(res);
    }
    free(data);
}

static void test_given_workdir(void)
{
    char wd[300], made[400];
    snprintf(wd, sizeof wd, "%s/workdir", scratch);
    make_dir(wd, 0755);
    if (geteuid() == 0)
        CHECK(chown(wd, TITO_SANDBOX_UID, TITO_SANDBOX_GID) == 0);
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "mkfile", "out.txt");
    o.workdir = wd;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK_KV(res, "mkfile", "OK");
    CHECK_KV(res, "cwd", wd);
    snprintf(made, sizeof made, "%s/out.txt", wd);
    CHECK(path_exists(made)); /* a given directory is the caller's: kept */
    tito_sandbox_result_free(res);
    unlink(made);
    rmdir(wd);
}

/* Whatever the child leaves in its private directory (deep trees, unreadable
 * directories, links pointing outside), the directory goes and nothing outside does. */
static void test_cleanup_of_a_mess(void)
{
    char outside[300], parent[300];
    snprintf(outside, sizeof outside, "%s/precious.txt", scratch);
    write_text(outside, "keep me", 0644);
    snprintf(parent, sizeof parent, "%s/temp-parent", scratch);
    make_dir(parent, 0755);
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "mess", outside);
    o.temp_parent = parent;
    tito_sandbox_result *res = run(&o);
    if (!res)
        return;
    CHECK_END(res, TITO_SANDBOX_EXITED);
    CHECK_KV(res, "mess", "OK");
    if (res->workdir_left) {
        fprintf(stderr, "%s: %s\n", harness_current, res->message);
        harness_current_failed++;
    }
    CHECK(sandbox_dirs_in(parent) == 0);
    CHECK(path_exists(outside));
    tito_sandbox_result_free(res);
    rmdir(parent);
}

static void test_require(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "exit0", NULL);
    o.require = FULL_ISOLATION;
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        require_isolation(res, FULL_ISOLATION);
        tito_sandbox_result_free(res);
    }
}

static void test_bad_options(void)
{
    tito_sandbox_result *res = (tito_sandbox_result *)&res; /* must be reset to NULL */
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    CHECK_STATUS(tito_sandbox_run(NULL, &o), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tito_sandbox_run(&res, NULL), TT_ERR_INVALID_ARG);
    CHECK(res == NULL);
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("options.argv must hold a program name, got NULL");
    const char *empty[] = {NULL};
    o.argv = empty;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("an empty list");
    const char *argv[] = {"true", NULL};
    o.argv = argv;
    o.limits.output_bytes = 0;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("output caps must be positive");
    o.limits.output_bytes = 1024;
    o.limits.wall_seconds = -1;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("wall_seconds");
    o.limits.wall_seconds = 5;
    o.stdin_size = 3;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("stdin_data is NULL");
    o.stdin_size = 0;
    const char *bad_env[] = {"NOEQUALS", NULL};
    o.env = bad_env;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("\"NOEQUALS\" is not NAME=value");
    o.env = NULL;
    const char *relative[] = {"config/tito", NULL};
    o.hidden_paths = relative;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("hidden path \"config/tito\" must be absolute");
    o.hidden_paths = NULL;
    o.workdir = "/nonexistent/workdir";
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("workdir \"/nonexistent/workdir\" is not a usable directory");
    o.workdir = NULL;
    o.temp_parent = "/nonexistent/tmp";
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("temp_parent \"/nonexistent/tmp\"");
    o.temp_parent = NULL;
    o.allow_network = true;
    o.require = TITO_SANDBOX_ISO_NET_NS;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("allow_network contradicts");
    CHECK(res == NULL);
    tito_sandbox_result_free(NULL);
}

/* Runs in several threads at once: each gets its own streams, and one run's fork bomb
 * does not use up the others' process limit (counted per user namespace). */
static char parallel_token[64];

typedef struct parallel_job {
    bool bomb;
    int runs, good;
    char failure[1200];
} parallel_job;

static void *parallel_worker(void *arg)
{
    parallel_job *job = arg;
    for (int i = 0; i < job->runs; i++) {
        char stdin_text[32];
        snprintf(stdin_text, sizeof stdin_text, "run-%p-%d", (void *)job, i);
        const char *argv[] = {child_path, job->bomb ? "forkbomb" : "fork-one", "-", parallel_token, NULL};
        tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
        o.argv = argv;
        o.transcript = true;
        o.stdin_data = stdin_text;
        o.stdin_size = strlen(stdin_text);
        o.limits.processes = 16;
        o.limits.wall_seconds = job->bomb ? 1.5 : 20.0;
        tito_sandbox_result *res = NULL;
        if (tito_sandbox_run(&res, &o) != TT_OK) {
            snprintf(job->failure, sizeof job->failure, "run failed: %s", tt_error_last());
            continue;
        }
        char expected[128];
        snprintf(expected, sizeof expected, "stdin=%s fork=OK\n", stdin_text);
        bool ok = job->bomb ? res->end == TITO_SANDBOX_TIMEOUT
                            : res->end == TITO_SANDBOX_EXITED && res->exit_code == 0 && !strcmp(res->out.data, expected);
        if (ok)
            job->good++;
        else
            snprintf(job->failure, sizeof job->failure, "%s: %s, stdout \"%.60s\" stderr \"%.100s\" iso %x cpu %.3f vm %llu",
                     tito_sandbox_end_name(res->end), res->message, res->out.data, res->err.data, res->isolation, res->cpu_seconds, (unsigned long long)res->peak_vm);
        tito_sandbox_result_free(res);
    }
    return NULL;
}

static void test_parallel_runs(void)
{
    parallel_job jobs[4] = {{.bomb = true, .runs = 2}, {.runs = 6}, {.runs = 6}, {.runs = 6}};
    pthread_t threads[4];
    snprintf(parallel_token, sizeof parallel_token, "tito-sbtest-%ld-parallel", (long)getpid());
    int fds = open_fd_count();
    CHECK(pthread_create(&threads[0], NULL, parallel_worker, &jobs[0]) == 0);
    usleep(300000); /* the bomb has filled its process limit by now */
    for (int i = 1; i < 4; i++)
        CHECK(pthread_create(&threads[i], NULL, parallel_worker, &jobs[i]) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 4; i++) {
        if (jobs[i].good != jobs[i].runs) {
            fprintf(stderr, "%s: thread %d: %d of %d runs as expected; last problem: %s\n", harness_current, i,
                    jobs[i].good, jobs[i].runs, jobs[i].failure);
            harness_current_failed++;
        }
    }
    CHECK(open_fd_count() == fds);
    CHECK(processes_with(parallel_token) == 0);
}

/* --------------------------------------------------------------------- interrupts */

typedef struct interrupted_job {
    char token[64];
    const char *parent;
    tt_status st;
    bool got_result;
    double seconds;
    char message[600];
} interrupted_job;

static void *interrupted_worker(void *arg)
{
    interrupted_job *job = arg;
    /* The handler must run in another thread: this run can only learn of the signal
     * through the wake-up descriptor. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    const char *argv[] = {child_path, "sleep", "-", job->token, NULL};
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    o.argv = argv;
    o.temp_parent = job->parent;
    o.limits.wall_seconds = 60.0;
    tito_sandbox_result *res = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    job->st = tito_sandbox_run(&res, &o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    job->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    job->got_result = res != NULL;
    snprintf(job->message, sizeof job->message, "%s", job->st == TT_OK ? res->message : tt_error_last());
    tito_sandbox_result_free(res);
    return NULL;
}

/* SIGINT caught (grader/interrupt.h) while two runs sleep in two threads: both are
 * killed at once, as an error and not as a verdict, their directories and processes
 * go, and the next run is refused. Runs last: catching is for the whole process. */
static void test_interrupt(void)
{
    char parent[300];
    snprintf(parent, sizeof parent, "%s/temp-parent", scratch);
    make_dir(parent, 0755);
    CHECK_OK(tito_interrupt_catch());
    interrupted_job jobs[2];
    pthread_t threads[2];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 2; i++) {
        snprintf(jobs[i].token, sizeof jobs[i].token, "tito-sbtest-%ld-interrupt-%d", (long)getpid(), i);
        jobs[i].parent = parent;
        CHECK(pthread_create(&threads[i], NULL, interrupted_worker, &jobs[i]) == 0);
    }
    for (int tries = 0; tries < 300 && (processes_with(jobs[0].token) == 0 || processes_with(jobs[1].token) == 0);
         tries++)
        usleep(100000);
    CHECK(processes_with(jobs[0].token) > 0 && processes_with(jobs[1].token) > 0);
    CHECK(!tito_interrupt_stopped());
    kill(getpid(), SIGINT);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        if (jobs[i].st != TT_ERR_STATE || jobs[i].got_result || jobs[i].seconds > 30.0 ||
            !strstr(jobs[i].message, "interrupted by SIGINT")) {
            fprintf(stderr, "%s: run %d: %s after %.1f s: %s\n", harness_current, i, tt_status_name(jobs[i].st),
                    jobs[i].seconds, jobs[i].message);
            harness_current_failed++;
        }
        CHECK(processes_with(jobs[i].token) == 0);
    }
    CHECK(tito_interrupt_caught == SIGINT);
    CHECK(tito_interrupt_stopped());
    CHECK(sandbox_dirs_in(parent) == 0);

    const char *argv[] = {child_path, "hello", "-", "-", NULL};
    tito_sandbox_options o = TITO_SANDBOX_OPTIONS_INIT;
    o.argv = argv;
    o.temp_parent = parent;
    tito_sandbox_result *res = NULL;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_STATE);
    CHECK(res == NULL);
    CHECK(sandbox_dirs_in(parent) == 0);

    tito_interrupt_release();
    CHECK(tito_interrupt_caught == 0 && tito_interrupt_fd() == -1 && !tito_interrupt_stopped());
    rmdir(parent);
}

/* --------------------------------------------------------------------- fallbacks
 *
 * What a kernel without namespaces gets, simulated with options.disable: the child is
 * still unprivileged and limited, the run still ends completely, and hidden paths are
 * refused rather than exposed. */

static void test_fallback_no_namespaces(void)
{
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "hello", NULL);
    o.disable = ALL_NAMESPACES;
    o.stdin_data = "abc";
    o.stdin_size = 3;
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK(res->exit_code == 7);
        CHECK(!strcmp(res->out.data, "hello stdout\nstdin=abc\n"));
        CHECK(!strcmp(res->transcript.data, "transcript line 1\ntranscript line 2\n"));
        CHECK((res->isolation & (ALL_NAMESPACES | TITO_SANDBOX_ISO_READONLY | TITO_SANDBOX_ISO_PROC)) == 0);
        CHECK(res->isolation & TITO_SANDBOX_ISO_UNPRIVILEGED);
        tito_sandbox_result_free(res);
    }
    /* Asking for what was switched off is refused before anything runs. */
    o.require = TITO_SANDBOX_ISO_PID_NS;
    res = (tito_sandbox_result *)&res;
    CHECK_STATUS(tito_sandbox_run(&res, &o), TT_ERR_STATE);
    CHECK_ERROR_MENTIONS("cannot provide the required isolation: pid-ns");
    CHECK(res == NULL);

    options_for(&o, argv, "ids", NULL);
    o.disable = ALL_NAMESPACES;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        if (geteuid() == 0) {
            CHECK_KV(res, "uid", "65534");
            CHECK_KV(res, "gid", "65534");
            CHECK_KV(res, "groups", "0");
        }
        CHECK(strstr(res->out.data, "CapEff:\t0000000000000000\n") != NULL);
        CHECK(strstr(res->out.data, "CapBnd:\t0000000000000000\n") != NULL || geteuid() != 0);
        CHECK(strstr(res->out.data, "NoNewPrivs:\t1\n") != NULL);
        tito_sandbox_result_free(res);
    }
    options_for(&o, argv, "malloc", "exit");
    o.disable = ALL_NAMESPACES;
    o.limits.address_space = (uint64_t)256 << 20;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_MEMORY_LIMIT);
        CHECK(res->isolation & TITO_SANDBOX_ISO_MEMORY_WATCH);
        tito_sandbox_result_free(res);
    }
}

/* Without a PID namespace the keeper is a subreaper: processes that left the session
 * come back to it and are killed, at the end and at a timeout. */
static void test_fallback_no_pid_namespace(void)
{
    unsigned variants[] = {TITO_SANDBOX_ISO_PID_NS, ALL_NAMESPACES};
    for (size_t v = 0; v < 2; v++) {
        tito_sandbox_options o;
        const char *argv[5];
        options_for(&o, argv, "grandchild", NULL);
        o.disable = variants[v];
        tito_sandbox_result *res = run(&o);
        if (res) {
            CHECK_END(res, TITO_SANDBOX_EXITED);
            CHECK(!strcmp(res->transcript.data, "grandchild running\n"));
            CHECK(!(res->isolation & TITO_SANDBOX_ISO_PID_NS));
            tito_sandbox_result_free(res);
        }
        CHECK(processes_with(token) == 0);

        options_for(&o, argv, "forkbomb", NULL);
        o.disable = variants[v];
        o.limits.processes = 16;
        o.limits.wall_seconds = 1.0;
        res = run(&o);
        if (res && (res->isolation & TITO_SANDBOX_ISO_USER_NS)) {
            CHECK_END(res, TITO_SANDBOX_TIMEOUT);
            long forks = strtol(kv(res->transcript.data, "forks"), NULL, 10);
            CHECK(forks >= 1 && forks <= 15);
        } else if (res) {
            /* Without a user namespace the count is shared with every process of uid
             * 65534 on the machine (other runs included): bounded, but maybe by others. */
            CHECK(res->end == TITO_SANDBOX_TIMEOUT || res->end == TITO_SANDBOX_SPAWN_FAILED);
            CHECK(strtol(kv(res->transcript.data, "forks"), NULL, 10) <= 15);
        }
        tito_sandbox_result_free(res);
        CHECK(processes_with(token) == 0);
    }
}

/* Without a mount namespace nothing can cover a hidden path: a path the sandbox user
 * could read stops the run; one it cannot read anyway is allowed. */
static void test_fallback_hidden_without_mount_namespace(void)
{
    char open_dir[300], closed_dir[300];
    snprintf(open_dir, sizeof open_dir, "%s/readable-config", scratch);
    make_dir(open_dir, 0755);
    const char *hidden[] = {open_dir, NULL};
    tito_sandbox_options o;
    const char *argv[5];
    options_for(&o, argv, "read", open_dir);
    o.disable = TITO_SANDBOX_ISO_MOUNT_NS;
    o.hidden_paths = hidden;
    tito_sandbox_result *res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_SPAWN_FAILED);
        CHECK(strstr(res->message, "cannot hide") != NULL && strstr(res->message, open_dir) != NULL);
        CHECK(res->out.size == 0);
        tito_sandbox_result_free(res);
    }
    if (geteuid() != 0)
        return; /* an unprivileged grader's child can read whatever the grader can */
    snprintf(closed_dir, sizeof closed_dir, "%s/private-config", scratch);
    make_dir(closed_dir, 0700);
    const char *hidden2[] = {closed_dir, NULL};
    options_for(&o, argv, "read", closed_dir);
    o.disable = TITO_SANDBOX_ISO_MOUNT_NS;
    o.hidden_paths = hidden2;
    res = run(&o);
    if (res) {
        CHECK_END(res, TITO_SANDBOX_EXITED);
        CHECK_KV(res, "open", "EACCES");
        CHECK(!(res->isolation & TITO_SANDBOX_ISO_HIDDEN));
        tito_sandbox_result_free(res);
    }
}

/* Every allocation of a run failing in turn: a clean TT_ERR_NOMEM each time, and no
 * memory, descriptor, process or directory left behind. */
static void test_allocation_failures(void)
{
    char parent[300];
    snprintf(parent, sizeof parent, "%s/alloc-parent", scratch);
    make_dir(parent, 0755);
    const char *hidden[] = {"/root", NULL};
    const char *extra[] = {"A=1", "B=2", NULL};
    int fds = open_fd_count();
    bool succeeded = false;
    for (long n = 0; n < 200 && !succeeded; n++) {
        tito_sandbox_options o;
        const char *argv[5];
        options_for(&o, argv, "hello", NULL);
        o.temp_parent = parent;
        o.hidden_paths = hidden;
        o.env = extra;
        o.stdin_data = "x";
        o.stdin_size = 1;
        tito_sandbox_result *res = NULL;
        tt_alloc_fail_after(n);
        tt_status st = tito_sandbox_run(&res, &o);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            succeeded = true;
            CHECK_END(res, TITO_SANDBOX_EXITED);
            CHECK(res->exit_code == 7);
            tito_sandbox_result_free(res);
        } else {
            CHECK(st == TT_ERR_NOMEM);
            CHECK(res == NULL);
            CHECK(strstr(tt_error_last(), "tito_sandbox_run") != NULL);
        }
        CHECK(sandbox_dirs_in(parent) == 0);
        CHECK(open_fd_count() == fds);
    }
    CHECK(succeeded);
    rmdir(parent);
}

/* --------------------------------------------------------------------- setup */

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    char buf[65536];
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    }
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return in < 0 || out < 0 || n < 0 ? -1 : chmod(to, 0755);
}

static void remove_scratch(void)
{
    char cmd[400];
    /* The scratch tree is the test's own; rm -rf keeps this file short. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    snprintf(scratch, sizeof scratch, "/tmp/tito-sbtest-XXXXXX");
    if (!mkdtemp(scratch) || chmod(scratch, 0755) < 0) {
        fprintf(stderr, "cannot create a scratch directory: %s\n", strerror(errno));
        return 1;
    }
    snprintf(child_path, sizeof child_path, "%s/sandbox_child", scratch);
    if (copy_file(SANDBOX_CHILD_PATH, child_path) < 0) {
        fprintf(stderr, "cannot copy %s to %s: %s\n", SANDBOX_CHILD_PATH, child_path, strerror(errno));
        return 1;
    }

    RUN(test_available);
    RUN(test_end_names);
    RUN(test_bad_options);
    RUN(test_normal_child);
    RUN(test_no_transcript);
    RUN(test_fds_closed);
    RUN(test_fake_success);
    RUN(test_exit0_early);
    RUN(test_require);
    RUN(test_cpu_limit);
    RUN(test_cpu_limit_ignored);
    RUN(test_wall_timeout);
    RUN(test_fork_bomb);
    RUN(test_memory_limit_crash);
    RUN(test_memory_limit_exit);
    RUN(test_memory_limit_abort);
    RUN(test_stack_overflow);
    RUN(test_output_flood_stdout);
    RUN(test_output_flood_stderr);
    RUN(test_output_flood_transcript);
    RUN(test_write_outside);
    RUN(test_network);
    RUN(test_kill_parent);
    RUN(test_kill_group);
    RUN(test_kill_all);
    RUN(test_rlimits_cannot_be_raised);
    RUN(test_hidden_paths);
    RUN(test_grandchild_killed);
    RUN(test_file_size_limit);
    RUN(test_workdir_capacity);
    RUN(test_env_scrubbed);
    RUN(test_unprivileged);
    RUN(test_pid_namespace);
    RUN(test_nested_userns_refused);
    RUN(test_spawn_failed);
    RUN(test_large_stdin);
    RUN(test_given_workdir);
    RUN(test_cleanup_of_a_mess);
    RUN(test_parallel_runs);
    RUN(test_fallback_no_namespaces);
    RUN(test_fallback_no_pid_namespace);
    RUN(test_fallback_hidden_without_mount_namespace);
    RUN(test_allocation_failures);
    RUN(test_interrupt);

    remove_scratch();
    return harness_summary();
}
