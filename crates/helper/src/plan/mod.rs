//! Planning a fix: the changes it still needs on this host, in order, and
//! what to tell the user about them.
//!
//! Each fix plans in a module of its own (`ipv4_forwarding`, `ufw`,
//! `accept_forward`, `accept_bridged`, `clamp_mss`, `libvirt_backend`,
//! `allow_qemu_bridge`); this one holds what they share:
//! the plan, its id and its errors.

mod accept_bridged;
mod accept_forward;
mod allow_qemu_bridge;
mod clamp_mss;
mod ipv4_forwarding;
mod libvirt_backend;
mod ufw;

use std::fs;
use std::path::Path;

use vmnet_doctor_helper_api::{FixRequest, Plan, Step};

use crate::changes::Change;
use crate::exec::Ran;
use crate::host::Host;
use accept_bridged::plan_accept_bridged;
use accept_forward::plan_accept_forward;
use allow_qemu_bridge::plan_allow_qemu_bridge;
use clamp_mss::plan_clamp_mss;
use ipv4_forwarding::plan_ipv4_forwarding;
use libvirt_backend::plan_libvirt_backend;
use ufw::plan_ufw;

/// Why a fix cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The host does not allow it (names, missing tools).
    HostCheck(String),
    /// Reading the host's state failed.
    Failed(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HostCheck(why) | Self::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for PlanError {}

/// A fix's remaining changes, each with the step that makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub summary: String,
    pub changes: Vec<(Step, Change)>,
}

impl Planned {
    pub fn steps(&self) -> Vec<Step> {
        self.changes.iter().map(|(step, _)| step.clone()).collect()
    }

    pub fn to_plan(&self) -> Plan {
        let steps = self.steps();
        Plan { id: plan_id(&steps), summary: self.summary.clone(), steps }
    }
}

/// Identifies a list of steps: FNV-1a (64 bit) over every field, with
/// separators. Stable across runs and builds, unlike std's hasher.
pub fn plan_id(steps: &[Step]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |text: &str| {
        for byte in text.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for step in steps {
        feed(&step.description);
        match &step.action {
            vmnet_doctor_helper_api::Action::Run { argv } => {
                feed("run");
                argv.iter().for_each(|arg| feed(arg));
            }
            vmnet_doctor_helper_api::Action::WriteFile { path, contents } => {
                feed("write");
                feed(path);
                feed(contents);
            }
            vmnet_doctor_helper_api::Action::RemoveFile { path } => {
                feed("remove");
                feed(path);
            }
        }
        feed("\n");
    }
    format!("{hash:016x}")
}

pub fn plan(fix: &FixRequest, host: &Host, ran: &Ran) -> Result<Planned, PlanError> {
    match fix {
        FixRequest::EnableIpv4Forwarding => plan_ipv4_forwarding(host),
        FixRequest::UfwAllowBridge { bridge, uplink } => plan_ufw(host, bridge, uplink, ran),
        FixRequest::AcceptForward { bridge, uplink } => plan_accept_forward(host, bridge, uplink, ran),
        FixRequest::AcceptBridged { bridge } => plan_accept_bridged(host, bridge, ran),
        FixRequest::ClampMss { bridge, uplink } => plan_clamp_mss(host, bridge, uplink, ran),
        FixRequest::SetLibvirtFirewallBackend { backend } => plan_libvirt_backend(host, *backend, ran),
        FixRequest::AllowQemuBridge { bridge } => plan_allow_qemu_bridge(host, bridge),
    }
}

/// A file the helper edits must be a plain file, or missing: never written
/// through a symbolic link. `by_hand` says what the user does instead.
fn check_plain_file(path: &Path, by_hand: &str) -> Result<(), PlanError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.file_type().is_file() => Err(PlanError::HostCheck(format!(
            "{} is not a regular file (a symbolic link?): the helper edits only a plain file; {by_hand}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

fn with_steps(host: &Host, summary: String, changes: Vec<Change>) -> Result<Planned, PlanError> {
    let changes = changes
        .into_iter()
        .map(|change| Ok((change.step(host).map_err(PlanError::HostCheck)?, change)))
        .collect::<Result<Vec<_>, PlanError>>()?;
    Ok(Planned { summary, changes })
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_helper_api::Action;

    use super::*;

    fn step(argv: &[&str]) -> Step {
        Step {
            description: "d".into(),
            action: Action::Run { argv: argv.iter().map(|s| (*s).to_owned()).collect() },
        }
    }

    #[test]
    fn the_plan_id_follows_every_argument() {
        let one = plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "on", "virbr0"])]);
        assert_eq!(one, plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "on", "virbr0"])]));
        assert_ne!(one, plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "on", "virbr1"])]));
        // The separators keep argument boundaries apart.
        assert_ne!(one, plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "onvirbr0"])]));
        assert_ne!(plan_id(&[]), one);
        assert_eq!(one.len(), 16);
    }
}
