//! The virtual-network rules: default-network-missing, network-inactive,
//! network-not-autostarted, network-no-dhcp, dhcp-range-exhausted,
//! dhcp-host-conflict, network-bridge-down, dnsmasq-not-running. One table per rule: (case, snapshot, expected
//! (severity, subject) list).

#[path = "support/rules.rs"]
mod support;

use support::*;
use vmnet_doctor_core::host::{Dnsmasq, Listener, Route, RouteKind, RouteTable};
use vmnet_doctor_core::{
    DhcpLease, DomainState, Fact, Fix, ForwardMode, HostFacts, NetworkSnapshot, Severity, Snapshot,
    Unreadable, diagnose, parse_network_xml,
};

fn debian13_running() -> Result<vmnet_doctor_core::DomainSnapshot, Error> {
    let config = domain_xml("debian13-virt-manager.xml")?;
    let mac = first_mac(&config)?;
    running_with_ips(config, &[(&mac, "192.168.122.50/24")])
}

fn host_with(edit: impl FnOnce(&mut HostFacts)) -> Result<HostFacts, Error> {
    let mut host = workstation()?;
    edit(&mut host);
    Ok(host)
}

/// The guide's XML exactly as `inputs/networks/default-guide.xml` holds it
/// (copied verbatim from the guide), without the provenance comment.
fn guide_xml_verbatim() -> Result<String, Error> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inputs/networks/default-guide.xml");
    let text = std::fs::read_to_string(path)?;
    let start = text.find("<network>").ok_or("<network>")?;
    Ok(text[start..].trim().to_owned())
}

fn defined_xml(snapshot: &Snapshot) -> Result<String, Error> {
    let findings = diagnose(snapshot);
    match &find(&findings, "default-network-missing")?.fix {
        Some(Fix::DefineNetwork { name, xml }) if name == "default" => Ok(xml.clone()),
        other => Err(format!("unexpected fix {other:?}").into()),
    }
}

#[test]
fn default_network_missing() -> TestResult {
    let unreadable = {
        let mut s = system(vec![], vec![]);
        s.unreadable.push(Unreadable { name: "default".into(), reason: "vanished".into() });
        s
    };
    run_table(
        "default-network-missing",
        vec![
            ("present", system(vec![], vec![healthy_default()?]), vec![]),
            ("missing, unused", system(vec![], vec![]), vec![(Severity::Warning, network("default"))]),
            (
                "missing, used",
                system(vec![debian13_running()?], vec![]),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "missing, used by a shut-off VM only",
                system(vec![vm(domain_xml("fedora42-e1000.xml")?, DomainState::ShutOff)], vec![]),
                vec![(Severity::Error, network("default"))],
            ),
            ("session connection", snapshot("qemu:///session", vec![], vec![]), vec![]),
            ("listed but unreadable", unreadable, vec![]),
        ],
    )
}

#[test]
fn default_network_plan_is_the_guides_when_nothing_collides() -> TestResult {
    // Host read, nothing on 192.168.122.0/24 and no virbr0: the guide's XML.
    let mut host = workstation()?;
    host.links = Fact::Known(vec![
        link("lo", "", true, "unknown", &["127.0.0.1/8"])?,
        link("enp3s0", "", true, "up", &["192.168.1.23/24"])?,
    ]);
    host.routes = Fact::Known(vec![route("default", "enp3s0")?, route("192.168.1.0/24", "enp3s0")?]);
    let snapshot = with_host(system(vec![], vec![]), host);
    assert_eq!(defined_xml(&snapshot)?.trim(), guide_xml_verbatim()?);
    let findings = diagnose(&snapshot);
    let finding = find(&findings, "default-network-missing")?;
    assert!(!finding.explanation.contains("instead"), "{}", finding.explanation);
    Ok(())
}

/// (case, host facts, other libvirt networks, expected bridge, gateway
/// address, words the explanation must contain).
type CollisionCase =
    (&'static str, Option<HostFacts>, Vec<NetworkSnapshot>, &'static str, &'static str, Vec<&'static str>);

