//! The human output of `vmnet-doctor fix`, printed as it goes: each chosen
//! finding, its plan (the XML diff, or the helper's commands and file
//! changes), what applying did, and at the end whether each finding is gone.

use std::io::{self, Write};

use gettextrs::{gettext, ngettext};
use vmnet_doctor_core::Finding;
use vmnet_doctor_host::firewalld_zone::ZonePlan;
use vmnet_doctor_host::helper_api::{Action, ApplyResult, Outcome as HelperOutcome, Plan};
use vmnet_doctor_libvirt::{FixPreview, FixReport};

use super::{FixRun, Item, Status};
use crate::cli::args::FixOptions;
use crate::describe;
use crate::fixes::describe::{self as fix_text, Advice};
use crate::fixes::{FixApplied, FixError, FixPlan};
use crate::i18n::fill;

pub struct Progress<'a> {
    out: &'a mut dyn Write,
    colour: bool,
    /// The first write error; later writes are skipped.
    error: Option<io::Error>,
}

impl<'a> Progress<'a> {
    pub fn new(out: &'a mut dyn Write, colour: bool) -> Self {
        Self { out, colour, error: None }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    fn line(&mut self, text: &str) {
        if self.error.is_none()
            && let Err(error) = writeln!(self.out, "{text}").and_then(|()| self.out.flush())
        {
            self.error = Some(error);
        }
    }

    /// Every line of `text`, indented.
    fn block(&mut self, indent: &str, text: &str) {
        for line in text.lines() {
            self.line(&format!("{indent}{line}"));
        }
    }

    fn advice(&mut self, advice: &Advice) {
        let message = self.paint("1;31", &advice.message);
        self.line(&format!("    {message}"));
        if let Some(hint) = &advice.hint {
            self.line(&format!("    {hint}"));
        }
    }

    pub fn started(&mut self, uri: &str, options: &FixOptions, findings: &[Finding]) {
        let title = self.paint("1", &fill(&gettext("VM Network Doctor — {uri}"), &[("uri", uri)]));
        self.line(&title);
        if options.dry_run {
            self.line(&gettext("Dry run: nothing is changed."));
        }
        if findings.is_empty() {
            let text = if options.all {
                gettext("No finding has an automatic fix: nothing to do.")
            } else {
                fill(&gettext("No finding {ids} now: nothing to do."), &[("ids", &options.ids.join(", "))])
            };
            self.line(&text);
        }
    }

    pub fn finding(&mut self, finding: &Finding, same_fix_as: Option<&Item>) {
        let heading = format!("{} [{}] ({})", finding.title, finding.subject, finding.id);
        let heading = self.paint("1", &heading);
        self.line(&format!("\n{heading}"));
        match (&finding.fix, same_fix_as) {
            (None, _) => self.line(&format!("    {}", gettext("This finding has no automatic fix."))),
            (Some(fix), None) => {
                let text = describe::fix(fix);
                let arrow = self.paint("32", "→");
                self.line(&format!("    {arrow} {text}"));
            }
            (Some(_), Some(earlier)) => self.line(&format!(
                "    {}",
                fill(&gettext("The same fix as for “{title}” above."), &[("title", &earlier.finding.title)])
            )),
        }
    }

    pub fn planned(&mut self, plan: &Result<FixPlan, FixError>) {
        match plan {
            Ok(FixPlan::Libvirt { preview, .. }) => self.libvirt_plan(preview),
            Ok(FixPlan::Helper { plan, .. }) => self.helper_plan(plan),
            Ok(FixPlan::Firewalld(plan)) => self.firewalld_plan(plan),
            Ok(FixPlan::Manual { commands, reason }) => {
                let advice = fix_text::manual_reason(reason);
                self.line(&format!("    {}", advice.message));
                self.line(&format!("    {}", gettext("Run these commands:")));
                for command in commands {
                    self.line(&format!("      {command}"));
                }
                if let Some(hint) = &advice.hint {
                    self.line(&format!("    {hint}"));
                }
            }
            Err(error) => self.advice(&fix_text::fix_error(error)),
        }
    }

    fn libvirt_plan(&mut self, preview: &FixPreview) {
        if preview.is_nothing_to_do() {
            self.line(&format!("    {}", gettext("libvirt already has this change: nothing to do.")));
            return;
        }
        self.line(&format!("    {}", gettext("Plan (libvirt):")));
        for (number, step) in preview.steps.iter().enumerate() {
            self.line(&format!("      {}. {}", number + 1, fix_text::step(step)));
        }
        let (now, after) = fix_text::diff_labels();
        for change in &preview.changes {
            self.line(&format!("    {}:", fix_text::definition(&change.definition)));
            self.block("      ", &change.diff(&now, &after));
        }
        self.line(&format!("    {}", fix_text::planned_effect(preview.effect)));
    }

    fn helper_plan(&mut self, plan: &Plan) {
        if plan.is_empty() {
            self.line(&format!("    {}", gettext("The host already has this change: nothing to do.")));
            return;
        }
        self.line(&format!("    {}", gettext("Plan (VM Network Doctor helper, as root):")));
        self.block("      ", &plan.summary);
        for (number, step) in plan.steps.iter().enumerate() {
            self.line(&format!("      {}. {}", number + 1, step.description));
            self.line(&format!("         {}", fix_text::action(&step.action)));
            if let Action::WriteFile { contents, .. } = &step.action {
                self.block("           | ", contents);
            }
        }
    }

    fn firewalld_plan(&mut self, plan: &ZonePlan) {
        if plan.steps.is_empty() {
            self.line(&format!("    {}", gettext("firewalld already has this change: nothing to do.")));
            return;
        }
        self.line(&format!(
            "    {}",
            fill(&gettext("Plan (firewalld, for the bridge {bridge}):"), &[("bridge", &plan.bridge)])
        ));
        for (number, step) in plan.steps.iter().enumerate() {
            self.line(&format!("      {}. {}", number + 1, fix_text::zone_step(step, &plan.zone)));
        }
    }

    /// An item skipped because the fix of `failed` failed before it.
    pub fn not_attempted(&mut self, failed: Option<&Item>) {
        let title = failed.map_or_else(String::new, |item| item.finding.title.clone());
        let text =
            fill(&gettext("Not attempted: the fix for “{title}” failed before it."), &[("title", &title)]);
        self.line(&format!("    {}", self.paint("33", &text)));
    }

    pub fn applied(&mut self, applied: &Result<FixApplied, FixError>) {
        match applied {
            Ok(FixApplied::Libvirt(report)) => self.libvirt_applied(report),
            Ok(FixApplied::Guest { report, transaction, journal_error }) => {
                self.libvirt_applied(report);
                if let Some(transaction) = transaction {
                    self.line(&format!(
                        "    {}",
                        fill(
                            &gettext("Undo it with: vmnet-doctor revert {transaction}"),
                            &[("transaction", transaction)]
                        )
                    ));
                }
                if let Some(error) = journal_error {
                    self.line(&format!(
                        "    {}",
                        fill(&gettext("Could not record how to undo it: {error}"), &[("error", error)])
                    ));
                }
            }
            Ok(FixApplied::Helper(result)) => self.helper_applied(result),
            Ok(FixApplied::Firewalld(done)) => {
                let text = if done.is_empty() {
                    gettext("Nothing to change.")
                } else {
                    gettext("Applied by firewalld, now and permanently.")
                };
                self.line(&format!("    {}", self.paint("32", &text)));
            }
            Err(error) => self.advice(&fix_text::fix_error(error)),
        }
    }

    fn libvirt_applied(&mut self, report: &FixReport) {
        let done = if report.done.is_empty() {
            gettext("Nothing to change.")
        } else {
            fill(
                &ngettext(
                    "Applied: {count} libvirt call.",
                    "Applied: {count} libvirt calls.",
                    count_u32(report.done.len()),
                ),
                &[("count", &report.done.len().to_string())],
            )
        };
        self.line(&format!("    {}", self.paint("32", &done)));
        if let Some(reason) = &report.running_vm_refused {
            self.line(&format!(
                "    {}",
                fill(&gettext("libvirt did not change the running VM: {reason}"), &[("reason", reason)])
            ));
        }
        self.line(&format!("    {}", fix_text::effect(report.effect)));
    }

    fn helper_applied(&mut self, result: &ApplyResult) {
        let text = match result.outcome {
            HelperOutcome::NothingToDo => gettext("Nothing to change."),
            _ => fill(
                &gettext("Applied by the helper. Undo it with: vmnet-doctor revert {transaction}"),
                &[("transaction", &result.transaction)],
            ),
        };
        self.line(&format!("    {}", self.paint("32", &text)));
    }

    /// The diagnosis after the fixes, one line per chosen finding.
    pub fn finish(mut self, run: &FixRun) -> io::Result<()> {
        if let Some(failure) = &run.failure {
            let text = self.paint("1;31", failure);
            self.line(&format!("\n{text}"));
        } else if !run.items.is_empty() {
            self.line(&format!("\n{}", self.paint("1", &gettext("Result"))));
            for (index, item) in run.items.iter().enumerate() {
                let status = run.status(index);
                let (mark, code) = if status.is_success() { ("✓", "1;32") } else { ("✗", "1;31") };
                let text = format!("{} [{}]: {}", item.finding.id, item.finding.subject, status_text(status));
                let mark = self.paint(code, mark);
                self.line(&format!("{mark} {text}"));
            }
            if let Some(failed) = run.stopped_after.and_then(|index| run.items.get(index)) {
                let text = stopped_text(run, failed);
                self.line(&format!("\n{}", self.paint("1;31", &text)));
            }
        }
        match self.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// What a stopped run applied and what it did not.
fn stopped_text(run: &FixRun, failed: &Item) -> String {
    let applied: Vec<&str> = run
        .items
        .iter()
        .filter(|item| matches!(item.applied, Some(Ok(_))))
        .map(|item| item.finding.title.as_str())
        .collect();
    let skipped = run.items.iter().filter(|item| item.not_attempted).count();
    let mut text = fill(
        &ngettext(
            "Stopped: the fix for “{title}” failed, so {count} fix after it was not attempted.",
            "Stopped: the fix for “{title}” failed, so {count} fixes after it were not attempted.",
            count_u32(skipped),
        ),
        &[("title", &failed.finding.title), ("count", &skipped.to_string())],
    );
    text.push(' ');
    text.push_str(&if applied.is_empty() {
        gettext("Nothing was applied before it.")
    } else {
        fill(&gettext("Applied before it: {fixes}."), &[("fixes", &applied.join("; "))])
    });
    text
}

fn status_text(status: Status) -> String {
    match status {
        Status::Fixed => gettext("fixed, the finding is gone"),
        Status::NextBoot => {
            gettext("applied, in effect at the VM's next boot (shut it down and start it again)")
        }
        Status::Planned => gettext("planned (dry run)"),
        Status::StillPresent => gettext("applied, but the finding is still there"),
        Status::Failed => gettext("the fix failed (see above)"),
        Status::Manual => gettext("to be done by hand (see the commands above)"),
        Status::NoFix => gettext("no automatic fix"),
        Status::NotAttempted => gettext("not attempted: an earlier fix failed"),
    }
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
