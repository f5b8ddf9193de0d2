//! Edits of one `<interface>` element: each returns the changed copy and
//! leaves everything it does not name (MAC, model, driver, PCI address,
//! boot order, …) as it was.

use crate::xml::Element;

/// The `<interface>` in `<devices>` whose `<mac address>` is `mac`
/// (compared case-insensitively).
pub fn interface_by_mac<'a>(domain: &'a Element, mac: &str) -> Option<&'a Element> {
    domain.children_named("devices").flat_map(|devices| devices.children_named("interface")).find(|nic| {
        nic.child("mac")
            .and_then(|m| m.attr("address"))
            .is_some_and(|address| address.eq_ignore_ascii_case(mac))
    })
}

/// The NIC with `<link state='up'/>`. Without a `<link>` element the link
/// is already up (libvirt's default), and the copy is unchanged.
pub fn with_link_up(interface: &Element) -> Element {
    let mut edited = interface.clone();
    if let Some(link) = edited.child_mut("link") {
        link.set_attr("state", "up");
    }
    edited
}

/// The NIC with `<link state='down'/>`: the virtual cable unplugged, as
/// virt-manager's unticked "Link state: active" writes it.
pub fn with_link_down(interface: &Element) -> Element {
    let mut edited = interface.clone();
    if let Some(link) = edited.child_mut("link") {
        link.set_attr("state", "down");
    } else {
        let link = Element::new("link", &[("state", "down")]);
        insert_after(&mut edited, &["model", "source", "mac"], link);
    }
    edited
}

/// The NIC with `<model type=MODEL/>`.
pub fn with_model(interface: &Element, model: &str) -> Element {
    let mut edited = interface.clone();
    match edited.child_mut("model") {
        Some(element) => element.set_attr("type", model),
        None => insert_after(&mut edited, &["source", "mac"], Element::new("model", &[("type", model)])),
    }
    edited
}

/// Where the old NIC type kept its connection; none of it means anything
/// on a virtual network.
const SOURCE_SPECIFIC: &[&str] = &["source", "virtualport", "portForward", "ip", "route"];

/// The NIC as `<interface type='network'>` with `<source network=NETWORK/>`.
/// What belonged to the old connection type goes: its `<source>`,
/// `<virtualport>`, passt's `<portForward>`, user-mode `<ip>`/`<route>`,
/// the `passt` backend, and the `<target>` of a NIC that had no tap device.
pub fn moved_to_network(interface: &Element, network: &str) -> Element {
    let mut edited = interface.clone();
    let old_type = interface.attr("type").unwrap_or("user").to_owned();
    edited.set_attr("type", "network");
    edited.remove_attr("managed");
    for name in SOURCE_SPECIFIC {
        edited.remove_children_named(name);
    }
    // A tap device carries over (libvirt refuses to rename a running NIC's
    // tap); macvtap, passt and the others have no tap to keep.
    if !matches!(old_type.as_str(), "network" | "bridge" | "ethernet") {
        edited.remove_children_named("target");
    }
    if let Some(backend) = edited.child_mut("backend") {
        backend.remove_attr("type");
        backend.remove_attr("logFile");
    }
    if edited
        .child("backend")
        .is_some_and(|backend| backend.attributes.is_empty() && backend.children.is_empty())
    {
        edited.remove_children_named("backend");
    }
    insert_after(&mut edited, &["mac"], Element::new("source", &[("network", network)]));
    edited
}

