//! Every captured `virsh net-dumpxml` fixture parses into exactly the
//! expected `NetworkConfig` (see tests/fixtures/README.md).

mod common;

use std::net::IpAddr;

use common::{TestResult, fixture, fixture_names};
use vmnet_doctor_core::{
    BridgeDef, DhcpHost, DhcpRange, ForwardMode, IpDef, NetworkConfig, parse_network_xml,
};

fn ip(text: &str) -> Result<IpAddr, std::net::AddrParseError> {
    text.parse()
}

fn bridge(name: &str, stp: Option<bool>, delay: Option<u32>) -> Option<BridgeDef> {
    Some(BridgeDef { name: Some(name.to_owned()), stp, delay })
}

fn ip_def(address: &str, prefix: u8, range: Option<(&str, &str)>) -> Result<IpDef, std::net::AddrParseError> {
    let dhcp_ranges = match range {
        Some((start, end)) => vec![DhcpRange { start: ip(start)?, end: ip(end)? }],
        None => vec![],
    };
    Ok(IpDef { address: ip(address)?, prefix: Some(prefix), dhcp_ranges, dhcp_hosts: vec![] })
}

fn host(mac: Option<&str>, name: &str, address: &str) -> Result<DhcpHost, std::net::AddrParseError> {
    Ok(DhcpHost { mac: mac.map(str::to_owned), name: Some(name.to_owned()), ip: Some(ip(address)?) })
}

fn network(name: &str, uuid: &str, forward: ForwardMode) -> NetworkConfig {
    NetworkConfig {
        name: name.to_owned(),
        uuid: Some(uuid.to_owned()),
        forward,
        forward_devs: vec![],
        bridge: None,
        ips: vec![],
        domain_name: None,
    }
}

/// The guide's default network: NAT on virbr0, 192.168.122.1/24, DHCP .2–.254.
fn default_network(uuid: &str) -> Result<NetworkConfig, std::net::AddrParseError> {
    let mut n = network("default", uuid, ForwardMode::Nat);
    n.bridge = bridge("virbr0", Some(true), Some(0));
    n.ips = vec![ip_def("192.168.122.1", 24, Some(("192.168.122.2", "192.168.122.254")))?];
    Ok(n)
}

/// (fixture file under `networks/`, expected result).
fn expected() -> Result<Vec<(&'static str, NetworkConfig)>, std::net::AddrParseError> {
    let devs = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
    Ok(vec![
        ("test-default.xml", default_network("dd8fe884-6c02-601e-7551-cca97df1c5df")?),
        ("isolated.xml", {
            let mut n = network("isolated", "7a3e1f00-0000-4000-8000-000000000002", ForwardMode::Isolated);
            n.bridge = bridge("virbr1", Some(true), Some(0));
            n.ips = vec![ip_def("10.10.10.1", 24, Some(("10.10.10.100", "10.10.10.200")))?];
            n
        }),
        ("routed.xml", {
            let mut n = network("routed", "7a3e1f00-0000-4000-8000-000000000003", ForwardMode::Route);
            // libvirt repeats `<forward dev>` as an `<interface>` child; listed once.
            n.forward_devs = devs(&["eth1"]);
            n.bridge = bridge("virbr2", Some(true), Some(0));
            n.ips = vec![ip_def("192.168.150.1", 24, Some(("192.168.150.10", "192.168.150.99")))?];
            n
        }),
        ("open.xml", {
            let mut n = network("open", "7a3e1f00-0000-4000-8000-000000000004", ForwardMode::Open);
            n.bridge = bridge("virbr3", Some(false), Some(0));
            n.ips = vec![ip_def("172.30.0.1", 16, None)?];
            n
        }),
        ("host-bridge.xml", {
            let mut n = network("host-bridge", "7a3e1f00-0000-4000-8000-000000000005", ForwardMode::Bridge);
            n.bridge = bridge("br0", None, None);
            n
        }),
        ("macvtap-pool.xml", {
            let mut n = network("macvtap-pool", "7a3e1f00-0000-4000-8000-000000000006", ForwardMode::Bridge);
            n.forward_devs = devs(&["eth1", "eth2", "eth3"]);
            n
        }),
        ("sriov-pool.xml", {
            let mut n = network("sriov-pool", "7a3e1f00-0000-4000-8000-000000000007", ForwardMode::Hostdev);
            n.forward_devs = devs(&["enp4s0f0"]);
            n
        }),
        ("dual-stack.xml", {
            let mut n = network("dual-stack", "7a3e1f00-0000-4000-8000-000000000008", ForwardMode::Nat);
            n.bridge = bridge("virbr5", Some(true), Some(0));
            n.domain_name = Some("lab.example".to_owned());
            let mut v4 = ip_def("192.168.124.1", 24, Some(("192.168.124.100", "192.168.124.199")))?;
            v4.dhcp_hosts = vec![
                // Written upper-case in the XML (libvirt keeps it so); read lower-case.
                host(Some("52:54:00:aa:00:01"), "web", "192.168.124.10")?,
                host(Some("52:54:00:aa:00:02"), "db", "192.168.124.11")?,
            ];
            let mut v6 =
                ip_def("fd00:dead:beef::1", 64, Some(("fd00:dead:beef::100", "fd00:dead:beef::1ff")))?;
            // IPv6 hosts are matched by DUID (`id`) or name, never by MAC.
            v6.dhcp_hosts =
                vec![host(None, "web", "fd00:dead:beef::10")?, host(None, "db", "fd00:dead:beef::11")?];
            n.ips = vec![v4, v6];
            n
        }),
        ("forward-no-mode.xml", {
            // libvirt stores a `<forward/>` without mode as NAT.
            let mut n = network("forward-no-mode", "7a3e1f00-0000-4000-8000-000000000009", ForwardMode::Nat);
            n.bridge = bridge("virbr6", Some(true), Some(0));
            n.ips = vec![ip_def("192.168.160.1", 24, None)?];
            n
        }),
        ("dhcp-conflicts.xml", {
            // Accepted as it is: libvirt does not check its <host> entries
            // against each other or the subnet (dhcp-host-conflict does).
            let mut n = network("dhcp-conflicts", "1a2b28f9-5e16-4a2b-954b-9430b9d911a4", ForwardMode::Nat);
            n.bridge = bridge("virbr9", Some(true), Some(0));
            let mut v4 = ip_def("192.168.130.1", 24, Some(("192.168.130.100", "192.168.130.101")))?;
            v4.dhcp_hosts = vec![
                host(Some("52:54:00:aa:00:01"), "web", "192.168.130.10")?,
                host(Some("52:54:00:aa:00:02"), "db", "192.168.130.10")?,
                host(Some("52:54:00:aa:00:03"), "far", "10.9.9.9")?,
            ];
            n.ips = vec![v4];
            n
        }),
        ("portgroups.xml", {
            let mut n = network("ovs-net", "7a3e1f00-0000-4000-8000-00000000000a", ForwardMode::Bridge);
            n.bridge = bridge("ovsbr0", None, None);
            n
        }),
    ])
}

