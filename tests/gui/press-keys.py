#!/usr/bin/env python3
"""Types key combinations into an X11 window, as a user at the keyboard would.

    press-keys.py WINDOW_ID COMBO...      e.g. press-keys.py 0x1a00007 ctrl+h

Focuses the window, then sends each combo (modifiers held while the last
key is pressed) through the X server's XTEST extension, so the app gets
real key events and handles them like any other: shortcuts, focus, keyboard
navigation. The key presses are a11y/keyboard.py's, which the accessibility
tests use.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "a11y"))
from keyboard import Keyboard  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        # A combo every 0.1 s: a menu opened by one is shown before the next.
        keyboard = Keyboard(pause=0.1)
        keyboard.focus_window(sys.argv[1])
        time.sleep(0.2)
        keyboard.press(*sys.argv[2:])
        keyboard.close()
    except (RuntimeError, ValueError) as error:
        sys.exit(f"press-keys.py: {error}")


if __name__ == "__main__":
    main()
