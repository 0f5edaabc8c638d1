/*
 * grader/sandbox.c: one untrusted child process, run safely, its ending classified.
 *
 * Three processes take part in a run:
 *
 *   grader (the caller)   reads the child's output, enforces the wall clock and the
 *     |                   output caps, classifies the ending, removes the private dir.
 *     +- keeper           our code, never exec'd. Pid 1 of a new PID namespace when the
 *          |              kernel allows (killing it kills every process of the run),
 *          |              otherwise a child subreaper. It builds the mount view, starts
 *          |              the child, reaps everything, kills what is left when the child
 *          |              ends or the grader asks, and sends one report to the grader.
 *          +- child       drops privileges, sets the limits, execs the program.
 *
 * The keeper is made with a raw clone() carrying the namespace flags, so that it is the
 * PID namespace's init itself (unshare(CLONE_NEWPID) would only move its children).
 *
 * Invariants:
 *   - Between clone and execve, keeper and child call only async-signal-safe functions
 *     (the grader may have other threads, holding locks inside malloc or stdio): no
 *     malloc, no stdio. Everything they need is prepared in `plan` by the grader first.
 *     Credentials change through raw system calls: glibc's setresuid() and friends
 *     signal every thread the grader had and wait for them, and after clone those
 *     threads do not exist here.
 *   - Every descriptor the grader opens is close-on-exec, so runs in other threads never
 *     inherit each other's pipes.
 *   - The grader learns how the child ended only from the kernel (wait status, rusage,
 *     /proc at exit) via the keeper, never from anything the child writes.
 *
 * Linux only: a port to another kernel would be another backend file behind sandbox.h.
 */
#define _GNU_SOURCE

#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"

/* ====================================================================== constants */

#define REPORT_MAGIC 0x7173626bu /* "kbsq": a report from this version of the keeper */
#define MAX_LIMITS 8
/* How long the grader waits for the keeper to clean up after asking it to, before
 * killing it outright; generous because Valgrind may be slowing everything down. */
#define KEEPER_GRACE_SECONDS 5.0
/* After the keeper is gone, how long to keep reading output that an escaped process
 * (possible only without a PID namespace) might still hold open. */
#define DRAIN_SECONDS 0.5
/* A run ending badly with its peak address space within this fraction of the limit is
 * a memory-limit ending: the failed allocation was the one that did not fit. */
#define MEMORY_NEAR_FRACTION 8 /* limit - limit/8 */

/* Descriptor layout of the keeper once it has arranged them. */
enum { FD_STDIN = 0, FD_STDOUT = 1, FD_STDERR = 2, FD_TRANSCRIPT = 3, FD_STATUS = 4, FD_CONTROL = 5, FD_FIRST_FREE = 6 };

/* Where starting the program failed. */
enum stage {
    ST_RAN = 0,
    ST_FDS,
    ST_SETSID,
    ST_SUBREAPER,
    ST_MOUNT_PRIVATE,
    ST_BIND_WORKDIR,
    ST_HIDE,
    ST_PROC,
    ST_NESTED,
    ST_READONLY,
    ST_WORKDIR_RW,
    ST_PIPE,
    ST_FORK,
    ST_SEIZE,
    ST_SYNC,
    ST_SETPGID,
    ST_SETGROUPS,
    ST_SETGID,
    ST_SETUID,
    ST_STILL_ROOT,
    ST_CAPS,
    ST_PDEATHSIG,
    ST_RLIMIT,
    ST_NO_NEW_PRIVS,
    ST_CHDIR,
    ST_HIDDEN_VISIBLE,
    ST_CLOSE_FDS,
    ST_EXEC,
    ST_COUNT
};

static const char *const stage_names[ST_COUNT] = {
    [ST_RAN] = "running",
    [ST_FDS] = "arranging the child's descriptors",
    [ST_SETSID] = "setsid",
    [ST_SUBREAPER] = "becoming a child subreaper",
    [ST_MOUNT_PRIVATE] = "making the mount tree private",
    [ST_BIND_WORKDIR] = "mounting the working directory",
    [ST_HIDE] = "hiding a path",
    [ST_PROC] = "mounting a fresh /proc",
    [ST_NESTED] = "forbidding nested user namespaces",
    [ST_READONLY] = "making the mount tree read-only",
    [ST_WORKDIR_RW] = "making the working directory writable",
    [ST_PIPE] = "pipe",
    [ST_FORK] = "fork",
    [ST_SEIZE] = "attaching the memory watch (ptrace)",
    [ST_SYNC] = "waiting for the keeper",
    [ST_SETPGID] = "setpgid",
    [ST_SETGROUPS] = "setgroups",
    [ST_SETGID] = "setresgid",
    [ST_SETUID] = "setresuid",
    [ST_STILL_ROOT] = "dropping root",
    [ST_CAPS] = "dropping capabilities",
    [ST_PDEATHSIG] = "PR_SET_PDEATHSIG",
    [ST_RLIMIT] = "setrlimit",
    [ST_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
    [ST_CHDIR] = "chdir to the working directory",
    [ST_HIDDEN_VISIBLE] = "hiding a path",
    [ST_CLOSE_FDS] = "closing descriptors",
    [ST_EXEC] = "execve",
};

/* ====================================================================== plan */

typedef struct limit_setting {
    int resource;
    rlim_t soft, hard;
} limit_setting;

/* Everything keeper and child need, prepared by the grader before clone. */
typedef struct plan {
    unsigned long ns_flags;  /* CLONE_NEW* */
    unsigned iso_ns;         /* the TITO_SANDBOX_ISO_*_NS bits of ns_flags */
    unsigned require;
    bool grader_root;        /* the child drops to TITO_SANDBOX_UID/GID */
    bool transcript;
    char *workdir;           /* absolute, symlinks resolved */
    char *workdir_tmpfs;     /* mount options of the private workdir's tmpfs; NULL: a bind mount */
    char **exec_paths;       /* candidates for argv[0], tried in order */
    size_t n_exec;
    char *const *argv;
    char **envp;             /* NULL-terminated */
    char **hidden;           /* absolute, resolved, existing */
    bool *hidden_is_dir;
    size_t n_hidden;
    limit_setting limits[MAX_LIMITS];
    size_t n_limits;
    /* The child's ends of the pipes, in the grader's numbering. */
    int stdin_r, out_w, err_w, tr_w, status_w, control_r;
} plan;

/* The keeper's one message to the grader, small enough for one atomic pipe write. */
typedef struct keeper_report {
    uint32_t magic;
    int32_t stage;          /* ST_RAN, or where starting the child failed */
    int32_t err;            /* errno of that failure */
    int32_t item;           /* which hidden path, limit or exec candidate; -1 */
    int32_t status;         /* the child's wait status */
    int32_t killed;         /* the child was still running when the keeper killed it */
    uint32_t isolation;     /* TITO_SANDBOX_ISO_* in force */
    uint32_t pad;
    uint64_t vm_peak_kb;    /* the child's VmPeak at exit; 0 unknown */
    uint64_t child_cpu_us;  /* the child's own user + system time (and its reaped children's) */
    uint64_t child_maxrss_kb;
    uint64_t keeper_cpu_us; /* the keeper's own time, which is not the run's */
} keeper_report;

/* The child's message to the keeper when it cannot exec. */
typedef struct child_failure {
    int32_t stage, err, item;
} child_failure;

/* ====================================================================== low level */

/* fork() with clone flags and without glibc's fork handlers, whose locks another
 * thread of the grader may hold. Passing 0 for every other argument makes the order
 * of clone's arguments (which differs between architectures) irrelevant. */
static pid_t raw_clone(unsigned long flags)
{
    return (pid_t)syscall(SYS_clone, flags | (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
}

static ssize_t write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static ssize_t read_retry(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

/* Close every descriptor in [first, last]; close_range where the kernel has it. */
static void close_from(unsigned first, unsigned last)
{
    if (first > last)
        return;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, first, last, 0) == 0)
        return;
#endif
    struct rlimit rl;
    unsigned top = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < top)
        top = (unsigned)rl.rlim_cur;
    if (last > top)
        last = top;
    for (unsigned fd = first; fd <= last; fd++)
        close((int)fd);
}

/* Decimal digits of v into buf (no locale, no malloc); returns the end. */
static char *put_ulong(char *buf, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *buf++ = tmp[--n];
    return buf;
}

/* "<a><number><b>" into buf of at least 64 bytes; a and b are short literals. */
static void proc_path(char *buf, const char *a, long pid, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    memcpy(buf, a, la);
    char *end = put_ulong(buf + la, (unsigned long)pid);
    memcpy(end, b, lb + 1);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write_all(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return w < 0 ? -1 : 0;
}

/* Pipes for the keeper's own use live above the descriptors it hands to the child
 * (0..5), so that closing those never closes one of these. */
static int pipe_above_child_fds(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= FD_FIRST_FREE)
            continue;
        int high = fcntl(fds[i], F_DUPFD_CLOEXEC, FD_FIRST_FREE);
        int err = errno;
        close(fds[i]);
        fds[i] = high;
        if (high < 0) {
            close(fds[1 - i]);
            errno = err;
            return -1;
        }
    }
    return 0;
}

/* ====================================================================== keeper */

