//! The diagnosis: every rule is a pure function of a [`Snapshot`].
//!
//! One file per rule. Each finding id is stable: it is documented here and
//! in `docs/check-json.md`, and never reused for another meaning.
//!
//! Connection (no snapshot exists when the connection fails, so these come
//! from [`connection_findings`], not from [`diagnose`]):
//!
//! | id | severity | fix |
//! |---|---|---|
//! | `libvirt-unreachable` | error | — (start the daemon) |
//! | `libvirt-permission-denied` | error | — (join the `libvirt` group) |
//! | `libvirt-unknown-uri` | error | — |
//! | `libvirt-no-answer` | error | — |
//! | `libvirt-error` | error | — |
//!
//! Virtual networks:
//!
//! | id | severity | fix |
//! |---|---|---|
//! | `default-network-missing` | error when a NIC uses `default`, else warning | `DefineNetwork` (the guide's XML, on a free /24 and bridge name) |
//! | `network-inactive` | error when a NIC uses it; warning for an unused `default` | `StartNetwork` |
//! | `network-not-autostarted` | warning (used networks and `default`) | `AutostartNetwork` |
//! | `network-no-dhcp` | warning (used NAT/routed/open/isolated network with IPv4 but no DHCP) | — |
//! | `dhcp-range-exhausted` | error when a running card on it has no IPv4 address, else warning | — (widen the range) |
//! | `dhcp-host-conflict` | error | — (what to change in the `<host>` entries) |
//! | `network-subnet-collision` | error when the network runs, starts at boot or has VMs, else warning | `MoveNetworkSubnet` to the first free private /24 (/24 networks) |
//! | `network-bridge-down` | error when an active VM uses it, else warning | — (restart the network) |
//! | `dnsmasq-not-running` | error when a VM uses it, else warning | — (restart the network) |
//! | `dnsmasq-port-taken` | error when it starts at boot or has VMs, else warning | — (names the program holding port 53 or 67) |
//!
//! Network cards (subject: the NIC, by MAC):
//!
//! | id | severity | fix |
//! |---|---|---|
//! | `nic-network-missing` | error | `DefineNetwork` for `default`, else `MoveNicToNetwork` `default` when it exists |
//! | `nic-network-inactive` | error | `StartNetwork` |
//! | `nic-link-down` | error | `SetLinkUp` |
//! | `nic-host-link-down` | error (running VM), warning (shut off) | — |
//! | `nic-model-not-virtio` | warning | `SetNicModel` `virtio` |
//! | `nic-user-mode` | warning; info on a `…/session` connection | `MoveNicToNetwork` `default` (system connection with a `default` network) |
//! | `nic-not-nat` | info | — |
//! | `session-bridge-not-allowed` | error (shut off), warning (running) | `AllowQemuBridge` (none when a `deny` line names the bridge) |
//! | `session-bridge-helper-unprivileged` | error (shut off), warning (running) | — (setuid root or cap_net_admin for qemu-bridge-helper: the administrator's decision) |
//! | `duplicate-mac` | error when two cards can meet, warning for shut-off clones and separate networks | — |
//!
//! VMs:
//!
//! | id | severity | fix |
//! |---|---|---|
//! | `guest-agent-missing` | warning | `AddGuestAgentChannel` (next boot) |
//! | `guest-agent-not-connected` | warning | — (install qemu-guest-agent in the guest) |
//! | `guest-ipv6-unrouted` | warning | `DisableGuestIpv6`; alternative `ForceAptIpv4` |
//! | `guest-address-outside-subnet` | error (subject: the card) | `CreateGuestDhcpProfile` ranked above the static NetworkManager profile that sets it (guest inspected); else — (DHCP, or an address in the network's subnet) |
//! | `guest-gateway-wrong` | error (subject: the card; needs the guest inspected) | the same as `guest-address-outside-subnet`; else — (DHCP, or the network's address as gateway) |
//! | `guest-profile-interface-missing` | error (subject: the card left without an address), info when every card has one | `CreateGuestDhcpProfile` when NetworkManager runs |
//! | `guest-interface-no-profile` | error (subject: the card; needs the guest inspected) | `CreateGuestDhcpProfile` |
//! | `vm-no-ip` | error | — (names the finding that explains it, if any) |
//!
//! The host firewall and forward-path ids are listed in `firewall/mod.rs`.
//!
//! Guest-side checks read [`crate::DomainSnapshot::guest`], which is only
//! filled when the guest was inspected through its agent
//! ([`GUEST_INSPECTION_IDS`] need it; `guest-ipv6-unrouted` also works from
//! the agent's addresses alone).
//!
//! Host-dependent checks (`network-bridge-down`, `dnsmasq-not-running`,
//! `nic-host-link-down`, the collision check of `default-network-missing`)
//! only run when [`Snapshot::host`] is known; otherwise they say nothing
//! rather than guess.

