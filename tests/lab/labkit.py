"""What the lab's scenarios are made of: commands on the lab host, the
guest agent, and the app run as the lab's desktop user.

Runs inside tests/lab/lab.sh (its environment: LAB_*). Everything here
raises LabError with what was expected and what happened instead.
"""

import base64
import json
import os
import subprocess
import time

ENV = os.environ
# The checkout as the lab's desktop user sees it (tests/lab/lab.sh mounts
# it there: the real one may be in a directory that user cannot enter).
USER_SOURCE = ENV.get("LAB_SOURCE", "")


class LabError(Exception):
    pass


def sh(command, check=True, timeout=60):
    """A shell command on the lab host, as root; returns its stdout."""
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise LabError(f"`{command}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


# The libvirt that virsh (and so the guest's agent) talks to: the lab's
# system daemon as root, or after use_session() the desktop user's own.
VIRSH = ["virsh", "-q"]


def use_session():
    """From now on the guest is the desktop user's, on qemu:///session:
    virsh runs as that user, and the app checks and fixes that connection."""
    VIRSH[:] = user_argv(["virsh", "-q", "-c", "qemu:///session"])
    ENV["LAB_URI"] = "qemu:///session"


def virsh(*args, check=True, timeout=60):
    done = subprocess.run([*VIRSH, *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise LabError(f"virsh {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def wait_for(what, predicate, timeout, interval=0.25):
    """Polls PREDICATE until it returns a true value; LabError after TIMEOUT."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except LabError as error:
            last = error
        time.sleep(interval)
    raise LabError(f"timed out after {timeout} s waiting for {what}" + (f" (last: {last})" if last else ""))


# What dockerd does to the iptables filter table when it starts: its
# DOCKER-USER chain, consulted first, and FORWARD's policy DROP.
DOCKER_FORWARD_DROP = ("iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN && "
                       "iptables -I FORWARD -j DOCKER-USER && iptables -P FORWARD DROP")


# --- The guest, through its agent -------------------------------------------

GUEST = ENV.get("LAB_GUEST", "lab-guest")


def agent(execute, arguments=None, timeout=10):
    command = {"execute": execute}
    if arguments is not None:
        command["arguments"] = arguments
    out = virsh("qemu-agent-command", GUEST, "--timeout", str(timeout), json.dumps(command),
                timeout=timeout + 5)
    try:
        return json.loads(out)["return"]
    except (ValueError, KeyError) as error:
        raise LabError(f"the agent's answer to {execute} is not what the protocol says: {out!r}") from error


def agent_answers():
    try:
        agent("guest-ping", timeout=2)
        return True
    except LabError:
        return False


def guest_run(command, timeout=15):
    """Runs COMMAND under /bin/sh in the guest; returns (exit code, stdout)."""
    started = agent("guest-exec", {"path": "/bin/sh", "arg": ["-c", command], "capture-output": True})
    pid = started["pid"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = agent("guest-exec-status", {"pid": pid})
        if status.get("exited"):
            out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
            code = status.get("exitcode", -1)
            if code != 0:
                out += base64.b64decode(status.get("err-data", "")).decode(errors="replace")
            return code, out
        time.sleep(0.2)
    # The agent keeps the process; the guest is thrown away with the lab.
    return -1, f"(still running after {timeout} s)"


def guest_interface(mac):
    """The guest's interface with MAC (name, IPv4 addresses), found by MAC."""
    for interface in agent("guest-network-get-interfaces"):
        if interface.get("hardware-address", "").lower() == mac.lower():
            addresses = [a["ip-address"] for a in interface.get("ip-addresses", [])
                         if a.get("ip-address-type") == "ipv4"]
            return interface["name"], addresses
    return None, []


def start_guest(agent_timeout=60):
    virsh("start", GUEST)
    wait_for("the guest agent", agent_answers, agent_timeout)


def restart_guest(agent_timeout=60):
    virsh("destroy", GUEST, check=False)
    wait_for("the guest to stop", lambda: virsh("domstate", GUEST).strip() == "shut off", 20)
    start_guest(agent_timeout)


def prove_network(subnet_prefix="192.168.122.", lease_timeout=30):
    """The guide's proof, from inside the guest: a DHCP lease on the NIC
    (found by MAC), a DNS lookup and an HTTP fetch from the internet host.
    Returns {step: (ok, detail)} without raising."""
    steps = {}
    mac = ENV["LAB_GUEST_MAC"]

    def leased():
        name, addresses = guest_interface(mac)
        return (name, addresses) if any(a.startswith(subnet_prefix) for a in addresses) else None

    try:
        name, addresses = wait_for(f"a {subnet_prefix}x lease on the NIC {mac}", leased, lease_timeout)
        steps["lease"] = (True, f"{name} {' '.join(addresses)}")
    except LabError as error:
        steps["lease"] = (False, str(error))
    code, out = guest_run(f"nslookup -type=a -timeout=3 -retry=1 {ENV['LAB_WWW_NAME']}", timeout=12)
    answer = [line for line in out.splitlines() if line.startswith("Address") and "#" not in line]
    steps["dns"] = (code == 0 and ENV["LAB_WWW"] in out, (answer or out.strip().splitlines() or [""])[-1])
    # busybox-static's wget cannot resolve names (static glibc without NSS
    # modules), so it fetches from the address the lookup found.
    name = ENV["LAB_WWW_NAME"]
    code, out = guest_run(
        f"address=$(nslookup -type=a -timeout=3 -retry=1 {name} | awk '/^Address/ {{ a = $NF }} END {{ print a }}'); "
        f"[ -n \"$address\" ] && wget -q -O - -T 4 --header 'Host: {name}' \"http://$address/\"",
        timeout=12)
    steps["http"] = (code == 0 and "the internet answers" in out, out.strip() or f"exit {code}")
    return steps


def expect_network_works(**kwargs):
    steps = prove_network(**kwargs)
    failed = {step: detail for step, (ok, detail) in steps.items() if not ok}
    if failed:
        raise LabError(f"the guest has no working network: {failed}")
    return steps


def expect_network_broken(step="http", **kwargs):
    """Negative control: STEP must fail inside the guest."""
    steps = prove_network(lease_timeout=kwargs.pop("lease_timeout", 12), **kwargs)
    ok, detail = steps[step]
    if ok:
        raise LabError(f"the break did not break anything: {step} still works inside the guest ({detail})")
    return steps


# --- The app, as the lab's desktop user ---------------------------------------

def user_argv(args, home=None, extra_env=()):
    """ARGS as the desktop user would run them: its uid, no groups, a clean
    environment with the system bus at its standard address."""
    uid = ENV["LAB_UID"]
    env = ["env", "-i", f"HOME={home or ENV['LAB_STATE'] + '/home'}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
           "LANG=C.UTF-8", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket",
           f"XDG_RUNTIME_DIR=/run/user/{uid}", *extra_env]
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *env, *args]


def as_user(args, timeout=120):
    return subprocess.run(user_argv(args), capture_output=True, text=True, timeout=timeout)


FLATPAK_APP = "io.github.vmnetdoctor.VmNetDoctor"
# What the scenarios' steps call the sandboxed app.
SANDBOX = ("the installed Flatpak (flatpak run)" if ENV.get("LAB_FLATPAK_REPO")
           else "the Flatpak-shaped bubblewrap sandbox")


def flatpak_installed():
    """Installs the built Flatpak into the desktop user's own installation
    (once per lab), as that user would: a remote for the repository
    tests/flatpak/build.sh exported, then `flatpak --user install`. The
    runtime comes from the lab's system installation."""
    marker = os.path.join(ENV["LAB_STATE"], "flatpak-installed")
    if os.path.exists(marker):
        return
    for command in (["flatpak", "--user", "remote-add", "--if-not-exists", "--no-gpg-verify", "lab-build",
                     ENV["LAB_FLATPAK_REPO"]],
                    ["flatpak", "--user", "install", "-y", "--noninteractive", "lab-build", FLATPAK_APP]):
        done = as_user(command, timeout=300)
        if done.returncode != 0:
            raise LabError(f"`{' '.join(command)}` as the desktop user failed: {done.stderr.strip()}")
    open(marker, "w", encoding="utf-8").close()


def flatpak_run(args, system_bus=True, timeout=120):
    """ARGS (the app's arguments after LAB_DOCTOR) through `flatpak run` of
    the installed Flatpak, as the desktop user. Without SYSTEM_BUS the
    helper's name is taken out of the sandbox's bus policy."""
    flatpak_installed()
    hide = [] if system_bus else ["--system-no-talk-name=io.github.vmnetdoctor.Helper1"]
    command = ["flatpak", "run", "--command=vmnet-doctor", *hide, FLATPAK_APP, *args]
    return subprocess.run(user_argv(command), capture_output=True, text=True, timeout=timeout)


def sandboxed(args, system_bus=True, timeout=120):
    """ARGS (LAB_DOCTOR and its arguments) as the desktop user in the
    Flatpak: the real one (flatpak_run) when the lab has it
    (LAB_FLATPAK_REPO), else bubblewrap shaped like it (emulated_sandbox)."""
    if ENV.get("LAB_FLATPAK_REPO"):
        if args[:1] != [ENV["LAB_DOCTOR"]]:
            raise LabError(f"only the app runs in the Flatpak, not {args[:1]}")
        return flatpak_run(args[1:], system_bus=system_bus, timeout=timeout)
    return emulated_sandbox(args, system_bus=system_bus, timeout=timeout)


def emulated_sandbox(args, system_bus=True, timeout=120):
    """ARGS as the desktop user inside a sandbox shaped like the Flatpak's
    (flatpak/io.github.vmnetdoctor.VmNetDoctor.json): bubblewrap with a
    network namespace of its own (only lo), a tmpfs root holding /usr,
    /etc, libvirt's sockets (/run/libvirt and the user's own, read-only), the system bus (where
    the helper is; without SYSTEM_BUS, none), the host's os-release at
    /run/host/os-release and a /.flatpak-info, and the app at /app/bin. Not
    flatpak itself (the Flatpak's own test builds and runs that): the
    app's view of the host is what is tested here. bubblewrap runs as root
    and the desktop user is taken on inside it, so no user namespace is
    needed."""
    info = os.path.join(ENV["LAB_STATE"], "flatpak-info")
    if not os.path.exists(info):
        with open(info, "w", encoding="utf-8") as file:
            file.write("[Application]\nname=io.github.vmnetdoctor.VmNetDoctor\n")
    bus = ["--bind", "/run/dbus", "/run/dbus"] if system_bus else []
    # The manifest's xdg-run/libvirt: the user's own libvirt (qemu:///session).
    runtime = f"/run/user/{ENV['LAB_UID']}"
    session = ["--perms", "0755", "--dir", "/run/user", "--perms", "0755", "--dir", runtime,
               "--ro-bind-try", f"{runtime}/libvirt", f"{runtime}/libvirt"]
    app = ["/app/bin/vmnet-doctor" if arg == ENV["LAB_DOCTOR"] else arg for arg in args]
    return subprocess.run(["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
                    "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                    "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin", "--ro-bind", "/etc", "/etc",
                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                    # bubblewrap, as root, makes the parents of what it mounts 0700.
                    "--perms", "0755", "--dir", "/run", "--perms", "0755", "--dir", "/run/host",
                    "--perms", "0755", "--dir", "/app",
                    # As in flatpak: libvirt's client looks for /var/run/libvirt.
                    "--perms", "0755", "--dir", "/var", "--symlink", "../run", "/var/run",
                    "--ro-bind", "/etc/os-release", "/run/host/os-release",
                    "--ro-bind", "/run/libvirt", "/run/libvirt", *session, *bus,
                    "--ro-bind", os.path.dirname(ENV["LAB_DOCTOR"]), "/app/bin", "--ro-bind", info, "/.flatpak-info",
                    "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                    # The manifest's --env.
                    *user_argv(app, home="/tmp", extra_env=["LIBVIRT_AUTOSTART=0"])],
                   capture_output=True, text=True, timeout=timeout)


def parse_report(done, where=""):
    try:
        report = json.loads(done.stdout)
    except ValueError as error:
        raise LabError(f"check{where} printed no JSON (exit {done.returncode}): {done.stderr.strip()}") from error
    if not report.get("checked"):
        raise LabError(f"check{where} could not run: {report.get('failure')} {done.stderr.strip()[-2000:]}")
    return report


def comparable(report):
    """What both shapes of the app must agree on: each finding's id,
    severity, subject and fix, every card's data path (each hop's colour,
    name, facts and findings), and whether the host was checked."""
    findings = sorted(json.dumps({key: f.get(key) for key in ("id", "severity", "subject", "fix")}, sort_keys=True)
                      for f in report["findings"])
    if not isinstance(report.get("data_paths"), list):
        raise LabError(f"check's report has no data paths: {sorted(report)}")
    paths = sorted(json.dumps(path, sort_keys=True) for path in report["data_paths"])
    return {"host": report["host"], "findings": findings, "data_paths": paths}


def check(vm=None):
    """`vmnet-doctor check --json` as the desktop user: the parsed report.
    The same check inside the Flatpak-shaped sandbox (which sees the host
    only through the helper's InspectHost) must agree with it. With VM,
    `--vm VM`: that VM's findings, its guest inspected through the agent."""
    command = [ENV["LAB_DOCTOR"], "check", "--connect", ENV["LAB_URI"], "--json", *(["--vm", vm] if vm else [])]
    # The lab may move between the two reads (a guest taking its lease):
    # both are read again until they agree, or three times.
    for _ in range(3):
        report = parse_report(as_user(command))
        inside = comparable(parse_report(sandboxed(command), " in the sandbox"))
        if inside == comparable(report):
            return report
    raise LabError("the sandboxed app and the host's disagree:\n"
                   f"  host:    {json.dumps(comparable(report), indent=1)}\n"
                   f"  sandbox: {json.dumps(inside, indent=1)}")


def finding_ids(report=None):
    report = report or check()
    return sorted({f["id"] for f in report["findings"]})


def expect_finding(finding_id, vm=None):
    report = check(vm)
    ids = finding_ids(report)
    if finding_id not in ids:
        raise LabError(f"check did not report {finding_id}; it reported {ids}")
    return report


def expect_clean(allowed=(), vm=None):
    """No finding of severity error or warning, except ALLOWED ids."""
    report = check(vm)
    left = sorted({f["id"] for f in report["findings"]
                   if f["severity"] in ("error", "warning") and f["id"] not in allowed})
    if left:
        raise LabError(f"check is not clean: {left}")
    return report


def fix(*finding_ids, in_sandbox=False):
    """`vmnet-doctor fix --json ID…` as the desktop user (IN_SANDBOX: from
    the Flatpak-shaped sandbox); the parsed result."""
    run = sandboxed if in_sandbox else as_user
    done = run([ENV["LAB_DOCTOR"], "fix", "--connect", ENV["LAB_URI"], "--json", *finding_ids])
    try:
        result = json.loads(done.stdout)
    except ValueError as error:
        raise LabError(f"fix printed no JSON (exit {done.returncode}): {done.stderr.strip()}") from error
    if done.returncode != 0:
        raise LabError(f"fix {' '.join(finding_ids)} failed (exit {done.returncode}): "
                       f"{json.dumps(result)[:2000]} {done.stderr.strip()}")
    return result


def helper_applies_by(uid):
    """The helper's audit lines (its stderr, in the lab's helper.log) of
    Apply requests from UID (their final lines, not the "starting" ones
    written when polkit allowed them)."""
    with open(os.path.join(ENV["LAB_STATE"], "helper.log"), encoding="utf-8", errors="replace") as log:
        return [
            line.strip()
            for line in log
            if f"audit: method=Apply uid={uid} " in line and not line.rstrip().endswith('outcome="starting"')
        ]


def revert(transaction, in_sandbox=False):
    run = sandboxed if in_sandbox else as_user
    done = run([ENV["LAB_DOCTOR"], "revert", transaction, "--json"])
    if done.returncode != 0:
        raise LabError(f"revert {transaction} failed (exit {done.returncode}): {done.stdout} {done.stderr}")
    return done.stdout
