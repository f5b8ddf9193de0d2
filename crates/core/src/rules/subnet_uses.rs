//! Who uses which IPv4 prefix on the host: the libvirt networks' subnets,
//! the host's addresses and its routes (every table but `local`). Shared by
//! the rules that pick a free subnet or find one used twice.

use std::net::{IpAddr, Ipv4Addr};

use super::common::{host, ipv4_subnets};
use crate::finding::Evidence;
use crate::host::{Fact, Route, RouteKind, RouteTable};
use crate::snapshot::Snapshot;

/// One use of an IPv4 prefix.
#[derive(Debug, Clone)]
pub(super) struct SubnetUse<'s> {
    pub prefix: (Ipv4Addr, u8),
    pub by: User<'s>,
    pub evidence: Evidence,
}

/// What uses a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum User<'s> {
    /// A libvirt network's `<ip>`.
    Network(&'s str),
    /// An address on a host link.
    Address { link: &'s str },
    /// A route through a device (`main_table`: what libvirt checks before
    /// starting a network, which reads /proc/net/route).
    Route { dev: &'s str, main_table: bool },
}

/// The prefixes in use, the names of the bridges and links in use, and why
/// the host's side could not be read, if it could not.
pub(super) struct SubnetUses<'s> {
    pub uses: Vec<SubnetUse<'s>>,
    pub link_names: Vec<&'s str>,
    pub host_unknown: Option<String>,
}

pub(super) fn subnet_uses(snapshot: &Snapshot) -> SubnetUses<'_> {
    let mut uses = Vec::new();
    let mut link_names: Vec<&str> = Vec::new();
    for network in &snapshot.networks {
        for prefix in ipv4_subnets(&network.config) {
            let what = format!("network {} ip", network.name());
            let value = format!("{}/{}", prefix.0, prefix.1);
            uses.push(SubnetUse {
                prefix,
                by: User::Network(network.name()),
                evidence: Evidence::new(what, value),
            });
        }
        link_names.extend(network.config.bridge_name());
    }
    let mut host_unknown = None;
    let Some(facts) = host(snapshot) else {
        return SubnetUses { uses, link_names, host_unknown: Some(unknown_reason(&snapshot.host)) };
    };
    match facts.links.known() {
        Some(links) => {
            for link in links {
                link_names.push(&link.name);
                for (ip, prefix) in &link.addresses {
                    let IpAddr::V4(ip) = ip else { continue };
                    if *prefix > 0 && !ip.is_loopback() {
                        let value = format!("{ip}/{prefix} dev {}", link.name);
                        uses.push(SubnetUse {
                            prefix: (*ip, *prefix),
                            by: User::Address { link: &link.name },
                            evidence: Evidence::new("ip address", value),
                        });
                    }
                }
            }
        }
        None => host_unknown = Some(unknown_reason(&facts.links)),
    }
    match facts.routes.known() {
        Some(routes) => {
            // The local table (the host's own and broadcast addresses,
            // taken above as the links') takes no subnet; a route of any
            // other table does, even one that drops (its packets would not
            // reach the VMs).
            let routed = |route: &&Route| {
                route.table != RouteTable::LOCAL
                    && !matches!(
                        route.kind,
                        RouteKind::Local | RouteKind::Broadcast | RouteKind::Anycast | RouteKind::Multicast
                    )
            };
            for route in routes.iter().filter(routed) {
                let IpAddr::V4(destination) = route.destination else { continue };
                // Shorter than /8 is a default route split in parts
                // (OpenVPN's 0.0.0.0/1 + 128.0.0.0/1): a /24 route is more
                // specific and wins, so it takes nothing.
                if route.prefix >= 8 {
                    uses.push(SubnetUse {
                        prefix: (destination, route.prefix),
                        by: User::Route { dev: &route.dev, main_table: route.table == RouteTable::MAIN },
                        evidence: Evidence::new("ip route", route.to_string()),
                    });
                }
            }
        }
        None => host_unknown = host_unknown.or_else(|| Some(unknown_reason(&facts.routes))),
    }
    SubnetUses { uses, link_names, host_unknown }
}

fn unknown_reason<T>(fact: &Fact<T>) -> String {
    match fact {
        Fact::Known(_) => String::new(),
        Fact::Unknown(reason) => reason.clone(),
    }
}
