//! The answer at the top of a VM's or the host's page: does its network
//! work, and if not, what to fix first (its Fix… is the suggested action)
//! and how many other problems there are; when all is well, what was
//! checked and what could not be. With two fixes or more, a row under it
//! offers Fix All… (`crate::ui::fix_all_dialog`).

use gettextrs::{gettext, ngettext};
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use vmnet_doctor_core::{Finding, Severity, Verdict, fix_order};

use crate::i18n::fill;
use crate::ui::finding_row::{fix_button, labelled_image, severity_look};
use crate::ui::plain_texts::plain_texts;
use crate::verdict_words::{Whose, checking_words, words};

/// What a VM's or the host's page asks the window for.
#[derive(Debug)]
pub enum PageRequest {
    /// A finding's Fix… button.
    Fix(Finding),
    /// Fix All…, with the page's findings.
    FixAll(Vec<Finding>),
}

/// A `Sender<Finding>` for the Fix… buttons of a page whose output is a
/// [`PageRequest`].
pub fn fix_sender(output: &relm4::Sender<PageRequest>) -> relm4::Sender<Finding> {
    let (on_fix, fixes) = relm4::channel::<Finding>();
    let output = output.clone();
    relm4::spawn_local(async move {
        while let Some(finding) = fixes.recv().await {
            output.emit(PageRequest::Fix(finding));
        }
    });
    on_fix
}

/// The verdict as one row in a group of its own; with two fixes or more
/// among `findings` (the page's), Fix All… beside the main Fix….
/// `host_pending`: the host's facts are still being read, so only a
/// problem already found is a verdict; anything else is still being checked.
pub fn build(
    whose: Whose<'_>,
    verdict: Verdict<'_>,
    host_pending: bool,
    findings: &[Finding],
    on_fix: &relm4::Sender<Finding>,
    on_fix_all: &relm4::Sender<PageRequest>,
) -> adw::PreferencesGroup {
    let checking = host_pending && !matches!(verdict, Verdict::Broken { .. });
    let (title, subtitle) = if checking { checking_words(whose) } else { words(whose, verdict) };
    let row = plain_texts(adw::ActionRow::builder().use_markup(false).build(), &title, &subtitle);
    row.add_css_class("verdict");
    if checking {
        row.add_prefix(&checking_spinner());
    } else {
        let (icon, style, label) = match verdict {
            Verdict::Broken { .. } => severity_look(Severity::Error),
            Verdict::Works { .. } => severity_look(Severity::Warning),
            Verdict::Healthy { .. } => ("object-select-symbolic", "success", gettext("No problems")),
        };
        let image = labelled_image(icon, style, &label);
        image.set_icon_size(gtk::IconSize::Large);
        row.add_prefix(&image);
    }
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
    let count = fix_order(findings).len();
    if count >= 2 {
        let button = gtk::Button::builder()
            .label(gettext("Fix A_ll…"))
            .use_underline(true)
            .valign(gtk::Align::Center)
            .tooltip_text(gettext("See every fix in the order they would be applied, then apply them all"))
            .build();
        let name = fill(
            &ngettext("Fix all: {count} fix, in order", "Fix all: {count} fixes, in order", count_u32(count)),
            &[("count", &count.to_string())],
        );
        button.reset_relation(gtk::AccessibleRelation::LabelledBy);
        button.update_property(&[gtk::accessible::Property::Label(&name)]);
        let (on_fix_all, findings) = (on_fix_all.clone(), findings.to_vec());
        button.connect_clicked(move |_| on_fix_all.emit(PageRequest::FixAll(findings.clone())));
        // A row of its own under the verdict, so a narrow window keeps
        // room for the verdict's words.
        let all = plain_texts(
            adw::ActionRow::builder().use_markup(false).build(),
            &fill(
                &ngettext("{count} fix in all", "{count} fixes in all", count_u32(count)),
                &[("count", &count.to_string())],
            ),
            &gettext("In order: the host, then virtual networks, then VMs, then inside guests"),
        );
        all.add_suffix(&button);
        group.add(&all);
    }
    group
}

/// In place of the verdict's icon while the host is being read; the size
/// of the large icon it stands for.
fn checking_spinner() -> gtk::Spinner {
    let spinner = gtk::Spinner::builder().spinning(true).valign(gtk::Align::Center).build();
    spinner.set_size_request(32, 32);
    spinner.update_property(&[gtk::accessible::Property::Label(&gettext("Checking"))]);
    spinner
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
