//! The host's security posture as checked statements (the guide's "Why
//! This Is Safe"): each with a check, a cross or a question mark, and the
//! evidence it was decided on.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::glib;
use vmnet_doctor_core::posture::{Posture, PostureStatus, Statement};

use crate::i18n::fill;
use crate::ui::plain_texts::plain_texts;

pub fn build(posture: &Posture) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Security Posture"));
    group.set_description(Some(&gettext(
        "What the guide promises of NAT, checked on this host's firewall rules and networks.",
    )));
    for statement in &posture.statements {
        group.add(&statement_row(statement));
    }
    group
}

fn statement_row(statement: &Statement) -> adw::ExpanderRow {
    let (icon, style, verdict) = look(statement.status);
    // An expander row's title and subtitle are markup: escape the text.
    let row = adw::ExpanderRow::builder()
        .title(glib::markup_escape_text(&statement.title))
        .subtitle(glib::markup_escape_text(&verdict))
        .build();
    let image = gtk::Image::from_icon_name(icon);
    image.add_css_class(style);
    image.update_property(&[gtk::accessible::Property::Label(&verdict)]);
    row.add_prefix(&image);
    row.upcast_ref::<gtk::Widget>().update_property(&[gtk::accessible::Property::Label(&fill(
        &gettext("{statement}: {verdict}"),
        &[("statement", &statement.title), ("verdict", &verdict)],
    ))]);
    for line in &statement.evidence {
        let evidence = plain_texts(
            adw::ActionRow::builder().use_markup(false).title_lines(0).title_selectable(true).build(),
            line,
            "",
        );
        row.add_row(&evidence);
    }
    if statement.evidence.is_empty() {
        row.set_enable_expansion(false);
    }
    // What breaks the guide's promise is shown with its evidence at once.
    row.set_expanded(statement.status == PostureStatus::DoesNotHold);
    row
}

/// Icon, style class and words of a statement's status.
fn look(status: PostureStatus) -> (&'static str, &'static str, String) {
    match status {
        PostureStatus::Holds => ("object-select-symbolic", "success", gettext("Checked: holds")),
        PostureStatus::DoesNotHold => ("window-close-symbolic", "error", gettext("Checked: does not hold")),
        PostureStatus::Unknown => ("dialog-question-symbolic", "dim-label", gettext("Not checked")),
    }
}
