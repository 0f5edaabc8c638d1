#!/bin/sh
# tests/robustness/t_compiler.sh TITO SOURCE_DIR: `tito module test` on module-01 files
# that turn the compiler against the grader (tests/robustness/plant.py): one that makes
# it hang (10^10 assembler loop turns: CPU for ever, no memory, no messages), one
# that makes it explode (/dev/zero as a header: memory without end) and one that makes
# it flood (an unguarded self-inclusion: an error at each of 2^200 leaves).
#
# Each is a compile-error for every check with the reason in words, the command
# finishes (exit 1), and nothing is left: no process in the run's directories, an empty
# temporary directory.
. "$(dirname "$0")/../cli/lib.sh"
need_jq

chmod 755 "$TMP"
mkdir -p "$TMP/tmp"
chmod 1777 "$TMP/tmp"
TMPDIR=$TMP/tmp
export TMPDIR

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
"$TITO" module start 01 >/dev/null 2>&1 || { fail "module start"; finish; }
src=modules/01_tensor/tensor.c

# nothing_left NAME: no process works in the temporary directory, and it is empty.
nothing_left() {
    strays=
    for d in /proc/[0-9]*; do
        cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
        case "$cwd" in "$TMPDIR"/*) strays="$strays ${d#/proc/}:$(cat "$d/comm" 2>/dev/null)" ;; esac
    done
    same "$1: no process of the run is left" "$strays" ""
    same "$1: the temporary directory is empty" "$(ls -A "$TMPDIR")" ""
}

# compile_case KIND WHAT: the whole visible run is a compile error saying WHAT (an
# extended regular expression).
compile_case() {
    /usr/bin/python3 "$SRC/tests/robustness/plant.py" "compiler-$1" "$src" || { fail "plant $1"; return; }
    expect "compiler $1: exit 1" 1 "$TITO" module test 01 --json
    same "compiler $1: the build verdict" "$(jq -r .build.status "$TMP/out")" "compile-error"
    same "compiler $1: every check is a compile error" \
        "$(jq -r '[.tests[].status] | unique | join(" ")' "$TMP/out")" "compile-error"
    jq -r .build.log "$TMP/out" >"$TMP/log"
    if grep -qE -- "$2" "$TMP/log"; then ok "compiler $1: says why"; else
        fail "compiler $1: says why: no /$2/ in the build log:"
        head -n 20 "$TMP/log" | sed 's/^/    /'
    fi
    check "compiler $1: the log is short" test "$(wc -c <"$TMP/log")" -lt 300000
    nothing_left "compiler $1"
}

compile_case explode "out of memory"
# The report says it in words too.
expect "compiler explode: the report" 1 "$TITO" module test 01
has "report: the build line" "$TMP/out" "Building module 01 against the reference … compile-error"
has "report: the reason" "$TMP/out" "out of memory"
has "report: every check needs the build" "$TMP/out" "Every check needs the module to build"
nothing_left "the report"

compile_case flood "printed more than 256 KiB of messages"
# 20 s of CPU time; on a machine so busy that they take more than 60 s of wall clock,
# the wall clock ends it first: either is the hang, named.
compile_case hang "the compiler used more than 20 s of CPU time on your file|the compiler did not finish within 60 s"

finish
