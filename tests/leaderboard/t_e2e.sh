# tests/leaderboard/t_e2e.sh: the leaderboard end to end, with the real programs.
#
#   LB_SERVER=path/to/tito-leaderboard sh t_e2e.sh TITO SOURCE_DIR
#
# A server on loopback with a course and two enrollment tokens; two students (each
# with a HOME of their own) make workspaces, grade module 01 (Ada with the reference
# solution, Grace with the starter), log in, submit, and see the ranking in the terminal,
# as JSON and on the page. Then what goes wrong: the server is down (the submission
# waits in the outbox and goes with the next `tito submit`), an answer is lost (the
# retry is not counted twice), a revoked key (refused, kept aside), a used token, an
# unreachable server at login, logging out. The server stops on SIGTERM with status 0.
. "$(dirname "$0")/../cli/lib.sh"
LB=${LB_SERVER:?set LB_SERVER to the tito-leaderboard program}
need_jq
command -v curl >/dev/null 2>&1 || { fail "curl is not installed"; finish; }
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# The students share the reference-probe cache: the same kit, graded once.
export XDG_CACHE_HOME=$TMP/cache
unset XDG_DATA_HOME XDG_STATE_HOME

DB=$TMP/lb.db
COURSE=tinytorch-c-2026
SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID"
        _status=$?
        SERVER_PID=
        return $_status
    fi
    return 0
}
trap 'stop_server; rm -rf "$TMP"' EXIT
# Killed (a closed pipe, Ctrl-C, a timeout): the server must not outlive the test.
trap 'exit 1' INT TERM HUP PIPE

# start_server [PORT] [OPTIONS...]: serve in the background, wait (bounded) for the port.
start_server() {
    _port=${1:-0}
    shift
    rm -f "$TMP/port"
    "$LB" serve --db "$DB" --port "$_port" --port-file "$TMP/port" --log "$TMP/server.log" "$@" &
    SERVER_PID=$!
    _i=0
    while [ ! -s "$TMP/port" ] && [ $_i -lt 500 ]; do
        sleep 0.02
        _i=$((_i + 1))
    done
    PORT=$(cat "$TMP/port" 2>/dev/null)
    [ -n "$PORT" ] || { fail "the server did not start"; cat "$TMP/server.log"; finish; }
    URL=http://127.0.0.1:$PORT
}

expect "course create" 0 "$LB" course create --db "$DB" "$COURSE" --title "TinyTorch-C 2026"
expect "token issue" 0 "$LB" token issue --db "$DB" --course "$COURSE" "Ada L." "Grace H."
cp "$TMP/out" "$TMP/tokens"
same "two tokens" "$(wc -l <"$TMP/tokens" | tr -d ' ')" 2
TOKEN_ADA=$(sed -n 1p "$TMP/tokens" | cut -f1)
TOKEN_GRACE=$(sed -n 2p "$TMP/tokens" | cut -f1)
start_server 0

# as STUDENT COMMAND...: run COMMAND in that student's workspace, as them (their own
# HOME: config, outbox); home STUDENT COMMAND...: the same in their home folder.
home() {
    _who=$1
    shift
    mkdir -p "$TMP/$_who"
    (HOME=$TMP/$_who && export HOME && cd "$TMP/$_who" && "$@")
}
as() {
    _who=$1
    shift
    (HOME=$TMP/$_who && export HOME && cd "$TMP/$_who/ws" && "$@")
}

# --- two students enroll, grade, submit ---------------------------------------------
expect "ada: init" 0 home ada "$TITO" init ws
expect "grace: init" 0 home grace "$TITO" init ws
expect "ada: module start" 0 as ada "$TITO" module start 01
expect "grace: module start" 0 as grace "$TITO" module start 01
cp "$SRC/reference/src/tensor.c" "$TMP/ada/ws/modules/01_tensor/tensor.c"
expect "ada: grade 01 (the reference solution)" 0 as ada "$TITO" grade 01
has "ada: a receipt" "$TMP/out" "Receipt: .tito/results/01_tensor.json"
expect "grace: grade 01 (the starter)" 1 as grace "$TITO" grade 01
check "grace: a receipt" test -f "$TMP/grace/ws/.tito/results/01_tensor.json"

expect "ada: submit before login" 2 as ada "$TITO" submit
has "ada: told to log in" "$TMP/err" "tito login"

expect "ada: login" 0 as ada "$TITO" login "$URL" "$TOKEN_ADA"
has "ada: logged in under the token's name" "$TMP/out" "as Ada L., course TinyTorch-C 2026"
same "ada: key file mode 600" "$(stat -c %a "$TMP/ada/.config/tito/identity.json")" 600
same "ada: key folder mode 700" "$(stat -c %a "$TMP/ada/.config/tito")" 700
expect "grace: login with a chosen name" 0 as grace "$TITO" login "$URL/" "$TOKEN_GRACE" --name "Grace <Hopper>"
has "grace: the name" "$TMP/out" "as Grace <Hopper>"
expect "grace: login again" 1 as grace "$TITO" login "$URL" "$TOKEN_GRACE"
has "grace: already logged in" "$TMP/err" "already logged in"