static _Noreturn void keeper_fail(int status_fd, keeper_report *rep, int stage, int err, int item)
{
    rep->stage = stage;
    rep->err = err;
    rep->item = item;
    write_all(status_fd, rep, sizeof *rep);
    _exit(0);
}

static void on_sigchld(int sig)
{
    (void)sig; /* only here to interrupt ppoll() */
}

static void reset_signal_dispositions(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &sa, NULL); /* EINVAL for glibc's reserved signals: fine */
    }
}

/* Move the child's pipe ends to 0..5 (see FD_*) and close everything else the
 * grader had open: the run must not hold the grader's files, sockets or keys. */
static int arrange_fds(const plan *p)
{
    int src[FD_FIRST_FREE] = {p->stdin_r, p->out_w, p->err_w, p->tr_w, p->status_w, p->control_r};
    int tmp[FD_FIRST_FREE];
    for (int i = 0; i < FD_FIRST_FREE; i++) {
        tmp[i] = -1;
        if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10)) < 0)
            return -1;
    }
    for (int i = 0; i < FD_FIRST_FREE; i++) {
        if (tmp[i] < 0) {
            close(i);
            continue;
        }
        if (dup3(tmp[i], i, i >= FD_STATUS ? O_CLOEXEC : 0) < 0)
            return -1;
    }
    close_from(FD_FIRST_FREE, ~0U);
    return 0;
}

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
struct mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int set_mount_attr(const char *path, unsigned flags, uint64_t set, uint64_t clr)
{
#ifdef SYS_mount_setattr
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = set;
    attr.attr_clr = clr;
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr);
#else
    (void)path, (void)flags, (void)set, (void)clr;
    errno = ENOSYS;
    return -1;
#endif
}

/* The per-mount flags a remount must keep: in a user namespace, mounts inherited from
 * the host have them locked, and a remount that drops one is refused. */
static unsigned long kept_mount_flags(const char *opts)
{
    static const struct {
        const char *name;
        unsigned long flag;
    } table[] = {
        {"nosuid", MS_NOSUID},     {"nodev", MS_NODEV},           {"noexec", MS_NOEXEC},
        {"noatime", MS_NOATIME},   {"nodiratime", MS_NODIRATIME}, {"relatime", MS_RELATIME},
        {"strictatime", MS_STRICTATIME},
    };
    unsigned long flags = 0;
    while (*opts) {
        size_t len = strcspn(opts, ",");
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (strlen(table[i].name) == len && !memcmp(opts, table[i].name, len))
                flags |= table[i].flag;
        opts += len + (opts[len] == ',');
    }
    return flags;
}

/* One line of /proc/self/mountinfo: remount its mount point read-only. The mount point
 * is field 5, with \ooo escapes; the per-mount options are field 6. */
static int remount_line_readonly(char *line, const char *skip)
{
    char *field[6];
    int n = 0;
    for (char *s = line; n < 6 && *s;) {
        field[n++] = s;
        s += strcspn(s, " ");
        if (*s)
            *s++ = '\0';
    }
    if (n < 6)
        return 0;
    char *out = field[4];
    for (const char *in = field[4]; *in; out++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
            in[3] <= '7') {
            *out = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
            in += 4;
        } else {
            *out = *in++;
        }
    }
    *out = '\0';
    if (!strcmp(field[4], skip))
        return 0;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | kept_mount_flags(field[5]);
    return mount("none", field[4], "none", flags, NULL);
}

/* Kernels without mount_setattr (before 5.12, and Valgrind) get the same view by
 * remounting every mount point read-only, one by one, except the working directory. */
static int remount_all_readonly(const char *workdir)
{
    int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[16384], line[4096];
    size_t len = 0;
    int result = 0, err = 0;
    bool overlong = false;
    for (;;) {
        ssize_t got = read_retry(fd, buf, sizeof buf);
        if (got < 0) {
            result = -1;
            err = errno;
            break;
        }
        if (got == 0)
            break;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] != '\n') {
                if (len + 1 < sizeof line)
                    line[len++] = buf[i];
                else
                    overlong = true;
                continue;
            }
            line[len] = '\0';
            if (overlong || remount_line_readonly(line, workdir) < 0) {
                result = -1;
                err = overlong ? ENAMETOOLONG : errno;
            }
            len = 0;
            overlong = false;
        }
    }
    close(fd);
    errno = err;
    return result;
}

/* The mount view of the run: nothing propagates back to the host; hidden paths are
 * covered by empty read-only mounts; /proc shows only the run; every mount is
 * read-only except the working directory. Mandatory steps fail the run; the others
 * fail it only when options.require asks for them. */