#[test]
fn default_network_plan_avoids_collisions() -> TestResult {
    let cases: Vec<CollisionCase> = vec![
        (
            "a VPN route over 192.168.122.0/24",
            Some(workstation_without_virbr0(vec![route("192.168.122.0/24", "wg0")?])?),
            vec![],
            "virbr0",
            "192.168.123.1",
            vec!["192.168.122.0/24 dev wg0", "192.168.123.0/24"],
        ),
        (
            "a VPN route over 192.168.122.0/24 in a table of its own",
            Some(workstation_without_virbr0(vec![Route {
                table: RouteTable(51820),
                ..route("192.168.122.0/24", "wg0")?
            }])?),
            vec![],
            "virbr0",
            "192.168.123.1",
            vec!["192.168.122.0/24 dev wg0 table 51820", "192.168.123.0/24"],
        ),
        (
            // The local table mirrors the links' addresses, checked as
            // such; what is left of a removed bridge there takes nothing.
            "the local table's entries",
            Some(workstation_without_virbr0(vec![
                Route {
                    table: RouteTable::LOCAL,
                    kind: RouteKind::Local,
                    ..route("192.168.122.1/32", "virbr0")?
                },
                Route {
                    table: RouteTable::LOCAL,
                    kind: RouteKind::Broadcast,
                    ..route("192.168.122.255/32", "virbr0")?
                },
            ])?),
            vec![],
            "virbr0",
            "192.168.122.1",
            vec!["192.168.122.0/24"],
        ),
        (
            "a VPN that splits the default route (OpenVPN def1)",
            Some(host_with(|host| {
                host.links =
                    Fact::Known(link("enp3s0", "", true, "up", &["192.168.1.23/24"]).into_iter().collect());
                host.routes = Fact::Known(
                    ["default", "0.0.0.0/1", "128.0.0.0/1"]
                        .iter()
                        .filter_map(|r| route(r, "tun0").ok())
                        .collect(),
                );
            })?),
            vec![],
            "virbr0",
            "192.168.122.1",
            vec!["192.168.122.0/24"],
        ),
        (
            "a stale virbr0 holding 192.168.122.1/24",
            Some(workstation()?),
            vec![],
            "virbr1",
            "192.168.123.1",
            vec!["virbr0", "192.168.122.1/24"],
        ),
        (
            "a LAN address covering all of 192.168.0.0/16",
            Some(host_with(|host| {
                host.links =
                    Fact::Known(link("enp3s0", "", true, "up", &["192.168.7.20/16"]).into_iter().collect());
                host.routes = Fact::Known(route("default", "enp3s0").into_iter().collect());
            })?),
            vec![],
            "virbr0",
            "10.0.0.1",
            vec!["192.168.7.20/16", "10.0.0.0/24"],
        ),
        (
            "another libvirt network already on 192.168.122.0/24, host unknown",
            None,
            vec![net(rename_network(network_xml("test-default.xml")?, "old-default"), false, false)],
            "virbr1",
            "192.168.123.1",
            vec!["network old-default", "could not be read"],
        ),
    ];
    for (name, host, networks, bridge, address, mentions) in cases {
        let mut snapshot = system(vec![], networks);
        if let Some(host) = host {
            snapshot = with_host(snapshot, host);
        }
        let xml = defined_xml(&snapshot)?;
        let planned = parse_network_xml(&xml)?;
        assert_eq!(planned.name, "default", "{name}");
        assert_eq!(planned.forward, ForwardMode::Nat, "{name}");
        assert_eq!(planned.bridge_name(), Some(bridge), "{name}");
        let ip = planned.ips.first().ok_or("an ip")?;
        assert_eq!(ip.address.to_string(), address, "{name}");
        assert_eq!(ip.prefix, Some(24), "{name}");
        assert_eq!(ip.dhcp_ranges.len(), 1, "{name}");
        let findings = diagnose(&snapshot);
        let explanation = &find(&findings, "default-network-missing")?.explanation;
        for mention in mentions {
            assert!(explanation.contains(mention), "{name}: {mention:?} not in {explanation}");
        }
    }
    Ok(())
}

fn rename_network(
    mut config: vmnet_doctor_core::NetworkConfig,
    name: &str,
) -> vmnet_doctor_core::NetworkConfig {
    config.name = name.to_owned();
    config
}

