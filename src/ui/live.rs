//! Live updates: libvirt's events bring a fresh snapshot, without polling.
//!
//! The first event starts a snapshot at once; events that come while it is
//! taken (the rest of a burst: a VM start is three or four) wait for it to
//! finish and then share one more, so at most one is in flight. Waiting
//! for the rest of a burst first would delay every change, to save one
//! snapshot per burst.

use std::cell::Cell;
use std::rc::Rc;

use relm4::gtk;
use relm4::gtk::prelude::*;
use vmnet_doctor_core::Snapshot;
use vmnet_doctor_libvirt::LibvirtEvent;

use crate::startup;

/// The events of one connection, from their arrival until a snapshot that
/// covers them is on screen.
#[derive(Debug, Default)]
pub struct Live {
    /// Which connection the events belong to (the attempt that opened it);
    /// events carrying another are stale.
    connection: u64,
    /// Arrived, not yet covered by a snapshot that was started.
    pending: Vec<LibvirtEvent>,
    /// Something changed that `pending` does not list (the channel lagged).
    missed: bool,
    /// Covered by the snapshot in flight.
    in_flight: Vec<LibvirtEvent>,
    /// The snapshot in flight also covers missed events.
    in_flight_missed: bool,
    busy: bool,
}

impl Live {
    pub fn new(connection: u64) -> Self {
        Self { connection, ..Self::default() }
    }

    pub fn connection(&self) -> u64 {
        self.connection
    }

    /// Whether an event-driven snapshot is in flight.
    pub fn is_busy(&self) -> bool {
        self.busy
    }

    /// Records an event (`None`: some were missed).
    pub fn receive(&mut self, event: Option<LibvirtEvent>) {
        match event {
            Some(event) => self.pending.push(event),
            None => self.missed = true,
        }
    }

    /// Returns whether to take a snapshot for the events received, now;
    /// not while one is in flight (its end calls [`Self::finished`], then
    /// this again). `other_snapshot` says a snapshot taken for another
    /// reason is in flight, which ends the same way.
    pub fn start(&mut self, other_snapshot: bool) -> bool {
        if self.busy || other_snapshot || !self.has_news() {
            return false;
        }
        self.in_flight.append(&mut self.pending);
        self.in_flight_missed = std::mem::take(&mut self.missed);
        self.busy = true;
        true
    }

    /// Whether the events of the snapshot to take may have changed the
    /// host's network stack (a virtual network's bridge, dnsmasq and
    /// firewall rules), which is slow to read. A VM's events change only
    /// libvirt's side: its definition, state, devices and agent.
    pub fn host_may_have_changed(&self) -> bool {
        self.in_flight_missed || self.in_flight.iter().any(|event| event.kind.is_network())
    }

    /// A snapshot is on screen. Returns the events it covered.
    pub fn finished(&mut self) -> Vec<LibvirtEvent> {
        self.busy = false;
        std::mem::take(&mut self.in_flight)
    }

    fn has_news(&self) -> bool {
        !self.pending.is_empty() || self.missed
    }
}

/// With `VMNET_DOCTOR_REPORT_STARTUP=1`, reports each event as applied once
/// the window has painted the snapshot that covers it.
pub fn report_when_painted(window: &impl IsA<gtk::Widget>, events: Vec<LibvirtEvent>, snapshot: &Snapshot) {
    if events.is_empty() || !startup::reporting() {
        return;
    }
    let shown: Vec<(LibvirtEvent, String)> = events
        .into_iter()
        .map(|event| {
            let state = shown_state(snapshot, &event);
            (event, state)
        })
        .collect();
    let Some(clock) = window.frame_clock() else {
        shown.iter().for_each(|(event, state)| report(event, state));
        return;
    };
    let pending = Rc::new(Cell::new(Some(shown)));
    let handler = Rc::new(Cell::new(None));
    let own_handler = Rc::clone(&handler);
    handler.set(Some(clock.connect_after_paint(move |clock| {
        for (event, state) in pending.take().into_iter().flatten() {
            report(&event, &state);
        }
        if let Some(id) = own_handler.take() {
            clock.disconnect(id);
        }
    })));
    // A change the window does not show (another VM's) still ends a frame.
    window.queue_draw();
}

fn report(event: &LibvirtEvent, state: &str) {
    let ms = event.received.elapsed().as_secs_f64() * 1000.0;
    startup::report_event_applied(event.kind.as_str(), &event.name, ms, state);
}

/// What the snapshot says about the event's object, for measurements:
/// `active`, `inactive` or `absent` for a network; the state and each NIC's
/// link for a VM, e.g. `running links=up,down`.
fn shown_state(snapshot: &Snapshot, event: &LibvirtEvent) -> String {
    if event.kind.is_network() {
        return match snapshot.network(&event.name) {
            Some(network) if network.active => "active".to_owned(),
            Some(_) => "inactive".to_owned(),
            None => "absent".to_owned(),
        };
    }
    let Some(domain) = snapshot.domain(&event.name) else {
        return "absent".to_owned();
    };
    let links: Vec<String> =
        domain.interfaces().iter().map(|nic| format!("{:?}", nic.link_state).to_lowercase()).collect();
    format!("{} links={}", format!("{:?}", domain.state).to_lowercase(), links.join(","))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use vmnet_doctor_libvirt::{DomainEvent, EventKind, LibvirtEvent, NetworkEvent};

    use super::Live;

    fn stopped(name: &str) -> Option<LibvirtEvent> {
        Some(LibvirtEvent {
            kind: EventKind::Network(NetworkEvent::Stopped),
            name: name.to_owned(),
            received: Instant::now(),
        })
    }

    #[test]
    fn the_first_event_is_taken_up_at_once() {
        let mut live = Live::new(1);
        assert!(!live.start(false), "nothing to take up");
        live.receive(stopped("a"));
        assert!(live.start(false));
        assert_eq!(live.finished().iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(!live.start(false), "nothing came meanwhile");
    }

    #[test]
    fn events_during_a_snapshot_share_the_next() {
        let mut live = Live::new(1);
        live.receive(stopped("a"));
        assert!(live.start(false));
        live.receive(stopped("b"));
        live.receive(stopped("c"));
        assert!(!live.start(false), "never two snapshots at once");
        assert!(live.is_busy());
        assert_eq!(live.finished().len(), 1);
        assert!(live.start(false), "the events that came meanwhile get one snapshot");
        assert_eq!(live.finished().iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    }

    #[test]
    fn another_snapshot_in_flight_postpones_ours() {
        let mut live = Live::new(1);
        live.receive(stopped("a"));
        assert!(!live.start(true), "never two snapshots at once");
        assert!(!live.is_busy());
        assert!(live.start(false), "the waiting event is taken up when that one ends");
        assert_eq!(live.finished()[0].name, "a");
    }

    #[test]
    fn missed_events_still_bring_a_snapshot() {
        let mut live = Live::new(1);
        live.receive(None);
        assert!(live.start(false));
        assert!(live.host_may_have_changed(), "what was missed is not known");
        assert!(live.finished().is_empty());
        assert!(!live.start(false), "nothing left");
    }

    #[test]
    fn only_network_events_make_the_host_read_again() {
        let mut live = Live::new(1);
        let defined = LibvirtEvent {
            kind: EventKind::Domain(DomainEvent::Defined),
            name: "vm".to_owned(),
            received: Instant::now(),
        };
        live.receive(Some(defined.clone()));
        live.start(false);
        assert!(!live.host_may_have_changed());
        live.receive(Some(defined));
        live.receive(stopped("default"));
        live.finished();
        live.start(false);
        assert!(live.host_may_have_changed());
    }
}
