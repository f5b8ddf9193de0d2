//! A polkit agent on this terminal while a command may need a password for
//! the helper, as `systemctl` and `pkexec` start one: polkit asks only
//! through an agent, and outside a desktop session there is none.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const PKTTYAGENT: &str = "/usr/bin/pkttyagent";

/// The running `pkttyagent`; stopped when dropped.
#[derive(Debug)]
pub struct TtyAgent {
    child: Child,
}

impl TtyAgent {
    /// Starts `pkttyagent` for this process and waits until it is
    /// registered. `None` for root (polkit never asks root), or when the
    /// agent is not installed or fails: the helper then answers that
    /// authentication was needed, and the command says so.
    pub fn start() -> Option<Self> {
        let is_root = std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0);
        if is_root || !Path::new(PKTTYAGENT).exists() {
            return None;
        }
        // `--fallback`: a desktop session's own agent wins when there is one.
        // The agent closes its standard output (`--notify-fd 1`) once
        // registered, and asks on the terminal itself.
        let mut child = Command::new(PKTTYAGENT)
            .args(["--process", &std::process::id().to_string(), "--fallback", "--notify-fd", "1"])
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .ok()?;
        let mut ready = Vec::new();
        let registered = child.stdout.take().is_some_and(|mut out| out.read_to_end(&mut ready).is_ok());
        if registered && matches!(child.try_wait(), Ok(None)) {
            Some(Self { child })
        } else {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }
}

impl Drop for TtyAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
