#!/usr/bin/env python3
"""The lab's guest-side checks (issue: inside the guest). Each runs in a
fresh lab (tests/lab/lab.sh) and drives the app as the lab's desktop user:
`vmnet-doctor verify` (the guide's checklist inside the guest, pointed at
the lab's internet host), `check --vm` (which looks inside the guest) and
the guest fixes with `fix` and `revert`, all through the guest agent.

    guest_checks.py [NAME…]         each check in a fresh lab (default: the tiny guest's)
    guest_checks.py --debian        the checks on the full Debian 13 guest
    guest_checks.py --list
    guest_checks.py --inside NAME   (what lab.sh runs)

The G* checks use the tiny busybox guest; the D* checks the full Debian 13
guest built by tests/lab/debian-guest/build.sh into $LAB_DEBIAN_DIR (slow:
it boots systemd under emulation). D1 is the guide's guest side; D2 makes
that guest a host and installs the helper's .deb there, to prove the
helper under its real systemd unit and polkit.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import labkit as lab

CHECKS = {}
DEBIAN_CHECKS = {"D1-debian-guest", "D2-helper-as-installed"}
STARTED = time.monotonic()
HERE = os.path.dirname(os.path.abspath(__file__))


def check(name):
    def register(function):
        CHECKS[name] = function
        return function
    return register


def step(text):
    print(f"    {time.monotonic() - STARTED:5.1f} s  {text}", flush=True)


def lab_targets():
    return ["--ping", os.environ["LAB_WWW"], "--dns", os.environ["LAB_WWW_NAME"],
            "--http", f"http://{os.environ['LAB_WWW_NAME']}/"]


def verify(vm=None, extra=(), expect_exit=None):
    """`vmnet-doctor verify --json` as the desktop user: (exit, events by kind)."""
    done = lab.as_user([os.environ["LAB_DOCTOR"], "verify", "--connect", os.environ["LAB_URI"],
                        vm or lab.GUEST, "--json", *lab_targets(), *extra], timeout=600)
    events = []
    for line in done.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError as error:
            raise lab.LabError(f"verify printed a line that is not JSON: {line!r}") from error
    if expect_exit is not None and done.returncode != expect_exit:
        raise lab.LabError(f"verify exited {done.returncode}, not {expect_exit}: {done.stdout} {done.stderr}")
    if not events or events[-1].get("event") != "summary" or events[-1].get("exit_code") != done.returncode:
        raise lab.LabError(f"verify's last line is not its summary: {done.stdout[-2000:]} {done.stderr}")
    return done.returncode, events


def steps_of(events):
    return {event["step"]: event for event in events if event.get("event") == "step"}


def expect_steps(events, wanted):
    """WANTED: {step: status}; every step named must have that status."""
    found = steps_of(events)
    wrong = {name: (found.get(name, {}).get("status"), found.get(name, {}).get("detail"))
             for name, status in wanted.items() if found.get(name, {}).get("status") != status}
    if wrong:
        raise lab.LabError(f"verify's steps are not as expected (wanted {wanted}): {wrong}")
    return found


def guest_event(events):
    for event in events:
        if event.get("event") == "guest":
            return event
    raise lab.LabError(f"verify reported nothing about the guest: {events}")


def check_vm(vm):
    """`check --vm VM --json` (which inspects the guest)."""
    done = lab.as_user([os.environ["LAB_DOCTOR"], "check", "--connect", os.environ["LAB_URI"], "--vm", vm,
                        "--json"])
    try:
        return json.loads(done.stdout)
    except ValueError as error:
        raise lab.LabError(f"check printed no JSON (exit {done.returncode}): {done.stderr}") from error


def findings(vm, finding_id):
    return [f for f in check_vm(vm)["findings"] if f["id"] == finding_id]


def fix(vm, *args):
    done = lab.as_user([os.environ["LAB_DOCTOR"], "fix", "--connect", os.environ["LAB_URI"], "--vm", vm,
                        "--json", *args], timeout=300)
    try:
        result = json.loads(done.stdout)
    except ValueError as error:
        raise lab.LabError(f"fix printed no JSON (exit {done.returncode}): {done.stderr}") from error
    if done.returncode != 0:
        raise lab.LabError(f"fix {' '.join(args)} failed (exit {done.returncode}): {json.dumps(result)[:3000]}")
    transactions = [r["transaction"] for r in result["results"] if r.get("transaction")]
    return result, transactions


def revert(transaction):
    done = lab.as_user([os.environ["LAB_DOCTOR"], "revert", transaction, "--json"], timeout=300)
    if done.returncode != 0:
        raise lab.LabError(f"revert {transaction} failed (exit {done.returncode}): {done.stdout} {done.stderr}")
    return json.loads(done.stdout)


def guest_file(path):
    code, out = lab.guest_run(f"cat {path}")
    return out if code == 0 else None


def break_ipv6(interface):
    """The guide's apt hang: a global IPv6 address and a default route on
    a NAT network that carries no IPv6 (as S10)."""
    code, out = lab.guest_run(f"echo 0 >/proc/sys/net/ipv6/conf/{interface}/accept_dad && "
                              f"ip -6 addr add 2001:db8:122::50/64 dev {interface} && "
                              f"ip -6 route add default via fe80::1 dev {interface}")
    if code != 0:
        raise lab.LabError(f"could not give the guest its IPv6 address: {out}")


# --- The tiny guest -------------------------------------------------------------

@check("G1-discovery-and-verify")
def discovery_and_verify():
    """The tiny guest as it is: what the agent says about it, and the
    checklist passing against the lab's internet host."""
    lab.start_guest()
    lab.expect_network_works()
    code, events = verify(expect_exit=0)
    guest = guest_event(events)
    if guest["os"].get("id") is not None or not guest["os"].get("kernel_release"):
        raise lab.LabError(f"the tiny guest has no os-release, only a kernel: {guest['os']}")
    network = guest["network"]
    if network["stacks"] or network["network_manager"] != "absent" or "wget" not in network["busybox"]:
        raise lab.LabError(f"the tiny guest is busybox with no network stack: {network}")
    cards = guest["cards"]
    if cards != [{"mac": os.environ["LAB_GUEST_MAC"], "network": "default", "interface": "enp1s0"}]:
        raise lab.LabError(f"the card's guest name is not enp1s0, found by MAC: {cards}")
    step("the guest: no os-release, kernel only; no NetworkManager/networkd/netplan/ifupdown (busybox); "
         "its card is enp1s0, found by MAC")
    found = expect_steps(events, {"address": "pass", "gateway": "pass", "ping": "pass", "dns": "pass",
                                  "http": "pass", "packages": "skip"})
    if found["gateway"]["target"] != "192.168.122.1":
        raise lab.LabError(f"the gateway is not the guest's own default gateway: {found['gateway']}")
    step("verify: every step passes, the gateway from the guest's own route; no package manager (skipped)")
    report = check_vm(lab.GUEST)
    if any(f["severity"] in ("error", "warning") for f in report["findings"]):
        raise lab.LabError(f"check --vm is not clean: {report['findings']}")
    step("check --vm (with the guest inspected) is clean")


