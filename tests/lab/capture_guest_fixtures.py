#!/usr/bin/env python3
"""Captures the guest-side fixtures of crates/core/tests/fixtures/guest/
from real guests in the lab: the agent's answers (guest-info,
guest-get-osinfo, guest-network-get-interfaces), the probe script's output
(crates/core/src/guest/probe.sh) and the checklist's commands, each with
its argv, exit status, stdout and stderr, from the tiny busybox guest and
the full Debian 13 guest (tests/lab/debian-guest/).

    tests/lab/guest-checks.sh --capture
      (= lab.sh python3 tests/lab/capture_guest_fixtures.py, inside the lab)
    lab.sh python3 tests/lab/capture_guest_fixtures.py debian-nm-profiles
      (only the NetworkManager profile states, in a fresh Debian guest)

The argv are the ones crates/core/src/guest/checklist.rs plans for each
guest (tests/guest_checklist.rs checks that they still are).
"""

import base64
import json
import os
import sys
import time

import labkit as lab
import guest_checks

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "crates/core/tests/fixtures/guest")
PROBE = open(os.path.join(ROOT, "crates/core/src/guest/probe.sh"), encoding="utf-8").read()


def run(argv, timeout=60):
    """argv in the guest through guest-exec (no shell unless argv has one)."""
    started = lab.agent("guest-exec", {"path": argv[0], "arg": argv[1:], "capture-output": True})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = lab.agent("guest-exec-status", {"pid": started["pid"]})
        if status.get("exited"):
            decode = lambda field: base64.b64decode(status.get(field, "")).decode(errors="replace")
            return {"exit": status.get("exitcode"), "stdout": decode("out-data"), "stderr": decode("err-data")}
        time.sleep(0.1)
    raise lab.LabError(f"{argv} did not finish in {timeout} s")


def save(name, source, argv, result):
    os.makedirs(OUT, exist_ok=True)
    document = {"source": source, "argv": argv, **result}
    with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2, ensure_ascii=False)
        file.write("\n")
    print(f"  {name}: exit {result.get('exit')}")


def save_agent(name, source, command):
    save(name, source, None, {"answer": lab.agent(command)})


def capture(prefix, source, argvs):
    for name, argv in argvs:
        save(f"{prefix}-{name}", source, argv, run(argv))


def tiny():
    source = "the lab's tiny guest (tests/lab/build-guest.sh: Debian 13 kernel, busybox 1.37 static, qemu-ga 10.0)"
    lab.start_guest()
    lab.expect_network_works()
    save_agent("busybox-osinfo", source, "guest-get-osinfo")
    save_agent("busybox-info", source, "guest-info")
    save_agent("busybox-interfaces", source, "guest-network-get-interfaces")
    www, name = os.environ["LAB_WWW"], os.environ["LAB_WWW_NAME"]
    capture("busybox", source, [
        ("probe", ["/bin/sh", "-c", PROBE]),
        ("ping-gateway", ["timeout", "12", "ping", "-c", "3", "-W", "2", "192.168.122.1"]),
        ("nslookup", ["timeout", "15", "nslookup", name]),
        ("wget", ["timeout", "15", "wget", "-S", "-O", "/dev/null", "-T", "12", f"http://{name}/"]),
        ("wget-refused", ["timeout", "15", "wget", "-S", "-O", "/dev/null", "-T", "12", f"http://{www}:81/"]),
    ])
    lab.sh("sysctl -qw net.ipv4.ip_forward=0")
    capture("busybox", source + ", the lab host's IPv4 forwarding off", [
        ("ping-lost", ["timeout", "12", "ping", "-c", "3", "-W", "2", www]),
    ])
    lab.sh("sysctl -qw net.ipv4.ip_forward=1")
    capture("busybox", source + ", a name the lab's DNS does not know", [
        ("nslookup-unknown", ["timeout", "15", "nslookup", "nothere.lab.example"]),
    ])
    # busybox has ifup; an interfaces file made for another card name.
    run(["/bin/sh", "-c", "mkdir -p /etc/network && printf 'auto lo\\niface lo inet loopback\\n\\n"
         "allow-hotplug ens3\\niface ens3 inet dhcp\\n' >/etc/network/interfaces"])
    capture("busybox", source + ", /etc/network/interfaces written for ens3", [
        ("probe-ifupdown", ["/bin/sh", "-c", PROBE]),
    ])
    guest_checks.restart_agent(guest_checks.RHEL_LIKE_ALLOW_RPCS)
    lab.wait_for("the filtered agent", lab.agent_answers, 20)
    save_agent("busybox-info-allow-rpcs", source + ", qemu-ga restarted with a filter like RHEL's: "
               + guest_checks.RHEL_LIKE_ALLOW_RPCS, "guest-info")


