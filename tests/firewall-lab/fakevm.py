#!/usr/bin/env python3
"""A stand-in guest for the firewall lab: measures what a VM on the bridge can do.

Runs inside the lab's "vm" network namespace, whose only interface (enp1s0)
is a veth whose peer (vnet0) is enslaved to the libvirt bridge, exactly
where a QEMU tap would be. It asks libvirt's dnsmasq for a lease (a real
DHCP DISCOVER/REQUEST, so dnsmasq writes a real lease), then tries DNS to
the bridge address, ICMP echo and HTTP to the lab's fake internet host, and
prints one "name: ok|blocked (detail)" line per probe. These lines are the
ground truth the netfilter evaluator's verdicts are tested against.

    fakevm.py IFACE IFACE_MAC INTERNET_IP FALLBACK_CIDR

IFACE_MAC is the MAC of IFACE: the sysfs mounted in the lab shows the
host's namespace, so the caller reads it with `ip` in this one.

Only Python's standard library; needs root in the namespace (raw ICMP).
"""

import os
import random
import socket
import struct
import subprocess
import sys
import time

TIMEOUT = 3.0
# dnsmasq pings an address (about 3 s) before it offers it.
DHCP_OFFER_TIMEOUT = 8.0


def dhcp_packet(xid, mac, options):
    # op=1 (request), htype=1 (Ethernet), hlen=6, hops=0; flags=0x8000
    # (broadcast: we have no address yet, so the answer must be broadcast).
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                       b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                       mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    body = b"".join(struct.pack("!BB", code, len(value)) + value for code, value in options)
    return head + b"\x63\x82\x53\x63" + body + b"\xff"


def dhcp_options(packet):
    options = {}
    i = 240
    while i < len(packet):
        code = packet[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        length = packet[i + 1]
        options[code] = packet[i + 2:i + 2 + length]
        i += 2 + length
    return options


def dhcp_wait(raw, xid, kind, timeout):
    """Reads frames until a DHCP message of this kind for our xid arrives.

    Like udhcpc and dhclient, it reads from a packet socket: the kernel does
    not deliver a broadcast to a UDP socket on an interface without an IPv4
    address when the sender's address has no route (source validation).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = raw.recv(4096)
        except socket.timeout:
            break
        if frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
            continue
        ihl = (frame[14] & 0x0F) * 4
        udp = frame[14 + ihl:]
        if struct.unpack("!H", udp[2:4])[0] != 68:
            continue
        packet = udp[8:]
        if len(packet) < 240 or struct.unpack("!I", packet[4:8])[0] != xid:
            continue
        options = dhcp_options(packet)
        if options.get(53) == bytes([kind]):
            return packet, options
    return None, None


def dhcp(iface, mac):
    """DISCOVER, OFFER, REQUEST, ACK. Returns (address, prefix, router) or None."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", 68))
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    raw.bind((iface, 0))
    xid = random.getrandbits(32)
    hostname = (53, b"\x01"), (55, b"\x01\x03\x06"), (12, b"labvm")
    sock.sendto(dhcp_packet(xid, mac, hostname), ("255.255.255.255", 67))
    offer, options = dhcp_wait(raw, xid, 2, DHCP_OFFER_TIMEOUT)
    if offer is None:
        return None
    yiaddr = offer[16:20]
    server = options.get(54, b"")
    request = [(53, b"\x03"), (50, yiaddr), (54, server), (12, b"labvm"), (55, b"\x01\x03\x06")]
    sock.sendto(dhcp_packet(xid, mac, request), ("255.255.255.255", 67))
    ack, options = dhcp_wait(raw, xid, 5, TIMEOUT)
    if ack is None:
        return None
    mask = struct.unpack("!I", options.get(1, b"\xff\xff\xff\x00"))[0]
    prefix = bin(mask).count("1")
    router = socket.inet_ntoa(options[3][:4]) if 3 in options else None
    return socket.inet_ntoa(ack[16:20]), prefix, router


def dns(server):
    """One A query for "localhost", which dnsmasq answers from /etc/hosts
    without asking upstream; any answer means DNS reached it."""
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    query += b"\x09localhost\x00" + struct.pack("!HH", 1, 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    try:
        sock.sendto(query, (server, 53))
        answer, _ = sock.recvfrom(512)
        rcode = answer[3] & 0x0F
        return True, f"reply rcode {rcode}"
    except OSError as error:
        return False, str(error)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(host):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.settimeout(TIMEOUT)
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    payload = b"vmnet-doctor-lab"
    packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, 1) + payload
    try:
        sock.sendto(packet, (host, 0))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            reply, _ = sock.recvfrom(1024)
            ihl = (reply[0] & 0x0F) * 4
            kind, _, _, rid, _ = struct.unpack("!BBHHH", reply[ihl:ihl + 8])
            if kind == 0 and rid == ident:
                return True, "echo reply"
        return False, "no echo reply"
    except OSError as error:
        return False, str(error)


def http(host):
    try:
        with socket.create_connection((host, 80), timeout=TIMEOUT) as sock:
            sock.settimeout(TIMEOUT)
            sock.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")
            status = sock.recv(64).split(b"\r\n")[0].decode(errors="replace")
            return bool(status.startswith("HTTP/")), status
    except OSError as error:
        return False, str(error)


def report(name, result):
    ok, detail = result
    print(f"{name}: {'ok' if ok else 'blocked'} ({detail})", flush=True)


def main():
    iface, internet, fallback = sys.argv[1], sys.argv[3], sys.argv[4]
    mac = bytes.fromhex(sys.argv[2].replace(":", ""))
    subprocess.run(["ip", "link", "set", iface, "up"], check=True)
    lease = dhcp(iface, mac)
    if lease:
        address, prefix, router = lease
        report("dhcp", (True, f"lease {address}/{prefix} router {router}"))
    else:
        # Without a lease, take a static address so the forward path is still measured.
        report("dhcp", (False, f"no offer/ack; static {fallback}"))
        address, prefix = fallback.split("/")
        router = None
    subprocess.run(["ip", "addr", "add", f"{address}/{prefix}", "dev", iface], check=True)
    gateway = router or fallback.rsplit(".", 1)[0] + ".1"
    subprocess.run(["ip", "route", "add", "default", "via", gateway], check=True)
    report("dns", dns(gateway))
    report("ping", ping(internet))
    report("http", http(internet))


if __name__ == "__main__":
    main()
