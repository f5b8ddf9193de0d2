//! The VM rules: guest-agent-missing, guest-agent-not-connected, guest-ipv6-unrouted,
//! guest-address-outside-subnet, vm-no-ip.
//! One table per rule: (case, snapshot, expected (severity, subject) list).
//!
//! The agent channel's live `state='connected'|'disconnected'` and the
//! answers of the address sources cannot come from libvirt's test driver
//! (see tests/fixtures/README.md); they are set on the captured XML in the
//! shape the QEMU driver produces (`tests/robustness.rs`,
//! `live_qemu_style_xml_is_read`).

#[path = "support/rules.rs"]
mod support;

use support::*;
use vmnet_doctor_core::host::Dnsmasq;
use vmnet_doctor_core::rules::explained_by;
use vmnet_doctor_core::{AddressSource, DomainSnapshot, DomainState, Fact, Fix, Severity, diagnose};

const DEBIAN_MAC: &str = "52:54:00:3a:7c:1e";

/// debian13 running on `default` with the agent channel in `state`, and
/// the agent's answer.
fn debian(state: Option<&str>, agent: Result<(), &str>) -> Result<DomainSnapshot, Error> {
    let config = agent_state(domain_xml("debian13-virt-manager.xml")?, state);
    let interface = guest_interface("enp1s0", DEBIAN_MAC, &["192.168.122.50/24"])?;
    let lease = guest_interface("vnet0", DEBIAN_MAC, &["192.168.122.50/24"])?;
    Ok(with_sources(
        vm(config, DomainState::Running),
        vec![
            (AddressSource::Agent, agent.map(|()| vec![interface]).map_err(str::to_owned)),
            (AddressSource::Lease, Ok(vec![lease])),
            (AddressSource::Arp, Ok(vec![])),
        ],
    ))
}

