#!/bin/sh
# tito module start: every way to name a module, the refusals, what is written and
# committed, and that it never overwrites work.
. "$(dirname "$0")/lib.sh"

n=$(module_count)
last=$(printf %02d "$n")
"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1

# start N: module N's starter and guide, committed.
s3=$(slug_of 3) n3=$(name_of 3)
echo "scratch" >scratch.txt
echo "my own line" >>README.md
expect "start 3" 0 "$TITO" module start 3
has "start: the heading" "$TMP/out" "Module 03 · $n3 — "
has "start: wrote the source" "$TMP/out" "wrote   modules/$s3/$n3.c"
has "start: counts the TODOs" "$TMP/out" "places marked TODO)"
has "start: wrote the guide" "$TMP/out" "wrote   modules/$s3/GUIDE.md"
has "start: points at the header" "$TMP/out" "header  include/tinytorch/$n3.h"
has "start: what next" "$TMP/out" "Next: open modules/$s3/GUIDE.md, then run \`tito module test 03\` as often as you like."
check "start: the starter is the course's" cmp "modules/$s3/$n3.c" "$SRC/student/$s3/$n3.c"
check "start: the guide is the course's" cmp "modules/$s3/GUIDE.md" "$SRC/docs/modules/$s3.md"
todos=$(grep -c "TODO: your code here" "modules/$s3/$n3.c")
has "start: the TODO count is right" "$TMP/out" "($todos places marked TODO)"
same "start: committed" "$(git log -1 --format=%s)" "tito: start module 03 ($n3)"
same "start: the commit holds the module and the progress" \
    "$(git show --name-only --format= HEAD | sort | tr '\n' ' ')" \
    ".tito/progress.json modules/$s3/GUIDE.md modules/$s3/$n3.c "
same "start: the student's other changes stay uncommitted" "$(git status --porcelain | tr '\n' ' ')" \
    " M README.md ?? scratch.txt "
has "start: progress says started" .tito/progress.json "\"state\": \"started\""
has "start: progress says when" .tito/progress.json "\"started_at\": \"20"

# Never overwrites: the student's edit survives a second start, in every spelling.
echo "/* my work */" >>"modules/$s3/$n3.c"
for key in 3 03 "$s3" "$n3"; do
    expect "start $key again: refused" 1 "$TITO" module start "$key"
    has "start $key again: says the file exists" "$TMP/err" \
        "tito: error: module 03 ($n3) is already started: modules/$s3/$n3.c exists, and tito never overwrites your work"
    has "start $key again: suggests reset" "$TMP/err" "run \`tito module reset 03\`"
done
has "the work is intact" "modules/$s3/$n3.c" "/* my work */"
same "no commit for refusals" "$(git log -1 --format=%s)" "tito: start module 03 ($n3)"

# A guide alone (the student deleted the source) is work too.
s5=$(slug_of 5)
mkdir -p "modules/$s5" && echo "notes" >"modules/$s5/GUIDE.md"
expect "start with only a GUIDE.md there: refused" 1 "$TITO" module start 5
has "only GUIDE.md: names it" "$TMP/err" "modules/$s5/GUIDE.md exists"
same "only GUIDE.md: kept" "$(cat "modules/$s5/GUIDE.md")" "notes"

# Every spelling of a module works.
expect "start 01 (zero-padded)" 0 "$TITO" module start 01
check "01 written" test -f "modules/$(slug_of 1)/$(name_of 1).c"
expect "start by slug" 0 "$TITO" module start "$(slug_of 2)"
check "slug written" test -f "modules/$(slug_of 2)/$(name_of 2).c"
expect "start by name" 0 "$TITO" module start "$(name_of 4)"
check "name written" test -f "modules/$(slug_of 4)/$(name_of 4).c"
same "one commit per start" "$(git rev-list --count HEAD)" 5

# Modules that do not exist: exit 2, and which do.
expect "start 42" 2 "$TITO" module start 42
has "42: which modules exist" "$TMP/err" "tito: error: no module 42: modules are 01..$last; see \`tito module list\`"
expect "start 0" 2 "$TITO" module start 0
has "0: which modules exist" "$TMP/err" "no module 0: modules are 01..$last"
expect "start -1" 2 "$TITO" module start -1
has "-1: a wrong number, not an option" "$TMP/err" "no module -1: modules are 01..$last"
expect "start foo" 2 "$TITO" module start foo
has "foo: which modules exist" "$TMP/err" "no module 'foo': modules are 01..$last ($(name_of 1) .. $(name_of "$n"))"
expect "start a number with another module's name" 2 "$TITO" module start "03_$(name_of 4)"
has "mixed: says which is which" "$TMP/err" \
    "no module '03_$(name_of 4)': module 03 is $n3 ($s3) and $(name_of 4) is module 04 ($(slug_of 4))"
expect "start without N" 2 "$TITO" module start
has "without N: asks which" "$TMP/err" "which module? \`tito module start N\`"
expect "start two modules" 2 "$TITO" module start 6 7
has "two modules: names the extra" "$TMP/err" "unexpected argument '7'"
expect "start with an unknown option" 2 "$TITO" module start 6 --force
has "unknown option: named" "$TMP/err" "--force: unknown option"
refute "refusals wrote nothing" test -e "modules/$(slug_of 6)"
same "refusals committed nothing" "$(git rev-list --count HEAD)" 5

# The material comes from the grading kit ($TITO_KIT, else the build tree's).
kit=$(cd "$(dirname "$TITO")/.." && pwd)/kit
check "the build tree has a kit" test -f "$kit/manifest.txt"
cp -R "$kit" "$TMP/kit"
s6=$(slug_of 6) n6=$(name_of 6)
echo "/* from the copied kit */" >>"$TMP/kit/starters/$s6/$n6.c"
rm -f "$TMP/kit/guides/$s6.md"
expect "start from \$TITO_KIT" 0 env TITO_KIT="$TMP/kit" "$TITO" module start 6
has "the starter came from \$TITO_KIT" "modules/$s6/$n6.c" "/* from the copied kit */"
has "no guide in the kit: a warning" "$TMP/err" "tito: warning: the course material has no guide for module 06 yet"
refute "no guide in the kit: none written" test -e "modules/$s6/GUIDE.md"
has "no guide: next points at the header" "$TMP/out" "Next: open include/tinytorch/$n6.h"
expect "a \$TITO_KIT that is not a kit" 3 env TITO_KIT="$TMP/nokit" "$TITO" module start 7
has "bad \$TITO_KIT: named" "$TMP/err" "tito: error: TITO_KIT=$TMP/nokit: "
refute "bad \$TITO_KIT: nothing written" test -e "modules/$(slug_of 7)"

# module list shows the states.
expect "module list" 0 "$TITO" module list
has "list: started module" "$TMP/out" "03  $n3"
grep "^  03  " "$TMP/out" >"$TMP/line.txt"
has "list: 03 is started" "$TMP/line.txt" "started"
grep "^  $last  " "$TMP/out" >"$TMP/line.txt"
has "list: the last one is not started" "$TMP/line.txt" "not started"

finish
