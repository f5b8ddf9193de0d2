//! A small element tree over quick-xml, just enough for libvirt's XML.
//!
//! libvirt documents are small (a few kB) and we look at a handful of
//! elements in each, so an owned tree is simpler to query than streaming
//! events. Names are kept exactly as written (`libosinfo:os` stays
//! prefixed): libvirt's own elements are never prefixed, so a lookup for
//! `name` can never pick up someone's `<app:name>` from `<metadata>`.
//! Unknown elements and attributes are kept, never rejected; only XML that is
//! not well-formed is an error.

use std::borrow::Cow;
use std::ops::Range;

use quick_xml::XmlVersion;
use quick_xml::escape::{EscapeError, resolve_predefined_entity};
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, errors::Error as QuickXmlError};

/// Deeper nesting than this is rejected: libvirt's XML is about 6 levels deep,
/// and a bound keeps a hostile document from overflowing the stack when the
/// tree is dropped.
const MAX_DEPTH: usize = 256;

/// Why a libvirt XML document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The text is not well-formed XML.
    #[error("malformed XML at line {line}, column {column}: {message}")]
    Malformed { line: usize, column: usize, message: String },
    /// Well-formed, but not the kind of document asked for (e.g. a network
    /// given to the domain parser).
    #[error("expected a <{expected}> document, found <{found}>")]
    UnexpectedRoot { expected: &'static str, found: String },
    /// A value libvirt always writes is absent, so the document cannot name
    /// what it describes.
    #[error("<{element}> has no {missing}")]
    Missing { element: &'static str, missing: &'static str },
}

/// One XML element with everything inside it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The qualified name as written, e.g. `interface` or `libosinfo:os`.
    pub name: String,
    /// Attributes in document order, values unescaped.
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own character data (text and CDATA, unescaped,
    /// concatenated), without its children's.
    pub text: String,
    /// Where the element is in the parsed document, in bytes: from its `<`
    /// to the end of its end tag, so an edit can replace exactly this
    /// element and keep every other byte (see [`crate::edit`]). Empty for
    /// an element built in code.
    pub span: Range<usize>,
}

impl Element {
    /// Parses a whole document and returns its root element.
    pub fn parse(xml: &str) -> Result<Element, XmlError> {
        parse(xml)
    }

    /// The name without its namespace prefix.
    pub fn local_name(&self) -> &str {
        self.name.split_once(':').map_or(self.name.as_str(), |(_, local)| local)
    }

    /// The namespace prefix, if the name has one.
    pub fn prefix(&self) -> Option<&str> {
        self.name.split_once(':').map(|(prefix, _)| prefix)
    }

    /// The value of the attribute with this exact (qualified) name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Like [`Element::attr`], but an empty or blank value counts as absent,
    /// which is what libvirt does for most of its attributes.
    pub fn attr_nonempty(&self, name: &str) -> Option<&str> {
        self.attr(name).map(str::trim).filter(|value| !value.is_empty())
    }

    /// The first child with this exact (qualified) name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// Every child with this exact (qualified) name, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The first element down a `/`-separated path of child names, e.g.
    /// `source/address`.
    pub fn find(&self, path: &str) -> Option<&Element> {
        path.split('/').filter(|step| !step.is_empty()).try_fold(self, |element, step| element.child(step))
    }

    /// The element's text with surrounding whitespace removed: libvirt
    /// indents its output, and none of the values we read are whitespace.
    pub fn text(&self) -> &str {
        self.text.trim()
    }

    /// The trimmed text of the first child with this name, if it has any.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(Element::text).filter(|text| !text.is_empty())
    }
}