/// Inserts `new` after the first existing child named in `after` (in order
/// of preference), else first.
fn insert_after(parent: &mut Element, after: &[&str], new: Element) {
    let position = after
        .iter()
        .find_map(|name| parent.children.iter().position(|child| child.name == *name))
        .map_or(0, |index| index + 1);
    parent.children.insert(position, new);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const DOMAIN: &str = "<domain><devices>\
        <interface type='network'><mac address='52:54:00:AA:00:01'/><source network='default'/>\
        <model type='e1000'/><link state='down'/><address type='pci' bus='0x01'/></interface>\
        <interface type='user'><mac address='52:54:00:aa:00:02'/><backend type='passt' logFile='/l'/>\
        <portForward proto='tcp'><range start='2222' to='22'/></portForward><model type='virtio'/>\
        <alias name='net1'/></interface>\
        <interface type='direct'><mac address='52:54:00:aa:00:03'/><source dev='eth0' mode='bridge'/>\
        <target dev='macvtap0'/><model type='virtio'/></interface>\
        </devices></domain>";

    fn nic(mac: &str) -> Result<Element, Box<dyn std::error::Error>> {
        let root = parse(DOMAIN)?;
        Ok(interface_by_mac(&root, mac).ok_or("no such NIC")?.clone())
    }

    #[test]
    fn finds_nics_by_mac_in_any_case() -> TestResult {
        assert_eq!(nic("52:54:00:aa:00:01")?.attr("type"), Some("network"));
        assert_eq!(nic("52:54:00:AA:00:02")?.attr("type"), Some("user"));
        assert!(nic("52:54:00:aa:00:09").is_err());
        Ok(())
    }

    #[test]
    fn link_up_changes_only_the_link_state() -> TestResult {
        let before = nic("52:54:00:aa:00:01")?;
        let after = with_link_up(&before);
        assert_eq!(after.to_xml(), before.to_xml().replace("state='down'", "state='up'"));
        let already = nic("52:54:00:aa:00:02")?;
        assert_eq!(with_link_up(&already).to_xml(), already.to_xml());
        Ok(())
    }

    #[test]
    fn link_down_unplugs_only_the_link() -> TestResult {
        let down = nic("52:54:00:aa:00:01")?;
        assert_eq!(with_link_down(&down).to_xml(), down.to_xml());
        let up = with_link_up(&down);
        assert_eq!(with_link_down(&up).to_xml(), down.to_xml());
        let without_link = nic("52:54:00:aa:00:03")?;
        assert_eq!(
            with_link_down(&without_link).to_xml(),
            without_link
                .to_xml()
                .replace("<model type='virtio'/>", "<model type='virtio'/>\n  <link state='down'/>")
        );
        Ok(())
    }

    #[test]
    fn model_changes_only_the_model() -> TestResult {
        let before = nic("52:54:00:aa:00:01")?;
        assert_eq!(with_model(&before, "virtio").to_xml(), before.to_xml().replace("e1000", "virtio"));
        let mut bare = before;
        bare.remove_children_named("model");
        let added = with_model(&bare, "virtio");
        assert_eq!(added.children.get(2).map(|c| c.to_xml()).as_deref(), Some("<model type='virtio'/>"));
        Ok(())
    }

    #[test]
    fn moving_user_mode_to_a_network_drops_only_what_passt_needed() -> TestResult {
        let after = moved_to_network(&nic("52:54:00:aa:00:02")?, "default");
        assert_eq!(
            after.to_xml(),
            "<interface type='network'>\n  <mac address='52:54:00:aa:00:02'/>\n  \
             <source network='default'/>\n  <model type='virtio'/>\n  <alias name='net1'/>\n</interface>"
        );
        Ok(())
    }

    #[test]
    fn moving_macvtap_keeps_model_and_drops_its_device() -> TestResult {
        let after = moved_to_network(&nic("52:54:00:aa:00:03")?, "lab");
        assert_eq!(
            after.to_xml(),
            "<interface type='network'>\n  <mac address='52:54:00:aa:00:03'/>\n  \
             <source network='lab'/>\n  <model type='virtio'/>\n</interface>"
        );
        Ok(())
    }

    #[test]
    fn moving_between_networks_keeps_link_model_and_address() -> TestResult {
        let before = nic("52:54:00:aa:00:01")?;
        let after = moved_to_network(&before, "other");
        assert_eq!(after.to_xml(), before.to_xml().replace("network='default'", "network='other'"));
        Ok(())
    }
}