@check("G2-verify-shows-where-it-breaks")
def verify_broken():
    """IPv4 forwarding off on the host: the checklist shows where the path
    ends — the gateway answers, the internet does not."""
    lab.start_guest()
    lab.expect_network_works()
    lab.sh("sysctl -qw net.ipv4.ip_forward=0")
    step("net.ipv4.ip_forward = 0 on the host")
    code, events = verify(expect_exit=1)
    expect_steps(events, {"address": "pass", "gateway": "pass", "ping": "fail", "dns": "pass", "http": "fail"})
    step("verify exits 1: address, gateway and DNS (the host's dnsmasq) pass; public ping and HTTP fail")
    lab.sh("sysctl -qw net.ipv4.ip_forward=1")
    verify(expect_exit=0)
    step("forwarding back on: every step passes again")


def use_resolver(address):
    """Points the lab host's resolv.conf at ADDRESS and starts libvirt's
    network again, so that its dnsmasq (which forwards there) starts on it,
    then boots the guest on it. (dnsmasq's own polling of resolv.conf
    missed changes here now and then.)"""
    lab.virsh("destroy", lab.GUEST, check=False)
    lab.sh(f"echo 'nameserver {address}' >$LAB_STATE/resolv.conf")
    lab.virsh("net-destroy", "default")
    lab.virsh("net-start", "default")
    lab.start_guest()
    lab.wait_for("the guest's lease", lambda: lab.guest_interface(os.environ["LAB_GUEST_MAC"])[1], 30)


@check("G5-slow-dns")
def slow_dns():
    """The guide's checklist wants every step to succeed without delay. The
    lab's host asks a resolver that answers only after 4 s (a slow server
    in the lab's internet): the name still resolves, but verify calls the
    DNS step slow, with the cause, and the summary is a warning (exit 0).
    (The HTTP step that follows finds the name in dnsmasq's cache.) Back on
    the fast resolver, every step passes again."""
    slow = "203.0.113.54"
    lab.sh(f"nsenter --net=/run/netns/internet ip addr add {slow}/32 dev lo && "
           f"(nsenter --net=/run/netns/internet python3 {shlex.quote(os.path.join(HERE, 'slow-dns.py'))} "
           f"{slow} {os.environ['LAB_RESOLVER']} 4 "
           f">$LAB_STATE/slow-dns.log 2>&1 &)")
    lab.wait_for("the slow DNS server", lambda: "slow-dns:" in lab.sh("cat $LAB_STATE/slow-dns.log"), 20)
    use_resolver(slow)
    step(f"the host's resolver is now {slow}, which answers after 4 s; the network and the guest started on it")
    code, events = verify(expect_exit=0)
    found = expect_steps(events, {"address": "pass", "gateway": "pass", "ping": "pass", "dns": "slow"})
    dns = found["dns"]
    if dns["seconds"] < 3 or "resolved only after" not in dns["detail"]:
        raise lab.LabError(f"the slow DNS step does not say why: {dns}")
    slow_steps = sorted(name for name, found_step in found.items() if found_step["status"] == "slow")
    if events[-1].get("status") != "slow" or events[-1].get("slow") != len(slow_steps):
        raise lab.LabError(f"verify's summary is not a warning about {slow_steps}: {events[-1]}")
    step(f"verify exits 0 with a warning: slow {', '.join(slow_steps)} (DNS {dns['seconds']} s: "
         f"{dns['detail'][-80:]})")
    # The slow server saw the checklist's lookups.
    if "query from" not in lab.sh("cat $LAB_STATE/slow-dns.log"):
        raise lab.LabError("the slow DNS server was never asked")
    use_resolver(os.environ["LAB_RESOLVER"])
    code, events = verify(expect_exit=0)
    expect_steps(events, {"dns": "pass", "http": "pass"})
    if events[-1].get("status") != "pass":
        raise lab.LabError(f"on the fast resolver the summary is not a pass: {events[-1]}")
    step("back on the fast resolver: every step passes without delay")


