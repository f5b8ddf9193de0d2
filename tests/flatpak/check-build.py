#!/usr/bin/env python3
"""Checks a flatpak-builder build directory against its manifest.

What `flatpak run` will do is decided by the build's `metadata` (runtime,
command, sandbox) and its `export/` tree (what the desktop sees), not by
the manifest, so both are read back here:

- the manifest flatpak-builder recorded as built (files/manifest.json):
  the repository's, sources from files read in; only runtime,
  runtime-version, sdk and sdk-extensions may differ (none do: the local
  runtime takes the names the manifest asks for);
- [Application]: the id, command, runtime and SDK the manifest names;
- the sandbox: exactly the manifest's finish-args, nothing more or less;
- the app: an executable vmnet-doctor, libvirt's client library, no root
  helper (-Dhelper=false), nothing the manifest's cleanup removes;
- exported to the desktop: the launcher (its Exec the manifest's command,
  which flatpak wraps in `flatpak run` when it installs it), the icon it
  names, the metainfo.

    tests/flatpak/check-build.py MANIFEST BUILD-DIR
    tests/flatpak/check-build.py --self-test MANIFEST BUILD-DIR

--self-test makes mistakes on copies of the metadata and export tree and
proves that each is caught.
"""

from __future__ import annotations

import configparser
import json
import shutil
import sys
import tempfile
from pathlib import Path

ARCH = "x86_64"


def expected_context(finish_args: list[str]) -> dict[str, dict[str, str]]:
    """The metadata sections and keys flatpak writes for FINISH_ARGS."""
    lists: dict[str, list[str]] = {}
    system_bus: dict[str, str] = {}
    session_bus: dict[str, str] = {}
    environment: dict[str, str] = {}
    for arg in finish_args:
        option, _, value = arg.removeprefix("--").partition("=")
        key = {"share": "shared", "socket": "sockets", "device": "devices",
               "filesystem": "filesystems"}.get(option)
        if key:
            lists.setdefault(key, []).append(value)
            # flatpak also writes x11 for fallback-x11, for versions that
            # do not know fallback-x11 (its flatpak-context.c).
            if arg == "--socket=fallback-x11":
                lists[key].append("x11")
        elif option == "system-talk-name":
            system_bus[value] = "talk"
        elif option == "talk-name":
            session_bus[value] = "talk"
        elif option == "env":
            name, _, setting = value.partition("=")
            environment[name] = setting
        else:
            raise SystemExit(f"check-build: finish-arg {arg} is not known to this check; teach it")
    sections = {"Context": {key: ";".join(sorted(values)) for key, values in lists.items()}}
    if system_bus:
        sections["System Bus Policy"] = system_bus
    if session_bus:
        sections["Session Bus Policy"] = session_bus
    if environment:
        sections["Environment"] = environment
    return sections


# Keys flatpak-builder adds to the manifest it records (files/manifest.json).
RECORDED_ONLY = {"runtime-commit", "sdk-commit", "source-date-epoch"}
# What a build may change: the runtime it builds on (none differ here, as
# the local runtime takes the names the manifest asks for).
MAY_DIFFER = {"runtime", "runtime-version", "sdk", "sdk-extensions"}


def normalised(value, base: Path):
    """VALUE as flatpak-builder records it: sources named by file read in."""
    if isinstance(value, dict):
        return {key: normalised(item, base) for key, item in value.items()}
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str) and item.endswith(".json") and (base / item).is_file():
                out.extend(normalised(json.loads((base / item).read_text()), base))
            else:
                out.append(normalised(item, base))
        return out
    return value


