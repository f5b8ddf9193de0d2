#!/usr/bin/env bash
# The app on a server reached over SSH (`qemu+ssh://`), as virt-manager's
# most common remote setup: run inside tests/libvirtd/with-libvirtd.sh,
# whose libvirtd plays the server. An sshd of this test's own lets root in
# with a key, and its sessions find the server's vmnet-doctor on PATH; the
# desktop reaches it through a link as slow as a distant server's (150 ms
# each way, tests/ssh/slow-link.py).
#
#   with-libvirtd.sh remote-ssh-libvirtd.sh BINARY OUTPUT.png [SCREENSHOT OPTIONS…]
#
# Proves: the VM list is on screen before the server's host facts, which
# take a login of their own (the app does not wait for them); the Host
# page then shows the facts read on the server, with nothing asked of the
# user (BatchMode, the URI's keyfile); and a refresh reads them again over
# the same login (OpenSSH's shared connection), not a new one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "$1") output=$2
shift 2
[[ "${VMNET_DOCTOR_IN_LIBVIRTD_NS:-}" == 1 ]] || { echo "run me through tests/libvirtd/with-libvirtd.sh" >&2; exit 2; }
fail() { echo "remote-ssh-libvirtd: $*" >&2; exit 1; }
# shellcheck source=tests/lib/wait-for-line.sh
source "$here/../lib/wait-for-line.sh"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The server's vmnet-doctor on its sessions' PATH (sshd_config cannot
# hold a path with spaces, which a checkout may have).
mkdir -p "$work/server-bin" /run/sshd
ln -s "$binary" "$work/server-bin/vmnet-doctor"
ssh-keygen -q -t ed25519 -N "" -f "$work/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
sed -e "s|@ADDRESS@|127.0.0.1|" -e "s|@PORT@|2222|" -e "s|@DIR@|$work|" \
    -e "s|@PATH@|$work/server-bin:/usr/sbin:/usr/bin:/sbin:/bin|" \
    "$here/../ssh/sshd_config.in" >"$work/sshd_config"
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
pids+=($!)
wait_for_line "$work/sshd.log" "Server listening on 127.0.0.1 port 2222" "${pids[-1]}"
python3 -u "$here/../ssh/slow-link.py" 2223 2222 150 >"$work/link.log" 2>&1 &
pids+=($!)
wait_for_line "$work/link.log" "slow-link listening on 127.0.0.1:2223" "${pids[-1]}"

uri="qemu+ssh://root@127.0.0.1:2223/system?keyfile=$work/client_key&no_verify=1"
"$here/screenshot.sh" "$binary" "$output" --log "$work/app.log" --event-timeout 60 \
    --keys ctrl+h --then-expect host-page-shown --keys F5 --then-expect refreshed "$@" -- --connect "$uri"

# The list came first: painted at least one login (several round trips of
# 300 ms) before the frame with the whole diagnosis.
listed=$(sed -n 's/^vmnet-doctor: vm-list-populated \([0-9.]*\) ms vms=1$/\1/p' "$work/app.log")
diagnosed=$(sed -n 's/^vmnet-doctor: diagnosed \([0-9.]*\) ms$/\1/p' "$work/app.log")
[[ -n $listed && -n $diagnosed ]] || { cat "$work/app.log" >&2; fail "no list or no diagnosis reported"; }
echo "VM list painted at $listed ms, the whole diagnosis (the server's facts) at $diagnosed ms"
python3 -c 'import sys; sys.exit(float(sys.argv[2]) - float(sys.argv[1]) < 300)' "$listed" "$diagnosed" ||
    fail "the list waited for the server's host facts (listed at $listed ms, diagnosed at $diagnosed ms)"
# The Host page shows facts read on the server, over the second login: the
# server (this namespace) has no uplink, and its one finding, no default
# route, can only come from its facts.
grep -q "^vmnet-doctor: host-page-shown networks=1 findings=1 host=known$" "$work/app.log" ||
    { cat "$work/app.log" >&2; fail "the Host page did not show the server's host facts"; }
echo "the Host page shows the server's facts, read over SSH"
# Two logins in all: libvirt's, and the one the facts share (the first
# read and the refresh's).
logins=$(grep -c "Accepted publickey for root" "$work/sshd.log" || true)
[[ $logins -eq 2 ]] || { cat "$work/sshd.log" >&2; fail "$logins logins: libvirt's and one shared by the facts reads expected"; }
echo "the refresh read the server's facts again over the shared login (2 logins in all)"
