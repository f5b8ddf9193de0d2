//! Fixes applied through libvirt's real test driver, on the demo hypervisor
//! (`data/demo/`). Each test opens its own connection, and the test driver
//! reads the file anew for each, so the tests do not see each other's
//! changes. The test driver cannot change a running VM's devices, so here
//! the running part of a fix is refused and waits for the next boot; the
//! real daemon's tests (`system_daemon`) cover running VMs.

use std::error::Error;

use vmnet_doctor_core::xml::Element;
use vmnet_doctor_core::{LinkState, parse_domain_xml};
use vmnet_doctor_libvirt::{
    ChangedDefinition, DomainXml, Effect, FixStep, Hypervisor, LibvirtError, LibvirtFix,
};

mod support;

type TestResult = Result<(), Box<dyn Error>>;

fn demo() -> Result<Hypervisor, LibvirtError> {
    let uri = support::demo_uri();
    Hypervisor::open_blocking(&uri)
}

/// Every device of the VM's persistent configuration, as XML.
fn devices(hypervisor: &Hypervisor, vm: &str) -> Result<Vec<String>, Box<dyn Error>> {
    let xml = hypervisor.domain_xml_blocking(vm, DomainXml::Persistent)?;
    let root = Element::parse(&xml)?;
    let devices = root.child("devices").ok_or("no <devices>")?;
    Ok(devices.children.iter().map(Element::to_xml).collect())
}

#[test]
fn starting_a_network_starts_it_once() -> TestResult {
    let hypervisor = demo()?;
    let fix = LibvirtFix::StartNetwork { name: "lab-nat".into() };
    let preview = hypervisor.preview_fix_blocking(fix.clone())?;
    assert_eq!(preview.steps, [FixStep::StartNetwork { network: "lab-nat".into() }]);
    assert_eq!(preview.effect, Effect::Now);
    let report = hypervisor.apply_fix_blocking(fix.clone()).map_err(|f| f.error)?;
    assert_eq!(report.done, preview.steps);
    let snapshot = hypervisor.snapshot_blocking()?;
    assert!(snapshot.network("lab-nat").is_some_and(|n| n.active));
    // Applying again has nothing left to do.
    assert!(hypervisor.apply_fix_blocking(fix).map_err(|f| f.error)?.done.is_empty());
    Ok(())
}

#[test]
fn autostarting_a_network_changes_only_its_autostart() -> TestResult {
    let hypervisor = demo()?;
    let before = hypervisor.snapshot_blocking()?;
    let was = before.network("routed-lab").ok_or("no routed-lab")?;
    assert!(!was.autostart);
    hypervisor
        .apply_fix_blocking(LibvirtFix::AutostartNetwork { name: "routed-lab".into() })
        .map_err(|f| f.error)?;
    let after = hypervisor.snapshot_blocking()?;
    let now = after.network("routed-lab").ok_or("no routed-lab")?;
    assert!(now.autostart);
    assert_eq!((now.active, &now.config), (was.active, &was.config));
    Ok(())
}

const NEW_NETWORK: &str = "<network>\n  <name>guide-net</name>\n  <forward mode='nat'/>\n  \
    <bridge name='virbr9' stp='on' delay='0'/>\n  <ip address='192.168.209.1' netmask='255.255.255.0'>\n    \
    <dhcp>\n      <range start='192.168.209.2' end='192.168.209.254'/>\n    </dhcp>\n  </ip>\n</network>";

#[test]
fn defining_a_network_also_starts_and_autostarts_it() -> TestResult {
    let hypervisor = demo()?;
    let fix = LibvirtFix::DefineNetwork { name: "guide-net".into(), xml: NEW_NETWORK.into() };
    let preview = hypervisor.preview_fix_blocking(fix.clone())?;
    assert_eq!(preview.steps.len(), 3, "{preview:?}");
    let change = preview.changes.first().ok_or("no XML change")?;
    assert_eq!(change.definition, ChangedDefinition::Network { name: "guide-net".into() });
    assert!(change.before.is_empty());
    let diff = change.diff("none", "guide-net");
    assert!(diff.starts_with("--- none\n+++ guide-net\n@@ -0,0 +1,10 @@\n+<network>\n"), "{diff}");

    hypervisor.apply_fix_blocking(fix).map_err(|f| f.error)?;
    let snapshot = hypervisor.snapshot_blocking()?;
    let network = snapshot.network("guide-net").ok_or("not defined")?;
    assert!(network.active && network.autostart && network.persistent);
    assert_eq!(network.config.bridge_name(), Some("virbr9"));
    Ok(())
}

#[test]
fn a_network_xml_with_another_name_is_refused_before_any_call() -> TestResult {
    let hypervisor = demo()?;
    let fix = LibvirtFix::DefineNetwork { name: "other".into(), xml: NEW_NETWORK.into() };
    let failure = hypervisor.apply_fix_blocking(fix).err().ok_or("a mismatched name must fail")?;
    assert!(failure.failed.is_none() && failure.done.is_empty(), "{failure:?}");
    assert!(hypervisor.snapshot_blocking()?.network("guide-net").is_none());
    Ok(())
}