mod causes;
mod common;
mod connection;
mod default_network_missing;
mod dhcp_host_conflict;
mod dhcp_range_exhausted;
mod dnsmasq_not_running;
mod dnsmasq_port_taken;
mod duplicate_mac;
mod firewall;
mod guest_address_outside_subnet;
mod guest_agent_missing;
mod guest_agent_not_connected;
mod guest_gateway_wrong;
mod guest_interface_no_profile;
mod guest_ipv6_unrouted;
mod guest_nm;
mod guest_profile_interface_missing;
mod network_bridge_down;
mod network_inactive;
mod network_no_dhcp;
mod network_not_autostarted;
mod network_subnet_collision;
mod nic_host_link_down;
mod nic_link_down;
mod nic_model_not_virtio;
mod nic_network_inactive;
mod nic_network_missing;
mod nic_not_nat;
mod nic_user_mode;
mod session_bridge_helper_unprivileged;
mod session_bridge_not_allowed;
mod subnet_uses;
mod vm_no_ip;

pub use causes::{consequences, explained_by, fix_owners};
pub use connection::{ConnectionProblem, connection_findings};
pub use firewall::picture::{BridgeVerdicts, FirewallPicture, ForwardPath, UfwState, firewall_picture};

use crate::finding::Finding;
use crate::snapshot::Snapshot;

/// Every id [`connection_findings`] can return.
pub const CONNECTION_IDS: &[&str] = &[
    "libvirt-unreachable",
    "libvirt-permission-denied",
    "libvirt-unknown-uri",
    "libvirt-no-answer",
    "libvirt-error",
];

/// Every id the host firewall and forward-path rules can produce.
pub const FIREWALL_RULE_IDS: &[&str] = firewall::IDS;

/// Every id the libvirt-side rules of [`diagnose`] can return (the firewall
/// rules' ids are not in it).
pub const LIBVIRT_RULE_IDS: &[&str] = &[
    "default-network-missing",
    "network-inactive",
    "network-not-autostarted",
    "network-no-dhcp",
    "dhcp-range-exhausted",
    "dhcp-host-conflict",
    "network-subnet-collision",
    "network-bridge-down",
    "dnsmasq-not-running",
    "dnsmasq-port-taken",
    "nic-network-missing",
    "nic-network-inactive",
    "nic-link-down",
    "nic-host-link-down",
    "nic-model-not-virtio",
    "nic-user-mode",
    "nic-not-nat",
    "session-bridge-not-allowed",
    "session-bridge-helper-unprivileged",
    "duplicate-mac",
    "guest-agent-missing",
    "guest-agent-not-connected",
    "guest-ipv6-unrouted",
    "guest-address-outside-subnet",
    "guest-gateway-wrong",
    "guest-profile-interface-missing",
    "guest-interface-no-profile",
    "vm-no-ip",
];

/// The ids that only a guest inspection (`Hypervisor::inspect_guest`) can
/// produce.
pub const GUEST_INSPECTION_IDS: &[&str] =
    &["guest-profile-interface-missing", "guest-gateway-wrong", "guest-interface-no-profile"];

/// The rules that only read the snapshot, in the order their findings are
/// listed within one severity.
const RULES: &[fn(&Snapshot) -> Vec<Finding>] = &[
    default_network_missing::check,
    network_inactive::check,
    network_not_autostarted::check,
    network_no_dhcp::check,
    dhcp_range_exhausted::check,
    dhcp_host_conflict::check,
    network_subnet_collision::check,
    network_bridge_down::check,
    dnsmasq_not_running::check,
    dnsmasq_port_taken::check,
    nic_network_missing::check,
    nic_network_inactive::check,
    nic_link_down::check,
    nic_host_link_down::check,
    duplicate_mac::check,
    nic_model_not_virtio::check,
    nic_user_mode::check,
    nic_not_nat::check,
    session_bridge_not_allowed::check,
    session_bridge_helper_unprivileged::check,
    guest_agent_missing::check,
    guest_agent_not_connected::check,
    guest_ipv6_unrouted::check,
    guest_address_outside_subnet::check,
    guest_gateway_wrong::check,
    guest_profile_interface_missing::check,
    guest_interface_no_profile::check,
];

/// Every finding for this snapshot, most severe first.
pub fn diagnose(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES {
        findings.extend(rule(snapshot));
    }
    findings.extend(firewall::diagnose(snapshot));
    // Last: it names the findings above that explain a missing address.
    let no_ip = vm_no_ip::check(snapshot, &findings);
    findings.extend(no_ip);
    findings.sort_by_key(|finding| finding.severity);
    findings
}
