//! `Connections`: the kernel's connection-tracking entries of given guest
//! addresses — the NAT translation table. Read-only; it needs root because
//! the conntrack table is only readable with CAP_NET_ADMIN.
//!
//! The addresses are typed (`IpAddr`), bounded in number, and must lie in
//! the subnet of an active libvirt network: the helper shows VM traffic,
//! not the host's own connections. `conntrack` runs once per address and
//! direction with a fixed argument list, and its output is parsed, not
//! passed on.

use std::collections::HashSet;
use std::fs;
use std::net::IpAddr;

use vmnet_doctor_core::network::{in_subnet, ipv4_mask_prefix, net_v4};
use vmnet_doctor_core::xml::Element;
use vmnet_doctor_helper_api::{
    ConnectionsReport, ConntrackEntry, MAX_CONNECTION_ADDRESSES, MAX_CONNECTION_ENTRIES, ToolStatus,
    parse_conntrack,
};

use crate::exec::{self, Ran};
use crate::host::{Host, read_bounded};

/// The request's addresses, parsed and bounded; why not otherwise.
pub fn parse_addresses(addresses: &[String]) -> Result<Vec<IpAddr>, String> {
    if addresses.len() > MAX_CONNECTION_ADDRESSES {
        return Err(format!(
            "{} addresses were given; at most {MAX_CONNECTION_ADDRESSES} are accepted",
            addresses.len()
        ));
    }
    let mut parsed = Vec::new();
    for text in addresses {
        let address: IpAddr = text
            .parse()
            .map_err(|_| format!("{:?} is not an IP address", text.chars().take(60).collect::<String>()))?;
        if !parsed.contains(&address) {
            parsed.push(address);
        }
    }
    Ok(parsed)
}

/// The subnets of the active libvirt networks, from their status files.
pub fn libvirt_subnets(host: &Host) -> Result<Vec<(IpAddr, u8)>, String> {
    let dir = host.run.join("libvirt/network");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(format!("cannot list {}: {error}", dir.display())),
    };
    let mut subnets = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "xml") {
            continue;
        }
        let Ok(text) = read_bounded(&path, 1024 * 1024) else { continue };
        subnets.extend(status_subnets(&text));
    }
    Ok(subnets)
}

/// The `<ip address=… prefix|netmask=…>` subnets of one status file.
fn status_subnets(text: &str) -> Vec<(IpAddr, u8)> {
    let Ok(root) = Element::parse(text) else { return Vec::new() };
    let Some(network) = root.child("network") else { return Vec::new() };
    network
        .children_named("ip")
        .filter_map(|ip| {
            let address: IpAddr = ip.attr("address")?.parse().ok()?;
            let prefix = match (ip.attr("prefix"), ip.attr("netmask")) {
                (Some(prefix), _) => prefix.parse().ok()?,
                (None, Some(mask)) => match mask.parse::<IpAddr>().ok()? {
                    // Only a contiguous mask is a prefix: 255.0.255.0 is refused,
                    // not read as /16.
                    IpAddr::V4(mask) => ipv4_mask_prefix(mask)?,
                    IpAddr::V6(_) => return None,
                },
                (None, None) if address.is_ipv4() => 24,
                (None, None) => 64,
            };
            Some((address, prefix))
        })
        .collect()
}

/// Checks every address against the active libvirt networks.
pub fn check_addresses(host: &Host, addresses: &[IpAddr]) -> Result<(), String> {
    let subnets = libvirt_subnets(host)?;
    for address in addresses {
        if !subnets.iter().any(|subnet| in_subnet(*address, subnet.0, subnet.1)) {
            return Err(format!("{address} is not in the subnet of an active libvirt network"));
        }
        if !is_guest_address(*address, &subnets) {
            return Err(format!(
                "{address} is the host's own address on a libvirt network (or its network or broadcast address), not a guest's"
            ));
        }
    }
    Ok(())
}

/// Whether `address` can be a guest's: in an active network's subnet, but
/// not the network's own address (the host's, the gateway: its NAT entries
/// are the host's own connections) nor, for IPv4, the subnet's network or
/// broadcast address.
fn is_guest_address(address: IpAddr, subnets: &[(IpAddr, u8)]) -> bool {
    subnets.iter().any(|&(own, prefix)| {
        in_subnet(address, own, prefix) && address != own && !is_network_or_broadcast(address, prefix)
    })
}

fn is_network_or_broadcast(address: IpAddr, prefix: u8) -> bool {
    let IpAddr::V4(address) = address else { return false };
    let subnet = net_v4(address, prefix);
    // /31 and /32 have no network or broadcast address of their own.
    prefix < 31 && (address == subnet.network() || address == subnet.broadcast())
}

