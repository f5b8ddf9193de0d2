//! The Host page: the machine libvirt runs on, as far as VM networking
//! goes — IPv4 forwarding and the default route, what is wrong with the
//! host and its virtual networks (each finding with its fix), every libvirt
//! network with its DHCP leases, and the firewall's verdict on the guests'
//! traffic.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{ComponentParts, ComponentSender, SimpleComponent};
use vmnet_doctor_core::host::{HostFacts, Route, RouteTable};
use vmnet_doctor_core::{Fact, Finding, ForwardMode, Snapshot, Subject, verdict};

use crate::connections;
use crate::i18n::fill;
use crate::ui::fact_row::{self, Health};
use crate::ui::groups_page::GroupsPage;
use crate::ui::plain_texts::plain_texts;
use crate::ui::verdict_group::{self, PageRequest};
use crate::ui::{finding_row, firewall_group, network_row};
use crate::verdict_words::Whose;

#[derive(Debug)]
pub struct HostPage {
    page: GroupsPage,
    /// Each network's row, so a row the user opened stays open when the
    /// next snapshot (a refresh, a libvirt event) rebuilds the page.
    network_rows: Vec<(String, adw::ExpanderRow)>,
    /// Where Fix… buttons send their finding (to the output).
    on_fix: relm4::Sender<Finding>,
}

/// What the page shows: the snapshot, its findings (all of them; the page
/// keeps those about the host and its networks) and the connection's name.
#[derive(Debug)]
pub struct HostView {
    pub snapshot: Arc<Snapshot>,
    pub findings: Vec<Finding>,
    pub connection: String,
    /// The host's own facts are still being read.
    pub host_pending: bool,
}

#[derive(Debug)]
pub enum HostPageMsg {
    Show(Box<HostView>),
    Clear,
}

impl SimpleComponent for HostPage {
    type Init = ();
    type Input = HostPageMsg;
    /// A finding's Fix… button, or Fix All…, was pressed.
    type Output = PageRequest;
    type Root = gtk::Stack;
    type Widgets = ();

    fn init_root() -> gtk::Stack {
        gtk::Stack::new()
    }

    fn init(_: (), root: gtk::Stack, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let status = GroupsPage::status("network-server-symbolic", &gettext("No Connection"), None);
        let on_fix = verdict_group::fix_sender(sender.output_sender());
        let model = HostPage { page: GroupsPage::new(&root, &status), network_rows: Vec::new(), on_fix };
        ComponentParts { model, widgets: () }
    }

    fn update(&mut self, msg: HostPageMsg, sender: ComponentSender<Self>) {
        match msg {
            HostPageMsg::Show(view) => {
                let HostView { snapshot, findings, connection, host_pending } = *view;
                let findings: Vec<Finding> =
                    findings.into_iter().filter(|f| is_about_host(&f.subject)).collect();
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let now = i64::try_from(now).unwrap_or(i64::MAX);
                let open: Vec<String> = self
                    .network_rows
                    .iter()
                    .filter(|(_, row)| row.is_expanded())
                    .map(|(name, _)| name.clone())
                    .collect();
                let (networks, network_rows) = networks(&snapshot, &findings, now, &open);
                self.network_rows = network_rows;
                let verdict = verdict_group::build(
                    Whose::Host,
                    verdict(&snapshot, &findings),
                    host_pending,
                    &findings,
                    &self.on_fix,
                    sender.output_sender(),
                );
                let groups: Vec<adw::PreferencesGroup> = [verdict, overview(&snapshot, &connection)]
                    .into_iter()
                    .chain(problems(&snapshot, &findings, &self.on_fix))
                    .chain([networks, firewall_group::build(&snapshot)])
                    .collect();
                self.page.show(&groups);
            }
            HostPageMsg::Clear => {
                self.page.clear();
                self.network_rows.clear();
            }
        }
    }
}

