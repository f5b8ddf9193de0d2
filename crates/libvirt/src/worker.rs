//! The worker thread that owns the libvirt connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use tokio::sync::{broadcast, oneshot};
use virt::connect::Connect;
use vmnet_doctor_core::Snapshot;

use crate::error::LibvirtError;
use crate::events::{self, LibvirtEvent, Subscription};
use crate::fixes::{self, DomainXml, FixFailure, FixPreview, FixReport, LibvirtFix};
use crate::guest_worker::GuestWorker;
use crate::power::{self, PowerAction, StopWatch};
use crate::snapshot::take_snapshot;

/// A job for the worker: runs with the connection, answers on its own channel.
type Job = Box<dyn FnOnce(&Connect) + Send>;

/// A handle to an open libvirt connection. Cheap calls are still made on the
/// worker thread, because every libvirt call may block on the daemon.
/// Dropping the last handle closes the connection.
#[derive(Debug)]
pub struct Hypervisor {
    jobs: mpsc::Sender<Job>,
    uri: String,
    /// Fed by libvirt's callbacks on this connection (see [`Self::events`]).
    events: broadcast::Sender<LibvirtEvent>,
    /// Set by libvirt's close callback (see [`Self::is_closed`]).
    closed: Arc<AtomicBool>,
    /// Guest-agent work, beside the jobs above so they never wait on a guest.
    guest: GuestWorker,
}

/// What [`Hypervisor::spawn`] hands back: the worker's inbox, the events'
/// channel, the closed flag and, once open, the canonical URI.
type Spawned = (
    mpsc::Sender<Job>,
    broadcast::Sender<LibvirtEvent>,
    Arc<AtomicBool>,
    oneshot::Receiver<Result<String, LibvirtError>>,
);

/// How often the connection asks the daemon whether it is still there,
/// and how many unanswered asks end it (virsh's defaults): a daemon that
/// hangs or a remote host that vanished is then noticed too, not only one
/// that closes its socket.
const KEEPALIVE_INTERVAL_S: i32 = 5;
const KEEPALIVE_COUNT: u32 = 6;

impl Hypervisor {
    /// Opens `uri` on a new worker thread. Use from async code.
    pub async fn open(uri: &str) -> Result<Self, LibvirtError> {
        let (jobs, events, closed, opened) = Self::spawn(Some(uri))?;
        let uri = opened.await.map_err(|_| LibvirtError::Disconnected)??;
        Ok(Self { guest: GuestWorker::new(&uri), jobs, uri, events, closed })
    }

    /// Opens `uri`, blocking the calling thread (for the command line).
    pub fn open_blocking(uri: &str) -> Result<Self, LibvirtError> {
        Self::open_blocking_with(Some(uri))
    }

    /// Opens libvirt's default connection, as `virsh` without `-c` does
    /// (`LIBVIRT_DEFAULT_URI`, `uri_default` in libvirt.conf, else probing).
    pub fn open_default_blocking() -> Result<Self, LibvirtError> {
        Self::open_blocking_with(None)
    }

    fn open_blocking_with(uri: Option<&str>) -> Result<Self, LibvirtError> {
        let (jobs, events, closed, opened) = Self::spawn(uri)?;
        let uri = opened.blocking_recv().map_err(|_| LibvirtError::Disconnected)??;
        Ok(Self { guest: GuestWorker::new(&uri), jobs, uri, events, closed })
    }

