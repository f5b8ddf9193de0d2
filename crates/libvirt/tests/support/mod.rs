//! What the test-driver tests share.

use std::path::Path;

/// The demo hypervisor of this checkout through libvirt's test driver,
/// escaped so that a checkout path with a space still opens.
pub fn demo_uri() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/demo-hypervisor.xml");
    vmnet_doctor_libvirt::test_driver_uri(&path)
}
