//! A card's NAT translation table, for real: the host's connection-tracking
//! entries for the card's addresses, read through the helper's read-only
//! `Connections` (refreshed on request, cancellable), next to the guide's
//! step-by-step packet flow with this VM's own addresses filled in, and the
//! host's security posture as checked statements.

use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::rc::Rc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::glib;
use vmnet_doctor_core::posture::Posture;
use vmnet_doctor_host::helper_api::{
    ClientError, ConnectionsReport, ConntrackEntry, HelperClient, ToolStatus,
};

use crate::i18n::fill;
use crate::ui::plain_texts::plain_texts;
use crate::ui::posture_group;

/// What the dialog shows about one card.
#[derive(Debug, Clone)]
pub struct CardTraffic {
    pub vm: String,
    /// Why this machine's connection tracking is not the VM's host's (the
    /// demo hypervisor, a remote connection); `None` when it is.
    pub elsewhere: Option<String>,
    pub running: bool,
    /// The card's IPv4 addresses, as the guest, its leases or ARP report them.
    pub addresses: Vec<IpAddr>,
    /// The guest's name for the card, when its agent said.
    pub guest_interface: Option<String>,
    pub bridge: Option<String>,
    /// The VM network's subnet, e.g. 192.168.122.0/24.
    pub subnet: Option<String>,
    /// The host's uplink and its IPv4 address, when known.
    pub uplink: Option<(String, Option<IpAddr>)>,
    pub posture: Posture,
}

/// The NAT table's state.
#[derive(Debug)]
enum Table {
    Loading,
    Loaded(ConnectionsReport),
    Failed(ClientError),
    Cancelled,
}

/// Opens the dialog over `parent` and reads the table at once.
pub fn present(parent: &impl IsA<gtk::Widget>, card: CardTraffic) {
    let dialog = adw::Dialog::builder()
        .title(fill(&gettext("Traffic of “{vm}”"), &[("vm", &card.vm)]))
        .content_width(720)
        .content_height(640)
        .build();
    let page = adw::PreferencesPage::new();

    let table_group = adw::PreferencesGroup::new();
    table_group.set_title(&gettext("NAT Translation Table"));
    table_group.set_description(Some(&gettext(
        "The host's connection tracking for this card: each connection the VM opened, and the address and port the internet sees it come from.",
    )));
    let rows = gtk::ListBox::builder().selection_mode(gtk::SelectionMode::None).build();
    rows.add_css_class("boxed-list");
    rows.update_property(&[gtk::accessible::Property::Label(&gettext("NAT translation table"))]);
    table_group.add(&rows);

    let refresh = gtk::Button::builder()
        .icon_name("view-refresh-symbolic")
        .tooltip_text(gettext("Read the table again"))
        .valign(gtk::Align::Center)
        .css_classes(["flat"])
        .build();
    refresh.update_property(&[gtk::accessible::Property::Label(&gettext("Refresh the NAT table"))]);
    let spinner = gtk::Spinner::builder().visible(false).build();
    spinner.update_property(&[gtk::accessible::Property::Label(&gettext("Reading the table…"))]);
    let cancel = gtk::Button::builder()
        .label(gettext("_Cancel"))
        .use_underline(true)
        .valign(gtk::Align::Center)
        .visible(false)
        .css_classes(["flat"])
        .build();
    let suffix = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    suffix.append(&spinner);
    suffix.append(&cancel);
    suffix.append(&refresh);
    table_group.set_header_suffix(Some(&suffix));
    page.add(&table_group);

    let flow_group = adw::PreferencesGroup::new();
    flow_group.set_title(&gettext("How a Packet Leaves and Comes Back"));
    flow_group.set_description(Some(&gettext("The guide's seven steps, with this VM's addresses.")));
    let flow_rows = gtk::ListBox::builder().selection_mode(gtk::SelectionMode::None).build();
    flow_rows.add_css_class("boxed-list");
    flow_rows.update_property(&[gtk::accessible::Property::Label(&gettext("Packet flow, step by step"))]);
    flow_group.add(&flow_rows);
    page.add(&flow_group);
    let security = adw::PreferencesPage::new();
    security.add(&posture_group::build(&card.posture));

    // Two pages: what this card's traffic does, and what the host lets in.
    let stack = adw::ViewStack::new();
    let traffic_page = stack.add_titled_with_icon(
        &page,
        Some("connections"),
        &gettext("_Connections"),
        "network-transmit-receive-symbolic",
    );
    traffic_page.set_use_underline(true);
    let security_page = stack.add_titled_with_icon(
        &security,
        Some("security"),
        &gettext("_Security"),
        "security-high-symbolic",
    );
    security_page.set_use_underline(true);
    let switcher = adw::ViewSwitcher::builder().stack(&stack).policy(adw::ViewSwitcherPolicy::Wide).build();
    let header = adw::HeaderBar::new();
    header.set_title_widget(Some(&switcher));

    let toolbar = adw::ToolbarView::new();
    toolbar.add_top_bar(&header);
    toolbar.set_content(Some(&stack));
    dialog.set_child(Some(&toolbar));
    if crate::startup::reporting() {
        // `security-page-shown VM ID=STATUS…` once the Security page is on screen.
        let line = posture_line(&card).replacen("posture-shown", "security-page-shown", 1);
        stack.connect_visible_child_name_notify(move |stack| {
            if stack.visible_child_name().as_deref() == Some("security") {
                report_when_shown(&security, line.clone());
            }
        });
    }

    let view = Rc::new(TableView {
        card,
        rows,
        flow_rows,
        refresh,
        cancel: cancel.clone(),
        spinner,
        task: RefCell::new(None),
        generation: Cell::new(0),
    });
    view.show_flow(None);
    {
        let view = Rc::clone(&view);
        view.refresh.clone().connect_clicked(move |_| TableView::read(&view));
    }
    {
        let view = Rc::clone(&view);
        cancel.connect_clicked(move |_| view.cancel());
    }
    {
        // Closing the dialog stops a read still under way.
        let view = Rc::clone(&view);
        dialog.connect_closed(move |_| view.cancel());
    }
    TableView::read(&view);
    // On the window, not the button: the VM page rebuilds its groups (and
    // this button) whenever libvirt reports a change.
    dialog.present(parent.as_ref().root().as_ref());
    if crate::startup::reporting() {
        report_when_shown(&toolbar, posture_line(&view.card));
    }
}

