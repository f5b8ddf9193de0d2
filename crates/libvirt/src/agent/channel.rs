//! Where an agent command goes: the qemu-guest-agent of a running domain,
//! through libvirt (`virDomainQemuAgentCommand`), or the recording that
//! stands in for a demo VM's guest (`RecordedGuest`).

use std::time::Duration;

use serde_json::Value;
use virt::domain::Domain;

use super::AgentError;

/// Carries one agent command and brings back the agent's whole answer
/// (`{"return": …}`).
pub(crate) trait AgentChannel {
    fn send(&self, execute: &str, request: &Value, timeout: Duration) -> Result<Value, AgentError>;
}

impl AgentChannel for Domain {
    fn send(&self, execute: &str, request: &Value, timeout: Duration) -> Result<Value, AgentError> {
        let seconds = i32::try_from(timeout.as_secs().max(1)).unwrap_or(i32::MAX);
        let answer = self
            .qemu_agent_command(&request.to_string(), seconds, 0)
            .map_err(|error| AgentError::from_libvirt(execute, &error))?;
        serde_json::from_str(&answer).map_err(|error| AgentError::Protocol {
            command: execute.to_owned(),
            detail: format!("{error}: {answer}"),
        })
    }
}
