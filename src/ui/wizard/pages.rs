//! The setup wizard's building blocks: a step's status, its findings with
//! their Fix… buttons, the facts each step looks at, the guest's account
//! of itself, the checklist's results and the commands to type by hand.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use vmnet_doctor_core::guest::checklist::{Status, StepKind};
use vmnet_doctor_core::nic_model;
use vmnet_doctor_core::{DomainSnapshot, Finding, Interface, Snapshot};

use super::steps::{Outcome, StepId, StepState};
use crate::describe;
use crate::guest_checklist::words::{network_text, os_text, step_label, step_title};
use crate::guest_checklist::{Discovery, StepResult};
use crate::i18n::fill;
use crate::ui::finding_row;
use crate::ui::plain_texts::plain_texts;

/// A column of groups, as in a preferences page.
pub fn page_box() -> gtk::Box {
    gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(24)
        .margin_top(18)
        .margin_bottom(18)
        .margin_start(12)
        .margin_end(12)
        .build()
}

pub fn text(words: &str) -> gtk::Label {
    gtk::Label::builder().label(words).wrap(true).xalign(0.0).build()
}

/// The step's purpose and how it stands: icon and plain words, the note below.
pub fn status_group(purpose: &str, state: StepState, note: &str) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_description(Some(purpose));
    let (icon, style, words) = state.look();
    let row = plain_texts(adw::ActionRow::builder().use_markup(false).build(), &words, "");
    if !note.is_empty() {
        row.set_subtitle(note);
        row.set_subtitle_selectable(true);
    }
    let image = gtk::Image::from_icon_name(icon);
    image.add_css_class(style);
    // The row's title already says it; the icon is decoration.
    image.set_accessible_role(gtk::AccessibleRole::Presentation);
    row.add_prefix(&image);
    group.add(&row);
    group
}

/// The step's findings, each with its Fix… (and the other remedy, when
/// the fix has one).
pub fn findings_group(
    findings: &[Finding],
    on_fix: &relm4::Sender<Finding>,
) -> Option<adw::PreferencesGroup> {
    if findings.is_empty() {
        return None;
    }
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Problems"));
    for finding in findings {
        group.add(&finding_row::build(finding, &[], None, on_fix));
        if let Some(alternative) = finding.fix.as_ref().and_then(|fix| fix.alternative()) {
            let other = Finding { fix: Some(alternative), ..finding.clone() };
            group.add(&alternative_row(&other, on_fix));
        }
    }
    Some(group)
}

/// The other remedy of a finding (e.g. APT over IPv4 only, instead of
/// turning IPv6 off).
fn alternative_row(finding: &Finding, on_fix: &relm4::Sender<Finding>) -> adw::ActionRow {
    let what = finding.fix.as_ref().map(describe::fix).unwrap_or_default();
    let row =
        plain_texts(adw::ActionRow::builder().use_markup(false).build(), &gettext("Or, instead"), &what);
    let name = fill(&gettext("Fix instead: {what}"), &[("what", &what)]);
    row.add_suffix(&finding_row::fix_button(&gettext("_Use Instead…"), &name, "flat", finding, on_fix));
    row
}

/// A row whose subtitle is the value, selectable so it can be copied.
pub fn property_row(title: &str, value: &str) -> adw::ActionRow {
    let row = plain_texts(
        adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
        title,
        value,
    );
    row.add_css_class("property");
    row
}

fn yes_no(value: bool) -> String {
    if value { gettext("Yes") } else { gettext("No") }
}

pub fn connection_facts(snapshot: &Snapshot, connection: &str) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.add(&property_row(&gettext("Connection"), connection));
    group.add(&property_row(&gettext("URI"), &snapshot.uri));
    group.add(&property_row(&gettext("Virtual machines"), &snapshot.domains.len().to_string()));
    group.add(&property_row(&gettext("Virtual networks"), &snapshot.networks.len().to_string()));
    group
}

/// A network the VMs need: whether it exists, runs and starts with the host.
pub fn network_facts(snapshot: &Snapshot, name: &str) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_title(&fill(&gettext("Network “{network}”"), &[("network", name)]));
    match snapshot.network(name) {
        Some(network) => {
            group.add(&property_row(&gettext("Exists"), &yes_no(true)));
            group.add(&property_row(&gettext("Running"), &yes_no(network.active)));
            group.add(&property_row(&gettext("Starts with the host"), &yes_no(network.autostart)));
            group.add(&property_row(&gettext("Mode"), &describe::forward_mode(&network.config.forward)));
        }
        None => group.add(&property_row(&gettext("Exists"), &yes_no(false))),
    }
    group
}

