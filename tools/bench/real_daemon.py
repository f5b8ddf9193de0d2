#!/usr/bin/env python3
"""The list target on a real libvirtd (issue #20, item 1), inside the lab
(tests/lab/lab.sh: root, the lab's own libvirtd in namespaces):

    tests/lab/lab.sh python3 tools/bench/real_daemon.py --app A --floor F \\
        --gtk-floor G [--vms 1000] [--running 3] [--runs 3] [--out result.json]

Defines VMS virtual machines on qemu:///system, the bench's mix
(make-host.py: the same XML a virt-manager VM has, 1-3 NICs each, turned
into QEMU domains: type qemu, no test-driver run state) plus the lab's
guest, and starts RUNNING tiny guests (the lab's kernel and initramfs, one
MAC each). Then, interleaved RUNS times: the libvirt floor (open, list,
every domain's XML: crates/libvirt/examples/bench_floor.rs), the app,
virt-manager and the GTK floor (as many static rows, no libvirt:
examples/bench_gtk_floor.rs) under Xvfb, each from process start to its
list populated (bench.py's gui_run: the app's own after-paint report,
virt-manager's "changed to state=Active" with its last row in), and the app
and the GTK floor again with GSK_RENDERER=cairo, for memory. Prints one
JSON document: each program's samples and medians, and the machine's load.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests/lab"))
import bench  # noqa: E402
import labkit as lab  # noqa: E402

URI = "qemu:///system"


def qemu_domains(count, work):
    """make-host.py's domains as QEMU domain XML files, in order."""
    host = work / "host.xml"
    subprocess.run([sys.executable, str(HERE / "make-host.py"), str(count), str(host)], check=True)
    text = host.read_text(encoding="utf-8")
    paths = []
    for index, match in enumerate(re.finditer(r"<domain type='test'>.*?</domain>", text, re.S)):
        xml = match.group(0).replace("<domain type='test'>", "<domain type='qemu'>", 1)
        # The test driver's run state, and a CPU mode TCG cannot give.
        xml = re.sub(r"\s*<test:runstate>.*?</test:runstate>", "", xml)
        xml = re.sub(r"\s*<cpu [^>]*/>", "", xml)
        path = work / f"vm{index:04}.xml"
        path.write_text(xml, encoding="utf-8")
        paths.append(path)
    if len(paths) != count:
        raise SystemExit(f"real_daemon: make-host.py gave {len(paths)} domains, not {count}")
    return paths


def define_all(paths):
    """One virsh for all (a process per domain would take minutes)."""
    script = "".join(f"define {path}\n" for path in paths)
    done = subprocess.run(["virsh", "-q", "-c", URI], input=script, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"real_daemon: defining the domains failed: {done.stderr[-2000:]}")


def start_running_guests(count, work):
    """COUNT copies of the lab's guest, each with its own name and MAC."""
    template = (REPO / "tests/lab/guest.xml").read_text(encoding="utf-8")
    for index in range(count):
        # Its name, and the console log named after it.
        xml = template.replace(lab.GUEST, f"bench-running-{index}")
        xml = re.sub(r"<uuid>[^<]*</uuid>", "", xml)
        xml = xml.replace(os.environ["LAB_GUEST_MAC"], f"52:54:00:1a:b1:{index:02x}")
        path = work / f"running{index}.xml"
        path.write_text(xml, encoding="utf-8")
        lab.virsh("define", str(path))
        lab.virsh("start", f"bench-running-{index}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--floor", required=True)
    parser.add_argument("--gtk-floor", required=True, help="bench_gtk_floor: GTK's own cost for as many rows")
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--running", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--idle", type=float, default=2.0)
    parser.add_argument("--out")
    args = parser.parse_args()
    schemas = Path(os.environ.get("GSETTINGS_SCHEMA_DIR") or REPO / "_build/data")
    work = Path(tempfile.mkdtemp(prefix="bench-real-"))
    started = time.monotonic()
    define_all(qemu_domains(args.vms, work))
    defined_s = time.monotonic() - started
    start_running_guests(args.running, work)
    total = len(lab.virsh("list", "--all", "--name").split())
    running = len(lab.virsh("list", "--name").split())
    print(f"real_daemon: {total} domains defined ({args.vms} in {defined_s:.1f} s), {running} running", flush=True)
    binaries = {"app": args.app, "floor": args.floor, "gtk_floor": args.gtk_floor}
    shader_cache = work / "shader-cache"
    # Memory is judged with cairo (#20 item 3): the cairo runs are for RSS.
    apps = ("ours", "virt-manager", "gtk-floor", "ours-cairo", "gtk-floor-cairo")
    samples = {"floor": [], **{app: [] for app in apps}}
    rss = {app: [] for app in apps}
    diagnosed = []
    # A first round warms the daemon's and the page cache; discarded.
    for run in range(args.runs + 1):
        floor_ms, floor_out = bench.timed([args.floor, URI])
        if int(bench.field(floor_out, "domains")) != total:
            raise SystemExit(f"real_daemon: the floor saw {floor_out.strip()}, not {total} domains")
        results = {app: bench.gui_run(app, URI, total, binaries, schemas, shader_cache, args.settle, args.idle)
                   for app in apps}
        print(f"real_daemon: run {run}: floor {floor_ms:.0f} ms, "
              + ", ".join(f"{app} {result['populated_ms']:.0f} ms" for app, result in results.items()), flush=True)
        if run == 0:
            continue
        samples["floor"].append(floor_ms)
        for app, result in results.items():
            samples[app].append(result["populated_ms"])
            rss[app].append(result["rss_kib"])
        if results["ours"].get("diagnosed_ms") is not None:
            diagnosed.append(results["ours"]["diagnosed_ms"])
    medians = {name: statistics.median(values) for name, values in samples.items()}
    document = {
        "vms": total,
        "running": running,
        "defined_s": defined_s,
        "samples_ms": samples,
        "median_ms": medians,
        "rss_kib": {app: statistics.median(values) for app, values in rss.items()},
        "ours_diagnosed_ms": statistics.median(diagnosed) if diagnosed else None,
        "speedup_vs_virt_manager": medians["virt-manager"] / medians["ours"],
        "ratio_to_floor": medians["ours"] / medians["floor"],
        "ratio_to_floors": medians["ours"] / (medians["floor"] + medians["gtk-floor"]),
        "loadavg": open("/proc/loadavg", encoding="ascii").read().split()[:3],
    }
    text = json.dumps(document, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
