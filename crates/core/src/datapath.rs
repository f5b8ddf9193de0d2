//! The data path of one network card, hop by hop, as the guide draws it:
//! guest interface → virtual NIC → bridge → NAT and forwarding → uplink →
//! internet.
//!
//! Derived from a snapshot and its findings, nothing else: each finding
//! that concerns the card is placed on the hop it is about (by its id), and
//! the worst one decides the hop's status. A hop whose facts could not be
//! read (no guest agent, no host facts) is `Unknown`, never `Good`: the
//! view must not show a path as working when it was not checked.

use std::net::IpAddr;

use gettextrs::gettext;

use crate::finding::{Finding, Severity, Subject};
use crate::host::{Fact, FirewallBackend, HostFacts};
use crate::i18n::fill;
use crate::interface::{Interface, InterfaceSource, LinkState};
use crate::netfilter::Verdict;
use crate::network::{DhcpRange, ForwardMode, IpDef, NetworkConfig};
use crate::nic_model;
use crate::rules::{FirewallPicture, firewall_picture};
use crate::snapshot::{DomainSnapshot, NetworkSnapshot, Snapshot};

/// The kinds of hop, in the order a packet leaving the guest meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HopKind {
    /// The guest's own interface (`enp1s0`) and its addresses.
    Guest,
    /// The virtual NIC: device model and link state.
    Card,
    /// The bridge the card is plugged into (libvirt's `virbr0`, a host
    /// bridge), or macvtap's parent device.
    Bridge,
    /// NAT (or routing) and the host's forwarding: `ip_forward`, the
    /// firewall's verdict, libvirt's firewall backend.
    Forwarding,
    /// The host interface traffic leaves by (the default route's device).
    Uplink,
    Internet,
}

impl HopKind {
    /// Stable name for tests and the CLI: guest, card, bridge, forwarding,
    /// uplink, internet.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Card => "card",
            Self::Bridge => "bridge",
            Self::Forwarding => "forwarding",
            Self::Uplink => "uplink",
            Self::Internet => "internet",
        }
    }
}

/// How a hop stands. Ordered from best to worst, so `max` is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HopStatus {
    /// Checked, nothing wrong.
    Good,
    /// Checked; only informational findings (an isolated network, a bridged
    /// card).
    Note,
    /// Not checked: its facts could not be read (see [`Hop::unknown`]).
    Unknown,
    Warning,
    Error,
}

impl HopStatus {
    fn of(severity: Severity) -> Self {
        match severity {
            Severity::Error => Self::Error,
            Severity::Warning => Self::Warning,
            Severity::Info => Self::Note,
        }
    }

    /// Stable name for tests and the CLI: good, note, unknown, warning, error.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Note => "note",
            Self::Unknown => "unknown",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub kind: HopKind,
    /// What the hop is, e.g. "Bridge".
    pub title: String,
    /// A word for the drawing, where six hops share a row: "Guest", "NAT".
    pub short_title: String,
    /// Its name on this path, e.g. "virbr0"; `None` when not known.
    pub name: Option<String>,
    /// Short facts, e.g. "192.168.122.0/24", "DHCP 192.168.122.2–254".
    pub details: Vec<String>,
    pub status: HopStatus,
    /// Why the hop could not be checked, when that is so.
    pub unknown: Option<String>,
    /// The findings about this hop, most severe first.
    pub findings: Vec<Finding>,
}

impl Hop {
    fn new(kind: HopKind, title: String) -> Self {
        let short_title = match kind {
            HopKind::Guest => gettext("Guest"),
            HopKind::Card => gettext("Virtual NIC"),
            HopKind::Bridge => gettext("Bridge"),
            HopKind::Forwarding => gettext("NAT"),
            HopKind::Uplink => gettext("Uplink"),
            HopKind::Internet => gettext("Internet"),
        };
        Self {
            kind,
            title,
            short_title,
            name: None,
            details: Vec::new(),
            status: HopStatus::Good,
            unknown: None,
            findings: Vec::new(),
        }
    }

