//! Which program wrote a table or chain (UFW, Docker, firewalld, libvirt),
//! judged from the names they always use. Apart from the evaluation
//! because it only reads names: it says whose rules a verdict is about.

use super::Owner;
use super::ir::{self, DropAt, Table};

/// The program a table is named after (firewalld's and libvirt's nftables
/// tables).
pub(super) fn owner_by_table(table: &Table) -> Option<Owner> {
    match table.name.as_str() {
        "firewalld" => Some(Owner::Firewalld),
        "libvirt_network" => Some(Owner::Libvirt),
        _ => None,
    }
}

/// The program a chain is named after (UFW's, Docker's and libvirt's
/// iptables chains).
fn owner_by_chain(chain: &str) -> Option<Owner> {
    if chain.starts_with("ufw-") || chain.starts_with("ufw6-") {
        Some(Owner::Ufw)
    } else if chain.starts_with("DOCKER") {
        Some(Owner::Docker)
    } else if chain.starts_with("LIBVIRT_") {
        Some(Owner::Libvirt)
    } else {
        None
    }
}

/// Every program whose rules are in `table`, by its name and its chains'.
pub(super) fn table_owners(table: &Table) -> Vec<Owner> {
    let mut owners: Vec<Owner> = owner_by_table(table).into_iter().collect();
    for owner in table.chains.iter().filter_map(|chain| owner_by_chain(&chain.name)) {
        if !owners.contains(&owner) {
            owners.push(owner);
        }
    }
    owners
}

/// Whose rules dropped the packet, from names UFW, Docker, firewalld and
/// libvirt always use.
pub(super) fn owner(table: &Table, at: &DropAt) -> Option<Owner> {
    if let Some(found) = owner_by_table(table) {
        return Some(found);
    }
    if let Some(found) = owner_by_chain(&at.chain) {
        return Some(found);
    }
    // A built-in chain's policy or own rule: whoever hooks into it.
    let base = table.chain(&at.base)?;
    let targets: Vec<&str> = base
        .rules
        .iter()
        .filter_map(|rule| match &rule.action {
            ir::Action::Jump(target) | ir::Action::Goto(target) => Some(target.as_str()),
            _ => None,
        })
        .collect();
    [Owner::Ufw, Owner::Docker, Owner::Libvirt]
        .into_iter()
        .find(|candidate| targets.iter().any(|target| owner_by_chain(target) == Some(*candidate)))
}
