//! `fixes-open-nothing-inbound`: the accept rules VM Network Doctor's fixes
//! add only let traffic out of the VM bridge, and replies back. The
//! helper's fixes add exactly these (crates/helper/src/changes/firewall_rules.rs):
//! `ufw allow in on BRIDGE`, `ufw allow out on BRIDGE`, `ufw route allow in
//! on BRIDGE out on UPLINK`, and iptables `-i BRIDGE -o UPLINK -j ACCEPT`
//! and `-i UPLINK -o BRIDGE --ctstate RELATED,ESTABLISHED -j ACCEPT` with
//! the comment `vmnet-doctor`. Each such rule found in the ruleset is
//! evaluated against new TCP and UDP connections arriving on each uplink —
//! to the host, and forwarded to a guest — in the chains it is reached
//! from. It holds when no such rule accepts any of them.

use gettextrs::gettext;

use super::{Context, PostureId, PostureStatus, Statement};
use crate::i18n::fill;
use crate::netfilter::{FIX_RULE_COMMENT, Opening};

pub(super) fn check(context: &Context<'_>) -> Statement {
    let id = PostureId::FixesOpenNothingInbound;
    let ruleset = match &context.ruleset {
        Ok(ruleset) => ruleset,
        Err(why) => {
            let text = fill(&gettext("The firewall rules could not be read: {why}"), &[("why", why)]);
            return Statement::new(id, PostureStatus::Unknown, vec![text]);
        }
    };
    let uplinks = context.uplinks();
    if uplinks.is_empty() {
        let text =
            gettext("The host has no default route, so there is no uplink to judge the rules against.");
        return Statement::new(id, PostureStatus::Unknown, vec![text]);
    }
    let bridges = context.bridges();
    let (mut opens, mut doubts, mut closed) = (Vec::new(), Vec::new(), Vec::new());
    for (uplink, address) in &uplinks {
        for check in ruleset.fix_rules_inbound(&bridges, uplink, *address, &context.networks) {
            let values = [("place", check.place.as_str()), ("rule", check.rule.as_str()), ("uplink", uplink)];
            match check.opening {
                Opening::Yes(what) => opens.push(fill(
                    &gettext("{place}: `{rule}` accepts {what}"),
                    &[values[0], values[1], ("what", &what)],
                )),
                Opening::Maybe(why) => doubts.push(fill(
                    &gettext("{place}: `{rule}` may accept a new connection arriving on {uplink}: {why}"),
                    &[values[0], values[1], values[2], ("why", &why)],
                )),
                Opening::No => closed.push(fill(
                    &gettext("{place}: `{rule}` accepts no new connection arriving on {uplink}"),
                    &values,
                )),
            }
        }
    }
    let status = if !opens.is_empty() {
        PostureStatus::DoesNotHold
    } else if !doubts.is_empty() {
        PostureStatus::Unknown
    } else {
        PostureStatus::Holds
    };
    let mut evidence = opens;
    evidence.extend(doubts);
    if evidence.is_empty() && closed.is_empty() {
        evidence.push(fill(
            &gettext("No rule of the kinds our fixes add is in the ruleset (the helper's iptables rules carry the comment “{comment}”; its UFW rules name a VM bridge)."),
            &[("comment", FIX_RULE_COMMENT)],
        ));
    }
    evidence.extend(closed);
    Statement::new(id, status, evidence)
}
