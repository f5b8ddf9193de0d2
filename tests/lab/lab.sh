#!/usr/bin/env bash
# The lab (DESIGN.md, testing tier 4): a real libvirt host with a real
# guest, inside fresh network, mount and PID namespaces of the Debian 13
# root. Everything dies with the command (PID namespace); nothing is
# written outside tmpfs and private copies; no traffic leaves the lab.
#
#   lab.sh COMMAND [ARGS…]
#
# Inside:
#   - a system bus (at the standard address) with Debian's bus policies,
#     polkitd, the lab's polkit rules (tests/lab/lab.rules) and the helper,
#     D-Bus-activated: installed with dpkg from $LAB_HELPER_DEB (the
#     project's .deb) when given, else from $LAB_HELPER with the checkout's
#     activation file and policies;
#   - virtlogd and libvirtd (qemu and network drivers), the guide's
#     `default` NAT network defined, started and autostarted;
#   - the uplink $LAB_UPLINK (a veth, default route) to the namespace
#     "internet", which answers DNS on $LAB_RESOLVER (the role a public
#     resolver plays) and HTTP for $LAB_WWW_NAME on $LAB_WWW;
#   - the user vmnd-lab (uid 4010), who runs the app like a desktop user;
#   - the guest `lab-guest` (tests/lab/guest.xml) defined, shut off.
# UFW is installed and inactive, as on a fresh Debian or Ubuntu desktop.
#
# Environment: LAB_HELPER and LAB_DOCTOR (absolute paths of the helper and
# app binaries), LAB_GUEST_DIR (from build-guest.sh); optional LAB_RESOLVER
# (default 203.0.113.53), LAB_UPLINK (default enp3s0), LAB_CACHE_DIR
# (kept between labs: libvirt's probe of QEMU's capabilities) and
# LAB_FLATPAK_REPO with LAB_FLATPAK_INSTALLATION (the built Flatpak and its
# runtime's installation, from tests/flatpak/build.sh), LAB_HELPER_DEB (the
# helper's .deb, from tests/packaging/check-deb.sh --keep). Inside, the
# checkout may be anywhere (a 0700 home, /tmp, a path with a space):
# LAB_DOCTOR, LAB_HELPER and GSETTINGS_SCHEMA_DIR name read-only views of
# their own under /run/lab, and LAB_SOURCE the checkout as the lab's
# desktop user reaches it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_root=$(cd "$here/../.." && pwd)
die() { echo "lab.sh: $*" >&2; exit 2; }

if [[ "${VMND_IN_LAB:-}" != 1 ]]; then
    [[ $(id -u) -eq 0 ]] || die "needs root (it creates namespaces and runs libvirtd)"
    for var in LAB_HELPER LAB_DOCTOR LAB_GUEST_DIR; do
        [[ -n "${!var:-}" ]] || die "$var is not set (tests/lab/run.sh sets it)"
    done
    exec unshare --net --mount --pid --fork --kill-child --propagation unchanged \
        env VMND_IN_LAB=1 "$0" "$@"
fi

export LAB_UPLINK=${LAB_UPLINK:-enp3s0}
export LAB_RESOLVER=${LAB_RESOLVER:-203.0.113.53}
# Documentation addresses (RFC 5737) for the uplink and the internet host;
# they exist only inside the lab.
export LAB_UPLINK_ADDRESS=203.0.113.2 LAB_ROUTER=203.0.113.1
export LAB_WWW=203.0.113.80 LAB_WWW6=2001:db8:100::80 LAB_WWW_NAME=www.lab.example
export LAB_USER=vmnd-lab LAB_UID=4010
export LAB_GUEST=lab-guest LAB_GUEST_MAC=52:54:00:1a:b0:01
export LAB_URI=qemu:///system
export LIBVIRT_DEFAULT_URI=qemu:///system

# PID 1 of fresh namespaces.
mount -t proc proc /proc
mount -t sysfs sysfs /sys # this namespace's links, not the host's
mount -t tmpfs -o mode=0755 tmpfs /run
export LAB_STATE=/run/lab
mkdir -p "$LAB_STATE"

