#!/bin/sh
# tito module reset: the whole workspace goes on a backup branch first (uncommitted
# and untracked work included), HEAD and the other files stay, the starter comes back,
# and the printed command gets the work back.
. "$(dirname "$0")/lib.sh"

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
s4=$(slug_of 4) n4=$(name_of 4)
src=modules/$s4/$n4.c

expect "reset a module never started" 1 "$TITO" module reset 4 --yes
has "never started: says so" "$TMP/err" \
    "tito: error: module 04 ($n4) was never started: there is nothing to reset; \`tito module start 04\` gives you its starter"
same "never started: no branch" "$(git branch --list 'backup/*')" ""

"$TITO" module start 4 >/dev/null 2>&1 || fail "start 4"
echo "/* committed work */" >>"$src"
git add "$src" && git -c user.name=Student -c user.email=student@example.edu commit -q -m "my committed work" || fail "commit the work"
echo "/* uncommitted work */" >>"$src"
echo "idea" >"modules/$s4/notes.txt"
echo "elsewhere" >scratch.txt
head_before=$(git rev-parse HEAD)

expect "reset without --yes, not on a terminal" 2 "$TITO" module reset 4
has "without --yes: says how to confirm" "$TMP/err" \
    "\`tito module reset\` replaces $src with the starter: add --yes to confirm"
has "without --yes: nothing changed" "$src" "/* uncommitted work */"
same "without --yes: no branch" "$(git branch --list 'backup/*')" ""

expect "reset --yes" 0 "$TITO" module reset 4 --yes
branch=$(git branch --list "backup/$s4-*" --format='%(refname:short)')
same "one backup branch, named after the module and the time" \
    "$(echo "$branch" | grep -c "^backup/$s4-[0-9]\{8\}-[0-9]\{6\}$")" 1
has "reset: names the branch" "$TMP/out" "Saved your work on the branch $branch"
has "reset: restored the starter" "$TMP/out" "restored $src"
has "reset: how to get the work back" "$TMP/out" "git checkout $branch -- $src"
check "the starter is back" cmp "$src" "$SRC/student/$s4/$n4.c"
git show "$branch:$src" >"$TMP/backup.c"
has "the backup holds the committed work" "$TMP/backup.c" "/* committed work */"
has "the backup holds the uncommitted work" "$TMP/backup.c" "/* uncommitted work */"
same "the backup holds untracked files" "$(git show "$branch:modules/$s4/notes.txt")" "idea"
same "the backup holds files elsewhere" "$(git show "$branch:scratch.txt")" "elsewhere"
same "the backup's parent is the old HEAD" "$(git rev-parse "$branch^")" "$head_before"
same "HEAD moved by exactly the reset commit" "$(git rev-parse HEAD^)" "$head_before"
same "the reset commit" "$(git log -1 --format=%s)" "tito: reset module 04 ($n4) to its starter"
same "the reset commit names the branch" "$(git log -1 --format=%b)" "The work before the reset is on the branch $branch."
same "still on main" "$(git symbolic-ref --short HEAD)" main
same "other files untouched and uncommitted" "$(git status --porcelain | tr '\n' ' ')" \
    "?? modules/$s4/notes.txt ?? scratch.txt "
has "progress counts the reset" .tito/progress.json '"resets": 1'

# The advice works.
git checkout "$branch" -- "$src"
has "work back with the printed command" "$src" "/* uncommitted work */"
git checkout HEAD -- "$src"

# Twice in the same second: a second branch, not an error. From a sub-folder the
# advice runs git on the workspace.
mkdir -p sub
(cd sub && "$TITO" module reset "$n4" --yes >"$TMP/out" 2>"$TMP/err") || fail "second reset"
same "two backup branches" "$(git branch --list "backup/$s4-*" | wc -l | tr -d ' ')" 2
has "from a sub-folder: git -C the workspace" "$TMP/out" "git -C $TMP/ws checkout backup/$s4-"
has "progress counts both resets" .tito/progress.json '"resets": 2'

expect "reset of a module that does not exist" 2 "$TITO" module reset 99 --yes
has "no module 99" "$TMP/err" "no module 99: modules are"

finish
