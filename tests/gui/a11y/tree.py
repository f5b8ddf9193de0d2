"""The app's accessibility tree, read and acted on as a screen reader does.

Built on libatspi through GObject introspection (gi.repository.Atspi, the
library pyatspi wraps). dogtail (PyPI, 2.1) finds GTK 4 nodes too, but its
click() computes screen coordinates from Mutter's D-Bus API or python-xlib
and GTK 4 reports window-relative ones, and it needs GTK 3's typelibs and a
network install; the few calls below are all these tests need, and they act
through the controls' own AT-SPI Action interface ("click", "activate").

Waits poll the tree with a timeout; every failure prints the part of the
tree it looked at.

The tree is a live view of another process: a node can leave it between
two calls (GTK drops a widget's accessible when the widget is destroyed:
"No such interface … on object at path"), and a busy app can answer late.
A query on such a node counts as "not there" (no role, no name, no state)
and the waits walk the tree again until their deadline, instead of
crashing the test on a node that was going away anyway.
"""

import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402

Atspi.init()
# libatspi gives up on a call after 0.8 s by default ("Did not receive a
# reply"): too short for an app that is laying out a dialog on a busy
# two-core machine. The waits below have their own deadlines.
Atspi.set_timeout(10_000, 30_000)

State = Atspi.StateType


class TreeError(Exception):
    pass


class Gone(TreeError):
    """A node left the tree (or stopped answering) before it could be acted on."""


def application(pid, timeout=20):
    """The AT-SPI application object of the process PID, or of one of the
    processes a function PID returns (asked again each time: a Flatpak's
    app reaches the bus through flatpak's xdg-dbus-proxy, which the bus
    sees instead of the app)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = set(pid()) if callable(pid) else {pid}
        desktop = Atspi.get_desktop(0)
        for index in range(desktop.get_child_count()):
            app = desktop.get_child_at_index(index)
            try:
                if app is not None and app.get_process_id() in pids:
                    return app
            except GLib.Error:
                continue  # an application that just left the bus
        time.sleep(0.1)
    seen = []
    desktop = Atspi.get_desktop(0)
    for index in range(desktop.get_child_count()):
        try:
            app = desktop.get_child_at_index(index)
            seen.append(f"{app.get_name()!r} (pid {app.get_process_id()})")
        except GLib.Error:
            continue
    wanted = sorted(pid()) if callable(pid) else pid
    raise TreeError(f"no application with pid {wanted} on the accessibility bus within {timeout} s; "
                    f"there: {', '.join(seen) or 'none'}")


def _ask(query, gone):
    """QUERY's answer, or GONE when the node left the tree or did not answer."""
    try:
        return query()
    except GLib.Error:
        return gone


def role(node):
    return _ask(node.get_role_name, "")


def name(node):
    return _ask(node.get_name, None) or ""


def parent(node):
    return _ask(node.get_parent, None)


def _states(node):
    return _ask(node.get_state_set, None)


def has(node, state):
    states = _states(node)
    return states is not None and states.contains(state)


def showing(node):
    states = _states(node)
    return states is not None and states.contains(State.SHOWING) and states.contains(State.VISIBLE)


def children(node):
    count = _ask(node.get_child_count, 0)
    found = (_ask(lambda i=i: node.get_child_at_index(i), None) for i in range(count))
    return [child for child in found if child is not None]


def walk(node, showing_only=True):
    """NODE's descendants, depth first; hidden subtrees skipped unless asked."""
    for child in children(node):
        if showing_only and not showing(child):
            continue
        yield child
        yield from walk(child, showing_only)


def actions(node):
    """The names of NODE's AT-SPI actions (e.g. click, activate)."""
    action = node.get_action_iface()
    if action is None:
        return []
    return _ask(lambda: [action.get_action_name(i) for i in range(action.get_n_actions())], [])


def describe(node):
    try:
        text = f"[{role(node)}] {name(node)!r}"
        states = node.get_state_set()
        flags = [label for label, state in (("focusable", State.FOCUSABLE), ("focused", State.FOCUSED),
                                            ("checked", State.CHECKED))
                 if states.contains(state)]
        if not states.contains(State.SENSITIVE):
            flags.append("insensitive")
        acts = [a for a in actions(node) if a in ("click", "activate", "press", "toggle")]
        return text + (f" {{{', '.join(flags)}}}" if flags else "") + (f" actions={acts}" if acts else "")
    except GLib.Error as error:
        return f"[gone: {error.message}]"


def dump(root, limit=250, showing_only=True):
    """The showing part of ROOT's tree as indented text (for failure messages)."""
    lines = []

    def visit(node, depth):
        if len(lines) >= limit:
            return
        # Unnamed panels only nest; they would drown the rest.
        if role(node) not in ("panel", "filler") or name(node):
            lines.append("  " * depth + describe(node))
            depth += 1
        for child in children(node):
            if not showing_only or showing(child):
                visit(child, depth)

    visit(root, 0)
    if len(lines) >= limit:
        lines.append(f"… (cut at {limit} lines)")
    return "\n".join(lines)


def find_all(root, predicate, showing_only=True):
    return [node for node in walk(root, showing_only) if _ask(lambda node=node: predicate(node), False)]


