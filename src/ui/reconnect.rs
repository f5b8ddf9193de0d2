//! Reconnecting after the connection broke (libvirt's daemon restarted,
//! e.g. in a package upgrade): when to try again, and what each try
//! reports. Timers run only while disconnected; a connected window has
//! none (libvirt's close callback says when the connection breaks).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use relm4::gtk;
use relm4::gtk::prelude::*;

use crate::startup;

/// The wait before the first try: a restarting daemon is usually back
/// within a second.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest wait between tries: a daemon that is back is seen within it.
pub const MAX_DELAY: Duration = Duration::from_secs(10);

/// The wait before the try after `failed` failed tries: 0.25 s doubling
/// to [`MAX_DELAY`].
pub fn delay(failed: u32) -> Duration {
    // 2^6 × 0.25 s is past the cap already; a larger shift would overflow.
    let factor = 1_u32 << failed.min(6);
    FIRST_DELAY.saturating_mul(factor).min(MAX_DELAY)
}

/// A broken connection being reopened.
#[derive(Debug, Clone)]
pub struct Reconnect {
    uri: String,
    lost: Instant,
    /// Tries started so far.
    tries: u32,
    /// A try is under way (the next waits for its answer).
    trying: bool,
}

impl Reconnect {
    pub fn new(uri: String) -> Self {
        Self { uri, lost: Instant::now(), tries: 0, trying: false }
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The wait before the next try.
    pub fn next_delay(&self) -> Duration {
        delay(self.tries)
    }

    /// Starts a try, unless one is under way. Returns its number (from 1).
    pub fn start_try(&mut self) -> Option<u32> {
        if self.trying {
            return None;
        }
        self.trying = true;
        self.tries += 1;
        Some(self.tries)
    }

    /// The try under way failed; [`Self::next_delay`] has grown.
    pub fn try_failed(&mut self) {
        self.trying = false;
    }

    pub fn tries(&self) -> u32 {
        self.tries
    }

    pub fn since_lost(&self) -> Duration {
        self.lost.elapsed()
    }
}

/// `vmnet-doctor: connection-lost REASON at=UNIX_MS`, when reporting.
pub fn report_lost(reason: &str) {
    if startup::reporting() {
        eprintln!("vmnet-doctor: connection-lost {reason} at={}", unix_ms());
    }
}

/// What started a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The back-off's wait ended.
    Timer,
    /// Try Now, or Refresh.
    User,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Timer => "timer",
            Self::User => "user",
        }
    }
}

/// `vmnet-doctor: reconnect-attempt N after MS ms by=timer|user
/// at=UNIX_MS`, MS counted from the loss.
pub fn report_attempt(reconnect: &Reconnect, by: Trigger) {
    if startup::reporting() {
        let ms = reconnect.since_lost().as_secs_f64() * 1000.0;
        let (tries, by) = (reconnect.tries(), by.as_str());
        eprintln!("vmnet-doctor: reconnect-attempt {tries} after {ms:.1} ms by={by} at={}", unix_ms());
    }
}

/// `vmnet-doctor: reconnect-failed N: DETAIL`, when reporting.
pub fn report_failed(reconnect: &Reconnect, detail: &str) {
    if startup::reporting() {
        eprintln!("vmnet-doctor: reconnect-failed {}: {detail}", reconnect.tries());
    }
}

/// Once the window has painted the fresh snapshot: `vmnet-doctor:
/// reconnected list-shown vms=N tries=K after MS ms at=UNIX_MS`, MS counted
/// from the loss and UNIX_MS the wall clock, for the lab to compare with
/// the daemon's restart.
pub fn report_shown_when_painted(window: &impl IsA<gtk::Widget>, reconnect: &Reconnect, vms: usize) {
    if !startup::reporting() {
        return;
    }
    let (tries, lost) = (reconnect.tries(), reconnect.lost);
    let report = move || {
        let ms = lost.elapsed().as_secs_f64() * 1000.0;
        eprintln!(
            "vmnet-doctor: reconnected list-shown vms={vms} tries={tries} after {ms:.1} ms at={}",
            unix_ms()
        );
    };
    let Some(clock) = window.frame_clock() else {
        report();
        return;
    };
    let pending = Rc::new(Cell::new(Some(report)));
    let handler = Rc::new(Cell::new(None));
    let own_handler = Rc::clone(&handler);
    handler.set(Some(clock.connect_after_paint(move |clock| {
        if let Some(report) = pending.take() {
            report();
        }
        if let Some(id) = own_handler.take() {
            clock.disconnect(id);
        }
    })));
    window.queue_draw();
}

/// Milliseconds since the Unix epoch (the lab's clock is the same).
fn unix_ms() -> String {
    let since = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    format!("{:.1}", since.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{MAX_DELAY, Reconnect, delay};

    #[test]
    fn back_off_doubles_from_a_quarter_second_to_ten_seconds() {
        let waits: Vec<u128> = (0..9).map(|failed| delay(failed).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
        assert_eq!(delay(u32::MAX), MAX_DELAY, "no overflow however long the daemon stays away");
    }

    #[test]
    fn one_try_at_a_time_and_each_failure_waits_longer() {
        let mut reconnect = Reconnect::new("qemu:///system".into());
        assert_eq!(reconnect.next_delay(), Duration::from_millis(250));
        assert_eq!(reconnect.start_try(), Some(1));
        assert_eq!(reconnect.start_try(), None, "Try Now during a try waits for it");
        reconnect.try_failed();
        assert_eq!(reconnect.next_delay(), Duration::from_millis(500));
        assert_eq!(reconnect.start_try(), Some(2));
        reconnect.try_failed();
        assert_eq!(reconnect.next_delay(), Duration::from_secs(1));
        assert_eq!(reconnect.uri(), "qemu:///system");
    }
}
