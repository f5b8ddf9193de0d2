//! The guide's "Create a DHCP Profile": NetworkManager's `kvm-dhcp` for
//! the interface the guest itself names, brought up; and its removal. The
//! steps are nmcli's own commands, run without a shell.

use virt::domain::Domain;
use vmnet_doctor_core::guest::nm_terse_fields;

use super::{FixPreview, ask, run_step};
use crate::agent::AgentError;
use crate::error::LibvirtError;

/// The guide's profile name.
pub const DHCP_PROFILE: &str = "kvm-dhcp";

/// A profile named `kvm-dhcp` as nmcli lists it.
struct Existing {
    uuid: String,
    /// `connection.interface-name`.
    interface: String,
    /// The device it is active on, if any.
    device: String,
}

/// The guest's `kvm-dhcp` profiles (NetworkManager allows several with one name).
fn existing(domain: &Domain, vm: &str) -> Result<Vec<Existing>, LibvirtError> {
    let listed = ask(domain, vm, &["nmcli", "-t", "-f", "NAME,UUID,DEVICE", "connection", "show"])?;
    if !listed.succeeded() {
        return Err(LibvirtError::GuestAgent {
            vm: vm.to_owned(),
            error: AgentError::Failed {
                command: "nmcli connection show".to_owned(),
                detail: [listed.stderr.trim(), listed.stdout.trim()].join(" ").trim().to_owned(),
            },
        });
    }
    let mut found = Vec::new();
    for line in listed.stdout.lines() {
        let [name, uuid, device] = &nm_terse_fields(line)[..] else {
            continue;
        };
        if name != DHCP_PROFILE {
            continue;
        }
        let shown =
            ask(domain, vm, &["nmcli", "-t", "-f", "connection.interface-name", "connection", "show", uuid])?;
        let interface = shown
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix("connection.interface-name:"))
            .unwrap_or_default()
            .to_owned();
        found.push(Existing { uuid: uuid.clone(), interface, device: device.clone() });
    }
    Ok(found)
}

pub(super) fn plan_create(
    domain: &Domain,
    vm: &str,
    interface: &str,
    preview: &mut FixPreview,
) -> Result<(), LibvirtError> {
    let profiles = existing(domain, vm)?;
    match profiles.first() {
        None => preview.steps.push(run_step(
            vm,
            &[
                "nmcli",
                "connection",
                "add",
                "type",
                "ethernet",
                "ifname",
                interface,
                "con-name",
                DHCP_PROFILE,
                "ipv4.method",
                "auto",
                "ipv6.method",
                "ignore",
            ],
        )),
        Some(profile) if profile.interface != interface => preview.steps.push(run_step(
            vm,
            &["nmcli", "connection", "modify", &profile.uuid, "connection.interface-name", interface],
        )),
        Some(profile) if profile.device == interface => return Ok(()),
        Some(_) => {}
    }
    let target = profiles.first().map_or(DHCP_PROFILE, |profile| profile.uuid.as_str());
    preview.steps.push(run_step(vm, &["nmcli", "-w", "30", "connection", "up", target]));
    Ok(())
}

pub(super) fn plan_remove(domain: &Domain, vm: &str, preview: &mut FixPreview) -> Result<(), LibvirtError> {
    for profile in existing(domain, vm)? {
        preview.steps.push(run_step(vm, &["nmcli", "connection", "delete", &profile.uuid]));
    }
    Ok(())
}
