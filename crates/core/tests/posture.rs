//! The security posture (`vmnet_doctor_core::posture`) over real rulesets:
//! the lab's, captured by `tests/lab/exposure.sh --capture DIR` after the
//! helper's fixes and with hand-made controls (`fixtures/posture/*/how.txt`),
//! and the firewall lab's (`fixtures/host/*`, see its README). libvirt XML
//! is the captured fixtures'. What the host probe reads from /sys and
//! netlink (links, routes) is set here as plain data, as in
//! `firewall_rules.rs`.

mod common;

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};

use common::{TestResult, fixture};
use vmnet_doctor_core::host::{
    BridgeNfCall, Dnsmasq, Fact, FirewallBackend, Firewalld, HostFacts, Link, Netfilter, Route,
};
use vmnet_doctor_core::posture::{Posture, PostureId, PostureStatus, evaluate};
use vmnet_doctor_core::{
    AddressSource, DomainSnapshot, DomainState, GuestAddress, GuestInterface, NetworkSnapshot, Snapshot,
    parse_domain_xml, parse_network_xml,
};

/// The rulesets of a capture folder (`posture/NAME` or `host/NAME`).
fn netfilter(folder: &str) -> Result<Netfilter, Box<dyn Error>> {
    let commands = if folder.starts_with("host/") { format!("{folder}/commands") } else { folder.to_owned() };
    let read = |file: &str| -> Option<String> {
        fixture(&format!("{commands}/{file}")).ok().filter(|text| !text.trim().is_empty())
    };
    Ok(Netfilter {
        nft_json: Some(read("nft-list-ruleset.json").ok_or_else(|| format!("{folder}: no nft ruleset"))?),
        iptables_nft_save: read("iptables-nft-save.txt"),
        iptables_legacy_save: read("iptables-legacy-save.txt"),
    })
}

fn link(name: &str, kind: &str, address: Ipv4Addr) -> Link {
    Link {
        name: name.to_owned(),
        kind: kind.to_owned(),
        up: true,
        operstate: "up".to_owned(),
        mac: None,
        master: None,
        addresses: vec![(IpAddr::V4(address), 24)],
        mtu: Some(1500),
    }
}

/// The lab host: uplink enp3s0 203.0.113.2/24 with the default route,
/// virbr0 192.168.122.1/24, with the rulesets of `folder`.
fn host(folder: &str) -> Result<Fact<Box<HostFacts>>, Box<dyn Error>> {
    let route = |destination: &str, prefix: u8, dev: &str| -> Result<Route, Box<dyn Error>> {
        Ok(Route::main(destination.parse()?, prefix, None, dev))
    };
    Ok(Fact::Known(Box::new(HostFacts {
        ipv4_forward: Fact::Known(true),
        links: Fact::Known(vec![
            link("enp3s0", "", Ipv4Addr::new(203, 0, 113, 2)),
            link("virbr0", "bridge", Ipv4Addr::new(192, 168, 122, 1)),
        ]),
        routes: Fact::Known(vec![route("0.0.0.0", 0, "enp3s0")?, route("192.168.122.0", 24, "virbr0")?]),
        rules: Fact::Unknown("not read in this test".to_owned()),
        ufw: Fact::Known(None),
        libvirt_firewall_backend: Fact::Known(FirewallBackend::Nftables),
        firewalld: Fact::Known(Firewalld { running: false, interface_zones: Vec::new() }),
        netfilter: Fact::Known(netfilter(folder)?),
        dnsmasq: Fact::Known(vec![Dnsmasq { network: "default".to_owned(), running: true }]),
        leases: Fact::Known(Vec::new()),
        listeners: Fact::Known(Vec::new()),
        bridge_acl: Fact::Unknown("not read in this test".to_owned()),
        bridge_helper: Fact::Unknown("not read in this test".to_owned()),
        bridge_nf_call: Fact::Known(BridgeNfCall::default()),
    })))
}

fn network(path: &str) -> Result<NetworkSnapshot, Box<dyn Error>> {
    let config = parse_network_xml(&fixture(path)?)?;
    Ok(NetworkSnapshot {
        config,
        active: true,
        autostart: true,
        persistent: true,
        leases: Fact::Known(Vec::new()),
    })
}

