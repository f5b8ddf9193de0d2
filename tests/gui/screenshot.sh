#!/usr/bin/env bash
# Runs the real app under Xvfb on the demo hypervisor and captures its
# window as PNG — the screenshot README.md and the metainfo show.
#
#   screenshot.sh BINARY OUTPUT.png [--width N] [--height N] [--dark] [--first-run]
#                 [--setting "KEY=GVARIANT"]… [--env NAME=VALUE]… [--event-timeout SECONDS]
#                 [--expect vm-list-populated|connection-failed|wizard-shown]
#                 [--keys "COMBO…" [--then-expect EVENT]]… [--log FILE] [-- APP ARGS…]
#
# APP ARGS default to --demo. The app must settle into the expected state
# (it reports it on stderr with VMNET_DOCTOR_REPORT_STARTUP=1). --keys then
# types key combinations into the window as a user would (e.g. "ctrl+h",
# the Host page), through the X server (press-keys.py), and --then-expect
# waits for the app to report what they did (e.g. host-page-shown); more
# pairs follow in order, each typed once the one before was reported (e.g.
# open the Fix dialog, wait for its plan, press Apply, wait for the result).
# Each run gets its own X server, session bus, HOME and settings, so nothing
# of the user's desktop leaks in and nothing outlives the test. The setup
# wizard, which opens by itself on a first run, is marked dismissed unless
# --first-run asks for a first run (`--setup` in APP ARGS opens it anyway).
# --setting adds a key to those settings, e.g. "verify-targets=['', 'www.lab']".
# --env adds to (or overrides) the app's environment, e.g. LANG=de_DE.UTF-8.
# --expect and each --then-expect wait --event-timeout seconds (30) for
# their event: the wait ends as soon as it comes, and a loaded two-core
# machine took over 10 s to show the setup wizard (a busy run, beside two
# CPU hogs and the lab, the app 9 s to list the demo).
# --log keeps the app's stderr (its reports) in FILE, for a caller's checks.
set -euo pipefail

