#!/usr/bin/env python3
"""Checks the vmnet-doctor-helper .deb. Called by tests/packaging/check-deb.sh,
which builds the package (dpkg-buildpackage), lints it and sets up the
throwaway root; see there.

    check-deb.py contents --deb DEB --build BUILD --source SRC --expect OUT.json
        the package as a file: its file list against the helper's file set
        (this file's list and meson's install plan, tag 'helper'), modes,
        owners, control fields, Depends against the libraries the binary
        links (dh_shlibdeps), the maintainer scripts debhelper generated; writes what the root phase must find to OUT.json
    check-deb.py root --deb DEB --expect OUT.json
        inside a throwaway Debian 13 root (own mount, PID and network
        namespaces, an overlay over the real root), as root: installs the
        package with dpkg, proves the helper answers on that root's own
        system bus (its dbus-daemon and polkitd, started here with their
        stock configuration), as root and as other users, applies and
        reverts a fix through it, then removes and purges the package and
        checks nothing is left.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGE = "vmnet-doctor-helper"
BUS_NAME = "io.github.vmnetdoctor.Helper1"
OBJECT_PATH = "/io/github/vmnetdoctor/Helper1"
INTERFACE = BUS_NAME
HELPER_TAG = "helper"
LIBEXEC_HELPER = "usr/libexec/vmnet-doctor-helper"
# The host package's files (Debian layout: meson --prefix=/usr) and modes.
# meson's install plan must give exactly these too, so a new helper file
# fails here until this list, and the recipes in packaging/, know it.
EXPECTED_FILES = {
    LIBEXEC_HELPER: 0o755,
    "usr/share/polkit-1/actions/io.github.vmnetdoctor.policy": 0o644,
    f"usr/share/dbus-1/system.d/{BUS_NAME}.conf": 0o644,
    f"usr/share/dbus-1/system-services/{BUS_NAME}.service": 0o644,
    "usr/lib/systemd/system/vmnet-doctor-helper.service": 0o644,
    "usr/lib/tmpfiles.d/vmnet-doctor-helper.conf": 0o644,
    "usr/share/doc/vmnet-doctor-helper/copyright": 0o644,
    "usr/share/doc/vmnet-doctor-helper/changelog.Debian.gz": 0o644,
    "usr/share/lintian/overrides/vmnet-doctor-helper": 0o644,
}
# Added by debhelper from packaging/debian (dh_installdocs,
# dh_installchangelogs, dh_lintian), not by meson.
PACKAGING_FILES = {
    "usr/share/doc/vmnet-doctor-helper/copyright",
    "usr/share/doc/vmnet-doctor-helper/changelog.Debian.gz",
    "usr/share/lintian/overrides/vmnet-doctor-helper",
}
JOURNAL_DIR = "/var/lib/vmnet-doctor-helper"
SYSCTL_FILE = "/etc/sysctl.d/90-vmnet-doctor.conf"
IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"
NOBODY = 65534  # allowed to inspect by the test's polkit rule
DAEMON = 1  # an ordinary system user: polkit's defaults apply


class Checks:
    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.failed = 0
        self.passed = 0

    def run(self, label: str, function, *args):
        """Runs one check; its problems (or its exception) fail it. Returns its value."""
        value = None
        try:
            result = function(*args)
            problems, value = result if isinstance(result, tuple) else (result, None)
        except Exception as error:  # one check's crash is that check's failure
            problems = [f"{type(error).__name__}: {error}"]
        if problems:
            self.failed += 1
            print(f"FAIL: {label}")
            for problem in problems:
                print(f"  - {problem}")
        else:
            self.passed += 1
            print(f"ok:   {label}")
        sys.stdout.flush()
        return value

    def report(self) -> int:
        print(f"check-deb ({self.phase}): {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)


def must(argv: list[str], **kwargs) -> str:
    result = run(argv, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {result.returncode}: {(result.stdout + result.stderr).strip()[-1500:]}")
    return result.stdout


# --- The package as a file ----------------------------------------------------


def deb_listing(deb: Path) -> dict[str, tuple[str, str]]:
    """path (without ./) -> (mode string, owner/group), for every entry."""
    entries = {}
    for line in must(["dpkg-deb", "-c", str(deb)]).splitlines():
        fields = line.split(None, 5)
        path = fields[5].split(" -> ")[0]
        entries[path.removeprefix("./").rstrip("/")] = (fields[0], fields[1])
    entries.pop("", None)
    return entries


def mode_bits(mode: str) -> int:
    bits = 0
    for i, char in enumerate(mode[1:10]):
        if char != "-":
            bits |= 1 << (8 - i)
    return bits


def meson_helper_files(build: Path) -> set[str]:
    """What `meson install --tags helper` installs, relative to /."""
    info = json.loads(must(["meson", "introspect", str(build), "--install-plan", "--buildoptions"]))
    options = {o["name"]: o["value"] for o in info["buildoptions"]}
    prefix = options["prefix"]
    dirs = {"prefix": prefix}
    for key in ("bindir", "sbindir", "libexecdir", "libdir", "datadir", "sysconfdir", "localedir", "mandir",
                "includedir", "localstatedir"):
        value = options[key]
        dirs[key] = value if value.startswith("/") else f"{prefix}/{value}"
    files = set()
    for group in info["install_plan"].values():
        for entry in group.values():
            if entry.get("tag") != HELPER_TAG:
                continue
            destination = re.sub(r"\{(\w+)\}", lambda m: dirs[m.group(1)], entry["destination"])
            files.add(destination.lstrip("/"))
    return files


def depends_names(depends: str) -> set[str]:
    """Every package named in a Depends field, alternatives included."""
    names = set()
    for clause in depends.split(","):
        for alternative in clause.split("|"):
            name = alternative.strip().split(" ")[0].split("(")[0].split(":")[0]
            if name:
                names.add(name)
    return names


def library_owners(binary: Path) -> dict[str, str]:
    """NEEDED soname -> the installed package that owns it (through ldd and dpkg -S)."""
    needed = [line.split()[1] for line in must(["objdump", "-p", str(binary)]).splitlines()
              if line.split()[:1] == ["NEEDED"]]
    paths = {}
    for line in must(["ldd", str(binary)]).splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "=>" and parts[2].startswith("/"):
            paths[parts[0]] = parts[2]
        elif parts and parts[0].startswith("/"):
            paths[os.path.basename(parts[0])] = parts[0]
    owners = {}
    for soname in needed:
        path = paths.get(soname)
        owner = None
        for candidate in filter(None, [path, path and os.path.realpath(path), path and "/usr" + path]):
            result = run(["dpkg", "-S", candidate])
            lines = [line for line in result.stdout.splitlines() if not line.startswith("diversion by ")]
            if result.returncode == 0 and lines:
                owner = lines[0].split(": ")[0].split(",")[0].split(":")[0]
                break
        owners[soname] = owner or f"(no package owns {path})"
    return owners


def contents(args) -> int:
    checks = Checks("contents")
    deb = args.deb
    listing = deb_listing(deb)
    files = {path for path, (mode, _) in listing.items() if mode.startswith("-")}

    def the_expected_files():
        p = []
        for path in sorted(set(EXPECTED_FILES) - files):
            p.append(f"missing: /{path}")
        for path in sorted(files - set(EXPECTED_FILES)):
            p.append(f"not expected: /{path}")
        return p

    def meson_agrees():
        planned = meson_helper_files(args.build)
        p = [f"meson installs /{path} with tag {HELPER_TAG}, the package lacks it" for path in sorted(planned - files)]
        p += [f"the package has /{path}, meson's helper tag does not"
              for path in sorted(files - planned - PACKAGING_FILES)]
        if not planned:
            p.append("meson's install plan has no file tagged helper")
        return p

    def modes_and_owners():
        p = []
        for path, (mode, owner) in sorted(listing.items()):
            if owner != "root/root":
                p.append(f"/{path} is owned by {owner}, want root/root")
            if mode.startswith("d") and mode_bits(mode) != 0o755:
                p.append(f"/{path}/ has mode {mode}, want drwxr-xr-x")
            want = EXPECTED_FILES.get(path)
            if want is not None and mode_bits(mode) != want:
                p.append(f"/{path} has mode {mode}, want {want:o}")
            if not (path == "usr" or path.startswith("usr/")):
                p.append(f"/{path} is outside /usr")
        return p

    fields = {}

    def control_fields():
        p = []
        for name in ("Package", "Version", "Architecture", "Maintainer", "Depends", "Description"):
            fields[name] = run(["dpkg-deb", "-f", str(deb), name]).stdout.strip()
        version = json.loads(must(["meson", "introspect", str(args.build), "--projectinfo"]))["version"]
        arch = must(["dpkg", "--print-architecture"]).strip()
        # The Debian version: meson's project version, then a Debian revision.
        upstream = fields["Version"].rsplit("-", 1)[0] if "-" in fields["Version"] else fields["Version"]
        if upstream != version:
            p.append(f"Version {fields['Version']!r}: its upstream part is not meson's version {version!r}"
                     " (packaging/debian/changelog)")
        for name, want in (("Package", PACKAGE), ("Architecture", arch)):
            if fields[name] != want:
                p.append(f"{name}: {fields[name]!r}, want {want!r}")
        for name in ("Maintainer", "Description"):
            if not fields[name]:
                p.append(f"no {name}")
        return p

    def depends_cover_the_system_bus_polkit_and_libraries():
        p = []
        names = depends_names(fields.get("Depends", ""))
        if "polkitd" not in names:
            p.append("Depends lacks polkitd (the helper asks it about every call)")
        if not names & {"dbus-system-bus", "default-dbus-system-bus", "dbus"}:
            p.append("Depends lacks a system bus (default-dbus-system-bus | dbus-system-bus)")
        with tempfile.TemporaryDirectory() as tmp:
            tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", tmp, f"./{LIBEXEC_HELPER}"], input=tar.stdout, check=True)
            owners = library_owners(Path(tmp) / LIBEXEC_HELPER)
        if not owners:
            p.append("the binary links no shared library (not even libc?)")
        for soname, owner in sorted(owners.items()):
            if owner not in names:
                p.append(f"{soname} comes from {owner}, which Depends does not name")
        return p

    def no_conffiles():
        with tempfile.TemporaryDirectory() as tmp:
            must(["dpkg-deb", "-e", str(deb), tmp])
            present = sorted(os.listdir(tmp))
            p = [] if not (Path(tmp) / "conffiles").exists() else ["DEBIAN/conffiles exists: nothing in /usr is a conffile"]
            md5 = (Path(tmp) / "md5sums").read_text(encoding="utf-8").split("\n")
            listed = {line.split("  ", 1)[1] for line in md5 if line.strip()}
            if listed != files:
                p.append(f"md5sums lists {sorted(listed)}, the package has {sorted(files)}")
            scripts = {name: (Path(tmp) / name).read_text(encoding="utf-8") if name in present else ""
                       for name in ("preinst", "postinst", "prerm", "postrm")}
        # dh_installsystemd --no-start: systemd re-reads its units on
        # configure and remove; nothing is started, stopped or enabled.
        if "systemctl --system daemon-reload" not in scripts["postinst"]:
            p.append("postinst lacks systemd's daemon-reload (dh_installsystemd)")
        if "systemctl --system daemon-reload" not in scripts["postrm"]:
            p.append("postrm lacks systemd's daemon-reload (dh_installsystemd)")
        for name, text in scripts.items():
            if re.search(r"deb-systemd-invoke (start|stop|restart)\b|deb-systemd-helper enable", text):
                p.append(f"{name} starts, stops or enables the unit: it is D-Bus-activated (dh_installsystemd --no-start)")
            if "systemd-tmpfiles" in text:
                p.append(f"{name} runs systemd-tmpfiles: the sysctl.d file is the unit's to create, not the install's")
        if "rm -rf /var/lib/vmnet-doctor-helper" not in scripts["postrm"]:
            p.append("postrm does not remove the helper's journal on purge")
        return p

    checks.run(f"the package holds exactly the helper's files ({len(EXPECTED_FILES)})", the_expected_files)
    checks.run("meson's install plan (tag helper) is the same file set", meson_agrees)
    checks.run("modes 0755/0644, root/root, everything under /usr", modes_and_owners)
    checks.run("control: Package, Version (meson's, a Debian revision), Architecture (dpkg's), Maintainer, Description", control_fields)
    checks.run("Depends: the system bus, polkitd and the owner of every NEEDED library",
               depends_cover_the_system_bus_polkit_and_libraries)
    checks.run("md5sums cover every file; no conffiles; debhelper's maintainer scripts", no_conffiles)

    # What the root phase compares the helper's answers with, from the source.
    lib = (args.source / "crates/helper-api/src/lib.rs").read_text(encoding="utf-8")
    fix = (args.source / "crates/helper-api/src/fix.rs").read_text(encoding="utf-8")
    api = re.search(r"pub const API_VERSION: u32 = (\d+);", lib)
    # FixKind::as_str, the wire names of the fix kinds.
    as_str = re.search(r"^impl FixKind \{.*?fn as_str\(self\)[^{]*\{(.*?)\n    \}", fix, re.S | re.M)
    expect = {
        "api_version": int(api.group(1)) if api else None,
        "fixes": sorted(re.findall(r'=> "([a-z0-9-]+)"', as_str.group(1))) if as_str else [],
        "files": sorted(files),
    }
    checks.run("the helper API version and fix kinds read from crates/helper-api",
               lambda: [] if expect["api_version"] and expect["fixes"] else ["cannot read them"])
    args.expect.write_text(json.dumps(expect), encoding="utf-8")
    return checks.report()


# --- The package installed in a throwaway root -----------------------------------


def as_user(uid: int | None) -> list[str]:
    return [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def busctl(uid: int | None, method: str, signature: str = "", *arguments: str) -> dict:
    """A call to the helper; its reply as busctl's JSON. Raises on an error reply."""
    argv = as_user(uid) + ["busctl", "--system", "--json=short", "--timeout=60", "call", BUS_NAME, OBJECT_PATH,
                           INTERFACE, method]
    if signature:
        argv += [signature, *arguments]
    return json.loads(must(argv))


