#!/usr/bin/env python3
"""Checks the Fedora spec and the Arch PKGBUILD in packaging/ against meson.

Neither rpmbuild with Fedora's macros nor makepkg runs on this Debian
machine, so what can be checked without them is checked here:

- meson is configured twice in a temporary directory, with each
  distribution's directory layout (Fedora: libexecdir /usr/libexec; Arch,
  as arch-meson: libexecdir /usr/lib), and its install plan gives the files
  of each package: those tagged 'helper' (`meson install --tags helper`)
  and the rest;
- the spec, expanded by `rpmspec -P` (rpm's own parser), must list every
  helper file in `%files helper` and every other file in the main `%files`
  (the translations through %find_lang), each file in one package only,
  and no entry that matches nothing; its Version must be meson's;
- the PKGBUILD must pass `bash -n`; sourced in a subshell, its split
  package names, pkgver (meson's), the tag-pinned source, its functions and
  the `_helper_files` array (exactly the helper files, which the app
  package removes and the helper package installs with --tags helper).

So a new helper file (or app file) that a recipe forgets fails here.

With --package-build BUILD_DIR the PKGBUILD's two package functions also
run for real, as makepkg runs them (cwd $srcdir, errexit, their own
$pkgdir), on a meson build with arch-meson's layout (BUILD_DIR's profile
and buildtype, sharing its cargo target directory): the helper package
must hold exactly the helper files, the app package everything else.

    tests/packaging/check-recipes.py [--self-test] [--package-build BUILD_DIR]
        --self-test  also prove the checks catch a forgotten file and drift
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "fedora" / "vmnet-doctor.spec"
PKGBUILD = ROOT / "packaging" / "arch" / "PKGBUILD"
HELPER_TAG = "helper"
APP_PACKAGE = "vmnet-doctor"
HELPER_PACKAGE = "vmnet-doctor-helper"
GETTEXT_PACKAGE = "vmnet-doctor"
# meson setup options that give each distribution's layout: Fedora's %meson
# and Arch's arch-meson (both --prefix=/usr; the rest are meson defaults).
LAYOUTS = {
    "fedora": ["--prefix=/usr", "--libexecdir=libexec", "--sbindir=sbin"],
    "arch": ["--prefix=/usr", "--libexecdir=lib", "--sbindir=bin"],
}


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 300)
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def must(argv: list[str], **kwargs) -> str:
    result = run(argv, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {result.returncode}:\n{(result.stdout + result.stderr)[-2000:]}")
    return result.stdout


class Installed:
    """What meson installs with one layout: helper-tagged files and the rest."""

    def __init__(self, build: Path) -> None:
        info = json.loads(must(["meson", "introspect", str(build), "--install-plan", "--buildoptions",
                                "--projectinfo"]))
        options = {o["name"]: o["value"] for o in info["buildoptions"]}
        self.version = info["projectinfo"]["version"]
        prefix = options["prefix"]
        dirs = {"prefix": prefix}
        for key in ("bindir", "sbindir", "libexecdir", "libdir", "datadir", "sysconfdir", "localedir", "mandir",
                    "includedir", "localstatedir", "infodir", "sharedstatedir"):
            value = options[key]
            dirs[key] = value if value.startswith("/") else f"{prefix}/{value}"
        self.libexecdir = dirs["libexecdir"]
        self.localedir = dirs["localedir"]
        self.helper: set[str] = set()
        self.app: set[str] = set()
        for group in info["install_plan"].values():
            for entry in group.values():
                path = re.sub(r"\{(\w+)\}", lambda m: dirs[m.group(1)], entry["destination"])
                (self.helper if entry.get("tag") == HELPER_TAG else self.app).add(path)


def configure(work: Path) -> dict[str, Installed]:
    layouts = {}
    for name, options in LAYOUTS.items():
        build = work / name
        must(["meson", "setup", str(build), str(ROOT), "-Dprofile=default", "-Dbuildtype=plain", *options])
        layouts[name] = Installed(build)
    return layouts


# --- Fedora -----------------------------------------------------------------------

FILE_DIRECTIVES = re.compile(r"%(attr|defattr|config|verify|caps)\([^)]*\)\s*|%(config|ghost|exclude|readme)\s+")


def spec_files(expanded: str) -> tuple[dict[str, list[tuple[str, bool]]], str, bool]:
    """%files sections of an `rpmspec -P` expansion: package -> [(path, is_dir_only)],
    the Version, and whether %install runs find_lang for the app's catalogues."""
    name = re.search(r"^Name:\s*(\S+)", expanded, re.M)
    version = re.search(r"^Version:\s*(\S+)", expanded, re.M)
    base = name.group(1) if name else "?"
    sections: dict[str, list[tuple[str, bool]]] = {}
    current = None
    for line in expanded.splitlines():
        stripped = line.strip()
        if re.match(r"^%(files|package|description|prep|build|install|check|changelog|pre|post|preun|postun|"
                     r"pretrans|posttrans|triggerin|triggerun|filetriggerin)\b", stripped):
            current = None
            if stripped.startswith("%files"):
                words = [w for w in stripped.split()[1:]]
                package = base
                skip = False
                for i, word in enumerate(words):
                    if skip:
                        skip = False
                        continue
                    if word == "-f":
                        skip = True
                    elif word == "-n" and i + 1 < len(words):
                        package = words[i + 1]
                        skip = True
                    elif not word.startswith("-"):
                        package = f"{base}-{word}"
                current = sections.setdefault(package, [])
            continue
        if current is None or not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(("%doc", "%license")):
            continue  # relative to the source tree, not the install
        dir_only = stripped.startswith("%dir ")
        path = FILE_DIRECTIVES.sub("", stripped.removeprefix("%dir ")).strip()
        current.append((path, dir_only))
    install = re.search(r"^%install$(.*?)^%(check|files|post|pre|changelog)", expanded, re.M | re.S)
    finds_lang = bool(install and re.search(rf"find-lang\.sh\s+\S+\s+{re.escape(GETTEXT_PACKAGE)}\b", install.group(1)))
    return sections, version.group(1) if version else "?", finds_lang


