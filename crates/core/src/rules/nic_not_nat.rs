//! `nic-not-nat`: a NIC that is not on a NAT network (bridged, macvtap,
//! isolated or routed network, passthrough, tunnels…). Not a fault, but the
//! NAT checks (virbr0, UFW routing, forwarding) do not apply to it, and
//! each kind has its own limits.
//!
//! User-mode NICs have their own rule (`nic-user-mode`); NICs on missing or
//! stopped networks too.

use gettextrs::gettext;

use super::common::{NicRef, ipv4_subnets, nics};
use crate::finding::{Evidence, Finding, Severity};
use crate::i18n::fill;
use crate::interface::{InterfaceSource, InterfaceType};
use crate::network::ForwardMode;
use crate::snapshot::{NetworkSnapshot, Snapshot};

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    nics(snapshot).filter_map(|nic| finding(snapshot, nic)).collect()
}

fn finding(snapshot: &Snapshot, nic: NicRef<'_>) -> Option<Finding> {
    let label = nic.label();
    let vm = nic.vm();
    let mut evidence = vec![Evidence::new("interface type", nic.nic.kind.as_str())];
    let (title, explanation) = match (&nic.nic.kind, &nic.nic.source) {
        (InterfaceType::User, _) => return None,
        (InterfaceType::Network, InterfaceSource::Network { network, .. }) => {
            let network = snapshot.network(network).filter(|network| network.active)?;
            evidence.push(Evidence::new("interface source network", network.name()));
            evidence.push(Evidence::new(
                format!("network {} forward mode", network.name()),
                network.config.forward.as_str(),
            ));
            on_network(network, &label, vm)?
        }
        (InterfaceType::Network, _) => return None,
        (InterfaceType::Bridge, InterfaceSource::Bridge { bridge }) => {
            evidence.push(Evidence::new("interface source bridge", bridge.as_str()));
            let values = [("mac", label.as_str()), ("vm", vm), ("bridge", bridge.as_str())];
            (
                fill(&gettext("Network card {mac} is bridged to {bridge}"), &values),
                fill(
                    &gettext(
                        "The card is bridged to the host bridge {bridge}: the guest sits on the host's LAN and gets its address from the LAN's DHCP server, like another computer. libvirt's NAT, virbr0 and the firewall routing checks do not apply to it; what matters is that {bridge} exists, is up and holds the host's uplink.",
                    ),
                    &values,
                ),
            )
        }
        (InterfaceType::Direct, InterfaceSource::Direct { dev, mode }) => {
            evidence.push(Evidence::new("interface source dev", dev.as_str()));
            let mode = mode.as_deref().unwrap_or("vepa");
            evidence.push(Evidence::new("interface source mode", mode));
            macvtap(&label, vm, dev)
        }
        (InterfaceType::Hostdev, _) => {
            let values = [("mac", label.as_str()), ("vm", vm)];
            (
                fill(&gettext("Network card {mac} is a passed-through device"), &values),
                gettext(
                    "A physical network device (an SR-IOV virtual function) is given to the guest, which drives it directly: the host's NAT, bridge and firewall checks do not apply, and the guest needs a driver for that hardware.",
                ),
            )
        }
        (InterfaceType::Ethernet, _) => {
            let tap = nic.nic.target_dev.as_deref().unwrap_or("?");
            evidence.push(Evidence::new("interface target dev", tap));
            let values = [("mac", label.as_str()), ("vm", vm), ("tap", tap)];
            (
                fill(&gettext("Network card {mac} uses a tap device set up outside libvirt"), &values),
                fill(
                    &gettext(
                        "The card is connected to the tap device {tap}, which something other than libvirt sets up: whatever does decides where its traffic goes. The NAT checks do not apply to it.",
                    ),
                    &values,
                ),
            )
        }
        (InterfaceType::VhostUser | InterfaceType::Vdpa, _) => {
            let values = [("mac", label.as_str()), ("vm", vm), ("type", nic.nic.kind.as_str())];
            (
                fill(&gettext("Network card {mac} is a {type} device"), &values),
                gettext(
                    "The card is connected to a user-space or hardware data path (such as Open vSwitch with DPDK, or a vDPA device), not to a libvirt network: the NAT checks do not apply, and that data path decides where traffic goes.",
                ),
            )
        }
        (InterfaceType::Mcast | InterfaceType::Udp | InterfaceType::Server | InterfaceType::Client, _) => {
            let values = [("mac", label.as_str()), ("vm", vm)];
            (
                fill(&gettext("Network card {mac} is a tunnel to other VMs"), &values),
                gettext(
                    "The card is a socket tunnel between QEMU processes: only VMs at the other end of the tunnel can be reached through it, never the host or the internet.",
                ),
            )
        }
        (InterfaceType::Null, _) => {
            let values = [("mac", label.as_str()), ("vm", vm)];
            (
                fill(&gettext("Network card {mac} is connected to nothing"), &values),
                gettext(
                    "The card has type null: the guest sees a network card, but it leads nowhere, by design.",
                ),
            )
        }
        // A network NIC without a network name, or a type this program
        // does not know: nothing to say that would not be a guess.
        _ => {
            let values = [("mac", label.as_str()), ("vm", vm), ("type", nic.nic.kind.as_str())];
            (
                fill(&gettext("Network card {mac} is not on a NAT network"), &values),
                fill(
                    &gettext(
                        "The card has type {type}, which this program does not check: the NAT checks do not apply to it.",
                    ),
                    &values,
                ),
            )
        }
    };
    Some(Finding {
        id: "nic-not-nat",
        severity: Severity::Info,
        subject: nic.subject(),
        title,
        explanation,
        evidence,
        fix: None,
    })
}

