//! Fixes made through libvirt's own API: virtual networks (define, start,
//! autostart) and VM changes (a NIC's link, model or network, the guest
//! agent channel). Each fix is first planned from what libvirt says now —
//! the libvirt calls and the exact XML before and after — and applying
//! plans again, so it acts on the current state, never a stale one.
//!
//! Everything here runs on the worker thread (see [`crate::Hypervisor`]).

mod guest;
mod network;
mod vm;

pub use guest::{
    DHCP_PROFILE, DISABLE_IPV6_APPLY, DISABLE_IPV6_CONTENTS, DISABLE_IPV6_PATH, FORCE_IPV4_CONTENTS,
    FORCE_IPV4_PATH,
};

use virt::connect::Connect;
use vmnet_doctor_core::text_diff::unified_diff;

use crate::error::LibvirtError;

/// A change libvirt makes: the libvirt side of the diagnosis' `Fix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibvirtFix {
    /// Define the network from this XML, start it and start it at boot
    /// (the guide's net-define, net-start, net-autostart).
    DefineNetwork {
        name: String,
        xml: String,
    },
    StartNetwork {
        name: String,
    },
    AutostartNetwork {
        name: String,
    },
    /// Renumber the network from the /24 `from` to the /24 `to` (its
    /// address, DHCP range, static entries), stopping it first when it
    /// runs and starting it after.
    MoveNetworkSubnet {
        name: String,
        from: std::net::Ipv4Addr,
        to: std::net::Ipv4Addr,
    },
    /// `<link state='up'/>`, in the running VM and its persistent
    /// configuration.
    SetLinkUp {
        vm: String,
        mac: String,
    },
    /// `<link state='down'/>` (the virtual cable unplugged), in the running
    /// VM and its persistent configuration: a user's choice, not a fix.
    SetLinkDown {
        vm: String,
        mac: String,
    },
    /// The NIC's device model, in the persistent configuration.
    SetNicModel {
        vm: String,
        mac: String,
        model: String,
    },
    /// `<interface type='network'><source network=…/>`, keeping the NIC's
    /// MAC, model, link state and address; persistent, and in the running
    /// VM when libvirt allows it.
    MoveNicToNetwork {
        vm: String,
        mac: String,
        network: String,
    },
    /// The `org.qemu.guest_agent.0` channel, in the persistent configuration.
    AddGuestAgentChannel {
        vm: String,
    },
    /// Inside the running guest, through its agent: the guide's
    /// /etc/sysctl.d/99-disable-ipv6.conf, applied at once.
    DisableGuestIpv6 {
        vm: String,
    },
    /// Undoes [`Self::DisableGuestIpv6`]: the file as it was before
    /// (`None`: removed) and IPv6 on again now.
    RevertDisableGuestIpv6 {
        vm: String,
        previous: Option<String>,
    },
    /// Inside the running guest: the guide's APT-only alternative,
    /// /etc/apt/apt.conf.d/99force-ipv4.
    ForceAptIpv4 {
        vm: String,
    },
    /// Undoes [`Self::ForceAptIpv4`]: the file as it was before (`None`:
    /// removed).
    RevertForceAptIpv4 {
        vm: String,
        previous: Option<String>,
    },
    /// Inside the running guest: the guide's NetworkManager profile
    /// `kvm-dhcp` for `interface`, brought up (nmcli).
    CreateGuestDhcpProfile {
        vm: String,
        interface: String,
    },
    /// Deletes the guest's `kvm-dhcp` profiles (nmcli).
    RemoveGuestDhcpProfile {
        vm: String,
    },
}

impl LibvirtFix {
    /// The VM it changes; `None` for a virtual network.
    pub fn vm(&self) -> Option<&str> {
        match self {
            Self::DefineNetwork { .. }
            | Self::MoveNetworkSubnet { .. }
            | Self::StartNetwork { .. }
            | Self::AutostartNetwork { .. } => None,
            Self::SetLinkUp { vm, .. }
            | Self::SetLinkDown { vm, .. }
            | Self::SetNicModel { vm, .. }
            | Self::MoveNicToNetwork { vm, .. }
            | Self::AddGuestAgentChannel { vm }
            | Self::DisableGuestIpv6 { vm }
            | Self::RevertDisableGuestIpv6 { vm, .. }
            | Self::ForceAptIpv4 { vm }
            | Self::RevertForceAptIpv4 { vm, .. }
            | Self::CreateGuestDhcpProfile { vm, .. }
            | Self::RemoveGuestDhcpProfile { vm } => Some(vm),
        }
    }

