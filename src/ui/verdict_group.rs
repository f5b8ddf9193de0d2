//! The answer at the top of a VM's or the host's page: does its network
//! work, and if not, what to fix first (its Fix… is the suggested action)
//! and how many other problems there are; when all is well, what was
//! checked and what could not be.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use vmnet_doctor_core::{Finding, Severity, Verdict};

use crate::i18n::fill;
use crate::ui::finding_row::{fix_button, labelled_image, severity_look};
use crate::ui::plain_texts::plain_texts;
use crate::verdict_words::{Whose, words};

/// The verdict as one row in a group of its own.
pub fn build(
    whose: Whose<'_>,
    verdict: Verdict<'_>,
    on_fix: &relm4::Sender<Finding>,
) -> adw::PreferencesGroup {
    let (title, subtitle) = words(whose, verdict);
    let row = plain_texts(adw::ActionRow::builder().use_markup(false).build(), &title, &subtitle);
    row.add_css_class("verdict");
    let (icon, style, label) = match verdict {
        Verdict::Broken { .. } => severity_look(Severity::Error),
        Verdict::Works { .. } => severity_look(Severity::Warning),
        Verdict::Healthy { .. } => ("object-select-symbolic", "success", gettext("No problems")),
    };
    let image = labelled_image(icon, style, &label);
    image.set_icon_size(gtk::IconSize::Large);
    row.add_prefix(&image);
    if let Verdict::Broken { cause, .. } = verdict
        && cause.fix.is_some()
    {
        // Named apart from the problem row's own "Fix: …" button.
        let name = fill(&gettext("Fix the main problem: {title}"), &[("title", &cause.title)]);
        let button = fix_button(&gettext("_Fix…"), &name, "suggested-action", cause, on_fix);
        button.set_tooltip_text(Some(&gettext("See what the fix would change, then apply it")));
        row.add_suffix(&button);
    }
    let group = adw::PreferencesGroup::new();
    group.add(&row);
    group
}
