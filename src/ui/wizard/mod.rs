//! The setup wizard (first run, and Set Up Networking… in the main menu):
//! Connection → Host network → Firewall → VM network card → Guest →
//! Verify → Done. Each step shows how it stands and its findings with
//! their Fix… buttons (the window's Fix dialog), and can be skipped; after
//! a fix the step is judged again from the window's fresh snapshot. The
//! Guest step looks inside the VM through its agent, the Verify step runs
//! the guide's checklist there (the same code as `vmnet-doctor verify`),
//! each result shown as it arrives. Progress is kept in GSettings.

mod checks;
mod pages;
mod progress;
pub mod steps;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gettextrs::{gettext, ngettext};
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::{Component, ComponentParts, ComponentSender, gtk};
use vmnet_doctor_core::guest::checklist::StepKind;
use vmnet_doctor_core::{Finding, Snapshot};
use vmnet_doctor_libvirt::Hypervisor;

use self::checks::{AgentTrouble, CheckEvent};
use self::progress::{Progress, SetupState};
use self::steps::{Evaluation, Outcome, StepId, StepState};
use crate::i18n::fill;
use crate::verify::{Discovery, StepResult, Summary};

/// What the wizard starts from: the window's connection and snapshot.
pub struct WizardInit {
    pub hypervisor: Arc<Hypervisor>,
    pub snapshot: Arc<Snapshot>,
    pub findings: Vec<Finding>,
    /// The VM selected in the window, picked in the VM step.
    pub vm: Option<String>,
    /// The connection's name as the window shows it.
    pub connection: String,
    pub settings: Option<gio::Settings>,
}

#[derive(Debug)]
pub enum WizardMsg {
    /// The window's fresh snapshot (live events, refresh, after a fix).
    Snapshot(Arc<Snapshot>, Vec<Finding>),
    Next,
    Back,
    Skip,
    PickVm(String),
    PickCard(Option<String>),
    Inspect,
    RunChecks,
    /// Cancels the inspection or the checklist under way.
    Cancel,
    Fix(Finding),
    Copy(String),
    /// Close on the Done page: the wizard is completed.
    Finish,
}

#[derive(Debug)]
pub enum WizardOutput {
    Fix(Box<Finding>),
    Closed,
}

#[derive(Debug)]
pub enum WizardCmd {
    Inspected { run: u64, result: Result<Box<Discovery>, AgentTrouble> },
    Check { run: u64, event: CheckEvent },
}

/// The Guest step's inspection.
#[derive(Debug)]
enum Inspection {
    Idle,
    Running,
    Done(Box<Discovery>),
    Failed(AgentTrouble),
}

/// The Verify step's checklist, as far as it has come.
#[derive(Debug, Default)]
struct Checklist {
    running: bool,
    /// Stopped by Cancel before its end.
    cancelled: bool,
    discovery: Option<Box<Discovery>>,
    results: Vec<StepResult>,
    by_hand: Option<(AgentTrouble, Vec<(StepKind, String)>)>,
    failure: Option<String>,
    summary: Option<Summary>,
}

pub struct Wizard {
    hypervisor: Arc<Hypervisor>,
    snapshot: Arc<Snapshot>,
    findings: Vec<Finding>,
    connection: String,
    progress: Progress,
    step: StepId,
    skipped: Vec<StepId>,
    /// How each step stood when first shown, to tell "fixed" from "ok".
    first_seen: HashMap<StepId, StepState>,
    /// The last state reported per step, so each change is reported once.
    reported: HashMap<StepId, String>,
    vm: Option<String>,
    mac: Option<String>,
    inspection: Inspection,
    checklist: Checklist,
    /// Bumped on every run and cancel, so a late answer is ignored.
    run: u64,
    cancel: Arc<AtomicBool>,
    on_fix: relm4::Sender<Finding>,
    dialog: adw::Dialog,
    title: adw::WindowTitle,
    bar: gtk::ProgressBar,
    scroller: gtk::ScrolledWindow,
    back: gtk::Button,
    skip: gtk::Button,
    next: gtk::Button,
    close: gtk::Button,
    /// While the checklist runs on the Verify page: that page and its
    /// results group, which each result is added to (rebuilding the page
    /// would take Cancel away from under a key press).
    live: Option<(gtk::Box, adw::PreferencesGroup)>,
    /// The checklist's targets, kept across pages so typed text survives.
    targets: [adw::EntryRow; 4],
}

