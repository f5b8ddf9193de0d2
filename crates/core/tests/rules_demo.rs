//! The whole libvirt-side diagnosis on the demo hypervisor
//! (`data/demo/README.md` says what each VM should flag) and on a healthy
//! setup (no false alarms), plus the order of the findings.

#[path = "support/rules.rs"]
mod support;

use std::collections::BTreeSet;

use support::*;
use vmnet_doctor_core::rules::explained_by;
use vmnet_doctor_core::{Fix, Severity, Subject, diagnose};

fn key(severity: Severity, id: &str, subject: &Subject) -> (String, String, String) {
    (severity.as_str().to_owned(), id.to_owned(), subject.to_string())
}

/// A title names its object once: a card by its MAC, never the VM, which
/// the VM's page, the report's subject and JSON's `subject` name already.
#[test]
fn titles_name_their_card_and_never_their_vm() -> TestResult {
    let demo = demo_snapshot()?;
    let findings = diagnose(&demo);
    assert!(findings.iter().any(|f| matches!(f.subject, Subject::Nic { .. })));
    assert!(findings.iter().any(|f| matches!(f.subject, Subject::Vm { .. })));
    for finding in &findings {
        if let Some(vm) = finding.subject.vm() {
            assert!(!finding.title.contains(&format!("“{vm}”")), "{finding:#?}");
        }
        if let Subject::Nic { mac, .. } = &finding.subject {
            assert!(finding.title.contains(mac.as_str()), "the card is named: {finding:#?}");
        }
    }
    Ok(())
}

#[test]
fn the_demo_flags_what_its_readme_says() -> TestResult {
    let demo = demo_snapshot()?;
    assert_eq!(demo.domains.len(), 14);
    assert_eq!(demo.networks.len(), 5);
    let findings = libvirt_side(diagnose(&demo));
    let got: BTreeSet<_> = findings.iter().map(|f| key(f.severity, f.id, &f.subject)).collect();
    let mac =
        |vm: &str| -> Result<String, Error> { first_mac(&demo.domain(vm).ok_or(format!("vm {vm}"))?.config) };
    let k3s = demo.domain("k3s-node1").ok_or("k3s-node1")?;
    let k3s_mac = |index: usize| -> Result<String, Error> {
        Ok(k3s.interfaces().get(index).and_then(|nic| nic.mac.clone()).ok_or("k3s NIC")?)
    };
    let expected: BTreeSet<_> = [
        // win11: e1000, not virtio.
        key(Severity::Warning, "nic-model-not-virtio", &nic("win11", &mac("win11")?)),
        // ubuntu-server: cable unplugged.
        key(Severity::Error, "nic-link-down", &nic("ubuntu-server", &mac("ubuntu-server")?)),
        // debian12 (SLIRP) and archlinux (passt): user-mode.
        key(Severity::Warning, "nic-user-mode", &nic("debian12", &mac("debian12")?)),
        key(Severity::Warning, "nic-user-mode", &nic("archlinux", &mac("archlinux")?)),
        // kali-linux: "No IP address: network lab-nat is inactive"; lab-nat
        // must be started and autostarted.
        key(Severity::Error, "nic-network-inactive", &nic("kali-linux", &mac("kali-linux")?)),
        key(Severity::Error, "network-inactive", &network("lab-nat")),
        key(Severity::Warning, "network-not-autostarted", &network("lab-nat")),
        // nat-copy: default's subnet, set to start at boot, which it never
        // can while default runs.
        key(Severity::Error, "network-subnet-collision", &network("nat-copy")),
        // rocky9: no guest agent channel.
        key(Severity::Warning, "guest-agent-missing", &vm_subject("rocky9")),
        // home-assistant: bridged, NAT checks do not apply.
        key(Severity::Info, "nic-not-nat", &nic("home-assistant", &mac("home-assistant")?)),
        // k3s-node1: NIC 2 isolated, NIC 3 macvtap; NIC 1 healthy.
        key(Severity::Info, "nic-not-nat", &nic("k3s-node1", &k3s_mac(1)?)),
        key(Severity::Info, "nic-not-nat", &nic("k3s-node1", &k3s_mac(2)?)),
        // postgres-lab: isolated, no internet by design.
        key(Severity::Info, "nic-not-nat", &nic("postgres-lab", &mac("postgres-lab")?)),
        // opensuse-tumbleweed (shut off): routed-lab, not autostarted; its
        // card names no model, so it is libvirt's rtl8139.
        key(
            Severity::Warning,
            "nic-model-not-virtio",
            &nic("opensuse-tumbleweed", &mac("opensuse-tumbleweed")?),
        ),
        key(Severity::Info, "nic-not-nat", &nic("opensuse-tumbleweed", &mac("opensuse-tumbleweed")?)),
        key(Severity::Warning, "network-not-autostarted", &network("routed-lab")),
        // routed-lab also reserves opensuse-tumbleweed's address for a
        // deleted VM's card.
        key(Severity::Error, "dhcp-host-conflict", &network("routed-lab")),
        // debian13-office (a recorded guest): NetworkManager's static
        // profile from another network holds its card.
        key(
            Severity::Error,
            "guest-address-outside-subnet",
            &nic("debian13-office", &mac("debian13-office")?),
        ),
        // debian13-minimal (a recorded guest): no profile for its card, so
        // no address; the inspection names the cause.
        key(Severity::Error, "vm-no-ip", &vm_subject("debian13-minimal")),
        // postgres-lab-clone: a shut-off copy with postgres-lab's MAC, on
        // the same isolated network.
        key(Severity::Warning, "duplicate-mac", &nic("postgres-lab", &mac("postgres-lab")?)),
        key(Severity::Warning, "duplicate-mac", &nic("postgres-lab-clone", &mac("postgres-lab")?)),
        key(Severity::Info, "nic-not-nat", &nic("postgres-lab-clone", &mac("postgres-lab")?)),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, expected);
    assert_eq!(findings.len(), expected.len(), "a finding came twice: {findings:#?}");

    // fedora-workstation, the reference VM: nothing at all.
    assert!(!findings.iter().any(|f| f.subject.to_string().starts_with("vm fedora-workstation")));

    // The fixes the README asks for.
    let fix = |id: &str, subject: &Subject| {
        findings.iter().find(|f| f.id == id && &f.subject == subject).and_then(|f| f.fix.clone())
    };
    assert_eq!(
        fix("network-inactive", &network("lab-nat")),
        Some(Fix::StartNetwork { name: "lab-nat".into() })
    );
    assert_eq!(
        fix("network-not-autostarted", &network("lab-nat")),
        Some(Fix::AutostartNetwork { name: "lab-nat".into() })
    );
    assert_eq!(
        fix("nic-model-not-virtio", &nic("win11", &mac("win11")?)),
        Some(Fix::SetNicModel { vm: "win11".into(), mac: mac("win11")?, model: "virtio".into() })
    );
    assert_eq!(
        fix("nic-link-down", &nic("ubuntu-server", &mac("ubuntu-server")?)),
        Some(Fix::SetLinkUp { vm: "ubuntu-server".into(), mac: mac("ubuntu-server")? })
    );
    assert_eq!(
        fix("nic-user-mode", &nic("debian12", &mac("debian12")?)),
        Some(Fix::MoveNicToNetwork {
            vm: "debian12".into(),
            mac: mac("debian12")?,
            network: "default".into()
        })
    );
    assert_eq!(
        fix("guest-agent-missing", &vm_subject("rocky9")),
        Some(Fix::AddGuestAgentChannel { vm: "rocky9".into() })
    );
    Ok(())
}

