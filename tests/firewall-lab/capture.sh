#!/usr/bin/env bash
# The firewall lab: builds real hosts (libvirtd + the guide's `default`
# network + UFW / Docker-style iptables / firewalld) in private namespaces,
# measures what a stand-in guest can do, and captures every host fact VM
# Network Doctor reads, as fixtures.
#
# Run inside the project's Debian 13 build root (root there):
#   cd /work/main && ./dev shell bash tests/firewall-lab/capture.sh [--debug CMD] [SCENARIO…]
# With no SCENARIO, every scenario is captured. Output:
#   crates/core/tests/fixtures/host/SCENARIO/   (see its how.txt and ../README.md)
#
# Each scenario runs in fresh network + mount + PID namespaces (as
# tests/libvirtd/with-libvirtd.sh does): tmpfs on /run and libvirt's state
# directories, a fresh sysfs, private copies of /etc/libvirt, /etc/ufw,
# /etc/default/ufw, /etc/firewalld and /etc/resolv.conf, so the cached root
# is never modified. Inside, the host has:
#   - an uplink veth named like a real NIC, enp3s0 (203.0.113.2/24, default
#     route via 203.0.113.1), whose peer lives in an "isp" namespace that
#     plays the internet: 198.51.100.80 serves HTTP on port 80;
#   - a stand-in guest: a "vm" namespace whose enp1s0 is a veth whose peer
#     vnet0 is enslaved to virbr0 (where QEMU's tap would be); fakevm.sh
#     asks dnsmasq for a real lease and tries DNS, ping and HTTP (busybox's
#     udhcpc, nslookup, ping and wget).
# All addresses are documentation ranges (RFC 5737) or libvirt's own; no
# packet leaves the namespaces. The PID namespace ends every daemon.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out_root=$repo/crates/core/tests/fixtures/host

# name | libvirt firewall_backend | host firewall | extra step | what it shows
scenarios=(
    "nft-ufw-off|nftables|none|-|UFW installed but disabled; libvirt's nftables backend"
    "nft-ufw-default|nftables|ufw-default|-|UFW enabled with its defaults (routed deny); libvirt's nftables backend"
    "nft-ufw-guide|nftables|ufw-guide|-|UFW enabled plus the guide's three rules; libvirt's nftables backend (the healthy host)"
    "nft-ufw-route-only|nftables|ufw-route-only|-|UFW enabled plus only the guide's route rule (no allow in/out on virbr0); libvirt's nftables backend"
    "nft-ufw-default-legacy|nftables|ufw-default-legacy|-|UFW enabled with its defaults on iptables-legacy (alternatives point to legacy); libvirt's nftables backend"
    "nft-docker|nftables|docker|-|Docker-style FORWARD policy DROP via iptables-nft; libvirt's nftables backend"
    "nft-docker-legacy|nftables|docker-legacy|-|Docker-style FORWARD policy DROP via iptables-legacy; libvirt's nftables backend"
    "nft-firewalld|nftables|firewalld|-|firewalld running, libvirt put virbr0 in zone libvirt; libvirt's nftables backend"
    "nft-firewalld-public|nftables|firewalld|zone-public|firewalld running, virbr0 moved to zone public; libvirt's nftables backend"
    "nft-custom-input-drop|nftables|nft-input-drop|-|UFW disabled; a hand-written nftables input chain with policy drop (as hardening guides suggest)"
    "nft-forwarding-off|nftables|none|forwarding-off|UFW disabled, net.ipv4.ip_forward set to 0 after the network started"
    "nft-no-uplink|nftables|none|no-default-route|UFW disabled, the host's default route removed"
    "ipt-ufw-off|iptables|none|-|UFW installed but disabled; libvirt's iptables backend"
    "ipt-ufw-default|iptables|ufw-default|-|UFW enabled with its defaults before libvirt started; libvirt's iptables backend"
    "ipt-ufw-default-late|iptables|none|ufw-enable-late|UFW enabled with its defaults while the network was running; libvirt's iptables backend"
    "ipt-ufw-guide|iptables|ufw-guide|-|UFW enabled plus the guide's three rules; libvirt's iptables backend"
    "ipt-docker|iptables|docker|-|Docker-style FORWARD policy DROP via iptables-nft; libvirt's iptables backend"
    "ipt-firewalld|iptables|firewalld|-|firewalld running, virbr0 in zone libvirt; libvirt's iptables backend"
)

