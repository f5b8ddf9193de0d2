//! Applying and reverting fixes: runs exactly the planned steps, rolls back
//! on failure, journals what it did. Blocking; the service runs it on a
//! blocking thread, one mutation at a time.

use vmnet_doctor_helper_api::{ApplyResult, FixRequest, Outcome, StepResult, TransactionInfo};

use crate::changes::{self, Change};
use crate::exec::Ran;
use crate::host::Host;
use crate::journal::{self, LoadError, Record, State};
use crate::plan::{self, PlanError};

/// Why `Apply` or `Revert` did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    HostCheck(String),
    PlanChanged(String),
    UnknownTransaction(String),
    Failed(String),
}

impl From<PlanError> for EngineError {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::HostCheck(why) => Self::HostCheck(why),
            PlanError::Failed(why) => Self::Failed(why),
        }
    }
}

/// Runs the steps `Plan` gives for `fix` now, provided they are the steps
/// of the plan the caller was shown (`plan_id`).
pub fn apply(host: &Host, fix: &FixRequest, plan_id: &str, ran: &Ran) -> Result<ApplyResult, EngineError> {
    let planned = plan::plan(fix, host, ran)?;
    if planned.changes.is_empty() {
        return Ok(ApplyResult {
            transaction: String::new(),
            outcome: Outcome::NothingToDo,
            steps: vec![],
            rollback: vec![],
        });
    }
    let plan = planned.to_plan();
    if plan.id != plan_id {
        return Err(EngineError::PlanChanged(format!(
            "the plan is now {} (was {plan_id}): {}",
            plan.id,
            plan.steps.iter().map(|step| step.action.display()).collect::<Vec<_>>().join("; ")
        )));
    }
    // Journaled before anything runs, so a helper that dies midway leaves
    // a record Revert can use (each undo checks that its change is there).
    let mut record = Record {
        id: journal::new_id(fix.kind()),
        fix: fix.to_wire(),
        created: journal::now(),
        state: State::Applying,
        changes: planned.changes.iter().map(|(_, change)| change.clone()).collect(),
    };
    journal::save(&host.journal, &record).map_err(EngineError::Failed)?;

    let mut results = Vec::new();
    let mut done: Vec<&Change> = Vec::new();
    let mut failed: Option<&Change> = None;
    for (step, change) in &planned.changes {
        let result = changes::execute(step, host, ran);
        let ok = result.succeeded();
        results.push(result);
        if !ok {
            failed = Some(change);
            break;
        }
        done.push(change);
    }
    if done.len() == planned.changes.len() {
        record.state = State::Applied;
        // The record already lists every change; a failed update only
        // leaves it marked "applying", which Revert handles the same way.
        if let Err(why) = journal::save(&host.journal, &record) {
            eprintln!("vmnet-doctor-helper: {why}");
        }
        return Ok(ApplyResult {
            transaction: record.id,
            outcome: Outcome::Applied,
            steps: results,
            rollback: vec![],
        });
    }

    // Roll back, newest first: the step that failed, then what was done:
    // a tool can fail after its change took effect (ufw killed at its
    // timeout after writing its rules; a restart that stopped the daemon).
    // Its undo looks whether the change is there (undo_all restarts last).
    let (rollback, left) =
        undo_all(failed.into_iter().chain(done.into_iter().rev()), host, ran, record.created);
    if left.is_empty() {
        if let Err(why) = journal::remove(&host.journal, &record.id) {
            eprintln!("vmnet-doctor-helper: {why}");
        }
        return Ok(ApplyResult {
            transaction: String::new(),
            outcome: Outcome::RolledBack,
            steps: results,
            rollback,
        });
    }
    record.state = State::Incomplete;
    record.changes = left;
    journal::save(&host.journal, &record).map_err(EngineError::Failed)?;
    Ok(ApplyResult { transaction: record.id, outcome: Outcome::RollbackIncomplete, steps: results, rollback })
}

