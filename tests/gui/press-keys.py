#!/usr/bin/env python3
"""Types key combinations into an X11 window, as a user at the keyboard would.

    press-keys.py WINDOW_ID COMBO...      e.g. press-keys.py 0x1a00007 ctrl+h

Focuses the window, then sends each combo (modifiers held while the last
key is pressed) through the X server's XTEST extension, so the app gets
real key events and handles them like any other: shortcuts, focus, keyboard
navigation. The xdotool of the build root, in a few lines of ctypes (only
libX11 and libXtst, which GTK already needs).
"""

import ctypes
import sys
import time

# Names accepted for modifiers, as their X keysyms.
MODIFIERS = {"ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L", "super": "Super_L"}
# Keys whose keysym differs from their common name.
ALIASES = {"enter": "Return", "esc": "Escape", "tab": "Tab", "space": "space", "down": "Down", "up": "Up"}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
    xtest = ctypes.cdll.LoadLibrary("libXtst.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XStringToKeysym.restype = ctypes.c_ulong
    x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xtest.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
    xtest.XTestQueryExtension.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_int)] * 4

    display = x11.XOpenDisplay(None)
    if not display:
        sys.exit("press-keys.py: cannot open the X display (DISPLAY)")
    ints = [ctypes.c_int() for _ in range(4)]
    if not xtest.XTestQueryExtension(display, *[ctypes.byref(i) for i in ints]):
        sys.exit("press-keys.py: the X server has no XTEST extension")

    window = int(sys.argv[1], 0)
    revert_to_parent, current_time = 2, 0
    x11.XSetInputFocus(display, window, revert_to_parent, current_time)
    x11.XSync(display, 0)
    time.sleep(0.2)

    for combo in sys.argv[2:]:
        codes = []
        for name in combo.split("+"):
            keysym_name = MODIFIERS.get(name.lower(), ALIASES.get(name.lower(), name))
            keysym = x11.XStringToKeysym(keysym_name.encode())
            code = x11.XKeysymToKeycode(display, keysym) if keysym else 0
            if not code:
                sys.exit(f"press-keys.py: no key for {name!r} in {combo!r}")
            codes.append(code)
        for code in codes:
            xtest.XTestFakeKeyEvent(display, code, 1, 0)
        for code in reversed(codes):
            xtest.XTestFakeKeyEvent(display, code, 0, 0)
        x11.XSync(display, 0)
        time.sleep(0.1)


if __name__ == "__main__":
    main()
