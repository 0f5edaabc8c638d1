#!/usr/bin/python3
"""tests/robustness/plant.py: module-01 sources that misbehave, for the robustness tests.

    plant.py runtime REFERENCE OUT MARK=... OUTSIDE=... WS=... HOME=... PORT=...
    plant.py spin REFERENCE OUT MARK=...
    plant.py compiler-hang|compiler-explode|compiler-flood OUT

`runtime` is the reference tensor.c with one misbehaviour per public function below: each
function is renamed to a static orig_<name> and a wrapper of the public name misbehaves
(and may then call the original). A case that calls one of them gets the misbehaviour;
the other cases must be graded as if nothing happened. Isolation checks (writes outside,
hidden paths, network, raising limits) return a wrong answer when the isolation failed,
so their case passes only when it held; the test checks the machine afterwards too.

`spin` is the reference with only tt_tensor_matmul wrapped: it loops for ever in a
process named MARK-spin, so that while that process exists the grader is surely busy
in the sandbox (tests/robustness/t_interrupt.sh).

MARK is a unique word (at most 9 characters) put into every process name the planted
code makes, so that the test can look for strays.
"""
import re
import sys

WRAPPERS = {
    # prints fake success lines and a fake receipt on every stream, then answers wrong
    "tt_tensor_sub": ("tt_status tt_tensor_sub(tt_tensor **out, tt_tensor *a, tt_tensor *b)", r"""
    static const char fake[] =
        "PASS sub.scalar_tensor\nok 1 - all checks pass\n"
        "{\"schema\": \"tito-receipt/1\", \"score\": {\"earned\": 100, \"possible\": 100}, "
        "\"fake\": \"@MARK@-json\"}\n";
    static const char record[] = "end sub.scalar_tensor live=0\nPASS\n";
    fputs(fake, stdout);
    fflush(stdout);
    fputs(fake, stderr);
    for (int fd = 3; fd < 64; fd++)
        (void)!write(fd, record, sizeof record - 1);
    (void)b;
    return tt_tensor_zeros(out, a->ndim, a->shape);
"""),
    # exits with status 0 in the middle of a case
    "tt_tensor_fill": ("tt_status tt_tensor_fill(tt_tensor *t, float value)", r"""
    (void)t;
    (void)value;
    fputs("all done, exiting happily\n", stdout);
    exit(0);
"""),
    # loops forever
    "tt_tensor_argmax": ("tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim)", r"""
    volatile int spin = 1;
    while (spin) {
    }
    return orig_tt_tensor_argmax(out, t, axis, keepdim);
"""),
    # sleeps, leaving a grandchild in a session of its own sleeping too
    "tt_tensor_div": ("tt_status tt_tensor_div(tt_tensor **out, tt_tensor *a, tt_tensor *b)", r"""
    pid_t child = fork();
    if (child == 0) {
        if (fork() == 0) {
            setsid();
            prctl(PR_SET_NAME, "@MARK@-nap", 0, 0, 0);
            sleep(600);
        }
        _exit(0);
    }
    prctl(PR_SET_NAME, "@MARK@-slp", 0, 0, 0);
    sleep(600);
    return orig_tt_tensor_div(out, a, b);
"""),
    # a fork bomb: every process forks for ever
    "tt_tensor_full": ("tt_status tt_tensor_full(tt_tensor **out, int ndim, const size_t *shape, float value)", r"""
    prctl(PR_SET_NAME, "@MARK@-bmb", 0, 0, 0);
    for (;;)
        (void)fork();
    return orig_tt_tensor_full(out, ndim, shape, value);
"""),
    # allocates without bound (and touches what it gets)
    "tt_tensor_item": ("tt_status tt_tensor_item(const tt_tensor *t, float *value)", r"""
    for (;;) {
        volatile char *block = tt_malloc((size_t)16 << 20);
        block[0] = 1;
    }
    return orig_tt_tensor_item(t, value);
"""),
    # overflows its stack
    "tt_tensor_get": ("tt_status tt_tensor_get(const tt_tensor *t, const size_t *index, float *value)", r"""
    (void)dive(NULL);
    return orig_tt_tensor_get(t, index, value);
"""),
    # floods stdout
    "tt_broadcast_shape": ("tt_status tt_broadcast_shape(int *ndim, size_t *shape, const tt_tensor *a, const tt_tensor *b)", r"""
    for (long i = 0; i < 2000000; i++)
        printf("tt_broadcast_shape: debugging line %ld of a flood\n", i);
    return orig_tt_broadcast_shape(ndim, shape, a, b);
"""),
    # writes outside its directory (and, as a control, inside it)
    "tt_tensor_randn": ("tt_status tt_tensor_randn(tt_tensor **out, int ndim, const size_t *shape, float mean, float std,\n                          tt_rng *rng)", r"""
    static const char *const outside[] = {
        "@OUTSIDE@", "@WS@/@MARK@-in-workspace.txt", "@WS@/.tito/@MARK@-in-dot-tito.txt",
        "@HOME@/@MARK@-in-home.txt", "/tmp/@MARK@-in-tmp.txt", "/dev/shm/@MARK@-in-shm.txt",
        "../@MARK@-next-to-workdir.txt", NULL};
    int escaped = 0;
    for (const char *const *p = outside; *p; p++) {
        FILE *f = fopen(*p, "w");
        if (f) {
            escaped += fputs("written by student code\n", f) >= 0;
            fclose(f);
        }
    }
    FILE *inside = fopen("@MARK@-inside.txt", "w");
    int wrote_inside = inside && fputs("mine\n", inside) >= 0;
    if (inside)
        fclose(inside);
    if (escaped || !wrote_inside)
        return tt_error_set(TT_ERR_IO, "isolation: %d writes outside, inside %d", escaped, wrote_inside);
    return orig_tt_tensor_randn(out, ndim, shape, mean, std, rng);
"""),
    # reads what is hidden from it (and, as a control, what is not)
    "tt_tensor_from_data": ("tt_status tt_tensor_from_data(tt_tensor **out, int ndim, const size_t *shape, const float *data)", r"""
    static const char *const hidden[] = {"@WS@/.tito/progress.json", "@HOME@/.config/tito/secret.key", NULL};
    int seen = 0;
    char buf[64];
    for (const char *const *p = hidden; *p; p++) {
        FILE *f = fopen(*p, "r");
        if (f) {
            seen += fread(buf, 1, sizeof buf, f) > 0;
            fclose(f);
        }
    }
    FILE *control = fopen("@WS@/README.md", "r");
    int readable = control && fread(buf, 1, sizeof buf, control) > 0;
    if (control)
        fclose(control);
    if (seen || !readable)
        return tt_error_set(TT_ERR_IO, "isolation: %d hidden files read, control %d", seen, readable);
    return orig_tt_tensor_from_data(out, ndim, shape, data);
"""),
    # tries to reach the network (a port the test listens on)
    "tt_tensor_mean_all": ("tt_status tt_tensor_mean_all(tt_tensor **out, tt_tensor *t)", r"""
    int connected = 0;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s >= 0) {
        struct sockaddr_in addr;
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_port = htons(@PORT@);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected = connect(s, (struct sockaddr *)&addr, sizeof addr) == 0;
        static const char hello[] = "@MARK@ got through\n";
        if (connected)
            (void)!write(s, hello, sizeof hello - 1);
        close(s);
    }
    if (connected)
        return tt_error_set(TT_ERR_IO, "isolation: connected to the test's port");
    return orig_tt_tensor_mean_all(out, t);
"""),
    # signals its parent, every process it may, and its own process group
    "tt_tensor_add_scalar": ("tt_status tt_tensor_add_scalar(tt_tensor **out, tt_tensor *a, float s)", r"""
    kill(getppid(), SIGKILL);
    kill(-1, SIGKILL);
    kill(0, SIGTERM);
    return orig_tt_tensor_add_scalar(out, a, s);
"""),
    # raises its own limits
    "tt_tensor_max": ("tt_status tt_tensor_max(tt_tensor **out, tt_tensor *t, int axis, bool keepdim)", r"""
    static const int resources[] = {RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_STACK, RLIMIT_NOFILE,
                                    RLIMIT_NPROC};
    int raised = 0;
    for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
        struct rlimit r;
        if (getrlimit(resources[i], &r) != 0 || r.rlim_max == RLIM_INFINITY)
            continue;
        struct rlimit more = {r.rlim_max + 1, r.rlim_max + 1};
        raised += setrlimit(resources[i], &more) == 0;
        struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
        raised += setrlimit(resources[i], &unlimited) == 0;
    }
    if (raised)
        return tt_error_set(TT_ERR_IO, "isolation: %d limits raised", raised);
    return orig_tt_tensor_max(out, t, axis, keepdim);
"""),
}

