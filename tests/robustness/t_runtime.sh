#!/bin/sh
# tests/robustness/t_runtime.sh TITO SOURCE_DIR: `tito grade` on a module 01 whose
# functions misbehave, one misbehaviour per function (tests/robustness/plant.py):
# fake success lines and JSON, exit(0), an endless loop, sleeping (with a grandchild in
# its own session), a fork bomb, unbounded allocation, a stack overflow, an output
# flood, writes outside its directory, reading the workspace's .tito/ and the user's
# ~/.config/tito, connecting to a port the test listens on, signalling its parent, every
# process and its process group, and raising its own limits.
#
# Each gets the right verdict on its own case, every other visible case passes, and the
# grader finishes with a receipt. Afterwards: no process of the run is left, no file was
# written outside the run's directories, the temporary directory is empty, nobody
# connected, and processes outside (of root and of the sandbox's uid) survived.
. "$(dirname "$0")/../cli/lib.sh"
need_jq

MARK=rb$$
# The sandboxed child runs as uid 65534 when tito is root: let it reach the workspace
# (the control read) and the temporary directory; hidden things stay hidden by the
# sandbox, not by modes.
chmod 755 "$TMP" "$HOME"
mkdir -p "$TMP/tmp" "$HOME/.config/tito"
chmod 1777 "$TMP/tmp"
chmod 755 "$HOME/.config" "$HOME/.config/tito"
echo "a signing key the student must not read" >"$HOME/.config/tito/secret.key"
chmod 644 "$HOME/.config/tito/secret.key"
TMPDIR=$TMP/tmp
export TMPDIR

# A listener that writes down whoever connects, on a free port.
port_file=$TMP/port
/usr/bin/python3 - "$port_file" "$TMP/knocks" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(300)
try:
    while True:
        c, a = s.accept()
        open(sys.argv[2], "a").write("connection from %s\n" % (a,))
except OSError:
    pass
PY
listener=$!
# Canaries: processes outside the run, of root and of the sandbox's user.
sleep 600 &
canary_root=$!
canary_nobody=
if command -v setpriv >/dev/null 2>&1; then
    setpriv --reuid=65534 --regid=65534 --clear-groups sleep 600 &
    canary_nobody=$!
fi
trap 'kill $listener $canary_root $canary_nobody 2>/dev/null; rm -rf "$TMP"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$port_file" ] && break; sleep 0.2; done
port=$(cat "$port_file")
check "the listener is up" test -n "$port"

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
chmod 755 .
"$TITO" module start 01 >/dev/null 2>&1 || { fail "module start"; finish; }
/usr/bin/python3 "$SRC/tests/robustness/plant.py" runtime "$SRC/reference/src/tensor.c" \
    modules/01_tensor/tensor.c MARK="$MARK" OUTSIDE="$TMP/$MARK-outside.txt" WS="$TMP/ws" \
    HOME="$HOME" PORT="$port" || { fail "plant"; finish; }

expect "grade the misbehaving module: exit 1" 1 "$TITO" grade 01 --json
cp "$TMP/out" "$TMP/receipt.json"
check "stdout is one receipt" jq -e '.schema == "tito-receipt/1"' "$TMP/receipt.json"
lacks "the student's fake JSON is not tito's" "$TMP/receipt.json" "$MARK-json"
lacks "nor its fake lines" "$TMP/receipt.json" "all checks pass"
check "the receipt was written" test -f .tito/results/01_tensor.json
same "the score is not full" "$(jq '.score.earned < .score.possible' "$TMP/receipt.json")" "true"
same "the module built" "$(jq -r .build.status "$TMP/receipt.json")" "pass"

