//! `network-inactive`: a libvirt network is defined but not running.

use gettextrs::gettext;

use super::common::{DEFAULT_NETWORK, users, users_evidence};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for network in snapshot.networks.iter().filter(|network| !network.active) {
        let name = network.name();
        let users = users(snapshot, name);
        // Every VM is running or persistent (a transient VM that stops is
        // gone), so any user is hurt: no network now, or no start later.
        let severity = if !users.is_empty() {
            Severity::Error
        } else if name == DEFAULT_NETWORK {
            Severity::Warning
        } else {
            // A spare network left stopped on purpose is not a fault.
            continue;
        };
        let bridge = network.config.bridge_name().unwrap_or("virbr");
        let mut explanation = fill(
            &gettext(
                "While a virtual network is stopped, its bridge {bridge} and its DHCP server (dnsmasq) do not exist: VMs on it get no IP address (the guide's first failure, “No IP address”), and a shut-off VM that uses it cannot start (“network '{name}' is not active”).",
            ),
            &[("bridge", bridge), ("name", name)],
        );
        if users.is_empty() {
            explanation.push(' ');
            explanation.push_str(&gettext("No VM uses it now, but virt-manager puts new VMs on “default”."));
        }
        let mut evidence = vec![Evidence::new(format!("network {name}"), "inactive")];
        if !users.is_empty() {
            evidence.push(users_evidence(&users));
        }
        findings.push(Finding {
            id: "network-inactive",
            severity,
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("Network “{name}” is not running"), &[("name", name)]),
            explanation,
            evidence,
            fix: Some(Fix::StartNetwork { name: name.to_owned() }),
        });
    }
    findings
}
