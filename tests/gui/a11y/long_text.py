#!/usr/bin/env python3
"""Long translations at 360 px: no text clipped, cut off or overlapping,
measured through the accessibility tree (AT-SPI extents), not by eye.

    tests/gui/a11y/long_text.py [--shots DIR] [--lang pseudo|de] [--width 360 --height 640]

--lang pseudo (the default) runs the app in a pseudo-locale made from the
fresh template (tests/i18n/pseudo-locale.py: every message accented,
bracketed ⟦…⟧ and about 40 % longer); --lang de in the German translation
of the build (_build/po). Views: the VM list, a VM page with problems, the Host page, a
Fix dialog, and every page of the setup wizard. In each, for
every label on the page (scrolled out of view or not):

  * its text, wrapped to the label's width in the label's own font
    (family, size and weight from AT-SPI text attributes, laid out with
    Pango), must fit the label's height, and each of its lines as GTK
    broke them (AT-SPI's line granularity) the label's width: otherwise it
    is ellipsized or cut
    (allowed only on a button whose tooltip says what it does, or under a
    tooltip with the whole text: such labels give way on purpose before the
    window grows past 360 px);
  * it must lie inside the window's width and its parent's extents;
  * the part of it on screen (a scrolled window shows only some) must not
    overlap another label.

Needs what audit.py needs, and msgfmt; GSETTINGS_SCHEMA_DIR naming compiled
schemas. Screenshots of each view go to --shots (default target/gui/long-text).
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session import Desktop, run_test  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "i18n"))
pseudo_locale = __import__("pseudo-locale")

# A pixel of rounding either way is not a cut.
SLACK = 2
# The window's width asked for (--width); it must not grow past it.
WIDTH = [360]


class LayoutError(Exception):
    pass


def locale_env(lang, work):
    """The environment that runs the app in LANG, and the label text to expect."""
    locale = os.path.join(work, "locale")
    if lang == "pseudo":
        catalogues = os.path.join(work, "po")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/i18n/pseudo-locale.py"),
                        os.path.join(ROOT, "po/vmnet-doctor.pot"), catalogues], check=True)
        name = "en_XA.UTF-8"
    else:
        catalogues = os.path.join(ROOT, "_build", "po")
        name = "de_DE.UTF-8"
    locpath = subprocess.run([os.path.join(ROOT, "tests/i18n/make-locale.sh"), locale, name],
                             check=True, capture_output=True, text=True).stdout.strip()
    env = {"LANG": name, "VMNET_DOCTOR_LOCALEDIR_OVERRIDE": catalogues}
    if locpath:
        env["LOCPATH"] = locpath
    return env


class Measure:
    """Pango layouts in the fonts the app's labels report."""

    def __init__(self):
        import cairo
        import gi
        gi.require_version("Pango", "1.0")
        gi.require_version("PangoCairo", "1.0")
        from gi.repository import Pango, PangoCairo
        self.Pango = Pango
        self.context = PangoCairo.FontMap.get_default().create_context()
        PangoCairo.context_set_resolution(self.context, 96)
        # As GTK 4 lays text out: unhinted metrics, unrounded glyph positions
        # (with hinted ones a 13 px line is 17 px high, not GTK's 16).
        options = cairo.FontOptions()
        options.set_hint_metrics(cairo.HINT_METRICS_OFF)
        options.set_hint_style(cairo.HINT_STYLE_NONE)
        PangoCairo.context_set_font_options(self.context, options)
        self.context.set_round_glyph_positions(False)

    def width(self, text, attributes):
        """TEXT's width on one line."""
        layout = self.Pango.Layout.new(self.context)
        layout.set_font_description(self.font(attributes))
        layout.set_text(text, -1)
        return layout.get_pixel_size()[0]

    def font(self, attributes):
        Pango = self.Pango
        font = Pango.FontDescription()
        font.set_family(attributes.get("family-name", "Sans"))
        font.set_absolute_size(float(attributes.get("size", "13")) * Pango.SCALE)
        font.set_weight(Pango.Weight(int(attributes.get("weight", "400"))))
        return font

    def height(self, text, attributes, width):
        """The height TEXT needs, wrapped at WIDTH pixels; and one line's."""
        Pango = self.Pango
        layout = Pango.Layout.new(self.context)
        layout.set_font_description(self.font(attributes))
        layout.set_text(text, -1)
        _, line = layout.get_pixel_size()
        layout.set_wrap(Pango.WrapMode.WORD_CHAR)
        layout.set_width((width + SLACK) * Pango.SCALE)
        _, needed = layout.get_pixel_size()
        return needed, line


def extents(node, tree):
    from gi.repository import Atspi
    try:
        box = node.get_component_iface().get_extents(Atspi.CoordType.WINDOW)
    except Exception:  # a node that left the tree
        return None
    return (box.x, box.y, box.width, box.height)


