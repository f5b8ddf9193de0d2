#!/usr/bin/env python3
"""Checks the Flatpak manifests in flatpak/ without building them.

Flathub's runtimes cannot be downloaded where CI runs, so the Flatpak is
not built there (flatpak/README.md says how to build it on a workstation).
What can be checked without it is checked here, with the Python standard
library only:

- both manifests parse; id, runtime (GNOME >= 49), SDK, the rust-stable
  extension and the command are right;
- finish-args are exactly the allow-list below: any extra permission fails,
  and bus-wide sockets or org.freedesktop.Flatpak fail with their own reason;
- cargo runs offline (CARGO_NET_OFFLINE, CARGO_HOME in the app module's
  build directory, no network during the build);
- every downloaded source is pinned by sha256 (or a git commit);
- libvirt is built as a client library (no daemon) with the remote and test
  drivers;
- the app module builds this checkout with meson (buildtype release,
  -Dhelper=false: a Flatpak cannot ship the root helper) and
  cargo-sources.json;
- the release and .Devel manifests differ only in the id and the profile;
- flatpak/cargo-sources.json matches Cargo.lock crate by crate (name,
  version, checksum), both ways, so a dependency change without
  build-aux/flatpak/regenerate-cargo-sources.sh fails.

    tests/flatpak/check-manifests.py              check the repository
    tests/flatpak/check-manifests.py --self-test  also prove that every check
                                                  catches the mistake it is for
"""

from __future__ import annotations

import copy
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLATPAK_DIR = ROOT / "flatpak"
BASE_ID = "io.github.vmnetdoctor.VmNetDoctor"
# file name -> (application id, meson profile)
MANIFESTS = {
    f"{BASE_ID}.json": (BASE_ID, "default"),
    f"{BASE_ID}.Devel.json": (f"{BASE_ID}.Devel", "development"),
}
REGENERATE = "build-aux/flatpak/regenerate-cargo-sources.sh"

MIN_GNOME_RUNTIME = 49
MIN_LIBVIRT_MAJOR = 9  # DESIGN.md: libvirt 9 or newer
RUST_EXTENSION = "org.freedesktop.Sdk.Extension.rust-stable"
RUST_PATH = "/usr/lib/sdk/rust-stable/bin"
APP_MODULE = "vmnet-doctor"
COMMAND = "vmnet-doctor"

# The whole sandbox, each permission with why it is there. A permission
# is added here only with its reason.
FINISH_ARGS = {
    "--share=ipc": "GTK's X11 shared memory",
    "--socket=fallback-x11": "a window where there is no Wayland",
    "--socket=wayland": "a window",
    "--device=dri": "GTK 4's GL renderer",
    # connect(2) works through a read-only mount, and the app never writes
    # there, so both are read-only.
    "--filesystem=/run/libvirt:ro": "the system daemons' sockets (qemu:///system)",
    "--filesystem=xdg-run/libvirt:ro": "the session daemons' sockets (qemu:///session)",
    # A client that may start the session daemon first takes a lock file
    # in xdg-run/libvirt, which the read-only mount refuses ("Unable to
    # create lock"), so qemu:///session never connects; and the sandbox
    # could not start the host's daemon anyway. Seen in the lab (S4c).
    "--env=LIBVIRT_AUTOSTART=0": "qemu:///session connects to the user's running daemon without a lock file",
    "--system-talk-name=io.github.vmnetdoctor.Helper1":
        "the host helper: the host's facts (InspectHost) and the fixes that have no API of their own",
    # DESIGN.md: changes go to firewalld's own D-Bus API, not through our
    # helper; firewalld asks polkit itself (its config actions need an
    # administrator), as it does for a host install.
    "--system-talk-name=org.fedoraproject.FirewallD1":
        "firewalld's own D-Bus API for the zone fix (a libvirt bridge into the libvirt zone)",
}
# Reasons for the permissions most likely to creep in.
FORBIDDEN = {
    "--socket=session-bus": "the whole session bus; talk to named services instead",
    "--socket=system-bus": "the whole system bus; only the named services (--system-talk-name)",
    "--talk-name=org.freedesktop.Flatpak": "lets the app run commands on the host, outside the sandbox",
    "--filesystem=host": "the whole host file system",
    "--filesystem=home": "the user's whole home directory",
    "--device=all": "every device node",
}

