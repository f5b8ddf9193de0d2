#!/bin/sh
# Runs `cargo build` for one binary and copies it to where meson expects it.
# Called by src/meson.build; the VMNET_DOCTOR_* variables it needs arrive
# through meson's environment, and cargo tracks them (option_env!), so a
# changed prefix or profile rebuilds exactly what reads them.
#
#   cargo-build.sh CARGO MANIFEST TARGET_DIR CARGO_PROFILE BIN OUTPUT [CARGO_ARGS…]
set -eu

cargo=$1 manifest=$2 target_dir=$3 cargo_profile=$4 bin=$5 output=$6
shift 6

# Under `flatpak-builder --ccache` the compiler cache is a directory kept
# between builds, mounted at /run/ccache; cargo's target directory goes
# there too, so that a rebuild compiles what changed rather than every
# crate. Without --ccache (Flathub's builds) CCACHE_DIR names the disabled
# cache and the build directory is used as always.
if [ -n "${FLATPAK_BUILDER_BUILDDIR:-}" ] && [ "${CCACHE_DIR:-}" = /run/ccache ] && [ -w /run/ccache ]; then
    target_dir=/run/ccache/cargo-target
fi

# --workspace with --bin: the dependencies' features are resolved for the
# whole workspace, as `cargo test --workspace` resolves them, and only BIN
# is built. So the shipped binary has the features the tests ran with, and
# a build that shares compiled crates with the tests' (CARGO_BUILD_BUILD_DIR,
# ./dev test) reuses them: resolved for one package, tokio, zbus and the
# crates built on them were compiled a second and a third time (260 s of a
# cold run on two cores).
"$cargo" build \
    --manifest-path "$manifest" \
    --workspace \
    --target-dir "$target_dir" \
    --profile "$cargo_profile" \
    --bin "$bin" \
    "$@"

# cargo's "dev" profile writes to target/debug.
case $cargo_profile in
    dev) out_dir=debug ;;
    *) out_dir=$cargo_profile ;;
esac

# Keep the copy's timestamp when nothing changed, so meson test and install
# do not see a new file after every no-op build.
if ! cmp -s "$target_dir/$out_dir/$bin" "$output"; then
    cp "$target_dir/$out_dir/$bin" "$output.tmp"
    mv -f "$output.tmp" "$output"
fi
