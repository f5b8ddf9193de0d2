#!/usr/bin/env bash
# Builds the Debian package of the root helper alone, vmnet-doctor-helper:
# the binary in /usr/libexec, its polkit policy, D-Bus policy and
# activation file and its systemd unit — exactly what
# `meson install --tags helper` installs (every helper file in meson has
# install_tag 'helper'). The app itself comes as a Flatpak, which cannot
# ship a system service; this package is the host part it talks to.
#
#   packaging/debian/build-deb.sh BUILD_DIR OUT_DIR
#
# BUILD_DIR is a meson build directory configured with --prefix=/usr (a
# release package: also --buildtype=release), for example
#   meson setup _pkg --prefix=/usr --buildtype=release
# Only the helper's targets are built (not the GUI). The .deb is written to
# OUT_DIR and its path is the last line on standard output.
#
# Depends: the system bus and polkitd, plus the shared libraries the binary
# links: computed by dpkg-shlibdeps when dpkg-dev is installed, otherwise
# from the binary's NEEDED entries (objdump), the package owning each
# library (dpkg -S) and that package's shlibs file — the same data
# dpkg-shlibdeps starts from, without its per-symbol minimum versions, so
# the versions can come out higher than dpkg-shlibdeps would say, never
# lower. The script says which it used.
#
# Environment: DEB_BUILD_OPTIONS=nostrip keeps the debug symbols (the
# binary is stripped otherwise, as dh_strip does); DEBFULLNAME and DEBEMAIL
# fill Maintainer; SOURCE_DATE_EPOCH (default: the last commit's time)
# sets the timestamps.
set -euo pipefail

die() { printf 'build-deb: %s\n' "$*" >&2; exit 2; }
say() { printf 'build-deb: %s\n' "$*" >&2; }