/// The captured virt-manager-style guest on `default`, running, its lease
/// at `address` (the lab guest's address in the captures).
fn guest_at(address: &str) -> Result<DomainSnapshot, Box<dyn Error>> {
    let config = parse_domain_xml(&fixture("domains/debian13-virt-manager.xml")?)?;
    let mac = config.interfaces.first().and_then(|nic| nic.mac.clone()).ok_or("the fixture has no MAC")?;
    let interface = GuestInterface {
        name: "vnet0".to_owned(),
        mac: Some(mac),
        addresses: vec![GuestAddress { ip: address.parse()?, prefix: 24 }],
    };
    Ok(DomainSnapshot {
        config,
        state: DomainState::Running,
        persistent: true,
        autostart: false,
        addresses: vec![(AddressSource::Lease, Ok(vec![interface]))],
        guest: Fact::Unknown("not inspected in this test".to_owned()),
    })
}

fn snapshot(
    host: Fact<Box<HostFacts>>,
    networks: Vec<NetworkSnapshot>,
    domains: Vec<DomainSnapshot>,
) -> Snapshot {
    Snapshot {
        uri: "qemu:///system".to_owned(),
        hostname: None,
        domains,
        networks,
        unreadable: Vec::new(),
        host,
    }
}

fn lab(folder: &str) -> Result<Posture, Box<dyn Error>> {
    let networks = vec![network("networks/default-guide.xml")?];
    Ok(evaluate(&snapshot(host(folder)?, networks, vec![guest_at("192.168.122.155")?])))
}

fn status(posture: &Posture, id: PostureId) -> Result<PostureStatus, Box<dyn Error>> {
    Ok(posture.statement(id).ok_or_else(|| format!("no {id:?}"))?.status)
}

fn evidence(posture: &Posture, id: PostureId) -> Result<String, Box<dyn Error>> {
    Ok(posture.statement(id).ok_or_else(|| format!("no {id:?}"))?.evidence.join("\n"))
}

#[test]
fn after_the_docker_fix_everything_holds_and_our_two_rules_are_named() -> TestResult {
    let posture = lab("posture/lab-docker-fixed")?;
    assert!(posture.all_hold(), "{posture:#?}");
    let ours = evidence(&posture, PostureId::FixesOpenNothingInbound)?;
    assert!(
        ours.contains("-A DOCKER-USER -i virbr0 -o enp3s0 -m comment --comment vmnet-doctor -j ACCEPT"),
        "{ours}"
    );
    assert!(ours.contains("--ctstate RELATED,ESTABLISHED -m comment --comment vmnet-doctor"), "{ours}");
    assert!(ours.contains("accepts no new connection arriving on enp3s0"), "{ours}");
    let inbound = evidence(&posture, PostureId::NoInboundToVms)?;
    assert!(inbound.contains("192.168.122.155:22"), "{inbound}");
    assert!(inbound.contains("reject"), "{inbound}");
    Ok(())
}

#[test]
fn after_the_ufw_fix_its_rules_on_the_bridge_are_judged_and_open_nothing() -> TestResult {
    let posture = lab("posture/lab-ufw-fixed")?;
    assert!(posture.all_hold(), "{posture:#?}");
    let ours = evidence(&posture, PostureId::FixesOpenNothingInbound)?;
    // `ufw allow in on virbr0` and `ufw route allow in on virbr0 out on
    // enp3s0`, as UFW writes them; `allow out` is in an output chain.
    assert!(ours.contains("chain ufw-user-input: `-A ufw-user-input -i virbr0 -j ACCEPT`"), "{ours}");
    assert!(
        ours.contains("chain ufw-user-forward: `-A ufw-user-forward -i virbr0 -o enp3s0 -j ACCEPT`"),
        "{ours}"
    );
    assert!(
        ours.contains("chain ufw-user-output: `-A ufw-user-output -o virbr0 -j ACCEPT` accepts no new"),
        "{ours}"
    );
    Ok(())
}

#[test]
fn a_port_forward_to_the_guest_is_named_and_lets_the_internet_in() -> TestResult {
    let posture = lab("posture/lab-port-forward")?;
    assert_eq!(status(&posture, PostureId::NoPortForwarding)?, PostureStatus::DoesNotHold);
    let forwarding = evidence(&posture, PostureId::NoPortForwarding)?;
    assert!(
        forwarding.contains("--dport 8080 -j DNAT --to-destination 192.168.122.155:8080` forwards connections to 192.168.122.155, in network “default” (192.168.122.0/24)"),
        "{forwarding}"
    );
    // The control also opened libvirt's guest_input for the guest's 8080.
    assert_eq!(status(&posture, PostureId::NoInboundToVms)?, PostureStatus::DoesNotHold);
    let inbound = evidence(&posture, PostureId::NoInboundToVms)?;
    assert!(inbound.contains("to 192.168.122.155:8080 on virbr0 passes every chain"), "{inbound}");
    // Nothing of ours is involved.
    assert_eq!(status(&posture, PostureId::FixesOpenNothingInbound)?, PostureStatus::Holds);
    Ok(())
}

