#!/usr/bin/env bash
# `./dev bench`: builds the release binaries, then measures the app against
# the libvirt floor and virt-manager and writes docs/benchmarks.md
# (tools/bench/bench.py says how). Extra arguments go to bench.py, e.g.
#   tools/bench/run.sh --sizes 10,100 --gui-runs 1 --out /tmp/b.md
# Runs in the build environment (inside it: `./dev shell tools/bench/run.sh`).
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release --locked --bin vmnet-doctor
cargo build --release --locked -p vmnet-doctor-libvirt --example bench_floor --example bench_snapshot

target=${CARGO_TARGET_DIR:-target}
exec python3 tools/bench/bench.py \
    --app "$target/release/vmnet-doctor" \
    --floor "$target/release/examples/bench_floor" \
    --snapshot "$target/release/examples/bench_snapshot" \
    "$@"
