# shellcheck shell=bash
# Sourced by test scripts that start daemons of their own.
#
# wait_for_line FILE PATTERN PID: waits until FILE has a line matching
# PATTERN (a daemon saying it is ready) while PID lives; up to 60 s, for a
# loaded machine. On failure it shows FILE and calls the caller's `fail`.
wait_for_line() {
    local file=$1 pattern=$2 pid=$3 waited=0
    until grep -q -- "$pattern" "$file" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; fail "exited before: $pattern"; }
        ((waited++ < 600)) || { cat "$file" >&2; fail "not within 60 s: $pattern"; }
        # inotifywait is not in the root; a tenth of a second between looks.
        read -rt 0.1 <> <(:) || true
    done
}