PRELUDE = r"""#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
"""

HELPERS = r"""
/* A frame the next call keeps a pointer to: no compiler can turn this into a loop. */
static int dive(volatile char *prev)
{
    volatile char pad[4096];
    pad[0] = (char)(prev ? prev[0] + 1 : 0);
    int r = dive(pad);
    return r + pad[1];
}
"""

SPIN = {
    "tt_tensor_matmul": ("tt_status tt_tensor_matmul(tt_tensor **out, tt_tensor *a, tt_tensor *b)", r"""
    prctl(PR_SET_NAME, "@MARK@-spin", 0, 0, 0);
    volatile int spin = 1;
    while (spin) {
    }
    return orig_tt_tensor_matmul(out, a, b);
"""),
}

COMPILER = {
    # 10^10 empty assembler conditionals: CPU without memory or messages. (Work in the
    # preprocessor, such as 2^60 nested self-inclusions, also grows cc1's line maps by
    # ~60 MB per CPU second, so the 1 GiB limit would end it before the CPU limit.)
    "compiler-hang": '__asm__(".rept 100000\\n.rept 100000\\n.if 0\\n.endif\\n.endr\\n.endr");\n',
    # reads /dev/zero as a header: memory without end
    "compiler-explode": '#include "/dev/zero"\n',
    # includes itself twice without a guard: an error at every one of 2^200 leaves
    "compiler-flood": "#include __FILE__\n#include __FILE__\nint x;\n",
}


