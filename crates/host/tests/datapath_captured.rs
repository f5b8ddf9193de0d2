//! The data path of a VM on the guide's `default` network, on hosts the
//! firewall lab captured (`crates/core/tests/fixtures/host/SCENARIO`), read
//! by the real readers: each broken setup lights the hop it breaks, the
//! guide's setup lights none, and without root the firewall's verdict is
//! unknown rather than good.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use vmnet_doctor_core::datapath::{DataPath, HopKind, HopStatus, data_path};
use vmnet_doctor_core::host::Fact;
use vmnet_doctor_core::{
    AddressSource, DomainSnapshot, DomainState, GuestAddress, GuestInterface, NetworkSnapshot, Snapshot,
    diagnose, parse_domain_xml, parse_network_xml,
};
use vmnet_doctor_host::{Sources, read_host_facts_with};

type TestResult = Result<(), Box<dyn Error>>;

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

/// A running VM (captured virt-manager XML) whose agent reports enp1s0 with
/// the address the lab's guest had, on the lab's `default` network.
fn lab_snapshot(scenario: &str, privileged: bool) -> Result<Snapshot, Box<dyn Error>> {
    let config = parse_domain_xml(&fs::read_to_string(repo(
        "crates/core/tests/fixtures/domains/debian13-virt-manager.xml",
    ))?)?;
    let mac = config.interfaces.first().and_then(|nic| nic.mac.clone()).ok_or("a card")?;
    let enp1s0 = GuestInterface {
        name: "enp1s0".to_owned(),
        mac: Some(mac),
        addresses: vec![GuestAddress { ip: "192.168.122.50".parse()?, prefix: 24 }],
    };
    let domain = DomainSnapshot {
        config,
        state: DomainState::Running,
        persistent: true,
        autostart: false,
        addresses: vec![(AddressSource::Agent, Ok(vec![enp1s0]))],
        guest: Fact::Unknown("not inspected in this test".to_owned()),
    };
    let network = NetworkSnapshot {
        config: parse_network_xml(&fs::read_to_string(repo("tests/libvirtd/default-network.xml"))?)?,
        active: true,
        autostart: true,
        persistent: true,
        leases: Fact::Known(Vec::new()),
    };
    let fixtures = repo("crates/core/tests/fixtures/host").join(scenario);
    let host = read_host_facts_with(&Sources::captured(&fixtures, privileged), &["default".to_owned()]);
    Ok(Snapshot {
        uri: "qemu:///system".to_owned(),
        hostname: None,
        domains: vec![domain],
        networks: vec![network],
        unreadable: Vec::new(),
        host: Fact::Known(Box::new(host)),
    })
}

fn path(scenario: &str, privileged: bool) -> Result<DataPath, Box<dyn Error>> {
    let snapshot = lab_snapshot(scenario, privileged)?;
    let domain = snapshot.domains.first().ok_or("a VM")?;
    let nic = domain.interfaces().first().ok_or("a card")?;
    Ok(data_path(&snapshot, domain, nic, &diagnose(&snapshot)))
}

/// (status, finding ids) of the hop `kind`; a missing hop fails the test.
fn hop(path: &DataPath, kind: HopKind) -> (Option<HopStatus>, Vec<&'static str>) {
    match path.hop(kind) {
        Some(hop) => (Some(hop.status), hop.findings.iter().map(|f| f.id).collect()),
        None => (None, Vec::new()),
    }
}

#[test]
fn the_guides_setup_lights_no_hop() -> TestResult {
    let path = path("nft-ufw-guide", true)?;
    for kind in [HopKind::Guest, HopKind::Card, HopKind::Bridge, HopKind::Forwarding, HopKind::Uplink] {
        assert_eq!(hop(&path, kind), (Some(HopStatus::Good), vec![]), "{kind:?}");
    }
    let forwarding = path.hop(HopKind::Forwarding).ok_or("forwarding")?;
    assert!(forwarding.details.contains(&"firewall forwards its traffic".to_owned()), "{forwarding:#?}");
    assert!(forwarding.details.contains(&"libvirt firewall backend: nftables".to_owned()), "{forwarding:#?}");
    let uplink = path.hop(HopKind::Uplink).ok_or("uplink")?;
    assert_eq!(uplink.name.as_deref(), Some("enp3s0"));
    assert!(uplink.details.contains(&"203.0.113.2/24".to_owned()));
    // The internet is never claimed from the host.
    assert_eq!(hop(&path, HopKind::Internet).0, Some(HopStatus::Unknown));
    Ok(())
}

#[test]
fn each_broken_setup_lights_the_hop_it_breaks() -> TestResult {
    let ufw = path("nft-ufw-default", true)?;
    assert_eq!(hop(&ufw, HopKind::Forwarding), (Some(HopStatus::Error), vec!["ufw-routed-deny"]));
    assert_eq!(hop(&ufw, HopKind::Bridge), (Some(HopStatus::Error), vec!["ufw-blocks-dhcp-dns"]));
    assert_eq!(hop(&ufw, HopKind::Uplink), (Some(HopStatus::Good), vec![]));
    let docker = path("nft-docker", true)?;
    assert_eq!(hop(&docker, HopKind::Forwarding), (Some(HopStatus::Error), vec!["forward-dropped"]));
    let forwarding = docker.hop(HopKind::Forwarding).ok_or("forwarding")?;
    assert!(
        forwarding.details.iter().any(|d| d.starts_with("firewall drops its traffic")),
        "{forwarding:#?}"
    );
    let off = path("nft-forwarding-off", true)?;
    assert_eq!(hop(&off, HopKind::Forwarding), (Some(HopStatus::Error), vec!["ipv4-forwarding-off"]));
    assert!(
        off.hop(HopKind::Forwarding).is_some_and(|h| h.details.contains(&"IPv4 forwarding off".to_owned()))
    );
    let offline = path("nft-no-uplink", true)?;
    assert_eq!(hop(&offline, HopKind::Uplink), (Some(HopStatus::Error), vec!["no-uplink"]));
    let input = path("nft-custom-input-drop", true)?;
    assert_eq!(hop(&input, HopKind::Bridge), (Some(HopStatus::Error), vec!["dhcp-dns-dropped"]));
    assert_eq!(hop(&input, HopKind::Forwarding).0, Some(HopStatus::Good));
    Ok(())
}

#[test]
fn without_root_the_firewall_is_unknown_not_good() -> TestResult {
    let path = path("nft-ufw-guide", false)?;
    let (status, ids) = hop(&path, HopKind::Forwarding);
    assert_eq!((status, ids), (Some(HopStatus::Unknown), vec!["firewall-unknown"]));
    let forwarding = path.hop(HopKind::Forwarding).ok_or("forwarding")?;
    assert!(forwarding.status_text().starts_with("not checked: "), "{}", forwarding.status_text());
    assert_eq!(hop(&path, HopKind::Uplink).0, Some(HopStatus::Good));
    Ok(())
}
