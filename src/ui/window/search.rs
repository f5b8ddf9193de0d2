//! The sidebar's search (issue #21, "Find a VM"): applying its filter to
//! the VM list and keeping the selection sensible while it changes. The
//! list is filtered in place (a `GtkFilterListModel` over the same rows),
//! so a key press re-checks names and rebinds only the rows on screen.

use gettextrs::gettext;
use relm4::adw::prelude::*;
use relm4::gtk;

use std::cell::RefCell;
use std::rc::Rc;

use relm4::ComponentSender;
use relm4::typed_view::grid::TypedGridView;

use super::search_bench::{SearchBench, SearchKeys};
use super::{Window, WindowMsg};
use crate::i18n::fill;
use crate::startup;
use crate::ui::sidebar_item::{SessionId, SidebarItem};
use crate::ui::vm_filter::VmFilter;
use crate::ui::vm_search::VmSearch;

/// The sidebar's VM list with its search: the list filtered in place by
/// the search's filter, and the search bar that sets it.
pub(super) struct SidebarList {
    pub vm_list: TypedGridView<SidebarItem, gtk::SingleSelection>,
    pub filter: Rc<RefCell<VmFilter>>,
    pub search: VmSearch,
    pub search_bench: Option<SearchBench>,
}

impl SidebarList {
    pub(super) fn new(sender: &ComponentSender<Window>) -> Self {
        let mut vm_list: TypedGridView<SidebarItem, gtk::SingleSelection> = TypedGridView::new();
        let filter = Rc::new(RefCell::new(VmFilter::default()));
        vm_list.add_filter({
            let filter = Rc::clone(&filter);
            move |item| item.matches(&filter.borrow())
        });
        let search = VmSearch::new(
            {
                let sender = sender.clone();
                move |filter| sender.input(WindowMsg::Filter(filter))
            },
            {
                let sender = sender.clone();
                move || sender.input(WindowMsg::OpenFirstMatch)
            },
            {
                let sender = sender.clone();
                move || sender.input(WindowMsg::SearchClosed)
            },
        );
        let search_bench = SearchBench::from_env(search.clone());
        vm_list.selection_model.set_autoselect(false);
        vm_list.selection_model.set_can_unselect(true);
        vm_list.selection_model.connect_selected_notify({
            let sender = sender.clone();
            move |_| sender.input(WindowMsg::SelectionChanged)
        });
        // Enter (or a double click) on an entry the keyboard focused:
        // the arrow keys move the focus without selecting.
        vm_list.view.connect_activate({
            let sender = sender.clone();
            move |_, position| sender.input(WindowMsg::Activated(position))
        });
        Self { vm_list, filter, search, search_bench }
    }
}

/// The benchmark types into the sidebar's own search.
impl SearchKeys for VmSearch {
    fn open(&self) {
        VmSearch::open(self);
    }

    fn entry(&self) -> &gtk::SearchEntry {
        VmSearch::entry(self)
    }

    fn problems_only(&self) -> &gtk::ToggleButton {
        VmSearch::problems_only(self)
    }
}

impl Window {
    /// Ctrl+F: the sidebar, with the search open and focused.
    pub(super) fn find_vm(&mut self) {
        if self.phase != super::Phase::Connected {
            return;
        }
        self.split_view.set_show_content(false);
        self.search.open();
    }

    pub(super) fn apply_filter(&mut self, filter: VmFilter) {
        if *self.filter.borrow() != filter {
            self.filter.replace(filter);
            self.vm_list.notify_filter_changed(0);
            self.reselect_when_shown();
        }
        if startup::reporting() {
            // Tests wait for this before they read the list.
            let filter = self.filter.borrow();
            eprintln!(
                "vmnet-doctor: vm-search-applied visible={} problems-only={} text={}",
                self.visible_count(),
                filter.problems_only(),
                self.search.text()
            );
        }
        if let Some(bench) = &self.search_bench {
            bench.applied(self.visible_count(), &self.vm_list.view);
        }
    }

