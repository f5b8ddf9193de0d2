//! Rules about the host firewall and the forward path (UFW, Docker's
//! FORWARD policy, nftables/iptables chains, firewalld).
//!
//! | id | severity | subject | fix |
//! |---|---|---|---|
//! | `ipv4-forwarding-off` | error | host | `EnableIpv4Forwarding` |
//! | `no-uplink` | error | host | — (the host itself is offline) |
//! | `ufw-routed-deny` | error | network | `UfwAllowBridge` (bridge, uplink) |
//! | `ufw-blocks-dhcp-dns` | error | network | `UfwAllowBridge` (bridge, first uplink) |
//! | `forward-dropped` | error | network | `AcceptForward` (bridge, uplink); none when firewalld's rules drop |
//! | `bridged-forward-dropped` | error | NIC on a host bridge, running VM | `AcceptBridged` (bridge); none when firewalld's rules drop |
//! | `uplink-mtu-smaller` | warning | network | `ClampMss` (bridge, uplink) |
//! | `dhcp-dns-dropped` | error | network | — |
//! | `firewalld-zone` | error when the ruleset shows drops; warning when it cannot be read | network | `FirewalldZone` (`libvirt`, or `libvirt-routed` for route networks) |
//! | `firewall-unknown` | info | host | — (run as root or install the helper) |
//!
//! Every verdict about traffic comes from evaluating the host's real
//! ruleset ([`crate::netfilter`]), never from configuration alone: UFW's
//! routed "deny" blocks VMs under libvirt's nftables backend but not under
//! its iptables backend (libvirt's own accept rules then sit first in the
//! same FORWARD chain) — the firewall lab's captures show both. What cannot
//! be read or followed is reported as `firewall-unknown`, never guessed.
//!
//! The forward path is checked for active NAT and route networks, from
//! their bridge to each uplink (the devices of the IPv4 default routes the
//! policy rules send forwarded traffic to, [`HostFacts::ipv4_uplinks`]).
//! DHCP and DNS to dnsmasq are checked for every active network libvirt
//! runs a bridge for. A running VM's card on a host bridge is checked from
//! that bridge to itself when `br_netfilter` passes bridged frames to
//! iptables. When the host facts are unknown (a remote connection, a
//! test-driver file) these rules say nothing; nor do they judge a network
//! whose bridge the host facts do not show (read before it started: the
//! demo's recorded host, or a refresh under way).

mod bridged_forward_dropped;
mod dhcp_dns_dropped;
mod firewall_unknown;
mod firewalld_zone;
mod forward_dropped;
mod ipv4_forwarding_off;
mod no_uplink;
pub(super) mod picture;
mod ufw_blocks_dhcp_dns;
mod ufw_routed_deny;
mod uplink_mtu_smaller;

use std::net::IpAddr;

use crate::finding::{Evidence, Finding};
use crate::host::{Fact, FirewallBackend, HostFacts};
use crate::netfilter::{Ruleset, Service, Traffic, Verdict, VmNetwork};
use crate::network::ForwardMode;
use crate::snapshot::{NetworkSnapshot, Snapshot};

/// Every id these rules can return.
pub(crate) const IDS: &[&str] = &[
    "ipv4-forwarding-off",
    "no-uplink",
    "ufw-routed-deny",
    "ufw-blocks-dhcp-dns",
    "forward-dropped",
    "bridged-forward-dropped",
    "uplink-mtu-smaller",
    "dhcp-dns-dropped",
    "firewalld-zone",
    "firewall-unknown",
];

pub(crate) fn diagnose(snapshot: &Snapshot) -> Vec<Finding> {
    let Fact::Known(host) = &snapshot.host else { return Vec::new() };
    let context = Context::new(snapshot, host);
    let mut findings = Vec::new();
    findings.extend(ipv4_forwarding_off::check(&context));
    findings.extend(no_uplink::check(&context));
    findings.extend(ufw_routed_deny::check(&context));
    findings.extend(ufw_blocks_dhcp_dns::check(&context));
    findings.extend(forward_dropped::check(&context));
    findings.extend(bridged_forward_dropped::check(&context, snapshot));
    findings.extend(uplink_mtu_smaller::check(&context));
    findings.extend(dhcp_dns_dropped::check(&context));
    findings.extend(firewalld_zone::check(&context));
    findings.extend(firewall_unknown::check(&context));
    debug_assert!(findings.iter().all(|finding| IDS.contains(&finding.id)), "an id missing from IDS");
    findings
}

