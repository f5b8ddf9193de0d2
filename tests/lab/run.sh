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

source tests/lab/env.sh --cli

if [[ "${1:-}" == --shell ]]; then
    exec tests/lab/lab.sh tests/lab/shell.sh
fi
status=0
# All of them: three labs at once (LAB_JOBS), each scenario in its own. A
# scenario mostly waits on its guest (a boot under emulation, a lease):
# alone, three at once took 162 s instead of 456, each scenario about as
# long as alone. Not four: in ./dev test, beside its other lane, the 22
# scenarios took 360 s three at once and 371 s four at once.
if [[ $# -eq 0 ]]; then
    python3 tests/lab/scenarios.py --jobs "${LAB_JOBS:-3}" || status=$?
else
    python3 tests/lab/scenarios.py "$@" || status=$?
fi
# With no scenario named: also how fast the app shows libvirt's events (the
# app issue asks for 200 ms; the benchmark's 100 ms target is measured by
# ./dev bench). It needs the compiled GSettings schema of a meson build.
if [[ $# -eq 0 ]]; then
    export GSETTINGS_SCHEMA_DIR=${GSETTINGS_SCHEMA_DIR:-$PWD/_build/data}
    if [[ -f "$GSETTINGS_SCHEMA_DIR/gschemas.compiled" ]]; then
        echo "  event latency (the app under Xvfb in a fresh lab)"
        # The target is the app's, as on a desktop where it has the CPU it
        # asks for: ./dev test compiles and runs other tests beside the lab
        # on two cores, so the lab (libvirtd, the guest, the app) runs at a
        # higher priority than they do while it measures.
        nice -n -10 tests/lab/lab.sh python3 tests/lab/event-latency.py --target-median-ms 200 || status=1
        # The same while the app runs the guest checklist (issue #20: the UI
        # never waits on a guest; its target, 150 ms, is for the app's own time
        # from libvirt's event to the painted frame).
        echo "  event latency beside a guest checklist (a fresh lab)"
        nice -n -10 tests/lab/lab.sh python3 tests/lab/event-latency.py --beside-checklist \
            --target-median-ms 150 || status=1
    elif [[ ${CI:-} == true ]]; then
        echo "  FAILED event latency: no compiled schema in $GSETTINGS_SCHEMA_DIR (meson compile -C _build); CI skips nothing"
        status=1
    else
        echo "  SKIPPED event latency: no compiled schema in $GSETTINGS_SCHEMA_DIR (meson compile -C _build)"
    fi
fi
exit "$status"
