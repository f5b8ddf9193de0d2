//! `nic-host-link-down`: a bridged or macvtap NIC whose host device (the
//! bridge `br0`, the macvtap parent `enp3s0`) is missing or down.

use gettextrs::gettext;

use super::common::{host, is_running, nics};
use crate::finding::{Evidence, Finding, Severity};
use crate::i18n::fill;
use crate::interface::InterfaceSource;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let Some(links) = host(snapshot).and_then(|facts| facts.links.known()) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        let (device, is_bridge) = match &nic.nic.source {
            InterfaceSource::Bridge { bridge } => (bridge.as_str(), true),
            InterfaceSource::Direct { dev, .. } => (dev.as_str(), false),
            _ => continue,
        };
        let link = links.iter().find(|link| link.name == device);
        // A bridge has no carrier of its own until a port has one, so only
        // IFF_UP counts for it; a macvtap parent needs a carrier too.
        let state = match link {
            None => "does not exist",
            Some(link) if !link.up => "down (not IFF_UP)",
            Some(link) if !is_bridge && matches!(link.operstate.as_str(), "down" | "lowerlayerdown") => {
                "no carrier (operstate down)"
            }
            Some(_) => continue,
        };
        let label = nic.label();
        let values = [("mac", label.as_str()), ("vm", nic.vm()), ("device", device)];
        let running = is_running(nic.domain);
        let mut explanation = match (link.is_none(), running) {
            (true, true) => fill(
                &gettext(
                    "The host has no device {device} any more, so this card of the running VM is cut off.",
                ),
                &values,
            ),
            (true, false) => fill(
                &gettext(
                    "The host has no device {device}, so libvirt cannot start the VM (“Cannot get interface MTU”, “No such device”).",
                ),
                &values,
            ),
            (false, _) => fill(
                &gettext(
                    "The host device {device} that this card is attached to is down or has no cable, so nothing passes.",
                ),
                &values,
            ),
        };
        explanation.push(' ');
        explanation.push_str(&gettext("It belongs to the host's own network configuration (NetworkManager, systemd-networkd or ifupdown): create it or bring it up there."));
        findings.push(Finding {
            id: "nic-host-link-down",
            severity: if running { Severity::Error } else { Severity::Warning },
            subject: nic.subject(),
            title: if link.is_none() {
                fill(&gettext("Host device {device} of network card {mac} is missing"), &values)
            } else {
                fill(&gettext("Host device {device} of network card {mac} is down"), &values)
            },
            explanation,
            evidence: vec![Evidence::new(format!("ip link show {device}"), state)],
            fix: None,
        });
    }
    findings
}
