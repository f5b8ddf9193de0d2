#!/usr/bin/env bash
# The suite on a busy machine: README's test command (.ci/run) several
# times in a row with CPU-bound processes running beside it the whole time.
# Waits must follow events and timeouts must allow for load, so every run
# has to be green; the first red run stops it.
#
#   CI=true tools/busy-runs.sh [RUNS] [HOGS]     (defaults: 3 runs, 2 hogs)
#
# Each run's output goes to target/busy-runs/run-N.log; the summary gives
# each run's time and the load average beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3} hogs=${2:-2}
[[ $runs =~ ^[1-9][0-9]*$ && $hogs =~ ^[0-9]+$ ]] || {
    echo "usage: tools/busy-runs.sh [RUNS] [HOGS]" >&2
    exit 2
}
logs=target/busy-runs
mkdir -p "$logs"

# The hogs are plain busy loops at normal priority, ended by their PIDs.
hog_pids=()
stop_hogs() {
    local pid
    for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT
for ((h = 0; h < hogs; h++)); do
    bash -c 'while :; do :; done' &
    hog_pids+=("$!")
done
echo "busy-runs: $hogs CPU hog(s) running (PIDs ${hog_pids[*]:-none}), $runs run(s) of .ci/run"

declare -a results=()
status=0
for ((run = 1; run <= runs; run++)); do
    started=$SECONDS
    echo "busy-runs: run $run of $runs started $(date -u +%H:%M:%S) → $logs/run-$run.log"
    if ./.ci/run >"$logs/run-$run.log" 2>&1; then verdict=green; else verdict=red status=1; fi
    read -r load1 load5 _ </proc/loadavg
    results+=("$(printf 'run %d: %-5s %4d s  (load average %s, %s)' \
        "$run" "$verdict" $((SECONDS - started)) "$load1" "$load5")")
    echo "busy-runs: ${results[-1]}"
    [[ $verdict == green ]] || {
        echo "busy-runs: run $run is red; its log ends:" >&2
        tail -n 30 "$logs/run-$run.log" >&2
        break
    }
done
printf '\nbusy-runs: %d hog(s) beside\n' "$hogs"
printf '  %s\n' "${results[@]}"
exit "$status"
