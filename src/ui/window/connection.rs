//! Each connection's life: connecting (or taking up one opened at
//! start-up), following libvirt's events and refreshing on them, and
//! losing it. Every connection goes through this on its own, side by
//! side with the others. Apart from the component because it is the
//! window's asynchronous work; its answers come back as `WindowCmd`s.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::gio;
use relm4::{ComponentController, ComponentSender};
use tokio::sync::broadcast;
use vmnet_doctor_core::{Fact, HostFacts, Snapshot};
use vmnet_doctor_libvirt::{EventKind, LibvirtError, LibvirtEvent};

use super::chrome::fill_connection_menu;
use super::session::{Session, Status};
use super::{Window, WindowCmd, WindowMsg};
use crate::connections::{self, Connection};
use crate::gui_options::GuiOptions;
use crate::probe::with_host_facts;
use crate::startup;
use crate::ui::error_page;
use crate::ui::first_connection::{self, OpenedConnection};
use crate::ui::host_page::HostPageMsg;
use crate::ui::live::{self, Live};
use crate::ui::reconnect::Trigger;
use crate::ui::sidebar_item::SessionId;
use crate::ui::vm_page::VmPageMsg;
use crate::ui::wizard;

/// The connections the window showed when it was last used.
const OPEN_URIS_KEY: &str = "open-uris";

impl Window {
    /// The connections of the start, in the sidebar's order: all are in
    /// it (connecting) before the first answer is shown, so that the start
    /// is reported settled only once every one has answered.
    pub(super) fn connect_all(&mut self, uris: Vec<String>, sender: &ComponentSender<Self>) {
        let mut opening = Vec::new();
        for uri in uris {
            if !self.sessions.iter().any(|session| session.uri == uri) {
                opening.push(self.add_session(uri));
            }
        }
        if self.shown.is_none() {
            self.shown = self.sessions.first().map(|session| session.id);
        }
        for id in opening {
            self.open(id, sender);
        }
    }

    /// Opens `uri` in the sidebar beside the others, or, when it is there
    /// already, shows it (and tries it again when it failed).
    pub(super) fn connect(&mut self, uri: String, sender: &ComponentSender<Self>) {
        if !self.connections.iter().any(|c| c.uri == uri) {
            self.connections.insert(0, Connection { label: connections::label(&uri), uri: uri.clone() });
            self.connection_menu.remove_all();
            fill_connection_menu(&self.connection_menu, &self.connections);
        }
        if let Some(id) = self.sessions.iter().find(|session| session.uri == uri).map(|session| session.id) {
            if matches!(self.session(id).map(|session| &session.status), Some(Status::Failed(_))) {
                self.open(id, sender);
            }
            if self.phase == super::Phase::Connected {
                self.show_host_of(id);
            }
            return;
        }
        let id = self.add_session(uri);
        // Picked by the user: its page, "Connecting…" until it answers,
        // then its host (its first VM when nothing else is on screen).
        self.shown = Some(id);
        self.showing_host = self.phase == super::Phase::Connected;
        self.selected = None;
        // Its entry is selected once in the list (`update_rows`).
        self.open(id, sender);
    }

    /// A new connection at the end of the sidebar, not yet opened.
    fn add_session(&mut self, uri: String) -> SessionId {
        self.next_session += 1;
        self.sessions.push(Session::new(self.next_session, uri));
        self.next_session
    }