impl std::fmt::Debug for Wizard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wizard").field("step", &self.step).field("vm", &self.vm).finish_non_exhaustive()
    }
}

impl Component for Wizard {
    type Init = WizardInit;
    type Input = WizardMsg;
    type Output = WizardOutput;
    type CommandOutput = WizardCmd;
    type Root = adw::Dialog;
    type Widgets = ();

    fn init_root() -> adw::Dialog {
        adw::Dialog::builder().content_width(640).content_height(640).build()
    }

    fn init(init: WizardInit, root: adw::Dialog, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        root.set_title(&gettext("Set Up Networking"));
        let title = adw::WindowTitle::new(&gettext("Set Up Networking"), "");
        let header = adw::HeaderBar::new();
        header.set_title_widget(Some(&title));
        let bar = gtk::ProgressBar::new();
        bar.add_css_class("osd");
        bar.update_property(&[gtk::accessible::Property::Label(&gettext("Setup progress"))]);
        let toolbar = adw::ToolbarView::new();
        toolbar.add_top_bar(&header);
        toolbar.add_top_bar(&bar);
        let scroller = gtk::ScrolledWindow::builder().hscrollbar_policy(gtk::PolicyType::Never).build();
        toolbar.set_content(Some(&scroller));

        let button = |label: &str, msg: fn() -> WizardMsg| {
            let button = gtk::Button::builder().label(label).use_underline(true).build();
            let sender = sender.clone();
            button.connect_clicked(move |_| sender.input(msg()));
            button
        };
        let back = button(&gettext("_Back"), || WizardMsg::Back);
        let skip = button(&gettext("_Skip"), || WizardMsg::Skip);
        skip.set_tooltip_text(Some(&gettext("Go on without fixing this step")));
        let next = button(&gettext("_Next"), || WizardMsg::Next);
        next.add_css_class("suggested-action");
        let close = button(&gettext("_Close"), || WizardMsg::Finish);
        close.add_css_class("suggested-action");
        let actions = gtk::Box::builder()
            .spacing(6)
            .margin_top(6)
            .margin_bottom(6)
            .margin_start(6)
            .margin_end(6)
            .build();
        actions.append(&back);
        actions.append(&gtk::Box::builder().hexpand(true).build());
        actions.append(&skip);
        actions.append(&next);
        actions.append(&close);
        toolbar.add_bottom_bar(&actions);
        toolbar.set_bottom_bar_style(adw::ToolbarStyle::Raised);
        root.set_child(Some(&toolbar));
        // Presenting moves the focus to the first row of the page (seen on a
        // narrow window): Next is where a keyboard user goes on from.
        root.connect_map({
            let next = next.clone();
            move |dialog| {
                let (dialog, next) = (dialog.clone(), next.clone());
                glib::idle_add_local_once(move || {
                    if next.is_visible() {
                        dialog.set_focus(Some(&next));
                    }
                    // On screen with its focus: keys typed now reach it.
                    report("wizard-shown");
                });
            }
        });
        root.connect_closed({
            let sender = sender.clone();
            move |_| {
                let _ = sender.output(WizardOutput::Closed);
            }
        });

        // Findings' Fix… buttons emit here; the window opens its Fix dialog.
        let (on_fix, fixes) = relm4::channel::<Finding>();
        let input = sender.input_sender().clone();
        relm4::spawn_local(async move {
            while let Some(finding) = fixes.recv().await {
                input.emit(WizardMsg::Fix(finding));
            }
        });

        let progress = Progress::new(init.settings);
        // The targets typed last, else the guide's own.
        let defaults = vmnet_doctor_core::guest::checklist::Targets::default();
        let [gateway, ping, dns, http] = progress.targets();
        let entry = |title: &str, saved: String, default: &str| {
            let row = adw::EntryRow::builder().title(title).build();
            row.set_text(if saved.is_empty() { default } else { &saved });
            row
        };
        let targets = [
            entry(&gettext("Gateway (empty: the guest's own)"), gateway, ""),
            entry(&gettext("Public address to ping"), ping, &defaults.ping),
            entry(&gettext("Name to resolve"), dns, &defaults.dns),
            entry(&gettext("Web page to fetch"), http, &defaults.http),
        ];

        let vm = init
            .vm
            .filter(|vm| init.snapshot.domain(vm).is_some())
            .or_else(|| init.snapshot.domains.first().map(|domain| domain.name().to_owned()));
        // Done means start again; otherwise pick up where it was left.
        let step = match progress.state() {
            Some(SetupState::Done) => StepId::Connection,
            _ => progress.step().filter(|step| *step != StepId::Done).unwrap_or(StepId::Connection),
        };
        let skipped =
            if progress.state() == Some(SetupState::Done) { Vec::new() } else { progress.skipped() };
        let mut model = Wizard {
            hypervisor: init.hypervisor,
            snapshot: init.snapshot,
            findings: init.findings,
            connection: init.connection,
            progress,
            step,
            skipped,
            first_seen: HashMap::new(),
            reported: HashMap::new(),
            vm,
            mac: None,
            inspection: Inspection::Idle,
            checklist: Checklist::default(),
            run: 0,
            cancel: Arc::new(AtomicBool::new(false)),
            on_fix,
            dialog: root.clone(),
            title,
            bar,
            scroller,
            back,
            skip,
            next,
            close,
            live: None,
            targets,
        };
        model.show_step(&sender, root.upcast_ref());
        ComponentParts { model, widgets: () }
    }

