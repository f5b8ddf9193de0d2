#!/usr/bin/env python3
"""Fills a flatpak-builder --extra-sources directory without upstream sites.

The manifests download their C libraries from upstream sites and the
crates from static.crates.io, which cannot be reached where the tests run.
What can be reached are the package registries through their own clients:

- C libraries: Debian's archive. For these libraries Debian's "orig"
  tarball is the upstream release tarball itself. apt fetches the archive's
  Sources index (checking the signature of its InRelease); each tarball
  whose sha256 equals a manifest source's is downloaded from the pool.
- Crates (cargo-sources.json): `cargo fetch --locked` puts each .crate of
  Cargo.lock into cargo's download cache, byte for byte the file
  static.crates.io serves, whose sha256 Cargo.lock records.

Each file is checked against the manifest's sha256 and put at
DIR/downloads/SHA256/NAME, where flatpak-builder looks before downloading
(and checks the sha256 again).

    tests/flatpak/offline-sources.py MANIFEST DIR

A source found in neither place fails with its name. Runs as root inside
./dev's build root (apt-get, cargo).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

SUITE = "trixie"
MIRROR = os.environ.get("VMNET_DOCTOR_MIRROR", "http://deb.debian.org/debian")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def module_sources(manifest: Path, module: dict) -> list:
    """A module's sources, with the files it names (cargo-sources.json)
    read in."""
    out = []
    for source in module.get("sources", []):
        if isinstance(source, str):
            out.extend(json.loads((manifest.parent / source).read_text()))
        else:
            out.append(source)
    return out


def wanted(manifest: Path) -> list[tuple[str, str, str]]:
    """(module, sha256, url) of every file the modules download."""
    data = json.loads(manifest.read_text())
    out = []
    for module in data["modules"]:
        if isinstance(module, str):
            continue
        for source in module_sources(manifest, module):
            if source.get("type") not in ("archive", "file") or "url" not in source:
                continue
            out.append((module["name"], source["sha256"], source["url"]))
    return out


def file_name(url: str) -> str:
    return Path(urlparse(url).path).name


def is_crate(url: str) -> bool:
    return urlparse(url).hostname == "static.crates.io"


def from_cargo_cache(missing: list[tuple[str, str, str]], out: Path, checkout: Path) -> list[tuple[str, str, str]]:
    """Copies the crates among MISSING from cargo's download cache (after
    `cargo fetch --locked`); returns what is still missing."""
    crates = [entry for entry in missing if is_crate(entry[2])]
    if not crates:
        return missing
    subprocess.run(["cargo", "fetch", "--locked", "--manifest-path", str(checkout / "Cargo.toml")],
                   check=True, stdout=sys.stderr)
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    cached = {path.name: path for path in (cargo_home / "registry/cache").glob("*/*.crate")}
    still = [entry for entry in missing if not is_crate(entry[2])]
    for module, checksum, url in crates:
        name = file_name(url)
        source = cached.get(name)
        if source is None or sha256(source) != checksum:
            still.append((module, checksum, url))
            continue
        target = out / "downloads" / checksum / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    found = len(missing) - len(still)
    print(f"offline-sources: {found} crates from cargo's download cache", file=sys.stderr)
    return still


def signed_sources_index(state: Path) -> dict[str, tuple[str, str]]:
    """sha256 -> (pool path, file name) of every source file in Debian's
    Sources index, which apt fetched and checked against the signed
    InRelease."""
    sources = state / "sources.list"
    sources.write_text(f"deb-src {MIRROR} {SUITE} main\n")
    (state / "lists/partial").mkdir(parents=True)
    subprocess.run([
        "apt-get", "-q",
        "-o", f"Dir::Etc::SourceList={sources}",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State::Lists={state}/lists",
        "-o", f"Dir::Cache={state}",
        "-o", "APT::Sandbox::User=root",
        "update",
    ], check=True, stdout=sys.stderr)
    index: dict[str, tuple[str, str]] = {}
    for lists in (state / "lists").glob("*_Sources"):
        for paragraph in lists.read_text(errors="replace").split("\n\n"):
            directory, checksums, in_checksums = "", [], False
            for line in paragraph.splitlines():
                if line.startswith("Directory:"):
                    directory = line.split(":", 1)[1].strip()
                elif line.startswith("Checksums-Sha256:"):
                    in_checksums = True
                elif in_checksums and line.startswith(" "):
                    checksums.append(line.split())
                else:
                    in_checksums = False
            for fields in checksums:
                if len(fields) == 3:
                    index[fields[0]] = (f"{directory}/{fields[2]}", fields[2])
    if not index:
        raise SystemExit("offline-sources: apt fetched no Sources index")
    return index


def download(url: str, target: Path, checksum: str) -> None:
    partial = target.with_name(target.name + ".partial")
    with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as f:
        shutil.copyfileobj(response, f)
    if sha256(partial) != checksum:
        partial.unlink()
        raise SystemExit(f"offline-sources: {url} does not have the signed index's sha256 {checksum}")
    partial.rename(target)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    manifest, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    needed = wanted(manifest)
    missing = [entry for entry in needed if not (out / "downloads" / entry[1] / file_name(entry[2])).is_file()]
    if not missing:
        print(f"offline-sources: all {len(needed)} files already in {out}", file=sys.stderr)
        return 0
    missing = from_cargo_cache(missing, out, manifest.parent.parent)
    index: dict[str, tuple[str, str]] = {}
    if missing:
        with tempfile.TemporaryDirectory(prefix="offline-sources-") as tmp:
            index = signed_sources_index(Path(tmp))
    failed = False
    for module, checksum, url in missing:
        name = file_name(url)
        found = index.get(checksum)
        if found is None:
            failed = True
            print(f"offline-sources: {module}: neither Debian {SUITE}'s archive nor cargo's cache has "
                  f"a file with the manifest's sha256 {checksum} ({name})", file=sys.stderr)
            continue
        pool_path, debian_name = found
        target = out / "downloads" / checksum / name
        target.parent.mkdir(parents=True, exist_ok=True)
        download(f"{MIRROR}/{pool_path}", target, checksum)
        print(f"offline-sources: {module}: {name} = Debian's {debian_name} (sha256 {checksum[:12]}…)",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
