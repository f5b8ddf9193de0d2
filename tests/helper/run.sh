#!/usr/bin/env bash
# The helper's tests against real parts (DESIGN.md, testing tier 3): the
# real vmnet-doctor-helper, D-Bus-activated on a private system bus with a
# real polkitd, called as root and as unprivileged users; its fixes applied
# for real to sysctl, UFW and iptables inside the network namespace of a
# real libvirtd (tests/libvirtd/with-libvirtd.sh), and undone again.
#
#   tests/helper/run.sh [TEST-NAME-FILTER]
#
# Needs root (the tests switch to other users with setpriv); ./dev test runs
# it inside the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $(id -u) -ne 0 ]]; then
    echo "tests/helper/run.sh: needs root" >&2
    exit 2
fi
cargo build -p vmnet-doctor-helper --locked --bins --tests
# The tests also run `vmnet-doctor check` as normal users.
cargo build -p vmnet-doctor --locked --bin vmnet-doctor
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
helper="$target_dir/debug/vmnet-doctor-helper"
export VMND_TEST_DOCTOR="$target_dir/debug/vmnet-doctor"

exec tests/libvirtd/with-libvirtd.sh "$PWD/tests/helper/with-private-bus.sh" "$helper" \
    cargo test -p vmnet-doctor-helper --locked --offline --test system_bus -- --ignored --test-threads=1 "$@"
