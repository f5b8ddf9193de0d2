//! Writes an [`Element`] back as XML, in libvirt's own style (two-space
//! indentation, single-quoted attributes, `<x/>` for empty elements), and
//! small edits of the tree, for the fixes that change libvirt XML.
//!
//! libvirt's domain and network XML has no mixed content (text beside child
//! elements): an element's text is written only when it has no children,
//! or, when it has both, before them. Comments were dropped by the parser.

use crate::xml::Element;

impl Element {
    /// An element built in code, e.g. `<model type='virtio'/>`.
    pub fn new(name: &str, attributes: &[(&str, &str)]) -> Self {
        Element {
            name: name.to_owned(),
            attributes: attributes
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            ..Element::default()
        }
    }

    /// Sets an attribute, in place when it exists, else at the end.
    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self.attributes.iter_mut().find(|(key, _)| key == name) {
            Some((_, old)) => value.clone_into(old),
            None => self.attributes.push((name.to_owned(), value.to_owned())),
        }
    }

    pub fn remove_attr(&mut self, name: &str) {
        self.attributes.retain(|(key, _)| key != name);
    }

    /// The first child with this exact (qualified) name, to change it.
    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|child| child.name == name)
    }

    /// Removes every child with this exact (qualified) name.
    pub fn remove_children_named(&mut self, name: &str) {
        self.children.retain(|child| child.name != name);
    }

    /// The element as XML, without a trailing newline; nested lines are
    /// indented by two spaces per level.
    pub fn to_xml(&self) -> String {
        self.to_xml_indented("")
    }

    /// Like [`Element::to_xml`], with `indent` before every line but the
    /// first, for placing the element where another one was.
    pub fn to_xml_indented(&self, indent: &str) -> String {
        let mut out = String::new();
        write_element(&mut out, self, indent, 0);
        out
    }
}

fn write_element(out: &mut String, element: &Element, indent: &str, depth: usize) {
    out.push('<');
    out.push_str(&element.name);
    for (key, value) in &element.attributes {
        out.push(' ');
        out.push_str(key);
        out.push_str("='");
        escape_into(out, value);
        out.push('\'');
    }
    let text_is_blank = element.text.trim().is_empty();
    if element.children.is_empty() {
        if element.text.is_empty() {
            out.push_str("/>");
        } else {
            out.push('>');
            escape_into(out, &element.text);
            close(out, element);
        }
        return;
    }
    out.push('>');
    if !text_is_blank {
        new_line(out, indent, depth + 1);
        escape_into(out, element.text.trim());
    }
    for child in &element.children {
        new_line(out, indent, depth + 1);
        write_element(out, child, indent, depth + 1);
    }
    new_line(out, indent, depth);
    close(out, element);
}

fn close(out: &mut String, element: &Element) {
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}

fn new_line(out: &mut String, indent: &str, depth: usize) {
    out.push('\n');
    out.push_str(indent);
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Escapes the five XML special characters, as libvirt does in both text
/// and attribute values.
fn escape_into(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::xml::{Element, parse};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn writes_libvirt_style_and_reads_back_the_same_tree() -> TestResult {
        let text = "<interface type='network'>\n  <mac address='52:54:00:6b:3c:58'/>\n  \
                    <source network='default'/>\n  <model type='virtio'/>\n  \
                    <description>a &amp; b &lt;c&gt; &apos;d&apos; &quot;e&quot;</description>\n</interface>";
        let element = parse(text)?;
        assert_eq!(element.to_xml(), text);
        let again = parse(&element.to_xml())?;
        assert_eq!(again.to_xml(), element.to_xml());
        Ok(())
    }

    #[test]
    fn continuation_lines_take_the_given_indent() -> TestResult {
        let element = parse("<a><b x='1'/></a>")?;
        assert_eq!(element.to_xml_indented("    "), "<a>\n      <b x='1'/>\n    </a>");
        Ok(())
    }

    #[test]
    fn attribute_values_are_escaped() {
        let element = Element::new("x", &[("v", "it's <&> \"q\"")]);
        assert_eq!(element.to_xml(), "<x v='it&apos;s &lt;&amp;&gt; &quot;q&quot;'/>");
    }

    #[test]
    fn edits_change_only_what_they_name() -> TestResult {
        let mut element = parse("<i type='user'><mac address='m'/><backend type='passt'/><x/><x/></i>")?;
        element.set_attr("type", "network");
        element.set_attr("new", "1");
        element.remove_children_named("x");
        if let Some(backend) = element.child_mut("backend") {
            backend.remove_attr("type");
        }
        assert_eq!(element.to_xml(), "<i type='network' new='1'>\n  <mac address='m'/>\n  <backend/>\n</i>");
        Ok(())
    }
}
