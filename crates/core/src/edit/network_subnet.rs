//! A libvirt network moved to another IPv4 /24: its own address, DHCP
//! range, static hosts, DNS entries and static routes' gateways, renumbered
//! with the host part kept (192.168.122.17 → 192.168.123.17).

use std::net::Ipv4Addr;

use super::{EditError, replace_element};
use crate::network::net_v4;
use crate::xml::Element;

/// The attributes of `<ip>`, `<range>`, `<host>` and `<route>` that hold an
/// address of the network's subnet.
const ADDRESS_ATTRIBUTES: &[&str] = &["address", "start", "end", "ip", "gateway"];

/// The top-level children of `<network>` that may hold such addresses.
const RENUMBERED_ELEMENTS: &[&str] = &["ip", "dns", "route"];

/// Every address of `document` (a network's XML) in `from`/24 moved to
/// `to`/24, or `None` when none is in `from`/24. Only the elements that
/// change are rewritten; every other byte stays as libvirt wrote it.
pub fn renumbered(
    document: &str,
    network: &Element,
    from: Ipv4Addr,
    to: Ipv4Addr,
) -> Result<Option<String>, EditError> {
    let mut edits: Vec<(&Element, Element)> = Vec::new();
    for child in network.children.iter().filter(|child| RENUMBERED_ELEMENTS.contains(&child.name.as_str())) {
        let mut moved = child.clone();
        if renumber(&mut moved, from, to) {
            edits.push((child, moved));
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    // From the end of the document backwards, so that the spans of the
    // elements not yet replaced still point at them.
    edits.sort_by_key(|(old, _)| std::cmp::Reverse(old.span.start));
    let mut edited = document.to_owned();
    for (old, new) in edits {
        edited = replace_element(&edited, old, &new)?;
    }
    Ok(Some(edited))
}

/// Renumbers `element` and its children in place; whether anything changed.
fn renumber(element: &mut Element, from: Ipv4Addr, to: Ipv4Addr) -> bool {
    let subnet = net_v4(from, 24);
    let mut changed = false;
    for (name, value) in &mut element.attributes {
        if !ADDRESS_ATTRIBUTES.contains(&name.as_str()) {
            continue;
        }
        let Ok(address) = value.trim().parse::<Ipv4Addr>() else { continue };
        if subnet.contains(&address) {
            let [a, b, c, _] = to.octets();
            *value = Ipv4Addr::new(a, b, c, address.octets()[3]).to_string();
            changed = true;
        }
    }
    for child in &mut element.children {
        changed |= renumber(child, from, to);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml;

    const DEFAULT: &str = "<network>\n  <name>default</name>\n  <uuid>0f1e</uuid>\n  <forward mode='nat'>\n    <nat>\n      <port start='1024' end='65535'/>\n    </nat>\n  </forward>\n  <bridge name='virbr0' stp='on' delay='0'/>\n  <mac address='52:54:00:0a:0b:0c'/>\n  <dns>\n    <host ip='192.168.122.5'>\n      <hostname>printer</hostname>\n    </host>\n  </dns>\n  <ip address='192.168.122.1' netmask='255.255.255.0'>\n    <dhcp>\n      <range start='192.168.122.2' end='192.168.122.254'/>\n      <host mac='52:54:00:aa:00:01' name='web' ip='192.168.122.10'/>\n    </dhcp>\n  </ip>\n  <ip family='ipv6' address='fd00::1' prefix='64'/>\n</network>\n";

    fn moved(document: &str) -> Result<Option<String>, Box<dyn std::error::Error>> {
        let root = xml::parse(document)?;
        Ok(renumbered(document, &root, Ipv4Addr::new(192, 168, 122, 0), Ipv4Addr::new(10, 0, 7, 0))?)
    }

    #[test]
    fn every_address_of_the_subnet_moves_and_nothing_else_changes() -> Result<(), Box<dyn std::error::Error>>
    {
        let edited = moved(DEFAULT)?.ok_or("nothing moved")?;
        let want = DEFAULT
            .replace("192.168.122.5", "10.0.7.5")
            .replace("192.168.122.1'", "10.0.7.1'")
            .replace("192.168.122.2'", "10.0.7.2'")
            .replace("192.168.122.254", "10.0.7.254")
            .replace("192.168.122.10", "10.0.7.10");
        assert_eq!(edited, want);
        // The NAT port range, the MAC and IPv6 are untouched.
        assert!(edited.contains("<port start='1024' end='65535'/>"));
        assert!(edited.contains("fd00::1"));
        Ok(())
    }

    #[test]
    fn a_network_without_addresses_in_the_subnet_is_left_alone() -> Result<(), Box<dyn std::error::Error>> {
        let other = DEFAULT.replace("192.168.122.", "192.168.150.");
        assert_eq!(moved(&other)?, None);
        Ok(())
    }
}
