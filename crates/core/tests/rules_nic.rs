//! The NIC rules: nic-network-missing, nic-network-inactive, nic-link-down,
//! nic-host-link-down, nic-model-not-virtio, nic-user-mode, nic-not-nat,
//! duplicate-mac. One table per rule: (case, snapshot, expected
//! (severity, subject) list), on captured domain and network XML.

#[path = "support/rules.rs"]
mod support;

use support::*;
use vmnet_doctor_core::host::{BridgeAcl, BridgeHelper};
use vmnet_doctor_core::{
    DomainSnapshot, DomainState, Fact, Fix, HostFacts, Severity, Snapshot, Unreadable, diagnose,
};

fn shut_off(fixture: &str) -> Result<DomainSnapshot, Error> {
    Ok(vm(domain_xml(fixture)?, DomainState::ShutOff))
}

fn running(fixture: &str) -> Result<DomainSnapshot, Error> {
    Ok(vm(domain_xml(fixture)?, DomainState::Running))
}

/// The NATed `default`, the isolated, routed, open and host-bridge networks,
/// all running and autostarted.
fn all_networks() -> Result<Vec<vmnet_doctor_core::NetworkSnapshot>, Error> {
    let mut networks = vec![healthy_default()?];
    for fixture in [
        "isolated.xml",
        "routed.xml",
        "open.xml",
        "host-bridge.xml",
        "portgroups.xml",
        "macvtap-pool.xml",
        "sriov-pool.xml",
    ] {
        networks.push(net(network_xml(fixture)?, true, true));
    }
    Ok(networks)
}

fn fix_of(snapshot: &Snapshot, id: &str) -> Result<Option<Fix>, Error> {
    Ok(find(&diagnose(snapshot), id)?.fix.clone())
}

#[test]
fn nic_network_missing() -> TestResult {
    let unreadable = {
        let mut s = system(vec![running("multi-nic.xml")?], vec![healthy_default()?]);
        s.unreadable.push(Unreadable { name: "ovs-net".into(), reason: "vanished".into() });
        s
    };
    run_table(
        "nic-network-missing",
        vec![
            (
                "default missing",
                system(vec![shut_off("debian13-virt-manager.xml")?], vec![]),
                vec![(Severity::Error, nic("debian13", "52:54:00:3a:7c:1e"))],
            ),
            (
                "ovs-net missing, default present",
                system(vec![running("multi-nic.xml")?], vec![healthy_default()?]),
                vec![(Severity::Error, nic("multi-nic", "52:54:00:aa:00:21"))],
            ),
            ("listed but unreadable", unreadable, vec![]),
            ("present", system(vec![running("multi-nic.xml")?], all_networks()?), vec![]),
        ],
    )?;
    // The fix: recreate `default`, or move the NIC to it.
    let missing_default = system(vec![shut_off("debian13-virt-manager.xml")?], vec![]);
    assert!(
        matches!(fix_of(&missing_default, "nic-network-missing")?, Some(Fix::DefineNetwork { name, .. }) if name == "default")
    );
    // A per-user libvirt cannot run the guide's NAT network: no plan there.
    let session = snapshot("qemu:///session", vec![shut_off("debian13-virt-manager.xml")?], vec![]);
    assert_eq!(fix_of(&session, "nic-network-missing")?, None);
    let missing_ovs = system(vec![running("multi-nic.xml")?], vec![healthy_default()?]);
    assert_eq!(
        fix_of(&missing_ovs, "nic-network-missing")?,
        Some(Fix::MoveNicToNetwork {
            vm: "multi-nic".into(),
            mac: "52:54:00:aa:00:21".into(),
            network: "default".into()
        })
    );
    Ok(())
}

