//! A libvirt virtual network (`virsh net-dumpxml`).

use std::net::IpAddr;

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
pub fn parse_network_xml(_x: &str) -> Result<NetworkConfig, crate::XmlError> { Err(crate::XmlError) }
