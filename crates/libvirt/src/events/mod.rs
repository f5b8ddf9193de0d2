//! libvirt's events, so the UI follows the host without polling.
//!
//! libvirt delivers events on whatever thread runs its event loop; one
//! thread per process does (it sleeps in `poll()` until the daemon's socket
//! or a libvirt timer wakes it). The worker registers callbacks on its
//! connection right after opening it and removes them before closing it;
//! each callback forwards a [`LibvirtEvent`] into a broadcast channel.
//! The registration itself, unsafe code the `virt` crate does not wrap,
//! is in [`ffi`] and, for libvirt's close callback (the connection broke),
//! in [`closed`] (the leases call in `leases.rs` is the crate's other).

mod closed;
mod ffi;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Instant;

use tokio::sync::broadcast;
use virt::connect::Connect;

/// How many events a slow subscriber may fall behind before it is told it
/// lagged (and should simply take a fresh snapshot).
pub(crate) const BUFFER: usize = 256;

/// Something changed on the host: which object, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibvirtEvent {
    pub kind: EventKind,
    /// The domain's or the network's name.
    pub name: String,
    /// When libvirt handed the event to this process.
    pub received: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A VM's lifecycle; a persistent configuration change (e.g. `virsh
    /// update-device --config`) is [`DomainEvent::Defined`].
    Domain(DomainEvent),
    /// A device was hot-plugged; `alias` is libvirt's (e.g. `net1`).
    DeviceAdded {
        alias: String,
    },
    DeviceRemoved {
        alias: String,
    },
    /// The guest agent's channel connected or disconnected.
    Agent {
        connected: bool,
    },
    /// A virtual network's lifecycle.
    Network(NetworkEvent),
    /// The connection broke (libvirt's close callback): the daemon
    /// restarted or died, or the link to it failed. No other event follows
    /// on this connection; open a new one. `name` is empty.
    ConnectionClosed(CloseReason),
}

/// libvirt's `virConnectCloseReason`: why the connection broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// A socket or protocol error.
    Error,
    /// The daemon closed the socket (it stopped or restarted).
    Eof,
    /// The daemon stopped answering keepalive messages.
    Keepalive,
    /// The client closed the connection.
    Client,
    Other(i32),
}

impl CloseReason {
    fn from_libvirt(reason: i32) -> Self {
        let known = [
            (virt::sys::VIR_CONNECT_CLOSE_REASON_ERROR, Self::Error),
            (virt::sys::VIR_CONNECT_CLOSE_REASON_EOF, Self::Eof),
            (virt::sys::VIR_CONNECT_CLOSE_REASON_KEEPALIVE, Self::Keepalive),
            (virt::sys::VIR_CONNECT_CLOSE_REASON_CLIENT, Self::Client),
        ];
        let found = known.iter().find(|(raw, _)| i64::from(*raw) == i64::from(reason));
        found.map_or(Self::Other(reason), |(_, kind)| *kind)
    }

    /// A stable name for logs and measurements, e.g. `eof`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Eof => "eof",
            Self::Keepalive => "keepalive",
            Self::Client => "client",
            Self::Other(_) => "other",
        }
    }
}

/// libvirt's `virDomainEventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainEvent {
    Defined,
    Undefined,
    Started,
    Suspended,
    Resumed,
    Stopped,
    Shutdown,
    PmSuspended,
    Crashed,
    Other(i32),
}

/// libvirt's `virNetworkEventLifecycleType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkEvent {
    Defined,
    Undefined,
    Started,
    Stopped,
    Other(i32),
}