def sane(box, window_box):
    """Extents a container really has (GTK reports garbage for some
    internal nodes: zero, or billions of pixels wide)."""
    return box is not None and 0 < box[2] <= window_box[2] * 4 and 0 < box[3] < 100_000


def labels(root, tree):
    return [n for n in tree.walk(root) if tree.role(n) == "label" and tree.name(n).strip()]


def lines_of(node, length):
    """The label's lines as GTK laid them out (AT-SPI's line granularity):
    an ellipsized label has all its text on its one line."""
    from gi.repository import Atspi
    lines, offset = [], 0
    while offset < length and len(lines) < 200:
        try:
            line = Atspi.Text.get_string_at_offset(node, offset, Atspi.TextGranularity.LINE)
        except Exception:  # a node that left the tree
            return []
        if line.end_offset <= offset:
            break
        lines.append(line.content)
        offset = line.end_offset
    return lines


def text_of(node):
    from gi.repository import Atspi
    try:
        return Atspi.Text.get_text(node, 0, -1), dict(Atspi.Text.get_default_attributes(node) or {})
    except Exception:
        return None, {}


def tooltip_of(node, tree):
    """The tooltip (accessible description) that makes up for NODE's
    ellipsis: that of the button it labels (a button whose label gives way
    before the window does, e.g. in the header bar, must say in full what
    it does), or one of a widget around it that holds its whole text (a
    header bar's title)."""
    text = tree.name(node)
    control = node
    for _ in range(5):
        if control is None:
            return ""
        try:
            description = (control.get_description() or "").strip()
        except Exception:  # a node that left the tree
            return ""
        if tree.role(control) in ("button", "push button", "toggle button"):
            return description
        if description and text in description:
            return description
        control = tree.parent(control)
    return ""


def clip_to_scroll_pane(node, box, window_box, tree):
    """The part of BOX a scrolled window shows (None: scrolled out of
    view): content scrolls under a dialog's bottom bar without overlapping it."""
    pane = tree.parent(node)
    while pane is not None and tree.role(pane) not in ("scroll pane", "application"):
        pane = tree.parent(pane)
    if pane is None or tree.role(pane) != "scroll pane" or not sane(extents(pane, tree), window_box):
        return box
    px, py, pw, ph = extents(pane, tree)
    x, y = max(box[0], px), max(box[1], py)
    right, bottom = min(box[0] + box[2], px + pw), min(box[1] + box[3], py + ph)
    if right - x <= 0 or bottom - y <= 0:
        return None
    return (x, y, right - x, bottom - y)


