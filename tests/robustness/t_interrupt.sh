#!/bin/sh
# tests/robustness/t_interrupt.sh TITO SOURCE_DIR: Ctrl-C (SIGINT) or SIGTERM sent to
# tito in the middle of a grade. A module 01 whose tt_tensor_matmul loops for ever
# (tests/robustness/plant.py spin) keeps the grader busy in the sandbox; once that loop
# runs, tito alone gets the signal, as from `kill` (Ctrl-C would signal its process
# group too, but the sandbox runs in a session of its own).
#
# Each time: the exit status is 128 + the signal, stderr is the one line saying so,
# no process of the run is left, the temporary directory is empty, and nothing was
# recorded (no commit, no receipt, no progress change). Through `tito grade 01`
# (SIGINT), `tito dev grade 01 FILE --full` (SIGTERM) and `tito milestone run 1`
# (SIGINT).
. "$(dirname "$0")/../cli/lib.sh"

MARK=in$$
MESSAGE="interrupted: nothing was graded; your files are untouched"
# The sandboxed child runs as uid 65534 when tito is root: it must reach the
# temporary directory.
chmod 755 "$TMP"
mkdir -p "$TMP/tmp"
chmod 1777 "$TMP/tmp"
TMPDIR=$TMP/tmp
export TMPDIR

# The processes of the run: named after MARK, or working in the temporary directory.
strays() {
    _s=
    for d in /proc/[0-9]*; do
        comm=$(cat "$d/comm" 2>/dev/null) || continue
        cwd=$(readlink "$d/cwd" 2>/dev/null)
        case "$comm" in "$MARK"*) _s="$_s ${d#/proc/}:$comm" ;; esac
        case "$cwd" in "$TMPDIR"/*) _s="$_s ${d#/proc/}:$comm@$cwd" ;; esac
    done
    echo "$_s"
}
spinning() {
    for d in /proc/[0-9]*; do
        [ "$(cat "$d/comm" 2>/dev/null)" = "$MARK-spin" ] && return 0
    done
    return 1
}

# interrupt NAME SIGNAL STATUS COMMAND...: start COMMAND, wait until the planted loop
# runs, send SIGNAL to tito, and check what it leaves.
interrupt() {
    what=$1 sig=$2 want=$3
    shift 3
    # As from a terminal: sh starts a background command with SIGINT ignored.
    env --default-signal=INT "$@" >"$TMP/out" 2>"$TMP/err" </dev/null &
    pid=$!
    end=$(($(date +%s) + 240))
    while ! spinning && kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.1
    done
    if ! spinning; then
        fail "$what: the planted loop never ran"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid"
        sed 's/^/    err: /' "$TMP/err"
        return
    fi
    check "$what: the run's folders exist before the signal" test -n "$(ls -A "$TMPDIR")"
    kill -"$sig" "$pid"
    # tito must end by itself, soon; the grader's grace for a stuck sandbox is 5 s.
    end=$(($(date +%s) + 60))
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$what: tito still runs 60 s after SIG$sig"
        kill -KILL "$pid"
    fi
    wait "$pid"
    same "$what: exit status" "$?" "$want"
    same "$what: stderr is one line saying so" "$(cat "$TMP/err")" "$MESSAGE"
    same "$what: no process of the run is left" "$(strays)" ""
    same "$what: the temporary directory is empty" "$(ls -A "$TMPDIR")" ""
}

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
chmod 755 .
for n in 1 2 3 4 5 6 7; do
    "$TITO" module start "$n" >/dev/null 2>&1 || fail "module start $n"
    cp "$SRC/reference/src/$(name_of "$n").c" "modules/$(slug_of "$n")/$(name_of "$n").c"
done
/usr/bin/python3 "$SRC/tests/robustness/plant.py" spin "$SRC/reference/src/tensor.c" \
    modules/01_tensor/tensor.c MARK="$MARK" || { fail "plant"; finish; }
git -c user.name=t -c user.email=t@example.org commit -qam "modules 01-07, matmul spins" ||
    fail "commit"
head=$(git rev-parse HEAD)
cp .tito/progress.json "$TMP/progress.json"

# unchanged NAME: the workspace is as it was.
unchanged() {
    same "$1: no commit" "$(git rev-parse HEAD)" "$head"
    same "$1: nothing changed in the workspace" "$(git status --porcelain)" ""
    check "$1: the progress is as it was" cmp .tito/progress.json "$TMP/progress.json"
    refute "$1: no receipt" test -e .tito/results/01_tensor.json
    refute "$1: no milestone receipt" test -e .tito/results/milestone_01.json
}

interrupt "grade, SIGINT" INT 130 "$TITO" grade 01
unchanged "grade, SIGINT"

cp modules/01_tensor/tensor.c "$TMP/spin.c"
interrupt "dev grade --full, SIGTERM" TERM 143 "$TITO" dev grade 01 "$TMP/spin.c" --full

interrupt "milestone run, SIGINT" INT 130 "$TITO" milestone run 1
unchanged "milestone run, SIGINT"

finish
