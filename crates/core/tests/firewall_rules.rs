//! The firewall rules, one table of cases per rule.
//!
//! Host facts are built here (core cannot depend on the host crate), but
//! every ruleset is a real capture of the firewall lab
//! (`fixtures/host/SCENARIO/commands/`, see `fixtures/host/README.md`).
//! `crates/host/tests/captured_hosts.rs` runs the same rules on facts read
//! from the captured trees by the real readers.

mod common;

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::{TestResult, fixture};
use vmnet_doctor_core::host::{
    BridgeNfCall, Dnsmasq, Fact, FirewallBackend, Firewalld, HostFacts, Link, Netfilter, Route, RouteKind,
    RouteTable, RoutingRule, Ufw, UfwRule, UfwStatus,
};
use vmnet_doctor_core::{
    DomainSnapshot, DomainState, Finding, Fix, NetworkSnapshot, Severity, Snapshot, Subject, diagnose,
    parse_domain_xml, parse_network_xml, rules::explained_by,
};

use vmnet_doctor_core::rules::FIREWALL_RULE_IDS as FIREWALL_IDS;

/// The netfilter fact as root reads it on a captured lab host.
fn captured_netfilter(scenario: &str) -> Result<Netfilter, Box<dyn Error>> {
    let save = fixture(&format!("host/{scenario}/commands/iptables-nft-save.txt")).ok();
    Ok(Netfilter {
        iptables_nft_save: save.filter(|text| !text.trim().is_empty()),
        ..json_only_netfilter(scenario)?
    })
}

/// The same without `iptables-nft-save`: iptables-nft's `xt` matches stay
/// opaque.
fn json_only_netfilter(scenario: &str) -> Result<Netfilter, Box<dyn Error>> {
    let read = |file: &str| -> Option<String> {
        fixture(&format!("host/{scenario}/commands/{file}")).ok().filter(|text| !text.trim().is_empty())
    };
    let nft_json = read("nft-list-ruleset.json").ok_or_else(|| format!("{scenario}: no nft ruleset"))?;
    Ok(Netfilter {
        nft_json: Some(nft_json),
        iptables_nft_save: None,
        iptables_legacy_save: read("iptables-legacy-save.txt"),
    })
}

fn route(destination: &str, prefix: u8, dev: &str) -> Result<Route, Box<dyn Error>> {
    Ok(Route::main(destination.parse()?, prefix, None, dev))
}

fn link(name: &str, kind: &str, address: Option<(Ipv4Addr, u8)>) -> Link {
    Link {
        name: name.to_owned(),
        kind: kind.to_owned(),
        up: true,
        operstate: "up".to_owned(),
        mac: Some("52:54:00:12:34:56".to_owned()),
        master: None,
        addresses: address.map(|(ip, prefix)| (IpAddr::V4(ip), prefix)).into_iter().collect(),
        mtu: Some(1500),
    }
}

/// A healthy host like the lab's: uplink enp3s0, virbr0 up, forwarding on,
/// no UFW, no firewalld, with the ruleset of `scenario`.
fn host(scenario: &str) -> Result<HostFacts, Box<dyn Error>> {
    Ok(HostFacts {
        ipv4_forward: Fact::Known(true),
        links: Fact::Known(vec![
            link("enp3s0", "", Some((Ipv4Addr::new(203, 0, 113, 2), 24))),
            link("virbr0", "bridge", Some((Ipv4Addr::new(192, 168, 122, 1), 24))),
        ]),
        routes: Fact::Known(vec![
            route("0.0.0.0", 0, "enp3s0")?,
            route("192.168.122.0", 24, "virbr0")?,
            route("203.0.113.0", 24, "enp3s0")?,
        ]),
        rules: Fact::Unknown("not read in this test".to_owned()),
        ufw: Fact::Known(None),
        libvirt_firewall_backend: Fact::Known(FirewallBackend::Nftables),
        firewalld: Fact::Known(Firewalld { running: false, interface_zones: Vec::new() }),
        netfilter: Fact::Known(captured_netfilter(scenario)?),
        dnsmasq: Fact::Known(vec![Dnsmasq { network: "default".to_owned(), running: true }]),
        leases: Fact::Known(Vec::new()),
        listeners: Fact::Known(Vec::new()),
        bridge_acl: Fact::Unknown("not read in this test".to_owned()),
        bridge_helper: Fact::Unknown("not read in this test".to_owned()),
        bridge_nf_call: Fact::Known(BridgeNfCall::default()),
    })
}

