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
    let host = context.host;
    let routes: Vec<String> = host
        .routes
        .known()
        .into_iter()
        .flatten()
        .filter(|route| route.destination.is_ipv4() && route.is_way_out())
        .map(ToString::to_string)
        .collect();
    let mut explanation = gettext(
        "This host has no IPv4 default route that VM traffic can take, so the host has no way out to the internet, and neither have the VMs behind its NAT networks: they get addresses and reach the host, but nothing beyond it. Connect the host to a network first.",
    );
    explanation.push(' ');
    explanation.push_str(&if host.routes_main_only() {
        gettext(
            "(Only the main routing table could be read: a VPN or policy routing that keeps its default route in another table is not seen here.)",
        )
    } else {
        gettext(
            "Every routing table and the policy rules were read: the tables the rules send forwarded traffic to have no IPv4 default route, or one that drops it (unreachable, blackhole, prohibit).",
        )
    });
    let networks: Vec<&str> = context.forwarding_networks().map(|checked| checked.network.name()).collect();
    vec![Finding {
        id: "no-uplink",
        severity: Severity::Error,
        subject: Subject::Host,
        title: gettext("This host has no default route: VMs cannot reach the internet"),
        explanation,
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
