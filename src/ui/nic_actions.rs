//! The changes a user can make from the VM page, beyond fixing findings:
//! each network card's link, model and network, and the VM's guest agent
//! channel and restart. Menus in the groups' headers (they fit in 360 px,
//! unlike rows of buttons); each item asks the VM action dialog
//! (`vm_action_dialog`) to plan, show and apply the change through libvirt.

use std::rc::Rc;

use gettextrs::gettext;
use relm4::adw::prelude::*;
use relm4::gtk::{self, gio};
use vmnet_doctor_core::{DomainSnapshot, Interface, LinkState, Snapshot};
use vmnet_doctor_libvirt::LibvirtFix;

use crate::describe;
use crate::i18n::fill;

/// Where the VM page's menus send what the user picked (to the window,
/// which opens the dialog).
#[derive(Clone)]
pub struct ActionSink(Rc<dyn Fn(VmActionRequest)>);

impl ActionSink {
    pub fn new(deliver: impl Fn(VmActionRequest) + 'static) -> Self {
        Self(Rc::new(deliver))
    }

    fn emit(&self, request: VmActionRequest) {
        (self.0)(request);
    }
}

impl std::fmt::Debug for ActionSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActionSink")
    }
}

/// What the user picked, for one VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmActionRequest {
    pub vm: String,
    pub action: VmAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmAction {
    /// A change of the VM's definition, planned and shown before it is made.
    Change(LibvirtFix),
    /// Pick a virtual network for the card `mac`, then move it there.
    ChooseNetwork(Box<NetworkChoice>),
    /// Shut the VM down and start it again (a change waiting for the next
    /// boot then takes effect).
    Restart,
    /// Start the shut-off VM.
    Start,
}

/// What the network chooser shows: the card, where it is now, and every
/// virtual network of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkChoice {
    pub mac: String,
    /// "Network Card 1".
    pub card: String,
    /// The virtual network the card is on now, if it is on one.
    pub current_network: Option<String>,
    /// Where it is connected now, in words (virt-manager's "Network source").
    pub current_source: String,
    pub networks: Vec<NetworkOption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkOption {
    pub name: String,
    pub active: bool,
    /// Its forward mode in words ("NAT", "Isolated network"…).
    pub mode: String,
}

/// One menu item: its action's name, its label, what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub name: &'static str,
    pub label: String,
    pub action: VmAction,
}

impl MenuItem {
    fn new(name: &'static str, label: String, action: VmAction) -> Self {
        Self { name, label, action }
    }
}

/// What can be changed about the card at `index` (0-based); nothing for a
/// card without a MAC address (libvirt always writes one, so only a
/// hand-made XML lacks it).
pub fn nic_items(
    index: usize,
    nic: &Interface,
    domain: &DomainSnapshot,
    snapshot: &Snapshot,
) -> Vec<MenuItem> {
    let Some(mac) = nic.mac.clone() else {
        return Vec::new();
    };
    let vm = domain.name().to_owned();
    let mut items = Vec::new();
    // virt-manager's "Link state: active" checkbox, as a cable.
    if nic.link_state == LinkState::Down {
        let fix = LibvirtFix::SetLinkUp { vm: vm.clone(), mac: mac.clone() };
        items.push(MenuItem::new("link-up", gettext("_Connect Cable"), VmAction::Change(fix)));
    } else {
        let fix = LibvirtFix::SetLinkDown { vm: vm.clone(), mac: mac.clone() };
        items.push(MenuItem::new("link-down", gettext("_Disconnect Cable"), VmAction::Change(fix)));
    }
    if nic.model.as_deref() != Some("virtio") {
        let fix = LibvirtFix::SetNicModel { vm, mac: mac.clone(), model: "virtio".to_owned() };
        items.push(MenuItem::new("model-virtio", gettext("Use _virtio Model"), VmAction::Change(fix)));
    }
    let choice = NetworkChoice {
        mac,
        card: card_name(index),
        current_network: nic.network_name().map(str::to_owned),
        current_source: describe::interface_source(nic, snapshot),
        networks: snapshot
            .networks
            .iter()
            .map(|network| NetworkOption {
                name: network.name().to_owned(),
                active: network.active,
                mode: describe::forward_mode(&network.config.forward),
            })
            .collect(),
    };
    let choose = VmAction::ChooseNetwork(Box::new(choice));
    items.push(MenuItem::new("choose-network", gettext("Connect to _Network…"), choose));
    items
}