/// Prints `line` (a report for the GUI tests) once a frame showing
/// `widget` has been painted: that is when a user, and a test's screenshot,
/// sees it. Frames painted before it is laid out do not count; on a
/// software renderer the dialog's first frame can take a second.
fn report_when_shown(widget: &impl IsA<gtk::Widget>, line: String) {
    let Some(clock) = widget.frame_clock() else {
        eprintln!("vmnet-doctor: {line}");
        return;
    };
    let handler = Rc::new(Cell::new(None));
    let own_handler = Rc::clone(&handler);
    let line = RefCell::new(Some(line));
    let widget = widget.as_ref().downgrade();
    handler.set(Some(clock.connect_after_paint(move |clock| {
        if !widget.upgrade().is_some_and(|widget| widget.is_drawable() && widget.width() > 0) {
            return;
        }
        if let Some(line) = line.take() {
            eprintln!("vmnet-doctor: {line}");
        }
        if let Some(id) = own_handler.take() {
            clock.disconnect(id);
        }
    })));
}

/// `posture-shown VM ID=STATUS…`.
fn posture_line(card: &CardTraffic) -> String {
    let statements: Vec<String> = card
        .posture
        .statements
        .iter()
        .map(|statement| format!("{}={}", statement.id.as_str(), statement.status.as_str()))
        .collect();
    format!("posture-shown {} {}", card.vm, statements.join(" "))
}

#[derive(Debug)]
struct TableView {
    card: CardTraffic,
    rows: gtk::ListBox,
    flow_rows: gtk::ListBox,
    refresh: gtk::Button,
    cancel: gtk::Button,
    spinner: gtk::Spinner,
    /// The read under way (on relm4's tokio runtime, where zbus runs).
    task: RefCell<Option<tokio::task::AbortHandle>>,
    /// Counts reads, so the answer of one superseded by a refresh is dropped.
    generation: Cell<u64>,
}

