//! The first connections are opened and read while the window is built,
//! each on a thread of its own.
//!
//! Start-up is two long waits: libadwaita, the resources and the window on
//! the main thread, and libvirt (connecting, then every VM and network) on
//! the worker. One after the other they add up; begun together in `main`
//! (right after `gtk::init`, see there), the shorter one hides inside the
//! longer. The window takes the answer when it connects to the same URI,
//! and otherwise drops it, which closes that connection.
//!
//! The host's own network (firewall, forwarding, routes; over SSH for a
//! remote server) is read after libvirt's answer and arrives on its own:
//! the VM list is shown without waiting for it, and the diagnosis is
//! completed when it comes.

use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, oneshot};
use vmnet_doctor_core::{Fact, HostFacts, Snapshot};
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError, LibvirtEvent};

use crate::probe;

/// The host facts of a connection's first snapshot, still being read.
pub type HostFactsComing = oneshot::Receiver<Fact<Box<HostFacts>>>;

/// What opening a connection gives the window.
pub struct OpenedConnection {
    pub hypervisor: Arc<Hypervisor>,
    /// libvirt's events since just before `snapshot` was taken.
    pub events: broadcast::Receiver<LibvirtEvent>,
    pub snapshot: Snapshot,
    /// When `snapshot`'s host facts are still being read
    /// ([`probe::host_facts_pending`] until then): they come here.
    pub host_facts: Option<HostFactsComing>,
}

impl std::fmt::Debug for OpenedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedConnection")
            .field("uri", &self.snapshot.uri)
            .field("host_facts_coming", &self.host_facts.is_some())
            .finish_non_exhaustive()
    }
}

type Answer = Result<OpenedConnection, LibvirtError>;

/// The connections started in `main`, each with its answer to come.
static STARTED: Mutex<Vec<(String, oneshot::Receiver<Answer>)>> = Mutex::new(Vec::new());

/// Opens `uri` and takes its first snapshot on a thread of its own, which
/// then reads the host facts.
pub fn start(uri: String) {
    let (answer, receiver) = oneshot::channel();
    let opening = uri.clone();
    let spawned = std::thread::Builder::new().name("first-connection".into()).spawn(move || {
        let (opened, reading) = match open_blocking(&opening) {
            Ok(opened) => opened,
            Err(error) => {
                let _ = answer.send(Err(error));
                return;
            }
        };
        // The window may have moved on; then nobody listens, which is fine.
        let _ = answer.send(Ok(opened));
        if let Some(reading) = reading {
            reading.read();
        }
    });
    // Without the thread the window simply connects as for any other URI.
    if spawned.is_err() {
        return;
    }
    if let Ok(mut started) = STARTED.lock() {
        started.push((uri, receiver));
    }
}

/// The answer for `uri`, when [`start`] was asked for that URI; taken
/// once. The window takes every one it opens: a connection started for a
/// URI it never opens stays open until the app quits.
pub fn take(uri: &str) -> Option<oneshot::Receiver<Answer>> {
    let mut started = STARTED.lock().ok()?;
    let index = started.iter().position(|(started, _)| started == uri)?;
    Some(started.swap_remove(index).1)
}

/// Opens `uri` and reads it, as the window does for every connection it
/// opens (and reopens): events are subscribed before the first snapshot,
/// so that no change after it is missed. The host facts follow on a
/// blocking thread.
pub async fn open(uri: &str) -> Answer {
    let hypervisor = Hypervisor::open(uri).await?;
    let events = hypervisor.events();
    let snapshot = hypervisor.snapshot().await?;
    let (opened, reading) = with_host_facts_coming(hypervisor, events, snapshot);
    if let Some(reading) = reading {
        // Detached: its answer goes to the connection's `host_facts`.
        drop(tokio::task::spawn_blocking(move || reading.read()));
    }
    Ok(opened)
}

/// [`open`] for the start-up thread, blocking it.
fn open_blocking(uri: &str) -> Result<(OpenedConnection, Option<HostFactsReading>), LibvirtError> {
    let hypervisor = Hypervisor::open_blocking(uri)?;
    let events = hypervisor.events();
    let snapshot = hypervisor.snapshot_blocking()?;
    Ok(with_host_facts_coming(hypervisor, events, snapshot))
}

/// The host facts still to read for a snapshot, and where they go.
struct HostFactsReading {
    uri: String,
    network_names: Vec<String>,
    send: oneshot::Sender<Fact<Box<HostFacts>>>,
}

impl HostFactsReading {
    /// Blocking: reads the host (as root through the helper, or over SSH).
    fn read(self) {
        let facts = probe::host_facts(&self.uri, &self.network_names);
        let _ = self.send.send(facts);
    }
}

/// The connection as opened: its facts in the snapshot when they are known
/// at once, else marked as being read, with what reads them.
fn with_host_facts_coming(
    hypervisor: Hypervisor,
    events: broadcast::Receiver<LibvirtEvent>,
    mut snapshot: Snapshot,
) -> (OpenedConnection, Option<HostFactsReading>) {
    let (host_facts, reading) = if probe::host_facts_take_time(&snapshot.uri) {
        let (send, coming) = oneshot::channel();
        let network_names = probe::network_names(&snapshot);
        let reading = HostFactsReading { uri: snapshot.uri.clone(), network_names, send };
        snapshot.host = probe::host_facts_pending();
        (Some(coming), Some(reading))
    } else {
        probe::attach_host_facts(&mut snapshot);
        (None, None)
    };
    (OpenedConnection { hypervisor: Arc::new(hypervisor), events, snapshot, host_facts }, reading)
}
