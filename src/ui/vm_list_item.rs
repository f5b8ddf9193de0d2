//! One VM in the sidebar: name, state and NIC count. A recycled list item,
//! so a host with a thousand VMs costs only the rows on screen. Its texts
//! are `GtkInscription`s, sized from the font rather than laid out from
//! the text, so a search that rebinds rows does not measure their words.

use std::cell::RefCell;
use std::rc::Rc;

use relm4::gtk::prelude::*;
use relm4::gtk::{self, glib};
use relm4::typed_view::grid::RelmGridItem;
use vmnet_doctor_core::{DomainSnapshot, Finding, Severity, Subject};

use crate::describe;
use crate::ui::finding_row;
use crate::ui::vm_filter::{self, VmFilter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmListItem {
    pub name: String,
    /// `name` as the sidebar's search compares it, folded once per snapshot
    /// rather than on every key press.
    folded: String,
    summary: String,
    state: String,
    icon: &'static str,
    /// The worst error or warning about the VM itself or its NICs.
    worst: Option<Severity>,
}

impl VmListItem {
    pub fn new(domain: &DomainSnapshot, findings: &[Finding]) -> Self {
        let own = |subject: &Subject| match subject {
            Subject::Vm { name } | Subject::Nic { vm: name, .. } => name == domain.name(),
            _ => false,
        };
        let worst = findings
            .iter()
            .filter(|f| f.severity != Severity::Info && own(&f.subject))
            .map(|f| f.severity)
            .min();
        Self {
            name: domain.name().to_owned(),
            folded: vm_filter::fold(domain.name()),
            summary: describe::domain_summary(domain),
            state: describe::domain_state(domain.state),
            icon: describe::domain_state_icon(domain.state),
            worst,
        }
    }

    /// Whether the sidebar's search keeps this VM.
    pub fn matches(&self, filter: &VmFilter) -> bool {
        filter.keeps(&self.folded, self.worst.is_some())
    }
}

#[derive(Debug)]
pub struct VmListItemWidgets {
    /// The list's row, which screen readers name (weak: it owns these widgets).
    item: glib::WeakRef<gtk::ListItem>,
    icon: gtk::Image,
    name: gtk::Inscription,
    summary: gtk::Inscription,
    problem: gtk::Image,
    /// The icons' tooltips, read when one is asked for: setting a tooltip
    /// on a shown widget took GTK about 1 ms (measured, docs/benchmarks.md),
    /// and a search can bind 200 new rows at once.
    icon_tip: Rc<RefCell<String>>,
    problem_tip: Rc<RefCell<String>>,
}

/// Shows `text` as the tooltip of `image` whenever one is asked for.
fn tooltip_from(image: &gtk::Image, text: &Rc<RefCell<String>>) {
    let text = Rc::clone(text);
    image.set_has_tooltip(true);
    image.connect_query_tooltip(move |_, _, _, _, tooltip| {
        let text = text.borrow();
        tooltip.set_text(Some(&text));
        !text.is_empty()
    });
}

impl RelmGridItem for VmListItem {
    type Root = gtk::Box;
    type Widgets = VmListItemWidgets;

    fn setup(item: &gtk::ListItem) -> (gtk::Box, VmListItemWidgets) {
        relm4::view! {
            root = gtk::Box {
                set_spacing: 12,
                set_margin_top: 6,
                set_margin_bottom: 6,

                #[name = "icon"]
                gtk::Image {
                    set_valign: gtk::Align::Center,
                    add_css_class: "dim-label",
                },
                gtk::Box {
                    set_orientation: gtk::Orientation::Vertical,
                    set_spacing: 2,
                    set_hexpand: true,
                    #[name = "name"]
                    gtk::Inscription {
                        set_text_overflow: gtk::InscriptionOverflow::EllipsizeEnd,
                    },
                    #[name = "summary"]
                    gtk::Inscription {
                        set_text_overflow: gtk::InscriptionOverflow::EllipsizeEnd,
                        add_css_class: "caption",
                        add_css_class: "dim-label",
                    },
                },
                #[name = "problem"]
                gtk::Image {
                    set_valign: gtk::Align::Center,
                },
            }
        }
        let (icon_tip, problem_tip) = (Rc::default(), Rc::default());
        tooltip_from(&icon, &icon_tip);
        tooltip_from(&problem, &problem_tip);
        (
            root,
            VmListItemWidgets { item: item.downgrade(), icon, name, summary, problem, icon_tip, problem_tip },
        )
    }

    fn bind(&mut self, widgets: &mut Self::Widgets, _root: &mut Self::Root) {
        widgets.icon.set_icon_name(Some(self.icon));
        widgets.icon_tip.replace(self.state.clone());
        widgets.icon.update_property(&[gtk::accessible::Property::Label(&self.state)]);
        widgets.name.set_text(Some(&self.name));
        widgets.summary.set_text(Some(&self.summary));
        // Recycled rows: reset what a previous item may have set.
        widgets.problem.remove_css_class("error");
        widgets.problem.remove_css_class("warning");
        let mut spoken = format!("{}, {}", self.name, self.summary);
        match self.worst {
            Some(severity) => {
                let (icon, style, label) = finding_row::severity_look(severity);
                spoken = format!("{spoken}, {label}");
                widgets.problem.set_icon_name(Some(icon));
                widgets.problem.add_css_class(style);
                widgets.problem_tip.replace(label.clone());
                widgets.problem.update_property(&[gtk::accessible::Property::Label(&label)]);
                widgets.problem.set_visible(true);
            }
            None => widgets.problem.set_visible(false),
        }
        // Screen readers hear the row as one sentence, as the Host row.
        if let Some(item) = widgets.item.upgrade() {
            item.set_accessible_label(&spoken);
        }
    }
}
