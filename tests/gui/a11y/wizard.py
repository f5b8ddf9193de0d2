#!/usr/bin/env python3
"""The setup wizard completed in the real app through its accessibility
tree, on the demo hypervisor (libvirt's test driver), as a first run.

    tests/gui/a11y/wizard.py [--shots DIR] [--readme-shots DIR] [--width N --height N]
                             [--fix FINDING_ID]… [--no-checks]
                             [--targets PING DNS HTTP --expect-verify STATE] [-- APP ARGS…]

APP ARGS default to --demo --vm kali-linux (README shots come only from
that); the lab passes its connection and guest, the findings it broke as
--fix (the wizard must offer and fix each), and its internet host as the
checklist's --targets, typed into the Verify page's entries.

The wizard opens by itself on a first run. On every page it waits for the
app's `wizard-step-shown STEP`, audits the page (names, focus, Tab reach:
audit.py), saves a screenshot, fixes what the page offers a Fix for by
clicking "Fix: <title>" and the Fix dialog's Apply (the finding must go
from the page; a fix to be made by hand must show its commands), runs the guest checklist on the Verify page, then goes on
with Next — or Skip where the demo cannot pass (no guest agent behind the
test driver) — until Done's Close reports `wizard-done`.

Screenshots: every page in --shots (default target/gui/wizard); the pages
README.md and the metainfo show in --readme-shots (default data/screenshots),
at the default width only. At --width 360 the window must stay that narrow.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audit import AuditError, audit, expect_width_at_most  # noqa: E402
from fix_by_clicking import expect_plan_readable, finding_titles  # noqa: E402
from session import Desktop, SessionError, run_test  # noqa: E402

STEPS = ["connection", "host-network", "firewall", "vm-nic", "guest", "verify", "done"]
# The pages worth showing in README.md and the metainfo.
README_SHOTS = {"host-network-problems": "wizard-host-network.png", "done": "wizard-done.png"}
WIZARD = "Set Up Networking"
STARTED = time.monotonic()


def step(text):
    print(f"    {time.monotonic() - STARTED:5.1f} s  {text}", flush=True)


def wizard_dialog(window, tree):
    return tree.wait_for(window, "the setup wizard", tree.matcher("dialog", WIZARD))


def is_fix_button(tree):
    return lambda n: tree.role(n) == "button" and tree.name(n).startswith("Fix: ")


def shoot(app, name, path, options):
    """The window as PNG at PATH, and in README's folder if NAME is one of its."""
    if name in README_SHOTS:
        app.screenshot(f"{options.readme_shots}/{README_SHOTS[name]}")
    return app.screenshot(path)


# The Verify page's target entries, by their accessible names.
TARGET_ENTRIES = ("Public address to ping", "Name to resolve", "Web page to fetch")


def set_targets(wizard, tree, keyboard, targets):
    """Opens the Targets row (Tab to it, Enter) and types TARGETS (ping,
    DNS, HTTP) into its entries through AT-SPI's EditableText."""
    tree.tab_to(wizard, keyboard, "the Targets row", lambda n: tree.role(n) == "list item"
                and tree.name(n) == "Targets" and tree.role(n.get_parent()) != "list")
    keyboard.press("enter")
    for entry_name, value in zip(TARGET_ENTRIES, targets):
        entry = tree.wait_for(wizard, f"the entry {entry_name!r}", tree.matcher("text", entry_name))
        tree.set_text(entry, value)
    step(f"verify: targets set to {', '.join(targets)}")


def run_checks(app, wizard, tree, keyboard, targets=None, expect=None):
    """Clicks Run Checks (at TARGETS, if given): on the demo, whose test
    driver has no guest agent, the checklist must end at once with the
    commands to run by hand; with EXPECT, the outcome must be that state."""
    run = tree.find_one(wizard, "the Run Checks button", tree.matcher("button", "Run Checks"))
    if not tree.has(run, tree.State.SENSITIVE):
        step("verify: Run Checks is not offered (the VM is not running)")
        return
    if targets:
        set_targets(wizard, tree, keyboard, targets)
    since = app.mark()
    tree.click(run)
    outcome = app.wait_for_line("the checklist's outcome", lambda line: line.startswith(
        "vmnet-doctor: wizard-check verify ") and not line.endswith(" running"), timeout=180, after=since)
    # The page is rebuilt with the outcome; Run Checks comes back with it.
    tree.wait_for(wizard, "Run Checks again", lambda n: tree.role(n) == "button"
                  and tree.name(n) == "Run Checks" and tree.has(n, tree.State.SENSITIVE))
    state = outcome.split("wizard-check verify ", 1)[1]
    if expect is not None and state != expect:
        raise SessionError(f"the checklist in the guest ended “{state}”, not “{expect}”; the page showed:\n"
                           + tree.dump(wizard))
    step(f"verify: Run Checks clicked; the app reports “{outcome.split(': ', 1)[1]}”")