@check("G3-ipv6-both-remedies-and-reverts")
def ipv6_remedies():
    """Both of the guide's IPv6 remedies through the agent, each reverted:
    APT's ForceIPv4 (fix --alternative) and the sysctl.d file."""
    lab.start_guest()
    lab.expect_network_works()
    break_ipv6("enp1s0")
    # The tiny guest has no APT; its configuration directory is what the fix needs.
    lab.guest_run("mkdir -p /etc/apt/apt.conf.d")
    step("the guest has a global IPv6 address and default route on a NAT network without IPv6")
    found = findings(lab.GUEST, "guest-ipv6-unrouted")
    evidence = {e["what"]: e["value"] for f in found for e in f["evidence"]}
    if "default via fe80::1 dev enp1s0" not in evidence.get("IPv6 default routes (guest)", ""):
        raise lab.LabError(f"check --vm does not show the guest's IPv6 default route: {found}")
    step("check --vm reports guest-ipv6-unrouted with the address and the default route")

    result, transactions = fix(lab.GUEST, "--alternative", "guest-ipv6-unrouted")
    if result["results"][0]["fix"]["kind"] != "force-apt-ipv4" or len(transactions) != 1:
        raise lab.LabError(f"fix --alternative did not apply force-apt-ipv4: {result}")
    contents = guest_file("/etc/apt/apt.conf.d/99force-ipv4")
    if contents != 'Acquire::ForceIPv4 "true";\n':
        raise lab.LabError(f"99force-ipv4 is not the guide's line: {contents!r}")
    code, mode = lab.guest_run("stat -c %a /etc/apt/apt.conf.d/99force-ipv4")
    if mode.strip() != "644":
        raise lab.LabError(f"99force-ipv4 is not readable by users (mode {mode.strip()})")
    if findings(lab.GUEST, "guest-ipv6-unrouted"):
        raise lab.LabError("check --vm still reports guest-ipv6-unrouted with APT on IPv4")
    step(f"fix --alternative: 99force-ipv4 written (0644), finding gone ({transactions[0]})")
    revert(transactions[0])
    if guest_file("/etc/apt/apt.conf.d/99force-ipv4") is not None:
        raise lab.LabError("revert left 99force-ipv4 in the guest")
    if not findings(lab.GUEST, "guest-ipv6-unrouted"):
        raise lab.LabError("after the revert check --vm does not report guest-ipv6-unrouted again")
    again = revert(transactions[0])
    if again["result"]["outcome"] != "already-reverted":
        raise lab.LabError(f"a second revert did something: {again}")
    step("reverted: the file is gone, the finding is back; a second revert does nothing")

    # The guide's recommended fix, over a file the user had left there.
    lab.guest_run("mkdir -p /etc/sysctl.d && echo 'net.ipv6.conf.all.disable_ipv6 = 1' "
                  ">/etc/sysctl.d/99-disable-ipv6.conf")
    result, transactions = fix(lab.GUEST, "guest-ipv6-unrouted")
    if guest_file("/proc/sys/net/ipv6/conf/all/disable_ipv6") != "1\n" or len(transactions) != 1:
        raise lab.LabError(f"IPv6 is not off after the fix: {result}")
    step(f"fix: 99-disable-ipv6.conf completed and applied, IPv6 off ({transactions[0]})")
    revert(transactions[0])
    contents = guest_file("/etc/sysctl.d/99-disable-ipv6.conf")
    if contents != "net.ipv6.conf.all.disable_ipv6 = 1\n":
        raise lab.LabError(f"revert did not restore the user's own file: {contents!r}")
    if guest_file("/proc/sys/net/ipv6/conf/all/disable_ipv6") != "1\n":
        raise lab.LabError("the restored file (all.disable_ipv6 = 1) was not applied again")
    step("reverted: the user's own one-line file is back as it was, and in effect again")
    lab.guest_run("rm /etc/sysctl.d/99-disable-ipv6.conf && sysctl -w net.ipv6.conf.all.disable_ipv6=0")
    break_ipv6("enp1s0")
    result, transactions = fix(lab.GUEST, "guest-ipv6-unrouted")
    if len(transactions) != 1:
        raise lab.LabError(f"the fix left no transaction to revert: {result}")
    revert(transactions[0])
    if guest_file("/etc/sysctl.d/99-disable-ipv6.conf") is not None:
        raise lab.LabError("revert left 99-disable-ipv6.conf, which did not exist before the fix")
    if guest_file("/proc/sys/net/ipv6/conf/all/disable_ipv6") != "0\n":
        raise lab.LabError("revert did not turn IPv6 back on")
    code, out = lab.guest_run("ip -6 addr show dev enp1s0")
    if "fe80::" not in out:
        raise lab.LabError(f"IPv6 is on again but enp1s0 has no link-local address: {out}")
    step("without a file before: revert removes it and turns IPv6 back on (enp1s0 has its fe80:: again)")


# A filter like RHEL's qemu-guest-agent configuration: the agent answers
# (guest-sync, info, interfaces, OS) but runs no program and opens no file.
RHEL_LIKE_ALLOW_RPCS = ("--allow-rpcs=guest-sync-delimited,guest-sync,guest-ping,guest-get-time,guest-info,"
                        "guest-shutdown,guest-network-get-interfaces,guest-get-host-name,guest-get-osinfo,"
                        "guest-get-timezone,guest-get-users,guest-fsfreeze-status,guest-fstrim")


def restart_agent(*options):
    """Replaces the guest's qemu-ga with one started with OPTIONS (RHEL's
    filter), or with none at all (no OPTIONS: just stopped)."""
    start = ""
    if options:
        start = ("port=$(grep -l org.qemu.guest_agent.0 /sys/class/virtio-ports/*/name); "
                 "port=${port%/name}; setsid qemu-ga --method=virtio-serial --path=/dev/${port##*/} "
                 f"--statedir=/run {' '.join(options)} </dev/null >/dev/null 2>&1 &")
    before = enabled_commands()
    # The agent answers this guest-exec before the child (a second later) ends it.
    lab.agent("guest-exec", {"path": "/bin/sh", "arg": ["-c", f"sleep 1; kill $(pidof qemu-ga); {start}"]})
    if options:
        # The new agent is the one whose enabled commands differ.
        lab.wait_for("the restarted agent", lambda: lab.agent_answers() and enabled_commands() != before, 30)
    else:
        lab.wait_for("the agent to stop", lambda: not lab.agent_answers(), 30)


def enabled_commands():
    """The commands the running agent has enabled (guest-info)."""
    info = lab.agent("guest-info")
    return sorted(c["name"] for c in info.get("supported_commands", []) if c.get("enabled"))


@check("G4-agent-unavailable")
def agent_unavailable():
    """No way in through the agent: verify says which, and prints the
    commands to type in the guest, the interface filled in when known."""
    lab.start_guest()
    lab.expect_network_works()
    restart_agent(RHEL_LIKE_ALLOW_RPCS)
    lab.wait_for("the filtered agent", lab.agent_answers, 20)
    code, events = verify(expect_exit=3)
    unavailable = [e for e in events if e.get("event") == "agent-unavailable"]
    if not unavailable or unavailable[0]["reason"] != "exec-disabled":
        raise lab.LabError(f"verify did not say guest-exec is disabled: {events}")
    commands = {c["step"]: c["command"] for c in unavailable[0]["commands"]}
    if commands.get("address") != "ip -4 addr show dev enp1s0" or \
            commands.get("gateway") != "ping -c 3 192.168.122.1":
        raise lab.LabError(f"the commands do not name enp1s0 and the gateway: {commands}")
    step("agent with a --allow-rpcs filter like RHEL's: exec-disabled (exit 3), commands for enp1s0 and 192.168.122.1")

    # The filtered agent cannot be told to stop: a fresh boot brings the full one.
    lab.restart_guest()
    restart_agent()
    code, events = verify(expect_exit=3)
    unavailable = [e for e in events if e.get("event") == "agent-unavailable"]
    if not unavailable or unavailable[0]["reason"] != "not-running":
        raise lab.LabError(f"verify did not say the agent is not running: {events}")
    step("agent stopped: not-running (exit 3), with the commands")

    lab.virsh("destroy", lab.GUEST)
    xml = open(os.path.join(HERE, "guest.xml"), encoding="utf-8").read().replace(
        '<channel type="unix">\n      <target type="virtio" name="org.qemu.guest_agent.0"/>\n    </channel>', '')
    path = os.path.join(os.environ["LAB_STATE"], "guest-no-agent.xml")
    open(path, "w", encoding="utf-8").write(xml)
    lab.virsh("undefine", lab.GUEST)
    lab.virsh("define", path)
    lab.virsh("start", lab.GUEST)
    code, events = verify(expect_exit=3)
    unavailable = [e for e in events if e.get("event") == "agent-unavailable"]
    commands = {c["step"]: c["command"] for c in unavailable[0]["commands"]} if unavailable else {}
    if not unavailable or unavailable[0]["reason"] != "no-channel" or "ip -o link show" not in commands.get("address", ""):
        raise lab.LabError(f"verify did not say the VM has no agent channel, with the discovery command: {events}")
    step("no agent channel: no-channel (exit 3), the guide's interface discovery command first")


