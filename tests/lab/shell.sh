#!/usr/bin/env bash
# `./dev lab`: an interactive shell in a running lab (tests/lab/lab.sh),
# with the guest started, an X server for the app and a banner of what to try.
set -euo pipefail
virsh -q start "$LAB_GUEST" >/dev/null
# The app needs a display: the caller's when the X socket is visible here,
# else a private Xvfb (take screenshots with `import -window root x.png`).
if [[ -z "${DISPLAY:-}" || ! -S "/tmp/.X11-unix/X${DISPLAY#*:}" ]]; then
    export DISPLAY=:77
    Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >"$LAB_STATE/xvfb.log" 2>&1 &
fi
eval "$(dbus-launch --sh-syntax)"
export PATH="$(dirname "$LAB_DOCTOR"):$PATH"
cat <<BANNER

  The lab: libvirtd, the \`default\` network, the guest $LAB_GUEST (starting; its
  agent answers in ~5 s), the uplink $LAB_UPLINK and an "internet" with DNS on
  $LAB_RESOLVER and HTTP at $LAB_WWW_NAME ($LAB_WWW). Nothing leaves the lab;
  leaving this shell ends it all.

  Try:  vmnet-doctor check                    the diagnosis (as root)
        setpriv --reuid=$LAB_UID --regid=$LAB_UID --clear-groups vmnet-doctor check
                                              as the desktop user $LAB_USER (polkit: tests/lab/lab.rules)
        ufw --force enable                    break something (or sysctl -w net.ipv4.ip_forward=0, …)
        vmnet-doctor &                        the app on DISPLAY=$DISPLAY
        python3 -c 'import labkit; print(labkit.prove_network())'   the proof from inside the guest
        python3 scenarios.py --list            the scenarios; tests/lab/run.sh NAME runs one

BANNER
cd "$(dirname "$0")"
exec bash -i