impl EventKind {
    /// A stable name for logs and measurements, e.g. `network-stopped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Domain(event) => match event {
                DomainEvent::Defined => "domain-defined",
                DomainEvent::Undefined => "domain-undefined",
                DomainEvent::Started => "domain-started",
                DomainEvent::Suspended => "domain-suspended",
                DomainEvent::Resumed => "domain-resumed",
                DomainEvent::Stopped => "domain-stopped",
                DomainEvent::Shutdown => "domain-shutdown",
                DomainEvent::PmSuspended => "domain-pmsuspended",
                DomainEvent::Crashed => "domain-crashed",
                DomainEvent::Other(_) => "domain-other",
            },
            Self::DeviceAdded { .. } => "device-added",
            Self::DeviceRemoved { .. } => "device-removed",
            Self::Agent { connected: true } => "agent-connected",
            Self::Agent { connected: false } => "agent-disconnected",
            Self::Network(event) => match event {
                NetworkEvent::Defined => "network-defined",
                NetworkEvent::Undefined => "network-undefined",
                NetworkEvent::Started => "network-started",
                NetworkEvent::Stopped => "network-stopped",
                NetworkEvent::Other(_) => "network-other",
            },
            Self::ConnectionClosed(_) => "connection-closed",
        }
    }

    /// Whether the event names a virtual network (else a VM).
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Network(_))
    }

    fn domain_lifecycle(event: i32) -> Self {
        let known = [
            (virt::sys::VIR_DOMAIN_EVENT_DEFINED, DomainEvent::Defined),
            (virt::sys::VIR_DOMAIN_EVENT_UNDEFINED, DomainEvent::Undefined),
            (virt::sys::VIR_DOMAIN_EVENT_STARTED, DomainEvent::Started),
            (virt::sys::VIR_DOMAIN_EVENT_SUSPENDED, DomainEvent::Suspended),
            (virt::sys::VIR_DOMAIN_EVENT_RESUMED, DomainEvent::Resumed),
            (virt::sys::VIR_DOMAIN_EVENT_STOPPED, DomainEvent::Stopped),
            (virt::sys::VIR_DOMAIN_EVENT_SHUTDOWN, DomainEvent::Shutdown),
            (virt::sys::VIR_DOMAIN_EVENT_PMSUSPENDED, DomainEvent::PmSuspended),
            (virt::sys::VIR_DOMAIN_EVENT_CRASHED, DomainEvent::Crashed),
        ];
        let found = known.iter().find(|(raw, _)| i64::from(*raw) == i64::from(event));
        Self::Domain(found.map_or(DomainEvent::Other(event), |(_, kind)| *kind))
    }

    fn network_lifecycle(event: i32) -> Self {
        let known = [
            (virt::sys::VIR_NETWORK_EVENT_DEFINED, NetworkEvent::Defined),
            (virt::sys::VIR_NETWORK_EVENT_UNDEFINED, NetworkEvent::Undefined),
            (virt::sys::VIR_NETWORK_EVENT_STARTED, NetworkEvent::Started),
            (virt::sys::VIR_NETWORK_EVENT_STOPPED, NetworkEvent::Stopped),
        ];
        let found = known.iter().find(|(raw, _)| i64::from(*raw) == i64::from(event));
        Self::Network(found.map_or(NetworkEvent::Other(event), |(_, kind)| *kind))
    }

    fn agent(state: i32) -> Self {
        let connected = virt::sys::VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED;
        Self::Agent { connected: i64::from(state) == i64::from(connected) }
    }
}

/// Where a callback delivers; owned by libvirt while registered.
#[derive(Debug, Clone)]
struct Sink {
    events: broadcast::Sender<LibvirtEvent>,
}

impl Sink {
    fn deliver(&self, kind: EventKind, name: String) {
        // No subscriber is fine: nobody is watching.
        let _ = self.events.send(LibvirtEvent { kind, name, received: Instant::now() });
    }
}

/// Registers libvirt's default event loop and starts the thread that runs
/// it, once per process. It must precede the first `Connect::open`: remote
/// connections attach their socket to the loop when they open. Returns
/// whether events can be delivered.
pub(crate) fn ensure_event_loop() -> bool {
    static LOOP: OnceLock<bool> = OnceLock::new();
    *LOOP.get_or_init(|| {
        if virt::event::event_register_default_impl().is_err() {
            return false;
        }
        thread::Builder::new()
            .name("libvirt-events".into())
            .spawn(|| {
                // Each turn sleeps in poll() until a socket or a timer is
                // due. An error means poll itself failed; stop rather than spin.
                while virt::event::event_run_default_impl().is_ok() {}
            })
            .is_ok()
    })
}

