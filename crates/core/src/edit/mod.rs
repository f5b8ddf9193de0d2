//! Pure edits of libvirt XML for the fixes: build the changed element, then
//! put it into the document in place of the old one, so every other byte
//! of what libvirt wrote stays as it was.

mod guest_agent;
mod interface;
mod network_subnet;

pub use guest_agent::guest_agent_channel;
pub use interface::{interface_by_mac, moved_to_network, with_link_down, with_link_up, with_model};
pub use network_subnet::renumbered;

use crate::xml::Element;

/// Why an edit could not be placed into a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The element does not come from this document (its span does not
    /// point at an element in it).
    #[error("the <{element}> element is not where the document says it is")]
    NotInDocument { element: String },
}

/// `document` with `old` (an element parsed from it) replaced by `new`.
pub fn replace_element(document: &str, old: &Element, new: &Element) -> Result<String, EditError> {
    check_span(document, old)?;
    let indent = indent_before(document, old.span.start);
    let mut edited = String::with_capacity(document.len() + 64);
    edited.push_str(&document[..old.span.start]);
    edited.push_str(&new.to_xml_indented(indent));
    edited.push_str(&document[old.span.end..]);
    Ok(edited)
}

/// `document` with `child` added as the last child of `parent` (an element
/// parsed from it).
pub fn append_child(document: &str, parent: &Element, child: &Element) -> Result<String, EditError> {
    check_span(document, parent)?;
    let Some(last) = parent.children.last() else {
        // `<devices/>` or `<devices></devices>`: write the parent anew.
        let mut replaced = parent.clone();
        replaced.children.push(child.clone());
        return replace_element(document, parent, &replaced);
    };
    check_span(document, last)?;
    let indent = indent_before(document, last.span.start);
    let mut edited = String::with_capacity(document.len() + 128);
    edited.push_str(&document[..last.span.end]);
    edited.push('\n');
    edited.push_str(indent);
    edited.push_str(&child.to_xml_indented(indent));
    edited.push_str(&document[last.span.end..]);
    Ok(edited)
}

fn check_span(document: &str, element: &Element) -> Result<(), EditError> {
    let fits = document
        .get(element.span.clone())
        .is_some_and(|text| text.starts_with('<') && text[1..].starts_with(element.name.as_str()));
    if fits { Ok(()) } else { Err(EditError::NotInDocument { element: element.name.clone() }) }
}

/// The blanks between the start of the line and `offset`, when only blanks
/// are there.
fn indent_before(document: &str, offset: usize) -> &str {
    let line_start = document[..offset].rfind('\n').map_or(0, |newline| newline + 1);
    let before = &document[line_start..offset];
    if before.chars().all(|ch| ch == ' ' || ch == '\t') { before } else { "" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const DOMAIN: &str = "<domain type='kvm'>\n  <name>vm</name>\n  <devices>\n    \
                          <interface type='network'>\n      <mac address='52:54:00:00:00:01'/>\n      \
                          <link state='down'/>\n    </interface>\n    <memballoon model='virtio'/>\n  \
                          </devices>\n</domain>\n";

    #[test]
    fn replacing_keeps_every_other_byte() -> TestResult {
        let root = parse(DOMAIN)?;
        let old = root.find("devices/interface").ok_or("no interface")?;
        let new = with_link_up(old);
        let edited = replace_element(DOMAIN, old, &new)?;
        assert_eq!(edited, DOMAIN.replace("state='down'", "state='up'"));
        Ok(())
    }

    #[test]
    fn appending_goes_after_the_last_child_at_its_indent() -> TestResult {
        let root = parse(DOMAIN)?;
        let devices = root.child("devices").ok_or("no devices")?;
        let edited = append_child(DOMAIN, devices, &guest_agent_channel())?;
        let want = DOMAIN.replace(
            "<memballoon model='virtio'/>\n",
            "<memballoon model='virtio'/>\n    <channel type='unix'>\n      \
             <target type='virtio' name='org.qemu.guest_agent.0'/>\n    </channel>\n",
        );
        assert_eq!(edited, want);
        assert!(parse(&edited).is_ok());
        Ok(())
    }

    #[test]
    fn appending_to_an_empty_parent_writes_it_anew() -> TestResult {
        let document = "<domain>\n  <devices/>\n</domain>";
        let root = parse(document)?;
        let devices = root.child("devices").ok_or("no devices")?;
        let edited = append_child(document, devices, &Element::new("x", &[]))?;
        assert_eq!(edited, "<domain>\n  <devices>\n    <x/>\n  </devices>\n</domain>");
        Ok(())
    }

    #[test]
    fn an_element_from_another_document_is_refused() -> TestResult {
        let other = parse("<other><interface/></other>")?;
        let element = other.child("interface").ok_or("no interface")?;
        assert!(replace_element("<x/>", element, element).is_err());
        assert!(replace_element(DOMAIN, &Element::new("interface", &[]), element).is_err());
        Ok(())
    }
}