    /// Starts the worker; the receiver yields the canonical URI once open.
    fn spawn(uri: Option<&str>) -> Result<Spawned, LibvirtError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (events, _) = broadcast::channel(events::BUFFER);
        let sink = events.clone();
        let closed = Arc::new(AtomicBool::new(false));
        let closed_flag = Arc::clone(&closed);
        let (opened_tx, opened) = oneshot::channel();
        let requested = uri.map(str::to_owned);
        thread::Builder::new()
            .name("libvirt".into())
            .spawn(move || {
                // libvirt prints every error to stderr by default; we report them ourselves.
                virt::error::clear_error_callback();
                events::ensure_event_loop();
                let conn = match Connect::open(requested.as_deref()) {
                    Ok(conn) => conn,
                    Err(error) => {
                        let shown = requested.as_deref().unwrap_or("(libvirt's default)");
                        let _ = opened_tx.send(Err(LibvirtError::from_open(shown, &error)));
                        return;
                    }
                };
                let canonical = conn.uri().ok().or(requested).unwrap_or_default();
                crate::demo::apply_intended_network_states(&conn, &canonical);
                // Drivers without keepalive (the test driver, local ones)
                // refuse it; their connection cannot go silent anyway.
                let _ = conn.set_keep_alive(KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT);
                // Before the first snapshot, so no change after it is missed.
                let subscription = Subscription::start(&conn, &sink, &closed_flag);
                drop(sink);
                if opened_tx.send(Ok(canonical)).is_ok() {
                    // Runs until every handle is dropped.
                    for job in inbox {
                        job(&conn);
                    }
                }
                subscription.end(&conn);
                drop(conn);
            })
            .map_err(|error| LibvirtError::Other { detail: error.to_string() })?;
        Ok((jobs, events, closed, opened))
    }

    /// The URI libvirt reports for this connection (e.g. `qemu:///system`).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Whether libvirt said the connection broke (its close callback ran):
    /// every call on it fails from then on; open a new one.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// libvirt's events on this connection from now on: VM lifecycle
    /// (including persistent configuration changes), hot-plugged devices,
    /// the guest agent, virtual networks, and last
    /// [`crate::EventKind::ConnectionClosed`] if the connection breaks. The
    /// channel closes when the `Hypervisor` is dropped.
    pub fn events(&self) -> broadcast::Receiver<LibvirtEvent> {
        self.events.subscribe()
    }

    /// Runs `call` on the worker thread and waits for its answer.
    fn submit<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Connect) -> Result<T, LibvirtError> + Send + 'static,
    ) -> Result<oneshot::Receiver<Result<T, LibvirtError>>, LibvirtError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                let _ = reply.send(call(conn));
            }))
            .map_err(|_| LibvirtError::Disconnected)?;
        Ok(answer)
    }

    pub(crate) async fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Connect) -> Result<T, LibvirtError> + Send + 'static,
    ) -> Result<T, LibvirtError> {
        self.submit(call)?.await.map_err(|_| LibvirtError::Disconnected)?
    }

    pub(crate) fn call_blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Connect) -> Result<T, LibvirtError> + Send + 'static,
    ) -> Result<T, LibvirtError> {
        self.submit(call)?.blocking_recv().map_err(|_| LibvirtError::Disconnected)?
    }

    /// Queues guest-agent work on the guest worker. On the test driver,
    /// whose every connection is a separate copy of the host (and has no
    /// agents), on the main worker.
    fn submit_guest<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Connect) -> Result<T, LibvirtError> + Send + 'static,
    ) -> Result<oneshot::Receiver<Result<T, LibvirtError>>, LibvirtError> {
        if self.uri.starts_with("test:") { self.submit(call) } else { self.guest.submit(call) }
    }

    pub(crate) async fn call_guest<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Connect) -> Result<T, LibvirtError> + Send + 'static,
    ) -> Result<T, LibvirtError> {
        self.submit_guest(call)?.await.map_err(|_| LibvirtError::Disconnected)?
    }

    pub(crate) fn call_guest_blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Connect) -> Result<T, LibvirtError> + Send + 'static,
    ) -> Result<T, LibvirtError> {
        self.submit_guest(call)?.blocking_recv().map_err(|_| LibvirtError::Disconnected)?
    }

    /// Every VM and virtual network of the connection, as they are now.
    pub async fn snapshot(&self) -> Result<Snapshot, LibvirtError> {
        self.call(take_snapshot).await
    }

    /// [`Self::snapshot`], blocking the calling thread.
    pub fn snapshot_blocking(&self) -> Result<Snapshot, LibvirtError> {
        self.call_blocking(take_snapshot)
    }

    /// What `fix` would do now: the libvirt calls and the XML before and
    /// after. Changes nothing.
    pub async fn preview_fix(&self, fix: LibvirtFix) -> Result<FixPreview, LibvirtError> {
        if fix.is_in_guest() {
            self.call_guest(move |conn| fixes::preview(conn, &fix)).await
        } else {
            self.call(move |conn| fixes::preview(conn, &fix)).await
        }
    }

    /// [`Self::preview_fix`], blocking the calling thread.
    pub fn preview_fix_blocking(&self, fix: LibvirtFix) -> Result<FixPreview, LibvirtError> {
        if fix.is_in_guest() {
            self.call_guest_blocking(move |conn| fixes::preview(conn, &fix))
        } else {
            self.call_blocking(move |conn| fixes::preview(conn, &fix))
        }
    }

    /// Applies `fix` as planned from the current state (see
    /// [`Self::preview_fix`]).
    pub async fn apply_fix(&self, fix: LibvirtFix) -> Result<FixReport, Box<FixFailure>> {
        let answer = if fix.is_in_guest() {
            self.call_guest(move |conn| Ok(fixes::apply(conn, &fix))).await
        } else {
            self.call(move |conn| Ok(fixes::apply(conn, &fix))).await
        };
        match answer {
            Ok(result) => result,
            Err(error) => Err(FixFailure::before_any_step(error)),
        }
    }

    /// [`Self::apply_fix`], blocking the calling thread.
    pub fn apply_fix_blocking(&self, fix: LibvirtFix) -> Result<FixReport, Box<FixFailure>> {
        let answer = if fix.is_in_guest() {
            self.call_guest_blocking(move |conn| Ok(fixes::apply(conn, &fix)))
        } else {
            self.call_blocking(move |conn| Ok(fixes::apply(conn, &fix)))
        };
        match answer {
            Ok(result) => result,
            Err(error) => Err(FixFailure::before_any_step(error)),
        }
    }

    /// A VM's XML as `virsh dumpxml [--inactive]` prints it.
    pub async fn domain_xml(&self, vm: &str, which: DomainXml) -> Result<String, LibvirtError> {
        let vm = vm.to_owned();
        self.call(move |conn| fixes::domain_xml(conn, &vm, which)).await
    }

    /// [`Self::domain_xml`], blocking the calling thread.
    pub fn domain_xml_blocking(&self, vm: &str, which: DomainXml) -> Result<String, LibvirtError> {
        let vm = vm.to_owned();
        self.call_blocking(move |conn| fixes::domain_xml(conn, &vm, which))
    }

    /// Shuts `vm` down gracefully, forces it off or starts it (see
    /// [`PowerAction`]). A shutdown returns once the guest was asked.
    pub async fn power(&self, vm: &str, action: PowerAction) -> Result<(), LibvirtError> {
        let vm = vm.to_owned();
        self.call(move |conn| power::run(conn, &vm, action)).await
    }

    /// [`Self::power`], blocking the calling thread.
    pub fn power_blocking(&self, vm: &str, action: PowerAction) -> Result<(), LibvirtError> {
        let vm = vm.to_owned();
        self.call_blocking(move |conn| power::run(conn, &vm, action))
    }

    /// Whether `vm` is running (or paused) now.
    pub async fn is_running(&self, vm: &str) -> Result<bool, LibvirtError> {
        let vm = vm.to_owned();
        self.call(move |conn| power::is_running(conn, &vm)).await
    }

    /// [`Self::is_running`], blocking the calling thread.
    pub fn is_running_blocking(&self, vm: &str) -> Result<bool, LibvirtError> {
        let vm = vm.to_owned();
        self.call_blocking(move |conn| power::is_running(conn, &vm))
    }

    /// Starts watching `vm`'s lifecycle; take it before asking for a
    /// shutdown, then wait with [`Self::wait_until_stopped`].
    pub fn watch_for_stop(&self, vm: &str) -> StopWatch {
        StopWatch { vm: vm.to_owned(), events: self.events.subscribe() }
    }

    /// Returns once libvirt says the watched VM is shut off: at once when it
    /// already is, else at its "stopped" event. No timeout: wrap it in one.
    pub async fn wait_until_stopped(&self, watch: &mut StopWatch) -> Result<(), LibvirtError> {
        // The state is asked after subscribing, so a stop in between is
        // still seen as an event.
        while self.is_running(&watch.vm).await? {
            watch.next().await?;
        }
        Ok(())
    }
}