/// What can be done with the VM itself: the guest agent channel when it
/// lacks one, and a restart (or a start when it is shut off).
pub fn vm_items(domain: &DomainSnapshot) -> Vec<MenuItem> {
    let mut items = Vec::new();
    if domain.config.guest_agent_channel.is_none() {
        let fix = LibvirtFix::AddGuestAgentChannel { vm: domain.name().to_owned() };
        items.push(MenuItem::new(
            "add-agent-channel",
            gettext("Add _Guest Agent Channel"),
            VmAction::Change(fix),
        ));
    }
    if domain.state.is_active() {
        items.push(MenuItem::new("restart", gettext("_Restart…"), VmAction::Restart));
    } else {
        items.push(MenuItem::new("start", gettext("_Start"), VmAction::Start));
    }
    items
}

fn card_name(index: usize) -> String {
    fill(&gettext("Network Card {n}"), &[("n", &(index + 1).to_string())])
}

/// The header menu of the card at `index`; `None` when nothing can be
/// changed (see [`nic_items`]).
pub fn nic_menu(
    index: usize,
    nic: &Interface,
    domain: &DomainSnapshot,
    snapshot: &Snapshot,
    on_action: &ActionSink,
) -> Option<gtk::MenuButton> {
    let items = nic_items(index, nic, domain, snapshot);
    if items.is_empty() {
        return None;
    }
    let name = fill(&gettext("Change {card}"), &[("card", &card_name(index))]);
    Some(ActionMenu::new("nic", domain.name(), on_action, items).button(&gettext("C_hange"), &name))
}

/// The VM's own header menu (see [`vm_items`]).
/// A single action is a plain button: in a one-item popover menu, Down
/// takes the keyboard focus away from the item (GTK 4.18), and Enter then
/// does nothing.
pub fn vm_menu(domain: &DomainSnapshot, on_action: &ActionSink) -> gtk::Widget {
    let vm = domain.name();
    let mut items = vm_items(domain);
    if items.len() == 1
        && let Some(MenuItem { label, action, .. }) = items.pop()
    {
        let button =
            gtk::Button::builder().label(&label).use_underline(true).valign(gtk::Align::Center).build();
        button.add_css_class("flat");
        let request = VmActionRequest { vm: vm.to_owned(), action };
        let name = title(&request);
        button.set_tooltip_text(Some(&name));
        // The label's relation would outrank the name that says which VM.
        button.reset_relation(gtk::AccessibleRelation::LabelledBy);
        button.update_property(&[gtk::accessible::Property::Label(&name)]);
        let sink = on_action.clone();
        button.connect_clicked(move |_| sink.emit(request.clone()));
        return button.upcast();
    }
    let menu = ActionMenu::new("vm", vm, on_action, items);
    menu.button(&gettext("_Actions"), &fill(&gettext("Actions for “{vm}”"), &[("vm", vm)])).upcast()
}

/// A menu whose items are actions of its own group (`PREFIX.NAME`), each
/// sending one request about one VM.
struct ActionMenu {
    prefix: &'static str,
    vm: String,
    actions: gio::SimpleActionGroup,
    menu: gio::Menu,
    on_action: ActionSink,
}

impl ActionMenu {
    fn new(prefix: &'static str, vm: &str, on_action: &ActionSink, items: Vec<MenuItem>) -> Self {
        let menu = Self {
            prefix,
            vm: vm.to_owned(),
            actions: gio::SimpleActionGroup::new(),
            menu: gio::Menu::new(),
            on_action: on_action.clone(),
        };
        for item in items {
            menu.add(item);
        }
        menu
    }

