#!/usr/bin/env bash
# Builds the vmnet-doctor-helper .deb the Debian way and tests it for real:
# dpkg-buildpackage (debhelper with meson) on a copy of this checkout whose
# debian/ is packaging/debian; lintian on the result (no error, every
# warning overridden with its reason, no stale override); its contents
# against the helper's file set; then installed with dpkg into a throwaway
# copy of this Debian 13 root, where the helper must answer on that root's
# own system bus.
#
#   tests/packaging/check-deb.sh BUILD_DIR [--deb FILE | --keep DIR]
#
# BUILD_DIR is an existing meson build directory (./dev test uses _build).
# The package takes its build type (debug: DEB_BUILD_OPTIONS=noopt, cargo's
# dev profile) and its cargo build-dir (-Dcargo_build_dir, passed to cargo
# as CARGO_BUILD_BUILD_DIR), so the crates earlier phases compiled are
# reused, not compiled again. Cargo stays offline (debian/rules): the crates
# come from CARGO_HOME. The source tree is
# target/check-deb/SOURCE-VERSION: the checkout's files (tracked and
# untracked, not ignored; modification times kept) plus packaging/debian as
# debian/, at a fixed path so cargo finds its workspace crates fresh on the
# next run. dpkg-buildpackage writes the .deb beside it.
#
# Build-Depends are checked with dpkg-checkbuilddeps; the only one allowed
# to be missing is Debian's cargo, when the cargo on PATH (rustup's) is as
# new as it asks (Debian 13's is older than the workspace's rust-version).
#
# With --deb FILE that package is linted and checked instead of a freshly
# built one (e.g. a deliberately broken one). With --keep DIR the package,
# once it passed, is kept there as the only vmnet-doctor-helper_*.deb (the
# lab installs it on its host).
#
# The throwaway root: in new mount, PID and network namespaces, an overlay
# whose lower layer is / (this root, read-only) and whose upper layer is a
# tmpfs, with fresh /proc, /sys, /run and /tmp; the checks run chrooted in
# it (tests/packaging/check-deb.py root). Nothing of the real root changes
# and everything started there dies with the namespace. Needs root, the
# overlay file system, dpkg-dev, debhelper, lintian, dbus-daemon, polkitd,
# busctl and gdbus.
set -euo pipefail

die() { printf 'check-deb: %s\n' "$*" >&2; exit 2; }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_root=$(cd "$here/../.." && pwd)
debian_dir=$source_root/packaging/debian

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
    # dpkg as on any Debian system: ./dev's root leaves /usr/share/doc
    # (but copyright files) and /usr/share/man out of every install.
    for cfg in "$merged"/etc/dpkg/dpkg.cfg.d/*; do
        [[ -f $cfg ]] && sed -i '/^path-\(exclude\|include\)/d' "$cfg"
    done
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
for tool in dpkg dpkg-deb dpkg-buildpackage dpkg-checkbuilddeps dpkg-parsechangelog dh lintian meson git tar \
    unshare chroot setpriv objdump; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || die "the kernel has no overlay file system"
started=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmnd-check-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

read -r buildtype cargo_build_dir < <(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(options["buildtype"], options.get("cargo_build_dir") or "-")')

# --- The package, built by dpkg-buildpackage ----------------------------------------------
if [[ -n $given_deb ]]; then
    deb=$given_deb
    lint_target=$deb
    say "checking the given $deb"
    # The install plan the contents are compared with: the layout
    # debian/rules configures.
    pbuild=$tmp/build
    meson setup "$pbuild" "$source_root" --prefix=/usr --libexecdir=libexec >"$tmp/setup.log" ||
        { cat "$tmp/setup.log"; die "meson setup failed"; }
else
    source_name=$(dpkg-parsechangelog -l "$debian_dir/changelog" -S Source)
    version=$(dpkg-parsechangelog -l "$debian_dir/changelog" -S Version)
    upstream=${version%-*}
    work=$source_root/target/check-deb
    tree=$work/$source_name-$upstream
    mkdir -p "$work"
    # One package build at a time in this checkout.
    exec 9>"$work/.lock"
    flock 9
    rm -rf "$tree" "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo
    mkdir -p "$tree"
    # tar keeps the files' modification times: cargo's fingerprints of the
    # workspace crates stay fresh. A file deleted but not yet staged is
    # skipped, and so are a debian/ and dh's obj-* of a package built in
    # the checkout itself.
    (cd "$source_root" && git ls-files -z --cached --others --exclude-standard |
        grep -zv -E '^(debian|obj-[^/]*)/' |
        tar --null -T - --ignore-failed-read -c 2>/dev/null) | tar -x -C "$tree"
    [[ -f $tree/meson.build ]] || die "copying the checkout to $tree failed"
    rm -rf "$tree/debian"
    cp -a "$debian_dir" "$tree/debian"

    say "Build-Depends (dpkg-checkbuilddeps)"
    if ! checked=$(cd "$tree" && dpkg-checkbuilddeps 2>&1); then
        unmet=$(printf '%s\n' "$checked" | sed -n 's/.*unmet build dependencies: //p')
        [[ -n $unmet ]] || die "dpkg-checkbuilddeps failed: $checked"
    else
        unmet=
    fi
    # Debian's cargo, or rustup: satisfied by a cargo on PATH as new as asked.
    cargo_clause=$(printf '%s\n' "$unmet" | grep -o 'cargo:native (>= [0-9.]*)[^:]*| rustup' || true)
    if [[ -n $cargo_clause ]]; then
        want=$(sed 's/.*(>= \([0-9.]*\)).*/\1/' <<<"$cargo_clause")
        have=$(cargo --version 2>/dev/null | awk '{print $2}') || true
        [[ -n $have ]] && dpkg --compare-versions "$have" ge "$want" ||
            die "Build-Depends: no cargo >= $want (Debian's cargo or rustup's); cargo on PATH: ${have:-none}"
        echo "cargo $have on PATH (rustup's) stands in for: $cargo_clause"
        unmet=${unmet/"$cargo_clause"/}
    fi
    unmet=$(xargs <<<"$unmet")
    [[ -z $unmet ]] || die "unmet build dependencies: $unmet"
    echo "all Build-Depends met"

    say "dpkg-buildpackage -b -us -uc (debhelper, meson; buildtype $buildtype)"
    options="parallel=$(nproc)"
    [[ $buildtype == debug ]] && options+=" noopt"
    options+=" ${DEB_BUILD_OPTIONS:-}"
    build_env=(DEB_BUILD_OPTIONS="$options")
    # Where they are the defaults, cargo's and rustup's homes are left for
    # debian/rules to find from HOME, as in a user's own build.
    [[ ${CARGO_HOME:-} == "$HOME/.cargo" ]] && build_env=(-u CARGO_HOME "${build_env[@]}")
    [[ ${RUSTUP_HOME:-} == "$HOME/.rustup" ]] && build_env=(-u RUSTUP_HOME "${build_env[@]}")
    [[ $cargo_build_dir != - ]] && build_env+=(CARGO_BUILD_BUILD_DIR="$cargo_build_dir")
    echo "${build_env[*]}"
    # -d: the Build-Depends were checked above (rustup's cargo is no package).
    (cd "$tree" && env "${build_env[@]}" dpkg-buildpackage -b -us -uc -d) >"$work/build.log" 2>&1 ||
        { tail -n 60 "$work/build.log"; die "dpkg-buildpackage failed (log: $work/build.log)"; }
    grep -E '^dpkg-deb: building' "$work/build.log" || true
    arch=$(dpkg --print-architecture)
    deb=$work/vmnet-doctor-helper_${version}_$arch.deb
    lint_target=$work/${source_name}_${version}_$arch.changes
    [[ -f $deb && -f $lint_target ]] || die "dpkg-buildpackage made no $deb and $lint_target"
    pbuild=$tree/obj-$(dpkg-architecture -qDEB_HOST_GNU_TYPE)
    echo "Depends: $(dpkg-deb -f "$deb" Depends)"
