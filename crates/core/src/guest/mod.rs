//! The guest's own view of itself, read through the QEMU guest agent: its
//! operating system (`guest-get-osinfo`), which agent commands it allows
//! (`guest-info`), and what a read-only probe script run with `guest-exec`
//! finds — the network stack that configures it, NetworkManager's
//! connection profiles, ifupdown's stanzas, its default routes and IPv6
//! switches. Pure data and parsers; `vmnet-doctor-libvirt` asks the agent.

pub mod checklist;
mod osinfo;
mod probe;

use std::net::IpAddr;

pub use osinfo::{AgentInfo, GuestOs};
pub use probe::{PROBE_SCRIPT, nm_terse_fields, parse_probe};

use crate::host::Fact;

/// Everything one inspection of a running guest learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFacts {
    /// `guest-info`: the agent's version and the commands it refuses.
    pub agent: Fact<AgentInfo>,
    /// `guest-get-osinfo`.
    pub os: Fact<GuestOs>,
    /// The probe script's findings; unknown when `guest-exec` is refused.
    pub network: Fact<GuestNetwork>,
}

/// One address of a guest's interface, as an address source reports it
/// (agent, DHCP lease, ARP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAddress {
    pub ip: IpAddr,
    pub prefix: u8,
}

/// Whether a service runs, as far as the guest can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    /// Its program is not installed.
    Absent,
    /// Installed, not running.
    Stopped,
    Running,
    /// Installed; the guest has no way to tell (no systemd, no nmcli).
    Unknown,
}

/// A program that configures the guest's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkStack {
    NetworkManager,
    Networkd,
    /// netplan writes NetworkManager's or networkd's configuration.
    Netplan,
    /// Debian's /etc/network/interfaces.
    Ifupdown,
}

impl NetworkStack {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NetworkManager => "NetworkManager",
            Self::Networkd => "systemd-networkd",
            Self::Netplan => "netplan",
            Self::Ifupdown => "ifupdown",
        }
    }
}

/// A NetworkManager connection profile (`nmcli connection show`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmProfile {
    pub name: String,
    pub uuid: String,
    /// `802-3-ethernet`, `loopback`, `bridge`, …
    pub kind: String,
    /// `connection.interface-name`: the only interface it may activate on.
    pub interface_name: Option<String>,
    pub autoconnect: bool,
    /// `connection.autoconnect-priority`: of the profiles that may
    /// activate on a device, the highest wins at boot and on reconnect.
    pub autoconnect_priority: i32,
    /// `802-3-ethernet.mac-address`: the only card it may activate on.
    pub mac: Option<String>,
    /// `ipv4.method`: `auto` (DHCP), `manual` (a static address),
    /// `disabled`, `link-local`, `shared`; unknown when nmcli did not say.
    pub ipv4_method: Option<String>,
    /// `ipv4.addresses` of a `manual` profile, as typed (`192.168.1.50/24`).
    pub ipv4_addresses: Vec<String>,
    /// `ipv4.gateway`.
    pub ipv4_gateway: Option<String>,
    /// The device it is active on now.
    pub device: Option<String>,
}

impl NmProfile {
    pub fn is_ethernet(&self) -> bool {
        self.kind == "802-3-ethernet"
    }

    /// Whether the profile gets its IPv4 address some other way than DHCP
    /// (a static address, or none at all).
    pub fn ipv4_not_dhcp(&self) -> bool {
        self.ipv4_method.as_deref().is_some_and(|method| method != "auto")
    }

    /// Whether NetworkManager may activate it on `interface` (the card
    /// with `mac`): bound to neither, or to this one.
    pub fn may_activate_on(&self, interface: &str, mac: &str) -> bool {
        self.is_ethernet()
            && self.interface_name.as_deref().is_none_or(|name| name == interface)
            && self.mac.as_deref().is_none_or(|bound| bound.eq_ignore_ascii_case(mac))
    }
}

/// An `iface NAME FAMILY METHOD` stanza of /etc/network/interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfupdownIface {
    pub name: String,
    /// `inet` or `inet6`.
    pub family: String,
    /// `dhcp`, `static`, `auto`, `manual`, `loopback`, …
    pub method: String,
}

/// A systemd-networkd `.network` file and what its `[Match]` section binds
/// it to. netplan's networkd renderer writes these too
/// (`/run/systemd/network/10-netplan-ID.network`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkdFile {
    pub path: String,
    /// `Name=` patterns (shell globs; a leading `!` inverts the list).
    pub names: Vec<String>,
    /// `MACAddress=` / `PermanentMACAddress=`, lower-case.
    pub macs: Vec<String>,
    /// `[Match]` has other conditions (Type=, Driver=, Path=, …): whether
    /// it binds to a card is not for us to judge.
    pub other_conditions: bool,
}

impl NetworkdFile {
    /// Written by netplan rather than by hand.
    pub fn is_netplan(&self) -> bool {
        self.path.rsplit('/').next().is_some_and(|name| name.starts_with("10-netplan-"))
    }

