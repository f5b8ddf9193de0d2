//! Fix All: every fix of a VM's (or the host's) problems in one dialog, in
//! the order `core::fix_order` gives (the host, then virtual networks, then
//! the VMs' settings, then inside guests). Each step shows what it will
//! change; Apply All makes them one after the other, each planned again
//! just before it is applied, through the same calls as the Fix dialog
//! (`crate::fixes`). The helper's polkit actions are `auth_admin_keep`,
//! and one `Fixer` (one helper connection) makes every step, so one
//! password covers them. The first failure stops the rest; Cancel stops
//! before the next step. Then the window diagnoses again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gettextrs::{gettext, ngettext};
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{Component, ComponentParts, ComponentSender};
use vmnet_doctor_core::{Finding, Fix, fix_order};
use vmnet_doctor_libvirt::{Effect, Hypervisor};

use crate::describe;
use crate::fixes::describe::{self as fix_text, Advice};
use crate::fixes::{FixPlan, Fixer};
use crate::i18n::fill;
use crate::ui::dialog_page::{self, Page, button, button_row, page_box, report_event, text, with_buttons};
use crate::ui::finding_row::labelled_image;
use crate::ui::fix_dialog::{FixDialogOutput, step_texts};

/// The connection, and the findings of the page it was opened from.
pub struct FixAllInit {
    pub hypervisor: Arc<Hypervisor>,
    pub findings: Vec<Finding>,
}

#[derive(Debug)]
pub enum FixAllMsg {
    /// Cancel before applying, or Close at the end.
    Close,
    ApplyAll,
    /// Cancel while applying: no step after the current one.
    Stop,
}

/// What a step would do, as planned when the dialog opened.
#[derive(Debug)]
pub enum StepPlan {
    /// The calls it makes, in words.
    Calls(Vec<String>),
    /// To be made by hand: why, and the commands.
    Manual(String, Vec<String>),
    NotPlanned(Advice),
}

#[derive(Debug)]
pub enum StepResult {
    Applied(Effect),
    /// Not automated here (no helper, no agent): left for the user.
    Manual,
    Failed(Advice),
}

#[derive(Debug)]
pub enum FixAllCmd {
    Planned(Vec<StepPlan>),
    Started(usize),
    Finished(usize, StepResult),
    /// Cancelled before the step with this index.
    Stopped(usize),
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Planning,
    Ready,
    Applying,
    Finished,
}

/// One row of the list: its fix, its cause's title, its status icon.
#[derive(Debug)]
struct Step {
    fix: Fix,
    /// Its cause's title.
    what: String,
    /// What it changes, in words.
    change: String,
    status: gtk::Stack,
    outcome: Option<bool>,
}

#[derive(Debug)]
pub struct FixAllDialog {
    hypervisor: Arc<Hypervisor>,
    steps: Vec<Step>,
    stage: Stage,
    stop: Arc<AtomicBool>,
    /// Whether an applied fix waits for its VM's next boot.
    next_boot: bool,
    toolbar: adw::ToolbarView,
    list: gtk::ListBox,
    message: gtk::Label,
    apply: gtk::Button,
    cancel: gtk::Button,
}

impl Component for FixAllDialog {
    type Init = FixAllInit;
    type Input = FixAllMsg;
    type Output = FixDialogOutput;
    type CommandOutput = FixAllCmd;
    type Root = adw::Dialog;
    type Widgets = ();

    fn init_root() -> adw::Dialog {
        dialog_page::dialog()
    }

