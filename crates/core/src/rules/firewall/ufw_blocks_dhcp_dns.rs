//! `ufw-blocks-dhcp-dns`: UFW's INPUT chain drops the guests' DHCP or DNS
//! requests to dnsmasq on the bridge (libvirt's nftables backend adds no
//! rules for them; its iptables backend did).

use gettextrs::gettext;

use super::ufw_routed_deny::ufw_evidence;
use super::{Context, backend_evidence, dropped_services, service_label, services_name, verdict_text};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::host::{Fact, FirewallBackend};
use crate::i18n::fill;
use crate::netfilter::{Owner, Service, Verdict};

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for checked in &context.networks {
        let dropped = dropped_services(
            checked,
            |verdict| matches!(verdict, Verdict::Drop(blocker) if blocker.owner == Some(Owner::Ufw)),
        );
        if dropped.is_empty() {
            continue;
        }
        let (name, bridge) = (checked.network.name(), checked.bridge);
        let services = services_name(&dropped);
        let values = [("name", name), ("bridge", bridge), ("services", services)];
        let mut evidence = ufw_evidence(context.host);
        for (service, verdict) in &dropped {
            evidence.push(Evidence::new(service_label(*service, bridge), verdict_text(verdict)));
        }
        evidence.push(backend_evidence(context.host));
        let mut explanation = fill(
            &gettext(
                "VMs on {bridge} ask the host itself for an address (DHCP) and for name lookups (DNS): libvirt's dnsmasq answers them on {bridge}. UFW drops incoming traffic that no rule allows, and nothing allows {services} on {bridge}.",
            ),
            &values,
        );
        // What a user sees, as measured in the lab (S3): the address stays
        // until the lease runs out; renewing and looking up names fail.
        if dropped.iter().any(|(service, _)| *service == Service::Dhcp) {
            explanation.push(' ');
            explanation.push_str(&gettext("A VM that is already running keeps its address until the lease runs out, but cannot renew it; a VM that starts now gets no address at all."));
        }
        if dropped.iter().any(|(service, _)| *service == Service::Dns) {
            explanation.push(' ');
            explanation.push_str(&gettext("Name lookups time out, so every program that uses a name fails, while ping to an address still works."));
        }
        if context.host.libvirt_firewall_backend == Fact::Known(FirewallBackend::Nftables) {
            explanation.push(' ');
            explanation.push_str(&gettext("libvirt's nftables backend adds no rules of its own for these requests (its iptables backend did), so UFW decides."));
        }
        explanation.push(' ');
        explanation.push_str(&fill(
            &gettext("The fix adds the guide's UFW rules, which include “ufw allow in on {bridge}”."),
            &values,
        ));
        findings.push(Finding {
            id: "ufw-blocks-dhcp-dns",
            severity: Severity::Error,
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("UFW blocks {services} for the VMs of network “{name}”"), &values),
            explanation,
            evidence,
            fix: context
                .first_uplink()
                .map(|uplink| Fix::UfwAllowBridge { bridge: bridge.to_owned(), uplink: uplink.to_owned() }),
        });
    }
    findings
}
