#!/usr/bin/env python3
"""The data path and the NAT translation table in the real app, on the lab's
real guest (issue #10).

Runs inside tests/lab/lab.sh (root); tests/lab/gui-data-path.sh starts it.
The guest is started and proves its network from inside (lease, DNS, HTTP
to the lab's internet host), which leaves real connection-tracking entries
behind. Then the app runs as the lab's desktop user under its own Xvfb
(tests/gui/screenshot.sh) on the guest: Ctrl+D must report every hop the
host can check as good, read through the helper as a desktop user reads
them; the NAT Table button (Alt+T) must show the guest's connections with
their source translated to the uplink's address — read through the
helper's Connections, over the lab's system bus, with polkit. Then UFW is
turned on (its routed deny under the nftables backend, the lab's S3) and
the same view must turn the forwarding hop red. The Security page must
say the guide's four promises hold, and that "no port forwarding" does not
once a DNAT rule into the guest is added. Screenshots land in
target/gui/lab/data-path-*.png.

    tests/lab/gui-data-path.sh [--shots DIR]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import app_shot  # noqa: E402
import labkit as lab  # noqa: E402
from scenarios import set_firewall_backend, step  # noqa: E402

ENV = lab.ENV
SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def shoot(shots, name, *pairs, width=1100, height=720):
    """The app as the desktop user on the guest's page; PAIRS are (keys,
    expected report) as screenshot.sh takes them."""
    app_shot.shoot(shots, name, pairs, ["--vm", lab.GUEST], width=width, height=height)


def security_page(posture):
    """The Security page's own report of the same statements as POSTURE."""
    return posture.replace("posture-shown", "security-page-shown", 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default=os.path.join(SOURCE_ROOT, "target", "gui", "lab"))
    options = parser.parse_args()
    try:
        # The backend under which UFW's routed deny reaches the guests (S3).
        set_firewall_backend("nftables")
        lab.start_guest()
        steps = lab.expect_network_works()
        step(f"the guest's network works: {steps['lease'][1]}; its connections are in the host's table")
        vm = lab.GUEST
        healthy = (f"data-path-shown {vm} guest=good card=good bridge=good forwarding=good uplink=good "
                   "internet=unknown")
        # Real masquerading: the guest's connections leave from the uplink's address.
        translated = f"connections-shown {vm} via={ENV['LAB_UPLINK_ADDRESS']} entries="
        shoot(options.shots, "data-path.png", ("ctrl+d", healthy))
        shoot(options.shots, "data-path-nat-table.png", ("ctrl+d", healthy), ("alt+t", translated))
        # The guide's safety claims, checked on the lab host's real rules.
        safe = (f"posture-shown {vm} no-port-forwarding=holds fixes-open-nothing-inbound=holds "
                "no-inbound-to-vms=holds private-address-space=holds")
        # The Security page reports itself once it is on screen.
        shoot(options.shots, "data-path-posture.png", ("alt+t", safe), ("alt+s", security_page(safe)))
        # A port forward from the uplink into the guest, as a user would add
        # one by hand: the posture must say the guide's promise is broken.
        # (A rule only: no packet is sent.)
        address = steps["lease"][1].split()[1]
        forward = (f"PREROUTING -i {ENV['LAB_UPLINK']} -p tcp --dport 2222 -j DNAT "
                   f"--to-destination {address}:22")
        lab.sh(f"iptables -t nat -A {forward}")
        exposed = f"posture-shown {vm} no-port-forwarding=does-not-hold "
        shoot(options.shots, "data-path-port-forward.png", ("alt+t", exposed), ("alt+s", security_page(exposed)))
        lab.sh(f"iptables -t nat -D {forward}")
        lab.sh("ufw --force enable")
        lab.expect_network_broken("http")
        step("UFW enabled: the guest cannot fetch from the internet")
        broken = f"data-path-shown {vm} guest=good card=good bridge=error forwarding=error uplink=good"
        # The README's and the metainfo's screenshot: tall enough for the
        # problems, the path and the selected hop's findings.
        shoot(options.shots, "data-path-ufw.png", ("ctrl+d", broken), height=1000)
        shoot(options.shots, "data-path-ufw-narrow.png", ("ctrl+d", broken), width=360, height=640)
    except lab.LabError as error:
        print(f"  FAILED: {error}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