#[test]
fn every_network_fixture_parses_as_expected() -> TestResult {
    for (file, want) in expected()? {
        let got = parse_network_xml(&fixture(&format!("networks/{file}"))?)
            .map_err(|error| format!("networks/{file}: {error}"))?;
        assert_eq!(got, want, "networks/{file}");
    }
    Ok(())
}

/// The guide's network was defined without a UUID, so libvirt made up a
/// random one at capture time.
#[test]
fn guide_default_network_parses_as_expected() -> TestResult {
    let got = parse_network_xml(&fixture("networks/default-guide.xml")?)?;
    let uuid = got.uuid.clone().ok_or("libvirt always writes a uuid")?;
    assert_eq!(uuid.len(), 36, "{uuid}");
    assert_eq!(got, default_network(&uuid)?);
    assert_eq!(got.bridge_name(), Some("virbr0"));
    assert!(got.ips.iter().all(|ip| !ip.is_ipv6()));
    Ok(())
}

#[test]
fn every_network_fixture_is_in_the_table() -> TestResult {
    let expected = expected()?;
    for file in fixture_names("networks")? {
        let covered = file == "default-guide.xml" || expected.iter().any(|(name, _)| *name == file);
        assert!(covered, "networks/{file} has no expected values");
    }
    Ok(())
}

#[test]
fn inputs_parse_as_well() -> TestResult {
    for file in fixture_names("inputs/networks")? {
        parse_network_xml(&fixture(&format!("inputs/networks/{file}"))?)
            .map_err(|error| format!("inputs/networks/{file}: {error}"))?;
    }
    // What libvirt was given: `<forward/>` with no mode, which libvirt
    // documents (and stores) as NAT; no stp/delay, which it then fills in.
    let raw = parse_network_xml(&fixture("inputs/networks/forward-no-mode.xml")?)?;
    assert_eq!(raw.forward, ForwardMode::Nat);
    assert_eq!(raw.bridge, bridge("virbr6", None, None));
    // The dnsmasq namespace the test driver drops from its output.
    let dual = parse_network_xml(&fixture("inputs/networks/dual-stack.xml")?)?;
    assert_eq!(dual.ips.len(), 2);
    assert!(dual.ips.get(1).is_some_and(IpDef::is_ipv6));
    Ok(())
}