#[test]
fn nic_network_inactive() -> TestResult {
    let stopped_default =
        || -> Result<_, Error> { Ok(vec![net(network_xml("default-guide.xml")?, false, true)]) };
    run_table(
        "nic-network-inactive",
        vec![
            (
                "running VM on a stopped network",
                system(vec![running("debian13-virt-manager.xml")?], stopped_default()?),
                vec![(Severity::Error, nic("debian13", "52:54:00:3a:7c:1e"))],
            ),
            (
                "shut-off VM on a stopped network",
                system(vec![shut_off("fedora42-e1000.xml")?], stopped_default()?),
                vec![(Severity::Error, nic("fedora42-e1000", "52:54:00:11:22:33"))],
            ),
            (
                "running network",
                system(vec![running("debian13-virt-manager.xml")?], vec![healthy_default()?]),
                vec![],
            ),
            (
                "missing network is another rule",
                system(vec![running("debian13-virt-manager.xml")?], vec![]),
                vec![],
            ),
        ],
    )?;
    let snapshot = system(vec![running("debian13-virt-manager.xml")?], stopped_default()?);
    assert_eq!(
        fix_of(&snapshot, "nic-network-inactive")?,
        Some(Fix::StartNetwork { name: "default".into() })
    );
    let findings = diagnose(&snapshot);
    assert!(find(&findings, "nic-network-inactive")?.explanation.starts_with("No IP address"));
    Ok(())
}

#[test]
fn nic_link_down() -> TestResult {
    run_table(
        "nic-link-down",
        vec![
            (
                "link-down.xml",
                system(vec![running("link-down.xml")?], vec![healthy_default()?]),
                vec![(Severity::Error, nic("link-down", "52:54:00:aa:00:02"))],
            ),
            (
                "the bridged NIC of multi-nic.xml",
                system(vec![shut_off("multi-nic.xml")?], all_networks()?),
                vec![(Severity::Error, nic("multi-nic", "52:54:00:aa:00:22"))],
            ),
            (
                "link up",
                system(vec![running("debian13-virt-manager.xml")?], vec![healthy_default()?]),
                vec![],
            ),
        ],
    )?;
    let snapshot = system(vec![running("link-down.xml")?], vec![healthy_default()?]);
    assert_eq!(
        fix_of(&snapshot, "nic-link-down")?,
        Some(Fix::SetLinkUp { vm: "link-down".into(), mac: "52:54:00:aa:00:02".into() })
    );
    Ok(())
}

fn links(
    edit: impl FnOnce(&mut Vec<vmnet_doctor_core::host::Link>) -> TestResult,
) -> Result<HostFacts, Error> {
    let mut host = workstation()?;
    if let Fact::Known(links) = &mut host.links {
        edit(links)?;
    }
    Ok(host)
}

#[test]
fn nic_host_link_down() -> TestResult {
    let br0 = |up: bool, operstate: &'static str| {
        links(move |links| {
            links.push(link("br0", "bridge", up, operstate, &["192.168.1.40/24"])?);
            Ok(())
        })
    };
    let enp3s0 = |operstate: &'static str| {
        links(move |links| {
            for l in links.iter_mut().filter(|l| l.name == "enp3s0") {
                l.operstate = operstate.to_owned();
            }
            Ok(())
        })
    };
    let bridged = |host: HostFacts, state: DomainState| -> Result<Snapshot, Error> {
        Ok(with_host(system(vec![vm(domain_xml("bridge-br0.xml")?, state)], vec![healthy_default()?]), host))
    };
    let macvtap = |host: HostFacts| -> Result<Snapshot, Error> {
        Ok(with_host(system(vec![running("direct-macvtap.xml")?], vec![healthy_default()?]), host))
    };
    run_table(
        "nic-host-link-down",
        vec![
            ("br0 up", bridged(br0(true, "up")?, DomainState::Running)?, vec![]),
            ("br0 up, no carrier yet", bridged(br0(true, "down")?, DomainState::Running)?, vec![]),
            (
                "br0 missing, running",
                bridged(workstation()?, DomainState::Running)?,
                vec![(Severity::Error, nic("bridge-br0", "52:54:00:aa:00:05"))],
            ),
            (
                "br0 set down, running",
                bridged(br0(false, "down")?, DomainState::Running)?,
                vec![(Severity::Error, nic("bridge-br0", "52:54:00:aa:00:05"))],
            ),
            (
                "br0 missing, shut off",
                bridged(workstation()?, DomainState::ShutOff)?,
                vec![(Severity::Warning, nic("bridge-br0", "52:54:00:aa:00:05"))],
            ),
            ("macvtap parent up", macvtap(workstation()?)?, vec![]),
            (
                "macvtap parent without carrier",
                macvtap(enp3s0("down")?)?,
                vec![(Severity::Error, nic("direct-macvtap", "52:54:00:aa:00:06"))],
            ),
            (
                "host unknown",
                system(
                    vec![running("bridge-br0.xml")?, running("direct-macvtap.xml")?],
                    vec![healthy_default()?],
                ),
                vec![],
            ),
        ],
    )
}

