#!/usr/bin/env python3
"""Runs a command inside the file system sandbox of the helper's unit, built
as systemd builds it, from the unit file itself.

    unit-sandbox.py UNIT TMPFILES COMMAND [ARGS…]

No systemd runs as PID 1 in the test namespaces, so this does its part:

- the unit's `ExecStartPre=+…` commands, outside the sandbox, with
  @TMPFILESDIR@ pointing at a directory holding TMPFILES as
  vmnet-doctor-helper.conf (what meson installs);
- a mount namespace of its own (a slave: mounts made outside later still
  reach it, as under systemd), with a private /tmp (`PrivateTmp=`);
- `ProtectSystem=strict`: every mount read-only but /dev, /proc and /sys;
  then each `ReadWritePaths=` entry (a "-" entry only when it exists) and
  the `StateDirectory=` bind-mounted onto itself, read-write;
- `ProtectKernelTunables=`: /proc/sys read-only, the granted entries under
  it read-write.

The helper's tests run the helper through this on a bus of its own and
check that its fixes work inside and that nothing else can be written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile


def unit_values(unit: str, key: str) -> list[str]:
    values = []
    for line in unit.splitlines():
        if line.startswith(key + "="):
            values.extend(line[len(key) + 1:].split())
    return values


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def mount_points() -> list[str]:
    """This namespace's mount points (mountinfo escapes spaces as \\040)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        fields = [line.split() for line in mountinfo]
    return [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), f[4]) for f in fields]


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    unit_path, tmpfiles, command = argv[1], argv[2], argv[3:]
    with open(unit_path, encoding="utf-8") as file:
        unit = file.read()

    tmpfiles_dir = tempfile.mkdtemp(prefix="vmnd-tmpfiles.")
    shutil.copy(tmpfiles, os.path.join(tmpfiles_dir, "vmnet-doctor-helper.conf"))
    for line in unit.splitlines():
        if line.startswith("ExecStartPre=+"):
            pre = line[len("ExecStartPre=+"):].replace("@TMPFILESDIR@", tmpfiles_dir).split()
            subprocess.run(pre, check=True)

    granted = []
    for entry in unit_values(unit, "ReadWritePaths"):
        path = entry.removeprefix("-")
        if os.path.exists(path):
            granted.append(path)
        elif not entry.startswith("-"):
            print(f"unit-sandbox.py: {path} does not exist (the unit would not start)", file=sys.stderr)
            return 1
    for name in unit_values(unit, "StateDirectory"):
        state = os.path.join("/var/lib", name)
        os.makedirs(state, mode=0o700, exist_ok=True)
        granted.append(state)
    assert "ProtectSystem=strict" in unit.splitlines(), "the unit no longer says ProtectSystem=strict"

    # Opened now: the private /tmp below hides the tests' state directory,
    # and a checkout may sit under /tmp too.
    program = shutil.which(command[0])
    if program is None:
        print(f"unit-sandbox.py: {command[0]} not found", file=sys.stderr)
        return 1
    executable = os.open(os.path.realpath(program), os.O_RDONLY)

    os.unshare(os.CLONE_NEWNS)
    mount("--make-rslave", "/")
    # /proc/sys as a mount of its own, so that it can be made read-only
    # with the granted entries under it mounted on top.
    mount("--bind", "/proc/sys", "/proc/sys")
    for path in granted:
        mount("--bind", path, path)
    keep = set(granted)
    for point in mount_points():
        if point in keep or point.startswith(("/dev", "/sys")):
            continue
        if point.startswith("/proc") and point != "/proc/sys":
            continue
        mount("-o", "remount,bind,ro", point)
    # Last: it hides whatever is mounted under /tmp.
    mount("-t", "tmpfs", "-o", "mode=1777", "tmpfs", "/tmp")
    os.execve(executable, command, os.environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
