//! `network-subnet-collision`: a libvirt network's IPv4 subnet is also used
//! elsewhere on the host — a route or address on another interface (a VPN,
//! the LAN on 192.168.122.0/24) or another libvirt network.
//!
//! libvirt refuses to start a network whose exact subnet the main routing
//! table already routes through another interface ("Network is already in
//! use by interface …", `networkCheckRouteCollision` reading
//! /proc/net/route); a partial overlap starts, and then the more specific
//! route takes the VMs' replies away. Of two libvirt networks on one
//! subnet only one can run. The fix moves the network to the first free
//! private /24.

use std::net::Ipv4Addr;

use gettextrs::gettext;

use super::common::{ipv4_subnets, libvirt_runs_bridge, overlaps, users, users_evidence};
use super::default_network_missing::free_subnet;
use super::subnet_uses::{SubnetUse, User, subnet_uses};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let all = subnet_uses(snapshot);
    let mut findings = Vec::new();
    for network in snapshot.networks.iter().filter(|network| libvirt_runs_bridge(&network.config)) {
        let name = network.name();
        let bridge = network.config.bridge_name();
        for subnet in ipv4_subnets(&network.config) {
            // Everything else on the subnet: not this network's own `<ip>`,
            // nor the address and connected route it puts on its bridge; of
            // the other libvirt networks only running ones (a stopped twin
            // takes nothing from a running network, and of two stopped ones
            // whichever starts first simply wins).
            let running = |other: &str| snapshot.network(other).is_some_and(|net| net.active);
            let others: Vec<_> = all
                .uses
                .iter()
                .filter(|taken| overlaps(taken.prefix, subnet))
                .filter(|taken| match taken.by {
                    User::Network(other) => other != name && running(other),
                    User::Address { link } => Some(link) != bridge,
                    User::Route { dev, .. } => Some(dev) != bridge,
                })
                .collect();
            if others.is_empty() {
                continue;
            }
            let cidr = format!("{}/{}", subnet.0, subnet.1);
            let blocking = blocker(snapshot, &all.uses, subnet, bridge);
            let users = users(snapshot, name);
            let needed = network.active || network.autostart || !users.is_empty();
            let severity = if needed { Severity::Error } else { Severity::Warning };
            let uses: Vec<String> = others
                .iter()
                .map(|taken| format!("{} {}", taken.evidence.what, taken.evidence.value))
                .collect();
            let values = [("name", name), ("subnet", cidr.as_str()), ("uses", &uses.join("; "))];
            let mut paragraphs = vec![fill(
                &gettext(
                    "Network “{name}” uses the subnet {subnet}, which something else on this host uses too: {uses}.",
                ),
                &values,
            )];
            paragraphs.push(match (blocking, network.active) {
                (Some(Blocker::Network { name: other, bridge: dev }), false) => fill(
                    &gettext("libvirt will not start it while network “{other}” runs on the same subnet: {other}’s bridge {dev} routes it (“Network is already in use by interface {dev}”). Of two libvirt networks on one subnet only one can run; a copy of a network made without a new subnet is the usual cause."),
                    &[("other", other), ("dev", dev)],
                ),
                (Some(Blocker::Route { dev }), false) => fill(
                    &gettext("libvirt will not start the network while {dev} routes the same subnet (“Network is already in use by interface {dev}”). A VPN or the LAN on 192.168.122.0/24 is the usual cause."),
                    &[("dev", dev)],
                ),
                _ => gettext("Traffic for the overlapping addresses goes to whichever route is more specific, so replies to the VMs can leave through the other interface, and of two libvirt networks on one subnet only one can run. A VPN or the LAN on 192.168.122.0/24 is the usual cause."),
            });
            let free = (subnet.1 == 24).then(|| free_subnet(&all.uses)).flatten();
            let fix = free.map(|to| Fix::MoveNetworkSubnet { name: name.to_owned(), from: subnet.0, to });
            paragraphs.push(fix_explanation(
                network.active,
                free,
                &users.iter().map(|nic| nic.describe()).collect::<Vec<_>>(),
                &cidr,
                subnet.1,
            ));
            let mut evidence = vec![Evidence::new(format!("network {name} ip"), cidr.clone())];
            evidence.extend(others.iter().map(|taken| taken.evidence.clone()));
            if !users.is_empty() {
                evidence.push(users_evidence(&users));
            }
            findings.push(Finding {
                id: "network-subnet-collision",
                severity,
                subject: Subject::Network { name: name.to_owned() },
                title: fill(&gettext("Network “{name}” shares its subnet {subnet} with the host"), &values),
                explanation: paragraphs.join(" "),
                evidence,
                fix,
            });
        }
    }
    findings
}

