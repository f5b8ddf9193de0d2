//! The dialogs the window opens: a finding's Fix dialog, the setup
//! wizard, a VM page change's dialog, virt-manager on the selected VM,
//! and Other Connection…. Apart from the component because each only
//! launches something and keeps its handle.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::gio;
use relm4::{Component, ComponentController, ComponentSender, gtk};
use vmnet_doctor_core::Finding;

use std::sync::Arc;

use vmnet_doctor_libvirt::Hypervisor;

use super::session::Session;
use super::{Window, WindowMsg};
use crate::i18n::fill;
use crate::ui::fix_all_dialog::{FixAllDialog, FixAllInit};
use crate::ui::fix_dialog::{FixDialog, FixDialogInit};
use crate::ui::nic_actions::VmActionRequest;
use crate::ui::vm_action_dialog::{VmActionDialog, VmActionInit};
use crate::ui::wizard::{Wizard, WizardInit};

impl Window {
    /// Plans `finding`'s fix in a dialog, which applies it on request.
    pub(super) fn open_fix_dialog(
        &mut self,
        finding: Finding,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        if self.refuse_while_reconnecting() {
            return;
        }
        // The wizard's finding is about its connection, which need not be
        // the one shown.
        let hypervisor = match &self.wizard {
            Some((id, _)) => self.session(*id).and_then(|session| session.hypervisor.clone()),
            None => self.shown_hypervisor(),
        };
        let (Some(hypervisor), Some(fix)) = (hypervisor, finding.fix.clone()) else {
            return;
        };
        let dialog = FixDialog::builder()
            .launch(FixDialogInit { hypervisor, finding, fix })
            .forward(sender.input_sender(), WindowMsg::FixDialog);
        dialog.widget().present(Some(root));
        self.fix_dialog = Some(dialog);
    }

    /// Fix All… on a page: every fix of `findings`, in order, in one dialog.
    pub(super) fn open_fix_all_dialog(
        &mut self,
        findings: Vec<Finding>,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        if self.refuse_while_reconnecting() {
            return;
        }
        let Some(hypervisor) = self.shown_hypervisor() else { return };
        let dialog = FixAllDialog::builder()
            .launch(FixAllInit { hypervisor, findings })
            .forward(sender.input_sender(), WindowMsg::FixDialog);
        dialog.widget().present(Some(root));
        self.fix_all_dialog = Some(dialog);
    }

    /// The setup wizard on the shown connection, else the first open one
    /// (one wizard at a time).
    pub(super) fn open_wizard(&mut self, sender: &ComponentSender<Self>, root: &adw::ApplicationWindow) {
        if self.refuse_while_reconnecting() || self.wizard.is_some() {
            return;
        }
        let open = |session: &&Session| session.hypervisor.is_some() && session.snapshot.is_some();
        let Some(session) = self.shown_session().filter(open).or_else(|| self.sessions.iter().find(open))
        else {
            return;
        };
        let (Some(hypervisor), Some(snapshot)) = (session.hypervisor.clone(), session.snapshot.clone())
        else {
            return;
        };
        let vm = if self.shown == Some(session.id) { self.selected.clone() } else { None };
        let init = WizardInit {
            hypervisor,
            snapshot,
            findings: session.findings.clone(),
            vm,
            connection: session.label(),
            settings: self.settings.clone(),
        };
        let id = session.id;
        let wizard = Wizard::builder().launch(init).forward(sender.input_sender(), WindowMsg::Wizard);
        wizard.widget().present(Some(root));
        self.wizard = Some((id, wizard));
    }

    /// The shown connection's, to apply a change on the page shown.
    fn shown_hypervisor(&self) -> Option<Arc<Hypervisor>> {
        self.shown_session().and_then(|session| session.hypervisor.clone())
    }

    /// Plans a change picked on the VM page in a dialog, which applies it
    /// (and restarts the VM) on request.
    pub(super) fn open_vm_action_dialog(
        &mut self,
        request: VmActionRequest,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        if self.refuse_while_reconnecting() {
            return;
        }
        let Some(hypervisor) = self.shown_hypervisor() else {
            return;
        };
        let dialog = VmActionDialog::builder()
            .launch(VmActionInit { hypervisor, request })
            .forward(sender.input_sender(), WindowMsg::VmActionDialog);
        dialog.widget().present(Some(root));
        self.vm_action_dialog = Some(dialog);
    }

    /// Starts virt-manager on the selected VM; says so when it cannot.
    pub(super) fn open_in_virt_manager(&self) {
        let (Some(launcher), Some(hypervisor), Some(vm)) =
            (&self.virt_manager, self.shown_hypervisor(), &self.selected)
        else {
            return;
        };
        let argv = launcher.argv(hypervisor.uri(), vm);
        let args: Vec<&std::ffi::OsStr> = argv.iter().map(std::ffi::OsStr::new).collect();
        if let Err(error) = gio::Subprocess::newv(&args, gio::SubprocessFlags::NONE) {
            let message =
                fill(&gettext("Could not start virt-manager: {error}"), &[("error", error.message())]);
            self.toasts.add_toast(adw::Toast::new(&message));
        }
    }
}

/// "Other Connection…": a URI typed by the user, as in `virsh -c`.
pub(super) fn ask_for_uri(window: &adw::ApplicationWindow, sender: &ComponentSender<Window>) {
    let dialog = adw::AlertDialog::new(
        Some(&gettext("Open a Connection")),
        Some(&gettext("Enter a libvirt connection URI, as you would give to “virsh -c”.")),
    );
    let entry =
        gtk::Entry::builder().placeholder_text("qemu+ssh://user@host/system").activates_default(true).build();
    entry.update_property(&[gtk::accessible::Property::Label(&gettext("Connection URI"))]);
    dialog.set_extra_child(Some(&entry));
    dialog.add_responses(&[("cancel", &gettext("_Cancel")), ("connect", &gettext("C_onnect"))]);
    dialog.set_response_appearance("connect", adw::ResponseAppearance::Suggested);
    dialog.set_default_response(Some("connect"));
    dialog.set_close_response("cancel");
    dialog.set_response_enabled("connect", false);
    entry.connect_changed({
        let dialog = dialog.clone();
        move |entry| dialog.set_response_enabled("connect", !entry.text().trim().is_empty())
    });
    let sender = sender.clone();
    dialog.connect_response(Some("connect"), move |_, _| {
        let uri = entry.text().trim().to_owned();
        if !uri.is_empty() {
            sender.input(WindowMsg::Connect(uri));
        }
    });
    dialog.present(Some(window));
}
