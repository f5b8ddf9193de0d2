//! `vmnet-doctor posture [--json]`: the host's security posture — the
//! guide's safety claims, each checked against the host's firewall
//! rulesets and libvirt networks (`vmnet_doctor_core::posture`).
//!
//! A command of its own rather than part of `check`: its statements hold
//! or not (they are not findings to fix), and `check`'s document and exit
//! status stay as they are.
//!
//! Exit status: 0 nothing refuted, 1 a statement does not hold, 2 could not
//! check. JSON: docs/posture-json.md.

use std::io::Write;
use std::process::ExitCode;

use gettextrs::gettext;
use serde_json::{Value, json};
use vmnet_doctor_core::Fact;
use vmnet_doctor_core::posture::{self, Posture, PostureStatus};

use crate::cli::args::{CheckOptions, ReportFormat};
use crate::cli::check;
use crate::i18n::fill;
use crate::probe;

/// Bumped on any incompatible change of the JSON document.
pub const SCHEMA: &str = "vmnet-doctor-posture/1";

#[derive(Debug)]
struct Outcome {
    uri: String,
    /// Why the host's facts are unknown, when they are.
    host_unknown: Option<String>,
    posture: Option<Posture>,
    failure: Option<String>,
}

pub fn run(options: &CheckOptions) -> ExitCode {
    let outcome = evaluate(options);
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let printed = if options.format == ReportFormat::Json {
        serde_json::to_writer_pretty(&mut stdout, &document(&outcome))
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        write_text(&mut stdout, &outcome)
    };
    if printed.and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    match &outcome.posture {
        _ if outcome.failure.is_some() => ExitCode::from(2),
        Some(posture) if posture.statements.iter().any(|s| s.status == PostureStatus::DoesNotHold) => {
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}

fn evaluate(options: &CheckOptions) -> Outcome {
    let mut outcome = Outcome {
        uri: options.connect.first().cloned().unwrap_or_default(),
        host_unknown: None,
        posture: None,
        failure: None,
    };
    if options.vm.is_some() {
        outcome.failure = Some(gettext("posture checks the whole host; --vm does not apply"));
        return outcome;
    }
    let hypervisor = match check::open(options.demo, options.connect.first().map(String::as_str)) {
        Ok(hypervisor) => hypervisor,
        Err(failed) => {
            outcome.failure =
                failed.failure.or_else(|| Some(gettext("Could not read the libvirt connection.")));
            return outcome;
        }
    };
    outcome.uri = hypervisor.uri().to_owned();
    let mut snapshot = match hypervisor.snapshot_blocking() {
        Ok(snapshot) => snapshot,
        Err(error) => {
            outcome.failure = Some(error.to_string());
            return outcome;
        }
    };
    probe::attach_host_facts(&mut snapshot);
    if let Fact::Unknown(why) = &snapshot.host {
        outcome.host_unknown = Some(why.clone());
    }
    outcome.posture = Some(posture::evaluate(&snapshot));
    outcome
}

fn document(outcome: &Outcome) -> Value {
    let statements: Vec<Value> = outcome
        .posture
        .iter()
        .flat_map(|posture| posture.statements.iter())
        .map(|statement| {
            json!({
                "id": statement.id.as_str(),
                "status": statement.status.as_str(),
                "title": statement.title,
                "evidence": statement.evidence,
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "uri": outcome.uri,
        "checked": outcome.failure.is_none(),
        "failure": outcome.failure,
        "host": match &outcome.host_unknown {
            None if outcome.posture.is_some() => json!({ "checked": true }),
            None => json!({ "checked": false, "reason": null }),
            Some(reason) => json!({ "checked": false, "reason": reason }),
        },
        "statements": statements,
    })
}

fn write_text(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    writeln!(out, "{}", fill(&gettext("Security posture of {uri}"), &[("uri", &outcome.uri)]))?;
    if let Some(failure) = &outcome.failure {
        return writeln!(out, "{}", fill(&gettext("Could not check: {why}"), &[("why", failure)]));
    }
    let Some(posture) = &outcome.posture else { return Ok(()) };
    for statement in &posture.statements {
        let mark = match statement.status {
            PostureStatus::Holds => gettext("holds"),
            PostureStatus::DoesNotHold => gettext("DOES NOT HOLD"),
            PostureStatus::Unknown => gettext("unknown"),
        };
        writeln!(out, "\n{} — {mark}", statement.title)?;
        for line in &statement.evidence {
            writeln!(out, "  • {line}")?;
        }
    }
    Ok(())
}
