//! The setup wizard (first run, and Set Up Networking… in the main menu):
//! Connection → Host network → Firewall → VM network card → Guest →
//! Verify → Done. Each step shows how it stands and its findings with
//! their Fix… buttons (the window's Fix dialog), and can be skipped; after
//! a fix the step is judged again from the window's fresh snapshot. The
//! Guest step looks inside the VM through its agent, the Verify step runs
//! the guide's checklist there (the same code as `vmnet-doctor verify`),
//! each result shown as it arrives. Progress is kept in GSettings.
//!
//! This module holds the component: its state, messages and the work it
//! starts. How each step stands is judged in `evaluation`, and the page
//! for the current step is built in `render`.

mod checks;
mod evaluation;
mod pages;
mod progress;
mod render;
pub mod steps;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::{Component, ComponentParts, ComponentSender, gtk};
use vmnet_doctor_core::guest::checklist::StepKind;
use vmnet_doctor_core::{Finding, Snapshot};
use vmnet_doctor_libvirt::Hypervisor;

use self::checks::{AgentTrouble, CheckEvent};
use self::progress::{Progress, SetupState};
use self::steps::{StepId, StepState};
use crate::guest_checklist::{Discovery, StepResult, Summary};

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
    /// The window reopened the same connection after it broke (a daemon
    /// restart): the guest checks use the new one.
    Reconnected(Arc<Hypervisor>),
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
            WizardMsg::Reconnected(hypervisor) => self.hypervisor = hypervisor,
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
                    Ok(discovery) => {
                        report(&format!(
                            "wizard-check guest inspected findings={}",
                            discovery.findings.len()
                        ));
                        Inspection::Done(discovery)
                    }
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
