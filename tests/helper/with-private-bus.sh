#!/usr/bin/env bash
# Runs a command with everything the helper's tests need. It runs inside
# the namespaces of tests/libvirtd/with-libvirtd.sh (a real libvirtd whose
# `default` network has the bridge virbr0; its own network, mount and PID
# namespaces; /run on tmpfs) and adds:
#
#   - private, writable copies of everything the helper or the tests change:
#     /etc/ufw, /etc/default/ufw, /etc/sysctl.d, /etc/qemu, /var/lib (for
#     /var/lib/vmnet-doctor-helper), /etc/passwd, /etc/group, polkit's rules
#     and actions — bind mounts in this mount namespace, so the root itself
#     is never modified;
#   - users vmnd-allowed (4001), vmnd-denied (4002) and vmnd-admin (4003),
#     whom tests/helper/test.rules allow, deny, and send to authentication,
#     and vmnd-bridge (4004), allowed one fix on one bridge;
#   - an uplink, vmnd-up (a veth carrying the default route), and br-other,
#     a bridge no libvirt network uses;
#   - UFW enabled (deny incoming, deny routed), the guide's starting point;
#   - two private system buses (tests/helper/system-bus.conf.in) with the
#     helper's D-Bus policy and activation file from data/helper, its Exec
#     line pointing at HELPER with --idle-timeout 3:
#       VMND_TEST_BUS            with a real polkitd and tests/helper/test.rules
#       VMND_TEST_BUS_NO_POLKIT  with no polkit at all
#       VMND_TEST_BUS_SANDBOXED  with a real polkitd, the helper started
#                                inside its unit's file system sandbox
#                                (VMND_TEST_UNIT_SANDBOX, unit-sandbox.py)
#     and VMND_TEST_BUS_WITHOUT_HELPER is a system bus without the helper.
#     The helpers' standard error (their audit lines) goes to
#     VMND_TEST_HELPER_LOG and VMND_TEST_HELPER_LOG_NO_POLKIT.
#
#   with-private-bus.sh HELPER COMMAND [ARGS…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_root=$(cd "$here/../.." && pwd)

