//! The QEMU guest agent, reached through libvirt
//! (`virDomainQemuAgentCommand`): run a program in the guest, read and
//! write its files. Every call has a timeout; a guest that does not answer
//! never blocks the worker for long.
//!
//! Runs on the guest worker's thread (see [`crate::Hypervisor`]).

mod base64;
mod channel;
mod error;
mod recorded;

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub(crate) use channel::AgentChannel;
pub use error::AgentError;
pub(crate) use recorded::RecordedGuest;

/// What a program run in the guest left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestOutput {
    /// `None` when the guest reports no exit code (killed by a signal).
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
}

impl GuestOutput {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// One agent command; its `return` member.
pub(crate) fn command(
    guest: &dyn AgentChannel,
    execute: &str,
    arguments: Option<Value>,
    timeout: Duration,
) -> Result<Value, AgentError> {
    let mut request = json!({ "execute": execute });
    if let Some(arguments) = arguments {
        request["arguments"] = arguments;
    }
    let mut answer = guest.send(execute, &request, timeout)?;
    match answer.get_mut("return") {
        Some(value) => Ok(value.take()),
        None => Err(AgentError::Protocol { command: execute.to_owned(), detail: answer.to_string() }),
    }
}

/// Runs `path` with `args` in the guest (found on the agent's `PATH` when
/// not absolute) and waits up to `timeout` for it to exit.
pub(crate) fn run(
    guest: &dyn AgentChannel,
    path: &str,
    args: &[&str],
    timeout: Duration,
) -> Result<GuestOutput, AgentError> {
    let started = Instant::now();
    let answer = command(
        guest,
        "guest-exec",
        Some(json!({ "path": path, "arg": args, "capture-output": true })),
        timeout,
    )?;
    let pid = answer.get("pid").and_then(Value::as_i64).ok_or_else(|| AgentError::Protocol {
        command: "guest-exec".into(),
        detail: format!("no pid in {answer}"),
    })?;
    // The agent has no "wait": ask until the program has exited.
    let mut pause = Duration::from_millis(10);
    loop {
        let status = command(guest, "guest-exec-status", Some(json!({ "pid": pid })), timeout)?;
        if status.get("exited").and_then(Value::as_bool) == Some(true) {
            return Ok(GuestOutput {
                exit_code: status.get("exitcode").and_then(Value::as_i64),
                stdout: decoded(&status, "out-data"),
                stderr: decoded(&status, "err-data"),
            });
        }
        if started.elapsed() >= timeout {
            return Err(AgentError::Timeout { command: format!("{path} {}", args.join(" ")), timeout });
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

fn decoded(status: &Value, field: &str) -> String {
    status
        .get(field)
        .and_then(Value::as_str)
        .and_then(base64::decode)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The contents of a file in the guest; `None` when it does not exist.
pub(crate) fn read_file(
    guest: &dyn AgentChannel,
    path: &str,
    timeout: Duration,
) -> Result<Option<String>, AgentError> {
    let handle = match command(guest, "guest-file-open", Some(json!({ "path": path, "mode": "r" })), timeout)
    {
        Ok(handle) => handle,
        Err(AgentError::Failed { detail, .. }) if detail.contains("No such file") => return Ok(None),
        Err(error) => return Err(error),
    };
    let mut contents = Vec::new();
    let result = (|| loop {
        let chunk =
            command(guest, "guest-file-read", Some(json!({ "handle": handle, "count": 65536 })), timeout)?;
        if let Some(bytes) = chunk.get("buf-b64").and_then(Value::as_str).and_then(base64::decode) {
            contents.extend_from_slice(&bytes);
        }
        if chunk.get("eof").and_then(Value::as_bool) != Some(false) || contents.len() > 1 << 20 {
            return Ok::<(), AgentError>(());
        }
    })();
    let closed = command(guest, "guest-file-close", Some(json!({ "handle": handle })), timeout);
    result?;
    closed?;
    Ok(Some(String::from_utf8_lossy(&contents).into_owned()))
}

/// Writes `contents` to a file in the guest, replacing it.
pub(crate) fn write_file(
    guest: &dyn AgentChannel,
    path: &str,
    contents: &str,
    timeout: Duration,
) -> Result<(), AgentError> {
    let handle = command(guest, "guest-file-open", Some(json!({ "path": path, "mode": "w" })), timeout)?;
    let written = command(
        guest,
        "guest-file-write",
        Some(json!({ "handle": handle, "buf-b64": base64::encode(contents.as_bytes()) })),
        timeout,
    );
    let closed = command(guest, "guest-file-close", Some(json!({ "handle": handle })), timeout);
    written?;
    closed?;
    Ok(())
}
