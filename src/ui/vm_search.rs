//! The sidebar's search: a search bar under its header bar with an entry
//! for the VM's name and an "only VMs with problems" toggle. The header's
//! search button, Ctrl+F or typing in the sidebar opens it; Escape closes
//! it and shows every VM again.

use std::rc::Rc;

use gettextrs::gettext;
use relm4::gtk;
use relm4::gtk::prelude::*;
use relm4::gtk::{gdk, glib};

use crate::ui::vm_filter::VmFilter;

/// Cheap to clone: the same widgets (the benchmark drives them).
#[derive(Debug, Clone)]
pub struct VmSearch {
    bar: gtk::SearchBar,
    entry: gtk::SearchEntry,
    problems: gtk::ToggleButton,
    button: gtk::ToggleButton,
}

impl VmSearch {
    /// `changed` runs with the new filter on every key press and toggle,
    /// `activated` when Enter is pressed in the entry, `closed` once the
    /// bar is closed (its filter is then back to keeping every VM).
    pub fn new(
        changed: impl Fn(VmFilter) + 'static,
        activated: impl Fn() + 'static,
        closed: impl Fn() + 'static,
    ) -> Self {
        let search_label = gettext("Search Virtual Machines");
        let problems_label = gettext("Only VMs With Problems");
        relm4::view! {
            bar = gtk::SearchBar {
                #[wrap(Some)]
                set_child = &gtk::Box {
                    set_spacing: 6,
                    #[name = "entry"]
                    gtk::SearchEntry {
                        set_hexpand: true,
                        set_placeholder_text: Some(&gettext("Search VMs")),
                        // The filter is cheap: answer each key press, not
                        // GTK's default 150 ms after the last one.
                        set_search_delay: 0,
                        update_property: &[gtk::accessible::Property::Label(&search_label)],
                    },
                    #[name = "problems"]
                    gtk::ToggleButton {
                        set_icon_name: "dialog-warning-symbolic",
                        set_tooltip_text: Some(&problems_label),
                        update_property: &[gtk::accessible::Property::Label(&problems_label)],
                    },
                },
            },
            button = gtk::ToggleButton {
                set_icon_name: "system-search-symbolic",
                set_tooltip_text: Some(&search_label),
                update_property: &[gtk::accessible::Property::Label(&search_label)],
            }
        }
        bar.connect_entry(&entry);
        button.bind_property("active", &bar, "search-mode-enabled").bidirectional().sync_create().build();

        let changed = Rc::new(changed);
        let weak_problems = problems.downgrade();
        entry.connect_search_changed({
            let changed = changed.clone();
            move |entry| {
                let problems_only = weak_problems.upgrade().is_some_and(|p| p.is_active());
                changed(VmFilter::new(&entry.text(), problems_only));
            }
        });
        let weak_entry = entry.downgrade();
        problems.connect_toggled(move |problems| {
            let text = weak_entry.upgrade().map(|entry| entry.text()).unwrap_or_default();
            changed(VmFilter::new(&text, problems.is_active()));
        });
        entry.connect_activate(move |_| activated());
        let weak_problems = problems.downgrade();
        bar.connect_search_mode_enabled_notify(move |bar| {
            if bar.is_search_mode() {
                return;
            }
            // Closed: the whole list again, and a fresh search next time
            // (the bar empties its entry itself).
            if let Some(problems) = weak_problems.upgrade() {
                problems.set_active(false);
            }
            closed();
        });
        Self { bar, entry, problems, button }
    }

    pub fn bar(&self) -> &gtk::SearchBar {
        &self.bar
    }

    /// The header bar's search button.
    pub fn button(&self) -> &gtk::ToggleButton {
        &self.button
    }

    /// Typing while `widget` (the sidebar) has the focus opens the search
    /// with what was typed.
    /// Escape there closes it, as in the entry: Enter in the entry moves
    /// the focus to the list, and the search must not trap the user.
    pub fn capture_typing_in(&self, widget: &impl IsA<gtk::Widget>) {
        self.bar.set_key_capture_widget(Some(widget));
        let bar = self.bar.downgrade();
        let escape = gtk::EventControllerKey::new();
        escape.connect_key_pressed(move |_, key, _, modifiers| {
            let open = bar.upgrade().filter(|bar| bar.is_search_mode());
            match open {
                Some(bar) if key == gdk::Key::Escape && modifiers.is_empty() => {
                    bar.set_search_mode(false);
                    glib::Propagation::Stop
                }
                _ => glib::Propagation::Proceed,
            }
        });
        widget.add_controller(escape);
    }

    /// Ctrl+F: opens the search, or takes the focus back to it.
    pub fn open(&self) {
        self.bar.set_search_mode(true);
        self.entry.grab_focus();
    }

    /// The entry (the benchmark types into it).
    pub fn entry(&self) -> &gtk::SearchEntry {
        &self.entry
    }

    /// "Only VMs with problems" (the benchmark clicks it).
    pub fn problems_only(&self) -> &gtk::ToggleButton {
        &self.problems
    }

    /// What is typed in the entry.
    pub fn text(&self) -> String {
        self.entry.text().into()
    }
}
