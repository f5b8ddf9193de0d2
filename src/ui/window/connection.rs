//! The open connection's life: connecting (or taking up the one opened
//! at start-up), following libvirt's events and refreshing on them, and
//! losing it. Apart from the component because it is the window's
//! asynchronous work; its answers come back as `WindowCmd`s.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::gio;
use relm4::{ComponentController, ComponentSender};
use tokio::sync::broadcast;
use vmnet_doctor_core::{Fact, HostFacts, Snapshot};
use vmnet_doctor_libvirt::{LibvirtError, LibvirtEvent};

use super::chrome::fill_connection_menu;
use super::{Phase, Window, WindowCmd, WindowMsg};
use crate::connections::{self, Connection};
use crate::gui_options::GuiOptions;
use crate::probe::with_host_facts;
use crate::startup;
use crate::ui::error_page;
use crate::ui::first_connection::{self, OpenedConnection};
use crate::ui::host_page::HostPageMsg;
use crate::ui::live::{self, Live};
use crate::ui::vm_page::VmPageMsg;
use crate::ui::wizard;

impl Window {
    /// The connection opened (or failed to): show it and follow its events,
    /// or the failure page.
    pub(super) fn opened(
        &mut self,
        result: Result<OpenedConnection, LibvirtError>,
        sender: &ComponentSender<Self>,
    ) {
        match result {
            Ok(opened) => {
                if self.hypervisor.as_ref().is_some_and(|old| old.uri() != opened.hypervisor.uri()) {
                    // Another host: the old selection means nothing there.
                    self.selected = None;
                }
                if let Some(settings) = &self.settings {
                    // Remembering is a convenience; a read-only settings backend is not an error.
                    let _ = settings.set_string("last-uri", opened.hypervisor.uri());
                }
                super::guest_load_bench::start_from_env(&opened.hypervisor);
                self.phase = Phase::Connected;
                self.take_up_opened(opened, sender);
                if std::mem::take(&mut self.setup_requested) || wizard::first_run(self.settings.as_ref()) {
                    sender.input(WindowMsg::Setup);
                }
            }
            Err(error) => {
                let uri = match &self.phase {
                    Phase::Connecting { uri } => uri.clone(),
                    _ => String::new(),
                };
                self.drop_connection();
                self.phase = Phase::Failed { uri, text: error_page::describe(&error) };
                startup::report_connection_failed();
            }
        }
    }

    /// Shows a connection just opened (or reopened) and follows its
    /// events; its host facts, when still being read, complete the
    /// diagnosis when they come ([`Self::host_facts_read`]).
    pub(super) fn take_up_opened(&mut self, opened: OpenedConnection, sender: &ComponentSender<Self>) {
        let OpenedConnection { hypervisor, events, snapshot, host_facts } = opened;
        self.hypervisor = Some(hypervisor);
        self.host_facts_reading = host_facts.as_ref().map(|_| self.attempt);
        if let Some(coming) = host_facts {
            let attempt = self.attempt;
            sender.oneshot_command(async move {
                let facts = coming.await.unwrap_or_else(|_| {
                    Fact::Unknown(gettext("Reading the host's network ended without an answer."))
                });
                WindowCmd::HostFacts { attempt, facts }
            });
        }
        if self.pages_wait_for_list {
            startup::after_next_paint(&self.toasts, {
                let sender = sender.clone();
                move || sender.input(WindowMsg::ListPainted)
            });
        }
        self.show_snapshot(snapshot);
        self.follow(events, sender);
    }

    /// The host facts of the snapshot shown when the connection opened:
    /// the same snapshot, diagnosed again with them.
    pub(super) fn host_facts_read(&mut self, facts: Fact<Box<HostFacts>>) {
        self.host_facts_reading = None;
        let Some(shown) = &self.snapshot else { return };
        let snapshot = Snapshot { host: facts, ..Snapshot::clone(shown) };
        self.show_snapshot(snapshot);
    }

    /// A refresh's snapshot, or the connection lost.
    pub(super) fn refreshed(
        &mut self,
        result: Result<Snapshot, LibvirtError>,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        self.refreshing = false;
        match result {
            Ok(snapshot) => {
                // Its host facts were read for it.
                self.host_facts_reading = None;
                self.show_snapshot(snapshot);
                startup::report_refreshed_when_painted(root);
                self.take_up_events(sender, root);
            }
            Err(error) => self.connection_lost(&error, sender),
        }
    }

    pub(super) fn connect(&mut self, uri: String, sender: &ComponentSender<Self>) {
        self.attempt += 1;
        self.refreshing = false;
        if self.reconnect.take().is_some() {
            // The user chose a connection: stop reopening the broken one,
            // which cancelling could not return to anyway.
            self.drop_connection();
        }
        let attempt = self.attempt;
        if !self.connections.iter().any(|c| c.uri == uri) {
            self.connections.insert(0, Connection { label: connections::label(&uri), uri: uri.clone() });
            self.connection_menu.remove_all();
            fill_connection_menu(&self.connection_menu, &self.connections);
        }
        // The open connection stays until the new one answers, so
        // cancelling returns to it unchanged.
        self.phase = Phase::Connecting { uri: uri.clone() };
        // Already under way since start-up, when this is the first connection.
        let mut started = first_connection::take(&uri);
        // Read while the window was built: taken up at once, so that the
        // window's first frame shows the list rather than "Connecting…".
        if let Some(answer) = started.as_mut().and_then(|started| started.try_recv().ok()) {
            self.opened(answer, sender);
            return;
        }
        sender.oneshot_command(async move {
            if let Some(started) = started {
                let result = started.await.unwrap_or(Err(LibvirtError::Disconnected));
                return WindowCmd::Opened { attempt, result };
            }
            let result = first_connection::open(&uri).await;
            WindowCmd::Opened { attempt, result }
        });
    }

