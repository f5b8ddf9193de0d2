//! The diagnosis: every rule is a pure function of a [`Snapshot`].

mod firewall;

use crate::finding::Finding;
use crate::snapshot::Snapshot;

/// Every finding for this snapshot, most severe first.
pub fn diagnose(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(firewall::diagnose(snapshot));
    findings.sort_by_key(|finding| finding.severity);
    findings
}