static void keeper_mounts(const plan *p, keeper_report *rep)
{
    /* "none" where a source or type is ignored: NULL is allowed, but trips Valgrind. */
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
        keeper_fail(FD_STATUS, rep, ST_MOUNT_PRIVATE, errno, -1);
    /* Its own mount, so that it can stay writable when everything else is not; for the
     * private directory a tmpfs, so that what the run writes is bounded in total (the
     * file-size limit bounds only each file) and vanishes with the run. */
    if (p->workdir_tmpfs) {
        if (mount("tmpfs", p->workdir, "tmpfs", MS_NOSUID | MS_NODEV, p->workdir_tmpfs) < 0)
            keeper_fail(FD_STATUS, rep, ST_BIND_WORKDIR, errno, -1);
        rep->isolation |= TITO_SANDBOX_ISO_TMPFS_WORKDIR;
    } else if (mount(p->workdir, p->workdir, "none", MS_BIND | MS_REC, NULL) < 0) {
        keeper_fail(FD_STATUS, rep, ST_BIND_WORKDIR, errno, -1);
    }
    for (size_t i = 0; i < p->n_hidden; i++) {
        int r;
        if (p->hidden_is_dir[i])
            r = mount("tmpfs", p->hidden[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "size=4k,mode=0555");
        else
            r = mount("/dev/null", p->hidden[i], "none", MS_BIND, NULL);
        if (r < 0)
            keeper_fail(FD_STATUS, rep, ST_HIDE, errno, (int)i);
    }
    rep->isolation |= TITO_SANDBOX_ISO_HIDDEN;

    if (p->ns_flags & CLONE_NEWPID) {
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
            rep->isolation |= TITO_SANDBOX_ISO_PROC;
        else if (p->require & TITO_SANDBOX_ISO_PROC)
            keeper_fail(FD_STATUS, rep, ST_PROC, errno, -1);
    }
    /* Only inside our own user namespace: this sysctl is per user namespace, and
     * without one it would be the host's. Written before /proc turns read-only. */
    if (p->ns_flags & CLONE_NEWUSER) {
        if (write_file("/proc/sys/user/max_user_namespaces", "0\n") == 0)
            rep->isolation |= TITO_SANDBOX_ISO_NO_NESTED_NS;
        else if (p->require & TITO_SANDBOX_ISO_NO_NESTED_NS)
            keeper_fail(FD_STATUS, rep, ST_NESTED, errno, -1);
    }
    if (set_mount_attr("/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0) == 0) {
        if (set_mount_attr(p->workdir, 0, 0, MOUNT_ATTR_RDONLY) < 0)
            keeper_fail(FD_STATUS, rep, ST_WORKDIR_RW, errno, -1);
        rep->isolation |= TITO_SANDBOX_ISO_READONLY;
    } else if (remount_all_readonly(p->workdir) == 0) {
        rep->isolation |= TITO_SANDBOX_ISO_READONLY;
    } else if (p->require & TITO_SANDBOX_ISO_READONLY) {
        keeper_fail(FD_STATUS, rep, ST_READONLY, errno, -1);
    }
}

/* Peak address space of a process stopped at its exit, in kB; 0 if unreadable. */
static uint64_t read_vm_peak_kb(pid_t pid)
{
    char path[64], buf[4096];
    proc_path(path, "/proc/", pid, "/status");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read_retry(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *line = strstr(buf, "VmPeak:");
    if (!line)
        return 0;
    uint64_t kb = 0;
    for (line += 7; *line == ' ' || *line == '\t'; line++)
        ;
    for (; *line >= '0' && *line <= '9'; line++)
        kb = kb * 10 + (uint64_t)(*line - '0');
    return kb;
}

/* A ptrace stop of the child: at its exit, note its peak address space; any other
 * stop is passed through so that the child behaves as if untraced. */
static void keeper_handle_stop(pid_t child, int st, keeper_report *rep)
{
    int event = (st >> 16) & 0xff;
    int sig = WSTOPSIG(st);
    if (event == PTRACE_EVENT_EXIT) {
        rep->vm_peak_kb = read_vm_peak_kb(child);
        sig = 0;
    } else if (event != 0) {
        sig = 0; /* a group-stop (PTRACE_EVENT_STOP): resume rather than stay stopped */
    }
    ptrace(PTRACE_CONT, child, NULL, (void *)(long)sig);
}

/* Reap whatever has ended; returns true once the child has (its status in *status). */
static bool keeper_reap(pid_t child, bool block, int *status, struct rusage *ru, keeper_report *rep)
{
    bool child_done = false;
    for (;;) {
        int st;
        struct rusage r;
        pid_t w = wait4(-1, &st, (block ? 0 : WNOHANG) | __WALL, &r);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return child_done;
        if (w != child)
            continue; /* an orphan of the run, reparented to us: nothing to record */
        if (WIFSTOPPED(st)) {
            keeper_handle_stop(child, st, rep);
            continue;
        }
        *status = st;
        *ru = r;
        child_done = true;
        if (block)
            return true;
    }
}

/* Without a PID namespace, orphans that left the child's process group come back to
 * us (we are a subreaper): kill our children until none is left. */
static void keeper_sweep(void)
{
    char path[64], buf[4096];
    proc_path(path, "/proc/self/task/", (long)getpid(), "/children");
    for (;;) {
        bool killed = false;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read_retry(fd, buf, sizeof buf - 1);
            close(fd);
            buf[n > 0 ? n : 0] = '\0';
            for (char *s = buf; *s;) {
                long pid = 0;
                while (*s == ' ' || *s == '\n')
                    s++;
                if (!*s)
                    break;
                while (*s >= '0' && *s <= '9')
                    pid = pid * 10 + (*s++ - '0');
                if (pid > 0) {
                    kill((pid_t)-pid, SIGKILL);
                    kill((pid_t)pid, SIGKILL);
                    killed = true;
                }
                if (*s && *s != ' ' && *s != '\n')
                    break;
            }
        }
        int st;
        pid_t w;
        do
            w = waitpid(-1, &st, (killed ? 0 : WNOHANG) | __WALL);
        while (w < 0 && errno == EINTR);
        if (w <= 0)
            return; /* no children left, or none we could find to kill */
    }
}

static _Noreturn void child_main(const plan *p, int fail_fd, int go_fd);

/* Pid 1 of the run (or its subreaper). Never returns. */
static _Noreturn void keeper_main(const plan *p)
{
    keeper_report rep;
    memset(&rep, 0, sizeof rep);
    rep.magic = REPORT_MAGIC;
    rep.item = -1;
    rep.isolation = p->iso_ns;

    reset_signal_dispositions(); /* every signal is still blocked, as the grader left it */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Wait until the grader has written our uid/gid maps. End of file: the grader died
     * before PR_SET_PDEATHSIG could notice. */
    char go = 0;
    if (read_retry(p->control_r, &go, 1) != 1 || go != 'g')
        _exit(1);
    if (arrange_fds(p) < 0)
        keeper_fail(p->status_w, &rep, ST_FDS, errno, -1);
    if (setsid() < 0)
        keeper_fail(FD_STATUS, &rep, ST_SETSID, errno, -1);
    if (!(p->ns_flags & CLONE_NEWPID) && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        keeper_fail(FD_STATUS, &rep, ST_SUBREAPER, errno, -1);
    if (p->ns_flags & CLONE_NEWNS)
        keeper_mounts(p, &rep);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);

    int fail_pipe[2], go_pipe[2];
    if (pipe_above_child_fds(fail_pipe) < 0 || pipe_above_child_fds(go_pipe) < 0)
        keeper_fail(FD_STATUS, &rep, ST_PIPE, errno, -1);
    pid_t child = raw_clone(0);
    if (child < 0)
        keeper_fail(FD_STATUS, &rep, ST_FORK, errno, -1);
    if (child == 0)
        child_main(p, fail_pipe[1], go_pipe[0]);
    close(fail_pipe[1]);
    close(go_pipe[0]);
    /* The output pipes must reach end of file when the run's processes are gone. */
    close_from(FD_STDIN, FD_TRANSCRIPT);

    /* The memory watch: a ptrace attachment that only stops the child at its exit,
     * while its address space still exists, so that its peak can be read. /proc must
     * number processes as we do: a fresh one, or no PID namespace at all. */
    bool proc_matches = !(p->ns_flags & CLONE_NEWPID) || (rep.isolation & TITO_SANDBOX_ISO_PROC);
    if (proc_matches && ptrace(PTRACE_SEIZE, child, NULL,
                               (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)) == 0) {
        rep.isolation |= TITO_SANDBOX_ISO_MEMORY_WATCH;
    } else if (p->require & TITO_SANDBOX_ISO_MEMORY_WATCH) {
        int err = proc_matches ? errno : ENOENT;
        kill(child, SIGKILL);
        int st;
        struct rusage ru;
        keeper_reap(child, true, &st, &ru, &rep);
        keeper_fail(FD_STATUS, &rep, ST_SEIZE, err, -1);
    }
    write_all(go_pipe[1], "g", 1);
    close(go_pipe[1]);

    sigset_t during_poll;
    sigfillset(&during_poll);
    sigdelset(&during_poll, SIGCHLD);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    bool child_done = false, fail_read = false;
    for (;;) {
        if (keeper_reap(child, false, &status, &ru, &rep)) {
            child_done = true;
            break;
        }
        struct pollfd pf[2] = {{.fd = FD_CONTROL, .events = POLLIN}, {.fd = fail_pipe[0], .events = POLLIN}};
        int r = ppoll(pf, fail_read ? 1 : 2, NULL, &during_poll);
        if (r < 0)
            continue; /* EINTR: SIGCHLD, reaped above */
        if (pf[0].revents) {
            char c;
            ssize_t n = read_retry(FD_CONTROL, &c, 1);
            if (n <= 0 || c == 'k')
                break; /* the grader asks us to stop, or is gone */
        }
        if (!fail_read && pf[1].revents) {
            child_failure f;
            if (read_retry(fail_pipe[0], &f, sizeof f) == (ssize_t)sizeof f) {
                rep.stage = f.stage;
                rep.err = f.err;
                rep.item = f.item;
            }
            fail_read = true; /* a record, or end of file: the exec succeeded */
        }
    }

    /* The child has ended or must end: nothing of the run outlives it. */
    if (!child_done)
        rep.killed = 1;
    if (p->ns_flags & CLONE_NEWPID) {
        kill(-1, SIGKILL); /* everyone in the namespace but us */
    } else {
        kill(-child, SIGKILL);
        kill(child, SIGKILL);
    }
    if (!child_done)
        child_done = keeper_reap(child, true, &status, &ru, &rep);
    if (p->ns_flags & CLONE_NEWPID) {
        int st;
        for (;;) {
            pid_t w = waitpid(-1, &st, __WALL);
            if (w < 0 && errno != EINTR)
                break;
            kill(-1, SIGKILL);
        }
    } else {
        keeper_sweep();
    }
    if (!fail_read) {
        /* The child is gone, so this read cannot block. */
        child_failure f;
        if (read_retry(fail_pipe[0], &f, sizeof f) == (ssize_t)sizeof f) {
            rep.stage = f.stage;
            rep.err = f.err;
            rep.item = f.item;
        }
    }
    rep.status = status;
    rep.child_cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
                       (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
    rep.child_maxrss_kb = ru.ru_maxrss > 0 ? (uint64_t)ru.ru_maxrss : 0;
    struct rusage self;
    if (getrusage(RUSAGE_SELF, &self) == 0)
        rep.keeper_cpu_us = (uint64_t)self.ru_utime.tv_sec * 1000000u + (uint64_t)self.ru_utime.tv_usec +
                            (uint64_t)self.ru_stime.tv_sec * 1000000u + (uint64_t)self.ru_stime.tv_usec;
    write_all(FD_STATUS, &rep, sizeof rep);
    _exit(0);
}

/* ====================================================================== child */

static _Noreturn void child_fail(int fd, int stage, int err, int item)
{
    child_failure f = {stage, err, item};
    write_all(fd, &f, sizeof f);
    _exit(127);
}

/* No capabilities in any set, in whatever user namespace we are. */
static int drop_capabilities(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return -1;
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -1;
    if (data[0].effective | data[0].permitted | data[1].effective | data[1].permitted) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

static _Noreturn void child_main(const plan *p, int fail_fd, int go_fd)
{
    /* Wait until the keeper has attached its memory watch (or decided not to). */
    char go = 0;
    if (read_retry(go_fd, &go, 1) != 1)
        child_fail(fail_fd, ST_SYNC, errno ? errno : EPIPE, -1);
    close(go_fd);
    if (setpgid(0, 0) < 0)
        child_fail(fail_fd, ST_SETPGID, errno, -1);

    /* Privileges: the bounding set first, while we may still change it; then the ids;
     * then every capability left (in a user namespace setresuid keeps them). */
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
            break;
    }
    if (p->grader_root) {
        if (syscall(SYS_setgroups, 0, NULL) < 0)
            child_fail(fail_fd, ST_SETGROUPS, errno, -1);
        if (syscall(SYS_setresgid, TITO_SANDBOX_GID, TITO_SANDBOX_GID, TITO_SANDBOX_GID) < 0)
            child_fail(fail_fd, ST_SETGID, errno, -1);
        if (syscall(SYS_setresuid, TITO_SANDBOX_UID, TITO_SANDBOX_UID, TITO_SANDBOX_UID) < 0)
            child_fail(fail_fd, ST_SETUID, errno, -1);
    }
    if (getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0)
        child_fail(fail_fd, ST_STILL_ROOT, EPERM, -1);
    if (drop_capabilities() < 0)
        child_fail(fail_fd, ST_CAPS, errno, -1);
    /* After the credential changes, which clear it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        child_fail(fail_fd, ST_PDEATHSIG, errno, -1);

    /* Limits after setresuid: RLIMIT_NPROC is checked against the new user. Hard limit
     * = soft limit, so the program cannot raise them (CPU: one second of grace between
     * SIGXCPU and SIGKILL); never above what the grader itself may use. */
    for (size_t i = 0; i < p->n_limits; i++) {
        const limit_setting *l = &p->limits[i];
        struct rlimit cur, rl;
        if (getrlimit(l->resource, &cur) < 0)
            child_fail(fail_fd, ST_RLIMIT, errno, (int)i);
        rl.rlim_max = l->hard < cur.rlim_max ? l->hard : cur.rlim_max;
        rl.rlim_cur = l->soft < rl.rlim_max ? l->soft : rl.rlim_max;
        if (setrlimit(l->resource, &rl) < 0)
            child_fail(fail_fd, ST_RLIMIT, errno, (int)i);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(fail_fd, ST_NO_NEW_PRIVS, errno, -1);
    if (chdir(p->workdir) < 0)
        child_fail(fail_fd, ST_CHDIR, errno, -1);
    /* Without a mount namespace nothing covers the hidden paths: run only if the
     * child cannot read them anyway (e.g. root's 0700 directories, child as nobody). */
    if (!(p->ns_flags & CLONE_NEWNS)) {
        for (size_t i = 0; i < p->n_hidden; i++) {
            int fd = open(p->hidden[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            if (fd >= 0)
                child_fail(fail_fd, ST_HIDDEN_VISIBLE, EEXIST, (int)i);
        }
    }
    unsigned first = p->transcript ? 4u : 3u;
    close_from(first, (unsigned)fail_fd - 1u);
    close_from((unsigned)fail_fd + 1u, ~0U);

    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int err = 0, err_item = 0;
    for (size_t i = 0; i < p->n_exec; i++) {
        execve(p->exec_paths[i], p->argv, p->envp);
        /* Like execvp: a candidate that exists but fails says more than one that does not. */
        if (err == 0 || (err == ENOENT && errno != ENOENT)) {
            err = errno;
            err_item = (int)i;
        }
    }
    child_fail(fail_fd, ST_EXEC, err, err_item);
}

/* ====================================================================== probing */

static const struct {
    unsigned long flag;
    unsigned bit;
} ns_table[] = {
    {CLONE_NEWUSER, TITO_SANDBOX_ISO_USER_NS}, {CLONE_NEWPID, TITO_SANDBOX_ISO_PID_NS},
    {CLONE_NEWNET, TITO_SANDBOX_ISO_NET_NS},   {CLONE_NEWNS, TITO_SANDBOX_ISO_MOUNT_NS},
    {CLONE_NEWIPC, TITO_SANDBOX_ISO_IPC_NS},   {CLONE_NEWUTS, TITO_SANDBOX_ISO_UTS_NS},
};
#define NS_COUNT (sizeof ns_table / sizeof ns_table[0])

static bool try_clone(unsigned long flags)
{
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = raw_clone(flags);
    if (pid == 0)
        _exit(0);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0)
        return false;
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return false;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static unsigned probe_namespaces(void)
{
    unsigned long all = 0;
    unsigned all_bits = 0;
    for (size_t i = 0; i < NS_COUNT; i++) {
        all |= ns_table[i].flag;
        all_bits |= ns_table[i].bit;
    }
    if (try_clone(all))
        return all_bits;
    /* Unprivileged, the others need a user namespace; as root they do not. */
    unsigned long base = try_clone(CLONE_NEWUSER) ? CLONE_NEWUSER : 0;
    unsigned bits = base ? TITO_SANDBOX_ISO_USER_NS : 0;
    for (size_t i = 1; i < NS_COUNT; i++) {
        if (try_clone(base | ns_table[i].flag))
            bits |= ns_table[i].bit;
    }
    return bits;
}

unsigned tito_sandbox_available(void)
{
    /* Probing twice from two threads at once is harmless; bit 31 marks "known". */
    static atomic_uint cache;
    unsigned c = atomic_load(&cache);
    if (c & 0x80000000u)
        return c & ~0x80000000u;
    unsigned bits = probe_namespaces();
    atomic_store(&cache, bits | 0x80000000u);
    return bits;
}

static const struct {
    unsigned bit;
    const char *name;
} iso_names[] = {
    {TITO_SANDBOX_ISO_USER_NS, "user-ns"},
    {TITO_SANDBOX_ISO_PID_NS, "pid-ns"},
    {TITO_SANDBOX_ISO_NET_NS, "net-ns"},
    {TITO_SANDBOX_ISO_MOUNT_NS, "mount-ns"},
    {TITO_SANDBOX_ISO_IPC_NS, "ipc-ns"},
    {TITO_SANDBOX_ISO_UTS_NS, "uts-ns"},
    {TITO_SANDBOX_ISO_PROC, "proc"},
    {TITO_SANDBOX_ISO_READONLY, "read-only"},
    {TITO_SANDBOX_ISO_HIDDEN, "hidden"},
    {TITO_SANDBOX_ISO_NO_NESTED_NS, "no-nested-ns"},
    {TITO_SANDBOX_ISO_MEMORY_WATCH, "memory-watch"},
    {TITO_SANDBOX_ISO_UNPRIVILEGED, "unprivileged"},
    {TITO_SANDBOX_ISO_TMPFS_WORKDIR, "tmpfs-workdir"},
};

char *tito_sandbox_isolation_describe(char *buf, size_t size, unsigned isolation)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < sizeof iso_names / sizeof iso_names[0]; i++) {
        if (!(isolation & iso_names[i].bit))
            continue;
        int n = snprintf(buf + len, size - len, "%s%s", len ? " " : "", iso_names[i].name);
        if (n < 0 || (size_t)n >= size - len)
            return buf;
        len += (size_t)n;
    }
    if (len == 0)
        snprintf(buf, size, "none");
    return buf;
}

const char *tito_sandbox_end_name(tito_sandbox_end end)
{
    switch (end) {
    case TITO_SANDBOX_EXITED: return "exited";
    case TITO_SANDBOX_SIGNALED: return "signaled";
    case TITO_SANDBOX_TIMEOUT: return "timeout";
    case TITO_SANDBOX_CPU_LIMIT: return "cpu-limit";
    case TITO_SANDBOX_MEMORY_LIMIT: return "memory-limit";
    case TITO_SANDBOX_OUTPUT_LIMIT: return "output-limit";
    case TITO_SANDBOX_FILE_SIZE_LIMIT: return "file-size-limit";
    case TITO_SANDBOX_SPAWN_FAILED: return "spawn-failed";
    }
    return "unknown";
}

/* ====================================================================== grader side */

static const char *errno_text(int err, char *buf, size_t size)
{
    /* The GNU strerror_r (we define _GNU_SOURCE) may return a static string. */
    return strerror_r(err, buf, size);
}

static const char *signal_text(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV (segmentation fault)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGABRT: return "SIGABRT (aborted)";
    case SIGFPE: return "SIGFPE (arithmetic exception)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGPIPE: return "SIGPIPE (broken pipe)";
    case SIGXCPU: return "SIGXCPU (CPU time limit)";
    case SIGXFSZ: return "SIGXFSZ (file size limit)";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS (bad system call)";
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGALRM: return "SIGALRM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return NULL;
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = tt_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* "a" + "b" + "c" in counted memory. */
static char *concat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *d = tt_malloc(la + lb + lc + 1);
    if (!d)
        return NULL;
    memcpy(d, a, la);
    memcpy(d + la, b, lb);
    memcpy(d + la + lb, c, lc + 1);
    return d;
}

/* realpath() into counted memory; NULL with errno set on failure. */
static char *resolve_path(const char *path)
{
    char *r = realpath(path, NULL);
    if (!r)
        return NULL;
    char *d = dup_string(r);
    free(r);
    if (!d)
        errno = ENOMEM;
    return d;
}

static void free_string_array(char **a, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++)
        tt_free(a[i]);
    tt_free(a);
}

typedef struct run {
    plan p;
    size_t n_env;
    bool private_workdir;
    /* The grader's ends. */
    int stdin_w, out_r, err_r, tr_r, status_r, control_w;
    pid_t keeper;
    bool keeper_reaped;
} run;

static void run_init(run *r)
{
    memset(r, 0, sizeof *r);
    r->p.stdin_r = r->p.out_w = r->p.err_w = r->p.tr_w = r->p.status_w = r->p.control_r = -1;
    r->stdin_w = r->out_r = r->err_r = r->tr_r = r->status_r = r->control_w = -1;
    r->keeper = -1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void close_child_ends(run *r)
{
    close_fd(&r->p.stdin_r);
    close_fd(&r->p.out_w);
    close_fd(&r->p.err_w);
    close_fd(&r->p.tr_w);
    close_fd(&r->p.status_w);
    close_fd(&r->p.control_r);
}

/* ---------------------------------------------------------------- option checks */

static tt_status check_options(const tito_sandbox_options *o)
{
    if (!o)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_sandbox_run: options is NULL");
    if (!o->argv || !o->argv[0] || !o->argv[0][0])
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_sandbox_run: options.argv must hold a program name, got %s",
                            !o->argv ? "NULL" : !o->argv[0] ? "an empty list" : "an empty string");
    if (o->limits.output_bytes == 0 || (o->transcript && o->limits.transcript_bytes == 0))
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_sandbox_run: output caps must be positive (output_bytes %zu, "
                            "transcript_bytes %zu)",
                            o->limits.output_bytes, o->limits.transcript_bytes);
    if (!(o->limits.wall_seconds >= 0.0) || o->limits.wall_seconds > 1e9)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_sandbox_run: limits.wall_seconds must be in [0, 1e9], got %g",
                            o->limits.wall_seconds);
    if (o->stdin_size && !o->stdin_data)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_sandbox_run: stdin_size is %zu but stdin_data is NULL", o->stdin_size);
    for (size_t i = 0; o->env && o->env[i]; i++) {
        const char *eq = strchr(o->env[i], '=');
        if (!eq || eq == o->env[i])
            return tt_error_set(TT_ERR_INVALID_ARG,
                                "tito_sandbox_run: options.env[%zu] \"%s\" is not NAME=value", i,
                                o->env[i]);
    }
    for (size_t i = 0; o->hidden_paths && o->hidden_paths[i]; i++) {
        if (o->hidden_paths[i][0] != '/')
            return tt_error_set(TT_ERR_INVALID_ARG,
                                "tito_sandbox_run: hidden path \"%s\" must be absolute",
                                o->hidden_paths[i]);
    }
    if (o->allow_network && (o->require & TITO_SANDBOX_ISO_NET_NS))
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_sandbox_run: allow_network contradicts require net-ns");
    return TT_OK;
}

/* The namespaces to use, and whether everything required can be had with them. */
static tt_status choose_isolation(run *r, const tito_sandbox_options *o)
{
    unsigned avail = tito_sandbox_available() & ~o->disable;
    if (o->allow_network)
        avail &= ~(unsigned)TITO_SANDBOX_ISO_NET_NS;
    unsigned possible = avail | TITO_SANDBOX_ISO_MEMORY_WATCH | TITO_SANDBOX_ISO_UNPRIVILEGED;
    if (avail & TITO_SANDBOX_ISO_MOUNT_NS) {
        possible |= TITO_SANDBOX_ISO_READONLY | TITO_SANDBOX_ISO_HIDDEN;
        if (!o->workdir && o->limits.workdir_bytes)
            possible |= TITO_SANDBOX_ISO_TMPFS_WORKDIR;
        if (avail & TITO_SANDBOX_ISO_PID_NS)
            possible |= TITO_SANDBOX_ISO_PROC;
    }
    if (avail & TITO_SANDBOX_ISO_USER_NS)
        possible |= TITO_SANDBOX_ISO_NO_NESTED_NS;
    unsigned missing = o->require & ~possible;
    if (missing) {
        char names[256];
        return tt_error_set(TT_ERR_STATE,
                            "tito_sandbox_run: this kernel cannot provide the required isolation: %s",
                            tito_sandbox_isolation_describe(names, sizeof names, missing));
    }
    for (size_t i = 0; i < NS_COUNT; i++) {
        if (avail & ns_table[i].bit) {
            r->p.ns_flags |= ns_table[i].flag;
            r->p.iso_ns |= ns_table[i].bit;
        }
    }
    r->p.require = o->require;
    return TT_OK;
}

/* ---------------------------------------------------------------- preparation */

static tt_status make_workdir(run *r, const tito_sandbox_options *o)
{
    char errbuf[128];
    if (o->workdir) {
        r->p.workdir = resolve_path(o->workdir);
        struct stat sb;
        if (!r->p.workdir || stat(r->p.workdir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
            int err = r->p.workdir ? (errno ? errno : ENOTDIR) : errno;
            if (r->p.workdir && S_ISREG(sb.st_mode))
                err = ENOTDIR;
            return tt_error_set(err == ENOMEM ? TT_ERR_NOMEM : TT_ERR_INVALID_ARG,
                                "tito_sandbox_run: workdir \"%s\" is not a usable directory: %s",
                                o->workdir, errno_text(err, errbuf, sizeof errbuf));
        }
        return TT_OK;
    }
    const char *parent = o->temp_parent ? o->temp_parent : "/tmp";
    char *base = resolve_path(parent);
    if (!base) {
        int err = errno;
        return tt_error_set(err == ENOMEM ? TT_ERR_NOMEM : TT_ERR_IO,
                            "tito_sandbox_run: temp_parent \"%s\": %s", parent,
                            errno_text(err, errbuf, sizeof errbuf));
    }
    r->p.workdir = concat3(base, "/", "tito-sandbox-XXXXXX");
    tt_free(base);
    if (!r->p.workdir)
        return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the working directory");
    if (!mkdtemp(r->p.workdir)) {
        int err = errno;
        return tt_error_set(TT_ERR_IO, "tito_sandbox_run: cannot create a directory in \"%s\": %s",
                            parent, errno_text(err, errbuf, sizeof errbuf));
    }
    r->private_workdir = true;
    if (r->p.grader_root && chown(r->p.workdir, TITO_SANDBOX_UID, TITO_SANDBOX_GID) < 0) {
        int err = errno;
        return tt_error_set(TT_ERR_IO, "tito_sandbox_run: cannot give %s to the sandbox user: %s",
                            r->p.workdir, errno_text(err, errbuf, sizeof errbuf));
    }
    if ((r->p.ns_flags & CLONE_NEWNS) && o->limits.workdir_bytes) {
        char opts[128];
        snprintf(opts, sizeof opts, "size=%llu,nr_inodes=%llu,mode=0700,uid=%lu,gid=%lu",
                 (unsigned long long)o->limits.workdir_bytes,
                 (unsigned long long)(o->limits.workdir_bytes / 4096 + 64),
                 (unsigned long)(r->p.grader_root ? TITO_SANDBOX_UID : geteuid()),
                 (unsigned long)(r->p.grader_root ? TITO_SANDBOX_GID : getegid()));
        if (!(r->p.workdir_tmpfs = dup_string(opts)))
            return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the working directory");
    }
    return TT_OK;
}

static bool env_same_name(const char *a, const char *b)
{
    size_t na = (size_t)(strchr(a, '=') - a), nb = (size_t)(strchr(b, '=') - b);
    return na == nb && memcmp(a, b, na) == 0;
}

static tt_status make_env(run *r, const tito_sandbox_options *o)
{
    size_t n_extra = 0;
    while (o->env && o->env[n_extra])
        n_extra++;
    r->p.envp = tt_calloc(4 + n_extra + 1, sizeof *r->p.envp);
    if (!r->p.envp)
        return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the environment");
    const char *base[4] = {"PATH=/usr/bin:/bin", "LANG=C", NULL, NULL};
    char **envp = r->p.envp;
    size_t n = 0;
    for (size_t i = 0; i < 2; i++)
        if (!(envp[n++] = dup_string(base[i])))
            goto nomem;
    if (!(envp[n++] = concat3("HOME", "=", r->p.workdir)) || !(envp[n++] = concat3("TMPDIR", "=", r->p.workdir)))
        goto nomem;
    for (size_t i = 0; i < n_extra; i++) {
        size_t at = n;
        for (size_t j = 0; j < n; j++) {
            if (env_same_name(envp[j], o->env[i])) {
                at = j;
                break;
            }
        }
        char *copy = dup_string(o->env[i]);
        if (!copy)
            goto nomem;
        if (at < n) {
            tt_free(envp[at]);
            envp[at] = copy;
        } else {
            envp[n++] = copy;
        }
    }
    r->n_env = n;
    return TT_OK;
nomem:
    r->n_env = 4 + n_extra;
    return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the environment");
}

/* Where execve will look for argv[0]: itself if it has a '/', else each directory of
 * the child's PATH (the child's, so an extra PATH= in options.env is honoured). */
static tt_status make_exec_paths(run *r, const char *prog)
{
    const char *path = "";
    for (size_t i = 0; i < r->n_env; i++)
        if (r->p.envp[i] && strncmp(r->p.envp[i], "PATH=", 5) == 0)
            path = r->p.envp[i] + 5;
    size_t dirs = 1;
    for (const char *s = path; *s; s++)
        dirs += *s == ':';
    r->p.exec_paths = tt_calloc(dirs + 1, sizeof *r->p.exec_paths);
    if (!r->p.exec_paths)
        return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the program path");
    if (strchr(prog, '/')) {
        if (!(r->p.exec_paths[r->p.n_exec++] = dup_string(prog)))
            return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the program path");
        return TT_OK;
    }
    for (const char *s = path; *s;) {
        const char *end = strchr(s, ':');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len > 0) { /* an empty entry would mean the working directory: never */
            char *dir = tt_malloc(len + 1);
            if (!dir)
                return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the program path");
            memcpy(dir, s, len);
            dir[len] = '\0';
            char *full = concat3(dir, "/", prog);
            tt_free(dir);
            if (!full)
                return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the program path");
            r->p.exec_paths[r->p.n_exec++] = full;
        }
        s += len + (end ? 1 : 0);
        if (!end)
            break;
    }
    if (r->p.n_exec == 0)
        return tt_error_set(TT_ERR_INVALID_ARG,
                            "tito_sandbox_run: \"%s\" has no '/' and the child's PATH is empty", prog);
    return TT_OK;
}

static tt_status make_hidden(run *r, const tito_sandbox_options *o)
{
    char errbuf[128];
    size_t n = 0;
    while (o->hidden_paths && o->hidden_paths[n])
        n++;
    if (n == 0)
        return TT_OK;
    r->p.hidden = tt_calloc(n, sizeof *r->p.hidden);
    r->p.hidden_is_dir = tt_calloc(n, sizeof *r->p.hidden_is_dir);
    if (!r->p.hidden || !r->p.hidden_is_dir)
        return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the hidden paths");
    for (size_t i = 0; i < n; i++) {
        char *real = resolve_path(o->hidden_paths[i]);
        struct stat sb;
        if (real && stat(real, &sb) < 0) {
            tt_free(real);
            real = NULL;
        }
        if (!real) {
            int err = errno;
            if (err == ENOENT || err == ENOTDIR)
                continue; /* nothing there to hide */
            return tt_error_set(err == ENOMEM ? TT_ERR_NOMEM : TT_ERR_IO,
                                "tito_sandbox_run: hidden path \"%s\": %s", o->hidden_paths[i],
                                errno_text(err, errbuf, sizeof errbuf));
        }
        r->p.hidden_is_dir[r->p.n_hidden] = S_ISDIR(sb.st_mode);
        r->p.hidden[r->p.n_hidden++] = real;
    }
    return TT_OK;
}

static void make_limits(run *r, const tito_sandbox_limits *l)
{
    limit_setting *s = r->p.limits;
    size_t n = 0;
    s[n++] = (limit_setting){RLIMIT_CORE, 0, 0};
    if (l->cpu_seconds)
        s[n++] = (limit_setting){RLIMIT_CPU, l->cpu_seconds, (rlim_t)l->cpu_seconds + 1};
    if (l->address_space)
        s[n++] = (limit_setting){RLIMIT_AS, l->address_space, l->address_space};
    if (l->file_size)
        s[n++] = (limit_setting){RLIMIT_FSIZE, l->file_size, l->file_size};
    if (l->stack)
        s[n++] = (limit_setting){RLIMIT_STACK, l->stack, l->stack};
    if (l->open_files)
        s[n++] = (limit_setting){RLIMIT_NOFILE, l->open_files, l->open_files};
    if (l->processes)
        s[n++] = (limit_setting){RLIMIT_NPROC, l->processes, l->processes};
    r->p.n_limits = n;
}

static const char *limit_name(int resource)
{
    switch (resource) {
    case RLIMIT_CORE: return "RLIMIT_CORE";
    case RLIMIT_CPU: return "RLIMIT_CPU";
    case RLIMIT_AS: return "RLIMIT_AS";
    case RLIMIT_FSIZE: return "RLIMIT_FSIZE";
    case RLIMIT_STACK: return "RLIMIT_STACK";
    case RLIMIT_NOFILE: return "RLIMIT_NOFILE";
    case RLIMIT_NPROC: return "RLIMIT_NPROC";
    default: return "a limit";
    }
}

static int make_pipe(int *read_end, int *write_end)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    *read_end = fds[0];
    *write_end = fds[1];
    return 0;
}

static tt_status make_pipes(run *r, const tito_sandbox_options *o)
{
    char errbuf[128];
    if (make_pipe(&r->p.stdin_r, &r->stdin_w) < 0 || make_pipe(&r->out_r, &r->p.out_w) < 0 ||
        make_pipe(&r->err_r, &r->p.err_w) < 0 ||
        (o->transcript && make_pipe(&r->tr_r, &r->p.tr_w) < 0) ||
        make_pipe(&r->status_r, &r->p.status_w) < 0 || make_pipe(&r->p.control_r, &r->control_w) < 0) {
        int err = errno;
        return tt_error_set(TT_ERR_IO, "tito_sandbox_run: pipe: %s", errno_text(err, errbuf, sizeof errbuf));
    }
    /* The grader's ends never block: one poll loop serves them all. */
    int ours[] = {r->stdin_w, r->out_r, r->err_r, r->tr_r, r->status_r, r->control_w};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        if (ours[i] >= 0 && fcntl(ours[i], F_SETFL, O_NONBLOCK) < 0) {
            int err = errno;
            return tt_error_set(TT_ERR_IO, "tito_sandbox_run: fcntl: %s", errno_text(err, errbuf, sizeof errbuf));
        }
    }
    return TT_OK;
}