expect "ada: submit" 0 as ada "$TITO" submit
has "ada: accepted" "$TMP/out" "accepted 100/100, self-reported"
has "ada: rank" "$TMP/out" "Rank 1 of 1"
has "ada: her page" "$TMP/out" "Page: $URL/c/$COURSE/s/"
expect "grace: submit 01" 0 as grace "$TITO" submit 01
has "grace: accepted" "$TMP/out" "accepted 0/100"
has "grace: rank" "$TMP/out" "Rank 2 of 2"
expect "ada: submit again (unchanged)" 0 as ada "$TITO" submit
has "ada: nothing new" "$TMP/out" "unchanged since it was accepted"
expect "ada: submit a module without a receipt" 1 as ada "$TITO" submit 02
has "ada: which receipt" "$TMP/err" "no receipt"

expect "grace: leaderboard" 0 as grace "$TITO" leaderboard
has "grace: Ada first" "$TMP/out" "    1  Ada L."
has "grace: herself marked" "$TMP/out" ">    2  Grace <Hopper>"
has "grace: the page" "$TMP/out" "Page: $URL/c/$COURSE"
expect "ada: leaderboard --json" 0 as ada "$TITO" leaderboard --json
same "json: Ada ranks 1" "$(jq -r '.students[0].name + " " + (.students[0].rank|tostring) + " " + (.students[0].total.earned|tostring)' "$TMP/out")" "Ada L. 1 100"
same "json: Grace ranks 2" "$(jq -r '.students[1].rank' "$TMP/out")" 2
same "json: self-reported" "$(jq -r '.students[0].modules["01_tensor"].status' "$TMP/out")" "self-reported"
curl -s "$URL/c/$COURSE" >"$TMP/page.html"
has "page: Ada" "$TMP/page.html" "Ada L."
has "page: Grace, escaped" "$TMP/page.html" "Grace &lt;Hopper&gt;"

# --- the server is down: queued, then sent ------------------------------------------
expect "server stops on SIGTERM" 0 stop_server
expect "ada: submit --again while down" 7 as ada "$TITO" submit --again
has "ada: queued" "$TMP/out" "queued: cannot reach $URL"
has "ada: will be sent" "$TMP/out" "the next \`tito submit\` sends it"
same "ada: one entry in the outbox" "$(ls "$TMP/ada/.local/share/tito/outbox" | grep -c '\.json$')" 1
start_server "$PORT"
expect "ada: submit sends the queued one" 0 as ada "$TITO" submit
has "ada: the queued one accepted" "$TMP/out" "accepted 100/100"
same "ada: the outbox is empty" "$(ls "$TMP/ada/.local/share/tito/outbox" | grep -c '\.json$')" 0
KEY_ADA=$(jq -r .key_id "$TMP/ada/.config/tito/identity.json")
history_length() { curl -s "$URL/api/v1/courses/$COURSE/students/$1" | jq '.student.history | length'; }
same "server: Ada has 2 submissions" "$(history_length "$KEY_ADA")" 2

# --- an answer is lost: the retry is not counted twice -------------------------------
stop_server
start_server "$PORT" --drop-acks 1
expect "ada: submit, answer lost" 7 as ada "$TITO" submit --again
has "ada: queued after the lost answer" "$TMP/out" "queued"
expect "ada: submit again" 0 as ada "$TITO" submit
has "ada: the server had it" "$TMP/out" "(the server had it already)"
same "server: Ada has 3 submissions, not 4" "$(history_length "$KEY_ADA")" 3

# --- refusals ---------------------------------------------------------------------
KEY_GRACE=$(jq -r .key_id "$TMP/grace/.config/tito/identity.json")
expect "admin: revoke Grace's key" 0 "$LB" key revoke --db "$DB" "$KEY_GRACE"
expect "grace: submit with a revoked key" 1 as grace "$TITO" submit --again
has "grace: rejected" "$TMP/out" "rejected: HTTP 403 revoked_key"
same "grace: kept aside" "$(ls "$TMP/grace/.local/share/tito/outbox/rejected" | grep -c '\.json$')" 1
same "grace: nothing waits" "$(ls "$TMP/grace/.local/share/tito/outbox" | grep -c '\.json$')" 0
expect "someone else: a used token" 1 home eve "$TITO" login "$URL" "$TOKEN_ADA"
has "eve: token used" "$TMP/err" "token_used"
check "eve: no key left behind" test ! -e "$TMP/eve/.config/tito/identity.json"
expect "eve: an unreachable server" 7 home eve "$TITO" login http://127.0.0.1:1 tlb_whatever
has "eve: key kept for the retry" "$TMP/err" "run the same command again"
same "eve: pending identity" "$(jq -r .enrolled "$TMP/eve/.config/tito/identity.json")" false
expect "eve: a bad URL" 2 home eve "$TITO" login ftp://x tlb_whatever

expect "ada: logout" 0 as ada "$TITO" logout
has "ada: forgot the key" "$TMP/out" "forgot key"
check "ada: identity gone" test ! -e "$TMP/ada/.config/tito/identity.json"
expect "ada: submit after logout" 2 as ada "$TITO" submit

expect "server stops cleanly" 0 stop_server
has "log: a line per request" "$TMP/server.log" "POST /api/v1/submissions 201"
has "log: the stop" "$TMP/server.log" "stopped"
finish
