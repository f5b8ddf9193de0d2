//! `nic-model-not-virtio`: an emulated NIC model (e1000, e1000e, rtl8139…)
//! instead of paravirtual virtio.

use gettextrs::gettext;

use super::common::{is_qemu_like, nics};
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::interface::InterfaceType;
use crate::snapshot::Snapshot;

/// libvirt's names for virtio network cards.
const VIRTIO_MODELS: &[&str] = &["virtio", "virtio-transitional", "virtio-non-transitional"];

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        // Only the types QEMU emulates a card for; without a model QEMU picks
        // its machine's default, which the XML does not say.
        let emulated = matches!(
            nic.nic.kind,
            InterfaceType::Network
                | InterfaceType::Bridge
                | InterfaceType::Direct
                | InterfaceType::User
                | InterfaceType::Ethernet
        );
        let Some(model) = nic.nic.model.as_deref() else {
            continue;
        };
        if !emulated || !is_qemu_like(nic.domain) || VIRTIO_MODELS.contains(&model) {
            continue;
        }
        let label = nic.label();
        let values = [("mac", label.as_str()), ("vm", nic.vm()), ("model", model)];
        findings.push(Finding {
            id: "nic-model-not-virtio",
            severity: Severity::Warning,
            subject: nic.subject(),
            title: fill(&gettext("Network card {mac} is an emulated {model}"), &values),
            explanation: fill(
                &gettext("The {model} model makes QEMU imitate a real network card register by register: slower, with more CPU per packet, than virtio, the paravirtual model virt-manager recommends. The change takes effect at the next boot of the VM. Windows has no virtio driver built in: install the virtio-win drivers in the guest first, or it loses its network after the change."),
                &values,
            ),
            evidence: vec![Evidence::new("interface model type", model)],
            fix: nic.nic.mac.clone().map(|mac| Fix::SetNicModel {
                vm: nic.vm().to_owned(),
                mac,
                model: "virtio".to_owned(),
            }),
        });
    }
    findings
}
