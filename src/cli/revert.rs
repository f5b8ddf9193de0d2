//! `vmnet-doctor revert [--connect URI] TRANSACTION-ID`: undoes what the
//! helper did in one transaction of `vmnet-doctor fix` (with a `+ssh` URI
//! of another machine, the server's helper, over SSH), or (ids starting
//! `guest-`) a fix made inside a guest through its agent. Exit status: 0 reverted (or already
//! reverted), 1 the helper or the guest could not, 2 bad arguments.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use gettextrs::gettext;
use serde_json::json;
use vmnet_doctor_host::helper_api::{ApplyResult, ClientError, Outcome};

use crate::cli::args::RevertOptions;
use crate::cli::fix::json::{helper_result, libvirt_applied};
use crate::cli::polkit_agent::TtyAgent;
use crate::fixes::describe::{self as fix_text, Advice};
use crate::fixes::guest_journal::PREFIX as GUEST_PREFIX;
use crate::fixes::{GuestRevertError, GuestReverted, RemoteHelper, revert, revert_guest};
use crate::i18n::fill;
use crate::probe;

/// The schema of `revert --json`.
pub const SCHEMA: &str = "vmnet-doctor-revert/1";

pub fn run(options: &RevertOptions) -> ExitCode {
    if options.transaction.starts_with(GUEST_PREFIX) {
        return run_guest(options);
    }
    let interactive = std::io::stdin().is_terminal();
    let _agent = if interactive { TtyAgent::start() } else { None };
    // A server's transaction is in its helper's journal: reverted there.
    let remote = options.connect.as_deref().and_then(probe::ssh_server).map(RemoteHelper::new);
    let result = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => match &remote {
            Some(remote) => runtime.block_on(remote.revert(&options.transaction)),
            None => runtime.block_on(revert(&options.transaction, interactive)),
        },
        Err(error) => Err(ClientError::Other(error.to_string())),
    };
    let mut stdout = std::io::stdout().lock();
    let printed = if options.json {
        let document = match &result {
            Ok(result) => {
                json!({ "schema": SCHEMA, "transaction": options.transaction, "result": helper_result(result), "error": null })
            }
            Err(error) => {
                let Advice { message, hint } = fix_text::helper_error(error);
                json!({ "schema": SCHEMA, "transaction": options.transaction, "result": null, "error": { "message": message, "advice": hint } })
            }
        };
        serde_json::to_writer_pretty(&mut stdout, &document)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        write_text(&mut stdout, &options.transaction, &result)
    };
    if printed.and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn write_text(
    out: &mut impl Write,
    transaction: &str,
    result: &Result<ApplyResult, ClientError>,
) -> std::io::Result<()> {
    match result {
        Ok(result) => {
            let text = match result.outcome {
                Outcome::NothingToDo => gettext("Already reverted: nothing to do."),
                _ => fill(
                    &gettext("Reverted the helper's transaction {transaction}."),
                    &[("transaction", transaction)],
                ),
            };
            writeln!(out, "{text}")?;
            for step in &result.steps {
                writeln!(out, "  {}", fix_text::action(&step.step.action))?;
            }
        }
        Err(error) => {
            let advice = fix_text::helper_error(error);
            writeln!(out, "{}", advice.message)?;
            if let Some(hint) = advice.hint {
                writeln!(out, "{hint}")?;
            }
        }
    }
    Ok(())
}

/// A guest transaction: undone through the VM's agent, no helper involved.
fn run_guest(options: &RevertOptions) -> ExitCode {
    let result = revert_guest(&options.transaction);
    let mut stdout = std::io::stdout().lock();
    let printed = if options.json {
        let document = match &result {
            Ok(GuestReverted::Already) => {
                json!({ "schema": SCHEMA, "transaction": options.transaction, "result": { "kind": "libvirt", "outcome": "already-reverted", "done": [] }, "error": null })
            }
            Ok(GuestReverted::Now(report)) => {
                let mut value = libvirt_applied(report);
                if let Some(object) = value.as_object_mut() {
                    object.insert("outcome".to_owned(), json!("reverted"));
                }
                json!({ "schema": SCHEMA, "transaction": options.transaction, "result": value, "error": null })
            }
            Err(error) => {
                let Advice { message, hint } = guest_revert_advice(error);
                json!({ "schema": SCHEMA, "transaction": options.transaction, "result": null, "error": { "message": message, "advice": hint } })
            }
        };
        serde_json::to_writer_pretty(&mut stdout, &document)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        write_guest_text(&mut stdout, &options.transaction, &result)
    };
    if printed.and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn guest_revert_advice(error: &GuestRevertError) -> Advice {
    match error {
        GuestRevertError::Unknown(id) => Advice {
            message: fill(
                &gettext("No guest transaction {transaction} is recorded on this machine."),
                &[("transaction", id)],
            ),
            hint: Some(gettext(
                "Guest fixes are recorded by the user who made them, on the machine where “vmnet-doctor fix” ran.",
            )),
        },
        GuestRevertError::Journal(detail) => Advice {
            message: fill(
                &gettext("The record of the guest fix could not be read or updated: {detail}"),
                &[("detail", detail)],
            ),
            hint: None,
        },
        GuestRevertError::Connect(error) => fix_text::libvirt_error(error),
        GuestRevertError::Libvirt(failure) => fix_text::libvirt_failure(failure),
    }
}

fn write_guest_text(
    out: &mut impl Write,
    transaction: &str,
    result: &Result<GuestReverted, GuestRevertError>,
) -> std::io::Result<()> {
    match result {
        Ok(GuestReverted::Already) => writeln!(out, "{}", gettext("Already reverted: nothing to do."))?,
        Ok(GuestReverted::Now(report)) => {
            writeln!(
                out,
                "{}",
                fill(&gettext("Reverted the guest fix {transaction}."), &[("transaction", transaction)])
            )?;
            for step in &report.done {
                writeln!(out, "  {}", fix_text::step(step))?;
            }
        }
        Err(error) => {
            let advice = guest_revert_advice(error);
            writeln!(out, "{}", advice.message)?;
            if let Some(hint) = advice.hint {
                writeln!(out, "{hint}")?;
            }
        }
    }
    Ok(())
}
