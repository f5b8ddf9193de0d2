#!/usr/bin/env bash
# Builds the lab's full guest: Debian 13 made with mmdebstrap (systemd,
# NetworkManager, qemu-guest-agent, the Debian kernel; netplan.io, unused
# until a capture writes a YAML file, for Ubuntu-style guests; polkitd, UFW
# and libvirt's network driver, a host for the helper's .deb in the check
# D2-helper-as-installed), as an ext4 disk
# image booted directly with its own kernel and initrd, plus the small APT
# repository the lab's internet host serves to it. Rebuilt only when this
# directory changes.
#
#   build.sh OUT_DIR   → OUT_DIR/{disk.raw,vmlinuz,initrd.img,repo/,key}
#
# The image is the state the guide starts from on a real desktop: a guest
# made elsewhere, whose NetworkManager profile "Wired connection 1" is bound
# to ens3 (its name on the machine it was made on), booted where its card
# is enp1s0, with no automatic profile: no network until someone looks
# inside the guest. APT's only source is http://www.lab.example/debian.
#
# Needs root, mmdebstrap and the Debian archive (deb.debian.org, or
# VMNET_DOCTOR_MIRROR); mke2fs from e2fsprogs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_DIR}
mirror=${VMNET_DOCTOR_MIRROR:-http://deb.debian.org/debian}
die() { echo "debian-guest/build.sh: $*" >&2; exit 2; }

# Labs run side by side (./dev test): one builds, the others wait for it.
mkdir -p "$out"
exec 8>"$out/.lock"
flock 8
key=$(cd "$here" && find build.sh make-repo.py files -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
if [[ -f "$out/key" && "$(cat "$out/key")" == "$key" && -f "$out/disk.raw" ]]; then
    exit 0
fi
[[ $(id -u) -eq 0 ]] || die "needs root (mmdebstrap, file ownership in the image)"
command -v mmdebstrap >/dev/null || die "needs mmdebstrap (apt install mmdebstrap)"
command -v mke2fs >/dev/null || die "needs mke2fs (apt install e2fsprogs)"
started=$SECONDS
mkdir -p "$out"
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
root=$work/root

# apt-daily would take APT's lock in the middle of a test; nothing here
# needs a clock or a firmware update.
mmdebstrap --variant=apt \
    --include=systemd-sysv,udev,dbus,network-manager,qemu-guest-agent,linux-image-amd64,iproute2,iputils-ping,curl,procps,netplan.io,polkitd,ufw,iptables,libvirt-daemon,libvirt-daemon-driver-network,libvirt-clients \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --customize-hook='chroot "$1" sh -c "cd /var/cache/apt/archives && apt-get download -q hello"' \
    --customize-hook="mkdir -p '$work/debs' && mv \"\$1\"/var/cache/apt/archives/hello_*.deb '$work/debs/'" \
    --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer e2scrub_all.timer' \
    --customize-hook="cp -a '$here/files/.' \"\$1\"/" \
    --customize-hook='chmod 600 "$1"/etc/NetworkManager/system-connections/*.nmconnection' \
    --customize-hook='rm -f "$1"/etc/apt/sources.list "$1"/etc/resolv.conf' \
    trixie "$root" "$mirror"

cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/initrd.img"
# The image holds what the guest writes during a lab; libvirt gives each
# lab a copy (tests/lab/debian-guest/domain.xml), so this one stays clean.
mke2fs -q -t ext4 -L root -d "$root" "$work/disk.raw" 2G
python3 "$here/make-repo.py" "$work/debs" "$work/repo"

rm -rf "$out/disk.raw" "$out/vmlinuz" "$out/initrd.img" "$out/repo"
mv "$work/disk.raw" "$work/vmlinuz" "$work/initrd.img" "$work/repo" "$out/"
echo "$key" >"$out/key"
echo "debian-guest/build.sh: built in $((SECONDS - started)) s" >&2
