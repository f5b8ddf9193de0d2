//! The guest agent's channel, as virt-manager adds it.

use crate::domain::GUEST_AGENT_CHANNEL_NAME;
use crate::xml::Element;

/// `<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>`;
/// libvirt picks the socket path and adds a virtio-serial controller when
/// the VM has none.
pub fn guest_agent_channel() -> Element {
    let mut channel = Element::new("channel", &[("type", "unix")]);
    channel.children.push(Element::new("target", &[("type", "virtio"), ("name", GUEST_AGENT_CHANNEL_NAME)]));
    channel
}