/* The user namespace's id maps: only the sandbox user (root grader) or only the
 * grader's own ids (unprivileged: all the kernel allows, and setgroups denied). */
static tt_status write_id_maps(run *r)
{
    char path[64], line[64], errbuf[128];
    uid_t uid = r->p.grader_root ? TITO_SANDBOX_UID : geteuid();
    gid_t gid = r->p.grader_root ? TITO_SANDBOX_GID : getegid();
    const char *what = "uid_map";
    snprintf(path, sizeof path, "/proc/%ld/uid_map", (long)r->keeper);
    snprintf(line, sizeof line, "%lu %lu 1\n", (unsigned long)uid, (unsigned long)uid);
    if (write_file(path, line) < 0)
        goto fail;
    if (!r->p.grader_root) {
        what = "setgroups";
        snprintf(path, sizeof path, "/proc/%ld/setgroups", (long)r->keeper);
        if (write_file(path, "deny\n") < 0)
            goto fail;
    }
    what = "gid_map";
    snprintf(path, sizeof path, "/proc/%ld/gid_map", (long)r->keeper);
    snprintf(line, sizeof line, "%lu %lu 1\n", (unsigned long)gid, (unsigned long)gid);
    if (write_file(path, line) < 0)
        goto fail;
    return TT_OK;
fail:;
    int err = errno;
    return tt_error_set(TT_ERR_IO, "tito_sandbox_run: writing the user namespace's %s: %s", what,
                        errno_text(err, errbuf, sizeof errbuf));
}

