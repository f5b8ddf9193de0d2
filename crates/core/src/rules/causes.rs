//! Causes before symptoms: which finding another one explains, so that a
//! cause is shown once, with one Fix, and what it causes under it.
//!
//! Two rules, both read off the findings the diagnosis made:
//! - **One fix, one cause.** Findings whose fix is the same change are one
//!   problem seen from several places (a stopped network and each card on
//!   it; UFW's routed deny and the DHCP it blocks on that bridge). The one
//!   about the broadest subject (host, then network, VM, card) is the
//!   cause; the others are its consequences.
//! - **Stopped, and why.** A network libvirt refuses to start because a
//!   route holds its subnet is explained by `network-subnet-collision`.
//! - **No address, and why.** `vm-no-ip` is explained by the first finding
//!   its own rule names as the likely cause.
//!
//! Chains end at their root: a card's stopped network, explained by the
//! network's finding, explains the VM's missing address through it.

use std::collections::HashMap;

use super::common::NicRef;
use super::{network_subnet_collision, vm_no_ip};
use crate::finding::{Finding, Fix, Subject};
use crate::snapshot::Snapshot;

/// For each finding, the index of the finding that explains it (its root
/// cause), or `None` when it is a cause itself.
pub fn explained_by(snapshot: &Snapshot, findings: &[Finding]) -> Vec<Option<usize>> {
    let owners = fix_owners(findings);
    let direct: Vec<Option<usize>> =
        (0..findings.len()).map(|index| direct_cause(snapshot, findings, &owners, index)).collect();
    (0..findings.len())
        .map(|index| {
            let mut root = direct[index]?;
            // Bounded: a chain is never longer than the list.
            for _ in 0..findings.len() {
                match direct[root] {
                    Some(next) if next != index => root = next,
                    _ => break,
                }
            }
            Some(root)
        })
        .collect()
}

/// The findings that `causes` (as [`explained_by`] gives them) says the
/// finding at `index` explains, in order.
pub fn consequences<'f>(findings: &'f [Finding], causes: &[Option<usize>], index: usize) -> Vec<&'f Finding> {
    findings
        .iter()
        .zip(causes)
        .filter(|(_, cause)| **cause == Some(index))
        .map(|(finding, _)| finding)
        .collect()
}

/// For each finding, the finding that owns its fix: the cause among those
/// that share the fix, the first of the broadest subjects (`None` for a
/// finding without a fix). One pass, so that a thousand VMs' findings are
/// not each compared with every other.
pub fn fix_owners(findings: &[Finding]) -> Vec<Option<usize>> {
    let mut owner_of: HashMap<&Fix, usize> = HashMap::new();
    for (position, finding) in findings.iter().enumerate() {
        let Some(fix) = &finding.fix else { continue };
        let rank = |at: usize| (breadth(&findings[at].subject), at);
        owner_of
            .entry(fix)
            .and_modify(|owner| {
                if rank(position) < rank(*owner) {
                    *owner = position;
                }
            })
            .or_insert(position);
    }
    findings.iter().map(|finding| owner_of.get(finding.fix.as_ref()?).copied()).collect()
}

fn direct_cause(
    snapshot: &Snapshot,
    findings: &[Finding],
    fix_owners: &[Option<usize>],
    index: usize,
) -> Option<usize> {
    let finding = &findings[index];
    // A network libvirt will not start while a route holds its subnet: the
    // collision (moved, it starts) explains why it is stopped.
    if let (true, Subject::Network { name }) = (finding.id == "network-inactive", &finding.subject)
        && network_subnet_collision::blocks_start(snapshot, name)
        && let Some(collision) = findings
            .iter()
            .position(|other| other.id == "network-subnet-collision" && other.subject == finding.subject)
    {
        return Some(collision);
    }
    if finding.fix.is_some() {
        let owner = fix_owners[index]?;
        return (owner != index).then_some(owner);
    }
    if finding.id == "vm-no-ip" {
        let Subject::Vm { name } = &finding.subject else { return None };
        let domain = snapshot.domains.iter().find(|domain| domain.name() == name)?;
        // Its rule looks at cards, networks and the host only, never at a
        // VM's findings: the whole list can be its "earlier" one.
        let cause = domain.interfaces().iter().enumerate().find_map(|(nic_index, nic)| {
            vm_no_ip::causes(NicRef { domain, nic, index: nic_index }, findings).first().copied()
        })?;
        return findings.iter().position(|other| std::ptr::eq(other, cause));
    }
    None
}

/// Broadest first: what is wrong with the host or the connection explains
/// what is wrong with a network, which explains what a VM or a card shows.
fn breadth(subject: &Subject) -> u8 {
    match subject {
        Subject::Connection | Subject::Host => 0,
        Subject::Network { .. } => 1,
        Subject::Vm { .. } => 2,
        Subject::Nic { .. } => 3,
    }
}