    fn add(&self, item: MenuItem) {
        let MenuItem { name, label, action } = item;
        let entry = gio::SimpleAction::new(name, None);
        let (sink, vm) = (self.on_action.clone(), self.vm.clone());
        entry.connect_activate(move |_, _| {
            sink.emit(VmActionRequest { vm: vm.clone(), action: action.clone() });
        });
        self.actions.add_action(&entry);
        self.menu.append(Some(&label), Some(&format!("{}.{name}", self.prefix)));
    }

    /// A flat button with a text label (its mnemonic reaches it from the
    /// keyboard) and the menu's arrow; `name` says what it acts on, for
    /// screen readers and as its tooltip.
    fn button(self, label: &str, name: &str) -> gtk::MenuButton {
        let button = gtk::MenuButton::builder()
            .label(label)
            .use_underline(true)
            .always_show_arrow(true)
            .valign(gtk::Align::Center)
            .tooltip_text(name)
            .build();
        button.add_css_class("flat");
        button.update_property(&[gtk::accessible::Property::Label(name)]);
        button.insert_action_group(self.prefix, Some(&self.actions));
        crate::ui::menu_names::menu_made_when_opened(&button, &self.menu);
        button
    }
}

/// What a change does, in words, before its libvirt details.
pub fn change_text(fix: &LibvirtFix) -> String {
    match fix {
        LibvirtFix::SetLinkDown { mac, .. } => fill(
            &gettext(
                "Disconnect the virtual cable of the network card {mac}: the guest sees its link go down (no carrier), as if the cable were pulled. The card and its settings stay; Connect Cable plugs it back in.",
            ),
            &[("mac", mac)],
        ),
        LibvirtFix::SetLinkUp { mac, .. } => fill(
            &gettext("Connect the virtual cable of the network card {mac} (link state active)."),
            &[("mac", mac)],
        ),
        LibvirtFix::SetNicModel { mac, model, .. } => fill(
            &gettext(
                "Give the network card {mac} the {model} model: the fastest one, which Linux guests support out of the box. A Windows guest needs the virtio drivers (virtio-win) installed first, or it loses this card.",
            ),
            &[("mac", mac), ("model", model)],
        ),
        LibvirtFix::MoveNicToNetwork { mac, network, .. } => fill(
            &gettext(
                "Connect the network card {mac} to the virtual network “{network}”, keeping its MAC address and model.",
            ),
            &[("mac", mac), ("network", network)],
        ),
        LibvirtFix::AddGuestAgentChannel { vm } => fill(
            &gettext(
                "Add the guest agent channel (org.qemu.guest_agent.0) to “{vm}”. Inside the guest, the qemu-guest-agent package must be installed and running to answer on it.",
            ),
            &[("vm", vm)],
        ),
        other => describe_other(other),
    }
}

/// Changes not offered on the VM page; said plainly should one come here.
fn describe_other(fix: &LibvirtFix) -> String {
    fill(&gettext("Change “{vm}”"), &[("vm", fix.vm().unwrap_or_default())])
}

/// The dialog's title for a request.
pub fn title(request: &VmActionRequest) -> String {
    match &request.action {
        VmAction::Change(LibvirtFix::SetLinkDown { .. }) => gettext("Disconnect Cable"),
        VmAction::Change(LibvirtFix::SetLinkUp { .. }) => gettext("Connect Cable"),
        VmAction::Change(LibvirtFix::SetNicModel { .. }) => gettext("Use virtio Model"),
        VmAction::Change(LibvirtFix::MoveNicToNetwork { .. }) | VmAction::ChooseNetwork(_) => {
            gettext("Connect to Network")
        }
        VmAction::Change(LibvirtFix::AddGuestAgentChannel { .. }) => gettext("Add Guest Agent Channel"),
        VmAction::Change(_) => gettext("Change the VM"),
        VmAction::Restart => fill(&gettext("Restart “{vm}”"), &[("vm", &request.vm)]),
        VmAction::Start => fill(&gettext("Start “{vm}”"), &[("vm", &request.vm)]),
    }
}

