//! Several connections in one `check`: each is opened and examined on its
//! own thread, so a slow or dead hypervisor costs the run its `--timeout`
//! at most, not the sum of everyone's waits; the outcomes keep the order
//! the connections were given in.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use vmnet_doctor_core::rules::{ConnectionProblem, connection_findings};

use super::{Outcome, examine, open};
use crate::cli::args::CheckOptions;
use crate::i18n::fill;
use gettextrs::gettext;

/// Every connection `options` names (the demo, each `--connect`, or
/// libvirt's default), checked at the same time.
pub fn check_all(options: &CheckOptions) -> Vec<Outcome> {
    let targets: Vec<Option<String>> = if options.connect.is_empty() {
        vec![None]
    } else {
        options.connect.iter().cloned().map(Some).collect()
    };
    let (sender, receiver) = mpsc::channel();
    let mut outcomes: Vec<Option<Outcome>> = targets.iter().map(|_| None).collect();
    for (index, target) in targets.iter().enumerate() {
        let (sender, uri, vm, demo) = (sender.clone(), target.clone(), options.vm.clone(), options.demo);
        let work = move || {
            // The receiver is gone only when the run has given up on this
            // connection; nothing is left to tell.
            let _ = sender.send((index, check_one(demo, uri.as_deref(), vm.as_deref())));
        };
        if let Err(error) = thread::Builder::new().name(format!("check-{index}")).spawn(work) {
            outcomes[index] = Some(could_not_start(target.as_deref(), &error));
        }
    }
    drop(sender);
    let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
    while outcomes.iter().any(Option::is_none) {
        let received = match deadline {
            Some(deadline) => receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((index, outcome)) => outcomes[index] = Some(outcome),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    // A thread still waiting on libvirt is left behind: the process ends
    // once the report is written, and it with it.
    targets
        .iter()
        .zip(outcomes)
        .map(|(target, outcome)| {
            outcome
                .unwrap_or_else(|| no_answer(options, target.as_deref(), options.timeout.unwrap_or_default()))
        })
        .collect()
}

fn check_one(demo: bool, uri: Option<&str>, vm: Option<&str>) -> Outcome {
    match open(demo, uri) {
        Ok(hypervisor) => examine(&hypervisor, vm),
        Err(outcome) => *outcome,
    }
}

/// The outcome of a connection that gave no answer before the deadline.
fn no_answer(options: &CheckOptions, uri: Option<&str>, waited: Duration) -> Outcome {
    let uri = match uri {
        Some(uri) => uri.to_owned(),
        None if options.demo => crate::connections::demo_uri(),
        None => String::new(),
    };
    let seconds = format!("{}", waited.as_secs_f64());
    let detail = fill(&gettext("no answer within {seconds} s"), &[("seconds", &seconds)]);
    Outcome {
        findings: connection_findings(ConnectionProblem::NoAnswer, &uri, &detail),
        failure: Some(fill(
            &gettext("{uri} did not answer within {seconds} s."),
            &[("uri", &uri), ("seconds", &seconds)],
        )),
        uri,
        snapshot: None,
        vm: None,
    }
}

fn could_not_start(uri: Option<&str>, error: &std::io::Error) -> Outcome {
    let uri = uri.unwrap_or_default().to_owned();
    Outcome {
        findings: connection_findings(ConnectionProblem::Other, &uri, &error.to_string()),
        failure: Some(gettext("Could not read the libvirt connection.")),
        uri,
        snapshot: None,
        vm: None,
    }
}
