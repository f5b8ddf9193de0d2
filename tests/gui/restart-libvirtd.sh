#!/usr/bin/env bash
# Restart Now on a real libvirtd, the path a hung guest takes: run inside
# tests/libvirtd/with-libvirtd.sh. The VM has no disk, so QEMU (TCG) runs
# only its firmware, which ignores the ACPI shutdown request. Through the
# VM page's keys: Change → Use virtio Model → Apply (it waits for the next
# boot) → Restart Now → the guest does not stop → Force Off → the VM is
# started again, and virsh shows it running with the new model.
#
#   with-libvirtd.sh restart-libvirtd.sh BINARY OUTPUT.png [--until not-stopped] [SCREENSHOT OPTIONS…]
#
# --until not-stopped captures the page offering Force Off instead. The
# app's patience with the guest is shortened to 3 s (its default is 60 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "$1") output=$2
shift 2
until=started
if [[ "${1:-}" == --until ]]; then until=$2; shift 2; fi
[[ "${VMNET_DOCTOR_IN_LIBVIRTD_NS:-}" == 1 ]] || { echo "run me through tests/libvirtd/with-libvirtd.sh" >&2; exit 2; }

vm=restart-me mac=52:54:00:f1:00:0c
work=$(mktemp -d)
trap 'virsh -q -c qemu:///system destroy $vm >/dev/null 2>&1 || true; virsh -q -c qemu:///system undefine $vm >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cat >"$work/$vm.xml" <<XML
<domain type='qemu'>
  <name>$vm</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='network'><mac address='$mac'/><source network='default'/><model type='e1000'/></interface>
  </devices>
</domain>
XML
virsh -q -c qemu:///system define "$work/$vm.xml" >/dev/null
virsh -q -c qemu:///system start "$vm" >/dev/null

# screenshot.sh starts the app with a clean environment; the wrapper gives
# it the shorter patience.
printf '#!/bin/sh\nVMNET_DOCTOR_SHUTDOWN_PATIENCE_SECONDS=3 exec %q "$@"\n' "$binary" >"$work/app"
chmod +x "$work/app"
keys=(--keys "alt+h v" --then-expect "vm-action-shown model"
    --keys enter --then-expect "vm-action-applied model next-boot"
    --keys enter --then-expect "vm-not-stopped $vm")
[[ "$until" == not-stopped ]] || keys+=(--keys "alt+f" --then-expect "vm-started $vm")
"$here/screenshot.sh" "$work/app" "$output" "${keys[@]}" "$@" -- --connect qemu:///system --vm "$vm"

state=$(virsh -q -c qemu:///system domstate "$vm")
if [[ "$until" == not-stopped ]]; then
    [[ "$state" == running ]] || { echo "the guest should still run before Force Off, it is: $state" >&2; exit 1; }
    exit 0
fi
[[ "$state" == running ]] || { echo "the VM should run again, it is: $state" >&2; exit 1; }
virsh -q -c qemu:///system domiflist "$vm" | grep -q "virtio" ||
    { echo "the new model should be in effect:" >&2; virsh -q -c qemu:///system domiflist "$vm" >&2; exit 1; }
echo "restarted with Force Off; the running VM has the virtio model" >&2
