//! The answer at the top of a VM's or the host's page: does its network
//! work, and if not, what to fix first (its Fix… is the suggested action)
//! and how many other problems there are; when all is well, what was
//! checked and what could not be.

use gettextrs::{gettext, ngettext};
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use vmnet_doctor_core::{Finding, Severity, Verdict};

use crate::describe;
use crate::i18n::fill;
use crate::ui::finding_row::{fix_button, labelled_image, severity_look};
use crate::ui::plain_texts::plain_texts;

/// Whose page the verdict tops.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Vm(&'a str),
    Host,
}

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

/// The verdict's title and the line under it.
fn words(whose: Whose<'_>, verdict: Verdict<'_>) -> (String, String) {
    match (whose, verdict) {
        (whose, Verdict::Broken { cause, others }) => {
            let title = match whose {
                Whose::Vm(vm) => fill(
                    &gettext("“{vm}” has no working network: {cause}"),
                    &[("vm", vm), ("cause", &cause.title)],
                ),
                Whose::Host => {
                    fill(&gettext("VM networking is broken here: {cause}"), &[("cause", &cause.title)])
                }
            };
            let fix = cause.fix.as_ref().map_or_else(
                || gettext("No automatic fix: the problem below says what to do."),
                describe::fix,
            );
            let subtitle = if others == 0 {
                fix
            } else {
                let more = fill(
                    &ngettext(
                        "{count} other problem below",
                        "{count} other problems below",
                        count_u32(others),
                    ),
                    &[("count", &others.to_string())],
                );
                format!("{fix} · {more}")
            };
            (title, subtitle)
        }
        (whose, Verdict::Works { warnings }) => {
            let title = match whose {
                Whose::Vm(vm) => fill(&gettext("The network of “{vm}” should work"), &[("vm", vm)]),
                Whose::Host => gettext("The host's virtual networking should work"),
            };
            let subtitle = fill(
                &ngettext("{count} warning below", "{count} warnings below", count_u32(warnings)),
                &[("count", &warnings.to_string())],
            );
            (title, subtitle)
        }
        (whose, Verdict::Healthy { host_checked, notes }) => {
            let title = match whose {
                Whose::Vm(vm) => {
                    fill(&gettext("No problems found with the network of “{vm}”"), &[("vm", vm)])
                }
                Whose::Host => gettext("No problems found with the host's virtual networking"),
            };
            let mut subtitle = match (whose, host_checked) {
                (Whose::Vm(_), true) => gettext(
                    "Checked: its network cards, their virtual networks, and the host's firewall, forwarding and routes.",
                ),
                (Whose::Vm(_), false) => gettext(
                    "Checked: its network cards and their virtual networks; the host itself was not checked.",
                ),
                (Whose::Host, true) => {
                    gettext("Checked: the virtual networks, and the host's firewall, forwarding and routes.")
                }
                (Whose::Host, false) => {
                    gettext("Checked: the virtual networks; the host itself was not checked.")
                }
            };
            if notes > 0 {
                subtitle.push(' ');
                subtitle.push_str(&fill(
                    &ngettext("{count} note below.", "{count} notes below.", count_u32(notes)),
                    &[("count", &notes.to_string())],
                ));
            }
            (title, subtitle)
        }
    }
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
