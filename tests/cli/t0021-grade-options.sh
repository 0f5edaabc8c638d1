#!/bin/sh
# tito module test and tito grade: their options and exit statuses. 0 every check
# passes, 1 some check fails, 2+ the grade could not be made (not started, unknown
# module, no kit, a filter that matches nothing, bad options), each with its reason;
# --seed, -k, --json, --format gradescope|junit|csv, --output, partial grades that are
# not recorded, the default module, `tito grade all` and its table, and the progress bar
# on a terminal (and only there).
. "$(dirname "$0")/lib.sh"
need_jq

expect "grade outside a workspace" 2 "$TITO" grade 01
has "outside: says so" "$TMP/err" "not inside a tito workspace"

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1

# Nothing started yet.
expect "test before any start" 2 "$TITO" module test
has "before any start: what to do" "$TMP/err" "no module is started yet: run \`tito module start 01\` first"
expect "test 01 before starting it" 2 "$TITO" module test 01
has "not started: what to do" "$TMP/err" "module 01 (tensor) is not started: run \`tito module start 01\` first"
expect "grade 01 before starting it" 2 "$TITO" grade 01
has "grade, not started: what to do" "$TMP/err" "run \`tito module start 01\` first"
expect "grade all before any start" 2 "$TITO" grade all
expect "test an unknown module" 2 "$TITO" module test 42
has "unknown module: which exist" "$TMP/err" "no module 42: modules are 01.."

"$TITO" module start 01 >/dev/null 2>&1 && "$TITO" module start 02 >/dev/null 2>&1 ||
    { fail "module start"; finish; }
cp "$SRC/reference/src/tensor.c" modules/01_tensor/tensor.c

# The default module: the one worked on last.
expect "test without N: the last started" 1 "$TITO" module test
has "default: module 02" "$TMP/out" "Testing module 02 (activations), the one you worked on last"
touch -d "+1 minute" modules/01_tensor/tensor.c
expect "test without N: the last edited" 0 "$TITO" module test
has "default: module 01 after an edit" "$TMP/out" "Testing module 01 (tensor)"
expect "test --json without N: the note on stderr" 0 "$TITO" module test --json
has "default with --json: note on stderr" "$TMP/err" "Testing module 01"
check "default with --json: stdout is JSON" jq -e .schema "$TMP/out"

# Options and their refusals.
expect "-k that matches nothing" 2 "$TITO" module test 01 -k no-such-check
has "-k nothing: named" "$TMP/err" "no visible check of 01_tensor has \"no-such-check\" in its name"
expect "-k view." 0 "$TITO" module test 01 -k view. --json
same "-k view.: only the views" "$(jq -r '[.tests[].name | startswith("view.")] | unique | join(",")' "$TMP/out")" "true"
expect "--seed" 0 "$TITO" module test 01 --seed 0x1f -k create.
has "--seed: shown" "$TMP/out" "seed 0x000000000000001f"
expect "--seed not hex" 2 "$TITO" module test 01 --seed zz
has "--seed not hex: why" "$TMP/err" "--seed expects a hexadecimal number"
expect "--format unknown" 2 "$TITO" grade 01 --format xml
has "--format unknown: the formats" "$TMP/err" "gradescope, junit or csv"
expect "--json and --format" 2 "$TITO" grade 01 --json --format csv
expect "--output alone" 2 "$TITO" grade 01 --output x.json
has "--output alone: why" "$TMP/err" "add one of them"
expect "grade -k is refused" 2 "$TITO" grade 01 -k view
expect "grade all --format gradescope" 2 "$TITO" grade all --format gradescope
has "gradescope is one module" "$TMP/err" "--format gradescope renders one module"
expect "grade two modules" 2 "$TITO" grade 01 02

# The renderings, from quick partial grades (no Valgrind, no speed).
expect "partial grade: junit" 0 "$TITO" grade 01 --no-memcheck --no-speed --format junit
head -c 200 "$TMP/out" | grep -q "<?xml" && ok "junit: XML" || fail "junit: no XML declaration"
has "junit: a testsuite for the module" "$TMP/out" "<testsuite name=\"01_tensor\""
if command -v xmllint >/dev/null 2>&1; then
    check "junit: well-formed" xmllint --noout "$TMP/out"
fi
expect "partial grade: csv" 0 "$TITO" grade 01 --no-memcheck --no-speed --format csv
same "csv: the header" "$(head -n 1 "$TMP/out" | tr -d '\r' | cut -d, -f1-4)" "student,module,mode,earned"
same "csv: one row" "$(wc -l <"$TMP/out" | tr -d ' ')" 2
expect "partial grade: gradescope to a file" 0 "$TITO" grade 01 --no-memcheck --no-speed \
    --format gradescope --output "$TMP/results.json"
check "gradescope file: JSON with a score" jq -e '.score and (.tests | length > 0)' "$TMP/results.json"
has "gradescope file: the report still shown" "$TMP/out" "Module 01 · tensor"
has "partial: says it is not recorded" "$TMP/out" "Not recorded: a grade without memcheck is partial"
refute "partial: no receipt" test -e .tito/results/01_tensor.json
same "partial: no commit" "$(git log -1 --format=%s)" "tito: start module 02 (activations)"
same "partial: progress untouched" "$(jq -r '.modules["01_tensor"].last' .tito/progress.json)" "null"
expect "--output into a missing folder" 3 "$TITO" grade 01 --no-memcheck --no-speed --json --output "$TMP/no/such/dir/r.json"

# grade all: every started module, a table; 02 is the starter and fails.
expect "grade all (partial)" 1 "$TITO" grade all --no-memcheck --no-speed
has "all: a line for 01" "$TMP/out" "Module 01 · tensor"
has "all: a line for 02" "$TMP/out" "Module 02 · activations"
has "all: the table" "$TMP/out" "correctness  memory"
grep "^  01  " "$TMP/out" >"$TMP/line"
has "all: 01's row" "$TMP/line" "70/70"
grep "^  02  " "$TMP/out" >"$TMP/line"
has "all: 02's row" "$TMP/line" "0/85"
lacks "all: no row for 03" "$TMP/out" "  03  "
expect "grade all --json" 1 "$TITO" grade all --no-memcheck --no-speed --json
same "all --json: two receipts" "$(jq -r '[.[].module] | join(" ")' "$TMP/out")" "01_tensor 02_activations"

# A kit that is not there: exit 3 with its name.
expect "no kit" 3 env TITO_KIT="$TMP/nokit" "$TITO" module test 01
has "no kit: named" "$TMP/err" "TITO_KIT=$TMP/nokit"

# The progress bar: on a terminal only (script(1) gives tito one).
lacks "no bar in a pipe" "$TMP/err" "█"
if command -v script >/dev/null 2>&1; then
    TERM=xterm script -qec "\"$TITO\" grade 01 --no-speed" "$TMP/typescript" >/dev/null 2>&1
    has "a bar on a terminal" "$TMP/typescript" "grading 01 "
    has "the bar says what runs" "$TMP/typescript" "Valgrind memcheck"
    has "and how long is left" "$TMP/typescript" " left"
else
    fail "script(1) is missing (util-linux): cannot give tito a terminal"
fi

finish
