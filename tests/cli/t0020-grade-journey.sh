#!/bin/sh
# A new student's first module, as the README tells it: init, start 01, test the
# starter (every check fails, "not implemented"), paste the reference solution, test
# (every check passes), grade (100%, memcheck clean, speed by instruction counts so that
# the machine's load cannot change the points), the receipt and the progress commit; a
# planted broadcasting bug and what the report says about it; module complete refusing
# then accepting; Gradescope output; the same workspace graded twice, the same score.
. "$(dirname "$0")/lib.sh"
need_jq

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
expect "module start 01" 0 "$TITO" module start 01
src=modules/01_tensor/tensor.c

# The starter: every visible check fails, each saying the function is not implemented.
expect "test the starter: exit 1" 1 "$TITO" module test 01
has "starter: the header names the module" "$TMP/out" "Module 01 · tensor — visible checks"
has "starter: it built" "$TMP/out" "Building module 01 against the reference … ok"
has "starter: a failing check with its message" "$TMP/out" "✗ create.zeros"
has "starter: not implemented" "$TMP/out" "not implemented"
has "starter: where to start" "$TMP/out" "Start with \`creation\`"
grep -q "^0 of [0-9]* visible checks pass" "$TMP/out" && ok "starter: 0 checks pass" ||
    fail "starter: no '0 of N visible checks pass' line"
expect "test the starter --json: exit 1" 1 "$TITO" module test 01 --json
same "starter --json: mode test" "$(jq -r .mode "$TMP/out")" "test"
same "starter --json: no check passes" "$(jq '[.tests[] | select(.status == "pass")] | length' "$TMP/out")" 0
same "starter --json: every message says not implemented" \
    "$(jq '[.tests[] | select(.message | test("not implemented") | not)] | length' "$TMP/out")" 0
n_visible=$(jq '.tests | length' "$TMP/out")
check "starter --json: some visible checks" test "$n_visible" -gt 20
refute "module test writes no receipt" test -e .tito/results/01_tensor.json
same "module test commits nothing" "$(git log -1 --format=%s)" "tito: start module 01 (tensor)"

# Without N: the module worked on last.
expect "test without N" 1 "$TITO" module test
has "without N: says which" "$TMP/out" "Testing module 01 (tensor), the one you worked on last"

# module complete on the starter refuses, and says why.
expect "complete the starter: exit 1" 1 "$TITO" module complete 01 --deterministic
has "complete: not completed" "$TMP/out" "Module 01 (tensor) is not completed"
has "complete: the pass bar" "$TMP/out" "and the pass bar is 80 (80%)"
has "complete: the failing categories" "$TMP/out" "failing: creation"
same "complete: progress says started" "$(jq -r '.modules["01_tensor"].state' .tito/progress.json)" "started"
same "complete: the grade is recorded" "$(git log -1 --format=%s | sed 's/ [0-9]*\/100$//')" "tito: grade 01_tensor"

# The reference solution pasted in: every visible check passes.
cp "$SRC/reference/src/tensor.c" "$src"
expect "test the reference: exit 0" 0 "$TITO" module test 01
has "reference: all pass" "$TMP/out" "$n_visible of $n_visible visible checks pass"
has "reference: categories collapsed" "$TMP/out" "✓ creation ("
lacks "reference: no failing check" "$TMP/out" "✗"
has "reference: next is tito grade" "$TMP/out" "Next: \`tito grade 01\`"

# A planted bug: the broadcast shape takes a's size even where a has 1.
sed 's/shape\[d\] = sa == 1 ? sb : sa;/shape[d] = sa;/' "$SRC/reference/src/tensor.c" >"$src"
refute "the bug was planted" cmp -s "$src" "$SRC/reference/src/tensor.c"
expect "test the bug: exit 1" 1 "$TITO" module test 01
has "bug: the broadcasting check fails" "$TMP/out" "✗ mul.broadcast_both"
grep "mul.broadcast_both" "$TMP/out" >"$TMP/line"
has "bug: expected and got" "$TMP/line" "expected shape [3,4], got [3,1]"
has "bug: the check's own note" "$TMP/out" "both broadcast"
has "bug: other categories pass" "$TMP/out" "✓ creation ("
has "bug: where to start" "$TMP/out" "Start with \`elementwise\`"
expect "test -k broadcast" 1 "$TITO" module test 01 -k broadcast
lacks "-k: only the matching checks" "$TMP/out" "creation"
has "-k: the failing one" "$TMP/out" "✗ mul.broadcast_both"
has "-k: counts of the matching checks, no points" "$TMP/out" "visible checks matching 'broadcast' pass (points come from a run of every check)"

# The reference again: a full grade, 100%.
cp "$SRC/reference/src/tensor.c" "$src"
expect "grade the reference: exit 0" 0 "$TITO" grade 01 --deterministic
has "grade: the header" "$TMP/out" "Module 01 · tensor"
has "grade: the commit graded" "$TMP/out" "commit $(git rev-parse --short=7 HEAD~1) (uncommitted changes)"
has "grade: hidden checks by category" "$TMP/out" "hidden: ✓"
has "grade: memcheck clean" "$TMP/out" "no leaks, no invalid accesses (Valgrind)"
has "grade: speed by instructions" "$TMP/out" "matmul_512: 1.00× reference (instruction counts)"
grep "^  total" "$TMP/out" >"$TMP/line"
has "grade: 100 of 100" "$TMP/line" "100/100"
has "grade: the receipt" "$TMP/out" "Receipt: .tito/results/01_tensor.json"
has "grade: what next" "$TMP/out" "Next: tito module start 02"
lacks "grade: no hidden check named" "$TMP/out" "hidden."

