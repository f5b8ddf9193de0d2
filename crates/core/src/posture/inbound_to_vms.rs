//! `no-inbound-to-vms`: a new connection from the internet to a guest is
//! dropped by the ruleset as a whole — the guide's "Internet can't reach
//! VMs directly". Judged by the evaluator for new TCP connections that
//! arrive on each uplink addressed to each guest address the snapshot
//! knows on each VM network (a representative address when none is
//! known), on the ports of [`PORTS`] — as if a neighbour routed the VM
//! subnet to this host, the worst case.

use gettextrs::gettext;

use super::{Context, PostureId, PostureStatus, Statement};
use crate::i18n::fill;
use crate::netfilter::Verdict;

/// The ports each guest is probed on: remote shells and desktops, the web,
/// and the port the lab's guest serves. A rule that opens another single
/// port is not seen here; `no-port-forwarding` names every forward.
const PORTS: [u16; 6] = [22, 80, 443, 3389, 5900, 8080];

pub(super) fn check(context: &Context<'_>) -> Statement {
    let id = PostureId::NoInboundToVms;
    let ruleset = match &context.ruleset {
        Ok(ruleset) => ruleset,
        Err(why) => {
            let text = fill(&gettext("The firewall rules could not be read: {why}"), &[("why", why)]);
            return Statement::new(id, PostureStatus::Unknown, vec![text]);
        }
    };
    if context.networks.is_empty() {
        let text = gettext("No active libvirt network routes VM traffic through this host.");
        return Statement::new(id, PostureStatus::Holds, vec![text]);
    }
    let uplinks = context.uplinks();
    if uplinks.is_empty() {
        let text = gettext("The host has no default route: nothing arrives from the internet.");
        return Statement::new(id, PostureStatus::Holds, vec![text]);
    }
    let (mut accepted, mut unknown) = (Vec::new(), Vec::new());
    let mut dropped: Vec<((String, String, String), Vec<String>)> = Vec::new();
    for network in &context.networks {
        for (uplink, _) in &uplinks {
            for guest in context.guests_on(network) {
                for port in PORTS {
                    let target = format!("{guest}:{port}");
                    let values = [
                        ("guest", target.as_str()),
                        ("bridge", network.bridge.as_str()),
                        ("uplink", uplink.as_str()),
                    ];
                    match ruleset.inbound_verdict(network, uplink, guest, port) {
                        Verdict::Drop(blocker) => {
                            let key = (uplink.clone(), network.bridge.clone(), blocker.by);
                            match dropped.iter_mut().find(|(known, _)| *known == key) {
                                Some((_, targets)) => targets.push(target.clone()),
                                None => dropped.push((key, vec![target.clone()])),
                            }
                        }
                        Verdict::Accept => accepted.push(fill(
                            &gettext("A new connection from the internet (in on {uplink}) to {guest} on {bridge} passes every chain"),
                            &values,
                        )),
                        Verdict::Unknown(why) => unknown.push(fill(
                            &gettext("Whether a new connection from the internet (in on {uplink}) to {guest} on {bridge} passes is unknown: {why}"),
                            &[values[0], values[1], values[2], ("why", &why)],
                        )),
                    }
                }
            }
        }
    }
    let status = if !accepted.is_empty() {
        PostureStatus::DoesNotHold
    } else if !unknown.is_empty() {
        PostureStatus::Unknown
    } else {
        PostureStatus::Holds
    };
    let mut evidence = accepted;
    evidence.extend(unknown);
    // Many probes end in the same rule: one line per rule.
    evidence.extend(dropped.into_iter().map(|((uplink, bridge, by), targets)| {
        fill(
            &gettext("New connections from the internet (in on {uplink}) to {targets} on {bridge} are dropped: {by}"),
            &[("uplink", &uplink), ("targets", &targets.join(", ")), ("bridge", &bridge), ("by", &by)],
        )
    }));
    Statement::new(id, status, evidence)
}
