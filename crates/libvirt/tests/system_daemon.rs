//! The libvirt crate against a real libvirtd (qemu and network drivers).
//! These need the daemon that `tests/libvirtd/with-libvirtd.sh` starts in
//! private namespaces, so they are ignored by a plain `cargo test`;
//! `./dev test` runs them inside that wrapper with `--ignored`.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;

use vmnet_doctor_core::{DomainState, ForwardMode, InterfaceSource};
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError, SESSION_URI, SYSTEM_URI};

// Every libvirt fix, made for real on this daemon.
#[path = "system_daemon/fixes.rs"]
mod fixes;
// A VM's shutdown, force off and start.
#[path = "system_daemon/power.rs"]
mod power;
// DHCP leases from a real client on the `default` network.
#[path = "system_daemon/leases.rs"]
mod leases;

type TestResult = Result<(), Box<dyn Error>>;

const NEEDS_DAEMON: &str = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh";

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn system_connection_reads_the_guides_default_network() -> TestResult {
    let hypervisor = Hypervisor::open_blocking(SYSTEM_URI)?;
    assert_eq!(hypervisor.uri(), SYSTEM_URI);
    let snapshot = hypervisor.snapshot_blocking()?;
    let default = snapshot.network("default").ok_or("no network 'default'")?;
    assert!(default.active && default.autostart && default.persistent);
    assert_eq!(default.config.forward, ForwardMode::Nat);
    assert_eq!(default.config.bridge_name(), Some("virbr0"));
    let ip = default.config.ips.first().ok_or("no <ip>")?;
    assert_eq!(ip.address, IpAddr::V4(Ipv4Addr::new(192, 168, 122, 1)));
    assert_eq!(ip.prefix, Some(24));
    let range = ip.dhcp_ranges.first().ok_or("no DHCP range")?;
    assert_eq!(range.start, IpAddr::V4(Ipv4Addr::new(192, 168, 122, 2)));
    assert_eq!(range.end, IpAddr::V4(Ipv4Addr::new(192, 168, 122, 254)));
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn system_connection_reads_a_shut_off_vm() -> TestResult {
    let snapshot = Hypervisor::open_blocking(SYSTEM_URI)?.snapshot_blocking()?;
    let vm = snapshot.domain("debian13").ok_or("no VM 'debian13'")?;
    assert_eq!(vm.state, DomainState::ShutOff);
    assert!(vm.persistent);
    assert!(vm.addresses.is_empty(), "a shut-off VM is not asked for addresses");
    assert!(vm.config.guest_agent_channel.is_some());
    let nic = vm.interfaces().first().ok_or("no NIC")?;
    assert!(matches!(&nic.source, InterfaceSource::Network { network, .. } if network == "default"));
    assert_eq!(nic.model.as_deref(), Some("virtio"));
    assert_eq!(nic.mac.as_deref(), Some("52:54:00:6b:3c:58"));
    Ok(())
}

/// Set in the re-run of a test as an unprivileged user.
const AS_USER: &str = "VMNET_DOCTOR_AS_UNPRIVILEGED";

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn session_connection_opens_the_users_own_daemon() -> TestResult {
    if std::env::var_os(AS_USER).is_none() {
        return rerun_as_nobody("session_connection_opens_the_users_own_daemon");
    }
    // libvirt starts a per-user daemon for qemu:///session on demand.
    let hypervisor = Hypervisor::open_blocking(SESSION_URI)?;
    assert_eq!(hypervisor.uri(), SESSION_URI);
    let snapshot = hypervisor.snapshot_blocking()?;
    assert!(snapshot.domain("debian13").is_none(), "the session must not see the system's VMs");
    Ok(())
}

/// A user outside the libvirt group, with no polkit agent to ask for a
/// password, is refused, and the error says so.
#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn an_unprivileged_user_gets_permission_denied() -> TestResult {
    if std::env::var_os(AS_USER).is_none() {
        return rerun_as_nobody("an_unprivileged_user_gets_permission_denied");
    }
    match Hypervisor::open_blocking(SYSTEM_URI) {
        // libvirt 11.3: "authentication unavailable: no polkit agent
        // available to authenticate action 'org.libvirt.unix.manage'".
        Err(LibvirtError::PermissionDenied { detail, .. }) => assert!(detail.contains("polkit"), "{detail}"),
        other => panic!("expected permission denied, got {other:?}"),
    }
    Ok(())
}

/// Runs one test of this binary again as `nobody`, with a HOME and runtime
/// directory of its own.
fn rerun_as_nobody(test: &str) -> TestResult {
    let base = std::env::temp_dir().join(format!("vmnet-doctor-nobody-{test}"));
    let (home, runtime) = (base.join("home"), base.join("runtime"));
    for dir in [&base, &home, &runtime] {
        let made = Command::new("install")
            .args(["-d", "-o", "65534", "-g", "65534", "-m", "0700"])
            .arg(dir)
            .status()?;
        assert!(made.success(), "could not create {}", dir.display());
    }
    let status = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(std::env::current_exe()?)
        .args(["--ignored", "--exact", test, "--nocapture"])
        .env(AS_USER, "1")
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .status()?;
    assert!(status.success(), "{NEEDS_DAEMON}; the run as nobody failed: {status}");
    Ok(())
}
