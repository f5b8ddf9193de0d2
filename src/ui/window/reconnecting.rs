//! Losing a connection while the window shows it, and getting it back
//! by itself: the banner says so, the last snapshot stays on screen
//! (marked out of date by the banner), and the same URI is opened again
//! with back-off (`ui::reconnect`) until it answers. Then the window
//! follows the new connection's events and shows its fresh snapshot.

use std::sync::Arc;

use gettextrs::gettext;
use relm4::adw;
use relm4::{ComponentController, ComponentSender};
use vmnet_doctor_libvirt::LibvirtError;

use super::session::Status;
use super::{Window, WindowCmd};
use crate::ui::error_page;
use crate::ui::first_connection::{self, OpenedConnection};
use crate::ui::live::Live;
use crate::ui::reconnect::{self, Reconnect, Trigger};
use crate::ui::sidebar_item::SessionId;
use crate::ui::wizard::WizardMsg;

impl Window {
    /// libvirt said connection `id` broke (`reason`, e.g. `eof`), or a
    /// call on it failed after it did: keep what is shown and start
    /// reconnecting. Nothing to do when already reconnecting.
    pub(super) fn lost(&mut self, id: SessionId, reason: &str, sender: &ComponentSender<Self>) {
        let Some(session) = self.session_mut(id) else { return };
        if session.reconnect.is_some() || session.status != Status::Open {
            return;
        }
        reconnect::report_lost(reason);
        // The broken connection sends nothing more; what it still had in
        // flight is stale (the schedule below moves `attempt` on).
        session.live = Live::default();
        session.refreshing = false;
        session.reconnect = Some(Reconnect::new(session.uri.clone()));
        self.update_rows(id);
        self.schedule_reconnect(id, sender);
    }

    /// Whether a libvirt action on the shown connection must wait: it is
    /// being reopened. Says so in a toast.
    pub(super) fn refuse_while_reconnecting(&self) -> bool {
        if !self.shown_reconnecting() {
            return false;
        }
        self.toasts.add_toast(adw::Toast::new(&gettext(
            "Not connected to libvirt. Wait until the connection is back, or choose Try Now.",
        )));
        true
    }

    /// Waits the back-off's next delay, then tries (a one-shot timer).
    fn schedule_reconnect(&mut self, id: SessionId, sender: &ComponentSender<Self>) {
        // A timer or answer carrying an older attempt is ignored.
        let attempt = self.next_attempt();
        let Some(session) = self.session_mut(id) else { return };
        let Some(reconnect) = &session.reconnect else { return };
        let delay = reconnect.next_delay();
        session.attempt = attempt;
        sender.oneshot_command(async move {
            tokio::time::sleep(delay).await;
            WindowCmd::ReconnectDue { attempt }
        });
    }

    /// Opens the lost URI again and takes a snapshot, as a first
    /// connection does (events subscribed before it). On the timer, or by
    /// the user (Try Now, Refresh); a try under way is waited for.
    pub(super) fn try_reconnect(&mut self, id: SessionId, by: Trigger, sender: &ComponentSender<Self>) {
        let attempt = self.next_attempt();
        let Some(session) = self.session_mut(id) else { return };
        let Some(reconnect) = &mut session.reconnect else { return };
        if reconnect.start_try().is_none() {
            return;
        }
        reconnect::report_attempt(reconnect, by);
        let uri = reconnect.uri().to_owned();
        session.attempt = attempt;
        sender.oneshot_command(async move {
            let result = first_connection::open(&uri).await;
            WindowCmd::Reconnected { attempt, result }
        });
    }

    /// A try's answer: the fresh state and its events, or the next wait.
    /// An answer a user must act on (permission, unknown URI) ends in the
    /// connection's failure instead of trying forever.
    pub(super) fn reconnected(
        &mut self,
        id: SessionId,
        result: Result<OpenedConnection, LibvirtError>,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        let Some(session) = self.session_mut(id) else { return };
        let Some(mut reconnect) = session.reconnect.take() else { return };
        match result {
            Ok(opened) => {
                if let Some((on, wizard)) = &self.wizard
                    && *on == id
                {
                    // Left open while disconnected; its place is kept.
                    wizard.emit(WizardMsg::Reconnected(Arc::clone(&opened.hypervisor)));
                }
                let vms = opened.snapshot.domains.len();
                self.take_up_opened(id, opened, sender);
                reconnect::report_shown_when_painted(root, &reconnect, vms);
            }
            Err(error @ (LibvirtError::PermissionDenied { .. } | LibvirtError::UnknownUri { .. })) => {
                reconnect::report_failed(&reconnect, &error.to_string());
                self.drop_connection(id, Status::Failed(error_page::describe(&error)));
            }
            Err(error) => {
                reconnect::report_failed(&reconnect, &error.to_string());
                reconnect.try_failed();
                session.reconnect = Some(reconnect);
                self.schedule_reconnect(id, sender);
            }
        }
    }
}