    /// Whether `Name=` would match an interface called `name` (a list
    /// starting with `!` matches the names it does not list).
    pub fn matches_name(&self, name: &str) -> bool {
        let inverted = self.names.first().is_some_and(|first| first.starts_with('!'));
        let listed = self.names.iter().any(|pattern| glob_matches(pattern.trim_start_matches('!'), name));
        listed != inverted
    }
}

/// fnmatch(3) without flags, as networkd matches names: `*`, `?` and
/// `[…]` classes (with `!` or `^` negation and ranges).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    glob_at(&pattern, &text)
}

fn glob_at(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| glob_at(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && glob_at(rest, &text[1..]),
        Some(('[', rest)) => {
            let Some((&c, text_rest)) = text.split_first() else {
                return false;
            };
            let Some(close) = rest.iter().skip(1).position(|&p| p == ']').map(|i| i + 1) else {
                // No closing bracket: a literal '['.
                return c == '[' && glob_at(rest, text_rest);
            };
            let (class, after) = (&rest[..close], &rest[close + 1..]);
            let (negated, class) = match class.split_first() {
                Some(('!' | '^', inner)) => (true, inner),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negated && glob_at(after, text_rest)
        }
        Some((&p, rest)) => text.first() == Some(&p) && glob_at(rest, &text[1..]),
    }
}

/// A default route of the guest's main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRoute {
    pub ipv6: bool,
    /// `None` for a route straight onto the link.
    pub gateway: Option<IpAddr>,
    pub dev: String,
}

/// What the probe script found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestNetwork {
    /// The programs found on the guest's PATH, among those the probe asks
    /// for (ip, nmcli, ping, getent, curl, wget, apt-get, dnf, pacman, …).
    pub tools: Vec<String>,
    /// Those of them that are busybox applets, whose options differ.
    pub busybox: Vec<String>,
    pub network_manager: ServiceState,
    pub networkd: ServiceState,
    /// netplan configuration files.
    pub netplan: Vec<String>,
    /// ifupdown's stanzas for interfaces other than loopback.
    pub ifupdown: Vec<IfupdownIface>,
    /// systemd-networkd's `.network` files in effect (those in /etc mask
    /// /run's of the same name).
    pub networkd_files: Vec<NetworkdFile>,
    /// NetworkManager's profiles; unknown unless it runs.
    pub profiles: Fact<Vec<NmProfile>>,
    pub default_routes: Vec<GuestRoute>,
    /// `net.ipv6.conf.all.disable_ipv6`, when readable.
    pub ipv6_disabled: Option<bool>,
    /// APT's `Acquire::ForceIPv4`, when APT is there.
    pub apt_force_ipv4: Option<bool>,
}

impl GuestNetwork {
    pub fn has_tool(&self, tool: &str) -> bool {
        self.tools.iter().any(|known| known == tool)
    }

    pub fn is_busybox(&self, tool: &str) -> bool {
        self.busybox.iter().any(|known| known == tool)
    }

    /// The stacks that configure interfaces now: NetworkManager and
    /// networkd when they run, netplan when it has files, ifupdown when it
    /// is installed and has a stanza for a real interface.
    pub fn stacks(&self) -> Vec<NetworkStack> {
        let mut stacks = Vec::new();
        if !self.netplan.is_empty() {
            stacks.push(NetworkStack::Netplan);
        }
        if self.network_manager == ServiceState::Running {
            stacks.push(NetworkStack::NetworkManager);
        }
        if self.networkd == ServiceState::Running {
            stacks.push(NetworkStack::Networkd);
        }
        if self.has_tool("ifup") && !self.ifupdown.is_empty() {
            stacks.push(NetworkStack::Ifupdown);
        }
        stacks
    }

    /// The guest's IPv4 default gateway, the first one.
    pub fn ipv4_gateway(&self) -> Option<IpAddr> {
        self.default_routes.iter().filter(|route| !route.ipv6).find_map(|route| route.gateway)
    }

    pub fn ipv6_default_routes(&self) -> impl Iterator<Item = &GuestRoute> {
        self.default_routes.iter().filter(|route| route.ipv6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_fnmatch_does() {
        assert!(glob_matches("en*", "enp1s0"));
        assert!(glob_matches("ens?", "ens3"));
        assert!(!glob_matches("ens?", "ens33"));
        assert!(glob_matches("eth[0-3]", "eth2"));
        assert!(!glob_matches("eth[!0-3]", "eth2"));
        assert!(glob_matches("eth[!0-3]", "eth7"));
        assert!(glob_matches("enp1s0", "enp1s0"));
        assert!(!glob_matches("enp1s0", "enp1s00"));
        assert!(glob_matches("a[b", "a[b"));
    }

    #[test]
    fn an_inverted_name_list_matches_what_it_does_not_list() {
        let file = |names: &[&str]| NetworkdFile {
            path: "/etc/systemd/network/x.network".into(),
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            macs: Vec::new(),
            other_conditions: false,
        };
        assert!(file(&["!eth0"]).matches_name("enp1s0"));
        assert!(!file(&["!eth0", "ens*"]).matches_name("ens3"));
        assert!(file(&["ens3", "enp*"]).matches_name("enp1s0"));
        assert!(!file(&["ens3"]).matches_name("enp1s0"));
    }
}
