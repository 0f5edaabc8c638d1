#!/bin/sh
# tito module status: the table and --json, with grades recorded in the progress
# file; fields written by a newer tito survive; colour only when asked for.
. "$(dirname "$0")/lib.sh"
need_jq

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
n=$(module_count)
s1=$(slug_of 1) s2=$(slug_of 2)

expect "status of a new workspace" 0 "$TITO" module status
has "status: the header" "$TMP/out" "#   module         state         best      last grade"
has "status: nothing completed" "$TMP/out" "0 of $n modules completed.  Next: tito module start 01"
expect "status --json" 0 "$TITO" module status --json
check "status --json is JSON" jq -e . "$TMP/out"
same "json: one entry per module" "$(jq '.modules | length' "$TMP/out")" "$n"
same "json: the workspace" "$(jq -r '.workspace' "$TMP/out")" "$TMP/ws"
same "json: the course" "$(jq -r '.course.id' "$TMP/out")" tinytorch-c-2026
same "json: nothing completed" "$(jq -r '.completed' "$TMP/out")" 0
same "json: no best yet" "$(jq -r '.modules[0].best' "$TMP/out")" null
same "json: not started" "$(jq -r '.modules[0].state' "$TMP/out")" not-started

"$TITO" module start 1 >/dev/null 2>&1 || fail "start 1"
"$TITO" module start 2 >/dev/null 2>&1 || fail "start 2"

# Grades as `tito grade` records them; plus fields of a newer tito.
jq --arg s1 "$s1" --arg s2 "$s2" '
  .future_field = {"kept": true}
  | .modules[$s1] += {"state": "completed", "completed_at": "2026-11-26T19:42:10Z",
      "best": {"earned": 92, "possible": 100, "at": "2026-11-26T19:42:10Z",
               "commit": "4c2a9e1b5d3f00112233445566778899aabbccdd"},
      "last": {"earned": 88, "possible": 100, "at": "2026-11-27T08:05:00Z",
               "commit": "5d3f4c2a9e1b00112233445566778899aabbccdd"},
      "submitted": "2026-11-27"}
  | .modules["99_future"] = {"state": "started"}' .tito/progress.json >"$TMP/p.json"
cp "$TMP/p.json" .tito/progress.json
expect "status with grades" 0 "$TITO" module status
grep "^  01  " "$TMP/out" >"$TMP/line.txt"
has "01: completed" "$TMP/line.txt" "completed"
has "01: best" "$TMP/line.txt" "92/100"
has "01: last grade, when and which commit" "$TMP/line.txt" "88/100  2026-11-27 08:05 UTC  5d3f4c2"
grep "^  02  " "$TMP/out" >"$TMP/line.txt"
has "02: started, never graded" "$TMP/line.txt" "started       -         -"
has "status: one completed, what next" "$TMP/out" "1 of $n modules completed.  Next: tito module test 02, then tito grade 02"
expect "status --json with grades" 0 "$TITO" module status --json
same "json: best earned" "$(jq -r '.modules[0].best.earned' "$TMP/out")" 92
same "json: last commit" "$(jq -r '.modules[0].last.commit' "$TMP/out")" 5d3f4c2a9e1b00112233445566778899aabbccdd
same "json: completed_at" "$(jq -r '.modules[0].completed_at' "$TMP/out")" 2026-11-26T19:42:10Z
same "json: started_at of 02 is set" "$(jq -r '.modules[1].started_at | test("^20[0-9-]+T[0-9:]+Z$")' "$TMP/out")" true
same "json: one completed" "$(jq -r '.completed' "$TMP/out")" 1

# A write by this tito keeps what it does not know.
"$TITO" module start 3 >/dev/null 2>&1 || fail "start 3"
same "unknown top-level field kept" "$(jq -c '.future_field' .tito/progress.json)" '{"kept":true}'
same "unknown module field kept" "$(jq -r --arg s "$s1" '.modules[$s].submitted' .tito/progress.json)" 2026-11-27
same "unknown module kept" "$(jq -r '.modules["99_future"].state' .tito/progress.json)" started
same "grades kept" "$(jq -r --arg s "$s1" '.modules[$s].best.earned' .tito/progress.json)" 92

# Colour: never into a pipe, on request with CLICOLOR_FORCE, never with NO_COLOR.
esc=$(printf '\033')
expect "status into a pipe" 0 env -u NO_COLOR "$TITO" module status
lacks "no colour into a pipe" "$TMP/out" "$esc"
expect "status with CLICOLOR_FORCE" 0 env -u NO_COLOR CLICOLOR_FORCE=1 "$TITO" module status
has "colour when forced" "$TMP/out" "$esc[32mcompleted"
expect "NO_COLOR wins" 0 env NO_COLOR=1 CLICOLOR_FORCE=1 "$TITO" module status
lacks "NO_COLOR: no colour" "$TMP/out" "$esc"
expect "--json is never coloured" 0 env -u NO_COLOR CLICOLOR_FORCE=1 "$TITO" module status --json
lacks "--json: no colour" "$TMP/out" "$esc"

expect "status takes no argument" 2 "$TITO" module status 3
has "status: names the extra argument" "$TMP/err" "unexpected argument '3'"

finish
