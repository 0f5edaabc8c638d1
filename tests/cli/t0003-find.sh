#!/bin/sh
# Finding the workspace: from any folder inside it, never outside it, and never one
# made for another course.
. "$(dirname "$0")/lib.sh"

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }

# From a sub-folder, every workspace command finds the root.
mkdir -p ws/modules/deep/er
(cd ws/modules/deep/er && "$TITO" module status >"$TMP/out" 2>"$TMP/err")
same "status from a sub-folder" "$?" 0
has "status names the workspace root" "$TMP/out" "workspace $TMP/ws"
(cd ws/modules/deep/er && "$TITO" module start 1 >"$TMP/out" 2>"$TMP/err")
same "start from a sub-folder" "$?" 0
check "start wrote into the root, not the sub-folder" test -f "ws/modules/$(slug_of 1)/$(name_of 1).c"
refute "nothing written in the sub-folder" test -e "ws/modules/deep/er/modules"

# Outside any workspace: exit 2 and what to do.
mkdir elsewhere
for cmd in "module status" "module start 1" "module reset 1 --yes"; do
    # shellcheck disable=SC2086
    (cd elsewhere && "$TITO" $cmd >"$TMP/out" 2>"$TMP/err")
    same "outside: tito $cmd exits 2" "$?" 2
    has "outside: tito $cmd says why and what to do" "$TMP/err" \
        "tito: error: not inside a tito workspace (no .tito/ found from $TMP/elsewhere up to /): run \`tito init DIR\` first, or cd into your workspace"
done
# ... but the course's modules can be listed anywhere.
(cd elsewhere && "$TITO" module list >"$TMP/out" 2>"$TMP/err")
same "outside: module list works" "$?" 0
has "outside: module list lists the modules" "$TMP/out" "$(name_of 1)"
has "outside: module list says how to make a workspace" "$TMP/out" "Not in a workspace: \`tito init DIR\` makes one."
lacks "outside: no state column" "$TMP/out" "not started"

# Another course's workspace.
sed 's/"id": "tinytorch-c-2026"/"id": "other-2027"/' "$SRC/grader/course/default.json" >other.json
"$TITO" init otherws --course other.json >/dev/null 2>&1 || fail "init another course's workspace"
(cd otherws && "$TITO" module status >"$TMP/out" 2>"$TMP/err")
same "another course: exit 2" "$?" 2
has "another course: says whose and what to do" "$TMP/err" \
    "tito: error: this workspace belongs to course other-2027; this tito is for course tinytorch-c-2026: use the tito that came with other-2027, or pass --course"
(cd otherws && "$TITO" module status --course ../other.json >"$TMP/out" 2>"$TMP/err")
same "another course with its --course: works" "$?" 0
(cd otherws && "$TITO" module status --course tito-course.json >"$TMP/out" 2>"$TMP/err")
same "another course with the workspace's own course file: works" "$?" 0
(cd ws && "$TITO" module list --course ../other.json >"$TMP/out" 2>"$TMP/err")
same "this workspace with the other course: exit 2" "$?" 2
has "this workspace with the other course: says so" "$TMP/err" "this workspace belongs to course tinytorch-c-2026; this tito is for course other-2027"

# A workspace that lost its progress file.
mv ws/.tito/progress.json progress.saved
(cd ws && "$TITO" module status >"$TMP/out" 2>"$TMP/err")
same "lost progress file: exit 4" "$?" 4
has "lost progress file: how to get it back" "$TMP/err" \
    "$TMP/ws/.tito/progress.json is missing: restore it from git with \`git -C $TMP/ws checkout HEAD -- .tito/progress.json\`"
git -C ws checkout HEAD -- .tito/progress.json
(cd ws && "$TITO" module status >"$TMP/out" 2>"$TMP/err")
same "after following the advice: works" "$?" 0

# --help needs no workspace.
(cd elsewhere && "$TITO" module status --help >"$TMP/out" 2>"$TMP/err")
same "--help outside a workspace" "$?" 0
has "--help shows --json" "$TMP/out" "--json"

finish
