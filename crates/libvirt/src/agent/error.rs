//! Why the guest agent could not do something, sorted the way the user
//! has to act on it.

use std::time::Duration;

use virt::error::{Error as VirtError, ErrorNumber};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The VM has no `org.qemu.guest_agent.0` channel.
    #[error("the VM has no guest agent channel")]
    NoChannel,
    /// The channel exists but nothing answers: qemu-guest-agent is not
    /// installed or not running in the guest (or the VM is not running).
    #[error("the guest agent is not running in the guest: {detail}")]
    NotRunning { detail: String },
    /// The agent refuses this command: RHEL's qemu-guest-agent ships with
    /// guest-exec and the file commands blocked (`--allow-rpcs`/`--block-rpcs`).
    #[error("the guest agent does not allow {command}: {detail}")]
    Disabled { command: String, detail: String },
    #[error("{command} did not finish within {} s", timeout.as_secs())]
    Timeout { command: String, timeout: Duration },
    /// The command ran and failed in the guest (e.g. no such file).
    #[error("{command} failed in the guest: {detail}")]
    Failed { command: String, detail: String },
    /// A demo VM's guest is a recording of a real guest's answers
    /// (`RecordedGuest`): it holds none for `command`, and it makes no
    /// change.
    #[error("the demo's guest is a recording of a real guest, which holds no answer to {command}")]
    Recorded { command: String },
    /// The agent's answer is not what its protocol says.
    #[error("unexpected answer to {command}: {detail}")]
    Protocol { command: String, detail: String },
}

impl AgentError {
    pub(crate) fn from_libvirt(command: &str, error: &VirtError) -> Self {
        Self::classify(command, error.message().to_owned(), Some(error.code()))
    }

    /// Sorts libvirt's message alone, when only the text is left.
    pub(crate) fn from_message(command: &str, message: &str) -> Self {
        Self::classify(command, message.to_owned(), None)
    }

    fn classify(command: &str, detail: String, code: Option<virt::error::ErrorNumberEnum>) -> Self {
        let is = |number: ErrorNumber| code.as_ref().is_some_and(|code| code.is(number));
        if detail.contains("has been disabled") || detail.contains("is not allowed") {
            Self::Disabled { command: command.to_owned(), detail }
        } else if detail.contains("not configured") {
            Self::NoChannel
        } else if is(ErrorNumber::AgentUnresponsive)
            || detail.contains("not connected")
            || detail.contains("not responding")
            || detail.contains("domain is not running")
        {
            Self::NotRunning { detail }
        } else if is(ErrorNumber::AgentCommandTimeout) || detail.contains("timed out") {
            Self::Timeout { command: command.to_owned(), timeout: Duration::ZERO }
        } else {
            Self::Failed { command: command.to_owned(), detail }
        }
    }
}