#[test]
fn nic_model_not_virtio() -> TestResult {
    run_table(
        "nic-model-not-virtio",
        vec![
            (
                "e1000",
                system(vec![running("fedora42-e1000.xml")?], vec![healthy_default()?]),
                vec![(Severity::Warning, nic("fedora42-e1000", "52:54:00:11:22:33"))],
            ),
            (
                "e1000e, rtl8139 and a macvtap card without a model (libvirt's rtl8139) in multi-nic.xml",
                system(vec![shut_off("multi-nic.xml")?], all_networks()?),
                vec![
                    (Severity::Warning, nic("multi-nic", "52:54:00:aa:00:21")),
                    (Severity::Warning, nic("multi-nic", "52:54:00:aa:00:22")),
                    (Severity::Warning, nic("multi-nic", "52:54:00:aa:00:23")),
                ],
            ),
            ("virtio", system(vec![running("debian13-virt-manager.xml")?], vec![healthy_default()?]), vec![]),
            (
                "no model given: libvirt's default for i686, rtl8139",
                system(vec![running("test-default-running.xml")?], vec![healthy_default()?]),
                vec![(Severity::Warning, nic("test", "aa:bb:cc:dd:ee:ff"))],
            ),
            (
                "no model and no architecture: nothing to judge by",
                system(
                    vec![vm(without_arch(domain_xml("test-default-running.xml")?), DomainState::Running)],
                    vec![healthy_default()?],
                ),
                vec![],
            ),
            ("hostdev has no model", system(vec![running("hostdev.xml")?], vec![healthy_default()?]), vec![]),
        ],
    )?;
    let snapshot = system(vec![running("fedora42-e1000.xml")?], vec![healthy_default()?]);
    assert_eq!(
        fix_of(&snapshot, "nic-model-not-virtio")?,
        Some(Fix::SetNicModel {
            vm: "fedora42-e1000".into(),
            mac: "52:54:00:11:22:33".into(),
            model: "virtio".into()
        })
    );
    let findings = diagnose(&snapshot);
    assert!(find(&findings, "nic-model-not-virtio")?.explanation.contains("virtio-win"));

    // A card without a model: judged by the model libvirt gives it, and
    // the evidence says so; fixed like a named one.
    let unset = system(vec![running("test-default-running.xml")?], vec![healthy_default()?]);
    let findings = diagnose(&unset);
    let finding = find(&findings, "nic-model-not-virtio")?;
    assert!(finding.title.contains("rtl8139"), "{finding:#?}");
    assert!(finding.explanation.contains("names no model"), "{finding:#?}");
    assert_eq!(finding.evidence[0].value, "none given; libvirt’s default for i686: rtl8139");
    assert_eq!(
        fix_of(&unset, "nic-model-not-virtio")?,
        Some(Fix::SetNicModel { vm: "test".into(), mac: "aa:bb:cc:dd:ee:ff".into(), model: "virtio".into() })
    );
    // A named rtl8139 says where such cards come from.
    let named = system(vec![shut_off("multi-nic.xml")?], all_networks()?);
    let rtl = diagnose(&named)
        .into_iter()
        .filter(|f| f.id == "nic-model-not-virtio")
        .find(|f| f.title.contains("rtl8139"))
        .ok_or("no finding for multi-nic's rtl8139")?;
    assert!(rtl.explanation.contains("defined without a model"), "{rtl:#?}");
    Ok(())
}

fn without_arch(mut config: vmnet_doctor_core::DomainConfig) -> vmnet_doctor_core::DomainConfig {
    config.os = Default::default();
    config
}

