//! `forward-dropped`: a chain other than UFW's drops the guests' traffic
//! to the internet — typically Docker's FORWARD policy DROP, which libvirt's
//! nftables backend cannot override from its own table.

use gettextrs::gettext;

use super::{Context, backend_evidence, forward_label, ping_label, ping_text, verdict_text};
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
