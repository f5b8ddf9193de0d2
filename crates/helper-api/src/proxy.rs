//! The zbus proxy of the helper's interface.
//!
//! Each method comes twice: plain, and as `…_asking`, the same D-Bus method
//! sent with the ALLOW_INTERACTIVE_AUTHORIZATION flag (zbus fixes the flag
//! per method), which lets polkit ask for a password.
//! [`crate::HelperClient`] picks the variant: asking only after a user's
//! click or on a terminal (DESIGN.md).

use crate::conntrack::ConnectionsReport;
use crate::fix::FixWire;
use crate::types::{ApplyResult, Capabilities, HostReport, InspectReport, Plan, TransactionInfo};

#[zbus::proxy(
    interface = "io.github.vmnetdoctor.Helper1",
    default_service = "io.github.vmnetdoctor.Helper1",
    default_path = "/io/github/vmnetdoctor/Helper1"
)]
pub trait Helper1 {
    /// The API version, the fixes this helper applies and the firewall tools
    /// on the host.
    fn get_capabilities(&self) -> zbus::Result<Capabilities>;

    #[zbus(name = "GetCapabilities", allow_interactive_auth)]
    fn get_capabilities_asking(&self) -> zbus::Result<Capabilities>;

    /// Root-only host facts: UFW's status and rules, the nftables ruleset,
    /// iptables-nft and legacy rules, IPv4 forwarding.
    fn inspect(&self) -> zbus::Result<InspectReport>;

    #[zbus(name = "Inspect", allow_interactive_auth)]
    fn inspect_asking(&self) -> zbus::Result<InspectReport>;

    /// Every host fact the diagnosis reads (links, routes, sysctls, UFW,
    /// firewalld, the rulesets, libvirt's backend, and the dnsmasq of the
    /// named libvirt networks), read as root: the sandboxed app's view of
    /// the host. Read-only.
    fn inspect_host(&self, networks: &[&str]) -> zbus::Result<HostReport>;

    #[zbus(name = "InspectHost", allow_interactive_auth)]
    fn inspect_host_asking(&self, networks: &[&str]) -> zbus::Result<HostReport>;

    /// The connection-tracking entries of the given guest addresses (IPv4
    /// or IPv6 literals, at most `MAX_CONNECTION_ADDRESSES`): the NAT
    /// translation table. Read-only.
    fn connections(&self, addresses: &[&str]) -> zbus::Result<ConnectionsReport>;

    #[zbus(name = "Connections", allow_interactive_auth)]
    fn connections_asking(&self, addresses: &[&str]) -> zbus::Result<ConnectionsReport>;

    /// The exact steps applying `fix` would run now (none when it is in
    /// place). Changes nothing.
    fn plan(&self, fix: &FixWire) -> zbus::Result<Plan>;

    #[zbus(name = "Plan", allow_interactive_auth)]
    fn plan_asking(&self, fix: &FixWire) -> zbus::Result<Plan>;

    /// Runs the steps of the plan whose id is `plan_id`, if they are still
    /// the steps `Plan` gives; rolls back on failure; journals the change.
    fn apply(&self, fix: &FixWire, plan_id: &str) -> zbus::Result<ApplyResult>;

    #[zbus(name = "Apply", allow_interactive_auth)]
    fn apply_asking(&self, fix: &FixWire, plan_id: &str) -> zbus::Result<ApplyResult>;

    /// Undoes the changes of a transaction `Apply` journaled, and only those.
    fn revert(&self, transaction: &str) -> zbus::Result<ApplyResult>;

    #[zbus(name = "Revert", allow_interactive_auth)]
    fn revert_asking(&self, transaction: &str) -> zbus::Result<ApplyResult>;

    /// The journaled transactions, oldest first.
    fn transactions(&self) -> zbus::Result<Vec<TransactionInfo>>;

    #[zbus(name = "Transactions", allow_interactive_auth)]
    fn transactions_asking(&self) -> zbus::Result<Vec<TransactionInfo>>;

    /// The state of each journaled transaction by id: `applying`,
    /// `applied`, `incomplete` or `reverted`.
    fn transaction_states(&self) -> zbus::Result<std::collections::HashMap<String, String>>;

    #[zbus(name = "TransactionStates", allow_interactive_auth)]
    fn transaction_states_asking(&self) -> zbus::Result<std::collections::HashMap<String, String>>;
}
