#!/bin/sh
# tests/batch/t_fetch.sh TITO SOURCE_DIR: `tito grade --batch` against a git host that
# accepts connections and never answers (libgit2 itself would wait for as long as TCP
# lets it). With --fetch-timeout 2, the first student on that host is recorded with the
# reason in words, the second on the same host is not tried again, and a student whose
# repository is reachable is still fetched and graded. Ctrl-C while a fetch hangs stops
# tito at once (130), grading nothing.
#
# Nothing here measures time: the silent host never answers, so the deadline is what
# ends each fetch, and the Ctrl-C case waits for the host to see the connection.
. "$(dirname "$0")/lib.sh"

# A host that accepts every connection and says nothing; it writes the port to a file,
# then a line per connection to another.
cat >silent.py <<'EOF'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("connection\n")
EOF
/usr/bin/python3 silent.py port connections &
server=$!
trap 'kill $server 2>/dev/null' EXIT
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat port)
check "the silent host listens" test -n "$PORT"

COURSE=$TMP/course.json
make_course "$COURSE"
workspace s03
start s03 1
put s03 1 "$(reference 1)" $((DEADLINE - DAY))
{
    echo "id,name,email,repo"
    echo "s01,Student 1,s01@example.edu,http://127.0.0.1:$PORT/s01.git"
    echo "s02,Student 2,s02@example.edu,http://127.0.0.1:$PORT/s02.git"
    echo "s03,Student 3,s03@example.edu,s03"
} >roster.csv

expect "--fetch-timeout 0 is refused" 2 "$TITO" grade --batch roster.csv --course "$COURSE" --fetch-timeout 0
has "it says what it expects" "$TMP/err" "--fetch-timeout expects a number of seconds from 1 to 86400, not '0'"

expect "the batch finishes" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 01 \
    --jobs 1 --fetch-timeout 2
GB=grades/gradebook.json
m() { jq -r --arg id "$1" ".students[] | select(.id == \$id) | .modules[\"01_tensor\"].$2" $GB; }
same "s01: no repository" "$(m s01 status)" no-repository
same "s01: the host did not answer, in words" "$(m s01 message)" \
    "http://127.0.0.1:$PORT did not answer within 2 s (--fetch-timeout sets how long a fetch may take)"
same "s02: the same host is not tried again" "$(m s02 message)" \
    "http://127.0.0.1:$PORT did not answer within 2 s earlier in this run: not tried again (the next run fetches it)"
same "the host saw one connection, from s01" "$(wc -l <connections | tr -d ' ')" 1
same "s03 is still graded" "$(m s03 status)" graded
check "s03: full marks for the reference" test "$(m s03 earned)" = 100

# Ctrl-C while a fetch hangs: tito stops at once, grades nothing, says so.
rm -f connections
printf 'id,name,email,repo\ns01,Student 1,s01@example.edu,http://127.0.0.1:%s/s01.git\n' "$PORT" >one.csv
"$TITO" grade --batch one.csv --course "$COURSE" --modules 01 --out grades2 \
    --fetch-timeout 3600 >int.out 2>int.err &
pid=$!
i=0
while [ ! -s connections ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
check "the fetch reached the host" test -s connections
kill -INT $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
    fail "Ctrl-C did not stop the fetch"
    kill -KILL $pid
fi
wait $pid
same "interrupted while fetching: 130" "$?" 130
has "it says so" int.err "interrupted while fetching; nothing was graded"
check "no gradebook" test ! -e grades2/gradebook.json
finish
