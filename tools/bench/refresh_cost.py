#!/usr/bin/env python3
"""What a refresh costs with and without the helper (issue #20 item 6),
inside the lab (tests/lab/lab.sh: root, its own libvirtd, polkitd and the
helper, D-Bus-activated, on its own system bus):

    tests/lab/lab.sh python3 tools/bench/refresh_cost.py --host-facts B \\
        --snapshot S [--runs 5] [--reads 10] [--out result.json]

A refresh is libvirt's snapshot and the diagnosis (the same for every way
of reading the host: crates/libvirt/examples/bench_snapshot.rs, as root)
and the host's facts, read in one of four ways
(crates/host/examples/bench_host_facts.rs, one process reading --reads
times, as the app does on each refresh with the system-bus connection it
keeps for its life):

- as root: everything in the process, no helper (`sudo vmnet-doctor`);
- the distribution's app, as the desktop user: the root-only tools'
  output from the helper (`Inspect`), the rest in the process;
- the Flatpak's way, as the desktop user: the helper reads the whole host
  (`InspectHost`);
- the desktop user with no helper to ask (no system bus): the root-only
  facts are not known.

Each way runs --runs times, interleaved; a first round warms the caches and
the helper (D-Bus activation) and is not counted. Prints one JSON document;
bench.py writes its section. The part of bench.py that runs this and
writes the section is here too (`run_in_lab`, `target_row`, `section`).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import lab_run

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
URI = "qemu:///system"

# name: (label for the report, run as the desktop user, extra arguments, extra environment)
WAYS = {
    "root": ("as root, no helper (everything read in the process)", False, [], []),
    "user-helper": ("the desktop user, distribution package: root-only tools through the helper", True, [], []),
    "user-flatpak": ("the desktop user, Flatpak: the whole host through the helper", True,
                     ["--whole-host-from-helper"], []),
    "user-no-helper": ("the desktop user, no helper reachable (no system bus): root-only facts unknown", True, [],
                       ["DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/system_bus_socket"]),
}


def run_way(lab, binary, way, reads):
    _, as_user, extra, env = WAYS[way]
    argv = [binary, "--reads", str(reads), *extra]
    if as_user:
        argv = lab.user_argv(argv, extra_env=env)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"refresh_cost: {way} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    try:
        return json.loads(done.stdout)
    except ValueError as error:
        raise SystemExit(f"refresh_cost: {way} printed no JSON ({error}): {done.stdout[-500:]}") from error


def run_snapshot(binary):
    done = subprocess.run([binary, URI], capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"refresh_cost: bench_snapshot failed: {done.stderr.strip()[-2000:]}")
    fields = dict(re.findall(r"(\w+)=([0-9.]+)", done.stdout))
    return {name: float(fields[name]) for name in ("snapshot_ms", "diagnose_ms")} | {
        "domains": int(fields["domains"])}


def main():
    sys.path.insert(0, str(REPO / "tests/lab"))
    import labkit as lab  # noqa: E402  (only inside the lab)

    parser = argparse.ArgumentParser()
    parser.add_argument("--host-facts", required=True, help="bench_host_facts example binary")
    parser.add_argument("--snapshot", required=True, help="bench_snapshot example binary")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reads", type=int, default=10)
    parser.add_argument("--out")
    args = parser.parse_args()
    # The desktop user cannot enter every checkout: a copy it can run.
    work = Path(tempfile.mkdtemp(prefix="refresh-cost-", dir=os.environ["LAB_STATE"]))
    work.chmod(0o755)
    binary = str(work / "bench_host_facts")
    shutil.copy(args.host_facts, binary)
    os.chmod(binary, 0o755)

    samples = {way: {"first_ms": [], "then_ms": []} for way in WAYS}
    seen = {}
    snapshots = []
    for run in range(args.runs + 1):
        snapshot = run_snapshot(args.snapshot)
        results = {way: run_way(lab, binary, way, args.reads) for way in WAYS}
        print(f"refresh_cost: run {run}: snapshot {snapshot['snapshot_ms']:.1f} ms, " + ", ".join(
            f"{way} {result['reads_ms'][0]:.1f}/{statistics.median(result['reads_ms'][1:] or result['reads_ms']):.1f} ms"
            for way, result in results.items()), flush=True)
        if run == 0:
            continue
        snapshots.append(snapshot)
        for way, result in results.items():
            samples[way]["first_ms"].append(result["reads_ms"][0])
            samples[way]["then_ms"].extend(result["reads_ms"][1:])
            seen[way] = {"bus_connections": result["bus_connections"],
                         "root_only_facts": result["root_only_facts"]}
    document = {
        "runs": args.runs,
        "reads": args.reads,
        "domains": snapshots[-1]["domains"],
        "snapshot_ms": statistics.median(s["snapshot_ms"] for s in snapshots),
        "diagnose_ms": statistics.median(s["diagnose_ms"] for s in snapshots),
        "ways": {way: {"first_ms": statistics.median(values["first_ms"]),
                       "then_ms": statistics.median(values["then_ms"]),
                       **seen[way]}
                 for way, values in samples.items()},
    }
    # The figures must say what they claim: the helper's ways knew the
    # root-only facts, the way without it did not, and one connection
    # served every read of a process.
    for way in ("root", "user-helper", "user-flatpak"):
        if not document["ways"][way]["root_only_facts"]["known"]:
            raise SystemExit(f"refresh_cost: {way} did not read the root-only facts: "
                             f"{document['ways'][way]['root_only_facts']}")
    if document["ways"]["user-no-helper"]["root_only_facts"]["known"]:
        raise SystemExit("refresh_cost: without a system bus the root-only facts were read: not a run without the helper")
    for way in ("user-helper", "user-flatpak"):
        if document["ways"][way]["bus_connections"] != 1:
            raise SystemExit(f"refresh_cost: {way} made {document['ways'][way]['bus_connections']} bus connections "
                             f"for {args.reads} reads, not 1")
    text = json.dumps(document, indent=1)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------- bench.py's part


def run_in_lab(args, schemas, log):
    """Runs this script in the lab; its figures, or why it did not run."""
    if not (args.helper and args.host_facts):
        return {"skipped": "needs --helper (the lab's) and --host-facts"}
    result = lab_run.run_json(args, schemas, HERE / "refresh_cost.py", [
        "--host-facts", os.path.abspath(args.host_facts), "--snapshot", os.path.abspath(args.snapshot),
        "--runs", str(args.refresh_runs)])
    if "skipped" in result:
        return result
    log("refresh: " + ", ".join(f"{way} {figures['then_ms']:.1f} ms" for way, figures in result["ways"].items()))
    return result


def refresh_ms(result, way):
    """A refresh after the first: libvirt's part plus the host's part read this way."""
    return result["snapshot_ms"] + result["diagnose_ms"] + result["ways"][way]["then_ms"]


def target_row(result):
    if not result or "ways" not in result:
        reason = (result or {}).get("skipped", "not run (--no-refresh)")
        return f"| #20 item 6: a refresh's cost with and without the helper | not measured: {reason.splitlines()[0][:200]} | – |"
    return (f"| #20 item 6: a refresh's cost with and without the helper (lab, one connection kept) | "
            f"{refresh_ms(result, 'root'):.1f} ms as root, {refresh_ms(result, 'user-helper'):.1f} ms through the "
            f"helper, {refresh_ms(result, 'user-flatpak'):.1f} ms in the Flatpak's way | measured |")


def section(add, result):
    add("## A refresh with and without the helper")
    add("")
    if not result or "ways" not in result:
        add(f"Not measured in this run: {(result or {}).get('skipped', 'not run (--no-refresh)')}")
        add("")
        return
    add(f"The lab's host (`tests/lab/lab.sh`: its libvirtd with {result['domains']} domain and the `default` "
        "network, UFW installed and inactive, libvirt's nftables rules, polkitd and the helper D-Bus-activated "
        "on its own system bus). A refresh is libvirt's snapshot and the diagnosis "
        f"({result['snapshot_ms']:.1f} + {result['diagnose_ms']:.1f} ms, the same every way) and the host's "
        "facts. One process reads the facts "
        f"{result['reads']} times, as the app does on each refresh; *first* includes making its one system-bus "
        "connection (and the helper's start the first time the bus activates it), *then* is the median of the "
        f"others, over {result['runs']} runs after a warm-up round (`tools/bench/refresh_cost.py`, "
        "`crates/host/examples/bench_host_facts.rs`).")
    add("")
    add("| The host's facts read | first read (ms) | each read after (ms) | a refresh after the first (ms) | "
        "bus connections | root-only facts |")
    add("| --- | ---: | ---: | ---: | ---: | --- |")
    for way, (label, *_rest) in WAYS.items():
        figures = result["ways"][way]
        known = figures["root_only_facts"]
        add(f"| {label} | {figures['first_ms']:.1f} | {figures['then_ms']:.1f} | {refresh_ms(result, way):.1f} | "
            f"{figures['bus_connections']} | {'read' if known['known'] else 'not known'} |")
    add("")
    then = {way: figures["then_ms"] for way, figures in result["ways"].items()}
    add(f"Each refresh after the first, the host's facts take {then['root']:.1f} ms as root, "
        f"{then['user-helper']:.1f} ms through the helper for the distribution's app and {then['user-flatpak']:.1f} ms "
        f"for the Flatpak ({then['user-helper'] - then['root']:+.1f} and {then['user-flatpak'] - then['root']:+.1f} ms "
        "against root; the helper runs its tools side by side while the app reads the rest); the bus connection is "
        "made once per process (the app's life), not per refresh.")
    add("")


if __name__ == "__main__":
    main()