/// What the firewall rules look at, evaluated once.
pub(super) struct Context<'s> {
    pub host: &'s HostFacts,
    /// Active networks libvirt runs a bridge for.
    pub networks: Vec<Checked<'s>>,
    /// The devices of the IPv4 default routes forwarded traffic takes
    /// (following the policy rules); `None` when the routes are unknown.
    pub uplinks: Option<Vec<String>>,
    /// The parsed ruleset, or why there is none.
    pub ruleset: Result<Ruleset, String>,
}

/// One active network and the fate of its traffic.
pub(super) struct Checked<'s> {
    pub network: &'s NetworkSnapshot,
    pub bridge: &'s str,
    /// NAT or route: guests' traffic is forwarded to the uplinks.
    pub forwards: bool,
    /// Per uplink: web traffic and ping (`None` without a ruleset or an
    /// IPv4 subnet).
    pub forward: Vec<ForwardCheck>,
    /// DHCP (when the network hands out IPv4 addresses) and DNS.
    pub dhcp: Option<Verdict>,
    pub dns: Option<Verdict>,
}

pub(super) struct ForwardCheck {
    pub uplink: String,
    pub web: Verdict,
    pub ping: Verdict,
}

impl<'s> Context<'s> {
    fn new(snapshot: &'s Snapshot, host: &'s HostFacts) -> Self {
        let uplinks = host
            .routes
            .known()
            .map(|_| host.ipv4_uplinks(None).into_iter().map(str::to_owned).collect::<Vec<_>>());
        let ruleset = match &host.netfilter {
            Fact::Known(netfilter) => Ruleset::from_netfilter(netfilter),
            Fact::Unknown(why) => Err(why.clone()),
        };
        let networks = snapshot
            .networks
            .iter()
            .filter(|network| network.active)
            .filter_map(|network| {
                let bridge = network.config.bridge_name()?;
                // Host facts read before the network started hold none of
                // its rules: its traffic is judged once they are read again.
                if host.links.known().is_some() && host.link(bridge).is_none() {
                    return None;
                }
                let forwards = matches!(network.config.forward, ForwardMode::Nat | ForwardMode::Route);
                let runs_bridge =
                    forwards || matches!(network.config.forward, ForwardMode::Open | ForwardMode::Isolated);
                runs_bridge.then(|| {
                    check_network(network, bridge, forwards, uplinks.as_deref(), ruleset.as_ref().ok())
                })
            })
            .collect();
        Self { host, networks, uplinks, ruleset }
    }

    /// Whether any active NAT or route network exists (whose guests need
    /// forwarding and an uplink).
    pub fn forwarding_networks(&self) -> impl Iterator<Item = &Checked<'s>> {
        self.networks.iter().filter(|checked| checked.forwards)
    }

    /// The first uplink, for fixes that need one.
    pub fn first_uplink(&self) -> Option<&str> {
        self.uplinks.as_ref()?.first().map(String::as_str)
    }
}

fn check_network<'s>(
    network: &'s NetworkSnapshot,
    bridge: &'s str,
    forwards: bool,
    uplinks: Option<&[String]>,
    ruleset: Option<&Ruleset>,
) -> Checked<'s> {
    let mut checked = Checked { network, bridge, forwards, forward: Vec::new(), dhcp: None, dns: None };
    let (Some(ruleset), Some(vm)) = (ruleset, vm_network(network, bridge)) else { return checked };
    if forwards {
        for uplink in uplinks.into_iter().flatten().filter(|uplink| uplink.as_str() != bridge) {
            checked.forward.push(ForwardCheck {
                uplink: uplink.clone(),
                web: ruleset.forward_verdict(&vm, uplink, Traffic::Web),
                ping: ruleset.forward_verdict(&vm, uplink, Traffic::Ping),
            });
        }
    }
    let has_dhcp = network.config.ips.iter().any(|ip| !ip.is_ipv6() && !ip.dhcp_ranges.is_empty());
    if has_dhcp {
        checked.dhcp = Some(ruleset.input_verdict(&vm, Service::Dhcp));
    }
    checked.dns = Some(ruleset.input_verdict(&vm, Service::Dns));
    checked
}

