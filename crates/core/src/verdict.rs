//! One answer first: does this VM's network (or the host's) work, and if
//! not, what stands in the way. Read off the findings that concern it, so
//! the app's pages and `check` say the same.

use crate::finding::{Finding, Severity};
use crate::host::Fact;
use crate::rules::explained_by;
use crate::snapshot::Snapshot;

/// The answer for one VM or for the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict<'f> {
    /// An error stands in the way. `cause` is the one to fix first: the
    /// first cause among the errors (the diagnosis lists networks before
    /// cards, the host's firewall before what it blocks); `others` counts
    /// the other causes, of every severity.
    Broken { cause: &'f Finding, others: usize },
    /// No error: it should work, with `warnings` warnings worth a look.
    Works { warnings: usize },
    /// No error and no warning (`notes` things to know, like a card
    /// bridged to the LAN). `host_checked`: whether the host's firewall,
    /// forwarding and routes were read too, or only libvirt's side.
    Healthy { host_checked: bool, notes: usize },
}

/// The verdict on `findings`, the findings that concern one VM (or the
/// host), in the diagnosis's order.
pub fn verdict<'f>(snapshot: &Snapshot, findings: &'f [Finding]) -> Verdict<'f> {
    let causes = explained_by(snapshot, findings);
    let roots: Vec<&Finding> = findings
        .iter()
        .zip(&causes)
        .filter(|(_, cause)| cause.is_none())
        .map(|(finding, _)| finding)
        .collect();
    // Errors with a fix first: the suggested action should be one.
    let main = roots
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .min_by_key(|finding| finding.fix.is_none())
        .copied();
    let count = |severity| roots.iter().filter(|finding| finding.severity == severity).count();
    match main {
        Some(cause) => Verdict::Broken { cause, others: roots.len() - 1 },
        None if count(Severity::Warning) > 0 => Verdict::Works { warnings: count(Severity::Warning) },
        None => Verdict::Healthy {
            host_checked: matches!(snapshot.host, Fact::Known(_)),
            notes: count(Severity::Info),
        },
    }
}