    fn init(init: FixAllInit, root: adw::Dialog, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let FixAllInit { hypervisor, findings } = init;
        let order = fix_order(&findings);
        let steps: Vec<Step> = order
            .iter()
            .map(|step| Step {
                fix: step.fix.clone(),
                what: findings.get(step.finding).map(|f| f.title.clone()).unwrap_or_default(),
                change: describe::fix(step.fix),
                status: gtk::Stack::new(),
                outcome: None,
            })
            .collect();
        root.set_title(&fill(
            &ngettext("Fix All: {count} Fix", "Fix All: {count} Fixes", count_u32(steps.len())),
            &[("count", &steps.len().to_string())],
        ));
        let toolbar = dialog_page::frame(&root, &adw::HeaderBar::new(), &sender, || FixDialogOutput::Closed);
        let apply = button(&gettext("_Apply All"), &sender, || FixAllMsg::ApplyAll);
        apply.add_css_class("suggested-action");
        let cancel = button(&gettext("_Cancel"), &sender, || FixAllMsg::Close);
        let message = text("");
        message.set_visible(false);
        message.set_selectable(true);
        let list = gtk::ListBox::builder().selection_mode(gtk::SelectionMode::None).build();
        list.add_css_class("boxed-list");
        list.update_property(&[gtk::accessible::Property::Label(&gettext(
            "Fixes, in the order they are applied",
        ))]);
        let model = FixAllDialog {
            hypervisor,
            steps,
            stage: Stage::Planning,
            stop: Arc::new(AtomicBool::new(false)),
            next_boot: false,
            toolbar,
            list,
            message,
            apply,
            cancel,
        };
        let cancel = button(&gettext("_Cancel"), &sender, || FixAllMsg::Close);
        let working =
            dialog_page::working_page(&gettext("Working out what each fix would change…"), &[], Some(cancel));
        dialog_page::show(&root, &model.toolbar, &working, None);
        let (hypervisor, fixes) = (Arc::clone(&model.hypervisor), model.fixes());
        sender.oneshot_command(async move {
            let mut fixer = Fixer::new(&hypervisor, true);
            let mut plans = Vec::new();
            for fix in &fixes {
                plans.push(match fixer.plan(fix).await {
                    Ok(FixPlan::Manual { commands, reason }) => {
                        StepPlan::Manual(fix_text::manual_reason(&reason).message, commands)
                    }
                    Ok(plan) => StepPlan::Calls(step_texts(&plan)),
                    Err(error) => StepPlan::NotPlanned(fix_text::fix_error(&error)),
                });
            }
            FixAllCmd::Planned(plans)
        });
        ComponentParts { model, widgets: () }
    }

    fn update(&mut self, msg: FixAllMsg, sender: ComponentSender<Self>, root: &adw::Dialog) {
        match msg {
            FixAllMsg::Close => {
                root.force_close();
            }
            FixAllMsg::Stop => {
                self.stop.store(true, Ordering::SeqCst);
                self.cancel.set_sensitive(false);
                self.say(&gettext("Stopping after the fix under way…"));
            }
            FixAllMsg::ApplyAll => {
                if self.stage != Stage::Ready {
                    return;
                }
                self.stage = Stage::Applying;
                // A call under way cannot be taken back: Cancel stops before the next.
                root.set_can_close(false);
                self.apply.set_sensitive(false);
                self.swap_cancel(&gettext("_Cancel"), &sender, || FixAllMsg::Stop);
                self.cancel.grab_focus();
                let (hypervisor, fixes, stop) =
                    (Arc::clone(&self.hypervisor), self.fixes(), Arc::clone(&self.stop));
                sender.command(move |out, shutdown| {
                    shutdown
                        .register(async move {
                            let mut fixer = Fixer::new(&hypervisor, true);
                            for (index, fix) in fixes.iter().enumerate() {
                                if stop.load(Ordering::SeqCst) {
                                    let _ = out.send(FixAllCmd::Stopped(index));
                                    return;
                                }
                                let _ = out.send(FixAllCmd::Started(index));
                                let result = match fixer.plan(fix).await {
                                    Ok(FixPlan::Manual { .. }) => StepResult::Manual,
                                    Ok(plan) => match fixer.apply(&plan).await {
                                        Ok(applied) => StepResult::Applied(applied.effect()),
                                        Err(error) => StepResult::Failed(fix_text::fix_error(&error)),
                                    },
                                    Err(error) => StepResult::Failed(fix_text::fix_error(&error)),
                                };
                                let failed = matches!(result, StepResult::Failed(_));
                                let _ = out.send(FixAllCmd::Finished(index, result));
                                if failed {
                                    return;
                                }
                            }
                            let _ = out.send(FixAllCmd::Done);
                        })
                        .drop_on_shutdown()
                });
            }
        }
    }

