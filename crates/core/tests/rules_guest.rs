//! The guest-side rules on the lab's real guests (tests/fixtures/guest/):
//! guest-profile-interface-missing (NetworkManager's profile bound to ens3
//! on a guest whose card is enp1s0; ifupdown's stanza, a systemd-networkd
//! file and netplan's configuration for ens3) and
//! guest-ipv6-unrouted with the guest's own IPv6 default route and its two
//! remedies. Each VM is the lab's own domain XML, running with its agent
//! connected (set by hand: QEMU's live XML), on the guide's `default`.

#[path = "support/guest.rs"]
mod guest;
#[path = "support/rules.rs"]
mod support;

use guest::{busybox, debian, facts, interfaces, lab_guest};
use support::{Error, find, healthy_default, nic, of, system};
use vmnet_doctor_core::{Fact, Fix, Severity, Subject, diagnose};

const DEBIAN_MAC: &str = "52:54:00:1a:b0:02";
const BUSYBOX_MAC: &str = "52:54:00:1a:b0:01";
const PROFILE: &str = "guest-profile-interface-missing";
const IPV6: &str = "guest-ipv6-unrouted";

#[test]
fn a_profile_bound_to_a_missing_name_leaves_the_card_without_an_address() -> Result<(), Error> {
    let snapshot = system(
        vec![debian("debian13-interfaces-unconfigured", "debian13-probe-stale-profile")?],
        vec![healthy_default()?],
    );
    let findings = diagnose(&snapshot);
    assert_eq!(of(&findings, PROFILE), [(Severity::Error, nic("lab-debian", DEBIAN_MAC))]);
    let finding = find(&findings, PROFILE)?;
    assert_eq!(
        finding.fix,
        Some(Fix::CreateGuestDhcpProfile { vm: "lab-debian".into(), interface: "enp1s0".into() })
    );
    assert!(finding.explanation.contains("ens3") && finding.explanation.contains("enp1s0"), "{finding:#?}");
    assert!(
        finding
            .evidence
            .iter()
            .any(|e| e.what == "NetworkManager profile “Wired connection 1”" && e.value.contains("ens3")),
        "{finding:#?}"
    );
    // vm-no-ip names it as the reason the card has no address.
    let no_ip = find(&findings, "vm-no-ip")?;
    assert!(format!("{no_ip:?}").contains(PROFILE), "{no_ip:#?}");
    Ok(())
}

#[test]
fn with_kvm_dhcp_up_the_stale_profile_is_only_left_over() -> Result<(), Error> {
    let snapshot = system(vec![debian("debian13-interfaces", "debian13-probe")?], vec![healthy_default()?]);
    let findings = diagnose(&snapshot);
    assert_eq!(of(&findings, PROFILE), [(Severity::Info, Subject::Vm { name: "lab-debian".into() })]);
    assert_eq!(find(&findings, PROFILE)?.fix, None);
    Ok(())
}

#[test]
fn without_the_inspection_or_the_agent_the_rule_is_silent() -> Result<(), Error> {
    let mut uninspected = debian("debian13-interfaces-unconfigured", "debian13-probe-stale-profile")?;
    uninspected.guest = Fact::Unknown("the guest was not inspected".into());
    let mut no_agent = debian("debian13-interfaces-unconfigured", "debian13-probe-stale-profile")?;
    no_agent.addresses.retain(|(source, _)| *source != vmnet_doctor_core::AddressSource::Agent);
    for domain in [uninspected, no_agent] {
        let findings = diagnose(&system(vec![domain], vec![healthy_default()?]));
        assert_eq!(of(&findings, PROFILE), []);
    }
    Ok(())
}