def check_view(view, root, window, tree, measure, marker):
    """The three rules for every label under ROOT; returns the label count."""
    window_box = extents(window, tree)
    found, problems, boxes, shortened = labels(root, tree), [], [], []
    translated = measured = 0
    if window_box[2] > WIDTH[0]:
        problems.append(f"the window is {window_box[2]} px wide, more than {WIDTH[0]}: something in it asks for more")
    for node in found:
        box = extents(node, tree)
        text, attributes = text_of(node)
        if box is None or text is None or box[2] <= 0 or box[3] <= 0:
            continue
        measured += 1
        translated += marker is None or marker in text
        short = text if len(text) <= 60 else text[:57] + "…"
        needed, _ = measure.height(text, attributes, box[2])
        widest = max((measure.width(line.rstrip(), attributes) for line in lines_of(node, len(text))), default=0)
        if needed > box[3] + SLACK or widest > box[2] + SLACK:
            if tooltip_of(node, tree):
                shortened.append(short)
            else:
                problems.append(f"“{short}” does not fit (ellipsized or cut): at {box[2]} px wide it needs "
                                f"{needed} px of height and has {box[3]}; its widest line needs {widest} px "
                                f"({tree.path(node)})")
        x, y, w, h = box
        if x < window_box[0] - SLACK or x + w > window_box[0] + window_box[2] + SLACK:
            problems.append(f"“{short}” runs past the window's width: x {x}..{x + w} in a window "
                            f"{window_box[0]}..{window_box[0] + window_box[2]} ({tree.path(node)})")
        parent = tree.parent(node)
        while parent is not None and not sane(extents(parent, tree), window_box):
            parent = tree.parent(parent)
        if parent is not None:
            px, py, pw, ph = extents(parent, tree)
            if x < px - SLACK or y < py - SLACK or x + w > px + pw + SLACK or y + h > py + ph + SLACK:
                problems.append(f"“{short}” sticks out of its {tree.role(parent)}: {box} in "
                                f"{(px, py, pw, ph)} ({tree.path(node)})")
        visible = clip_to_scroll_pane(node, box, window_box, tree)
        if visible is not None:
            boxes.append((visible, short, node))
    for i, (a, a_text, _) in enumerate(boxes):
        for b, b_text, _ in boxes[i + 1:]:
            width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            if width > SLACK and height > SLACK:
                problems.append(f"“{a_text}” {a} and “{b_text}” {b} overlap by {width}×{height} px")
    if not found:
        raise LayoutError(f"{view}: no label found; the tree showed:\n{tree.dump(root)}")
    if translated == 0:
        raise LayoutError(f"{view}: no label is translated (none has “{marker}”): is the catalogue loaded?")
    if problems:
        raise LayoutError(f"{view}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    print(f"  ok  {view}: {measured} labels ({translated} translated) fit, inside their parents; "
          f"the {len(boxes)} on screen do not overlap" + (f"; ellipsized, with a tooltip: {', '.join(shortened)}" if shortened
                                  else ""), flush=True)
    return len(boxes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/long-text")
    parser.add_argument("--lang", choices=("pseudo", "de"), default="pseudo")
    parser.add_argument("--width", type=int, default=360)
    parser.add_argument("--height", type=int, default=640)
    options = parser.parse_args()
    WIDTH[0] = options.width
    started = time.monotonic()
    work = os.path.join(ROOT, "target", "i18n-test", f"long-text-{options.lang}")
    env = locale_env(options.lang, work)
    if options.lang == "pseudo":
        marker, label = "⟦", lambda text: pseudo_locale.pseudo(text).replace("_", "")
    else:
        marker = None  # that the app speaks German, tests/i18n/german.sh checks
        german = {"_Fix…": "Beheben …", "_Next": "Weiter", "_Skip": "Überspringen"}
        label = german.__getitem__
    shots = f"{options.shots}/{options.lang}"
    size = {"width": options.width, "height": options.height, "extra_env": env}
    measure = Measure()
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)

        def open_app(args, **kwargs):
            app = desktop.launch(args, **kwargs)
            window = tree.focused_window(app, keyboard)
            return app, window

        def is_button_labelled(text):
            return lambda n: tree.role(n) == "button" and any(
                tree.role(c) == "label" and tree.name(c) == text for c in tree.children(n))

        # The VM list alone: at 360 px the split view shows one page, the
        # first VM's; Alt+Left goes back to the list, as the back button does.
        app, window = open_app(["--demo"], **size)
        keyboard.press("alt+left")
        time.sleep(1)
        app.screenshot(f"{shots}/vm-list.png")
        check_view("the VM list", window, window, tree, measure, marker)
        app.stop()

        # A VM with problems, then the Host page and a Fix dialog from it.
        app, window = open_app(["--demo", "--vm", "kali-linux"], **size)
        time.sleep(1)  # the page's own layout after the list settled
        app.screenshot(f"{shots}/vm-page.png")
        check_view("VM page of kali-linux", window, window, tree, measure, marker)
        keyboard.press("ctrl+h")
        app.wait_for_event("host-page-shown")
        time.sleep(1)
        app.screenshot(f"{shots}/host-page.png")
        check_view("Host page", window, window, tree, measure, marker)
        fix = tree.find_one(window, "a finding's Fix… button", is_button_labelled(label("_Fix…")))
        tree.click(fix)
        app.wait_for_event("fix-dialog-shown")
        dialog = tree.wait_for(window, "the Fix dialog", lambda n: tree.role(n) == "dialog")
        time.sleep(1)
        app.screenshot(f"{shots}/fix-dialog.png")
        check_view("Fix dialog", dialog, window, tree, measure, marker)
        app.stop()

        # The setup wizard, every page.
        app, window = open_app(["--demo", "--vm", "kali-linux", "--setup"], **size)
        app.wait_for_event("wizard-shown")
        for step in ("connection", "host-network", "firewall", "vm-nic", "guest", "verify", "done"):
            mark = app.mark() if step != "connection" else 0  # the first page shows before wizard-shown
            if step != "connection":
                # Next, or Skip where the demo cannot pass (no guest agent).
                onward = tree.find_one(window, "the wizard's Next button", is_button_labelled(label("_Next")))
                if not tree.has(onward, tree.State.SENSITIVE):
                    onward = tree.find_one(window, "the wizard's Skip button", is_button_labelled(label("_Skip")))
                tree.click(onward)
            app.wait_for_event(f"wizard-step-shown {step}", after=mark)
            wizard = tree.wait_for(window, "the setup wizard", lambda n: tree.role(n) == "dialog")
            time.sleep(1)
            app.screenshot(f"{shots}/wizard-{step}.png")
            check_view(f"setup wizard, {step}", wizard, window, tree, measure, marker)
        app.stop()
        keyboard.close()
    print(f"  long text at {options.width} px ({options.lang}) passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    run_test(main, LayoutError)