/* ---------------------------------------------------------------- the poll loop */

typedef struct capture {
    tito_sandbox_stream *s;
    size_t cap;
    size_t alloc; /* bytes allocated for data, including the NUL */
    int *fd;
} capture;

/* Append what was read, growing the buffer geometrically but never past cap + 1. */
static tt_status capture_add(capture *c, const char *buf, size_t n)
{
    c->s->total += n;
    size_t room = c->cap - c->s->size;
    size_t keep = n < room ? n : room;
    if (keep < n)
        c->s->truncated = true;
    if (keep == 0)
        return TT_OK;
    if (c->s->size + keep + 1 > c->alloc) {
        size_t want = c->alloc * 2;
        if (want < c->s->size + keep + 1)
            want = c->s->size + keep + 1;
        if (want < 4096)
            want = 4096;
        if (want > c->cap + 1)
            want = c->cap + 1;
        char *grown = tt_malloc(want);
        if (!grown)
            return tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory capturing output");
        memcpy(grown, c->s->data, c->s->size);
        tt_free(c->s->data);
        c->s->data = grown;
        c->alloc = want;
    }
    memcpy(c->s->data + c->s->size, buf, keep);
    c->s->size += keep;
    c->s->data[c->s->size] = '\0';
    return TT_OK;
}