# The receipt: valid, complete, and in the commit with the progress (not the sources).
r=.tito/results/01_tensor.json
check "receipt written" test -f "$r"
/usr/bin/python3 - "$r" "$(git rev-parse HEAD~1)" <<'PY' >"$TMP/py" 2>&1 && ok "receipt: fields check" || { fail "receipt: fields"; cat "$TMP/py"; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "tito-receipt/1" and r["module"] == "01_tensor" and r["mode"] == "grade", r
assert r["score"]["earned"] == r["score"]["possible"] == 100, r["score"]
assert r["build"]["status"] == "pass"
assert all(t["status"] == "pass" for t in r["tests"]), [t for t in r["tests"] if t["status"] != "pass"]
hidden = [t for t in r["tests"] if t["visibility"] == "hidden"]
assert hidden and all(t["name"].startswith("hidden.") for t in hidden)
assert r["memcheck"]["status"] == "clean" and r["memcheck"]["points"] == 15
p = r["perf"][0]
assert p["deterministic"] and p["status"] == "pass" and p["ratio"] == 1.0 and p["points"] == 15, p
v = r["provenance"]
assert v["commit"] == sys.argv[2] and v["dirty"] is True, v
assert v["source_path"] == "modules/01_tensor/tensor.c" and v["sources"]["tensor.c"].startswith("sha256:")
assert v["seed"].startswith("0x") and len(v["seed"]) == 18
assert set(r["timings"]) == {"build_s", "run_s", "memcheck_s", "perf_s"}
PY
same "grade: committed" "$(git log -1 --format=%s)" "tito: grade 01_tensor 100/100 (completed)"
same "grade: the commit holds the progress and the receipt" \
    "$(git show --name-only --format= HEAD | sort | tr '\n' ' ')" ".tito/progress.json .tito/results/01_tensor.json "
same "grade: the source stays uncommitted" "$(git status --porcelain -- modules | tr '\n' ' ')" " M $src "
same "grade: progress completed" "$(jq -r '.modules["01_tensor"].state' .tito/progress.json)" "completed"
same "grade: progress best" "$(jq -r '.modules["01_tensor"].best.earned' .tito/progress.json)" "100"
expect "status after the grade" 0 "$TITO" module status
grep "^  01 " "$TMP/out" >"$TMP/line"
has "status: 01 completed" "$TMP/line" "completed"
has "status: 01's best" "$TMP/line" "100/100"

# The same workspace graded again (the same seed, the same score), with Gradescope's
# results.json written on the side.
seed1=$(jq -r .provenance.seed "$r")
created1=$(jq -r .created_at "$r")
expect "grade again, gradescope to a file" 0 "$TITO" grade 01 --deterministic --format gradescope --output "$TMP/gs.json"
has "again: says where it wrote" "$TMP/out" "Wrote the gradescope to $TMP/gs.json."
has "again: the report too" "$TMP/out" "seed $seed1"
/usr/bin/python3 - "$TMP/gs.json" <<'PY' >"$TMP/py" 2>&1 && ok "gradescope: the fields" || { fail "gradescope: fields"; cat "$TMP/py"; }
import json, sys
g = json.load(open(sys.argv[1]))
assert g["score"] == 100, g["score"]
assert isinstance(g["execution_time"], (int, float)) and isinstance(g["output"], str)
assert g["tests"] and all({"name", "score", "max_score", "status", "output", "visibility"} <= set(t) for t in g["tests"])
# Case points are scaled to the correctness share in hundredths that add up to it
# exactly: the tests are worth the module's 100 points, and every one passed scores 100.
assert all(abs(t[k] * 100 - round(t[k] * 100)) < 1e-6 for t in g["tests"] for k in ("score", "max_score"))
cents = lambda k: sum(round(t[k] * 100) for t in g["tests"])
assert cents("max_score") == 10000 and cents("score") == 10000, (cents("max_score"), cents("score"))
assert all(t["name"].startswith("hidden.") for t in g["tests"] if t["visibility"] == "after_published")
PY
refute "again: a new receipt" test "$(jq -r .created_at "$r")" = "$created1"
same "again: the same seed" "$(jq -r .provenance.seed "$r")" "$seed1"
same "again: the same score" "$(jq -c '[.score.earned, .score.possible]' "$r")" "[100,100]"
same "again: the same verdicts" "$(jq -c '[.tests[].status] | unique' "$r")" '["pass"]'
same "again: the same speed" "$(jq -r '.perf[0].ratio' "$r")" "1"
same "again: committed" "$(git log -1 --format=%s)" "tito: grade 01_tensor 100/100"

# complete now: the module is completed.
expect "complete: exit 0" 0 "$TITO" module complete 01 --deterministic --json
same "complete --json: the receipt" "$(jq -r .schema "$TMP/out")" "tito-receipt/1"
has "complete: says so (on stderr with --json)" "$TMP/err" "Module 01 (tensor) was already completed: 100 of 100 points meet the pass bar"

finish