    /// The search was closed: back to the list, at the selected VM.
    pub(super) fn search_closed(&mut self) {
        // The entry that had the focus is gone: the focus goes where the
        // search began, not to the window's first control.
        self.vm_list.view.grab_focus();
        let position = self.vm_list.selection_model.selected();
        if position != gtk::INVALID_LIST_POSITION {
            self.vm_list.view.scroll_to(position, gtk::ListScrollFlags::FOCUS, None);
        }
        if startup::reporting() {
            eprintln!("vmnet-doctor: vm-search-closed visible={}", self.visible_count());
        }
    }

    /// Enter in the search: the first VM found, as a click on it would.
    pub(super) fn open_first_match(&mut self) {
        let Some(first) = self.visible_position_of(|item| !item.is_host()) else { return };
        if self.vm_list.selection_model.selected() == first {
            self.split_view.set_show_content(true);
        } else {
            self.vm_list.selection_model.set_selected(first);
        }
        if !self.split_view.is_collapsed() {
            // On to the list, where the arrow keys pick among the VMs found.
            self.vm_list.view.grab_focus();
            self.vm_list.view.scroll_to(first, gtk::ListScrollFlags::FOCUS, None);
        }
    }

    /// An entry was activated: selected, and its page shown (on a narrow
    /// window too, where the page takes the sidebar's place).
    pub(super) fn activated(&mut self, position: u32) {
        if self.vm_list.selection_model.selected() == position {
            self.show_selected();
        } else {
            self.vm_list.selection_model.set_selected(position);
        }
        self.split_view.set_show_content(true);
    }

    /// The list's selection moved: show the entry now selected, unless it
    /// is the page already shown (the search moved its row) or the search
    /// hides the shown VM, whose page then stays until another is picked.
    pub(super) fn selection_changed(&mut self) {
        let entry = self.entry_at(self.vm_list.selection_model.selected());
        let keep = match (&entry, self.shown) {
            (Some((id, None)), Some(shown)) => self.showing_host && *id == shown,
            (Some((id, Some(name))), Some(shown)) => {
                !self.showing_host && *id == shown && self.selected.as_deref() == Some(name.as_str())
            }
            (None, Some(shown)) => {
                self.showing_host
                    || self.selected.as_deref().is_some_and(|name| self.hidden_by_search(shown, name))
            }
            (_, None) => false,
        };
        if keep {
            return;
        }
        self.show_selected();
        if entry.is_some() {
            // Picked in the list: on a narrow window its page replaces it.
            self.split_view.set_show_content(true);
        }
    }

    /// The number of VMs the search lets through (every host's entry is
    /// always there).
    pub(super) fn visible_count(&self) -> u32 {
        let hosts = u32::try_from(self.sessions.len()).unwrap_or(u32::MAX);
        self.vm_list.selection_model.n_items().saturating_sub(hosts)
    }

    /// Whether connection `id`'s VM named `name` is in the list but the
    /// search hides it.
    pub(super) fn hidden_by_search(&self, id: SessionId, name: &str) -> bool {
        let filter = self.filter.borrow();
        !filter.keeps_all()
            && self
                .vm_list
                .find(|item| item.is_vm(id, name))
                .and_then(|position| self.vm_list.get(position))
                .is_some_and(|item| !item.borrow().matches(&filter))
    }

    /// The placeholder's text when the search finds nothing.
    pub(super) fn no_match_description(&self) -> String {
        if self.filter.borrow().problems_only() {
            let text = self.search.text();
            if text.trim().is_empty() {
                gettext("No VM has a problem.")
            } else {
                fill(&gettext("No VM with a problem has “{text}” in its name."), &[("text", text.trim())])
            }
        } else {
            gettext("Try another part of the VM's name.")
        }
    }

    /// A search that lets the shown VM back into the list selects its row
    /// again (the selection forgot it when the row was filtered out).
    fn reselect_when_shown(&self) {
        if self.showing_host || self.vm_list.selection_model.selected() != gtk::INVALID_LIST_POSITION {
            return;
        }
        self.select_shown_row();
    }
}