/// The network's IPv4 subnet as netfilter sees it, with a guest address
/// from its DHCP range when it has one.
fn vm_network(network: &NetworkSnapshot, bridge: &str) -> Option<VmNetwork> {
    let ip = network.config.ips.iter().find(|ip| !ip.is_ipv6())?;
    let IpAddr::V4(host_address) = ip.address else { return None };
    let mut vm = VmNetwork::new(bridge, host_address, ip.prefix?);
    if let Some(IpAddr::V4(start)) = ip.dhcp_ranges.first().map(|range| range.start) {
        let same_subnet = crate::network::net_v4(host_address, vm.prefix).contains(&start);
        if same_subnet && start != host_address {
            vm.guest_address = start;
        }
    }
    Some(vm)
}

/// libvirt's firewall backend, as evidence.
pub(super) fn backend_evidence(host: &HostFacts) -> Evidence {
    let value = match &host.libvirt_firewall_backend {
        Fact::Known(FirewallBackend::Nftables) => "nftables".to_owned(),
        Fact::Known(FirewallBackend::Iptables) => "iptables".to_owned(),
        Fact::Known(FirewallBackend::Default) => "not set (libvirt's built-in choice)".to_owned(),
        Fact::Unknown(why) => format!("unknown: {why}"),
    };
    Evidence::new("libvirt firewall_backend (/etc/libvirt/network.conf)", value)
}

/// A verdict as an evidence value.
pub(super) fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept => "accepted".to_owned(),
        Verdict::Drop(blocker) => format!("dropped by {}", blocker.by),
        Verdict::Unknown(why) => format!("unknown: {why}"),
    }
}

/// The ping verdict as evidence: when ping passes while web traffic is
/// dropped, say so — it is what hides the problem.
pub(super) fn ping_text(ping: &Verdict, web: &Verdict) -> String {
    match (ping, web) {
        (Verdict::Accept, Verdict::Drop(_)) => {
            "accepted (so ping from a VM works, which hides the problem)".to_owned()
        }
        _ => verdict_text(ping),
    }
}

/// The forward path label used in evidence.
pub(super) fn forward_label(bridge: &str, uplink: &str) -> String {
    format!("new TCP connection to port 80, {bridge} → {uplink}")
}

pub(super) fn ping_label(bridge: &str, uplink: &str) -> String {
    format!("ICMP echo (ping), {bridge} → {uplink}")
}

pub(super) fn service_label(service: Service, bridge: &str) -> String {
    match service {
        Service::Dhcp => format!("DHCP request from a guest (UDP 67 on {bridge})"),
        Service::Dns => format!("DNS query from a guest (UDP 53 on {bridge})"),
    }
}

/// The services of `checked` whose requests `pred` says are dropped.
pub(super) fn dropped_services<'c>(
    checked: &'c Checked<'_>,
    pred: impl Fn(&Verdict) -> bool,
) -> Vec<(Service, &'c Verdict)> {
    [(Service::Dhcp, checked.dhcp.as_ref()), (Service::Dns, checked.dns.as_ref())]
        .into_iter()
        .filter_map(|(service, verdict)| {
            verdict.filter(|verdict| pred(verdict)).map(|verdict| (service, verdict))
        })
        .collect()
}

/// "DHCP", "DNS" or "DHCP and DNS" (protocol names, not translated).
pub(super) fn services_name(services: &[(Service, &Verdict)]) -> &'static str {
    match services {
        [(Service::Dhcp, _)] => "DHCP",
        [(Service::Dns, _)] => "DNS",
        _ => "DHCP and DNS",
    }
}