/// Parses a whole document and returns its root element.
///
/// Comments, processing instructions, the XML declaration and a DOCTYPE are
/// skipped. Character and predefined entity references are resolved; any other
/// entity is an error because libvirt never declares entities.
pub fn parse(xml: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(xml);
    let mut version = XmlVersion::Implicit1_0;
    // Open elements with the byte offset of their start tag, for messages.
    let mut stack: Vec<(Element, usize)> = Vec::new();
    let mut root: Option<Element> = None;

    loop {
        let event_start = to_usize(reader.buffer_position());
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                return Err(malformed(xml, to_usize(reader.error_position()), error.to_string()));
            }
        };
        match event {
            Event::Start(start) => {
                let element = open_element(xml, &start, event_start, version)?;
                check_single_root(xml, root.as_ref(), &stack, &element, event_start)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed(
                        xml,
                        event_start,
                        format!("elements are nested more than {MAX_DEPTH} levels deep"),
                    ));
                }
                stack.push((element, event_start));
            }
            Event::Empty(start) => {
                let mut element = open_element(xml, &start, event_start, version)?;
                check_single_root(xml, root.as_ref(), &stack, &element, event_start)?;
                element.span = event_start..to_usize(reader.buffer_position());
                attach(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                // quick-xml has already checked that the name matches.
                let Some((mut element, start)) = stack.pop() else {
                    return Err(malformed(xml, event_start, "closing tag without an opening tag".into()));
                };
                element.span = start..to_usize(reader.buffer_position());
                attach(&mut stack, &mut root, element);
            }
            Event::Text(text) => {
                let content = text.xml_content(version);
                push_text(xml, &mut stack, &content, event_start)?;
            }
            Event::CData(cdata) => {
                let content = cdata.xml_content(version);
                push_text(xml, &mut stack, &content, event_start)?;
            }
            Event::GeneralRef(reference) => {
                let resolved =
                    resolve_reference(&reference).map_err(|message| malformed(xml, event_start, message))?;
                push_text(xml, &mut stack, &resolved, event_start)?;
            }
            Event::Decl(decl) => {
                version =
                    decl.xml_version().map_err(|error| malformed(xml, event_start, error.to_string()))?;
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }

    if let Some((element, start)) = stack.last() {
        return Err(malformed(xml, *start, format!("<{}> is never closed", element.name)));
    }
    root.ok_or_else(|| malformed(xml, xml.len(), "the document has no root element".into()))
}

/// Builds an element (without children yet) from a start tag at `offset`.
fn open_element(
    xml: &str,
    start: &BytesStart<'_>,
    offset: usize,
    version: XmlVersion,
) -> Result<Element, XmlError> {
    let name = start.name();
    let mut element = Element { name: name.as_ref().to_owned(), ..Element::default() };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| {
            // quick-xml counts from the tag name, just after `<`.
            let (position, problem) = describe_attr_error(&error);
            malformed(xml, offset + 1 + position, format!("in <{}>: {problem}", element.name))
        })?;
        let key = attribute.key.as_ref();
        let value = attribute.normalized_value(version).map_err(|error| {
            let problem = match &error {
                QuickXmlError::Escape(EscapeError::UnrecognizedEntity(_, entity)) => {
                    format!("unknown entity &{entity}; (libvirt XML declares no entities)")
                }
                QuickXmlError::Escape(EscapeError::UnterminatedEntity(_)) => {
                    "`&` not followed by an entity name and `;`".to_owned()
                }
                other => other.to_string(),
            };
            malformed(xml, offset, format!("in attribute {key} of <{}>: {problem}", element.name))
        })?;
        element.attributes.push((key.to_owned(), value.into_owned()));
    }
    Ok(element)
}

/// quick-xml's attribute errors without its tag-relative position, which is
/// returned separately so the message can give line and column instead.
fn describe_attr_error(error: &AttrError) -> (usize, &'static str) {
    match *error {
        AttrError::ExpectedEq(at) => (at, "expected `=` after the attribute name"),
        AttrError::ExpectedValue(at) => (at, "attribute has no value"),
        AttrError::UnquotedValue(at) => (at, "attribute value is not in quotes"),
        AttrError::ExpectedQuote(at, _) => (at, "attribute value is not closed by its quote"),
        AttrError::Duplicated(at, _) => (at, "the same attribute appears twice"),
    }
}

/// A document has exactly one root element; quick-xml does not check that.
fn check_single_root(
    xml: &str,
    root: Option<&Element>,
    stack: &[(Element, usize)],
    element: &Element,
    offset: usize,
) -> Result<(), XmlError> {
    match root {
        Some(root) if stack.is_empty() => Err(malformed(
            xml,
            offset,
            format!("second root element <{}> after <{}>", element.name, root.name),
        )),
        _ => Ok(()),
    }
}

/// Hangs a finished element under its parent, or makes it the root.
fn attach(stack: &mut [(Element, usize)], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some((parent, _)) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// Adds character data to the open element; outside the root only
/// whitespace is allowed.
fn push_text(xml: &str, stack: &mut [(Element, usize)], text: &str, offset: usize) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some((element, _)) => {
            element.text.push_str(text);
            Ok(())
        }
        None if text.chars().all(char::is_whitespace) => Ok(()),
        None => Err(malformed(xml, offset, "text outside the root element".into())),
    }
}