# --- The full Debian 13 guest -------------------------------------------------

DEBIAN = "lab-debian"


def debian_image():
    directory = os.environ.get("LAB_DEBIAN_DIR", "")
    return directory if directory and os.path.exists(os.path.join(directory, "disk.raw")) else None


def start_debian():
    """Copies the Debian image into the lab, serves its APT repository from
    the internet host, and boots it; returns the seconds until its agent answered."""
    directory = debian_image()
    if not directory:
        raise lab.LabError("no Debian 13 guest image: run tests/lab/debian-guest/build.sh $LAB_DEBIAN_DIR")
    shutil.copy(os.path.join(directory, "vmlinuz"), "/var/lib/libvirt/boot/lab-debian-vmlinuz")
    shutil.copy(os.path.join(directory, "initrd.img"), "/var/lib/libvirt/boot/lab-debian-initrd.img")
    os.makedirs("/var/lib/libvirt/images", exist_ok=True)
    lab.sh(f"cp --sparse=always {shlex.quote(os.path.join(directory, 'disk.raw'))} "
           "/var/lib/libvirt/images/lab-debian.raw")
    shutil.copytree(os.path.join(directory, "repo"), os.path.join(os.environ["LAB_STATE"], "www/debian"),
                    dirs_exist_ok=True)
    lab.virsh("define", os.path.join(HERE, "debian-guest/domain.xml"))
    lab.GUEST = DEBIAN
    os.environ["LAB_GUEST_MAC"] = "52:54:00:1a:b0:02"
    started = time.monotonic()
    lab.virsh("start", DEBIAN)
    lab.wait_for("the Debian guest's agent", lab.agent_answers, 300, interval=1)
    return time.monotonic() - started


def ipv6_costs():
    """What broken IPv6 costs the guest's programs: apt-get update's and
    curl's seconds, the address curl reached, and curl -6's exit status
    (7: refused or unreachable at once; 28: no answer within 5 s)."""
    name = os.environ["LAB_WWW_NAME"]
    started = time.monotonic()
    code, out = lab.guest_run("apt-get update -q", timeout=900)
    apt = time.monotonic() - started
    if code != 0:
        raise lab.LabError(f"apt-get update failed ({code}): {out[-1500:]}")
    code, out = lab.guest_run(f"curl -sS -o /dev/null -w '%{{remote_ip}} %{{time_total}}' http://{name}/", timeout=600)
    if code != 0 or len(out.split()) != 2:
        raise lab.LabError(f"curl http://{name}/ failed ({code}): {out}")
    remote, seconds = out.split()
    curl6, _ = lab.guest_run(f"curl -6 -sS -o /dev/null --connect-timeout 5 http://{name}/", timeout=30)
    # Python's socket.create_connection (urllib's, and so pip's way in) tries
    # the addresses one after another, each until its timeout (8 s here).
    code, out = lab.guest_run("python3 -c 'import socket, time; t = time.monotonic(); "
                              f"s = socket.create_connection((\"{name}\", 80), timeout=8); "
                              "print(s.getpeername()[0], time.monotonic() - t)'", timeout=60)
    if code != 0 or len(out.split()) != 2:
        raise lab.LabError(f"Python's create_connection to {name} failed ({code}): {out}")
    python_peer, python_seconds = out.split()
    return {"apt": apt, "curl": float(seconds), "remote": remote, "curl6": curl6,
            "python": float(python_seconds), "python_peer": python_peer}


def expect_ipv6_costs(costs, baseline, curl6):
    """Broken IPv6 costs apt and curl nothing worth noticing on Debian 13:
    both race IPv4 against IPv6 (Happy Eyeballs). curl -6 fails with CURL6."""
    www = os.environ["LAB_WWW"]
    if costs["curl6"] != curl6 or costs["remote"] != www or costs["curl"] > 2 or \
            costs["apt"] > baseline["apt"] + 5:
        raise lab.LabError(f"broken IPv6 is not what the rule's explanation says (baseline {baseline}): {costs}")


def ipv6_words(costs):
    return (f"curl -6 exit {costs['curl6']}; apt-get update {costs['apt']:.1f} s; curl {costs['curl']:.2f} s "
            f"to {costs['remote']}; Python's create_connection {costs['python']:.1f} s to {costs['python_peer']}")


# The guide's kvm-dhcp for the Debian guest's card, as check offers it and
# as the plan runs it when no other profile claims the card.
KVM_DHCP_FIX = {"kind": "create-guest-dhcp-profile", "vm": DEBIAN, "interface": "enp1s0"}
GUIDE_ADD = ["nmcli", "connection", "add", "type", "ethernet", "ifname", "enp1s0", "con-name", "kvm-dhcp",
             "ipv4.method", "auto", "ipv6.method", "ignore"]


