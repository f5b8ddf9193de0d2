//! The changes the helper makes. Each one knows the step that makes it,
//! how to tell whether it is already in place, and the step that undoes
//! it — only while it is still in place as the helper made it.
//!
//! A change holds typed values only (validated names, enums), never a
//! command or a path: the commands are built here, from those values, when
//! a fix is planned and again when it is reverted.
//!
//! The firewall rules the changes add are spelled out in `firewall_rules`,
//! the edit of libvirt's network.conf in `network_conf`, and that of
//! qemu-bridge-helper's list in `bridge_conf`.

mod bridge_conf;
mod firewall_rules;
mod network_conf;

use std::path::Path;

use serde::{Deserialize, Serialize};
use vmnet_doctor_helper_api::{Action, IfaceName, LibvirtFirewallBackend, RULE_COMMENT, Step, StepResult};

use crate::exec::{self, Ran};
use crate::forwarding;
use crate::host::{self, Host, NetworkDaemon};
use crate::in_place_file;

use bridge_conf::bridge_conf_with_allow;
pub use firewall_rules::{
    Backend, Chain, Family, ForwardRule, UfwRuleKind, UfwState, iptables_argv, mss_clamp_argv, ufw_spec,
};
use firewall_rules::{iptables_spec, ufw_delete_spec};
use network_conf::{network_conf_edit_place, network_conf_with_backend};

/// What `/etc/sysctl.d/90-vmnet-doctor.conf` holds.
pub const SYSCTL_CONTENTS: &str = "\
# Written by VM Network Doctor (vmnet-doctor-helper): libvirt's NAT networks
# need the host to forward IPv4 packets. Reverting the fix in VM Network
# Doctor puts back what this file held before.
net.ipv4.ip_forward = 1
";

/// Files larger than this are not ours (sysctl.d) or not edited
/// (network.conf is about 1 KiB, bridge.conf a few lines).
pub const FILE_LIMIT: u64 = 64 * 1024;

/// A change the helper made, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Change {
    /// Wrote [`SYSCTL_CONTENTS`] to [`Host::sysctl_file`]; `previous` is what
    /// was there (`None`: no file).
    SysctlFile { previous: Option<String> },
    /// Set `net.ipv4.ip_forward` to 1; `previous` is `0` or `1`.
    Ipv4Forward { previous: String },
    /// Added one of the guide's UFW rules, with our comment.
    UfwRule { rule: UfwRuleKind, bridge: IfaceName, uplink: IfaceName },
    /// Ran `ufw reload`.
    UfwReload,
    /// Inserted an accept rule, with our comment.
    Iptables {
        backend: Backend,
        #[serde(default)]
        family: Family,
        chain: Chain,
        rule: ForwardRule,
        bridge: IfaceName,
        uplink: IfaceName,
    },
    /// Inserted the MSS clamp for the TCP connections from `bridge` out
    /// through `uplink` (IPv4, mangle table), with our comment.
    MssClamp { backend: Backend, bridge: IfaceName, uplink: IfaceName },
    /// Set `firewall_backend` in [`Host::libvirt_network_conf`] (see
    /// [`network_conf_with_backend`]); `previous` is what was there
    /// (`None`: no file).
    LibvirtNetworkConf { backend: LibvirtFirewallBackend, previous: Option<String> },
    /// `systemctl try-restart` of the daemon that runs libvirt's network
    /// driver, so that it makes its networks' rules with the new backend.
    RestartNetworkDriver { daemon: NetworkDaemon },
    /// Appended `allow BRIDGE` to [`Host::qemu_bridge_conf`] (see
    /// [`bridge_conf_with_allow`]); `previous` is what was there (`None`:
    /// no file).
    QemuBridgeAllow { bridge: IfaceName, previous: Option<String> },
}

/// The absolute path of a tool, or why there is none.
pub fn tool(name: &str) -> Result<String, String> {
    exec::find_program(name)
        .map(|path| path.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{name} is not installed"))
}

fn strings(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|part| (*part).to_owned()).collect()
}