#[test]
fn an_ifupdown_stanza_for_a_missing_name_is_flagged_without_an_automatic_fix() -> Result<(), Error> {
    // The busybox guest with /etc/network/interfaces made for ens3: its
    // card has an address from udhcpc, so the stanza is only left over.
    let snapshot = system(vec![busybox("busybox-probe-ifupdown")?], vec![healthy_default()?]);
    let findings = diagnose(&snapshot);
    assert_eq!(of(&findings, PROFILE), [(Severity::Info, Subject::Vm { name: "lab-guest".into() })]);
    let finding = find(&findings, PROFILE)?;
    assert!(
        finding.title.contains("/etc/network/interfaces") && finding.title.contains("ens3"),
        "{finding:#?}"
    );
    assert_eq!(finding.fix, None);
    // Without an IPv4 address on its card it is the reason for it.
    let mut unconfigured = interfaces("busybox-interfaces")?;
    for iface in &mut unconfigured {
        iface.addresses.retain(|address| !address.ip.is_ipv4() || iface.name == "lo");
    }
    let facts = facts("busybox-info", "busybox-osinfo", "busybox-probe-ifupdown")?;
    let domain = lab_guest("tests/lab/guest.xml", unconfigured, Fact::Known(Box::new(facts)))?;
    let findings = diagnose(&system(vec![domain], vec![healthy_default()?]));
    assert_eq!(of(&findings, PROFILE), [(Severity::Error, nic("lab-guest", BUSYBOX_MAC))]);
    let finding = find(&findings, PROFILE)?;
    assert_eq!(finding.fix, None, "no NetworkManager: the explanation says what to edit");
    assert!(finding.explanation.contains("sudo ifup enp1s0"), "{finding:#?}");
    Ok(())
}

#[test]
fn a_networkd_file_matching_a_missing_name_is_flagged_with_what_to_edit() -> Result<(), Error> {
    // NetworkManager stopped, systemd-networkd running with
    // /etc/systemd/network/20-wired.network for ens3; the card (enp1s0)
    // has no address, as the agent reported with the stale NM profile.
    let snapshot = system(
        vec![debian("debian13-interfaces-unconfigured", "debian13-probe-networkd-stale")?],
        vec![healthy_default()?],
    );
    let findings = diagnose(&snapshot);
    assert_eq!(of(&findings, PROFILE), [(Severity::Error, nic("lab-debian", DEBIAN_MAC))]);
    let finding = find(&findings, PROFILE)?;
    assert!(finding.title.contains("systemd-networkd") && finding.title.contains("ens3"), "{finding:#?}");
    assert!(
        finding.explanation.contains("/etc/systemd/network/20-wired.network")
            && finding.explanation.contains("Name=enp1s0")
            && finding.explanation.contains("networkctl reload"),
        "{finding:#?}"
    );
    assert_eq!(finding.fix, None, "no automatic fix for networkd: the explanation says what to edit");
    Ok(())
}

#[test]
fn netplan_rendered_for_networkd_is_flagged_as_netplan() -> Result<(), Error> {
    // /etc/netplan/01-netcfg.yaml for ens3, rendered by `netplan generate`
    // into /run/systemd/network/10-netplan-ens3.network.
    let snapshot = system(
        vec![debian("debian13-interfaces-unconfigured", "debian13-probe-netplan-stale")?],
        vec![healthy_default()?],
    );
    let findings = diagnose(&snapshot);
    assert_eq!(of(&findings, PROFILE), [(Severity::Error, nic("lab-debian", DEBIAN_MAC))]);
    let finding = find(&findings, PROFILE)?;
    assert!(finding.title.starts_with("netplan") && finding.title.contains("ens3"), "{finding:#?}");
    assert!(finding.explanation.contains("sudo netplan apply"), "{finding:#?}");
    assert!(
        finding.evidence.iter().any(|e| e.what.contains("/run/systemd/network/10-netplan-ens3.network")),
        "{finding:#?}"
    );
    // Once the guest's card matches, nothing is left to say.
    let mut matching = debian("debian13-interfaces", "debian13-probe-netplan-stale")?;
    for (_, result) in &mut matching.addresses {
        if let Ok(interfaces) = result {
            for iface in interfaces.iter_mut().filter(|iface| iface.name == "enp1s0") {
                iface.name = "ens3".into();
            }
        }
    }
    assert_eq!(of(&diagnose(&system(vec![matching], vec![healthy_default()?])), PROFILE), []);
    Ok(())
}

#[test]
fn the_busybox_guest_as_it_is_has_no_guest_findings() -> Result<(), Error> {
    let findings = diagnose(&system(vec![busybox("busybox-probe")?], vec![healthy_default()?]));
    assert_eq!(of(&findings, PROFILE), []);
    assert_eq!(of(&findings, IPV6), []);
    Ok(())
}

