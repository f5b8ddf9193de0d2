//! `no-port-forwarding`: no DNAT or redirect rule sends connections into a
//! VM network. The guide's NAT is outbound only: "no inbound internet
//! traffic reaches the VM unless explicitly forwarded" — so a forward is
//! what would expose a VM, and each one is named.

use std::net::IpAddr;

use gettextrs::gettext;

use super::{Context, PostureId, PostureStatus, Statement, routes_through_host};
use crate::i18n::fill;
pub(super) use crate::network::{in_subnet, subnet_of};

pub(super) fn check(context: &Context<'_>) -> Statement {
    let id = PostureId::NoPortForwarding;
    let ruleset = match &context.ruleset {
        Ok(ruleset) => ruleset,
        Err(why) => {
            let text = fill(&gettext("The firewall rules could not be read: {why}"), &[("why", why)]);
            return Statement::new(id, PostureStatus::Unknown, vec![text]);
        }
    };
    // Every subnet of a network the host routes, with its network's name.
    let subnets: Vec<(&str, IpAddr, u8)> = context
        .snapshot
        .networks
        .iter()
        .filter(|network| routes_through_host(network))
        .flat_map(|network| {
            network.config.ips.iter().map(move |ip| {
                let prefix = ip.prefix.unwrap_or(if ip.is_ipv6() { 64 } else { 24 });
                (network.name(), ip.address, prefix)
            })
        })
        .collect();
    let mut into_vms = Vec::new();
    let mut unreadable = Vec::new();
    let mut elsewhere = Vec::new();
    for forward in ruleset.port_forwards() {
        let values = [("place", forward.place.as_str()), ("rule", forward.rule.as_str())];
        match forward.to {
            Some(to) => match subnets.iter().find(|(_, network, prefix)| in_subnet(to, *network, *prefix)) {
                Some((name, network, prefix)) => into_vms.push(fill(
                    &gettext(
                        "{place}: `{rule}` forwards connections to {to}, in network “{name}” ({subnet})",
                    ),
                    &[
                        values[0],
                        values[1],
                        ("to", &to.to_string()),
                        ("name", name),
                        ("subnet", &subnet_of(*network, *prefix)),
                    ],
                )),
                None => elsewhere.push(fill(
                    &gettext("{place}: `{rule}` forwards to {to}, outside the VM networks"),
                    &[values[0], values[1], ("to", &to.to_string())],
                )),
            },
            None if forward.redirect => elsewhere.push(fill(
                &gettext("{place}: `{rule}` redirects to the host itself, not into a VM network"),
                &values,
            )),
            None => unreadable.push(fill(
                &gettext("{place}: `{rule}` forwards to an address this check cannot read"),
                &values,
            )),
        }
    }
    let status = if !into_vms.is_empty() {
        PostureStatus::DoesNotHold
    } else if !unreadable.is_empty() || !ruleset.nftables_read() {
        PostureStatus::Unknown
    } else {
        PostureStatus::Holds
    };
    let mut evidence = into_vms;
    evidence.extend(unreadable);
    if !ruleset.nftables_read() {
        evidence.push(gettext("The nftables ruleset was not read, so rules there are not known."));
    }
    if evidence.is_empty() && elsewhere.is_empty() {
        evidence
            .push(gettext("No rule in the firewall rulesets rewrites destinations (no DNAT, no redirect)."));
    }
    evidence.extend(elsewhere);
    Statement::new(id, status, evidence)
}