    /// The hop in words, for a screen reader and as the text equivalent of
    /// the drawing: "Bridge virbr0, 192.168.122.0/24, DHCP 192.168.122.2–254:
    /// no problems".
    pub fn spoken(&self) -> String {
        let mut what = match &self.name {
            Some(name) => format!("{} {name}", self.title),
            None => self.title.clone(),
        };
        for detail in &self.details {
            what.push_str(", ");
            what.push_str(detail);
        }
        fill(&gettext("{hop}: {status}"), &[("hop", &what), ("status", &self.status_text())])
    }

    /// The status in words: "no problems", "1 error: …", "not checked: …".
    pub fn status_text(&self) -> String {
        match (self.status, self.findings.first()) {
            (HopStatus::Error | HopStatus::Warning | HopStatus::Note, Some(worst)) => {
                let label = match worst.severity {
                    Severity::Error => gettext("error"),
                    Severity::Warning => gettext("warning"),
                    Severity::Info => gettext("note"),
                };
                let more = self.findings.len() - 1;
                if more == 0 {
                    fill(&gettext("{severity}: {title}"), &[("severity", &label), ("title", &worst.title)])
                } else {
                    fill(
                        &gettext("{severity}: {title} (and {count} more)"),
                        &[("severity", &label), ("title", &worst.title), ("count", &more.to_string())],
                    )
                }
            }
            (HopStatus::Unknown, _) => match &self.unknown {
                Some(why) => fill(&gettext("not checked: {why}"), &[("why", why)]),
                None => gettext("not checked"),
            },
            _ => gettext("no problems"),
        }
    }
}

/// One card's path; `ends` says why it stops before the internet (an
/// isolated network), when it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPath {
    pub vm: String,
    pub mac: Option<String>,
    pub hops: Vec<Hop>,
    pub ends: Option<String>,
}

impl DataPath {
    pub fn hop(&self, kind: HopKind) -> Option<&Hop> {
        self.hops.iter().find(|hop| hop.kind == kind)
    }

    /// The worst status along the path.
    pub fn worst(&self) -> HopStatus {
        self.hops.iter().map(|hop| hop.status).max().unwrap_or(HopStatus::Unknown)
    }
}

/// The hop a finding is about, by its id; `None` for ids no card's path
/// shows (the connection's).
pub fn hop_of(id: &str) -> Option<HopKind> {
    Some(match id {
        "guest-agent-missing"
        | "guest-agent-not-connected"
        | "guest-ipv6-unrouted"
        | "guest-profile-interface-missing"
        | "guest-interface-no-profile"
        | "guest-address-outside-subnet"
        | "guest-gateway-wrong"
        | "vm-no-ip" => HopKind::Guest,
        "nic-link-down"
        | "nic-host-link-down"
        | "nic-model-not-virtio"
        | "nic-user-mode"
        | "nic-not-nat"
        | "session-bridge-not-allowed"
        | "session-bridge-helper-unprivileged"
        | "duplicate-mac" => HopKind::Card,
        "default-network-missing"
        | "nic-network-missing"
        | "nic-network-inactive"
        | "network-inactive"
        | "network-not-autostarted"
        | "network-no-dhcp"
        | "dhcp-range-exhausted"
        | "dhcp-host-conflict"
        | "network-subnet-collision"
        | "network-bridge-down"
        | "dnsmasq-not-running"
        | "dnsmasq-port-taken"
        | "ufw-blocks-dhcp-dns"
        | "dhcp-dns-dropped"
        | "bridged-forward-dropped" => HopKind::Bridge,
        "ipv4-forwarding-off"
        | "ufw-routed-deny"
        | "forward-dropped"
        | "uplink-mtu-smaller"
        | "firewalld-zone"
        | "firewall-unknown" => HopKind::Forwarding,
        "no-uplink" => HopKind::Uplink,
        _ => return None,
    })
}

