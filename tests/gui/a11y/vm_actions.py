#!/usr/bin/env python3
"""The VM page's actions as a screen reader user meets them, through AT-SPI
with real key presses (XTEST), on the demo hypervisor: a network card's
Change menu, the plan of Use virtio Model, the Connect to Network chooser
and the plan of a move to a stopped network (and Back),
the VM's Restart button, its confirmation and the restart itself, and the
Actions menu of a VM without a guest agent channel with that plan. Every control must be named, focusable and reached by the
keyboard (audit.py's checks), at full width and at 360 px.

    tests/gui/a11y/vm_actions.py [--shots DIR]

Needs what audit.py needs (Xvfb, dbus-daemon, at-spi2-core, python3-gi,
GSETTINGS_SCHEMA_DIR).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audit import AuditError, audit, expect_width_at_most, stop_clean  # noqa: E402
from session import Desktop, run_test  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/a11y")
    options = parser.parse_args()
    started = time.monotonic()
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)

        def open_app(args, vm="win11", **kwargs):
            app = desktop.launch(args, **kwargs)
            window = tree.focused_window(app, keyboard)
            tree.wait_for(window, f"the VM page of {vm}", tree.matcher("list", f"Virtual Machine “{vm}”"))
            return app, window

        def open_menu(window, name):
            button = tree.find_one(window, f"the menu button {name}", tree.matcher("toggle button", name))
            tree.click(button)
            menu = tree.wait_for(window, f"the menu of {name}", lambda n: tree.role(n) == "menu")
            tree.wait_for(menu, "a focused menu item", lambda n: tree.has(n, tree.State.FOCUSED))
            return menu

        def dialog_of(window):
            return tree.wait_for(window, "the dialog", lambda n: tree.role(n) == "dialog")

        def close_dialog(window):
            keyboard.press("esc")
            tree.wait_until_gone(window, "the dialog", lambda n: tree.role(n) == "dialog")

        for width, height, label in ((1100, 720, ""), (360, 640, "360 px, ")):
            app, window = open_app(["--demo", "--vm", "win11"], width=width, height=height)
            if width == 360:
                expect_width_at_most(360, window, tree)

            menu = open_menu(window, "Change Network Card 1")
            audit(f"{label}a card's Change menu", menu, tree, keyboard, key="down")
            item = tree.find_one(menu, "Use virtio Model", tree.matcher("menu item", "Use virtio Model"))
            tree.click(item)
            app.wait_for_event("vm-action-shown model")
            dialog = dialog_of(window)
            app.screenshot(f"{options.shots}/{label.replace(' ', '-').rstrip('-,')}vm-action-plan.png")
            audit(f"{label}the plan of Use virtio Model", dialog, tree, keyboard)
            close_dialog(window)

            menu = open_menu(window, "Change Network Card 1")
            tree.click(tree.find_one(menu, "Connect to Network…",
                                     tree.matcher("menu item", name_contains="Connect to Network")))
            app.wait_for_event("vm-action-shown choose-network")
            dialog = dialog_of(window)
            # The running networks and the stopped one are choices; the current one is not.
            for network in ("isolated", "lab-nat", "routed-lab"):
                tree.find_one(dialog, f"the network {network}", tree.matcher("list item", name_contains=network))
            audit(f"{label}the network chooser", dialog, tree, keyboard)
            # The first choice has the focus: the next one is the stopped
            # network, whose plan says so; Back returns to the choices.
            tree.wait_for(dialog, "the focused first choice",
                          lambda n: tree.role(n) == "list item" and tree.has(n, tree.State.FOCUSED)
                          and "isolated" in tree.name(n))
            keyboard.press("down")
            keyboard.press("enter")
            app.wait_for_event("vm-action-shown network")
            tree.find_one(dialog, "the warning that lab-nat is not running",
                          tree.matcher("label", name_contains="“lab-nat” is not running"))
            audit(f"{label}the plan of a move to a stopped network", dialog, tree, keyboard)
            tree.click(tree.find_one(dialog, "the Back button", tree.matcher("button", "Back to the Networks")))
            app.wait_for_event("vm-action-shown choose-network")
            close_dialog(window)

            # A single action is a button of its own (no one-item menu).
            tree.click(tree.find_one(window, "the Restart button", tree.matcher("button", "Restart “win11”")))
            app.wait_for_event("vm-action-shown restart")
            dialog = dialog_of(window)
            audit(f"{label}the Restart confirmation", dialog, tree, keyboard)
            tree.click(tree.find_one(dialog, "the Restart button", tree.matcher("button", "Restart")))
            app.wait_for_event("vm-started win11")
            tree.wait_until_gone(window, "the dialog", lambda n: tree.role(n) == "dialog")
            stop_clean(app)

            # A VM without a guest agent channel: a menu of two.
            app, window = open_app(["--demo", "--vm", "rocky9"], width=width, height=height, vm="rocky9")
            menu = open_menu(window, "Actions for “rocky9”")
            audit(f"{label}the VM's Actions menu", menu, tree, keyboard, key="down")
            tree.click(tree.find_one(menu, "Add Guest Agent Channel",
                                     tree.matcher("menu item", "Add Guest Agent Channel")))
            app.wait_for_event("vm-action-shown agent-channel")
            dialog = dialog_of(window)
            audit(f"{label}the plan of Add Guest Agent Channel", dialog, tree, keyboard)
            close_dialog(window)
            stop_clean(app)
        keyboard.close()
    print(f"  VM actions accessibility passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    run_test(main, AuditError)
