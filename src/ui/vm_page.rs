//! The content pane: the selected VM and every one of its network cards.

use std::sync::Arc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{ComponentParts, ComponentSender, SimpleComponent};
use vmnet_doctor_core::{DomainSnapshot, Finding, Snapshot};

use crate::describe;
use crate::i18n::fill;
use crate::ui::nic_actions::{self, ActionSink};
use crate::ui::{data_path_group, finding_row, nic_group};

#[derive(Debug)]
pub struct VmPage {
    /// The groups currently shown, removed when another VM is shown.
    groups: Vec<adw::PreferencesGroup>,
    has_vm: bool,
    /// Where the VM's and the cards' menus send what the user picked.
    on_action: ActionSink,
}

#[derive(Debug)]
pub enum VmPageMsg {
    /// Show this VM of this snapshot, with the findings that concern it.
    Show(Box<(DomainSnapshot, Arc<Snapshot>, Vec<Finding>)>),
    Clear,
}

#[relm4::component(pub)]
impl SimpleComponent for VmPage {
    type Init = ActionSink;
    type Input = VmPageMsg;
    /// A finding's Fix… button was pressed.
    type Output = Finding;

    view! {
        gtk::Stack {
            set_transition_type: gtk::StackTransitionType::Crossfade,

            add_named[Some("none")] = &adw::StatusPage {
                set_icon_name: Some("computer-symbolic"),
                set_title: &gettext("No VM Selected"),
                set_description: Some(&gettext("Choose a virtual machine to see its network cards.")),
            },
            add_named[Some("vm")] = &gtk::ScrolledWindow {
                set_hscrollbar_policy: gtk::PolicyType::Never,
                adw::Clamp {
                    set_maximum_size: 720,
                    #[name = "groups_box"]
                    gtk::Box {
                        set_orientation: gtk::Orientation::Vertical,
                        set_spacing: 24,
                        set_margin_top: 24,
                        set_margin_bottom: 24,
                        set_margin_start: 12,
                        set_margin_end: 12,
                    },
                },
            },
            // After the children, so the first call finds its page.
            #[watch]
            set_visible_child_name: if model.has_vm { "vm" } else { "none" },
        }
    }

    fn init(on_action: ActionSink, root: Self::Root, _sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let model = VmPage { groups: Vec::new(), has_vm: false, on_action };
        let widgets = view_output!();
        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: VmPageMsg, sender: ComponentSender<Self>) {
        match msg {
            VmPageMsg::Show(shown) => {
                let (domain, snapshot, findings) = *shown;
                self.groups = std::iter::once(overview(&domain, &self.on_action))
                    .chain(problems(&findings, sender.output_sender()))
                    .chain(domain.interfaces().iter().enumerate().map(|(i, nic)| {
                        data_path_group::build(i, nic, &domain, &snapshot, &findings, sender.output_sender())
                    }))
                    .chain(nic_groups(&domain, &snapshot, &self.on_action))
                    .collect();
                self.has_vm = true;
            }
            VmPageMsg::Clear => {
                self.groups.clear();
                self.has_vm = false;
            }
        }
    }

    fn post_view() {
        // Swap the groups for the ones of the VM now shown.
        while let Some(child) = groups_box.first_child() {
            groups_box.remove(&child);
        }
        for group in &model.groups {
            groups_box.append(group);
        }
    }
}

/// The VM itself: state and guest agent, and its menu (guest agent
/// channel, restart).
fn overview(domain: &DomainSnapshot, on_action: &ActionSink) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_header_suffix(Some(&nic_actions::vm_menu(domain, on_action)));
    group.set_title(&fill(&gettext("Virtual Machine “{name}”"), &[("name", domain.name())]));
    if let Some(title) = &domain.config.title {
        group.set_description(Some(title));
    }
    for (title, value) in [
        (gettext("State"), describe::domain_state(domain.state)),
        (gettext("Guest agent"), describe::guest_agent(domain)),
    ] {
        let row = adw::ActionRow::builder()
            .use_markup(false)
            .title(title)
            .subtitle(value)
            .subtitle_selectable(true)
            .build();
        row.add_css_class("property");
        group.add(&row);
    }
    group
}

/// What is wrong along this VM's path, most severe first; nothing when
/// all is well (the overview then says so).
fn problems(findings: &[Finding], on_fix: &relm4::Sender<Finding>) -> Option<adw::PreferencesGroup> {
    if findings.is_empty() {
        return None;
    }
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Problems"));
    for finding in findings {
        group.add(&finding_row::build(finding, on_fix));
    }
    Some(group)
}

fn nic_groups(
    domain: &DomainSnapshot,
    snapshot: &Snapshot,
    on_action: &ActionSink,
) -> Vec<adw::PreferencesGroup> {
    if domain.interfaces().is_empty() {
        return vec![nic_group::no_cards()];
    }
    domain
        .interfaces()
        .iter()
        .enumerate()
        .map(|(i, nic)| nic_group::build(i, nic, domain, snapshot, on_action))
        .collect()
}