/// The path of `nic` (a card of `domain`), with the `findings` of
/// `snapshot` that concern it placed on its hops.
pub fn data_path(
    snapshot: &Snapshot,
    domain: &DomainSnapshot,
    nic: &Interface,
    findings: &[Finding],
) -> DataPath {
    let network = nic.network_name().and_then(|name| snapshot.network(name));
    let mut hops = vec![guest_hop(domain, nic), card_hop(domain, nic)];
    let mut ends = None;
    match (&nic.source, network) {
        (InterfaceSource::Network { network: name, .. }, None) => {
            let mut hop = Hop::new(HopKind::Bridge, gettext("Bridge"));
            hop.details.push(fill(&gettext("network “{name}” does not exist"), &[("name", name)]));
            hops.push(hop);
            ends = Some(gettext("The card's network does not exist, so its traffic goes nowhere."));
        }
        (InterfaceSource::Network { .. }, Some(network)) => {
            hops.push(network_bridge_hop(snapshot, network));
            match network.config.forward {
                ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open => {
                    hops.push(forwarding_hop(snapshot, network));
                    hops.push(uplink_hop(snapshot));
                    hops.push(internet_hop());
                }
                ForwardMode::Isolated => {
                    ends = Some(gettext(
                        "The network is isolated: its VMs reach each other and the host, never the internet — by design.",
                    ));
                }
                _ => {
                    // A libvirt network over a host bridge or macvtap: the
                    // guest is on the LAN, no NAT on the way.
                    hops.push(internet_hop());
                }
            }
        }
        (InterfaceSource::Bridge { bridge }, _) => {
            let mut hop = Hop::new(HopKind::Bridge, gettext("Bridge"));
            hop.name = Some(bridge.clone());
            hop.details.push(gettext("host bridge onto the local network"));
            host_links_check(snapshot, &mut hop);
            hops.push(hop);
            hops.push(internet_hop());
        }
        (InterfaceSource::Direct { dev, .. }, _) => {
            let mut hop = Hop::new(HopKind::Uplink, gettext("Uplink"));
            hop.name = Some(dev.clone());
            hop.details.push(gettext("macvtap: the card shares this host device"));
            host_links_check(snapshot, &mut hop);
            hops.push(hop);
            hops.push(internet_hop());
        }
        (InterfaceSource::User, _) => {
            let mut hop = Hop::new(HopKind::Forwarding, gettext("NAT and forwarding"));
            hop.name = Some(if nic.backend.as_deref() == Some("passt") {
                "passt".to_owned()
            } else {
                "SLIRP".to_owned()
            });
            hop.details.push(gettext("user-mode NAT inside QEMU, without the host's forwarding"));
            hops.push(hop);
            hops.push(uplink_hop(snapshot));
            hops.push(internet_hop());
        }
        _ => {
            ends = Some(fill(
                &gettext("Cards of type “{type}” are not followed past the card."),
                &[("type", nic.kind.as_str())],
            ));
        }
    }
    let networks: Vec<&str> = nic.network_name().into_iter().collect();
    for finding in findings.iter().filter(|finding| concerns(finding, domain, nic, &networks)) {
        let Some(kind) = hop_of(finding.id) else { continue };
        if let Some(hop) = hops.iter_mut().find(|hop| hop.kind == kind) {
            hop.findings.push(finding.clone());
        }
    }
    for hop in &mut hops {
        hop.findings.sort_by_key(|finding| finding.severity);
        let worst = hop.findings.iter().map(|finding| HopStatus::of(finding.severity)).max();
        hop.status = match worst {
            Some(status @ (HopStatus::Error | HopStatus::Warning)) => status,
            _ if hop.unknown.is_some() => HopStatus::Unknown,
            Some(status) => status,
            None => HopStatus::Good,
        };
    }
    DataPath { vm: domain.name().to_owned(), mac: nic.mac.clone(), hops, ends }
}

/// Whether `finding` is about this card: its own, its VM's, its network's,
/// or the host's.
fn concerns(finding: &Finding, domain: &DomainSnapshot, nic: &Interface, networks: &[&str]) -> bool {
    match &finding.subject {
        Subject::Nic { vm, mac } => vm == domain.name() && nic.mac.as_deref() == Some(mac.as_str()),
        Subject::Connection => false,
        other => other.concerns_vm(domain.name(), networks),
    }
}

fn guest_hop(domain: &DomainSnapshot, nic: &Interface) -> Hop {
    let mut hop = Hop::new(HopKind::Guest, gettext("Guest interface"));
    let mac = nic.mac.as_deref().unwrap_or_default();
    hop.name = domain.guest_interface_name(mac).map(str::to_owned);
    let addresses = domain.addresses_for(mac);
    hop.details.extend(addresses.iter().map(|(_, address)| format!("{}/{}", address.ip, address.prefix)));
    if !domain.state.is_active() {
        hop.unknown = Some(gettext("the VM is not running"));
    } else if hop.name.is_none() {
        hop.unknown = Some(gettext("without the guest agent the guest's name for this card is unknown"));
    }
    if domain.state.is_active() && addresses.is_empty() {
        hop.details.push(gettext("no address reported"));
    }
    hop
}