@check("D1-debian-guest")
def debian_guest():
    """A Debian 13 guest whose only NetworkManager profile is bound to ens3
    while its card is enp1s0: found, fixed with the guide's kvm-dhcp through
    nmcli, proven with apt update from the lab's repository, broken IPv6
    shown and fixed with ForceIPv4, and every fix reverted. Then no profile
    at all for the card, and a static profile that outranks a DHCP one,
    each found, fixed with kvm-dhcp and reverted."""
    booted = start_debian()
    step(f"the Debian 13 guest booted; its agent answered after {booted:.1f} s")
    code, events = verify(DEBIAN, expect_exit=1)
    guest = guest_event(events)
    if guest["os"].get("id") != "debian" or guest["network"]["stacks"] != ["NetworkManager"]:
        raise lab.LabError(f"not seen as Debian with NetworkManager: {guest['os']} {guest['network']['stacks']}")
    if [f["id"] for f in guest["findings"]] != ["guest-profile-interface-missing"]:
        raise lab.LabError(f"verify does not show the profile bound to ens3: {guest['findings']}")
    expect_steps(events, {"address": "fail", "gateway": "fail"})
    step("verify: Debian GNU/Linux 13, NetworkManager; “Wired connection 1” bound to ens3; "
         "enp1s0 has no IPv4 address, no gateway (exit 1)")
    found = findings(DEBIAN, "guest-profile-interface-missing")
    if not found or found[0]["severity"] != "error" or found[0]["fix"] != KVM_DHCP_FIX:
        raise lab.LabError(f"check --vm does not offer kvm-dhcp for enp1s0: {found}")
    step("check --vm: guest-profile-interface-missing (error) with the fix kvm-dhcp for enp1s0")

    result, transactions = fix(DEBIAN, "guest-profile-interface-missing")
    argvs = [s.get("argv") for s in result["results"][0]["plan"]["steps"]]
    if argvs[0] != GUIDE_ADD or result["results"][0]["status"] != "fixed":
        raise lab.LabError(f"the plan is not the guide's nmcli command, or it did not fix it: {result}")
    profile_transaction = transactions[0]
    step(f"fix: the guide's nmcli commands through guest-exec, finding gone ({profile_transaction})")
    started = time.monotonic()
    code, events = verify(DEBIAN, expect_exit=0)
    found = expect_steps(events, {"address": "pass", "gateway": "pass", "ping": "pass", "dns": "pass",
                                  "http": "pass", "packages": "pass"})
    step(f"verify passes, apt-get update from the lab's repository in {found['packages']['seconds']:.1f} s "
         f"(whole checklist {time.monotonic() - started:.1f} s)")

    baseline = ipv6_costs()
    step(f"IPv4 only: {ipv6_words(baseline)}")
    break_ipv6("enp1s0")
    unreachable = ipv6_costs()
    expect_ipv6_costs(unreachable, baseline, curl6=7)
    step(f"IPv6 route to a next hop that does not answer: {ipv6_words(unreachable)}")
    # The same route to a host that takes the packets and drops them without
    # a word (the lab host's bridge, IPv6 turned on, answers for fe80::1; the
    # host forwards no IPv6): a black hole, as behind a router that filters.
    lab.sh("sysctl -q -w net.ipv6.conf.virbr0.disable_ipv6=0 && ip -6 addr add fe80::1/64 dev virbr0 nodad")
    if lab.sh("sysctl -n net.ipv6.conf.all.forwarding").strip() != "0":
        raise lab.LabError("the lab host forwards IPv6: no black hole")
    blackhole = ipv6_costs()
    expect_ipv6_costs(blackhole, baseline, curl6=28)
    # A program that tries one address after another waits out the IPv6 attempt.
    if blackhole["python"] < 8 or blackhole["python_peer"] != os.environ["LAB_WWW"]:
        raise lab.LabError(f"Python's create_connection did not wait for IPv6 before IPv4: {blackhole}")
    step(f"IPv6 into a black hole: {ipv6_words(blackhole)}")
    started = time.monotonic()
    code, events = verify(DEBIAN)
    found = steps_of(events)["packages"]
    step(f"broken IPv6: verify's apt-get update {found['status']} in {found['seconds']:.1f} s ({found['detail']})")
    if not findings(DEBIAN, "guest-ipv6-unrouted"):
        raise lab.LabError("check --vm does not report guest-ipv6-unrouted")
    result, transactions = fix(DEBIAN, "--alternative", "guest-ipv6-unrouted")
    code, events = verify(DEBIAN, expect_exit=0)
    found = steps_of(events)["packages"]
    step(f"fix --alternative (APT ForceIPv4): apt-get update passes in {found['seconds']:.1f} s")
    revert(transactions[0])
    if guest_file("/etc/apt/apt.conf.d/99force-ipv4") is not None:
        raise lab.LabError("revert left 99force-ipv4")
    result, transactions = fix(DEBIAN, "guest-ipv6-unrouted")
    if guest_file("/proc/sys/net/ipv6/conf/all/disable_ipv6") != "1\n":
        raise lab.LabError("IPv6 is not off after the sysctl fix")
    revert(transactions[0])
    if guest_file("/proc/sys/net/ipv6/conf/all/disable_ipv6") != "0\n" or \
            guest_file("/etc/sysctl.d/99-disable-ipv6.conf") is not None:
        raise lab.LabError("the sysctl fix's revert left IPv6 off or the file in place")
    step("ForceIPv4 reverted (file removed); sysctl fix applied and reverted (IPv6 on, file removed)")

    revert(profile_transaction)
    code, out = lab.guest_run("nmcli -t -f NAME connection show")
    if "kvm-dhcp" in out:
        raise lab.LabError(f"kvm-dhcp is still there after the revert: {out}")
    lab.wait_for("enp1s0 to lose its address",
                 lambda: not lab.guest_interface(os.environ["LAB_GUEST_MAC"])[1], 30)
    if not findings(DEBIAN, "guest-profile-interface-missing"):
        raise lab.LabError("after removing kvm-dhcp check --vm does not report the stale profile again")
    step("kvm-dhcp reverted (nmcli connection delete): enp1s0 has no address, the finding is back")
    no_profile_for_the_card()
    static_profile_outranked()


def card_addresses():
    return lab.guest_interface(os.environ["LAB_GUEST_MAC"])[1]


def active_profile():
    """The profile NetworkManager has active on enp1s0."""
    out = guest_must("nmcli -t -f NAME,DEVICE connection show --active")
    return next((line.rsplit(":", 1)[0] for line in out.splitlines() if line.endswith(":enp1s0")), None)


