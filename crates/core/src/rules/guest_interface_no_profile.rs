//! `guest-interface-no-profile`: inside the guest NetworkManager runs, but
//! no profile may activate on a card's interface — none was ever made for
//! it and NetworkManager makes no automatic one (`no-auto-default=*`, as
//! cloud images and minimal installs set, or the automatic “Wired
//! connection 1” deleted) — so the card never asks for an address.
//!
//! A profile bound to a name the guest does not have is
//! `guest-profile-interface-missing`'s; a card that another stack
//! configures (systemd-networkd, an ifupdown stanza) is not
//! NetworkManager's. Needs the guest inspected.

use gettextrs::gettext;

use super::common::{is_running, nics};
use super::guest_profile_interface_missing::stale_bindings;
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::guest::ServiceState;
use crate::i18n::fill;
use crate::interface::InterfaceType;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot).filter(|nic| is_running(nic.domain)) {
        if !matches!(nic.nic.kind, InterfaceType::Network | InterfaceType::Bridge) {
            continue;
        }
        let Some(mac) = nic.nic.mac.as_deref() else { continue };
        let Some(facts) = nic.domain.guest.known() else { continue };
        let Some(network) = facts.network.known() else { continue };
        let Some(profiles) = network.profiles.known() else { continue };
        if network.network_manager != ServiceState::Running || network.networkd == ServiceState::Running {
            continue;
        }
        let (Some(interfaces), Some(interface)) =
            (nic.domain.agent_interfaces(), nic.domain.agent_interface(mac))
        else {
            continue;
        };
        let name = interface.name.as_str();
        let has_ipv4 = interface.addresses.iter().any(|address| address.ip.is_ipv4());
        let ifupdown_has_it =
            network.has_tool("ifup") && network.ifupdown.iter().any(|iface| iface.name == name);
        if has_ipv4
            || ifupdown_has_it
            || profiles.iter().any(|profile| profile.may_activate_on(name, mac))
            || !stale_bindings(facts, interfaces).is_empty()
        {
            continue;
        }
        let vm = nic.vm();
        let label = nic.label();
        let ethernet: Vec<String> = profiles
            .iter()
            .filter(|profile| profile.is_ethernet())
            .map(|profile| match &profile.interface_name {
                Some(bound) => format!("“{}” ({bound})", profile.name),
                None => format!("“{}”", profile.name),
            })
            .collect();
        let values = [("vm", vm), ("interface", name), ("mac", label.as_str())];
        findings.push(Finding {
            id: "guest-interface-no-profile",
            severity: Severity::Error,
            subject: nic.subject(),
            title: fill(&gettext("No network profile in the guest applies to {interface}"), &values),
            explanation: fill(
                &gettext("Inside “{vm}”, NetworkManager runs, but none of its profiles may activate on {interface} (card {mac}), and it makes no automatic one (no-auto-default in its configuration, or the automatic “Wired connection” was deleted). So {interface} never asks for an address. The guide’s fix is a DHCP profile for it: “sudo nmcli connection add type ethernet ifname {interface} con-name kvm-dhcp ipv4.method auto ipv6.method ignore”, then “sudo nmcli connection up kvm-dhcp”."),
                &values,
            ),
            evidence: vec![
                Evidence::new("guest interface", format!("{name} ({mac}), no IPv4 address")),
                Evidence::new(
                    "NetworkManager ethernet profiles (guest)",
                    if ethernet.is_empty() { "none".to_owned() } else { ethernet.join(", ") },
                ),
            ],
            fix: Some(Fix::CreateGuestDhcpProfile { vm: vm.to_owned(), interface: name.to_owned() }),
        });
    }
    findings
}
