//! Small helpers shared by the libvirt-side rules.

use std::net::Ipv4Addr;

use gettextrs::ngettext;

use crate::finding::{Evidence, Subject};
use crate::host::HostFacts;
use crate::i18n::fill;
use crate::interface::Interface;
use crate::network::{ForwardMode, NetworkConfig};
use crate::snapshot::{DomainSnapshot, DomainState, Snapshot};

/// The network libvirt ships and virt-manager puts new VMs on.
pub(super) const DEFAULT_NETWORK: &str = "default";

/// One NIC of one VM.
#[derive(Debug, Clone, Copy)]
pub(super) struct NicRef<'s> {
    pub domain: &'s DomainSnapshot,
    pub nic: &'s Interface,
    /// Position among the VM's NICs (0-based), for NICs without a MAC.
    pub index: usize,
}

impl NicRef<'_> {
    pub fn vm(&self) -> &str {
        self.domain.name()
    }

    /// The MAC libvirt gave the NIC; libvirt always sets one, so the
    /// fallback (`#1`, …) only shows for hand-written XML.
    pub fn label(&self) -> String {
        self.nic.mac.clone().unwrap_or_else(|| format!("#{}", self.index + 1))
    }

    pub fn subject(&self) -> Subject {
        Subject::Nic { vm: self.vm().to_owned(), mac: self.label() }
    }

    /// `vm (mac)`, for evidence lists.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.vm(), self.label())
    }
}

/// Every NIC of every VM, VMs in snapshot order.
pub(super) fn nics(snapshot: &Snapshot) -> impl Iterator<Item = NicRef<'_>> {
    snapshot.domains.iter().flat_map(|domain| {
        domain.interfaces().iter().enumerate().map(move |(index, nic)| NicRef { domain, nic, index })
    })
}

/// The NICs plugged into the libvirt network `network`.
pub(super) fn users<'s>(snapshot: &'s Snapshot, network: &str) -> Vec<NicRef<'s>> {
    nics(snapshot).filter(|nic| nic.nic.network_name() == Some(network)).collect()
}

/// "used by: vm1 (mac), vm2 (mac)".
pub(super) fn users_evidence(users: &[NicRef<'_>]) -> Evidence {
    let mut list: Vec<String> = users.iter().take(USERS_NAMED).map(NicRef::describe).collect();
    let more = users.len().saturating_sub(USERS_NAMED);
    if more > 0 {
        let count = u32::try_from(more).unwrap_or(u32::MAX);
        list.push(fill(
            &ngettext("and {count} more", "and {count} more", count),
            &[("count", &more.to_string())],
        ));
    }
    Evidence::new("used by", list.join(", "))
}

/// How many NICs a "used by" list names. A network with a thousand users
/// would otherwise carry a line of tens of kilobytes that nobody reads and
/// that GTK takes most of a second to lay out.
pub(super) const USERS_NAMED: usize = 20;

/// Whether the guest is executing (its NICs carry traffic now).
pub(super) fn is_running(domain: &DomainSnapshot) -> bool {
    matches!(domain.state, DomainState::Running | DomainState::Blocked)
}

/// `virsh domstate` wording, for evidence.
pub(super) fn state_name(state: DomainState) -> &'static str {
    match state {
        DomainState::NoState => "nostate",
        DomainState::Running => "running",
        DomainState::Blocked => "blocked",
        DomainState::Paused => "paused",
        DomainState::ShuttingDown => "in shutdown",
        DomainState::ShutOff => "shut off",
        DomainState::Crashed => "crashed",
        DomainState::Suspended => "pmsuspended",
    }
}

/// The host facts, when they belong to this connection and could be read.
pub(super) fn host(snapshot: &Snapshot) -> Option<&HostFacts> {
    snapshot.host.known().map(|facts| &**facts)
}

/// Whether the connection is a per-user one (`qemu:///session`,
/// `qemu+ssh://host/session`, …): an unprivileged libvirt that cannot
/// create bridges or NAT.
pub(super) fn is_session(uri: &str) -> bool {
    let Some((_, rest)) = uri.split_once("://") else {
        return false;
    };
    let path = rest.find('/').map_or("", |slash| &rest[slash..]);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches('/') == "/session"
}