def expect_internet():
    name = os.environ["LAB_WWW_NAME"]
    code, out = lab.guest_run(f"curl -sS --max-time 10 http://{name}/", timeout=20)
    if code != 0 or "the internet answers" not in out:
        raise lab.LabError(f"the guest does not reach http://{name}/ ({code}): {out.strip()}")


def no_profile_for_the_card():
    """#19 item 9: no profile at all for the card (the image's stale one
    deleted, NetworkManager makes no automatic one): found, fixed with
    kvm-dhcp, reverted."""
    guest_must("nmcli connection delete 'Wired connection 1'")
    found = findings(DEBIAN, "guest-interface-no-profile")
    if not found or found[0]["severity"] != "error" or found[0]["fix"] != KVM_DHCP_FIX:
        raise lab.LabError(f"with no profile check --vm does not offer kvm-dhcp: {found}")
    if findings(DEBIAN, "guest-profile-interface-missing"):
        raise lab.LabError("no profile is left, yet check --vm reports a stale one")
    step("“Wired connection 1” deleted, none left for enp1s0: check --vm reports guest-interface-no-profile "
         "(error) with kvm-dhcp")
    result, transactions = fix(DEBIAN, "guest-interface-no-profile")
    argvs = [s.get("argv") for s in result["results"][0]["plan"]["steps"]]
    if argvs[0] != GUIDE_ADD:
        raise lab.LabError(f"with nothing to outrank the plan is not the guide's command: {argvs}")
    lab.wait_for("a lease on enp1s0", lambda: any(a.startswith("192.168.122.") for a in card_addresses()), 60)
    expect_internet()
    if findings(DEBIAN, "guest-interface-no-profile"):
        raise lab.LabError("after kvm-dhcp check --vm still reports guest-interface-no-profile")
    revert(transactions[0])
    lab.wait_for("enp1s0 to lose its address", lambda: not card_addresses(), 30)
    if not findings(DEBIAN, "guest-interface-no-profile"):
        raise lab.LabError("after the revert check --vm does not report guest-interface-no-profile again")
    step("fixed with the guide's command: a lease and the internet host's page; reverted: no address, "
         "the finding is back")


def static_profile_outranked():
    """#19 item 9: a static profile for another network that
    NetworkManager picks over a DHCP profile (higher autoconnect priority):
    the address and the gateway found with kvm-dhcp as the fix, ranked
    above it, so NetworkManager's own choice at the next boot is kvm-dhcp;
    the revert brings the static profile back."""
    guest_must("nmcli connection add type ethernet ifname enp1s0 con-name 'Wired connection 2' "
               "ipv4.method auto ipv6.method ignore")
    guest_must("nmcli connection add type ethernet ifname enp1s0 con-name office connection.autoconnect-priority 10 "
               "ipv4.method manual ipv4.addresses 192.168.1.50/24 ipv4.gateway 192.168.1.1 ipv6.method ignore")
    # Up, as NetworkManager brings it up at boot (its priority is higher).
    guest_must("nmcli -w 30 connection up office", timeout=90)
    if active_profile() != "office" or card_addresses() != ["192.168.1.50"]:
        raise lab.LabError(f"“office” is not up: {active_profile()} {card_addresses()}")
    report = check_vm(DEBIAN)
    for finding_id in ("guest-address-outside-subnet", "guest-gateway-wrong"):
        found = [f for f in report["findings"] if f["id"] == finding_id]
        if not found or found[0]["fix"] != KVM_DHCP_FIX or "“office”" not in found[0]["explanation"]:
            raise lab.LabError(f"check --vm does not name “office” with kvm-dhcp for {finding_id}: {found}")
    step("“office” (192.168.1.50/24 via 192.168.1.1, priority 10, above “Wired connection 2”) up: check --vm "
         "reports guest-address-outside-subnet and guest-gateway-wrong, both fixed by kvm-dhcp")
    result, transactions = fix(DEBIAN, "guest-address-outside-subnet")
    argvs = [s.get("argv") for s in result["results"][0]["plan"]["steps"]]
    if argvs[0] != GUIDE_ADD + ["connection.autoconnect-priority", "11"]:
        raise lab.LabError(f"kvm-dhcp is not ranked above “office”: {argvs}")
    lab.wait_for("a lease on enp1s0", lambda: card_addresses() and
                 all(a.startswith("192.168.122.") for a in card_addresses()), 60)
    expect_internet()
    step("fixed (kvm-dhcp, priority 11): a lease and the internet host's page")
    # The next boot: NetworkManager picks among the three by priority. The
    # profiles on disk first (a power-off loses what is not), as a shutdown does.
    guest_must("sync")
    lab.virsh("destroy", DEBIAN)
    lab.wait_for("the guest to stop", lambda: lab.virsh("domstate", DEBIAN).strip() == "shut off", 60)
    started = time.monotonic()
    lab.virsh("start", DEBIAN)
    lab.wait_for("the Debian guest's agent", lab.agent_answers, 300, interval=1)
    lab.wait_for("an IPv4 address on enp1s0 after the boot", card_addresses, 120)
    if active_profile() != "kvm-dhcp" or not all(a.startswith("192.168.122.") for a in card_addresses()):
        raise lab.LabError(f"after a boot NetworkManager brought up {active_profile()} "
                           f"({' '.join(card_addresses())}), not kvm-dhcp")
    expect_internet()
    report = check_vm(DEBIAN)
    left = sorted({f["id"] for f in report["findings"] if f["severity"] == "error"})
    if left:
        raise lab.LabError(f"after kvm-dhcp check --vm still reports errors: {left}")
    step(f"booted again ({time.monotonic() - started:.0f} s): NetworkManager brings up kvm-dhcp, not “office”; "
         "the internet host's page loads; check --vm has no error")
    revert(transactions[0])
    lab.wait_for("“office” back on enp1s0", lambda: card_addresses() == ["192.168.1.50"], 60)
    if not findings(DEBIAN, "guest-address-outside-subnet"):
        raise lab.LabError("after the revert check --vm does not report the static address again")
    step("reverted (kvm-dhcp deleted): NetworkManager brings “office” back, the finding is back")


# --- The helper as installed, in the full Debian 13 guest -----------------------

