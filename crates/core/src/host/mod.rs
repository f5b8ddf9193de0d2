//! Facts about the host's network stack and firewall, as `vmnet-doctor-host`
//! reads them. Pure data: every fact that could not be read says why, and
//! the rules then say "unknown" rather than guess. Serializable: the root
//! helper reads them for an app that cannot see the host (the Flatpak
//! sandbox) and sends them as they are, so both diagnose from the same data.
//!
//! The routes, the policy rules and where they send a VM's traffic are in
//! the `routing` submodule, re-exported here.

mod routing;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use routing::{Route, RouteKind, RouteTable, RoutingRule, RuleAction, devices, exit_routes};

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

/// A socket bound to a port that a libvirt network's dnsmasq needs (DNS
/// 53, DHCP 67), from /proc/net; its program when /proc/PID/fd shows it
/// (another user's only to root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// `udp` or `tcp` (a TCP socket only while it listens).
    pub protocol: String,
    pub address: IpAddr,
    pub port: u16,
    /// `/proc/PID/comm`, e.g. `dnsmasq`, `named`, `systemd-resolve`.
    pub program: Option<String>,
    pub pid: Option<u32>,
}

impl Listener {
    /// Bound to every address (0.0.0.0 or ::), so no other program can take
    /// the port on one of them.
    pub fn on_all_addresses(&self) -> bool {
        self.address.is_unspecified()
    }
}

/// qemu-bridge-helper's access list (`/etc/qemu/bridge.conf` and the files
/// it includes): which bridges a `qemu:///session` VM may join.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeAcl {
    /// `allow NAME` lines; `all` for `allow all`.
    pub allow: Vec<String>,
    /// `deny NAME` lines; `all` for `deny all`.
    pub deny: Vec<String>,
}

impl BridgeAcl {
    /// As qemu-bridge-helper decides (qemu's qemu-bridge-helper.c): denied
    /// unless allowed, and a deny wins over an allow.
    pub fn allows(&self, bridge: &str) -> bool {
        Self::names(&self.allow, bridge) && !self.denies(bridge)
    }

    /// A `deny` line names the bridge (or is `deny all`): no `allow` line
    /// can let it through.
    pub fn denies(&self, bridge: &str) -> bool {
        self.denials(bridge).next().is_some()
    }

    /// The `deny` entries that refuse the bridge: its name, or `all`.
    pub fn denials<'a>(&'a self, bridge: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.deny.iter().map(String::as_str).filter(move |name| *name == "all" || *name == bridge)
    }

    fn names(list: &[String], bridge: &str) -> bool {
        list.iter().any(|name| name == "all" || name == bridge)
    }
}

/// qemu-bridge-helper, which plugs the taps of `qemu:///session` VMs into
/// host bridges. It runs as the user, so it can only do that as root
/// (setuid, as Fedora and Arch install it) or with the file capability
/// `cap_net_admin` (Debian installs it with neither).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeHelper {
    pub path: String,
    /// Owned by root with the set-user-ID bit.
    pub setuid_root: bool,
    /// `cap_net_admin` in its permitted file capabilities.
    pub cap_net_admin: bool,
}

impl BridgeHelper {
    pub fn privileged(&self) -> bool {
        self.setuid_root || self.cap_net_admin
    }
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

/// `br_netfilter`'s switches: whether frames a Linux bridge forwards
/// between its ports traverse iptables (`net.bridge.bridge-nf-call-
/// iptables`) and ip6tables (`…-ip6tables`). Both off without the module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeNfCall {
    pub iptables: bool,
    pub ip6tables: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    /// `/proc/sys/net/ipv4/ip_forward`.
    pub ipv4_forward: Fact<bool>,
    pub links: Fact<Vec<Link>>,
    /// The routes of every table (iproute2), or, when `rules` is unknown
    /// because iproute2 could not be run, those of the main table only
    /// (`/proc/net/route`, `/proc/net/ipv6_route`).
    pub routes: Fact<Vec<Route>>,
    /// The policy rules of both families, in no particular order.
    pub rules: Fact<Vec<RoutingRule>>,
    pub ufw: Fact<Option<Ufw>>,
    pub libvirt_firewall_backend: Fact<FirewallBackend>,
    pub firewalld: Fact<Firewalld>,
    pub netfilter: Fact<Netfilter>,
    pub dnsmasq: Fact<Vec<Dnsmasq>>,
    pub leases: Fact<Vec<LeaseEntry>>,
    /// Who holds ports 53 and 67; a helper older than this field sends none.
    #[serde(default = "listeners_not_sent")]
    pub listeners: Fact<Vec<Listener>>,
    /// qemu-bridge-helper's access list; a helper older than this field
    /// sends none.
    #[serde(default = "bridge_acl_not_sent")]
    pub bridge_acl: Fact<BridgeAcl>,
    /// qemu-bridge-helper and its privilege (`None`: not installed); a
    /// helper older than this field sends none.
    #[serde(default = "bridge_helper_not_sent")]
    pub bridge_helper: Fact<Option<BridgeHelper>>,
    /// `br_netfilter`'s sysctls; a helper older than this field sends none.
    #[serde(default = "bridge_nf_call_not_sent")]
    pub bridge_nf_call: Fact<BridgeNfCall>,
}

fn bridge_nf_call_not_sent() -> Fact<BridgeNfCall> {
    Fact::Unknown(
        "the helper is older than this app and does not read net.bridge.bridge-nf-call-*".to_owned(),
    )
}

fn bridge_helper_not_sent() -> Fact<Option<BridgeHelper>> {
    Fact::Unknown("the helper is older than this app and does not read qemu-bridge-helper's mode".to_owned())
}

fn bridge_acl_not_sent() -> Fact<BridgeAcl> {
    Fact::Unknown("the helper is older than this app and does not read /etc/qemu/bridge.conf".to_owned())
}

fn listeners_not_sent() -> Fact<Vec<Listener>> {
    Fact::Unknown("the helper is older than this app and does not read the listening sockets".to_owned())
}

impl HostFacts {
    /// Facts of which none is known, each for `why`; tests set the ones
    /// they read (`HostFacts { routes, ..HostFacts::unknown("…") }`).
    pub fn unknown(why: &str) -> Self {
        fn unknown<T>(why: &str) -> Fact<T> {
            Fact::Unknown(why.to_owned())
        }
        Self {
            ipv4_forward: unknown(why),
            links: unknown(why),
            routes: unknown(why),
            rules: unknown(why),
            ufw: unknown(why),
            libvirt_firewall_backend: unknown(why),
            firewalld: unknown(why),
            netfilter: unknown(why),
            dnsmasq: unknown(why),
            leases: unknown(why),
            listeners: unknown(why),
            bridge_acl: unknown(why),
            bridge_helper: unknown(why),
            bridge_nf_call: unknown(why),
        }
    }

    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.known()?.iter().find(|link| link.name == name)
    }
}
