# shellcheck shell=bash
# Shared by the firewall lab's scripts (capture.sh, demo-host.sh): a real
# host built inside fresh network + mount + PID namespaces, so the cached
# Debian 13 root is never modified and every daemon dies with the script.
# Source it as PID 1 of those namespaces (unshare --net --mount --pid
# --fork --kill-child); it defines functions and the variable `state`.

# A host's private /proc, /sys, /run and libvirt state, and a scratch
# directory `state` removed on exit. /tmp is left alone: a checkout cloned
# under /tmp must stay visible.
host_namespaces() {
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t tmpfs tmpfs /run
    local dir
    for dir in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /var/lib/dbus; do
        mkdir -p "$dir"
        mount -t tmpfs tmpfs "$dir"
    done
    state=$(mktemp -d)
    trap 'rm -rf "$state"' EXIT
    private_copy /etc/libvirt
    private_copy /etc/ufw
    private_copy /etc/default/ufw
    private_copy /etc/firewalld
    # UFW starts disabled whatever the root's copy says; a scenario enables it.
    sed -i 's/^ENABLED=.*/ENABLED=no/' /etc/ufw/ufw.conf
    # libvirt's nftables backend adds a tc filter with `action csum` to fix
    # DHCP reply checksums for old guests (nftables has no CHECKSUM target).
    # The lab machine's kernel is built without act_csum and has no modules,
    # so `tc` is wrapped to skip only that filter; netfilter is untouched.
    local tc_bin
    tc_bin=$(command -v tc)
    cp "$tc_bin" "$state/tc.real"
    printf '#!/bin/sh\ncase " $* " in *" action csum "*) exit 0 ;; esac\nexec %s "$@"\n' "$state/tc.real" >"$state/tc"
    chmod +x "$state/tc"
    mount --bind "$state/tc" "$tc_bin"
    # dnsmasq forwards unknown names to the host's resolvers: point them at
    # the lab's "internet" so nothing is ever sent outside.
    echo "nameserver 198.51.100.53" >"$state/resolv.conf"
    mount --bind "$state/resolv.conf" /etc/resolv.conf
    rm -f /etc/libvirt/qemu/networks/*.xml /etc/libvirt/qemu/networks/autostart/*.xml /etc/libvirt/qemu/*.xml
    echo 'namespaces = [ ]' >>/etc/libvirt/qemu.conf
    ip link set lo up
}

# Replaces $1 (a file or directory) by a writable copy in `state`.
private_copy() {
    cp -a "$1" "$state/$(echo "$1" | tr / _)"
    mount --bind "$state/$(echo "$1" | tr / _)" "$1"
}

# libvirt's firewall backend: nftables or iptables.
firewall_backend() {
    echo "firewall_backend = \"$1\"" >>/etc/libvirt/network.conf
}

# The host's uplink enp3s0 (203.0.113.2/24, default via 203.0.113.1) and a
# fake internet behind it: an "isp" namespace serving HTTP on 198.51.100.80.
host_uplink() {
    ip netns add isp
    ip link add enp3s0 type veth peer name isp0 netns isp
    ip addr add 203.0.113.2/24 dev enp3s0
    ip link set enp3s0 up
    ip route add default via 203.0.113.1 dev enp3s0
    nsenter --net=/run/netns/isp ip link set lo up
    nsenter --net=/run/netns/isp ip addr add 203.0.113.1/24 dev isp0
    nsenter --net=/run/netns/isp ip link set isp0 up
    nsenter --net=/run/netns/isp ip addr add 198.51.100.80/32 dev lo
    mkdir -p "$state/www"
    echo "lab internet" >"$state/www/index.html"
    nsenter --net=/run/netns/isp python3 -m http.server 80 --bind 198.51.100.80 --directory "$state/www" >/dev/null 2>&1 &
}

# A system bus, as on any desktop (libvirt asks it for firewalld).
system_bus() {
    mkdir -p /run/dbus
    dbus-daemon --system --fork
}

has_name() {
    [[ $(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null) == "b true" ]]
}

wait_for_name() {
    local _
    for _ in $(seq 300); do
        has_name "$1" && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): $1 did not appear on the system bus" >&2
    return 1
}

# libvirtd, waited for until its socket answers.
start_libvirtd() {
    libvirtd -d
    local _
    for _ in $(seq 100); do
        [[ -S /run/libvirt/libvirt-sock ]] && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): libvirtd did not start" >&2
    return 1
}

# The filter and nat rules Docker Engine creates at start (no containers),
# through $1 (iptables = iptables-nft here, or iptables-legacy). Each step
# goes through `run`, which the caller defines (to record it, or not).
docker_rules() {
    local ipt=$1 args
    run ip link add docker0 type bridge
    run ip addr add 172.17.0.1/16 dev docker0
    run ip link set docker0 up
    run sysctl -qw net.ipv4.ip_forward=1
    for args in \
        "-N DOCKER" "-N DOCKER-ISOLATION-STAGE-1" "-N DOCKER-ISOLATION-STAGE-2" "-N DOCKER-USER" \
        "-P FORWARD DROP" \
        "-A FORWARD -j DOCKER-USER" "-A FORWARD -j DOCKER-ISOLATION-STAGE-1" \
        "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT" \
        "-A FORWARD -o docker0 -j DOCKER" "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT" \
        "-A FORWARD -i docker0 -o docker0 -j ACCEPT" \
        "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2" \
        "-A DOCKER-ISOLATION-STAGE-1 -j RETURN" "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP" \
        "-A DOCKER-ISOLATION-STAGE-2 -j RETURN" "-A DOCKER-USER -j RETURN" \
        "-t nat -N DOCKER" "-t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER" \
        "-t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER" \
        "-t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" \
        "-t nat -A DOCKER -i docker0 -j RETURN"; do
        # shellcheck disable=SC2086 # the rule is a list of words
        run "$ipt" $args
    done
}

# The versions of what the host runs, for a fixture's notes.
host_versions() {
    echo "kernel $(uname -r); libvirt $(libvirtd --version | awk '{print $NF}'); $(nft --version | cut -d' ' -f1-2);"
    echo "$(iptables --version); ufw $(dpkg-query -W -f '${Version}' ufw); firewalld $(dpkg-query -W -f '${Version}' firewalld);"
    echo "dnsmasq $(dpkg-query -W -f '${Version}' dnsmasq-base)."
}
