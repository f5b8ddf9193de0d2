//! Facts about the host's network stack and firewall, as `vmnet-doctor-host`
//! reads them. Pure data: every fact that could not be read says why, and
//! the rules then say "unknown" rather than guess. Serializable: the root
//! helper reads them for an app that cannot see the host (the Flatpak
//! sandbox) and sends them as they are, so both diagnose from the same data.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A fact, or why it is not known (e.g. "needs the helper or root").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fact<T> {
    Known(T),
    Unknown(String),
}

impl<T> Fact<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Self::Known(value) => Some(value),
            Self::Unknown(_) => None,
        }
    }
}

/// A network interface of the host (`/sys/class/net`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    /// `bridge`, `veth`, `tun`, `vlan`, … (from sysfs `uevent` DEVTYPE /
    /// `bridge/` presence); empty for plain Ethernet/Wi-Fi.
    pub kind: String,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// `operstate`: up, down, unknown, dormant, lowerlayerdown…
    pub operstate: String,
    pub mac: Option<String>,
    /// The bridge this link is enslaved to, if any.
    pub master: Option<String>,
    pub addresses: Vec<(IpAddr, u8)>,
    /// Its MTU in bytes (sysfs `mtu`), when readable.
    #[serde(default)]
    pub mtu: Option<u32>,
}

/// An IPv4 or IPv6 route of the main table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub destination: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    pub dev: String,
}

impl Route {
    pub fn is_default(&self) -> bool {
        self.prefix == 0
    }
}

/// What a route of any table does with a packet it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteKind {
    /// Forwards it (iproute2's type `unicast`).
    Unicast,
    /// Drops it silently.
    Blackhole,
    /// Drops it with "network unreachable".
    Unreachable,
    /// Drops it with "administratively prohibited".
    Prohibit,
    /// Ends this table's lookup: the next rule is tried.
    Throw,
}

/// A route of any routing table, as `ip -j route show table all` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRoute {
    /// The table's name (`main`, `local`, `default`) or number, as iproute2
    /// prints it.
    pub table: String,
    pub kind: RouteKind,
    pub destination: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    pub dev: Option<String>,
}

/// A policy routing rule (`ip -j rule show`): which table a packet is
/// looked up in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub ipv6: bool,
    pub priority: u32,
    /// `not`: the selectors are negated.
    pub not: bool,
    /// Selectors; `None` matches everything.
    pub from: Option<String>,
    pub fwmark: Option<String>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    /// The table to look up; `None` for rules with another action
    /// (`unreachable`, `prohibit`, `blackhole`, `goto`, `nop`).
    pub table: Option<String>,
    /// `suppress_prefixlength N`: a route found with a prefix of N or
    /// shorter is ignored (wg-quick: the main table's default route).
    pub suppress_prefixlength: Option<u8>,
}

impl RoutingRule {
    /// Whether the rule applies to traffic a VM sends out to the internet
    /// through the host: forwarded from a bridge, no firewall mark, any
    /// source address. Rules on one input or output interface are left
    /// out here; they concern one network, not the host's way out.
    pub fn matches_forwarded(&self) -> bool {
        let selected =
            self.fwmark.is_some() || self.iif.is_some() || self.oif.is_some() || self.from.is_some();
        if self.not {
            // `not fwmark X`: unmarked traffic matches.
            self.fwmark.is_some() && self.iif.is_none() && self.oif.is_none() && self.from.is_none()
        } else {
            !selected
        }
    }
}

/// Every table's routes and the policy rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRouting {
    pub rules: Vec<RoutingRule>,
    pub routes: Vec<TableRoute>,
}

impl PolicyRouting {
    /// The interfaces forwarded traffic of one family leaves by, walking
    /// the rules in order as the kernel does: the first rule whose table
    /// holds a default route decides; a `throw` route or a suppressed one
    /// goes on to the next rule; an unreachable, prohibit or blackhole
    /// default route means there is no way out. `None`: no rule leads out.
    pub fn uplinks(&self, ipv6: bool) -> Option<Vec<&str>> {
        let mut rules: Vec<&RoutingRule> =
            self.rules.iter().filter(|rule| rule.ipv6 == ipv6 && rule.matches_forwarded()).collect();
        rules.sort_by_key(|rule| rule.priority);
        for rule in rules {
            let Some(table) = &rule.table else {
                // unreachable, prohibit, blackhole: the packet goes nowhere.
                return Some(Vec::new());
            };
            let defaults: Vec<&TableRoute> = self
                .routes
                .iter()
                .filter(|route| {
                    &route.table == table && route.prefix == 0 && route.destination.is_ipv6() == ipv6
                })
                .collect();
            if defaults.is_empty() || rule.suppress_prefixlength.is_some() {
                continue;
            }
            match defaults[0].kind {
                RouteKind::Throw => continue,
                RouteKind::Unicast => {
                    let mut devs: Vec<&str> = Vec::new();
                    for route in defaults.iter().filter(|route| route.kind == RouteKind::Unicast) {
                        if let Some(dev) = route.dev.as_deref().filter(|dev| !devs.contains(dev)) {
                            devs.push(dev);
                        }
                    }
                    return Some(devs);
                }
                RouteKind::Blackhole | RouteKind::Unreachable | RouteKind::Prohibit => {
                    return Some(Vec::new());
                }
            }
        }
        None
    }
}

