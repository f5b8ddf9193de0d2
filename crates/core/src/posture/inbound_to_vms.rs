//! `no-inbound-to-vms`: a new connection from the internet to a guest is
//! dropped by the ruleset as a whole — the guide's "Internet can't reach
//! VMs directly". Judged by the evaluator for a new TCP connection that
//! arrives on each uplink addressed to a guest of each VM network (as if
//! a neighbour routed the VM subnet to this host, the worst case).

use gettextrs::gettext;

use super::{Context, PostureId, PostureStatus, Statement};
use crate::i18n::fill;
use crate::netfilter::Verdict;

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
    let (mut accepted, mut unknown, mut dropped) = (Vec::new(), Vec::new(), Vec::new());
    for network in &context.networks {
        for (uplink, _) in &uplinks {
            let guest = network.guest_address.to_string();
            let values =
                [("guest", guest.as_str()), ("bridge", network.bridge.as_str()), ("uplink", uplink.as_str())];
            match ruleset.inbound_verdict(network, uplink) {
                Verdict::Drop(blocker) => dropped.push(fill(
                    &gettext("A new connection from the internet (in on {uplink}) to {guest} on {bridge} is dropped: {by}"),
                    &[values[0], values[1], values[2], ("by", &blocker.by)],
                )),
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
    let status = if !accepted.is_empty() {
        PostureStatus::DoesNotHold
    } else if !unknown.is_empty() {
        PostureStatus::Unknown
    } else {
        PostureStatus::Holds
    };
    let mut evidence = accepted;
    evidence.extend(unknown);
    evidence.extend(dropped);
    Statement::new(id, status, evidence)
}