#[test]
fn findings_come_most_severe_first() -> TestResult {
    let findings = diagnose(&demo_snapshot()?);
    let severities: Vec<Severity> = findings.iter().map(|f| f.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort();
    assert_eq!(severities, sorted);
    assert_eq!(severities.first(), Some(&Severity::Error));
    assert_eq!(severities.last(), Some(&Severity::Info));
    Ok(())
}

/// The guide's healthy setup: a virtio NIC with its link up on `default`
/// (active, autostarted), agent connected, an address from every source.
#[test]
fn a_healthy_vm_raises_no_error_and_no_warning() -> TestResult {
    let config = domain_xml("debian13-virt-manager.xml")?;
    let mac = first_mac(&config)?;
    let healthy = || -> Result<_, Error> {
        Ok(system(
            vec![running_with_ips(config.clone(), &[(&mac, "192.168.122.50/24")])?],
            vec![healthy_default()?],
        ))
    };
    // Host unknown (remote), and host read (the guide's workstation).
    for (name, snapshot) in
        [("host unknown", healthy()?), ("host read", with_host(healthy()?, workstation()?))]
    {
        let findings = libvirt_side(diagnose(&snapshot));
        assert_eq!(findings, vec![], "{name}");
    }
    // The same VM shut off: configuration checks only, still nothing.
    let shut_off =
        system(vec![vm(config.clone(), vmnet_doctor_core::DomainState::ShutOff)], vec![healthy_default()?]);
    assert_eq!(libvirt_side(diagnose(&with_host(shut_off, workstation()?))), vec![]);
    Ok(())
}

/// Every published id is kebab-case.
#[test]
fn published_ids_are_kebab_case() {
    let all = vmnet_doctor_core::rules::LIBVIRT_RULE_IDS
        .iter()
        .chain(vmnet_doctor_core::rules::CONNECTION_IDS)
        .chain(vmnet_doctor_core::rules::FIREWALL_RULE_IDS);
    for id in all {
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{id}");
        assert!(!id.starts_with('-') && !id.ends_with('-') && !id.contains("--"), "{id}");
    }
}

/// kali-linux's card on the stopped lab-nat network is the network's own
/// problem: one cause (start lab-nat), the card's finding under it; the
/// missing autostart has a fix of its own and stays a cause.
#[test]
fn the_demos_stopped_network_is_one_cause_with_its_card_under_it() -> TestResult {
    let demo = demo_snapshot()?;
    let findings = diagnose(&demo);
    let causes = explained_by(&demo, &findings);
    let position = |id: &str, subject: &Subject| {
        findings.iter().position(|f| f.id == id && f.subject == *subject).ok_or(format!("{id} {subject}"))
    };
    let network_inactive = position("network-inactive", &network("lab-nat"))?;
    let kali = first_mac(&demo.domain("kali-linux").ok_or("kali-linux")?.config)?;
    assert_eq!(causes[position("nic-network-inactive", &nic("kali-linux", &kali))?], Some(network_inactive));
    assert_eq!(causes[network_inactive], None);
    assert_eq!(causes[position("network-not-autostarted", &network("lab-nat"))?], None);
    // Everything else on the demo stands on its own.
    let explained: Vec<&str> =
        findings.iter().zip(&causes).filter(|(_, cause)| cause.is_some()).map(|(f, _)| f.id).collect();
    assert_eq!(explained, ["nic-network-inactive"]);
    Ok(())
}
