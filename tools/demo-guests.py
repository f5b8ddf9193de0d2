#!/usr/bin/env python3
"""Writes the demo's recorded guests (data/demo/guests/*.json) from the
lab's captures of real guests (crates/core/tests/fixtures/guest/).

A demo VM whose <metadata> holds <demo:guest recording='guests/NAME.json'/>
answers its guest agent's commands from NAME.json
(crates/libvirt/src/agent/recorded.rs). Each entry there is one capture,
copied whole, with the file it came from (`fixture`) and, for an agent
command, the command it answered (`execute`). Nothing is edited: run this
again after capturing the fixtures again
(`./dev shell tests/lab/guest-checks.sh --capture`);
crates/libvirt/tests/demo_guests.rs fails when a recording and its
captures differ.

    python3 tools/demo-guests.py
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/core/tests/fixtures/guest"
OUT = ROOT / "data/demo/guests"
# The card of the lab's Debian guest (tests/lab/debian-guest/).
DEBIAN_MAC = "52:54:00:1a:b0:02"

GUESTS = {
    "debian13-static-profile": (
        "The lab's Debian 13 guest with NetworkManager's static profile “office” "
        "(192.168.1.50/24 via 192.168.1.1, autoconnect-priority 10) up on enp1s0, "
        "the DHCP profile “Wired connection 2” beside it.",
        [
            ("guest-info", "debian13-info.json"),
            ("guest-get-osinfo", "debian13-osinfo.json"),
            ("guest-network-get-interfaces", "debian13-interfaces-static-profile.json"),
            (None, "debian13-probe-static-profile.json"),
        ],
    ),
    "debian13-no-profile": (
        "The lab's Debian 13 guest with every NetworkManager profile deleted and "
        "no automatic one (no-auto-default=*): its card enp1s0 has no address.",
        [
            ("guest-info", "debian13-info.json"),
            ("guest-get-osinfo", "debian13-osinfo.json"),
            ("guest-network-get-interfaces", "debian13-interfaces-no-profile.json"),
            (None, "debian13-probe-no-profile.json"),
        ],
    ),
}


def recording(about, captures):
    recorded = []
    for execute, fixture in captures:
        capture = json.loads((FIXTURES / fixture).read_text())
        entry = {"fixture": fixture}
        if execute is not None:
            entry["execute"] = execute
        entry.update(capture)
        recorded.append(entry)
    return {
        "schema": "vmnet-doctor-demo-guest/1",
        "about": about,
        "mac": DEBIAN_MAC,
        "recorded": recorded,
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (about, captures) in GUESTS.items():
        text = json.dumps(recording(about, captures), indent=2, ensure_ascii=False) + "\n"
        (OUT / f"{name}.json").write_text(text)
        print(OUT / f"{name}.json")


if __name__ == "__main__":
    main()
