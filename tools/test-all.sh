#!/usr/bin/env bash
# Every test, in the order that fails fastest. Run through `./dev test`,
# which provides the build environment; prints each phase's time.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=_build
declare -a timings=()
phase() {
    local name=$1
    shift
    printf '\n\033[1m==> %s\033[0m\n' "$name"
    local started=$SECONDS
    "$@"
    timings+=("$(printf '%-34s %4d s' "$name" $((SECONDS - started)))")
}
summary() {
    printf '\n\033[1m==> Phase times\033[0m\n'
    printf '  %s\n' "${timings[@]}"
}
trap summary EXIT

phase "cargo fmt --check" cargo fmt --all --check
phase "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
phase "cargo test" cargo test --workspace --locked
phase "cargo build" cargo build --workspace --locked
if [[ ! -f "$build_dir/build.ninja" ]]; then
    phase "meson setup" meson setup "$build_dir" -Dprofile=development -Dbuildtype=debug
fi
phase "meson compile" meson compile -C "$build_dir"
phase "meson test" meson test -C "$build_dir" --print-errorlogs
# The real app under Xvfb, as `./dev run` builds it; the capture is the
# screenshot README.md and the metainfo show.
phase "screenshot (Xvfb)" env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" \
    tests/gui/screenshot.sh target/debug/vmnet-doctor data/screenshots/main-window.png -- --demo --vm kali-linux
