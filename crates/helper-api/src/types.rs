//! What the helper answers: capabilities, host facts, plans and results.

use std::fmt;

use serde::{Deserialize, Serialize};
use zbus::{Signature, Type};

use crate::fix::FixWire;

/// One thing a step does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Run this program (absolute path first) with these arguments, without
    /// a shell.
    Run { argv: Vec<String> },
    /// Replace the whole file with `contents` (created mode 0644 if absent).
    WriteFile { path: String, contents: String },
    /// Delete the file.
    RemoveFile { path: String },
}

impl Action {
    /// The action as one line, e.g. `/usr/sbin/ufw allow in on virbr0` or
    /// `write /etc/sysctl.d/90-vmnet-doctor.conf`.
    pub fn display(&self) -> String {
        match self {
            Self::Run { argv } => argv.join(" "),
            Self::WriteFile { path, .. } => format!("write {path}"),
            Self::RemoveFile { path } => format!("remove {path}"),
        }
    }
}

/// One step of a plan: what it is for, and exactly what it does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "StepWire", try_from = "StepWire")]
pub struct Step {
    pub description: String,
    pub action: Action,
}

/// A step on the wire, `(ssasss)`: description, kind (`run`, `write-file`,
/// `remove-file`), argv, path, file contents.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
struct StepWire {
    description: String,
    kind: String,
    argv: Vec<String>,
    path: String,
    contents: String,
}

impl Type for Step {
    const SIGNATURE: &'static Signature = StepWire::SIGNATURE;
}

impl From<Step> for StepWire {
    fn from(step: Step) -> Self {
        let (kind, argv, path, contents) = match step.action {
            Action::Run { argv } => ("run", argv, String::new(), String::new()),
            Action::WriteFile { path, contents } => ("write-file", Vec::new(), path, contents),
            Action::RemoveFile { path } => ("remove-file", Vec::new(), path, String::new()),
        };
        Self { description: step.description, kind: kind.to_owned(), argv, path, contents }
    }
}

impl TryFrom<StepWire> for Step {
    type Error = String;
    fn try_from(wire: StepWire) -> Result<Self, String> {
        let action = match wire.kind.as_str() {
            "run" if !wire.argv.is_empty() => Action::Run { argv: wire.argv },
            "write-file" if !wire.path.is_empty() => {
                Action::WriteFile { path: wire.path, contents: wire.contents }
            }
            "remove-file" if !wire.path.is_empty() => Action::RemoveFile { path: wire.path },
            other => return Err(format!("invalid step kind {other:?} (or its command or path is empty)")),
        };
        Ok(Self { description: wire.description, action })
    }
}

/// What `Plan` answers: the exact steps `Apply` would run now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Plan {
    /// Identifies these exact steps; `Apply` refuses to run when the steps
    /// it would run now differ (the host changed since).
    pub id: String,
    /// What the fix does, with its caveats (e.g. what does not persist).
    pub summary: String,
    /// In order. Empty when the fix is already in place.
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// How a step went. `exit_status` is the tool's exit status (0: success);
/// -1 when it could not be started, was killed or timed out, or a file
/// change failed. `message` is the tool's standard error (shortened) or the
/// reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct StepResult {
    pub step: Step,
    pub exit_status: i32,
    pub message: String,
}

impl StepResult {
    pub fn succeeded(&self) -> bool {
        self.exit_status == 0
    }
}

/// How an `Apply` or a `Revert` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum Outcome {
    /// Every step succeeded; the transaction is journaled.
    Applied,
    /// The fix was already in place (or the transaction already reverted):
    /// nothing ran.
    NothingToDo,
    /// A step failed; the steps before it were undone; nothing is kept.
    RolledBack,
    /// A step failed and undoing the earlier ones failed too; what is still
    /// applied is journaled under `transaction` so `Revert` can retry.
    RollbackIncomplete,
    /// Every change of the transaction was undone.
    Reverted,
    /// Some changes could not be undone; `Revert` can be retried.
    RevertIncomplete,
}

/// What `Apply` and `Revert` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ApplyResult {
    /// The journaled transaction (pass it to `Revert`); empty when nothing
    /// was kept.
    pub transaction: String,
    pub outcome: Outcome,
    /// The steps that ran, in order; after a failure the last one failed.
    pub steps: Vec<StepResult>,
    /// The undo steps run after a failure, in order.
    pub rollback: Vec<StepResult>,
}

impl ApplyResult {
    /// The step that failed, if one did.
    pub fn failed_step(&self) -> Option<&StepResult> {
        self.steps.iter().find(|step| !step.succeeded())
    }
}

/// Whether a tool gave its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum ToolStatus {
    /// `text` is its standard output.
    Ok,
    /// Not installed in any system directory.
    NotInstalled,
    /// Not run, on purpose; `text` says why (e.g. no legacy iptables
    /// tables exist, and running it would load kernel modules).
    NotRun,
    /// It failed or timed out; `text` says how.
    Failed,
}

/// One tool's output, `(us)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ToolOutput {
    pub status: ToolStatus,
    pub text: String,
}

impl ToolOutput {
    /// The output when the tool succeeded.
    pub fn ok(&self) -> Option<&str> {
        (self.status == ToolStatus::Ok).then_some(self.text.as_str())
    }
}

