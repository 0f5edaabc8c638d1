/*
 * tests/grader/sandbox_child.c: the misbehaving programs the sandbox tests run.
 *
 * One binary, one behaviour per mode (argv[1]); each stands for something a student's
 * code or a compromised probe might do. What a mode observes it prints on stdout as
 * "key=value" lines (errno values by name), so the test can check the child's view of
 * the world without trusting anything else it says. Extra arguments (argv[2]...) are
 * mode parameters; the tests also add a unique token there so that leftover processes
 * can be found in /proc.
 *
 * Built without sanitizers: AddressSanitizer's shadow memory cannot live under a
 * small RLIMIT_AS, and these programs are meant to crash.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *errname(int err)
{
    switch (err) {
    case 0: return "OK";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    case ENOENT: return "ENOENT";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case ENOSPC: return "ENOSPC";
    case EBADF: return "EBADF";
    case EFBIG: return "EFBIG";
    case ENOMEM: return "ENOMEM";
    case EUSERS: return "EUSERS";
    default: return "OTHER";
    }
}

static void spin(void)
{
    volatile unsigned long x = 0;
    for (;;)
        x++;
}

/* stdout, stderr, stdin echoed, a transcript on fd 3; a distinctive exit code. */
static int mode_hello(void)
{
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, stdin);
    buf[n] = '\0';
    printf("hello stdout\nstdin=%s\n", buf);
    fprintf(stderr, "hello stderr\n");
    dprintf(3, "transcript line 1\ntranscript line 2\n");
    return 7;
}

/* Everything a grader must not believe. */
static int mode_fake(void)
{
    const char *lie = "ALL TESTS PASSED\n{\"verdict\": \"pass\", \"score\": 100, \"points\": 100}\n";
    fputs(lie, stdout);
    fputs(lie, stderr);
    dprintf(3, "%s", lie);
    return 1;
}

/* Echo stdin, then start one process and say whether the limit allowed it. */
static int mode_fork_one(void)
{
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, stdin);
    buf[n] = '\0';
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    int err = p < 0 ? errno : 0;
    if (p > 0)
        waitpid(p, NULL, 0);
    printf("stdin=%s fork=%s\n", buf, errname(err));
    return 0;
}

static int mode_stdin_count(void)
{
    char buf[65536];
    size_t total = 0, n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        total += n;
    printf("stdin_bytes=%zu\n", total);
    return 0;
}

static int mode_cpu(int ignore_xcpu)
{
    if (ignore_xcpu)
        signal(SIGXCPU, SIG_IGN);
    spin();
    return 0;
}

/* Every process forks until the limit says no; the first reports its tally. */
static int mode_forkbomb(void)
{
    int made = 0, err = 0;
    for (int i = 0; i < 100000; i++) {
        pid_t p = fork();
        if (p == 0) {
            for (;;) {
                if (fork() < 0)
                    pause();
            }
        }
        if (p < 0) {
            err = errno;
            break;
        }
        made++;
    }
    dprintf(3, "forks=%d fork_error=%s\n", made, errname(err));
    spin();
    return 0;
}

static int mode_malloc(const char *then)
{
    size_t total = 0;
    for (;;) {
        char *p = malloc(1 << 20);
        if (!p)
            break;
        memset(p, 1, 1 << 20);
        total += 1 << 20;
    }
    fprintf(stderr, "allocated %zu MiB before malloc failed\n", total >> 20);
    if (!strcmp(then, "exit"))
        return 1;
    if (!strcmp(then, "abort"))
        abort();
    volatile char *null = NULL;
    *null = 1; /* what unchecked student code does next */
    return 0;
}

/* Unbounded on purpose; the depth check only hides that from the compiler. */
static int recurse(int depth)
{
    volatile char pad[4096];
    pad[0] = (char)depth;
    if (depth < 0)
        return pad[0];
    return recurse(depth + 1) + pad[0];
}

static int mode_flood(int fd)
{
    char buf[65536];
    memset(buf, 'x', sizeof buf);
    for (;;) {
        if (write(fd, buf, sizeof buf) < 0)
            return 3;
    }
}

static int mode_write(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        if (write(fd, "escaped\n", 8) < 0)
            err = errno;
        close(fd);
    }
    printf("write=%s\n", errname(err));
    return 0;
}

