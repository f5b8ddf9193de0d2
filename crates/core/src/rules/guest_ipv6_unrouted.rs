//! `guest-ipv6-unrouted`: the guide's "IPv6 in NATed VMs (APT timeouts
//! explained)". The guest holds a global IPv6 address on a card whose
//! libvirt network carries no IPv6, so nothing routes it.
//!
//! What that costs, measured in the lab's Debian 13 guest (check
//! D1-debian-guest), with the IPv6 route's next hop silent and with it a
//! black hole: apt-get update and curl lose nothing worth noticing (they
//! try IPv4 alongside), while Python's `socket.create_connection` waits for
//! its timeout on IPv6 before trying IPv4. The hanging `apt update` of the
//! guide was reported for apt-get before it did that (2013, "18 minutes":
//! https://ipv6-or-no-ipv6.blogspot.com/2013/09), and for pip in 2023
//! (https://blog.dmac.tech/posts/IPv6-issues-with-python-package-managers/).
//!
//! Only the guest agent sees the guest's own addresses; without it the rule
//! stays silent rather than guess. A guest inspection adds the guest's IPv6
//! default routes (a route alone makes it try IPv6 too) and what was done
//! about it: IPv6 turned off, or APT told to use IPv4 only.

use std::net::{IpAddr, Ipv6Addr};

use gettextrs::gettext;

use super::common::{is_running, libvirt_runs_bridge, nics};
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::interface::InterfaceType;
use crate::snapshot::{AddressSource, Snapshot};

/// Global unicast (2000::/3): what the guest would use to reach the
/// internet. Link-local and unique-local addresses never make a guest
/// prefer IPv6 for public destinations (RFC 6724).
fn is_global_unicast(address: &Ipv6Addr) -> bool {
    (address.segments()[0] & 0xe000) == 0x2000
}

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        if !is_running(nic.domain) || nic.nic.kind != InterfaceType::Network {
            continue;
        }
        let (Some(mac), Some(network_name)) = (nic.nic.mac.as_deref(), nic.nic.network_name()) else {
            continue;
        };
        let Some(network) = snapshot.network(network_name) else {
            continue;
        };
        // A bridge of the host's own (forward mode bridge) may well carry
        // the LAN's IPv6; only libvirt's own networks are known to lack it.
        if !libvirt_runs_bridge(&network.config) || network.config.ips.iter().any(|ip| ip.is_ipv6()) {
            continue;
        }
        let guest = nic.domain.guest.known().and_then(|facts| facts.network.known());
        // Either of the guide's fixes is in place: IPv6 off, or APT on IPv4.
        if guest.is_some_and(|network| {
            network.ipv6_disabled == Some(true) || network.apt_force_ipv4 == Some(true)
        }) {
            continue;
        }
        let interface = nic.domain.guest_interface_name(mac).unwrap_or("?");
        let routes: Vec<String> = guest
            .into_iter()
            .flat_map(|network| network.ipv6_default_routes())
            .filter(|route| route.dev == interface)
            .map(|route| match route.gateway {
                Some(gateway) => format!("default via {gateway} dev {}", route.dev),
                None => format!("default dev {}", route.dev),
            })
            .collect();
        let global: Vec<String> = nic
            .domain
            .addresses_for(mac)
            .into_iter()
            .filter(|(source, _)| *source == AddressSource::Agent)
            .filter_map(|(_, address)| match address.ip {
                IpAddr::V6(ip) if is_global_unicast(&ip) => Some(format!("{ip}/{}", address.prefix)),
                _ => None,
            })
            .collect();
        let Some(first) = global.first().or(routes.first()) else {
            continue;
        };
        let label = nic.label();
        let values = [
            ("vm", nic.vm()),
            ("mac", label.as_str()),
            ("interface", interface),
            ("network", network_name),
            ("address", first.as_str()),
            ("apt_option", r#"Acquire::ForceIPv4 "true";"#),
        ];
        let mut evidence = vec![Evidence::new("guest interface", interface)];
        if !global.is_empty() {
            evidence.push(Evidence::new("global IPv6 addresses (guest agent)", global.join(", ")));
        }
        if !routes.is_empty() {
            evidence.push(Evidence::new("IPv6 default routes (guest)", routes.join(", ")));
        }
        let subnets: Vec<String> = network
            .config
            .ips
            .iter()
            .map(|ip| format!("{}/{}", ip.address, ip.prefix.unwrap_or(24)))
            .collect();
        evidence.push(Evidence::new(
            "network addresses",
            if subnets.is_empty() { "none".to_owned() } else { subnets.join(", ") },
        ));
        findings.push(Finding {
            id: "guest-ipv6-unrouted",
            severity: Severity::Warning,
            subject: nic.subject(),
            title: if global.is_empty() {
                fill(&gettext("The guest has an IPv6 default route that its network cannot serve"), &values)
            } else {
                fill(&gettext("The guest has an IPv6 address that its network cannot route"), &values)
            },
            explanation: fill(
                &if global.is_empty() {
                    gettext("Inside “{vm}”, {interface} has the IPv6 route “{address}”, but the network “{network}” carries IPv4 only: its NAT does not route IPv6. Connections to servers that have an IPv6 address try it first, in vain. On current systems apt and curl try IPv4 alongside and lose a fraction of a second (measured on Debian 13); programs that try one address after another, such as Python's (pip), wait for each IPv6 attempt to time out, seconds to minutes per connection. Older apt releases did the same: that is the “apt update” that hangs. The guide's fix is to turn IPv6 off in the guest (/etc/sysctl.d/99-disable-ipv6.conf with net.ipv6.conf.all.disable_ipv6 = 1 and net.ipv6.conf.default.disable_ipv6 = 1, then “sudo sysctl --system”), or, for apt alone, {apt_option} in /etc/apt/apt.conf.d/99force-ipv4.")
                } else {
                    gettext("Inside “{vm}”, {interface} has the global IPv6 address {address}, but the network “{network}” carries IPv4 only: its NAT does not route IPv6. Connections to servers that have an IPv6 address try it first, in vain. On current systems apt and curl try IPv4 alongside and lose a fraction of a second (measured on Debian 13); programs that try one address after another, such as Python's (pip), wait for each IPv6 attempt to time out, seconds to minutes per connection. Older apt releases did the same: that is the “apt update” that hangs. The guide's fix is to turn IPv6 off in the guest (/etc/sysctl.d/99-disable-ipv6.conf with net.ipv6.conf.all.disable_ipv6 = 1 and net.ipv6.conf.default.disable_ipv6 = 1, then “sudo sysctl --system”), or, for apt alone, {apt_option} in /etc/apt/apt.conf.d/99force-ipv4.")
                },
                &values,
            ),
            evidence,
            fix: Some(Fix::DisableGuestIpv6 { vm: nic.vm().to_owned() }),
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::is_global_unicast;

    #[test]
    fn global_unicast_is_2000_slash_3() -> Result<(), std::net::AddrParseError> {
        assert!(is_global_unicast(&"2001:db8::5".parse()?));
        assert!(is_global_unicast(&"2a01:4f8::1".parse()?));
        assert!(!is_global_unicast(&"fe80::5054:ff:fe1a:b001".parse()?));
        assert!(!is_global_unicast(&"fd00:beef::2".parse()?));
        assert!(!is_global_unicast(&"::1".parse()?));
        Ok(())
    }
}
