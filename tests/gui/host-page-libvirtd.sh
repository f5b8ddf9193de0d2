#!/usr/bin/env bash
# The Host page on a real libvirtd: run inside tests/libvirtd/with-libvirtd.sh
# (its namespaces, `default` network and VM debian13), with what a real host
# has and that wrapper does not: an uplink with a default route and a guest
# holding a DHCP lease on `default`.
#
#   with-libvirtd.sh host-page-libvirtd.sh BINARY OUTPUT.png [SCREENSHOT OPTIONS…]
#
# The uplink is a veth named like a real NIC, enp3s0 (203.0.113.2/24, the
# documentation range), whose peer sits alone in a namespace: nothing leaves
# this network namespace. The "guest" is busybox's udhcpc in a namespace
# plugged into virbr0 where a VM's tap would be: dnsmasq gives it a real
# lease, which libvirt reports.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$1 output=$2
shift 2
[[ "${VMNET_DOCTOR_IN_LIBVIRTD_NS:-}" == 1 ]] || { echo "run me through tests/libvirtd/with-libvirtd.sh" >&2; exit 2; }

# The uplink and the default route.
ip netns add isp
ip link add enp3s0 type veth peer name isp0 netns isp
ip addr add 203.0.113.2/24 dev enp3s0
ip link set enp3s0 up
nsenter --net=/run/netns/isp ip addr add 203.0.113.1/24 dev isp0
nsenter --net=/run/netns/isp ip link set isp0 up
ip route add default via 203.0.113.1 dev enp3s0
# The "ISP" leads nowhere: name lookups (libvirt resolves the host name)
# must fail at once rather than wait for resolvers out of reach.
for resolver in $(awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ { print $2 }' /etc/resolv.conf); do
    ip route add unreachable "$resolver/32"
done

# A guest on `default` holding a lease (nsenter: `ip netns exec` remounts /,
# which fails in the build root's chroot).
ip netns add guest
ip link add vnet0 type veth peer name eth0 netns guest
ip link set vnet0 master virbr0 up
nsenter --net=/run/netns/guest ip link set eth0 address 52:54:00:6b:3c:58 up
nsenter --net=/run/netns/guest busybox udhcpc -i eth0 -f -q -n -t 5 -T 2 -s /bin/true -x hostname:debian13 >/dev/null
# libvirt's leases helper records the lease just after dnsmasq's answer.
for _ in $(seq 50); do
    [[ "$(virsh -q -c qemu:///system net-dhcp-leases default 2>/dev/null)" == *52:54:00:6b:3c:58* ]] && break
    sleep 0.1
done

"$here/screenshot.sh" "$binary" "$output" --keys ctrl+h --then-expect host-page-shown "$@" -- --connect qemu:///system