impl TableView {
    /// Asks the helper for the table; says plainly when it cannot be asked.
    fn read(view: &Rc<Self>) {
        let card = &view.card;
        if let Some(why) = &card.elsewhere {
            view.show_message(why, None);
            report(&view.rows, card, "not-local");
            return;
        }
        if !card.running {
            view.show_message(&gettext("The VM is not running, so it has no connections."), None);
            report(&view.rows, card, "not-running");
            return;
        }
        if card.addresses.is_empty() {
            view.show_message(
                &gettext("No IPv4 address is known for this card, so its connections cannot be looked up."),
                Some(&gettext(
                    "The address comes from the guest agent, the network's DHCP leases or the host's ARP table; once the guest has one, refresh.",
                )),
            );
            report(&view.rows, card, "no-address");
            return;
        }
        view.cancel();
        let generation = view.generation.get() + 1;
        view.generation.set(generation);
        view.show(&Table::Loading);
        let addresses = card.addresses.clone();
        let handle = relm4::spawn(async move {
            let client = HelperClient::connect().await?;
            client.connections(&addresses).await
        });
        view.task.replace(Some(handle.abort_handle()));
        let view = Rc::clone(view);
        glib::spawn_future_local(async move {
            let result = handle.await;
            if view.generation.get() != generation {
                return;
            }
            view.task.replace(None);
            let table = match result {
                Ok(Ok(report)) => Table::Loaded(report),
                Ok(Err(error)) => Table::Failed(error),
                // Aborted by Cancel or by closing the dialog.
                Err(error) if error.is_cancelled() => Table::Cancelled,
                Err(error) => Table::Failed(ClientError::Other(error.to_string())),
            };
            view.show(&table);
        });
    }

    /// Stops the read under way, if any.
    fn cancel(&self) {
        if let Some(handle) = self.task.borrow().as_ref() {
            handle.abort();
        }
    }

    fn show(&self, table: &Table) {
        let loading = matches!(table, Table::Loading);
        self.spinner.set_visible(loading);
        self.spinner.set_spinning(loading);
        self.cancel.set_visible(loading);
        self.refresh.set_sensitive(!loading);
        match table {
            Table::Loading => {}
            Table::Cancelled => {
                self.show_message(
                    &gettext("Cancelled: the table was not read."),
                    Some(&gettext("Press Refresh to read it.")),
                );
                report(&self.rows, &self.card, "cancelled");
            }
            Table::Failed(error) => {
                let (message, hint) = failure_text(error, &self.card.addresses);
                self.show_message(&message, Some(&hint));
                report(&self.rows, &self.card, "failed");
            }
            Table::Loaded(report_) => self.show_report(report_),
        }
    }

    fn show_report(&self, report_: &ConnectionsReport) {
        self.rows.remove_all();
        match report_.status {
            ToolStatus::Ok => {}
            ToolStatus::NotInstalled => {
                let hint = gettext("Install conntrack (the “conntrack” package) on the host, then refresh.");
                self.show_message(
                    &gettext("The host has no conntrack tool to read the table with."),
                    Some(&hint),
                );
                report(&self.rows, &self.card, "no-conntrack");
                return;
            }
            ToolStatus::NotRun | ToolStatus::Failed => {
                let message =
                    fill(&gettext("conntrack failed: {error}"), &[("error", report_.message.trim())]);
                self.show_message(&message, None);
                report(&self.rows, &self.card, "failed");
                return;
            }
        }
        if report_.entries.is_empty() {
            let row = plain_row(
                &gettext("No connections right now"),
                &gettext(
                    "The table fills as soon as the VM opens a connection (a web page, an update); refresh then.",
                ),
            );
            self.rows.append(&row);
        }
        for entry in &report_.entries {
            self.rows.append(&entry_row(entry));
        }
        if report_.truncated > 0 {
            let more = fill(&gettext("{count} more not shown"), &[("count", &report_.truncated.to_string())]);
            self.rows.append(&plain_row(&more, ""));
        }
        let example = report_.entries.iter().find(|entry| entry.source_translated());
        self.show_flow(example);
        if crate::startup::reporting() {
            // The addresses NAT gave the connections: the lab checks its uplink's.
            let mut via: Vec<String> = Vec::new();
            for entry in report_.entries.iter().filter(|entry| entry.source_translated()) {
                let address = entry.translated_source().address.to_string();
                if !via.contains(&address) {
                    via.push(address);
                }
            }
            let via = if via.is_empty() { "-".to_owned() } else { via.join(",") };
            let line =
                format!("connections-shown {} via={via} entries={}", self.card.vm, report_.entries.len());
            report_when_shown(&self.rows, line);
        }
    }

    fn show_message(&self, message: &str, hint: Option<&str>) {
        self.rows.remove_all();
        self.rows.append(&plain_row(message, hint.unwrap_or_default()));
    }

