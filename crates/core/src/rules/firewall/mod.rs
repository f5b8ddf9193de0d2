//! Rules about the host firewall and the forward path (UFW, Docker's
//! FORWARD policy, nftables/iptables chains, firewalld).

use crate::finding::Finding;
use crate::snapshot::Snapshot;

pub(crate) fn diagnose(_snapshot: &Snapshot) -> Vec<Finding> {
    Vec::new()
}
