#!/usr/bin/env python3
"""The data path as a screen reader meets it (issue #10): the real app on
the demo hypervisor, read through AT-SPI, driven by real key presses.

    tests/gui/data_path_a11y.py

On kali-linux (its network lab-nat is not running) it asserts that:

  * the path is one group, named, holding one toggle button per hop in
    the guide's order, each named with the hop in words and its status
    ("Bridge virbr2, network “lab-nat”, 192.168.150.0/24, DHCP
    192.168.150.2–254, not running: error: …");
  * Ctrl+D puts the keyboard focus on the hop selected first — the worst
    one — and it is the one shown pressed;
  * the arrow keys move along the hops, Space selects one, and the list
    under the path then names that hop and its findings;
  * the app logged no GTK or libadwaita warning.

Uses tests/gui/a11y's private desktop (Xvfb, session bus, accessibility
bus). Needs GSETTINGS_SCHEMA_DIR naming compiled schemas (_build/data).
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "a11y"))
from session import Desktop, SessionError  # noqa: E402

ORDER = ["Guest interface", "Virtual NIC", "Bridge", "NAT and forwarding", "Uplink", "Internet"]


class Failure(Exception):
    pass


def is_selected(tree, node):
    """GTK gives a toggle button that is on the state "pressed"."""
    return tree.has(node, tree.State.PRESSED) or tree.has(node, tree.State.CHECKED)


def expect(condition, message):
    if not condition:
        raise Failure(message)


def main():
    started = time.monotonic()
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)
        app = desktop.launch(["--demo", "--vm", "kali-linux"])
        window = tree.window(tree.application(app.proc.pid), "VM Network Doctor")
        keyboard.focus_window(app.window_id())
        tree.wait_for(window, "the window's keyboard focus", lambda n: tree.has(n, tree.State.FOCUSED))

        group = tree.wait_for(window, "the data path group",
                              lambda n: tree.name(n) == "Data Path, hop by hop")
        hops = [node for node in tree.children(group) if tree.role(node) == "toggle button"]
        names = [tree.name(node) for node in hops]
        expect([next((t for t in ORDER if n.startswith(t)), None) for n in names] == ORDER,
               f"the hops are not the guide's six, in order: {names}")
        bridge = names[2]
        expect(bridge.startswith("Bridge virbr2, network “lab-nat”, 192.168.150.0/24, DHCP 192.168.150.2–254, "
                                 "not running: error: "), f"the bridge hop reads {bridge!r}")
        expect("(and 2 more)" in bridge, f"the bridge hop does not count its other findings: {bridge!r}")
        expect(names[0].startswith("Guest interface testnet0, 192.168.150.103/24: "), names[0])
        expect(names[5].endswith("not checked: only a check inside the guest can prove it (Verify)"), names[5])
        for node in hops:
            expect(tree.has(node, tree.State.FOCUSABLE), f"{tree.describe(node)} is not focusable")

        # Ctrl+D: the focus on the hop shown first, the worst one.
        keyboard.press("ctrl+d")
        app.wait_for_event("data-path-shown kali-linux")
        tree.wait_for(window, "the focus on the bridge hop",
                      lambda n: tree.has(n, tree.State.FOCUSED) and tree.name(n) == bridge)
        expect(is_selected(tree, hops[2]), f"the worst hop is not the one selected: {names}")

        # Left arrow: the virtual NIC; Space selects it and the list follows.
        keyboard.press("left")
        card = tree.wait_for(window, "the focus on the virtual NIC hop",
                             lambda n: tree.has(n, tree.State.FOCUSED) and tree.name(n).startswith("Virtual NIC"))
        expect(tree.name(card) == "Virtual NIC virtio, link up, 52:54:00:9d:5c:34: no problems", tree.name(card))
        keyboard.press("space")
        tree.wait_for(window, "the virtual NIC shown checked",
                      lambda n: tree.name(n) == tree.name(card) and is_selected(tree, n))
        selected = tree.wait_for(window, "the selected hop's list", tree.matcher("list", "Selected hop"))
        rows = [tree.name(node) for node in tree.walk(selected)]
        expect(any(name.startswith("Virtual NIC virtio") for name in rows), f"the list shows {rows}")
        expect(any(name == "No problems found here" for name in rows), f"the list shows {rows}")
        expect(not is_selected(tree, hops[2]), "two hops are selected at once")

        # Back to the bridge: its three findings, each with its Fix… where it has one.
        keyboard.press("right", "space")
        tree.wait_for(window, "the bridge shown checked",
                      lambda n: tree.name(n) == bridge and is_selected(tree, n))
        fixes = tree.find_all(selected, tree.matcher("button", name_contains="Fix: "))
        expect(len(fixes) >= 2, f"the bridge's findings offer {[tree.name(f) for f in fixes]}")

        app.screenshot("target/gui/data-path-a11y.png")
        expect(not app.warnings(), f"the app logged warnings: {app.warnings()}")
    print(f"data path read by a screen reader: {len(names)} hops named, keys move and select "
          f"({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Failure, SessionError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
