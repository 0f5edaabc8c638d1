#!/usr/bin/env bash
# scripts/demo.sh: install what is needed, build, then walk a new student's first module
# (tito init, module start 01, module test 01 on the starter, the reference solution
# pasted in, module test 01 again, tito grade 01), train the digits MLP with the
# reference framework (tt-milestone-03: 8x8 handwritten digits, 64-32-10 MLP), and run
# a local leaderboard.
#
#   ./scripts/demo.sh
#
# Run it as root or as a user who may use sudo (for apt-get). BUILD_DIR (default
# build) chooses the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build"
cmake --build "$build" -j2 --target tito tito_kit tt-milestone-03

# ---- A student's first module (the grading commands' section; docs/grading.md) --------
# In a temporary folder, with a tito configuration of its own: the workspace, the
# starter's checks (every one fails: nothing is implemented yet), the reference solution
# in its place, the checks again, then the full grade with its receipt.
repo=$(pwd)
case $build in /*) bin=$build ;; *) bin=$repo/$build ;; esac
journey=$(mktemp -d "${TMPDIR:-/tmp}/tito-journey-XXXXXX")
chmod 755 "$journey" # the sandbox's user reads nothing here, but must pass through
trap 'rm -rf "$journey"' EXIT
(
  export XDG_CONFIG_HOME=$journey/config
  cd "$journey"
  echo "== tito init tinytorch && cd tinytorch"
  "$bin/cli/tito" init tinytorch
  cd tinytorch
  echo; echo "== tito module start 01"
  "$bin/cli/tito" module start 01
  echo; echo "== tito module test 01          (the starter: every check fails)"
  if "$bin/cli/tito" module test 01; then
    echo "demo: the starter passed its checks" >&2
    exit 1
  fi
  echo; echo "== cp reference/src/tensor.c modules/01_tensor/tensor.c   (the solution, pasted in)"
  cp "$repo/reference/src/tensor.c" modules/01_tensor/tensor.c
  echo; echo "== tito module test 01"
  "$bin/cli/tito" module test 01
  echo; echo "== tito grade 01"
  "$bin/cli/tito" grade 01
  echo; echo "== git log --oneline   (tito commits its records, never your sources)"
  git log --oneline
)
rm -rf "$journey"
trap - EXIT
echo
program=$(find "$build" -type f -name tt-milestone-03 -perm -u+x | head -n 1)
if [ -z "$program" ]; then
  echo "demo: the build made no tt-milestone-03 program" >&2
  exit 1
fi
echo "== $program"
"$program" "$@"

# ---- The course leaderboard (the leaderboard's section; docs/leaderboard.md) ----------
# A local tito-leaderboard on a free port with a course and an enrollment token; a
# student workspace whose module 01 is the reference solution, graded; `tito login`,
# `tito submit`, `tito leaderboard`; then the address of the page with the result. The
# demo's key and outbox live in a temporary folder, never in your ~/.config. The server
# stops at the end (DEMO_KEEP_SERVER=1 keeps it serving until Ctrl-C).
echo
echo "== the course leaderboard"
cmake --build "$build" -j2 --target tito tito-leaderboard tito_kit
case $build in /*) bin=$build ;; *) bin=$(pwd)/$build ;; esac
tito=$bin/cli/tito
lb=$bin/leaderboard/tito-leaderboard
demo=$(mktemp -d "${TMPDIR:-/tmp}/tito-demo-XXXXXX")
server=
stop_leaderboard() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
  rm -rf "$demo"
}
trap stop_leaderboard EXIT
export XDG_CONFIG_HOME=$demo/config XDG_DATA_HOME=$demo/data
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
db=$demo/leaderboard.db
"$lb" course create --db "$db" tinytorch-c-2026 --title "TinyTorch-C 2026 (demo)"
token=$("$lb" token issue --db "$db" --course tinytorch-c-2026 "Demo Student" | cut -f1)
"$lb" serve --db "$db" --port 0 --port-file "$demo/port" --log "$demo/server.log" &
server=$!
for _ in $(seq 200); do [ -s "$demo/port" ] && break; sleep 0.05; done
url=http://127.0.0.1:$(cat "$demo/port")
echo "== leaderboard listening on $url"
(
  cd "$demo"
  "$tito" init workspace
  cd workspace
  "$tito" module start 01
)
cp reference/src/tensor.c "$demo/workspace/modules/01_tensor/tensor.c"
(
  cd "$demo/workspace"
  "$tito" grade 01
  "$tito" login "$url" "$token"
  "$tito" submit
  "$tito" leaderboard
)
echo
echo "== the result on the leaderboard's page: $url/c/tinytorch-c-2026"
if [ "${DEMO_KEEP_SERVER:-}" = 1 ]; then
  echo "== serving until Ctrl-C"
  wait "$server" || true
fi
