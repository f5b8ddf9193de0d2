//! `guest-gateway-wrong`: the guest, inspected, sends its IPv4 traffic for
//! the internet (its default route) on a card plugged into a libvirt NAT
//! network through a gateway that is not the network's own address — a
//! router typed in for another network (the LAN's 192.168.1.1, an old
//! network's). On a NAT network the host's address on the bridge is the
//! only way out, so nothing beyond the network answers.

use std::net::IpAddr;

use gettextrs::gettext;

use super::common::{is_running, nics};
use super::guest_nm::static_profile_fix;
use crate::finding::{Evidence, Finding, Severity};
use crate::i18n::fill;
use crate::network::ForwardMode;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot).filter(|nic| is_running(nic.domain)) {
        let (Some(mac), Some(network_name)) = (nic.nic.mac.as_deref(), nic.nic.network_name()) else {
            continue;
        };
        let Some(network) = snapshot.network(network_name) else {
            continue;
        };
        if network.config.forward != ForwardMode::Nat {
            continue;
        }
        let gateways: Vec<IpAddr> =
            network.config.ips.iter().map(|ip| ip.address).filter(IpAddr::is_ipv4).collect();
        let Some(guest) = nic.domain.guest.known().and_then(|facts| facts.network.known()) else {
            continue;
        };
        let Some(interface) = nic.domain.guest_interface_name(mac) else {
            continue;
        };
        let routes: Vec<_> =
            guest.default_routes.iter().filter(|route| !route.ipv6 && route.dev == interface).collect();
        // One default route through the network's address is enough.
        if routes.is_empty()
            || routes.iter().any(|route| route.gateway.is_some_and(|via| gateways.contains(&via)))
        {
            continue;
        }
        let wrong: Vec<String> = routes
            .iter()
            .map(|route| match route.gateway {
                Some(via) => format!("default via {via} dev {interface}"),
                None => format!("default dev {interface}"),
            })
            .collect();
        let expected: Vec<String> = gateways.iter().map(IpAddr::to_string).collect();
        let label = nic.label();
        let route_text = wrong.join(", ");
        let expected_text = expected.join(", ");
        let values = [
            ("vm", nic.vm()),
            ("mac", label.as_str()),
            ("interface", interface),
            ("network", network_name),
            ("route", route_text.as_str()),
            ("gateway", expected_text.as_str()),
        ];
        let mut explanation = fill(
            &gettext(
                "Inside “{vm}”, {interface} (card {mac}) sends everything beyond its own subnet by “{route}”, but on the NAT network “{network}” only the host, at {gateway}, leads out: nothing beyond the network answers. In the guest, let the card use DHCP, which gives it the right gateway, or set the gateway to {gateway}.",
            ),
            &values,
        );
        let mut evidence = vec![
            Evidence::new("guest interface", interface),
            Evidence::new("IPv4 default routes (guest)", route_text.clone()),
            Evidence::new(format!("network {network_name} address"), expected_text.clone()),
        ];
        // NetworkManager's static profile is the cause: the same fix as the
        // address's, which owns it when both are found.
        let fix = static_profile_fix(nic.domain, interface, &mut explanation, &mut evidence);
        findings.push(Finding {
            id: "guest-gateway-wrong",
            severity: Severity::Error,
            subject: nic.subject(),
            title: fill(
                &gettext("The guest’s default route on {interface} does not go through its network"),
                &values,
            ),
            explanation,
            evidence,
            fix,
        });
    }
    findings
}