enum kill_reason { KILL_NONE, KILL_TIMEOUT, KILL_OUTPUT, KILL_ABORT, KILL_INTERRUPT };

typedef struct loop_state {
    enum kill_reason reason;
    double kill_sent_at;
    bool backstop_used;
    keeper_report rep;
    size_t rep_bytes;
    int keeper_status;
    struct rusage keeper_ru;
    double end_time;
} loop_state;

static void request_kill(run *r, loop_state *ls, enum kill_reason why, double now)
{
    if (ls->reason != KILL_NONE)
        return;
    ls->reason = why;
    ls->kill_sent_at = now;
    if (r->control_w >= 0 && write(r->control_w, "k", 1) != 1)
        ls->kill_sent_at = now - KEEPER_GRACE_SECONDS; /* keeper unreachable: backstop now */
}

static void backstop_kill(run *r, loop_state *ls)
{
    if (r->keeper > 0 && !r->keeper_reaped) {
        kill(-r->keeper, SIGKILL);
        kill(r->keeper, SIGKILL);
        ls->backstop_used = true;
    }
}

static void reap_keeper(run *r, loop_state *ls)
{
    if (r->keeper <= 0 || r->keeper_reaped)
        return;
    for (;;) {
        pid_t w = wait4(r->keeper, &ls->keeper_status, 0, &ls->keeper_ru);
        if (w == r->keeper || (w < 0 && errno != EINTR))
            break;
    }
    r->keeper_reaped = true;
    ls->end_time = now_seconds();
}

/* Feed stdin, collect the streams and the keeper's report, enforce wall clock and
 * caps, until the keeper is gone and the streams are drained. */
