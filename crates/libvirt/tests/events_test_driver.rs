//! libvirt's events through `Hypervisor::events()`, on libvirt's real test
//! driver. `test:///default` is one host shared by every connection of the
//! process, so a second connection here plays the user's `virsh`; a file
//! (the demo hypervisor) is a host of its own per connection, so there the
//! change goes through the `Hypervisor` itself.

use std::error::Error;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use virt::connect::Connect;
use vmnet_doctor_libvirt::{DomainEvent, EventKind, Hypervisor, LibvirtEvent, LibvirtFix, NetworkEvent};

mod support;

type TestResult = Result<(), Box<dyn Error>>;

/// Far above the test driver's delivery (a timer of 0 on the event loop).
const PATIENCE: Duration = Duration::from_secs(5);

/// `test:///default` is one host for the whole test process: one test at a
/// time changes it.
static SHARED_HOST: Mutex<()> = Mutex::const_new(());

/// The next event about `name`; others (e.g. another test's) are skipped.
async fn next_about(events: &mut Receiver<LibvirtEvent>, name: &str) -> Result<LibvirtEvent, Box<dyn Error>> {
    loop {
        let event = tokio::time::timeout(PATIENCE, events.recv())
            .await
            .map_err(|_| format!("no event about {name} within {PATIENCE:?}"))??;
        if event.name == name {
            return Ok(event);
        }
    }
}

#[tokio::test]
async fn another_connections_changes_arrive_as_events() -> TestResult {
    let _host = SHARED_HOST.lock().await;
    let hypervisor = Hypervisor::open("test:///default").await?;
    let mut events = hypervisor.events();
    let virsh = Connect::open(Some("test:///default"))?;

    let domain = virsh.lookup_domain_by_name("test")?;
    domain.destroy()?;
    let stopped = next_about(&mut events, "test").await?;
    assert_eq!(stopped.kind, EventKind::Domain(DomainEvent::Stopped));
    assert!(stopped.received.elapsed() < PATIENCE);
    domain.create()?;
    assert_eq!(next_about(&mut events, "test").await?.kind, EventKind::Domain(DomainEvent::Started));

    let network = virsh.lookup_network_by_name("default")?;
    network.destroy()?;
    assert_eq!(next_about(&mut events, "default").await?.kind, EventKind::Network(NetworkEvent::Stopped));
    // What the event announced is what a snapshot taken now shows.
    let snapshot = hypervisor.snapshot().await?;
    assert!(!snapshot.network("default").ok_or("no network 'default'")?.active);
    network.create()?;
    assert_eq!(next_about(&mut events, "default").await?.kind, EventKind::Network(NetworkEvent::Started));
    Ok(())
}

#[tokio::test]
async fn a_change_made_through_the_hypervisor_is_announced_too() -> TestResult {
    let uri = support::demo_uri();
    let hypervisor = Hypervisor::open(&uri).await?;
    let mut events = hypervisor.events();
    // `lab-nat` is the demo's network that is not running.
    hypervisor.apply_fix(LibvirtFix::StartNetwork { name: "lab-nat".into() }).await.map_err(|f| f.error)?;
    assert_eq!(next_about(&mut events, "lab-nat").await?.kind, EventKind::Network(NetworkEvent::Started));
    Ok(())
}

#[tokio::test]
async fn dropping_the_hypervisor_deregisters_its_callbacks() -> TestResult {
    let _host = SHARED_HOST.lock().await;
    for _ in 0..10 {
        let hypervisor = Hypervisor::open("test:///default").await?;
        let mut events = hypervisor.events();
        drop(hypervisor);
        // The channel closes only when libvirt has freed every callback's
        // sender, which it does on deregistration: a registration left
        // behind would keep its connection, and its sender, alive.
        loop {
            match tokio::time::timeout(PATIENCE, events.recv()).await {
                Err(_) => return Err("the event channel stayed open after the Hypervisor was dropped".into()),
                Ok(Err(RecvError::Closed)) => break,
                // Another test's change, delivered before the drop.
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
            }
        }
    }
    // The host still changes; nothing is left to call back into.
    let virsh = Connect::open(Some("test:///default"))?;
    let survivor = Hypervisor::open("test:///default").await?;
    let mut events = survivor.events();
    let domain = virsh.lookup_domain_by_name("test")?;
    domain.suspend()?;
    domain.resume()?;
    assert_eq!(next_about(&mut events, "test").await?.kind, EventKind::Domain(DomainEvent::Suspended));
    Ok(())
}
