//! Fix All's order: every distinct fix once, carried by its cause, host
//! before networks before VM configuration before the guest; within a
//! layer, the diagnosis's order.

#[path = "support/rules.rs"]
mod support;

use support::*;
use vmnet_doctor_core::fix_order::layer;
use vmnet_doctor_core::{Evidence, Finding, Fix, Layer, Severity, Subject, diagnose, fix_order};

fn finding(id: &'static str, severity: Severity, subject: Subject, fix: Option<Fix>) -> Finding {
    Finding {
        id,
        severity,
        subject,
        title: id.to_owned(),
        explanation: String::new(),
        evidence: vec![Evidence::new("test", id)],
        fix,
    }
}

fn start(name: &str) -> Fix {
    Fix::StartNetwork { name: name.to_owned() }
}

/// A stopped network, its card (the same fix), another card's cable and
/// UFW's routed deny, listed in the diagnosis's order: UFW first, then the
/// network, then the card; the card's consequence adds no step.
#[test]
fn the_host_firewall_before_the_network_before_the_card() {
    let ufw = Fix::UfwAllowBridge { bridge: "virbr1".into(), uplink: "enp3s0".into() };
    let link = Fix::SetLinkUp { vm: "web".into(), mac: "52:54:00:00:00:02".into() };
    let findings = vec![
        finding("nic-network-inactive", Severity::Error, nic("db", "52:54:00:00:00:01"), Some(start("lab"))),
        finding("network-inactive", Severity::Error, network("lab"), Some(start("lab"))),
        finding("nic-link-down", Severity::Error, nic("web", "52:54:00:00:00:02"), Some(link.clone())),
        finding("ufw-routed-deny", Severity::Error, Subject::Host, Some(ufw.clone())),
        finding("vm-no-ip", Severity::Error, vm_subject("db"), None),
    ];
    let order = fix_order(&findings);
    let fixes: Vec<&Fix> = order.iter().map(|step| step.fix).collect();
    assert_eq!(fixes, [&ufw, &start("lab"), &link]);
    // The network's own finding carries its start, not the card's.
    assert_eq!(findings[order[1].finding].id, "network-inactive");
    assert_eq!(
        order.iter().map(|step| step.layer).collect::<Vec<_>>(),
        [Layer::Host, Layer::Network, Layer::VmConfig]
    );
}

/// A network is defined before it is started or autostarted, whatever the
/// diagnosis listed first; what happens inside the guest comes last; the
/// same fix twice is one step.
#[test]
fn define_before_start_and_the_guest_last() {
    let define = Fix::DefineNetwork { name: "default".into(), xml: "<network/>".into() };
    let autostart = Fix::AutostartNetwork { name: "lab".into() };
    let ipv6 = Fix::DisableGuestIpv6 { vm: "web".into() };
    let agent = Fix::AddGuestAgentChannel { vm: "db".into() };
    let findings = vec![
        finding("guest-ipv6-unrouted", Severity::Warning, vm_subject("web"), Some(ipv6.clone())),
        finding("network-not-autostarted", Severity::Warning, network("lab"), Some(autostart.clone())),
        finding("guest-agent-missing", Severity::Warning, vm_subject("db"), Some(agent.clone())),
        finding("network-inactive", Severity::Warning, network("lab"), Some(start("lab"))),
        finding("default-network-missing", Severity::Warning, network("default"), Some(define.clone())),
        finding("ipv4-forwarding-off", Severity::Warning, Subject::Host, Some(Fix::EnableIpv4Forwarding)),
        finding("ipv4-forwarding-off", Severity::Warning, Subject::Host, Some(Fix::EnableIpv4Forwarding)),
    ];
    let fixes: Vec<&Fix> = fix_order(&findings).into_iter().map(|step| step.fix).collect();
    assert_eq!(fixes, [&Fix::EnableIpv4Forwarding, &define, &start("lab"), &autostart, &agent, &ipv6]);
}