/// Whether the VM runs under QEMU (or the test driver, which models it):
/// the guest agent and NIC models below are QEMU's.
pub(super) fn is_qemu_like(domain: &DomainSnapshot) -> bool {
    matches!(domain.config.hypervisor.as_str(), "kvm" | "qemu" | "test" | "")
}

/// Whether libvirt itself runs the bridge, DHCP and DNS of this network
/// (NAT, routed, open, isolated), as opposed to using a host bridge or
/// macvtap/SR-IOV devices.
pub(super) fn libvirt_runs_bridge(config: &NetworkConfig) -> bool {
    matches!(
        config.forward,
        ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open | ForwardMode::Isolated
    )
}

/// Whether any `<ip>` of the network hands out addresses (a range or a
/// static host), in either family.
pub(super) fn has_dhcp(config: &NetworkConfig) -> bool {
    config.ips.iter().any(|ip| !ip.dhcp_ranges.is_empty() || !ip.dhcp_hosts.is_empty())
}

/// Whether an IPv4 `<ip>` of the network hands out addresses.
pub(super) fn has_ipv4_dhcp(config: &NetworkConfig) -> bool {
    config.ips.iter().any(|ip| !ip.is_ipv6() && (!ip.dhcp_ranges.is_empty() || !ip.dhcp_hosts.is_empty()))
}

/// The IPv4 subnets of a network, as (network address, prefix).
pub(super) fn ipv4_subnets(config: &NetworkConfig) -> Vec<(Ipv4Addr, u8)> {
    config
        .ips
        .iter()
        .filter_map(|ip| match ip.address {
            // libvirt requires a netmask or prefix on IPv4; /24 if absent.
            std::net::IpAddr::V4(address) => {
                let prefix = ip.prefix.unwrap_or(24).min(32);
                Some((network_address(address, prefix), prefix))
            }
            std::net::IpAddr::V6(_) => None,
        })
        .collect()
}

pub(super) use crate::network::network_address;

/// Whether two IPv4 prefixes share any address: one contains the other.
pub(super) fn overlaps(a: (Ipv4Addr, u8), b: (Ipv4Addr, u8)) -> bool {
    let (a, b) = (crate::network::net_v4(a.0, a.1), crate::network::net_v4(b.0, b.1));
    a.contains(&b) || b.contains(&a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_uris_are_recognised() {
        assert!(is_session("qemu:///session"));
        assert!(is_session("qemu:///session/"));
        assert!(is_session("qemu+ssh://user@host/session"));
        assert!(is_session("qemu+unix:///session?socket=/run/user/1000/libvirt/virtqemud-sock"));
        assert!(!is_session("qemu:///system"));
        assert!(!is_session("qemu+ssh://session/system"));
        assert!(!is_session("test:///default"));
        assert!(!is_session("session"));
    }

    #[test]
    fn prefixes_overlap_when_one_holds_the_other() {
        let net = |a, b, c, d, p| (Ipv4Addr::new(a, b, c, d), p);
        assert!(overlaps(net(192, 168, 122, 0, 24), net(192, 168, 122, 0, 24)));
        assert!(overlaps(net(192, 168, 122, 0, 24), net(192, 168, 0, 0, 16)));
        assert!(overlaps(net(192, 168, 122, 7, 32), net(192, 168, 122, 0, 24)));
        assert!(!overlaps(net(192, 168, 122, 0, 24), net(192, 168, 123, 0, 24)));
        assert!(!overlaps(net(10, 0, 0, 0, 8), net(192, 168, 122, 0, 24)));
        assert_eq!(network_address(Ipv4Addr::new(192, 168, 122, 7), 24), Ipv4Addr::new(192, 168, 122, 0));
        assert_eq!(network_address(Ipv4Addr::new(10, 1, 2, 3), 0), Ipv4Addr::new(0, 0, 0, 0));
    }
}
