//! A card's data path on the VM page: the drawing of its hops (guest
//! interface → virtual NIC → bridge → NAT and forwarding → uplink →
//! internet) and, under it, what the selected hop is made of and its
//! findings with their Fix… buttons.
//!
//! The hop first selected is the worst one, so a problem is in view at
//! once. Ctrl+D moves the keyboard focus to the first card's path.

use std::rc::Rc;
use std::sync::Arc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::glib;
use vmnet_doctor_core::datapath::{DataPath, Hop, HopKind, HopStatus, data_path, ipv4_subnet};
use vmnet_doctor_core::posture::{self, Posture};
use vmnet_doctor_core::{DomainSnapshot, Finding, ForwardMode, Interface, Snapshot};

use crate::connections;
use crate::i18n::fill;
use crate::ui::connections_dialog::{self, CardTraffic};
use crate::ui::data_path_view::{DataPathView, HopWidgets};
use crate::ui::finding_row;
use crate::ui::plain_texts::plain_texts;

/// The group for the card at `index` (0-based) of `domain`; `numbered`
/// when the VM has several cards. Fix… buttons send to `on_fix`.
pub fn build(
    index: usize,
    nic: &Interface,
    domain: &DomainSnapshot,
    snapshot: &Arc<Snapshot>,
    findings: &[Finding],
    on_fix: &relm4::Sender<Finding>,
) -> adw::PreferencesGroup {
    let path = Rc::new(data_path(snapshot, domain, nic, findings));
    let numbered = domain.interfaces().len() > 1;
    let group = adw::PreferencesGroup::new();
    let title = if numbered {
        fill(&gettext("Data Path of Network Card {n}"), &[("n", &(index + 1).to_string())])
    } else {
        gettext("Data Path")
    };
    group.set_title(&title);
    group.set_description(Some(&gettext(
        "The way this card's traffic takes, from the guest to the internet. Select a hop to see what was checked.",
    )));

    let details = gtk::ListBox::builder().selection_mode(gtk::SelectionMode::None).build();
    details.add_css_class("boxed-list");
    details.update_property(&[gtk::accessible::Property::Label(&gettext("Selected hop"))]);

    let hops: Vec<HopWidgets> = path.hops.iter().map(hop_widgets).collect();
    let first_button = hops.first().map(|hop| hop.button.clone());
    for hop in hops.iter().skip(1) {
        hop.button.set_group(first_button.as_ref());
    }
    let view = DataPathView::new(hops, &fill(&gettext("{title}, hop by hop"), &[("title", &title)]));
    let buttons = view.hop_buttons();
    for (position, button) in buttons.iter().enumerate() {
        let (path, details, on_fix) = (Rc::clone(&path), details.clone(), on_fix.clone());
        button.connect_toggled(move |button| {
            if button.is_active()
                && let Some(hop) = path.hops.get(position)
            {
                show_hop(&details, hop, &on_fix);
            }
        });
    }
    if let Some(button) = buttons.get(first_shown(&path)) {
        button.set_active(true);
    }

    let content = gtk::Box::new(gtk::Orientation::Vertical, 12);
    content.append(&view);
    if let Some(ends) = &path.ends {
        let label = gtk::Label::builder().label(ends).wrap(true).xalign(0.0).build();
        label.add_css_class("dim-label");
        content.append(&label);
    }
    content.append(&details);
    group.add(&content);
    if let Some(card) = card_traffic(nic, domain, snapshot) {
        group.set_header_suffix(Some(&traffic_button(card, Arc::clone(snapshot))));
    }
    if index == 0 {
        focus_shortcut(&group, &view, &path);
    }
    group
}

