//! A libvirt virtual network (`virsh net-dumpxml`).
//!
//! See <https://libvirt.org/formatnetwork.html>.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

use crate::xml::{self, Element, XmlError};

/// `<forward mode=…>`; a network without `<forward>` is isolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardMode {
    Isolated,
    Nat,
    Route,
    Open,
    Bridge,
    Private,
    Vepa,
    Passthrough,
    Hostdev,
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeDef {
    pub name: Option<String>,
    pub stp: Option<bool>,
    pub delay: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpRange {
    pub start: IpAddr,
    pub end: IpAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpHost {
    pub mac: Option<String>,
    pub name: Option<String>,
    pub ip: Option<IpAddr>,
}

/// One `<ip>` element: the host's address on the network and its DHCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpDef {
    pub address: IpAddr,
    /// From `prefix=` or computed from `netmask=`.
    pub prefix: Option<u8>,
    pub dhcp_ranges: Vec<DhcpRange>,
    pub dhcp_hosts: Vec<DhcpHost>,
}

impl IpDef {
    pub fn is_ipv6(&self) -> bool {
        self.address.is_ipv6()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    pub name: String,
    pub uuid: Option<String>,
    pub forward: ForwardMode,
    /// `<forward dev=…>` and its `<interface dev=…>` / `<pf dev=…>` children.
    pub forward_devs: Vec<String>,
    pub bridge: Option<BridgeDef>,
    pub ips: Vec<IpDef>,
    /// `<domain name=…>`: the DNS domain dnsmasq serves.
    pub domain_name: Option<String>,
}

impl ForwardMode {
    /// Maps `<forward mode=…>`; `None` is a `<forward>` without `mode`, which
    /// libvirt treats as NAT.
    pub fn from_libvirt(mode: Option<&str>) -> Self {
        match mode {
            None | Some("nat") => Self::Nat,
            Some("route") => Self::Route,
            Some("open") => Self::Open,
            Some("bridge") => Self::Bridge,
            Some("private") => Self::Private,
            Some("vepa") => Self::Vepa,
            Some("passthrough") => Self::Passthrough,
            Some("hostdev") => Self::Hostdev,
            Some(other) => Self::Unknown(other.to_owned()),
        }
    }

    /// The mode as libvirt spells it; `isolated` (no `<forward>`) is the
    /// word virt-manager uses.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Isolated => "isolated",
            Self::Nat => "nat",
            Self::Route => "route",
            Self::Open => "open",
            Self::Bridge => "bridge",
            Self::Private => "private",
            Self::Vepa => "vepa",
            Self::Passthrough => "passthrough",
            Self::Hostdev => "hostdev",
            Self::Unknown(other) => other,
        }
    }
}

impl NetworkConfig {
    /// The bridge device libvirt creates or uses (`virbr0`, `br0`), if named.
    pub fn bridge_name(&self) -> Option<&str> {
        self.bridge.as_ref().and_then(|bridge| bridge.name.as_deref())
    }
}

// Subnet arithmetic for the whole workspace, on `ipnet`: every prefix,
// mask and containment question goes through these.

/// `address/prefix` as a network; a prefix longer than the family's counts
/// as the whole address.
pub fn net(address: IpAddr, prefix: u8) -> IpNet {
    let longest = if address.is_ipv4() { 32 } else { 128 };
    IpNet::new(address, prefix.min(longest)).unwrap_or_else(|_| IpNet::from(address))
}

/// The IPv4 form of [`net`].
pub fn net_v4(address: Ipv4Addr, prefix: u8) -> Ipv4Net {
    Ipv4Net::new(address, prefix.min(32)).unwrap_or_else(|_| Ipv4Net::from(address))
}

/// The subnet as text, e.g. `192.168.122.0/24` for the host address
/// `192.168.122.1` and prefix 24 (`fd00:1234:5678::/64` likewise).
pub fn subnet_of(address: IpAddr, prefix: u8) -> String {
    net(address, prefix).trunc().to_string()
}

/// Whether `address` lies in `network/prefix` (same family; a prefix longer
/// than the family's counts as the whole address).
pub fn in_subnet(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    net(network, prefix).contains(&address)
}

/// `192.168.122.7/24` → `192.168.122.0`.
pub fn network_address(address: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    net_v4(address, prefix).network()
}

/// `255.255.255.0` → 24; a mask whose ones are not contiguous (e.g.
/// `255.0.255.0`) has no prefix.
pub fn ipv4_mask_prefix(mask: Ipv4Addr) -> Option<u8> {
    ipnet::ipv4_mask_to_prefix(mask).ok()
}

