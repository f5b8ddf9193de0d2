//! `ufw-routed-deny`: UFW's FORWARD chain drops the guests' traffic to the
//! internet — the guide's "silent breaker".
//!
//! Decided by evaluating the ruleset, not from UFW's settings alone: with
//! libvirt's iptables backend the same UFW defaults do not block VMs.

use gettextrs::gettext;

use super::{Context, backend_evidence, forward_label, ping_label, ping_text, verdict_text};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::host::{Fact, FirewallBackend, HostFacts};
use crate::i18n::fill;
use crate::netfilter::{Owner, Verdict};

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for checked in context.forwarding_networks() {
        for path in &checked.forward {
            let Verdict::Drop(blocker) = &path.web else { continue };
            if blocker.owner != Some(Owner::Ufw) {
                continue;
            }
            let (name, bridge, uplink) = (checked.network.name(), checked.bridge, path.uplink.as_str());
            let values = [("name", name), ("bridge", bridge), ("uplink", uplink)];
            let mut explanation = fill(
                &gettext(
                    "UFW — the silent breaker — drops routed traffic unless a rule allows it, and VM traffic is routed: it comes in on {bridge} and leaves through {uplink}. Ping keeps working, because UFW's own rules let ICMP echo through, while every connection a VM opens to the internet (web, HTTPS, apt, a DNS server out there) is dropped without an error message: it only times out.",
                ),
                &values,
            );
            if nftables_backend(context.host) {
                explanation.push(' ');
                explanation.push_str(&gettext("libvirt's nftables backend accepts this traffic in its own table, but with nftables every table has its say, and UFW's FORWARD chain still drops it."));
            }
            explanation.push(' ');
            explanation.push_str(&fill(
                &gettext("The fix adds the guide's three UFW rules: “ufw allow in on {bridge}”, “ufw allow out on {bridge}” and “ufw route allow in on {bridge} out on {uplink}”. They open no port on the host and let nothing in from the internet: only the VMs' own connections go out, and their replies come back."),
                &values,
            ));
            let mut evidence = ufw_evidence(context.host);
            evidence.push(Evidence::new(forward_label(bridge, uplink), verdict_text(&path.web)));
            evidence.push(Evidence::new(ping_label(bridge, uplink), ping_text(&path.ping, &path.web)));
            evidence.push(backend_evidence(context.host));
            findings.push(Finding {
                id: "ufw-routed-deny",
                severity: Severity::Error,
                subject: Subject::Network { name: name.to_owned() },
                title: fill(&gettext("UFW blocks the internet traffic of network “{name}”"), &values),
                explanation,
                evidence,
                fix: Some(Fix::UfwAllowBridge { bridge: bridge.to_owned(), uplink: uplink.to_owned() }),
            });
        }
    }
    findings
}

fn nftables_backend(host: &HostFacts) -> bool {
    host.libvirt_firewall_backend == Fact::Known(FirewallBackend::Nftables)
}

/// What UFW's status and files say, as evidence.
pub(super) fn ufw_evidence(host: &HostFacts) -> Vec<Evidence> {
    let mut evidence = Vec::new();
    let Fact::Known(Some(ufw)) = &host.ufw else { return evidence };
    match &ufw.status {
        Fact::Known(status) => {
            evidence.push(Evidence::new("ufw status", if status.active { "active" } else { "inactive" }));
            if let Some(routed) = &status.default_routed {
                evidence.push(Evidence::new("ufw default (routed)", routed.clone()));
            }
            if let Some(incoming) = &status.default_incoming {
                evidence.push(Evidence::new("ufw default (incoming)", incoming.clone()));
            }
            let rules: Vec<String> = status
                .rules
                .iter()
                .map(|rule| format!("{} {} from {}", rule.action, rule.to, rule.from))
                .collect();
            evidence.push(Evidence::new(
                "ufw rules",
                if rules.is_empty() { "none".to_owned() } else { rules.join("; ") },
            ));
        }
        Fact::Unknown(why) => {
            evidence.push(Evidence::new(
                "/etc/ufw/ufw.conf ENABLED",
                if ufw.enabled_in_config { "yes" } else { "no" },
            ));
            evidence.push(Evidence::new("ufw status", format!("unknown: {why}")));
        }
    }
    if let Some(policy) = &ufw.default_forward_policy {
        evidence.push(Evidence::new("/etc/default/ufw DEFAULT_FORWARD_POLICY", policy.clone()));
    }
    evidence
}
