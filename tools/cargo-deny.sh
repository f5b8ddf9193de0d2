#!/usr/bin/env bash
# The dependency policy (deny.toml): bans, licenses and sources, checked by
# a pinned cargo-deny. Run through `./dev test` (tools/test-all.sh).
#
#   tools/cargo-deny.sh --install   install cargo-deny if it is missing (no-op otherwise)
#   tools/cargo-deny.sh [CHECK…]    run `cargo deny check` (default: bans licenses sources)
#
# cargo-deny is built from crates.io once per build environment, not per
# checkout: a cold CI run has an empty target/, and building it costs
# minutes. Inside ./dev's Debian 13 root VMNET_DOCTOR_TOOLS points into the
# root's own file system (~/.cache/vmnet-doctor/roots/<root>/var/cache/…),
# so it goes away with the root it was linked against; on a workstation it
# lives in ~/.cache/vmnet-doctor/tools/host.
#
# Advisories are not checked: their database is a git repository on GitHub,
# which the build environment cannot be assumed to reach (see deny.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly VERSION=0.20.2
tools=${VMNET_DOCTOR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/vmnet-doctor/tools/host}
prefix=$tools/cargo-deny-$VERSION
bin=$prefix/bin/cargo-deny

install() {
    [[ -x $bin ]] && return
    mkdir -p "$tools"
    # Two test runs at once build it once.
    exec 9>"$tools/.lock"
    flock 9
    [[ -x $bin ]] && return
    printf '==> Installing cargo-deny %s from crates.io into %s (once; a few minutes)\n' "$VERSION" "$prefix" >&2
    local started=$SECONDS partial=$prefix.partial
    rm -rf "$partial" "$tools/build"
    # Its own target dir: not the checkout's (CARGO_TARGET_DIR), not /tmp
    # (a tmpfs inside the root).
    cargo install --locked --version "=$VERSION" --root "$partial" \
        --target-dir "$tools/build" cargo-deny >&2
    rm -rf "$tools/build" "$prefix"
    mv "$partial" "$prefix"
    printf '==> cargo-deny %s installed in %d s\n' "$VERSION" $((SECONDS - started)) >&2
}

if [[ ${1:-} == --install ]]; then
    install
    exit
fi
[[ -x $bin ]] || install
[[ $# -gt 0 ]] || set -- bans licenses sources
exec "$bin" --locked check --show-stats "$@"
