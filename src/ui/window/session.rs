//! One libvirt connection in the window: what it has opened, shown and
//! still waits for. The window holds one per connection in its sidebar,
//! each opened, followed, refreshed and reconnected on its own, so a slow
//! or broken hypervisor holds up none of the others.

use std::sync::Arc;

use vmnet_doctor_core::{Finding, Snapshot};
use vmnet_doctor_libvirt::Hypervisor;

use crate::connections;
use crate::ui::error_page::ErrorText;
use crate::ui::live::Live;
use crate::ui::reconnect::Reconnect;
use crate::ui::sidebar_item::{HostStatus, SessionId, SidebarItem};

/// How far opening the connection got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Status {
    Connecting,
    Failed(ErrorText),
    /// Opened; `hypervisor` and `snapshot` are set.
    Open,
}

#[derive(Debug)]
pub(super) struct Session {
    pub id: SessionId,
    pub uri: String,
    pub status: Status,
    pub hypervisor: Option<Arc<Hypervisor>>,
    pub snapshot: Option<Arc<Snapshot>>,
    /// The diagnosis of `snapshot`.
    pub findings: Vec<Finding>,
    /// The window-wide number of this connection's latest request (open,
    /// refresh, reconnect): answers carrying another are stale.
    pub attempt: u64,
    /// A refresh is under way.
    pub refreshing: bool,
    /// libvirt's events, and the snapshots they bring.
    pub live: Live,
    /// The connection broke and is being reopened; what is shown is its
    /// last snapshot.
    pub reconnect: Option<Reconnect>,
    /// The shown snapshot's host facts are still being read, for the
    /// attempt named here (the list is shown without them).
    pub host_facts_reading: Option<u64>,
    /// The number of sidebar entries this connection has: its host and VMs.
    pub rows: u32,
}

impl Session {
    /// Connecting, until `open` gives it its first request number.
    pub(super) fn new(id: SessionId, uri: String) -> Self {
        Self {
            id,
            uri,
            status: Status::Connecting,
            hypervisor: None,
            snapshot: None,
            findings: Vec::new(),
            attempt: 0,
            refreshing: false,
            live: Live::default(),
            reconnect: None,
            host_facts_reading: None,
            rows: 0,
        }
    }

    pub(super) fn label(&self) -> String {
        connections::label(&self.uri)
    }

    pub(super) fn is_connecting(&self) -> bool {
        self.status == Status::Connecting
    }

    /// Its sidebar entries: the host, then the VMs of its snapshot.
    pub(super) fn sidebar_rows(&self) -> Vec<SidebarItem> {
        let status = match (&self.status, &self.snapshot) {
            (_, Some(snapshot)) => HostStatus::Open {
                snapshot,
                findings: &self.findings,
                host_pending: self.host_facts_reading.is_some(),
                reconnecting: self.reconnect.is_some(),
            },
            (Status::Failed(text), None) => HostStatus::Failed { title: &text.title },
            (_, None) => HostStatus::Connecting,
        };
        let host = SidebarItem::host(self.id, &self.label(), &self.uri, status);
        let vms = self.snapshot.iter().flat_map(|snapshot| {
            snapshot.domains.iter().map(|domain| SidebarItem::vm(self.id, domain, &self.findings))
        });
        std::iter::once(host).chain(vms).collect()
    }

    /// Forgets what was opened and shown (the entry stays, with `status`).
    pub(super) fn close(&mut self, status: Status) {
        self.status = status;
        self.hypervisor = None;
        self.snapshot = None;
        self.findings.clear();
        self.refreshing = false;
        self.live = Live::default();
        self.reconnect = None;
        self.host_facts_reading = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use vmnet_doctor_core::diagnose;
    use vmnet_doctor_libvirt::Hypervisor;

    use super::{Session, Status};
    use crate::ui::error_page::ErrorText;
    use crate::ui::vm_filter::VmFilter;

    /// The demo hypervisor through libvirt's test driver: a real snapshot.
    fn opened_demo() -> Result<Session, Box<dyn std::error::Error>> {
        let uri = crate::connections::demo_uri();
        let snapshot = Hypervisor::open_blocking(&uri)?.snapshot_blocking()?;
        let mut session = Session::new(7, uri);
        session.findings = diagnose(&snapshot);
        session.snapshot = Some(Arc::new(snapshot));
        session.status = Status::Open;
        Ok(session)
    }

    #[test]
    fn a_connection_heads_its_vms_in_the_sidebar() -> Result<(), Box<dyn std::error::Error>> {
        let session = opened_demo()?;
        let rows = session.sidebar_rows();
        let vms = session.snapshot.as_ref().map(|snapshot| snapshot.domains.len()).unwrap_or_default();
        assert_eq!(rows.len(), vms + 1, "the host, then every VM");
        assert!(rows[0].is_host() && rows[0].session == 7);
        assert!(rows[1..].iter().all(|row| !row.is_host() && row.session == 7));
        assert!(rows.iter().any(|row| row.is_vm(7, "kali-linux")));
        assert!(!rows.iter().any(|row| row.is_vm(8, "kali-linux")), "another connection's VM of that name");
        Ok(())
    }

    #[test]
    fn the_search_keeps_every_host_and_only_the_matching_vms() -> Result<(), Box<dyn std::error::Error>> {
        let session = opened_demo()?;
        let rows = session.sidebar_rows();
        let filter = VmFilter::new("KALI", false);
        let kept: Vec<_> = rows.iter().filter(|row| row.matches(&filter)).collect();
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(kept[0].is_host() && kept[1].is_vm(7, "kali-linux"));
        // A connection with nothing open yet is still listed, by itself.
        let failed = Session {
            status: Status::Failed(ErrorText {
                title: "libvirt Is Not Running".into(),
                advice: String::new(),
                detail: None,
            }),
            ..Session::new(8, "qemu:///system".into())
        };
        let rows = failed.sidebar_rows();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].is_host() && rows[0].matches(&VmFilter::new("nothing like it", true)));
        Ok(())
    }

    #[test]
    fn closing_forgets_what_was_opened_but_keeps_the_entry() -> Result<(), Box<dyn std::error::Error>> {
        let mut session = opened_demo()?;
        session.close(Status::Connecting);
        assert!(session.snapshot.is_none() && session.findings.is_empty() && session.hypervisor.is_none());
        assert!(session.is_connecting());
        assert_eq!(session.sidebar_rows().len(), 1, "its host entry, saying it connects");
        Ok(())
    }
}