/// What the NAT table dialog needs, for a card on a NAT or routed libvirt
/// network (whose traffic the host's connection tracking sees).
fn card_traffic(nic: &Interface, domain: &DomainSnapshot, snapshot: &Snapshot) -> Option<CardTraffic> {
    let network = snapshot.network(nic.network_name()?)?;
    if !matches!(network.config.forward, ForwardMode::Nat | ForwardMode::Route) {
        return None;
    }
    let mac = nic.mac.as_deref().unwrap_or_default();
    let host = snapshot.host.known();
    let uplink = host.and_then(|host| {
        let name = host.uplinks().first().map(|name| (*name).to_owned())?;
        let address = host.link(&name).and_then(|link| {
            link.addresses.iter().map(|(address, _)| *address).find(std::net::IpAddr::is_ipv4)
        });
        Some((name, address))
    });
    Some(CardTraffic {
        vm: domain.name().to_owned(),
        elsewhere: table_elsewhere(&snapshot.uri),
        running: domain.state.is_active(),
        addresses: domain
            .addresses_for(mac)
            .into_iter()
            .map(|(_, address)| address.ip)
            .filter(std::net::IpAddr::is_ipv4)
            .collect(),
        guest_interface: domain.guest_interface_name(mac).map(str::to_owned),
        bridge: network.config.bridge_name().map(str::to_owned),
        subnet: ipv4_subnet(&network.config),
        uplink,
        // Evaluated when the dialog opens, not for every page shown.
        posture: Posture { statements: Vec::new() },
    })
}

/// Why the helper on this machine cannot read the NAT table of the
/// connection `uri`'s host, if it cannot.
fn table_elsewhere(uri: &str) -> Option<String> {
    if connections::is_demo(uri) {
        Some(gettext(
            "The demo's host network is a recording: it has no live connection-tracking table to show.",
        ))
    } else if uri.starts_with("test:") {
        Some(gettext(
            "libvirt's test driver has no host network of its own, so it has no connection-tracking table to show.",
        ))
    } else if !crate::probe::is_local(uri) {
        Some(fill(
            &gettext(
                "libvirt runs on another machine ({uri}): its NAT table is there. Run “sudo conntrack -L -o extended” on it.",
            ),
            &[("uri", uri)],
        ))
    } else {
        None
    }
}

/// Opens the card's NAT table, packet flow and the host's posture.
fn traffic_button(card: CardTraffic, snapshot: Arc<Snapshot>) -> gtk::Button {
    let content = adw::ButtonContent::builder()
        .icon_name("network-transmit-receive-symbolic")
        .label(gettext("NAT _Table"))
        .use_underline(true)
        .build();
    let button =
        gtk::Button::builder().child(&content).valign(gtk::Align::Center).css_classes(["flat"]).build();
    button.set_tooltip_text(Some(&gettext(
        "This card's connections through NAT, the packet flow with its addresses, and the host's security posture",
    )));
    button.connect_clicked(move |button| {
        let card = CardTraffic { posture: posture::evaluate(&snapshot), ..card.clone() };
        connections_dialog::present(button, card);
    });
    button
}

/// The worst hop, or the first when all are good.
fn first_shown(path: &DataPath) -> usize {
    let worst = path.worst();
    if matches!(worst, HopStatus::Error | HopStatus::Warning) {
        path.hops.iter().position(|hop| hop.status == worst).unwrap_or(0)
    } else {
        0
    }
}

/// One hop's button: status icon, title, name; its spoken text says all.
fn hop_widgets(hop: &Hop) -> HopWidgets {
    let (icon, style) = status_look(hop.status);
    let status_icon = gtk::Image::from_icon_name(icon);
    status_icon.add_css_class(style);
    status_icon.set_pixel_size(24);
    status_icon.set_accessible_role(gtk::AccessibleRole::Presentation);

    let title = gtk::Label::builder()
        .label(&hop.short_title)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .justify(gtk::Justification::Center)
        .width_chars(7)
        .max_width_chars(11)
        .build();
    title.add_css_class("heading");
    let name = gtk::Label::builder()
        .label(hop.name.as_deref().unwrap_or("—"))
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .width_chars(7)
        .max_width_chars(11)
        .build();
    name.add_css_class("caption");
    let content = gtk::Box::new(gtk::Orientation::Vertical, 4);
    content.set_valign(gtk::Align::Center);
    content.append(&status_icon);
    content.append(&title);
    content.append(&name);

    let button = gtk::ToggleButton::builder().child(&content).build();
    button.add_css_class("flat");
    button.add_css_class("data-path-hop");
    let spoken = hop.spoken();
    button.set_tooltip_text(Some(&spoken));
    button.update_property(&[
        gtk::accessible::Property::Label(&spoken),
        gtk::accessible::Property::Description(&gettext("Shows what was checked on this hop, and its fixes")),
    ]);
    HopWidgets { button, status_icon, unknown: hop.status == HopStatus::Unknown }
}