#[test]
fn guest_agent_missing() -> TestResult {
    run_table(
        "guest-agent-missing",
        vec![
            (
                "no channel (the test driver's own domain)",
                system(
                    vec![vm(domain_xml("test-default-running.xml")?, DomainState::Running)],
                    vec![healthy_default()?],
                ),
                vec![(Severity::Warning, vm_subject("test"))],
            ),
            (
                "no channel, shut off",
                system(vec![vm(domain_xml("bridge-br0.xml")?, DomainState::ShutOff)], vec![]),
                vec![(Severity::Warning, vm_subject("bridge-br0"))],
            ),
            (
                "channel present",
                system(vec![debian(Some("connected"), Ok(()))?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "not a QEMU guest",
                {
                    let mut config = domain_xml("no-interfaces.xml")?;
                    config.hypervisor = "lxc".into();
                    system(vec![vm(config, DomainState::Running)], vec![])
                },
                vec![],
            ),
        ],
    )?;
    let findings =
        diagnose(&system(vec![vm(domain_xml("test-default-running.xml")?, DomainState::Running)], vec![]));
    let finding = find(&findings, "guest-agent-missing")?;
    assert_eq!(finding.fix, Some(Fix::AddGuestAgentChannel { vm: "test".into() }));
    assert!(finding.explanation.contains("next boot") && finding.explanation.contains("IP"));
    Ok(())
}

#[test]
fn guest_agent_not_connected() -> TestResult {
    let warn = vec![(Severity::Warning, vm_subject("debian13"))];
    let shut_off = vm(agent_state(domain_xml("debian13-virt-manager.xml")?, None), DomainState::ShutOff);
    run_table(
        "guest-agent-not-connected",
        vec![
            ("connected", system(vec![debian(Some("connected"), Ok(()))?], vec![healthy_default()?]), vec![]),
            (
                "disconnected",
                system(
                    vec![debian(Some("disconnected"), Err("the guest agent is not connected"))?],
                    vec![healthy_default()?],
                ),
                warn.clone(),
            ),
            (
                "no state (older libvirt), agent query failed",
                system(
                    vec![debian(
                        None,
                        Err("Guest agent is not responding: QEMU guest agent is not connected"),
                    )?],
                    vec![healthy_default()?],
                ),
                warn,
            ),
            (
                "no state, agent answered",
                system(vec![debian(None, Ok(()))?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "connected, one command failed",
                system(
                    vec![debian(Some("connected"), Err("guest-network-get-interfaces has been disabled"))?],
                    vec![healthy_default()?],
                ),
                vec![],
            ),
            ("shut off", system(vec![shut_off], vec![healthy_default()?]), vec![]),
            (
                "no channel is guest-agent-missing",
                system(
                    vec![vm(domain_xml("test-default-running.xml")?, DomainState::Running)],
                    vec![healthy_default()?],
                ),
                vec![],
            ),
        ],
    )
}

/// A running VM on `default` that no source reports an address for.
/// `agent`: what the agent lists, or `None` when it cannot answer.
fn silent(
    fixture: &str,
    agent: Option<Vec<vmnet_doctor_core::GuestInterface>>,
) -> Result<DomainSnapshot, Error> {
    Ok(with_sources(
        vm(agent_state(domain_xml(fixture)?, Some("connected")), DomainState::Running),
        vec![
            (AddressSource::Agent, agent.ok_or_else(|| "no guest agent channel".to_owned())),
            (AddressSource::Lease, Ok(vec![])),
            (AddressSource::Arp, Ok(vec![])),
        ],
    ))
}

#[test]
fn vm_no_ip() -> TestResult {
    let error = |vm: &str| vec![(Severity::Error, vm_subject(vm))];
    let ipv6_only = guest_interface("enp1s0", DEBIAN_MAC, &["fe80::5054:ff:fe3a:7c1e/64"])?;
    let no_dnsmasq = {
        let mut host = workstation()?;
        host.dnsmasq = Fact::Known(vec![Dnsmasq { network: "default".into(), running: false }]);
        host
    };
    run_table(
        "vm-no-ip",
        vec![
            (
                "has an address",
                system(vec![debian(Some("connected"), Ok(()))?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "no address from leases, no agent",
                system(vec![silent("debian13-virt-manager.xml", None)?], vec![healthy_default()?]),
                error("debian13"),
            ),
            (
                "the agent lists only an IPv6 link-local address",
                system(
                    vec![silent("debian13-virt-manager.xml", Some(vec![ipv6_only]))?],
                    vec![healthy_default()?],
                ),
                error("debian13"),
            ),
            (
                "the agent does not see the NIC at all (no driver in the guest)",
                system(vec![silent("debian13-virt-manager.xml", Some(vec![]))?], vec![healthy_default()?]),
                error("debian13"),
            ),
            (
                "dnsmasq not running explains it",
                with_host(
                    system(vec![silent("debian13-virt-manager.xml", None)?], vec![healthy_default()?]),
                    no_dnsmasq.clone(),
                ),
                error("debian13"),
            ),
            (
                "link down is nic-link-down's",
                system(vec![silent("link-down.xml", None)?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "stopped network is nic-network-inactive's",
                system(
                    vec![silent("debian13-virt-manager.xml", None)?],
                    vec![net(network_xml("default-guide.xml")?, false, true)],
                ),
                vec![],
            ),
            (
                "missing network is nic-network-missing's",
                system(vec![silent("debian13-virt-manager.xml", None)?], vec![]),
                vec![],
            ),
            (
                "bridged, no agent: nothing can know",
                system(vec![silent("bridge-br0.xml", None)?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "bridged, the agent says no IPv4",
                system(vec![silent("bridge-br0.xml", Some(vec![]))?], vec![healthy_default()?]),
                error("bridge-br0"),
            ),
            (
                "user-mode, no agent: nothing can know",
                system(vec![silent("user-slirp.xml", None)?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "shut off: nothing asked",
                system(
                    vec![vm(domain_xml("debian13-virt-manager.xml")?, DomainState::ShutOff)],
                    vec![healthy_default()?],
                ),
                vec![],
            ),
            ("tunnels carry no address", system(vec![silent("tunnels.xml", Some(vec![]))?], vec![]), vec![]),
        ],
    )?;

    // Without a host cause, it sends the user into the guest.
    let findings =
        diagnose(&system(vec![silent("debian13-virt-manager.xml", None)?], vec![healthy_default()?]));
    let finding = find(&findings, "vm-no-ip")?;
    assert!(finding.explanation.contains("nmcli"), "{}", finding.explanation);
    assert!(finding.explanation.contains("not checked"), "host unknown: {}", finding.explanation);
    assert!(!finding.evidence.iter().any(|e| e.what == "explained by"));

    // With one, it names it.
    let findings = diagnose(&with_host(
        system(vec![silent("debian13-virt-manager.xml", None)?], vec![healthy_default()?]),
        no_dnsmasq,
    ));
    let cause = find(&findings, "dnsmasq-not-running")?;
    let finding = find(&findings, "vm-no-ip")?;
    assert!(finding.explanation.contains(&cause.title), "{}", finding.explanation);
    assert!(
        finding
            .evidence
            .iter()
            .any(|e| e.what == "explained by" && e.value.starts_with("dnsmasq-not-running"))
    );

    // A bridged NIC whose bridge vanished: named too.
    let findings = diagnose(&with_host(
        system(vec![silent("bridge-br0.xml", Some(vec![]))?], vec![healthy_default()?]),
        workstation()?,
    ));
    let cause = find(&findings, "nic-host-link-down")?;
    assert!(find(&findings, "vm-no-ip")?.explanation.contains(&cause.title));
    // And it is shown under that cause.
    let snapshot = with_host(
        system(vec![silent("bridge-br0.xml", Some(vec![]))?], vec![healthy_default()?]),
        workstation()?,
    );
    let findings = diagnose(&snapshot);
    let causes = explained_by(&snapshot, &findings);
    let position = |id: &str| findings.iter().position(|f| f.id == id).ok_or(id.to_owned());
    assert_eq!(causes[position("vm-no-ip")?], Some(position("nic-host-link-down")?));
    assert_eq!(causes[position("nic-host-link-down")?], None);

    // Several NICs, one without an address: the title names that card.
    let config = agent_state(domain_xml("multi-nic.xml")?, Some("connected"));
    let agent = vec![guest_interface("enp1s0", "52:54:00:aa:00:20", &["192.168.122.60/24"])?];
    let multi = with_sources(
        vm(config, DomainState::Running),
        vec![
            (AddressSource::Agent, Ok(agent)),
            (AddressSource::Lease, Ok(vec![])),
            (AddressSource::Arp, Ok(vec![])),
        ],
    );
    let findings = diagnose(&system(
        vec![multi],
        vec![healthy_default()?, net(network_xml("portgroups.xml")?, true, true)],
    ));
    let finding = find(&findings, "vm-no-ip")?;
    // NIC 2 (ovs-net, a host bridge) and NIC 4 (macvtap) have no IPv4;
    // NIC 3 is link-down, NIC 5 user-mode (knowable through the agent).
    assert!(finding.title.starts_with("Some network cards"), "{}", finding.title);
    for mac in ["52:54:00:aa:00:21", "52:54:00:aa:00:23", "52:54:00:aa:00:24"] {
        assert!(finding.explanation.contains(mac), "{mac}: {}", finding.explanation);
    }
    assert!(!finding.explanation.contains("52:54:00:aa:00:22"), "{}", finding.explanation);
    Ok(())
}

/// debian13 on `default` whose agent reports ADDRESSES on enp1s0; the
/// lease always holds only the IPv4 address.
fn debian_with(addresses: &[&str], agent: bool) -> Result<DomainSnapshot, Error> {
    let config = agent_state(domain_xml("debian13-virt-manager.xml")?, Some("connected"));
    let interface = guest_interface("enp1s0", DEBIAN_MAC, addresses)?;
    let lease = guest_interface("vnet0", DEBIAN_MAC, &["192.168.122.50/24"])?;
    let agent_answer = if agent { Ok(vec![interface.clone()]) } else { Err("no agent".to_owned()) };
    let mut lease_answer = vec![lease];
    if !agent {
        // Global IPv6 seen by another source only: not the guest's word.
        lease_answer.push(interface);
    }
    Ok(with_sources(
        vm(config, DomainState::Running),
        vec![
            (AddressSource::Agent, agent_answer),
            (AddressSource::Lease, Ok(lease_answer)),
            (AddressSource::Arp, Ok(vec![])),
        ],
    ))
}

#[test]
fn guest_ipv6_unrouted() -> TestResult {
    let global = ["192.168.122.50/24", "2001:db8:1::50/64", "fe80::5054:ff:fe3a:7c1e/64"];
    let dual_stack = {
        let mut config = network_xml("dual-stack.xml")?;
        config.name = "default".into();
        net(config, true, true)
    };
    let host_bridge = {
        let mut config = network_xml("host-bridge.xml")?;
        config.name = "default".into();
        net(config, true, true)
    };
    let shut_off = vm(domain_xml("debian13-virt-manager.xml")?, DomainState::ShutOff);
    run_table(
        "guest-ipv6-unrouted",
        vec![
            (
                "global IPv6 on an IPv4-only NAT network (the guide's apt hang)",
                system(vec![debian_with(&global, true)?], vec![healthy_default()?]),
                vec![(Severity::Warning, nic("debian13", DEBIAN_MAC))],
            ),
            (
                "link-local and unique-local only",
                system(
                    vec![debian_with(
                        &["192.168.122.50/24", "fe80::5054:ff:fe3a:7c1e/64", "fd00:beef::2/64"],
                        true,
                    )?],
                    vec![healthy_default()?],
                ),
                vec![],
            ),
            ("the network carries IPv6", system(vec![debian_with(&global, true)?], vec![dual_stack]), vec![]),
            (
                "a host bridge (the LAN may route IPv6)",
                system(vec![debian_with(&global, true)?], vec![host_bridge]),
                vec![],
            ),
            (
                "no agent: only the lease source speaks",
                system(vec![debian_with(&global, false)?], vec![healthy_default()?]),
                vec![],
            ),
            ("shut off", system(vec![shut_off], vec![healthy_default()?]), vec![]),
        ],
    )?;
    let findings = diagnose(&system(vec![debian_with(&global, true)?], vec![healthy_default()?]));
    let finding = find(&findings, "guest-ipv6-unrouted")?;
    assert!(finding.explanation.contains("2001:db8:1::50/64") && finding.explanation.contains("enp1s0"));
    assert!(finding.explanation.contains(r#"Acquire::ForceIPv4 "true";"#));
    assert!(finding.evidence.iter().any(|e| e.value.contains("2001:db8:1::50/64")));
    Ok(())
}

#[test]
fn guest_address_outside_subnet() -> TestResult {
    // What the agent says the guest set on its card (default is 192.168.122.0/24).
    let set = |addresses: &[&str]| -> Result<DomainSnapshot, Error> {
        let config = agent_state(domain_xml("debian13-virt-manager.xml")?, Some("connected"));
        Ok(with_sources(
            vm(config, DomainState::Running),
            vec![(AddressSource::Agent, Ok(vec![guest_interface("enp1s0", DEBIAN_MAC, addresses)?]))],
        ))
    };
    let on_bridge = |addresses: &[&str]| -> Result<DomainSnapshot, Error> {
        let mut domain = set(addresses)?;
        domain.config = plugged_into(domain.config, "host-bridge");
        Ok(domain)
    };
    let shut_off = || -> Result<DomainSnapshot, Error> {
        let mut domain = set(&["192.168.1.20/24"])?;
        domain.state = DomainState::ShutOff;
        Ok(domain)
    };
    let bridged = net(network_xml("host-bridge.xml")?, true, true);
    run_table(
        "guest-address-outside-subnet",
        vec![
            (
                "the LAN's address typed in on a NAT card",
                system(vec![set(&["192.168.1.20/24"])?], vec![healthy_default()?]),
                vec![(Severity::Error, nic("debian13", DEBIAN_MAC))],
            ),
            (
                "an address from the network",
                system(vec![set(&["192.168.122.50/24"])?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "a second address beside the network's",
                system(vec![set(&["192.168.122.50/24", "10.8.0.2/24"])?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "only a link-local address",
                system(vec![set(&["169.254.3.4/16"])?], vec![healthy_default()?]),
                vec![],
            ),
            ("shut off", system(vec![shut_off()?], vec![healthy_default()?]), vec![]),
            (
                "a bridged network: the LAN's addresses are its own",
                system(vec![on_bridge(&["192.168.1.20/24"])?], vec![healthy_default()?, bridged]),
                vec![],
            ),
        ],
    )?;
    let findings = diagnose(&system(vec![set(&["192.168.1.20/24"])?], vec![healthy_default()?]));
    let finding = find(&findings, "guest-address-outside-subnet")?;
    assert!(finding.title.contains("192.168.1.20/24"), "{finding:#?}");
    assert!(finding.explanation.contains("192.168.122.0/24"), "{finding:#?}");
    Ok(())
}