#[test]
fn nftables_own_port_forwards_are_read_with_their_targets() -> TestResult {
    let posture = lab("posture/nft-port-forwards")?;
    assert_eq!(status(&posture, PostureId::NoPortForwarding)?, PostureStatus::DoesNotHold);
    let text = evidence(&posture, PostureId::NoPortForwarding)?;
    assert!(
        text.contains(
            "table ip vmnd_forward, chain prerouting: `meta iifname \"enp3s0\" tcp dport 8080 dnat"
        ),
        "{text}"
    );
    assert!(
        text.contains("forwards connections to 192.168.122.155, in network “default” (192.168.122.0/24)"),
        "{text}"
    );
    // `dnat ip to` in an inet table.
    assert!(text.contains("forwards connections to 192.168.122.77, in network “default”"), "{text}");
    assert!(text.contains("forwards to 172.17.0.2, outside the VM networks"), "{text}");
    assert!(text.contains("redirects to the host itself"), "{text}");
    Ok(())
}

#[test]
fn an_inbound_accept_carrying_our_comment_is_refuted() -> TestResult {
    let posture = lab("posture/lab-rogue-accept")?;
    assert_eq!(status(&posture, PostureId::FixesOpenNothingInbound)?, PostureStatus::DoesNotHold);
    let ours = evidence(&posture, PostureId::FixesOpenNothingInbound)?;
    assert!(
        ours.contains("`-A FORWARD -i enp3s0 -o virbr0 -m comment --comment vmnet-doctor -j ACCEPT` accepts a new TCP connection from the internet (in on enp3s0) to a guest"),
        "{ours}"
    );
    Ok(())
}

#[test]
fn the_firewall_labs_hosts_hold_without_any_fix_rule() -> TestResult {
    for scenario in
        ["nft-ufw-off", "nft-ufw-guide", "nft-docker", "ipt-docker", "ipt-ufw-guide", "nft-firewalld"]
    {
        let networks = vec![network("networks/default-guide.xml")?];
        let posture = evaluate(&snapshot(host(&format!("host/{scenario}"))?, networks, Vec::new()));
        for id in PostureId::ALL {
            assert_eq!(status(&posture, id)?, PostureStatus::Holds, "{scenario} {id:?}: {posture:#?}");
        }
    }
    Ok(())
}

#[test]
fn address_spaces_are_classed_by_their_standards() -> TestResult {
    let networks = vec![
        network("networks/default-guide.xml")?,
        network("networks/dual-stack.xml")?,
        network("posture/routed-shared-space.xml")?,
    ];
    let posture = evaluate(&snapshot(host("posture/lab-docker-fixed")?, networks, Vec::new()));
    assert_eq!(status(&posture, PostureId::PrivateAddressSpace)?, PostureStatus::DoesNotHold);
    let text = evidence(&posture, PostureId::PrivateAddressSpace)?;
    assert!(text.contains("“default” uses 192.168.122.0/24: private (RFC 1918)"), "{text}");
    assert!(text.contains("fd00:dead:beef::/64: private (RFC 4193)"), "{text}");
    assert!(text.contains("“routed-shared-space” uses 100.64.20.0/24: the shared address space"), "{text}");
    assert!(text.contains("2001:db8:20::/64: not a private range"), "{text}");
    Ok(())
}

#[test]
fn without_host_facts_nothing_is_claimed() -> TestResult {
    let networks = vec![network("networks/default-guide.xml")?];
    let unknown = Fact::Unknown("libvirt runs on another machine".to_owned());
    let posture = evaluate(&snapshot(unknown, networks, Vec::new()));
    for id in [PostureId::NoPortForwarding, PostureId::FixesOpenNothingInbound, PostureId::NoInboundToVms] {
        assert_eq!(status(&posture, id)?, PostureStatus::Unknown, "{id:?}");
        assert!(evidence(&posture, id)?.contains("another machine"));
    }
    // The networks' addresses are libvirt's, known without the host.
    assert_eq!(status(&posture, PostureId::PrivateAddressSpace)?, PostureStatus::Holds);
    Ok(())
}
