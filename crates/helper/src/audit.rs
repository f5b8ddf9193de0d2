//! One audit line per request, on standard error (the journal, under
//! systemd): who called, what they asked, what polkit decided, what ran and
//! how it ended.

use std::fmt::Write;

/// The audit record of one request; written when it is dropped, so every
/// way out of a method writes exactly one line.
#[derive(Debug)]
pub struct Audit {
    pub method: &'static str,
    pub sender: String,
    pub uid: Option<u32>,
    pub interactive: bool,
    pub request: String,
    pub action: String,
    pub decision: String,
    pub outcome: String,
    pub ran: Vec<(Vec<String>, i32)>,
}

impl Audit {
    pub fn new(method: &'static str) -> Self {
        Self {
            method,
            sender: String::new(),
            uid: None,
            interactive: false,
            request: String::new(),
            action: String::new(),
            decision: "none".to_owned(),
            outcome: String::new(),
            ran: Vec::new(),
        }
    }

    /// The line. Every value that came from outside is quoted with Rust's
    /// escapes, so it can never break the line or fake a field.
    pub fn line(&self) -> String {
        let uid = self.uid.map_or_else(|| "?".to_owned(), |uid| uid.to_string());
        let mut line = format!(
            "vmnet-doctor-helper audit: method={} uid={uid} sender={:?} interactive={} request={:?} action={} decision={:?} outcome={:?}",
            self.method,
            self.sender,
            if self.interactive { "yes" } else { "no" },
            self.request,
            if self.action.is_empty() { "-" } else { &self.action },
            self.decision,
            self.outcome,
        );
        line.push_str(" ran=[");
        for (index, (argv, status)) in self.ran.iter().enumerate() {
            if index > 0 {
                line.push_str(", ");
            }
            let _ = write!(line, "{:?} exit={status}", argv.join(" "));
        }
        line.push(']');
        line
    }
}

impl Audit {
    /// A line for a call polkit allowed, before it works: a long call (a
    /// restart, a dialog kept open) is on record while it runs. The final
    /// line follows when it ends.
    pub fn write_starting(&self) {
        let mut line = self.line();
        if let Some(start) = line.find(" outcome=") {
            line.truncate(start);
        }
        eprintln!("{line} outcome=\"starting\"");
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        eprintln!("{}", self.line());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_every_field_and_quoted_outside_values() {
        let mut audit = Audit::new("Apply");
        audit.sender = ":1.42".into();
        audit.uid = Some(1000);
        audit.request = "ufw-allow-bridge(bridge=virbr0, uplink=eth0)\nfake=1".into();
        audit.action = "io.github.vmnetdoctor.modify-firewall".into();
        audit.decision = "allowed".into();
        audit.outcome = "applied".into();
        audit.ran = vec![(
            vec!["/usr/sbin/ufw".into(), "allow".into(), "in".into(), "on".into(), "virbr0".into()],
            0,
        )];
        let line = audit.line();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("method=Apply uid=1000 sender=\":1.42\""), "{line}");
        assert!(line.contains("\\nfake=1"), "{line}");
        assert!(line.contains("decision=\"allowed\""), "{line}");
        assert!(line.ends_with("ran=[\"/usr/sbin/ufw allow in on virbr0\" exit=0]"), "{line}");
        // Dropping it writes the line; keep the test's output quiet.
        std::mem::forget(audit);
    }
}
