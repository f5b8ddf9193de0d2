//! The model of VM Network Doctor: what libvirt and the host say, in types.
//!
//! Everything here is pure: parsing libvirt XML and describing a snapshot of
//! a connection. No GTK, no libvirt calls, no I/O — so it is fast to test
//! against fixtures captured from real systems.

pub mod datapath;
pub mod domain;
pub mod edit;
pub mod finding;
pub mod fix_order;
pub mod guest;
pub mod host;
pub mod i18n;
pub mod interface;
pub mod netfilter;
pub mod network;
pub mod nic_model;
pub mod posture;
pub mod rules;
pub mod snapshot;
pub mod text_diff;
pub mod verdict;
pub mod xml;
mod xml_write;

pub use domain::{DomainConfig, GuestAgentChannel, OsType, parse_domain_xml};
pub use finding::{Evidence, Finding, Fix, Severity, Subject};
pub use fix_order::{Layer, OrderedFix, fix_order};
pub use guest::{GuestAddress, GuestFacts};
pub use host::{Fact, HostFacts};
pub use interface::{Interface, InterfaceSource, InterfaceType, LinkState};
pub use network::{BridgeDef, DhcpHost, DhcpRange, ForwardMode, IpDef, NetworkConfig, parse_network_xml};
pub use rules::diagnose;
pub use snapshot::{
    AddressSource, DhcpLease, DomainSnapshot, DomainState, GuestInterface, NetworkSnapshot, Snapshot,
    SourceResult, Unreadable,
};
pub use verdict::{Verdict, verdict};
pub use xml::XmlError;
