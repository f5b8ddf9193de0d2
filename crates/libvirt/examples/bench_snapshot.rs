//! The product side of `tools/bench`, in-process: what `vmnet-doctor check`
//! does between start-up and printing — open the connection on the worker
//! thread, take the snapshot, run the diagnosis — timed step by step.
//!
//!     bench_snapshot URI
//!
//! Prints `snapshot domains=N findings=F open_ms=… snapshot_ms=… diagnose_ms=… ms=T`,
//! T from before the open to after the connection is closed.

use std::error::Error;
use std::time::Instant;

use vmnet_doctor_core::diagnose;
use vmnet_doctor_libvirt::Hypervisor;

fn main() -> Result<(), Box<dyn Error>> {
    let uri = std::env::args().nth(1).ok_or("usage: bench_snapshot URI")?;
    let start = Instant::now();
    let hypervisor = Hypervisor::open_blocking(&uri)?;
    let opened = start.elapsed();
    let snapshot = hypervisor.snapshot_blocking()?;
    let snapshotted = start.elapsed();
    let findings = diagnose(&snapshot);
    let diagnosed = start.elapsed();
    // Closing is part of the cost: the worker thread ends with the last handle.
    drop(hypervisor);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "snapshot domains={} findings={} open_ms={:.3} snapshot_ms={:.3} diagnose_ms={:.3} ms={:.3}",
        snapshot.domains.len(),
        findings.len(),
        ms(opened),
        ms(snapshotted - opened),
        ms(diagnosed - snapshotted),
        ms(start.elapsed()),
    );
    Ok(())
}