/// `host` as read before the link `name` existed.
fn without_link(mut host: HostFacts, name: &str) -> HostFacts {
    if let Fact::Known(links) = &mut host.links {
        links.retain(|link| link.name != name);
    }
    host
}

/// UFW enabled with its defaults (as `ufw status verbose` shows them).
fn ufw_defaults(rules: Vec<UfwRule>) -> Fact<Option<Ufw>> {
    Fact::Known(Some(Ufw {
        enabled_in_config: true,
        default_forward_policy: Some("DROP".to_owned()),
        status: Fact::Known(UfwStatus {
            active: true,
            default_incoming: Some("deny".to_owned()),
            default_outgoing: Some("allow".to_owned()),
            default_routed: Some("deny".to_owned()),
            rules,
        }),
    }))
}

fn firewalld(zones: &[(&str, &str)]) -> Fact<Firewalld> {
    Fact::Known(Firewalld {
        running: true,
        interface_zones: zones.iter().map(|(i, z)| ((*i).to_owned(), (*z).to_owned())).collect(),
    })
}

/// A network fixture (captured from libvirt), active or not.
fn network(name: &str, active: bool) -> Result<NetworkSnapshot, Box<dyn Error>> {
    let config = parse_network_xml(&fixture(&format!("networks/{name}.xml"))?)?;
    Ok(NetworkSnapshot { config, active, autostart: true, persistent: true, leases: Fact::Known(Vec::new()) })
}

fn snapshot(host: Fact<Box<HostFacts>>, networks: Vec<NetworkSnapshot>) -> Snapshot {
    Snapshot {
        uri: "qemu:///system".to_owned(),
        hostname: None,
        domains: Vec::new(),
        networks,
        unreadable: Vec::new(),
        host,
    }
}

fn firewall_findings(snapshot: &Snapshot) -> Vec<Finding> {
    diagnose(snapshot).into_iter().filter(|finding| FIREWALL_IDS.contains(&finding.id)).collect()
}

/// (id, severity, fix) of every firewall finding, sorted.
fn summary(findings: &[Finding]) -> Vec<(&'static str, Severity, Option<Fix>)> {
    let mut summary: Vec<_> = findings.iter().map(|f| (f.id, f.severity, f.fix.clone())).collect();
    summary.sort_by(|a, b| {
        (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| format!("{:?}", a.2).cmp(&format!("{:?}", b.2)))
    });
    summary
}

