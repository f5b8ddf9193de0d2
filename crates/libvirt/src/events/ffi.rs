//! libvirt's event registration, which the `virt` crate does not wrap:
//! `virConnectDomainEventRegisterAny`, `virConnectNetworkEventRegisterAny`
//! and their deregistration, called through `virt::sys`.
//!
//! Ownership: each registration leaks a boxed [`Sink`] to libvirt as its
//! `opaque`; libvirt hands it to the callbacks and calls [`free_sink`]
//! exactly once, after deregistration and after any callback still running
//! (it only marks a callback deleted while dispatching). A registration
//! that fails is not kept by libvirt (its error paths skip `freecb`), so
//! the box comes back to us.
//!
//! Callbacks run on the event-loop thread and only copy names out of the
//! objects libvirt lends them for the call.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;

use virt::connect::Connect;
use virt::sys::{
    virConnectDomainEventDeregisterAny, virConnectDomainEventRegisterAny,
    virConnectNetworkEventDeregisterAny, virConnectNetworkEventRegisterAny, virConnectPtr, virDomainGetName,
    virDomainPtr, virNetworkGetName, virNetworkPtr,
};

use super::{EventKind, Sink};

/// The events the UI follows. Each one names libvirt's event ID and the
/// one callback of this module written for that ID's signature.
#[derive(Debug, Clone, Copy)]
pub(super) enum Event {
    DomainLifecycle,
    DeviceAdded,
    DeviceRemoved,
    AgentLifecycle,
    NetworkLifecycle,
}

pub(super) const EVENTS: [Event; 5] = [
    Event::DomainLifecycle,
    Event::DeviceAdded,
    Event::DeviceRemoved,
    Event::AgentLifecycle,
    Event::NetworkLifecycle,
];

/// One registered callback: what it was registered as, and libvirt's id.
#[derive(Debug)]
pub(super) struct Registration {
    network: bool,
    id: c_int,
}

// The callbacks' true signatures (libvirt-domain.h, libvirt-network.h).
type DomainLifecycle = unsafe extern "C" fn(virConnectPtr, virDomainPtr, c_int, c_int, *mut c_void) -> c_int;
type DomainDevice = unsafe extern "C" fn(virConnectPtr, virDomainPtr, *const c_char, *mut c_void);
type AgentLifecycle = unsafe extern "C" fn(virConnectPtr, virDomainPtr, c_int, c_int, *mut c_void);
type NetworkLifecycle = unsafe extern "C" fn(virConnectPtr, virNetworkPtr, c_int, c_int, *mut c_void);
// The generic types the registration functions take.
type DomainGeneric = unsafe extern "C" fn(virConnectPtr, virDomainPtr, *mut c_void);
type NetworkGeneric = unsafe extern "C" fn(virConnectPtr, virNetworkPtr, *mut c_void);

/// Registers `event` on `conn`, delivering to a copy of `sink`; `None`
/// when the driver refuses it (e.g. it has no network events).
pub(super) fn register(conn: &Connect, event: Event, sink: &Sink) -> Option<Registration> {
    let opaque = Box::into_raw(Box::new(sink.clone())).cast::<c_void>();
    // Each transmute below turns a callback into the generic type the
    // registration takes; libvirt casts it back to the type of the event ID
    // it is registered with before calling it (VIR_DOMAIN_EVENT_CALLBACK in
    // libvirt-domain.h, VIR_NETWORK_EVENT_CALLBACK in libvirt-network.h).
    let registered = match event {
        Event::DomainLifecycle => {
            // SAFETY: fn pointer to fn pointer; `domain_lifecycle` has the
            // type of VIR_DOMAIN_EVENT_ID_LIFECYCLE's callback.
            let callback = unsafe { std::mem::transmute::<DomainLifecycle, DomainGeneric>(domain_lifecycle) };
            // SAFETY: the callback matches the ID; `opaque` is a Box<Sink>.
            unsafe { register_domain(conn, virt::sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE, callback, opaque) }
        }
        Event::DeviceAdded => {
            // SAFETY: fn pointer to fn pointer; `device_added` has the type
            // of VIR_DOMAIN_EVENT_ID_DEVICE_ADDED's callback.
            let callback = unsafe { std::mem::transmute::<DomainDevice, DomainGeneric>(device_added) };
            // SAFETY: the callback matches the ID; `opaque` is a Box<Sink>.
            unsafe { register_domain(conn, virt::sys::VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, callback, opaque) }
        }
        Event::DeviceRemoved => {
            // SAFETY: fn pointer to fn pointer; `device_removed` has the
            // type of VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED's callback.
            let callback = unsafe { std::mem::transmute::<DomainDevice, DomainGeneric>(device_removed) };
            // SAFETY: the callback matches the ID; `opaque` is a Box<Sink>.
            unsafe { register_domain(conn, virt::sys::VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, callback, opaque) }
        }
        Event::AgentLifecycle => {
            // SAFETY: fn pointer to fn pointer; `agent_lifecycle` has the
            // type of VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE's callback.
            let callback = unsafe { std::mem::transmute::<AgentLifecycle, DomainGeneric>(agent_lifecycle) };
            // SAFETY: the callback matches the ID; `opaque` is a Box<Sink>.
            unsafe { register_domain(conn, virt::sys::VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, callback, opaque) }
        }
        Event::NetworkLifecycle => {
            // SAFETY: fn pointer to fn pointer; `network_lifecycle` has the
            // type of VIR_NETWORK_EVENT_ID_LIFECYCLE's callback.
            let callback =
                unsafe { std::mem::transmute::<NetworkLifecycle, NetworkGeneric>(network_lifecycle) };
            let id = virt::sys::VIR_NETWORK_EVENT_ID_LIFECYCLE as c_int;
            // SAFETY: `conn` is open and borrowed for the call; a null
            // network means every network; the callback matches the ID;
            // `opaque` is a live Box<Sink>, released by `free_sink`.
            let id = unsafe {
                virConnectNetworkEventRegisterAny(
                    conn.as_ptr(),
                    ptr::null_mut(),
                    id,
                    Some(callback),
                    opaque,
                    Some(free_sink),
                )
            };
            (id >= 0).then_some(Registration { network: true, id })
        }
    };
    if registered.is_none() {
        // SAFETY: the registration failed, and libvirt's failure paths
        // neither call `freecb` nor keep `opaque`: the box is ours alone.
        drop(unsafe { Box::from_raw(opaque.cast::<Sink>()) });
    }
    registered
}

