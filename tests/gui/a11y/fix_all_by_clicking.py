#!/usr/bin/env python3
"""Fix All in the real app, through its accessibility tree: the Host page
(reached with Tab and Enter), the verdict's "Fix all: N fixes, in order"
button (clicked through its AT-SPI action), the dialog's steps in order,
Apply All (clicked); then every step must show as applied or, for a host
change the demo only shows, as made by hand; the dialog say so; and the
page, diagnosed again, list only what no fix here can solve: routed-lab's
reservations and its tie to the wrong device, and the VPN's MTU on every
running NAT or routed network (by hand).

    fix_all_by_clicking.py [--shots DIR] [-- APP ARGS…]

APP ARGS default to --demo: its Host page has five fixes: routed-lab's MSS
clamp first (the host before the networks; by hand, since the demo's host
is a recording), nat-copy moved off default's subnet, then lab-nat's start
before the two autostarts (core::fix_order puts a network's start first).
routed-lab's tie to enp3s0 while the VPN routes and its colliding static
DHCP entries have no fix and stay, and
lab-nat and nat-copy, now running, meet the VPN's MTU too.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session import Desktop, SessionError, run_test  # noqa: E402
from fix_by_clicking import open_host_page  # noqa: E402

STARTED = time.monotonic()
# The demo's Host page: what each step changes, in the order applied.
MANUAL = ["Fit the VMs' TCP packets on virbr3 to what wg0 carries"]
STEPS = MANUAL + [
    "Move the virtual network “nat-copy” to the free subnet 192.168.123.0/24 and start it",
    "Start the virtual network “lab-nat”",
    "Start the virtual network “lab-nat” at boot",
    "Start the virtual network “routed-lab” at boot",
]


def step(text):
    print(f"    {time.monotonic() - STARTED:5.1f} s  {text}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/a11y")
    argv = sys.argv[1:]
    app_args = ["--demo"]
    if "--" in argv:
        app_args = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    options = parser.parse_args(argv)
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)
        app = desktop.launch(app_args, height=900)
        window = tree.window(tree.application(app.accessible_pids), "VM Network Doctor")
        keyboard.focus_window(app.window_id())
        open_host_page(app, window, tree, keyboard)
        step("the Host page is shown")
        name = f"Fix all: {len(STEPS)} fixes, in order"
        tree.click(tree.find_one(window, f"a button named {name!r}", tree.matcher("button", name)))
        app.wait_for_event(f"fix-all-dialog-shown {len(STEPS)}", timeout=60)
        dialog = tree.wait_for(window, "the Fix All dialog", lambda n: tree.role(n) == "dialog")
        listed = [tree.name(n) for n in tree.find_all(dialog, lambda n: tree.role(n) == "label")
                  if tree.name(n) in STEPS]
        if listed != STEPS:
            raise SessionError(f"the steps are {listed}, not {STEPS}:\n" + tree.dump(dialog))
        step("the dialog lists the steps in order")
        app.screenshot(f"{options.shots}/fix-all-plan.png")
        tree.click(tree.find_one(dialog, "the Apply All button", tree.matcher("button", "Apply All")))
        line = app.wait_for_event("fix-all-applied", timeout=120)
        automatic = len(STEPS) - len(MANUAL)
        if not line.endswith(f"fix-all-applied done {automatic}"):
            raise SessionError(f"the app reports “{line}”; the dialog shows:\n" + tree.dump(dialog))
        for status, count in (("Applied", automatic), ("To be made by hand", len(MANUAL))):
            shown = tree.find_all(dialog, tree.matcher(name_is=status))
            if len(shown) != count:
                raise SessionError(f"{len(shown)} steps show “{status}”, not {count}:\n" + tree.dump(dialog))
        tree.find_one(dialog, "the message that the automatic fixes were applied",
                      tree.matcher(name_contains="Every automatic fix was applied"))
        step("every automatic step is applied, the host's is left by hand, and the dialog says so")
        app.screenshot(f"{options.shots}/fix-all-done.png")
        tree.click(tree.find_one(dialog, "the Close button", tree.matcher("button", "Close")))
        tree.wait_until_gone(window, "the Fix All dialog", lambda n: tree.role(n) == "dialog")
        tree.wait_until_gone(window, "lab-nat's problem", tree.matcher(name_contains="Network “lab-nat” is not"))
        tree.wait_for(window, "the verdict on the problem no fix solves",
                      tree.matcher(name_contains="broken here: Network “routed-lab”"))
        # The networks now running meet the VPN's smaller MTU too: a Fix All
        # of the three MSS clamps, each by hand on the demo's host.
        tree.find_one(window, "the Fix All of the MSS clamps", tree.matcher("button", "Fix all: 3 fixes, in order"))
        step("the page, checked again, has only the problems of the demo host's VPN left")
        app.stop_checked(keyboard)
    step("done")


if __name__ == "__main__":
    run_test(main)
