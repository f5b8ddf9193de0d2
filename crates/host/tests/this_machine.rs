//! `read_host_facts` on the machine the tests run on: it must read the real
//! /proc and /sys without failing, whatever this machine is. As root (the
//! project's dev root), the root-only facts are read too.

use vmnet_doctor_core::host::{Fact, FirewallBackend};
use vmnet_doctor_host::{NEEDS_ROOT, command, read_host_facts};

#[test]
fn reads_this_machine() {
    let facts = read_host_facts(&["default".to_owned()]);
    println!("{facts:#?}");
    assert!(matches!(facts.ipv4_forward, Fact::Known(_)), "{:?}", facts.ipv4_forward);
    assert!(matches!(facts.routes, Fact::Known(_)), "{:?}", facts.routes);
    match &facts.links {
        Fact::Known(links) => assert!(links.iter().any(|link| link.name == "lo"), "{links:?}"),
        // A machine without iproute2 says why instead.
        Fact::Unknown(why) => assert!(why.contains("ip"), "{why}"),
    }
    // libvirt's network.conf as this machine has it: no file is libvirt's
    // built-in choice; a file is parsed, and only a bad one is unknown.
    let expected_backend = match std::fs::read_to_string("/etc/libvirt/network.conf") {
        Ok(text) => vmnet_doctor_host::libvirt::parse_firewall_backend(&text).ok(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Some(FirewallBackend::Default),
        Err(_) => None,
    };
    match (&facts.libvirt_firewall_backend, expected_backend) {
        (Fact::Known(backend), Some(expected)) => assert_eq!(*backend, expected),
        (Fact::Unknown(why), None) => assert!(why.contains("/etc/libvirt/network.conf"), "{why}"),
        (read, expected) => panic!("read {read:?}, the file says {expected:?}"),
    }
    // Without a system bus (the dev root has none) firewalld is unknown, with the reason.
    if let Fact::Unknown(why) = &facts.firewalld {
        assert!(!why.is_empty());
    }
    let root = command::effective_uid(std::path::Path::new("/proc")) == Some(0);
    match &facts.netfilter {
        Fact::Known(netfilter) => assert!(root && netfilter.nft_json.is_some()),
        Fact::Unknown(why) => assert!(root != why.starts_with(NEEDS_ROOT), "root: {root}, {why}"),
    }
    assert!(matches!(facts.dnsmasq, Fact::Known(_)), "{:?}", facts.dnsmasq);
}

/// The GUI reads the facts on tokio's blocking pool
/// (`spawn_blocking`); firewalld is asked on the shared bus connection,
/// whose runtime is its own thread's and must not clash with the caller's.
#[test]
fn reads_from_a_tokio_blocking_thread() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let facts = runtime
        .block_on(async { tokio::task::spawn_blocking(|| read_host_facts(&["default".to_owned()])).await })?;
    assert!(matches!(facts.ipv4_forward, Fact::Known(_)));
    Ok(())
}

/// Asking the helper (what a normal user's read does) from tokio's
/// blocking pool: the shared bus connection's runtime must not clash with
/// the caller's. Without a helper (or a system bus) the answer says
/// why, after "needs the helper or root".
#[test]
fn asks_the_helper_from_a_tokio_blocking_thread() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let answer =
        runtime.block_on(async { tokio::task::spawn_blocking(vmnet_doctor_host::helper::inspect).await })?;
    match answer {
        // A helper answered: its forwarding value is this machine's.
        Ok(report) => {
            let here = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")?;
            assert_eq!(report.ipv4_forward.ok(), Some(here.trim()), "{report:?}");
        }
        Err(why) => assert!(why.starts_with(NEEDS_ROOT) && why.len() > NEEDS_ROOT.len(), "{why}"),
    }
    Ok(())
}
