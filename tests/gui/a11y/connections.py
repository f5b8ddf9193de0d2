#!/usr/bin/env python3
"""Every connection in one window (issue #23), read through AT-SPI: run
inside tests/libvirtd/with-libvirtd.sh, beside its real libvirtd.

The app opens five connections at once: the demo hypervisor; the real
daemon twice (qemu:///system, and the same daemon by its socket's path);
a "server" whose socket accepts and never answers; and a socket that
does not exist. The sidebar must then:

- list each connection's host entry, followed by its VMs, in that order;
- show the demo's and the daemon's VMs while the silent server is still
  "Connecting…" (it holds up no other), and the missing socket's error in
  its own entry;
- follow every open connection's events: a network defined and started
  with virsh shows up in both of the daemon's host entries ("2 virtual
  networks"), the demo's staying as it was;
- when the silent server hangs up, show its failure in its entry, and
  only then report the start settled ("diagnosed");
- after Close Connection in the main menu, no longer list the connection
  shown (the demo), and the others as they were.

    with-libvirtd.sh connections.py BINARY [--shots DIR]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session import Desktop, SessionError, run_test  # noqa: E402

DAEMON = "qemu:///system"
BY_SOCKET = "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"
MISSING = "qemu+unix:///system?socket=/nonexistent/libvirt-sock"
NETWORK = "second-net"
NETWORK_XML = f"""<network>
  <name>{NETWORK}</name>
  <bridge name='virbr9'/>
  <forward mode='nat'/>
  <ip address='192.168.109.1' netmask='255.255.255.0'/>
