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
use vmnet_doctor_libvirt::{Effect, FixPreview, Hypervisor, LibvirtError};

use crate::describe;
use crate::fixes::describe::{self as fix_text, Advice};
use crate::fixes::{FixApplied, FixError, FixPlan, Fixer};
use crate::i18n::fill;

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
        adw::Dialog::builder().content_width(640).content_height(560).build()
    }

    fn init(init: FixDialogInit, root: adw::Dialog, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let FixDialogInit { hypervisor, finding, fix } = init;
        root.set_title(&fill(&gettext("Fix: {title}"), &[("title", &finding.title)]));
        let toolbar = adw::ToolbarView::new();
        toolbar.add_top_bar(&adw::HeaderBar::new());
        root.set_child(Some(&toolbar));
        root.connect_closed({
            let sender = sender.clone();
            move |_| {
                let _ = sender.output(FixDialogOutput::Closed);
            }
        });
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
                        self.show(root, &plan_page(&self.fix, &plan, &sender));
                        self.stage = Stage::Planned(plan);
                        report(&format!("fix-dialog-shown {}", self.finding.id));
                    }
                    Err(error) => {
                        self.stage = Stage::Done;
                        let title = gettext("The Fix Could Not Be Planned");
                        self.show(root, &failure_page(&title, &fix_text::fix_error(&error), &sender));
                        report(&format!("fix-dialog-shown {}", self.finding.id));
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
                                Ok(snapshot) => {
                                    Ok(diagnose(&crate::ui::window::with_host_facts(snapshot).await))
                                }
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
                        self.show(root, &failure_page(&title, &advice, &sender));
                        report(&format!("fix-applied {} failed", self.finding.id));
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
                        report(&format!("fix-applied {} gone", self.finding.id));
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
                self.show(root, &page);
                report(&format!("fix-applied {} {outcome}", self.finding.id));
            }
        }
    }
}

impl FixDialog {
    /// Puts `page` in the dialog, its main button focused and the default.
    fn show(&self, root: &adw::Dialog, page: &Page) {
        self.toolbar.set_content(Some(&page.widget));
        root.set_default_widget(page.focus.as_ref());
        if let Some(focus) = &page.focus {
            root.set_focus(Some(focus));
        }
    }
}

/// A stage's content, and the button that takes the keyboard focus.
struct Page {
    widget: gtk::Widget,
    focus: Option<gtk::Button>,
}

/// Says on stderr what the dialog did, for the GUI tests
/// (`VMNET_DOCTOR_REPORT_STARTUP=1`, as `crate::startup` reports).
fn report(event: &str) {
    if crate::startup::reporting() {
        eprintln!("vmnet-doctor: {event}");
    }
}

/// The calls a plan makes, in words, shown while they run.
fn step_texts(plan: &FixPlan) -> Vec<String> {
    match plan {
        FixPlan::Libvirt { preview, .. } => preview.steps.iter().map(fix_text::step).collect(),
        FixPlan::Helper { plan, .. } => plan.steps.iter().map(|step| step.description.clone()).collect(),
        FixPlan::Firewalld(plan) => {
            plan.steps.iter().map(|step| fix_text::zone_step(step, &plan.zone)).collect()
        }
        FixPlan::Manual { .. } => Vec::new(),
    }
}

pub(crate) fn page_box() -> gtk::Box {
    gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(12)
        .margin_top(12)
        .margin_bottom(18)
        .margin_start(18)
        .margin_end(18)
        .build()
}

pub(crate) fn text(label: &str) -> gtk::Label {
    gtk::Label::builder()
        .label(label)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .xalign(0.0)
        .build()
}

pub(crate) fn heading(label: &str) -> gtk::Label {
    let heading = text(label);
    heading.add_css_class("heading");
    heading
}

/// Text to read and copy exactly (XML, commands, file contents).
pub(crate) fn code(contents: &str) -> gtk::Widget {
    // A label, not a text view: a wrapping text view measured before its
    // text was laid out kept a zero height here (a long command showed as
    // a 12 px strip); a label measures its height for the width it gets.
    let label = gtk::Label::builder()
        .label(contents.trim_end_matches('\n'))
        .selectable(true)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .xalign(0.0)
        .css_classes(["monospace"])
        .margin_top(6)
        .margin_bottom(6)
        .margin_start(6)
        .margin_end(6)
        .build();
    let frame = gtk::Frame::new(None);
    frame.set_child(Some(&label));
    frame.upcast()
}