# What makes the libvirt module a client library with the drivers the app needs.
LIBVIRT_REQUIRED_OPTS = [
    "-Ddriver_libvirtd=disabled",  # no daemon inside the sandbox
    "-Ddriver_remote=enabled",  # qemu:///system and qemu:///session through the host's sockets
    "-Ddriver_test=enabled",  # the demo hypervisor (test:///…)
    "-Ddriver_qemu=disabled",
    "--localstatedir=/var",  # the client builds the system socket path from it
    "-Drunstatedir=/run",
    "-Ddocs=disabled",
    "-Dtests=disabled",
]
LIBVIRT_URL = re.compile(r"^https://download\.libvirt\.org/libvirt-(\d+)\.(\d+)\.(\d+)\.tar\.xz$")

SHA256 = re.compile(r"^[0-9a-f]{64}$")
GIT_COMMIT = re.compile(r"^[0-9a-f]{40}$")
CRATES_IO_SOURCES = {
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
}
CRATE_URL = re.compile(r"^https://static\.crates\.io/crates/([^/]+)/([^/]+)\.crate$")
VENDOR_DIR = "cargo/vendor"


# ----------------------------------------------------------------------------
# Manifests


def walk_modules(modules: list, problems: list[str], where: str):
    """Yields every module object, nested ones too. Modules given as file
    names would hide their sources from this check, so they are refused."""
    for module in modules:
        if not isinstance(module, dict):
            problems.append(f"{where}: module {module!r} is a separate file; keep modules inline so they are checked")
            continue
        yield module
        yield from walk_modules(module.get("modules", []), problems, where)


def app_module(manifest: dict) -> dict | None:
    modules = manifest.get("modules") or []
    last = modules[-1] if modules else None
    return last if isinstance(last, dict) else None


def effective_env(manifest: dict, module: dict) -> dict:
    env = dict((manifest.get("build-options") or {}).get("env") or {})
    env.update((module.get("build-options") or {}).get("env") or {})
    return env


def effective_paths(manifest: dict, module: dict) -> list[str]:
    paths = []
    for options in (manifest.get("build-options") or {}, module.get("build-options") or {}):
        for key in ("append-path", "prepend-path"):
            paths += [p for p in (options.get(key) or "").split(":") if p]
    return paths


