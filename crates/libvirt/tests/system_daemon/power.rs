//! A VM's power on the real daemon: the graceful shutdown that a guest may
//! ignore, the forced power-off after it, and the start that brings a
//! change waiting for the next boot. The VM has no disk: QEMU under TCG
//! runs its firmware, which has no ACPI handler, so it ignores the
//! shutdown request exactly as a hung or busy guest does.

use std::time::Duration;

use vmnet_doctor_libvirt::{Effect, Hypervisor, LibvirtFix, PowerAction, SYSTEM_URI};

use super::fixes::{Scratch, virsh};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Far above the daemon's event delivery and QEMU's start-up under TCG.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
async fn an_ignored_shutdown_is_followed_by_force_off_and_start() -> TestResult {
    let mut scratch = Scratch::default();
    let mac = "52:54:00:f1:00:09";
    scratch.define_vm(
        "pw-restart",
        &format!(
            "<interface type='network'><mac address='{mac}'/><source network='default'/>\
             <model type='e1000'/></interface>"
        ),
    )?;
    virsh(&["start", "pw-restart"])?;
    let hypervisor = Hypervisor::open(SYSTEM_URI).await?;

    // A new model waits for the next boot of the running VM.
    let fix = LibvirtFix::SetNicModel { vm: "pw-restart".into(), mac: mac.into(), model: "virtio".into() };
    let report = hypervisor.apply_fix(fix).await.map_err(|failure| failure.error)?;
    assert_eq!(report.effect, Effect::NextBoot);

    let mut watch = hypervisor.watch_for_stop("pw-restart");
    hypervisor.power("pw-restart", PowerAction::Shutdown).await?;
    let ignored =
        tokio::time::timeout(Duration::from_secs(3), hypervisor.wait_until_stopped(&mut watch)).await;
    assert!(ignored.is_err(), "the firmware cannot have shut down: {ignored:?}");
    assert!(virsh(&["domstate", "pw-restart"])?.contains("running"));

    hypervisor.power("pw-restart", PowerAction::ForceOff).await?;
    tokio::time::timeout(PATIENCE, hypervisor.wait_until_stopped(&mut watch)).await??;
    assert!(virsh(&["domstate", "pw-restart"])?.contains("shut off"));

    hypervisor.power("pw-restart", PowerAction::Start).await?;
    assert!(hypervisor.is_running("pw-restart").await?);
    assert!(virsh(&["domiflist", "pw-restart"])?.contains("virtio"), "the new model is in effect");
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn disconnecting_a_running_vms_cable_is_in_effect_now() -> TestResult {
    let mut scratch = Scratch::default();
    let mac = "52:54:00:f1:00:0a";
    scratch.define_vm(
        "pw-unplug",
        &format!(
            "<interface type='network'><mac address='{mac}'/><source network='default'/>\
             <model type='virtio'/></interface>"
        ),
    )?;
    virsh(&["start", "pw-unplug"])?;
    let fix = LibvirtFix::SetLinkDown { vm: "pw-unplug".into(), mac: mac.into() };
    let report =
        Hypervisor::open_blocking(SYSTEM_URI)?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!(report.effect, Effect::Now);
    assert!(virsh(&["domif-getlink", "pw-unplug", mac])?.contains("down"));
    assert!(virsh(&["dumpxml", "--inactive", "pw-unplug"])?.contains("<link state='down'/>"));
    Ok(())
}
