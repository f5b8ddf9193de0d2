//! A change the user picked on the VM page (a card's link, model or
//! network, the guest agent channel) or a restart, in a dialog: the plan
//! first (libvirt's calls, the XML diff, whether it applies now or at the
//! next boot), then Apply; when the change waits for the next boot, Restart
//! Now shuts the guest down gracefully, waits for libvirt's "stopped"
//! event, offers Force Off when the guest does not react, and starts it.

use std::sync::Arc;
use std::time::Duration;

use gettextrs::{gettext, ngettext};
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{Component, ComponentParts, ComponentSender};
use vmnet_doctor_libvirt::{
    Effect, FixFailure, FixPreview, FixReport, Hypervisor, LibvirtError, LibvirtFix, PowerAction,
};

use crate::fixes::describe::{self as fix_text, Advice};
use crate::i18n::fill;
use crate::ui::dialog_page::{
    self, Page, button, button_row, heading, libvirt_plan, page_box, report_event, result_body, text,
    with_buttons,
};
use crate::ui::network_chooser;
use crate::ui::nic_actions::{self, NetworkChoice, VmAction, VmActionRequest};

/// Connect to Network…'s chooser, its buttons and rows sending this
/// dialog's messages.
fn chooser_page(choice: &NetworkChoice, vm: &str, sender: &ComponentSender<VmActionDialog>) -> Page {
    network_chooser::page(
        choice,
        vm,
        sender,
        || VmActionMsg::Close,
        |fix, note| VmActionMsg::Plan { fix, note },
    )
}

/// How long a guest may take to shut down before Force Off is offered
/// (and again after Keep Waiting).
const SHUTDOWN_PATIENCE: Duration = Duration::from_secs(60);

/// Shortens [`SHUTDOWN_PATIENCE`] for the GUI test on a real daemon
/// (tests/gui/restart-libvirtd.sh), whose guest never shuts down.
const PATIENCE_VARIABLE: &str = "VMNET_DOCTOR_SHUTDOWN_PATIENCE_SECONDS";

fn shutdown_patience() -> Duration {
    std::env::var(PATIENCE_VARIABLE)
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .map_or(SHUTDOWN_PATIENCE, Duration::from_secs)
}

pub struct VmActionInit {
    pub hypervisor: Arc<Hypervisor>,
    pub request: VmActionRequest,
}

#[derive(Debug)]
pub enum VmActionMsg {
    /// Cancel or Close.
    Close,
    /// Plan this change; `note` is said beside the plan (e.g. the chosen
    /// network is not running).
    Plan {
        fix: LibvirtFix,
        note: Option<String>,
    },
    Apply,
    /// Shut the VM down gracefully, then start it.
    Restart,
    KeepWaiting,
    ForceOff,
    /// From a network's plan back to the network chooser.
    Back,
}

#[derive(Debug)]
pub enum VmActionOutput {
    /// Something changed: the window should take a fresh snapshot.
    Refresh,
    /// Done; the window says so in a toast.
    Done(String),
    Closed,
}

/// How waiting for the shutdown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Stopped,
    /// The guest did not stop within [`shutdown_patience`].
    TimedOut,
}

#[derive(Debug)]
pub enum VmActionCmd {
    Planned(Result<FixPreview, LibvirtError>),
    Applied(Result<FixReport, Box<FixFailure>>),
    /// `wait` tells a current wait from one the user gave up on.
    ShutDown {
        wait: u64,
        result: Result<Shutdown, LibvirtError>,
    },
    ForcedOff(Result<(), LibvirtError>),
    Started(Result<(), LibvirtError>),
}

#[derive(Debug)]
enum Stage {
    Choosing,
    Planning(LibvirtFix),
    Planned(LibvirtFix),
    Applying(LibvirtFix),
    /// The restart is asked for, not yet begun (Restart… on a running VM).
    Confirming,
    ShuttingDown,
    NotStopped,
    ForcingOff,
    Starting,
    Done,
}