def covers(entry: str, dir_only: bool, path: str) -> bool:
    if any(char in entry for char in "*?["):
        return fnmatch.fnmatch(path, entry) or (not dir_only and fnmatch.fnmatch(path, entry.rstrip("/") + "/*"))
    entry = entry.rstrip("/")
    return path == entry or (not dir_only and path.startswith(entry + "/"))


def check_spec(expanded: str, installed: Installed) -> list[str]:
    p = []
    sections, version, finds_lang = spec_files(expanded)
    if version != installed.version:
        p.append(f"spec Version {version}, meson's version is {installed.version}")
    for package in (APP_PACKAGE, HELPER_PACKAGE):
        if package not in sections:
            p.append(f"spec: no %files for {package}")
    if p:
        return p
    catalogue = f"{installed.localedir}/*/LC_MESSAGES/{GETTEXT_PACKAGE}.mo"
    want = {HELPER_PACKAGE: installed.helper, APP_PACKAGE: installed.app}
    for package, files in want.items():
        entries = sections[package]
        for path in sorted(files):
            owners = [other for other, other_entries in sections.items()
                      if any(covers(entry, dir_only, path) for entry, dir_only in other_entries)]
            if package == APP_PACKAGE and finds_lang and fnmatch.fnmatch(path, catalogue):
                owners.append(APP_PACKAGE)
            if package not in owners:
                p.append(f"spec: %files of {package} lacks {path} (meson installs it"
                         f"{' with tag ' + HELPER_TAG if package == HELPER_PACKAGE else ''})")
            for other in sorted(set(owners) - {package}):
                p.append(f"spec: {path} belongs to {package} but %files of {other} lists it too")
        everything = installed.helper | installed.app
        for entry, dir_only in entries:
            if not any(covers(entry, dir_only, path) or (dir_only and path.startswith(entry.rstrip("/") + "/"))
                       for path in everything):
                p.append(f"spec: %files of {package} lists {entry}, which meson does not install")
    return p


# --- Arch -------------------------------------------------------------------------------

def pkgbuild_info(path: Path) -> dict:
    """The PKGBUILD sourced in a subshell (as makepkg does): its variables and functions."""
    must(["bash", "-n", str(path)])
    script = r"""
set -e
source "$1" >/dev/null
emit() { local name=$1; shift; printf '%s\0' "$name" "$#" "$@"; }
emit pkgbase "$pkgbase"
emit pkgname "${pkgname[@]}"
emit pkgver "$pkgver"
emit pkgrel "$pkgrel"
emit arch "${arch[@]}"
emit license "${license[@]}"
emit url "$url"
emit source "${source[@]}"
emit makedepends "${makedepends[@]}"
emit helper_files "${_helper_files[@]}"
for f in prepare build check package_vmnet-doctor package_vmnet-doctor-helper; do
    if declare -F "$f" >/dev/null; then emit "function:$f" "$(declare -f "$f")"; fi
done
"""
    out = must(["bash", "-c", script, "pkgbuild", str(path)], cwd=tempfile.gettempdir())
    fields = out.split("\0")
    info: dict = {}
    i = 0
    while i + 1 < len(fields):
        name, count = fields[i], int(fields[i + 1])
        info[name] = fields[i + 2:i + 2 + count]
        i += 2 + count
    return info