def debian():
    source = ("the lab's Debian 13 guest (tests/lab/debian-guest/: systemd, NetworkManager 1.52, "
              "qemu-guest-agent 10.0, apt 3.0, iputils, curl)")
    guest_checks.start_debian()
    save_agent("debian13-osinfo", source, "guest-get-osinfo")
    save_agent("debian13-info", source, "guest-info")
    save_agent("debian13-interfaces-unconfigured", source + ", its profile bound to ens3", "guest-network-get-interfaces")
    capture("debian13", source + ", its profile “Wired connection 1” bound to ens3, the card enp1s0", [
        ("probe-stale-profile", ["/bin/sh", "-c", PROBE]),
    ])
    # The same mistake under systemd-networkd, then under netplan rendering
    # for networkd (Ubuntu server's way): both configure ens3.
    run(["/bin/sh", "-c", "systemctl stop NetworkManager && mkdir -p /etc/systemd/network && "
         "printf '[Match]\\nName=ens3\\n\\n[Network]\\nDHCP=yes\\n' >/etc/systemd/network/20-wired.network && "
         "systemctl start systemd-networkd"])
    capture("debian13", source + ", NetworkManager stopped, systemd-networkd running with "
            "/etc/systemd/network/20-wired.network matching Name=ens3", [
        ("probe-networkd-stale", ["/bin/sh", "-c", PROBE]),
    ])
    run(["/bin/sh", "-c", "rm /etc/systemd/network/20-wired.network && mkdir -p /etc/netplan && "
         "printf 'network:\\n  version: 2\\n  renderer: networkd\\n  ethernets:\\n    ens3:\\n      dhcp4: true\\n'"
         " >/etc/netplan/01-netcfg.yaml && chmod 600 /etc/netplan/01-netcfg.yaml && netplan generate && "
         "networkctl reload"])
    capture("debian13", source + ", NetworkManager stopped, netplan's /etc/netplan/01-netcfg.yaml (renderer "
            "networkd) configuring ens3, rendered by `netplan generate`", [
        ("probe-netplan-stale", ["/bin/sh", "-c", PROBE]),
    ])
    run(["/bin/sh", "-c", "rm /etc/netplan/01-netcfg.yaml && netplan generate && "
         "systemctl stop systemd-networkd.socket systemd-networkd && systemctl start NetworkManager"])
    run(["nmcli", "connection", "add", "type", "ethernet", "ifname", "enp1s0", "con-name", "kvm-dhcp",
         "ipv4.method", "auto", "ipv6.method", "ignore"])
    run(["nmcli", "-w", "30", "connection", "up", "kvm-dhcp"])
    www, name = os.environ["LAB_WWW"], os.environ["LAB_WWW_NAME"]
    after = source + ", the guide's kvm-dhcp profile added for enp1s0 and up"
    save_agent("debian13-interfaces", after, "guest-network-get-interfaces")
    capture("debian13", after, [
        ("probe", ["/bin/sh", "-c", PROBE]),
        ("ping-gateway", ["timeout", "12", "ping", "-c", "3", "-W", "2", "192.168.122.1"]),
        ("getent", ["timeout", "15", "getent", "ahosts", name]),
        ("getent-unknown", ["timeout", "15", "getent", "ahosts", "nothere.lab.example"]),
        ("curl", ["timeout", "15", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "12",
                  f"http://{name}/"]),
        ("curl-refused", ["timeout", "15", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                          "12", f"http://{www}:81/"]),
        ("apt-update", ["timeout", "180", "apt-get", "-q", "update"]),
    ])
    lab.sh("sysctl -qw net.ipv4.ip_forward=0")
    capture("debian13", after + ", the lab host's IPv4 forwarding off", [
        ("ping-lost", ["timeout", "12", "ping", "-c", "3", "-W", "2", www]),
        ("apt-update-failing", ["timeout", "180", "apt-get", "-q", "update"]),
    ])
    lab.sh("sysctl -qw net.ipv4.ip_forward=1")
    guest_checks.break_ipv6("enp1s0")
    capture("debian13", after + ", then a global IPv6 address and an IPv6 default route added on enp1s0", [
        ("probe-ipv6", ["/bin/sh", "-c", PROBE]),
    ])
    save_agent("debian13-interfaces-ipv6", after + ", IPv6 as in debian13-probe-ipv6", "guest-network-get-interfaces")
    run(["/bin/sh", "-c", "echo 'Acquire::ForceIPv4 \"true\";' >/etc/apt/apt.conf.d/99force-ipv4"])
    capture("debian13", after + ", IPv6 as in debian13-probe-ipv6, the guide's 99force-ipv4 written", [
        ("probe-ipv6-force-ipv4", ["/bin/sh", "-c", PROBE]),
    ])
    run(["/bin/sh", "-c", "rm /etc/apt/apt.conf.d/99force-ipv4 && printf 'net.ipv6.conf.all.disable_ipv6 = 1\\n"
         "net.ipv6.conf.default.disable_ipv6 = 1\\n' >/etc/sysctl.d/99-disable-ipv6.conf && "
         "sysctl -p /etc/sysctl.d/99-disable-ipv6.conf"])
    disabled = after + ", then the guide's 99-disable-ipv6.conf written and applied"
    capture("debian13", disabled, [("probe-ipv6-disabled", ["/bin/sh", "-c", PROBE])])
    save_agent("debian13-interfaces-ipv6-disabled", disabled, "guest-network-get-interfaces")


