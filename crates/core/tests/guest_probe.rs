//! The guest inspection's parsers on what real guests answered (the lab's
//! busybox guest and its Debian 13 guest with NetworkManager; see
//! tests/fixtures/guest/README.md): the probe script's sections, the
//! agent's guest-get-osinfo and guest-info.

#[path = "support/guest.rs"]
mod support;

use std::net::IpAddr;

use support::{Error, answer, output};
use vmnet_doctor_core::guest::{AgentInfo, GuestOs, GuestRoute, NetworkStack, ServiceState, parse_probe};

fn route(ipv6: bool, gateway: &str, dev: &str) -> Result<GuestRoute, Error> {
    Ok(GuestRoute { ipv6, gateway: Some(gateway.parse::<IpAddr>()?), dev: dev.to_owned() })
}

#[test]
fn the_busybox_guest_has_no_network_stack_and_busybox_tools() -> Result<(), Error> {
    let network = parse_probe(&output("busybox-probe")?.stdout);
    assert_eq!(network.stacks(), []);
    assert_eq!(network.network_manager, ServiceState::Absent);
    assert_eq!(network.networkd, ServiceState::Absent);
    assert!(network.profiles.known().is_none());
    for tool in ["ping", "nslookup", "wget", "timeout"] {
        assert!(network.has_tool(tool) && network.is_busybox(tool), "{tool}: {network:?}");
    }
    assert!(!network.has_tool("curl") && !network.has_tool("getent") && !network.has_tool("apt-get"));
    assert_eq!(network.default_routes, [route(false, "192.168.122.1", "enp1s0")?]);
    assert_eq!(network.ipv4_gateway(), Some("192.168.122.1".parse()?));
    assert_eq!(network.ipv6_disabled, Some(false));
    assert_eq!(network.apt_force_ipv4, None);
    Ok(())
}

#[test]
fn an_ifupdown_stanza_for_another_name_is_read() -> Result<(), Error> {
    let network = parse_probe(&output("busybox-probe-ifupdown")?.stdout);
    assert_eq!(network.stacks(), [NetworkStack::Ifupdown]);
    let stanzas: Vec<(&str, &str, &str)> =
        network.ifupdown.iter().map(|i| (i.name.as_str(), i.family.as_str(), i.method.as_str())).collect();
    assert_eq!(stanzas, [("ens3", "inet", "dhcp")]);
    Ok(())
}

#[test]
fn the_debian_guest_runs_network_manager_with_its_profiles() -> Result<(), Error> {
    let stale = parse_probe(&output("debian13-probe-stale-profile")?.stdout);
    assert_eq!(stale.stacks(), [NetworkStack::NetworkManager]);
    assert_eq!(stale.networkd, ServiceState::Stopped);
    assert!(stale.busybox.is_empty());
    let profiles = stale.profiles.known().ok_or("profiles")?;
    let summary: Vec<(&str, &str, Option<&str>, Option<&str>)> = profiles
        .iter()
        .map(|p| (p.name.as_str(), p.kind.as_str(), p.interface_name.as_deref(), p.device.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("lo", "loopback", Some("lo"), Some("lo")),
            ("Wired connection 1", "802-3-ethernet", Some("ens3"), None)
        ]
    );
    assert!(profiles.iter().all(|p| p.mac.is_none()));
    // No address, so no route at all.
    assert_eq!(stale.default_routes, []);
    assert_eq!(stale.apt_force_ipv4, Some(false));

    let fixed = parse_probe(&output("debian13-probe")?.stdout);
    let kvm =
        fixed.profiles.known().into_iter().flatten().find(|p| p.name == "kvm-dhcp").ok_or("kvm-dhcp")?;
    assert_eq!((kvm.interface_name.as_deref(), kvm.device.as_deref()), (Some("enp1s0"), Some("enp1s0")));
    assert_eq!(fixed.default_routes, [route(false, "192.168.122.1", "enp1s0")?]);
    Ok(())
}

