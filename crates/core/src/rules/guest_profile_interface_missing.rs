//! `guest-profile-interface-missing`: the guide's "Interface mismatch —
//! hardcoded interface name". Inside the guest, a NetworkManager profile
//! (or an ifupdown stanza) is bound to an interface name, or a MAC, that
//! the guest does not have — made on another machine, or before the card's
//! model or slot changed its name (eth0, enp1s0, ens3) — so it never
//! activates.
//!
//! Needs the guest inspection (the profiles come from nmcli run by the
//! agent) and the agent's interface list; without either it says nothing.
//! When a card of the VM has no IPv4 address and NetworkManager runs, the
//! fix is the guide's `kvm-dhcp` profile for the name the guest really uses.

use gettextrs::gettext;

use super::common::{NicRef, is_running};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::guest::{GuestFacts, ServiceState};
use crate::i18n::fill;
use crate::interface::InterfaceType;
use crate::snapshot::{DomainSnapshot, GuestInterface, Snapshot};

/// Which program holds the stale configuration; each is mended its own way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holder {
    NetworkManager,
    Ifupdown,
    Networkd,
    Netplan,
}

/// A configuration bound to something the guest does not have.
pub(super) struct Stale {
    /// "NetworkManager profile “Wired connection 1”", for evidence.
    what: String,
    /// The interface name (or MAC) it is bound to.
    bound: String,
    holder: Holder,
    /// The profile's name, or the file that holds the binding.
    name: String,
}

pub(super) fn stale_bindings(facts: &GuestFacts, interfaces: &[GuestInterface]) -> Vec<Stale> {
    let Some(network) = facts.network.known() else {
        return Vec::new();
    };
    let has_name = |name: &str| interfaces.iter().any(|iface| iface.name == name);
    let has_mac = |mac: &str| {
        interfaces.iter().any(|iface| iface.mac.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(mac)))
    };
    let mut stale = Vec::new();
    for profile in network.profiles.known().into_iter().flatten().filter(|profile| profile.is_ethernet()) {
        let bound = match (&profile.interface_name, &profile.mac) {
            (Some(name), _) if !has_name(name) => name.clone(),
            (_, Some(mac)) if !has_mac(mac) => mac.clone(),
            _ => continue,
        };
        stale.push(Stale {
            what: format!("NetworkManager profile “{}”", profile.name),
            bound,
            holder: Holder::NetworkManager,
            name: profile.name.clone(),
        });
    }
    if network.has_tool("ifup") {
        for iface in
            network.ifupdown.iter().filter(|iface| !iface.name.contains('*') && !has_name(&iface.name))
        {
            stale.push(Stale {
                what: format!(
                    "/etc/network/interfaces: iface {} {} {}",
                    iface.name, iface.family, iface.method
                ),
                bound: iface.name.clone(),
                holder: Holder::Ifupdown,
                name: iface.name.clone(),
            });
        }
    }
    if network.networkd == ServiceState::Running {
        let real: Vec<&GuestInterface> = interfaces.iter().filter(|iface| iface.name != "lo").collect();
        for file in network.networkd_files.iter().filter(|file| !file.other_conditions) {
            let bound = if !file.names.is_empty() && !real.iter().any(|iface| file.matches_name(&iface.name))
            {
                file.names.join(" ")
            } else if let Some(mac) = file.macs.iter().find(|mac| !has_mac(mac)).filter(|_| {
                // Every listed MAC missing: a list matches any one of them.
                file.macs.iter().all(|mac| !has_mac(mac))
            }) {
                mac.clone()
            } else {
                continue;
            };
            let holder = if file.is_netplan() { Holder::Netplan } else { Holder::Networkd };
            stale.push(Stale {
                what: match holder {
                    Holder::Netplan => format!("netplan (rendered for systemd-networkd as {})", file.path),
                    _ => format!("systemd-networkd {}", file.path),
                },
                bound,
                holder,
                name: file.path.clone(),
            });
        }
    }
    stale
}