def error_name(uid: int | None, interface: str, method: str) -> str:
    """The D-Bus error name of an argument-less call (gdbus prints it; busctl
    prints only the message), or 'ok' when it succeeded."""
    argv = as_user(uid) + ["gdbus", "call", "--system", "--dest", BUS_NAME, "--object-path", OBJECT_PATH,
                           "--method", f"{interface}.{method}", "--timeout", "60"]
    result = run(argv)
    if result.returncode == 0:
        return "ok"
    found = re.search(r"GDBus\.Error:([A-Za-z0-9_.]+)", result.stderr)
    return found.group(1) if found else f"(no error name) {result.stderr.strip()[-300:]}"


def bus_call(method: str, signature: str, *arguments: str) -> list:
    return json.loads(must(["busctl", "--system", "--json=short", "call", "org.freedesktop.DBus",
                            "/org/freedesktop/DBus", "org.freedesktop.DBus", method, signature,
                            *arguments]))["data"]


def has_owner(name: str) -> bool:
    return bus_call("NameHasOwner", "s", name) == [True]


def wait_for(predicate, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def root(args) -> int:
    checks = Checks("throwaway root")
    expect = json.loads(args.expect.read_text(encoding="utf-8"))
    logs = Path("/tmp/vmnd-pkg-logs")
    logs.mkdir(exist_ok=True)

    # Only in the namespaces check-deb.sh made: a network namespace of our
    # own (only lo) — the fix below changes its IPv4 forwarding.
    links = must(["ip", "-o", "link", "show"]).splitlines()
    if os.environ.get("VMND_THROWAWAY_ROOT") != "1" or len(links) != 1:
        print("check-deb.py root: run me through tests/packaging/check-deb.sh (a throwaway root, own netns)",
              file=sys.stderr)
        return 2

    # The root's own system bus and polkitd, with their stock configuration.
    os.makedirs("/run/dbus", exist_ok=True)
    with open(logs / "dbus.log", "w") as log:
        subprocess.Popen(["dbus-daemon", "--system", "--nofork", "--nopidfile", "--nosyslog"], stdout=log,
                         stderr=log, stdin=subprocess.DEVNULL)

    def bus_up():
        if not wait_for(lambda: os.path.exists("/run/dbus/system_bus_socket"), 10):
            return [f"dbus-daemon --system did not start: {(logs / 'dbus.log').read_text()[-1000:]}"]
        return []

    def polkit_up():
        with open(logs / "polkitd.log", "w") as log:
            subprocess.Popen(["/usr/lib/polkit-1/polkitd", "--no-debug"], stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL)
        if not wait_for(lambda: has_owner("org.freedesktop.PolicyKit1"), 15):
            return [f"polkitd did not start: {(logs / 'polkitd.log').read_text()[-1000:]}"]
        return []

    checks.run("the root's own dbus-daemon --system starts", bus_up)
    if not checks.failed:
        checks.run("its polkitd starts", polkit_up)
    if checks.failed:
        return checks.report()

    def not_known_before():
        name = error_name(None, INTERFACE, "GetCapabilities")
        return [] if name == "org.freedesktop.DBus.Error.ServiceUnknown" else [f"before installing: {name}"]

    checks.run("before the install the bus cannot start the helper (ServiceUnknown)", not_known_before)

    directories_before = {path for path in (f"/{p}" for p in expect["files"]) for path in parents(path)
                          if os.path.isdir(path)}

    def install():
        result = run(["dpkg", "-i", args.deb])
        p = [] if result.returncode == 0 else [f"dpkg -i exited with {result.returncode}:\n"
                                                f"{(result.stdout + result.stderr).strip()[-2000:]}"]
        verify = run(["dpkg", "--verify", PACKAGE])
        if verify.returncode != 0 or verify.stdout.strip():
            p.append(f"dpkg --verify: {(verify.stdout + verify.stderr).strip()}")
        return p

    checks.run("dpkg -i installs it (dependencies met, scripts run; dpkg --verify clean)", install)

    capabilities = {}

    def answers_as_root():
        # dbus-daemon notices the new policy and activation file by itself
        # (inotify, and a rescan when a name is not known).
        def answered():
            try:
                capabilities["reply"] = busctl(None, "GetCapabilities")
                return True
            except RuntimeError as error:
                capabilities["error"] = str(error)
                return False

        if not wait_for(answered, 15, 0.5):
            return [f"GetCapabilities as root: {capabilities.get('error')}",
                    f"dbus-daemon: {(logs / 'dbus.log').read_text()[-1500:]}"]
        p = []
        reply = capabilities["reply"]
        if reply.get("type") != "(uasa(ssbs))":
            p.append(f"GetCapabilities answers {reply.get('type')}, want (uasa(ssbs))")
            return p
        api_version, fixes, tools = reply["data"][0]
        if api_version != expect["api_version"]:
            p.append(f"api_version {api_version}, want {expect['api_version']}")
        if sorted(fixes) != expect["fixes"]:
            p.append(f"fixes {sorted(fixes)}, want {expect['fixes']}")
        sysctl = [tool for tool in tools if tool[0] == "sysctl"]
        if not sysctl or not sysctl[0][1].startswith("/"):
            p.append(f"no sysctl among the tools: {tools}")
        return p

    checks.run("as root: GetCapabilities answers (API version and fix kinds of this source)", answers_as_root)

    def the_installed_binary_answered():
        pid = bus_call("GetConnectionUnixProcessID", "s", BUS_NAME)[0]
        exe = os.readlink(f"/proc/{pid}/exe")
        uid = next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:"))
        p = [] if exe == f"/{LIBEXEC_HELPER}" else [f"{BUS_NAME} is owned by {exe}, want /{LIBEXEC_HELPER}"]
        if uid != "0":
            p.append(f"the helper runs as uid {uid}, want 0 (User=root in the activation file)")
        return p, pid

    helper_pid = checks.run(f"the owner of {BUS_NAME} is /{LIBEXEC_HELPER}, started by D-Bus as root",
                            the_installed_binary_answered)

    def inspect_as(uid):
        def check():
            reply = busctl(uid, "Inspect")
            return [] if reply.get("type", "").startswith("(") else [f"Inspect answered {reply}"]
        return check

    checks.run("as root: Inspect answers", inspect_as(None))
    checks.run(f"as uid {NOBODY} (a polkit rule allows inspect): GetCapabilities and Inspect answer",
               lambda: inspect_as(NOBODY)() + ([] if busctl(NOBODY, "GetCapabilities").get("data") else ["no data"]))

    def polkit_decides_for_others():
        # The bus lets the call through (the package's D-Bus policy) and the
        # helper refuses after asking polkit: the installed action's defaults
        # (auth_admin for a user without a session) need a password, and
        # this call allows no interaction. A missing action would be an
        # error from polkit, NotAuthorized from the helper.
        name = error_name(DAEMON, INTERFACE, "GetCapabilities")
        want = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
        return [] if name == want else [f"uid {DAEMON}: {name}, want {want}"]

    checks.run(f"as uid {DAEMON}: the bus passes the call, polkit's defaults want a password",
               polkit_decides_for_others)

    def bus_policy_denies_other_interfaces():
        name = error_name(NOBODY, "io.github.vmnetdoctor.NotOurs", "Anything")
        want = "org.freedesktop.DBus.Error.AccessDenied"
        return [] if name == want else [f"another interface of the helper, as uid {NOBODY}: {name}, want {want}"]

    checks.run("the D-Bus policy lets others send only the helper's own interfaces", bus_policy_denies_other_interfaces)

    transaction = {}

    def apply_and_revert_a_fix():
        p = []
        Path(IP_FORWARD).write_text("0\n")
        fix = ("(sa{ss})", "enable-ipv4-forwarding", "0")
        plan = busctl(None, "Plan", *fix)["data"][0]
        plan_id, _summary, steps = plan
        if not steps:
            return [f"Plan has no steps with {IP_FORWARD} at 0: {plan}"]
        applied = busctl(None, "Apply", fix[0] + "s", *fix[1:], plan_id)["data"][0]
        transaction["id"] = applied[0]
        if not applied[0]:
            p.append(f"Apply journaled no transaction: {applied}")
        if Path(IP_FORWARD).read_text().strip() != "1":
            p.append(f"after Apply {IP_FORWARD} is {Path(IP_FORWARD).read_text().strip()}, want 1")
        if not Path(SYSCTL_FILE).is_file():
            p.append(f"after Apply there is no {SYSCTL_FILE}")
        if not Path(JOURNAL_DIR).is_dir():
            p.append(f"after Apply there is no journal in {JOURNAL_DIR}")
        if p:
            return p
        busctl(None, "Revert", "s", applied[0])
        if Path(IP_FORWARD).read_text().strip() != "0":
            p.append(f"after Revert {IP_FORWARD} is {Path(IP_FORWARD).read_text().strip()}, want 0")
        if Path(SYSCTL_FILE).exists():
            p.append(f"after Revert {SYSCTL_FILE} is still there")
        return p

    checks.run("as root: Plan, Apply and Revert enable-ipv4-forwarding (this namespace's sysctl, sysctl.d)",
               apply_and_revert_a_fix)

    def stop_helper():
        # It would exit after a minute idle; this test started it, so it ends it.
        if helper_pid:
            os.kill(helper_pid, signal.SIGTERM)
        return [] if wait_for(lambda: not has_owner(BUS_NAME), 10) else ["the helper did not exit on SIGTERM"]

    checks.run("the helper ends on SIGTERM", stop_helper)

    def remove():
        result = run(["dpkg", "-r", PACKAGE])
        if result.returncode != 0:
            return [f"dpkg -r exited with {result.returncode}: {(result.stdout + result.stderr).strip()[-1500:]}"]
        p = [f"/{path} is still there" for path in expect["files"] if os.path.lexists(f"/{path}")]
        for directory in sorted({d for path in expect["files"] for d in parents(f"/{path}")} - directories_before):
            if os.path.lexists(directory):
                p.append(f"{directory} (made by the install) is still there")
        status = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", PACKAGE]).stdout.strip()
        if status != "rc":
            p.append(f"dpkg status {status!r}, want 'rc' (removed, postrm kept for purge)")
        if transaction.get("id") and not Path(JOURNAL_DIR).is_dir():
            p.append(f"dpkg -r removed {JOURNAL_DIR}; only purge should")
        return p

    checks.run("dpkg -r removes every file and directory it installed (the journal stays)", remove)

    def the_bus_forgets_it():
        ok = wait_for(lambda: error_name(None, INTERFACE, "GetCapabilities")
                      == "org.freedesktop.DBus.Error.ServiceUnknown", 15, 0.5)
        return [] if ok else [f"after removal: {error_name(None, INTERFACE, 'GetCapabilities')}"]

    checks.run("after the removal the bus cannot start the helper (ServiceUnknown)", the_bus_forgets_it)

    def purge():
        result = run(["dpkg", "--purge", PACKAGE])
        p = [] if result.returncode == 0 else [f"dpkg --purge: {(result.stdout + result.stderr).strip()[-1500:]}"]
        if os.path.lexists(JOURNAL_DIR):
            p.append(f"{JOURNAL_DIR} is still there after purge")
        status = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", PACKAGE])
        if status.returncode == 0 and status.stdout.strip() not in ("", "un"):
            p.append(f"dpkg still knows the package: {status.stdout.strip()!r}")
        return p

    checks.run("dpkg --purge removes the helper's journal and the package's record", purge)
    return checks.report()


def parents(path: str) -> list[str]:
    """The directories above a path, up to (not including) /usr."""
    out = []
    parent = os.path.dirname(path)
    while parent not in ("/", "/usr", ""):
        out.append(parent)
        parent = os.path.dirname(parent)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="phase", required=True)
    c = sub.add_parser("contents")
    c.add_argument("--deb", type=Path, required=True)
    c.add_argument("--build", type=Path, required=True)
    c.add_argument("--source", type=Path, required=True)
    c.add_argument("--expect", type=Path, required=True)
    r = sub.add_parser("root")
    r.add_argument("--deb", required=True)
    r.add_argument("--expect", type=Path, required=True)
    args = parser.parse_args()
    return contents(args) if args.phase == "contents" else root(args)


if __name__ == "__main__":
    sys.exit(main())
