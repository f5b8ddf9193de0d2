#!/usr/bin/env bash
# Fix All when a fix fails, on a real libvirtd: run inside
# tests/libvirtd/with-libvirtd.sh. The network `cli-stop` cannot start (its
# bridge would be `lo`, which exists), so on the page of the VM `cli-stop`
# (a card on that network, its cable unplugged) Fix All stops at the start:
# the dialog must report the failure, and the card's cable stays unplugged.
#
#   with-libvirtd.sh fix-all-fails-libvirtd.sh BINARY OUTPUT.png [SCREENSHOT OPTIONS…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$1 output=$2
shift 2
[[ "${VMNET_DOCTOR_IN_LIBVIRTD_NS:-}" == 1 ]] || { echo "run me through tests/libvirtd/with-libvirtd.sh" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/net.xml" <<'XML'
<network><name>cli-stop</name><bridge name='lo'/><ip address='10.99.0.1' netmask='255.255.255.0'/></network>
XML
cat >"$work/vm.xml" <<'XML'
<domain type='qemu'><name>cli-stop</name><memory unit='KiB'>131072</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os><devices>
  <interface type='network'><mac address='52:54:00:c1:00:02'/><source network='cli-stop'/>
  <model type='virtio'/><link state='down'/></interface>
  <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  </devices></domain>
XML
virsh -q -c qemu:///system net-define "$work/net.xml" >/dev/null
virsh -q -c qemu:///system define "$work/vm.xml" >/dev/null
"$here/screenshot.sh" "$binary" "$output" "$@" --keys alt+l --then-expect fix-all-dialog-shown \
    --keys enter --then-expect "fix-all-applied failed" -- --connect qemu:///system --vm cli-stop
# Not attempted: the cable is as it was.
virsh -q -c qemu:///system dumpxml --inactive cli-stop | grep -q "<link state='down'/>" ||
    { echo "the card's link was changed after the failure" >&2; exit 1; }