verdict() { jq -r --arg n "$1" '.tests[] | select(.name == $n) | .status' "$TMP/receipt.json"; }
message() { jq -r --arg n "$1" '.tests[] | select(.name == $n) | .message' "$TMP/receipt.json"; }
want() {
    same "$2: $1" "$(verdict "$1")" "$3"
}
want sub.scalar_tensor "fake success lines and JSON" fail
want view.slice_fill "exit(0) in a case" fail
case $(message view.slice_fill) in *"exit code 0 during this case"*) ok "exit(0): said so" ;;
    *) fail "exit(0): message: $(message view.slice_fill)" ;; esac
want argmax.axis1 "an endless loop" timeout
want div.broadcast_3d "sleeping" timeout
want create.full "a fork bomb" timeout
want create.scalar "unbounded allocation" memory-limit
want view.get_set "a stack overflow" crash
same "a stack overflow: SIGSEGV" "$(jq -r '.tests[] | select(.name == "view.get_set") | .signal' "$TMP/receipt.json")" 11
want broadcast_shape "an output flood" output-limit
want create.randn "writes outside its directory (refused)" pass
want create.from_data ".tito/ and ~/.config/tito hidden" pass
want sum_mean_all "the network (unreachable)" pass
want scalar_ops "signals to parent, everyone and its group" crash
want max.axis1 "raising its limits (refused)" pass
planted="sub.scalar_tensor view.slice_fill argmax.axis1 div.broadcast_3d create.full create.scalar view.get_set broadcast_shape scalar_ops"
others=$(jq -r --arg p " $planted " '[.tests[] | select(.visibility == "visible") | select(.name as $n | $p | contains(" " + $n + " ") | not) | select(.status != "pass") | .name] | join(" ")' "$TMP/receipt.json")
same "every other visible check passes" "$others" ""
same "speed was measured" "$(jq -r '.perf[0].status' "$TMP/receipt.json")" "pass"
jq -c '.memcheck | {status, message, findings: ((.leaks + .errors) | map(.case + ": " + .what))}' "$TMP/receipt.json" >"$TMP/memcheck"
echo "memcheck: $(cat "$TMP/memcheck")"
# The notes of memcheck name the cases it skipped; hidden ones only by category.
has "memcheck's note names skipped hidden checks publicly" "$TMP/memcheck" "case hidden."
lacks "no hidden check's name in the receipt" "$TMP/receipt.json" "div.ieee_specials"
lacks "no hidden check's name in the receipt (2)" "$TMP/receipt.json" "argmax.ties"

# The machine afterwards.
strays=
for d in /proc/[0-9]*; do
    comm=$(cat "$d/comm" 2>/dev/null) || continue
    cwd=$(readlink "$d/cwd" 2>/dev/null)
    case "$comm" in "$MARK"*) strays="$strays ${d#/proc/}:$comm" ;; esac
    case "$cwd" in "$TMPDIR"/*) strays="$strays ${d#/proc/}:$comm@$cwd" ;; esac
done
same "no process of the run is left" "$strays" ""
check "the root canary survived" kill -0 "$canary_root"
if [ -n "$canary_nobody" ]; then
    check "the canary of the sandbox's uid survived" kill -0 "$canary_nobody"
else
    fail "setpriv is missing: cannot run a canary as the sandbox's user"
fi
check "nobody connected to the listener" test ! -s "$TMP/knocks"
for f in "$TMP/$MARK-outside.txt" "$TMP/ws/$MARK-in-workspace.txt" "$TMP/ws/.tito/$MARK-in-dot-tito.txt" \
    "$HOME/$MARK-in-home.txt" "/tmp/$MARK-in-tmp.txt" "/dev/shm/$MARK-in-shm.txt" \
    "$TMPDIR/$MARK-next-to-workdir.txt"; do
    refute "not written: $f" test -e "$f"
done
found=$(find /tmp /dev/shm /var/tmp "$TMP" -name "$MARK-*" 2>/dev/null | tr '\n' ' ')
same "no file of the student's anywhere" "$found" ""
same "the temporary directory is empty" "$(ls -A "$TMPDIR")" ""
same "the secret is intact" "$(cat "$HOME/.config/tito/secret.key")" "a signing key the student must not read"

finish
