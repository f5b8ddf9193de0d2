//! Plain-language, translated descriptions of the model, in virt-manager's
//! terms where it has them. Pure functions, so they are unit-tested.

use gettextrs::{gettext, ngettext};
use vmnet_doctor_core::nic_model::NicModel;
use vmnet_doctor_core::{
    AddressSource, DomainSnapshot, DomainState, Fix, ForwardMode, Interface, InterfaceSource, InterfaceType,
    LinkState, Snapshot,
};

use crate::i18n::fill;

pub fn domain_state(state: DomainState) -> String {
    match state {
        DomainState::NoState => gettext("Unknown state"),
        DomainState::Running => gettext("Running"),
        DomainState::Blocked => gettext("Blocked"),
        DomainState::Paused => gettext("Paused"),
        DomainState::ShuttingDown => gettext("Shutting down"),
        DomainState::ShutOff => gettext("Shut off"),
        DomainState::Crashed => gettext("Crashed"),
        DomainState::Suspended => gettext("Suspended"),
    }
}

pub fn domain_state_icon(state: DomainState) -> &'static str {
    match state {
        DomainState::Running | DomainState::Blocked => "media-playback-start-symbolic",
        DomainState::Paused | DomainState::Suspended => "media-playback-pause-symbolic",
        DomainState::Crashed => "dialog-error-symbolic",
        DomainState::ShuttingDown | DomainState::ShutOff | DomainState::NoState => "system-shutdown-symbolic",
    }
}

/// "Running · 2 network cards", for the sidebar.
pub fn domain_summary(domain: &DomainSnapshot) -> String {
    let count = domain.interfaces().len();
    let cards = if count == 0 {
        gettext("no network card")
    } else {
        fill(
            &ngettext("{n} network card", "{n} network cards", u32::try_from(count).unwrap_or(u32::MAX)),
            &[("n", &count.to_string())],
        )
    };
    format!("{} · {}", domain_state(domain.state), cards)
}

pub fn forward_mode(mode: &ForwardMode) -> String {
    match mode {
        ForwardMode::Isolated => gettext("Isolated network"),
        ForwardMode::Nat => gettext("NAT"),
        ForwardMode::Route => gettext("Routed network"),
        ForwardMode::Open => gettext("Open network"),
        ForwardMode::Bridge => gettext("Host bridge"),
        ForwardMode::Private => gettext("Macvtap, private"),
        ForwardMode::Vepa => gettext("Macvtap, VEPA"),
        ForwardMode::Passthrough => gettext("Macvtap, passthrough"),
        ForwardMode::Hostdev => gettext("SR-IOV pool"),
        ForwardMode::Unknown(mode) => mode.clone(),
    }
}

/// The NIC's network source in virt-manager's words, e.g.
/// "Virtual network “default”: NAT".
pub fn interface_source(interface: &Interface, snapshot: &Snapshot) -> String {
    match &interface.source {
        InterfaceSource::Network { network, .. } => match snapshot.network(network) {
            Some(net) => fill(
                &gettext("Virtual network “{network}”: {mode}"),
                &[("network", network), ("mode", &forward_mode(&net.config.forward))],
            ),
            None => fill(&gettext("Virtual network “{network}”"), &[("network", network)]),
        },
        InterfaceSource::Bridge { bridge } => {
            fill(&gettext("Bridge device “{bridge}”"), &[("bridge", bridge)])
        }
        InterfaceSource::Direct { dev, mode } => {
            let mode = mode.as_deref().unwrap_or("vepa");
            fill(&gettext("Macvtap device “{dev}”, {mode} mode"), &[("dev", dev), ("mode", mode)])
        }
        InterfaceSource::User => {
            if interface.uses_passt() {
                gettext("User-mode networking (passt)")
            } else {
                gettext("User-mode networking (SLIRP)")
            }
        }
        InterfaceSource::Ethernet => gettext("Generic Ethernet (tap device)"),
        InterfaceSource::VhostUser { path, .. } => match path {
            Some(path) => fill(&gettext("vhost-user socket {path}"), &[("path", path)]),
            None => gettext("vhost-user socket"),
        },
        InterfaceSource::Hostdev { address } => match address {
            Some(address) => fill(&gettext("Host device {address} (passthrough)"), &[("address", address)]),
            None => gettext("Host device (passthrough)"),
        },
        InterfaceSource::Vdpa { dev } => fill(&gettext("vDPA device {dev}"), &[("dev", dev)]),
        InterfaceSource::Socket { address, port, .. } => {
            let endpoint = match (address, port) {
                (Some(address), Some(port)) => format!("{address}:{port}"),
                (Some(address), None) => address.clone(),
                (None, Some(port)) => format!(":{port}"),
                (None, None) => String::new(),
            };
            let template = match interface.kind {
                InterfaceType::Mcast => gettext("Multicast tunnel {endpoint}"),
                InterfaceType::Udp => gettext("UDP tunnel {endpoint}"),
                InterfaceType::Server => gettext("TCP tunnel, listening on {endpoint}"),
                _ => gettext("TCP tunnel to {endpoint}"),
            };
            fill(&template, &[("endpoint", &endpoint)]).trim_end().to_owned()
        }
        InterfaceSource::None => match &interface.kind {
            InterfaceType::Null => gettext("Not connected (null)"),
            InterfaceType::Vds => gettext("Virtual distributed switch"),
            InterfaceType::Unknown(kind) => fill(&gettext("Unknown type “{kind}”"), &[("kind", kind)]),
            _ => gettext("No source"),
        },
    }
}

