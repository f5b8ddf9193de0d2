//! The verdict in words: one line that says whether a VM's (or the host's)
//! network works and what to fix first, and one under it. The app's pages
//! and `check --vm` print the same.

use gettextrs::{gettext, ngettext};
use vmnet_doctor_core::Verdict;

use crate::describe;
use crate::i18n::fill;

/// Whose network the verdict is about.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Vm(&'a str),
    Host,
}

/// The verdict's title and the line under it.
pub fn words(whose: Whose<'_>, verdict: Verdict<'_>) -> (String, String) {
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

/// The verdict's place while the host's facts are still being read and
/// nothing found so far stands in the way.
pub fn checking_words(whose: Whose<'_>) -> (String, String) {
    match whose {
        Whose::Vm(vm) => (
            fill(&gettext("Checking the network of “{vm}”…"), &[("vm", vm)]),
            gettext(
                "Its network cards and their virtual networks are checked; the host's firewall, forwarding and routes are still being read.",
            ),
        ),
        Whose::Host => (
            gettext("Checking the host's virtual networking…"),
            gettext(
                "The virtual networks are checked; the host's firewall, forwarding and routes are still being read.",
            ),
        ),
    }
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