if [[ "${LAB_INNER:-}" != 1 ]]; then
    [[ $(id -u) -eq 0 ]] || { echo "capture.sh: run as root inside ./dev shell" >&2; exit 1; }
    if [[ "${1:-}" == --debug ]]; then LAB_DEBUG=$2; shift 2; fi
    wanted=("$@")
    for spec in "${scenarios[@]}"; do
        name=${spec%%|*}
        if [[ ${#wanted[@]} -gt 0 ]] && [[ " ${wanted[*]} " != *" $name "* ]]; then continue; fi
        echo "== $name" >&2
        unshare --net --mount --pid --fork --kill-child --propagation unchanged \
            env LAB_INNER=1 LAB_SPEC="$spec" LAB_DEBUG="${LAB_DEBUG:-}" bash "${BASH_SOURCE[0]}"
    done
    exit 0
fi

# ---- Inside: PID 1 of fresh namespaces, one scenario. ----
# shellcheck source=tests/firewall-lab/host-lib.sh
source "$here/host-lib.sh"
IFS='|' read -r name backend firewall extra description <<<"$LAB_SPEC"
out=$out_root/$name
rm -rf "$out"
mkdir -p "$out"
log=$out/how.txt
{
    echo "Scenario $name: $description."
    echo "Captured by tests/firewall-lab/capture.sh in the project's Debian 13 root on $(date -u +%F):"
    host_versions
    echo "Fresh network/mount/PID namespaces; uplink enp3s0 203.0.113.2/24, default via 203.0.113.1 (an \"isp\" netns"
    echo "serving HTTP on 198.51.100.80); libvirt's default network from tests/libvirtd/default-network.xml."
    echo "tc is wrapped to skip libvirt's 'action csum' DHCP checksum filter (no act_csum in this kernel)."
    echo "Commands run on the host, in order:"
} >"$log"
# Runs a setup command and records it in how.txt.
run() {
    printf '  %s\n' "$*" >>"$log"
    "$@"
}

host_namespaces
printf '  %s\n' "echo 'firewall_backend = \"$backend\"' >>/etc/libvirt/network.conf" >>"$log"
firewall_backend "$backend"

host_uplink
system_bus

# The host firewall, set up before libvirtd as at boot.
case $firewall in
    none) ;;
    ufw-default)
        run ufw --force enable >/dev/null
        ;;
    ufw-guide)
        run ufw --force enable >/dev/null
        run ufw allow in on virbr0 >/dev/null
        run ufw allow out on virbr0 >/dev/null
        run ufw route allow in on virbr0 out on enp3s0 >/dev/null
        ;;
    ufw-route-only)
        run ufw --force enable >/dev/null
        run ufw route allow in on virbr0 out on enp3s0 >/dev/null
        ;;
    ufw-default-legacy)
        # A host whose iptables alternatives point to the legacy backend: a
        # private copy of /etc/alternatives with the iptables links changed.
        private_copy /etc/alternatives
        for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
            run ln -sfn "/usr/sbin/${tool/tables/tables-legacy}" "/etc/alternatives/$tool"
        done
        run ufw --force enable >/dev/null
        ;;
    nft-input-drop)
        run nft add table inet filter
        run nft add chain inet filter input '{ type filter hook input priority filter; policy drop; }'
        run nft add rule inet filter input ct state established,related accept
        run nft add rule inet filter input iif lo accept
        run nft add rule inet filter input tcp dport 22 accept
        ;;
    docker) docker_rules iptables ;;
    docker-legacy) docker_rules iptables-legacy ;;
    firewalld)
        printf '  %s\n' "firewalld --nofork --log-target console &" >>"$log"
        firewalld --nofork --log-target console >"$state/firewalld.log" 2>&1 &
        wait_for_name org.fedoraproject.FirewallD1 || { cat "$state/firewalld.log" >&2; exit 1; }
        ;;
    *) echo "capture.sh: unknown firewall $firewall" >&2; exit 1 ;;
esac

printf '  %s\n' "libvirtd -d" "virsh net-define default-network.xml; virsh net-start default" >>"$log"
start_libvirtd
virsh -q -c qemu:///system net-define "$repo/tests/libvirtd/default-network.xml" >/dev/null
virsh -q -c qemu:///system net-start default >/dev/null

