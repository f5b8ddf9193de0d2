//! A finding's fix in a dialog: the plan first (exactly what would change),
//! then Apply, then a fresh diagnosis that says whether the finding is
//! gone. The same calls as `vmnet-doctor fix` (`crate::fixes`).

use std::sync::Arc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{Component, ComponentParts, ComponentSender};
use vmnet_doctor_core::{Finding, Fix, diagnose};
use vmnet_doctor_host::firewalld_zone::ZonePlan;
use vmnet_doctor_host::helper_api::{Action, Plan};
use vmnet_doctor_libvirt::{Effect, Hypervisor, LibvirtError};

use crate::describe;
use crate::fixes::describe::{self as fix_text, Advice};
use crate::fixes::{FixApplied, FixError, FixPlan, Fixer};
use crate::i18n::fill;
use crate::ui::dialog_page::{
    self, Page, button, button_row, code, heading, libvirt_plan, page_box, report_event, text, with_buttons,
};

/// The connection the fix is made on, the finding it is for and its fix.
pub struct FixDialogInit {
    pub hypervisor: Arc<Hypervisor>,
    pub finding: Finding,
    pub fix: Fix,
}

#[derive(Debug)]
pub enum FixDialogMsg {
    /// Cancel (while planning or on the plan) or Close.
    Close,
    Apply,
    /// Puts text on the clipboard (the manual commands).
    Copy(String),
}

#[derive(Debug)]
pub enum FixDialogOutput {
    /// Something may have changed: the window should take a fresh snapshot.
    Refresh,
    /// The finding is gone; the window says so in a toast.
    Fixed(String),
    Closed,
}

#[derive(Debug)]
pub enum FixDialogCmd {
    Planned(Result<FixPlan, FixError>),
    Applied(Result<FixApplied, FixError>),
    /// The diagnosis after applying.
    Checked(Result<Vec<Finding>, LibvirtError>),
}

#[derive(Debug)]
enum Stage {
    Planning,
    Planned(FixPlan),
    Applying,
    Done,
}

#[derive(Debug)]
pub struct FixDialog {
    hypervisor: Arc<Hypervisor>,
    finding: Finding,
    fix: Fix,
    stage: Stage,
    /// What applying did, kept for the result once the diagnosis is in.
    applied: Option<FixApplied>,
    toolbar: adw::ToolbarView,
}

impl Component for FixDialog {
    type Init = FixDialogInit;
    type Input = FixDialogMsg;
    type Output = FixDialogOutput;
    type CommandOutput = FixDialogCmd;
    type Root = adw::Dialog;
    type Widgets = ();

    fn init_root() -> adw::Dialog {
        dialog_page::dialog()
    }

    fn init(init: FixDialogInit, root: adw::Dialog, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let FixDialogInit { hypervisor, finding, fix } = init;
        root.set_title(&fill(&gettext("Fix: {title}"), &[("title", &finding.title)]));
        let toolbar = dialog_page::frame(&root, &adw::HeaderBar::new(), &sender, || FixDialogOutput::Closed);
        let model = FixDialog { hypervisor, finding, fix, stage: Stage::Planning, applied: None, toolbar };
        model.show(
            &root,
            &working_page(&gettext("Working out what the fix would change…"), &[], Some(&sender)),
        );
        let (hypervisor, fix) = (Arc::clone(&model.hypervisor), model.fix.clone());
        sender.oneshot_command(async move {
            // A click in the window: polkit may ask for a password.
            let mut fixer = Fixer::new(&hypervisor, true);
            FixDialogCmd::Planned(fixer.plan(&fix).await)
        });
        ComponentParts { model, widgets: () }
    }

    fn update(&mut self, msg: FixDialogMsg, sender: ComponentSender<Self>, root: &adw::Dialog) {
        match msg {
            FixDialogMsg::Close => {
                root.force_close();
            }
            FixDialogMsg::Copy(text) => root.clipboard().set_text(&text),
            FixDialogMsg::Apply => {
                let Stage::Planned(plan) = std::mem::replace(&mut self.stage, Stage::Applying) else {
                    return;
                };
                // Once a call has started it cannot be taken back: no closing now.
                root.set_can_close(false);
                self.show(root, &working_page(&gettext("Applying…"), &step_texts(&plan), None));
                let hypervisor = Arc::clone(&self.hypervisor);
                sender.oneshot_command(async move {
                    let mut fixer = Fixer::new(&hypervisor, true);
                    FixDialogCmd::Applied(fixer.apply(&plan).await)
                });
            }
        }
    }