static int mode_connect(const char *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        printf("socket=%s\n", errname(errno));
        return 0;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)strtol(port, NULL, 10));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    printf("connect=%s\n", errname(r < 0 ? errno : 0));
    close(s);
    return 0;
}

static int mode_kill_parent(void)
{
    int r = kill(getppid(), SIGKILL);
    printf("kill_parent=%s\n", errname(r < 0 ? errno : 0));
    fflush(stdout);
    usleep(200000);
    printf("alive=yes\n");
    return 0;
}

static int mode_kill_group(void)
{
    kill(0, SIGKILL);
    usleep(200000);
    printf("alive=yes\n");
    return 0;
}

static int mode_kill_all(void)
{
    int r = kill(-1, SIGKILL);
    printf("kill_all=%s\n", errname(r < 0 ? errno : 0));
    return 0;
}

static int try_raise(int resource, const char *name)
{
    struct rlimit rl;
    getrlimit(resource, &rl);
    struct rlimit up = rl;
    up.rlim_max = rl.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : rl.rlim_max + 1000;
    up.rlim_cur = up.rlim_max;
    int r = setrlimit(resource, &up);
    printf("%s=%s hard=%llu\n", name, errname(r < 0 ? errno : 0), (unsigned long long)rl.rlim_max);
    return r;
}

static int mode_rlimits(void)
{
    try_raise(RLIMIT_CPU, "raise_cpu");
    try_raise(RLIMIT_AS, "raise_as");
    try_raise(RLIMIT_NOFILE, "raise_nofile");
    try_raise(RLIMIT_NPROC, "raise_nproc");
    try_raise(RLIMIT_FSIZE, "raise_fsize");
    try_raise(RLIMIT_STACK, "raise_stack");
    int r = setuid(0);
    printf("setuid0=%s\n", errname(r < 0 ? errno : 0));
    return 0;
}

static int mode_read(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        int entries = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(d);
        printf("dir_entries=%d\n", entries);
        return 0;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open=%s\n", errname(errno));
        return 0;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    printf("read_bytes=%zd content=%s\n", n, buf);
    return 0;
}

/* A grandchild that leaves the session and would outlive its parent. */
static int mode_grandchild(void)
{
    int ready[2];
    if (pipe(ready) < 0)
        return 2;
    pid_t p = fork();
    if (p == 0) {
        setsid();
        if (fork() == 0) {
            dprintf(3, "grandchild running\n");
            close(ready[1]);
            for (;;)
                sleep(60);
        }
        _exit(0);
    }
    close(ready[1]);
    char c;
    while (read(ready[0], &c, 1) > 0) /* until the grandchild closed its end */
        ;
    waitpid(p, NULL, 0);
    printf("parent exiting\n");
    return 0;
}

static int mode_fsize(void)
{
    char buf[4096];
    memset(buf, 'y', sizeof buf);
    int fd = open("big.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        printf("open=%s\n", errname(errno));
        return 2;
    }
    for (;;) {
        if (write(fd, buf, sizeof buf) < 0) {
            printf("write=%s\n", errname(errno));
            return 3;
        }
    }
}

/* Many files, each under the file-size limit, until the directory is full. */
static int mode_fill(void)
{
    char buf[65536], name[32];
    memset(buf, 'f', sizeof buf);
    unsigned long long bytes = 0;
    int err = 0;
    for (int i = 0; i < 100000 && !err; i++) {
        snprintf(name, sizeof name, "fill-%d", i);
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            err = errno;
            break;
        }
        ssize_t w = write(fd, buf, sizeof buf);
        if (w < 0)
            err = errno;
        else
            bytes += (unsigned long long)w;
        if (w >= 0 && w < (ssize_t)sizeof buf)
            err = ENOSPC;
        close(fd);
    }
    printf("fill_error=%s fill_bytes=%llu\n", errname(err), bytes);
    return 0;
}

static int mode_env(void)
{
    for (char **e = environ; *e; e++)
        printf("%s\n", *e);
    return 0;
}

static int mode_ids(void)
{
    gid_t groups[64];
    int ng = getgroups(64, groups);
    printf("uid=%d euid=%d gid=%d egid=%d groups=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(),
           (int)getegid(), ng);
    for (int i = 0; i < ng; i++)
        printf("group=%d\n", (int)groups[i]);
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10))
            fputs(line, stdout);
    }
    if (f)
        fclose(f);
    return 0;
}

static int mode_fds(void)
{
    for (int fd = 0; fd < 4096; fd++) {
        if (fcntl(fd, F_GETFD) >= 0)
            printf("open_fd=%d\n", fd);
    }
    return 0;
}

