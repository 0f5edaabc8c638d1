#!/usr/bin/env bash
# scripts/deps.sh: install the Debian 12 packages TinyTorch-C needs to build and test,
# only those that are missing (apt-get update runs once, and only if something is).
#
#   ./scripts/deps.sh          what the build, the tests and the demo need
#   ./scripts/deps.sh --dev    also what regenerating test fixtures and data needs
#   ./scripts/deps.sh --list   print the package names and exit
#
# Run it as root, or as a user who may use sudo.
set -euo pipefail

packages=(
  build-essential   # gcc, make, libc headers
  cmake
  pkg-config
  git
  libgit2-dev       # tito: workspaces and commits
  libcurl4-openssl-dev  # tito: submission to the leaderboard
  libjansson-dev    # receipts, course files
  libsodium-dev     # signatures
  libsqlite3-dev    # leaderboard store
  libmicrohttpd-dev # leaderboard server
  libopenblas-dev   # the benchmark's BLAS baseline (tt-bench)
  valgrind          # the memcheck test label
  bubblewrap        # sandboxing student code
  libxml2-utils     # xmllint: the JUnit exporter's output is checked with it
  jq                # tests/cli: reading tito's --json output
  curl              # tests/leaderboard: reading the leaderboard's API and pages
  chromium          # tests/leaderboard: the leaderboard page in a headless browser (label browser)
  slurmctld         # tests/batch/t_slurm.sh (label slurm): tito grade --batch --engine slurm
  slurmd            #   on a single-node Slurm that the test starts and stops
  slurm-client
  munge
)
dev_packages=(
  python3-numpy     # tests/fixtures/gen_*.py
  python3-sklearn   # milestones/data/make_digits.py (the digits data)
  python3-cryptography  # tests/leaderboard/gen_dsse_vectors.py (independent Ed25519 vectors)
)

want=("${packages[@]}")
case "${1:-}" in
  --dev) want+=("${dev_packages[@]}") ;;
  --list) printf '%s\n' "${packages[@]}"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--dev | --list]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#want[@]} packages are installed."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run this script as root (or install sudo) so that it can install them." >&2
  exit 1
fi

echo "deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done."