</network>
"""


def step(text):
    print(f"  {text}", flush=True)


class SilentServer:
    """A libvirt socket that takes connections and never answers, until
    hang_up() closes them: a server that is slow to answer."""

    def __init__(self, path):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.accepted = []
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.closing:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def hang_up(self):
        self.closing = True
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def virsh(*args):
    done = subprocess.run(["virsh", "-q", "-c", DAEMON, *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SessionError(f"virsh {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="target/gui/a11y")
    options = parser.parse_args()
    if os.environ.get("VMNET_DOCTOR_IN_LIBVIRTD_NS") != "1":
        raise SessionError("run me through tests/libvirtd/with-libvirtd.sh")
    os.makedirs(options.shots, exist_ok=True)
    hostname = socket.gethostname()
    daemon_vms = virsh("list", "--all", "--name").split()
    work = tempfile.mkdtemp(prefix="connections-")
    silent = SilentServer(f"{work}/silent-sock")
    slow = f"qemu+unix:///system?socket={silent.path}"
    uris = [DAEMON, BY_SOCKET, slow, MISSING]
    args = ["--demo"] + [arg for uri in uris for arg in ("--connect", uri)]
    # A screen tall enough for every entry at once (a grid view makes rows
    # only for what is on screen, and the test reads them all).
    with Desktop(screen="1600x1400x24") as desktop:
        import tree  # after the desktop exists: libatspi joins its session bus
        from keyboard import Keyboard
        keyboard = Keyboard(desktop.display)
        app = desktop.launch(args, height=1300, settle_timeout=0)
        window = tree.window(tree.application(app.accessible_pids), "VM Network Doctor", timeout=60)

        def entries():
            """The sidebar's entries, top to bottom: (name, the URI its host
            entry's icon names, or None for a VM)."""
            cells = tree.find_all(window, lambda n: tree.role(n) == "table cell"
                                  and tree.name(tree.parent(n)) == "Virtual machines")
            found = []
            for cell in cells:
                uris_named = [tree.name(n) for n in tree.walk(cell) if tree.role(n) == "image"
                              and "://" in tree.name(n)]
                found.append((tree.name(cell), uris_named[0] if uris_named else None))
            return found

        def groups():
            """URI -> (host entry's name, [its VMs' names])."""
            grouped, current = {}, None
            for name, uri in entries():
                if uri is not None:
                    current = uri
                    grouped[uri] = (name, [])
                elif current is not None:
                    grouped[current][1].append(name.split(",")[0])
            return grouped

        def wait_for_groups(what, satisfied, timeout=60):
            deadline = time.monotonic() + timeout
            while True:
                shown = groups()
                if satisfied(shown):
                    return shown
                if time.monotonic() > deadline:
                    raise SessionError(f"{what}: the sidebar shows {shown}; the tree showed:\n{tree.dump(window)}")
                time.sleep(0.2)

        def listed(shown):
            return (shown.get(DAEMON, ("", []))[1] == daemon_vms
                    and shown.get(BY_SOCKET, ("", []))[1] == daemon_vms
                    and len(next((vms for uri, (_, vms) in shown.items() if "test:///" in uri), [])) > 0
                    and "libvirt Is Not Running" in shown.get(MISSING, ("", []))[0])

        shown = wait_for_groups("the demo's and the daemon's VMs, the missing socket's error", listed)
        order = list(shown)
        if order[1:] != uris or "test:///" not in order[0]:
            raise SessionError(f"the connections are in the order {order}, not the demo's then {uris}")
        if "Connecting…" not in shown[slow][0]:
            raise SessionError(f"the silent server's entry says {shown[slow][0]!r}, not that it is connecting")
        if app.reported("diagnosed"):
            raise SessionError("the start was reported settled while a connection was still being opened")
        for uri in (DAEMON, BY_SOCKET):
            if not shown[uri][0].startswith(f"{hostname}, Host · 1 virtual network,"):
                raise SessionError(f"the daemon's host entry for {uri} says {shown[uri][0]!r}")
        step(f"listed: the demo ({len(shown[order[0]][1])} VMs), the daemon twice ({daemon_vms}), "
             f"the missing socket's error; the silent server still connecting")
        app.screenshot(f"{options.shots}/connections.png")

        # An event on the daemon reaches both of its connections.
        mark = app.mark()
        demo_host = shown[order[0]][0]
        with open(f"{work}/{NETWORK}.xml", "w", encoding="utf-8") as xml:
            xml.write(NETWORK_XML)
        virsh("net-define", f"{work}/{NETWORK}.xml")
        virsh("net-start", NETWORK)
        shown = wait_for_groups(
            f"{NETWORK} in both of the daemon's host entries",
            lambda s: all(s.get(uri, ("", []))[0].startswith(f"{hostname}, Host · 2 virtual networks,")
                          for uri in (DAEMON, BY_SOCKET)))
        # Once per connection: each follows its own events.
        for _ in (DAEMON, BY_SOCKET):
            app.wait_for_event(f"event-applied network-started {NETWORK} ", timeout=30, after=mark)
        if shown[order[0]][0] != demo_host:
            raise SessionError(f"the demo's host entry changed with the daemon's event: {shown[order[0]][0]!r}")
        step(f"{NETWORK} started with virsh: both daemon connections show it, the demo unchanged")

        # The silent server hangs up: its failure, in place; now settled.
        silent.hang_up()
        wait_for_groups("the silent server's failure in its entry",
                        lambda s: "Not connected" in s.get(slow, ("", []))[0])
        app.wait_for_event("diagnosed", timeout=30)
        step("the silent server hung up: its entry says so, and the start settled")
        app.screenshot(f"{options.shots}/connections-settled.png")

        # Close Connection (main menu): the shown one, the demo, leaves the
        # sidebar; the others stay as they were.
        tree.click(tree.find_one(window, "the main menu button", tree.matcher("toggle button", "Main Menu")))
        menu = tree.wait_for(window, "the main menu", tree.matcher("menu", "Main Menu"))
        tree.click(tree.find_one(menu, "Close Connection", tree.matcher("menu item", name_contains="Close Connection")))
        shown = wait_for_groups("the demo gone from the sidebar",
                                lambda s: list(s) == uris and s[DAEMON][1] == daemon_vms)
        step(f"Close Connection: the demo is gone, {len(shown)} connections left in order")
        app.stop_checked(keyboard)
    virsh("net-destroy", NETWORK)
    virsh("net-undefine", NETWORK)
    step("done")


if __name__ == "__main__":
    run_test(main)