/// Each kind of fix in its layer.
#[test]
fn every_fix_has_its_layer() {
    let (vm, mac) = ("vm".to_owned(), "52:54:00:00:00:04".to_owned());
    let (bridge, uplink) = ("virbr0".to_owned(), "eth0".to_owned());
    let table = [
        (Fix::EnableIpv4Forwarding, Layer::Host),
        (Fix::UfwAllowBridge { bridge: bridge.clone(), uplink: uplink.clone() }, Layer::Host),
        (Fix::AcceptForward { bridge: bridge.clone(), uplink }, Layer::Host),
        (Fix::FirewalldZone { bridge, zone: "libvirt".into() }, Layer::Host),
        (Fix::DefineNetwork { name: "default".into(), xml: String::new() }, Layer::Network),
        (start("default"), Layer::Network),
        (Fix::AutostartNetwork { name: "default".into() }, Layer::Network),
        (
            Fix::MoveNicToNetwork { vm: vm.clone(), mac: mac.clone(), network: "default".into() },
            Layer::VmConfig,
        ),
        (Fix::SetNicModel { vm: vm.clone(), mac: mac.clone(), model: "virtio".into() }, Layer::VmConfig),
        (Fix::SetLinkUp { vm: vm.clone(), mac }, Layer::VmConfig),
        (Fix::AddGuestAgentChannel { vm: vm.clone() }, Layer::VmConfig),
        (Fix::DisableGuestIpv6 { vm: vm.clone() }, Layer::Guest),
        (Fix::ForceAptIpv4 { vm: vm.clone() }, Layer::Guest),
        (Fix::CreateGuestDhcpProfile { vm, interface: "enp1s0".into() }, Layer::Guest),
    ];
    for (fix, want) in table {
        assert_eq!(layer(&fix), want, "{fix:?}");
    }
}

/// The demo hypervisor: nat-copy moved off default's subnet, lab-nat started (by its own finding, once, though
/// kali-linux's card has the same fix) and autostarted, routed-lab
/// autostarted, then the VMs' changes in the diagnosis's order, though the
/// diagnosis lists ubuntu-server's unplugged cable (an error) before the
/// autostarts (warnings).
#[test]
fn the_demo_networks_first_then_its_vms() -> TestResult {
    let demo = demo_snapshot()?;
    let findings = diagnose(&demo);
    let order = fix_order(&findings);
    let steps: Vec<(&str, String)> = order
        .iter()
        .map(|step| (findings[step.finding].id, findings[step.finding].subject.to_string()))
        .collect();
    let mac =
        |vm: &str| -> Result<String, Error> { first_mac(&demo.domain(vm).ok_or(format!("vm {vm}"))?.config) };
    assert_eq!(
        steps,
        [
            ("network-subnet-collision", "network nat-copy".to_owned()),
            ("network-inactive", "network lab-nat".to_owned()),
            ("network-not-autostarted", "network lab-nat".to_owned()),
            ("network-not-autostarted", "network routed-lab".to_owned()),
            ("nic-link-down", format!("vm ubuntu-server nic {}", mac("ubuntu-server")?)),
            ("nic-model-not-virtio", format!("vm win11 nic {}", mac("win11")?)),
            ("nic-model-not-virtio", format!("vm opensuse-tumbleweed nic {}", mac("opensuse-tumbleweed")?)),
            ("nic-user-mode", format!("vm debian12 nic {}", mac("debian12")?)),
            ("nic-user-mode", format!("vm archlinux nic {}", mac("archlinux")?)),
            ("guest-agent-missing", "vm rocky9".to_owned()),
        ]
    );
    // Every fix the diagnosis offers is in it.
    for finding in &findings {
        if let Some(fix) = &finding.fix {
            assert!(order.iter().any(|step| step.fix == fix), "{fix:?} is missing");
        }
    }
    Ok(())
}