/// A short stable name for the GUI tests' reports (`vm-action-shown KIND`).
pub fn kind(action: &VmAction) -> &'static str {
    match action {
        VmAction::Change(LibvirtFix::SetLinkDown { .. }) => "link-down",
        VmAction::Change(LibvirtFix::SetLinkUp { .. }) => "link-up",
        VmAction::Change(LibvirtFix::SetNicModel { .. }) => "model",
        VmAction::Change(LibvirtFix::MoveNicToNetwork { .. }) => "network",
        VmAction::Change(LibvirtFix::AddGuestAgentChannel { .. }) => "agent-channel",
        VmAction::Change(_) => "change",
        VmAction::ChooseNetwork(_) => "choose-network",
        VmAction::Restart => "restart",
        VmAction::Start => "start",
    }
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_libvirt::Hypervisor;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// The demo hypervisor through libvirt's test driver, as the app shows it.
    fn demo() -> Result<Snapshot, Box<dyn std::error::Error>> {
        Ok(Hypervisor::open_blocking(&crate::connections::demo_uri())?.snapshot_blocking()?)
    }

    fn names(items: &[MenuItem]) -> Vec<&str> {
        items.iter().map(|item| item.name).collect()
    }

    #[test]
    fn a_cards_menu_offers_what_would_change_it() -> TestResult {
        let snapshot = demo()?;
        let win11 = snapshot.domain("win11").ok_or("no win11")?;
        let nic = win11.interfaces().first().ok_or("no NIC")?;
        // e1000, cable connected.
        let items = nic_items(0, nic, win11, &snapshot);
        assert_eq!(names(&items), ["link-down", "model-virtio", "choose-network"]);
        let mac = nic.mac.clone().ok_or("no MAC")?;
        let want = LibvirtFix::SetNicModel { vm: "win11".into(), mac, model: "virtio".into() };
        assert_eq!(items.get(1).map(|item| &item.action), Some(&VmAction::Change(want)));

        // virtio, cable disconnected: plug it in; no model change.
        let ubuntu = snapshot.domain("ubuntu-server").ok_or("no ubuntu-server")?;
        let nic = ubuntu.interfaces().first().ok_or("no NIC")?;
        assert_eq!(names(&nic_items(0, nic, ubuntu, &snapshot)), ["link-up", "choose-network"]);
        Ok(())
    }

    #[test]
    fn the_network_chooser_lists_every_network_with_its_state() -> TestResult {
        let snapshot = demo()?;
        let win11 = snapshot.domain("win11").ok_or("no win11")?;
        let nic = win11.interfaces().first().ok_or("no NIC")?;
        let items = nic_items(0, nic, win11, &snapshot);
        let Some(VmAction::ChooseNetwork(choice)) = items.last().map(|item| &item.action) else {
            return Err("no network chooser".into());
        };
        assert_eq!(choice.current_network.as_deref(), Some("default"));
        let listed: Vec<(&str, bool)> =
            choice.networks.iter().map(|network| (network.name.as_str(), network.active)).collect();
        let want: Vec<(&str, bool)> =
            snapshot.networks.iter().map(|network| (network.name(), network.active)).collect();
        assert_eq!(listed, want);
        assert!(
            listed.contains(&("lab-nat", false)),
            "the demo's stopped network is offered, marked: {listed:?}"
        );
        Ok(())
    }

    #[test]
    fn the_vm_menu_adds_the_agent_channel_only_when_missing() -> TestResult {
        let snapshot = demo()?;
        let rocky = snapshot.domain("rocky9").ok_or("no rocky9")?;
        assert_eq!(names(&vm_items(rocky)), ["add-agent-channel", "restart"]);
        let win11 = snapshot.domain("win11").ok_or("no win11")?;
        assert_eq!(names(&vm_items(win11)), ["restart"]);
        let off = snapshot.domain("opensuse-tumbleweed").ok_or("no opensuse-tumbleweed")?;
        assert_eq!(names(&vm_items(off)), ["start"]);
        Ok(())
    }
}