/// The VM picker and, for a VM with several cards, the card picker.
pub fn vm_picker(
    snapshot: &Snapshot,
    vm: Option<&str>,
    mac: Option<&str>,
    on_vm: impl Fn(String) + 'static,
    on_card: impl Fn(Option<String>) + 'static,
) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    let names: Vec<&str> = snapshot.domains.iter().map(DomainSnapshot::name).collect();
    let vm_row = adw::ComboRow::builder()
        .title(gettext("Virtual machine"))
        .model(&gtk::StringList::new(&names))
        .build();
    if let Some(position) = vm.and_then(|vm| names.iter().position(|name| *name == vm)) {
        vm_row.set_selected(u32::try_from(position).unwrap_or(gtk::INVALID_LIST_POSITION));
    } else {
        vm_row.set_selected(gtk::INVALID_LIST_POSITION);
    }
    let owned: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    vm_row.connect_selected_notify(move |row| {
        if let Some(name) = usize::try_from(row.selected()).ok().and_then(|i| owned.get(i)) {
            on_vm(name.clone());
        }
    });
    group.add(&vm_row);

    let Some(domain) = vm.and_then(|vm| snapshot.domain(vm)) else { return group };
    let macs: Vec<String> = domain.interfaces().iter().filter_map(|nic| nic.mac.clone()).collect();
    if macs.len() > 1 {
        let mut labels = vec![gettext("Every card")];
        labels.extend(domain.interfaces().iter().filter_map(|nic| {
            let mac = nic.mac.as_deref()?;
            Some(match nic.network_name() {
                Some(network) => format!("{mac} ({network})"),
                None => mac.to_owned(),
            })
        }));
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let card_row = adw::ComboRow::builder()
            .title(gettext("Network card"))
            .model(&gtk::StringList::new(&labels))
            .build();
        let position = mac.and_then(|mac| macs.iter().position(|m| m.eq_ignore_ascii_case(mac)));
        card_row.set_selected(position.map_or(0, |i| u32::try_from(i + 1).unwrap_or(0)));
        card_row.connect_selected_notify(move |row| {
            let picked = usize::try_from(row.selected()).ok().and_then(|i| i.checked_sub(1));
            on_card(picked.and_then(|i| macs.get(i).cloned()));
        });
        group.add(&card_row);
    }
    group
}

/// The card's source, model and link, as virt-manager names them.
pub fn card_facts(nic: &Interface, domain: &DomainSnapshot, snapshot: &Snapshot) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    let mac = nic.mac.clone().unwrap_or_else(|| gettext("Not set"));
    group.set_title(&fill(&gettext("Card {mac}"), &[("mac", &mac)]));
    group.add(&property_row(&gettext("Network source"), &describe::interface_source(nic, snapshot)));
    group.add(&property_row(
        &gettext("Device model"),
        &describe::model(nic_model::effective(&domain.config, nic)),
    ));
    group.add(&property_row(&gettext("Link state"), &describe::link_state(nic.link_state)));
    group.add(&property_row(
        &gettext("Guest interface"),
        &describe::guest_interface(domain, nic.mac.as_deref()),
    ));
    group
}

/// What the guest said about itself: OS, network stack, each card's name.
pub fn discovery_group(discovery: &Discovery) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Inside the Guest"));
    let os = os_text(&discovery.facts);
    group.add(&property_row(&gettext("Operating system"), &os));
    let stack = network_text(&discovery.facts);
    group.add(&property_row(&gettext("Network configured by"), &stack));
    for (mac, network, name) in &discovery.cards {
        let name = name.clone().unwrap_or_else(|| gettext("not reported by the guest"));
        let title = match network {
            Some(network) => {
                fill(&gettext("Card {mac} on “{network}”"), &[("mac", mac), ("network", network)])
            }
            None => fill(&gettext("Card {mac}"), &[("mac", mac)]),
        };
        group.add(&property_row(&title, &name));
    }
    group
}

/// One finished step of the checklist.
pub fn result_row(result: &StepResult) -> adw::ActionRow {
    let (icon, style, words) = match result.verdict.status {
        Status::Pass => ("object-select-symbolic", "success", gettext("Passed")),
        Status::Skip => ("media-skip-forward-symbolic", "dim-label", gettext("Not applicable")),
        Status::Fail => ("dialog-error-symbolic", "error", gettext("Failed")),
        Status::Timeout => ("dialog-error-symbolic", "error", gettext("Timed out")),
        Status::Error => ("dialog-warning-symbolic", "warning", gettext("Could not run")),
        Status::Slow => ("dialog-warning-symbolic", "warning", gettext("Slow")),
    };
    let row = plain_texts(
        adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
        &step_title(result.kind, &result.target),
        &result.verdict.detail,
    );
    let image = gtk::Image::from_icon_name(icon);
    image.add_css_class(style);
    image.set_tooltip_text(Some(&words));
    image.update_property(&[gtk::accessible::Property::Label(&words)]);
    row.add_prefix(&image);
    let seconds =
        fill(&gettext("{seconds} s"), &[("seconds", &format!("{:.1}", result.elapsed.as_secs_f64()))]);
    let time = gtk::Label::builder().label(&seconds).css_classes(["dim-label", "numeric"]).build();
    row.add_suffix(&time);
    row
}

/// The checklist as commands to type in the guest, with a Copy button.
pub fn commands_group(
    commands: &[(StepKind, String)],
    on_copy: impl Fn(String) + 'static,
) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Run These Commands in the Guest"));
    let all: String = commands
        .iter()
        .map(|(kind, command)| format!("# {}\n{command}", step_label(*kind)))
        .collect::<Vec<_>>()
        .join("\n");
    let copy = gtk::Button::builder()
        .label(gettext("C_opy Commands"))
        .use_underline(true)
        .valign(gtk::Align::Center)
        .css_classes(["flat"])
        .build();
    copy.connect_clicked(move |_| on_copy(all.clone()));
    group.set_header_suffix(Some(&copy));
    for (kind, command) in commands {
        let row = plain_texts(
            adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
            &step_label(*kind),
            command,
        );
        row.add_css_class("property");
        row.add_css_class("monospace");
        group.add(&row);
    }
    group
}

/// The Done page: each step and how it ended.
pub fn summary_group(outcomes: &[(StepId, Outcome, String)]) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    for (step, outcome, detail) in outcomes {
        let (icon, style, words) = outcome.look();
        let subtitle = if detail.is_empty() { words } else { format!("{words}: {detail}") };
        let row = plain_texts(adw::ActionRow::builder().use_markup(false).build(), &step.title(), &subtitle);
        let image = gtk::Image::from_icon_name(icon);
        image.add_css_class(style);
        image.set_accessible_role(gtk::AccessibleRole::Presentation);
        row.add_prefix(&image);
        group.add(&row);
    }
    group
}
