//! libvirt's close callback, which the `virt` crate does not wrap:
//! `virConnectRegisterCloseCallback` and its removal, called through
//! `virt::sys`. libvirt calls it once when the connection breaks (the
//! daemon restarted or died, the keepalive timed out, a socket error).
//!
//! Ownership: the registration leaks a boxed [`CloseSink`] to libvirt as its
//! `opaque`; libvirt calls [`free_close_sink`] once, after the callback has
//! run or when the callback is removed, never while it runs (both happen
//! under the same lock). Drivers without close callbacks (the test driver)
//! accept the registration and never free it: the sink then holds only a
//! weak sender, so it keeps no channel open.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::broadcast;
use virt::connect::Connect;
use virt::sys::{virConnectPtr, virConnectRegisterCloseCallback, virConnectUnregisterCloseCallback};

use super::{CloseReason, EventKind, LibvirtEvent};

/// Where the close callback delivers.
#[derive(Debug)]
pub(crate) struct CloseSink {
    /// Weak: a driver that never frees the sink must not keep the channel open.
    events: broadcast::WeakSender<LibvirtEvent>,
    /// Set before the event is sent, so a call that failed because of the
    /// close can already see it.
    closed: Arc<AtomicBool>,
}

/// The close callback registered on one connection; removed by [`Self::remove`].
#[derive(Debug)]
pub(crate) struct CloseRegistration(());

/// Registers the close callback on `conn`; `None` when libvirt refuses it.
pub(crate) fn register(
    conn: &Connect,
    events: &broadcast::Sender<LibvirtEvent>,
    closed: &Arc<AtomicBool>,
) -> Option<CloseRegistration> {
    let sink = CloseSink { events: events.downgrade(), closed: Arc::clone(closed) };
    let opaque = Box::into_raw(Box::new(sink)).cast::<c_void>();
    // SAFETY: `conn` is open and borrowed for the call; `connection_closed`
    // has virConnectCloseFunc's signature; `opaque` is a live Box<CloseSink>,
    // released by `free_close_sink`, written for it.
    let result = unsafe {
        virConnectRegisterCloseCallback(conn.as_ptr(), Some(connection_closed), opaque, Some(free_close_sink))
    };
    if result < 0 {
        // SAFETY: the registration failed: libvirt kept neither `opaque`
        // nor the free function, so the box is ours alone.
        drop(unsafe { Box::from_raw(opaque.cast::<CloseSink>()) });
        return None;
    }
    Some(CloseRegistration(()))
}

impl CloseRegistration {
    /// Removes the callback before the connection is closed (closing it
    /// ourselves must not look like a lost connection). After the callback
    /// has run libvirt has already dropped it and this fails harmlessly.
    pub(crate) fn remove(self, conn: &Connect) {
        // SAFETY: `conn` is open and borrowed for the call and is the
        // connection the callback was registered on; libvirt frees the sink
        // through `free_close_sink` if it still holds it, else refuses.
        unsafe {
            virConnectUnregisterCloseCallback(conn.as_ptr(), Some(connection_closed));
        }
    }
}

/// libvirt's `freecb` for the close callback.
unsafe extern "C" fn free_close_sink(opaque: *mut c_void) {
    // SAFETY: `opaque` is the Box<CloseSink> made in `register`; libvirt
    // calls this once and never uses `opaque` after.
    drop(unsafe { Box::from_raw(opaque.cast::<CloseSink>()) });
}

unsafe extern "C" fn connection_closed(_conn: virConnectPtr, reason: c_int, opaque: *mut c_void) {
    // SAFETY: libvirt passes the registration's opaque, a live CloseSink,
    // freed only after this call returns. It is only read (it is Sync).
    let sink = unsafe { &*opaque.cast::<CloseSink>() };
    sink.closed.store(true, Ordering::SeqCst);
    if let Some(events) = sink.events.upgrade() {
        // No subscriber is fine: nobody is watching.
        let _ = events.send(LibvirtEvent {
            kind: EventKind::ConnectionClosed(CloseReason::from_libvirt(reason)),
            name: String::new(),
            received: Instant::now(),
        });
    }
}