/// Whether the NIC's virtual network is usable, when it has one.
pub fn network_status(interface: &Interface, snapshot: &Snapshot) -> Option<String> {
    let InterfaceSource::Network { network, .. } = &interface.source else {
        return None;
    };
    Some(match snapshot.network(network) {
        None => gettext("This network is not defined on the host"),
        Some(net) if !net.active => gettext("This network is not active"),
        Some(net) => match net.config.bridge.as_ref().and_then(|b| b.name.as_deref()) {
            Some(bridge) => fill(&gettext("Active, on bridge {bridge}"), &[("bridge", bridge)]),
            None => gettext("Active"),
        },
    })
}

/// The card's model; one the XML leaves out is the one libvirt chose.
pub fn model(model: NicModel<'_>) -> String {
    match model {
        NicModel::Named(model) => model.to_owned(),
        NicModel::LibvirtDefault(model) => {
            fill(&gettext("{model} (libvirt’s default: none is set)"), &[("model", model)])
        }
        NicModel::Unknown => gettext("Hypervisor default"),
    }
}

pub fn link_state(state: LinkState) -> String {
    match state {
        LinkState::Up => gettext("Active"),
        LinkState::Down => gettext("Down"),
    }
}

pub fn address_source(source: AddressSource) -> String {
    match source {
        AddressSource::Agent => gettext("from the guest agent"),
        AddressSource::Lease => gettext("from the DHCP lease"),
        AddressSource::Arp => gettext("from the host’s ARP table"),
    }
}

/// The guest agent's channel, in a sentence.
pub fn guest_agent(domain: &DomainSnapshot) -> String {
    match &domain.config.guest_agent_channel {
        None => gettext("Not configured: this VM has no guest agent channel"),
        Some(channel) => match channel.state.as_deref() {
            Some("connected") => gettext("Connected"),
            Some("disconnected") => gettext("Channel present, but the agent is not running in the guest"),
            _ if !domain.state.is_active() => gettext("Channel present"),
            _ => gettext("Channel present"),
        },
    }
}

/// The guest's name for the NIC, or why it is unknown.
pub fn guest_interface(domain: &DomainSnapshot, mac: Option<&str>) -> String {
    if let Some(name) = mac.and_then(|mac| domain.guest_interface_name(mac)) {
        return name.to_owned();
    }
    if !domain.state.is_active() {
        gettext("Unknown while the VM is not running")
    } else if domain.config.guest_agent_channel.is_none() {
        gettext("Unknown: needs the guest agent")
    } else {
        gettext("Unknown: the guest agent did not report it")
    }
}

