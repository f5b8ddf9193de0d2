//! Every captured `virsh dumpxml` fixture parses into exactly the expected
//! `DomainConfig` (see tests/fixtures/README.md for how each was produced).

mod common;

use common::{TestResult, fixture, fixture_names};
use vmnet_doctor_core::{
    DomainConfig, GuestAgentChannel, Interface, InterfaceSource, InterfaceType, LinkState, OsType,
    parse_domain_xml,
};

/// A NIC as the libvirt test driver prints it: it names every host-side
/// device `testnetN` in order, even for a defined (inactive) domain.
fn nic(kind: InterfaceType, mac: &str, source: InterfaceSource, target: &str) -> Interface {
    Interface {
        kind,
        mac: Some(mac.to_owned()),
        source,
        model: None,
        backend: None,
        link_state: LinkState::Up,
        target_dev: Some(target.to_owned()),
        alias: None,
        portgroup: None,
    }
}

fn network(name: &str) -> InterfaceSource {
    InterfaceSource::Network { network: name.to_owned(), portgroup: None, bridge: None }
}

fn model(mut nic: Interface, model: &str) -> Interface {
    nic.model = Some(model.to_owned());
    nic
}

fn socket(address: &str, port: u16, local: Option<(&str, u16)>) -> InterfaceSource {
    InterfaceSource::Socket {
        address: Some(address.to_owned()),
        port: Some(port),
        local_address: local.map(|(address, _)| address.to_owned()),
        local_port: local.map(|(_, port)| port),
    }
}

fn os(arch: &str, machine: Option<&str>) -> OsType {
    OsType { arch: Some(arch.to_owned()), machine: machine.map(str::to_owned) }
}

fn domain(name: &str, uuid: &str, interfaces: Vec<Interface>) -> DomainConfig {
    DomainConfig {
        name: name.to_owned(),
        uuid: Some(uuid.to_owned()),
        hypervisor: "kvm".to_owned(),
        title: None,
        os: os("x86_64", Some("q35")),
        interfaces,
        guest_agent_channel: None,
    }
}