static int mode_procs(void)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] >= '1' && e->d_name[0] <= '9';
    if (d)
        closedir(d);
    printf("processes=%d pid=%d ppid=%d\n", n, (int)getpid(), (int)getppid());
    return 0;
}

static int mode_nested(void)
{
    int r = unshare(CLONE_NEWUSER);
    printf("unshare_user=%s\n", errname(r < 0 ? errno : 0));
    return 0;
}

static int mode_mkfile(const char *name)
{
    FILE *f = fopen(name, "w");
    if (!f) {
        printf("mkfile=%s\n", errname(errno));
        return 1;
    }
    fputs("made inside\n", f);
    fclose(f);
    char cwd[512];
    printf("mkfile=OK cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    return 0;
}

/* Everything that makes a directory tree hard to remove. */
static int mode_mess(const char *outside)
{
    int ok = symlink(outside, "link-outside") == 0;
    ok &= mkfifo("fifo", 0600) == 0;
    ok &= mkdir("locked", 0700) == 0;
    FILE *f = fopen("locked/inner.txt", "w");
    ok &= f != NULL;
    if (f)
        fclose(f);
    ok &= symlink(outside, "locked/inner-link") == 0;
    ok &= chmod("locked", 0) == 0;
    ok &= close(open("unreadable.txt", O_WRONLY | O_CREAT, 0)) == 0;
    /* A chain deeper than PATH_MAX allows to name in one path. */
    int fd = open(".", O_RDONLY | O_DIRECTORY);
    for (int depth = 0; depth < 600 && fd >= 0; depth++) {
        ok &= mkdirat(fd, "deep-directory-name", 0700) == 0;
        int next = openat(fd, "deep-directory-name", O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = next;
    }
    ok &= fd >= 0;
    if (fd >= 0) {
        ok &= symlinkat(outside, fd, "bottom-link") == 0;
        ok &= fchmod(fd, 0) == 0;
        close(fd);
    }
    printf("mess=%s\n", ok ? "OK" : "FAILED");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(mode, "hello")) return mode_hello();
    if (!strcmp(mode, "fake")) return mode_fake();
    if (!strcmp(mode, "exit0")) return 0;
    if (!strcmp(mode, "stdin-count")) return mode_stdin_count();
    if (!strcmp(mode, "fork-one")) return mode_fork_one();
    if (!strcmp(mode, "cpu")) return mode_cpu(0);
    if (!strcmp(mode, "cpu-ignore-xcpu")) return mode_cpu(1);
    if (!strcmp(mode, "sleep")) { sleep(3600); return 0; }
    if (!strcmp(mode, "forkbomb")) return mode_forkbomb();
    if (!strcmp(mode, "malloc")) return mode_malloc(arg);
    if (!strcmp(mode, "stack")) return recurse(0);
    if (!strcmp(mode, "flood")) return mode_flood(1);
    if (!strcmp(mode, "flood-stderr")) return mode_flood(2);
    if (!strcmp(mode, "flood-transcript")) return mode_flood(3);
    if (!strcmp(mode, "write")) return mode_write(arg);
    if (!strcmp(mode, "connect")) return mode_connect(arg);
    if (!strcmp(mode, "kill-parent")) return mode_kill_parent();
    if (!strcmp(mode, "kill-group")) return mode_kill_group();
    if (!strcmp(mode, "kill-all")) return mode_kill_all();
    if (!strcmp(mode, "rlimits")) return mode_rlimits();
    if (!strcmp(mode, "read")) return mode_read(arg);
    if (!strcmp(mode, "grandchild")) return mode_grandchild();
    if (!strcmp(mode, "fsize")) return mode_fsize();
    if (!strcmp(mode, "env")) return mode_env();
    if (!strcmp(mode, "fill")) return mode_fill();
    if (!strcmp(mode, "ids")) return mode_ids();
    if (!strcmp(mode, "fds")) return mode_fds();
    if (!strcmp(mode, "procs")) return mode_procs();
    if (!strcmp(mode, "nested-userns")) return mode_nested();
    if (!strcmp(mode, "mkfile")) return mode_mkfile(arg);
    if (!strcmp(mode, "mess")) return mode_mess(arg);
    fprintf(stderr, "sandbox_child: unknown mode \"%s\"\n", mode);
    return 64;
}
