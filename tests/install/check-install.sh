#!/usr/bin/env bash
# Installs the app the way a distribution package does and checks the result:
# `meson install --destdir` into a temporary directory, then the installed
# tree (tests/install/check-tree.py), then the installed binaries themselves.
#
#   tests/install/check-install.sh BUILD_DIR
#
# BUILD_DIR is an existing meson build directory (./dev test uses _build).
# Its profile, buildtype and compiled crates are reused, so only the
# crates that read the install paths recompile.
#
# The binary has its data directory compiled in from meson's prefix, so the
# installed tree must sit at that prefix for `check --demo` to find the
# demo hypervisor. The install build therefore gets --prefix=<tmp>/usr,
# meson installs into DESTDIR=<tmp>/destdir (what packagers do: every file
# must land under DESTDIR + prefix), and <tmp>/usr is then made a symlink to
# <tmp>/destdir/<tmp>/usr, so the staged tree answers at its prefix.
set -euo pipefail

die() { printf 'check-install: %s\n' "$*" >&2; exit 2; }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

[[ $# -eq 1 ]] || die "usage: tests/install/check-install.sh BUILD_DIR"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[[ -f $1/build.ninja ]] || die "$1 is not a configured meson build directory (run meson setup first)"
build=$(cd "$1" && pwd)
started=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmnet-doctor-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/usr
destdir=$tmp/destdir
ibuild=$tmp/build

{ read -r profile; read -r buildtype; read -r cargo_build_dir; } < <(meson introspect "$build" --buildoptions |
    python3 -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(options["profile"], options["buildtype"], options["cargo_build_dir"], sep="\n")')

say "meson setup (profile $profile, buildtype $buildtype, prefix $prefix)"
meson setup "$ibuild" "$root" --prefix="$prefix" -Dprofile="$profile" -Dbuildtype="$buildtype" \
    -Dcargo_build_dir="$cargo_build_dir" >"$tmp/setup.log" ||
    { cat "$tmp/setup.log"; die "meson setup failed"; }
# Share BUILD_DIR's compiled crates: its cargo build-dir when it has one
# (./dev test's is target/), else its cargo target directory (see
# src/meson.build: <build dir>/cargo-target); cargo then rebuilds only
# what reads the VMNET_DOCTOR_* install paths.
mkdir -p "$build/cargo-target"
ln -s "$build/cargo-target" "$ibuild/cargo-target"

say "meson compile"
meson compile -C "$ibuild" >"$tmp/compile.log" 2>&1 || { tail -n 60 "$tmp/compile.log"; die "meson compile failed"; }

say "meson install --destdir"
meson install -C "$ibuild" --no-rebuild --destdir "$destdir" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; die "meson install failed"; }
[[ -d $destdir$prefix ]] || die "nothing was installed under DESTDIR + prefix ($destdir$prefix)"
ln -s "$destdir$prefix" "$prefix"

say "the installed tree and binaries"
status=0
python3 "$root/tests/install/check-tree.py" \
    --source "$root" --build "$ibuild" --prefix "$prefix" --destdir "$destdir" || status=$?

say "install test: $((SECONDS - started)) s"
exit "$status"