/// UFW as its configuration files and (with privileges) `ufw status
/// verbose` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ufw {
    /// `/etc/ufw/ufw.conf` `ENABLED=yes`.
    pub enabled_in_config: bool,
    /// `/etc/default/ufw` `DEFAULT_FORWARD_POLICY` (DROP, REJECT, ACCEPT).
    pub default_forward_policy: Option<String>,
    /// `ufw status verbose`, parsed; needs root.
    pub status: Fact<UfwStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UfwStatus {
    pub active: bool,
    /// "deny", "allow", "reject" or "disabled" for incoming/outgoing/routed.
    pub default_incoming: Option<String>,
    pub default_outgoing: Option<String>,
    pub default_routed: Option<String>,
    pub rules: Vec<UfwRule>,
}

/// One line of `ufw status verbose`'s rule table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UfwRule {
    /// "ALLOW IN", "ALLOW OUT", "ALLOW FWD", "DENY IN", …
    pub action: String,
    /// The "To" column, e.g. "Anywhere on enp3s0" or "Anywhere on virbr0".
    pub to: String,
    /// The "From" column.
    pub from: String,
    /// The comment (`# …`), if any.
    pub comment: Option<String>,
}

/// libvirt's `firewall_backend` in `/etc/libvirt/network.conf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FirewallBackend {
    Nftables,
    Iptables,
    /// Not set: libvirt picks nftables when `nft` exists, else iptables.
    Default,
}

/// firewalld, asked over D-Bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firewalld {
    pub running: bool,
    /// Interface → zone, for the interfaces firewalld has a zone for.
    pub interface_zones: Vec<(String, String)>,
}

/// The raw netfilter state; evaluated by `crate::netfilter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Netfilter {
    /// `nft -j list ruleset` (covers nftables and iptables-nft).
    pub nft_json: Option<String>,
    /// `iptables-nft-save`: the tables iptables-nft wrote (UFW, Docker,
    /// libvirt's iptables backend) with their match arguments, which
    /// `nft -j` shows only as opaque `xt` names.
    pub iptables_nft_save: Option<String>,
    /// `iptables-legacy-save` output, when legacy tables are in use.
    pub iptables_legacy_save: Option<String>,
}

/// dnsmasq for one libvirt network (`/run/libvirt/network/NAME.pid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dnsmasq {
    pub network: String,
    pub running: bool,
}

/// One line of a libvirt dnsmasq lease/status file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseEntry {
    pub bridge: String,
    pub mac: String,
    pub ip: IpAddr,
    pub hostname: Option<String>,
    /// Seconds since the epoch.
    pub expiry: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    /// `/proc/sys/net/ipv4/ip_forward`.
    pub ipv4_forward: Fact<bool>,
    pub links: Fact<Vec<Link>>,
    pub routes: Fact<Vec<Route>>,
    /// Every table's routes and the policy rules (iproute2); unknown where
    /// iproute2 cannot be run, and then `routes` (the main table) decides.
    pub policy_routing: Fact<PolicyRouting>,
    pub ufw: Fact<Option<Ufw>>,
    pub libvirt_firewall_backend: Fact<FirewallBackend>,
    pub firewalld: Fact<Firewalld>,
    pub netfilter: Fact<Netfilter>,
    pub dnsmasq: Fact<Vec<Dnsmasq>>,
    pub leases: Fact<Vec<LeaseEntry>>,
}

impl HostFacts {
    /// The interfaces VM traffic leaves by: where the policy rules send
    /// forwarded traffic (a VPN's table, say), else the main table's
    /// default routes.
    pub fn uplinks(&self) -> Vec<&str> {
        if let Fact::Known(policy) = &self.policy_routing {
            let (v4, v6) = (policy.uplinks(false), policy.uplinks(true));
            if v4.is_some() || v6.is_some() {
                let mut uplinks: Vec<&str> = Vec::new();
                for dev in v4.into_iter().chain(v6).flatten() {
                    if !uplinks.contains(&dev) {
                        uplinks.push(dev);
                    }
                }
                return uplinks;
            }
        }
        let mut uplinks: Vec<&str> = Vec::new();
        for route in self.routes.known().into_iter().flatten() {
            if route.is_default() && !uplinks.contains(&route.dev.as_str()) {
                uplinks.push(&route.dev);
            }
        }
        uplinks
    }

    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.known()?.iter().find(|link| link.name == name)
    }
}
