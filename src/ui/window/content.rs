//! Showing snapshots: each connection's group in the sidebar, the page of
//! the selected VM or host, and what the window and its panes are titled.
//! Apart from the component because it is all about what is on screen
//! once a snapshot arrives.

use std::sync::Arc;

use gettextrs::{gettext, ngettext};
use relm4::gtk::glib;
use relm4::{ComponentController, gtk};
use vmnet_doctor_core::{Finding, Snapshot, diagnose};

use super::session::{Session, Status};
use super::{Phase, Window};
use crate::i18n::fill;
use crate::startup;
use crate::ui::error_page::ErrorText;
use crate::ui::host_page::{HostPageMsg, HostView};
use crate::ui::sidebar_item::SessionId;
use crate::ui::vm_page::{VmPageMsg, VmView};
use crate::ui::wizard::WizardMsg;

impl Window {
    /// The connection whose page is shown.
    pub(super) fn shown_session(&self) -> Option<&Session> {
        self.shown.and_then(|id| self.session(id))
    }

    /// What the window shows as a whole: the connections as soon as one
    /// is open; before that, the first still connecting, else the first
    /// that failed.
    pub(super) fn current_phase(&self) -> Phase {
        if self.sessions.iter().any(|session| session.snapshot.is_some()) {
            return Phase::Connected;
        }
        if let Some(session) = self.sessions.iter().find(|session| session.is_connecting()) {
            return Phase::Connecting { uri: session.uri.clone() };
        }
        let failed = self.sessions.iter().find_map(|session| match &session.status {
            Status::Failed(text) => Some(Phase::Failed { uri: session.uri.clone(), text: text.clone() }),
            _ => None,
        });
        failed.unwrap_or(Phase::Idle)
    }

    /// Under the sidebar's title: the connection, or how many there are.
    pub(super) fn sidebar_subtitle(&self) -> String {
        match self.sessions.as_slice() {
            [] => String::new(),
            [one] => one.label(),
            several => fill(
                &ngettext("{n} connection", "{n} connections", clamp(several.len())),
                &[("n", &several.len().to_string())],
            ),
        }
    }

    /// The sidebar's title and subtitle in one text, for its tooltip: at
    /// 360 px a long translation of the title is ellipsized.
    pub(super) fn sidebar_title_in_full(&self) -> String {
        let title = gettext("Virtual Machines");
        match self.sidebar_subtitle() {
            subtitle if subtitle.is_empty() => title,
            subtitle => format!("{title}\n{subtitle}"),
        }
    }

    /// The content pane's title: the host or the selected VM.
    pub(super) fn content_title(&self) -> String {
        if self.showing_host {
            let session = self.shown_session();
            let hostname =
                session.and_then(|s| s.snapshot.as_ref()).and_then(|snapshot| snapshot.hostname.clone());
            hostname.or_else(|| session.map(Session::label)).unwrap_or_else(|| gettext("Host"))
        } else {
            self.selected.clone().unwrap_or_else(|| gettext("Network Cards"))
        }
    }