/// # Safety
/// `callback` has the signature libvirt uses for event `id`, and `opaque`
/// is a `Box<Sink>` leaked for this registration.
unsafe fn register_domain(
    conn: &Connect,
    id: virt::sys::virDomainEventID,
    callback: DomainGeneric,
    opaque: *mut c_void,
) -> Option<Registration> {
    // SAFETY: `conn` is open and borrowed for the call; a null domain means
    // every domain; the caller pairs `callback` with `id` and hands over
    // `opaque`, which libvirt releases with `free_sink`, written for it.
    let id = unsafe {
        virConnectDomainEventRegisterAny(
            conn.as_ptr(),
            ptr::null_mut(),
            id as c_int,
            Some(callback),
            opaque,
            Some(free_sink),
        )
    };
    (id >= 0).then_some(Registration { network: false, id })
}

impl Registration {
    /// Removes the registration; libvirt then calls `free_sink` for it.
    /// Taking `self` keeps an id from being removed twice.
    pub(super) fn remove(self, conn: &Connect) {
        // SAFETY: `conn` is open and borrowed for the call, and is the
        // connection the id was registered on; `self` is consumed, so each
        // id is removed once. If this fails (a broken connection) the sink
        // is leaked, never freed twice.
        unsafe {
            if self.network {
                virConnectNetworkEventDeregisterAny(conn.as_ptr(), self.id);
            } else {
                virConnectDomainEventDeregisterAny(conn.as_ptr(), self.id);
            }
        }
    }
}

/// libvirt's `freecb`: takes back the Box leaked in [`register`].
unsafe extern "C" fn free_sink(opaque: *mut c_void) {
    // SAFETY: `opaque` is the Box<Sink> made in `register`; libvirt calls
    // this once per successful registration and never uses `opaque` after.
    drop(unsafe { Box::from_raw(opaque.cast::<Sink>()) });
}

unsafe extern "C" fn domain_lifecycle(
    _conn: virConnectPtr,
    domain: virDomainPtr,
    event: c_int,
    _detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    // SAFETY: libvirt passes the registration's opaque (a live Sink, freed
    // only after the last callback) and a domain it holds for this call.
    let (sink, name) = unsafe { (sink(opaque), domain_name(domain)) };
    sink.deliver(EventKind::domain_lifecycle(event), name);
    0
}

unsafe extern "C" fn device_added(
    _conn: virConnectPtr,
    domain: virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: as in `domain_lifecycle`; `alias` is libvirt's C string for the call.
    let (sink, name, alias) = unsafe { (sink(opaque), domain_name(domain), text(alias)) };
    sink.deliver(EventKind::DeviceAdded { alias }, name);
}

unsafe extern "C" fn device_removed(
    _conn: virConnectPtr,
    domain: virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: as in `device_added`.
    let (sink, name, alias) = unsafe { (sink(opaque), domain_name(domain), text(alias)) };
    sink.deliver(EventKind::DeviceRemoved { alias }, name);
}

unsafe extern "C" fn agent_lifecycle(
    _conn: virConnectPtr,
    domain: virDomainPtr,
    state: c_int,
    _reason: c_int,
    opaque: *mut c_void,
) {
    // SAFETY: as in `domain_lifecycle`.
    let (sink, name) = unsafe { (sink(opaque), domain_name(domain)) };
    sink.deliver(EventKind::agent(state), name);
}

unsafe extern "C" fn network_lifecycle(
    _conn: virConnectPtr,
    network: virNetworkPtr,
    event: c_int,
    _detail: c_int,
    opaque: *mut c_void,
) {
    // SAFETY: as in `domain_lifecycle`, for a network.
    let (sink, name) = unsafe { (sink(opaque), network_name(network)) };
    sink.deliver(EventKind::network_lifecycle(event), name);
}

/// # Safety
/// `opaque` is a registration's opaque, not yet freed by `free_sink`.
unsafe fn sink<'a>(opaque: *mut c_void) -> &'a Sink {
    // SAFETY: the caller's promise; Sink is only read (it is Sync).
    unsafe { &*opaque.cast::<Sink>() }
}

/// # Safety
/// `domain` is a domain libvirt passed to a callback, valid for the call.
unsafe fn domain_name(domain: virDomainPtr) -> String {
    // SAFETY: the caller's promise; the name lives as long as the domain.
    unsafe { text(virDomainGetName(domain)) }
}

/// # Safety
/// `network` is a network libvirt passed to a callback, valid for the call.
unsafe fn network_name(network: virNetworkPtr) -> String {
    // SAFETY: the caller's promise; the name lives as long as the network.
    unsafe { text(virNetworkGetName(network)) }
}

/// # Safety
/// `text` is null or a NUL-terminated string valid for the call.
unsafe fn text(text: *const c_char) -> String {
    if text.is_null() {
        return String::new();
    }
    // SAFETY: the caller's promise, and not null.
    unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned()
}
