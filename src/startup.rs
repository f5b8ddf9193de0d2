//! Start-up timing, reported on request (`VMNET_DOCTOR_REPORT_STARTUP=1`)
//! so benchmarks and tests can see when the VM list is on screen.

use std::sync::OnceLock;
use std::time::Instant;

static PROCESS_START: OnceLock<Instant> = OnceLock::new();
static REPORTED: OnceLock<()> = OnceLock::new();

pub fn mark_process_start() {
    PROCESS_START.get_or_init(Instant::now);
}

/// Prints, once, how long it took until the VM list was populated.
pub fn report_vm_list_populated(vm_count: usize) {
    if std::env::var_os("VMNET_DOCTOR_REPORT_STARTUP").is_none() || REPORTED.set(()).is_err() {
        return;
    }
    let elapsed = PROCESS_START.get().map(|start| start.elapsed().as_secs_f64() * 1000.0).unwrap_or_default();
    eprintln!("vmnet-doctor: vm-list-populated {elapsed:.1} ms vms={vm_count}");
}
