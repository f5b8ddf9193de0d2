//! The data path of each card of the demo hypervisor's VMs (the demo's node
//! file parsed by the real parsers, as `rules_demo.rs` does), and of a
//! workstation with the guide's setup: which hop each finding lands on,
//! the worst finding decides the colour, and what was not checked is
//! unknown, never good. `crates/host/tests/datapath_captured.rs` does the
//! same on the firewall lab's captured hosts.

#[path = "support/rules.rs"]
mod support;

use support::*;
use vmnet_doctor_core::datapath::{DataPath, HopKind, HopStatus, data_path};
use vmnet_doctor_core::{DomainState, diagnose};

fn path_of(snapshot: &vmnet_doctor_core::Snapshot, vm: &str, card: usize) -> Result<DataPath, Error> {
    let domain = snapshot.domain(vm).ok_or_else(|| format!("no VM {vm}"))?;
    let nic = domain.interfaces().get(card).ok_or_else(|| format!("{vm} has no card {card}"))?;
    Ok(data_path(snapshot, domain, nic, &diagnose(snapshot)))
}

/// (kind, status, finding ids) of every hop.
fn summary(path: &DataPath) -> Vec<(HopKind, &'static str, Vec<&'static str>)> {
    path.hops
        .iter()
        .map(|hop| (hop.kind, hop.status.as_str(), hop.findings.iter().map(|f| f.id).collect()))
        .collect()
}

use HopKind::{Bridge, Card, Forwarding, Guest, Internet, Uplink};

#[test]
fn demo_healthy_vm_is_good_where_checked_and_unknown_on_the_host() -> TestResult {
    let demo = demo_snapshot()?;
    let path = path_of(&demo, "fedora-workstation", 0)?;
    assert_eq!(
        summary(&path),
        vec![
            (Guest, "good", vec![]),
            (Card, "good", vec![]),
            // The demo has no host: bridge, forwarding and uplink are not checked.
            (Bridge, "unknown", vec![]),
            (Forwarding, "unknown", vec![]),
            (Uplink, "unknown", vec![]),
            (Internet, "unknown", vec![]),
        ]
    );
    let bridge = path.hop(Bridge).ok_or("bridge")?;
    assert_eq!(bridge.name.as_deref(), Some("virbr0"));
    assert!(bridge.details.contains(&"192.168.122.0/24".to_owned()), "{:?}", bridge.details);
    assert!(bridge.details.iter().any(|d| d.starts_with("DHCP 192.168.122.2–254")), "{:?}", bridge.details);
    assert_eq!(
        bridge.spoken(),
        "Bridge virbr0, network “default”, 192.168.122.0/24, DHCP 192.168.122.2–254: \
         not checked: The demo hypervisor has no host network of its own."
    );
    let guest = path.hop(Guest).ok_or("guest")?;
    assert_eq!(guest.name.as_deref(), Some("testnet0"));
    assert_eq!(guest.details, ["192.168.122.3/24"]);
    assert_eq!(guest.spoken(), "Guest interface testnet0, 192.168.122.3/24: no problems");
    assert_eq!(path.ends, None);
    Ok(())
}

#[test]
fn demo_findings_land_on_their_hops() -> TestResult {
    let demo = demo_snapshot()?;
    // Cable unplugged: the card is red, nothing else is blamed.
    let ubuntu = path_of(&demo, "ubuntu-server", 0)?;
    assert_eq!(summary(&ubuntu)[1], (Card, "error", vec!["nic-link-down"]));
    assert_eq!(ubuntu.hop(Guest).map(|hop| hop.status), Some(HopStatus::Good));
    assert!(ubuntu.hop(Card).ok_or("card")?.spoken().contains("link down"));
    // e1000: amber card.
    assert_eq!(summary(&path_of(&demo, "win11", 0)?)[1], (Card, "warning", vec!["nic-model-not-virtio"]));
    // An inactive network: the bridge is red with all three findings, the
    // worst first, and the hop says so before its status is known.
    let kali = path_of(&demo, "kali-linux", 0)?;
    let bridge = kali.hop(Bridge).ok_or("bridge")?;
    assert_eq!(bridge.status, HopStatus::Error);
    let ids: Vec<&str> = bridge.findings.iter().map(|f| f.id).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.contains(&"nic-network-inactive") && ids.contains(&"network-inactive"));
    assert_eq!(ids[2], "network-not-autostarted");
    assert!(bridge.details.contains(&"not running".to_owned()));
    assert!(bridge.spoken().ends_with("(and 2 more)"), "{}", bridge.spoken());
    // No agent channel: the guest hop is amber, whatever the leases say.
    assert_eq!(summary(&path_of(&demo, "rocky9", 0)?)[0], (Guest, "warning", vec!["guest-agent-missing"]));
    Ok(())
}