fn card_hop(domain: &DomainSnapshot, nic: &Interface) -> Hop {
    let mut hop = Hop::new(HopKind::Card, gettext("Virtual NIC"));
    hop.name = Some(match nic_model::effective(&domain.config, nic).name() {
        Some(model) => model.to_owned(),
        None => gettext("default model"),
    });
    hop.details.push(match nic.link_state {
        LinkState::Up => gettext("link up"),
        LinkState::Down => gettext("link down"),
    });
    if let Some(mac) = &nic.mac {
        hop.details.push(mac.clone());
    }
    hop
}

fn network_bridge_hop(snapshot: &Snapshot, network: &NetworkSnapshot) -> Hop {
    let mut hop = Hop::new(HopKind::Bridge, gettext("Bridge"));
    let config = &network.config;
    hop.name = config.bridge_name().map(str::to_owned);
    hop.details.push(fill(&gettext("network “{name}”"), &[("name", &config.name)]));
    if let Some(ip) = first_ipv4(config) {
        if let Some(subnet) = subnet(ip) {
            hop.details.push(subnet);
        }
        match ip.dhcp_ranges.first() {
            Some(range) => hop.details.push(fill(&gettext("DHCP {range}"), &[("range", &dhcp_range(range))])),
            None => hop.details.push(gettext("no DHCP")),
        }
    }
    if !network.active {
        hop.details.push(gettext("not running"));
    }
    host_links_check(snapshot, &mut hop);
    hop
}

/// Marks `hop` unknown when the host's links cannot be read (the state of
/// its bridge or device is then not checked).
fn host_links_check(snapshot: &Snapshot, hop: &mut Hop) {
    match &snapshot.host {
        Fact::Unknown(why) => hop.unknown = Some(why.clone()),
        Fact::Known(host) => {
            if let Fact::Unknown(why) = &host.links {
                hop.unknown = Some(why.clone());
            }
        }
    }
}

fn forwarding_hop(snapshot: &Snapshot, network: &NetworkSnapshot) -> Hop {
    let mut hop = Hop::new(HopKind::Forwarding, gettext("NAT and forwarding"));
    // libvirt's NAT is masquerading to the uplink's address.
    if network.config.forward == ForwardMode::Nat {
        hop.name = Some("masquerade".to_owned());
    } else {
        hop.short_title = gettext("Routing");
        hop.name = Some(gettext("no NAT"));
    }
    let host = match &snapshot.host {
        Fact::Known(host) => host,
        Fact::Unknown(why) => {
            hop.unknown = Some(why.clone());
            return hop;
        }
    };
    match &host.ipv4_forward {
        Fact::Known(true) => hop.details.push(gettext("IPv4 forwarding on")),
        Fact::Known(false) => hop.details.push(gettext("IPv4 forwarding off")),
        Fact::Unknown(why) => hop.unknown = Some(why.clone()),
    }
    match forward_verdict(&firewall_picture(snapshot), network.name()) {
        Some(Verdict::Accept) => hop.details.push(gettext("firewall forwards its traffic")),
        Some(Verdict::Drop(blocker)) => {
            hop.details.push(fill(&gettext("firewall drops its traffic ({by})"), &[("by", &blocker.by)]));
        }
        Some(Verdict::Unknown(why)) => {
            hop.details.push(gettext("firewall verdict unknown"));
            hop.unknown = Some(why);
        }
        None => {
            hop.details.push(gettext("firewall verdict unknown"));
            hop.unknown.get_or_insert_with(|| gettext("no uplink to check the forward path to"));
        }
    }
    hop.details.push(backend_text(host));
    hop
}

/// The verdict for new web connections from `network`'s bridge to the
/// first uplink, as the firewall rules computed it.
fn forward_verdict(picture: &Fact<FirewallPicture>, network: &str) -> Option<Verdict> {
    let picture = picture.known()?;
    let bridge = picture.bridges.iter().find(|bridge| bridge.network == network)?;
    bridge.paths.first().map(|path| path.web.clone())
}

