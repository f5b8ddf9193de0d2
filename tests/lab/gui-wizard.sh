#!/usr/bin/env bash
# The setup wizard's Guest and Verify steps in the real app on the lab's
# real guest (tests/lab/gui_wizard.py), in a fresh lab (tests/lab/lab.sh);
# screenshots in target/gui/lab/.
#
#   tests/lab/gui-wizard.sh [--slow]
#
# --slow: also the full Debian 13 guest's stale NetworkManager profile, in
# a second lab (its image built once by tests/lab/debian-guest/build.sh).
# Needs root (namespaces, libvirtd) and a meson build's compiled schemas
# (_build/data); ./dev test runs it in the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/gui-wizard.sh: needs root" >&2; exit 2; }

source tests/lab/env.sh --gui

started=$SECONDS
tests/lab/lab.sh python3 tests/lab/gui_wizard.py --shots "$target_dir/gui/lab"
echo "  the setup wizard's Guest and Verify steps on the lab's guest: $((SECONDS - started)) s"
if [[ "${1:-}" == --slow ]]; then
    export LAB_DEBIAN_DIR=$target_dir/lab/debian13
    tests/lab/debian-guest/build.sh "$LAB_DEBIAN_DIR"
    started=$SECONDS
    tests/lab/lab.sh python3 tests/lab/gui_wizard.py --debian --shots "$target_dir/gui/lab"
    echo "  the setup wizard's Guest step on the Debian 13 guest: $((SECONDS - started)) s"
fi
