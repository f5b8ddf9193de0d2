//! The only place VM Network Doctor talks to libvirt.
//!
//! libvirt calls block, so one worker thread owns the connection and runs
//! every call in order; the rest of the program holds a [`Hypervisor`]
//! handle and awaits (or blocks on) the answers.

mod addresses;
pub mod agent;
mod demo;
mod domain_listing;
mod error;
mod events;
mod fixes;
mod guest;
mod guest_channel;
mod guest_worker;
mod leases;
mod power;
mod snapshot;
mod worker;

pub use demo::test_driver_uri;
pub use error::LibvirtError;
pub use events::{CloseReason, DomainEvent, EventKind, LibvirtEvent, NetworkEvent};
pub use fixes::{
    ChangedDefinition, DHCP_PROFILE, DISABLE_IPV6_APPLY, DISABLE_IPV6_CONTENTS, DISABLE_IPV6_PATH, DomainXml,
    Effect, FORCE_IPV4_CONTENTS, FORCE_IPV4_PATH, FixFailure, FixPreview, FixReport, FixStep, LibvirtFix,
    XmlChange,
};
pub use power::{PowerAction, Seen, StopWatch};
pub use worker::Hypervisor;

/// The URIs every libvirt host offers, in virt-manager's order.
pub const SYSTEM_URI: &str = "qemu:///system";
pub const SESSION_URI: &str = "qemu:///session";
