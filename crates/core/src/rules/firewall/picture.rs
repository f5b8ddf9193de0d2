//! The host firewall as a whole, for showing rather than diagnosing: which
//! programs write its rules, libvirt's backend, and the verdict for each
//! libvirt bridge's traffic. Built from the same evaluation the firewall
//! rules use ([`Context`]), so what the Host page shows and what the
//! findings say never disagree.

use super::{Checked, Context};
use crate::host::{Fact, FirewallBackend, HostFacts, Ufw};
use crate::netfilter::{Owner, Verdict};
use crate::snapshot::Snapshot;

/// Everything known about the host firewall and the VMs' traffic through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallPicture {
    /// `None`: UFW is not installed.
    pub ufw: Fact<Option<UfwState>>,
    /// firewalld is running.
    pub firewalld: Fact<bool>,
    /// The programs whose rules are in the ruleset (Docker's chains, UFW's,
    /// firewalld's table, libvirt's).
    pub programs: Fact<Vec<Owner>>,
    /// Tables with rules none of those programs wrote (hand-written
    /// nftables or iptables), as "table inet filter".
    pub other_tables: Fact<Vec<String>>,
    /// libvirt's `firewall_backend` setting.
    pub libvirt_backend: Fact<FirewallBackend>,
    /// The backend whose rules are in the ruleset (libvirt's built-in
    /// choice when the setting is absent); `None`: no libvirt rules.
    pub libvirt_backend_in_use: Fact<Option<FirewallBackend>>,
    /// The IPv4 default-route devices VM traffic leaves by.
    pub uplinks: Fact<Vec<String>>,
    /// Each active libvirt network with a bridge.
    pub bridges: Vec<BridgeVerdicts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UfwState {
    /// `ufw status` says active; its routed default ("deny", "allow"…).
    Active {
        routed: Option<String>,
    },
    Inactive,
    /// Enabled in `/etc/ufw/ufw.conf`, but its live status could not be
    /// read (why).
    Enabled {
        status_unknown: String,
    },
}

/// What the firewall does to the traffic of one libvirt bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeVerdicts {
    pub network: String,
    pub bridge: String,
    /// NAT or routed: the guests' traffic is forwarded to the uplinks.
    pub forwards: bool,
    /// Per uplink, for forwarding networks (none without an uplink).
    pub paths: Vec<ForwardPath>,
    /// A guest's DHCP request to dnsmasq; `None` when the network hands out
    /// no IPv4 addresses.
    pub dhcp: Option<Verdict>,
    /// A guest's DNS query to dnsmasq.
    pub dns: Verdict,
}

/// The forward path from a bridge to one uplink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPath {
    pub uplink: String,
    /// A new TCP connection to port 80 and its replies; a drop names the
    /// deciding rule.
    pub web: Verdict,
    /// An ICMP echo and its reply.
    pub ping: Verdict,
}

/// The firewall picture of `snapshot`'s host, or why its host is not known
/// (a remote connection, the demo hypervisor, the Flatpak sandbox).
pub fn firewall_picture(snapshot: &Snapshot) -> Fact<FirewallPicture> {
    let host = match &snapshot.host {
        Fact::Known(host) => host,
        Fact::Unknown(why) => return Fact::Unknown(why.clone()),
    };
    let context = Context::new(snapshot, host);
    let (programs, other_tables, libvirt_backend_in_use) = match &context.ruleset {
        Ok(ruleset) => (
            Fact::Known(ruleset.programs()),
            Fact::Known(ruleset.other_tables()),
            Fact::Known(ruleset.libvirt_backend_in_use()),
        ),
        Err(why) => (Fact::Unknown(why.clone()), Fact::Unknown(why.clone()), Fact::Unknown(why.clone())),
    };
    let uplinks = match (&context.uplinks, &host.routes) {
        (Some(uplinks), _) => Fact::Known(uplinks.clone()),
        (None, Fact::Unknown(why)) => Fact::Unknown(why.clone()),
        (None, Fact::Known(_)) => Fact::Known(Vec::new()),
    };
    let bridges = context.networks.iter().map(|checked| bridge_verdicts(&context, checked)).collect();
    Fact::Known(FirewallPicture {
        ufw: ufw_state(host),
        firewalld: match &host.firewalld {
            Fact::Known(firewalld) => Fact::Known(firewalld.running),
            Fact::Unknown(why) => Fact::Unknown(why.clone()),
        },
        programs,
        other_tables,
        libvirt_backend: host.libvirt_firewall_backend.clone(),
        libvirt_backend_in_use,
        uplinks,
        bridges,
    })
}

fn ufw_state(host: &HostFacts) -> Fact<Option<UfwState>> {
    let ufw: &Ufw = match &host.ufw {
        Fact::Known(Some(ufw)) => ufw,
        Fact::Known(None) => return Fact::Known(None),
        Fact::Unknown(why) => return Fact::Unknown(why.clone()),
    };
    Fact::Known(Some(match &ufw.status {
        Fact::Known(status) if status.active => UfwState::Active { routed: status.default_routed.clone() },
        Fact::Known(_) => UfwState::Inactive,
        // `ufw enable` writes ENABLED=yes; without it UFW does not run.
        Fact::Unknown(_) if !ufw.enabled_in_config => UfwState::Inactive,
        Fact::Unknown(why) => UfwState::Enabled { status_unknown: why.clone() },
    }))
}

/// The verdicts the rules computed for `checked`; where they computed none
/// (no ruleset, no IPv4 subnet), the reason as an unknown verdict, so the
/// page never shows a path as passing when it was not checked.
fn bridge_verdicts(context: &Context<'_>, checked: &Checked<'_>) -> BridgeVerdicts {
    let why_unchecked = match &context.ruleset {
        Err(why) => why.clone(),
        Ok(_) => "the network has no IPv4 subnet to check".to_owned(),
    };
    let unknown = || Verdict::Unknown(why_unchecked.clone());
    let mut paths: Vec<ForwardPath> = checked
        .forward
        .iter()
        .map(|path| ForwardPath {
            uplink: path.uplink.clone(),
            web: path.web.clone(),
            ping: path.ping.clone(),
        })
        .collect();
    if checked.forwards && paths.is_empty() {
        let uplinks = context.uplinks.iter().flatten().filter(|uplink| uplink.as_str() != checked.bridge);
        paths = uplinks
            .map(|uplink| ForwardPath { uplink: uplink.clone(), web: unknown(), ping: unknown() })
            .collect();
    }
    let hands_out_ipv4 =
        checked.network.config.ips.iter().any(|ip| !ip.is_ipv6() && !ip.dhcp_ranges.is_empty());
    BridgeVerdicts {
        network: checked.network.name().to_owned(),
        bridge: checked.bridge.to_owned(),
        forwards: checked.forwards,
        paths,
        dhcp: checked.dhcp.clone().or_else(|| hands_out_ipv4.then(unknown)),
        dns: checked.dns.clone().unwrap_or_else(unknown),
    }
}
