//! `bridged-forward-dropped`: a VM on a host bridge (`br0`) whose frames
//! the host firewall drops. With `br_netfilter` loaded — Docker loads it —
//! frames a Linux bridge forwards between its ports traverse iptables'
//! FORWARD chain as bridge to bridge, so Docker's DROP policy cuts bridged
//! VMs off their LAN, not only NAT networks off the internet.

use std::net::{IpAddr, Ipv4Addr};

use gettextrs::gettext;

use super::super::common::{is_running, nics};
use super::{Context, forward_label, verdict_text};
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::host::Fact;
use crate::i18n::fill;
use crate::interface::InterfaceSource;
use crate::netfilter::{Owner, Traffic, Verdict};
use crate::network::ForwardMode;
use crate::snapshot::Snapshot;

/// A guest address for the model when the VM's is not known: any unicast
/// address does, as the rules that drop bridged frames match devices.
const SOME_GUEST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

pub(super) fn check(context: &Context<'_>, snapshot: &Snapshot) -> Vec<Finding> {
    let Fact::Known(nf_call) = &context.host.bridge_nf_call else { return Vec::new() };
    let Ok(ruleset) = &context.ruleset else { return Vec::new() };
    if !nf_call.iptables {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for nic in nics(snapshot).filter(|nic| is_running(nic.domain)) {
        let Some(bridge) = host_bridge(snapshot, &nic.nic.source) else { continue };
        let guest_address = nic
            .nic
            .mac
            .as_deref()
            .and_then(|mac| {
                nic.domain.addresses_for(mac).into_iter().find_map(|(_, address)| match address.ip {
                    IpAddr::V4(ip) => Some(ip),
                    IpAddr::V6(_) => None,
                })
            })
            .unwrap_or(SOME_GUEST);
        let verdict = ruleset.guest_forward_verdict(bridge, guest_address, bridge, Traffic::Web);
        let Verdict::Drop(blocker) = &verdict else { continue };
        let label = nic.label();
        let values =
            [("mac", label.as_str()), ("vm", nic.vm()), ("bridge", bridge), ("by", blocker.by.as_str())];
        let mut explanation = fill(
            &gettext(
                "{bridge} is a bridge of the host, and the kernel's br_netfilter module is loaded (Docker loads it), so the frames {bridge} passes between this VM and the network it bridges to go through the host firewall's FORWARD chain, where they are dropped ({by}). The VM gets no address from that network's DHCP server and reaches nothing through {bridge}.",
            ),
            &values,
        );
        explanation.push(' ');
        explanation.push_str(&match blocker.owner {
            Some(Owner::Firewalld) => gettext("These are firewalld's rules: change its zones or policies (for example with firewall-cmd) so that the bridge's traffic may be forwarded."),
            _ => fill(&gettext("The fix accepts the frames bridged between the ports of {bridge}, in Docker's DOCKER-USER chain (or in FORWARD without Docker) as Docker's documentation suggests, without touching Docker's own rules."), &values),
        });
        findings.push(Finding {
            id: "bridged-forward-dropped",
            severity: Severity::Error,
            subject: nic.subject(),
            title: fill(
                &gettext("The host firewall drops the bridged traffic of network card {mac}"),
                &values,
            ),
            explanation,
            evidence: vec![
                Evidence::new("net.bridge.bridge-nf-call-iptables", "1"),
                Evidence::new(forward_label(bridge, bridge), verdict_text(&verdict)),
            ],
            fix: (blocker.owner != Some(Owner::Firewalld))
                .then(|| Fix::AcceptBridged { bridge: bridge.to_owned() }),
        });
    }
    findings
}

/// The host bridge a card is plugged into: `<interface type='bridge'>`,
/// or a libvirt network of forward mode `bridge` (a wrapper around one).
/// Bridges libvirt runs for its own NAT, routed or isolated networks are
/// not host bridges: their path is `forward-dropped`'s.
fn host_bridge<'s>(snapshot: &'s Snapshot, source: &'s InterfaceSource) -> Option<&'s str> {
    match source {
        InterfaceSource::Bridge { bridge } => {
            let libvirt_runs_it = snapshot.networks.iter().any(|network| {
                network.active
                    && network.config.bridge_name() == Some(bridge.as_str())
                    && network.config.forward != ForwardMode::Bridge
            });
            (!libvirt_runs_it).then_some(bridge.as_str())
        }
        InterfaceSource::Network { network, .. } => {
            let network = snapshot.network(network).filter(|network| network.active)?;
            (network.config.forward == ForwardMode::Bridge).then(|| network.config.bridge_name()).flatten()
        }
        _ => None,
    }
}