static tt_status event_loop(run *r, const tito_sandbox_options *o, tito_sandbox_result *res, loop_state *ls,
                            double start)
{
    capture caps[3] = {
        {&res->out, o->limits.output_bytes, 1, &r->out_r},
        {&res->err, o->limits.output_bytes, 1, &r->err_r},
        {&res->transcript, o->limits.transcript_bytes, 1, &r->tr_r},
    };
    const char *in = o->stdin_data;
    size_t in_done = 0;
    double deadline = o->limits.wall_seconds > 0 ? start + o->limits.wall_seconds : 0;
    double drain_until = 0;
    char buf[65536];

    if (o->stdin_size == 0)
        close_fd(&r->stdin_w);
    for (;;) {
        double now = now_seconds();
        if (ls->reason == KILL_NONE && !r->keeper_reaped && tito_interrupt_check())
            request_kill(r, ls, KILL_INTERRUPT, now);
        if (deadline && now >= deadline && ls->reason == KILL_NONE && !r->keeper_reaped)
            request_kill(r, ls, KILL_TIMEOUT, now);
        if (ls->reason != KILL_NONE && !r->keeper_reaped && now >= ls->kill_sent_at + KEEPER_GRACE_SECONDS &&
            !ls->backstop_used)
            backstop_kill(r, ls);
        bool streams_open = r->out_r >= 0 || r->err_r >= 0 || r->tr_r >= 0;
        if (r->keeper_reaped && (!streams_open || now >= drain_until))
            return TT_OK;

        double wait = -1;
        if (r->keeper_reaped)
            wait = drain_until - now;
        else if (ls->reason != KILL_NONE && !ls->backstop_used)
            wait = ls->kill_sent_at + KEEPER_GRACE_SECONDS - now;
        else if (deadline && ls->reason == KILL_NONE)
            wait = deadline - now;
        int timeout_ms = wait < 0 ? -1 : wait > 60.0 ? 60000 : (int)(wait * 1000.0) + 1;
        if (ls->backstop_used && !r->keeper_reaped)
            timeout_ms = 100; /* the keeper is being killed: check on it soon */

        struct pollfd pf[6];
        int n = 0, idx_in = -1, idx_status = -1, idx_cap[3] = {-1, -1, -1};
        if (r->stdin_w >= 0) {
            idx_in = n;
            pf[n++] = (struct pollfd){.fd = r->stdin_w, .events = POLLOUT};
        }
        for (int i = 0; i < 3; i++) {
            if (*caps[i].fd >= 0) {
                idx_cap[i] = n;
                pf[n++] = (struct pollfd){.fd = *caps[i].fd, .events = POLLIN};
            }
        }
        if (r->status_r >= 0) {
            idx_status = n;
            pf[n++] = (struct pollfd){.fd = r->status_r, .events = POLLIN};
        }
        if (n == 0 && !r->keeper_reaped) {
            /* Everything closed but the keeper not reaped: it is exiting. */
            reap_keeper(r, ls);
            drain_until = now_seconds() + DRAIN_SECONDS;
            continue;
        }
        /* An interrupt caught by another thread wakes this loop too (checked above);
         * once the run is being killed the descriptor, readable for good, is left out. */
        if (ls->reason == KILL_NONE && !r->keeper_reaped && tito_interrupt_fd() >= 0)
            pf[n++] = (struct pollfd){.fd = tito_interrupt_fd(), .events = POLLIN};
        int pr = poll(pf, (nfds_t)n, timeout_ms);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            char errbuf[128];
            return tt_error_set(TT_ERR_IO, "tito_sandbox_run: poll: %s", errno_text(err, errbuf, sizeof errbuf));
        }
        if (pr == 0)
            continue;

        if (idx_in >= 0 && pf[idx_in].revents) {
            ssize_t w = write(r->stdin_w, in + in_done, o->stdin_size - in_done);
            if (w > 0)
                in_done += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_done == o->stdin_size)
                close_fd(&r->stdin_w); /* EPIPE: the child stopped reading; fine */
        }
        for (int i = 0; i < 3; i++) {
            if (idx_cap[i] < 0 || !pf[idx_cap[i]].revents)
                continue;
            ssize_t got = read(*caps[i].fd, buf, sizeof buf);
            if (got > 0) {
                tt_status st = capture_add(&caps[i], buf, (size_t)got);
                if (st != TT_OK)
                    return st;
                if (caps[i].s->truncated)
                    request_kill(r, ls, KILL_OUTPUT, now_seconds());
            } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                close_fd(caps[i].fd);
            }
        }
        if (idx_status >= 0 && pf[idx_status].revents) {
            ssize_t got;
            if (ls->rep_bytes < sizeof ls->rep)
                got = read(r->status_r, (char *)&ls->rep + ls->rep_bytes, sizeof ls->rep - ls->rep_bytes);
            else
                got = read(r->status_r, buf, sizeof buf);
            if (got > 0 && ls->rep_bytes < sizeof ls->rep)
                ls->rep_bytes += (size_t)got;
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                /* The keeper closed its end: it is exiting. */
                close_fd(&r->status_r);
                close_fd(&r->control_w);
                reap_keeper(r, ls);
                drain_until = now_seconds() + DRAIN_SECONDS;
            }
        }
    }
}

/* ---------------------------------------------------------------- classification */

static void classify(run *r, const tito_sandbox_options *o, tito_sandbox_result *res, loop_state *ls,
                     double start)
{
    const tito_sandbox_limits *lim = &o->limits;
    char errbuf[128];
    bool have_report = ls->rep_bytes == sizeof ls->rep && ls->rep.magic == REPORT_MAGIC;
    keeper_report *rep = &ls->rep;

    res->wall_seconds = (ls->end_time ? ls->end_time : now_seconds()) - start;
    const struct rusage *ru = &ls->keeper_ru;
    res->cpu_seconds = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6 +
                       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
    if (have_report && res->cpu_seconds >= (double)rep->keeper_cpu_us * 1e-6)
        res->cpu_seconds -= (double)rep->keeper_cpu_us * 1e-6;
    res->peak_rss = ru->ru_maxrss > 0 ? (uint64_t)ru->ru_maxrss * 1024u : 0;
    res->exit_code = -1;
    res->signal = 0;
    res->isolation = have_report ? rep->isolation : r->p.iso_ns;

    if (have_report && rep->stage != ST_RAN) {
        int stage = rep->stage > 0 && rep->stage < ST_COUNT ? rep->stage : ST_RAN;
        const char *err = errno_text(rep->err, errbuf, sizeof errbuf);
        res->end = TITO_SANDBOX_SPAWN_FAILED;
        if (stage == ST_EXEC && rep->item >= 0 && (size_t)rep->item < r->p.n_exec)
            snprintf(res->message, sizeof res->message, "execve %s: %s", r->p.exec_paths[rep->item], err);
        else if (stage == ST_HIDE && rep->item >= 0 && (size_t)rep->item < r->p.n_hidden)
            snprintf(res->message, sizeof res->message, "hiding %s: %s", r->p.hidden[rep->item], err);
        else if (stage == ST_HIDDEN_VISIBLE && rep->item >= 0 && (size_t)rep->item < r->p.n_hidden)
            snprintf(res->message, sizeof res->message,
                     "cannot hide %s: no mount namespace, and the sandbox user can read it",
                     r->p.hidden[rep->item]);
        else if (stage == ST_RLIMIT && rep->item >= 0 && (size_t)rep->item < r->p.n_limits)
            snprintf(res->message, sizeof res->message, "setrlimit %s: %s",
                     limit_name(r->p.limits[rep->item].resource), err);
        else
            snprintf(res->message, sizeof res->message, "%s: %s", stage_names[stage], err);
        return;
    }
    res->isolation |= TITO_SANDBOX_ISO_UNPRIVILEGED; /* the child got as far as exec */

    int st = rep->status;
    if (have_report) {
        if (WIFEXITED(st))
            res->exit_code = WEXITSTATUS(st);
        else if (WIFSIGNALED(st))
            res->signal = WTERMSIG(st);
        res->peak_vm = rep->vm_peak_kb * 1024u;
    } else {
        res->signal = SIGKILL;
    }

    bool killed_by_us = !have_report || rep->killed;
    if (ls->reason == KILL_TIMEOUT && killed_by_us) {
        res->end = TITO_SANDBOX_TIMEOUT;
        snprintf(res->message, sizeof res->message, "killed after %.1f s of wall clock (limit %.1f s)",
                 res->wall_seconds, lim->wall_seconds);
        return;
    }
    const char *over = res->out.truncated ? "stdout" : res->err.truncated ? "stderr" : res->transcript.truncated ? "the transcript" : NULL;
    if (over) {
        res->end = TITO_SANDBOX_OUTPUT_LIMIT;
        snprintf(res->message, sizeof res->message, "wrote more than %zu bytes to %s; killed",
                 over[0] == 't' ? lim->transcript_bytes : lim->output_bytes, over);
        return;
    }
    if (!have_report) {
        res->end = TITO_SANDBOX_SPAWN_FAILED;
        if (WIFSIGNALED(ls->keeper_status))
            snprintf(res->message, sizeof res->message,
                     "the sandbox keeper ended without a report (signal %d)", WTERMSIG(ls->keeper_status));
        else
            snprintf(res->message, sizeof res->message,
                     "the sandbox keeper ended without a report (exit code %d)",
                     WIFEXITED(ls->keeper_status) ? WEXITSTATUS(ls->keeper_status) : -1);
        return;
    }

    double child_cpu = (double)rep->child_cpu_us * 1e-6;
    uint64_t peak = rep->vm_peak_kb ? rep->vm_peak_kb * 1024u : rep->child_maxrss_kb * 1024u;
    bool near_memory = lim->address_space && peak >= lim->address_space - lim->address_space / MEMORY_NEAR_FRACTION;
    bool ended_badly = WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0);
    const char *how = NULL;
    char how_buf[64];
    if (WIFSIGNALED(st)) {
        how = signal_text(res->signal);
        if (!how) {
            snprintf(how_buf, sizeof how_buf, "signal %d", res->signal);
            how = how_buf;
        }
    }

    if (WIFSIGNALED(st) && (res->signal == SIGXCPU ||
                            (res->signal == SIGKILL && lim->cpu_seconds && child_cpu >= (double)lim->cpu_seconds))) {
        res->end = TITO_SANDBOX_CPU_LIMIT;
        snprintf(res->message, sizeof res->message, "used %.2f s of CPU time (limit %u s); killed by %s",
                 child_cpu, lim->cpu_seconds, how);
    } else if (WIFSIGNALED(st) && res->signal == SIGXFSZ) {
        res->end = TITO_SANDBOX_FILE_SIZE_LIMIT;
        snprintf(res->message, sizeof res->message, "wrote past the file-size limit of %llu bytes",
                 (unsigned long long)lim->file_size);
    } else if (ended_badly && near_memory) {
        res->end = TITO_SANDBOX_MEMORY_LIMIT;
        if (how)
            snprintf(res->message, sizeof res->message,
                     "reached the address-space limit (%llu MiB, peak %llu MiB) and was killed by %s",
                     (unsigned long long)(lim->address_space >> 20), (unsigned long long)(peak >> 20), how);
        else
            snprintf(res->message, sizeof res->message,
                     "reached the address-space limit (%llu MiB, peak %llu MiB) and exited with code %d",
                     (unsigned long long)(lim->address_space >> 20), (unsigned long long)(peak >> 20),
                     res->exit_code);
    } else if (WIFSIGNALED(st)) {
        res->end = TITO_SANDBOX_SIGNALED;
        snprintf(res->message, sizeof res->message, "killed by %s", how);
    } else {
        res->end = TITO_SANDBOX_EXITED;
        snprintf(res->message, sizeof res->message, "exited with code %d", res->exit_code);
    }
}