def check_pkgbuild(info: dict, installed: Installed) -> list[str]:
    p = []
    if info.get("pkgname") != [APP_PACKAGE, HELPER_PACKAGE]:
        p.append(f"pkgname {info.get('pkgname')}, want ({APP_PACKAGE} {HELPER_PACKAGE})")
    if info.get("pkgver") != [installed.version]:
        p.append(f"pkgver {info.get('pkgver')}, meson's version is {installed.version}")
    for name in ("pkgrel", "arch", "license", "url", "makedepends"):
        if not [v for v in info.get(name, []) if v]:
            p.append(f"PKGBUILD: {name} is empty")
    sources = info.get("source", [])
    if not sources or not sources[0].endswith(f"#tag=v{installed.version}"):
        p.append(f"PKGBUILD: source {sources} is not pinned to the tag v{installed.version}")
    for function in ("prepare", "build", "check", f"package_{APP_PACKAGE}", f"package_{HELPER_PACKAGE}"):
        if f"function:{function}" not in info:
            p.append(f"PKGBUILD: no {function}()")
    listed = info.get("helper_files", [])
    absolute = {"/" + entry for entry in listed}
    for path in sorted(installed.helper - absolute):
        p.append(f"PKGBUILD: _helper_files lacks {path.lstrip('/')} (meson installs it with tag {HELPER_TAG})")
    for path in sorted(absolute - installed.helper):
        p.append(f"PKGBUILD: _helper_files lists {path.lstrip('/')}, which meson's helper tag does not install")
    if len(set(listed)) != len(listed) or any(entry.startswith("/") for entry in listed):
        p.append("PKGBUILD: _helper_files has duplicates or absolute paths (they are relative to $pkgdir)")
    helper_body = " ".join(info.get(f"function:package_{HELPER_PACKAGE}", [""]))
    if not re.search(r"meson install .*--tags helper", helper_body):
        p.append(f"PKGBUILD: package_{HELPER_PACKAGE}() does not run meson install --tags helper")
    app_body = " ".join(info.get(f"function:package_{APP_PACKAGE}", [""]))
    if "meson install" not in app_body or not re.search(r'rm .*"\$\{_helper_files\[@\]\}"', app_body):
        p.append(f"PKGBUILD: package_{APP_PACKAGE}() must meson install and remove \"${{_helper_files[@]}}\"")
    return p


def run_package_functions(build_dir: Path, work: Path) -> list[str]:
    """Builds with arch-meson's layout and runs both package functions."""
    options = {o["name"]: o["value"] for o in json.loads(must(["meson", "introspect", str(build_dir),
                                                                "--buildoptions"]))}
    srcdir = work / "src"
    srcdir.mkdir()
    build = srcdir / "build"
    # BUILD_DIR's compiled crates: through cargo's shared build-dir when it
    # has one (./dev test's), else its cargo target directory. Only the
    # crates that read the install paths compile again.
    shared = str(options.get("cargo_build_dir") or "")
    must(["meson", "setup", str(build), str(ROOT), f"-Dprofile={options['profile']}",
          f"-Dbuildtype={options['buildtype']}", f"-Dcargo_build_dir={shared}", *LAYOUTS["arch"]])
    if not shared:
        (build_dir / "cargo-target").mkdir(exist_ok=True)
        (build / "cargo-target").symlink_to((build_dir / "cargo-target").resolve())
    # A build on a busy two-core machine: a generous limit, not a target.
    must(["meson", "compile", "-C", str(build)], timeout=1800)
    installed = Installed(build)
    p = []
    trees = {}
    for package in (APP_PACKAGE, HELPER_PACKAGE):
        pkgdir = work / "pkg" / package
        pkgdir.mkdir(parents=True)
        result = run(["bash", "-c", 'set -e; source "$1"; cd "$srcdir"; "package_$2"', "makepkg",
                      str(PKGBUILD), package],
                     env={**os.environ, "srcdir": str(srcdir), "pkgdir": str(pkgdir)})
        if result.returncode != 0:
            p.append(f"package_{package} exited with {result.returncode}:\n{(result.stdout + result.stderr)[-1500:]}")
            continue
        trees[package] = {"/" + str(f.relative_to(pkgdir)) for f in pkgdir.rglob("*") if not f.is_dir()}
        empty = [str(d.relative_to(pkgdir)) for d in pkgdir.rglob("*") if d.is_dir() and not any(d.iterdir())]
        if empty:
            p.append(f"package_{package} leaves empty directories: {empty}")
    if p:
        return p
    for package, want in ((HELPER_PACKAGE, installed.helper), (APP_PACKAGE, installed.app)):
        for path in sorted(want - trees[package]):
            p.append(f"package_{package}: {path} is missing")
        for path in sorted(trees[package] - want):
            p.append(f"package_{package}: {path} should not be there")
    return p