#[test]
fn network_inactive() -> TestResult {
    let isolated_user =
        vm(plugged_into(domain_xml("debian13-virt-manager.xml")?, "isolated"), DomainState::ShutOff);
    run_table(
        "network-inactive",
        vec![
            ("active", system(vec![debian13_running()?], vec![healthy_default()?]), vec![]),
            (
                "default stopped, a running VM on it",
                system(vec![debian13_running()?], vec![net(network_xml("default-guide.xml")?, false, true)]),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "default stopped, unused",
                system(vec![], vec![net(network_xml("default-guide.xml")?, false, true)]),
                vec![(Severity::Warning, network("default"))],
            ),
            (
                "spare network stopped, unused",
                system(vec![], vec![net(network_xml("isolated.xml")?, false, false)]),
                vec![],
            ),
            (
                "stopped, used by a shut-off VM",
                system(vec![isolated_user], vec![net(network_xml("isolated.xml")?, false, true)]),
                vec![(Severity::Error, network("isolated"))],
            ),
        ],
    )?;
    let findings = diagnose(&system(vec![], vec![net(network_xml("default-guide.xml")?, false, true)]));
    assert_eq!(find(&findings, "network-inactive")?.fix, Some(Fix::StartNetwork { name: "default".into() }));
    Ok(())
}

#[test]
fn network_not_autostarted() -> TestResult {
    let transient = {
        let mut n = net(network_xml("isolated.xml")?, true, false);
        n.persistent = false;
        n
    };
    let isolated_user =
        vm(plugged_into(domain_xml("debian13-virt-manager.xml")?, "isolated"), DomainState::ShutOff);
    run_table(
        "network-not-autostarted",
        vec![
            ("autostarted", system(vec![debian13_running()?], vec![healthy_default()?]), vec![]),
            (
                "default not autostarted, used",
                system(vec![debian13_running()?], vec![net(network_xml("default-guide.xml")?, true, false)]),
                vec![(Severity::Warning, network("default"))],
            ),
            (
                "default not autostarted, unused",
                system(vec![], vec![net(network_xml("default-guide.xml")?, true, false)]),
                vec![(Severity::Warning, network("default"))],
            ),
            (
                "spare network, unused",
                system(vec![], vec![net(network_xml("isolated.xml")?, true, false)]),
                vec![],
            ),
            ("transient network", system(vec![isolated_user.clone()], vec![transient]), vec![]),
            (
                "stopped and not autostarted, used",
                system(vec![isolated_user], vec![net(network_xml("isolated.xml")?, false, false)]),
                vec![(Severity::Warning, network("isolated"))],
            ),
        ],
    )?;
    let findings = diagnose(&system(vec![], vec![net(network_xml("default-guide.xml")?, true, false)]));
    let finding = find(&findings, "network-not-autostarted")?;
    assert_eq!(finding.fix, Some(Fix::AutostartNetwork { name: "default".into() }));
    assert!(finding.explanation.contains("reboot"), "{}", finding.explanation);
    Ok(())
}

