#!/usr/bin/env bash
# Runs a command beside a real libvirt daemon (qemu + network drivers) that
# lives in its own network, mount and PID namespaces: its bridges, dnsmasq
# and firewall rules never touch the host, its state is on tmpfs, and it
# dies with the command.
#
#   with-libvirtd.sh COMMAND [ARGS…]
#
# Inside, a system bus with polkitd runs, qemu:///system answers, `default` is the guide's NAT network
# (defined, started, autostarted), and the VM `debian13` (virtio NIC on
# `default`, guest agent channel) is defined and shut off.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [[ "${VMNET_DOCTOR_IN_LIBVIRTD_NS:-}" != 1 ]]; then
    userns=()
    # Without root, a user namespace gives root inside the new namespaces
    # only (workstations that allow unprivileged user namespaces).
    [[ $(id -u) -eq 0 ]] || userns=(--user --map-root-user)
    exec unshare "${userns[@]}" --net --mount --pid --fork --kill-child --propagation unchanged \
        env VMNET_DOCTOR_IN_LIBVIRTD_NS=1 "$0" "$@"
fi

# Now PID 1 of fresh namespaces.
mount -t proc proc /proc
mount -t sysfs sysfs /sys # this namespace's links, not the host's
ip link set lo up
mount -t tmpfs tmpfs /run
for dir in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    mkdir -p "$dir"
    mount -t tmpfs tmpfs "$dir"
done
# A private, writable copy of the configuration.
state=$(mktemp -d)
cp -a /etc/libvirt "$state/etc-libvirt"
mount --bind "$state/etc-libvirt" /etc/libvirt
# Start like a host whose `default` network was never defined (the
# guide's Arch case); the script defines the guide's own below.
rm -f /etc/libvirt/qemu/networks/*.xml /etc/libvirt/qemu/networks/autostart/*.xml /etc/libvirt/qemu/*.xml
# Mount namespaces for guests fail inside this namespace (field notes).
echo 'namespaces = [ ]' >>/etc/libvirt/qemu.conf
# QEMU runs as root here. /dev/kvm is root's alone in this build root, and
# libvirt probes QEMU as root but checks /dev/kvm as its qemu user: it would
# find "KVM no longer available" and probe QEMU again on every call (about
# 10 s per `virsh define`). Guests here are TCG (type='qemu') anyway.
printf 'user = "root"\ngroup = "root"\n' >>/etc/libvirt/qemu.conf

# qemu:///session starts a per-user daemon under XDG_RUNTIME_DIR.
export XDG_RUNTIME_DIR=$state/runtime
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
chmod 0755 "$state"

log=$state/libvirtd.log
# libvirt asks polkit (org.libvirt.unix.manage) when a user outside the
# libvirt group connects read-write: a system bus and polkitd, as on a desktop.
mkdir -p /run/dbus
dbus-daemon --system --fork
/usr/lib/polkit-1/polkitd --no-debug >"$state/polkitd.log" 2>&1 &
for _ in $(seq 100); do
    busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && break
    sleep 0.1
done
virtlogd -d
libvirtd -d --listen 2>/dev/null || libvirtd -d
for _ in $(seq 100); do
    [[ -S /run/libvirt/libvirt-sock ]] && break
    sleep 0.1
done
[[ -S /run/libvirt/libvirt-sock ]] || { echo "libvirtd did not start" >&2; exit 1; }

virsh -q -c qemu:///system net-define "$here/default-network.xml" >"$log"
virsh -q -c qemu:///system net-start default >>"$log"
virsh -q -c qemu:///system net-autostart default >>"$log"
virsh -q -c qemu:///system define "$here/debian13.xml" >>"$log"

"$@"
