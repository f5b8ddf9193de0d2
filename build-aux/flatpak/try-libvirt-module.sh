#!/usr/bin/env bash
# Builds the Flatpak's libvirt module on this machine, with exactly the
# config-opts of flatpak/io.github.vmnetdoctor.VmNetDoctor.json, and checks
# that the result is the client library the app needs: the test driver
# opens the demo hypervisor, and the remote driver looks for the system
# daemons' sockets under /run/libvirt. For bumping libvirt without a
# Flatpak SDK at hand (flatpak-builder is the real test, see README.md).
#
#   build-aux/flatpak/try-libvirt-module.sh libvirt-X.Y.Z.tar.xz
#
# The tarball's sha256 must equal the manifest's when the versions match.
# Needs libvirt's build dependencies on this machine: a C compiler, meson,
# ninja, perl, python3, xmllint, xsltproc and the development files of
# glib-2.0, gnutls, libxml-2.0, libtirpc and libnl-3.0/libnl-route-3.0
# (PKG_CONFIG_PATH is honoured). Works in target/try-libvirt; installs
# nothing outside it.
set -euo pipefail

die() { printf 'try-libvirt-module: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 1 && -f $1 ]] || die "usage: build-aux/flatpak/try-libvirt-module.sh libvirt-X.Y.Z.tar.xz"
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
manifest=$root/flatpak/io.github.vmnetdoctor.VmNetDoctor.json
work=$root/target/try-libvirt

# The module's URL, sha256 and config-opts, one a line.
mapfile -t module < <(python3 - "$manifest" <<'EOF'
import json, sys
manifest = json.load(open(sys.argv[1]))
libvirt = next(m for m in manifest["modules"] if m["name"] == "libvirt")
source = next(s for s in libvirt["sources"] if s["type"] == "archive")
print(source["url"]); print(source["sha256"])
print("\n".join(libvirt["config-opts"]))
EOF
)
url=${module[0]} sha256=${module[1]}
opts=("${module[@]:2}")

name=$(basename "$tarball")
actual=$(sha256sum "$tarball" | cut -d' ' -f1)
if [[ $name == "$(basename "$url")" ]]; then
    [[ $actual == "$sha256" ]] || die "$name has sha256 $actual, the manifest pins $sha256"
    echo "==> $name matches the manifest's sha256"
else
    echo "==> $name is not the manifest's $(basename "$url"); its sha256 is $actual"
fi

rm -rf "$work"
mkdir -p "$work"
tar -xf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'libvirt-*' | head -n1)
[[ -n $src ]] || die "no libvirt-* directory in $name"

echo "==> meson setup ${opts[*]}"
meson setup "$work/build" "$src" --prefix=/app --libdir=lib "${opts[@]}" >"$work/setup.log" ||
    { tail -n 30 "$work/setup.log"; die "meson setup failed (log: $work/setup.log)"; }
awk '/^  Drivers$/ { on = 1 } /^  Storage Drivers$/ { on = 0 } on' "$work/setup.log"
echo "==> ninja (log: $work/build.log)"
ninja -C "$work/build" >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; die "the build failed"; }
DESTDIR=$work/destdir meson install -C "$work/build" --no-rebuild >"$work/install.log" 2>&1 ||
    { tail -n 30 "$work/install.log"; die "meson install failed"; }

app=$work/destdir/app
export LD_LIBRARY_PATH=$app/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
virsh=$app/bin/virsh
echo "==> test driver: the demo hypervisor"
"$virsh" -c "test://$root/data/demo/demo-hypervisor.xml" list --all --name | grep -q . ||
    die "the test driver cannot open the demo hypervisor"
echo "==> remote driver: the system daemons' sockets"
out=$(env -u LIBVIRT_DEFAULT_URI "$virsh" -c qemu:///system uri 2>&1 || true)
case $out in
    qemu:///system) echo "    (a daemon answered: $out)" ;;
    *"/run/libvirt/"*) echo "    $out" | head -n2 ;;
    *) die "qemu:///system did not look in /run/libvirt: $out" ;;
esac
echo "==> ok: $(du -sh "$app" | cut -f1) installed in $app"
