#!/usr/bin/env python3
"""The guide's safety claims, tested in the lab (issue #10): the helper's
fixes open nothing to the internet, and the NAT translation table reads
what NAT really did.

One fresh lab (tests/lab/lab.sh), one guest boot:

1. The guest serves TCP 8080 (busybox httpd) and the lab host serves TCP
   2222 on every address; the "internet" namespace is given a route to the
   VM subnet through the host's uplink (the worst case: a neighbour that
   routes the private subnet to the host). Controls: the host reaches the
   guest's 8080; the scanner finds the host's 2222 open while UFW is off.
2. NAT table: the guest fetches from the internet host; `vmnet-doctor nat
   lab-guest --json`, run as the desktop user (the helper's Connections,
   authorized by polkit), must list that connection with the guest as its
   original source and the host's uplink address as its translated source.
3. For each helper fix the lab scenarios apply (UFW routed allow for the
   bridge, Docker FORWARD accept, ip_forward on): break, TCP connect scan
   (nmap -sT, all 65535 ports) from the internet against the host's uplink
   addresses (IPv4 and IPv6) and the guest, fix through the helper as the desktop user, scan
   again: the open ports after must be a subset of those before. Then
   `vmnet-doctor posture --json` must say every statement holds; the fix is
   reverted and the break undone.
4. Control of the scan and of the posture: a port forward to the guest
   (DNAT on the uplink plus an accept in libvirt's guest_input chain) —
   the scan must find it and posture must say no-port-forwarding does not
   hold.

    exposure.py                  runs it in a fresh lab
    exposure.py --capture DIR    also writes the conntrack and ruleset
                                 captures used as test fixtures into DIR
    exposure.py --inside [DIR]   (what lab.sh runs)

Lab traffic stays in the lab's namespaces: the scans only target the lab
host's uplink addresses and the guest, from the lab's internet namespace.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

import labkit as lab

ENV = os.environ
STARTED = time.monotonic()
GUEST_PORT = 8080
HOST_PORT = 2222
TIMINGS = []


def step(text):
    print(f"    {time.monotonic() - STARTED:5.1f} s  {text}", flush=True)


def in_internet(args, timeout=120):
    return subprocess.run(["nsenter", "--net=/run/netns/internet", *args],
                          capture_output=True, text=True, timeout=timeout)


# nmap's connect scan of every TCP port. Filtered ports (a dropped SYN,
# or a reject whose ICMP answer the kernel rate-limits) cost a timeout
# each: at the default timing a full scan of the guest takes minutes. The
# lab's veth links lose nothing, so: a 100 ms round-trip bound, at least
# 20000 probes a second, one retry. Measured: 6.7 s for 65535 filtered
# ports (2 cores, under load), an open port still found.
NMAP = ["nmap", "-sT", "-Pn", "-n", "-p-", "-T5", "--max-retries", "1", "--min-rate", "20000",
        "--max-rtt-timeout", "100ms", "--initial-rtt-timeout", "50ms", "--host-timeout", "120s", "-oG", "-"]


def start_scan(target):
    family = ["-6"] if ":" in target else []
    return subprocess.Popen(["nsenter", "--net=/run/netns/internet", *NMAP, *family, target],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_scan(target, process, started):
    """Open TCP ports of TARGET seen from the internet."""
    try:
        stdout, stderr = process.communicate(timeout=180)
    except subprocess.TimeoutExpired as error:
        process.kill()
        raise lab.LabError(f"nmap against {target} did not end") from error
    TIMINGS.append((target, time.monotonic() - started))
    if process.returncode != 0:
        raise lab.LabError(f"nmap against {target} failed: {stderr.strip()}")
    if "Status: Timeout" in stdout or "(1 host up)" not in stdout:
        raise lab.LabError(f"nmap did not finish scanning {target}: {stdout}")
    ports = set()
    for line in stdout.splitlines():
        match = re.search(r"Ports: (.*?)(\t|$)", line)
        if not match:
            continue
        for item in match.group(1).split(","):
            fields = item.strip().split("/")
            if len(fields) > 2 and fields[1] == "open":
                ports.add(int(fields[0]))
    return ports


def scan(target):
    return finish_scan(target, start_scan(target), time.monotonic())


# The uplink's IPv6 address (lab.sh): UFW's rules have IPv6 twins.
HOST_ADDRESS6 = "2001:db8:100::2"


def scan_both(guest):
    """The host's uplink addresses (IPv4, IPv6) and the guest, scanned at
    the same time."""
    started = time.monotonic()
    targets = {"host": ENV["LAB_UPLINK_ADDRESS"], "host6": HOST_ADDRESS6, "guest": guest}
    scans = {name: start_scan(target) for name, target in targets.items()}
    return {name: finish_scan(targets[name], scans[name], started) for name in targets}


def expect_subset(before, after, what):
    for target in before:
        opened = after[target] - before[target]
        if opened:
            raise lab.LabError(f"{what} opened TCP ports {sorted(opened)} on the {target} "
                               f"to the internet (before: {sorted(before[target])}, after: {sorted(after[target])})")


def as_user_json(args):
    done = lab.as_user([ENV["LAB_DOCTOR"], *args])
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError as error:
        raise lab.LabError(f"{' '.join(args)} printed no JSON (exit {done.returncode}): "
                           f"{done.stderr.strip()}") from error


def posture():
    code, document = as_user_json(["posture", "--connect", ENV["LAB_URI"], "--json"])
    if not document.get("checked"):
        raise lab.LabError(f"posture could not check: {document.get('failure')}")
    if not document.get("host", {}).get("checked"):
        raise lab.LabError(f"posture did not see the host: {document.get('host')}")
    return code, {s["id"]: s for s in document["statements"]}


def expect_posture_holds(when):
    code, statements = posture()
    bad = {sid: (s["status"], s["evidence"]) for sid, s in statements.items() if s["status"] != "holds"}
    if bad or code != 0:
        raise lab.LabError(f"posture {when}: not every statement holds (exit {code}): {bad}")
    return statements


def capture(directory, name, how):
    """The lab host's rulesets now, as the host probe reads them."""
    if not directory:
        return
    target = os.path.join(directory, name)
    os.makedirs(target, exist_ok=True)
    commands = {
        "nft-list-ruleset.json": "nft -j list ruleset",
        "nft-list-ruleset.txt": "nft list ruleset",
        "iptables-nft-save.txt": "iptables-nft-save | grep -v '^#'",
        "ufw-status-verbose.txt": "LC_ALL=C ufw status verbose",
    }
    for file, command in commands.items():
        with open(os.path.join(target, file), "w", encoding="utf-8") as out:
            out.write(lab.sh(command, check=False))
    versions = lab.sh("uname -r; libvirtd --version; nft --version; iptables --version; "
                      "ufw --version | head -1", check=False)
    with open(os.path.join(target, "how.txt"), "w", encoding="utf-8") as out:
        out.write(f"Captured by tests/lab/exposure.py --capture in the lab (tests/lab/lab.sh) of the project's "
                  f"Debian 13 root on {time.strftime('%Y-%m-%d')}:\n{versions}\n{how}\n")


