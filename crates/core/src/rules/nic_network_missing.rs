//! `nic-network-missing`: a NIC is plugged into a libvirt network that does
//! not exist.

use gettextrs::gettext;

use super::common::{DEFAULT_NETWORK, is_session, nics};
use super::default_network_missing;
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        let Some(network) = nic.nic.network_name() else {
            continue;
        };
        // Listed but unreadable is not missing.
        if snapshot.network(network).is_some() || snapshot.unreadable.iter().any(|o| o.name == network) {
            continue;
        }
        let label = nic.label();
        let values = [("mac", label.as_str()), ("vm", nic.vm()), ("network", network)];
        let mut explanation = fill(
            &gettext(
                "The network card is plugged into the virtual network “{network}”, which does not exist on this connection: libvirt refuses to start the VM (“Network not found”), and a running VM has no network on this card.",
            ),
            &values,
        );
        // A per-user libvirt cannot run a NAT network, so it gets no plan.
        let fix = if is_session(&snapshot.uri) {
            None
        } else if network == DEFAULT_NETWORK {
            explanation.push(' ');
            explanation.push_str(&gettext("The fix recreates the “default” network as the guide does."));
            default_network_missing::plan(snapshot).fix()
        } else if snapshot.network(DEFAULT_NETWORK).is_some() {
            explanation.push(' ');
            explanation.push_str(&gettext("The fix moves the card to the “default” NAT network."));
            nic.nic.mac.clone().map(|mac| Fix::MoveNicToNetwork {
                vm: nic.vm().to_owned(),
                mac,
                network: DEFAULT_NETWORK.to_owned(),
            })
        } else {
            None
        };
        findings.push(Finding {
            id: "nic-network-missing",
            severity: Severity::Error,
            subject: nic.subject(),
            title: fill(&gettext("Network card {mac} uses the missing network “{network}”"), &values),
            explanation,
            evidence: vec![
                Evidence::new("interface source network", network),
                Evidence::new("virsh net-list --all", format!("no network named {network}")),
            ],
            fix,
        });
    }
    findings
}
