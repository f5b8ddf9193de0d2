#!/usr/bin/env python3
"""The installed Flatpak started from the app menu, as a desktop session
starts it.

Runs inside tests/lab/lab.sh (root); tests/lab/flatpak-launch.sh starts
it. The lab's desktop user installs the Flatpak into its own installation
(labkit.flatpak_installed). Then, in that user's login environment (its
XDG_DATA_DIRS come from /etc/profile.d/flatpak.sh, as in a session):

- the launcher is found where a menu looks for it, in
  XDG_DATA_DIRS/applications, and it is the one the installation exported;
- its icon resolves in the hicolor theme along XDG_DATA_DIRS;
- `gio launch` starts it under an X server and a session bus of its own;
  the app, sandboxed, lists the lab's guest through libvirt's socket and
  maps its window;
- and its process runs inside the Flatpak sandbox (/.flatpak-info is
  there), as the desktop user.

    tests/lab/flatpak-launch.sh
"""

import configparser
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labkit as lab  # noqa: E402
from scenarios import step  # noqa: E402

ENV = lab.ENV
APP = lab.FLATPAK_APP


def login_data_dirs():
    """XDG_DATA_DIRS of the desktop user's login shell."""
    done = lab.as_user(["bash", "-l", "-c", 'printf %s "$XDG_DATA_DIRS"'])
    if done.returncode != 0 or not done.stdout:
        raise lab.LabError(f"the desktop user's login shell gave no XDG_DATA_DIRS: {done.stderr.strip()}")
    return done.stdout.split(":")


def find_launcher(data_dirs):
    for directory in data_dirs:
        path = os.path.join(directory, "applications", f"{APP}.desktop")
        if os.path.isfile(path):
            return path
    raise lab.LabError(f"no {APP}.desktop along XDG_DATA_DIRS {data_dirs}")


def find_icon(data_dirs, name):
    """The icon theme specification's lookup, for hicolor's apps context."""
    for directory in data_dirs:
        theme = os.path.join(directory, "icons", "hicolor")
        if not os.path.isdir(theme):
            continue
        for size in sorted(os.listdir(theme)):
            for extension in ("svg", "png"):
                path = os.path.join(theme, size, "apps", f"{name}.{extension}")
                if os.path.isfile(path):
                    return path
    raise lab.LabError(f"the launcher's icon {name} is in no hicolor theme along {data_dirs}")


def start_display(work):
    """Xvfb and a session bus as the desktop user; their processes and the
    environment a session gives its apps."""
    display_file = os.path.join(work, "display")
    xvfb = subprocess.Popen(lab.user_argv(["bash", "-c", 'exec Xvfb -displayfd 3 -screen 0 1280x800x24 '
                                           '-nolisten tcp 3>"$0"', display_file]), stderr=subprocess.DEVNULL)
    def display_number():
        if not os.path.exists(display_file):
            return ""
        with open(display_file, encoding="utf-8") as file:
            return file.read().strip()
    number = lab.wait_for("Xvfb's display", display_number, 20)
    bus = subprocess.Popen(lab.user_argv(["dbus-daemon", "--session", "--nofork", "--print-address=1"]),
                           stdout=subprocess.PIPE, text=True)
    address = bus.stdout.readline().strip() if bus.stdout else ""
    if not address:
        raise lab.LabError("the session bus did not start")
    return [xvfb, bus], {"DISPLAY": f":{number}", "DBUS_SESSION_BUS_ADDRESS": address}


def main():
    lab.flatpak_installed()
    data_dirs = login_data_dirs()
    launcher = find_launcher(data_dirs)
    exported = os.path.join(ENV["LAB_STATE"], "home", ".local/share/flatpak/exports/share/applications",
                            f"{APP}.desktop")
    if os.path.realpath(launcher) != os.path.realpath(exported):
        raise lab.LabError(f"the menu would start {launcher}, not the installation's {exported}")
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(launcher, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    if "flatpak run" not in desktop.get("Exec", "") or APP not in desktop.get("Exec", ""):
        raise lab.LabError(f"the launcher does not start the Flatpak: Exec={desktop.get('Exec')}")
    step(f"the menu finds {launcher} (Exec={desktop['Exec']})")
    icon = find_icon(data_dirs, desktop.get("Icon", ""))
    step(f"its icon {desktop['Icon']} resolves to {icon}")

    work = tempfile.mkdtemp(prefix="flatpak-launch-")
    os.chown(work, int(ENV["LAB_UID"]), int(ENV["LAB_UID"]))
    processes, session = start_display(work)
    log_path = os.path.join(work, "app.log")
    try:
        env = [f"{key}={value}" for key, value in session.items()]
        with open(log_path, "w", encoding="utf-8") as log:
            # The app reports when its VM list is populated; its stderr is
            # gio's, which the launched process inherits.
            launched = subprocess.run(
                lab.user_argv(["env", f"XDG_DATA_DIRS={':'.join(data_dirs)}", *env,
                               "VMNET_DOCTOR_REPORT_STARTUP=1", "GDK_BACKEND=x11",
                               "gio", "launch", launcher]),
                stdout=log, stderr=log, timeout=60)
        if launched.returncode != 0:
            raise lab.LabError(f"gio launch failed: {open(log_path, encoding='utf-8').read()}")

        def populated():
            text = open(log_path, encoding="utf-8", errors="replace").read()
            if "connection-failed" in text:
                raise lab.LabError(f"the launched app could not connect:\n{text}")
            return next((line for line in text.splitlines() if "vm-list-populated" in line), None)
        reported = lab.wait_for("the launched app to list the lab's VMs", populated, 120)
        step(f"gio launch started it; it listed the lab's VMs through libvirt's socket ({reported.strip()})")

        def window():
            tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                                  env={"DISPLAY": session["DISPLAY"], "PATH": "/usr/bin:/bin"}).stdout
            return '"VM Network Doctor"' in tree
        lab.wait_for("its window", window, 30)
        ps = lab.sh(f"ps -u {ENV['LAB_UID']} -o pid=,args=")
        pids = [line.split()[0] for line in ps.splitlines() if "vmnet-doctor" in line and "bwrap" not in line
                and "flatpak" not in line]
        sandboxed = [pid for pid in pids if os.path.exists(f"/proc/{pid}/root/.flatpak-info")]
        if not sandboxed:
            raise lab.LabError(f"no vmnet-doctor process of uid {ENV['LAB_UID']} runs in the sandbox: {ps}")
        step(f"its window is mapped; the app (pid {sandboxed[0]}) runs in the Flatpak sandbox as uid "
             f"{ENV['LAB_UID']}")
    finally:
        # The app and its sandbox end with the lab's PID namespace.
        for process in processes:
            process.terminate()


if __name__ == "__main__":
    try:
        main()
    except lab.LabError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