#[derive(Debug)]
pub struct VmActionDialog {
    hypervisor: Arc<Hypervisor>,
    request: VmActionRequest,
    stage: Stage,
    /// Said beside the plan.
    note: Option<String>,
    /// Bumped when a wait is abandoned, so its late answer is ignored.
    wait: u64,
    /// A change waits for this restart to take effect.
    change_waiting: bool,
    toolbar: adw::ToolbarView,
    /// Back to the network chooser, shown on the plan of a chosen network.
    back: gtk::Button,
}

impl Component for VmActionDialog {
    type Init = VmActionInit;
    type Input = VmActionMsg;
    type Output = VmActionOutput;
    type CommandOutput = VmActionCmd;
    type Root = adw::Dialog;
    type Widgets = ();

    fn init_root() -> adw::Dialog {
        dialog_page::dialog()
    }

    fn init(init: VmActionInit, root: adw::Dialog, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let VmActionInit { hypervisor, request } = init;
        root.set_title(&nic_actions::title(&request));
        let header = adw::HeaderBar::new();
        let back = gtk::Button::builder().icon_name("go-previous-symbolic").visible(false).build();
        let back_name = gettext("Back to the Networks");
        back.set_tooltip_text(Some(&back_name));
        back.update_property(&[gtk::accessible::Property::Label(&back_name)]);
        back.connect_clicked({
            let sender = sender.clone();
            move |_| sender.input(VmActionMsg::Back)
        });
        header.pack_start(&back);
        let toolbar = dialog_page::frame(&root, &header, &sender, || VmActionOutput::Closed);
        let mut model = VmActionDialog {
            hypervisor,
            request,
            stage: Stage::Done,
            note: None,
            wait: 0,
            change_waiting: false,
            toolbar,
            back,
        };
        match model.request.action.clone() {
            VmAction::Change(fix) => model.plan(fix, None, &root, &sender),
            VmAction::ChooseNetwork(choice) => {
                model.stage = Stage::Choosing;
                let page = chooser_page(&choice, &model.request.vm, &sender);
                model.show_reporting(&root, &page, model.shown_event());
            }
            VmAction::Restart => {
                model.stage = Stage::Confirming;
                let page = restart_page(&model.request.vm, &sender);
                model.show_reporting(&root, &page, model.shown_event());
            }
            VmAction::Start => model.start(&root, &sender),
        }
        ComponentParts { model, widgets: () }
    }

    fn update(&mut self, msg: VmActionMsg, sender: ComponentSender<Self>, root: &adw::Dialog) {
        match msg {
            VmActionMsg::Back => {
                let (Stage::Planned(_), VmAction::ChooseNetwork(choice)) =
                    (&self.stage, &self.request.action)
                else {
                    return;
                };
                let page = chooser_page(choice, &self.request.vm, &sender);
                self.stage = Stage::Choosing;
                self.show_reporting(root, &page, self.shown_event());
            }
            VmActionMsg::Close => {
                if matches!(self.stage, Stage::ShuttingDown | Stage::NotStopped) {
                    // The guest was asked already and may still stop.
                    let message = fill(
                        &gettext(
                            "“{vm}” was asked to shut down and may still do so; it will not be started again",
                        ),
                        &[("vm", &self.request.vm)],
                    );
                    let _ = sender.output(VmActionOutput::Refresh);
                    let _ = sender.output(VmActionOutput::Done(message));
                }
                root.force_close();
            }
            VmActionMsg::Plan { fix, note } => self.plan(fix, note, root, &sender),
            VmActionMsg::Apply => {
                let Stage::Planned(fix) = std::mem::replace(&mut self.stage, Stage::Done) else {
                    return;
                };
                // Once libvirt is called it cannot be taken back: no closing now.
                root.set_can_close(false);
                self.show(root, &working_page(&gettext("Applying…"), None));
                self.stage = Stage::Applying(fix.clone());
                let hypervisor = Arc::clone(&self.hypervisor);
                sender.oneshot_command(async move { VmActionCmd::Applied(hypervisor.apply_fix(fix).await) });
            }
            VmActionMsg::Restart | VmActionMsg::KeepWaiting => self.shut_down(root, &sender),
            VmActionMsg::ForceOff => {
                if !matches!(self.stage, Stage::NotStopped) {
                    return;
                }
                self.stage = Stage::ForcingOff;
                root.set_can_close(false);
                let what = fill(&gettext("Forcing “{vm}” off…"), &[("vm", &self.request.vm)]);
                self.show(root, &working_page(&what, None));
                let (hypervisor, vm) = (Arc::clone(&self.hypervisor), self.request.vm.clone());
                sender.oneshot_command(async move {
                    VmActionCmd::ForcedOff(hypervisor.power(&vm, PowerAction::ForceOff).await)
                });
            }
        }
    }

