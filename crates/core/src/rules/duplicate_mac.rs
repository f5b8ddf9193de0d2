//! `duplicate-mac`: two NICs, in one VM or across VMs, with one MAC address.
//!
//! Judged by whether the cards can meet: an error when two of them are on
//! one network segment and run at the same time (two running VMs, or one VM
//! holding both cards); a warning when they cannot meet now — shut-off
//! clones, or cards on separate networks. virt-manager's own test host
//! (its `test:` XML) has four VMs sharing one MAC, only one of them running.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use gettextrs::gettext;

use super::common::{NicRef, nics};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
use crate::interface::InterfaceSource;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    // MAC → its NICs, in snapshot order. Indexed by the lower-case MAC so
    // that a host with thousands of NICs costs one pass, not one per pair.
    let mut groups: Vec<(&str, Vec<NicRef<'_>>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for nic in nics(snapshot) {
        let Some(mac) = nic.nic.mac.as_deref() else {
            continue;
        };
        match index.entry(mac.to_ascii_lowercase()) {
            Entry::Occupied(known) => groups[*known.get()].1.push(nic),
            Entry::Vacant(new) => {
                new.insert(groups.len());
                groups.push((mac, vec![nic]));
            }
        }
    }
    let mut findings = Vec::new();
    for (mac, members) in groups.iter().filter(|(_, members)| members.len() > 1) {
        let holders: Vec<String> = members.iter().map(|member| member.vm().to_owned()).collect();
        let segments: Vec<Option<String>> = members.iter().map(|member| segment(snapshot, member)).collect();
        let meets = |one: usize| {
            (0..members.len()).any(|other| other != one && can_meet(members, &segments, one, other))
        };
        let shares_a_segment = (0..members.len()).any(|one| {
            (0..members.len())
                .any(|other| other != one && segments[one].is_some() && segments[one] == segments[other])
        });
        let mut vms: Vec<&str> = Vec::new();
        // One finding per VM holding the MAC, so each VM shows it; an error
        // for a VM whose card can meet another now.
        for member in members {
            if vms.contains(&member.vm()) {
                continue;
            }
            vms.push(member.vm());
            let error = (0..members.len()).filter(|&i| members[i].vm() == member.vm()).any(meets);
            let values = [("mac", *mac), ("vm", member.vm())];
            let advice = gettext(
                "Give all but one of them a new address: in virt-manager, clear the card’s MAC address and libvirt generates a new one.",
            );
            let (severity, explanation) = if error {
                (
                    Severity::Error,
                    format!(
                        "{} {advice}",
                        gettext(
                            "Two network cards with one MAC address on one network confuse every switch and DHCP server: they get the same IP address (leases are given by MAC), and replies reach one or the other at random."
                        )
                    ),
                )
            } else if shares_a_segment {
                (
                    Severity::Warning,
                    format!(
                        "{} {advice}",
                        gettext(
                            "The cards share a network but do not run at the same time now, as with a VM and its shut-off clone. Started together, they would get the same IP address and steal each other’s replies."
                        )
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "{} {advice}",
                        gettext(
                            "The cards are on separate networks, so they do not meet now. Moved onto one network, they would get the same IP address and steal each other’s replies."
                        )
                    ),
                )
            };
            findings.push(Finding {
                id: "duplicate-mac",
                severity,
                subject: Subject::Nic { vm: member.vm().to_owned(), mac: (*mac).to_owned() },
                title: fill(&gettext("MAC address {mac} is used by more than one network card"), &values),
                explanation,
                evidence: vec![Evidence::new(format!("interface mac address {mac}"), holders.join(", "))],
                fix: None,
            });
        }
    }
    findings
}

/// Whether cards `one` and `other` can be on the wire together: on one
/// segment, and either in one VM (they run together) or both running.
fn can_meet(members: &[NicRef<'_>], segments: &[Option<String>], one: usize, other: usize) -> bool {
    let (a, b) = (&members[one], &members[other]);
    let same_segment = segments[one].is_some() && segments[one] == segments[other];
    same_segment && (a.vm() == b.vm() || (a.domain.state.is_active() && b.domain.state.is_active()))
}

/// The layer-2 segment a card is on: its bridge (a libvirt network's, named
/// in live XML or in the network's definition, or a host bridge), its
/// network's name when no bridge is known, or a macvtap's parent device.
/// User-mode cards each have a private one (None), as do the types whose
/// peers this program cannot see.
fn segment(snapshot: &Snapshot, nic: &NicRef<'_>) -> Option<String> {
    match &nic.nic.source {
        InterfaceSource::Network { network, bridge, .. } => {
            let defined = || snapshot.network(network)?.config.bridge.as_ref()?.name.clone();
            Some(match bridge.clone().or_else(defined) {
                Some(bridge) => format!("bridge {bridge}"),
                None => format!("network {network}"),
            })
        }
        InterfaceSource::Bridge { bridge } => Some(format!("bridge {bridge}")),
        InterfaceSource::Direct { dev, .. } => Some(format!("direct {dev}")),
        _ => None,
    }
}