    /// For a fix made inside the guest: the commands that make it by hand
    /// there, as the guide writes them; empty for other fixes.
    pub fn guest_commands(&self) -> Vec<String> {
        guest::manual_commands(self)
    }

    /// Whether it is made inside the guest, through its agent.
    pub fn is_in_guest(&self) -> bool {
        matches!(
            self,
            Self::DisableGuestIpv6 { .. }
                | Self::RevertDisableGuestIpv6 { .. }
                | Self::ForceAptIpv4 { .. }
                | Self::RevertForceAptIpv4 { .. }
                | Self::CreateGuestDhcpProfile { .. }
                | Self::RemoveGuestDhcpProfile { .. }
        )
    }
}

/// When a change is in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Now: the network or the running VM has it, or the VM is shut off and
    /// starts with it.
    Now,
    /// When the running VM is next started after a shutdown (a reboot inside
    /// the guest keeps the running definition); until then the VM runs as
    /// before.
    NextBoot,
}

/// One libvirt call a fix makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixStep {
    /// `virNetworkDefineXML`.
    DefineNetwork { network: String },
    /// `virNetworkDestroy`: the network stops (its VMs lose it until it
    /// starts again).
    StopNetwork { network: String },
    /// `virNetworkCreate`.
    StartNetwork { network: String },
    /// `virNetworkSetAutostart`.
    AutostartNetwork { network: String },
    /// `virDomainDefineXML` with the VM's persistent configuration, one
    /// device changed or added and every other byte as libvirt wrote it.
    RedefineVm { vm: String },
    /// `virDomainUpdateDeviceFlags(VIR_DOMAIN_AFFECT_LIVE)` with the
    /// running NIC's own XML, changed only as the fix says.
    UpdateRunningNic { vm: String, mac: String },
    /// `guest-file-open`/`guest-file-write` through the guest agent.
    WriteGuestFile { vm: String, path: String },
    /// `guest-exec` through the guest agent: a program and its arguments.
    RunInGuest { vm: String, argv: Vec<String> },
}

/// Which definition an XML change is made to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangedDefinition {
    Network {
        name: String,
    },
    /// What the VM boots with (`virsh dumpxml --inactive`).
    VmPersistent {
        vm: String,
    },
    /// The running VM (`virsh dumpxml`).
    VmRunning {
        vm: String,
    },
    /// A file inside the running guest (its text, not XML).
    GuestFile {
        vm: String,
        path: String,
    },
}

/// The exact XML of one device or network before and after a fix. An
/// empty `before` means it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlChange {
    pub definition: ChangedDefinition,
    pub before: String,
    pub after: String,
}

impl XmlChange {
    /// `diff -u` of the two, with the given header labels.
    pub fn diff(&self, before_label: &str, after_label: &str) -> String {
        unified_diff(&self.before, &self.after, before_label, after_label)
    }
}

/// What a fix would do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixPreview {
    /// The libvirt calls, in order; empty when the fix is already in place.
    pub steps: Vec<FixStep>,
    pub changes: Vec<XmlChange>,
    /// When it would be in effect.
    pub effect: Effect,
}

impl FixPreview {
    pub fn is_nothing_to_do(&self) -> bool {
        self.steps.is_empty()
    }
}

/// What applying a fix did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixReport {
    /// The libvirt calls made, in order; empty when it was already in place.
    pub done: Vec<FixStep>,
    pub changes: Vec<XmlChange>,
    pub effect: Effect,
    /// libvirt's words when it would not change the running VM, so the
    /// change waits for the next boot.
    pub running_vm_refused: Option<String>,
}

/// A fix that failed: the call that failed (none when it failed while
/// reading the current state), what was done before it, and libvirt's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct FixFailure {
    pub failed: Option<FixStep>,
    pub done: Vec<FixStep>,
    pub error: LibvirtError,
}

