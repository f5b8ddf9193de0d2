#!/usr/bin/env bash
# Builds the real Flatpak manifest with flatpak-builder, without Flathub or
# upstream download sites: the runtime, SDK and rust-stable extension it
# names are made from Debian 13 packages and this project's toolchain
# (tests/flatpak/local-runtime.sh); the C libraries' tarballs come from
# Debian's archive and the crates from cargo's download cache
# (tests/flatpak/offline-sources.py), each checked against the manifest's
# sha256. The manifest is used as it is in the repository (the local
# runtime takes the names it asks for), and tests/flatpak/check-build.py
# then checks what was built against it.
#
#   tests/flatpak/build.sh [MANIFEST [OUT_DIR]]
#
# MANIFEST defaults to the release manifest, OUT_DIR to target/flatpak.
# Exports the app to OUT_DIR/repo (a repository `flatpak install` takes). Everything flatpak keeps goes to private installations: nothing
# touches the machine's own. Needs root inside ./dev's build root.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() { printf 'flatpak build: %s\n' "$*" >&2; exit 1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
manifest=${1:-flatpak/io.github.vmnetdoctor.VmNetDoctor.json}
[[ -f $manifest ]] || die "no manifest $manifest"
manifest=$(realpath --relative-to="$PWD" "$manifest")
[[ $manifest != ../* ]] || die "the manifest must be in this checkout (its app module builds the checkout)"
cache=${VMNET_DOCTOR_FLATPAK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmnet-doctor/flatpak}
mkdir -p "${2:-target/flatpak}"
out=$(cd "${2:-target/flatpak}" && pwd)

started=$SECONDS
installation=$(tests/flatpak/local-runtime.sh "$cache")
# The private installations: the runtime's, and an empty user one so that
# a developer's own org.gnome.Platform is never picked up instead.
export FLATPAK_SYSTEM_DIR=$installation
export FLATPAK_USER_DIR=$out/user-installation
mkdir -p "$FLATPAK_USER_DIR"
python3 tests/flatpak/offline-sources.py "$manifest" "$cache/sources"
say "Runtime and sources ready in $((SECONDS - started)) s"

# flatpak-builder keeps the modules it built in its state directory, keyed
# by each module's definition and sources: libtirpc, libnl and libvirt are
# built once, the app whenever the checkout changed. With --ccache its
# compiler cache (in that directory too) also keeps cargo's target
# directory (build-aux/cargo-build.sh): the app's rebuild compiles only
# the crates that changed.
build_started=$SECONDS
# One flatpak-builder at a time per state directory (two checkouts' runs).
mkdir -p "$cache/builder-state"
exec 9>"$cache/builder-state.lock"
flock 9
# The compiler cache, named here so that it is this one whatever the
# environment says. cargo decides what to compile again from modification
# times, which compare only within one checkout: after another checkout's
# build, this one's own crates compile again (the dependencies stay).
export CCACHE_DIR=$cache/builder-state/ccache
cargo_target=$CCACHE_DIR/cargo-target
mkdir -p "$cargo_target"
if [[ $(cat "$cargo_target/.checkout" 2>/dev/null) != "$PWD" ]]; then
    rm -rf "$cargo_target"/*/.fingerprint/vmnet-doctor-*
    printf '%s\n' "$PWD" >"$cargo_target/.checkout"
fi
# flatpak-builder names its cache after the manifest's path: the checkout
# is bound at one fixed path, so that every checkout (CI's fresh clones)
# finds the modules another one built.
stable=/run/vmnet-doctor-flatpak/checkout
unshare --mount --propagation private -- bash -euo pipefail -c '
    mkdir -p "$1" && mount --bind "$2" "$1"
    shift 2
    exec flatpak-builder "$@"' build "$stable" "$PWD" \
    --disable-rofiles-fuse --force-clean --disable-updates --disable-download --ccache \
    --state-dir="$cache/builder-state" --extra-sources="$cache/sources" \
    --repo="$out/repo" "$out/build" "$stable/$manifest" >&2 ||
    die "flatpak-builder failed (the module's log is above)"
say "flatpak-builder done in $((SECONDS - build_started)) s"
python3 tests/flatpak/check-build.py "$manifest" "$out/build"
# Where the runtime is installed, for the lab (tests/lab/env.sh).
echo "$installation" >"$out/installation"
