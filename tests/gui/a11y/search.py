#!/usr/bin/env python3
"""Find a VM (issue #21) as a user does it, through AT-SPI with real key
presses (XTEST), on the demo hypervisor: Ctrl+F opens the sidebar's
search, typing part of a name leaves only the VMs whose name contains it
(any case), "Only VMs With Problems" leaves only those with an error or a
warning, a search that finds nothing says so, Escape closes the search and
brings every VM back, and typing while the list has the focus opens the
search. The selected VM stays selected while the search keeps it, and its
page stays while the search hides it. The open search must pass the
audit's checks (names, focus, keyboard reach), at full width and at 360 px.

    tests/gui/a11y/search.py [--shots DIR]

Needs what audit.py needs (Xvfb, dbus-daemon, at-spi2-core, python3-gi,
GSETTINGS_SCHEMA_DIR).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audit import AuditError, audit, expect_width_at_most, stop_clean  # noqa: E402
from fix_by_clicking import is_host_entry  # noqa: E402
from session import Desktop, run_test  # noqa: E402

# What a VM row's accessible name ends with when the VM has a problem
# (src/ui/sidebar_item.rs: "NAME, SUMMARY, SEVERITY").
PROBLEM_WORDS = (", Error", ", Warning")
# The VM list is a one-column GtkGridView (src/ui/window/mod.rs says why):
# AT-SPI shows it as a table of cells, each cell one VM.
VM_LIST_ROLE, VM_ROW_ROLE = "table", "table cell"


class SearchError(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/a11y")
    options = parser.parse_args()
    started = time.monotonic()
    # A screen tall enough for every demo VM's row at once (GtkGridView
    # creates rows only for what is on screen, and the test reads them all).
    with Desktop(screen="1600x1200x24") as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)

        def vm_list(window):
            return tree.wait_for(window, "the VM list", tree.matcher(VM_LIST_ROLE, "Virtual machines"))

        def rows(window):
            """The VM rows on screen: name -> (accessible name, selected).
            The connection's host entry heads the list whatever the search."""
            items = tree.find_all(window, lambda n: tree.role(n) == VM_ROW_ROLE
                                  and tree.name(tree.parent(n)) == "Virtual machines"
                                  and not is_host_entry(tree, n))
            return {tree.name(n).split(",")[0]: (tree.name(n), tree.has(n, tree.State.SELECTED)) for n in items}

        def expect_rows(window, what, expected, timeout=10):
            """Waits until the list shows exactly the VMs EXPECTED."""
            deadline = time.monotonic() + timeout
            while True:
                shown = rows(window)
                if sorted(shown) == sorted(expected):
                    return shown
                if time.monotonic() > deadline:
                    raise SearchError(f"{what}: the sidebar lists {sorted(shown)}, not {sorted(expected)}; "
                                      f"the tree showed:\n{tree.dump(window)}")
                time.sleep(0.1)

        def type_text(text):
            keyboard.press(*["minus" if c == "-" else f"shift+{c.lower()}" if c.isupper() else c for c in text])

        def search_entry(window):
            return tree.wait_for(window, "the search entry",
                                 lambda n: tree.name(n) == "Search Virtual Machines" and tree.role(n) != "toggle button")

        def no_search(window):
            tree.wait_until_gone(window, "the search entry",
                                 lambda n: tree.name(n) == "Search Virtual Machines"
                                 and tree.role(n) != "toggle button")

        # 1000 px tall, 1100 at 360 px: every demo VM's row on screen at once.
        for width, height, label in ((1100, 1000, ""), (360, 1100, "360 px, ")):
            shot = f"{options.shots}/search{'-narrow' if width < 600 else ''}"
            args = ["--demo", "--vm", "kali-linux"]
            app = desktop.launch(args, width=width, height=height)
            window = tree.focused_window(app, keyboard)
            tree.wait_for(window, "the VM page of kali-linux", tree.matcher("list", "Virtual Machine “kali-linux”"))
            if width == 360:
                # The VM page fills the window; Ctrl+F must bring the sidebar back.
                expect_width_at_most(360, window, tree)
            keyboard.press("ctrl+f")
            entry = search_entry(window)
            tree.wait_for(window, "the focused search entry", lambda n: n == entry and tree.has(n, tree.State.FOCUSED))
            vm_list(window)
            deadline = time.monotonic() + 10
            while len(everything := rows(window)) < 14:
                if time.monotonic() > deadline:
                    raise SearchError(f"{label}the demo should list its 14 VMs, the sidebar lists "
                                      f"{sorted(everything)}; the tree showed:\n{tree.dump(window)}")
                time.sleep(0.1)
            names = sorted(everything)
            problems = [name for name, (spoken, _) in everything.items() if spoken.endswith(PROBLEM_WORDS)]
            if not 0 < len(problems) < len(names):
                raise SearchError(f"{label}the demo should have VMs with and without problems: {problems}")

            # Part of a name, in another case: the VMs whose name has it.
            type_text("LIN")
            shown = expect_rows(window, f"{label}“LIN” typed", [n for n in names if "lin" in n.lower()])
            if width > 600 and not shown["kali-linux"][1]:
                raise SearchError(f"{label}kali-linux matches “LIN” but is no longer selected: {shown}")
            app.screenshot(f"{shot}-typed.png")
            audit(f"{label}the search, “LIN” typed", window, tree, keyboard)

            # A search that hides the selected VM leaves its page; no match says so.
            # Ctrl+F selects what was typed: the next key replaces it.
            keyboard.press("ctrl+f")
            type_text("linux-x")
            expect_rows(window, f"{label}“linux-x” typed", [])
            tree.find_one(window, "the placeholder", tree.matcher(name_contains="No Matching VMs"))
            if width > 600:
                tree.find_one(window, "the page of kali-linux, hidden by the search",
                              tree.matcher("list", "Virtual Machine “kali-linux”"))
            app.screenshot(f"{shot}-no-match.png")
            for _ in range(len("linux-x")):
                keyboard.press("BackSpace")
            expect_rows(window, f"{label}the text erased", names)

            # Only VMs with problems, then with a part of a name too.
            tree.click(tree.find_one(window, "the problems toggle",
                                     tree.matcher("toggle button", "Only VMs With Problems")))
            expect_rows(window, f"{label}only VMs with problems", problems)
            keyboard.press("ctrl+f")  # back to the entry, as after a click
            type_text("u")
            expect_rows(window, f"{label}only VMs with problems and “u”", [n for n in problems if "u" in n])
            app.screenshot(f"{shot}-problems.png")

            # Escape: the search closes, every VM is back, kali-linux selected.
            keyboard.press("esc")
            no_search(window)
            shown = expect_rows(window, f"{label}Escape", names)
            app.wait_for_event("vm-search-closed")
            if width > 600 and not shown["kali-linux"][1]:
                raise SearchError(f"{label}kali-linux is not selected after Escape: {shown}")

            # Typing while the list has the focus opens the search with it.
            if width > 600:
                tree.wait_for(window, "the focus in the VM list",
                              lambda n: tree.parent(n) is not None and tree.name(tree.parent(n)) == "Virtual machines"
                              and tree.has(n, tree.State.FOCUSED))
                mark = app.mark()
                type_text("deb")
                search_entry(window)
                found = [n for n in names if "deb" in n]
                expect_rows(window, f"{label}“deb” typed in the list", found)
                # Every key reached the entry, the first one too (it opened the bar).
                app.wait_for_event(f"vm-search-applied visible={len(found)} problems-only=false text=deb", after=mark)
                # Enter: the first VM found, its row focused; Escape there closes the search too.
                keyboard.press("enter")
                tree.wait_for(window, "the VM page of debian12", tree.matcher("list", "Virtual Machine “debian12”"))
                tree.wait_for(window, "the focused row of debian12",
                              lambda n: tree.role(n) == VM_ROW_ROLE and tree.has(n, tree.State.FOCUSED)
                              and tree.name(n).startswith("debian12,"))
                keyboard.press("esc")
                no_search(window)
                expect_rows(window, f"{label}Escape", names)
            stop_clean(app)
        keyboard.close()
    print(f"  search passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    run_test(main, AuditError, SearchError)