def debian_nm_profiles():
    """A fresh Debian guest's NetworkManager with no profile for its card,
    then with a static profile that outranks a DHCP one."""
    source = ("the lab's Debian 13 guest (tests/lab/debian-guest/: systemd, NetworkManager 1.52, "
              "qemu-guest-agent 10.0, apt 3.0, iputils, curl)")
    guest_checks.start_debian()
    guest_checks.guest_must("nmcli connection delete 'Wired connection 1'")
    none = source + ", every NetworkManager profile deleted (no automatic one: no-auto-default=*), the card enp1s0"
    capture("debian13", none, [("probe-no-profile", ["/bin/sh", "-c", PROBE])])
    save_agent("debian13-interfaces-no-profile", source + ", no profile: enp1s0 without an address",
               "guest-network-get-interfaces")
    guest_checks.guest_must("nmcli connection add type ethernet ifname enp1s0 con-name 'Wired connection 2' "
                            "ipv4.method auto ipv6.method ignore")
    guest_checks.guest_must("nmcli connection add type ethernet ifname enp1s0 con-name office "
                            "connection.autoconnect-priority 10 ipv4.method manual ipv4.addresses 192.168.1.50/24 "
                            "ipv4.gateway 192.168.1.1 ipv6.method ignore")
    # Up, as NetworkManager brings it up at boot (its priority is higher).
    guest_checks.guest_must("nmcli -w 30 connection up office", timeout=90)
    static = (source + ", the static profile “office” (192.168.1.50/24 via 192.168.1.1, autoconnect-priority 10) "
              "up on enp1s0, the DHCP profile “Wired connection 2” (priority 0) beside it")
    capture("debian13", static, [("probe-static-profile", ["/bin/sh", "-c", PROBE])])
    save_agent("debian13-interfaces-static-profile", source + ", “office” active: enp1s0 192.168.1.50/24",
               "guest-network-get-interfaces")


if __name__ == "__main__":
    # One part alone: capture_guest_fixtures.py debian-nm-profiles
    if sys.argv[1:] == ["debian-nm-profiles"]:
        debian_nm_profiles()
        sys.exit(0)
    tiny()
    lab.virsh("destroy", lab.GUEST)
    if guest_checks.debian_image():
        debian()
        lab.virsh("destroy", guest_checks.DEBIAN)
        debian_nm_profiles()
    else:
        print("  no Debian 13 guest image (tests/lab/debian-guest/build.sh): its fixtures not captured")
