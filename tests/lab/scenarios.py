#!/usr/bin/env python3
"""The lab's scenarios (issue: the lab). Each one breaks the lab host for
real, shows the break from inside the guest (negative control), asserts
that `vmnet-doctor check` names it, fixes it through the app's own paths
(libvirt's API, or the helper over D-Bus with polkit), proves the fix from
inside the guest, asserts that check is clean and, for helper fixes,
reverts and shows the guest broken again.

    scenarios.py [--jobs N] [NAME…]  each scenario in a fresh lab (tests/lab/lab.sh),
                                     N labs at once (each its own namespaces)
    scenarios.py --list
    scenarios.py --inside NAME    (what lab.sh runs)
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

import labkit as lab

SCENARIOS = {}


def scenario(name):
    def register(function):
        SCENARIOS[name] = function
        return function
    return register


STARTED = time.monotonic()


def step(text):
    print(f"    {time.monotonic() - STARTED:5.1f} s  {text}", flush=True)


def state_file(name, text):
    """TEXT written to NAME in the lab's state directory; its path."""
    path = os.path.join(os.environ["LAB_STATE"], name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def define_guest(edit):
    """Redefines the guest from tests/lab/guest.xml changed by EDIT(xml)."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "guest.xml"), encoding="utf-8") as file:
        xml = edit(file.read())
    path = state_file("guest-edited.xml", xml)
    # The user's own libvirt (S4c) starts without it.
    if lab.virsh("list", "--all", "--name").split().count(lab.GUEST):
        lab.virsh("undefine", lab.GUEST)
    lab.virsh("define", path)


def restart_libvirtd():
    """As a host's init system would after network.conf changed."""
    lab.sh("kill $(cat /run/libvirtd.pid)")
    lab.wait_for("libvirtd to stop", lambda: lab.sh("pgrep -x libvirtd", check=False) == "", 60)
    lab.sh("start_libvirtd")


def set_firewall_backend(backend):
    lab.sh(f"sed -i '/^firewall_backend/d' /etc/libvirt/network.conf && "
           f"echo 'firewall_backend = \"{backend}\"' >>/etc/libvirt/network.conf")
    restart_libvirtd()


def helper_transactions(result):
    """The helper transaction ids in `fix --json`'s result."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("transaction", "transaction_id", "transaction-id") and isinstance(item, str):
                    if item not in found:
                        found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(result)
    return found


def revert_all(result, in_sandbox):
    """Reverts the helper transactions of `fix --json`'s RESULT, last first;
    their ids."""
    transactions = helper_transactions(result)
    if not transactions:
        raise lab.LabError(f"the fix returned no helper transaction to revert: {result}")
    for transaction in reversed(transactions):
        lab.revert(transaction, in_sandbox=in_sandbox)
    return transactions


def fix_prove_revert(*finding_ids, broken_step="http", in_sandbox=False, broken_state=None):
    where = f"from {lab.SANDBOX}" if in_sandbox else "as the desktop user"
    step(f"fix {' '.join(finding_ids)} through the helper, {where}")
    applied_before = len(lab.helper_applies_by(lab.ENV["LAB_UID"]))
    result = lab.fix(*finding_ids, in_sandbox=in_sandbox)
    if len(lab.helper_applies_by(lab.ENV["LAB_UID"])) <= applied_before:
        raise lab.LabError(f"the helper logged no Apply from uid {lab.ENV['LAB_UID']} for {finding_ids}")
    lab.expect_network_works()
    step("the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step("check is clean")
    transactions = revert_all(result, in_sandbox)
    lab.expect_network_broken(broken_step)
    if broken_state is not None:
        broken_state()
    step(f"reverted ({', '.join(transactions)}): {broken_step} fails in the guest again")


@scenario("S0-healthy")
def healthy():
    """The lab as set up: the guest's network works and check is clean."""
    lab.start_guest()
    lab.expect_network_works()
    step("the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step(f"check is clean, and the same in {lab.SANDBOX}, which sees the host through the helper's InspectHost")
    # Without the helper (no system bus in the sandbox), the host is not
    # called healthy: it is "not checked", with the command that installs it.
    done = lab.sandboxed([lab.ENV["LAB_DOCTOR"], "check", "--connect", lab.ENV["LAB_URI"], "--json"], system_bus=False)
    host = lab.parse_report(done, " in the sandbox without the helper")["host"]
    command = "sudo apt install vmnet-doctor-helper"  # the lab's os-release is Debian 13's
    if host.get("checked") is not False or command not in host.get("reason", ""):
        raise lab.LabError(f"without the helper the sandboxed check says of the host: {host}")
    step(f"without the helper the sandbox says the host was not checked: {host['reason']}")


@scenario("S1-default-missing")
def default_missing():
    lab.virsh("net-destroy", "default")
    lab.virsh("net-undefine", "default")
    started = subprocess.run(["virsh", "start", lab.GUEST], capture_output=True, text=True)
    if started.returncode == 0:
        raise lab.LabError("the guest started without its network")
    step(f"the guest cannot start: {started.stderr.strip()}")
    lab.expect_finding("default-network-missing")
    step("check reports default-network-missing")
    lab.fix("default-network-missing", in_sandbox=True)
    lab.start_guest()
    lab.expect_network_works()
    step(f"fixed through libvirt from {lab.SANDBOX}; the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step("check is clean")


@scenario("S2-default-inactive")
def default_inactive():
    lab.virsh("net-destroy", "default")
    lab.virsh("net-autostart", "default", "--disable")
    started = subprocess.run(["virsh", "start", lab.GUEST], capture_output=True, text=True)
    if started.returncode == 0:
        raise lab.LabError("the guest started on an inactive network")
    step(f"the guest cannot start: {started.stderr.strip()}")
    lab.expect_finding("network-inactive")
    lab.expect_finding("network-not-autostarted")
    step("check reports network-inactive and network-not-autostarted")
    lab.fix("network-inactive", "network-not-autostarted")
    lab.start_guest()
    lab.expect_network_works()
    step("fixed through libvirt; the guest's network works")
    if lab.virsh("net-info", "default").find("Autostart:      yes") < 0:
        raise lab.LabError("default is not autostarted after the fix")
    lab.expect_clean()
    step("check is clean")


@scenario("S2b-subnet-collision")
def subnet_collision():
    """A VPN that routes the guide's subnet through its own device: libvirt
    refuses to start `default`, check names the route, and the fix moves
    the network to a free /24 (renumbered, then started); the guest gets
    its lease there and its network works."""
    lab.virsh("net-destroy", "default")
    lab.sh("ip link add tun0 type veth peer name tun0-peer && ip link set tun0 up && "
           "ip link set tun0-peer up && ip route add 192.168.122.0/24 dev tun0")
    refused = subprocess.run(["virsh", "net-start", "default"], capture_output=True, text=True)
    if refused.returncode == 0 or "already in use by interface tun0" not in refused.stderr:
        raise lab.LabError(f"libvirt started default beside a route for its subnet: {refused.stderr.strip()}")
    step(f"a route for 192.168.122.0/24 through tun0: {refused.stderr.strip()}")
    report = lab.expect_finding("network-subnet-collision")
    finding = next(f for f in report["findings"] if f["id"] == "network-subnet-collision")
    if finding.get("fix", {}).get("to") != "192.168.123.0":
        raise lab.LabError(f"the fix does not move default to 192.168.123.0/24: {finding.get('fix')}")
    step("check reports network-subnet-collision, its fix moving default to 192.168.123.0/24")
    lab.fix("network-subnet-collision", in_sandbox=True)
    defined = lab.virsh("net-dumpxml", "default")
    if "192.168.123.1" not in defined or "192.168.122." in defined:
        raise lab.LabError(f"default was not renumbered: {defined}")
    step(f"fixed through libvirt from {lab.SANDBOX}: default renumbered to 192.168.123.0/24 and started")
    lab.start_guest()
    lab.expect_network_works(subnet_prefix="192.168.123.")
    step("the guest's lease (192.168.123.x), DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step("check is clean")


def redefine_default(edit):
    """`default` stopped, redefined from its XML changed by EDIT(xml), started."""
    path = state_file("default-edited.xml", edit(lab.virsh("net-dumpxml", "--inactive", "default")))
    lab.virsh("net-destroy", "default")
    lab.virsh("net-define", path)
    lab.virsh("net-start", "default")


@scenario("S2c-dhcp-range-exhausted")
def dhcp_range_exhausted():
    """A DHCP range of one address, taken by another client on virbr0 (a
    namespace of the lab's own with busybox's udhcpc): the guest gets no
    lease, check counts the leases against the range and says so; the
    range widened as the finding says, the guest gets its lease."""
    full = "<range start='192.168.122.2' end='192.168.122.254'/>"
    one = "<range start='192.168.122.2' end='192.168.122.2'/>"
    redefine_default(lambda xml: xml.replace(full, one))
    lab.sh("ip netns add client && ip link add vclient type veth peer name eth0 netns client && "
           "ip link set vclient master virbr0 && ip link set vclient up && "
           "nsenter --net=/run/netns/client ip link set eth0 up && "
           "nsenter --net=/run/netns/client busybox udhcpc -i eth0 -n -q -t 10 -s /bin/true")
    lab.wait_for("the other client's lease", lambda: "192.168.122.2/" in lab.virsh("net-dhcp-leases", "default"), 30)
    step("default's range is 192.168.122.2 alone, leased to another client on virbr0")
    lab.start_guest()
    lab.expect_network_broken("lease")
    step("the guest gets no lease")
    report = lab.expect_finding("dhcp-range-exhausted")
    finding = next(f for f in report["findings"] if f["id"] == "dhcp-range-exhausted")
    if finding["severity"] != "error" or "1 of 1" not in json_text(finding["evidence"]):
        raise lab.LabError(f"dhcp-range-exhausted is not the error it should be: {finding}")
    step("check reports dhcp-range-exhausted (1 of 1 leased, the guest's card without an address): an error")
    lab.virsh("net-update", "default", "delete", "ip-dhcp-range", one, "--live", "--config")
    lab.virsh("net-update", "default", "add", "ip-dhcp-range", full, "--live", "--config")
    step("the range widened as the finding says (virsh net-update … ip-dhcp-range)")
    lab.expect_network_works()
    step("the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step("check is clean")


def guest_static_ipv4(interface, address, gateway):
    """What a user typing in a static address does inside the guest: its
    DHCP client stopped, ADDRESS (with its prefix) the only IPv4 address on
    INTERFACE and the default route through GATEWAY."""
    code, out = lab.guest_run(f"kill $(pidof udhcpc); ip -4 addr flush dev {interface} && "
                              f"ip addr add {address} dev {interface} && "
                              f"ip route replace default via {gateway} dev {interface}")
    if code != 0:
        raise lab.LabError(f"could not give the guest's {interface} the static {address} via {gateway}: {out}")


def expect_internet_unreachable():
    """Negative control: the internet host's page does not load in the guest
    (by address: the guest's resolver is as unreachable as the rest)."""
    code, out = lab.guest_run(f"wget -q -O - -T 4 http://{lab.ENV['LAB_WWW']}/", timeout=10)
    if code == 0:
        raise lab.LabError(f"the guest still reaches the internet host: {out.strip()}")


def expect_errors(report, wanted, vm):
    """WANTED are exactly the errors that check --vm VM reports."""
    errors = sorted({f["id"] for f in report["findings"] if f["severity"] == "error"})
    if errors != sorted(wanted):
        raise lab.LabError(f"check --vm {vm} reports the errors {errors}, not {sorted(wanted)}: "
                           f"{json_text(report['findings'])}")


@scenario("S2d-guest-static-address")
def guest_static_address():
    """Static settings typed in inside the guest for another network: first
    the LAN's address and router (192.168.1.50/24 via 192.168.1.1), then
    the guest's own address in the subnet with a router that does not
    exist there. check --vm finds each from the agent's addresses and the
    inspected guest's routes; the card switched back to DHCP, as the
    findings say, the guest's network works and check is clean."""
    lab.start_guest()
    lab.expect_network_works()
    name, leased = lab.guest_interface(os.environ["LAB_GUEST_MAC"])
    guest_static_ipv4(name, "192.168.1.50/24", "192.168.1.1")
    expect_internet_unreachable()
    step(f"the guest's {name} set by hand to 192.168.1.50/24 via 192.168.1.1: the internet host does not answer")
    report = lab.check(vm=lab.GUEST)
    expect_errors(report, ["guest-address-outside-subnet", "guest-gateway-wrong"], lab.GUEST)
    evidence = json_text([f["evidence"] for f in report["findings"]])
    if "192.168.1.50/24" not in evidence or f"default via 192.168.1.1 dev {name}" not in evidence:
        raise lab.LabError(f"the findings do not show the guest's address and route: {evidence}")
    step("check --vm reports guest-address-outside-subnet (192.168.1.50/24) and guest-gateway-wrong "
         f"(default via 192.168.1.1 dev {name})")
    address = next(a for a in leased if a.startswith("192.168.122."))
    guest_static_ipv4(name, f"{address}/24", "192.168.122.254")
    expect_internet_unreachable()
    step(f"{name} set by hand to its own {address}/24 via 192.168.122.254: the internet host does not answer")
    report = lab.check(vm=lab.GUEST)
    expect_errors(report, ["guest-gateway-wrong"], lab.GUEST)
    step("check --vm reports guest-gateway-wrong alone: the address is in the subnet")
    code, out = lab.guest_run(f"udhcpc -b -i {name} -s /etc/udhcpc.script -t 3 -T 2 -A 2 -x hostname:lab-guest")
    if code != 0:
        raise lab.LabError(f"the guest's DHCP client did not start again: {out}")
    lab.expect_network_works()
    step(f"{name} back on DHCP, as the findings say: the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean(vm=lab.GUEST)
    step("check --vm is clean")


# A resolver on every address, as BIND or a second dnsmasq without
# bind-interfaces holds them: UDP and TCP port 53 on 0.0.0.0.
PORT_53_HOLDER = """
import socket, sys, time
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", 53))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("0.0.0.0", 53))
tcp.listen()
print("bound", flush=True)
time.sleep(3600)
"""


@scenario("S2e-dnsmasq-port-taken")
def dnsmasq_port_taken():
    """Another program on 0.0.0.0:53: libvirt's dnsmasq cannot bind, the
    network does not start; check names the program (through the helper,
    which sees every process); with it gone the network starts and the
    guest's network works."""
    lab.virsh("net-destroy", "default")
    holder = subprocess.Popen(["python3", "-c", PORT_53_HOLDER], stdout=subprocess.PIPE, text=True)
    try:
        if holder.stdout is None or holder.stdout.readline().strip() != "bound":
            raise lab.LabError("the program meant to hold port 53 could not bind it")
        refused = subprocess.run(["virsh", "net-start", "default"], capture_output=True, text=True)
        if refused.returncode == 0 or "Address already in use" not in refused.stderr:
            raise lab.LabError(f"default started beside a listener on 0.0.0.0:53: {refused.stderr.strip()}")
        step(f"python3 holds 0.0.0.0:53 (PID {holder.pid}); net-start fails: Address already in use")
        lab.expect_finding("dnsmasq-port-taken")
        done = lab.sandboxed([lab.ENV["LAB_DOCTOR"], "check", "--connect", lab.ENV["LAB_URI"], "--json"])
        report = lab.parse_report(done, " in the sandbox")
        finding = next((f for f in report["findings"] if f["id"] == "dnsmasq-port-taken"), None)
        if finding is None or f"python3 (PID {holder.pid})" not in finding["explanation"]:
            raise lab.LabError(f"the sandboxed check (the helper's view) does not name python3 (PID {holder.pid}): {finding}")
        step(f"check reports dnsmasq-port-taken; through the helper it names python3 (PID {holder.pid})")
    finally:
        holder.kill()
        holder.wait()
    lab.virsh("net-start", "default")
    step("the program gone (as the finding says: bind its own addresses), default starts")
    lab.start_guest()
    lab.expect_network_works()
    step("the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step("check is clean")


def json_text(value):
    return json.dumps(value, ensure_ascii=False)


def ufw_symptoms():
    """What a user of the running guest sees, each checked from inside it:
    ping to the host's bridge and to the internet, a DNS lookup through
    libvirt's dnsmasq, an HTTP fetch by address (no DNS needed), renewing
    the DHCP lease (udhcpc asks and changes nothing), and whether the
    address is still there."""
    mac, www = os.environ["LAB_GUEST_MAC"], os.environ["LAB_WWW"]
    name, addresses = lab.guest_interface(mac)
    if not name:
        raise lab.LabError(f"the guest has no interface with MAC {mac}")
    commands = {
        "ping the bridge": "ping -c 1 -W 3 192.168.122.1",
        "ping the internet": f"ping -c 1 -W 3 {www}",
        "DNS": f"nslookup -type=a -timeout=3 -retry=1 {os.environ['LAB_WWW_NAME']}",
        "HTTP by address": f"wget -q -O - -T 4 http://{www}/",
        "DHCP renewal": f"udhcpc -i {name} -n -q -t 2 -T 2 -s /bin/true",
    }
    # All at once, each in the background (the failing ones wait out their
    # timeouts): one line "INDEX EXIT" per command.
    script = " ".join(f"({command} >/dev/null 2>&1; echo {index} $?) &"
                      for index, command in enumerate(commands.values())) + " wait"
    code, out = lab.guest_run(script, timeout=30)
    exits = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
    if code != 0 or len(exits) != len(commands):
        raise lab.LabError(f"the symptom checks did not all finish in the guest (exit {code}): {out!r}")
    seen = {what: exits[str(index)] == "0" for index, what in enumerate(commands)}
    seen["address kept"] = any(a.startswith("192.168.122.") for a in addresses)
    return seen


def expect_symptoms(expected, when):
    seen = ufw_symptoms()
    if seen != expected:
        wrong = {what: f"{'works' if ok else 'fails'}, expected {'works' if expected[what] else 'fails'}"
                 for what, ok in seen.items() if ok != expected.get(what)}
        raise lab.LabError(f"{when}: {wrong}")
    works = [what for what, ok in seen.items() if ok]
    fails = [what for what, ok in seen.items() if not ok]
    return f"works: {', '.join(works) or 'nothing'}; fails: {', '.join(fails) or 'nothing'}"


# The guide's row: "ping works, apt fails". Measured here under libvirt's
# nftables backend with UFW turned on beside a running guest.
UFW_ON_RUNNING_GUEST = {"ping the bridge": True, "ping the internet": True, "DNS": False,
                        "HTTP by address": False, "DHCP renewal": False, "address kept": True}


def ufw_routed_deny(backend, remote=False):
    """REMOTE: the lab host is also a server that a desktop (a second
    namespace) checks and fixes over SSH, after the local proof."""
    set_firewall_backend(backend)
    step(f"libvirt's firewall backend is {backend}")
    lab.start_guest()
    lab.expect_network_works()
    step("the guest has its lease and its network works")
    uri = remote_desktop_before_ufw() if remote else None
    # A server administered over SSH allows it first (UFW's deny incoming
    # would cut the desktop off); the VMs' symptoms are the same.
    lab.sh(("ufw allow 22/tcp >/dev/null && " if remote else "") + "ufw --force enable")
    step("UFW turned on as a user would, the guest running (deny incoming, deny routed)")
    seen = expect_symptoms(UFW_ON_RUNNING_GUEST, "with UFW on")
    step(f"the guide's row, seen in the guest: {seen}")
    report = lab.expect_finding("ufw-routed-deny")
    ids = lab.finding_ids(report)
    step(f"check reports {', '.join(i for i in ids if i.startswith('ufw'))}")
    fix_prove_revert(*[i for i in ids if i.startswith("ufw-")], in_sandbox=True,
                     broken_state=lambda: expect_symptoms(UFW_ON_RUNNING_GUEST, "after the revert"))
    if remote:
        remote_desktop_finds_and_fixes(uri)


@scenario("S3-ufw-nftables")
def ufw_nftables():
    """The guide's row, then the same host as a server: found and fixed
    from a desktop over qemu+ssh:// (one lab for both)."""
    ufw_routed_deny("nftables", remote=True)


@scenario("S3-ufw-iptables")
def ufw_iptables():
    """Under libvirt's iptables backend, libvirt inserts its accept rules at
    the top of the same FORWARD and INPUT chains UFW appends to, so UFW's
    routed deny never sees the VMs' traffic: the guest works and check must
    not raise a false alarm."""
    set_firewall_backend("iptables")
    step("libvirt's firewall backend is iptables")
    lab.start_guest()
    lab.expect_network_works()
    lab.sh("ufw --force enable")
    step("UFW turned on, the guest running (deny incoming, deny routed)")
    everything = {what: True for what in UFW_ON_RUNNING_GUEST}
    seen = expect_symptoms(everything, "with UFW on under the iptables backend")
    step(f"in the guest: {seen}: libvirt's rules come first")
    lab.expect_clean()
    step("check is clean: no false alarm about UFW")


# "The desktop": a second machine, a network namespace of its own on a link
# to the lab host, which is "the server" libvirt runs on; documentation
# addresses (RFC 5737) of the lab's own.
DESKTOP_NS, SERVER_ADDRESS, DESKTOP_ADDRESS = "desktop", "192.0.2.1", "192.0.2.2"
SSHD_DIR = os.path.join(os.environ.get("LAB_STATE", "/run/lab"), "sshd")


def start_sshd(vmnet_doctor_on_path=True):
    """sshd on the server's side of the link: the desktop user's key logs
    in as root (virt-manager's most common remote setup,
    qemu+ssh://root@server/system); the server's vmnet-doctor is on the
    sessions' PATH unless told otherwise. Returns once it listens."""
    path = "/usr/sbin:/usr/bin:/sbin:/bin"
    if vmnet_doctor_on_path:
        path = os.path.dirname(os.environ["LAB_DOCTOR"]) + ":" + path
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "ssh", "sshd_config.in"), encoding="utf-8") as file:
        config = file.read()
    for placeholder, value in {"@ADDRESS@": SERVER_ADDRESS, "@PORT@": "22", "@DIR@": SSHD_DIR, "@PATH@": path}.items():
        config = config.replace(placeholder, value)
    state_file("sshd/sshd_config", config)
    log = os.path.join(SSHD_DIR, "sshd.log")
    lab.sh(f": >{log}; /usr/sbin/sshd -D -e -f {SSHD_DIR}/sshd_config >/dev/null 2>>{log} & echo $! >{SSHD_DIR}/pid")
    lab.wait_for("sshd to listen", lambda: "Server listening" in open(log, encoding="utf-8").read(), 30)


def stop_sshd():
    pid = open(os.path.join(SSHD_DIR, "pid"), encoding="utf-8").read().strip()
    lab.sh(f"kill {pid}")
    lab.wait_for("sshd to stop", lambda: subprocess.run(["kill", "-0", pid], capture_output=True).returncode != 0, 30)


def connect_desktop():
    """The desktop's namespace, linked to the server, and the desktop user's
    SSH key and known host; the URI it opens the server with."""
    home, uid = os.path.join(os.environ["LAB_STATE"], "home"), os.environ["LAB_UID"]
    lab.sh(f"""set -e
        ip netns add {DESKTOP_NS}
        ip link add srv0 type veth peer name eth0 netns {DESKTOP_NS}
        ip addr add {SERVER_ADDRESS}/24 dev srv0
        ip link set srv0 up
        nsenter --net=/run/netns/{DESKTOP_NS} sh -c 'ip link set lo up && ip addr add {DESKTOP_ADDRESS}/24 dev eth0 && ip link set eth0 up'
        mkdir -p {SSHD_DIR} /run/sshd {home}/.ssh
        ssh-keygen -q -t ed25519 -N '' -f {SSHD_DIR}/host_key
        ssh-keygen -q -t ed25519 -N '' -f {home}/.ssh/id_ed25519
        cp {home}/.ssh/id_ed25519.pub {SSHD_DIR}/authorized_keys
        echo "{SERVER_ADDRESS} $(cut -d' ' -f1,2 {SSHD_DIR}/host_key.pub)" >{home}/.ssh/known_hosts
        chown -R {uid}:{uid} {home}/.ssh
        chmod 700 {home}/.ssh""")
    return f"qemu+ssh://root@{SERVER_ADDRESS}/system?no_tty=1"


def on_desktop(args, timeout=120):
    """ARGS as the desktop user, on the desktop."""
    return subprocess.run(["nsenter", f"--net=/run/netns/{DESKTOP_NS}", *lab.user_argv(args)],
                          capture_output=True, text=True, timeout=timeout)


def desktop_check(uri):
    done = on_desktop([os.environ["LAB_DOCTOR"], "check", "--connect", uri, "--json"])
    return lab.parse_report(done, " on the desktop")


def on_server_over_ssh(*command):
    """COMMAND run on the server by root, over SSH from the desktop: as the
    remote fix's advice says."""
    done = on_desktop(["ssh", "-o", "BatchMode=yes", f"root@{SERVER_ADDRESS}", *command])
    try:
        return json.loads(done.stdout)
    except ValueError as error:
        raise lab.LabError(f"`{' '.join(command)}` over SSH printed no JSON (exit {done.returncode}): "
                           f"{done.stderr.strip()}") from error


def remote_desktop_before_ufw():
    """The desktop (a second namespace) opens the lab host as a server over
    SSH, before UFW is on: its check reads the server's own host network
    and finds nothing of UFW. The URI it opens."""
    uri = connect_desktop()
    start_sshd()
    report = desktop_check(uri)
    if report["host"] != {"checked": True}:
        raise lab.LabError(f"the server's host network was not read from the desktop: {report['host']}")
    if any(i.startswith("ufw-") for i in lab.finding_ids(report)):
        raise lab.LabError(f"UFW findings before UFW is on: {lab.finding_ids(report)}")
    step(f"from the desktop over SSH ({uri}): the server's host network read, no UFW finding")
    return uri


def remote_desktop_finds_and_fixes(uri):
    """S3 on a server, found and fixed from the desktop over SSH (UFW on,
    its routed deny in place): the desktop's app reads the server's host
    network through the server's vmnet-doctor, over the same SSH login,
    and finds what a check on the server finds; its fix is planned,
    applied and reverted by the server's helper (polkit there), never by
    the desktop's. Without vmnet-doctor on the server, the desktop says
    which package to install there."""
    report = desktop_check(uri)
    remote_ids, local_ids = lab.finding_ids(report), lab.finding_ids(lab.check())
    if "ufw-routed-deny" not in remote_ids or remote_ids != local_ids:
        raise lab.LabError(f"from the desktop {remote_ids}, on the server {local_ids}")
    ufw_ids = [i for i in remote_ids if i.startswith("ufw-")]
    step(f"the desktop finds what the server's own check finds: {', '.join(remote_ids)}")

    def desktop_fix(*args):
        done = on_desktop([os.environ["LAB_DOCTOR"], *args])
        try:
            return json.loads(done.stdout)
        except ValueError as error:
            raise lab.LabError(f"{args[0]} on the desktop printed no JSON (exit {done.returncode}): "
                               f"{done.stderr.strip()}") from error

    ruleset = lab.sh("nft -s list ruleset")
    result = desktop_fix("fix", "--connect", uri, "--dry-run", "--json", *ufw_ids)
    plans = [item.get("plan") or {} for item in result.get("results", [])]
    if not plans or any(p.get("kind") != "helper" or p.get("host") != SERVER_ADDRESS or not p.get("steps")
                        for p in plans):
        raise lab.LabError(f"the desktop's plan is not the server helper's: {json_text(result)[:2000]}")
    if lab.sh("nft -s list ruleset") != ruleset:
        raise lab.LabError("planning from the desktop changed the server")
    step(f"the desktop's plan is the server's helper's, over SSH: {len(plans[0]['steps'])} steps, nothing changed")

    local_applies, server_applies = (len(lab.helper_applies_by(uid)) for uid in (os.environ["LAB_UID"], 0))
    result = desktop_fix("fix", "--connect", uri, "--json", *ufw_ids)
    if len(lab.helper_applies_by(0)) <= server_applies:
        raise lab.LabError(f"the server's helper logged no Apply from root over SSH: {json_text(result)[:2000]}")
    if len(lab.helper_applies_by(os.environ["LAB_UID"])) != local_applies:
        raise lab.LabError("the desktop user's own helper was asked to change a host")
    transactions = helper_transactions(result)
    lab.expect_network_works()
    report = desktop_check(uri)
    if any(i.startswith("ufw-") for i in lab.finding_ids(report)):
        raise lab.LabError(f"the desktop still finds {lab.finding_ids(report)} after its fix")
    step("fixed from the desktop by the server's helper (polkit there, for root over SSH): "
         "the guest works, the desktop's check is clean of UFW")
    for transaction in reversed(transactions):
        reverted = desktop_fix("revert", "--connect", uri, "--json", transaction)
        if reverted.get("error"):
            raise lab.LabError(f"revert of {transaction} from the desktop: {reverted['error']}")
    expect_symptoms(UFW_ON_RUNNING_GUEST, "after the revert")
    step(f"reverted from the desktop ({', '.join(transactions)}): the guest is broken again")

    stop_sshd()
    start_sshd(vmnet_doctor_on_path=False)
    report = desktop_check(uri)
    reason = report["host"].get("reason") or ""
    if report["host"].get("checked") is not False or f"vmnet-doctor is not installed on {SERVER_ADDRESS}" not in reason:
        raise lab.LabError(f"without vmnet-doctor on the server: {report['host']}")
    step(f"without vmnet-doctor on the server, the desktop says so: {reason[:90]}…")


# The VPN's end of a tunnel to the lab's internet, standing in for
# WireGuard's wg0 (a veth: the routing is what matters here), on
# documentation addresses (RFC 5737) of the lab's own.
VPN_DEVICE, VPN_ADDRESS, VPN_PEER = "wg0", "198.51.100.2", "198.51.100.1"


def vpn_like_wg_quick():
    """What `wg-quick up wg0` does to routing (wg-quick(8), "the default
    route"): the default route in table 51820, a rule sending every packet
    without WireGuard's fwmark there, and `table main suppress_prefixlength
    0` ahead of it, so that main's specific routes (virbr0's subnet, the
    LAN) still win while its default route is passed over. main's default
    stays, so /proc/net/route still shows the LAN's. The lab's internet sits
    on the uplink's /24, which main would route directly: that connected
    route gives way to one for the router alone, as when the internet is
    beyond the LAN."""
    lab.sh(f"ip link add {VPN_DEVICE} type veth peer name tun0 netns internet && "
           f"ip addr add {VPN_ADDRESS}/24 dev {VPN_DEVICE} && ip link set {VPN_DEVICE} up && "
           f"nsenter --net=/run/netns/internet sh -c 'ip addr add {VPN_PEER}/24 dev tun0 && ip link set tun0 up' && "
           "ip route del 203.0.113.0/24 dev $LAB_UPLINK && ip route add $LAB_ROUTER/32 dev $LAB_UPLINK && "
           f"ip route add default via {VPN_PEER} dev {VPN_DEVICE} table 51820 && "
           "ip rule add not fwmark 51820 table 51820 && "
           "ip rule add table main suppress_prefixlength 0")


def fetched_through_vpn():
    """The guest fetches from the lab's web server, and the server saw the
    request come from the VPN's address (NAT through wg0), not the LAN's."""
    before = lab.sh(f"grep -c '^{VPN_ADDRESS} ' $LAB_STATE/internet-http.log || true").strip()
    lab.expect_network_works()
    after = lab.sh(f"grep -c '^{VPN_ADDRESS} ' $LAB_STATE/internet-http.log || true").strip()
    if int(after or 0) <= int(before or 0):
        last = lab.sh("tail -n 3 $LAB_STATE/internet-http.log")
        raise lab.LabError(f"the web server saw no request from {VPN_ADDRESS} (through {VPN_DEVICE}): {last}")


def ufw_uplinks(report):
    return sorted({f["fix"]["uplink"] for f in report["findings"]
                   if f["id"].startswith("ufw-") and isinstance(f.get("fix"), dict) and "uplink" in f["fix"]})


@scenario("S5-vpn-policy-routing")
def vpn_policy_routing():
    """A VPN that owns the default route through policy routing, as
    wg-quick, Tailscale exit nodes and NetworkManager's WireGuard set it up:
    no false "no uplink", the uplink is the VPN's device, and the UFW fix
    allows the guests out through it (a fix naming the LAN's device would
    leave the guest broken)."""
    set_firewall_backend("nftables")
    lab.start_guest()
    lab.expect_network_works()
    vpn_like_wg_quick()
    step(f"a wg-quick-style VPN on {VPN_DEVICE}: default route in table 51820, "
         "rules `not fwmark 51820` and `table main suppress_prefixlength 0`")
    fetched_through_vpn()
    step(f"the guest's traffic leaves through {VPN_DEVICE}: the web server sees {VPN_ADDRESS}")
    lab.expect_clean()
    step("check is clean: no false no-uplink")
    lab.sh("ufw --force enable")
    lab.expect_network_broken("http")
    step("UFW turned on (deny routed): the guest's HTTP fetch fails")
    report = lab.expect_finding("ufw-routed-deny")
    uplinks = ufw_uplinks(report)
    if uplinks != [VPN_DEVICE]:
        raise lab.LabError(f"the UFW fix names the uplink(s) {uplinks}, not {VPN_DEVICE}")
    step(f"check reports ufw-routed-deny, its fix naming {VPN_DEVICE}")
    ids = [i for i in lab.finding_ids(report) if i.startswith("ufw-")]
    # The fixed guest works only if UFW's new rules allow virbr0 → wg0.
    fix_prove_revert(*ids, in_sandbox=True)


@scenario("S4-docker-forward-drop")
def docker_forward_drop():
    """Docker's FORWARD policy DROP bites libvirt's nftables backend: its
    accept rules live in libvirt's own table, and a packet accepted there
    is still dropped by the ip filter table's FORWARD chain. (Under the
    iptables backend libvirt's rules sit in that same chain, above
    Docker's, as S3-ufw-iptables shows for UFW.)"""
    set_firewall_backend("nftables")
    step("libvirt's firewall backend is nftables")
    lab.start_guest()
    lab.expect_network_works()
    lab.sh(lab.DOCKER_FORWARD_DROP)
    step("FORWARD policy DROP with a DOCKER-USER chain, as dockerd leaves it")
    lab.expect_network_broken("http")
    step("the guest cannot fetch from the internet")
    lab.expect_finding("forward-dropped")
    step("check reports forward-dropped")
    fix_prove_revert("forward-dropped", in_sandbox=True)


# A LAN behind host bridge br0: a namespace of the lab's own with a DHCP
# server (dnsmasq) and a web server, as a home router would offer.
LAN_BRIDGE, LAN_ROUTER, LAN_PREFIX = "br0", "10.77.0.1", "10.77.0."
LAN_PAGE = "the lan answers"


def start_lan():
    lab.sh(f"ip link add {LAN_BRIDGE} type bridge && ip link set {LAN_BRIDGE} up && "
           f"ip netns add lan && ip link add lan0 type veth peer name eth0 netns lan && "
           f"ip link set lan0 master {LAN_BRIDGE} && ip link set lan0 up && "
           f"nsenter --net=/run/netns/lan sh -c 'ip link set lo up && ip link set eth0 up && "
           f"ip addr add {LAN_ROUTER}/24 dev eth0'")
    state = os.environ["LAB_STATE"]
    www = os.path.join(state, "lan-www")
    os.makedirs(www, exist_ok=True)
    state_file("lan-www/index.html", LAN_PAGE + "\n")
    # dnsmasq daemonizes; it ends with the lab's PID namespace.
    lab.sh(f"nsenter --net=/run/netns/lan dnsmasq --conf-file=/dev/null --port=0 --interface=eth0 "
           f"--bind-interfaces --dhcp-range={LAN_PREFIX}50,{LAN_PREFIX}99,1h "
           f"--dhcp-leasefile={state}/lan.leases --pid-file={state}/lan-dnsmasq.pid")
    server = subprocess.Popen(
        ["nsenter", "--net=/run/netns/lan", "python3", "-m", "http.server", "80", "--bind", LAN_ROUTER,
         "--directory", www],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lab.wait_for("the LAN's web server", lambda: server.poll() is None and lab.sh(
        f"nsenter --net=/run/netns/lan busybox wget -q -O - -T 2 http://{LAN_ROUTER}/", check=False).strip()
        == LAN_PAGE, 20)


def on_lan_bridge(xml):
    """The guest's XML with its card on host bridge LAN_BRIDGE."""
    return (xml.replace('<source network="default"/>', f'<source bridge="{LAN_BRIDGE}"/>')
            .replace('<interface type="network">', '<interface type="bridge">'))


def prove_lan(lease_timeout=40):
    """From inside the guest: a lease from the LAN's DHCP server on the
    card, and the LAN's web page. {step: (ok, detail)}."""
    steps = {}

    def leased():
        name, addresses = lab.guest_interface(os.environ["LAB_GUEST_MAC"])
        return (name, addresses) if any(a.startswith(LAN_PREFIX) for a in addresses) else None

    try:
        name, addresses = lab.wait_for(f"a {LAN_PREFIX}x lease from the LAN", leased, lease_timeout)
        steps["lease"] = (True, f"{name} {' '.join(addresses)}")
    except lab.LabError as error:
        steps["lease"] = (False, str(error))
    code, out = lab.guest_run(f"wget -q -O - -T 4 http://{LAN_ROUTER}/", timeout=12)
    steps["http"] = (code == 0 and LAN_PAGE in out, out.strip() or f"exit {code}")
    return steps


def expect_lan(works, lease_timeout=40):
    steps = prove_lan(lease_timeout)
    if works and not all(ok for ok, _ in steps.values()):
        raise lab.LabError(f"the guest cannot use the LAN behind {LAN_BRIDGE}: {steps}")
    if not works and steps["http"][0]:
        raise lab.LabError(f"the break did not break anything: the guest still fetches from the LAN ({steps})")
    return steps


@scenario("S4b-docker-bridged")
def docker_bridged():
    """Docker loads br_netfilter, so frames a host bridge passes between a
    VM and its LAN traverse iptables' FORWARD chain, where Docker's DROP
    policy discards them: a bridged VM loses its LAN, not only NAT VMs the
    internet. The fix accepts the bridge's own traffic in DOCKER-USER."""
    start_lan()
    define_guest(on_lan_bridge)
    lab.sh("sysctl -qw net.bridge.bridge-nf-call-iptables=1")
    step(f"the guest's card on host bridge {LAN_BRIDGE}, whose LAN has a DHCP and a web server; "
         "net.bridge.bridge-nf-call-iptables = 1 (what loading br_netfilter does)")
    lab.start_guest()
    steps = expect_lan(True)
    step(f"the guest gets its lease from the LAN ({steps['lease'][1]}) and fetches the LAN's page")
    lab.sh(lab.DOCKER_FORWARD_DROP)
    step("FORWARD policy DROP with a DOCKER-USER chain, as dockerd leaves it")
    expect_lan(False, lease_timeout=5)
    step("the guest can no longer fetch from the LAN")
    report = lab.expect_finding("bridged-forward-dropped")
    finding = next(f for f in report["findings"] if f["id"] == "bridged-forward-dropped")
    if finding["subject"].get("mac") != os.environ["LAB_GUEST_MAC"] or finding.get("fix", {}).get("bridge") != LAN_BRIDGE:
        raise lab.LabError(f"bridged-forward-dropped is not about the guest's card on {LAN_BRIDGE}: {finding}")
    step(f"check reports bridged-forward-dropped for the guest's card, its fix naming {LAN_BRIDGE}")
    result = lab.fix("bridged-forward-dropped", in_sandbox=True)
    expect_lan(True)
    rules = lab.sh("iptables -S DOCKER-USER")
    if f"-A DOCKER-USER -i {LAN_BRIDGE} -o {LAN_BRIDGE}" not in rules:
        raise lab.LabError(f"the fix left DOCKER-USER as:\n{rules}")
    step(f"fixed from {lab.SANDBOX} through the helper (-i {LAN_BRIDGE} -o {LAN_BRIDGE} -j ACCEPT in DOCKER-USER): "
         "the guest fetches from the LAN again")
    # Docker's drop still cuts the lab's NAT network off: that is S4's finding.
    lab.expect_clean(allowed=("forward-dropped",))
    step("check is clean but for the default network's forward-dropped (S4's)")
    transactions = revert_all(result, in_sandbox=True)
    expect_lan(False, lease_timeout=5)
    lab.expect_finding("bridged-forward-dropped")
    step(f"reverted ({', '.join(transactions)}): the guest cannot fetch from the LAN, and check says why again")


# Fedora's QEMU ships /etc/qemu/bridge.conf allowing only libvirt's default
# bridge (qemu.spec's bridge.conf source).
FEDORA_BRIDGE_CONF = "allow virbr0\n"
BRIDGE_HELPER = "/usr/lib/qemu/qemu-bridge-helper"


def start_session_libvirtd():
    """The desktop user's own libvirtd (qemu:///session), as the first
    virt-manager or virsh call of that user starts it."""
    done = subprocess.run(lab.user_argv(["libvirtd", "-d"]), capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise lab.LabError(f"the user's libvirtd did not start: {done.stderr.strip()}")
    lab.wait_for("the user's libvirtd", lambda: lab.as_user(
        ["virsh", "-q", "-c", "qemu:///session", "version"], timeout=10).returncode == 0, 30)


def expect_session_start_refused():
    # QEMU reads the helper's stderr after it exits; now and then the helper's
    # reason is lost ("failed to communicate with bridge helper: : Transport
    # endpoint is not connected", seen once in a CI run). The refusal itself
    # is certain: such a start is tried again, and the reason must show.
    for _ in range(3):
        done = subprocess.run([*lab.VIRSH, "start", lab.GUEST], capture_output=True, text=True, timeout=60)
        reason_lost = done.returncode != 0 and "failed to communicate with bridge helper: :" in done.stderr
        if not reason_lost:
            break
        step(f"the VM's start was refused, but QEMU lost the helper's reason: {done.stderr.strip()}")
    if done.returncode == 0 or "access denied by acl file" not in done.stderr:
        raise lab.LabError(f"the session VM's start was not refused by qemu-bridge-helper's list "
                           f"(exit {done.returncode}): {done.stderr.strip()}")
    return next(line.strip() for line in done.stderr.splitlines() if "access denied by acl file" in line)


@scenario("S4c-session-bridge")
def session_bridge():
    """A VM of the desktop user's own connection (qemu:///session) on host
    bridge br0: QEMU runs as the user, and qemu-bridge-helper plugs the
    card into the bridge only when /etc/qemu/bridge.conf allows it. With
    Fedora's list (virbr0 only) the VM does not start; the helper's fix
    adds "allow br0", and its revert takes it out again."""
    start_lan()
    # qemu-bridge-helper keeps only CAP_NET_ADMIN and opens /dev/net/tun as
    # the user: a desktop's udev makes it 0666; this machine's is 0600.
    lab.sh("mknod -m 0666 $LAB_STATE/tun c 10 200 && mount --bind $LAB_STATE/tun /dev/net/tun")
    with open("/etc/qemu/bridge.conf", "w", encoding="utf-8") as conf:
        conf.write(FEDORA_BRIDGE_CONF)
    start_session_libvirtd()
    lab.use_session()
    # The lab's guest, on br0; its serial log where the user may write.
    define_guest(lambda xml: on_lan_bridge(xml).replace(
        "/var/log/libvirt/qemu/lab-guest-console.log",
        os.path.join(os.environ["LAB_STATE"], "home", "lab-guest-console.log")))
    step(f"qemu:///session of the desktop user, its guest's card on host bridge {LAN_BRIDGE}; "
         f"/etc/qemu/bridge.conf as Fedora ships it ({FEDORA_BRIDGE_CONF.strip()!r}); qemu-bridge-helper "
         "as Debian installs it (not setuid)")
    for wanted in ("session-bridge-helper-unprivileged", "session-bridge-not-allowed"):
        lab.expect_finding(wanted)
    step("check reports both: qemu-bridge-helper has no privilege, and bridge.conf does not allow br0")
    # What the finding tells the administrator to do (dpkg-statoverride
    # sets the mode): a setuid copy, in this mount namespace only.
    lab.sh(f"cp {BRIDGE_HELPER} $LAB_STATE/qemu-bridge-helper && chmod 4755 $LAB_STATE/qemu-bridge-helper && "
           f"mount --bind $LAB_STATE/qemu-bridge-helper {BRIDGE_HELPER}")
    if "session-bridge-helper-unprivileged" in lab.finding_ids():
        raise lab.LabError("qemu-bridge-helper is setuid root now, and check still says it has no privilege")
    step("the administrator makes qemu-bridge-helper setuid root: that finding is gone")
    refused = expect_session_start_refused()
    step(f"the VM does not start: {refused}")
    report = lab.expect_finding("session-bridge-not-allowed")
    finding = next(f for f in report["findings"] if f["id"] == "session-bridge-not-allowed")
    if finding.get("fix") != {"kind": "allow-qemu-bridge", "bridge": LAN_BRIDGE}:
        raise lab.LabError(f"session-bridge-not-allowed does not offer to allow {LAN_BRIDGE}: {finding}")
    step(f"check reports session-bridge-not-allowed, its fix allowing {LAN_BRIDGE}; the same in {lab.SANDBOX}")
    result = lab.fix("session-bridge-not-allowed", in_sandbox=True)
    with open("/etc/qemu/bridge.conf", encoding="utf-8") as conf:
        fixed = conf.read()
    if not fixed.startswith(FEDORA_BRIDGE_CONF) or not fixed.endswith(f"\nallow {LAN_BRIDGE}\n"):
        raise lab.LabError(f"the fix left /etc/qemu/bridge.conf as:\n{fixed}")
    lab.start_guest()
    steps = expect_lan(True)
    step(f"fixed from {lab.SANDBOX} through the helper (allow {LAN_BRIDGE} added): the VM starts, gets its "
         f"lease from the LAN ({steps['lease'][1]}) and fetches the LAN's page")
    lab.expect_clean()
    step("check is clean")
    lab.virsh("destroy", lab.GUEST)
    transactions = revert_all(result, in_sandbox=True)
    with open("/etc/qemu/bridge.conf", encoding="utf-8") as conf:
        if conf.read() != FEDORA_BRIDGE_CONF:
            raise lab.LabError("the revert did not give back Fedora's /etc/qemu/bridge.conf")
    refused = expect_session_start_refused()
    lab.expect_finding("session-bridge-not-allowed")
    step(f"reverted ({', '.join(transactions)}): bridge.conf is Fedora's again, the VM does not start "
         f"({refused}), and check says why")


BIG_FILE_SIZE = 1024 * 1024


def expect_download(works):
    """From inside the guest: a 1 MiB file from the internet host arrives
    whole (WORKS) or stalls (wget's 6 s read timeout)."""
    code, out = lab.guest_run(f"wget -q -O - -T 6 http://{lab.ENV['LAB_WWW']}/big | wc -c", timeout=30)
    got = int(out.split()[0]) if code == 0 and out.split() and out.split()[0].isdigit() else -1
    if works and got != BIG_FILE_SIZE:
        raise lab.LabError(f"the 1 MiB download did not complete in the guest: {got} bytes ({out.strip()})")
    if not works and got == BIG_FILE_SIZE:
        raise lab.LabError("the break did not break anything: the 1 MiB download still completes in the guest")
    return got


@scenario("S5c-mtu-black-hole")
def mtu_black_hole():
    """The uplink carries smaller packets (MTU 1280, as a VPN or PPPoE does)
    than the guests send (1500), and no ICMP "fragmentation needed" ever
    reaches the web server: the uplink drops its full-size packets without
    one, as where that ICMP is filtered. The page and DNS still work; a 1 MiB download stalls. Clamping the
    MSS of the guests' connections to the route's MTU makes it complete."""
    state_file("www/big", "x" * BIG_FILE_SIZE)
    lab.start_guest()
    lab.expect_network_works()
    expect_download(True)
    step("the guest's network works and a 1 MiB download completes")
    uplink = lab.ENV["LAB_UPLINK"]
    # The veth drops a packet larger than its MTU, without an ICMP message,
    # unless it is a segmentation-offload batch (kernel 6.18 lets those
    # through): the server's side sends one segment per packet, as a
    # physical NIC's wire does.
    lab.sh(f"ip link set {uplink} mtu 1280 && nsenter --net=/run/netns/internet ip link set eth0 gso_max_segs 1")
    step(f"{uplink}'s MTU is 1280; the web server's side stays at 1500 and drops to it without ICMP")
    lab.expect_network_works()
    got = expect_download(False)
    step(f"the lease, DNS lookup and small page still work; the 1 MiB download stalls ({got} bytes)")
    report = lab.expect_finding("uplink-mtu-smaller")
    finding = next(f for f in report["findings"] if f["id"] == "uplink-mtu-smaller")
    if finding.get("fix") != {"kind": "clamp-mss", "bridge": "virbr0", "uplink": uplink}:
        raise lab.LabError(f"uplink-mtu-smaller does not offer the clamp for virbr0 → {uplink}: {finding}")
    step(f"check reports uplink-mtu-smaller, its fix clamping virbr0 → {uplink}")
    result = lab.fix("uplink-mtu-smaller", in_sandbox=True)
    expect_download(True)
    step(f"fixed from {lab.SANDBOX} through the helper (TCPMSS --clamp-mss-to-pmtu): the download completes")
    lab.expect_clean()
    step("check is clean")
    transactions = revert_all(result, in_sandbox=True)
    expect_download(False)
    lab.expect_finding("uplink-mtu-smaller")
    step(f"reverted ({', '.join(transactions)}): the download stalls again, and check says why")


@scenario("S5-ip-forwarding-off")
def ip_forwarding_off():
    lab.start_guest()
    lab.expect_network_works()
    lab.sh("sysctl -qw net.ipv4.ip_forward=0")
    step("net.ipv4.ip_forward = 0")
    lab.expect_network_broken("http")
    step("the guest cannot fetch from the internet")
    lab.expect_finding("ipv4-forwarding-off")
    step("check reports ipv4-forwarding-off")
    fix_prove_revert("ipv4-forwarding-off", in_sandbox=True)


@scenario("S6-link-down")
def link_down():
    lab.start_guest()
    lab.expect_network_works()
    lab.virsh("domif-setlink", lab.GUEST, os.environ["LAB_GUEST_MAC"], "down")
    step("virsh domif-setlink … down")
    lab.expect_network_broken("http")
    step("the guest cannot fetch from the internet")
    lab.expect_finding("nic-link-down")
    step("check reports nic-link-down")
    lab.fix("nic-link-down")
    lab.expect_network_works()
    step("link set up through libvirt, live: the guest's network works without a restart")
    lab.expect_clean()
    step("check is clean")


def guest_driver():
    """The kernel driver of the guest's NIC: the PCI device's for an e1000,
    the virtio device's (virtio_net) for virtio."""
    name, _ = lab.guest_interface(os.environ["LAB_GUEST_MAC"])
    if not name:
        raise lab.LabError(f"the guest has no interface with MAC {os.environ['LAB_GUEST_MAC']}")
    code, out = lab.guest_run(f"basename $(readlink /sys/class/net/{name}/device/driver)")
    if code != 0:
        raise lab.LabError(f"cannot read the driver of the guest's {name}: {out.strip()}")
    return out.strip()


def expect_driver(want, what):
    driver = guest_driver()
    if driver != want:
        raise lab.LabError(f"{what}: the guest's NIC driver is {driver!r}, not {want}")


def fix_model_to_virtio():
    """nic-model-not-virtio fixed through libvirt; after a restart the guest
    binds virtio_net and its network works; check is clean."""
    lab.fix("nic-model-not-virtio")
    lab.restart_guest()
    step("model changed through libvirt; guest restarted")
    expect_driver("virtio_net", "after the fix")
    lab.expect_network_works()
    step("the guest's NIC is virtio_net and its network works")
    lab.expect_clean()
    step("check is clean")


@scenario("S7-model-e1000")
def model_e1000():
    define_guest(lambda xml: xml.replace('<model type="virtio"/>', '<model type="e1000"/>'))
    lab.start_guest()
    lab.expect_network_works()
    expect_driver("e1000", "with <model type='e1000'/>")
    step("the guest runs an emulated e1000 NIC (driver e1000)")
    lab.expect_finding("nic-model-not-virtio")
    step("check reports nic-model-not-virtio")
    fix_model_to_virtio()


@scenario("S7b-model-unset")
def model_unset():
    """A card defined without <model>: libvirt's QEMU driver gives it its
    default (rtl8139 on x86_64, crates/core/src/nic_model.rs says where),
    the guest binds that card's driver, and check judges it like a named
    rtl8139 and says where such a card comes from."""
    define_guest(lambda xml: xml.replace('<model type="virtio"/>', ''))
    defined = re.findall(r"<model type='([^']+)'/>", lab.virsh("dumpxml", "--inactive", lab.GUEST))
    if defined != ["rtl8139"]:
        raise lab.LabError(f"libvirt defined the card without a model as {defined}, not rtl8139")
    step("virsh define without <model>: libvirt stores rtl8139")
    lab.start_guest()
    lab.expect_network_works()
    expect_driver("8139cp", "QEMU's rtl8139")
    step("the guest runs QEMU's rtl8139 (driver 8139cp)")
    report = lab.expect_finding("nic-model-not-virtio")
    finding = next(f for f in report["findings"] if f["id"] == "nic-model-not-virtio")
    if "defined without a model" not in finding["explanation"]:
        raise lab.LabError(f"the explanation does not say where an rtl8139 comes from: {finding['explanation']}")
    step("check reports nic-model-not-virtio and says libvirt chose rtl8139")
    fix_model_to_virtio()


@scenario("S8-user-mode")
def user_mode():
    define_guest(lambda xml: xml.replace(
        '<interface type="network">', '<interface type="user">').replace(
        '<source network="default"/>', ''))
    lab.start_guest()
    steps = lab.expect_network_broken("lease", lease_timeout=15)
    step(f"the guest has no lease from the default network ({steps['lease'][1][:80]})")
    lab.expect_finding("nic-user-mode")
    step("check reports nic-user-mode")
    lab.fix("nic-user-mode")
    if lab.virsh("domiflist", lab.GUEST).find("default") < 0:
        lab.restart_guest()
        step("moved to default through libvirt; guest restarted")
    lab.expect_network_works()
    step("the guest has a lease from default, and its network works")
    lab.expect_clean()
    step("check is clean")


@scenario("S9-agent-channel-missing")
def agent_channel_missing():
    define_guest(lambda xml: xml.replace(
        '<channel type="unix">\n      <target type="virtio" name="org.qemu.guest_agent.0"/>\n    </channel>', ''))
    lab.virsh("start", lab.GUEST)
    # The guest is up once it has its lease (libvirt's dnsmasq says so);
    # libvirt then refuses any agent command because no channel exists.
    mac = os.environ["LAB_GUEST_MAC"]
    lab.wait_for("the guest's DHCP lease (it booted)",
                 lambda: mac in lab.virsh("net-dhcp-leases", "default", "--mac", mac), 60)
    done = subprocess.run(["virsh", "qemu-agent-command", lab.GUEST, '{"execute":"guest-ping"}'],
                          capture_output=True, text=True, timeout=30)
    if done.returncode == 0 or "not configured" not in done.stderr:
        raise lab.LabError(f"without a channel libvirt should say the agent is not configured: "
                           f"exit {done.returncode}, {done.stdout.strip()} {done.stderr.strip()}")
    step(f"the guest booted (leased) without an agent channel: {done.stderr.strip()}")
    lab.expect_finding("guest-agent-missing")
    step("check reports guest-agent-missing")
    lab.fix("guest-agent-missing")
    lab.restart_guest()
    if not lab.agent_answers():
        raise lab.LabError("after the fix and a restart the guest agent does not answer")
    step("channel added through libvirt; guest restarted; the same guest's agent answers")
    lab.expect_network_works()
    lab.expect_clean()
    step("check is clean")


@scenario("S10-guest-ipv6-unrouted")
def guest_ipv6_unrouted():
    """The guide's apt hang: a guest configured with a global IPv6 address
    and default route on a NAT network that carries no IPv6."""
    lab.start_guest()
    lab.expect_network_works()
    name, _ = lab.guest_interface(os.environ["LAB_GUEST_MAC"])
    code, out = lab.guest_run(f"echo 0 >/proc/sys/net/ipv6/conf/{name}/accept_dad && "
                              f"ip -6 addr add 2001:db8:122::50/64 dev {name} && "
                              f"ip -6 route add default via fe80::1 dev {name}")
    if code != 0:
        raise lab.LabError(f"could not give the guest its IPv6 address: {out}")
    step(f"the guest's {name} has the global address 2001:db8:122::50 and an IPv6 default route")
    www6 = os.environ["LAB_WWW6"]
    code, out = lab.guest_run(f"wget -q -O - -T 4 'http://[{www6}]/'", timeout=10)
    if code == 0:
        raise lab.LabError(f"IPv6 reached the internet from a NAT network without IPv6: {out}")
    lab.expect_network_works()
    step("inside the guest IPv6 goes nowhere while IPv4 works (what makes apt hang)")
    lab.expect_finding("guest-ipv6-unrouted")
    step("check reports guest-ipv6-unrouted")
    lab.fix("guest-ipv6-unrouted")
    # The guide's file, exactly, and both settings in effect.
    want = "net.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n"
    code, out = lab.guest_run("cat /etc/sysctl.d/99-disable-ipv6.conf")
    if code != 0 or out != want:
        raise lab.LabError(f"after the fix /etc/sysctl.d/99-disable-ipv6.conf holds {out!r}, not {want!r}")
    code, out = lab.guest_run("cat /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6")
    if code != 0 or out.split() != ["1", "1"]:
        raise lab.LabError(f"IPv6 is not off in the guest after the fix (all, default): {out!r}")
    step("fixed through the guest agent: /etc/sysctl.d/99-disable-ipv6.conf written and applied")
    lab.expect_network_works()
    lab.expect_clean()
    step("the guest's network works and check is clean")


def start_firewalld():
    """firewalld as a distribution starts it (Fedora, openSUSE): its
    configuration a private copy, since the fix writes its permanent zones;
    its log in the lab's state. It dies with the lab."""
    lab.sh("mkdir -p $LAB_STATE/firewalld-etc && cp -a /etc/firewalld/. $LAB_STATE/firewalld-etc/ && "
           "mount --bind $LAB_STATE/firewalld-etc /etc/firewalld")
    lab.sh("setsid firewalld --nofork --nopid --log-target=file --log-file=$LAB_STATE/firewalld.log "
           "</dev/null >>$LAB_STATE/firewalld.log 2>&1 &")
    lab.wait_for("firewalld to run", lambda: lab.sh("firewall-cmd --state", check=False).strip() == "running", 60)


def bridge_zone(permanent=False):
    option = "--permanent " if permanent else ""
    return lab.sh(f"firewall-cmd {option}--get-zone-of-interface=virbr0", check=False).strip()


@scenario("S11-firewalld-zone")
def firewalld_zone():
    """A firewalld host: libvirt puts its bridge into firewalld's `libvirt`
    zone, which lets the guests' DHCP and DNS in, and the guest works. Moved
    into another zone (NetworkManager's zone for the connection, or an
    administrator's `firewall-cmd --change-interface`), the bridge gets that
    zone's rules, and `public` rejects the guests' DNS. The fix goes from
    the Flatpak straight to firewalld's own D-Bus API (polkit asks through
    firewalld), not through the helper."""
    set_firewall_backend("nftables")
    start_firewalld()
    # As at boot (libvirtd.service comes after firewalld.service): the
    # network starts on a running firewalld. (libvirtd 11.3 restarted or
    # reloaded beside firewalld 2.3 here leaves its nftables chains empty,
    # so the scenario does not start from that.)
    lab.virsh("net-destroy", "default")
    lab.virsh("net-start", "default")
    lab.wait_for("libvirt to put virbr0 in firewalld's libvirt zone", lambda: bridge_zone() == "libvirt", 60)
    step("firewalld runs (nftables); default started after it, virbr0 in firewalld's libvirt zone")
    lab.start_guest()
    lab.expect_network_works()
    step("the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step(f"check is clean, and the same in {lab.SANDBOX}: no false alarm on a healthy firewalld host")
    lab.sh("firewall-cmd -q --zone=public --change-interface=virbr0")
    lab.sh("firewall-cmd -q --permanent --zone=public --add-interface=virbr0")
    step("virbr0 moved to firewalld's public zone, now and permanently")
    lab.expect_network_broken("dns")
    step("the guest's DNS lookups are rejected")
    report = lab.expect_finding("firewalld-zone")
    step(f"check reports {', '.join(lab.finding_ids(report))}, the same in {lab.SANDBOX}")
    applied_before = len(lab.helper_applies_by(lab.ENV["LAB_UID"]))
    lab.fix("firewalld-zone", in_sandbox=True)
    if len(lab.helper_applies_by(lab.ENV["LAB_UID"])) != applied_before:
        raise lab.LabError("the firewalld fix went through the helper, not firewalld's own API")
    zones = (bridge_zone(), bridge_zone(permanent=True))
    if zones != ("libvirt", "libvirt"):
        raise lab.LabError(f"after the fix virbr0 is in zone {zones[0]!r} now and {zones[1]!r} permanently")
    step(f"fixed from {lab.SANDBOX} through firewalld's D-Bus API: virbr0 is in the libvirt zone, "
         "now and permanently")
    lab.expect_network_works()
    step("the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step("check is clean")


def inside(name):
    print(f"  {name}", flush=True)
    try:
        SCENARIOS[name]()
    except lab.LabError as error:
        print(f"  FAILED {name}: {error}", flush=True)
        subprocess.run(["bash", "-c", "tail -n 15 /var/log/libvirt/qemu/lab-guest-console.log 2>/dev/null; "
                        "tail -n 20 $LAB_STATE/helper.log 2>/dev/null"], check=False)
        return 1
    return 0


def lab_command(name):
    """The command that runs NAME in a fresh lab (tests/lab/lab.sh)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, "lab.sh"), "python3", os.path.abspath(__file__), "--inside", name]


def run_in_lab(name):
    """NAME in a fresh lab, its output kept: (seconds, exit status, output)."""
    started = time.monotonic()
    done = subprocess.run(lab_command(name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace")
    return time.monotonic() - started, done.returncode, done.stdout


def main(args):
    if args[:1] == ["--list"]:
        print("\n".join(SCENARIOS))
        return 0
    if args[:1] == ["--inside"]:
        return inside(args[1])
    jobs = 1
    if args[:1] == ["--jobs"]:
        if len(args) < 2 or not args[1].isdigit() or int(args[1]) < 1:
            print("--jobs needs a number of labs, 1 or more", file=sys.stderr)
            return 2
        jobs, args = int(args[1]), args[2:]
    names = args or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; --list names them", file=sys.stderr)
        return 2
    timings = []
    started_all = time.monotonic()
    if jobs == 1:
        for name in names:
            started = time.monotonic()
            status = subprocess.run(lab_command(name)).returncode
            timings.append((name, time.monotonic() - started, status))
    else:
        # Labs share nothing (each has its namespaces, its /run and its
        # libvirtd), so several run at once; each one's output is printed
        # whole when it ends, so that it reads as if it had run alone.
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            running = {pool.submit(run_in_lab, name): name for name in names}
            for future in concurrent.futures.as_completed(running):
                seconds, status, output = future.result()
                print(output, end="", flush=True)
                timings.append((running[future], seconds, status))
        timings.sort(key=lambda timing: names.index(timing[0]))
    print(f"\n  Lab scenario times{f' ({jobs} labs at once)' if jobs > 1 else ''}")
    for name, seconds, status in timings:
        print(f"    {name:28} {seconds:6.1f} s  {'ok' if status == 0 else 'FAILED'}")
    print(f"    {'total':28} {time.monotonic() - started_all:6.1f} s")
    return 1 if any(status != 0 for _, _, status in timings) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
