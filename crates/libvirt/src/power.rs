//! A VM's power: the graceful shutdown, the forced power-off and the start
//! that a change waiting for the next boot needs (virt-manager's Shut Down,
//! Force Off and Run).
//!
//! The calls themselves run on the worker thread (see
//! [`crate::Hypervisor`]); waiting for the VM to stop follows libvirt's
//! lifecycle events, so nothing polls.

use tokio::sync::broadcast::{self, error::RecvError};
use virt::connect::Connect;
use virt::domain::Domain;

use crate::error::LibvirtError;
use crate::events::{DomainEvent, EventKind, LibvirtEvent};

/// A power operation on one VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// `virDomainShutdown`: asks the guest to shut down (ACPI power button,
    /// or the guest agent, as the driver chooses). Returns once asked; the
    /// guest may take its time, or ignore it.
    Shutdown,
    /// `virDomainDestroy`: pulls the plug at once. Unsaved work in the guest
    /// is lost.
    ForceOff,
    /// `virDomainCreate`: boots the persistent configuration.
    Start,
}

pub(crate) fn run(conn: &Connect, vm: &str, action: PowerAction) -> Result<(), LibvirtError> {
    let domain = lookup(conn, vm)?;
    let uri = conn.uri().map_err(|error| LibvirtError::from_call(&error))?;
    let result = match action {
        PowerAction::Shutdown => domain.shutdown().map(drop),
        PowerAction::ForceOff => domain.destroy(),
        PowerAction::Start => domain.create().map(drop),
    };
    result.map_err(|error| LibvirtError::from_change(&uri, &error))
}

/// Whether `vm` runs (or is paused): it has a running configuration.
pub(crate) fn is_running(conn: &Connect, vm: &str) -> Result<bool, LibvirtError> {
    let domain = lookup(conn, vm)?;
    domain.is_active().map_err(|error| LibvirtError::from_call(&error))
}

fn lookup(conn: &Connect, vm: &str) -> Result<Domain, LibvirtError> {
    let uri = conn.uri().map_err(|error| LibvirtError::from_call(&error))?;
    conn.lookup_domain_by_name(vm).map_err(|error| LibvirtError::from_change(&uri, &error))
}

/// Watches one VM's lifecycle events, taken before the shutdown is asked
/// for, so a guest that stops at once is not missed.
#[derive(Debug)]
pub struct StopWatch {
    pub(crate) vm: String,
    pub(crate) events: broadcast::Receiver<LibvirtEvent>,
}

/// What the watch saw next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// libvirt said the VM stopped.
    Stopped,
    /// Events were missed (the watcher lagged): ask libvirt for the state.
    Missed,
}

impl StopWatch {
    /// Waits for libvirt's "stopped" event about this VM. Cancel it by
    /// dropping the future (e.g. under `tokio::time::timeout`).
    pub async fn next(&mut self) -> Result<Seen, LibvirtError> {
        loop {
            match self.events.recv().await {
                Ok(event) if event.name == self.vm && is_stop(&event.kind) => return Ok(Seen::Stopped),
                // Nothing more comes on a broken connection.
                Ok(event) if matches!(event.kind, EventKind::ConnectionClosed(_)) => {
                    return Err(LibvirtError::Disconnected);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => return Ok(Seen::Missed),
                Err(RecvError::Closed) => return Err(LibvirtError::Disconnected),
            }
        }
    }
}

fn is_stop(kind: &EventKind) -> bool {
    // A crash that ends the VM also comes as "stopped" (reason crashed).
    matches!(kind, EventKind::Domain(DomainEvent::Stopped))
}
