//! Everything known about one libvirt connection at one moment.
//!
//! Probes fill it (`vmnet-doctor-libvirt`, later the host and guest probes);
//! the UI and the diagnosis only read it. Facts that could not be read are
//! kept as the reason they could not, never guessed.

use std::net::IpAddr;

use crate::domain::DomainConfig;
use crate::guest::{GuestAddress, GuestFacts};
use crate::host::{Fact, HostFacts};
use crate::interface::Interface;
use crate::network::NetworkConfig;

/// libvirt's `virDomainState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainState {
    NoState,
    Running,
    Blocked,
    Paused,
    ShuttingDown,
    ShutOff,
    Crashed,
    Suspended,
}

impl DomainState {
    /// Whether the guest is executing, so that addresses can be asked for.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Running | Self::Blocked | Self::Paused | Self::ShuttingDown)
    }
}

/// Where a guest's addresses were learned from (`virsh domifaddr --source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressSource {
    /// qemu-guest-agent: names the interface as the guest does.
    Agent,
    /// The libvirt network's DHCP leases (dnsmasq).
    Lease,
    /// The host's ARP/neighbour table.
    Arp,
}

/// One interface as an address source reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestInterface {
    /// The guest's own name for it (agent) or the host tap (lease, ARP).
    pub name: String,
    /// Lower-case MAC, when reported.
    pub mac: Option<String>,
    pub addresses: Vec<GuestAddress>,
}

/// What one address source said: its interfaces, or why it could not answer
/// (no agent, not running, not supported by this driver…).
pub type SourceResult = Result<Vec<GuestInterface>, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSnapshot {
    pub config: DomainConfig,
    pub state: DomainState,
    pub persistent: bool,
    pub autostart: bool,
    /// Per address source; absent when the VM is not running (nothing asked).
    pub addresses: Vec<(AddressSource, SourceResult)>,
    /// What the guest says about itself through its agent; only read when
    /// asked for (`Hypervisor::inspect_guest`), as it runs a program in the
    /// guest.
    pub guest: Fact<Box<GuestFacts>>,
}

impl DomainSnapshot {
    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn interfaces(&self) -> &[Interface] {
        &self.config.interfaces
    }

    /// The reported interfaces whose MAC matches `mac`, with their source,
    /// most trustworthy source first (agent, lease, ARP).
    pub fn guest_interfaces_for(&self, mac: &str) -> impl Iterator<Item = (AddressSource, &GuestInterface)> {
        let mut sources: Vec<_> = self.addresses.iter().collect();
        sources.sort_by_key(|(source, _)| *source as u8);
        sources.into_iter().flat_map(move |(source, result)| {
            result
                .iter()
                .flatten()
                .filter(move |iface| iface.mac.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(mac)))
                .map(move |iface| (*source, iface))
        })
    }

    /// Every interface the guest agent reported, when it answered.
    pub fn agent_interfaces(&self) -> Option<&[GuestInterface]> {
        self.addresses.iter().find(|(source, _)| *source == AddressSource::Agent)?.1.as_deref().ok()
    }

    /// The guest agent's report of the NIC with this MAC.
    pub fn agent_interface(&self, mac: &str) -> Option<&GuestInterface> {
        self.guest_interfaces_for(mac)
            .find(|(source, _)| *source == AddressSource::Agent)
            .map(|(_, iface)| iface)
    }

    /// The guest's own name for the NIC with this MAC; only the agent knows it.
    pub fn guest_interface_name(&self, mac: &str) -> Option<&str> {
        self.agent_interface(mac).map(|iface| iface.name.as_str())
    }

    /// Every address reported for the NIC with this MAC, each once, with the
    /// first source that reported it.
    pub fn addresses_for(&self, mac: &str) -> Vec<(AddressSource, GuestAddress)> {
        let mut seen: Vec<(AddressSource, GuestAddress)> = Vec::new();
        for (source, iface) in self.guest_interfaces_for(mac) {
            for address in &iface.addresses {
                if !seen.iter().any(|(_, known)| known.ip == address.ip) {
                    seen.push((source, address.clone()));
                }
            }
        }
        seen
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSnapshot {
    pub config: NetworkConfig,
    pub active: bool,
    pub autostart: bool,
    pub persistent: bool,
    /// The leases dnsmasq handed out on this network (`virsh
    /// net-dhcp-leases`), or why libvirt could not say (a driver without
    /// leases, such as the test driver).
    pub leases: Fact<Vec<DhcpLease>>,
}

/// One DHCP lease of a libvirt network (`virNetworkDHCPLease`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpLease {
    /// Lower-case; IPv6 leases may have none (they carry a client id).
    pub mac: Option<String>,
    pub ip: IpAddr,
    pub prefix: u8,
    pub hostname: Option<String>,
    /// The DHCP client id (IPv4) or DUID (IPv6), when sent.
    pub client_id: Option<String>,
    /// Seconds since the epoch; `None` for a lease that never expires.
    pub expiry: Option<i64>,
}

impl NetworkSnapshot {
    pub fn name(&self) -> &str {
        &self.config.name
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The canonical URI libvirt reports for the connection.
    pub uri: String,
    pub hostname: Option<String>,
    pub domains: Vec<DomainSnapshot>,
    pub networks: Vec<NetworkSnapshot>,
    /// Objects listed but not readable (vanished meanwhile, unexpected XML).
    pub unreadable: Vec<Unreadable>,
    /// The host's network stack, when libvirt runs on this machine; why not
    /// otherwise (a remote connection, the demo hypervisor).
    pub host: Fact<Box<HostFacts>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub name: String,
    pub reason: String,
}

impl Snapshot {
    pub fn network(&self, name: &str) -> Option<&NetworkSnapshot> {
        self.networks.iter().find(|n| n.name() == name)
    }

    pub fn domain(&self, name: &str) -> Option<&DomainSnapshot> {
        self.domains.iter().find(|d| d.name() == name)
    }
}
