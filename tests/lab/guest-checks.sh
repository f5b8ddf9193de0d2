#!/usr/bin/env bash
# Runs the lab's guest-side checks (tests/lab/guest_checks.py), each in a
# fresh lab, as tests/lab/run.sh runs the scenarios.
#
#   tests/lab/guest-checks.sh [CHECK…]   the tiny guest's checks when none is named
#   tests/lab/guest-checks.sh --debian   the full Debian 13 guest's (image built first, cached)
#   tests/lab/guest-checks.sh --capture  re-capture crates/core/tests/fixtures/guest/
#
# Needs root. The Debian guest's image needs mmdebstrap and the Debian
# archive the first time (tests/lab/debian-guest/build.sh); it is cached in
# target/lab/debian13.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/guest-checks.sh: needs root" >&2; exit 2; }

source tests/lab/env.sh --cli
export LAB_DEBIAN_DIR=$target_dir/lab/debian13
if [[ "${1:-}" == --debian || "${1:-}" == --capture || " $* " == *" D"[0-9]* ]]; then
    started=$SECONDS
    tests/lab/debian-guest/build.sh "$LAB_DEBIAN_DIR"
    echo "  Debian 13 guest image ready in $((SECONDS - started)) s ($LAB_DEBIAN_DIR)"
fi
if [[ "${1:-}" == --capture ]]; then
    exec tests/lab/lab.sh python3 tests/lab/capture_guest_fixtures.py
fi
exec python3 tests/lab/guest_checks.py "$@"
