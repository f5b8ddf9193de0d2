//! The host readers on every tree the firewall lab captured
//! (`crates/core/tests/fixtures/host/SCENARIO`, made by
//! `tests/firewall-lab/capture.sh`), then the diagnosis on the facts they
//! read: the parsing and the rules together, on real hosts' files.
//!
//! Each scenario is read twice: as root (every fact), and as a normal user
//! (the root-only facts are "needs the helper or root").

use std::error::Error;
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use vmnet_doctor_core::host::{Fact, FirewallBackend, HostFacts};
use vmnet_doctor_core::{NetworkSnapshot, Severity, Snapshot, diagnose, parse_network_xml};
use vmnet_doctor_host::{NEEDS_ROOT, Sources, read_host_facts_with};

type TestResult = Result<(), Box<dyn Error>>;

use vmnet_doctor_core::rules::FIREWALL_RULE_IDS as FIREWALL_IDS;

/// Scenario → the firewall findings (id, severity) as root, and as a user.
///
/// Finding ids with their severity.
type Findings = &'static [(&'static str, Severity)];

const EXPECTED: &[(&str, Findings, Findings)] = &[
    ("nft-ufw-off", &[], &[UNKNOWN]),
    (
        "nft-ufw-default",
        &[("ufw-routed-deny", Severity::Error), ("ufw-blocks-dhcp-dns", Severity::Error)],
        &[UNKNOWN],
    ),
    ("nft-ufw-guide", &[], &[UNKNOWN]),
    ("nft-ufw-route-only", &[("ufw-blocks-dhcp-dns", Severity::Error)], &[UNKNOWN]),
    (
        "nft-ufw-default-legacy",
        &[("ufw-routed-deny", Severity::Error), ("ufw-blocks-dhcp-dns", Severity::Error)],
        &[UNKNOWN],
    ),
    ("nft-docker", &[("forward-dropped", Severity::Error)], &[UNKNOWN]),
    ("nft-docker-legacy", &[("forward-dropped", Severity::Error)], &[UNKNOWN]),
    ("nft-custom-input-drop", &[("dhcp-dns-dropped", Severity::Error)], &[UNKNOWN]),
    ("nft-firewalld", &[], &[UNKNOWN]),
    (
        "nft-firewalld-public",
        &[("firewalld-zone", Severity::Error)],
        &[("firewalld-zone", Severity::Warning), UNKNOWN],
    ),
    (
        "nft-forwarding-off",
        &[("ipv4-forwarding-off", Severity::Error)],
        &[("ipv4-forwarding-off", Severity::Error), UNKNOWN],
    ),
    ("nft-no-uplink", &[("no-uplink", Severity::Error)], &[("no-uplink", Severity::Error), UNKNOWN]),
    ("ipt-ufw-off", &[], &[UNKNOWN]),
    ("ipt-ufw-default", &[], &[UNKNOWN]),
    ("ipt-ufw-default-late", &[], &[UNKNOWN]),
    ("ipt-ufw-guide", &[], &[UNKNOWN]),
    ("ipt-docker", &[], &[UNKNOWN]),
    ("ipt-firewalld", &[], &[UNKNOWN]),
];

const UNKNOWN: (&str, Severity) = ("firewall-unknown", Severity::Info);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/host")
}

fn scenarios() -> Result<Vec<String>, Box<dyn Error>> {
    let mut names: Vec<String> = fs::read_dir(fixtures())?
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn read(scenario: &str, privileged: bool) -> HostFacts {
    read_host_facts_with(&Sources::captured(&fixtures().join(scenario), privileged), &["default".to_owned()])
}

/// What the lab's guest measured (`probe.txt`), e.g. `passed("dhcp")`.
fn probe_passed(scenario: &str, what: &str) -> Result<bool, Box<dyn Error>> {
    let text = fs::read_to_string(fixtures().join(scenario).join("probe.txt"))?;
    let line = text.lines().find(|line| line.starts_with(&format!("{what}: "))).ok_or("no such probe")?;
    Ok(line.contains(": ok"))
}

/// The guide's `default` network, as the lab defined it, running.
fn default_network() -> Result<NetworkSnapshot, Box<dyn Error>> {
    let xml = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/libvirtd/default-network.xml"),
    )?;
    Ok(NetworkSnapshot {
        config: parse_network_xml(&xml)?,
        active: true,
        autostart: true,
        persistent: true,
        leases: Fact::Known(Vec::new()),
    })
}

