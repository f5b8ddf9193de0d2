//! A lab measurement (issue #20, "the UI never waits on a guest"): the
//! guest checklist runs over and over beside the window, on the window's
//! own connection, while the lab times how soon libvirt's events reach the
//! screen (`tests/lab/event-latency.py --beside-checklist`).
//!
//! Only with `VMNET_DOCTOR_BENCH_GUEST_LOAD=VM`; the checklist's targets
//! come from `VMNET_DOCTOR_BENCH_GUEST_TARGETS=PING,DNS,HTTP` (the lab's
//! own hosts: a load test must not reach for the internet).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread;

use vmnet_doctor_core::guest::checklist::{StepKind, Targets};
use vmnet_doctor_libvirt::Hypervisor;

use crate::guest_checklist::{self, Discovery, StepResult, Summary, Unavailable};
use crate::startup;

/// Starts the load when the environment asks for it (and reports are on).
pub(super) fn start_from_env(hypervisor: &Arc<Hypervisor>) {
    let Ok(vm) = std::env::var("VMNET_DOCTOR_BENCH_GUEST_LOAD") else { return };
    if !startup::reporting() {
        return;
    }
    let wanted = std::env::var("VMNET_DOCTOR_BENCH_GUEST_TARGETS").unwrap_or_default();
    let mut wanted = wanted.split(',').map(str::trim);
    let mut targets = Targets::default();
    for target in [&mut targets.ping, &mut targets.dns, &mut targets.http] {
        match wanted.next() {
            Some(value) if !value.is_empty() => *target = value.to_owned(),
            _ => {
                eprintln!(
                    "vmnet-doctor: guest-load failed: VMNET_DOCTOR_BENCH_GUEST_TARGETS needs PING,DNS,HTTP"
                );
                return;
            }
        }
    }
    let hypervisor = Arc::clone(hypervisor);
    let started = thread::Builder::new().name("guest-load".into()).spawn(move || {
        let never = AtomicBool::new(false);
        for round in 1_u32.. {
            let mut count = StepCount::default();
            guest_checklist::verify_vm(&hypervisor, &vm, &targets, &mut count, &never);
            if count.steps == 0 {
                // A checklist that cannot run in the guest is no load: say
                // why, so the measurement fails instead of spinning.
                eprintln!("vmnet-doctor: guest-load failed: round {round} ran no step ({})", count.trouble);
                return;
            }
            eprintln!("vmnet-doctor: guest-load round {round} steps={}", count.steps);
        }
    });
    if let Err(error) = started {
        eprintln!("vmnet-doctor: guest-load failed: {error}");
    }
}

/// Counts the steps run in the guest; keeps why none ran.
#[derive(Default)]
struct StepCount {
    steps: usize,
    trouble: String,
}

impl guest_checklist::Sink for StepCount {
    fn started(&mut self, _uri: &str, _vm: &str) {}

    fn discovered(&mut self, _discovery: &Discovery) {}

    fn step(&mut self, _result: &StepResult) {
        self.steps += 1;
        if self.steps == 1 {
            eprintln!("vmnet-doctor: guest-load step-ran");
        }
    }

    fn unavailable(&mut self, _vm: &str, why: &Unavailable, _commands: &[(StepKind, String)]) {
        self.trouble = format!("{why:?}");
    }

    fn failed(&mut self, message: &str) {
        self.trouble = message.to_owned();
    }

    fn finished(&mut self, _summary: &Summary) {}
}
