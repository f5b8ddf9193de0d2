# VM Network Doctor's guest probe: run by the QEMU guest agent as
# `/bin/sh -c SCRIPT`, it only reads. One guest-exec instead of a dozen,
# for POSIX sh and busybox ash alike. Every section starts with "@@ NAME";
# "@@ exit N" after a command is its exit status. Parsed by probe.rs.
export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
have() { command -v "$1" >/dev/null 2>&1; }
run() {
    echo "@@ $1"
    shift
    "$@" 2>&1
    echo "@@ exit $?"
}
echo "@@ tools"
for tool in ip nmcli networkctl netplan ifup systemctl ping getent nslookup host curl wget \
    apt-get apt-config dnf pacman timeout sysctl busybox; do
    # The program behind the name: busybox applets and GNU tools differ.
    path=$(command -v "$tool" 2>/dev/null) && echo "$tool $(readlink -f "$path" 2>/dev/null || echo "$path")"
done
echo "@@ ipv4-routes"
cat /proc/net/route 2>/dev/null
echo "@@ ipv6-routes"
cat /proc/net/ipv6_route 2>/dev/null
echo "@@ disable-ipv6"
for scope in all default; do
    echo "$scope $(cat "/proc/sys/net/ipv6/conf/$scope/disable_ipv6" 2>/dev/null)"
done
if have systemctl; then
    run units systemctl is-active NetworkManager.service systemd-networkd.service networking.service
fi
if have nmcli; then
    run nm-running nmcli -t -f RUNNING general
    if nmcli -t -f RUNNING general 2>/dev/null | grep -qx running; then
        run nm-connections nmcli -t -f UUID,DEVICE,ACTIVE connection show
        for uuid in $(nmcli -t -f UUID connection show 2>/dev/null); do
            run nm-profile nmcli -t -f connection.id,connection.uuid,connection.type,connection.interface-name,connection.autoconnect,connection.autoconnect-priority,802-3-ethernet.mac-address,ipv4.method,ipv4.addresses,ipv4.gateway connection show "$uuid"
        done
    fi
fi
echo "@@ netplan"
for file in /etc/netplan/*.yaml /run/netplan/*.yaml /lib/netplan/*.yaml; do
    [ -f "$file" ] && echo "$file"
done
echo "@@ networkd"
# systemd-networkd's .network files written by an admin (/etc) or by netplan
# (/run); vendor files in /usr/lib only match what they were made for. A
# file in /etc masks the one of the same name in /run; /dev/null masks it.
for file in /etc/systemd/network/*.network /run/systemd/network/*.network; do
    if [ "$(readlink -f "$file" 2>/dev/null)" = /dev/null ]; then
        echo "masked $file"
    elif [ -f "$file" ]; then
        echo "file $file"
        grep -v -E '^[[:space:]]*([#;]|$)' "$file" 2>/dev/null
    fi
done
echo "@@ ifupdown"
cat /etc/network/interfaces /etc/network/interfaces.d/* 2>/dev/null
if have apt-config; then
    run apt-force-ipv4 apt-config shell FORCE Acquire::ForceIPv4
elif [ -d /etc/apt/apt.conf.d ]; then
    # APT's files without APT's parser: only the plain line counts.
    echo "@@ apt-force-ipv4-files"
    cat /etc/apt/apt.conf /etc/apt/apt.conf.d/* 2>/dev/null | grep ForceIPv4
fi
# The sections above say what failed; the probe itself did not.
exit 0