    fn update_cmd(&mut self, cmd: FixAllCmd, sender: ComponentSender<Self>, root: &adw::Dialog) {
        match cmd {
            FixAllCmd::Planned(plans) => {
                if self.stage != Stage::Planning {
                    return;
                }
                self.stage = Stage::Ready;
                let page = self.plan_page(plans);
                let event = format!("fix-all-dialog-shown {}", self.steps.len());
                dialog_page::show(root, &self.toolbar, &page, Some(event));
            }
            FixAllCmd::Started(index) => self.set_status(index, "running"),
            FixAllCmd::Finished(index, result) => match result {
                StepResult::Applied(effect) => {
                    self.next_boot |= effect == Effect::NextBoot;
                    self.finish_step(index, true, "done");
                }
                StepResult::Manual => self.finish_step(index, false, "manual"),
                StepResult::Failed(advice) => {
                    self.finish_step(index, false, "failed");
                    self.skip_from(index + 1);
                    let title = self.steps.get(index).map(|step| step.what.clone()).unwrap_or_default();
                    let mut message = fill(
                        &gettext("The fix for “{title}” failed: {error}"),
                        &[("title", &title), ("error", &advice.message)],
                    );
                    if let Some(hint) = &advice.hint {
                        message.push(' ');
                        message.push_str(hint);
                    }
                    self.end(root, &sender, &message, "failed");
                }
            },
            FixAllCmd::Stopped(index) => {
                self.skip_from(index);
                self.end(
                    root,
                    &sender,
                    &gettext("Cancelled: the fixes after the last one applied were not attempted."),
                    "cancelled",
                );
            }
            FixAllCmd::Done => {
                let manual = self.steps.iter().filter(|step| step.outcome == Some(false)).count();
                let message = if manual == 0 {
                    gettext("Every fix was applied. The page is checked again.")
                } else {
                    gettext(
                        "Every automatic fix was applied; the others are to be made by hand (open their Fix… to see the commands).",
                    )
                };
                self.end(root, &sender, &message, "done");
            }
        }
    }
}

impl FixAllDialog {
    fn fixes(&self) -> Vec<Fix> {
        self.steps.iter().map(|step| step.fix.clone()).collect()
    }

    /// The list of steps, each with what it will change, and Apply All.
    fn plan_page(&mut self, plans: Vec<StepPlan>) -> Page {
        let body = page_box();
        body.append(&text(&gettext(
            "These fixes are applied one after the other, in this order: the host first, then virtual networks, then the VMs' settings, then inside guests. If one fails, the ones after it are not attempted.",
        )));
        for (number, (step, plan)) in self.steps.iter().zip(plans).enumerate() {
            let mut lines = vec![fill(&gettext("For: {title}"), &[("title", &step.what)])];
            match plan {
                StepPlan::Calls(calls) if calls.is_empty() => lines.push(gettext("Nothing to change now.")),
                StepPlan::Calls(calls) => lines.extend(calls),
                StepPlan::Manual(why, commands) => {
                    lines.push(why);
                    lines.extend(commands);
                }
                StepPlan::NotPlanned(advice) => lines.push(advice.message),
            }
            let row = adw::ActionRow::builder()
                .use_markup(false)
                .title(&step.change)
                .subtitle(lines.join("\n"))
                .subtitle_selectable(true)
                .build();
            let label = gtk::Label::new(Some(&(number + 1).to_string()));
            label.add_css_class("numeric");
            label.update_property(&[gtk::accessible::Property::Label(&gettext("Not applied yet"))]);
            step.status.add_named(&label, Some("pending"));
            let spinner = gtk::Spinner::builder().spinning(true).build();
            spinner.update_property(&[gtk::accessible::Property::Label(&gettext("Applying"))]);
            step.status.add_named(&spinner, Some("running"));
            let looks = [
                ("done", "object-select-symbolic", "success", gettext("Applied")),
                ("failed", "dialog-error-symbolic", "error", gettext("Failed")),
                ("manual", "dialog-information-symbolic", "dim-label", gettext("To be made by hand")),
                ("skipped", "action-unavailable-symbolic", "dim-label", gettext("Not attempted")),
            ];
            for (name, icon, style, label) in looks {
                step.status.add_named(&labelled_image(icon, style, &label), Some(name));
            }
            step.status.set_visible_child_name("pending");
            step.status.set_valign(gtk::Align::Center);
            row.add_prefix(&step.status);
            self.list.append(&row);
        }
        body.append(&self.list);
        body.append(&self.message);
        let buttons = button_row(&[&self.cancel, &self.apply]);
        Page { widget: with_buttons(&body, &buttons), focus: Some(self.apply.clone().upcast()) }
    }

