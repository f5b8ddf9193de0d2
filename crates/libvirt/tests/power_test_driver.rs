//! A VM's power (shutdown, force off, start) and the NIC actions a user
//! picks on the VM page, on libvirt's real test driver with the demo
//! hypervisor (`data/demo/`): each connection reads the file anew, so the
//! tests do not see each other's changes. The test driver shuts a VM down
//! at once and announces it with the same lifecycle event as qemu.

use std::error::Error;
use std::time::Duration;

use vmnet_doctor_core::{LinkState, parse_domain_xml};
use vmnet_doctor_libvirt::{DomainXml, Effect, FixStep, Hypervisor, LibvirtError, LibvirtFix, PowerAction};

mod support;

type TestResult = Result<(), Box<dyn Error>>;

/// Far above the test driver's event delivery.
const PATIENCE: Duration = Duration::from_secs(5);

async fn demo() -> Result<Hypervisor, LibvirtError> {
    let uri = support::demo_uri();
    Hypervisor::open(&uri).await
}

#[tokio::test]
async fn a_graceful_shutdown_is_seen_stopped_then_the_vm_starts_again() -> TestResult {
    let hypervisor = demo().await?;
    assert!(hypervisor.is_running("win11").await?);
    let mut watch = hypervisor.watch_for_stop("win11");
    hypervisor.power("win11", PowerAction::Shutdown).await?;
    tokio::time::timeout(PATIENCE, hypervisor.wait_until_stopped(&mut watch)).await??;
    assert!(!hypervisor.is_running("win11").await?);
    let snapshot = hypervisor.snapshot().await?;
    assert!(!snapshot.domain("win11").ok_or("no win11")?.state.is_active());

    hypervisor.power("win11", PowerAction::Start).await?;
    assert!(hypervisor.is_running("win11").await?);
    // Another VM was never touched.
    assert!(hypervisor.is_running("fedora-workstation").await?);
    Ok(())
}

#[tokio::test]
async fn waiting_for_a_vm_that_is_already_off_returns_at_once() -> TestResult {
    let hypervisor = demo().await?;
    let mut watch = hypervisor.watch_for_stop("opensuse-tumbleweed");
    assert!(!hypervisor.is_running("opensuse-tumbleweed").await?);
    tokio::time::timeout(PATIENCE, hypervisor.wait_until_stopped(&mut watch)).await??;
    Ok(())
}

#[tokio::test]
async fn waiting_for_a_running_vm_that_nobody_stops_does_not_return() -> TestResult {
    let hypervisor = demo().await?;
    let mut watch = hypervisor.watch_for_stop("win11");
    // Another VM's stop is not this VM's.
    hypervisor.power("rocky9", PowerAction::ForceOff).await?;
    let waited =
        tokio::time::timeout(Duration::from_millis(300), hypervisor.wait_until_stopped(&mut watch)).await;
    assert!(waited.is_err(), "win11 still runs: {waited:?}");
    Ok(())
}

#[test]
fn force_off_stops_at_once_and_start_boots_the_persistent_configuration() -> TestResult {
    let uri = support::demo_uri();
    let hypervisor = Hypervisor::open_blocking(&uri)?;
    let fix = LibvirtFix::SetNicModel {
        vm: "win11".into(),
        mac: "52:54:00:3f:72:1f".into(),
        model: "virtio".into(),
    };
    assert_eq!(hypervisor.apply_fix_blocking(fix).map_err(|f| f.error)?.effect, Effect::NextBoot);
    let running = parse_domain_xml(&hypervisor.domain_xml_blocking("win11", DomainXml::Running)?)?;
    assert_eq!(running.interfaces.first().and_then(|nic| nic.model.as_deref()), Some("e1000"));

    hypervisor.power_blocking("win11", PowerAction::ForceOff)?;
    assert!(!hypervisor.is_running_blocking("win11")?);
    hypervisor.power_blocking("win11", PowerAction::Start)?;
    // The restart is what puts the waiting change into effect.
    let running = parse_domain_xml(&hypervisor.domain_xml_blocking("win11", DomainXml::Running)?)?;
    assert_eq!(running.interfaces.first().and_then(|nic| nic.model.as_deref()), Some("virtio"));
    Ok(())
}

#[test]
fn power_errors_say_what_is_wrong() -> TestResult {
    let uri = support::demo_uri();
    let hypervisor = Hypervisor::open_blocking(&uri)?;
    let missing = hypervisor.power_blocking("no-such-vm", PowerAction::Shutdown);
    assert!(matches!(missing, Err(LibvirtError::NotFound { .. })), "{missing:?}");
    // Starting a VM that runs is refused by libvirt, in its own words.
    let again = hypervisor.power_blocking("win11", PowerAction::Start);
    assert!(
        matches!(&again, Err(error) if error.detail().is_some_and(|d| d.contains("already running"))),
        "{again:?}"
    );
    Ok(())
}

#[test]
fn disconnecting_the_cable_of_a_shut_off_vm_is_in_effect_now() -> TestResult {
    let uri = support::demo_uri();
    let hypervisor = Hypervisor::open_blocking(&uri)?;
    let vm = "opensuse-tumbleweed";
    let before = hypervisor.domain_xml_blocking(vm, DomainXml::Persistent)?;
    let mac =
        parse_domain_xml(&before)?.interfaces.first().and_then(|nic| nic.mac.clone()).ok_or("no MAC")?;
    let fix = LibvirtFix::SetLinkDown { vm: vm.into(), mac: mac.clone() };
    let preview = hypervisor.preview_fix_blocking(fix.clone())?;
    assert_eq!(preview.effect, Effect::Now);
    assert_eq!(preview.steps, [FixStep::RedefineVm { vm: vm.into() }]);
    let change = preview.changes.first().ok_or("no change")?;
    assert!(change.after.contains("<link state='down'/>"), "{}", change.after);

    hypervisor.apply_fix_blocking(fix.clone()).map_err(|f| f.error)?;
    let after = parse_domain_xml(&hypervisor.domain_xml_blocking(vm, DomainXml::Persistent)?)?;
    assert_eq!(after.interfaces.first().map(|nic| nic.link_state), Some(LinkState::Down));
    // Already down: nothing left to do; and up again restores it.
    assert!(hypervisor.preview_fix_blocking(fix)?.is_nothing_to_do());
    hypervisor.apply_fix_blocking(LibvirtFix::SetLinkUp { vm: vm.into(), mac }).map_err(|f| f.error)?;
    let restored = parse_domain_xml(&hypervisor.domain_xml_blocking(vm, DomainXml::Persistent)?)?;
    assert_eq!(restored.interfaces.first().map(|nic| nic.link_state), Some(LinkState::Up));
    Ok(())
}
