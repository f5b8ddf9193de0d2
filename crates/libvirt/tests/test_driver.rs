//! The libvirt crate against libvirt's real test driver: the built-in
//! `test:///default` host and the demo hypervisor shipped in `data/demo/`.

use std::error::Error;

use vmnet_doctor_core::{
    AddressSource, DhcpLease, DomainState, Fact, ForwardMode, InterfaceSource, InterfaceType, LinkState,
    Snapshot,
};
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError};

mod support;

type TestResult = Result<(), Box<dyn Error>>;

fn demo() -> Result<Snapshot, LibvirtError> {
    Hypervisor::open_blocking(&support::demo_uri())?.snapshot_blocking()
}

#[test]
fn test_default_lists_its_running_domain_and_network() -> TestResult {
    let hypervisor = Hypervisor::open_blocking("test:///default")?;
    assert_eq!(hypervisor.uri(), "test:///default");
    let snapshot = hypervisor.snapshot_blocking()?;
    let domain = snapshot.domain("test").ok_or("no domain 'test'")?;
    assert_eq!(domain.state, DomainState::Running);
    let network = snapshot.network("default").ok_or("no network 'default'")?;
    assert!(network.active);
    Ok(())
}

#[tokio::test]
async fn the_async_api_answers_from_the_worker_thread() -> TestResult {
    let hypervisor = Hypervisor::open(&support::demo_uri()).await?;
    let (first, second) = tokio::join!(hypervisor.snapshot(), hypervisor.snapshot());
    assert_eq!(first?.domains.len(), second?.domains.len());
    Ok(())
}

#[test]
fn demo_shows_every_nic_situation_of_the_guide() -> TestResult {
    let snapshot = demo()?;
    assert_eq!(snapshot.domains.len(), 14, "{:?}", snapshot.unreadable);
    assert!(snapshot.unreadable.is_empty());
    let nic = |vm: &str| -> Result<_, Box<dyn Error>> {
        let domain = snapshot.domain(vm).ok_or(format!("no VM {vm}"))?;
        Ok(domain.interfaces().first().cloned().ok_or(format!("{vm} has no NIC"))?)
    };

    let healthy = nic("fedora-workstation")?;
    assert_eq!(healthy.model.as_deref(), Some("virtio"));
    assert!(matches!(&healthy.source, InterfaceSource::Network { network, .. } if network == "default"));
    assert_eq!(nic("win11")?.model.as_deref(), Some("e1000"));
    assert_eq!(nic("ubuntu-server")?.link_state, LinkState::Down);
    assert_eq!(nic("debian12")?.kind, InterfaceType::User);
    assert_eq!(nic("archlinux")?.backend.as_deref(), Some("passt"));
    assert!(
        matches!(&nic("kali-linux")?.source, InterfaceSource::Network { network, .. } if network == "lab-nat")
    );
    assert!(matches!(&nic("home-assistant")?.source, InterfaceSource::Bridge { bridge } if bridge == "br0"));

    let rocky = snapshot.domain("rocky9").ok_or("no rocky9")?;
    assert!(rocky.config.guest_agent_channel.is_none());
    let fedora = snapshot.domain("fedora-workstation").ok_or("no fedora")?;
    assert!(fedora.config.guest_agent_channel.is_some());

    let k3s = snapshot.domain("k3s-node1").ok_or("no k3s-node1")?;
    assert_eq!(k3s.interfaces().len(), 3);
    assert!(k3s.interfaces().iter().any(|n| matches!(n.source, InterfaceSource::Direct { .. })));

    let off = snapshot.domain("opensuse-tumbleweed").ok_or("no opensuse")?;
    assert_eq!(off.state, DomainState::ShutOff);
    assert!(off.addresses.is_empty(), "a shut-off VM is not asked for addresses");
    Ok(())
}