#[test]
fn an_ipv6_default_route_is_evidence_and_either_remedy_ends_the_finding() -> Result<(), Error> {
    let broken = debian("debian13-interfaces-ipv6", "debian13-probe-ipv6")?;
    let findings = diagnose(&system(vec![broken.clone()], vec![healthy_default()?]));
    assert_eq!(of(&findings, IPV6), [(Severity::Warning, nic("lab-debian", DEBIAN_MAC))]);
    let finding = find(&findings, IPV6)?;
    let evidence: Vec<(&str, &str)> =
        finding.evidence.iter().map(|e| (e.what.as_str(), e.value.as_str())).collect();
    assert!(
        evidence.contains(&("IPv6 default routes (guest)", "default via fe80::1 dev enp1s0")),
        "{evidence:?}"
    );
    assert!(
        evidence.contains(&("global IPv6 addresses (guest agent)", "2001:db8:122::50/64")),
        "{evidence:?}"
    );
    assert_eq!(finding.fix, Some(Fix::DisableGuestIpv6 { vm: "lab-debian".into() }));
    assert_eq!(
        finding.fix.as_ref().and_then(Fix::alternative),
        Some(Fix::ForceAptIpv4 { vm: "lab-debian".into() })
    );

    // Only the route (the address was not reported): still flagged, as a route.
    let mut route_only = broken;
    for (_, result) in &mut route_only.addresses {
        if let Ok(interfaces) = result {
            for iface in interfaces {
                iface.addresses.retain(|address| !address.ip.to_string().starts_with("2001:"));
            }
        }
    }
    let findings = diagnose(&system(vec![route_only], vec![healthy_default()?]));
    assert!(find(&findings, IPV6)?.title.contains("default route"));

    let forced = debian("debian13-interfaces-ipv6", "debian13-probe-ipv6-force-ipv4")?;
    let findings = diagnose(&system(vec![forced], vec![healthy_default()?]));
    assert_eq!(of(&findings, IPV6), [], "APT on IPv4: the apt hang is gone");
    let disabled = debian("debian13-interfaces-ipv6-disabled", "debian13-probe-ipv6-disabled")?;
    let findings = diagnose(&system(vec![disabled], vec![healthy_default()?]));
    assert_eq!(of(&findings, IPV6), [], "IPv6 off: no address, no route");
    Ok(())
}

/// The lab's Debian guest with its default route moved to `gateway`, as a
/// static configuration typed in for another network would leave it.
fn debian_via(gateway: &str) -> Result<vmnet_doctor_core::DomainSnapshot, Error> {
    let mut domain = debian("debian13-interfaces", "debian13-probe")?;
    let Fact::Known(facts) = &mut domain.guest else { return Err("not inspected".into()) };
    let Fact::Known(network) = &mut facts.network else { return Err("no network facts".into()) };
    for route in network.default_routes.iter_mut().filter(|route| !route.ipv6) {
        route.gateway = Some(gateway.parse()?);
    }
    Ok(domain)
}

#[test]
fn a_default_route_past_the_nat_network_is_an_error() -> Result<(), Error> {
    const GATEWAY: &str = "guest-gateway-wrong";
    let wrong = diagnose(&system(vec![debian_via("192.168.1.1")?], vec![healthy_default()?]));
    assert_eq!(of(&wrong, GATEWAY), [(Severity::Error, nic("lab-debian", DEBIAN_MAC))]);
    let finding = find(&wrong, GATEWAY)?;
    assert!(finding.explanation.contains("default via 192.168.1.1 dev enp1s0"), "{finding:#?}");
    assert!(finding.explanation.contains("192.168.122.1"), "{finding:#?}");
    // The captured guest routes through 192.168.122.1: nothing to say.
    let right =
        diagnose(&system(vec![debian("debian13-interfaces", "debian13-probe")?], vec![healthy_default()?]));
    assert!(of(&right, GATEWAY).is_empty());
    // Not inspected: the rule is silent.
    let mut unknown = debian_via("192.168.1.1")?;
    unknown.guest = Fact::Unknown("not inspected".into());
    assert!(of(&diagnose(&system(vec![unknown], vec![healthy_default()?])), GATEWAY).is_empty());
    Ok(())
}

