//! VM changes: one NIC's link state (up or down), model or network, or the guest agent
//! channel.
//!
//! The persistent configuration is changed by redefining it with libvirt's
//! own XML (`dumpxml --inactive --security-info`) in which only the one
//! device is replaced or added, so nothing else about the VM changes; this
//! is also what virt-manager does, and it works on every driver (libvirt's
//! test driver cannot update devices). The running VM is changed with
//! `virDomainUpdateDeviceFlags(LIVE)` and the NIC's own running XML.

use virt::connect::Connect;
use virt::domain::Domain;
use virt::sys;
use vmnet_doctor_core::edit::{
    EditError, append_child, guest_agent_channel, interface_by_mac, moved_to_network, replace_element,
    with_link_down, with_link_up, with_model,
};
use vmnet_doctor_core::parse_domain_xml;
use vmnet_doctor_core::xml::Element;

use super::{ChangedDefinition, Effect, FixFailure, FixPreview, FixReport, FixStep, LibvirtFix, XmlChange};
use crate::error::LibvirtError;

/// What changes in the VM's XML.
#[derive(Debug, Clone, Copy)]
enum Edit<'a> {
    Nic { mac: &'a str, change: NicChange<'a> },
    AddGuestAgentChannel,
}

#[derive(Debug, Clone, Copy)]
enum NicChange<'a> {
    LinkUp,
    LinkDown,
    Model(&'a str),
    Network(&'a str),
}

impl NicChange<'_> {
    fn apply(self, nic: &Element) -> Element {
        match self {
            Self::LinkUp => with_link_up(nic),
            Self::LinkDown => with_link_down(nic),
            Self::Model(model) => with_model(nic, model),
            Self::Network(network) => moved_to_network(nic, network),
        }
    }

    /// Whether the running NIC is changed too. A new model needs a new
    /// device, so it waits for the next boot; libvirt (qemu) reconnects a
    /// running NIC to another network only when it already has a tap on a
    /// bridge (`network` or `bridge`), and refuses it for the other types.
    fn also_running(self, running_nic: &Element) -> bool {
        match self {
            Self::LinkUp | Self::LinkDown => true,
            Self::Model(_) => false,
            Self::Network(_) => matches!(running_nic.attr("type"), Some("network" | "bridge")),
        }
    }
}

/// The planned calls for one VM fix, with everything they send.
pub(super) struct VmPlan {
    vm: String,
    mac: Option<String>,
    domain: Domain,
    /// The whole new persistent definition, when it changes.
    new_definition: Option<String>,
    /// The running NIC's new XML, when it changes.
    new_running_nic: Option<String>,
    /// Whether the persistent configuration has the change once
    /// `new_definition` is applied (so a refused running change only waits
    /// for the next boot).
    persistent_has_change: bool,
    changes: Vec<XmlChange>,
    effect: Effect,
}

