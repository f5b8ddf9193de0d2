#!/usr/bin/env python3
"""The hash deny.toml's [[licenses.clarify]] license-files want for FILE…

cargo-deny hashes a file as XXH32 (seed 0) of its lines with their line
ends (CR, LF) replaced by one LF. When a dependency's new release changes
such a file, `cargo deny check licenses` goes red (the clarification no
longer applies); re-read the file, then update the hash with this:

    tools/license-hash.py ~/.cargo/registry/src/*/virt-0.5.0/src/lib.rs
"""
import sys

P1, P2, P3, P4, P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
M = 0xFFFFFFFF


def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M


def xxh32(b, seed=0):
    n, i = len(b), 0
    if n >= 16:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed & M, (seed - P1) & M]
        while i + 16 <= n:
            for j in range(4):
                w = int.from_bytes(b[i + 4 * j:i + 4 * j + 4], "little")
                v[j] = (rotl((v[j] + w * P2) & M, 13) * P1) & M
            i += 16
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 4 <= n:
        h = (rotl((h + int.from_bytes(b[i:i + 4], "little") * P3) & M, 17) * P4) & M
        i += 4
    while i < n:
        h = (rotl((h + b[i] * P5) & M, 11) * P1) & M
        i += 1
    h ^= h >> 15
    h = (h * P2) & M
    h ^= h >> 13
    h = (h * P3) & M
    h ^= h >> 16
    return h


def file_hash(path):
    with open(path, "rb") as f:
        text = b"".join(line.rstrip(b"\r\n") + b"\n" for line in f)
    return xxh32(text)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) > 1 else 2)
    # Known answers: XXH32 of "" and "abc".
    assert xxh32(b"") == 0x02CC5D05 and xxh32(b"abc") == 0x32D153FF
    for path in sys.argv[1:]:
        print(f"{path}: hash = {file_hash(path):#010x}")