impl Change {
    /// The step that makes this change.
    pub fn step(&self, host: &Host) -> Result<Step, String> {
        Ok(match self {
            Self::SysctlFile { .. } => Step {
                description: "Keep IPv4 forwarding on after a reboot".to_owned(),
                action: Action::WriteFile {
                    path: host.sysctl_file().to_string_lossy().into_owned(),
                    contents: SYSCTL_CONTENTS.to_owned(),
                },
            },
            Self::Ipv4Forward { .. } => Step {
                description: "Turn IPv4 forwarding on now".to_owned(),
                action: Action::Run { argv: strings(&[&tool("sysctl")?, "-w", "net.ipv4.ip_forward=1"]) },
            },
            Self::UfwRule { rule, bridge, uplink } => {
                let mut argv = vec![tool("ufw")?];
                argv.extend(ufw_spec(*rule, bridge, uplink));
                argv.extend(strings(&["comment", RULE_COMMENT]));
                let description = match rule {
                    UfwRuleKind::AllowIn => format!("Let the VMs on {bridge} reach the host (DHCP, DNS)"),
                    UfwRuleKind::AllowOut => format!("Let the host answer the VMs on {bridge}"),
                    UfwRuleKind::RouteAllow => {
                        format!("Route the VMs' traffic from {bridge} out through {uplink}")
                    }
                };
                Step { description, action: Action::Run { argv } }
            }
            Self::UfwReload => Step {
                description: "Reload UFW".to_owned(),
                action: Action::Run { argv: vec![tool("ufw")?, "reload".to_owned()] },
            },
            Self::Iptables { backend, family, chain, rule, bridge, uplink } => {
                let what = match family {
                    Family::Ipv4 => "",
                    Family::Ipv6 => "IPv6 ",
                };
                let description = match rule {
                    // A host bridge's own traffic, which br_netfilter shows iptables.
                    ForwardRule::Out if bridge == uplink => {
                        format!(
                            "Accept {what}frames bridged between the ports of {bridge} ({})",
                            chain.name()
                        )
                    }
                    ForwardRule::Out => {
                        format!("Accept {what}forwarding from {bridge} to {uplink} ({})", chain.name())
                    }
                    ForwardRule::Replies => {
                        format!("Accept the {what}replies from {uplink} to {bridge} ({})", chain.name())
                    }
                };
                let program = tool(backend.program(*family))?;
                let argv = iptables_argv(&program, "-I", *chain, *rule, bridge, uplink);
                Step { description, action: Action::Run { argv } }
            }
            Self::MssClamp { backend, bridge, uplink } => Step {
                description: format!(
                    "Clamp the MSS of TCP connections from {bridge} out through {uplink} to the path's MTU (mangle FORWARD)"
                ),
                action: Action::Run {
                    argv: mss_clamp_argv(&tool(backend.program(Family::Ipv4))?, "-I", bridge, uplink),
                },
            },
            Self::LibvirtNetworkConf { backend, previous } => {
                let path = host.libvirt_network_conf();
                Step {
                    description: format!(
                        "Set firewall_backend = \"{backend}\" in {} ({})",
                        path.display(),
                        network_conf_edit_place(previous.as_deref())
                    ),
                    action: Action::WriteFile {
                        path: path.to_string_lossy().into_owned(),
                        contents: network_conf_with_backend(previous.as_deref(), *backend),
                    },
                }
            }
            Self::RestartNetworkDriver { daemon } => Step {
                description: format!(
                    "Restart {} so that libvirt's networks get their firewall rules from the new backend",
                    daemon.name()
                ),
                action: Action::Run { argv: strings(&[&tool("systemctl")?, "try-restart", daemon.unit()]) },
            },
            Self::QemuBridgeAllow { bridge, previous } => {
                let path = host.qemu_bridge_conf();
                Step {
                    description: format!(
                        "Add “allow {bridge}” to {}, qemu-bridge-helper's access list",
                        path.display()
                    ),
                    action: Action::WriteFile {
                        path: path.to_string_lossy().into_owned(),
                        contents: bridge_conf_with_allow(previous.as_deref(), bridge),
                    },
                }
            }
        })
    }

    /// Undone after every other change of its transaction — and also when
    /// its own step failed, since a failed restart may have left the daemon
    /// stopped: a restart, which then brings the daemon back with the
    /// restored setting.
    pub fn undoes_last(&self) -> bool {
        matches!(self, Self::RestartNetworkDriver { .. })
    }

