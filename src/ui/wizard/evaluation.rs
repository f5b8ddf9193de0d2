//! How each step stands, judged from the wizard's own state on top of
//! [`steps::evaluate`]: the Guest step's inspection, the Verify step's
//! checklist, and the outcomes the Done page sums up. Apart from the
//! component because it only reads its state, and builds no widget.

use gettextrs::{gettext, ngettext};

use super::steps::{self, Evaluation, Outcome, StepId, StepState};
use super::{Inspection, Wizard};
use crate::guest_checklist::Summary;
use crate::i18n::fill;

impl Wizard {
    pub(super) fn evaluate(&self, step: StepId) -> Evaluation {
        let inspected = match &self.inspection {
            Inspection::Done(discovery) => Some(discovery.findings.as_slice()),
            _ => None,
        };
        let mut evaluation = steps::evaluate(
            step,
            &self.snapshot,
            &self.findings,
            self.vm.as_deref(),
            self.mac.as_deref(),
            inspected,
        );
        match step {
            StepId::Guest => {
                if let Inspection::Failed(trouble) = &self.inspection {
                    if evaluation.state != StepState::Problem {
                        evaluation.state = StepState::Problem;
                    }
                    // The commands to type come with the Verify step.
                    let advice = match trouble.reason {
                        "no-channel" | "not-running" => trouble.advice.clone(),
                        _ => {
                            gettext("The next step, Verify, lists the commands to type in the guest instead.")
                        }
                    };
                    evaluation.note = format!("{}\n{advice}", trouble.message);
                }
            }
            StepId::Verify => evaluation = self.checklist_state(),
            _ => {}
        }
        evaluation
    }

    fn checklist_state(&self) -> Evaluation {
        let list = &self.checklist;
        let (state, note) = if list.running {
            (StepState::NotChecked, gettext("Running the checklist in the guest…"))
        } else if let Some((trouble, _)) = &list.by_hand {
            (StepState::Problem, format!("{}\n{}", trouble.message, trouble.advice))
        } else if list.cancelled {
            (StepState::NotChecked, gettext("The checklist was stopped. Run the checks again to finish it."))
        } else if let Some(failure) = &list.failure {
            (StepState::Problem, failure.clone())
        } else if let Some(summary) = &list.summary {
            match summary.exit {
                // The guide: every step should succeed without delay.
                0 if summary.slow > 0 => (
                    StepState::Problem,
                    fill(
                        &ngettext(
                            "Every step worked, but one only after a delay; its row says what usually causes it.",
                            "Every step worked, but {slow} only after a delay; their rows say what usually causes it.",
                            u32::try_from(summary.slow).unwrap_or(u32::MAX),
                        ),
                        &[("slow", &summary.slow.to_string())],
                    ),
                ),
                0 => (StepState::Ok, gettext("Every step passed.")),
                1 => (StepState::Problem, self.failed_note(summary)),
                _ => (StepState::NotChecked, gettext("The checklist was stopped.")),
            }
        } else if self
            .vm
            .as_deref()
            .and_then(|vm| self.snapshot.domain(vm))
            .is_some_and(|d| !d.state.is_active())
        {
            (StepState::NotChecked, gettext("The VM is not running: start it, then run the checks."))
        } else {
            (StepState::NotChecked, gettext("Run the checks to test the network from inside the guest."))
        };
        Evaluation { state, findings: Vec::new(), note }
    }

    /// How many steps failed, and the earlier steps' problems that may be why.
    fn failed_note(&self, summary: &Summary) -> String {
        let failed = fill(
            &ngettext(
                "One step failed.",
                "{failed} steps failed.",
                u32::try_from(summary.failed).unwrap_or(u32::MAX),
            ),
            &[("failed", &summary.failed.to_string())],
        );
        let causes: Vec<String> = [StepId::HostNetwork, StepId::Firewall, StepId::VmNic, StepId::Guest]
            .into_iter()
            .filter(|step| self.evaluate(*step).state == StepState::Problem)
            .map(StepId::title)
            .collect();
        if causes.is_empty() {
            return failed;
        }
        let steps = causes.join(", ");
        format!(
            "{failed}\n{}",
            fill(
                &gettext(
                    "These steps still have problems that can explain it: {steps}. Fix them, then run the checks again."
                ),
                &[("steps", &steps)],
            )
        )
    }

    /// The state shown for `step`: its evaluation, or Skipped.
    pub(super) fn state_of(&self, step: StepId) -> StepState {
        let state = self.evaluate(step).state;
        if self.skipped.contains(&step) && state != StepState::Ok { StepState::Skipped } else { state }
    }

    /// Each step's outcome, with what is left: the problems' titles, or
    /// why it was not checked.
    pub(super) fn outcomes(&self) -> Vec<(StepId, Outcome, String)> {
        StepId::ALL
            .into_iter()
            .filter(|step| *step != StepId::Done)
            .map(|step| {
                let now = self.evaluate(step);
                let outcome = steps::outcome(
                    self.first_seen.get(&step).copied(),
                    now.state,
                    self.skipped.contains(&step),
                );
                let detail = match outcome {
                    Outcome::Problem | Outcome::Skipped if !now.findings.is_empty() => {
                        now.findings.iter().map(|f| f.title.as_str()).collect::<Vec<_>>().join("; ")
                    }
                    // The note's first line says what stands; the rest is
                    // advice for the step's own page ("the commands below").
                    Outcome::Problem | Outcome::NotChecked => {
                        now.note.lines().next().unwrap_or_default().to_owned()
                    }
                    Outcome::Ok | Outcome::Fixed | Outcome::Skipped => String::new(),
                };
                (step, outcome, detail)
            })
            .collect()
    }
}
