#!/usr/bin/env bash
# `./dev run` without a display: the commands that open no window work (the
# diagnosis of the demo hypervisor, --help), and the window says why it
# cannot open instead of failing somewhere else.
set -euo pipefail
cd "$(dirname "$0")/../.."
unset DISPLAY WAYLAND_DISPLAY
fail() { echo "no-display: $*" >&2; exit 1; }

status=0
report=$(./dev run -- check --demo --json) || status=$?
# 1: problems found (the demo has them on purpose); 0 or 2 would be wrong here.
[[ $status -eq 1 ]] || fail "check --demo exited $status, expected 1 (problems found)"
python3 -c '
import json, sys
report = json.loads(sys.argv[1])
ids = {finding["id"] for finding in report["findings"]}
assert report["checked"] and "network-inactive" in ids, sorted(ids)
' "$report" || fail "check --demo --json did not report the demo's findings"
echo "  ./dev run -- check --demo --json: the demo's findings, exit 1"

./dev run -- --help | grep -q "vmnet-doctor check" || fail "--help printed no usage"
echo "  ./dev run -- --help: the usage"

status=0
message=$(./dev run 2>&1 >/dev/null) || status=$?
[[ $status -ne 0 ]] || fail "the window \"opened\" without a display"
[[ "$message" == *"cannot open a display"* ]] || fail "the window failed without saying why: $message"
echo "  ./dev run (the window): exit $status, “cannot open a display”"