[[ $# -eq 2 ]] || die "usage: packaging/debian/build-deb.sh BUILD_DIR OUT_DIR"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_root=$(cd "$here/../.." && pwd)
[[ -f $1/build.ninja ]] || die "$1 is not a configured meson build directory (meson setup BUILD_DIR --prefix=/usr)"
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
for tool in meson ninja dpkg dpkg-deb md5sum python3; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

package=vmnet-doctor-helper
helper_tag=helper

# The build's options and what it would install with the helper tag.
read -r prefix libexecdir helper_option version < <(
    meson introspect "$build" --buildoptions --projectinfo | python3 -c '
import json, sys
info = json.load(sys.stdin)
options = {o["name"]: o["value"] for o in info["buildoptions"]}
print(options["prefix"], options["libexecdir"], str(options.get("helper", True)).lower(), info["projectinfo"]["version"])')
[[ $prefix == /usr ]] || die "$build has prefix $prefix; a Debian package needs --prefix=/usr (meson configure $build --prefix=/usr)"
[[ $helper_option == true ]] || die "$build is configured with -Dhelper=false: it builds no helper"
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "the project version $version is not a Debian version"
arch=$(dpkg --print-architecture)
libexec=$prefix/$libexecdir
[[ $libexecdir == /* ]] && libexec=$libexecdir

# Build only what the helper tag installs: those of its files that are
# outputs of build targets (configure_file outputs already exist, data
# files in the source tree need nothing).
mapfile -t targets < <(meson introspect "$build" --install-plan --targets | python3 -c '
import json, os, sys
build, tag = sys.argv[1], sys.argv[2]
info = json.load(sys.stdin)
outputs = {f for target in info["targets"] for f in target["filename"]}
for group in info["install_plan"].values():
    for source, entry in group.items():
        if entry.get("tag") == tag and source in outputs:
            print(os.path.relpath(source, build))' "$build" "$helper_tag")
[[ ${#targets[@]} -gt 0 ]] || die "$build installs nothing tagged '$helper_tag'"
say "building ${targets[*]}"
ninja -C "$build" "${targets[@]}" >&2 || die "building the helper failed"

work=$(mktemp -d "${TMPDIR:-/tmp}/build-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Laid out as dpkg-shlibdeps expects a package build: debian/PACKAGE.
stage=$work/debian/$package
umask 022
meson install -C "$build" --no-rebuild --quiet --tags "$helper_tag" --destdir "$stage" >&2 ||
    die "meson install --tags $helper_tag failed"
binary=$stage$libexec/$package
[[ -x $binary ]] || die "the install has no $libexec/$package"
stray=$(cd "$stage" && find . -mindepth 1 -not -path ./usr -not -path './usr/*' | head -n 5)
[[ -z $stray ]] || die "files outside /usr in the staged tree: $stray"

# Debian policy 12.5: every package carries its copyright file; GPL-3's
# text is in base-files' common-licenses.
install -D -m 0644 "$here/copyright" "$stage/usr/share/doc/$package/copyright"

case " ${DEB_BUILD_OPTIONS:-} " in
    *" nostrip "*) say "not stripping (DEB_BUILD_OPTIONS=nostrip)" ;;
    *)
        command -v strip >/dev/null || die "strip (binutils) is needed, or DEB_BUILD_OPTIONS=nostrip"
        # dh_strip's options for an executable.
        strip --remove-section=.comment --remove-section=.note --strip-unneeded "$binary"
        ;;
esac

# --- Depends ------------------------------------------------------------------
# The system bus (dbus-daemon and its policy directory) and polkitd, whose
# actions the helper asks about: without either it cannot answer.
depends=("default-dbus-system-bus | dbus-system-bus" "polkitd")

shlib_depends_by_dpkg_shlibdeps() {
    printf 'Source: vmnet-doctor\n\nPackage: %s\nArchitecture: any\n' "$package" >"$work/debian/control"
    (cd "$work" && dpkg-shlibdeps -O -e"$binary") | sed -n 's/^shlibs:Depends=//p'
}

# NEEDED soname -> owning package -> its shlibs line "NAME VERSION DEPENDS".
shlib_depends_by_shlibs_files() {
    command -v objdump >/dev/null || die "objdump (binutils) or dpkg-shlibdeps (dpkg-dev) is needed"
    local soname path owner pkg dep name soversion candidate found
    local -A resolved=()
    while read -r soname path; do resolved[$soname]=$path; done < <(
        ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3} $1 ~ /^\// {n = split($1, p, "/"); print p[n], $1}')
    local -a out=()
    while read -r soname; do
        path=${resolved[$soname]:-}
        [[ -n $path ]] || die "ldd does not resolve $soname"
        owner=
        # merged /usr: the dpkg database may name either spelling.
        for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
            owner=$(dpkg -S "$candidate" 2>/dev/null | grep -v '^diversion' | head -n 1 | sed 's/[,:] .*//') || true
            [[ -n $owner ]] && break
        done
        [[ -n $owner ]] || die "no installed package owns $path ($soname)"
        pkg=${owner%%:*}
        if [[ $soname =~ ^(.+)\.so\.(.+)$ ]]; then
            name=${BASH_REMATCH[1]} soversion=${BASH_REMATCH[2]}
        elif [[ $soname =~ ^(.+)-([0-9.]+)\.so$ ]]; then
            name=${BASH_REMATCH[1]} soversion=${BASH_REMATCH[2]}
        else
            die "cannot read the soname $soname"
        fi
        found=
        for candidate in "/var/lib/dpkg/info/$owner.shlibs" "/var/lib/dpkg/info/$pkg:$arch.shlibs" "/var/lib/dpkg/info/$pkg.shlibs"; do
            [[ -f $candidate ]] || continue
            dep=$(awk -v n="$name" -v v="$soversion" '$1 == n && $2 == v {$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit}' "$candidate")
            [[ -n $dep ]] && { found=$dep; break; }
        done
        if [[ -z $found ]]; then
            say "warning: $pkg has no shlibs entry for $soname; depending on $pkg without a version"
            found=$pkg
        fi
        out+=("$found")
    done < <(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}')
    printf '%s\n' "${out[@]}" | sort -u | paste -sd, - | sed 's/,/, /g'
}

if command -v dpkg-shlibdeps >/dev/null; then
    say "library dependencies: dpkg-shlibdeps"
    shlibs=$(shlib_depends_by_dpkg_shlibdeps)
else
    say "library dependencies: objdump NEEDED + dpkg -S + shlibs files (dpkg-dev is not installed)"
    shlibs=$(shlib_depends_by_shlibs_files)
fi
[[ -n $shlibs ]] || die "found no library dependencies for $binary (a Rust binary links at least libc)"
depends+=("$shlibs")
depends_line=$(printf '%s, ' "${depends[@]}")
depends_line=${depends_line%, }
say "Depends: $depends_line"

# --- DEBIAN/ ----------------------------------------------------------------------
# Sizes as dpkg-gencontrol counts them: KiB per file rounded up, 1 per
# directory or symlink.
installed_size=$(cd "$stage" && find . -mindepth 1 \( -type f -printf 'f %s\n' \) -o \( -printf 'o 0\n' \) |
    awk '{ total += ($1 == "f") ? int(($2 + 1023) / 1024) : 1 } END { print total }')
maintainer="${DEBFULLNAME:-VM Network Doctor packagers} <${DEBEMAIL:-packaging@vmnetdoctor.invalid}>"

mkdir -p "$stage/DEBIAN"
python3 - "$here/control.in" "$stage/DEBIAN/control" "$version" "$arch" "$maintainer" "$installed_size" \
    "$depends_line" <<'PY'
import sys
template, target, *values = sys.argv[1:]
text = open(template, encoding="utf-8").read()
for key, value in zip(["@VERSION@", "@ARCH@", "@MAINTAINER@", "@INSTALLED_SIZE@", "@DEPENDS@"], values):
    if key not in text:
        sys.exit(f"build-deb: control.in lacks {key}")
    text = text.replace(key, value)
open(target, "w", encoding="utf-8").write(text)
PY
install -m 0755 "$here/postinst" "$here/postrm" "$stage/DEBIAN/"
(cd "$stage" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
# What meson installed, normalised: no group- or world-writable files.
chmod -R go-w "$stage"

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$source_root" log -1 --format=%ct 2>/dev/null || date +%s)}
deb=$out/${package}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
say "built $deb"
echo "$deb"
