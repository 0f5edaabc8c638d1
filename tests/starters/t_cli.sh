#!/bin/sh
# tests/starters/t_cli.sh: `tito dev starters` and tito's front door, end to end, in a
# throwaway copy of the course's reference sources.
#   t_cli.sh TITO SOURCE_DIR VERSION
set -u
TITO=$1
SRC=$2
VERSION=$3

tmp=$(mktemp -d /tmp/tt-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# expect NAME STATUS COMMAND...: run COMMAND (output in $tmp/out, $tmp/err) and
# compare its exit status.
expect() {
    name=$1 want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        ok "$name"
    else
        fail "$name: exit $got, expected $want"
        sed 's/^/    /' "$tmp/out" "$tmp/err"
    fi
}

# has NAME FILE TEXT: FILE contains TEXT (a fixed string).
has() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1: no \"$3\" in:"; sed 's/^/    /' "$2"; fi
}
lacks() {
    if grep -qF -- "$3" "$2"; then fail "$1: unexpected \"$3\" in:"; sed 's/^/    /' "$2"; else ok "$1"; fi
}

tree=$tmp/course
mkdir -p "$tree/reference/src"
cp "$SRC/reference/modules.def" "$tree/reference/"
cp "$SRC"/reference/src/*.c "$tree/reference/src/"

# The front door.
expect "--version" 0 "$TITO" --version
has "--version prints the project version" "$tmp/out" "tito $VERSION"
expect "--help" 0 "$TITO" --help
has "--help lists dev starters" "$tmp/out" "dev starters"
has "--help explains exit statuses" "$tmp/out" "Exit status"
expect "no arguments is a usage error" 2 "$TITO"
expect "unknown command" 2 "$TITO" frobnicate
has "unknown command is named" "$tmp/err" "no command 'frobnicate'"
expect "unknown global option" 2 "$TITO" --frob
expect "help COMMAND" 0 "$TITO" help dev starters
has "help COMMAND shows the options" "$tmp/out" "--check"
has "help COMMAND shows --root" "$tmp/out" "--root DIR"
expect "help of a group" 0 "$TITO" help dev
has "help of a group lists its commands" "$tmp/out" "dev starters"
expect "a group alone is a usage error" 2 "$TITO" dev
expect "unknown option of a command" 2 "$TITO" dev starters --bogus
has "unknown option is named" "$tmp/err" "--bogus: unknown option"
expect "stray argument" 2 "$TITO" dev starters extra --root "$tree"
expect "--root that is not a course" 2 "$TITO" dev starters --check --root "$tmp"
has "--root error says why" "$tmp/err" "not a TinyTorch-C source tree"

# Generation, check, drift.
expect "check of a tree without student/" 1 "$TITO" dev starters --check --root "$tree"
has "check names a missing file" "$tmp/err" "missing  student/01_tensor/tensor.c"
expect "generate" 0 "$TITO" dev starters --root "$tree"
has "generate lists created files" "$tmp/out" "created  student/08_dataloader/dataloader.c"
[ -f "$tree/student/README.md" ] && ok "README generated" || fail "README generated"
expect "check after generate" 0 "$TITO" dev starters --check --root "$tree"
has "check says up to date" "$tmp/out" "student/ is up to date"
expect "generate again changes nothing" 0 "$TITO" dev starters --root "$tree"
has "generate again reports 0 written" "$tmp/out" "0 files written"

echo "/* edited */" >>"$tree/student/02_activations/activations.c"
expect "check after a hand edit" 1 "$TITO" dev starters --check --root "$tree"
has "check names the edited file" "$tmp/err" "differs  student/02_activations/activations.c"
lacks "check names only that file" "$tmp/err" "student/01_tensor/tensor.c"
has "check says what to do" "$tmp/err" "Run \`tito dev starters\`"
has "check did not write" "$tree/student/02_activations/activations.c" "/* edited */"

# The source tree is found from a sub-folder, without --root.
(cd "$tree/student/01_tensor" && "$TITO" dev starters >"$tmp/out" 2>"$tmp/err")
[ $? -eq 0 ] && ok "root found from a sub-folder" || fail "root found from a sub-folder"
has "regenerate repairs the edited file" "$tmp/out" "updated  student/02_activations/activations.c"
(cd "$tmp" && "$TITO" dev starters --check >"$tmp/out" 2>"$tmp/err")
[ $? -eq 2 ] && ok "outside a course: usage error" || fail "outside a course: usage error"

# A broken marker: exit 4, file:line named, nothing written.
printf '/* END SOLUTION */\n' >>"$tree/reference/src/losses.c"
line=$(wc -l <"$tree/reference/src/losses.c" | tr -d ' ')
echo "/* edited */" >>"$tree/student/01_tensor/tensor.c"
expect "malformed reference" 4 "$TITO" dev starters --root "$tree"
has "malformed reference names file and line" "$tmp/err" "reference/src/losses.c:$line: END SOLUTION without"
has "malformed reference: nothing written" "$tree/student/01_tensor/tensor.c" "/* edited */"

# Colour: never into a pipe; CLICOLOR_FORCE asks for it; NO_COLOR wins.
esc=$(printf '\033')
expect "error into a pipe" 2 "$TITO" frobnicate
lacks "no colour into a pipe" "$tmp/err" "$esc"
expect "forced colour" 2 env CLICOLOR_FORCE=1 "$TITO" frobnicate
has "CLICOLOR_FORCE gives colour" "$tmp/err" "$esc["
expect "NO_COLOR wins" 2 env CLICOLOR_FORCE=1 NO_COLOR=1 "$TITO" frobnicate
lacks "NO_COLOR gives no colour" "$tmp/err" "$esc"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
