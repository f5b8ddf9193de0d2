//! `default-network-missing`: there is no network named `default`.
//!
//! The fix is the guide's definition ("Recreate the `default` Network"):
//! NAT through `virbr0`, 192.168.122.1/24, DHCP .2–.254. When that subnet
//! is already used on the host (an address, a route such as a VPN's, or
//! another libvirt network) the plan moves to the first free private /24,
//! and when `virbr0` exists it takes the first free `virbrN`.

use std::net::Ipv4Addr;

use gettextrs::gettext;

use super::common::{DEFAULT_NETWORK, NicRef, is_session, overlaps, users, users_evidence};
use super::subnet_uses::{SubnetUse, SubnetUses, subnet_uses};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::i18n::fill;
use crate::snapshot::Snapshot;

/// The guide's subnet and bridge.
const GUIDE_SUBNET: Ipv4Addr = Ipv4Addr::new(192, 168, 122, 0);
const GUIDE_BRIDGE: &str = "virbr0";

/// What defining `default` would create, and why it differs from the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DefaultPlan {
    /// The /24 chosen (network address), `None` when every candidate is taken.
    pub subnet: Option<Ipv4Addr>,
    pub bridge: String,
    /// What already uses 192.168.122.0/24 (empty when it is free).
    pub subnet_taken_by: Vec<Evidence>,
    /// Whether a host link is already called `virbr0`, or another network uses it.
    pub bridge_taken: bool,
    /// Why the host's addresses and routes were not checked, if they were not.
    pub host_unknown: Option<String>,
}

impl DefaultPlan {
    pub fn fix(&self) -> Option<Fix> {
        let subnet = self.subnet?;
        Some(Fix::DefineNetwork { name: DEFAULT_NETWORK.to_owned(), xml: guide_xml(&self.bridge, subnet) })
    }
}

/// The guide's XML, byte for byte, on bridge `bridge` and the /24 `subnet`.
pub(super) fn guide_xml(bridge: &str, subnet: Ipv4Addr) -> String {
    let [a, b, c, _] = subnet.octets();
    let host = |last: u8| format!("{a}.{b}.{c}.{last}");
    format!(
        "<network>\n  <name>default</name>\n  <forward mode=\"nat\"/>\n  <bridge name=\"{bridge}\" stp=\"on\" delay=\"0\"/>\n  <ip address=\"{gateway}\" netmask=\"255.255.255.0\">\n    <dhcp>\n      <range start=\"{start}\" end=\"{end}\"/>\n    </dhcp>\n  </ip>\n</network>\n",
        gateway = host(1),
        start = host(2),
        end = host(254),
    )
}

/// Private /24s in the order they are tried: 192.168.122.0/24 (the guide's),
/// the rest of 192.168.x, then 10.x.y, then 172.16–31.x.
fn candidates() -> impl Iterator<Item = Ipv4Addr> {
    let tail = (122..=255u8).map(|c| Ipv4Addr::new(192, 168, c, 0));
    let ten = (0..=255u8).flat_map(|b| (0..=255u8).map(move |c| Ipv4Addr::new(10, b, c, 0)));
    let one_seven_two = (16..=31u8).flat_map(|b| (0..=255u8).map(move |c| Ipv4Addr::new(172, b, c, 0)));
    tail.chain(ten).chain(one_seven_two)
}

/// Picks the subnet and bridge for a new `default` network.
pub(super) fn plan(snapshot: &Snapshot) -> DefaultPlan {
    let SubnetUses { uses, link_names, host_unknown } = subnet_uses(snapshot);
    let subnet = free_subnet(&uses);
    let subnet_taken_by: Vec<Evidence> = uses
        .iter()
        .filter(|taken| overlaps(taken.prefix, (GUIDE_SUBNET, 24)))
        .map(|taken| taken.evidence.clone())
        .collect();
    let bridge_taken = link_names.contains(&GUIDE_BRIDGE);
    let bridge = (0..10_000u32)
        .map(|n| format!("virbr{n}"))
        .find(|name| !link_names.contains(&name.as_str()))
        .unwrap_or_else(|| GUIDE_BRIDGE.to_owned());
    DefaultPlan { subnet, bridge, subnet_taken_by, bridge_taken, host_unknown }
}

