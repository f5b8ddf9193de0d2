"""How fast the app shows a change made with virsh, through libvirt's events.

Runs inside tests/lab/lab.sh (root; the lab's libvirtd and guest):

    tests/lab/lab.sh python3 tests/lab/event-latency.py [--tries N]

Starts the guest, then the app (LAB_DOCTOR) on qemu:///system under its own
Xvfb, session bus and HOME, with VMNET_DOCTOR_REPORT_STARTUP=1 so that it
prints `vmnet-doctor: event-applied KIND NAME N ms STATE` once the window has
painted a snapshot taken for libvirt's event. Then, N times, it toggles the
guest NIC's link the way virt-manager does (`virsh update-device --live
--config`, which libvirt announces), and stops and starts `default` a few
times, timing each from just before the virsh call to the line showing the
new state. It also checks that a live-only `virsh domif-setlink` produces
no event (libvirt announces none) and that the idle app uses no CPU.

With --beside-checklist the app runs the guest checklist in the guest over
and over meanwhile, on its own connection (src/ui/window/guest_load_bench.rs,
pointed at the lab's web host), and only the link toggles are timed: the UI
must not wait on a guest (issue #20). The target then holds the app's own
time, from libvirt's event reaching it to the painted frame ("event → UI");
both times are printed.

GSETTINGS_SCHEMA_DIR must name compiled schemas (meson's _build/data);
without it, ./_build/data is used when it exists.
"""

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labkit  # noqa: E402
from labkit import ENV, LabError, virsh  # noqa: E402

GUEST = ENV.get("LAB_GUEST", "lab-guest")
MAC = ENV.get("LAB_GUEST_MAC", "52:54:00:1a:b0:01")
NIC = """<interface type='network'><mac address='{mac}'/><source network='default'/>\
<model type='virtio'/><link state='{state}'/></interface>"""
TARGET_MEDIAN_MS = 100
# A network stopped or started: the app's part, from libvirt's event to the
# painted frame (it reads the host again), median and every one.
NETWORK_MEDIAN_CEILING_MS = 1000
NETWORK_OUTER_CEILING_MS = 5000
# Beside the checklist, at most this many times --tries toggles while waiting
# for a round of it to finish.
MAX_TRIES_FACTOR = 6


class App:
    """The app under Xvfb; its stderr lines, each with when it was read."""

    def __init__(self, work, verbose=False, extra_env=None):
        self.work = work
        self.verbose = verbose
        self.lines = queue.Queue()
        self.log = []
        self.procs = []
        display = self._xvfb()
        home = os.path.join(work, "home")
        os.makedirs(home)
        schemas = ENV.get("GSETTINGS_SCHEMA_DIR") or os.path.abspath("_build/data")
        pidfile = os.path.join(work, "app.pid")
        env = {
            "PATH": ENV["PATH"], "HOME": home, "DISPLAY": display, "XDG_RUNTIME_DIR": work,
            "GSETTINGS_BACKEND": "memory", "GSETTINGS_SCHEMA_DIR": schemas,
            "GTK_A11Y": "none", "NO_AT_BRIDGE": "1", "GDK_BACKEND": "x11", "LANG": "C.UTF-8",
            "VMNET_DOCTOR_REPORT_STARTUP": "1", "LIBVIRT_DEFAULT_URI": "qemu:///system",
        }
        env.update(extra_env or {})
        if "GSK_RENDERER" in ENV:  # e.g. cairo, to compare with the default GL renderer
            env["GSK_RENDERER"] = ENV["GSK_RENDERER"]
        # The shell records the app's pid, then becomes the app.
        app = subprocess.Popen(
            ["dbus-run-session", "--", "sh", "-c", 'echo $$ >"$0"; exec "$@"', pidfile,
             ENV["LAB_DOCTOR"], "--connect", "qemu:///system", "--vm", GUEST],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.procs.append(app)
        threading.Thread(target=self._read, args=(app.stderr,), daemon=True).start()
        self.wait_for("the VM list", lambda line: "vm-list-populated" in line or "connection-failed" in line, 60)
        if any("connection-failed" in line for _, line in self.log):
            raise LabError("the app could not connect:\n" + self.text())
        self.pid = int(labkit.wait_for("the app's pid", lambda: open(pidfile).read().strip(), 5))

    def _xvfb(self):
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24",
                                 "-nolisten", "tcp", "-nolisten", "unix"],
                                pass_fds=(write,), stderr=subprocess.DEVNULL)
        self.procs.append(xvfb)
        os.close(write)
        with os.fdopen(read) as number:
            display = number.readline().strip()
        if not display:
            raise LabError("Xvfb did not start")
        return f":{display}"

    def _read(self, stream):
        for line in stream:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def text(self):
        return "\n".join(line for _, line in self.log)

    def wait_for(self, what, matches, timeout):
        """The (time read, line) of the first new line that matches."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LabError(f"the app printed no line for {what} within {timeout} s; its output:\n"
                               + self.text())
            try:
                read, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.log.append((read, line))
            if self.verbose:
                print(f"    app: {line}", flush=True)
            if matches(line):
                return read, line

    def drain(self):
        """Takes in the lines printed so far, waiting for none."""
        while True:
            try:
                read, line = self.lines.get_nowait()
            except queue.Empty:
                return
            self.log.append((read, line))
            if self.verbose:
                print(f"    app: {line}", flush=True)

    def quiet_for(self, seconds, matches):
        """The matching lines printed within SECONDS (none expected)."""
        try:
            return [self.wait_for("nothing", matches, seconds)[1]]
        except LabError:
            return []

    def cpu_ticks(self):
        fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def applied(kind, name, state):
    """Matches the app's line for KIND on NAME showing STATE."""
    prefix = f"vmnet-doctor: event-applied {kind} {name} "
    return lambda line: line.startswith(prefix) and line.split(" ms ", 1)[-1] == state