/* ---------------------------------------------------------------- removing the dir */

/* Remove a directory tree without recursion, without following symbolic links and
 * whatever modes the child left: entries of a subdirectory are unlinked, or, when
 * they are directories themselves, renamed up to the top, so depth costs nothing.
 * Returns 0 or an errno value. */
static int remove_tree(const char *path)
{
    int top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top < 0)
        return errno == ENOENT ? 0 : errno;
    fchmod(top, 0700);
    unsigned long counter = 0;
    int err = 0;
    for (;;) {
        /* A fresh open file description each pass: a dup would share the offset the
         * previous pass left at the end. */
        int dup_top = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dup_top >= 0 ? fdopendir(dup_top) : NULL;
        if (!d) {
            err = errno;
            if (dup_top >= 0)
                close(dup_top);
            break;
        }
        bool empty = true, progress = false;
        struct dirent *e;
        while ((e = readdir(d))) {
            const char *name = e->d_name;
            if (!strcmp(name, ".") || !strcmp(name, ".."))
                continue;
            empty = false;
            if (unlinkat(top, name, 0) == 0 || unlinkat(top, name, AT_REMOVEDIR) == 0) {
                progress = true;
                continue;
            }
            fchmodat(top, name, 0700, 0);
            int sub = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            DIR *sd = sub >= 0 ? fdopendir(sub) : NULL;
            if (!sd) {
                if (sub >= 0)
                    close(sub);
                err = errno;
                continue;
            }
            struct dirent *se;
            while ((se = readdir(sd))) {
                if (!strcmp(se->d_name, ".") || !strcmp(se->d_name, ".."))
                    continue;
                if (unlinkat(sub, se->d_name, 0) == 0) {
                    progress = true;
                    continue;
                }
                /* A directory: moving it rewrites its "..", which needs write permission
                 * on it (root does without, the grader's own uid does not). */
                fchmodat(sub, se->d_name, 0700, 0);
                if (unlinkat(sub, se->d_name, AT_REMOVEDIR) == 0) {
                    progress = true;
                    continue;
                }
                for (int tries = 0; tries < 1000; tries++) {
                    char hoisted[48];
                    snprintf(hoisted, sizeof hoisted, ".tito-rm-%lu", counter++);
                    if (renameat2(sub, se->d_name, top, hoisted, RENAME_NOREPLACE) == 0) {
                        progress = true;
                        break;
                    }
                    if (errno != EEXIST) {
                        err = errno;
                        break;
                    }
                }
            }
            closedir(sd);
            if (unlinkat(top, name, AT_REMOVEDIR) == 0)
                progress = true;
        }
        closedir(d);
        if (empty || !progress)
            break;
    }
    close(top);
    if (rmdir(path) < 0)
        return err ? err : errno;
    return 0;
}

/* ---------------------------------------------------------------- entry points */

static tt_status interrupted(void)
{
    return tt_error_set(TT_ERR_STATE, "interrupted by %s: the run was stopped",
                        tito_interrupt_caught == SIGTERM ? "SIGTERM" : "SIGINT");
}

static tito_sandbox_result *result_new(void)
{
    tito_sandbox_result *res = tt_calloc(1, sizeof *res);
    if (!res)
        return NULL;
    tito_sandbox_stream *s[3] = {&res->out, &res->err, &res->transcript};
    for (int i = 0; i < 3; i++) {
        if (!(s[i]->data = tt_calloc(1, 1))) {
            tito_sandbox_result_free(res);
            return NULL;
        }
    }
    return res;
}

void tito_sandbox_result_free(tito_sandbox_result *result)
{
    if (!result)
        return;
    tt_free(result->out.data);
    tt_free(result->err.data);
    tt_free(result->transcript.data);
    tt_free(result);
}

static void run_release(run *r)
{
    close_child_ends(r);
    close_fd(&r->stdin_w);
    close_fd(&r->out_r);
    close_fd(&r->err_r);
    close_fd(&r->tr_r);
    close_fd(&r->status_r);
    close_fd(&r->control_w);
    free_string_array(r->p.exec_paths, r->p.n_exec);
    free_string_array(r->p.envp, r->n_env);
    free_string_array(r->p.hidden, r->p.n_hidden);
    tt_free(r->p.hidden_is_dir);
    tt_free(r->p.workdir);
    tt_free(r->p.workdir_tmpfs);
}

tt_status tito_sandbox_run(tito_sandbox_result **out, const tito_sandbox_options *options)
{
    tt_status st = TT_OK;
    tito_sandbox_result *res = NULL;
    run r;
    loop_state ls;
    char errbuf[128];
    sigset_t pipe_set, saved_mask, pending_before;
    bool mask_changed = false;

    run_init(&r);
    memset(&ls, 0, sizeof ls);
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_sandbox_run: out is NULL");
    *out = NULL;
    TT_CHECK(check_options(options));
    if (tito_interrupt_check())
        return interrupted();
    r.p.grader_root = geteuid() == 0;
    r.p.transcript = options->transcript;
    r.p.argv = (char *const *)options->argv;
    TT_CHECK(choose_isolation(&r, options));
    make_limits(&r, &options->limits);
    if (!(res = result_new())) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_sandbox_run: out of memory for the result");
        goto cleanup;
    }
    TT_CHECK(make_workdir(&r, options));
    TT_CHECK(make_env(&r, options));
    TT_CHECK(make_exec_paths(&r, options->argv[0]));
    TT_CHECK(make_hidden(&r, options));
    TT_CHECK(make_pipes(&r, options));

    /* Writing to a child that stopped reading must give EPIPE, not kill the grader. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending_before);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &saved_mask);
    mask_changed = true;

    /* Every signal blocked across clone: the keeper must not run the grader's handlers
     * before it has reset them. */
    sigset_t all, before_clone;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &before_clone);
    double start = now_seconds();
    r.keeper = raw_clone(r.p.ns_flags);
    if (r.keeper == 0)
        keeper_main(&r.p);
    int clone_err = errno;
    pthread_sigmask(SIG_SETMASK, &before_clone, NULL);
    if (r.keeper < 0) {
        st = tt_error_set(TT_ERR_IO, "tito_sandbox_run: clone: %s", errno_text(clone_err, errbuf, sizeof errbuf));
        goto cleanup;
    }
    close_child_ends(&r);
    if (r.p.ns_flags & CLONE_NEWUSER)
        TT_CHECK(write_id_maps(&r));
    if (write(r.control_w, "g", 1) != 1) {
        int err = errno;
        st = tt_error_set(TT_ERR_IO, "tito_sandbox_run: starting the keeper: %s",
                          errno_text(err, errbuf, sizeof errbuf));
        goto cleanup;
    }
    TT_CHECK(event_loop(&r, options, res, &ls, start));
    if (ls.reason == KILL_INTERRUPT) {
        /* Killed for the interrupt, not for anything the child did: no verdict. */
        st = interrupted();
        goto cleanup;
    }
    classify(&r, options, res, &ls, start);

cleanup:
    if (r.keeper > 0 && !r.keeper_reaped) {
        /* Failing half-way: the run must not outlive this call. */
        request_kill(&r, &ls, KILL_ABORT, now_seconds());
        backstop_kill(&r, &ls);
        reap_keeper(&r, &ls);
    }
    if (mask_changed) {
        sigset_t pending;
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) && !sigismember(&pending_before, SIGPIPE)) {
            struct timespec zero = {0, 0};
            sigtimedwait(&pipe_set, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    }
    if (r.private_workdir) {
        int err = remove_tree(r.p.workdir);
        if (err && res && st == TT_OK) {
            res->workdir_left = true;
            size_t len = strlen(res->message);
            snprintf(res->message + len, sizeof res->message - len, "%sthe working directory %s could not be removed: %s",
                     len ? "; " : "", r.p.workdir, errno_text(err, errbuf, sizeof errbuf));
        }
    }
    run_release(&r);
    if (st != TT_OK) {
        tito_sandbox_result_free(res);
        return st;
    }
    *out = res;
    return TT_OK;
}
