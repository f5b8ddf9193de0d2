//! One mutation at a time across helper processes. Within a process the
//! service's mutex orders `Apply` and `Revert`; but a helper that gave up
//! its bus name on idle may still be finishing a call while D-Bus starts a
//! new one for the next call. Every mutation therefore holds an exclusive
//! `flock` on the helper's state directory, which the kernel releases when
//! the process ends, however it ends.

use std::fs;
use std::os::unix::fs::DirBuilderExt;

use rustix::fs::{FlockOperation, flock};

use crate::host::Host;

/// Held while a mutation runs.
#[derive(Debug)]
pub struct StateLock(#[allow(dead_code)] fs::File);

/// Waits for, and takes, the lock (blocking: call it off the async
/// runtime).
pub fn lock(host: &Host) -> Result<StateLock, String> {
    let dir = host.state_dir();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let file = fs::File::open(&dir).map_err(|error| format!("cannot open {}: {error}", dir.display()))?;
    flock(&file, FlockOperation::LockExclusive)
        .map_err(|error| format!("cannot lock {}: {error}", dir.display()))?;
    Ok(StateLock(file))
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_second_holder_waits_until_the_first_lets_go() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        let first = lock(&host)?;
        let (sender, receiver) = mpsc::channel();
        let dir_path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            // A separate open file: as another process would hold it.
            let second = lock(&Host::under(&dir_path));
            let _ = sender.send(second.is_ok());
        });
        assert!(receiver.recv_timeout(Duration::from_millis(300)).is_err(), "taken while held");
        drop(first);
        assert!(receiver.recv_timeout(Duration::from_secs(10))?, "the second lock failed");
        waiter.join().map_err(|_| "the waiter panicked")?;
        Ok(())
    }
}