/// Undoes `changes` in the order given, except that restarts
/// ([`Change::undoes_last`]) come after every other undo: the daemon must
/// start again with the restored configuration. Returns the undo steps that
/// ran and the changes still in place (their undo failed or could not be
/// planned).
fn undo_all<'a>(
    changes: impl Iterator<Item = &'a Change>,
    host: &Host,
    ran: &Ran,
    applied: u64,
) -> (Vec<StepResult>, Vec<Change>) {
    let mut results = Vec::new();
    let mut left = Vec::new();
    for change in undo_order(changes) {
        match change.undo_step(host, ran, applied) {
            Ok(None) => {}
            Ok(Some(step)) => {
                let result = changes::execute(&step, host, ran);
                if !result.succeeded() {
                    left.push(change.clone());
                }
                results.push(result);
            }
            Err(why) => {
                // Could not even tell whether it is still there: nothing ran;
                // it stays journaled for a retry. The "step" only reports that.
                let step = vmnet_doctor_helper_api::Step {
                    description: format!("Check whether “{}” is still in place", change.describe()),
                    action: vmnet_doctor_helper_api::Action::Run { argv: vec!["(not run)".to_owned()] },
                };
                results.push(StepResult { step, exit_status: -1, message: why });
                left.push(change.clone());
            }
        }
    }
    // Oldest first, as they were made.
    left.reverse();
    (results, left)
}

/// `changes` in the order given, restarts moved after the rest (a stable
/// sort: the others keep their order).
fn undo_order<'a>(changes: impl Iterator<Item = &'a Change>) -> Vec<&'a Change> {
    let mut changes: Vec<&Change> = changes.collect();
    changes.sort_by_key(|change| change.undoes_last());
    changes
}

/// Undoes what a journaled transaction changed, and only that.
pub fn revert(host: &Host, id: &str, ran: &Ran) -> Result<ApplyResult, EngineError> {
    let mut record = journal::load(&host.journal, id).map_err(|error| match error {
        LoadError::NotFound(why) => EngineError::UnknownTransaction(why),
        LoadError::Unreadable(why) => EngineError::Failed(why),
    })?;
    if record.state == State::Reverted {
        return Ok(ApplyResult {
            transaction: record.id,
            outcome: Outcome::NothingToDo,
            steps: vec![],
            rollback: vec![],
        });
    }
    let (steps, left) = undo_all(record.changes.iter().rev(), host, ran, record.created);
    let outcome = if left.is_empty() {
        record.state = State::Reverted;
        Outcome::Reverted
    } else {
        record.state = State::Incomplete;
        record.changes = left;
        Outcome::RevertIncomplete
    };
    journal::save(&host.journal, &record).map_err(EngineError::Failed)?;
    Ok(ApplyResult { transaction: record.id, outcome, steps, rollback: vec![] })
}

/// Each journaled transaction's state, by id.
pub fn transaction_states(host: &Host) -> std::collections::HashMap<String, String> {
    journal::list(&host.journal)
        .into_iter()
        .map(|record| (record.id, record.state.as_str().to_owned()))
        .collect()
}

pub fn transactions(host: &Host) -> Vec<TransactionInfo> {
    journal::list(&host.journal)
        .into_iter()
        .map(|record| TransactionInfo {
            reverted: record.state == State::Reverted,
            changes: record.changes.iter().map(Change::describe).collect(),
            id: record.id,
            fix: record.fix,
            created: record.created,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_helper_api::LibvirtFirewallBackend;

    use super::*;
    use crate::host::NetworkDaemon;

    #[test]
    fn a_restart_is_undone_after_the_file_it_follows() {
        let file = Change::LibvirtNetworkConf { backend: LibvirtFirewallBackend::Nftables, previous: None };
        let restart = Change::RestartNetworkDriver { daemon: NetworkDaemon::Virtnetworkd };
        let forwarding = Change::Ipv4Forward { previous: "0".to_owned() };
        // Newest first, as a revert walks them, but the restart last.
        let applied = [file.clone(), restart.clone(), forwarding.clone()];
        assert_eq!(undo_order(applied.iter().rev()), [&forwarding, &file, &restart]);
    }
}
