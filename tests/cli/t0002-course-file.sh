#!/bin/sh
# Course files: a malformed --course file is refused with the exact field and reason
# (exit 4, nothing made); a good one is used and copied into the workspace; defaults
# fill what is optional; TITO_COURSE names a course file too, and --course wins.
. "$(dirname "$0")/lib.sh"

default=$SRC/grader/course/default.json
s1=$(slug_of 1) s2=$(slug_of 2) s3=$(slug_of 3)

# bad NAME EXPECTED-MESSAGE: `tito init` with $TMP/NAME.json must fail with exit 4,
# print exactly "tito: error: course file NAME.json: EXPECTED-MESSAGE" (its start),
# and make nothing.
bad() {
    expect "refused: $1" 4 "$TITO" init "ws-$1" --course "$1.json"
    has "refused: $1: message" "$TMP/err" "tito: error: course file $1.json: $2"
    refute "refused: $1: nothing made" test -e "ws-$1"
}

# edit NAME SED-SCRIPT: NAME.json is the default course edited by SED-SCRIPT, which
# must change something (else the test would test the default).
edit() {
    sed "$2" "$default" >"$1.json"
    if cmp -s "$1.json" "$default"; then fail "edit $1: the sed script changed nothing"; fi
}

edit weight "s/\"slug\": \"$s3\", \"weight\": 1/\"slug\": \"$s3\", \"weight\": \"ten\"/"
bad weight 'modules[2].weight: expected a number, got "ten"'

edit unknown 's/"unlock_in_order": false/"unlock_in_ordr": true/'
bad unknown 'unlock_in_ordr: unknown field (the fields here are: schema, id, title, term, unlock_in_order, limits, leaderboard, late_policy, modules)'

edit noslug "s/\"slug\": \"$s2\"/\"slug\": \"02_convolutions\"/"
bad noslug 'modules[1].slug: no module "02_convolutions" in the module table'

edit nameslug "s/\"slug\": \"$s2\"/\"slug\": \"$(name_of 2)\"/"
bad nameslug "modules[1].slug: \"$(name_of 2)\" is not a slug: write \"$s2\""

edit twice "s/\"slug\": \"$s2\"/\"slug\": \"$s1\"/"
bad twice "modules[1].slug: module \"$s1\" is listed twice (also in modules[0])"

edit schema 's|tito-course/1|tito-course/2|'
bad schema 'schema: "tito-course/2" is not a schema this tito reads (it reads "tito-course/1")'

sed '$d' "$default" >notjson.json
expect "refused: not JSON" 4 "$TITO" init ws-notjson --course notjson.json
has "not JSON: file, line and reason" "$TMP/err" "tito: error: course file notjson.json:$(wc -l <"$default" | tr -d " "):0: not valid JSON: '}' expected"
refute "not JSON: nothing made" test -e ws-notjson

edit passbar 's/"pass_bar": 0.8/"pass_bar": 80/'
bad passbar 'modules[0].pass_bar: expected a number above 0 and at most 1, got 80'

edit band 's/{"min_ratio": 0.2, "points": 15}/{"min_ratio": 0.2, "points": 20}/'
bad band "modules[0].speed_bands[0].points: 20 is more than the module's speed points (15)"

edit url 's|"url": ""|"url": "lb.example.com"|'
bad url 'leaderboard.url: expected an http:// or https:// address'

edit id 's/"id": "tinytorch-c-2026"/"id": "My Course"/'
bad id 'id: "My Course" is not a course id: use lower-case letters'

edit cpu 's/"cpu_s": 10/"cpu_s": "10"/'
bad cpu 'limits.cpu_s: expected a whole number, got "10"'

edit points 's/"correctness": 70/"correctness": 70.5/'
bad points 'modules[0].points.correctness: expected a whole number, got 70.5'

echo '{"schema": "tito-course/1", "id": "x", "title": "X", "modules": []}' >nomodules.json
bad nomodules "modules: no entry for module \"$s1\""

echo '{"schema": "tito-course/1", "id": "x", "modules": []}' >notitle.json
bad notitle 'title: missing (a string is required)'

echo '[1, 2]' >array.json
bad array 'expected an object at the top level, got an array'

expect "a course file that is not there" 3 "$TITO" init ws-missing --course nope.json
has "missing file: named, with the reason" "$TMP/err" "course file nope.json: cannot open nope.json: No such file or directory"
refute "missing file: nothing made" test -e ws-missing

# A course of its own: used, copied, named in the first commit.
edit custom 's/"id": "tinytorch-c-2026"/"id": "ml-systems-fall"/; s/"title": "TinyTorch-C 2026"/"title": "ML Systems, Fall"/'
expect "init with --course" 0 "$TITO" init ws --course custom.json
has "init names the course" "$TMP/out" "(course: ML Systems, Fall,"
check "the workspace keeps the course file" cmp custom.json ws/tito-course.json
has "progress has the course id" ws/.tito/progress.json '"course": "ml-systems-fall"'
same "first commit names the course" "$(g ws log -1 --format=%s)" "tito: start workspace for ML Systems, Fall"
(cd ws && "$TITO" module list --course ../custom.json >"$TMP/out" 2>"$TMP/err")
same "commands in it take --course" "$?" 0
has "module list shows the course" "$TMP/out" "ML Systems, Fall (ml-systems-fall)"

# Defaults: a course file with only what is required.
need_jq
{
    printf '{"schema": "tito-course/1", "id": "minimal", "title": "Minimal", "modules": ['
    sep=""
    for i in $(seq 1 "$(module_count)"); do
        printf '%s{"slug": "%s"}' "$sep" "$(slug_of "$i")"
        sep=", "
    done
    printf ']}\n'
} >minimal.json
expect "a minimal course file" 0 "$TITO" module list --json --course minimal.json
same "default weight" "$(jq -r '.modules[0].weight' "$TMP/out")" 1
same "default points: 70 + 15 + 15" "$(jq -r '.modules[0].possible' "$TMP/out")" 100
same "default pass bar" "$(jq -r '.modules[0].pass_bar' "$TMP/out")" 0.8
same "default: modules open in any order" "$(jq -r '.course.unlock_in_order' "$TMP/out")" false
same "default term" "$(jq -r '.course.term' "$TMP/out")" ""

# TITO_COURSE, and --course over it.
expect "TITO_COURSE names the course" 0 env TITO_COURSE=minimal.json "$TITO" module list
has "TITO_COURSE used" "$TMP/out" "Minimal (minimal)"
expect "--course wins over TITO_COURSE" 0 env TITO_COURSE=minimal.json "$TITO" module list --course custom.json
has "--course used" "$TMP/out" "ML Systems, Fall (ml-systems-fall)"
expect "a bad TITO_COURSE is refused" 4 env TITO_COURSE=weight.json "$TITO" module list
has "bad TITO_COURSE: the field" "$TMP/err" 'course file weight.json: modules[2].weight'

finish
