"""Many connections in one window (issue #23 item 1): the same number of
VMs on one connection, and spread over several libvirt test-driver hosts
opened side by side, the app's list measured in turns, in one run. The
window opens every connection at once (src/ui/window/connection.rs,
src/ui/first_connection.rs) and reports its list populated once every
one has answered, with every connection's VMs on screen.

bench.py runs it (`run`) and writes its row and section (`target_row`,
`section`); it passes its own `gui_run` and `make_host`, the ones the
single-connection rows use.
"""

import statistics

# A fleet of a few hypervisors, as virt-manager users keep them.
CONNECTIONS = 4
# The list across connections must not be slower than one connection with
# as many VMs by more than the list rows' own margin (bench.py's floor ratio).
TARGET_RATIO = 1.2


def run(size, single_uri, make_host, gui_run, binaries, schemas, work, runs, log):
    """RUNS turns of: the app on SINGLE_URI (SIZE VMs), then on CONNECTIONS
    hosts of SIZE / CONNECTIONS VMs each."""
    per = size // CONNECTIONS
    uris = [make_host(work / f"spread{index}.xml", per) for index in range(CONNECTIONS)]
    shader_cache = work / "mesa"
    samples = {"one": [], "spread": []}
    # Warm-up of each, discarded (page cache, shaders).
    gui_run("ours", single_uri, size, binaries, schemas, shader_cache, settle=0.5, idle=0.1)
    gui_run("ours", uris, per * CONNECTIONS, binaries, schemas, shader_cache, settle=0.5, idle=0.1)
    for turn in range(runs):
        for way, uri in (("one", single_uri), ("spread", uris)):
            sample = gui_run("ours", uri, per * CONNECTIONS if way == "spread" else size, binaries, schemas,
                             shader_cache, settle=1.0, idle=0.1)
            samples[way].append(sample)
            log(f"connections: {way:<6} run {turn + 1}: list {sample['populated_ms']:.0f} ms, "
                f"RSS {sample['rss_kib'] / 1024:.0f} MiB")
    return {
        "size": size,
        "connections": CONNECTIONS,
        "per_connection": per,
        **{f"{way}_{key}": statistics.median(s[key] for s in every)
           for way, every in samples.items() for key in ("populated_ms", "rss_kib")},
        "samples": samples,
    }


def target_row(result):
    if not result:
        return ("| #23 item 1: the list at 1000 VMs across connections | not measured in this run "
                "(--no-gui or --no-connections) | – |")
    ratio = result["spread_populated_ms"] / result["one_populated_ms"]
    return (f"| #23 item 1: {result['size']} VMs across {result['connections']} connections listed within "
            f"{TARGET_RATIO}× one connection's {result['size']} | {ratio:.2f}× "
            f"({result['spread_populated_ms']:.0f} vs {result['one_populated_ms']:.0f} ms) | "
            f"{'**pass**' if ratio <= TARGET_RATIO else '**FAIL**'} |")


def section(add, result, meta=None):
    add("## Many connections in one window")
    add("")
    if meta:
        add(f"Measured on its own (`bench.py --only-connections`) on {meta['date']} on commit "
            f"`{meta['machine']['commit']}`{' plus uncommitted changes' if meta['dirty'] else ''}, load average "
            f"{' '.join(meta['load_start'])} at the start; the rest of this report is from the run above.")
        add("")
    if not result:
        add("Not measured in this run.")
        add("")
        return
    size, count, per = result["size"], result["connections"], result["per_connection"]
    add(f"The same {size} VMs on one libvirt test-driver host, and spread over {count} hosts of {per} VMs "
        f"opened side by side (`--connect` {count} times), the app (GL) started in turns, "
        f"{len(result['samples']['one'])} times each. The list counts as populated when every connection "
        "has answered and all their VMs are on screen (the app reports it then, once per start); RSS is read "
        "a second later.")
    add("")
    add("| | VM list populated (ms) | RSS (MiB) |")
    add("| --- | --- | --- |")
    add(f"| one connection, {size} VMs | {result['one_populated_ms']:.0f} | {result['one_rss_kib'] / 1024:.0f} |")
    add(f"| {count} connections, {per} VMs each | {result['spread_populated_ms']:.0f} | "
        f"{result['spread_rss_kib'] / 1024:.0f} |")
    add("")
    add("Each connection is opened and read on a thread of its own while the window is built, so the "
        "connections' reads overlap; each connection's group is then put in the one list the sidebar shows.")
    add("")
