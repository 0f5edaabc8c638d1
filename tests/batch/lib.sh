# tests/batch/lib.sh: what the batch-grading tests share. Sourced as
#     . "$(dirname "$0")/lib.sh"
# by a script run as `sh t_what.sh TITO SOURCE_DIR`. On top of tests/cli/lib.sh (a
# throwaway $TMP as the current directory, a private HOME, assertions, finish) it makes
# student workspaces the way students make them (tito init, tito module start, then
# their own commits, with the dates the test chooses), and course files with deadlines.
. "$(dirname "$0")/../cli/lib.sh"
need_jq

# Reference probes linked once for all the batch tests, not in the user's cache.
export XDG_CACHE_HOME="${TITO_TEST_CACHE:-$TMP/cache}"
export GIT_AUTHOR_NAME="A Student" GIT_AUTHOR_EMAIL="student@example.edu"
export GIT_COMMITTER_NAME="A Student" GIT_COMMITTER_EMAIL="student@example.edu"
DAY=86400
NOW=$(date +%s)
# Deadlines are in the future: tito's own commits (init, module start) are dated now,
# so they come before every deadline, as a student's would. Whole hours keep them tidy.
DEADLINE=$(( (NOW / 3600 + 30 * 24) * 3600 ))

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# make_course FILE [JQ-FILTER]: the built-in course with module deadlines (01: DEADLINE,
# 02: DEADLINE + 7 days, 04: DEADLINE + 14 days), a late policy (1 grace day, 10% a day,
# at most 50%, nothing after 5 days; s06 has 3 more days on 01), then FILTER.
make_course() {
    # Only the modules of this tito's table (a course file and the table change
    # together; a tito built between the two still gets a course it reads).
    _slugs=$("$TITO" module list --json | jq -r '[.modules[].slug] | join(" ")')
    jq --arg slugs "$_slugs" --arg d1 "$(iso "$DEADLINE")" --arg d2 "$(iso $((DEADLINE + 7 * DAY)))" \
       --arg d4 "$(iso $((DEADLINE + 14 * DAY)))" '
      .id = "batch-test" | .title = "Batch test" |
      .modules |= map(select(.slug as $s | $slugs | split(" ") | index($s))) |
      .late_policy = {grace_days: 1, penalty_per_day: 10, penalty_cap: 50, max_late_days: 5,
                      extensions: [{student: "s06", module: "01_tensor", days: 3}]} |
      .modules |= map(if .slug == "01_tensor" then .deadline = $d1
                      elif .slug == "02_activations" then .deadline = $d2
                      elif .slug == "04_losses" then .deadline = $d4 else . end)
      | '"${2:-.}" "$SRC/grader/course/default.json" >"$1" || fail "make_course $1"
}

# workspace DIR: `tito init DIR` with the test's course.
workspace() {
    "$TITO" init "$1" --course "$COURSE" >/dev/null 2>&1 || fail "tito init $1"
}

# start DIR N: `tito module start N` in workspace DIR.
start() {
    (cd "$1" && "$TITO" module start "$2" --course "$COURSE" >/dev/null 2>&1) || fail "module start $2 in $1"
}

# put DIR N FILE WHEN [MESSAGE]: the student's module N source becomes FILE, committed
# at WHEN (seconds since the epoch, for author and committer).
put() {
    _dir=$1 _slug=$(slug_of "$2") _name=$(name_of "$2")
    mkdir -p "$_dir/modules/$_slug"
    cp "$3" "$_dir/modules/$_slug/$_name.c"
    git -C "$_dir" add "modules/$_slug/$_name.c"
    GIT_AUTHOR_DATE="@$4 +0000" GIT_COMMITTER_DATE="@$4 +0000" \
        git -C "$_dir" commit -q -m "${5:-work on module $2}" || fail "commit in $_dir"
}

# reference N: the reference source of module N.
reference() { echo "$SRC/reference/src/$(name_of "$1").c"; }

# mutate IN OUT OLD NEW [OLD NEW ...]: IN with each OLD (literal text) replaced by NEW,
# written to OUT; a missing OLD fails the test (the mutation would test nothing).
mutate() {
    _in=$1 _out=$2
    shift 2
    cp "$_in" "$_out.tmp"
    while [ $# -ge 2 ]; do
        OLD=$1 NEW=$2 perl -0pi -e '$n = s/\Q$ENV{OLD}\E/$ENV{NEW}/; die "not found\n" unless $n' \
            "$_out.tmp" || fail "mutation target not found: $1"
        shift 2
    done
    mv "$_out.tmp" "$_out"
}

# unsolve IN OUT FUNCTION...: IN with the solution region of each FUNCTION replaced by
# `return TT_NOT_IMPLEMENTED();`, as the starter has it: a student who did not write it.
unsolve() {
    _in=$1 _out=$2
    shift 2
    cp "$_in" "$_out.tmp"
    for _f in "$@"; do
        FN=$_f perl -0pi -e '$n = s#(\ntt_status \Q$ENV{FN}\E\([^{]*\{.*?)/\* BEGIN SOLUTION \*/.*?/\* END SOLUTION \*/#${1}return TT_NOT_IMPLEMENTED();#s; die "no region\n" unless $n' \
            "$_out.tmp" || fail "no solution region in $_f"
    done
    mv "$_out.tmp" "$_out"
}

# field STUDENT JQ-PATH [GRADEBOOK]: a value of a student's gradebook entry.
field() {
    jq -r --arg id "$1" ".students[] | select(.id == \$id) | $2" "${3:-grades/gradebook.json}"
}

# leaderboard_up: a tito-leaderboard ($LB_SERVER) on loopback with the course
# $LBCOURSE, its key in $TMP/course.key and tokens for Ada and Grace ($TOKEN_ADA,
# $TOKEN_GRACE); $URL is its address; stop_server stops it (also at exit). Then
# `as STUDENT COMMAND...` runs COMMAND in $TMP/STUDENT/ws with that student's HOME.
leaderboard_up() {
    LB=${LB_SERVER:?set LB_SERVER to the tito-leaderboard program}
    export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
    unset XDG_DATA_HOME XDG_STATE_HOME XDG_CONFIG_HOME
    DB=$TMP/lb.db
    LBCOURSE=tinytorch-c-2026
    SERVER_PID=
    trap 'stop_server; rm -rf "$TMP"' EXIT
    expect "course create" 0 "$LB" course create --db "$DB" "$LBCOURSE" --title "TinyTorch-C 2026"
    expect "course key" 0 "$LB" course key --db "$DB" "$LBCOURSE" --generate "$TMP/course.key"
    expect "tokens" 0 "$LB" token issue --db "$DB" --course "$LBCOURSE" "Ada" "Grace"
    TOKEN_ADA=$(sed -n 1p out | cut -f1)
    TOKEN_GRACE=$(sed -n 2p out | cut -f1)
    "$LB" serve --db "$DB" --port 0 --port-file "$TMP/port" --log "$TMP/server.log" &
    SERVER_PID=$!
    _i=0
    while [ ! -s "$TMP/port" ] && [ $_i -lt 500 ]; do sleep 0.02; _i=$((_i + 1)); done
    URL=http://127.0.0.1:$(cat "$TMP/port")
}

stop_server() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID"
    SERVER_PID=
}

as() {
    _who=$1
    shift
    (HOME=$TMP/$_who && export HOME && cd "$TMP/$_who/ws" && "$@")
}