fi

say "lintian $(basename "$lint_target")"
status=0
# Every override carries its reason: a comment right above it.
overrides=$debian_dir/vmnet-doctor-helper.lintian-overrides
if [[ -f $overrides ]]; then
    bare=$(awk '/^[ \t]*$/ {c = 0; next} /^#/ {c = 1; next} !c {print FILENAME ":" FNR ": " $0}' "$overrides")
    [[ -z $bare ]] || { printf '%s\n' "FAIL: a lintian override without a reason comment above it:" "$bare"; status=1; }
fi
# As nobody (lintian warns against root); errors and warnings fail, and so
# does an override that matches nothing any more.
lint_status=0
mkdir "$tmp/lintian"
chown 65534:65534 "$tmp/lintian"
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$tmp/lintian" TMPDIR="$tmp/lintian" \
    lintian --fail-on error,warning --display-info --show-overrides "$lint_target" >"$tmp/lintian.log" 2>&1 || lint_status=$?
cat "$tmp/lintian.log"
if [[ $lint_status -ne 0 ]]; then
    echo "FAIL: lintian: an error or a warning that no override explains (exit $lint_status)"
    status=1
fi
if grep -Eq '(unused|mismatched)-override' "$tmp/lintian.log"; then
    echo "FAIL: lintian: an override that matches nothing (remove it, or fix its context)"
    status=1
fi
printf 'lintian: %s errors, %s warnings, %s overridden, %s info\n' "$(grep -c '^E: ' "$tmp/lintian.log")" \
    "$(grep -c '^W: ' "$tmp/lintian.log")" "$(grep -c '^O: ' "$tmp/lintian.log")" "$(grep -c '^I: ' "$tmp/lintian.log")"

say "the package's contents"
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
root_status=0
unshare --mount --pid --net --fork --kill-child --propagation "$propagation" -- \
    "$0" --in-namespaces "$tmp" "$deb" || root_status=$?
[[ $root_status -eq 0 ]] || status=$root_status

if [[ $status -eq 0 && -n $keep_dir ]]; then
    rm -f "$keep_dir"/vmnet-doctor-helper_*.deb
    cp "$deb" "$keep_dir/"
    say "kept $keep_dir/$(basename "$deb")"
fi
say "package test: $((SECONDS - started)) s"
exit "$status"
