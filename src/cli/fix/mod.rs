//! `vmnet-doctor fix`: a finding's fix on a terminal, through the same
//! calls as the window's Fix buttons (libvirt's API, and the polkit-checked
//! helper for host changes). `vmnet-doctor revert` is `crate::cli::revert`.
//!
//! `fix` diagnoses, picks the chosen findings (each id for every subject
//! that has it), puts their fixes in Fix All's order (`core::fix_order`:
//! the host, then networks, then VMs, then inside guests), shows each plan,
//! applies it, and stops at the first fix that fails (the rest are not
//! attempted); then it diagnoses again and says whether each finding is
//! gone. Exit status: 0 every chosen finding is gone or waits only for its
//! VM's next boot (with `--dry-run`: every one has a plan), 1 one remains,
//! a fix failed or was not attempted, 2 bad arguments or no connection.
//! The JSON is documented in `docs/fix-json.md`.

pub(super) mod json;
mod report;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use gettextrs::gettext;
use vmnet_doctor_core::{Finding, Fix, Subject, fix_order};
use vmnet_doctor_libvirt::Effect;

use crate::cli::args::FixOptions;
use crate::cli::check;
use crate::cli::polkit_agent;
use crate::fixes::{FixApplied, FixError, FixPlan, FixRoute, Fixer, route};

/// How one chosen finding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Gone after the fix.
    Fixed,
    /// Applied to what the VM boots with; the running VM has it after a
    /// shutdown and start, and the finding remains until then.
    NextBoot,
    /// `--dry-run`: the plan was shown.
    Planned,
    /// Applied, but the diagnosis still reports it.
    StillPresent,
    /// Planning or applying failed.
    Failed,
    /// To be made by hand (no helper, or not automated): the commands were shown.
    Manual,
    /// The finding has no automatic fix.
    NoFix,
    /// An earlier fix failed, so this one was not tried.
    NotAttempted,
}

impl Status {
    /// Whether it counts as done for the exit status.
    pub fn is_success(self) -> bool {
        matches!(self, Self::Fixed | Self::NextBoot | Self::Planned)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::NextBoot => "next-boot",
            Self::Planned => "planned",
            Self::StillPresent => "still-present",
            Self::Failed => "failed",
            Self::Manual => "manual",
            Self::NoFix => "no-fix",
            Self::NotAttempted => "not-attempted",
        }
    }
}

/// One chosen finding and what became of its fix.
#[derive(Debug)]
pub struct Item {
    pub finding: Finding,
    /// `None` when the finding has no fix, or shares an earlier item's fix.
    pub plan: Option<Result<FixPlan, FixError>>,
    /// The earlier item whose identical fix also serves this one.
    pub same_fix_as: Option<usize>,
    pub applied: Option<Result<FixApplied, FixError>>,
    /// Whether the finding was gone in the diagnosis after the fixes.
    pub gone_after: Option<bool>,
    /// An earlier fix failed, so this one was neither planned nor applied.
    pub not_attempted: bool,
}

impl Item {
    /// Whether planning or applying its fix failed (a plan to make by hand
    /// is not a failure: nothing was tried).
    fn failed(&self) -> bool {
        matches!(self.plan, Some(Err(_))) || matches!(self.applied, Some(Err(_)))
    }

    pub fn route(&self) -> Option<FixRoute> {
        self.finding.fix.as_ref().and_then(|fix| route(fix).ok())
    }
}

/// Everything `fix` did, before it is printed as JSON.
#[derive(Debug)]
pub struct FixRun {
    pub uri: String,
    pub dry_run: bool,
    /// Set when the connection or the diagnosis failed (exit status 2).
    pub failure: Option<String>,
    /// In the order the fixes are applied.
    pub items: Vec<Item>,
    /// The item whose failed fix stopped the run: the ones after it were
    /// not attempted.
    pub stopped_after: Option<usize>,
}

