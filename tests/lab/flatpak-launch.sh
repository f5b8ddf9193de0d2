#!/usr/bin/env bash
# The installed Flatpak started from the app menu (tests/lab/flatpak_launch.py)
# in a fresh lab (tests/lab/lab.sh), as the lab's desktop user.
#
#   tests/lab/flatpak-launch.sh
#
# Needs root (namespaces, libvirtd) and the Flatpak built by
# tests/flatpak/build.sh; ./dev test runs it in the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/flatpak-launch.sh: needs root" >&2; exit 2; }

source tests/lab/env.sh --cli
[[ -n ${LAB_FLATPAK_REPO:-} ]] || { echo "tests/lab/flatpak-launch.sh: no Flatpak built (tests/flatpak/build.sh)" >&2; exit 2; }

started=$SECONDS
tests/lab/lab.sh python3 tests/lab/flatpak_launch.py
echo "  the Flatpak launched from the app menu: $((SECONDS - started)) s"
