#!/usr/bin/env bash
# The helper's tests against real parts (DESIGN.md, testing tier 3): the
# real vmnet-doctor-helper, D-Bus-activated on a private system bus with a
# real polkitd, called as root and as unprivileged users; its fixes applied
# for real to sysctl, UFW and iptables inside the network namespace of a
# real libvirtd (tests/libvirtd/with-libvirtd.sh), and undone again.
#
#   tests/helper/run.sh [TEST-NAME-FILTER]
#
# With no filter, the tests are split over HELPER_TEST_SHARDS (2)
# environments that run at once.
#
# Needs root (the tests switch to other users with setpriv); ./dev test runs
# it inside the Debian 13 root.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $(id -u) -ne 0 ]]; then
    echo "tests/helper/run.sh: needs root" >&2
    exit 2
fi
# The whole workspace selected, as `cargo test --workspace` selects it: the
# same features, so nothing is compiled again. The tests also run the app's
# binary as normal users (`vmnet-doctor check`).
cargo build --workspace --locked --bin vmnet-doctor-helper --bin vmnet-doctor --test system_bus
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
helper="$target_dir/debug/vmnet-doctor-helper"
export VMND_TEST_DOCTOR="$target_dir/debug/vmnet-doctor"

# One environment: its own namespaces, libvirtd, buses and polkitd, where
# COMMAND runs.
in_environment() {
    tests/libvirtd/with-libvirtd.sh "$PWD/tests/helper/with-private-bus.sh" "$helper" "$@"
}
test_args=(--workspace --locked --offline --test system_bus -- --ignored --test-threads=1)
shards=${HELPER_TEST_SHARDS:-2}
if [[ $# -gt 0 || $shards -le 1 ]]; then
    in_environment cargo test "${test_args[@]}" "$@"
    exit
fi
# Every test, in SHARDS environments at once, each taking the next test from
# one queue when its last one is done (a few tests wait for most of a
# minute, on polkitd or the helper's idle exit). The tests of one
# environment run one at a time: they change its firewall and files; two
# environments share nothing.
mapfile -t tests < <(cargo test "${test_args[@]}" --list --format terse | sed -n 's/: test$//p')
[[ ${#tests[@]} -gt 0 ]] || { echo "tests/helper/run.sh: no test listed" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vmnd-helper-queue.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '%s\n' "${tests[@]}" >"$work/queue"
# Inside an environment: take the first name off the queue (under its lock)
# until none is left; fail when any test failed.
take_tests='
queue=$1; shift
status=0
while name=$(flock "$queue" sh -c "head -n 1 \"\$0\"; sed -i 1d \"\$0\"" "$queue") && [ -n "$name" ]; do
    echo "$name" >>"$queue.taken"
    "$@" --exact "$name" || status=1
done
exit "$status"'
pids=()
for ((shard = 0; shard < shards; shard++)); do
    in_environment bash -c "$take_tests" take-tests "$work/queue" cargo test "${test_args[@]}" \
        >"$work/$shard.log" 2>&1 &
    pids+=("$!")
done
status=0
for ((shard = 0; shard < shards; shard++)); do
    wait "${pids[shard]}" || status=1
    printf '==> helper tests, environment %d of %d\n' $((shard + 1)) "$shards"
    cat "$work/$shard.log"
done
ran=$(sort -u "$work/queue.taken" | wc -l)
if [[ $ran -ne ${#tests[@]} ]]; then
    echo "tests/helper/run.sh: ${#tests[@]} tests listed, $ran run" >&2
    status=1
fi
exit "$status"
