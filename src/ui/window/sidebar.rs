//! The sidebar's one list of every connection's entries: each connection's
//! host, then its VMs, one group after another in the connections' order.
//! One list, not one per connection, so the arrow keys, the search and
//! the recycled rows work across all of them. A connection's group is
//! replaced on its own when its snapshot changes; the others stay.

use relm4::gtk;
use relm4::gtk::prelude::*;

use super::Window;
use super::session::Session;
use crate::ui::sidebar_item::{SessionId, SidebarItem};

impl Window {
    pub(super) fn index_of(&self, id: SessionId) -> Option<usize> {
        self.sessions.iter().position(|session| session.id == id)
    }

    pub(super) fn session(&self, id: SessionId) -> Option<&Session> {
        self.sessions.iter().find(|session| session.id == id)
    }

    pub(super) fn session_mut(&mut self, id: SessionId) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|session| session.id == id)
    }

    /// The connections `which` picks, in the sidebar's order.
    pub(super) fn session_ids(&self, which: impl Fn(&Session) -> bool) -> Vec<SessionId> {
        self.sessions.iter().filter(|session| which(session)).map(|session| session.id).collect()
    }

    /// Where the group of the connection at `index` begins in the list.
    pub(super) fn group_start(&self, index: usize) -> u32 {
        self.sessions[..index].iter().map(|session| session.rows).sum()
    }

    /// Puts connection `id`'s entries in the list as it now is. When its
    /// VMs are the same ones in the same order (the usual case after an
    /// event), only changed rows are replaced, so the list keeps its
    /// scroll position; else the whole list is filled again.
    pub(super) fn update_rows(&mut self, id: SessionId) {
        let Some(index) = self.index_of(id) else { return };
        let rows = self.sessions[index].sidebar_rows();
        let start = self.group_start(index);
        let same_entries = self.sessions[index].rows as usize == rows.len()
            && rows.iter().zip(start..).all(|(row, position)| {
                self.vm_list.get(position).is_some_and(|shown| shown.borrow().vm == row.vm)
            });
        if same_entries {
            for (row, position) in rows.into_iter().zip(start..) {
                if self.vm_list.get(position).is_some_and(|shown| *shown.borrow() != row) {
                    self.vm_list.remove(position);
                    self.vm_list.insert(position, row);
                }
            }
        } else {
            self.replace_group(index, rows);
        }
        // A replaced row loses its selection: the page shown keeps its entry
        // selected (before the selection's change is handled).
        self.select_shown_row();
    }

    /// Puts `rows` in place of the group of the connection at `index`
    /// (none: takes it out), the other groups' entries kept as they are,
    /// in one change of the list rather than one per entry.
    pub(super) fn replace_group(&mut self, index: usize, rows: Vec<SidebarItem>) {
        let start = self.group_start(index);
        let end = start + self.sessions[index].rows;
        self.sessions[index].rows = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let before = self.entries(0..start);
        let after = self.entries(end..self.vm_list.len());
        self.vm_list.clear();
        self.vm_list.extend_from_iter(before.into_iter().chain(rows).chain(after));
    }

    fn entries(&self, positions: std::ops::Range<u32>) -> Vec<SidebarItem> {
        positions
            .filter_map(|position| self.vm_list.get(position).map(|item| item.borrow().clone()))
            .collect()
    }

    /// Where the entry `wanted` is in the list as the search filters it.
    pub(super) fn visible_position_of(&self, wanted: impl Fn(&SidebarItem) -> bool) -> Option<u32> {
        (0..self.vm_list.selection_model.n_items())
            .find(|&position| self.vm_list.get_visible(position).is_some_and(|item| wanted(&item.borrow())))
    }

    /// The entry at `position` of the list as filtered: its connection and
    /// VM (`None`: the host).
    pub(super) fn entry_at(&self, position: u32) -> Option<(SessionId, Option<String>)> {
        self.vm_list.get_visible(position).map(|item| {
            let item = item.borrow();
            (item.session, item.vm.clone())
        })
    }

    /// Selects in the list the entry of the page shown (or nothing).
    pub(super) fn select_shown_row(&self) {
        let position = self.shown.and_then(|id| match (self.showing_host, self.selected.as_deref()) {
            (false, Some(name)) => self.visible_position_of(|item| item.is_vm(id, name)),
            (true, _) => self.visible_position_of(|item| item.session == id && item.is_host()),
            (false, None) => None,
        });
        let position = position.unwrap_or(gtk::INVALID_LIST_POSITION);
        if self.vm_list.selection_model.selected() != position {
            self.vm_list.selection_model.set_selected(position);
        }
    }
}
