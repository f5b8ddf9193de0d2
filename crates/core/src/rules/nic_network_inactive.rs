//! `nic-network-inactive`: a NIC is plugged into a network that is not
//! running — the guide's "No IP address" row.

use gettextrs::gettext;

use super::common::{is_running, nics, state_name};
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        let Some(network) = nic.nic.network_name().and_then(|name| snapshot.network(name)) else {
            continue;
        };
        if network.active {
            continue;
        }
        let name = network.name();
        let label = nic.label();
        let values = [("mac", label.as_str()), ("vm", nic.vm()), ("network", name)];
        let explanation = if is_running(nic.domain) {
            fill(
                &gettext(
                    "No IP address: the network “{network}” of this card is not running, so it has no bridge and no DHCP server, and the guest gets no address (the first row of the guide's failure table). Start the network; a VM that was running while the network stopped may need its card reconnected, or a restart, to get back on it.",
                ),
                &values,
            )
        } else {
            fill(
                &gettext(
                    "The network “{network}” of this card is not running, so libvirt refuses to start the VM (“network '{network}' is not active”). Start the network, and mark it autostart so that this does not come back after a reboot.",
                ),
                &values,
            )
        };
        findings.push(Finding {
            id: "nic-network-inactive",
            severity: Severity::Error,
            subject: nic.subject(),
            title: fill(&gettext("Network card {mac} is on the stopped network “{network}”"), &values),
            explanation,
            evidence: vec![
                Evidence::new("interface source network", name),
                Evidence::new(format!("network {name}"), "inactive"),
                Evidence::new(format!("vm {}", nic.vm()), state_name(nic.domain.state)),
            ],
            fix: Some(Fix::StartNetwork { name: name.to_owned() }),
        });
    }
    findings
}
