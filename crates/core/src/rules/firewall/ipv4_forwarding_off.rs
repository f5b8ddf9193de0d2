//! `ipv4-forwarding-off`: `net.ipv4.ip_forward` is 0 while NAT or route
//! networks run, so nothing a guest sends beyond the host is routed.

use gettextrs::gettext;

use super::Context;
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::host::Fact;
use crate::i18n::fill;

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    if context.host.ipv4_forward != Fact::Known(false) {
        return Vec::new();
    }
    let networks: Vec<String> = context
        .forwarding_networks()
        .map(|checked| format!("{} ({})", checked.network.name(), checked.bridge))
        .collect();
    if networks.is_empty() {
        return Vec::new();
    }
    let list = networks.join(", ");
    vec![Finding {
        id: "ipv4-forwarding-off",
        severity: Severity::Error,
        subject: Subject::Host,
        title: gettext("IPv4 forwarding is off on this host"),
        explanation: fill(
            &gettext(
                "The kernel setting net.ipv4.ip_forward is 0, so this host does not route packets from one interface to another. NAT networks such as {networks} depend on it: VMs still get an address and reach the host, but every packet meant for the internet is dropped before any firewall even sees it. libvirt turns forwarding on when it starts a NAT network, so something switched it off later (a sysctl file applied afterwards, a VPN or firewall script). The fix turns it on now and keeps it on after a reboot.",
            ),
            &[("networks", &list)],
        ),
        evidence: vec![
            Evidence::new("sysctl net.ipv4.ip_forward", "0"),
            Evidence::new("active NAT/route networks", list),
        ],
        fix: Some(Fix::EnableIpv4Forwarding),
    }]
}