type Expected = Vec<(&'static str, Severity, Option<Fix>)>;

struct Case {
    name: &'static str,
    snapshot: Snapshot,
    expected: Expected,
}

fn run(cases: Vec<Case>) -> TestResult {
    let mut failures = Vec::new();
    for case in cases {
        let findings = firewall_findings(&case.snapshot);
        let mut expected = case.expected.clone();
        expected.sort_by(|a, b| {
            (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| format!("{:?}", a.2).cmp(&format!("{:?}", b.2)))
        });
        if summary(&findings) != expected {
            failures.push(format!("{}:\n  expected {:?}\n  got {:#?}", case.name, expected, findings));
        }
        for finding in &findings {
            assert!(
                !finding.title.is_empty() && !finding.explanation.is_empty(),
                "{}: empty text",
                case.name
            );
            assert!(!finding.evidence.is_empty(), "{}: {} has no evidence", case.name, finding.id);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

fn known(host: HostFacts) -> Fact<Box<HostFacts>> {
    Fact::Known(Box::new(host))
}

fn fix_ufw(bridge: &str, uplink: &str) -> Option<Fix> {
    Some(Fix::UfwAllowBridge { bridge: bridge.to_owned(), uplink: uplink.to_owned() })
}

#[test]
fn ipv4_forwarding_off() -> TestResult {
    let off = |mut host: HostFacts| {
        host.ipv4_forward = Fact::Known(false);
        host
    };
    run(vec![
        Case {
            name: "forwarding off with NAT network running (lab capture)",
            snapshot: snapshot(
                known(off(host("nft-forwarding-off")?)),
                vec![network("default-guide", true)?],
            ),
            expected: vec![("ipv4-forwarding-off", Severity::Error, Some(Fix::EnableIpv4Forwarding))],
        },
        Case {
            name: "forwarding off, network not running",
            snapshot: snapshot(
                known(off(host("nft-forwarding-off")?)),
                vec![network("default-guide", false)?],
            ),
            expected: vec![],
        },
        Case {
            name: "forwarding off, only an isolated network",
            snapshot: snapshot(known(off(host("nft-forwarding-off")?)), vec![network("isolated", true)?]),
            expected: vec![],
        },
        Case {
            name: "forwarding unknown",
            snapshot: snapshot(
                known(HostFacts {
                    ipv4_forward: Fact::Unknown("cannot read".to_owned()),
                    ..host("nft-ufw-off")?
                }),
                vec![network("default-guide", true)?],
            ),
            expected: vec![],
        },
    ])
}

/// wg-quick's policy routing added to `host`: a default route via `wg0`
/// (of `kind`) in table 51820, `not fwmark 0xca6c lookup 51820` and
/// `lookup main suppress_prefixlength 0`, beside the standard rules.
fn wg_quick(mut host: HostFacts, kind: RouteKind) -> Result<HostFacts, Box<dyn Error>> {
    if let Fact::Known(routes) = &mut host.routes {
        routes.push(Route { table: RouteTable(51820), kind, ..route("0.0.0.0", 0, "wg0")? });
    }
    let lookup = |priority: u32, table: RouteTable| RoutingRule::lookup(false, priority, table);
    host.rules = Fact::Known(vec![
        lookup(0, RouteTable::LOCAL),
        RoutingRule { suppress_prefixlength: Some(0), ..lookup(32764, RouteTable::MAIN) },
        RoutingRule { not: true, fwmark: Some((0xca6c, u32::MAX)), ..lookup(32765, RouteTable(51820)) },
        lookup(32766, RouteTable::MAIN),
        lookup(32767, RouteTable::DEFAULT),
    ]);
    Ok(host)
}

#[test]
fn no_uplink_says_which_tables_were_read() -> TestResult {
    let networks = || network("default-guide", true);
    // The rules send VM traffic to a table whose default route drops it:
    // main's default route (enp3s0) is no way out for it.
    let dropped = wg_quick(host("nft-ufw-off")?, RouteKind::Unreachable)?;
    let findings = firewall_findings(&snapshot(known(dropped), vec![networks()?]));
    let finding = findings.iter().find(|finding| finding.id == "no-uplink").ok_or("no no-uplink")?;
    assert!(finding.explanation.contains("policy rules were read"), "{}", finding.explanation);
    assert!(!finding.explanation.contains("Only the main"), "{}", finding.explanation);
    // Without the rules (no iproute2), the main table only, and it says so.
    let main_only = HostFacts {
        routes: Fact::Known(vec![route("192.168.122.0", 24, "virbr0")?]),
        ..host("nft-ufw-off")?
    };
    let findings = firewall_findings(&snapshot(known(main_only), vec![networks()?]));
    let finding = findings.iter().find(|finding| finding.id == "no-uplink").ok_or("no no-uplink")?;
    assert!(finding.explanation.contains("Only the main routing table"), "{}", finding.explanation);
    Ok(())
}

#[test]
fn no_uplink() -> TestResult {
    let without_default = |host: HostFacts| -> Result<HostFacts, Box<dyn Error>> {
        Ok(HostFacts {
            routes: Fact::Known(vec![
                route("192.168.122.0", 24, "virbr0")?,
                route("203.0.113.0", 24, "enp3s0")?,
            ]),
            ..host
        })
    };
    let ipv6_default = Route::main(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0, Some("fe80::1".parse()?), "enp3s0");
    let mut v6_only = without_default(host("nft-no-uplink")?)?;
    if let Fact::Known(routes) = &mut v6_only.routes {
        routes.push(ipv6_default);
    }
    run(vec![
        Case {
            name: "no default route (lab capture)",
            snapshot: snapshot(
                known(without_default(host("nft-no-uplink")?)?),
                vec![network("default-guide", true)?],
            ),
            expected: vec![("no-uplink", Severity::Error, None)],
        },
        Case {
            name: "only an IPv6 default route: NAT is IPv4",
            snapshot: snapshot(known(v6_only), vec![network("default-guide", true)?]),
            expected: vec![("no-uplink", Severity::Error, None)],
        },
        Case {
            name: "no default route, no NAT network",
            snapshot: snapshot(
                known(without_default(host("nft-no-uplink")?)?),
                vec![network("isolated", true)?],
            ),
            expected: vec![],
        },
        Case {
            name: "routes unknown",
            snapshot: snapshot(
                known(HostFacts { routes: Fact::Unknown("cannot read".to_owned()), ..host("nft-ufw-off")? }),
                vec![network("default-guide", true)?],
            ),
            expected: vec![],
        },
    ])
}

#[test]
fn ufw_routed_deny() -> TestResult {
    let ufw_host = |scenario: &str| -> Result<HostFacts, Box<dyn Error>> {
        Ok(HostFacts { ufw: ufw_defaults(Vec::new()), ..host(scenario)? })
    };
    let mut two_uplinks = ufw_host("nft-ufw-default-legacy")?;
    if let Fact::Known(routes) = &mut two_uplinks.routes {
        routes.push(route("0.0.0.0", 0, "wlan0")?);
    }
    run(vec![
        Case {
            name: "UFW defaults on legacy iptables, libvirt nftables backend (lab capture)",
            snapshot: snapshot(
                known(ufw_host("nft-ufw-default-legacy")?),
                vec![network("default-guide", true)?],
            ),
            expected: vec![
                ("ufw-routed-deny", Severity::Error, fix_ufw("virbr0", "enp3s0")),
                ("ufw-blocks-dhcp-dns", Severity::Error, fix_ufw("virbr0", "enp3s0")),
            ],
        },
        Case {
            name: "two uplinks: one finding and one fix for each",
            snapshot: snapshot(known(two_uplinks), vec![network("default-guide", true)?]),
            expected: vec![
                ("ufw-routed-deny", Severity::Error, fix_ufw("virbr0", "enp3s0")),
                ("ufw-routed-deny", Severity::Error, fix_ufw("virbr0", "wlan0")),
                ("ufw-blocks-dhcp-dns", Severity::Error, fix_ufw("virbr0", "enp3s0")),
            ],
        },
        Case {
            name: "wg-quick: forwarded traffic leaves by the VPN, so UFW must allow it there",
            snapshot: snapshot(
                known(wg_quick(ufw_host("nft-ufw-default-legacy")?, RouteKind::Unicast)?),
                vec![network("default-guide", true)?],
            ),
            expected: vec![
                ("ufw-routed-deny", Severity::Error, fix_ufw("virbr0", "wg0")),
                ("ufw-blocks-dhcp-dns", Severity::Error, fix_ufw("virbr0", "wg0")),
            ],
        },
        Case {
            name: "UFW defaults, network not running",
            snapshot: snapshot(
                known(ufw_host("nft-ufw-default-legacy")?),
                vec![network("default-guide", false)?],
            ),
            expected: vec![],
        },
        Case {
            name: "UFW defaults on iptables-nft, libvirt nftables backend (lab capture)",
            snapshot: snapshot(known(ufw_host("nft-ufw-default")?), vec![network("default-guide", true)?]),
            expected: vec![
                ("ufw-routed-deny", Severity::Error, fix_ufw("virbr0", "enp3s0")),
                ("ufw-blocks-dhcp-dns", Severity::Error, fix_ufw("virbr0", "enp3s0")),
            ],
        },
    ])
}

#[test]
fn ufw_blocks_dhcp_dns() -> TestResult {
    let ufw_host = |scenario: &str| -> Result<HostFacts, Box<dyn Error>> {
        Ok(HostFacts { ufw: ufw_defaults(Vec::new()), ..host(scenario)? })
    };
    // The open network runs: its bridge virbr3 is among the host's links.
    let mut open_host = ufw_host("nft-ufw-default-legacy")?;
    if let Fact::Known(links) = &mut open_host.links {
        links.push(link("virbr3", "bridge", Some((Ipv4Addr::new(172, 30, 0, 1), 16))));
    }
    let findings = firewall_findings(&snapshot(known(open_host), vec![network("open", true)?]));
    // An open network: no forwarding check, no DHCP range, so DNS only.
    assert_eq!(
        summary(&findings),
        vec![("ufw-blocks-dhcp-dns", Severity::Error, fix_ufw("virbr3", "enp3s0"))]
    );
    assert!(
        findings[0].title.contains("DNS") && !findings[0].title.contains("DHCP"),
        "{}",
        findings[0].title
    );
    assert_eq!(findings[0].subject, Subject::Network { name: "open".to_owned() });
    run(vec![Case {
        name: "no uplink: the finding stays, without a fix",
        snapshot: snapshot(
            known(HostFacts {
                routes: Fact::Known(vec![route("192.168.122.0", 24, "virbr0")?]),
                ..ufw_host("nft-ufw-default-legacy")?
            }),
            vec![network("default-guide", true)?],
        ),
        expected: vec![("ufw-blocks-dhcp-dns", Severity::Error, None), ("no-uplink", Severity::Error, None)],
    }])
}

#[test]
fn forward_dropped() -> TestResult {
    let accept =
        |uplink: &str| Some(Fix::AcceptForward { bridge: "virbr0".to_owned(), uplink: uplink.to_owned() });
    run(vec![
        Case {
            name: "Docker-style FORWARD DROP via iptables-nft (lab capture)",
            snapshot: snapshot(known(host("nft-docker")?), vec![network("default-guide", true)?]),
            expected: vec![("forward-dropped", Severity::Error, accept("enp3s0"))],
        },
        Case {
            name: "Docker-style FORWARD DROP via iptables-legacy (lab capture)",
            snapshot: snapshot(known(host("nft-docker-legacy")?), vec![network("default-guide", true)?]),
            expected: vec![("forward-dropped", Severity::Error, accept("enp3s0"))],
        },
        Case {
            name: "Docker DROP, only an isolated network: nothing is forwarded",
            snapshot: snapshot(known(host("nft-docker")?), vec![network("isolated", true)?]),
            expected: vec![],
        },
        Case {
            name: "Docker DROP, facts read before the network started (no virbr0 among the links): not judged yet",
            snapshot: snapshot(
                known(without_link(host("nft-docker")?, "virbr0")),
                vec![network("default-guide", true)?],
            ),
            expected: vec![],
        },
    ])?;
    let findings =
        firewall_findings(&snapshot(known(host("nft-docker")?), vec![network("default-guide", true)?]));
    assert!(findings[0].explanation.contains("Docker"), "{}", findings[0].explanation);
    assert!(findings[0].evidence.iter().any(|e| e.value.contains("chain FORWARD: policy drop")));
    Ok(())
}

/// The captured VM with one card on host bridge br0, in `state`.
fn bridged_vm(state: DomainState) -> Result<DomainSnapshot, Box<dyn Error>> {
    Ok(DomainSnapshot {
        config: parse_domain_xml(&fixture("domains/bridge-br0.xml")?)?,
        state,
        persistent: true,
        autostart: false,
        addresses: Vec::new(),
        guest: Fact::Unknown("not inspected in this test".to_owned()),
    })
}

#[test]
fn bridged_forward_dropped() -> TestResult {
    let br_netfilter = |host: HostFacts| HostFacts {
        bridge_nf_call: Fact::Known(BridgeNfCall { iptables: true, ip6tables: false }),
        ..host
    };
    let with_vm = |host: HostFacts, state| -> Result<Snapshot, Box<dyn Error>> {
        Ok(Snapshot {
            domains: vec![bridged_vm(state)?],
            ..snapshot(known(host), vec![network("isolated", true)?])
        })
    };
    let accept = Some(Fix::AcceptBridged { bridge: "br0".to_owned() });
    run(vec![
        Case {
            name: "Docker's FORWARD DROP (lab capture) with br_netfilter on: the bridged card is cut off",
            snapshot: with_vm(br_netfilter(host("nft-docker")?), DomainState::Running)?,
            expected: vec![("bridged-forward-dropped", Severity::Error, accept.clone())],
        },
        Case {
            name: "the same with Docker on iptables-legacy (lab capture)",
            snapshot: with_vm(br_netfilter(host("nft-docker-legacy")?), DomainState::Running)?,
            expected: vec![("bridged-forward-dropped", Severity::Error, accept)],
        },
        Case {
            name: "br_netfilter not loaded: bridged frames never meet iptables",
            snapshot: with_vm(host("nft-docker")?, DomainState::Running)?,
            expected: vec![],
        },
        Case {
            name: "the VM is shut off",
            snapshot: with_vm(br_netfilter(host("nft-docker")?), DomainState::ShutOff)?,
            expected: vec![],
        },
        Case {
            name: "br_netfilter on, no dropping FORWARD chain (lab capture)",
            snapshot: with_vm(br_netfilter(host("nft-ufw-off")?), DomainState::Running)?,
            expected: vec![],
        },
    ])?;
    let findings = firewall_findings(&with_vm(br_netfilter(host("nft-docker")?), DomainState::Running)?);
    let finding = findings.first().ok_or("no finding")?;
    assert_eq!(
        finding.subject,
        Subject::Nic { vm: "bridge-br0".to_owned(), mac: "52:54:00:aa:00:05".to_owned() }
    );
    assert!(finding.explanation.contains("br_netfilter"), "{}", finding.explanation);
    assert!(
        finding.evidence.iter().any(|e| e.value.contains("chain FORWARD: policy drop")),
        "{:?}",
        finding.evidence
    );
    Ok(())
}

#[test]
fn uplink_mtu_smaller() -> TestResult {
    // A VPN's or PPPoE's MTU on the lab's uplink.
    let uplink_mtu = |host: HostFacts, mtu| -> HostFacts {
        let Fact::Known(links) = host.links else { return host };
        let links = links
            .into_iter()
            .map(|link| if link.name == "enp3s0" { Link { mtu: Some(mtu), ..link } } else { link })
            .collect();
        HostFacts { links: Fact::Known(links), ..host }
    };
    let clamped = |host: HostFacts| -> Result<HostFacts, Box<dyn Error>> {
        let read = |file: &str| fixture(&format!("netfilter-mss-clamp/{file}"));
        let netfilter = Netfilter {
            nft_json: Some(read("nft-list-ruleset.json")?),
            iptables_nft_save: Some(read("iptables-nft-save.txt")?),
            iptables_legacy_save: None,
        };
        Ok(HostFacts { netfilter: Fact::Known(netfilter), ..host })
    };
    let fix = Some(Fix::ClampMss { bridge: "virbr0".to_owned(), uplink: "enp3s0".to_owned() });
    let guide = || network("default-guide", true);
    run(vec![
        Case {
            name: "uplink MTU 1280 below virbr0's 1500, nothing clamps (lab capture)",
            snapshot: snapshot(known(uplink_mtu(host("nft-ufw-off")?, 1280)), vec![guide()?]),
            expected: vec![("uplink-mtu-smaller", Severity::Warning, fix)],
        },
        Case {
            name: "the same MTU on both",
            snapshot: snapshot(known(host("nft-ufw-off")?), vec![guide()?]),
            expected: vec![],
        },
        Case {
            name: "the helper's TCPMSS rule is in place (lab capture after the fix)",
            snapshot: snapshot(known(clamped(uplink_mtu(host("nft-ufw-off")?, 1280))?), vec![guide()?]),
            expected: vec![],
        },
        Case {
            name: "the ruleset cannot be read: not guessed",
            snapshot: snapshot(
                known(HostFacts {
                    netfilter: Fact::Unknown("needs the helper or root".to_owned()),
                    ..uplink_mtu(host("nft-ufw-off")?, 1280)
                }),
                vec![guide()?],
            ),
            expected: vec![("firewall-unknown", Severity::Info, None)],
        },
    ])
}

#[test]
fn dhcp_dns_dropped() -> TestResult {
    run(vec![Case {
        name: "a hand-written nftables input policy drop (lab capture)",
        snapshot: snapshot(known(host("nft-custom-input-drop")?), vec![network("default-guide", true)?]),
        expected: vec![("dhcp-dns-dropped", Severity::Error, None)],
    }])
}

#[test]
fn firewalld_zone() -> TestResult {
    let zone_fix =
        |zone: &str| Some(Fix::FirewalldZone { bridge: "virbr0".to_owned(), zone: zone.to_owned() });
    let with_zones = |scenario: &str, zones: &[(&str, &str)]| -> Result<HostFacts, Box<dyn Error>> {
        Ok(HostFacts { firewalld: firewalld(zones), ..host(scenario)? })
    };
    let unprivileged = |mut host: HostFacts| {
        host.netfilter = Fact::Unknown("needs the helper or root".to_owned());
        host
    };
    let mut routed = network("routed", true)?;
    if let Some(bridge) = routed.config.bridge.as_mut() {
        bridge.name = Some("virbr0".to_owned());
    }
    run(vec![
        Case {
            name: "virbr0 moved to zone public (lab capture)",
            snapshot: snapshot(
                known(with_zones("nft-firewalld-public", &[("virbr0", "public")])?),
                vec![network("default-guide", true)?],
            ),
            expected: vec![("firewalld-zone", Severity::Error, zone_fix("libvirt"))],
        },
        Case {
            name: "in zone public, ruleset unreadable: warning",
            snapshot: snapshot(
                known(unprivileged(with_zones("nft-firewalld-public", &[("virbr0", "public")])?)),
                vec![network("default-guide", true)?],
            ),
            expected: vec![
                ("firewalld-zone", Severity::Warning, zone_fix("libvirt")),
                ("firewall-unknown", Severity::Info, None),
            ],
        },
        Case {
            name: "in zone libvirt (lab capture)",
            snapshot: snapshot(
                known(with_zones("nft-firewalld", &[("virbr0", "libvirt")])?),
                vec![network("default-guide", true)?],
            ),
            expected: vec![],
        },
        Case {
            name: "a route network belongs in libvirt-routed",
            snapshot: snapshot(
                known(unprivileged(with_zones("nft-firewalld", &[("virbr0", "libvirt")])?)),
                vec![routed],
            ),
            expected: vec![
                ("firewalld-zone", Severity::Warning, zone_fix("libvirt-routed")),
                ("firewall-unknown", Severity::Info, None),
            ],
        },
        Case {
            // firewalld says libvirt, the ruleset still rejects: firewalld's
            // own rules drop it, and no typed fix can be right.
            name: "in zone libvirt but firewalld's rules reject",
            snapshot: snapshot(
                known(with_zones("nft-firewalld-public", &[("virbr0", "libvirt")])?),
                vec![network("default-guide", true)?],
            ),
            expected: vec![
                ("forward-dropped", Severity::Error, None),
                ("dhcp-dns-dropped", Severity::Error, None),
            ],
        },
    ])
}

#[test]
fn firewall_unknown() -> TestResult {
    let needs_root = HostFacts {
        netfilter: Fact::Unknown("needs the helper or root".to_owned()),
        rules: Fact::Unknown("not read in this test".to_owned()),
        ufw: Fact::Known(Some(Ufw {
            enabled_in_config: true,
            default_forward_policy: Some("DROP".to_owned()),
            status: Fact::Unknown("needs the helper or root".to_owned()),
        })),
        ..host("nft-ufw-default")?
    };
    let findings =
        firewall_findings(&snapshot(known(needs_root.clone()), vec![network("default-guide", true)?]));
    assert_eq!(summary(&findings), vec![("firewall-unknown", Severity::Info, None)]);
    let finding = &findings[0];
    assert_eq!(finding.subject, Subject::Host);
    assert!(
        finding.evidence.iter().any(|e| e.value == "unknown: needs the helper or root"),
        "{:?}",
        finding.evidence
    );
    assert!(finding.explanation.contains("nftables backend"), "{}", finding.explanation);
    run(vec![
        Case {
            name: "no running network: nothing to say",
            snapshot: snapshot(known(needs_root), vec![network("default-guide", false)?]),
            expected: vec![],
        },
        Case {
            name: "remote connection or demo: host facts unknown",
            snapshot: snapshot(
                Fact::Unknown("remote connection".to_owned()),
                vec![network("default-guide", true)?],
            ),
            expected: vec![],
        },
        Case {
            name: "iptables-nft rules without iptables-nft-save (lab capture): conntrack is opaque",
            snapshot: snapshot(
                known(HostFacts {
                    libvirt_firewall_backend: Fact::Known(FirewallBackend::Iptables),
                    netfilter: Fact::Known(json_only_netfilter("ipt-ufw-off")?),
                    ..host("ipt-ufw-off")?
                }),
                vec![network("default-guide", true)?],
            ),
            expected: vec![("firewall-unknown", Severity::Info, None)],
        },
    ])
}

/// The healthy setups of the lab: no error and no warning from any rule.
#[test]
fn no_false_alarms() -> TestResult {
    let guide_rules = [
        "ALLOW IN|Anywhere on virbr0|Anywhere",
        "ALLOW OUT|Anywhere|Anywhere on virbr0",
        "ALLOW FWD|Anywhere on enp3s0|Anywhere on virbr0",
    ]
    .iter()
    .map(|row| {
        let parts: Vec<&str> = row.split('|').collect();
        UfwRule {
            action: parts[0].to_owned(),
            to: parts[1].to_owned(),
            from: parts[2].to_owned(),
            comment: None,
        }
    })
    .collect();
    let healthy = [
        HostFacts { ufw: ufw_defaults(guide_rules), ..host("nft-ufw-guide")? },
        host("nft-ufw-off")?,
        HostFacts { firewalld: firewalld(&[("virbr0", "libvirt")]), ..host("nft-firewalld")? },
        HostFacts {
            libvirt_firewall_backend: Fact::Known(FirewallBackend::Iptables),
            ..host("ipt-ufw-guide")?
        },
    ];
    for host in healthy {
        let snapshot = snapshot(known(host), vec![network("default-guide", true)?]);
        let alarms: Vec<Finding> =
            diagnose(&snapshot).into_iter().filter(|finding| finding.severity <= Severity::Warning).collect();
        assert!(alarms.is_empty(), "{alarms:#?}");
    }
    Ok(())
}

/// UFW's routed deny and the DHCP and DNS it blocks on the same bridge
/// are one problem with one fix: the second is shown under the first.
/// A second uplink's deny has a fix of its own and stays a cause.
#[test]
fn ufw_blocking_dhcp_is_explained_by_its_routed_deny() -> TestResult {
    let mut two_uplinks = HostFacts { ufw: ufw_defaults(Vec::new()), ..host("nft-ufw-default-legacy")? };
    if let Fact::Known(routes) = &mut two_uplinks.routes {
        routes.push(route("0.0.0.0", 0, "wlan0")?);
    }
    let snapshot = snapshot(known(two_uplinks), vec![network("default-guide", true)?]);
    let findings = diagnose(&snapshot);
    let causes = explained_by(&snapshot, &findings);
    let position = |id: &str, uplink: &str| {
        findings
            .iter()
            .position(|f| f.id == id && f.fix == fix_ufw("virbr0", uplink))
            .ok_or(format!("{id} {uplink}"))
    };
    let deny = position("ufw-routed-deny", "enp3s0")?;
    assert_eq!(causes[position("ufw-blocks-dhcp-dns", "enp3s0")?], Some(deny));
    assert_eq!(causes[deny], None);
    assert_eq!(causes[position("ufw-routed-deny", "wlan0")?], None);
    Ok(())
}