    /// The content pane's page: a VM's, a host's, or what became of a
    /// connection that is not open.
    pub(super) fn content_page(&self) -> &'static str {
        match (self.showing_host, self.showing_connection_status()) {
            (false, _) => "vm",
            (true, false) => "host",
            (true, true) => "connection",
        }
    }

    /// The shown connection is still opening, or failed.
    pub(super) fn showing_connection_status(&self) -> bool {
        self.showing_host && self.shown_session().is_some_and(|session| session.snapshot.is_none())
    }

    pub(super) fn shown_failure(&self) -> Option<&ErrorText> {
        match &self.shown_session()?.status {
            Status::Failed(text) => Some(text),
            _ => None,
        }
    }

    pub(super) fn shown_status_title(&self) -> String {
        match self.shown_failure() {
            Some(text) => text.title.clone(),
            None => super::phase::connecting_title(&Phase::Connecting {
                uri: self.shown_session().map(|session| session.uri.clone()).unwrap_or_default(),
            }),
        }
    }

    pub(super) fn shown_status_description(&self) -> String {
        match self.shown_failure() {
            Some(text) => match &text.detail {
                Some(detail) => format!("{}\n\n{detail}", text.advice),
                None => text.advice.clone(),
            },
            None => gettext("Reading virtual machines and networks…"),
        }
    }

    /// The shown connection broke and is being reopened.
    pub(super) fn shown_reconnecting(&self) -> bool {
        self.shown_session().is_some_and(|session| session.reconnect.is_some())
    }

    pub(super) fn any_refreshing(&self) -> bool {
        self.sessions.iter().any(|session| session.refreshing)
    }

    /// Every connection's VMs.
    pub(super) fn vm_count(&self) -> usize {
        self.sessions.iter().filter_map(|session| session.snapshot.as_ref()).map(|s| s.domains.len()).sum()
    }

    /// The sidebar's placeholder when no connection has a VM.
    pub(super) fn empty_description(&self) -> String {
        if self.sessions.len() > 1 {
            gettext("These connections have no VMs yet. Create one in virt-manager, then refresh.")
        } else {
            gettext("This connection has no VMs yet. Create one in virt-manager, then refresh.")
        }
    }

    /// Ctrl+H: the Host page of the shown connection (or the first).
    pub(super) fn show_host(&mut self) {
        if let Some(id) = self.shown.or_else(|| self.sessions.first().map(|session| session.id)) {
            self.show_host_of(id);
        }
    }

    /// Shows connection `id`'s Host page in place of a VM (its entry in
    /// the sidebar); while it is not open, what became of it.
    pub(super) fn show_host_of(&mut self, id: SessionId) {
        let Some(session) = self.session(id) else { return };
        let snapshot = session.snapshot.clone();
        if self.shown != Some(id) || !self.showing_host {
            self.host_page_stale = true;
        }
        self.shown = Some(id);
        self.showing_host = true;
        self.selected = None;
        self.refresh_host_page();
        self.select_shown_row();
        self.split_view.set_show_content(true);
        if let (Some(snapshot), Some(session)) = (snapshot, self.session(id)) {
            crate::ui::host_page::report_shown(&snapshot, &session.findings);
        }
    }

    /// After the shown connection was closed: the first connection's page.
    pub(super) fn show_first(&mut self) {
        let Some(id) = self.sessions.first().map(|session| session.id) else { return };
        let first_vm = self
            .session(id)
            .and_then(|session| session.snapshot.as_ref())
            .and_then(|snapshot| snapshot.domains.first())
            .map(|domain| domain.name().to_owned());
        match first_vm {
            Some(name) if !self.split_view.is_collapsed() => {
                self.show_vm(id, Some(&name));
                self.select_shown_row();
            }
            _ => self.show_host_of(id),
        }
    }

    /// Connection `id` has a new snapshot: its group in the sidebar, and
    /// the page shown when it is that connection's.
    pub(super) fn show_snapshot(&mut self, id: SessionId, snapshot: Snapshot) {
        // Once the pages have dropped the previous snapshot and the list
        // is painted: give what the refresh freed back (src/memory.rs).
        glib::idle_add_local_full(glib::Priority::LOW, || {
            crate::memory::release_freed_heap();
            glib::ControlFlow::Break
        });
        let Some(session) = self.session_mut(id) else { return };
        let first = session.snapshot.is_none();
        session.findings = diagnose(&snapshot);
        let snapshot = Arc::new(snapshot);
        session.snapshot = Some(Arc::clone(&snapshot));
        let count = snapshot.domains.len();
        self.update_rows(id);
        if let Some((on, wizard)) = &self.wizard
            && *on == id
            && let Some(session) = self.session(id)
        {
            wizard.emit(WizardMsg::Snapshot(Arc::clone(&snapshot), session.findings.clone()));
        }
        let wanted_vm = self.initial_vm.as_deref().is_some_and(|name| snapshot.domain(name).is_some());
        // Nothing was on screen yet (the shown connection has not opened),
        // or `--vm` names one of this connection's VMs: show this one.
        let adopt = self.shown.is_none()
            || wanted_vm
            || (self.phase != Phase::Connected
                && self.shown_session().is_none_or(|session| session.snapshot.is_none() || session.id == id));
        if self.shown != Some(id) {
            if !adopt {
                // Its entries are in (`update_rows` kept the shown one selected).
                self.report_when_settled();
                return;
            }
            self.shown = Some(id);
            self.selected = None;
            self.showing_host = false;
        }
        self.host_page_stale = true;
        let keep = if wanted_vm { self.initial_vm.take() } else { self.selected.take() };

        let wide = !self.split_view.is_collapsed();
        // A VM the search hides keeps its page, as while typing.
        let hidden = keep.clone().filter(|name| !self.showing_host && self.hidden_by_search(id, name));
        let position = keep
            .as_deref()
            .and_then(|name| self.visible_position_of(|item| item.is_vm(id, name)))
            // On a wide window, show the first VM rather than an empty pane.
            .or_else(|| {
                let first = || self.visible_position_of(|item| item.session == id && !item.is_host());
                (wide && hidden.is_none() && !self.showing_host).then(first).flatten()
            });
        if position.is_none() && wide && count == 0 {
            // Nothing to show but the host.
            self.showing_host = true;
        }
        self.refresh_host_page();
        match (position, hidden) {
            (_, Some(name)) => {
                // Already the one shown: the refresh does not open its page.
                self.selected = Some(name.clone());
                self.show_vm(id, Some(&name));
                self.select_shown_row();
            }
            (Some(position), None) => {
                self.vm_list.selection_model.set_selected(position);
                self.show_selected();
            }
            (None, None) if self.showing_host => {
                self.select_shown_row();
                if let Some(session) = self.session(id).filter(|_| first) {
                    // A connection added from the menu: its Host page, now
                    // it opened, and its entry in sight.
                    crate::ui::host_page::report_shown(&snapshot, &session.findings);
                    let position = self.vm_list.selection_model.selected();
                    if position != gtk::INVALID_LIST_POSITION {
                        self.vm_list.view.scroll_to(position, gtk::ListScrollFlags::NONE, None);
                    }
                }
            }
            (None, None) => {
                self.vm_list.selection_model.set_selected(gtk::INVALID_LIST_POSITION);
                self.show_vm(id, None);
            }
        }
        if wanted_vm && self.selected.is_some() {
            // `--vm NAME` asked for its page: on a narrow window too.
            self.split_view.set_show_content(true);
        }
        self.report_when_settled();
        if let Some(bench) = &self.search_bench {
            bench.start();
        }
    }

    /// Once no connection is still opening: the start-up reports the
    /// list (every connection's VMs) and, when no host is still being
    /// checked, the whole diagnosis, as painted.
    pub(super) fn report_when_settled(&self) {
        if self.sessions.iter().any(Session::is_connecting) {
            return;
        }
        startup::report_vm_list_populated_when_painted(&self.toasts, self.vm_count());
        let host_pending = self.sessions.iter().any(|session| session.host_facts_reading.is_some());
        if !host_pending && !self.pages_wait_for_list {
            startup::report_diagnosed_when_painted(&self.toasts);
        }
    }

    /// The first VM list is on screen: the page it selected is built now.
    pub(super) fn list_painted(&mut self) {
        if !std::mem::take(&mut self.pages_wait_for_list) {
            return;
        }
        if self.showing_host {
            self.refresh_host_page();
        } else if let Some(id) = self.shown {
            let shown = self.selected.clone();
            self.show_vm(id, shown.as_deref());
        }
        self.report_when_settled();
    }

    /// Brings the Host page up to date with its connection's snapshot,
    /// when it is the page shown (else [`Self::show_host_of`] does, when
    /// it is opened).
    fn refresh_host_page(&mut self) {
        if !self.showing_host || !self.host_page_stale || self.pages_wait_for_list {
            return;
        }
        let Some(session) = self.shown_session() else { return };
        let Some(snapshot) = &session.snapshot else { return };
        let view = HostView {
            snapshot: Arc::clone(snapshot),
            findings: session.findings.clone(),
            connection: session.label(),
            host_pending: session.host_facts_reading.is_some(),
        };
        self.host_page_stale = false;
        self.host_page.emit(HostPageMsg::Show(Box::new(view)));
    }

    /// Shows the page of the entry selected in the list.
    pub(super) fn show_selected(&mut self) {
        match self.entry_at(self.vm_list.selection_model.selected()) {
            Some((id, Some(name))) => self.show_vm(id, Some(&name)),
            Some((id, None)) => self.show_host_of(id),
            None => {
                if let Some(id) = self.shown {
                    self.show_vm(id, None);
                }
            }
        }
    }

    /// Shows the page of connection `id`'s VM named `name`, or none. On a
    /// narrow window the page takes the sidebar's place only when the
    /// user picked it (the callers say so).
    pub(super) fn show_vm(&mut self, id: SessionId, name: Option<&str>) {
        let Some(session) = self.session(id) else { return };
        let snapshot = session.snapshot.clone();
        let domain = name.and_then(|name| snapshot.as_ref()?.domain(name).cloned());
        match (domain, snapshot) {
            (Some(domain), Some(snapshot)) => {
                let networks: Vec<&str> =
                    domain.interfaces().iter().filter_map(|nic| nic.network_name()).collect();
                let findings: Vec<Finding> = session
                    .findings
                    .iter()
                    .filter(|finding| finding.subject.concerns_vm(domain.name(), &networks))
                    .cloned()
                    .collect();
                let host_pending = session.host_facts_reading.is_some();
                self.shown = Some(id);
                self.selected = Some(domain.name().to_owned());
                self.showing_host = false;
                let view = VmView { domain, snapshot, findings, host_pending };
                // Else built by `list_painted`, a frame later.
                if !self.pages_wait_for_list {
                    self.vm_page.emit(VmPageMsg::Show(Box::new(view)));
                }
            }
            _ => {
                self.selected = None;
                self.vm_page.emit(VmPageMsg::Clear);
            }
        }
    }
}

fn clamp(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