#[test]
fn nic_user_mode() -> TestResult {
    run_table(
        "nic-user-mode",
        vec![
            (
                "SLIRP on qemu:///system",
                system(vec![running("user-slirp.xml")?], vec![healthy_default()?]),
                vec![(Severity::Warning, nic("user-slirp", "52:54:00:aa:00:03"))],
            ),
            (
                "passt on qemu:///system",
                system(vec![running("user-passt.xml")?], vec![healthy_default()?]),
                vec![(Severity::Warning, nic("user-passt", "52:54:00:aa:00:04"))],
            ),
            (
                "SLIRP on qemu:///session",
                snapshot("qemu:///session", vec![running("user-slirp.xml")?], vec![]),
                vec![(Severity::Info, nic("user-slirp", "52:54:00:aa:00:03"))],
            ),
            (
                "the user NIC of multi-nic.xml",
                system(vec![shut_off("multi-nic.xml")?], all_networks()?),
                vec![(Severity::Warning, nic("multi-nic", "52:54:00:aa:00:24"))],
            ),
            ("NAT", system(vec![running("debian13-virt-manager.xml")?], vec![healthy_default()?]), vec![]),
        ],
    )?;
    // Fixes: move to `default` only on a system connection that has one.
    let with_default = system(vec![running("user-slirp.xml")?], vec![healthy_default()?]);
    assert_eq!(
        fix_of(&with_default, "nic-user-mode")?,
        Some(Fix::MoveNicToNetwork {
            vm: "user-slirp".into(),
            mac: "52:54:00:aa:00:03".into(),
            network: "default".into()
        })
    );
    assert_eq!(fix_of(&system(vec![running("user-slirp.xml")?], vec![]), "nic-user-mode")?, None);
    let session = snapshot("qemu:///session", vec![running("user-slirp.xml")?], vec![healthy_default()?]);
    assert_eq!(fix_of(&session, "nic-user-mode")?, None);
    assert!(find(&diagnose(&session), "nic-user-mode")?.explanation.contains("qemu:///session"));
    let passt = system(vec![running("user-passt.xml")?], vec![healthy_default()?]);
    let findings = diagnose(&passt);
    let finding = find(&findings, "nic-user-mode")?;
    assert!(finding.title.contains("passt") && finding.explanation.contains("passt"), "{finding:?}");
    let slirp = diagnose(&with_default);
    assert!(find(&slirp, "nic-user-mode")?.explanation.contains("slower and limited"));
    Ok(())
}