pub(super) fn plan(conn: &Connect, uri: &str, fix: &LibvirtFix) -> Result<VmPlan, LibvirtError> {
    let (vm, edit) = match fix {
        LibvirtFix::SetLinkUp { vm, mac } => (vm, Edit::Nic { mac, change: NicChange::LinkUp }),
        LibvirtFix::SetLinkDown { vm, mac } => (vm, Edit::Nic { mac, change: NicChange::LinkDown }),
        LibvirtFix::SetNicModel { vm, mac, model } => {
            (vm, Edit::Nic { mac, change: NicChange::Model(model) })
        }
        LibvirtFix::MoveNicToNetwork { vm, mac, network } => {
            (vm, Edit::Nic { mac, change: NicChange::Network(network) })
        }
        LibvirtFix::AddGuestAgentChannel { vm } => (vm, Edit::AddGuestAgentChannel),
        LibvirtFix::DefineNetwork { .. }
        | LibvirtFix::MoveNetworkSubnet { .. }
        | LibvirtFix::StartNetwork { .. }
        | LibvirtFix::AutostartNetwork { .. }
        | LibvirtFix::DisableGuestIpv6 { .. }
        | LibvirtFix::RevertDisableGuestIpv6 { .. }
        | LibvirtFix::ForceAptIpv4 { .. }
        | LibvirtFix::RevertForceAptIpv4 { .. }
        | LibvirtFix::CreateGuestDhcpProfile { .. }
        | LibvirtFix::RemoveGuestDhcpProfile { .. } => {
            return Err(LibvirtError::Other { detail: "not a VM definition fix".to_owned() });
        }
    };
    let call = |error: virt::error::Error| LibvirtError::from_change(uri, &error);
    let domain = conn.lookup_domain_by_name(vm).map_err(call)?;
    let active = domain.is_active().map_err(call)?;
    let persistent = domain.is_persistent().map_err(call)?;

    let mut plan = VmPlan {
        vm: vm.clone(),
        mac: match edit {
            Edit::Nic { mac, .. } => Some(mac.to_owned()),
            Edit::AddGuestAgentChannel => None,
        },
        domain,
        new_definition: None,
        new_running_nic: None,
        persistent_has_change: false,
        changes: Vec::new(),
        effect: Effect::Now,
    };
    let mut nic_found = false;

    if persistent {
        // SECURE keeps passwords (e.g. VNC's) that the redefinition must not drop.
        let xml =
            plan.domain.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE | sys::VIR_DOMAIN_XML_SECURE).map_err(call)?;
        let root = parse(vm, &xml)?;
        let edited = match edit {
            Edit::Nic { mac, change } => match interface_by_mac(&root, mac) {
                Some(nic) => {
                    nic_found = true;
                    changed_nic(&xml, nic, change)?
                }
                None => None,
            },
            Edit::AddGuestAgentChannel => added_channel(vm, &xml, &root)?,
        };
        plan.persistent_has_change = nic_found || matches!(edit, Edit::AddGuestAgentChannel);
        if let Some((definition, before, after)) = edited {
            plan.new_definition = Some(definition);
            plan.changes.push(XmlChange {
                definition: ChangedDefinition::VmPersistent { vm: vm.clone() },
                before,
                after,
            });
        }
    }

    if active {
        let xml = plan.domain.xml_desc(0).map_err(call)?;
        let root = parse(vm, &xml)?;
        let running_differs = match edit {
            Edit::Nic { mac, change } => match interface_by_mac(&root, mac) {
                Some(nic) => {
                    nic_found = true;
                    let after = change.apply(nic);
                    let (before, after) = (nic.to_xml(), after.to_xml());
                    let differs = before != after;
                    let also_running = change.also_running(nic);
                    if differs && also_running {
                        plan.new_running_nic = Some(after.clone());
                        plan.changes.push(XmlChange {
                            definition: ChangedDefinition::VmRunning { vm: vm.clone() },
                            before,
                            after,
                        });
                    }
                    differs && !also_running
                }
                // Present only in the persistent configuration: it appears at the next boot.
                None => true,
            },
            Edit::AddGuestAgentChannel => parse_domain_xml(&xml)
                .map_err(|error| unreadable(vm, &error.to_string()))?
                .guest_agent_channel
                .is_none(),
        };
        if running_differs {
            plan.effect = Effect::NextBoot;
        }
    }

    if let Edit::Nic { mac, .. } = edit
        && !nic_found
    {
        return Err(LibvirtError::NoSuchNic { vm: vm.clone(), mac: mac.to_owned() });
    }
    if !persistent && plan.effect == Effect::NextBoot {
        return Err(LibvirtError::Unsupported {
            detail: format!(
                "VM {vm} is transient (not defined in libvirt): it has no persistent configuration to change"
            ),
        });
    }
    Ok(plan)
}

impl VmPlan {
    pub(super) fn preview(&self) -> FixPreview {
        FixPreview { steps: self.steps(), changes: self.changes.clone(), effect: self.effect }
    }

