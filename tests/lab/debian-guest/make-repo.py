#!/usr/bin/env python3
"""A flat APT repository ("deb [trusted=yes] URL ./") from a directory of
.debs: the .debs, Packages (their control fields, as apt-ftparchive writes
them) and an unsigned Release listing its checksums. Only dpkg-deb needed.

    make-repo.py DEBS_DIR OUT_DIR
"""

import email.utils
import hashlib
import os
import shutil
import subprocess
import sys


def digests(path):
    data = open(path, "rb").read()
    return len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def main(debs, out):
    os.makedirs(out, exist_ok=True)
    stanzas = []
    for name in sorted(os.listdir(debs)):
        if not name.endswith(".deb"):
            continue
        shutil.copy(os.path.join(debs, name), os.path.join(out, name))
        path = os.path.join(out, name)
        control = subprocess.run(["dpkg-deb", "-f", path], capture_output=True, text=True,
                                 check=True).stdout.rstrip("\n")
        size, md5, sha256 = digests(path)
        stanzas.append(f"{control}\nFilename: ./{name}\nSize: {size}\nMD5sum: {md5}\nSHA256: {sha256}\n")
    if not stanzas:
        sys.exit(f"make-repo.py: no .deb in {debs}")
    packages = os.path.join(out, "Packages")
    with open(packages, "w", encoding="utf-8") as file:
        file.write("\n".join(stanzas))
    size, md5, sha256 = digests(packages)
    with open(os.path.join(out, "Release"), "w", encoding="utf-8") as file:
        file.write("Origin: vmnet-doctor lab\nLabel: vmnet-doctor lab\nSuite: lab\nCodename: lab\n"
                   f"Date: {email.utils.formatdate(usegmt=True)}\n"
                   f"MD5Sum:\n {md5} {size} Packages\nSHA256:\n {sha256} {size} Packages\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