#[test]
fn nic_not_nat() -> TestResult {
    let on = |network: &str| -> Result<DomainSnapshot, Error> {
        Ok(vm(
            renamed(plugged_into(domain_xml("debian13-virt-manager.xml")?, network), network),
            DomainState::ShutOff,
        ))
    };
    let info = |vm: &str, mac: &str| (Severity::Info, nic(vm, mac));
    let debian = "52:54:00:3a:7c:1e";
    run_table(
        "nic-not-nat",
        vec![
            ("NAT", system(vec![running("debian13-virt-manager.xml")?], all_networks()?), vec![]),
            (
                "bridge",
                system(vec![running("bridge-br0.xml")?], all_networks()?),
                vec![info("bridge-br0", "52:54:00:aa:00:05")],
            ),
            (
                "macvtap",
                system(vec![running("direct-macvtap.xml")?], all_networks()?),
                vec![info("direct-macvtap", "52:54:00:aa:00:06")],
            ),
            ("user-mode is its own rule", system(vec![running("user-slirp.xml")?], all_networks()?), vec![]),
            (
                "isolated network",
                system(vec![on("isolated")?], all_networks()?),
                vec![info("isolated", debian)],
            ),
            ("routed network", system(vec![on("routed")?], all_networks()?), vec![info("routed", debian)]),
            ("open network", system(vec![on("open")?], all_networks()?), vec![info("open", debian)]),
            (
                "host-bridge network",
                system(vec![on("host-bridge")?], all_networks()?),
                vec![info("host-bridge", debian)],
            ),
            (
                "macvtap pool network",
                system(vec![on("macvtap-pool")?], all_networks()?),
                vec![info("macvtap-pool", debian)],
            ),
            (
                "SR-IOV pool network",
                system(vec![on("sriov-pool")?], all_networks()?),
                vec![info("sriov-pool", debian)],
            ),
            (
                "stopped network is another rule",
                system(vec![on("isolated")?], vec![net(network_xml("isolated.xml")?, false, true)]),
                vec![],
            ),
            (
                "hostdev",
                system(vec![running("hostdev.xml")?], vec![]),
                vec![info("hostdev", "52:54:00:aa:00:08")],
            ),
            (
                "tunnels",
                system(vec![running("tunnels.xml")?], vec![]),
                vec![
                    info("tunnels", "52:54:00:aa:00:10"),
                    info("tunnels", "52:54:00:aa:00:11"),
                    info("tunnels", "52:54:00:aa:00:12"),
                    info("tunnels", "52:54:00:aa:00:13"),
                ],
            ),
            (
                "multi-nic.xml: ovs bridge network, bridge, macvtap",
                system(vec![shut_off("multi-nic.xml")?], all_networks()?),
                vec![
                    info("multi-nic", "52:54:00:aa:00:21"),
                    info("multi-nic", "52:54:00:aa:00:22"),
                    info("multi-nic", "52:54:00:aa:00:23"),
                ],
            ),
        ],
    )?;
    // Every other captured NIC type gets exactly one info, never more.
    for fixture in ["ethernet.xml", "vhostuser.xml", "vdpa.xml", "null-nic.xml", "vds-nic.xml"] {
        let findings = diagnose(&system(vec![running(fixture)?], vec![]));
        let found = of(&findings, "nic-not-nat");
        assert_eq!(found.len(), 1, "{fixture}: {found:?}");
        assert!(found.iter().all(|(severity, _)| *severity == Severity::Info), "{fixture}");
    }
    // What each kind says.
    let says = |snapshot: Snapshot, words: &[&str]| -> TestResult {
        let findings = diagnose(&snapshot);
        let finding = find(&findings, "nic-not-nat")?;
        for word in words {
            assert!(finding.explanation.contains(word), "{word:?} not in {}", finding.explanation);
        }
        assert_eq!(finding.fix, None);
        Ok(())
    };
    says(
        system(vec![running("direct-macvtap.xml")?], vec![]),
        &["the host and this guest cannot reach each other"],
    )?;
    says(system(vec![running("bridge-br0.xml")?], vec![]), &["br0", "LAN's DHCP"])?;
    says(system(vec![on("isolated")?], all_networks()?), &["No internet, by design"])?;
    says(system(vec![on("routed")?], all_networks()?), &["route back to 192.168.150.0/24"])?;
    Ok(())
}

