#!/usr/bin/env bash
# The data path and the NAT translation table in the real app on the lab's
# real guest (tests/lab/gui_data_path.py), in a fresh lab (tests/lab/lab.sh);
# screenshots in target/gui/lab/, and the one README.md and the metainfo
# show (UFW's routed deny, as the path shows it) in data/screenshots/.
#
#   tests/lab/gui-data-path.sh
#
# Needs root (namespaces, libvirtd) and a meson build's compiled schemas
# (_build/data); ./dev test runs it in the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/gui-data-path.sh: needs root" >&2; exit 2; }

source tests/lab/env.sh --gui

started=$SECONDS
tests/lab/lab.sh python3 tests/lab/gui_data_path.py --shots "$target_dir/gui/lab"
cp "$target_dir/gui/lab/data-path-ufw.png" data/screenshots/data-path.png
echo "  data path and NAT table on the lab's guest: $((SECONDS - started)) s"