    /// The guide's steps, with `example`'s addresses and ports when there is one.
    fn show_flow(&self, example: Option<&ConntrackEntry>) {
        self.flow_rows.remove_all();
        for (number, step) in packet_flow(&self.card, example).iter().enumerate() {
            let row =
                plain_texts(adw::ActionRow::builder().use_markup(false).title_lines(0).build(), step, "");
            let badge = gtk::Label::new(Some(&(number + 1).to_string()));
            badge.add_css_class("numeric");
            badge.add_css_class("dim-label");
            badge.set_width_chars(2);
            row.add_prefix(&badge);
            self.flow_rows.append(&row);
        }
    }
}

/// One entry: "tcp 192.168.122.50:54321 → 93.184.216.34:80", and what NAT
/// made of it.
fn entry_row(entry: &ConntrackEntry) -> adw::ActionRow {
    let title = format!("{} {} → {}", entry.protocol, entry.original.source, entry.original.destination);
    let mut facts = Vec::new();
    if entry.source_translated() {
        facts.push(fill(
            &gettext("seen outside as {address}"),
            &[("address", &entry.translated_source().to_string())],
        ));
    } else {
        facts.push(gettext("source not translated"));
    }
    if entry.destination_translated() {
        facts.push(fill(&gettext("forwarded to {address}"), &[("address", &entry.reply.source.to_string())]));
    }
    if let Some(state) = &entry.state {
        facts.push(state.clone());
    }
    if !entry.replied() {
        facts.push(gettext("no answer yet"));
    }
    plain_texts(
        adw::ActionRow::builder().use_markup(false).title_selectable(true).build(),
        &title,
        &facts.join(" · "),
    )
}

fn plain_row(title: &str, subtitle: &str) -> adw::ActionRow {
    let row = plain_texts(adw::ActionRow::builder().use_markup(false).title_lines(0).build(), title, "");
    if !subtitle.is_empty() {
        row.set_subtitle(subtitle);
    }
    row
}

/// The failure in words, and what to do, with the command to run by hand.
fn failure_text(error: &ClientError, addresses: &[IpAddr]) -> (String, String) {
    let by_hand: Vec<String> = addresses
        .iter()
        .map(|address| format!("sudo conntrack -L --orig-src {address} -o extended"))
        .collect();
    let by_hand = by_hand.join("\n");
    match error {
        ClientError::NotInstalled(_) | ClientError::NoSystemBus(_) => (
            gettext(
                "The VM Network Doctor helper is not installed, so the host's connection-tracking table cannot be read from here.",
            ),
            fill(
                &gettext(
                    "Install the helper (vmnet-doctor-helper: your distribution's package, or “sudo meson install -C _build”), or read the table yourself:\n{commands}",
                ),
                &[("commands", &by_hand)],
            ),
        ),
        ClientError::NotAuthorized(detail) | ClientError::Rejected(detail) => (
            fill(&gettext("The helper did not read the table: {detail}"), &[("detail", detail)]),
            fill(&gettext("Read it yourself:\n{commands}"), &[("commands", &by_hand)]),
        ),
        other => (
            fill(&gettext("The table could not be read: {detail}"), &[("detail", &other.to_string())]),
            fill(
                &gettext("Refresh to try again, or read it yourself:\n{commands}"),
                &[("commands", &by_hand)],
            ),
        ),
    }
}

