//! What the diagnosis says: findings, each with why it matters, the evidence
//! behind it and, where one exists, a typed fix (what would change, not how).

use std::fmt;

/// How bad a finding is for the VM's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Breaks networking now.
    Error,
    /// Degrades it, or breaks it later (after a reboot, for some traffic).
    Warning,
    /// Worth knowing; not a fault (an isolated network, a bridged NIC).
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// The libvirt connection itself.
    Connection,
    /// The host's network stack and firewall.
    Host,
    Network {
        name: String,
    },
    Vm {
        name: String,
    },
    Nic {
        vm: String,
        mac: String,
    },
}

impl Subject {
    /// Whether a finding about this subject matters to VM `vm`, whose NICs
    /// use `networks`: its own and its NICs' findings, its networks', and
    /// the host's and connection's.
    pub fn concerns_vm(&self, vm: &str, networks: &[&str]) -> bool {
        match self {
            Self::Connection | Self::Host => true,
            Self::Network { name } => networks.contains(&name.as_str()),
            Self::Vm { name } | Self::Nic { vm: name, .. } => name == vm,
        }
    }

    /// The VM it is about, if any. Titles never name it (the VM's page,
    /// the report's subject and JSON's `subject` do), so a finding shown
    /// away from its VM names it beside the title.
    pub fn vm(&self) -> Option<&str> {
        match self {
            Self::Connection | Self::Host | Self::Network { .. } => None,
            Self::Vm { name } | Self::Nic { vm: name, .. } => Some(name),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connection => write!(f, "connection"),
            Self::Host => write!(f, "host"),
            Self::Network { name } => write!(f, "network {name}"),
            Self::Vm { name } => write!(f, "vm {name}"),
            Self::Nic { vm, mac } => write!(f, "vm {vm} nic {mac}"),
        }
    }
}

/// One fact that triggered a finding, as "what: value" (e.g. "sysctl
/// net.ipv4.ip_forward: 0").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub what: String,
    pub value: String,
}

impl Evidence {
    pub fn new(what: impl Into<String>, value: impl Into<String>) -> Self {
        Self { what: what.into(), value: value.into() }
    }
}

/// A change that would resolve a finding. Typed values only; whoever
/// executes it (libvirt, firewalld, the helper) decides how.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fix {
    /// Define a network from this XML (e.g. the guide's `default`).
    DefineNetwork {
        name: String,
        xml: String,
    },
    StartNetwork {
        name: String,
    },
    AutostartNetwork {
        name: String,
    },
    /// Move a libvirt network from the IPv4 /24 `from` to the /24 `to`:
    /// its address, DHCP range and static entries renumbered, the network
    /// restarted (or started) on its new subnet.
    MoveNetworkSubnet {
        name: String,
        from: std::net::Ipv4Addr,
        to: std::net::Ipv4Addr,
    },
    /// Set a NIC's link state up (live and persistent).
    SetLinkUp {
        vm: String,
        mac: String,
    },
    /// Change a NIC's device model (persistent; effective at next boot).
    SetNicModel {
        vm: String,
        mac: String,
        model: String,
    },
    /// Move a NIC to a libvirt network (persistent).
    MoveNicToNetwork {
        vm: String,
        mac: String,
        network: String,
    },
    /// Add the `org.qemu.guest_agent.0` channel (effective at next boot).
    AddGuestAgentChannel {
        vm: String,
    },
    /// Turn IPv4 forwarding on (runtime and persistent).
    EnableIpv4Forwarding,
    /// The guide's UFW rules for a bridge and uplink.
    UfwAllowBridge {
        bridge: String,
        uplink: String,
    },
    /// Accept forwarding between a bridge and an uplink in front of a
    /// dropping FORWARD policy (Docker's).
    AcceptForward {
        bridge: String,
        uplink: String,
    },
    /// Accept the frames a host bridge forwards between its ports (VMs and
    /// LAN) in front of a dropping FORWARD policy (Docker's), which
    /// `br_netfilter` makes them traverse.
    AcceptBridged {
        bridge: String,
    },
    /// `allow BRIDGE` in qemu-bridge-helper's access list
    /// (`/etc/qemu/bridge.conf`), for the VMs of per-user connections.
    AllowQemuBridge {
        bridge: String,
    },
    /// Clamp the TCP MSS of the guests' connections from a bridge out
    /// through an uplink with a smaller MTU.
    ClampMss {
        bridge: String,
        uplink: String,
    },
    /// Put a bridge into firewalld's `libvirt` zone.
    FirewalldZone {
        bridge: String,
        zone: String,
    },
    /// Inside the running guest, through its agent: the guide's
    /// /etc/sysctl.d/99-disable-ipv6.conf, applied at once.
    DisableGuestIpv6 {
        vm: String,
    },
    /// Inside the running guest, through its agent: the guide's APT-only
    /// alternative, /etc/apt/apt.conf.d/99force-ipv4.
    ForceAptIpv4 {
        vm: String,
    },
    /// Inside the running guest, through its agent: the guide's
    /// NetworkManager profile `kvm-dhcp` (DHCP for IPv4, IPv6 ignored) for
    /// the interface the guest itself names, brought up.
    CreateGuestDhcpProfile {
        vm: String,
        interface: String,
    },
}

impl Fix {
    /// The other way the guide offers to the same end, when it has one:
    /// APT's ForceIPv4 instead of turning IPv6 off.
    pub fn alternative(&self) -> Option<Self> {
        match self {
            Self::DisableGuestIpv6 { vm } => Some(Self::ForceAptIpv4 { vm: vm.clone() }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable identifier, e.g. `network-inactive`; documented in
    /// `docs/check-json.md` and never reused for another meaning.
    pub id: &'static str,
    pub severity: Severity,
    pub subject: Subject,
    /// One line, e.g. "Network “default” is not running".
    pub title: String,
    /// Why it breaks networking, in plain words.
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub fix: Option<Fix>,
}
