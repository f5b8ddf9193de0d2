//! Fix All: every available fix once, in the order the data path needs
//! them. The host's forwarding and firewall first (nothing past the
//! bridge works without them), then the virtual networks a card joins
//! (defined before they are started, started before a card is moved onto
//! them), then each VM's own configuration, and last what is changed
//! inside a running guest through its agent. Within a layer, the
//! diagnosis's order (most severe first, causes before what they cause).
//!
//! Only causes: a consequence shares its cause's fix
//! ([`crate::rules::explained_by`]), so each distinct [`Fix`] appears once,
//! carried by the finding that owns it.

use crate::finding::{Finding, Fix};
use crate::rules::fix_owners;

/// Where a fix acts on the data path; applied in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// IP forwarding and the host's firewalls (UFW, Docker's FORWARD
    /// chain, firewalld's zones).
    Host,
    /// libvirt's virtual networks: defined, started, autostarted.
    Network,
    /// A VM's definition: its cards' source, model and link, the guest
    /// agent's channel.
    VmConfig,
    /// Inside the running guest, through its agent.
    Guest,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Network => "network",
            Self::VmConfig => "vm-config",
            Self::Guest => "guest",
        }
    }
}

/// The layer a fix acts on. Exhaustive: a new kind of fix must be placed.
pub fn layer(fix: &Fix) -> Layer {
    match fix {
        Fix::EnableIpv4Forwarding
        | Fix::UfwAllowBridge { .. }
        | Fix::AcceptForward { .. }
        | Fix::AcceptBridged { .. }
        | Fix::AllowQemuBridge { .. }
        | Fix::ClampMss { .. }
        | Fix::FirewalldZone { .. } => Layer::Host,
        Fix::DefineNetwork { .. }
        | Fix::MoveNetworkSubnet { .. }
        | Fix::StartNetwork { .. }
        | Fix::AutostartNetwork { .. } => Layer::Network,
        Fix::MoveNicToNetwork { .. }
        | Fix::SetNicModel { .. }
        | Fix::SetLinkUp { .. }
        | Fix::AddGuestAgentChannel { .. } => Layer::VmConfig,
        Fix::DisableGuestIpv6 { .. } | Fix::ForceAptIpv4 { .. } | Fix::CreateGuestDhcpProfile { .. } => {
            Layer::Guest
        }
    }
}

/// Within the network layer a network is defined (or moved to a free
/// subnet) before it is started, and started before it is set to autostart.
fn rank(fix: &Fix) -> u8 {
    match fix {
        Fix::DefineNetwork { .. } | Fix::MoveNetworkSubnet { .. } => 0,
        Fix::StartNetwork { .. } => 1,
        Fix::AutostartNetwork { .. } => 2,
        _ => 0,
    }
}

/// One step of the combined plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderedFix<'f> {
    /// The index, in the findings given, of the cause whose fix this is.
    pub finding: usize,
    pub fix: &'f Fix,
    pub layer: Layer,
}

/// Every distinct fix among `findings` (in the diagnosis's order), once,
/// carried by its cause, in the order to apply them.
pub fn fix_order(findings: &[Finding]) -> Vec<OrderedFix<'_>> {
    let mut steps: Vec<OrderedFix<'_>> = Vec::new();
    // Each fix once: carried by the finding that owns it.
    for (position, owner) in fix_owners(findings).into_iter().enumerate() {
        let Some(fix) = findings[position].fix.as_ref().filter(|_| owner == Some(position)) else { continue };
        steps.push(OrderedFix { finding: position, fix, layer: layer(fix) });
    }
    steps.sort_by_key(|step| (step.layer, rank(step.fix), step.finding));
    steps
}
