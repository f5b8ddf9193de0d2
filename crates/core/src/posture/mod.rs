//! The host's security posture, checked: the guide's safety claims
//! ("Why This Is Safe", "Security Posture Summary") turned into statements
//! that are proven or refuted from the snapshot — the netfilter ruleset the
//! host probe read, the libvirt networks, the links and routes — each with
//! its evidence.
//!
//! [`evaluate`] is pure, like the diagnosis: same snapshot, same answer.
//! A statement is [`PostureStatus::Unknown`] when the facts it needs are
//! missing (a remote connection, the ruleset unreadable without the
//! helper), never guessed.

mod fixes_inbound;
mod inbound_to_vms;
mod port_forwarding;
mod private_addresses;

use std::net::Ipv4Addr;

use gettextrs::gettext;

use crate::host::HostFacts;
use crate::netfilter::{Ruleset, VmNetwork};
use crate::network::ForwardMode;
use crate::snapshot::{NetworkSnapshot, Snapshot};

/// Which statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostureId {
    /// No DNAT/redirect rule sends connections into a VM network.
    NoPortForwarding,
    /// The accept rules VM Network Doctor's fixes add (the helper's
    /// iptables rules, the guide's UFW rules for the bridge) only let
    /// traffic out of the VM bridge and its replies back: none accepts a
    /// new connection arriving on the uplink.
    FixesOpenNothingInbound,
    /// A new connection from the internet to a guest is refused by the
    /// ruleset as a whole (libvirt's own reject rules, in practice).
    NoInboundToVms,
    /// The subnets of the NAT networks are private: IPv4 in RFC 1918
    /// (10/8, 172.16/12, 192.168/16), IPv6 in unique local fd00::/8.
    PrivateAddressSpace,
}

impl PostureId {
    pub const ALL: [Self; 4] = [
        Self::NoPortForwarding,
        Self::FixesOpenNothingInbound,
        Self::NoInboundToVms,
        Self::PrivateAddressSpace,
    ];

    /// The stable id used in JSON: `no-port-forwarding`,
    /// `fixes-open-nothing-inbound`, `no-inbound-to-vms`,
    /// `private-address-space`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoPortForwarding => "no-port-forwarding",
            Self::FixesOpenNothingInbound => "fixes-open-nothing-inbound",
            Self::NoInboundToVms => "no-inbound-to-vms",
            Self::PrivateAddressSpace => "private-address-space",
        }
    }

    /// The statement, as the user reads it (translated).
    pub fn title(self) -> String {
        match self {
            Self::NoPortForwarding => gettext("No port forwarding into VM networks"),
            Self::FixesOpenNothingInbound => gettext("Our fixes opened nothing inbound on the uplink"),
            Self::NoInboundToVms => gettext("The internet cannot open connections to VMs"),
            Self::PrivateAddressSpace => gettext("VM networks use private address space"),
        }
    }
}

/// Whether a statement holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostureStatus {
    Holds,
    DoesNotHold,
    /// The facts needed are missing or undecidable; the evidence says why.
    Unknown,
}

impl PostureStatus {
    /// `holds`, `does-not-hold`, `unknown` (JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holds => "holds",
            Self::DoesNotHold => "does-not-hold",
            Self::Unknown => "unknown",
        }
    }
}

/// One checked statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub id: PostureId,
    pub status: PostureStatus,
    /// [`PostureId::title`].
    pub title: String,
    /// What was looked at and what it showed, one fact per line (rule
    /// texts, subnets, verdicts); translated sentences around untranslated
    /// rule text.
    pub evidence: Vec<String>,
}

impl Statement {
    fn new(id: PostureId, status: PostureStatus, evidence: Vec<String>) -> Self {
        Self { id, status, title: id.title(), evidence }
    }
}

/// The statements, in [`PostureId::ALL`]'s order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posture {
    pub statements: Vec<Statement>,
}

impl Posture {
    pub fn statement(&self, id: PostureId) -> Option<&Statement> {
        self.statements.iter().find(|statement| statement.id == id)
    }

    /// Whether every statement holds.
    pub fn all_hold(&self) -> bool {
        self.statements.iter().all(|statement| statement.status == PostureStatus::Holds)
    }
}

