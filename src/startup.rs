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
    report(&format!("vm-list-populated {} ms vms={vm_count}", elapsed_ms()));
}

/// Prints, once, that start-up ended on the connection's error page.
pub fn report_connection_failed() {
    report(&format!("connection-failed {} ms", elapsed_ms()));
}

fn elapsed_ms() -> String {
    let elapsed = PROCESS_START.get().map(|start| start.elapsed().as_secs_f64() * 1000.0).unwrap_or_default();
    format!("{elapsed:.1}")
}

fn report(event: &str) {
    if std::env::var_os("VMNET_DOCTOR_REPORT_STARTUP").is_some() && REPORTED.set(()).is_ok() {
        eprintln!("vmnet-doctor: {event}");
    }
}