def helper_transactions(result):
    found = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("transaction", "transaction_id") and isinstance(item, str) and item:
                    if item not in found:
                        found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(result)
    return found


def nat_table(guest, directory):
    """The guest fetches from the internet; its NAT entry must be listed."""
    steps = lab.prove_network()
    if not steps["http"][0]:
        raise lab.LabError(f"the guest could not fetch from the internet: {steps}")
    code, document = as_user_json(["nat", "--connect", ENV["LAB_URI"], "lab-guest", "--json"])
    if code != 0 or not document.get("read"):
        raise lab.LabError(f"nat could not read the table (exit {code}): {document.get('failure')}")
    if guest not in document["addresses"]:
        raise lab.LabError(f"nat asked about {document['addresses']}, not the guest's {guest}")
    www, uplink = ENV["LAB_WWW"], ENV["LAB_UPLINK_ADDRESS"]
    fetch = [e for e in document["entries"]
             if e["protocol"] == "tcp" and e["original"]["source"]["address"] == guest
             and e["original"]["destination"] == {"address": www, "port": 80}]
    if not fetch:
        raise lab.LabError(f"no tcp entry {guest} → {www}:80 in {json.dumps(document['entries'])[:2000]}")
    entry = fetch[0]
    if entry["translated_source"]["address"] != uplink or not entry["source_translated"]:
        raise lab.LabError(f"the fetch's translated source is {entry['translated_source']}, not {uplink}: {entry}")
    step(f"nat lists {entry['summary']} ({len(document['entries'])} entries)")
    text = lab.as_user([ENV["LAB_DOCTOR"], "nat", "--connect", ENV["LAB_URI"], "lab-guest"])
    if text.returncode != 0 or entry["summary"] not in text.stdout:
        raise lab.LabError(f"nat's text does not list {entry['summary']} (exit {text.returncode}): {text.stdout}")
    if directory:
        # A ping and a datagram nobody answers: ICMP and UNREPLIED entries
        # for the parser's fixture.
        lab.guest_run(f"ping -c 1 -W 2 {www}; echo probe | nc -u -w 1 {www} 9", timeout=10)
        raw = lab.sh(f"conntrack -L -o extended -f ipv4 --orig-src {guest} 2>/dev/null")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "conntrack-lab-guest.txt"), "w", encoding="utf-8") as out:
            out.write(f"# Captured by tests/lab/exposure.py --capture in the lab (tests/lab/lab.sh, Debian 13 root, "
                      f"{lab.sh('conntrack --version 2>&1').strip()}) on {time.strftime('%Y-%m-%d')}:\n"
                      f"# `conntrack -L -o extended -f ipv4 --orig-src {guest}` on the lab host right after the\n"
                      f"# busybox guest ({guest}, NAT network default on virbr0) looked up {ENV['LAB_WWW_NAME']}\n"
                      f"# through dnsmasq and fetched http://{www}/ through NAT (uplink {uplink}), then pinged\n"
                      f"# {www} once and sent one UDP datagram to its port 9 with busybox nc (nothing listens\n"
                      f"# there).\n")
            out.write(raw)


