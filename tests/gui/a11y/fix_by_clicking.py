#!/usr/bin/env python3
"""Fixes findings in the real app by acting on its accessibility tree, as a
screen reader user would: the host's entry (reached with Tab and Up, opened with
Enter: GTK 4 rows offer no AT-SPI action), a finding's "Fix: <title>" button (clicked through its
AT-SPI action), the Fix dialog's Apply (clicked), then the app must report
the finding gone, say so, and no longer list it.

    fix_by_clicking.py [--shots DIR] FINDING_ID… [-- APP ARGS…]

APP ARGS default to --demo (the demo hypervisor, libvirt's test driver);
the lab passes --connect qemu:///system. The findings' titles come from
`vmnet-doctor check --json` on the same connection, run before the app.
Screenshots: the Host page before, each Fix dialog's plan, the Host page
after (DIR, default target/gui/a11y).
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session import Desktop, SessionError, run_test  # noqa: E402

STARTED = time.monotonic()


def step(text):
    print(f"    {time.monotonic() - STARTED:5.1f} s  {text}", flush=True)


def finding_titles(binary, app_args):
    """{id: [title, …]} from `vmnet-doctor check --json` on APP_ARGS' connection."""
    connection = [a for a in app_args if a == "--demo"]
    if "--connect" in app_args:
        connection = ["--connect", app_args[app_args.index("--connect") + 1]]
    done = subprocess.run([binary, "check", *connection, "--json"], capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise SessionError(f"check printed no JSON (exit {done.returncode}): {done.stderr.strip()}") from None
    titles = {}
    for finding in report.get("findings", []):
        titles.setdefault(finding["id"], []).append(finding["title"])
    return titles


def is_host_entry(tree, node):
    """A connection's host entry in the sidebar's list (src/ui/sidebar_item.rs:
    "TITLE, Host · N virtual networks, PROBLEMS")."""
    return (tree.role(node) == "table cell" and tree.name(tree.parent(node)) == "Virtual machines"
            and ", Host · " in tree.name(node))


def open_host_page(app, window, tree, keyboard):
    """Tabs into the sidebar's list, goes up to the connection's host entry
    with the arrow keys and presses Enter, as a keyboard user does (GTK 4
    list rows offer no AT-SPI action, and GTK 4 does not take focus
    requests through AT-SPI)."""
    in_list = lambda n: tree.role(n) == "table cell" and tree.name(tree.parent(n)) == "Virtual machines"  # noqa: E731
    tree.tab_to(window, keyboard, "the VM list", in_list)
    tree.tab_to(window, keyboard, "the host's entry", lambda n: is_host_entry(tree, n), key="up", limit=40)
    keyboard.press("enter")
    app.wait_for_event("host-page-shown")


# Shorter than one line of text: whatever it holds is cut off (a wrapped
# text view once kept a 12 px height: its margins, no text).
MIN_LINE_HEIGHT = 14


def expect_plan_readable(dialog, tree):
    """Every text of the plan (words, commands, XML) is at least a line tall."""
    for node in tree.find_all(dialog, lambda n: tree.role(n) in ("label", "text")):
        _, height = tree.size(node)
        if height < MIN_LINE_HEIGHT:
            raise SessionError(f"a text of the Fix dialog is {height} px tall, less than a line: it is cut off "
                               f"({tree.describe(node)} at {tree.path(node)})")


def fix(app, window, tree, finding_id, titles, shots, still_reported):
    """Clicks FINDING_ID's Fix button and Apply; returns once it is gone."""
    buttons = [f"Fix: {title}" for title in titles]
    what = f"a button named {' or '.join(repr(b) for b in buttons)}"
    is_button = lambda n: tree.role(n) == "button" and tree.name(n) in buttons  # noqa: E731
    if not tree.find_all(window, is_button) and not still_reported(finding_id):
        # One fix can end two findings (e.g. UFW's routed and DHCP rules).
        step(f"{finding_id}: gone already, with the fix before")
        return
    button = tree.find_one(window, what, is_button)
    title = tree.name(button).removeprefix("Fix: ")
    tree.click(button)
    app.wait_for_event(f"fix-dialog-shown {finding_id}", timeout=60)
    dialog = tree.wait_for(window, "the Fix dialog", lambda n: tree.role(n) == "dialog")
    expect_plan_readable(dialog, tree)
    step(f"{finding_id}: the Fix dialog shows its plan")
    app.screenshot(f"{shots}/fix-{finding_id}-plan.png")
    tree.click(tree.find_one(dialog, "the dialog's Apply button", tree.matcher("button", "Apply")))
    line = app.wait_for_event(f"fix-applied {finding_id}", timeout=120)
    if not line.endswith(f"fix-applied {finding_id} gone"):
        failed = tree.find_all(window, lambda n: tree.role(n) == "dialog")
        raise SessionError(f"{finding_id} was applied, but the app reports “{line}”; the dialog showed:\n"
                           + (tree.dump(failed[0]) if failed else "(closed)"))
    tree.wait_for(window, f"the toast “Fixed: {title}”", tree.matcher(name_contains=f"Fixed: {title}"))
    tree.wait_until_gone(window, f"the button “Fix: {title}”", tree.matcher("button", f"Fix: {title}"))
    step(f"{finding_id}: applied; the app says “Fixed: {title}” and lists it no more")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/a11y")
    parser.add_argument("findings", nargs="+", metavar="FINDING_ID")
    argv = sys.argv[1:]
    app_args = ["--demo"]
    if "--" in argv:
        app_args = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    options = parser.parse_args(argv)
    binary = os.path.abspath(os.environ.get("VMNET_DOCTOR", "target/debug/vmnet-doctor"))
    titles = finding_titles(binary, app_args)
    missing = [f for f in options.findings if f not in titles]
    if missing:
        raise SessionError(f"check does not report {missing}; it reports {sorted(titles)}")
    step(f"check reports {', '.join(options.findings)}")
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)
        app = desktop.launch(app_args, height=900)
        window = tree.window(tree.application(app.accessible_pids), "VM Network Doctor")
        keyboard.focus_window(app.window_id())
        open_host_page(app, window, tree, keyboard)
        step("the Host page is shown")
        app.screenshot(f"{options.shots}/fixes-before.png")
        def still_reported(finding_id):
            return finding_id in finding_titles(binary, app_args)

        for finding_id in options.findings:
            fix(app, window, tree, finding_id, titles[finding_id], options.shots, still_reported)
        app.screenshot(f"{options.shots}/fixes-after.png")
        app.stop_checked(keyboard)
    step("done")


if __name__ == "__main__":
    run_test(main)
