//! `network-no-dhcp`: a libvirt-run network with an IPv4 subnet but nothing
//! that hands out addresses in it.

use gettextrs::gettext;

use super::common::{has_ipv4_dhcp, ipv4_subnets, libvirt_runs_bridge, users, users_evidence};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for network in &snapshot.networks {
        let config = &network.config;
        let subnets = ipv4_subnets(config);
        if !libvirt_runs_bridge(config) || subnets.is_empty() || has_ipv4_dhcp(config) {
            continue;
        }
        let name = network.name();
        let users = users(snapshot, name);
        // Unused, it may well be meant for static addresses.
        if users.is_empty() {
            continue;
        }
        let cidrs: Vec<String> =
            subnets.iter().map(|(address, prefix)| format!("{address}/{prefix}")).collect();
        let cidrs = cidrs.join(", ");
        findings.push(Finding {
            id: "network-no-dhcp",
            severity: Severity::Warning,
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("Network “{name}” gives out no addresses"), &[("name", name)]),
            explanation: fill(
                &gettext("The network has the IPv4 subnet {subnet} but no DHCP range and no static DHCP host, so nothing hands out addresses: guests that use DHCP (what installers and NetworkManager do by default) get no IPv4 address. Either give each guest a static address in {subnet}, or add a DHCP range to the network."),
                &[("subnet", &cidrs)],
            ),
            evidence: vec![
                Evidence::new(format!("network {name} ip"), cidrs.clone()),
                Evidence::new(format!("network {name} dhcp"), "none"),
                users_evidence(&users),
            ],
            fix: None,
        });
    }
    findings
}
