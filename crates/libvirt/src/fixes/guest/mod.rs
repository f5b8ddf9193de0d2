//! Fixes made inside the guest through its agent: the guide's "Disable
//! IPv6 in the VM" (a file in /etc/sysctl.d, then applied) and its APT-only
//! alternative (a file in /etc/apt/apt.conf.d), the NetworkManager profile
//! `kvm-dhcp`, and the reverts of each. The guest must run
//! qemu-guest-agent with the file and exec commands allowed; when it does
//! not, the error says which and the user gets the commands instead.
//!
//! Every plan is read from the guest as it is now; applying runs the
//! planned steps, each file written with the exact text the plan showed.

mod apt;
mod ipv6;
mod profile;

use std::time::Duration;

use virt::connect::Connect;

pub use apt::{FORCE_IPV4_CONTENTS, FORCE_IPV4_PATH};
pub use ipv6::{DISABLE_IPV6_APPLY, DISABLE_IPV6_CONTENTS, DISABLE_IPV6_PATH};
pub use profile::DHCP_PROFILE;

use super::{ChangedDefinition, Effect, FixFailure, FixPreview, FixReport, FixStep, LibvirtFix, XmlChange};
use crate::agent::{self, AgentChannel, AgentError, GuestOutput};
use crate::error::LibvirtError;
use crate::guest_channel::GuestChannel;

const TIMEOUT: Duration = Duration::from_secs(10);
/// `nmcli connection up` waits for DHCP (`-w 30`); a little more here.
const SLOW_TIMEOUT: Duration = Duration::from_secs(40);

fn agent_error(vm: &str, error: AgentError) -> LibvirtError {
    LibvirtError::GuestAgent { vm: vm.to_owned(), error }
}

fn read(guest: &dyn AgentChannel, vm: &str, path: &str) -> Result<Option<String>, LibvirtError> {
    agent::read_file(guest, path, TIMEOUT).map_err(|e| agent_error(vm, e))
}

/// Runs a program in the guest for a plan (a question, not a change).
fn ask(guest: &dyn AgentChannel, vm: &str, argv: &[&str]) -> Result<GuestOutput, LibvirtError> {
    let (program, args) = argv.split_first().unwrap_or((&"true", &[]));
    agent::run(guest, program, args, TIMEOUT).map_err(|e| agent_error(vm, e))
}

fn run_step(vm: &str, argv: &[&str]) -> FixStep {
    FixStep::RunInGuest { vm: vm.to_owned(), argv: argv.iter().map(|arg| (*arg).to_owned()).collect() }
}

/// The steps that make the file at `path` hold `wanted` (`None`: absent),
/// readable by everyone as `sudo tee` leaves it (the agent creates files
/// 0600, and APT run by a user must read its configuration).
fn file_steps(vm: &str, path: &str, current: Option<String>, wanted: Option<&str>, preview: &mut FixPreview) {
    match wanted {
        Some(wanted) if current.as_deref() != Some(wanted) => {
            preview.steps.push(FixStep::WriteGuestFile { vm: vm.to_owned(), path: path.to_owned() });
            preview.steps.push(run_step(vm, &["chmod", "0644", path]));
            preview.changes.push(XmlChange {
                definition: ChangedDefinition::GuestFile { vm: vm.to_owned(), path: path.to_owned() },
                before: current.unwrap_or_default(),
                after: wanted.to_owned(),
            });
        }
        None if current.is_some() => {
            preview.steps.push(run_step(vm, &["rm", "-f", path]));
            preview.changes.push(XmlChange {
                definition: ChangedDefinition::GuestFile { vm: vm.to_owned(), path: path.to_owned() },
                before: current.unwrap_or_default(),
                after: String::new(),
            });
        }
        _ => {}
    }
}

/// The commands that make `fix` by hand in the guest, as the guide writes
/// them, for when the agent cannot.
pub fn manual_commands(fix: &LibvirtFix) -> Vec<String> {
    let restore = |path: &str, previous: &Option<String>| match previous {
        Some(text) => format!("printf '%s' '{}' | sudo tee {path}", text.replace('\'', "'\\''")),
        None => format!("sudo rm -f {path}"),
    };
    match fix {
        LibvirtFix::DisableGuestIpv6 { .. } => vec![
            format!("printf '{}' | sudo tee {DISABLE_IPV6_PATH}", DISABLE_IPV6_CONTENTS.replace('\n', "\\n")),
            "sudo sysctl --system".to_owned(),
        ],
        LibvirtFix::RevertDisableGuestIpv6 { previous, .. } => vec![
            restore(DISABLE_IPV6_PATH, previous),
            "sudo sysctl -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0".to_owned(),
        ],
        LibvirtFix::ForceAptIpv4 { .. } => {
            vec![format!("echo '{}' | sudo tee {FORCE_IPV4_PATH}", FORCE_IPV4_CONTENTS.trim_end())]
        }
        LibvirtFix::RevertForceAptIpv4 { previous, .. } => vec![restore(FORCE_IPV4_PATH, previous)],
        LibvirtFix::CreateGuestDhcpProfile { interface, .. } => vec![
            format!(
                "sudo nmcli connection add type ethernet ifname {interface} con-name {DHCP_PROFILE} ipv4.method auto ipv6.method ignore"
            ),
            format!("sudo nmcli connection up {DHCP_PROFILE}"),
        ],
        LibvirtFix::RemoveGuestDhcpProfile { .. } => {
            vec![format!("sudo nmcli connection delete {DHCP_PROFILE}")]
        }
        _ => Vec::new(),
    }
}

