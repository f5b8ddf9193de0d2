//! The human report: a named VM's verdict, then the findings grouped by
//! severity, each cause with what it explains under it; colour only on a
//! TTY.

use std::io::{self, Write};

use gettextrs::{gettext, ngettext};
use vmnet_doctor_core::rules::consequences;
use vmnet_doctor_core::{Fact, Severity, Verdict};

use super::Outcome;
use crate::describe;
use crate::i18n::fill;
use crate::verdict_words::{Whose, words};

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }
}

/// Each connection's report in the order given, then, for several, one
/// line per connection with what it came to.
pub fn write_all(out: &mut dyn Write, outcomes: &[Outcome], colour: bool) -> io::Result<()> {
    for (index, outcome) in outcomes.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        write(out, outcome, colour)?;
    }
    if outcomes.len() < 2 {
        return Ok(());
    }
    let style = Style { on: colour };
    writeln!(
        out,
        "\n{}",
        style.paint(
            "1",
            &fill(&gettext("Checked {count} connections:"), &[("count", &outcomes.len().to_string())])
        )
    )?;
    for outcome in outcomes {
        let errors = outcome.findings.iter().filter(|f| f.severity == Severity::Error).count();
        let warnings = outcome.findings.iter().filter(|f| f.severity == Severity::Warning).count();
        let (code, result) = match outcome.exit_status() {
            2 => ("1;31", gettext("could not be checked")),
            1 => (
                "1;31",
                fill(
                    &ngettext("{count} error", "{count} errors", u32::try_from(errors).unwrap_or(u32::MAX)),
                    &[("count", &errors.to_string())],
                ),
            ),
            _ if warnings > 0 => (
                "1;33",
                fill(
                    &ngettext(
                        "{count} warning",
                        "{count} warnings",
                        u32::try_from(warnings).unwrap_or(u32::MAX),
                    ),
                    &[("count", &warnings.to_string())],
                ),
            ),
            _ => ("1;32", gettext("no problems")),
        };
        writeln!(out, "  {} {}", outcome.uri, style.paint(code, &result))?;
    }
    Ok(())
}

fn write(out: &mut dyn Write, outcome: &Outcome, colour: bool) -> io::Result<()> {
    let style = Style { on: colour };
    writeln!(
        out,
        "{}",
        style.paint("1", &fill(&gettext("VM Network Doctor — {uri}"), &[("uri", &outcome.uri)]))
    )?;
    if let Some(snapshot) = &outcome.snapshot {
        writeln!(
            out,
            "{}",
            fill(
                &gettext("{vms} VMs, {networks} networks"),
                &[
                    ("vms", &snapshot.domains.len().to_string()),
                    ("networks", &snapshot.networks.len().to_string())
                ]
            )
        )?;
        match &snapshot.host {
            Fact::Unknown(reason) => {
                writeln!(
                    out,
                    "{}",
                    fill(&gettext("Host network not checked: {reason}"), &[("reason", reason)])
                )?;
            }
            Fact::Known(_) if crate::connections::is_demo(&outcome.uri) => {
                writeln!(out, "{}", crate::demo_host::recording_note())?;
            }
            Fact::Known(_) => {}
        }
    }
    // The answer first, as at the top of the VM's page in the app.
    if let Some((vm, verdict)) = outcome.verdict() {
        let (title, detail) = words(Whose::Vm(vm), verdict);
        let code = match verdict {
            Verdict::Broken { .. } => "1;31",
            Verdict::Works { .. } => "1;33",
            Verdict::Healthy { .. } => "1;32",
        };
        writeln!(out, "\n{}\n{detail}", style.paint(code, &title))?;
    }
    let causes = outcome.causes();
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        // Causes only: what one explains is printed under it.
        let group: Vec<usize> = (0..outcome.findings.len())
            .filter(|&index| outcome.findings[index].severity == severity && causes[index].is_none())
            .collect();
        if group.is_empty() {
            continue;
        }
        let (heading, mark, code) = match severity {
            Severity::Error => (gettext("Errors"), "✗", "1;31"),
            Severity::Warning => (gettext("Warnings"), "!", "1;33"),
            Severity::Info => (gettext("Information"), "i", "1;34"),
        };
        writeln!(out, "\n{} ({})", style.paint("1", &heading), group.len())?;
        for index in group {
            let finding = &outcome.findings[index];
            writeln!(
                out,
                "{} {} [{}]",
                style.paint(code, mark),
                style.paint("1", &finding.title),
                finding.subject
            )?;
            writeln!(out, "    {}", finding.explanation)?;
            for evidence in &finding.evidence {
                writeln!(out, "    {} {}: {}", style.paint("2", "·"), evidence.what, evidence.value)?;
            }
            if let Some(fix) = &finding.fix {
                writeln!(out, "    {} {}", style.paint("32", "→"), describe::fix(fix))?;
            }
            writeln!(out, "    {}", style.paint("2", &format!("({})", finding.id)))?;
            let consequences = consequences(&outcome.findings, &causes, index);
            if !consequences.is_empty() {
                writeln!(out, "    {}", gettext("Because of this:"))?;
            }
            for consequence in consequences {
                writeln!(
                    out,
                    "      {} {} [{}] {}",
                    style.paint("2", "↳"),
                    consequence.title,
                    consequence.subject,
                    style.paint("2", &format!("({})", consequence.id))
                )?;
            }
        }
    }
    if let Some(failure) = &outcome.failure {
        writeln!(out, "\n{}", style.paint("1;31", failure))?;
    } else if !outcome.findings.iter().any(|f| f.severity != Severity::Info) {
        writeln!(out, "\n{}", style.paint("1;32", &gettext("No problems found.")))?;
    }
    Ok(())
}
