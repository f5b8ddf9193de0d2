//! The current step's page, built afresh from the wizard's state: its
//! status, findings and facts, the step's own action (Inspect Guest, Run
//! Checks, or Cancel while they run) and where the focus goes. Apart from
//! the component because it is all widget assembly; the widgets
//! themselves come from `pages`.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::glib;
use relm4::{ComponentSender, gtk};

use super::steps::{self, StepId};
use super::{Inspection, Wizard, WizardMsg, pages, report};
use crate::i18n::fill;

impl Wizard {
    /// Builds the current step's page afresh.
    pub(super) fn render(&mut self, sender: &ComponentSender<Self>) {
        let step = self.step;
        let total = StepId::ALL.len();
        let position = step.index() + 1;
        self.title.set_subtitle(&fill(
            &gettext("Step {k} of {n}: {step}"),
            &[("k", &position.to_string()), ("n", &total.to_string()), ("step", &step.title())],
        ));
        #[allow(clippy::cast_precision_loss)] // seven steps
        self.bar.set_fraction(position as f64 / total as f64);
        let busy = self.checklist.running || matches!(self.inspection, Inspection::Running);
        self.back.set_sensitive(step.previous().is_some());
        self.skip.set_visible(step != StepId::Done);
        self.next.set_visible(step != StepId::Done);
        self.close.set_visible(step == StepId::Done);
        self.next.set_sensitive(!busy);
        self.skip.set_sensitive(!busy);
        self.back.set_sensitive(!busy && step.previous().is_some());

        let page = pages::page_box();
        self.live = None;
        let evaluation = self.evaluate(step);
        self.first_seen.entry(step).or_insert(evaluation.state);
        let state = self.state_of(step);
        if step != StepId::Done {
            page.append(&pages::status_group(&step.purpose(), state, &evaluation.note));
            // The state, then the ids of the step's findings.
            let words: Vec<&str> =
                std::iter::once(state.as_str()).chain(evaluation.findings.iter().map(|f| f.id)).collect();
            let words = words.join(" ");
            if self.reported.get(&step) != Some(&words) {
                report(&format!("wizard-check {} {words}", step.as_str()));
                self.reported.insert(step, words);
            }
        }
        // What the problems below are about, or what finds them.
        match step {
            StepId::VmNic => self.vm_picker(&page, sender),
            StepId::Guest => self.inspect_action(&page, sender),
            _ => {}
        }
        // The problems first, right under the status that counts them.
        if let Some(group) = pages::findings_group(&evaluation.findings, &self.on_fix) {
            page.append(&group);
        }
        match step {
            StepId::Connection => page.append(&pages::connection_facts(&self.snapshot, &self.connection)),
            StepId::HostNetwork => {
                for name in steps::networks_of_interest(&self.snapshot, self.vm.as_deref()) {
                    page.append(&pages::network_facts(&self.snapshot, name));
                }
            }
            StepId::Firewall | StepId::Done => {}
            StepId::VmNic => self.vm_nic_page(&page),
            StepId::Guest => self.guest_page(&page),
            StepId::Verify => self.live = self.verify_page(&page, sender).map(|group| (page.clone(), group)),
        }
        if step == StepId::Done {
            let outcomes = self.outcomes();
            page.append(&pages::text(&step.purpose()));
            page.append(&pages::summary_group(&outcomes));
            let words: Vec<String> = outcomes
                .iter()
                .map(|(step, outcome, _)| format!("{}={}", step.as_str(), outcome.as_str()))
                .collect();
            report(&format!("wizard-summary {}", words.join(" ")));
        }
        // The focused button may be in the page being replaced (Run Checks
        // becomes Cancel): hand the focus to the new page's own action.
        let focus_was_here = self.dialog.focus().is_some_and(|focus| focus.is_ancestor(&self.scroller));
        let clamp = adw::Clamp::builder().maximum_size(600).child(&page).build();
        self.scroller.set_child(Some(&clamp));
        if focus_was_here {
            self.focus_primary();
        }
    }

    /// Focuses the page's own action (Cancel while something runs). After
    /// the page is idle: the focus the replaced page held is let go of
    /// only then.
    pub(super) fn focus_primary(&self) {
        let target = self
            .scroller
            .child()
            .and_then(|child| find_primary(&child))
            .unwrap_or(self.next.clone().upcast());
        let dialog = self.dialog.clone();
        glib::idle_add_local_once(move || {
            // Still on screen: the page may have been rebuilt meanwhile.
            if target.is_ancestor(&dialog) {
                target.grab_focus();
            }
        });
    }

    fn vm_picker(&self, page: &gtk::Box, sender: &ComponentSender<Self>) {
        let (on_vm, on_card) = (sender.input_sender().clone(), sender.input_sender().clone());
        page.append(&pages::vm_picker(
            &self.snapshot,
            self.vm.as_deref(),
            self.mac.as_deref(),
            move |vm| on_vm.emit(WizardMsg::PickVm(vm)),
            move |mac| on_card.emit(WizardMsg::PickCard(mac)),
        ));
    }