def check_manifest(file_name: str, manifest: dict, want_id: str, want_profile: str) -> list[str]:
    p: list[str] = []
    where = f"flatpak/{file_name}"

    if manifest.get("id", manifest.get("app-id")) != want_id:
        p.append(f"{where}: id is {manifest.get('id')!r}, want {want_id!r}")
    if manifest.get("runtime") != "org.gnome.Platform":
        p.append(f"{where}: runtime is {manifest.get('runtime')!r}, want 'org.gnome.Platform'")
    if manifest.get("sdk") != "org.gnome.Sdk":
        p.append(f"{where}: sdk is {manifest.get('sdk')!r}, want 'org.gnome.Sdk'")
    version = str(manifest.get("runtime-version", ""))
    if not version.isdigit() or int(version) < MIN_GNOME_RUNTIME:
        p.append(f"{where}: runtime-version is {version!r}, want a GNOME release >= {MIN_GNOME_RUNTIME}")
    if RUST_EXTENSION not in (manifest.get("sdk-extensions") or []):
        p.append(f"{where}: sdk-extensions lacks {RUST_EXTENSION}")
    if manifest.get("command") != COMMAND:
        p.append(f"{where}: command is {manifest.get('command')!r}, want {COMMAND!r}")

    # The sandbox.
    args = manifest.get("finish-args") or []
    for arg in args:
        for bad, why in FORBIDDEN.items():
            if arg == bad or arg.startswith(bad + ":"):
                p.append(f"{where}: finish-args has {arg}: {why}")
    extra = [a for a in args if a not in FINISH_ARGS]
    missing = [a for a in FINISH_ARGS if a not in args]
    duplicated = sorted({a for a in args if args.count(a) > 1})
    if extra:
        p.append(f"{where}: finish-args not in the allow-list: {', '.join(extra)}")
    if missing:
        p.append(f"{where}: finish-args lacks {', '.join(missing)}")
    if duplicated:
        p.append(f"{where}: finish-args repeats {', '.join(duplicated)}")

    modules = list(walk_modules(manifest.get("modules") or [], p, where))
    names = [m.get("name") for m in modules]

    # Sources: everything downloaded is pinned; the checkout only in the app module.
    for module in modules:
        for options in [manifest.get("build-options") or {}, module.get("build-options") or {}]:
            if "--share=network" in (options.get("build-args") or []):
                p.append(f"{where}: module {module.get('name')}: network during the build (build-args --share=network)")
        for source in module.get("sources") or []:
            if isinstance(source, str):
                continue  # a generated sources file, e.g. cargo-sources.json (checked below)
            kind = source.get("type")
            label = f"{where}: module {module.get('name')}: {kind} source {source.get('url') or source.get('path')}"
            if kind in ("archive", "file") and "url" in source:
                if not str(source["url"]).startswith("https://"):
                    p.append(f"{label}: not https")
                sha = str(source.get("sha256", ""))
                if not SHA256.match(sha) or len(set(sha)) == 1:
                    p.append(f"{label}: sha256 {sha!r} is not a real sha256 (64 hex digits)")
            elif kind == "git":
                if not GIT_COMMIT.match(str(source.get("commit", ""))):
                    p.append(f"{label}: not pinned by a commit")
            elif kind == "dir" and module is not app_module(manifest):
                p.append(f"{label}: only the app module builds from the checkout")

    # libvirt: the client library, no daemon.
    libvirt = [m for m in modules if m.get("name") == "libvirt"]
    if len(libvirt) != 1:
        p.append(f"{where}: want exactly one module named libvirt, found {len(libvirt)}")
    else:
        module = libvirt[0]
        if module.get("buildsystem") != "meson":
            p.append(f"{where}: libvirt module: buildsystem {module.get('buildsystem')!r}, want 'meson'")
        opts = module.get("config-opts") or []
        for want in LIBVIRT_REQUIRED_OPTS:
            if want not in opts:
                p.append(f"{where}: libvirt module: config-opts lacks {want}")
        archives = [s for s in module.get("sources") or [] if isinstance(s, dict) and s.get("type") == "archive"]
        match = LIBVIRT_URL.match(archives[0].get("url", "")) if len(archives) == 1 else None
        if not match:
            p.append(f"{where}: libvirt module: want one archive https://download.libvirt.org/libvirt-X.Y.Z.tar.xz")
        elif int(match.group(1)) < MIN_LIBVIRT_MAJOR:
            p.append(f"{where}: libvirt module: libvirt {match.group(0)} is older than {MIN_LIBVIRT_MAJOR}.0")
        if APP_MODULE in names and names.index("libvirt") > names.index(APP_MODULE):
            p.append(f"{where}: libvirt must be built before the app")

    # The app: this checkout, meson, offline cargo.
    app = app_module(manifest)
    if app is None or app.get("name") != APP_MODULE:
        p.append(f"{where}: the last module must be {APP_MODULE!r} (the app)")
        return p
    if app.get("buildsystem") != "meson":
        p.append(f"{where}: app module: buildsystem {app.get('buildsystem')!r}, want 'meson'")
    sources = app.get("sources") or []
    dirs = [s for s in sources if isinstance(s, dict) and s.get("type") == "dir"]
    if len(dirs) != 1 or dirs[0].get("path") != "..":
        p.append(f"{where}: app module: want one source {{type: dir, path: ..}} (this checkout)")
    else:
        skip = dirs[0].get("skip") or []
        for big in ("target", "_build"):
            if big not in skip:
                p.append(f"{where}: app module: the dir source copies {big}/ (add it to skip)")
    if "cargo-sources.json" not in sources:
        p.append(f"{where}: app module: sources lack cargo-sources.json (the offline crates)")
    opts = app.get("config-opts") or []
    profile = f"-Dprofile={want_profile}"
    if profile not in opts:
        p.append(f"{where}: app module: config-opts lack {profile}")
    # flatpak-builder passes no buildtype; meson's default (debug) would make
    # src/meson.build use cargo's unoptimised dev profile.
    buildtypes = [o.split("=", 1)[1] for o in opts if o.startswith(("--buildtype=", "-Dbuildtype="))]
    if not buildtypes or buildtypes[-1] == "debug":
        p.append(f"{where}: app module: config-opts need --buildtype=release (meson's default, debug, "
                 "builds an unoptimised cargo dev binary)")
    # The root helper is a system service: a Flatpak cannot install it (it
    # is a host package, packaging/), so the app module must not build it.
    helper = [o.split("=", 1)[1] for o in opts if o.startswith("-Dhelper=")]
    if not helper or helper[-1] != "false":
        p.append(f"{where}: app module: config-opts need -Dhelper=false (a Flatpak cannot ship the root helper; "
                 "it is a host package, see packaging/)")
    env = effective_env(manifest, app)
    if env.get("CARGO_NET_OFFLINE") != "true":
        p.append(f"{where}: app module: CARGO_NET_OFFLINE is {env.get('CARGO_NET_OFFLINE')!r}, want 'true'")
    cargo_home = f"/run/build/{APP_MODULE}/cargo"
    if env.get("CARGO_HOME") != cargo_home:
        p.append(f"{where}: app module: CARGO_HOME is {env.get('CARGO_HOME')!r}, want {cargo_home!r} "
                 "(where cargo-sources.json puts the vendored crates and their config)")
    if RUST_PATH not in effective_paths(manifest, app):
        p.append(f"{where}: app module: {RUST_PATH} is not on the build PATH (append-path)")
    return p