    fn update_cmd(&mut self, cmd: VmActionCmd, sender: ComponentSender<Self>, root: &adw::Dialog) {
        match cmd {
            VmActionCmd::Planned(result) => {
                // Cancelled meanwhile: the dialog is gone, nothing to show.
                let Stage::Planning(fix) = std::mem::replace(&mut self.stage, Stage::Done) else {
                    return;
                };
                let shown = format!("vm-action-shown {}", nic_actions::kind(&VmAction::Change(fix.clone())));
                match result {
                    Ok(preview) => {
                        let page = plan_page(&fix, &preview, self.note.as_deref(), &sender);
                        self.show_reporting(root, &page, shown);
                        self.back.set_visible(matches!(self.request.action, VmAction::ChooseNetwork(_)));
                        self.stage = Stage::Planned(fix);
                    }
                    Err(error) => {
                        let title = gettext("The Change Could Not Be Planned");
                        let page = failure_page(&title, &fix_text::libvirt_error(&error), &sender);
                        self.show_reporting(root, &page, shown);
                    }
                }
            }
            VmActionCmd::Applied(result) => {
                root.set_can_close(true);
                let Stage::Applying(fix) = std::mem::replace(&mut self.stage, Stage::Done) else {
                    return;
                };
                let _ = sender.output(VmActionOutput::Refresh);
                let kind = nic_actions::kind(&VmAction::Change(fix));
                match result {
                    Ok(report) if report.effect == Effect::NextBoot => {
                        self.change_waiting = true;
                        let page = next_boot_page(&self.request.vm, &report, &sender);
                        self.show_reporting(root, &page, format!("vm-action-applied {kind} next-boot"));
                    }
                    Ok(_) => {
                        let message = fill(
                            &gettext("Done: {change}"),
                            &[("change", &nic_actions::title(&self.request))],
                        );
                        let _ = sender.output(VmActionOutput::Done(message));
                        report_event(&format!("vm-action-applied {kind} now"));
                        root.force_close();
                    }
                    Err(failure) => {
                        let title = gettext("The Change Failed");
                        let page = failure_page(&title, &fix_text::libvirt_failure(&failure), &sender);
                        self.show_reporting(root, &page, format!("vm-action-applied {kind} failed"));
                    }
                }
            }
            VmActionCmd::ShutDown { wait, result } => {
                if wait != self.wait || !matches!(self.stage, Stage::ShuttingDown) {
                    return;
                }
                match result {
                    Ok(Shutdown::Stopped) => self.start(root, &sender),
                    Ok(Shutdown::TimedOut) => {
                        self.stage = Stage::NotStopped;
                        let page = not_stopped_page(&self.request.vm, &sender);
                        self.show_reporting(root, &page, format!("vm-not-stopped {}", self.request.vm));
                    }
                    Err(error) => self.fail(root, &gettext("The VM Could Not Be Shut Down"), &error, &sender),
                }
            }
            VmActionCmd::ForcedOff(result) => match result {
                Ok(()) => self.start(root, &sender),
                Err(error) => self.fail(root, &gettext("The VM Could Not Be Forced Off"), &error, &sender),
            },
            VmActionCmd::Started(result) => {
                root.set_can_close(true);
                self.stage = Stage::Done;
                let _ = sender.output(VmActionOutput::Refresh);
                match result {
                    Ok(()) => {
                        let vm = &self.request.vm;
                        let message = if self.change_waiting {
                            fill(&gettext("“{vm}” started again: the change is in effect"), &[("vm", vm)])
                        } else {
                            fill(&gettext("“{vm}” started"), &[("vm", vm)])
                        };
                        let _ = sender.output(VmActionOutput::Done(message));
                        report_event(&format!("vm-started {vm}"));
                        root.force_close();
                    }
                    Err(error) => {
                        let title = gettext("The VM Could Not Be Started");
                        let mut advice = fix_text::libvirt_error(&error);
                        advice.hint = Some(gettext(
                            "The VM is shut off now. Start it in virt-manager, or with “virsh start”, once the cause is fixed.",
                        ));
                        self.show(root, &failure_page(&title, &advice, &sender));
                    }
                }
            }
        }
    }
}