    fn update_cmd(&mut self, cmd: FixDialogCmd, sender: ComponentSender<Self>, root: &adw::Dialog) {
        match cmd {
            FixDialogCmd::Planned(result) => {
                // Cancelled meanwhile: the dialog is gone, nothing to show.
                if !matches!(self.stage, Stage::Planning) {
                    return;
                }
                match result {
                    Ok(plan) => {
                        let page = plan_page(&self.fix, &plan, &sender);
                        self.show_reporting(root, &page, format!("fix-dialog-shown {}", self.finding.id));
                        self.stage = Stage::Planned(plan);
                    }
                    Err(error) => {
                        self.stage = Stage::Done;
                        let title = gettext("The Fix Could Not Be Planned");
                        let page = failure_page(&title, &fix_text::fix_error(&error), &sender);
                        self.show_reporting(root, &page, format!("fix-dialog-shown {}", self.finding.id));
                    }
                }
            }
            FixDialogCmd::Applied(result) => {
                let _ = sender.output(FixDialogOutput::Refresh);
                match result {
                    Ok(applied) => {
                        self.applied = Some(applied);
                        let what = gettext("Checking whether the finding is gone…");
                        self.show(root, &working_page(&what, &[], None));
                        let hypervisor = Arc::clone(&self.hypervisor);
                        sender.oneshot_command(async move {
                            let result = match hypervisor.snapshot().await {
                                Ok(snapshot) => Ok(diagnose(&crate::probe::with_host_facts(snapshot).await)),
                                Err(error) => Err(error),
                            };
                            FixDialogCmd::Checked(result)
                        });
                    }
                    Err(error) => {
                        root.set_can_close(true);
                        self.stage = Stage::Done;
                        let advice = fix_text::fix_error(&error);
                        let title = if matches!(
                            error,
                            FixError::Helper(vmnet_doctor_host::helper_api::ClientError::Dismissed)
                        ) {
                            gettext("Nothing Was Changed")
                        } else {
                            gettext("The Fix Failed")
                        };
                        let page = failure_page(&title, &advice, &sender);
                        self.show_reporting(root, &page, format!("fix-applied {} failed", self.finding.id));
                    }
                }
            }
            FixDialogCmd::Checked(result) => {
                root.set_can_close(true);
                self.stage = Stage::Done;
                let still = match &result {
                    Ok(findings) => findings
                        .iter()
                        .any(|now| now.id == self.finding.id && now.subject == self.finding.subject),
                    Err(_) => true,
                };
                let effect = self.applied.as_ref().map_or(Effect::Now, FixApplied::effect);
                let (outcome, page) = match (&result, still, effect) {
                    (Ok(_), false, _) => {
                        let message = fill(&gettext("Fixed: {title}"), &[("title", &self.finding.title)]);
                        let _ = sender.output(FixDialogOutput::Fixed(message));
                        report_event(&format!("fix-applied {} gone", self.finding.id));
                        root.force_close();
                        return;
                    }
                    (Ok(_), true, Effect::NextBoot) => (
                        "next-boot",
                        result_page(
                            "object-select-symbolic",
                            &gettext("Applied, in Effect at the Next Boot"),
                            &fix_text::effect(Effect::NextBoot),
                            None,
                            &sender,
                        ),
                    ),
                    (Ok(_), _, _) => (
                        "still-present",
                        result_page(
                            "dialog-warning-symbolic",
                            &gettext("Applied, but the Finding Is Still There"),
                            &gettext("The change was made, yet the fresh check still reports the problem."),
                            Some(&gettext(
                                "Look at the finding's evidence again; something else may cause it.",
                            )),
                            &sender,
                        ),
                    ),
                    (Err(error), _, _) => (
                        "unchecked",
                        result_page(
                            "dialog-warning-symbolic",
                            &gettext("Applied, but Not Checked"),
                            &fix_text::libvirt_error(error).message,
                            Some(&gettext("Refresh the window to see whether the finding is gone.")),
                            &sender,
                        ),
                    ),
                };
                self.show_reporting(root, &page, format!("fix-applied {} {outcome}", self.finding.id));
            }
        }
    }
}

impl FixDialog {
    /// Puts `page` in the dialog, its main button focused and the default.
    fn show(&self, root: &adw::Dialog, page: &Page) {
        dialog_page::show(root, &self.toolbar, page, None);
    }

    /// [`Self::show`], then reports `event` for the GUI tests once the page
    /// takes keys.
    fn show_reporting(&self, root: &adw::Dialog, page: &Page, event: String) {
        dialog_page::show(root, &self.toolbar, page, Some(event));
    }
}

