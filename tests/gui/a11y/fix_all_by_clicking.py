#!/usr/bin/env python3
"""Fix All in the real app, through its accessibility tree: the Host page
(reached with Tab and Enter), the verdict's "Fix all: N fixes, in order"
button (clicked through its AT-SPI action), the dialog's steps in order,
Apply All (clicked); then every step must show as applied, the dialog say
so, and the page, diagnosed again, list no problem and offer no Fix All.

    fix_all_by_clicking.py [--shots DIR] [-- APP ARGS…]

APP ARGS default to --demo: its Host page has four fixes, nat-copy moved off
default's subnet, then lab-nat's start before the two autostarts
(core::fix_order puts a network's start first).
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
STEPS = [
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
        if not line.endswith(f"fix-all-applied done {len(STEPS)}"):
            raise SessionError(f"the app reports “{line}”; the dialog shows:\n" + tree.dump(dialog))
        applied = tree.find_all(dialog, tree.matcher(name_is="Applied"))
        if len(applied) != len(STEPS):
            raise SessionError(f"{len(applied)} steps show as applied, not {len(STEPS)}:\n" + tree.dump(dialog))
        tree.find_one(dialog, "the message that all were applied", tree.matcher(name_contains="Every fix was applied"))
        step("every step is applied, and the dialog says so")
        app.screenshot(f"{options.shots}/fix-all-done.png")
        tree.click(tree.find_one(dialog, "the Close button", tree.matcher("button", "Close")))
        tree.wait_until_gone(window, "the Fix All dialog", lambda n: tree.role(n) == "dialog")
        tree.wait_for(window, "the verdict that all is well",
                      tree.matcher(name_contains="No problems found with the host's virtual networking"))
        tree.wait_until_gone(window, "the Fix All button", tree.matcher(name_contains="Fix all:"))
        step("the page, checked again, has no problem left")
        app.stop_checked(keyboard)
    step("done")


if __name__ == "__main__":
    run_test(main)
