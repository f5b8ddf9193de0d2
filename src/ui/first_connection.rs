//! The first connection is opened and read while the window is built.
//!
//! Start-up is two long waits: libadwaita, the resources and the window on
//! the main thread, and libvirt (connecting, then every VM and network) on
//! the worker. One after the other they add up; begun together in `main`
//! (right after `gtk::init`, see there), the shorter one hides inside the
//! longer. The window takes the answer when it connects to the same URI,
//! and otherwise drops it, which closes that connection.

use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, oneshot};
use vmnet_doctor_core::Snapshot;
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError, LibvirtEvent};

/// A connection's handle, its events since just before the first
/// snapshot, and that snapshot: what opening a connection gives the window.
pub type OpenedConnection = (Arc<Hypervisor>, broadcast::Receiver<LibvirtEvent>, Snapshot);

type Answer = Result<OpenedConnection, LibvirtError>;

static FIRST: Mutex<Option<(String, oneshot::Receiver<Answer>)>> = Mutex::new(None);

/// Opens `uri` and takes its first snapshot on a thread of its own.
pub fn start(uri: String) {
    let (answer, receiver) = oneshot::channel();
    let opening = uri.clone();
    let spawned = std::thread::Builder::new().name("first-connection".into()).spawn(move || {
        // The window may have moved on; then nobody listens, which is fine.
        let _ = answer.send(open_and_read(&opening));
    });
    // Without the thread the window simply connects as for any other URI.
    if spawned.is_err() {
        return;
    }
    if let Ok(mut first) = FIRST.lock() {
        *first = Some((uri, receiver));
    }
}

/// The answer for `uri`, when [`start`] was asked for that URI. Called
/// once: whatever was started is forgotten afterwards.
pub fn take(uri: &str) -> Option<oneshot::Receiver<Answer>> {
    let started = FIRST.lock().ok()?.take()?;
    (started.0 == uri).then_some(started.1)
}

/// Opens `uri` and reads it, as the window does for every connection it
/// opens (and reopens): events are subscribed before the first snapshot,
/// so that no change after it is missed.
pub async fn open(uri: &str) -> Answer {
    let hypervisor = Hypervisor::open(uri).await?;
    let events = hypervisor.events();
    let snapshot = crate::probe::with_host_facts(hypervisor.snapshot().await?).await;
    Ok((Arc::new(hypervisor), events, snapshot))
}

/// [`open`] for the start-up thread, blocking it.
fn open_and_read(uri: &str) -> Answer {
    let hypervisor = Hypervisor::open_blocking(uri)?;
    let events = hypervisor.events();
    let mut snapshot = hypervisor.snapshot_blocking()?;
    crate::probe::attach_host_facts(&mut snapshot);
    Ok((Arc::new(hypervisor), events, snapshot))
}
