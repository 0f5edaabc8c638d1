#!/bin/sh
# tests/engine/t_dev_grade.sh TITO SOURCE_DIR: `tito dev grade` from the outside:
# the report, the JSON receipt, and the exit statuses (0 all pass, 1 a check failed,
# 2 usage, 3+ grading could not run).
set -u
tito=$1
src=$2
out=$(mktemp -d /tmp/tito-dev-grade-XXXXXX)
trap 'rm -rf "$out"' EXIT
failed=0

fail() {
    echo "FAIL: $*" >&2
    failed=1
}

# expect STATUS CMD...: run CMD, keep its output in $out/stdout and $out/stderr.
expect() {
    want=$1
    shift
    "$@" >"$out/stdout" 2>"$out/stderr"
    got=$?
    if [ "$got" != "$want" ]; then
        fail "exit $got, expected $want: $*"
        cat "$out/stdout" "$out/stderr" >&2
    fi
}

contains() {
    grep -q -- "$2" "$out/$1" || { fail "$1 lacks '$2'"; cat "$out/$1" >&2; }
}

# The starter: builds, every check fails, with the reason under each one.
expect 1 "$tito" dev grade 01 "$src/student/01_tensor/tensor.c"
contains stdout "Module 01 · tensor"
contains stdout "✗ create.zeros"
contains stdout "status: expected TT_OK (success), got TT_ERR_NOT_IMPLEMENTED (not implemented yet)"
contains stdout "^0 of [0-9]* visible checks pass"

# The reference, a few checks, hidden ones too: everything passes; verbose timings.
expect 0 "$tito" dev grade tensor "$src/reference/src/tensor.c" -k view --hidden --seed 1f --verbose
contains stdout "✓ view.transpose"
contains stdout "hidden checks"
contains stdout "of [0-9]* hidden checks pass"
contains stdout "seed 0x000000000000001f"
contains stdout "phases: build [0-9.]* s, run and judge [0-9.]* s"
if grep -q "create.zeros" "$out/stdout"; then fail "-k view still shows create.zeros"; fi
# Hidden checks show their category and verdict only.
if grep -q "div.ieee_specials\|argmax.ties" "$out/stdout"; then fail "a hidden check's name leaked"; fi

# JSON: the receipt of the run.
expect 1 "$tito" dev grade 1 "$src/student/01_tensor/tensor.c" -k create.zeros --json
/usr/bin/python3 - "$out/stdout" <<'PY' || fail "--json is not a receipt"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "tito-receipt/1", r.get("schema")
PY

# Usage and system errors.
expect 2 "$tito" dev grade 01
expect 2 "$tito" dev grade 99 "$src/reference/src/tensor.c"
contains stderr "no module '99'"
expect 2 "$tito" dev grade 01 "$src/reference/src/tensor.c" --seed xyz
expect 2 "$tito" dev grade 01 "$src/student/01_tensor/tensor.c" -k no-such-check
contains stderr "no-such-check"
expect 3 "$tito" dev grade 01 /nonexistent/tensor.c
contains stderr "/nonexistent/tensor.c"
TITO_KIT=/nonexistent/kit expect 3 "$tito" dev grade 01 "$src/student/01_tensor/tensor.c"
contains stderr "TITO_KIT=/nonexistent/kit"

exit $failed
