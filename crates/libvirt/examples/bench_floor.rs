//! The floor of `tools/bench`: the least any libvirt client does to show a
//! connection's VMs — open the URI, list every domain, fetch each domain's
//! XML through `virt`. Nothing else, so the product is measured against
//! libvirt's own cost.
//!
//!     bench_floor URI
//!
//! Prints `floor domains=N xml_bytes=B open_rss_kib=O rss_kib=R ms=T`: O is
//! the resident memory right after the open (for the test driver, which
//! parses the whole host into this process then, that is the host's copy
//! on top of the process's own), R the same with every XML fetched and the
//! connection still open, T the time from before the open to after the
//! connection is closed.

use std::error::Error;
use std::time::Instant;

use virt::connect::Connect;

fn main() -> Result<(), Box<dyn Error>> {
    let uri = std::env::args().nth(1).ok_or("usage: bench_floor URI")?;
    let start = Instant::now();
    let conn = Connect::open(Some(&uri))?;
    let open_rss_kib = resident_kib().unwrap_or_default();
    let domains = conn.list_all_domains(0)?;
    let mut xml_bytes = 0;
    for domain in &domains {
        xml_bytes += domain.xml_desc(0)?.len();
    }
    let count = domains.len();
    let rss_kib = resident_kib().unwrap_or_default();
    drop(domains);
    drop(conn);
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!(
        "floor domains={count} xml_bytes={xml_bytes} open_rss_kib={open_rss_kib} rss_kib={rss_kib} ms={ms:.3}"
    );
    Ok(())
}

/// `VmRSS` of /proc/self/status, in KiB.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
