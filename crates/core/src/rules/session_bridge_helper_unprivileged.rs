//! `session-bridge-helper-unprivileged`: a VM of a per-user connection
//! (`qemu:///session`) with a card on a host bridge, while
//! qemu-bridge-helper has no privilege to use: neither setuid root nor the
//! file capability cap_net_admin (how Debian and Ubuntu install it). It
//! then cannot create the card's tap ("failed to create tun device:
//! Operation not permitted") and the VM does not start. No fix: making a
//! program setuid for every user is the administrator's decision.

use gettextrs::gettext;

use super::common::{host, is_running, is_session, nics};
use crate::finding::{Evidence, Finding, Severity};
use crate::i18n::fill;
use crate::interface::InterfaceSource;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    if !is_session(&snapshot.uri) {
        return Vec::new();
    }
    let Some(Some(helper)) = host(snapshot).and_then(|facts| facts.bridge_helper.known()) else {
        return Vec::new();
    };
    if helper.privileged() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        let InterfaceSource::Bridge { bridge } = &nic.nic.source else { continue };
        let label = nic.label();
        let values = [
            ("mac", label.as_str()),
            ("vm", nic.vm()),
            ("bridge", bridge.as_str()),
            ("path", helper.path.as_str()),
        ];
        findings.push(Finding {
            id: "session-bridge-helper-unprivileged",
            // A running VM got its tap somehow (the helper changed since);
            // the next start is what fails.
            severity: if is_running(nic.domain) { Severity::Warning } else { Severity::Error },
            subject: nic.subject(),
            title: fill(&gettext("Network card {mac} cannot be plugged into {bridge}"), &values),
            explanation: fill(
                &gettext("“{vm}” runs on your own libvirt connection (qemu:///session), where QEMU runs as you and needs qemu-bridge-helper ({path}) to create the card's network device and add it to {bridge}. That takes root's network rights, but {path} is neither set-user-ID root nor given the capability cap_net_admin (Debian and Ubuntu install it that way), so the VM fails to start (“failed to create tun device: Operation not permitted”). As root, run “dpkg-statoverride --update --add root root 4755 {path}” on Debian or Ubuntu (it stays through upgrades), or “chmod u+s {path}” elsewhere; every user's VMs may then join the bridges /etc/qemu/bridge.conf allows. Or run the VM on the system connection (qemu:///system)."),
                &values,
            ),
            evidence: vec![
                Evidence::new("interface source bridge", bridge.clone()),
                Evidence::new("qemu-bridge-helper", helper.path.clone()),
                Evidence::new("set-user-ID root", gettext("no")),
                Evidence::new("cap_net_admin", gettext("no")),
            ],
            fix: None,
        });
    }
    findings
}