    /// The picked card's (or every card's) source, model and link.
    fn vm_nic_page(&self, page: &gtk::Box) {
        let Some(domain) = self.vm.as_deref().and_then(|vm| self.snapshot.domain(vm)) else { return };
        for nic in domain.interfaces() {
            let picked = self
                .mac
                .as_deref()
                .is_none_or(|mac| nic.mac.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(mac)));
            if picked {
                page.append(&pages::card_facts(nic, domain, &self.snapshot));
            }
        }
    }

    /// Inspect Guest, or Cancel while the inspection runs.
    fn inspect_action(&self, page: &gtk::Box, sender: &ComponentSender<Self>) {
        if matches!(self.inspection, Inspection::Running) {
            page.append(&working(&gettext("Looking inside the guest…"), sender));
            return;
        }
        let running =
            self.vm.as_deref().and_then(|vm| self.snapshot.domain(vm)).is_some_and(|d| d.state.is_active());
        let button = action_button(&gettext("_Inspect Guest"), sender, || WizardMsg::Inspect);
        button.set_sensitive(running);
        if !running {
            button.set_tooltip_text(Some(&gettext("Start the VM first")));
        }
        page.append(&button);
    }

    /// What the guest said about itself.
    fn guest_page(&self, page: &gtk::Box) {
        if let Inspection::Done(discovery) = &self.inspection {
            page.append(&pages::discovery_group(discovery));
        }
    }

    /// The Verify page; while the checklist runs, its results group.
    fn verify_page(&self, page: &gtk::Box, sender: &ComponentSender<Self>) -> Option<adw::PreferencesGroup> {
        let list = &self.checklist;
        let targets = adw::PreferencesGroup::new();
        let expander = adw::ExpanderRow::builder().title(gettext("Targets")).build();
        expander.set_subtitle(&gettext("Where the checks point; only contacted when you run them"));
        // libadwaita leaves the expander row itself unnamed for screen readers.
        expander
            .upcast_ref::<gtk::Widget>()
            .update_property(&[gtk::accessible::Property::Label(&gettext("Targets"))]);
        for entry in &self.targets {
            if let Some(parent) = entry.parent() {
                // Kept across pages: take it out of the last page built.
                if let Some(list_box) = parent.downcast_ref::<gtk::ListBox>() {
                    list_box.remove(entry);
                }
            }
            expander.add_row(entry);
        }
        targets.add(&expander);
        targets.set_sensitive(!list.running);
        page.append(&targets);
        if list.running {
            page.append(&working(&gettext("Running the checklist in the guest…"), sender));
        } else {
            // One label in every state: tests and screen readers find it by name.
            let button = action_button(&gettext("_Run Checks"), sender, || WizardMsg::RunChecks);
            let running = self
                .vm
                .as_deref()
                .and_then(|vm| self.snapshot.domain(vm))
                .is_some_and(|d| d.state.is_active());
            button.set_sensitive(running);
            page.append(&button);
        }
        let group = adw::PreferencesGroup::new();
        group.set_title(&gettext("Checklist"));
        for result in &list.results {
            group.add(&pages::result_row(result));
        }
        group.set_visible(!list.results.is_empty());
        page.append(&group);
        if let Some((_, commands)) = &list.by_hand {
            let copy = sender.input_sender().clone();
            page.append(&pages::commands_group(commands, move |text| copy.emit(WizardMsg::Copy(text))));
        }
        // What the guest said about itself, under the results it explains.
        if let Some(discovery) = &list.discovery {
            page.append(&pages::discovery_group(discovery));
        }
        list.running.then_some(group)
    }
}

/// A pill button for the step's own action (Inspect Guest, Run Checks).
fn action_button(label: &str, sender: &ComponentSender<Wizard>, msg: fn() -> WizardMsg) -> gtk::Button {
    let button = gtk::Button::builder()
        .label(label)
        .use_underline(true)
        .halign(gtk::Align::Center)
        .css_classes(["pill", PRIMARY])
        .build();
    let sender = sender.clone();
    button.connect_clicked(move |_| sender.input(msg()));
    button
}

/// The page's own action (its pill or Cancel button), depth first.
fn find_primary(widget: &gtk::Widget) -> Option<gtk::Widget> {
    let mut child = widget.first_child();
    while let Some(current) = child {
        if current.has_css_class(PRIMARY) && current.is_sensitive() {
            return Some(current);
        }
        if let Some(found) = find_primary(&current) {
            return Some(found);
        }
        child = current.next_sibling();
    }
    None
}

/// Marks the button that takes the focus when its page is rebuilt.
const PRIMARY: &str = "wizard-primary";

/// A spinner with what is under way and Cancel.
fn working(what: &str, sender: &ComponentSender<Wizard>) -> gtk::Box {
    let row = gtk::Box::builder().spacing(12).halign(gtk::Align::Center).build();
    let spinner = gtk::Spinner::builder().spinning(true).build();
    spinner.update_property(&[gtk::accessible::Property::Label(what)]);
    row.append(&spinner);
    let label = gtk::Label::builder().label(what).wrap(true).build();
    row.append(&label);
    let cancel = action_button(&gettext("_Cancel"), sender, || WizardMsg::Cancel);
    cancel.remove_css_class("pill");
    row.append(&cancel);
    row
}
