//! `session-bridge-not-allowed`: a VM of a per-user connection
//! (`qemu:///session`) with a card on a host bridge. QEMU runs as the user
//! and cannot attach a tap to the bridge itself: it asks
//! qemu-bridge-helper, which refuses every bridge that /etc/qemu/bridge.conf
//! does not `allow` ("access denied by acl file"), so the VM does not start.
//! The helper's fix adds the `allow` line; a `deny` line for the bridge is
//! an administrator's choice, which no fix overrides.

use gettextrs::gettext;

use super::common::{host, is_running, is_session, nics};
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::interface::InterfaceSource;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    if !is_session(&snapshot.uri) {
        return Vec::new();
    }
    let Some(acl) = host(snapshot).and_then(|facts| facts.bridge_acl.known()) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        let InterfaceSource::Bridge { bridge } = &nic.nic.source else { continue };
        if acl.allows(bridge) {
            continue;
        }
        let label = nic.label();
        let values = [("mac", label.as_str()), ("vm", nic.vm()), ("bridge", bridge.as_str())];
        let listed = |list: &[String]| if list.is_empty() { gettext("none") } else { list.join(", ") };
        let denied = acl.denies(bridge);
        let explanation = if denied {
            gettext(
                "“{vm}” runs on your own libvirt connection (qemu:///session), where QEMU runs as you and asks qemu-bridge-helper to attach the card to {bridge}. The helper's list, /etc/qemu/bridge.conf, denies {bridge} with a “deny” line, which no “allow” line overrides, so the VM fails to start (“access denied by acl file”). An administrator put that line there: ask them, or run the VM on the system connection (qemu:///system).",
            )
        } else {
            gettext(
                "“{vm}” runs on your own libvirt connection (qemu:///session), where QEMU runs as you and asks qemu-bridge-helper to attach the card to {bridge}. The helper only allows the bridges /etc/qemu/bridge.conf lists, and {bridge} is not among them, so the VM fails to start (“access denied by acl file”). As root, add the line “allow {bridge}” to /etc/qemu/bridge.conf, or run the VM on the system connection (qemu:///system).",
            )
        };
        findings.push(Finding {
            id: "session-bridge-not-allowed",
            // A running VM got its tap before the list changed; the next
            // start is what fails.
            severity: if is_running(nic.domain) { Severity::Warning } else { Severity::Error },
            subject: nic.subject(),
            title: fill(&gettext("Network card {mac} may not join the bridge {bridge}"), &values),
            explanation: fill(&explanation, &values),
            evidence: vec![
                Evidence::new("interface source bridge", bridge.clone()),
                Evidence::new("/etc/qemu/bridge.conf allow", listed(&acl.allow)),
                Evidence::new("/etc/qemu/bridge.conf deny", listed(&acl.deny)),
            ],
            fix: (!denied).then(|| Fix::AllowQemuBridge { bridge: bridge.clone() }),
        });
    }
    findings
}