/// `&#38;`, `&#x26;` and the five predefined entities.
fn resolve_reference(reference: &BytesRef<'_>) -> Result<Cow<'static, str>, String> {
    let name: &str = reference;
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(ch)) => Ok(Cow::Owned(ch.to_string())),
            Ok(None) | Err(_) => Err(format!("invalid character reference &{name};")),
        };
    }
    resolve_predefined_entity(name)
        .map(Cow::Borrowed)
        .ok_or_else(|| format!("unknown entity &{name}; (libvirt XML declares no entities)"))
}

fn malformed(xml: &str, offset: usize, message: String) -> XmlError {
    let (line, column) = line_column(xml, offset);
    XmlError::Malformed { line, column, message }
}

fn to_usize(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(xml: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(xml.len());
    while !xml.is_char_boundary(end) {
        end -= 1;
    }
    let before = &xml[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn builds_the_tree_with_attributes_children_and_text() -> TestResult {
        let root = parse("<a x='1' y=\"two\"><b>hello</b><c/><b>again</b></a>")?;
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1"));
        assert_eq!(root.attr("y"), Some("two"));
        assert_eq!(root.attr("z"), None);
        assert_eq!(root.children.len(), 3);
        assert_eq!(root.child_text("b"), Some("hello"));
        assert_eq!(root.children_named("b").map(Element::text).collect::<Vec<_>>(), ["hello", "again"]);
        assert!(root.child("c").is_some_and(|c| c.children.is_empty() && c.text.is_empty()));
        Ok(())
    }

    #[test]
    fn spans_cover_each_element_exactly() -> TestResult {
        let xml = "<?xml version='1.0'?>\n<a>\n  <b x='1'>t<c/></b>\n  <d></d>\n</a>\n";
        let root = parse(xml)?;
        assert_eq!(&xml[root.span.clone()], "<a>\n  <b x='1'>t<c/></b>\n  <d></d>\n</a>");
        let b = root.child("b").ok_or("no b")?;
        assert_eq!(&xml[b.span.clone()], "<b x='1'>t<c/></b>");
        assert_eq!(b.child("c").map(|c| &xml[c.span.clone()]), Some("<c/>"));
        assert_eq!(root.child("d").map(|d| &xml[d.span.clone()]), Some("<d></d>"));
        Ok(())
    }

    #[test]
    fn find_walks_a_path_of_children() -> TestResult {
        let root = parse("<i><source><address bus='0x03'/></source></i>")?;
        assert_eq!(root.find("source/address").and_then(|a| a.attr("bus")), Some("0x03"));
        assert!(root.find("source/local").is_none());
        assert_eq!(root.find("").map(|e| e.name.as_str()), Some("i"));
        Ok(())
    }

    #[test]
    fn unescapes_text_and_attributes() -> TestResult {
        let root = parse(
            "<t a='x &amp; &lt;y&gt; &#65;&#x42; &quot;q&quot; &apos;'>Tom &amp; Jerry&apos;s &#x263A;</t>",
        )?;
        assert_eq!(root.attr("a"), Some("x & <y> AB \"q\" '"));
        assert_eq!(root.text(), "Tom & Jerry's \u{263A}");
        Ok(())
    }

    #[test]
    fn cdata_is_text_and_not_markup() -> TestResult {
        let root = parse("<s>a <![CDATA[<b> & </b>]]> c</s>")?;
        assert_eq!(root.text(), "a <b> & </b> c");
        assert!(root.children.is_empty());
        Ok(())
    }

    #[test]
    fn text_is_trimmed_but_kept_raw_in_the_field() -> TestResult {
        let root = parse("<n>\n  debian13\n</n>")?;
        assert_eq!(root.text(), "debian13");
        assert_eq!(root.text, "\n  debian13\n");
        Ok(())
    }

    #[test]
    fn prefixed_names_are_kept_and_do_not_match_plain_names() -> TestResult {
        let root = parse(
            "<domain xmlns:app='urn:x'><metadata><app:name app:id='1'>x</app:name></metadata>\
             <name>real</name><test:runstate>5</test:runstate></domain>",
        )?;
        assert_eq!(root.child_text("name"), Some("real"));
        let app = root.find("metadata/app:name");
        assert_eq!(app.map(Element::local_name), Some("name"));
        assert_eq!(app.and_then(Element::prefix), Some("app"));
        assert_eq!(app.and_then(|e| e.attr("app:id")), Some("1"));
        assert_eq!(root.child_text("test:runstate"), Some("5"));
        assert_eq!(root.attr("xmlns:app"), Some("urn:x"));
        Ok(())
    }

    #[test]
    fn skips_declaration_comments_doctype_and_instructions() -> TestResult {
        let root = parse(
            "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE network>\n<!-- captured -->\n\
             <?pi data?><network><!-- inner --><name>default</name></network>\n<!-- trailer -->\n",
        )?;
        assert_eq!(root.child_text("name"), Some("default"));
        Ok(())
    }

    #[test]
    fn attr_nonempty_treats_blank_as_absent() -> TestResult {
        let root = parse("<a x='' y='  ' z=' v '/>")?;
        assert_eq!(root.attr("x"), Some(""));
        assert_eq!(root.attr_nonempty("x"), None);
        assert_eq!(root.attr_nonempty("y"), None);
        assert_eq!(root.attr_nonempty("z"), Some("v"));
        Ok(())
    }

    #[test]
    fn carriage_returns_are_normalized() -> TestResult {
        let root = parse("<a>x\r\ny</a>")?;
        assert_eq!(root.text(), "x\ny");
        Ok(())
    }

    fn malformed_at(xml: &str) -> Option<(usize, usize, String)> {
        match parse(xml) {
            Err(XmlError::Malformed { line, column, message }) => Some((line, column, message)),
            _ => None,
        }
    }

    #[test]
    fn malformed_documents_are_errors_with_a_position() {
        let cases: &[(&str, &str, usize)] = &[
            ("", "no root element", 1),
            ("   \n  ", "no root element", 2),
            ("<a>\n  <b>\n</a>", "", 3),
            ("<a>\n<b></c></a>", "", 2),
            ("<a>", "never closed", 1),
            ("<a>\n  <b>", "<b> is never closed", 2),
            ("<a></a>\n<b/>", "second root element <b>", 2),
            ("<a/>junk", "text outside the root element", 1),
            ("junk<a/>", "text outside the root element", 1),
            ("<a>&nbsp;</a>", "unknown entity &nbsp;", 1),
            ("<a>&#xFFFFFFFF;</a>", "invalid character reference", 1),
            ("<a x='1' x='2'/>", "in <a>: the same attribute appears twice", 1),
            ("<a\n x=1/>", "in <a>: attribute value is not in quotes", 2),
            ("<a x='&bogus;'/>", "in attribute x of <a>: unknown entity &bogus;", 1),
            ("<a x='& y'/>", "in attribute x of <a>: `&` not followed", 1),
            ("<a><!-- unterminated", "", 1),
            ("<a><![CDATA[ unterminated", "", 1),
            ("<a\n  b='", "", 1),
            ("</a>", "", 1),
            ("<a>& b</a>", "", 1),
        ];
        for (xml, expected, line) in cases {
            let Some((got_line, column, message)) = malformed_at(xml) else {
                panic!("{xml:?} should be malformed, got {:?}", parse(xml));
            };
            assert!(message.contains(expected), "{xml:?}: message {message:?} lacks {expected:?}");
            assert_eq!(got_line, *line, "{xml:?}: line of {message:?}");
            assert!(column >= 1, "{xml:?}: column {column}");
        }
    }

    #[test]
    fn attribute_errors_point_at_the_attribute() {
        assert_eq!(malformed_at("<a x='1' x='2'/>").map(|(line, column, _)| (line, column)), Some((1, 10)));
        assert_eq!(malformed_at("<a>\n <b\n  y=2/>").map(|(line, column, _)| (line, column)), Some((3, 5)));
    }

    #[test]
    fn error_messages_name_the_position() {
        let error = parse("<domain>\n  <name>x</nam>\n</domain>").map_err(|e| e.to_string());
        let Err(message) = error else {
            panic!("mismatched end tag must fail");
        };
        assert!(message.starts_with("malformed XML at line 2, column"), "{message}");
        assert!(message.contains("name"), "{message}");
    }

    #[test]
    fn very_deep_nesting_is_an_error_not_a_crash() {
        let xml = "<a>".repeat(100_000);
        let result = parse(&xml);
        assert!(
            matches!(&result, Err(XmlError::Malformed { message, .. }) if message.contains("nested")),
            "{result:?}"
        );
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 3), (2, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ü\nüx", 5), (2, 2));
        // An offset inside a multi-byte character or past the end is clamped.
        assert_eq!(line_column("ü", 1), (1, 1));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
