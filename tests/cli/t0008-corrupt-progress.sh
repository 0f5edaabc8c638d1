#!/bin/sh
# A corrupt .tito/progress.json: every command stops with the path, the reason and how
# to get the file back from git (exit 4), and writes nothing; the advice works.
. "$(dirname "$0")/lib.sh"

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
"$TITO" module start 1 >/dev/null 2>&1 || fail "start 1"
s1=$(slug_of 1)
p=$TMP/ws/.tito/progress.json

printf '{"schema": "tito-progress/1", "course": ' >.tito/progress.json
for cmd in "module status" "module list" "module start 2" "module reset 1 --yes"; do
    # shellcheck disable=SC2086
    expect "truncated: tito $cmd exits 4" 4 "$TITO" $cmd
    has "truncated: tito $cmd names the file and the reason" "$TMP/err" "tito: error: $p: not valid JSON (line 1, column"
    has "truncated: tito $cmd says how to recover" "$TMP/err" \
        "your progress is in git: \`git -C $TMP/ws checkout HEAD -- .tito/progress.json\` restores the last committed copy"
done
refute "nothing written for module 2" test -e "modules/$(slug_of 2)"
same "no commit while corrupt" "$(git log -1 --format=%s)" "tito: start module 01 ($(name_of 1))"
same "no backup branch while corrupt" "$(git branch --list 'backup/*')" ""

git checkout HEAD -- .tito/progress.json
expect "after the advice: status works" 0 "$TITO" module status
grep "^  01  " "$TMP/out" >"$TMP/line.txt"
has "after the advice: the progress is back" "$TMP/line.txt" "started"

# Valid JSON with a wrong field: the field is named.
sed 's/"state": "started"/"state": 5/' .tito/progress.json >"$TMP/p.json" && cp "$TMP/p.json" .tito/progress.json
expect "wrong type: exit 4" 4 "$TITO" module status
has "wrong type: names the field" "$TMP/err" "$p: modules.$s1.state: expected \"not-started\", \"started\" or \"completed\""
git checkout HEAD -- .tito/progress.json

sed 's|tito-progress/1|tito-progress/9|' .tito/progress.json >"$TMP/p.json" && cp "$TMP/p.json" .tito/progress.json
expect "newer schema: exit 4" 4 "$TITO" module status
has "newer schema: says so" "$TMP/err" "$p: schema: expected \"tito-progress/1\" (was it written by a newer tito?)"
git checkout HEAD -- .tito/progress.json

echo '[]' >.tito/progress.json
expect "not an object: exit 4" 4 "$TITO" module status
has "not an object: says so" "$TMP/err" "$p: expected a JSON object at the top level"

finish
