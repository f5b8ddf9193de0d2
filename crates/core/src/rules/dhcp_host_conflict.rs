//! `dhcp-host-conflict`: a network's static DHCP entries (`<host mac=…
//! ip=…>`) that cannot all be honoured — one address reserved for two
//! cards, a reserved address outside the network's subnet (dnsmasq ignores
//! the entry), or a reserved address that dnsmasq has leased to another
//! card (the reservation was added later; its card cannot get the address
//! until that lease ends).

use std::net::IpAddr;

use gettextrs::gettext;

use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
use crate::network::{DhcpHost, in_subnet};
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for network in &snapshot.networks {
        let name = network.name();
        let mut problems: Vec<Evidence> = Vec::new();
        for ip in &network.config.ips {
            let prefix = ip.prefix.unwrap_or(if ip.is_ipv6() { 64 } else { 24 });
            let hosts: Vec<(&DhcpHost, IpAddr)> =
                ip.dhcp_hosts.iter().filter_map(|host| Some((host, host.ip?))).collect();
            for (position, (host, address)) in hosts.iter().enumerate() {
                let who = describe(host);
                if let Some((other, _)) = hosts[..position].iter().find(|(_, earlier)| earlier == address) {
                    problems.push(Evidence::new(
                        format!("network {name} dhcp host {address}"),
                        fill(
                            &gettext("reserved for both {one} and {other}"),
                            &[("one", &describe(other)), ("other", &who)],
                        ),
                    ));
                }
                if address.is_ipv4() == ip.address.is_ipv4() && !in_subnet(*address, ip.address, prefix) {
                    problems.push(Evidence::new(
                        format!("network {name} dhcp host {address}"),
                        fill(
                            &gettext("reserved for {card}, outside the subnet {subnet}"),
                            &[("card", &who), ("subnet", &format!("{}/{prefix}", ip.address))],
                        ),
                    ));
                }
                let Some(mac) = host.mac.as_deref() else {
                    continue;
                };
                let taken = network.leases.known().into_iter().flatten().find(|lease| {
                    lease.ip == *address
                        && lease.mac.as_deref().is_some_and(|leased| !leased.eq_ignore_ascii_case(mac))
                });
                if let Some(lease) = taken {
                    problems.push(Evidence::new(
                        format!("network {name} dhcp host {address}"),
                        fill(
                            &gettext("reserved for {card}, but leased to {other}"),
                            &[("card", &who), ("other", lease.mac.as_deref().unwrap_or_default())],
                        ),
                    ));
                }
            }
        }
        if problems.is_empty() {
            continue;
        }
        findings.push(Finding {
            id: "dhcp-host-conflict",
            severity: Severity::Error,
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("Network “{name}” has static DHCP entries that cannot all work"), &[("name", name)]),
            explanation: fill(
                &gettext("Some of the network’s fixed addresses (its <host> entries) contradict each other or the network, listed below. An address reserved twice goes to whichever card asks first; one outside the subnet is ignored by dnsmasq, so its card gets a random address from the range; one that dnsmasq already leased to another card stays with that card until the lease ends. Correct the entries with virsh net-update {name} modify ip-dhcp-host (or net-edit), then restart the guests concerned."),
                &[("name", name)],
            ),
            evidence: problems,
            fix: None,
        });
    }
    findings
}

/// `52:54:00:… (web)`: the entry's MAC, and its host name when it has one.
fn describe(host: &DhcpHost) -> String {
    match (host.mac.as_deref(), host.name.as_deref()) {
        (Some(mac), Some(name)) => format!("{mac} ({name})"),
        (Some(mac), None) => mac.to_owned(),
        (None, Some(name)) => name.to_owned(),
        (None, None) => gettext("an entry without MAC or name"),
    }
}