fn empty_preview() -> FixPreview {
    FixPreview { steps: Vec::new(), changes: Vec::new(), effect: Effect::Now }
}

pub(super) fn plan(conn: &Connect, fix: &LibvirtFix) -> Result<FixPreview, LibvirtError> {
    let vm = fix.vm().unwrap_or_default();
    let guest = GuestChannel::open(conn, vm)?;
    let mut preview = empty_preview();
    match fix {
        LibvirtFix::DisableGuestIpv6 { vm } => ipv6::plan_disable(&guest, vm, &mut preview)?,
        LibvirtFix::RevertDisableGuestIpv6 { vm, previous } => {
            ipv6::plan_revert(&guest, vm, previous.as_deref(), &mut preview)?;
        }
        LibvirtFix::ForceAptIpv4 { vm } => apt::plan_force(&guest, vm, &mut preview)?,
        LibvirtFix::RevertForceAptIpv4 { vm, previous } => {
            apt::plan_revert(&guest, vm, previous.as_deref(), &mut preview)?;
        }
        LibvirtFix::CreateGuestDhcpProfile { vm, interface } => {
            profile::plan_create(&guest, vm, interface, &mut preview)?;
        }
        LibvirtFix::RemoveGuestDhcpProfile { vm } => profile::plan_remove(&guest, vm, &mut preview)?,
        other => return Err(LibvirtError::Other { detail: format!("not a guest fix: {other:?}") }),
    }
    Ok(preview)
}

pub(super) fn run(conn: &Connect, vm: &str, preview: FixPreview) -> Result<FixReport, Box<FixFailure>> {
    let guest = GuestChannel::open(conn, vm).map_err(FixFailure::before_any_step)?;
    let mut done = Vec::new();
    for step in &preview.steps {
        let result = match step {
            FixStep::WriteGuestFile { path, .. } => {
                // The text the plan showed, nothing else.
                let contents = preview.changes.iter().find_map(|change| match &change.definition {
                    ChangedDefinition::GuestFile { path: changed, .. } if changed == path => {
                        Some(&change.after)
                    }
                    _ => None,
                });
                match contents {
                    Some(contents) => {
                        agent::write_file(&guest, path, contents, TIMEOUT).map_err(|e| agent_error(vm, e))
                    }
                    None => Err(LibvirtError::Other { detail: format!("no planned contents for {path}") }),
                }
            }
            FixStep::RunInGuest { argv, .. } => {
                let mut words = argv.iter().map(String::as_str);
                let program = words.next().unwrap_or_default();
                let args: Vec<&str> = words.collect();
                let timeout = if program == "nmcli" { SLOW_TIMEOUT } else { TIMEOUT };
                match agent::run(&guest, program, &args, timeout) {
                    Ok(output) if output.succeeded() => Ok(()),
                    Ok(output) => Err(agent_error(
                        vm,
                        AgentError::Failed {
                            command: argv.join(" "),
                            detail: format!(
                                "exit status {}: {}",
                                output.exit_code.map_or_else(|| "none".to_owned(), |code| code.to_string()),
                                [output.stderr.trim(), output.stdout.trim()].join(" ").trim()
                            ),
                        },
                    )),
                    Err(error) => Err(agent_error(vm, error)),
                }
            }
            other => Err(LibvirtError::Other { detail: format!("not a guest step: {other:?}") }),
        };
        if let Err(error) = result {
            return Err(Box::new(FixFailure { failed: Some(step.clone()), done, error }));
        }
        done.push(step.clone());
    }
    Ok(FixReport { done, changes: preview.changes, effect: Effect::Now, running_vm_refused: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_the_guide_s_commands_carry_the_real_names() {
        let profile = LibvirtFix::CreateGuestDhcpProfile { vm: "vm".into(), interface: "ens3".into() };
        assert_eq!(
            manual_commands(&profile),
            [
                "sudo nmcli connection add type ethernet ifname ens3 con-name kvm-dhcp ipv4.method auto ipv6.method ignore",
                "sudo nmcli connection up kvm-dhcp"
            ]
        );
        assert_eq!(
            manual_commands(&LibvirtFix::ForceAptIpv4 { vm: "vm".into() }),
            [r#"echo 'Acquire::ForceIPv4 "true";' | sudo tee /etc/apt/apt.conf.d/99force-ipv4"#]
        );
        assert_eq!(
            manual_commands(&LibvirtFix::DisableGuestIpv6 { vm: "vm".into() }),
            [
                r"printf 'net.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n' | sudo tee /etc/sysctl.d/99-disable-ipv6.conf",
                "sudo sysctl --system"
            ]
        );
        // A file that held a quote is restored with it.
        let revert = LibvirtFix::RevertForceAptIpv4 { vm: "vm".into(), previous: Some("it's\n".into()) };
        assert_eq!(
            manual_commands(&revert),
            ["printf '%s' 'it'\\''s\n' | sudo tee /etc/apt/apt.conf.d/99force-ipv4"]
        );
    }
}
