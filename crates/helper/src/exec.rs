//! Running tools for the helper: the host crate's runner (absolute path,
//! no shell, cleared environment, stdin closed, bounded output, timeout),
//! plus the record of what ran for the audit line.

use std::sync::Mutex;
use std::time::Duration;

pub use vmnet_doctor_host::exec::{Output, find_program, run_with_timeout};

/// How long one tool may run.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a tool that rebuilds a whole firewall may take: `systemctl`
/// waits for the restart of libvirt's network driver, which makes every
/// active network's rules again, and `ufw` writes all its rules of both
/// families through iptables-restore (its reload took over 30 s on a
/// loaded two-core machine, run in an emulated guest).
pub const REBUILD_TIMEOUT: Duration = Duration::from_secs(120);

/// Every command a request ran, for its audit line.
#[derive(Debug, Default)]
pub struct Ran(Mutex<Vec<(Vec<String>, i32)>>);

impl Ran {
    pub fn take(&self) -> Vec<(Vec<String>, i32)> {
        self.0.lock().map(|mut ran| std::mem::take(&mut *ran)).unwrap_or_default()
    }

    /// Records something that ran (or a file change, as `write PATH`).
    pub fn record(&self, argv: &[String], status: i32) {
        if let Ok(mut ran) = self.0.lock() {
            ran.push((argv.to_vec(), status));
        }
    }
}

/// Runs `argv` (an absolute program path, then its arguments) and records
/// it in `ran`.
pub fn run(argv: &[String], ran: &Ran) -> Output {
    let output = run_with_timeout(argv, argv.first().map_or(TOOL_TIMEOUT, |program| timeout_for(program)));
    ran.record(argv, output.status);
    output
}

/// How long the tool at `program` may run.
fn timeout_for(program: &str) -> Duration {
    if program.ends_with("/systemctl") || program.ends_with("/ufw") { REBUILD_TIMEOUT } else { TOOL_TIMEOUT }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_that_rebuild_a_firewall_get_longer() {
        assert_eq!(timeout_for("/usr/sbin/ufw"), REBUILD_TIMEOUT);
        assert_eq!(timeout_for("/usr/bin/systemctl"), REBUILD_TIMEOUT);
        assert_eq!(timeout_for("/usr/sbin/sysctl"), TOOL_TIMEOUT);
        assert_eq!(timeout_for("/usr/sbin/iptables"), TOOL_TIMEOUT);
        assert_eq!(timeout_for("/usr/sbin/nufw"), TOOL_TIMEOUT, "the program's name, not a suffix of it");
    }

    #[test]
    fn what_ran_is_recorded() -> Result<(), String> {
        let ran = Ran::default();
        let path = find_program("true").ok_or("no true program")?;
        let command = vec![path.to_string_lossy().into_owned()];
        run(&command, &ran);
        assert_eq!(ran.take(), vec![(command, 0)]);
        Ok(())
    }
}