HELPER_BUS = ("io.github.vmnetdoctor.Helper1", "/io/github/vmnetdoctor/Helper1", "io.github.vmnetdoctor.Helper1")
HELPER_UNIT = "vmnet-doctor-helper.service"
SYSCTL_FILE = "/etc/sysctl.d/90-vmnet-doctor.conf"
# Outcome on the wire (crates/helper-api/src/types.rs: a unit enum is its index).
APPLIED, REVERTED = 0, 4
# The guest's own libvirt network: its subnet is the guest's, not the lab's.
INNER_NETWORK = """<network>
  <name>inner</name>
  <forward mode="nat"/>
  <bridge name="virbr0"/>
  <ip address="192.168.150.1" netmask="255.255.255.0">
    <dhcp><range start="192.168.150.10" end="192.168.150.50"/></dhcp>
  </ip>
</network>
"""
# What an administrator writes to let one user apply the helper's fixes
# without a password (polkit's JavaScript rules).
ALLOW_ALICE = """polkit.addRule(function(action, subject) {
    if (action.id.indexOf("io.github.vmnetdoctor.") == 0 && subject.user == "alice") {
        return polkit.Result.YES;
    }
});
"""


def guest_must(command, timeout=60):
    code, out = lab.guest_run(command, timeout=timeout)
    if code != 0:
        raise lab.LabError(f"in the guest, `{command}` failed ({code}): {out.strip()[-1500:]}")
    return out


def guest_write(path, text):
    guest_must(f"printf %s {shlex.quote(text)} >{shlex.quote(path)}")


# A fix runs UFW's commands one by one in a guest that QEMU emulates
# (TCG): beside two CPU hogs and the rest of the suite one Apply took over
# 100 s (#18: timeouts generous enough for a loaded two-core machine).
BUSCTL_TIMEOUT_S = 600


def helper_call(user, method, signature="", *arguments, timeout=BUSCTL_TIMEOUT_S + 60):
    """A call to the installed helper with busctl, as USER of the guest:
    (exit code, busctl's JSON reply or its error message)."""
    argv = ["runuser", "-u", user, "--", "busctl", "--system", "--json=short", f"--timeout={BUSCTL_TIMEOUT_S}",
            "call", *HELPER_BUS, method]
    if signature:
        argv += [signature, *arguments]
    code, out = lab.guest_run(" ".join(shlex.quote(a) for a in argv), timeout=timeout)
    if code != 0:
        return code, out.strip()
    try:
        return 0, json.loads(out)["data"]
    except (ValueError, KeyError) as error:
        raise lab.LabError(f"busctl's reply to {method} is not JSON: {out!r}") from error


def helper_must(user, method, signature="", *arguments):
    code, reply = helper_call(user, method, signature, *arguments)
    if code != 0:
        raise lab.LabError(f"{method} as {user} failed: {reply}")
    return reply


def plan_and_apply(user, fix, args):
    """Plan then Apply FIX (wire name, {arg: value}) as USER; the transaction."""
    wire = ["(sa{ss})", fix, str(len(args))] + [x for pair in sorted(args.items()) for x in pair]
    plan_id, _summary, steps = helper_must(user, "Plan", *wire)[0]
    if not steps:
        raise lab.LabError(f"Plan {fix} has no steps on the guest")
    transaction, outcome, ran, rollback = helper_must(user, "Apply", wire[0] + "s", *wire[1:], plan_id)[0]
    if outcome != APPLIED or not transaction or rollback or any(status != 0 for _, status, _ in ran):
        raise lab.LabError(f"Apply {fix} as {user}: outcome {outcome}, steps {ran}, rollback {rollback}")
    return transaction


def revert_as(user, transaction):
    _, outcome, ran, _ = helper_must(user, "Revert", "s", transaction)[0]
    if outcome != REVERTED:
        raise lab.LabError(f"Revert {transaction} as {user}: outcome {outcome}, steps {ran}")


def helper_unit_state():
    out = guest_must(f"systemctl show {HELPER_UNIT} -p ActiveState -p MainPID")
    return dict(line.split("=", 1) for line in out.split())


def ufw_rules():
    return [line for line in guest_must("ufw status").splitlines() if "virbr0" in line]