impl FixRun {
    /// The item whose plan and result count for `index` (itself, or the
    /// earlier one with the same fix).
    pub fn source(&self, index: usize) -> Option<&Item> {
        let item = self.items.get(index)?;
        match item.same_fix_as {
            Some(earlier) => self.items.get(earlier),
            None => Some(item),
        }
    }

    pub fn status(&self, index: usize) -> Status {
        let (Some(item), Some(source)) = (self.items.get(index), self.source(index)) else {
            return Status::Failed;
        };
        if item.finding.fix.is_none() {
            return Status::NoFix;
        }
        if source.not_attempted {
            return Status::NotAttempted;
        }
        match (&source.plan, &source.applied) {
            (None, _) | (Some(Err(_)), _) | (_, Some(Err(FixError::Libvirt(_) | FixError::Helper(_)))) => {
                Status::Failed
            }
            (Some(Ok(FixPlan::Manual { .. })), _) | (_, Some(Err(FixError::Manual))) => Status::Manual,
            (Some(Ok(_)), None) => Status::Planned,
            (_, Some(Err(_))) => Status::Failed,
            (Some(Ok(_)), Some(Ok(applied))) => match item.gone_after {
                Some(true) => Status::Fixed,
                _ if applied.effect() == Effect::NextBoot => Status::NextBoot,
                _ => Status::StillPresent,
            },
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        if self.failure.is_some() {
            ExitCode::from(2)
        } else if (0..self.items.len()).all(|index| self.status(index).is_success()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}

pub fn run(options: &FixOptions) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let colour = !options.json && std::io::stdout().is_terminal();
    let run = if options.json {
        let run = fix(options, None);
        json::write(&mut stdout, &run).map(|()| run)
    } else {
        let mut progress = report::Progress::new(&mut stdout, colour);
        let run = fix(options, Some(&mut progress));
        progress.finish(&run).map(|()| run)
    };
    match run.and_then(|run| stdout.flush().map(|()| run)) {
        Ok(run) => run.exit_code(),
        // A closed pipe (e.g. `| head`) is not worth a panic.
        Err(_) => ExitCode::from(2),
    }
}

/// Connects, diagnoses, plans and (unless `--dry-run`) applies each chosen
/// finding's fix, then diagnoses again. `progress` prints each step as it
/// happens, so a plan is on the screen before polkit asks for a password.
fn fix(options: &FixOptions, mut progress: Option<&mut report::Progress<'_>>) -> FixRun {
    let hypervisor = match check::open(options.demo, options.connect.as_deref()) {
        Ok(hypervisor) => hypervisor,
        Err(outcome) => return failed_run(&outcome, options.dry_run),
    };
    // A fix made inside a guest is chosen from, and checked by, what its
    // agent shows.
    let guests = if options.all || options.ids.iter().any(|id| id.starts_with("guest-")) {
        check::Guests::Connected
    } else {
        check::Guests::Named
    };
    let before = check::examine_guests(&hypervisor, options.vm.as_deref(), guests);
    if before.failure.is_some() {
        return failed_run(&before, options.dry_run);
    }
    let findings: Vec<Finding> = before
        .findings
        .into_iter()
        .filter(|finding| {
            if options.all { finding.fix.is_some() } else { options.ids.iter().any(|id| id == finding.id) }
        })
        .map(|mut finding| {
            if options.alternative {
                finding.fix = finding.fix.map(|fix| fix.alternative().unwrap_or(fix));
            }
            finding
        })
        .collect();
    let findings = in_fix_order(findings);
    let mut run = FixRun {
        uri: before.uri,
        dry_run: options.dry_run,
        failure: None,
        items: Vec::new(),
        stopped_after: None,
    };
    if let Some(progress) = progress.as_deref_mut() {
        progress.started(&run.uri, options, &findings);
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        run.failure = Some(gettext("Could not start the runtime that talks to libvirt and the helper."));
        return run;
    };
    let interactive = std::io::stdin().is_terminal();
    let needs_polkit = findings.iter().any(|f| f.fix.as_ref().is_some_and(asks_polkit));
    // Keeps a polkit agent on this terminal while the helper or firewalld may ask.
    let _agent = (interactive && needs_polkit).then(polkit_agent::TtyAgent::start).flatten();
    let mut fixer = Fixer::new(&hypervisor, interactive);

    for finding in findings {
        let same_fix_as = finding.fix.as_ref().and_then(|fix| {
            run.items.iter().position(|earlier| {
                earlier.same_fix_as.is_none() && earlier.finding.fix.as_ref() == Some(fix)
            })
        });
        if let Some(progress) = progress.as_deref_mut() {
            progress.finding(&finding, same_fix_as.and_then(|earlier| run.items.get(earlier)));
        }
        let mut item =
            Item { finding, plan: None, same_fix_as, applied: None, gone_after: None, not_attempted: false };
        if let (Some(_), None, Some(failed)) = (&item.finding.fix, same_fix_as, run.stopped_after) {
            // A later fix may rest on the one that failed: none is tried.
            item.not_attempted = true;
            if let Some(progress) = progress.as_deref_mut() {
                progress.not_attempted(run.items.get(failed));
            }
        } else if let (Some(fix), None) = (item.finding.fix.clone(), same_fix_as) {
            let plan = runtime.block_on(fixer.plan(&fix));
            if let Some(progress) = progress.as_deref_mut() {
                progress.planned(&plan);
            }
            if let (false, Ok(plan)) = (options.dry_run, &plan)
                && !matches!(plan, FixPlan::Manual { .. })
            {
                let applied = runtime.block_on(fixer.apply(plan));
                if let Some(progress) = progress.as_deref_mut() {
                    progress.applied(&applied);
                }
                item.applied = Some(applied);
            }
            item.plan = Some(plan);
            if !options.dry_run && item.failed() {
                run.stopped_after = Some(run.items.len());
            }
        }
        run.items.push(item);
    }

    if !options.dry_run && run.items.iter().any(|item| item.applied.is_some()) {
        let after = check::examine_guests(&hypervisor, options.vm.as_deref(), guests);
        if let Some(failure) = after.failure {
            run.failure = Some(failure);
        }
        for item in &mut run.items {
            let still = after
                .findings
                .iter()
                .any(|now| now.id == item.finding.id && now.subject == item.finding.subject);
            item.gone_after = Some(!still);
        }
    }
    run
}

/// The chosen findings in the order their fixes are applied: each step of
/// [`fix_order`], its cause first and then the findings that share its
/// fix; the findings without a fix last, in the diagnosis's order.
fn in_fix_order(findings: Vec<Finding>) -> Vec<Finding> {
    let steps: Vec<(usize, Fix)> =
        fix_order(&findings).into_iter().map(|step| (step.finding, step.fix.clone())).collect();
    let mut ranked: Vec<((usize, usize), Finding)> = findings
        .into_iter()
        .enumerate()
        .map(|(index, finding)| {
            let step = finding.fix.as_ref().and_then(|fix| steps.iter().position(|(_, own)| own == fix));
            let rank = match step {
                Some(step) if steps.get(step).is_some_and(|(cause, _)| *cause == index) => (step, 0),
                Some(step) => (step, index + 1),
                None => (steps.len(), index),
            };
            (rank, finding)
        })
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, finding)| finding).collect()
}

