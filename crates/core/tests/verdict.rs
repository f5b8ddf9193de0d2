//! The one-line answer per VM on the demo hypervisor and on a host whose
//! firewall was read (`data/demo/README.md` says what each demo VM has).

#[path = "support/rules.rs"]
mod support;

use support::*;
use vmnet_doctor_core::{Finding, Fix, Severity, Snapshot, Subject, Verdict, diagnose, verdict};

/// The findings that concern `vm`, as its page shows them.
fn of_vm(snapshot: &Snapshot, vm: &str) -> Result<Vec<Finding>, Error> {
    let domain = snapshot.domain(vm).ok_or(format!("no vm {vm}"))?;
    let networks: Vec<&str> = domain.interfaces().iter().filter_map(|nic| nic.network_name()).collect();
    Ok(diagnose(snapshot).into_iter().filter(|f| f.subject.concerns_vm(vm, &networks)).collect())
}

#[test]
fn each_demo_vm_gets_one_answer() -> TestResult {
    let demo = demo_snapshot()?;
    // kali-linux: its network is stopped (the card's finding is under it),
    // and that network does not autostart: one other problem.
    let kali = of_vm(&demo, "kali-linux")?;
    let Verdict::Broken { cause, others } = verdict(&demo, &kali) else {
        panic!("kali-linux: {:?}", verdict(&demo, &kali));
    };
    assert_eq!((cause.id, others), ("network-inactive", 1));
    assert!(cause.fix.is_some());
    // win11: only its e1000 card, a warning.
    let win11 = of_vm(&demo, "win11")?;
    assert_eq!(verdict(&demo, &win11), Verdict::Works { warnings: 1 });
    // fedora-workstation: nothing, but the demo has no host to read.
    let fedora = of_vm(&demo, "fedora-workstation")?;
    assert_eq!(verdict(&demo, &fedora), Verdict::Healthy { host_checked: false, notes: 0 });
    // home-assistant: bridged to the LAN, a note, not a problem.
    let bridged = of_vm(&demo, "home-assistant")?;
    assert_eq!(verdict(&demo, &bridged), Verdict::Healthy { host_checked: false, notes: 1 });
    Ok(())
}

/// With the host read, a healthy VM says the host was checked; the
/// error with a fix comes before one without.
#[test]
fn a_checked_host_and_the_fix_first() -> TestResult {
    let snapshot = with_host(
        system(
            vec![vm(domain_xml("debian13-virt-manager.xml")?, vmnet_doctor_core::DomainState::ShutOff)],
            vec![healthy_default()?],
        ),
        workstation()?,
    );
    let findings = of_vm(&snapshot, "debian13")?;
    // The firewall read nothing (a note): the host was read all the same.
    assert_eq!(
        verdict(&snapshot, &findings),
        Verdict::Healthy { host_checked: true, notes: 1 },
        "{findings:#?}"
    );

    // Two errors, the first without a fix: the one with a fix is the
    // answer, the other counts among the others.
    let error = |id: &'static str, fix: Option<Fix>| Finding {
        id,
        severity: Severity::Error,
        subject: Subject::Host,
        title: id.to_owned(),
        explanation: String::new(),
        evidence: Vec::new(),
        fix,
    };
    let findings = [
        error("network-bridge-down", None),
        error("network-inactive", Some(Fix::StartNetwork { name: "default".to_owned() })),
    ];
    let Verdict::Broken { cause, others } = verdict(&snapshot, &findings) else {
        panic!("{:?}", verdict(&snapshot, &findings));
    };
    assert_eq!((cause.id, others), ("network-inactive", 1));
    Ok(())
}