/// (fixture file under `domains/`, expected result).
fn expected() -> Vec<(&'static str, DomainConfig)> {
    use InterfaceType as T;
    let agent = || Some(GuestAgentChannel { state: None });
    vec![
        ("debian13-virt-manager.xml", {
            let mut d = domain(
                "debian13",
                "3b2c6f1e-6a0f-4d0b-9a57-2f7c1d8e4a10",
                // The input had the MAC in upper case; libvirt lower-cases it.
                vec![model(nic(T::Network, "52:54:00:3a:7c:1e", network("default"), "testnet0"), "virtio")],
            );
            d.title = Some("Debian 13 (trixie)".to_owned());
            d.os = os("x86_64", Some("pc-q35-10.0"));
            d.guest_agent_channel = agent();
            d
        }),
        ("fedora42-e1000.xml", {
            let mut d = domain(
                "fedora42-e1000",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e01",
                vec![model(nic(T::Network, "52:54:00:11:22:33", network("default"), "testnet0"), "e1000")],
            );
            d.guest_agent_channel = agent();
            d
        }),
        (
            "link-down.xml",
            domain("link-down", "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e02", {
                let mut n =
                    model(nic(T::Network, "52:54:00:aa:00:02", network("default"), "testnet0"), "virtio");
                n.link_state = LinkState::Down;
                vec![n]
            }),
        ),
        (
            "user-slirp.xml",
            domain(
                "user-slirp",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e03",
                vec![model(nic(T::User, "52:54:00:aa:00:03", InterfaceSource::User, "testnet0"), "virtio")],
            ),
        ),
        (
            "user-passt.xml",
            domain("user-passt", "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e04", {
                let mut n =
                    model(nic(T::User, "52:54:00:aa:00:04", InterfaceSource::User, "testnet0"), "virtio");
                n.backend = Some("passt".to_owned());
                vec![n]
            }),
        ),
        (
            "bridge-br0.xml",
            domain(
                "bridge-br0",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e05",
                vec![model(
                    nic(
                        T::Bridge,
                        "52:54:00:aa:00:05",
                        InterfaceSource::Bridge { bridge: "br0".to_owned() },
                        "testnet0",
                    ),
                    "virtio",
                )],
            ),
        ),
        (
            "direct-macvtap.xml",
            domain(
                "direct-macvtap",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e06",
                vec![model(
                    nic(
                        T::Direct,
                        "52:54:00:aa:00:06",
                        InterfaceSource::Direct { dev: "enp3s0".to_owned(), mode: Some("bridge".to_owned()) },
                        "testnet0",
                    ),
                    "virtio",
                )],
            ),
        ),
        (
            "vhostuser.xml",
            domain(
                "vhostuser",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e07",
                vec![model(
                    nic(
                        T::VhostUser,
                        "52:54:00:aa:00:07",
                        InterfaceSource::VhostUser {
                            path: Some("/run/openvswitch/vhu0.sock".to_owned()),
                            mode: Some("server".to_owned()),
                        },
                        "testnet0",
                    ),
                    "virtio",
                )],
            ),
        ),
        (
            "hostdev.xml",
            domain(
                "hostdev",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e08",
                vec![nic(
                    T::Hostdev,
                    "52:54:00:aa:00:08",
                    InterfaceSource::Hostdev { address: Some("0000:03:00.0".to_owned()) },
                    "testnet0",
                )],
            ),
        ),
        (
            "vdpa.xml",
            domain(
                "vdpa",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e09",
                vec![nic(
                    T::Vdpa,
                    "52:54:00:aa:00:09",
                    InterfaceSource::Vdpa { dev: "/dev/vhost-vdpa-0".to_owned() },
                    "testnet0",
                )],
            ),
        ),
        (
            "tunnels.xml",
            domain(
                "tunnels",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e0a",
                vec![
                    nic(T::Mcast, "52:54:00:aa:00:10", socket("230.0.0.1", 5558, None), "testnet0"),
                    nic(
                        T::Udp,
                        "52:54:00:aa:00:11",
                        socket("192.168.0.1", 5555, Some(("127.0.0.1", 5556))),
                        "testnet1",
                    ),
                    nic(T::Server, "52:54:00:aa:00:12", socket("192.168.0.1", 5557, None), "testnet2"),
                    nic(T::Client, "52:54:00:aa:00:13", socket("192.168.0.1", 5557, None), "testnet3"),
                ],
            ),
        ),
        (
            "null-nic.xml",
            domain(
                "null-nic",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e0b",
                vec![nic(T::Null, "52:54:00:aa:00:14", InterfaceSource::None, "testnet0")],
            ),
        ),
        (
            "vds-nic.xml",
            domain("vds-nic", "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e0c", {
                let mut n = nic(T::Vds, "52:54:00:aa:00:15", InterfaceSource::None, "testnet0");
                n.portgroup = Some("pg-4".to_owned());
                vec![n]
            }),
        ),
        (
            "ethernet.xml",
            domain(
                "ethernet",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e0d",
                // The one NIC type where the test driver keeps the given tap name.
                vec![model(
                    nic(T::Ethernet, "52:54:00:aa:00:16", InterfaceSource::Ethernet, "mytap0"),
                    "virtio",
                )],
            ),
        ),
        (
            "multi-nic.xml",
            domain(
                "multi-nic",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e0e",
                vec![
                    {
                        let mut n = model(
                            nic(T::Network, "52:54:00:aa:00:20", network("default"), "testnet0"),
                            "virtio",
                        );
                        n.alias = Some("ua-lan".to_owned());
                        n
                    },
                    {
                        let source = InterfaceSource::Network {
                            network: "ovs-net".to_owned(),
                            portgroup: Some("vlan-42".to_owned()),
                            bridge: None,
                        };
                        let mut n = model(nic(T::Network, "52:54:00:aa:00:21", source, "testnet1"), "e1000e");
                        n.portgroup = Some("vlan-42".to_owned());
                        n
                    },
                    {
                        let source = InterfaceSource::Bridge { bridge: "br0".to_owned() };
                        let mut n = model(nic(T::Bridge, "52:54:00:aa:00:22", source, "testnet2"), "rtl8139");
                        n.link_state = LinkState::Down;
                        n
                    },
                    nic(
                        T::Direct,
                        "52:54:00:aa:00:23",
                        InterfaceSource::Direct { dev: "eth1".to_owned(), mode: Some("vepa".to_owned()) },
                        "testnet3",
                    ),
                    model(nic(T::User, "52:54:00:aa:00:24", InterfaceSource::User, "testnet4"), "virtio"),
                ],
            ),
        ),
        ("no-interfaces.xml", domain("no-interfaces", "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e0f", vec![])),
        ("metadata-namespaces.xml", {
            let mut d = domain(
                "web & db",
                "5d1f0c9a-3e8b-4f6a-8c2d-1a2b3c4d5e11",
                vec![model(nic(T::Network, "52:54:00:aa:00:40", network("default"), "testnet0"), "virtio")],
            );
            d.title = Some("Tom & Jerry's \"lab\" <prod>".to_owned());
            d
        }),
        ("test-default-running.xml", {
            let mut d = domain(
                "test",
                "6695eb01-f6a4-8304-79aa-97f2502e193f",
                vec![nic(T::Network, "aa:bb:cc:dd:ee:ff", network("default"), "testnet0")],
            );
            d.hypervisor = "test".to_owned();
            d.os = os("i686", None);
            d
        }),
    ]
}