case $extra in
    -) ;;
    zone-public) run firewall-cmd -q --zone=public --change-interface=virbr0 ;;
    forwarding-off) run sysctl -qw net.ipv4.ip_forward=0 ;;
    no-default-route) run ip route del default ;;
    ufw-enable-late) run ufw --force enable >/dev/null ;;
    *) echo "capture.sh: unknown step $extra" >&2; exit 1 ;;
esac

# The stand-in guest, plugged into virbr0 where QEMU's tap would be.
printf '  %s\n' "(guest) veth vnet0 in virbr0 <-> enp1s0 in netns vm; fakevm.sh: DHCP, DNS, ping, HTTP" >>"$log"
ip netns add vm
ip link add vnet0 type veth peer name enp1s0 netns vm
ip link set vnet0 master virbr0
ip link set vnet0 up
nsenter --net=/run/netns/vm ip link set lo up
nsenter --net=/run/netns/vm ip link set enp1s0 up
# STP is on: the kernel holds a new port in listening/learning for twice the
# (minimum 2 s) forward delay. Probe once it forwards (state 3).
for _ in $(seq 150); do
    [[ $(cat /sys/class/net/vnet0/brport/state) == 3 ]] && break
    sleep 0.1
done
nsenter --net=/run/netns/vm sh "$here/fakevm.sh" enp1s0 198.51.100.80 192.168.122.50/24 >"$out/probe.txt"

# --debug 'commands' runs them here, to look around a scenario by hand.
if [[ -n "${LAB_DEBUG:-}" ]]; then bash -c "$LAB_DEBUG" || true; fi

# ---- Capture, as vmnet-doctor-host reads it. ----
cmd=$out/commands
mkdir -p "$cmd"
nft -j list ruleset >"$cmd/nft-list-ruleset.json"
nft list ruleset >"$cmd/nft-list-ruleset.txt" # for people reading the fixture
iptables-legacy-save >"$cmd/iptables-legacy-save.txt"
iptables-nft-save >"$cmd/iptables-nft-save.txt"
ufw status verbose >"$cmd/ufw-status-verbose.txt" 2>&1 || true
ip -j -d addr show >"$cmd/ip-addr.json"
if has_name org.fedoraproject.FirewallD1; then
    busctl --system --json=short call org.fedoraproject.FirewallD1 /org/fedoraproject/FirewallD1 \
        org.fedoraproject.FirewallD1.zone getActiveZones >"$cmd/firewalld-getActiveZones.json"
fi

mkdir -p "$out/proc/sys/net/ipv4" "$out/proc/net"
cp /proc/sys/net/ipv4/ip_forward "$out/proc/sys/net/ipv4/ip_forward"
cp /proc/net/route "$out/proc/net/route"
cp /proc/net/ipv6_route "$out/proc/net/ipv6_route"

mkdir -p "$out/etc/ufw" "$out/etc/default" "$out/etc/libvirt"
cp /etc/ufw/ufw.conf "$out/etc/ufw/ufw.conf"
cp /etc/default/ufw "$out/etc/default/ufw"
cp /etc/libvirt/network.conf "$out/etc/libvirt/network.conf"

for link in /sys/class/net/*; do
    n=$(basename "$link")
    dst=$out/sys/class/net/$n
    mkdir -p "$dst"
    for attr in address operstate flags mtu type ifindex uevent; do
        cat "$link/$attr" >"$dst/$attr" 2>/dev/null || rm -f "$dst/$attr"
    done
    if [[ -d $link/bridge ]]; then
        mkdir -p "$dst/bridge"
        cp "$link/bridge/stp_state" "$link/bridge/forward_delay" "$dst/bridge/"
    fi
    if [[ -L $link/master ]]; then
        ln -s "../$(basename "$(readlink "$link/master")")" "$dst/master"
    fi
done

mkdir -p "$out/run/libvirt/network" "$out/var/lib/libvirt/dnsmasq"
for pidfile in /run/libvirt/network/*.pid; do
    [[ -e $pidfile ]] || continue
    cp "$pidfile" "$out/run/libvirt/network/"
    pid=$(cat "$pidfile")
    mkdir -p "$out/proc/$pid"
    cp "/proc/$pid/comm" "$out/proc/$pid/comm"
done
cp /var/lib/libvirt/dnsmasq/virbr0.status /var/lib/libvirt/dnsmasq/default.conf "$out/var/lib/libvirt/dnsmasq/"

echo "Guest probe (tests/firewall-lab/fakevm.sh), in probe.txt:" >>"$log"
sed 's/^/  /' "$out/probe.txt" >>"$log"
cat "$out/probe.txt" >&2
