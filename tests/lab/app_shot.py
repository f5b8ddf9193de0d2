"""The real app under its own Xvfb as the lab's desktop user, driven by
tests/gui/screenshot.sh: keys typed, reports awaited, a capture kept.
Shared by the lab's GUI tests (gui_data_path.py, gui_wizard.py)."""

import os
import shutil
import subprocess
import tempfile

import labkit as lab
from scenarios import step

ENV = lab.ENV
SCREENSHOT = os.path.join(lab.USER_SOURCE, "tests", "gui", "screenshot.sh")


def shoot(shots, name, pairs, app_args, settings=(), width=1100, height=720, event_timeout=None, expect=None):
    """Runs the app as LAB_UID on the lab's connection with APP_ARGS after
    `--connect URI`; PAIRS are (keys, expected report) as screenshot.sh
    takes them, SETTINGS its --setting KEY=VALUE. The capture lands in
    SHOTS/NAME; a report that does not come fails the lab."""
    uid = ENV["LAB_UID"]
    user_dir = tempfile.mkdtemp(prefix="app-shot-")
    os.chown(user_dir, int(uid), int(uid))
    args = []
    for keys, expected in pairs:
        args += ["--keys", keys, "--then-expect", expected]
    for setting in settings:
        args += ["--setting", setting]
    if event_timeout is not None:
        args += ["--event-timeout", str(event_timeout)]
    if expect is not None:  # what to wait for before the first keys (e.g. wizard-shown)
        args += ["--expect", expect]
    env = [
        "env", "-i", f"HOME={ENV['LAB_STATE']}/home", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
        f"GSETTINGS_SCHEMA_DIR={ENV['GSETTINGS_SCHEMA_DIR']}",
    ]
    output = os.path.join(user_dir, name)
    done = subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *env, SCREENSHOT, ENV["LAB_DOCTOR"],
         output, "--width", str(width), "--height", str(height), *args,
         "--", "--connect", ENV["LAB_URI"], *app_args],
        cwd=lab.USER_SOURCE, timeout=300)
    if done.returncode != 0:
        raise lab.LabError(f"the app did not show what was expected for {name} (exit {done.returncode}; above)")
    os.makedirs(shots, exist_ok=True)
    shutil.copy(output, os.path.join(shots, name))
    step(f"{name}: the app reported {', '.join(dict.fromkeys(expected for _, expected in pairs))}")