#[test]
fn every_domain_fixture_parses_as_expected() -> TestResult {
    for (file, want) in expected() {
        let got = parse_domain_xml(&fixture(&format!("domains/{file}"))?)
            .map_err(|error| format!("domains/{file}: {error}"))?;
        assert_eq!(got, want, "domains/{file}");
    }
    Ok(())
}

#[test]
fn every_domain_fixture_is_in_the_table() -> TestResult {
    let covered: Vec<&str> = expected().iter().map(|(file, _)| *file).collect();
    for file in fixture_names("domains")? {
        assert!(covered.contains(&file.as_str()), "domains/{file} has no expected values");
    }
    Ok(())
}

/// The inputs fed to libvirt are valid domain XML too, in the style people
/// write (double quotes, upper-case MACs): they must read the same as
/// libvirt's normalized output, except for the `testnetN` names the test
/// driver adds.
#[test]
fn inputs_read_like_libvirts_output() -> TestResult {
    for file in fixture_names("inputs/domains")? {
        let input = parse_domain_xml(&fixture(&format!("inputs/domains/{file}"))?)
            .map_err(|error| format!("inputs/domains/{file}: {error}"))?;
        let mut output = parse_domain_xml(&fixture(&format!("domains/{file}"))?)?;
        for nic in &mut output.interfaces {
            if nic.kind != InterfaceType::Ethernet {
                nic.target_dev = None;
            }
        }
        assert_eq!(input, output, "inputs/domains/{file}");
    }
    Ok(())
}

#[test]
fn helpers_find_nics_and_networks() -> TestResult {
    let multi = parse_domain_xml(&fixture("domains/multi-nic.xml")?)?;
    let lan = multi.interface_by_mac("52:54:00:AA:00:20");
    assert_eq!(lan.and_then(Interface::network_name), Some("default"));
    assert!(multi.interface_by_mac("52:54:00:aa:00:99").is_none());
    let names: Vec<Option<&str>> = multi.interfaces.iter().map(Interface::network_name).collect();
    assert_eq!(names, [Some("default"), Some("ovs-net"), None, None, None]);

    let passt = parse_domain_xml(&fixture("domains/user-passt.xml")?)?;
    let slirp = parse_domain_xml(&fixture("domains/user-slirp.xml")?)?;
    assert!(passt.interfaces.iter().all(Interface::uses_passt));
    assert!(!slirp.interfaces.iter().any(Interface::uses_passt));
    Ok(())
}
