//! A second libvirt connection, on its own thread, for guest-agent work.
//!
//! A guest checklist runs programs in the guest for seconds or minutes,
//! and inspecting a guest or fixing something inside it waits on the
//! guest's agent. On the main worker, each event's snapshot and every fix
//! of a VM or network would queue behind that (issue #20: the UI never
//! waits on a guest). The connection opens on the first job, opens again
//! after the daemon dropped it, and closes when the `Hypervisor` goes.

use std::sync::{Mutex, mpsc};
use std::thread;

use tokio::sync::oneshot;
use virt::connect::Connect;

use crate::error::LibvirtError;

/// A job for the guest worker: runs with its connection, or with the
/// reason it could not be opened.
type GuestJob = Box<dyn FnOnce(Result<&Connect, LibvirtError>) + Send>;

#[derive(Debug)]
pub(crate) struct GuestWorker {
    uri: String,
    /// Started with the first job; `None` again if its thread could not start.
    jobs: Mutex<Option<mpsc::Sender<GuestJob>>>,
}

impl GuestWorker {
    pub(crate) fn new(uri: &str) -> Self {
        Self { uri: uri.to_owned(), jobs: Mutex::new(None) }
    }

    /// Queues `call` on the guest worker; the receiver has its answer.
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Connect) -> Result<T, LibvirtError> + Send + 'static,
    ) -> Result<oneshot::Receiver<Result<T, LibvirtError>>, LibvirtError> {
        let (reply, answer) = oneshot::channel();
        let job: GuestJob = Box::new(move |conn| {
            let _ = reply.send(conn.and_then(call));
        });
        self.sender()?.send(job).map_err(|_| LibvirtError::Disconnected)?;
        Ok(answer)
    }

    fn sender(&self) -> Result<mpsc::Sender<GuestJob>, LibvirtError> {
        let mut jobs = self.jobs.lock().map_err(|_| LibvirtError::Disconnected)?;
        if let Some(jobs) = jobs.as_ref() {
            return Ok(jobs.clone());
        }
        let (sender, inbox) = mpsc::channel::<GuestJob>();
        let uri = self.uri.clone();
        thread::Builder::new()
            .name("libvirt-guest".into())
            .spawn(move || serve(&uri, &inbox))
            .map_err(|error| LibvirtError::Other { detail: error.to_string() })?;
        *jobs = Some(sender.clone());
        Ok(sender)
    }
}

/// Runs jobs until every sender is gone (the `Hypervisor` was dropped).
fn serve(uri: &str, inbox: &mpsc::Receiver<GuestJob>) {
    let mut open: Option<Connect> = None;
    for job in inbox {
        // A daemon restart leaves a dead connection: the next job reopens.
        if open.as_ref().is_some_and(|conn| !conn.is_alive().unwrap_or(false)) {
            open = None;
        }
        if open.is_none() {
            match Connect::open(Some(uri)) {
                Ok(conn) => open = Some(conn),
                Err(error) => {
                    job(Err(LibvirtError::from_open(uri, &error)));
                    continue;
                }
            }
        }
        match open.as_ref() {
            Some(conn) => job(Ok(conn)),
            None => job(Err(LibvirtError::Disconnected)),
        }
    }
}
