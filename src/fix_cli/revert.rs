//! `vmnet-doctor revert TRANSACTION-ID`: undoes what the helper did in one
//! transaction of `vmnet-doctor fix`. Exit status: 0 reverted (or already
//! reverted), 1 the helper could not, 2 bad arguments.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use gettextrs::gettext;
use serde_json::json;
use vmnet_doctor_host::helper_api::{ApplyResult, ClientError, Outcome};

use super::json::helper_result;
use super::polkit_agent::TtyAgent;
use crate::cli::RevertOptions;
use crate::fixes::describe::{self as fix_text, Advice};
use crate::fixes::revert;
use crate::i18n::fill;

/// The schema of `revert --json`.
pub const SCHEMA: &str = "vmnet-doctor-revert/1";

pub fn run(options: &RevertOptions) -> ExitCode {
    let interactive = std::io::stdin().is_terminal();
    let _agent = if interactive { TtyAgent::start() } else { None };
    let result = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(revert(&options.transaction, interactive)),
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
