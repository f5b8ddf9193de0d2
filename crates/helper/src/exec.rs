//! Running tools for the helper: the host crate's runner (absolute path,
//! no shell, cleared environment, stdin closed, bounded output, timeout),
//! plus the record of what ran for the audit line.

use std::sync::Mutex;
use std::time::Duration;

pub use vmnet_doctor_host::exec::{Output, find_program, run_with_timeout};

/// How long one tool may run.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `systemctl` may take: it waits for the restart of libvirt's
/// network driver, which makes every active network's firewall rules again.
pub const RESTART_TIMEOUT: Duration = Duration::from_secs(120);

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
    let timeout = match argv.first() {
        Some(program) if program.ends_with("/systemctl") => RESTART_TIMEOUT,
        _ => TOOL_TIMEOUT,
    };
    let output = run_with_timeout(argv, timeout);
    ran.record(argv, output.status);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

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
