#!/usr/bin/env bash
# The app reconnects by itself after libvirtd restarts, and shows the list
# again (tests/lab/daemon_restart.py), in a fresh lab (tests/lab/lab.sh);
# prints the time from the daemon's restart to the list shown again. The
# window while the daemon is down: target/gui/lab/reconnecting.png.
#
#   tests/lab/reconnect.sh
#
# Needs root (namespaces, libvirtd) and a meson build's compiled schemas
# (_build/data); ./dev test runs it in the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/reconnect.sh: needs root" >&2; exit 2; }

source tests/lab/env.sh --gui

started=$SECONDS
# Measured as the event latency is: the lab (libvirtd, the app) at a higher
# priority than the builds and tests ./dev test runs beside it.
nice -n -10 tests/lab/lab.sh python3 tests/lab/daemon_restart.py \
    --shot "$target_dir/gui/lab/reconnecting.png" "$@"
echo "  reconnect after a libvirtd restart: $((SECONDS - started)) s"