#[test]
fn duplicate_mac() -> TestResult {
    let debian = || domain_xml("debian13-virt-manager.xml");
    let twice_in_one = {
        let mut config = debian()?;
        let copy = config.interfaces.first().cloned().ok_or("a NIC")?;
        config.interfaces.push(copy);
        vm(config, DomainState::ShutOff)
    };
    let mac = "52:54:00:3a:7c:1e";
    let upper_case_copy = {
        let mut config = renamed(debian()?, "debian13-copy");
        let nic = config.interfaces.first_mut().ok_or("a NIC")?;
        nic.mac = Some(mac.to_ascii_uppercase());
        vm(config, DomainState::Running)
    };
    let copy =
        |name: &str, state| -> Result<DomainSnapshot, Error> { Ok(vm(renamed(debian()?, name), state)) };
    run_table(
        "duplicate-mac",
        vec![
            (
                "a copied VM kept the MAC, both running on default",
                system(
                    vec![vm(debian()?, DomainState::Running), copy("debian13-copy", DomainState::Running)?],
                    vec![healthy_default()?],
                ),
                vec![(Severity::Error, nic("debian13", mac)), (Severity::Error, nic("debian13-copy", mac))],
            ),
            (
                "the same MAC in upper case",
                system(vec![vm(debian()?, DomainState::Running), upper_case_copy], vec![healthy_default()?]),
                vec![(Severity::Error, nic("debian13", mac)), (Severity::Error, nic("debian13-copy", mac))],
            ),
            (
                "a shut-off clone: they cannot meet now",
                system(
                    vec![vm(debian()?, DomainState::Running), copy("debian13-copy", DomainState::ShutOff)?],
                    vec![healthy_default()?],
                ),
                vec![
                    (Severity::Warning, nic("debian13", mac)),
                    (Severity::Warning, nic("debian13-copy", mac)),
                ],
            ),
            (
                "four VMs with one MAC, one running (virt-manager's test host)",
                system(
                    vec![
                        vm(debian()?, DomainState::Running),
                        copy("clone-1", DomainState::ShutOff)?,
                        copy("clone-2", DomainState::ShutOff)?,
                        copy("clone-3", DomainState::ShutOff)?,
                    ],
                    vec![healthy_default()?],
                ),
                vec![
                    (Severity::Warning, nic("debian13", mac)),
                    (Severity::Warning, nic("clone-1", mac)),
                    (Severity::Warning, nic("clone-2", mac)),
                    (Severity::Warning, nic("clone-3", mac)),
                ],
            ),
            (
                "both running, on separate networks",
                system(
                    vec![
                        vm(debian()?, DomainState::Running),
                        vm(
                            plugged_into(renamed(debian()?, "debian13-copy"), "isolated"),
                            DomainState::Running,
                        ),
                    ],
                    all_networks()?,
                ),
                vec![
                    (Severity::Warning, nic("debian13", mac)),
                    (Severity::Warning, nic("debian13-copy", mac)),
                ],
            ),
            (
                "twice in one VM on one network, even shut off",
                system(vec![twice_in_one], vec![healthy_default()?]),
                vec![(Severity::Error, nic("debian13", mac))],
            ),
            (
                "every MAC different",
                system(
                    vec![
                        running("debian13-virt-manager.xml")?,
                        running("multi-nic.xml")?,
                        running("tunnels.xml")?,
                    ],
                    all_networks()?,
                ),
                vec![],
            ),
        ],
    )?;
    // The explanation says why the cards do or do not meet.
    let says = |snapshot: Snapshot, words: &str| -> TestResult {
        let findings = diagnose(&snapshot);
        let finding = find(&findings, "duplicate-mac")?;
        assert!(finding.explanation.contains(words), "{words:?} not in {}", finding.explanation);
        Ok(())
    };
    says(
        system(
            vec![vm(debian()?, DomainState::Running), copy("c", DomainState::Running)?],
            vec![healthy_default()?],
        ),
        "replies reach one or the other at random",
    )?;
    says(
        system(
            vec![vm(debian()?, DomainState::Running), copy("c", DomainState::ShutOff)?],
            vec![healthy_default()?],
        ),
        "shut-off clone",
    )?;
    says(
        system(
            vec![
                vm(debian()?, DomainState::Running),
                vm(plugged_into(renamed(debian()?, "c"), "isolated"), DomainState::Running),
            ],
            all_networks()?,
        ),
        "separate networks",
    )
}

