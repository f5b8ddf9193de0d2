#!/usr/bin/env bash
# The lab's S1 and S3 fixed by clicking in the real app (tests/lab/gui_fixes.py),
# in a fresh lab (tests/lab/lab.sh); screenshots in target/gui/lab/.
#
#   tests/lab/gui-fixes.sh [--via wizard|host-page] [--flatpak]   (default: the setup wizard)
#
# Needs root (namespaces, libvirtd) and a meson build's compiled schemas
# (_build/data); ./dev test runs it in the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/gui-fixes.sh: needs root" >&2; exit 2; }

# The Flatpak brings its own compiled schemas; LAB_DOCTOR needs a meson build's.
if [[ " $* " == *" --flatpak "* ]]; then
    source tests/lab/env.sh --cli
    [[ -n ${LAB_FLATPAK_REPO:-} ]] || { echo "tests/lab/gui-fixes.sh: no Flatpak built (tests/flatpak/build.sh)" >&2; exit 2; }
else
    source tests/lab/env.sh --gui
fi

started=$SECONDS
tests/lab/lab.sh python3 tests/lab/gui_fixes.py --shots "$target_dir/gui/lab" "$@"
echo "  S1 and S3 fixed by clicking ${*:-(wizard)}: $((SECONDS - started)) s"