    fn steps(&self) -> Vec<FixStep> {
        let mut steps = Vec::new();
        if self.new_definition.is_some() {
            steps.push(FixStep::RedefineVm { vm: self.vm.clone() });
        }
        if self.new_running_nic.is_some() {
            let mac = self.mac.clone().unwrap_or_default();
            steps.push(FixStep::UpdateRunningNic { vm: self.vm.clone(), mac });
        }
        steps
    }

    /// Persistent configuration first: a running change alone would be lost
    /// at the next boot. When libvirt refuses the running change after that,
    /// the fix is in place for the next boot, and libvirt's words say why.
    pub(super) fn run(self, conn: &Connect, uri: &str) -> Result<FixReport, Box<FixFailure>> {
        let steps = self.steps();
        let mut done = Vec::new();
        let mut effect = self.effect;
        let mut running_vm_refused = None;
        for step in steps {
            match &step {
                FixStep::RedefineVm { .. } => {
                    let definition = self.new_definition.as_deref().unwrap_or_default();
                    if let Err(error) = conn.define_domain_xml(definition) {
                        let error = LibvirtError::from_change(uri, &error);
                        return Err(Box::new(FixFailure { failed: Some(step), done, error }));
                    }
                }
                FixStep::UpdateRunningNic { .. } => {
                    let nic = self.new_running_nic.as_deref().unwrap_or_default();
                    if let Err(error) = self.domain.update_device_flags(nic, sys::VIR_DOMAIN_AFFECT_LIVE) {
                        if !self.persistent_has_change {
                            let error = LibvirtError::from_change(uri, &error);
                            return Err(Box::new(FixFailure { failed: Some(step), done, error }));
                        }
                        effect = Effect::NextBoot;
                        running_vm_refused = Some(error.message().to_owned());
                        continue;
                    }
                }
                FixStep::DefineNetwork { .. }
                | FixStep::WriteGuestFile { .. }
                | FixStep::RunInGuest { .. }
                | FixStep::StopNetwork { .. }
                | FixStep::StartNetwork { .. }
                | FixStep::AutostartNetwork { .. } => {}
            }
            done.push(step);
        }
        Ok(FixReport { done, changes: self.changes, effect, running_vm_refused })
    }
}

/// The new definition and the NIC's XML before and after, or `None` when
/// the NIC already is as the fix wants.
fn changed_nic(
    xml: &str,
    nic: &Element,
    change: NicChange<'_>,
) -> Result<Option<(String, String, String)>, LibvirtError> {
    let edited = change.apply(nic);
    let (before, after) = (nic.to_xml(), edited.to_xml());
    if before == after {
        return Ok(None);
    }
    let definition = replace_element(xml, nic, &edited).map_err(|error| edit_failed(&error))?;
    Ok(Some((definition, before, after)))
}

/// The new definition with the guest agent channel, or `None` when the VM
/// already has one.
fn added_channel(
    vm: &str,
    xml: &str,
    root: &Element,
) -> Result<Option<(String, String, String)>, LibvirtError> {
    let config = parse_domain_xml(xml).map_err(|error| unreadable(vm, &error.to_string()))?;
    if config.guest_agent_channel.is_some() {
        return Ok(None);
    }
    let devices = root.child("devices").ok_or_else(|| unreadable(vm, "it has no <devices>"))?;
    let channel = guest_agent_channel();
    let definition = append_child(xml, devices, &channel).map_err(|error| edit_failed(&error))?;
    Ok(Some((definition, String::new(), channel.to_xml())))
}

fn parse(vm: &str, xml: &str) -> Result<Element, LibvirtError> {
    Element::parse(xml).map_err(|error| unreadable(vm, &error.to_string()))
}

fn unreadable(vm: &str, why: &str) -> LibvirtError {
    LibvirtError::Other { detail: format!("the XML libvirt gave for VM {vm} could not be read: {why}") }
}

fn edit_failed(error: &EditError) -> LibvirtError {
    LibvirtError::Other { detail: format!("could not edit the VM's XML: {error}") }
}