/// The callbacks one connection registered; removed by [`Self::end`].
#[derive(Debug)]
pub(crate) struct Subscription {
    registrations: Vec<ffi::Registration>,
    close: Option<closed::CloseRegistration>,
}

impl Subscription {
    /// Registers every callback the UI needs on `conn`, and the close
    /// callback, which sets `closed` and sends
    /// [`EventKind::ConnectionClosed`]. An event kind the driver does not
    /// offer is left out; the others still arrive.
    pub(crate) fn start(
        conn: &Connect,
        events: &broadcast::Sender<LibvirtEvent>,
        closed: &Arc<AtomicBool>,
    ) -> Self {
        let sink = Sink { events: events.clone() };
        let registrations =
            ffi::EVENTS.iter().filter_map(|event| ffi::register(conn, *event, &sink)).collect();
        let close = closed::register(conn, events, closed);
        Self { registrations, close }
    }

    /// Removes the callbacks; libvirt then frees each one's [`Sink`], and
    /// subscribers see the channel close once the `Hypervisor` is gone too.
    /// The close callback goes first: closing the connection ourselves is
    /// no lost connection.
    pub(crate) fn end(self, conn: &Connect) {
        if let Some(close) = self.close {
            close.remove(conn);
        }
        for registration in self.registrations {
            registration.remove(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CloseReason, DomainEvent, EventKind, NetworkEvent};

    #[test]
    fn libvirt_numbers_map_to_kinds() {
        // Numbers from libvirt-domain.h and libvirt-network.h.
        assert_eq!(EventKind::domain_lifecycle(0), EventKind::Domain(DomainEvent::Defined));
        assert_eq!(EventKind::domain_lifecycle(5), EventKind::Domain(DomainEvent::Stopped));
        assert_eq!(EventKind::domain_lifecycle(8), EventKind::Domain(DomainEvent::Crashed));
        assert_eq!(EventKind::domain_lifecycle(42), EventKind::Domain(DomainEvent::Other(42)));
        assert_eq!(EventKind::network_lifecycle(2), EventKind::Network(NetworkEvent::Started));
        assert_eq!(EventKind::network_lifecycle(3), EventKind::Network(NetworkEvent::Stopped));
        assert_eq!(EventKind::network_lifecycle(9), EventKind::Network(NetworkEvent::Other(9)));
        assert_eq!(EventKind::agent(1), EventKind::Agent { connected: true });
        assert_eq!(EventKind::agent(2), EventKind::Agent { connected: false });
    }

    #[test]
    fn close_reasons_map_from_libvirt() {
        // Numbers from libvirt-host.h's virConnectCloseReason.
        assert_eq!(CloseReason::from_libvirt(0), CloseReason::Error);
        assert_eq!(CloseReason::from_libvirt(1), CloseReason::Eof);
        assert_eq!(CloseReason::from_libvirt(2), CloseReason::Keepalive);
        assert_eq!(CloseReason::from_libvirt(3), CloseReason::Client);
        assert_eq!(CloseReason::from_libvirt(7), CloseReason::Other(7));
        assert_eq!(CloseReason::Eof.as_str(), "eof");
        assert_eq!(EventKind::ConnectionClosed(CloseReason::Keepalive).as_str(), "connection-closed");
        assert!(!EventKind::ConnectionClosed(CloseReason::Eof).is_network());
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(EventKind::Network(NetworkEvent::Stopped).as_str(), "network-stopped");
        assert_eq!(EventKind::Domain(DomainEvent::Defined).as_str(), "domain-defined");
        assert_eq!(EventKind::DeviceAdded { alias: "net1".into() }.as_str(), "device-added");
        assert!(EventKind::Network(NetworkEvent::Started).is_network());
        assert!(!EventKind::Agent { connected: true }.is_network());
    }
}
