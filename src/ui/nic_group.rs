//! One network card of a VM, as a group of property rows in
//! virt-manager's terms: network source, device model, link state, MAC
//! address, plus what only a running guest can tell (its interface name and
//! addresses).

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use vmnet_doctor_core::nic_model;
use vmnet_doctor_core::{DomainSnapshot, Interface, LinkState, Snapshot};

use crate::describe;
use crate::i18n::fill;
use crate::ui::nic_actions::{self, ActionSink};
use crate::ui::plain_texts::plain_texts;

/// Builds the group for the NIC at `index` (0-based) of `domain`, with
/// the menu of what the user can change about it.
pub fn build(
    index: usize,
    nic: &Interface,
    domain: &DomainSnapshot,
    snapshot: &Snapshot,
    on_action: &ActionSink,
) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_title(&fill(&gettext("Network Card {n}"), &[("n", &(index + 1).to_string())]));
    if let Some(alias) = &nic.alias {
        group.set_description(Some(alias));
    }
    if let Some(menu) = nic_actions::nic_menu(index, nic, domain, snapshot, on_action) {
        group.set_header_suffix(Some(&menu));
    }

    let source = property_row(&gettext("Network source"), &describe::interface_source(nic, snapshot));
    if let Some(status) = describe::network_status(nic, snapshot) {
        source.set_subtitle(&format!("{}\n{}", source.subtitle().unwrap_or_default(), status));
    }
    if nic.network_name().is_some_and(|name| !snapshot.network(name).is_some_and(|net| net.active)) {
        flag(&source, &gettext("The VM gets no address from a network that is not running"));
    }
    group.add(&source);

    group.add(&property_row(
        &gettext("Device model"),
        &describe::model(nic_model::effective(&domain.config, nic)),
    ));

    let link = property_row(&gettext("Link state"), &describe::link_state(nic.link_state));
    if nic.link_state == LinkState::Down {
        flag(&link, &gettext("The virtual cable is unplugged: the guest sees no carrier"));
    }
    group.add(&link);

    let mac = nic.mac.clone().unwrap_or_else(|| gettext("Not set"));
    group.add(&property_row(&gettext("MAC address"), &mac));

    if let Some(target) = &nic.target_dev {
        group.add(&property_row(&gettext("Host device"), target));
    }

    group.add(&property_row(
        &gettext("Guest interface"),
        &describe::guest_interface(domain, nic.mac.as_deref()),
    ));

    let addresses = nic.mac.as_deref().map(|mac| domain.addresses_for(mac)).unwrap_or_default();
    let addresses_text = if addresses.is_empty() {
        if domain.state.is_active() {
            gettext("None reported")
        } else {
            gettext("Unknown while the VM is not running")
        }
    } else {
        addresses
            .iter()
            .map(|(source, address)| {
                format!("{}/{} ({})", address.ip, address.prefix, describe::address_source(*source))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    group.add(&property_row(&gettext("IP addresses"), &addresses_text));
    group
}

/// A row whose subtitle is the value (libadwaita's `property` style),
/// selectable so MACs and addresses can be copied.
fn property_row(title: &str, value: &str) -> adw::ActionRow {
    let row = plain_texts(
        adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
        title,
        value,
    );
    row.add_css_class("property");
    row
}

/// Marks a row whose value breaks networking, with an error icon that
/// says why (tooltip and screen reader).
fn flag(row: &adw::ActionRow, why: &str) {
    let icon = gtk::Image::from_icon_name("dialog-error-symbolic");
    icon.add_css_class("error");
    icon.set_tooltip_text(Some(why));
    icon.update_property(&[gtk::accessible::Property::Label(why)]);
    row.add_suffix(&icon);
}

/// The group shown for a VM without any network card.
pub fn no_cards() -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Network Cards"));
    let row = plain_texts(
        adw::ActionRow::builder().use_markup(false).build(),
        &gettext("This VM has no network card"),
        &gettext("Add one in virt-manager (Add Hardware → Network) to give it a network."),
    );
    group.add(&row);
    group
}