# --- Main ----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--package-build", type=Path, metavar="BUILD_DIR")
    args = parser.parse_args()
    for tool in ("meson", "rpmspec", "bash"):
        if not shutil.which(tool):
            print(f"check-recipes: {tool} is needed", file=sys.stderr)
            return 2

    results: list[tuple[str, list[str]]] = []

    def record(label: str, function, *fargs) -> None:
        try:
            problems = function(*fargs)
        except Exception as error:  # a crash in one check is that check's failure
            problems = [f"{type(error).__name__}: {error}"]
        results.append((label, problems))

    with tempfile.TemporaryDirectory(prefix="vmnd-recipes.") as tmp:
        layouts = configure(Path(tmp))
    fedora, arch = layouts["fedora"], layouts["arch"]
    if not fedora.helper:
        print("check-recipes: meson's install plan has no file tagged helper", file=sys.stderr)
        return 2
    expanded = must(["rpmspec", "-P", str(SPEC)])
    info = pkgbuild_info(PKGBUILD)

    record(f"meson: {len(fedora.helper)} helper files, {len(fedora.app)} app files (Fedora layout, "
           f"libexecdir {fedora.libexecdir}; Arch: {arch.libexecdir})", lambda: [])
    record("Fedora spec (rpmspec -P): Version, %files of the app and of -helper match meson", check_spec,
           expanded, fedora)
    record("Arch PKGBUILD (bash -n, sourced): split packages, pkgver, functions, _helper_files match meson",
           check_pkgbuild, info, arch)

    if args.package_build:
        with tempfile.TemporaryDirectory(prefix="vmnd-pkgbuild.") as tmp:
            record("Arch PKGBUILD: package_vmnet-doctor and package_vmnet-doctor-helper, run on a real build, "
                   "split meson's install exactly", run_package_functions, args.package_build, Path(tmp))

    if args.self_test:
        def with_new_file(installed: Installed, helper: bool) -> Installed:
            changed = Installed.__new__(Installed)
            changed.__dict__ = {k: (set(v) if isinstance(v, set) else v) for k, v in installed.__dict__.items()}
            if helper:
                changed.helper.add("/usr/share/dbus-1/system.d/io.github.vmnetdoctor.Helper2.conf")
            else:
                changed.app.add("/usr/share/vmnet-doctor-new/thing.xml")
            return changed

        def drop_line(text: str, needle: str) -> str:
            lines = text.splitlines()
            index = next(i for i, line in enumerate(lines) if needle in line)
            return "\n".join(lines[:index] + lines[index + 1:])

        def bumped(installed: Installed) -> Installed:
            changed = with_new_file(installed, True)
            changed.helper = set(installed.helper)
            changed.version = installed.version + ".1"
            return changed

        mistakes = {
            "a new helper file the spec forgets": lambda: check_spec(expanded, with_new_file(fedora, True)),
            "a new app file the spec forgets": lambda: check_spec(expanded, with_new_file(fedora, False)),
            "a helper file dropped from %files helper": lambda: check_spec(
                drop_line(expanded, "/dbus-1/system-services/"), fedora),
            "a helper file listed in the app's %files too": lambda: check_spec(
                expanded.replace("%files helper", "/usr/libexec/vmnet-doctor-helper\n%files helper"), fedora),
            "a stale %files entry": lambda: check_spec(
                expanded.replace("%files helper", "%files helper\n/usr/share/dbus-1/gone.conf"), fedora),
            "a spec Version behind meson's": lambda: check_spec(expanded, bumped(fedora)),
            "a new helper file the PKGBUILD forgets": lambda: check_pkgbuild(info, with_new_file(arch, True)),
            "a helper file dropped from _helper_files": lambda: check_pkgbuild(
                {**info, "helper_files": info["helper_files"][1:]}, arch),
            "a pkgver behind meson's": lambda: check_pkgbuild(info, bumped(arch)),
            "the helper package without --tags helper": lambda: check_pkgbuild(
                {**info, f"function:package_{HELPER_PACKAGE}": ["meson install -C build --destdir x"]}, arch),
        }
        for label, mistake in mistakes.items():
            caught = mistake()
            results.append((f"self-test: catches {label}", [] if caught else [f"not caught: {label}"]))

    failed = 0
    for label, problems in results:
        if problems:
            failed += 1
            print(f"FAIL: {label}")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"ok:   {label}")
    print(f"check-recipes: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