impl FixFailure {
    pub(crate) fn before_any_step(error: LibvirtError) -> Box<Self> {
        Box::new(Self { failed: None, done: Vec::new(), error })
    }
}

/// Which of a VM's definitions to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainXml {
    /// What it boots with (`virsh dumpxml --inactive`).
    Persistent,
    /// What runs now (`virsh dumpxml`); the persistent one when shut off.
    Running,
}

/// The VM's XML as libvirt prints it, e.g. to show it beside a preview or
/// to check a fix.
pub(crate) fn domain_xml(conn: &Connect, vm: &str, which: DomainXml) -> Result<String, LibvirtError> {
    let uri = conn.uri().map_err(|e| LibvirtError::from_call(&e))?;
    let domain = conn.lookup_domain_by_name(vm).map_err(|e| LibvirtError::from_change(&uri, &e))?;
    let flags = match which {
        DomainXml::Persistent => virt::sys::VIR_DOMAIN_XML_INACTIVE,
        DomainXml::Running => 0,
    };
    domain.xml_desc(flags).map_err(|e| LibvirtError::from_change(&uri, &e))
}

pub(crate) fn preview(conn: &Connect, fix: &LibvirtFix) -> Result<FixPreview, LibvirtError> {
    let uri = conn.uri().map_err(|e| LibvirtError::from_call(&e))?;
    match fix {
        LibvirtFix::DefineNetwork { name, xml } => network::plan_define(conn, &uri, name, xml),
        LibvirtFix::MoveNetworkSubnet { name, from, to } => network::plan_move(conn, &uri, name, *from, *to),
        LibvirtFix::StartNetwork { name } => network::plan_start(conn, &uri, name),
        LibvirtFix::AutostartNetwork { name } => network::plan_autostart(conn, &uri, name),
        LibvirtFix::SetLinkUp { .. }
        | LibvirtFix::SetLinkDown { .. }
        | LibvirtFix::SetNicModel { .. }
        | LibvirtFix::MoveNicToNetwork { .. }
        | LibvirtFix::AddGuestAgentChannel { .. } => vm::plan(conn, &uri, fix).map(|plan| plan.preview()),
        LibvirtFix::DisableGuestIpv6 { .. }
        | LibvirtFix::RevertDisableGuestIpv6 { .. }
        | LibvirtFix::ForceAptIpv4 { .. }
        | LibvirtFix::RevertForceAptIpv4 { .. }
        | LibvirtFix::CreateGuestDhcpProfile { .. }
        | LibvirtFix::RemoveGuestDhcpProfile { .. } => guest::plan(conn, fix),
    }
}

pub(crate) fn apply(conn: &Connect, fix: &LibvirtFix) -> Result<FixReport, Box<FixFailure>> {
    let uri = conn.uri().map_err(|e| FixFailure::before_any_step(LibvirtError::from_call(&e)))?;
    match fix {
        LibvirtFix::DefineNetwork { .. }
        | LibvirtFix::MoveNetworkSubnet { .. }
        | LibvirtFix::StartNetwork { .. }
        | LibvirtFix::AutostartNetwork { .. } => {
            let preview = preview(conn, fix).map_err(FixFailure::before_any_step)?;
            network::run(conn, &uri, preview, fix)
        }
        LibvirtFix::SetLinkUp { .. }
        | LibvirtFix::SetLinkDown { .. }
        | LibvirtFix::SetNicModel { .. }
        | LibvirtFix::MoveNicToNetwork { .. }
        | LibvirtFix::AddGuestAgentChannel { .. } => {
            vm::plan(conn, &uri, fix).map_err(FixFailure::before_any_step)?.run(conn, &uri)
        }
        LibvirtFix::DisableGuestIpv6 { vm }
        | LibvirtFix::RevertDisableGuestIpv6 { vm, .. }
        | LibvirtFix::ForceAptIpv4 { vm }
        | LibvirtFix::RevertForceAptIpv4 { vm, .. }
        | LibvirtFix::CreateGuestDhcpProfile { vm, .. }
        | LibvirtFix::RemoveGuestDhcpProfile { vm } => {
            let preview = guest::plan(conn, fix).map_err(FixFailure::before_any_step)?;
            guest::run(conn, vm, preview)
        }
    }
}