/// macvtap on host device `dev`, directly or through a network's pool.
fn macvtap(label: &str, vm: &str, dev: &str) -> (String, String) {
    let values = [("mac", label), ("vm", vm), ("dev", dev)];
    (
        fill(&gettext("Network card {mac} uses macvtap on {dev}"), &values),
        fill(
            &gettext(
                "The card is attached with macvtap to the host device {dev}: the guest sits on {dev}'s LAN and gets its address there, so the NAT checks do not apply. Known macvtap limit: the host and this guest cannot reach each other over it, because traffic between a macvtap and its own parent device is not looped back. Use a bridge, or add a second card on a NAT network, if they must talk.",
            ),
            &values,
        ),
    )
}

/// A NIC on a running libvirt network; `None` for NAT, the normal case.
fn on_network(network: &NetworkSnapshot, label: &str, vm: &str) -> Option<(String, String)> {
    let name = network.name();
    let values = [("mac", label), ("vm", vm), ("network", name)];
    let subnets: Vec<String> =
        ipv4_subnets(&network.config).iter().map(|(a, p)| format!("{a}/{p}")).collect();
    let subnet = if subnets.is_empty() { name.to_owned() } else { subnets.join(", ") };
    Some(match &network.config.forward {
        ForwardMode::Nat => return None,
        ForwardMode::Isolated => (
            fill(&gettext("Network card {mac} is on the isolated network “{network}”"), &values),
            gettext(
                "No internet, by design: an isolated network has no forward mode, so its guests reach each other and the host but nothing beyond. That is fine if the guest should be cut off; otherwise add a card on a NAT network.",
            ),
        ),
        ForwardMode::Route => (
            fill(&gettext("Network card {mac} is on the routed network “{network}”"), &values),
            fill(
                &gettext(
                    "A routed network forwards without NAT: guests keep their {subnet} addresses on the LAN, so the LAN's router (or every machine that should answer) needs a route back to {subnet} through this host, or replies never arrive.",
                ),
                &[("subnet", &subnet)],
            ),
        ),
        ForwardMode::Open => (
            fill(&gettext("Network card {mac} is on the open network “{network}”"), &values),
            gettext(
                "An open network gets no firewall rules from libvirt at all: the host's own routing and firewall decide what gets through, and without NAT the LAN needs a route back to the network's subnet.",
            ),
        ),
        ForwardMode::Bridge => match network.config.bridge_name() {
            Some(bridge) => {
                let values = [("mac", label), ("vm", vm), ("network", name), ("bridge", bridge)];
                (
                    fill(
                        &gettext("Network card {mac} is bridged to {bridge} through network “{network}”"),
                        &values,
                    ),
                    fill(
                        &gettext(
                            "The network “{network}” hands its guests to the host bridge {bridge}: the guest sits on the host's LAN and gets its address from the LAN's DHCP server. libvirt's NAT, virbr0 and the firewall routing checks do not apply to it.",
                        ),
                        &values,
                    ),
                )
            }
            None => macvtap(label, vm, &network.config.forward_devs.join(", ")),
        },
        ForwardMode::Private | ForwardMode::Vepa | ForwardMode::Passthrough => {
            macvtap(label, vm, &network.config.forward_devs.join(", "))
        }
        ForwardMode::Hostdev => (
            fill(&gettext("Network card {mac} is a passed-through device from network “{network}”"), &values),
            gettext(
                "The network gives each guest a physical network device (an SR-IOV virtual function) that the guest drives directly: the host's NAT, bridge and firewall checks do not apply, and the guest needs a driver for that hardware.",
            ),
        ),
        ForwardMode::Unknown(mode) => {
            let values = [("mac", label), ("vm", vm), ("network", name), ("mode", mode.as_str())];
            (
                fill(&gettext("Network card {mac} is on network “{network}” (mode {mode})"), &values),
                fill(
                    &gettext(
                        "The network's forward mode {mode} is unknown to this program, so the NAT checks do not apply.",
                    ),
                    &values,
                ),
            )
        }
    })
}
