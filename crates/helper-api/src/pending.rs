//! What became of a change when the client stopped waiting for the helper.
//!
//! A call that times out on the client's side goes on in the helper: the
//! change may be made a moment later, or may have been made already. So
//! the client does not report "failed": it reads the helper's journal and
//! says what is there.

use std::collections::HashMap;
use std::fmt;

use crate::fix::FixWire;
use crate::types::TransactionInfo;

/// The journal's view of a change the client stopped waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// A transaction for the change, with its state as journaled:
    /// `applying` (steps running), `applied`, `incomplete` (a rollback or
    /// revert left some changes in place) or `reverted`.
    Transaction { id: String, state: String },
    /// No transaction for the change since the call: nothing has been
    /// changed yet (the helper may still be checking the host, or waiting
    /// for polkit).
    NotStarted,
    /// The journal could not be read.
    Unknown(String),
}

impl fmt::Display for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transaction { id, state } => {
                write!(f, "the helper's journal has transaction {id}, {state}")
            }
            Self::NotStarted => f.write_str("the helper's journal has no transaction for it yet"),
            Self::Unknown(why) => write!(f, "the helper's journal could not be read: {why}"),
        }
    }
}

/// The newest transaction for `fix` created at or after `since` (seconds
/// since the epoch, the helper's clock being the same host's), with its
/// state from `states` (`TransactionStates`).
pub fn pending_apply(
    transactions: &[TransactionInfo],
    states: &HashMap<String, String>,
    fix: &FixWire,
    since: u64,
) -> Pending {
    transactions
        .iter()
        .filter(|transaction| transaction.fix == *fix && transaction.created >= since)
        .max_by_key(|transaction| transaction.created)
        .map_or(Pending::NotStarted, |transaction| Pending::Transaction {
            id: transaction.id.clone(),
            state: state_of(transaction, states),
        })
}

/// The state of transaction `id` (a revert the client stopped waiting for).
pub fn pending_revert(
    transactions: &[TransactionInfo],
    states: &HashMap<String, String>,
    id: &str,
) -> Pending {
    transactions.iter().find(|transaction| transaction.id == id).map_or_else(
        || Pending::Unknown(format!("it has no transaction {id}")),
        |transaction| Pending::Transaction { id: id.to_owned(), state: state_of(transaction, states) },
    )
}

/// From `TransactionStates`, or (a helper without it) what the list says.
fn state_of(transaction: &TransactionInfo, states: &HashMap<String, String>) -> String {
    states.get(&transaction.id).cloned().unwrap_or_else(|| {
        if transaction.reverted { "reverted" } else { "applied or being applied" }.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn wire(kind: &str, bridge: &str) -> FixWire {
        FixWire { kind: kind.to_owned(), args: BTreeMap::from([("bridge".to_owned(), bridge.to_owned())]) }
    }

    fn transaction(id: &str, fix: FixWire, created: u64) -> TransactionInfo {
        TransactionInfo { id: id.to_owned(), fix, created, reverted: false, changes: vec![] }
    }

    #[test]
    fn the_newest_transaction_of_the_same_fix_since_the_call_is_the_one() {
        let fix = wire("ufw-allow-bridge", "virbr0");
        let list = [
            transaction("old", fix.clone(), 100),
            transaction("other-bridge", wire("ufw-allow-bridge", "virbr1"), 205),
            transaction("new", fix.clone(), 201),
            transaction("other-kind", wire("accept-forward", "virbr0"), 206),
        ];
        let states = HashMap::from([("new".to_owned(), "applying".to_owned())]);
        assert_eq!(
            pending_apply(&list, &states, &fix, 200),
            Pending::Transaction { id: "new".into(), state: "applying".into() }
        );
        assert_eq!(pending_apply(&list, &states, &fix, 202), Pending::NotStarted);
        // A helper without TransactionStates: what the list says.
        assert_eq!(
            pending_apply(&list, &HashMap::new(), &fix, 200),
            Pending::Transaction { id: "new".into(), state: "applied or being applied".into() }
        );
        assert_eq!(
            pending_revert(&list, &HashMap::from([("old".to_owned(), "reverted".to_owned())]), "old"),
            Pending::Transaction { id: "old".into(), state: "reverted".into() }
        );
        assert!(matches!(pending_revert(&list, &states, "gone"), Pending::Unknown(_)));
    }
}
