//! A VM as libvirt describes it (`virsh dumpxml`).
//!
//! See <https://libvirt.org/formatdomain.html>.

use crate::interface::Interface;
use crate::xml::{self, Element, XmlError};

/// The virtio-serial port name qemu-guest-agent listens on.
pub const GUEST_AGENT_CHANNEL_NAME: &str = "org.qemu.guest_agent.0";

/// The virtio-serial channel `org.qemu.guest_agent.0` through which libvirt
/// talks to qemu-guest-agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAgentChannel {
    /// `<target state=…>` in live XML: `connected` once the agent answers.
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainConfig {
    pub name: String,
    pub uuid: Option<String>,
    /// `<domain type=…>`: kvm, qemu, test, …
    pub hypervisor: String,
    pub title: Option<String>,
    /// `<os><type arch=… machine=…>`: what libvirt's defaults depend on.
    pub os: OsType,
    pub interfaces: Vec<Interface>,
    pub guest_agent_channel: Option<GuestAgentChannel>,
}

/// `<os><type arch='x86_64' machine='pc-q35-9.2'>hvm</type>`. libvirt fills
/// both in when it defines a VM; XML from elsewhere may lack them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsType {
    pub arch: Option<String>,
    pub machine: Option<String>,
}

impl DomainConfig {
    /// The NIC with this MAC address (compared case-insensitively).
    pub fn interface_by_mac(&self, mac: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|nic| nic.mac.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(mac)))
    }
}

/// Reads domain XML as `virsh dumpxml` (or `virDomainGetXMLDesc`) prints it,
/// live or inactive.
///
/// Only `<name>` is required, because everything else is looked up by it;
/// any other missing value is `None` or libvirt's default. Unknown elements,
/// attributes and namespaced `<metadata>` are ignored.
pub fn parse_domain_xml(xml: &str) -> Result<DomainConfig, XmlError> {
    let root = xml::parse(xml)?;
    if root.name != "domain" {
        return Err(XmlError::UnexpectedRoot { expected: "domain", found: root.name });
    }
    let name = root.child_text("name").ok_or(XmlError::Missing { element: "domain", missing: "<name>" })?;
    let devices = || root.children_named("devices").flat_map(|devices| devices.children.iter());
    Ok(DomainConfig {
        name: name.to_owned(),
        uuid: root.child_text("uuid").map(str::to_owned),
        hypervisor: root.attr("type").unwrap_or_default().trim().to_owned(),
        title: root.child_text("title").map(str::to_owned),
        os: root.child("os").and_then(|os| os.child("type")).map(os_type).unwrap_or_default(),
        interfaces: devices()
            .filter(|device| device.name == "interface")
            .map(Interface::from_element)
            .collect(),
        guest_agent_channel: devices().find_map(guest_agent_channel),
    })
}

fn os_type(element: &Element) -> OsType {
    let value = |name| element.attr_nonempty(name).map(|value: &str| value.trim().to_owned());
    OsType { arch: value("arch"), machine: value("machine") }
}

/// `<channel type='unix'>` with `<target type='virtio' name='org.qemu.guest_agent.0'>`:
/// the only kind of channel libvirt itself talks to the agent through.
fn guest_agent_channel(device: &Element) -> Option<GuestAgentChannel> {
    if device.name != "channel" || device.attr("type") != Some("unix") {
        return None;
    }
    let target = device.child("target")?;
    if target.attr("type") != Some("virtio") || target.attr("name") != Some(GUEST_AGENT_CHANNEL_NAME) {
        return None;
    }
    Some(GuestAgentChannel { state: target.attr_nonempty("state").map(str::to_owned) })
}
