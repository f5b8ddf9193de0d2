//! Connect to Network…: the connection's virtual networks with their
//! state, the card's current one marked; picking one plans the move. What
//! leaving the current network, or joining one that is not running, means
//! is said before anything changes. The dialog that shows it (the VM
//! action dialog) passes the messages its buttons and rows send.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{Component, ComponentSender};
use vmnet_doctor_libvirt::LibvirtFix;

use crate::i18n::fill;
use crate::ui::dialog_page::{Page, button, button_row, heading, page_box, text, with_buttons};
use crate::ui::nic_actions::NetworkChoice;
use crate::ui::plain_texts::plain_texts;

/// The chooser for the card `choice.mac` of `vm`: Cancel sends `close()`,
/// picking a network sends `plan(the move, a note to show beside its plan)`.
pub fn page<C: Component>(
    choice: &NetworkChoice,
    vm: &str,
    sender: &ComponentSender<C>,
    close: impl Fn() -> C::Input + 'static,
    plan: impl Fn(LibvirtFix, Option<String>) -> C::Input + Clone + 'static,
) -> Page {
    let body = page_box();
    body.append(&heading(&fill(&gettext("Choose a virtual network for {card}"), &[("card", &choice.card)])));
    body.append(&text(&fill(&gettext("Now: {source}"), &[("source", &choice.current_source)])));
    if let Some(current) = &choice.current_network {
        body.append(&text(&fill(
            &gettext(
                "Moving the card off “{network}” disconnects the guest from it: its address there goes away, connections in progress break, and the guest asks the new network for an address (DHCP).",
            ),
            &[("network", current)],
        )));
    }
    let close = button(&gettext("_Cancel"), sender, close);
    if choice.networks.is_empty() {
        body.append(&text(&gettext(
            "This connection has no virtual network. Define one first: the Host page offers the guide's “default” network.",
        )));
        return Page { widget: with_buttons(&body, &button_row(&[&close])), focus: Some(close.upcast()) };
    }

    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Virtual Networks"));
    let mut first = None;
    for network in &choice.networks {
        let row = plain_texts(adw::ActionRow::builder().use_markup(false).build(), &network.name, "");
        if choice.current_network.as_deref() == Some(network.name.as_str()) {
            row.set_subtitle(&fill(
                &gettext("{mode} · The card's current network"),
                &[("mode", &network.mode)],
            ));
            let icon = gtk::Image::from_icon_name("object-select-symbolic");
            icon.update_property(&[gtk::accessible::Property::Label(&gettext("Current network"))]);
            row.add_suffix(&icon);
        } else {
            let state = if network.active {
                gettext("Running")
            } else {
                gettext("Not running: the card gets no address from it until it is started")
            };
            row.set_subtitle(&format!("{} · {state}", network.mode));
            row.set_activatable(true);
            row.add_suffix(&gtk::Image::from_icon_name("go-next-symbolic"));
            let fix = LibvirtFix::MoveNicToNetwork {
                vm: vm.to_owned(),
                mac: choice.mac.clone(),
                network: network.name.clone(),
            };
            let note = (!network.active).then(|| {
                fill(
                    &gettext(
                        "The network “{network}” is not running: the card gets no address from it until it is started (Host page, or virsh net-start {network}).",
                    ),
                    &[("network", &network.name)],
                )
            });
            let sender = sender.clone();
            let plan = plan.clone();
            row.connect_activated(move |_| {
                sender.input(plan(fix.clone(), note.clone()));
            });
            first.get_or_insert_with(|| row.clone());
        }
        group.add(&row);
    }
    body.append(&group);
    let page = with_buttons(&body, &button_row(&[&close]));
    // The first network one can pick takes the focus; Enter picks it.
    let focus = first.map_or_else(|| close.upcast(), Cast::upcast);
    Page { widget: page, focus: Some(focus) }
}
