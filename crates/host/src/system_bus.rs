//! One system-bus connection for the process's life (issue #20 item 6).
//!
//! Every refresh reads firewalld's zones and, inside the Flatpak sandbox or
//! without root, asks the helper. Building a tokio runtime and a new bus
//! connection (authentication, `Hello`) for each of those made every
//! refresh pay for them. Here one connection lives on a small runtime of
//! its own, on its own thread, so the blocking readers (called from the
//! app's blocking pool and from the command line alike) share it. A call
//! that finds the connection broken (the bus restarted) drops it; the next
//! one connects again. The helper restarting needs nothing: calls go to
//! its well-known name, whoever owns it now.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use tokio::runtime::{Builder, Handle};
use tokio::sync::{Mutex, oneshot};

/// The runtime's handle and the connection, once made.
struct SharedBus {
    runtime: Handle,
    connection: Mutex<Option<zbus::Connection>>,
}

static SHARED: OnceLock<Result<SharedBus, String>> = OnceLock::new();

fn shared() -> Result<&'static SharedBus, String> {
    SHARED.get_or_init(start).as_ref().map_err(Clone::clone)
}

/// Starts the runtime thread; it runs until the process ends.
fn start() -> Result<SharedBus, String> {
    let runtime = Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start a runtime for the system bus: {error}"))?;
    let handle = runtime.handle().clone();
    thread::Builder::new()
        .name("system-bus".into())
        // The connection's own tasks (reading its socket) run here.
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(|error| format!("cannot start a thread for the system bus: {error}"))?;
    Ok(SharedBus { runtime: handle, connection: Mutex::new(None) })
}

/// Why a call failed, and whether the connection itself is broken.
#[derive(Debug)]
pub struct BusError {
    pub message: String,
    pub broken: bool,
}

impl BusError {
    /// A failed call: the connection is broken when the failure was its
    /// socket's (I/O), not the peer's answer.
    pub fn from_zbus(message: String, error: &zbus::Error) -> Self {
        Self { message, broken: matches!(error, zbus::Error::InputOutput(_)) }
    }

    pub fn answer(message: String) -> Self {
        Self { message, broken: false }
    }
}

/// Runs `call` with the shared connection (made on first use, with
/// `method_timeout` for its calls), allowing `limit` for all of it.
/// Blocking: not for a tokio task's thread.
pub fn call<T, F>(
    limit: Duration,
    method_timeout: Duration,
    call: impl FnOnce(zbus::Connection) -> F + Send + 'static,
) -> Result<T, String>
where
    T: Send + 'static,
    F: Future<Output = Result<T, BusError>> + Send + 'static,
{
    let bus = shared()?;
    let (reply, answer) = oneshot::channel();
    bus.runtime.spawn(async move {
        let result = match tokio::time::timeout(limit, with_connection(bus, method_timeout, call)).await {
            Ok(result) => result,
            Err(_) => Err(format!("the system bus did not answer within {} s", limit.as_secs())),
        };
        let _ = reply.send(result);
    });
    answer.blocking_recv().map_err(|_| "the system bus's thread has ended".to_owned())?
}

async fn with_connection<T, F>(
    bus: &SharedBus,
    method_timeout: Duration,
    call: impl FnOnce(zbus::Connection) -> F,
) -> Result<T, String>
where
    F: Future<Output = Result<T, BusError>>,
{
    let connection = {
        let mut slot = bus.connection.lock().await;
        match slot.as_ref() {
            Some(connection) => connection.clone(),
            None => {
                let connection = zbus::connection::Builder::system()
                    .method_timeout(method_timeout)
                    .build()
                    .await
                    .map_err(|error| format!("no system bus: {error}"))?;
                CONNECTIONS.fetch_add(1, Ordering::Relaxed);
                slot.replace(connection.clone());
                connection
            }
        }
    };
    match call(connection).await {
        Ok(value) => Ok(value),
        Err(error) => {
            if error.broken {
                bus.connection.lock().await.take();
            }
            Err(error.message)
        }
    }
}

/// How many connections this process has made to the system bus (for
/// tests: a second refresh must not make another).
pub fn connections_made() -> usize {
    CONNECTIONS.load(Ordering::Relaxed)
}

static CONNECTIONS: AtomicUsize = AtomicUsize::new(0);