impl VmActionDialog {
    /// Puts `page` in the dialog, its main button focused and the default.
    fn show(&self, root: &adw::Dialog, page: &Page) {
        self.show_then(root, page, None);
    }

    /// [`Self::show`], then reports `event` for the GUI tests once the page
    /// takes keys.
    fn show_reporting(&self, root: &adw::Dialog, page: &Page, event: String) {
        self.show_then(root, page, Some(event));
    }

    fn show_then(&self, root: &adw::Dialog, page: &Page, event: Option<String>) {
        self.back.set_visible(false);
        dialog_page::show(root, &self.toolbar, page, event);
    }

    fn shown_event(&self) -> String {
        format!("vm-action-shown {}", nic_actions::kind(&self.request.action))
    }

    fn plan(
        &mut self,
        fix: LibvirtFix,
        note: Option<String>,
        root: &adw::Dialog,
        sender: &ComponentSender<Self>,
    ) {
        self.note = note;
        self.stage = Stage::Planning(fix.clone());
        self.show(root, &working_page(&gettext("Working out what would change…"), Some(sender)));
        let hypervisor = Arc::clone(&self.hypervisor);
        sender.oneshot_command(async move { VmActionCmd::Planned(hypervisor.preview_fix(fix).await) });
    }

    /// Asks the guest to shut down and waits for libvirt to say it stopped,
    /// at most [`shutdown_patience`]; a VM already off goes straight on to
    /// the start.
    fn shut_down(&mut self, root: &adw::Dialog, sender: &ComponentSender<Self>) {
        let again = matches!(self.stage, Stage::NotStopped);
        if !again && !matches!(self.stage, Stage::Confirming | Stage::Done) {
            return;
        }
        self.stage = Stage::ShuttingDown;
        root.set_title(&fill(&gettext("Restart “{vm}”"), &[("vm", &self.request.vm)]));
        self.wait += 1;
        let wait = self.wait;
        let vm = self.request.vm.clone();
        let what = fill(&gettext("Waiting for “{vm}” to shut down…"), &[("vm", &vm)]);
        let page = working_page(&what, Some(sender));
        let seconds = shutdown_patience().as_secs();
        let detail = text(&fill(
            &ngettext(
                "The guest was asked to shut down, as its power button would. If it has not stopped after {seconds} second, you can force it off.",
                "The guest was asked to shut down, as its power button would. If it has not stopped after {seconds} seconds, you can force it off.",
                u32::try_from(seconds).unwrap_or(u32::MAX),
            ),
            &[("seconds", &seconds.to_string())],
        ));
        detail.add_css_class("dim-label");
        detail.set_justify(gtk::Justification::Center);
        detail.set_xalign(0.5);
        if let Some(body) = page.widget.downcast_ref::<gtk::Box>() {
            // Under the heading, above Cancel.
            body.insert_child_after(
                &detail,
                body.first_child().and_then(|spinner| spinner.next_sibling()).as_ref(),
            );
        }
        self.show(root, &page);
        let hypervisor = Arc::clone(&self.hypervisor);
        let patience = shutdown_patience();
        sender.oneshot_command(async move {
            let result = async {
                // Subscribed before asking, so a guest that stops at once is seen.
                let mut watch = hypervisor.watch_for_stop(&vm);
                if !again && hypervisor.is_running(&vm).await? {
                    hypervisor.power(&vm, PowerAction::Shutdown).await?;
                }
                match tokio::time::timeout(patience, hypervisor.wait_until_stopped(&mut watch)).await {
                    Ok(stopped) => stopped.map(|()| Shutdown::Stopped),
                    Err(_) => Ok(Shutdown::TimedOut),
                }
            }
            .await;
            VmActionCmd::ShutDown { wait, result }
        });
    }