    /// Opens (or opens again) connection `id`.
    fn open(&mut self, id: SessionId, sender: &ComponentSender<Self>) {
        let attempt = self.next_attempt();
        let Some(session) = self.session_mut(id) else { return };
        session.close(Status::Connecting);
        session.attempt = attempt;
        let uri = session.uri.clone();
        self.update_rows(id);
        // Already under way since start-up, for the connections opened first.
        let mut started = first_connection::take(&uri);
        // Read while the window was built: taken up at once, so that the
        // window's first frame shows the list rather than "Connecting…".
        if let Some(answer) = started.as_mut().and_then(|started| started.try_recv().ok()) {
            self.opened(id, answer, sender);
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

    /// A new request number, unique across connections.
    pub(super) fn next_attempt(&mut self) -> u64 {
        self.attempts += 1;
        self.attempts
    }

    /// Connection `id` opened (or failed to): show it and follow its
    /// events, or its failure.
    pub(super) fn opened(
        &mut self,
        id: SessionId,
        result: Result<OpenedConnection, LibvirtError>,
        sender: &ComponentSender<Self>,
    ) {
        match result {
            Ok(opened) => {
                super::guest_load_bench::start_from_env(&opened.hypervisor);
                if let Some(session) = self.session_mut(id) {
                    session.status = Status::Open;
                }
                self.remember_open_uris();
                self.take_up_opened(id, opened, sender);
                if std::mem::take(&mut self.setup_requested) || wizard::first_run(self.settings.as_ref()) {
                    sender.input(WindowMsg::Setup);
                }
            }
            Err(error) => {
                self.drop_connection(id, Status::Failed(error_page::describe(&error)));
                if self.sessions.iter().any(|session| session.snapshot.is_some() || session.is_connecting()) {
                    self.report_when_settled();
                } else {
                    startup::report_connection_failed();
                }
            }
        }
    }

    /// Shows a connection just opened (or reopened) and follows its
    /// events; its host facts, when still being read, complete the
    /// diagnosis when they come ([`Self::host_facts_read`]).
    pub(super) fn take_up_opened(
        &mut self,
        id: SessionId,
        opened: OpenedConnection,
        sender: &ComponentSender<Self>,
    ) {
        let OpenedConnection { hypervisor, events, snapshot, host_facts } = opened;
        let Some(session) = self.session_mut(id) else { return };
        session.hypervisor = Some(hypervisor);
        let attempt = session.attempt;
        session.host_facts_reading = host_facts.as_ref().map(|_| attempt);
        if let Some(coming) = host_facts {
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
        self.show_snapshot(id, snapshot);
        self.follow(id, events, sender);
    }

    /// The host facts of the snapshot shown when connection `id` opened:
    /// the same snapshot, diagnosed again with them.
    pub(super) fn host_facts_read(&mut self, id: SessionId, facts: Fact<Box<HostFacts>>) {
        let Some(session) = self.session_mut(id) else { return };
        session.host_facts_reading = None;
        let Some(shown) = &session.snapshot else { return };
        let snapshot = Snapshot { host: facts, ..Snapshot::clone(shown) };
        self.show_snapshot(id, snapshot);
    }

    /// Takes connection `id`'s snapshot again, host facts and all; a
    /// broken one is tried again at once, a failed one opened again.
    pub(super) fn refresh(&mut self, id: SessionId, sender: &ComponentSender<Self>) {
        let Some(session) = self.session(id) else { return };
        if session.reconnect.is_some() {
            self.try_reconnect(id, Trigger::User, sender);
            return;
        }
        if matches!(session.status, Status::Failed(_)) {
            self.open(id, sender);
            return;
        }
        // One refresh at a time; the running one brings the news.
        let busy = session.refreshing || session.live.is_busy();
        let Some(hypervisor) = session.hypervisor.clone().filter(|_| !busy) else { return };
        let attempt = session.attempt;
        if let Some(session) = self.session_mut(id) {
            session.refreshing = true;
        }
        sender.oneshot_command(async move {
            let result = match hypervisor.snapshot().await {
                Ok(snapshot) => Ok(with_host_facts(snapshot).await),
                Err(error) => Err(error),
            };
            WindowCmd::Refreshed { attempt, result }
        });
    }

    /// A refresh's snapshot, or the connection lost.
    pub(super) fn refreshed(
        &mut self,
        id: SessionId,
        result: Result<Snapshot, LibvirtError>,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        let Some(session) = self.session_mut(id) else { return };
        session.refreshing = false;
        match result {
            Ok(snapshot) => {
                // Its host facts were read for it.
                session.host_facts_reading = None;
                self.show_snapshot(id, snapshot);
                startup::report_refreshed_when_painted(root);
                self.take_up_events(id, sender, root);
            }
            Err(error) => self.connection_lost(id, &error, sender),
        }
    }

    /// Follows libvirt's events on connection `id`, just opened; the task
    /// ends when that connection's `Hypervisor` is dropped.
    fn follow(
        &mut self,
        id: SessionId,
        mut events: broadcast::Receiver<LibvirtEvent>,
        sender: &ComponentSender<Self>,
    ) {
        let Some(session) = self.session_mut(id) else { return };
        // The attempt that opened it names its events.
        let connection = session.attempt;
        session.live = Live::new(connection);
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

    /// The connection whose events carry `connection`, if it still
    /// follows them.
    pub(super) fn following(&self, connection: u64) -> Option<SessionId> {
        self.sessions
            .iter()
            .find(|session| session.live.connection() == connection && connection != 0)
            .map(|session| session.id)
    }

    /// An event of connection `id` (`None`: some were missed).
    pub(super) fn received(
        &mut self,
        id: SessionId,
        event: Option<LibvirtEvent>,
        sender: &ComponentSender<Self>,
    ) {
        match event {
            Some(LibvirtEvent { kind: EventKind::ConnectionClosed(reason), .. }) => {
                self.lost(id, reason.as_str(), sender);
            }
            event => {
                if let Some(session) = self.session_mut(id) {
                    session.live.receive(event);
                }
                self.take_up_news(id, sender);
            }
        }
    }

    /// Takes a snapshot for the events received, unless one is in flight
    /// (whose end comes back here).
    fn take_up_news(&mut self, id: SessionId, sender: &ComponentSender<Self>) {
        let Some(session) = self.session_mut(id) else { return };
        if !session.live.start(session.refreshing) {
            return;
        }
        let Some(hypervisor) = session.hypervisor.clone() else {
            session.live = Live::default();
            return;
        };
        let connection = session.live.connection();
        // Reading the host takes most of a snapshot's time; keep what is
        // shown when the events cannot have changed it (taken when the
        // snapshot arrives: the first one's facts may come meanwhile).
        let read_host = session.snapshot.is_none() || session.live.host_may_have_changed();
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
        id: SessionId,
        result: Result<Snapshot, LibvirtError>,
        host_read: bool,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        let Some(session) = self.session_mut(id) else { return };
        match result {
            Ok(mut snapshot) => {
                if host_read {
                    // Newer than the facts still being read, if any.
                    session.host_facts_reading = None;
                } else if let Some(shown) = &session.snapshot {
                    snapshot.host = shown.host.clone();
                }
                self.show_snapshot(id, snapshot);
                self.take_up_events(id, sender, root);
            }
            Err(error) => self.connection_lost(id, &error, sender),
        }
    }

    /// A snapshot of connection `id` is on screen: reports the events it
    /// covered, and takes up those that came while it was taken.
    fn take_up_events(
        &mut self,
        id: SessionId,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        let Some(session) = self.session_mut(id) else { return };
        let covered = session.live.finished();
        if let Some(snapshot) = &session.snapshot {
            live::report_when_painted(root, covered, snapshot);
        }
        self.take_up_news(id, sender);
    }

    /// A snapshot failed. When libvirt said the connection broke (its
    /// close callback may run just before the failed call returns, ahead of
    /// its event), reconnect; any other failure ends in the failure shown
    /// for the connection.
    fn connection_lost(&mut self, id: SessionId, error: &LibvirtError, sender: &ComponentSender<Self>) {
        let closed =
            self.session(id).and_then(|session| session.hypervisor.as_ref()).is_some_and(|h| h.is_closed());
        if closed {
            self.lost(id, "call-failed", sender);
            return;
        }
        self.drop_connection(id, Status::Failed(error_page::describe(error)));
    }

    /// Forgets what connection `id` opened and everything shown from it;
    /// its entry stays, saying `status`.
    pub(super) fn drop_connection(&mut self, id: SessionId, status: Status) {
        self.close_wizard_on(id);
        let Some(session) = self.session_mut(id) else { return };
        session.close(status);
        if self.shown == Some(id) {
            self.clear_pages();
            self.showing_host = true;
        }
        self.update_rows(id);
    }

    /// The wizard works on one connection only: it closes with it.
    fn close_wizard_on(&mut self, id: SessionId) {
        if self.wizard.as_ref().is_some_and(|(on, _)| *on == id)
            && let Some((_, wizard)) = self.wizard.take()
        {
            wizard.widget().force_close();
        }
    }

    /// The failed page's Try Again: every connection that failed.
    pub(super) fn retry_failed(&mut self, sender: &ComponentSender<Self>) {
        for id in self.session_ids(|session| matches!(session.status, Status::Failed(_))) {
            self.open(id, sender);
        }
    }

    /// The connecting page's Cancel: the connections still being opened
    /// are given up (nothing of them is shown yet).
    pub(super) fn cancel_connecting(&mut self) {
        for id in self.session_ids(Session::is_connecting) {
            self.remove_session(id);
        }
    }

    /// Close Connection: the shown connection leaves the sidebar.
    pub(super) fn close_shown(&mut self) {
        if let Some(id) = self.shown {
            self.remove_session(id);
            self.remember_open_uris();
        }
    }

    fn remove_session(&mut self, id: SessionId) {
        self.close_wizard_on(id);
        let Some(index) = self.index_of(id) else { return };
        self.replace_group(index, Vec::new());
        // Dropping it drops its `Hypervisor`, which ends its events' task.
        self.sessions.remove(index);
        if self.shown == Some(id) {
            self.shown = None;
            self.showing_host = false;
            self.clear_pages();
            self.show_first();
        }
    }

    /// The shown connection's pages are gone: nothing of it stays on screen.
    fn clear_pages(&mut self) {
        self.selected = None;
        self.vm_page.emit(VmPageMsg::Clear);
        self.host_page.emit(HostPageMsg::Clear);
        self.host_page_stale = false;
    }

    /// Keeps the open connections for the next start, unless they came
    /// from the command line.
    fn remember_open_uris(&self) {
        let Some(settings) = self.settings.as_ref().filter(|_| !self.explicit) else { return };
        let uris: Vec<&str> = self
            .sessions
            .iter()
            .filter(|session| session.status == Status::Open)
            .map(|session| session.uri.as_str())
            .collect();
        // Remembering is a convenience; a read-only settings backend is not an error.
        let _ = settings.set_strv(OPEN_URIS_KEY, uris.as_slice());
    }
}

/// The URIs given on the command line (`--connect`, `--demo`).
pub(super) fn explicit_uris(options: &GuiOptions) -> Vec<String> {
    let demo = options.demo.then(connections::demo_uri);
    demo.into_iter().chain(options.connect.iter().cloned()).collect()
}

/// The connections the window opens at start: those asked for on the
/// command line; else those it showed last time and those virt-manager
/// opens by itself (its autoconnect list); else the last one used before
/// the window kept several, or the system's.
pub fn start_uris(options: &GuiOptions, settings: Option<&gio::Settings>) -> Vec<String> {
    let explicit = explicit_uris(options);
    if !explicit.is_empty() {
        return connections::without_duplicates(explicit);
    }
    let remembered: Option<Vec<String>> =
        settings.map(|s| s.strv(OPEN_URIS_KEY).iter().map(|uri| uri.to_string()).collect());
    let uris = connections::without_duplicates(
        remembered.unwrap_or_default().into_iter().chain(connections::virt_manager_autoconnect()).collect(),
    );
    if !uris.is_empty() {
        return uris;
    }
    let last = settings.map(|s| s.string("last-uri").to_string()).filter(|uri| !uri.is_empty());
    vec![last.unwrap_or_else(|| vmnet_doctor_libvirt::SYSTEM_URI.to_owned())]
}
