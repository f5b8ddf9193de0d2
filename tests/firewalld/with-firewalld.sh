#!/usr/bin/env bash
# Runs a command beside a real firewalld on a private system bus, in its own
# network, mount and PID namespaces: its nftables rules and its permanent
# configuration (a private copy of /etc/firewalld) never touch the host,
# and it dies with the command.
#
#   with-firewalld.sh COMMAND [ARGS…]
#
# It needs root (or unprivileged user namespaces) and firewalld installed.
set -euo pipefail

if [[ "${VMNET_DOCTOR_IN_FIREWALLD_NS:-}" != 1 ]]; then
    userns=()
    [[ $(id -u) -eq 0 ]] || userns=(--user --map-root-user)
    exec unshare "${userns[@]}" --net --mount --pid --fork --kill-child --propagation unchanged \
        env VMNET_DOCTOR_IN_FIREWALLD_NS=1 "$0" "$@"
fi

# Now PID 1 of fresh namespaces.
mount -t proc proc /proc
mount -t sysfs sysfs /sys # this namespace's links, not the host's
ip link set lo up
mount -t tmpfs tmpfs /run
state=$(mktemp -d)
cp -a /etc/firewalld "$state/etc-firewalld"
mount --bind "$state/etc-firewalld" /etc/firewalld

mkdir -p /run/dbus
dbus-daemon --system --fork
firewalld --nofork --nopid >"$state/firewalld.log" 2>&1 &
for _ in $(seq 150); do
    firewall-cmd --state >/dev/null 2>&1 && break
    sleep 0.2
done
firewall-cmd --state >/dev/null 2>&1 || { cat "$state/firewalld.log" >&2; echo "firewalld did not start" >&2; exit 1; }

"$@"
