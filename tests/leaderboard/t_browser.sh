# tests/leaderboard/t_browser.sh: the leaderboard page in headless Chromium.
#
#   sh t_browser.sh LB_SERVER LB_SEED ARTIFACT_DIR
#
# Seeds a database with a class (lb-seed), serves it on loopback, and loads the pages in
# Chromium (the page has no script, and its policy forbids any): the DOM Chromium
# built must hold the ranking table with every student in the server's order (as the
# JSON API gives it), a sorted view through the header links, the three SVG charts
# with their bars, the student page's progress, and the hostile name as text, never
# as an element. Screenshots of both pages are kept in ARTIFACT_DIR
# (leaderboard-course.png, leaderboard-student.png).
#
# Exit 77 (skipped) when Chromium is not installed: scripts/deps.sh installs it.
set -u
LB=${1:?usage: sh t_browser.sh LB_SERVER LB_SEED ARTIFACT_DIR}
SEED=${2:?}
ART=${3:?}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "chromium is not installed (scripts/deps.sh installs it): skipped"
    exit 77
fi
command -v jq >/dev/null 2>&1 || { echo "FAIL jq is not installed"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tito-lb-browser-XXXXXX") || exit 2
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
mkdir -p "$ART"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
same() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', expected '$3'"; fi; }
has() { if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1: no \"$3\" in $2"; fi; }
lacks() { if grep -qF -- "$3" "$2"; then fail "$1: unexpected \"$3\""; else ok "$1"; fi; }

"$SEED" "$TMP/lb.db" >"$TMP/seed.txt" || { echo "FAIL lb-seed"; exit 1; }
TOP=$(sed -n 1p "$TMP/seed.txt")
COUNT=$(sed -n 2p "$TMP/seed.txt")
"$LB" serve --db "$TMP/lb.db" --port 0 --port-file "$TMP/port" --log "$TMP/server.log" &
SERVER_PID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
[ -s "$TMP/port" ] || { echo "FAIL the server did not start"; cat "$TMP/server.log"; exit 1; }
URL=http://127.0.0.1:$(cat "$TMP/port")
COURSE=tinytorch-c-2026

# chrome OUT ARGS...: headless Chromium with a profile of its own and no proxy, bounded
# by timeout. (Chromium cannot dump a DOM with scripting turned off, so "works without
# JavaScript" is checked as: the page has no script, and its Content-Security-Policy
# would refuse one.)
chrome() {
    _out=$1
    shift
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --disable-background-networking --disable-component-update --disable-sync --no-first-run \
        --no-default-browser-check --no-proxy-server --hide-scrollbars \
        --user-data-dir="$TMP/profile" "$@" >"$_out" 2>"$TMP/chrome.err"
}

# The server's own ranking, for comparison.
curl -s "$URL/api/v1/courses/$COURSE/ranking" >"$TMP/ranking.json"
jq -r '.students[].name' "$TMP/ranking.json" >"$TMP/want_names.txt"
same "api: the seeded top student first" "$(sed -n 1p "$TMP/want_names.txt")" "$TOP"

curl -s -D "$TMP/headers.txt" -o "$TMP/served.html" "$URL/c/$COURSE"
has "http: scripts forbidden" "$TMP/headers.txt" "Content-Security-Policy: default-src 'none'"
lacks "http: no script in the page" "$TMP/served.html" "<script"

chrome "$TMP/dom.html" --dump-dom "$URL/c/$COURSE" || { fail "chromium --dump-dom"; cat "$TMP/chrome.err"; }
has "dom: the title" "$TMP/dom.html" "<h1 id=\"course-title\">TinyTorch-C 2026</h1>"
has "dom: the ranking table" "$TMP/dom.html" "id=\"ranking-table\""
same "dom: a row per student" "$(grep -c '<tr data-key=' "$TMP/dom.html")" "$COUNT"
# Names in row order, as Chromium parsed them (its DOM re-serialises entities).
sed -n 's/.*<td class="name"><a href="[^"]*">\([^<]*\)<\/a>.*/\1/p' "$TMP/dom.html" |
    sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g' >"$TMP/dom_names.txt"
if cmp -s "$TMP/dom_names.txt" "$TMP/want_names.txt"; then ok "dom: the server's order"; else
    fail "dom: the server's order"
    diff "$TMP/dom_names.txt" "$TMP/want_names.txt"
fi
has "dom: rank 1 is the top student" "$TMP/dom.html" "<td class=\"rank num\">1</td><td class=\"name\"><a href=\"/c/$COURSE/s/$(jq -r '.students[0].key_id' "$TMP/ranking.json")\">$TOP</a>"
has "dom: the hostile name is text" "$TMP/dom.html" "&lt;img src=x onerror=alert(1)&gt; Mallory"
lacks "dom: no injected element" "$TMP/dom.html" "<img"
has "dom: verified marks" "$TMP/dom.html" "class=\"num verified\""
has "dom: a disputed grade" "$TMP/dom.html" "class=\"num disputed\""
same "dom: three charts" "$(grep -o '<figure id="chart-[a-z-]*"' "$TMP/dom.html" | wc -l | tr -d ' ')" 3
same "dom: ten distribution bars" "$(sed -n '/id="chart-distribution"/,/<\/figure>/p' "$TMP/dom.html" | grep -o '<rect class="bar"' | wc -l | tr -d ' ')" 10
same "dom: a pass-rate bar per module" "$(sed -n '/id="chart-pass-rates"/,/<\/figure>/p' "$TMP/dom.html" | grep -o '<rect class="bar pass"' | wc -l | tr -d ' ')" 8
bars=$(sed -n '/id="chart-submissions"/,/<\/figure>/p' "$TMP/dom.html" | grep -o '<rect class="bar"' | wc -l | tr -d ' ')
if [ "$bars" -ge 9 ]; then ok "dom: submissions over the days ($bars bars)"; else fail "dom: submissions over time: $bars bars"; fi

# Sorting through the header links, no script: by name, A to Z.
chrome "$TMP/sorted.html" --dump-dom "$URL/c/$COURSE?sort=name&dir=asc"
sed -n 's/.*<td class="name"><a href="[^"]*">\([^<]*\)<\/a>.*/\1/p' "$TMP/sorted.html" |
    sed 's/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' >"$TMP/sorted_names.txt"
LC_ALL=C sort "$TMP/want_names.txt" >"$TMP/want_sorted.txt"
if cmp -s "$TMP/sorted_names.txt" "$TMP/want_sorted.txt"; then ok "dom: sorted by name"; else
    fail "dom: sorted by name"
    diff "$TMP/sorted_names.txt" "$TMP/want_sorted.txt"
fi
has "dom: the name column is marked sorted" "$TMP/sorted.html" "class=\" sorted asc\""

KEY=$(jq -r '.students[0].key_id' "$TMP/ranking.json")
chrome "$TMP/student.html" --dump-dom "$URL/c/$COURSE/s/$KEY"
has "student: the name" "$TMP/student.html" "<h1 id=\"student-name\">$TOP</h1>"
has "student: rank 1" "$TMP/student.html" "Rank 1 of $COUNT"
same "student: a row per module" "$(sed -n '/id="module-table"/,/<\/table>/p' "$TMP/student.html" | grep -c '<span class="progress"')" 8
has "student: milestones" "$TMP/student.html" "id=\"milestone-table\""

chrome /dev/null --screenshot="$ART/leaderboard-course.png" --window-size=1280,1500 "$URL/c/$COURSE"
chrome /dev/null --screenshot="$ART/leaderboard-student.png" --window-size=1280,1100 "$URL/c/$COURSE/s/$KEY"
for png in leaderboard-course.png leaderboard-student.png; do
    if [ "$(head -c 8 "$ART/$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
        [ "$(wc -c <"$ART/$png")" -gt 20000 ]; then
        ok "screenshot: $ART/$png"
    else
        fail "screenshot: $ART/$png"
        cat "$TMP/chrome.err"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
