#!/bin/sh
# A stand-in guest for the firewall lab: measures what a VM on the bridge can do.
#
# Runs inside the lab's "vm" network namespace, whose only interface (enp1s0)
# is a veth whose peer (vnet0) is enslaved to the libvirt bridge, exactly
# where a QEMU tap would be. It asks libvirt's dnsmasq for a lease with
# busybox's udhcpc (a real DHCP DISCOVER/REQUEST, so dnsmasq writes a real
# lease), then tries DNS to the bridge address (nslookup), ICMP echo (ping)
# and HTTP (wget) to the lab's fake internet host, and prints one
# "name: ok|blocked (detail)" line per probe. These lines are the ground
# truth the netfilter evaluator's verdicts are tested against.
#
#     fakevm.sh IFACE INTERNET_IP FALLBACK_CIDR
#
# udhcpc runs this same script at its events (`fakevm.sh bound`, …): on
# "bound" it writes the lease to $FAKEVM_LEASE, and nothing else; the address
# is configured below, from the lease or else FALLBACK_CIDR.
#
# Needs root in the namespace, `ip` and busybox (udhcpc, nslookup, ping, wget).
set -u

case ${1:-} in
    bound | renew)
        # shellcheck disable=SC2154 # udhcpc's environment
        echo "$ip/$mask ${router%% *}" >"$FAKEVM_LEASE"
        exit 0
        ;;
    deconfig | leasefail | nak) exit 0 ;;
esac

iface=$1 internet=$2 fallback=$3
# Seconds ping and wget wait; nslookup waits its default 5 s. dnsmasq pings
# an address (about 3 s) before it offers it, so DHCP sends 3 DISCOVERs 4 s
# apart.
timeout=3

report() { # NAME ok|blocked DETAIL
    printf '%s: %s (%s)\n' "$1" "$2" "$3"
}
# The last line a failed applet printed, without its "applet: " or ";; " prefix.
why() {
    printf '%s\n' "$1" | sed '/^[[:space:]]*$/d' | tail -n 1 | sed 's/^[a-z]*: //; s/^;; //'
}

ip link set "$iface" up
lease=$(mktemp)
# -B asks for broadcast replies (no address yet), -C sends no client id, as
# the Python stand-in did; udhcpc's own messages go to stderr.
FAKEVM_LEASE=$lease busybox udhcpc -i "$iface" -n -q -t 3 -T 4 -B -C \
    -x hostname:labvm -s "$(realpath "$0")" >&2
if [ -s "$lease" ]; then
    read -r cidr router <"$lease"
    report dhcp ok "lease $cidr router $router"
else
    # Without a lease, take a static address so the forward path is still measured.
    cidr=$fallback router=${fallback%.*}.1
    report dhcp blocked "no offer/ack; static $fallback"
fi
rm -f "$lease"
ip addr add "$cidr" dev "$iface"
ip route add default via "$router"

# "localhost", which dnsmasq answers from /etc/hosts without asking upstream;
# an answer means DNS reached it.
if out=$(busybox nslookup localhost "$router" 2>&1); then
    report dns ok "answer $(printf '%s\n' "$out" | sed -n 's/^Address: //p' | head -n 1)"
else
    report dns blocked "$(why "$out")"
fi

if out=$(busybox ping -c 1 -W "$timeout" "$internet" 2>&1); then
    report ping ok "echo reply"
else
    case $out in
        *" 0 packets received"*) report ping blocked "no echo reply" ;;
        *) report ping blocked "$(why "$out")" ;;
    esac
fi

# -S: the status line is the first header of the server's response.
if out=$(busybox wget -S -q -T "$timeout" -O /dev/null "http://$internet/" 2>&1); then
    report http ok "$(printf '%s\n' "$out" | sed -n '1s/^ *//p')"
else
    report http blocked "$(why "$out")"
fi
