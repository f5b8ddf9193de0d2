#!/usr/bin/env bash
# `./dev bench`: builds the release binaries, then measures the app against
# the libvirt floor and virt-manager, and libvirt events in the lab, and
# writes docs/benchmarks.md (tools/bench/bench.py says how). Extra
# arguments go to bench.py, e.g.
#   tools/bench/run.sh --sizes 10,100 --gui-runs 1 --no-events --out /tmp/b.md
# Runs in the build environment, as root for the lab: `./dev shell tools/bench/run.sh`.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release --locked -p vmnet-doctor -p vmnet-doctor-helper --bins
cargo build --release --locked -p vmnet-doctor --example bench_gtk_floor
cargo build --release --locked -p vmnet-doctor-libvirt --example bench_floor --example bench_snapshot
cargo build --release --locked -p vmnet-doctor-host --example bench_host_facts

target=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
exec python3 tools/bench/bench.py \
    --app "$target/release/vmnet-doctor" \
    --helper "$target/release/vmnet-doctor-helper" \
    --floor "$target/release/examples/bench_floor" \
    --snapshot "$target/release/examples/bench_snapshot" \
    --gtk-floor "$target/release/examples/bench_gtk_floor" \
    --host-facts "$target/release/examples/bench_host_facts" \
    --lab-dir "$target/lab" \
    "$@"
