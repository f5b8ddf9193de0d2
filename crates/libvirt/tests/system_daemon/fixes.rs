//! Every libvirt fix against the real daemon: the situation is made with
//! virsh, the fix goes through `Hypervisor`, and virsh then shows that
//! exactly the intended change happened. Each test makes its own networks
//! and VMs (no disk: QEMU under TCG runs its firmware, enough for libvirt
//! to treat the VM as running) and removes them, even when it fails, so
//! `default` and `debian13` stay as the other tests expect them.

use std::error::Error;
use std::path::PathBuf;
use std::process::Command;

use vmnet_doctor_core::edit::interface_by_mac;
use vmnet_doctor_core::xml::Element;
use vmnet_doctor_libvirt::{ChangedDefinition, Effect, FixStep, Hypervisor, LibvirtFix, SYSTEM_URI};

type TestResult = Result<(), Box<dyn Error>>;

/// `virsh -c qemu:///system ARGS…`; its standard output, or its error.
pub(super) fn virsh(args: &[&str]) -> Result<String, Box<dyn Error>> {
    let output = Command::new("virsh").args(["-q", "-c", SYSTEM_URI]).args(args).output()?;
    if !output.status.success() {
        return Err(format!("virsh {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The networks and VMs a test made; removed when it ends, however it ends.
#[derive(Default)]
pub(super) struct Scratch {
    vms: Vec<String>,
    networks: Vec<String>,
    files: Vec<PathBuf>,
}

impl Scratch {
    /// Writes `xml` to a file of its own for `virsh define`/`net-define`.
    fn file(&mut self, name: &str, xml: &str) -> Result<String, Box<dyn Error>> {
        let path = std::env::temp_dir().join(format!("vmnet-doctor-fixes-{}-{name}.xml", std::process::id()));
        std::fs::write(&path, xml)?;
        let shown = path.to_str().ok_or("temporary path is not UTF-8")?.to_owned();
        self.files.push(path);
        Ok(shown)
    }

    pub(super) fn define_vm(&mut self, name: &str, devices: &str) -> TestResult {
        let xml = format!(
            "<domain type='qemu'>\n  <name>{name}</name>\n  <memory unit='KiB'>131072</memory>\n  <vcpu>1</vcpu>\n  \
             <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n    \
             <emulator>/usr/bin/qemu-system-x86_64</emulator>\n    {devices}\n  </devices>\n</domain>\n"
        );
        let path = self.file(name, &xml)?;
        self.vms.push(name.to_owned());
        virsh(&["define", &path])?;
        Ok(())
    }

    /// A NAT network on its own bridge and /24, defined and not started.
    fn define_network(&mut self, name: &str, bridge: &str, third_octet: u8) -> TestResult {
        let path = self.file(name, &network_xml(name, bridge, third_octet))?;
        self.networks.push(name.to_owned());
        virsh(&["net-define", &path])?;
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for vm in &self.vms {
            let _ = virsh(&["destroy", vm]);
            let _ = virsh(&["undefine", vm]);
        }
        for network in &self.networks {
            let _ = virsh(&["net-destroy", network]);
            let _ = virsh(&["net-undefine", network]);
        }
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
    }
}

fn network_xml(name: &str, bridge: &str, third_octet: u8) -> String {
    format!(
        "<network>\n  <name>{name}</name>\n  <forward mode='nat'/>\n  <bridge name='{bridge}' stp='on' delay='0'/>\n  \
         <ip address='192.168.{third_octet}.1' netmask='255.255.255.0'>\n    <dhcp>\n      \
         <range start='192.168.{third_octet}.2' end='192.168.{third_octet}.254'/>\n    </dhcp>\n  </ip>\n</network>"
    )
}

fn hypervisor() -> Result<Hypervisor, Box<dyn Error>> {
    Ok(Hypervisor::open_blocking(SYSTEM_URI)?)
}

/// The NIC with `mac` in `xml`, as XML; the running NIC's port id (which
/// libvirt renews on every update) left out.
fn nic(xml: &str, mac: &str) -> Result<String, Box<dyn Error>> {
    let root = Element::parse(xml)?;
    let mut nic = interface_by_mac(&root, mac).ok_or(format!("no NIC {mac}"))?.clone();
    if let Some(source) = nic.child_mut("source") {
        source.remove_attr("portid");
    }
    Ok(nic.to_xml())
}

/// Every device of the VM's persistent configuration but the NIC `mac`.
fn other_devices(vm: &str, mac: Option<&str>) -> Result<Vec<String>, Box<dyn Error>> {
    let root = Element::parse(&virsh(&["dumpxml", "--inactive", vm])?)?;
    let skipped = mac.and_then(|mac| interface_by_mac(&root, mac)).map(Element::to_xml);
    let devices = root.child("devices").ok_or("no <devices>")?;
    Ok(devices
        .children
        .iter()
        .map(Element::to_xml)
        .filter(|device| Some(device) != skipped.as_ref())
        .collect())
}

fn field(info: &str, name: &str) -> Option<String> {
    info.lines().find_map(|line| Some(line.strip_prefix(name)?.trim_start_matches(':').trim().to_owned()))
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn define_network_makes_a_running_autostarted_network() -> TestResult {
    let mut scratch = Scratch::default();
    scratch.networks.push("fx-define".into());
    let xml = network_xml("fx-define", "virbr-fxd", 231);
    let fix = LibvirtFix::DefineNetwork { name: "fx-define".into(), xml };
    let report = hypervisor()?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!(report.done.len(), 3, "{report:?}");
    let info = virsh(&["net-info", "fx-define"])?;
    assert_eq!(field(&info, "Active").as_deref(), Some("yes"), "{info}");
    assert_eq!(field(&info, "Autostart").as_deref(), Some("yes"), "{info}");
    assert!(PathBuf::from("/sys/class/net/virbr-fxd").exists(), "the bridge must exist");
    let defined = virsh(&["net-dumpxml", "--inactive", "fx-define"])?;
    assert!(defined.contains("<bridge name='virbr-fxd' stp='on' delay='0'/>"), "{defined}");
    assert!(defined.contains("<range start='192.168.231.2' end='192.168.231.254'/>"), "{defined}");
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn start_and_autostart_change_only_the_network_state() -> TestResult {
    let mut scratch = Scratch::default();
    scratch.define_network("fx-start", "virbr-fxs", 232)?;
    let definition = virsh(&["net-dumpxml", "--inactive", "fx-start"])?;
    let hypervisor = hypervisor()?;

    let start = LibvirtFix::StartNetwork { name: "fx-start".into() };
    let report = hypervisor.apply_fix_blocking(start).map_err(|failure| failure.error)?;
    assert_eq!(report.done, [FixStep::StartNetwork { network: "fx-start".into() }]);
    let info = virsh(&["net-info", "fx-start"])?;
    assert_eq!(field(&info, "Active").as_deref(), Some("yes"), "{info}");
    assert_eq!(field(&info, "Autostart").as_deref(), Some("no"), "{info}");

    let autostart = LibvirtFix::AutostartNetwork { name: "fx-start".into() };
    hypervisor.apply_fix_blocking(autostart).map_err(|failure| failure.error)?;
    let info = virsh(&["net-info", "fx-start"])?;
    assert_eq!(field(&info, "Autostart").as_deref(), Some("yes"), "{info}");
    assert_eq!(virsh(&["net-dumpxml", "--inactive", "fx-start"])?, definition);
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn link_up_on_a_running_vm_changes_the_link_now_and_at_boot() -> TestResult {
    let mut scratch = Scratch::default();
    let mac = "52:54:00:f1:00:01";
    scratch.define_vm(
        "fx-link",
        &format!(
            "<interface type='network'><mac address='{mac}'/><source network='default'/>\
             <model type='virtio'/><link state='down'/></interface>"
        ),
    )?;
    virsh(&["start", "fx-link"])?;
    let persistent_before = virsh(&["dumpxml", "--inactive", "fx-link"])?;
    let running_before = nic(&virsh(&["dumpxml", "fx-link"])?, mac)?;
    assert!(virsh(&["domif-getlink", "fx-link", mac])?.contains("down"));

    let fix = LibvirtFix::SetLinkUp { vm: "fx-link".into(), mac: mac.into() };
    let report = hypervisor()?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!(report.effect, Effect::Now);
    assert_eq!(report.running_vm_refused, None);
    assert_eq!(report.done.len(), 2, "{report:?}");

    assert!(virsh(&["domif-getlink", "fx-link", mac])?.contains("up"));
    assert_eq!(
        virsh(&["dumpxml", "--inactive", "fx-link"])?,
        persistent_before.replacen("<link state='down'/>", "<link state='up'/>", 1)
    );
    assert_eq!(
        nic(&virsh(&["dumpxml", "fx-link"])?, mac)?,
        running_before.replacen("<link state='down'/>", "<link state='up'/>", 1)
    );
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn a_new_model_waits_for_the_next_boot_of_a_running_vm() -> TestResult {
    let mut scratch = Scratch::default();
    let mac = "52:54:00:f1:00:02";
    scratch.define_vm(
        "fx-model",
        &format!(
            "<interface type='network'><mac address='{mac}'/><source network='default'/>\
             <model type='e1000'/></interface>"
        ),
    )?;
    virsh(&["start", "fx-model"])?;
    let persistent_before = virsh(&["dumpxml", "--inactive", "fx-model"])?;
    let running_before = nic(&virsh(&["dumpxml", "fx-model"])?, mac)?;

    let fix = LibvirtFix::SetNicModel { vm: "fx-model".into(), mac: mac.into(), model: "virtio".into() };
    let preview = hypervisor()?.preview_fix_blocking(fix.clone())?;
    let change = preview.changes.first().ok_or("no XML change")?;
    assert_eq!(change.definition, ChangedDefinition::VmPersistent { vm: "fx-model".into() });
    assert!(change.diff("a", "b").contains("-  <model type='e1000'/>\n+  <model type='virtio'/>\n"));
    let report = hypervisor()?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!(report.effect, Effect::NextBoot);

    assert_eq!(
        virsh(&["dumpxml", "--inactive", "fx-model"])?,
        persistent_before.replacen("<model type='e1000'/>", "<model type='virtio'/>", 1)
    );
    assert_eq!(nic(&virsh(&["dumpxml", "fx-model"])?, mac)?, running_before, "the running VM is unchanged");
    // A shutdown and start brings the new model.
    virsh(&["destroy", "fx-model"])?;
    virsh(&["start", "fx-model"])?;
    assert!(nic(&virsh(&["dumpxml", "fx-model"])?, mac)?.contains("<model type='virtio'/>"));
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn moving_a_user_mode_nic_keeps_everything_but_its_connection() -> TestResult {
    let mut scratch = Scratch::default();
    let mac = "52:54:00:f1:00:03";
    scratch.define_vm(
        "fx-move",
        &format!(
            "<interface type='user'><mac address='{mac}'/><model type='e1000e'/><link state='up'/>\
             </interface>\n    <interface type='network'><mac address='52:54:00:f1:00:13'/>\
             <source network='default'/><model type='virtio'/></interface>"
        ),
    )?;
    let others_before = other_devices("fx-move", Some(mac))?;
    let nic_before = nic(&virsh(&["dumpxml", "--inactive", "fx-move"])?, mac)?;

    let fix =
        LibvirtFix::MoveNicToNetwork { vm: "fx-move".into(), mac: mac.into(), network: "default".into() };
    let report = hypervisor()?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!(report.effect, Effect::Now, "a shut-off VM starts with it");

    let nic_after = nic(&virsh(&["dumpxml", "--inactive", "fx-move"])?, mac)?;
    let want = nic_before.replacen("<interface type='user'>", "<interface type='network'>", 1).replacen(
        &format!("<mac address='{mac}'/>"),
        &format!("<mac address='{mac}'/>\n  <source network='default'/>"),
        1,
    );
    assert_eq!(nic_after, want);
    assert_eq!(other_devices("fx-move", Some(mac))?, others_before);
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn moving_a_running_nic_between_networks_reconnects_it_now() -> TestResult {
    let mut scratch = Scratch::default();
    scratch.define_network("fx-from", "virbr-fxf", 233)?;
    virsh(&["net-start", "fx-from"])?;
    let mac = "52:54:00:f1:00:04";
    scratch.define_vm(
        "fx-reconnect",
        &format!(
            "<interface type='network'><mac address='{mac}'/><source network='fx-from'/>\
             <model type='virtio'/></interface>"
        ),
    )?;
    virsh(&["start", "fx-reconnect"])?;
    let fix = LibvirtFix::MoveNicToNetwork {
        vm: "fx-reconnect".into(),
        mac: mac.into(),
        network: "default".into(),
    };
    let report = hypervisor()?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!((report.effect, &report.running_vm_refused), (Effect::Now, &None), "{report:?}");
    let running = nic(&virsh(&["dumpxml", "fx-reconnect"])?, mac)?;
    assert!(running.contains("network='default'") && running.contains("bridge='virbr0'"), "{running}");
    // The tap device really moved to default's bridge.
    let tap = Element::parse(&running)?.child("target").and_then(|t| t.attr("dev")).map(str::to_owned);
    let tap = tap.ok_or("no tap device")?;
    let master = std::fs::read_link(format!("/sys/class/net/{tap}/master"))?;
    assert_eq!(master.file_name().and_then(|name| name.to_str()), Some("virbr0"));
    assert!(nic(&virsh(&["dumpxml", "--inactive", "fx-reconnect"])?, mac)?.contains("network='default'"));
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn the_guest_agent_channel_is_added_for_the_next_boot() -> TestResult {
    let mut scratch = Scratch::default();
    let mac = "52:54:00:f1:00:05";
    scratch.define_vm(
        "fx-agent",
        &format!(
            "<interface type='network'><mac address='{mac}'/><source network='default'/>\
             <model type='virtio'/></interface>"
        ),
    )?;
    virsh(&["start", "fx-agent"])?;
    let before = other_devices("fx-agent", None)?;

    let fix = LibvirtFix::AddGuestAgentChannel { vm: "fx-agent".into() };
    let report = hypervisor()?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!(report.effect, Effect::NextBoot, "the VM runs");

    let after = other_devices("fx-agent", None)?;
    assert!(before.iter().all(|device| after.contains(device)), "a device changed:\n{before:#?}\n{after:#?}");
    let added: Vec<&String> = after.iter().filter(|device| !before.contains(device)).collect();
    assert!(
        added.iter().any(|device| device.starts_with("<channel type='unix'>")
            && device.contains("<target type='virtio' name='org.qemu.guest_agent.0'/>")),
        "{added:#?}"
    );
    // Only the channel, and the virtio-serial controller libvirt adds for it.
    assert!(
        added.iter().all(|device| device.starts_with("<channel") || device.contains("type='virtio-serial'")),
        "{added:#?}"
    );
    assert!(!virsh(&["dumpxml", "fx-agent"])?.contains("org.qemu.guest_agent.0"), "the running VM has none");
    virsh(&["destroy", "fx-agent"])?;
    virsh(&["start", "fx-agent"])?;
    assert!(virsh(&["dumpxml", "fx-agent"])?.contains("org.qemu.guest_agent.0"));
    Ok(())
}

#[test]
#[ignore = "needs libvirtd: run through tests/libvirtd/with-libvirtd.sh"]
fn a_running_user_mode_nic_moves_at_the_next_boot() -> TestResult {
    let mut scratch = Scratch::default();
    let mac = "52:54:00:f1:00:06";
    scratch.define_vm(
        "fx-user-running",
        &format!("<interface type='user'><mac address='{mac}'/><model type='virtio'/></interface>"),
    )?;
    virsh(&["start", "fx-user-running"])?;
    let running_before = nic(&virsh(&["dumpxml", "fx-user-running"])?, mac)?;
    // libvirt 11.3 refuses it on the running VM: "unable to change config on
    // 'network' network type".
    let refused = Command::new("virsh")
        .args(["-q", "-c", SYSTEM_URI, "update-device", "fx-user-running", "--live"])
        .arg(scratch.file(
            "fx-user-running-nic",
            &running_before.replacen("type='user'", "type='network'", 1).replacen(
                "/>",
                "/><source network='default'/>",
                1,
            ),
        )?)
        .stderr(std::process::Stdio::null())
        .status()?;
    assert!(!refused.success(), "libvirt now moves a running user-mode NIC: plan it live too");

    let fix = LibvirtFix::MoveNicToNetwork {
        vm: "fx-user-running".into(),
        mac: mac.into(),
        network: "default".into(),
    };
    let preview = hypervisor()?.preview_fix_blocking(fix.clone())?;
    assert_eq!(preview.steps, [FixStep::RedefineVm { vm: "fx-user-running".into() }]);
    assert_eq!(preview.effect, Effect::NextBoot);
    let report = hypervisor()?.apply_fix_blocking(fix).map_err(|failure| failure.error)?;
    assert_eq!((report.effect, &report.running_vm_refused), (Effect::NextBoot, &None));
    assert_eq!(nic(&virsh(&["dumpxml", "fx-user-running"])?, mac)?, running_before);
    assert!(nic(&virsh(&["dumpxml", "--inactive", "fx-user-running"])?, mac)?.contains("network='default'"));
    Ok(())
}
