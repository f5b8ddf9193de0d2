//! `guest-address-outside-subnet`: the guest agent reports an IPv4 address
//! on a card that lies outside the IPv4 subnet of the libvirt network the
//! card is plugged into — a static address typed in for another network
//! (the LAN's, an old network's). The host has no route to it and the
//! network's NAT does not cover it, so the guest reaches nothing.

use std::net::IpAddr;

use gettextrs::gettext;

use super::common::{ipv4_subnets, is_running, libvirt_runs_bridge, nics};
use super::guest_nm::static_profile_fix;
use crate::finding::{Evidence, Finding, Severity};
use crate::i18n::fill;
use crate::network::in_subnet;
use crate::snapshot::{AddressSource, Snapshot};

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot).filter(|nic| is_running(nic.domain)) {
        let (Some(network_name), Some(mac)) = (nic.nic.network_name(), nic.nic.mac.as_deref()) else {
            continue;
        };
        let Some(network) = snapshot.network(network_name) else {
            continue;
        };
        let subnets = ipv4_subnets(&network.config);
        // Only networks whose subnet libvirt sets up; a bridged or macvtap
        // network's addresses belong to the LAN, which the XML does not say.
        if !libvirt_runs_bridge(&network.config) || subnets.is_empty() {
            continue;
        }
        // The agent's view only: a lease or ARP entry is in the subnet by
        // construction.
        let addresses: Vec<(std::net::Ipv4Addr, u8)> = nic
            .domain
            .addresses_for(mac)
            .into_iter()
            .filter(|(source, _)| *source == AddressSource::Agent)
            .filter_map(|(_, address)| match address.ip {
                IpAddr::V4(ip) if !ip.is_link_local() && !ip.is_loopback() => Some((ip, address.prefix)),
                _ => None,
            })
            .collect();
        let inside = |ip: &std::net::Ipv4Addr| {
            subnets.iter().any(|(net, prefix)| in_subnet(IpAddr::V4(*ip), IpAddr::V4(*net), *prefix))
        };
        // A second address beside one in the subnet is deliberate.
        if addresses.is_empty() || addresses.iter().any(|(ip, _)| inside(ip)) {
            continue;
        }
        let outside: Vec<String> = addresses.iter().map(|(ip, prefix)| format!("{ip}/{prefix}")).collect();
        let subnet_text: Vec<String> =
            subnets.iter().map(|(net, prefix)| format!("{net}/{prefix}")).collect();
        let subnet_text = subnet_text.join(", ");
        let label = nic.label();
        let address_text = outside.join(", ");
        let values = [
            ("mac", label.as_str()),
            ("vm", nic.vm()),
            ("address", address_text.as_str()),
            ("network", network_name),
            ("subnet", subnet_text.as_str()),
        ];
        let mut explanation = fill(
            &gettext(
                "The guest set {address} on card {mac} itself, but the card is plugged into network “{network}”, whose subnet is {subnet}. The host has no route to that address and the network’s NAT does not cover it, so the guest reaches neither the host nor the internet. In the guest, let the card use DHCP, or give it an address in {subnet} with the network’s address as its gateway.",
            ),
            &values,
        );
        let mut evidence = vec![
            Evidence::new(format!("guest agent addresses of {label}"), address_text.clone()),
            Evidence::new(format!("network {network_name} ip"), subnet_text.clone()),
        ];
        // The guest inspected: NetworkManager's static profile is the cause.
        let fix = nic
            .domain
            .guest_interface_name(mac)
            .and_then(|interface| static_profile_fix(nic.domain, interface, &mut explanation, &mut evidence));
        findings.push(Finding {
            id: "guest-address-outside-subnet",
            severity: Severity::Error,
            subject: nic.subject(),
            title: fill(
                &gettext("Network card {mac} has the address {address}, which is not in network “{network}”"),
                &values,
            ),
            explanation,
            evidence,
            fix,
        });
    }
    findings
}
