#!/usr/bin/env bash
# Builds and starts the app; run through `./dev run`. Settings persist in a
# schema compiled next to the build, so `cargo run` needs nothing installed.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked
schemas=target/gschemas
mkdir -p "$schemas"
glib-compile-schemas --strict --targetdir="$schemas" data
export GSETTINGS_SCHEMA_DIR=$PWD/$schemas

if [[ -z "${XDG_RUNTIME_DIR:-}" ]]; then
    export XDG_RUNTIME_DIR
    XDG_RUNTIME_DIR=$(mktemp -d)
fi
if [[ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]]; then
    # No session bus (e.g. inside the build root): give the app its own.
    exec dbus-run-session -- target/debug/vmnet-doctor "$@"
fi
exec target/debug/vmnet-doctor "$@"
