//! `duplicate-mac`: two NICs, in one VM or across VMs, with one MAC address.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use gettextrs::gettext;

use super::common::{NicRef, nics};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
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
        let mut vms: Vec<&str> = Vec::new();
        // One finding per VM holding the MAC, so each VM shows it.
        for member in members {
            if vms.contains(&member.vm()) {
                continue;
            }
            vms.push(member.vm());
            let values = [("mac", *mac), ("vm", member.vm())];
            findings.push(Finding {
                id: "duplicate-mac",
                severity: Severity::Error,
                subject: Subject::Nic { vm: member.vm().to_owned(), mac: (*mac).to_owned() },
                title: fill(&gettext("MAC address {mac} is used by more than one network card"), &values),
                explanation: gettext("Two network cards with one MAC address confuse every switch and DHCP server: on the same network they get the same IP address (leases are given by MAC), and replies reach one or the other at random. Give all but one of them a new address: in virt-manager, clear the card's MAC address and libvirt generates a new one."),
                evidence: vec![Evidence::new(format!("interface mac address {mac}"), holders.join(", "))],
                fix: None,
            });
        }
    }
    findings
}
