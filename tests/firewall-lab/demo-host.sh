#!/usr/bin/env bash
# Records the demo hypervisor's host: builds a real host in fresh
# namespaces with the demo's own networks (from data/demo/demo-hypervisor.xml),
# its bridge br0 over enp4s0, Docker's rules with br_netfilter on, and a
# VPN that takes the default route by policy routing as wg-quick does; then
# writes what `vmnet-doctor facts` reads there, as the demo's host network.
#
# The demo changes its networks (its fixes start lab-nat, and move nat-copy
# to a free subnet and start it), and a host's bridges, dnsmasq and
# firewall rules follow its running networks: the host is recorded once
# for each set of running networks the demo's fixes can reach, and the app
# shows the recording that matches (src/demo_host.rs).
#
# Run inside the project's Debian 13 build root (root there):
#   ./dev shell bash tests/firewall-lab/demo-host.sh target/debug/vmnet-doctor [OUT]
# OUT defaults to data/demo/host-facts.json.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
demo=$repo/data/demo/demo-hypervisor.xml

# The networks started beyond those demo:state starts, one recording each.
states=("" "lab-nat" "nat-copy" "lab-nat nat-copy")

if [[ "${LAB_INNER:-}" != 1 ]]; then
    [[ $(id -u) -eq 0 ]] || { echo "demo-host.sh: run as root inside ./dev shell" >&2; exit 1; }
    [[ $# -ge 1 && -x $1 ]] || { echo "usage: demo-host.sh VMNET_DOCTOR [OUT]" >&2; exit 2; }
    binary=$(realpath "$1")
    out=$(realpath -m "${2:-$repo/data/demo/host-facts.json}")
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    for index in "${!states[@]}"; do
        unshare --net --mount --pid --fork --kill-child --propagation unchanged \
            env LAB_INNER=1 LAB_BINARY="$binary" LAB_START="${states[$index]}" bash "${BASH_SOURCE[0]}" \
            >"$work/state-$index.json"
    done
    python3 - "$out" "$(date -u +%F)" "$work"/state-*.json <<'PY'
import json, sys
out, date, files = sys.argv[1], sys.argv[2], sys.argv[3:]
states = [json.load(open(path)) for path in sorted(files)]
document = {
    "schema": "vmnet-doctor-demo-host/1",
    "recorded": {
        "by": "tests/firewall-lab/demo-host.sh",
        "date": date,
        "host": states[0]["host"].strip(),
        "note": "wg0 is a veth standing in for WireGuard (no wireguard module in the lab kernel)",
    },
    "states": [],
}
for state in states:
    state.pop("host", None)
    running = state.pop("running")
    # Each state holds the document `vmnet-doctor facts` printed there.
    document["states"].append({"running": running, "document": state})
with open(out, "w") as file:
    json.dump(document, file, sort_keys=True, separators=(",", ":"))
    file.write("\n")
PY
    echo "demo-host.sh: wrote $out (${#states[@]} states)" >&2
    exit 0
fi

# ---- Inside: PID 1 of fresh namespaces. ----
# shellcheck source=tests/firewall-lab/host-lib.sh
source "$here/host-lib.sh"
run() { "$@"; }

host_namespaces
firewall_backend iptables
host_uplink
system_bus

# br0, the LAN bridge of the demo's home-assistant, over enp4s0; the LAN
# (192.0.2.0/24) is a namespace of its own.
ip netns add lan
ip link add enp4s0 type veth peer name lan0 netns lan
ip link add br0 type bridge stp_state 0
ip link set enp4s0 master br0
ip link set enp4s0 up
ip addr add 192.0.2.10/24 dev br0
ip link set br0 up
nsenter --net=/run/netns/lan ip addr add 192.0.2.1/24 dev lan0
nsenter --net=/run/netns/lan ip link set lan0 up

# Docker Engine, started at boot before libvirt; it loads br_netfilter and
# turns on bridge-nf-call-iptables, so bridged frames meet its FORWARD DROP.
docker_rules iptables
sysctl -qw net.bridge.bridge-nf-call-iptables=1

start_libvirtd
# The demo's networks, each defined and started as its demo:state says, and
# those of LAB_START too. nat-copy is started as the app's fix leaves it:
# moved off default's subnet to the first free private /24.
networks=()
running=()
while IFS=$'\t' read -r name active file; do
    virsh -q -c qemu:///system net-define "$file" >/dev/null
    if [[ $active == yes || " $LAB_START " == *" $name "* ]]; then
        virsh -q -c qemu:///system net-start "$name" >/dev/null
        running+=("$name")
    fi
    networks+=("$name")
done < <(python3 - "$demo" "$state" "$LAB_START" <<'PY'
import sys
import xml.etree.ElementTree as ET
DEMO = "{https://vmnetdoctor.github.io/xmlns/demo/1.0}state"
started = sys.argv[3].split()
for index, network in enumerate(ET.parse(sys.argv[1]).getroot().iter("network")):
    name = network.findtext("name")
    state = network.find(f"metadata/{DEMO}")
    active = state.get("active", "yes") if state is not None else "yes"
    if name == "nat-copy" and name in started:
        for element in network.iter():
            for attribute in ("address", "start", "end", "ip"):
                value = element.get(attribute, "")
                if value.startswith("192.168.122."):
                    element.set(attribute, "192.168.123." + value.rsplit(".", 1)[1])
    path = f"{sys.argv[2]}/network-{index}.xml"
    ET.ElementTree(network).write(path)
    print(f"{name}\t{active}\t{path}")
PY
)

# A WireGuard VPN as wg-quick sets it up: its own address, MTU 1420, the
# default route in table 51820 and the rules that select it. This kernel
# has no wireguard module: a veth to a "vpn" namespace stands in for wg0.
ip netns add vpn
ip link add wg0 type veth peer name vpn0 netns vpn
ip addr add 10.64.0.2/32 dev wg0
ip link set wg0 mtu 1420 up
nsenter --net=/run/netns/vpn ip link set vpn0 mtu 1420 up
ip -4 route add 0.0.0.0/0 dev wg0 table 51820
ip -4 rule add not fwmark 51820 table 51820
ip -4 rule add table main suppress_prefixlength 0
sysctl -qw net.ipv4.conf.all.src_valid_mark=1

"$LAB_BINARY" facts "${networks[@]}" | python3 -c '
import json, sys
document = json.load(sys.stdin)
document["running"] = sys.argv[1].split()
document["host"] = sys.argv[2]
json.dump(document, sys.stdout)
' "${running[*]}" "$(host_versions | tr '\n' ' ')"
