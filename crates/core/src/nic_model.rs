//! The card a NIC's guest sees: its `<model>`, or the model libvirt picks
//! when the XML names none.
//!
//! Where the default comes from (libvirt 11, `src/qemu/qemu_postparse.c`,
//! `qemuDomainDefaultNetModel`, called from `qemuDomainDeviceNetDefPostParse`;
//! before libvirt 10.x the same function lived in `src/qemu/qemu_domain.c`):
//! when libvirt's QEMU driver reads XML with no `<model>`, it fills one in —
//! virtio on s390 and on the `virt` machines of ARM, RISC-V and LoongArch,
//! smc91c111 on ARM's `versatilepb`, lan9118 on other ARM boards, virtio for
//! `vhostuser` and `vdpa` cards, and everywhere else (x86 among them) the
//! first of rtl8139, e1000 and virtio that the QEMU binary offers: rtl8139 in
//! the QEMU builds distributions ship. `virsh dumpxml` then shows that model,
//! so on a real host a card "without a model" reads as `rtl8139`; XML with
//! no model at all comes from the test driver, from a daemon that could not
//! probe QEMU, or from files.
//!
//! QEMU's own machine defaults (`-nic` without `model=`: e1000 on `pc`,
//! `pcmc->default_nic_model` in `hw/i386/pc_piix.c`, and e1000e on `q35`,
//! in `hw/i386/pc_q35.c`) never apply through libvirt, which always names
//! the device it adds.

use crate::domain::DomainConfig;
use crate::interface::{Interface, InterfaceType};

/// A NIC's card model and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicModel<'a> {
    /// `<model type=…>` in the XML.
    Named(&'a str),
    /// No `<model>`: the one libvirt's QEMU driver chooses for this
    /// architecture and machine.
    LibvirtDefault(&'static str),
    /// No `<model>`, and nothing to go by (no architecture in the XML, or a
    /// card QEMU does not emulate: `hostdev` passes a real one through).
    Unknown,
}

impl<'a> NicModel<'a> {
    /// The model's libvirt name, whichever way it was chosen.
    pub fn name(self) -> Option<&'a str> {
        match self {
            Self::Named(name) => Some(name),
            Self::LibvirtDefault(name) => Some(name),
            Self::Unknown => None,
        }
    }
}

/// The model of `nic`, a card of `domain`.
pub fn effective<'a>(domain: &DomainConfig, nic: &'a Interface) -> NicModel<'a> {
    if let Some(model) = nic.model.as_deref() {
        return NicModel::Named(model);
    }
    match nic.kind {
        InterfaceType::VhostUser | InterfaceType::Vdpa => return NicModel::LibvirtDefault("virtio"),
        InterfaceType::Hostdev => return NicModel::Unknown,
        _ => {}
    }
    match domain.os.arch.as_deref() {
        Some(arch) => NicModel::LibvirtDefault(default_for(arch, domain.os.machine.as_deref())),
        None => NicModel::Unknown,
    }
}

/// libvirt's choice for `arch` and `machine` (see the module's comment).
fn default_for(arch: &str, machine: Option<&str>) -> &'static str {
    // `virt`, or a versioned `virt-9.2`, as libvirt's qemuDomainIsARMVirt and
    // its RISC-V and LoongArch twins test it.
    let virt_machine = machine.is_some_and(|machine| machine == "virt" || machine.starts_with("virt-"));
    if arch.starts_with("s390") {
        return "virtio";
    }
    if (arch.starts_with("riscv") || arch == "loongarch64") && virt_machine {
        return "virtio";
    }
    if arch.starts_with("arm") || arch == "aarch64" {
        return match machine {
            Some("versatilepb") => "smc91c111",
            _ if virt_machine => "virtio",
            _ => "lan9118",
        };
    }
    "rtl8139"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OsType;
    use crate::interface::{InterfaceSource, LinkState};

    fn domain(arch: Option<&str>, machine: Option<&str>) -> DomainConfig {
        DomainConfig {
            name: "vm".to_owned(),
            uuid: None,
            hypervisor: "kvm".to_owned(),
            title: None,
            os: OsType { arch: arch.map(str::to_owned), machine: machine.map(str::to_owned) },
            interfaces: Vec::new(),
            guest_agent_channel: None,
        }
    }

    fn nic(kind: InterfaceType, model: Option<&str>) -> Interface {
        Interface {
            kind,
            mac: Some("52:54:00:00:00:01".to_owned()),
            source: InterfaceSource::Network { network: "default".to_owned(), portgroup: None, bridge: None },
            model: model.map(str::to_owned),
            backend: None,
            link_state: LinkState::Up,
            target_dev: None,
            alias: None,
            portgroup: None,
        }
    }

    #[test]
    fn a_named_model_is_the_model() {
        let card = nic(InterfaceType::Network, Some("e1000e"));
        assert_eq!(effective(&domain(Some("x86_64"), Some("q35")), &card), NicModel::Named("e1000e"));
    }

    #[test]
    fn without_a_model_libvirt_chooses_by_architecture_and_machine() {
        let card = nic(InterfaceType::Network, None);
        for (arch, machine, want) in [
            ("x86_64", Some("pc-q35-10.0"), "rtl8139"),
            ("x86_64", Some("pc-i440fx-9.2"), "rtl8139"),
            ("i686", None, "rtl8139"),
            ("ppc64le", Some("pseries"), "rtl8139"),
            ("s390x", Some("s390-ccw-virtio"), "virtio"),
            ("aarch64", Some("virt"), "virtio"),
            ("aarch64", Some("virt-9.2"), "virtio"),
            ("armv7l", Some("versatilepb"), "smc91c111"),
            ("armv7l", Some("vexpress-a15"), "lan9118"),
            ("riscv64", Some("virt"), "virtio"),
            ("riscv64", Some("sifive_u"), "rtl8139"),
            ("loongarch64", Some("virt"), "virtio"),
        ] {
            assert_eq!(
                effective(&domain(Some(arch), machine), &card),
                NicModel::LibvirtDefault(want),
                "{arch} {machine:?}"
            );
        }
    }

    #[test]
    fn vhost_user_and_vdpa_default_to_virtio_and_passthrough_has_none() {
        let vm = domain(Some("x86_64"), Some("q35"));
        assert_eq!(effective(&vm, &nic(InterfaceType::VhostUser, None)), NicModel::LibvirtDefault("virtio"));
        assert_eq!(effective(&vm, &nic(InterfaceType::Vdpa, None)), NicModel::LibvirtDefault("virtio"));
        assert_eq!(effective(&vm, &nic(InterfaceType::Hostdev, None)), NicModel::Unknown);
    }

    #[test]
    fn without_an_architecture_nothing_is_guessed() {
        assert_eq!(effective(&domain(None, None), &nic(InterfaceType::Network, None)), NicModel::Unknown);
    }
}
