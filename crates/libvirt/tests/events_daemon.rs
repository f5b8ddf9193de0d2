//! libvirt's events from a real libvirtd, caused by `virsh` as a user
//! would: which changes libvirt announces, and that `Hypervisor::events()`
//! delivers them. Needs the daemon that `tests/libvirtd/with-libvirtd.sh`
//! starts in private namespaces, so ignored by a plain `cargo test`.
//!
//! Each test makes its own network or VM (QEMU under TCG without a disk
//! runs its firmware, enough for libvirt to treat the VM as running) and
//! removes it, however it ends.

use std::error::Error;
use std::process::Command;
use std::time::{Duration, Instant};

use tokio::sync::broadcast::Receiver;
use vmnet_doctor_core::LinkState;
use vmnet_doctor_libvirt::{DomainEvent, EventKind, Hypervisor, LibvirtEvent, NetworkEvent, SYSTEM_URI};

type TestResult = Result<(), Box<dyn Error>>;

/// The lab measured 15 ms to 440 ms (network teardown); far above that.
const PATIENCE: Duration = Duration::from_secs(10);

fn virsh(args: &[&str]) -> Result<String, Box<dyn Error>> {
    let output = Command::new("virsh").args(["-q", "-c", SYSTEM_URI]).args(args).output()?;
    if !output.status.success() {
        return Err(format!("virsh {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The next event about `name` (others' are skipped), or `None` when none
/// comes within `wait`.
async fn next_about(events: &mut Receiver<LibvirtEvent>, name: &str, wait: Duration) -> Option<LibvirtEvent> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(event)) if event.name == name => return Some(event),
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return None,
        }
    }
}

/// Waits until every kind in `kinds` has come for `name`, in any order.
async fn expect_all(events: &mut Receiver<LibvirtEvent>, name: &str, kinds: &[EventKind]) -> TestResult {
    let mut missing = kinds.to_vec();
    let mut seen = Vec::new();
    while !missing.is_empty() {
        let Some(event) = next_about(events, name, PATIENCE).await else {
            return Err(
                format!("{name}: still waiting for {missing:?} after {PATIENCE:?}; saw {seen:?}").into()
            );
        };
        missing.retain(|kind| *kind != event.kind);
        seen.push(event.kind);
    }
    Ok(())
}

async fn expect(events: &mut Receiver<LibvirtEvent>, name: &str, kind: EventKind) -> TestResult {
    expect_all(events, name, &[kind]).await
}

/// A file with `xml` for virsh, removed with the value.
struct XmlFile(std::path::PathBuf);

impl XmlFile {
    fn new(name: &str, xml: &str) -> Result<Self, Box<dyn Error>> {
        let path =
            std::env::temp_dir().join(format!("vmnet-doctor-events-{}-{name}.xml", std::process::id()));
        std::fs::write(&path, xml)?;
        Ok(Self(path))
    }

    fn path(&self) -> Result<&str, Box<dyn Error>> {
        Ok(self.0.to_str().ok_or("temporary path is not UTF-8")?)
    }
}

impl Drop for XmlFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Destroys and undefines a VM or network when the test ends.
struct Scratch {
    undo: Vec<[&'static str; 2]>,
    name: &'static str,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for [destroy, undefine] in &self.undo {
            let _ = virsh(&[destroy, self.name]);
            let _ = virsh(&[undefine, self.name]);
        }
    }
}

#[tokio::test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
async fn net_start_and_net_destroy_are_events() -> TestResult {
    let hypervisor = Hypervisor::open(SYSTEM_URI).await?;
    let mut events = hypervisor.events();
    let xml = "<network><name>ev-net</name><forward mode='nat'/><bridge name='virbr-ev' stp='on' delay='0'/>\
               <ip address='192.168.240.1' netmask='255.255.255.0'/></network>";
    let file = XmlFile::new("ev-net", xml)?;
    let _scratch = Scratch { undo: vec![["net-destroy", "net-undefine"]], name: "ev-net" };
    virsh(&["net-define", file.path()?])?;
    expect(&mut events, "ev-net", EventKind::Network(NetworkEvent::Defined)).await?;
    virsh(&["net-start", "ev-net"])?;
    expect(&mut events, "ev-net", EventKind::Network(NetworkEvent::Started)).await?;
    virsh(&["net-destroy", "ev-net"])?;
    expect(&mut events, "ev-net", EventKind::Network(NetworkEvent::Stopped)).await?;
    // The snapshot taken on the event shows what it announced.
    let snapshot = hypervisor.snapshot().await?;
    assert!(!snapshot.network("ev-net").ok_or("no network 'ev-net'")?.active);
    Ok(())
}

#[tokio::test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
async fn persistent_link_changes_are_events_and_live_only_ones_are_not() -> TestResult {
    const VM: &str = "ev-link";
    const MAC: &str = "52:54:00:e7:00:01";
    let hypervisor = Hypervisor::open(SYSTEM_URI).await?;
    let mut events = hypervisor.events();
    let nic = |state: &str| {
        format!(
            "<interface type='network'><mac address='{MAC}'/><source network='default'/>\
             <model type='virtio'/><link state='{state}'/></interface>"
        )
    };
    let domain = format!(
        "<domain type='qemu'><name>{VM}</name><memory unit='KiB'>131072</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='q35'>hvm</type></os><devices>\
         <emulator>/usr/bin/qemu-system-x86_64</emulator>{}\
         <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\
         </devices></domain>",
        nic("up")
    );
    let file = XmlFile::new(VM, &domain)?;
    let _scratch = Scratch { undo: vec![["destroy", "undefine"]], name: VM };
    virsh(&["define", file.path()?])?;
    expect(&mut events, VM, EventKind::Domain(DomainEvent::Defined)).await?;
    virsh(&["start", VM])?;
    // libvirt announces the agent channel (not yet connected) and the start.
    let started = [EventKind::Agent { connected: false }, EventKind::Domain(DomainEvent::Started)];
    expect_all(&mut events, VM, &started).await?;

    // What virt-manager does: the running VM and its definition at once.
    let down = XmlFile::new("ev-link-down", &nic("down"))?;
    virsh(&["update-device", VM, down.path()?, "--live", "--config"])?;
    expect(&mut events, VM, EventKind::Domain(DomainEvent::Defined)).await?;
    let shown = hypervisor.snapshot().await?;
    let vm = shown.domain(VM).ok_or("no VM")?;
    assert_eq!(vm.config.interface_by_mac(MAC).ok_or("no NIC")?.link_state, LinkState::Down);

    // `domif-setlink --config` changes the definition: announced.
    virsh(&["domif-setlink", VM, MAC, "up", "--config"])?;
    expect(&mut events, VM, EventKind::Domain(DomainEvent::Defined)).await?;

    // `domif-setlink` without --config changes only the running VM, and
    // libvirt (11.3) announces nothing: no event-driven client can see it.
    assert!(virsh(&["domif-getlink", VM, MAC])?.contains("down"));
    virsh(&["domif-setlink", VM, MAC, "up"])?;
    assert!(virsh(&["domif-getlink", VM, MAC])?.contains("up"), "the live link did change");
    let quiet = next_about(&mut events, VM, Duration::from_secs(2)).await;
    assert_eq!(quiet, None, "libvirt now announces a live-only link change: the UI can follow it");

    virsh(&["destroy", VM])?;
    expect(&mut events, VM, EventKind::Domain(DomainEvent::Stopped)).await?;
    Ok(())
}
