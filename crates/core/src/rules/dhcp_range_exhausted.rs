//! `dhcp-range-exhausted`: every address of a network's IPv4 DHCP range is
//! leased, so the next guest to ask gets none until a lease runs out.
//!
//! Counted from the leases libvirt reports (`virsh net-dhcp-leases`), so it
//! says nothing where they cannot be read (the test driver, another host's
//! dnsmasq).

use std::net::{IpAddr, Ipv4Addr};

use gettextrs::{gettext, ngettext};

use super::common::{is_running, users};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
use crate::network::DhcpRange;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for network in snapshot.networks.iter().filter(|network| network.active) {
        let Some(leases) = network.leases.known() else {
            continue;
        };
        let ranges: Vec<(Ipv4Addr, Ipv4Addr)> =
            network.config.ips.iter().flat_map(|ip| &ip.dhcp_ranges).filter_map(ipv4_range).collect();
        if ranges.is_empty() {
            continue;
        }
        let size: u64 =
            ranges.iter().map(|(start, end)| u64::from(u32::from(*end) - u32::from(*start)) + 1).sum();
        let in_range = |ip: &IpAddr| match ip {
            IpAddr::V4(ip) => ranges.iter().any(|(start, end)| (start..=end).contains(&ip)),
            IpAddr::V6(_) => false,
        };
        let leased = leases.iter().filter(|lease| in_range(&lease.ip)).count() as u64;
        if leased < size {
            continue;
        }
        let name = network.name();
        // A running card on the network with no IPv4 address is what the
        // full range costs now; otherwise it costs the next guest.
        let starved: Vec<String> = users(snapshot, name)
            .iter()
            .filter(|nic| is_running(nic.domain))
            .filter(|nic| {
                nic.nic.mac.as_deref().is_some_and(|mac| {
                    !nic.domain.addresses_for(mac).iter().any(|(_, address)| address.ip.is_ipv4())
                })
            })
            .map(|nic| nic.describe())
            .collect();
        let range_text: Vec<String> = ranges.iter().map(|(start, end)| format!("{start}–{end}")).collect();
        let range_text = range_text.join(", ");
        let values = [("name", name), ("range", range_text.as_str()), ("count", &size.to_string())];
        let mut evidence = vec![
            Evidence::new(format!("network {name} dhcp range"), range_text.clone()),
            Evidence::new(format!("network {name} leases in the range"), format!("{leased} of {size}")),
        ];
        if !starved.is_empty() {
            evidence.push(Evidence::new("running cards without an IPv4 address", starved.join(", ")));
        }
        findings.push(Finding {
            id: "dhcp-range-exhausted",
            severity: if starved.is_empty() { Severity::Warning } else { Severity::Error },
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("Network “{name}” has no free DHCP address left"), &values),
            explanation: fill(
                &ngettext(
                    "The one address of the DHCP range {range} is leased, so a guest that asks for an address now — a new VM, or one whose lease ran out — gets none until that lease expires. Widen the range in the network’s definition (virsh net-edit {name}, the <range> element) or give it shorter leases (<lease expiry=…/>), then restart the network.",
                    "All {count} addresses of the DHCP range {range} are leased, so a guest that asks for an address now — a new VM, or one whose lease ran out — gets none until another lease expires. Widen the range in the network’s definition (virsh net-edit {name}, the <range> element) or give it shorter leases (<lease expiry=…/>), then restart the network.",
                    u32::try_from(size).unwrap_or(u32::MAX),
                ),
                &values,
            ),
            evidence,
            fix: None,
        });
    }
    findings
}

fn ipv4_range(range: &DhcpRange) -> Option<(Ipv4Addr, Ipv4Addr)> {
    match (range.start, range.end) {
        (IpAddr::V4(start), IpAddr::V4(end)) if start <= end => Some((start, end)),
        _ => None,
    }
}
