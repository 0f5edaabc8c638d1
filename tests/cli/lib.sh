# tests/cli/lib.sh: what every CLI journey (tests/cli/tNNNN-*.sh) shares. Sourced as
#     . "$(dirname "$0")/lib.sh"
# by a script run as `sh tNNNN-what.sh TITO SOURCE_DIR`. It gives the script:
#   - a throwaway directory $TMP (the current directory), removed on exit;
#   - an environment no setting of the machine leaks into: HOME is $TMP/home (so git
#     sees no user configuration), no TITO_* variables, no colour;
#   - $TITO, $SRC, and assertions that print what they expected and what they got.
# A script ends with `finish`, which prints the count and sets the exit status.
set -u
TITO=${1:?usage: sh $0 TITO SOURCE_DIR}
SRC=${2:?usage: sh $0 TITO SOURCE_DIR}
case $TITO in /*) ;; *) TITO=$(pwd)/$TITO ;; esac
case $SRC in /*) ;; *) SRC=$(pwd)/$SRC ;; esac
[ -x "$TITO" ] || { echo "not executable: $TITO"; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tito-cli-XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
HOME=$TMP/home
mkdir -p "$HOME"
export HOME
unset TITO_COURSE TITO_KIT XDG_CONFIG_HOME GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE \
  GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL CLICOLOR_FORCE
export NO_COLOR=1 GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
cd "$TMP" || exit 2

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# expect NAME STATUS COMMAND...: run COMMAND (stdout in $TMP/out, stderr in $TMP/err)
# and check its exit status.
expect() {
    _name=$1 _want=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    _got=$?
    if [ "$_got" -eq "$_want" ]; then
        ok "$_name"
    else
        fail "$_name: exit $_got, expected $_want"
        sed 's/^/    out: /' "$TMP/out"
        sed 's/^/    err: /' "$TMP/err"
    fi
}

# has NAME FILE TEXT / lacks NAME FILE TEXT: FILE contains (does not contain) TEXT.
has() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else
        fail "$1: no \"$3\" in $2:"
        sed 's/^/    /' "$2"
    fi
}
lacks() {
    if grep -qF -- "$3" "$2"; then
        fail "$1: unexpected \"$3\" in $2:"
        sed 's/^/    /' "$2"
    else ok "$1"; fi
}

# same NAME GOT WANT: two strings are equal.
same() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', expected '$3'"; fi
}

# check NAME COMMAND...: COMMAND succeeds (a test, cmp, git ...).
check() {
    _name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$_name"; else fail "$_name: failed: $*"; fi
}

# refute NAME COMMAND...: COMMAND fails.
refute() {
    _name=$1
    shift
    if "$@" >/dev/null 2>&1; then fail "$_name: should have failed: $*"; else ok "$_name"; fi
}

# The module table, read from the source tree so that no test hard-codes it.
module_count() { grep -c '^TT_MODULE(' "$SRC/reference/modules.def"; }
slug_of() { sed -n "s/^TT_MODULE($1, \"\([^\"]*\)\".*/\1/p" "$SRC/reference/modules.def"; }
name_of() { _s=$(slug_of "$1"); echo "${_s#*_}"; }

# git in workspace DIR: `g DIR log ...`.
g() {
    _dir=$1
    shift
    git -C "$_dir" "$@"
}

# jq is how the tests read tito's --json output (scripts/deps.sh installs it).
need_jq() {
    command -v jq >/dev/null 2>&1 || { fail "jq is not installed (scripts/deps.sh installs it)"; finish; }
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}
