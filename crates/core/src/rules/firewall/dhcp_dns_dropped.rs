//! `dhcp-dns-dropped`: a chain other than UFW's drops the guests' DHCP or
//! DNS requests to dnsmasq on the bridge (a hand-written nftables input
//! policy, firewalld rules while the bridge is in the right zone…).

use gettextrs::gettext;

use super::{Context, backend_evidence, dropped_services, service_label, services_name, verdict_text};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;
use crate::netfilter::{Owner, Verdict};

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for checked in &context.networks {
        let misplaced = super::firewalld_zone::misplaced(context, checked).is_some();
        let dropped = dropped_services(checked, |verdict| match verdict {
            Verdict::Drop(blocker) => match blocker.owner {
                Some(Owner::Ufw) => false,
                // firewalld-zone explains (and fixes) it.
                Some(Owner::Firewalld) => !misplaced,
                _ => true,
            },
            _ => false,
        });
        if dropped.is_empty() {
            continue;
        }
        let (name, bridge) = (checked.network.name(), checked.bridge);
        let services = services_name(&dropped);
        let values = [("name", name), ("bridge", bridge), ("services", services)];
        let mut evidence: Vec<Evidence> = dropped
            .iter()
            .map(|(service, verdict)| Evidence::new(service_label(*service, bridge), verdict_text(verdict)))
            .collect();
        evidence.push(backend_evidence(context.host));
        findings.push(Finding {
            id: "dhcp-dns-dropped",
            severity: Severity::Error,
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("The host firewall blocks {services} for the VMs of network “{name}”"), &values),
            explanation: fill(
                &gettext("VMs on {bridge} ask the host itself for an address (DHCP) and for name lookups (DNS): libvirt's dnsmasq answers them on {bridge}. A rule of the host firewall drops these requests (see the evidence), so VMs get no address or cannot resolve names. Allow UDP ports 67 and 53 (and TCP 53) coming in on {bridge} in that firewall."),
                &values,
            ),
            evidence,
            fix: None,
        });
    }
    findings
}