# What the lab's users run, at paths of the lab's own. The checkout may sit
# where they cannot go (a 0700 home: the desktop user runs the app, and
# dbus-daemon splits the helper's Exec= line at spaces), so the binaries,
# the compiled schemas and the checkout are bind-mounted under $LAB_STATE
# (read-only, its permissions unchanged) and LAB_DOCTOR, LAB_HELPER,
# GSETTINGS_SCHEMA_DIR and LAB_SOURCE name those views.
lab_view() { # lab_view SOURCE TARGET
    if [[ -d "$1" ]]; then mkdir -p "$2"; else mkdir -p "$(dirname "$2")"; touch "$2"; fi
    mount --bind "$1" "$2"
    mount -o remount,bind,ro "$2"
}
lab_view "$source_root" "$LAB_STATE/src"
lab_view "$LAB_DOCTOR" "$LAB_STATE/bin/vmnet-doctor"
lab_view "$LAB_HELPER" "$LAB_STATE/bin/vmnet-doctor-helper"
export LAB_SOURCE=$LAB_STATE/src LAB_DOCTOR=$LAB_STATE/bin/vmnet-doctor LAB_HELPER=$LAB_STATE/bin/vmnet-doctor-helper
if [[ -n "${GSETTINGS_SCHEMA_DIR:-}" ]]; then
    lab_view "$GSETTINGS_SCHEMA_DIR" "$LAB_STATE/schemas"
    export GSETTINGS_SCHEMA_DIR=$LAB_STATE/schemas
fi
# The Flatpak (tests/flatpak/build.sh): its repository, which the desktop
# user installs the app from, and the installation holding the runtime,
# which becomes the lab's system installation (/var/lib/flatpak, below).
if [[ -n "${LAB_FLATPAK_REPO:-}" ]]; then
    lab_view "$LAB_FLATPAK_REPO" "$LAB_STATE/flatpak/repo"
    lab_view "$LAB_FLATPAK_INSTALLATION" "$LAB_STATE/flatpak/system"
    export LAB_FLATPAK_REPO=$LAB_STATE/flatpak/repo
fi

if [[ -n "${LAB_HELPER_DEB:-}" ]]; then
    lab_view "$LAB_HELPER_DEB" "$LAB_STATE/pkg/$(basename "$LAB_HELPER_DEB")"
    LAB_HELPER_DEB=$LAB_STATE/pkg/$(basename "$LAB_HELPER_DEB")
fi

