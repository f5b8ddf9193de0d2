#!/usr/bin/env python3
"""Writes a libvirt test-driver host (``test:///ABS/OUT.xml``) with N VMs.

    make-host.py N OUT.xml

Deterministic: the same N gives the same file, byte for byte. Each VM looks
like one virt-manager creates (disks, controllers, console, graphics, ...)
so that its XML is as long as a real one, and has 1-3 NICs of mixed kinds:
virtual network ``default`` (NAT) or ``isolated``, user-mode (SLIRP or
passt), bridge ``br0``; virtio, e1000, e1000e or rtl8139; some with the
link down. Run states mix running, paused and shut off; some VMs have no
guest agent channel. The host has the ``default`` NAT network and an
isolated one.
"""

import random
import sys
import uuid as uuidlib
from xml.sax.saxutils import escape

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"

NETWORKS = """\
  <network>
    <name>default</name>
    <uuid>9a446612-83dd-43be-bf80-d35d97783f37</uuid>
    <forward mode='nat'>
      <nat>
        <port start='1024' end='65535'/>
      </nat>
    </forward>
    <bridge name='virbr0' stp='on' delay='0'/>
    <mac address='52:54:00:a5:4d:ca'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.122.2' end='192.168.122.254'/>
      </dhcp>
    </ip>
  </network>
  <network>
    <name>isolated</name>
    <uuid>601fea75-1f60-4a38-8c74-1e8ef12a0539</uuid>
    <bridge name='virbr1' stp='on' delay='0'/>
    <mac address='52:54:00:18:25:30'/>
    <ip address='192.168.100.1' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.100.2' end='192.168.100.254'/>
      </dhcp>
    </ip>
  </network>
"""

# (weight, source XML) of a NIC's kind; the source lines go inside <interface>.
NIC_KINDS = [
    (60, ("network", "<source network='default'/>")),
    (10, ("network", "<source network='isolated'/>")),
    (10, ("user", "")),
    (5, ("user", "<backend type='passt'/>")),
    (15, ("bridge", "<source bridge='br0'/>")),
]
MODELS = [(70, "virtio"), (15, "e1000"), (10, "e1000e"), (5, "rtl8139")]
# test:runstate: 1 running, 3 paused, 5 shut off.
STATES = [(60, 1), (10, 3), (30, 5)]
OSES = [
    ("fedora", "http://fedoraproject.org/fedora/42"),
    ("debian", "http://debian.org/debian/12"),
    ("ubuntu", "http://ubuntu.com/ubuntu/24.04"),
    ("win11", "http://microsoft.com/win/11"),
    ("rocky", "http://rockylinux.org/rocky/9"),
]


def pick(rng, table):
    """One value of a (weight, value) table."""
    return rng.choices([value for _, value in table], weights=[weight for weight, _ in table])[0]


def nic_xml(rng, vm, slot):
    kind, source = pick(rng, NIC_KINDS)
    model = pick(rng, MODELS)
    mac = f"52:54:00:{vm >> 8 & 0xff:02x}:{vm & 0xff:02x}:{slot:02x}"
    lines = [f"      <interface type='{kind}'>", f"        <mac address='{mac}'/>"]
    if source:
        lines.append(f"        {source}")
    lines.append(f"        <model type='{model}'/>")
    if rng.random() < 0.08:
        lines.append("        <link state='down'/>")
    lines.append("      </interface>")
    return "\n".join(lines)


def domain_xml(rng, vm):
    os_name, os_id = OSES[vm % len(OSES)]
    name = f"{os_name}-{vm:04d}"
    uuid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
    state = pick(rng, STATES)
    nics = "\n".join(nic_xml(rng, vm, slot) for slot in range(rng.randint(1, 3)))
    agent = ""
    if rng.random() < 0.85:
        agent = """
      <channel type='unix'>
        <target type='virtio' name='org.qemu.guest_agent.0'/>
      </channel>"""
    memory = 1048576 * rng.choice([1, 2, 4, 8])
    return f"""\
  <domain type='test'>
    <name>{name}</name>
    <uuid>{uuid}</uuid>
    <title>{escape(f"{os_name.capitalize()} VM {vm}")}</title>
    <metadata>
      <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>
        <libosinfo:os id='{os_id}'/>
      </libosinfo:libosinfo>
    </metadata>
    <memory unit='KiB'>{memory}</memory>
    <currentMemory unit='KiB'>{memory}</currentMemory>
    <vcpu placement='static'>{rng.choice([1, 2, 4])}</vcpu>
    <os>
      <type arch='x86_64' machine='q35'>hvm</type>
      <boot dev='hd'/>
    </os>
    <features>
      <acpi/>
      <apic/>
      <vmport state='off'/>
    </features>
    <cpu mode='host-passthrough' check='none' migratable='on'/>
    <clock offset='utc'>
      <timer name='rtc' tickpolicy='catchup'/>
      <timer name='pit' tickpolicy='delay'/>
      <timer name='hpet' present='no'/>
    </clock>
    <on_poweroff>destroy</on_poweroff>
    <on_reboot>restart</on_reboot>
    <on_crash>destroy</on_crash>
    <devices>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <disk type='file' device='disk'>
        <driver name='qemu' type='qcow2' discard='unmap'/>
        <source file='/var/lib/libvirt/images/{name}.qcow2'/>
        <target dev='vda' bus='virtio'/>
      </disk>
      <disk type='file' device='cdrom'>
        <driver name='qemu' type='raw'/>
        <target dev='sda' bus='sata'/>
        <readonly/>
      </disk>
      <controller type='usb' index='0' model='qemu-xhci' ports='15'/>
      <controller type='pci' index='0' model='pcie-root'/>
      <controller type='sata' index='0'/>
      <controller type='virtio-serial' index='0'/>
{nics}
      <serial type='pty'>
        <target type='isa-serial' port='0'>
          <model name='isa-serial'/>
        </target>
      </serial>
      <console type='pty'>
        <target type='serial' port='0'/>
      </console>{agent}
      <input type='tablet' bus='usb'/>
      <graphics type='vnc' port='-1' autoport='yes'>
        <listen type='address'/>
      </graphics>
      <video>
        <model type='virtio' heads='1' primary='yes'/>
      </video>
      <memballoon model='virtio'/>
      <rng model='virtio'>
        <backend model='random'>/dev/urandom</backend>
      </rng>
    </devices>
    <test:runstate>{state}</test:runstate>
  </domain>
"""


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: make-host.py N OUT.xml")
    count = int(sys.argv[1])
    # One seed per size: the 100-VM host is not a prefix of the 1000-VM one,
    # but each file is reproducible.
    rng = random.Random(f"vmnet-doctor-bench-{count}")
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        f"<!-- Generated by tools/bench/make-host.py {count}: a libvirt test-driver host for benchmarks. -->\n",
        f"<node xmlns:test='{TEST_NS}'>\n",
        NETWORKS,
    ]
    parts.extend(domain_xml(rng, vm) for vm in range(count))
    parts.append("</node>\n")
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        out.write("".join(parts))


if __name__ == "__main__":
    main()
