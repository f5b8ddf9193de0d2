#!/usr/bin/env bash
# Builds the lab's tiny guest from the Debian 13 root this runs in: the
# root's own kernel, and an initramfs with busybox (udhcpc, wget,
# nslookup), the virtio-net, e1000 and 8139cp (rtl8139) modules and
# qemu-guest-agent with the libraries it links. Rebuilt only when an input
# changes.
#
#   build-guest.sh OUT_DIR      → OUT_DIR/vmlinuz, OUT_DIR/initramfs.img
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-guest.sh OUT_DIR}
mkdir -p "$out"
# Labs run side by side (./dev test): one builds, the others wait for it
# and then find the guest up to date.
exec 8>"$out/.lock"
flock 8

kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[[ -n "$kernel" ]] || { echo "build-guest.sh: no kernel in /boot (package linux-image-amd64)" >&2; exit 1; }
version=${kernel#/boot/vmlinuz-}
modules=/lib/modules/$version/kernel
qemu_ga=/usr/sbin/qemu-ga
[[ -x "$qemu_ga" ]] || { echo "build-guest.sh: $qemu_ga missing (package qemu-guest-agent)" >&2; exit 1; }

key=$( (sha256sum "$kernel" "$qemu_ga" /usr/bin/busybox "$here/guest/"* "$0") | sha256sum | cut -c1-16)
if [[ -f "$out/key" && "$(cat "$out/key")" == "$key" && -f "$out/initramfs.img" ]]; then
    exit 0
fi

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{bin,sbin,etc/sysctl.d,lib/modules,proc,sys,dev,run,tmp,var}
cp /usr/bin/busybox "$tree/bin/busybox"
install -m 0755 "$here/guest/init" "$tree/init"
install -m 0755 "$here/guest/udhcpc.script" "$tree/etc/udhcpc.script"
for module in net/core/failover drivers/net/net_failover drivers/net/virtio_net \
    drivers/net/ethernet/intel/e1000/e1000 drivers/net/mii drivers/net/ethernet/realtek/8139cp; do
    xz -dc "$modules/$module.ko.xz" >"$tree/lib/modules/${module##*/}.ko"
done
cp "$qemu_ga" "$tree/bin/qemu-ga"
# The agent's shared libraries, at the paths its loader asks for.
ldd "$qemu_ga" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
    mkdir -p "$tree$(dirname "$lib")"
    cp -L "$lib" "$tree$lib"
done
echo 'root:x:0:0:root:/:/bin/sh' >"$tree/etc/passwd"
echo 'root:x:0:' >"$tree/etc/group"
(cd "$tree" && find . | cpio --quiet -o -H newc) | gzip -1 >"$out/initramfs.img.new"
mv "$out/initramfs.img.new" "$out/initramfs.img"
cp "$kernel" "$out/vmlinuz"
echo "$key" >"$out/key"
