"""The app reconnects by itself after libvirtd restarts (issue #20, item 7).

Runs inside tests/lab/lab.sh (root; the lab's libvirtd); tests/lab/reconnect.sh
starts it:

    tests/lab/lab.sh python3 tests/lab/daemon_restart.py [--shot PNG]

Starts the app on qemu:///system in a private desktop (tests/gui/a11y's
session: Xvfb, a session bus with the accessibility bus,
VMNET_DOCTOR_REPORT_STARTUP=1), then stops libvirtd by its PID, as an
upgrade's restart does, and checks, from the app's report lines and its
accessibility tree:

  * it reports the lost connection (libvirt's close callback, and why), and
    the window says so in a banner above the list it still shows;
  * while the daemon is down it tries again by itself, backing off, and
    two tries fail; an action that needs libvirt (Set Up Networking) says
    it must wait; the banner's Try Now tries at once;
  * once the daemon is started again the way the lab starts it, it
    reconnects without input and shows the list again, and the banner
    goes;
  * stopped once more and started again at once (within the back-off's
    first waits, as an upgrade's restart is), it is noticed and shown again
    too: the time from that restart to the painted list is printed;
  * the new connection's events arrive (a network stopped and started is
    shown), and no reconnect attempt follows once connected.

Every wait is for a report line, the tree or the daemon's exit (a pidfd),
with timeouts generous enough for a loaded two-core machine.
"""

import argparse
import os
import re
import select
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "gui", "a11y"))
from labkit import ENV, LabError, sh, virsh  # noqa: E402
from session import Desktop, SessionError  # noqa: E402

GUEST = ENV.get("LAB_GUEST", "lab-guest")
# A daemon's stop, the app's start-up and a try's back-off (at most 10 s)
# on two busy cores: far above what they take.
STEP_TIMEOUT = 30
STOP_TIMEOUT = 60
SHOWN_TIMEOUT = 90
BANNER = "Lost the connection to libvirt"
REFUSED = "Not connected to libvirt"


def libvirtd_pid():
    with open("/run/libvirtd.pid", encoding="utf-8") as pidfile:
        return int(pidfile.read().strip())


