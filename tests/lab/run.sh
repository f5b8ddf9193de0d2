#!/usr/bin/env bash
# Runs the lab's scenarios (tests/lab/scenarios.py), each in a fresh lab
# (tests/lab/lab.sh), and prints each one's time.
#
#   tests/lab/run.sh [SCENARIO…]     all scenarios when none is named
#   tests/lab/run.sh --shell         a lab with a shell in it (./dev lab)
#
# Needs root (namespaces, libvirtd); ./dev test runs it in the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/run.sh: needs root" >&2; exit 2; }

cargo build --locked -p vmnet-doctor -p vmnet-doctor-helper --bins
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export LAB_DOCTOR=$target_dir/debug/vmnet-doctor
export LAB_HELPER=$target_dir/debug/vmnet-doctor-helper
export LAB_GUEST_DIR=$target_dir/lab/guest
export LAB_CACHE_DIR=$target_dir/lab/cache
tests/lab/build-guest.sh "$LAB_GUEST_DIR"

if [[ "${1:-}" == --shell ]]; then
    exec tests/lab/lab.sh tests/lab/shell.sh
fi
exec python3 tests/lab/scenarios.py "$@"
