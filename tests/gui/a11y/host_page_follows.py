#!/usr/bin/env python3
"""The Host page shows what changed while it was hidden: on the demo, the
Fix of network “lab-nat” is applied from kali-linux's page (through
AT-SPI, as in fix_by_clicking.py); then the Host page, opened for the first
time, must no longer offer that fix and must offer the others (routed-lab
does not start with the host).

The window builds the Host page only when it is shown (src/ui/window/
content.rs), so this fails when a page that was hidden during a change is
not brought up to date when it is opened.

    host_page_follows.py [--shots DIR]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fix_by_clicking import finding_titles, fix, open_host_page, step  # noqa: E402
from session import Desktop, SessionError, run_test  # noqa: E402

FIXED = "network-inactive"
LEFT = "network-not-autostarted"
APP_ARGS = ["--demo", "--vm", "kali-linux"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/a11y")
    options = parser.parse_args()
    binary = os.path.abspath(os.environ.get("VMNET_DOCTOR", "target/debug/vmnet-doctor"))
    titles = finding_titles(binary, ["--demo"])
    for finding_id in (FIXED, LEFT):
        if finding_id not in titles:
            raise SessionError(f"check does not report {finding_id}; it reports {sorted(titles)}")
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)
        app = desktop.launch(APP_ARGS, height=900)
        window = tree.window(tree.application(app.accessible_pids), "VM Network Doctor")
        keyboard.focus_window(app.window_id())
        step("kali-linux's page is shown")
        fix(app, window, tree, FIXED, titles[FIXED], options.shots, lambda _: True)
        # libvirt announces the start: once the app has shown it, nothing
        # else is due that would rebuild the Host page when it opens.
        app.wait_for_event("event-applied network-started lab-nat")
        open_host_page(app, window, tree, keyboard)
        # kali-linux's page also lists lab-nat's findings: only the Host page's count.
        tree.wait_until_gone(window, "kali-linux's page", tree.matcher(name_contains="“kali-linux”"))
        left = [f"Fix: {title}" for title in titles[LEFT] if "routed-lab" in title]
        tree.find_one(window, f"the button {left[0]!r} on the Host page", tree.matcher("button", left[0]))
        stale = [tree.describe(n) for n in tree.find_all(
            window, lambda n: tree.role(n) == "button" and tree.name(n) in [f"Fix: {t}" for t in titles[FIXED]])]
        if stale:
            raise SessionError(f"the Host page still offers the fix applied while it was hidden: {stale}")
        step(f"the Host page no longer offers {FIXED} and offers {LEFT} for routed-lab")
        app.screenshot(f"{options.shots}/host-page-follows.png")
        app.stop_checked(keyboard)
    step("done")


if __name__ == "__main__":
    run_test(main)
