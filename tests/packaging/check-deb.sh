#!/usr/bin/env bash
# Builds the vmnet-doctor-helper .deb (packaging/debian/build-deb.sh) and
# tests it for real: its contents against the helper's file set, then
# installed with dpkg into a throwaway copy of this Debian 13 root, where
# the helper must answer on that root's own system bus.
#
#   tests/packaging/check-deb.sh BUILD_DIR [--deb FILE | --keep DIR]
#
# BUILD_DIR is an existing meson build directory (./dev test uses _build).
# A package needs --prefix=/usr, so a build directory of its own is set up
# with that prefix and BUILD_DIR's profile and buildtype, sharing
# BUILD_DIR's cargo target directory (the helper does not read the install
# paths, so cargo rebuilds nothing for it). With --deb FILE that package is
# checked instead of a freshly built one (e.g. a deliberately broken one).
# With --keep DIR the package, once it passed, is kept there as the only
# vmnet-doctor-helper_*.deb (the lab installs it on its host).
#
# The throwaway root: in new mount, PID and network namespaces, an overlay
# whose lower layer is / (this root, read-only) and whose upper layer is a
# tmpfs, with fresh /proc, /sys, /run and /tmp; the checks run chrooted in
# it (tests/packaging/check-deb.py root). Nothing of the real root changes
# and everything started there dies with the namespace. Needs root, the
# overlay file system, dpkg, dbus-daemon, polkitd, busctl and gdbus.
set -euo pipefail

die() { printf 'check-deb: %s\n' "$*" >&2; exit 2; }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_root=$(cd "$here/../.." && pwd)

# --- Inside the namespaces (the script runs itself; see the end) -----------------
if [[ ${1:-} == --in-namespaces ]]; then
    work=$2 deb=$3
    lower=/
    merged=$work/root
    mkdir -p "$work/layer" "$merged"
    mount -t tmpfs -o mode=0755 tmpfs "$work/layer"
    mkdir "$work/layer/upper" "$work/layer/work"
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/layer/upper,workdir=$work/layer/work" "$merged"
    mount -t proc proc "$merged/proc"
    mount --rbind /dev "$merged/dev"
    mount -t sysfs sysfs "$merged/sys"
    mount -t tmpfs -o mode=0755 tmpfs "$merged/run"
    mount -t tmpfs -o mode=1777 tmpfs "$merged/tmp"
    ip link set lo up
    mkdir "$merged/tmp/vmnd-pkg"
    cp "$deb" "$here/check-deb.py" "$work/expect.json" "$merged/tmp/vmnd-pkg/"
    # The test's own polkit rule (not the package's): uid 65534 may inspect,
    # so a non-root caller can be shown to get answers.
    mkdir -p "$merged/etc/polkit-1/rules.d"
    cat >"$merged/etc/polkit-1/rules.d/50-vmnd-package-test.rules" <<'EOF'
polkit.addRule(function (action, subject) {
    if (action.id == "io.github.vmnetdoctor.inspect" && subject.user == "nobody") {
        return polkit.Result.YES;
    }
});
EOF
    status=0
    chroot "$merged" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 VMND_THROWAWAY_ROOT=1 \
        python3 /tmp/vmnd-pkg/check-deb.py root --deb "/tmp/vmnd-pkg/$(basename "$deb")" \
        --expect /tmp/vmnd-pkg/expect.json || status=$?
    if [[ $status -ne 0 ]]; then
        for log in "$merged"/tmp/vmnd-pkg-logs/*.log; do
            [[ -s $log ]] && { echo "--- $(basename "$log") ---"; tail -n 30 "$log"; }
        done
    fi
    exit "$status"
fi

# --- Outside -------------------------------------------------------------------------
usage="usage: tests/packaging/check-deb.sh BUILD_DIR [--deb FILE | --keep DIR]"
[[ $# -eq 1 || ($# -eq 3 && ($2 == --deb || $2 == --keep)) ]] || die "$usage"
[[ $(id -u) -eq 0 ]] || die "needs root (dpkg -i into a throwaway root, namespaces, mounts)"
[[ -f $1/build.ninja ]] || die "$1 is not a configured meson build directory (run meson setup first)"
build=$(cd "$1" && pwd)
given_deb= keep_dir=
if [[ $# -eq 3 && $2 == --keep ]]; then
    mkdir -p "$3"
    keep_dir=$(cd "$3" && pwd)
elif [[ $# -eq 3 ]]; then
    [[ -f $3 ]] || die "$3 does not exist"
    given_deb=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
fi
for tool in dpkg dpkg-deb meson unshare chroot objdump; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || die "the kernel has no overlay file system"
started=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmnd-check-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pbuild=$tmp/build

read -r profile buildtype < <(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(options["profile"], options["buildtype"])')

say "meson setup --prefix=/usr (profile $profile, buildtype $buildtype)"
meson setup "$pbuild" "$source_root" --prefix=/usr -Dprofile="$profile" -Dbuildtype="$buildtype" >"$tmp/setup.log" ||
    { cat "$tmp/setup.log"; die "meson setup failed"; }
mkdir -p "$build/cargo-target"
ln -s "$build/cargo-target" "$pbuild/cargo-target"

if [[ -n $given_deb ]]; then
    deb=$given_deb
    say "checking the given $deb"
else
    say "packaging/debian/build-deb.sh"
    deb=$("$source_root/packaging/debian/build-deb.sh" "$pbuild" "$tmp/out" 2>"$tmp/build-deb.log" | tail -n 1) ||
        { tail -n 40 "$tmp/build-deb.log"; die "build-deb.sh failed"; }
    grep -E '^build-deb: (library dependencies|Depends)' "$tmp/build-deb.log" || true
fi

say "the package's contents"
status=0
python3 "$here/check-deb.py" contents --deb "$deb" --build "$pbuild" --source "$source_root" \
    --expect "$tmp/expect.json" || status=$?
[[ -f $tmp/expect.json ]] || die "the contents check wrote no expectations"

say "installed into a throwaway Debian root"
# Our own mounts must not reach the parent namespace. In ./dev's chroot /
# is no mount point (unshare cannot make it private), but ./dev's own mount
# namespace is already private.
propagation=private
if ! mountpoint -q /; then
    [[ ${VMNET_DOCTOR_IN_ROOT:-} == 1 ]] || die "/ is not a mount point (a chroot?) and this is not ./dev's root"
    propagation=unchanged
fi
unshare --mount --pid --net --fork --kill-child --propagation "$propagation" -- \
    "$0" --in-namespaces "$tmp" "$deb" || status=$?

if [[ $status -eq 0 && -n $keep_dir ]]; then
    rm -f "$keep_dir"/vmnet-doctor-helper_*.deb
    cp "$deb" "$keep_dir/"
    say "kept $keep_dir/$(basename "$deb")"
fi
say "package test: $((SECONDS - started)) s"
exit "$status"
