//! `no-uplink`: no IPv4 default route, so guests of NAT and route networks
//! (and the host) cannot reach the internet.

use gettextrs::gettext;

use super::Context;
use crate::finding::{Evidence, Finding, Severity, Subject};

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    let Some(uplinks) = &context.uplinks else { return Vec::new() };
    if !uplinks.is_empty() || context.forwarding_networks().next().is_none() {
        return Vec::new();
    }
    let routes: Vec<String> = context
        .host
        .routes
        .known()
        .into_iter()
        .flatten()
        .filter(|route| route.destination.is_ipv4())
        .map(|route| format!("{}/{} dev {}", route.destination, route.prefix, route.dev))
        .collect();
    let networks: Vec<&str> = context.forwarding_networks().map(|checked| checked.network.name()).collect();
    vec![Finding {
        id: "no-uplink",
        severity: Severity::Error,
        subject: Subject::Host,
        title: gettext("This host has no default route: VMs cannot reach the internet"),
        explanation: gettext(
            "The host's main routing table has no IPv4 default route, so the host has no way out to the internet, and neither have the VMs behind its NAT networks: they get addresses and reach the host, but nothing beyond it. Connect the host to a network first. (Only the main routing table is read: a VPN or policy routing that keeps its default route in another table is not seen here.)",
        ),
        evidence: vec![
            Evidence::new("IPv4 default route", "none"),
            Evidence::new(
                "IPv4 routes",
                if routes.is_empty() { "none".to_owned() } else { routes.join(", ") },
            ),
            Evidence::new("active NAT/route networks", networks.join(", ")),
        ],
        fix: None,
    }]
}