def fix_offered(app, window, tree, page, first=()):
    """Clicks each Fix on the page and Apply in its dialog; the finding must
    leave the page. A fix to be made by hand (the demo's recorded host)
    must show its commands instead; it is closed and stays. Returns the ids
    of the findings fixed."""
    fixed = []
    by_hand = set()
    while True:
        wizard = wizard_dialog(window, tree)
        buttons = [b for b in tree.find_all(wizard, is_fix_button(tree))
                   if tree.has(b, tree.State.SENSITIVE) and tree.name(b) not in by_hand]
        # The findings asked for first: one fix may end others with it.
        buttons.sort(key=lambda b: tree.name(b) not in first)
        if not buttons:
            return fixed
        name = tree.name(buttons[0])
        since = app.mark()
        try:
            tree.click(buttons[0])
        except tree.Gone:
            continue  # the page was rebuilt (a new snapshot) under the click: find it again
        shown = app.wait_for_event("fix-dialog-shown", timeout=30, after=since)
        finding_id = shown.split()[2]
        dialog = tree.wait_for(window, "the Fix dialog", lambda n: tree.role(n) == "dialog"
                               and tree.name(n) != WIZARD)
        expect_plan_readable(dialog, tree)
        if tree.find_all(dialog, tree.matcher(name_is="Run these commands yourself")):
            tree.find_one(dialog, "the commands to copy", tree.matcher("button", "Copy Commands"))
            tree.click(tree.find_one(dialog, "the Fix dialog's Close", tree.matcher("button", "Close")))
            tree.wait_until_gone(window, "the Fix dialog", lambda n: tree.role(n) == "dialog" and tree.name(n) != WIZARD)
            by_hand.add(name)
            step(f"{page}: clicked {name!r}: to be made by hand, its commands shown; closed")
            continue
        tree.click(tree.find_one(dialog, "the Fix dialog's Apply", tree.matcher("button", "Apply")))
        line = app.wait_for_event(f"fix-applied {finding_id}", timeout=60)
        if not line.endswith(" gone"):
            raise SessionError(f"on the wizard's {page} page, {name!r} did not end the finding: “{line}”")
        tree.wait_until_gone(window, f"the button {name!r}", tree.matcher("button", name))
        step(f"{page}: clicked {name!r}, applied; the finding left the page")
        fixed.append(finding_id)


def go_on(wizard, tree):
    """Next when it can be pressed, else Skip (a step the demo cannot pass)."""
    for label in ("Next", "Skip"):
        found = tree.find_all(wizard, tree.matcher("button", label))
        if found and tree.has(found[0], tree.State.SENSITIVE):
            tree.click(found[0])
            return label
    raise SessionError(f"neither Next nor Skip can be pressed; the wizard showed:\n{tree.dump(wizard)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/wizard")
    parser.add_argument("--readme-shots", default="data/screenshots")
    parser.add_argument("--width", type=int, default=1100, help="window width (README shots only at 1100)")
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--fix", action="append", default=[], metavar="FINDING_ID",
                        help="a finding the wizard must offer to fix, and fix (repeatable)")
    parser.add_argument("--no-checks", action="store_true",
                        help="do not run the guest checklist (its default targets are public addresses)")
    parser.add_argument("--targets", nargs=3, metavar=("PING", "DNS", "HTTP"),
                        help="where the guest checklist points (the lab's internet host)")
    parser.add_argument("--expect-verify", metavar="STATE", help="the checklist's outcome, e.g. ok")
    argv = sys.argv[1:]
    app_args = ["--demo", "--vm", "kali-linux"]  # its card sits on a stopped network
    if "--" in argv:
        app_args = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
        README_SHOTS.clear()  # README shows the demo
    options = parser.parse_args(argv)
    if options.width != 1100:
        README_SHOTS.clear()
    fixed = []
    binary = os.path.abspath(os.environ.get("VMNET_DOCTOR", "target/debug/vmnet-doctor"))
    titles = finding_titles(binary, app_args) if options.fix else {}
    first = {f"Fix: {title}" for finding in options.fix for title in titles.get(finding, [])}
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)
        app = desktop.launch(app_args, first_run=True, width=options.width, height=options.height)
        window = tree.window(tree.application(app.accessible_pids), "VM Network Doctor")
        keyboard.focus_window(app.window_id())
        for number, page in enumerate(STEPS, 1):
            app.wait_for_event(f"wizard-step-shown {page}", timeout=30)
            wizard = wizard_dialog(window, tree)
            tree.wait_for(wizard, f"the heading of step {number}",
                          lambda n: tree.role(n) == "label" and tree.name(n).startswith(f"Step {number} of 7"))
            if tree.find_all(wizard, is_fix_button(tree)):
                # The page with its problems, before they are fixed.
                shoot(app, f"{page}-problems", f"{options.shots}/{number}-{page}-problems.png", options)
            fixed += fix_offered(app, window, tree, page, first)
            expect_width_at_most(options.width, window, tree)
            if page == "verify" and not options.no_checks:
                run_checks(app, wizard, tree, keyboard, options.targets, options.expect_verify)
            shot = shoot(app, page, f"{options.shots}/{number}-{page}.png", options)
            audit(f"wizard page {number}, {page}", wizard_dialog(window, tree), tree, keyboard)
            if page == "done":
                # The page's Close (a text button), not the title bar's icon.
                tree.click(tree.find_one(wizard, "the Done page's Close button", lambda n: tree.role(n) == "button"
                                         and tree.name(n) == "Close" and tree.children(n)))
                app.wait_for_event("wizard-done", timeout=10)
                tree.wait_until_gone(window, "the wizard", tree.matcher("dialog", WIZARD))
                step(f"done: Close clicked; wizard-done reported, the wizard closed ({shot})")
                break
            pressed = go_on(wizard, tree)
            step(f"{page}: {pressed}")
        app.stop_checked(keyboard)
    missing = [f for f in options.fix if f not in fixed]
    if missing:
        raise SessionError(f"the wizard did not offer to fix {missing}; it fixed {fixed or 'nothing'}")
    step(f"the wizard was completed through the accessibility tree; fixed: {', '.join(fixed) or 'nothing'}")


if __name__ == "__main__":
    run_test(main, AuditError)