# A private /tmp. Whatever the lab still names under the old one (a
# checkout cloned under /tmp: these scripts, the command's arguments, the
# guest's files, the cargo target) is mounted back at the same path.
declare -A kept=()
for path in "$source_root" "$PWD" "${LAB_GUEST_DIR:-}" "${LAB_CACHE_DIR:-}" "$@"; do
    [[ "$path" == /tmp/?* ]] || continue
    top=${path#/tmp/}
    top=/tmp/${top%%/*}
    [[ -e "$top" && -z "${kept[$top]:-}" ]] || continue
    kept[$top]=$LAB_STATE/kept/${#kept[@]}
    if [[ -d "$top" ]]; then mkdir -p "${kept[$top]}"; else mkdir -p "$LAB_STATE/kept"; touch "${kept[$top]}"; fi
    mount --rbind "$top" "${kept[$top]}"
done
mount -t tmpfs tmpfs /tmp
# Where X servers put their sockets, as a desktop has it (a Flatpak reaches
# X through these only).
mkdir -m 1777 /tmp/.X11-unix
for top in "${!kept[@]}"; do
    if [[ -d "${kept[$top]}" ]]; then mkdir -p "$top"; else touch "$top"; fi
    mount --rbind "${kept[$top]}" "$top"
done
ip link set lo up

PRIVATE_MOUNTS_STATE=$LAB_STATE
source "$here/../lib/private-mounts.sh"

# With the helper's .deb, /usr becomes writable for dpkg: an overlay whose
# upper layer is in the lab's tmpfs (before the private copies below, which
# it would hide). The root's /usr stays untouched.
if [[ -n "${LAB_HELPER_DEB:-}" ]]; then
    mkdir -p "$LAB_STATE/usr-layer/upper" "$LAB_STATE/usr-layer/work"
    mount -t overlay overlay \
        -o "lowerdir=/usr,upperdir=$LAB_STATE/usr-layer/upper,workdir=$LAB_STATE/usr-layer/work" /usr
fi

for path in /etc/libvirt /etc/ufw /etc/default/ufw /etc/sysctl.d /etc/qemu /etc/passwd /etc/group \
    /usr/share/polkit-1/actions; do
    private_copy "$path"
done
# UFW installed but inactive, as a fresh Debian or Ubuntu desktop has it.
sed -i 's/^ENABLED=.*/ENABLED=no/' /etc/ufw/ufw.conf
writable_view /var/lib
for dir in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    mkdir -p "$dir"
    mount -t tmpfs tmpfs "$dir"
done
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/lib/libvirt/dnsmasq /var/lib/libvirt/boot
if [[ -n "${LAB_FLATPAK_REPO:-}" ]]; then
    mkdir -p /var/lib/flatpak
    mount --bind "$LAB_STATE/flatpak/system" /var/lib/flatpak
fi
mount -t tmpfs -o mode=0755 tmpfs /etc/polkit-1/rules.d
cp "$here/lab.rules" /etc/polkit-1/rules.d/50-vmnet-doctor-lab.rules
if [[ -z "${LAB_HELPER_DEB:-}" ]]; then
    cp "$source_root/data/helper/io.github.vmnetdoctor.policy.in" \
        /usr/share/polkit-1/actions/io.github.vmnetdoctor.policy
fi
echo "$LAB_USER:x:$LAB_UID:$LAB_UID:lab desktop user:$LAB_STATE/home:/bin/bash" >>/etc/passwd
echo "$LAB_USER:x:$LAB_UID:" >>/etc/group
mkdir -p "$LAB_STATE/home"
chown "$LAB_UID:$LAB_UID" "$LAB_STATE/home"
# The runtime directory a desktop session gives its user (flatpak run
# keeps its instances there).
mkdir -p -m 0700 "/run/user/$LAB_UID"
chown "$LAB_UID:$LAB_UID" "/run/user/$LAB_UID"
# libvirt's dnsmasq forwards the guests' queries to the host's resolver.
echo "nameserver $LAB_RESOLVER" >"$LAB_STATE/resolv.conf"
touch /etc/resolv.conf 2>/dev/null || true
mount --bind "$LAB_STATE/resolv.conf" /etc/resolv.conf

# libvirt starts like a fresh install: no networks, no guests; guests get
# no mount namespace (it fails inside this one) and no security driver, and
# QEMU runs as root: the root's kvm group is not the host's, so as
# libvirt-qemu /dev/kvm's access would flip between probe and use and
# libvirt would probe QEMU again in every lab.
rm -f /etc/libvirt/qemu/networks/*.xml /etc/libvirt/qemu/networks/autostart/*.xml /etc/libvirt/qemu/*.xml
printf 'namespaces = [ ]\nsecurity_driver = "none"\nuser = "root"\ngroup = "root"\n' >>/etc/libvirt/qemu.conf

# The internet: one namespace behind the uplink, serving DNS and HTTP.
# (nsenter, not `ip netns exec`: that remounts /, which is no mount point
# in a chroot.)
ip netns add internet
in_internet() { nsenter --net=/run/netns/internet "$@"; }
ip link add "$LAB_UPLINK" type veth peer name eth0 netns internet
ip addr add "$LAB_UPLINK_ADDRESS/24" dev "$LAB_UPLINK"
ip link set "$LAB_UPLINK" up
ip route add default via "$LAB_ROUTER" dev "$LAB_UPLINK"
ip addr add 2001:db8:100::2/64 dev "$LAB_UPLINK" nodad
ip -6 route add default via 2001:db8:100::1 dev "$LAB_UPLINK"
in_internet ip link set lo up
in_internet ip addr add "$LAB_ROUTER/24" dev eth0
in_internet ip addr add "$LAB_WWW/32" dev lo
in_internet ip addr add "$LAB_RESOLVER/32" dev lo
# The internet is dual-stack; the lab host routes no IPv6 for its guests
# (libvirt's `default` is IPv4 only), as on most desktops.
in_internet ip addr add "$LAB_WWW6/64" dev eth0 nodad
in_internet ip addr add 2001:db8:100::1/64 dev eth0 nodad
in_internet ip link set eth0 up
# Replies to the NATed uplink address go straight back over eth0.
mkdir -p "$LAB_STATE/www"
echo "vmnet-doctor lab: the internet answers" >"$LAB_STATE/www/index.html"
in_internet dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --bind-interfaces --listen-address="$LAB_RESOLVER" \
    --address="/$LAB_WWW_NAME/$LAB_WWW" --address="/$LAB_WWW_NAME/$LAB_WWW6" --pid-file= --log-facility="$LAB_STATE/internet-dns.log" \
    >/dev/null 2>&1 &
in_internet python3 -m http.server --bind "$LAB_WWW" --directory "$LAB_STATE/www" 80 \
    >"$LAB_STATE/internet-http.log" 2>&1 &
in_internet python3 -m http.server --bind "$LAB_WWW6" --directory "$LAB_STATE/www" 80 \
    >"$LAB_STATE/internet-http6.log" 2>&1 &

# The system bus at its standard address: Debian's default policy and the
# services' policies in /usr/share/dbus-1/system.d (polkit's, firewalld's).
# With the .deb, the helper's policy and activation file are the ones dpkg
# installs below, in the standard places, which the bus reloads as on any
# system; without it, the checkout's, from a directory of the lab's own.
mkdir -p /run/dbus
if [[ -n "${LAB_HELPER_DEB:-}" ]]; then
    service_dir=/usr/share/dbus-1/system-services helper_policy=
else
    service_dir=$LAB_STATE/dbus-services
    helper_policy="<include>$source_root/data/helper/io.github.vmnetdoctor.Helper1.conf</include>"
    mkdir -p "$service_dir"
    sed "s|@LIBEXECDIR@/vmnet-doctor-helper|$LAB_HELPER|" \
        "$source_root/data/helper/io.github.vmnetdoctor.Helper1.service.in" \
        >"$service_dir/io.github.vmnetdoctor.Helper1.service"
    # polkitd D-Bus activated, as from the standard directory above: one
    # that ends is started again by the next check.
    cp /usr/share/dbus-1/system-services/org.freedesktop.PolicyKit1.service "$service_dir/"
fi
sed -e "s|@SOCKET@|/run/dbus/system_bus_socket|" -e "s|@SERVICEDIR@|$service_dir|" \
    -e "s|<include>@HELPER_POLICY@</include>|<includedir>/usr/share/dbus-1/system.d</includedir>$helper_policy|" \
    "$source_root/tests/helper/system-bus.conf.in" >"$LAB_STATE/system-bus.conf"
grep -q '<includedir>/usr/share/dbus-1/system.d</includedir>' "$LAB_STATE/system-bus.conf" ||
    die "tests/helper/system-bus.conf.in has no <include>@HELPER_POLICY@</include> line to extend"
dbus-daemon --config-file="$LAB_STATE/system-bus.conf" --nofork --nopidfile --nosyslog \
    2>>"$LAB_STATE/helper.log" &
for _ in $(seq 100); do [[ -S /run/dbus/system_bus_socket ]] && break; sleep 0.05; done
/usr/lib/polkit-1/polkitd --no-debug >"$LAB_STATE/polkitd.log" 2>&1 &
has_owner() {
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s "$1" 2>/dev/null | grep -q true
}
for _ in $(seq 100); do has_owner org.freedesktop.PolicyKit1 && break; sleep 0.1; done
has_owner org.freedesktop.PolicyKit1 || { cat "$LAB_STATE/polkitd.log" >&2; die "polkitd did not start"; }

# The helper as a user installs it: `dpkg -i` of the project's .deb on the
# running system (dpkg's database a private copy, its log discarded). dbus'
# trigger reloads the bus, which then activates the installed helper.
if [[ -n "${LAB_HELPER_DEB:-}" ]]; then
    private_copy /var/lib/dpkg
    dpkg --log=/dev/null -i "$LAB_HELPER_DEB" >"$LAB_STATE/dpkg.log" 2>&1 ||
        { cat "$LAB_STATE/dpkg.log" >&2; die "dpkg -i $(basename "$LAB_HELPER_DEB") failed"; }
    [[ $(dpkg-query -W -f '${Status}' vmnet-doctor-helper) == "install ok installed" ]] ||
        die "dpkg does not list vmnet-doctor-helper as installed"
    LAB_HELPER=$(dpkg -L vmnet-doctor-helper | grep -m1 '/vmnet-doctor-helper$') ||
        die "the .deb installed no vmnet-doctor-helper binary"
    export LAB_HELPER
    # The first call activates it: it must answer from the package's path.
    busctl --system call io.github.vmnetdoctor.Helper1 /io/github/vmnetdoctor/Helper1 \
        org.freedesktop.DBus.Peer Ping >/dev/null 2>>"$LAB_STATE/helper.log" ||
        { tail -n 20 "$LAB_STATE/helper.log" >&2; die "the installed helper does not answer on the bus"; }
    helper_pid=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s io.github.vmnetdoctor.Helper1 | awk '{print $2}')
    [[ $(readlink "/proc/$helper_pid/exe") == "$LAB_HELPER" ]] ||
        die "the helper on the bus runs $(readlink "/proc/$helper_pid/exe"), not the package's $LAB_HELPER"
    echo "lab: helper installed from $(basename "$LAB_HELPER_DEB") with dpkg, running as $LAB_HELPER" >&2
fi

# libvirt's nftables backend needs tc's csum action; see tc-without-act-csum.
kernel_config=$(zcat /proc/config.gz 2>/dev/null || true)
if ! grep -qs '^act_csum ' /proc/modules && [[ "$kernel_config" == *"# CONFIG_NET_ACT_CSUM is not set"* ]]; then
    cp /usr/sbin/tc "$LAB_STATE/tc.real"
    mount --bind "$here/tc-without-act-csum" /usr/sbin/tc
fi

# The guest's boot files where the qemu process may read them.
mkdir -p /var/lib/libvirt/boot
cp "$LAB_GUEST_DIR/vmlinuz" /var/lib/libvirt/boot/lab-vmlinuz
cp "$LAB_GUEST_DIR/initramfs.img" /var/lib/libvirt/boot/lab-initramfs.img

# libvirt probes QEMU's capabilities on first use (~10 s under TCG) and
# caches them; libvirt checks the cache against QEMU, itself and /dev/kvm,
# so a copy kept between labs is safe and saves that probe.
caps_cache=${LAB_CACHE_DIR:-}/qemu-capabilities
if [[ -n "${LAB_CACHE_DIR:-}" && -d "$caps_cache" ]]; then
    mkdir -p /var/cache/libvirt/qemu
    cp -a "$caps_cache" /var/cache/libvirt/qemu/capabilities
fi
virtlogd -d
start_libvirtd() {
    libvirtd -d
    for _ in $(seq 100); do
        virsh -q version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "libvirtd did not start"
}
export -f start_libvirtd die
start_libvirtd
virsh -q net-define "$source_root/tests/libvirtd/default-network.xml" >/dev/null
virsh -q net-start default >/dev/null
virsh -q net-autostart default >/dev/null
virsh -q define "$here/guest.xml" >/dev/null
if [[ -n "${LAB_CACHE_DIR:-}" && ! -d "$caps_cache" && -d /var/cache/libvirt/qemu/capabilities ]]; then
    mkdir -p "$LAB_CACHE_DIR"
    cp -a /var/cache/libvirt/qemu/capabilities "$caps_cache.new.$$"
    mv -T "$caps_cache.new.$$" "$caps_cache" 2>/dev/null || rm -rf "$caps_cache.new.$$"
fi

"$@"
