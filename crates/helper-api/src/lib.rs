//! The contract between VM Network Doctor and its root helper
//! `vmnet-doctor-helper`: the D-Bus names, the typed requests and answers,
//! the zbus proxy, and a client that sorts the helper's failures into what
//! the user interface has to say about them.
//!
//! Requests carry typed values only — a fix kind, interface names that
//! [`IfaceName`] has validated, a [`LibvirtFirewallBackend`] — never a
//! command, a path or rule text. The
//! helper plans the exact commands itself and shows them before it runs them.

mod client;
mod conntrack;
mod error;
mod fix;
mod names;
mod pending;
mod proxy;
mod types;

pub use client::{ClientError, FixFailure, HelperClient, check_outcome};
pub use conntrack::{
    ConnectionsReport, ConntrackEntry, Endpoint, MAX_CONNECTION_ADDRESSES, MAX_CONNECTION_ENTRIES,
    ParsedConntrack, Tuple, parse_conntrack,
};
pub use error::HelperError;
pub use fix::{FixKind, FixRequest, FixWire, LibvirtFirewallBackend};
pub use names::{IfaceName, NameError, is_valid_iface_name};
pub use pending::{Pending, pending_apply, pending_revert};
pub use proxy::Helper1Proxy;
pub use types::{
    Action, ApplyResult, Capabilities, HOST_FACTS_FORMAT, HostReport, InspectReport, MAX_HOST_NETWORKS,
    MAX_HOST_REPORT_BYTES, Outcome, Plan, Step, StepResult, ToolInfo, ToolOutput, ToolStatus,
    TransactionInfo, is_valid_network_name,
};

/// The helper's well-known name on the system bus.
pub const BUS_NAME: &str = "io.github.vmnetdoctor.Helper1";
/// The one object it serves.
pub const OBJECT_PATH: &str = "/io/github/vmnetdoctor/Helper1";
/// Its interface.
pub const INTERFACE: &str = "io.github.vmnetdoctor.Helper1";
/// The version of this interface `GetCapabilities` reports; raised when a
/// method or a type changes incompatibly. 2: `InspectHost`.
pub const API_VERSION: u32 = 2;
/// The prefix of the helper's own D-Bus error names.
pub const ERROR_PREFIX: &str = "io.github.vmnetdoctor.Helper1.Error";

/// The polkit actions, as `data/helper/io.github.vmnetdoctor.policy`
/// declares them.
pub mod actions {
    /// Read-only host facts (`GetCapabilities`, `Inspect`, `InspectHost`,
    /// `Plan`, `Transactions`).
    pub const INSPECT: &str = "io.github.vmnetdoctor.inspect";
    /// Read-only: the connection-tracking (NAT) entries of given guest
    /// addresses (`Connections`). Its own action, not `INSPECT`: it shows
    /// whom a VM talks to, not how the firewall is set up, so an
    /// administrator may grant one without the other.
    pub const INSPECT_CONNECTIONS: &str = "io.github.vmnetdoctor.inspect-connections";
    /// UFW and iptables rules; libvirt's firewall backend (with a restart of
    /// its network driver).
    pub const MODIFY_FIREWALL: &str = "io.github.vmnetdoctor.modify-firewall";
    /// Kernel parameters (IPv4 forwarding).
    pub const MODIFY_SYSCTL: &str = "io.github.vmnetdoctor.modify-sysctl";
    /// qemu-bridge-helper's access list: which host bridges the VMs of
    /// per-user connections may join.
    pub const MODIFY_BRIDGE_ACCESS: &str = "io.github.vmnetdoctor.modify-bridge-access";
}

/// The comment the helper puts on every firewall rule it adds, so that a
/// revert removes only its own rules.
pub const RULE_COMMENT: &str = "vmnet-doctor";

/// The largest request body the helper accepts, in bytes. Every valid
/// request is far smaller (a fix kind and two interface names).
pub const MAX_REQUEST_BYTES: u32 = 4096;