/// What moving the network changes, or why it cannot be offered.
fn fix_explanation(active: bool, free: Option<Ipv4Addr>, vms: &[String], cidr: &str, prefix: u8) -> String {
    let Some(free) = free else {
        return if prefix == 24 {
            gettext("Every private /24 subnet is already used on this host, so no free one can be proposed.")
        } else {
            fill(
                &gettext(
                    "Give the network a subnet nothing else uses (virsh net-edit); only /24 networks are moved automatically, and {subnet} is not one.",
                ),
                &[("subnet", cidr)],
            )
        };
    };
    let new = format!("{free}/24");
    let mut text = fill(
        &gettext(
            "The fix moves the network to {new}, a free private subnet: its address, DHCP range and static entries are renumbered, keeping each address’s last number.",
        ),
        &[("new", &new)],
    );
    text.push(' ');
    text.push_str(&if active {
        gettext(
            "The network is stopped and started again for that, so its VMs lose their network for a moment.",
        )
    } else {
        gettext("Then the network is started.")
    });
    if !vms.is_empty() {
        text.push(' ');
        text.push_str(&fill(
            &gettext("Its VMs ({vms}) take a new address at their next DHCP renewal; restart them (or their network connection) to get one at once. A guest with a static address in {subnet} must be changed by hand."),
            &[("vms", &vms.join(", ")), ("subnet", cidr)],
        ));
    }
    text
}

/// Whether libvirt refuses to start the stopped network `name` because the
/// main table routes one of its exact subnets through another interface
/// (then starting it is no fix: moving it is).
pub(super) fn blocks_start(snapshot: &Snapshot, name: &str) -> bool {
    let Some(network) = snapshot.network(name).filter(|network| !network.active) else {
        return false;
    };
    let uses = subnet_uses(snapshot).uses;
    let bridge = network.config.bridge_name();
    ipv4_subnets(&network.config).into_iter().any(|subnet| blocker(snapshot, &uses, subnet, bridge).is_some())
}

/// What makes libvirt refuse to start a network on `subnet`.
#[derive(Debug, Clone, Copy)]
enum Blocker<'s> {
    /// A running libvirt network on exactly that subnet: its bridge holds
    /// the route, known even where the host's routes are not (a remote or
    /// test connection).
    Network { name: &'s str, bridge: &'s str },
    /// Another route of the main table for exactly that subnet.
    Route { dev: &'s str },
}

fn blocker<'s>(
    snapshot: &'s Snapshot,
    uses: &[SubnetUse<'s>],
    subnet: (Ipv4Addr, u8),
    bridge: Option<&str>,
) -> Option<Blocker<'s>> {
    let twin = uses.iter().find_map(|taken| match taken.by {
        User::Network(name) if taken.prefix == subnet => {
            let network = snapshot.network(name).filter(|network| network.active)?;
            let twin_bridge =
                network.config.bridge_name().filter(|twin_bridge| Some(*twin_bridge) != bridge)?;
            Some(Blocker::Network { name, bridge: twin_bridge })
        }
        _ => None,
    });
    twin.or_else(|| blocking_route(uses, subnet, bridge).map(|dev| Blocker::Route { dev }))
}

/// libvirt's own check before it starts a network (`networkCheckRouteCollision`):
/// the device through which the main table routes exactly `subnet`, other
/// than the network's own bridge.
fn blocking_route<'s>(
    uses: &[SubnetUse<'s>],
    subnet: (Ipv4Addr, u8),
    bridge: Option<&str>,
) -> Option<&'s str> {
    uses.iter().find_map(|taken| match taken.by {
        User::Route { dev, main_table: true } if taken.prefix == subnet && Some(dev) != bridge => Some(dev),
        _ => None,
    })
}