/// Reads network XML as `virsh net-dumpxml` (or `virNetworkGetXMLDesc`)
/// prints it.
///
/// Only `<name>` is required; an `<ip>` whose address cannot be read is
/// skipped, as are DHCP ranges with an unreadable end, so one odd entry never
/// hides the rest. Unknown elements and attributes (and `dnsmasq:options`)
/// are ignored.
pub fn parse_network_xml(xml: &str) -> Result<NetworkConfig, XmlError> {
    let root = xml::parse(xml)?;
    if root.name != "network" {
        return Err(XmlError::UnexpectedRoot { expected: "network", found: root.name });
    }
    let name = root.child_text("name").ok_or(XmlError::Missing { element: "network", missing: "<name>" })?;
    let forward = root.child("forward");
    Ok(NetworkConfig {
        name: name.to_owned(),
        uuid: root.child_text("uuid").map(str::to_owned),
        forward: forward
            .map_or(ForwardMode::Isolated, |f| ForwardMode::from_libvirt(f.attr_nonempty("mode"))),
        forward_devs: forward.map(forward_devs).unwrap_or_default(),
        bridge: root.child("bridge").map(|bridge| BridgeDef {
            name: bridge.attr_nonempty("name").map(str::to_owned),
            stp: match bridge.attr_nonempty("stp") {
                Some("on") => Some(true),
                Some("off") => Some(false),
                _ => None,
            },
            delay: bridge.attr_nonempty("delay").and_then(|delay| delay.parse().ok()),
        }),
        ips: root.children_named("ip").filter_map(ip_def).collect(),
        domain_name: root.child("domain").and_then(|domain| domain.attr_nonempty("name")).map(str::to_owned),
    })
}

/// `<forward dev=…>` then its `<interface dev=…>` and `<pf dev=…>` children,
/// each device once: libvirt repeats `dev` as the first `<interface>`.
fn forward_devs(forward: &Element) -> Vec<String> {
    let children = forward.children.iter().filter(|child| child.name == "interface" || child.name == "pf");
    let mut devs: Vec<String> = Vec::new();
    for dev in forward.attr_nonempty("dev").into_iter().chain(children.filter_map(|c| c.attr_nonempty("dev")))
    {
        if !devs.iter().any(|known| known == dev) {
            devs.push(dev.to_owned());
        }
    }
    devs
}

fn ip_def(ip: &Element) -> Option<IpDef> {
    let address: IpAddr = parse_ip(ip.attr("address"))?;
    let max_prefix = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match ip.attr_nonempty("prefix") {
        Some(prefix) => prefix.parse::<u8>().ok().filter(|p| *p <= max_prefix),
        None => ip.attr_nonempty("netmask").and_then(netmask_prefix),
    };
    let dhcp = ip.child("dhcp");
    let dhcp_children = |name: &'static str| dhcp.into_iter().flat_map(move |d| d.children_named(name));
    Some(IpDef {
        address,
        prefix,
        dhcp_ranges: dhcp_children("range")
            .filter_map(|range| {
                Some(DhcpRange { start: parse_ip(range.attr("start"))?, end: parse_ip(range.attr("end"))? })
            })
            .collect(),
        dhcp_hosts: dhcp_children("host")
            .map(|host| DhcpHost {
                // Lower-case like `Interface::mac`, so the two compare directly;
                // libvirt keeps the case it was given here.
                mac: host.attr_nonempty("mac").map(str::to_ascii_lowercase),
                name: host.attr_nonempty("name").map(str::to_owned),
                ip: parse_ip(host.attr("ip")),
            })
            .collect(),
    })
}

fn parse_ip(value: Option<&str>) -> Option<IpAddr> {
    value?.trim().parse().ok()
}

/// `255.255.255.0` → 24. Only IPv4 has netmasks in libvirt; a mask whose
/// ones are not contiguous has no prefix.
pub fn netmask_prefix(netmask: &str) -> Option<u8> {
    match netmask.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(mask) => ipv4_mask_prefix(mask),
        IpAddr::V6(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_become_prefixes() {
        let cases = [
            ("255.255.255.0", Some(24)),
            ("255.255.0.0", Some(16)),
            ("255.255.255.255", Some(32)),
            ("0.0.0.0", Some(0)),
            ("255.255.255.128", Some(25)),
            ("255.0.255.0", None),
            ("0.255.255.255", None),
            ("ffff::", None),
            ("not-a-mask", None),
        ];
        for (mask, prefix) in cases {
            assert_eq!(netmask_prefix(mask), prefix, "{mask}");
        }
    }

    #[test]
    fn subnets_contain_their_addresses_and_no_other_family() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(subnet_of(ip("192.168.122.1"), 24), "192.168.122.0/24");
        assert_eq!(subnet_of(ip("fd00:1234:5678::1"), 64), "fd00:1234:5678::/64");
        assert!(in_subnet(ip("192.168.122.254"), ip("192.168.122.1"), 24));
        assert!(!in_subnet(ip("192.168.123.1"), ip("192.168.122.1"), 24));
        assert!(in_subnet(ip("10.1.2.3"), ip("0.0.0.0"), 0));
        // A prefix longer than the family's: the address itself.
        assert!(in_subnet(ip("10.0.0.1"), ip("10.0.0.1"), 40));
        assert!(!in_subnet(ip("10.0.0.2"), ip("10.0.0.1"), 40));
        assert!(!in_subnet(ip("::ffff:10.0.0.1"), ip("10.0.0.0"), 8), "another family");
        assert_eq!(network_address(Ipv4Addr::new(192, 168, 122, 7), 24), Ipv4Addr::new(192, 168, 122, 0));
        assert_eq!(ipv4_mask_prefix(Ipv4Addr::new(255, 0, 255, 0)), None);
    }

    #[test]
    fn forward_modes_round_trip() {
        for mode in
            ["nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev", "new-mode"]
        {
            assert_eq!(ForwardMode::from_libvirt(Some(mode)).as_str(), mode);
        }
        assert_eq!(ForwardMode::from_libvirt(None), ForwardMode::Nat);
        assert_eq!(ForwardMode::Isolated.as_str(), "isolated");
    }
}
