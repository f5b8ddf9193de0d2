"""A private desktop session for driving the real app through AT-SPI.

One `Desktop` per test process: its own Xvfb, its own session bus (which
D-Bus-activates the accessibility bus, at-spi-bus-launcher, and through it
at-spi2-registryd, exactly as on a GNOME desktop), a fresh HOME and
XDG_RUNTIME_DIR. The test process itself joins that session bus, so
`tree.py` reads the app's accessibility tree as a screen reader would.

`Desktop.launch()` starts the real app (with VMNET_DOCTOR_REPORT_STARTUP=1,
so it reports on stderr what it did) and returns an `App`; several apps may
run one after the other in the same desktop (e.g. at another width). The
app is $VMNET_DOCTOR (default target/debug/vmnet-doctor), or with
VMNET_DOCTOR_FLATPAK=APP-ID the installed Flatpak through `flatpak run`
(its settings in ~/.var/app/APP-ID; FLATPAK_USER_DIR names the
installation when HOME, fresh here, does not hold it).

Nothing of the caller's desktop leaks in, and everything started here is
ended by its PID when the desktop closes.
"""

import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

APP_ID = "io.github.vmnetdoctor.VmNetDoctor"
FLATPAK = os.environ.get("VMNET_DOCTOR_FLATPAK", "")
# Settled: the whole diagnosis on screen (the VM list may come before the
# host's facts), or the connection's error page.
SETTLED = re.compile(r"vmnet-doctor: (diagnosed|connection-failed) ")
# GTK and libadwaita complain through these; a clean run prints none.
WARNINGS = re.compile(r"CRITICAL|Gtk-WARNING|Adwaita-WARNING")


class SessionError(Exception):
    pass


def run_test(main, *failures):
    """Runs a test's MAIN: a SessionError, tree's TreeError or one of
    FAILURES ends it with "FAILED: …" and exit status 1; anything else is a
    bug in the test and keeps its traceback."""
    try:
        main()
    except (SessionError, *failures) as error:
        sys.exit(f"FAILED: {error}")
    except Exception as error:  # tree.TreeError, from a module imported late
        if type(error).__name__ != "TreeError":
            raise
        sys.exit(f"FAILED: {error}")


