#!/bin/sh
# A course that unlocks modules in order: module N needs module N-1 completed.
. "$(dirname "$0")/lib.sh"
need_jq

sed 's/"unlock_in_order": false/"unlock_in_order": true/' "$SRC/grader/course/default.json" >ordered.json
grep -q '"unlock_in_order": true' ordered.json || fail "the ordered course file was not made"
export TITO_COURSE=$TMP/ordered.json
"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
n1=$(name_of 1) n2=$(name_of 2) s1=$(slug_of 1) s2=$(slug_of 2)

expect "start 2 before 1: refused" 1 "$TITO" module start 2
has "locked: says why" "$TMP/err" \
    "tito: error: module 02 ($n2) is locked: this course unlocks modules in order, and module 01 ($n1) is not completed yet (it is not started)"
has "locked: says how to unlock" "$TMP/err" "Complete module 01 first: a \`tito grade 01\` with at least 80% of its points completes it."
refute "locked: nothing written" test -e "modules/$s2"
same "locked: no commit" "$(git rev-list --count HEAD)" 1

expect "module list" 0 "$TITO" module list
grep "^  02  " "$TMP/out" >"$TMP/line.txt"
has "list: 02 is locked" "$TMP/line.txt" "locked"
has "list: explains the order" "$TMP/out" "This course unlocks modules in order"
expect "module list --json" 0 "$TITO" module list --json
same "json: 02 locked" "$(jq -r '.modules[1].state' "$TMP/out")" locked
same "json: locked by 01" "$(jq -r '.modules[1].locked_by' "$TMP/out")" "$s1"
same "json: 01 not locked" "$(jq -r '.modules[0].locked_by' "$TMP/out")" null

expect "start 1" 0 "$TITO" module start 1
expect "start 2 while 1 is only started: refused" 1 "$TITO" module start 2
has "still locked: 01 is started" "$TMP/err" "module 01 ($n1) is not completed yet (it is started)"

# A grade that meets the bar completes module 01 (simulated in the progress file, as
# `tito grade` records it), which opens module 02.
sed 's/"state": "started"/"state": "completed"/' .tito/progress.json >"$TMP/p.json"
cp "$TMP/p.json" .tito/progress.json
expect "start 2 once 1 is completed" 0 "$TITO" module start 2
check "02 written" test -f "modules/$s2/$n2.c"
expect "start 4 (03 not completed)" 1 "$TITO" module start 4
has "04 waits for 03" "$TMP/err" "module 03 ($(name_of 3)) is not completed yet (it is not started)"

# The default course opens every module at once.
unset TITO_COURSE
cd "$TMP" && "$TITO" init free >/dev/null 2>&1 && cd free || { fail "init free"; finish; }
expect "default course: any module can be started" 0 "$TITO" module start "$(module_count)"

finish