/// Says on stderr that the page is on screen, for the GUI tests
/// (`VMNET_DOCTOR_REPORT_STARTUP=1`, as `crate::startup` reports).
pub fn report_shown(snapshot: &Snapshot, findings: &[Finding]) {
    if std::env::var_os("VMNET_DOCTOR_REPORT_STARTUP").is_some() {
        let problems = findings.iter().filter(|f| is_about_host(&f.subject)).count();
        let host = if snapshot.host.known().is_some() { "known" } else { "unknown" };
        eprintln!(
            "vmnet-doctor: host-page-shown networks={} findings={problems} host={host}",
            snapshot.networks.len()
        );
    }
}

/// Findings this page lists: the host's and its virtual networks'.
pub fn is_about_host(subject: &Subject) -> bool {
    matches!(subject, Subject::Host | Subject::Network { .. })
}

/// The host itself: its name, the connection, IPv4 forwarding, the uplink.
fn overview(snapshot: &Snapshot, connection: &str) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    match &snapshot.hostname {
        Some(hostname) => group.set_title(&fill(&gettext("Host “{name}”"), &[("name", hostname)])),
        None => group.set_title(&gettext("Host")),
    }
    // The demo's URI is only the path of its file in this installation.
    let connection = if connections::is_demo(&snapshot.uri) {
        connection.to_owned()
    } else {
        format!("{connection}\n{}", snapshot.uri)
    };
    group.add(&fact_row::build(&gettext("Connection"), &connection, Health::Neutral));
    let host = match &snapshot.host {
        Fact::Known(host) => host,
        Fact::Unknown(why) => {
            // The reason is a sentence of its own (the demo, a remote host, Flatpak).
            group.set_description(Some(why));
            for title in [gettext("IPv4 forwarding"), gettext("Default route")] {
                group.add(&fact_row::build(&title, &gettext("Unknown"), Health::Unknown));
            }
            return group;
        }
    };
    if connections::is_demo(&snapshot.uri) {
        group.set_description(Some(&crate::demo_host::recording_note()));
    }
    let (forwarding, health) = ipv4_forwarding(snapshot, host);
    group.add(&fact_row::build(&gettext("IPv4 forwarding"), &forwarding, health));
    let (route, health) = default_route(host);
    group.add(&fact_row::build(&gettext("Default route"), &route, health));
    group
}

/// IPv4 forwarding, bad only when a running NAT or routed network needs it.
fn ipv4_forwarding(snapshot: &Snapshot, host: &HostFacts) -> (String, Health) {
    let needed = snapshot
        .networks
        .iter()
        .any(|n| n.active && matches!(n.config.forward, ForwardMode::Nat | ForwardMode::Route));
    match &host.ipv4_forward {
        Fact::Known(true) => (gettext("On"), Health::Good),
        Fact::Known(false) if needed => (
            gettext("Off: guests of NAT and routed networks reach the host but nothing beyond it"),
            Health::Bad,
        ),
        Fact::Known(false) => (gettext("Off; no running NAT or routed network needs it"), Health::Neutral),
        Fact::Unknown(why) => (fill(&gettext("Unknown: {why}"), &[("why", why)]), Health::Unknown),
    }
}

/// The default routes VM traffic leaves by, as the policy rules choose
/// them (the one in use first), with the table of one outside the main
/// table (a VPN's).
fn default_route(host: &HostFacts) -> (String, Health) {
    if let Fact::Unknown(why) = &host.routes {
        return (fill(&gettext("Unknown: {why}"), &[("why", why)]), Health::Unknown);
    }
    let (v4, v6) = (host.exit_routes(false, None), host.exit_routes(true, None));
    let defaults: Vec<String> = v4.iter().chain(&v6).map(|route| describe_route(route)).collect();
    let mut text = if defaults.is_empty() {
        gettext("None: the host has no way to the internet")
    } else {
        defaults.join("\n")
    };
    if !defaults.is_empty() && v4.is_empty() {
        text.push('\n');
        text.push_str(&gettext("No IPv4 default route: NAT networks cannot reach the internet"));
    }
    if let Fact::Unknown(why) = &host.rules {
        text.push('\n');
        text.push_str(&fill(&gettext("Policy routing unknown: {why}"), &[("why", why)]));
    }
    (text, if v4.is_empty() { Health::Bad } else { Health::Good })
}

