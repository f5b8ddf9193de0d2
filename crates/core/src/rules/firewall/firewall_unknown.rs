//! `firewall-unknown`: what the firewall does to the guests' traffic could
//! not be decided — the rulesets need the helper or root, or a rule could
//! not be followed. Said once, with what is known, instead of a guess.

use gettextrs::gettext;

use super::ufw_routed_deny::ufw_evidence;
use super::{Context, backend_evidence, forward_label, service_label, verdict_text};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::host::{Fact, FirewallBackend};
use crate::i18n::fill;
use crate::netfilter::{Service, Verdict};

/// What the host probe says of facts only root or the helper may read (when
/// the helper was asked and did not answer, why follows).
const NEEDS_ROOT: &str = "needs the helper or root";

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    if context.networks.is_empty() {
        return Vec::new();
    }
    match &context.ruleset {
        Err(why) => unreadable(context, why),
        Ok(_) => undecided(context),
    }
}

/// The rulesets could not be read (not root, no helper) or parsed.
fn unreadable(context: &Context<'_>, why: &str) -> Vec<Finding> {
    let mut evidence = vec![Evidence::new("netfilter ruleset", format!("unknown: {why}"))];
    evidence.extend(ufw_evidence(context.host));
    evidence.push(backend_evidence(context.host));
    let mut explanation = if why.starts_with(NEEDS_ROOT) {
        gettext(
            "Whether the host firewall lets the VMs' traffic through can only be read with administrator rights (the nftables and iptables rulesets, “ufw status”), so it was not checked. Run “sudo vmnet-doctor check”, or install VM Network Doctor's helper.",
        )
    } else {
        gettext(
            "The host's firewall rules could not be read or understood (see the evidence), so whether they let the VMs' traffic through was not checked.",
        )
    };
    let ufw_drops_routed = matches!(
        &context.host.ufw,
        Fact::Known(Some(ufw)) if ufw.enabled_in_config
            && ufw.default_forward_policy.as_deref().is_some_and(|policy| policy != "ACCEPT")
    );
    if ufw_drops_routed {
        let bridges: Vec<&str> = context.networks.iter().map(|checked| checked.bridge).collect();
        let nftables = context.host.libvirt_firewall_backend == Fact::Known(FirewallBackend::Nftables);
        explanation.push(' ');
        explanation.push_str(&fill(
            &if nftables {
                gettext("UFW is enabled and drops routed traffic by default, and libvirt uses its nftables backend: unless UFW's rules allow {bridges}, VMs can ping but not load web pages, and may get no address at all.")
            } else {
                gettext("UFW is enabled and drops routed traffic by default: unless UFW's rules allow {bridges}, this can block VM traffic (it does with libvirt's nftables backend).")
            },
            &[("bridges", &bridges.join(", "))],
        ));
    }
    vec![finding(explanation, evidence)]
}

/// The rulesets were read but a verdict could not be decided.
fn undecided(context: &Context<'_>) -> Vec<Finding> {
    let mut evidence = Vec::new();
    for checked in &context.networks {
        for path in &checked.forward {
            if let Verdict::Unknown(_) = path.web {
                evidence.push(Evidence::new(
                    forward_label(checked.bridge, &path.uplink),
                    verdict_text(&path.web),
                ));
            }
        }
        for (service, verdict) in [(Service::Dhcp, &checked.dhcp), (Service::Dns, &checked.dns)] {
            if let Some(verdict @ Verdict::Unknown(_)) = verdict {
                evidence.push(Evidence::new(service_label(service, checked.bridge), verdict_text(verdict)));
            }
        }
    }
    if evidence.is_empty() {
        return Vec::new();
    }
    evidence.push(backend_evidence(context.host));
    let explanation = gettext(
        "The host's firewall rules were read, but some of them could not be followed to a definite answer for the VMs' traffic (see the evidence: a rule depends on something this checker does not model, such as a rate limit or a match whose details were not available). Rather than guess, the verdict for that traffic is left unknown.",
    );
    vec![finding(explanation, evidence)]
}

fn finding(explanation: String, evidence: Vec<Evidence>) -> Finding {
    Finding {
        id: "firewall-unknown",
        severity: Severity::Info,
        subject: Subject::Host,
        title: gettext("The host firewall could not be checked"),
        explanation,
        evidence,
        fix: None,
    }
}
