"""The app reconnects by itself after libvirtd restarts (issue #20, item 7).

Runs inside tests/lab/lab.sh (root; the lab's libvirtd); tests/lab/reconnect.sh
starts it:

    tests/lab/lab.sh python3 tests/lab/daemon_restart.py [--verbose]

Starts the app on qemu:///system under its own Xvfb, session bus and HOME
(the App of event-latency.py, with VMNET_DOCTOR_REPORT_STARTUP=1), then
stops libvirtd by its PID, as an upgrade's restart does, and checks from
the app's report lines, giving it no input:

  * it reports the lost connection (libvirt's close callback, and why);
  * while the daemon is down it tries again, backing off, and two tries fail;
  * once the daemon is started again the way the lab starts it, it
    reconnects and shows the list again: the time from the daemon's
    restart to the painted list is printed;
  * the new connection's events arrive (a network stopped and started is
    shown), and no reconnect attempt follows once connected.

Every wait is for a report line or the daemon's exit (a pidfd), with
timeouts generous enough for a loaded two-core machine.
"""

import argparse
import importlib.util
import os
import re
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labkit import LabError, sh, virsh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# A daemon's stop, the app's start-up and a try's back-off (at most 10 s)
# on two busy cores: far above what they take.
LOST_TIMEOUT = 30
STOP_TIMEOUT = 60
SHOWN_TIMEOUT = 90


def event_latency():
    """tests/lab/event-latency.py as a module (its App drives the app)."""
    spec = importlib.util.spec_from_file_location("event_latency", os.path.join(HERE, "event-latency.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def libvirtd_pid():
    return int(open("/run/libvirtd.pid").read().strip())


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true", help="print every line of the app's stderr")
    parser.add_argument("--shot", help="a screenshot of the window while libvirtd is down (PNG)")
    args = parser.parse_args()

    latency = event_latency()

    class App(latency.App):
        """event-latency.py's App, keeping its display for the screenshot."""

        def _xvfb(self):
            self.display = super()._xvfb()
            return self.display

    vms = len(virsh("list", "--all", "--name").split())
    work = tempfile.mkdtemp(prefix="daemon-restart-")
    app = App(work, args.verbose)
    failures = []
    try:
        # 1. The daemon stops, as a package upgrade's restart stops it.
        pid = libvirtd_pid()
        stopped = time.monotonic()
        os.kill(pid, 15)
        read, line = app.wait_for("the lost connection", lambda l: "vmnet-doctor: connection-lost " in l,
                                  LOST_TIMEOUT)
        reason = line.split("connection-lost ", 1)[1].split()[0]
        print(f"  libvirtd (pid {pid}) stopped: the app reported the loss after "
              f"{(read - stopped) * 1000:.0f} ms, reason {reason}", flush=True)
        if reason not in ("eof", "error", "keepalive"):
            failures.append(f"the loss's reason is {reason!r}, not libvirt's close callback's eof/error")
        wait_for_exit(pid, STOP_TIMEOUT)

        # 2. While it is down the app keeps trying, backing off: two tries
        # fail (by then the banner has long finished sliding in).
        for n in (1, 2):
            app.wait_for(f"failed try {n} while libvirtd is down",
                         lambda l, n=n: l.startswith(f"vmnet-doctor: reconnect-failed {n}: "), LOST_TIMEOUT)
        if args.shot:
            # The banner over the last known state (a picture for people; the
            # report lines are what is checked).
            os.makedirs(os.path.dirname(os.path.abspath(args.shot)), exist_ok=True)
            subprocess.run(["import", "-display", app.display, "-window", "root", args.shot],
                           check=True, timeout=30, capture_output=True)

        # 3. It starts again the way the lab starts it (tests/lab/lab.sh).
        restarted = time.time()
        sh("start_libvirtd", timeout=STOP_TIMEOUT)
        started = time.time()
        read, line = app.wait_for("the list shown again after the restart",
                                  lambda l: "vmnet-doctor: reconnected list-shown " in l, SHOWN_TIMEOUT)
        shown_ms = float(field(line, "at")) - restarted * 1000
        tries = [l for _, l in app.log if "vmnet-doctor: reconnect-attempt " in l]
        print(f"  libvirtd started in {(started - restarted) * 1000:.0f} ms; the list was shown again "
              f"{shown_ms:.0f} ms after the restart began ({len(tries)} tries; {line.split(': ', 1)[1]})",
              flush=True)
        print(f"restart to list shown: {shown_ms:.0f} ms", flush=True)
        if int(field(line, "vms")) != vms:
            failures.append(f"the list shows {field(line, 'vms')} VMs after reconnecting; libvirt has {vms}")

        # 4. The new connection's events are followed.
        for verb, kind, state in (("net-destroy", "stopped", "inactive"), ("net-start", "started", "active")):
            before = time.monotonic()
            virsh(verb, "default")
            read, _ = app.wait_for(f"default {kind} shown after reconnecting",
                                   latency.applied(f"network-{kind}", "default", state), LOST_TIMEOUT)
            print(f"  after reconnecting, {verb} default shown in {(read - before) * 1000:.0f} ms", flush=True)

        # 5. Connected: no more tries (nothing polls), and once the last
        # event's snapshot has settled, the app is idle.
        reconnecting = lambda l: "reconnect-" in l or "connection-lost" in l  # noqa: E731
        again = app.quiet_for(3, reconnecting)
        ticks = app.cpu_ticks()
        again += app.quiet_for(5, reconnecting)
        idle = app.cpu_ticks() - ticks
        print(f"  connected again: {idle} clock ticks of CPU in 5 s, reconnect lines in 8 s: {again or 'none'}")
        if again:
            failures.append(f"reconnect lines while connected: {again}")
        if idle > 2:
            failures.append(f"the idle app used {idle} ticks of CPU in 5 s after reconnecting")
    except LabError as error:
        failures.append(str(error))
    finally:
        app.stop()

    # The GUI tests fail on any GTK warning; so does this one.
    for problem in sorted({line for _, line in app.log if "CRITICAL" in line or "-WARNING" in line}):
        failures.append(f"the app logged: {problem[:300]}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (LabError, subprocess.SubprocessError, OSError) as error:
        print(f"FAILED: {error}")
        sys.exit(1)
