//! `VMNET_DOCTOR_BENCH_SEARCH=TEXT` (tools/bench): once the VM list is on
//! screen, types TEXT into the sidebar's search one key at a time, turns
//! "only VMs with problems" on and off, then erases TEXT key by key, as a
//! user would, and prints for each step how long it took from changing
//! the entry until a frame showing the filtered list was painted:
//!
//! `vmnet-doctor: search-step N STEP filtered=MS painted=MS visible=K first=MS frames=F`
//!
//! `filtered`: the list model holds the result; `painted`: the frame
//! clock's `after-paint` of the last frame the step caused (the clock then
//! idle for [`SETTLED`]); `first`: that of the first, which may show only
//! part of the answer (a grid view's rows can come a frame later); `frames`:
//! how many. Animations and the text cursor's blinking are off meanwhile,
//! so the frames are the answer's, not a transition's.
//!
//! The GTK floor (`examples/bench_gtk_floor.rs`) runs the same steps on its
//! own search, through [`SearchKeys`], so that GTK's own cost of each step
//! is measured beside the app's.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use relm4::gtk;
use relm4::gtk::glib;
use relm4::gtk::prelude::*;

/// What the steps drive: a sidebar search's entry and toggle, changed as
/// a user's key presses and clicks change them.
pub trait SearchKeys: std::fmt::Debug {
    /// Opens the search with the focus in its entry.
    fn open(&self);
    fn entry(&self) -> &gtk::SearchEntry;
    /// The "only VMs with problems" toggle.
    fn problems_only(&self) -> &gtk::ToggleButton;

    /// Types `key` at the end of the text, as a key press does. Not
    /// `set_text`: that empties the entry first, and an empty search
    /// answers at once, before the new text arrives.
    fn type_key(&self, key: char) {
        let entry = self.entry();
        let mut end = entry.text().chars().count() as i32;
        entry.insert_text(key.encode_utf8(&mut [0; 4]), &mut end);
    }

    /// Erases the text's last character, as Backspace does.
    fn erase_key(&self) {
        let entry = self.entry();
        let end = entry.text().chars().count() as i32;
        if end > 0 {
            entry.delete_text(end - 1, end);
        }
    }

    /// Sets the toggle, as a click does.
    fn set_problems_only(&self, active: bool) {
        self.problems_only().set_active(active);
    }
}

/// Between two steps: a fast typist's pace, and time for the frame clock
/// to go idle, so that each step starts a frame of its own.
const PAUSE: Duration = Duration::from_millis(120);

/// No frame for this long after one: the step's answer is all on screen.
const SETTLED: Duration = Duration::from_millis(50);

/// One step, and the text the entry holds after it (for its label).
#[derive(Debug, Clone)]
enum Step {
    Type(char, String),
    Erase(String),
    ProblemsOnly(bool),
}