    fn update(&mut self, msg: WizardMsg, sender: ComponentSender<Self>, root: &adw::Dialog) {
        match msg {
            WizardMsg::Snapshot(snapshot, findings) => {
                // Rebuilding the page closes what the user opened (an
                // expanded finding, a list): only when something changed.
                if *snapshot == *self.snapshot && findings == self.findings {
                    return;
                }
                self.snapshot = snapshot;
                self.findings = findings;
                if self.vm.as_deref().is_some_and(|vm| self.snapshot.domain(vm).is_none()) {
                    self.vm = None;
                }
                self.render(&sender);
            }
            WizardMsg::Next => {
                self.skipped.retain(|step| *step != self.step);
                self.go(self.step.next(), &sender, root);
            }
            WizardMsg::Back => self.go(self.step.previous(), &sender, root),
            WizardMsg::Skip => {
                if !self.skipped.contains(&self.step) {
                    self.skipped.push(self.step);
                }
                report(&format!("wizard-check {} skipped", self.step.as_str()));
                self.go(self.step.next(), &sender, root);
            }
            WizardMsg::PickVm(vm) => {
                if self.vm.as_deref() != Some(vm.as_str()) {
                    self.vm = Some(vm);
                    self.mac = None;
                    self.forget_guest();
                    self.render(&sender);
                }
            }
            WizardMsg::PickCard(mac) => {
                if self.mac != mac {
                    self.mac = mac;
                    self.render(&sender);
                }
            }
            WizardMsg::Inspect => self.inspect(&sender),
            WizardMsg::RunChecks => self.run_checks(&sender),
            WizardMsg::Cancel => {
                self.cancel.store(true, Ordering::Relaxed);
                self.run += 1;
                if matches!(self.inspection, Inspection::Running) {
                    self.inspection = Inspection::Idle;
                }
                if self.checklist.running {
                    self.checklist.running = false;
                    self.checklist.cancelled = true;
                    report("wizard-check verify cancelled");
                }
                self.render(&sender);
            }
            WizardMsg::Fix(finding) => {
                let _ = sender.output(WizardOutput::Fix(Box::new(finding)));
            }
            WizardMsg::Copy(text) => root.clipboard().set_text(&text),
            WizardMsg::Finish => {
                self.progress.set_state(SetupState::Done);
                self.progress.set_step(StepId::Connection);
                self.progress.set_skipped(&[]);
                report("wizard-done");
                root.force_close();
            }
        }
    }