def first_difference(want, have, path="") -> str | None:
    if isinstance(want, dict) and isinstance(have, dict):
        for key in sorted(set(want) | set(have)):
            if key not in have:
                return f"{path}/{key}: missing from what was built"
            if key not in want:
                return f"{path}/{key}: built, but not in the manifest"
            found = first_difference(want[key], have[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(have, list):
        if len(want) != len(have):
            return f"{path}: {len(want)} entries in the manifest, {len(have)} built"
        for index, (a, b) in enumerate(zip(want, have)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if want == have else f"{path}: manifest {want!r}, built {have!r}"


def recorded_manifest_problems(manifest: dict, manifest_dir: Path, build: Path) -> list[str]:
    """The manifest flatpak-builder recorded as built must be the
    repository's, but for MAY_DIFFER."""
    recorded_path = build / "files" / "manifest.json"
    if not recorded_path.is_file():
        return [f"{recorded_path} is missing: flatpak-builder records the manifest it built there"]
    recorded = json.loads(recorded_path.read_text())
    want = {key: value for key, value in normalised(manifest, manifest_dir).items() if key not in MAY_DIFFER}
    have = {key: value for key, value in recorded.items() if key not in MAY_DIFFER | RECORDED_ONLY}
    found = first_difference(want, have)
    return [f"what was built is not the manifest: {found}"] if found else []


def read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keys are case-sensitive (bus names)
    parser.read_string(path.read_text())
    return parser


def problems(manifest: dict, build: Path, manifest_dir: Path) -> list[str]:
    found: list[str] = recorded_manifest_problems(manifest, manifest_dir, build)
    app_id = manifest["id"]
    metadata_path = build / "metadata"
    if not metadata_path.is_file():
        return [f"{metadata_path} is missing: flatpak-builder did not finish the build"]
    metadata = read_ini(metadata_path)

    application = dict(metadata["Application"]) if metadata.has_section("Application") else {}
    want_application = {
        "name": app_id,
        "command": manifest["command"],
        "runtime": f"{manifest['runtime']}/{ARCH}/{manifest['runtime-version']}",
        "sdk": f"{manifest['sdk']}/{ARCH}/{manifest['runtime-version']}",
    }
    for key, value in want_application.items():
        if application.get(key) != value:
            found.append(f"metadata [Application] {key}={application.get(key)!r}, the manifest asks for {value!r}")

    want = expected_context(manifest.get("finish-args", []))
    for section in ("Context", "System Bus Policy", "Session Bus Policy", "Environment"):
        have = dict(metadata[section]) if metadata.has_section(section) else {}
        # flatpak sorts nothing and may end a list with ';'.
        have = {key: ";".join(sorted(v for v in value.split(";") if v)) if section == "Context" else value
                for key, value in have.items()}
        wanted = want.get(section, {})
        for key in sorted(set(have) | set(wanted)):
            if have.get(key) != wanted.get(key):
                found.append(f"metadata [{section}] {key}: built {have.get(key)!r}, "
                             f"the manifest's finish-args give {wanted.get(key)!r}")

    files = build / "files"
    binary = files / "bin" / manifest["command"]
    if not binary.is_file() or not binary.stat().st_mode & 0o111 or binary.read_bytes()[:4] != b"\x7fELF":
        found.append(f"{binary} is not an executable ELF file")
    if not list((files / "lib").glob("libvirt.so.0*")):
        found.append("libvirt's client library (files/lib/libvirt.so.0) is missing")
    if list(files.glob("libexec/vmnet-doctor-helper*")):
        found.append("the root helper is in the Flatpak; the manifest builds with -Dhelper=false")
    for pattern in manifest.get("cleanup", []):
        leftovers = list(files.glob(f"**/{pattern}" if pattern.startswith("*") else pattern.lstrip("/")))
        if leftovers:
            found.append(f"cleanup {pattern!r} left {leftovers[0]}")

    launcher = build / "export" / "share" / "applications" / f"{app_id}.desktop"
    if not launcher.is_file():
        found.append(f"no launcher exported ({launcher})")
    else:
        entry = read_ini(launcher)["Desktop Entry"] if "[Desktop Entry]" in launcher.read_text() else {}
        # flatpak rewrites Exec into `flatpak run … APP-ID` when it installs
        # the launcher (the lab checks that one); here it runs the command.
        exec_line = entry.get("Exec", "")
        if exec_line.split()[:1] != [manifest["command"]]:
            found.append(f"the launcher's Exec={exec_line!r} does not start the manifest's command")
        icon = entry.get("Icon", "")
        icons = list((build / "export" / "share" / "icons").glob(f"hicolor/*/apps/{icon}.*")) if icon else []
        if not icons:
            found.append(f"the launcher's Icon={icon!r} is not among the exported icons")
    metainfo = files / "share" / "metainfo" / f"{app_id}.metainfo.xml"
    if not metainfo.is_file():
        found.append(f"no metainfo ({metainfo})")
    return found


def self_test(manifest: dict, build: Path, manifest_dir: Path) -> int:
    base = problems(manifest, build, manifest_dir)
    if base:
        print("check-build --self-test: the real build already fails:\n  " + "\n  ".join(base), file=sys.stderr)
        return 1

    def extra_permission(copy: Path) -> None:
        text = (copy / "metadata").read_text()
        (copy / "metadata").write_text(text.replace("[Context]\n", "[Context]\nfilesystems=host;\n", 1)
                                       if "filesystems=" not in text else
                                       text.replace("filesystems=", "filesystems=host;", 1))

    def session_bus(copy: Path) -> None:
        with (copy / "metadata").open("a") as f:
            f.write("\n[Session Bus Policy]\norg.freedesktop.Flatpak=talk\n")

    def other_runtime(copy: Path) -> None:
        text = (copy / "metadata").read_text()
        (copy / "metadata").write_text(text.replace(f"runtime={manifest['runtime']}/", "runtime=org.gnome.Platform.Old/"))

    def lost_system_talk(copy: Path) -> None:
        text = (copy / "metadata").read_text()
        (copy / "metadata").write_text(text.replace("io.github.vmnetdoctor.Helper1=talk\n", ""))

    def no_icon(copy: Path) -> None:
        for icon in (copy / "export" / "share" / "icons").glob("hicolor/*/apps/*"):
            icon.unlink()

    def helper_inside(copy: Path) -> None:
        (copy / "files" / "libexec").mkdir(exist_ok=True)
        (copy / "files" / "libexec" / "vmnet-doctor-helper").write_bytes(b"\x7fELF")

    def headers_left(copy: Path) -> None:
        (copy / "files" / "include").mkdir(exist_ok=True)

    def other_config(copy: Path) -> None:
        recorded = json.loads((copy / "files" / "manifest.json").read_text())
        recorded["modules"][-1]["config-opts"].append("-Dhelper=true")
        (copy / "files" / "manifest.json").write_text(json.dumps(recorded))

    def crate_left_out(copy: Path) -> None:
        recorded = json.loads((copy / "files" / "manifest.json").read_text())
        recorded["modules"][-1]["sources"].pop()
        (copy / "files" / "manifest.json").write_text(json.dumps(recorded))

    mistakes = [other_config, crate_left_out, extra_permission, session_bus, other_runtime, lost_system_talk, no_icon, helper_inside,
                headers_left]
    failed = 0
    for mistake in mistakes:
        with tempfile.TemporaryDirectory(prefix="check-build-") as tmp:
            copy = Path(tmp) / "build"
            copy.mkdir()
            shutil.copy2(build / "metadata", copy / "metadata")
            shutil.copytree(build / "export", copy / "export", symlinks=True)
            # files/ is large: link its top level, copy only what a mistake changes.
            (copy / "files").mkdir()
            for child in (build / "files").iterdir():
                (copy / "files" / child.name).symlink_to(child)
            (copy / "files" / "manifest.json").unlink()
            shutil.copy2(build / "files" / "manifest.json", copy / "files" / "manifest.json")
            for name in ("libexec", "include"):
                if (copy / "files" / name).is_symlink():
                    (copy / "files" / name).unlink()
            mistake(copy)
            if problems(manifest, copy, manifest_dir):
                print(f"  caught: {mistake.__name__}")
            else:
                failed += 1
                print(f"  NOT caught: {mistake.__name__}", file=sys.stderr)
    print(f"check-build --self-test: {len(mistakes) - failed} of {len(mistakes)} mistakes caught")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    test = argv[:1] == ["--self-test"]
    args = argv[1:] if test else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    manifest = json.loads(Path(args[0]).read_text())
    manifest_dir = Path(args[0]).resolve().parent
    build = Path(args[1])
    if test:
        return self_test(manifest, build, manifest_dir)
    found = problems(manifest, build, manifest_dir)
    for problem in found:
        print(f"check-build: {problem}", file=sys.stderr)
    if not found:
        print(f"check-build: {build} is what {args[0]} describes")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
