#!/usr/bin/env python3
"""Accessibility audit of the real app on the demo hypervisor, through
AT-SPI as a screen reader sees it, with real key presses (XTEST).

    tests/gui/a11y/audit.py [--shots DIR]

For each view — the main window with a VM selected, each of its menus
(connections, main menu, the VM's and its cards' actions), the Host page,
the Fix dialog, the About dialog, and at 360 px the VM list and a VM
page — it asserts that:

  * every actionable control on screen (buttons, toggle and menu buttons,
    check boxes, switches, entries, menu items, list items) has a non-empty
    accessible name;
  * every sensitive one is focusable;
  * every one is reached by the keyboard: Tab is pressed until the focus
    comes back to where it started (arrow keys in menus), and each control
    must have had the focus itself or in one of its parts.

Needs Xvfb, dbus-daemon, at-spi2-core and python3-gi (gir1.2-atspi-2.0);
GSETTINGS_SCHEMA_DIR naming compiled schemas (meson's _build/data).
Screenshots of each view go to --shots (default target/gui/a11y).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session import Desktop, run_test  # noqa: E402

# Roles a user acts on. A "button" that only wraps the toggle button of a
# GtkMenuButton is checked for its name; the toggle inside takes the focus.
ACTIONABLE_ROLES = {
    "push button", "button", "toggle button", "check box", "radio button", "switch", "entry",
    "password text", "spin button", "combo box", "menu item", "check menu item", "radio menu item",
    "link", "slider", "page tab", "list item", "table cell",
}
# The title bar's window buttons (GtkWindowControls, in windows and in
# dialogs): GTK keeps them out of the Tab chain in every GTK 4 app; the
# window manager's keys and Escape do their job (the audit closes the About
# dialog with Escape).
WINDOW_CONTROLS = {"Minimize", "Maximize", "Close"}


class AuditError(Exception):
    pass


def is_window_control(node, tree):
    parent = tree.parent(node)
    siblings = tree.children(parent) if parent is not None else []
    # Icon-only buttons, alone in their box with each other; a dialog's
    # "Close" button with a text label is an ordinary control.
    return all(tree.role(s) == "button" and tree.name(s) in WINDOW_CONTROLS and not tree.children(s)
               for s in siblings)


def inside_combo_box(node, tree):
    """Whether NODE is part of a combo box (the item it shows as its
    value): the combo box is the control, named and focused as one."""
    parent = tree.parent(node)
    while parent is not None and tree.role(parent) != "application":
        if tree.role(parent) == "combo box":
            return True
        parent = tree.parent(parent)
    return False


def actionable(root, tree):
    """The actionable controls showing under ROOT."""
    found = []
    for node in tree.walk(root):
        role = tree.role(node)
        if inside_combo_box(node, tree):
            continue
        if role == "text" and tree.has(node, tree.State.EDITABLE):
            found.append(node)
        elif role not in ACTIONABLE_ROLES:
            continue
        elif role in ("list item", "table cell") and not tree.has(node, tree.State.FOCUSABLE):
            continue  # a plain row of facts that does not take the focus
        elif not is_window_control(node, tree):
            found.append(node)
    return found


def key_of(node):
    """NODE's place as child indexes from the application down: stable while
    the view does not change, and comparable across AT-SPI proxies. A cell of
    the sidebar's grid adds its name: Tab through the scrolling grid moves its
    recycled cells, and AT-SPI gave its last two the same index (seen with 15)."""
    row = (node.get_name(),) if node is not None and node.get_role_name() == "table cell" else ()
    indexes = []
    while node is not None and node.get_role_name() != "application":
        indexes.append(node.get_index_in_parent())
        node = node.get_parent()
    return tuple(reversed(indexes)) + row


def walk_focus(root, tree, keyboard, key="tab", limit=200):
    """Presses KEY until the focus returns to a place it has been; returns
    the keys of the focused nodes in order. Each press is followed by the
    focus event it causes (the tree is searched only when none comes)."""
    start = tree.focused(root)
    visited = [key_of(start)] if start is not None else []
    events = tree.FocusEvents()
    try:
        events.clear()
        for _ in range(limit):
            keyboard.press(key)
            node = events.next(timeout=3) or tree.focused(root)
            if node is None:
                raise AuditError(f"after {key}, nothing under {tree.describe(root)} has the focus; "
                                 f"the tree showed:\n{tree.dump(root)}")
            place = key_of(node)
            if place in visited:
                return visited
            visited.append(place)
    finally:
        events.close()
    raise AuditError(f"{limit} presses of {key} never brought the focus back to where it started")


def audit(view, root, tree, keyboard, key="tab"):
    """Names, focusability and keyboard reach of the controls under ROOT."""
    controls = actionable(root, tree)
    if not controls:
        raise AuditError(f"{view}: no actionable control found; the tree showed:\n{tree.dump(root)}")
    problems = []
    for node in controls:
        if not tree.name(node).strip():
            problems.append(f"no accessible name: {tree.describe(node)} at {tree.path(node)}")
    must_reach = []
    for node in controls:
        role = tree.role(node)
        if not tree.has(node, tree.State.SENSITIVE):
            continue  # insensitive controls are skipped by design
        if tree.has(node, tree.State.FOCUSABLE):
            must_reach.append(node)
        elif not (role == "button" and any(tree.role(c) == "toggle button" for c in tree.children(node))):
            problems.append(f"not focusable: {tree.describe(node)} at {tree.path(node)}")
    visited = walk_focus(root, tree, keyboard, key)
    for node in must_reach:
        place = key_of(node)
        if not any(v[:len(place)] == place for v in visited):
            problems.append(f"not reached with {key}: {tree.describe(node)} at {tree.path(node)}")
    if problems:
        raise AuditError(f"{view}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)
                         + f"\nthe tree showed:\n{tree.dump(root)}")
    print(f"  ok  {view}: {len(controls)} controls named, {len(must_reach)} reached with {key} "
          f"in {len(visited)} stops", flush=True)


def menu_buttons(root, tree):
    """The showing toggle buttons under ROOT that open a menu (GtkMenuButton:
    a button holding the toggle, and its menu once opened)."""
    return tree.find_all(root, lambda n: tree.role(n) == "toggle button" and tree.role(n.get_parent()) == "button")


def audit_menu(button, window, tree, keyboard):
    """Opens BUTTON's menu, audits it with the arrow keys, closes it."""
    name = tree.name(button)
    tree.click(button)
    menu = tree.wait_for(button.get_parent(), f"the menu of {name!r}", lambda n: tree.role(n) == "menu")
    tree.wait_for(menu, f"a focused item in the menu of {name!r}", lambda n: tree.has(n, tree.State.FOCUSED))
    audit(f"menu {name!r}", menu, tree, keyboard, key="down")
    keyboard.press("esc")
    tree.wait_until_gone(button.get_parent(), f"the menu of {name!r}", lambda n: tree.role(n) == "menu")