def strip_profile(manifest: dict) -> dict:
    m = copy.deepcopy(manifest)
    m.pop("id", None)
    m.pop("app-id", None)
    app = app_module(m)
    if app is not None:
        app["config-opts"] = [o for o in app.get("config-opts") or [] if not o.startswith("-Dprofile=")]
    return m


def check_pair(release: dict, devel: dict) -> list[str]:
    if strip_profile(release) != strip_profile(devel):
        return ["flatpak/: the release and .Devel manifests differ in more than the id and -Dprofile; "
                "change both the same way"]
    return []


# ----------------------------------------------------------------------------
# cargo-sources.json against Cargo.lock


def lock_crates(lock: dict, problems: list[str]) -> dict[tuple[str, str], str]:
    crates = {}
    for package in lock.get("package", []):
        source = package.get("source")
        if source is None:
            continue  # a workspace member, built from the checkout
        name, version = package["name"], package["version"]
        if source in CRATES_IO_SOURCES:
            crates[(name, version)] = package.get("checksum", "")
        else:
            problems.append(f"Cargo.lock: {name} {version} comes from {source}: this check only knows "
                            "crates.io; teach it (and check the generated git sources) before using it")
    return crates


def flatpak_crates(sources: list, problems: list[str]) -> dict[tuple[str, str], str]:
    crates: dict[tuple[str, str], str] = {}
    checksum_files: dict[str, str] = {}
    config = None
    for entry in sources:
        kind = entry.get("type")
        if kind == "archive" and CRATE_URL.match(entry.get("url", "")):
            name, file_stem = CRATE_URL.match(entry["url"]).groups()
            if not file_stem.startswith(name + "-"):
                problems.append(f"cargo-sources.json: odd crate URL {entry['url']}")
                continue
            version = file_stem[len(name) + 1:]
            crates[(name, version)] = entry.get("sha256", "")
            if entry.get("dest") != f"{VENDOR_DIR}/{name}-{version}":
                problems.append(f"cargo-sources.json: {name} {version} unpacks to {entry.get('dest')!r}, "
                                f"want {VENDOR_DIR}/{name}-{version}")
        elif kind == "inline" and entry.get("dest-filename") == ".cargo-checksum.json":
            try:
                checksum_files[entry.get("dest", "")] = json.loads(entry.get("contents", "")).get("package", "")
            except json.JSONDecodeError:
                problems.append(f"cargo-sources.json: bad .cargo-checksum.json for {entry.get('dest')}")
        elif kind == "inline" and entry.get("dest") == "cargo" and entry.get("dest-filename") in ("config", "config.toml"):
            config = entry.get("contents", "")
        else:
            problems.append(f"cargo-sources.json: unexpected entry {json.dumps(entry)[:120]}")
    for (name, version), sha in crates.items():
        dest = f"{VENDOR_DIR}/{name}-{version}"
        if checksum_files.get(dest) != sha:
            problems.append(f"cargo-sources.json: {name} {version}: .cargo-checksum.json does not carry its sha256")
    if config is None:
        problems.append("cargo-sources.json: no cargo config that replaces crates.io with the vendored crates")
    else:
        try:
            parsed = tomllib.loads(config)
        except tomllib.TOMLDecodeError:
            parsed = {}
        vendored = parsed.get("source", {})
        if (vendored.get("crates-io", {}).get("replace-with") != "vendored-sources"
                or vendored.get("vendored-sources", {}).get("directory") != VENDOR_DIR):
            problems.append(f"cargo-sources.json: the cargo config must replace crates-io with {VENDOR_DIR}")
    return crates


