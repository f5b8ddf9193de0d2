//! `forward-dropped`: a chain other than UFW's drops the guests' traffic
//! to the internet — typically Docker's FORWARD policy DROP, which libvirt's
//! nftables backend cannot override from its own table — or libvirt's own
//! rules, when a network is tied to one device (`<forward dev=…>`) and the
//! host routes its traffic through another (a VPN's policy routing).

use gettextrs::gettext;

use super::{
    Checked, Context, ForwardCheck, backend_evidence, forward_label, ping_label, ping_text, verdict_text,
};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::i18n::fill;
use crate::netfilter::{Owner, Verdict};

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for checked in context.forwarding_networks() {
        for path in &checked.forward {
            let Verdict::Drop(blocker) = &path.web else { continue };
            if blocker.owner == Some(Owner::Ufw) {
                continue; // ufw-routed-deny
            }
            let firewalld = blocker.owner == Some(Owner::Firewalld);
            if firewalld && super::firewalld_zone::misplaced(context, checked).is_some() {
                continue; // firewalld-zone has the fix
            }
            let (name, bridge, uplink) = (checked.network.name(), checked.bridge, path.uplink.as_str());
            let values =
                [("name", name), ("bridge", bridge), ("uplink", uplink), ("by", blocker.by.as_str())];
            if let Some(pinned) = pinned_elsewhere(checked, uplink, blocker.owner) {
                findings.push(tied_to_another_device(checked, path, pinned, context.host));
                continue;
            }
            let mut explanation = fill(
                &gettext(
                    "The host firewall drops traffic forwarded from {bridge} to {uplink} ({by}). VMs on “{name}” get addresses and reach the host, but nothing beyond it.",
                ),
                &values,
            );
            explanation.push(' ');
            explanation.push_str(&match blocker.owner {
                Some(Owner::Docker) => fill(&gettext("Docker sets the FORWARD policy to DROP when it starts. libvirt's nftables backend accepts VM traffic in a table of its own, which does not override a drop in Docker's table. The fix accepts forwarding between {bridge} and {uplink}, and the replies, ahead of that policy, without touching Docker's rules."), &values),
                Some(Owner::Firewalld) => gettext("These are firewalld's rules: change its zones or policies (for example with firewall-cmd) so that the bridge's traffic may be forwarded."),
                _ => fill(&gettext("The fix accepts forwarding between {bridge} and {uplink}, and the replies, ahead of the rule that drops it."), &values),
            });
            let evidence = vec![
                Evidence::new(forward_label(bridge, uplink), verdict_text(&path.web)),
                Evidence::new(ping_label(bridge, uplink), ping_text(&path.ping, &path.web)),
                backend_evidence(context.host),
            ];
            findings.push(Finding {
                id: "forward-dropped",
                severity: Severity::Error,
                subject: Subject::Network { name: name.to_owned() },
                title: fill(
                    &gettext("The host firewall drops the internet traffic of network “{name}”"),
                    &values,
                ),
                explanation,
                evidence,
                fix: (!firewalld)
                    .then(|| Fix::AcceptForward { bridge: bridge.to_owned(), uplink: uplink.to_owned() }),
            });
        }
    }
    findings
}

/// The device libvirt lets the network's traffic out through, when its own
/// rules drop the traffic because the host routes it elsewhere.
fn pinned_elsewhere<'c>(checked: &'c Checked<'_>, uplink: &str, owner: Option<Owner>) -> Option<&'c str> {
    let devs = &checked.network.config.forward_devs;
    let elsewhere =
        owner == Some(Owner::Libvirt) && !devs.is_empty() && !devs.iter().any(|dev| dev == uplink);
    elsewhere.then(|| devs[0].as_str())
}

/// libvirt accepts the network's traffic only out of `pinned`; the routes
/// send it out of the uplink. Opening the firewall would be the wrong
/// depth: the network's definition names the wrong device.
fn tied_to_another_device(
    checked: &Checked<'_>,
    path: &ForwardCheck,
    pinned: &str,
    host: &crate::host::HostFacts,
) -> Finding {
    let (name, bridge, uplink) = (checked.network.name(), checked.bridge, path.uplink.as_str());
    let values = [("name", name), ("bridge", bridge), ("uplink", uplink), ("dev", pinned)];
    Finding {
        id: "forward-dropped",
        severity: Severity::Error,
        subject: Subject::Network { name: name.to_owned() },
        title: fill(
            &gettext("Network “{name}” may only use {dev}, but the host routes its traffic through {uplink}"),
            &values,
        ),
        explanation: fill(
            &gettext(
                "The definition of “{name}” ties it to {dev} (<forward dev='{dev}'/>), so libvirt's own firewall rules let its traffic out only through {dev}. The host's routes send it through {uplink} instead (a VPN's policy routing does this), and libvirt rejects it there: VMs on “{name}” reach the host, but nothing beyond it. Edit the network (virsh net-edit {name}): remove dev='{dev}' from <forward>, or name {uplink}; then restart the network.",
            ),
            &values,
        ),
        evidence: vec![
            Evidence::new(forward_label(bridge, uplink), verdict_text(&path.web)),
            Evidence::new("network <forward dev>", pinned.to_owned()),
            backend_evidence(host),
        ],
        fix: None,
    }
}