/// The root-only host facts the diagnosis needs (`Inspect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct InspectReport {
    /// `/proc/sys/net/ipv4/ip_forward` (`0` or `1`).
    pub ipv4_forward: ToolOutput,
    /// `ufw status verbose` (run with `LC_ALL=C`).
    pub ufw_status: ToolOutput,
    /// `ufw show added`: the user rules in command form, active or not.
    pub ufw_added: ToolOutput,
    /// `nft -j list ruleset`.
    pub nft_ruleset: ToolOutput,
    /// `iptables-nft-save`.
    pub iptables_nft_save: ToolOutput,
    /// `iptables-legacy-save`, only when legacy tables exist.
    pub iptables_legacy_save: ToolOutput,
}

/// Every host fact the diagnosis reads, as the helper reads them as root
/// (`InspectHost`): for an app that cannot see the host itself (inside the
/// Flatpak sandbox it has a network namespace, /proc/sys, /sys and /run of
/// its own). `facts` is `vmnet_doctor_core::host::HostFacts` as JSON in
/// format [`HOST_FACTS_FORMAT`], so both sides diagnose from the same data
/// through the same parsers; at most [`MAX_HOST_REPORT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct HostReport {
    pub format: u32,
    pub facts: String,
}

/// The format of [`HostReport::facts`]; raised when `HostFacts` changes
/// incompatibly (a client refuses another with "update the helper").
/// 1: the main table only; 2: every table and the policy rules, as text;
/// 3: numeric tables, route types and metrics, rules with masks.
pub const HOST_FACTS_FORMAT: u32 = 3;
/// The largest [`HostReport::facts`] either side accepts: the rulesets of a
/// host with Docker and a few hundred rules are well under 1 MiB.
pub const MAX_HOST_REPORT_BYTES: usize = 8 * 1024 * 1024;
/// The most libvirt networks one `InspectHost` asks about.
pub const MAX_HOST_NETWORKS: usize = 64;

/// Whether `name` can be a libvirt network's name as `InspectHost` takes
/// it: the helper joins it into `/run/libvirt/network/NAME.pid`, so no
/// `/`, no leading dot, printable ASCII only, at most 64 bytes.
pub fn is_valid_network_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"_.+-".contains(&byte))
}

/// One firewall tool on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ToolInfo {
    /// `ufw`, `nft`, `iptables-nft`, `iptables-legacy`, `conntrack`, `sysctl`.
    pub name: String,
    /// Its absolute path; empty when not installed.
    pub path: String,
    /// Whether it is in use: UFW enabled, an nftables ruleset or legacy
    /// iptables tables present.
    pub active: bool,
    /// A short note (e.g. why `active` is what it is).
    pub detail: String,
}

/// What `GetCapabilities` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Capabilities {
    pub api_version: u32,
    /// The fix kinds this helper applies ([`crate::FixKind::as_str`]).
    pub fixes: Vec<String>,
    pub tools: Vec<ToolInfo>,
}

/// One journaled transaction (`Transactions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct TransactionInfo {
    pub id: String,
    pub fix: FixWire,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub reverted: bool,
    /// What it changed, one line each.
    pub changes: Vec<String>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Applied => "applied",
            Self::NothingToDo => "nothing-to-do",
            Self::RolledBack => "rolled-back",
            Self::RollbackIncomplete => "rollback-incomplete",
            Self::Reverted => "reverted",
            Self::RevertIncomplete => "revert-incomplete",
        })
    }
}

#[cfg(test)]
mod tests {
    use zbus::wire::serialized::Context;
    use zbus::wire::{LE, to_bytes};

    use super::*;

    #[test]
    fn network_names_cannot_leave_libvirts_directory() {
        for good in ["default", "lab-nat", "net_2", "a.b", "x+y"] {
            assert!(is_valid_network_name(good), "{good}");
        }
        for bad in ["", "..", ".hidden", "a/b", "../etc", "a b", "é", &"n".repeat(65)] {
            assert!(!is_valid_network_name(bad), "{bad}");
        }
    }

    #[test]
    fn signatures_are_plain_dbus_structures() {
        assert_eq!(Step::SIGNATURE.to_string(), "(ssasss)");
        assert_eq!(Plan::SIGNATURE.to_string(), "(ssa(ssasss))");
        assert_eq!(ApplyResult::SIGNATURE.to_string(), "(sua((ssasss)is)a((ssasss)is))");
        assert_eq!(FixWire::SIGNATURE.to_string(), "(sa{ss})");
        assert_eq!(ToolOutput::SIGNATURE.to_string(), "(us)");
    }

    #[test]
    fn steps_round_trip_and_bad_ones_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let ctxt = Context::new(LE, 0);
        for action in [
            Action::Run {
                argv: vec!["/usr/sbin/sysctl".into(), "-w".into(), "net.ipv4.ip_forward=1".into()],
            },
            Action::WriteFile {
                path: "/etc/sysctl.d/90-vmnet-doctor.conf".into(),
                contents: "x = 1\n".into(),
            },
            Action::RemoveFile { path: "/etc/sysctl.d/90-vmnet-doctor.conf".into() },
        ] {
            let step = Step { description: "d".into(), action };
            let (back, _): (Step, _) = to_bytes(ctxt, &step)?.deserialize()?;
            assert_eq!(back, step);
        }
        let empty_run = StepWire {
            description: String::new(),
            kind: "run".into(),
            argv: Vec::new(),
            path: String::new(),
            contents: String::new(),
        };
        let encoded = to_bytes(ctxt, &empty_run)?;
        assert!(encoded.deserialize::<Step>().is_err());
        Ok(())
    }
}