#[test]
fn every_scenario_has_expectations() -> TestResult {
    let listed: Vec<&str> = EXPECTED.iter().map(|(name, _, _)| *name).collect();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, scenarios()?);
    Ok(())
}

#[test]
fn reads_links_routes_and_sysctls() -> TestResult {
    for scenario in scenarios()? {
        let facts = read(&scenario, false);
        assert_eq!(facts.ipv4_forward, Fact::Known(scenario != "nft-forwarding-off"), "{scenario}");
        let virbr0 = facts.link("virbr0").ok_or_else(|| format!("{scenario}: no virbr0"))?;
        assert_eq!(virbr0.kind, "bridge");
        assert!(virbr0.up);
        assert_eq!(virbr0.addresses, [(IpAddr::V4(Ipv4Addr::new(192, 168, 122, 1)), 24)]);
        let vnet0 = facts.link("vnet0").ok_or_else(|| format!("{scenario}: no vnet0"))?;
        assert_eq!(vnet0.master.as_deref(), Some("virbr0"));
        assert_eq!(vnet0.kind, "veth");
        let uplink = facts.link("enp3s0").ok_or_else(|| format!("{scenario}: no enp3s0"))?;
        assert!(uplink.addresses.contains(&(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2)), 24)));
        assert_eq!(uplink.mtu, Some(1500), "{scenario}");
        assert_eq!(facts.link("lo").and_then(|lo| lo.mtu), Some(65536), "{scenario}");
        let expected_uplinks: &[&str] = if scenario == "nft-no-uplink" { &[] } else { &["enp3s0"] };
        assert_eq!(facts.uplinks(), expected_uplinks, "{scenario}");
        if scenario.contains("docker") {
            assert_eq!(facts.link("docker0").map(|link| link.kind.as_str()), Some("bridge"));
        }
    }
    Ok(())
}

#[test]
fn reads_ufw_libvirt_and_firewalld() -> TestResult {
    for scenario in scenarios()? {
        let root = read(&scenario, true);
        let user = read(&scenario, false);
        let ufw_on = scenario.contains("ufw") && !scenario.contains("ufw-off");
        let Fact::Known(Some(ufw)) = &root.ufw else {
            return Err(format!("{scenario}: {:?}", root.ufw).into());
        };
        assert_eq!(ufw.enabled_in_config, ufw_on, "{scenario}");
        assert_eq!(ufw.default_forward_policy.as_deref(), Some("DROP"));
        let Fact::Known(status) = &ufw.status else {
            return Err(format!("{scenario}: {:?}", ufw.status).into());
        };
        assert_eq!(status.active, ufw_on, "{scenario}");
        if ufw_on {
            assert_eq!(status.default_routed.as_deref(), Some("deny"));
        }
        let guide = scenario.ends_with("ufw-guide");
        assert_eq!(
            status.rules.iter().any(|rule| rule.action == "ALLOW FWD"),
            guide || scenario.ends_with("route-only")
        );
        if guide {
            assert_eq!(status.rules.len(), 6, "{:?}", status.rules); // three rules, IPv4 and IPv6
        }
        let Fact::Known(Some(user_ufw)) = &user.ufw else { return Err("user ufw".into()) };
        assert_eq!(user_ufw.status, Fact::Unknown(NEEDS_ROOT.to_owned()));

        let backend =
            if scenario.starts_with("nft-") { FirewallBackend::Nftables } else { FirewallBackend::Iptables };
        assert_eq!(root.libvirt_firewall_backend, Fact::Known(backend), "{scenario}");

        let Fact::Known(firewalld) = &root.firewalld else { return Err("firewalld".into()) };
        assert_eq!(firewalld.running, scenario.contains("firewalld"), "{scenario}");
        let zone = firewalld
            .interface_zones
            .iter()
            .find(|(interface, _)| interface == "virbr0")
            .map(|(_, zone)| zone.as_str());
        let expected_zone = match scenario.as_str() {
            "nft-firewalld-public" => Some("public"),
            name if name.contains("firewalld") => Some("libvirt"),
            _ => None,
        };
        assert_eq!(zone, expected_zone, "{scenario}");
    }
    Ok(())
}