fn describe_route(route: &Route) -> String {
    let text = match route.gateway {
        Some(gateway) => fill(
            &gettext("via {gateway} on {device}"),
            &[("gateway", &gateway.to_string()), ("device", &route.dev)],
        ),
        None => fill(&gettext("on {device}"), &[("device", &route.dev)]),
    };
    if route.table == RouteTable::MAIN {
        return text;
    }
    fill(
        &gettext("{route} (routing table {table})"),
        &[("route", &text), ("table", &route.table.to_string())],
    )
}

/// What is wrong with the host and its networks, most severe first, each
/// cause with what it explains inside; nothing when all is well (the
/// verdict above says so, and what was checked).
fn problems(
    snapshot: &Snapshot,
    findings: &[Finding],
    on_fix: &relm4::Sender<Finding>,
) -> Option<adw::PreferencesGroup> {
    if findings.is_empty() {
        return None;
    }
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Problems"));
    finding_row::add_grouped(&group, snapshot, findings, None, on_fix);
    Some(group)
}

/// The group of virtual networks and each network's row; the rows of
/// `open` networks start expanded.
fn networks(
    snapshot: &Snapshot,
    findings: &[Finding],
    now: i64,
    open: &[String],
) -> (adw::PreferencesGroup, Vec<(String, adw::ExpanderRow)>) {
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Virtual Networks"));
    let mut rows = Vec::new();
    if snapshot.networks.is_empty() {
        let row = plain_texts(
            adw::ActionRow::builder().use_markup(false).build(),
            &gettext("This connection has no virtual networks"),
            &gettext("VMs can still use a host bridge, macvtap or user-mode networking."),
        );
        group.add(&row);
    }
    for network in &snapshot.networks {
        let own: Vec<Finding> = findings
            .iter()
            .filter(|f| matches!(&f.subject, Subject::Network { name } if name == network.name()))
            .cloned()
            .collect();
        let row = network_row::build(network, &own, now);
        row.set_expanded(open.iter().any(|name| name == network.name()));
        group.add(&row);
        rows.push((network.name().to_owned(), row));
    }
    (group, rows)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use vmnet_doctor_core::host::{RouteKind, RoutingRule};

    use super::*;

    fn facts(routes: Vec<Route>, rules: Fact<Vec<RoutingRule>>) -> HostFacts {
        HostFacts { routes: Fact::Known(routes), rules, ..HostFacts::unknown("not read in this test") }
    }

    fn lookup(priority: u32, table: RouteTable) -> RoutingRule {
        RoutingRule::lookup(false, priority, table)
    }

    #[test]
    fn the_default_route_shows_a_vpns_table_and_what_was_not_read() {
        let any = IpAddr::from([0, 0, 0, 0]);
        let main = Route::main(any, 0, Some(IpAddr::from([10, 0, 2, 2])), "eth0");
        let vpn = Route { table: RouteTable(51820), ..Route::main(any, 0, None, "wg0") };
        let rules = vec![
            RoutingRule { suppress_prefixlength: Some(0), ..lookup(32764, RouteTable::MAIN) },
            RoutingRule { not: true, fwmark: Some((0xca6c, u32::MAX)), ..lookup(32765, RouteTable(51820)) },
            lookup(32766, RouteTable::MAIN),
        ];
        let (text, health) = default_route(&facts(vec![main.clone(), vpn], Fact::Known(rules)));
        assert_eq!((text.as_str(), health), ("on wg0 (routing table 51820)", Health::Good));
        let (text, health) =
            default_route(&facts(vec![main.clone()], Fact::Unknown("ip is not installed".to_owned())));
        assert_eq!(health, Health::Good);
        assert_eq!(text, "via 10.0.2.2 on eth0\nPolicy routing unknown: ip is not installed");
        let unreachable = Route { kind: RouteKind::Unreachable, ..main };
        let (text, health) =
            default_route(&facts(vec![unreachable], Fact::Known(vec![lookup(1, RouteTable::MAIN)])));
        assert_eq!((text.as_str(), health), ("None: the host has no way to the internet", Health::Bad));
    }
}