def fix_cycle(name, guest, break_command, finding_ids, undo_command, directory):
    lab.sh(break_command)
    report = lab.check()
    ids = sorted({f["id"] for f in report["findings"]})
    wanted = [i for i in ids if any(i == f or (f.endswith("*") and i.startswith(f[:-1])) for f in finding_ids)]
    if not wanted:
        raise lab.LabError(f"{name}: check did not report {finding_ids}; it reported {ids}")
    before = scan_both(guest)
    step(f"{name}: broken, check reports {', '.join(wanted)}; open before: "
         f"host {sorted(before['host'])}, host IPv6 {sorted(before['host6'])}, guest {sorted(before['guest'])}")
    result = lab.fix(*wanted)
    lab.expect_network_works()
    after = scan_both(guest)
    expect_subset(before, after, f"the fix of {', '.join(wanted)}")
    step(f"{name}: fixed through the helper, the guest's network works; open after: "
         f"host {sorted(after['host'])}, host IPv6 {sorted(after['host6'])}, guest {sorted(after['guest'])}")
    expect_posture_holds(f"after the fix of {name}")
    capture(directory, f"lab-{name}-fixed", f"After `{break_command}` and `vmnet-doctor fix {' '.join(wanted)}` "
            "as the lab user through the helper.")
    step(f"{name}: posture holds")
    transactions = helper_transactions(result)
    if not transactions:
        raise lab.LabError(f"{name}: the fix returned no helper transaction: {result}")
    for transaction in reversed(transactions):
        lab.revert(transaction)
    lab.sh(undo_command)


def port_forward_control(guest, directory):
    """A port forward to the guest: the scan and posture must both see it."""
    uplink = ENV["LAB_UPLINK"]
    forward = (f"iptables -t nat -I PREROUTING -i {uplink} -p tcp --dport {GUEST_PORT} "
               f"-j DNAT --to-destination {guest}:{GUEST_PORT}")
    accept = f"nft insert rule ip libvirt_network guest_input oif virbr0 ip daddr {guest} tcp dport {GUEST_PORT} accept"
    lab.sh(forward)
    lab.sh(accept)
    ports = scan(ENV["LAB_UPLINK_ADDRESS"])
    if GUEST_PORT not in ports:
        raise lab.LabError(f"control: the scan did not find the forwarded port {GUEST_PORT} on the host ({ports})")
    code, statements = posture()
    forwarding = statements["no-port-forwarding"]
    if forwarding["status"] != "does-not-hold" or code != 1:
        raise lab.LabError(f"control: posture did not see the port forward (exit {code}): {forwarding}")
    inbound = statements["no-inbound-to-vms"]
    if inbound["status"] == "holds":
        raise lab.LabError(f"control: posture still says the internet cannot reach the guest: {inbound}")
    capture(directory, "lab-port-forward", f"After `{forward}` and `{accept}` (a port forward to the guest, "
            "made by hand as a control).")
    step(f"control: a port forward to the guest is found by the scan (host {sorted(ports)}) "
         f"and by posture ({forwarding['evidence'][0]})")
    # What a wrong fix would add: the replies rule without its
    # RELATED,ESTABLISHED match, with our comment.
    rogue = (f"iptables -I FORWARD -i {uplink} -o virbr0 -m comment --comment vmnet-doctor -j ACCEPT")
    lab.sh(rogue)
    code, statements = posture()
    ours = statements["fixes-open-nothing-inbound"]
    if ours["status"] != "does-not-hold":
        raise lab.LabError(f"control: posture did not see an inbound accept with our comment: {ours}")
    capture(directory, "lab-rogue-accept", f"After the port forward above and `{rogue}` (what a wrong fix "
            "would add, made by hand as a control).")
    step(f"control: an inbound accept carrying our comment is refuted by posture ({ours['evidence'][0]})")


