//! Losing the connection while the window shows it, and getting it back
//! by itself: the banner says so, the last snapshot stays on screen
//! (marked out of date by the banner), and the same URI is opened again
//! with back-off (`ui::reconnect`) until it answers. Then the window
//! follows the new connection's events and shows its fresh snapshot.

use std::sync::Arc;

use gettextrs::gettext;
use relm4::adw;
use relm4::{ComponentController, ComponentSender};
use vmnet_doctor_libvirt::LibvirtError;

use super::{Phase, Window, WindowCmd};
use crate::ui::error_page;
use crate::ui::first_connection::{self, OpenedConnection};
use crate::ui::live::Live;
use crate::ui::reconnect::{self, Reconnect, Trigger};
use crate::ui::wizard::WizardMsg;

impl Window {
    /// libvirt said the shown connection broke (`reason`, e.g. `eof`), or
    /// a call on it failed after it did: keep what is shown and start
    /// reconnecting. Nothing to do when already reconnecting, or when the
    /// window has moved on to opening another connection.
    pub(super) fn lost(&mut self, reason: &str, sender: &ComponentSender<Self>) {
        if self.reconnect.is_some() || self.phase != Phase::Connected {
            return;
        }
        let Some(uri) = self.hypervisor.as_ref().map(|h| h.uri().to_owned()) else {
            return;
        };
        reconnect::report_lost(reason);
        // The broken connection sends nothing more; what it still had in
        // flight is stale (the schedule below moves `attempt` on).
        self.live = Live::default();
        self.refreshing = false;
        self.reconnect = Some(Reconnect::new(uri));
        self.schedule_reconnect(sender);
    }

    /// Whether a libvirt action must wait: the connection is being
    /// reopened. Says so in a toast.
    pub(super) fn refuse_while_reconnecting(&self) -> bool {
        if self.reconnect.is_none() {
            return false;
        }
        self.toasts.add_toast(adw::Toast::new(&gettext(
            "Not connected to libvirt. Wait until the connection is back, or choose Try Now.",
        )));
        true
    }

    /// Waits the back-off's next delay, then tries (a one-shot timer).
    fn schedule_reconnect(&mut self, sender: &ComponentSender<Self>) {
        let Some(reconnect) = &self.reconnect else { return };
        let delay = reconnect.next_delay();
        // A timer or answer carrying an older attempt is ignored.
        self.attempt += 1;
        let attempt = self.attempt;
        sender.oneshot_command(async move {
            tokio::time::sleep(delay).await;
            WindowCmd::ReconnectDue { attempt }
        });
    }

    /// Opens the lost URI again and takes a snapshot, as a first
    /// connection does (events subscribed before it). On the timer, or by
    /// the user (Try Now, Refresh); a try under way is waited for.
    pub(super) fn try_reconnect(&mut self, by: Trigger, sender: &ComponentSender<Self>) {
        let Some(reconnect) = &mut self.reconnect else { return };
        if reconnect.start_try().is_none() {
            return;
        }
        reconnect::report_attempt(reconnect, by);
        let uri = reconnect.uri().to_owned();
        self.attempt += 1;
        let attempt = self.attempt;
        sender.oneshot_command(async move {
            let result = first_connection::open(&uri).await;
            WindowCmd::Reconnected { attempt, result }
        });
    }

    /// A try's answer: the fresh state and its events, or the next wait.
    /// An answer a user must act on (permission, unknown URI) ends on the
    /// failure page instead of trying forever.
    pub(super) fn reconnected(
        &mut self,
        result: Result<OpenedConnection, LibvirtError>,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        let Some(reconnect) = self.reconnect.as_mut() else { return };
        match result {
            Ok(opened) => {
                let done = reconnect.clone();
                self.reconnect = None;
                if let Some(wizard) = &self.wizard {
                    // Left open while disconnected; its place is kept.
                    wizard.emit(WizardMsg::Reconnected(Arc::clone(&opened.hypervisor)));
                }
                let vms = opened.snapshot.domains.len();
                self.take_up_opened(opened, sender);
                reconnect::report_shown_when_painted(root, &done, vms);
            }
            Err(error @ (LibvirtError::PermissionDenied { .. } | LibvirtError::UnknownUri { .. })) => {
                reconnect::report_failed(reconnect, &error.to_string());
                let uri = reconnect.uri().to_owned();
                self.reconnect = None;
                self.drop_connection();
                self.phase = Phase::Failed { uri, text: error_page::describe(&error) };
            }
            Err(error) => {
                reconnect::report_failed(reconnect, &error.to_string());
                reconnect.try_failed();
                self.schedule_reconnect(sender);
            }
        }
    }
}