    /// Gives the Cancel button a new label and message.
    fn swap_cancel(
        &mut self,
        label: &str,
        sender: &ComponentSender<Self>,
        msg: impl Fn() -> FixAllMsg + 'static,
    ) {
        let fresh = button(label, sender, msg);
        if let Some(parent) = self.cancel.parent().and_downcast::<gtk::Box>() {
            fresh.add_css_class("pill");
            parent.insert_child_after(&fresh, Some(&self.cancel));
            parent.remove(&self.cancel);
        }
        self.cancel = fresh;
    }

    fn set_status(&self, index: usize, name: &str) {
        if let Some(step) = self.steps.get(index) {
            step.status.set_visible_child_name(name);
        }
    }

    fn finish_step(&mut self, index: usize, applied: bool, name: &str) {
        self.set_status(index, name);
        if let Some(step) = self.steps.get_mut(index) {
            step.outcome = Some(applied);
        }
    }

    fn skip_from(&self, index: usize) {
        for step in self.steps.iter().skip(index) {
            step.status.set_visible_child_name("skipped");
        }
    }

    fn say(&self, message: &str) {
        self.message.set_text(message);
        self.message.set_visible(true);
    }

    /// The end: what was applied and what was not, a Close button, and a
    /// fresh diagnosis of the page.
    fn end(&mut self, root: &adw::Dialog, sender: &ComponentSender<Self>, message: &str, outcome: &str) {
        self.stage = Stage::Finished;
        let _ = sender.output(FixDialogOutput::Refresh);
        root.set_can_close(true);
        let applied: Vec<&str> = self
            .steps
            .iter()
            .filter(|step| step.outcome == Some(true))
            .map(|step| step.change.as_str())
            .collect();
        let left: Vec<&str> = self
            .steps
            .iter()
            .filter(|step| step.outcome != Some(true))
            .map(|step| step.change.as_str())
            .collect();
        let mut lines = vec![message.to_owned()];
        if self.next_boot {
            lines.push(fix_text::effect(Effect::NextBoot));
        }
        if applied.is_empty() {
            lines.push(gettext("Nothing was applied."));
        } else {
            lines.push(fill(&gettext("Applied: {fixes}."), &[("fixes", &applied.join("; "))]));
        }
        if !left.is_empty() {
            lines.push(fill(&gettext("Not applied: {fixes}."), &[("fixes", &left.join("; "))]));
        }
        self.say(&lines.join("\n"));
        self.apply.set_visible(false);
        let close = gtk::Button::with_mnemonic(&gettext("_Close"));
        let root_clone = root.clone();
        close.connect_clicked(move |_| {
            root_clone.force_close();
        });
        if let Some(parent) = self.cancel.parent().and_downcast::<gtk::Box>() {
            close.add_css_class("pill");
            close.add_css_class("suggested-action");
            parent.insert_child_after(&close, Some(&self.cancel));
            parent.remove(&self.cancel);
        }
        root.set_default_widget(Some(&close));
        close.grab_focus();
        self.cancel = close;
        report_event(&format!("fix-all-applied {outcome} {}", applied.len()));
    }
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