def matcher(role_name=None, name_is=None, name_contains=None):
    def matches(node):
        return ((role_name is None or role(node) == role_name)
                and (name_is is None or name(node) == name_is)
                and (name_contains is None or name_contains in name(node)))
    return matches


def wait_for(root, what, predicate, timeout=15, showing_only=True):
    """The first showing node under ROOT for which PREDICATE holds, polled until TIMEOUT."""
    deadline = time.monotonic() + timeout
    while True:
        found = find_all(root, predicate, showing_only)
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise TreeError(f"no {what} appeared within {timeout} s; the tree showed:\n{dump(root)}")
        time.sleep(0.1)


def wait_until_gone(root, what, predicate, timeout=15):
    deadline = time.monotonic() + timeout
    while find_all(root, predicate):
        if time.monotonic() > deadline:
            raise TreeError(f"{what} was still shown after {timeout} s; the tree showed:\n{dump(root)}")
        time.sleep(0.1)


def find_one(root, what, predicate, timeout=15):
    return wait_for(root, what, predicate, timeout)


def do(node, *names):
    """Runs NODE's first action among NAMES, the way a screen reader's user would."""
    action = node.get_action_iface()
    available = actions(node)
    for wanted in names:
        if wanted in available:
            try:
                done = action.do_action(available.index(wanted))
            except GLib.Error as error:
                raise Gone(f"{describe(node)} could not be asked to {wanted}: {error.message}") from error
            if not done:
                raise TreeError(f"{describe(node)} refused its action {wanted!r}")
            return
    if not available and not showing(node):
        raise Gone(f"{describe(node)} is no longer shown")
    raise TreeError(f"{describe(node)} has none of the actions {names} (it has {available})")


def set_text(node, text):
    """Replaces an editable text's contents, as a screen reader's user can."""
    editable = node.get_editable_text_iface()
    if editable is None or not Atspi.EditableText.set_text_contents(editable, text):
        raise TreeError(f"{describe(node)} does not take text through AT-SPI")
    shown = Atspi.Text.get_text(node.get_text_iface(), 0, -1)
    if shown != text:
        raise TreeError(f"{describe(node)} shows {shown!r} after being given {text!r}")


def click(node):
    do(node, "click", "activate", "press", "toggle")


def window(app, title=None, timeout=15):
    """A showing top-level window (or dialog) of APP, by title when given."""
    deadline = time.monotonic() + timeout
    while True:
        for child in children(app):
            if showing(child) and (title is None or name(child) == title):
                return child
        if time.monotonic() > deadline:
            shown = [describe(c) for c in children(app)]
            raise TreeError(f"no window {title or ''} within {timeout} s; the app has {shown}")
        time.sleep(0.1)


def focused_window(app, keyboard, title="VM Network Doctor"):
    """The main window of APP (a session.App), given the keyboard focus as
    a user's click would give it, once AT-SPI reports it focused."""
    node = window(application(app.proc.pid), title)
    keyboard.focus_window(app.window_id(title))
    wait_for(node, "the window's keyboard focus", lambda n: has(n, State.FOCUSED))
    return node


def tab_to(root, keyboard, what, predicate, key="tab", limit=100):
    """Presses KEY until the node that gains the focus satisfies PREDICATE:
    how a keyboard user reaches a control GTK 4 offers no AT-SPI action or
    focus call for. Follows focus events: a selectable label can keep a
    stale focused state in the tree after the focus left it."""
    node = focused(root)
    if node is not None and predicate(node):
        return node
    events = FocusEvents()
    try:
        events.clear()
        for _ in range(limit):
            keyboard.press(key)
            node = events.next(timeout=2)
            if node is not None and predicate(node):
                return node
    finally:
        events.close()
    raise TreeError(f"{limit} presses of {key} never focused {what}; the tree showed:\n{dump(root)}")


class FocusEvents:
    """The nodes that gained the keyboard focus, from AT-SPI's focus events
    as they arrive: a Tab walk then costs one event per press instead of a
    search of the whole tree."""

    def __init__(self):
        self.gained = []
        self.listener = Atspi.EventListener.new(self._on_event)
        self.listener.register("object:state-changed:focused")

    def _on_event(self, event):
        if event.detail1 == 1:
            self.gained.append(event.source)

    def clear(self):
        self._pump()
        self.gained.clear()

    def _pump(self):
        context = GLib.MainContext.default()
        while context.iteration(False):
            pass

    def next(self, timeout):
        """The next node that gained the focus, or None after TIMEOUT."""
        deadline = time.monotonic() + timeout
        while True:
            self._pump()
            if self.gained:
                return self.gained.pop(0)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)

    def close(self):
        self.listener.deregister("object:state-changed:focused")


def focused(root):
    """The node under ROOT that has the keyboard focus, or None."""
    for node in walk(root):
        if has(node, State.FOCUSED):
            return node
    return None


def size(node):
    """NODE's (width, height) in pixels, as GTK lays it out."""
    extent = node.get_component_iface().get_size()
    return extent.x, extent.y


def path(node):
    """NODE's place in the tree, e.g. window 'X' > list 'Problems' > button 'Fix…'."""
    parts = []
    while node is not None and role(node) != "application":
        if role(node) not in ("panel", "filler") or name(node):
            parts.append(f"{role(node)} {name(node)!r}")
        node = parent(node)
    return " > ".join(reversed(parts))
