//! `dnsmasq-not-running`: a running network with DHCP whose dnsmasq, the
//! process that answers DHCP and DNS, is not running.

use gettextrs::gettext;

use super::common::{has_dhcp, host, libvirt_runs_bridge, users, users_evidence};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let Some(dnsmasq) = host(snapshot).and_then(|facts| facts.dnsmasq.known()) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for network in snapshot.networks.iter().filter(|network| network.active) {
        if !libvirt_runs_bridge(&network.config) || !has_dhcp(&network.config) {
            continue;
        }
        let name = network.name();
        // No entry means it was not looked at: unknown, not "stopped".
        if !dnsmasq.iter().any(|entry| entry.network == name && !entry.running) {
            continue;
        }
        let users = users(snapshot, name);
        let mut evidence = vec![
            Evidence::new(format!("network {name}"), "active"),
            Evidence::new(format!("/run/libvirt/network/{name}.pid"), "no running dnsmasq"),
        ];
        if !users.is_empty() {
            evidence.push(users_evidence(&users));
        }
        findings.push(Finding {
            id: "dnsmasq-not-running",
            severity: if users.is_empty() { Severity::Warning } else { Severity::Error },
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("No DHCP server runs for network “{name}”"), &[("name", name)]),
            explanation: fill(
                &gettext("libvirt starts one dnsmasq process per running network to hand out addresses (DHCP) and answer DNS; for “{name}” none is running. It was killed or crashed, or it could not start because another DNS or DHCP server on the host holds its ports. Guests get no IPv4 address and no DNS. Restarting the network starts it again (“virsh net-destroy {name}”, then “virsh net-start {name}”)."),
                &[("name", name)],
            ),
            evidence,
            fix: None,
        });
    }
    findings
}