def timed(app, action, matches, what):
    """Runs ACTION and returns ms from just before it to the app's line."""
    start = time.monotonic()
    action()
    read, line = app.wait_for(what, matches, 10)
    return (read - start) * 1000, line


def app_ms(line):
    """The app's own time in its line: from libvirt's event reaching it to
    the painted frame (`… event-applied KIND NAME 112.1 ms STATE`)."""
    try:
        return float(line.split(" ms ", 1)[0].rsplit(" ", 1)[1])
    except (IndexError, ValueError):
        raise LabError(f"no time in the app's line: {line}") from None


def summary(name, samples):
    return (f"{name}: median {statistics.median(samples):.1f} ms, max {max(samples):.1f} ms, "
            f"min {min(samples):.1f} ms over {len(samples)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--network-tries", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="print every line of the app's stderr")
    parser.add_argument("--beside-checklist", action="store_true",
                        help="time the link toggles while the app runs the guest checklist in a loop")
    parser.add_argument("--target-median-ms", type=float, default=TARGET_MEDIAN_MS,
                        help="fail when the link toggle's median is not below this (the benchmark's target "
                             "is 100 ms; CI asks for the app issue's 200 ms, since a loaded 2-core machine "
                             "lands on either side of 100)")
    args = parser.parse_args()

    labkit.start_guest()
    work = tempfile.mkdtemp(prefix="event-latency-")
    nic_files = {}
    for state in ("up", "down"):
        nic_files[state] = os.path.join(work, f"nic-{state}.xml")
        with open(nic_files[state], "w") as file:
            file.write(NIC.format(mac=MAC, state=state))

    extra_env = {}
    if args.beside_checklist:
        www = ENV["LAB_WWW_NAME"]
        extra_env = {"VMNET_DOCTOR_BENCH_GUEST_LOAD": GUEST,
                     "VMNET_DOCTOR_BENCH_GUEST_TARGETS": f"{ENV['LAB_WWW']},{www},http://{www}/"}
    app = App(work, args.verbose, extra_env)
    failures = []
    try:
        if args.beside_checklist:
            # The guest boots and its agent connects; then steps run in it.
            _, line = app.wait_for("the checklist running in the guest",
                                   lambda line: "guest-load step-ran" in line or "guest-load failed" in line, 240)
            if "failed" in line:
                raise LabError(f"the checklist could not run beside: {line}")
        # Let start-up's own events (the agent connecting) pass.
        app.quiet_for(2, lambda line: False)
        rounds_before = sum("guest-load round" in line for _, line in app.log)

        def rounds_since():
            return sum("guest-load round" in line for _, line in app.log) - rounds_before

        links = []
        in_app = []
        state = "up"
        # Beside the checklist, the toggles go on until a round of it has
        # finished meanwhile (a round takes longer on a loaded machine), so
        # every run times the UI with guest work really running beside.
        while len(links) < args.tries or (args.beside_checklist and rounds_since() < 1
                                          and len(links) < MAX_TRIES_FACTOR * args.tries):
            app.drain()
            state = "down" if state == "up" else "up"
            ms, line = timed(
                app, lambda: virsh("update-device", GUEST, nic_files[state], "--live", "--config"),
                applied("domain-defined", GUEST, f"running links={state}"), f"link {state}")
            links.append(ms)
            in_app.append(app_ms(line))
            print(f"  update-device link {state}: {ms:6.1f} ms  ({line})", flush=True)
            time.sleep(0.3)
        print(summary("link toggle (update-device --live --config)", links), flush=True)
        print(summary("  of which the app's, from libvirt's event to the painted frame", in_app), flush=True)
        # Beside the checklist the target is issue #20's "event → UI": the
        # app's own time, without virsh's start and libvirtd's work (which
        # the machine's load stretches, not the guest's). Alone, the change
        # made with virsh is timed whole.
        timed_samples, what = (in_app, "event → UI") if args.beside_checklist else (links, "link toggle")
        if statistics.median(timed_samples) >= args.target_median_ms:
            failures.append(f"{what} median {statistics.median(timed_samples):.1f} ms >= {args.target_median_ms} ms")
        if args.beside_checklist:
            app.quiet_for(0.5, lambda line: False)  # reads what the app printed meanwhile
            rounds = rounds_since()
            print(f"checklist rounds finished in the guest meanwhile: {rounds}", flush=True)
            if rounds < 1:
                failures.append("no checklist round finished while the links were toggled: nothing ran beside")
            if any("guest-load failed" in line for _, line in app.log):
                failures.append("the checklist stopped running beside the measurement")
            return report(app, failures)

        networks = {"stopped": [], "started": []}
        networks_in_app = {"stopped": [], "started": []}
        for _ in range(args.network_tries):
            for verb, kind, shown in (("net-destroy", "stopped", "inactive"), ("net-start", "started", "active")):
                ms, line = timed(app, lambda: virsh(verb, "default"),
                                 applied(f"network-{kind}", "default", shown), f"default {kind}")
                networks[kind].append(ms)
                networks_in_app[kind].append(app_ms(line))
                print(f"  {verb} default: {ms:6.1f} ms  ({line})", flush=True)
                time.sleep(0.3)
        for kind, samples in networks.items():
            print(summary(f"network {kind}", samples), flush=True)
            print(summary("  of which the app's, from libvirt's event to the painted frame",
                          networks_in_app[kind]), flush=True)
            # The ceiling is the app's: libvirtd's own start of a network
            # (dnsmasq, its firewall rules) is what a loaded machine
            # stretches (a net-start took 2.6 s beside two CPU hogs, the
            # app's part of it 0.3 s), and it is reported whole above. It
            # holds the median, as for the links: beside two CPU hogs one
            # net-start of five took the app 1.8 s (the host read again,
            # each of its tools a process to start) and the others
            # 259-374 ms. A change that is never shown, or only after
            # seconds, still fails through the outer bound.
            in_app_median = statistics.median(networks_in_app[kind])
            if in_app_median >= NETWORK_MEDIAN_CEILING_MS:
                failures.append(f"the app showed network {kind} {in_app_median:.0f} ms (median) "
                                "after libvirt's event")
            if max(networks_in_app[kind]) >= NETWORK_OUTER_CEILING_MS:
                failures.append(f"the app showed network {kind} {max(networks_in_app[kind]):.0f} ms "
                                "after libvirt's event, once")

        # libvirt announces no live-only link change: nothing to show.
        virsh("domif-setlink", GUEST, MAC, "down")
        live = virsh("domif-getlink", GUEST, MAC).strip()
        lines = app.quiet_for(2, lambda line: "event-applied" in line)
        print(f"live-only domif-setlink down: guest link now '{live}'; app lines within 2 s: {lines or 'none'}")
        if lines:
            failures.append(f"a live-only domif-setlink was followed by {lines}: libvirt announces it now")
        virsh("domif-setlink", GUEST, MAC, "up")
        app.quiet_for(1, lambda line: False)

        before = app.cpu_ticks()
        time.sleep(10)
        idle = app.cpu_ticks() - before
        print(f"idle: {idle} clock ticks (1/100 s) of CPU in 10 s ({idle / 10:.1f} %)")
        if idle > 2:
            failures.append(f"the idle app used {idle} ticks of CPU in 10 s")
    finally:
        app.stop()
    return report(app, failures)


def report(app, failures):
    """Prints the failures (also any GTK warning the app logged): the exit status."""
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
    except LabError as error:
        print(f"FAILED: {error}")
        sys.exit(1)
