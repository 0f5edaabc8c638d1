#!/usr/bin/env bash
# scripts/demo.sh: install what is needed, build, and train the digits MLP with the
# reference framework (tt-milestone-03: 8x8 handwritten digits, 64-32-10 MLP).
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
cmake --build "$build" -j2 --target tt-milestone-03
program=$(find "$build" -type f -name tt-milestone-03 -perm -u+x | head -n 1)
if [ -z "$program" ]; then
  echo "demo: the build made no tt-milestone-03 program" >&2
  exit 1
fi
echo "== $program"
"$program" "$@"