die() { echo "with-private-bus.sh: $*" >&2; exit 2; }
[[ "${VMNET_DOCTOR_IN_LIBVIRTD_NS:-}" == 1 ]] || die "run me through tests/libvirtd/with-libvirtd.sh"
[[ $(id -u) -eq 0 ]] || die "needs root (the tests switch to other users)"
[[ $# -ge 2 ]] || die "usage: with-private-bus.sh HELPER COMMAND [ARGS…]"
helper=$1
shift
[[ -x "$helper" && "$helper" == /* ]] || die "$helper is not an executable absolute path"

state=$(mktemp -d /tmp/vmnd-helper-test.XXXXXX)
chmod 0755 "$state"
# dbus-daemon splits an activation file's Exec= line at spaces: the helper
# by a path without any (the checkout's may have one).
ln -s "$helper" "$state/vmnet-doctor-helper"
helper=$state/vmnet-doctor-helper

PRIVATE_MOUNTS_STATE=$state
source "$here/../lib/private-mounts.sh"

private_copy /etc/ufw
private_copy /etc/default/ufw
private_copy /etc/sysctl.d
private_copy /etc/qemu
private_copy /etc/passwd
private_copy /etc/group
writable_view /var/lib
for user in vmnd-allowed:4001 vmnd-denied:4002 vmnd-admin:4003 vmnd-bridge:4004; do
    name=${user%:*} id=${user#*:}
    echo "$name:x:$id:$id:helper test user:/nonexistent:/usr/sbin/nologin" >>/etc/passwd
    echo "$name:x:$id:" >>/etc/group
done

# polkit: the helper's actions and the test rules.
private_copy /usr/share/polkit-1/actions
cp "$source_root/data/helper/io.github.vmnetdoctor.policy.in" /usr/share/polkit-1/actions/io.github.vmnetdoctor.policy
mount -t tmpfs -o mode=0755 tmpfs /etc/polkit-1/rules.d
cp "$here/test.rules" /etc/polkit-1/rules.d/50-vmnet-doctor-test.rules

# The uplink (documentation addresses, never routed anywhere) and a bridge
# that belongs to no libvirt network.
ip link add vmnd-up type veth peer name vmnd-peer
ip addr add 198.51.100.2/24 dev vmnd-up
ip link set vmnd-up up
ip link set vmnd-peer up
ip route add default via 198.51.100.1 dev vmnd-up
ip link add br-other type bridge

ufw --force enable >"$state/ufw-enable.log"
# `ufw enable` leaves ip6tables' ufw6-user-limit chains without their last
# rules; its first reload adds them. Reloaded now, every test starts from
# the ruleset a reload makes, whichever test runs first in an environment.
ufw reload >>"$state/ufw-enable.log"

# The helper inside its unit's file system sandbox (tests/helper/unit-sandbox.py),
# from copies at paths without spaces (dbus-daemon splits Exec= there).
cp "$here/unit-sandbox.py" "$state/unit-sandbox"
cp "$source_root/data/helper/vmnet-doctor-helper.service.in" "$state/vmnet-doctor-helper.service"
cp "$source_root/data/helper/vmnet-doctor-helper.tmpfiles" "$state/vmnet-doctor-helper.tmpfiles"
sandboxed="$state/unit-sandbox $state/vmnet-doctor-helper.service $state/vmnet-doctor-helper.tmpfiles $helper"

# The buses.
start_bus() {
    local name=$1 dir="/run/vmnd-test/$1" exec=${2:-$helper}
    mkdir -p "$dir/services"
    sed "s|@LIBEXECDIR@/vmnet-doctor-helper|$exec --idle-timeout 3|" \
        "$source_root/data/helper/io.github.vmnetdoctor.Helper1.service.in" \
        >"$dir/services/io.github.vmnetdoctor.Helper1.service"
    sed -e "s|@SOCKET@|$dir/system_bus_socket|" -e "s|@SERVICEDIR@|$dir/services|" \
        -e "s|@HELPER_POLICY@|$source_root/data/helper/io.github.vmnetdoctor.Helper1.conf|" \
        "$here/system-bus.conf.in" >"$dir/bus.conf"
    # polkitd is D-Bus activated, as on every host (Debian's own activation
    # file): should it end, the next check starts it again, as the system
    # bus does there. Not on the bus that tests a host without polkit.
    if [[ $name != no-polkit ]]; then
        cp /usr/share/dbus-1/system-services/org.freedesktop.PolicyKit1.service "$dir/services/"
    fi
    if grep -q @ "$dir/services/io.github.vmnetdoctor.Helper1.service" "$dir/bus.conf"; then
        die "a placeholder was left in $dir"
    fi
    # Activated helpers inherit the bus's environment and standard error.
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/system_bus_socket" \
        dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile --nosyslog 2>>"$dir/helper.log" &
    for _ in $(seq 100); do
        [[ -S "$dir/system_bus_socket" ]] && break
        sleep 0.05
    done
    [[ -S "$dir/system_bus_socket" ]] || die "the $name bus did not start"
}
start_bus main
start_bus no-polkit
start_bus sandboxed "$sandboxed"

has_owner() { # has_owner BUS NAME
    busctl --address="$1" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s "$2" 2>/dev/null | grep -q true
}
declare -A polkitd_pids=()
start_polkitd() { # start_polkitd BUS-NAME
    local address="unix:path=/run/vmnd-test/$1/system_bus_socket"
    DBUS_SYSTEM_BUS_ADDRESS=$address /usr/lib/polkit-1/polkitd --no-debug >"$state/polkitd-$1.log" 2>&1 &
    polkitd_pids[$1]=$!
    for _ in $(seq 100); do
        has_owner "$address" org.freedesktop.PolicyKit1 && return 0
        sleep 0.1
    done
    cat "$state/polkitd-$1.log" >&2
    die "polkitd did not start on the $1 bus"
}
start_polkitd main
start_polkitd sandboxed
# Says so when a polkitd started above ended during the tests (and how):
# the bus started another on the next check, but a fault of polkitd's
# is worth seeing beside the tests' results.
report_polkitd() {
    local bus pid
    for bus in "${!polkitd_pids[@]}"; do
        pid=${polkitd_pids[$bus]}
        kill -0 "$pid" 2>/dev/null && continue
        local status=0
        wait "$pid" || status=$?
        echo "with-private-bus: polkitd (PID $pid) on the $bus bus ended during the tests with status $status$( ((status > 128)) && echo " (signal $((status - 128)))"); its log:" >&2
        tail -n 20 "$state/polkitd-$bus.log" >&2 || true
    done
}
main="unix:path=/run/vmnd-test/main/system_bus_socket"

export VMND_TEST_BUS=$main
export VMND_TEST_BUS_NO_POLKIT="unix:path=/run/vmnd-test/no-polkit/system_bus_socket"
export VMND_TEST_BUS_SANDBOXED="unix:path=/run/vmnd-test/sandboxed/system_bus_socket"
export VMND_TEST_HELPER_LOG_SANDBOXED=/run/vmnd-test/sandboxed/helper.log
export VMND_TEST_UNIT_SANDBOX="$state/unit-sandbox $state/vmnet-doctor-helper.service $state/vmnet-doctor-helper.tmpfiles"
export VMND_TEST_HELPER_LOG=/run/vmnd-test/main/helper.log
export VMND_TEST_HELPER_LOG_NO_POLKIT=/run/vmnd-test/no-polkit/helper.log
export VMND_TEST_BRIDGE=virbr0 VMND_TEST_UPLINK=vmnd-up
# The system bus of with-libvirtd.sh: Debian's own configuration, which
# knows nothing of the helper (as on a host where it is not installed).
export VMND_TEST_BUS_WITHOUT_HELPER="unix:path=/run/dbus/system_bus_socket"
status=0
"$@" || status=$?
report_polkitd
if [[ $status -ne 0 ]]; then
    echo "--- the helper's log (main bus) ---" >&2
    tail -n 60 "$VMND_TEST_HELPER_LOG" >&2 || true
    echo "--- the helper's log (its unit's sandbox) ---" >&2
    tail -n 30 "$VMND_TEST_HELPER_LOG_SANDBOXED" >&2 || true
    for bus in main sandboxed; do
        echo "--- polkitd on the $bus bus ($(has_owner "unix:path=/run/vmnd-test/$bus/system_bus_socket" \
            org.freedesktop.PolicyKit1 && echo running || echo GONE)) ---" >&2
        tail -n 30 "$state/polkitd-$bus.log" >&2 || true
    done
fi
exit "$status"
