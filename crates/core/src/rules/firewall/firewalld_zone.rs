//! `firewalld-zone`: firewalld runs and a libvirt bridge is not in the
//! zone libvirt made for it (`libvirt`, or `libvirt-routed` for route
//! networks), so firewalld's other zones reject the guests' DHCP, DNS and
//! forwarded traffic.

use gettextrs::gettext;

use super::{Checked, Context, dropped_services, forward_label, service_label, verdict_text};
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::host::Fact;
use crate::i18n::fill;
use crate::netfilter::Verdict;
use crate::network::ForwardMode;

/// Where the bridge is, and where libvirt would put it.
pub(super) struct Placement {
    /// `None`: in no zone, so firewalld's default zone applies.
    pub current: Option<String>,
    pub expected: &'static str,
}

/// `Some` when firewalld runs and the bridge is not in its libvirt zone.
pub(super) fn misplaced(context: &Context<'_>, checked: &Checked<'_>) -> Option<Placement> {
    let Fact::Known(firewalld) = &context.host.firewalld else { return None };
    if !firewalld.running {
        return None;
    }
    let expected =
        if checked.network.config.forward == ForwardMode::Route { "libvirt-routed" } else { "libvirt" };
    let current = firewalld
        .interface_zones
        .iter()
        .find(|(interface, _)| interface == checked.bridge)
        .map(|(_, zone)| zone.clone());
    (current.as_deref() != Some(expected)).then_some(Placement { current, expected })
}

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for checked in &context.networks {
        let Some(placement) = misplaced(context, checked) else { continue };
        let mut evidence = vec![Evidence::new("firewalld", "running")];
        let zone_text =
            placement.current.clone().unwrap_or_else(|| "none (the default zone applies)".to_owned());
        evidence.push(Evidence::new(format!("firewalld zone of {}", checked.bridge), zone_text));
        let forward_drops: Vec<_> =
            checked.forward.iter().filter(|path| matches!(path.web, Verdict::Drop(_))).collect();
        let input_drops = dropped_services(checked, |verdict| matches!(verdict, Verdict::Drop(_)));
        for path in &forward_drops {
            evidence
                .push(Evidence::new(forward_label(checked.bridge, &path.uplink), verdict_text(&path.web)));
        }
        for (service, verdict) in &input_drops {
            evidence.push(Evidence::new(service_label(*service, checked.bridge), verdict_text(verdict)));
        }
        let evaluated = context.ruleset.is_ok()
            && checked.forward.iter().all(|path| !matches!(path.web, Verdict::Unknown(_)))
            && [&checked.dhcp, &checked.dns]
                .into_iter()
                .flatten()
                .all(|verdict| !matches!(verdict, Verdict::Unknown(_)));
        let severity = if !forward_drops.is_empty() || !input_drops.is_empty() {
            Severity::Error
        } else if evaluated {
            // The ruleset lets everything through anyway (a trusted zone…).
            continue;
        } else {
            Severity::Warning
        };
        let (name, bridge) = (checked.network.name(), checked.bridge);
        let values = [("name", name), ("bridge", bridge), ("zone", placement.expected)];
        let mut explanation = fill(
            &gettext(
                "firewalld is running, and it filters by zone. libvirt puts the bridge of each network into the “{zone}” zone, which lets VMs use DHCP and DNS on the host and lets their traffic be forwarded. {bridge} is not in it, so another zone's rules apply, and the usual ones (public, the default) reject both: VMs get no address and cannot reach the internet. This happens when the bridge was assigned to another zone by hand or by NetworkManager, or firewalld was restarted without libvirt's zone files.",
            ),
            &values,
        );
        if severity == Severity::Warning {
            explanation.push(' ');
            explanation.push_str(&gettext(
                "The firewall rules could not be read to confirm it (that needs the helper or root).",
            ));
        }
        explanation.push(' ');
        explanation.push_str(&fill(&gettext("The fix moves {bridge} into the “{zone}” zone."), &values));
        findings.push(Finding {
            id: "firewalld-zone",
            severity,
            subject: Subject::Network { name: name.to_owned() },
            title: fill(
                &gettext("Bridge {bridge} of network “{name}” is not in firewalld's “{zone}” zone"),
                &values,
            ),
            explanation,
            evidence,
            fix: Some(Fix::FirewalldZone { bridge: bridge.to_owned(), zone: placement.expected.to_owned() }),
        });
    }
    findings
}