@check("D2-helper-as-installed")
def helper_as_installed():
    """The helper as a user installs it, in the full Debian 13 guest
    (systemd as PID 1, polkitd, UFW, libvirt's network driver): its .deb
    from an APT repository; started by D-Bus activation through its
    hardened unit; the UFW and forwarding fixes applied and reverted
    through it by a user a polkit rule allows, refused for one it does not."""
    deb = os.environ.get("LAB_HELPER_DEB")
    if not deb:
        raise lab.LabError("no helper .deb (LAB_HELPER_DEB; tests/packaging/check-deb.sh _build --keep target/packages)")
    booted = start_debian()
    step(f"the Debian 13 guest booted; its agent answered after {booted:.1f} s")
    # The guest's stale profile is D1's subject; here it only needs a network.
    guest_must("nmcli connection add type ethernet ifname enp1s0 con-name lab ipv4.method auto "
               "ipv6.method ignore && nmcli connection up lab", timeout=90)
    repo = os.path.join(os.environ["LAB_STATE"], "www/vmnet-doctor")
    debs = os.path.join(os.environ["LAB_STATE"], "helper-debs")
    os.makedirs(debs, exist_ok=True)
    shutil.copy(deb, debs)
    lab.sh(f"python3 {shlex.quote(os.path.join(HERE, 'debian-guest/make-repo.py'))} "
           f"{shlex.quote(debs)} {shlex.quote(repo)}")
    guest_write("/etc/apt/sources.list.d/vmnet-doctor.list",
                f"deb [trusted=yes] http://{os.environ['LAB_WWW_NAME']}/vmnet-doctor ./\n")
    guest_must("useradd --create-home alice && useradd --create-home bob")
    guest_write("/etc/polkit-1/rules.d/60-vmnet-doctor-lab.rules", ALLOW_ALICE)
    started = time.monotonic()
    guest_must("apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -q -y vmnet-doctor-helper",
               timeout=300)
    version = guest_must("dpkg-query -W -f '${Version}' vmnet-doctor-helper")
    state = helper_unit_state()
    if state.get("ActiveState") != "inactive":
        raise lab.LabError(f"the helper runs right after the install, before anyone called it: {state}")
    step(f"apt-get install vmnet-doctor-helper {version} from the lab's repository in "
         f"{time.monotonic() - started:.1f} s; its unit is inactive until called")

    guest_must("systemctl start libvirtd.service", timeout=60)
    guest_write("/tmp/inner.xml", INNER_NETWORK)
    guest_must("virsh -q -c network:///system net-define /tmp/inner.xml && "
               "virsh -q -c network:///system net-start inner", timeout=60)
    # Something turned forwarding off after libvirt turned it on (the
    # guide's S5); UFW enabled with its default routed policy (S3).
    guest_must("sysctl -q -w net.ipv4.ip_forward=0 && ufw --force enable", timeout=60)
    step("libvirt's network “inner” on virbr0 started in the guest; forwarding off, UFW enabled")

    code, denied = helper_call("bob", "Plan", "(sa{ss})", "enable-ipv4-forwarding", "0")
    if code == 0:
        raise lab.LabError(f"bob, whom no rule allows, got a plan: {denied}")
    state = helper_unit_state()
    owner = lab.guest_run("busctl --system --json=short call org.freedesktop.DBus /org/freedesktop/DBus "
                          f"org.freedesktop.DBus GetConnectionUnixProcessID s {HELPER_BUS[0]}")[1]
    if state.get("ActiveState") != "active" or json.loads(owner)["data"] != [int(state["MainPID"])]:
        raise lab.LabError(f"the helper that answered is not the unit's main process: {state} {owner}")
    # The unit's tmpfiles.d entry (ExecStartPre=) made the helper's sysctl
    # file, which the unit lets it write, as a comment that sets nothing.
    sysctl_before = guest_file(SYSCTL_FILE)
    if sysctl_before is None or any(line and not line.startswith("#") for line in sysctl_before.splitlines()):
        raise lab.LabError(f"{SYSCTL_FILE} is not the comment its tmpfiles.d entry writes: {sysctl_before!r}")
    step(f"D-Bus activation started {HELPER_UNIT} (PID {state['MainPID']}, the bus name's owner); "
         f"bob refused: {denied}")

    forwarding = plan_and_apply("alice", "enable-ipv4-forwarding", {})
    settings = [line for line in (guest_file(SYSCTL_FILE) or "").splitlines() if not line.startswith("#")]
    if guest_file("/proc/sys/net/ipv4/ip_forward") != "1\n" or settings != ["net.ipv4.ip_forward = 1"]:
        raise lab.LabError(f"after the forwarding fix: ip_forward {guest_file('/proc/sys/net/ipv4/ip_forward')!r}, "
                           f"{SYSCTL_FILE} {guest_file(SYSCTL_FILE)!r}")
    step(f"alice: enable-ipv4-forwarding applied through the unit; ip_forward 1, {SYSCTL_FILE} written")
    ufw = plan_and_apply("alice", "ufw-allow-bridge", {"bridge": "virbr0", "uplink": "enp1s0"})
    # The guide's three rules, each for IPv4 and IPv6, with the helper's comment.
    rules = ufw_rules()
    actions = sorted(re.search(r"ALLOW( OUT| FWD)?", rule).group(0) for rule in rules if "ALLOW" in rule)
    if actions != sorted(["ALLOW", "ALLOW OUT", "ALLOW FWD"] * 2) or \
            not all(rule.endswith("# vmnet-doctor") for rule in rules):
        raise lab.LabError(f"after the UFW fix `ufw status` has not the guide's three rules on virbr0: {rules}")
    step(f"alice: ufw-allow-bridge applied: {len(rules)} rules on virbr0 in `ufw status` (in, out, routed; v4, v6)")

    code, denied = helper_call("bob", "Revert", "s", ufw)
    if code == 0 or ufw_rules() != rules:
        raise lab.LabError(f"bob could revert alice's UFW fix: {denied} {ufw_rules()}")
    revert_as("alice", ufw)
    if ufw_rules():
        raise lab.LabError(f"UFW's rules on virbr0 are still there after the revert: {ufw_rules()}")
    revert_as("alice", forwarding)
    if guest_file("/proc/sys/net/ipv4/ip_forward") != "0\n" or guest_file(SYSCTL_FILE) != sysctl_before:
        raise lab.LabError(f"after the revert: ip_forward {guest_file('/proc/sys/net/ipv4/ip_forward')!r}, "
                           f"{SYSCTL_FILE} {guest_file(SYSCTL_FILE)!r} (before: {sysctl_before!r})")
    step("bob could not revert; alice reverted both: no rules on virbr0, ip_forward 0, the sysctl file as before")

    audit = guest_must(f"journalctl -q -o cat -u {HELPER_UNIT}")
    denials = [line for line in audit.splitlines() if "denied" in line]
    if len(denials) < 2:
        raise lab.LabError(f"the helper's audit lines in the journal do not show bob's two refusals: {audit[-2000:]}")
    exposure = guest_must(f"systemd-analyze security --no-pager {HELPER_UNIT} | tail -n 1")
    step(f"the journal has the audit lines ({len(denials)} denials); systemd-analyze security: {exposure.strip()}")


def inside(name):
    print(f"  {name}", flush=True)
    try:
        CHECKS[name]()
    except (lab.LabError, subprocess.TimeoutExpired) as error:
        print(f"  FAILED {name}: {error}", flush=True)
        subprocess.run(["bash", "-c", "tail -n 15 /var/log/libvirt/qemu/lab-*-console.log 2>/dev/null"],
                       check=False)
        return 1
    return 0


def main(args):
    if args[:1] == ["--list"]:
        print("\n".join(CHECKS))
        return 0
    if args[:1] == ["--inside"]:
        return inside(args[1])
    if args[:1] == ["--debian"]:
        names = [name for name in CHECKS if name in DEBIAN_CHECKS]
    else:
        names = args or [name for name in CHECKS if name not in DEBIAN_CHECKS]
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        print(f"unknown check(s): {', '.join(unknown)}; --list names them", file=sys.stderr)
        return 2
    timings = []
    started_all = time.monotonic()
    for name in names:
        started = time.monotonic()
        status = subprocess.run([os.path.join(HERE, "lab.sh"), "python3", os.path.abspath(__file__),
                                 "--inside", name]).returncode
        timings.append((name, time.monotonic() - started, status))
    print("\n  Guest check times")
    for name, seconds, status in timings:
        print(f"    {name:34} {seconds:6.1f} s  {'ok' if status == 0 else 'FAILED'}")
    print(f"    {'total':34} {time.monotonic() - started_all:6.1f} s")
    return 1 if any(status != 0 for _, _, status in timings) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