/// The entries of `addresses`: connections they opened (`--orig-src`) and
/// connections forwarded to them (`--reply-src`), each once.
pub fn connections(addresses: &[IpAddr], ran: &Ran) -> ConnectionsReport {
    let mut report = ConnectionsReport {
        status: ToolStatus::Ok,
        message: String::new(),
        entries: Vec::new(),
        truncated: 0,
        unparsed: Vec::new(),
    };
    let Some(program) = exec::find_program("conntrack") else {
        report.status = ToolStatus::NotInstalled;
        report.message = "conntrack (conntrack-tools) is not installed".to_owned();
        return report;
    };
    let program = program.to_string_lossy().into_owned();
    let mut seen: HashSet<ConntrackEntry> = HashSet::new();
    for address in addresses {
        let family = if address.is_ipv4() { "ipv4" } else { "ipv6" };
        for direction in ["--orig-src", "--reply-src"] {
            let argv: Vec<String> = [&program, "-L", "-o", "extended", "-f", family, direction]
                .iter()
                .map(|word| (*word).to_owned())
                .chain(std::iter::once(address.to_string()))
                .collect();
            let output = exec::run(&argv, ran);
            if !output.success() {
                report.status = ToolStatus::Failed;
                report.message = format!("`conntrack {}` failed: {}", argv[1..].join(" "), output.message());
                report.entries.clear();
                return report;
            }
            let parsed = parse_conntrack(&output.stdout);
            report.unparsed.extend(parsed.unparsed.into_iter().take(20));
            for entry in parsed.entries {
                if seen.contains(&entry) {
                    continue;
                }
                if report.entries.len() >= MAX_CONNECTION_ENTRIES {
                    report.truncated = report.truncated.saturating_add(1);
                    continue;
                }
                seen.insert(entry.clone());
                report.entries.push(entry);
            }
        }
    }
    report.unparsed.truncate(20);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_parsed_bounded_and_deduplicated() {
        let ok = parse_addresses(&["192.168.122.5".into(), "fd00::5".into(), "192.168.122.5".into()]);
        assert_eq!(ok.map(|list| list.len()), Ok(2));
        for bad in ["192.168.122.5; id", "-L", "", "192.168.122.0/24", "eth0"] {
            assert!(parse_addresses(&[bad.to_owned()]).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..=MAX_CONNECTION_ADDRESSES).map(|i| format!("10.0.0.{i}")).collect();
        assert!(parse_addresses(&many).is_err());
    }

    /// A status file in the shape of libvirt's
    /// (`/run/libvirt/network/NAME.xml`: `networkstatus` around the
    /// network's live XML), with an IPv4 subnet given by netmask and an
    /// IPv6 one by prefix; the lab's real one is read in
    /// tests/lab/exposure.py's conntrack test.
    const STATUS: &str = "<networkstatus>\n  <class_id bitmap='0-2'/>\n  <network>\n    <name>default</name>\n    <forward mode='nat'/>\n    <bridge name='virbr0' stp='on' delay='0'/>\n    <ip address='192.168.122.1' netmask='255.255.255.0'>\n      <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>\n    </ip>\n    <ip family='ipv6' address='fd00:122::1' prefix='64'/>\n  </network>\n</networkstatus>\n";

    #[test]
    fn only_addresses_in_a_libvirt_subnet_pass() {
        let subnets = status_subnets(STATUS);
        assert_eq!(subnets.len(), 2);
        let inside = |text: &str| {
            let address: IpAddr = text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
            subnets.iter().any(|subnet| in_subnet(address, subnet.0, subnet.1))
        };
        assert!(inside("192.168.122.77"));
        assert!(inside("fd00:122::99"));
        assert!(!inside("192.168.123.1"));
        assert!(!inside("203.0.113.2"));
        assert!(!inside("fd00:123::1"));
    }

    #[test]
    fn the_networks_own_network_and_broadcast_addresses_are_not_guests() {
        let subnets = status_subnets(STATUS);
        let guest = |text: &str| text.parse().is_ok_and(|address| is_guest_address(address, &subnets));
        assert!(guest("192.168.122.77"));
        assert!(guest("fd00:122::99"));
        for own in ["192.168.122.1", "192.168.122.0", "192.168.122.255", "fd00:122::1"] {
            assert!(!guest(own), "{own}");
        }
    }

    #[test]
    fn a_mask_that_is_not_contiguous_is_no_subnet() {
        let status = STATUS.replace("255.255.255.0", "255.0.255.0");
        assert_eq!(status_subnets(&status).len(), 1, "only the IPv6 subnet");
        let status = STATUS.replace("255.255.255.0", "255.255.0.0");
        assert!(
            status_subnets(&status)
                .contains(&("192.168.122.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])), 16))
        );
    }
}
