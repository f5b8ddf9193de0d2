//! `network-not-autostarted`: a network that VMs rely on does not start
//! with the host.

use gettextrs::gettext;

use super::common::{DEFAULT_NETWORK, users, users_evidence};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    // A transient network cannot be autostarted: it is gone after a reboot anyway.
    for network in snapshot.networks.iter().filter(|network| network.persistent && !network.autostart) {
        let name = network.name();
        let users = users(snapshot, name);
        if users.is_empty() && name != DEFAULT_NETWORK {
            continue;
        }
        let mut evidence = vec![Evidence::new(format!("network {name} autostart"), "no")];
        if !users.is_empty() {
            evidence.push(users_evidence(&users));
        }
        findings.push(Finding {
            id: "network-not-autostarted",
            severity: Severity::Warning,
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("Network “{name}” does not start with the host"), &[("name", name)]),
            explanation: gettext("The network is not marked autostart: after a reboot of the host it stays stopped, so VMs on it get no address, and they cannot start until someone starts the network by hand."),
            evidence,
            fix: Some(Fix::AutostartNetwork { name: name.to_owned() }),
        });
    }
    findings
}