def check_cargo_sources(lock: dict, sources: list) -> list[str]:
    p: list[str] = []
    want = lock_crates(lock, p)
    have = flatpak_crates(sources, p)
    stale = []
    for key in sorted(want.keys() - have.keys()):
        stale.append(f"{key[0]} {key[1]} is in Cargo.lock but not in cargo-sources.json")
    for key in sorted(have.keys() - want.keys()):
        stale.append(f"{key[0]} {key[1]} is in cargo-sources.json but not in Cargo.lock")
    for key in sorted(want.keys() & have.keys()):
        if want[key] != have[key]:
            stale.append(f"{key[0]} {key[1]}: sha256 {have[key][:12]}… in cargo-sources.json, "
                         f"checksum {want[key][:12]}… in Cargo.lock")
    if stale:
        shown = stale[:10] + ([f"… and {len(stale) - 10} more"] if len(stale) > 10 else [])
        p.append("flatpak/cargo-sources.json does not match Cargo.lock; run " + REGENERATE + "\n    "
                 + "\n    ".join(shown))
    elif p:
        p.append(f"(regenerate flatpak/cargo-sources.json with {REGENERATE})")
    return p


# ----------------------------------------------------------------------------


def load() -> tuple[dict[str, dict], dict, list]:
    manifests = {}
    for file_name in MANIFESTS:
        with open(FLATPAK_DIR / file_name, encoding="utf-8") as f:
            manifests[file_name] = json.load(f)
    with open(ROOT / "Cargo.lock", "rb") as f:
        lock = tomllib.load(f)
    with open(FLATPAK_DIR / "cargo-sources.json", encoding="utf-8") as f:
        sources = json.load(f)
    return manifests, lock, sources


def run_checks(manifests: dict[str, dict], lock: dict, sources: list) -> list[tuple[str, list[str]]]:
    results = []
    for file_name, (app_id, profile) in MANIFESTS.items():
        results.append((f"flatpak/{file_name}", check_manifest(file_name, manifests[file_name], app_id, profile)))
    release, devel = (manifests[name] for name in MANIFESTS)
    results.append(("release and .Devel manifests agree", check_pair(release, devel)))
    results.append(("flatpak/cargo-sources.json matches Cargo.lock", check_cargo_sources(lock, sources)))
    return results


