#!/usr/bin/env bash
# systemd's own offline check of the helper's unit (no systemd as PID 1
# needed): ExecStart pointed at the built helper. systemd-analyze only warns
# (exit 0) on a misspelled key, so any output at all fails.
set -euo pipefail
helper_dir=${1:?usage: verify-unit.sh DIR-WITH-vmnet-doctor-helper}
work=$(mktemp -d)
unit=$work/vmnet-doctor-helper.service
# ExecStart= is split at spaces: the helper by a path without any.
ln -s "$(cd "$helper_dir" && pwd)/vmnet-doctor-helper" "$work/vmnet-doctor-helper"
sed -e "s|@LIBEXECDIR@|$work|" -e "s|@TMPFILESDIR@|/usr/lib/tmpfiles.d|" "$(dirname "$0")/../../data/helper/vmnet-doctor-helper.service.in" >"$unit"
out=$(systemd-analyze verify --man=no "$unit" 2>&1) || { echo "$out" >&2; exit 1; }
if [[ -n "$out" ]]; then
    echo "systemd-analyze verify complained about the helper's unit:" >&2
    echo "$out" >&2
    exit 1
fi
echo "systemd-analyze verify: the helper's unit is clean"