#[test]
fn reads_dnsmasq_and_the_leases_the_guest_got() -> TestResult {
    for scenario in scenarios()? {
        let facts = read(&scenario, false);
        let Fact::Known(dnsmasq) = &facts.dnsmasq else {
            return Err(format!("{scenario}: {:?}", facts.dnsmasq).into());
        };
        assert_eq!(dnsmasq.len(), 1);
        assert!(dnsmasq[0].running, "{scenario}");
        let Fact::Known(leases) = &facts.leases else {
            return Err(format!("{scenario}: {:?}", facts.leases).into());
        };
        // The guest got a lease exactly when DHCP passed the firewall.
        let got_lease = probe_passed(&scenario, "dhcp")?;
        assert_eq!(leases.len(), usize::from(got_lease), "{scenario}: {leases:?}");
        for lease in leases {
            assert_eq!(lease.bridge, "virbr0");
            assert_eq!(lease.hostname.as_deref(), Some("labvm"));
            assert!(matches!(lease.ip, IpAddr::V4(ip) if ip.octets()[..3] == [192, 168, 122]));
        }
    }
    Ok(())
}

#[test]
fn reads_the_rulesets_only_as_root() -> TestResult {
    for scenario in scenarios()? {
        let Fact::Known(netfilter) = read(&scenario, true).netfilter else {
            return Err(format!("{scenario}: netfilter").into());
        };
        assert!(netfilter.nft_json.as_deref().is_some_and(|json| json.starts_with("{\"nftables\"")));
        assert_eq!(netfilter.iptables_legacy_save.is_some(), scenario.ends_with("-legacy"), "{scenario}");
        assert_eq!(read(&scenario, false).netfilter, Fact::Unknown(NEEDS_ROOT.to_owned()));
        let save = netfilter.iptables_nft_save.clone();
        // Present exactly when iptables-nft wrote tables (UFW, Docker, libvirt's iptables backend).
        let json = netfilter.nft_json.unwrap_or_default();
        assert_eq!(save.is_some(), json.contains(r#""family": "ip", "name": "filter""#), "{scenario}");
        assert!(save.is_none_or(|text| text.starts_with("# Generated by iptables-nft-save")), "{scenario}");
    }
    Ok(())
}

#[test]
fn diagnoses_each_captured_host() -> TestResult {
    let mut failures = Vec::new();
    for (scenario, as_root, as_user) in EXPECTED {
        for (privileged, expected) in [(true, as_root), (false, as_user)] {
            let snapshot = Snapshot {
                uri: "qemu:///system".to_owned(),
                hostname: None,
                domains: Vec::new(),
                networks: vec![default_network()?],
                unreadable: Vec::new(),
                host: Fact::Known(Box::new(read(scenario, privileged))),
            };
            let mut got: Vec<(&str, Severity)> = diagnose(&snapshot)
                .iter()
                .filter(|finding| FIREWALL_IDS.contains(&finding.id))
                .map(|finding| (finding.id, finding.severity))
                .collect();
            got.sort();
            let mut expected = expected.to_vec();
            expected.sort();
            if got != expected {
                failures.push(format!(
                    "{scenario} ({}): expected {expected:?}, got {got:?}",
                    if privileged { "root" } else { "user" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