    fn shutdown(&mut self, _widgets: &mut (), _output: relm4::Sender<WizardOutput>) {
        // Closed while the checklist runs: it stops after the step under way.
        self.cancel.store(true, Ordering::Relaxed);
    }

    fn update_cmd(&mut self, cmd: WizardCmd, sender: ComponentSender<Self>, _root: &adw::Dialog) {
        match cmd {
            WizardCmd::Inspected { run, result } if run == self.run => {
                self.inspection = match result {
                    Ok(discovery) => Inspection::Done(discovery),
                    Err(trouble) => {
                        report(&format!("wizard-check guest agent-unavailable {}", trouble.reason));
                        Inspection::Failed(trouble)
                    }
                };
                self.render(&sender);
            }
            WizardCmd::Check { run, event } if run == self.run => {
                match event {
                    CheckEvent::Discovered(discovery) => {
                        if let Some((page, _)) = &self.live {
                            page.append(&pages::discovery_group(&discovery));
                            self.checklist.discovery = Some(discovery);
                            return;
                        }
                        self.checklist.discovery = Some(discovery);
                    }
                    CheckEvent::Step(result) => {
                        report(&format!(
                            "wizard-verify-step {} {}",
                            result.kind.as_str(),
                            result.verdict.status.as_str()
                        ));
                        if let Some((_, group)) = &self.live {
                            group.add(&pages::result_row(&result));
                            group.set_visible(true);
                            self.checklist.results.push(result);
                            return;
                        }
                        self.checklist.results.push(result);
                    }
                    CheckEvent::ByHand { trouble, commands } => {
                        report(&format!("wizard-check verify agent-unavailable {}", trouble.reason));
                        self.checklist.by_hand = Some((trouble, commands));
                    }
                    CheckEvent::Failed(message) => self.checklist.failure = Some(message),
                    CheckEvent::Finished(summary) => {
                        self.checklist.running = false;
                        self.checklist.summary = Some(summary);
                    }
                }
                self.render(&sender);
            }
            // An answer for a run that was cancelled or superseded.
            WizardCmd::Inspected { .. } | WizardCmd::Check { .. } => {}
        }
    }
}

impl Wizard {
    fn go(&mut self, step: Option<StepId>, sender: &ComponentSender<Self>, root: &adw::Dialog) {
        if let Some(step) = step {
            self.step = step;
            self.show_step(sender, root);
        }
    }

    /// Shows the current step from its top and keeps the place in GSettings.
    fn show_step(&mut self, sender: &ComponentSender<Self>, root: &adw::Dialog) {
        self.progress.set_step(self.step);
        self.progress.set_skipped(&self.skipped);
        if self.progress.state() != Some(SetupState::Done) {
            // Closed from now on without finishing: dismissed, not new.
            self.progress.set_state(SetupState::Dismissed);
        }
        self.render(sender);
        self.scroller.vadjustment().set_value(0.0);
        let focus = if self.step == StepId::Done { &self.close } else { &self.next };
        root.set_default_widget(Some(focus));
        // The dialog's own focus: it holds before the dialog is presented.
        root.set_focus(Some(focus));
        report(&format!("wizard-step-shown {}", self.step.as_str()));
    }

    fn forget_guest(&mut self) {
        self.run += 1;
        self.cancel.store(true, Ordering::Relaxed);
        self.inspection = Inspection::Idle;
        self.checklist = Checklist::default();
    }