impl Step {
    fn label(&self) -> String {
        match self {
            Step::Type(_, text) => format!("type:{text}"),
            Step::Erase(text) if text.is_empty() => "erase:(empty)".to_owned(),
            Step::Erase(text) => format!("erase:{text}"),
            Step::ProblemsOnly(true) => "problems-only:on".to_owned(),
            Step::ProblemsOnly(false) => "problems-only:off".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SearchBench {
    inner: Rc<Inner>,
}

#[derive(Debug)]
struct Inner {
    search: Box<dyn SearchKeys>,
    steps: RefCell<VecDeque<Step>>,
    /// The step under way: its number, label and start.
    current: RefCell<Option<(usize, String, Instant)>>,
    done: Cell<usize>,
    started: Cell<bool>,
}

impl SearchBench {
    /// The benchmark, when the environment asks for it.
    pub fn from_env(search: impl SearchKeys + 'static) -> Option<Self> {
        let text = std::env::var("VMNET_DOCTOR_BENCH_SEARCH").ok().filter(|text| !text.is_empty())?;
        let prefix = |at: usize| text.chars().take(at).collect::<String>();
        let count = text.chars().count();
        let mut steps: VecDeque<Step> =
            text.chars().enumerate().map(|(at, key)| Step::Type(key, prefix(at + 1))).collect();
        steps.push_back(Step::ProblemsOnly(true));
        steps.push_back(Step::ProblemsOnly(false));
        steps.extend((0..count).rev().map(|at| Step::Erase(prefix(at))));
        if let Some(settings) = gtk::Settings::default() {
            settings.set_gtk_enable_animations(false);
            settings.set_gtk_cursor_blink(false);
        }
        let inner = Inner {
            search: Box::new(search),
            steps: RefCell::new(steps),
            current: RefCell::new(None),
            done: Cell::new(0),
            started: Cell::new(false),
        };
        Some(Self { inner: Rc::new(inner) })
    }

    /// Starts the steps, once: the list is on screen.
    pub fn start(&self) {
        if self.inner.started.replace(true) {
            return;
        }
        self.inner.search.open();
        self.next_after_pause();
    }

    /// The window applied the search's filter (`visible`: the VMs left).
    pub fn applied(&self, visible: u32, widget: &impl IsA<gtk::Widget>) {
        let Some((number, label, started)) = self.inner.current.borrow_mut().take() else { return };
        let filtered = started.elapsed();
        let report = move |first: Duration, last: Duration, frames: u32| {
            eprintln!(
                "vmnet-doctor: search-step {number} {label} filtered={:.2} painted={:.2} visible={visible} \
                 first={:.2} frames={frames}",
                filtered.as_secs_f64() * 1000.0,
                last.as_secs_f64() * 1000.0,
                first.as_secs_f64() * 1000.0,
            );
        };
        let Some(clock) = widget.frame_clock() else {
            let now = started.elapsed();
            report(now, now, 0);
            self.next_after_pause();
            return;
        };
        // Each frame's after-paint restarts the wait; the wait's end reports.
        let frames: Rc<RefCell<Vec<Duration>>> = Rc::default();
        let settle: Rc<Cell<Option<glib::SourceId>>> = Rc::default();
        let handler: Rc<Cell<Option<glib::SignalHandlerId>>> = Rc::default();
        let bench = self.clone();
        let report = Rc::new(report);
        let own_handler = Rc::clone(&handler);
        handler.set(Some(clock.connect_after_paint(move |clock| {
            frames.borrow_mut().push(started.elapsed());
            if let Some(waiting) = settle.take() {
                waiting.remove();
            }
            let (frames, settle_slot, own_handler) =
                (Rc::clone(&frames), Rc::clone(&settle), Rc::clone(&own_handler));
            let (clock, bench, report) = (clock.clone(), bench.clone(), Rc::clone(&report));
            settle.set(Some(glib::timeout_add_local_once(SETTLED, move || {
                settle_slot.take();
                if let Some(id) = own_handler.take() {
                    clock.disconnect(id);
                }
                let frames = frames.borrow();
                if let (Some(first), Some(last)) = (frames.first(), frames.last()) {
                    let count = u32::try_from(frames.len()).unwrap_or(u32::MAX);
                    report(*first, *last, count);
                }
                bench.next_after_pause();
            })));
        })));
        widget.queue_draw();
    }

    fn next_after_pause(&self) {
        let bench = self.clone();
        glib::timeout_add_local_once(PAUSE, move || bench.next());
    }

    fn next(&self) {
        let Some(step) = self.inner.steps.borrow_mut().pop_front() else {
            eprintln!("vmnet-doctor: search-bench-done steps={}", self.inner.done.get());
            return;
        };
        let number = self.inner.done.get() + 1;
        self.inner.done.set(number);
        self.inner.current.replace(Some((number, step.label(), Instant::now())));
        match step {
            Step::Type(key, _) => self.inner.search.type_key(key),
            Step::Erase(_) => self.inner.search.erase_key(),
            Step::ProblemsOnly(active) => self.inner.search.set_problems_only(active),
        }
    }
}