#[test]
fn demo_networks_get_their_intended_state() -> TestResult {
    let snapshot = demo()?;
    let state = |name: &str| -> Result<(bool, bool), Box<dyn Error>> {
        let net = snapshot.network(name).ok_or(format!("no network {name}"))?;
        Ok((net.active, net.autostart))
    };
    assert_eq!(state("default")?, (true, true));
    assert_eq!(state("isolated")?, (true, true));
    assert_eq!(state("lab-nat")?, (false, false));
    assert_eq!(state("routed-lab")?, (true, false));
    assert_eq!(state("nat-copy")?, (false, true));
    let default = snapshot.network("default").ok_or("no default")?;
    assert_eq!(default.config.forward, ForwardMode::Nat);
    let isolated = snapshot.network("isolated").ok_or("no isolated")?;
    assert_eq!(isolated.config.forward, ForwardMode::Isolated);
    Ok(())
}

/// The test driver has no DHCP server: leases are unknown, and say why,
/// rather than an empty list that would read as "no guest got an address".
#[test]
fn demo_leases_are_unknown_with_the_reason() -> TestResult {
    let snapshot = demo()?;
    let leases = |name: &str| -> Result<Fact<Vec<DhcpLease>>, Box<dyn Error>> {
        Ok(snapshot.network(name).ok_or(format!("no network {name}"))?.leases.clone())
    };
    let unsupported = Fact::Unknown("this libvirt driver does not report DHCP leases".to_owned());
    assert_eq!(leases("default")?, unsupported);
    assert_eq!(leases("isolated")?, unsupported);
    assert_eq!(leases("lab-nat")?, Fact::Unknown("the network is not running".to_owned()));
    Ok(())
}

#[test]
fn running_guests_report_addresses_by_mac() -> TestResult {
    let snapshot = demo()?;
    let fedora = snapshot.domain("fedora-workstation").ok_or("no fedora")?;
    let mac = fedora.interfaces().first().and_then(|n| n.mac.clone()).ok_or("no MAC")?;
    let addresses = fedora.addresses_for(&mac);
    assert!(!addresses.is_empty(), "{:?}", fedora.addresses);
    // Every source was asked and kept, answered or not.
    let sources: Vec<_> = fedora.addresses.iter().map(|(source, _)| *source).collect();
    assert_eq!(sources, [AddressSource::Agent, AddressSource::Lease, AddressSource::Arp]);
    // Without a channel the agent is not even asked.
    let rocky = snapshot.domain("rocky9").ok_or("no rocky9")?;
    assert!(matches!(rocky.addresses.first(), Some((AddressSource::Agent, Err(_)))));
    Ok(())
}

#[test]
fn a_missing_daemon_is_reported_as_such() {
    let error = Hypervisor::open_blocking("qemu:///system?socket=/nonexistent/libvirt-sock");
    assert!(matches!(error, Err(LibvirtError::DaemonNotRunning { .. })), "{error:?}");
}

#[test]
fn a_missing_test_file_is_an_error_with_libvirts_words() {
    match Hypervisor::open_blocking("test:///nonexistent/host.xml") {
        Err(LibvirtError::Other { detail }) => assert!(detail.contains("/nonexistent/host.xml"), "{detail}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn dropping_the_handle_ends_the_worker() -> TestResult {
    // The first connection starts libvirt's event-loop thread, which serves
    // the whole process and stays.
    drop(Hypervisor::open_blocking("test:///default")?);
    let before = thread_count()?;
    for _ in 0..5 {
        let hypervisor = Hypervisor::open_blocking("test:///default")?;
        hypervisor.snapshot_blocking()?;
    }
    // Threads end asynchronously after their channel closes.
    for _ in 0..50 {
        if thread_count()? <= before {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Err(format!("worker threads leaked: {} before, {} after", before, thread_count()?).into())
}

fn thread_count() -> Result<usize, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("Threads:")).ok_or("no Threads line")?;
    Ok(line.trim_start_matches("Threads:").trim().parse()?)
}