/// NetworkManager's static profile “office” (192.168.1.50/24 via
/// 192.168.1.1, priority 10) active on enp1s0 over a DHCP profile: the
/// address and the gateway are found, and both offer the guide's kvm-dhcp,
/// ranked above “office” (the plan asks the guest for the ranks).
#[test]
fn a_static_profile_on_the_card_is_outranked_by_kvm_dhcp() -> Result<(), Error> {
    let findings = diagnose(&system(
        vec![debian("debian13-interfaces-static-profile", "debian13-probe-static-profile")?],
        vec![healthy_default()?],
    ));
    let kvm_dhcp = Some(Fix::CreateGuestDhcpProfile { vm: "lab-debian".into(), interface: "enp1s0".into() });
    for id in ["guest-address-outside-subnet", "guest-gateway-wrong"] {
        assert_eq!(of(&findings, id), [(Severity::Error, nic("lab-debian", DEBIAN_MAC))]);
        let finding = find(&findings, id)?;
        assert_eq!(finding.fix, kvm_dhcp, "{finding:#?}");
        assert!(finding.explanation.contains("profile “office” sets this on enp1s0"), "{finding:#?}");
        assert!(
            finding.evidence.iter().any(|e| e.what == "NetworkManager profile “office” (active, guest)"
                && e.value == "ipv4.method manual, ipv4.addresses 192.168.1.50/24, ipv4.gateway 192.168.1.1, autoconnect-priority 10"),
            "{finding:#?}"
        );
    }
    // The card has an address and profiles: no other profile finding.
    assert_eq!(of(&findings, "guest-interface-no-profile"), []);
    assert_eq!(of(&findings, PROFILE), []);
    // Not inspected: the agent's address is still found, with no fix.
    let mut uninspected = debian("debian13-interfaces-static-profile", "debian13-probe-static-profile")?;
    uninspected.guest = Fact::Unknown("not inspected".into());
    let findings = diagnose(&system(vec![uninspected], vec![healthy_default()?]));
    assert_eq!(find(&findings, "guest-address-outside-subnet")?.fix, None);
    Ok(())
}

/// Every profile deleted and no automatic one: the card never asks for an
/// address, and the guide's kvm-dhcp is the fix. The stale profile of the
/// image as made is the other rule's, not this one's.
#[test]
fn a_card_no_profile_applies_to_gets_kvm_dhcp() -> Result<(), Error> {
    const NONE: &str = "guest-interface-no-profile";
    let findings = diagnose(&system(
        vec![debian("debian13-interfaces-no-profile", "debian13-probe-no-profile")?],
        vec![healthy_default()?],
    ));
    assert_eq!(of(&findings, NONE), [(Severity::Error, nic("lab-debian", DEBIAN_MAC))]);
    let finding = find(&findings, NONE)?;
    assert_eq!(
        finding.fix,
        Some(Fix::CreateGuestDhcpProfile { vm: "lab-debian".into(), interface: "enp1s0".into() })
    );
    assert!(finding.evidence.iter().any(|e| e.value == "none"), "{finding:#?}");
    assert_eq!(of(&findings, PROFILE), []);
    // vm-no-ip names it as the reason.
    let no_ip = find(&findings, "vm-no-ip")?;
    assert!(format!("{no_ip:?}").contains(NONE), "{no_ip:#?}");
    let stale = diagnose(&system(
        vec![debian("debian13-interfaces-unconfigured", "debian13-probe-stale-profile")?],
        vec![healthy_default()?],
    ));
    assert_eq!(of(&stale, NONE), []);
    // A card with an address, or the guest not inspected: nothing to say.
    let fine =
        diagnose(&system(vec![debian("debian13-interfaces", "debian13-probe")?], vec![healthy_default()?]));
    assert_eq!(of(&fine, NONE), []);
    let mut uninspected = debian("debian13-interfaces-no-profile", "debian13-probe-no-profile")?;
    uninspected.guest = Fact::Unknown("not inspected".into());
    assert_eq!(of(&diagnose(&system(vec![uninspected], vec![healthy_default()?])), NONE), []);
    Ok(())
}
