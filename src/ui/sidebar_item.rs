//! One entry of the sidebar: a connection's host, heading its group, or
//! one of its VMs. Every connection's entries are in one recycled list, so
//! a thousand VMs across several hypervisors cost only the rows on screen.
//! The texts are `GtkInscription`s, sized from the font rather than laid
//! out from the text, so a search that rebinds rows does not measure words.

use std::cell::RefCell;
use std::rc::Rc;

use gettextrs::{gettext, ngettext};
use relm4::gtk::prelude::*;
use relm4::gtk::{self, glib};
use relm4::typed_view::grid::RelmGridItem;
use vmnet_doctor_core::{DomainSnapshot, Finding, Severity, Snapshot, Subject};

use crate::describe;
use crate::i18n::fill;
use crate::ui::finding_row;
use crate::ui::host_page::is_about_host;
use crate::ui::vm_filter::{self, VmFilter};

/// The window's handle on one connection (unique for the window's life).
pub type SessionId = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidebarItem {
    pub session: SessionId,
    /// The VM's name; `None` for the connection's host entry.
    pub vm: Option<String>,
    /// The VM's name as the search compares it, folded once per snapshot
    /// rather than on every key press.
    folded: String,
    title: String,
    subtitle: String,
    /// What the leading icon says (the VM's state, the connection's URI).
    icon_tip: String,
    icon: &'static str,
    /// The worst error or warning about the entry itself.
    worst: Option<Severity>,
    /// The host entry's number of problems, shown beside it.
    count: Option<usize>,
    /// Turning: the connection is being opened, or the host checked.
    busy: bool,
    /// The row as one sentence, for screen readers.
    spoken: String,
}

/// How far a connection has got, as its host entry says it.
#[derive(Debug, Clone, Copy)]
pub enum HostStatus<'a> {
    Connecting,
    Failed { title: &'a str },
    Open { snapshot: &'a Snapshot, findings: &'a [Finding], host_pending: bool, reconnecting: bool },
}

impl SidebarItem {
    pub fn vm(session: SessionId, domain: &DomainSnapshot, findings: &[Finding]) -> Self {
        let own = |subject: &Subject| match subject {
            Subject::Vm { name } | Subject::Nic { vm: name, .. } => name == domain.name(),
            _ => false,
        };
        let worst = findings
            .iter()
            .filter(|f| f.severity != Severity::Info && own(&f.subject))
            .map(|f| f.severity)
            .min();
        let name = domain.name().to_owned();
        let summary = describe::domain_summary(domain);
        let mut spoken = format!("{name}, {summary}");
        if let Some(severity) = worst {
            spoken = format!("{spoken}, {}", finding_row::severity_look(severity).2);
        }
        Self {
            session,
            folded: vm_filter::fold(&name),
            vm: Some(name.clone()),
            title: name,
            subtitle: summary,
            icon_tip: describe::domain_state(domain.state),
            icon: describe::domain_state_icon(domain.state),
            worst,
            count: None,
            busy: false,
            spoken,
        }
    }

    /// The host entry of the connection `label` (`uri` in full).
    pub fn host(session: SessionId, label: &str, uri: &str, status: HostStatus<'_>) -> Self {
        let mut item = Self {
            session,
            vm: None,
            folded: String::new(),
            title: label.to_owned(),
            subtitle: String::new(),
            icon_tip: uri.to_owned(),
            icon: "network-server-symbolic",
            worst: None,
            count: None,
            busy: false,
            spoken: String::new(),
        };
        let status_words = match status {
            HostStatus::Connecting => {
                item.subtitle = gettext("Connecting…");
                item.busy = true;
                item.spoken = format!("{}, {}", item.title, item.subtitle);
                return item;
            }
            HostStatus::Failed { title } => {
                item.subtitle = title.to_owned();
                item.worst = Some(Severity::Error);
                gettext("Not connected")
            }
            HostStatus::Open { snapshot, findings, host_pending, reconnecting } => {
                if let Some(hostname) = &snapshot.hostname {
                    item.title = hostname.clone();
                }
                let count = snapshot.networks.len();
                item.subtitle = if reconnecting {
                    gettext("Reconnecting…")
                } else {
                    fill(
                        &ngettext("Host · {n} virtual network", "Host · {n} virtual networks", clamp(count)),
                        &[("n", &count.to_string())],
                    )
                };
                let problems: Vec<Severity> = findings
                    .iter()
                    .filter(|f| f.severity != Severity::Info && is_about_host(&f.subject))
                    .map(|f| f.severity)
                    .collect();
                item.worst = problems.iter().min().copied();
                item.count = (!problems.is_empty()).then_some(problems.len());
                item.busy = host_pending || reconnecting;
                match item.count {
                    Some(n) => {
                        fill(&ngettext("{n} problem", "{n} problems", clamp(n)), &[("n", &n.to_string())])
                    }
                    None if host_pending => gettext("Checking the host…"),
                    None => gettext("No problems"),
                }
            }
        };
        item.spoken = format!("{}, {}, {status_words}", item.title, item.subtitle);
        item
    }