/// Host changes are authorized by polkit through the helper or firewalld;
/// libvirt authorized the connection when it opened.
fn asks_polkit(fix: &Fix) -> bool {
    matches!(route(fix), Ok(FixRoute::Helper(_) | FixRoute::Firewalld { .. }))
}

fn failed_run(outcome: &check::Outcome, dry_run: bool) -> FixRun {
    let mut reason = outcome.failure.clone().unwrap_or_default();
    // The connection's own finding says why (daemon down, permission…).
    for finding in &outcome.findings {
        if finding.subject == Subject::Connection {
            reason.push(' ');
            reason.push_str(&finding.title);
        }
    }
    FixRun {
        uri: outcome.uri.clone(),
        dry_run,
        failure: Some(reason),
        items: Vec::new(),
        stopped_after: None,
    }
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_core::Severity;

    use super::*;

    fn finding(id: &'static str, subject: Subject, fix: Option<Fix>) -> Finding {
        Finding {
            id,
            severity: Severity::Error,
            subject,
            title: id.to_owned(),
            explanation: String::new(),
            evidence: Vec::new(),
            fix,
        }
    }

    fn item(finding: Finding) -> Item {
        Item { finding, plan: None, same_fix_as: None, applied: None, gone_after: None, not_attempted: false }
    }

    #[test]
    fn the_chosen_findings_come_in_fix_order_each_cause_before_its_consequences() {
        let start = Fix::StartNetwork { name: "lab".into() };
        let link = Fix::SetLinkUp { vm: "web".into(), mac: "52:54:00:00:00:02".into() };
        let card = Subject::Nic { vm: "db".into(), mac: "52:54:00:00:00:01".into() };
        let findings = vec![
            finding("nic-link-down", Subject::Vm { name: "web".into() }, Some(link)),
            finding("nic-network-inactive", card, Some(start.clone())),
            finding("vm-no-ip", Subject::Vm { name: "db".into() }, None),
            finding("network-inactive", Subject::Network { name: "lab".into() }, Some(start)),
            finding("ipv4-forwarding-off", Subject::Host, Some(Fix::EnableIpv4Forwarding)),
        ];
        let ids: Vec<&str> = in_fix_order(findings).iter().map(|finding| finding.id).collect();
        assert_eq!(
            ids,
            ["ipv4-forwarding-off", "network-inactive", "nic-network-inactive", "nic-link-down", "vm-no-ip"]
        );
    }

    /// A failed plan stops the run; what came after it, and what shares its
    /// fix, says so in the JSON and on the terminal.
    #[test]
    fn after_a_failure_the_rest_is_not_attempted_and_said_so() {
        let start = Fix::StartNetwork { name: "lab".into() };
        let mut failed =
            item(finding("network-inactive", Subject::Network { name: "lab".into() }, Some(start)));
        failed.plan = Some(Err(FixError::InvalidName("lab".into())));
        assert!(failed.failed());
        let link = Fix::SetLinkUp { vm: "web".into(), mac: "52:54:00:00:00:02".into() };
        let mut skipped =
            item(finding("nic-link-down", Subject::Vm { name: "web".into() }, Some(link.clone())));
        skipped.not_attempted = true;
        let mut shared = item(finding("nic-link-down", Subject::Vm { name: "web".into() }, Some(link)));
        shared.same_fix_as = Some(1);
        let run = FixRun {
            uri: "test:///default".into(),
            dry_run: false,
            failure: None,
            items: vec![failed, skipped, shared],
            stopped_after: Some(0),
        };
        let statuses: Vec<Status> = (0..3).map(|index| run.status(index)).collect();
        assert_eq!(statuses, [Status::Failed, Status::NotAttempted, Status::NotAttempted]);
        assert_eq!(run.exit_code(), ExitCode::from(1));
        let document = json::document(&run);
        assert_eq!(document["stopped_after"], 0);
        assert_eq!(document["results"][1]["status"], "not-attempted");
        let mut out = Vec::new();
        report::Progress::new(&mut out, false).finish(&run).ok();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("nic-link-down [vm web]: not attempted"), "{text}");
        assert!(
            text.contains("the fix for “network-inactive” failed, so 1 fix after it was not attempted"),
            "{text}"
        );
        assert!(text.contains("Nothing was applied before it."), "{text}");
    }
}