    /// Follows libvirt's events on the connection just opened; the task
    /// ends when that connection's `Hypervisor` is dropped.
    pub(super) fn follow(
        &mut self,
        mut events: broadcast::Receiver<LibvirtEvent>,
        sender: &ComponentSender<Self>,
    ) {
        let connection = self.attempt;
        self.live = Live::new(connection);
        sender.command(move |out, shutdown| {
            shutdown
                .register(async move {
                    loop {
                        let event = match events.recv().await {
                            Ok(event) => Some(event),
                            Err(broadcast::error::RecvError::Lagged(_)) => None,
                            Err(broadcast::error::RecvError::Closed) => break,
                        };
                        if out.send(WindowCmd::Event { connection, event }).is_err() {
                            break;
                        }
                    }
                })
                .drop_on_shutdown()
        });
    }

    /// Takes a snapshot for the events received, unless one is in flight
    /// (whose end comes back here).
    pub(super) fn take_up_news(&mut self, sender: &ComponentSender<Self>) {
        if self.live.start(self.refreshing) {
            self.update_for_events(sender);
        }
    }

    fn update_for_events(&mut self, sender: &ComponentSender<Self>) {
        let Some(hypervisor) = self.hypervisor.clone() else {
            self.live = Live::default();
            return;
        };
        let connection = self.live.connection();
        // Reading the host takes most of a snapshot's time; keep what is
        // shown when the events cannot have changed it (taken when the
        // snapshot arrives: the first one's facts may come meanwhile).
        let read_host = self.snapshot.is_none() || self.live.host_may_have_changed();
        sender.oneshot_command(async move {
            let result = match hypervisor.snapshot().await {
                Ok(snapshot) if read_host => Ok(with_host_facts(snapshot).await),
                other => other,
            };
            WindowCmd::Updated { connection, result, host_read: read_host }
        });
    }

    pub(super) fn show_update(
        &mut self,
        result: Result<Snapshot, LibvirtError>,
        host_read: bool,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        match result {
            Ok(mut snapshot) => {
                if host_read {
                    // Newer than the facts still being read, if any.
                    self.host_facts_reading = None;
                } else if let Some(shown) = &self.snapshot {
                    snapshot.host = shown.host.clone();
                }
                self.show_snapshot(snapshot);
                self.take_up_events(sender, root);
            }
            Err(error) => self.connection_lost(&error, sender),
        }
    }

    /// A snapshot is on screen: reports the events it covered, and takes
    /// up those that came while it was taken.
    pub(super) fn take_up_events(&mut self, sender: &ComponentSender<Self>, root: &adw::ApplicationWindow) {
        let covered = self.live.finished();
        if let Some(snapshot) = &self.snapshot {
            live::report_when_painted(root, covered, snapshot);
        }
        self.take_up_news(sender);
    }

    /// A snapshot failed. When libvirt said the connection broke (its
    /// close callback may run just before the failed call returns, ahead of
    /// its event), reconnect; any other failure ends on the failure page.
    pub(super) fn connection_lost(&mut self, error: &LibvirtError, sender: &ComponentSender<Self>) {
        if self.hypervisor.as_ref().is_some_and(|h| h.is_closed()) {
            self.lost("call-failed", sender);
            return;
        }
        let uri = self.hypervisor.as_ref().map(|h| h.uri().to_owned()).unwrap_or_default();
        self.drop_connection();
        self.phase = Phase::Failed { uri, text: error_page::describe(error) };
    }

    /// Forgets the open connection and everything shown from it.
    pub(super) fn drop_connection(&mut self) {
        if let Some(wizard) = self.wizard.take() {
            // It works on this connection only.
            wizard.widget().force_close();
        }
        self.hypervisor = None;
        self.host_facts_reading = None;
        self.live = Live::default();
        self.snapshot = None;
        self.findings.clear();
        self.selected = None;
        self.vm_list.clear();
        self.vm_page.emit(VmPageMsg::Clear);
        self.showing_host = false;
        self.host_row.set_selected(false);
        self.host_page.emit(HostPageMsg::Clear);
        self.host_page_stale = false;
    }
}

/// The URI given on the command line (`--connect`, `--demo`), if any.
pub(super) fn explicit_uri(options: &GuiOptions) -> Option<String> {
    if options.demo { Some(connections::demo_uri()) } else { options.connect.clone() }
}

/// The connection the window opens first: the one asked for on the command
/// line, else the last one used, else the system's.
pub fn first_uri(options: &GuiOptions, settings: Option<&gio::Settings>) -> String {
    explicit_uri(options)
        .or_else(|| settings.map(|s| s.string("last-uri").to_string()).filter(|uri| !uri.is_empty()))
        .unwrap_or_else(|| vmnet_doctor_libvirt::SYSTEM_URI.to_owned())
}