def wait_for_exit(pid, timeout):
    """Returns once process PID has exited (woken by its pidfd, no polling)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(timeout * 1000):
            raise LabError(f"libvirtd (pid {pid}) did not exit within {timeout} s of SIGTERM")
    finally:
        os.close(fd)


def field(line, name):
    """The value of NAME=VALUE in a report line."""
    match = re.search(rf"\b{name}=(\S+)", line)
    if not match:
        raise LabError(f"no {name}= in the app's line: {line}")
    return match.group(1)


def quiet(app, seconds, matches):
    """The lines matching MATCHES the app prints within SECONDS (none expected)."""
    try:
        return [app.wait_for_line("nothing", matches, seconds, after=app.mark())]
    except SessionError:
        return []


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


RESTARTED = [0.0]  # when the last restart began (wall clock, s)


def restart(app, when):
    """Starts libvirtd the way tests/lab/lab.sh does; returns the app's line
    once it has shown the list again, after printing how long that took."""
    mark = app.mark()
    RESTARTED[0] = time.time()
    sh("start_libvirtd", timeout=STOP_TIMEOUT)
    started = time.time()
    line = app.wait_for_event("reconnected list-shown ", SHOWN_TIMEOUT, after=mark)
    shown_ms = float(field(line, "at")) - RESTARTED[0] * 1000
    print(f"  libvirtd started {when} in {(started - RESTARTED[0]) * 1000:.0f} ms; the list was shown again "
          f"{shown_ms:.0f} ms after the restart began ({field(line, 'tries')} tries since the loss)", flush=True)
    return line


def check(app, window, tree, keyboard, shot):
    """The restart under the running app; returns what failed."""
    failures = []
    banner = tree.matcher(name_contains=BANNER)
    # The sidebar's VM list is a one-column grid view: AT-SPI shows its rows as table cells.
    guest_row = lambda n: tree.role(n) in ("table cell", "list item") and tree.name(n).startswith(GUEST)  # noqa: E731
    if tree.find_all(window, banner):
        failures.append("a connected window shows the reconnect banner")
    vms = len(virsh("list", "--all", "--name").split())

    # 1. The daemon stops, as a package upgrade's restart stops it.
    pid = libvirtd_pid()
    mark, stopped = app.mark(), time.monotonic()
    os.kill(pid, 15)
    line = app.wait_for_event("connection-lost ", STEP_TIMEOUT, after=mark)
    reason = line.split("connection-lost ", 1)[1].split()[0]
    print(f"  libvirtd (pid {pid}) stopped: the app reported the loss "
          f"{(time.monotonic() - stopped) * 1000:.0f} ms after SIGTERM, reason {reason}", flush=True)
    if reason not in ("eof", "error", "keepalive"):
        failures.append(f"the loss's reason is {reason!r}, not libvirt's close callback's eof/error")
    tree.wait_for(window, "the reconnect banner", banner, STEP_TIMEOUT)
    tree.wait_for(window, f"{GUEST}'s row, still listed while disconnected", guest_row, STEP_TIMEOUT)
    wait_for_exit(pid, STOP_TIMEOUT)

    # 2. While it is down the app keeps trying by itself, backing off.
    for n in (1, 2):
        app.wait_for_line(f"try {n} by the back-off's timer",
                          lambda l, n=n: l.startswith(f"vmnet-doctor: reconnect-attempt {n} ") and "by=timer" in l,
                          STEP_TIMEOUT, after=mark)
        app.wait_for_event(f"reconnect-failed {n}: ", STEP_TIMEOUT, after=mark)
    # An action that needs libvirt says it must wait (a toast), and opens nothing.
    keyboard.press("ctrl+shift+s")
    tree.wait_for(window, "the toast saying libvirt actions wait", tree.matcher(name_contains=REFUSED),
                  STEP_TIMEOUT)
    if app.reported("wizard-shown"):
        failures.append("Set Up Networking opened the wizard while disconnected")
    if shot:
        app.screenshot(shot)
    # Try Now tries at once (the timer's next try is 1 s away, then 2 s).
    mark = app.mark()
    tree.click(tree.find_one(window, "the banner's Try Now", tree.matcher("button", name_is="Try Now")))
    app.wait_for_line("a try started by Try Now",
                      lambda l: l.startswith("vmnet-doctor: reconnect-attempt ") and "by=user" in l,
                      STEP_TIMEOUT, after=mark)
    app.wait_for_event("reconnect-failed ", STEP_TIMEOUT, after=mark)

    # 3. It starts again the way the lab starts it (tests/lab/lab.sh).
    line = restart(app, "after the checks above")
    if int(field(line, "vms")) != vms:
        failures.append(f"the list shows {field(line, 'vms')} VMs after reconnecting; libvirt has {vms}")
    tree.wait_until_gone(window, "the reconnect banner", banner, STEP_TIMEOUT)
    tree.wait_for(window, f"{GUEST}'s row after reconnecting", guest_row, STEP_TIMEOUT)

    # 4. Once more, as an upgrade restarts it: back within the back-off's
    # first waits. This also shows the new connection has its close
    # callback. Its time is the one measured.
    pid, mark = libvirtd_pid(), app.mark()
    os.kill(pid, 15)
    app.wait_for_event("connection-lost ", STEP_TIMEOUT, after=mark)
    wait_for_exit(pid, STOP_TIMEOUT)
    app.wait_for_event("reconnect-failed 1: ", STEP_TIMEOUT, after=mark)
    shown_ms = float(field(restart(app, "a second time, at once"), "at")) - RESTARTED[0] * 1000
    print(f"restart to list shown: {shown_ms:.0f} ms", flush=True)
    tree.wait_until_gone(window, "the reconnect banner", banner, STEP_TIMEOUT)

    # 5. The new connection's events are followed.
    for verb, kind, state in (("net-destroy", "stopped", "inactive"), ("net-start", "started", "active")):
        mark, before = app.mark(), time.monotonic()
        virsh(verb, "default")
        app.wait_for_line(f"default {kind} shown after reconnecting",
                          lambda l, kind=kind, state=state: l.startswith(
                              f"vmnet-doctor: event-applied network-{kind} default ") and l.endswith(f" ms {state}"),
                          STEP_TIMEOUT, after=mark)
        print(f"  after reconnecting, {verb} default shown in {(time.monotonic() - before) * 1000:.0f} ms",
              flush=True)

    # 6. Connected: no more tries (nothing polls), and once the last
    # event's snapshot has settled, the app is idle.
    reconnecting = lambda l: "vmnet-doctor: reconnect-" in l or "vmnet-doctor: connection-lost" in l  # noqa: E731
    again = quiet(app, 3, reconnecting)
    ticks = cpu_ticks(app.proc.pid)
    again += quiet(app, 5, reconnecting)
    idle = cpu_ticks(app.proc.pid) - ticks
    print(f"  connected again: {idle} clock ticks of CPU in 5 s, reconnect lines in 8 s: {again or 'none'}")
    if again:
        failures.append(f"reconnect lines while connected: {again}")
    if idle > 2:
        failures.append(f"the idle app used {idle} ticks of CPU in 5 s after reconnecting")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shot", help="a screenshot of the window while libvirtd is down (PNG)")
    args = parser.parse_args()
    os.environ["VMNET_DOCTOR"] = ENV["LAB_DOCTOR"]
    failures = []
    with Desktop() as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)
        app = desktop.launch(["--connect", "qemu:///system", "--vm", GUEST], settle_timeout=SHOWN_TIMEOUT)
        try:
            if app.reported("connection-failed"):
                raise LabError("the app could not connect:\n" + app.text())
            window = tree.focused_window(app, keyboard)
            failures += check(app, window, tree, keyboard, args.shot)
        except (LabError, SessionError) as error:
            failures.append(str(error))
        except Exception as error:  # tree.TreeError, from a module imported late
            if type(error).__name__ not in ("TreeError", "Gone"):
                raise
            failures.append(str(error))
        # The GUI tests fail on any GTK warning; so does this one.
        failures += [f"the app logged: {line[:300]}" for line in app.warnings()]
        app.stop()
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (LabError, SessionError, OSError) as error:
        print(f"FAILED: {error}")
        sys.exit(1)