    /// The step that undoes this change now, or `None` when there is
    /// nothing (left) to undo: it was undone already, or changed by someone
    /// else since — then it is theirs and stays. Runs read-only checks.
    /// `applied`: when the transaction was made (seconds since the epoch).
    pub fn undo_step(&self, host: &Host, ran: &Ran, applied: u64) -> Result<Option<Step>, String> {
        Ok(match self {
            Self::SysctlFile { previous } => {
                let path = host.sysctl_file();
                if host::read_optional(&path, FILE_LIMIT)?.as_deref() != Some(SYSCTL_CONTENTS) {
                    return Ok(None);
                }
                let path = path.to_string_lossy().into_owned();
                Some(match previous {
                    Some(contents) => Step {
                        description: "Restore the earlier sysctl file".to_owned(),
                        action: Action::WriteFile { path, contents: contents.clone() },
                    },
                    None => Step {
                        description: "Remove the sysctl file that kept IPv4 forwarding on".to_owned(),
                        action: Action::RemoveFile { path },
                    },
                })
            }
            Self::Ipv4Forward { previous } => {
                if previous != "0" || host.ip_forward()? != "1" {
                    return Ok(None);
                }
                if let Some(users) = forwarding::set_again_since(host, applied) {
                    eprintln!("vmnet-doctor-helper: IPv4 forwarding stays on: {users} started since the fix");
                    return Ok(None);
                }
                Some(Step {
                    description: "Turn IPv4 forwarding off again".to_owned(),
                    action: Action::Run { argv: strings(&[&tool("sysctl")?, "-w", "net.ipv4.ip_forward=0"]) },
                })
            }
            Self::UfwRule { rule, bridge, uplink } => {
                let ufw = tool("ufw")?;
                let spec = ufw_spec(*rule, bridge, uplink);
                let state = UfwState::read(&ufw, ran)?;
                // Only while it still carries our comment: re-added by hand
                // (UFW then replaces the comment) it is the user's.
                if state.find(&spec).and_then(|added| added.comment.as_deref()) != Some(RULE_COMMENT) {
                    return Ok(None);
                }
                let mut argv = vec![ufw];
                argv.extend(ufw_delete_spec(spec));
                argv.extend(strings(&["comment", RULE_COMMENT]));
                Some(Step {
                    description: format!("Delete the UFW rule “{}”", self.describe()),
                    action: Action::Run { argv },
                })
            }
            // Deleting a rule updates an active UFW at once.
            Self::UfwReload => None,
            Self::Iptables { backend, family, chain, rule, bridge, uplink } => {
                let program = tool(backend.program(*family))?;
                let check = exec::run(&iptables_argv(&program, "-C", *chain, *rule, bridge, uplink), ran);
                match check.status {
                    0 => {}
                    1 => return Ok(None),
                    _ => return Err(format!("cannot check the rule: {}", check.message())),
                }
                Some(Step {
                    description: format!("Delete the {} rule “{}”", chain.name(), self.describe()),
                    action: Action::Run {
                        argv: iptables_argv(&program, "-D", *chain, *rule, bridge, uplink),
                    },
                })
            }
            Self::MssClamp { backend, bridge, uplink } => {
                let program = tool(backend.program(Family::Ipv4))?;
                let check = exec::run(&mss_clamp_argv(&program, "-C", bridge, uplink), ran);
                match check.status {
                    0 => {}
                    1 => return Ok(None),
                    _ => return Err(format!("cannot check the rule: {}", check.message())),
                }
                Some(Step {
                    description: format!("Delete the mangle FORWARD rule “{}”", self.describe()),
                    action: Action::Run { argv: mss_clamp_argv(&program, "-D", bridge, uplink) },
                })
            }
            Self::LibvirtNetworkConf { backend, previous } => restore_step(
                &host.libvirt_network_conf(),
                &network_conf_with_backend(previous.as_deref(), *backend),
                previous.as_deref(),
            )?,
            Self::QemuBridgeAllow { bridge, previous } => restore_step(
                &host.qemu_bridge_conf(),
                &bridge_conf_with_allow(previous.as_deref(), bridge),
                previous.as_deref(),
            )?,
            Self::RestartNetworkDriver { daemon } => {
                if !host.systemd_booted() {
                    return Ok(None);
                }
                Some(Step {
                    description: format!("Restart {} so that it uses the restored setting", daemon.name()),
                    action: Action::Run {
                        argv: strings(&[&tool("systemctl")?, "try-restart", daemon.unit()]),
                    },
                })
            }
        })
    }

