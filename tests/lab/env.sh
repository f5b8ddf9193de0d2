# Sourced by the lab's runners (tests/lab/*.sh), from the repository's root
# and as root: builds the app and the helper, exports what tests/lab/lab.sh
# needs (LAB_DOCTOR, LAB_HELPER, LAB_HELPER_DEB, LAB_GUEST_DIR,
# LAB_CACHE_DIR) and builds the tiny guest. Sets target_dir, Cargo's target directory.
#
#   source tests/lab/env.sh --cli    for the command-line tests
#   source tests/lab/env.sh --gui    also the app's compiled GSettings schema
#                                    (GSETTINGS_SCHEMA_DIR, a meson build's)
#
# The mode is required: sourced without arguments, this file would see the
# runner's own.
# A LAB_DOCTOR set by the caller wins (an app built elsewhere).
# shellcheck shell=bash
case "${1:-}" in
    --cli | --gui) ;;
    *) echo "tests/lab/env.sh: source it with --cli or --gui" >&2; exit 2 ;;
esac

cargo build --locked --workspace --bin vmnet-doctor --bin vmnet-doctor-helper
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export LAB_DOCTOR=${LAB_DOCTOR:-$target_dir/debug/vmnet-doctor}
export LAB_HELPER=$target_dir/debug/vmnet-doctor-helper
export LAB_GUEST_DIR=$target_dir/lab/guest
export LAB_CACHE_DIR=$target_dir/lab/cache
if [[ "${1:-}" == --gui ]]; then
    export GSETTINGS_SCHEMA_DIR=${GSETTINGS_SCHEMA_DIR:-$PWD/_build/data}
    [[ -f "$GSETTINGS_SCHEMA_DIR/gschemas.compiled" ]] ||
        { echo "no compiled schema in $GSETTINGS_SCHEMA_DIR (meson compile -C _build)" >&2; exit 2; }
fi
# The Flatpak the lab runs as its sandboxed app (tests/flatpak/build.sh
# builds it; ./dev test does, before the lab). Without it the lab's
# sandboxed checks use bubblewrap shaped like it; in CI it must be there.
if [[ -f target/flatpak/repo/config && -f target/flatpak/installation ]]; then
    export LAB_FLATPAK_REPO=$PWD/target/flatpak/repo
    LAB_FLATPAK_INSTALLATION=$(cat target/flatpak/installation)
    export LAB_FLATPAK_INSTALLATION
elif [[ ${CI:-} == true ]]; then
    echo "tests/lab/env.sh: no Flatpak in target/flatpak (tests/flatpak/build.sh); CI runs the lab with it" >&2
    exit 2
else
    echo "tests/lab/env.sh: no Flatpak built (tests/flatpak/build.sh): the sandboxed app is emulated with bubblewrap" >&2
fi
# The helper's own .deb, which the lab's host installs with dpkg as a user
# would (tests/packaging/check-deb.sh --keep target/packages builds and
# tests it; ./dev test does, before the lab). It must be newer than every
# file the helper is built from: the binary's own time says less, since the
# helper suite relinks it (its test features, the same code) after the .deb
# is made, which once failed a CI run whose lab started late. Without it
# the lab D-Bus-activates the helper binary above; in CI it must be there.
deb=$(compgen -G "$PWD/target/packages/vmnet-doctor-helper_*.deb" | head -n 1 || true)
changed_since_deb=
if [[ -n $deb ]]; then
    changed_since_deb=$(find crates/helper crates/helper-api crates/core crates/host data/helper packaging/debian \
        Cargo.toml Cargo.lock -type f -newer "$deb" -print -quit)
fi
if [[ -n $deb && -z $changed_since_deb ]]; then
    export LAB_HELPER_DEB=$deb
elif [[ ${CI:-} == true ]]; then
    echo "tests/lab/env.sh: no helper .deb in target/packages newer than the helper's sources${changed_since_deb:+ ($changed_since_deb changed after it)} (tests/packaging/check-deb.sh _build --keep target/packages); CI installs it on the lab's host" >&2
    exit 2
else
    echo "tests/lab/env.sh: no up-to-date helper .deb in target/packages (tests/packaging/check-deb.sh _build --keep target/packages): the lab D-Bus-activates $LAB_HELPER" >&2
fi
tests/lab/build-guest.sh "$LAB_GUEST_DIR"