#[test]
fn session_bridge_not_allowed() -> TestResult {
    let acl = |allow: &[&str], deny: &[&str]| -> Result<HostFacts, Error> {
        let mut host = workstation()?;
        host.bridge_acl = Fact::Known(BridgeAcl {
            allow: allow.iter().map(|name| (*name).to_owned()).collect(),
            deny: deny.iter().map(|name| (*name).to_owned()).collect(),
        });
        Ok(host)
    };
    let session =
        |vm: DomainSnapshot, host: HostFacts| with_host(snapshot("qemu:///session", vec![vm], vec![]), host);
    let card = || nic("bridge-br0", "52:54:00:aa:00:05");
    run_table(
        "session-bridge-not-allowed",
        vec![
            (
                "Fedora's bridge.conf allows virbr0 only",
                session(shut_off("bridge-br0.xml")?, acl(&["virbr0"], &[])?),
                vec![(Severity::Error, card())],
            ),
            ("br0 allowed", session(shut_off("bridge-br0.xml")?, acl(&["virbr0", "br0"], &[])?), vec![]),
            (
                "allow all, deny br0: the deny wins",
                session(shut_off("bridge-br0.xml")?, acl(&["all"], &["br0"])?),
                vec![(Severity::Error, card())],
            ),
            (
                "running: it started before; the next start fails",
                session(running("bridge-br0.xml")?, acl(&[], &[])?),
                vec![(Severity::Warning, card())],
            ),
            (
                "qemu:///system attaches the tap itself",
                with_host(system(vec![shut_off("bridge-br0.xml")?], vec![]), acl(&[], &[])?),
                vec![],
            ),
            (
                "the list unknown",
                with_host(
                    snapshot("qemu:///session", vec![shut_off("bridge-br0.xml")?], vec![]),
                    workstation()?,
                ),
                vec![],
            ),
        ],
    )?;
    let findings = diagnose(&session(shut_off("bridge-br0.xml")?, acl(&["virbr0"], &[])?));
    let finding = find(&findings, "session-bridge-not-allowed")?;
    assert!(finding.explanation.contains("“allow br0”"), "{}", finding.explanation);
    assert!(finding.explanation.contains("access denied by acl file"), "{}", finding.explanation);
    assert_eq!(finding.fix, Some(Fix::AllowQemuBridge { bridge: "br0".to_owned() }));
    // A deny line is the administrator's: explained, never overridden.
    for deny in ["br0", "all"] {
        let findings = diagnose(&session(shut_off("bridge-br0.xml")?, acl(&["br0"], &[deny])?));
        let finding = find(&findings, "session-bridge-not-allowed")?;
        assert_eq!(finding.fix, None, "deny {deny}");
        assert!(finding.explanation.contains("“deny”"), "{}", finding.explanation);
    }
    Ok(())
}

#[test]
fn session_bridge_helper_unprivileged() -> TestResult {
    let with_helper = |setuid_root: bool, cap_net_admin: bool| -> Result<HostFacts, Error> {
        let mut host = workstation()?;
        host.bridge_helper = Fact::Known(Some(BridgeHelper {
            path: "/usr/lib/qemu/qemu-bridge-helper".to_owned(),
            setuid_root,
            cap_net_admin,
        }));
        Ok(host)
    };
    let session =
        |vm: DomainSnapshot, host: HostFacts| with_host(snapshot("qemu:///session", vec![vm], vec![]), host);
    let card = || nic("bridge-br0", "52:54:00:aa:00:05");
    let mut not_installed = workstation()?;
    not_installed.bridge_helper = Fact::Known(None);
    run_table(
        "session-bridge-helper-unprivileged",
        vec![
            (
                "Debian's: neither setuid nor cap_net_admin",
                session(shut_off("bridge-br0.xml")?, with_helper(false, false)?),
                vec![(Severity::Error, card())],
            ),
            (
                "Fedora's: setuid root",
                session(shut_off("bridge-br0.xml")?, with_helper(true, false)?),
                vec![],
            ),
            (
                "setcap cap_net_admin+ep",
                session(shut_off("bridge-br0.xml")?, with_helper(false, true)?),
                vec![],
            ),
            (
                "running: the next start fails",
                session(running("bridge-br0.xml")?, with_helper(false, false)?),
                vec![(Severity::Warning, card())],
            ),
            (
                "qemu:///system attaches the tap itself",
                with_host(system(vec![shut_off("bridge-br0.xml")?], vec![]), with_helper(false, false)?),
                vec![],
            ),
            (
                "not installed: nothing known to judge",
                session(shut_off("bridge-br0.xml")?, not_installed),
                vec![],
            ),
            (
                "a card on a network, not a bridge",
                session(shut_off("debian13-virt-manager.xml")?, with_helper(false, false)?),
                vec![],
            ),
        ],
    )?;
    let findings = diagnose(&session(shut_off("bridge-br0.xml")?, with_helper(false, false)?));
    let finding = find(&findings, "session-bridge-helper-unprivileged")?;
    assert!(
        finding
            .explanation
            .contains("dpkg-statoverride --update --add root root 4755 /usr/lib/qemu/qemu-bridge-helper"),
        "{}",
        finding.explanation
    );
    assert_eq!(finding.fix, None, "the administrator's decision");
    Ok(())
}