/// What the ruleset-based statements need: the parsed ruleset, the VM
/// networks as netfilter sees them, the uplinks.
struct Context<'a> {
    snapshot: &'a Snapshot,
    host: Result<&'a HostFacts, String>,
    ruleset: Result<Ruleset, String>,
    networks: Vec<VmNetwork>,
}

impl Context<'_> {
    /// The guest addresses the snapshot knows in `network`'s IPv4 subnet
    /// (agent, DHCP leases, ARP); its representative address when none is.
    fn guests_on(&self, network: &VmNetwork) -> Vec<Ipv4Addr> {
        let subnet = (std::net::IpAddr::V4(network.host_address), network.prefix);
        let mut guests: Vec<Ipv4Addr> = Vec::new();
        for domain in &self.snapshot.domains {
            for nic in domain.interfaces() {
                let Some(mac) = &nic.mac else { continue };
                for (_, address) in domain.addresses_for(mac) {
                    if let std::net::IpAddr::V4(v4) = address.ip
                        && port_forwarding::in_subnet(address.ip, subnet.0, subnet.1)
                        && v4 != network.host_address
                        && !guests.contains(&v4)
                    {
                        guests.push(v4);
                    }
                }
            }
        }
        if guests.is_empty() {
            guests.push(network.guest_address);
        }
        guests
    }

    fn bridges(&self) -> Vec<&str> {
        self.networks.iter().map(|network| network.bridge.as_str()).collect()
    }

    /// The uplinks with their first IPv4 address (a documentation address
    /// when the link has none: the rules judged do not look at it).
    fn uplinks(&self) -> Vec<(String, Ipv4Addr)> {
        let Ok(host) = self.host else { return Vec::new() };
        host.uplinks()
            .into_iter()
            .map(|uplink| {
                let address = host
                    .link(uplink)
                    .and_then(|link| {
                        link.addresses.iter().find_map(|(address, _)| match address {
                            std::net::IpAddr::V4(v4) => Some(*v4),
                            std::net::IpAddr::V6(_) => None,
                        })
                    })
                    .unwrap_or(Ipv4Addr::new(203, 0, 113, 2));
                (uplink.to_owned(), address)
            })
            .collect()
    }
}

/// The active networks with a bridge and an IPv4 subnet: those libvirt
/// makes netfilter rules for.
fn vm_networks(snapshot: &Snapshot) -> Vec<VmNetwork> {
    snapshot
        .networks
        .iter()
        .filter(|network| network.active && routes_through_host(network))
        .filter_map(|network| {
            let bridge = network.config.bridge.as_ref()?.name.as_deref()?;
            let ip = network.config.ips.iter().find(|ip| !ip.is_ipv6())?;
            let std::net::IpAddr::V4(address) = ip.address else { return None };
            Some(VmNetwork::new(bridge, address, ip.prefix.unwrap_or(24)))
        })
        .collect()
}

/// Networks whose traffic the host itself routes (NAT, routed, open,
/// isolated); bridged, macvtap and hostdev networks are on the LAN.
fn routes_through_host(network: &NetworkSnapshot) -> bool {
    matches!(
        network.config.forward,
        ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open | ForwardMode::Isolated
    )
}

/// Checks every statement against the snapshot.
pub fn evaluate(snapshot: &Snapshot) -> Posture {
    let host = snapshot.host.known().map(AsRef::as_ref).ok_or_else(|| match &snapshot.host {
        crate::host::Fact::Unknown(why) => why.clone(),
        crate::host::Fact::Known(_) => String::new(),
    });
    let ruleset = match host {
        Ok(host) => match &host.netfilter {
            crate::host::Fact::Known(netfilter) => Ruleset::from_netfilter(netfilter),
            crate::host::Fact::Unknown(why) => Err(why.clone()),
        },
        Err(ref why) => Err(why.clone()),
    };
    let context = Context { snapshot, host, ruleset, networks: vm_networks(snapshot) };
    Posture {
        statements: vec![
            port_forwarding::check(&context),
            fixes_inbound::check(&context),
            inbound_to_vms::check(&context),
            private_addresses::check(&context),
        ],
    }
}
