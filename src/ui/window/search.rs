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
use crate::ui::vm_filter::VmFilter;
use crate::ui::vm_list_item::VmListItem;
use crate::ui::vm_search::VmSearch;

/// The sidebar's VM list with its search: the list filtered in place by
/// the search's filter, and the search bar that sets it.
pub(super) struct SidebarList {
    pub vm_list: TypedGridView<VmListItem, gtk::SingleSelection>,
    pub filter: Rc<RefCell<VmFilter>>,
    pub search: VmSearch,
    pub search_bench: Option<SearchBench>,
}

impl SidebarList {
    pub(super) fn new(sender: &ComponentSender<Window>) -> Self {
        let mut vm_list: TypedGridView<VmListItem, gtk::SingleSelection> = TypedGridView::new();
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
        if self.snapshot.is_none() {
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
        if self.visible_count() == 0 {
            return;
        }
        if self.vm_list.selection_model.selected() == 0 {
            self.split_view.set_show_content(true);
        } else {
            self.vm_list.selection_model.set_selected(0);
        }
        if !self.split_view.is_collapsed() {
            // On to the list, where the arrow keys pick among the VMs found.
            self.vm_list.view.grab_focus();
            self.vm_list.view.scroll_to(0, gtk::ListScrollFlags::FOCUS, None);
        }
    }

    /// The list's selection moved: show the VM now selected, unless it
    /// is the one already shown (the search moved its row) or the search
    /// hides the shown VM, whose page then stays until another is picked.
    pub(super) fn selection_changed(&mut self) {
        let position = self.vm_list.selection_model.selected();
        let name = self.vm_list.get_visible(position).map(|item| item.borrow().name.clone());
        if !self.showing_host {
            let shown = self.selected.as_deref();
            let keep = match name.as_deref() {
                Some(name) => shown == Some(name),
                None => shown.is_some_and(|shown| self.hidden_by_search(shown)),
            };
            if keep {
                // The Host entry selects itself when the window first gives
                // it the focus; the VM shown is what is selected.
                self.host_row.set_selected(false);
                return;
            }
        }
        self.show_vm(name.as_deref());
    }

    /// The number of VMs the search lets through.
    pub(super) fn visible_count(&self) -> u32 {
        self.vm_list.selection_model.n_items()
    }

    /// Where the VM named `name` is in the list as filtered.
    pub(super) fn visible_position(&self, name: &str) -> Option<u32> {
        (0..self.visible_count()).find(|&position| {
            self.vm_list.get_visible(position).is_some_and(|item| item.borrow().name == name)
        })
    }

    /// Whether the VM named `name` is in the list but the search hides it.
    pub(super) fn hidden_by_search(&self, name: &str) -> bool {
        let filter = self.filter.borrow();
        !filter.keeps_all()
            && self
                .vm_list
                .find(|item| item.name == name)
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
        if let Some(position) = self.selected.as_deref().and_then(|name| self.visible_position(name)) {
            self.vm_list.selection_model.set_selected(position);
        }
    }
}
