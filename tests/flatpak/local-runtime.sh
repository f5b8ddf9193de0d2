#!/usr/bin/env bash
# Makes the Flatpak runtime, SDK and Rust SDK extension that the manifests
# name, from Debian 13 packages and this project's Rust toolchain, because
# Flathub cannot be reached where the tests run:
#
#   org.gnome.Platform//49, org.gnome.Sdk//49   Debian 13 trees (mmdebstrap)
#   org.freedesktop.Sdk.Extension.rust-stable   the toolchain `rustc` runs
#                                               from, at /usr/lib/sdk/rust-stable
#
# They are exported to an OSTree repository and installed into a Flatpak
# installation of their own, both cached under CACHE and keyed by the
# package lists, this script and the toolchain's version (like ./dev's build
# root): a second run only prints where they are.
#
#   tests/flatpak/local-runtime.sh [CACHE]
#
# CACHE: $VMNET_DOCTOR_FLATPAK_CACHE (./dev binds it into the root), else
# ~/.cache/vmnet-doctor/flatpak.
# Prints the installation's path (use it as FLATPAK_SYSTEM_DIR). Runs as
# root inside ./dev's build root (mmdebstrap, flatpak).
set -euo pipefail

die() { printf 'local-runtime: %s\n' "$*" >&2; exit 1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
[[ $# -le 1 ]] || die "usage: tests/flatpak/local-runtime.sh [CACHE]"
cache=${1:-${VMNET_DOCTOR_FLATPAK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmnet-doctor/flatpak}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

readonly SUITE=trixie
readonly MIRROR=${VMNET_DOCTOR_MIRROR:-http://deb.debian.org/debian}
readonly BRANCH=49           # the manifests' runtime-version
readonly SDK_BRANCH=25.08    # the freedesktop SDK GNOME 49 is built on: its extensions' branch
readonly ARCH=x86_64

# What GNOME's Platform gives an app that this one uses: GTK 4, libadwaita,
# GLib, libxml2 and GnuTLS (libvirt's client), icons, fonts, SVG loading,
# the MIME database, Mesa for GL.
readonly PLATFORM_PACKAGES=(
    libgtk-4-1 libadwaita-1-0 libglib2.0-0t64 libxml2 libgnutls30t64
    adwaita-icon-theme hicolor-icon-theme librsvg2-common shared-mime-info
    fonts-cantarell fonts-dejavu-core gsettings-desktop-schemas
    libgl1-mesa-dri libegl1 libgles2
)
# The SDK: the Platform and what the manifests' modules build with, and
# ccache, as freedesktop's SDK has it, for `flatpak-builder --ccache`.
readonly SDK_PACKAGES=(
    "${PLATFORM_PACKAGES[@]}"
    gcc g++ make libc6-dev pkg-config meson ninja-build flex bison patch
    perl python3 xsltproc libxml2-utils gettext git
    libgtk-4-dev libadwaita-1-dev libglib2.0-dev libglib2.0-dev-bin libxml2-dev libgnutls28-dev
    desktop-file-utils appstream
    ccache
)

sysroot=$(rustc --print sysroot) || die "no rustc: the Rust toolchain is the SDK extension's content"
rust_version=$(rustc --version)
key=$(printf '%s\n' "$SUITE" "${PLATFORM_PACKAGES[@]}" -- "${SDK_PACKAGES[@]}" -- "$rust_version" |
    cat - "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
installation=$cache/installation-$key
if [[ -e $installation/.complete ]]; then
    say "Using the cached local runtime, SDK and Rust extension ($installation)"
    echo "$installation"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ -e $installation/.complete ]]; then echo "$installation"; exit 0; fi
started=$SECONDS
work=$cache/work-$key
rm -rf --one-file-system "$work" "$installation"
mkdir -p "$work"

# A Debian 13 tree as a Flatpak runtime: its /usr becomes the runtime's
# files/ (mounted at /usr in the sandbox; `build-export --runtime` wants
# files/ to exist but commits usr/ unless --files says otherwise) and /etc
# goes to files/etc, which flatpak mounts at /etc.
debian_tree() {
    local dir=$1
    shift
    local include
    include=$(IFS=,; echo "$*")
    mkdir -p "$dir"
    mmdebstrap --variant=apt --include="$include" --mode=root \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$SUITE" "$dir/root" "$MIRROR" >&2
    mkdir -p "$dir/runtime"
    mv "$dir/root/usr" "$dir/runtime/files"
    rm -rf "$dir/runtime/files/etc"
    mv "$dir/root/etc" "$dir/runtime/files/etc"
    rm -rf --one-file-system "$dir/root"
    # flatpak bind-mounts the host's own files over these.
    rm -f "$dir/runtime/files/etc/"{passwd,group,machine-id,resolv.conf,hosts,localtime,timezone}
}

write_metadata() { # DIR NAME EXTRA-LINES...
    local dir=$1 name=$2
    shift 2
    {
        printf '[Runtime]\nname=%s\nruntime=org.gnome.Platform/%s/%s\nsdk=org.gnome.Sdk/%s/%s\n' \
            "$name" "$ARCH" "$BRANCH" "$ARCH" "$BRANCH"
        printf '%s\n' "$@"
    } >"$dir/metadata"
}

say "Debian 13 trees for org.gnome.Platform and org.gnome.Sdk (once; cached in $cache)"
debian_tree "$work/platform" "${PLATFORM_PACKAGES[@]}" &
platform_pid=$!
debian_tree "$work/sdk" "${SDK_PACKAGES[@]}" || { wait "$platform_pid" || true; die "mmdebstrap (SDK) failed"; }
wait "$platform_pid" || die "mmdebstrap (Platform) failed"
write_metadata "$work/platform/runtime" org.gnome.Platform
# The SDK's extension point: where rust-stable is mounted, as in the
# freedesktop SDK.
# flatpak mounts a tmpfs at /usr/lib/sdk for the extensions, so the SDK
# needs that directory, as the freedesktop SDK has it.
mkdir -p "$work/sdk/runtime/files/lib/sdk"
write_metadata "$work/sdk/runtime" org.gnome.Sdk \
    '' '[Extension org.freedesktop.Sdk.Extension]' 'directory=lib/sdk' 'subdirectories=true' \
    "version=$SDK_BRANCH" 'no-autodownload=true'

say "The Rust extension from $sysroot ($rust_version)"
ext=$work/rust/runtime
mkdir -p "$ext/files/bin" "$ext/files/lib/rustlib/x86_64-unknown-linux-gnu"
cp -a "$sysroot/bin/cargo" "$sysroot/bin/rustc" "$sysroot/bin/rustdoc" "$ext/files/bin/"
cp -a "$sysroot"/lib/*.so* "$ext/files/lib/"
cp -a "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib" "$ext/files/lib/rustlib/x86_64-unknown-linux-gnu/"
if [[ -d "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin" ]]; then
    cp -a "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin" "$ext/files/lib/rustlib/x86_64-unknown-linux-gnu/"
fi
printf '[Runtime]\nname=org.freedesktop.Sdk.Extension.rust-stable\n\n[ExtensionOf]\nref=runtime/org.gnome.Sdk/%s/%s\n' \
    "$ARCH" "$BRANCH" >"$ext/metadata"

say "Exporting and installing them"
repo=$work/repo
flatpak build-export --runtime --files=files --no-update-summary "$repo" "$work/platform/runtime" "$BRANCH" >&2
flatpak build-export --runtime --files=files --no-update-summary "$repo" "$work/sdk/runtime" "$BRANCH" >&2
flatpak build-export --runtime --files=files --no-update-summary "$repo" "$ext" "$SDK_BRANCH" >&2
flatpak build-update-repo "$repo" >&2
mkdir -p "$installation"
export FLATPAK_SYSTEM_DIR=$installation
flatpak --system remote-add --no-gpg-verify local-debian "$repo" >&2
flatpak --system install -y --noninteractive local-debian \
    "runtime/org.gnome.Platform/$ARCH/$BRANCH" "runtime/org.gnome.Sdk/$ARCH/$BRANCH" \
    "runtime/org.freedesktop.Sdk.Extension.rust-stable/$ARCH/$SDK_BRANCH" >&2
# The refs stay installed; the repository they came from is not needed.
flatpak --system remote-delete --force local-debian >&2
rm -rf --one-file-system "$work"
touch "$installation/.complete"
say "Local runtime, SDK and Rust extension made in $((SECONDS - started)) s"
# Installations made from older package lists or toolchains are dead weight.
for old in "$cache"/installation-*; do
    [[ $old == "$installation" ]] || rm -rf --one-file-system "$old"
done
echo "$installation"