#[test]
fn a_new_model_on_a_running_vm_changes_only_the_persistent_model() -> TestResult {
    let hypervisor = demo()?;
    let before = hypervisor.domain_xml_blocking("win11", DomainXml::Persistent)?;
    let running_before = hypervisor.domain_xml_blocking("win11", DomainXml::Running)?;
    let fix = LibvirtFix::SetNicModel {
        vm: "win11".into(),
        mac: "52:54:00:3f:72:1f".into(),
        model: "virtio".into(),
    };
    let preview = hypervisor.preview_fix_blocking(fix.clone())?;
    assert_eq!(preview.effect, Effect::NextBoot);
    let diff = preview.changes.first().ok_or("no change")?.diff("a", "b");
    assert!(diff.contains("-  <model type='e1000'/>\n+  <model type='virtio'/>\n"), "{diff}");

    let report = hypervisor.apply_fix_blocking(fix).map_err(|f| f.error)?;
    assert_eq!(report.done, [FixStep::RedefineVm { vm: "win11".into() }]);
    assert_eq!(report.effect, Effect::NextBoot);
    let after = hypervisor.domain_xml_blocking("win11", DomainXml::Persistent)?;
    assert_eq!(after, before.replacen("<model type='e1000'/>", "<model type='virtio'/>", 1));
    assert_eq!(hypervisor.domain_xml_blocking("win11", DomainXml::Running)?, running_before);
    Ok(())
}

#[test]
fn a_new_model_on_a_shut_off_vm_is_in_effect_now() -> TestResult {
    let hypervisor = demo()?;
    let vm = "opensuse-tumbleweed";
    let snapshot = hypervisor.snapshot_blocking()?;
    let nic = snapshot.domain(vm).and_then(|d| d.interfaces().first()).ok_or("no NIC")?;
    let mac = nic.mac.clone().ok_or("no MAC")?;
    let report = hypervisor
        .apply_fix_blocking(LibvirtFix::SetNicModel {
            vm: vm.into(),
            mac: mac.clone(),
            model: "e1000e".into(),
        })
        .map_err(|f| f.error)?;
    assert_eq!(report.effect, Effect::Now);
    let after = hypervisor.snapshot_blocking()?;
    let changed = after.domain(vm).and_then(|d| d.config.interface_by_mac(&mac)).ok_or("NIC gone")?;
    assert_eq!(changed.model.as_deref(), Some("e1000e"));
    assert_eq!((&changed.source, changed.link_state), (&nic.source, nic.link_state));
    Ok(())
}

#[test]
fn link_up_is_persistent_and_the_running_refusal_is_reported() -> TestResult {
    let hypervisor = demo()?;
    let before = hypervisor.domain_xml_blocking("ubuntu-server", DomainXml::Persistent)?;
    let fix = LibvirtFix::SetLinkUp { vm: "ubuntu-server".into(), mac: "52:54:00:cb:19:71".into() };
    let preview = hypervisor.preview_fix_blocking(fix.clone())?;
    assert_eq!(preview.effect, Effect::Now, "the running NIC is changed too");
    assert_eq!(preview.steps.len(), 2, "{preview:?}");
    let definitions: Vec<_> = preview.changes.iter().map(|c| c.definition.clone()).collect();
    assert_eq!(
        definitions,
        [
            ChangedDefinition::VmPersistent { vm: "ubuntu-server".into() },
            ChangedDefinition::VmRunning { vm: "ubuntu-server".into() }
        ]
    );

    let report = hypervisor.apply_fix_blocking(fix).map_err(|f| f.error)?;
    let refused = report.running_vm_refused.ok_or("the test driver cannot update a running NIC")?;
    assert!(refused.contains("not supported"), "{refused}");
    assert_eq!(report.effect, Effect::NextBoot);
    let after = hypervisor.domain_xml_blocking("ubuntu-server", DomainXml::Persistent)?;
    assert_eq!(after, before.replacen("<link state='down'/>", "<link state='up'/>", 1));
    let config = parse_domain_xml(&after)?;
    assert_eq!(config.interface_by_mac("52:54:00:cb:19:71").map(|n| n.link_state), Some(LinkState::Up));
    Ok(())
}

#[test]
fn the_guest_agent_channel_is_added_and_nothing_else_changes() -> TestResult {
    let hypervisor = demo()?;
    let before = devices(&hypervisor, "rocky9")?;
    let report = hypervisor
        .apply_fix_blocking(LibvirtFix::AddGuestAgentChannel { vm: "rocky9".into() })
        .map_err(|f| f.error)?;
    assert_eq!(report.effect, Effect::NextBoot, "rocky9 runs");
    let after = devices(&hypervisor, "rocky9")?;
    let added: Vec<&String> = after.iter().filter(|device| !before.contains(device)).collect();
    assert!(before.iter().all(|device| after.contains(device)), "{before:#?}\n{after:#?}");
    assert!(
        added.iter().any(|device| device.starts_with("<channel type='unix'>")
            && device.contains("<target type='virtio' name='org.qemu.guest_agent.0'/>")),
        "{added:#?}"
    );
    let xml = hypervisor.domain_xml_blocking("rocky9", DomainXml::Persistent)?;
    assert!(parse_domain_xml(&xml)?.guest_agent_channel.is_some());
    // The second time there is nothing to add.
    let again = hypervisor.preview_fix_blocking(LibvirtFix::AddGuestAgentChannel { vm: "rocky9".into() })?;
    assert!(again.is_nothing_to_do());
    Ok(())
}