/// What a fix would change, in one sentence.
pub fn fix(fix: &Fix) -> String {
    match fix {
        Fix::DefineNetwork { name, .. } => fill(
            &gettext("Define and start the virtual network “{network}”, and start it at boot"),
            &[("network", name)],
        ),
        Fix::MoveNetworkSubnet { name, to, .. } => fill(
            &gettext("Move the virtual network “{network}” to the free subnet {subnet} and start it"),
            &[("network", name), ("subnet", &format!("{to}/24"))],
        ),
        Fix::StartNetwork { name } => {
            fill(&gettext("Start the virtual network “{network}”"), &[("network", name)])
        }
        Fix::AutostartNetwork { name } => {
            fill(&gettext("Start the virtual network “{network}” at boot"), &[("network", name)])
        }
        Fix::SetLinkUp { mac, .. } => {
            fill(&gettext("Set the link of the network card {mac} up"), &[("mac", mac)])
        }
        Fix::SetNicModel { mac, model, .. } => fill(
            &gettext("Change the model of the network card {mac} to {model} (takes effect at the next boot)"),
            &[("mac", mac), ("model", model)],
        ),
        Fix::MoveNicToNetwork { mac, network, .. } => fill(
            &gettext("Connect the network card {mac} to the virtual network “{network}”"),
            &[("mac", mac), ("network", network)],
        ),
        Fix::AddGuestAgentChannel { .. } => {
            gettext("Add the guest agent channel (takes effect at the next boot)")
        }
        Fix::EnableIpv4Forwarding => gettext("Turn IPv4 forwarding on, now and at boot"),
        Fix::UfwAllowBridge { bridge, uplink } => fill(
            &gettext("Allow traffic on {bridge} and routed from {bridge} to {uplink} in UFW"),
            &[("bridge", bridge), ("uplink", uplink)],
        ),
        Fix::AcceptForward { bridge, uplink } => fill(
            &gettext("Accept forwarded traffic between {bridge} and {uplink}"),
            &[("bridge", bridge), ("uplink", uplink)],
        ),
        Fix::ClampMss { bridge, uplink } => fill(
            &gettext("Fit the VMs' TCP packets on {bridge} to what {uplink} carries"),
            &[("bridge", bridge), ("uplink", uplink)],
        ),
        Fix::AcceptBridged { bridge } => fill(
            &gettext("Accept the traffic bridged by {bridge} in the host firewall"),
            &[("bridge", bridge)],
        ),
        Fix::AllowQemuBridge { bridge } => fill(
            &gettext("Let the VMs of your own connection join {bridge} (qemu-bridge-helper's list)"),
            &[("bridge", bridge)],
        ),
        Fix::FirewalldZone { bridge, zone } => fill(
            &gettext("Put {bridge} into the firewalld zone “{zone}”"),
            &[("bridge", bridge), ("zone", zone)],
        ),
        Fix::DisableGuestIpv6 { vm } => fill(
            &gettext("Turn IPv6 off inside “{vm}”, now and at boot, through its guest agent"),
            &[("vm", vm)],
        ),
        Fix::ForceAptIpv4 { vm } => {
            fill(&gettext("Make APT use IPv4 only inside “{vm}”, through its guest agent"), &[("vm", vm)])
        }
        Fix::CreateGuestDhcpProfile { vm, interface } => fill(
            &gettext(
                "Create the DHCP profile “kvm-dhcp” for {interface} inside “{vm}” and bring it up, through its guest agent",
            ),
            &[("vm", vm), ("interface", interface)],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmnet_doctor_core::{NetworkConfig, NetworkSnapshot};

    fn nic(source: InterfaceSource, kind: InterfaceType) -> Interface {
        Interface {
            kind,
            mac: Some("52:54:00:12:34:56".into()),
            source,
            model: Some("virtio".into()),
            backend: None,
            link_state: LinkState::Up,
            target_dev: None,
            alias: None,
            portgroup: None,
        }
    }

    fn snapshot_with(network: &str, forward: ForwardMode, active: bool) -> Snapshot {
        Snapshot {
            uri: "test:///default".into(),
            hostname: None,
            domains: Vec::new(),
            networks: vec![NetworkSnapshot {
                config: NetworkConfig {
                    name: network.into(),
                    uuid: None,
                    forward,
                    forward_devs: Vec::new(),
                    bridge: None,
                    ips: Vec::new(),
                    domain_name: None,
                },
                active,
                autostart: true,
                persistent: true,
                leases: vmnet_doctor_core::Fact::Known(Vec::new()),
            }],
            unreadable: Vec::new(),
            host: vmnet_doctor_core::Fact::Unknown("not read in this test".into()),
        }
    }

    #[test]
    fn network_source_names_the_network_and_its_mode() {
        let snapshot = snapshot_with("default", ForwardMode::Nat, true);
        let network = InterfaceSource::Network { network: "default".into(), portgroup: None, bridge: None };
        let nic = nic(network, InterfaceType::Network);
        assert_eq!(interface_source(&nic, &snapshot), "Virtual network “default”: NAT");
        assert_eq!(network_status(&nic, &snapshot).as_deref(), Some("Active"));
    }

    #[test]
    fn a_missing_or_inactive_network_is_said_plainly() {
        let inactive = snapshot_with("default", ForwardMode::Nat, false);
        let missing = snapshot_with("other", ForwardMode::Nat, true);
        let network = InterfaceSource::Network { network: "default".into(), portgroup: None, bridge: None };
        let nic = nic(network, InterfaceType::Network);
        assert_eq!(network_status(&nic, &inactive).as_deref(), Some("This network is not active"));
        assert_eq!(
            network_status(&nic, &missing).as_deref(),
            Some("This network is not defined on the host")
        );
        assert_eq!(interface_source(&nic, &missing), "Virtual network “default”");
    }

    #[test]
    fn user_mode_names_its_backend() {
        let snapshot = snapshot_with("default", ForwardMode::Nat, true);
        let mut nic = nic(InterfaceSource::User, InterfaceType::User);
        assert_eq!(interface_source(&nic, &snapshot), "User-mode networking (SLIRP)");
        nic.backend = Some("passt".into());
        assert_eq!(interface_source(&nic, &snapshot), "User-mode networking (passt)");
    }

    #[test]
    fn tunnels_and_unknown_types_still_read_well() {
        let snapshot = snapshot_with("default", ForwardMode::Nat, true);
        let socket = InterfaceSource::Socket {
            address: Some("230.0.0.1".into()),
            port: Some(5558),
            local_address: None,
            local_port: None,
        };
        assert_eq!(
            interface_source(&nic(socket, InterfaceType::Mcast), &snapshot),
            "Multicast tunnel 230.0.0.1:5558"
        );
        let unknown = nic(InterfaceSource::None, InterfaceType::Unknown("future".into()));
        assert_eq!(interface_source(&unknown, &snapshot), "Unknown type “future”");
    }
}