/// Each profile's IPv4 method, addresses, gateway and autoconnect
/// priority: a static profile that NetworkManager picked over a DHCP one.
#[test]
fn a_static_profile_is_read_with_its_rank() -> Result<(), Error> {
    let network = parse_probe(&output("debian13-probe-static-profile")?.stdout);
    let profiles = network.profiles.known().ok_or("profiles")?;
    let summary: Vec<_> = profiles
        .iter()
        .filter(|p| p.is_ethernet())
        .map(|p| {
            (
                p.name.as_str(),
                p.ipv4_method.as_deref(),
                p.ipv4_addresses.clone(),
                p.ipv4_gateway.as_deref(),
                p.autoconnect_priority,
                p.device.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "office",
                Some("manual"),
                vec!["192.168.1.50/24".to_owned()],
                Some("192.168.1.1"),
                10,
                Some("enp1s0")
            ),
            ("Wired connection 2", Some("auto"), vec![], None, 0, None),
        ]
    );
    let office = profiles.iter().find(|p| p.name == "office").ok_or("office")?;
    assert!(office.ipv4_not_dhcp() && office.may_activate_on("enp1s0", "52:54:00:1a:b0:02"));
    assert!(!office.may_activate_on("enp2s0", "52:54:00:1a:b0:02"));
    // No profile at all but the loopback.
    let none = parse_probe(&output("debian13-probe-no-profile")?.stdout);
    assert!(!none.profiles.known().ok_or("profiles")?.iter().any(|p| p.is_ethernet()));
    // Captured before the probe read these: unknown, not "not DHCP".
    let older = parse_probe(&output("debian13-probe-stale-profile")?.stdout);
    assert!(
        older
            .profiles
            .known()
            .ok_or("profiles")?
            .iter()
            .all(|p| p.ipv4_method.is_none() && !p.ipv4_not_dhcp())
    );
    Ok(())
}

#[test]
fn ipv6_default_routes_and_apt_force_ipv4_are_read() -> Result<(), Error> {
    let broken = parse_probe(&output("debian13-probe-ipv6")?.stdout);
    let v6: Vec<&GuestRoute> = broken.ipv6_default_routes().collect();
    // The kernel's own unreachable defaults on lo are not ways out.
    assert_eq!(v6, [&route(true, "fe80::1", "enp1s0")?]);
    assert_eq!(broken.apt_force_ipv4, Some(false));
    let forced = parse_probe(&output("debian13-probe-ipv6-force-ipv4")?.stdout);
    assert_eq!(forced.apt_force_ipv4, Some(true));
    Ok(())
}

#[test]
fn osinfo_names_the_distribution_when_the_guest_has_os_release() -> Result<(), Error> {
    let debian = GuestOs::from_agent(&answer("debian13-osinfo")?);
    assert_eq!(debian.id.as_deref(), Some("debian"));
    assert_eq!(debian.pretty_name.as_deref(), Some("Debian GNU/Linux 13 (trixie)"));
    assert_eq!(debian.version_id.as_deref(), Some("13"));
    let busybox = GuestOs::from_agent(&answer("busybox-osinfo")?);
    assert_eq!((busybox.id, busybox.pretty_name), (None, None));
    assert!(busybox.kernel_release.is_some_and(|kernel| kernel.contains("deb13")));
    Ok(())
}

#[test]
fn guest_info_tells_a_filtered_agent_from_a_full_one() -> Result<(), Error> {
    let full = AgentInfo::from_agent(&answer("debian13-info")?);
    assert!(full.allows_exec() && full.disabled.is_empty(), "{full:?}");
    let filtered = AgentInfo::from_agent(&answer("busybox-info-allow-rpcs")?);
    assert!(!filtered.allows_exec());
    assert!(filtered.disabled.iter().any(|command| command == "guest-exec"));
    assert!(filtered.allows("guest-network-get-interfaces") && filtered.allows("guest-get-osinfo"));
    Ok(())
}