#[test]
fn demo_paths_follow_the_card_type() -> TestResult {
    let demo = demo_snapshot()?;
    // Isolated: no way out, by design, and said so (k3s-node1's second
    // card; postgres-lab's shares its MAC with a shut-off copy).
    let isolated = path_of(&demo, "k3s-node1", 1)?;
    assert_eq!(isolated.hops.iter().map(|hop| hop.kind).collect::<Vec<_>>(), [Guest, Card, Bridge]);
    assert!(isolated.ends.is_some());
    assert_eq!(isolated.hop(Card).map(|hop| hop.status), Some(HopStatus::Note));
    // A host bridge: no NAT on the way.
    let bridged = path_of(&demo, "home-assistant", 0)?;
    assert_eq!(bridged.hops.iter().map(|hop| hop.kind).collect::<Vec<_>>(), [Guest, Card, Bridge, Internet]);
    assert_eq!(bridged.hop(Bridge).and_then(|hop| hop.name.as_deref()), Some("br0"));
    // macvtap: straight onto the host device.
    let macvtap = path_of(&demo, "k3s-node1", 2)?;
    assert_eq!(macvtap.hop(Uplink).and_then(|hop| hop.name.as_deref()), Some("enp3s0"));
    // User mode: QEMU's own NAT, flagged on the card.
    let user = path_of(&demo, "debian12", 0)?;
    assert_eq!(user.hop(Forwarding).and_then(|hop| hop.name.as_deref()), Some("SLIRP"));
    assert_eq!(user.hop(Card).map(|hop| hop.status), Some(HopStatus::Warning));
    assert_eq!(
        path_of(&demo, "archlinux", 0)?.hop(Forwarding).and_then(|h| h.name.as_deref()),
        Some("passt")
    );
    // Shut off: the guest is not known.
    let off = path_of(&demo, "opensuse-tumbleweed", 0)?;
    assert_eq!(demo.domain("opensuse-tumbleweed").map(|d| d.state), Some(DomainState::ShutOff));
    assert_eq!(off.hop(Guest).map(|hop| hop.status), Some(HopStatus::Unknown));
    Ok(())
}

#[test]
fn a_card_only_carries_its_own_findings() -> TestResult {
    let demo = demo_snapshot()?;
    // k3s-node1's first card is on default, the healthy network; its
    // second (isolated) card's note must not colour the first.
    let first = path_of(&demo, "k3s-node1", 0)?;
    assert!(first.hops.iter().all(|hop| hop.findings.is_empty()), "{:#?}", summary(&first));
    Ok(())
}

#[test]
fn workstation_without_firewall_facts_is_unknown_at_the_forwarding_hop() -> TestResult {
    let vm = running_with_ips(domain_xml("debian13-virt-manager.xml")?, &[])?;
    let mac = first_mac(&vm.config)?;
    let vm = running_with_ips(vm.config, &[(&mac, "192.168.122.50/24")])?;
    let snapshot = with_host(system(vec![vm], vec![healthy_default()?]), workstation()?);
    let path = path_of(&snapshot, snapshot.domains[0].name(), 0)?;
    let bridge = path.hop(Bridge).ok_or("bridge")?;
    assert_eq!(bridge.status, HopStatus::Good, "{bridge:#?}");
    let uplink = path.hop(Uplink).ok_or("uplink")?;
    assert_eq!((uplink.status, uplink.name.as_deref()), (HopStatus::Good, Some("enp3s0")));
    assert_eq!(uplink.details, ["192.168.1.23/24"]);
    let forwarding = path.hop(Forwarding).ok_or("forwarding")?;
    // IPv4 forwarding is known on, the ruleset needs root: not checked.
    assert_eq!(forwarding.status, HopStatus::Unknown);
    assert!(forwarding.details.contains(&"IPv4 forwarding on".to_owned()));
    assert_eq!(path.hop(Guest).and_then(|hop| hop.name.as_deref()), Some("enp1s0"));
    Ok(())
}
