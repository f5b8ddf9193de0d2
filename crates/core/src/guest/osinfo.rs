//! The agent's answers to `guest-get-osinfo` and `guest-info`.

use serde_json::Value;

/// The guest's operating system, as its agent reads /etc/os-release and
/// uname. A guest without os-release (a busybox initramfs) has only the
/// kernel fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestOs {
    /// os-release `ID` (`debian`, `fedora`, `arch`, …).
    pub id: Option<String>,
    pub pretty_name: Option<String>,
    pub version_id: Option<String>,
    pub kernel_release: Option<String>,
    pub machine: Option<String>,
}

impl GuestOs {
    pub fn from_agent(answer: &Value) -> Self {
        let field = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            id: field("id"),
            pretty_name: field("pretty-name").or_else(|| field("name")),
            version_id: field("version-id"),
            kernel_release: field("kernel-release"),
            machine: field("machine"),
        }
    }
}

/// `guest-info`: the agent's version and the commands it has but refuses
/// (RHEL's qemu-guest-agent is started with `--allow-rpcs`, leaving out
/// guest-exec and the file commands).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentInfo {
    pub version: String,
    pub disabled: Vec<String>,
    pub supported: Vec<String>,
}

impl AgentInfo {
    pub fn from_agent(answer: &Value) -> Self {
        let mut info = Self {
            version: answer.get("version").and_then(Value::as_str).unwrap_or_default().to_owned(),
            ..Self::default()
        };
        for command in answer.get("supported_commands").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = command.get("name").and_then(Value::as_str) else {
                continue;
            };
            if command.get("enabled").and_then(Value::as_bool) == Some(false) {
                info.disabled.push(name.to_owned());
            } else {
                info.supported.push(name.to_owned());
            }
        }
        info
    }

    /// Whether the agent runs programs for us (guest-exec and its status).
    pub fn allows_exec(&self) -> bool {
        ["guest-exec", "guest-exec-status"].iter().all(|name| self.supported.iter().any(|s| s == name))
    }

    pub fn allows(&self, command: &str) -> bool {
        self.supported.iter().any(|name| name == command)
    }
}
