"""Real key presses into an X11 window, through the X server's XTEST
extension: the app gets the same key events as from a keyboard (shortcuts,
Tab focus moves, mnemonics). The accessibility tests keep one Keyboard open,
since a Tab walk presses hundreds of keys; tests/gui/press-keys.py is the
same as a one-shot command, for tests/gui/screenshot.sh. The xdotool of the
build root, in a few lines of ctypes (only libX11 and libXtst, which GTK
already needs).
"""

import ctypes
import time

# Names accepted for modifiers, as their X keysyms.
MODIFIERS = {"ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L", "super": "Super_L"}
# Keys whose keysym differs from their common name; any other keysym name
# (e.g. "BackSpace", "a") is taken as it is.
ALIASES = {"enter": "Return", "esc": "Escape", "tab": "Tab", "space": "space", "down": "Down",
           "up": "Up", "left": "Left", "right": "Right", "f10": "F10", "home": "Home", "end": "End"}


class Keyboard:
    def __init__(self, display_name=None, pause=0.02):
        """Opens DISPLAY_NAME (None: $DISPLAY); PAUSE is the seconds waited
        after each combo (GTK reads X events in batches; a combo per frame
        keeps them apart)."""
        self.pause = pause
        self.x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
        self.xtest = ctypes.cdll.LoadLibrary("libXtst.so.6")
        x11, xtest = self.x11, self.xtest
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XStringToKeysym.restype = ctypes.c_ulong
        x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        x11.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong]
        x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        xtest.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        xtest.XTestQueryExtension.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_int)] * 4
        # A just-started X server may not take connections yet: retry a while.
        name = display_name.encode() if display_name else None
        deadline = time.monotonic() + 10
        self.display = x11.XOpenDisplay(name)
        while not self.display and time.monotonic() < deadline:
            time.sleep(0.1)
            self.display = x11.XOpenDisplay(name)
        if not self.display:
            raise RuntimeError(f"cannot open the X display {display_name or '(DISPLAY)'} (waited 10 s)")
        ints = [ctypes.c_int() for _ in range(4)]
        if not xtest.XTestQueryExtension(self.display, *[ctypes.byref(i) for i in ints]):
            raise RuntimeError("the X server has no XTEST extension")

    def focus_window(self, window_id):
        """Gives WINDOW_ID the X input focus, as a window manager would on a click."""
        revert_to_parent, current_time = 2, 0
        self.x11.XSetInputFocus(self.display, int(window_id, 0), revert_to_parent, current_time)
        self.x11.XSync(self.display, 0)

    def press(self, *combos):
        """Presses each combo, e.g. "tab", "shift+tab", "ctrl+h" (modifiers held
        while the last key is pressed)."""
        for combo in combos:
            codes = []
            for name in combo.split("+"):
                keysym_name = MODIFIERS.get(name.lower(), ALIASES.get(name.lower(), name))
                keysym = self.x11.XStringToKeysym(keysym_name.encode())
                code = self.x11.XKeysymToKeycode(self.display, keysym) if keysym else 0
                if not code:
                    raise ValueError(f"no key for {name!r} in {combo!r}")
                codes.append(code)
            for code in codes:
                self.xtest.XTestFakeKeyEvent(self.display, code, 1, 0)
            for code in reversed(codes):
                self.xtest.XTestFakeKeyEvent(self.display, code, 0, 0)
            self.x11.XSync(self.display, 0)
            time.sleep(self.pause)

    def close(self):
        self.x11.XCloseDisplay(self.display)
