//! `nic-link-down`: the NIC's virtual cable is unplugged (`<link state='down'/>`).

use gettextrs::gettext;

use super::common::nics;
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::interface::LinkState;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    nics(snapshot)
        .filter(|nic| nic.nic.link_state == LinkState::Down)
        .map(|nic| {
            let label = nic.label();
            Finding {
                id: "nic-link-down",
                severity: Severity::Error,
                subject: nic.subject(),
                title: fill(&gettext("Network card {mac} is unplugged"), &[("mac", label.as_str()), ("vm", nic.vm())]),
                explanation: gettext("The card's link state is down (“Link state: active” is unticked in virt-manager): the guest sees a network card with no cable, so it asks for no DHCP address and sends nothing. Setting the link up plugs the virtual cable back in."),
                evidence: vec![Evidence::new("interface link state", "down")],
                fix: nic.nic.mac.clone().map(|mac| Fix::SetLinkUp { vm: nic.vm().to_owned(), mac }),
            }
        })
        .collect()
}