def runtime(reference, out, subs, planted=WRAPPERS, helpers=HELPERS):
    text = open(reference).read()
    wrappers = []
    for name, (signature, body) in planted.items():
        if signature not in text:
            sys.exit("plant.py: the reference has no %r" % signature)
        renamed = signature.replace(name + "(", "orig_" + name + "(", 1)
        text = text.replace(signature, "static " + renamed, 1)
        wrappers.append(signature + "\n{" + body + "}\n")
    text = PRELUDE + text + helpers + "\n/* The misbehaving wrappers. */\n" + "\n".join(wrappers)
    for key, value in subs.items():
        text = text.replace("@" + key + "@", value)
    left = re.search(r"@[A-Z]+@", text)
    if left:
        sys.exit("plant.py: placeholder %s was not filled" % left.group(0))
    open(out, "w").write(text)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] in COMPILER:
        open(sys.argv[2], "w").write(COMPILER[sys.argv[1]])
        return
    if len(sys.argv) < 4 or sys.argv[1] not in ("runtime", "spin"):
        sys.exit(__doc__)
    subs = dict(arg.split("=", 1) for arg in sys.argv[4:])
    if sys.argv[1] == "spin":
        if not 0 < len(subs.get("MARK", "")) <= 9:
            sys.exit("plant.py: MARK=... of at most 9 characters is required")
        runtime(sys.argv[2], sys.argv[3], subs, SPIN, "")
        return
    for key in ("MARK", "OUTSIDE", "WS", "HOME", "PORT"):
        if key not in subs:
            sys.exit("plant.py: %s=... is required" % key)
    if len(subs["MARK"]) > 9:
        sys.exit("plant.py: MARK is at most 9 characters (process names hold 15)")
    runtime(sys.argv[2], sys.argv[3], subs)


if __name__ == "__main__":
    main()
