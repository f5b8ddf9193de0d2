//! `verify` on a terminal: what the guest says about itself, then one line
//! per step as it completes, flushed at once.

use std::io::Write;

use gettextrs::{gettext, ngettext};
use vmnet_doctor_core::guest::checklist::{Status, StepKind};

use crate::describe;
use crate::guest_checklist::words::{network_text, os_text, step_label, step_title};
use crate::guest_checklist::{Discovery, Sink, StepResult, Summary, Unavailable};
use crate::i18n::fill;

pub struct Text<'a> {
    out: &'a mut dyn Write,
    colour: bool,
}

impl<'a> Text<'a> {
    pub fn new(out: &'a mut dyn Write, colour: bool) -> Self {
        Self { out, colour }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// A closed pipe only loses the rest of the report; the exit status
    /// still tells the result.
    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }
}

impl Sink for Text<'_> {
    fn started(&mut self, uri: &str, vm: &str) {
        let text = fill(
            &gettext("Verifying “{vm}” from inside, through its guest agent — {uri}"),
            &[("vm", vm), ("uri", uri)],
        );
        let text = self.paint("1", &text);
        self.line(&text);
    }

    fn discovered(&mut self, discovery: &Discovery) {
        let os = os_text(&discovery.facts);
        self.line(&fill(&gettext("Guest: {os}"), &[("os", &os)]));
        let stack = network_text(&discovery.facts);
        self.line(&fill(&gettext("Network configured by: {stack}"), &[("stack", &stack)]));
        for (mac, network, name) in &discovery.cards {
            let name = name.clone().unwrap_or_else(|| gettext("not reported by the guest"));
            let text = match network {
                Some(network) => fill(
                    &gettext("Card {mac} on “{network}”: {name} in the guest"),
                    &[("mac", mac), ("network", network), ("name", &name)],
                ),
                None => fill(&gettext("Card {mac}: {name} in the guest"), &[("mac", mac), ("name", &name)]),
            };
            self.line(&text);
        }
        for finding in &discovery.findings {
            let mark = self.paint("1;33", "!");
            self.line(&format!("{mark} {} ({})", finding.title, finding.id));
            if let Some(fix) = &finding.fix {
                self.line(&format!("    → {}", describe::fix(fix)));
            }
        }
        let heading = self.paint("1", &gettext("Checklist"));
        self.line(&format!("\n{heading}"));
    }

    fn step(&mut self, result: &StepResult) {
        let (mark, code) = match result.verdict.status {
            Status::Pass => ("✓", "32"),
            Status::Skip => ("-", "2"),
            Status::Slow => ("⚠", "1;33"),
            Status::Fail | Status::Error => ("✗", "1;31"),
            Status::Timeout => ("⏱", "1;31"),
        };
        let mark = self.paint(code, mark);
        let seconds = format!("{:.1} s", result.elapsed.as_secs_f64());
        self.line(&format!(
            "  {mark} {} — {} {}",
            step_title(result.kind, &result.target),
            result.verdict.detail,
            self.paint("2", &format!("({seconds})"))
        ));
        if !result.verdict.status.is_ok() && !result.argv.is_empty() {
            self.line(&format!(
                "      {}",
                self.paint("2", &fill(&gettext("ran: {command}"), &[("command", &result.argv.join(" "))]))
            ));
        }
    }

    fn unavailable(&mut self, vm: &str, why: &Unavailable, commands: &[(StepKind, String)]) {
        let message = self.paint("1;31", &why.message(vm));
        self.line(&format!("\n{message}"));
        self.line(&why.advice());
        self.line(&format!("\n{}", gettext("Run the checklist in the guest yourself:")));
        for (kind, command) in commands {
            self.line(&format!("  # {}", step_label(*kind)));
            self.line(&format!("  {command}"));
        }
    }

    fn failed(&mut self, message: &str) {
        let text = self.paint("1;31", message);
        self.line(&text);
    }

    fn finished(&mut self, summary: &Summary) {
        let total = summary.passed + summary.slow + summary.failed + summary.skipped;
        let text = match summary.exit {
            0 if summary.slow > 0 => self.paint(
                "1;33",
                &fill(
                    &ngettext(
                        "Every step worked, but one only after a delay (see ⚠ above).",
                        "Every step worked, but {slow} only after a delay (see ⚠ above).",
                        u32::try_from(summary.slow).unwrap_or(u32::MAX),
                    ),
                    &[("slow", &summary.slow.to_string())],
                ),
            ),
            0 => self.paint(
                "1;32",
                &fill(
                    &gettext("Every step passed ({passed} passed, {skipped} not applicable)."),
                    &[("passed", &summary.passed.to_string()), ("skipped", &summary.skipped.to_string())],
                ),
            ),
            1 => self.paint(
                "1;31",
                &fill(
                    &gettext("{failed} of {total} steps failed."),
                    &[("failed", &summary.failed.to_string()), ("total", &total.to_string())],
                ),
            ),
            _ => return,
        };
        self.line(&format!("\n{text}"));
    }
}
