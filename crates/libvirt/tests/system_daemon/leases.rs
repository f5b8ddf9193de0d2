//! DHCP leases of a virtual network, from a real DHCP exchange with
//! libvirt's own dnsmasq on the guide's `default` network.
//!
//! The client is busybox's `udhcpc` in a network namespace whose veth peer
//! is plugged into `virbr0`, exactly where a guest's tap would be; dnsmasq
//! hands out a real lease and libvirt's leases helper records it, which is
//! what `virNetworkGetDHCPLeases` reads.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vmnet_doctor_core::{DhcpLease, Fact};
use vmnet_doctor_libvirt::{Hypervisor, SYSTEM_URI};

use super::TestResult;

const NAMESPACE: &str = "lease-client";
const HOST_END: &str = "vnet-lease";
const MAC: &str = "52:54:00:1e:a5:01";
const HOSTNAME: &str = "lease-probe";

/// The client's namespace and veth; removed again when dropped.
struct Client;

impl Client {
    fn plug() -> Result<Self, Box<dyn std::error::Error>> {
        run(&["ip", "netns", "add", NAMESPACE])?;
        let client = Self;
        run(&["ip", "link", "add", HOST_END, "type", "veth", "peer", "name", "eth0", "netns", NAMESPACE])?;
        run(&["ip", "link", "set", HOST_END, "master", "virbr0", "up"])?;
        in_namespace(&["ip", "link", "set", "eth0", "address", MAC, "up"])?;
        Ok(client)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Best effort: the namespace dies with the test's daemon anyway.
        let _ = run(&["ip", "link", "del", HOST_END]);
        let _ = run(&["ip", "netns", "del", NAMESPACE]);
    }
}

fn run(argv: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let output = Command::new(argv[0]).args(&argv[1..]).output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}: {}", argv.join(" "), String::from_utf8_lossy(&output.stderr)).into())
    }
}

/// Runs `argv` in the client's network namespace (`nsenter`: `ip netns
/// exec` remounts / and fails inside the build root's chroot).
fn in_namespace(argv: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let net = format!("--net=/run/netns/{NAMESPACE}");
    let mut full = vec!["nsenter", net.as_str()];
    full.extend_from_slice(argv);
    run(&full)
}

/// `default`'s leases, once the one for `MAC` is there: libvirt's leases
/// helper writes it just after dnsmasq's answer, not before.
fn leases_with_client() -> Result<Vec<DhcpLease>, Box<dyn std::error::Error>> {
    let hypervisor = Hypervisor::open_blocking(SYSTEM_URI)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let snapshot = hypervisor.snapshot_blocking()?;
        let default = snapshot.network("default").ok_or("no network 'default'")?;
        let Fact::Known(leases) = &default.leases else {
            return Err(format!("leases unknown: {:?}", default.leases).into());
        };
        if leases.iter().any(|lease| lease.mac.as_deref() == Some(MAC)) || Instant::now() > deadline {
            return Ok(leases.clone());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn a_real_dhcp_lease_is_in_the_networks_snapshot() -> TestResult {
    let _client = Client::plug()?;
    let hostname = format!("hostname:{HOSTNAME}");
    // -q: exit once leased; -n: fail if not; -s /bin/true: leave eth0 alone.
    in_namespace(&[
        "busybox",
        "udhcpc",
        "-i",
        "eth0",
        "-f",
        "-q",
        "-n",
        "-t",
        "5",
        "-T",
        "2",
        "-s",
        "/bin/true",
        "-x",
        &hostname,
    ])?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let leases = leases_with_client()?;
    let lease = leases
        .iter()
        .find(|lease| lease.mac.as_deref() == Some(MAC))
        .ok_or_else(|| format!("no lease for {MAC} in {leases:?}"))?;
    assert_eq!(lease.hostname.as_deref(), Some(HOSTNAME));
    assert_eq!(lease.prefix, 24);
    let std::net::IpAddr::V4(ip) = lease.ip else { return Err(format!("not IPv4: {}", lease.ip).into()) };
    // The guide's DHCP range, 192.168.122.2 – .254.
    assert_eq!(ip.octets()[..3], [192, 168, 122]);
    assert!((2..=254).contains(&ip.octets()[3]), "{ip}");
    // dnsmasq's default lease time under libvirt is one hour.
    let expiry = lease.expiry.ok_or("a lease without expiry")?;
    let remaining = u64::try_from(expiry)?.saturating_sub(now);
    assert!((3000..=3700).contains(&remaining), "expires in {remaining} s");
    Ok(())
}