def self_test(manifests: dict[str, dict], lock: dict, sources: list) -> list[tuple[str, list[str]]]:
    """Each mistake, made on a copy of the real files, must be caught."""
    release = next(iter(MANIFESTS))

    def app(m):
        return app_module(m)

    def libvirt(m):
        return next(x for x in m["modules"] if x.get("name") == "libvirt")

    def lock_package(lk, name=None):
        return next(p for p in lk["package"] if p.get("source") and (name is None or p["name"] == name))

    manifest_mistakes = {
        "an extra permission (--share=network)": lambda m: m["finish-args"].append("--share=network"),
        "the whole session bus": lambda m: m["finish-args"].append("--socket=session-bus"),
        "the whole system bus": lambda m: m["finish-args"].append("--socket=system-bus"),
        "org.freedesktop.Flatpak": lambda m: m["finish-args"].append("--talk-name=org.freedesktop.Flatpak"),
        "/run/libvirt writable": lambda m: m["finish-args"].__setitem__(
            m["finish-args"].index("--filesystem=/run/libvirt:ro"), "--filesystem=/run/libvirt"),
        "no wayland": lambda m: m["finish-args"].remove("--socket=wayland"),
        "GNOME 48": lambda m: m.__setitem__("runtime-version", "48"),
        "no rust-stable": lambda m: m.__setitem__("sdk-extensions", []),
        "another command": lambda m: m.__setitem__("command", "sh"),
        "cargo online": lambda m: m["build-options"]["env"].pop("CARGO_NET_OFFLINE"),
        "CARGO_HOME elsewhere": lambda m: m["build-options"]["env"].__setitem__("CARGO_HOME", "/tmp/cargo"),
        "network during the build": lambda m: app(m).setdefault("build-options", {}).setdefault(
            "build-args", []).append("--share=network"),
        "app built with cmake": lambda m: app(m).__setitem__("buildsystem", "cmake"),
        "an unoptimised app (meson's default buildtype)": lambda m: app(m)["config-opts"].remove("--buildtype=release"),
        "the root helper built into the Flatpak": lambda m: app(m)["config-opts"].remove("-Dhelper=false"),
        "no cargo-sources.json": lambda m: app(m)["sources"].remove("cargo-sources.json"),
        "target/ copied": lambda m: next(s for s in app(m)["sources"] if isinstance(s, dict))["skip"].remove("target"),
        "libvirt daemon built": lambda m: libvirt(m)["config-opts"].remove("-Ddriver_libvirtd=disabled"),
        "no test driver": lambda m: libvirt(m)["config-opts"].remove("-Ddriver_test=enabled"),
        "placeholder sha256": lambda m: libvirt(m)["sources"][0].__setitem__("sha256", "0" * 64),
        "libvirt not from its site": lambda m: libvirt(m)["sources"][0].__setitem__(
            "url", "https://example.org/libvirt-11.3.0.tar.xz"),
    }
    results = []
    app_id, profile = MANIFESTS[release]
    for label, mistake in manifest_mistakes.items():
        broken = copy.deepcopy(manifests[release])
        mistake(broken)
        # Only the manifest's own check counts (the .Devel comparison would
        # catch any change to one manifest).
        caught = check_manifest(release, broken, app_id, profile)
        results.append((f"self-test: catches {label}", [] if caught else [f"not caught: {label}"]))

    broken = copy.deepcopy(manifests)
    devel = list(MANIFESTS)[1]
    libvirt(broken[devel])["config-opts"].append("-Dnls=disabled")
    caught = check_pair(broken[release], broken[devel])
    results.append(("self-test: catches .Devel drifting from release", [] if caught else ["not caught: drift"]))

    def drop_first_crate(lk, src):
        first = next(i for i, e in enumerate(src) if e.get("type") == "archive")
        del src[first]

    def new_dependency(lk, src):
        lk["package"].append({"name": "zz-new-crate", "version": "1.0.0",
                              "source": "registry+https://github.com/rust-lang/crates.io-index",
                              "checksum": "ab" * 32})

    def bumped_version(lk, src):
        package = lock_package(lk)
        package["version"] += "-bumped"
        package["checksum"] = "cd" * 32

    def changed_checksum(lk, src):
        lock_package(lk)["checksum"] = "ef" * 32

    def git_dependency(lk, src):
        lk["package"].append({"name": "from-git", "version": "0.1.0",
                              "source": "git+https://example.org/from-git#0123456789abcdef0123456789abcdef01234567"})

    def no_cargo_config(lk, src):
        src[:] = [e for e in src if e.get("dest") != "cargo"]

    for label, mistake in {
        "a crate missing from cargo-sources.json": drop_first_crate,
        "a new dependency in Cargo.lock": new_dependency,
        "a version bump in Cargo.lock": bumped_version,
        "a changed checksum": changed_checksum,
        "a git dependency": git_dependency,
        "no vendored-sources config": no_cargo_config,
    }.items():
        lk, src = copy.deepcopy(lock), copy.deepcopy(sources)
        mistake(lk, src)
        caught = check_cargo_sources(lk, src)
        results.append((f"self-test: catches {label}", [] if caught else [f"not caught: {label}"]))
    return results


def main(argv: list[str]) -> int:
    if any(a not in ("--self-test",) for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        manifests, lock, sources = load()
    except (OSError, json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        print(f"FAIL: cannot read the manifests, Cargo.lock or cargo-sources.json: {error}")
        if "cargo-sources.json" in str(error):
            print(f"  (create it with {REGENERATE})")
        print("check-manifests: 0 passed, 1 failed")
        return 1
    results = run_checks(manifests, lock, sources)
    if "--self-test" in argv:
        results += self_test(manifests, lock, sources)
    failed = 0
    for label, problems in results:
        if problems:
            failed += 1
            print(f"FAIL: {label}")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"ok:   {label}")
    print(f"check-manifests: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