/// A spinner, what is happening, the steps under way; Cancel while
/// nothing has been changed yet (`cancel`).
fn working_page(what: &str, steps: &[String], cancel: Option<&ComponentSender<FixDialog>>) -> Page {
    let cancel = cancel.map(|sender| button(&gettext("_Cancel"), sender, || FixDialogMsg::Close));
    dialog_page::working_page(what, steps, cancel)
}

/// The calls a plan makes, in words, shown while they run.
pub(crate) fn step_texts(plan: &FixPlan) -> Vec<String> {
    match plan {
        FixPlan::Libvirt { preview, .. } => preview.steps.iter().map(fix_text::step).collect(),
        FixPlan::Helper { plan, .. } => plan.steps.iter().map(|step| step.description.clone()).collect(),
        FixPlan::Firewalld(plan) => {
            plan.steps.iter().map(|step| fix_text::zone_step(step, &plan.zone)).collect()
        }
        FixPlan::Manual { .. } => Vec::new(),
    }
}

/// What applying would change, with Cancel and Apply.
fn plan_page(fix: &Fix, plan: &FixPlan, sender: &ComponentSender<FixDialog>) -> Page {
    let body = page_box();
    body.append(&heading(&gettext("What will change")));
    body.append(&text(&describe::fix(fix)));
    let cancel = button(&gettext("_Cancel"), sender, || FixDialogMsg::Close);
    match plan {
        FixPlan::Libvirt { preview, .. } => libvirt_plan(&body, preview),
        FixPlan::Helper { plan, .. } => helper_plan(&body, plan),
        FixPlan::Firewalld(plan) => firewalld_plan(&body, plan),
        FixPlan::Manual { commands, reason } => {
            let advice = fix_text::manual_reason(reason);
            body.append(&text(&advice.message));
            body.append(&heading(&gettext("Run these commands yourself")));
            let commands = commands.join("\n");
            body.append(&code(&commands));
            let copy =
                button(&gettext("C_opy Commands"), sender, move || FixDialogMsg::Copy(commands.clone()));
            copy.set_halign(gtk::Align::Start);
            body.append(&copy);
            if let Some(hint) = &advice.hint {
                body.append(&text(hint));
            }
            cancel.set_label(&gettext("_Close"));
            return Page {
                widget: with_buttons(&body, &button_row(&[&cancel])),
                focus: Some(cancel.upcast()),
            };
        }
    }
    let apply = button(&gettext("_Apply"), sender, || FixDialogMsg::Apply);
    apply.add_css_class("suggested-action");
    Page { widget: with_buttons(&body, &button_row(&[&cancel, &apply])), focus: Some(apply.upcast()) }
}

fn helper_plan(body: &gtk::Box, plan: &Plan) {
    if plan.is_empty() {
        body.append(&text(&gettext("The host already has this change: nothing to do.")));
        return;
    }
    body.append(&text(&plan.summary));
    body.append(&heading(&gettext("Run by the VM Network Doctor helper, as root")));
    for (number, step) in plan.steps.iter().enumerate() {
        body.append(&text(&format!("{}. {}", number + 1, step.description)));
        let mut detail = fix_text::action(&step.action);
        if let Action::WriteFile { contents, .. } = &step.action {
            detail.push('\n');
            detail.push_str(contents);
        }
        body.append(&code(&detail));
    }
    body.append(&heading(&gettext("When it takes effect")));
    body.append(&text(&gettext("In effect now, and kept after a reboot.")));
}

fn firewalld_plan(body: &gtk::Box, plan: &ZonePlan) {
    if plan.steps.is_empty() {
        body.append(&text(&gettext("firewalld already has this change: nothing to do.")));
        return;
    }
    body.append(&heading(&fill(
        &gettext("firewalld calls, for the bridge {bridge}"),
        &[("bridge", &plan.bridge)],
    )));
    for (number, step) in plan.steps.iter().enumerate() {
        body.append(&text(&format!("{}. {}", number + 1, fix_text::zone_step(step, &plan.zone))));
    }
    body.append(&heading(&gettext("When it takes effect")));
    body.append(&text(&gettext("In effect now, and kept after a reboot.")));
}

/// Why it failed, and what to do.
fn failure_page(title: &str, advice: &Advice, sender: &ComponentSender<FixDialog>) -> Page {
    result_page("dialog-error-symbolic", title, &advice.message, advice.hint.as_deref(), sender)
}

fn result_page(
    icon: &str,
    title: &str,
    message: &str,
    hint: Option<&str>,
    sender: &ComponentSender<FixDialog>,
) -> Page {
    let close = button(&gettext("_Close"), sender, || FixDialogMsg::Close);
    dialog_page::result_page(icon, title, message, hint, close)
}