    fn start(&mut self, root: &adw::Dialog, sender: &ComponentSender<Self>) {
        self.stage = Stage::Starting;
        root.set_can_close(false);
        let what = fill(&gettext("Starting “{vm}”…"), &[("vm", &self.request.vm)]);
        self.show(root, &working_page(&what, None));
        let (hypervisor, vm) = (Arc::clone(&self.hypervisor), self.request.vm.clone());
        sender.oneshot_command(async move {
            VmActionCmd::Started(hypervisor.power(&vm, PowerAction::Start).await)
        });
    }

    fn fail(
        &mut self,
        root: &adw::Dialog,
        title: &str,
        error: &LibvirtError,
        sender: &ComponentSender<Self>,
    ) {
        root.set_can_close(true);
        self.stage = Stage::Done;
        let _ = sender.output(VmActionOutput::Refresh);
        self.show(root, &failure_page(title, &fix_text::libvirt_error(error), sender));
    }
}

/// A spinner and what is happening; Cancel when leaving is safe.
fn working_page(what: &str, cancel: Option<&ComponentSender<VmActionDialog>>) -> Page {
    let cancel = cancel.map(|sender| button(&gettext("_Cancel"), sender, || VmActionMsg::Close));
    dialog_page::working_page(what, &[], cancel)
}

/// The change in words, libvirt's calls and XML diff, when it takes effect;
/// Cancel and Apply.
fn plan_page(
    fix: &LibvirtFix,
    preview: &FixPreview,
    note: Option<&str>,
    sender: &ComponentSender<VmActionDialog>,
) -> Page {
    let body = page_box();
    body.append(&heading(&gettext("What will change")));
    body.append(&text(&nic_actions::change_text(fix)));
    if let Some(note) = note {
        let note = text(note);
        note.add_css_class("warning");
        body.append(&note);
    }
    libvirt_plan(&body, preview);
    let cancel = button(&gettext("_Cancel"), sender, || VmActionMsg::Close);
    if preview.is_nothing_to_do() {
        cancel.set_label(&gettext("_Close"));
        return Page { widget: with_buttons(&body, &button_row(&[&cancel])), focus: Some(cancel.upcast()) };
    }
    if preview.effect == Effect::NextBoot {
        body.append(&text(&gettext("Once it is applied, you can restart the VM from here.")));
    }
    let apply = button(&gettext("_Apply"), sender, || VmActionMsg::Apply);
    apply.add_css_class("suggested-action");
    Page { widget: with_buttons(&body, &button_row(&[&cancel, &apply])), focus: Some(apply.upcast()) }
}

