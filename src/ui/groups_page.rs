//! The Host and VM pages' frame: a status page while there is nothing to
//! show, else their groups in a scrolled, clamped column.

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;

const EMPTY: &str = "none";
const GROUPS: &str = "groups";

/// The page's stack (its root widget) and the column its groups go in.
#[derive(Debug)]
pub struct GroupsPage {
    stack: gtk::Stack,
    column: gtk::Box,
}

impl GroupsPage {
    /// Fills `stack`: `status` first, shown until there are groups.
    pub fn new(stack: &gtk::Stack, status: &adw::StatusPage) -> Self {
        stack.set_transition_type(gtk::StackTransitionType::Crossfade);
        let column = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .spacing(24)
            .margin_top(24)
            .margin_bottom(24)
            .margin_start(12)
            .margin_end(12)
            .build();
        let clamp = adw::Clamp::builder().maximum_size(720).child(&column).build();
        let scrolled =
            gtk::ScrolledWindow::builder().hscrollbar_policy(gtk::PolicyType::Never).child(&clamp).build();
        stack.add_named(status, Some(EMPTY));
        stack.add_named(&scrolled, Some(GROUPS));
        stack.set_visible_child_name(EMPTY);
        Self { stack: stack.clone(), column }
    }

    /// The status page that says there is nothing to show, and why.
    pub fn status(icon: &str, title: &str, description: Option<&str>) -> adw::StatusPage {
        let status = adw::StatusPage::builder().icon_name(icon).title(title).build();
        status.set_description(description);
        status
    }

    /// Shows `groups` in place of those shown before.
    pub fn show(&self, groups: &[adw::PreferencesGroup]) {
        self.remove_groups();
        for group in groups {
            self.column.append(group);
        }
        // From the status page ("No VM Selected") at once: its crossfade
        // shows nothing worth a dozen frames, and at start-up it ran right
        // after the list's first frame.
        let from_status = self.stack.visible_child_name().as_deref() == Some(EMPTY);
        if from_status {
            self.stack.set_visible_child_full(GROUPS, gtk::StackTransitionType::None);
        } else {
            self.stack.set_visible_child_name(GROUPS);
        }
    }

    /// Back to the status page.
    pub fn clear(&self) {
        self.remove_groups();
        self.stack.set_visible_child_name(EMPTY);
    }

    fn remove_groups(&self) {
        while let Some(child) = self.column.first_child() {
            self.column.remove(&child);
        }
    }
}