/// The guide's "Packet Flow Explained Step-by-Step", with this card's
/// addresses (and an entry's ports, when one is at hand).
pub fn packet_flow(card: &CardTraffic, example: Option<&ConntrackEntry>) -> Vec<String> {
    let vm_address =
        card.addresses.first().map(ToString::to_string).unwrap_or_else(|| gettext("the VM's address"));
    let vm_end = example.map(|entry| entry.original.source.to_string()).unwrap_or_else(|| vm_address.clone());
    let server =
        example.map(|entry| entry.original.destination.to_string()).unwrap_or_else(|| gettext("a server"));
    let host_end = example.map(|entry| entry.translated_source().to_string()).unwrap_or_else(|| {
        match card.uplink.as_ref().and_then(|(_, address)| *address) {
            Some(address) => address.to_string(),
            None => gettext("the host's address"),
        }
    });
    let card_name = card.guest_interface.clone().unwrap_or_else(|| gettext("its network card"));
    let bridge = card.bridge.clone().unwrap_or_else(|| gettext("the bridge"));
    let subnet = card.subnet.clone().unwrap_or_else(|| gettext("the VM network"));
    let uplink = card.uplink.as_ref().map(|(name, _)| name.clone()).unwrap_or_else(|| gettext("the uplink"));
    let values = [
        ("vm", vm_end.as_str()),
        ("vm_address", vm_address.as_str()),
        ("server", server.as_str()),
        ("host", host_end.as_str()),
        ("card", card_name.as_str()),
        ("bridge", bridge.as_str()),
        ("subnet", subnet.as_str()),
        ("uplink", uplink.as_str()),
    ];
    [
        gettext("The VM sends a packet from {vm} to {server}, out of {card}."),
        gettext(
            "{bridge} receives it: {server} is not on {subnet}, so the host, the VMs' gateway, takes it.",
        ),
        gettext(
            "NAT replaces the source {vm} with {host} and records the pair in the translation table above.",
        ),
        gettext("The host forwards the packet out of {uplink} to its router and on to the internet."),
        gettext("The answer comes back from {server} to {host}."),
        gettext("NAT finds {host} in the table and changes the destination back to {vm}."),
        gettext("{bridge} hands the answer to the VM's card: {vm_address} receives it."),
    ]
    .iter()
    .map(|step| fill(step, &values))
    .collect()
}

/// `connections-unavailable VM WHY` for the GUI tests, once `rows` show it.
fn report(rows: &gtk::ListBox, card: &CardTraffic, why: &str) {
    if crate::startup::reporting() {
        report_when_shown(rows, format!("connections-unavailable {} {why}", card.vm));
    }
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_core::posture::Posture;
    use vmnet_doctor_host::helper_api::parse_conntrack;

    use super::{CardTraffic, packet_flow};

    /// The guide's example connection, as `conntrack -L -o extended` prints it.
    const GUIDE: &str = "ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.122.50 dst=93.184.216.34 sport=54321 dport=80 src=93.184.216.34 dst=192.168.0.42 sport=80 dport=49152 [ASSURED] mark=0 use=1";

    fn card() -> Result<CardTraffic, std::net::AddrParseError> {
        Ok(CardTraffic {
            vm: "vm".to_owned(),
            elsewhere: None,
            running: true,
            addresses: vec!["192.168.122.50".parse()?],
            guest_interface: Some("enp1s0".to_owned()),
            bridge: Some("virbr0".to_owned()),
            subnet: Some("192.168.122.0/24".to_owned()),
            uplink: Some(("wlan0".to_owned(), Some("192.168.0.42".parse()?))),
            posture: Posture { statements: Vec::new() },
        })
    }

    #[test]
    fn the_guides_steps_carry_the_entrys_addresses_and_ports() -> Result<(), Box<dyn std::error::Error>> {
        let parsed = parse_conntrack(GUIDE);
        let entry = parsed.entries.first().ok_or("the guide's line parses")?;
        let steps = packet_flow(&card()?, Some(entry));
        assert_eq!(steps.len(), 7);
        assert_eq!(
            steps[0],
            "The VM sends a packet from 192.168.122.50:54321 to 93.184.216.34:80, out of enp1s0."
        );
        assert!(steps[2].contains("192.168.122.50:54321 with 192.168.0.42:49152"), "{}", steps[2]);
        assert!(steps[3].contains("wlan0"), "{}", steps[3]);
        assert!(steps[5].contains("192.168.0.42:49152") && steps[5].ends_with("192.168.122.50:54321."));
        Ok(())
    }

    #[test]
    fn without_an_entry_the_steps_use_the_cards_own_addresses() -> Result<(), Box<dyn std::error::Error>> {
        let steps = packet_flow(&card()?, None);
        assert!(
            steps[0].starts_with("The VM sends a packet from 192.168.122.50 to a server"),
            "{}",
            steps[0]
        );
        assert!(steps[2].contains("with 192.168.0.42 "), "{}", steps[2]);
        let mut unknown = card()?;
        unknown.uplink = None;
        unknown.guest_interface = None;
        let steps = packet_flow(&unknown, None);
        assert!(steps[2].contains("the host's address"), "{}", steps[2]);
        assert!(steps[0].ends_with("out of its network card."), "{}", steps[0]);
        Ok(())
    }
}
