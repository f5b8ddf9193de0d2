//! The guide's "Create a DHCP Profile": NetworkManager's `kvm-dhcp` for
//! the interface the guest itself names, brought up; and its removal. Where
//! another profile may claim the interface (a static one), `kvm-dhcp` is
//! ranked above it, so that it also wins at the next boot. The steps are
//! nmcli's own commands, run without a shell.

use vmnet_doctor_core::guest::nm_terse_fields;

use super::{FixPreview, ask, run_step};
use crate::agent::AgentChannel;
use crate::agent::AgentError;
use crate::error::LibvirtError;

/// The guide's profile name.
pub const DHCP_PROFILE: &str = "kvm-dhcp";

/// An ethernet profile with the settings that decide where NetworkManager
/// brings it up.
struct Existing {
    listed: Listed,
    /// `connection.interface-name`, empty when unbound.
    interface: String,
    autoconnect: bool,
    priority: i32,
}

impl Existing {
    /// Whether NetworkManager may pick it for `interface` on its own.
    fn competes_for(&self, interface: &str) -> bool {
        self.listed.name != DHCP_PROFILE
            && self.autoconnect
            && (self.interface.is_empty() || self.interface == interface)
    }
}

/// An ethernet profile as `nmcli connection show` lists it.
struct Listed {
    name: String,
    uuid: String,
    /// The device it is active on, if any.
    device: String,
}

/// The guest's ethernet profiles (NetworkManager allows several with one name).
fn listed_ethernet(guest: &dyn AgentChannel, vm: &str) -> Result<Vec<Listed>, LibvirtError> {
    let listed = ask(guest, vm, &["nmcli", "-t", "-f", "NAME,UUID,TYPE,DEVICE", "connection", "show"])?;
    if !listed.succeeded() {
        return Err(LibvirtError::GuestAgent {
            vm: vm.to_owned(),
            error: AgentError::Failed {
                command: "nmcli connection show".to_owned(),
                detail: [listed.stderr.trim(), listed.stdout.trim()].join(" ").trim().to_owned(),
            },
        });
    }
    Ok(listed
        .stdout
        .lines()
        .filter_map(|line| match <[String; 4]>::try_from(nm_terse_fields(line)) {
            Ok([name, uuid, kind, device]) if kind == "802-3-ethernet" => Some(Listed { name, uuid, device }),
            _ => None,
        })
        .collect())
}

/// The guest's ethernet profiles with what decides which one
/// NetworkManager brings up: one more nmcli call each.
fn ethernet_profiles(guest: &dyn AgentChannel, vm: &str) -> Result<Vec<Existing>, LibvirtError> {
    let mut found = Vec::new();
    for listed in listed_ethernet(guest, vm)? {
        let fields = "connection.interface-name,connection.autoconnect,connection.autoconnect-priority";
        let shown = ask(guest, vm, &["nmcli", "-t", "-f", fields, "connection", "show", &listed.uuid])?;
        let value = |key: &str| {
            shown
                .stdout
                .lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
                .unwrap_or_default()
                .trim()
        };
        let interface = value("connection.interface-name").to_owned();
        let autoconnect = value("connection.autoconnect") != "no";
        let priority = value("connection.autoconnect-priority").parse().unwrap_or_default();
        found.push(Existing { listed, interface, autoconnect, priority });
    }
    Ok(found)
}

/// The autoconnect priority that puts `kvm-dhcp` above every other profile
/// NetworkManager may pick for `interface` (a static one that would win at
/// the next boot or reconnect); none when nothing competes, and the
/// guide's command stays as the guide writes it.
fn outranking_priority(profiles: &[Existing], interface: &str) -> Option<i32> {
    profiles
        .iter()
        .filter(|profile| profile.competes_for(interface))
        .map(|profile| profile.priority.saturating_add(1).max(1))
        .max()
}

pub(super) fn plan_create(
    guest: &dyn AgentChannel,
    vm: &str,
    interface: &str,
    preview: &mut FixPreview,
) -> Result<(), LibvirtError> {
    let profiles = ethernet_profiles(guest, vm)?;
    let priority = outranking_priority(&profiles, interface).map(|priority| priority.to_string());
    let ranked: Vec<&str> = priority
        .as_deref()
        .map(|priority| vec!["connection.autoconnect-priority", priority])
        .unwrap_or_default();
    let ours = profiles.iter().find(|profile| profile.listed.name == DHCP_PROFILE);
    match ours {
        None => {
            let mut argv = vec![
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
            ];
            argv.extend(&ranked);
            preview.steps.push(run_step(vm, &argv));
        }
        Some(profile) if profile.interface != interface || !ranked.is_empty() => {
            let mut argv = vec![
                "nmcli",
                "connection",
                "modify",
                &profile.listed.uuid,
                "connection.interface-name",
                interface,
            ];
            argv.extend(&ranked);
            preview.steps.push(run_step(vm, &argv));
        }
        Some(profile) if profile.listed.device == interface => return Ok(()),
        Some(_) => {}
    }
    let target = ours.map_or(DHCP_PROFILE, |profile| profile.listed.uuid.as_str());
    preview.steps.push(run_step(vm, &["nmcli", "-w", "30", "connection", "up", target]));
    Ok(())
}

pub(super) fn plan_remove(
    guest: &dyn AgentChannel,
    vm: &str,
    preview: &mut FixPreview,
) -> Result<(), LibvirtError> {
    // Only the names count here: no details asked of each profile.
    for profile in listed_ethernet(guest, vm)?.iter().filter(|profile| profile.name == DHCP_PROFILE) {
        preview.steps.push(run_step(vm, &["nmcli", "connection", "delete", &profile.uuid]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Existing, Listed, outranking_priority};

    fn profile(name: &str, interface: &str, autoconnect: bool, priority: i32) -> Existing {
        Existing {
            listed: Listed { name: name.into(), uuid: format!("uuid-{name}"), device: String::new() },
            interface: interface.into(),
            autoconnect,
            priority,
        }
    }

    #[test]
    fn kvm_dhcp_is_ranked_above_every_profile_that_may_claim_the_interface() {
        let profiles = [
            profile("office", "enp1s0", true, 10),
            profile("Wired connection 2", "", true, 0),
            profile("old", "ens3", true, 50),
            profile("manual only", "enp1s0", false, 90),
            profile("kvm-dhcp", "enp1s0", true, 70),
        ];
        assert_eq!(outranking_priority(&profiles, "enp1s0"), Some(11));
        // An unbound profile at the default priority, or a negative one.
        assert_eq!(outranking_priority(&profiles[1..2], "enp1s0"), Some(1));
        assert_eq!(outranking_priority(&[profile("low", "", true, -5)], "enp1s0"), Some(1));
        // Nothing else may claim it: the guide's command as written.
        assert_eq!(outranking_priority(&profiles[2..], "enp1s0"), None);
        assert_eq!(outranking_priority(&[], "enp1s0"), None);
    }
}