def expect_width_at_most(width, window, tree):
    actual, _ = tree.size(window)
    if actual > width:
        raise AuditError(f"the window is {actual} px wide, more than {width}: something in it asks for more "
                         f"(the app's log says what); the tree showed:\n{tree.dump(window)}")


def stop_clean(app):
    """Ends APP; GTK or libadwaita warnings it printed fail the audit."""
    warnings = app.warnings()
    app.stop()
    if warnings:
        raise AuditError("the app logged warnings:\n" + "\n".join(warnings))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/a11y")
    options = parser.parse_args()
    started = time.monotonic()
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)

        def open_app(args, **kwargs):
            app = desktop.launch(args, **kwargs)
            window = tree.focused_window(app, keyboard)
            return app, window

        # The main window with a VM selected: sidebar and VM page.
        app, window = open_app(["--demo", "--vm", "kali-linux"])
        tree.wait_for(window, "the VM page of kali-linux", tree.matcher("list", "Virtual Machine “kali-linux”"))
        app.screenshot(f"{options.shots}/vm-page.png")
        audit("main window, VM kali-linux selected", window, tree, keyboard)

        # Every other menu of the window (connections, the VM's and its
        # cards' actions), opened by its button and closed with Escape.
        for button in menu_buttons(window, tree):
            if tree.name(button) == "Main Menu":
                continue
            audit_menu(button, window, tree, keyboard)

        # The main menu, opened by its button; arrow keys move through menus.
        tree.click(tree.find_one(window, "the main menu button", tree.matcher("toggle button", "Main Menu")))
        menu = tree.wait_for(window, "the main menu", tree.matcher("menu", "Main Menu"))
        tree.wait_for(menu, "a focused menu item", lambda n: tree.has(n, tree.State.FOCUSED))
        audit("main menu", menu, tree, keyboard, key="down")

        # The About dialog, from the menu.
        tree.click(tree.find_one(menu, "the About item", tree.matcher("menu item", name_contains="About")))
        about = tree.wait_for(window, "the About dialog", lambda n: tree.role(n) == "dialog")
        app.screenshot(f"{options.shots}/about.png")
        audit("About dialog", about, tree, keyboard)
        keyboard.press("esc")
        tree.wait_until_gone(window, "the About dialog", lambda n: tree.role(n) == "dialog")

        # The Host page and a Fix dialog from one of its findings.
        keyboard.press("ctrl+h")
        app.wait_for_event("host-page-shown")
        audit("Host page", window, tree, keyboard)
        fix = tree.find_one(window, "a finding's Fix… button", tree.matcher("button", name_contains="Fix"))
        tree.click(fix)
        app.wait_for_event("fix-dialog-shown")
        dialog = tree.wait_for(window, "the Fix dialog", lambda n: tree.role(n) == "dialog")
        app.screenshot(f"{options.shots}/fix-dialog.png")
        audit("Fix dialog", dialog, tree, keyboard)

        stop_clean(app)

        # 360 px: the sidebar alone, then a VM page alone; the window must
        # not grow past it (a child asking for more makes GTK widen it).
        app, window = open_app(["--demo"], width=360, height=640)
        expect_width_at_most(360, window, tree)
        app.screenshot(f"{options.shots}/narrow-list.png")
        audit("360 px, the VM list", window, tree, keyboard)
        stop_clean(app)
        app, window = open_app(["--demo", "--vm", "kali-linux"], width=360, height=640)
        tree.wait_for(window, "the VM page of kali-linux", tree.matcher("list", "Virtual Machine “kali-linux”"))
        expect_width_at_most(360, window, tree)
        app.screenshot(f"{options.shots}/narrow-vm.png")
        audit("360 px, VM kali-linux", window, tree, keyboard)
        stop_clean(app)
        keyboard.close()
    print(f"  accessibility audit passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    run_test(main, AuditError)