/// The VM's cards on libvirt networks, with the guest's name for each, that
/// have no IPv4 address in the agent's report.
fn unconfigured(domain: &DomainSnapshot) -> Vec<(NicRef<'_>, &str)> {
    domain
        .interfaces()
        .iter()
        .enumerate()
        .map(|(index, nic)| NicRef { domain, nic, index })
        .filter(|nic| nic.nic.kind == InterfaceType::Network)
        .filter_map(|nic| {
            let mac = nic.nic.mac.as_deref()?;
            let iface = domain.agent_interface(mac)?;
            let has_ipv4 = iface.addresses.iter().any(|address| address.ip.is_ipv4());
            (!has_ipv4).then_some((nic, iface.name.as_str()))
        })
        .collect()
}

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for domain in snapshot.domains.iter().filter(|domain| is_running(domain)) {
        let Some(facts) = domain.guest.known() else {
            continue;
        };
        let Some(interfaces) = domain.agent_interfaces() else {
            continue;
        };
        let stale = stale_bindings(facts, interfaces);
        let Some(first) = stale.first() else {
            continue;
        };
        let vm = domain.name();
        let network_manager_runs =
            facts.network.known().is_some_and(|network| network.network_manager == ServiceState::Running);
        let broken = unconfigured(domain);
        let mut evidence: Vec<Evidence> = stale
            .iter()
            .map(|stale| {
                Evidence::new(
                    stale.what.clone(),
                    format!("bound to {}, which the guest does not have", stale.bound),
                )
            })
            .collect();
        let names: Vec<String> = interfaces
            .iter()
            .filter(|iface| iface.name != "lo")
            .map(|iface| format!("{} ({})", iface.name, iface.mac.as_deref().unwrap_or("?")))
            .collect();
        evidence.push(Evidence::new("guest interfaces (guest agent)", names.join(", ")));
        let (subject, severity, interface, fix) = match broken.first() {
            Some((nic, interface)) => {
                evidence.push(Evidence::new(format!("{interface} IPv4 address"), "none"));
                let fix = (network_manager_runs && first.holder == Holder::NetworkManager).then(|| {
                    Fix::CreateGuestDhcpProfile { vm: vm.to_owned(), interface: (*interface).to_owned() }
                });
                (nic.subject(), Severity::Error, Some(*interface), fix)
            }
            // Every card has an address: the profile is only left over.
            None => (Subject::Vm { name: vm.to_owned() }, Severity::Info, None, None),
        };
        let interface = interface.unwrap_or_default();
        let values = [
            ("vm", vm),
            ("profile", first.name.as_str()),
            ("bound", first.bound.as_str()),
            ("interface", interface),
        ];
        let title = match first.holder {
            Holder::NetworkManager => fill(
                &gettext("A network profile in the guest is bound to {bound}, which the guest does not have"),
                &values,
            ),
            Holder::Ifupdown => fill(
                &gettext(
                    "/etc/network/interfaces in the guest configures {bound}, which the guest does not have",
                ),
                &values,
            ),
            Holder::Networkd => fill(
                &gettext(
                    "systemd-networkd in the guest is set up for {bound}, which the guest does not have",
                ),
                &values,
            ),
            Holder::Netplan => fill(
                &gettext("netplan in the guest configures {bound}, which the guest does not have"),
                &values,
            ),
        };
        let explanation = match (interface.is_empty(), first.holder) {
            (true, _) => fill(
                &gettext(
                    "Inside “{vm}”, “{profile}” is bound to {bound}, an interface the guest does not have, so it never applies. Every card has an address anyway; the configuration is only left over.",
                ),
                &values,
            ),
            (false, Holder::NetworkManager) => fill(
                &gettext(
                    "Inside “{vm}”, NetworkManager's profile “{profile}” is bound to {bound}, but the guest calls this card {interface}: interface names depend on the distribution and on the card's model and slot (eth0, enp1s0, ens3), so a profile made elsewhere never activates here and {interface} gets no address. The guide's fix is a DHCP profile for the real name: “sudo nmcli connection add type ethernet ifname {interface} con-name kvm-dhcp ipv4.method auto ipv6.method ignore”, then “sudo nmcli connection up kvm-dhcp”.",
                ),
                &values,
            ),
            (false, Holder::Ifupdown) => fill(
                &gettext(
                    "Inside “{vm}”, /etc/network/interfaces configures {bound}, but the guest calls this card {interface}: interface names depend on the distribution and on the card's model and slot (eth0, enp1s0, ens3), so {interface} gets no address. Replace {bound} with {interface} in /etc/network/interfaces, then run “sudo ifup {interface}”.",
                ),
                &values,
            ),
            (false, Holder::Networkd) => fill(
                &gettext(
                    "Inside “{vm}”, systemd-networkd's {profile} matches Name={bound}, but the guest calls this card {interface}: interface names depend on the distribution and on the card's model and slot (eth0, enp1s0, ens3), so the file never applies and {interface} gets no address. Change its [Match] line to “Name={interface}”, then run “sudo networkctl reload”.",
                ),
                &values,
            ),
            (false, Holder::Netplan) => fill(
                &gettext(
                    "Inside “{vm}”, netplan configures {bound} (it wrote {profile} for systemd-networkd), but the guest calls this card {interface}: interface names depend on the distribution and on the card's model and slot (eth0, enp1s0, ens3), so {interface} gets no address. In the YAML file under /etc/netplan that names {bound}, replace it with {interface} (or match the card by “macaddress”), then run “sudo netplan apply”.",
                ),
                &values,
            ),
        };
        findings.push(Finding {
            id: "guest-profile-interface-missing",
            severity,
            subject,
            title,
            explanation,
            evidence,
            fix,
        });
    }
    findings
}
