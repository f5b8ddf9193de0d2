//! Showing a snapshot: the sidebar's VM list and Host entry, the
//! selected VM's page or the Host page, and the content pane's title.
//! Apart from the component because it is all about what is on screen
//! once a snapshot arrives.

use std::sync::Arc;

use gettextrs::gettext;
use relm4::gtk::glib;
use relm4::{ComponentController, gtk};
use vmnet_doctor_core::{Finding, Snapshot, diagnose};

use super::Window;
use crate::connections;
use crate::startup;
use crate::ui::host_page::{HostPageMsg, HostView};
use crate::ui::live;
use crate::ui::vm_list_item::VmListItem;
use crate::ui::vm_page::{VmPageMsg, VmView};
use crate::ui::wizard::WizardMsg;

impl Window {
    pub(super) fn connection_label(&self) -> String {
        self.hypervisor.as_ref().map(|h| connections::label(h.uri())).unwrap_or_default()
    }

    /// The sidebar's title and subtitle in one text, for its tooltip: at
    /// 360 px a long translation of the title is ellipsized.
    pub(super) fn sidebar_title_in_full(&self) -> String {
        let title = gettext("Virtual Machines");
        match self.connection_label() {
            subtitle if subtitle.is_empty() => title,
            subtitle => format!("{title}\n{subtitle}"),
        }
    }

    /// The content pane's title: the host or the selected VM.
    pub(super) fn content_title(&self) -> String {
        if self.showing_host {
            let hostname = self.snapshot.as_ref().and_then(|snapshot| snapshot.hostname.clone());
            hostname.unwrap_or_else(|| gettext("Host"))
        } else {
            self.selected.clone().unwrap_or_else(|| gettext("Network Cards"))
        }
    }

    /// Shows the Host page in place of a VM (the sidebar's Host entry, Ctrl+H).
    pub(super) fn show_host(&mut self) {
        if self.snapshot.is_none() {
            return;
        }
        self.showing_host = true;
        self.refresh_host_page();
        self.host_row.set_selected(true);
        self.vm_list.selection_model.set_selected(gtk::INVALID_LIST_POSITION);
        self.split_view.set_show_content(true);
        if let Some(snapshot) = &self.snapshot {
            crate::ui::host_page::report_shown(snapshot, &self.findings);
        }
    }

    /// Fills the sidebar, keeping the selected VM when it still exists.
    pub(super) fn show_snapshot(&mut self, snapshot: Snapshot) {
        // Once the pages have dropped the previous snapshot and the list
        // is painted: give what the refresh freed back (src/memory.rs).
        glib::idle_add_local_full(glib::Priority::LOW, || {
            crate::memory::release_freed_heap();
            glib::ControlFlow::Break
        });
        let keep = self.selected.take().or_else(|| self.initial_vm.take());
        self.findings = diagnose(&snapshot);
        let findings = &self.findings;
        let rows = snapshot.domains.iter().map(|domain| VmListItem::new(domain, findings)).collect();
        live::replace_rows(&mut self.vm_list, rows);
        let count = snapshot.domains.len();
        let snapshot = Arc::new(snapshot);
        self.snapshot = Some(Arc::clone(&snapshot));
        let host_pending = self.host_facts_reading.is_some();
        self.host_row.show(&snapshot, &self.connection_label(), &self.findings, host_pending);
        if let Some(wizard) = &self.wizard {
            wizard.emit(WizardMsg::Snapshot(snapshot, self.findings.clone()));
        }
        self.host_page_stale = true;

        let wide = !self.split_view.is_collapsed();
        // A VM the search hides keeps its page, as while typing.
        let hidden = keep.clone().filter(|name| !self.showing_host && self.hidden_by_search(name));
        let visible = self.visible_count();
        let position = keep
            .as_deref()
            .and_then(|name| self.visible_position(name))
            // On a wide window, show the first VM rather than an empty pane.
            .or_else(|| (wide && hidden.is_none() && !self.showing_host && visible > 0).then_some(0));
        if position.is_none() && wide && count == 0 {
            // Nothing to show but the host.
            self.showing_host = true;
            self.host_row.set_selected(true);
        }
        self.refresh_host_page();
        match position {
            Some(position) => self.vm_list.selection_model.set_selected(position),
            None => self.vm_list.selection_model.set_selected(gtk::INVALID_LIST_POSITION),
        }
        match hidden {
            Some(name) => {
                // Already the one shown: the refresh does not open its page.
                self.selected = Some(name.clone());
                self.show_vm(Some(&name));
            }
            None => self.show_selected(),
        }
        startup::report_vm_list_populated_when_painted(&self.toasts, count);
        if !host_pending && !self.pages_wait_for_list {
            startup::report_diagnosed_when_painted(&self.toasts);
        }
        if let Some(bench) = &self.search_bench {
            bench.start();
        }
    }

    /// The first VM list is on screen: the page it selected is built now.
    pub(super) fn list_painted(&mut self) {
        if !std::mem::take(&mut self.pages_wait_for_list) {
            return;
        }
        if self.showing_host {
            self.refresh_host_page();
        } else {
            let shown = self.selected.clone();
            self.show_vm(shown.as_deref());
        }
        if self.snapshot.is_some() && self.host_facts_reading.is_none() {
            startup::report_diagnosed_when_painted(&self.toasts);
        }
    }

    /// Brings the Host page up to date with the snapshot, when it is the
    /// page shown (else [`Self::show_host`] does, when it is opened).
    fn refresh_host_page(&mut self) {
        let Some(snapshot) = self
            .snapshot
            .as_ref()
            .filter(|_| self.showing_host && self.host_page_stale && !self.pages_wait_for_list)
        else {
            return;
        };
        self.host_page_stale = false;
        let view = HostView {
            snapshot: Arc::clone(snapshot),
            findings: self.findings.clone(),
            connection: self.connection_label(),
            host_pending: self.host_facts_reading.is_some(),
        };
        self.host_page.emit(HostPageMsg::Show(Box::new(view)));
    }

    pub(super) fn show_selected(&mut self) {
        let position = self.vm_list.selection_model.selected();
        let name = self.vm_list.get_visible(position).map(|item| item.borrow().name.clone());
        self.show_vm(name.as_deref());
    }

    /// Shows the page of the VM named `name`, or none.
    pub(super) fn show_vm(&mut self, name: Option<&str>) {
        let domain = name.and_then(|name| self.snapshot.as_ref()?.domain(name).cloned());
        match (domain, &self.snapshot) {
            (Some(domain), Some(snapshot)) => {
                let user_picked = self.selected.as_deref() != Some(domain.name());
                self.selected = Some(domain.name().to_owned());
                self.showing_host = false;
                self.host_row.set_selected(false);
                let networks: Vec<&str> =
                    domain.interfaces().iter().filter_map(|nic| nic.network_name()).collect();
                let findings: Vec<Finding> = self
                    .findings
                    .iter()
                    .filter(|finding| finding.subject.concerns_vm(domain.name(), &networks))
                    .cloned()
                    .collect();
                let view = VmView {
                    domain,
                    snapshot: Arc::clone(snapshot),
                    findings,
                    host_pending: self.host_facts_reading.is_some(),
                };
                // Else built by `list_painted`, a frame later.
                if !self.pages_wait_for_list {
                    self.vm_page.emit(VmPageMsg::Show(Box::new(view)));
                }
                if user_picked {
                    self.split_view.set_show_content(true);
                }
            }
            _ => {
                self.selected = None;
                self.vm_page.emit(VmPageMsg::Clear);
            }
        }
    }
}
