//! Fixes made inside the guest through its agent: the guide's "Disable
//! IPv6 in the VM" (a file in /etc/sysctl.d, then applied). The guest must
//! run qemu-guest-agent with the file and exec commands allowed; when it
//! does not, the error says which and the user gets the commands instead.

use std::time::Duration;

use virt::connect::Connect;
use virt::domain::Domain;

use super::{ChangedDefinition, Effect, FixFailure, FixPreview, FixReport, FixStep, XmlChange};
use crate::agent::{self, AgentError};
use crate::error::LibvirtError;

/// The guide's file, verbatim.
pub const DISABLE_IPV6_PATH: &str = "/etc/sysctl.d/99-disable-ipv6.conf";
pub const DISABLE_IPV6_CONTENTS: &str =
    "net.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n";
/// Applies just that file: `sysctl -p FILE` is understood by procps
/// (every distribution) and busybox alike, unlike `sysctl --system`.
pub const DISABLE_IPV6_APPLY: [&str; 3] = ["sysctl", "-p", DISABLE_IPV6_PATH];

const TIMEOUT: Duration = Duration::from_secs(10);

fn domain(conn: &Connect, uri: &str, vm: &str) -> Result<Domain, LibvirtError> {
    conn.lookup_domain_by_name(vm).map_err(|e| LibvirtError::from_change(uri, &e))
}

fn agent_error(vm: &str, error: AgentError) -> LibvirtError {
    LibvirtError::GuestAgent { vm: vm.to_owned(), error }
}

pub(super) fn plan_disable_ipv6(conn: &Connect, uri: &str, vm: &str) -> Result<FixPreview, LibvirtError> {
    let domain = domain(conn, uri, vm)?;
    let current = agent::read_file(&domain, DISABLE_IPV6_PATH, TIMEOUT).map_err(|e| agent_error(vm, e))?;
    let disabled = agent::read_file(&domain, "/proc/sys/net/ipv6/conf/all/disable_ipv6", TIMEOUT)
        .map_err(|e| agent_error(vm, e))?
        .is_some_and(|value| value.trim() == "1");
    let mut steps = Vec::new();
    let mut changes = Vec::new();
    if current.as_deref() != Some(DISABLE_IPV6_CONTENTS) {
        steps.push(FixStep::WriteGuestFile { vm: vm.to_owned(), path: DISABLE_IPV6_PATH.to_owned() });
        changes.push(XmlChange {
            definition: ChangedDefinition::GuestFile {
                vm: vm.to_owned(),
                path: DISABLE_IPV6_PATH.to_owned(),
            },
            before: current.unwrap_or_default(),
            after: DISABLE_IPV6_CONTENTS.to_owned(),
        });
    }
    if !steps.is_empty() || !disabled {
        steps.push(FixStep::RunInGuest {
            vm: vm.to_owned(),
            argv: DISABLE_IPV6_APPLY.iter().map(|arg| (*arg).to_owned()).collect(),
        });
    }
    Ok(FixPreview { steps, changes, effect: Effect::Now })
}

pub(super) fn run(
    conn: &Connect,
    uri: &str,
    vm: &str,
    preview: FixPreview,
) -> Result<FixReport, Box<FixFailure>> {
    let domain = domain(conn, uri, vm).map_err(FixFailure::before_any_step)?;
    let mut done = Vec::new();
    for step in &preview.steps {
        let result = match step {
            FixStep::WriteGuestFile { path, .. } => {
                agent::write_file(&domain, path, DISABLE_IPV6_CONTENTS, TIMEOUT)
                    .map_err(|e| agent_error(vm, e))
            }
            FixStep::RunInGuest { argv, .. } => {
                let mut words = argv.iter().map(String::as_str);
                let program = words.next().unwrap_or_default();
                let args: Vec<&str> = words.collect();
                match agent::run(&domain, program, &args, TIMEOUT) {
                    Ok(output) if output.succeeded() => Ok(()),
                    Ok(output) => Err(agent_error(
                        vm,
                        AgentError::Failed {
                            command: argv.join(" "),
                            detail: format!(
                                "exit status {}: {}",
                                output.exit_code.map_or_else(|| "none".to_owned(), |code| code.to_string()),
                                output.stderr.trim()
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