    fn inspect(&mut self, sender: &ComponentSender<Self>) {
        let Some(vm) = self.vm.clone() else { return };
        self.run += 1;
        let run = self.run;
        self.inspection = Inspection::Running;
        report("wizard-check guest running");
        let (hypervisor, snapshot) = (Arc::clone(&self.hypervisor), Arc::clone(&self.snapshot));
        sender.spawn_oneshot_command(move || WizardCmd::Inspected {
            run,
            result: checks::inspect_guest(&hypervisor, &snapshot, &vm).map(Box::new),
        });
        self.render(sender);
        // Next and Back wait meanwhile: the keyboard goes to Cancel.
        self.focus_primary();
    }

    fn run_checks(&mut self, sender: &ComponentSender<Self>) {
        let Some(vm) = self.vm.clone() else { return };
        self.run += 1;
        let run = self.run;
        self.cancel = Arc::new(AtomicBool::new(false));
        self.checklist = Checklist { running: true, ..Checklist::default() };
        report("wizard-check verify running");
        let [gateway, ping, dns, http] = &self.targets.clone().map(|row| row.text());
        self.progress.set_targets(&[gateway, ping, dns, http]);
        let targets = checks::targets(gateway, ping, dns, http);
        let (hypervisor, cancel) = (Arc::clone(&self.hypervisor), Arc::clone(&self.cancel));
        sender.spawn_command(move |out| {
            checks::run_checklist(&hypervisor, &vm, &targets, &cancel, |event| {
                // The wizard is gone: nobody is left to tell.
                let _ = out.send(WizardCmd::Check { run, event });
            });
        });
        self.render(sender);
        self.focus_primary();
    }