/// Icon and libadwaita style class of a status (the outline takes its colour).
fn status_look(status: HopStatus) -> (&'static str, &'static str) {
    match status {
        HopStatus::Good => ("object-select-symbolic", "success"),
        HopStatus::Note => ("dialog-information-symbolic", "accent"),
        HopStatus::Unknown => ("dialog-question-symbolic", "dim-label"),
        HopStatus::Warning => ("dialog-warning-symbolic", "warning"),
        HopStatus::Error => ("dialog-error-symbolic", "error"),
    }
}

/// Fills `details` with the selected hop: its facts, why it was not
/// checked, and its findings (with Fix… where they have one).
fn show_hop(details: &gtk::ListBox, hop: &Hop, on_fix: &relm4::Sender<Finding>) {
    details.remove_all();
    let title = match &hop.name {
        Some(name) => format!("{} {name}", hop.title),
        None => hop.title.clone(),
    };
    let mut facts = hop.details.join("\n");
    if facts.is_empty() {
        facts = gettext("Nothing more is known about it");
    }
    let summary = plain_texts(
        adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
        &title,
        &facts,
    );
    summary.add_css_class("property");
    details.append(&summary);
    if let (HopStatus::Unknown, Some(why)) = (hop.status, &hop.unknown) {
        let row = plain_texts(
            adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
            &gettext("Not checked"),
            why,
        );
        row.add_css_class("property");
        details.append(&row);
    } else if hop.findings.is_empty() {
        let row = plain_texts(
            adw::ActionRow::builder().use_markup(false).build(),
            &gettext("No problems found here"),
            "",
        );
        let icon = gtk::Image::from_icon_name("object-select-symbolic");
        icon.add_css_class("success");
        icon.set_accessible_role(gtk::AccessibleRole::Presentation);
        row.add_prefix(&icon);
        details.append(&row);
    }
    for finding in &hop.findings {
        details.append(&finding_row::build(finding, &[], None, on_fix));
    }
    if hop.kind == HopKind::Internet {
        // Said here too: the host's view ends at its uplink.
        let row = plain_texts(
            adw::ActionRow::builder().use_markup(false).build(),
            &gettext("Prove it from inside the guest"),
            &gettext("“vmnet-doctor verify” runs the guide's checklist in the guest through its agent."),
        );
        details.append(&row);
    }
}

/// Ctrl+D: focus the selected hop of this (the first card's) path, which
/// scrolls it into view; reported for the GUI tests.
fn focus_shortcut(group: &adw::PreferencesGroup, view: &DataPathView, path: &Rc<DataPath>) {
    let controller = gtk::ShortcutController::new();
    controller.set_scope(gtk::ShortcutScope::Global);
    let (view, path) = (view.downgrade(), Rc::clone(path));
    let action = gtk::CallbackAction::new(move |_, _| {
        let Some(view) = view.upgrade().filter(|view| view.is_mapped()) else {
            return glib::Propagation::Proceed;
        };
        let buttons = view.hop_buttons();
        let selected = buttons.iter().find(|button| button.is_active()).or(buttons.first());
        if let Some(button) = selected {
            button.grab_focus();
        }
        report_shown(&path);
        glib::Propagation::Stop
    });
    let trigger = gtk::ShortcutTrigger::parse_string("<Control>d");
    controller.add_shortcut(gtk::Shortcut::new(trigger, Some(action)));
    group.add_controller(controller);
}

/// `data-path-shown VM guest=good card=error …` on stderr for the GUI
/// tests (`VMNET_DOCTOR_REPORT_STARTUP=1`).
fn report_shown(path: &DataPath) {
    if crate::startup::reporting() {
        let hops: Vec<String> =
            path.hops.iter().map(|hop| format!("{}={}", hop.kind.as_str(), hop.status.as_str())).collect();
        eprintln!("vmnet-doctor: data-path-shown {} {}", path.vm, hops.join(" "));
    }
}

#[cfg(test)]
mod tests {
    use super::table_elsewhere;

    #[test]
    fn the_nat_table_is_read_only_for_libvirt_on_this_machine() {
        assert_eq!(table_elsewhere("qemu:///system"), None);
        assert_eq!(table_elsewhere("qemu+unix:///system?socket=/run/libvirt/libvirt-sock"), None);
        assert!(table_elsewhere("test:///default").is_some());
        let remote = table_elsewhere("qemu+ssh://root@server.lan/system").unwrap_or_default();
        assert!(remote.contains("qemu+ssh://root@server.lan/system"), "{remote}");
    }
}
