//! Every domain's state, persistence and autostart, read for a whole
//! connection in a few listings rather than asked of each domain.
//!
//! On a real libvirtd each call is a round trip: asking each of 1000
//! domains for its state, persistence and autostart took 3000 of them,
//! most of the time the VM list took to appear (docs/benchmarks.md). Five
//! filtered `virConnectListAllDomains` calls answer the same questions,
//! and a domain's name is known without a call.

use std::collections::HashSet;

use virt::connect::Connect;
use virt::domain::{Domain, DomainState as VirtState};
use virt::enumutil::Enum;
use virt::sys;
use vmnet_doctor_core::DomainState;

/// What the listings said of each domain, by name.
pub(crate) struct DomainListing {
    running: HashSet<String>,
    paused: HashSet<String>,
    shut_off: HashSet<String>,
    persistent: HashSet<String>,
    autostart: HashSet<String>,
}

impl DomainListing {
    /// The listings of `conn`; `None` where its driver filters no listing,
    /// so that each domain is asked instead. Taken after the list of
    /// domains they describe: a domain that changed meanwhile is described
    /// as it is now, and one that is gone is in none of them.
    pub(crate) fn read(conn: &Connect) -> Option<Self> {
        let names = |flags: sys::virConnectListAllDomainsFlags| -> Option<HashSet<String>> {
            let domains = conn.list_all_domains(flags).ok()?;
            Some(domains.iter().filter_map(|domain| domain.name().ok()).collect())
        };
        Some(Self {
            running: names(sys::VIR_CONNECT_LIST_DOMAINS_RUNNING)?,
            paused: names(sys::VIR_CONNECT_LIST_DOMAINS_PAUSED)?,
            shut_off: names(sys::VIR_CONNECT_LIST_DOMAINS_SHUTOFF)?,
            persistent: names(sys::VIR_CONNECT_LIST_DOMAINS_PERSISTENT)?,
            autostart: names(sys::VIR_CONNECT_LIST_DOMAINS_AUTOSTART)?,
        })
    }

    /// The state, persistence and autostart of `name`, when a listing gave
    /// its state (else [`asked_of`] the domain).
    pub(crate) fn of(&self, name: &str) -> Option<(DomainState, bool, bool)> {
        Some((self.state(name)?, self.persistent.contains(name), self.autostart.contains(name)))
    }

    /// The state of `name`, when a listing gave it: the listings filter by
    /// running, paused and shut off; the rarer states (crashed, suspended,
    /// shutting down) are asked of the domain.
    fn state(&self, name: &str) -> Option<DomainState> {
        if self.running.contains(name) {
            Some(DomainState::Running)
        } else if self.paused.contains(name) {
            Some(DomainState::Paused)
        } else if self.shut_off.contains(name) {
            Some(DomainState::ShutOff)
        } else {
            None
        }
    }
}

/// State, persistence and autostart as one domain says them, where no
/// listing did. The error is libvirt's, when the state cannot be read.
pub(crate) fn asked_of(domain: &Domain) -> Result<(DomainState, bool, bool), String> {
    let state = match domain.state().map_err(|e| e.message().to_owned())?.0 {
        Enum::Known(state) => map_state(state),
        Enum::Unknown(_) => DomainState::NoState,
    };
    Ok((state, domain.is_persistent().unwrap_or(true), domain.autostart().unwrap_or(false)))
}

fn map_state(state: VirtState) -> DomainState {
    match state {
        VirtState::NoState => DomainState::NoState,
        VirtState::Running => DomainState::Running,
        VirtState::Blocked => DomainState::Blocked,
        VirtState::Paused => DomainState::Paused,
        VirtState::Shutdown => DomainState::ShuttingDown,
        VirtState::Shutoff => DomainState::ShutOff,
        VirtState::Crashed => DomainState::Crashed,
        VirtState::PMSuspended => DomainState::Suspended,
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use virt::connect::Connect;

    use super::*;

    fn domain_xml(name: &str) -> String {
        format!(
            "<domain type='test'><name>{name}</name><memory>1024</memory><os><type>hvm</type></os></domain>"
        )
    }

    /// The listings say of every domain what the domain says of itself,
    /// for each state they filter by, a transient domain and autostart.
    /// libvirt's test driver gives each `test:///default` connection its
    /// own host, so the domains made here are this test's.
    #[test]
    fn the_listings_agree_with_each_domain() -> Result<(), Box<dyn Error>> {
        let conn = Connect::open(Some("test:///default"))?;
        let autostarted = conn.define_domain_xml(&domain_xml("autostarted"))?;
        autostarted.set_autostart(true)?;
        conn.define_domain_xml(&domain_xml("shut-off"))?;
        let paused = conn.define_domain_xml(&domain_xml("paused"))?;
        paused.create()?;
        paused.suspend()?;
        conn.create_domain_xml(&domain_xml("transient"), 0)?;

        let listing = DomainListing::read(&conn).ok_or("the test driver filters its listings")?;
        let mut seen = Vec::new();
        for domain in conn.list_all_domains(0)? {
            let name = domain.name()?;
            let asked = asked_of(&domain)?;
            assert_eq!(listing.of(&name), Some(asked), "{name}");
            seen.push((name, asked));
        }
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        let expected = [
            ("autostarted", (DomainState::ShutOff, true, true)),
            ("paused", (DomainState::Paused, true, false)),
            ("shut-off", (DomainState::ShutOff, true, false)),
            ("test", (DomainState::Running, true, false)),
            ("transient", (DomainState::Running, false, false)),
        ];
        let expected: Vec<_> = expected.iter().map(|(name, asked)| ((*name).to_owned(), *asked)).collect();
        assert_eq!(seen, expected);
        Ok(())
    }
}