    fn evaluate(&self, step: StepId) -> Evaluation {
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
    fn state_of(&self, step: StepId) -> StepState {
        let state = self.evaluate(step).state;
        if self.skipped.contains(&step) && state != StepState::Ok { StepState::Skipped } else { state }
    }

    /// Each step's outcome, with what is left: the problems' titles, or
    /// why it was not checked.
    fn outcomes(&self) -> Vec<(StepId, Outcome, String)> {
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

    /// Builds the current step's page afresh.
    fn render(&mut self, sender: &ComponentSender<Self>) {
        let step = self.step;
        let total = StepId::ALL.len();
        let position = step.index() + 1;
        self.title.set_subtitle(&fill(
            &gettext("Step {k} of {n}: {step}"),
            &[("k", &position.to_string()), ("n", &total.to_string()), ("step", &step.title())],
        ));
        #[allow(clippy::cast_precision_loss)] // seven steps
        self.bar.set_fraction(position as f64 / total as f64);
        let busy = self.checklist.running || matches!(self.inspection, Inspection::Running);
        self.back.set_sensitive(step.previous().is_some());
        self.skip.set_visible(step != StepId::Done);
        self.next.set_visible(step != StepId::Done);
        self.close.set_visible(step == StepId::Done);
        self.next.set_sensitive(!busy);
        self.skip.set_sensitive(!busy);
        self.back.set_sensitive(!busy && step.previous().is_some());

        let page = pages::page_box();
        self.live = None;
        let evaluation = self.evaluate(step);
        self.first_seen.entry(step).or_insert(evaluation.state);
        let state = self.state_of(step);
        if step != StepId::Done {
            page.append(&pages::status_group(&step.purpose(), state, &evaluation.note));
            // The state, then the ids of the step's findings.
            let words: Vec<&str> =
                std::iter::once(state.as_str()).chain(evaluation.findings.iter().map(|f| f.id)).collect();
            let words = words.join(" ");
            if self.reported.get(&step) != Some(&words) {
                report(&format!("wizard-check {} {words}", step.as_str()));
                self.reported.insert(step, words);
            }
        }
        // What the problems below are about, or what finds them.
        match step {
            StepId::VmNic => self.vm_picker(&page, sender),
            StepId::Guest => self.inspect_action(&page, sender),
            _ => {}
        }
        // The problems first, right under the status that counts them.
        if let Some(group) = pages::findings_group(&evaluation.findings, &self.on_fix) {
            page.append(&group);
        }
        match step {
            StepId::Connection => page.append(&pages::connection_facts(&self.snapshot, &self.connection)),
            StepId::HostNetwork => {
                for name in steps::networks_of_interest(&self.snapshot, self.vm.as_deref()) {
                    page.append(&pages::network_facts(&self.snapshot, name));
                }
            }
            StepId::Firewall | StepId::Done => {}
            StepId::VmNic => self.vm_nic_page(&page),
            StepId::Guest => self.guest_page(&page),
            StepId::Verify => self.live = self.verify_page(&page, sender).map(|group| (page.clone(), group)),
        }
        if step == StepId::Done {
            let outcomes = self.outcomes();
            page.append(&pages::text(&step.purpose()));
            page.append(&pages::summary_group(&outcomes));
            let words: Vec<String> = outcomes
                .iter()
                .map(|(step, outcome, _)| format!("{}={}", step.as_str(), outcome.as_str()))
                .collect();
            report(&format!("wizard-summary {}", words.join(" ")));
        }
        // The focused button may be in the page being replaced (Run Checks
        // becomes Cancel): hand the focus to the new page's own action.
        let focus_was_here = self.dialog.focus().is_some_and(|focus| focus.is_ancestor(&self.scroller));
        let clamp = adw::Clamp::builder().maximum_size(600).child(&page).build();
        self.scroller.set_child(Some(&clamp));
        if focus_was_here {
            self.focus_primary();
        }
    }

    /// Focuses the page's own action (Cancel while something runs). After
    /// the page is idle: the focus the replaced page held is let go of
    /// only then.
    fn focus_primary(&self) {
        let target = self
            .scroller
            .child()
            .and_then(|child| find_primary(&child))
            .unwrap_or(self.next.clone().upcast());
        let dialog = self.dialog.clone();
        glib::idle_add_local_once(move || {
            // Still on screen: the page may have been rebuilt meanwhile.
            if target.is_ancestor(&dialog) {
                target.grab_focus();
            }
        });
    }

    fn vm_picker(&self, page: &gtk::Box, sender: &ComponentSender<Self>) {
        let (on_vm, on_card) = (sender.input_sender().clone(), sender.input_sender().clone());
        page.append(&pages::vm_picker(
            &self.snapshot,
            self.vm.as_deref(),
            self.mac.as_deref(),
            move |vm| on_vm.emit(WizardMsg::PickVm(vm)),
            move |mac| on_card.emit(WizardMsg::PickCard(mac)),
        ));
    }

    /// The picked card's (or every card's) source, model and link.
    fn vm_nic_page(&self, page: &gtk::Box) {
        let Some(domain) = self.vm.as_deref().and_then(|vm| self.snapshot.domain(vm)) else { return };
        for nic in domain.interfaces() {
            let picked = self
                .mac
                .as_deref()
                .is_none_or(|mac| nic.mac.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(mac)));
            if picked {
                page.append(&pages::card_facts(nic, domain, &self.snapshot));
            }
        }
    }

    /// Inspect Guest, or Cancel while the inspection runs.
    fn inspect_action(&self, page: &gtk::Box, sender: &ComponentSender<Self>) {
        if matches!(self.inspection, Inspection::Running) {
            page.append(&working(&gettext("Looking inside the guest…"), sender));
            return;
        }
        let running =
            self.vm.as_deref().and_then(|vm| self.snapshot.domain(vm)).is_some_and(|d| d.state.is_active());
        let button = action_button(&gettext("_Inspect Guest"), sender, || WizardMsg::Inspect);
        button.set_sensitive(running);
        if !running {
            button.set_tooltip_text(Some(&gettext("Start the VM first")));
        }
        page.append(&button);
    }

    /// What the guest said about itself.
    fn guest_page(&self, page: &gtk::Box) {
        if let Inspection::Done(discovery) = &self.inspection {
            page.append(&pages::discovery_group(discovery));
        }
    }

    /// The Verify page; while the checklist runs, its results group.
    fn verify_page(&self, page: &gtk::Box, sender: &ComponentSender<Self>) -> Option<adw::PreferencesGroup> {
        let list = &self.checklist;
        let targets = adw::PreferencesGroup::new();
        let expander = adw::ExpanderRow::builder().title(gettext("Targets")).build();
        expander.set_subtitle(&gettext("Where the checks point; only contacted when you run them"));
        // libadwaita leaves the expander row itself unnamed for screen readers.
        expander
            .upcast_ref::<gtk::Widget>()
            .update_property(&[gtk::accessible::Property::Label(&gettext("Targets"))]);
        for entry in &self.targets {
            if let Some(parent) = entry.parent() {
                // Kept across pages: take it out of the last page built.
                if let Some(list_box) = parent.downcast_ref::<gtk::ListBox>() {
                    list_box.remove(entry);
                }
            }
            expander.add_row(entry);
        }
        targets.add(&expander);
        targets.set_sensitive(!list.running);
        page.append(&targets);
        if list.running {
            page.append(&working(&gettext("Running the checklist in the guest…"), sender));
        } else {
            // One label in every state: tests and screen readers find it by name.
            let button = action_button(&gettext("_Run Checks"), sender, || WizardMsg::RunChecks);
            let running = self
                .vm
                .as_deref()
                .and_then(|vm| self.snapshot.domain(vm))
                .is_some_and(|d| d.state.is_active());
            button.set_sensitive(running);
            page.append(&button);
        }
        let group = adw::PreferencesGroup::new();
        group.set_title(&gettext("Checklist"));
        for result in &list.results {
            group.add(&pages::result_row(result));
        }
        group.set_visible(!list.results.is_empty());
        page.append(&group);
        if let Some((_, commands)) = &list.by_hand {
            let copy = sender.input_sender().clone();
            page.append(&pages::commands_group(commands, move |text| copy.emit(WizardMsg::Copy(text))));
        }
        // What the guest said about itself, under the results it explains.
        if let Some(discovery) = &list.discovery {
            page.append(&pages::discovery_group(discovery));
        }
        list.running.then_some(group)
    }
}

/// A pill button for the step's own action (Inspect Guest, Run Checks).
fn action_button(label: &str, sender: &ComponentSender<Wizard>, msg: fn() -> WizardMsg) -> gtk::Button {
    let button = gtk::Button::builder()
        .label(label)
        .use_underline(true)
        .halign(gtk::Align::Center)
        .css_classes(["pill", PRIMARY])
        .build();
    let sender = sender.clone();
    button.connect_clicked(move |_| sender.input(msg()));
    button
}

/// The page's own action (its pill or Cancel button), depth first.
fn find_primary(widget: &gtk::Widget) -> Option<gtk::Widget> {
    let mut child = widget.first_child();
    while let Some(current) = child {
        if current.has_css_class(PRIMARY) && current.is_sensitive() {
            return Some(current);
        }
        if let Some(found) = find_primary(&current) {
            return Some(found);
        }
        child = current.next_sibling();
    }
    None
}

/// Marks the button that takes the focus when its page is rebuilt.
const PRIMARY: &str = "wizard-primary";

/// A spinner with what is under way and Cancel.
fn working(what: &str, sender: &ComponentSender<Wizard>) -> gtk::Box {
    let row = gtk::Box::builder().spacing(12).halign(gtk::Align::Center).build();
    let spinner = gtk::Spinner::builder().spinning(true).build();
    spinner.update_property(&[gtk::accessible::Property::Label(what)]);
    row.append(&spinner);
    let label = gtk::Label::builder().label(what).wrap(true).build();
    row.append(&label);
    let cancel = action_button(&gettext("_Cancel"), sender, || WizardMsg::Cancel);
    cancel.remove_css_class("pill");
    row.append(&cancel);
    row
}

/// With `VMNET_DOCTOR_REPORT_STARTUP=1`, what the wizard did, for tests.
fn report(event: &str) {
    if crate::startup::reporting() {
        eprintln!("vmnet-doctor: {event}");
    }
}

/// Whether the wizard opens by itself once the connection is open.
pub fn first_run(settings: Option<&gio::Settings>) -> bool {
    Progress::new(settings.cloned()).first_run()
}