#[test]
fn moving_a_user_mode_nic_keeps_its_mac_and_model() -> TestResult {
    let hypervisor = demo()?;
    let mac = "52:54:00:d6:49:3c";
    let fix =
        LibvirtFix::MoveNicToNetwork { vm: "archlinux".into(), mac: mac.into(), network: "default".into() };
    hypervisor.apply_fix_blocking(fix).map_err(|f| f.error)?;
    let xml = hypervisor.domain_xml_blocking("archlinux", DomainXml::Persistent)?;
    let root = Element::parse(&xml)?;
    let nic = vmnet_doctor_core::edit::interface_by_mac(&root, mac).ok_or("NIC gone")?;
    assert_eq!(nic.attr("type"), Some("network"));
    assert_eq!(nic.find("source").and_then(|s| s.attr("network")), Some("default"));
    assert_eq!(nic.find("model").and_then(|m| m.attr("type")), Some("virtio"));
    assert!(nic.child("backend").is_none(), "passt's backend must go: {xml}");
    Ok(())
}

#[test]
fn unknown_vms_nics_and_networks_are_named_errors() -> TestResult {
    let hypervisor = demo()?;
    let no_nic = hypervisor
        .preview_fix_blocking(LibvirtFix::SetLinkUp { vm: "win11".into(), mac: "52:54:00:00:00:00".into() });
    assert!(matches!(no_nic, Err(LibvirtError::NoSuchNic { .. })), "{no_nic:?}");
    let no_vm = hypervisor.preview_fix_blocking(LibvirtFix::AddGuestAgentChannel { vm: "nope".into() });
    assert!(matches!(no_vm, Err(LibvirtError::NotFound { .. })), "{no_vm:?}");
    let no_network = hypervisor.preview_fix_blocking(LibvirtFix::StartNetwork { name: "nope".into() });
    assert!(matches!(no_network, Err(LibvirtError::NotFound { .. })), "{no_network:?}");
    Ok(())
}

/// The demo's `isolated` network (192.168.100.0/24, active) moved to
/// 192.168.103.0/24: stopped, redefined with every address renumbered and
/// every other line as libvirt wrote it, started again. (Static entries
/// are renumbered too: `edit::renumbered`'s own tests.)
#[test]
fn moving_a_network_renumbers_it_and_restarts_it() -> TestResult {
    let hypervisor = demo()?;
    let fix = LibvirtFix::MoveNetworkSubnet {
        name: "isolated".into(),
        from: "192.168.100.0".parse()?,
        to: "192.168.103.0".parse()?,
    };
    let preview = hypervisor.preview_fix_blocking(fix.clone())?;
    assert_eq!(
        preview.steps,
        [
            FixStep::StopNetwork { network: "isolated".into() },
            FixStep::DefineNetwork { network: "isolated".into() },
            FixStep::StartNetwork { network: "isolated".into() },
        ]
    );
    let [change] = preview.changes.as_slice() else { return Err("one change".into()) };
    assert_eq!(change.definition, ChangedDefinition::Network { name: "isolated".into() });
    let removed: Vec<&str> = change.before.lines().filter(|line| !change.after.contains(line)).collect();
    let added: Vec<&str> = change.after.lines().filter(|line| !change.before.contains(line)).collect();
    assert_eq!(removed.len(), 2, "the <ip> and <range> lines: {removed:?}");
    assert!(added.iter().all(|line| line.contains("192.168.103.")), "{added:?}");
    assert!(!change.after.contains("192.168.100."), "{}", change.after);

    let report = hypervisor.apply_fix_blocking(fix.clone()).map_err(|f| f.error)?;
    assert_eq!(report.done, preview.steps);
    let snapshot = hypervisor.snapshot_blocking()?;
    let moved = snapshot.network("isolated").ok_or("no isolated")?;
    assert!(moved.active);
    let ip = moved.config.ips.first().ok_or("no <ip>")?;
    assert_eq!(ip.address.to_string(), "192.168.103.1");
    let range = ip.dhcp_ranges.first().ok_or("no <range>")?;
    assert_eq!(
        (range.start.to_string(), range.end.to_string()),
        ("192.168.103.2".into(), "192.168.103.254".into())
    );
    // Moved already: nothing left to do.
    assert!(hypervisor.preview_fix_blocking(fix)?.steps.is_empty());
    Ok(())
}