#[test]
fn a_long_used_by_list_names_twenty_nics_and_counts_the_rest() -> TestResult {
    let users = (0..25)
        .map(|i| {
            Ok(vm(
                renamed(domain_xml("debian13-virt-manager.xml")?, &format!("vm{i:02}")),
                DomainState::ShutOff,
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let findings = diagnose(&system(users, vec![net(network_xml("default-guide.xml")?, true, false)]));
    let finding = find(&findings, "network-not-autostarted")?;
    let used_by = finding.evidence.iter().find(|e| e.what == "used by").ok_or("no used-by evidence")?;
    assert!(used_by.value.starts_with("vm00 (") && used_by.value.contains("vm19 ("), "{}", used_by.value);
    assert!(!used_by.value.contains("vm20"), "{}", used_by.value);
    assert!(used_by.value.ends_with(", and 5 more"), "{}", used_by.value);
    Ok(())
}

#[test]
fn network_no_dhcp() -> TestResult {
    let on = |network: &str| -> Result<vmnet_doctor_core::DomainSnapshot, Error> {
        Ok(vm(plugged_into(domain_xml("debian13-virt-manager.xml")?, network), DomainState::ShutOff))
    };
    run_table(
        "network-no-dhcp",
        vec![
            (
                "open network without DHCP, used",
                system(vec![on("open")?], vec![net(network_xml("open.xml")?, true, true)]),
                vec![(Severity::Warning, network("open"))],
            ),
            (
                "open network without DHCP, unused",
                system(vec![], vec![net(network_xml("open.xml")?, true, true)]),
                vec![],
            ),
            ("NAT with DHCP", system(vec![debian13_running()?], vec![healthy_default()?]), vec![]),
            (
                "isolated with DHCP",
                system(vec![on("isolated")?], vec![net(network_xml("isolated.xml")?, true, true)]),
                vec![],
            ),
            (
                "dual-stack with IPv4 range and hosts",
                system(vec![on("dual-stack")?], vec![net(network_xml("dual-stack.xml")?, true, true)]),
                vec![],
            ),
            (
                "host bridge: the LAN's DHCP, not libvirt's",
                system(vec![on("host-bridge")?], vec![net(network_xml("host-bridge.xml")?, true, true)]),
                vec![],
            ),
        ],
    )?;
    let findings = diagnose(&system(vec![on("open")?], vec![net(network_xml("open.xml")?, true, true)]));
    assert!(find(&findings, "network-no-dhcp")?.explanation.contains("172.30.0.0/16"));
    Ok(())
}

#[test]
fn network_bridge_down() -> TestResult {
    let default = || healthy_default();
    let shut_off = vm(domain_xml("debian13-virt-manager.xml")?, DomainState::ShutOff);
    let without_virbr0 = host_with(|host| {
        if let Fact::Known(links) = &mut host.links {
            links.retain(|l| l.name != "virbr0");
        }
    })?;
    let virbr0_state = |up: bool, operstate: &'static str| {
        host_with(move |host| {
            if let Fact::Known(links) = &mut host.links {
                for l in links.iter_mut().filter(|l| l.name == "virbr0") {
                    l.up = up;
                    l.operstate = operstate.to_owned();
                }
            }
        })
    };
    run_table(
        "network-bridge-down",
        vec![
            (
                "bridge up",
                with_host(system(vec![debian13_running()?], vec![default()?]), workstation()?),
                vec![],
            ),
            (
                "bridge up without carrier (no VM started): normal",
                with_host(system(vec![shut_off.clone()], vec![default()?]), virbr0_state(true, "down")?),
                vec![],
            ),
            (
                "bridge missing, running VM",
                with_host(system(vec![debian13_running()?], vec![default()?]), without_virbr0.clone()),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "bridge set down, running VM",
                with_host(system(vec![debian13_running()?], vec![default()?]), virbr0_state(false, "down")?),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "bridge missing, only a shut-off VM",
                with_host(system(vec![shut_off], vec![default()?]), without_virbr0.clone()),
                vec![(Severity::Warning, network("default"))],
            ),
            (
                "network stopped: no bridge expected",
                with_host(
                    system(vec![], vec![net(network_xml("default-guide.xml")?, false, true)]),
                    without_virbr0,
                ),
                vec![],
            ),
            ("host unknown", system(vec![debian13_running()?], vec![default()?]), vec![]),
        ],
    )
}

#[test]
fn dnsmasq_not_running() -> TestResult {
    let dnsmasq = |entries: Vec<(&str, bool)>| {
        host_with(|host| {
            host.dnsmasq = Fact::Known(
                entries
                    .into_iter()
                    .map(|(network, running)| Dnsmasq { network: network.into(), running })
                    .collect(),
            );
        })
    };
    let open_user = vm(plugged_into(domain_xml("debian13-virt-manager.xml")?, "open"), DomainState::ShutOff);
    run_table(
        "dnsmasq-not-running",
        vec![
            (
                "running",
                with_host(system(vec![debian13_running()?], vec![healthy_default()?]), workstation()?),
                vec![],
            ),
            (
                "stopped, used",
                with_host(
                    system(vec![debian13_running()?], vec![healthy_default()?]),
                    dnsmasq(vec![("default", false)])?,
                ),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "stopped, unused",
                with_host(system(vec![], vec![healthy_default()?]), dnsmasq(vec![("default", false)])?),
                vec![(Severity::Warning, network("default"))],
            ),
            (
                "not looked at",
                with_host(system(vec![debian13_running()?], vec![healthy_default()?]), dnsmasq(vec![])?),
                vec![],
            ),
            (
                "network without DHCP",
                with_host(
                    system(vec![open_user], vec![net(network_xml("open.xml")?, true, true)]),
                    dnsmasq(vec![("open", false)])?,
                ),
                vec![],
            ),
            (
                "network stopped",
                with_host(
                    system(vec![], vec![net(network_xml("default-guide.xml")?, false, true)]),
                    dnsmasq(vec![("default", false)])?,
                ),
                vec![],
            ),
            ("host unknown", system(vec![debian13_running()?], vec![healthy_default()?]), vec![]),
        ],
    )
}

/// A lease as `virsh net-dhcp-leases` reports it.
fn lease(mac: &str, ip: &str) -> Result<DhcpLease, Error> {
    Ok(DhcpLease {
        mac: Some(mac.to_owned()),
        ip: ip.parse()?,
        prefix: 24,
        hostname: None,
        client_id: None,
        expiry: Some(1_800_000_000),
    })
}

fn with_leases(mut network: NetworkSnapshot, leases: Vec<DhcpLease>) -> NetworkSnapshot {
    network.leases = Fact::Known(leases);
    network
}

#[test]
fn dhcp_range_exhausted() -> TestResult {
    // dhcp-conflicts.xml: range .100–.101, two addresses.
    let small =
        || -> Result<NetworkSnapshot, Error> { Ok(net(network_xml("dhcp-conflicts.xml")?, true, true)) };
    let full = || -> Result<Vec<DhcpLease>, Error> {
        Ok(vec![
            lease("52:54:00:bb:00:01", "192.168.130.100")?,
            lease("52:54:00:bb:00:02", "192.168.130.101")?,
        ])
    };
    // A running VM on it without an address: the full range costs it now.
    let starved = || -> Result<vmnet_doctor_core::DomainSnapshot, Error> {
        let config = plugged_into(domain_xml("debian13-virt-manager.xml")?, "dhcp-conflicts");
        Ok(with_sources(vm(config, DomainState::Running), vec![]))
    };
    run_table(
        "dhcp-range-exhausted",
        vec![
            (
                "both addresses leased",
                system(vec![], vec![with_leases(small()?, full()?)]),
                vec![(Severity::Warning, network("dhcp-conflicts"))],
            ),
            (
                "both leased and a running card without an address",
                system(vec![starved()?], vec![with_leases(small()?, full()?)]),
                vec![(Severity::Error, network("dhcp-conflicts"))],
            ),
            (
                "one free address",
                system(
                    vec![],
                    vec![with_leases(small()?, vec![lease("52:54:00:bb:00:01", "192.168.130.100")?])],
                ),
                vec![],
            ),
            (
                "leases outside the range (reservations) do not count",
                system(
                    vec![],
                    vec![with_leases(
                        small()?,
                        vec![
                            lease("52:54:00:bb:00:01", "192.168.130.100")?,
                            lease("52:54:00:aa:00:01", "192.168.130.10")?,
                        ],
                    )],
                ),
                vec![],
            ),
            ("leases unknown (the test driver)", system(vec![], vec![small()?]), vec![]),
            (
                "an inactive network",
                system(
                    vec![],
                    vec![with_leases(net(network_xml("dhcp-conflicts.xml")?, false, true), full()?)],
                ),
                vec![],
            ),
        ],
    )?;
    let findings = diagnose(&system(vec![starved()?], vec![with_leases(small()?, full()?)]));
    let finding = find(&findings, "dhcp-range-exhausted")?;
    assert!(
        finding.explanation.contains("All 2 addresses of the DHCP range 192.168.130.100–192.168.130.101")
    );
    assert!(finding.evidence.iter().any(|e| e.value == "2 of 2"), "{finding:#?}");
    assert!(finding.evidence.iter().any(|e| e.value.starts_with("debian13 (")), "{finding:#?}");
    Ok(())
}

#[test]
fn dhcp_host_conflict() -> TestResult {
    let conflicts =
        || -> Result<NetworkSnapshot, Error> { Ok(net(network_xml("dhcp-conflicts.xml")?, true, true)) };
    run_table(
        "dhcp-host-conflict",
        vec![
            (
                "captured: one address twice, one outside the subnet",
                system(vec![], vec![conflicts()?]),
                vec![(Severity::Error, network("dhcp-conflicts"))],
            ),
            (
                "distinct entries in the subnet (dual-stack.xml)",
                system(vec![], vec![net(network_xml("dual-stack.xml")?, true, true)]),
                vec![],
            ),
            ("the guide's network", system(vec![], vec![healthy_default()?]), vec![]),
        ],
    )?;
    let findings = diagnose(&system(vec![], vec![conflicts()?]));
    let values: Vec<&str> =
        find(&findings, "dhcp-host-conflict")?.evidence.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(
        values,
        [
            "reserved for both 52:54:00:aa:00:01 (web) and 52:54:00:aa:00:02 (db)",
            "reserved for 52:54:00:aa:00:03 (far), outside the subnet 192.168.130.1/24",
        ]
    );

    // A reservation added after dnsmasq leased its address to another card.
    let dual = net(network_xml("dual-stack.xml")?, true, true);
    let taken = with_leases(dual.clone(), vec![lease("52:54:00:cc:00:09", "192.168.124.10")?]);
    let findings = diagnose(&system(vec![], vec![taken]));
    let finding = find(&findings, "dhcp-host-conflict")?;
    assert_eq!(finding.evidence.len(), 1, "{finding:#?}");
    assert_eq!(
        finding.evidence[0].value,
        "reserved for 52:54:00:aa:00:01 (web), but leased to 52:54:00:cc:00:09"
    );
    // Leased to its own card (the MAC in another case): no conflict.
    let own = with_leases(dual, vec![lease("52:54:00:AA:00:01", "192.168.124.10")?]);
    assert!(!diagnose(&system(vec![], vec![own])).iter().any(|f| f.id == "dhcp-host-conflict"));
    Ok(())
}

#[test]
fn network_subnet_collision() -> TestResult {
    let default_net = |active: bool, autostart: bool| -> Result<NetworkSnapshot, Error> {
        Ok(net(network_xml("default-guide.xml")?, active, autostart))
    };
    // The guide's subnet routed through a VPN's device in the main table,
    // as when a VPN pushes 192.168.122.0/24 (virbr0 gone: default is down).
    let vpn_route = || workstation_without_virbr0(vec![route("192.168.122.0/24", "tun0")?]);
    let in_table = |table: u32, destination: &str, dev: &str| -> Result<Route, Error> {
        let mut route = route(destination, dev)?;
        route.table = RouteTable(table);
        Ok(route)
    };
    let partial = || workstation_without_virbr0(vec![in_table(51820, "192.168.122.128/25", "wg0")?]);
    let twin = || -> Result<NetworkSnapshot, Error> {
        let mut config = rename_network(network_xml("default-guide.xml")?, "lab");
        config.bridge =
            Some(vmnet_doctor_core::BridgeDef { name: Some("virbr7".into()), stp: None, delay: None });
        Ok(net(config, false, false))
    };
    run_table(
        "network-subnet-collision",
        vec![
            (
                "inactive, autostarted, the same /24 routed through tun0",
                with_host(system(vec![], vec![default_net(false, true)?]), vpn_route()?),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "inactive and unused: a warning",
                with_host(system(vec![], vec![default_net(false, false)?]), vpn_route()?),
                vec![(Severity::Warning, network("default"))],
            ),
            (
                "active, a /25 of it in a VPN's table",
                with_host(system(vec![], vec![default_net(true, true)?]), partial()?),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "active on its own virbr0: its own address and route",
                with_host(system(vec![], vec![default_net(true, true)?]), workstation()?),
                vec![],
            ),
            (
                "a stopped twin of a running network: the twin cannot start (no host facts)",
                system(vec![], vec![default_net(true, true)?, twin()?]),
                vec![(Severity::Warning, network("lab"))],
            ),
            (
                "two stopped networks on one subnet: whichever starts first wins",
                system(vec![], vec![default_net(false, false)?, twin()?]),
                vec![],
            ),
        ],
    )?;

    // libvirt's own refusal is named, and the fix moves to the first free /24.
    let snapshot =
        with_host(system(vec![debian13_running()?], vec![default_net(false, true)?]), vpn_route()?);
    let findings = diagnose(&snapshot);
    let finding = find(&findings, "network-subnet-collision")?;
    assert!(
        finding.explanation.contains("Network is already in use by interface tun0"),
        "{}",
        finding.explanation
    );
    assert!(
        finding.explanation.contains("debian13"),
        "the VMs it affects are named: {}",
        finding.explanation
    );
    assert!(finding.evidence.iter().any(|e| e.value == "192.168.122.0/24 dev tun0"), "{finding:#?}");
    assert_eq!(
        finding.fix,
        Some(Fix::MoveNetworkSubnet {
            name: "default".into(),
            from: "192.168.122.0".parse()?,
            to: "192.168.123.0".parse()?,
        })
    );
    // A partial overlap: the more specific route is explained instead.
    let findings = diagnose(&with_host(system(vec![], vec![default_net(true, true)?]), partial()?));
    let finding = find(&findings, "network-subnet-collision")?;
    assert!(finding.explanation.contains("more specific"), "{}", finding.explanation);
    assert!(finding.explanation.contains("stopped and started again"), "{}", finding.explanation);
    // A stopped twin of a running network: libvirt's refusal names the
    // running one and its bridge, known without the host's routes.
    let findings = diagnose(&system(vec![], vec![default_net(true, true)?, twin()?]));
    let finding = find(&findings, "network-subnet-collision")?;
    assert!(
        finding.explanation.contains(
            "libvirt will not start it while network “default” runs on the same subnet: default’s bridge virbr0 routes it"
        ),
        "{}",
        finding.explanation
    );
    Ok(())
}

#[test]
fn dnsmasq_port_taken() -> TestResult {
    let socket =
        |protocol: &str, address: &str, port: u16, program: Option<(&str, u32)>| -> Result<Listener, Error> {
            Ok(Listener {
                protocol: protocol.to_owned(),
                address: address.parse()?,
                port,
                program: program.map(|(name, _)| name.to_owned()),
                pid: program.map(|(_, pid)| pid),
            })
        };
    let listening = |sockets: Vec<Listener>| -> Result<HostFacts, Error> {
        let mut host = workstation_without_virbr0(vec![])?;
        host.listeners = Fact::Known(sockets);
        Ok(host)
    };
    let stopped = |autostart: bool| -> Result<NetworkSnapshot, Error> {
        Ok(net(network_xml("default-guide.xml")?, false, autostart))
    };
    let named = || socket("udp", "0.0.0.0", 53, Some(("named", 900)));
    run_table(
        "dnsmasq-port-taken",
        vec![
            (
                "BIND on 0.0.0.0:53, default stopped and autostarted",
                with_host(system(vec![], vec![stopped(true)?]), listening(vec![named()?])?),
                vec![(Severity::Error, network("default"))],
            ),
            (
                "a DHCP server on :: port 67, default stopped and unused",
                with_host(
                    system(vec![], vec![stopped(false)?]),
                    listening(vec![socket("udp", "::", 67, Some(("dhcpd", 700)))?])?,
                ),
                vec![(Severity::Warning, network("default"))],
            ),
            (
                "another libvirt network's dnsmasq on 0.0.0.0:67: dnsmasqs share it",
                with_host(
                    system(vec![], vec![stopped(true)?]),
                    listening(vec![socket("udp", "0.0.0.0", 67, Some(("dnsmasq", 701)))?])?,
                ),
                vec![],
            ),
            (
                "0.0.0.0:67 of an owner this user cannot see: not judged",
                with_host(
                    system(vec![], vec![stopped(true)?]),
                    listening(vec![socket("udp", "0.0.0.0", 67, None)?])?,
                ),
                vec![],
            ),
            (
                "systemd-resolved's stub on 127.0.0.53 leaves 192.168.122.1 free",
                with_host(
                    system(vec![], vec![stopped(true)?]),
                    listening(vec![socket("udp", "127.0.0.53", 53, Some(("systemd-resolve", 410)))?])?,
                ),
                vec![],
            ),
            (
                "a running copy on the same address: its own dnsmasq, the subnet collision's matter",
                with_host(
                    system(
                        vec![],
                        vec![
                            stopped(true)?,
                            net(rename_network(network_xml("default-guide.xml")?, "copy"), true, true),
                        ],
                    ),
                    listening(vec![
                        socket("udp", "192.168.122.1", 53, Some(("dnsmasq", 200)))?,
                        socket("tcp", "192.168.122.1", 53, Some(("dnsmasq", 200)))?,
                    ])?,
                ),
                vec![],
            ),
            (
                "the network runs: its dnsmasq has its sockets",
                with_host(system(vec![], vec![healthy_default()?]), listening(vec![named()?])?),
                vec![],
            ),
            ("sockets unknown", system(vec![], vec![stopped(true)?]), vec![]),
        ],
    )?;
    let findings = diagnose(&with_host(
        system(vec![], vec![stopped(true)?]),
        listening(vec![
            named()?,
            socket("tcp", "0.0.0.0", 53, Some(("named", 900)))?,
            socket("tcp", "::", 53, None)?,
        ])?,
    ));
    let finding = find(&findings, "dnsmasq-port-taken")?;
    assert!(
        finding.explanation.contains("named (PID 900), a program of another user"),
        "{}",
        finding.explanation
    );
    assert_eq!(finding.evidence.len(), 3, "{finding:#?}");
    Ok(())
}

/// A stopped network that libvirt refuses to start (a route holds its
/// subnet) is explained by the collision, and the card on it through it.
#[test]
fn a_network_that_cannot_start_is_explained_by_its_subnet_collision() -> TestResult {
    let default_net = net(network_xml("default-guide.xml")?, false, true);
    let vpn = workstation_without_virbr0(vec![route("192.168.122.0/24", "tun0")?])?;
    let snapshot = with_host(system(vec![debian13_running()?], vec![default_net]), vpn);
    let findings = diagnose(&snapshot);
    let causes = vmnet_doctor_core::rules::explained_by(&snapshot, &findings);
    let position = |id: &str| findings.iter().position(|f| f.id == id).ok_or(format!("no {id}"));
    let collision = position("network-subnet-collision")?;
    assert_eq!(causes[position("network-inactive")?], Some(collision));
    assert_eq!(causes[position("nic-network-inactive")?], Some(collision));
    assert_eq!(causes[collision], None);
    // A running twin holds the subnet as surely as a route, also where the
    // host's routes are unknown (a remote connection).
    let mut twin = rename_network(network_xml("default-guide.xml")?, "lab");
    twin.bridge = Some(vmnet_doctor_core::BridgeDef { name: Some("virbr7".into()), stp: None, delay: None });
    let snapshot = system(
        vec![debian13_running()?],
        vec![net(network_xml("default-guide.xml")?, false, true), net(twin, true, true)],
    );
    let findings = diagnose(&snapshot);
    let causes = vmnet_doctor_core::rules::explained_by(&snapshot, &findings);
    let position = |id: &str| findings.iter().position(|f| f.id == id).ok_or(format!("no {id}"));
    assert_eq!(causes[position("network-inactive")?], Some(position("network-subnet-collision")?));
    // A partial overlap does not stop libvirt: not running is its own cause.
    let partial = workstation_without_virbr0(vec![route("192.168.122.128/25", "tun0")?])?;
    let snapshot =
        with_host(system(vec![], vec![net(network_xml("default-guide.xml")?, false, true)]), partial);
    let findings = diagnose(&snapshot);
    let causes = vmnet_doctor_core::rules::explained_by(&snapshot, &findings);
    assert_eq!(
        causes[findings.iter().position(|f| f.id == "network-inactive").ok_or("no network-inactive")?],
        None
    );
    Ok(())
}
