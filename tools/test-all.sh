#!/usr/bin/env bash
# Every test, in the order that fails fastest. Run through `./dev test`,
# which provides the build environment; prints each phase's time.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=_build
run_lab=1 run_slow=0 lab_lane_only=0
for arg in "$@"; do
    case "$arg" in
        --no-lab) run_lab=0 ;; # quick local runs; .ci/run never passes it
        --slow) run_slow=1 ;;  # also the setup wizard on the full Debian 13 guest (GUI, ~4 min more)
        --lab-lane) lab_lane_only=1 ;; # internal: the lab's phases alone, beside the others (below)
        *) echo "test-all.sh: unknown argument $arg (known: --no-lab, --slow)" >&2; exit 2 ;;
    esac
done
declare -a timings=() skipped=()
# A phase that cannot run here, and why. In CI (CI=true) nothing is
# skipped: the run fails and names what is missing. Elsewhere the phase is
# listed with its reason at the end.
skip() {
    local name=$1 why=$2
    if [[ ${CI:-} == true ]]; then
        printf '\n\033[1;31m==> %s cannot run: %s. CI skips nothing.\033[0m\n' "$name" "$why" >&2
        exit 1
    fi
    printf '\n\033[1;33m==> SKIPPED %s: %s\033[0m\n' "$name" "$why"
    timings+=("$(printf '%-34s SKIPPED' "$name")")
    skipped+=("$name: $why")
}
phase() {
    local name=$1
    shift
    printf '\n\033[1m==> %s\033[0m\n' "$name"
    local started=$SECONDS
    "$@"
    timings+=("$(printf '%-34s %4d s' "$name" $((SECONDS - started)))")
}
lab_lane_pid= devel_build_pid=
# Labs started beside the lab lane's phases (`beside`): NAME -> PID, and
# when each started.
declare -A beside_pids=() beside_started=()
summary() {
    # A failure here ends the lab's phases too (their own process group),
    # and the .Devel Flatpak's build (its own too).
    if [[ -n $lab_lane_pid ]]; then kill -- "-$lab_lane_pid" 2>/dev/null || true; fi
    if [[ -n $devel_build_pid ]]; then kill -- "-$devel_build_pid" 2>/dev/null || true; fi
    # The labs beside the lab lane's phases, when this lane ends early: each
    # one's lab (its namespaces end with the unshare it started), then it.
    for pid in "${beside_pids[@]}"; do
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
    done
    printf '\n\033[1m==> Phase times\033[0m\n'
    printf '  %s\n' "${timings[@]}"
    if [[ ${#skipped[@]} -gt 0 ]]; then
        printf '\n\033[1;33m==> Skipped here (CI runs them all)\033[0m\n'
        printf '  %s\n' "${skipped[@]}"
    fi
}
trap summary EXIT

libvirtd=$(command -v libvirtd || true)
if [[ -z "$libvirtd" && -x /usr/sbin/libvirtd ]]; then libvirtd=/usr/sbin/libvirtd; fi
# The lab: a real guest on a real libvirtd, each of the guide's failure
# modes broken, diagnosed, fixed and proven from inside the guest.
lab_phases() {
    # The real Flatpak, built offline from the manifest (runtime made from
    # Debian 13 packages, cached); the lab runs it as its sandboxed app.
    phase "Flatpak: flatpak-builder, local runtime" tests/flatpak/build.sh
    phase "Flatpak: what was built (self-test)" python3 tests/flatpak/check-build.py --self-test \
        flatpak/io.github.vmnetdoctor.VmNetDoctor.json target/flatpak/build
    # The full Debian 13 guest's image (mmdebstrap, ~1 min; kept until its
    # recipe changes), made while the other lane builds the app.
    phase "lab: Debian 13 guest image" tests/lab/debian-guest/build.sh target/lab/debian13
    # After the image: built beside it, the .Devel Flatpak took its CPU
    # (the image 112 s instead of 50).
    start_devel_build
    # The lab runs the app, the helper's .deb and the GUI's compiled schemas
    # the other lane builds: it waits until that lane lets go of this lock.
    phase "lab: waiting for the app's build" flock --shared "$main_ready_lock" true
    phase "lab: scenarios and event latency" tests/lab/run.sh
    # libvirtd stopped by its PID and started again under the app, which
    # must reconnect by itself; before the Debian guest boots beside it.
    phase "lab: reconnect after a libvirtd restart (GUI)" tests/lab/reconnect.sh
    # The full Debian 13 guest (D1: the guide's stale NetworkManager profile,
    # kvm-dhcp and its revert, APT and curl under broken IPv6; D2: the
    # helper's .deb under its real unit and polkit) boots systemd under
    # emulation, mostly waiting on it: in labs of its own, beside the phases
    # below (each lab has its own namespaces), in this lane's process group;
    # after the event latency, which a guest booting beside would slow.
    beside debian tests/lab/guest-checks.sh --debian
    # Port scans from the lab's internet before and after every helper fix,
    # the NAT table through the helper, the security posture: in a lab of
    # their own, beside the guest checks (both mostly wait on their guests).
    # (The GUI phases below stay one at a time: the main lane runs its own
    # GUI tests meanwhile, whose focus and frame timing a busier machine
    # disturbs.)
    beside exposure tests/lab/exposure.sh
    phase "lab: guest checks (verify, guest fixes)" tests/lab/guest-checks.sh
    phase "lab: exposure scans, NAT table, posture (beside the guest checks)" beside_done exposure
    # S1 and S3 fixed by clicking in the setup wizard as the desktop user
    # (`tests/lab/gui-fixes.sh --via host-page` does it on the Host page).
    phase "lab: S1 and S3 fixed in the setup wizard (GUI)" tests/lab/gui-fixes.sh
    # The wizard's Guest and Verify steps on the real guest: the checklist
    # step by step, UFW's routed deny seen there, Cancel.
    if [[ $run_slow -eq 1 ]]; then
        phase "lab: setup wizard, guest and checklist, Debian 13 (GUI, --slow)" tests/lab/gui-wizard.sh --slow
    else
        phase "lab: setup wizard, guest and checklist (GUI)" tests/lab/gui-wizard.sh
    fi
    # Writes data/screenshots/data-path.png: the lab with UFW's routed deny.
    phase "lab: data path and NAT table in the app" tests/lab/gui-data-path.sh
    # The Flatpak as a user has it: S3 fixed by clicking in `flatpak run`
    # (its plan is data/screenshots/flatpak-fix-helper-plan.png), and the
    # app started from its launcher as a desktop's menu starts it.
    phase "lab: S3 fixed in the Flatpak (GUI)" tests/lab/gui-fixes.sh --flatpak --via host-page
    phase "lab: the Flatpak started from the app menu" tests/lab/flatpak-launch.sh
    phase "lab: full Debian 13 guest (waiting for it)" beside_done debian
    phase "Flatpak: the .Devel manifest (flatpak-builder)" devel_build_done
}
# Waits for a job started in the background (PID, its LOG, started at
# STARTED), prints its output and returns its status.
background_done() {
    local pid=$1 log=$2 started=$3 status=0
    wait "$pid" || status=$?
    printf '  (its output, %s, after %d s:)\n' "$log" $((SECONDS - started))
    cat "$log"
    return "$status"
}
# beside NAME COMMAND…: starts COMMAND (a lab of its own) in the background,
# in this lane's process group, its output in target/test-logs/lab-NAME.log.
beside() {
    local name=$1
    shift
    beside_started[$name]=$SECONDS
    "$@" >"target/test-logs/lab-$name.log" 2>&1 &
    beside_pids[$name]=$!
}
# Waits for the lab NAME started `beside`, prints its output, returns its status.
beside_done() {
    local name=$1 status=0
    background_done "${beside_pids[$name]}" "target/test-logs/lab-$name.log" "${beside_started[$name]}" ||
        status=$?
    unset "beside_pids[$name]"
    return "$status"
}
# The development manifest (the .Devel app id, a debug build) is a real
# manifest too: built in the lab's lane after the release manifest and the
# Debian guest's image (it shares that build's runtime and, once built, its
# cached libraries), at low priority so that the lab's and the main lane's
# timing-sensitive GUI phases keep their CPU; it has most of the run to
# finish. When the lab is done it gets normal priority back: on a busy
# machine a build at nice 15 gets almost no CPU beside the other load, and
# would then bound the run.
devel_log=target/test-logs/flatpak-devel.log
start_devel_build() {
    devel_started=$SECONDS
    setsid nice -n 15 tests/flatpak/build.sh \
        flatpak/io.github.vmnetdoctor.VmNetDoctor.Devel.json target/flatpak-devel >"$devel_log" 2>&1 &
    devel_build_pid=$!
    printf '\n\033[1m==> the .Devel Flatpak'"'"'s build started beside the lab (output: %s)\033[0m\n' "$devel_log"
}
# Every process under PID, by parent: flatpak-builder's sandboxes start new
# sessions, so the build's process group does not reach its compilers.
descendants() {
    local -a level=("$1") next
    while [[ ${#level[@]} -gt 0 ]]; do
        printf '%s\n' "${level[@]}"
        mapfile -t next < <(ps -e -o pid=,ppid= | awk -v parents=" ${level[*]} " \
            'index(parents, " " $2 " ") { print $1 }')
        level=("${next[@]}")
    done
}
devel_build_done() {
    # Twice: a process forked during the first pass inherits nice 15.
    # Best effort: without the right to raise priority it keeps nice 15.
    local pass pids
    for pass in 1 2; do
        pids=$(descendants "$devel_build_pid" | tr '\n' ' ')
        # shellcheck disable=SC2086 # a list of PIDs
        renice -n 0 -p $pids >/dev/null 2>&1 || true
    done
    local status=0
    background_done "$devel_build_pid" "$devel_log" "$devel_started" || status=$?
    devel_build_pid=
    return "$status"
}
# What the lab lacks here, if anything: root, libvirtd, QEMU, the guest's
# kernel, flatpak-builder.
lab_missing() {
    local missing=()
    [[ $(id -u) -eq 0 ]] || missing+=("root")
    [[ -n "$libvirtd" ]] || missing+=("libvirtd")
    [[ -x /usr/bin/qemu-system-x86_64 ]] || missing+=("qemu-system-x86_64")
    compgen -G '/boot/vmlinuz-*' >/dev/null || missing+=("a kernel in /boot for the guest")
    command -v flatpak-builder >/dev/null || missing+=("flatpak-builder")
    command -v mmdebstrap >/dev/null || missing+=("mmdebstrap (the Debian 13 guest's image)")
    [[ ${#missing[@]} -eq 0 ]] || { local IFS=,; printf 'needs %s' "${missing[*]}"; }
}
lab_possible() { [[ -z $(lab_missing) ]]; }
main_ready_lock=target/test-logs/main-ready.lock
if [[ $lab_lane_only -eq 1 ]]; then
    lab_phases
    exit 0
fi

# The lab's lane starts now, with the Flatpak's build, and runs beside the
# phases below in its own process group (ended by the EXIT trap if they
# fail): the build needs nothing from them, and the lab mostly waits on its
# guest, which leaves a core to the daemons' and the GUI's tests. It waits
# for the app's build (the lock below) before its first lab. Its output is
# printed when it is done.
# A full disk shows up late and far from its cause (the linker dies with
# "Bus error" half-way through the build), so say it first. A cold run
# (no target/) writes about 8 GiB here; a warm one a few hundred MiB.
free_space_check() {
    local need_gib=3 avail_kib
    [[ -d target/debug ]] || need_gib=10
    avail_kib=$(df --output=avail -k . | tail -n 1)
    if (( avail_kib < need_gib * 1024 * 1024 )); then
        printf '\n\033[1;31m==> Only %d GiB free on the disk of %s; a run needs about %d GiB. Free some space (old checkouts, their target/) and run again.\033[0m\n' \
            $((avail_kib / 1024 / 1024)) "$PWD" "$need_gib" >&2
        exit 1
    fi
}
free_space_check
lab_log=target/test-logs/lab.log
mkdir -p "$(dirname "$lab_log")"
exec 7>"$main_ready_lock"
flock 7
if [[ $run_lab -eq 0 ]]; then
    skip "the lab and the Flatpak's build" "--no-lab was given"
elif lab_possible; then
    lab_args=(--lab-lane)
    [[ $run_slow -eq 1 ]] && lab_args+=(--slow)
    lab_started=$SECONDS
    setsid tools/test-all.sh "${lab_args[@]}" >"$lab_log" 2>&1 7>&- &
    lab_lane_pid=$!
    printf '\n\033[1m==> the Flatpak'"'"'s build and the lab started beside the next phases (output: %s)\033[0m\n' "$lab_log"
else
    skip "the lab and the Flatpak's build" "$(lab_missing) (./dev test provides them)"
fi

phase "cargo fmt --check" cargo fmt --all --check
# Modules that use each other in a circle, or the GUI using the CLI
# (the script checks itself first).
module_circles() { python3 tools/check-module-cycles.py --self-test && python3 tools/check-module-cycles.py; }
phase "module circles" module_circles
# deny.toml: licences, one version of each crate unless it says why, crates.io
# only. cargo-deny (pinned) is built once per build environment (~4 min on
# 2 cores); if that fails, CI fails here (skip).
if tools/cargo-deny.sh --install; then
    phase "cargo deny (bans, licenses, sources)" tools/cargo-deny.sh bans licenses sources
else
    skip "cargo deny (bans, licenses, sources)" "cargo-deny could not be installed from crates.io (tools/cargo-deny.sh --install)"
fi
phase "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
phase "cargo test" cargo test --workspace --locked
phase "cargo build" cargo build --workspace --locked
# The desktop file's and the metainfo's validators are tests of their own;
# in CI a missing validator fails the build instead of dropping its test.
validators=auto
[[ ${CI:-} == true ]] && validators=enabled
# meson's cargo builds reuse the crates `cargo test` and `cargo build`
# compiled above (cargo's build-dir), instead of compiling the tree again.
meson_options=(-Dvalidators=$validators -Dcargo_build_dir="$PWD/target")
if [[ ! -f "$build_dir/build.ninja" ]]; then
    phase "meson setup" meson setup "$build_dir" -Dprofile=development -Dbuildtype=debug "${meson_options[@]}"
else
    phase "meson configure" meson configure "$build_dir" "${meson_options[@]}"
fi
for validator in desktop-file-validate appstreamcli; do
    command -v "$validator" >/dev/null || skip "meson test: $validator" "$validator is not installed"
done
phase "meson compile" meson compile -C "$build_dir"
phase "meson test" meson test -C "$build_dir" --print-errorlogs
# Every translation complete: the template made fresh from the sources,
# then each po/LL.po against it (the check breaks copies of itself first).
translations_complete() {
    meson compile -C "$build_dir" vmnet-doctor-pot &&
        python3 tests/i18n/check-catalogues.py --self-test
}
phase "translations: complete, no fuzzy, placeholders kept" translations_complete
phase "./dev run without a display" tests/dev/no-display.sh
# The helper's .deb: dpkg-buildpackage (debhelper, meson), lintian, then
# installed with dpkg into a throwaway overlay of this root; kept in
# target/packages, where the lab installs it on its host.
if [[ $(id -u) -eq 0 ]] && command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null &&
    command -v lintian >/dev/null; then
    phase "helper .deb (dh, lintian, throwaway root)" tests/packaging/check-deb.sh "$build_dir" --keep target/packages
else
    skip "helper .deb" "needs root, dpkg-dev, debhelper and lintian"
fi
# The app, the helper, its .deb and the schemas are built: the lab may start.
flock --unlock 7
exec 7>&-
# The real daemons' phases below select the whole workspace in their cargo
# commands, as `cargo test --workspace` did, so they resolve the same
# features and find every crate compiled. (In a lane of their own beside
# the GUI phases they made the run no shorter on two cores: 19 min 44 s
# against 19 min 2 s, the accessibility audit 149 s instead of 74.)
# A real libvirtd in private namespaces for qemu:///system and qemu:///session.
# It needs root, or unprivileged user namespaces; CI runs as root.
if [[ -z "$libvirtd" ]]; then
    skip "libvirtd (real daemon)" "libvirtd is not installed (e.g. libvirt-daemon-system)"
elif [[ $(id -u) -eq 0 ]] || unshare --user --map-root-user --net true 2>/dev/null; then
    phase "libvirtd (real daemon)" tests/libvirtd/with-libvirtd.sh \
        cargo test --workspace --locked --offline \
        --test system_daemon --test check_cli --test events_daemon -- --ignored
else
    skip "libvirtd (real daemon)" "needs root or unprivileged user namespaces"
fi
# firewalld's own D-Bus API for the zone fix, against a real firewalld.
if [[ $(id -u) -eq 0 ]] && command -v firewalld >/dev/null; then
    phase "firewalld (real daemon)" tests/firewalld/with-firewalld.sh \
        cargo test --workspace --locked --offline --test firewalld_zone -- --ignored
else
    skip "firewalld (real daemon)" "needs root and firewalld"
fi
# The privileged helper: real polkitd and D-Bus on a private bus, real
# sysctl, UFW and iptables in a private network namespace. It switches
# users with setpriv, so it needs root; CI runs as root.
if [[ $(id -u) -eq 0 && -n "$libvirtd" ]]; then
    phase "helper (polkitd, D-Bus, UFW, iptables)" tests/helper/run.sh
    phase "helper unit (systemd-analyze verify)" tests/helper/verify-unit.sh "$PWD/target/debug"
    # `vmnet-doctor fix` and `revert` through that real helper and polkitd.
    phase "fix and revert through the helper" tests/libvirtd/with-libvirtd.sh \
        "$PWD/tests/helper/with-private-bus.sh" "$PWD/target/debug/vmnet-doctor-helper" \
        cargo test --workspace --locked --offline --test fix_helper -- --ignored --test-threads=1
else
    skip "helper (polkitd, D-Bus, UFW, iptables)" "needs root and libvirtd"
fi
# docs/fleet/: the systemd timer's command, node_exporter reading its metrics,
# the Ansible playbook over SSH to an sshd in a namespace of its own.
if [[ $(id -u) -eq 0 ]] && command -v ansible-playbook >/dev/null && [[ -x /usr/sbin/sshd ]] &&
    command -v prometheus-node-exporter >/dev/null && command -v systemd-analyze >/dev/null; then
    phase "fleet: systemd timer, node_exporter, Ansible" tests/fleet/run.sh target/debug/vmnet-doctor
else
    skip "fleet: systemd timer, node_exporter, Ansible" \
        "needs root, systemd-analyze, prometheus-node-exporter, ansible-core and openssh-server"
fi
phase "Flatpak manifests" python3 tests/flatpak/check-manifests.py --self-test
phase "meson install (DESTDIR)" tests/install/check-install.sh "$build_dir"
if command -v rpmspec >/dev/null; then
    phase "packaging recipes (spec, PKGBUILD)" python3 tests/packaging/check-recipes.py --self-test --package-build "$build_dir"
else
    skip "packaging recipes" "rpmspec (rpm) is not installed"
fi
# The real app under Xvfb, as `./dev run` builds it; the capture is the
# screenshot README.md and the metainfo show.
gui() { env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" tests/gui/screenshot.sh target/debug/vmnet-doctor "$@"; }
phase "GUI: main window (Xvfb)" gui data/screenshots/main-window.png -- --demo --vm kali-linux
# Also at the narrowest supported width in dark style, and on the error page
# of a daemon that is not running; kept in target/gui/ for review.
phase "GUI: 360 px, dark" gui target/gui/narrow-dark.png --width 360 --height 640 --dark
phase "GUI: a VM at 360 px" gui target/gui/narrow-vm.png --width 360 --height 640 -- --demo --vm kali-linux
phase "GUI: daemon not running" gui target/gui/daemon-not-running.png --expect connection-failed \
    -- --connect "qemu:///system?socket=/nonexistent/libvirt-sock"
phase "GUI: Host page (Xvfb)" gui data/screenshots/host-page.png --keys ctrl+h --then-expect host-page-shown
phase "GUI: Host page, 360 px, dark" gui target/gui/host-page-narrow-dark.png --width 360 --height 640 --dark \
    --keys ctrl+h --then-expect host-page-shown
phase "GUI: Fix dialog (Xvfb)" gui data/screenshots/fix-dialog.png --keys "ctrl+h alt+f enter" \
    --then-expect "fix-dialog-shown network-inactive"
# Alt+F focuses the first Fix… (the data path's hop has another), Enter opens it.
phase "GUI: Fix at next boot" gui target/gui/fix-next-boot.png --keys "alt+f enter" \
    --then-expect "fix-dialog-shown nic-model-not-virtio" --keys enter \
    --then-expect "fix-applied nic-model-not-virtio next-boot" -- --demo --vm win11
phase "GUI: Fix dialog, 360 px, dark" gui target/gui/fix-dialog-narrow-dark.png --width 360 --height 640 --dark \
    --keys "ctrl+h alt+f enter" --then-expect "fix-dialog-shown network-inactive"
# Alt+L is the Host page verdict's Fix All…: routed-lab's MSS clamp (by hand on the
# demo's recorded host), nat-copy moved to a free subnet,
# lab-nat's start and the two autostarts, applied in order: 4 applied, 1 left by hand.
phase "GUI: Fix All on the Host page" gui target/gui/fix-all.png --height 800 --keys ctrl+h \
    --then-expect host-page-shown --keys alt+l --then-expect "fix-all-dialog-shown 5" --keys enter \
    --then-expect "fix-all-applied done 4"
phase "GUI: Fix All on a VM page" gui target/gui/fix-all-vm.png --keys alt+l \
    --then-expect "fix-all-dialog-shown 2" --keys enter --then-expect "fix-all-applied done 2" -- --demo --vm kali-linux
# The real app through its accessibility tree (AT-SPI) and real key presses,
# as a screen reader user drives it.
a11y() { env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" python3 "tests/gui/a11y/$1" "${@:2}"; }
phase "GUI a11y: audit (names, focus, Tab, 360 px)" a11y audit.py
phase "GUI a11y: Fix by clicking, finding gone (demo)" a11y fix_by_clicking.py network-inactive network-not-autostarted
phase "GUI a11y: Host page up to date when opened (demo)" a11y host_page_follows.py
phase "GUI a11y: Fix All by clicking, every step applied in order (demo)" a11y fix_all_by_clicking.py
phase "GUI a11y: setup wizard (demo)" a11y wizard.py
phase "GUI a11y: find a VM (Ctrl+F, typing, problems only)" a11y search.py
# The app as a German user has it: check, --help, plurals, the merged data
# files, and the window (target/gui/german-vm.png).
phase "GUI and CLI in German (LANG=de_DE.UTF-8)" tests/i18n/german.sh "$build_dir" target/debug/vmnet-doctor
# Long translations at 360 px, measured through AT-SPI extents: a
# pseudo-locale (every message about 40 % longer) and German, on a VM page,
# the Host page, a Fix dialog and the setup wizard: no label cut, ellipsized
# (except on a button with a tooltip), sticking out or overlapping.
phase "GUI a11y: long text at 360 px, pseudo-locale" a11y long_text.py --lang pseudo
phase "GUI a11y: long text at 360 px, German" a11y long_text.py --lang de
# The setup wizard by its keyboard mnemonics: opening by itself on a first
# run, the Verify step without a guest agent, the Done summary, 360 px dark.
to_verify=(--keys enter --then-expect "wizard-step-shown host-network" --keys enter --then-expect "wizard-step-shown firewall"
    --keys enter --then-expect "wizard-step-shown vm-nic" --keys enter --then-expect "wizard-step-shown guest"
    --keys enter --then-expect "wizard-step-shown verify")
phase "GUI: setup wizard, first run" gui target/gui/wizard-first-run.png --first-run --expect wizard-shown \
    --keys enter --then-expect "wizard-step-shown host-network" -- --demo --vm kali-linux
phase "GUI: setup wizard, Verify without agent" gui target/gui/wizard-verify.png --expect wizard-shown "${to_verify[@]}" \
    --keys alt+r --then-expect "wizard-check verify problem" -- --demo --vm kali-linux --setup
phase "GUI: setup wizard, Done" gui target/gui/wizard-done.png --expect wizard-shown "${to_verify[@]}" --keys alt+r \
    --then-expect "wizard-check verify problem" --keys "tab alt+n" --then-expect \
    "wizard-summary connection=ok host-network=problem firewall=problem vm-nic=problem guest=not-checked verify=problem" \
    -- --demo --vm kali-linux --setup
phase "GUI: setup wizard, 360 px, dark" gui target/gui/wizard-narrow-dark.png --width 360 --height 640 --dark --expect wizard-shown \
    "${to_verify[@]}" --keys alt+r --then-expect "wizard-check verify problem" -- --demo --vm kali-linux --setup
# A recorded guest of the demo (data/demo/guests/), inspected from the Guest
# step: its static profile found, with the address's and the gateway's findings.
to_guest=("${to_verify[@]:0:16}")
phase "GUI: setup wizard, a recorded guest inspected" gui target/gui/wizard-recorded-guest.png --height 900 \
    --expect wizard-shown "${to_guest[@]}" --keys alt+i --then-expect "wizard-check guest inspected findings=2" \
    -- --demo --vm debian13-office --setup
# NIC and VM actions through libvirt: planned, applied, Restart Now.
phase "GUI: NIC action plan (Xvfb)" gui target/gui/nic-action.png --keys "alt+h v" \
    --then-expect "vm-action-shown model" -- --demo --vm win11
phase "GUI: NIC action, Restart Now" gui target/gui/nic-action-restarted.png --keys "alt+h v" \
    --then-expect "vm-action-shown model" --keys enter --then-expect "vm-action-applied model next-boot" \
    --keys enter --then-expect "vm-started win11" -- --demo --vm win11
phase "GUI: Connect to Network, 360 px, dark" gui target/gui/nic-network-narrow-dark.png --width 360 --height 640 --dark \
    --keys "alt+h n" --then-expect "vm-action-shown choose-network" --keys "down enter" \
    --then-expect "vm-action-shown network" -- --demo --vm win11
phase "GUI: Disconnect Cable, 360 px, dark" gui target/gui/nic-link-down-narrow-dark.png --width 360 --height 640 --dark \
    --keys "alt+h d" --then-expect "vm-action-shown link-down" --keys enter \
    --then-expect "vm-action-applied link-down next-boot" -- --demo --vm kali-linux
phase "GUI: Add Guest Agent Channel, restart" gui target/gui/vm-agent-channel.png --keys "alt+a g" \
    --then-expect "vm-action-shown agent-channel" --keys enter --then-expect "vm-action-applied agent-channel next-boot" \
    --keys enter --then-expect "vm-started rocky9" -- --demo --vm rocky9
phase "GUI: VM actions through AT-SPI" env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" python3 tests/gui/a11y/vm_actions.py
# The data path per card (issue #10): colours from the findings, what
# could not be checked dashed; the NAT table and the security posture.
phase "GUI: data path, demo VM with problems" gui target/gui/data-path-problems.png --keys ctrl+d \
    --then-expect "data-path-shown ubuntu-server guest=good card=error bridge=good" -- --demo --vm ubuntu-server
phase "GUI: data path, healthy demo VM" gui target/gui/data-path-healthy.png --keys ctrl+d \
    --then-expect "data-path-shown fedora-workstation guest=good card=good bridge=good forwarding=good uplink=good internet=unknown" \
    -- --demo --vm fedora-workstation
phase "GUI: data path, 360 px, dark" gui target/gui/data-path-narrow-dark.png --width 360 --height 640 --dark \
    --keys ctrl+d --then-expect "data-path-shown kali-linux guest=good card=good bridge=error" -- --demo --vm kali-linux
phase "GUI: NAT table on the demo" gui target/gui/nat-table-demo.png --keys alt+t \
    --then-expect "connections-unavailable fedora-workstation not-local" -- --demo --vm fedora-workstation
phase "GUI: security posture, 360 px, dark" gui target/gui/security-narrow-dark.png --width 360 --height 640 --dark \
    --keys alt+t --then-expect "posture-shown fedora-workstation" \
    --keys alt+s --then-expect "security-page-shown fedora-workstation no-port-forwarding=holds fixes-open-nothing-inbound=holds no-inbound-to-vms=holds private-address-space=holds" \
    -- --demo --vm fedora-workstation
phase "GUI: data path through AT-SPI" env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" python3 tests/gui/data_path_a11y.py
if [[ $(id -u) -eq 0 && -n "$libvirtd" ]]; then
    phase "GUI: Host page on a real libvirtd" tests/libvirtd/with-libvirtd.sh \
        env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" \
        tests/gui/host-page-libvirtd.sh target/debug/vmnet-doctor target/gui/host-page-libvirtd.png --height 1000
    phase "GUI: Restart Now, Force Off on a real libvirtd" tests/libvirtd/with-libvirtd.sh \
        env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" \
        tests/gui/restart-libvirtd.sh target/debug/vmnet-doctor target/gui/restart-libvirtd.png
    phase "GUI: Force Off offered, 360 px, dark" tests/libvirtd/with-libvirtd.sh \
        env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" \
        tests/gui/restart-libvirtd.sh target/debug/vmnet-doctor target/gui/restart-not-stopped-narrow-dark.png \
        --until not-stopped --width 360 --height 640 --dark
    phase "GUI: Fix All stops at a failed fix on a real libvirtd" tests/libvirtd/with-libvirtd.sh \
        env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" \
        tests/gui/fix-all-fails-libvirtd.sh target/debug/vmnet-doctor target/gui/fix-all-fails.png --height 800
    # Every connection in one window: the demo, the daemon twice, a server
    # that does not answer and a missing socket; events on both of the
    # daemon's connections.
    phase "GUI a11y: every connection in one window (real libvirtd)" tests/libvirtd/with-libvirtd.sh \
        env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" python3 tests/gui/a11y/connections.py
    # qemu+ssh:// through a slow link: the list before the server's facts.
    phase "GUI: a server over SSH, list before its host facts" tests/libvirtd/with-libvirtd.sh \
        env GSETTINGS_SCHEMA_DIR="$PWD/$build_dir/data" \
        tests/gui/remote-ssh-libvirtd.sh target/debug/vmnet-doctor target/gui/remote-ssh.png
else
    skip "GUI on a real libvirtd (6 phases)" "needs root and libvirtd"
fi
if [[ -n $lab_lane_pid ]]; then
    printf '\n\033[1m==> waiting for the lab\033[0m\n'
    lab_status=0
    wait "$lab_lane_pid" || lab_status=$?
    lab_lane_pid=
    printf '\n\033[1m==> the lab (%s)\033[0m\n' "$lab_log"
    cat "$lab_log"
    timings+=("$(printf '%-34s %4d s' "the lab, beside the above" $((SECONDS - lab_started)))")
    if [[ $lab_status -ne 0 ]]; then
        printf '\n\033[1;31m==> the lab failed (exit %d); see above\033[0m\n' "$lab_status"
        exit "$lab_status"
    fi
fi