    pub fn is_host(&self) -> bool {
        self.vm.is_none()
    }

    /// Whether this is the VM `name` of connection `session`.
    pub fn is_vm(&self, session: SessionId, name: &str) -> bool {
        self.session == session && self.vm.as_deref() == Some(name)
    }

    /// Whether the sidebar's search keeps this entry: a host entry heads
    /// its group whatever is typed.
    pub fn matches(&self, filter: &VmFilter) -> bool {
        self.is_host() || filter.keeps(&self.folded, self.worst.is_some())
    }
}

#[derive(Debug)]
pub struct SidebarItemWidgets {
    /// The list's row, which screen readers name (weak: it owns these widgets).
    item: glib::WeakRef<gtk::ListItem>,
    icon: gtk::Image,
    title: gtk::Inscription,
    subtitle: gtk::Inscription,
    count: gtk::Label,
    problem: gtk::Image,
    busy: gtk::Spinner,
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

impl RelmGridItem for SidebarItem {
    type Root = gtk::Box;
    type Widgets = SidebarItemWidgets;

    fn setup(item: &gtk::ListItem) -> (gtk::Box, SidebarItemWidgets) {
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
                    #[name = "title"]
                    gtk::Inscription {
                        set_text_overflow: gtk::InscriptionOverflow::EllipsizeEnd,
                    },
                    #[name = "subtitle"]
                    gtk::Inscription {
                        set_text_overflow: gtk::InscriptionOverflow::EllipsizeEnd,
                        add_css_class: "caption",
                        add_css_class: "dim-label",
                    },
                },
                #[name = "count"]
                gtk::Label {
                    set_valign: gtk::Align::Center,
                    add_css_class: "caption",
                    add_css_class: "numeric",
                },
                #[name = "problem"]
                gtk::Image {
                    set_valign: gtk::Align::Center,
                },
                #[name = "busy"]
                gtk::Spinner {
                    set_valign: gtk::Align::Center,
                },
            }
        }
        let (icon_tip, problem_tip) = (Rc::default(), Rc::default());
        tooltip_from(&icon, &icon_tip);
        tooltip_from(&problem, &problem_tip);
        let widgets = SidebarItemWidgets {
            item: item.downgrade(),
            icon,
            title,
            subtitle,
            count,
            problem,
            busy,
            icon_tip,
            problem_tip,
        };
        (root, widgets)
    }

    fn bind(&mut self, widgets: &mut Self::Widgets, _root: &mut Self::Root) {
        // A host heads its connection's group: its name stands out.
        // Recycled rows: a host entry's row may next show a VM.
        if self.is_host() {
            widgets.title.add_css_class("heading");
        } else {
            widgets.title.remove_css_class("heading");
        }
        widgets.icon.set_icon_name(Some(self.icon));
        widgets.icon_tip.replace(self.icon_tip.clone());
        widgets.icon.update_property(&[gtk::accessible::Property::Label(&self.icon_tip)]);
        widgets.title.set_text(Some(&self.title));
        widgets.subtitle.set_text(Some(&self.subtitle));
        widgets.count.set_visible(self.count.is_some());
        if let Some(count) = self.count {
            widgets.count.set_label(&count.to_string());
        }
        widgets.busy.set_visible(self.busy);
        widgets.busy.set_spinning(self.busy);
        widgets.problem.remove_css_class("error");
        widgets.problem.remove_css_class("warning");
        match self.worst {
            Some(severity) => {
                let (icon, style, label) = finding_row::severity_look(severity);
                widgets.problem.set_icon_name(Some(icon));
                widgets.problem.add_css_class(style);
                widgets.problem_tip.replace(label.clone());
                widgets.problem.update_property(&[gtk::accessible::Property::Label(&label)]);
                widgets.problem.set_visible(true);
            }
            None => widgets.problem.set_visible(false),
        }
        // Screen readers hear the row as one sentence.
        if let Some(item) = widgets.item.upgrade() {
            item.set_accessible_label(&self.spoken);
        }
    }
}

fn clamp(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