/// Applied, waiting for the next boot: Later, or Restart Now.
fn next_boot_page(vm: &str, report: &FixReport, sender: &ComponentSender<VmActionDialog>) -> Page {
    let mut message = fix_text::effect(Effect::NextBoot);
    if let Some(refused) = &report.running_vm_refused {
        message.push_str("\n\n");
        message.push_str(&fill(
            &gettext("libvirt would not change the running VM: {reason}"),
            &[("reason", refused)],
        ));
    }
    let body = result_body(
        "object-select-symbolic",
        &gettext("Saved, in Effect at the Next Boot"),
        &message,
        Some(&fill(
            &gettext(
                "Restart Now asks “{vm}” to shut down, as its power button would, waits for it to stop, then starts it. Save your work inside the guest first.",
            ),
            &[("vm", vm)],
        )),
    );
    let later = button(&gettext("_Later"), sender, || VmActionMsg::Close);
    let restart = button(&gettext("_Restart Now"), sender, || VmActionMsg::Restart);
    restart.add_css_class("suggested-action");
    Page { widget: with_buttons(&body, &button_row(&[&later, &restart])), focus: Some(restart.upcast()) }
}

/// Restart… from the VM's menu: what it does, before it does it.
fn restart_page(vm: &str, sender: &ComponentSender<VmActionDialog>) -> Page {
    let body = result_body(
        "system-reboot-symbolic",
        &fill(&gettext("Shut Down and Start “{vm}”?"), &[("vm", vm)]),
        &gettext(
            "The guest is asked to shut down, as its power button would. Once libvirt says it stopped, it is started again with its persistent configuration, so every change waiting for the next boot takes effect.",
        ),
        Some(&gettext("Save your work inside the guest first.")),
    );
    let cancel = button(&gettext("_Cancel"), sender, || VmActionMsg::Close);
    let restart = button(&gettext("_Restart"), sender, || VmActionMsg::Restart);
    restart.add_css_class("suggested-action");
    Page { widget: with_buttons(&body, &button_row(&[&cancel, &restart])), focus: Some(restart.upcast()) }
}

/// The guest ignored the shutdown: keep waiting, or force it off knowing
/// what that costs.
fn not_stopped_page(vm: &str, sender: &ComponentSender<VmActionDialog>) -> Page {
    let seconds = shutdown_patience().as_secs();
    let body = result_body(
        "dialog-warning-symbolic",
        &fill(&gettext("“{vm}” Did Not Shut Down"), &[("vm", vm)]),
        &fill(
            &ngettext(
                "The guest did not stop within {seconds} second of the shutdown request. It may still be busy (updates, a program asking to save), or it does not react to the power button (no ACPI support, or a guest that hangs).",
                "The guest did not stop within {seconds} seconds of the shutdown request. It may still be busy (updates, a program asking to save), or it does not react to the power button (no ACPI support, or a guest that hangs).",
                u32::try_from(seconds).unwrap_or(u32::MAX),
            ),
            &[("seconds", &seconds.to_string())],
        ),
        None,
    );
    let warning = text(&gettext(
        "Force Off cuts the power at once, like pulling the plug: unsaved work inside the guest is lost, and its file systems may need a check at the next boot.",
    ));
    warning.add_css_class("warning");
    body.append(&warning);
    let cancel = button(&gettext("_Cancel"), sender, || VmActionMsg::Close);
    let wait = button(&gettext("_Keep Waiting"), sender, || VmActionMsg::KeepWaiting);
    let force = button(&gettext("_Force Off"), sender, || VmActionMsg::ForceOff);
    force.add_css_class("destructive-action");
    let buttons = button_row(&[&cancel, &wait, &force]);
    // Three buttons do not fit side by side in 360 px.
    buttons.set_orientation(gtk::Orientation::Vertical);
    buttons.set_halign(gtk::Align::Fill);
    Page { widget: with_buttons(&body, &buttons), focus: Some(wait.upcast()) }
}

fn failure_page(title: &str, advice: &Advice, sender: &ComponentSender<VmActionDialog>) -> Page {
    let close = button(&gettext("_Close"), sender, || VmActionMsg::Close);
    dialog_page::result_page("dialog-error-symbolic", title, &advice.message, advice.hint.as_deref(), close)
}