binary=$(realpath "$1") output=$2
shift 2
width=1100 height=720 scheme=default expect=vm-list-populated setup_state="setup-state='dismissed'"
keys=() then_expect=() settings=() app_env=() event_timeout=30 log=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --width) width=$2; shift 2 ;;
        --height) height=$2; shift 2 ;;
        --dark) scheme=prefer-dark; shift ;;
        --first-run) setup_state=""; shift ;;
        --setting) settings+=("$2"); shift 2 ;;
        --env) app_env+=("$2"); shift 2 ;;
        --event-timeout) event_timeout=$2; shift 2 ;;
        --expect) expect=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --keys) keys+=("$2"); then_expect+=(""); shift 2 ;;
        --then-expect)
            [[ ${#keys[@]} -gt 0 ]] || { echo "screenshot.sh: --then-expect needs --keys before it" >&2; exit 2; }
            then_expect[${#keys[@]}-1]=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "screenshot.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
app_args=("$@")
[[ ${#app_args[@]} -gt 0 ]] || app_args=(--demo)
schema_dir=${GSETTINGS_SCHEMA_DIR:-}

work=$(mktemp -d)
pids=()
cleanup() {
    # The app first, the session bus and X server it uses after it.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "$log" ]]; then cp "$work/app.log" "$log" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Xvfb picks a free display and writes its number to fd 3.
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp -nolisten unix 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/display" ]] && break; sleep 0.05; done
exec 3>&-
display=":$(head -n1 "$work/display")"
[[ "$display" != ":" ]] || { echo "Xvfb did not start:" >&2; cat "$work/xvfb.log" >&2; exit 1; }

# The window size comes from GSettings, as for a user.
mkdir -p "$work/home/.config/glib-2.0/settings"
printf '[io/github/vmnetdoctor/VmNetDoctor]\nwindow-width=%s\nwindow-height=%s\n%s\n' "$width" "$height" \
    "$setup_state" >"$work/home/.config/glib-2.0/settings/keyfile"
[[ ${#settings[@]} -eq 0 ]] || printf '%s\n' "${settings[@]}" >>"$work/home/.config/glib-2.0/settings/keyfile"
# No animations: a page slide on Xvfb's software renderer stalls for
# seconds, and a capture must show the page, not the way there.
mkdir -p "$work/home/.config/gtk-4.0"
printf '[Settings]\ngtk-enable-animations=false\n' >"$work/home/.config/gtk-4.0/settings.ini"

session_env=(PATH="$PATH" HOME="$work/home" DISPLAY="$display" XDG_RUNTIME_DIR="$work"
    GSETTINGS_BACKEND=keyfile ${schema_dir:+GSETTINGS_SCHEMA_DIR="$schema_dir"}
    ADW_DEBUG_COLOR_SCHEME="$scheme" GTK_A11Y=none NO_AT_BRIDGE=1 LANG=C.UTF-8)
# A session bus started here rather than by dbus-run-session, so that
# cleanup ends it by its PID: killing dbus-run-session leaves its daemon
# running, holding the caller's output open.
env -i "${session_env[@]}" dbus-daemon --session --nofork --print-address=1 \
    >"$work/bus-address" 2>"$work/bus.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/bus-address" ]] && break; sleep 0.05; done
bus_address=$(head -n1 "$work/bus-address")
[[ -n "$bus_address" ]] || { echo "the session bus did not start:" >&2; cat "$work/bus.log" >&2; exit 1; }

touch "$work/app.log"
env -i "${session_env[@]}" DBUS_SESSION_BUS_ADDRESS="$bus_address" \
    VMNET_DOCTOR_REPORT_STARTUP=1 GDK_BACKEND=x11 ${app_env[@]+"${app_env[@]}"} \
    "$binary" "${app_args[@]}" 2>"$work/app.log" &
app_pid=$!
pids+=("$app_pid")

# Wait for the app to say it has settled: the whole diagnosis on screen
# (the VM list comes first when the host's facts take time), or the error page.
settled='vmnet-doctor: (diagnosed|connection-failed) '
for _ in $(seq 600); do
    grep -Eq "$settled" "$work/app.log" && break
    if ! kill -0 "$app_pid" 2>/dev/null; then
        echo "the app exited early:" >&2; cat "$work/app.log" >&2; exit 1
    fi
    sleep 0.1
done
grep -Eq "$settled" "$work/app.log" || { echo "the app did not settle in 60 s:" >&2; cat "$work/app.log" >&2; exit 1; }
grep -E "$settled" "$work/app.log" >&2
# The expected state may come after settling (wizard-shown: the setup
# wizard on screen with its focus, ready for keys).
for _ in $(seq $((event_timeout * 10))); do
    grep -Eq "vmnet-doctor: $expect( |$)" "$work/app.log" && break
    sleep 0.1
done
grep -Eq "vmnet-doctor: $expect( |$)" "$work/app.log" ||
    { echo "expected the app to report $expect:" >&2; cat "$work/app.log" >&2; exit 1; }
window=$(DISPLAY=$display xwininfo -root -tree | awk '/"VM Network Doctor"/ { print $1; exit }')
[[ -n "$window" ]] || { echo "no window titled VM Network Doctor" >&2; exit 1; }
# The window takes input once it is mapped (viewable).
for _ in $(seq 100); do
    DISPLAY=$display xwininfo -id "$window" | grep -q 'Map State: IsViewable' && break
    sleep 0.05
done
DISPLAY=$display xwininfo -id "$window" | grep -q 'Map State: IsViewable' ||
    { echo "the window $window was never mapped" >&2; exit 1; }
# Each expected report must come after the one before it (the first may be
# anywhere): an earlier step's report cannot satisfy a later step, and a
# chain of reports from one action (the wizard's checklist, stepped with a
# harmless key) is followed in order.
mark=0
for i in "${!keys[@]}"; do
    # shellcheck disable=SC2086 # one argument per combo
    DISPLAY=$display python3 "$(dirname "$0")/press-keys.py" "$window" ${keys[i]}
    event=${then_expect[i]}
    [[ -n "$event" ]] || continue
    found=
    for _ in $(seq $((event_timeout * 10))); do
        found=$(tail -c "+$((mark + 1))" "$work/app.log" | grep -b -m 1 "vmnet-doctor: $event" || true)
        [[ -n $found ]] && break
        sleep 0.1
    done
    [[ -n $found ]] ||
        { echo "expected the app to report $event after the keys ${keys[i]}:" >&2; cat "$work/app.log" >&2; exit 1; }
    line=${found#*:}
    echo "$line" >&2
    mark=$((mark + ${found%%:*} + $(printf '%s\n' "$line" | wc -c)))
done
# Capture once the picture has settled: drawn (not blank: a mapped window
# shows nothing until its first frame) and the same in two captures a
# quarter second apart (a page transition has ended).
mkdir -p "$(dirname "$output")"
blank() { awk -v s="$(convert "$1" -format '%[fx:standard_deviation]' info:)" 'BEGIN { exit !(s < 0.02) }'; }
DISPLAY=$display import -window "$window" "$work/shot.png"
settled=0
for _ in $(seq 40); do
    sleep 0.25
    DISPLAY=$display import -window "$window" "$work/again.png"
    if ! blank "$work/again.png" &&
        [[ $(compare -metric AE "$work/shot.png" "$work/again.png" null: 2>&1 || true) == 0 ]]; then
        settled=1
        break
    fi
    mv "$work/again.png" "$work/shot.png"
done
# Something that moves for good (a spinner while an operation runs) never
# settles: the latest capture is the picture.
[[ $settled -eq 1 ]] || echo "the window still changes after 10 s (a spinner?): capturing it as it is" >&2

# A blank or tiny capture is a failure, not a screenshot.
read -r w h spread < <(convert "$work/shot.png" -format '%w %h %[fx:standard_deviation]\n' info:)
echo "captured ${w}x${h}, spread $spread" >&2
if (( w < 300 || h < 200 )) || awk -v s="$spread" 'BEGIN { exit !(s < 0.02) }'; then
    echo "the capture looks blank" >&2; exit 1
fi
if grep -E 'CRITICAL|Gtk-WARNING|Adwaita-WARNING' "$work/app.log" >&2; then
    echo "the app logged warnings (above)" >&2; exit 1
fi
mv "$work/shot.png" "$output"
echo "wrote $output" >&2
