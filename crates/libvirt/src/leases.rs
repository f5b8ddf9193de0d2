//! A virtual network's DHCP leases (`virsh net-dhcp-leases`).
//!
//! The `virt` crate has no wrapper for `virNetworkGetDHCPLeases`, so this
//! calls it through `virt::sys`, freeing what libvirt allocates exactly as
//! its documentation says: each lease with `virNetworkDHCPLeaseFree`, then
//! the array with `free`.

use std::ffi::{CStr, c_char};
use std::net::IpAddr;
use std::ptr;

use virt::error::{Error, ErrorNumber};
use virt::network::Network;
use virt::sys;
use vmnet_doctor_core::{DhcpLease, Fact};

/// The network's current leases, or why libvirt could not give them.
pub(crate) fn network_leases(network: &Network) -> Fact<Vec<DhcpLease>> {
    let mut array: *mut sys::virNetworkDHCPLeasePtr = ptr::null_mut();
    // SAFETY: the network pointer is valid while `network` lives; libvirt
    // fills `array` with `count` leases that we own from here on.
    #[allow(unsafe_code)]
    let count = unsafe { sys::virNetworkGetDHCPLeases(network.as_ptr(), ptr::null(), &mut array, 0) };
    let Ok(count) = usize::try_from(count) else {
        return Fact::Unknown(failure_reason(&Error::last_error()));
    };
    let mut leases = Vec::with_capacity(count);
    if array.is_null() {
        return Fact::Known(leases);
    }
    for index in 0..count {
        // SAFETY: `index < count`, the array holds `count` lease pointers;
        // each is read once, then freed once and never touched again.
        #[allow(unsafe_code)]
        unsafe {
            let lease = *array.add(index);
            if !lease.is_null() {
                if let Some(read) = read_lease(&*lease) {
                    leases.push(read);
                }
                sys::virNetworkDHCPLeaseFree(lease);
            }
        }
    }
    // SAFETY: libvirt allocated the array with malloc; its elements are freed.
    #[allow(unsafe_code)]
    unsafe {
        libc::free(array.cast());
    }
    leases.sort_by_key(|lease| lease.ip);
    Fact::Known(leases)
}

/// One lease; `None` when its address is not an IP address.
fn read_lease(lease: &sys::virNetworkDHCPLease) -> Option<DhcpLease> {
    let ip: IpAddr = text(lease.ipaddr)?.parse().ok()?;
    Some(DhcpLease {
        mac: text(lease.mac).map(|mac| mac.to_ascii_lowercase()),
        ip,
        prefix: u8::try_from(lease.prefix).unwrap_or(if ip.is_ipv4() { 32 } else { 128 }),
        hostname: text(lease.hostname),
        client_id: text(lease.clientid),
        // libvirt writes 0 for a lease without an end.
        expiry: (lease.expirytime > 0).then_some(lease.expirytime),
    })
}

/// A string field of a lease; `None` when null or empty.
fn text(field: *mut c_char) -> Option<String> {
    if field.is_null() {
        return None;
    }
    // SAFETY: libvirt's lease strings are NUL-terminated and live until the
    // lease is freed, which happens after this copy.
    #[allow(unsafe_code)]
    let value = unsafe { CStr::from_ptr(field) }.to_string_lossy().into_owned();
    (!value.is_empty()).then_some(value)
}

/// Why the leases are unknown, plainly: drivers without leases (the test
/// driver) say "not supported", which is not an error of the host.
fn failure_reason(error: &Error) -> String {
    if error.code().is(ErrorNumber::NoSupport) {
        "this libvirt driver does not report DHCP leases".to_owned()
    } else {
        error.message().to_owned()
    }
}
