#!/usr/bin/env python3
"""S1 and S3 of the lab fixed by clicking in the real app, not by the CLI.

Runs inside tests/lab/lab.sh (root); tests/lab/gui-fixes.sh starts it. The
breaks are scenarios.py's: S1 removes libvirt's `default` network, S3 turns
UFW on under libvirt's nftables backend (routed traffic denied). Each time
the app runs as the lab's desktop user under its own Xvfb and session and is
driven through its accessibility tree: by default through the setup wizard
as on a first run (tests/gui/a11y/wizard.py: every step, the break's
"Fix: <title>" on its step, Apply, on to Done; after S3 the Verify page's
checklist, pointed at the lab's internet host, must pass in the guest),
with --via host-page on the Host page (tests/gui/a11y/fix_by_clicking.py). The fix goes where the app
sends it — libvirt's API for S1, the helper over D-Bus with polkit for S3
(its audit line names the desktop user). The result is proven from inside
the guest the way scenarios.py does: a DHCP lease, a DNS lookup and an
HTTP fetch through the agent; then check is clean.

    tests/lab/gui-fixes.sh [--via wizard|host-page]
        screenshots in target/gui/lab/; for README, the wizard's passing
        checklist as data/screenshots/wizard-verify.png (--via host-page:
        the UFW fix's plan as data/screenshots/fix-helper-plan.png)
    tests/lab/gui-fixes.sh --flatpak --via host-page
        S3 only, clicked in the installed Flatpak run by the desktop user
        (`flatpak run`); its plan as data/screenshots/flatpak-fix-helper-plan.png
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labkit as lab  # noqa: E402
from scenarios import set_firewall_backend, step  # noqa: E402

ENV = lab.ENV
SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST_PAGE = os.path.join(lab.USER_SOURCE, "tests", "gui", "a11y", "fix_by_clicking.py")
WIZARD = os.path.join(lab.USER_SOURCE, "tests", "gui", "a11y", "wizard.py")


FLATPAK = False  # --flatpak: the installed Flatpak instead of LAB_DOCTOR


def fix_by_clicking(finding_ids, shots, name, via, guest_running=False):
    """The app as the desktop user, its findings fixed by clicking (in the
    setup wizard, or on the Host page with --via host-page); the
    screenshots land in SHOTS as NAME-*.png."""
    uid = ENV["LAB_UID"]
    user_shots = tempfile.mkdtemp(prefix="shots-")
    os.chown(user_shots, int(uid), int(uid))
    env = [
        "env", "-i", f"HOME={ENV['LAB_STATE']}/home", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
        "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket", f"VMNET_DOCTOR={ENV['LAB_DOCTOR']}",
        "PYTHONDONTWRITEBYTECODE=1",
    ]
    if not FLATPAK:
        env.append(f"GSETTINGS_SCHEMA_DIR={ENV['GSETTINGS_SCHEMA_DIR']}")
    else:  # the Flatpak has its own compiled schemas
        lab.flatpak_installed()
        env += [f"VMNET_DOCTOR_FLATPAK={lab.FLATPAK_APP}",
                f"FLATPAK_USER_DIR={ENV['LAB_STATE']}/home/.local/share/flatpak"]
    if via == "wizard":
        # The checklist points at the lab's internet host, not the public
        # ones it names by default; it runs once the guest is up (S3).
        checks = (["--targets", ENV["LAB_WWW"], ENV["LAB_WWW_NAME"], f"http://{ENV['LAB_WWW_NAME']}/",
                   "--expect-verify", "ok"] if guest_running else ["--no-checks"])
        driver = [WIZARD, *checks, *[f"--fix={f}" for f in finding_ids], "--shots", user_shots,
                  "--", "--connect", ENV["LAB_URI"], "--vm", lab.GUEST]
    else:
        driver = [HOST_PAGE, "--shots", user_shots, *finding_ids, "--", "--connect", ENV["LAB_URI"]]
    done = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *env,
                           "python3", *driver], cwd=lab.USER_SOURCE, timeout=600)
    os.makedirs(shots, exist_ok=True)
    for shot in sorted(os.listdir(user_shots)):
        shutil.copy(os.path.join(user_shots, shot), os.path.join(shots, f"{name}-{shot}"))
    if done.returncode != 0:
        raise lab.LabError(f"fixing {' '.join(finding_ids)} by clicking failed (exit {done.returncode}; above)")


def default_missing(shots, via):
    """S1: no `default` network; the guest cannot start until it is back."""
    lab.virsh("net-destroy", "default")
    lab.virsh("net-undefine", "default")
    started = subprocess.run(["virsh", "start", lab.GUEST], capture_output=True, text=True)
    if started.returncode == 0:
        raise lab.LabError("the guest started without its network")
    step(f"S1: the guest cannot start: {started.stderr.strip()}")
    lab.expect_finding("default-network-missing")
    fix_by_clicking(["default-network-missing"], shots, "s1", via)
    lab.start_guest()
    lab.expect_network_works()
    step("S1: fixed by clicking; the guest's lease, DNS lookup and HTTP fetch work")


def ufw_routed_deny(shots, via):
    """S3: UFW's deny-routed policy drops the guests' forwarded traffic."""
    lab.sh("ufw --force enable")
    lab.expect_network_broken("http")
    step("S3: UFW enabled; the guest cannot fetch from the internet")
    ids = [i for i in lab.finding_ids() if i.startswith("ufw-")]
    if "ufw-routed-deny" not in ids:
        raise lab.LabError(f"check does not report ufw-routed-deny; its UFW findings: {ids}")
    # S3's own finding first; any other UFW finding after it, if still there
    # (the wizard fixes whatever its Firewall step offers; check proves all gone).
    ids.sort(key=lambda i: i != "ufw-routed-deny")
    fix_by_clicking(ids if via == "host-page" else ["ufw-routed-deny"], shots, "s3", via, guest_running=True)
    applied = lab.helper_applies_by(ENV["LAB_UID"])
    if not applied:
        raise lab.LabError(f"the helper logged no Apply by uid {ENV['LAB_UID']} (the app's user)")
    step(f"S3: the helper applied it for the app's user: {applied[-1][:160]}…")
    lab.expect_network_works()
    step("S3: fixed by clicking; the guest's lease, DNS lookup and HTTP fetch work")
    lab.expect_clean()
    step("check is clean")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default=os.path.join(SOURCE_ROOT, "target", "gui", "lab"))
    parser.add_argument("--readme-shots", default=os.path.join(SOURCE_ROOT, "data", "screenshots"))
    parser.add_argument("--via", choices=("wizard", "host-page"), default="wizard",
                        help="where the Fix buttons are clicked: the setup wizard's steps or the Host page")
    parser.add_argument("--flatpak", action="store_true",
                        help="S3 only, in the installed Flatpak (flatpak run) as the desktop user")
    options = parser.parse_args()
    global FLATPAK
    FLATPAK = options.flatpak
    # S3 needs the nftables backend, where UFW's policy does reach the
    # guests; it is chosen first, so S1's fix starts `default` under it.
    set_firewall_backend("nftables")
    step("libvirt's firewall backend is nftables")
    try:
        if FLATPAK:
            lab.start_guest()
        else:
            default_missing(options.shots, options.via)
        ufw_routed_deny(options.shots, options.via)
        # README's pictures: a fix through the helper (its exact commands),
        # the wizard's checklist passing inside the real guest, and the
        # Flatpak's plan for the same fix.
        readme = {("host-page", False): ("s3-fix-ufw-routed-deny-plan.png", "fix-helper-plan.png"),
                  ("wizard", False): ("s3-6-verify.png", "wizard-verify.png"),
                  ("host-page", True): ("s3-fix-ufw-routed-deny-plan.png", "flatpak-fix-helper-plan.png"),
                  ("wizard", True): ("s3-6-verify.png", "flatpak-wizard-verify.png")}[options.via, FLATPAK]
        shutil.copy(os.path.join(options.shots, readme[0]), os.path.join(options.readme_shots, readme[1]))
    except lab.LabError as error:
        print(f"  FAILED: {error}", flush=True)
        subprocess.run(["bash", "-c", "tail -n 20 $LAB_STATE/helper.log 2>/dev/null"], check=False)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
