#!/usr/bin/env bash
# scripts/test.sh: build TinyTorch-C and run every test, then run the unit tests again
# under AddressSanitizer and UndefinedBehaviorSanitizer. Exits non-zero on any failure.
#
#   ./scripts/test.sh
#
# It first installs any missing package (./scripts/deps.sh: run it as root or as a user
# who may use sudo). CI=true turns warnings into errors. BUILD_DIR and ASAN_BUILD_DIR
# (default build and build-asan) choose the build folders.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh

build=${BUILD_DIR:-build}
asan=${ASAN_BUILD_DIR:-build-asan}
werror=OFF
if [ "${CI:-}" = true ]; then
  werror=ON
fi

echo "== configure and build ($build, TT_WERROR=$werror)"
cmake -S . -B "$build" -DTT_WERROR="$werror"
cmake --build "$build" -j2

echo "== every test ($build)"
ctest --test-dir "$build" --output-on-failure --no-tests=error -j2

echo "== unit tests under ASan and UBSan ($asan)"
cmake -S . -B "$asan" -DTT_SANITIZE=ON -DTT_WERROR="$werror"
cmake --build "$asan" -j2
ctest --test-dir "$asan" -L unit --output-on-failure --no-tests=error -j2

echo "== all tests passed"
