//! Start-up timing, reported on request (`VMNET_DOCTOR_REPORT_STARTUP=1`)
//! so benchmarks and tests can see when the VM list is on screen.
//!
//! Times count from the process's start (its fork, as the kernel records
//! it), not from `main`: loading GTK, libadwaita and libvirt happens before
//! `main` and is part of what a user waits for.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use relm4::gtk::{self, prelude::*};

/// The moment `main` began, and how long the process had run by then.
static PROCESS_START: OnceLock<(Instant, Duration)> = OnceLock::new();

/// The kernel's `USER_HZ`, the unit of `/proc/self/stat`'s start time: 100
/// on every architecture Linux distributions ship GNOME for.
const TICKS_PER_SECOND: u64 = 100;

pub fn mark_process_start() {
    PROCESS_START.get_or_init(|| (Instant::now(), time_before_main().unwrap_or_default()));
}

/// How long the process ran before `main`: the boot clock now minus the
/// process's start time, both read from /proc (10 ms resolution each).
fn time_before_main() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let started = Duration::from_millis(start_ticks(&stat)? * 1000 / TICKS_PER_SECOND);
    Some(uptime_since_boot(&uptime)?.saturating_sub(started))
}

/// Field 22 of `/proc/PID/stat`, `starttime`: clock ticks after boot. The
/// command name (field 2) may hold spaces and parentheses, so fields are
/// counted after its last `)`.
fn start_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// The first field of `/proc/uptime`: seconds since boot, e.g. `10234.56`.
fn uptime_since_boot(uptime: &str) -> Option<Duration> {
    let seconds: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

/// Prints, once, how long it took until the VM list was populated.
pub fn report_vm_list_populated(vm_count: usize) {
    static REPORTED: OnceLock<()> = OnceLock::new();
    report_once(&REPORTED, &format!("vm-list-populated {} ms vms={vm_count}", elapsed_ms()));
}

/// With `VMNET_DOCTOR_REPORT_STARTUP=1`, reports the VM list as populated
/// once a frame showing it has been painted: that is when a user sees it,
/// which can be well after its model was filled (the first connection is
/// read while the window is still being built). Once per process. The
/// bench's GTK floor (examples/bench_gtk_floor.rs) reports the same way.
pub fn report_vm_list_populated_when_painted(widget: &impl IsA<gtk::Widget>, count: usize) {
    static WATCHING: AtomicBool = AtomicBool::new(false);
    if !reporting() || WATCHING.swap(true, Ordering::Relaxed) {
        return;
    }
    after_next_paint(widget, move || report_vm_list_populated(count));
}

/// Reports, once, the first frame that shows the whole diagnosis, the
/// host's part included: the list comes first when the host's facts take
/// time (`crate::ui::first_connection`). GUI tests wait for this before
/// they look at the pages.
pub fn report_diagnosed_when_painted(widget: &impl IsA<gtk::Widget>) {
    static WATCHING: AtomicBool = AtomicBool::new(false);
    static REPORTED: OnceLock<()> = OnceLock::new();
    if !reporting() || WATCHING.swap(true, Ordering::Relaxed) {
        return;
    }
    after_next_paint(widget, || report_once(&REPORTED, &format!("diagnosed {} ms", elapsed_ms())));
}

/// Reports, each time, that a refresh the user asked for (Ctrl+R, F5) is
/// on screen.
pub fn report_refreshed_when_painted(widget: &impl IsA<gtk::Widget>) {
    if reporting() {
        after_next_paint(widget, || eprintln!("vmnet-doctor: refreshed {} ms", elapsed_ms()));
    }
}

/// Runs `then` once, after the next frame of `widget`'s window is painted
/// (at once when it is not realized: nothing will be painted to wait for).
pub fn after_next_paint(widget: &impl IsA<gtk::Widget>, then: impl FnOnce() + 'static) {
    let Some(clock) = widget.frame_clock() else {
        then();
        return;
    };
    let then = Cell::new(Some(then));
    let handler = Rc::new(Cell::new(None));
    let own_handler = Rc::clone(&handler);
    handler.set(Some(clock.connect_after_paint(move |clock| {
        if let Some(then) = then.take() {
            then();
        }
        if let Some(id) = own_handler.take() {
            clock.disconnect(id);
        }
    })));
    widget.queue_draw();
}

/// Prints, once, that start-up ended on the connection's error page.
pub fn report_connection_failed() {
    static REPORTED: OnceLock<()> = OnceLock::new();
    report_once(&REPORTED, &format!("connection-failed {} ms", elapsed_ms()));
}

fn elapsed_ms() -> String {
    let elapsed = PROCESS_START
        .get()
        .map(|(main, before_main)| (*before_main + main.elapsed()).as_secs_f64() * 1000.0)
        .unwrap_or_default();
    format!("{elapsed:.1}")
}

/// Prints `event` the first time `reported` is given.
fn report_once(reported: &OnceLock<()>, event: &str) {
    if reporting() && reported.set(()).is_ok() {
        eprintln!("vmnet-doctor: {event}");
    }
}

/// Whether timings are reported (`VMNET_DOCTOR_REPORT_STARTUP` is set).
pub fn reporting() -> bool {
    std::env::var_os("VMNET_DOCTOR_REPORT_STARTUP").is_some()
}

/// Prints, every time, that the window shows what a libvirt event
/// announced: `event-applied KIND NAME N ms STATE`, N counted from the
/// event's receipt and STATE what the window now shows of NAME.
pub fn report_event_applied(kind: &str, name: &str, ms_since_receipt: f64, state: &str) {
    if reporting() {
        eprintln!("vmnet-doctor: event-applied {kind} {name} {ms_since_receipt:.1} ms {state}");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{start_ticks, time_before_main, uptime_since_boot};

    #[test]
    fn start_time_is_field_22_even_with_odd_command_names() {
        let stat = "4242 (vm (net) doctor) S 1 4242 4242 0 -1 4194560 1200 0 0 0 5 3 0 0 20 0 4 0 \
                    987654 123456789 2000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0";
        assert_eq!(start_ticks(stat), Some(987_654));
        assert_eq!(start_ticks("4242 (short) S 1"), None);
    }

    #[test]
    fn uptime_is_seconds_since_boot() {
        assert_eq!(uptime_since_boot("10234.56 20000.10\n"), Some(Duration::from_millis(10_234_560)));
        assert_eq!(uptime_since_boot(""), None);
    }

    #[test]
    fn this_process_started_before_now() {
        // The test binary has run for a while, never for longer than a day.
        let before = time_before_main().unwrap_or(Duration::MAX);
        assert!(before < Duration::from_secs(86_400), "{before:?}");
    }
}
