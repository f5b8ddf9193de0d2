//! The sidebar's first entry, above the VMs: the host of the connection,
//! with the number of problems found on it and its virtual networks.
//! Activating it (click, Enter) shows the Host page.

use gettextrs::{gettext, ngettext};
use relm4::gtk::prelude::*;
use relm4::gtk::{self, gdk, glib, pango};
use vmnet_doctor_core::{Finding, Severity, Snapshot};

use crate::i18n::fill;
use crate::ui::finding_row;
use crate::ui::host_page::is_about_host;

#[derive(Debug)]
pub struct HostRow {
    list: gtk::ListBox,
    row: gtk::ListBoxRow,
    title: gtk::Label,
    subtitle: gtk::Label,
    problem_icon: gtk::Image,
    problem_count: gtk::Label,
    /// Turns while the host's own facts are being read.
    checking: gtk::Spinner,
}

impl HostRow {
    /// `activated` runs when the user picks the row.
    pub fn new(activated: impl Fn() + 'static) -> Self {
        relm4::view! {
            list = gtk::ListBox {
                add_css_class: "navigation-sidebar",
                set_selection_mode: gtk::SelectionMode::Single,
                update_property: &[gtk::accessible::Property::Label(&gettext("Host"))],
                connect_row_activated => move |_, _| activated(),

                #[name = "row"]
                gtk::ListBoxRow {
                    gtk::Box {
                        set_spacing: 12,
                        set_margin_top: 6,
                        set_margin_bottom: 6,

                        gtk::Image {
                            set_icon_name: Some("network-server-symbolic"),
                            set_valign: gtk::Align::Center,
                            add_css_class: "dim-label",
                        },
                        gtk::Box {
                            set_orientation: gtk::Orientation::Vertical,
                            set_spacing: 2,
                            #[name = "title"]
                            gtk::Label {
                                set_xalign: 0.0,
                                set_ellipsize: pango::EllipsizeMode::End,
                            },
                            #[name = "subtitle"]
                            gtk::Label {
                                set_xalign: 0.0,
                                set_ellipsize: pango::EllipsizeMode::End,
                                add_css_class: "caption",
                                add_css_class: "dim-label",
                            },
                        },
                        gtk::Box {
                            set_spacing: 4,
                            set_hexpand: true,
                            set_halign: gtk::Align::End,
                            #[name = "problem_count"]
                            gtk::Label {
                                add_css_class: "caption",
                                add_css_class: "numeric",
                            },
                            #[name = "problem_icon"]
                            gtk::Image {
                                set_valign: gtk::Align::Center,
                            },
                            #[name = "checking"]
                            gtk::Spinner {
                                set_valign: gtk::Align::Center,
                                set_tooltip_text: Some(&gettext("Checking the host…")),
                            },
                        },
                    },
                },
            }
        }
        Self { list, row, title, subtitle, problem_icon, problem_count, checking }
    }

    pub fn widget(&self) -> &gtk::ListBox {
        &self.list
    }

    /// Shows the host of `snapshot` (named `connection` when libvirt does
    /// not report a host name) and the problems among `findings`;
    /// `host_pending`: the host's own facts are still being read.
    pub fn show(&self, snapshot: &Snapshot, connection: &str, findings: &[Finding], host_pending: bool) {
        let title = snapshot.hostname.clone().unwrap_or_else(|| connection.to_owned());
        self.title.set_label(&title);
        let count = snapshot.networks.len();
        let networks = fill(
            &ngettext("Host · {n} virtual network", "Host · {n} virtual networks", clamp(count)),
            &[("n", &count.to_string())],
        );
        self.subtitle.set_label(&networks);

        let problems: Vec<Severity> = findings
            .iter()
            .filter(|f| f.severity != Severity::Info && is_about_host(&f.subject))
            .map(|f| f.severity)
            .collect();
        self.problem_icon.remove_css_class("error");
        self.problem_icon.remove_css_class("warning");
        let spoken = match problems.iter().min() {
            Some(worst) => {
                let (icon, style, _) = finding_row::severity_look(*worst);
                self.problem_icon.set_icon_name(Some(icon));
                self.problem_icon.add_css_class(style);
                self.problem_count.set_label(&problems.len().to_string());
                fill(
                    &ngettext("{n} problem", "{n} problems", clamp(problems.len())),
                    &[("n", &problems.len().to_string())],
                )
            }
            None if host_pending => gettext("Checking the host…"),
            None => gettext("No problems"),
        };
        self.checking.set_visible(host_pending);
        self.checking.set_spinning(host_pending);
        self.problem_icon.set_visible(!problems.is_empty());
        self.problem_count.set_visible(!problems.is_empty());
        self.problem_icon.set_tooltip_text(Some(&spoken));
        // Screen readers hear the row as one sentence.
        let label = format!("{title}, {networks}, {spoken}");
        self.row.update_property(&[gtk::accessible::Property::Label(&label)]);
    }

    /// Lets the arrow keys cross between this row and the VM list below it,
    /// as if the sidebar were one list.
    pub fn join_keyboard_navigation(&self, vm_list: &gtk::GridView, selection: &gtk::SingleSelection) {
        let below = vm_list.downgrade();
        self.list.connect_keynav_failed(move |_, direction| {
            let moved = direction == gtk::DirectionType::Down
                && below.upgrade().is_some_and(|list| list.is_visible() && list.grab_focus());
            if moved { glib::Propagation::Stop } else { glib::Propagation::Proceed }
        });
        // A grid view does not report running out of items upwards: up
        // from its first item (or from a list with nothing selected yet,
        // whose focus then sits on the first) goes to this row.
        let above = self.row.downgrade();
        let selection = selection.downgrade();
        let keys = gtk::EventControllerKey::new();
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        keys.connect_key_pressed(move |_, key, _, modifiers| {
            let at_top = selection
                .upgrade()
                .is_some_and(|selection| matches!(selection.selected(), 0 | gtk::INVALID_LIST_POSITION));
            let up = matches!(key, gdk::Key::Up | gdk::Key::KP_Up) && modifiers.is_empty();
            if up && at_top && above.upgrade().is_some_and(|row| row.grab_focus()) {
                glib::Propagation::Stop
            } else {
                glib::Propagation::Proceed
            }
        });
        vm_list.add_controller(keys);
    }

    /// Marks the row selected (the Host page is shown) or not.
    pub fn set_selected(&self, selected: bool) {
        if selected {
            self.list.select_row(Some(&self.row));
        } else {
            self.list.unselect_all();
        }
    }
}

fn clamp(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
