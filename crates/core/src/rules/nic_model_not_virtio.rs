//! `nic-model-not-virtio`: an emulated NIC model (e1000, e1000e, rtl8139…)
//! instead of paravirtual virtio.

use gettextrs::gettext;

use super::common::{is_qemu_like, nics};
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::interface::InterfaceType;
use crate::nic_model::{self, NicModel};
use crate::snapshot::Snapshot;

/// libvirt's names for virtio network cards.
const VIRTIO_MODELS: &[&str] = &["virtio", "virtio-transitional", "virtio-non-transitional"];

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for nic in nics(snapshot) {
        // Only the types QEMU emulates a card for (a card without a model
        // gets the one libvirt picks for the machine, judged the same way).
        let emulated = matches!(
            nic.nic.kind,
            InterfaceType::Network
                | InterfaceType::Bridge
                | InterfaceType::Direct
                | InterfaceType::User
                | InterfaceType::Ethernet
        );
        let effective = nic_model::effective(&nic.domain.config, nic.nic);
        let Some(model) = effective.name() else {
            continue;
        };
        if !emulated || !is_qemu_like(nic.domain) || VIRTIO_MODELS.contains(&model) {
            continue;
        }
        let label = nic.label();
        let values = [("mac", label.as_str()), ("vm", nic.vm()), ("model", model)];
        let mut explanation = fill(
            &gettext(
                "The {model} model makes QEMU imitate a real network card register by register: slower, with more CPU per packet, than virtio, the paravirtual model virt-manager recommends. The change takes effect at the next boot of the VM. Windows has no virtio driver built in: install the virtio-win drivers in the guest first, or it loses its network after the change.",
            ),
            &values,
        );
        let evidence = match effective {
            NicModel::LibvirtDefault(_) => {
                explanation = format!(
                    "{} {explanation}",
                    fill(
                        &gettext(
                            "The card’s definition names no model, so libvirt gives it {model}, its default for this machine."
                        ),
                        &values
                    )
                );
                let os = &nic.domain.config.os;
                let machine = [os.arch.as_deref(), os.machine.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                Evidence::new(
                    "interface model type",
                    fill(
                        &gettext("none given; libvirt’s default for {machine}: {model}"),
                        &[("machine", &machine), ("model", model)],
                    ),
                )
            }
            _ => {
                if model == "rtl8139" {
                    explanation = format!(
                        "{explanation} {}",
                        gettext(
                            "libvirt itself chooses rtl8139 for a card defined without a model, so this card was most likely written by hand or by a tool that left the model out."
                        )
                    );
                }
                Evidence::new("interface model type", model)
            }
        };
        findings.push(Finding {
            id: "nic-model-not-virtio",
            severity: Severity::Warning,
            subject: nic.subject(),
            title: fill(&gettext("Network card {mac} is an emulated {model}"), &values),
            explanation,
            evidence: vec![evidence],
            fix: nic.nic.mac.clone().map(|mac| Fix::SetNicModel {
                vm: nic.vm().to_owned(),
                mac,
                model: "virtio".to_owned(),
            }),
        });
    }
    findings
}
