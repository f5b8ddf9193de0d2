//! The demo hypervisor (`data/demo/demo-hypervisor.xml`) is a libvirt test
//! driver file. The test driver loads every network active and not
//! autostarted, so each network there says in its `<metadata>` what it
//! should be, and this applies it right after opening — through libvirt's
//! own API, as a user's `virsh net-destroy` / `net-autostart` would.

use virt::connect::Connect;
use virt::network::Network;
use vmnet_doctor_core::xml::Element;

/// The namespace of `<demo:state active='yes|no' autostart='yes|no'/>`.
pub const DEMO_NAMESPACE: &str = "https://vmnetdoctor.github.io/xmlns/demo/1.0";

/// Applies the intended network states; a no-op on anything but a test
/// driver file that carries them.
pub(crate) fn apply_intended_network_states(conn: &Connect, uri: &str) {
    if !uri.starts_with("test://") {
        return;
    }
    let Ok(networks) = conn.list_all_networks(0) else { return };
    for network in networks {
        if let Some((active, autostart)) = intended_state(&network) {
            // The test driver accepts both calls; a failure leaves the
            // network as loaded, which the snapshot then shows truthfully.
            if !active && network.is_active().unwrap_or(false) {
                let _ = network.destroy();
            }
            let _ = network.set_autostart(autostart);
        }
    }
}

fn intended_state(network: &Network) -> Option<(bool, bool)> {
    let xml = network.xml_desc(0).ok()?;
    let root = Element::parse(&xml).ok()?;
    let state = metadata(&root, "state")?;
    let yes = |name: &str| state.attr(name) == Some("yes");
    Some((yes("active"), yes("autostart")))
}

/// The demo's own element `local_name` in the `<metadata>` of a network's
/// or a domain's XML `root`.
pub(crate) fn metadata<'a>(root: &'a Element, local_name: &str) -> Option<&'a Element> {
    root.child("metadata")?.children.iter().find(|child| {
        child.local_name() == local_name
            && child
                .attributes
                .iter()
                .any(|(name, value)| name.starts_with("xmlns") && value == DEMO_NAMESPACE)
    })
}

/// The host file of a test driver URI made by [`test_driver_uri`];
/// `None` for any other URI (`test:///default` has no file).
pub(crate) fn node_file(uri: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt as _;
    let encoded = uri.strip_prefix("test://")?;
    if !encoded.starts_with('/') || encoded == "/default" {
        return None;
    }
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = tail.get(2..)?;
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    Some(std::path::PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

/// The test driver's URI for the host file at `path`
/// (`test:///abs/path/host.xml`). libvirt parses URIs with libxml2, which
/// refuses a space or a `#` in a path and unescapes `%XX`: every byte but
/// RFC 3986's unreserved ones and `/` is percent-encoded (a checkout or
/// prefix like `/home/ann/VM tools/` must still open).
pub fn test_driver_uri(path: &std::path::Path) -> String {
    use std::fmt::Write as _;
    use std::os::unix::ffi::OsStrExt as _;
    let mut uri = String::from("test://");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::{node_file, test_driver_uri};
    use std::path::Path;

    #[test]
    fn test_driver_uris_escape_what_libvirt_cannot_parse() {
        assert_eq!(test_driver_uri(Path::new("/usr/share/x/demo.xml")), "test:///usr/share/x/demo.xml");
        assert_eq!(
            test_driver_uri(Path::new("/home/ann/VM tools/#1/ünï.xml")),
            "test:///home/ann/VM%20tools/%231/%C3%BCn%C3%AF.xml"
        );
    }

    #[test]
    fn a_test_driver_uri_leads_back_to_its_file() {
        let path = Path::new("/home/ann/VM tools/#1/ünï.xml");
        assert_eq!(node_file(&test_driver_uri(path)).as_deref(), Some(path));
        assert_eq!(node_file("test:///default"), None);
        assert_eq!(node_file("qemu:///system"), None);
        assert_eq!(node_file("test:///a%2"), None, "a cut-off escape");
    }
}