/// The first private /24 (in [`candidates`] order) that nothing uses.
pub(super) fn free_subnet(uses: &[SubnetUse<'_>]) -> Option<Ipv4Addr> {
    candidates().find(|candidate| !uses.iter().any(|taken| overlaps(taken.prefix, (*candidate, 24))))
}

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    // A per-user libvirt cannot create bridges, so it has no `default`
    // network to miss; `nic-user-mode` explains the session case.
    if snapshot.network(DEFAULT_NETWORK).is_some()
        || is_session(&snapshot.uri)
        || snapshot.unreadable.iter().any(|object| object.name == DEFAULT_NETWORK)
    {
        return Vec::new();
    }
    let users: Vec<NicRef<'_>> = users(snapshot, DEFAULT_NETWORK);
    let plan = plan(snapshot);
    let mut paragraphs = vec![if users.is_empty() {
        gettext(
            "libvirt has no network called “default”. It normally ships one, and virt-manager puts new VMs on it; some distributions (Arch) do not ship it, or it was deleted. Without it, new VMs have no NAT network to join.",
        )
    } else {
        gettext(
            "libvirt has no network called “default”, but VMs use it: they cannot start (“Network not found”), and running ones have no network. libvirt normally ships it; some distributions (Arch) do not, or it was deleted.",
        )
    }];
    paragraphs.push(plan_explanation(&plan));
    let mut evidence = vec![Evidence::new("virsh net-list --all", "no network named default")];
    if !users.is_empty() {
        evidence.push(users_evidence(&users));
    }
    evidence.extend(plan.subnet_taken_by.iter().cloned());
    vec![Finding {
        id: "default-network-missing",
        severity: if users.is_empty() { Severity::Warning } else { Severity::Error },
        subject: Subject::Network { name: DEFAULT_NETWORK.to_owned() },
        title: gettext("The “default” network is missing"),
        explanation: paragraphs.join("\n\n"),
        evidence,
        fix: plan.fix(),
    }]
}

/// What the fix would define, and why it differs from the guide.
pub(super) fn plan_explanation(plan: &DefaultPlan) -> String {
    let Some(subnet) = plan.subnet else {
        return gettext(
            "Every private /24 subnet is already used on this host, so no network can be proposed.",
        );
    };
    let cidr = format!("{subnet}/24");
    let mut parts = vec![fill(
        &gettext(
            "The fix defines it as the guide does: NAT through the bridge {bridge}, subnet {subnet}, DHCP for the guests. Then start it and mark it autostart.",
        ),
        &[("bridge", &plan.bridge), ("subnet", &cidr)],
    )];
    if !plan.subnet_taken_by.is_empty() {
        let uses: Vec<String> =
            plan.subnet_taken_by.iter().map(|e| format!("{} {}", e.what, e.value)).collect();
        parts.push(fill(
            &gettext("The guide's subnet 192.168.122.0/24 is already used on this host ({uses}); a second network on it would make those addresses unreachable, so {subnet} is used instead."),
            &[("uses", &uses.join("; ")), ("subnet", &cidr)],
        ));
    }
    if plan.bridge_taken {
        parts.push(fill(
            &gettext("An interface called virbr0 already exists, so the bridge is called {bridge}."),
            &[("bridge", &plan.bridge)],
        ));
    }
    if let Some(reason) = &plan.host_unknown {
        parts.push(fill(
            &gettext("The host's addresses and routes could not be read ({reason}), so the subnet was only checked against the other libvirt networks."),
            &[("reason", reason)],
        ));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::common::network_address;
    use super::*;

    #[test]
    fn guide_xml_is_the_guides() {
        let xml = guide_xml("virbr0", GUIDE_SUBNET);
        assert!(xml.contains("<bridge name=\"virbr0\" stp=\"on\" delay=\"0\"/>"));
        assert!(xml.contains("<ip address=\"192.168.122.1\" netmask=\"255.255.255.0\">"));
        assert!(xml.contains("<range start=\"192.168.122.2\" end=\"192.168.122.254\"/>"));
    }

    #[test]
    fn candidates_start_with_the_guide_and_stay_private() {
        let mut all = candidates();
        assert_eq!(all.next(), Some(GUIDE_SUBNET));
        assert_eq!(all.next(), Some(Ipv4Addr::new(192, 168, 123, 0)));
        assert!(candidates().all(|net| net.is_private() && network_address(net, 24) == net));
        assert_eq!(candidates().nth(134), Some(Ipv4Addr::new(10, 0, 0, 0)));
    }
}
