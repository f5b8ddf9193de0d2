#!/usr/bin/env python3
"""The setup wizard's Guest and Verify steps in the real app, on the lab's
real guest (issues #6 and #7).

Runs inside tests/lab/lab.sh (root); tests/lab/gui-wizard.sh starts it.
The guest is started and proves its network from inside. Then the app runs
as the lab's desktop user under its own Xvfb (tests/gui/screenshot.sh) with
--setup, its checklist targets pointed at the lab's internet host through
GSettings (verify-targets), and is driven by keyboard: Next through the
steps, Inspect Guest (Alt+I) on the Guest step — the guest's interface
found by MAC, no guest-side problem — and Run Checks (Alt+R) on Verify:
each step of the guide's checklist must be reported as it completes, all
passing. Then UFW is turned on (its routed deny, the lab's S3): the
Firewall step must show the problem and the checklist must fail where the
guest's traffic leaves the host; Cancel stops a run that waits.
With --debian, instead, the full Debian 13 guest (tests/lab/debian-guest),
whose only NetworkManager profile is bound to ens3 while its card is
enp1s0: Inspect Guest must show the problem with its fix (the guide's
kvm-dhcp profile). Screenshots land in target/gui/lab/.

    tests/lab/gui-wizard.sh [--slow] [--shots DIR]
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
# How long screenshot.sh waits for each event: a failing step of the
# checklist takes its whole timeout in the guest (15 s for DNS and HTTP).
EVENT_TIMEOUT = 40


def waiting(event):
    """A pair that waits for EVENT (Shift, pressed alone, does nothing)."""
    return ("shift", event)


def shoot(shots, name, pairs, settings=(), width=1100, height=720):
    """The app as the desktop user on the guest, its wizard open; PAIRS are
    (keys, expected report) as screenshot.sh takes them."""
    app_shot.shoot(shots, name, pairs, ["--vm", lab.GUEST, "--setup"], settings=settings, expect="wizard-shown",
                   width=width, height=height, event_timeout=EVENT_TIMEOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default=os.path.join(SOURCE_ROOT, "target", "gui", "lab"))
    parser.add_argument("--debian", action="store_true", help="the full Debian 13 guest instead")
    options = parser.parse_args()
    if options.debian:
        return debian(options.shots)
    # The backend under which UFW's routed deny reaches the guests (S3).
    set_firewall_backend("nftables")
    www, name = ENV["LAB_WWW"], ENV["LAB_WWW_NAME"]
    # Only the lab's internet host is contacted: never the guide's public targets.
    targets = [f"verify-targets=['', '{www}', '{name}', 'http://{name}/']"]
    try:
        lab.start_guest()
        steps = lab.expect_network_works()
        step(f"the guest's network works: {steps['lease'][1]}")
        to_guest = [("enter", "wizard-step-shown host-network"), ("enter", "wizard-check firewall ok"),
                    ("enter", "wizard-step-shown vm-nic"), ("enter", "wizard-step-shown guest")]
        shoot(options.shots, "wizard-guest.png",
              to_guest + [("alt+i", "wizard-check guest running"), waiting("wizard-check guest ok")],
              settings=targets)
        passed = [("enter", "wizard-step-shown verify"), ("alt+r", "wizard-verify-step address pass")]
        for kind in ("gateway", "ping", "dns", "http"):
            passed.append(waiting(f"wizard-verify-step {kind} pass"))
        passed.append(waiting("wizard-check verify ok"))
        shoot(options.shots, "wizard-verify.png", to_guest + passed, settings=targets, height=1000)

        lab.sh("ufw --force enable")
        lab.expect_network_broken("http")
        step("UFW enabled: the guest cannot fetch from the internet")
        to_verify = [("enter", "wizard-step-shown host-network"), ("enter", "wizard-check firewall problem"),
                     ("enter", "wizard-step-shown vm-nic"), ("enter", "wizard-step-shown guest"),
                     ("enter", "wizard-step-shown verify")]
        # The way out is blocked: DNS and the web page fail, each after its timeout.
        broken = [("alt+r", "wizard-verify-step address pass"), waiting("wizard-verify-step dns fail"),
                  waiting("wizard-verify-step http fail"), waiting("wizard-check verify problem")]
        shoot(options.shots, "wizard-verify-ufw.png", to_verify + broken, settings=targets, height=1000)
        # Cancel while the checklist runs: Run Checks hands the focus to its
        # Cancel, so Enter stops it (where Alt+C would be ambiguous with the
        # main window's own C mnemonics).
        cancelled = [("alt+r", "wizard-verify-step address pass"), ("enter", "wizard-check verify cancelled")]
        shoot(options.shots, "wizard-verify-cancelled.png", to_verify + cancelled, settings=targets)
    except lab.LabError as error:
        print(f"  FAILED: {error}", flush=True)
        return 1
    return 0


def debian(shots):
    """The Debian 13 guest's stale profile, found by the Guest step."""
    from guest_checks import start_debian  # noqa: PLC0415 (needs the lab's environment)
    try:
        booted = start_debian()
        step(f"the Debian 13 guest's agent answered after {booted:.0f} s")
        to_guest = [("enter", "wizard-step-shown host-network"), ("enter", "wizard-step-shown firewall"),
                    ("enter", "wizard-step-shown vm-nic"), ("enter", "wizard-step-shown guest")]
        # No address (vm-no-ip) because of the profile bound to ens3.
        stale = "wizard-check guest problem vm-no-ip guest-profile-interface-missing"
        shoot(shots, "wizard-guest-debian.png", to_guest + [("alt+i", "wizard-check guest running"),
                                                            waiting(stale)], height=1000)
    except lab.LabError as error:
        print(f"  FAILED: {error}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
