//! `private-address-space`: the subnets of the networks the host routes
//! (NAT, routed, open, isolated) are private, so they are not routable on
//! the internet (the guide: "RFC 1918: private IP range").
//!
//! Private means IPv4 in RFC 1918 (10.0.0.0/8, 172.16.0.0/12,
//! 192.168.0.0/16) and IPv6 in the locally assigned unique local range
//! fd00::/8 (RFC 4193; fc00::/8 has no assignment rules). Not private:
//! the shared address space 100.64.0.0/10 (RFC 6598) — carriers use it
//! between their NAT and customers, so a VM network there can collide
//! with the ISP's — and everything else, public or special.

use std::net::IpAddr;

use gettextrs::gettext;

use super::port_forwarding::{in_subnet, subnet_of};
use super::{Context, PostureId, PostureStatus, Statement, routes_through_host};
use crate::i18n::fill;

/// How an address space is classed, with the standard that says so.
enum Space {
    Private(&'static str),
    Shared,
    Other,
}

fn classify(address: IpAddr) -> Space {
    let private =
        |network: &str, prefix: u8| network.parse().is_ok_and(|net| in_subnet(address, net, prefix));
    if private("10.0.0.0", 8) || private("172.16.0.0", 12) || private("192.168.0.0", 16) {
        Space::Private("RFC 1918")
    } else if private("fd00::", 8) {
        Space::Private("RFC 4193")
    } else if private("100.64.0.0", 10) {
        Space::Shared
    } else {
        Space::Other
    }
}

pub(super) fn check(context: &Context<'_>) -> Statement {
    let id = PostureId::PrivateAddressSpace;
    let (mut public, mut private) = (Vec::new(), Vec::new());
    for network in context.snapshot.networks.iter().filter(|network| routes_through_host(network)) {
        for ip in &network.config.ips {
            let prefix = ip.prefix.unwrap_or(if ip.is_ipv6() { 64 } else { 24 });
            let subnet = subnet_of(ip.address, prefix);
            let values = [("name", network.name()), ("subnet", subnet.as_str())];
            match classify(ip.address) {
                Space::Private(standard) => private.push(fill(
                    &gettext("“{name}” uses {subnet}: private ({standard})"),
                    &[values[0], values[1], ("standard", standard)],
                )),
                Space::Shared => public.push(fill(
                    &gettext("“{name}” uses {subnet}: the shared address space of carrier-grade NAT (RFC 6598), not private — it may collide with the internet provider's addresses"),
                    &values,
                )),
                Space::Other => public.push(fill(
                    &gettext("“{name}” uses {subnet}: not a private range, so it may be routable on the internet"),
                    &values,
                )),
            }
        }
    }
    let status = if public.is_empty() { PostureStatus::Holds } else { PostureStatus::DoesNotHold };
    let mut evidence = public;
    evidence.extend(private);
    if evidence.is_empty() {
        evidence.push(gettext("No libvirt network with addresses routes VM traffic through this host."));
    }
    Statement::new(id, status, evidence)
}