class Desktop:
    def __init__(self, screen="1600x1000x24"):
        self.work = tempfile.mkdtemp(prefix="vmnd-a11y-")
        os.chmod(self.work, 0o700)  # XDG_RUNTIME_DIR's rule
        self.procs = []
        self.display = self._start_xvfb(screen)
        self.bus = self._start_session_bus()
        # libatspi finds the accessibility bus through the session bus
        # (org.a11y.Bus); set before `tree` initialises it.
        os.environ.update(DISPLAY=self.display, DBUS_SESSION_BUS_ADDRESS=self.bus,
                          XDG_RUNTIME_DIR=self.work)
        os.environ.pop("AT_SPI_BUS_ADDRESS", None)

    def _start_xvfb(self, screen):
        read, write = os.pipe()
        # A Flatpak reaches X only through the socket in /tmp/.X11-unix
        # (its sandbox has no abstract sockets of the host's).
        unix = [] if FLATPAK else ["-nolisten", "unix"]
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen,
                                 "-nolisten", "tcp", *unix],
                                pass_fds=(write,), stderr=subprocess.DEVNULL)
        self.procs.append(xvfb)
        os.close(write)
        with os.fdopen(read) as number:
            display = number.readline().strip()
        if not display:
            raise SessionError("Xvfb did not start")
        return f":{display}"

    def _start_session_bus(self):
        # The bus's activation environment is this one: the accessibility
        # bus it starts must see the display and the runtime dir.
        env = dict(os.environ, DISPLAY=self.display, XDG_RUNTIME_DIR=self.work)
        # Its log (services it activates) stays in the work dir.
        log = open(os.path.join(self.work, "session-bus.log"), "w", encoding="utf-8")
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                               env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        self.procs.append(bus)
        address = bus.stdout.readline().strip()
        if not address:
            raise SessionError("the session dbus-daemon printed no address")
        return address

    def launch(self, args=("--demo",), width=1100, height=720, dark=False, first_run=False,
               schema_dir=None, extra_env=None, settle_timeout=60):
        """The real app, settled (its diagnosis or the error page shown).
        The setup wizard opens by itself on a first run; unless FIRST_RUN,
        the settings say it was dismissed once (`--setup` opens it anyway)."""
        home = tempfile.mkdtemp(prefix="home-", dir=self.work)
        # A Flatpak reads its settings from its own ~/.var/app/ID/config.
        config = f"{home}/.var/app/{FLATPAK}/config" if FLATPAK else f"{home}/.config"
        # The window size comes from GSettings, as for a user.
        os.makedirs(f"{config}/glib-2.0/settings")
        with open(f"{config}/glib-2.0/settings/keyfile", "w", encoding="utf-8") as keyfile:
            keyfile.write(f"[io/github/vmnetdoctor/VmNetDoctor]\nwindow-width={width}\nwindow-height={height}\n")
            if not first_run:
                keyfile.write("setup-state='dismissed'\n")
        # No animations: a page slide on Xvfb's software renderer stalls,
        # and a test must see the page, not the way there.
        os.makedirs(f"{config}/gtk-4.0")
        with open(f"{config}/gtk-4.0/settings.ini", "w", encoding="utf-8") as settings:
            settings.write("[Settings]\ngtk-enable-animations=false\n")
        env = {
            "PATH": os.environ["PATH"], "HOME": home, "DISPLAY": self.display, "XDG_RUNTIME_DIR": self.work,
            "DBUS_SESSION_BUS_ADDRESS": self.bus, "GSETTINGS_BACKEND": "keyfile", "LANG": "C.UTF-8",
            "GDK_BACKEND": "x11", "VMNET_DOCTOR_REPORT_STARTUP": "1",
            "ADW_DEBUG_COLOR_SCHEME": "prefer-dark" if dark else "default",
        }
        schema_dir = schema_dir or os.environ.get("GSETTINGS_SCHEMA_DIR")
        if schema_dir:
            env["GSETTINGS_SCHEMA_DIR"] = schema_dir
        for name in ("LIBVIRT_DEFAULT_URI", "DBUS_SYSTEM_BUS_ADDRESS", "FLATPAK_USER_DIR"):
            if name in os.environ:
                env[name] = os.environ[name]
        env.update(extra_env or {})
        app = App(self, args, env)
        if settle_timeout:  # 0: a test that watches the start itself
            app.wait_for_line("the app to settle (diagnosis shown or error page)", SETTLED.search, settle_timeout)
        return app

    def _bus_descendants(self):
        """PIDs the session bus activated, and theirs (the accessibility
        bus, its own dbus-daemon, the registry), so they end before the X
        server they talk to."""
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", encoding="utf-8") as file:
                        parents[int(entry)] = int(file.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        found, frontier = [], [self.procs[1].pid]
        while frontier:
            children = [pid for pid, parent in parents.items() if parent in frontier]
            found += children
            frontier = children
        return found

    def close(self):
        descendants = self._bus_descendants()
        for pid in reversed(descendants):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in descendants):
            time.sleep(0.05)
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class App:
    """The app's process and what it reported on stderr."""

    def __init__(self, desktop, args, env):
        self.desktop = desktop
        if FLATPAK:
            command = ["flatpak", "run", FLATPAK]
        else:
            binary = os.path.abspath(os.environ.get("VMNET_DOCTOR", "target/debug/vmnet-doctor"))
            if not os.access(binary, os.X_OK):
                raise SessionError(f"no app binary at {binary} (cargo build, or set VMNET_DOCTOR)")
            command = [binary]
        self.lines = queue.Queue()
        self.log = []
        self.matched = set()  # indexes in log of lines a wait returned
        self.proc = subprocess.Popen([*command, *args], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        desktop.procs.append(self.proc)
        threading.Thread(target=self._read, daemon=True).start()

    def accessible_pids(self):
        """The processes the accessibility bus may see as the app's: the app
        itself; for a Flatpak, every process `flatpak run` started (the app
        in its sandbox) and the xdg-dbus-proxy it talks to the bus through,
        which flatpak detaches and hands its arguments through a pipe (it is
        known by its name and by starting after the app; the desktop runs
        one app at a time)."""
        pids = {self.proc.pid}
        if not FLATPAK:
            return pids
        processes = {}  # pid -> (parent, start time, command line)
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    args = cmdline.read().split(b"\0")
                processes[int(entry)] = (int(fields[1]), int(fields[19]), args)
            except (OSError, IndexError, ValueError):
                continue  # not a process, or one that just ended
        started = processes.get(self.proc.pid, (0, 0, []))[1]
        frontier = {self.proc.pid}
        while frontier:
            frontier = {pid for pid, (parent, _, _) in processes.items() if parent in frontier} - pids
            pids |= frontier
        pids |= {pid for pid, (_, start, args) in processes.items()
                 if start >= started and args[0].endswith(b"xdg-dbus-proxy")}
        return pids

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def text(self):
        return "\n".join(self.log)

    def mark(self):
        """A point in the app's output: waits given it as AFTER see only
        what the app printed later (e.g. after a click)."""
        self.reported("")
        return len(self.log)

    def wait_for_line(self, what, matches, timeout=30, after=0):
        """The first stderr line not matched before for which MATCHES is
        true, including lines read while waiting for something else (the
        wizard may report its first page before the VM list is painted)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, line in enumerate(self.log):
                if index >= after and index not in self.matched and matches(line):
                    self.matched.add(index)
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise SessionError(f"waited {timeout} s for {what}; the app printed:\n{self.text()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.lines.put(None)
                raise SessionError(f"the app exited ({self.proc.wait()}) while waiting for {what}:\n{self.text()}")
            self.log.append(line)

    def wait_for_event(self, event, timeout=30, after=0):
        """Waits for `vmnet-doctor: EVENT…` (a prefix), e.g. `fix-applied network-inactive gone`."""
        prefix = f"vmnet-doctor: {event}"
        return self.wait_for_line(f"the app to report “{event}”", lambda line: line.startswith(prefix), timeout,
                                  after)

    def reported(self, event):
        """Whether `vmnet-doctor: EVENT…` was read so far (drains what is queued)."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)
                break
            self.log.append(line)
        return any(line.startswith(f"vmnet-doctor: {event}") for line in self.log)

    def warnings(self):
        self.reported("")
        return [line for line in self.log if WARNINGS.search(line)]

    def window_id(self, title="VM Network Doctor", timeout=10):
        """The X id of the app's top-level window titled TITLE."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                                  env=dict(os.environ, DISPLAY=self.desktop.display)).stdout
            # Popovers are windows with the same title: take the largest.
            sizes = [(int(m.group(2)) * int(m.group(3)), m.group(1)) for m in
                     re.finditer(r'^\s*(0x[0-9a-f]+) "' + re.escape(title) + r'".*?(\d+)x(\d+)\+', tree, re.M)]
            if sizes:
                return max(sizes)[1]
            time.sleep(0.1)
        raise SessionError(f"no X window titled {title!r}")

    def screenshot(self, path, title="VM Network Doctor"):
        """Captures the window titled TITLE as PNG; fails on a blank capture."""
        window = self.window_id(title)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        shot = os.path.join(self.desktop.work, "shot.png")
        env = dict(os.environ, DISPLAY=self.desktop.display)
        subprocess.run(["import", "-window", window, shot], check=True, env=env)
        info = subprocess.run(["convert", shot, "-format", "%w %h %[fx:standard_deviation]", "info:"],
                              capture_output=True, text=True, check=True).stdout.split()
        width, height, spread = int(info[0]), int(info[1]), float(info[2])
        if width < 300 or height < 200 or spread < 0.02:
            raise SessionError(f"the capture of {title!r} looks blank ({width}x{height}, spread {spread:.3f})")
        shutil.move(shot, path)
        return path

    def stop_checked(self, keyboard=None):
        """Ends the app (and KEYBOARD's X connection); GTK or libadwaita
        warnings it printed fail the test."""
        warnings = self.warnings()
        self.stop()
        if keyboard is not None:
            keyboard.close()
        if warnings:
            raise SessionError("the app logged warnings:\n" + "\n".join(warnings))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
