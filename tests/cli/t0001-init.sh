#!/bin/sh
# tito init: a fresh workspace (files, git, author), and every directory it refuses.
. "$(dirname "$0")/lib.sh"

n=$(module_count)
first=$(slug_of 1)

expect "init a new directory" 0 "$TITO" init ws
has "init says what it made" "$TMP/out" "Created workspace ws (course: TinyTorch-C 2026, $n modules)"
has "init says what to do next" "$TMP/out" "Next: cd ws && tito module start 01"
for f in tito-course.json README.md .gitignore .tito/progress.json; do
    check "init wrote $f" test -f "ws/$f"
done
check "the course file is the built-in one, byte for byte" cmp ws/tito-course.json "$SRC/grader/course/default.json"
for h in "$SRC"/reference/include/tinytorch/*.h; do
    check "header $(basename "$h") copied" cmp "$h" "ws/include/tinytorch/$(basename "$h")"
done
has "progress has its schema" ws/.tito/progress.json '"schema": "tito-progress/1"'
has "progress names the course" ws/.tito/progress.json '"course": "tinytorch-c-2026"'
has "progress lists the first module" ws/.tito/progress.json "\"$first\": {"
has "README says how to start" ws/README.md "tito module start 01"
has ".gitignore ignores objects" ws/.gitignore "*.o"

same "one commit" "$(g ws rev-list --count HEAD)" 1
same "its message" "$(g ws log -1 --format=%s)" "tito: start workspace for TinyTorch-C 2026"
same "author without git configuration" "$(g ws log -1 --format='%an <%ae>')" \
    "TinyTorch-C student <student@localhost>"
same "the branch is main" "$(g ws symbolic-ref --short HEAD)" main
same "the working tree is clean" "$(g ws status --porcelain)" ""
same "every file is committed" "$(g ws ls-files | grep -c .)" "$((4 + $(ls "$SRC"/reference/include/tinytorch/*.h | wc -l)))"

# The author comes from git's configuration when there is one.
git config --global user.name "Ada Lovelace"
git config --global user.email "ada@example.edu"
expect "init with a configured author" 0 "$TITO" init ada
same "author from git config" "$(g ada log -1 --format='%an <%ae>')" "Ada Lovelace <ada@example.edu>"
rm -f "$HOME/.gitconfig"

# Missing parents are made.
expect "init a nested new directory" 0 "$TITO" init deep/er/ws
check "nested workspace made" test -f deep/er/ws/.tito/progress.json

# An empty existing directory is fine.
mkdir empty
expect "init an empty directory" 0 "$TITO" init empty
check "empty directory became a workspace" test -f empty/.tito/progress.json

# Refusals: exit 2, and nothing written.
mkdir full
echo "my notes" >full/notes.txt
expect "init a non-empty directory" 2 "$TITO" init full
has "non-empty: says why" "$TMP/err" "full is not empty (it holds notes.txt)"
has "non-empty: says what to do" "$TMP/err" "choose another DIR"
same "non-empty: nothing written" "$(ls -A full)" "notes.txt"

expect "init an existing workspace" 2 "$TITO" init ws
has "existing: says so, with its course" "$TMP/err" "ws is already a tito workspace (course tinytorch-c-2026)"
same "existing: no new commit" "$(g ws rev-list --count HEAD)" 1

mkdir ws/sub
expect "init inside a workspace" 2 "$TITO" init ws/sub/inner
has "inside: names the workspace" "$TMP/err" "ws/sub/inner is inside the tito workspace $TMP/ws"
refute "inside: nothing made" test -e ws/sub/inner

echo x >afile
expect "init over a file" 2 "$TITO" init afile
has "over a file: says so" "$TMP/err" "afile exists and is not a directory"

expect "init without DIR" 2 "$TITO" init
has "without DIR: asks which" "$TMP/err" "which directory?"
expect "init with two DIRs" 2 "$TITO" init a b
has "two DIRs: names the extra one" "$TMP/err" "unexpected argument 'b'"
refute "two DIRs: nothing made" test -e a

expect "init without a grading kit" 3 env TITO_KIT="$TMP/nokit" "$TITO" init nokit-ws
has "no kit: says which" "$TMP/err" "tito: error: TITO_KIT=$TMP/nokit: "
refute "no kit: nothing made" test -e nokit-ws

expect "help init" 0 "$TITO" help init
has "help init shows --course" "$TMP/out" "--course FILE"

finish