fn backend_text(host: &HostFacts) -> String {
    let backend = match &host.libvirt_firewall_backend {
        Fact::Known(FirewallBackend::Nftables) => "nftables".to_owned(),
        Fact::Known(FirewallBackend::Iptables) => "iptables".to_owned(),
        Fact::Known(FirewallBackend::Default) => gettext("libvirt's default"),
        Fact::Unknown(_) => gettext("unknown"),
    };
    fill(&gettext("libvirt firewall backend: {backend}"), &[("backend", &backend)])
}

fn uplink_hop(snapshot: &Snapshot) -> Hop {
    let mut hop = Hop::new(HopKind::Uplink, gettext("Uplink"));
    let host = match &snapshot.host {
        Fact::Known(host) => host,
        Fact::Unknown(why) => {
            hop.unknown = Some(why.clone());
            return hop;
        }
    };
    if let Fact::Unknown(why) = &host.routes {
        hop.unknown = Some(why.clone());
        return hop;
    }
    let uplinks = host.uplinks();
    if !uplinks.is_empty() {
        hop.name = Some(uplinks.join(", "));
    }
    for uplink in uplinks {
        let addresses = host.link(uplink).map(|link| link.addresses.as_slice()).unwrap_or_default();
        hop.details.extend(
            addresses.iter().filter(|(ip, _)| ip.is_ipv4()).map(|(ip, prefix)| format!("{ip}/{prefix}")),
        );
    }
    hop
}

fn internet_hop() -> Hop {
    let mut hop = Hop::new(HopKind::Internet, gettext("Internet"));
    // The host cannot see past its uplink; only a check from inside the
    // guest proves the rest.
    hop.unknown = Some(gettext("only a check inside the guest can prove it (Verify)"));
    hop
}

fn first_ipv4(config: &NetworkConfig) -> Option<&IpDef> {
    config.ips.iter().find(|ip| !ip.is_ipv6())
}

/// The network's IPv4 subnet as "192.168.122.0/24", when it has one.
pub fn ipv4_subnet(config: &NetworkConfig) -> Option<String> {
    first_ipv4(config).and_then(subnet)
}

/// The subnet of `ip` as "192.168.122.0/24".
fn subnet(ip: &IpDef) -> Option<String> {
    let (IpAddr::V4(_), Some(prefix)) = (ip.address, ip.prefix) else { return None };
    Some(crate::network::subnet_of(ip.address, prefix))
}

/// "192.168.122.2–254" when start and end share the first three octets,
/// else both in full.
fn dhcp_range(range: &DhcpRange) -> String {
    match (range.start, range.end) {
        (IpAddr::V4(start), IpAddr::V4(end)) if start.octets()[..3] == end.octets()[..3] => {
            format!("{start}–{}", end.octets()[3])
        }
        (start, end) => format!("{start}–{end}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{dhcp_range, hop_of, subnet};
    use crate::network::{DhcpRange, IpDef};
    use crate::rules::{FIREWALL_RULE_IDS, LIBVIRT_RULE_IDS};

    #[test]
    fn every_rule_id_has_a_hop() {
        for id in LIBVIRT_RULE_IDS.iter().chain(FIREWALL_RULE_IDS) {
            assert!(hop_of(id).is_some(), "{id} has no hop");
        }
        assert_eq!(hop_of("libvirt-unreachable"), None);
    }

    #[test]
    fn ranges_and_subnets_read_as_the_guide_writes_them() -> Result<(), std::net::AddrParseError> {
        let range = DhcpRange { start: "192.168.122.2".parse()?, end: "192.168.122.254".parse()? };
        assert_eq!(dhcp_range(&range), "192.168.122.2–254");
        let wide = DhcpRange { start: "10.0.0.2".parse()?, end: "10.0.1.254".parse()? };
        assert_eq!(dhcp_range(&wide), "10.0.0.2–10.0.1.254");
        let ip = IpDef {
            address: "192.168.122.1".parse()?,
            prefix: Some(24),
            dhcp_ranges: vec![],
            dhcp_hosts: vec![],
        };
        assert_eq!(subnet(&ip).as_deref(), Some("192.168.122.0/24"));
        Ok(())
    }
}
