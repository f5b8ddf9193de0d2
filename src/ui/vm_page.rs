//! The content pane: the selected VM and every one of its network cards.

use std::sync::Arc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{ComponentParts, ComponentSender, SimpleComponent};
use vmnet_doctor_core::{DomainSnapshot, Finding, Snapshot, verdict};

use crate::describe;
use crate::i18n::fill;
use crate::ui::groups_page::GroupsPage;
use crate::ui::nic_actions::{self, ActionSink};
use crate::ui::plain_texts::plain_texts;
use crate::ui::verdict_group::{self, PageRequest};
use crate::ui::{data_path_group, finding_row, nic_group};
use crate::verdict_words::Whose;

#[derive(Debug)]
pub struct VmPage {
    page: GroupsPage,
    /// Where the VM's and the cards' menus send what the user picked.
    on_action: ActionSink,
    /// Where Fix… buttons send their finding (to the output).
    on_fix: relm4::Sender<Finding>,
}

/// What the page shows: a VM of a snapshot, and the findings that concern it.
#[derive(Debug)]
pub struct VmView {
    pub domain: DomainSnapshot,
    pub snapshot: Arc<Snapshot>,
    pub findings: Vec<Finding>,
    /// The host's part of the diagnosis is still to come.
    pub host_pending: bool,
}

#[derive(Debug)]
pub enum VmPageMsg {
    Show(Box<VmView>),
    Clear,
}

impl SimpleComponent for VmPage {
    type Init = ActionSink;
    type Input = VmPageMsg;
    /// A finding's Fix… button, or Fix All…, was pressed.
    type Output = PageRequest;
    type Root = gtk::Stack;
    type Widgets = ();

    fn init_root() -> gtk::Stack {
        gtk::Stack::new()
    }

    fn init(on_action: ActionSink, root: gtk::Stack, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let status = GroupsPage::status(
            "computer-symbolic",
            &gettext("No VM Selected"),
            Some(&gettext("Choose a virtual machine to see its network cards.")),
        );
        let on_fix = verdict_group::fix_sender(sender.output_sender());
        let model = VmPage { page: GroupsPage::new(&root, &status), on_action, on_fix };
        ComponentParts { model, widgets: () }
    }

    fn update(&mut self, msg: VmPageMsg, sender: ComponentSender<Self>) {
        match msg {
            VmPageMsg::Show(shown) => {
                let VmView { domain, snapshot, findings, host_pending } = *shown;
                let verdict = verdict_group::build(
                    Whose::Vm(domain.name()),
                    verdict(&snapshot, &findings),
                    host_pending,
                    &findings,
                    &self.on_fix,
                    sender.output_sender(),
                );
                let groups: Vec<_> = [verdict, overview(&domain, &self.on_action)]
                    .into_iter()
                    .chain(problems(domain.name(), &snapshot, &findings, &self.on_fix))
                    .chain(domain.interfaces().iter().enumerate().map(|(i, nic)| {
                        data_path_group::build(i, nic, &domain, &snapshot, &findings, &self.on_fix)
                    }))
                    .chain(nic_groups(&domain, &snapshot, &self.on_action))
                    .collect();
                self.page.show(&groups);
            }
            VmPageMsg::Clear => self.page.clear(),
        }
    }
}

/// The VM itself: state and guest agent, and its menu (guest agent
/// channel, restart).
fn overview(domain: &DomainSnapshot, on_action: &ActionSink) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_header_suffix(Some(&nic_actions::vm_menu(domain, on_action)));
    group.set_title(&fill(&gettext("Virtual Machine “{name}”"), &[("name", domain.name())]));
    wrap_group_title(&group);
    if let Some(title) = &domain.config.title {
        group.set_description(Some(title));
    }
    for (title, value) in [
        (gettext("State"), describe::domain_state(domain.state)),
        (gettext("Guest agent"), describe::guest_agent(domain)),
    ] {
        let row = plain_texts(
            adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
            &title,
            &value,
        );
        row.add_css_class("property");
        group.add(&row);
    }
    group
}

/// libadwaita ellipsizes a group's title on one line; beside the VM's
/// menu at 360 px a long translation or VM name would lose its end, so the
/// title wraps instead (tests/gui/a11y/long_text.py measures it).
fn wrap_group_title(group: &adw::PreferencesGroup) {
    let title = group.title();
    let mut pending: Vec<gtk::Widget> = vec![group.clone().upcast()];
    while let Some(widget) = pending.pop() {
        if let Some(label) = widget.downcast_ref::<gtk::Label>()
            && label.text() == title
        {
            label.set_ellipsize(gtk::pango::EllipsizeMode::None);
            label.set_wrap(true);
            label.set_wrap_mode(gtk::pango::WrapMode::WordChar);
            return;
        }
        let mut child = widget.first_child();
        while let Some(next) = child {
            child = next.next_sibling();
            pending.push(next);
        }
    }
}

/// What is wrong along this VM's path, most severe first, each cause with
/// what it explains inside; nothing when all is well (the overview then
/// says so).
fn problems(
    vm: &str,
    snapshot: &Snapshot,
    findings: &[Finding],
    on_fix: &relm4::Sender<Finding>,
) -> Option<adw::PreferencesGroup> {
    if findings.is_empty() {
        return None;
    }
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Problems"));
    finding_row::add_grouped(&group, snapshot, findings, Some(vm), on_fix);
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
