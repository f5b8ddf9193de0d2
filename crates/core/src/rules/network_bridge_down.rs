//! `network-bridge-down`: libvirt says the network runs, but the host has
//! no such bridge, or it is administratively down.
//!
//! Only `IFF_UP` counts: a running bridge without any started VM has no
//! carrier and `operstate` `down`, which is normal.

use gettextrs::gettext;

use super::common::{host, is_running, libvirt_runs_bridge, users, users_evidence};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let Some(links) = host(snapshot).and_then(|facts| facts.links.known()) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for network in snapshot.networks.iter().filter(|network| network.active) {
        let Some(bridge) = network.config.bridge_name() else {
            continue;
        };
        let name = network.name();
        let link = links.iter().find(|link| link.name == bridge);
        if link.is_some_and(|link| link.up) {
            continue;
        }
        let values = [("bridge", bridge), ("name", name)];
        let managed = libvirt_runs_bridge(&network.config);
        let (title, mut explanation, state) = match link {
            None => (
                fill(&gettext("Bridge {bridge} of network “{name}” is missing"), &values),
                fill(
                    &gettext(
                        "libvirt reports network “{name}” as running, but the host has no interface {bridge}: VMs on the network are cut off from the host and from each other.",
                    ),
                    &values,
                ),
                "does not exist",
            ),
            Some(_) => (
                fill(&gettext("Bridge {bridge} of network “{name}” is down"), &values),
                fill(
                    &gettext(
                        "The bridge {bridge} of network “{name}” is switched off (administratively down): no traffic passes it, so VMs on the network get no address and reach nothing.",
                    ),
                    &values,
                ),
                "down (not IFF_UP)",
            ),
        };
        explanation.push(' ');
        explanation.push_str(&if managed {
            fill(&gettext("libvirt creates this bridge itself; something removed or disabled it behind libvirt's back. Restart the network (“virsh net-destroy {name}”, then “virsh net-start {name}”) to recreate it; running VMs may need their network card reconnected afterwards."), &values)
        } else {
            fill(&gettext("This bridge belongs to the host's own network configuration (NetworkManager, systemd-networkd or ifupdown), not to libvirt: create it or bring it up there."), &values)
        });
        let users = users(snapshot, name);
        let severity = if users.iter().any(|user| is_running(user.domain)) {
            Severity::Error
        } else {
            Severity::Warning
        };
        let mut evidence = vec![
            Evidence::new(format!("network {name}"), "active"),
            Evidence::new(format!("ip link show {bridge}"), state),
        ];
        if !users.is_empty() {
            evidence.push(users_evidence(&users));
        }
        findings.push(Finding {
            id: "network-bridge-down",
            severity,
            subject: Subject::Network { name: name.to_owned() },
            title,
            explanation,
            evidence,
            fix: None,
        });
    }
    findings
}
