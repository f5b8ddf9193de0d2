//! One finding as an expandable row: severity icon, title and explanation,
//! with the evidence, the fix and what it causes inside, and a Fix… button
//! when it has one.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::glib;
use vmnet_doctor_core::rules::{consequences, explained_by};
use vmnet_doctor_core::{Finding, Severity, Snapshot};

use crate::describe;
use crate::i18n::fill;
use crate::ui::plain_texts::plain_texts;

/// Adds `findings` to `group`, causes before symptoms: a finding that
/// another one explains is shown inside its cause's row, not on its own.
/// `page_vm`: the VM whose page this is, which the rows need not name.
pub fn add_grouped(
    group: &adw::PreferencesGroup,
    snapshot: &Snapshot,
    findings: &[Finding],
    page_vm: Option<&str>,
    on_fix: &relm4::Sender<Finding>,
) {
    let causes = explained_by(snapshot, findings);
    for (index, finding) in findings.iter().enumerate() {
        if causes[index].is_some() {
            continue;
        }
        group.add(&build(finding, &consequences(findings, &causes, index), page_vm, on_fix));
    }
}

/// The row for `finding`, with the findings it explains inside; its Fix…
/// button sends the finding to `on_fix`. Titles never name their VM: a
/// consequence about another VM than `page_vm` names it in its subtitle.
pub fn build(
    finding: &Finding,
    consequences: &[&Finding],
    page_vm: Option<&str>,
    on_fix: &relm4::Sender<Finding>,
) -> adw::ExpanderRow {
    // An expander row's subtitle is always markup (use-markup reaches only
    // its title), and findings quote XML like <interface>: escape both.
    // The row says it in one sentence; the whole explanation opens with it.
    let row = adw::ExpanderRow::builder()
        .title(glib::markup_escape_text(&finding.title))
        .subtitle(glib::markup_escape_text(first_sentence(&finding.explanation)))
        .build();
    row.set_title_selectable(true);
    // Named for screen readers (libadwaita leaves the row itself unnamed).
    row.upcast_ref::<gtk::Widget>().update_property(&[gtk::accessible::Property::Label(&finding.title)]);
    row.add_prefix(&severity_image(finding.severity));

    if first_sentence(&finding.explanation).len() < finding.explanation.len() {
        let why = detail_row(&gettext("Why"), &finding.explanation);
        why.set_subtitle_selectable(true);
        why.add_css_class("property");
        row.add_row(&why);
    }
    for evidence in &finding.evidence {
        let line = detail_row(&evidence.what, &evidence.value);
        line.set_subtitle_selectable(true);
        line.add_css_class("property");
        row.add_row(&line);
    }
    if finding.fix.is_some() {
        let name = fill(&gettext("Fix: {title}"), &[("title", &finding.title)]);
        let button = fix_button(&gettext("_Fix…"), &name, "flat", finding, on_fix);
        button.set_tooltip_text(Some(&gettext("See what the fix would change, then apply it")));
        row.add_suffix(&button);
    }
    for consequence in consequences {
        let subtitle = match consequence.subject.vm() {
            Some(vm) if page_vm != Some(vm) => {
                fill(&gettext("In “{vm}”; follows from this problem"), &[("vm", vm)])
            }
            _ => gettext("Follows from this problem"),
        };
        let line = detail_row(&consequence.title, &subtitle);
        line.set_title_selectable(true);
        line.add_prefix(&severity_image(consequence.severity));
        row.add_row(&line);
    }
    if let Some(fix) = &finding.fix {
        let line = detail_row(&gettext("What would fix it"), &describe::fix(fix));
        line.add_css_class("property");
        row.add_row(&line);
    }
    row
}

/// A line inside a problem's row, its texts plain.
fn detail_row(title: &str, subtitle: &str) -> adw::ActionRow {
    plain_texts(adw::ActionRow::builder().use_markup(false).build(), title, subtitle)
}

/// A button that sends `finding` to `on_fix`: `label` shown (with its
/// mnemonic), `name` spoken, `style` its look.
pub fn fix_button(
    label: &str,
    name: &str,
    style: &str,
    finding: &Finding,
    on_fix: &relm4::Sender<Finding>,
) -> gtk::Button {
    let button = gtk::Button::builder()
        .label(label)
        .use_underline(true)
        .valign(gtk::Align::Center)
        .css_classes([style])
        .build();
    // The button's own label relation would outrank this longer name.
    button.reset_relation(gtk::AccessibleRelation::LabelledBy);
    button.update_property(&[gtk::accessible::Property::Label(name)]);
    let (on_fix, finding) = (on_fix.clone(), finding.clone());
    button.connect_clicked(move |_| on_fix.emit(finding.clone()));
    button
}

/// A severity's icon, in its colour, with its name as tooltip and for
/// screen readers.
pub fn severity_image(severity: Severity) -> gtk::Image {
    let (icon, style, label) = severity_look(severity);
    labelled_image(icon, style, &label)
}

/// An icon in the style class `style`, named `label` (tooltip and screen
/// readers).
pub fn labelled_image(icon: &str, style: &str, label: &str) -> gtk::Image {
    let image = gtk::Image::from_icon_name(icon);
    image.add_css_class(style);
    image.set_tooltip_text(Some(label));
    image.update_property(&[gtk::accessible::Property::Label(label)]);
    image
}

/// Icon, style class and spoken name of a severity.
pub fn severity_look(severity: Severity) -> (&'static str, &'static str, String) {
    match severity {
        Severity::Error => ("dialog-error-symbolic", "error", gettext("Error")),
        Severity::Warning => ("dialog-warning-symbolic", "warning", gettext("Warning")),
        Severity::Info => ("dialog-information-symbolic", "accent", gettext("Information")),
    }
}

/// The first sentence of `text`: up to the first full stop, question or
/// exclamation mark (Latin or CJK) that ends a sentence, outside brackets
/// and quotes (“a.b”, (e.g. this) and 192.168.1.1 do not end one).
pub fn first_sentence(text: &str) -> &str {
    let mut depth = 0_usize;
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            '(' | '[' | '“' | '«' | '„' | '「' | '（' => depth += 1,
            ')' | ']' | '”' | '»' | '」' | '）' => depth = depth.saturating_sub(1),
            '。' | '！' | '？' if depth == 0 => return &text[..index + c.len_utf8()],
            '.' | '!' | '?' if depth == 0 && chars.peek().is_none_or(|(_, next)| next.is_whitespace()) => {
                return &text[..index + 1];
            }
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::first_sentence;

    #[test]
    fn a_row_says_the_first_sentence() {
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(first_sentence("No stop at all"), "No stop at all");
        // Addresses, quoted sentences and brackets do not end it.
        assert_eq!(
            first_sentence("Ping 192.168.1.1 (e.g. from “the guest. Really.”) fails. Then more."),
            "Ping 192.168.1.1 (e.g. from “the guest. Really.”) fails."
        );
        assert_eq!(first_sentence("Is it up? Look."), "Is it up?");
        assert_eq!(first_sentence("止まっています。再起動してください。"), "止まっています。");
    }
}