def inside(directory):
    uplink_address = ENV["LAB_UPLINK_ADDRESS"]
    # The backend under which UFW's and Docker's FORWARD policies break the
    # guest (scenarios.py S3-ufw-nftables, S4), as the scenarios set it.
    lab.sh("sed -i '/^firewall_backend/d' /etc/libvirt/network.conf && "
           "echo 'firewall_backend = \"nftables\"' >>/etc/libvirt/network.conf")
    lab.sh("kill $(cat /run/libvirtd.pid)")
    lab.wait_for("libvirtd to stop", lambda: lab.sh("pgrep -x libvirtd", check=False) == "", 60)
    lab.sh("start_libvirtd")
    lab.start_guest()
    lab.expect_network_works()
    _, addresses = lab.guest_interface(ENV["LAB_GUEST_MAC"])
    guest = next((a for a in addresses if a.startswith("192.168.122.")), None)
    if not guest:
        raise lab.LabError(f"the guest has no address on default: {addresses}")
    code, out = lab.guest_run(f"busybox httpd -p {GUEST_PORT} -h /")
    if code != 0:
        raise lab.LabError(f"the guest's httpd did not start: {out}")
    listener = subprocess.Popen(["python3", "-c", f"""
import socket
server = socket.create_server(("::", {HOST_PORT}), family=socket.AF_INET6, dualstack_ipv6=True)
while True:
    server.accept()[0].close()
"""])
    try:
        lab.wait_for("the guest's port to answer the host",
                     lambda: socket.create_connection((guest, GUEST_PORT), timeout=2).close() or True, 15)
        done = in_internet(["ip", "route", "add", "192.168.122.0/24", "via", uplink_address])
        if done.returncode != 0:
            raise lab.LabError(f"cannot route the VM subnet in the internet namespace: {done.stderr}")
        step(f"guest {guest} serves {GUEST_PORT}, the host serves {HOST_PORT}; the internet routes "
             f"192.168.122.0/24 to {uplink_address}")
        baseline = scan_both(guest)
        if HOST_PORT not in baseline["host"] or HOST_PORT not in baseline["host6"]:
            raise lab.LabError(f"control: the scan does not see the host's open port {HOST_PORT}: {baseline}")
        if baseline["guest"]:
            raise lab.LabError(f"the guest is reachable from the internet before any fix: {baseline}")
        step(f"baseline: host {sorted(baseline['host'])}, host IPv6 {sorted(baseline['host6'])}, "
             f"guest {sorted(baseline['guest'])} (nothing)")
        expect_posture_holds("in the fresh lab")
        nat_table(guest, directory)
        fix_cycle("docker", guest,
                  lab.DOCKER_FORWARD_DROP,
                  ["forward-dropped"],
                  "iptables -P FORWARD ACCEPT && iptables -D FORWARD -j DOCKER-USER && "
                  "iptables -F DOCKER-USER && iptables -X DOCKER-USER", directory)
        fix_cycle("ip-forward", guest, "sysctl -qw net.ipv4.ip_forward=0", ["ipv4-forwarding-off"],
                  "sysctl -qw net.ipv4.ip_forward=1", directory)
        # UFW last: `ufw disable` leaves its chains behind, and a later
        # FORWARD drop would then be reported as UFW's.
        fix_cycle("ufw", guest, "ufw --force enable", ["ufw-*"], "ufw --force disable", directory)
        port_forward_control(guest, directory)
    finally:
        listener.kill()
    total = sum(seconds for _, seconds in TIMINGS)
    slowest = max(seconds for _, seconds in TIMINGS)
    step(f"{len(TIMINGS)} scans of 65535 ports took {total:.1f} s (slowest {slowest:.1f} s)")
    return 0


def main(args):
    if args[:1] == ["--inside"]:
        try:
            return inside(args[1] if len(args) > 1 else None)
        except lab.LabError as error:
            print(f"  FAILED exposure: {error}", flush=True)
            subprocess.run(["bash", "-c", "tail -n 20 $LAB_STATE/helper.log 2>/dev/null"], check=False)
            return 1
    directory = None
    if args[:1] == ["--capture"] and len(args) == 2:
        directory = os.path.abspath(args[1])
    elif args:
        print(__doc__, file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    print("  exposure (scans before and after the helper's fixes; the NAT table)", flush=True)
    started = time.monotonic()
    command = [os.path.join(here, "lab.sh"), "python3", os.path.abspath(__file__), "--inside"]
    status = subprocess.run(command + ([directory] if directory else [])).returncode
    print(f"    exposure {time.monotonic() - started:6.1f} s  {'ok' if status == 0 else 'FAILED'}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