fn button(
    label: &str,
    sender: &ComponentSender<FixDialog>,
    msg: impl Fn() -> FixDialogMsg + 'static,
) -> gtk::Button {
    let button = gtk::Button::with_mnemonic(label);
    let sender = sender.clone();
    button.connect_clicked(move |_| sender.input(msg()));
    button
}

/// The buttons at the bottom of a page.
pub(crate) fn button_row(buttons: &[&gtk::Button]) -> gtk::Box {
    let row = gtk::Box::builder().spacing(12).halign(gtk::Align::End).margin_top(6).build();
    for button in buttons {
        button.add_css_class("pill");
        row.append(*button);
    }
    row
}

/// A scrolled body above a row of buttons.
pub(crate) fn with_buttons(body: &gtk::Box, buttons: &gtk::Box) -> gtk::Widget {
    let scrolled = gtk::ScrolledWindow::builder()
        .hscrollbar_policy(gtk::PolicyType::Never)
        .propagate_natural_height(true)
        .vexpand(true)
        .child(body)
        .build();
    let page = gtk::Box::new(gtk::Orientation::Vertical, 0);
    page.append(&scrolled);
    buttons.set_margin_start(18);
    buttons.set_margin_end(18);
    buttons.set_margin_bottom(18);
    page.append(buttons);
    page.upcast()
}

/// A spinner, what is happening, the steps under way; Cancel while
/// nothing has been changed yet (`cancel`).
fn working_page(what: &str, steps: &[String], cancel: Option<&ComponentSender<FixDialog>>) -> Page {
    let body = page_box();
    body.set_valign(gtk::Align::Center);
    let spinner = gtk::Spinner::builder().spinning(true).width_request(32).height_request(32).build();
    body.append(&spinner);
    let label = heading(what);
    label.set_xalign(0.5);
    body.append(&label);
    for step in steps {
        let line = text(step);
        line.add_css_class("dim-label");
        body.append(&line);
    }
    let focus = cancel.map(|sender| {
        let cancel = button(&gettext("_Cancel"), sender, || FixDialogMsg::Close);
        cancel.set_halign(gtk::Align::Center);
        cancel.add_css_class("pill");
        body.append(&cancel);
        cancel
    });
    Page { widget: body.upcast(), focus }
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
            return Page { widget: with_buttons(&body, &button_row(&[&cancel])), focus: Some(cancel) };
        }
    }
    let apply = button(&gettext("_Apply"), sender, || FixDialogMsg::Apply);
    apply.add_css_class("suggested-action");
    Page { widget: with_buttons(&body, &button_row(&[&cancel, &apply])), focus: Some(apply) }
}

pub(crate) fn libvirt_plan(body: &gtk::Box, preview: &FixPreview) {
    if preview.is_nothing_to_do() {
        body.append(&text(&gettext("libvirt already has this change: nothing to do.")));
        return;
    }
    body.append(&heading(&gettext("libvirt calls")));
    for (number, step) in preview.steps.iter().enumerate() {
        body.append(&text(&format!("{}. {}", number + 1, fix_text::step(step))));
    }
    let (now, after) = fix_text::diff_labels();
    for change in &preview.changes {
        body.append(&heading(&fix_text::definition(&change.definition)));
        body.append(&code(&change.diff(&now, &after)));
    }
    body.append(&heading(&gettext("When it takes effect")));
    body.append(&text(&fix_text::planned_effect(preview.effect)));
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
    let body = page_box();
    let image = gtk::Image::builder().icon_name(icon).pixel_size(48).build();
    body.append(&image);
    let title = text(title);
    title.set_xalign(0.5);
    title.set_justify(gtk::Justification::Center);
    title.add_css_class("title-2");
    body.append(&title);
    let message = text(message);
    message.set_selectable(true);
    body.append(&message);
    if let Some(hint) = hint {
        let hint = text(hint);
        hint.set_selectable(true);
        hint.add_css_class("dim-label");
        body.append(&hint);
    }
    let close = button(&gettext("_Close"), sender, || FixDialogMsg::Close);
    Page { widget: with_buttons(&body, &button_row(&[&close])), focus: Some(close) }
}