    /// One line, for the list of transactions.
    pub fn describe(&self) -> String {
        match self {
            Self::SysctlFile { .. } => format!("wrote /etc/sysctl.d/{}", host::SYSCTL_FILE_NAME),
            Self::Ipv4Forward { .. } => "set net.ipv4.ip_forward = 1".to_owned(),
            Self::UfwRule { rule, bridge, uplink } => {
                format!("ufw {}", ufw_spec(*rule, bridge, uplink).join(" "))
            }
            Self::UfwReload => "ufw reload".to_owned(),
            Self::Iptables { backend, family, chain, rule, bridge, uplink } => {
                format!(
                    "{} -I {} {}",
                    backend.program(*family),
                    chain.name(),
                    iptables_spec(*rule, bridge, uplink).join(" ")
                )
            }
            Self::MssClamp { backend, bridge, uplink } => {
                mss_clamp_argv(backend.program(Family::Ipv4), "-I", bridge, uplink)
                    .into_iter()
                    .filter(|arg| arg != "-w" && arg != "10")
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Self::LibvirtNetworkConf { backend, .. } => {
                format!("set firewall_backend = \"{backend}\" in /etc/libvirt/network.conf")
            }
            Self::RestartNetworkDriver { daemon } => format!("systemctl try-restart {}", daemon.unit()),
            Self::QemuBridgeAllow { bridge, .. } => {
                format!("added “allow {bridge}” to /etc/qemu/bridge.conf")
            }
        }
    }
}

/// The step that puts back PREVIOUS (or removes the file, when there was
/// none) where the helper wrote OURS — only while PATH is still exactly
/// as the helper wrote it: edited since, it is the admin's.
fn restore_step(path: &Path, ours: &str, previous: Option<&str>) -> Result<Option<Step>, String> {
    if host::read_optional(path, FILE_LIMIT)?.as_deref() != Some(ours) {
        return Ok(None);
    }
    let path = path.to_string_lossy().into_owned();
    Ok(Some(match previous {
        Some(contents) => Step {
            description: format!("Restore {path} as it was"),
            action: Action::WriteFile { path, contents: contents.to_owned() },
        },
        None => Step {
            description: format!("Remove {path}, which did not exist before"),
            action: Action::RemoveFile { path },
        },
    }))
}

/// Runs one step and says how it went. File steps may only touch the
/// files the helper manages: its sysctl file, libvirt's network.conf and
/// qemu-bridge-helper's bridge.conf.
pub fn execute(step: &Step, host: &Host, ran: &Ran) -> StepResult {
    let (exit_status, message) = match &step.action {
        Action::Run { argv } => {
            let output = exec::run(argv, ran);
            (output.status, output.message())
        }
        Action::WriteFile { path, contents } => record_file(
            ran,
            "write",
            path,
            file_op(host, path, |path| in_place_file::write(path, contents.as_bytes())),
        ),
        Action::RemoveFile { path } => {
            record_file(ran, "remove", path, file_op(host, path, in_place_file::remove))
        }
    };
    StepResult { step: step.clone(), exit_status, message }
}

fn file_op(host: &Host, path: &str, op: impl FnOnce(&Path) -> std::io::Result<()>) -> Result<(), String> {
    let Some(ours) = host.managed_files().into_iter().find(|ours| Path::new(path) == ours) else {
        return Err(format!("{path} is not a file the helper manages"));
    };
    op(&ours).map_err(|error| format!("{path}: {error}"))
}

fn record_file(ran: &Ran, verb: &str, path: &str, result: Result<(), String>) -> (i32, String) {
    let (status, message) = match result {
        Ok(()) => (0, String::new()),
        Err(why) => (-1, why),
    };
    ran.record(&[verb.to_owned(), path.to_owned()], status);
    (status, message)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    pub(super) type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A checked interface name, for the tests of this module and its parts.
    pub(super) fn name(text: &str) -> Result<IfaceName, Box<dyn std::error::Error>> {
        Ok(IfaceName::new(text)?)
    }

    #[test]
    fn the_journal_form_is_typed_and_validated() -> TestResult {
        let change =
            Change::UfwRule { rule: UfwRuleKind::AllowIn, bridge: name("virbr0")?, uplink: name("eth0")? };
        let json = serde_json::to_string(&change)?;
        assert_eq!(json, r#"{"type":"ufw-rule","rule":"allow-in","bridge":"virbr0","uplink":"eth0"}"#);
        assert_eq!(serde_json::from_str::<Change>(&json)?, change);
        let tampered = json.replace("virbr0", "virbr0 -j DROP");
        assert!(serde_json::from_str::<Change>(&tampered).is_err());
        Ok(())
    }

    #[test]
    fn file_steps_touch_only_the_files_the_helper_manages() -> TestResult {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        fs::create_dir_all(dir.path().join("etc/sysctl.d"))?;
        fs::create_dir_all(dir.path().join("etc/libvirt"))?;
        let ran = Ran::default();
        let write = |path: &Path| Step {
            description: String::new(),
            action: Action::WriteFile { path: path.to_string_lossy().into_owned(), contents: "x\n".into() },
        };
        let elsewhere = execute(&write(&dir.path().join("etc/passwd")), &host, &ran);
        assert_eq!(elsewhere.exit_status, -1);
        assert!(!dir.path().join("etc/passwd").exists());
        let ours = execute(&write(&host.sysctl_file()), &host, &ran);
        assert!(ours.succeeded(), "{ours:?}");
        assert_eq!(fs::read_to_string(host.sysctl_file())?, "x\n");
        assert_eq!(fs::metadata(host.sysctl_file())?.permissions().mode() & 0o777, 0o644);
        let qemu_conf = dir.path().join("etc/libvirt/qemu.conf");
        assert_eq!(execute(&write(&qemu_conf), &host, &ran).exit_status, -1);
        assert!(!qemu_conf.exists());
        // An existing file keeps its mode; a link is not written through.
        fs::write(host.libvirt_network_conf(), "")?;
        fs::set_permissions(host.libvirt_network_conf(), fs::Permissions::from_mode(0o640))?;
        assert!(execute(&write(&host.libvirt_network_conf()), &host, &ran).succeeded());
        assert_eq!(fs::metadata(host.libvirt_network_conf())?.permissions().mode() & 0o777, 0o640);
        fs::remove_file(host.libvirt_network_conf())?;
        std::os::unix::fs::symlink(&qemu_conf, host.libvirt_network_conf())?;
        assert_eq!(execute(&write(&host.libvirt_network_conf()), &host, &ran).exit_status, -1);
        assert!(!qemu_conf.exists());
        Ok(())
    }

    #[test]
    fn the_sysctl_file_is_undone_only_while_it_is_ours() -> TestResult {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        fs::create_dir_all(dir.path().join("etc/sysctl.d"))?;
        let ran = Ran::default();
        let change = Change::SysctlFile { previous: None };
        assert_eq!(change.undo_step(&host, &ran, 0)?, None, "no file: nothing to undo");
        fs::write(host.sysctl_file(), SYSCTL_CONTENTS)?;
        let undo = change.undo_step(&host, &ran, 0)?.ok_or("no undo step")?;
        assert!(matches!(undo.action, Action::RemoveFile { .. }));
        let restore = Change::SysctlFile { previous: Some("net.ipv4.ip_forward = 1 # mine\n".into()) };
        assert!(matches!(
            restore.undo_step(&host, &ran, 0)?.map(|s| s.action),
            Some(Action::WriteFile { .. })
        ));
        fs::write(host.sysctl_file(), "edited by the admin\n")?;
        assert_eq!(change.undo_step(&host, &ran, 0)?, None, "changed since: theirs now");
        Ok(())
    }

    #[test]
    fn journals_without_a_family_are_ipv4() -> TestResult {
        let old = r#"{"type":"iptables","backend":"nft","chain":"forward","rule":"out","bridge":"virbr0","uplink":"eth0"}"#;
        let Change::Iptables { family, .. } = serde_json::from_str::<Change>(old)? else {
            return Err("not an iptables change".into());
        };
        assert_eq!(family, Family::Ipv4);
        Ok(())
    }
}
