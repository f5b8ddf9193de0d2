//! Looking inside guests, against libvirt's test driver: it has no guest
//! agent, so every way in must fail as a guest-agent error naming the VM —
//! never a panic, never a guess — and a snapshot never looks inside.
//! Guests with real agents are the lab's (tests/lab/guest_checks.py).

use std::error::Error;
use std::time::Duration;

use vmnet_doctor_core::Fact;
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError, LibvirtFix};

type TestResult = Result<(), Box<dyn Error>>;

fn is_agent_error(result: &Result<impl std::fmt::Debug, LibvirtError>) -> bool {
    matches!(result, Err(LibvirtError::GuestAgent { vm, .. }) if vm == "test")
}

#[test]
fn a_snapshot_does_not_look_inside_guests() -> TestResult {
    let snapshot = Hypervisor::open_blocking("test:///default")?.snapshot_blocking()?;
    let domain = snapshot.domain("test").ok_or("no domain 'test'")?;
    assert!(
        matches!(&domain.guest, Fact::Unknown(reason) if reason.contains("not inspected")),
        "{:?}",
        domain.guest
    );
    Ok(())
}

#[test]
fn without_an_agent_inspection_and_programs_fail_as_agent_errors() -> TestResult {
    let hypervisor = Hypervisor::open_blocking("test:///default")?;
    let inspected = hypervisor.inspect_guest_blocking("test");
    assert!(is_agent_error(&inspected), "{inspected:?}");
    let ran = hypervisor.run_in_guest_blocking("test", vec!["true".into()], Duration::from_secs(2));
    assert!(is_agent_error(&ran), "{ran:?}");
    let missing = hypervisor.inspect_guest_blocking("no-such-vm");
    assert!(matches!(missing, Err(LibvirtError::NotFound { .. })), "{missing:?}");
    Ok(())
}

#[test]
fn guest_fixes_cannot_be_planned_without_an_agent() -> TestResult {
    let hypervisor = Hypervisor::open_blocking("test:///default")?;
    for fix in [
        LibvirtFix::CreateGuestDhcpProfile { vm: "test".into(), interface: "enp1s0".into() },
        LibvirtFix::RemoveGuestDhcpProfile { vm: "test".into() },
        LibvirtFix::ForceAptIpv4 { vm: "test".into() },
        LibvirtFix::RevertForceAptIpv4 { vm: "test".into(), previous: None },
        LibvirtFix::RevertDisableGuestIpv6 { vm: "test".into(), previous: None },
    ] {
        assert!(fix.is_in_guest() && fix.vm() == Some("test"));
        let planned = hypervisor.preview_fix_blocking(fix.clone());
        assert!(is_agent_error(&planned), "{fix:?}: {planned:?}");
        assert!(!fix.guest_commands().is_empty(), "{fix:?} has commands to type instead");
    }
    Ok(())
}
